/*
 * cli/fields.c — see fields.h.
 */
#include "cli/fields.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/clock.h"
#include "util/dtoa.h"

int rfield_parse(rfield *f, const char *text, size_t *pos)
{
	char *out = NULL;
	size_t p = 0;
	int rc = cairn_query_field_json(&out, text, &p);
	if (pos)
		*pos = p;
	if (rc)
		return rc;
	char err[64];
	json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
	memset(f, 0, sizeof *f);
	if (d) {
		const json *r = json_root(d);
		const char *v;
		if ((v = json_get_str(r, "field")))
			snprintf(f->name, sizeof f->name, "%s", v);
		if ((v = json_get_str(r, "kind")))
			snprintf(f->kind, sizeof f->kind, "%s", v);
		if ((v = json_get_str(r, "key")))
			snprintf(f->key, sizeof f->key, "%s", v);
		if ((v = json_get_str(r, "part")))
			snprintf(f->part, sizeof f->part, "%s", v);
	}
	json_doc_free(d);
	cairn_free(out);
	return 0;
}

void rfield_make(rfield *f, const char *kind, const char *key, const char *part)
{
	memset(f, 0, sizeof *f);
	snprintf(f->kind, sizeof f->kind, "%s", kind);
	snprintf(f->key, sizeof f->key, "%s", key ? key : "");
	snprintf(f->part, sizeof f->part, "%s", part ? part : "");
	if (strcmp(kind, "metric") == 0)
		snprintf(f->name, sizeof f->name, "metrics.%s%s%s", key,
		         part && strcmp(part, "last") ? "." : "",
		         part && strcmp(part, "last") ? part : "");
	else if (strcmp(kind, "param") == 0)
		snprintf(f->name, sizeof f->name, "params.%s", key);
	else if (strcmp(kind, "dataset") == 0)
		snprintf(f->name, sizeof f->name, "datasets.%s", key);
	else if (strcmp(kind, "property") == 0)
		snprintf(f->name, sizeof f->name, "properties.%s", key);
	else
		snprintf(f->name, sizeof f->name, "%s", key);
}

void fmt_duration(char *out, size_t n, double secs)
{
	if (secs < 0)
		secs = 0;
	long s = (long)secs;
	if (s < 60)
		snprintf(out, n, "%.1fs", secs);
	else if (s < 3600)
		snprintf(out, n, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400 * 3)
		snprintf(out, n, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(out, n, "%ldd%02ldh", s / 86400, (s % 86400) / 3600);
}

static void num_text(char *out, size_t n, const json *v, bool full)
{
	double d = NAN;
	if (v->type == JSON_NUM && v->is_int) {
		snprintf(out, n, "%lld", (long long)v->i);
		return;
	}
	json_num_value(v, &d);
	if (full && isfinite(d)) {
		char tmp[32];
		dtoa_shortest(tmp, d);
		snprintf(out, n, "%s", tmp);
	} else {
		cli_fmt_num(out, n, d);
	}
}

static bool value_text(char *out, size_t n, const json *v, bool full)
{
	double d;
	if (!v || v->type == JSON_NULL) {
		out[0] = '\0';
		return false;
	}
	switch (v->type) {
	case JSON_BOOL: snprintf(out, n, "%s", v->b ? "true" : "false"); break;
	case JSON_NUM: num_text(out, n, v, full); break;
	case JSON_STR:
		if (json_num_value(v, &d))
			cli_fmt_num(out, n, d);
		else
			snprintf(out, n, "%s", v->str);
		break;
	default: snprintf(out, n, "…"); break;
	}
	return true;
}

static bool time_text(char *out, size_t n, const json *run, const char *key, bool full)
{
	double t;
	if (!json_get_num(run, key, &t) || t <= 0) {
		out[0] = '\0';
		return false;
	}
	char tmp[32];
	if (full)
		clock_format_iso(tmp, t);
	else
		clock_format_short(tmp, t);
	snprintf(out, n, "%s", tmp);
	return true;
}

static bool attr_text(const json *run, const char *a, char *out, size_t n, bool full)
{
	const json *code = json_get(run, "code");
	bool hascode = code && code->type == JSON_OBJ;
	out[0] = '\0';
	if (strcmp(a, "id") == 0) {
		snprintf(out, n, "%.*s", full ? 32 : 8, json_get_str(run, "id"));
		return true;
	}
	if (strcmp(a, "started") == 0)
		return time_text(out, n, run, "start_time", full);
	if (strcmp(a, "ended") == 0)
		return time_text(out, n, run, "end_time", full);
	if (strcmp(a, "duration") == 0) {
		double st = 0, en = 0;
		json_get_num(run, "start_time", &st);
		const char *status = json_get_str(run, "status");
		if (json_get_num(run, "end_time", &en) && en > 0)
			fmt_duration(out, n, en - st);
		else if (status && strcmp(status, "running") == 0)
			fmt_duration(out, n, clock_now() - st);
		else
			return false;
		return true;
	}
	if (strcmp(a, "start_time") == 0 || strcmp(a, "end_time") == 0) {
		double t;
		if (!json_get_num(run, a, &t))
			return false;
		snprintf(out, n, "%lld", (long long)(t * 1000));
		return true;
	}
	if (strcmp(a, "commit") == 0 || strcmp(a, "branch") == 0 || strcmp(a, "remote") == 0 ||
	    strcmp(a, "dirty") == 0) {
		if (!hascode)
			return false;
		const json *v = json_get(code, a);
		if (strcmp(a, "commit") == 0 && v && v->type == JSON_STR) {
			snprintf(out, n, "%.*s", full ? 64 : 10, v->str);
			return true;
		}
		return value_text(out, n, v, full);
	}
	if (strcmp(a, "exit_code") == 0 || strcmp(a, "seq") == 0)
		return value_text(out, n, json_get(run, a), full);
	const char *s = json_get_str(run, a);
	if (!s)
		return false;
	snprintf(out, n, "%s", s);
	return true;
}

bool rfield_text(const json *run, const rfield *f, char *out, size_t n, bool full)
{
	out[0] = '\0';
	if (strcmp(f->kind, "metric") == 0) {
		const json *m = json_get(json_get(run, "metrics"), f->key);
		if (!m)
			return false;
		const json *v = json_get(m, f->part[0] ? f->part : "last");
		if (v && v->type == JSON_NULL) {
			snprintf(out, n, "nan"); /* min/max of an all-NaN series */
			return true;
		}
		return value_text(out, n, v, full);
	}
	if (strcmp(f->kind, "param") == 0)
		return value_text(out, n, json_get(json_get(run, "params"), f->key), full);
	if (strcmp(f->kind, "property") == 0)
		return value_text(out, n, json_get(json_get(run, "properties"), f->key), full);
	if (strcmp(f->kind, "tag") == 0 || strcmp(f->kind, "tags") == 0) {
		const json *tags = json_get(run, "tags");
		size_t o = 0;
		for (const json *t = tags ? tags->child : NULL; t; t = t->next) {
			if (f->kind[3] == '\0') {
				if (strcmp(t->str, f->key) == 0) {
					snprintf(out, n, "yes");
					return true;
				}
				continue;
			}
			if (o < n)
				o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : "", t->str);
		}
		return o > 0;
	}
	if (strcmp(f->kind, "dataset") == 0) {
		const json *ds = json_get(run, "datasets");
		for (const json *d = ds ? ds->child : NULL; d; d = d->next) {
			const char *name = json_get_str(d, "name");
			if (name && strcmp(name, f->key) == 0)
				return value_text(
				    out, n, json_get(d, f->part[0] ? f->part : "digest"), full);
		}
		return false;
	}
	return attr_text(run, f->key, out, n, full);
}

bool rfield_numeric(const rfield *f, const json *sample)
{
	if (strcmp(f->kind, "metric") == 0)
		return true;
	if (strcmp(f->kind, "dataset") == 0)
		return strcmp(f->part, "files") == 0 || strcmp(f->part, "bytes") == 0;
	if (strcmp(f->kind, "attribute") == 0)
		return strcmp(f->key, "duration") == 0 || strcmp(f->key, "seq") == 0 ||
		       strcmp(f->key, "exit_code") == 0 || strcmp(f->key, "start_time") == 0 ||
		       strcmp(f->key, "end_time") == 0;
	if (strcmp(f->kind, "param") == 0 && sample) {
		const json *v = json_get(json_get(sample, "params"), f->key);
		return v && v->type == JSON_NUM;
	}
	return false;
}

int cli_caret_error(const char *text, size_t pos)
{
	fprintf(stderr, "error: %s\n", cairn_error_last());
	size_t len = strlen(text);
	if (pos > len)
		pos = len;
	size_t ls = pos, le = pos;
	while (ls > 0 && text[ls - 1] != '\n')
		ls--;
	while (le < len && text[le] != '\n')
		le++;
	fputs("  ", stderr);
	for (size_t i = ls; i < le; i++)
		fputc(text[i] == '\t' || (unsigned char)text[i] < 0x20 ? ' ' : text[i], stderr);
	fputs("\n  ", stderr);
	for (size_t i = ls; i < pos; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			fputc(' ', stderr);
	fputs("^\n", stderr);
	return EXIT_USAGE;
}
