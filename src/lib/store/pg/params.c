/*
 * lib/store/pg/params.c — the PostgreSQL backend's keys, params, tags and
 * properties.
 *
 * Keys are interned in `keys` (an integer id each), as in SQLite.  A param
 * is (type, num, ival, sval): an int or bool in ival (exact) and num, a
 * float in num (NULL for NaN, as SQLite stores it), a string in sval.
 * Params are write-once unless overwrite: the write is INSERT ... ON
 * CONFLICT DO NOTHING, and only when a row was already there is it read
 * and compared (the same value again is fine, another is CAIRN_ECONFLICT
 * with nothing written), so two processes logging one param at once cannot
 * both win.
 * Thread-safety: called with the store's lock held (pg.h).
 */
#include "lib/store/pg/pg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The id of key p's $1 into *out_kid, *found when it is in keys. */
static int key_read(cairn_store *s, const pg_params *p, int64_t *out_kid, bool *found)
{
	return pg_query_int(s, "read a key", "SELECT id FROM keys WHERE name = $1", p, out_kid,
	                    found);
}

int pg_key_intern(cairn_store *s, const char *name, int64_t *out_kid)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, name);
	bool found = false;
	int rc = key_read(s, &p, out_kid, &found);
	if (rc || found)
		return rc;
	/* Inside a transaction, a new key is inserted holding PG_LOCK_KEYS
	 * until the transaction's end: the key's unique entry is held as long,
	 * and two writers inserting the same new keys in different orders (a
	 * batch of params, a server's mixed batch) would each wait for the
	 * other's entry, a deadlock that PostgreSQL breaks by failing one.
	 * Under the lock, transactions insert new keys one at a time; the key
	 * is read again first (the lock's last holder may have committed it).
	 * A rolled-back transaction takes its new keys with it. */
	pg_be *be = pg_of(s);
	if (be->in_txn) {
		pg_params l = PG_PARAMS_INIT;
		pg_param_int(&l, PG_LOCK_KEYS);
		if ((rc = pg_run(s, "record a key", "SELECT pg_advisory_xact_lock($1::bigint)", &l,
		                 NULL)) != 0 ||
		    (rc = key_read(s, &p, out_kid, &found)) != 0 || found)
			return rc;
	}
	rc = pg_query_int(s, "record a key",
	                  "INSERT INTO keys(name) VALUES($1) ON CONFLICT(name) DO UPDATE SET"
	                  " name = excluded.name RETURNING id",
	                  &p, out_kid, &found);
	if (rc == 0 && !found)
		rc = err_set(CAIRN_ESTORE, "cannot record a key: no id came back");
	return rc;
}

static bool value_equal(const PGresult *r, const cairn_value *v)
{
	if (pg_get_int(r, 0, 0) != (int64_t)v->type)
		return false;
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: return pg_get_int(r, 0, 2) == v->i;
	case CAIRN_TYPE_FLOAT: {
		double d = pg_get_double(r, 0, 1);
		return d == v->f || (isnan(d) && isnan(v->f));
	}
	case CAIRN_TYPE_STRING: {
		const char *t = pg_get_text(r, 0, 3);
		return t && strcmp(t, v->s ? v->s : "") == 0;
	}
	default: return false;
	}
}

/* The stored value as SQLite's message writes it (a REAL keeps ".0"). */
static void value_describe(char *out, size_t n, const PGresult *r)
{
	int t = (int)pg_get_int(r, 0, 0);
	if (t == CAIRN_TYPE_BOOL) {
		snprintf(out, n, "%s", pg_get_int(r, 0, 2) ? "true" : "false");
	} else if (t == CAIRN_TYPE_INT) {
		snprintf(out, n, "%lld", (long long)pg_get_int(r, 0, 2));
	} else if (t == CAIRN_TYPE_FLOAT) {
		double d = pg_get_double(r, 0, 1);
		if (isnan(d))
			snprintf(out, n, "NaN");
		else if (isinf(d))
			snprintf(out, n, "%s", d > 0 ? "Inf" : "-Inf");
		else {
			snprintf(out, n, "%.15g", d);
			if (!strpbrk(out, ".e"))
				snprintf(out + strlen(out), n - strlen(out), ".0");
		}
	} else {
		const char *v = pg_get_text(r, 0, 3);
		snprintf(out, n, "%s", v ? v : "");
	}
}

int pg_param_write(cairn_store *s, int64_t rid, int64_t kid, const char *key, const cairn_value *v,
                   bool overwrite)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_int(&p, kid);
	pg_param_int(&p, (int)v->type);
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL:
		pg_param_double(&p, (double)v->i);
		pg_param_int(&p, v->i);
		pg_param_text(&p, NULL);
		break;
	case CAIRN_TYPE_FLOAT:
		pg_param_double(&p, v->f);
		pg_param_text(&p, NULL);
		pg_param_text(&p, NULL);
		break;
	default:
		pg_param_text(&p, NULL);
		pg_param_text(&p, NULL);
		pg_param_text(&p, v->s ? v->s : "");
	}
	if (overwrite)
		return pg_run(s, "store the param",
		              "INSERT INTO params(rid, kid, type, num, ival, sval)"
		              " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(rid, kid) DO UPDATE SET"
		              " type = excluded.type, num = excluded.num, ival = excluded.ival,"
		              " sval = excluded.sval",
		              &p, NULL);
	int64_t added = 0;
	int rc = pg_run(s, "store the param",
	                "INSERT INTO params(rid, kid, type, num, ival, sval)"
	                " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(rid, kid) DO NOTHING",
	                &p, &added);
	if (rc || added)
		return rc;
	p.n = 2;
	PGresult *r =
	    pg_exec(s, "store the param",
	            "SELECT type, num, ival, sval FROM params WHERE rid = $1 AND kid = $2", &p);
	if (!r)
		return cairn_error_last_code();
	if (pq.ntuples(r) == 1 && !value_equal(r, v)) {
		char old[128];
		value_describe(old, sizeof old, r);
		rc = err_set(CAIRN_ECONFLICT,
		             "param '%s' is already '%s' in this run; params are write-once", key,
		             old);
	}
	pq.clear(r);
	return rc;
}

int pg_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v, bool overwrite)
{
	int64_t kid;
	int rc;
	if (v->type == CAIRN_TYPE_STRING && (rc = pg_text_check(v->s, "store the param")) != 0)
		return rc;
	if ((rc = pg_key_intern(s, key, &kid)) != 0)
		return rc;
	return pg_param_write(s, rid, kid, key, v, overwrite);
}

int pg_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, tag);
	if (remove)
		return pg_run(s, "remove the tag", "DELETE FROM tags WHERE rid = $1 AND tag = $2",
		              &p, NULL);
	pg_param_text(&p, value);
	return pg_run(s, "store the tag",
	              "INSERT INTO tags(rid, tag, value) VALUES($1, $2, $3)"
	              " ON CONFLICT(rid, tag) DO UPDATE SET value = excluded.value",
	              &p, NULL);
}

int pg_property_put(cairn_store *s, int64_t rid, const char *key, const char *value)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, key);
	pg_param_text(&p, value);
	return pg_run(s, "store the property",
	              "INSERT INTO properties(rid, key, value) VALUES($1, $2, $3)"
	              " ON CONFLICT(rid, key) DO UPDATE SET value = excluded.value",
	              &p, NULL);
}

/* Params in bulk: the keys interned and the params written in one
 * transaction (a code or config capture logs hundreds at once). */
int pg_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                       const cairn_value *values, size_t n, bool overwrite)
{
	int rc;
	if (n == 0)
		return 0;
	if ((rc = pg_begin(s)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int64_t kid;
		if ((rc = pg_key_intern(s, keys[i], &kid)) != 0 ||
		    (rc = pg_param_write(s, rid, kid, keys[i], &values[i], overwrite)) != 0) {
			pg_rollback(s);
			return rc;
		}
	}
	return pg_commit(s);
}
