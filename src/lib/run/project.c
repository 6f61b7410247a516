/*
 * lib/run/project.c — projects as records (include/cairn/project.h) and
 * the run calls a client of another tool's API needs (cairn/run.h): ending
 * a run at a given time, setting a recorded attribute by name, restoring a
 * deleted run, recording a dataset that lives elsewhere.  MLflow's API
 * (src/server/mlflow*.c, docs/mlflow.md) is their first user.
 *
 * Every call validates its input and makes one store write (one
 * transaction).  Thread-safe as the store is.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "lib/run/run.h"
#include "lib/store/data.h"
#include "lib/store/project.h"
#include "lib/store/store.h"
#include "lib/store/sweep.h"
#include "util/utf8.h"

/* --- projects ------------------------------------------------------------------ */

void cairn_projects_free(cairn_project *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *)p[i].name);
		for (size_t t = 0; t < p[i].ntags; t++) {
			free((char *)p[i].tag_keys[t]);
			free((char *)p[i].tag_values[t]);
		}
		free((void *)p[i].tag_keys);
		free((void *)p[i].tag_values);
	}
	free(p);
}

int cairn_projects_get(cairn_project **out, size_t *n, cairn_store *s)
{
	return cairn_projects_get_ext(out, n, s, 0);
}

int cairn_projects_get_ext(cairn_project **out, size_t *n, cairn_store *s, unsigned flags)
{
	*out = NULL;
	*n = 0;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (flags & ~CAIRN_PROJECTS_NO_COUNTS)
		return err_set(CAIRN_EINVALID, "unknown project list flags 0x%x", flags);
	project_row *rows;
	size_t nr;
	int rc = store_project_list(s, !(flags & CAIRN_PROJECTS_NO_COUNTS), &rows, &nr);
	if (rc)
		return rc;
	cairn_project *p = calloc(nr ? nr : 1, sizeof *p);
	if (!p) {
		project_rows_free(rows, nr);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	/* the rows' strings move into the public array */
	for (size_t i = 0; i < nr; i++) {
		p[i] = (cairn_project){
		    .id = rows[i].id,
		    .name = rows[i].name,
		    .created = rows[i].created,
		    .updated = rows[i].updated,
		    .deleted = rows[i].deleted,
		    .runs = rows[i].runs,
		    .ntags = rows[i].ntags,
		    .tag_keys = (const char *const *)rows[i].tag_keys,
		    .tag_values = (const char *const *)rows[i].tag_values,
		};
		rows[i] = (project_row){0};
	}
	project_rows_free(rows, nr);
	*out = p;
	*n = nr;
	return 0;
}

int cairn_project_create(int64_t *out_id, cairn_store *s, const char *name)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = cairn_key_validate(name, "project name");
	return rc ? rc : store_project_create(s, name, store_now(s), out_id);
}

int cairn_project_rename(cairn_store *s, int64_t id, const char *name)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = cairn_key_validate(name, "project name");
	return rc ? rc : store_project_update(s, id, name, -1, store_now(s));
}

int cairn_project_set_deleted(cairn_store *s, int64_t id, int deleted)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	writer_flush(s);
	return store_project_update(s, id, NULL, deleted ? 1 : 0, store_now(s));
}

static int text_check(const char *what, const char *key, const char *value)
{
	size_t n = strlen(value), at;
	if (n > TEXT_VALUE_MAX)
		return err_set(CAIRN_ETOOBIG, "%s '%s' value too long (%zu bytes, at most %d)",
		               what, key, n, TEXT_VALUE_MAX);
	if (!utf8_valid(value, n, &at))
		return err_set(CAIRN_EINVALID, "%s '%s' value is not valid UTF-8 (at byte %zu)",
		               what, key, at);
	return 0;
}

int cairn_project_set_tag(cairn_store *s, int64_t id, const char *key, const char *value)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = cairn_key_validate(key, "project tag");
	if (rc == 0 && value)
		rc = text_check("project tag", key, value);
	return rc ? rc : store_project_tag_put(s, id, key, value, store_now(s));
}

/* --- runs ------------------------------------------------------------------------ */

int cairn_run_end(cairn_run *r, cairn_status status, double end_time)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	if (status > CAIRN_STATUS_PRUNED)
		return err_set(CAIRN_EINVALID, "unknown status %d", (int)status);
	int frc = writer_flush(r->store);
	int rc;
	if (status == CAIRN_STATUS_RUNNING)
		rc = store_run_reopen(r->store, r->rid, 0, NULL);
	else
		rc = store_run_finish(r->store, r->rid, status, STORE_NO_EXIT_CODE,
		                      end_time > 0 ? end_time : store_now(r->store));
	return rc ? rc : frc;
}

int cairn_run_set_attribute(cairn_run *r, const char *attr, const char *value)
{
	static const char *const cols[][2] = {
	    {"user", "user"},         {"commit", "git_commit"}, {"branch", "git_branch"},
	    {"remote", "git_remote"}, {"command", "command"},
	};
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	const char *col = NULL;
	for (size_t i = 0; attr && i < sizeof cols / sizeof cols[0]; i++)
		if (strcmp(attr, cols[i][0]) == 0)
			col = cols[i][1];
	if (!col)
		return err_set(CAIRN_EINVALID,
		               "'%s' is not an attribute that can be set (user, commit, branch, "
		               "remote, command)",
		               attr ? attr : "");
	if (value) {
		int rc = text_check("attribute", attr, value);
		if (rc)
			return rc;
	}
	return store_run_set_text(r->store, r->rid, col, value);
}

int cairn_run_restore(cairn_store *s, const char *id)
{
	int64_t rid;
	char full[33];
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = store_run_lookup(s, id, true, &rid, full);
	return rc ? rc : store_run_restore(s, rid);
}

int cairn_run_set_dataset(cairn_run *r, const cairn_run_dataset *d)
{
	if (!r || !d)
		return err_set(CAIRN_EINVALID, "no run or dataset");
	int rc = cairn_key_validate(d->name, "dataset name");
	if (rc)
		return rc;
	if (!d->path || !d->role || !d->digest)
		return err_set(CAIRN_EINVALID, "dataset '%s' needs a path, a role and a digest",
		               d->name);
	if (d->manifest)
		return err_set(CAIRN_EINVALID, "dataset '%s': a manifest is recorded by hashing",
		               d->name);
	const char *texts[] = {d->path, d->role, d->digest, d->algo ? d->algo : ""};
	for (size_t i = 0; i < 4; i++)
		if ((rc = text_check("dataset", d->name, texts[i])) != 0)
			return rc;
	dataset_row row = {
	    .name = (char *)d->name,
	    .path = (char *)d->path,
	    .role = (char *)d->role,
	    .algo = (char *)(d->algo ? d->algo : ""),
	    .digest = (char *)d->digest,
	    .files = d->files,
	    .bytes = d->bytes,
	};
	return store_dataset_put(r->store, r->rid, &row);
}
