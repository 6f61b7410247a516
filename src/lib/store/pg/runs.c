/*
 * lib/store/pg/runs.c — the PostgreSQL backend's runs: creating one (its
 * project and per-project sequence number, a generated name, its tags),
 * resolving an id, prefix or name, the text columns, finishing, the
 * heartbeat, deletion and purge, and the sweep of unreferenced objects.
 *
 * Invariants: a run's id is 32 random hex digits, unique; (project, seq)
 * is unique and seq is handed out by `UPDATE projects SET next_seq =
 * next_seq + 1 ... RETURNING` inside the inserting transaction: the row
 * lock it takes orders every concurrent insert into the project, in any
 * number of processes or servers, so no two runs share a number.  The
 * project row itself is made by INSERT ... ON CONFLICT DO NOTHING, which
 * waits for a concurrent creator instead of failing.
 *
 * Objects (docs/internals/store.md, "Objects, references and purge"):
 * writers record references holding the advisory lock PG_LOCK_OBJECTS
 * shared (pg_refs_begin); the sweep takes it exclusive before it reads the
 * references, and removes files only while it holds it.
 * Thread-safety: called with the store's lock held (pg.h).
 */
#include "lib/store/pg/pg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha.h"

int pg_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                  char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name)
{
	unsigned char rnd[20];
	int rc;
	PGresult *res = NULL;
	if (random_bytes(rnd, sizeof rnd) != 0)
		return err_set(CAIRN_ERROR, "cannot read random bytes: %s", strerror(errno));
	if (r->id)
		memcpy(out_id, r->id, 33);
	else
		hex_encode(out_id, rnd, 16);
	if ((rc = pg_begin(s)) != 0)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, r->project);
	pg_param_double(&p, store_now(s));
	if ((rc = pg_run(s, "create the project",
	                 "INSERT INTO projects(name, created) VALUES($1, $2)"
	                 " ON CONFLICT(name) DO NOTHING",
	                 &p, NULL)) != 0)
		goto fail;
	p.n = 1;
	if (r->seq > 0)
		pg_param_int(&p, r->seq);
	if (!(res = r->seq > 0
	                ? pg_exec(s, "number the run",
	                          "UPDATE projects SET next_seq = GREATEST(next_seq, $2 + 1)"
	                          " WHERE name = $1 RETURNING id, $2::bigint",
	                          &p)
	                : pg_exec(s, "number the run",
	                          "UPDATE projects SET next_seq = next_seq + 1 WHERE name = $1"
	                          " RETURNING id, next_seq - 1",
	                          &p))) {
		rc = cairn_error_last_code();
		goto fail;
	}
	if (pq.ntuples(res) != 1) {
		rc = err_set(CAIRN_ESTORE, "cannot number the run: project '%s' vanished",
		             r->project);
		goto fail;
	}
	int64_t pid = pg_get_int(res, 0, 0), seq = pg_get_int(res, 0, 1);
	pq.clear(res);
	res = NULL;

	char gen[96];
	const char *name = r->name;
	if (!name) {
		uint32_t x;
		memcpy(&x, rnd + 16, 4);
		name_generate(gen, sizeof gen, x, seq);
		name = gen;
	}
	int64_t parent = 0;
	if (r->parent) {
		char pid_hex[33];
		if ((rc = pg_run_lookup(s, r->parent, false, &parent, pid_hex)) != 0)
			goto fail;
	}
	pg_params q = PG_PARAMS_INIT;
	pg_param_text(&q, out_id);
	pg_param_int(&q, pid);
	pg_param_int(&q, seq);
	pg_param_text(&q, name);
	pg_param_double(&q, r->start_time);
	pg_param_text(&q, r->command);
	pg_param_text(&q, r->cwd);
	pg_param_text(&q, r->host);
	pg_param_text(&q, r->user);
	pg_param_int(&q, r->pid);
	pg_param_int_or_null(&q, parent != 0, parent);
	if (!(res = pg_exec(s, "create the run",
	                    "INSERT INTO runs(id, project_id, seq, name, status, start_time,"
	                    " heartbeat, command, cwd, host, user_name, pid, parent_rid)"
	                    " VALUES($1, $2, $3, $4, 0, $5, NULL, $6, $7, $8, $9, $10, $11)"
	                    " RETURNING rid",
	                    &q))) {
		rc = cairn_error_last_code();
		goto fail;
	}
	int64_t rid = pg_get_int(res, 0, 0);
	pq.clear(res);
	res = NULL;
	for (size_t i = 0; i < ntags; i++) {
		char *key;
		const char *value;
		if ((rc = store_tag_split(tags[i], &key, &value)) == 0)
			rc = pg_tag_put(s, rid, key ? key : tags[i], value, false);
		free(key);
		if (rc)
			goto fail;
	}
	if ((rc = pg_commit(s)) != 0)
		return rc;
	*out_rid = rid;
	*out_seq = seq;
	*out_name = strdup(name);
	return *out_name ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
fail:
	if (res)
		pq.clear(res);
	pg_rollback(s);
	return rc;
}

/* Is id made of hex digits only?  *n is its length. */
static bool is_hex(const char *id, size_t *n)
{
	size_t i = 0;
	for (; id[i]; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	*n = i;
	return true;
}

/* (rid, id) rows of r into rid/ids (at most 2); returns how many. */
static int collect_runs(PGresult *r, int64_t rid[2], char ids[2][33])
{
	int found = pq.ntuples(r) < 2 ? pq.ntuples(r) : 2;
	for (int i = 0; i < found; i++) {
		rid[i] = pg_get_int(r, i, 0);
		snprintf(ids[i], 33, "%s", pq.getvalue(r, i, 1));
	}
	pq.clear(r);
	return found;
}

/* As sqlite/runs.c: an id, a prefix of 4+ hex digits, or an exact name; a
 * prefix and a name that name different runs are ambiguous. */
int pg_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                  char out_id[33])
{
	size_t n = 0;
	if (!id || !*id)
		return err_set(CAIRN_EINVALID, "empty run id");
	if (strlen(id) > KEY_MAX)
		return err_set(CAIRN_EINVALID, "run id too long");
	bool hex = is_hex(id, &n);
	char lo[33], hi[34];
	if (hex && n >= 4 && n <= 32) {
		for (size_t i = 0; i <= n; i++)
			lo[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ? id[i] + 32 : id[i]);
		memcpy(hi, lo, n);
		hi[n] = 'g'; /* every hex digit sorts below 'g' (the column is COLLATE "C") */
		hi[n + 1] = '\0';
	} else {
		hex = false;
	}
	int64_t prid[2], nrid[2];
	char pids[2][33], nids[2][33];
	int np = 0, nn = 0;
	if (hex) {
		pg_params p = PG_PARAMS_INIT;
		pg_param_text(&p, lo);
		pg_param_text(&p, hi);
		pg_param_bool(&p, include_deleted);
		PGresult *r = pg_exec(s, "look up the run",
		                      "SELECT rid, id FROM runs WHERE id >= $1 AND id < $2"
		                      " AND ($3::boolean OR deleted = 0) ORDER BY id LIMIT 2",
		                      &p);
		if (!r)
			return cairn_error_last_code();
		np = collect_runs(r, prid, pids);
	}
	if (!(np == 1 && n == 32)) {
		pg_params p = PG_PARAMS_INIT;
		pg_param_text(&p, id);
		pg_param_bool(&p, include_deleted);
		PGresult *r = pg_exec(s, "look up the run",
		                      "SELECT rid, id FROM runs WHERE name = $1"
		                      " AND ($2::boolean OR deleted = 0) ORDER BY rid LIMIT 2",
		                      &p);
		if (!r)
			return cairn_error_last_code();
		nn = collect_runs(r, nrid, nids);
	}
	if (np == 0 && nn == 0)
		return err_set(CAIRN_ENOTFOUND, "no run '%s'", id);
	if (nn == 0 && np > 1)
		return err_set(CAIRN_EAMBIGUOUS,
		               "run id '%s' is ambiguous (matches several runs; give more digits)",
		               id);
	if (np == 0 && nn > 1)
		return err_set(CAIRN_EAMBIGUOUS,
		               "run name '%s' is ambiguous (several runs have it; give the id)",
		               id);
	if (np == 0 || (nn == 0 && np == 1) || (np == 1 && nn == 1 && prid[0] == nrid[0])) {
		bool by_name = np == 0;
		*out_rid = by_name ? nrid[0] : prid[0];
		memcpy(out_id, by_name ? nids[0] : pids[0], 33);
		return 0;
	}
	int k = nn > 1 && nrid[0] == prid[0] ? 1 : 0;
	return err_set(CAIRN_EAMBIGUOUS,
	               "run '%s' is ambiguous: it is the name of run %s%s and a prefix of the "
	               "id of run %s%s; give more digits of the id",
	               id, nids[k], nn > 1 ? " (and others)" : "", pids[0],
	               np > 1 ? " (and others)" : "");
}

int pg_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project, int64_t *out_seq)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	PGresult *r = pg_exec(s, "read the run",
	                      "SELECT r.name, p.name, r.seq FROM runs r JOIN projects p"
	                      " ON p.id = r.project_id WHERE r.rid = $1",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	int rc = 0;
	if (pq.ntuples(r) != 1) {
		rc = err_set(CAIRN_ENOTFOUND, "run vanished from the store");
	} else {
		*out_name = strdup(pq.getvalue(r, 0, 0));
		*out_project = strdup(pq.getvalue(r, 0, 1));
		*out_seq = pg_get_int(r, 0, 2);
		if (!*out_name || !*out_project)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	pq.clear(r);
	return rc;
}

int pg_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value)
{
	/* The column comes from a fixed list in this module, never from input. */
	static const char *const sqls[][2] = {
	    {"note", "UPDATE runs SET note = $1 WHERE rid = $2"},
	    {"name", "UPDATE runs SET name = $1 WHERE rid = $2"},
	    {"git_commit", "UPDATE runs SET git_commit = $1 WHERE rid = $2"},
	    {"git_branch", "UPDATE runs SET git_branch = $1 WHERE rid = $2"},
	    {"git_remote", "UPDATE runs SET git_remote = $1 WHERE rid = $2"},
	    {"git_dirty", "UPDATE runs SET git_dirty = CAST($1 AS INTEGER) WHERE rid = $2"},
	    {"code_oid", "UPDATE runs SET code_oid = $1 WHERE rid = $2"},
	    {"env_oid", "UPDATE runs SET env_oid = $1 WHERE rid = $2"},
	    {"command", "UPDATE runs SET command = $1 WHERE rid = $2"},
	    {"user", "UPDATE runs SET user_name = $1 WHERE rid = $2"},
	};
	const char *sql = NULL;
	for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++)
		if (strcmp(sqls[i][0], column) == 0)
			sql = sqls[i][1];
	if (!sql)
		return err_set(CAIRN_ERROR, "internal: unknown run column '%s'", column);
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, value);
	pg_param_int(&p, rid);
	return pg_run(s, "update the run", sql, &p, NULL);
}

int pg_run_finish(cairn_store *s, int64_t rid, cairn_status status, int exit_code, double end)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, (int)status);
	pg_param_int_or_null(&p, exit_code != STORE_NO_EXIT_CODE, exit_code);
	pg_param_double(&p, end);
	pg_param_int(&p, rid);
	return pg_run(s, "finish the run",
	              "UPDATE runs SET status = $1, exit_code = $2, end_time = $3 WHERE rid = $4",
	              &p, NULL);
}

int pg_heartbeat(cairn_store *s, int64_t rid, double now)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_double(&p, now);
	pg_param_int(&p, rid);
	return pg_run(s, "record the heartbeat", "UPDATE runs SET heartbeat = $1 WHERE rid = $2",
	              &p, NULL);
}

/* --- deletion, purge and the object sweep --------------------------------------------- */

int pg_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans)
{
	int rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	if (!purge)
		return pg_run(s, "delete the run", "UPDATE runs SET deleted = 1 WHERE rid = $1", &p,
		              NULL);
	if ((rc = pg_begin(s)) != 0)
		return rc;
	/* Objects no other run references are candidates: the caller sweeps
	 * them after the commit (pg_objects_sweep checks again). */
	PGresult *r = pg_exec(s, "purge the run",
	                      "SELECT oid FROM object_refs r WHERE rid = $1 AND NOT EXISTS"
	                      " (SELECT 1 FROM object_refs o WHERE o.oid = r.oid AND o.rid <> $1)",
	                      &p);
	if (!r) {
		rc = cairn_error_last_code();
		goto fail;
	}
	for (int i = 0; orphans && i < pq.ntuples(r); i++)
		if (strlen(pq.getvalue(r, i, 0)) == 64)
			buf_printf(orphans, "%s\n", pq.getvalue(r, i, 0));
	pq.clear(r);
	static const char *const dels[] = {
	    "DELETE FROM object_refs WHERE rid = $1",
	    "DELETE FROM metric_points WHERE rid = $1",
	    "DELETE FROM metric_summary WHERE rid = $1",
	    "DELETE FROM metric_tiles WHERE rid = $1",
	    "DELETE FROM params WHERE rid = $1",
	    "DELETE FROM tags WHERE rid = $1",
	    "DELETE FROM properties WHERE rid = $1",
	    "DELETE FROM artifacts WHERE rid = $1",
	    "DELETE FROM datasets WHERE rid = $1",
	    "DELETE FROM sweep_trials WHERE sweep_rid = $1",
	    "DELETE FROM runs WHERE rid = $1",
	};
	for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++)
		if ((rc = pg_run(s, "purge the run", dels[i], &p, NULL)) != 0)
			goto fail;
	return pg_commit(s);
fail:
	pg_rollback(s);
	return rc;
}

int pg_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed)
{
	int rc;
	size_t removed = 0;
	if (out_removed)
		*out_removed = 0;
	if (!candidates || !candidates->len)
		return 0;
	store_hook(s, "sweep");
	if ((rc = pg_begin(s)) != 0)
		return rc;
	/* Exclusive: every writer that checked its files under the shared lock
	 * has committed its references, and none can check until we commit. */
	pg_params l = PG_PARAMS_INIT;
	pg_param_int(&l, PG_LOCK_OBJECTS);
	if ((rc = pg_run(s, "lock the objects", "SELECT pg_advisory_xact_lock($1::bigint)", &l,
	                 NULL)) != 0)
		goto fail;
	const char *line = candidates->ptr;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char oid[CAIRN_OID_HEXSZ + 1];
		if (n == CAIRN_OID_HEXSZ) {
			memcpy(oid, line, n);
			oid[n] = '\0';
			pg_params p = PG_PARAMS_INIT;
			pg_param_text(&p, oid);
			int64_t live = 1;
			if ((rc = pg_query_int(
			         s, "check an object before removing it",
			         "SELECT (EXISTS(SELECT 1 FROM object_refs WHERE oid = $1) OR"
			         " EXISTS(SELECT 1 FROM code_map WHERE oid = $1 AND"
			         " substr(key, 1, 4) <> 'tree') OR"
			         " EXISTS(SELECT 1 FROM artifacts WHERE oid = $1))::int",
			         &p, &live, NULL)) != 0)
				goto fail;
			if (!live) {
				if ((rc = pg_run(s, "forget a cached object",
				                 "DELETE FROM code_map WHERE oid = $1", &p,
				                 NULL)) != 0)
					goto fail;
				object_remove(s, oid);
				removed++;
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	rc = pg_commit(s);
	if (rc == 0 && out_removed)
		*out_removed = removed;
	return rc;
fail:
	pg_rollback(s);
	return rc;
}
