/*
 * lib/store/remote/http.c — the remote backend's transport: libcurl
 * (loaded on first use, lib/store/s3/curl.h), one easy handle per store
 * reused for every request, so the connection to the server stays open
 * (keep-alive) and a TLS session is set up once.
 *
 * Every request carries `Authorization: Bearer TOKEN` when a token is
 * known ($CAIRN_TOKEN, or `cairn login`'s file: creds.c) and is sent to the
 * URL's host only (no redirects are followed, so the token never leaves for
 * another host); nothing here writes the token anywhere.  TLS is verified
 * against the system's CAs, or $CAIRN_CA_BUNDLE (`cairn --cacert F`) for a
 * private CA; there is no switch that turns verification off.
 *
 * Retries are the callers' (ops.c, spool.c): http_retryable says which
 * outcomes are worth another try (no answer at all, 429, 5xx) and
 * http_backoff how long to wait (docs/internals/remote.md, "Retries").
 * Thread-safety: called with the store's lock held (one thread at a time
 * per handle, which is what an easy handle allows).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/store/remote/remote.h"
#include "lib/store/s3/curl.h"
#include "util/fs.h"
#include "util/sha.h"

#define BACKOFF_BASE 0.05 /* seconds before the first retry */
#define BACKOFF_CAP  2.0  /* the longest wait between two tries */

typedef struct xfer {
	remote_be *be;
	http_result *res;
	int fd; /* downloads */
	uint64_t cap, got;
	sha_ctx *sha;
	int err; /* a write into fd failed (errno) */
} xfer;

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	xfer *x = arg;
	size_t len = sz * n;
	if (x->fd >= 0) {
		x->got += len;
		if (x->cap && x->got > x->cap)
			return 0;
		if (x->sha)
			sha_update(x->sha, p, len);
		int e = fd_write_all(x->fd, p, len);
		if (e) {
			x->err = -e;
			return 0;
		}
		return len;
	}
	buf_add(&x->be->reply, p, len);
	return buf_ok(&x->be->reply) ? len : 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	xfer *x = arg;
	size_t len = sz * n;
	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		double v = atof(p + 12);
		if (v > 0)
			x->res->retry_after = v;
	}
	if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
		const char *v = p + 13;
		while (*v == ' ')
			v++;
		x->res->wire = strncmp(v, WIRE_TYPE, strlen(WIRE_TYPE)) == 0;
	}
	return len;
}

static int handle(remote_be *be, CURL **out)
{
	if (curl_load() != 0)
		return err_set(CAIRN_ESTORE, "cannot talk to the server at %s: %s", be->base,
		               curl_error());
	if (!be->curl && !(be->curl = curlx.easy_init()))
		return err_set(CAIRN_ENOMEM, "cannot make an HTTP client");
	*out = be->curl;
	curlx.easy_reset(*out);
	return 0;
}

/* The options every request shares; hdrs gets the shared headers. */
static struct curl_slist *common(remote_be *be, CURL *h, const char *path, xfer *x,
                                 const char *ctype, const char *idem)
{
	char url[4096], auth[4200];
	snprintf(url, sizeof url, "%s%s", be->base, path);
	curlx.easy_setopt(h, CURLOPT_URL, url);
	curlx.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curlx.easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curlx.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curlx.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(fmin(be->timeout_s, 10.0) * 1000));
	curlx.easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(be->timeout_s * 1000));
	curlx.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curlx.easy_setopt(h, CURLOPT_WRITEDATA, x);
	curlx.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curlx.easy_setopt(h, CURLOPT_HEADERDATA, x);
	curlx.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (be->cacert)
		curlx.easy_setopt(h, CURLOPT_CAINFO, be->cacert);
	struct curl_slist *hd = NULL;
	hd = curlx.slist_append(hd, "Expect:");
	if (ctype) {
		char ct[128];
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		hd = curlx.slist_append(hd, ct);
	}
	if (be->token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", be->token);
		hd = curlx.slist_append(hd, auth);
		memset(auth, 0, sizeof auth);
	}
	if (idem) {
		char ik[160];
		snprintf(ik, sizeof ik, "Idempotency-Key: %s", idem);
		hd = curlx.slist_append(hd, ik);
	}
	curlx.easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	return hd;
}

static int finish(remote_be *be, CURL *h, CURLcode cc, struct curl_slist *hd, http_result *res,
                  const char *what)
{
	curlx.slist_free_all(hd);
	if (cc != CURLE_OK) {
		res->status = 0;
		if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		    cc == CURLE_SSL_CONNECT_ERROR)
			return err_set(CAIRN_ESTORE,
			               "cannot reach the server at %s: %s (the certificate is not "
			               "trusted: give its CA with --cacert or CAIRN_CA_BUNDLE)",
			               be->base, curlx.easy_strerror(cc));
		return err_set(CAIRN_ESTORE, "cannot reach the server at %s: %s%s%s", be->base,
		               curlx.easy_strerror(cc), what ? " " : "", what ? what : "");
	}
	curlx.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	return 0;
}

int http_once(remote_be *be, const char *method, const char *path, const void *body, size_t len,
              const char *idem, http_result *res)
{
	CURL *h;
	memset(res, 0, sizeof *res);
	buf_clear(&be->reply);
	int rc = handle(be, &h);
	if (rc)
		return rc;
	xfer x = {.be = be, .res = res, .fd = -1};
	struct curl_slist *hd = common(be, h, path, &x, body ? WIRE_TYPE : NULL, idem);
	if (strcmp(method, "POST") == 0) {
		curlx.easy_setopt(h, CURLOPT_POST, 1L);
		curlx.easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curlx.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "HEAD") == 0) {
		curlx.easy_setopt(h, CURLOPT_NOBODY, 1L);
	}
	CURLcode cc = curlx.easy_perform(h);
	return finish(be, h, cc, hd, res, NULL);
}

int http_put_file(remote_be *be, const char *path, const char *file, int64_t size, http_result *res)
{
	CURL *h;
	memset(res, 0, sizeof *res);
	buf_clear(&be->reply);
	int rc = handle(be, &h);
	if (rc)
		return rc;
	FILE *f = fopen(file, "rb");
	if (!f)
		return err_set(CAIRN_EIO, "cannot read '%s': %s", file, strerror(errno));
	xfer x = {.be = be, .res = res, .fd = -1};
	struct curl_slist *hd = common(be, h, path, &x, WIRE_TYPE, NULL);
	curlx.easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curlx.easy_setopt(h, CURLOPT_READDATA, f);
	curlx.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	curlx.easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L << 10);
	/* a big upload may take long: only a stalled one times out */
	curlx.easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	curlx.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curlx.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)be->timeout_s);
	CURLcode cc = curlx.easy_perform(h);
	fclose(f);
	return finish(be, h, cc, hd, res, "(uploading an object)");
}

int http_get_fd(remote_be *be, const char *path, int fd, uint64_t cap, void *sha, http_result *res)
{
	CURL *h;
	memset(res, 0, sizeof *res);
	buf_clear(&be->reply);
	int rc = handle(be, &h);
	if (rc)
		return rc;
	xfer x = {.be = be, .res = res, .fd = fd, .cap = cap, .sha = sha};
	struct curl_slist *hd = common(be, h, path, &x, NULL, NULL);
	curlx.easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	curlx.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curlx.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)be->timeout_s);
	curlx.easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	CURLcode cc = curlx.easy_perform(h);
	if (cc == CURLE_HTTP_RETURNED_ERROR) {
		curlx.slist_free_all(hd);
		curlx.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
		return 0;
	}
	if (cc == CURLE_WRITE_ERROR && x.cap && x.got > x.cap) {
		curlx.slist_free_all(hd);
		return err_set(CAIRN_ETOOBIG, "the object is larger than %llu bytes",
		               (unsigned long long)cap);
	}
	if (cc == CURLE_WRITE_ERROR && x.err) {
		curlx.slist_free_all(hd);
		return err_set(CAIRN_EIO, "cannot write the object cache: %s", strerror(x.err));
	}
	return finish(be, h, cc, hd, res, "(downloading an object)");
}

bool http_retryable(int rc, const http_result *res)
{
	if (rc)
		return res->status == 0 && rc == CAIRN_ESTORE;
	return res->status == 429 || res->status >= 500;
}

double http_backoff(int attempt, const http_result *res)
{
	double d = BACKOFF_BASE * ldexp(1.0, attempt < 20 ? attempt : 20);
	if (d > BACKOFF_CAP)
		d = BACKOFF_CAP;
	uint32_t r = 0;
	random_bytes(&r, sizeof r);
	d *= (double)r / 4294967296.0; /* full jitter: uniform in [0, d) */
	if (res && res->retry_after > d)
		d = res->retry_after < BACKOFF_CAP * 2 ? res->retry_after : BACKOFF_CAP * 2;
	return d;
}

void http_close(remote_be *be)
{
	if (be->curl)
		curlx.easy_cleanup(be->curl);
	be->curl = NULL;
}
