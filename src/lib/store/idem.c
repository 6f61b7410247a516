/*
 * lib/store/idem.c — idempotency keys for the server (cairn/remote.h:
 * cairn_store_idem_get/put): a key is checked where it enters, then
 * dispatched to the backend's idem ops under the store's lock, like every
 * store call (store.c).  Which answers are kept and why is the server's
 * business (src/server/idem.c; docs/internals/remote.md, "Idempotency").
 * cairn_store_idem_begin/commit/abort put a write and its key in one
 * transaction of the backend (hold_begin/hold_end), the store's lock held
 * from begin to commit.  The metrics the holding thread logs meanwhile
 * (cairn_run_log_metric: the JSON API's metrics routes) are kept aside by
 * the writer (writer.c, "keyed write") and inserted here, in the same
 * transaction, before the key; an abort drops them and counts itself in
 * s->aborts, so run handles forget key ids learnt inside it (run.c).
 */
#include <string.h>

#include "cairn/remote.h"
#include "lib/store/backend.h"

#define IDEM_BODY_MAX (64 << 10) /* an answer kept whole; bigger ones are not kept */

static int key_check(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > 128)
		return err_set(CAIRN_EINVALID, "an idempotency key is 1 to 128 characters");
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._:-", *p)))
			return err_set(
			    CAIRN_EINVALID,
			    "an idempotency key is made of letters, digits and ._:- only");
	return 0;
}

int cairn_store_idem_get(cairn_store *s, const char *key, int *status, char **body, size_t *len)
{
	*body = NULL;
	*len = 0;
	int rc = key_check(key);
	if (rc)
		return rc;
	if (!s->ops->idem_get)
		return store_unsupported(s, "idempotency keys");
	store_lock(s);
	rc = s->ops->idem_get(s, key, CAIRN_IDEM_MAX_AGE, status, body, len);
	store_unlock(s);
	return rc;
}

int cairn_store_idem_put(cairn_store *s, const char *key, int status, const void *body, size_t len)
{
	int rc = key_check(key);
	if (rc)
		return rc;
	if (len > IDEM_BODY_MAX)
		return err_set(CAIRN_ETOOBIG, "an answer over %d bytes is not kept", IDEM_BODY_MAX);
	if (!s->ops->idem_put)
		return store_unsupported(s, "idempotency keys");
	store_lock(s);
	rc = s->ops->idem_put(s, key, CAIRN_IDEM_MAX_AGE, status, body, len);
	store_unlock(s);
	return rc;
}

int cairn_store_idem_begin(cairn_store *s)
{
	if (!s->ops->hold_begin)
		return store_unsupported(s, "idempotency keys inside a write's transaction");
	store_lock(s);
	if (s->hold) {
		store_unlock(s);
		return err_set(CAIRN_ERROR, "internal: a keyed write is already open");
	}
	int rc = s->ops->hold_begin(s);
	if (rc)
		store_unlock(s);
	else
		__atomic_add_fetch(&s->holds, 1, __ATOMIC_RELEASE);
	return rc;
}

/* The end of a keyed write, the lock still held: its points gone, and a
 * rollback counted. */
static void hold_done(cairn_store *s, bool committed)
{
	writer_held_drop(s);
	if (!committed)
		__atomic_add_fetch(&s->aborts, 1, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&s->holds, 1, __ATOMIC_RELEASE);
}

int cairn_store_idem_commit(cairn_store *s, const char *key, int status, const void *body,
                            size_t len)
{
	if (!s->hold)
		return err_set(CAIRN_ERROR, "internal: no keyed write is open");
	int rc = key ? key_check(key) : 0;
	if (rc == 0 && key && len > IDEM_BODY_MAX)
		rc = err_set(CAIRN_ETOOBIG, "an answer over %d bytes is not kept", IDEM_BODY_MAX);
	if (rc == 0)
		rc = writer_held_flush(s); /* the points logged inside it */
	/* tests: a crash here is one between the write and its key */
	store_hook(s, "idem");
	if (rc == 0 && key)
		rc = s->ops->idem_put(s, key, CAIRN_IDEM_MAX_AGE, status, body, len);
	int e = s->ops->hold_end(s, rc == 0);
	hold_done(s, rc == 0 && e == 0);
	store_unlock(s);
	return rc ? rc : e;
}

void cairn_store_idem_abort(cairn_store *s)
{
	if (!s->hold)
		return;
	s->ops->hold_end(s, false);
	hold_done(s, false);
	store_unlock(s);
}
