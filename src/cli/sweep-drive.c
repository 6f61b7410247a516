/*
 * cli/sweep-drive.c — the loop that drives a sweep's trials, shared by
 * `cairn sweep` (cmd-sweep.c, which creates or resumes the sweep) and
 * `cairn agent` (cmd-agent.c, which joins one): claim trials from the
 * store while fewer than -j run, start each as a `cairn run` child of the
 * sweep (sweep-trial.c), watch them end (and stop the ones the median
 * rule condemns), until nothing is left to claim or a signal comes.  Then
 * the wrap-up: the sweep's tally from the store, and the sweep run
 * finished by the last driver to leave it.
 *
 * Several drivers may drive one sweep at once (the creator and any number
 * of agents, on one machine or many): the claim is one store transaction,
 * so each trial is handed out once.  Each driver keeps the sweep run's
 * heartbeat while it works, so the sweep shows running as long as one of
 * them does (and --resume, which re-queues every running trial, is
 * refused meanwhile).  A driver that runs out of trials to claim finishes
 * the sweep only when no trial is queued or running any more — the other
 * drivers' trials included; otherwise the last of them does.
 *
 * Signals: INT, TERM and HUP go through a signalfd (sweep_signals_begin,
 * before any thread).  The first one stops new claims and is forwarded to
 * the running trials (unless the terminal already sent it to the whole
 * group); their trials go back to the queue.  One thread owns everything.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sweep-run.h"

int sweep_signals_begin(int *sfd, sigset_t *old_mask)
{
	sigset_t mask;
	sigemptyset(&mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&mask, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &mask, old_mask);
	*sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (*sfd < 0)
		return cli_fail("cannot watch signals: %s", strerror(errno));
	return 0;
}

void sweep_signals_end(int sfd, const sigset_t *old_mask)
{
	if (sfd >= 0)
		close(sfd);
	pthread_sigmask(SIG_SETMASK, old_mask, NULL);
}

/* Claim trials into free slots while fewer than jobs run. */
static void fill_slots(sweep *w, slot *slots, int jobs, int *running, const sigset_t *old_mask,
                       sweep_outcome *o)
{
	while (!o->stopping && !o->exhausted && !o->broken && *running < jobs) {
		int64_t trial;
		cairn_params *params = NULL;
		int e = cairn_sweep_trial_claim_params(&trial, &params, w->s, w->sweep_id,
		                                       w->budget, w->owner, suggest_cb, w);
		if (e == CAIRN_ENOTFOUND) {
			o->exhausted = true;
			break;
		}
		if (e != 0) {
			fprintf(stderr, "error: cannot hand out the next trial: %s\n",
			        cairn_error_last());
			o->broken = true;
			break;
		}
		o->nclaimed++;
		if (o->nclaimed == 1 && w->on_first_claim && w->on_first_claim(w) != 0) {
			cairn_params_free(params);
			cairn_sweep_trial_set(w->s, w->sweep_id, trial, CAIRN_TRIAL_QUEUED, NULL,
			                      NAN);
			o->broken = true;
			break;
		}
		int k = 0;
		while (slots[k].pid)
			k++;
		slots[k].gpu = w->ngpus ? w->gpus[k % w->ngpus] : NULL;
		const char *gpu = slots[k].gpu;
		if (start_trial(w, &slots[k], (long long)trial, params, old_mask) != 0) {
			cairn_params_free(params);
			memset(&slots[k], 0, sizeof slots[k]);
			cairn_sweep_trial_set(w->s, w->sweep_id, trial, CAIRN_TRIAL_QUEUED, NULL,
			                      NAN);
			o->broken = true;
			break;
		}
		slots[k].gpu = gpu;
		(*running)++;
	}
}

int sweep_drive(sweep *w, int jobs, int sfd, const sigset_t *old_mask, sweep_outcome *o)
{
	memset(o, 0, sizeof *o);
	slot *slots = calloc((size_t)jobs, sizeof *slots);
	if (!slots)
		return cli_fail("out of memory");
	int running = 0;
	for (;;) {
		fill_slots(w, slots, jobs, &running, old_mask, o);
		if (running == 0)
			break;
		struct pollfd pf = {sfd, POLLIN, 0};
		int pr = poll(&pf, 1, w->pruner ? 200 : -1);
		if (pr < 0 && errno != EINTR) {
			sweep_warn("poll: %s", strerror(errno));
			break;
		}
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
			int sig = (int)si.ssi_signo;
			if (sig == SIGCHLD)
				continue;
			if (!o->stopping && !w->quiet)
				printf("stopping: %d trial%s running (%s %.8s')\n", running,
				       running == 1 ? "" : "s", w->again, w->sweep_id);
			o->stopping = true;
			o->stop_sig = o->stop_sig ? o->stop_sig : sig;
			bool from_tty = si.ssi_code == SI_KERNEL;
			for (int k = 0; k < jobs; k++)
				if (slots[k].pid && !from_tty)
					kill(slots[k].pid, sig);
		}
		int ws;
		pid_t p;
		while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
			for (int k = 0; k < jobs; k++)
				if (slots[k].pid == p) {
					const char *gpu = slots[k].gpu;
					trial_ended(w, &slots[k], ws, o->stopping);
					slots[k].gpu = gpu;
					running--;
				}
		}
		if (w->pruner && !o->stopping)
			for (int k = 0; k < jobs; k++)
				if (slots[k].pid)
					check_prune(w, &slots[k]);
	}
	for (int k = 0; k < jobs; k++)
		cairn_params_free(slots[k].params);
	free(slots);
	return 0;
}

int sweep_wrap_up(sweep *w, cairn_run *run, const sweep_outcome *o)
{
	sweep_counts c;
	bool counted = sweep_tally(w, &c) == 0;
	bool others = counted && c.running > 0;
	int rc;
	if (!counted && !o->broken)
		sweep_warn("cannot read the sweep's trials: %s", cairn_error_last());
	if (!run || (o->nclaimed == 0 && !w->creator)) {
		/* an agent that ran nothing (or could not join) leaves the sweep */
	} else if (o->stopping || o->broken) {
		if (!others)
			cairn_run_finish(run, CAIRN_STATUS_KILLED,
			                 o->stop_sig ? 128 + o->stop_sig : 1);
	} else {
		sweep_record_best(w, run);
		if (counted && !others && c.queued == 0)
			cairn_run_finish(run, c.done ? CAIRN_STATUS_FINISHED : CAIRN_STATUS_FAILED,
			                 c.done ? 0 : 1);
		else if (!w->quiet && others)
			printf("%lld trial%s of other drivers still running: the last one to end "
			       "finishes the sweep\n",
			       (long long)c.running, c.running == 1 ? "" : "s");
	}
	if (o->stopping)
		rc = 128 + o->stop_sig;
	else if (o->broken || !counted)
		rc = EXIT_FAIL;
	else
		rc = c.done ? 0 : EXIT_FAIL;
	if (w->have_best) {
		char bv[40];
		cli_fmt_num(bv, sizeof bv, w->best);
		printf("best: trial %lld %s=%s  %s  (run %.8s)\n", w->best_trial,
		       cairn_sweep_spec_metric(w->spec), bv, w->best_line ? w->best_line : "",
		       w->best_run);
	}
	if (!o->stopping && !o->broken && counted && !c.done && !others)
		fprintf(stderr,
		        "error: no trial of sweep %s succeeded (see cairn ls 'parent = %.8s')\n",
		        w->sweep_name, w->sweep_id);
	if (o->stopping && !w->quiet)
		printf("interrupted: %s %.8s'\n", w->again, w->sweep_id);
	return rc;
}
