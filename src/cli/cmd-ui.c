/*
 * cli/cmd-ui.c — `cairn ui` and `cairn server`: serve the store's web UI and
 * HTTP API (src/server) until interrupted.
 *
 * Both listen on loopback by default.  Who may use them (server/auth.c,
 * docs/internals/auth.md): `cairn server` requires a token on every API
 * route unless it is bound to loopback and started with --no-auth;
 * `cairn ui`, the single-user command, needs none on loopback (it implies
 * --no-auth there; --auth turns tokens on) and requires them like the
 * server on any other address.  --no-auth on an address that is not
 * loopback is refused: nothing would protect the store.  --tls-cert and
 * --tls-key serve HTTPS (libmicrohttpd's GnuTLS).  Port 0 picks a free
 * port; the URL is printed on stdout (one line, flushed) so scripts and
 * tests can read it.
 *
 * SIGINT, SIGTERM and SIGHUP stop it cleanly at any moment after the options
 * are read: in-flight requests finish, the server and store are released and
 * the process exits 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "server/server.h"
#include "util/fs.h"

static const char ui_usage[] =
    "usage: cairn ui [--listen ADDR:PORT] [--auth|--no-auth] [--tls-cert F --tls-key F]\n"
    "                [--timeout S] [--max-body BYTES] [--quiet] [--objects-url proxy|presign]\n"
    "                [--threads N] [--readers N] [--store DIR|URI]\n"
    "       cairn server [same options]\n\n"
    "Serve the store's web UI and JSON API (/api/v1/) over HTTP until interrupted.\n"
    "'cairn ui' is for browsing your own store; 'cairn server' is the same program\n"
    "meant for a store shared by a team.  Both listen on 127.0.0.1:7460 by default.\n"
    "'cairn server' requires a token (cairn token create) unless --no-auth; 'cairn ui'\n"
    "requires none on a loopback address, and one anywhere else.\n\n"
    "options:\n"
    "  -l, --listen ADDR:PORT  address and port (port 0 picks a free one); ADDR may be\n"
    "                          an IPv4 address, [IPv6] or localhost\n"
    "      --no-auth           no tokens (loopback addresses only; the default of\n"
    "                          'cairn ui' there)\n"
    "      --auth              require tokens ('cairn ui' on loopback too)\n"
    "      --tls-cert FILE     serve HTTPS with this PEM certificate (chain)...\n"
    "      --tls-key FILE      ...and its PEM private key\n"
    "      --public            accepted for old scripts; a non-loopback address needs\n"
    "                          nothing more now (tokens are required there)\n"
    "      --timeout S         close connections idle for S seconds (default 30)\n"
    "      --max-body BYTES    largest request body accepted (default 16777216)\n"
    "  -q, --quiet             no access log on stderr\n"
    "      --threads N         requests served at once (default 4)\n"
    "      --readers N         store connections kept for reads beside the writer's\n"
    "                          (default one per thread; 0: every request on one)\n"
    "      --objects-url HOW   artifacts whose objects are in a bucket: 'proxy' (the\n"
    "                          default) sends them through the server, 'presign'\n"
    "                          redirects to a URL of the bucket valid for 5 minutes\n"
    "      --store DIR|URI     the store to serve, as 'cairn --store' (a directory or\n"
    "                          postgresql://...)\n";

/* A PEM file for --tls-cert/--tls-key, whole in *out (NUL-terminated). */
static int read_pem(const char *opt, const char *path, buf *out)
{
	int e = read_file(path, 1 << 20, out);
	if (e)
		return cli_fail("cannot read %s '%s': %s", opt, path,
		                e == -EFBIG ? "larger than 1 MiB" : strerror(-e));
	if (!strstr(out->ptr ? out->ptr : "", "-----BEGIN "))
		return cli_fail("%s '%s' is not a PEM file (no -----BEGIN line)", opt, path);
	return 0;
}

/* Split "host:port", "[v6]:port", ":port", "port" or "host". */
static int parse_listen(const char *s, char *host, size_t hostsz, int *port)
{
	const char *colon = NULL;
	*port = SERVER_DEFAULT_PORT;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || (size_t)(e - s - 1) >= hostsz || (e[1] && e[1] != ':'))
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		colon = e[1] ? e + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return -1; /* a bare IPv6 address needs brackets */
		bool digits = *s != '\0';
		for (const char *p = s; *p; p++)
			digits = digits && *p >= '0' && *p <= '9';
		if (digits) {
			snprintf(host, hostsz, "127.0.0.1");
			colon = s - 1;
		} else {
			size_t n = colon ? (size_t)(colon - s) : strlen(s);
			if (n >= hostsz)
				return -1;
			memcpy(host, s, n);
			host[n] = '\0';
			if (n == 0)
				snprintf(host, hostsz, "127.0.0.1");
		}
	}
	if (colon) {
		char *end;
		errno = 0;
		long p = strtol(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
			return -1;
		*port = (int)p;
	}
	return host[0] ? 0 : -1;
}

static int parse_size(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int serve(const char *cmd, int argc, char **argv)
{
	enum {
		O_HELP = 1,
		O_LISTEN,
		O_PUBLIC,
		O_TIMEOUT,
		O_MAXBODY,
		O_QUIET,
		O_OBJURL,
		O_STORE,
		O_NOAUTH,
		O_AUTH,
		O_CERT,
		O_KEY,
		O_THREADS,
		O_READERS
	};
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"listen", 'l', true, O_LISTEN},
	                               {"public", 0, false, O_PUBLIC},
	                               {"timeout", 0, true, O_TIMEOUT},
	                               {"max-body", 0, true, O_MAXBODY},
	                               {"quiet", 'q', false, O_QUIET},
	                               {"objects-url", 0, true, O_OBJURL},
	                               {"store", 0, true, O_STORE},
	                               {"no-auth", 0, false, O_NOAUTH},
	                               {"auth", 0, false, O_AUTH},
	                               {"tls-cert", 0, true, O_CERT},
	                               {"tls-key", 0, true, O_KEY},
	                               {"threads", 0, true, O_THREADS},
	                               {"readers", 0, true, O_READERS},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	server *srv = NULL;
	server_config cfg = {0};
	char host[256] = "127.0.0.1";
	int port = SERVER_DEFAULT_PORT, o, rc = 0;
	bool no_auth = false, want_auth = false;
	const char *cert_path = NULL, *key_path = NULL;
	buf cert = BUF_INIT, key = BUF_INIT;
	unsigned long long v;
	cli_args_init(&a, cmd, argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(ui_usage); goto done;
		case O_LISTEN:
			if (parse_listen(a.val, host, sizeof host, &port) != 0) {
				rc = cli_usage_error(
				    cmd, "--listen needs ADDR:PORT (e.g. 127.0.0.1:0), got '%s'",
				    a.val);
				goto done;
			}
			break;
		case O_PUBLIC: break; /* tokens protect a non-loopback server now */
		case O_NOAUTH: no_auth = true; break;
		case O_AUTH: want_auth = true; break;
		case O_CERT: cert_path = a.val; break;
		case O_KEY: key_path = a.val; break;
		case O_TIMEOUT:
			if (parse_size(a.val, 1, 3600, &v) != 0) {
				rc = cli_usage_error(
				    cmd, "--timeout needs seconds from 1 to 3600, got '%s'", a.val);
				goto done;
			}
			cfg.timeout_s = (unsigned)v;
			break;
		case O_MAXBODY:
			if (parse_size(a.val, 1024, (unsigned long long)1 << 32, &v) != 0) {
				rc = cli_usage_error(
				    cmd, "--max-body needs bytes from 1024 to 4294967296, got '%s'",
				    a.val);
				goto done;
			}
			cfg.max_body = (size_t)v;
			break;
		case O_QUIET: cfg.quiet = true; break;
		case O_THREADS:
			if (parse_size(a.val, 1, 256, &v) != 0) {
				rc = cli_usage_error(
				    cmd, "--threads needs a number from 1 to 256, got '%s'", a.val);
				goto done;
			}
			cfg.threads = (unsigned)v;
			break;
		case O_READERS:
			if (parse_size(a.val, 0, 256, &v) != 0) {
				rc = cli_usage_error(
				    cmd, "--readers needs a number from 0 to 256, got '%s'", a.val);
				goto done;
			}
			cfg.readers = v ? (int)v : -1;
			break;
		case O_OBJURL:
			if (strcmp(a.val, "presign") != 0 && strcmp(a.val, "proxy") != 0) {
				rc = cli_usage_error(
				    cmd, "--objects-url is presign or proxy, not '%s'", a.val);
				goto done;
			}
			cfg.objects_presign = strcmp(a.val, "presign") == 0;
			break;
		/* the global option after the command too: a server's store is
		 * its main argument (cairn server --store postgresql://...) */
		case O_STORE: cli_store_dir = a.val; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos) {
		rc = cli_usage_error(cmd, "unexpected argument '%s'", a.pos[0]);
		goto done;
	}
	bool loopback = server_host_is_loopback(host);
	if (no_auth && want_auth) {
		rc = cli_usage_error(cmd, "--auth and --no-auth contradict each other");
		goto done;
	}
	if (no_auth && !loopback) {
		rc = cli_usage_error(cmd,
		                     "--no-auth is only for a loopback address, not '%s': anyone "
		                     "who can reach it could read and change the store",
		                     host);
		goto done;
	}
	if (!cert_path != !key_path) {
		rc = cli_usage_error(cmd, "HTTPS needs both --tls-cert and --tls-key");
		goto done;
	}
	/* cairn ui on loopback is one person's browser on their own store. */
	cfg.auth = !no_auth && (strcmp(cmd, "server") == 0 || !loopback || want_auth);
	if (cert_path) {
		if ((rc = read_pem("--tls-cert", cert_path, &cert)) != 0 ||
		    (rc = read_pem("--tls-key", key_path, &key)) != 0)
			goto done;
		cfg.tls_cert_pem = cert.ptr;
		cfg.tls_key_pem = key.ptr;
	}
	/* Block the stop signals before anything else starts: libmicrohttpd's
	 * threads inherit the mask, so this thread alone receives them, and a
	 * signal that comes while the store opens or the server starts waits in
	 * sigwait below.  The server then always stops the same way: requests
	 * finished, everything released, and the process exits normally (which
	 * is also when the sanitizers' leak check runs). */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = cli_store(&s)) != 0)
		goto done;
	cfg.host = host;
	cfg.port = port;
	char err[512];
	if (server_start(&srv, s, &cfg, err, sizeof err) != 0) {
		rc = cli_fail("%s", err);
		goto done;
	}
	if (!loopback && !cert_path)
		fprintf(stderr,
		        "warning: serving plain HTTP on %s: tokens and data cross the network "
		        "unencrypted; use --tls-cert/--tls-key or a reverse proxy with TLS\n",
		        host);
	if (cfg.auth && !cfg.quiet) {
		cairn_token *tv = NULL;
		size_t ntok = 0;
		if (cairn_token_list(&tv, &ntok, s) == 0 && ntok == 0)
			fprintf(stderr,
			        "cairn %s: the store has no tokens yet; create one with "
			        "'cairn token create --scope admin'\n",
			        cmd);
		cairn_token_list_free(tv, ntok);
	}
	bool v6 = strchr(host, ':') != NULL;
	printf("cairn %s: serving %s at %s://%s%s%s:%d/%s\n", cmd, cairn_store_path(s),
	       cert_path ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "", server_port(srv),
	       cfg.auth ? "" : " (no authentication)");
	fflush(stdout);
	int sig = 0;
	sigwait(&stop, &sig);
	if (!cfg.quiet)
		fprintf(stderr, "cairn %s: stopping\n", cmd);
done:
	server_stop(srv);
	buf_free(&cert);
	buf_free(&key);
	cli_args_free(&a);
	return rc;
}

int cmd_ui(int argc, char **argv)
{
	return serve("ui", argc, argv);
}

int cmd_server(int argc, char **argv)
{
	return serve("server", argc, argv);
}
