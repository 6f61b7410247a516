/*
 * cli/cmd-sweep.c — `cairn sweep -c SWEEP.yaml [options] -- COMMAND...`:
 * a hyperparameter search whose trials are ordinary `cairn run` children of
 * a sweep run.
 *
 * Order of events:
 *   1. read and validate the sweep file and the command template (unknown
 *      placeholders, a command that cannot be found): any error here stores
 *      nothing;
 *   2. create the sweep run (tag `sweep`; properties sweep.method/metric/
 *      goal; artifact sweep.json with the canonical spec and the template,
 *      which is what --resume reads back) with a heartbeat, so a sweep
 *      killed outright shows as crashed;
 *   3. loop: while fewer than -j trials run, claim the next trial from the
 *      store (one transaction: a re-queued trial, else a new suggestion)
 *      and start `cairn run -n SWEEP-N --param k=v... -- COMMAND` (this
 *      binary, so each trial is captured exactly as `cairn run` captures)
 *      with CAIRN_RUN_ID set to the sweep, which makes the trial its child;
 *      with early stopping, poll each running trial's objective history
 *      every 200 ms and stop (SIGTERM) a trial the median rule condemns;
 *   4. a trial ends: its objective is the last value of the metric in its
 *      run; the trial becomes done, failed (non-zero exit, or no metric) or
 *      pruned (its run's status too);
 *   5. nothing is left to claim: print the best trial of the sweep (as
 *      the store has it: agents' trials too), record it on the sweep run
 *      (properties sweep.best_*), and finish the sweep — unless trials of
 *      other drivers (`cairn agent`) still run: the last one to end does.
 *
 * With --create-only the command stops after step 2 (the sweep is left
 * finished, with no trial) and `cairn agent SWEEP` runs the trials, on
 * this machine or others (cmd-agent.c).
 *
 * Signals: INT, TERM and HUP go through a signalfd.  The first one stops
 * new trials and is forwarded to the running ones (unless the terminal
 * already sent it to the whole group); their trials go back to the queue,
 * the sweep ends killed, and `cairn sweep --resume ID` picks up: finished
 * trials are kept, interrupted ones run again, new ones fill the budget.
 *
 * The loop (steps 3 to 5) is sweep-drive.c, shared with `cairn agent`; a
 * trial's life is sweep-trial.c; sweep.json and the tally are
 * sweep-state.c; sweep-run.h has the state they share.
 *
 * Trial output goes to each run's stored logs, not to the terminal (several
 * trials at once would interleave); --show-output passes it through.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/sweep-cmd.h"
#include "cli/sweep-run.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

extern char **environ;

static const char usage[] =
    "usage: cairn sweep -c SWEEP.yaml [options] [--] COMMAND [ARG]...\n"
    "   or: cairn sweep --resume SWEEP [-j N] [--gpus LIST]\n"
    "   or: cairn sweep -c SWEEP.yaml --create-only [options] [--] COMMAND [ARG]...\n\n"
    "Search hyperparameters: run COMMAND once per trial, each trial a 'cairn run'\n"
    "child of a sweep run, with the trial's values put into the command's\n"
    "{name} placeholders (or a --config-out file), and read the objective from\n"
    "each trial's metrics.  The sweep file gives the space, the objective, the\n"
    "method (grid, random, tpe), the budget and optional early stopping; see\n"
    "docs/cli/sweep.md.\n\n"
    "options:\n"
    "  -c, --config FILE      the sweep file (YAML or JSON)\n"
    "  -j, --jobs N           run N trials at once (default: the file's parallel, 1)\n"
    "      --gpus LIST        pin each concurrent trial to one of these GPUs\n"
    "                         (CUDA_VISIBLE_DEVICES), e.g. 0,1\n"
    "      --config-out FILE  write each trial's values to FILE (.yaml/.yml/.json;\n"
    "                         {trial} in the name is the trial number); the command\n"
    "                         can name it as {config}\n"
    "      --trials N         override the file's trial budget\n"
    "      --seed N           override the file's seed\n"
    "  -p, --project PROJECT  project of the sweep and its trials\n"
    "  -n, --name NAME        name of the sweep run (trials are NAME-0, NAME-1, ...)\n"
    "      --resume SWEEP     continue an interrupted sweep: keep finished trials,\n"
    "                         re-run interrupted ones, fill the budget\n"
    "      --create-only      record the sweep and exit: 'cairn agent SWEEP' on any\n"
    "                         machine runs its trials\n"
    "      --show-output      pass the trials' output through (default: stored only)\n"
    "  -q, --quiet            no line per trial, only the result\n\n"
    "Exit status: 0 when the sweep completed with at least one successful trial,\n"
    "1 when none succeeded, 130 when interrupted (resume it with --resume).\n";

int cmd_sweep(int argc, char **argv)
{
	enum {
		O_HELP = 1,
		O_CONFIG,
		O_JOBS,
		O_GPUS,
		O_CONFIG_OUT,
		O_TRIALS,
		O_SEED,
		O_PROJECT,
		O_NAME,
		O_RESUME,
		O_SHOW,
		O_QUIET,
		O_CREATE_ONLY,
	};
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"config", 'c', true, O_CONFIG},
	                               {"jobs", 'j', true, O_JOBS},
	                               {"gpus", 0, true, O_GPUS},
	                               {"config-out", 0, true, O_CONFIG_OUT},
	                               {"trials", 0, true, O_TRIALS},
	                               {"seed", 0, true, O_SEED},
	                               {"project", 'p', true, O_PROJECT},
	                               {"name", 'n', true, O_NAME},
	                               {"resume", 0, true, O_RESUME},
	                               {"show-output", 0, false, O_SHOW},
	                               {"quiet", 'q', false, O_QUIET},
	                               {"create-only", 0, false, O_CREATE_ONLY},
	                               {0}};
	cli_args a;
	sweep w;
	memset(&w, 0, sizeof w);
	const char *file = NULL, *resume = NULL, *name = NULL, *gpus_opt = NULL;
	long long jobs = 0, trials = 0, seed = -1;
	char **gpus = NULL;
	size_t ngpus = 0;
	cairn_run *run = NULL;
	cairn_monitor *mon = NULL;
	int sfd = -1, o, rc = 0;
	bool mask_set = false, create_only = false;
	sigset_t old_mask;

	cli_args_init(&a, "sweep", argc, argv);
	a.stop_at_first_pos = true;
	while ((o = cli_next(&a, opts)) > 0) {
		char *end;
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_CONFIG: file = a.val; break;
		case O_JOBS:
		case O_TRIALS:
		case O_SEED: {
			errno = 0;
			long long v = strtoll(a.val, &end, 10);
			long long lo = o == O_SEED ? 0 : 1, hi = o == O_JOBS ? 256
			                                         : o == O_TRIALS
			                                             ? CAIRN_SWEEP_TRIALS_MAX
			                                             : LLONG_MAX;
			if (!*a.val || *end || errno || v < lo || v > hi) {
				rc = cli_usage_error(
				    "sweep", "--%s needs a number from %lld to %lld, got '%s'",
				    o == O_JOBS     ? "jobs"
				    : o == O_TRIALS ? "trials"
				                    : "seed",
				    lo, hi, a.val);
				goto done;
			}
			*(o == O_JOBS ? &jobs : o == O_TRIALS ? &trials : &seed) = v;
			break;
		}
		case O_GPUS: gpus_opt = a.val; break;
		case O_CONFIG_OUT: w.config_out = strdup(a.val); break;
		case O_PROJECT: w.project = strdup(a.val); break;
		case O_NAME: name = a.val; break;
		case O_RESUME: resume = a.val; break;
		case O_SHOW: w.show_output = true; break;
		case O_QUIET: w.quiet = true; break;
		case O_CREATE_ONLY: create_only = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (resume &&
	    (file || a.npos || w.config_out || name || w.project || trials || seed >= 0)) {
		rc = cli_usage_error("sweep",
		                     "--resume takes only -j, --gpus, --show-output and -q: "
		                     "the rest comes from the sweep");
		goto done;
	}
	if (resume && create_only) {
		rc = cli_usage_error("sweep", "--create-only makes a new sweep: it does not go "
		                              "with --resume");
		goto done;
	}
	if (!resume && !file) {
		rc = cli_usage_error("sweep",
		                     "name the sweep file (-c SWEEP.yaml) or --resume SWEEP");
		goto done;
	}
	if (!resume && a.npos == 0) {
		rc = cli_usage_error("sweep",
		                     "name the command to run (cairn sweep -c FILE -- COMMAND...)");
		goto done;
	}
	if (gpus_opt && sweep_parse_gpus(gpus_opt, &gpus, &ngpus) != 0) {
		rc = cli_usage_error("sweep", "--gpus needs GPU numbers such as 0,1, got '%s'",
		                     gpus_opt);
		goto done;
	}
	if (w.config_out) {
		size_t n = strlen(w.config_out);
		bool ok = (n > 5 && strcmp(w.config_out + n - 5, ".yaml") == 0) ||
		          (n > 4 && strcmp(w.config_out + n - 4, ".yml") == 0) ||
		          (n > 5 && strcmp(w.config_out + n - 5, ".json") == 0);
		if (!ok) {
			rc = cli_usage_error(
			    "sweep", "--config-out must end in .yaml, .yml or .json, got '%s'",
			    w.config_out);
			goto done;
		}
	}
	w.gpus = (const char *const *)gpus;
	w.ngpus = ngpus;

	if (!resume) {
		if (cairn_sweep_spec_load(&w.spec, file) != 0) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
		if (trials && cairn_sweep_spec_set_trials(w.spec, trials) != 0) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
		if (seed >= 0)
			cairn_sweep_spec_set_seed(w.spec, (uint64_t)seed);
		w.ntmpl = a.npos;
		w.tmpl = calloc((size_t)a.npos + 1, sizeof *w.tmpl);
		for (int i = 0; i < a.npos && w.tmpl; i++)
			w.tmpl[i] = strdup(a.pos[i]);
		char err[256];
		if (!w.tmpl || sweep_template_check(w.spec, w.tmpl, w.ntmpl, w.config_out != NULL,
		                                    err, sizeof err) != 0) {
			rc = cli_fail("%s", w.tmpl ? err : "out of memory");
			goto done;
		}
		/* with --create-only the agents run it, each on its machine */
		if (!create_only && (rc = sweep_check_program(w.tmpl[0])) != 0)
			goto done;
		if (!w.project && cairn_sweep_spec_project(w.spec))
			w.project = strdup(cairn_sweep_spec_project(w.spec));
	}
	if ((rc = cli_store(&w.s)) != 0)
		goto done;
	cairn_status status = CAIRN_STATUS_FINISHED;
	if (resume) {
		if ((rc = sweep_read_state(&w, resume, &status)) != 0)
			goto done;
		if (status == CAIRN_STATUS_RUNNING) {
			rc = cli_fail("sweep '%s' is still running (stop it first, or wait for it)",
			              w.sweep_name);
			goto done;
		}
	}
	w.maximize = cairn_sweep_spec_goal(w.spec) == CAIRN_SWEEP_MAXIMIZE;
	w.budget = cairn_sweep_spec_trials(w.spec);
	if (!jobs)
		jobs = cairn_sweep_spec_parallel(w.spec);
	if (w.config_out && jobs > 1 && !strstr(w.config_out, "{trial}")) {
		rc = cli_usage_error("sweep",
		                     "with -j %lld, --config-out needs {trial} in its name so "
		                     "trials do not share one file",
		                     jobs);
		goto done;
	}
	char self[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl <= 0) {
		rc = cli_fail("cannot find the cairn binary: %s", strerror(errno));
		goto done;
	}
	self[sl] = '\0';
	w.self_exe = strdup(self);
	w.store_abs = cli_store_location(w.s);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	snprintf(w.owner, sizeof w.owner, "%s:%d", host, (int)getpid());
	if (cairn_sweep_spec_early_stop(w.spec) && cairn_pruner_new(&w.pruner, w.spec) != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}

	w.creator = true;
	w.again = "resume with 'cairn sweep --resume";

	/* Signals before any thread (the monitor) exists. */
	mask_set = true;
	if ((rc = sweep_signals_begin(&sfd, &old_mask)) != 0)
		goto done;

	if (resume) {
		if (cairn_run_open(&run, w.s, w.sweep_id) != 0 ||
		    cairn_sweep_reopen(w.s, w.sweep_id) != 0) {
			rc = cli_fail_lib("cannot resume the sweep");
			goto done;
		}
		sweep_harvest(&w);
	} else {
		cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
		const char *tag = "sweep";
		char *cmdline = NULL;
		ro.project = w.project;
		ro.name = name ? name : cairn_sweep_spec_name(w.spec);
		ro.tags = &tag;
		ro.ntags = 1;
		if (cairn_command_line_masked(&cmdline, argc, (const char *const *)argv) == 0)
			ro.command = cmdline;
		cairn_error_clear();
		int e = cairn_run_create(&run, w.s, &ro);
		cairn_free(cmdline);
		if (e != 0) {
			rc = cli_fail_lib("cannot create the sweep");
			goto done;
		}
		snprintf(w.sweep_id, sizeof w.sweep_id, "%s", cairn_run_id(run));
		w.sweep_name = strdup(cairn_run_name(run));
		if (sweep_write_state(run, w.spec, w.tmpl, w.ntmpl, w.config_out, w.project) != 0 ||
		    cairn_run_set_property(
		        run, "sweep.method",
		        cairn_sweep_method_name(cairn_sweep_spec_method(w.spec))) ||
		    cairn_run_set_property(run, "sweep.metric", cairn_sweep_spec_metric(w.spec)) ||
		    cairn_run_set_property(run, "sweep.goal",
		                           w.maximize ? "maximize" : "minimize")) {
			rc = cli_fail_lib("cannot record the sweep");
			char id[CAIRN_RUN_ID_HEXSZ + 1];
			snprintf(id, sizeof id, "%s", cairn_run_id(run));
			cairn_run_free(run);
			run = NULL;
			cairn_run_delete(w.s, id, 1);
			goto done;
		}
		if (cairn_run_log_config_snapshot(run, file) != 0)
			sweep_warn("%s", cairn_error_last());
		if (create_only) {
			/* no trial runs here: the sweep waits, finished, for its
			 * agents (the first one reopens it) */
			rc = cairn_run_finish(run, CAIRN_STATUS_FINISHED, 0) != 0
			         ? cli_fail_lib(NULL)
			         : 0;
			if (rc == 0 && !w.quiet)
				printf(
				    "sweep %s (%.8s): %s, %lld trial%s, created: run 'cairn agent "
				    "%.8s' to work on it\n",
				    w.sweep_name, w.sweep_id,
				    cairn_sweep_method_name(cairn_sweep_spec_method(w.spec)),
				    (long long)w.budget, w.budget == 1 ? "" : "s", w.sweep_id);
			else if (rc == 0)
				printf("%s\n", w.sweep_id);
			goto done;
		}
	}
	sweep_counts before;
	sweep_tally(&w, &before);
	cairn_monitor_options mo = CAIRN_MONITOR_OPTIONS_INIT;
	mo.sample_interval = -1;
	if (cairn_monitor_start(&mon, run, &mo) != 0)
		sweep_warn("no heartbeat for the sweep: %s", cairn_error_last());
	if (!w.quiet) {
		printf("sweep %s (%.8s): %s, %lld trial%s, %s %s, %lld at once\n", w.sweep_name,
		       w.sweep_id, cairn_sweep_method_name(cairn_sweep_spec_method(w.spec)),
		       (long long)w.budget, w.budget == 1 ? "" : "s",
		       w.maximize ? "maximize" : "minimize", cairn_sweep_spec_metric(w.spec), jobs);
		fflush(stdout);
	}

	sweep_outcome out;
	if ((rc = sweep_drive(&w, (int)jobs, sfd, &old_mask, &out)) != 0)
		goto done;
	cairn_monitor_stop(mon);
	mon = NULL;
	rc = sweep_wrap_up(&w, run, &out);
done:
	cairn_monitor_stop(mon);
	if (mask_set)
		sweep_signals_end(sfd, &old_mask);
	cairn_run_free(run);
	cairn_pruner_free(w.pruner);
	cairn_sweep_spec_free(w.spec);
	if (w.tmpl)
		for (int i = 0; i < w.ntmpl; i++)
			free(w.tmpl[i]);
	free(w.tmpl);
	free(w.config_out);
	free(w.project);
	free(w.sweep_name);
	free(w.self_exe);
	free(w.store_abs);
	free(w.best_params);
	free(w.best_line);
	for (size_t i = 0; i < ngpus; i++)
		free(gpus[i]);
	free(gpus);
	cli_args_free(&a);
	return rc;
}
