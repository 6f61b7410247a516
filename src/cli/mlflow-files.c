/*
 * cli/mlflow-files.c — the pieces of an MLflow file store below meta.yaml,
 * for mlflow-read.c: one metric line (`timestamp value step`), a status,
 * a directory's files listed in name order (bounded, no symbolic links
 * followed), the one-file-a-key directories (params/, tags/) and a metric
 * file read line by line through a fixed buffer.  Every reader is bounded
 * (mlflow-read.h) and reports "FILE[:LINE]: what" into the caller's buffer.
 * No global state; one caller per object.
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
int mlr_errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- one metric line ------------------------------------------------------------------- */

/* An integer field of a metric line: optional '-' (when sign), digits,
 * within int64. */
static bool int_field(const char *s, size_t n, bool sign, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (sign && n > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n)
		return false;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

int mlr_metric_line(const char *line, size_t len, mlr_point *out, char *err, size_t errcap)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	const char *f[4];
	size_t fl[4], nf = 0, i = 0;
	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (nf == 3)
			return mlr_errf(err, errcap,
			                "expected 'timestamp value step', found more fields");
		f[nf] = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		fl[nf] = (size_t)(line + i - f[nf]);
		nf++;
	}
	if (nf < 2)
		return mlr_errf(err, errcap, "expected 'timestamp value step'");
	for (size_t k = 0; k < nf; k++)
		for (size_t j = 0; j < fl[k]; j++)
			if (f[k][j] == '\0' || (unsigned char)f[k][j] < 0x20)
				return mlr_errf(err, errcap, "a control character in the line");
	if (!int_field(f[0], fl[0], false, &out->ts))
		return mlr_errf(err, errcap, "timestamp '%.*s' is not a count of milliseconds",
		                (int)(fl[0] > 40 ? 40 : fl[0]), f[0]);
	char v[MLR_LINE_MAX + 1];
	if (fl[1] > MLR_LINE_MAX)
		return mlr_errf(err, errcap, "value too long");
	memcpy(v, f[1], fl[1]);
	v[fl[1]] = '\0';
	if (cairn_metric_value_parse(v, &out->value) != 0)
		return mlr_errf(err, errcap, "value '%.40s' is not a number", v);
	out->step = 0;
	if (nf == 3 && !int_field(f[2], fl[2], true, &out->step))
		return mlr_errf(err, errcap, "step '%.*s' is not an integer",
		                (int)(fl[2] > 40 ? 40 : fl[2]), f[2]);
	return 0;
}

int mlr_status_parse(const char *text, int *out)
{
	static const char *const names[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
	if (text[0] >= '1' && text[0] <= '5' && text[1] == '\0') {
		*out = text[0] - '0';
		return 0;
	}
	for (int i = 0; i < 5; i++)
		if (strcmp(text, names[i]) == 0) {
			*out = i + 1;
			return 0;
		}
	return -1;
}

/* --- files ------------------------------------------------------------------------------- */

/* A small text file whole (a param, a tag): at most cap bytes, no NUL. */
static int read_value(const char *path, size_t cap, char **out, char *err, size_t errcap)
{
	buf b = BUF_INIT;
	int rc = read_file(path, cap, &b);
	if (rc == -EFBIG || buf_too_big(&b)) {
		buf_free(&b);
		return mlr_errf(err, errcap, "%s: longer than %zu bytes", path, cap);
	}
	if (rc || !buf_ok(&b)) {
		buf_free(&b);
		return mlr_errf(err, errcap, "%s: cannot read: %s", path,
		                strerror(rc ? -rc : ENOMEM));
	}
	if (memchr(b.ptr, '\0', b.len)) {
		buf_free(&b);
		return mlr_errf(err, errcap, "%s: holds a NUL byte (not text)", path);
	}
	*out = buf_detach(&b);
	return *out ? 0 : mlr_errf(err, errcap, "out of memory");
}

void mlr_flist_free(mlr_flist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->size);
}

int mlr_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under root/rel (rel "" for root itself), as paths
 * relative to root, recursively in name order.  A missing root is empty. */
int mlr_walk(mlr_flist *l, const char *root, const char *rel, int depth, const char *what,
             char *err, size_t errcap)
{
	if (depth > MLR_DEPTH_MAX)
		return mlr_errf(err, errcap, "%s/%s: nested deeper than %d directories", root, rel,
		                MLR_DEPTH_MAX);
	char *dir = *rel ? path_join(root, rel) : strdup(root);
	if (!dir)
		return mlr_errf(err, errcap, "out of memory");
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		free(dir);
		if (e == ENOENT && depth == 0)
			return 0;
		return mlr_errf(err, errcap, "%s/%s: cannot list: %s", root, rel, strerror(e));
	}
	char **names = NULL;
	size_t nn = 0, nc = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (nn == nc) {
			nc = nc ? nc * 2 : 16;
			char **t = realloc(names, nc * sizeof *t);
			if (!t) {
				rc = mlr_errf(err, errcap, "out of memory");
				break;
			}
			names = t;
		}
		if (nn >= l->max + 1) {
			rc = mlr_errf(err, errcap, "%s: more than %zu %s", dir, l->max, what);
			break;
		}
		if (!(names[nn] = strdup(de->d_name))) {
			rc = mlr_errf(err, errcap, "out of memory");
			break;
		}
		nn++;
	}
	closedir(d);
	if (rc == 0 && nn > 1)
		qsort(names, nn, sizeof *names, mlr_cmp_str);
	for (size_t i = 0; rc == 0 && i < nn; i++) {
		char *sub = *rel ? path_join(rel, names[i]) : strdup(names[i]);
		char *full = sub ? path_join(root, sub) : NULL;
		struct stat st;
		if (!sub || !full)
			rc = mlr_errf(err, errcap, "out of memory");
		else if (lstat(full, &st) != 0)
			rc = mlr_errf(err, errcap, "%s: %s", full, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = mlr_walk(l, root, sub, depth + 1, what, err, errcap);
		else if (S_ISREG(st.st_mode)) {
			if (l->n >= l->max)
				rc = mlr_errf(err, errcap, "%s: more than %zu %s", root, l->max,
				              what);
			else {
				if (l->n == l->cap) {
					size_t c = l->cap ? l->cap * 2 : 16;
					char **t = realloc(l->v, c * sizeof *t);
					int64_t *z = t ? realloc(l->size, c * sizeof *z) : NULL;
					if (t)
						l->v = t;
					if (z)
						l->size = z;
					if (!t || !z)
						rc = mlr_errf(err, errcap, "out of memory");
					else
						l->cap = c;
				}
				if (rc == 0) {
					l->size[l->n] = (int64_t)st.st_size;
					l->v[l->n++] = sub;
					sub = NULL;
				}
			}
		}
		/* links and other kinds are left out */
		free(sub);
		free(full);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	free(dir);
	return rc;
}

/* Check a key (a file's path under metrics/, params/, tags/). */
int mlr_key_ok(const char *dir, const char *key, const char *what, char *err, size_t errcap)
{
	if (strlen(key) > MLR_KEY_MAX)
		return mlr_errf(err, errcap, "%s/%s: %s key longer than %d bytes", dir, key, what,
		                MLR_KEY_MAX);
	if (cairn_key_validate(key, what) != 0)
		return mlr_errf(err, errcap, "%s/%s: %s", dir, key, cairn_error_last());
	return 0;
}

/* key/value files under dir (params/, tags/) into *out. */
int mlr_read_kvs(mlr_kv **out, size_t *n, const char *dir, const char *what, char *err,
                 size_t errcap)
{
	mlr_flist l = {.max = MLR_KEYS_MAX};
	char what_s[32];
	snprintf(what_s, sizeof what_s, "%s files", what);
	int rc = mlr_walk(&l, dir, "", 0, what_s, err, errcap);
	*out = NULL;
	*n = 0;
	if (rc == 0 && l.n && !(*out = calloc(l.n, sizeof **out)))
		rc = mlr_errf(err, errcap, "out of memory");
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if ((rc = mlr_key_ok(dir, l.v[i], what, err, errcap)) != 0)
			break;
		char *file = path_join(dir, l.v[i]);
		if (!file) {
			rc = mlr_errf(err, errcap, "out of memory");
			break;
		}
		rc = read_value(file, MLR_VALUE_MAX, &(*out)[i].value, err, errcap);
		free(file);
		if (rc == 0) {
			(*out)[i].key = l.v[i];
			l.v[i] = NULL;
			(*n)++;
		}
	}
	mlr_flist_free(&l);
	return rc;
}

/* One metric file: count its points, and keep them with MLR_POINTS. */
int mlr_read_metric(mlr_metric *m, const char *file, unsigned flags, size_t *budget, char *err,
                    size_t errcap)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return mlr_errf(err, errcap, "%s: cannot read: %s", file, strerror(errno));
	char line[MLR_LINE_MAX + 2];
	size_t cap = 0, lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		bool nl = len > 0 && line[len - 1] == '\n';
		if (!nl && !feof(f)) {
			rc = mlr_errf(err, errcap, "%s:%zu: line longer than %d bytes", file,
			              lineno, MLR_LINE_MAX);
			break;
		}
		if (nl)
			len--;
		if (memchr(line, '\0', len)) {
			rc = mlr_errf(err, errcap, "%s:%zu: a NUL byte in the line", file, lineno);
			break;
		}
		mlr_point p;
		char why[200];
		if (mlr_metric_line(line, len, &p, why, sizeof why) != 0) {
			rc = mlr_errf(err, errcap, "%s:%zu: %s", file, lineno, why);
			break;
		}
		/* cairn's own bounds on a point, with the line they are on */
		if (p.step < 0) {
			rc = mlr_errf(err, errcap,
			              "%s:%zu: step %lld is negative (cairn's steps start at 0)",
			              file, lineno, (long long)p.step);
			break;
		}
		if (p.ts <= 0 || (double)p.ts / 1000.0 > CAIRN_TIMESTAMP_MAX) {
			rc = mlr_errf(
			    err, errcap,
			    "%s:%zu: timestamp %lld is not a time after the epoch and before "
			    "the year 10000",
			    file, lineno, (long long)p.ts);
			break;
		}
		if (*budget == 0) {
			rc = mlr_errf(err, errcap, "%s:%zu: the run has more than %d metric points",
			              file, lineno, MLR_POINTS_MAX);
			break;
		}
		(*budget)--;
		if (flags & MLR_POINTS) {
			if (m->n == cap) {
				size_t c = cap ? cap * 2 : 64;
				mlr_point *t = realloc(m->pts, c * sizeof *t);
				if (!t) {
					rc = mlr_errf(err, errcap, "out of memory");
					break;
				}
				m->pts = t;
				cap = c;
			}
			m->pts[m->n] = p;
		}
		m->n++;
	}
	if (rc == 0 && ferror(f))
		rc = mlr_errf(err, errcap, "%s: cannot read: %s", file, strerror(errno));
	fclose(f);
	return rc;
}
