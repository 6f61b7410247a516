/*
 * util/json.c — see json.h.  The parser is a recursive-descent parser over a
 * bump arena: nodes and unescaped strings live in chunks freed together.
 * Depth is bounded, so recursion is bounded.
 */
#include "util/json.h"

#include "util/arena.h"
#include "util/dtoa.h"
#include "util/utf8.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- writer --------------------------------------------------------------- */

void json_strn(buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_grow(b, n + 2);
	buf_putc(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		/* eight plain bytes at a time (no control byte, no byte >= 0x80,
		 * no quote or backslash): most text is all plain.  A byte's high
		 * bit after the subtractions marks it, the lowest such byte at
		 * least (a borrow only runs upwards); a false mark only sends the
		 * block byte by byte. */
		while (i + 8 <= n) {
			uint64_t x;
			memcpy(&x, s + i, 8);
			const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
			uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
			uint64_t bad = ((x - ones * 0x20) | (q - ones) | (bs - ones) | x) & highs;
			if (bad)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			continue;
		if (c >= 0x80) {
			size_t len = utf8_seq((const unsigned char *)s + i, n - i, NULL);
			if (len) {
				i += len - 1;
				continue;
			}
		}
		buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default: {
			/* a control character, or a byte that is not UTF-8: that
			 * byte as the lone surrogate U+DC00+byte, as Python's
			 * "surrogateescape" does, so the text stays valid UTF-8 and
			 * the parser below (or os.fsencode) gives the byte back */
			char esc[6] = {
			    '\\',        'u',        c >= 0x80 ? 'd' : '0', c >= 0x80 ? 'c' : '0',
			    hex[c >> 4], hex[c & 15]};
			buf_add(b, esc, 6);
		}
		}
	}
	buf_add(b, s + run, n - run);
	buf_putc(b, '"');
}

void json_str(buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "null");
		return;
	}
	json_strn(b, s, strlen(s));
}

void json_num(buf *b, double v)
{
	if (isnan(v)) {
		buf_puts(b, "\"NaN\"");
	} else if (isinf(v)) {
		buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	} else if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		/* the range test first: casting a double outside int64's range is
		 * undefined behaviour */
		json_int(b, (int64_t)v); /* as "%lld" writes it, without printf */
	} else {
		/* The shortest representation that round-trips (util/dtoa.c). */
		char tmp[32];
		buf_add(b, tmp, dtoa_shortest(tmp, v));
	}
}

void json_int(buf *b, int64_t v)
{
	/* by hand: printf is the slowest part of writing big run lists */
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char *p = dtoa_u64(tmp + sizeof tmp, u);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

void json_bool(buf *b, bool v)
{
	buf_puts(b, v ? "true" : "false");
}

void json_key(buf *b, bool *first, const char *key)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	json_str(b, key);
	buf_putc(b, ':');
}

/* --- the document: its nodes and strings in one arena ------------------------- */

struct json_doc {
	arena mem;
	json *root;
};

static void *doc_alloc(json_doc *d, size_t n)
{
	return arena_alloc(&d->mem, n);
}

void json_doc_free(json_doc *doc)
{
	if (!doc)
		return;
	arena_free(&doc->mem);
	free(doc);
}

const json *json_root(const json_doc *doc)
{
	return doc ? doc->root : NULL;
}

/* --- parser --------------------------------------------------------------- */

typedef struct parser {
	json_doc *doc;
	const char *s, *p, *end;
	size_t depth, max_depth;
	const char *err;
	const char *err_at;
	/* json_valid: nothing is kept, so every node is one scratch node and
	 * every string is decoded into one scratch buffer */
	bool check;
	json scratch;
	char *sbuf;
	size_t scap;
} parser;

static json *fail(parser *ps, const char *what)
{
	if (!ps->err) {
		ps->err = what;
		ps->err_at = ps->p;
	}
	return NULL;
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static json *new_node(parser *ps, json_type t)
{
	json *v = ps->check ? &ps->scratch : doc_alloc(ps->doc, sizeof *v);
	if (!v)
		return fail(ps, "out of memory");
	memset(v, 0, sizeof *v);
	v->type = t;
	return v;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_hex4(parser *ps, unsigned *out)
{
	if (ps->end - ps->p < 4)
		return false;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(ps->p[i]);
		if (h < 0)
			return false;
		v = v * 16 + (unsigned)h;
	}
	ps->p += 4;
	*out = v;
	return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Parses a string at ps->p (on the opening quote). */
static const char *parse_string(parser *ps, size_t *out_len)
{
	ps->p++; /* opening quote */
	const char *start = ps->p;
	bool has_esc = false;
	while (ps->p < ps->end && *ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;
		if (c < 0x20) {
			fail(ps, "control character in string");
			return NULL;
		}
		if (c == '\\') {
			has_esc = true;
			ps->p++;
			if (ps->p >= ps->end)
				break;
		}
		ps->p++;
	}
	if (ps->p >= ps->end) {
		fail(ps, "unterminated string");
		return NULL;
	}
	size_t raw = (size_t)(ps->p - start);
	char *o;
	if (ps->check) {
		if (raw + 1 > ps->scap) {
			char *n = realloc(ps->sbuf, raw + 1);
			if (n) {
				ps->sbuf = n;
				ps->scap = raw + 1;
			}
		}
		o = raw + 1 <= ps->scap ? ps->sbuf : NULL;
	} else {
		o = doc_alloc(ps->doc, raw + 1);
	}
	if (!o) {
		fail(ps, "out of memory");
		return NULL;
	}
	if (!has_esc) {
		memcpy(o, start, raw);
		o[raw] = '\0';
		*out_len = raw;
		ps->p++;
		return o;
	}
	const char *q = start, *qend = ps->p;
	size_t n = 0;
	ps->p = q;
	while (ps->p < qend) {
		char c = *ps->p++;
		if (c != '\\') {
			o[n++] = c;
			continue;
		}
		char e = *ps->p++;
		switch (e) {
		case '"': o[n++] = '"'; break;
		case '\\': o[n++] = '\\'; break;
		case '/': o[n++] = '/'; break;
		case 'b': o[n++] = '\b'; break;
		case 'f': o[n++] = '\f'; break;
		case 'n': o[n++] = '\n'; break;
		case 'r': o[n++] = '\r'; break;
		case 't': o[n++] = '\t'; break;
		case 'u': {
			unsigned cp;
			if (!read_hex4(ps, &cp)) {
				fail(ps, "bad \\u escape");
				return NULL;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				unsigned lo;
				if (qend - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') {
					fail(ps, "unpaired surrogate");
					return NULL;
				}
				ps->p += 2;
				if (!read_hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
					fail(ps, "unpaired surrogate");
					return NULL;
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC80 && cp <= 0xDCFF) {
				/* the writer's escape of a byte that is not UTF-8 */
				o[n++] = (char)(cp - 0xDC00);
				break;
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				fail(ps, "unpaired surrogate");
				return NULL;
			}
			/* \u escapes expand to at most 4 bytes from 6 (or 12) */
			n += put_utf8(o + n, cp);
			break;
		}
		default: fail(ps, "bad escape"); return NULL;
		}
	}
	o[n] = '\0';
	*out_len = n;
	ps->p = qend + 1;
	return o;
}

static json *parse_value(parser *ps);

static json *parse_number(parser *ps)
{
	const char *st = ps->p;
	bool is_int = true;
	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
		return fail(ps, "bad number");
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		is_int = false;
		ps->p++;
		if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		is_int = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	char tmp[64];
	size_t n = (size_t)(ps->p - st);
	json *v = new_node(ps, JSON_NUM);
	if (!v)
		return NULL;
	if (ps->check)
		return v; /* the syntax is all json_valid asks about */
	if (n >= sizeof tmp) {
		/* very long literal: copy to the arena for strtod */
		char *big = doc_alloc(ps->doc, n + 1);
		if (!big)
			return fail(ps, "out of memory");
		memcpy(big, st, n);
		big[n] = '\0';
		v->num = strtod(big, NULL);
		return v;
	}
	memcpy(tmp, st, n);
	tmp[n] = '\0';
	v->num = strtod(tmp, NULL);
	if (is_int) {
		char *e;
		errno = 0;
		long long ll = strtoll(tmp, &e, 10);
		/* past int64 strtoll clamps (and says ERANGE): 2^63 must not read
		 * as 2^63-1, it is a number that is not an int64 */
		if (*e == '\0' && errno != ERANGE && (double)ll == v->num) {
			v->is_int = true;
			v->i = ll;
		}
	}
	return v;
}

static bool match_lit(parser *ps, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static json *parse_container(parser *ps, bool obj)
{
	if (++ps->depth > ps->max_depth)
		return fail(ps, "nesting too deep");
	json *v = new_node(ps, obj ? JSON_OBJ : JSON_ARR);
	if (!v)
		return NULL;
	ps->p++;
	skip_ws(ps);
	json **tail = &v->child;
	if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		return v;
	}
	for (;;) {
		const char *key = NULL;
		if (obj) {
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a member name");
			size_t kl;
			key = parse_string(ps, &kl);
			if (!key)
				return NULL;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, "expected ':'");
			ps->p++;
		}
		json *e = parse_value(ps);
		if (!e)
			return NULL;
		e->key = key;
		*tail = e;
		tail = &e->next;
		v->len++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
			ps->p++;
			break;
		}
		return fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	ps->depth--;
	return v;
}

static json *parse_value(parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{': return parse_container(ps, true);
	case '[': return parse_container(ps, false);
	case '"': {
		json *v = new_node(ps, JSON_STR);
		if (!v)
			return NULL;
		v->str = parse_string(ps, &v->len);
		return v->str ? v : NULL;
	}
	case 't':
	case 'f': {
		bool t = *ps->p == 't';
		if (!match_lit(ps, t ? "true" : "false"))
			return fail(ps, "invalid literal");
		json *v = new_node(ps, JSON_BOOL);
		if (v)
			v->b = t;
		return v;
	}
	case 'n':
		if (!match_lit(ps, "null"))
			return fail(ps, "invalid literal");
		return new_node(ps, JSON_NULL);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		return fail(ps, "unexpected character");
	}
}

json_doc *json_parse(const char *text, size_t len, const json_limits *lim, char *err, size_t errsz)
{
	size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : (size_t)64 << 20;
	size_t max_depth = lim && lim->max_depth ? lim->max_depth : 64;
	if (len > max_bytes) {
		if (err)
			snprintf(err, errsz, "JSON document too large (%zu bytes, limit %zu)", len,
			         max_bytes);
		return NULL;
	}
	json_doc *d = calloc(1, sizeof *d);
	if (!d) {
		if (err)
			snprintf(err, errsz, "out of memory");
		return NULL;
	}
	d->mem.chunk = 65536;
	parser ps = {d, text, text, text + len, 0, max_depth, NULL, NULL, false, {0}, NULL, 0};
	json *root = parse_value(&ps);
	if (root) {
		skip_ws(&ps);
		if (ps.p != ps.end) {
			fail(&ps, "trailing characters");
			root = NULL;
		}
	}
	if (!root) {
		if (err)
			snprintf(err, errsz, "%s at offset %zu", ps.err ? ps.err : "invalid JSON",
			         (size_t)((ps.err_at ? ps.err_at : ps.p) - text));
		json_doc_free(d);
		return NULL;
	}
	d->root = root;
	return d;
}

bool json_valid(const char *text, size_t len, const json_limits *lim, json_type *root_type)
{
	size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : (size_t)64 << 20;
	size_t max_depth = lim && lim->max_depth ? lim->max_depth : 64;
	if (!text || len > max_bytes)
		return false;
	parser ps = {NULL, text, text, text + len, 0, max_depth, NULL, NULL, true, {0}, NULL, 0};
	skip_ws(&ps);
	json_type t = ps.p < ps.end && *ps.p == '{'   ? JSON_OBJ
	              : ps.p < ps.end && *ps.p == '[' ? JSON_ARR
	                                              : JSON_NULL;
	bool ok = parse_value(&ps) != NULL;
	if (ok) {
		skip_ws(&ps);
		ok = ps.p == ps.end;
		if (t == JSON_NULL)
			t = ps.scratch.type;
	}
	free(ps.sbuf);
	if (ok && root_type)
		*root_type = t;
	return ok;
}

const json *json_get(const json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (const json *c = obj->child; c; c = c->next)
		if (strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

const char *json_get_str(const json *obj, const char *key)
{
	const json *v = json_get(obj, key);
	return v && v->type == JSON_STR ? v->str : NULL;
}

bool json_num_value(const json *v, double *out)
{
	if (!v)
		return false;
	if (v->type == JSON_NUM) {
		*out = v->num;
		return true;
	}
	if (v->type == JSON_STR) {
		if (strcmp(v->str, "NaN") == 0) {
			*out = NAN;
			return true;
		}
		if (strcmp(v->str, "Infinity") == 0) {
			*out = INFINITY;
			return true;
		}
		if (strcmp(v->str, "-Infinity") == 0) {
			*out = -INFINITY;
			return true;
		}
	}
	return false;
}

bool json_get_num(const json *obj, const char *key, double *out)
{
	return json_num_value(json_get(obj, key), out);
}
