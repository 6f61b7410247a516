/*
 * server/idem.c — idempotency keys for every write route: a POST, PUT,
 * PATCH or DELETE that carries `Idempotency-Key: K` is answered, the
 * second time K arrives, with the answer the first one got, without
 * being applied again.  So a client that lost an answer (the connection
 * dropped, the server restarted after applying the write) retries safely;
 * the remote store backend sends a key with every write, and it is as
 * useful to a script that curls the JSON API.
 *
 * The answers are kept in the store (cairn_store_idem_*: the idempotency
 * table of either backend), so they survive a restart and are shared by
 * several servers on one PostgreSQL database.  Only final answers are kept
 * (not 429 or 5xx, which ask for a retry), up to 64 KiB of body.  A write
 * route's handler runs inside one transaction with its key (idem_write,
 * called by the dispatcher), so a crash leaves both or neither — the JSON
 * API's metrics too: the library keeps the points the holding thread logs
 * out of the buffered writer and inserts them in that transaction
 * (lib/run/writer.c).  Routes marked ROUTE_KEY_AFTER (the store protocol,
 * which keys its own ops; writes that remove files) remember the key after
 * the write (idem_remember), and a crash between the two leaves a write
 * that a retry applies again (docs/internals/remote.md, "Idempotency").
 * The kept body is the content type, a newline, then the bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "server/api.h"

#define IDEM_KEEP_MAX (64 << 10)

bool idem_replay(request *rq, response *rs)
{
	const char *key = req_header(rq, "Idempotency-Key");
	if (!key)
		return false;
	int status = 0;
	char *body = NULL;
	size_t len = 0;
	int rc = cairn_store_idem_get(rq->store, key, &status, &body, &len);
	if (rc == CAIRN_EINVALID) {
		resp_error(rs, 400, "bad_request", "%s", cairn_error_last());
		return true;
	}
	if (rc)
		return false; /* not seen (or unreadable: apply it) */
	char *nl = memchr(body, '\n', len);
	if (!nl) {
		cairn_free(body);
		return false;
	}
	static const char *const types[] = {"application/json", CAIRN_STORE_WIRE_TYPE,
	                                    "text/plain; charset=utf-8"};
	rs->content_type = NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if ((size_t)(nl - body) == strlen(types[i]) &&
		    memcmp(body, types[i], strlen(types[i])) == 0)
			rs->content_type = types[i];
	buf_free(&rs->body);
	buf_add(&rs->body, nl + 1, len - (size_t)(nl + 1 - body));
	rs->status = status;
	rs->replayed = true;
	cairn_free(body);
	return true;
}

/* An answer worth keeping (a final one, small enough, in the body). */
static bool keepable(const response *rs)
{
	return !(rs->replayed || rs->status == 429 || rs->status >= 500 || rs->fd >= 0 ||
	         rs->static_data || rs->body.len > IDEM_KEEP_MAX);
}

static void kept_body(buf *b, const response *rs)
{
	buf_puts(b, rs->content_type ? rs->content_type : "");
	buf_putc(b, '\n');
	buf_add(b, rs->body.ptr, rs->body.len);
}

int idem_write(request *rq, response *rs, int (*fn)(request *rq, response *rs))
{
	const char *key = req_header(rq, "Idempotency-Key");
	if (!key)
		return fn(rq, rs);
	/* The points earlier requests logged are committed first, so this
	 * write comes after them (its own points go in its transaction). */
	if (cairn_store_flush(rq->store) != 0)
		return resp_error(rs, 503, "unavailable", "an earlier batch was not stored: %s",
		                  cairn_error_last());
	if (cairn_store_idem_begin(rq->store) != 0)
		return fn(rq, rs); /* idem_remember keeps it after, as for any route */
	int rc = fn(rq, rs);
	if (rs->status >= 400) {
		/* refused or failed: nothing of it stays; a final refusal is kept
		 * (idem_remember, after), a 5xx is not */
		cairn_store_idem_abort(rq->store);
		return rc;
	}
	buf b = BUF_INIT;
	bool keep = keepable(rs);
	if (keep)
		kept_body(&b, rs);
	int e = keep && !buf_ok(&b) ? CAIRN_ENOMEM : 0;
	if (e)
		cairn_store_idem_abort(rq->store);
	else
		e = cairn_store_idem_commit(rq->store, keep ? key : NULL, rs->status, b.ptr, b.len);
	buf_free(&b);
	if (e) /* neither the write nor its key: the client's retry applies it */
		return resp_error(rs, 503, "unavailable", "the write was not stored: %s",
		                  cairn_error_last());
	rs->idem_done = true;
	return rc;
}

void idem_remember(request *rq, const response *rs)
{
	const char *key = req_header(rq, "Idempotency-Key");
	if (!key || rs->idem_done || !keepable(rs))
		return;
	buf b = BUF_INIT;
	kept_body(&b, rs);
	if (buf_ok(&b))
		cairn_store_idem_put(rq->store, key, rs->status, b.ptr, b.len);
	buf_free(&b);
}
