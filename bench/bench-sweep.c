/*
 * bench/bench-sweep.c — TPE's suggestion time with 1,000 completed trials in
 * 10 dimensions (target: at most 5 ms per suggestion), beside the floor of
 * a random suggestion from the same sampler.
 */
#include <math.h>

#include "bench.h"
#include "cairn.h"

static double sphere(const double *x, int d)
{
	double s = 0;
	for (int i = 0; i < d; i++)
		s += (x[i] - 0.3) * (x[i] - 0.3);
	return s;
}

int main(void)
{
	enum { D = 10, N = 1000, REPS = 30 };
	char text[2048];
	size_t o = (size_t)snprintf(
	    text, sizeof text, "method: tpe\nmetric: {name: y}\ntrials: 100000\nparameters:\n");
	for (int i = 0; i < D; i++)
		o += (size_t)snprintf(text + o, sizeof text - o, "  x%d: {min: -1.0, max: 1.0}\n",
		                      i);
	cairn_sweep_spec *spec = NULL;
	cairn_sampler *sm = NULL, *rnd = NULL;
	if (cairn_sweep_spec_parse(&spec, text, o, "bench") || cairn_sampler_new(&sm, spec) ||
	    cairn_sampler_new(&rnd, spec)) {
		fprintf(stderr, "bench-sweep: %s\n", cairn_error_last());
		return 1;
	}
	double x[D];
	/* history: random points (a random suggestion until startup_trials are told) */
	for (int t = 0; t < N; t++) {
		cairn_sampler_suggest_x(x, rnd, t);
		cairn_sampler_tell_x(sm, x, CAIRN_TRIAL_DONE, sphere(x, D));
	}
	double tpe[REPS], flo[REPS];
	for (int r = 0; r < REPS; r++) {
		double t0 = bench_now();
		cairn_sampler_suggest_x(x, sm, N + r);
		tpe[r] = (bench_now() - t0) * 1e3;
		t0 = bench_now();
		cairn_sampler_suggest_x(x, rnd, N + r);
		flo[r] = (bench_now() - t0) * 1e3;
	}
	qsort(tpe, REPS, sizeof *tpe, bench_cmp_double);
	qsort(flo, REPS, sizeof *flo, bench_cmp_double);
	printf("tpe suggestion, %d trials told, %d dimensions: median %.3f ms, max %.3f ms\n", N, D,
	       tpe[REPS / 2], tpe[REPS - 1]);
	bench_report_abs("sweep tpe suggestion (1000 trials, 10-d) ms", tpe[REPS / 2], "ms",
	                 "<=", 5.0);
	printf("(floor: a random suggestion %.4f ms)\n", flo[REPS / 2]);
	cairn_sampler_free(sm);
	cairn_sampler_free(rnd);
	cairn_sweep_spec_free(spec);
	return 0;
}
