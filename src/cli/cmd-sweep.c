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
 *   5. the budget is spent: print the best trial, record it on the sweep
 *      run (properties sweep.best_*), finish the sweep.
 *
 * Signals: INT, TERM and HUP go through a signalfd.  The first one stops
 * new trials and is forwarded to the running ones (unless the terminal
 * already sent it to the whole group); their trials go back to the queue,
 * the sweep ends killed, and `cairn sweep --resume ID` picks up: finished
 * trials are kept, interrupted ones run again, new ones fill the budget.
 *
 * A trial's life (steps 3 and 4) is in sweep-trial.c; sweep-run.h has the
 * state the two share.
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
    "   or: cairn sweep --resume SWEEP [-j N] [--gpus LIST]\n\n"
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
    "      --show-output      pass the trials' output through (default: stored only)\n"
    "  -q, --quiet            no line per trial, only the result\n\n"
    "Exit status: 0 when the sweep completed with at least one successful trial,\n"
    "1 when none succeeded, 130 when interrupted (resume it with --resume).\n";

/* --- setting up ------------------------------------------------------------------------ */

/* The command's program must exist before anything is stored (a template
 * in the program's name is checked when it runs). */
static int check_program(const char *name)
{
	if (strchr(name, '{'))
		return 0;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0
		           ? 0
		           : cli_fail("cannot run '%s': %s", name, strerror(errno));
	const char *path = getenv("PATH");
	char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
	bool found = false;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char *p = path_join(*d ? d : ".", name);
		struct stat st;
		found = p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found ? 0 : cli_fail("cannot run '%s': command not found", name);
}

/* sweep.json of a sweep run: {"spec": ..., "command": [...], "config_out": ...}. */
static int write_state(cairn_run *run, const cairn_sweep_spec *spec, char *const *tmpl, int n,
                       const char *config_out, const char *project)
{
	char *sj = NULL;
	if (cairn_sweep_spec_json(&sj, spec) != 0)
		return -1;
	buf b = BUF_INIT;
	buf_puts(&b, "{\"spec\":");
	buf_puts(&b, sj);
	buf_puts(&b, ",\"command\":[");
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		json_str(&b, tmpl[i]);
	}
	buf_puts(&b, "],\"config_out\":");
	if (config_out)
		json_str(&b, config_out);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"project\":");
	if (project)
		json_str(&b, project);
	else
		buf_puts(&b, "null");
	buf_puts(&b, "}\n");
	cairn_free(sj);
	int rc = buf_ok(&b) ? cairn_run_log_artifact_buf(run, b.ptr, b.len, "sweep.json",
	                                                 CAIRN_ARTIFACT_CONFIG)
	                    : CAIRN_ENOMEM;
	buf_free(&b);
	return rc;
}

/* Read sweep.json back from a sweep run (for --resume).  The file is this
 * command's own (write_state): the only JSON parsed here, apart from the
 * spec inside it, which the library reads. */
static int read_state(sweep *w, const char *id, cairn_status *status)
{
	char perr[128], oid[CAIRN_OID_HEXSZ + 1];
	void *data = NULL;
	size_t len = 0;
	int rc = EXIT_FAIL;
	int64_t size;
	char *media = NULL;
	json_doc *sd = NULL;
	cairn_run *r = NULL;
	if (cairn_run_open(&r, w->s, id) != 0 ||
	    cairn_sweep_run_objective(NULL, status, w->s, cairn_run_id(r), NULL) != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}
	snprintf(w->sweep_id, sizeof w->sweep_id, "%s", cairn_run_id(r));
	w->sweep_name = strdup(cairn_run_name(r));
	int e = cairn_artifact_lookup(oid, &size, &media, w->s, w->sweep_id, "sweep.json");
	if (e == CAIRN_ENOTFOUND) {
		rc = cli_fail("run '%s' is not a sweep (it has no sweep.json)", id);
		goto done;
	}
	if (e != 0 || cairn_object_read(&data, &len, w->s, oid, 4 << 20) != 0) {
		rc = cli_fail_lib("cannot read the sweep's state");
		goto done;
	}
	sd = json_parse(data, len, NULL, perr, sizeof perr);
	const json *sr = sd ? json_root(sd) : NULL, *spec = sr ? json_get(sr, "spec") : NULL,
	           *cmd = sr ? json_get(sr, "command") : NULL;
	/* cairn.sweep() in Python records "driver": "python" and no command:
	 * its objective is a function only that program has */
	const char *driver = sr ? json_get_str(sr, "driver") : NULL;
	if (driver && strcmp(driver, "python") == 0) {
		rc = cli_fail("sweep '%s' was started by cairn.sweep() in Python; resume it there: "
		              "cairn.resume_sweep('%.8s', objective_fn)",
		              id, w->sweep_id);
		goto done;
	}
	if (!spec || !cmd || cmd->type != JSON_ARR) {
		rc = cli_fail("the sweep's state (sweep.json) is damaged");
		goto done;
	}
	/* the spec is stored as JSON text inside the object: find its span */
	const char *st = strstr(data, "{\"spec\":");
	const char *cm = strstr(data, ",\"command\":[");
	if (!st || !cm || cm < st) {
		rc = cli_fail("the sweep's state (sweep.json) is damaged");
		goto done;
	}
	if (cairn_sweep_spec_parse(&w->spec, st + 8, (size_t)(cm - st - 8), "sweep.json") != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}
	w->ntmpl = (int)cmd->len;
	w->tmpl = calloc((size_t)w->ntmpl + 1, sizeof *w->tmpl);
	int k = 0;
	for (const json *c = cmd->child; c && w->tmpl; c = c->next)
		w->tmpl[k++] = strdup(c->str);
	const char *co = json_get_str(sr, "config_out"), *pj = json_get_str(sr, "project");
	w->config_out = co ? strdup(co) : NULL;
	w->project = pj ? strdup(pj) : NULL;
	rc = 0;
done:
	json_doc_free(sd);
	free(data);
	cairn_free(media);
	cairn_run_free(r);
	return rc;
}

/* On resume: trials left running by a driver that died.  A trial whose run
 * finished anyway (the driver was killed, the trial was not) is kept; the
 * others go back to the queue. */
static void harvest(sweep *w)
{
	cairn_trial_list *l = NULL;
	if (cairn_sweep_trials(&l, w->s, w->sweep_id) != 0)
		return;
	for (size_t i = 0; i < cairn_trial_list_count(l); i++) {
		const cairn_trial *t = cairn_trial_list_get(l, i);
		if (t->state != CAIRN_TRIAL_RUNNING) {
			if (t->state == CAIRN_TRIAL_DONE && w->pruner && t->run) {
				int64_t *steps;
				double *vals;
				size_t n;
				if (run_curve(w, t->run, &steps, &vals, &n) == 0)
					cairn_pruner_add(w->pruner, steps, vals, n);
				cairn_free(steps);
				cairn_free(vals);
			}
			continue;
		}
		char name[300], rid[CAIRN_RUN_ID_HEXSZ + 1];
		cairn_status status;
		snprintf(name, sizeof name, "%s-%lld", w->sweep_name, (long long)t->trial);
		double v;
		if (cairn_sweep_child_find(rid, w->s, w->sweep_id, name) == 0 &&
		    run_objective(w, rid, &v, &status) && status == CAIRN_STATUS_FINISHED &&
		    isfinite(v))
			cairn_sweep_trial_set(w->s, w->sweep_id, t->trial, CAIRN_TRIAL_DONE, rid,
			                      v);
	}
	cairn_trial_list_free(l);
	int64_t n = 0;
	cairn_sweep_trials_requeue(&n, w->s, w->sweep_id);
	if (n && !w->quiet)
		printf("re-queued %lld interrupted trial%s\n", (long long)n, n == 1 ? "" : "s");
}

/* The best done trial recorded so far (for the summary after --resume). */
static void load_best(sweep *w)
{
	cairn_trial_list *l = NULL;
	if (cairn_sweep_trials(&l, w->s, w->sweep_id) != 0)
		return;
	for (size_t i = 0; i < cairn_trial_list_count(l); i++) {
		const cairn_trial *t = cairn_trial_list_get(l, i);
		if (t->state != CAIRN_TRIAL_DONE || isnan(t->value))
			continue;
		w->ndone++;
		if (w->have_best && !better(w, t->value, w->best))
			continue;
		set_best(w, (long long)t->trial, t->value, t->params, t->run);
	}
	cairn_trial_list_free(l);
}

static int parse_gpus(const char *list, char ***out, size_t *n)
{
	char *copy = strdup(list), *save = NULL;
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	*out = calloc(cap, sizeof **out);
	*n = 0;
	if (!copy || !*out) {
		free(copy);
		return -1;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!*t || strspn(t, "0123456789") != strlen(t) || strlen(t) > 4) {
			free(copy);
			return -1;
		}
		(*out)[(*n)++] = strdup(t);
	}
	free(copy);
	return *n ? 0 : -1;
}

/* --- the command ------------------------------------------------------------------------ */

static void record_best(sweep *w, cairn_run *run)
{
	if (!w->have_best)
		return;
	char v[40];
	snprintf(v, sizeof v, "%.17g", w->best);
	char t[32];
	snprintf(t, sizeof t, "%lld", w->best_trial);
	cairn_run_set_property(run, "sweep.best_value", v);
	cairn_run_set_property(run, "sweep.best_trial", t);
	if (w->best_run[0])
		cairn_run_set_property(run, "sweep.best_run", w->best_run);
	if (w->best_params)
		cairn_run_set_property(run, "sweep.best_params", w->best_params);
}

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
	slot *slots = NULL;
	int sfd = -1, o, rc = 0, stop_sig = 0;
	bool mask_set = false;
	sigset_t mask, old_mask;

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
	if (gpus_opt && parse_gpus(gpus_opt, &gpus, &ngpus) != 0) {
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
		if ((rc = check_program(w.tmpl[0])) != 0)
			goto done;
		if (!w.project && cairn_sweep_spec_project(w.spec))
			w.project = strdup(cairn_sweep_spec_project(w.spec));
	}
	if ((rc = cli_store(&w.s)) != 0)
		goto done;
	cairn_status status = CAIRN_STATUS_FINISHED;
	if (resume) {
		if ((rc = read_state(&w, resume, &status)) != 0)
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

	/* Signals before any thread (the monitor) exists. */
	sigemptyset(&mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&mask, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &mask, &old_mask);
	mask_set = true;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		rc = cli_fail("cannot watch signals: %s", strerror(errno));
		goto done;
	}

	if (resume) {
		if (cairn_run_open(&run, w.s, w.sweep_id) != 0 ||
		    cairn_sweep_reopen(w.s, w.sweep_id) != 0) {
			rc = cli_fail_lib("cannot resume the sweep");
			goto done;
		}
		harvest(&w);
		load_best(&w);
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
		if (write_state(run, w.spec, w.tmpl, w.ntmpl, w.config_out, w.project) != 0 ||
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
	}
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

	slots = calloc((size_t)jobs, sizeof *slots);
	if (!slots) {
		rc = cli_fail("out of memory");
		goto done;
	}
	bool exhausted = false, stopping = false, broken = false;
	int running = 0;
	for (;;) {
		while (!stopping && !exhausted && !broken && running < jobs) {
			int64_t trial;
			cairn_params *params = NULL;
			int e = cairn_sweep_trial_claim_params(&trial, &params, w.s, w.sweep_id,
			                                       w.budget, w.owner, suggest_cb, &w);
			if (e == CAIRN_ENOTFOUND) {
				exhausted = true;
				break;
			}
			if (e != 0) {
				sweep_warn("cannot hand out the next trial: %s",
				           cairn_error_last());
				broken = true;
				break;
			}
			int k = 0;
			while (slots[k].pid)
				k++;
			slots[k].gpu = w.ngpus ? w.gpus[k % w.ngpus] : NULL;
			const char *gpu = slots[k].gpu;
			if (start_trial(&w, &slots[k], (long long)trial, params, &old_mask) != 0) {
				cairn_params_free(params);
				memset(&slots[k], 0, sizeof slots[k]);
				cairn_sweep_trial_set(w.s, w.sweep_id, trial, CAIRN_TRIAL_QUEUED,
				                      NULL, NAN);
				broken = true;
				break;
			}
			slots[k].gpu = gpu;
			running++;
		}
		if (running == 0)
			break;
		struct pollfd pf = {sfd, POLLIN, 0};
		int pr = poll(&pf, 1, w.pruner ? 200 : -1);
		if (pr < 0 && errno != EINTR) {
			sweep_warn("poll: %s", strerror(errno));
			break;
		}
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
			int sig = (int)si.ssi_signo;
			if (sig == SIGCHLD)
				continue;
			if (!stopping && !w.quiet)
				printf("stopping: %d trial%s running (resume with 'cairn sweep "
				       "--resume "
				       "%.8s')\n",
				       running, running == 1 ? "" : "s", w.sweep_id);
			stopping = true;
			stop_sig = stop_sig ? stop_sig : sig;
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
					trial_ended(&w, &slots[k], ws, stopping);
					slots[k].gpu = gpu;
					running--;
				}
		}
		if (w.pruner && !stopping)
			for (int k = 0; k < jobs; k++)
				if (slots[k].pid)
					check_prune(&w, &slots[k]);
	}

	record_best(&w, run);
	cairn_monitor_stop(mon);
	mon = NULL;
	if (stopping || broken) {
		cairn_run_finish(run, CAIRN_STATUS_KILLED, stop_sig ? 128 + stop_sig : 1);
		rc = stop_sig ? 128 + stop_sig : EXIT_FAIL;
	} else {
		cairn_run_finish(run, w.ndone ? CAIRN_STATUS_FINISHED : CAIRN_STATUS_FAILED,
		                 w.ndone ? 0 : 1);
		rc = w.ndone ? 0 : EXIT_FAIL;
	}
	if (w.have_best) {
		char bv[40];
		cli_fmt_num(bv, sizeof bv, w.best);
		printf("best: trial %lld %s=%s  %s  (run %.8s)\n", w.best_trial,
		       cairn_sweep_spec_metric(w.spec), bv, w.best_line ? w.best_line : "",
		       w.best_run);
	}
	if (!stopping && !broken && !w.ndone)
		fprintf(stderr,
		        "error: no trial of sweep %s succeeded (see cairn ls 'parent = %.8s')\n",
		        w.sweep_name, w.sweep_id);
	if (stopping && !w.quiet)
		printf("interrupted: resume with 'cairn sweep --resume %.8s'\n", w.sweep_id);
done:
	cairn_monitor_stop(mon);
	if (slots) {
		for (int k = 0; k < jobs; k++)
			cairn_params_free(slots[k].params);
		free(slots);
	}
	if (sfd >= 0)
		close(sfd);
	if (mask_set)
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
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
