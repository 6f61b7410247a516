/*
 * cli/cmd-agent.c — `cairn agent SWEEP [-j N] [--gpus LIST]`: join a sweep
 * and run its trials on this machine.  Any number of agents, on any
 * number of machines, may work on one sweep at once, beside the `cairn
 * sweep` that created it (or with none: `cairn sweep --create-only`).
 *
 * Order of events:
 *   1. read the sweep's state (sweep.json: the canonical spec, the command
 *      template, --config-out and the project, as `cairn sweep` recorded
 *      them; sweep-state.c) — not the sweep file, which need not be here;
 *      check that the command's program exists on this machine;
 *   2. drive trials exactly as `cairn sweep` does (sweep-drive.c): claim
 *      the next one from the store, one transaction per trial, so no two
 *      drivers ever get the same trial; run it as a `cairn run` child of
 *      the sweep; record how it ended;
 *   3. on the first trial it claims, the agent reopens the sweep run when
 *      it is not running (a --create-only sweep, or one whose creator has
 *      left) and keeps its heartbeat while it works;
 *   4. nothing left to claim: the sweep's best trial (every driver's) is
 *      recorded, and the sweep finished when no trial is queued or
 *      running any more.
 *
 * An agent that finds nothing to claim changes nothing and exits 0 when
 * the sweep has a done trial.  Ctrl-C puts the agent's running trials back
 * in the queue, for another agent or `cairn sweep --resume`.
 *
 * The command runs in the agent's working directory: a relative program
 * (./train.py) must resolve there, as in the directory the sweep was
 * created in.  Over a server store (--store URL) a claim needs the server
 * and is never spooled (lib/store/remote/ops-sweep.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/sweep-cmd.h"
#include "cli/sweep-run.h"

static const char usage[] =
    "usage: cairn agent SWEEP [-j N] [--gpus LIST] [--show-output] [-q]\n\n"
    "Work on a sweep created by 'cairn sweep' (or 'cairn sweep --create-only'):\n"
    "claim its next trial from the store, run it as a 'cairn run' child of the\n"
    "sweep, and go on until no trial is left.  Any number of agents, on any\n"
    "machines sharing the store (a directory, PostgreSQL, or a cairn server's\n"
    "URL), may work on one sweep: each trial is handed out once.  The command\n"
    "and the search come from the sweep; see docs/cli/agent.md.\n\n"
    "options:\n"
    "  -j, --jobs N           run N trials at once (default: the sweep's parallel)\n"
    "      --gpus LIST        pin each concurrent trial to one of these GPUs\n"
    "                         (CUDA_VISIBLE_DEVICES), e.g. 0,1\n"
    "      --show-output      pass the trials' output through (default: stored only)\n"
    "  -q, --quiet            no line per trial, only the result\n\n"
    "Exit status: 0 when no trial is left and the sweep has a successful one,\n"
    "1 when it has none (or the store failed), 2 for a usage error, 130 when\n"
    "interrupted (this agent's trials go back to the queue).\n";

/* The agent's part in the sweep run: running again (unless it already
 * is), with this agent's heartbeat while it works. */
typedef struct agent {
	sweep w;
	cairn_run *run;
	cairn_monitor *mon;
} agent;

static int join_sweep(sweep *w)
{
	agent *ag = (agent *)w;
	cairn_status st = CAIRN_STATUS_RUNNING;
	if (cairn_run_open(&ag->run, w->s, w->sweep_id) != 0 ||
	    cairn_sweep_run_objective(NULL, &st, w->s, w->sweep_id, NULL) != 0 ||
	    (st != CAIRN_STATUS_RUNNING && cairn_sweep_reopen(w->s, w->sweep_id) != 0)) {
		sweep_warn("cannot join the sweep: %s", cairn_error_last());
		return -1;
	}
	cairn_monitor_options mo = CAIRN_MONITOR_OPTIONS_INIT;
	mo.sample_interval = -1;
	if (cairn_monitor_start(&ag->mon, ag->run, &mo) != 0)
		sweep_warn("no heartbeat for the sweep: %s", cairn_error_last());
	return 0;
}

int cmd_agent(int argc, char **argv)
{
	enum { O_HELP = 1, O_JOBS, O_GPUS, O_SHOW, O_QUIET };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP},   {"jobs", 'j', true, O_JOBS},
	    {"gpus", 0, true, O_GPUS},      {"show-output", 0, false, O_SHOW},
	    {"quiet", 'q', false, O_QUIET}, {0}};
	cli_args a;
	agent ag;
	sweep *w = &ag.w;
	memset(&ag, 0, sizeof ag);
	const char *gpus_opt = NULL;
	long long jobs = 0;
	char **gpus = NULL;
	size_t ngpus = 0;
	int sfd = -1, o, rc = 0;
	bool mask_set = false;
	sigset_t old_mask;

	cli_args_init(&a, "agent", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		char *end;
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_JOBS:
			errno = 0;
			jobs = strtoll(a.val, &end, 10);
			if (!*a.val || *end || errno || jobs < 1 || jobs > 256) {
				rc = cli_usage_error(
				    "agent", "--jobs needs a number from 1 to 256, got '%s'",
				    a.val);
				goto done;
			}
			break;
		case O_GPUS: gpus_opt = a.val; break;
		case O_SHOW: w->show_output = true; break;
		case O_QUIET: w->quiet = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage_error("agent",
		                     a.npos ? "name one sweep, got %d arguments"
		                            : "name the sweep (cairn agent SWEEP)",
		                     a.npos);
		goto done;
	}
	if (gpus_opt && sweep_parse_gpus(gpus_opt, &gpus, &ngpus) != 0) {
		rc = cli_usage_error("agent", "--gpus needs GPU numbers such as 0,1, got '%s'",
		                     gpus_opt);
		goto done;
	}
	w->gpus = (const char *const *)gpus;
	w->ngpus = ngpus;
	if ((rc = cli_store(&w->s)) != 0)
		goto done;
	cairn_status status;
	if ((rc = sweep_read_state(w, a.pos[0], &status)) != 0)
		goto done;
	if ((rc = sweep_check_program(w->tmpl[0])) != 0)
		goto done;
	w->maximize = cairn_sweep_spec_goal(w->spec) == CAIRN_SWEEP_MAXIMIZE;
	w->budget = cairn_sweep_spec_trials(w->spec);
	if (!jobs)
		jobs = cairn_sweep_spec_parallel(w->spec);
	if (w->config_out && jobs > 1 && !strstr(w->config_out, "{trial}")) {
		rc = cli_usage_error("agent",
		                     "the sweep writes one --config-out file ('%s'): run its "
		                     "agents with -j 1",
		                     w->config_out);
		goto done;
	}
	char self[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl <= 0) {
		rc = cli_fail("cannot find the cairn binary: %s", strerror(errno));
		goto done;
	}
	self[sl] = '\0';
	w->self_exe = strdup(self);
	w->store_abs = cli_store_location(w->s);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	snprintf(w->owner, sizeof w->owner, "%s:%d", host, (int)getpid());
	if (!w->self_exe || !w->store_abs) {
		rc = cli_fail("out of memory");
		goto done;
	}
	if (cairn_sweep_spec_early_stop(w->spec) && cairn_pruner_new(&w->pruner, w->spec) != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}
	w->again = "back in the queue for 'cairn agent";
	w->on_first_claim = join_sweep;

	/* Signals before any thread (the heartbeat) exists. */
	mask_set = true;
	if ((rc = sweep_signals_begin(&sfd, &old_mask)) != 0)
		goto done;
	sweep_pruner_load(w);
	sweep_counts before;
	sweep_tally(w, &before);
	if (!w->quiet) {
		printf("agent %s on sweep %s (%.8s): %s, %lld trial%s (%lld done), %s %s, %lld at "
		       "once\n",
		       w->owner, w->sweep_name, w->sweep_id,
		       cairn_sweep_method_name(cairn_sweep_spec_method(w->spec)),
		       (long long)w->budget, w->budget == 1 ? "" : "s", before.done,
		       w->maximize ? "maximize" : "minimize", cairn_sweep_spec_metric(w->spec),
		       jobs);
		fflush(stdout);
	}
	sweep_outcome out;
	if ((rc = sweep_drive(w, (int)jobs, sfd, &old_mask, &out)) != 0)
		goto done;
	cairn_monitor_stop(ag.mon);
	ag.mon = NULL;
	if (out.nclaimed == 0 && !out.stopping && !out.broken && !w->quiet)
		printf("nothing left to claim: every trial of the sweep has been handed out\n");
	rc = sweep_wrap_up(w, ag.run, &out);
done:
	cairn_monitor_stop(ag.mon);
	if (mask_set)
		sweep_signals_end(sfd, &old_mask);
	cairn_run_free(ag.run);
	cairn_pruner_free(w->pruner);
	cairn_sweep_spec_free(w->spec);
	if (w->tmpl)
		for (int i = 0; i < w->ntmpl; i++)
			free(w->tmpl[i]);
	free(w->tmpl);
	free(w->config_out);
	free(w->project);
	free(w->sweep_name);
	free(w->self_exe);
	free(w->store_abs);
	free(w->best_params);
	free(w->best_line);
	for (size_t i = 0; i < ngpus; i++)
		free(gpus[i]);
	free(gpus);
	cli_args_free(&a);
	return rc;
}
