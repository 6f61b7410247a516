/*
 * bench/bench-pages.c — deep pages of a query (issue 18, "Deep pages cost
 * O(N)"): the page at 90% of the matches reached through the previous
 * page's keyset position (cairn_query_options.after, what GET
 * /api/v1/runs's `next` carries) against the same page by offset, each
 * beside the first page of the same sort as the floor.  A page is what the
 * HTTP API does for one request: cairn_query_iter_new, every record read,
 * cairn_run_iter_total and cairn_run_iter_after, limit 100.  Sorts: the
 * default (start time, newest first), a metric (walkable), a param (five
 * values: long runs of ties broken by creation), a metric's max (not
 * walkable: gathered, then selected).  Targets: a keyset page p50 ≤ 20 ms
 * and ≤ 2× the first page.
 *
 *   bench-pages [--runs N] [--keep DIR]   (default 100,000 runs; DIR keeps
 *                                          the generated store for reruns)
 */
#include <unistd.h>

#include "bench.h"
#include "cairn.h"
#include "gen-runs.h"

#define LIMIT 100
#define REPS  21

static cairn_store *S;

static double page(const char *sort, int64_t offset, const char *after, char **out_after)
{
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.sort = sort;
	o.limit = LIMIT;
	o.offset = offset;
	o.after = after;
	double t0 = bench_now();
	cairn_run_iter *it;
	if (cairn_query_iter_new(&it, S, &o) != 0) {
		fprintf(stderr, "bench-pages: %s\n", cairn_error_last());
		exit(1);
	}
	cairn_run_record *r;
	while (cairn_run_iter_next(&r, it) == 0)
		cairn_run_record_free(r);
	(void)cairn_run_iter_total(it);
	char *a = NULL;
	if (cairn_run_iter_after(&a, it) != 0 || !a) {
		fprintf(stderr, "bench-pages: no position: %s\n", cairn_error_last());
		exit(1);
	}
	double t = (bench_now() - t0) * 1000;
	if (out_after)
		*out_after = a;
	else
		cairn_free(a);
	cairn_run_iter_free(it);
	return t;
}

static double p50(const char *sort, int64_t offset, const char *after, int reps)
{
	double v[REPS];
	page(sort, offset, after, NULL); /* warm */
	for (int i = 0; i < reps; i++)
		v[i] = page(sort, offset, after, NULL);
	return bench_median(v, (size_t)reps);
}

int main(int argc, char **argv)
{
	gen_store g;
	if (gen_store_open(&g, "bench-pages", argc, argv) != 0)
		return 1;
	int nruns = g.nruns;
	const char *store_dir = g.store_dir;
	if (cairn_store_open(&S, store_dir) != 0) {
		fprintf(stderr, "bench-pages: %s\n", cairn_error_last());
		return 1;
	}
	static const char *const sorts[] = {NULL, "-metrics.valid_auc", "params.model",
	                                    "metrics.valid_auc.max"};
	static const char *const names[] = {"default", "metric", "param_ties", "metric_max"};
	int64_t deep = (int64_t)nruns * 9 / 10;
	for (size_t i = 0; i < sizeof sorts / sizeof *sorts; i++) {
		/* the position at 90%: the last run of the page before it */
		char *pos = NULL;
		page(sorts[i], deep - LIMIT, NULL, &pos);
		double first = p50(sorts[i], 0, NULL, REPS);
		double ks = p50(sorts[i], 0, pos, REPS);
		double off = p50(sorts[i], deep, NULL, 7);
		char name[96];
		printf("pages.%s (sort %s, %d runs, limit %d): first %.3g ms, 90%% by keyset %.3g "
		       "ms, 90%% by offset %.3g ms\n",
		       names[i], sorts[i] ? sorts[i] : "default", nruns, LIMIT, first, ks, off);
		snprintf(name, sizeof name, "pages.%s_keyset_90 (p50 vs the first page)", names[i]);
		bench_report(name, ks, "ms", first, "ms first page", "<=", 2);
		snprintf(name, sizeof name, "pages.%s_keyset_90 (p50)", names[i]);
		bench_report_abs(name, ks, "ms", "<=", 20);
		snprintf(name, sizeof name, "pages.%s_offset_90 (p50 vs the first page, for scale)",
		         names[i]);
		printf("      %s: %.3g ms (%.1f× the first page)\n", name, off, off / first);
		cairn_free(pos);
	}
	cairn_store_close(S);
	if (gen_store_done(&g, "bench-pages") != 0)
		return 1;
	return 0;
}
