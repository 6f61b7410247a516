/*
 * lib/capture/metrics.c — metrics recognised in lines of program output.
 *
 * The default recogniser finds `key=value` and `key: value` pairs, several
 * per line, with quoted keys too ({'loss': 0.5} as Python prints a dict):
 *   key    a letter or '_' then letters, digits, '_', '.', '/', '-'; or any
 *          text in quotes;
 *   value  a plain decimal number (1, -0.5, 3e-4, .5) or nan/inf, followed
 *          by the end of the line, a space or one of , ; ) ] } | " '
 *          ("12:30:45", "v1.2.3", "100%" and "3.2s" are not values).
 * A step/epoch/iter/iteration/global_step key with an integer value, or the
 * word followed by an integer ("epoch 3", "Epoch 3/10"), gives the line's
 * step instead of being a metric.  '\r' separates lines too (progress bars).
 *
 * feed() is the hot path of `cairn run`'s output pump: it never looks at a
 * line without '=' or ':' in it, finding candidates with memchr over the
 * whole chunk, so plain log output costs two vectorised scans.  A partial
 * last line is kept (bounded by LINE_MAX; a longer line is not parsed).
 * A custom pattern is a POSIX ERE whose groups 1 and 2 are key and value.
 * Thread-safety: one parser per stream, used by one thread.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/capture/capture.h"

#define LINE_MAX_BYTES (64 << 10)
#define PAIRS_MAX      64

struct cairn_metric_parser {
	bool custom;
	regex_t re;
	char *carry; /* the partial last line */
	char *line;  /* custom patterns: the segment, NUL-terminated for regexec */
	size_t ncarry;
	bool overflow; /* the current line outgrew LINE_MAX_BYTES: skip to its end */
};

int cairn_metric_parser_new(cairn_metric_parser **out, const char *pattern)
{
	*out = NULL;
	cairn_metric_parser *p = calloc(1, sizeof *p);
	if (!p)
		return err_set(CAIRN_ENOMEM, "out of memory");
	p->carry = malloc(LINE_MAX_BYTES);
	if (!p->carry) {
		free(p);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (pattern && *pattern) {
		int e = regcomp(&p->re, pattern, REG_EXTENDED);
		if (e) {
			char msg[200];
			regerror(e, &p->re, msg, sizeof msg);
			free(p->carry);
			free(p);
			return err_set(CAIRN_EINVALID, "bad metric pattern '%s': %s", pattern, msg);
		}
		if (p->re.re_nsub < 2) {
			regfree(&p->re);
			free(p->carry);
			free(p);
			return err_set(CAIRN_EINVALID,
			               "metric pattern '%s' needs two groups: (key) and (value)",
			               pattern);
		}
		p->custom = true;
		if (!(p->line = malloc(LINE_MAX_BYTES + 1))) {
			regfree(&p->re);
			free(p->carry);
			free(p);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	*out = p;
	return 0;
}

void cairn_metric_parser_free(cairn_metric_parser *p)
{
	if (!p)
		return;
	if (p->custom)
		regfree(&p->re);
	free(p->line);
	free(p->carry);
	free(p);
}

/* --- one segment -------------------------------------------------------------- */

static bool key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '/' || c == '-';
}

static bool value_end(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == ';' || c == ')' || c == ']' || c == '}' ||
	       c == '|' || c == '"' || c == '\'' || c == '\n' || c == '\r';
}

/* A plain number or nan/inf in [s, e); false otherwise. */
static bool parse_value(const char *s, const char *e, double *out, bool *integer)
{
	char tmp[64];
	size_t n = (size_t)(e - s);
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	const char *t = tmp[0] == '+' || tmp[0] == '-' ? tmp + 1 : tmp;
	if (strcasecmp(t, "nan") == 0 || strcasecmp(t, "inf") == 0 ||
	    strcasecmp(t, "infinity") == 0) {
		*integer = false;
		return cairn_metric_value_parse(tmp, out) == 0;
	}
	bool digit = false, dot = false, exp = false;
	for (const char *p = t; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			digit = true;
		} else if (*p == '.' && !dot && !exp) {
			dot = true;
		} else if ((*p == 'e' || *p == 'E') && digit && !exp) {
			exp = true;
			if (p[1] == '+' || p[1] == '-')
				p++;
			if (!isdigit((unsigned char)p[1]))
				return false;
		} else {
			return false;
		}
	}
	if (!digit)
		return false;
	/* the shape is a number's: the one public parser reads it (and refuses
	 * a value past the range of a double, as the CLI and HTTP API do) */
	*integer = !dot && !exp;
	if (cairn_metric_value_parse(tmp, out) != 0) {
		cairn_error_clear();
		return false;
	}
	return true;
}

static bool step_word(const char *s, size_t n)
{
	static const char *const w[] = {"step", "epoch", "iter", "iteration", "global_step"};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (strlen(w[i]) == n && strncasecmp(s, w[i], n) == 0)
			return true;
	return false;
}

typedef struct pair {
	const char *k;
	size_t kn;
	double v;
} pair;

static int emit(pair *pairs, int npairs, int64_t step, cairn_metric_cb cb, void *ctx, int *count)
{
	char key[KEY_MAX + 1];
	for (int i = 0; i < npairs; i++) {
		if (pairs[i].kn == 0 || pairs[i].kn > KEY_MAX)
			continue;
		memcpy(key, pairs[i].k, pairs[i].kn);
		key[pairs[i].kn] = '\0';
		(*count)++;
		int r = cb(ctx, key, pairs[i].v, step);
		if (r)
			return r;
	}
	return 0;
}

static int parse_default(const char *a, const char *b, cairn_metric_cb cb, void *ctx, int *count)
{
	pair pairs[PAIRS_MAX];
	int npairs = 0;
	int64_t step = CAIRN_STEP_AUTO;
	for (const char *i = a; i < b && npairs < PAIRS_MAX; i++) {
		if (*i != '=' && *i != ':')
			continue;
		/* the key, ending before the separator (spaces allowed before '=') */
		const char *ke = i;
		if (*i == '=')
			while (ke > a && ke[-1] == ' ')
				ke--;
		const char *ks;
		if (ke > a && (ke[-1] == '"' || ke[-1] == '\'')) {
			char q = ke[-1];
			const char *open = NULL;
			for (const char *p = ke - 2; p >= a; p--)
				if (*p == q) {
					open = p;
					break;
				}
			if (!open)
				continue;
			ks = open + 1;
			ke = ke - 1;
		} else {
			ks = ke;
			while (ks > a && key_char(ks[-1]))
				ks--;
			if (ks == ke || !(isalpha((unsigned char)*ks) || *ks == '_'))
				continue;
		}
		if (ke <= ks)
			continue;
		/* the value */
		const char *vs = i + 1;
		while (vs < b && (*vs == ' ' || *vs == '\t'))
			vs++;
		const char *ve = vs;
		while (ve < b && !value_end(*ve))
			ve++;
		double v;
		bool integer;
		if (!parse_value(vs, ve, &v, &integer))
			continue;
		if (step_word(ks, (size_t)(ke - ks)) && integer && v >= 0 && v < 9.2e18) {
			step = (int64_t)v;
		} else {
			pairs[npairs].k = ks;
			pairs[npairs].kn = (size_t)(ke - ks);
			pairs[npairs].v = v;
			npairs++;
		}
		i = ve - 1;
	}
	if (step == CAIRN_STEP_AUTO && npairs) {
		/* "epoch 3 loss=..." / "Epoch 3/10": a step word and an integer */
		for (const char *p = a; p < b; p++) {
			if (!isalpha((unsigned char)*p) || (p > a && key_char(p[-1])))
				continue;
			const char *we = p;
			while (we < b && isalpha((unsigned char)*we))
				we++;
			if (step_word(p, (size_t)(we - p)) && we < b && *we == ' ') {
				const char *ds = we + 1, *de = ds;
				while (de < b && isdigit((unsigned char)*de))
					de++;
				if (de > ds && de - ds < 19 &&
				    (de == b || value_end(*de) || *de == '/')) {
					/* the line is not NUL-terminated: no strtoll */
					step = 0;
					for (const char *q = ds; q < de; q++)
						step = step * 10 + (*q - '0');
					break;
				}
			}
			p = we;
		}
	}
	return emit(pairs, npairs, step, cb, ctx, count);
}

static int parse_custom(cairn_metric_parser *p, const char *a, const char *b, cairn_metric_cb cb,
                        void *ctx, int *count)
{
	pair pairs[PAIRS_MAX];
	int npairs = 0;
	int64_t step = CAIRN_STEP_AUTO;
	/* regexec wants a C string (and sanitizers read up to its NUL even with
	 * REG_STARTEND): work on a bounded copy */
	size_t n = (size_t)(b - a);
	if (n > LINE_MAX_BYTES)
		n = LINE_MAX_BYTES;
	memcpy(p->line, a, n);
	p->line[n] = '\0';
	a = p->line;
	b = p->line + n;
	const char *s = a;
	while (s <= b && npairs < PAIRS_MAX) {
		regmatch_t m[3];
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)(b - s);
		if (regexec(&p->re, s, 3, m, REG_STARTEND | (s > a ? REG_NOTBOL : 0)) != 0)
			break;
		if (m[1].rm_so >= 0 && m[2].rm_so >= 0) {
			double v;
			bool integer;
			const char *ks = s + m[1].rm_so, *ke = s + m[1].rm_eo;
			if (parse_value(s + m[2].rm_so, s + m[2].rm_eo, &v, &integer)) {
				if (step_word(ks, (size_t)(ke - ks)) && integer && v >= 0 &&
				    v < 9.2e18) {
					step = (int64_t)v;
				} else {
					pairs[npairs].k = ks;
					pairs[npairs].kn = (size_t)(ke - ks);
					pairs[npairs].v = v;
					npairs++;
				}
			}
		}
		if (m[0].rm_eo == 0) /* an empty match: move on */
			s++;
		else
			s += m[0].rm_eo;
	}
	return emit(pairs, npairs, step, cb, ctx, count);
}

int cairn_metric_parse_line(cairn_metric_parser *p, const char *line, size_t len,
                            cairn_metric_cb cb, void *ctx)
{
	if (!p || (!line && len) || !cb)
		return err_set(CAIRN_EINVALID, "no parser, line or callback");
	int count = 0;
	const char *a = line, *end = line + len;
	while (a < end || (a == end && len == 0)) {
		const char *cr = memchr(a, '\r', (size_t)(end - a));
		const char *b = cr ? cr : end;
		if (b > a) {
			int r = p->custom ? parse_custom(p, a, b, cb, ctx, &count)
			                  : parse_default(a, b, cb, ctx, &count);
			if (r)
				return r;
		}
		if (!cr)
			break;
		a = cr + 1;
	}
	return count;
}

/* --- streams ------------------------------------------------------------------------ */

static int log_cb(void *ctx, const char *key, double value, int64_t step)
{
	/* a bad key in someone's output is not our error: skip it */
	if (cairn_run_log_metric(ctx, key, value, step, 0) == CAIRN_ENOMEM)
		return CAIRN_ENOMEM;
	return 0;
}

static int line(cairn_metric_parser *p, const char *s, size_t n, cairn_metric_cb cb, void *ctx)
{
	int r = cairn_metric_parse_line(p, s, n, cb, ctx);
	return r < 0 ? r : 0;
}

static void carry_add(cairn_metric_parser *p, const char *s, size_t n)
{
	if (p->overflow)
		return;
	if (p->ncarry + n > LINE_MAX_BYTES) {
		p->overflow = true;
		p->ncarry = 0;
		return;
	}
	memcpy(p->carry + p->ncarry, s, n);
	p->ncarry += n;
}

int cairn_metric_parser_feed_cb(cairn_metric_parser *p, const void *data, size_t len,
                                cairn_metric_cb cb, void *ctx)
{
	if (!p || !cb || (!data && len))
		return err_set(CAIRN_EINVALID, "no parser, callback or data");
	const char *s = data, *end = s + len;
	int rc = 0;
	/* finish the line carried over from the last chunk */
	if (p->ncarry || p->overflow) {
		const char *nl = memchr(s, '\n', len);
		if (!nl) {
			carry_add(p, s, len);
			return 0;
		}
		carry_add(p, s, (size_t)(nl - s));
		if (!p->overflow && p->ncarry)
			rc = line(p, p->carry, p->ncarry, cb, ctx);
		p->ncarry = 0;
		p->overflow = false;
		s = nl + 1;
	}
	const char *last = s < end ? memrchr(s, '\n', (size_t)(end - s)) : NULL;
	const char *full_end = last ? last + 1 : s; /* complete lines are [s, full_end) */
	if (p->custom) {
		while (s < full_end && !rc) {
			const char *nl = memchr(s, '\n', (size_t)(full_end - s));
			rc = line(p, s, (size_t)(nl - s), cb, ctx);
			s = nl + 1;
		}
	} else {
		/* Only lines holding '=' or ':' can hold a metric. */
		const char *eq = memchr(s, '=', (size_t)(full_end - s));
		const char *co = memchr(s, ':', (size_t)(full_end - s));
		while ((eq || co) && !rc) {
			const char *hit = !co || (eq && eq < co) ? eq : co;
			const char *ls = memrchr(s, '\n', (size_t)(hit - s));
			ls = ls ? ls + 1 : s;
			const char *le = memchr(hit, '\n', (size_t)(full_end - hit));
			rc = line(p, ls, (size_t)(le - ls), cb, ctx);
			s = le + 1;
			if (eq && eq < s)
				eq = s < full_end ? memchr(s, '=', (size_t)(full_end - s)) : NULL;
			if (co && co < s)
				co = s < full_end ? memchr(s, ':', (size_t)(full_end - s)) : NULL;
		}
	}
	s = full_end;
	if (s < end)
		carry_add(p, s, (size_t)(end - s));
	return rc;
}

int cairn_metric_parser_feed(cairn_metric_parser *p, cairn_run *run, const void *data, size_t len)
{
	if (!run)
		return err_set(CAIRN_EINVALID, "no parser, run or data");
	return cairn_metric_parser_feed_cb(p, data, len, log_cb, run);
}

int cairn_metric_parser_finish_cb(cairn_metric_parser *p, cairn_metric_cb cb, void *ctx)
{
	if (!p || !cb)
		return err_set(CAIRN_EINVALID, "no parser or callback");
	int rc = 0;
	if (p->ncarry && !p->overflow)
		rc = line(p, p->carry, p->ncarry, cb, ctx);
	p->ncarry = 0;
	p->overflow = false;
	return rc;
}

int cairn_metric_parser_finish(cairn_metric_parser *p, cairn_run *run)
{
	if (!run)
		return err_set(CAIRN_EINVALID, "no parser or run");
	return cairn_metric_parser_finish_cb(p, log_cb, run);
}
