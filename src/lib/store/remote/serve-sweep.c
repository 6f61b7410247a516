/*
 * lib/store/remote/serve-sweep.c — the server's end of the protocol (see
 * serve.c) for the sweep trial queue: trial_claim, trial_set,
 * trials_requeue, trial_list, sweep_child_find and run_reopen.  The
 * client's end is ops-sweep.c, which describes the claim's two requests.
 *
 * trial_claim is one store_trial_claim on the server's store — one write
 * transaction of whatever backend it is (SQLite's BEGIN IMMEDIATE,
 * PostgreSQL's lock on the sweep's run row) — whose suggest callback is
 * the client's proposal: it gives the proposed params when the trial being
 * created is the one they were made for, and otherwise rolls the claim
 * back (nothing written) so that the client is asked to propose for the
 * number the store would use now.  A queued trial is handed out without
 * looking at the proposal.  The proposal is checked as any params a client
 * sends: a JSON object of typed values, at most TEXT_VALUE_MAX bytes.
 * Thread-safety: as the store (each op holds its lock).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/capture/param-list.h"
#include "lib/store/remote/serve.h"
#include "util/sha.h"

/* The reply kinds of trial_claim (ops-sweep.c reads them). */
enum { CLAIM_GOT = 0, CLAIM_PROPOSE = 1 };

/* An answer of the callback that is no error: "propose for trial need". */
#define CLAIM_NEEDS_PROPOSAL CAIRN_ECONFLICT

typedef struct proposal {
	int64_t next;       /* the trial the params were made for, -1: none */
	const char *params; /* NULL: none */
	int64_t need;       /* the trial a new claim would create, -1: not asked */
} proposal;

static int propose_cb(void *ctx, int64_t trial, char **out)
{
	proposal *p = ctx;
	if (p->params && trial == p->next) {
		*out = strdup(p->params);
		return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	}
	p->need = trial;
	return CLAIM_NEEDS_PROPOSAL;
}

SV_DEF(sv_trial_claim)
{
	int64_t rid, trial = -1;
	int rc = sv_run(s, r, &rid);
	int64_t budget = r_i64(r);
	const char *owner = r_str(r);
	proposal p = {.need = -1};
	p.next = r_i64(r); /* in the body's order: an initializer list has none */
	p.params = r_str(r);
	if (rc == 0)
		rc = wr_check(r, true, "trial_claim request");
	if (rc == 0 && (budget < 1 || budget > CAIRN_SWEEP_TRIALS_MAX))
		rc = err_set(CAIRN_EINVALID, "trial_claim: a budget of %lld trials is out of range",
		             (long long)budget);
	if (rc == 0 && (p.next < -1 || p.next >= budget || (p.next >= 0) != (p.params != NULL)))
		rc = err_set(CAIRN_EINVALID, "trial_claim: the proposal's trial number is wrong");
	if (rc == 0)
		rc = sv_text(owner, KEY_MAX, "owner");
	if (rc == 0 && p.params && (rc = sv_text(p.params, TEXT_VALUE_MAX, "params")) == 0) {
		cairn_params *typed = NULL;
		rc = params_from_json(&typed, p.params, "the proposed params");
		cairn_params_free(typed);
	}
	if (rc)
		return rc;
	char *params = NULL;
	rc = store_trial_claim(s, rid, budget, owner, propose_cb, &p, &trial, &params);
	if (rc == CLAIM_NEEDS_PROPOSAL && p.need >= 0) {
		cairn_error_clear();
		w_u8(out, CLAIM_PROPOSE);
		w_i64(out, p.need);
		return 0;
	}
	if (rc == 0) {
		w_u8(out, CLAIM_GOT);
		w_i64(out, trial);
		w_str(out, params);
	}
	free(params);
	return rc;
}

SV_DEF(sv_trial_set)
{
	int64_t rid, run_rid = 0;
	int rc = sv_run(s, r, &rid);
	int64_t trial = r_i64(r);
	uint8_t state = r_u8(r);
	const char *run = r_str(r);
	double value = r_f64(r);
	if (rc == 0)
		rc = wr_check(r, true, "trial_set request");
	if (rc == 0 && (trial < 0 || state > CAIRN_TRIAL_FAILED))
		rc = err_set(CAIRN_EINVALID, "trial_set: trial %lld or state %u out of range",
		             (long long)trial, state);
	if (rc == 0 && run) {
		char full[33];
		rc = hex_is(run, CAIRN_RUN_ID_HEXSZ)
		         ? store_run_lookup(s, run, true, &run_rid, full)
		         : err_set(CAIRN_EINVALID, "'%.40s' is not a run id", run);
	}
	return rc ? rc : store_trial_set(s, rid, trial, (cairn_trial_state)state, run_rid, value);
}

SV_DEF(sv_trials_requeue)
{
	int64_t rid, n = 0;
	int rc = sv_run(s, r, &rid);
	if (rc == 0)
		rc = wr_check(r, true, "trials_requeue request");
	if (rc == 0 && (rc = store_trials_requeue(s, rid, &n)) == 0)
		w_i64(out, n);
	return rc;
}

SV_DEF(sv_trial_list)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	if (rc == 0)
		rc = wr_check(r, true, "trial_list request");
	trial_row *v = NULL;
	size_t n = 0;
	if (rc == 0 && (rc = store_trial_list(s, rid, &v, &n)) == 0) {
		w_u32(out, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			w_i64(out, v[i].trial);
			w_u8(out, (uint8_t)v[i].state);
			w_str(out, v[i].params);
			w_str(out, v[i].run_id[0] ? v[i].run_id : NULL);
			w_f64(out, v[i].value);
		}
	}
	trial_rows_free(v, n);
	return rc;
}

SV_DEF(sv_sweep_child_find)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *name = r_text(r);
	if (rc == 0)
		rc = wr_check(r, true, "sweep_child_find request");
	if (rc == 0)
		rc = cairn_key_validate(name, "run name");
	char id[33];
	if (rc == 0 && (rc = store_sweep_child_find(s, rid, name, id)) == 0)
		w_str(out, id);
	return rc;
}

SV_DEF(sv_run_reopen)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	int64_t pid = r_i64(r);
	const char *host = r_str(r);
	if (rc == 0)
		rc = wr_check(r, true, "run_reopen request");
	if (rc == 0 && (pid < 0 || pid > INT_MAX))
		rc = err_set(CAIRN_EINVALID, "run_reopen request: pid %lld is out of range",
		             (long long)pid);
	return rc ? rc : store_run_reopen(s, rid, (int)pid, host);
}
