/*
 * lib/query/parse.c — the query language's parser and type checker (the
 * grammar is in docs/internals/query.md).
 *
 * A hand-written recursive-descent parser over the raw text, lexing by
 * context: in field position it reads dotted keys (segments may be
 * `backquoted`, or "double-quoted" after a dot, as MLflow writes them); in
 * value position it reads a quoted string or a bare token and classifies it
 * (number, date, duration, boolean, word).  Every comparison is type-checked
 * as soon as it is parsed, so an error names the token that is wrong.
 *
 * Bounds: QUERY_MAX_BYTES of text, QUERY_MAX_DEPTH of nesting (the only
 * recursion), QUERY_MAX_TERMS comparisons, QUERY_MAX_LIST values per list.
 * Memory: everything lives in the qexpr's arena.  Reentrant.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h> /* sqlite3_strglob/strlike, until the planner moves */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/internal.h"
#include "lib/query/query.h"

/* --- arena ------------------------------------------------------------------ */

typedef struct qchunk {
	struct qchunk *next;
	size_t used, cap;
	_Alignas(16) char data[];
} qchunk;

struct qarena {
	qchunk *head;
};

static void *qalloc(qexpr *e, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!e->arena) {
		e->arena = calloc(1, sizeof *e->arena);
		if (!e->arena)
			return NULL;
	}
	qchunk *c = e->arena->head;
	if (!c || c->used + n > c->cap) {
		size_t cap = n > 8192 ? n : 8192;
		qchunk *nc = malloc(sizeof *nc + cap);
		if (!nc)
			return NULL;
		nc->next = c;
		nc->used = 0;
		nc->cap = cap;
		e->arena->head = nc;
		c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static char *qstrndup(qexpr *e, const char *s, size_t n)
{
	char *d = qalloc(e, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void qexpr_free(qexpr *e)
{
	if (!e || !e->arena)
		return;
	qchunk *c = e->arena->head;
	while (c) {
		qchunk *n = c->next;
		free(c);
		c = n;
	}
	free(e->arena);
	e->arena = NULL;
	e->root = NULL;
}

/* --- errors ----------------------------------------------------------------- */

typedef struct qp {
	const char *s;
	size_t n, i;
	qexpr *e;
	qerror *err;
	int depth;
	bool failed;
} qp;

static int perr(qp *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(qp *p, size_t pos, const char *fmt, ...)
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

static int oom(qp *p)
{
	return perr(p, p->i, "out of memory");
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

static bool is_key_char(unsigned char c);

/* A short quote of the text at pos for messages: "'abc'" or "the end". */
static void quote_at(qp *p, size_t pos, size_t len, char *out, size_t outsz)
{
	if (pos >= p->n) {
		snprintf(out, outsz, "the end");
		return;
	}
	if (len == 0) {
		/* the token there: a word or key, else one character */
		len = 1;
		if (is_key_char((unsigned char)p->s[pos]))
			while (pos + len < p->n && (is_key_char((unsigned char)p->s[pos + len]) ||
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

static void skip_ws(qp *p)
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
static bool at_kw(qp *p, const char *kw)
{
	size_t k = strlen(kw);
	if (p->i + k > p->n || strncasecmp(p->s + p->i, kw, k) != 0)
		return false;
	return p->i + k == p->n || !is_word_char((unsigned char)p->s[p->i + k]);
}

static bool eat_kw(qp *p, const char *kw)
{
	if (!at_kw(p, kw))
		return false;
	p->i += strlen(kw);
	return true;
}

static bool is_key_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '/' || c == '@' || c >= 0x80;
}

/* Characters that end a bare value token. */
static bool ends_bare(unsigned char c)
{
	return c <= ' ' || strchr("()=!<>~,'\"`", c) != NULL;
}

static int check_controls(qp *p)
{
	for (size_t k = 0; k < p->n; k++) {
		unsigned char c = (unsigned char)p->s[k];
		if ((c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return perr(p, k, "control character 0x%02x", c);
	}
	return 0;
}

/* A quoted string at p->i (quote char q): '' or \' inside a '…' string (and
 * "" or \" in "…") stand for the quote, \\ for a backslash; any other
 * backslash is kept as is (so glob patterns need no escaping). */
static int scan_quoted(qp *p, const char **out, size_t *outlen)
{
	char q = p->s[p->i];
	size_t start = p->i++;
	char *d = qalloc(p->e, p->n - start + 1);
	if (!d)
		return oom(p);
	size_t o = 0;
	for (;;) {
		if (p->i >= p->n)
			return perr(p, start, "unterminated string");
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

/* --- fields ------------------------------------------------------------------ */

typedef struct part {
	const char *s;
	size_t n;
	bool quoted;
	size_t pos;
} part;

#define MAX_PARTS 64

static const struct {
	const char *name;
	qattr a;
	bool mlflow_only;
} attr_names[] = {
    {"id", QA_ID, false},
    {"seq", QA_SEQ, false},
    {"name", QA_NAME, false},
    {"project", QA_PROJECT, false},
    {"status", QA_STATUS, false},
    {"started", QA_STARTED, false},
    {"ended", QA_ENDED, false},
    {"duration", QA_DURATION, false},
    {"user", QA_USER, false},
    {"host", QA_HOST, false},
    {"commit", QA_COMMIT, false},
    {"branch", QA_BRANCH, false},
    {"remote", QA_REMOTE, false},
    {"dirty", QA_DIRTY, false},
    {"command", QA_COMMAND, false},
    {"note", QA_NOTE, false},
    {"exit_code", QA_EXIT_CODE, false},
    {"parent", QA_PARENT, false},
    {"run_id", QA_ID, true},
    {"run_name", QA_NAME, true},
    {"start_time", QA_START_MS, true},
    {"end_time", QA_END_MS, true},
    {"created", QA_START_MS, true},
    {"user_id", QA_USER, true},
};

const char *qattr_name(qattr a)
{
	if (a == QA_START_MS)
		return "attributes.start_time";
	if (a == QA_END_MS)
		return "attributes.end_time";
	for (size_t k = 0; k < sizeof attr_names / sizeof attr_names[0]; k++)
		if (attr_names[k].a == a)
			return attr_names[k].name;
	return "?";
}

static bool part_is(const part *pt, const char *word)
{
	return !pt->quoted && pt->n == strlen(word) && strncasecmp(pt->s, word, pt->n) == 0;
}

static bool part_in(const part *pt, const char *const *words)
{
	for (; *words; words++)
		if (part_is(pt, *words))
			return true;
	return false;
}

/* Join parts[from..to) with '.' into the arena. */
static const char *join_parts(qp *p, const part *parts, size_t from, size_t to, size_t *len)
{
	size_t n = 0;
	for (size_t k = from; k < to; k++)
		n += parts[k].n + 1;
	char *d = qalloc(p->e, n + 1);
	if (!d)
		return NULL;
	size_t o = 0;
	for (size_t k = from; k < to; k++) {
		if (k > from)
			d[o++] = '.';
		memcpy(d + o, parts[k].s, parts[k].n);
		o += parts[k].n;
	}
	d[o] = '\0';
	*len = o;
	return d;
}

static const char *const metric_words[] = {"metrics", "metric", NULL};
static const char *const param_words[] = {"params", "param", "parameters", "parameter", NULL};
static const char *const tag_words[] = {"tags", "tag", NULL};
static const char *const prop_words[] = {"properties", "property", "props", "prop", NULL};
static const char *const data_words[] = {"datasets", "dataset", NULL};
static const char *const attr_words[] = {"attributes", "attribute", "attr", "run", NULL};
static const char *const metric_parts[] = {"last", "min", "max", "count", "step", NULL};
static const char *const data_parts[] = {"digest", "path", "role", "algo", "files", "bytes", NULL};

static int unknown_field(qp *p, size_t pos, size_t len)
{
	char q[64];
	quote_at(p, pos, len, q, sizeof q);
	return perr(p, pos,
	            "unknown field %s (fields are metrics.KEY, params.KEY, tags.TAG, "
	            "properties.KEY, datasets.NAME.digest, id, name, project, status, started, "
	            "ended, duration, user, host, commit, branch, dirty, …)",
	            q);
}

static int scan_field(qp *p, qfield *f)
{
	part parts[MAX_PARTS];
	size_t np = 0;
	size_t start = p->i;
	for (;;) {
		if (np == MAX_PARTS)
			return perr(p, p->i, "field has too many parts");
		part *pt = &parts[np];
		pt->pos = p->i;
		pt->quoted = false;
		unsigned char c = p->i < p->n ? (unsigned char)p->s[p->i] : 0;
		if (c == '`') {
			size_t st = p->i++;
			char *d = qalloc(p->e, p->n - st + 1);
			if (!d)
				return oom(p);
			size_t o = 0;
			for (;;) {
				if (p->i >= p->n)
					return perr(p, st, "unterminated backquote");
				if (p->s[p->i] == '`') {
					if (p->i + 1 < p->n && p->s[p->i + 1] == '`') {
						d[o++] = '`';
						p->i += 2;
						continue;
					}
					p->i++;
					break;
				}
				d[o++] = p->s[p->i++];
			}
			if (o == 0)
				return perr(p, st, "empty key in backquotes");
			pt->s = d;
			pt->n = o;
			pt->quoted = true;
		} else if (c == '"' && np > 0) {
			size_t st = p->i;
			if (scan_quoted(p, &pt->s, &pt->n) != 0)
				return CAIRN_EINVALID;
			if (pt->n == 0)
				return perr(p, st, "empty key in quotes");
			pt->quoted = true;
		} else if (c && is_key_char(c) && (np > 0 || isalpha(c) || c == '_')) {
			size_t st = p->i;
			while (p->i < p->n && is_key_char((unsigned char)p->s[p->i]))
				p->i++;
			pt->s = p->s + st;
			pt->n = p->i - st;
		} else if (np == 0) {
			char q[64];
			quote_at(p, p->i, 0, q, sizeof q);
			return perr(p, p->i,
			            "expected a field (metrics.KEY, params.KEY, tags.TAG, status, "
			            "…), found %s",
			            q);
		} else {
			return perr(p, p->i, "expected a key after '.'");
		}
		np++;
		if (p->i < p->n && p->s[p->i] == '.') {
			p->i++;
			continue;
		}
		break;
	}
	memset(f, 0, sizeof *f);
	f->pos = start;
	f->len = p->i - start;
	size_t klen = 0;
	const part *p0 = &parts[0];
	if (p0->quoted)
		return unknown_field(p, start, f->len);
	if (part_in(p0, metric_words) || part_in(p0, param_words) || part_in(p0, prop_words) ||
	    part_in(p0, data_words)) {
		if (np < 2)
			return perr(p, p->i, "expected a key after '%.*s'", (int)p0->n, p0->s);
		size_t to = np;
		if (part_in(p0, metric_words)) {
			f->kind = QK_METRIC;
			f->part = QM_LAST;
			if (np >= 3 && part_in(&parts[np - 1], metric_parts)) {
				for (int k = 0; metric_parts[k]; k++)
					if (part_is(&parts[np - 1], metric_parts[k]))
						f->part = k;
				to = np - 1;
			}
		} else if (part_in(p0, data_words)) {
			f->kind = QK_DATASET;
			f->part = QD_DIGEST;
			if (np >= 3 && part_in(&parts[np - 1], data_parts)) {
				for (int k = 0; data_parts[k]; k++)
					if (part_is(&parts[np - 1], data_parts[k]))
						f->part = k;
				to = np - 1;
			}
		} else {
			f->kind = part_in(p0, param_words) ? QK_PARAM : QK_PROPERTY;
		}
		f->key = join_parts(p, parts, 1, to, &klen);
	} else if (part_in(p0, tag_words)) {
		if (np == 1) {
			f->kind = QK_TAGS;
		} else {
			f->kind = QK_TAG;
			f->key = join_parts(p, parts, 1, np, &klen);
		}
	} else {
		const part *ap = p0;
		bool prefixed = false;
		if (part_in(p0, attr_words)) {
			if (np != 2)
				return np < 2 ? perr(p, p->i,
				                     "expected an attribute name after '%.*s'",
				                     (int)p0->n, p0->s)
				              : unknown_field(p, start, f->len);
			ap = &parts[1];
			prefixed = true;
		} else if (np != 1) {
			return unknown_field(p, start, f->len);
		}
		bool found = false;
		for (size_t k = 0; k < sizeof attr_names / sizeof attr_names[0]; k++) {
			if ((prefixed || !attr_names[k].mlflow_only) &&
			    part_is(ap, attr_names[k].name)) {
				f->kind = QK_ATTR;
				f->part = attr_names[k].a;
				found = true;
				break;
			}
		}
		if (!found)
			return unknown_field(p, start, f->len);
	}
	if (f->kind != QK_ATTR && f->kind != QK_TAGS) {
		if (!f->key)
			return oom(p);
		if (klen > KEY_MAX)
			return perr(p, start, "key too long (%zu bytes, at most %d)", klen,
			            KEY_MAX);
	}
	return 0;
}

qtype qfield_type(const qfield *f)
{
	switch (f->kind) {
	case QK_METRIC: return QT_NUM;
	case QK_PARAM: return QT_DYN;
	case QK_TAG: return QT_FLAG;
	case QK_TAGS: return QT_SET;
	case QK_PROPERTY: return QT_TEXT;
	case QK_DATASET: return f->part == QD_FILES || f->part == QD_BYTES ? QT_NUM : QT_TEXT;
	case QK_ATTR:
		switch ((qattr)f->part) {
		case QA_SEQ:
		case QA_EXIT_CODE:
		case QA_DURATION: return QT_NUM;
		case QA_STARTED:
		case QA_ENDED: return QT_TIME;
		case QA_START_MS:
		case QA_END_MS: return QT_TIMEMS;
		case QA_STATUS: return QT_STATUS;
		case QA_DIRTY: return QT_BOOL;
		default: return QT_TEXT;
		}
	}
	return QT_TEXT;
}

bool qtype_sortable(qtype t)
{
	return t != QT_FLAG && t != QT_SET;
}

/* Does a key need backquotes to read back as the same field? */
static bool key_needs_quotes(const char *k, bool has_parts, const char *const *parts)
{
	size_t n = strlen(k);
	if (n == 0 || k[0] == '.' || k[n - 1] == '.' || strstr(k, ".."))
		return true;
	for (size_t i = 0; i < n; i++)
		if (k[i] != '.' && !is_key_char((unsigned char)k[i]))
			return true;
	if (has_parts) {
		const char *last = strrchr(k, '.');
		if (last) {
			for (; *parts; parts++)
				if (strcasecmp(last + 1, *parts) == 0)
					return true;
		}
	}
	return false;
}

/* Append to a fixed buffer, truncating (a name only ever goes into messages
 * and column headers, so a cut name is harmless; overflow is not). */
static void app(char *out, size_t n, size_t *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *o + 1 < n; i++)
		out[(*o)++] = s[i];
	out[*o < n ? *o : n - 1] = '\0';
}

static void put_key(char *out, size_t n, const char *prefix, const char *key, bool quote,
                    const char *suffix)
{
	size_t o = 0;
	if (n == 0)
		return;
	out[0] = '\0';
	app(out, n, &o, prefix, strlen(prefix));
	if (quote)
		app(out, n, &o, "`", 1);
	for (const char *k = key; *k; k++) {
		if (*k == '`' && quote)
			app(out, n, &o, "`", 1);
		app(out, n, &o, k, 1);
	}
	if (quote)
		app(out, n, &o, "`", 1);
	if (suffix)
		app(out, n, &o, suffix, strlen(suffix));
}

void qfield_name(char *out, size_t n, const qfield *f)
{
	static const char *const msuf[] = {NULL, ".min", ".max", ".count", ".step"};
	static const char *const dsuf[] = {NULL, ".path", ".role", ".algo", ".files", ".bytes"};
	switch (f->kind) {
	case QK_METRIC:
		put_key(out, n, "metrics.", f->key, key_needs_quotes(f->key, true, metric_parts),
		        msuf[f->part]);
		break;
	case QK_PARAM:
		put_key(out, n, "params.", f->key, key_needs_quotes(f->key, false, NULL), NULL);
		break;
	case QK_TAG:
		put_key(out, n, "tags.", f->key, key_needs_quotes(f->key, false, NULL), NULL);
		break;
	case QK_TAGS: snprintf(out, n, "tags"); break;
	case QK_PROPERTY:
		put_key(out, n, "properties.", f->key, key_needs_quotes(f->key, false, NULL), NULL);
		break;
	case QK_DATASET:
		put_key(out, n, "datasets.", f->key, key_needs_quotes(f->key, true, data_parts),
		        dsuf[f->part]);
		break;
	case QK_ATTR: snprintf(out, n, "%s", qattr_name((qattr)f->part)); break;
	}
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
static int parse_date(const char *s, size_t n, bool allow_space, double *out)
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
	l->num = strtod(tmp, NULL);
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

static int scan_value(qp *p, qlit *l, const char *after)
{
	skip_ws(p);
	memset(l, 0, sizeof *l);
	l->pos = p->i;
	if (p->i >= p->n)
		return perr(p, p->i, "expected a value after %s", after);
	char c = p->s[p->i];
	if (c == '\'' || c == '"') {
		size_t len;
		if (scan_quoted(p, &l->text, &len) != 0)
			return CAIRN_EINVALID;
		l->kind = QL_STR;
		l->len = p->i - l->pos;
		string_forms(l);
		return 0;
	}
	if (c == '`')
		return perr(p, p->i, "backquotes name fields; quote values with ' or \"");
	if (ends_bare((unsigned char)c)) {
		char q[64];
		quote_at(p, p->i, 0, q, sizeof q);
		return perr(p, p->i, "expected a value after %s, found %s", after, q);
	}
	size_t st = p->i;
	while (p->i < p->n && !ends_bare((unsigned char)p->s[p->i]))
		p->i++;
	size_t n = p->i - st;
	const char *s = p->s + st;
	l->len = n;
	l->text = qstrndup(p->e, s, n);
	if (!l->text)
		return oom(p);
	for (int k = 0; value_keywords[k]; k++)
		if (strlen(value_keywords[k]) == n && strncasecmp(s, value_keywords[k], n) == 0)
			return perr(p, st, "expected a value after %s, found the keyword '%.*s'",
			            after, (int)n, s);
	if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
	    (n == 5 && strncasecmp(s, "false", 5) == 0)) {
		l->kind = QL_BOOL;
		l->has_bool = true;
		l->b = n == 4;
		return 0;
	}
	if (n == 4 && strncasecmp(s, "null", 4) == 0)
		return perr(p, st,
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
	int d = parse_date(s, n, false, &t);
	if (d < 0)
		return perr(p, st,
		            "invalid date '%.*s' (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z])",
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

/* --- type checking ------------------------------------------------------------- */

static const char *op_text(qop op)
{
	static const char *const t[] = {
	    "=",    "!=",       "<",     "<=",        ">",  ">=",     "~", "!~",
	    "like", "not like", "ilike", "not ilike", "in", "not in", "",  "is not null"};
	return t[op];
}

static bool op_is_order(qop op)
{
	return op >= QO_LT && op <= QO_GE;
}

static bool op_is_match(qop op)
{
	return op >= QO_GLOB && op <= QO_NILIKE;
}

static const char *type_noun(qtype t)
{
	switch (t) {
	case QT_NUM: return "a number";
	case QT_BOOL: return "true or false";
	case QT_TIME:
	case QT_TIMEMS: return "a time";
	case QT_STATUS: return "a status";
	case QT_SET: return "a set of tags";
	case QT_FLAG: return "a tag (present or not)";
	default: return "text";
	}
}

static const char *const status_words[] = {"running", "finished", "failed",
                                           "killed",  "crashed",  "pruned"};
#define NSTATUS (sizeof status_words / sizeof status_words[0])

/* Give a literal the form a field of type t compares with, or fail. */
static int check_lit(qp *p, const qnode *n, qtype t, qlit *l)
{
	char fname[300];
	qfield_name(fname, sizeof fname, &n->f);
	switch (t) {
	case QT_NUM:
		if (!l->has_num)
			return perr(p, l->pos, "%s is a number; '%s' is not", fname,
			            l->text ? l->text : "");
		return 0;
	case QT_BOOL:
		if (!l->has_bool)
			return perr(p, l->pos, "%s is true or false; '%s' is neither", fname,
			            l->text ? l->text : "");
		return 0;
	case QT_TIME:
	case QT_TIMEMS: {
		double v;
		if (l->kind == QL_DURATION)
			return perr(p, l->pos,
			            "%s is a time: compare it with a date, not a duration", fname);
		if (l->kind == QL_BOOL || (l->has_num && isnan(l->num)))
			return perr(p, l->pos, "%s is a time; '%s' is not", fname,
			            l->text ? l->text : "");
		if (l->kind == QL_STR || l->kind == QL_WORD) {
			int d = parse_date(l->text, strlen(l->text), true, &v);
			if (d > 0) {
				l->has_num = true;
				l->num = t == QT_TIMEMS ? v * 1000 : v;
				l->is_int = false;
				return 0;
			}
			if (!l->has_num)
				return perr(p, l->pos,
				            "invalid date '%.40s' (expected YYYY-MM-DD or "
				            "YYYY-MM-DDTHH:MM[:SS][Z])",
				            l->text);
			return 0;
		}
		if (l->kind == QL_DATE && t == QT_TIMEMS) {
			l->num *= 1000;
			l->is_int = false;
		}
		return 0;
	}
	case QT_STATUS: {
		if (!l->text)
			return perr(p, l->pos, "expected a status");
		char low[64];
		size_t k = 0;
		for (; l->text[k] && k + 1 < sizeof low; k++)
			low[k] = (char)tolower((unsigned char)l->text[k]);
		low[k] = '\0';
		if (op_is_match(n->op)) {
			for (unsigned s = 0; s < NSTATUS; s++) {
				bool m;
				if (n->op == QO_GLOB || n->op == QO_NGLOB)
					m = sqlite3_strglob(low, status_words[s]) == 0;
				else
					m = sqlite3_strlike(low, status_words[s], 0) == 0;
				if (m)
					l->status_mask |= 1u << s;
			}
			return 0;
		}
		for (unsigned s = 0; s < NSTATUS; s++)
			if (strcmp(low, status_words[s]) == 0)
				l->status_mask = 1u << s;
		if (!l->status_mask && strcmp(low, "scheduled") != 0)
			return perr(
			    p, l->pos,
			    "unknown status '%.40s' (expected running, finished, failed, killed, "
			    "crashed or pruned)",
			    l->text);
		return 0;
	}
	default: return 0;
	}
}

static qnode *new_node(qp *p, qntype t, size_t pos)
{
	qnode *n = qalloc(p->e, sizeof *n);
	if (n) {
		n->type = t;
		n->pos = pos;
	}
	return n;
}

/* Type-check a comparison; may rewrite it (tags.T = false -> not tags.T). */
static int check_cmp(qp *p, qnode **np)
{
	qnode *n = *np;
	qtype t = qfield_type(&n->f);
	char fname[300];
	qfield_name(fname, sizeof fname, &n->f);
	if (t == QT_FLAG && n->op != QO_TRUE && n->op != QO_PRESENT) {
		bool all_bool = n->nlits > 0;
		for (size_t k = 0; k < n->nlits; k++)
			if (n->lits[k].kind != QL_BOOL)
				all_bool = false;
		if (all_bool && (n->op == QO_EQ || n->op == QO_NE)) {
			bool want = n->lits[0].b == (n->op == QO_EQ);
			n->op = QO_TRUE;
			n->nlits = 0;
			if (!want) {
				qnode *no = new_node(p, QN_NOT, n->pos);
				if (!no)
					return oom(p);
				no->l = n;
				*np = no;
			}
			return 0;
		}
		if (all_bool)
			return perr(p, n->pos,
			            "%s is present or not: write %s, not %s, or %s = true", fname,
			            fname, fname, fname);
		/* MLflow tags are key/value: compare the property of that key. */
		n->f.kind = QK_PROPERTY;
		t = QT_TEXT;
	}
	if (op_is_order(n->op) && (t == QT_SET || t == QT_STATUS || t == QT_BOOL))
		return perr(p, n->pos, "%s is %s: it has no order (use =, != or in)", fname,
		            type_noun(t));
	if (op_is_match(n->op) && (t == QT_NUM || t == QT_TIME || t == QT_TIMEMS || t == QT_BOOL))
		return perr(p, n->pos, "'%s' matches text, but %s is %s", op_text(n->op), fname,
		            type_noun(t));
	for (size_t k = 0; k < n->nlits; k++)
		if (check_lit(p, n, t, &n->lits[k]) != 0)
			return CAIRN_EINVALID;
	return 0;
}

/* --- the grammar --------------------------------------------------------------- */

static int parse_or(qp *p, qnode **out);

static int parse_cond(qp *p, qnode **out)
{
	qnode *n = new_node(p, QN_CMP, p->i);
	if (!n)
		return oom(p);
	if (scan_field(p, &n->f) != 0)
		return CAIRN_EINVALID;
	if (++p->e->nterms > QUERY_MAX_TERMS)
		return perr(p, n->pos, "too many conditions (at most %d)", QUERY_MAX_TERMS);
	char fname[300];
	qfield_name(fname, sizeof fname, &n->f);
	skip_ws(p);
	size_t opos = p->i;
	const char *s = p->s + p->i;
	size_t left = p->n - p->i;
	bool missing = false;
	if (p->i >= p->n || *s == ')' || at_kw(p, "and") || at_kw(p, "or")) {
		n->op = QO_TRUE;
	} else if (left >= 2 && (strncmp(s, "==", 2) == 0)) {
		n->op = QO_EQ;
		p->i += 2;
	} else if (left >= 2 && (strncmp(s, "!=", 2) == 0 || strncmp(s, "<>", 2) == 0)) {
		n->op = QO_NE;
		p->i += 2;
	} else if (left >= 2 && strncmp(s, "!~", 2) == 0) {
		n->op = QO_NGLOB;
		p->i += 2;
	} else if (left >= 2 && strncmp(s, "<=", 2) == 0) {
		n->op = QO_LE;
		p->i += 2;
	} else if (left >= 2 && strncmp(s, ">=", 2) == 0) {
		n->op = QO_GE;
		p->i += 2;
	} else if (*s == '=' || *s == '<' || *s == '>' || *s == '~') {
		n->op = *s == '=' ? QO_EQ : *s == '<' ? QO_LT : *s == '>' ? QO_GT : QO_GLOB;
		p->i++;
	} else if (eat_kw(p, "in")) {
		n->op = QO_IN;
	} else if (eat_kw(p, "like")) {
		n->op = QO_LIKE;
	} else if (eat_kw(p, "ilike")) {
		n->op = QO_ILIKE;
	} else if (at_kw(p, "not")) {
		p->i += 3;
		skip_ws(p);
		if (eat_kw(p, "in"))
			n->op = QO_NIN;
		else if (eat_kw(p, "like"))
			n->op = QO_NLIKE;
		else if (eat_kw(p, "ilike"))
			n->op = QO_NILIKE;
		else
			return perr(p, p->i, "expected 'in', 'like' or 'ilike' after 'not'");
	} else if (eat_kw(p, "is")) {
		skip_ws(p);
		if (eat_kw(p, "not")) {
			skip_ws(p);
		} else {
			missing = true;
		}
		if (!eat_kw(p, "null"))
			return perr(p, p->i, "expected 'null' after 'is'");
		n->op = QO_PRESENT;
	} else {
		char q[64];
		quote_at(p, p->i, 0, q, sizeof q);
		return perr(
		    p, opos,
		    "expected an operator (=, !=, <, <=, >, >=, ~, in, like) after %s, found %s",
		    fname, q);
	}
	char after[64];
	snprintf(after, sizeof after, "'%.*s'", (int)(p->i - opos), p->s + opos);
	if (n->op == QO_IN || n->op == QO_NIN) {
		skip_ws(p);
		if (p->i >= p->n || p->s[p->i] != '(')
			return perr(p, p->i, "expected '(' after %s", after);
		size_t lpos = p->i++;
		size_t cap = 8;
		n->lits = qalloc(p->e, cap * sizeof *n->lits);
		if (!n->lits)
			return oom(p);
		for (;;) {
			skip_ws(p);
			if (n->nlits == 0 && p->i < p->n && p->s[p->i] == ')')
				return perr(p, lpos, "empty list after %s", after);
			if (n->nlits == QUERY_MAX_LIST)
				return perr(p, p->i, "list too long (at most %d values)",
				            QUERY_MAX_LIST);
			if (n->nlits == cap) {
				qlit *nl = qalloc(p->e, 2 * cap * sizeof *nl);
				if (!nl)
					return oom(p);
				memcpy(nl, n->lits, cap * sizeof *nl);
				n->lits = nl;
				cap *= 2;
			}
			if (scan_value(p, &n->lits[n->nlits], n->nlits ? "','" : "'('") != 0)
				return CAIRN_EINVALID;
			n->nlits++;
			skip_ws(p);
			if (p->i < p->n && p->s[p->i] == ',') {
				p->i++;
				continue;
			}
			if (p->i < p->n && p->s[p->i] == ')') {
				p->i++;
				break;
			}
			return perr(p, p->i, "expected ',' or ')' in the list after %s", after);
		}
	} else if (n->op != QO_TRUE && n->op != QO_PRESENT) {
		n->lits = qalloc(p->e, sizeof *n->lits);
		if (!n->lits)
			return oom(p);
		if (scan_value(p, &n->lits[0], after) != 0)
			return CAIRN_EINVALID;
		n->nlits = 1;
	}
	if (check_cmp(p, &n) != 0)
		return CAIRN_EINVALID;
	if (missing) {
		qnode *no = new_node(p, QN_NOT, n->pos);
		if (!no)
			return oom(p);
		no->l = n;
		n = no;
	}
	*out = n;
	return 0;
}

static int parse_not(qp *p, qnode **out)
{
	skip_ws(p);
	if (++p->depth > QUERY_MAX_DEPTH)
		return perr(p, p->i, "query nests too deeply (more than %d levels)",
		            QUERY_MAX_DEPTH);
	int rc;
	if (at_kw(p, "not")) {
		size_t pos = p->i;
		p->i += 3;
		qnode *n = new_node(p, QN_NOT, pos);
		if (!n)
			return oom(p);
		if ((rc = parse_not(p, &n->l)) != 0)
			return rc;
		*out = n;
	} else if (p->i < p->n && p->s[p->i] == '(') {
		size_t pos = p->i++;
		if ((rc = parse_or(p, out)) != 0)
			return rc;
		skip_ws(p);
		if (p->i >= p->n || p->s[p->i] != ')')
			return perr(p, p->i >= p->n ? pos : p->i,
			            p->i >= p->n ? "unclosed '('" : "expected ')'");
		p->i++;
	} else if (p->i < p->n && p->s[p->i] == ')') {
		return perr(p, p->i, "unexpected ')'");
	} else if (p->i >= p->n) {
		return perr(p, p->i, "expected a condition");
	} else {
		if ((rc = parse_cond(p, out)) != 0)
			return rc;
	}
	p->depth--;
	return 0;
}

static int parse_and(qp *p, qnode **out)
{
	int rc = parse_not(p, out);
	if (rc)
		return rc;
	for (;;) {
		skip_ws(p);
		size_t pos = p->i;
		if (!eat_kw(p, "and"))
			return 0;
		qnode *n = new_node(p, QN_AND, pos);
		if (!n)
			return oom(p);
		n->l = *out;
		if ((rc = parse_not(p, &n->r)) != 0)
			return rc;
		*out = n;
	}
}

static int parse_or(qp *p, qnode **out)
{
	int rc = parse_and(p, out);
	if (rc)
		return rc;
	for (;;) {
		skip_ws(p);
		size_t pos = p->i;
		if (!eat_kw(p, "or"))
			return 0;
		qnode *n = new_node(p, QN_OR, pos);
		if (!n)
			return oom(p);
		n->l = *out;
		if ((rc = parse_and(p, &n->r)) != 0)
			return rc;
		*out = n;
	}
}

static int start(qp *p, qexpr *e, const char *text, qerror *err)
{
	memset(p, 0, sizeof *p);
	memset(err, 0, sizeof *err);
	p->s = text ? text : "";
	p->n = strlen(p->s);
	p->e = e;
	p->err = err;
	if (p->n > QUERY_MAX_BYTES)
		return perr(p, QUERY_MAX_BYTES, "too long (%zu bytes, at most %d)", p->n,
		            QUERY_MAX_BYTES);
	return check_controls(p);
}

int qexpr_parse(qexpr *e, const char *text, qerror *err)
{
	qp p;
	memset(e, 0, sizeof *e);
	if (start(&p, e, text, err) != 0)
		return CAIRN_EINVALID;
	skip_ws(&p);
	if (p.i >= p.n)
		return 0;
	if (parse_or(&p, &e->root) != 0)
		return CAIRN_EINVALID;
	skip_ws(&p);
	if (p.i < p.n) {
		char q[64];
		quote_at(&p, p.i, 0, q, sizeof q);
		if (p.s[p.i] == ')')
			return perr(&p, p.i, "unexpected ')'");
		return perr(&p, p.i,
		            "expected 'and', 'or' or the end after the condition, found %s", q);
	}
	return 0;
}

int qfield_parse(qfield *out, qexpr *e, const char *text, qerror *err)
{
	qp p;
	if (start(&p, e, text, err) != 0)
		return CAIRN_EINVALID;
	skip_ws(&p);
	if (scan_field(&p, out) != 0)
		return CAIRN_EINVALID;
	skip_ws(&p);
	if (p.i < p.n) {
		char q[64];
		quote_at(&p, p.i, 0, q, sizeof q);
		return perr(&p, p.i, "unexpected %s after the field", q);
	}
	return 0;
}

int qsort_parse(qsortkey *keys, size_t *nkeys, qexpr *e, const char *text, qerror *err)
{
	qp p;
	*nkeys = 0;
	if (start(&p, e, text, err) != 0)
		return CAIRN_EINVALID;
	for (;;) {
		skip_ws(&p);
		if (p.i >= p.n) {
			if (*nkeys == 0)
				return 0;
			return perr(&p, p.i, "expected a field after ','");
		}
		if (*nkeys == QUERY_MAX_SORT)
			return perr(&p, p.i, "too many sort keys (at most %d)", QUERY_MAX_SORT);
		qsortkey *k = &keys[*nkeys];
		k->desc = false;
		if (p.s[p.i] == '-' || p.s[p.i] == '+') {
			k->desc = p.s[p.i] == '-';
			p.i++;
		}
		if (scan_field(&p, &k->f) != 0)
			return CAIRN_EINVALID;
		if (!qtype_sortable(qfield_type(&k->f))) {
			char fname[300];
			qfield_name(fname, sizeof fname, &k->f);
			return perr(&p, k->f.pos, "cannot sort by %s (it is %s)", fname,
			            type_noun(qfield_type(&k->f)));
		}
		skip_ws(&p);
		if (eat_kw(&p, "desc"))
			k->desc = true;
		else if (eat_kw(&p, "asc"))
			k->desc = false;
		(*nkeys)++;
		skip_ws(&p);
		if (p.i >= p.n)
			return 0;
		if (p.s[p.i] != ',') {
			char q[64];
			quote_at(&p, p.i, 0, q, sizeof q);
			return perr(&p, p.i, "expected ',' between sort keys, found %s", q);
		}
		p.i++;
	}
}
