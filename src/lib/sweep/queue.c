/*
 * lib/sweep/queue.c — the public calls of the sweep trial queue
 * (cairn/sweep.h, "the trial queue in the store"): each resolves the sweep
 * (and trial run) by id, prefix or name, checks its arguments, and makes
 * one store call (lib/store/sweep.h), so the queue works over any backend.
 * The trial list is written as JSON here, from the store's rows.
 *
 * Thread-safety: as the store calls (each holds the store's lock); a claim
 * is one store transaction, so two drivers never get the same trial.
 */
#include <math.h>
#include <stdlib.h>

#include "lib/store/sweep.h"
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
	return store_trial_claim(s, rid, budget, owner, suggest, ctx, out_trial, out_params);
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
	return store_trial_set(s, rid, trial, state, run_rid, value);
}

int cairn_sweep_trials_requeue(int64_t *out_n, cairn_store *s, const char *sweep)
{
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (out_n)
		*out_n = 0;
	if (rc)
		return rc;
	return store_trials_requeue(s, rid, out_n);
}

int cairn_sweep_trials_json(char **out, cairn_store *s, const char *sweep)
{
	*out = NULL;
	int64_t rid;
	trial_row *v = NULL;
	size_t n = 0;
	int rc = sweep_rid(s, sweep, &rid);
	if (rc == 0)
		rc = store_trial_list(s, rid, &v, &n);
	if (rc)
		return rc;
	buf b = BUF_INIT;
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_puts(&b, "{\"trial\":");
		json_int(&b, v[i].trial);
		buf_puts(&b, ",\"state\":");
		json_str(&b, cairn_trial_state_name(v[i].state));
		buf_puts(&b, ",\"params\":");
		buf_puts(&b, v[i].params);
		buf_puts(&b, ",\"run\":");
		if (v[i].run_id[0])
			json_str(&b, v[i].run_id);
		else
			buf_puts(&b, "null");
		buf_puts(&b, ",\"value\":");
		if (isnan(v[i].value))
			buf_puts(&b, "null");
		else
			json_num(&b, v[i].value);
		buf_putc(&b, '}');
	}
	buf_putc(&b, ']');
	trial_rows_free(v, n);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&b);
	return 0;
}

int cairn_sweep_child_find(char out_id[32 + 1], cairn_store *s, const char *sweep, const char *name)
{
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (rc)
		return rc;
	return store_sweep_child_find(s, rid, name, out_id);
}

int cairn_sweep_reopen(cairn_store *s, const char *sweep)
{
	int64_t rid;
	int rc = sweep_rid(s, sweep, &rid);
	if (rc)
		return rc;
	return store_run_reopen(s, rid);
}
