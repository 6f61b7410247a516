/*
 * lib/sweep/queue.c — the public calls of the sweep trial queue
 * (cairn/sweep.h, "the trial queue in the store"): each resolves the sweep
 * (and trial run) by id, prefix or name, checks its arguments, and makes
 * one store call (lib/store/sweep.h), so the queue works over any backend.
 * The trial list is written as JSON here, from the store's rows, or typed
 * (cairn_sweep_trials): the store keeps a trial's params as the JSON text
 * the sampler wrote, and they are decoded here, never by a caller.  Also
 * the two reads a sweep makes of its trials' runs (objective, curve).
 *
 * Thread-safety: as the store calls (each holds the store's lock); a claim
 * is one store transaction, so two drivers never get the same trial.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/capture/param-list.h"
#include "lib/store/record.h"
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
	return store_run_reopen(s, rid, 0, NULL);
}

/* --- typed reads --------------------------------------------------------------------- */

int cairn_sweep_trial_claim_params(int64_t *out_trial, cairn_params **out_params, cairn_store *s,
                                   const char *sweep, int64_t budget, const char *owner,
                                   cairn_sweep_suggest_fn suggest, void *ctx)
{
	char *js = NULL;
	if (!out_trial || !out_params)
		return err_set(CAIRN_EINVALID, "no output for the claimed trial");
	*out_params = NULL;
	int rc = cairn_sweep_trial_claim(out_trial, &js, s, sweep, budget, owner, suggest, ctx);
	/* the queue keeps a trial's params as the JSON object the sampler
	 * wrote; typing it back is the queue's business */
	if (rc == 0 && (rc = params_from_json(out_params, js, "trial params")) != 0) {
		/* a claimed trial that cannot be read goes back to the queue */
		int64_t rid;
		if (sweep_rid(s, sweep, &rid) == 0)
			store_trial_set(s, rid, *out_trial, CAIRN_TRIAL_QUEUED, 0, NAN);
		err_set(rc, "trial %lld: %s", (long long)*out_trial, cairn_error_last());
	}
	free(js);
	return rc;
}

struct cairn_trial_list {
	cairn_trial *v;
	size_t n;
	char (*runs)[CAIRN_RUN_ID_HEXSZ + 1];
};

int cairn_sweep_trials(cairn_trial_list **out, cairn_store *s, const char *sweep)
{
	int64_t rid;
	trial_row *rows = NULL;
	size_t n = 0;
	if (!out)
		return err_set(CAIRN_EINVALID, "no output for the trials");
	*out = NULL;
	if (!s || !sweep)
		return err_set(CAIRN_EINVALID, "no store or no sweep");
	int rc = sweep_rid(s, sweep, &rid);
	if (rc == 0)
		rc = store_trial_list(s, rid, &rows, &n);
	if (rc)
		return rc;
	cairn_trial_list *l = calloc(1, sizeof *l);
	if (l) {
		l->v = calloc(n + 1, sizeof *l->v);
		l->runs = calloc(n + 1, sizeof *l->runs);
	}
	if (!l || !l->v || !l->runs)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++, l->n++) {
		cairn_trial *t = &l->v[i];
		cairn_params *p = NULL;
		if ((rc = params_from_json(&p, rows[i].params, "trial params")) != 0)
			break;
		t->params = p;
		t->trial = rows[i].trial;
		t->state = rows[i].state;
		t->value = rows[i].value;
		memcpy(l->runs[i], rows[i].run_id, sizeof l->runs[i]);
		t->run = rows[i].run_id[0] ? l->runs[i] : NULL;
	}
	trial_rows_free(rows, n);
	if (rc) {
		cairn_trial_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

size_t cairn_trial_list_count(const cairn_trial_list *l)
{
	return l ? l->n : 0;
}

const cairn_trial *cairn_trial_list_get(const cairn_trial_list *l, size_t i)
{
	return l && i < l->n ? &l->v[i] : NULL;
}

void cairn_trial_list_free(cairn_trial_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; l->v && i < l->n; i++)
		cairn_params_free((cairn_params *)l->v[i].params);
	free(l->v);
	free(l->runs);
	free(l);
}

/* A run of the store by id or prefix (not a deleted one), after the
 * metrics this process buffered are written, as cairn_run_get_json reads. */
static int trial_run_rid(cairn_store *s, const char *run, int64_t *rid)
{
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	if (!s || !run)
		return err_set(CAIRN_EINVALID, "no store or no run");
	writer_flush(s);
	return store_run_lookup(s, run, false, rid, id);
}

int cairn_sweep_run_objective(double *out_value, cairn_status *out_status, cairn_store *s,
                              const char *run, const char *metric)
{
	int64_t rid;
	cairn_status st = CAIRN_STATUS_RUNNING;
	double v = NAN;
	bool has = false;
	if (out_value)
		*out_value = NAN;
	int rc = trial_run_rid(s, run, &rid);
	rec_batch *bt = NULL;
	if (rc == 0)
		rc = store_records_load(s, &rid, 1, false, &bt);
	if (rc == 0 && bt->n == 0)
		rc = err_set(CAIRN_ENOTFOUND, "run not found");
	if (rc == 0) {
		/* the record's status already says crashed for a stale heartbeat */
		st = bt->recs[0].status;
		const rec_metric *m = metric ? record_metric_find(&bt->recs[0], metric) : NULL;
		has = m != NULL;
		v = has ? m->m.last : NAN;
	}
	rec_batch_unref(bt);
	if (rc)
		return rc;
	if (out_value)
		*out_value = has ? v : NAN;
	if (out_status)
		*out_status = st;
	return 0;
}

int cairn_sweep_run_curve(int64_t **out_steps, double **out_values, size_t *out_n, cairn_store *s,
                          const char *run, const char *metric)
{
	int64_t rid;
	if (!out_steps || !out_values || !out_n)
		return err_set(CAIRN_EINVALID, "no output for the curve");
	*out_steps = NULL;
	*out_values = NULL;
	*out_n = 0;
	if (!metric)
		return err_set(CAIRN_EINVALID, "no metric");
	int rc = trial_run_rid(s, run, &rid);
	if (rc)
		return rc;
	return store_sweep_run_curve(s, rid, metric, out_steps, out_values, out_n);
}
