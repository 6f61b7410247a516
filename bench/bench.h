/*
 * bench/bench.h — helpers for benchmarks.  Each benchmark measures its floor
 * (raw SQLite, `cat`, a stat-only walk, …) in the same run and prints one
 * line per figure:
 *
 *   BENCH <name>: <value> <unit> | floor <value> <unit> | ratio <r> | target <t> | PASS|MISS
 *
 * so a reader sees the ratio, and scripts/run-bench can collect the lines.
 */
#ifndef CAIRN_BENCH_H
#define CAIRN_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ratio = value / floor; pass when ratio satisfies `op target` (op ">=" or "<="). */
static inline void bench_report(const char *name, double value, const char *unit, double floor,
                                const char *floor_unit, const char *op, double target)
{
	double ratio = floor != 0 ? value / floor : 0;
	int pass = strcmp(op, ">=") == 0 ? ratio >= target : ratio <= target;
	printf("BENCH %s: %.4g %s | floor %.4g %s | ratio %.3f | target %s %.3g | %s\n", name,
	       value, unit, floor, floor_unit, ratio, op, target, pass ? "PASS" : "MISS");
	fflush(stdout);
}

/* An absolute target (no floor): pass when value `op` limit. */
static inline void bench_report_abs(const char *name, double value, const char *unit,
                                    const char *op, double limit)
{
	int pass = strcmp(op, ">=") == 0 ? value >= limit : value <= limit;
	printf("BENCH %s: %.4g %s | target %s %.4g %s | %s\n", name, value, unit, op, limit, unit,
	       pass ? "PASS" : "MISS");
	fflush(stdout);
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static inline double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, bench_cmp_double);
	return n ? v[n / 2] : 0;
}

#endif
