/*
 * tests/unit/test-ingest.c — the fast decoder of a metrics batch
 * (server/ingest.c, compiled in) against its model, the general path
 * (server/body.c: body_parse, then body_metrics): on every body the fast
 * decoder accepts, the general path accepts the same points, bit for bit;
 * on every body the general path refuses, the fast decoder gives up.
 * Bodies come from hand-written cases and from a seeded generator of the
 * shape with mutations; numbers are also checked against strtod directly.
 */
#include "unit.h"

#include <math.h>

#include "server/body.c"
#include "server/ingest.c"

#define MAXB 1000000

static bool same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

typedef enum { FAST, SLOW_OK, SLOW_BAD } outcome;

/* Decode text both ways and check they agree; returns which way it went. */
static outcome decode_both(const char *text, size_t len, size_t *npoints)
{
	char err[512];
	ingest_batch b;
	bool fast = ingest_decode(&b, text, len, MAXB);
	json_doc *d = body_parse(text, len, MAXB, err, sizeof err);
	metric_in *m = NULL;
	size_t n = 0;
	int rc = d ? body_metrics(json_root(d), &m, &n, err, sizeof err) : -1;
	outcome o = fast ? FAST : rc == 0 ? SLOW_OK : SLOW_BAD;
	if (fast) {
		if (rc != 0)
			fail_msg("fast accepted what the general path refuses (%s): %.200s", err,
			         text);
		if (b.n != n)
			fail_msg("%zu points fast, %zu general: %.200s", b.n, n, text);
		for (size_t i = 0; i < n; i++) {
			const metric_in *f = &b.pts[i], *g = &m[i];
			if (strcmp(f->key, g->key) != 0 || !same_double(f->value, g->value) ||
			    f->step != g->step || !same_double(f->timestamp, g->timestamp))
				fail_msg("point %zu differs: fast %s %.17g %lld %.17g, general %s "
				         "%.17g %lld %.17g: %.200s",
				         i, f->key, f->value, (long long)f->step, f->timestamp,
				         g->key, g->value, (long long)g->step, g->timestamp, text);
		}
		ingest_batch_free(&b);
	}
	if (npoints)
		*npoints = n;
	free(m);
	json_doc_free(d);
	return o;
}

static outcome decode_str(const char *text)
{
	return decode_both(text, strlen(text), NULL);
}

static void test_common_shape(void **state)
{
	(void)state;
	size_t n;
	const char *ok = "{\"metrics\":[{\"key\":\"loss\",\"value\":0.25,\"step\":3},"
	                 "{\"key\":\"acc\",\"value\":1e-3},"
	                 "{\"key\":\"loss\",\"value\":\"NaN\",\"step\":null,\"timestamp\":null},"
	                 "{\"timestamp\":1700000000.5,\"value\":-0,\"key\":\"a/b c\"}]}";
	assert_int_equal(decode_both(ok, strlen(ok), &n), FAST);
	assert_int_equal(n, 4);
	ingest_batch b;
	assert_true(ingest_decode(&b, ok, strlen(ok), MAXB));
	assert_int_equal(b.nkeys, 3); /* loss, acc, a/b c: each copied once */
	assert_ptr_equal(b.pts[0].key, b.pts[2].key);
	assert_int_equal(b.pts[0].step, 3);
	assert_true(b.pts[1].step == CAIRN_STEP_AUTO);
	assert_true(isnan(b.pts[2].value));
	assert_true(b.pts[3].value == 0 && signbit(b.pts[3].value));
	assert_true(b.pts[3].timestamp == 1700000000.5);
	ingest_batch_free(&b);
	/* whitespace of every kind, an empty batch */
	assert_int_equal(decode_str(" \t\r\n{ \"metrics\" :\n[ { \"key\" : \"k\" , \"value\""
	                            " : 1 , \"step\" : 0 } ]\t}\n"),
	                 FAST);
	assert_int_equal(decode_str("{\"metrics\":[]}"), FAST);
	assert_int_equal(decode_str("{\"metrics\":[ ]}"), FAST);
	/* values: large, tiny, past the double range (strtod's inf), strings */
	assert_int_equal(
	    decode_str("{\"metrics\":[{\"key\":\"k\",\"value\":1e400},"
	               "{\"key\":\"k\",\"value\":4.9e-324},"
	               "{\"key\":\"k\",\"value\":123456789012345678901234567890},"
	               "{\"key\":\"k\",\"value\":0.1000000000000000055511151231257827},"
	               "{\"key\":\"k\",\"value\":\"-inf\"},"
	               "{\"key\":\"k\",\"value\":\"1.5\"}]}"),
	    FAST);
	/* the largest step the fast path reads itself, and the last timestamp */
	assert_int_equal(decode_str("{\"metrics\":[{\"key\":\"k\",\"value\":1,"
	                            "\"step\":999999999999999999,\"timestamp\":253402300799}]}"),
	                 FAST);
}

static void test_left_to_the_general_path(void **state)
{
	(void)state;
	/* valid bodies outside the shape: the general path reads them */
	const char *valid[] = {
	    "{\"metrics\":[{\"key\":\"lo\\u0073s\",\"value\":1}]}",       /* an escape */
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"key\":\"j\"}]}",  /* twice: the first */
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"note\":\"x\"}]}", /* another member */
	    "{\"run\":1,\"metrics\":[{\"key\":\"k\",\"value\":1}]}",      /* another at the root */
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":-0}]}",    /* -0 is step 0 */
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":9223372036854775807}]}",
	    /* a token too long for the stack copy */
	    ("{\"metrics\":[{\"key\":\"k\",\"value\":0.00000000000000000000000000000000000000000000"
	     "0000000000000000000000001}]}"),
	};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		if (decode_str(valid[i]) != SLOW_OK)
			fail_msg("not left to the general path, or refused: %s", valid[i]);
	/* an exponent past what the fast path counts, after 100,001 zeros that
	 * would cancel it: strtod's inf, not 0.1 */
	buf z = BUF_INIT;
	buf_puts(&z, "{\"metrics\":[{\"key\":\"k\",\"value\":0.");
	for (int i = 0; i < 100000; i++)
		buf_putc(&z, '0');
	buf_puts(&z, "1e1000001}]}");
	assert_true(buf_ok(&z));
	assert_int_equal(decode_both(z.ptr, z.len, NULL), SLOW_OK);
	buf_free(&z);
	/* bad bodies: the general path refuses them, with its own message */
	const char *bad[] = {
	    "",
	    "{",
	    "[]",
	    "{\"metrics\":{}}",
	    "{\"metrics\":[1]}",
	    "{\"metrics\":[{}]}",
	    "{\"metrics\":[{\"value\":1}]}",
	    "{\"metrics\":[{\"key\":\"k\"}]}",
	    "{\"metrics\":[{\"key\":\"\",\"value\":1}]}",
	    "{\"metrics\":[{\"key\":\"../x\",\"value\":1}]}",
	    "{\"metrics\":[{\"key\":\"k\\u0000\",\"value\":1}]}",
	    "{\"metrics\":[{\"key\":\"k\x01\",\"value\":1}]}",
	    "{\"metrics\":[{\"key\":\"k\xff\",\"value\":1}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":null}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":\"fast\"}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":\"1e999\"}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":01}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1.}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":.5}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1e}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":+1}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":-1}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":1.0}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":1e2}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":9223372036854775808}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":\"3\"}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"timestamp\":-1}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"timestamp\":253402300800}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1},]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1}]} x",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1}]",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":nul}]}",
	    "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":nullx}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (decode_str(bad[i]) != SLOW_BAD)
			fail_msg("accepted: %s", bad[i]);
	/* over the cap of points: 413 from the general path */
	buf big = BUF_INIT;
	buf_puts(&big, "{\"metrics\":[");
	for (int i = 0; i <= BODY_MAX_METRICS; i++)
		buf_printf(&big, "%s{\"key\":\"k\",\"value\":%d}", i ? "," : "", i % 10);
	buf_puts(&big, "]}");
	assert_true(buf_ok(&big));
	assert_int_equal(decode_both(big.ptr, big.len, NULL), SLOW_BAD);
	ingest_batch b;
	assert_false(ingest_decode(&b, "{\"metrics\":[]}", 14, 13)); /* over max_bytes */
	buf_free(&big);
}

/* --- the seeded generator ------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void digits(buf *b, int n)
{
	for (int i = 0; i < n; i++)
		buf_putc(b, (char)('0' + rnd(10)));
}

/* A number token of JSON's grammar, of every kind the fast path branches on. */
static void gen_number(buf *b)
{
	if (rnd(4) == 0)
		buf_putc(b, '-');
	int nint = rnd(8) == 0 ? 15 + (int)rnd(10) : 1 + (int)rnd(6);
	if (rnd(3) == 0)
		buf_putc(b, '0');
	else {
		buf_putc(b, (char)('1' + rnd(9)));
		digits(b, nint - 1);
	}
	if (rnd(2)) {
		buf_putc(b, '.');
		if (rnd(3) == 0)
			buf_puts(b, "000");
		digits(b, 1 + (int)rnd(rnd(6) == 0 ? 30 : 8));
	}
	if (rnd(4) == 0) {
		buf_putc(b, rnd(2) ? 'e' : 'E');
		if (rnd(2))
			buf_putc(b, rnd(2) ? '+' : '-');
		digits(b, 1 + (int)rnd(rnd(5) == 0 ? 4 : 2));
	}
}

static void ws(buf *b)
{
	static const char w[] = " \t\r\n";
	while (rnd(6) == 0)
		buf_putc(b, w[rnd(4)]);
}

static void gen_point(buf *b)
{
	static const char *const keys[] = {
	    "loss",  "acc",    "valid/auc", "a b",      "k", "\xc3\xa9t\xc3\xa9",
	    " lead", "x/../y", "",          "e\\u0073c"};
	int order[4] = {0, 1, 2, 3};
	for (int i = 3; i > 0; i--) {
		int j = (int)rnd((uint32_t)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	bool first = true;
	buf_putc(b, '{');
	for (int k = 0; k < 4; k++) {
		int m = order[k];
		if (m >= 2 && rnd(2))
			continue; /* step and timestamp are optional */
		if (m < 2 && rnd(40) == 0)
			continue; /* key or value missing */
		if (!first)
			buf_putc(b, ',');
		first = false;
		ws(b);
		static const char *const names[] = {"key", "value", "step", "timestamp"};
		buf_printf(b, "\"%s\"", names[m]);
		ws(b);
		buf_putc(b, ':');
		ws(b);
		switch (m) {
		case 0: buf_printf(b, "\"%s\"", keys[rnd(sizeof keys / sizeof keys[0])]); break;
		case 1:
			if (rnd(10) == 0)
				buf_puts(b, rnd(2) ? "\"NaN\"" : "\"-Infinity\"");
			else
				gen_number(b);
			break;
		case 2:
			if (rnd(8) == 0)
				buf_puts(b, "null");
			else if (rnd(6) == 0)
				gen_number(b);
			else
				buf_printf(b, "%u", rnd(1000000));
			break;
		case 3:
			if (rnd(8) == 0)
				buf_puts(b, "null");
			else
				gen_number(b);
			break;
		}
		ws(b);
	}
	buf_putc(b, '}');
}

static void test_against_the_general_path(void **state)
{
	(void)state;
	int counts[3] = {0, 0, 0};
	for (int t = 0; t < 20000; t++) {
		buf b = BUF_INIT;
		ws(&b);
		buf_puts(&b, "{\"metrics\":[");
		int n = (int)rnd(6);
		for (int i = 0; i < n; i++) {
			if (i)
				buf_putc(&b, ',');
			ws(&b);
			gen_point(&b);
			ws(&b);
		}
		buf_puts(&b, "]}");
		ws(&b);
		assert_true(buf_ok(&b));
		/* a mutation in one body of four: a byte changed, dropped or added */
		if (rnd(4) == 0 && b.len > 2) {
			size_t at = rnd((uint32_t)b.len);
			static const char pool[] = "{}[],:\"\\ -+.eE0123456789nul";
			switch (rnd(3)) {
			case 0: b.ptr[at] = pool[rnd(sizeof pool - 1)]; break;
			case 1: memmove(b.ptr + at, b.ptr + at + 1, b.len - at - 1), b.len--; break;
			case 2:
				buf_putc(&b, ' ');
				memmove(b.ptr + at + 1, b.ptr + at, b.len - at - 1);
				b.ptr[at] = pool[rnd(sizeof pool - 1)];
				break;
			}
		}
		counts[decode_both(b.ptr, b.len, NULL)]++;
		buf_free(&b);
	}
	/* every way is taken often, so the agreement above means something */
	for (int i = 0; i < 3; i++)
		if (counts[i] < 500)
			fail_msg(
			    "only %d of 20000 bodies went way %d (fast %d, general ok %d, bad %d)",
			    counts[i], i, counts[0], counts[1], counts[2]);
}

/* The number conversion gives strtod's double, bit for bit. */
static void test_numbers_as_strtod(void **state)
{
	(void)state;
	const char *fixed[] = {"0",
	                       "-0",
	                       "0.1",
	                       "0.3",
	                       "1.7976931348623157e308",
	                       "2.2250738585072014e-308",
	                       "4.9e-324",
	                       "9007199254740993",
	                       "9007199254740992",
	                       "123456789012345678",
	                       "1e22",
	                       "1e23",
	                       "8.98846567431158e307",
	                       "0.000000000000000000000000000001",
	                       "1234567890123456789",
	                       "12345678901234567890",
	                       "3.14159265358979323846264338327950288"};
	for (int t = 0; t < 200000 + (int)(sizeof fixed / sizeof fixed[0]); t++) {
		buf b = BUF_INIT;
		if (t < (int)(sizeof fixed / sizeof fixed[0]))
			buf_puts(&b, fixed[t]);
		else
			gen_number(&b);
		assert_true(buf_ok(&b));
		dec d = {b.ptr, b.ptr + b.len, NULL, 0, NULL, 0, {{0}}};
		num x;
		bool ok = number(&d, &x);
		if (!ok && b.len >= NUM_MAX)
			goto next; /* too long for the fast path: the general path reads it */
		if (!ok || d.p != b.ptr + b.len)
			fail_msg("'%s' not read whole", b.ptr);
		double want = strtod(b.ptr, NULL);
		if (!same_double(x.v, want))
			fail_msg("'%s': %.17g, strtod %.17g", b.ptr, x.v, want);
	next:
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_common_shape),
	    cmocka_unit_test(test_left_to_the_general_path),
	    cmocka_unit_test(test_against_the_general_path),
	    cmocka_unit_test(test_numbers_as_strtod),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
