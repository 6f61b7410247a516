/*
 * lib/query/lex.c — the query language's tokens (the grammar is in
 * docs/internals/query.md): errors and where they point, whitespace and
 * keywords, quoted strings, and values — numbers (through the public
 * cairn_metric_value_parse, the one reading of a metric value), dates,
 * durations, booleans and words.
 *
 * The parser (parse.c) lexes by context, so these are helpers it calls in
 * value or keyword position rather than a token stream.  Memory: strings
 * live in the qexpr's arena.  Reentrant.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/query/parse.h"

/* --- errors ----------------------------------------------------------------- */

int qp_err(qp *p, size_t pos, const char *fmt, ...)
{
	if (!p->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
		va_end(ap);
		p->err->pos = pos;
		p->failed = true;
	}
	return CAIRN_EINVALID;
}

int qp_oom(qp *p)
{
	return qp_err(p, p->i, "out of memory");
}

int qerror_raise(const qerror *err, const char *what, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	if (strcmp(err->msg, "out of memory") == 0)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (err->pos >= len)
		return err_set(CAIRN_EINVALID, "invalid %s: %s at the end", what, err->msg);
	size_t ch = 1;
	for (size_t k = 0; k < err->pos; k++)
		if (((unsigned char)text[k] & 0xC0) != 0x80)
			ch++;
	return err_set(CAIRN_EINVALID, "invalid %s: %s at character %zu", what, err->msg, ch);
}

/* A short quote of the text at pos for messages: "'abc'" or "the end". */
void qp_quote(qp *p, size_t pos, size_t len, char *out, size_t outsz)
{
	if (pos >= p->n) {
		snprintf(out, outsz, "the end");
		return;
	}
	if (len == 0) {
		/* the token there: a word or key, else one character */
		len = 1;
		if (qp_is_key_char((unsigned char)p->s[pos]))
			while (pos + len < p->n &&
			       (qp_is_key_char((unsigned char)p->s[pos + len]) ||
			        p->s[pos + len] == '.'))
				len++;
		while (pos + len < p->n && ((unsigned char)p->s[pos + len] & 0xC0) == 0x80)
			len++;
	}
	if (len > 40)
		len = 40;
	snprintf(out, outsz, "'%.*s'", (int)len, p->s + pos);
}

/* --- lexing helpers ------------------------------------------------------------ */

void qp_skip_ws(qp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
	                       p->s[p->i] == '\r'))
		p->i++;
}

static bool is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_';
}

/* Is the keyword `kw` (lowercase) at p->i, as a whole word? */
bool qp_at_kw(qp *p, const char *kw)
{
	size_t k = strlen(kw);
	if (p->i + k > p->n || strncasecmp(p->s + p->i, kw, k) != 0)
		return false;
	return p->i + k == p->n || !is_word_char((unsigned char)p->s[p->i + k]);
}

bool qp_eat_kw(qp *p, const char *kw)
{
	if (!qp_at_kw(p, kw))
		return false;
	p->i += strlen(kw);
	return true;
}

bool qp_is_key_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '/' || c == '@' || c >= 0x80;
}

/* Characters that end a bare value token. */
static bool ends_bare(unsigned char c)
{
	return c <= ' ' || strchr("()=!<>~,'\"`", c) != NULL;
}

int qp_check_controls(qp *p)
{
	for (size_t k = 0; k < p->n; k++) {
		unsigned char c = (unsigned char)p->s[k];
		if ((c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return qp_err(p, k, "control character 0x%02x", c);
	}
	return 0;
}

/* A quoted string at p->i (quote char q): '' or \' inside a '…' string (and
 * "" or \" in "…") stand for the quote, \\ for a backslash; any other
 * backslash is kept as is (so glob patterns need no escaping). */
int qp_scan_quoted(qp *p, const char **out, size_t *outlen)
{
	char q = p->s[p->i];
	size_t start = p->i++;
	char *d = qp_alloc(p->e, p->n - start + 1);
	if (!d)
		return qp_oom(p);
	size_t o = 0;
	for (;;) {
		if (p->i >= p->n)
			return qp_err(p, start, "unterminated string");
		char c = p->s[p->i];
		if (c == q) {
			if (p->i + 1 < p->n && p->s[p->i + 1] == q) {
				d[o++] = q;
				p->i += 2;
				continue;
			}
			p->i++;
			break;
		}
		if (c == '\\' && p->i + 1 < p->n &&
		    (p->s[p->i + 1] == q || p->s[p->i + 1] == '\\')) {
			d[o++] = p->s[p->i + 1];
			p->i += 2;
			continue;
		}
		d[o++] = c;
		p->i++;
	}
	d[o] = '\0';
	*out = d;
	*outlen = o;
	return 0;
}

/* --- literals ------------------------------------------------------------------ */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH:MM|±HHMM] -> seconds since the epoch
 * (local time without a zone).  1: parsed, 0: not a date, -1: looks like a
 * date but is invalid. */
int qp_parse_date(const char *s, size_t n, bool allow_space, double *out)
{
	if (n < 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
	    !all_digits(s + 8, 2))
		return 0;
	struct tm tm = {0};
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = num2(s + 5) - 1;
	tm.tm_mday = num2(s + 8);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return -1;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (tm.tm_mday > mdays[tm.tm_mon])
		return -1;
	int y = tm.tm_year + 1900;
	if (tm.tm_mon == 1 && tm.tm_mday == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	size_t i = 10;
	double frac = 0;
	bool zone = false;
	long offset = 0;
	if (i < n) {
		if (!(s[i] == 'T' || s[i] == 't' || (allow_space && s[i] == ' ')))
			return -1;
		i++;
		if (n - i < 5 || !all_digits(s + i, 2) || s[i + 2] != ':' ||
		    !all_digits(s + i + 3, 2))
			return -1;
		tm.tm_hour = num2(s + i);
		tm.tm_min = num2(s + i + 3);
		i += 5;
		if (i < n && s[i] == ':') {
			if (n - i < 3 || !all_digits(s + i + 1, 2))
				return -1;
			tm.tm_sec = num2(s + i + 1);
			i += 3;
			if (i < n && s[i] == '.') {
				size_t st = ++i;
				double scale = 0.1;
				while (i < n && isdigit((unsigned char)s[i])) {
					frac += (s[i] - '0') * scale;
					scale /= 10;
					i++;
				}
				if (i == st)
					return -1;
			}
		}
		if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
			return -1;
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			zone = true;
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i] == '-' ? -1 : 1;
			i++;
			if (n - i >= 5 && all_digits(s + i, 2) && s[i + 2] == ':' &&
			    all_digits(s + i + 3, 2)) {
				offset = sign * (num2(s + i) * 3600L + num2(s + i + 3) * 60L);
				i += 5;
			} else if (n - i >= 4 && all_digits(s + i, 4)) {
				offset = sign * (num2(s + i) * 3600L + num2(s + i + 2) * 60L);
				i += 4;
			} else {
				return -1;
			}
			zone = true;
		}
		if (i != n)
			return -1;
	}
	time_t t;
	if (zone) {
		t = timegm(&tm);
		t -= offset;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	*out = (double)t + frac;
	return 1;
}

/* (\d+(\.\d+)?[wdhms])+ -> seconds. */
static bool parse_duration(const char *s, size_t n, double *out)
{
	double total = 0;
	size_t i = 0;
	if (n == 0)
		return false;
	while (i < n) {
		size_t st = i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == st)
			return false;
		if (i < n && s[i] == '.') {
			i++;
			size_t fs = i;
			while (i < n && isdigit((unsigned char)s[i]))
				i++;
			if (i == fs)
				return false;
		}
		if (i >= n)
			return false;
		double v = strtod(s + st, NULL);
		switch (s[i]) {
		case 'w': v *= 7 * 86400; break;
		case 'd': v *= 86400; break;
		case 'h': v *= 3600; break;
		case 'm': v *= 60; break;
		case 's': break;
		default: return false;
		}
		total += v;
		i++;
	}
	*out = total;
	return true;
}

/* A plain decimal or scientific number, the whole token. */
static bool parse_number(const char *s, size_t n, qlit *l)
{
	size_t i = 0;
	bool digits = false, is_int = true;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && isdigit((unsigned char)s[i])) {
		i++;
		digits = true;
	}
	if (i < n && s[i] == '.') {
		is_int = false;
		i++;
		while (i < n && isdigit((unsigned char)s[i])) {
			i++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		is_int = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t es = i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == es)
			return false;
	}
	if (i != n)
		return false;
	char tmp[64];
	if (n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	l->has_num = true;
	/* the one reading of a metric value; past the range of a double it is
	 * refused there, and here reads as ±inf (as strtod would) */
	if (cairn_metric_value_parse(tmp, &l->num) != 0)
		l->num = tmp[0] == '-' ? -INFINITY : INFINITY;
	if (is_int) {
		errno = 0;
		long long v = strtoll(tmp, NULL, 10);
		if (errno == 0) {
			l->is_int = true;
			l->i = v;
		}
	}
	return true;
}

/* The numeric and boolean readings of a string or word (cairn_value_parse's
 * rules, so a param logged from text compares with the same text). */
static void string_forms(qlit *l)
{
	cairn_value v;
	cairn_value_parse(&v, l->text);
	if (v.type == CAIRN_TYPE_INT) {
		l->has_num = true;
		l->is_int = true;
		l->i = v.i;
		l->num = (double)v.i;
	} else if (v.type == CAIRN_TYPE_FLOAT) {
		l->has_num = true;
		l->num = v.f;
	} else if (v.type == CAIRN_TYPE_BOOL) {
		l->has_bool = true;
		l->b = v.i != 0;
	}
}

static const char *const value_keywords[] = {"and", "or", "not", "in", "like", "ilike", "is", NULL};

int qp_scan_value(qp *p, qlit *l, const char *after)
{
	qp_skip_ws(p);
	memset(l, 0, sizeof *l);
	l->pos = p->i;
	if (p->i >= p->n)
		return qp_err(p, p->i, "expected a value after %s", after);
	char c = p->s[p->i];
	if (c == '\'' || c == '"') {
		size_t len;
		if (qp_scan_quoted(p, &l->text, &len) != 0)
			return CAIRN_EINVALID;
		l->kind = QL_STR;
		l->len = p->i - l->pos;
		string_forms(l);
		return 0;
	}
	if (c == '`')
		return qp_err(p, p->i, "backquotes name fields; quote values with ' or \"");
	if (ends_bare((unsigned char)c)) {
		char q[64];
		qp_quote(p, p->i, 0, q, sizeof q);
		return qp_err(p, p->i, "expected a value after %s, found %s", after, q);
	}
	size_t st = p->i;
	while (p->i < p->n && !ends_bare((unsigned char)p->s[p->i]))
		p->i++;
	size_t n = p->i - st;
	const char *s = p->s + st;
	l->len = n;
	l->text = qp_strndup(p->e, s, n);
	if (!l->text)
		return qp_oom(p);
	for (int k = 0; value_keywords[k]; k++)
		if (strlen(value_keywords[k]) == n && strncasecmp(s, value_keywords[k], n) == 0)
			return qp_err(p, st, "expected a value after %s, found the keyword '%.*s'",
			              after, (int)n, s);
	if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
	    (n == 5 && strncasecmp(s, "false", 5) == 0)) {
		l->kind = QL_BOOL;
		l->has_bool = true;
		l->b = n == 4;
		return 0;
	}
	if (n == 4 && strncasecmp(s, "null", 4) == 0)
		return qp_err(p, st,
		              "null is not a value: write 'FIELD is null' or 'FIELD is not null'");
	static const struct {
		const char *w;
		double v;
	} specials[] = {{"nan", NAN},
	                {"inf", INFINITY},
	                {"+inf", INFINITY},
	                {"-inf", -INFINITY},
	                {"infinity", INFINITY},
	                {"+infinity", INFINITY},
	                {"-infinity", -INFINITY}};
	for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
		if (strlen(specials[k].w) == n && strncasecmp(s, specials[k].w, n) == 0) {
			l->kind = QL_NUM;
			l->has_num = true;
			l->num = specials[k].v;
			return 0;
		}
	}
	double t;
	int d = qp_parse_date(s, n, false, &t);
	if (d < 0)
		return qp_err(
		    p, st, "invalid date '%.*s' (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z])",
		    (int)(n > 40 ? 40 : n), s);
	if (d > 0) {
		l->kind = QL_DATE;
		l->has_num = true;
		l->num = t;
		return 0;
	}
	if (parse_duration(s, n, &t)) {
		l->kind = QL_DURATION;
		l->has_num = true;
		l->num = t;
		return 0;
	}
	if (parse_number(s, n, l)) {
		l->kind = QL_NUM;
		return 0;
	}
	l->kind = QL_WORD;
	string_forms(l);
	return 0;
}
