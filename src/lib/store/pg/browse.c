/*
 * lib/store/pg/browse.c — the PostgreSQL backend's browsing reads (projects
 * with run counts, the keys runs carry) and the sweep trial queue.
 *
 * The trial queue (as sqlite/sweep.c): handing out a trial is one
 * transaction that first locks the sweep's own run row (SELECT ... FOR
 * UPDATE), so claims of one sweep are serialised across processes and
 * servers as SQLite's write lock serialises them: take the lowest queued
 * trial, else create the next one (its params from the caller's suggest
 * callback, which runs inside the transaction and may read the trials), and
 * mark it running.  Two drivers never get the same trial.
 * Thread-safety: called with the store's lock held (pg.h).
 */
#include "lib/store/pg/pg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

int pg_project_list_json(cairn_store *s, buf *b)
{
	PGresult *r =
	    pg_exec(s, "list projects",
	            "SELECT p.name, p.created, (SELECT count(*) FROM runs r WHERE"
	            " r.project_id = p.id AND r.deleted = 0) FROM projects p ORDER BY p.name",
	            NULL);
	if (!r)
		return cairn_error_last_code();
	buf_putc(b, '[');
	for (int i = 0; i < pq.ntuples(r); i++) {
		bool f = true;
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, &f, "name");
		json_str(b, pq.getvalue(r, i, 0));
		json_key(b, &f, "runs");
		json_int(b, pg_get_int(r, i, 2));
		json_key(b, &f, "created");
		json_num(b, pg_get_double(r, i, 1));
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	pq.clear(r);
	return 0;
}

/* One "name": [{key, count[, distinct]}] member: the catalog's keys of one
 * kind (0 params, 1 metrics, 2 properties, 3 tags) in project pid (0: the
 * whole store). */
static int columns_section(cairn_store *s, buf *b, bool *first, const char *name,
                           const char *keyname, int kind, int64_t pid, bool with_distinct)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, kind);
	pg_param_int(&p, pid);
	PGresult *r = pg_exec(s, "list the columns of runs",
	                      "SELECT key, n, d FROM cat_keys WHERE kind = $1 AND project_id = $2"
	                      " AND n > 0 ORDER BY key",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	json_key(b, first, name);
	buf_putc(b, '[');
	for (int i = 0; i < pq.ntuples(r); i++) {
		bool f = true;
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, &f, keyname);
		json_str(b, pq.getvalue(r, i, 0));
		json_key(b, &f, "count");
		json_int(b, pg_get_int(r, i, 1));
		if (with_distinct) {
			json_key(b, &f, "distinct");
			json_int(b, pg_get_int(r, i, 2));
		}
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	pq.clear(r);
	return 0;
}

/* From the catalog that migration 8's triggers keep (catalog.c; (docs/internals/store.md,
 * "The column catalog"): a few rows per key whatever the number of runs.  A
 * project that does not exist has no runs and no keys. */
int pg_run_columns_json(cairn_store *s, const char *project, buf *b)
{
	bool first = true;
	int64_t nruns = 0, pid = 0;
	bool own;
	int rc = pg_read_begin(s, &own);
	if (rc)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, project);
	if ((rc = pg_query_int(s, "look up the project",
	                       "SELECT CASE WHEN $1::text IS NULL THEN 0 ELSE"
	                       " coalesce((SELECT id FROM projects WHERE name = $1), -1) END",
	                       &p, &pid, NULL)) != 0)
		goto done;
	pg_params q = PG_PARAMS_INIT;
	pg_param_int(&q, pid);
	if ((rc = pg_query_int(s, "count runs",
	                       "SELECT coalesce((SELECT n FROM cat_runs WHERE project_id = $1), 0)",
	                       &q, &nruns, NULL)) != 0)
		goto done;
	buf_putc(b, '{');
	json_key(b, &first, "runs");
	json_int(b, nruns);
	if ((rc = columns_section(s, b, &first, "params", "key", 0, pid, true)) != 0 ||
	    (rc = columns_section(s, b, &first, "metrics", "key", 1, pid, false)) != 0 ||
	    (rc = columns_section(s, b, &first, "properties", "key", 2, pid, true)) != 0 ||
	    (rc = columns_section(s, b, &first, "tags", "tag", 3, pid, false)) != 0)
		goto done;
	buf_putc(b, '}');
	rc = buf_ok(b) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
done:
	pg_read_end(s, own);
	return rc;
}

/* --- the sweep trial queue ------------------------------------------------------ */

int pg_trial_claim(cairn_store *s, int64_t rid, int64_t budget, const char *owner,
                   cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial, char **out_params)
{
	int rc;
	char *params = NULL;
	int64_t trial = -1;
	bool is_new = false;
	PGresult *r = NULL;
	if ((rc = pg_begin(s)) != 0)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	if ((rc = pg_run(s, "claim a trial", "SELECT 1 FROM runs WHERE rid = $1 FOR UPDATE", &p,
	                 NULL)) != 0)
		goto fail;
	if (!(r = pg_exec(
	          s, "read the trial queue",
	          "SELECT trial, params FROM sweep_trials WHERE sweep_rid = $1 AND state = 0"
	          " ORDER BY trial LIMIT 1",
	          &p))) {
		rc = cairn_error_last_code();
		goto fail;
	}
	if (pq.ntuples(r) == 1) {
		trial = pg_get_int(r, 0, 0);
		if (!(params = strdup(pq.getvalue(r, 0, 1)))) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto fail;
		}
	}
	pq.clear(r);
	r = NULL;
	if (trial < 0) {
		if (!(r = pg_exec(s, "read the trial queue",
		                  "SELECT count(*), coalesce(max(trial) + 1, 0) FROM sweep_trials"
		                  " WHERE sweep_rid = $1",
		                  &p))) {
			rc = cairn_error_last_code();
			goto fail;
		}
		int64_t count = pg_get_int(r, 0, 0), next = pg_get_int(r, 0, 1);
		pq.clear(r);
		r = NULL;
		if (count >= budget) {
			rc = err_set(CAIRN_ENOTFOUND,
			             "every trial of the sweep has been handed out");
			goto fail;
		}
		trial = next;
		if ((rc = suggest(ctx, trial, &params)) != 0)
			goto fail;
		is_new = true;
	}
	pg_params q = PG_PARAMS_INIT;
	pg_param_text(&q, owner);
	pg_param_double(&q, store_now(s));
	pg_param_int(&q, rid);
	pg_param_int(&q, trial);
	if (is_new) {
		pg_param_text(&q, params);
		rc = pg_run(
		    s, "claim a trial",
		    "INSERT INTO sweep_trials(state, owner, updated, sweep_rid, trial, params)"
		    " VALUES(1, $1, $2, $3, $4, $5)",
		    &q, NULL);
	} else {
		rc = pg_run(s, "claim a trial",
		            "UPDATE sweep_trials SET state = 1, owner = $1, updated = $2,"
		            " run_rid = NULL, value = NULL WHERE sweep_rid = $3 AND trial = $4",
		            &q, NULL);
	}
	if (rc)
		goto fail;
	if ((rc = pg_commit(s)) != 0)
		goto done;
	*out_trial = trial;
	*out_params = params;
	params = NULL;
	goto done;
fail:
	if (r)
		pq.clear(r);
	pg_rollback(s);
done:
	free(params);
	return rc;
}

int pg_trial_set(cairn_store *s, int64_t rid, int64_t trial, cairn_trial_state state,
                 int64_t run_rid, double value)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, (int)state);
	pg_param_int_or_null(&p, run_rid != 0, run_rid);
	pg_param_double(&p, value);
	pg_param_double(&p, store_now(s));
	pg_param_int(&p, rid);
	pg_param_int(&p, trial);
	int64_t changed = 0;
	int rc = pg_run(s, "record the trial",
	                "UPDATE sweep_trials SET state = $1, run_rid = coalesce($2, run_rid),"
	                " value = $3, updated = $4 WHERE sweep_rid = $5 AND trial = $6",
	                &p, &changed);
	if (rc == 0 && changed == 0)
		rc = err_set(CAIRN_ENOTFOUND, "the sweep has no trial %lld", (long long)trial);
	return rc;
}

int pg_trials_requeue(cairn_store *s, int64_t rid, int64_t *out_n)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_double(&p, store_now(s));
	pg_param_int(&p, rid);
	int64_t n = 0;
	int rc = pg_run(s, "re-queue the trials",
	                "UPDATE sweep_trials SET state = 0, owner = NULL, updated = $1"
	                " WHERE sweep_rid = $2 AND state = 1",
	                &p, &n);
	if (rc == 0 && out_n)
		*out_n = n;
	return rc;
}

int pg_trial_list(cairn_store *s, int64_t rid, trial_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	PGresult *r = pg_exec(s, "read the trials",
	                      "SELECT t.trial, t.state, t.params, r.id, t.value"
	                      " FROM sweep_trials t LEFT JOIN runs r ON r.rid = t.run_rid"
	                      " WHERE t.sweep_rid = $1 ORDER BY t.trial",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	size_t n = (size_t)pq.ntuples(r);
	trial_row *v = calloc(n ? n : 1, sizeof *v);
	int rc = v ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	size_t done = 0;
	for (; rc == 0 && done < n; done++) {
		int i = (int)done;
		trial_row *t = &v[done];
		const char *params = pg_get_text(r, i, 2), *id = pg_get_text(r, i, 3);
		t->trial = pg_get_int(r, i, 0);
		t->state = (cairn_trial_state)pg_get_int(r, i, 1);
		t->params = strdup(params ? params : "{}");
		snprintf(t->run_id, sizeof t->run_id, "%s", id ? id : "");
		t->value = pg_get_double(r, i, 4);
		if (!t->params)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	pq.clear(r);
	if (rc) {
		trial_rows_free(v, done);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int pg_sweep_child_find(cairn_store *s, int64_t rid, const char *name, char out_id[33])
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, name);
	PGresult *r = pg_exec(s, "find the trial's run",
	                      "SELECT id FROM runs WHERE parent_rid = $1 AND name = $2"
	                      " AND deleted = 0 ORDER BY rid DESC LIMIT 1",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	int rc = 0;
	if (pq.ntuples(r) == 1)
		snprintf(out_id, CAIRN_RUN_ID_HEXSZ + 1, "%s", pq.getvalue(r, 0, 0));
	else
		rc = err_set(CAIRN_ENOTFOUND, "the sweep has no run named '%s'", name);
	pq.clear(r);
	return rc;
}

int pg_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host)
{
	pg_params p = PG_PARAMS_INIT;
	if (pid <= 0) {
		pg_param_double(&p, store_now(s));
		pg_param_int(&p, rid);
		return pg_run(s, "reopen the run",
		              "UPDATE runs SET status = 0, end_time = NULL, exit_code = NULL,"
		              " heartbeat = $1 WHERE rid = $2",
		              &p, NULL);
	}
	pg_param_int(&p, pid);
	pg_param_text(&p, host);
	pg_param_int(&p, rid);
	return pg_run(s, "resume the run",
	              "UPDATE runs SET status = 0, end_time = NULL, exit_code = NULL,"
	              " heartbeat = NULL, pid = $1, host = $2 WHERE rid = $3",
	              &p, NULL);
}
