/*
 * lib/store/pg/copy.c — what copying a whole store needs beyond the other
 * ops (cairn migrate, lib/store/migrate.c): a run's references, the whole
 * code map, and a sweep's trial rows written as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/pg.h"

int pg_refs_list(cairn_store *s, int64_t rid, char (**out)[65], size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	PGresult *r = pg_exec(s, "read the run's references",
	                      "SELECT oid FROM object_refs WHERE rid = $1 ORDER BY oid", &p);
	if (!r)
		return cairn_error_last_code();
	size_t n = (size_t)pq.ntuples(r), k = 0;
	char(*v)[65] = calloc(n ? n : 1, sizeof *v);
	if (!v) {
		pq.clear(r);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const char *oid = pg_get_text(r, (int)i, 0);
		if (oid && strlen(oid) == 64)
			memcpy(v[k++], oid, 65);
	}
	pq.clear(r);
	*out = v;
	*out_n = k;
	return 0;
}

int pg_refs_put(cairn_store *s, int64_t rid, const char (*oids)[65], size_t n)
{
	int rc = pg_refs_begin(s);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = pg_object_ref(s, rid, oids[i]);
	if (rc) {
		pg_rollback(s);
		return rc;
	}
	return pg_commit(s);
}

int pg_code_map_list(cairn_store *s, code_map_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	PGresult *r = pg_exec(s, "read the code map",
	                      "SELECT key, oid, size FROM code_map ORDER BY key", NULL);
	if (!r)
		return cairn_error_last_code();
	size_t n = (size_t)pq.ntuples(r), k = 0;
	code_map_row *v = calloc(n ? n : 1, sizeof *v);
	int rc = v ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	for (; rc == 0 && k < n; k++) {
		const char *oid = pg_get_text(r, (int)k, 1);
		snprintf(v[k].oid, sizeof v[k].oid, "%s", oid ? oid : "");
		v[k].size = pg_get_int(r, (int)k, 2);
		if (!(v[k].key = strdup(pg_get_text(r, (int)k, 0))))
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	pq.clear(r);
	if (rc) {
		code_map_rows_free(v, k);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int pg_trials_put(cairn_store *s, int64_t sweep_rid, const trial_row *rows, size_t n)
{
	int rc = pg_begin(s);
	for (size_t i = 0; i < n && rc == 0; i++) {
		pg_params p = PG_PARAMS_INIT;
		pg_param_int(&p, sweep_rid);
		pg_param_int(&p, rows[i].trial);
		pg_param_int(&p, (int64_t)rows[i].state);
		pg_param_text(&p, rows[i].params);
		pg_param_text(&p, rows[i].run_id[0] ? rows[i].run_id : NULL);
		pg_param_double(&p, rows[i].value);
		pg_param_double(&p, store_now(s));
		rc = pg_run(
		    s, "record the trial",
		    "INSERT INTO sweep_trials(sweep_rid, trial, state, params, run_rid, value,"
		    " owner, updated) VALUES($1, $2, $3, $4,"
		    " (SELECT rid FROM runs WHERE id = $5), $6, NULL, $7)"
		    " ON CONFLICT(sweep_rid, trial) DO UPDATE SET state = EXCLUDED.state,"
		    " params = EXCLUDED.params, run_rid = EXCLUDED.run_rid,"
		    " value = EXCLUDED.value, owner = NULL, updated = EXCLUDED.updated",
		    &p, NULL);
	}
	if (rc) {
		pg_rollback(s);
		return rc;
	}
	return pg_commit(s);
}
