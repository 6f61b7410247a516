/*
 * lib/query/mlflow.c — MLflow's search syntax compiled to cairn's query
 * language (include/cairn/mlflow.h): the filter of search_runs and its
 * order_by clauses.  One engine: the text this writes is a cairn query or
 * sort, parsed and planned like any other (parse.c, plan.c, sort.c).
 *
 * MLflow's rules, checked here with its messages (clients and tests match
 * on them; ../shared/mlflow-rest.md §2):
 *   - a filter is `clause AND clause ...`; OR, parentheses and NOT (but
 *     NOT IN) are refused ("Invalid clause(s) in filter string: 'OR'");
 *   - a clause is `identifier comparator value`; the identifier is
 *     `type.key` with type metric(s), param(s)/parameter(s), tag(s),
 *     attribute(s)/attr/run, dataset(s), or a bare key meaning an attribute;
 *     keys may be quoted with backticks or double quotes;
 *   - metrics and numeric attributes take numbers (= != < <= > >=), params
 *     and tags quoted strings (= != LIKE ILIKE), string attributes also IN
 *     and NOT IN.
 * How keys map: metrics/params/tags keep their key (backquoted); the system
 * tags that are cairn fields become those fields (tags.`mlflow.runName` is
 * name, mlflow.user user, mlflow.source.git.commit commit, …); attributes
 * run_id, run_name (alias "run name"), status, user_id, start_time (alias
 * created), end_time become id, name, status, user, attributes.start_time,
 * attributes.end_time (milliseconds, as MLflow); dataset.name = 'x' is
 * "has dataset x".
 *
 * Pure functions: no store, no state; thread-safe.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn.h"
#include "lib/internal.h"
#include "util/buf.h"

#define MLF_MAX_TEXT (16 << 10) /* the query language's own bound */

typedef enum { T_END, T_IDENT, T_STR, T_NUM, T_OP, T_LP, T_RP, T_COMMA, T_BAD } ttype;

typedef struct tok {
	ttype t;
	const char *s; /* where it starts in the input */
	size_t n;      /* its length in the input */
} tok;

typedef struct lexer {
	const char *p;
	tok cur;
} lexer;

static void next(lexer *lx)
{
	const char *p = lx->p;
	while (*p && isspace((unsigned char)*p))
		p++;
	tok t = {T_END, p, 0};
	if (!*p) {
		lx->cur = t;
		lx->p = p;
		return;
	}
	const char *q = p;
	if (*p == '\'' || *p == '"') {
		char c = *q++;
		for (;;) {
			if (!*q) {
				t.t = T_BAD;
				break;
			}
			if (*q == '\\' && q[1]) {
				q += 2;
				continue;
			}
			if (*q == c) {
				if (q[1] == c) {
					q += 2;
					continue;
				}
				q++;
				t.t = T_STR;
				break;
			}
			q++;
		}
	} else if (*p == '(' || *p == ')' || *p == ',') {
		t.t = *p == '(' ? T_LP : *p == ')' ? T_RP : T_COMMA;
		q++;
	} else if (strchr("=!<>", *p)) {
		q++;
		if (*q == '=' || (*p == '<' && *q == '>'))
			q++;
		t.t = (*p == '!' && q - p == 1) ? T_BAD : T_OP;
	} else if (isdigit((unsigned char)*p) ||
	           ((*p == '-' || *p == '+' || *p == '.') &&
	            (isdigit((unsigned char)p[1]) ||
	             (p[1] == '.' && isdigit((unsigned char)p[2]))))) {
		q++;
		while (isalnum((unsigned char)*q) || *q == '.' ||
		       ((*q == '-' || *q == '+') && (q[-1] == 'e' || q[-1] == 'E')))
			q++;
		t.t = T_NUM;
	} else {
		/* an identifier: words, dots and quoted segments (`a b`, "a b") */
		while (*q) {
			if (*q == '`' || (*q == '"' && q > p && q[-1] == '.')) {
				char c = *q++;
				while (*q && !(*q == c && q[1] != c))
					q += *q == c ? 2 : 1;
				if (!*q) {
					t.t = T_BAD;
					break;
				}
				q++;
				continue;
			}
			if (isalnum((unsigned char)*q) || *q == '_' || *q == '.' || *q == '-' ||
			    *q == ':' || *q == '/' || (unsigned char)*q >= 0x80)
				q++;
			else
				break;
		}
		if (q == p) {
			q++;
			t.t = T_BAD;
		} else if (t.t != T_BAD) {
			t.t = T_IDENT;
		}
	}
	t.n = (size_t)(q - p);
	lx->cur = t;
	lx->p = q;
}

static bool word_is(const tok *t, const char *w)
{
	return t->t == T_IDENT && t->n == strlen(w) && strncasecmp(t->s, w, t->n) == 0;
}

/* --- identifiers -------------------------------------------------------------------- */

typedef enum { K_METRIC, K_PARAM, K_TAG, K_ATTR, K_DATASET } kkind;

/* The unquoted text of a key segment (backticks or double quotes, with the
 * quote doubled inside) into b. */
static void unquote(buf *b, const char *s, size_t n)
{
	if (n >= 2 && (s[0] == '`' || s[0] == '"') && s[n - 1] == s[0]) {
		char c = s[0];
		for (size_t i = 1; i + 1 < n; i++) {
			buf_putc(b, s[i]);
			if (s[i] == c && s[i + 1] == c)
				i++;
		}
		return;
	}
	buf_add(b, s, n);
}

/* Split `type.key` (or a bare key) into its kind and unquoted key. */
static int ident_split(const tok *t, kkind *kind, buf *key)
{
	const char *s = t->s, *dot = NULL;
	for (size_t i = 0; i < t->n; i++) {
		if (s[i] == '`' || s[i] == '"')
			break;
		if (s[i] == '.') {
			dot = s + i;
			break;
		}
	}
	if (!dot) {
		*kind = K_ATTR;
		unquote(key, s, t->n);
		return 0;
	}
	size_t tn = (size_t)(dot - s);
	static const struct {
		const char *w;
		kkind k;
	} types[] = {
	    {"metric", K_METRIC},   {"metrics", K_METRIC},   {"param", K_PARAM},
	    {"params", K_PARAM},    {"parameter", K_PARAM},  {"parameters", K_PARAM},
	    {"tag", K_TAG},         {"tags", K_TAG},         {"attribute", K_ATTR},
	    {"attributes", K_ATTR}, {"attr", K_ATTR},        {"run", K_ATTR},
	    {"dataset", K_DATASET}, {"datasets", K_DATASET},
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (tn == strlen(types[i].w) && strncasecmp(s, types[i].w, tn) == 0) {
			*kind = types[i].k;
			unquote(key, dot + 1, t->n - tn - 1);
			if (key->len == 0)
				return err_set(CAIRN_EINVALID, "Invalid identifier '%.*s'",
				               (int)t->n, s);
			return 0;
		}
	return err_set(CAIRN_EINVALID,
	               "Invalid entity type '%.*s'. Valid values are ['metric', 'parameter', "
	               "'tag', 'attribute', 'dataset']",
	               (int)tn, s);
}

/* "run name" / "Run name" (also after attributes./attr./attribute.):
 * MLflow's two-word alias for run_name.  true, with "name" consumed, when
 * the identifier id is followed by it. */
static bool name_alias(lexer *lx, const tok *id)
{
	if ((word_is(id, "run") || word_is(id, "attributes.run") || word_is(id, "attr.run") ||
	     word_is(id, "attribute.run")) &&
	    word_is(&lx->cur, "name")) {
		next(lx);
		return true;
	}
	return false;
}

/* The kind and key a field names: the run-name alias, or ident_split's. */
static int field_key(const tok *id, bool run_name_alias, kkind *kind, buf *key)
{
	if (run_name_alias) {
		*kind = K_ATTR;
		buf_puts(key, "run_name");
		return 0;
	}
	int rc = ident_split(id, kind, key);
	if (rc)
		buf_free(key);
	return rc;
}

/* MLflow's attributes and the cairn fields they are. */
typedef struct attr_map {
	const char *mlflow;
	const char *cairn;
	bool numeric; /* milliseconds */
	bool list;    /* IN / NOT IN allowed */
} attr_map;

static const attr_map attrs[] = {
    {"run_id", "id", false, true},
    {"run_name", "name", false, true},
    {"run name", "name", false, true},
    {"status", "status", false, true},
    {"user_id", "user", false, true},
    {"start_time", "attributes.start_time", true, false},
    {"created", "attributes.start_time", true, false},
    {"end_time", "attributes.end_time", true, false},
};

static const attr_map *attr_find(const char *key)
{
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
		if (strcasecmp(attrs[i].mlflow, key) == 0)
			return &attrs[i];
	return NULL;
}

/* MLflow's system tags that are cairn's own fields. */
static const char *const systags[][2] = {
    {"mlflow.runName", "name"},
    {"mlflow.user", "user"},
    {"mlflow.source.git.commit", "commit"},
    {"mlflow.source.git.branch", "branch"},
    {"mlflow.source.git.repoURL", "remote"},
    {"mlflow.note.content", "note"},
    {"mlflow.parentRunId", "parent"},
};

static const char *systag_field(const char *key)
{
	for (size_t i = 0; i < sizeof systags / sizeof systags[0]; i++)
		if (strcmp(systags[i][0], key) == 0)
			return systags[i][1];
	return NULL;
}

static void put_backquoted(buf *b, const char *prefix, const char *key)
{
	buf_puts(b, prefix);
	buf_putc(b, '`');
	for (const char *p = key; *p; p++) {
		if (*p == '`')
			buf_putc(b, '`');
		buf_putc(b, *p);
	}
	buf_putc(b, '`');
}

/* A string token's text as a cairn string literal ('…', '' and \\ escaped). */
static void put_string(buf *b, const tok *t)
{
	char c = t->s[0];
	buf_putc(b, '\'');
	for (size_t i = 1; i + 1 < t->n; i++) {
		char ch = t->s[i];
		if (ch == '\\' && i + 2 < t->n && (t->s[i + 1] == c || t->s[i + 1] == '\\'))
			ch = t->s[++i];
		else if (ch == c && t->s[i + 1] == c)
			i++;
		if (ch == '\'')
			buf_puts(b, "''");
		else if (ch == '\\')
			buf_puts(b, "\\\\");
		else
			buf_putc(b, ch);
	}
	buf_putc(b, '\'');
}

static bool is_number(const tok *t)
{
	if (t->t != T_NUM)
		return false;
	char tmp[64];
	if (t->n >= sizeof tmp)
		return false;
	memcpy(tmp, t->s, t->n);
	tmp[t->n] = '\0';
	char *end;
	strtod(tmp, &end);
	return *end == '\0';
}

/* --- comparators ----------------------------------------------------------------------- */

typedef enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_LIKE, C_ILIKE, C_IN, C_NIN, C_BAD } cmp;

static const char *const cmp_text[] = {"=",  "!=",   "<",     "<=", ">",
                                       ">=", "like", "ilike", "in", "not in"};

/* Reads the comparator at lx (one or two tokens). */
static cmp read_cmp(lexer *lx, char *shown, size_t shownsz)
{
	tok t = lx->cur;
	snprintf(shown, shownsz, "%.*s", (int)(t.n > 40 ? 40 : t.n), t.s);
	if (t.t == T_OP) {
		next(lx);
		if (t.n == 1)
			return t.s[0] == '='   ? C_EQ
			       : t.s[0] == '<' ? C_LT
			       : t.s[0] == '>' ? C_GT
			                       : C_BAD;
		if (t.s[1] == '=')
			return t.s[0] == '!'   ? C_NE
			       : t.s[0] == '<' ? C_LE
			       : t.s[0] == '>' ? C_GE
			                       : C_EQ;
		return t.s[0] == '<' && t.s[1] == '>' ? C_NE : C_BAD;
	}
	if (word_is(&t, "like")) {
		next(lx);
		return C_LIKE;
	}
	if (word_is(&t, "ilike")) {
		next(lx);
		return C_ILIKE;
	}
	if (word_is(&t, "in")) {
		next(lx);
		return C_IN;
	}
	if (word_is(&t, "not")) {
		next(lx);
		if (word_is(&lx->cur, "in")) {
			next(lx);
			return C_NIN;
		}
		snprintf(shown, shownsz, "NOT");
		return C_BAD;
	}
	return C_BAD;
}

/* --- one clause ------------------------------------------------------------------------------ */

static int bad_clause(const tok *t)
{
	if (t->t == T_END)
		return err_set(CAIRN_EINVALID,
		               "Invalid filter: the filter string ends in a clause");
	return err_set(CAIRN_EINVALID, "Invalid clause(s) in filter string: '%.*s'",
	               (int)(t->n > 60 ? 60 : t->n), t->s);
}

static int need_string(const char *what, const tok *v)
{
	if (v->t == T_STR)
		return 0;
	return err_set(CAIRN_EINVALID,
	               "Expected a quoted string value for %s (e.g. 'my-value'). Got value %.*s",
	               what, (int)(v->n > 60 ? 60 : v->n), v->s);
}

/* `( 'a', 'b' )` as cairn's list. */
static int put_list(buf *b, lexer *lx)
{
	if (lx->cur.t != T_LP)
		return err_set(CAIRN_EINVALID,
		               "While parsing a list in the query, expected a non-empty list of "
		               "string values, but got %.*s",
		               (int)(lx->cur.n > 60 ? 60 : lx->cur.n), lx->cur.s);
	next(lx);
	buf_putc(b, '(');
	bool first = true;
	for (;;) {
		if (lx->cur.t != T_STR)
			return err_set(
			    CAIRN_EINVALID,
			    "While parsing a list in the query, expected string value, "
			    "punctuation, or whitespace, but got different type in list: "
			    "%.*s",
			    (int)(lx->cur.n > 60 ? 60 : lx->cur.n), lx->cur.s);
		if (!first)
			buf_puts(b, ", ");
		first = false;
		put_string(b, &lx->cur);
		next(lx);
		if (lx->cur.t == T_RP) {
			next(lx);
			break;
		}
		if (lx->cur.t != T_COMMA)
			return bad_clause(&lx->cur);
		next(lx);
	}
	buf_putc(b, ')');
	return 0;
}

static int clause(buf *b, lexer *lx)
{
	tok id = lx->cur;
	if (id.t != T_IDENT || word_is(&id, "and") || word_is(&id, "or") || word_is(&id, "not"))
		return bad_clause(&id);
	next(lx);
	bool run_name_alias = name_alias(lx, &id);
	kkind kind;
	buf key = BUF_INIT;
	int rc = field_key(&id, run_name_alias, &kind, &key);
	if (rc)
		return rc;
	if (!buf_ok(&key)) {
		buf_free(&key);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	char shown[48];
	cmp c = read_cmp(lx, shown, sizeof shown);
	tok v = lx->cur;
	switch (kind) {
	case K_METRIC:
		if (c > C_GE) {
			rc = err_set(
			    CAIRN_EINVALID,
			    "Invalid comparator '%s' not one of '['>', '>=', '!=', '=', '<', "
			    "'<=']'",
			    shown);
			break;
		}
		if (!is_number(&v)) {
			rc = err_set(CAIRN_EINVALID,
			             "Expected numeric value type for metric. Found %.*s",
			             (int)(v.n > 60 ? 60 : v.n), v.s);
			break;
		}
		put_backquoted(b, "metrics.", key.ptr);
		buf_printf(b, " %s %.*s", cmp_text[c], (int)v.n, v.s);
		next(lx);
		break;
	case K_PARAM:
	case K_TAG: {
		const char *what = kind == K_PARAM ? "parameter" : "tag";
		if (c != C_EQ && c != C_NE && c != C_LIKE && c != C_ILIKE) {
			rc = err_set(
			    CAIRN_EINVALID,
			    "Invalid comparator '%s' not one of '['!=', '=', 'LIKE', 'ILIKE']'",
			    shown);
			break;
		}
		if ((rc = need_string(what, &v)) != 0)
			break;
		const char *field = kind == K_TAG ? systag_field(key.ptr) : NULL;
		if (field)
			buf_puts(b, field);
		else
			put_backquoted(b, kind == K_PARAM ? "params." : "tags.", key.ptr);
		buf_printf(b, " %s ", cmp_text[c]);
		put_string(b, &v);
		next(lx);
		break;
	}
	case K_ATTR: {
		const attr_map *a = attr_find(key.ptr);
		if (!a) {
			rc = err_set(
			    CAIRN_EINVALID,
			    "Invalid attribute key '%s' specified. Valid keys are '['run_id', "
			    "'run_name', 'status', 'user_id', 'start_time', 'end_time', "
			    "'created', 'Run name']'",
			    key.ptr);
			break;
		}
		if (a->numeric) {
			if (c > C_GE) {
				rc = err_set(
				    CAIRN_EINVALID,
				    "Invalid comparator '%s' not one of '['>', '>=', '!=', '=', "
				    "'<', '<=']'",
				    shown);
				break;
			}
			if (!is_number(&v)) {
				rc = err_set(
				    CAIRN_EINVALID,
				    "Expected numeric value type for numeric attribute: %s. "
				    "Found %.*s",
				    key.ptr, (int)(v.n > 60 ? 60 : v.n), v.s);
				break;
			}
			buf_printf(b, "%s %s %.*s", a->cairn, cmp_text[c], (int)v.n, v.s);
			next(lx);
			break;
		}
		if (c == C_BAD || c == C_LT || c == C_LE || c == C_GT || c == C_GE) {
			rc = err_set(
			    CAIRN_EINVALID,
			    "Invalid comparator '%s' not one of '['!=', '=', 'LIKE', 'ILIKE', "
			    "'IN', 'NOT IN']'",
			    shown);
			break;
		}
		buf_printf(b, "%s %s ", a->cairn, cmp_text[c]);
		if (c == C_IN || c == C_NIN) {
			rc = put_list(b, lx);
			break;
		}
		if ((rc = need_string("attribute", &v)) != 0)
			break;
		put_string(b, &v);
		next(lx);
		break;
	}
	case K_DATASET: {
		if (strcasecmp(key.ptr, "name") != 0) {
			rc = err_set(
			    CAIRN_EINVALID,
			    "dataset.%s cannot be searched on this server: only dataset.name "
			    "with = or IN (docs/mlflow.md)",
			    key.ptr);
			break;
		}
		if (c == C_EQ) {
			if ((rc = need_string("dataset", &v)) != 0)
				break;
			buf local = BUF_INIT;
			unquote(&local, v.s, v.n);
			put_backquoted(b, "datasets.", local.ptr);
			buf_free(&local);
			next(lx);
			break;
		}
		if (c != C_IN) {
			rc = err_set(CAIRN_EINVALID,
			             "dataset.name takes = or IN on this server, not '%s'", shown);
			break;
		}
		/* IN (a, b): has dataset a or dataset b */
		buf list = BUF_INIT;
		if ((rc = put_list(&list, lx)) != 0) {
			buf_free(&list);
			break;
		}
		buf_putc(b, '(');
		const char *p = list.ptr + 1; /* past '(' */
		bool first = true;
		while (*p == '\'') {
			buf name = BUF_INIT;
			for (p++; *p; p++) {
				if (*p == '\'' && p[1] == '\'') {
					buf_putc(&name, '\'');
					p++;
				} else if (*p == '\\' && p[1] == '\\') {
					buf_putc(&name, '\\');
					p++;
				} else if (*p == '\'') {
					p++;
					break;
				} else {
					buf_putc(&name, *p);
				}
			}
			if (!first)
				buf_puts(b, " or ");
			first = false;
			put_backquoted(b, "datasets.", name.ptr);
			buf_free(&name);
			while (*p == ',' || *p == ' ')
				p++;
		}
		buf_putc(b, ')');
		buf_free(&list);
		break;
	}
	}
	buf_free(&key);
	return rc;
}

int cairn_mlflow_filter(char **out, const char *filter)
{
	*out = NULL;
	if (!filter)
		filter = "";
	if (strlen(filter) > MLF_MAX_TEXT)
		return err_set(CAIRN_EINVALID, "filter too long (at most %d bytes)", MLF_MAX_TEXT);
	lexer lx = {filter, {0}};
	next(&lx);
	buf b = BUF_INIT;
	int rc = 0;
	bool first = true;
	while (lx.cur.t != T_END) {
		if (!first) {
			if (!word_is(&lx.cur, "and")) {
				rc = bad_clause(&lx.cur);
				break;
			}
			next(&lx);
			buf_puts(&b, " and ");
		}
		first = false;
		if ((rc = clause(&b, &lx)) != 0)
			break;
	}
	if (rc == 0 && !buf_ok(&b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

/* --- order_by -------------------------------------------------------------------------------- */

static int order_field(buf *field, const char *clause, bool *desc)
{
	lexer lx = {clause, {0}};
	next(&lx);
	tok id = lx.cur;
	if (id.t != T_IDENT)
		return err_set(CAIRN_EINVALID, "Invalid order_by clause '%s'", clause);
	next(&lx);
	bool run_name_alias = name_alias(&lx, &id);
	*desc = false;
	if (word_is(&lx.cur, "desc")) {
		*desc = true;
		next(&lx);
	} else if (word_is(&lx.cur, "asc")) {
		next(&lx);
	}
	if (lx.cur.t != T_END)
		return err_set(CAIRN_EINVALID, "Invalid order_by clause '%s'", clause);
	kkind kind;
	buf key = BUF_INIT;
	int rc = field_key(&id, run_name_alias, &kind, &key);
	if (rc)
		return rc;
	switch (kind) {
	case K_METRIC: put_backquoted(field, "metrics.", key.ptr); break;
	case K_PARAM: put_backquoted(field, "params.", key.ptr); break;
	case K_TAG: {
		const char *f = systag_field(key.ptr);
		if (f)
			buf_puts(field, f);
		else
			put_backquoted(field, "tags.", key.ptr);
		break;
	}
	case K_ATTR: {
		const attr_map *a = attr_find(key.ptr);
		if (!a) {
			rc = err_set(CAIRN_EINVALID,
			             "Invalid order_by clause '%s': invalid attribute key '%s'",
			             clause, key.ptr);
			break;
		}
		buf_puts(field, strcmp(a->cairn, "attributes.start_time") == 0 ? "started"
		                : strcmp(a->cairn, "attributes.end_time") == 0 ? "ended"
		                                                               : a->cairn);
		break;
	}
	case K_DATASET:
		rc = err_set(CAIRN_EINVALID, "Invalid order_by clause '%s': datasets have no order",
		             clause);
		break;
	}
	buf_free(&key);
	return rc;
}

int cairn_mlflow_order(char **out, const char *const *clauses, size_t n)
{
	*out = NULL;
	buf b = BUF_INIT;
	buf *fields = calloc(n + 1, sizeof *fields);
	if (!fields)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = 0;
	bool has_started = false, has_id = false;
	for (size_t i = 0; i < n && rc == 0; i++) {
		bool desc = false;
		buf_init(&fields[i]);
		if (!clauses[i] || strlen(clauses[i]) > MLF_MAX_TEXT) {
			rc = err_set(CAIRN_EINVALID, "Invalid order_by clause");
			break;
		}
		if ((rc = order_field(&fields[i], clauses[i], &desc)) != 0)
			break;
		for (size_t j = 0; j < i; j++)
			if (strcmp(fields[j].ptr, fields[i].ptr) == 0)
				rc = err_set(CAIRN_EINVALID,
				             "`order_by` contains duplicate fields: ['%s']",
				             clauses[i]);
		if (strcmp(fields[i].ptr, "started") == 0)
			has_started = true;
		if (strcmp(fields[i].ptr, "id") == 0)
			has_id = true;
		if (b.len)
			buf_putc(&b, ',');
		if (desc)
			buf_putc(&b, '-');
		buf_puts(&b, fields[i].ptr);
	}
	/* MLflow's tiebreak: start time, newest first, then run id */
	if (rc == 0 && !has_started)
		buf_puts(&b, b.len ? ",-started" : "-started");
	if (rc == 0 && !has_id)
		buf_puts(&b, ",id");
	for (size_t i = 0; i < n; i++)
		buf_free(&fields[i]);
	free(fields);
	if (rc == 0 && !buf_ok(&b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
