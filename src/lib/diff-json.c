/*
 * lib/diff-json.c — cairn_run_diff_json: a run diff (lib/diff.h) as the one
 * JSON object `cairn diff --json`, the HTTP API and the Python binding read
 * (shape in docs/cli/diff.md).  Values are written as run objects write
 * them (docs/internals/json.md): a param keeps its type (a non-finite float
 * param is {"$float": "NaN"}), a metric's NaN is the string "NaN", and an
 * environment member is its stored JSON.  Stateless.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diff.h"
#include "lib/store/record.h"
#include "util/json.h"

static void comma(buf *b, bool *first)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
}

static void put_value(buf *b, cairn_diff_section sec, const cairn_value *v, const char *js)
{
	if (js)
		buf_puts(b, js);
	else if (v->type == CAIRN_TYPE_NONE)
		buf_puts(b, "null");
	else if (sec == CAIRN_DIFF_PARAMS)
		record_json_param(b, v);
	else
		json_str(b, v->s); /* properties */
}

/* {"changed":[{K,a,b}],"added":[{K,value}],"removed":[{K,value}]} */
static void put_entries(buf *b, const cairn_run_diff *d, cairn_diff_section sec,
                        const char *keyname)
{
	static const cairn_diff_change order[] = {CAIRN_DIFF_CHANGED, CAIRN_DIFF_ADDED,
	                                          CAIRN_DIFF_REMOVED};
	static const char *const heads[] = {"{\"changed\":[", "],\"added\":[", "],\"removed\":["};
	/* environment files write their single value as "digest" */
	const char *single = sec == CAIRN_DIFF_ENV_FILES ? "digest" : "value";
	size_t n = cairn_run_diff_count(d, sec);
	for (int k = 0; k < 3; k++) {
		bool first = true;
		buf_puts(b, heads[k]);
		for (size_t i = 0; i < n; i++) {
			const cairn_diff_entry *e = cairn_run_diff_entry(d, sec, i);
			if (e->change != order[k])
				continue;
			comma(b, &first);
			buf_printf(b, "{\"%s\":", keyname);
			json_str(b, e->key);
			if (k == 0) {
				buf_puts(b, ",\"a\":");
				put_value(b, sec, &e->a, e->a_json);
				buf_puts(b, ",\"b\":");
				put_value(b, sec, &e->b, e->b_json);
			} else {
				buf_printf(b, ",\"%s\":", single);
				if (k == 1)
					put_value(b, sec, &e->b, e->b_json);
				else
					put_value(b, sec, &e->a, e->a_json);
			}
			buf_putc(b, '}');
		}
	}
	buf_puts(b, "]}");
}

static void put_opt_num(buf *b, double v)
{
	if (isnan(v))
		buf_puts(b, "null");
	else
		json_num(b, v);
}

static void put_metrics(buf *b, const cairn_run_diff *d)
{
	static const char *const heads[] = {"{\"changed\":[", "],\"added\":[", "],\"removed\":["};
	static const cairn_diff_change order[] = {CAIRN_DIFF_CHANGED, CAIRN_DIFF_ADDED,
	                                          CAIRN_DIFF_REMOVED};
	for (int k = 0; k < 3; k++) {
		bool first = true;
		buf_puts(b, heads[k]);
		for (size_t i = 0; i < cairn_run_diff_metric_count(d); i++) {
			const cairn_diff_metric *m = cairn_run_diff_metric(d, i);
			if (m->change != order[k])
				continue;
			comma(b, &first);
			buf_puts(b, "{\"key\":");
			json_str(b, m->key);
			if (k > 0) {
				buf_puts(b, ",\"value\":");
				json_num(b, k == 1 ? m->b : m->a);
				buf_putc(b, '}');
				continue;
			}
			buf_puts(b, ",\"a\":");
			json_num(b, m->a);
			buf_puts(b, ",\"b\":");
			json_num(b, m->b);
			buf_puts(b, ",\"change\":");
			put_opt_num(b, m->delta);
			buf_puts(b, ",\"relative\":");
			put_opt_num(b, m->relative);
			buf_puts(b, ",\"direction\":");
			buf_puts(b, m->direction > 0   ? "\"higher\""
			            : m->direction < 0 ? "\"lower\""
			                               : "null");
			buf_puts(b, ",\"better\":");
			buf_puts(b, m->better == 'a'   ? "\"a\""
			            : m->better == 'b' ? "\"b\""
			                               : "null");
			buf_putc(b, '}');
		}
	}
	buf_puts(b, "]}");
}

static void put_code_side(buf *b, const cairn_run_code *c)
{
	if (!c) {
		buf_puts(b, "null");
		return;
	}
	buf_puts(b, "{\"commit\":");
	json_str(b, c->commit);
	buf_puts(b, ",\"branch\":");
	json_str(b, c->branch);
	buf_puts(b, ",\"remote\":");
	json_str(b, c->remote);
	buf_puts(b, ",\"dirty\":");
	if (c->dirty < 0)
		buf_puts(b, "null");
	else
		json_bool(b, c->dirty != 0);
	buf_putc(b, '}');
}

static void put_code(buf *b, const cairn_run_diff *d)
{
	const cairn_diff_code *c = cairn_run_diff_code(d);
	buf_puts(b, "{\"same\":");
	json_bool(b, c->same);
	buf_puts(b, ",\"a\":");
	put_code_side(b, cairn_run_record_code(d->r[0]));
	buf_puts(b, ",\"b\":");
	put_code_side(b, cairn_run_record_code(d->r[1]));
	buf_puts(b, ",\"commit_changed\":");
	json_bool(b, c->commit_changed);
	buf_puts(b, ",\"branch_changed\":");
	json_bool(b, c->branch_changed);
	buf_puts(b, ",\"dirty_changed\":");
	json_bool(b, c->dirty_changed);
	buf_puts(b, ",\"snapshot_changed\":");
	json_bool(b, c->snapshot_changed);
	buf_puts(b, ",\"diff\":");
	json_str(b, c->diff);
	buf_putc(b, '}');
}

static void put_dataset(buf *b, const cairn_run_dataset *ds)
{
	if (!ds) {
		buf_puts(b, "null");
		return;
	}
	buf_puts(b, "{\"path\":");
	json_str(b, ds->path);
	buf_puts(b, ",\"role\":");
	json_str(b, ds->role);
	buf_puts(b, ",\"algo\":");
	json_str(b, ds->algo);
	buf_puts(b, ",\"digest\":");
	json_str(b, ds->digest);
	buf_puts(b, ",\"files\":");
	json_int(b, ds->files);
	buf_puts(b, ",\"bytes\":");
	json_int(b, ds->bytes);
	buf_putc(b, '}');
}

static void put_data(buf *b, const cairn_run_diff *d)
{
	static const char *const status[] = {"same", "changed", "added", "removed"};
	static const char *const heads[] = {"{\"added\":[", "],\"removed\":[", "],\"changed\":["};
	static const cairn_diff_change order[] = {CAIRN_DIFF_ADDED, CAIRN_DIFF_REMOVED,
	                                          CAIRN_DIFF_CHANGED};
	bool first = true;
	buf_puts(b, "{\"datasets\":[");
	for (size_t i = 0; i < cairn_run_diff_dataset_count(d); i++) {
		const cairn_diff_dataset *ds = cairn_run_diff_dataset(d, i);
		comma(b, &first);
		buf_puts(b, "{\"name\":");
		json_str(b, ds->name);
		buf_puts(b, ",\"status\":");
		json_str(b, status[ds->change]);
		buf_puts(b, ",\"same\":");
		json_bool(b, ds->change == CAIRN_DIFF_SAME);
		buf_puts(b, ",\"a\":");
		put_dataset(b, ds->a);
		buf_puts(b, ",\"b\":");
		put_dataset(b, ds->b);
		buf_puts(b, ",\"files\":");
		if (!ds->has_files) {
			buf_puts(b, "null}");
			continue;
		}
		for (int k = 0; k < 3; k++) {
			bool f1 = true;
			buf_puts(b, heads[k]);
			for (size_t j = 0; j < ds->nfiles; j++) {
				if (ds->files[j].change != order[k])
					continue;
				comma(b, &f1);
				json_str(b, ds->files[j].path);
			}
		}
		buf_puts(b, "]}}");
	}
	buf_puts(b, "],\"same\":");
	json_bool(b, d->data_same);
	buf_putc(b, '}');
}

static void put_env(buf *b, const cairn_run_diff *d)
{
	buf_puts(b, "{\"recorded\":{\"a\":");
	json_bool(b, d->env[0]);
	buf_puts(b, ",\"b\":");
	json_bool(b, d->env[1]);
	/* every member outside the three groups, changed or on one side only */
	buf_puts(b, "},\"changed\":[");
	bool first = true;
	for (size_t i = 0; i < cairn_run_diff_count(d, CAIRN_DIFF_ENV_DETAILS); i++) {
		const cairn_diff_entry *e = cairn_run_diff_entry(d, CAIRN_DIFF_ENV_DETAILS, i);
		comma(b, &first);
		buf_puts(b, "{\"key\":");
		json_str(b, e->key);
		buf_puts(b, ",\"a\":");
		put_value(b, CAIRN_DIFF_ENV_DETAILS, &e->a, e->a_json);
		buf_puts(b, ",\"b\":");
		put_value(b, CAIRN_DIFF_ENV_DETAILS, &e->b, e->b_json);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"packages\":");
	put_entries(b, d, CAIRN_DIFF_ENV_PACKAGES, "name");
	buf_puts(b, ",\"env_vars\":");
	put_entries(b, d, CAIRN_DIFF_ENV_VARS, "name");
	buf_puts(b, ",\"files\":");
	put_entries(b, d, CAIRN_DIFF_ENV_FILES, "path");
	buf_puts(b, ",\"same\":");
	json_bool(b, d->env_same);
	buf_putc(b, '}');
}

static void put_tags(buf *b, const cairn_run_diff *d)
{
	for (int pass = 0; pass < 2; pass++) {
		bool first = true;
		buf_puts(b, pass == 0 ? "{\"added\":[" : "],\"removed\":[");
		for (size_t i = 0; i < cairn_run_diff_count(d, CAIRN_DIFF_TAGS); i++) {
			const cairn_diff_entry *e = cairn_run_diff_entry(d, CAIRN_DIFF_TAGS, i);
			if (e->change != (pass == 0 ? CAIRN_DIFF_ADDED : CAIRN_DIFF_REMOVED))
				continue;
			comma(b, &first);
			json_str(b, e->key);
		}
	}
	buf_puts(b, "]}");
}

static void put_run_ref(buf *b, const cairn_run_record *r)
{
	buf_puts(b, "{\"id\":");
	json_str(b, cairn_run_record_id(r));
	buf_puts(b, ",\"name\":");
	json_str(b, cairn_run_record_name(r));
	buf_puts(b, ",\"project\":");
	json_str(b, cairn_run_record_project(r));
	buf_putc(b, '}');
}

int diff_json(const cairn_run_diff *d, buf *b)
{
	buf_puts(b, "{\"a\":");
	put_run_ref(b, d->r[0]);
	buf_puts(b, ",\"b\":");
	put_run_ref(b, d->r[1]);
	buf_puts(b, ",\"params\":");
	put_entries(b, d, CAIRN_DIFF_PARAMS, "key");
	buf_puts(b, ",\"metrics\":");
	put_metrics(b, d);
	buf_puts(b, ",\"code\":");
	put_code(b, d);
	buf_puts(b, ",\"data\":");
	put_data(b, d);
	buf_puts(b, ",\"environment\":");
	put_env(b, d);
	buf_puts(b, ",\"command\":{\"same\":");
	json_bool(b, d->command_same);
	buf_puts(b, ",\"a\":");
	json_str(b, cairn_run_record_command(d->r[0]));
	buf_puts(b, ",\"b\":");
	json_str(b, cairn_run_record_command(d->r[1]));
	buf_puts(b, "},\"tags\":");
	put_tags(b, d);
	buf_puts(b, ",\"properties\":");
	put_entries(b, d, CAIRN_DIFF_PROPERTIES, "key");
	buf_puts(b, ",\"identical\":");
	json_bool(b, d->identical);
	buf_putc(b, '}');
	return buf_ok(b) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_run_diff_json_opts(char **out, cairn_store *s, const char *a, const char *bid,
                             const cairn_diff_options *o)
{
	cairn_run_diff *d = NULL;
	buf b = BUF_INIT;
	*out = NULL;
	int rc = cairn_run_diff_new(&d, s, a, bid, o);
	if (rc == 0)
		rc = diff_json(d, &b);
	cairn_run_diff_free(d);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_run_diff_json(char **out, cairn_store *s, const char *a, const char *b)
{
	return cairn_run_diff_json_opts(out, s, a, b, NULL);
}
