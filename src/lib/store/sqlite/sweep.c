/*
 * lib/store/sqlite/sweep.c — the SQL of the sweep trial queue (table sweep_trials,
 * migration 7 in store.c) and the public calls over it (cairn/sweep.h).
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
 * Thread-safety: every function holds the store's recursive lock.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"
#include "util/json.h"

static int sweep_rid(cairn_store *s, const char *sweep, int64_t *rid)
{
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	return store_run_lookup(s, sweep, false, rid, id);
}

int cairn_sweep_trial_claim(int64_t *out_trial, char **out_params, cairn_store *s,
                            const char *sweep, int64_t budget, const char *owner,
                            cairn_sweep_suggest_fn suggest, void *ctx)
{
	*out_trial = -1;
	*out_params = NULL;
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (rc)
		return rc;
	store_lock(s);
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
	store_unlock(s);
	free(params);
	return rc;
}

int cairn_sweep_trial_set(cairn_store *s, const char *sweep, int64_t trial, cairn_trial_state state,
                          const char *run, double value)
{
	int64_t rid, run_rid = 0;
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	int rc;
	if ((unsigned)state > CAIRN_TRIAL_FAILED)
		return err_set(CAIRN_EINVALID, "unknown trial state %d", (int)state);
	if ((rc = sweep_rid(s, sweep, &rid)) != 0)
		return rc;
	if (run && (rc = store_run_lookup(s, run, true, &run_rid, id)) != 0)
		return rc;
	store_lock(s);
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
	if (isnan(value))
		sqlite3_bind_null(st, 3);
	else
		sqlite3_bind_double(st, 3, value);
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
	if (sqlite3_changes(s->db) == 0) {
		rc = err_set(CAIRN_ENOTFOUND, "the sweep has no trial %lld", (long long)trial);
		store_rollback(s);
		goto done;
	}
	rc = store_commit(s);
done:
	store_unlock(s);
	return rc;
}

/* One UPDATE in its own write transaction, bound to (now, rid); *changes
 * (when not NULL) gets the rows it changed. */
static int update_now(cairn_store *s, const char *sql, const char *what, int64_t rid,
                      int64_t *changes)
{
	store_lock(s);
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
		*changes = sqlite3_changes(s->db);
	rc = store_commit(s);
done:
	store_unlock(s);
	return rc;
}

int cairn_sweep_trials_requeue(int64_t *out_n, cairn_store *s, const char *sweep)
{
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (out_n)
		*out_n = 0;
	if (rc)
		return rc;
	return update_now(s,
	                  "UPDATE sweep_trials SET state = 0, owner = NULL,"
	                  " updated = ? WHERE sweep_rid = ? AND state = 1",
	                  "re-queue the trials", rid, out_n);
}

int cairn_sweep_trials_json(char **out, cairn_store *s, const char *sweep)
{
	*out = NULL;
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (rc)
		return rc;
	buf b = BUF_INIT;
	store_lock(s);
	sqlite3_stmt *st =
	    store_prep(s, "SELECT t.trial, t.state, t.params, r.id, t.value"
	                  " FROM sweep_trials t LEFT JOIN runs r ON r.rid = t.run_rid"
	                  " WHERE t.sweep_rid = ? ORDER BY t.trial");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	buf_putc(&b, '[');
	int r, k = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (k++)
			buf_putc(&b, ',');
		buf_puts(&b, "{\"trial\":");
		json_int(&b, sqlite3_column_int64(st, 0));
		buf_puts(&b, ",\"state\":");
		json_str(&b, cairn_trial_state_name((cairn_trial_state)sqlite3_column_int(st, 1)));
		buf_puts(&b, ",\"params\":");
		buf_puts(&b, (const char *)sqlite3_column_text(st, 2));
		buf_puts(&b, ",\"run\":");
		if (sqlite3_column_type(st, 3) == SQLITE_NULL)
			buf_puts(&b, "null");
		else
			json_str(&b, (const char *)sqlite3_column_text(st, 3));
		buf_puts(&b, ",\"value\":");
		if (sqlite3_column_type(st, 4) == SQLITE_NULL)
			buf_puts(&b, "null");
		else
			json_num(&b, sqlite3_column_double(st, 4));
		buf_putc(&b, '}');
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "read the trials");
		goto done;
	}
	buf_putc(&b, ']');
	if (!buf_ok(&b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	store_unlock(s);
	if (rc)
		buf_free(&b);
	else
		*out = buf_detach(&b);
	return rc;
}

int cairn_sweep_child_find(char out_id[32 + 1], cairn_store *s, const char *sweep, const char *name)
{
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (rc)
		return rc;
	store_lock(s);
	sqlite3_stmt *st = store_prep(s, "SELECT id FROM runs WHERE parent_rid = ? AND name = ?"
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
	store_unlock(s);
	return rc;
}

int cairn_sweep_reopen(cairn_store *s, const char *sweep)
{
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (rc)
		return rc;
	return update_now(s,
	                  "UPDATE runs SET status = 0, end_time = NULL, exit_code = NULL,"
	                  " heartbeat = ? WHERE rid = ?",
	                  "reopen the sweep", rid, NULL);
}
