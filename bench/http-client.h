/*
 * bench/http-client.h — what an HTTP benchmark needs around a real `cairn
 * server`: start it on 127.0.0.1 (an ephemeral port, read back from the
 * line it prints), and a minimal keep-alive HTTP/1.1 client that sends one
 * request at a time with a bearer token and reads the answer whole
 * (Content-Length bodies only, which is all cairn server sends to these
 * requests).  Errors end the benchmark: hc_die prints what failed.
 *
 * Single-threaded; one hc_conn per connection.  The functions are static
 * inline, so a benchmark that uses only some of them builds without warnings.
 */
#ifndef CAIRN_BENCH_HTTP_CLIENT_H
#define CAIRN_BENCH_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cairn.h"

static inline void hc_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what,
	        cairn_error_last()[0] ? cairn_error_last() : strerror(errno));
	exit(1);
}

typedef struct hc_conn {
	int fd;
	char *buf; /* the last answer's body, NUL-terminated */
	size_t len, cap;
	char token[CAIRN_TOKEN_LEN + 1];
} hc_conn;

/* token "": no Authorization header (a server run with --no-auth). */
static inline void hc_open(hc_conn *c, int port, const char *token)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
		hc_die("connect");
	c->cap = 1 << 20;
	c->buf = malloc(c->cap);
	c->len = 0;
	snprintf(c->token, sizeof c->token, "%s", token);
}

static inline void hc_close(hc_conn *c)
{
	close(c->fd);
	free(c->buf);
}

static inline void hc_send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			hc_die("write");
		p += w;
		n -= (size_t)w;
	}
}

/* One request (body NULL: none); returns the status, the body in
 * c->buf[0..c->len). */
static inline int hc_request(hc_conn *c, const char *method, const char *path, const char *body)
{
	char head[4096];
	size_t bl = body ? strlen(body) : 0;
	int n = snprintf(head, sizeof head,
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
	                 "%s%s%sContent-Length: %zu\r\n\r\n",
	                 method, path, c->token[0] ? "Authorization: Bearer " : "", c->token,
	                 c->token[0] ? "\r\n" : "", bl);
	if (n < 0 || (size_t)n >= sizeof head)
		hc_die("request head too long");
	hc_send_all(c->fd, head, (size_t)n);
	if (bl)
		hc_send_all(c->fd, body, bl);
	c->len = 0;
	size_t hdr_end = 0, clen = 0;
	for (;;) {
		if (c->len + 1 >= c->cap) {
			c->cap *= 2;
			c->buf = realloc(c->buf, c->cap);
		}
		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (r <= 0)
			hc_die("read");
		c->len += (size_t)r;
		if (!hdr_end) {
			char *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
			if (!e)
				continue;
			hdr_end = (size_t)(e - c->buf) + 4;
			char *cl = memmem(c->buf, hdr_end, "Content-Length: ", 16);
			clen = cl ? strtoul(cl + 16, NULL, 10) : 0;
		}
		if (c->len >= hdr_end + clen)
			break;
	}
	int status = atoi(c->buf + 9);
	memmove(c->buf, c->buf + hdr_end, clen);
	c->len = clen;
	c->buf[clen] = '\0';
	return status;
}

/* The same, answered `want` or the benchmark ends with the answer. */
static inline void hc_expect(hc_conn *c, const char *method, const char *path, const char *body,
                             int want)
{
	int st = hc_request(c, method, path, body);
	if (st != want) {
		fprintf(stderr, "bench: %s %s: %d %.500s\n", method, path, st, c->buf);
		exit(1);
	}
}

/* Percent-encode s for a query string into out (of n bytes). */
static inline void hc_urlencode(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;
	for (; *s && j + 4 < n; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch)) {
			out[j++] = (char)ch;
		} else {
			out[j++] = '%';
			out[j++] = hex[ch >> 4];
			out[j++] = hex[ch & 15];
		}
	}
	out[j] = '\0';
}

/* `cairn server --listen 127.0.0.1:0 --quiet EXTRA...` on store_dir (extra:
 * NULL-terminated, or NULL); *port from the URL it prints on its first line. */
static inline pid_t hc_start_server_with(const char *cairn, const char *store_dir, int *port,
                                         const char *const *extra)
{
	int p[2];
	if (pipe(p) != 0)
		hc_die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv("CAIRN_DIR", store_dir, 1);
		const char *argv[32] = {cairn, "server", "--listen", "127.0.0.1:0", "--quiet"};
		for (int i = 0, k = 5; extra && extra[i] && k < 31; i++)
			argv[k++] = extra[i];
		execv(cairn, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	char line[1024];
	size_t n = 0;
	while (n < sizeof line - 1) {
		ssize_t r = read(p[0], line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(p[0]);
	char *u = strstr(line, "http://127.0.0.1:");
	if (!u) {
		fprintf(stderr, "bench: cairn server said: %s\n", line);
		exit(1);
	}
	*port = atoi(u + 17);
	return pid;
}

static inline pid_t hc_start_server(const char *cairn, const char *store_dir, int *port)
{
	return hc_start_server_with(cairn, store_dir, port, NULL);
}

#endif
