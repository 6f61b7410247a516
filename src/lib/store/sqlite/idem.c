/*
 * lib/store/sqlite/idem.c — idempotency keys (migration 10): the answer a
 * server gave to a write that carried an Idempotency-Key, kept so a retry
 * of that write gets the same answer without applying it again
 * (docs/internals/remote.md, "Idempotency").  The body is kept as hex
 * text, as in PostgreSQL's table.  Keys older than max_age are dropped
 * when a new one is put.  hold_begin/hold_end: the one transaction of a
 * keyed write and its key (BEGIN IMMEDIATE; the ops' transactions inside
 * it are savepoints, db.c).  Thread-safety: the store's lock is held.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"
#include "util/sha.h"

int sqlite_idem_get(cairn_store *s, const char *key, double max_age, int *status, char **body,
                    size_t *len)
{
	*body = NULL;
	*len = 0;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT status, body FROM idempotency WHERE key = ? AND created >= ?");
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, key);
	sqlite3_bind_double(st, 2, store_now(s) - max_age);
	int rc = 0, r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*status = sqlite3_column_int(st, 0);
		const char *hex = (const char *)sqlite3_column_text(st, 1);
		char *b = hex_decode_dup(hex ? hex : "", len);
		if (!b)
			rc = err_set(CAIRN_ENOMEM, "out of memory (or a damaged idempotency row)");
		else
			*body = b;
	} else if (r == SQLITE_DONE) {
		rc = err_set(CAIRN_ENOTFOUND, "no such idempotency key");
	} else {
		rc = store_sqlerr(s, "read an idempotency key");
	}
	sqlite3_reset(st);
	return rc;
}

int sqlite_idem_put(cairn_store *s, const char *key, double max_age, int status, const void *body,
                    size_t len)
{
	sqlite3_stmt *st = store_prep(s, "DELETE FROM idempotency WHERE created < ?");
	if (st)
		sqlite3_bind_double(st, 1, store_now(s) - max_age);
	int rc = store_write1(s, st, "drop old idempotency keys");
	if (rc)
		return rc;
	char *hex = malloc(len * 2 + 1);
	if (!hex)
		return err_set(CAIRN_ENOMEM, "out of memory");
	hex_encode(hex, body, len);
	st = store_prep(s, "INSERT INTO idempotency(key, status, body, created) VALUES(?, ?, ?, ?)"
	                   " ON CONFLICT(key) DO NOTHING");
	if (st) {
		store_bind_text(st, 1, key);
		sqlite3_bind_int(st, 2, status);
		store_bind_text(st, 3, hex);
		sqlite3_bind_double(st, 4, store_now(s));
	}
	rc = store_write1(s, st, "record an idempotency key");
	free(hex);
	return rc;
}

int sqlite_hold_begin(cairn_store *s)
{
	if (store_in_txn(s))
		return err_set(CAIRN_ERROR, "internal: a keyed write inside a transaction");
	int rc = store_begin(s);
	if (rc == 0) {
		s->hold = true;
		s->hold_depth = 0;
	}
	return rc;
}

int sqlite_hold_end(cairn_store *s, bool commit)
{
	s->hold = false;
	s->hold_depth = 0;
	if (!store_in_txn(s))
		/* an op rolled the whole of it back (an error it answered) */
		return commit ? err_set(CAIRN_ESTORE, "the write's transaction was rolled back")
		              : 0;
	if (commit)
		return store_commit(s);
	store_rollback(s);
	return 0;
}
