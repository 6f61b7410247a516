/*
 * cli/cmd-import.c — `cairn import mlflow PATH`: an MLflow file store
 * (mlruns/) copied into the store, each run as it would be had it been
 * logged through cairn's MLflow API (server/mlflow-*.c, docs/mlflow.md):
 * an experiment is a project, MLflow's system tags are the cairn fields
 * they name, params are typed as that API types them, and MLflow's own ids
 * are kept as the properties mlflow.run_id and mlflow.experiment_id.
 *
 * Two passes (docs/internals/import.md):
 *   1. check: every experiment and run is read (mlflow-read.c, points
 *      counted, not kept) and compared with the store, so a bad file
 *      anywhere is reported before anything is written, with the file and
 *      line, and the store is left as it was;
 *   2. write: each run that has something new is read again, with its
 *      points, and written.
 *
 * Idempotence: a run whose mlflow.run_id is already in the store is
 * extended with what it lacks: params not yet there (another value for a
 * param already there is an error: MLflow's params are write-once), tags
 * whose value changed, metric points past the ones already imported (an
 * MLflow metric file only grows, so the first N lines are the N points
 * imported), artifacts at paths not yet there, and its name, status, end
 * time and deleted state when they changed.  A run with nothing new is not
 * touched, so importing the same tree twice changes nothing.
 *
 * A run is written with the library's calls (metric points through the
 * buffered writer's batches, params in one transaction), not in a single
 * transaction: a new run that fails part way is purged, so it is either
 * whole or absent; an extension that fails part way is completed by the
 * next import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/mlflow-read.h"
#include "server/mlflow.h"
#include "util/fs.h"

static const char usage[] =
    "usage: cairn import mlflow PATH [--project NAME] [--dry-run] [--progress] [-q]\n\n"
    "Import an MLflow file store (the mlruns/ directory PATH): each experiment\n"
    "becomes a project of its name (Default: the project default), each run a\n"
    "run with its params, tags, every metric point, status, times and artifacts;\n"
    "MLflow's ids are kept as the properties mlflow.run_id and\n"
    "mlflow.experiment_id.  Importing again adds only what is new.  The whole\n"
    "tree is checked before anything is written: a bad file is an error naming\n"
    "it, and the store is left as it was.\n\n"
    "options:\n"
    "  -p, --project NAME  put every run into the project NAME\n"
    "  -n, --dry-run       check the tree and say what would be imported\n"
    "      --progress      show the progress line even when stderr is not a terminal\n"
    "  -q, --quiet         print nothing but errors\n";

typedef struct bar {
	bool on, shown;
	struct timespec last;
} bar;

typedef struct idmap {
	char *ml;
	char id[CAIRN_RUN_ID_HEXSZ + 1];
} idmap;

typedef struct counts {
	int64_t added, extended, same, deleted_skipped;
	int64_t params, tags, points, arts, projects;
} counts;

typedef struct imp {
	cairn_store *s;
	const char *project; /* --project, or NULL */
	bool no_projects;    /* the store cannot list its projects */
	mlr_store ml;
	idmap *map;
	size_t nmap;
	counts c;
	int64_t todo, done; /* runs to write (pass 2) */
	bar b;
	char err[MLR_ERR];
} imp;

/* What one run needs written. */
typedef struct plan {
	const char *id; /* the cairn run, NULL: a new one */
	bool *param_add, *tag_set, *art_add;
	size_t *metric_from;
	bool name, user, end, reopen, delete, restore;
	int64_t nparams, ntags, npoints, narts;
	bool any;
} plan;

static void plan_free(plan *p)
{
	free(p->param_add);
	free(p->tag_set);
	free(p->art_add);
	free(p->metric_from);
	memset(p, 0, sizeof *p);
}

/* --- mapping ------------------------------------------------------------------------------ */

static cairn_status status_of(int ml)
{
	switch (ml) {
	case MLR_FINISHED: return CAIRN_STATUS_FINISHED;
	case MLR_FAILED: return CAIRN_STATUS_FAILED;
	case MLR_KILLED: return CAIRN_STATUS_KILLED;
	default: return CAIRN_STATUS_RUNNING; /* RUNNING, SCHEDULED */
	}
}

/* The project an experiment's runs go into. */
static const char *project_of(const imp *im, const mlr_exp *e)
{
	if (im->project)
		return im->project;
	if (strcmp(e->id, "0") == 0 && strcmp(e->name, "Default") == 0)
		return "default";
	return e->name;
}

/* The cairn field an MLflow system tag is (docs/mlflow.md), or NULL for a
 * key/value tag.  "name", "note", or an attribute of cairn_run_set_attribute. */
static const char *system_tag(const char *key)
{
	static const char *const map[][2] = {
	    {"mlflow.runName", "name"},
	    {"mlflow.note.content", "note"},
	    {"mlflow.user", "user"},
	    {"mlflow.source.git.commit", "commit"},
	    {"mlflow.source.git.branch", "branch"},
	    {"mlflow.source.git.repoURL", "remote"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(key, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* A param typed as MLflow's log-parameter types it: a number or bool when
 * cairn writes that type back as the very text, else the string. */
static void param_value(cairn_value *v, const char *text)
{
	cairn_value_parse(v, text);
	if (v->type != CAIRN_TYPE_STRING) {
		char back[64];
		mlf_param_text(v, back, sizeof back);
		if (strcmp(back, text) != 0) {
			memset(v, 0, sizeof *v);
			v->type = CAIRN_TYPE_STRING;
			v->s = text;
		}
	}
}

static bool same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The value a record holds for a system tag's field. */
static const char *record_field(const cairn_run_record *rec, const char *field)
{
	const cairn_run_code *code = cairn_run_record_code(rec);
	if (strcmp(field, "name") == 0)
		return cairn_run_record_name(rec);
	if (strcmp(field, "note") == 0)
		return cairn_run_record_note(rec);
	if (strcmp(field, "user") == 0)
		return cairn_run_record_user(rec);
	if (!code)
		return NULL;
	if (strcmp(field, "commit") == 0)
		return code->commit;
	if (strcmp(field, "branch") == 0)
		return code->branch;
	return code->remote;
}

/* The value of a key/value tag of rec; *has false when it has none. */
static const char *record_tag(const cairn_run_record *rec, const char *key, bool *has)
{
	size_t n = cairn_run_record_tag_count(rec);
	for (size_t i = 0; i < n; i++)
		if (strcmp(cairn_run_record_tag(rec, i), key) == 0) {
			*has = true;
			return cairn_run_record_tag_value(rec, i);
		}
	*has = false;
	return NULL;
}

/* --- the runs already imported ----------------------------------------------------------- */

static int cmp_map(const void *a, const void *b)
{
	return strcmp(((const idmap *)a)->ml, ((const idmap *)b)->ml);
}

static int map_load(imp *im)
{
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	qo.query = "properties.`mlflow.run_id` is not null";
	qo.include_deleted = 1;
	cairn_run_iter *it;
	if (cairn_query_iter_new(&it, im->s, &qo) != 0)
		return cli_fail_lib("cannot list the runs imported before");
	size_t cap = 0;
	int rc = 0;
	cairn_run_record *rec;
	while ((rc = cairn_run_iter_next(&rec, it)) == 0) {
		const char *ml = cairn_run_record_property_get(rec, "mlflow.run_id");
		if (ml) {
			if (im->nmap == cap) {
				cap = cap ? cap * 2 : 64;
				idmap *t = realloc(im->map, cap * sizeof *t);
				if (!t) {
					cairn_run_record_free(rec);
					rc = CAIRN_ENOMEM;
					break;
				}
				im->map = t;
			}
			idmap *m = &im->map[im->nmap];
			if (!(m->ml = strdup(ml))) {
				cairn_run_record_free(rec);
				rc = CAIRN_ENOMEM;
				break;
			}
			snprintf(m->id, sizeof m->id, "%s", cairn_run_record_id(rec));
			im->nmap++;
		}
		cairn_run_record_free(rec);
	}
	cairn_run_iter_free(it);
	if (rc != CAIRN_ITEROVER)
		return rc == CAIRN_ENOMEM ? cli_fail("out of memory")
		                          : cli_fail_lib("cannot list the runs imported before");
	if (im->nmap > 1)
		qsort(im->map, im->nmap, sizeof *im->map, cmp_map);
	return 0;
}

static const char *map_find(const imp *im, const char *ml)
{
	if (im->nmap == 0)
		return NULL;
	idmap key = {.ml = (char *)ml};
	const idmap *m = bsearch(&key, im->map, im->nmap, sizeof *im->map, cmp_map);
	return m ? m->id : NULL;
}

/* --- planning: what a run needs --------------------------------------------------------- */

/* Checks that need no store (cairn's rules on what MLflow allows). */
static int run_check(imp *im, const mlr_run *r)
{
	for (size_t i = 0; i < r->ntags; i++) {
		const char *k = r->tags[i].key;
		if (!system_tag(k) && cairn_tag_validate(k) != 0)
			return cli_fail("%s/tags/%s: %s", r->dir, k, cairn_error_last());
	}
	for (size_t i = 0; i < r->nparams; i++)
		if (strlen(r->params[i].value) > MLF_PARAM_VAL_MAX)
			return cli_fail("%s/params/%s: value longer than %d bytes (MLflow's limit)",
			                r->dir, r->params[i].key, MLF_PARAM_VAL_MAX);
	(void)im;
	return 0;
}

static int plan_run(imp *im, const mlr_run *r, plan *p)
{
	memset(p, 0, sizeof *p);
	if (run_check(im, r) != 0)
		return EXIT_FAIL;
	p->param_add = calloc(r->nparams + 1, sizeof *p->param_add);
	p->tag_set = calloc(r->ntags + 1, sizeof *p->tag_set);
	p->art_add = calloc(r->narts + 1, sizeof *p->art_add);
	p->metric_from = calloc(r->nmetrics + 1, sizeof *p->metric_from);
	if (!p->param_add || !p->tag_set || !p->art_add || !p->metric_from)
		return cli_fail("out of memory");
	p->id = map_find(im, r->run_id);
	if (!p->id) {
		/* everything */
		for (size_t i = 0; i < r->nparams; i++)
			p->param_add[i] = true;
		for (size_t i = 0; i < r->ntags; i++) {
			const char *f = system_tag(r->tags[i].key);
			p->tag_set[i] = !f || (strcmp(f, "name") != 0 && strcmp(f, "user") != 0);
			p->ntags += p->tag_set[i];
		}
		for (size_t i = 0; i < r->narts; i++)
			p->art_add[i] = true;
		p->nparams = (int64_t)r->nparams;
		p->npoints = (int64_t)r->npoints;
		p->narts = (int64_t)r->narts;
		p->end = r->status != MLR_RUNNING && r->status != MLR_SCHEDULED;
		p->delete = r->deleted;
		p->any = true;
		return 0;
	}
	cairn_run_record *rec;
	if (cairn_run_record_get(&rec, im->s, p->id,
	                         CAIRN_RECORD_ARTIFACTS | CAIRN_RECORD_DELETED) != 0)
		return cli_fail_lib("cannot read the run imported before");
	int rc = 0;
	for (size_t i = 0; i < r->nparams && rc == 0; i++) {
		cairn_value v;
		if (cairn_run_record_param_get(&v, rec, r->params[i].key) != 0) {
			p->param_add[i] = true;
			p->nparams++;
			continue;
		}
		char text[128];
		mlf_param_text(&v, text, sizeof text);
		const char *old = v.type == CAIRN_TYPE_STRING ? v.s : text;
		if (strcmp(old, r->params[i].value) != 0)
			rc =
			    cli_fail("%s/params/%s: the run imported before (%.12s) has the value "
			             "'%.200s', this one '%.200s' (MLflow's params are write-once)",
			             r->dir, r->params[i].key, p->id, old, r->params[i].value);
	}
	for (size_t i = 0; i < r->ntags && rc == 0; i++) {
		const char *k = r->tags[i].key, *v = r->tags[i].value, *f = system_tag(k);
		bool has = true;
		const char *old = f ? record_field(rec, f) : record_tag(rec, k, &has);
		if (f && strcmp(f, "name") == 0)
			continue; /* the run's name: r->name, below */
		if (f && strcmp(f, "user") == 0)
			continue;
		p->tag_set[i] = !has || !same_text(old, v);
		p->ntags += p->tag_set[i];
	}
	p->name = r->name && !same_text(r->name, cairn_run_record_name(rec));
	p->user = r->user && !same_text(r->user, cairn_run_record_user(rec));
	for (size_t i = 0; i < r->nmetrics; i++) {
		const cairn_metric_summary *m = cairn_run_record_metric_get(rec, r->metrics[i].key);
		size_t have = m ? (size_t)m->count : 0;
		p->metric_from[i] = have < r->metrics[i].n ? have : r->metrics[i].n;
		p->npoints += (int64_t)(r->metrics[i].n - p->metric_from[i]);
	}
	size_t na = cairn_run_record_artifact_count(rec);
	for (size_t i = 0; i < r->narts; i++) {
		bool have = false;
		for (size_t j = 0; j < na && !have; j++)
			have =
			    strcmp(cairn_run_record_artifact(rec, j)->path, r->arts[i].path) == 0;
		p->art_add[i] = !have;
		p->narts += !have;
	}
	cairn_status st = cairn_run_record_status(rec);
	bool ml_ended = r->status != MLR_RUNNING && r->status != MLR_SCHEDULED;
	bool ended = st != CAIRN_STATUS_RUNNING && st != CAIRN_STATUS_CRASHED;
	double end = cairn_run_record_end_time(rec);
	double want = (double)(r->end ? r->end : r->start) / 1000.0;
	if (ml_ended)
		p->end = !ended || st != status_of(r->status) ||
		         (want > 0 && (end - want > 0.0005 || want - end > 0.0005));
	else
		p->reopen = ended;
	bool deleted = cairn_run_record_deleted(rec) != 0;
	p->any = p->nparams || p->ntags || p->npoints || p->narts || p->name || p->user || p->end ||
	         p->reopen || deleted != r->deleted;
	/* writes go to a live run: a deleted one is restored for them, then
	 * deleted again when MLflow's is */
	p->restore = deleted && p->any;
	p->delete = r->deleted && (p->restore || !deleted);
	cairn_run_record_free(rec);
	return rc;
}

/* --- writing --------------------------------------------------------------------------------- */

static void progress(imp *im)
{
	bar *b = &im->b;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double dt = (double)(now.tv_sec - b->last.tv_sec) + (now.tv_nsec - b->last.tv_nsec) / 1e9;
	if (!b->on || (dt < 0.2 && im->done < im->todo))
		return;
	b->last = now;
	int w = 30, fill = im->todo > 0 ? (int)(w * im->done / im->todo) : w;
	fprintf(stderr, "\r\033[K  runs [%.*s%*s] %lld/%lld  %lld points, %lld artifacts", fill,
	        "##############################", w - fill, "", (long long)im->done,
	        (long long)im->todo, (long long)im->c.points, (long long)im->c.arts);
	fflush(stderr);
	b->shown = true;
}

static int write_tags(cairn_run *run, const mlr_run *r, const plan *p)
{
	int rc = 0;
	for (size_t i = 0; i < r->ntags && rc == 0; i++) {
		if (!p->tag_set[i])
			continue;
		const char *k = r->tags[i].key, *v = r->tags[i].value, *f = system_tag(k);
		if (!f)
			rc = cairn_run_set_tag_value(run, k, v);
		else if (strcmp(f, "note") == 0)
			rc = cairn_run_set_note(run, v);
		else
			rc = cairn_run_set_attribute(run, f, v);
	}
	return rc;
}

static int write_params(cairn_run *run, const mlr_run *r, const plan *p)
{
	if (!p->nparams)
		return 0;
	const char **keys = calloc((size_t)p->nparams, sizeof *keys);
	cairn_value *vals = calloc((size_t)p->nparams, sizeof *vals);
	int rc = CAIRN_ENOMEM;
	if (keys && vals) {
		size_t m = 0;
		for (size_t i = 0; i < r->nparams; i++)
			if (p->param_add[i]) {
				keys[m] = r->params[i].key;
				param_value(&vals[m++], r->params[i].value);
			}
		rc = cairn_run_log_params(run, keys, vals, m);
	}
	free(keys);
	free(vals);
	return rc;
}

static int write_metrics(cairn_run *run, const mlr_run *r, const plan *p)
{
	int rc = 0;
	for (size_t i = 0; i < r->nmetrics && rc == 0; i++) {
		const mlr_metric *m = &r->metrics[i];
		for (size_t j = p->metric_from[i]; j < m->n && rc == 0; j++)
			rc = cairn_run_log_metric(run, m->key, m->pts[j].value, m->pts[j].step,
			                          (double)m->pts[j].ts / 1000.0);
	}
	if (rc == 0 && p->npoints)
		rc = cairn_run_flush(run);
	return rc;
}

static int write_run(imp *im, const mlr_exp *e, const mlr_run *r, const plan *p)
{
	cairn_run *run = NULL;
	char id[CAIRN_RUN_ID_HEXSZ + 1] = "";
	int rc;
	if (!p->id) {
		cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
		ro.project = project_of(im, e);
		ro.name = r->name;
		ro.cwd = "";
		ro.user = r->user;
		ro.start_time = (double)r->start / 1000.0;
		rc = cairn_run_create(&run, im->s, &ro);
		if (rc == 0) {
			snprintf(id, sizeof id, "%s", cairn_run_id(run));
			/* first, so a run cut short is found (and completed) next time */
			rc = cairn_run_set_property(run, "mlflow.run_id", r->run_id);
		}
		if (rc == 0)
			rc = cairn_run_set_property(run, "mlflow.experiment_id", r->exp_id);
	} else {
		snprintf(id, sizeof id, "%s", p->id);
		rc = p->restore ? cairn_run_restore(im->s, id) : 0;
		if (rc == 0)
			rc = cairn_run_open(&run, im->s, id);
		if (rc == 0 && p->name)
			rc = cairn_run_set_name(run, r->name);
		if (rc == 0 && p->user)
			rc = cairn_run_set_attribute(run, "user", r->user);
	}
	if (rc == 0)
		rc = write_params(run, r, p);
	if (rc == 0)
		rc = write_tags(run, r, p);
	if (rc == 0)
		rc = write_metrics(run, r, p);
	for (size_t i = 0; i < r->narts && rc == 0; i++)
		if (p->art_add[i])
			rc = cairn_run_log_artifact(run, r->arts[i].file, r->arts[i].path);
	if (rc == 0 && p->end)
		rc = cairn_run_end(run, status_of(r->status),
		                   (double)(r->end ? r->end : r->start) / 1000.0);
	if (rc == 0 && p->reopen)
		rc = cairn_run_end(run, CAIRN_STATUS_RUNNING, 0);
	cairn_run_free(run);
	if (rc == 0 && p->delete)
		rc = cairn_run_delete(im->s, id, 0);
	if (rc) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", cairn_error_last());
		if (!p->id && *id)
			cairn_run_delete(im->s, id, 1); /* whole or absent */
		return cli_fail("cannot import the run %s: %s", r->dir, msg);
	}
	im->c.params += p->nparams;
	im->c.tags += p->ntags;
	im->c.points += p->npoints;
	im->c.arts += p->narts;
	if (p->id)
		im->c.extended++;
	else
		im->c.added++;
	return 0;
}

/* An experiment's project (without --project): made when missing, its
 * tags set where they differ. */
static int write_project(imp *im, const mlr_exp *e, bool dry, bool *changed)
{
	*changed = false;
	if (im->project)
		return 0;
	const char *name = project_of(im, e);
	cairn_project *ps;
	size_t n;
	if (im->no_projects)
		return 0;
	if (cairn_projects_get_ext(&ps, &n, im->s, CAIRN_PROJECTS_NO_COUNTS) != 0) {
		/* a store that cannot list its projects (a server's, today): the
		 * runs still make theirs; only the experiments' tags are left */
		fprintf(stderr,
		        "warning: %s: experiment tags and experiments without runs are "
		        "not imported\n",
		        cairn_error_last());
		im->no_projects = true;
		return 0;
	}
	const cairn_project *p = NULL;
	for (size_t i = 0; i < n && !p; i++)
		if (strcmp(ps[i].name, name) == 0)
			p = &ps[i];
	int rc = 0;
	int64_t id = p ? p->id : 0;
	if (!p) {
		*changed = true;
		if (!dry && cairn_project_create(&id, im->s, name) != 0)
			rc = cli_fail_lib("cannot create the project");
	}
	for (size_t t = 0; t < e->ntags && rc == 0; t++) {
		const char *old = NULL;
		for (size_t k = 0; p && k < p->ntags && !old; k++)
			if (strcmp(p->tag_keys[k], e->tags[t].key) == 0)
				old = p->tag_values[k];
		if (old && strcmp(old, e->tags[t].value) == 0)
			continue;
		*changed = true;
		if (!dry && cairn_project_set_tag(im->s, id, e->tags[t].key, e->tags[t].value) != 0)
			rc = cli_fail("%s/tags/%s: %s", e->dir, e->tags[t].key, cairn_error_last());
	}
	cairn_projects_free(ps, n);
	return rc;
}

/* --- the two passes ---------------------------------------------------------------------- */

static int cmp_base(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	return strcmp(path_base(x), path_base(y));
}

/* A run directory is named by its run id (mlr_run_read checks it), so a
 * run id in two experiments is two directories of one name: refused, as
 * it would be imported once and then extended from the other. */
static int check_unique(const imp *im)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < im->ml.nexps; i++)
		n += im->ml.exps[i].nruns;
	if (n < 2)
		return 0;
	const char **all = malloc(n * sizeof *all);
	if (!all)
		return cli_fail("out of memory");
	for (size_t i = 0; i < im->ml.nexps; i++)
		for (size_t j = 0; j < im->ml.exps[i].nruns; j++)
			all[k++] = im->ml.exps[i].runs[j];
	qsort(all, n, sizeof *all, cmp_base);
	int rc = 0;
	for (size_t i = 1; i < n && rc == 0; i++)
		if (strcmp(path_base(all[i - 1]), path_base(all[i])) == 0)
			rc = cli_fail("%s: the run id is also %s's", all[i], all[i - 1]);
	free(all);
	return rc;
}

static int check_pass(imp *im)
{
	if (check_unique(im) != 0)
		return EXIT_FAIL;
	for (size_t i = 0; i < im->ml.nexps; i++) {
		const mlr_exp *e = &im->ml.exps[i];
		const char *proj = project_of(im, e);
		if (cairn_key_validate(proj, "project name") != 0)
			return cli_fail(
			    "%s/meta.yaml: the experiment's name cannot be a project's: %s (import "
			    "into another with --project NAME)",
			    e->dir, cairn_error_last());
		for (size_t t = 0; t < e->ntags; t++)
			if (cairn_key_validate(e->tags[t].key, "tag") != 0)
				return cli_fail("%s/tags/%s: %s", e->dir, e->tags[t].key,
				                cairn_error_last());
		for (size_t k = 0; k < e->nruns; k++) {
			mlr_run r;
			plan p;
			int rc = mlr_run_read(&r, e, e->runs[k], 0, im->err, sizeof im->err);
			if (rc != 0) {
				mlr_run_free(&r);
				return cli_fail("%s", im->err);
			}
			rc = plan_run(im, &r, &p);
			if (rc == 0) {
				if (p.any) {
					im->todo++;
					im->c.params += p.nparams;
					im->c.tags += p.ntags;
					im->c.points += p.npoints;
					im->c.arts += p.narts;
					if (p.id)
						im->c.extended++;
					else
						im->c.added++;
				} else
					im->c.same++;
			}
			plan_free(&p);
			mlr_run_free(&r);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int write_pass(imp *im)
{
	memset(&im->c, 0, sizeof im->c);
	progress(im);
	for (size_t i = 0; i < im->ml.nexps; i++) {
		const mlr_exp *e = &im->ml.exps[i];
		bool changed;
		if (write_project(im, e, false, &changed) != 0)
			return EXIT_FAIL;
		im->c.projects += changed;
		for (size_t k = 0; k < e->nruns; k++) {
			mlr_run r;
			plan p;
			int rc =
			    mlr_run_read(&r, e, e->runs[k], MLR_POINTS, im->err, sizeof im->err);
			if (rc != 0) {
				mlr_run_free(&r);
				return cli_fail("%s", im->err);
			}
			rc = plan_run(im, &r, &p);
			if (rc == 0 && p.any) {
				rc = write_run(im, e, &r, &p);
				im->done++;
				progress(im);
			} else if (rc == 0)
				im->c.same++;
			plan_free(&p);
			mlr_run_free(&r);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static void print_counts(const imp *im, bool dry)
{
	const counts *c = &im->c;
	printf("%s %s into %s\n", dry ? "would import" : "imported", im->ml.root,
	       cairn_store_path(im->s));
	printf("  %zu experiments: %lld runs %s, %lld %s, %lld unchanged\n", im->ml.nexps,
	       (long long)c->added, dry ? "to add" : "added", (long long)c->extended,
	       dry ? "to extend" : "extended", (long long)c->same);
	printf("  %lld params, %lld tags, %lld metric points, %lld artifacts\n",
	       (long long)c->params, (long long)c->tags, (long long)c->points, (long long)c->arts);
	if (c->projects)
		printf("  %lld projects %s (experiments without runs, experiment tags)\n",
		       (long long)c->projects, dry ? "to make or update" : "made or updated");
	if (im->ml.trashed)
		printf("  %zu deleted experiments in .trash/ left out\n", im->ml.trashed);
}

int cmd_import(int argc, char **argv)
{
	enum { O_HELP = 1, O_PROJECT, O_DRY, O_PROGRESS, O_QUIET };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP},   {"project", 'p', true, O_PROJECT},
	    {"dry-run", 'n', false, O_DRY}, {"progress", 0, false, O_PROGRESS},
	    {"quiet", 'q', false, O_QUIET}, {0}};
	cli_args a;
	imp im;
	memset(&im, 0, sizeof im);
	im.b.on = cli_isatty(stderr);
	bool quiet = false, dry = false;
	int o, rc = 0;
	cli_args_init(&a, "import", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_PROJECT: im.project = a.val; break;
		case O_DRY: dry = true; break;
		case O_PROGRESS: im.b.on = true; break;
		case O_QUIET: quiet = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 1) {
		rc =
		    cli_usage_error("import", "name what to import from: cairn import mlflow PATH");
		goto done;
	}
	if (strcmp(a.pos[0], "mlflow") != 0) {
		rc = cli_usage_error("import", "cannot import from '%s' (known: mlflow)", a.pos[0]);
		goto done;
	}
	if (a.npos != 2) {
		rc = cli_usage_error("import", a.npos < 2 ? "name the mlruns/ directory to import"
		                                          : "too many arguments");
		goto done;
	}
	if (im.project && cairn_key_validate(im.project, "project name") != 0) {
		rc = cli_usage_error("import", "%s", cairn_error_last());
		goto done;
	}
	if (quiet || dry)
		im.b.on = false;
	if (mlr_store_open(&im.ml, a.pos[1], im.err, sizeof im.err) != 0) {
		rc = cli_fail("%s", im.err);
		goto done;
	}
	if ((rc = cli_store(&im.s)) != 0 || (rc = map_load(&im)) != 0)
		goto done;
	int64_t projects = 0;
	for (size_t i = 0; i < im.ml.nexps; i++) {
		bool changed;
		if ((rc = write_project(&im, &im.ml.exps[i], true, &changed)) != 0)
			goto done;
		projects += changed;
	}
	if ((rc = check_pass(&im)) != 0)
		goto done;
	im.c.projects = projects;
	if (!dry)
		rc = write_pass(&im);
	if (im.b.shown)
		fputs(cli_isatty(stderr) ? "\r\033[K" : "\n", stderr);
	if (rc == 0 && !quiet)
		print_counts(&im, dry);
done:
	for (size_t i = 0; i < im.nmap; i++)
		free(im.map[i].ml);
	free(im.map);
	mlr_store_free(&im.ml);
	cli_args_free(&a);
	return rc;
}
