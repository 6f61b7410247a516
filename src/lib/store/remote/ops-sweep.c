/*
 * lib/store/remote/ops-sweep.c — the remote backend's side of the sweep
 * trial queue (lib/store/sweep.h): claims, trial states, the re-queue of a
 * resumed sweep, the trial list, a trial's run by name, and reopening a
 * sweep.  The server's end is serve-sweep.c.
 *
 * A claim cannot run the caller's suggest callback inside the server's
 * transaction, so it takes up to two requests (docs/internals/sweep.md,
 * "Claims over the wire"):
 *
 *   1. trial_claim (sweep, budget, owner, next -1, no params): the server,
 *      in one transaction, hands out the lowest queued trial, or answers
 *      "nothing left" (the budget is spent), or "propose params for trial
 *      N" (the number a new trial would get), writing nothing;
 *   2. the client calls suggest for N here (TPE reads the finished trials
 *      with trial_list), and sends trial_claim again with next N and the
 *      params: the server, in one transaction, hands out a queued trial if
 *      one appeared since, else creates trial N with those params if N is
 *      still the next number and the budget allows, else answers "propose
 *      for M" and the client suggests again (another driver took N first).
 *
 * So each trial is handed out once, by the server's write lock, whatever
 * the number of drivers; a retried request carries the same idempotency
 * key and gets the answer the server kept, not a second trial.  A claim is
 * never spooled: it needs an answer, and the journal holds writes that are
 * reported done without one.  With the server away (or the journal not
 * empty after a replay attempt) a claim fails with a message that says so.
 *
 * Thread-safety: the store's lock is held (the dispatchers take it), and
 * suggest runs under it, as it does against a local store.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/remote/remote.h"

/* A claim goes round at most this often before it gives up: each round
 * means another driver created the trial this one proposed. */
#define CLAIM_ROUNDS 64

/* The reply kinds of trial_claim (serve-sweep.c writes them). */
enum { CLAIM_GOT = 0, CLAIM_PROPOSE = 1 };

static int down(int rc)
{
	return remote_down(rc) ? CAIRN_ESTORE : rc;
}

int rs_trial_claim(cairn_store *s, int64_t sweep_rid, int64_t budget, const char *owner,
                   cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial, char **out_params)
{
	const char *id = NULL;
	char *proposal = NULL;
	int64_t next = -1;
	int rc = remote_run_id(s, sweep_rid, &id);
	for (int round = 0; rc == 0; round++) {
		if (round == CLAIM_ROUNDS) {
			rc = err_set(
			    CAIRN_EBUSY,
			    "cannot hand out a trial: %d other claims came first; try again",
			    CLAIM_ROUNDS);
			break;
		}
		buf req = BUF_INIT;
		w_str(&req, id);
		w_i64(&req, budget);
		w_str(&req, owner);
		w_i64(&req, next);
		w_str(&req, proposal);
		wr r;
		rc = remote_write_online(s, "trial_claim", &req, &r);
		buf_free(&req);
		if (rc)
			break;
		uint8_t kind = r_u8(&r);
		int64_t trial = r_i64(&r);
		const char *params = kind == CLAIM_GOT ? r_text(&r) : NULL;
		if ((rc = wr_check(&r, true, "reply to trial_claim")) != 0)
			break;
		if (kind == CLAIM_GOT) {
			char *p = strdup(params);
			if (!p) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			*out_trial = trial;
			*out_params = p;
			break;
		}
		if (kind != CLAIM_PROPOSE || trial < 0 || trial >= budget) {
			rc = err_set(CAIRN_ESTORE,
			             "the server's answer to trial_claim is malformed");
			break;
		}
		free(proposal);
		proposal = NULL;
		next = trial;
		rc = suggest(ctx, next, &proposal);
	}
	free(proposal);
	return rc;
}

int rs_trial_set(cairn_store *s, int64_t sweep_rid, int64_t trial, cairn_trial_state state,
                 int64_t run_rid, double value)
{
	buf req = BUF_INIT;
	const char *run = NULL;
	int rc = remote_w_run(s, &req, sweep_rid);
	if (rc == 0 && run_rid)
		rc = remote_run_id(s, run_rid, &run);
	w_i64(&req, trial);
	w_u8(&req, (uint8_t)state);
	w_str(&req, run);
	w_f64(&req, value);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	return remote_write_only(s, "trial_set", &req);
}

/* A re-queue spooled while the server is away counts none (it is applied,
 * in order, when the journal is replayed). */
int rs_trials_requeue(cairn_store *s, int64_t sweep_rid, int64_t *out_n)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, sweep_rid);
	wr r;
	if (rc == 0)
		rc = remote_write(s, "trials_requeue", &req, &r);
	buf_free(&req);
	if (out_n)
		*out_n = 0;
	if (rc == REMOTE_SPOOLED)
		return spool_deferred(s);
	if (rc)
		return down(rc);
	int64_t n = r_i64(&r);
	if ((rc = wr_check(&r, true, "reply to trials_requeue")) == 0 && out_n)
		*out_n = n;
	return rc;
}

int rs_trial_list(cairn_store *s, int64_t sweep_rid, trial_row **out, size_t *out_n)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, sweep_rid);
	wr r;
	if (rc == 0)
		rc = remote_read(s, "trial_list", &req, &r);
	buf_free(&req);
	if (rc)
		return down(rc);
	/* a row is at least 8 + 1 + 4 + 4 + 8 bytes */
	uint32_t n = r_count(&r, 25);
	trial_row *v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return err_set(CAIRN_ENOMEM, "out of memory");
	size_t got = 0;
	for (; got < n && rc == 0; got++) {
		trial_row *t = &v[got];
		t->trial = r_i64(&r);
		t->state = (cairn_trial_state)r_u8(&r);
		const char *params = r_text(&r), *run = r_str(&r);
		t->value = r_f64(&r);
		if ((rc = wr_check(&r, false, "reply to trial_list")) != 0)
			break;
		snprintf(t->run_id, sizeof t->run_id, "%s", run ? run : "");
		if (!(t->params = strdup(params)))
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = wr_check(&r, true, "reply to trial_list");
	if (rc) {
		trial_rows_free(v, got);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int rs_sweep_child_find(cairn_store *s, int64_t sweep_rid, const char *name, char out_id[33])
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, sweep_rid);
	w_str(&req, name);
	wr r;
	if (rc == 0)
		rc = remote_read(s, "sweep_child_find", &req, &r);
	buf_free(&req);
	if (rc)
		return down(rc);
	const char *id = r_text(&r);
	if ((rc = wr_check(&r, true, "reply to sweep_child_find")) != 0)
		return rc;
	if (strlen(id) != CAIRN_RUN_ID_HEXSZ)
		return err_set(CAIRN_ESTORE,
		               "the server's answer to sweep_child_find is malformed");
	memcpy(out_id, id, CAIRN_RUN_ID_HEXSZ + 1);
	return 0;
}

int rs_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	w_i64(&req, pid);
	w_str(&req, host);
	return remote_write_only(s, "run_reopen", &req);
}
