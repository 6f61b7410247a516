/*
 * lib/store/sqlite/browse.c — SQL for browsing a store: projects with run
 * counts, the keys runs carry (table columns), and artifact lookups by
 * path.  The thinned metric history is in tiles.c.
 *
 * Only reads.
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static const char *coltext(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int sqlite_project_list_json(cairn_store *s, buf *b)
{
	int rc = 0, r;
	sqlite3_stmt *st = store_prep(
	    s, "SELECT p.name, p.created, (SELECT count(*) FROM runs r WHERE r.project_id = p.id"
	       " AND r.deleted = 0) FROM projects p ORDER BY p.name");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	buf_putc(b, '[');
	bool first = true;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		bool f = true;
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_putc(b, '{');
		json_key(b, &f, "name");
		json_str(b, coltext(st, 0));
		json_key(b, &f, "runs");
		json_int(b, sqlite3_column_int64(st, 2));
		json_key(b, &f, "created");
		json_num(b, sqlite3_column_double(st, 1));
		buf_putc(b, '}');
	}
	sqlite3_reset(st);
	buf_putc(b, ']');
	if (r != SQLITE_DONE)
		rc = store_sqlerr(s, "list projects");
done:
	return rc;
}

/* One "name": [{key, count[, distinct]}] member from a statement whose rows
 * are (key, count[, distinct]); the catalog's project (0: the whole store)
 * is bound as ?1. */
static int columns_section(cairn_store *s, buf *b, bool *first, const char *name,
                           const char *keyname, const char *sql, int64_t pid, bool with_distinct)
{
	int r;
	sqlite3_stmt *st = store_prep(s, sql);
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, pid);
	json_key(b, first, name);
	buf_putc(b, '[');
	bool f1 = true;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		bool f = true;
		if (!f1)
			buf_putc(b, ',');
		f1 = false;
		buf_putc(b, '{');
		json_key(b, &f, keyname);
		json_str(b, coltext(st, 0));
		json_key(b, &f, "count");
		json_int(b, sqlite3_column_int64(st, 1));
		if (with_distinct) {
			json_key(b, &f, "distinct");
			json_int(b, sqlite3_column_int64(st, 2));
		}
		buf_putc(b, '}');
	}
	sqlite3_reset(st);
	buf_putc(b, ']');
	if (r != SQLITE_DONE)
		return store_sqlerr(s, "list the columns of runs");
	return 0;
}

/* The columns come from the catalog the triggers of migration 15 keep: a
 * few rows per key of the project (0: the whole store), whatever the number
 * of runs, deleted or not (docs/internals/store.md, "The column catalog").
 * A project that does not exist has no runs and no keys. */
int sqlite_run_columns_json(cairn_store *s, const char *project, buf *b)
{
	int rc = 0, r;
	bool first = true;
	int64_t pid = 0, nruns = 0;
	if (project) {
		sqlite3_stmt *st = store_prep(s, "SELECT id FROM projects WHERE name = ?");
		if (!st)
			return cairn_error_last_code();
		store_bind_text(st, 1, project);
		r = sqlite3_step(st);
		pid = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_reset(st);
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			return store_sqlerr(s, "look up the project");
	}
	sqlite3_stmt *st = store_prep(s, "SELECT n FROM cat_runs WHERE project_id = ?");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, pid);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		nruns = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_sqlerr(s, "count runs");
	buf_putc(b, '{');
	json_key(b, &first, "runs");
	json_int(b, nruns);
	if ((rc = columns_section(s, b, &first, "params", "key",
	                          "SELECT k.name, x.n, x.d FROM cat_params x JOIN keys k"
	                          " ON k.id = x.kid WHERE x.project_id = ?1 AND x.n > 0"
	                          " ORDER BY k.name",
	                          pid, true)) != 0 ||
	    (rc = columns_section(s, b, &first, "metrics", "key",
	                          "SELECT k.name, x.n FROM cat_metrics x JOIN keys k"
	                          " ON k.id = x.kid WHERE x.project_id = ?1 AND x.n > 0"
	                          " ORDER BY k.name",
	                          pid, false)) != 0 ||
	    (rc = columns_section(s, b, &first, "properties", "key",
	                          "SELECT key, n, d FROM cat_props WHERE project_id = ?1"
	                          " AND n > 0 ORDER BY key",
	                          pid, true)) != 0 ||
	    (rc = columns_section(s, b, &first, "tags", "tag",
	                          "SELECT tag, n FROM cat_tags WHERE project_id = ?1 AND n > 0"
	                          " ORDER BY tag",
	                          pid, false)) != 0)
		return rc;
	buf_putc(b, '}');
	if (!buf_ok(b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	return rc;
}

int sqlite_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                           char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media)
{
	int rc = 0, r;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT oid, size, media_type FROM artifacts WHERE rid = ? AND path = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, path);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		rc = r == SQLITE_DONE
		         ? err_set(CAIRN_ENOTFOUND, "the run has no artifact '%s'", path)
		         : store_sqlerr(s, "look up the artifact");
		goto done;
	}
	const char *oid = coltext(st, 0);
	const char *media = coltext(st, 2);
	snprintf(out_oid, CAIRN_OID_HEXSZ + 1, "%s", oid ? oid : "");
	*out_size = sqlite3_column_int64(st, 1);
	*out_media = strdup(media ? media : "application/octet-stream");
	sqlite3_reset(st);
	if (!*out_media)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	return rc;
}
