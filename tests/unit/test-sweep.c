/*
 * tests/unit/test-sweep.c — the sweep core: sweep file parsing and its
 * errors, grid order, seeded random, TPE against random on toy functions,
 * the median stopping rule, and the trial queue in the store.
 */
#include "unit.h"

#include <math.h>

static cairn_sweep_spec *parse_ok(const char *text)
{
	cairn_sweep_spec *s = NULL;
	int rc = cairn_sweep_spec_parse(&s, text, strlen(text), "t.yaml");
	if (rc)
		fail_msg("parse failed: %s", cairn_error_last());
	return s;
}

/* The message of a parse that must fail with CAIRN_EINVALID. */
static const char *parse_err(const char *text)
{
	cairn_sweep_spec *s = NULL;
	int rc = cairn_sweep_spec_parse(&s, text, strlen(text), "t.yaml");
	assert_int_equal(rc, CAIRN_EINVALID);
	assert_null(s);
	return cairn_error_last();
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("'%s' does not contain '%s'", (hay), (needle));                   \
	} while (0)

static const char *BASE = "method: random\n"
                          "metric: {name: loss, goal: minimize}\n"
                          "trials: 20\n"
                          "parameters:\n"
                          "  lr: {min: 0.0001, max: 0.1, distribution: log_uniform}\n"
                          "  depth: {min: 1, max: 8}\n"
                          "  opt: {values: [adam, sgd]}\n"
                          "  momentum: {min: 0.0, max: 0.99, when: {opt: sgd}}\n";

static void test_parse_ok(void **state)
{
	(void)state;
	cairn_sweep_spec *s = parse_ok(BASE);
	assert_int_equal(cairn_sweep_spec_method(s), CAIRN_SWEEP_RANDOM);
	assert_string_equal(cairn_sweep_spec_metric(s), "loss");
	assert_int_equal(cairn_sweep_spec_goal(s), CAIRN_SWEEP_MINIMIZE);
	assert_int_equal(cairn_sweep_spec_trials(s), 20);
	assert_int_equal(cairn_sweep_spec_nparams(s), 4);
	assert_int_equal(cairn_sweep_spec_param_kind(s, 0), CAIRN_PARAM_LOG_UNIFORM);
	assert_int_equal(cairn_sweep_spec_param_kind(s, 1), CAIRN_PARAM_INT_UNIFORM);
	assert_int_equal(cairn_sweep_spec_param_kind(s, 2), CAIRN_PARAM_CATEGORICAL);
	assert_int_equal(cairn_sweep_spec_param_kind(s, 3), CAIRN_PARAM_UNIFORM);
	assert_int_equal(cairn_sweep_spec_param_index(s, "opt"), 2);
	/* canonical JSON parses back into the same spec */
	char *j1 = NULL, *j2 = NULL;
	assert_ok(cairn_sweep_spec_json(&j1, s));
	cairn_sweep_spec *s2 = parse_ok(j1);
	assert_ok(cairn_sweep_spec_json(&j2, s2));
	assert_string_equal(j1, j2);
	cairn_free(j1);
	cairn_free(j2);
	cairn_sweep_spec_free(s2);
	cairn_sweep_spec_free(s);
	/* JSON input */
	s = parse_ok("{\"method\": \"grid\", \"metric\": {\"name\": \"acc\", \"goal\": "
	             "\"maximize\"}, \"parameters\": {\"k\": {\"values\": [1, 2, \"3\"]}}}");
	assert_int_equal(cairn_sweep_spec_trials(s), 3);
	assert_int_equal(cairn_sweep_spec_goal(s), CAIRN_SWEEP_MAXIMIZE);
	char *p = NULL;
	cairn_sampler *sm = NULL;
	assert_ok(cairn_sampler_new(&sm, s));
	assert_ok(cairn_sampler_suggest(&p, sm, 2));
	assert_string_equal(p, "{\"k\":\"3\"}"); /* a quoted choice stays text */
	cairn_free(p);
	cairn_sampler_free(sm);
	cairn_sweep_spec_free(s);
}

static void test_parse_errors(void **state)
{
	(void)state;
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 3\nparameters:\n"
	                          "  lr: {min: 0, max: 1}\nbudget: 3\n"),
	                "t.yaml:6: unknown key 'budget'");
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 3\nparameters:\n"
	                          "  lr: {min: abc, max: 1}\n"),
	                "t.yaml:5: parameters.lr.min: expected a number, got 'abc'");
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 3\nparameters:\n"
	                          "  lr: {min: 2, max: 1}\n"),
	                "parameters.lr: max (1) must be greater than min (2)");
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 3\nparameters:\n"
	                          "  lr: {min: 0, max: 1, distribution: log_uniform}\n"),
	                "log_uniform needs min > 0");
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 3\nparameters:\n"
	                          "  lr: {min: 0, max: 1, distribution: normal}\n"),
	                "parameters.lr.distribution: expected one of uniform, log_uniform");
	assert_contains(parse_err("method: grid\nmetric: {name: l}\nparameters:\n"
	                          "  lr: {min: 0.0, max: 1.0}\n"),
	                "parameters.lr: a grid needs values, an int_uniform range, or grid_points");
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 3\nparameters:\n"
	                          "  m: {min: 0.0, max: 1.0, when: {opt: sgd}}\n"
	                          "  opt: {values: [sgd]}\n"),
	                "'opt' is not a parameter declared before 'm'");
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 3\nparameters:\n"
	                          "  opt: {values: [sgd]}\n"
	                          "  m: {min: 0.0, max: 1.0, when: {opt: adam}}\n"),
	                "'adam' is not one of the choices of 'opt'");
	assert_contains(parse_err("method: random\nmetric: {name: l}\nparameters:\n"
	                          "  lr: {min: 0.0, max: 1.0}\n"),
	                "trials: missing");
	assert_contains(parse_err("method: annealing\nmetric: {name: l}\n"),
	                "method: expected one of "
	                "grid, random, tpe");
	assert_contains(parse_err("method: tpe\ntrials: 3\nparameters: {a: {values: [1]}}\n"),
	                "metric: missing");
	assert_contains(parse_err("method: tpe\nmetric: {goal: up}\n"),
	                "metric.goal: expected one of "
	                "minimize, maximize");
	assert_contains(parse_err("method: random\nmetric: {name: l}\ntrials: 0\n"),
	                "trials: 0 is out of range");
	assert_contains(parse_err("method: grid\nmetric: {name: l}\nparameters:\n"
	                          "  a: {values: [1, 1]}\n"),
	                "choice 1 appears twice");
	assert_contains(parse_err("method: grid\nmetric: {name: l}\nparameters:\n"
	                          "  a: {values: [1]}\n  a: {values: [2]}\n"),
	                "key 'a' appears twice");
	assert_contains(
	    parse_err("method: grid\nmetric: {name: l}\nparameters:\n  a: {values: []}\n"),
	    "parameters.a.values: the list is empty");
	assert_contains(parse_err("method: [grid\n"), "t.yaml:");
	assert_contains(parse_err("- 1\n- 2\n"), "a sweep file is a mapping");
	assert_contains(parse_err("method: grid\nmetric: {name: l}\nearly_terminate: {type: "
	                          "hyperband}\nparameters: {a: {values: [1]}}\n"),
	                "hyperband is not supported");
	/* an empty file, binary */
	assert_contains(parse_err(""), "empty");
}

static char *suggest(cairn_sampler *sm, int64_t trial)
{
	char *p = NULL;
	int rc = cairn_sampler_suggest(&p, sm, trial);
	if (rc)
		fail_msg("suggest %lld: %s", (long long)trial, cairn_error_last());
	return p;
}

static void test_grid_order(void **state)
{
	(void)state;
	cairn_sweep_spec *s = parse_ok("method: grid\nmetric: {name: l}\nparameters:\n"
	                               "  a: {values: [1, 2]}\n"
	                               "  b: {values: [x, y]}\n"
	                               "  c: {min: 0, max: 1, when: {b: y}}\n");
	/* b=x: c inactive (one point); b=y: c in {0, 1} */
	assert_int_equal(cairn_sweep_spec_trials(s), 6);
	cairn_sampler *sm = NULL;
	assert_ok(cairn_sampler_new(&sm, s));
	const char *want[] = {"{\"a\":1,\"b\":\"x\"}",         "{\"a\":1,\"b\":\"y\",\"c\":0}",
	                      "{\"a\":1,\"b\":\"y\",\"c\":1}", "{\"a\":2,\"b\":\"x\"}",
	                      "{\"a\":2,\"b\":\"y\",\"c\":0}", "{\"a\":2,\"b\":\"y\",\"c\":1}"};
	for (int i = 0; i < 6; i++) {
		char *p = suggest(sm, i);
		assert_string_equal(p, want[i]);
		cairn_free(p);
	}
	char *p = NULL;
	assert_int_equal(cairn_sampler_suggest(&p, sm, 6), CAIRN_ENOTFOUND);
	cairn_sampler_free(sm);
	cairn_sweep_spec_free(s);
	/* grid_points: evenly spaced, log scale for log_uniform, ends exact */
	s = parse_ok("method: grid\nmetric: {name: l}\ntrials: 2\nparameters:\n"
	             "  lr: {min: 0.001, max: 0.1, distribution: log_uniform, grid_points: 3}\n");
	assert_int_equal(cairn_sweep_spec_trials(s), 2); /* trials caps the grid */
	assert_ok(cairn_sampler_new(&sm, s));
	double x[1];
	assert_ok(cairn_sampler_suggest_x(x, sm, 0));
	assert_true(x[0] == 0.001);
	assert_ok(cairn_sampler_suggest_x(x, sm, 1));
	assert_true(fabs(x[0] - 0.01) < 1e-12);
	assert_ok(cairn_sampler_suggest_x(x, sm, 2));
	assert_true(x[0] == 0.1);
	cairn_sampler_free(sm);
	cairn_sweep_spec_free(s);
}

static void test_random_seeded(void **state)
{
	(void)state;
	cairn_sweep_spec *s = parse_ok(BASE);
	cairn_sampler *a = NULL, *b = NULL;
	assert_ok(cairn_sampler_new(&a, s));
	assert_ok(cairn_sampler_new(&b, s));
	int sgd = 0;
	for (int i = 0; i < 50; i++) {
		char *p = suggest(a, i), *q = suggest(b, 49 - i); /* the order does not matter */
		char *q2 = suggest(b, i);
		assert_string_equal(p, q2);
		double x[4];
		assert_ok(cairn_sweep_params_parse(x, s, p));
		assert_true(x[0] >= 0.0001 && x[0] <= 0.1);
		assert_true(x[1] >= 1 && x[1] <= 8 && x[1] == floor(x[1]));
		assert_true(x[2] == 0 || x[2] == 1);
		/* momentum exactly when opt = sgd */
		assert_int_equal(isnan(x[3]), x[2] == 0);
		sgd += x[2] == 1;
		cairn_free(p);
		cairn_free(q);
		cairn_free(q2);
	}
	assert_true(sgd > 10 && sgd < 40);
	/* another seed, other suggestions */
	cairn_sweep_spec_set_seed(s, 7);
	char *p7 = suggest(a, 0);
	cairn_sweep_spec_set_seed(s, 0);
	char *p0 = suggest(a, 0);
	assert_string_not_equal(p7, p0);
	cairn_free(p7);
	cairn_free(p0);
	cairn_sampler_free(a);
	cairn_sampler_free(b);
	cairn_sweep_spec_free(s);
}

/* Branin, minimum 0.397887 */
static double branin(const double *x)
{
	double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10, t = 1 / (8 * M_PI);
	double y = x[1] - b * x[0] * x[0] + c * x[0] - r;
	return a * y * y + s * (1 - t) * cos(x[0]) + s;
}

static double run_search(const char *method, uint64_t seed, int n)
{
	char text[512];
	snprintf(text, sizeof text,
	         "method: %s\nmetric: {name: y}\ntrials: %d\nparameters:\n"
	         "  x0: {min: -5.0, max: 10.0}\n  x1: {min: 0.0, max: 15.0}\n",
	         method, n);
	cairn_sweep_spec *s = parse_ok(text);
	cairn_sweep_spec_set_seed(s, seed);
	cairn_sampler *sm = NULL;
	assert_ok(cairn_sampler_new(&sm, s));
	double best = INFINITY;
	for (int i = 0; i < n; i++) {
		double x[2];
		assert_ok(cairn_sampler_suggest_x(x, sm, i));
		double y = branin(x);
		best = fmin(best, y);
		assert_ok(cairn_sampler_tell_x(sm, x, CAIRN_TRIAL_DONE, y));
	}
	cairn_sampler_free(sm);
	cairn_sweep_spec_free(s);
	return best;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_tpe_beats_random(void **state)
{
	(void)state;
	double t[11], r[11];
	for (int k = 0; k < 11; k++) {
		t[k] = run_search("tpe", (uint64_t)k, 60);
		r[k] = run_search("random", (uint64_t)k, 60);
	}
	qsort(t, 11, sizeof *t, cmp_d);
	qsort(r, 11, sizeof *r, cmp_d);
	print_message("branin, 60 trials, median best of 11 seeds: tpe %.4f random %.4f\n", t[5],
	              r[5]);
	assert_true(t[5] < r[5]);
	assert_true(t[5] < 1.0);
	/* the same seed gives the same search */
	assert_true(run_search("tpe", 3, 30) == run_search("tpe", 3, 30));
}

static void test_tpe_categorical_conditional(void **state)
{
	(void)state;
	/* the objective is best with opt = b and k near 7 (only active for b) */
	cairn_sweep_spec *s =
	    parse_ok("method: tpe\nmetric: {name: y, goal: maximize}\ntrials: 60\n"
	             "parameters:\n"
	             "  opt: {values: [a, b, c]}\n"
	             "  k: {min: 0, max: 20, when: {opt: [b]}}\n");
	cairn_sampler *sm = NULL;
	assert_ok(cairn_sampler_new(&sm, s));
	int late_b = 0;
	for (int i = 0; i < 60; i++) {
		double x[2];
		assert_ok(cairn_sampler_suggest_x(x, sm, i));
		assert_int_equal(isnan(x[1]), x[0] != 1);
		double y = x[0] == 1 ? 10 - fabs(x[1] - 7) : 0;
		if (i >= 40)
			late_b += x[0] == 1;
		assert_ok(cairn_sampler_tell_x(sm, x, CAIRN_TRIAL_DONE, y));
	}
	assert_true(late_b >= 12);
	cairn_sampler_free(sm);
	cairn_sweep_spec_free(s);
}

static void test_median_rule(void **state)
{
	(void)state;
	cairn_sweep_spec *s = parse_ok("method: random\nmetric: {name: acc, goal: maximize}\n"
	                               "trials: 9\nearly_terminate: {type: median, warmup_steps: 2,"
	                               " min_trials: 3}\nparameters: {a: {values: [1]}}\n");
	assert_true(cairn_sweep_spec_early_stop(s));
	cairn_pruner *p = NULL;
	assert_ok(cairn_pruner_new(&p, s));
	int64_t steps[] = {0, 1, 2, 3, 4};
	double c1[] = {0.1, 0.2, 0.3, 0.4, 0.5}, c2[] = {0.2, 0.4, 0.6, 0.8, 0.9},
	       c3[] = {0.1, 0.3, 0.5, 0.7, 0.8};
	int stop = -1;
	double bad[] = {0.0, 0.0, 0.0, 0.0};
	assert_ok(cairn_pruner_add(p, steps, c1, 5));
	assert_ok(cairn_pruner_add(p, steps, c2, 5));
	assert_ok(cairn_pruner_check(&stop, p, steps, bad, 4));
	assert_int_equal(stop, 0); /* two completed trials: below min_trials */
	assert_ok(cairn_pruner_add(p, steps, c3, 5));
	assert_ok(cairn_pruner_check(&stop, p, steps, bad, 2));
	assert_int_equal(stop, 0); /* step 1 < warmup_steps */
	assert_ok(cairn_pruner_check(&stop, p, steps, bad, 3));
	assert_int_equal(stop, 1); /* step 2: 0.0 < median(0.3, 0.6, 0.5) */
	double good[] = {0.0, 0.1, 0.55};
	assert_ok(cairn_pruner_check(&stop, p, steps, good, 3));
	assert_int_equal(stop, 0); /* best 0.55 beats the median 0.5 */
	cairn_pruner_free(p);
	cairn_sweep_spec_free(s);
}

static void test_median_rule_best_and_sparse(void **state)
{
	(void)state;
	cairn_sweep_spec *s = parse_ok("method: random\nmetric: {name: loss}\ntrials: 9\n"
	                               "early_terminate: {type: median, min_trials: 1}\n"
	                               "parameters: {a: {values: [1]}}\n");
	cairn_pruner *p = NULL;
	assert_ok(cairn_pruner_new(&p, s));
	/* a completed trial logged every 10 steps */
	int64_t cs[] = {0, 10, 20};
	double cv[] = {1.0, 0.5, 0.2};
	assert_ok(cairn_pruner_add(p, cs, cv, 3));
	int stop = -1;
	/* at step 15 the reference is its value at step 10 (0.5); our best 0.4 is better */
	int64_t ts[] = {0, 5, 15};
	double tv[] = {0.9, 0.4, 0.6};
	assert_ok(cairn_pruner_check(&stop, p, ts, tv, 3));
	assert_int_equal(stop, 0);
	double tv2[] = {0.9, 0.8, 0.7};
	assert_ok(cairn_pruner_check(&stop, p, ts, tv2, 3));
	assert_int_equal(stop, 1);
	cairn_pruner_free(p);
	cairn_sweep_spec_free(s);
}

/* --- the queue -------------------------------------------------------------------------- */

typedef struct qctx {
	cairn_store *s;
	const char *sweep;
	int calls;
	int64_t seen_trials;
} qctx;

static int q_suggest(void *ctx, int64_t trial, char **out)
{
	qctx *q = ctx;
	q->calls++;
	/* reading the trials inside the claim's transaction works */
	char *j = NULL;
	assert_ok(cairn_sweep_trials_json(&j, q->s, q->sweep));
	q->seen_trials = 0;
	for (const char *p = j; (p = strstr(p, "\"trial\":")) != NULL; p++)
		q->seen_trials++;
	cairn_free(j);
	char buf[64];
	snprintf(buf, sizeof buf, "{\"a\":%lld}", (long long)trial * 10);
	*out = strdup(buf);
	return 0;
}

static void test_queue(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *sw = NULL;
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.name = "sw";
	assert_ok(cairn_run_create(&sw, u.s, &o));
	const char *id = cairn_run_id(sw);
	qctx q = {u.s, id, 0, 0};
	int64_t t;
	char *params = NULL;
	for (int i = 0; i < 3; i++) {
		assert_ok(cairn_sweep_trial_claim(&t, &params, u.s, id, 3, "h:1", q_suggest, &q));
		assert_int_equal(t, i);
		assert_int_equal(q.seen_trials, i);
		char want[32];
		snprintf(want, sizeof want, "{\"a\":%d}", i * 10);
		assert_string_equal(params, want);
		free(params);
	}
	assert_int_equal(cairn_sweep_trial_claim(&t, &params, u.s, id, 3, "h:1", q_suggest, &q),
	                 CAIRN_ENOTFOUND);
	assert_null(params);
	/* a child run, found by name */
	cairn_run *c = NULL;
	cairn_run_options co = CAIRN_RUN_OPTIONS_INIT;
	co.name = "sw-1";
	co.parent = id;
	assert_ok(cairn_run_create(&c, u.s, &co));
	char cid[33];
	assert_ok(cairn_sweep_child_find(cid, u.s, id, "sw-1"));
	assert_string_equal(cid, cairn_run_id(c));
	assert_int_equal(cairn_sweep_child_find(cid, u.s, id, "sw-9"), CAIRN_ENOTFOUND);
	assert_ok(cairn_run_finish(c, CAIRN_STATUS_PRUNED, 143));
	assert_ok(cairn_sweep_trial_set(u.s, id, 0, CAIRN_TRIAL_DONE, NULL, 0.5));
	assert_ok(cairn_sweep_trial_set(u.s, id, 1, CAIRN_TRIAL_PRUNED, cairn_run_id(c), 0.25));
	assert_int_equal(cairn_sweep_trial_set(u.s, id, 7, CAIRN_TRIAL_DONE, NULL, 1),
	                 CAIRN_ENOTFOUND);
	/* trial 2 was running when the driver stopped: back to the queue, then handed out again
	 * without a new suggestion */
	int64_t n = 0;
	assert_ok(cairn_sweep_trials_requeue(&n, u.s, id));
	assert_int_equal(n, 1);
	int calls = q.calls;
	assert_ok(cairn_sweep_trial_claim(&t, &params, u.s, id, 3, "h:2", q_suggest, &q));
	assert_int_equal(t, 2);
	assert_int_equal(q.calls, calls);
	assert_string_equal(params, "{\"a\":20}");
	free(params);
	char *j = NULL;
	assert_ok(cairn_sweep_trials_json(&j, u.s, id));
	char want[512];
	snprintf(
	    want, sizeof want,
	    "[{\"trial\":0,\"state\":\"done\",\"params\":{\"a\":0},\"run\":null,\"value\":0.5},"
	    "{\"trial\":1,\"state\":\"pruned\",\"params\":{\"a\":10},\"run\":\"%s\",\"value\":0."
	    "25},{\"trial\":2,\"state\":\"running\",\"params\":{\"a\":20},\"run\":null,"
	    "\"value\":null}]",
	    cairn_run_id(c));
	assert_string_equal(j, want);
	cairn_free(j);
	/* pruned is a status like the others, in queries too */
	char *rows = NULL;
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	char qs[80];
	snprintf(qs, sizeof qs, "status = pruned and parent = %.8s", id);
	qo.query = qs;
	assert_ok(cairn_query_runs_json(&rows, u.s, &qo));
	assert_contains(rows, cairn_run_id(c));
	cairn_free(rows);
	cairn_run_free(c);
	cairn_run_free(sw);
	unit_store_close(&u);
}

/* The typed queue: claims with typed params, the trial list, TPE told from
 * the store, and the two reads of a trial's run. */
static int typed_suggest(void *ctx, int64_t trial, char **out)
{
	cairn_sampler *sm = ctx;
	char *p = NULL;
	int rc = cairn_sampler_suggest(&p, sm, trial);
	if (rc == 0) {
		*out = strdup(p);
		cairn_free(p);
	}
	return rc;
}

static void test_queue_typed(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_sweep_spec *sp = parse_ok("method: tpe\n"
	                                "metric: {name: loss}\n"
	                                "trials: 4\n"
	                                "tpe: {startup_trials: 1}\n"
	                                "parameters:\n"
	                                "  lr: {min: 0.0, max: 1.0}\n"
	                                "  n: {min: 1, max: 5}\n"
	                                "  opt: {values: [adam, \"NaN\", 1.5, true]}\n");
	cairn_sampler *sm = NULL;
	assert_ok(cairn_sampler_new(&sm, sp));
	cairn_run *sw = NULL;
	assert_ok(cairn_run_create(&sw, u.s, NULL));
	const char *id = cairn_run_id(sw);
	int64_t t;
	cairn_params *p = NULL;
	assert_ok(cairn_sweep_trial_claim_params(&t, &p, u.s, id, 4, "h:1", typed_suggest, sm));
	assert_int_equal(t, 0);
	assert_int_equal(cairn_params_count(p), 3);
	cairn_value v;
	assert_string_equal(cairn_params_get(&v, p, 0), "lr");
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	assert_true(v.f >= 0 && v.f <= 1);
	assert_ok(cairn_params_lookup(&v, p, "n"));
	assert_int_equal(v.type, CAIRN_TYPE_INT);
	assert_ok(cairn_params_lookup(&v, p, "opt"));
	assert_true(v.type == CAIRN_TYPE_STRING || v.type == CAIRN_TYPE_FLOAT ||
	            v.type == CAIRN_TYPE_BOOL);
	if (v.type == CAIRN_TYPE_STRING) /* the quoted "NaN" stays a string */
		assert_true(strcmp(v.s, "adam") == 0 || strcmp(v.s, "NaN") == 0);
	cairn_params_free(p);

	/* the trial's run: status and objective, and its curve */
	cairn_run *tr = NULL;
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.name = "t-0";
	o.parent = id;
	assert_ok(cairn_run_create(&tr, u.s, &o));
	double val = 0;
	cairn_status st = CAIRN_STATUS_KILLED;
	assert_ok(cairn_sweep_run_objective(&val, &st, u.s, cairn_run_id(tr), "loss"));
	assert_true(isnan(val)); /* not logged yet */
	assert_int_equal(st, CAIRN_STATUS_RUNNING);
	int64_t *steps = NULL;
	double *vals = NULL;
	size_t n = 9;
	assert_ok(cairn_sweep_run_curve(&steps, &vals, &n, u.s, cairn_run_id(tr), "loss"));
	assert_int_equal(n, 0);
	cairn_free(steps);
	cairn_free(vals);
	assert_ok(cairn_run_log_metric(tr, "loss", 3.0, 0, 0));
	assert_ok(cairn_run_log_metric(tr, "loss", NAN, 1, 0));
	assert_ok(cairn_run_log_metric(tr, "loss", 0.5, 2, 0));
	assert_ok(cairn_run_finish(tr, CAIRN_STATUS_FINISHED, 0));
	assert_ok(cairn_sweep_run_objective(&val, &st, u.s, cairn_run_id(tr), "loss"));
	assert_true(val == 0.5);
	assert_int_equal(st, CAIRN_STATUS_FINISHED);
	assert_ok(cairn_sweep_run_objective(NULL, &st, u.s, cairn_run_id(tr), NULL));
	assert_ok(cairn_sweep_run_objective(&val, NULL, u.s, cairn_run_id(tr), "other"));
	assert_true(isnan(val));
	assert_ok(cairn_sweep_run_curve(&steps, &vals, &n, u.s, cairn_run_id(tr), "loss"));
	assert_int_equal(n, 3);
	assert_int_equal(steps[2], 2);
	assert_true(isnan(vals[1]));
	assert_true(vals[2] == 0.5);
	cairn_free(steps);
	cairn_free(vals);
	/* failures: no such run, NULL arguments */
	assert_int_equal(cairn_sweep_run_objective(&val, &st, u.s, "ffffffff", "loss"),
	                 CAIRN_ENOTFOUND);
	assert_true(isnan(val));
	assert_int_equal(cairn_sweep_run_objective(&val, &st, u.s, NULL, "loss"), CAIRN_EINVALID);
	assert_int_equal(cairn_sweep_run_objective(&val, &st, NULL, id, "loss"), CAIRN_EINVALID);
	assert_int_equal(cairn_sweep_run_curve(&steps, &vals, &n, u.s, "ffffffff", "loss"),
	                 CAIRN_ENOTFOUND);
	assert_null(steps);
	assert_int_equal(cairn_sweep_run_curve(&steps, &vals, &n, u.s, id, NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_sweep_run_curve(NULL, &vals, &n, u.s, id, "loss"), CAIRN_EINVALID);

	/* the trial list, typed as the JSON list says */
	assert_ok(cairn_sweep_trial_set(u.s, id, 0, CAIRN_TRIAL_DONE, cairn_run_id(tr), 0.5));
	assert_ok(cairn_sweep_trial_claim_params(&t, &p, u.s, id, 4, "h:1", typed_suggest, sm));
	assert_int_equal(t, 1);
	cairn_params_free(p);
	cairn_trial_list *l = NULL;
	assert_ok(cairn_sweep_trials(&l, u.s, id));
	assert_int_equal(cairn_trial_list_count(l), 2);
	const cairn_trial *t0 = cairn_trial_list_get(l, 0), *t1 = cairn_trial_list_get(l, 1);
	assert_int_equal(t0->trial, 0);
	assert_int_equal(t0->state, CAIRN_TRIAL_DONE);
	assert_string_equal(t0->run, cairn_run_id(tr));
	assert_true(t0->value == 0.5);
	assert_int_equal(cairn_params_count(t0->params), 3);
	assert_int_equal(t1->state, CAIRN_TRIAL_RUNNING);
	assert_null(t1->run);
	assert_true(isnan(t1->value));
	assert_null(cairn_trial_list_get(l, 2));
	cairn_trial_list_free(l);
	l = (cairn_trial_list *)1;
	assert_int_equal(cairn_sweep_trials(&l, u.s, "ffffffff"), CAIRN_ENOTFOUND);
	assert_null(l);
	assert_int_equal(cairn_sweep_trials(&l, u.s, NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_sweep_trials(NULL, u.s, id), CAIRN_EINVALID);
	assert_int_equal(cairn_trial_list_count(NULL), 0);
	assert_null(cairn_trial_list_get(NULL, 0));
	cairn_trial_list_free(NULL);

	/* told from the store == told by hand (the done trial only) */
	cairn_sampler *a = NULL, *b = NULL;
	assert_ok(cairn_sampler_new(&a, sp));
	assert_ok(cairn_sampler_new(&b, sp));
	assert_ok(cairn_sampler_tell_trials(a, u.s, id));
	char *j = NULL;
	assert_ok(cairn_sweep_trials_json(&j, u.s, id));
	const char *ps = strstr(j, "\"params\":") + 9;
	const char *pe = strchr(ps, '}');
	char *p0 = strndup(ps, (size_t)(pe - ps + 1));
	assert_ok(cairn_sampler_tell(b, p0, CAIRN_TRIAL_DONE, 0.5));
	free(p0);
	cairn_free(j);
	char *sa = NULL, *sb = NULL;
	assert_ok(cairn_sampler_suggest(&sa, a, 7));
	assert_ok(cairn_sampler_suggest(&sb, b, 7));
	assert_string_equal(sa, sb);
	cairn_free(sa);
	cairn_free(sb);
	assert_int_equal(cairn_sampler_tell_trials(a, u.s, "ffffffff"), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_sampler_tell_trials(NULL, u.s, id), CAIRN_EINVALID);
	cairn_sampler_free(a);
	cairn_sampler_free(b);

	/* a claim with no output is refused, and one past the budget is ENOTFOUND */
	assert_int_equal(
	    cairn_sweep_trial_claim_params(&t, NULL, u.s, id, 4, "h", typed_suggest, sm),
	    CAIRN_EINVALID);
	assert_int_equal(cairn_sweep_trial_claim_params(&t, &p, u.s, id, 2, "h", typed_suggest, sm),
	                 CAIRN_ENOTFOUND);
	assert_null(p);
	cairn_run_free(tr);
	cairn_run_free(sw);
	cairn_sampler_free(sm);
	cairn_sweep_spec_free(sp);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_grid_order),
	    cmocka_unit_test(test_random_seeded),
	    cmocka_unit_test(test_tpe_beats_random),
	    cmocka_unit_test(test_tpe_categorical_conditional),
	    cmocka_unit_test(test_median_rule),
	    cmocka_unit_test(test_median_rule_best_and_sparse),
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_queue_typed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
