/*
 * lib/sweep/spec.c — reading a sweep file (YAML or JSON, through libyaml)
 * into a cairn_sweep_spec (its canonical JSON and accessors are in
 * spec-json.c).
 *
 * The shape follows W&B sweeps where it fits (method, metric {name, goal},
 * parameters {NAME: {values} | {value} | {min, max, distribution}},
 * early_terminate) plus cairn's keys: trials, seed, parallel, tpe, and a
 * parameter's `when` (conditional parameters) and `grid_points`.  Every key
 * is documented in docs/cli/sweep.md.
 *
 * Validation happens here, once: every error names the file, the line and
 * the key path, and an unknown key is an error (a typo must not silently
 * become a default).  The spec owns all its strings; it is read-only after
 * parsing and may be shared between threads.
 */
#include "lib/sweep/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/json.h"

/* --- the reader's context --------------------------------------------------------- */

typedef struct rd {
	yaml_document_t *doc;
	const char *origin;
	cairn_sweep_spec *s;
} rd;

static int fail(const rd *r, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const rd *r, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n)
		return err_set(CAIRN_EINVALID, "%s:%zu: %s%s%s", r->origin, n->start_mark.line + 1,
		               path ? path : "", path ? ": " : "", msg);
	return err_set(CAIRN_EINVALID, "%s: %s%s%s", r->origin, path ? path : "", path ? ": " : "",
	               msg);
}

static yaml_node_t *node(const rd *r, int id)
{
	return yaml_document_get_node(r->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *kind_word(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

/* A short quoted rendering of a scalar for messages. */
static const char *shown(const yaml_node_t *n, char *out, size_t outsz)
{
	const char *v = scalar(n);
	if (!v)
		snprintf(out, outsz, "%s", kind_word(n));
	else
		snprintf(out, outsz, "'%.60s%s'", v, strlen(v) > 60 ? "…" : "");
	return out;
}

static int get_number(const rd *r, const yaml_node_t *n, const char *path, double *out)
{
	char sh[80];
	const char *v = scalar(n);
	char *end;
	if (!v || !plain(n) || !*v)
		return fail(r, n, path, "expected a number, got %s", shown(n, sh, sizeof sh));
	errno = 0;
	double d = strtod(v, &end);
	if (*end)
		return fail(r, n, path, "expected a number, got %s", shown(n, sh, sizeof sh));
	if (errno == ERANGE || !isfinite(d))
		return fail(r, n, path, "expected a finite number, got %s",
		            shown(n, sh, sizeof sh));
	*out = d;
	return 0;
}

static int get_int(const rd *r, const yaml_node_t *n, const char *path, int64_t lo, int64_t hi,
                   int64_t *out)
{
	char sh[80];
	const char *v = scalar(n);
	char *end;
	if (!v || !plain(n) || !*v)
		return fail(r, n, path, "expected an integer, got %s", shown(n, sh, sizeof sh));
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (*end || errno == ERANGE)
		return fail(r, n, path, "expected an integer, got %s", shown(n, sh, sizeof sh));
	if (x < lo || x > hi)
		return fail(r, n, path, "%lld is out of range (%lld to %lld)", x, (long long)lo,
		            (long long)hi);
	*out = x;
	return 0;
}

static int get_word(const rd *r, const yaml_node_t *n, const char *path, const char *const *words,
                    int *out)
{
	char sh[80], list[200] = "";
	const char *v = scalar(n);
	for (int k = 0; words[k]; k++) {
		if (v && strcmp(v, words[k]) == 0) {
			*out = k;
			return 0;
		}
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
		         words[k]);
	}
	return fail(r, n, path, "expected one of %s, got %s", list, shown(n, sh, sizeof sh));
}

static int get_text(const rd *r, const yaml_node_t *n, const char *path, char **out)
{
	char sh[80];
	const char *v = scalar(n);
	if (!v)
		return fail(r, n, path, "expected text, got %s", shown(n, sh, sizeof sh));
	if (strlen(v) > 4096)
		return fail(r, n, path, "too long (at most 4096 bytes)");
	free(*out);
	*out = strdup(v);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static int want_map(const rd *r, const yaml_node_t *n, const char *path)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail(r, n, path, "expected a mapping, got %s", kind_word(n));
	return 0;
}

/* Keys of a mapping are plain text; duplicates are an error. */
static int check_keys(const rd *r, const yaml_node_t *map, const char *path)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = node(r, p->key);
		if (!scalar(k))
			return fail(r, k, path, "a key must be text, got %s", kind_word(k));
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
			if (strcmp(scalar(node(r, q->key)), scalar(k)) == 0)
				return fail(r, k, path, "key '%s' appears twice", scalar(k));
	}
	return 0;
}

/* --- values ---------------------------------------------------------------------------- */

/* A categorical choice: plain scalars are typed (int, float, bool), quoted
 * ones stay strings. */
static int read_choice(const rd *r, const yaml_node_t *n, const char *path, cairn_value *v,
                       char **json_out)
{
	char sh[80];
	const char *t = scalar(n);
	if (!t)
		return fail(r, n, path, "a choice must be a number, true/false or text, got %s",
		            kind_word(n));
	if (plain(n) && (strcmp(t, "null") == 0 || strcmp(t, "~") == 0 || !*t))
		return fail(r, n, path, "a choice cannot be null");
	if (strlen(t) > 1024)
		return fail(r, n, path, "choice %s is too long (at most 1024 bytes)",
		            shown(n, sh, sizeof sh));
	char *copy = strdup(t);
	if (!copy)
		return err_set(CAIRN_ENOMEM, "out of memory");
	cairn_value_parse(v, copy);
	if (!plain(n) || (v->type == CAIRN_TYPE_FLOAT && !isfinite(v->f))) {
		v->type = CAIRN_TYPE_STRING;
	}
	if (plain(n) && (strcmp(t, "True") == 0 || strcmp(t, "yes") == 0)) {
		v->type = CAIRN_TYPE_BOOL;
		v->i = 1;
	} else if (plain(n) && (strcmp(t, "False") == 0 || strcmp(t, "no") == 0)) {
		v->type = CAIRN_TYPE_BOOL;
		v->i = 0;
	}
	v->s = copy;
	buf b = BUF_INIT;
	switch (v->type) {
	case CAIRN_TYPE_INT: json_int(&b, v->i); break;
	case CAIRN_TYPE_BOOL: json_bool(&b, v->i != 0); break;
	case CAIRN_TYPE_FLOAT: {
		char num[40];
		snprintf(num, sizeof num, "%.17g", v->f);
		buf_puts(&b, num);
		if (!strpbrk(num, ".eE"))
			buf_puts(&b, ".0");
		break;
	}
	default: json_str(&b, copy);
	}
	*json_out = buf_detach(&b);
	return *json_out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

/* The x value of a choice given in a `when` condition. */
static int cond_value(const rd *r, const yaml_node_t *n, const char *path, const sweep_param *on,
                      double *out)
{
	char sh[80];
	if (on->kind == CAIRN_PARAM_CATEGORICAL) {
		cairn_value v;
		char *js = NULL;
		int rc = read_choice(r, n, path, &v, &js);
		if (rc)
			return rc;
		size_t k = 0;
		for (; k < on->nvalues; k++)
			if (strcmp(on->values_json[k], js) == 0)
				break;
		free((char *)v.s);
		free(js);
		if (k == on->nvalues)
			return fail(r, n, path, "%s is not one of the choices of '%s'",
			            shown(n, sh, sizeof sh), on->name);
		*out = (double)k;
		return 0;
	}
	return get_number(r, n, path, out);
}

/* --- one parameter ----------------------------------------------------------------------- */

static int read_param(const rd *r, const char *name, const yaml_node_t *k, const yaml_node_t *n,
                      sweep_param *p)
{
	char path[320], sub[400];
	snprintf(path, sizeof path, "parameters.%s", name);
	int rc = cairn_key_validate(name, "parameter name");
	if (rc)
		return fail(r, k, "parameters", "%s", cairn_error_last());
	if ((p->name = strdup(name)) == NULL)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = want_map(r, n, path)) || (rc = check_keys(r, n, path)))
		return rc;
	const yaml_node_t *values = NULL, *value = NULL, *min = NULL, *max = NULL, *dist = NULL,
	                  *when = NULL, *gp = NULL;
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top;
	     q++) {
		const yaml_node_t *kn = node(r, q->key), *vn = node(r, q->value);
		const char *key = scalar(kn);
		if (strcmp(key, "values") == 0)
			values = vn;
		else if (strcmp(key, "value") == 0)
			value = vn;
		else if (strcmp(key, "min") == 0)
			min = vn;
		else if (strcmp(key, "max") == 0)
			max = vn;
		else if (strcmp(key, "distribution") == 0)
			dist = vn;
		else if (strcmp(key, "when") == 0)
			when = vn;
		else if (strcmp(key, "grid_points") == 0)
			gp = vn;
		else
			return fail(
			    r, kn, path,
			    "unknown key '%s' (expected values, value, min, max, distribution, "
			    "grid_points or when)",
			    key);
	}
	int forms = (values != NULL) + (value != NULL) + (min || max);
	if (forms != 1)
		return fail(r, n, path,
		            forms ? "give only one of values, value, or min and max"
		                  : "give values, value, or min and max");
	if (values || value) {
		if (dist)
			return fail(r, dist, path,
			            "distribution goes with min and max, not values");
		if (gp)
			return fail(r, gp, path, "grid_points goes with min and max, not values");
		p->kind = CAIRN_PARAM_CATEGORICAL;
		size_t nv = 1;
		const yaml_node_item_t *items = NULL;
		if (values) {
			snprintf(sub, sizeof sub, "%s.values", path);
			if (values->type != YAML_SEQUENCE_NODE)
				return fail(r, values, sub, "expected a list, got %s",
				            kind_word(values));
			items = values->data.sequence.items.start;
			nv = (size_t)(values->data.sequence.items.top - items);
			if (nv == 0)
				return fail(r, values, sub, "the list is empty");
			if (nv > CAIRN_SWEEP_VALUES_MAX)
				return fail(r, values, sub, "%zu choices (at most %d)", nv,
				            CAIRN_SWEEP_VALUES_MAX);
		} else {
			snprintf(sub, sizeof sub, "%s.value", path);
		}
		p->values = calloc(nv, sizeof *p->values);
		p->values_json = calloc(nv, sizeof *p->values_json);
		if (!p->values || !p->values_json)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < nv; i++) {
			const yaml_node_t *vn = values ? node(r, items[i]) : value;
			if ((rc = read_choice(r, vn, sub, &p->values[i], &p->values_json[i])) != 0)
				return rc;
			p->nvalues++;
			for (size_t j = 0; j < i; j++)
				if (strcmp(p->values_json[j], p->values_json[i]) == 0)
					return fail(r, vn, sub, "choice %s appears twice",
					            p->values_json[i]);
		}
	} else {
		if (!min || !max)
			return fail(r, n, path, "a range needs both min and max");
		snprintf(sub, sizeof sub, "%s.min", path);
		if ((rc = get_number(r, min, sub, &p->lo)) != 0)
			return rc;
		snprintf(sub, sizeof sub, "%s.max", path);
		if ((rc = get_number(r, max, sub, &p->hi)) != 0)
			return rc;
		bool ints = !strpbrk(scalar(min), ".eE") && !strpbrk(scalar(max), ".eE");
		p->kind = ints ? CAIRN_PARAM_INT_UNIFORM : CAIRN_PARAM_UNIFORM;
		if (dist) {
			static const char *const words[] = {"uniform", "log_uniform", "int_uniform",
			                                    "log_uniform_values", NULL};
			int w;
			snprintf(sub, sizeof sub, "%s.distribution", path);
			if ((rc = get_word(r, dist, sub, words, &w)) != 0)
				return rc;
			p->kind = w == 3 ? CAIRN_PARAM_LOG_UNIFORM : (cairn_param_kind)w;
		}
		if (!(p->lo < p->hi))
			return fail(r, max, path, "max (%g) must be greater than min (%g)", p->hi,
			            p->lo);
		if (p->kind == CAIRN_PARAM_LOG_UNIFORM && p->lo <= 0)
			return fail(r, min, path, "log_uniform needs min > 0, got %g", p->lo);
		if (p->kind == CAIRN_PARAM_INT_UNIFORM) {
			if (p->lo != floor(p->lo) || p->hi != floor(p->hi))
				return fail(r, min, path, "int_uniform needs integer min and max");
			if (fabs(p->lo) > 9e15 || fabs(p->hi) > 9e15)
				return fail(r, min, path, "int_uniform bounds are at most 9e15");
		}
		if (gp) {
			snprintf(sub, sizeof sub, "%s.grid_points", path);
			if ((rc = get_int(r, gp, sub, 2, CAIRN_SWEEP_VALUES_MAX, &p->grid_points)))
				return rc;
			if (p->kind == CAIRN_PARAM_INT_UNIFORM)
				return fail(r, gp, sub, "an int_uniform range is enumerated whole");
		}
	}
	if (when) {
		snprintf(sub, sizeof sub, "%s.when", path);
		if ((rc = want_map(r, when, sub)) || (rc = check_keys(r, when, sub)))
			return rc;
		size_t nc = (size_t)(when->data.mapping.pairs.top - when->data.mapping.pairs.start);
		if (nc == 0)
			return fail(r, when, sub, "name at least one parameter");
		p->conds = calloc(nc, sizeof *p->conds);
		if (!p->conds)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (yaml_node_pair_t *q = when->data.mapping.pairs.start;
		     q < when->data.mapping.pairs.top; q++) {
			const yaml_node_t *kn = node(r, q->key), *vn = node(r, q->value);
			const char *on = scalar(kn);
			size_t j = 0;
			for (; j < r->s->nparams; j++)
				if (strcmp(r->s->params[j].name, on) == 0)
					break;
			if (j == r->s->nparams)
				return fail(r, kn, sub,
				            strcmp(on, name) == 0
				                ? "a parameter cannot depend on itself"
				                : "'%s' is not a parameter declared before '%s'",
				            on, name);
			sweep_cond *c = &p->conds[p->nconds++];
			c->param = j;
			char csub[480];
			snprintf(csub, sizeof csub, "%s.%s", sub, on);
			size_t nx = vn->type == YAML_SEQUENCE_NODE
			                ? (size_t)(vn->data.sequence.items.top -
			                           vn->data.sequence.items.start)
			                : 1;
			if (nx == 0)
				return fail(r, vn, csub, "the list is empty");
			if (nx > CAIRN_SWEEP_VALUES_MAX)
				return fail(r, vn, csub, "too many values");
			if ((c->x = calloc(nx, sizeof *c->x)) == NULL)
				return err_set(CAIRN_ENOMEM, "out of memory");
			for (size_t i = 0; i < nx; i++) {
				const yaml_node_t *xn =
				    vn->type == YAML_SEQUENCE_NODE
				        ? node(r, vn->data.sequence.items.start[i])
				        : vn;
				if ((rc = cond_value(r, xn, csub, &r->s->params[j], &c->x[i])) != 0)
					return rc;
				c->nx++;
			}
		}
	}
	return 0;
}

/* --- the sections ------------------------------------------------------------------------ */

static int read_metric(const rd *r, const yaml_node_t *n)
{
	int rc;
	if ((rc = want_map(r, n, "metric")) || (rc = check_keys(r, n, "metric")))
		return rc;
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top;
	     q++) {
		const yaml_node_t *kn = node(r, q->key), *vn = node(r, q->value);
		const char *key = scalar(kn);
		if (strcmp(key, "name") == 0) {
			if ((rc = get_text(r, vn, "metric.name", &r->s->metric)) != 0)
				return rc;
			if (cairn_key_validate(r->s->metric, "metric name") != 0)
				return fail(r, vn, "metric.name", "%s", cairn_error_last());
		} else if (strcmp(key, "goal") == 0) {
			static const char *const goals[] = {"minimize", "maximize", NULL};
			int g;
			if ((rc = get_word(r, vn, "metric.goal", goals, &g)) != 0)
				return rc;
			r->s->goal = (cairn_sweep_goal)g;
		} else {
			return fail(r, kn, "metric", "unknown key '%s' (expected name or goal)",
			            key);
		}
	}
	if (!r->s->metric)
		return fail(r, n, "metric", "name the objective (metric.name)");
	return 0;
}

static int read_early(const rd *r, const yaml_node_t *n)
{
	int rc;
	bool typed = false;
	if ((rc = want_map(r, n, "early_terminate")) || (rc = check_keys(r, n, "early_terminate")))
		return rc;
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top;
	     q++) {
		const yaml_node_t *kn = node(r, q->key), *vn = node(r, q->value);
		const char *key = scalar(kn);
		if (strcmp(key, "type") == 0) {
			static const char *const types[] = {"median", NULL};
			int t;
			if (scalar(vn) && strcmp(scalar(vn), "hyperband") == 0)
				return fail(r, vn, "early_terminate.type",
				            "hyperband is not supported; use median");
			if ((rc = get_word(r, vn, "early_terminate.type", types, &t)) != 0)
				return rc;
			typed = true;
		} else if (strcmp(key, "warmup_steps") == 0) {
			if ((rc = get_int(r, vn, "early_terminate.warmup_steps", 0, INT64_MAX,
			                  &r->s->warmup_steps)) != 0)
				return rc;
		} else if (strcmp(key, "min_trials") == 0) {
			if ((rc = get_int(r, vn, "early_terminate.min_trials", 1,
			                  CAIRN_SWEEP_TRIALS_MAX, &r->s->min_trials)) != 0)
				return rc;
		} else {
			return fail(r, kn, "early_terminate",
			            "unknown key '%s' (expected type, warmup_steps or min_trials)",
			            key);
		}
	}
	if (!typed)
		return fail(r, n, "early_terminate", "give the type (median)");
	r->s->early = true;
	return 0;
}

static int read_tpe(const rd *r, const yaml_node_t *n)
{
	int rc;
	if ((rc = want_map(r, n, "tpe")) || (rc = check_keys(r, n, "tpe")))
		return rc;
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top;
	     q++) {
		const yaml_node_t *kn = node(r, q->key), *vn = node(r, q->value);
		const char *key = scalar(kn);
		int64_t v;
		if (strcmp(key, "startup_trials") == 0) {
			if ((rc = get_int(r, vn, "tpe.startup_trials", 1, CAIRN_SWEEP_TRIALS_MAX,
			                  &r->s->startup_trials)) != 0)
				return rc;
		} else if (strcmp(key, "candidates") == 0) {
			if ((rc = get_int(r, vn, "tpe.candidates", 1, 10000, &v)) != 0)
				return rc;
			r->s->candidates = (int)v;
		} else if (strcmp(key, "prior_weight") == 0) {
			if ((rc = get_number(r, vn, "tpe.prior_weight", &r->s->prior_weight)) != 0)
				return rc;
			if (!(r->s->prior_weight > 0) || r->s->prior_weight > 1e6)
				return fail(r, vn, "tpe.prior_weight", "must be above 0");
		} else {
			return fail(r, kn, "tpe",
			            "unknown key '%s' (expected startup_trials, candidates or "
			            "prior_weight)",
			            key);
		}
	}
	return 0;
}

static int count_point(void *ctx, const double *x)
{
	(void)x;
	int64_t *n = ctx;
	if (++*n > CAIRN_SWEEP_TRIALS_MAX)
		return 1;
	return 0;
}

static int read_root(rd *r, const yaml_node_t *root)
{
	cairn_sweep_spec *s = r->s;
	int rc;
	if (root->type != YAML_MAPPING_NODE)
		return fail(r, root, NULL,
		            "a sweep file is a mapping (method, metric, parameters, …)");
	if ((rc = check_keys(r, root, NULL)) != 0)
		return rc;
	const yaml_node_t *method = NULL, *params = NULL, *metric = NULL;
	for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top;
	     q++) {
		const yaml_node_t *kn = node(r, q->key), *vn = node(r, q->value);
		const char *key = scalar(kn);
		int64_t v;
		if (strcmp(key, "method") == 0) {
			static const char *const methods[] = {"grid", "random", "tpe", NULL};
			int m;
			if (scalar(vn) && strcmp(scalar(vn), "bayes") == 0)
				return fail(r, vn, "method", "use tpe (cairn's Bayesian method)");
			if ((rc = get_word(r, vn, "method", methods, &m)) != 0)
				return rc;
			s->method = (cairn_sweep_method)m;
			method = vn;
		} else if (strcmp(key, "metric") == 0) {
			if ((rc = read_metric(r, vn)) != 0)
				return rc;
			metric = vn;
		} else if (strcmp(key, "parameters") == 0) {
			params = vn;
		} else if (strcmp(key, "early_terminate") == 0) {
			if ((rc = read_early(r, vn)) != 0)
				return rc;
		} else if (strcmp(key, "tpe") == 0) {
			if ((rc = read_tpe(r, vn)) != 0)
				return rc;
		} else if (strcmp(key, "trials") == 0 || strcmp(key, "run_cap") == 0) {
			if ((rc = get_int(r, vn, key, 1, CAIRN_SWEEP_TRIALS_MAX, &s->trials)) != 0)
				return rc;
		} else if (strcmp(key, "parallel") == 0) {
			if ((rc = get_int(r, vn, "parallel", 1, 256, &v)) != 0)
				return rc;
			s->parallel = (int)v;
		} else if (strcmp(key, "seed") == 0) {
			if ((rc = get_int(r, vn, "seed", 0, INT64_MAX, &v)) != 0)
				return rc;
			s->seed = (uint64_t)v;
		} else if (strcmp(key, "name") == 0) {
			if ((rc = get_text(r, vn, "name", &s->name)) != 0)
				return rc;
		} else if (strcmp(key, "project") == 0) {
			if ((rc = get_text(r, vn, "project", &s->project)) != 0)
				return rc;
		} else if (strcmp(key, "description") == 0) {
			if ((rc = get_text(r, vn, "description", &s->description)) != 0)
				return rc;
		} else {
			return fail(
			    r, kn, NULL,
			    "unknown key '%s' (expected method, metric, parameters, trials, "
			    "seed, parallel, early_terminate, tpe, name, project or "
			    "description)",
			    key);
		}
	}
	if (!method)
		return fail(r, root, NULL, "method: missing (grid, random or tpe)");
	if (!metric)
		return fail(r, root, NULL, "metric: missing (the objective: {name, goal})");
	if (!params)
		return fail(r, root, NULL, "parameters: missing (the search space)");
	if ((rc = want_map(r, params, "parameters")) || (rc = check_keys(r, params, "parameters")))
		return rc;
	size_t np = (size_t)(params->data.mapping.pairs.top - params->data.mapping.pairs.start);
	if (np == 0)
		return fail(r, params, "parameters", "declare at least one parameter");
	if (np > CAIRN_SWEEP_PARAMS_MAX)
		return fail(r, params, "parameters", "%zu parameters (at most %d)", np,
		            CAIRN_SWEEP_PARAMS_MAX);
	if ((s->params = calloc(np, sizeof *s->params)) == NULL)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (yaml_node_pair_t *q = params->data.mapping.pairs.start;
	     q < params->data.mapping.pairs.top; q++) {
		const yaml_node_t *kn = node(r, q->key);
		rc = read_param(r, scalar(kn), kn, node(r, q->value), &s->params[s->nparams]);
		s->nparams++; /* counted even on failure, so it is freed */
		if (rc)
			return rc;
	}
	if (s->method == CAIRN_SWEEP_GRID) {
		for (size_t i = 0; i < s->nparams; i++) {
			const sweep_param *p = &s->params[i];
			if ((p->kind == CAIRN_PARAM_UNIFORM ||
			     p->kind == CAIRN_PARAM_LOG_UNIFORM) &&
			    !p->grid_points) {
				char path[320];
				snprintf(path, sizeof path, "parameters.%s", p->name);
				return fail(
				    r, node(r, params->data.mapping.pairs.start[i].key), path,
				    "a grid needs values, an int_uniform range, or grid_points "
				    "for a continuous range");
			}
			if (p->kind == CAIRN_PARAM_INT_UNIFORM &&
			    p->hi - p->lo >= CAIRN_SWEEP_TRIALS_MAX) {
				char path[320];
				snprintf(path, sizeof path, "parameters.%s", p->name);
				return fail(r, node(r, params->data.mapping.pairs.start[i].key),
				            path,
				            "an int range of more than %d values cannot be a grid",
				            CAIRN_SWEEP_TRIALS_MAX);
			}
		}
		double *x = calloc(s->nparams, sizeof *x);
		if (!x)
			return err_set(CAIRN_ENOMEM, "out of memory");
		s->grid_size = 0;
		int over = sweep_grid_each(s, x, count_point, &s->grid_size);
		free(x);
		if (over)
			return fail(r, params, "parameters", "the grid has more than %d points",
			            CAIRN_SWEEP_TRIALS_MAX);
	} else if (!s->trials) {
		return fail(r, root, NULL, "trials: missing (the trial budget of a %s sweep)",
		            cairn_sweep_method_name(s->method));
	}
	return 0;
}

/* --- the public calls ---------------------------------------------------------------- */

int cairn_sweep_spec_parse(cairn_sweep_spec **out, const char *text, size_t len, const char *origin)
{
	*out = NULL;
	rd r = {0};
	r.origin = origin ? origin : "sweep file";
	if (len > CAIRN_SWEEP_FILE_MAX)
		return err_set(CAIRN_ETOOBIG, "%s: too big (%zu bytes, at most %d)", r.origin, len,
		               CAIRN_SWEEP_FILE_MAX);
	if (memchr(text, '\0', len))
		return err_set(CAIRN_EINVALID, "%s: not text (a NUL byte)", r.origin);
	cairn_sweep_spec *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(CAIRN_ENOMEM, "out of memory");
	s->parallel = 1;
	s->min_trials = 5;
	s->startup_trials = 10;
	s->candidates = 24;
	s->prior_weight = 1.0;
	r.s = s;
	yaml_parser_t p;
	yaml_document_t doc;
	bool have_doc = false;
	int rc = 0;
	if (!yaml_parser_initialize(&p)) {
		free(s);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = err_set(CAIRN_EINVALID, "%s:%zu: %s", r.origin, p.problem_mark.line + 1,
		             p.problem ? p.problem : "not YAML");
		goto done;
	}
	have_doc = true;
	r.doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = err_set(CAIRN_EINVALID, "%s: empty", r.origin);
		goto done;
	}
	for (yaml_node_t *n = doc.nodes.start; n < doc.nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE && n->tag &&
		    strcmp((const char *)n->tag, "tag:yaml.org,2002:str") &&
		    strncmp((const char *)n->tag, "tag:yaml.org,2002:", 18) != 0) {
			rc = fail(&r, n, NULL, "tags such as '%s' are not supported", n->tag);
			goto done;
		}
	rc = read_root(&r, root);
done:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (rc) {
		cairn_sweep_spec_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int cairn_sweep_spec_load(cairn_sweep_spec **out, const char *path)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		               "cannot read sweep file '%s': %s", path, strerror(errno));
	buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > CAIRN_SWEEP_FILE_MAX)
			break;
	}
	bool bad = ferror(f);
	fclose(f);
	int rc;
	if (bad)
		rc = err_set(CAIRN_EIO, "cannot read sweep file '%s'", path);
	else if (!buf_ok(&b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	else
		rc = cairn_sweep_spec_parse(out, b.ptr, b.len, path);
	buf_free(&b);
	return rc;
}

void cairn_sweep_spec_free(cairn_sweep_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nparams; i++) {
		sweep_param *p = &s->params[i];
		free(p->name);
		for (size_t k = 0; k < p->nvalues; k++) {
			free((char *)p->values[k].s);
			free(p->values_json[k]);
		}
		free(p->values);
		free(p->values_json);
		for (size_t k = 0; k < p->nconds; k++)
			free(p->conds[k].x);
		free(p->conds);
	}
	free(s->params);
	free(s->metric);
	free(s->name);
	free(s->project);
	free(s->description);
	free(s);
}
