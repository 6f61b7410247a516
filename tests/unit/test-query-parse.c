/*
 * tests/unit/test-query-parse.c — the query parser: precedence, quoting,
 * every operator and literal form, type checking, the sort and field
 * syntaxes, and every error message with its position.
 */
#include "unit.h"

#include <math.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/query/glob.h"
#include "lib/query/query.h"
#include "util/buf.h"

/* The tree as an s-expression: (and A B), (or A B), (not A), [field op lits]. */
static void dump(buf *b, const qnode *n)
{
	static const char *const ops[] = {
	    "=",    "!=",    "<",     "<=",     ">",  ">=",  "~",    "!~",
	    "like", "!like", "ilike", "!ilike", "in", "!in", "true", "present"};
	static const char *const kinds[] = {"num", "str", "word", "bool", "date", "dur"};
	char name[320];
	switch (n->type) {
	case QN_AND:
	case QN_OR:
		buf_puts(b, n->type == QN_AND ? "(and " : "(or ");
		dump(b, n->l);
		buf_putc(b, ' ');
		dump(b, n->r);
		buf_putc(b, ')');
		break;
	case QN_NOT:
		buf_puts(b, "(not ");
		dump(b, n->l);
		buf_putc(b, ')');
		break;
	case QN_CMP:
		qfield_name(name, sizeof name, &n->f);
		buf_printf(b, "[%s %s", name, ops[n->op]);
		for (size_t i = 0; i < n->nlits; i++) {
			const qlit *l = &n->lits[i];
			buf_printf(b, " %s:", kinds[l->kind]);
			if (l->kind == QL_STR || l->kind == QL_WORD)
				buf_printf(b, "%s", l->text);
			else if (l->kind == QL_BOOL)
				buf_puts(b, l->b ? "true" : "false");
			else if (isnan(l->num))
				buf_puts(b, "nan");
			else
				buf_printf(b, "%.12g", l->num);
		}
		buf_putc(b, ']');
		break;
	}
}

static char *parse_dump(const char *q)
{
	qexpr e;
	qerror err;
	if (qexpr_parse(&e, q, &err) != 0)
		fail_msg("'%s' did not parse: %s at %zu", q, err.msg, err.pos);
	buf b = BUF_INIT;
	if (e.root)
		dump(&b, e.root);
	qexpr_free(&e);
	return buf_detach(&b);
}

static void expect_tree(const char *q, const char *want)
{
	char *got = parse_dump(q);
	if (strcmp(got, want) != 0)
		fail_msg("'%s'\n   got  %s\n   want %s", q, got, want);
	free(got);
}

static void precedence(void **state)
{
	(void)state;
	expect_tree("", "");
	expect_tree("   ", "");
	expect_tree("tags.a or tags.b and tags.c",
	            "(or [tags.a true] (and [tags.b true] [tags.c true]))");
	expect_tree("tags.a and tags.b or tags.c",
	            "(or (and [tags.a true] [tags.b true]) [tags.c true])");
	expect_tree("not tags.a and tags.b", "(and (not [tags.a true]) [tags.b true])");
	expect_tree("not tags.a or not not tags.b",
	            "(or (not [tags.a true]) (not (not [tags.b true])))");
	expect_tree("(tags.a or tags.b) and tags.c",
	            "(and (or [tags.a true] [tags.b true]) [tags.c true])");
	expect_tree("tags.a and tags.b and tags.c",
	            "(and (and [tags.a true] [tags.b true]) [tags.c true])");
	expect_tree("not (tags.a and tags.b)", "(not (and [tags.a true] [tags.b true]))");
	expect_tree("((tags.a))", "[tags.a true]");
	expect_tree("tags.a AND tags.b OR NOT tags.c",
	            "(or (and [tags.a true] [tags.b true]) (not [tags.c true]))");
	expect_tree("tags.android and tags.order", "(and [tags.android true] [tags.order true])");
	expect_tree("metrics.valid_auc > 0.9 and params.model = \"lgbm\" and not tags.debug",
	            "(and (and [metrics.valid_auc > num:0.9] [params.model = str:lgbm]) (not "
	            "[tags.debug true]))");
	expect_tree(
	    "(params.lr < 1e-3 or params.optimizer in (\"adam\", \"sgd\")) and status = finished",
	    "(and (or [params.lr < num:0.001] [params.optimizer in str:adam str:sgd]) "
	    "[status = word:finished])");
}

static void operators(void **state)
{
	(void)state;
	expect_tree("metrics.a = 1", "[metrics.a = num:1]");
	expect_tree("metrics.a == 1", "[metrics.a = num:1]");
	expect_tree("metrics.a != 1", "[metrics.a != num:1]");
	expect_tree("metrics.a <> 1", "[metrics.a != num:1]");
	expect_tree("metrics.a < 1", "[metrics.a < num:1]");
	expect_tree("metrics.a <= 1", "[metrics.a <= num:1]");
	expect_tree("metrics.a > 1", "[metrics.a > num:1]");
	expect_tree("metrics.a >= 1", "[metrics.a >= num:1]");
	expect_tree("metrics.a>=1", "[metrics.a >= num:1]");
	expect_tree("name ~ \"resnet*\"", "[name ~ str:resnet*]");
	expect_tree("name !~ 'resnet*'", "[name !~ str:resnet*]");
	expect_tree("name like 'res%'", "[name like str:res%]");
	expect_tree("name LIKE 'res%'", "[name like str:res%]");
	expect_tree("name not like 'res%'", "[name !like str:res%]");
	expect_tree("name ilike 'RES%'", "[name ilike str:RES%]");
	expect_tree("name NOT ILIKE 'RES%'", "[name !ilike str:RES%]");
	expect_tree("params.a in (1, 'b', c)", "[params.a in num:1 str:b word:c]");
	expect_tree("params.a not in (1)", "[params.a !in num:1]");
	expect_tree("params.a IN(1,2)", "[params.a in num:1 num:2]");
	expect_tree("params.a is not null", "[params.a present]");
	expect_tree("params.a IS NULL", "(not [params.a present])");
	expect_tree("params.a", "[params.a true]");
	expect_tree("dirty", "[dirty true]");
	expect_tree("tags.debug = true", "[tags.debug true]");
	expect_tree("tags.debug = false", "(not [tags.debug true])");
	expect_tree("tags.debug != true", "(not [tags.debug true])");
	expect_tree("tags.debug != false", "[tags.debug true]");
	/* a key/value tag's value (cairn tag RUN team=nlp; MLflow's tags) */
	expect_tree("tags.team = 'nlp'", "[tags.team = str:nlp]");
	expect_tree("tags.team like 'n%'", "[tags.team like str:n%]");
	expect_tree("tags.`mlflow.runName` like 'x%'", "[tags.mlflow.runName like str:x%]");
	expect_tree("tags.`a b` = 'x'", "[tags.`a b` = str:x]");
	expect_tree("tags = a", "[tags = word:a]");
	expect_tree("tags ~ \"d*\"", "[tags ~ str:d*]");
	expect_tree("tags", "[tags true]");
}

static void literals(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	expect_tree("metrics.a > -1.5e-3", "[metrics.a > num:-0.0015]");
	expect_tree("metrics.a > +2", "[metrics.a > num:2]");
	expect_tree("metrics.a > .5", "[metrics.a > num:0.5]");
	expect_tree("metrics.a > 5.", "[metrics.a > num:5]");
	expect_tree("metrics.a = nan", "[metrics.a = num:nan]");
	expect_tree("metrics.a < inf", "[metrics.a < num:inf]");
	expect_tree("metrics.a > -Infinity", "[metrics.a > num:-inf]");
	/* numbers read through cairn_metric_value_parse; past a double's range: ±inf */
	expect_tree("metrics.a < 1e999", "[metrics.a < num:inf]");
	expect_tree("metrics.a > -1e999", "[metrics.a > num:-inf]");
	expect_tree("metrics.a > 4.9e-324", "[metrics.a > num:4.94065645841e-324]");
	expect_tree("metrics.a > '0.5'", "[metrics.a > str:0.5]");
	expect_tree("duration > 1h30m", "[duration > dur:5400]");
	expect_tree("duration < 90s", "[duration < dur:90]");
	expect_tree("duration < 1.5d", "[duration < dur:129600]");
	expect_tree("duration < 2w", "[duration < dur:1209600]");
	expect_tree("started > 2026-11-01", "[started > date:1793491200]");
	expect_tree("started > 2026-11-01T12:30", "[started > date:1793536200]");
	expect_tree("started > 2026-11-01T12:30:15Z", "[started > date:1793536215]");
	expect_tree("started > 2026-11-01T12:30:15.5Z", "[started > date:1793536215.5]");
	expect_tree("started > 2026-11-01T12:30:00+02:00", "[started > date:1793529000]");
	expect_tree("started > 2026-11-01T12:30:00-0100", "[started > date:1793539800]");
	expect_tree("started > '2026-11-01 12:30'", "[started > str:2026-11-01 12:30]");
	expect_tree("started > 1793491200", "[started > num:1793491200]");
	expect_tree("attributes.start_time > 2026-11-01",
	            "[attributes.start_time > date:1.7934912e+12]");
	expect_tree("params.a = true", "[params.a = bool:true]");
	expect_tree("params.a = FALSE", "[params.a = bool:false]");
	expect_tree("params.a = 'it''s'", "[params.a = str:it's]");
	expect_tree("params.a = \"say \\\"hi\\\"\"", "[params.a = str:say \"hi\"]");
	expect_tree("params.a = 'a\\\\b'", "[params.a = str:a\\b]");
	expect_tree("params.a = 'a\\*b'", "[params.a = str:a\\*b]");
	expect_tree("params.a = ''", "[params.a = str:]");
	expect_tree("params.a = 'ünï'", "[params.a = str:ünï]");
	expect_tree("commit = 3fa2b1c", "[commit = word:3fa2b1c]");
	expect_tree("params.a = 1e5x", "[params.a = word:1e5x]");
	expect_tree("params.a = v1.2-rc", "[params.a = word:v1.2-rc]");
	expect_tree("status = FINISHED", "[status = word:FINISHED]");
	/* the readings a literal carries */
	qexpr e;
	qerror err;
	assert_int_equal(qexpr_parse(&e, "params.a in ('5', \"true\", 7, x, 2.5)", &err), 0);
	qlit *l = e.root->lits;
	assert_true(l[0].has_num && l[0].is_int && l[0].i == 5 && !l[0].has_bool);
	assert_true(l[1].has_bool && l[1].b && !l[1].has_num);
	assert_true(l[2].has_num && l[2].is_int && l[2].i == 7);
	assert_string_equal(l[2].text, "7");
	assert_true(!l[3].has_num && !l[3].has_bool);
	assert_true(l[4].has_num && !l[4].is_int && l[4].num == 2.5);
	qexpr_free(&e);
	assert_int_equal(qexpr_parse(&e, "status in (finished, 'Crashed', scheduled)", &err), 0);
	assert_int_equal(e.root->lits[0].status_mask, 1u << CAIRN_STATUS_FINISHED);
	assert_int_equal(e.root->lits[1].status_mask, 1u << CAIRN_STATUS_CRASHED);
	assert_int_equal(e.root->lits[2].status_mask, 0);
	qexpr_free(&e);
	assert_int_equal(qexpr_parse(&e, "status ~ '*ed'", &err), 0);
	assert_int_equal(e.root->lits[0].status_mask,
	                 (1u << CAIRN_STATUS_FINISHED) | (1u << CAIRN_STATUS_FAILED) |
	                     (1u << CAIRN_STATUS_KILLED) | (1u << CAIRN_STATUS_CRASHED) |
	                     (1u << CAIRN_STATUS_PRUNED));
	qexpr_free(&e);
}

static void fields(void **state)
{
	(void)state;
	expect_tree("metrics.loss", "[metrics.loss true]");
	expect_tree("metric.loss", "[metrics.loss true]");
	expect_tree("metrics.train.loss > 1", "[metrics.train.loss > num:1]");
	expect_tree("metrics.train/loss > 1", "[metrics.train/loss > num:1]");
	expect_tree("metrics.val-loss > 1", "[metrics.val-loss > num:1]");
	expect_tree("metrics.loss.min > 1", "[metrics.loss.min > num:1]");
	expect_tree("metrics.loss.MAX > 1", "[metrics.loss.max > num:1]");
	expect_tree("metrics.loss.count > 1", "[metrics.loss.count > num:1]");
	expect_tree("metrics.loss.step > 1", "[metrics.loss.step > num:1]");
	expect_tree("metrics.loss.last > 1", "[metrics.loss > num:1]");
	expect_tree("metrics.min > 1", "[metrics.min > num:1]");
	expect_tree("metrics.`loss.min` > 1", "[metrics.`loss.min` > num:1]");
	expect_tree("metrics.`my metric` > 1", "[metrics.`my metric` > num:1]");
	expect_tree("metrics.\"my metric\" > 1", "[metrics.`my metric` > num:1]");
	expect_tree("metrics.`a``b` > 1", "[metrics.`a``b` > num:1]");
	expect_tree("metrics.`a b`.max > 1", "[metrics.`a b`.max > num:1]");
	expect_tree("params.`batch size` = 3", "[params.`batch size` = num:3]");
	expect_tree("param.lr = 3", "[params.lr = num:3]");
	expect_tree("parameters.lr = 3", "[params.lr = num:3]");
	expect_tree("properties.owner = me", "[properties.owner = word:me]");
	expect_tree("props.owner = me", "[properties.owner = word:me]");
	expect_tree("datasets.train.digest = x", "[datasets.train = word:x]");
	expect_tree("datasets.train = x", "[datasets.train = word:x]");
	expect_tree("datasets.train.files > 3", "[datasets.train.files > num:3]");
	expect_tree("datasets.train.v2.bytes > 3", "[datasets.train.v2.bytes > num:3]");
	expect_tree("datasets.`train.files` = x", "[datasets.`train.files` = word:x]");
	expect_tree("attributes.status = 'FINISHED'", "[status = str:FINISHED]");
	expect_tree("attribute.run_name = x", "[name = word:x]");
	expect_tree("attr.run_id = abcd", "[id = word:abcd]");
	expect_tree("run.user_id = me", "[user = word:me]");
	expect_tree("attributes.created > 5", "[attributes.start_time > num:5]");
	expect_tree("attributes.end_time > 5", "[attributes.end_time > num:5]");
	expect_tree("STATUS = finished", "[status = word:finished]");
	static const char *const attrs[] = {
	    "id",   "seq",    "name",   "project", "status", "started", "ended", "duration", "user",
	    "host", "commit", "branch", "remote",  "dirty",  "command", "note",  "exit_code"};
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		char q[64], want[64];
		snprintf(q, sizeof q, "%s is not null", attrs[i]);
		snprintf(want, sizeof want, "[%s present]", attrs[i]);
		expect_tree(q, want);
	}
	/* field names for --columns and the web UI */
	char *out;
	size_t pos;
	assert_ok(cairn_query_field_json(&out, "metrics.`a b`.max", &pos));
	assert_string_equal(out, "{\"field\":\"metrics.`a b`.max\",\"kind\":\"metric\",\"key\":\"a "
	                         "b\",\"part\":\"max\"}");
	cairn_free(out);
	assert_ok(cairn_query_field_json(&out, "attributes.start_time", &pos));
	assert_string_equal(out, "{\"field\":\"attributes.start_time\",\"kind\":\"attribute\","
	                         "\"key\":\"start_time\",\"part\":null}");
	cairn_free(out);
	assert_ok(cairn_query_field_json(&out, " datasets.train ", &pos));
	assert_string_equal(out, "{\"field\":\"datasets.train\",\"kind\":\"dataset\",\"key\":"
	                         "\"train\",\"part\":\"digest\"}");
	cairn_free(out);
	assert_ok(cairn_query_field_json(&out, "tags", &pos));
	assert_string_equal(out,
	                    "{\"field\":\"tags\",\"kind\":\"tags\",\"key\":null,\"part\":null}");
	cairn_free(out);
	assert_int_equal(cairn_query_field_json(&out, "params.a b", &pos), CAIRN_EINVALID);
	assert_int_equal(pos, 9);
	assert_null(out);
}

static void sorts(void **state)
{
	(void)state;
	qexpr e = {0};
	qsortkey k[QUERY_MAX_SORT];
	size_t n;
	qerror err;
	char name[320];
	assert_int_equal(qsort_parse(k, &n, &e, "-metrics.valid_auc, params.lr,+name", &err), 0);
	assert_int_equal(n, 3);
	qfield_name(name, sizeof name, &k[0].f);
	assert_string_equal(name, "metrics.valid_auc");
	assert_true(k[0].desc && !k[1].desc && !k[2].desc);
	assert_int_equal(qsort_parse(k, &n, &e, "metrics.rmse DESC, started asc", &err), 0);
	assert_true(n == 2 && k[0].desc && !k[1].desc);
	assert_int_equal(qsort_parse(k, &n, &e, "", &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(qsort_parse(k, &n, &e, "-metrics.`a,b`", &err), 0);
	assert_string_equal(k[0].f.key, "a,b");
	qexpr_free(&e);
	size_t pos;
	assert_ok(cairn_query_sort_validate("-metrics.a,params.b", &pos));
}

/* Every error: the message and the position (0-based, and in the text). */
static void errors(void **state)
{
	(void)state;
	static const struct {
		const char *q;
		const char *msg;
		size_t pos;
	} cases[] = {
	    {"metrics.a > \x01", "control character 0x01", 12},
	    {"params.a = 'abc", "unterminated string", 11},
	    {"params.`abc = 1", "unterminated backquote", 7},
	    {"params.`` = 1", "empty key in backquotes", 7},
	    {"params.\"\" = 1", "empty key in quotes", 7},
	    {"= 1", "expected a field (metrics.KEY, params.KEY, tags.TAG, status, …), found '='",
	     0},
	    {"1 = 1", "expected a field", 0},
	    {"params. = 1", "expected a key after '.'", 7},
	    {"foo = 1", "unknown field 'foo' (fields are metrics.KEY", 0},
	    {"`metrics`.a = 1", "unknown field", 0},
	    {"attributes.bogus = 1", "unknown field 'attributes.bogus'", 0},
	    {"start_time > 1", "unknown field 'start_time'", 0},
	    {"metrics = 1", "expected a key after 'metrics'", 7},
	    {"attributes = 1", "expected an attribute name after 'attributes'", 10},
	    {"name.x = 1", "unknown field 'name.x'", 0},
	    {"metrics.a >", "expected a value after '>'", 11},
	    {"metrics.a > )", "expected a value after '>', found ')'", 12},
	    {"params.a = `x`", "backquotes name fields; quote values with ' or \"", 11},
	    {"params.a = and", "expected a value after '=', found the keyword 'and'", 11},
	    {"params.a = null", "null is not a value: write 'FIELD is null' or 'FIELD is not null'",
	     11},
	    {"started > 2026-13-01", "invalid date '2026-13-01'", 10},
	    {"started > 2026-02-30", "invalid date", 10},
	    {"started > 2025-02-29", "invalid date", 10},
	    {"started > 2026-01-01T25:00", "invalid date", 10},
	    {"started > 2026-01-01X", "invalid date", 10},
	    {"metrics.a > abc", "metrics.a is a number; 'abc' is not", 12},
	    {"metrics.a = true", "metrics.a is a number; 'true' is not", 12},
	    {"dirty = 3", "dirty is true or false; '3' is neither", 8},
	    {"started > 1h", "started is a time: compare it with a date, not a duration", 10},
	    {"started > true", "started is a time; 'true' is not", 10},
	    {"started > nan", "started is a time; 'nan' is not", 10},
	    {"started > 'yesterday'", "invalid date 'yesterday'", 10},
	    {"status = bogus",
	     "unknown status 'bogus' (expected running, finished, failed, killed, crashed or "
	     "pruned)",
	     9},
	    {"tags.a > true",
	     "tags.a is present or not: write tags.a, not tags.a, or tags.a = true", 0},
	    {"tags.a in (true, false)", "tags.a is present or not", 0},
	    {"tags > 'a'", "tags is a set of tags: it has no order (use =, != or in)", 0},
	    {"status < finished", "status is a status: it has no order", 0},
	    {"dirty > false", "dirty is true or false: it has no order", 0},
	    {"metrics.a ~ 'x*'", "'~' matches text, but metrics.a is a number", 0},
	    {"started like '2026%'", "'like' matches text, but started is a time", 0},
	    {"dirty ilike 't%'", "'ilike' matches text, but dirty is true or false", 0},
	    {"params.a not = 1", "expected 'in', 'like' or 'ilike' after 'not'", 13},
	    {"params.a is nothing", "expected 'null' after 'is'", 12},
	    {"params.a is not 1", "expected 'null' after 'is'", 16},
	    {"params.a 1",
	     "expected an operator (=, !=, <, <=, >, >=, ~, in, like) after params.a, "
	     "found '1'",
	     9},
	    {"params.a in 1", "expected '(' after 'in'", 12},
	    {"params.a in ()", "empty list after 'in'", 12},
	    {"params.a in (1 2)", "expected ',' or ')' in the list after 'in'", 15},
	    {"params.a in (1,", "expected a value after ','", 15},
	    {"(tags.a", "unclosed '('", 0},
	    {"(tags.a tags.b)", "expected an operator", 8},
	    {"(tags.a or tags.b", "unclosed '('", 0},
	    {"tags.a)", "unexpected ')'", 6},
	    {")", "unexpected ')'", 0},
	    {"()", "unexpected ')'", 1},
	    {"tags.a and", "expected a condition", 10},
	    {"not", "expected a condition", 3},
	    {"tags.a tags.b", "expected an operator", 7},
	    {"tags.a = true x", "expected 'and', 'or' or the end after the condition, found 'x'",
	     14},
	    {"params.a = 1 2", "expected 'and', 'or' or the end after the condition, found '2'",
	     13},
	    {"params.a = 'x' 'y'", "expected 'and', 'or' or the end", 15},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t pos = 99999;
		int rc = cairn_query_validate(cases[i].q, &pos);
		if (rc != CAIRN_EINVALID)
			fail_msg("'%s' was accepted", cases[i].q);
		const char *m = cairn_error_last();
		if (!strstr(m, cases[i].msg))
			fail_msg("'%s':\n   got  %s\n   want %s", cases[i].q, m, cases[i].msg);
		if (pos != cases[i].pos)
			fail_msg("'%s': position %zu, want %zu (%s)", cases[i].q, pos, cases[i].pos,
			         m);
		assert_true(strncmp(m, "invalid query: ", 15) == 0);
	}
	/* the position in the message counts characters from 1, or says "the end" */
	size_t pos;
	cairn_query_validate("params.ü = 1 2", &pos);
	assert_non_null(strstr(cairn_error_last(), "at character 14"));
	assert_int_equal(pos, 14);
	cairn_query_validate("metrics.a >", &pos);
	assert_non_null(strstr(cairn_error_last(), "after '>' at the end"));
	/* bounds */
	char *big = malloc(QUERY_MAX_BYTES + 2);
	memset(big, ' ', QUERY_MAX_BYTES + 1);
	big[QUERY_MAX_BYTES + 1] = '\0';
	assert_int_equal(cairn_query_validate(big, &pos), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "too long (16385 bytes, at most 16384)"));
	free(big);
	buf b = BUF_INIT;
	for (int i = 0; i < QUERY_MAX_DEPTH + 1; i++)
		buf_putc(&b, '(');
	buf_puts(&b, "tags.a");
	assert_int_equal(cairn_query_validate(b.ptr, &pos), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "query nests too deeply (more than 64 levels)"));
	assert_int_equal(pos, QUERY_MAX_DEPTH);
	buf_clear(&b);
	for (int i = 0; i < QUERY_MAX_DEPTH + 1; i++)
		buf_puts(&b, "not ");
	buf_puts(&b, "tags.a");
	assert_int_equal(cairn_query_validate(b.ptr, &pos), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "nests too deeply"));
	buf_clear(&b);
	for (int i = 0; i <= QUERY_MAX_TERMS; i++)
		buf_printf(&b, "%stags.t%d", i ? " or " : "", i);
	assert_int_equal(cairn_query_validate(b.ptr, &pos), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "too many conditions (at most 256)"));
	buf_clear(&b);
	buf_puts(&b, "params.a in (");
	for (int i = 0; i <= QUERY_MAX_LIST; i++)
		buf_printf(&b, "%s%d", i ? "," : "", i);
	buf_putc(&b, ')');
	assert_int_equal(cairn_query_validate(b.ptr, &pos), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "list too long (at most 1000 values)"));
	buf_clear(&b);
	buf_puts(&b, "metrics.");
	for (int i = 0; i < 300; i++)
		buf_putc(&b, 'k');
	assert_int_equal(cairn_query_validate(b.ptr, &pos), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "key too long (300 bytes, at most 250)"));
	buf_clear(&b);
	for (int i = 0; i < 70; i++)
		buf_puts(&b, "a.");
	buf_puts(&b, "a");
	assert_int_equal(cairn_query_validate(b.ptr, &pos), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "field has too many parts"));
	buf_free(&b);
	/* sorts and fields */
	static const struct {
		const char *s;
		const char *msg;
		size_t pos;
	} scases[] = {
	    {"-metrics.a,", "expected a field after ','", 11},
	    {"-tags", "cannot sort by tags (it is a set of tags)", 1},
	    {"metrics.a params.b", "expected ',' between sort keys, found 'params.b'", 10},
	    {"a,b,c,d,e,f,g,h,i", "unknown field 'a'", 0},
	    {"name,name,name,name,name,name,name,name,name", "too many sort keys (at most 8)", 40},
	    {"--name", "expected a field", 1},
	};
	for (size_t i = 0; i < sizeof scases / sizeof scases[0]; i++) {
		assert_int_equal(cairn_query_sort_validate(scases[i].s, &pos), CAIRN_EINVALID);
		const char *m = cairn_error_last();
		if (!strstr(m, scases[i].msg) || pos != scases[i].pos)
			fail_msg("sort '%s':\n   got  %s (at %zu)\n   want %s (at %zu)",
			         scases[i].s, m, pos, scases[i].msg, scases[i].pos);
		assert_true(strncmp(m, "invalid sort: ", 14) == 0);
	}
	char *out;
	assert_int_equal(cairn_query_field_json(&out, "metrics.a > 1", &pos), CAIRN_EINVALID);
	assert_non_null(
	    strstr(cairn_error_last(), "invalid field: unexpected '>' after the field"));
	assert_int_equal(pos, 10);
}

static void directions(void **state)
{
	(void)state;
	static const struct {
		const char *k;
		int dir;
	} cases[] = {{"loss", -1},
	             {"valid_loss", -1},
	             {"trainLoss", -1},
	             {"val/error", -1},
	             {"rmse", -1},
	             {"test.mae", -1},
	             {"perplexity", -1},
	             {"valid_auc", 1},
	             {"accuracy", 1},
	             {"top1_acc", 1},
	             {"f1", 1},
	             {"macro-F1", 1},
	             {"precision@5", 1},
	             {"recall", 1},
	             {"epoch", 0},
	             {"lr", 0},
	             {"glossary", 0},
	             {"accident_rate", 0},
	             {"val_loss_acc", -1},
	             {"", 0}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (cairn_metric_direction(cases[i].k) != cases[i].dir)
			fail_msg("direction of '%s' is %d, want %d", cases[i].k,
			         cairn_metric_direction(cases[i].k), cases[i].dir);
	assert_int_equal(cairn_metric_direction(NULL), 0);
}

/* The glob and LIKE matchers against SQLite's own (the store evaluates the
 * same patterns in SQL): fixed cases, then random patterns and texts over a
 * small alphabet with wildcards, sets, case and UTF-8. */
static void patterns(void **st)
{
	(void)st;
	static const struct {
		const char *pat, *text;
		bool glob, like, ilike;
	} cases[] = {
	    {"f*", "finished", true, false, false},
	    {"*ed", "failed", true, false, false},
	    {"f%", "finished", false, true, true},
	    {"F%", "finished", false, false, true},
	    {"[a-f]ailed", "failed", true, false, false},
	    {"[^a-f]ailed", "failed", false, false, false},
	    {"[]]", "]", true, false, false},
	    {"[a-", "a", false, false, false},
	    {"r?nning", "running", true, false, false},
	    {"r_nning", "running", false, true, true},
	    {"*", "", true, false, false},
	    {"%", "", false, true, true},
	    {"_", "\xc3\xa9", false, true, true},
	    {"?", "\xc3\xa9", true, false, false},
	    {"[\xc3\xa9]", "\xc3\xa9", true, false, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(glob_match(cases[i].pat, cases[i].text), cases[i].glob);
		assert_int_equal(like_match(cases[i].pat, cases[i].text, false), cases[i].like);
		assert_int_equal(like_match(cases[i].pat, cases[i].text, true), cases[i].ilike);
	}
	static const char *const atoms[] = {"a",    "b",        "A",    "*", "?", "%",
	                                    "_",    "[",        "]",    "^", "-", "[a-b]",
	                                    "[^a]", "\xc3\xa9", "\xff", "z"};
	const size_t natoms = sizeof atoms / sizeof atoms[0];
	unsigned seed = 12345;
	for (int iter = 0; iter < 200000; iter++) {
		char pat[64] = "", text[64] = "";
		int np = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 7;
		int nt = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 7;
		for (int k = 0; k < np; k++)
			strcat(pat, atoms[((seed = seed * 1103515245u + 12345u) >> 16) % natoms]);
		for (int k = 0; k < nt; k++)
			strcat(text, atoms[((seed = seed * 1103515245u + 12345u) >> 16) % natoms]);
		bool g = sqlite3_strglob(pat, text) == 0;
		bool l = sqlite3_strlike(pat, text, 0) == 0;
		if (glob_match(pat, text) != g)
			fail_msg("glob '%s' on '%s': sqlite says %d", pat, text, g);
		/* sqlite3_strlike folds ASCII case, as ilike */
		if (like_match(pat, text, true) != l)
			fail_msg("ilike '%s' on '%s': sqlite says %d", pat, text, l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(precedence), cmocka_unit_test(operators), cmocka_unit_test(literals),
	    cmocka_unit_test(fields),     cmocka_unit_test(sorts),     cmocka_unit_test(errors),
	    cmocka_unit_test(directions), cmocka_unit_test(patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
