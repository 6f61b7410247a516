/*
 * lib/sweep/spec-json.c — a parsed sweep spec (spec.c) written back as
 * canonical JSON, every default filled in (what a sweep stores, so that
 * --resume and other drivers use exactly the same search), and the
 * accessors the CLI and the binding read it with.
 * The spec is read-only here; thread-safe as spec.c says.
 */
#include "lib/sweep/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static void num(buf *b, double v)
{
	char t[40];
	snprintf(t, sizeof t, "%.17g", v);
	buf_puts(b, t);
}

int cairn_sweep_spec_json(char **out, const cairn_sweep_spec *s)
{
	static const char *const dists[] = {"uniform", "log_uniform", "int_uniform"};
	buf b = BUF_INIT;
	bool first = true;
	buf_putc(&b, '{');
	json_key(&b, &first, "method");
	json_str(&b, cairn_sweep_method_name(s->method));
	json_key(&b, &first, "metric");
	buf_puts(&b, "{\"name\":");
	json_str(&b, s->metric);
	buf_puts(&b, s->goal == CAIRN_SWEEP_MAXIMIZE ? ",\"goal\":\"maximize\"}"
	                                             : ",\"goal\":\"minimize\"}");
	if (s->trials) {
		json_key(&b, &first, "trials");
		json_int(&b, s->trials);
	}
	json_key(&b, &first, "seed");
	json_int(&b, (int64_t)s->seed);
	json_key(&b, &first, "parallel");
	json_int(&b, s->parallel);
	const char *texts[][2] = {
	    {"name", s->name}, {"project", s->project}, {"description", s->description}};
	for (size_t i = 0; i < 3; i++)
		if (texts[i][1]) {
			json_key(&b, &first, texts[i][0]);
			json_str(&b, texts[i][1]);
		}
	if (s->early) {
		json_key(&b, &first, "early_terminate");
		buf_printf(&b, "{\"type\":\"median\",\"warmup_steps\":%lld,\"min_trials\":%lld}",
		           (long long)s->warmup_steps, (long long)s->min_trials);
	}
	json_key(&b, &first, "tpe");
	buf_printf(&b, "{\"startup_trials\":%lld,\"candidates\":%d,\"prior_weight\":",
	           (long long)s->startup_trials, s->candidates);
	num(&b, s->prior_weight);
	buf_putc(&b, '}');
	json_key(&b, &first, "parameters");
	buf_putc(&b, '{');
	for (size_t i = 0; i < s->nparams; i++) {
		const sweep_param *p = &s->params[i];
		if (i)
			buf_putc(&b, ',');
		json_str(&b, p->name);
		buf_putc(&b, ':');
		buf_putc(&b, '{');
		if (p->kind == CAIRN_PARAM_CATEGORICAL) {
			buf_puts(&b, "\"values\":[");
			for (size_t k = 0; k < p->nvalues; k++) {
				if (k)
					buf_putc(&b, ',');
				buf_puts(&b, p->values_json[k]);
			}
			buf_putc(&b, ']');
		} else {
			buf_puts(&b, "\"min\":");
			num(&b, p->lo);
			buf_puts(&b, ",\"max\":");
			num(&b, p->hi);
			buf_puts(&b, ",\"distribution\":");
			json_str(&b, dists[p->kind]);
			if (p->grid_points)
				buf_printf(&b, ",\"grid_points\":%lld", (long long)p->grid_points);
		}
		if (p->nconds) {
			buf_puts(&b, ",\"when\":{");
			for (size_t c = 0; c < p->nconds; c++) {
				const sweep_cond *cd = &p->conds[c];
				const sweep_param *on = &s->params[cd->param];
				if (c)
					buf_putc(&b, ',');
				json_str(&b, on->name);
				buf_puts(&b, ":[");
				for (size_t k = 0; k < cd->nx; k++) {
					if (k)
						buf_putc(&b, ',');
					if (on->kind == CAIRN_PARAM_CATEGORICAL)
						buf_puts(&b, on->values_json[(size_t)cd->x[k]]);
					else
						num(&b, cd->x[k]);
				}
				buf_putc(&b, ']');
			}
			buf_putc(&b, '}');
		}
		buf_putc(&b, '}');
	}
	buf_puts(&b, "}}");
	if (!buf_ok(&b)) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&b);
	return 0;
}

/* --- accessors ------------------------------------------------------------------------ */

const char *cairn_sweep_method_name(cairn_sweep_method m)
{
	switch (m) {
	case CAIRN_SWEEP_GRID: return "grid";
	case CAIRN_SWEEP_RANDOM: return "random";
	case CAIRN_SWEEP_TPE: return "tpe";
	}
	return "unknown";
}

cairn_sweep_method cairn_sweep_spec_method(const cairn_sweep_spec *s)
{
	return s->method;
}
const char *cairn_sweep_spec_metric(const cairn_sweep_spec *s)
{
	return s->metric;
}
cairn_sweep_goal cairn_sweep_spec_goal(const cairn_sweep_spec *s)
{
	return s->goal;
}
int64_t cairn_sweep_spec_trials(const cairn_sweep_spec *s)
{
	if (s->method == CAIRN_SWEEP_GRID)
		return s->trials && s->trials < s->grid_size ? s->trials : s->grid_size;
	return s->trials;
}
int cairn_sweep_spec_parallel(const cairn_sweep_spec *s)
{
	return s->parallel;
}
uint64_t cairn_sweep_spec_seed(const cairn_sweep_spec *s)
{
	return s->seed;
}
const char *cairn_sweep_spec_name(const cairn_sweep_spec *s)
{
	return s->name;
}
const char *cairn_sweep_spec_project(const cairn_sweep_spec *s)
{
	return s->project;
}
size_t cairn_sweep_spec_nparams(const cairn_sweep_spec *s)
{
	return s->nparams;
}
const char *cairn_sweep_spec_param_name(const cairn_sweep_spec *s, size_t i)
{
	return i < s->nparams ? s->params[i].name : NULL;
}
cairn_param_kind cairn_sweep_spec_param_kind(const cairn_sweep_spec *s, size_t i)
{
	return i < s->nparams ? s->params[i].kind : CAIRN_PARAM_CATEGORICAL;
}
int cairn_sweep_spec_param_index(const cairn_sweep_spec *s, const char *name)
{
	for (size_t i = 0; i < s->nparams; i++)
		if (strcmp(s->params[i].name, name) == 0)
			return (int)i;
	return -1;
}
int cairn_sweep_spec_early_stop(const cairn_sweep_spec *s)
{
	return s->early;
}
int cairn_sweep_spec_set_trials(cairn_sweep_spec *s, int64_t trials)
{
	if (trials < 1 || trials > CAIRN_SWEEP_TRIALS_MAX)
		return err_set(CAIRN_EINVALID, "trials must be 1 to %d, got %lld",
		               CAIRN_SWEEP_TRIALS_MAX, (long long)trials);
	s->trials = trials;
	return 0;
}
void cairn_sweep_spec_set_seed(cairn_sweep_spec *s, uint64_t seed)
{
	s->seed = seed;
}
