/*
 * lib/store/record-json.c — the one writer of run objects: a record
 * (lib/store/record.h) as the JSON object that cairn show --json, cairn ls
 * --format json, the HTTP API and the Python binding read.  The shape is in
 * docs/internals/json.md; every path that prints a run goes through
 * record_json, so the shape changes in one place.
 *
 * Numbers: a metric value is always a float, so a non-finite one is written
 * as the string "NaN", "Infinity" or "-Infinity" (MLflow's convention); min
 * and max are null when every point was NaN.  A param is dynamically typed,
 * so a string would be ambiguous there: a non-finite float param is written
 * as the object {"$float": "NaN" | "Infinity" | "-Infinity"}, which no other
 * param value can be, and a finite float keeps its decimal point ("1.0"), so
 * int, float, bool and string survive the round trip.
 *
 * This is the hot path of a query page (100 runs: well under a millisecond):
 * no printf, keys written as literals, and a metric's min/max reuse the
 * text of its last value when equal.  Stateless; thread-safe per record.
 */
#include <math.h>
#include <string.h>

#include "lib/store/record.h"
#include "util/json.h"

#define LIT(b, s) buf_add((b), (s), sizeof(s) - 1)

/* ms / 1000.0 as json_num writes it, without the double: for 0 <= ms <
 * 1e15 the decimal has at most 15 significant digits, so (DBL_DIG) it is
 * the shortest text that reads back as that double. */
static void put_millis(buf *b, int64_t ms)
{
	if (ms < 0 || ms >= 1000000000000000LL || ms % 1000 == 0) {
		json_num(b, (double)ms / 1000.0);
		return;
	}
	char frac[4] = {(char)('0' + ms % 1000 / 100), (char)('0' + ms % 100 / 10),
	                (char)('0' + ms % 10), 0};
	int n = 3;
	while (frac[n - 1] == '0')
		n--;
	json_int(b, ms / 1000);
	buf_putc(b, '.');
	buf_add(b, frac, (size_t)n);
}

static void put_opt_num(buf *b, bool has, double v)
{
	if (has)
		json_num(b, v);
	else
		LIT(b, "null");
}

/* A param value with its type visible in the JSON (see the header). */
void record_json_param(buf *b, const cairn_value *v)
{
	switch (v->type) {
	case CAIRN_TYPE_INT: json_int(b, v->i); break;
	case CAIRN_TYPE_BOOL: json_bool(b, v->i != 0); break;
	case CAIRN_TYPE_FLOAT: {
		double d = v->f;
		if (!isfinite(d)) {
			LIT(b, "{\"$float\":");
			json_num(b, d); /* "NaN", "Infinity", "-Infinity" */
			buf_putc(b, '}');
			break;
		}
		size_t before = b->len;
		json_num(b, d);
		if (!memchr(b->ptr + before, '.', b->len - before) &&
		    !memchr(b->ptr + before, 'e', b->len - before))
			LIT(b, ".0");
		break;
	}
	case CAIRN_TYPE_STRING: json_str(b, v->s); break;
	default: LIT(b, "null");
	}
}

/* A tag as "key", or "key=value" when it has a value: the text `cairn tag`
 * takes, so a tags array reads and round-trips the same everywhere. */
static void put_tag(buf *b, const rec_prop *t)
{
	if (!t->value) {
		json_str(b, t->key);
		return;
	}
	buf tmp = BUF_INIT;
	buf_puts(&tmp, t->key);
	buf_putc(&tmp, '=');
	buf_puts(&tmp, t->value);
	if (buf_ok(&tmp))
		json_strn(b, tmp.ptr, tmp.len);
	else
		b->oom = true;
	buf_free(&tmp);
}

static void put_metric(buf *b, const rec_metric *m)
{
	LIT(b, "{\"last\":");
	size_t at = b->len;
	json_num(b, m->m.last);
	char text[40];
	size_t tlen = b->len - at < sizeof text ? b->len - at : 0;
	memcpy(text, b->ptr + at, tlen); /* a copy: appending may move b->ptr */
	for (int c = 0; c < 2; c++) {
		bool null = c ? m->max_null : m->min_null;
		double v = c ? m->m.max : m->m.min;
		if (c)
			LIT(b, ",\"max\":");
		else
			LIT(b, ",\"min\":");
		if (null)
			LIT(b, "null");
		else if (tlen && v == m->m.last)
			buf_add(b, text, tlen);
		else
			json_num(b, v);
	}
	LIT(b, ",\"count\":");
	json_int(b, m->m.count);
	LIT(b, ",\"step\":");
	json_int(b, m->m.step);
	LIT(b, ",\"timestamp\":");
	put_millis(b, m->ts_ms);
	buf_putc(b, '}');
}

static void put_code(buf *b, const cairn_run_record *r)
{
	if (!r->has_code) {
		LIT(b, "null");
		return;
	}
	LIT(b, "{\"commit\":");
	json_str(b, r->code.commit);
	LIT(b, ",\"branch\":");
	json_str(b, r->code.branch);
	LIT(b, ",\"remote\":");
	json_str(b, r->code.remote);
	LIT(b, ",\"dirty\":");
	if (r->code.dirty < 0)
		LIT(b, "null");
	else
		json_bool(b, r->code.dirty != 0);
	LIT(b, ",\"snapshot\":");
	json_str(b, r->code.snapshot);
	buf_putc(b, '}');
}

static void put_dataset(buf *b, const cairn_run_dataset *d)
{
	LIT(b, "{\"name\":");
	json_str(b, d->name);
	LIT(b, ",\"path\":");
	json_str(b, d->path);
	LIT(b, ",\"role\":");
	json_str(b, d->role);
	LIT(b, ",\"algo\":");
	json_str(b, d->algo);
	LIT(b, ",\"digest\":");
	json_str(b, d->digest);
	LIT(b, ",\"files\":");
	json_int(b, d->files);
	LIT(b, ",\"bytes\":");
	json_int(b, d->bytes);
	LIT(b, ",\"manifest\":");
	json_str(b, d->manifest);
	buf_putc(b, '}');
}

static void put_artifact(buf *b, const cairn_run_artifact *a)
{
	LIT(b, "{\"path\":");
	json_str(b, a->path);
	LIT(b, ",\"digest\":");
	json_str(b, a->digest);
	LIT(b, ",\"size\":");
	json_int(b, a->size);
	LIT(b, ",\"media_type\":");
	json_str(b, a->media_type);
	LIT(b, ",\"kind\":");
	json_str(b, a->kind);
	LIT(b, ",\"key\":");
	json_str(b, a->key);
	LIT(b, ",\"step\":");
	if (a->step == CAIRN_STEP_AUTO)
		LIT(b, "null");
	else
		json_int(b, a->step);
	buf_putc(b, '}');
}

/* The members of a run object, in order. */
enum {
	M_ID,
	M_SEQ,
	M_NAME,
	M_PROJECT,
	M_STATUS,
	M_START,
	M_END,
	M_HEARTBEAT,
	M_EXIT,
	M_COMMAND,
	M_CWD,
	M_HOST,
	M_USER,
	M_NOTE,
	M_PARENT,
	M_CHILDREN,
	M_PID,
	M_DELETED,
	M_CODE,
	M_ENV,
	M_PARAMS,
	M_METRICS,
	M_TAGS,
	M_PROPS,
	M_DATA,
	M_ARTS,
	M_COUNT_
};

static const char *const member_name[M_COUNT_] = {
    "id",        "seq",       "name",       "project",  "status",   "start_time",  "end_time",
    "heartbeat", "exit_code", "command",    "cwd",      "host",     "user",        "note",
    "parent",    "children",  "pid",        "deleted",  "code",     "environment", "params",
    "metrics",   "tags",      "properties", "datasets", "artifacts"};

/* Each member's key as the whole object writes it, after the member before
 * (the first opens the object), and its length. */
#define MK(s)                                                                                      \
	{                                                                                          \
		",\"" s "\":", sizeof(",\"" s "\":") - 1                                           \
	}
static const struct {
	const char *s;
	size_t n;
} member_key[M_COUNT_] = {{"{\"id\":", 6}, MK("seq"),        MK("name"),     MK("project"),
                          MK("status"),    MK("start_time"), MK("end_time"), MK("heartbeat"),
                          MK("exit_code"), MK("command"),    MK("cwd"),      MK("host"),
                          MK("user"),      MK("note"),       MK("parent"),   MK("children"),
                          MK("pid"),       MK("deleted"),    MK("code"),     MK("environment"),
                          MK("params"),    MK("metrics"),    MK("tags"),     MK("properties"),
                          MK("datasets"),  MK("artifacts")};
#undef MK

static void put_params(buf *b, const cairn_run_record *r)
{
	buf_putc(b, '{');
	bool first = true;
	for (size_t i = 0; i < r->nparams; i++) {
		if (!first)
			buf_putc(b, ',');
		first = false;
		json_str(b, r->params[i].key);
		buf_putc(b, ':');
		record_json_param(b, &r->params[i].v);
	}
	buf_putc(b, '}');
}

static void put_member(buf *b, const cairn_run_record *r, int m)
{
	switch (m) {
	case M_ID: json_str(b, r->id); break;
	case M_SEQ: json_int(b, r->seq); break;
	case M_NAME: json_str(b, r->name); break;
	case M_PROJECT: json_str(b, r->project); break;
	case M_STATUS: json_str(b, cairn_status_name(r->status)); break;
	case M_START: put_opt_num(b, r->has_start, r->start_time); break;
	case M_END: put_opt_num(b, r->has_end, r->end_time); break;
	case M_HEARTBEAT: put_opt_num(b, r->has_heartbeat, r->heartbeat); break;
	case M_EXIT:
		if (r->has_exit_code)
			json_int(b, r->exit_code);
		else
			LIT(b, "null");
		break;
	case M_COMMAND: json_str(b, r->command); break;
	case M_CWD: json_str(b, r->cwd); break;
	case M_HOST: json_str(b, r->host); break;
	case M_USER: json_str(b, r->user); break;
	case M_NOTE: json_str(b, r->note); break;
	case M_PARENT: json_str(b, r->parent); break;
	case M_CHILDREN: json_int(b, r->children); break;
	case M_PID: json_int(b, r->pid); break;
	case M_DELETED: json_bool(b, r->deleted); break;
	case M_CODE: put_code(b, r); break;
	case M_ENV: {
		const char *env = record_env(r);
		if (env && *env)
			buf_puts(b, env);
		else
			LIT(b, "null");
		break;
	}
	case M_PARAMS: put_params(b, r); break;
	case M_METRICS:
		buf_putc(b, '{');
		for (size_t i = 0; i < r->nmetrics; i++) {
			if (i)
				buf_putc(b, ',');
			json_str(b, r->metrics[i].m.key);
			buf_putc(b, ':');
			put_metric(b, &r->metrics[i]);
		}
		buf_putc(b, '}');
		break;
	case M_TAGS:
		buf_putc(b, '[');
		for (size_t i = 0; i < r->ntags; i++) {
			if (i)
				buf_putc(b, ',');
			put_tag(b, &r->tags[i]);
		}
		buf_putc(b, ']');
		break;
	case M_PROPS:
		buf_putc(b, '{');
		for (size_t i = 0; i < r->nprops; i++) {
			if (i)
				buf_putc(b, ',');
			json_str(b, r->props[i].key);
			buf_putc(b, ':');
			json_str(b, r->props[i].value);
		}
		buf_putc(b, '}');
		break;
	case M_DATA:
		buf_putc(b, '[');
		for (size_t i = 0; i < r->ndatasets; i++) {
			if (i)
				buf_putc(b, ',');
			put_dataset(b, &r->datasets[i]);
		}
		buf_putc(b, ']');
		break;
	case M_ARTS:
		buf_putc(b, '[');
		for (size_t i = 0; i < r->nartifacts; i++) {
			if (i)
				buf_putc(b, ',');
			put_artifact(b, &r->artifacts[i]);
		}
		buf_putc(b, ']');
		break;
	}
}

static bool wants(const char *const *cols, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(cols[i], name) == 0)
			return true;
	return false;
}

/* The keys of one map that the columns name ("params.lr"), in column order. */
static void put_map_columns(buf *b, bool *first, const cairn_run_record *r, int m,
                            const char *const *cols, size_t n)
{
	const char *prefix = member_name[m];
	size_t pl = strlen(prefix);
	bool open = false;
	for (size_t i = 0; i < n; i++) {
		const char *c = cols[i];
		if (strncmp(c, prefix, pl) != 0 || c[pl] != '.' || !c[pl + 1])
			continue;
		const char *key = c + pl + 1;
		const rec_param *p = NULL;
		const rec_metric *ms = NULL;
		const rec_prop *pv = NULL;
		if (m == M_PARAMS && !(p = record_param_find(r, key)))
			continue;
		if (m == M_METRICS && !(ms = record_metric_find(r, key)))
			continue;
		if (m == M_PROPS && !(pv = record_prop_find(r, key)))
			continue;
		if (!open) {
			json_key(b, first, prefix);
			buf_putc(b, '{');
			open = true;
		} else {
			buf_putc(b, ',');
		}
		json_str(b, key);
		buf_putc(b, ':');
		if (p)
			record_json_param(b, &p->v);
		else if (ms)
			put_metric(b, ms);
		else
			json_str(b, pv->value);
	}
	if (open)
		buf_putc(b, '}');
}

void record_json(buf *b, const cairn_run_record *r, const char *const *cols, size_t ncols)
{
	int last = r->with_artifacts ? M_ARTS : M_DATA;
	if (ncols == 0) {
		/* the whole object: keys are literals, no escaping to do */
		size_t end_at = 0, end_len = 0;
		for (int m = 0; m <= last; m++) {
			buf_add(b, member_key[m].s, member_key[m].n);
			if (m == M_HEARTBEAT && end_len && r->has_heartbeat &&
			    r->heartbeat == r->end_time) {
				/* a finished run's last heartbeat is its end: the same
				 * text, without formatting the double again (the
				 * copy through tmp: appending may move b->ptr) */
				char tmp[40];
				memcpy(tmp, b->ptr + end_at, end_len);
				buf_add(b, tmp, end_len);
				continue;
			}
			size_t at = b->len;
			put_member(b, r, m);
			if (m == M_END && r->has_end && b->len - at < 40) {
				end_at = at;
				end_len = b->len - at;
			}
		}
		buf_putc(b, '}');
		return;
	}
	bool first = true;
	buf_putc(b, '{');
	for (int m = 0; m <= last; m++) {
		if (m == M_ID || wants(cols, ncols, member_name[m])) {
			json_key(b, &first, member_name[m]);
			put_member(b, r, m);
		} else if (m == M_PARAMS || m == M_METRICS || m == M_PROPS) {
			put_map_columns(b, &first, r, m, cols, ncols);
		}
	}
	buf_putc(b, '}');
}

size_t record_json_size(const cairn_run_record *r)
{
	/* a metric is ~200 bytes, a param ~40 */
	return 768 + 48 * r->nparams + 224 * r->nmetrics + 32 * r->ntags + 64 * r->nprops +
	       320 * r->ndatasets;
}

int cairn_run_record_json(char **out, const cairn_run_record *r, const char *const *columns,
                          size_t ncolumns)
{
	buf b = BUF_INIT;
	*out = NULL;
	if (!r)
		return err_set(CAIRN_EINVALID, "no record");
	/* the whole object's size up front: grown from nothing it was six
	 * reallocations and copies */
	if (ncolumns == 0)
		buf_grow(&b, record_json_size(r));
	record_json(&b, r, columns, ncolumns);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
