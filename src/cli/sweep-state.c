/*
 * cli/sweep-state.c — what `cairn sweep` (cmd-sweep.c) and `cairn agent`
 * (cmd-agent.c) read and write of a sweep besides its trials: the checks
 * before anything is stored (the program, --gpus), the sweep's state
 * artifact sweep.json (written when the sweep is created, read back by
 * --resume and by every agent, so a sweep file edited since changes
 * nothing), the re-queue of a resumed sweep, and the sweep's tally and
 * best trial as the store has them (every driver's trials, not only this
 * process's).  One thread owns the sweep.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sweep-run.h"
#include "util/fs.h"
#include "util/json.h"

/* --- checks before anything is stored ------------------------------------------------ */

/* The command's program must exist before anything is stored (a template
 * in the program's name is checked when it runs). */
int sweep_check_program(const char *name)
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
int sweep_parse_gpus(const char *list, char ***out, size_t *n)
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

/* --- the state artifact, sweep.json -------------------------------------------------- */

/* sweep.json of a sweep run: {"spec": ..., "command": [...], "config_out": ...}. */
int sweep_write_state(cairn_run *run, const cairn_sweep_spec *spec, char *const *tmpl, int n,
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
int sweep_read_state(sweep *w, const char *id, cairn_status *status)
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
		rc = cli_fail_lib("cannot open the sweep");
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

/* The objective curves of the done trials, for the median rule of a
 * driver that did not see them end (--resume, an agent). */
void sweep_pruner_load(sweep *w)
{
	cairn_trial_list *l = NULL;
	if (!w->pruner || cairn_sweep_trials(&l, w->s, w->sweep_id) != 0)
		return;
	for (size_t i = 0; i < cairn_trial_list_count(l); i++) {
		const cairn_trial *t = cairn_trial_list_get(l, i);
		int64_t *steps;
		double *vals;
		size_t n;
		if (t->state != CAIRN_TRIAL_DONE || !t->run)
			continue;
		if (run_curve(w, t->run, &steps, &vals, &n) == 0)
			cairn_pruner_add(w->pruner, steps, vals, n);
		cairn_free(steps);
		cairn_free(vals);
	}
	cairn_trial_list_free(l);
}

/* On resume: trials left running by a driver that died.  A trial whose run
 * finished anyway (the driver was killed, the trial was not) is kept; the
 * others go back to the queue.  (A resume is refused while the sweep is
 * running, and every driver at work — the creator, each agent — keeps its
 * heartbeat, so no live driver's trial is taken from it here.) */
void sweep_harvest(sweep *w)
{
	cairn_trial_list *l = NULL;
	if (cairn_sweep_trials(&l, w->s, w->sweep_id) != 0)
		return;
	for (size_t i = 0; i < cairn_trial_list_count(l); i++) {
		const cairn_trial *t = cairn_trial_list_get(l, i);
		if (t->state != CAIRN_TRIAL_RUNNING)
			continue;
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
	sweep_pruner_load(w);
}

int sweep_tally(sweep *w, sweep_counts *c)
{
	cairn_trial_list *l = NULL;
	memset(c, 0, sizeof *c);
	if (cairn_sweep_trials(&l, w->s, w->sweep_id) != 0)
		return -1;
	w->have_best = false;
	for (size_t i = 0; i < cairn_trial_list_count(l); i++) {
		const cairn_trial *t = cairn_trial_list_get(l, i);
		c->queued += t->state == CAIRN_TRIAL_QUEUED;
		c->running += t->state == CAIRN_TRIAL_RUNNING;
		if (t->state != CAIRN_TRIAL_DONE || isnan(t->value))
			continue;
		c->done++;
		if (w->have_best && !better(w, t->value, w->best))
			continue;
		set_best(w, (long long)t->trial, t->value, t->params, t->run);
	}
	cairn_trial_list_free(l);
	return 0;
}

/* The sweep's best trial on its run (properties sweep.best_*). */
void sweep_record_best(sweep *w, cairn_run *run)
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
