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
 * are (key, count[, distinct]); the project is bound as ?1. */
static int columns_section(cairn_store *s, buf *b, bool *first, const char *name,
                           const char *keyname, const char *sql, const char *project,
                           bool with_distinct)
{
	int r;
	sqlite3_stmt *st = store_prep(s, sql);
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, project);
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

/* The runs in scope: not deleted, of project ?1 (NULL: all). */
#define IN_SCOPE                                                                                   \
	" IN (SELECT r.rid FROM runs r JOIN projects p ON p.id = r.project_id"                     \
	" WHERE r.deleted = 0 AND (?1 IS NULL OR p.name = ?1))"

int sqlite_run_columns_json(cairn_store *s, const char *project, buf *b)
{
	int rc = 0;
	bool first = true;
	/* The whole store without deleted runs (the usual case) is answered from
	 * the catalog the triggers keep (migration 13); otherwise each row is
	 * checked against the runs in scope. */
	bool all = !project;
	if (all) {
		sqlite3_stmt *st =
		    store_prep(s, "SELECT EXISTS(SELECT 1 FROM runs WHERE deleted > 0)");
		if (!st)
			return cairn_error_last_code();
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0))
			all = false;
		sqlite3_reset(st);
	}
	sqlite3_stmt *st = store_prep(s, all ? "SELECT n FROM run_count"
	                                     : "SELECT count(*) FROM runs r JOIN projects p ON"
	                                       " p.id = r.project_id WHERE r.deleted = 0 AND"
	                                       " (?1 IS NULL OR p.name = ?1)");
	if (!st)
		return cairn_error_last_code();
	if (!all)
		store_bind_text(st, 1, project);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_sqlerr(s, "count runs");
	}
	buf_putc(b, '{');
	json_key(b, &first, "runs");
	json_int(b, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	if (all)
		rc = columns_section(s, b, &first, "params", "key",
		                     "SELECT k.name, x.n, x.d FROM param_stats x JOIN keys k"
		                     " ON k.id = x.kid WHERE x.n > 0 ORDER BY k.name",
		                     NULL, true);
	else
		rc =
		    columns_section(s, b, &first, "params", "key",
		                    "SELECT k.name, count(*), count(DISTINCT x.value) FROM params x"
		                    " JOIN keys k ON k.id = x.kid WHERE x.rid" IN_SCOPE
		                    " GROUP BY x.kid ORDER BY k.name",
		                    project, true);
	if (rc)
		return rc;
	if (all)
		rc = columns_section(s, b, &first, "metrics", "key",
		                     "SELECT k.name, x.n FROM metric_stats x JOIN keys k"
		                     " ON k.id = x.kid WHERE x.n > 0 ORDER BY k.name",
		                     NULL, false);
	else
		rc = columns_section(s, b, &first, "metrics", "key",
		                     "SELECT k.name, count(*) FROM metric_summary x"
		                     " JOIN keys k ON k.id = x.kid WHERE x.rid" IN_SCOPE
		                     " GROUP BY x.kid ORDER BY k.name",
		                     project, false);
	if (rc)
		return rc;
	if (all)
		rc = columns_section(s, b, &first, "properties", "key",
		                     "SELECT key, n, d FROM prop_stats WHERE n > 0 ORDER BY key",
		                     NULL, true);
	else
		rc = columns_section(
		    s, b, &first, "properties", "key",
		    "SELECT x.key, count(*), count(DISTINCT x.value) FROM properties x"
		    " WHERE x.rid" IN_SCOPE " GROUP BY x.key ORDER BY x.key",
		    project, true);
	if (rc)
		return rc;
	if (all)
		rc = columns_section(s, b, &first, "tags", "tag",
		                     "SELECT tag, n FROM tag_stats WHERE n > 0 ORDER BY tag", NULL,
		                     false);
	else
		rc = columns_section(s, b, &first, "tags", "tag",
		                     "SELECT x.tag, count(*) FROM tags x WHERE x.rid" IN_SCOPE
		                     " GROUP BY x.tag ORDER BY x.tag",
		                     project, false);
	if (rc)
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
