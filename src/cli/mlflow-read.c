/*
 * cli/mlflow-read.c — an MLflow file store read into memory, checked and
 * bounded (the layout and the bounds: mlflow-read.h): meta.yaml, the
 * experiments and the runs here, the files below them in mlflow-files.c.
 *
 * What is read where:
 *   - meta.yaml through cairn_config_flatten (libyaml, the library's own
 *     bounds and its "FILE:LINE: …" messages for YAML that does not parse);
 *     the fields are then checked here (a status that is not one of
 *     MLflow's, a time that is not a count of milliseconds, a run id that
 *     is not MLflow's shape);
 *   - params/, tags/: one file a key, the content the value (at most
 *     MLR_VALUE_MAX bytes, no NUL byte);
 *   - metrics/: one file a key, read line by line through a fixed buffer
 *     of MLR_LINE_MAX bytes, so a file of any size costs one line of memory
 *     beyond the points kept;
 *   - artifacts: every regular file under the artifact root.  Symbolic
 *     links are not followed (an artifact tree that links out of itself is
 *     not copied from elsewhere) and are left out.
 *
 * Directories are listed in name order, so the same tree reads the same
 * way every time.  No global state; one caller per object.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn.h"
#include "cli/mlflow-read.h"
#include "util/buf.h"
#include "util/fs.h"

/* --- meta.yaml ------------------------------------------------------------------------------ */

typedef struct meta {
	cairn_params *p;
	const char *file;
} meta;

static int meta_read(meta *m, const char *dir, char *err, size_t errcap)
{
	m->p = NULL;
	m->file = NULL;
	char *file = path_join(dir, "meta.yaml");
	if (!file)
		return mlr_errf(err, errcap, "out of memory");
	struct stat st;
	int rc = 0;
	if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
		rc = mlr_errf(err, errcap, "%s: missing", file);
	else if (st.st_size > MLR_META_MAX)
		rc = mlr_errf(err, errcap, "%s: longer than %d bytes", file, MLR_META_MAX);
	else if (cairn_config_flatten(&m->p, file) != 0) {
		/* "cannot parse config 'F': line L, column C: what" becomes
		 * "F:L: what (column C)" */
		const char *e = cairn_error_last(), *l = strstr(e, ": line ");
		unsigned long ln, col;
		const char *what = l ? strstr(l + 2, ": ") : NULL;
		if (l && what && sscanf(l, ": line %lu, column %lu", &ln, &col) == 2)
			rc = mlr_errf(err, errcap, "%s:%lu: %s (column %lu)", file, ln, what + 2,
			              col);
		else if (strncmp(e, "config '", 8) == 0 && (l = strstr(e + 8, "' ")) &&
		         (what = strstr(l, " (line ")) && sscanf(what, " (line %lu)", &ln) == 1) {
			l += strncmp(l, "' is ", 5) == 0 ? 5 : 2;
			rc = mlr_errf(err, errcap, "%s:%lu: %.*s", file, ln, (int)(what - l), l);
		} else
			rc = mlr_errf(err, errcap, "%s: %s", file, e);
	}
	if (rc)
		free(file);
	else
		m->file = file;
	return rc;
}

static void meta_free(meta *m)
{
	cairn_params_free(m->p);
	free((char *)m->file);
}

/* A field as text (numbers written out), NULL when absent or null. */
static const char *meta_text(const meta *m, const char *key, char *tmp, size_t n)
{
	cairn_value v;
	if (cairn_params_lookup(&v, m->p, key) != 0)
		return NULL;
	switch (v.type) {
	case CAIRN_TYPE_INT: snprintf(tmp, n, "%lld", (long long)v.i); return tmp;
	case CAIRN_TYPE_FLOAT: snprintf(tmp, n, "%.17g", v.f); return tmp;
	case CAIRN_TYPE_BOOL: return v.i ? "true" : "false";
	case CAIRN_TYPE_STRING:
		if (strcmp(v.s, "null") == 0 || strcmp(v.s, "~") == 0)
			return NULL;
		return v.s;
	default: return NULL;
	}
}

/* A time in ms (0: absent or null). */
static int meta_ms(const meta *m, const char *key, int64_t *out, char *err, size_t errcap)
{
	cairn_value v;
	*out = 0;
	if (cairn_params_lookup(&v, m->p, key) != 0)
		return 0;
	if (v.type == CAIRN_TYPE_INT && v.i >= 0 && v.i <= (int64_t)CAIRN_TIMESTAMP_MAX * 1000) {
		*out = v.i;
		return 0;
	}
	if (v.type == CAIRN_TYPE_STRING && (strcmp(v.s, "null") == 0 || !*v.s))
		return 0;
	return mlr_errf(err, errcap, "%s: %s is not a time in milliseconds since the epoch",
	                m->file, key);
}

/* MLflow's id shape: a letter or digit, then letters, digits, '_' or '-'. */
static bool id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* --- experiments -------------------------------------------------------------------------- */

static void exp_free(mlr_exp *e)
{
	free(e->dir);
	free(e->id);
	free(e->name);
	for (size_t i = 0; i < e->ntags; i++) {
		free(e->tags[i].key);
		free(e->tags[i].value);
	}
	free(e->tags);
	for (size_t i = 0; i < e->nruns; i++)
		free(e->runs[i]);
	free(e->runs);
}

/* The subdirectories of dir holding a meta.yaml, in name order. */
static int meta_dirs(char ***out, size_t *n, const char *dir, size_t max, const char *what,
                     char *err, size_t errcap)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return mlr_errf(err, errcap, "%s: cannot list: %s", dir, strerror(errno));
	size_t cap = 0;
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* ., .., .trash */
		char *sub = path_join(dir, de->d_name);
		char *mf = sub ? path_join(sub, "meta.yaml") : NULL;
		struct stat st;
		if (!mf)
			rc = mlr_errf(err, errcap, "out of memory");
		else if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) && stat(mf, &st) == 0) {
			if (*n >= max)
				rc = mlr_errf(err, errcap, "%s: more than %zu %s", dir, max, what);
			else if (*n == cap) {
				size_t c = cap ? cap * 2 : 16;
				char **t = realloc(*out, c * sizeof *t);
				if (!t)
					rc = mlr_errf(err, errcap, "out of memory");
				else {
					*out = t;
					cap = c;
				}
			}
			if (rc == 0) {
				(*out)[(*n)++] = sub;
				sub = NULL;
			}
		}
		free(sub);
		free(mf);
	}
	closedir(d);
	if (rc == 0 && *n > 1)
		qsort(*out, *n, sizeof **out, mlr_cmp_str);
	return rc;
}

static int exp_read(mlr_exp *e, char *dir, char *err, size_t errcap)
{
	memset(e, 0, sizeof *e);
	e->dir = dir;
	meta m;
	char tmp[64];
	if (meta_read(&m, dir, err, errcap) != 0)
		return -1;
	int rc = 0;
	const char *id = meta_text(&m, "experiment_id", tmp, sizeof tmp);
	const char *base = path_base(dir);
	if (!id || !id_ok(id, 64))
		rc = mlr_errf(err, errcap, "%s: experiment_id missing or not an MLflow id", m.file);
	else if (strcmp(id, base) != 0)
		rc =
		    mlr_errf(err, errcap, "%s: experiment_id '%s' is not the directory's name '%s'",
		             m.file, id, base);
	else if (!(e->id = strdup(id)))
		rc = mlr_errf(err, errcap, "out of memory");
	char tmp2[64];
	const char *name = rc ? NULL : meta_text(&m, "name", tmp2, sizeof tmp2);
	if (rc == 0 && (!name || !*name))
		rc = mlr_errf(err, errcap, "%s: the experiment has no name", m.file);
	else if (rc == 0 && strlen(name) > MLR_EXP_NAME_MAX)
		rc = mlr_errf(err, errcap, "%s: name longer than %d bytes", m.file,
		              MLR_EXP_NAME_MAX);
	else if (rc == 0 && !(e->name = strdup(name)))
		rc = mlr_errf(err, errcap, "out of memory");
	const char *ls = rc ? NULL : meta_text(&m, "lifecycle_stage", tmp, sizeof tmp);
	if (ls && strcmp(ls, "deleted") == 0)
		e->deleted = true;
	else if (ls && strcmp(ls, "active") != 0)
		rc = mlr_errf(err, errcap,
		              "%s: lifecycle_stage '%.40s' is neither active nor deleted", m.file,
		              ls);
	meta_free(&m);
	if (rc == 0) {
		char *tags = path_join(dir, "tags");
		rc = tags ? mlr_read_kvs(&e->tags, &e->ntags, tags, "tag", err, errcap)
		          : mlr_errf(err, errcap, "out of memory");
		free(tags);
	}
	if (rc == 0)
		rc = meta_dirs(&e->runs, &e->nruns, dir, MLR_RUNS_MAX, "runs", err, errcap);
	return rc;
}

static int cmp_exp(const void *a, const void *b)
{
	const mlr_exp *x = a, *y = b;
	size_t lx = strlen(x->id), ly = strlen(y->id);
	bool nx = strspn(x->id, "0123456789") == lx, ny = strspn(y->id, "0123456789") == ly;
	if (nx && ny && lx != ly)
		return lx < ly ? -1 : 1;
	if (nx != ny)
		return nx ? -1 : 1;
	return strcmp(x->id, y->id);
}

int mlr_store_open(mlr_store *s, const char *path, char *err, size_t errcap)
{
	memset(s, 0, sizeof *s);
	struct stat st;
	if (stat(path, &st) != 0)
		return mlr_errf(err, errcap, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return mlr_errf(err, errcap,
		                "%s: not a directory (an MLflow store is the mlruns/ "
		                "directory)",
		                path);
	if (!(s->root = strdup(path)))
		return mlr_errf(err, errcap, "out of memory");
	char **dirs;
	size_t n;
	if (meta_dirs(&dirs, &n, path, MLR_EXPS_MAX, "experiments", err, errcap) != 0)
		return -1;
	int rc = 0;
	if (n == 0)
		rc = mlr_errf(
		    err, errcap,
		    "%s: not an MLflow file store (no experiment directory with a meta.yaml)",
		    path);
	if (rc == 0 && !(s->exps = calloc(n, sizeof *s->exps)))
		rc = mlr_errf(err, errcap, "out of memory");
	size_t i = 0;
	for (; rc == 0 && i < n; i++) {
		rc = exp_read(&s->exps[i], dirs[i], err, errcap);
		dirs[i] = NULL;
		s->nexps++;
	}
	for (; i < n; i++)
		free(dirs[i]);
	free(dirs);
	if (rc == 0 && s->nexps > 1)
		qsort(s->exps, s->nexps, sizeof *s->exps, cmp_exp);
	char *trash = path_join(path, ".trash");
	char **td = NULL;
	size_t tn = 0;
	if (rc == 0 && trash && path_is_dir(trash) &&
	    meta_dirs(&td, &tn, trash, MLR_EXPS_MAX, "experiments", err, errcap) == 0)
		s->trashed = tn;
	for (size_t k = 0; k < tn; k++)
		free(td[k]);
	free(td);
	free(trash);
	return rc;
}

void mlr_store_free(mlr_store *s)
{
	for (size_t i = 0; i < s->nexps; i++)
		exp_free(&s->exps[i]);
	free(s->exps);
	free(s->root);
	memset(s, 0, sizeof *s);
}

/* --- runs --------------------------------------------------------------------------------- */

void mlr_run_free(mlr_run *r)
{
	free(r->dir);
	free(r->run_id);
	free(r->exp_id);
	free(r->name);
	free(r->user);
	free(r->art_dir);
	for (size_t i = 0; i < r->nparams; i++) {
		free(r->params[i].key);
		free(r->params[i].value);
	}
	free(r->params);
	for (size_t i = 0; i < r->ntags; i++) {
		free(r->tags[i].key);
		free(r->tags[i].value);
	}
	free(r->tags);
	for (size_t i = 0; i < r->nmetrics; i++) {
		free(r->metrics[i].key);
		free(r->metrics[i].pts);
	}
	free(r->metrics);
	for (size_t i = 0; i < r->narts; i++) {
		free(r->arts[i].path);
		free(r->arts[i].file);
	}
	free(r->arts);
	memset(r, 0, sizeof *r);
}

const char *mlr_run_tag(const mlr_run *r, const char *key)
{
	for (size_t i = 0; i < r->ntags; i++)
		if (strcmp(r->tags[i].key, key) == 0)
			return r->tags[i].value;
	return NULL;
}

/* The local directory an artifact_uri names: file:///abs (percent
 * escapes decoded), /abs, or a path relative to the run's directory.  NULL
 * for another scheme (s3://, mlflow-artifacts:/, …). */
static char *uri_path(const char *uri, const char *run_dir)
{
	if (strncmp(uri, "file://", 7) == 0) {
		const char *p = uri + 7;
		if (*p != '/') /* file://host/path: only the local host */
			p = strchr(p, '/');
		if (!p)
			return NULL;
		char *out = malloc(strlen(p) + 1), *o = out;
		if (!out)
			return NULL;
		for (; *p; p++) {
			if (p[0] == '%' && isxdigit((unsigned char)p[1]) &&
			    isxdigit((unsigned char)p[2])) {
				char h[3] = {p[1], p[2], 0};
				*o++ = (char)strtol(h, NULL, 16);
				p += 2;
			} else
				*o++ = *p;
		}
		*o = '\0';
		return out;
	}
	if (strstr(uri, "://") || strncmp(uri, "mlflow-artifacts:", 17) == 0)
		return NULL;
	if (uri[0] == '/')
		return strdup(uri);
	return path_join(run_dir, uri);
}

static int run_artifacts(mlr_run *r, const char *uri, char *err, size_t errcap)
{
	char *dir = uri && *uri ? uri_path(uri, r->dir) : NULL;
	if (uri && *uri && !dir && !strstr(uri, "://") && strncmp(uri, "mlflow-artifacts:", 17))
		return mlr_errf(err, errcap, "out of memory");
	if (uri && *uri && !dir)
		r->art_remote = true;
	/* a tree copied from another machine: its artifact_uri names a path
	 * there, and the run's own artifacts/ holds the files */
	if (!dir || !path_is_dir(dir)) {
		free(dir);
		dir = path_join(r->dir, "artifacts");
		if (!dir)
			return mlr_errf(err, errcap, "out of memory");
		if (!path_is_dir(dir)) {
			free(dir);
			return 0;
		}
		r->art_remote = false;
	}
	r->art_dir = dir;
	mlr_flist l = {.max = MLR_FILES_MAX};
	int rc = mlr_walk(&l, dir, "", 0, "artifact files", err, errcap);
	if (rc == 0 && l.n && !(r->arts = calloc(l.n, sizeof *r->arts)))
		rc = mlr_errf(err, errcap, "out of memory");
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if (cairn_key_validate(l.v[i], "artifact name") != 0) {
			rc = mlr_errf(err, errcap, "%s/%s: %s", dir, l.v[i], cairn_error_last());
			break;
		}
		if (!(r->arts[i].file = path_join(dir, l.v[i]))) {
			rc = mlr_errf(err, errcap, "out of memory");
			break;
		}
		r->arts[i].path = l.v[i];
		r->arts[i].size = l.size[i];
		l.v[i] = NULL;
		r->narts++;
	}
	mlr_flist_free(&l);
	return rc;
}

static int run_metrics(mlr_run *r, unsigned flags, char *err, size_t errcap)
{
	char *dir = path_join(r->dir, "metrics");
	if (!dir)
		return mlr_errf(err, errcap, "out of memory");
	mlr_flist l = {.max = MLR_KEYS_MAX};
	int rc = mlr_walk(&l, dir, "", 0, "metric files", err, errcap);
	if (rc == 0 && l.n && !(r->metrics = calloc(l.n, sizeof *r->metrics)))
		rc = mlr_errf(err, errcap, "out of memory");
	size_t budget = MLR_POINTS_MAX;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if ((rc = mlr_key_ok(dir, l.v[i], "metric", err, errcap)) != 0)
			break;
		char *file = path_join(dir, l.v[i]);
		mlr_metric *m = &r->metrics[i];
		if (!file) {
			rc = mlr_errf(err, errcap, "out of memory");
			break;
		}
		m->key = l.v[i];
		l.v[i] = NULL;
		r->nmetrics++;
		rc = mlr_read_metric(m, file, flags, &budget, err, errcap);
		r->npoints += m->n;
		free(file);
	}
	mlr_flist_free(&l);
	free(dir);
	return rc;
}

int mlr_run_read(mlr_run *r, const mlr_exp *e, const char *dir, unsigned flags, char *err,
                 size_t errcap)
{
	memset(r, 0, sizeof *r);
	if (!(r->dir = strdup(dir)) || !(r->exp_id = strdup(e->id)))
		return mlr_errf(err, errcap, "out of memory");
	meta m;
	if (meta_read(&m, dir, err, errcap) != 0)
		return -1;
	char t1[64], t2[64], t3[64];
	int rc = 0;
	const char *id = meta_text(&m, "run_id", t1, sizeof t1);
	if (!id)
		id = meta_text(&m, "run_uuid", t1, sizeof t1);
	const char *eid = meta_text(&m, "experiment_id", t2, sizeof t2);
	const char *base = path_base(dir);
	if (!id || !id_ok(id, 256))
		rc = mlr_errf(err, errcap, "%s: run_id missing or not an MLflow run id", m.file);
	else if (strcmp(id, base) != 0)
		rc = mlr_errf(err, errcap, "%s: run_id '%s' is not the directory's name '%s'",
		              m.file, id, base);
	else if (eid && strcmp(eid, e->id) != 0)
		rc = mlr_errf(err, errcap, "%s: experiment_id '%s' is not its experiment's ('%s')",
		              m.file, eid, e->id);
	else if (!(r->run_id = strdup(id)))
		rc = mlr_errf(err, errcap, "out of memory");
	const char *st = rc ? NULL : meta_text(&m, "status", t3, sizeof t3);
	r->status = MLR_RUNNING;
	if (st && mlr_status_parse(st, &r->status) != 0)
		rc =
		    mlr_errf(err, errcap,
		             "%s: status '%.40s' is not one of MLflow's (1..5, RUNNING, SCHEDULED, "
		             "FINISHED, FAILED, KILLED)",
		             m.file, st);
	if (rc == 0)
		rc = meta_ms(&m, "start_time", &r->start, err, errcap);
	if (rc == 0)
		rc = meta_ms(&m, "end_time", &r->end, err, errcap);
	if (rc == 0 && r->end && r->start && r->end < r->start)
		rc = mlr_errf(err, errcap, "%s: end_time is before start_time", m.file);
	const char *ls = rc ? NULL : meta_text(&m, "lifecycle_stage", t3, sizeof t3);
	if (ls && strcmp(ls, "deleted") == 0)
		r->deleted = true;
	else if (ls && strcmp(ls, "active") != 0)
		rc = mlr_errf(err, errcap,
		              "%s: lifecycle_stage '%.40s' is neither active nor deleted", m.file,
		              ls);
	char big[64];
	const char *name = rc ? NULL : meta_text(&m, "run_name", big, sizeof big);
	if (name && *name && !(r->name = strdup(name)))
		rc = mlr_errf(err, errcap, "out of memory");
	const char *user = rc ? NULL : meta_text(&m, "user_id", t3, sizeof t3);
	if (user && *user && !(r->user = strdup(user)))
		rc = mlr_errf(err, errcap, "out of memory");
	char *uri = NULL;
	const char *u = rc ? NULL : meta_text(&m, "artifact_uri", t3, sizeof t3);
	if (u && !(uri = strdup(u)))
		rc = mlr_errf(err, errcap, "out of memory");
	if (rc == 0 && r->name && cairn_key_validate(r->name, "run name") != 0)
		rc = mlr_errf(err, errcap, "%s: run_name: %s", m.file, cairn_error_last());
	meta_free(&m);
	char *sub = NULL;
	if (rc == 0 && !(sub = path_join(dir, "params")))
		rc = mlr_errf(err, errcap, "out of memory");
	if (rc == 0)
		rc = mlr_read_kvs(&r->params, &r->nparams, sub, "param", err, errcap);
	free(sub);
	sub = NULL;
	if (rc == 0 && !(sub = path_join(dir, "tags")))
		rc = mlr_errf(err, errcap, "out of memory");
	if (rc == 0)
		rc = mlr_read_kvs(&r->tags, &r->ntags, sub, "tag", err, errcap);
	free(sub);
	if (rc == 0) {
		const char *tn = mlr_run_tag(r, "mlflow.runName");
		const char *tu = mlr_run_tag(r, "mlflow.user");
		if (!r->name && tn && *tn && !(r->name = strdup(tn)))
			rc = mlr_errf(err, errcap, "out of memory");
		if (rc == 0 && !r->user && tu && *tu && !(r->user = strdup(tu)))
			rc = mlr_errf(err, errcap, "out of memory");
		if (rc == 0 && r->name && cairn_key_validate(r->name, "run name") != 0)
			rc = mlr_errf(err, errcap, "%s/tags/mlflow.runName: %s", dir,
			              cairn_error_last());
	}
	if (rc == 0)
		rc = run_metrics(r, flags, err, errcap);
	if (rc == 0)
		rc = run_artifacts(r, uri, err, errcap);
	free(uri);
	return rc;
}
