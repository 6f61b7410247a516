/*
 * cli/run-params.c — the params of a `cairn run` run (run-params.h).
 *
 * Sources, each over the one before for the same key: config files (named
 * in the command, then --config), the command line (cairn_argv_parse), the
 * argparse namespace reported by the Python hook (python/pyhook), --param.
 * Every write is one cairn_run_set_params call that ends with the --param
 * values, so an explicit --param always wins.
 *
 * The command line and the namespace name the same values differently when
 * an option's dest is not its flag (`-k 3` is k_neighbors, `--lr` may have
 * dest learning_rate), and params are write-once in spirit: there is no
 * taking one back.  So for a Python command that has the hook, the command
 * line's params are held back (state `held`) until one of:
 *   - the command exits;
 *   - HOLD_AFTER_REPORT seconds after the latest namespace (a script may
 *     parse twice: a config option first, then everything);
 *   - HOLD_NO_REPORT seconds after the start with no namespace (a program
 *     that does not use argparse, or a parse made by a library);
 * then those the namespace does not cover are written: a key is covered when
 * it is a dest, names one of the parser's option strings (hyphens as
 * underscores, as the command line's keys), or abbreviates one (argparse
 * accepts unique prefixes).  What stays is `key=value` arguments and options
 * the parser does not know (parse_known_args).
 *
 * The namespace's values come typed by the hook ("i", "f", "b", "s"), named
 * by dest; secret-looking names are left out and credentials inside URLs
 * masked, as for the command line.  Which of them were defaults (not typed on
 * the command line) is the property argparse.defaults, a JSON array of keys.
 * A report is taken only when the arguments it parsed are the command's own
 * (cairn_argv_args_start on): a launcher's parser (torchrun) or a parse of a
 * made-up list is not the program's configuration.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run-params.h"
#include "cli/run-pump.h"
#include "util/buf.h"
#include "util/json.h"

#define HOLD_AFTER_REPORT 2.0
#define HOLD_NO_REPORT    10.0
#define NS_MAX            10000
#define TEXT_MAX          (64 << 10) /* a param's text, as the library takes it */

typedef struct ns_param {
	char *key;
	char *text; /* a string value (owned), else NULL */
	cairn_value v;
	bool typed;
} ns_param;

struct run_params {
	cairn_params **configs;
	size_t nconfigs;
	const cairn_params *cmdline;
	char **args; /* the program's own arguments (borrowed) */
	int nargs;
	char **okeys; /* --param: keys owned, values borrow the argument */
	cairn_value *ovals;
	size_t nover;
	char **covered; /* command-line keys the parser has as options */
	size_t ncovered;
	ns_param *ns;
	size_t nns;
	bool held;
	double due;
};

/* --- a list to write ------------------------------------------------------------------------ */

typedef struct plist {
	const char **keys;
	cairn_value *vals;
	size_t n, cap;
	bool oom;
} plist;

static void plist_add(plist *l, const char *key, const cairn_value *v)
{
	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 64;
		const char **nk = realloc(l->keys, ncap * sizeof *nk);
		cairn_value *nv = nk ? realloc(l->vals, ncap * sizeof *nv) : NULL;
		if (nk)
			l->keys = nk;
		if (!nv) {
			l->oom = true;
			return;
		}
		l->vals = nv;
		l->cap = ncap;
	}
	l->keys[l->n] = key;
	l->vals[l->n++] = *v;
}

static void plist_add_params(plist *l, const cairn_params *p)
{
	for (size_t i = 0; i < cairn_params_count(p); i++) {
		cairn_value v;
		const char *k = cairn_params_get(&v, p, i);
		plist_add(l, k, &v);
	}
}

/* Write the list, with --param last; a failure is a warning (the run goes on). */
static void plist_write(plist *l, const run_params *rp, cairn_run *run, const char *what)
{
	for (size_t i = 0; i < rp->nover; i++)
		plist_add(l, rp->okeys[i], &rp->ovals[i]);
	if (l->oom)
		run_warn("%s not recorded: out of memory", what);
	else if (l->n && cairn_run_set_params(run, l->keys, l->vals, l->n) != 0)
		run_warn("%s not recorded: %s", what, cairn_error_last());
	free(l->keys);
	free(l->vals);
}

/* --- the set ------------------------------------------------------------------------------- */

run_params *run_params_new(void)
{
	run_params *rp = calloc(1, sizeof *rp);
	if (rp)
		rp->due = INFINITY;
	return rp;
}

void run_params_free(run_params *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->nconfigs; i++)
		cairn_params_free(rp->configs[i]);
	for (size_t i = 0; i < rp->nover; i++)
		free(rp->okeys[i]);
	for (size_t i = 0; i < rp->ncovered; i++)
		free(rp->covered[i]);
	for (size_t i = 0; i < rp->nns; i++) {
		free(rp->ns[i].key);
		cairn_free(rp->ns[i].text);
	}
	free(rp->configs);
	free(rp->okeys);
	free(rp->ovals);
	free(rp->covered);
	free(rp->ns);
	free(rp);
}

int run_params_add_config(run_params *rp, cairn_params *flat)
{
	cairn_params **nc = realloc(rp->configs, (rp->nconfigs + 1) * sizeof *nc);
	if (!nc) {
		cairn_params_free(flat);
		return -1;
	}
	rp->configs = nc;
	rp->configs[rp->nconfigs++] = flat;
	return 0;
}

void run_params_set_command(run_params *rp, const cairn_argv *a, int argc, char **argv)
{
	int start = cairn_argv_args_start(a);
	rp->cmdline = cairn_argv_params(a);
	rp->args = argv + start;
	rp->nargs = argc - start;
}

int run_params_add_override(run_params *rp, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char **nk = realloc(rp->okeys, (rp->nover + 1) * sizeof *nk);
	if (!nk)
		return -1;
	rp->okeys = nk;
	cairn_value *nv = realloc(rp->ovals, (rp->nover + 1) * sizeof *nv);
	if (!nv)
		return -1;
	rp->ovals = nv;
	if (!(nk[rp->nover] = strndup(kv, (size_t)(eq - kv))))
		return -1;
	cairn_value_parse(&nv[rp->nover], eq + 1);
	rp->nover++;
	return 0;
}

int run_params_write(run_params *rp, cairn_run *run, bool hold_command)
{
	plist l = {0};
	for (size_t i = 0; i < rp->nconfigs; i++)
		plist_add_params(&l, rp->configs[i]);
	if (hold_command && cairn_params_count(rp->cmdline)) {
		rp->held = true; /* due once the command has started */
	} else {
		plist_add_params(&l, rp->cmdline);
	}
	plist_write(&l, rp, run, "params");
	return 0;
}

/* --- the namespace -------------------------------------------------------------------------- */

static bool covered(const run_params *rp, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < rp->ncovered; i++)
		if (strcmp(rp->covered[i], key) == 0 ||
		    (n > 1 && strncmp(rp->covered[i], key, n) == 0)) /* an abbreviation */
			return true;
	for (size_t i = 0; i < rp->nns; i++)
		if (strcmp(rp->ns[i].key, key) == 0)
			return true;
	return false;
}

/* An option string as the command line's key: "--k-neighbors" -> k_neighbors. */
static void cover_option(run_params *rp, const char *opt)
{
	for (int d = 0; d < 2 && (*opt == '-' || *opt == '+'); d++)
		opt++;
	if (!*opt)
		return;
	for (size_t i = 0; i < rp->ncovered; i++)
		if (strcmp(rp->covered[i], opt) == 0)
			return;
	char **nc = realloc(rp->covered, (rp->ncovered + 1) * sizeof *nc);
	if (!nc)
		return;
	rp->covered = nc;
	char *k = strdup(opt);
	if (!k)
		return;
	for (char *p = k; *p; p++)
		if (*p == '-')
			*p = '_';
	nc[rp->ncovered++] = k;
}

/* Whether the report parsed the command's own arguments. */
static bool args_match(const run_params *rp, const json *args)
{
	if (!args || args->type != JSON_ARR || args->len != (size_t)rp->nargs)
		return false;
	int i = 0;
	for (const json *a = args->child; a; a = a->next, i++)
		if (a->type != JSON_STR || strlen(rp->args[i]) != a->len ||
		    memcmp(rp->args[i], a->str, a->len) != 0)
			return false;
	return true;
}

/* The typed value of one reported param; *text is a masked copy of a string. */
static bool ns_value(cairn_value *v, char **text, const char *type, const char *s)
{
	char *end;
	memset(v, 0, sizeof *v);
	*text = NULL;
	if (strcmp(type, "i") == 0) {
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			return false;
		v->type = CAIRN_TYPE_INT;
		v->i = x;
	} else if (strcmp(type, "f") == 0) {
		double x = strtod(s, &end);
		if (end == s || *end)
			return false;
		v->type = CAIRN_TYPE_FLOAT;
		v->f = x;
	} else if (strcmp(type, "b") == 0) {
		v->type = CAIRN_TYPE_BOOL;
		v->i = strcmp(s, "1") == 0;
	} else if (strcmp(type, "s") == 0) {
		if (cairn_mask_credentials(text, s) != 0)
			return false;
		if (strlen(*text) > TEXT_MAX) { /* the library would refuse the whole write */
			cairn_free(*text);
			*text = NULL;
			return false;
		}
		v->type = CAIRN_TYPE_STRING;
		v->s = *text;
	} else {
		return false;
	}
	return true;
}

/* Take one reported param: a new key is appended, a known one replaced (a
 * second parse of the same options), typed once typed in any report. */
static void ns_take(run_params *rp, const char *key, const cairn_value *v, char *text, bool typed)
{
	for (size_t i = 0; i < rp->nns; i++) {
		ns_param *p = &rp->ns[i];
		if (strcmp(p->key, key) == 0) {
			cairn_free(p->text);
			p->text = text;
			p->v = *v;
			p->typed = p->typed || typed;
			return;
		}
	}
	ns_param *nn = rp->nns < NS_MAX ? realloc(rp->ns, (rp->nns + 1) * sizeof *nn) : NULL;
	char *k = nn ? strdup(key) : NULL;
	if (nn)
		rp->ns = nn;
	if (!k) {
		cairn_free(text);
		return;
	}
	nn[rp->nns++] = (ns_param){k, text, *v, typed};
}

static void write_defaults(const run_params *rp, cairn_run *run)
{
	buf b = BUF_INIT;
	bool first = true;
	buf_putc(&b, '[');
	for (size_t i = 0; i < rp->nns; i++) {
		if (rp->ns[i].typed)
			continue;
		if (!first)
			buf_puts(&b, ", ");
		first = false;
		json_str(&b, rp->ns[i].key);
	}
	buf_putc(&b, ']');
	if (!buf_ok(&b) || cairn_run_set_property(run, "argparse.defaults", b.ptr) != 0)
		run_warn("which params were argparse defaults not recorded: %s",
		         cairn_error_last());
	buf_free(&b);
}

bool run_params_namespace(run_params *rp, cairn_run *run, const char *text, size_t len, double now)
{
	char err[128];
	json_doc *d = json_parse(text, len, NULL, err, sizeof err);
	const json *root = d ? json_root(d) : NULL;
	const json *params = root && root->type == JSON_OBJ ? json_get(root, "params") : NULL;
	if (!params || params->type != JSON_ARR || !args_match(rp, json_get(root, "args"))) {
		json_doc_free(d);
		return false;
	}
	for (const json *p = params->child; p; p = p->next) {
		const char *key = json_get_str(p, "k"), *type = json_get_str(p, "t");
		const char *val = json_get_str(p, "v");
		const json *opts = json_get(p, "opts"), *typed = json_get(p, "typed");
		for (const json *o = opts && opts->type == JSON_ARR ? opts->child : NULL; o;
		     o = o->next)
			if (o->type == JSON_STR)
				cover_option(rp, o->str);
		if (!key || !type || !val || cairn_name_is_secret(key) ||
		    cairn_key_validate(key, "param key") != 0) {
			cairn_error_clear();
			continue;
		}
		cairn_value v;
		char *copy;
		if (ns_value(&v, &copy, type, val))
			ns_take(rp, key, &v, copy, typed && typed->type == JSON_BOOL && typed->b);
	}
	json_doc_free(d);
	plist l = {0};
	for (size_t i = 0; i < rp->nns; i++)
		plist_add(&l, rp->ns[i].key, &rp->ns[i].v);
	plist_write(&l, rp, run, "the argparse params");
	write_defaults(rp, run);
	if (rp->held)
		rp->due = now + HOLD_AFTER_REPORT;
	return true;
}

void run_params_started(run_params *rp, double now)
{
	if (rp->held && isinf(rp->due))
		rp->due = now + HOLD_NO_REPORT;
}

double run_params_due(const run_params *rp)
{
	return rp->held ? rp->due : INFINITY;
}

void run_params_release(run_params *rp, cairn_run *run)
{
	if (!rp->held)
		return;
	rp->held = false;
	rp->due = INFINITY;
	plist l = {0};
	for (size_t i = 0; i < cairn_params_count(rp->cmdline); i++) {
		cairn_value v;
		const char *k = cairn_params_get(&v, rp->cmdline, i);
		if (!covered(rp, k))
			plist_add(&l, k, &v);
	}
	if (l.n)
		plist_write(&l, rp, run, "the command line's params");
	else {
		free(l.keys);
		free(l.vals);
	}
}
