/*
 * lib/store/sqlite/auth.c — tokens, sessions and the audit log in SQLite
 * (migration 9: tables tokens, sessions, audit; lib/store/auth.h).  A
 * token or session is found by the SHA-256 of its secret, the primary key
 * or a unique index, so a check is one indexed lookup.
 * Thread-safety: called with the store's lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"

#define TOKEN_COLS                                                                                 \
	"t.id, t.name, t.scope, t.project, t.created, t.expires, t.last_used, t.revoked, t.hash"

static double col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_double(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	return strdup(v ? v : "");
}

static void bind_time(sqlite3_stmt *st, int i, double t)
{
	if (t > 0)
		sqlite3_bind_double(st, i, t);
	else
		sqlite3_bind_null(st, i);
}

static int read_token(sqlite3_stmt *st, token_row *t)
{
	const char *name = (const char *)sqlite3_column_text(st, 1);
	const char *project = (const char *)sqlite3_column_text(st, 3);
	const char *hash = (const char *)sqlite3_column_text(st, 8);
	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(st, 0);
	t->scope = sqlite3_column_int(st, 2);
	t->created = col_time(st, 4);
	t->expires = col_time(st, 5);
	t->last_used = col_time(st, 6);
	t->revoked = col_time(st, 7);
	snprintf(t->hash, sizeof t->hash, "%s", hash ? hash : "");
	t->name = strdup(name ? name : "");
	t->project = project ? strdup(project) : NULL;
	if (!t->name || (project && !t->project)) {
		token_row_clear(t);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

int sqlite_token_insert(cairn_store *s, const token_row *t, int64_t *out_id)
{
	sqlite3_stmt *st = store_prep(s, "INSERT INTO tokens(name, hash, scope, project, created,"
	                                 " expires) VALUES(?, ?, ?, ?, ?, ?)");
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, t->name);
	store_bind_text(st, 2, t->hash);
	sqlite3_bind_int(st, 3, t->scope);
	store_bind_text(st, 4, t->project);
	sqlite3_bind_double(st, 5, t->created);
	bind_time(st, 6, t->expires);
	int rc = store_write1(s, st, "create the token");
	if (rc == 0)
		*out_id = sqlite3_last_insert_rowid(store_sqlite_db(s));
	return rc;
}

int sqlite_token_list(cairn_store *s, token_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT " TOKEN_COLS " FROM tokens t ORDER BY t.id");
	if (!st)
		return cairn_error_last_code();
	token_row *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			token_row *nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		if ((rc = read_token(st, &v[n])) != 0)
			break;
		n++;
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "list the tokens");
	if (rc) {
		token_rows_free(v, n);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

/* One token row from a prepared statement whose parameters are bound. */
static int find_one(cairn_store *s, sqlite3_stmt *st, token_row *out, const char *what)
{
	int rc, r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = read_token(st, out);
	else if (r == SQLITE_DONE)
		rc = err_set(CAIRN_ENOTFOUND, "no such %s", what);
	else
		rc = store_sqlerr(s, "check the token");
	sqlite3_reset(st);
	return rc;
}

int sqlite_token_find(cairn_store *s, const char *hash, token_row *out)
{
	sqlite3_stmt *st = store_prep(s, "SELECT " TOKEN_COLS " FROM tokens t WHERE t.hash = ?");
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, hash);
	return find_one(s, st, out, "token");
}

int sqlite_token_revoke(cairn_store *s, const char *name, int64_t id, double now, int64_t *out_id)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prep(s, id > 0 ? "SELECT id FROM tokens WHERE id = ?"
	                                        : "SELECT id FROM tokens WHERE name = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	if (id > 0)
		sqlite3_bind_int64(st, 1, id);
	else
		store_bind_text(st, 1, name);
	int r = sqlite3_step(st);
	int64_t found = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		rc = store_sqlerr(s, "revoke the token");
		goto fail;
	}
	if (!found) {
		rc = id > 0 ? err_set(CAIRN_ENOTFOUND, "no token has id %lld", (long long)id)
		            : err_set(CAIRN_ENOTFOUND, "no token is named '%.100s'", name);
		goto fail;
	}
	st = store_prep(s, "UPDATE tokens SET revoked = coalesce(revoked, ?) WHERE id = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	sqlite3_bind_double(st, 1, now);
	sqlite3_bind_int64(st, 2, found);
	if ((rc = store_step_done(s, st, "revoke the token")) != 0)
		goto fail;
	/* A revoked token's sessions end with it. */
	st = store_prep(s, "DELETE FROM sessions WHERE token_id = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	sqlite3_bind_int64(st, 1, found);
	if ((rc = store_step_done(s, st, "revoke the token's sessions")) != 0)
		goto fail;
	if ((rc = store_commit(s)) != 0)
		return rc;
	*out_id = found;
	return 0;
fail:
	store_rollback(s);
	return rc;
}

int sqlite_token_touch(cairn_store *s, int64_t id, double now)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE tokens SET last_used = ? WHERE id = ?");
	if (st) {
		sqlite3_bind_double(st, 1, now);
		sqlite3_bind_int64(st, 2, id);
	}
	return store_write1(s, st, "record the token's use");
}

int sqlite_session_insert(cairn_store *s, const char *hash, int64_t token_id, double created,
                          double expires)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prep(s, "DELETE FROM sessions WHERE expires <= ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	sqlite3_bind_double(st, 1, created);
	if ((rc = store_step_done(s, st, "remove expired sessions")) != 0)
		goto fail;
	st = store_prep(s, "INSERT INTO sessions(hash, token_id, created, expires)"
	                   " VALUES(?, ?, ?, ?)");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	store_bind_text(st, 1, hash);
	sqlite3_bind_int64(st, 2, token_id);
	sqlite3_bind_double(st, 3, created);
	sqlite3_bind_double(st, 4, expires);
	if ((rc = store_step_done(s, st, "create the session")) != 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return rc;
}

int sqlite_session_find(cairn_store *s, const char *hash, double now, token_row *out)
{
	sqlite3_stmt *st = store_prep(s, "SELECT " TOKEN_COLS " FROM sessions x"
	                                 " JOIN tokens t ON t.id = x.token_id"
	                                 " WHERE x.hash = ? AND x.expires > ?");
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, hash);
	sqlite3_bind_double(st, 2, now);
	return find_one(s, st, out, "session");
}

int sqlite_session_delete(cairn_store *s, const char *hash)
{
	sqlite3_stmt *st = store_prep(s, "DELETE FROM sessions WHERE hash = ?");
	if (st)
		store_bind_text(st, 1, hash);
	return store_write1(s, st, "end the session");
}

int sqlite_audit_insert(cairn_store *s, const audit_row *a)
{
	sqlite3_stmt *st = store_prep(s, "INSERT INTO audit(ts, token, method, path, status)"
	                                 " VALUES(?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_double(st, 1, a->ts);
		store_bind_text(st, 2, a->token);
		store_bind_text(st, 3, a->method);
		store_bind_text(st, 4, a->path);
		sqlite3_bind_int(st, 5, a->status);
	}
	return store_write1(s, st, "record the write in the audit log");
}

int sqlite_audit_list(cairn_store *s, int64_t limit, audit_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT ts, token, method, path, status FROM audit"
	                                 " ORDER BY id DESC LIMIT ?");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, limit);
	audit_row *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			audit_row *nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		audit_row *a = &v[n++];
		a->ts = sqlite3_column_double(st, 0);
		a->token = col_dup(st, 1);
		a->method = col_dup(st, 2);
		a->path = col_dup(st, 3);
		a->status = sqlite3_column_int(st, 4);
		if (!a->token || !a->method || !a->path) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "read the audit log");
	if (rc) {
		audit_rows_free(v, n);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}
