/*
 * lib/store/sqlite/records.c — run objects as JSON: one run
 * (store_run_json) and many at once (the page of a query), read from the
 * SQLite store.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/query.h"
#include "lib/store/sqlite/sqlite.h"
#include "util/json.h"

/* What writing run objects needs to know about the store. */
typedef struct rctx {
	cairn_store *s;
	double stale; /* running runs whose heartbeat is older than stale are crashed */
} rctx;

static int prep(cairn_store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store_sqlerr(s, "prepare the query");
	}
	return 0;
}

/* --- reading: one run as JSON ---------------------------------------------- */

void store_json_value(buf *b, sqlite3_stmt *st, int col, int type)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL: buf_puts(b, type == CAIRN_TYPE_FLOAT ? "\"NaN\"" : "null"); break;
	case SQLITE_INTEGER:
		if (type == CAIRN_TYPE_BOOL)
			json_bool(b, sqlite3_column_int64(st, col) != 0);
		else if (type == CAIRN_TYPE_FLOAT)
			buf_printf(b, "%lld.0", (long long)sqlite3_column_int64(st, col));
		else
			json_int(b, sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(st, col);
		size_t before = b->len;
		json_num(b, d);
		/* keep a float param recognisable as float in JSON ("1.0", not "1") */
		if (type == CAIRN_TYPE_FLOAT && isfinite(d) &&
		    !memchr(b->ptr + before, '.', b->len - before) &&
		    !memchr(b->ptr + before, 'e', b->len - before))
			buf_puts(b, ".0");
		break;
	}
	default: json_str(b, (const char *)sqlite3_column_text(st, col));
	}
}

void store_json_double(buf *b, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		buf_puts(b, "null");
	else
		json_num(b, sqlite3_column_double(st, col));
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* Embed a stored JSON object verbatim (env records, code manifests). */
static void put_object_json(cairn_store *s, buf *b, const char *oid)
{
	void *data = NULL;
	size_t len = 0;
	if (oid && cairn_object_read(&data, &len, s, oid, 64 << 20) == 0 && len > 0) {
		buf_add(b, data, len);
	} else {
		buf_puts(b, "null");
	}
	free(data);
}

/* Each row of st as an object {names[i]: column i}, typed by the column. */
static void put_rows(buf *b, sqlite3_stmt *st, const char *const *names, int n)
{
	bool first = true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		bool f = true;
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_putc(b, '{');
		for (int i = 0; i < n; i++) {
			json_key(b, &f, names[i]);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL: buf_puts(b, "null"); break;
			case SQLITE_INTEGER: json_int(b, sqlite3_column_int64(st, i)); break;
			case SQLITE_FLOAT: json_num(b, sqlite3_column_double(st, i)); break;
			default: json_str(b, col_text(st, i)); break;
			}
		}
		buf_putc(b, '}');
	}
}

/* A cached statement with the run id bound to its first parameter. */
static sqlite3_stmt *prep_rid(cairn_store *s, const char *sql, int64_t rid)
{
	sqlite3_stmt *st = store_prep(s, sql);
	if (st)
		sqlite3_bind_int64(st, 1, rid);
	return st;
}

/* Query results build the same objects in batches (runs_json_batch in
 * store-query.c): change both together; tests/unit/test-query.c compares them. */
int sqlite_run_json(cairn_store *s, int64_t rid, bool with_artifacts, buf *b)
{
	int rc = 0;
	bool first = true;
	char env_oid[65] = "", code_oid[65] = "";
	store_lock(s);
	sqlite3_stmt *st = store_prep(
	    s,
	    "SELECT r.id, r.seq, r.name, p.name, r.status, r.start_time, r.end_time, r.heartbeat,"
	    " r.exit_code, r.command, r.cwd, r.host, r.user, r.note, r.git_commit, r.git_branch,"
	    " r.git_remote, r.git_dirty, r.code_oid, r.env_oid, (SELECT id FROM runs q WHERE"
	    " q.rid = r.parent_rid), r.pid, r.deleted"
	    " FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.rid = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		rc = err_set(CAIRN_ENOTFOUND, "run not found");
		goto done;
	}
	int status = sqlite3_column_int(st, 4);
	if (status == CAIRN_STATUS_RUNNING && sqlite3_column_type(st, 7) != SQLITE_NULL &&
	    sqlite3_column_double(st, 7) < store_now(s) - s->stale_after)
		status = CAIRN_STATUS_CRASHED;
	buf_putc(b, '{');
	json_key(b, &first, "id");
	json_str(b, col_text(st, 0));
	json_key(b, &first, "seq");
	json_int(b, sqlite3_column_int64(st, 1));
	json_key(b, &first, "name");
	json_str(b, col_text(st, 2));
	json_key(b, &first, "project");
	json_str(b, col_text(st, 3));
	json_key(b, &first, "status");
	json_str(b, cairn_status_name((cairn_status)status));
	json_key(b, &first, "start_time");
	store_json_double(b, st, 5);
	json_key(b, &first, "end_time");
	store_json_double(b, st, 6);
	json_key(b, &first, "heartbeat");
	store_json_double(b, st, 7);
	json_key(b, &first, "exit_code");
	if (sqlite3_column_type(st, 8) == SQLITE_NULL)
		buf_puts(b, "null");
	else
		json_int(b, sqlite3_column_int64(st, 8));
	static const char *const textcols[][2] = {
	    {"command", NULL}, {"cwd", NULL}, {"host", NULL}, {"user", NULL}, {"note", NULL}};
	for (int i = 0; i < 5; i++) {
		json_key(b, &first, textcols[i][0]);
		const char *t = col_text(st, 9 + i);
		json_str(b, t ? t : (i == 4 ? "" : NULL));
	}
	json_key(b, &first, "parent");
	json_str(b, col_text(st, 20));
	json_key(b, &first, "pid");
	json_int(b, sqlite3_column_int64(st, 21));
	json_key(b, &first, "deleted");
	json_bool(b, sqlite3_column_int(st, 22) != 0);
	json_key(b, &first, "code");
	if (sqlite3_column_type(st, 14) == SQLITE_NULL &&
	    sqlite3_column_type(st, 18) == SQLITE_NULL) {
		buf_puts(b, "null");
	} else {
		bool f2 = true;
		buf_putc(b, '{');
		json_key(b, &f2, "commit");
		json_str(b, col_text(st, 14));
		json_key(b, &f2, "branch");
		json_str(b, col_text(st, 15));
		json_key(b, &f2, "remote");
		json_str(b, col_text(st, 16));
		json_key(b, &f2, "dirty");
		if (sqlite3_column_type(st, 17) == SQLITE_NULL)
			buf_puts(b, "null");
		else
			json_bool(b, sqlite3_column_int(st, 17) != 0);
		json_key(b, &f2, "snapshot");
		json_str(b, col_text(st, 18));
		buf_putc(b, '}');
	}
	if (col_text(st, 18))
		snprintf(code_oid, sizeof code_oid, "%s", col_text(st, 18));
	if (col_text(st, 19))
		snprintf(env_oid, sizeof env_oid, "%s", col_text(st, 19));
	sqlite3_reset(st);

	json_key(b, &first, "environment");
	put_object_json(s, b, env_oid[0] ? env_oid : NULL);

	/* params */
	json_key(b, &first, "params");
	buf_putc(b, '{');
	st =
	    store_prep(s, "SELECT k.name, p.type, p.value FROM params p JOIN keys k ON k.id = p.kid"
	                  " WHERE p.rid = ? ORDER BY k.name");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	bool f = true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_key(b, &f, col_text(st, 0));
		store_json_value(b, st, 2, sqlite3_column_int(st, 1));
	}
	sqlite3_reset(st);
	buf_putc(b, '}');

	/* metrics: summaries only */
	json_key(b, &first, "metrics");
	buf_putc(b, '{');
	if (!(st = prep_rid(s,
	                    "SELECT k.name, m.last, m.min, m.max, m.count, m.last_step, m.last_ts"
	                    " FROM metric_summary m JOIN keys k ON k.id = m.kid WHERE m.rid = ?"
	                    " ORDER BY k.name",
	                    rid))) {
		rc = cairn_error_last_code();
		goto done;
	}
	f = true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		bool f2 = true;
		json_key(b, &f, col_text(st, 0));
		buf_putc(b, '{');
		json_key(b, &f2, "last");
		json_num(b, store_column_double_nan(st, 1));
		json_key(b, &f2, "min");
		store_json_double(b, st, 2);
		json_key(b, &f2, "max");
		store_json_double(b, st, 3);
		json_key(b, &f2, "count");
		json_int(b, sqlite3_column_int64(st, 4));
		json_key(b, &f2, "step");
		json_int(b, sqlite3_column_int64(st, 5));
		json_key(b, &f2, "timestamp");
		json_num(b, (double)sqlite3_column_int64(st, 6) / 1000.0);
		buf_putc(b, '}');
	}
	sqlite3_reset(st);
	buf_putc(b, '}');

	json_key(b, &first, "tags");
	buf_putc(b, '[');
	if (!(st = prep_rid(s, "SELECT tag FROM tags WHERE rid = ? ORDER BY tag", rid))) {
		rc = cairn_error_last_code();
		goto done;
	}
	f = true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!f)
			buf_putc(b, ',');
		f = false;
		json_str(b, col_text(st, 0));
	}
	sqlite3_reset(st);
	buf_putc(b, ']');

	json_key(b, &first, "properties");
	buf_putc(b, '{');
	if (!(st = prep_rid(s, "SELECT key, value FROM properties WHERE rid = ? ORDER BY key",
	                    rid))) {
		rc = cairn_error_last_code();
		goto done;
	}
	f = true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_key(b, &f, col_text(st, 0));
		json_str(b, col_text(st, 1));
	}
	sqlite3_reset(st);
	buf_putc(b, '}');

	json_key(b, &first, "datasets");
	buf_putc(b, '[');
	if (!(st = prep_rid(s,
	                    "SELECT name, path, role, algo, digest, files, bytes, manifest_oid"
	                    " FROM datasets WHERE rid = ? ORDER BY name",
	                    rid))) {
		rc = cairn_error_last_code();
		goto done;
	}
	static const char *const dcols[] = {"name",   "path",  "role",  "algo",
	                                    "digest", "files", "bytes", "manifest"};
	put_rows(b, st, dcols, 8);
	sqlite3_reset(st);
	buf_putc(b, ']');

	if (with_artifacts) {
		json_key(b, &first, "artifacts");
		buf_putc(b, '[');
		if (!(st = prep_rid(s,
		                    "SELECT path, oid, size, media_type, kind, key, step"
		                    " FROM artifacts WHERE rid = ? ORDER BY path",
		                    rid))) {
			rc = cairn_error_last_code();
			goto done;
		}
		static const char *const acols[] = {"path", "digest", "size", "media_type",
		                                    "kind", "key",    "step"};
		put_rows(b, st, acols, 7);
		sqlite3_reset(st);
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
	(void)code_oid;
	if (!buf_ok(b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	store_unlock(s);
	return rc;
}

int sqlite_run_list_json(cairn_store *s, const cairn_list_options *o, buf *b)
{
	int rc = 0;
	int64_t *rids = NULL;
	size_t n = 0, cap = 0;
	store_lock(s);
	sqlite3_stmt *st =
	    store_prep(s, "SELECT r.rid FROM runs r JOIN projects p ON p.id = r.project_id"
	                  " WHERE (?1 IS NULL OR p.name = ?1) AND (?2 OR r.deleted = 0)"
	                  " ORDER BY r.start_time DESC, r.rid DESC LIMIT ?3");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	store_bind_text(st, 1, o->project);
	sqlite3_bind_int(st, 2, o->include_deleted);
	sqlite3_bind_int64(st, 3, o->limit > 0 ? o->limit : -1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *nr = realloc(rids, cap * sizeof *nr);
			if (!nr) {
				sqlite3_reset(st);
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				goto done;
			}
			rids = nr;
		}
		rids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		if ((rc = store_run_json(s, rids[i], false, b)) != 0)
			goto done;
	}
	buf_putc(b, ']');
done:
	store_unlock(s);
	free(rids);
	return rc;
}

/* --- run objects, many at once ---------------------------------------------------
 *
 * The same JSON as store_run_json(…, with_artifacts = false) in store.c, for a
 * list of runs, with one statement per table for all of them instead of seven
 * per run (100 runs: ~0.6 ms instead of ~2.5 ms).  Keep the two in step:
 * tests/unit/test-query.c compares them byte for byte.
 */

/* Byte ranges of each run's fragments in one buffer per section. */
typedef struct frag {
	size_t at[7], end[7];
} frag;

enum { S_HEAD, S_PARAMS, S_METRICS, S_TAGS, S_PROPS, S_DATA, S_NSECT };

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

static const char *ctext(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* A literal fragment (keys are fixed: no escaping to do). */
#define LIT(b, s) buf_add((b), (s), sizeof(s) - 1)

static void put_head(const rctx *q, buf *b, sqlite3_stmt *st)
{
	int status = sqlite3_column_int(st, 5);
	if (status == CAIRN_STATUS_RUNNING && sqlite3_column_type(st, 8) != SQLITE_NULL &&
	    sqlite3_column_double(st, 8) < q->stale)
		status = CAIRN_STATUS_CRASHED;
	LIT(b, "\"id\":");
	json_str(b, ctext(st, 1));
	LIT(b, ",\"seq\":");
	json_int(b, sqlite3_column_int64(st, 2));
	LIT(b, ",\"name\":");
	json_str(b, ctext(st, 3));
	LIT(b, ",\"project\":");
	json_str(b, ctext(st, 4));
	LIT(b, ",\"status\":");
	json_str(b, cairn_status_name((cairn_status)status));
	LIT(b, ",\"start_time\":");
	store_json_double(b, st, 6);
	LIT(b, ",\"end_time\":");
	store_json_double(b, st, 7);
	LIT(b, ",\"heartbeat\":");
	store_json_double(b, st, 8);
	LIT(b, ",\"exit_code\":");
	if (sqlite3_column_type(st, 9) == SQLITE_NULL)
		buf_puts(b, "null");
	else
		json_int(b, sqlite3_column_int64(st, 9));
	static const char *const textcols[] = {
	    ",\"command\":", ",\"cwd\":", ",\"host\":", ",\"user\":", ",\"note\":"};
	for (int i = 0; i < 5; i++) {
		buf_puts(b, textcols[i]);
		const char *t = ctext(st, 10 + i);
		json_str(b, t ? t : (i == 4 ? "" : NULL));
	}
	LIT(b, ",\"parent\":");
	json_str(b, ctext(st, 21));
	LIT(b, ",\"pid\":");
	json_int(b, sqlite3_column_int64(st, 22));
	LIT(b, ",\"deleted\":");
	json_bool(b, sqlite3_column_int(st, 23) != 0);
	LIT(b, ",\"code\":");
	if (sqlite3_column_type(st, 15) == SQLITE_NULL &&
	    sqlite3_column_type(st, 19) == SQLITE_NULL) {
		buf_puts(b, "null");
	} else {
		LIT(b, "{\"commit\":");
		json_str(b, ctext(st, 15));
		LIT(b, ",\"branch\":");
		json_str(b, ctext(st, 16));
		LIT(b, ",\"remote\":");
		json_str(b, ctext(st, 17));
		LIT(b, ",\"dirty\":");
		if (sqlite3_column_type(st, 18) == SQLITE_NULL)
			buf_puts(b, "null");
		else
			json_bool(b, sqlite3_column_int(st, 18) != 0);
		LIT(b, ",\"snapshot\":");
		json_str(b, ctext(st, 19));
		buf_putc(b, '}');
	}
	LIT(b, ",\"environment\":");
	put_object_json(q->s, b, ctext(st, 20));
}

static void put_row(const rctx *q, int sect, buf *b, sqlite3_stmt *st, bool first_of_run)
{
	bool f2 = true;
	switch (sect) {
	case S_HEAD: put_head(q, b, st); break;
	case S_PARAMS:
		/* the value only: keys are added when the run's rows are sorted */
		store_json_value(b, st, 3, sqlite3_column_int(st, 2));
		break;
	case S_METRICS: {
		/* min and max are often the last value: format it once */
		double last =
		    sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
		LIT(b, "{\"last\":");
		size_t at = b->len;
		json_num(b, last);
		char text[40];
		size_t tlen = b->len - at < sizeof text ? b->len - at : 0;
		memcpy(text, b->ptr + at, tlen); /* a copy: appending may move b->ptr */
		for (int c = 3; c <= 4; c++) {
			if (c == 3)
				LIT(b, ",\"min\":");
			else
				LIT(b, ",\"max\":");
			if (tlen && sqlite3_column_type(st, c) != SQLITE_NULL &&
			    sqlite3_column_double(st, c) == last)
				buf_add(b, text, tlen);
			else
				store_json_double(b, st, c);
		}
		LIT(b, ",\"count\":");
		json_int(b, sqlite3_column_int64(st, 5));
		LIT(b, ",\"step\":");
		json_int(b, sqlite3_column_int64(st, 6));
		LIT(b, ",\"timestamp\":");
		put_millis(b, sqlite3_column_int64(st, 7));
		buf_putc(b, '}');
		break;
	}
	case S_TAGS:
		if (!first_of_run)
			buf_putc(b, ',');
		json_str(b, ctext(st, 1));
		break;
	case S_PROPS:
		if (!first_of_run)
			buf_putc(b, ',');
		json_str(b, ctext(st, 1));
		buf_putc(b, ':');
		json_str(b, ctext(st, 2));
		break;
	case S_DATA: {
		if (!first_of_run)
			buf_putc(b, ',');
		buf_putc(b, '{');
		static const char *const dn[] = {"name", "path", "role", "algo", "digest"};
		for (int i = 0; i < 5; i++) {
			json_key(b, &f2, dn[i]);
			json_str(b, ctext(st, 1 + i));
		}
		json_key(b, &f2, "files");
		json_int(b, sqlite3_column_int64(st, 6));
		json_key(b, &f2, "bytes");
		json_int(b, sqlite3_column_int64(st, 7));
		json_key(b, &f2, "manifest");
		json_str(b, ctext(st, 8));
		buf_putc(b, '}');
		break;
	}
	}
}

static const char *const sect_sql[S_NSECT][2] = {
    {"SELECT r.rid, r.id, r.seq, r.name, p.name, r.status, r.start_time, r.end_time, r.heartbeat,"
     " r.exit_code, r.command, r.cwd, r.host, r.user, r.note, r.git_commit, r.git_branch,"
     " r.git_remote, r.git_dirty, r.code_oid, r.env_oid, (SELECT id FROM runs q WHERE"
     " q.rid = r.parent_rid), r.pid, r.deleted FROM runs r JOIN projects p ON p.id ="
     " r.project_id WHERE r.rid IN (",
     ") ORDER BY r.rid"},
    {"SELECT rid, kid, type, value FROM params WHERE rid IN (", ") ORDER BY rid"},
    {"SELECT rid, kid, last, min, max, count, last_step, last_ts FROM metric_summary"
     " WHERE rid IN (",
     ") ORDER BY rid"},
    {"SELECT rid, tag FROM tags WHERE rid IN (", ") ORDER BY rid, tag"},
    {"SELECT rid, key, value FROM properties WHERE rid IN (", ") ORDER BY rid, key"},
    {"SELECT rid, name, path, role, algo, digest, files, bytes, manifest_oid FROM datasets"
     " WHERE rid IN (",
     ") ORDER BY rid, name"},
};

#define BATCH 256

/* Key names by id, cached for one batch (rows read by kid skip the join and
 * the sort that ORDER BY name would cost; each run's rows are sorted here). */
typedef struct kname {
	int64_t kid;
	const char *name;
} kname;

typedef struct kcache {
	kname *tab;
	size_t cap, n;
	sqlite3_stmt *st;
} kcache;

static int kcache_name(const rctx *q, kcache *c, int64_t kid, const char **out)
{
	if (c->n * 2 >= c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		kname *nt = calloc(ncap, sizeof *nt);
		if (!nt)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < c->cap; i++) {
			if (!c->tab[i].name)
				continue;
			size_t h = (size_t)c->tab[i].kid * 0x9E3779B97F4A7C15ull & (ncap - 1);
			while (nt[h].name)
				h = (h + 1) & (ncap - 1);
			nt[h] = c->tab[i];
		}
		free(c->tab);
		c->tab = nt;
		c->cap = ncap;
	}
	size_t h = (size_t)kid * 0x9E3779B97F4A7C15ull & (c->cap - 1);
	while (c->tab[h].name) {
		if (c->tab[h].kid == kid) {
			*out = c->tab[h].name;
			return 0;
		}
		h = (h + 1) & (c->cap - 1);
	}
	int rc;
	if (!c->st && (rc = prep(q->s, "SELECT name FROM keys WHERE id = ?", &c->st)) != 0)
		return rc;
	sqlite3_reset(c->st);
	sqlite3_bind_int64(c->st, 1, kid);
	if (sqlite3_step(c->st) != SQLITE_ROW)
		return store_sqlerr(q->s, "read a key name");
	char *name = strndup(ctext(c->st, 0), (size_t)sqlite3_column_bytes(c->st, 0));
	if (!name)
		return err_set(CAIRN_ENOMEM, "out of memory");
	c->tab[h].kid = kid;
	c->tab[h].name = name;
	c->n++;
	*out = name;
	return 0;
}

typedef struct kfrag {
	const char *name;
	size_t at, end;
} kfrag;

static int cmp_kfrag(const void *a, const void *b)
{
	return strcmp(((const kfrag *)a)->name, ((const kfrag *)b)->name);
}

/* Emit one run's keyed rows (values in scratch) sorted by key into out. */
static void flush_keyed(buf *out, const buf *scratch, kfrag *rows, size_t n)
{
	qsort(rows, n, sizeof *rows, cmp_kfrag);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		json_str(out, rows[i].name);
		buf_putc(out, ':');
		buf_add(out, scratch->ptr + rows[i].at, rows[i].end - rows[i].at);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Append the run objects of rids (in that order) to b, comma-separated. */
static int runs_json_batch(const rctx *q, const int64_t *rids, size_t n, buf *b)
{
	int rc = 0;
	buf sect[S_NSECT], scratch = BUF_INIT;
	kcache kc = {0};
	kfrag *krows = NULL;
	size_t capk = 0;
	int64_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
	frag *fr = calloc(n ? n : 1, sizeof *fr);
	for (int k = 0; k < S_NSECT; k++)
		buf_init(&sect[k]);
	if (!sorted || !fr) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(sorted, rids, n * sizeof *rids);
	qsort(sorted, n, sizeof *sorted, cmp_i64);
	static const size_t per_run[S_NSECT] = {512, 512, 1024, 32, 64, 64};
	for (int k = 0; k < S_NSECT; k++)
		buf_grow(&sect[k], n * per_run[k]);
	for (size_t from = 0; from < n && rc == 0; from += BATCH) {
		size_t cnt = n - from < BATCH ? n - from : BATCH;
		for (int k = 0; k < S_NSECT && rc == 0; k++) {
			buf sql = BUF_INIT;
			buf_puts(&sql, sect_sql[k][0]);
			for (size_t i = 0; i < cnt; i++)
				buf_puts(&sql, i ? ",?" : "?");
			buf_puts(&sql, sect_sql[k][1]);
			sqlite3_stmt *st = NULL;
			if (!buf_ok(&sql))
				rc = err_set(CAIRN_ENOMEM, "out of memory");
			else
				rc = prep(q->s, sql.ptr, &st);
			buf_free(&sql);
			if (rc)
				break;
			for (size_t i = 0; i < cnt; i++)
				sqlite3_bind_int64(st, (int)i + 1, sorted[from + i]);
			size_t pos = from; /* index into sorted of the current run */
			int64_t cur = -1;
			bool keyed = k == S_PARAMS || k == S_METRICS;
			size_t nk = 0;
			int s;
			while ((s = sqlite3_step(st)) == SQLITE_ROW) {
				int64_t rid = sqlite3_column_int64(st, 0);
				bool first_of_run = rid != cur;
				if (first_of_run) {
					if (keyed && nk) {
						flush_keyed(&sect[k], &scratch, krows, nk);
						fr[pos].end[k] = sect[k].len;
						nk = 0;
						buf_clear(&scratch);
					}
					while (pos < from + cnt && sorted[pos] != rid)
						pos++;
					if (pos == from + cnt)
						break;
					fr[pos].at[k] = fr[pos].end[k] = sect[k].len;
					cur = rid;
				}
				if (keyed) {
					if (nk == capk) {
						capk = capk ? capk * 2 : 64;
						kfrag *nr = realloc(krows, capk * sizeof *nr);
						if (!nr) {
							rc = err_set(CAIRN_ENOMEM, "out of memory");
							break;
						}
						krows = nr;
					}
					if ((rc = kcache_name(q, &kc, sqlite3_column_int64(st, 1),
					                      &krows[nk].name)) != 0)
						break;
					krows[nk].at = scratch.len;
					put_row(q, k, &scratch, st, true);
					krows[nk].end = scratch.len;
					nk++;
				} else {
					put_row(q, k, &sect[k], st, first_of_run);
					fr[pos].end[k] = sect[k].len;
				}
			}
			if (keyed && nk && rc == 0) {
				flush_keyed(&sect[k], &scratch, krows, nk);
				fr[pos].end[k] = sect[k].len;
				nk = 0;
				buf_clear(&scratch);
			}
			if (s != SQLITE_ROW && s != SQLITE_DONE)
				rc = store_sqlerr(q->s, "read the runs");
			sqlite3_finalize(st);
		}
	}
	size_t total = 0;
	for (int k = 0; k < S_NSECT; k++)
		total += sect[k].len;
	buf_grow(b, total + n * 64); /* one allocation for the whole page */
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t *hit = bsearch(&rids[i], sorted, n, sizeof *sorted, cmp_i64);
		const frag *f = &fr[hit - sorted];
		if (i)
			buf_putc(b, ',');
		if (f->end[S_HEAD] == f->at[S_HEAD]) {
			rc = err_set(CAIRN_ENOTFOUND, "run vanished from the store");
			break;
		}
		static const char *const open[] = {
		    NULL,          ",\"params\":{",     ",\"metrics\":{",
		    ",\"tags\":[", ",\"properties\":{", ",\"datasets\":["};
		static const char close[] = {0, '}', '}', ']', '}', ']'};
		buf_putc(b, '{');
		for (int k = 0; k < S_NSECT; k++) {
			if (k)
				buf_puts(b, open[k]);
			buf_add(b, sect[k].ptr + f->at[k], f->end[k] - f->at[k]);
			if (k)
				buf_putc(b, close[k]);
		}
		buf_putc(b, '}');
	}
	for (int k = 0; k < S_NSECT; k++)
		if (!buf_ok(&sect[k]))
			rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	for (int k = 0; k < S_NSECT; k++)
		buf_free(&sect[k]);
	buf_free(&scratch);
	free(krows);
	for (size_t i = 0; i < kc.cap; i++)
		free((char *)kc.tab[i].name);
	free(kc.tab);
	sqlite3_finalize(kc.st);
	free(sorted);
	free(fr);
	return rc;
}

/* --- the entry point ----------------------------------------------------------- */

int sqlite_query_runs_json(cairn_store *s, const store_query *sq, buf *b)
{
	int64_t *ids = NULL, total = 0;
	size_t n = 0;
	bool own = false;
	int rc;
	store_lock(s);
	if ((rc = store_read_begin(s, &own)) != 0)
		goto done_unlocked;
	if ((rc = store_query_page(s, sq, &ids, &n, &total)) != 0)
		goto done;
	rctx q = {.s = s, .stale = store_now(s) - s->stale_after};
	buf_puts(b, "{\"total\":");
	json_int(b, total);
	buf_puts(b, ",\"runs\":[");
	if (n && (rc = runs_json_batch(&q, ids, n, b)) != 0)
		goto done;
	buf_puts(b, "]}");
	if (!buf_ok(b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	free(ids);
	store_read_end(s, own);
done_unlocked:
	store_unlock(s);
	return rc;
}
