/*
 * lib/store/sqlite/sweep.c — the SQL of the sweep trial queue (table
 * sweep_trials, migration 7 in schema.c; lib/store/sweep.h says what each
 * operation does, lib/sweep/queue.c builds the public calls on them).
 *
 *   sweep_trials(sweep_rid, trial, state, params, run_rid, value, owner,
 *                updated)   PRIMARY KEY (sweep_rid, trial)
 *
 * A row is a trial of the sweep run sweep_rid, numbered from 0.  States:
 * queued -> running -> done | pruned | failed, and running -> queued again
 * when a driver stops before the trial ends (cairn sweep --resume).
 *
 * Handing out a trial is one BEGIN IMMEDIATE transaction (claim): take the
 * lowest queued trial, else create the next one (its params from the
 * caller's suggest callback, which runs inside the transaction and may read
 * the trials), and mark it running.  Two drivers on one store therefore
 * never get the same trial: SQLite's write lock serialises the claims.
 *
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"

int sqlite_trial_claim(cairn_store *s, int64_t rid, int64_t budget, const char *owner,
                       cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial,
                       char **out_params)
{
	int rc;
	char *params = NULL;
	int64_t trial = -1;
	bool is_new = false;
	if ((rc = store_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT trial, params FROM sweep_trials"
	                  " WHERE sweep_rid = ? AND state = 0 ORDER BY trial LIMIT 1");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	sqlite3_bind_int64(st, 1, rid);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		trial = sqlite3_column_int64(st, 0);
		params = strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		rc = store_sqlerr(s, "read the trial queue");
		goto fail;
	}
	if (trial < 0) {
		st = store_prep(s, "SELECT count(*), coalesce(max(trial) + 1, 0) FROM sweep_trials"
		                   " WHERE sweep_rid = ?");
		if (!st) {
			rc = cairn_error_last_code();
			goto fail;
		}
		sqlite3_bind_int64(st, 1, rid);
		int64_t count = 0, next = 0;
		if (sqlite3_step(st) == SQLITE_ROW) {
			count = sqlite3_column_int64(st, 0);
			next = sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		if (count >= budget) {
			rc = err_set(CAIRN_ENOTFOUND,
			             "every trial of the sweep has been handed out");
			goto fail;
		}
		trial = next;
		if ((rc = suggest(ctx, trial, &params)) != 0)
			goto fail;
		is_new = true;
	} else if (!params) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	st = is_new
	         ? store_prep(s, "INSERT INTO sweep_trials(state, owner, updated, sweep_rid, trial,"
	                         " params) VALUES(1, ?, ?, ?, ?, ?)")
	         : store_prep(s, "UPDATE sweep_trials SET state = 1, owner = ?, updated = ?,"
	                         " run_rid = NULL, value = NULL WHERE sweep_rid = ? AND trial = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	store_bind_text(st, 1, owner);
	sqlite3_bind_double(st, 2, store_now(s));
	sqlite3_bind_int64(st, 3, rid);
	sqlite3_bind_int64(st, 4, trial);
	if (is_new)
		store_bind_text(st, 5, params);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "claim a trial");
		goto fail;
	}
	if ((rc = store_commit(s)) != 0)
		goto done;
	*out_trial = trial;
	*out_params = params;
	params = NULL;
	goto done;
fail:
	store_rollback(s);
done:
	free(params);
	return rc;
}

int sqlite_trial_set(cairn_store *s, int64_t rid, int64_t trial, cairn_trial_state state,
                     int64_t run_rid, double value)
{
	int rc;
	if ((rc = store_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st = store_prep(
	    s, "UPDATE sweep_trials SET state = ?, run_rid = coalesce(?, run_rid), value = ?,"
	       " updated = ? WHERE sweep_rid = ? AND trial = ?");
	if (!st) {
		rc = cairn_error_last_code();
		store_rollback(s);
		goto done;
	}
	sqlite3_bind_int(st, 1, (int)state);
	if (run_rid)
		sqlite3_bind_int64(st, 2, run_rid);
	else
		sqlite3_bind_null(st, 2);
	store_bind_double_nan(st, 3, value);
	sqlite3_bind_double(st, 4, store_now(s));
	sqlite3_bind_int64(st, 5, rid);
	sqlite3_bind_int64(st, 6, trial);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "record the trial");
		store_rollback(s);
		goto done;
	}
	if (sqlite3_changes(store_sqlite_db(s)) == 0) {
		rc = err_set(CAIRN_ENOTFOUND, "the sweep has no trial %lld", (long long)trial);
		store_rollback(s);
		goto done;
	}
	rc = store_commit(s);
done:
	return rc;
}

/* One UPDATE in its own write transaction, bound to (now, rid); *changes
 * (when not NULL) gets the rows it changed. */
static int update_now(cairn_store *s, const char *sql, const char *what, int64_t rid,
                      int64_t *changes)
{
	int rc = store_begin(s);
	if (rc)
		goto done;
	sqlite3_stmt *st = store_prep(s, sql);
	if (!st) {
		rc = cairn_error_last_code();
		store_rollback(s);
		goto done;
	}
	sqlite3_bind_double(st, 1, store_now(s));
	sqlite3_bind_int64(st, 2, rid);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, what);
		store_rollback(s);
		goto done;
	}
	if (changes)
		*changes = sqlite3_changes(store_sqlite_db(s));
	rc = store_commit(s);
done:
	return rc;
}

int sqlite_trials_requeue(cairn_store *s, int64_t rid, int64_t *out_n)
{
	return update_now(s,
	                  "UPDATE sweep_trials SET state = 0, owner = NULL,"
	                  " updated = ? WHERE sweep_rid = ? AND state = 1",
	                  "re-queue the trials", rid, out_n);
}

int sqlite_trial_list(cairn_store *s, int64_t rid, trial_row **out, size_t *out_n)
{
	int rc = 0, r;
	trial_row *v = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	*out_n = 0;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT t.trial, t.state, t.params, r.id, t.value"
	                  " FROM sweep_trials t LEFT JOIN runs r ON r.rid = t.run_rid"
	                  " WHERE t.sweep_rid = ? ORDER BY t.trial");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			trial_row *nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		trial_row *t = &v[n++];
		const char *params = (const char *)sqlite3_column_text(st, 2);
		const char *id = (const char *)sqlite3_column_text(st, 3);
		t->trial = sqlite3_column_int64(st, 0);
		t->state = (cairn_trial_state)sqlite3_column_int(st, 1);
		t->params = strdup(params ? params : "{}");
		snprintf(t->run_id, sizeof t->run_id, "%s", id ? id : "");
		t->value = store_column_double_nan(st, 4);
		if (!t->params) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "read the trials");
	if (rc) {
		trial_rows_free(v, n);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int sqlite_sweep_child_find(cairn_store *s, int64_t rid, const char *name, char out_id[33])
{
	int rc = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT id FROM runs INDEXED BY runs_parent"
	                                 " WHERE parent_rid = ? AND name = ?"
	                                 " AND deleted = 0 ORDER BY rid DESC LIMIT 1");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, name);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		snprintf(out_id, CAIRN_RUN_ID_HEXSZ + 1, "%s",
		         (const char *)sqlite3_column_text(st, 0));
	else if (r == SQLITE_DONE)
		rc = err_set(CAIRN_ENOTFOUND, "the sweep has no run named '%s'", name);
	else
		rc = store_sqlerr(s, "find the trial's run");
	sqlite3_reset(st);
done:
	return rc;
}

int sqlite_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host)
{
	if (pid <= 0)
		return update_now(s,
		                  "UPDATE runs SET status = 0, end_time = NULL, exit_code = NULL,"
		                  " heartbeat = ? WHERE rid = ?",
		                  "reopen the run", rid, NULL);
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prep(s, "UPDATE runs SET status = 0, end_time = NULL,"
	                                 " exit_code = NULL, heartbeat = NULL, pid = ?,"
	                                 " host = ? WHERE rid = ?");
	if (!st) {
		rc = cairn_error_last_code();
		store_rollback(s);
		return rc;
	}
	sqlite3_bind_int(st, 1, pid);
	store_bind_text(st, 2, host);
	sqlite3_bind_int64(st, 3, rid);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "resume the run");
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}
