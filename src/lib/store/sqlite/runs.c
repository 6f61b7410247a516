/*
 * lib/store/sqlite/runs.c — the SQLite backend's runs: creating one (its
 * project and per-project sequence number, a generated name, its tags),
 * resolving an id, prefix or name, the text columns, finishing and the
 * heartbeat.
 *
 * Invariants: a run's id is 32 random hex digits, unique; (project, seq)
 * is unique and seq is handed out by projects.next_seq in the inserting
 * transaction, so two processes never number two runs alike.
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha.h"

int sqlite_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                      char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name)
{
	unsigned char rnd[20];
	int rc;
	if (random_bytes(rnd, sizeof rnd) != 0)
		return err_set(CAIRN_ERROR, "cannot read random bytes: %s", strerror(errno));
	if (r->id)
		memcpy(out_id, r->id, 33);
	else
		hex_encode(out_id, rnd, 16);

	if ((rc = store_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st = store_prep(s, "INSERT INTO projects(name, created) VALUES(?, ?) "
	                                 "ON CONFLICT(name) DO NOTHING");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	store_bind_text(st, 1, r->project);
	sqlite3_bind_double(st, 2, store_now(s));
	if ((rc = store_step_done(s, st, "create the project")) != 0)
		goto fail;
	st = r->seq > 0
	         ? store_prep(s, "UPDATE projects SET next_seq = max(next_seq, ?2 + 1)"
	                         " WHERE name = ?1 RETURNING id, ?2")
	         : store_prep(s, "UPDATE projects SET next_seq = next_seq + 1 WHERE name = ? "
	                         "RETURNING id, next_seq - 1");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	store_bind_text(st, 1, r->project);
	if (r->seq > 0)
		sqlite3_bind_int64(st, 2, r->seq);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_sqlerr(s, "number the run");
		sqlite3_reset(st);
		goto fail;
	}
	int64_t pid = sqlite3_column_int64(st, 0);
	int64_t seq = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);

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
		if ((rc = sqlite_run_lookup(s, r->parent, false, &parent, pid_hex)) != 0)
			goto fail;
	}
	st = store_prep(s, "INSERT INTO runs(id, project_id, seq, name, status, start_time,"
	                   " heartbeat, command, cwd, host, user, pid, parent_rid)"
	                   " VALUES(?, ?, ?, ?, 0, ?, NULL, ?, ?, ?, ?, ?, ?)");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	store_bind_text(st, 1, out_id);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, seq);
	store_bind_text(st, 4, name);
	sqlite3_bind_double(st, 5, r->start_time);
	store_bind_text(st, 6, r->command);
	store_bind_text(st, 7, r->cwd);
	store_bind_text(st, 8, r->host);
	store_bind_text(st, 9, r->user);
	sqlite3_bind_int(st, 10, r->pid);
	if (parent)
		sqlite3_bind_int64(st, 11, parent);
	if ((rc = store_step_done(s, st, "create the run")) != 0)
		goto fail;
	int64_t rid = sqlite3_last_insert_rowid(store_sqlite_db(s));
	for (size_t i = 0; i < ntags; i++) {
		char *key;
		const char *value;
		if ((rc = store_tag_split(tags[i], &key, &value)) == 0)
			rc = sqlite_tag_put(s, rid, key ? key : tags[i], value, false);
		free(key);
		if (rc)
			goto fail;
	}
	if ((rc = store_commit(s)) != 0)
		goto done;
	*out_rid = rid;
	*out_seq = seq;
	*out_name = strdup(name);
	if (!*out_name)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	goto done;
fail:
	store_rollback(s);
done:
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

/* Step through (rid, id) rows into m (at most 2: one says "found", two say
 * "ambiguous"); returns how many there were. */
static int collect_runs(sqlite3_stmt *st, int64_t rid[2], char ids[2][33])
{
	int found = 0;
	while (found < 2 && sqlite3_step(st) == SQLITE_ROW) {
		rid[found] = sqlite3_column_int64(st, 0);
		memcpy(ids[found], sqlite3_column_text(st, 1), 33);
		found++;
	}
	sqlite3_reset(st);
	return found;
}

/*
 * A run is named by its id (32 hex digits), a prefix of 4+ hex digits of
 * it, or its exact name.  A full id is always exact.  Anything else may be
 * both a prefix and a name: when the two name different runs (a run called
 * "3fa2b1c0", another whose id starts so), the lookup refuses to choose and
 * names both, rather than let the prefix silently win.
 */
int sqlite_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                      char out_id[33])
{
	size_t n = 0;
	int rc = 0;
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
		hi[n] = 'g'; /* every hex digit sorts below 'g' */
		hi[n + 1] = '\0';
	} else {
		hex = false;
	}
	int64_t prid[2], nrid[2];
	char pids[2][33], nids[2][33];
	int np = 0, nn = 0;
	if (hex) {
		sqlite3_stmt *st = store_prep(s, "SELECT rid, id FROM runs WHERE id >= ? AND id < ?"
		                                 " AND (? OR deleted = 0) ORDER BY id LIMIT 2");
		if (!st) {
			rc = cairn_error_last_code();
			goto done;
		}
		store_bind_text(st, 1, lo);
		store_bind_text(st, 2, hi);
		sqlite3_bind_int(st, 3, include_deleted);
		np = collect_runs(st, prid, pids);
	}
	/* A full id that names a run is exact; otherwise the name may match. */
	if (!(np == 1 && n == 32)) {
		sqlite3_stmt *st = store_prep(
		    s, "SELECT rid, id FROM runs WHERE name = ? AND (? OR deleted = 0) LIMIT 2");
		if (!st) {
			rc = cairn_error_last_code();
			goto done;
		}
		store_bind_text(st, 1, id);
		sqlite3_bind_int(st, 2, include_deleted);
		nn = collect_runs(st, nrid, nids);
	}
	if (np == 0 && nn == 0) {
		rc = err_set(CAIRN_ENOTFOUND, "no run '%s'", id);
	} else if (nn == 0 && np > 1) {
		rc = err_set(CAIRN_EAMBIGUOUS,
		             "run id '%s' is ambiguous (matches several runs; give more digits)",
		             id);
	} else if (np == 0 && nn > 1) {
		rc = err_set(CAIRN_EAMBIGUOUS,
		             "run name '%s' is ambiguous (several runs have it; give the id)", id);
	} else if (np == 0 || (nn == 0 && np == 1) || (np == 1 && nn == 1 && prid[0] == nrid[0])) {
		bool by_name = np == 0;
		*out_rid = by_name ? nrid[0] : prid[0];
		memcpy(out_id, by_name ? nids[0] : pids[0], 33);
	} else {
		/* name one run the name matches that the prefix does not */
		int k = nn > 1 && nrid[0] == prid[0] ? 1 : 0;
		rc =
		    err_set(CAIRN_EAMBIGUOUS,
		            "run '%s' is ambiguous: it is the name of run %s%s and a prefix of the "
		            "id of run %s%s; give more digits of the id",
		            id, nids[k], nn > 1 ? " (and others)" : "", pids[0],
		            np > 1 ? " (and others)" : "");
	}
done:
	return rc;
}

int sqlite_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project,
                     int64_t *out_seq)
{
	int rc = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT r.name, p.name, r.seq FROM runs r JOIN projects p"
	                                 " ON p.id = r.project_id WHERE r.rid = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = err_set(CAIRN_ENOTFOUND, "run vanished from the store");
		sqlite3_reset(st);
		goto done;
	}
	*out_name = strdup((const char *)sqlite3_column_text(st, 0));
	*out_project = strdup((const char *)sqlite3_column_text(st, 1));
	*out_seq = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (!*out_name || !*out_project)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	return rc;
}

int sqlite_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value)
{
	/* The column comes from a fixed list in this module, never from input. */
	static const char *const sqls[][2] = {
	    {"note", "UPDATE runs SET note = ? WHERE rid = ?"},
	    {"name", "UPDATE runs SET name = ? WHERE rid = ?"},
	    {"git_commit", "UPDATE runs SET git_commit = ? WHERE rid = ?"},
	    {"git_branch", "UPDATE runs SET git_branch = ? WHERE rid = ?"},
	    {"git_remote", "UPDATE runs SET git_remote = ? WHERE rid = ?"},
	    {"git_dirty", "UPDATE runs SET git_dirty = CAST(? AS INTEGER) WHERE rid = ?"},
	    {"code_oid", "UPDATE runs SET code_oid = ? WHERE rid = ?"},
	    {"env_oid", "UPDATE runs SET env_oid = ? WHERE rid = ?"},
	    {"command", "UPDATE runs SET command = ? WHERE rid = ?"},
	    {"user", "UPDATE runs SET user = ? WHERE rid = ?"},
	};
	const char *sql = NULL;
	for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++)
		if (strcmp(sqls[i][0], column) == 0)
			sql = sqls[i][1];
	if (!sql)
		return err_set(CAIRN_ERROR, "internal: unknown run column '%s'", column);
	sqlite3_stmt *st = store_prep(s, sql);
	if (st) {
		store_bind_text(st, 1, value);
		sqlite3_bind_int64(st, 2, rid);
	}
	int rc = store_write1(s, st, "update the run");
	return rc;
}

int sqlite_run_finish(cairn_store *s, int64_t rid, cairn_status status, int exit_code, double end)
{
	sqlite3_stmt *st =
	    store_prep(s, "UPDATE runs SET status = ?, exit_code = ?, end_time = ? WHERE rid = ?");
	if (st) {
		sqlite3_bind_int(st, 1, (int)status);
		if (exit_code != STORE_NO_EXIT_CODE)
			sqlite3_bind_int(st, 2, exit_code);
		sqlite3_bind_double(st, 3, end);
		sqlite3_bind_int64(st, 4, rid);
	}
	int rc = store_write1(s, st, "finish the run");
	return rc;
}

int sqlite_heartbeat(cairn_store *s, int64_t rid, double now)
{
	sqlite3_stmt *st = store_prep(s, "UPDATE runs SET heartbeat = ? WHERE rid = ?");
	if (st) {
		sqlite3_bind_double(st, 1, now);
		sqlite3_bind_int64(st, 2, rid);
	}
	int rc = store_write1(s, st, "record the heartbeat");
	return rc;
}
