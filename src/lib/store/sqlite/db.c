/*
 * lib/store/sqlite/db.c — the SQLite connection under a cairn_store: the
 * cache of prepared statements, the one mapping of SQLite result codes to
 * cairn_error_code, transactions, bind and column helpers, closing, and the
 * integrity check.
 *
 * Transactions: every write is BEGIN IMMEDIATE (the write lock up front,
 * so a write never has to be retried half-way), and BEGIN and COMMIT are
 * retried on SQLITE_BUSY beyond the busy timeout.  A read that must see
 * one snapshot runs inside BEGIN (deferred) ... COMMIT.  Inside a keyed
 * write's transaction (s->hold, sqlite/idem.c) store_begin, store_commit
 * and store_rollback are SAVEPOINT, RELEASE and ROLLBACK TO.
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- errors ------------------------------------------------------------------
 * The backend's error mapping (docs/internals/store.md, "Error mapping"):
 * every failed SQLite call reaches the caller through store_sqlerr, and
 * only here does an SQLite result code become a cairn_error_code.
 *   SQLITE_BUSY, SQLITE_LOCKED       CAIRN_EBUSY: the store stayed locked
 *                                    past the busy timeout and the retries
 *   SQLITE_CONSTRAINT                CAIRN_ECONFLICT: a write contradicts a
 *                                    stored row (no statement of cairn should
 *                                    raise it: each says what a conflict does)
 *   SQLITE_NOMEM                     CAIRN_ENOMEM
 *   SQLITE_FULL                      CAIRN_EIO, "disk full"
 *   SQLITE_READONLY                  CAIRN_ESTORE, "store is read-only"
 *   anything else (IOERR, CORRUPT,   CAIRN_ESTORE with SQLite's message
 *   NOTADB, CANTOPEN, ...)
 * Conditions the backend detects itself raise their own codes where they
 * are found (no such run: ENOTFOUND, an ambiguous prefix: EAMBIGUOUS, a
 * param re-logged with another value: ECONFLICT, not a cairn store or a
 * newer schema: ESTORE, a vanished object: OBJECT_VANISHED). */

static int error_code(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return CAIRN_EBUSY;
	case SQLITE_CONSTRAINT: return CAIRN_ECONFLICT;
	case SQLITE_NOMEM: return CAIRN_ENOMEM;
	case SQLITE_FULL: return CAIRN_EIO;
	default: return CAIRN_ESTORE;
	}
}

int store_sqlerr(cairn_store *s, const char *what)
{
	sqlite3 *db = store_sqlite_db(s);
	int rc = sqlite3_errcode(db);
	if (rc == SQLITE_READONLY)
		return err_set(CAIRN_ESTORE, "cannot %s: store '%s' is read-only", what, s->dir);
	if (rc == SQLITE_FULL)
		return err_set(CAIRN_EIO, "cannot %s: disk full", what);
	return err_set(error_code(rc), "cannot %s: %s", what, sqlite3_errmsg(db));
}

/* --- the connection ---------------------------------------------------------- */

void sqlite_store_close(cairn_store *s)
{
	sqlite_be *be = s->be;
	if (!be)
		return;
	for (int i = 0; i < be->nstmts; i++)
		sqlite3_finalize(be->stmts[i].st);
	if (be->db)
		sqlite3_close_v2(be->db);
	free(be->db_path);
	free(be);
	s->be = NULL;
}

int sqlite_store_check(cairn_store *s)
{
	int rc = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(store_sqlite_db(s), "PRAGMA integrity_check", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_sqlerr(s, "check the store");
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		if (!m || strcmp(m, "ok") != 0)
			rc =
			    err_set(CAIRN_ESTORE, "store '%s' is damaged: %s", s->dir, m ? m : "?");
	} else {
		rc = store_sqlerr(s, "check the store");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The page cache, in KiB (store.md, "Page cache"). */
int sqlite_cache_size(cairn_store *s, int64_t kib)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size=-%lld", (long long)kib);
	return store_exec(s, sql, "size the page cache");
}

/* --- statements and transactions ------------------------------------------- */

sqlite3_stmt *store_prep(cairn_store *s, const char *sql)
{
	sqlite_be *be = s->be;
	for (int i = 0; i < be->nstmts; i++) {
		if (be->stmts[i].sql == sql) {
			sqlite3_stmt *st = be->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	sqlite3_stmt *st = NULL;
	if (be->nstmts >= STMT_CACHE_SIZE) {
		err_set(CAIRN_ERROR, "internal: statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(be->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		store_sqlerr(s, "prepare a statement");
		return NULL;
	}
	be->stmts[be->nstmts].sql = sql;
	be->stmts[be->nstmts].st = st;
	be->nstmts++;
	return st;
}

int store_exec(cairn_store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(store_sqlite_db(s), sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(s, what);
	return 0;
}

int sqlite_read_begin(cairn_store *s, bool *own)
{
	*own = !store_in_txn(s);
	if (*own && sqlite3_exec(store_sqlite_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(s, "begin a read");
	return 0;
}

void sqlite_read_end(cairn_store *s, bool own)
{
	if (own && store_in_txn(s))
		sqlite3_exec(store_sqlite_db(s), "COMMIT", NULL, NULL, NULL);
}

int store_begin(cairn_store *s)
{
	/* inside a keyed write's transaction (sqlite/idem.c): a savepoint */
	if (s->hold && store_in_txn(s)) {
		if (sqlite3_exec(store_sqlite_db(s), "SAVEPOINT w", NULL, NULL, NULL) != SQLITE_OK)
			return store_sqlerr(s, "begin a savepoint");
		s->hold_depth++;
		return 0;
	}
	/* The busy handler waits for the write lock; retry a few times beyond it
	 * so heavy multi-process logging never surfaces a lock error. */
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(store_sqlite_db(s), "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 5)
			return store_sqlerr(s, "begin a transaction");
	}
}

int store_commit(cairn_store *s)
{
	if (s->hold && s->hold_depth > 0) {
		s->hold_depth--;
		if (store_in_txn(s) &&
		    sqlite3_exec(store_sqlite_db(s), "RELEASE w", NULL, NULL, NULL) != SQLITE_OK)
			return store_sqlerr(s, "release a savepoint");
		return 0;
	}
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(store_sqlite_db(s), "COMMIT", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (rc != SQLITE_BUSY || attempt >= 5) {
			int e = store_sqlerr(s, "commit");
			store_rollback(s);
			return e;
		}
	}
}

void store_rollback(cairn_store *s)
{
	if (s->hold && s->hold_depth > 0) {
		s->hold_depth--;
		if (store_in_txn(s)) {
			sqlite3_exec(store_sqlite_db(s), "ROLLBACK TO w", NULL, NULL, NULL);
			sqlite3_exec(store_sqlite_db(s), "RELEASE w", NULL, NULL, NULL);
		}
		return;
	}
	if (store_in_txn(s))
		sqlite3_exec(store_sqlite_db(s), "ROLLBACK", NULL, NULL, NULL);
}

int store_step_done(cairn_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlerr(s, what);
	return 0;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

void store_bind_double_nan(sqlite3_stmt *st, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

double store_column_double_nan(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int store_write1(cairn_store *s, sqlite3_stmt *st, const char *what)
{
	int rc;
	if (!st)
		return cairn_error_last_code();
	bool own = !store_in_txn(s);
	if (own && (rc = store_begin(s)) != 0)
		return rc;
	if ((rc = store_step_done(s, st, what)) != 0) {
		if (own)
			store_rollback(s);
		return rc;
	}
	return own ? store_commit(s) : 0;
}
