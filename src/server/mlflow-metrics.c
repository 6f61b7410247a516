/*
 * server/mlflow-metrics.c — reading a metric's history through MLflow's API
 * (docs/mlflow.md, "Metric histories"): metrics/get-history, every point of
 * one run, and metrics/get-history-bulk-interval, the points of up to 100
 * runs at an even sample of their steps (what MLflow's web UI draws its
 * charts from).
 *
 * The bulk sample is MLflow's, so a chart drawn from cairn has the points a
 * chart drawn from MLflow has:
 *  1. the steps are the distinct steps the runs logged (a step no run has
 *     is never chosen), sorted; the range is [start_step, end_step] when
 *     both are given, else [0, the greatest step];
 *  2. when the range holds at most max_results steps, all of them; else
 *     max_results steps at even index intervals from the first one
 *     (index first + floor(i * n / max_results), i = 0 … max_results-1,
 *     n the steps in range), plus the last step of the range;
 *  3. each run's own first and last step, when inside the range, are added,
 *     so every run's line starts and ends where it does (hence up to
 *     max_results + 1 + 2 × runs steps);
 *  4. every point of each run at a chosen step, runs in the order asked,
 *     points in (step, time) order, at most 25,000 per run.
 * Step lists are computed in integers (MLflow's float index rounds the same
 * for every n and max_results it accepts).  Histories come from the public
 * API's raw history JSON, read once per run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/mlflow.h"

#define BULK_MAX_RUNS    100
#define BULK_MAX_RESULTS 2500 /* MLflow's MAX_RESULTS_PER_RUN, also the default */

/* A run's history of one metric: points in (step, time) order. */
typedef struct series {
	const char *id;
	int64_t *step, *ts;
	double *value;
	size_t n;
} series;

static void series_free(series *s)
{
	free(s->step);
	free(s->ts);
	free(s->value);
	memset(s, 0, sizeof *s);
}

/* The history of key in run id (no such metric: no points); false with
 * the error answered. */
static bool series_load(request *rq, response *rs, const char *id, const char *key, series *out)
{
	memset(out, 0, sizeof *out);
	out->id = id;
	char *text = NULL;
	int rc = cairn_run_metric_raw_json(&text, rq->store, id, key);
	if (rc == CAIRN_ENOTFOUND)
		return true;
	if (rc) {
		mlf_lib_error(rs, rc);
		return false;
	}
	char err[128];
	json_doc *d = json_parse(text, strlen(text), NULL, err, sizeof err);
	cairn_free(text);
	const json *pts = d ? json_get(json_root(d), "points") : NULL;
	if (!pts || pts->type != JSON_ARR) {
		json_doc_free(d);
		mlf_error(rs, "INTERNAL_ERROR", "cannot read the history of %.250s: %s", key,
		          d ? "no points" : err);
		return false;
	}
	size_t cap = pts->len ? pts->len : 1;
	out->step = malloc(cap * sizeof *out->step);
	out->ts = malloc(cap * sizeof *out->ts);
	out->value = malloc(cap * sizeof *out->value);
	if (!out->step || !out->ts || !out->value) {
		json_doc_free(d);
		series_free(out);
		mlf_error(rs, "INTERNAL_ERROR", "out of memory");
		return false;
	}
	for (const json *p = pts->child; p; p = p->next) {
		const json *s = p->child, *t = s ? s->next : NULL, *v = t ? t->next : NULL;
		double val;
		if (!v || !json_num_value(v, &val))
			continue;
		out->step[out->n] = s->i;
		out->ts[out->n] = (int64_t)llround(t->num * 1000.0);
		out->value[out->n] = val;
		out->n++;
	}
	json_doc_free(d);
	return true;
}

/* One Metric object; with the run id for the bulk form. */
static void put_metric(buf *b, bool *first, const char *key, const series *s, size_t i,
                       bool with_run)
{
	bool f = true;
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	buf_putc(b, '{');
	json_key(b, &f, "key");
	json_str(b, key);
	json_key(b, &f, "value");
	double val = s->value[i];
	if (isfinite(val) && val == floor(val) && fabs(val) < 1e15)
		buf_printf(b, "%.1f", val); /* MLflow's 1.0, not 1 */
	else
		json_num(b, val);
	json_key(b, &f, "timestamp");
	json_int(b, s->ts[i]);
	json_key(b, &f, "step");
	json_int(b, s->step[i]);
	if (with_run) {
		json_key(b, &f, "run_id");
		json_str(b, s->id);
	}
	buf_putc(b, '}');
}

int mlf_metric_history(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run_record *rec = NULL;
	const char *id, *key;
	int64_t max = MLF_HISTORY_MAX;
	series s = {0};
	if (mlf_run_id(rs, &in, &id) && mlf_str(rs, &in, "metric_key", true, &key) &&
	    mlf_int(rs, json_get(in.root, "max_results"), "max_results", false, &max, NULL) &&
	    mlf_get_run(rq, rs, id, 0, &rec)) {
		if (series_load(rq, rs, id, key, &s)) {
			bool first = true;
			size_t lim =
			    max > 0 && max < MLF_HISTORY_MAX ? (size_t)max : MLF_HISTORY_MAX;
			buf_puts(&rs->body, "{\"metrics\":[");
			for (size_t i = 0; i < s.n && i < lim; i++)
				put_metric(&rs->body, &first, key, &s, i, false);
			buf_puts(&rs->body, "]}");
			resp_json_buf(rs, 200);
		}
	}
	series_free(&s);
	cairn_run_record_free(rec);
	mlf_in_free(&in);
	return 0;
}

/* --- the bulk interval ------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sort v[0..n) and drop repeats; returns the new length. */
static size_t sort_unique(int64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_i64);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

/* The first index of sorted v[0..n) whose value is >= x (after: > x). */
static size_t bound(const int64_t *v, size_t n, int64_t x, bool after)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x || (after && v[mid] == x))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The chosen steps (module comment, 1–3) of runs[0..nruns), sorted and
 * distinct, into *out (malloc'ed); false when out of memory. */
static bool sample_steps(const series *runs, size_t nruns, bool ranged, int64_t lo, int64_t hi,
                         size_t max, int64_t **out, size_t *out_n)
{
	size_t total = 0;
	for (size_t r = 0; r < nruns; r++)
		total += runs[r].n;
	int64_t *all = malloc((total ? total : 1) * sizeof *all);
	int64_t *pick = malloc((max + 1 + 2 * nruns) * sizeof *pick);
	if (!all || !pick) {
		free(all);
		free(pick);
		return false;
	}
	size_t n = 0;
	for (size_t r = 0; r < nruns; r++) {
		if (runs[r].n)
			memcpy(all + n, runs[r].step, runs[r].n * sizeof *all);
		n += runs[r].n;
	}
	n = sort_unique(all, n);
	if (!ranged) {
		lo = 0;
		hi = n ? all[n - 1] : 0;
	}
	size_t first = bound(all, n, lo, false), end = bound(all, n, hi, true), k = 0;
	size_t in_range = end > first ? end - first : 0;
	if (in_range <= max) {
		for (size_t i = first; i < end; i++)
			pick[k++] = all[i];
	} else {
		for (size_t i = 0; i < max; i++)
			pick[k++] = all[first + (size_t)((uint64_t)i * in_range / max)];
		pick[k++] = all[end - 1];
	}
	/* each run's first and last step (its points are in step order) */
	for (size_t r = 0; r < nruns; r++) {
		if (!runs[r].n)
			continue;
		int64_t ends[2] = {runs[r].step[0], runs[r].step[runs[r].n - 1]};
		for (int e = 0; e < 2; e++)
			if (ends[e] >= lo && ends[e] <= hi)
				pick[k++] = ends[e];
	}
	free(all);
	*out = pick;
	*out_n = sort_unique(pick, k);
	return true;
}

int mlf_metric_bulk(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	const char *key;
	const json *ids;
	int64_t lo = 0, hi = 0, max = BULK_MAX_RESULTS;
	bool has_lo = false, has_hi = false;
	series *runs = NULL;
	size_t nruns = 0;
	int64_t *steps = NULL;
	size_t nsteps = 0;
	if (!mlf_array(rs, &in, "run_ids", &ids) || !mlf_str(rs, &in, "metric_key", true, &key) ||
	    !mlf_int(rs, json_get(in.root, "start_step"), "start_step", false, &lo, &has_lo) ||
	    !mlf_int(rs, json_get(in.root, "end_step"), "end_step", false, &hi, &has_hi) ||
	    !mlf_int(rs, json_get(in.root, "max_results"), "max_results", false, &max, NULL))
		goto done;
	if (!ids || ids->len == 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "GetMetricHistoryBulkInterval request must specify at least one run_id.");
		goto done;
	}
	if (ids->len > BULK_MAX_RUNS) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "GetMetricHistoryBulkInterval request must specify at most %d run_ids. "
		          "Received %zu run_ids.",
		          BULK_MAX_RUNS, ids->len);
		goto done;
	}
	for (const json *r = ids->child; r; r = r->next)
		if (r->type != JSON_STR) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE", "run_ids must be strings");
			goto done;
		}
	if (max < 1 || max > BULK_MAX_RESULTS) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE", "max_results must be between 1 and %d.",
		          BULK_MAX_RESULTS);
		goto done;
	}
	if (has_lo != has_hi) {
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "If either start step or end step are specified, both must be specified.");
		goto done;
	}
	if (has_lo && lo > hi) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "end_step must be greater than start_step. Found start_step=%lld and "
		          "end_step=%lld.",
		          (long long)lo, (long long)hi);
		goto done;
	}
	if (!(runs = calloc(ids->len, sizeof *runs))) {
		mlf_error(rs, "INTERNAL_ERROR", "out of memory");
		goto done;
	}
	for (const json *r = ids->child; r; r = r->next) {
		cairn_run_record *rec;
		if (!mlf_get_run(rq, rs, r->str, 0, &rec))
			goto done;
		cairn_run_record_free(rec);
		if (!series_load(rq, rs, r->str, key, &runs[nruns]))
			goto done;
		nruns++;
	}
	if (!sample_steps(runs, nruns, has_lo, lo, hi, (size_t)max, &steps, &nsteps)) {
		mlf_error(rs, "INTERNAL_ERROR", "out of memory");
		goto done;
	}
	bool first = true;
	buf_puts(&rs->body, "{\"metrics\":[");
	for (size_t r = 0; r < nruns; r++) {
		size_t emitted = 0;
		for (size_t i = 0; i < runs[r].n && emitted < MLF_HISTORY_MAX; i++) {
			size_t at = bound(steps, nsteps, runs[r].step[i], false);
			if (at < nsteps && steps[at] == runs[r].step[i]) {
				put_metric(&rs->body, &first, key, &runs[r], i, true);
				emitted++;
			}
		}
	}
	buf_puts(&rs->body, "]}");
	resp_json_buf(rs, 200);
done:
	for (size_t r = 0; r < nruns; r++)
		series_free(&runs[r]);
	free(runs);
	free(steps);
	mlf_in_free(&in);
	return 0;
}
