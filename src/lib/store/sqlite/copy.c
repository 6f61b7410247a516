/*
 * lib/store/sqlite/copy.c — what copying a whole store needs beyond the
 * other ops (cairn migrate, lib/store/migrate.c): a run's references, the
 * whole code map, and a sweep's trial rows written as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"

int sqlite_refs_list(cairn_store *s, int64_t rid, char (**out)[65], size_t *out_n)
{
	char(*v)[65] = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, r;
	*out = NULL;
	*out_n = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT oid FROM object_refs WHERE rid = ? ORDER BY oid");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *oid = (const char *)sqlite3_column_text(st, 0);
		if (!oid || strlen(oid) != 64)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char(*nv)[65] = realloc(v, nc * sizeof *nv);
			if (!nv) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = nc;
		}
		memcpy(v[n++], oid, 65);
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "read the run's references");
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int sqlite_refs_put(cairn_store *s, int64_t rid, const char (*oids)[65], size_t n)
{
	int rc = store_refs_begin(s);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = sqlite_object_ref(s, rid, oids[i]);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

int sqlite_code_map_list(cairn_store *s, code_map_row **out, size_t *out_n)
{
	code_map_row *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, r;
	*out = NULL;
	*out_n = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT key, oid, size FROM code_map ORDER BY key");
	if (!st)
		return cairn_error_last_code();
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			code_map_row *nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = nc;
		}
		code_map_row *e = &v[n];
		const char *oid = (const char *)sqlite3_column_text(st, 1);
		snprintf(e->oid, sizeof e->oid, "%s", oid ? oid : "");
		e->size = sqlite3_column_int64(st, 2);
		if (!(e->key = strdup((const char *)sqlite3_column_text(st, 0)))) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "read the code map");
	if (rc) {
		code_map_rows_free(v, n);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int sqlite_trials_put(cairn_store *s, int64_t sweep_rid, const trial_row *rows, size_t n)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prep(
	    s,
	    "INSERT OR REPLACE INTO sweep_trials(sweep_rid, trial, state, params, run_rid, value,"
	    " owner, updated) VALUES(?1, ?2, ?3, ?4, (SELECT rid FROM runs WHERE id = ?5), ?6,"
	    " NULL, ?7)");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!st) {
			rc = cairn_error_last_code();
			break;
		}
		sqlite3_bind_int64(st, 1, sweep_rid);
		sqlite3_bind_int64(st, 2, rows[i].trial);
		sqlite3_bind_int(st, 3, (int)rows[i].state);
		store_bind_text(st, 4, rows[i].params);
		store_bind_text(st, 5, rows[i].run_id[0] ? rows[i].run_id : NULL);
		store_bind_double_nan(st, 6, rows[i].value);
		sqlite3_bind_double(st, 7, store_now(s));
		rc = store_step_done(s, st, "record the trial");
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}
