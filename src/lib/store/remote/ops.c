/*
 * lib/store/remote/ops.c — the remote backend's connection and calls: open
 * (GET /api/v1/, which says the server speaks this protocol), close, and
 * remote_read / remote_write, through which every op reaches the server
 * (POST /api/v1/store/OP, docs/internals/remote.md).
 *
 * Writes.  Every write carries an idempotency key, SESSION-SEQ (a random
 * session per handle, a counter per write), which the server remembers
 * with its answer; a retried or replayed write is therefore applied once.
 * An online write is retried with back-off for retry_s seconds (no answer,
 * 429, 5xx); then the handle goes offline and the write, like every write
 * after it, is appended to the journal (spool.c) and reported as done.
 * While the journal holds anything, writes go to it (order is kept); a
 * probe at most every PROBE_S seconds replays it, and when it is empty the
 * handle is online again.  A write the server refused on replay cannot be
 * answered to its caller any more: the refusal is kept and returned by the
 * next write (as the metrics writer reports a failed commit).
 *
 * Reads go to the server (retried the same way) and fail with "cannot
 * reach the server" when it does not answer; a few reads have an offline
 * answer (a full run id is taken on trust, a run's names from what the
 * handle knows, no last step) so that a process started while the server
 * is down can still log.
 * Thread-safety: every call holds the store's lock.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/store/objects.h"
#include "lib/store/remote/remote.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/sha.h"

#define PROBE_S 1.0

/* An internal answer of call(): the server did not answer (the error is
 * raised); a write spools, a read fails. */
#define REMOTE_DOWN (-101)

static double env_seconds(const char *name, double def)
{
	const char *v = getenv(name);
	char *end;
	double x = v && *v ? strtod(v, &end) : def;
	return v && *v && *end == '\0' && x >= 0 && x < 86400 ? x : def;
}

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The message of a JSON error answer ({"error": {"message": …}}), else NULL. */
static char *json_message(const buf *b)
{
	char err[64];
	json_doc *d = json_parse(b->ptr, b->len, NULL, err, sizeof err);
	if (!d)
		return NULL;
	const json *e = json_get(json_root(d), "error");
	const char *m = e ? json_get_str(e, "message") : NULL;
	char *out = m ? strdup(m) : NULL;
	json_doc_free(d);
	return out;
}

/* A final answer (not retried) that is not a protocol reply: what went wrong. */
static int status_error(remote_be *be, const http_result *res)
{
	char *m = json_message(&be->reply);
	int rc;
	if (res->status == 401)
		rc = err_set(
		    CAIRN_ESTORE,
		    "the server at %s refused the request (HTTP 401%s%s): give a token with "
		    "CAIRN_TOKEN or 'cairn login %s'",
		    be->base, m ? ": " : "", m ? m : "", be->base);
	else if (res->status == 403)
		rc = err_set(CAIRN_ESTORE, "the server at %s forbids this (HTTP 403%s%s)", be->base,
		             m ? ": " : "", m ? m : "");
	else
		rc = err_set(CAIRN_ESTORE, "the server at %s answered HTTP %ld%s%s", be->base,
		             res->status, m ? ": " : "", m ? m : "");
	free(m);
	return rc;
}

/* One op, retried within budget seconds.  0 with *r at the results,
 * REMOTE_DOWN when the server did not answer, else the op's error. */
static int call(remote_be *be, const char *op, const void *body, size_t len, const char *idem,
                double budget, wr *r)
{
	char path[128];
	snprintf(path, sizeof path, "/api/v1/store/%s/%s", idem ? "w" : "r", op);
	double deadline = clock_mono() + budget;
	for (int attempt = 0;; attempt++) {
		http_result res;
		int rc = http_once(be, "POST", path, body ? body : "", len, idem, &res);
		if (!http_retryable(rc, &res)) {
			if (rc)
				return rc;
			if (!res.wire)
				return status_error(be, &res);
			wr_init(r, be->reply.ptr, be->reply.len);
			return r_reply(r);
		}
		double wait = http_backoff(attempt, &res);
		if (clock_mono() + wait > deadline) {
			if (rc == 0)
				status_error(be, &res);
			return REMOTE_DOWN;
		}
		sleep_s(wait);
	}
}

static bool probe_due(const remote_be *be)
{
	return clock_mono() >= be->next_probe;
}

static void go_offline(remote_be *be)
{
	be->offline = true;
	be->next_probe = clock_mono() + PROBE_S;
}

void remote_offline(remote_be *be)
{
	if (!be->offline)
		go_offline(be);
}

/* Replay the journal when a probe is due; online again when it empties. */
static void try_drain(cairn_store *s)
{
	remote_be *be = remote_of(s);
	if (be->draining || !probe_due(be))
		return;
	be->draining = true;
	int rc = spool_drain(s);
	be->draining = false;
	if (rc == 0 && !spool_pending(s)) {
		be->offline = false;
		be->probe_fails = 0;
	} else {
		be->probe_fails++;
		be->next_probe = clock_mono() + PROBE_S;
	}
}

int spool_send(remote_be *be, const char *op, const char *idem, const void *body, size_t len,
               double budget)
{
	wr r;
	int rc = call(be, op, body, len, idem, budget, &r);
	return rc == REMOTE_DOWN ? SPOOL_DOWN : rc;
}

int remote_read(cairn_store *s, const char *op, const buf *req, wr *r)
{
	remote_be *be = remote_of(s);
	if (!buf_ok(req))
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (be->offline || spool_pending(s))
		try_drain(s);
	if (be->offline && !probe_due(be)) {
		err_set(CAIRN_ESTORE,
		        "cannot reach the server at %s (it did not answer a moment ago)", be->base);
		return REMOTE_DOWN;
	}
	int rc = call(be, op, req->ptr, req->len, NULL, be->offline ? 0 : be->retry_s, r);
	if (rc == REMOTE_DOWN) {
		go_offline(be);
		return REMOTE_DOWN;
	}
	return rc;
}

int remote_down(int rc)
{
	return rc == REMOTE_DOWN;
}

int remote_write(cairn_store *s, const char *op, const buf *req, wr *r)
{
	remote_be *be = remote_of(s);
	char idem[64];
	if (!buf_ok(req))
		return err_set(CAIRN_ENOMEM, "out of memory");
	snprintf(idem, sizeof idem, "%s-%llu", be->session, (unsigned long long)++be->seq);
	int rc;
	if (be->offline || spool_pending(s))
		try_drain(s);
	if (be->offline || spool_pending(s)) {
		rc = spool_append(s, op, idem, req);
	} else {
		rc = call(be, op, req->ptr, req->len, idem, be->retry_s, r);
		if (rc != REMOTE_DOWN)
			return rc;
		go_offline(be);
		rc = spool_append(s, op, idem, req);
	}
	return rc ? rc : REMOTE_SPOOLED;
}

/* A write that needs its answer now (a trial claim): never spooled.  The
 * journal is replayed first (a probe now, whatever the last one said), so
 * the claim does not overtake writes made before it; when the server does
 * not answer, or the journal still holds writes, it fails saying so. */
int remote_write_online(cairn_store *s, const char *op, const buf *req, wr *r)
{
	remote_be *be = remote_of(s);
	char idem[64];
	if (!buf_ok(req))
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (be->offline || spool_pending(s)) {
		be->next_probe = 0;
		try_drain(s);
	}
	if (be->offline || spool_pending(s))
		return err_set(CAIRN_ESTORE,
		               "cannot reach the server at %s: %s needs the server (it is never "
		               "kept in the offline spool)",
		               be->base, op);
	snprintf(idem, sizeof idem, "%s-%llu", be->session, (unsigned long long)++be->seq);
	int rc = call(be, op, req->ptr, req->len, idem, be->retry_s, r);
	if (rc == REMOTE_DOWN) {
		go_offline(be);
		return err_set(CAIRN_ESTORE,
		               "cannot reach the server at %s: %s needs the server (it is never "
		               "kept in the offline spool)",
		               be->base, op);
	}
	return rc;
}

int remote_write_only(cairn_store *s, const char *op, buf *req)
{
	wr r;
	int rc = remote_write(s, op, req, &r);
	buf_free(req);
	if (rc == REMOTE_SPOOLED)
		rc = 0;
	return rc ? rc : spool_deferred(s);
}

int remote_run_id(cairn_store *s, int64_t rid, const char **out)
{
	rmap_run *r = rmap_get(&remote_of(s)->runs, rid);
	if (!r)
		return err_set(CAIRN_ENOTFOUND, "no such run (number %lld)", (long long)rid);
	*out = r->id;
	return 0;
}

int remote_w_run(cairn_store *s, buf *req, int64_t rid)
{
	const char *id = NULL;
	int rc = remote_run_id(s, rid, &id);
	if (rc == 0)
		w_str(req, id);
	return rc;
}

int remote_rid(cairn_store *s, const char *id, int64_t *out)
{
	int64_t rid = rmap_rid(&remote_of(s)->runs, id);
	if (rid < 0)
		return (int)rid;
	*out = rid;
	return 0;
}

/* --- the connection ------------------------------------------------------------ */

/* base: scheme://host[:port] with any path kept, no user info, no
 * trailing '/' (a token never travels in the URL). */
static int base_of(const char *url, char **out)
{
	const char *p = strstr(url, "://");
	if (!p)
		return err_set(CAIRN_EINVALID, "'%.200s' is not a URL", url);
	const char *auth = p + 3, *e = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(e - auth)))
		return err_set(CAIRN_EINVALID,
		               "the store URL '%.*s…' carries user info; give the token with "
		               "CAIRN_TOKEN or 'cairn login' instead",
		               (int)(auth - url), url);
	if (e == auth)
		return err_set(CAIRN_EINVALID, "the store URL '%.200s' names no host", url);
	size_t n = strcspn(url, "?#");
	while (n > (size_t)(e - url) && url[n - 1] == '/')
		n--;
	*out = strndup(url, n);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int remote_be_new(remote_be **out, const char *url)
{
	*out = NULL;
	remote_be *be = calloc(1, sizeof *be);
	if (!be)
		return err_set(CAIRN_ENOMEM, "out of memory");
	buf_init_cap(&be->reply, REMOTE_REPLY_MAX);
	int rc = base_of(url, &be->base);
	if (rc) {
		remote_be_free(be);
		return rc;
	}
	be->token = creds_token_for(be->base);
	const char *ca = getenv("CAIRN_CA_BUNDLE");
	if (ca && *ca && !(be->cacert = strdup(ca))) {
		remote_be_free(be);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	unsigned char rnd[16];
	if (random_bytes(rnd, sizeof rnd) != 0) {
		remote_be_free(be);
		return err_set(CAIRN_ERROR, "cannot read random bytes: %s", strerror(errno));
	}
	hex_encode(be->session, rnd, sizeof rnd);
	be->retry_s = env_seconds("CAIRN_REMOTE_RETRY", 2.0);
	be->timeout_s = env_seconds("CAIRN_REMOTE_TIMEOUT", 10.0);
	if (be->timeout_s < 0.1)
		be->timeout_s = 0.1;
	*out = be;
	return 0;
}

void remote_be_free(remote_be *be)
{
	if (!be)
		return;
	http_close(be);
	spool_close(be->sp);
	rmap_free(&be->runs);
	kmap_free(&be->keys);
	buf_free(&be->reply);
	if (be->token) {
		memset(be->token, 0, strlen(be->token));
		free(be->token);
	}
	free(be->cacert);
	free(be->base);
	free(be);
}

/* GET /api/v1/: a cairn server speaking this protocol?  REMOTE_DOWN when
 * nothing answers (the handle starts offline). */
int remote_hello(remote_be *be)
{
	http_result res;
	int rc = http_once(be, "GET", "/api/v1/", NULL, 0, NULL, &res);
	if (http_retryable(rc, &res))
		return REMOTE_DOWN;
	if (rc)
		return rc;
	if (res.status != 200)
		return status_error(be, &res);
	char err[64];
	json_doc *d = json_parse(be->reply.ptr, be->reply.len, NULL, err, sizeof err);
	const json *root = d ? json_root(d) : NULL;
	const char *name = root ? json_get_str(root, "name") : NULL;
	double wire = 0;
	if (!name || strcmp(name, "cairn") != 0)
		rc = err_set(CAIRN_ESTORE, "%s is not a cairn server (GET /api/v1/ did not say so)",
		             be->base);
	else if (!json_get_num(root, "store_wire", &wire))
		rc =
		    err_set(CAIRN_ESTORE,
		            "the cairn server at %s has no store API (it is older than this cairn: "
		            "upgrade it)",
		            be->base);
	else if ((int)wire != WIRE_VERSION)
		rc = err_set(CAIRN_ESTORE,
		             "the cairn server at %s speaks store protocol %d, this cairn %d: use "
		             "the same version on both sides",
		             be->base, (int)wire, WIRE_VERSION);
	json_doc_free(d);
	return rc;
}

static int r_open(cairn_store *s, bool create)
{
	remote_be *be;
	int rc = remote_be_new(&be, s->uri);
	if (rc)
		return rc;
	s->be = be;
	rc = remote_hello(be);
	if (rc == REMOTE_DOWN) {
		go_offline(be);
		return 0;
	}
	return rc;
}

static void r_close(cairn_store *s)
{
	remote_be *be = remote_of(s);
	if (!be)
		return;
	if (spool_pending(s)) {
		be->next_probe = 0;
		try_drain(s);
	}
	remote_be_free(be);
	s->be = NULL;
}

static int r_check(cairn_store *s)
{
	return err_set(CAIRN_ESTORE,
	               "a store behind a server (%s) is checked on the server: run 'cairn "
	               "--store STORE ...' there",
	               s->dir);
}

static int r_schema_version(cairn_store *s, int *out)
{
	buf req = BUF_INIT;
	wr r;
	int rc = remote_read(s, "schema_version", &req, &r);
	if (rc == 0) {
		*out = (int)r_i64(&r);
		rc = wr_check(&r, true, "reply");
	}
	return remote_down(rc) ? CAIRN_ESTORE : rc;
}

static int r_schema_latest(void)
{
	return store_backend_for(NULL)->schema_latest();
}

static int r_migrate(cairn_store *s, int target)
{
	return err_set(CAIRN_ESTORE, "a store behind a server (%s) is migrated by the server",
	               s->dir);
}

/* No snapshots across requests: each read sees the server's state then. */
static int r_read_begin(cairn_store *s, bool *own)
{
	*own = false;
	return 0;
}

static void r_read_end(cairn_store *s, bool own)
{
}

static int r_setting_get(cairn_store *s, const char *key, char **out)
{
	*out = NULL;
	return err_set(CAIRN_ENOTFOUND, "the store has no setting '%.100s' here", key);
}

static int r_setting_put(cairn_store *s, const char *key, const char *value)
{
	return err_set(CAIRN_ESTORE,
	               "the settings of a store behind a server (%s) are the "
	               "server's: set them there",
	               s->dir);
}

/* The table; the ops are in ops-run.c, ops-data.c and ops-read.c. */
const store_ops store_remote_ops = {
    .version = STORE_OPS_VERSION,
    .name = "remote",
    .open = r_open,
    .close = r_close,
    .check = r_check,
    .schema_version = r_schema_version,
    .schema_latest = r_schema_latest,
    .migrate = r_migrate,
    .read_begin = r_read_begin,
    .read_end = r_read_end,
    .setting_get = r_setting_get,
    .setting_put = r_setting_put,
    REMOTE_RUN_OPS,
    REMOTE_DATA_OPS,
    REMOTE_READ_OPS,
    REMOTE_SWEEP_OPS,
};
