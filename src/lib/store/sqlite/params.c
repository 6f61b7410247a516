/*
 * lib/store/sqlite/params.c — the SQLite backend's keys, params, tags and
 * properties.
 *
 * Metric and param keys are interned in `keys` (an integer id each), so
 * points and params are keyed by integers.  A param's type is its own
 * column beside an untyped value, so 1.0 stays REAL and "1" stays TEXT; NaN
 * is stored as NULL.  Params are write-once unless overwrite: the same value
 * again is fine, another is CAIRN_ECONFLICT and nothing is written.
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int sqlite_key_intern(cairn_store *s, const char *name, int64_t *out_kid)
{
	int rc = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT id FROM keys WHERE name = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out_kid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		goto done;
	}
	sqlite3_reset(st);
	if ((rc = store_begin(s)) != 0)
		goto done;
	st = store_prep(s, "INSERT INTO keys(name) VALUES(?) ON CONFLICT(name) DO UPDATE SET"
	                   " name = excluded.name RETURNING id");
	if (!st) {
		rc = cairn_error_last_code();
		store_rollback(s);
		goto done;
	}
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_sqlerr(s, "record a key");
		sqlite3_reset(st);
		store_rollback(s);
		goto done;
	}
	*out_kid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	rc = store_commit(s);
done:
	return rc;
}

/* --- params, tags, properties ------------------------------------------------ */

static bool value_equal(sqlite3_stmt *st, int type_col, int val_col, const cairn_value *v)
{
	if (sqlite3_column_int(st, type_col) != (int)v->type)
		return false;
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: return sqlite3_column_int64(st, val_col) == v->i;
	case CAIRN_TYPE_FLOAT: {
		double d = store_column_double_nan(st, val_col);
		return d == v->f || (isnan(d) && isnan(v->f));
	}
	case CAIRN_TYPE_STRING: {
		const char *t = (const char *)sqlite3_column_text(st, val_col);
		return t && strcmp(t, v->s) == 0;
	}
	default: return false;
	}
}

static void value_describe(char *out, size_t n, sqlite3_stmt *st, int type_col, int val_col)
{
	int t = sqlite3_column_int(st, type_col);
	if (t == CAIRN_TYPE_BOOL)
		snprintf(out, n, "%s", sqlite3_column_int(st, val_col) ? "true" : "false");
	else
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, val_col));
}

int store_param_write(cairn_store *s, int64_t rid, int64_t kid, const char *key,
                      const cairn_value *v, bool overwrite)
{
	sqlite3_stmt *st;
	if (!overwrite) {
		if (!(st = store_prep(s,
		                      "SELECT type, value FROM params WHERE rid = ? AND kid = ?")))
			return cairn_error_last_code();
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int64(st, 2, kid);
		if (sqlite3_step(st) == SQLITE_ROW) {
			bool same = value_equal(st, 0, 1, v);
			char old[128];
			if (!same)
				value_describe(old, sizeof old, st, 0, 1);
			sqlite3_reset(st);
			if (same)
				return 0;
			return err_set(
			    CAIRN_ECONFLICT,
			    "param '%s' is already '%s' in this run; params are write-once", key,
			    old);
		}
		sqlite3_reset(st);
	}
	/* an upsert, not REPLACE: the column catalog's triggers (migration 13)
	 * see an UPDATE, where REPLACE's deletion would fire none */
	st = store_prep(s, "INSERT INTO params(rid, kid, type, value) VALUES(?, ?, ?, ?)"
	                   " ON CONFLICT(rid, kid) DO UPDATE SET type = excluded.type,"
	                   " value = excluded.value");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, kid);
	sqlite3_bind_int(st, 3, (int)v->type);
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: sqlite3_bind_int64(st, 4, v->i); break;
	case CAIRN_TYPE_FLOAT: store_bind_double_nan(st, 4, v->f); break;
	default: store_bind_text(st, 4, v->s ? v->s : ""); break;
	}
	return store_step_done(s, st, "store the param");
}

int sqlite_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
                     bool overwrite)
{
	int64_t kid;
	int rc = sqlite_key_intern(s, key, &kid);
	if (rc)
		return rc;
	if ((rc = store_begin(s)) != 0)
		goto done;
	if ((rc = store_param_write(s, rid, kid, key, v, overwrite)) != 0)
		store_rollback(s);
	else
		rc = store_commit(s);
done:
	return rc;
}

/* A single-statement write in its own transaction. */

int sqlite_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove)
{
	sqlite3_stmt *st =
	    remove ? store_prep(s, "DELETE FROM tags WHERE rid = ? AND tag = ?")
	           : store_prep(s, "INSERT INTO tags(rid, tag, value) VALUES(?, ?, ?)"
	                           " ON CONFLICT(rid, tag) DO UPDATE SET value = excluded.value");
	if (st) {
		sqlite3_bind_int64(st, 1, rid);
		store_bind_text(st, 2, tag);
		if (!remove)
			store_bind_text(st, 3, value);
	}
	int rc = store_write1(s, st, remove ? "remove the tag" : "store the tag");
	return rc;
}

int sqlite_property_put(cairn_store *s, int64_t rid, const char *key, const char *value)
{
	sqlite3_stmt *st =
	    store_prep(s, "INSERT INTO properties(rid, key, value) VALUES(?, ?, ?)"
	                  " ON CONFLICT(rid, key) DO UPDATE SET value = excluded.value");
	if (st) {
		sqlite3_bind_int64(st, 1, rid);
		store_bind_text(st, 2, key);
		store_bind_text(st, 3, value);
	}
	int rc = store_write1(s, st, "store the property");
	return rc;
}

/* Params in bulk: the keys interned and the params written in one
 * transaction (a code or config capture logs hundreds at once). */
int sqlite_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                           const cairn_value *values, size_t n, bool overwrite)
{
	int rc;
	if (n == 0)
		return 0;
	if ((rc = store_begin(s)) != 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st =
		    store_prep(s, "INSERT INTO keys(name) VALUES(?) ON CONFLICT(name)"
		                  " DO UPDATE SET name = excluded.name RETURNING id");
		if (!st) {
			rc = cairn_error_last_code();
			goto fail;
		}
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = store_sqlerr(s, "record a key");
			sqlite3_reset(st);
			goto fail;
		}
		int64_t kid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if ((rc = store_param_write(s, rid, kid, keys[i], &values[i], overwrite)) != 0)
			goto fail;
	}
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}
