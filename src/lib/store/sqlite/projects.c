/*
 * lib/store/sqlite/projects.c — the SQLite backend's projects as records
 * (lib/store/project.h): listing them with their tags, creating, renaming,
 * deleting and restoring them (with their runs), their key/value tags; and
 * restoring one deleted run.
 *
 * A project deleted as a whole marks its live runs deleted = 2 (a run
 * deleted by itself is 1), so restoring the project brings back exactly
 * the runs it took with it.  Every write is one transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/project.h"
#include "lib/store/sqlite/sqlite.h"

static char *coldup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return strdup(t ? t : "");
}

static int load_tags(cairn_store *s, project_row *rows, size_t n)
{
	sqlite3_stmt *st = store_prep(s, "SELECT project_id, key, value FROM project_tags"
	                                 " ORDER BY project_id, key");
	if (!st)
		return cairn_error_last_code();
	int r, rc = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		project_row *p = NULL;
		for (size_t i = 0; i < n && !p; i++)
			if (rows[i].id == id)
				p = &rows[i];
		if (!p)
			continue;
		char **k = realloc(p->tag_keys, (p->ntags + 1) * sizeof *k);
		if (k)
			p->tag_keys = k;
		char **v = k ? realloc(p->tag_values, (p->ntags + 1) * sizeof *v) : NULL;
		if (v)
			p->tag_values = v;
		if (!k || !v) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		p->tag_keys[p->ntags] = coldup(st, 1);
		p->tag_values[p->ntags] = coldup(st, 2);
		p->ntags++;
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "list the tags of projects");
	return rc;
}

int sqlite_project_list(cairn_store *s, bool count_runs, project_row **out, size_t *out_n)
{
	sqlite3_stmt *st = store_prep(
	    s, count_runs ? "SELECT p.id, p.name, p.created, p.updated, p.deleted, (SELECT"
	                    " count(*) FROM runs r WHERE r.project_id = p.id AND r.deleted = 0)"
	                    " FROM projects p ORDER BY p.id"
	                  : "SELECT p.id, p.name, p.created, p.updated, p.deleted, -1"
	                    " FROM projects p ORDER BY p.id");
	if (!st)
		return cairn_error_last_code();
	project_row *rows = NULL;
	size_t n = 0, cap = 0;
	int r, rc = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			project_row *nr = realloc(rows, nc * sizeof *nr);
			if (!nr) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			rows = nr;
			cap = nc;
		}
		project_row *p = &rows[n++];
		memset(p, 0, sizeof *p);
		p->id = sqlite3_column_int64(st, 0);
		p->name = coldup(st, 1);
		p->created = sqlite3_column_double(st, 2);
		p->updated = sqlite3_column_double(st, 3);
		p->deleted = sqlite3_column_int(st, 4) != 0;
		p->runs = sqlite3_column_int64(st, 5);
		if (!p->name) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "list projects");
	if (rc == 0)
		rc = load_tags(s, rows, n);
	if (rc) {
		project_rows_free(rows, n);
		return rc;
	}
	*out = rows;
	*out_n = n;
	return 0;
}

static int name_taken(cairn_store *s, const char *name, int64_t except, bool *taken)
{
	sqlite3_stmt *st = store_prep(s, "SELECT 1 FROM projects WHERE name = ? AND id != ?");
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, except);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_sqlerr(s, "look up the project");
	*taken = r == SQLITE_ROW;
	return 0;
}

int sqlite_project_create(cairn_store *s, const char *name, double now, int64_t *out_id)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	bool taken;
	if ((rc = name_taken(s, name, 0, &taken)) != 0)
		goto fail;
	if (taken) {
		rc = err_set(CAIRN_EEXISTS, "project '%s' already exists", name);
		goto fail;
	}
	sqlite3_stmt *st = store_prep(s, "INSERT INTO projects(name, created) VALUES(?, ?)");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	store_bind_text(st, 1, name);
	sqlite3_bind_double(st, 2, now);
	if ((rc = store_step_done(s, st, "create the project")) != 0)
		goto fail;
	int64_t id = sqlite3_last_insert_rowid(store_sqlite_db(s));
	if ((rc = store_commit(s)) != 0)
		return rc;
	*out_id = id;
	return 0;
fail:
	store_rollback(s);
	return rc;
}

static int exec_id(cairn_store *s, const char *sql, int64_t id, const char *what)
{
	sqlite3_stmt *st = store_prep(s, sql);
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(s, st, what);
}

/* Stamp project id as updated now; CAIRN_ENOTFOUND when there is none.
 * Inside the caller's transaction. */
static int touch(cairn_store *s, int64_t id, double now)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE projects SET updated = ? WHERE id = ?");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_double(st, 1, now);
	sqlite3_bind_int64(st, 2, id);
	int rc = store_step_done(s, st, "update the project");
	if (rc == 0 && sqlite3_changes(store_sqlite_db(s)) == 0)
		rc = err_set(CAIRN_ENOTFOUND, "no project with id %lld", (long long)id);
	return rc;
}

int sqlite_project_update(cairn_store *s, int64_t id, const char *name, int deleted, double now)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = touch(s, id, now)) != 0)
		goto fail;
	if (name) {
		bool taken;
		if ((rc = name_taken(s, name, id, &taken)) != 0)
			goto fail;
		if (taken) {
			rc = err_set(CAIRN_EEXISTS, "project '%s' already exists", name);
			goto fail;
		}
		if (!(st = store_prep(s, "UPDATE projects SET name = ? WHERE id = ?"))) {
			rc = cairn_error_last_code();
			goto fail;
		}
		store_bind_text(st, 1, name);
		sqlite3_bind_int64(st, 2, id);
		if ((rc = store_step_done(s, st, "rename the project")) != 0)
			goto fail;
	}
	if (deleted == 1)
		rc = exec_id(s, "UPDATE runs SET deleted = 2 WHERE project_id = ? AND deleted = 0",
		             id, "delete the project's runs");
	else if (deleted == 0)
		rc = exec_id(s, "UPDATE runs SET deleted = 0 WHERE project_id = ? AND deleted = 2",
		             id, "restore the project's runs");
	if (rc == 0 && deleted >= 0) {
		if (!(st = store_prep(s, "UPDATE projects SET deleted = ? WHERE id = ?"))) {
			rc = cairn_error_last_code();
			goto fail;
		}
		sqlite3_bind_int(st, 1, deleted);
		sqlite3_bind_int64(st, 2, id);
		rc = store_step_done(s, st, "delete the project");
	}
	if (rc)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return rc;
}

int sqlite_project_tag_put(cairn_store *s, int64_t id, const char *key, const char *value,
                           double now)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = touch(s, id, now)) != 0)
		goto fail;
	st = value
	         ? store_prep(s,
	                      "INSERT INTO project_tags(project_id, key, value) VALUES(?, ?, ?)"
	                      " ON CONFLICT(project_id, key) DO UPDATE SET value = excluded.value")
	         : store_prep(s, "DELETE FROM project_tags WHERE project_id = ? AND key = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, key);
	if (value)
		store_bind_text(st, 3, value);
	if ((rc = store_step_done(s, st, "store the project's tag")) != 0)
		goto fail;
	if (!value && sqlite3_changes(store_sqlite_db(s)) == 0) {
		rc = err_set(CAIRN_ENOTFOUND, "project %lld has no tag '%s'", (long long)id, key);
		goto fail;
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return rc;
}

int sqlite_run_restore(cairn_store *s, int64_t rid)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE runs SET deleted = 0 WHERE rid = ?");
	if (st)
		sqlite3_bind_int64(st, 1, rid);
	return store_write1(s, st, "restore the run");
}
