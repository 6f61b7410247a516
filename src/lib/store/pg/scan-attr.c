/*
 * lib/store/pg/scan-attr.c — the SQL of each field a query names on the
 * PostgreSQL store: a run attribute's value expression over the runs table,
 * its presence and its truth (a bare attribute), whether an index answers
 * ranges over it; the columns of a metric summary's parts and of a dataset's
 * fields; and text tests, patterns included.
 *
 * The same expressions as sqlite/scan-attr.c.  Text compares by bytes as in
 * SQLite (BINARY): the schema's compared columns are COLLATE "C", and the
 * expressions over the others say COLLATE "C" here.  SQLite's
 * CAST(x AS INTEGER) truncates, so the millisecond times are trunc()'ed.
 *
 * Patterns.  SQLite answers GLOB, and LIKE as a GLOB, with its own matcher
 * (lib/query/glob.c has its semantics: `*` `?` `[..]` sets with ranges and
 * negation, a ] first in a set and a - first or last literal, an
 * unterminated set matching nothing; ILIKE folds ASCII case only).  Here
 * each pattern becomes an anchored PostgreSQL regular expression with the
 * same meaning, every character other than an ASCII letter or digit written
 * as a \uXXXX escape (so nothing in the text is special, and the regular
 * expression is ASCII whatever the pattern holds), ASCII case folded by
 * [aA] classes rather than by the locale.  A pattern that can match nothing
 * becomes FALSE.  A literal prefix also becomes a range on the column (its
 * ASCII part, so both bounds are valid UTF-8), which an index answers.
 *
 * Status and duration depend on the stale-heartbeat rule: a running run
 * whose heartbeat is older than the store's stale time is crashed, so those
 * expressions take the stale time (and now) as bound values.
 */
#include <math.h>
#include <stdio.h>

#include "lib/store/pg/scan-sql.h"

const char *const pgscan_metric_cols[] = {"last", "min", "max", "count", "last_step"};
const char *const pgscan_data_cols[] = {"digest", "path", "role", "algo", "files", "bytes"};

#define LIVE "(status = 0 AND (heartbeat IS NULL OR heartbeat >= ?))"
/* a crashed run lasted until its last heartbeat */
#define CRASHED "(status = 4 OR (status = 0 AND heartbeat < ?))"
#define HAS_DURATION                                                                               \
	"(end_time IS NOT NULL OR status = 0 OR (status = 4 AND heartbeat IS NOT NULL))"
#define C " COLLATE \"C\""

attr_sql pgscan_attr(qattr a)
{
	int R = STORE_COST_RANGE, F = STORE_COST_FULL;
	switch (a) {
	case QA_ID: return (attr_sql){"id", NULL, "TRUE", R, 0, 0, 0, false};
	case QA_SEQ: return (attr_sql){"seq", NULL, "TRUE", F, 0, 0, 0, true};
	case QA_NAME: return (attr_sql){"name", NULL, "TRUE", R, 0, 0, 0, false};
	case QA_PROJECT:
		return (attr_sql){"(SELECT p.name FROM projects p WHERE p.id = runs.project_id)",
		                  NULL,
		                  "TRUE",
		                  F,
		                  0,
		                  0,
		                  0,
		                  false};
	case QA_STATUS:
		return (attr_sql){"(CASE WHEN status = 0 AND heartbeat < ? THEN 4 ELSE status END)",
		                  NULL,
		                  "TRUE",
		                  R,
		                  1,
		                  0,
		                  0,
		                  true};
	case QA_STARTED: return (attr_sql){"start_time", NULL, "TRUE", R, 0, 0, 0, false};
	case QA_ENDED:
		return (attr_sql){
		    "end_time", "end_time IS NOT NULL", "end_time IS NOT NULL", R, 0, 0, 0, false};
	case QA_START_MS:
		return (attr_sql){"trunc(start_time * 1000)::int8", NULL, "TRUE", F, 0, 0, 0, true};
	case QA_END_MS:
		return (attr_sql){"trunc(end_time * 1000)::int8",
		                  "end_time IS NOT NULL",
		                  "end_time IS NOT NULL",
		                  F,
		                  0,
		                  0,
		                  0,
		                  true};
	case QA_DURATION:
		return (attr_sql){"(coalesce(end_time, CASE WHEN " CRASHED " THEN heartbeat END,"
		                  " CASE WHEN " LIVE " THEN ? END) - start_time)",
		                  HAS_DURATION,
		                  HAS_DURATION,
		                  F,
		                  2,
		                  1,
		                  0,
		                  false};
	case QA_USER:
		return (attr_sql){"user_name" C,
		                  "user_name IS NOT NULL",
		                  "(user_name IS NOT NULL AND user_name != '')",
		                  F,
		                  0,
		                  0,
		                  0,
		                  false};
	case QA_HOST:
		return (attr_sql){
		    "host" C, "host IS NOT NULL", "(host IS NOT NULL AND host != '')", F, 0, 0, 0,
		    false};
	case QA_COMMIT:
		return (attr_sql){"git_commit",
		                  "git_commit IS NOT NULL",
		                  "(git_commit IS NOT NULL AND git_commit != '')",
		                  R,
		                  0,
		                  0,
		                  0,
		                  false};
	case QA_BRANCH:
		return (attr_sql){"git_branch",
		                  "git_branch IS NOT NULL",
		                  "(git_branch IS NOT NULL AND git_branch != '')",
		                  R,
		                  0,
		                  0,
		                  0,
		                  false};
	case QA_REMOTE:
		return (attr_sql){"git_remote" C,
		                  "git_remote IS NOT NULL",
		                  "(git_remote IS NOT NULL AND git_remote != '')",
		                  F,
		                  0,
		                  0,
		                  0,
		                  false};
	case QA_DIRTY:
		return (attr_sql){"git_dirty", "git_dirty IS NOT NULL", "git_dirty = 1", F, 0, 0, 0,
		                  true};
	case QA_COMMAND:
		return (attr_sql){"command" C,
		                  "command IS NOT NULL",
		                  "(command IS NOT NULL AND command != '')",
		                  F,
		                  0,
		                  0,
		                  0,
		                  false};
	case QA_NOTE:
		return (attr_sql){
		    "coalesce(note, '')" C, NULL, "coalesce(note, '') != ''", F, 0, 0, 0, false};
	case QA_EXIT_CODE:
		return (attr_sql){
		    "exit_code", "exit_code IS NOT NULL", "exit_code IS NOT NULL", F, 0, 0, 0,
		    true};
	case QA_PARENT:
		/* present while the parent is in the store: a purged parent's
		 * children keep its parent_rid, and their parent is no one's */
		return (attr_sql){"(SELECT p.id FROM runs p WHERE p.rid = runs.parent_rid)",
		                  "EXISTS(SELECT 1 FROM runs p WHERE p.rid = runs.parent_rid)",
		                  "EXISTS(SELECT 1 FROM runs p WHERE p.rid = runs.parent_rid)",
		                  F,
		                  0,
		                  0,
		                  0,
		                  false};
	case QA_CHILDREN: /* runs_parent answers both */
		return (attr_sql){"(SELECT count(*) FROM runs c WHERE c.parent_rid = runs.rid"
		                  " AND c.deleted = 0)",
		                  NULL,
		                  "EXISTS(SELECT 1 FROM runs c WHERE c.parent_rid = runs.rid"
		                  " AND c.deleted = 0)",
		                  F,
		                  0,
		                  0,
		                  0,
		                  true};
	default: return (attr_sql){"NULL", "FALSE", "FALSE", F, 0, 0, 0, false};
	}
}

void pgscan_attr_binds(store_scan_ctx *q, const attr_sql *a, cb *c, bool for_present)
{
	int ns = for_present ? a->pstale : a->nstale;
	for (int k = 0; k < ns; k++)
		cb_dbl(c, q->stale);
	if (!for_present)
		for (int k = 0; k < a->nnow; k++)
			cb_dbl(c, q->now);
}

/* --- patterns ------------------------------------------------------------------------ */

/* One character, read as SQLite's UTF-8 reader does (lib/query/glob.c). */
static uint32_t utf8_read(const unsigned char **pz)
{
	uint32_t c = *((*pz)++);
	if (c >= 0xc0) {
		uint32_t k = c - 0xc0;
		c = k < 32   ? k
		    : k < 48 ? k - 32
		    : k < 56 ? k - 48
		    : k < 60 ? k - 56
		    : k < 62 ? k - 60
		             : 0;
		while ((**pz & 0xc0) == 0x80)
			c = (c << 6) + (0x3f & *((*pz)++));
		if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 || (c & 0xFFFFFFFE) == 0xFFFE)
			c = 0xFFFD;
	}
	return c;
}

static bool ascii_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A character as itself (ASCII letters and digits) or as an escape. */
static void re_char(buf *b, uint32_t c)
{
	if (ascii_alnum(c))
		buf_putc(b, (char)c);
	else if (c <= 0xffff)
		buf_printf(b, "\\u%04x", (unsigned)c);
	else
		buf_printf(b, "\\U%08x", (unsigned)c);
}

/* A literal character outside a set; fold: ASCII letters of either case. */
static void re_literal(buf *b, uint32_t c, bool fold)
{
	bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	if (!fold || !letter) {
		re_char(b, c);
		return;
	}
	uint32_t lo = c | 0x20;
	buf_printf(b, "[%c%c]", (char)lo, (char)(lo - 32));
}

/* A glob set after its [, as glob.c reads it: false when it can match no
 * character (then the pattern matches nothing). */
static bool re_set(buf *b, const unsigned char **pp)
{
	const unsigned char *pat = *pp;
	buf items = BUF_INIT;
	bool invert = false;
	uint32_t prior = 0;
	uint32_t c2 = utf8_read(&pat);
	if (c2 == '^') {
		invert = true;
		c2 = utf8_read(&pat);
	}
	if (c2 == ']') {
		re_char(&items, ']');
		c2 = utf8_read(&pat);
	}
	while (c2 && c2 != ']') {
		if (c2 == '-' && pat[0] != ']' && pat[0] != 0 && prior > 0) {
			c2 = utf8_read(&pat);
			if (prior <= c2) {
				re_char(&items, prior);
				buf_putc(&items, '-');
				re_char(&items, c2);
			}
			prior = 0;
		} else {
			re_char(&items, c2);
			prior = c2;
		}
		c2 = utf8_read(&pat);
	}
	*pp = pat;
	bool ok = true;
	if (c2 == 0) {
		ok = false; /* unterminated: matches nothing */
	} else if (items.len == 0) {
		if (invert)
			buf_putc(b, '.');
		else
			ok = false;
	} else {
		buf_puts(b, invert ? "[^" : "[");
		buf_add(b, items.ptr, items.len);
		buf_putc(b, ']');
	}
	buf_free(&items);
	return ok;
}

/* The regular expression of a GLOB (glob), or a LIKE (fold: ILIKE); NULL
 * when the pattern matches nothing.  In the query's arena. */
static const char *pattern_regex(store_scan_ctx *q, const char *pattern, bool glob, bool fold,
                                 bool *never)
{
	uint32_t all = glob ? '*' : '%', one = glob ? '?' : '_';
	const unsigned char *p = (const unsigned char *)pattern;
	buf b = BUF_INIT;
	uint32_t c;
	*never = false;
	buf_putc(&b, '^');
	while ((c = utf8_read(&p)) != 0) {
		if (c == all)
			buf_puts(&b, ".*");
		else if (c == one)
			buf_putc(&b, '.');
		else if (glob && c == '[') {
			if (!re_set(&b, &p)) {
				*never = true;
				break;
			}
		} else
			re_literal(&b, c, fold);
	}
	buf_putc(&b, '$');
	const char *out = buf_ok(&b) ? arena_strndup(q->mem, b.ptr, b.len) : NULL;
	buf_free(&b);
	return out;
}

/* A pattern's literal prefix (its ASCII part) as a range [lo, hi). */
static void prefix_range(store_scan_ctx *q, cb *c, const char *col, const char *pattern,
                         const char *special)
{
	size_t n = 0;
	while (pattern[n] && (unsigned char)pattern[n] < 0x7f && !strchr(special, pattern[n]))
		n++;
	if (n == 0 || n > 200)
		return;
	char *lo = arena_strndup(q->mem, pattern, n), *hi = arena_strndup(q->mem, pattern, n);
	if (!lo || !hi) {
		c->overflow = true;
		return;
	}
	hi[n - 1]++;
	cb_sql(c, " AND ");
	cb_sql(c, col);
	cb_sql(c, " >= ? AND ");
	cb_sql(c, col);
	cb_sql(c, " < ?");
	cb_txt(c, lo);
	cb_txt(c, hi);
}

static const char *const op_sql[] = {" = ", " != ", " < ", " <= ", " > ", " >= "};

int pgscan_text_cond(store_scan_ctx *q, cb *c, const char *col, const store_scan *sc, int cost)
{
	cb_sql(c, " AND ");
	switch (sc->test) {
	case STORE_PREFIX: {
		/* a lowercase hex prefix of an id or commit */
		size_t n = strlen(sc->text);
		char *hi = arena_strndup(q->mem, sc->text, n);
		if (!hi || n == 0) {
			c->overflow = true;
			return cost;
		}
		hi[n - 1] = hi[n - 1] == '9' ? 'a' : hi[n - 1] == 'f' ? 'g' : (char)(hi[n - 1] + 1);
		cb_sql(c, col);
		cb_sql(c, " >= ? AND ");
		cb_sql(c, col);
		cb_sql(c, " < ?");
		cb_txt(c, sc->text);
		cb_txt(c, hi);
		return cost;
	}
	case STORE_GLOB:
	case STORE_LIKE:
	case STORE_ILIKE: {
		bool never;
		const char *re = pattern_regex(q, sc->text, sc->test == STORE_GLOB,
		                               sc->test == STORE_ILIKE, &never);
		if (!re) {
			c->overflow = true;
			return cost;
		}
		if (never) {
			cb_sql(c, "FALSE");
			return cost;
		}
		cb_sql(c, col);
		cb_sql(c, " ~ ?");
		cb_txt(c, re);
		if (sc->test == STORE_ILIKE)
			return cost == STORE_COST_RANGE ? STORE_COST_KEY : cost;
		size_t before = c->len;
		prefix_range(q, c, col, sc->text, sc->test == STORE_GLOB ? "*?[" : "%_");
		return c->len == before && cost == STORE_COST_RANGE ? STORE_COST_KEY : cost;
	}
	default:
		cb_sql(c, col);
		cb_sql(c, op_sql[sc->op]);
		cb_sql(c, "?");
		cb_txt(c, sc->text);
		return cost;
	}
}

/* --- numbers, compared exactly ---------------------------------------------------------
 * SQLite compares an integer with a real exactly (sqlite3IntFloatCompare);
 * PostgreSQL turns an int8 compared with a float8 into a float8, which
 * rounds past 2^53.  So a literal of the other kind than the column is
 * turned here into a condition of the column's kind with the same answer:
 * an integer column against a real (its floor, its ceiling, or an answer
 * for every value), a real column against an integer (the doubles on either
 * side of it when it has none of its own). */

#define TWO63 9223372036854775808.0

static void cond_const(cb *c, bool v)
{
	cb_sql(c, v ? "TRUE" : "FALSE");
}

static void cond_col(store_scan_ctx *q, cb *c, const char *col, const attr_sql *as, qop op)
{
	cb_sql(c, col);
	if (as)
		pgscan_attr_binds(q, as, c, false);
	cb_sql(c, op_sql[op]);
	cb_sql(c, "?");
}

void pgscan_num_cond(store_scan_ctx *q, cb *c, const char *col, bool col_int, const attr_sql *as,
                     const store_scan *sc)
{
	qop op = sc->op;
	bool lt = op == QO_LT || op == QO_LE, gt = op == QO_GT || op == QO_GE;
	if (col_int == sc->is_int) {
		cond_col(q, c, col, as, op);
		if (sc->is_int)
			cb_int(c, sc->i);
		else
			cb_dbl(c, sc->num);
		return;
	}
	if (col_int) {
		/* an integer column, a real literal */
		double d = sc->num;
		if (d >= TWO63 || d < -TWO63) {
			if (op == QO_NE || (d > 0 ? lt : gt)) {
				cb_sql(c, col);
				if (as)
					pgscan_attr_binds(q, as, c, false);
				cb_sql(c, " IS NOT NULL");
			} else {
				cond_const(c, false);
			}
			return;
		}
		double fl = floor(d);
		if (fl == d) {
			cond_col(q, c, col, as, op);
			cb_int(c, (int64_t)d);
		} else if (lt || gt) {
			cond_col(q, c, col, as, lt ? QO_LE : QO_GE);
			cb_int(c, (int64_t)(lt ? fl : ceil(d)));
		} else if (op == QO_NE) {
			cb_sql(c, col);
			if (as)
				pgscan_attr_binds(q, as, c, false);
			cb_sql(c, " IS NOT NULL");
		} else {
			cond_const(c, false);
		}
		return;
	}
	/* a real column, an integer literal */
	int64_t i = sc->i;
	double d = (double)i;
	bool exact = d < TWO63 && (int64_t)d == i;
	if (exact) {
		cond_col(q, c, col, as, op);
		cb_dbl(c, d);
		return;
	}
	bool below = d < TWO63 && (int64_t)d < i; /* the double is below the integer */
	double lo = below ? d : nextafter(d, -INFINITY), hi = below ? nextafter(d, INFINITY) : d;
	if (lt || gt) {
		cond_col(q, c, col, as, lt ? QO_LE : QO_GE);
		cb_dbl(c, lt ? lo : hi);
	} else if (op == QO_NE) {
		cb_sql(c, col);
		if (as)
			pgscan_attr_binds(q, as, c, false);
		cb_sql(c, " IS NOT NULL");
	} else {
		cond_const(c, false);
	}
}

void pgscan_param_num_cond(store_scan_ctx *q, cb *c, const store_scan *sc)
{
	/* below 2^53 in magnitude a literal compares with every stored value
	 * (an int's num included) as it would exactly: num alone answers, from
	 * the index without the table */
	double mag = sc->is_int ? fabs((double)sc->i) : fabs(sc->num);
	if (mag < 9007199254740992.0) {
		cb_sql(c, " AND num");
		cb_sql(c, op_sql[sc->op]);
		cb_sql(c, "? AND type IN (1, 2)");
		if (sc->is_int)
			cb_int(c, sc->i);
		else
			cb_dbl(c, sc->num);
		return;
	}
	/* the range the index answers, a superset (equal values round alike) … */
	double w = sc->is_int ? (double)sc->i : sc->num;
	qop wide = sc->op == QO_LT || sc->op == QO_LE   ? QO_LE
	           : sc->op == QO_GT || sc->op == QO_GE ? QO_GE
	                                                : sc->op;
	if (wide != QO_NE) {
		cb_sql(c, " AND num");
		cb_sql(c, op_sql[wide]);
		cb_sql(c, "?");
		cb_dbl(c, w);
	}
	/* … then each type exactly: an int's ival, a float's num */
	cb_sql(c, " AND type IN (1, 2) AND CASE WHEN type = 1 THEN ");
	pgscan_num_cond(q, c, "ival", true, NULL, sc);
	cb_sql(c, " ELSE ");
	pgscan_num_cond(q, c, "num", false, NULL, sc);
	cb_sql(c, " END");
}
