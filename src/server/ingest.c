/*
 * server/ingest.c — the fast decoder of a metrics batch (ingest.h; the
 * measurements that led to it are in docs/internals/ingest.md).
 *
 * One pass, a cursor over the bytes.  The grammar accepted is JSON's
 * (whitespace: space, tab, CR, LF; numbers: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?), narrowed to the common shape of the body:
 *
 *   ws { ws "metrics" ws : ws [ ws (point (ws , ws point)*)? ws ] ws } ws
 *   point = { ws member (ws , ws member)* ws }, members "key", "value",
 *           "step", "timestamp", each at most once, "key" and "value" given
 *
 * Where the general path (util/json.c, then body_metrics) would read a
 * value differently or refuse it, this decoder gives up (returns false)
 * and the general path runs instead, from the start:
 *   - strings: raw bytes between quotes, as json.c keeps them; a backslash
 *     (an escape) or a control byte gives up;
 *   - "key": validated once per distinct key by cairn_key_validate, the
 *     check body_metrics makes; a refused key gives up;
 *   - "value": a number, converted as json.c converts it (below), or a
 *     string read by cairn_metric_value_parse, as body_metrics reads it;
 *   - "step": null, or an integer token without sign, fraction or exponent
 *     of at most 18 digits (json.c's is_int, in range, non-negative);
 *   - "timestamp": null, or a number in [0, CAIRN_TIMESTAMP_MAX];
 *   - more than BODY_MAX_METRICS points, or a body over max_bytes.
 *
 * Numbers.  json.c reads a number with strtod, which rounds correctly.  A
 * significand of at most 19 decimal digits that is at most 2^53 is exact
 * as a double, and so is 10^k for k <= 22; one IEEE multiplication or
 * division of two exact doubles is correctly rounded (Clinger's fast
 * path), so it gives strtod's answer.  Other numbers (long significands,
 * large exponents) go to strtod itself, on a copy of the token.
 *
 * Memory: two allocations per batch, sized from the body's length — the
 * points (a point takes at least MIN_POINT bytes of text) and the key
 * copies (a key's copy is never longer than its quoted text) — plus the
 * key table, which grows with the number of distinct keys.
 */
#include "server/ingest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The shortest point: {"key":"k","value":0}, then a ',' or the ']'. */
#define MIN_POINT 22
#define NUM_MAX   64 /* bytes in a number token handed to strtod */

typedef struct keyslot {
	const char *name; /* in b->keys; NULL: empty slot */
	size_t len;
	uint64_t hash;
} keyslot;

typedef struct dec {
	const char *p, *end;
	ingest_batch *b;
	size_t keys_used;
	keyslot *tab;
	size_t cap; /* a power of two; at most half full */
	keyslot small[16];
} dec;

/* Most bodies have no whitespace at all: one comparison says so. */
static inline void skip_ws(dec *d)
{
	while (d->p < d->end && (unsigned char)*d->p <= ' ' &&
	       (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

static inline bool eat(dec *d, char c)
{
	skip_ws(d);
	if (d->p >= d->end || *d->p != c)
		return false;
	d->p++;
	return true;
}

/* A string without escapes or control bytes: its bytes in [*s, *s+*n). */
static inline bool raw_string(dec *d, const char **s, size_t *n)
{
	if (d->p >= d->end || *d->p != '"')
		return false;
	const char *q = ++d->p;
	while (q < d->end && *q != '"') {
		unsigned char c = (unsigned char)*q;
		if (c < 0x20 || c == '\\')
			return false;
		q++;
	}
	if (q >= d->end)
		return false;
	*s = d->p;
	*n = (size_t)(q - d->p);
	d->p = q + 1;
	return true;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool tab_grow(dec *d)
{
	size_t ncap = d->cap * 2;
	keyslot *nt = calloc(ncap, sizeof *nt);
	if (!nt)
		return false;
	for (size_t i = 0; i < d->cap; i++) {
		if (!d->tab[i].name)
			continue;
		size_t j = d->tab[i].hash & (ncap - 1);
		while (nt[j].name)
			j = (j + 1) & (ncap - 1);
		nt[j] = d->tab[i];
	}
	if (d->tab != d->small)
		free(d->tab);
	d->tab = nt;
	d->cap = ncap;
	return true;
}

/* The batch's copy of key [s, s+n): found, or copied and validated once. */
static const char *intern(dec *d, const char *s, size_t n)
{
	uint64_t h = hash_bytes(s, n);
	size_t i = h & (d->cap - 1);
	for (; d->tab[i].name; i = (i + 1) & (d->cap - 1))
		if (d->tab[i].hash == h && d->tab[i].len == n && memcmp(d->tab[i].name, s, n) == 0)
			return d->tab[i].name;
	char *copy = d->b->keys + d->keys_used;
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (cairn_key_validate(copy, "metric key") != 0) {
		cairn_error_clear(); /* the general path reports it in its words */
		return NULL;
	}
	d->keys_used += n + 1;
	d->tab[i] = (keyslot){copy, n, h};
	d->b->nkeys++;
	if (d->b->nkeys * 2 > d->cap && !tab_grow(d))
		return NULL;
	return copy;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

typedef struct num {
	double v;
	bool is_int; /* no fraction, no exponent */
	bool neg;    /* a leading '-' */
	uint64_t m;  /* the significand's digits (when digits <= 19) */
	int digits;  /* significant digits (leading zeros not counted) */
} num;

/* A JSON number token at d->p, converted to the double strtod gives. */
static bool number(dec *d, num *out)
{
	const char *st = d->p, *p = d->p, *e = d->end;
	uint64_t m = 0;
	int digits = 0, e10 = 0;
	bool exact = true; /* every significant digit is in m */
	out->neg = p < e && *p == '-';
	if (out->neg)
		p++;
	if (p >= e || *p < '0' || *p > '9')
		return false;
	if (*p == '0') {
		p++;
	} else {
		for (; p < e && *p >= '0' && *p <= '9'; p++) {
			if (digits < 19)
				m = m * 10 + (uint64_t)(*p - '0');
			else
				exact = false;
			digits++;
		}
	}
	out->is_int = true;
	if (p < e && *p == '.') {
		out->is_int = false;
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return false;
		for (; p < e && *p >= '0' && *p <= '9'; p++) {
			if (m == 0 && *p == '0') {
				e10--; /* a leading zero of the fraction */
				continue;
			}
			if (digits < 19) {
				m = m * 10 + (uint64_t)(*p - '0');
				e10--;
			} else {
				exact = false;
			}
			digits++;
		}
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		out->is_int = false;
		p++;
		bool eneg = false;
		if (p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= e || *p < '0' || *p > '9')
			return false;
		int x = 0;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			if (x < 100000)
				x = x * 10 + (*p - '0');
		if (x >= 100000)
			exact = false; /* saturated: strtod, or the general path */
		e10 += eneg ? -x : x;
	}
	d->p = p;
	out->m = m;
	out->digits = digits;
	if (m == 0 && exact) {
		out->v = out->neg ? -0.0 : 0.0;
		return true;
	}
	if (exact && m <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
		double v = (double)m;
		v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
		out->v = out->neg ? -v : v;
		return true;
	}
	size_t n = (size_t)(p - st);
	if (n >= NUM_MAX)
		return false;
	char tmp[NUM_MAX];
	memcpy(tmp, st, n);
	tmp[n] = '\0';
	out->v = strtod(tmp, NULL);
	return true;
}

static bool is_null(dec *d)
{
	if (d->end - d->p >= 4 && memcmp(d->p, "null", 4) == 0) {
		d->p += 4;
		return true;
	}
	return false;
}

enum { M_KEY = 1, M_VALUE = 2, M_STEP = 4, M_TS = 8 };

static int member_of(const char *s, size_t n)
{
	switch (n) {
	case 3: return memcmp(s, "key", 3) == 0 ? M_KEY : 0;
	case 4: return memcmp(s, "step", 4) == 0 ? M_STEP : 0;
	case 5: return memcmp(s, "value", 5) == 0 ? M_VALUE : 0;
	case 9: return memcmp(s, "timestamp", 9) == 0 ? M_TS : 0;
	default: return 0;
	}
}

static bool value_string(dec *d, double *out)
{
	const char *s;
	size_t n;
	char tmp[NUM_MAX];
	if (!raw_string(d, &s, &n) || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (cairn_metric_value_parse(tmp, out) == 0)
		return true;
	cairn_error_clear();
	return false;
}

static bool point(dec *d, metric_in *m)
{
	unsigned seen = 0;
	m->key = NULL;
	m->step = CAIRN_STEP_AUTO;
	m->timestamp = 0;
	if (!eat(d, '{'))
		return false;
	do {
		const char *name;
		size_t nlen;
		skip_ws(d);
		if (!raw_string(d, &name, &nlen))
			return false;
		int which = member_of(name, nlen);
		if (!which || (seen & (unsigned)which) || !eat(d, ':'))
			return false;
		seen |= (unsigned)which;
		skip_ws(d);
		num x;
		switch (which) {
		case M_KEY: {
			const char *s;
			size_t n;
			if (!raw_string(d, &s, &n) || !(m->key = intern(d, s, n)))
				return false;
			break;
		}
		case M_VALUE:
			if (d->p < d->end && *d->p == '"') {
				if (!value_string(d, &m->value))
					return false;
			} else {
				if (!number(d, &x))
					return false;
				m->value = x.v;
			}
			break;
		case M_STEP:
			if (is_null(d))
				break;
			if (!number(d, &x) || !x.is_int || x.neg || x.digits > 18)
				return false;
			m->step = (int64_t)x.m;
			break;
		case M_TS:
			if (is_null(d))
				break;
			if (!number(d, &x) || !(x.v >= 0 && x.v <= CAIRN_TIMESTAMP_MAX))
				return false;
			m->timestamp = x.v;
			break;
		}
	} while (eat(d, ','));
	return eat(d, '}') && (seen & (M_KEY | M_VALUE)) == (M_KEY | M_VALUE);
}

static bool batch(dec *d, size_t cap)
{
	const char *name;
	size_t nlen;
	if (!eat(d, '{'))
		return false;
	skip_ws(d);
	if (!raw_string(d, &name, &nlen) || nlen != 7 || memcmp(name, "metrics", 7) != 0 ||
	    !eat(d, ':') || !eat(d, '['))
		return false;
	skip_ws(d);
	if (d->p < d->end && *d->p == ']') {
		d->p++;
	} else {
		do {
			if (d->b->n >= cap || !point(d, &d->b->pts[d->b->n]))
				return false;
			d->b->n++;
		} while (eat(d, ','));
		if (!eat(d, ']'))
			return false;
	}
	if (!eat(d, '}'))
		return false;
	skip_ws(d);
	return d->p == d->end;
}

void ingest_batch_free(ingest_batch *b)
{
	free(b->pts);
	free(b->keys);
	memset(b, 0, sizeof *b);
}

bool ingest_decode(ingest_batch *b, const char *data, size_t len, size_t max_bytes)
{
	memset(b, 0, sizeof *b);
	if (len == 0 || len > max_bytes)
		return false;
	size_t cap = len / MIN_POINT + 1;
	if (cap > BODY_MAX_METRICS)
		cap = BODY_MAX_METRICS;
	b->pts = malloc(cap * sizeof *b->pts);
	b->keys = malloc(len);
	dec d = {data, data + len, b, 0, NULL, 16, {{0}}};
	d.tab = d.small;
	bool ok = b->pts && b->keys && batch(&d, cap);
	if (d.tab != d.small)
		free(d.tab);
	if (!ok)
		ingest_batch_free(b);
	return ok;
}
