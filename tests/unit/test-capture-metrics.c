/*
 * tests/unit/test-capture-metrics.c — metric lines in program output: the
 * default recogniser, custom patterns, and the streaming feed across chunk
 * boundaries.
 */
#include "unit.h"

#include <math.h>

#include "util/json.h"

typedef struct got {
	char text[4096]; /* "key=value@step;" per metric */
} got;

static int collect(void *ctx, const char *key, double value, int64_t step)
{
	got *g = ctx;
	char one[300];
	if (step == CAIRN_STEP_AUTO)
		snprintf(one, sizeof one, "%s=%g;", key, value);
	else
		snprintf(one, sizeof one, "%s=%g@%lld;", key, value, (long long)step);
	strncat(g->text, one, sizeof g->text - strlen(g->text) - 1);
	return 0;
}

static const char *parse(cairn_metric_parser *p, const char *line)
{
	static got g;
	g.text[0] = '\0';
	int n = cairn_metric_parse_line(p, line, strlen(line), collect, &g);
	assert_true(n >= 0);
	return g.text;
}

static void test_default_lines(void **state)
{
	(void)state;
	cairn_metric_parser *p = NULL;
	assert_ok(cairn_metric_parser_new(&p, NULL));
	static const char *const cases[][2] = {
	    {"loss=0.5", "loss=0.5;"},
	    {"epoch 3 loss=0.21 acc=0.93", "loss=0.21@3;acc=0.93@3;"},
	    {"Epoch 3/10 - loss: 0.2", "loss=0.2@3;"},
	    {"step=7 lr = 3e-4, grad_norm=1.5", "lr=0.0003@7;grad_norm=1.5@7;"},
	    {"{'loss': 0.5, 'learning_rate': 5e-05, 'epoch': 0.1}",
	     "loss=0.5;learning_rate=5e-05;epoch=0.1;"},
	    {"{\"val/auc\": 0.91, \"step\": 12}", "val/auc=0.91@12;"},
	    {"12:30:45 started", ""},
	    {"version v1.2.3 time: 3.2s progress: 100%", ""},
	    {"INFO:root:loss: 0.4", "loss=0.4;"},
	    {"http://localhost/path", ""},
	    {"a=1 b=x c=-2", "a=1;c=-2;"},
	    {"loss=nan acc=inf", "loss=nan;acc=inf;"},
	    {"iter: 5 | loss: 1.25 | ppl: 3.5", "loss=1.25@5;ppl=3.5@5;"},
	    {"no metrics here", ""},
	    {"x=", ""},
	    {"=1", ""},
	    {"tqdm 10%|#  | 1/10 [00:01<00:09, loss=0.9]\rtqdm 20%|## | 2/10 loss=0.8]",
	     "loss=0.9;loss=0.8;"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *r = parse(p, cases[i][0]);
		if (strcmp(r, cases[i][1]) != 0)
			fail_msg("line '%s': got '%s', want '%s'", cases[i][0], r, cases[i][1]);
	}
	cairn_metric_parser_free(p);
}

static void test_custom_pattern(void **state)
{
	(void)state;
	cairn_metric_parser *p = NULL;
	assert_ok(cairn_metric_parser_new(&p, "METRIC ([a-z_]+) ([-0-9.e]+)"));
	assert_string_equal(parse(p, "METRIC loss 0.5 METRIC acc 0.9"), "loss=0.5;acc=0.9;");
	assert_string_equal(parse(p, "loss=0.5"), "");
	assert_string_equal(parse(p, "METRIC step 4 METRIC loss 1"), "loss=1@4;");
	cairn_metric_parser_free(p);
	assert_int_equal(cairn_metric_parser_new(&p, "(unclosed"), CAIRN_EINVALID);
	assert_int_equal(cairn_metric_parser_new(&p, "only ([a-z]+) one group"), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "two groups"));
}

static void test_feed_chunks(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *r = NULL;
	cairn_metric_parser *p = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_metric_parser_new(&p, NULL));
	const char *text = "plain line\nstep=1 loss=0.9\nnoise: here\nstep=2 loss=0.7\n"
	                   "step=3 loss=0.5\ntail loss=0.25";
	/* feed one byte at a time: lines split at every position */
	for (const char *c = text; *c; c++)
		assert_ok(cairn_metric_parser_feed(p, r, c, 1));
	assert_ok(cairn_metric_parser_finish(p, r));
	/* a line longer than the parser keeps is skipped, the next one is not */
	char *big = malloc(100000);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	assert_ok(cairn_metric_parser_feed(p, r, "acc=0.1 ", 8));
	assert_ok(cairn_metric_parser_feed(p, r, big, strlen(big)));
	assert_ok(cairn_metric_parser_feed(p, r, "\nacc=0.2\n", 9));
	free(big);
	assert_ok(cairn_run_flush(r));
	char *js = NULL, err[128];
	assert_ok(cairn_run_metric_history_json(&js, u.s, cairn_run_id(r), "loss"));
	json_doc *d = json_parse(js, strlen(js), NULL, err, sizeof err);
	assert_non_null(d);
	const json *pt = json_root(d)->child;
	static const double want[] = {0.9, 0.7, 0.5, 0.25};
	for (int i = 0; i < 4; i++, pt = pt->next) {
		assert_non_null(pt);
		assert_int_equal(pt->child->i, i + 1); /* steps 1, 2, 3, then the next: 4 */
		assert_true(pt->child->next->next->num == want[i]);
	}
	assert_null(pt);
	json_doc_free(d);
	cairn_free(js);
	assert_ok(cairn_run_metric_history_json(&js, u.s, cairn_run_id(r), "acc"));
	/* only the short line after the overlong one */
	assert_int_equal(strncmp(js, "[[0,", 4), 0);
	assert_non_null(strstr(js, ",0.2]]"));
	assert_null(strstr(js, "0.1"));
	cairn_free(js);
	cairn_metric_parser_free(p);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* The feed with a callback: the same lines, across chunks, handed to the
 * callback instead of logged; its error stops the feed. */
static int stop_at_b(void *ctx, const char *key, double value, int64_t step)
{
	(void)value;
	(void)step;
	(*(int *)ctx)++;
	return strcmp(key, "b") == 0 ? CAIRN_ENOMEM : 0;
}

static void test_feed_cb(void **state)
{
	(void)state;
	cairn_metric_parser *p = NULL;
	assert_ok(cairn_metric_parser_new(&p, NULL));
	got g = {{0}};
	const char *text = "epoch 1 loss=0.5\nnothing\nacc: 0.25 f1=1\ntail=7";
	for (const char *c = text; *c; c++)
		assert_ok(cairn_metric_parser_feed_cb(p, c, 1, collect, &g));
	assert_string_equal(g.text, "loss=0.5@1;acc=0.25;f1=1;");
	assert_ok(cairn_metric_parser_finish_cb(p, collect, &g));
	assert_string_equal(g.text, "loss=0.5@1;acc=0.25;f1=1;tail=7;");
	int n = 0;
	assert_int_equal(cairn_metric_parser_feed_cb(p, "a=1 b=2 c=3\nd=4\n", 16, stop_at_b, &n),
	                 CAIRN_ENOMEM);
	assert_int_equal(n, 2);
	assert_int_equal(cairn_metric_parser_feed_cb(NULL, "x", 1, collect, &g), CAIRN_EINVALID);
	assert_int_equal(cairn_metric_parser_feed_cb(p, "x", 1, NULL, &g), CAIRN_EINVALID);
	assert_int_equal(cairn_metric_parser_finish_cb(p, NULL, &g), CAIRN_EINVALID);
	cairn_metric_parser_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_lines),
	    cmocka_unit_test(test_custom_pattern),
	    cmocka_unit_test(test_feed_chunks),
	    cmocka_unit_test(test_feed_cb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
