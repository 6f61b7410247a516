/*
 * lib/store/remote/creds.c — tokens for servers: $CAIRN_TOKEN, else the
 * user's credentials file written by `cairn login URL`
 * ($XDG_CONFIG_HOME/cairn/credentials, else ~/.config/cairn/credentials):
 * one "URL TOKEN" line per server, the file mode 0600 in a directory of
 * mode 0700, replaced whole (a temp file of mode 0600, then rename), read
 * at most 1 MiB.  A token is never written anywhere else: not into the
 * store, its settings, the spool or a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/remote.h"
#include "lib/store/remote/remote.h"
#include "util/fs.h"

#define CREDS_MAX (1 << 20)

static char *creds_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char p[4096];
	if (xdg && *xdg)
		snprintf(p, sizeof p, "%s/cairn/credentials", xdg);
	else if (home && *home)
		snprintf(p, sizeof p, "%s/.config/cairn/credentials", home);
	else
		return NULL;
	return strdup(p);
}

static bool token_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 4096)
		return false;
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* Trailing slashes do not make another server. */
static size_t url_len(const char *u)
{
	size_t n = strlen(u);
	while (n && u[n - 1] == '/')
		n--;
	return n;
}

static size_t url_len_n(const char *u, size_t n)
{
	while (n && u[n - 1] == '/')
		n--;
	return n;
}

char *creds_token_for(const char *url)
{
	const char *env = getenv("CAIRN_TOKEN");
	if (env && *env)
		return token_ok(env) ? strdup(env) : NULL;
	char *path = creds_path();
	if (!path)
		return NULL;
	buf b = BUF_INIT;
	int e = read_file(path, CREDS_MAX, &b);
	free(path);
	char *tok = NULL;
	size_t ul = url_len(url);
	for (char *line = e ? NULL : b.ptr; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *sp = strchr(line, ' ');
		if (sp && url_len_n(line, (size_t)(sp - line)) == ul &&
		    strncmp(line, url, ul) == 0 && token_ok(sp + 1)) {
			free(tok);
			tok = strdup(sp + 1);
		}
		line = nl ? nl + 1 : NULL;
	}
	if (b.len)
		memset(b.ptr, 0, b.len);
	buf_free(&b);
	return tok;
}

int cairn_login_save(const char *url, const char *token, char **out_path)
{
	if (out_path)
		*out_path = NULL;
	if (!url || !store_is_uri(url) ||
	    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return err_set(CAIRN_EINVALID, "'%.200s' is not an http:// or https:// URL",
		               url ? url : "");
	if (!token || !token_ok(token))
		return err_set(CAIRN_EINVALID,
		               "a token is 1 to 4096 printable characters without spaces");
	char *path = creds_path();
	if (!path)
		return err_set(CAIRN_EINVALID, "set XDG_CONFIG_HOME or HOME to keep a token");
	char *slash = strrchr(path, '/');
	*slash = '\0';
	int e = mkdir_p(path);
	if (e == 0)
		chmod(path, 0700);
	*slash = '/';
	if (e) {
		int rc =
		    err_set(CAIRN_EIO, "cannot make the directory of '%s': %s", path, strerror(-e));
		free(path);
		return rc;
	}
	buf old = BUF_INIT, out = BUF_INIT;
	read_file(path, CREDS_MAX, &old);
	size_t ul = url_len(url);
	for (char *line = old.len ? old.ptr : NULL; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *sp = strchr(line, ' ');
		bool same =
		    sp && url_len_n(line, (size_t)(sp - line)) == ul && strncmp(line, url, ul) == 0;
		if (*line && !same) {
			buf_puts(&out, line);
			buf_putc(&out, '\n');
		}
		line = nl ? nl + 1 : NULL;
	}
	buf_add(&out, url, ul);
	buf_putc(&out, ' ');
	buf_puts(&out, token);
	buf_putc(&out, '\n');
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
	int rc = 0;
	int fd = buf_ok(&out) ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	if (!buf_ok(&out))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	else if (fd < 0 || fchmod(fd, 0600) != 0 || fd_write_all(fd, out.ptr, out.len) != 0 ||
	         fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		rc = err_set(CAIRN_EIO, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
	memset(old.ptr, 0, old.len);
	memset(out.ptr, 0, out.len);
	buf_free(&old);
	buf_free(&out);
	if (rc == 0 && out_path)
		*out_path = path;
	else
		free(path);
	return rc;
}

int cairn_remote_check(const char *url, const char *token)
{
	remote_be *be;
	int rc = remote_be_new(&be, url);
	if (rc)
		return rc;
	if (token) {
		free(be->token);
		be->token = strdup(token);
	}
	rc = remote_hello(be);
	if (remote_down(rc))
		rc = CAIRN_ESTORE;
	if (rc == 0) {
		/* a read the store protocol guards like every other */
		buf req = BUF_INIT;
		rc = spool_send(be, "project_list_json", NULL, req.ptr, 0, 0);
		if (rc == SPOOL_DOWN)
			rc = CAIRN_ESTORE;
	}
	remote_be_free(be);
	return rc;
}
