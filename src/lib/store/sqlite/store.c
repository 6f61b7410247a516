/*
 * lib/store/sqlite/store.c — the SQLite store: opening, schema migrations, and the SQL of
 * runs, params, metrics, tags, properties and artifacts.
 *
 * Owns the connection of a cairn_store.  Invariants:
 *  - the schema version is PRAGMA user_version, the application id marks the
 *    file as ours; migrations only move forward, each in one transaction;
 *  - metric points live in metric_points (WITHOUT ROWID, clustered by
 *    run, key, step, timestamp); metric_summary is updated in the same
 *    transaction as the points, so reads never scan points;
 *  - NaN is stored as NULL (SQLite cannot store NaN); ±Inf are stored as is;
 *  - a reference to an object commits only after its file was found there
 *    under the write lock, and a purge removes a file only under that lock
 *    after finding nothing that references it, so no committed reference
 *    names a missing file (docs/internals/store.md).
 * Thread-safety: every entry point holds the store's recursive lock.
 * Multi-process: WAL mode, writes begin IMMEDIATE with a long busy timeout.
 */
#include "lib/store/sqlite/sqlite.h"
#include "lib/store/browse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/json.h"
#include "util/sha.h"

/* --- the schema --------------------------------------------------------- */

static const char *const migrations[] = {
    /* 1: everything the first release records. */
    "CREATE TABLE projects("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  next_seq INTEGER NOT NULL DEFAULT 1, created REAL NOT NULL);"
    "CREATE TABLE runs("
    "  rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id), seq INTEGER NOT NULL,"
    "  name TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 0,"
    "  start_time REAL NOT NULL, end_time REAL, heartbeat REAL, exit_code INTEGER,"
    "  command TEXT, cwd TEXT, host TEXT, user TEXT, pid INTEGER, note TEXT,"
    "  parent_rid INTEGER, git_commit TEXT, git_branch TEXT, git_remote TEXT,"
    "  git_dirty INTEGER, code_oid TEXT, env_oid TEXT,"
    "  deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX runs_project_seq ON runs(project_id, seq);"
    "CREATE INDEX runs_start ON runs(start_time);"
    "CREATE TABLE keys(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE params(rid INTEGER NOT NULL, kid INTEGER NOT NULL,"
    "  type INTEGER NOT NULL, value, PRIMARY KEY(rid, kid)) WITHOUT ROWID;"
    "CREATE TABLE metric_points(rid INTEGER NOT NULL, kid INTEGER NOT NULL,"
    "  step INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,"
    "  PRIMARY KEY(rid, kid, step, ts)) WITHOUT ROWID;"
    "CREATE TABLE metric_summary(rid INTEGER NOT NULL, kid INTEGER NOT NULL,"
    "  last REAL, last_step INTEGER NOT NULL, last_ts INTEGER NOT NULL,"
    "  min REAL, max REAL, count INTEGER NOT NULL, PRIMARY KEY(rid, kid)) WITHOUT ROWID;"
    "CREATE TABLE tags(rid INTEGER NOT NULL, tag TEXT NOT NULL,"
    "  PRIMARY KEY(rid, tag)) WITHOUT ROWID;"
    "CREATE TABLE properties(rid INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY(rid, key)) WITHOUT ROWID;"
    "CREATE TABLE artifacts(rid INTEGER NOT NULL, path TEXT NOT NULL, oid TEXT NOT NULL,"
    "  size INTEGER NOT NULL, media_type TEXT, kind TEXT NOT NULL, key TEXT, step INTEGER,"
    "  created REAL NOT NULL, PRIMARY KEY(rid, path)) WITHOUT ROWID;"
    "CREATE TABLE datasets(rid INTEGER NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL,"
    "  role TEXT NOT NULL, algo TEXT NOT NULL, digest TEXT NOT NULL, files INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL, manifest_oid TEXT, created REAL NOT NULL,"
    "  PRIMARY KEY(rid, name)) WITHOUT ROWID;"
    "CREATE TABLE hash_cache(dev INTEGER NOT NULL, ino INTEGER NOT NULL, algo TEXT NOT NULL,"
    "  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
    "  digest TEXT NOT NULL, PRIMARY KEY(dev, ino, algo)) WITHOUT ROWID;"
    "CREATE TABLE object_refs(rid INTEGER NOT NULL, oid TEXT NOT NULL,"
    "  PRIMARY KEY(rid, oid)) WITHOUT ROWID;"
    "CREATE INDEX object_refs_oid ON object_refs(oid);",
    /* 2: indexes for the query paths (filter by param / metric / tag). */
    "CREATE INDEX params_kid_value ON params(kid, value, rid);"
    "CREATE INDEX metric_summary_kid_last ON metric_summary(kid, last, rid);"
    "CREATE INDEX tags_tag ON tags(tag, rid);",
    /* 3: metric tiles, so a thinned history reads ~1/256 of a long series
     * (store-browse.c): per run, key and 256-step tile, the number of points
     * and the lowest, highest and first NaN point, folded in with each batch
     * of points (store_tiles_fold) and filled here for points already stored,
     * dropped with their run by a trigger; and an index
     * that counts a project's live runs without reading the runs. */
    "CREATE TABLE metric_tiles(rid INTEGER NOT NULL, kid INTEGER NOT NULL, tile INTEGER NOT NULL,"
    "  n INTEGER NOT NULL, lo REAL, lo_step INTEGER, lo_ts INTEGER, hi REAL, hi_step INTEGER,"
    "  hi_ts INTEGER, nan_step INTEGER, nan_ts INTEGER,"
    "  PRIMARY KEY(rid, kid, tile)) WITHOUT ROWID;"
    "INSERT INTO metric_tiles(rid, kid, tile, n, lo, hi)"
    "  SELECT rid, kid, step >> 8, count(*), min(value), max(value) FROM metric_points"
    "  GROUP BY rid, kid, step >> 8;"
    "UPDATE metric_tiles SET"
    "  (lo_step, lo_ts) = (SELECT step, ts FROM metric_points p WHERE p.rid = metric_tiles.rid"
    "    AND p.kid = metric_tiles.kid AND p.step BETWEEN metric_tiles.tile << 8"
    "    AND (metric_tiles.tile << 8) + 255 AND p.value = metric_tiles.lo"
    "    ORDER BY step, ts LIMIT 1),"
    "  (hi_step, hi_ts) = (SELECT step, ts FROM metric_points p WHERE p.rid = metric_tiles.rid"
    "    AND p.kid = metric_tiles.kid AND p.step BETWEEN metric_tiles.tile << 8"
    "    AND (metric_tiles.tile << 8) + 255 AND p.value = metric_tiles.hi"
    "    ORDER BY step, ts LIMIT 1),"
    "  (nan_step, nan_ts) = (SELECT step, ts FROM metric_points p WHERE p.rid = metric_tiles.rid"
    "    AND p.kid = metric_tiles.kid AND p.step BETWEEN metric_tiles.tile << 8"
    "    AND (metric_tiles.tile << 8) + 255 AND p.value IS NULL ORDER BY step, ts LIMIT 1);"
    "CREATE TRIGGER runs_delete_tiles AFTER DELETE ON runs BEGIN"
    "  DELETE FROM metric_tiles WHERE rid = OLD.rid;"
    "END;"
    "CREATE INDEX runs_project_live ON runs(project_id, deleted);",
    /* 4: code capture: which stored object holds a git blob's bytes
     * ("blob:<sha1>") or a committed tree's manifest ("tree:<sha1>:<cap>"). */
    "CREATE TABLE code_map(key TEXT PRIMARY KEY, oid TEXT NOT NULL,"
    "  size INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",
    /* 5: indexes for the query compiler (docs/internals/query.md): params by
     * (key, value) with the type covered so typed comparisons never read the
     * table; the visible-run set; the run attributes a query filters on. */
    "DROP INDEX params_kid_value;"
    "CREATE INDEX params_kid_value_type ON params(kid, value, type, rid);"
    "CREATE INDEX runs_visible ON runs(deleted, project_id);"
    "CREATE INDEX runs_name ON runs(name);"
    "CREATE INDEX runs_status ON runs(status, heartbeat);"
    "CREATE INDEX runs_end ON runs(end_time);"
    "CREATE INDEX runs_commit ON runs(git_commit);"
    "CREATE INDEX runs_branch ON runs(git_branch);"
    "CREATE INDEX properties_key_value ON properties(key, value, rid);"
    "CREATE INDEX datasets_name_digest ON datasets(name, digest, rid);",
    /* 6: purge asks whether the code map still names an object before it
     * removes the file (docs/internals/store.md, "Objects, references and
     * purge"). */
    "CREATE INDEX code_map_oid ON code_map(oid);",
    /* 7: sweeps (store-sweep.c): the trial queue of a sweep run, and an
     * index for a sweep's children (`parent = SWEEP` queries). */
    "CREATE TABLE sweep_trials(sweep_rid INTEGER NOT NULL, trial INTEGER NOT NULL,"
    "  state INTEGER NOT NULL, params TEXT NOT NULL, run_rid INTEGER, value REAL,"
    "  owner TEXT, updated REAL NOT NULL, PRIMARY KEY(sweep_rid, trial)) WITHOUT ROWID;"
    "CREATE INDEX sweep_trials_state ON sweep_trials(sweep_rid, state, trial);"
    "CREATE INDEX runs_parent ON runs(parent_rid);"
    "CREATE TRIGGER runs_delete_trials AFTER DELETE ON runs BEGIN"
    "  DELETE FROM sweep_trials WHERE sweep_rid = OLD.rid;"
    "END;",
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_schema_latest(void)
{
	return NMIGRATIONS;
}

/* --- plumbing ------------------------------------------------------------- */

double store_now(const cairn_store *s)
{
	return s && s->pinned_now > 0 ? s->pinned_now : clock_now();
}

int64_t store_now_ms(const cairn_store *s)
{
	return s && s->pinned_now > 0 ? (int64_t)llround(s->pinned_now * 1000.0) : clock_now_ms();
}

void store_clock_pin(cairn_store *s, double now)
{
	s->pinned_now = now > 0 ? now : 0;
}

void store_test_hook(cairn_store *s, store_hook_fn fn, void *arg)
{
	store_lock(s);
	s->hook = fn;
	s->hook_arg = arg;
	store_unlock(s);
}

static void hook(cairn_store *s, const char *point)
{
	if (s->hook)
		s->hook(s, point, s->hook_arg);
}

void store_lock(cairn_store *s)
{
	pthread_mutex_lock(&s->lock);
}

void store_unlock(cairn_store *s)
{
	pthread_mutex_unlock(&s->lock);
}

int store_sqlerr(cairn_store *s, const char *what)
{
	int rc = sqlite3_errcode(s->db);
	int code = CAIRN_ESTORE;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		code = CAIRN_EBUSY;
	else if (rc == SQLITE_READONLY)
		return err_set(CAIRN_ESTORE, "cannot %s: store '%s' is read-only", what, s->dir);
	else if (rc == SQLITE_FULL)
		return err_set(CAIRN_EIO, "cannot %s: disk full", what);
	return err_set(code, "cannot %s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *store_prep(cairn_store *s, const char *sql)
{
	for (int i = 0; i < s->nstmts; i++) {
		if (s->stmts[i].sql == sql) {
			sqlite3_stmt *st = s->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	sqlite3_stmt *st = NULL;
	if (s->nstmts >= STMT_CACHE_SIZE) {
		err_set(CAIRN_ERROR, "internal: statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		store_sqlerr(s, "prepare a statement");
		return NULL;
	}
	s->stmts[s->nstmts].sql = sql;
	s->stmts[s->nstmts].st = st;
	s->nstmts++;
	return st;
}

static int exec(cairn_store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(s, what);
	return 0;
}

sqlite3 *store_sqlite_db(cairn_store *s)
{
	return s->db;
}

int store_read_begin(cairn_store *s, bool *own)
{
	*own = sqlite3_get_autocommit(s->db) != 0;
	if (*own && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(s, "begin a read");
	return 0;
}

void store_read_end(cairn_store *s, bool own)
{
	if (own && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

int store_begin(cairn_store *s)
{
	/* The busy handler waits for the write lock; retry a few times beyond it
	 * so heavy multi-process logging never surfaces a lock error. */
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 5)
			return store_sqlerr(s, "begin a transaction");
	}
}

int store_commit(cairn_store *s)
{
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (rc != SQLITE_BUSY || attempt >= 5) {
			int e = store_sqlerr(s, "commit");
			store_rollback(s);
			return e;
		}
	}
}

void store_rollback(cairn_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int step_done(cairn_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlerr(s, what);
	return 0;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

void store_bind_double_nan(sqlite3_stmt *st, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

double store_column_double_nan(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* --- opening and migrating -------------------------------------------------- */

static int pragma_int(cairn_store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_sqlerr(s, "read the store header");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*out = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return store_sqlerr(s, "read the store header");
	return 0;
}

int store_schema_version(cairn_store *s, int *out)
{
	store_lock(s);
	int rc = pragma_int(s, "PRAGMA user_version", out);
	store_unlock(s);
	return rc;
}

int store_migrate(cairn_store *s, int target)
{
	int rc, version, appid;
	if (target > NMIGRATIONS)
		target = NMIGRATIONS;
	store_lock(s);
	if ((rc = pragma_int(s, "PRAGMA user_version", &version)) != 0)
		goto done;
	if (version >= target)
		goto done;
	if ((rc = store_begin(s)) != 0)
		goto done;
	/* Re-read inside the write transaction: another process may have migrated. */
	if ((rc = pragma_int(s, "PRAGMA user_version", &version)) != 0 ||
	    (rc = pragma_int(s, "PRAGMA application_id", &appid)) != 0)
		goto fail;
	for (int v = version; v < target; v++) {
		if ((rc = exec(s, migrations[v], "migrate the store schema")) != 0)
			goto fail;
	}
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", target,
	         SCHEMA_APP_ID);
	if ((rc = exec(s, sql, "migrate the store schema")) != 0)
		goto fail;
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	store_unlock(s);
	return rc;
}

int store_db_open(cairn_store *s, bool create)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(s->db_path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_CANTOPEN && access(s->dir, W_OK) != 0 && errno == EACCES)
			return err_set(CAIRN_ESTORE, "cannot open store '%s': permission denied",
			               s->dir);
		return err_set(CAIRN_ESTORE, "cannot open store '%s': %s", s->dir,
		               s->db ? sqlite3_errmsg(s->db) : "out of memory");
	}
	sqlite3_busy_timeout(s->db, 60000);
	sqlite3_extended_result_codes(s->db, 0);

	int appid = 0, version = 0, ntables = 0;
	if (pragma_int(s, "PRAGMA application_id", &appid) != 0) {
		int ec = sqlite3_errcode(s->db);
		if (ec == SQLITE_READONLY || ec == SQLITE_CANTOPEN || ec == SQLITE_PERM)
			return err_set(CAIRN_ESTORE,
			               "cannot open store '%s': it is read-only for this user (%s)",
			               s->dir, sqlite3_errmsg(s->db));
		return err_set(CAIRN_ESTORE, "'%s' is not a cairn store (%s)", s->db_path,
		               sqlite3_errmsg(s->db));
	}
	if (pragma_int(s, "PRAGMA user_version", &version) != 0 ||
	    pragma_int(s, "SELECT count(*) FROM sqlite_schema", &ntables) != 0)
		return err_set(CAIRN_ESTORE, "'%s' is not a cairn store (%s)", s->db_path,
		               sqlite3_errmsg(s->db));
	if (appid != SCHEMA_APP_ID && (appid != 0 || ntables != 0 || version != 0))
		return err_set(CAIRN_ESTORE,
		               "'%s' is not a cairn store (it is an SQLite database of another "
		               "program)",
		               s->db_path);
	if (version > NMIGRATIONS)
		return err_set(CAIRN_ESTORE,
		               "store '%s' has schema version %d; this cairn knows up to %d "
		               "(upgrade cairn)",
		               s->dir, version, NMIGRATIONS);
	/* WAL lets readers run beside the writer; NORMAL sync is durable across
	 * process crashes (kill -9), which is the failure the tests exercise. */
	int wal_ok = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(st, 0);
			wal_ok = m && strcmp((const char *)m, "wal") == 0;
		}
		sqlite3_finalize(st);
	}
	if (!wal_ok && access(s->db_path, W_OK) == 0)
		return store_sqlerr(s, "switch the store to WAL mode");
	exec(s,
	     "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"
	     "PRAGMA cache_size=-65536",
	     "configure the store");
	if (version < NMIGRATIONS)
		return store_migrate(s, NMIGRATIONS);
	return 0;
}

/* --- runs ----------------------------------------------------------------- */

int store_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                     char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name)
{
	unsigned char rnd[20];
	int rc;
	if (random_bytes(rnd, sizeof rnd) != 0)
		return err_set(CAIRN_ERROR, "cannot read random bytes: %s", strerror(errno));
	hex_encode(out_id, rnd, 16);

	store_lock(s);
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
	if ((rc = step_done(s, st, "create the project")) != 0)
		goto fail;
	st = store_prep(s, "UPDATE projects SET next_seq = next_seq + 1 WHERE name = ? "
	                   "RETURNING id, next_seq - 1");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	store_bind_text(st, 1, r->project);
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
		if ((rc = store_run_lookup(s, r->parent, false, &parent, pid_hex)) != 0)
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
	if ((rc = step_done(s, st, "create the run")) != 0)
		goto fail;
	int64_t rid = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; i < ntags; i++)
		if ((rc = store_tag_put(s, rid, tags[i], false)) != 0)
			goto fail;
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
	store_unlock(s);
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
int store_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
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
	store_lock(s);
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
	store_unlock(s);
	return rc;
}

int store_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project,
                    int64_t *out_seq)
{
	int rc = 0;
	store_lock(s);
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
	store_unlock(s);
	return rc;
}

int store_key_intern(cairn_store *s, const char *name, int64_t *out_kid)
{
	int rc = 0;
	store_lock(s);
	sqlite3_stmt *st = store_prep(s, "SELECT id FROM keys WHERE name = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out_kid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		goto done;
	}
	sqlite3_reset(st);
	if ((rc = store_begin(s)) != 0)
		goto done;
	st = store_prep(s, "INSERT INTO keys(name) VALUES(?) ON CONFLICT(name) DO UPDATE SET"
	                   " name = excluded.name RETURNING id");
	if (!st) {
		rc = cairn_error_last_code();
		store_rollback(s);
		goto done;
	}
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_sqlerr(s, "record a key");
		sqlite3_reset(st);
		store_rollback(s);
		goto done;
	}
	*out_kid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	rc = store_commit(s);
done:
	store_unlock(s);
	return rc;
}

int store_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step)
{
	int rc = 0;
	store_lock(s);
	sqlite3_stmt *st =
	    store_prep(s, "SELECT last_step FROM metric_summary WHERE rid = ? AND kid = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, kid);
	*out_step = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out_step = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
done:
	store_unlock(s);
	return rc;
}

/* --- metrics -------------------------------------------------------------- */

typedef struct summ {
	int64_t rid, kid;
	double last, min, max;
	int64_t last_step, last_ts, count;
	bool used, has_minmax;
} summ;

static size_t summ_hash(int64_t rid, int64_t kid)
{
	uint64_t h = (uint64_t)rid * 0x9E3779B97F4A7C15ull ^ (uint64_t)kid * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h ^ (h >> 29));
}

int store_metrics_insert(cairn_store *s, const mpoint *pts, size_t n)
{
	if (n == 0)
		return 0;
	/* Fold the batch into per-(run, key) summaries first: one upsert per
	 * series per batch instead of one per point. */
	size_t cap = 64;
	while (cap < n * 2 && cap < 65536)
		cap *= 2;
	summ *tab = calloc(cap, sizeof *tab);
	size_t nused = 0;
	if (!tab)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const mpoint *p = &pts[i];
		size_t h = summ_hash(p->rid, p->kid) & (cap - 1);
		while (tab[h].used && (tab[h].rid != p->rid || tab[h].kid != p->kid))
			h = (h + 1) & (cap - 1);
		summ *e = &tab[h];
		if (!e->used) {
			if (nused + 1 > cap * 3 / 4) {
				/* Grow: rehash into a table twice the size. */
				size_t ncap = cap * 2;
				summ *nt = calloc(ncap, sizeof *nt);
				if (!nt) {
					free(tab);
					return err_set(CAIRN_ENOMEM, "out of memory");
				}
				for (size_t j = 0; j < cap; j++) {
					if (!tab[j].used)
						continue;
					size_t k = summ_hash(tab[j].rid, tab[j].kid) & (ncap - 1);
					while (nt[k].used)
						k = (k + 1) & (ncap - 1);
					nt[k] = tab[j];
				}
				free(tab);
				tab = nt;
				cap = ncap;
				i--; /* redo this point */
				continue;
			}
			nused++;
			e->used = true;
			e->rid = p->rid;
			e->kid = p->kid;
			e->last = p->value;
			e->last_step = p->step;
			e->last_ts = p->ts_ms;
		} else if (p->step > e->last_step ||
		           (p->step == e->last_step && p->ts_ms >= e->last_ts)) {
			e->last = p->value;
			e->last_step = p->step;
			e->last_ts = p->ts_ms;
		}
		e->count++;
		if (!isnan(p->value)) {
			if (!e->has_minmax || p->value < e->min)
				e->min = p->value;
			if (!e->has_minmax || p->value > e->max)
				e->max = p->value;
			e->has_minmax = true;
		}
	}

	int rc;
	store_lock(s);
	if ((rc = store_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st =
	    store_prep(s, "INSERT OR REPLACE INTO metric_points(rid, kid, step, ts, value)"
	                  " VALUES(?, ?, ?, ?, ?)");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, pts[i].rid);
		sqlite3_bind_int64(st, 2, pts[i].kid);
		sqlite3_bind_int64(st, 3, pts[i].step);
		sqlite3_bind_int64(st, 4, pts[i].ts_ms);
		store_bind_double_nan(st, 5, pts[i].value);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = store_sqlerr(s, "store metric points");
			sqlite3_reset(st);
			goto fail;
		}
		sqlite3_reset(st);
	}
	st = store_prep(
	    s,
	    "INSERT INTO metric_summary(rid, kid, last, last_step, last_ts, min, max, count)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(rid, kid) DO UPDATE SET"
	    " last = CASE WHEN excluded.last_step > last_step OR (excluded.last_step = last_step"
	    "   AND excluded.last_ts >= last_ts) THEN excluded.last ELSE last END,"
	    " last_ts = CASE WHEN excluded.last_step > last_step OR (excluded.last_step ="
	    "   last_step AND excluded.last_ts >= last_ts) THEN excluded.last_ts ELSE last_ts END,"
	    " last_step = max(last_step, excluded.last_step),"
	    " min = CASE WHEN min IS NULL OR excluded.min < min THEN coalesce(excluded.min, min)"
	    "   ELSE min END,"
	    " max = CASE WHEN max IS NULL OR excluded.max > max THEN coalesce(excluded.max, max)"
	    "   ELSE max END,"
	    " count = count + excluded.count");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	for (size_t i = 0; i < cap; i++) {
		summ *e = &tab[i];
		if (!e->used)
			continue;
		sqlite3_bind_int64(st, 1, e->rid);
		sqlite3_bind_int64(st, 2, e->kid);
		store_bind_double_nan(st, 3, e->last);
		sqlite3_bind_int64(st, 4, e->last_step);
		sqlite3_bind_int64(st, 5, e->last_ts);
		if (e->has_minmax) {
			sqlite3_bind_double(st, 6, e->min);
			sqlite3_bind_double(st, 7, e->max);
		} else {
			sqlite3_bind_null(st, 6);
			sqlite3_bind_null(st, 7);
		}
		sqlite3_bind_int64(st, 8, e->count);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = store_sqlerr(s, "update metric summaries");
			sqlite3_reset(st);
			goto fail;
		}
		sqlite3_reset(st);
	}
	if ((rc = store_tiles_fold(s, pts, n)) != 0)
		goto fail;
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	store_unlock(s);
	free(tab);
	return rc;
}

/* --- params, tags, properties, text columns -------------------------------- */

static bool value_equal(sqlite3_stmt *st, int type_col, int val_col, const cairn_value *v)
{
	if (sqlite3_column_int(st, type_col) != (int)v->type)
		return false;
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: return sqlite3_column_int64(st, val_col) == v->i;
	case CAIRN_TYPE_FLOAT: {
		double d = store_column_double_nan(st, val_col);
		return d == v->f || (isnan(d) && isnan(v->f));
	}
	case CAIRN_TYPE_STRING: {
		const char *t = (const char *)sqlite3_column_text(st, val_col);
		return t && strcmp(t, v->s) == 0;
	}
	default: return false;
	}
}

static void value_describe(char *out, size_t n, sqlite3_stmt *st, int type_col, int val_col)
{
	int t = sqlite3_column_int(st, type_col);
	if (t == CAIRN_TYPE_BOOL)
		snprintf(out, n, "%s", sqlite3_column_int(st, val_col) ? "true" : "false");
	else
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, val_col));
}

int store_param_write(cairn_store *s, int64_t rid, int64_t kid, const char *key,
                      const cairn_value *v, bool overwrite)
{
	sqlite3_stmt *st;
	if (!overwrite) {
		if (!(st = store_prep(s,
		                      "SELECT type, value FROM params WHERE rid = ? AND kid = ?")))
			return cairn_error_last_code();
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int64(st, 2, kid);
		if (sqlite3_step(st) == SQLITE_ROW) {
			bool same = value_equal(st, 0, 1, v);
			char old[128];
			if (!same)
				value_describe(old, sizeof old, st, 0, 1);
			sqlite3_reset(st);
			if (same)
				return 0;
			return err_set(
			    CAIRN_ECONFLICT,
			    "param '%s' is already '%s' in this run; params are write-once", key,
			    old);
		}
		sqlite3_reset(st);
	}
	st = store_prep(s,
	                "INSERT OR REPLACE INTO params(rid, kid, type, value) VALUES(?, ?, ?, ?)");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, kid);
	sqlite3_bind_int(st, 3, (int)v->type);
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: sqlite3_bind_int64(st, 4, v->i); break;
	case CAIRN_TYPE_FLOAT: store_bind_double_nan(st, 4, v->f); break;
	default: store_bind_text(st, 4, v->s ? v->s : ""); break;
	}
	return step_done(s, st, "store the param");
}

int store_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
                    bool overwrite)
{
	int64_t kid;
	int rc = store_key_intern(s, key, &kid);
	if (rc)
		return rc;
	store_lock(s);
	if ((rc = store_begin(s)) != 0)
		goto done;
	if ((rc = store_param_write(s, rid, kid, key, v, overwrite)) != 0)
		store_rollback(s);
	else
		rc = store_commit(s);
done:
	store_unlock(s);
	return rc;
}

/* A single-statement write in its own transaction. */
static int write1(cairn_store *s, sqlite3_stmt *st, const char *what)
{
	int rc;
	if (!st)
		return cairn_error_last_code();
	bool own = sqlite3_get_autocommit(s->db);
	if (own && (rc = store_begin(s)) != 0)
		return rc;
	if ((rc = step_done(s, st, what)) != 0) {
		if (own)
			store_rollback(s);
		return rc;
	}
	return own ? store_commit(s) : 0;
}

int store_tag_put(cairn_store *s, int64_t rid, const char *tag, bool remove)
{
	store_lock(s);
	sqlite3_stmt *st = remove
	                       ? store_prep(s, "DELETE FROM tags WHERE rid = ? AND tag = ?")
	                       : store_prep(s, "INSERT OR IGNORE INTO tags(rid, tag) VALUES(?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, rid);
		store_bind_text(st, 2, tag);
	}
	int rc = write1(s, st, remove ? "remove the tag" : "store the tag");
	store_unlock(s);
	return rc;
}

int store_property_put(cairn_store *s, int64_t rid, const char *key, const char *value)
{
	store_lock(s);
	sqlite3_stmt *st =
	    store_prep(s, "INSERT OR REPLACE INTO properties(rid, key, value) VALUES(?, ?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, rid);
		store_bind_text(st, 2, key);
		store_bind_text(st, 3, value);
	}
	int rc = write1(s, st, "store the property");
	store_unlock(s);
	return rc;
}

int store_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value)
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
	};
	const char *sql = NULL;
	for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++)
		if (strcmp(sqls[i][0], column) == 0)
			sql = sqls[i][1];
	if (!sql)
		return err_set(CAIRN_ERROR, "internal: unknown run column '%s'", column);
	store_lock(s);
	sqlite3_stmt *st = store_prep(s, sql);
	if (st) {
		store_bind_text(st, 1, value);
		sqlite3_bind_int64(st, 2, rid);
	}
	int rc = write1(s, st, "update the run");
	store_unlock(s);
	return rc;
}

int store_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid, int64_t size,
                       const char *media_type, const char *kind, const char *key, int64_t step)
{
	store_lock(s);
	sqlite3_stmt *st = store_prep(
	    s, "INSERT OR REPLACE INTO artifacts(rid, path, oid, size, media_type, kind, key, step,"
	       " created) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, rid);
		store_bind_text(st, 2, path);
		store_bind_text(st, 3, oid);
		sqlite3_bind_int64(st, 4, size);
		store_bind_text(st, 5, media_type);
		store_bind_text(st, 6, kind);
		store_bind_text(st, 7, key);
		if (step != CAIRN_STEP_AUTO)
			sqlite3_bind_int64(st, 8, step);
		sqlite3_bind_double(st, 9, store_now(s));
	}
	/* the row and its object reference commit together */
	int rc = store_refs_begin(s);
	if (rc == 0) {
		if ((rc = write1(s, st, "record the artifact")) != 0 ||
		    (rc = store_object_ref(s, rid, oid)) != 0)
			store_rollback(s);
		else
			rc = store_commit(s);
	}
	store_unlock(s);
	return rc;
}

/* --- objects and their references ------------------------------------------
 * (docs/internals/store.md, "Objects, references and purge").  An object is
 * live while object_refs or the code map names it; a code map key starting
 * with "tree" (a cached base manifest) is only a hint and keeps nothing.
 * Files are removed only inside a write transaction, after checking that
 * the object is not live; references are recorded only inside a write
 * transaction, after checking that the file is there. */

int store_refs_begin(cairn_store *s)
{
	store_lock(s);
	hook(s, "refs");
	int rc = store_begin(s);
	store_unlock(s);
	return rc;
}

int store_object_check(cairn_store *s, const char *oid)
{
	if (sqlite3_get_autocommit(s->db))
		return err_set(CAIRN_ERROR, "internal: object %.64s checked outside a transaction",
		               oid ? oid : "");
	if (!object_present(s, oid))
		return err_set(OBJECT_VANISHED,
		               "object %.64s was removed (by a purge of another run) before the "
		               "reference to it was recorded",
		               oid ? oid : "");
	return 0;
}

int store_object_ref(cairn_store *s, int64_t rid, const char *oid)
{
	store_lock(s);
	bool own = sqlite3_get_autocommit(s->db);
	int rc = own ? store_refs_begin(s) : 0;
	if (rc == 0)
		rc = store_object_check(s, oid);
	if (rc == 0) {
		sqlite3_stmt *st =
		    store_prep(s, "INSERT OR IGNORE INTO object_refs(rid, oid) VALUES(?, ?)");
		if (!st) {
			rc = cairn_error_last_code();
		} else {
			sqlite3_bind_int64(st, 1, rid);
			store_bind_text(st, 2, oid);
			rc = step_done(s, st, "record the object reference");
		}
	}
	if (own) {
		if (rc)
			store_rollback(s);
		else
			rc = store_commit(s);
	}
	store_unlock(s);
	return rc;
}

int store_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed)
{
	int rc;
	size_t removed = 0;
	if (out_removed)
		*out_removed = 0;
	if (!candidates || !candidates->len)
		return 0;
	store_lock(s);
	hook(s, "sweep");
	/* The write lock keeps every writer from recording a reference between
	 * the check and the unlink (writers check the file under the same lock). */
	if ((rc = store_begin(s)) != 0)
		goto done;
	sqlite3_stmt *live = store_prep(
	    s, "SELECT EXISTS(SELECT 1 FROM object_refs WHERE oid = ?1) OR EXISTS(SELECT 1 FROM"
	       " code_map WHERE oid = ?1 AND substr(key, 1, 4) != 'tree')");
	sqlite3_stmt *hint = store_prep(s, "DELETE FROM code_map WHERE oid = ?");
	if (!live || !hint) {
		rc = cairn_error_last_code();
		goto fail;
	}
	const char *line = candidates->ptr;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char oid[CAIRN_OID_HEXSZ + 1];
		if (n == CAIRN_OID_HEXSZ) {
			memcpy(oid, line, n);
			oid[n] = '\0';
			store_bind_text(live, 1, oid);
			int r = sqlite3_step(live);
			bool is_live = r != SQLITE_ROW || sqlite3_column_int(live, 0) != 0;
			sqlite3_reset(live);
			if (r != SQLITE_ROW) {
				rc = store_sqlerr(s, "check an object before removing it");
				goto fail;
			}
			if (!is_live) {
				store_bind_text(hint, 1, oid);
				if ((rc = step_done(s, hint, "forget a cached object")) != 0)
					goto fail;
				object_remove(s, oid);
				removed++;
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	rc = store_commit(s);
	if (rc == 0 && out_removed)
		*out_removed = removed;
	goto done;
fail:
	store_rollback(s);
done:
	store_unlock(s);
	return rc;
}

int store_run_finish(cairn_store *s, int64_t rid, cairn_status status, int exit_code, double end)
{
	store_lock(s);
	sqlite3_stmt *st =
	    store_prep(s, "UPDATE runs SET status = ?, exit_code = ?, end_time = ? WHERE rid = ?");
	if (st) {
		sqlite3_bind_int(st, 1, (int)status);
		sqlite3_bind_int(st, 2, exit_code);
		sqlite3_bind_double(st, 3, end);
		sqlite3_bind_int64(st, 4, rid);
	}
	int rc = write1(s, st, "finish the run");
	store_unlock(s);
	return rc;
}

int store_heartbeat(cairn_store *s, int64_t rid, double now)
{
	store_lock(s);
	sqlite3_stmt *st = store_prep(s, "UPDATE runs SET heartbeat = ? WHERE rid = ?");
	if (st) {
		sqlite3_bind_double(st, 1, now);
		sqlite3_bind_int64(st, 2, rid);
	}
	int rc = write1(s, st, "record the heartbeat");
	store_unlock(s);
	return rc;
}

int store_metric_history_json(cairn_store *s, int64_t rid, const char *key, buf *b)
{
	int rc = 0;
	store_lock(s);
	sqlite3_stmt *st =
	    store_prep(s, "SELECT m.step, m.ts, m.value FROM metric_points m"
	                  " WHERE m.rid = ? AND m.kid = (SELECT id FROM keys WHERE name = ?)"
	                  " ORDER BY m.step, m.ts");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, key);
	buf_putc(b, '[');
	bool f = true;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (!f)
			buf_putc(b, ',');
		f = false;
		buf_putc(b, '[');
		json_int(b, sqlite3_column_int64(st, 0));
		buf_putc(b, ',');
		json_num(b, (double)sqlite3_column_int64(st, 1) / 1000.0);
		buf_putc(b, ',');
		json_num(b, store_column_double_nan(st, 2));
		buf_putc(b, ']');
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		rc = store_sqlerr(s, "read the metric history");
	buf_putc(b, ']');
done:
	store_unlock(s);
	return rc;
}

int store_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans)
{
	int rc;
	store_lock(s);
	if ((rc = store_begin(s)) != 0)
		goto done;
	if (!purge) {
		sqlite3_stmt *st = store_prep(s, "UPDATE runs SET deleted = 1 WHERE rid = ?");
		if (!st) {
			rc = cairn_error_last_code();
			goto fail;
		}
		sqlite3_bind_int64(st, 1, rid);
		if ((rc = step_done(s, st, "delete the run")) != 0)
			goto fail;
	} else {
		/* Objects that no other run references are candidates: the caller
		 * sweeps them after the commit (store_objects_sweep checks again). */
		sqlite3_stmt *q = store_prep(
		    s, "SELECT oid FROM object_refs r WHERE rid = ?1 AND NOT EXISTS"
		       " (SELECT 1 FROM object_refs o WHERE o.oid = r.oid AND o.rid != ?1)");
		if (!q) {
			rc = cairn_error_last_code();
			goto fail;
		}
		sqlite3_bind_int64(q, 1, rid);
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *oid = (const char *)sqlite3_column_text(q, 0);
			if (orphans && strlen(oid) == 64)
				buf_printf(orphans, "%s\n", oid);
		}
		sqlite3_reset(q);
		static const char *const dels[] = {
		    "DELETE FROM object_refs WHERE rid = ?",
		    "DELETE FROM metric_points WHERE rid = ?",
		    "DELETE FROM metric_summary WHERE rid = ?",
		    "DELETE FROM params WHERE rid = ?",
		    "DELETE FROM tags WHERE rid = ?",
		    "DELETE FROM properties WHERE rid = ?",
		    "DELETE FROM artifacts WHERE rid = ?",
		    "DELETE FROM datasets WHERE rid = ?",
		    "DELETE FROM runs WHERE rid = ?",
		};
		for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
			sqlite3_stmt *st = store_prep(s, dels[i]);
			if (!st) {
				rc = cairn_error_last_code();
				goto fail;
			}
			sqlite3_bind_int64(st, 1, rid);
			if ((rc = step_done(s, st, "purge the run")) != 0)
				goto fail;
		}
	}
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	store_unlock(s);
	return rc;
}
