/*
 * lib/store/pg/projects.c — the PostgreSQL backend's projects as records
 * (lib/store/project.h), the same as SQLite's (sqlite/projects.c): listing
 * them with their tags, creating, renaming, deleting and restoring them
 * (a project's runs deleted with it are marked deleted = 2, so a restore
 * brings back exactly those), their key/value tags; and restoring one
 * deleted run.  Every write is one transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/pg.h"
#include "lib/store/project.h"

static char *txtdup(const PGresult *r, int i, int col)
{
	const char *t = pg_get_text(r, i, col);
	return strdup(t ? t : "");
}

int pg_project_list(cairn_store *s, bool count_runs, project_row **out, size_t *out_n)
{
	PGresult *r = pg_exec(s, "list projects",
	                      count_runs ? "SELECT p.id, p.name, p.created, p.updated, p.deleted,"
	                                   " (SELECT count(*) FROM runs r WHERE r.project_id ="
	                                   " p.id AND r.deleted = 0) FROM projects p ORDER BY p.id"
	                                 : "SELECT p.id, p.name, p.created, p.updated, p.deleted,"
	                                   " -1 FROM projects p ORDER BY p.id",
	                      NULL);
	if (!r)
		return cairn_error_last_code();
	int n = pq.ntuples(r), rc = 0;
	project_row *rows = calloc(n ? (size_t)n : 1, sizeof *rows);
	if (!rows) {
		pq.clear(r);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		project_row *p = &rows[i];
		p->id = pg_get_int(r, i, 0);
		p->name = txtdup(r, i, 1);
		p->created = pg_get_double(r, i, 2);
		p->updated = pg_isnull(r, i, 3) ? 0 : pg_get_double(r, i, 3);
		p->deleted = pg_get_int(r, i, 4) != 0;
		p->runs = pg_get_int(r, i, 5);
		if (!p->name)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	pq.clear(r);
	if (rc == 0 && !(r = pg_exec(s, "list the tags of projects",
	                             "SELECT project_id, key, value FROM project_tags"
	                             " ORDER BY project_id, key",
	                             NULL)))
		rc = cairn_error_last_code();
	for (int t = 0; rc == 0 && t < pq.ntuples(r); t++) {
		int64_t id = pg_get_int(r, t, 0);
		project_row *p = NULL;
		for (int i = 0; i < n && !p; i++)
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
		p->tag_keys[p->ntags] = txtdup(r, t, 1);
		p->tag_values[p->ntags] = txtdup(r, t, 2);
		p->ntags++;
	}
	if (rc == 0 || r)
		pq.clear(r);
	if (rc) {
		project_rows_free(rows, (size_t)n);
		return rc;
	}
	*out = rows;
	*out_n = (size_t)n;
	return 0;
}

static int name_taken(cairn_store *s, const char *name, int64_t except, bool *taken)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, name);
	pg_param_int(&p, except);
	int64_t one;
	return pg_query_int(s, "look up the project",
	                    "SELECT 1 FROM projects WHERE name = $1 AND id != $2", &p, &one, taken);
}

int pg_project_create(cairn_store *s, const char *name, double now, int64_t *out_id)
{
	int rc = pg_begin(s);
	if (rc)
		return rc;
	bool taken, found;
	int64_t id = 0;
	if ((rc = name_taken(s, name, 0, &taken)) != 0)
		goto fail;
	if (taken) {
		rc = err_set(CAIRN_EEXISTS, "project '%s' already exists", name);
		goto fail;
	}
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, name);
	pg_param_double(&p, now);
	if ((rc = pg_query_int(s, "create the project",
	                       "INSERT INTO projects(name, created) VALUES($1, $2) RETURNING id",
	                       &p, &id, &found)) != 0)
		goto fail;
	if ((rc = pg_commit(s)) != 0)
		return rc;
	*out_id = id;
	return 0;
fail:
	pg_rollback(s);
	return rc;
}

/* Stamp project id as updated now; CAIRN_ENOTFOUND when there is none.
 * Inside the caller's transaction. */
static int touch(cairn_store *s, int64_t id, double now)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_double(&p, now);
	pg_param_int(&p, id);
	int64_t changed = 0;
	int rc = pg_run(s, "update the project", "UPDATE projects SET updated = $1 WHERE id = $2",
	                &p, &changed);
	if (rc == 0 && changed == 0)
		rc = err_set(CAIRN_ENOTFOUND, "no project with id %lld", (long long)id);
	return rc;
}

int pg_project_update(cairn_store *s, int64_t id, const char *name, int deleted, double now)
{
	int rc = pg_begin(s);
	if (rc)
		return rc;
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
		pg_params q = PG_PARAMS_INIT;
		pg_param_text(&q, name);
		pg_param_int(&q, id);
		if ((rc = pg_run(s, "rename the project",
		                 "UPDATE projects SET name = $1 WHERE id = $2", &q, NULL)) != 0)
			goto fail;
	}
	if (deleted >= 0) {
		pg_params q = PG_PARAMS_INIT;
		pg_param_int(&q, id);
		rc = deleted
		         ? pg_run(
		               s, "delete the project's runs",
		               "UPDATE runs SET deleted = 2 WHERE project_id = $1 AND deleted = 0",
		               &q, NULL)
		         : pg_run(
		               s, "restore the project's runs",
		               "UPDATE runs SET deleted = 0 WHERE project_id = $1 AND deleted = 2",
		               &q, NULL);
		pg_param_int(&q, deleted);
		if (rc == 0)
			rc = pg_run(s, "delete the project",
			            "UPDATE projects SET deleted = $2 WHERE id = $1", &q, NULL);
		if (rc)
			goto fail;
	}
	return pg_commit(s);
fail:
	pg_rollback(s);
	return rc;
}

int pg_project_tag_put(cairn_store *s, int64_t id, const char *key, const char *value, double now)
{
	int rc = pg_begin(s);
	if (rc)
		return rc;
	if ((rc = touch(s, id, now)) != 0)
		goto fail;
	pg_params q = PG_PARAMS_INIT;
	pg_param_int(&q, id);
	pg_param_text(&q, key);
	if (value) {
		pg_param_text(&q, value);
		rc = pg_run(s, "store the project's tag",
		            "INSERT INTO project_tags(project_id, key, value) VALUES($1, $2, $3)"
		            " ON CONFLICT(project_id, key) DO UPDATE SET value = excluded.value",
		            &q, NULL);
	} else {
		int64_t changed = 0;
		rc = pg_run(s, "remove the project's tag",
		            "DELETE FROM project_tags WHERE project_id = $1 AND key = $2", &q,
		            &changed);
		if (rc == 0 && changed == 0)
			rc = err_set(CAIRN_ENOTFOUND, "project %lld has no tag '%s'", (long long)id,
			             key);
	}
	if (rc)
		goto fail;
	return pg_commit(s);
fail:
	pg_rollback(s);
	return rc;
}

int pg_run_restore(cairn_store *s, int64_t rid)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	return pg_run(s, "restore the run", "UPDATE runs SET deleted = 0 WHERE rid = $1", &p, NULL);
}
