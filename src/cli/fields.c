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
	cairn_field cf;
	memset(f, 0, sizeof *f);
	int rc = cairn_field_parse(&cf, text, pos);
	if (rc)
		return rc;
	snprintf(f->name, sizeof f->name, "%s", cf.name);
	snprintf(f->key, sizeof f->key, "%s", cf.key);
	f->kind = cf.kind;
	f->part = cf.part;
	cairn_field_free(&cf);
	return 0;
}

void rfield_make(rfield *f, cairn_field_kind kind, const char *key, int part)
{
	static const char *const mparts[] = {"", ".min", ".max", ".count", ".step"};
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->part = part;
	snprintf(f->key, sizeof f->key, "%s", key ? key : "");
	switch (kind) {
	case CAIRN_FIELD_METRIC:
		if (part < 0)
			f->part = CAIRN_METRIC_LAST;
		snprintf(f->name, sizeof f->name, "metrics.%s%s", key, mparts[f->part]);
		break;
	case CAIRN_FIELD_PARAM: snprintf(f->name, sizeof f->name, "params.%s", key); break;
	case CAIRN_FIELD_DATASET:
		if (part < 0)
			f->part = CAIRN_DATASET_DIGEST;
		snprintf(f->name, sizeof f->name, "datasets.%s", key);
		break;
	case CAIRN_FIELD_PROPERTY: snprintf(f->name, sizeof f->name, "properties.%s", key); break;
	default: snprintf(f->name, sizeof f->name, "%s", key); break;
	}
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

void rvalue_text(char *out, size_t n, const cairn_value *v, bool full)
{
	switch (v->type) {
	case CAIRN_TYPE_BOOL: snprintf(out, n, "%s", v->i ? "true" : "false"); break;
	case CAIRN_TYPE_INT: snprintf(out, n, "%lld", (long long)v->i); break;
	case CAIRN_TYPE_FLOAT:
		if (full && isfinite(v->f)) {
			char tmp[32];
			dtoa_shortest(tmp, v->f);
			snprintf(out, n, "%s", tmp);
		} else {
			cli_fmt_num(out, n, v->f);
		}
		break;
	case CAIRN_TYPE_STRING: snprintf(out, n, "%s", v->s ? v->s : ""); break;
	default: out[0] = '\0';
	}
}

static bool time_text(char *out, size_t n, double t, bool full)
{
	char tmp[32];
	if (t <= 0)
		return false;
	if (full)
		clock_format_iso(tmp, t);
	else
		clock_format_short(tmp, t);
	snprintf(out, n, "%s", tmp);
	return true;
}

/* A run's tags joined by ',': a bare tag as its key, a tag with a value as
 * key=value (as `cairn tag` takes and `show` prints them).  A tag that
 * holds a comma, a space or a quote (a value may, and stores written before
 * tags were checked for them) is shown in double quotes, a quote inside
 * doubled, so it cannot pass for several tags. */
/* reads / wrote: the paths, comma-separated (wrote: output datasets, then
 * the artifacts when the record holds them) */
static void files_text(const cairn_run_record *run, bool wrote, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < cairn_run_record_dataset_count(run); i++) {
		const cairn_run_dataset *d = cairn_run_record_dataset(run, i);
		if (strcmp(d->role, wrote ? "output" : "input") == 0 && o < n)
			o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : "", d->path);
	}
	for (size_t i = 0; wrote && i < cairn_run_record_artifact_count(run) && o < n; i++) {
		const cairn_run_artifact *a = cairn_run_record_artifact(run, i);
		if (!cairn_artifact_is_capture(a->kind))
			o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : "", a->path);
	}
}

static void tags_text(const cairn_run_record *run, char *out, size_t n)
{
	size_t o = 0, nt = cairn_run_record_tag_count(run);
	out[0] = '\0';
	for (size_t i = 0; i < nt; i++) {
		const char *tag = cairn_run_record_tag(run, i);
		const char *val = cairn_run_record_tag_value(run, i);
		bool q = strpbrk(tag, ", \"") != NULL || (val && strpbrk(val, ", \"") != NULL);
		char one[600];
		size_t k = 0;
		if (q)
			one[k++] = '"';
		for (int part = 0; part < 2; part++) {
			const char *c = part == 0 ? tag : val;
			if (!c)
				break;
			if (part == 1 && k + 3 < sizeof one)
				one[k++] = '=';
			for (; *c && k + 3 < sizeof one; c++) {
				if (*c == '"')
					one[k++] = '"';
				one[k++] = *c;
			}
		}
		if (q)
			one[k++] = '"';
		one[k] = '\0';
		int w = snprintf(out + o, n - o, "%s%s", i ? "," : "", one);
		if (w < 0 || (size_t)w >= n - o)
			break;
		o += (size_t)w;
	}
}

bool rfield_text(const cairn_run_record *run, const rfield *f, char *out, size_t n, bool full)
{
	cairn_field cf = {f->kind, (char *)f->name, (char *)f->key, f->part};
	cairn_value v;
	out[0] = '\0';
	if (cairn_run_record_field(&v, run, &cf) != 0)
		return false;
	if (f->kind == CAIRN_FIELD_TAG) {
		/* a bare tag is there or not; a key/value tag shows its value */
		snprintf(out, n, "%s", v.type == CAIRN_TYPE_STRING ? v.s : "yes");
		return true;
	}
	if (f->kind == CAIRN_FIELD_TAGS) {
		tags_text(run, out, n);
		return true;
	}
	if (f->kind == CAIRN_FIELD_FILES) {
		files_text(run, f->part == CAIRN_FILES_WROTE, out, n);
		return true;
	}
	if (f->kind == CAIRN_FIELD_ATTRIBUTE) {
		if (strcmp(f->key, "id") == 0) {
			snprintf(out, n, "%.*s", full ? 32 : 8, v.s);
			return true;
		}
		if (strcmp(f->key, "commit") == 0) {
			snprintf(out, n, "%.*s", full ? 64 : 10, v.s);
			return true;
		}
		if (strcmp(f->key, "started") == 0 || strcmp(f->key, "ended") == 0)
			return time_text(out, n, v.f, full);
		if (strcmp(f->key, "duration") == 0) {
			fmt_duration(out, n, v.f);
			return true;
		}
	}
	rvalue_text(out, n, &v, full);
	return true;
}

bool rfield_numeric(const rfield *f, const cairn_run_record *sample)
{
	switch (f->kind) {
	case CAIRN_FIELD_METRIC: return true;
	case CAIRN_FIELD_DATASET:
		return f->part == CAIRN_DATASET_FILES || f->part == CAIRN_DATASET_BYTES;
	case CAIRN_FIELD_ATTRIBUTE:
		return strcmp(f->key, "duration") == 0 || strcmp(f->key, "seq") == 0 ||
		       strcmp(f->key, "exit_code") == 0 || strcmp(f->key, "start_time") == 0 ||
		       strcmp(f->key, "end_time") == 0;
	case CAIRN_FIELD_PARAM: {
		cairn_value v;
		return sample && cairn_run_record_param_get(&v, sample, f->key) == 0 &&
		       (v.type == CAIRN_TYPE_INT || v.type == CAIRN_TYPE_FLOAT);
	}
	default: return false;
	}
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
