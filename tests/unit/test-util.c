/*
 * tests/unit/test-util.c — buf, arena, json, fs and value helpers.
 */
#include "unit.h"

#include <math.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/utf8.h"
#include "util/sha.h"

static void test_buf_basic(void **st)
{
	buf b = BUF_INIT;
	assert_string_equal(b.ptr, "");
	buf_puts(&b, "hello");
	buf_putc(&b, ' ');
	buf_printf(&b, "%d-%s", 42, "x");
	assert_string_equal(b.ptr, "hello 42-x");
	assert_int_equal(b.len, 10);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%0300d", i); /* forces the large-format path and growth */
	assert_int_equal(b.len, 10 + 1000 * 300);
	assert_true(buf_ok(&b));
	buf_truncate(&b, 5);
	assert_string_equal(b.ptr, "hello");
	char *s = buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_string_equal(b.ptr, "");
	free(s);
	s = buf_detach(&b); /* an empty buffer detaches to "" */
	assert_string_equal(s, "");
	free(s);
	buf_free(&b);
}

static void roundtrip(const char *in, const char *want)
{
	char err[128];
	json_doc *d = json_parse(in, strlen(in), NULL, err, sizeof err);
	if (!d)
		fail_msg("parse '%s': %s", in, err);
	const json *r = json_root(d);
	buf b = BUF_INIT;
	if (r->type == JSON_STR)
		json_strn(&b, r->str, r->len);
	else if (r->type == JSON_NUM)
		json_num(&b, r->num);
	assert_string_equal(b.ptr, want);
	buf_free(&b);
	json_doc_free(d);
}

static void test_json_strings(void **st)
{
	roundtrip("\"a\\\"b\\\\c\\n\\t\"", "\"a\\\"b\\\\c\\n\\t\"");
	roundtrip("\"\\u00e9\\u4e2d\"", "\"é中\"");
	roundtrip("\"\\ud83d\\ude00\"", "\"😀\"");
	roundtrip("\"\\u0001\"", "\"\\u0001\"");
	roundtrip("0.1", "0.1");
	roundtrip("1e300", "1e+300");
	/* past int64: the integer test must not cast first (UB under clang UBSan) */
	roundtrip("1e19", "1e+19");
	roundtrip("-9.3e18", "-9.3e+18");
	roundtrip("-3", "-3");
	roundtrip("123456789012", "123456789012");
	/* bytes that are not UTF-8: \udcXX both ways, valid sequences kept */
	roundtrip("\"a\\udcffb\\udc80\"", "\"a\\udcffb\\udc80\"");
	roundtrip("\"\xc3\xa9\xe2\x80\xa8\"", "\"\xc3\xa9\xe2\x80\xa8\"");
}

static void test_json_bytes_not_utf8(void **st)
{
	static const struct {
		const char *in, *out;
	} c[] = {
	    {"\xff", "\"\\udcff\""},
	    {"caf\xe9!", "\"caf\\udce9!\""},
	    {"\xc0\xaf", "\"\\udcc0\\udcaf\""},                       /* overlong '/' */
	    {"\xed\xa0\x80", "\"\\udced\\udca0\\udc80\""},            /* encoded surrogate */
	    {"\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\""}, /* past U+10FFFF */
	    {"\xe2\x82", "\"\\udce2\\udc82\""},                       /* cut short */
	    {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},             /* valid: kept */
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		buf b = BUF_INIT;
		json_str(&b, c[i].in);
		assert_string_equal(b.ptr, c[i].out);
		/* and back to the same bytes */
		char err[128];
		json_doc *d = json_parse(b.ptr, b.len, NULL, err, sizeof err);
		assert_non_null(d);
		assert_string_equal(json_root(d)->str, c[i].in);
		json_doc_free(d);
		buf_free(&b);
	}
	/* lone surrogates other than the byte escapes are still refused */
	static const char *const bad[] = {"\"\\ud800\"", "\"\\udc00\"", "\"\\udc7f\"",
	                                  "\"\\udfff\""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char err[128];
		json_doc *d = json_parse(bad[i], strlen(bad[i]), NULL, err, sizeof err);
		assert_null(d);
		assert_non_null(strstr(err, "surrogate"));
	}
	/* 2^63 is a number, not an int64 clamped to 2^63-1 */
	char err[128];
	json_doc *d = json_parse("9223372036854775808", 19, NULL, err, sizeof err);
	assert_non_null(d);
	assert_false(json_root(d)->is_int);
	json_doc_free(d);
	d = json_parse("9223372036854775807", 19, NULL, err, sizeof err);
	assert_true(json_root(d)->is_int && json_root(d)->i == INT64_MAX);
	json_doc_free(d);
}

/* json_strn skips eight plain bytes at a time: random texts of plain
 * bytes with quotes, backslashes, control bytes, UTF-8 and stray high
 * bytes at every offset escape as a byte-at-a-time reference does. */
static void ref_escape(buf *b, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		size_t len = c >= 0x80 ? utf8_seq(s + i, n - i, NULL) : 0;
		if (len) {
			buf_add(b, s + i, len);
			i += len - 1;
		} else if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			buf_putc(b, '\\');
			buf_putc(b, c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		} else if (c < 0x20 || c >= 0x80) {
			char esc[6] = {
			    '\\',        'u',        c >= 0x80 ? 'd' : '0', c >= 0x80 ? 'c' : '0',
			    hex[c >> 4], hex[c & 15]};
			buf_add(b, esc, 6);
		} else {
			buf_putc(b, (char)c);
		}
	}
	buf_putc(b, '"');
}

static void test_json_escape_blocks(void **st)
{
	(void)st;
	static const char *const pieces[] = {"a",
	                                     "Z",
	                                     "~",
	                                     " ",
	                                     "\"",
	                                     "\\",
	                                     "\n",
	                                     "\x01",
	                                     "\x1f",
	                                     "\x7f",
	                                     "\xc3\xa9",
	                                     "\xe2\x82\xac",
	                                     "\xf0\x9f\x98\x80",
	                                     "\x80",
	                                     "\xff",
	                                     "\xc3"};
	const size_t np = sizeof pieces / sizeof pieces[0];
	uint64_t rng = 88172645463325252ull;
	for (int t = 0; t < 20000; t++) {
		unsigned char s[80];
		size_t n = 0;
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		size_t want = rng % 60;
		int plain = (int)(rng >> 8) % 4; /* mostly plain, some texts all plain */
		while (n < want) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			const char *p =
			    rng % 16 < (unsigned)(12 + plain) ? "x" : pieces[(rng >> 8) % np];
			size_t l = strlen(p);
			if (n + l > sizeof s)
				break;
			memcpy(s + n, p, l);
			n += l;
		}
		buf got = BUF_INIT, ref = BUF_INIT;
		json_strn(&got, (const char *)s, n);
		ref_escape(&ref, s, n);
		assert_true(buf_ok(&got) && buf_ok(&ref));
		if (got.len != ref.len || memcmp(got.ptr, ref.ptr, got.len) != 0)
			fail_msg("case %d: %s, expected %s", t, got.ptr, ref.ptr);
		buf_free(&got);
		buf_free(&ref);
	}
}

static void test_utf8_names(void **st)
{
	size_t at = 99;
	assert_int_equal(utf8_check_name("abc", 3, &at), UTF8_OK);
	assert_int_equal(utf8_check_name("\xce\xbb.\xf0\x9f\x98\x80", 7, &at), UTF8_OK);
	assert_int_equal(utf8_check_name("ab\xff", 3, &at), UTF8_NOT_UTF8);
	assert_int_equal(at, 2);
	assert_int_equal(utf8_check_name("a\xc2\x85", 3, &at), UTF8_CONTROL); /* U+0085 */
	assert_int_equal(at, 1);
	assert_int_equal(utf8_check_name("a\x7f", 2, &at), UTF8_CONTROL);
	assert_int_equal(utf8_check_name("\xed\xb0\x80", 3, &at), UTF8_NOT_UTF8);
	assert_int_equal(utf8_check_name("\xe0\x80\x80", 3, &at), UTF8_NOT_UTF8); /* overlong */
}

static void test_json_structure(void **st)
{
	const char *in = "{\"a\": [1, 2.5, true, null, \"x\"], \"b\": {\"c\": \"NaN\"}, \"big\": "
	                 "9007199254740993}";
	char err[128];
	json_doc *d = json_parse(in, strlen(in), NULL, err, sizeof err);
	assert_non_null(d);
	const json *r = json_root(d);
	const json *a = json_get(r, "a");
	assert_int_equal(a->type, JSON_ARR);
	assert_int_equal(a->len, 5);
	assert_true(a->child->is_int);
	assert_int_equal(a->child->i, 1);
	assert_false(a->child->next->is_int);
	double v;
	assert_true(json_get_num(json_get(r, "b"), "c", &v));
	assert_true(isnan(v));
	assert_true(json_get(r, "big")->is_int == false ||
	            json_get(r, "big")->i == 9007199254740993LL);
	assert_null(json_get(r, "zzz"));
	json_doc_free(d);
}

static void test_json_errors(void **st)
{
	static const char *const bad[][2] = {
	    {"", "unexpected end of input at offset 0"},
	    {"{", "expected a member name at offset 1"},
	    {"[1,]", "unexpected character at offset 3"},
	    {"{\"a\" 1}", "expected ':' at offset 5"},
	    {"\"abc", "unterminated string at offset 4"},
	    {"[1] x", "trailing characters at offset 4"},
	    {"01", "trailing characters at offset 1"},
	    {"\"\\ud800\"", "unpaired surrogate at offset 7"},
	    {"tru", "invalid literal at offset 0"},
	    {"\"a\x01\"", "control character in string at offset 2"},
	};
	char err[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_doc *d = json_parse(bad[i][0], strlen(bad[i][0]), NULL, err, sizeof err);
		assert_null(d);
		assert_string_equal(err, bad[i][1]);
	}
	/* nesting and size limits */
	char deep[200];
	memset(deep, '[', sizeof deep);
	json_limits lim = {10, 0};
	assert_null(json_parse(deep, sizeof deep, &lim, err, sizeof err));
	assert_non_null(strstr(err, "nesting too deep"));
	json_limits small = {0, 4};
	assert_null(json_parse("[1,2,3]", 7, &small, err, sizeof err));
	assert_non_null(strstr(err, "too large"));
}

static void test_json_nonfinite(void **st)
{
	buf b = BUF_INIT;
	json_num(&b, NAN);
	buf_putc(&b, ',');
	json_num(&b, INFINITY);
	buf_putc(&b, ',');
	json_num(&b, -INFINITY);
	assert_string_equal(b.ptr, "\"NaN\",\"Infinity\",\"-Infinity\"");
	buf_free(&b);
}

static void test_relpath(void **st)
{
	assert_true(relpath_is_safe("a/b.txt"));
	assert_true(relpath_is_safe("images/cm/001.png"));
	assert_false(relpath_is_safe(""));
	assert_false(relpath_is_safe("/etc/passwd"));
	assert_false(relpath_is_safe("../x"));
	assert_false(relpath_is_safe("a/../../x"));
	assert_false(relpath_is_safe("a/./b"));
	assert_false(relpath_is_safe("a//b"));
	assert_false(relpath_is_safe("a/"));
	assert_false(relpath_is_safe("a\\b"));
	assert_false(relpath_is_safe("a\nb"));
	assert_string_equal(path_base("/x/y/z.txt"), "z.txt");
	assert_string_equal(path_base("z"), "z");
}

static void test_sha(void **st)
{
	char hex[65];
	sha_buf_hex("abc", 3, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha_ctx *c = sha_new();
	sha_update(c, "a", 1);
	sha_update(c, "bc", 2);
	sha_final_hex(c, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_value_parse(void **st)
{
	cairn_value v;
	cairn_value_parse(&v, "42");
	assert_int_equal(v.type, CAIRN_TYPE_INT);
	assert_int_equal(v.i, 42);
	cairn_value_parse(&v, "-7");
	assert_int_equal(v.type, CAIRN_TYPE_INT);
	cairn_value_parse(&v, "0.1");
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	cairn_value_parse(&v, "1e-3");
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	assert_true(v.f == 1e-3);
	cairn_value_parse(&v, "True");
	assert_int_equal(v.type, CAIRN_TYPE_BOOL);
	assert_int_equal(v.i, 1);
	cairn_value_parse(&v, "false");
	assert_int_equal(v.type, CAIRN_TYPE_BOOL);
	assert_int_equal(v.i, 0);
	cairn_value_parse(&v, "adam");
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	cairn_value_parse(&v, "007"); /* leading zeros: an id, not a number */
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	cairn_value_parse(&v, "nan");
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	cairn_value_parse(&v, "0x10");
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	cairn_value_parse(&v, "");
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
}

static void test_key_validate(void **st)
{
	assert_int_equal(cairn_key_validate("model.learning_rate", NULL), 0);
	assert_int_equal(cairn_key_validate("sys/cpu_percent", NULL), 0);
	assert_int_equal(cairn_key_validate("", "metric key"), CAIRN_EINVALID);
	assert_string_equal(cairn_error_last(), "empty metric key");
	assert_int_equal(cairn_key_validate("a\tb", "metric key"), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "control character"));
	assert_int_equal(cairn_key_validate("../x", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_key_validate("a/../b", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_key_validate("/abs", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_key_validate("a/", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_key_validate(" a", NULL), CAIRN_EINVALID);
	char longk[300];
	memset(longk, 'k', sizeof longk - 1);
	longk[sizeof longk - 1] = '\0';
	assert_int_equal(cairn_key_validate(longk, NULL), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "too long"));
}

/* Alignment, packing, big requests beside a chunk, adoption, reuse. */
static void test_arena(void **st)
{
	(void)st;
	arena a = ARENA_INIT(256), b = {0};
	char *s1 = arena_strndup(&a, "abc", 3), *s2 = arena_strndup(&a, "de", 2);
	assert_string_equal(s1, "abc");
	assert_string_equal(s2, "de");
	assert_ptr_equal(s2, s1 + 4); /* strings are packed */
	for (int i = 0; i < 100; i++) {
		char *p = arena_alloc(&a, (size_t)i * 3 + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0x5a, (size_t)i * 3 + 1);
	}
	unsigned char *z = arena_zalloc(&a, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(z[i], 0);
	/* a request bigger than a chunk: its own chunk, the current one kept */
	char *cur = arena_alloc(&a, 16);
	char *big = arena_alloc(&a, 10000);
	char *next = arena_alloc(&a, 16);
	assert_non_null(big);
	memset(big, 1, 10000);
	assert_ptr_equal(next, cur + 16);
	assert_false(a.oom);
	assert_null(arena_alloc(&a, SIZE_MAX - 8));
	assert_true(a.oom);
	/* adoption moves every chunk; the strings stay valid */
	char *sb = arena_strndup(&b, "kept", 4);
	arena_adopt(&a, &b);
	assert_null(b.head);
	assert_string_equal(sb, "kept");
	arena_free(&a);
	assert_null(a.head);
	assert_false(a.oom);
	assert_string_equal(arena_strndup(&a, "again", 5), "again");
	arena_free(&a);
	arena_free(&b);
}

/* json_valid accepts exactly what json_parse accepts, and names the root */
static void test_json_valid(void **state)
{
	(void)state;
	static const char *const docs[] = {
	    "{}",
	    "[]",
	    " {\"a\": [1, 2.5e3, -0, true, false, null, \"x\\n\\u00e9\"]} ",
	    "\"s\"",
	    "12",
	    "null",
	    "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
	    "\"\\udcff\"",
	    "\"\\ud83d\\ude00\"",
	    "",
	    " ",
	    "{",
	    "[1,]",
	    "{\"a\" 1}",
	    "01",
	    "1.",
	    "-",
	    "tru",
	    "\"\\ud800\"",
	    "\"\\q\"",
	    "[1] x",
	    "\"unterminated",
	    "{\"a\":1,}",
	    "\"ctl\x01\"",
	    "123456789012345678901234567890123456789012345678901234567890123456789.5"};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		json_doc *d = json_parse(docs[i], strlen(docs[i]), NULL, NULL, 0);
		json_type t = JSON_NULL;
		bool ok = json_valid(docs[i], strlen(docs[i]), NULL, &t);
		if (ok != (d != NULL))
			fail_msg("json_valid and json_parse disagree on '%s'", docs[i]);
		if (d)
			assert_int_equal(t, json_root(d)->type);
		json_doc_free(d);
	}
	/* the depth limit holds too */
	char deep[200];
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_false(json_valid(deep, sizeof deep, NULL, NULL));
	json_limits lim = {.max_depth = 200};
	assert_true(json_valid(deep, sizeof deep, &lim, NULL));
	lim = (json_limits){.max_bytes = 10};
	assert_false(json_valid("[1,2,3,4,5,6]", 13, &lim, NULL));
	assert_false(json_valid(NULL, 0, NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_basic),
	    cmocka_unit_test(test_arena),
	    cmocka_unit_test(test_json_strings),
	    cmocka_unit_test(test_json_escape_blocks),
	    cmocka_unit_test(test_json_bytes_not_utf8),
	    cmocka_unit_test(test_utf8_names),
	    cmocka_unit_test(test_json_structure),
	    cmocka_unit_test(test_json_errors),
	    cmocka_unit_test(test_json_valid),
	    cmocka_unit_test(test_json_nonfinite),
	    cmocka_unit_test(test_relpath),
	    cmocka_unit_test(test_sha),
	    cmocka_unit_test(test_value_parse),
	    cmocka_unit_test(test_key_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
