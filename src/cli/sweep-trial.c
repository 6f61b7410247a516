/*
 * cli/sweep-trial.c — one trial's life in `cairn sweep` (steps 3 and 4 of
 * the order of events in cmd-sweep.c): suggesting its params inside the
 * claim's transaction, starting its `cairn run` child, reading its
 * objective and curve back from its run, early stopping, and recording how
 * it ended.  One thread (cairn sweep's) owns the sweep and its slots.
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

extern char **environ;

void sweep_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* "lr=0.01 depth=3" from a trial's params, for the live lines. */
void params_line(buf *b, const cairn_params *params)
{
	for (size_t i = 0; i < cairn_params_count(params); i++) {
		cairn_value v;
		const char *key = cairn_params_get(&v, params, i);
		if (i)
			buf_putc(b, ' ');
		cli_safe_text(b, key, 0);
		buf_putc(b, '=');
		buf tb = BUF_INIT;
		sweep_value_text(&tb, &v);
		cli_safe_text(b, tb.ptr ? tb.ptr : "", 0);
		buf_free(&tb);
	}
}

void set_best(sweep *w, long long trial, double value, const cairn_params *params, const char *run)
{
	buf pj = BUF_INIT, pl = BUF_INIT;
	w->have_best = true;
	w->best = value;
	w->best_trial = trial;
	sweep_params_json(&pj, params);
	params_line(&pl, params);
	free(w->best_params);
	free(w->best_line);
	w->best_params = buf_detach(&pj);
	w->best_line = buf_detach(&pl);
	snprintf(w->best_run, sizeof w->best_run, "%s", run ? run : "");
}

bool better(const sweep *w, double a, double b)
{
	return w->maximize ? a > b : a < b;
}

/* --- reading a trial's run ----------------------------------------------------------- */

/* The last value of the objective in a run, and its status. */
bool run_objective(sweep *w, const char *run_id, double *value, cairn_status *status)
{
	*status = CAIRN_STATUS_RUNNING;
	if (cairn_sweep_run_objective(value, status, w->s, run_id,
	                              cairn_sweep_spec_metric(w->spec)) != 0) {
		*value = NAN;
		return false;
	}
	return true;
}

/* The objective's history: steps and values (free with cairn_free), n points. */
int run_curve(sweep *w, const char *run_id, int64_t **steps, double **values, size_t *n)
{
	return cairn_sweep_run_curve(steps, values, n, w->s, run_id,
	                             cairn_sweep_spec_metric(w->spec));
}

/* --- suggesting (inside the claim's transaction) ---------------------------------- */

int suggest_cb(void *ctx, int64_t trial, char **out)
{
	sweep *w = ctx;
	cairn_sampler *sm = NULL;
	int rc = cairn_sampler_new(&sm, w->spec);
	if (rc)
		return rc;
	/* TPE learns from the trials so far (the store lock is recursive) */
	if (cairn_sweep_spec_method(w->spec) == CAIRN_SWEEP_TPE &&
	    (rc = cairn_sampler_tell_trials(sm, w->s, w->sweep_id)) != 0)
		goto done;
	char *p = NULL;
	rc = cairn_sampler_suggest(&p, sm, trial);
	if (!rc) {
		/* the claim frees the params with free(): a copy of the library's */
		*out = strdup(p);
		cairn_free(p);
		if (!*out)
			rc = CAIRN_ENOMEM;
	}
done:
	cairn_sampler_free(sm);
	return rc;
}

/* --- starting a trial ---------------------------------------------------------------- */

static char *env_entry(const char *k, const char *v)
{
	size_t n = strlen(k) + strlen(v) + 2;
	char *e = malloc(n);
	if (e)
		snprintf(e, n, "%s=%s", k, v);
	return e;
}

int start_trial(sweep *w, slot *sl, long long trial, cairn_params *params, const sigset_t *old_mask)
{
	int rc = -1;
	char **cmd = NULL, **argv = NULL, **envp = NULL;
	char *cfg = NULL;
	size_t nenv = 0, nargv = 0;
	const char *gpu = sl->gpu;
	memset(sl, 0, sizeof *sl);
	sl->gpu = gpu;
	sl->trial = trial;
	sl->params = params;
	sl->best_seen = NAN;
	sl->last_step = INT64_MIN;
	snprintf(sl->name, sizeof sl->name, "%s-%lld", w->sweep_name, trial);
	if (w->config_out) {
		cfg = sweep_path_expand(w->config_out, trial);
		if (!cfg || sweep_config_write(cfg, params) != 0) {
			sweep_warn("trial %lld: cannot write '%s': %s", trial,
			           cfg ? cfg : w->config_out, strerror(errno));
			goto done;
		}
	}
	cmd = sweep_template_expand(w->tmpl, w->ntmpl, params, trial, cfg);
	size_t np = cairn_params_count(params);
	argv = calloc(12 + 2 * np + (size_t)w->ntmpl + 2, sizeof *argv);
	if (!cmd || !argv)
		goto done;
	size_t k = 0;
	argv[k++] = strdup(w->self_exe);
	argv[k++] = strdup("run");
	argv[k++] = strdup("-n");
	argv[k++] = strdup(sl->name);
	if (w->project) {
		argv[k++] = strdup("-p");
		argv[k++] = strdup(w->project);
	}
	for (size_t i = 0; i < np; i++) {
		cairn_value v;
		const char *key = cairn_params_get(&v, params, i);
		buf b = BUF_INIT;
		buf_puts(&b, key);
		buf_putc(&b, '=');
		sweep_value_text(&b, &v);
		argv[k++] = strdup("--param");
		argv[k++] = buf_detach(&b);
	}
	if (cfg) {
		argv[k++] = strdup("--config");
		argv[k++] = strdup(cfg);
	}
	argv[k++] = strdup("--");
	for (char **c = cmd; *c; c++)
		argv[k++] = strdup(*c);
	argv[k] = NULL;
	nargv = k;
	for (size_t i = 0; i < k; i++)
		if (!argv[i])
			goto done;
	/* the environment: ours, the sweep as parent, the store, the GPU */
	size_t ne = 0;
	for (char **e = environ; *e; e++)
		ne++;
	envp = calloc(ne + 6, sizeof *envp);
	if (!envp)
		goto done;
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "CAIRN_RUN_ID=", 13) == 0 || strncmp(*e, "CAIRN_DIR=", 10) == 0 ||
		    strncmp(*e, "CAIRN_SWEEP_", 12) == 0 ||
		    (w->ngpus && strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) == 0))
			continue;
		envp[nenv++] = strdup(*e);
	}
	char tn[32];
	snprintf(tn, sizeof tn, "%lld", trial);
	envp[nenv++] = env_entry("CAIRN_RUN_ID", w->sweep_id);
	envp[nenv++] = env_entry("CAIRN_DIR", w->store_abs);
	envp[nenv++] = env_entry("CAIRN_SWEEP_ID", w->sweep_id);
	envp[nenv++] = env_entry("CAIRN_SWEEP_TRIAL", tn);
	if (sl->gpu)
		envp[nenv++] = env_entry("CUDA_VISIBLE_DEVICES", sl->gpu);
	envp[nenv] = NULL;
	for (size_t i = 0; i < nenv; i++)
		if (!envp[i])
			goto done;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	if (!w->show_output) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	sigset_t def;
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&at, old_mask);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int e = posix_spawn(&sl->pid, w->self_exe, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e != 0) {
		sweep_warn("trial %lld: cannot start cairn run: %s", trial, strerror(e));
		sl->pid = 0;
		goto done;
	}
	sl->t0 = clock_mono();
	if (!w->quiet) {
		buf b = BUF_INIT;
		params_line(&b, params);
		printf("[%lld/%lld] start   %s\n", trial, (long long)w->budget, b.ptr);
		fflush(stdout);
		buf_free(&b);
	}
	rc = 0;
done:
	sweep_argv_free(cmd);
	if (argv) {
		for (size_t i = 0; i < nargv; i++)
			free(argv[i]);
		free(argv);
	}
	if (envp) {
		for (size_t i = 0; i < nenv; i++)
			free(envp[i]);
		free(envp);
	}
	free(cfg);
	return rc;
}

/* --- a trial ends ------------------------------------------------------------------------ */

void trial_ended(sweep *w, slot *sl, int wstatus, bool stopping)
{
	double elapsed = clock_mono() - sl->t0;
	if (!sl->run_id[0] && cairn_sweep_child_find(sl->run_id, w->s, w->sweep_id, sl->name) != 0)
		sl->run_id[0] = '\0';
	int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	double value = NAN;
	cairn_status status = CAIRN_STATUS_RUNNING;
	cairn_trial_state st;
	const char *word;
	bool has = sl->run_id[0] && run_objective(w, sl->run_id, &value, &status);
	if (sl->prune_sent && sl->run_id[0]) {
		cairn_run *r = NULL;
		if (cairn_run_open(&r, w->s, sl->run_id) == 0) {
			if (cairn_run_finish(r, CAIRN_STATUS_PRUNED, code) != 0)
				sweep_warn("trial %lld: cannot mark its run pruned: %s", sl->trial,
				           cairn_error_last());
			cairn_run_free(r);
		}
		st = CAIRN_TRIAL_PRUNED;
		value = sl->best_seen;
		word = "pruned";
		w->npruned++;
	} else if (stopping && (!has || status != CAIRN_STATUS_FINISHED)) {
		/* interrupted: back to the queue for --resume */
		if (cairn_sweep_trial_set(w->s, w->sweep_id, sl->trial, CAIRN_TRIAL_QUEUED, NULL,
		                          NAN))
			sweep_warn("trial %lld: %s", sl->trial, cairn_error_last());
		if (!w->quiet)
			printf("[%lld/%lld] stopped (re-queued)\n", sl->trial,
			       (long long)w->budget);
		goto done;
	} else if (code == 0 && has && isfinite(value)) {
		st = CAIRN_TRIAL_DONE;
		word = "done";
		w->ndone++;
	} else {
		st = CAIRN_TRIAL_FAILED;
		word = "failed";
		w->nfailed++;
	}
	if (cairn_sweep_trial_set(w->s, w->sweep_id, sl->trial, st,
	                          sl->run_id[0] ? sl->run_id : NULL,
	                          st == CAIRN_TRIAL_FAILED ? NAN : value) != 0)
		sweep_warn("trial %lld: cannot record it: %s", sl->trial, cairn_error_last());
	if (st == CAIRN_TRIAL_DONE && w->pruner) {
		int64_t *steps;
		double *vals;
		size_t n;
		if (run_curve(w, sl->run_id, &steps, &vals, &n) == 0)
			cairn_pruner_add(w->pruner, steps, vals, n);
		cairn_free(steps);
		cairn_free(vals);
	}
	if (st == CAIRN_TRIAL_DONE && (!w->have_best || better(w, value, w->best)))
		set_best(w, sl->trial, value, sl->params, sl->run_id);
	if (!w->quiet) {
		buf b = BUF_INIT;
		char v[40] = "", bv[40] = "";
		if (st != CAIRN_TRIAL_FAILED)
			cli_fmt_num(v, sizeof v, value);
		else if (!sl->run_id[0])
			snprintf(v, sizeof v, "(no run: cairn run exited %d)", code);
		else if (code)
			snprintf(v, sizeof v, "(exit %d)", code);
		else
			snprintf(v, sizeof v, "(not logged)");
		params_line(&b, sl->params);
		if (w->have_best)
			cli_fmt_num(bv, sizeof bv, w->best);
		printf("[%lld/%lld] %-7s %s=%s  %s  (%.1fs)", sl->trial, (long long)w->budget, word,
		       cairn_sweep_spec_metric(w->spec), v, b.ptr, elapsed);
		if (w->have_best)
			printf("  best %s (trial %lld)", bv, w->best_trial);
		putchar('\n');
		fflush(stdout);
		buf_free(&b);
	}
done:
	cairn_params_free(sl->params);
	sl->params = NULL;
	sl->pid = 0;
}

/* Early stopping: look at a running trial's objective so far. */
void check_prune(sweep *w, slot *sl)
{
	if (sl->prune_sent)
		return;
	if (!sl->run_id[0] &&
	    cairn_sweep_child_find(sl->run_id, w->s, w->sweep_id, sl->name) != 0) {
		sl->run_id[0] = '\0';
		return;
	}
	int64_t *steps;
	double *vals;
	size_t n;
	if (run_curve(w, sl->run_id, &steps, &vals, &n) == 0 && n > 0 &&
	    steps[n - 1] != sl->last_step) {
		sl->last_step = steps[n - 1];
		for (size_t i = 0; i < n; i++)
			if (!isnan(vals[i]) &&
			    (isnan(sl->best_seen) || better(w, vals[i], sl->best_seen)))
				sl->best_seen = vals[i];
		int stop = 0;
		if (cairn_pruner_check(&stop, w->pruner, steps, vals, n) == 0 && stop) {
			sl->prune_sent = true;
			kill(sl->pid, SIGTERM);
		}
	}
	cairn_free(steps);
	cairn_free(vals);
}
