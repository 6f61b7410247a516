/*
 * cli/sweep-cmd.c — expanding a sweep trial's command template and writing
 * its --config-out file; the syntax is in sweep-cmd.h.
 *
 * Values become text so that `cairn run`'s own command-line parser reads
 * them back as the same typed params: ints as digits, floats in the
 * shortest form that round-trips (0.01, not 0.01000000000000000021),
 * booleans as true/false, strings as they are.
 */
#include "cli/sweep-cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/json.h"

void sweep_value_text(buf *b, const cairn_value *v)
{
	switch (v->type) {
	case CAIRN_TYPE_STRING: buf_puts(b, v->s ? v->s : ""); break;
	case CAIRN_TYPE_BOOL: buf_puts(b, v->i ? "true" : "false"); break;
	case CAIRN_TYPE_INT: buf_printf(b, "%lld", (long long)v->i); break;
	case CAIRN_TYPE_FLOAT: {
		char t[40];
		for (int prec = 6; prec <= 17; prec++) {
			snprintf(t, sizeof t, "%.*g", prec, v->f);
			if (strtod(t, NULL) == v->f)
				break;
		}
		buf_puts(b, t);
		if (!strpbrk(t, ".eEn")) /* a float stays a float: 1.0, not 1 */
			buf_puts(b, ".0");
		break;
	}
	default: buf_puts(b, "null");
	}
}

/* Walk the placeholders of one argument: fn(ctx, name, len) for each,
 * literal text to out (if not NULL).  -1 on an unbalanced brace. */
typedef int (*ph_fn)(void *ctx, const char *name, size_t len, buf *out);

static int walk(const char *arg, buf *out, ph_fn fn, void *ctx)
{
	for (const char *p = arg; *p;) {
		if (p[0] == '{' && p[1] == '{') {
			if (out)
				buf_putc(out, '{');
			p += 2;
		} else if (p[0] == '}' && p[1] == '}') {
			if (out)
				buf_putc(out, '}');
			p += 2;
		} else if (p[0] == '{') {
			const char *e = strchr(p + 1, '}');
			if (!e)
				return -1;
			int rc = fn(ctx, p + 1, (size_t)(e - p - 1), out);
			if (rc)
				return rc;
			p = e + 1;
		} else if (p[0] == '}') {
			return -1;
		} else {
			if (out)
				buf_putc(out, *p);
			p++;
		}
	}
	return 0;
}

typedef struct check_ctx {
	const cairn_sweep_spec *spec;
	bool have_config;
	char bad[128];
	int count;
} check_ctx;

static int check_one(void *ctx, const char *name, size_t len, buf *out)
{
	(void)out;
	check_ctx *c = ctx;
	char nm[260];
	c->count++;
	if (len >= sizeof nm)
		len = sizeof nm - 1;
	memcpy(nm, name, len);
	nm[len] = '\0';
	if (strcmp(nm, "trial") == 0)
		return 0;
	if (strcmp(nm, "config") == 0) {
		if (c->have_config)
			return 0;
		snprintf(c->bad, sizeof c->bad, "placeholder '{config}' needs --config-out FILE");
		return -2;
	}
	if (cairn_sweep_spec_param_index(c->spec, nm) >= 0)
		return 0;
	snprintf(c->bad, sizeof c->bad,
	         "unknown placeholder '{%.60s}' (not a parameter of the sweep)", nm);
	return -2;
}

int sweep_template_check(const cairn_sweep_spec *spec, char *const *tmpl, int n, bool have_config,
                         char *err, size_t errsz)
{
	check_ctx c = {spec, have_config, "", 0};
	for (int i = 0; i < n; i++) {
		int rc = walk(tmpl[i], NULL, check_one, &c);
		if (rc == -1) {
			snprintf(
			    err, errsz,
			    "unbalanced brace in argument '%.60s' (write {{ or }} for a brace)",
			    tmpl[i]);
			return -1;
		}
		if (rc) {
			snprintf(err, errsz, "%s in argument '%.60s'", c.bad, tmpl[i]);
			return -1;
		}
	}
	return 0;
}

typedef struct exp_ctx {
	const cairn_params *params;
	long long trial;
	const char *config;
	bool inactive;
} exp_ctx;

static int expand_one(void *ctx, const char *name, size_t len, buf *out)
{
	exp_ctx *e = ctx;
	if (len == 5 && strncmp(name, "trial", 5) == 0) {
		buf_printf(out, "%lld", e->trial);
		return 0;
	}
	if (len == 6 && strncmp(name, "config", 6) == 0) {
		buf_puts(out, e->config ? e->config : "");
		return 0;
	}
	for (size_t i = 0; i < cairn_params_count(e->params); i++) {
		cairn_value v;
		const char *key = cairn_params_get(&v, e->params, i);
		if (strlen(key) == len && strncmp(key, name, len) == 0) {
			sweep_value_text(out, &v);
			return 0;
		}
	}
	e->inactive = true; /* a parameter absent from the trial */
	return 0;
}

static bool is_bare_option(const char *a)
{
	return a[0] == '-' && a[1] && !strchr(a, '=') && !strchr(a, '{');
}

char **sweep_template_expand(char *const *tmpl, int n, const cairn_params *params, long long trial,
                             const char *config_path)
{
	char **argv = calloc((size_t)n + 1, sizeof *argv);
	if (!argv)
		return NULL;
	int k = 0;
	for (int i = 0; i < n; i++) {
		buf b = BUF_INIT;
		exp_ctx e = {params, trial, config_path, false};
		walk(tmpl[i], &b, expand_one, &e);
		if (!buf_ok(&b)) {
			buf_free(&b);
			sweep_argv_free(argv);
			return NULL;
		}
		if (e.inactive) {
			buf_free(&b);
			/* `--momentum {momentum}`: the option goes with its value */
			if (k > 0 && tmpl[i][0] == '{' && strchr(tmpl[i], '}')[1] == '\0' &&
			    is_bare_option(tmpl[i - 1]) && strcmp(argv[k - 1], tmpl[i - 1]) == 0) {
				free(argv[--k]);
				argv[k] = NULL;
			}
			continue;
		}
		argv[k++] = buf_detach(&b);
	}
	argv[k] = NULL;
	return argv;
}

void sweep_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

char *sweep_path_expand(const char *path, long long trial)
{
	buf b = BUF_INIT;
	for (const char *p = path; *p;) {
		if (strncmp(p, "{trial}", 7) == 0) {
			buf_printf(&b, "%lld", trial);
			p += 7;
		} else {
			buf_putc(&b, *p++);
		}
	}
	return buf_detach(&b);
}

/* One member: "key": value (JSON scalars are YAML flow scalars too). */
static void member(buf *b, const char *key, const cairn_value *v, const char *sep)
{
	json_str(b, key);
	buf_puts(b, sep);
	if (v->type == CAIRN_TYPE_STRING)
		json_str(b, v->s ? v->s : "");
	else
		sweep_value_text(b, v);
}

void sweep_params_json(buf *b, const cairn_params *params)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < cairn_params_count(params); i++) {
		cairn_value v;
		const char *key = cairn_params_get(&v, params, i);
		if (i)
			buf_putc(b, ',');
		member(b, key, &v, ":");
	}
	buf_putc(b, '}');
}

int sweep_config_write(const char *path, const cairn_params *params)
{
	size_t n = strlen(path);
	bool as_json = n >= 5 && strcmp(path + n - 5, ".json") == 0;
	buf b = BUF_INIT;
	if (as_json)
		buf_putc(&b, '{');
	for (size_t k = 0; k < cairn_params_count(params); k++) {
		/* JSON scalars are YAML flow scalars too: one writer for both */
		cairn_value v;
		const char *key = cairn_params_get(&v, params, k);
		if (as_json && k)
			buf_putc(&b, ',');
		member(&b, key, &v, as_json ? ":" : ": ");
		if (!as_json)
			buf_putc(&b, '\n');
	}
	if (as_json)
		buf_puts(&b, "}\n");
	if (!buf_ok(&b)) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	char *tmp = malloc(n + 16);
	if (!tmp) {
		buf_free(&b);
		return -1;
	}
	snprintf(tmp, n + 16, "%s.tmp%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	int rc = -1;
	if (f) {
		bool ok = fwrite(b.ptr, 1, b.len, f) == b.len;
		ok = fclose(f) == 0 && ok;
		if (ok && rename(tmp, path) == 0)
			rc = 0;
		else
			unlink(tmp);
	}
	free(tmp);
	buf_free(&b);
	return rc;
}
