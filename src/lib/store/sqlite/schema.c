/*
 * lib/store/sqlite/schema.c — the SQLite store's file: opening it, telling
 * a cairn store from anything else, and the schema migrations.
 *
 * Invariants: the schema version is PRAGMA user_version and the
 * application id 'carn' marks the file as ours; a file with another id, or
 * a database with tables but no id, is refused and left untouched;
 * migrations only move forward, all missing ones in one transaction.  The
 * connection runs in WAL mode (readers never block the writer) with a 60 s
 * busy timeout.
 * Thread-safety: called with the store's lock held, or at open before the
 * handle is shared.
 */
#include "lib/store/sqlite/sqlite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

/* --- the schema --------------------------------------------------------- */

/* Migration 15's triggers (see its comment).  LIVE(R): the project of run R
 * when it is not deleted, else NULL. */
#define LIVE(r) "(SELECT project_id FROM runs WHERE rid = " r " AND deleted = 0)"
/* Run R of project P leaves the catalog / enters it. */
#define CAT_LEAVE(r, p)                                                                            \
	"UPDATE cat_runs SET n = n - 1 WHERE project_id IN (0, " p ");"                            \
	"UPDATE cat_params SET n = n - 1 WHERE project_id IN (0, " p ")"                           \
	"  AND kid IN (SELECT kid FROM params WHERE rid = " r ");"                                 \
	"UPDATE cat_param_values SET n = n - 1 WHERE project_id = " p                              \
	"  AND (kid, value) IN (SELECT kid, value FROM params WHERE rid = " r ");"                 \
	"UPDATE cat_metrics SET n = n - 1 WHERE project_id IN (0, " p ")"                          \
	"  AND kid IN (SELECT kid FROM metric_summary WHERE rid = " r ");"                         \
	"UPDATE cat_props SET n = n - 1 WHERE project_id IN (0, " p ")"                            \
	"  AND key IN (SELECT key FROM properties WHERE rid = " r ");"                             \
	"UPDATE cat_prop_values SET n = n - 1 WHERE project_id = " p                               \
	"  AND (key, value) IN (SELECT key, value FROM properties WHERE rid = " r ");"             \
	"UPDATE cat_tags SET n = n - 1 WHERE project_id IN (0, " p ")"                             \
	"  AND tag IN (SELECT tag FROM tags WHERE rid = " r ");"
#define CAT_ENTER_ONE(tbl, cols, src, srccols, p)                                                  \
	"INSERT INTO " tbl " SELECT " p ", " srccols " FROM " src " ON CONFLICT(project_id, " cols \
	") DO UPDATE SET n = n + 1;"                                                               \
	"INSERT INTO " tbl " SELECT 0, " srccols " FROM " src " ON CONFLICT(project_id, " cols     \
	") DO UPDATE SET n = n + 1;"
#define CAT_ENTER(r, p)                                                                            \
	"INSERT INTO cat_runs VALUES(" p ", 1), (0, 1)"                                            \
	"  ON CONFLICT(project_id) DO UPDATE SET n = n + 1;" CAT_ENTER_ONE(                        \
	    "cat_params", "kid", "params WHERE rid = " r, "kid, 1, 0",                             \
	    p) "INSERT INTO cat_param_values SELECT kid, value, " p                                \
	       ", 1 FROM params WHERE rid = " r                                                    \
	       "  AND value IS NOT NULL ON CONFLICT(kid, value, project_id) DO UPDATE SET n = n "  \
	       "+ 1;" CAT_ENTER_ONE("cat_metrics", "kid", "metric_summary WHERE rid = " r,         \
	                            "kid, 1", p)                                                   \
	           CAT_ENTER_ONE("cat_props", "key", "properties WHERE rid = " r, "key, 1, 0",     \
	                         p) "INSERT INTO cat_prop_values SELECT key, value, " p            \
	                            ", 1 FROM properties WHERE rid = " r                           \
	                            "  ON CONFLICT(key, value, project_id) DO UPDATE SET n = n + " \
	                            "1;" CAT_ENTER_ONE("cat_tags", "tag", "tags WHERE rid = " r,   \
	                                               "tag, 1", p)
/* One row of T (key column K, value V) comes into the catalog / goes. */
#define CAT_ROW_IN(stats, k, r, extra)                                                             \
	"INSERT INTO " stats " VALUES(" LIVE(r) ", NEW." k ", 1" extra "), (0, NEW." k ", 1" extra \
	                                        ") ON CONFLICT(project_id, " k                     \
	                                        ") DO UPDATE SET n = n + 1;"
#define CAT_ROW_OUT(stats, k, r)                                                                   \
	"UPDATE " stats " SET n = n - 1 WHERE " k " = OLD." k " AND project_id IN (0, " LIVE(r) ");"
#define CAT_VAL_IN(vals, k, r)                                                                     \
	"INSERT INTO " vals " SELECT NEW." k                                                       \
	", NEW.value, " LIVE(r) ", 1 WHERE NEW.value IS NOT NULL"                                  \
	                        " ON CONFLICT(" k ", value, project_id) DO UPDATE SET n = n + 1;"
#define CAT_VAL_OUT(vals, k, r)                                                                    \
	"UPDATE " vals " SET n = n - 1 WHERE " k " = OLD." k " AND value = OLD.value"              \
	" AND project_id = " LIVE(r) ";"
/* The triggers of a value table: its key's d, in the project and the store. */
#define CAT_VAL_TRIGGERS(vals, stats, k)                                                           \
	"CREATE TRIGGER " vals "_new AFTER INSERT ON " vals " BEGIN"                               \
	"  UPDATE " stats " SET d = d + 1 WHERE project_id = NEW.project_id AND " k " = NEW." k    \
	";"                                                                                        \
	"  UPDATE " stats " SET d = d + 1 WHERE project_id = 0 AND " k " = NEW." k                 \
	" AND NOT EXISTS("                                                                         \
	"    SELECT 1 FROM " vals " v WHERE v." k " = NEW." k " AND v.value = NEW.value"           \
	"    AND v.project_id != NEW.project_id); END;"                                            \
	"CREATE TRIGGER " vals "_gone AFTER UPDATE OF n ON " vals " WHEN NEW.n <= 0 BEGIN"         \
	"  DELETE FROM " vals " WHERE " k " = NEW." k " AND value = NEW.value"                     \
	"    AND project_id = NEW.project_id;"                                                     \
	"  UPDATE " stats " SET d = d - 1 WHERE project_id = NEW.project_id AND " k " = NEW." k    \
	";"                                                                                        \
	"  UPDATE " stats " SET d = d - 1 WHERE project_id = 0 AND " k " = NEW." k                 \
	" AND NOT EXISTS("                                                                         \
	"    SELECT 1 FROM " vals " v WHERE v." k " = NEW." k " AND v.value = NEW.value); END;"
/* The triggers of a row table T whose rows are (rid, K[, value]). */
#define CAT_TABLE_TRIGGERS(t, stats, k, extra, val_in, val_out, upd_cols)                          \
	"CREATE TRIGGER " t "_cat_ins AFTER INSERT ON " t                                          \
	" WHEN " LIVE("NEW.rid") " IS NOT NULL BEGIN " CAT_ROW_IN(stats, k, "NEW.rid", extra)      \
	    val_in "END;"                                                                          \
	           "CREATE TRIGGER " t "_cat_del AFTER DELETE ON " t                               \
	           " WHEN " LIVE("OLD.rid") " IS NOT NULL BEGIN " CAT_ROW_OUT(stats, k, "OLD.rid") \
	               val_out                                                                     \
	    "END;"                                                                                 \
	    "CREATE TRIGGER " t "_cat_upd_old AFTER UPDATE OF " upd_cols " ON " t                  \
	    " WHEN " LIVE("OLD.rid") " IS NOT NULL BEGIN " CAT_ROW_OUT(stats, k, "OLD.rid")        \
	        val_out                                                                            \
	    "END;"                                                                                 \
	    "CREATE TRIGGER " t "_cat_upd_new AFTER UPDATE OF " upd_cols " ON " t                  \
	    " WHEN " LIVE("NEW.rid") " IS NOT NULL BEGIN " CAT_ROW_IN(stats, k, "NEW.rid", extra)  \
	        val_in "END;"
#define CAT_MIGRATION                                                                              \
	"DROP TRIGGER params_stats_ins; DROP TRIGGER params_stats_del; DROP TRIGGER "              \
	"params_stats_upd;"                                                                        \
	"DROP TRIGGER props_stats_ins; DROP TRIGGER props_stats_del; DROP TRIGGER "                \
	"props_stats_upd;"                                                                         \
	"DROP TRIGGER metrics_stats_ins; DROP TRIGGER metrics_stats_del;"                          \
	"DROP TRIGGER tags_stats_ins; DROP TRIGGER tags_stats_del;"                                \
	"DROP TABLE param_stats; DROP TABLE prop_stats; DROP TABLE metric_stats; DROP TABLE "      \
	"tag_stats;"                                                                               \
	"CREATE TABLE cat_runs(project_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"               \
	"CREATE TABLE cat_params(project_id INTEGER NOT NULL, kid INTEGER NOT NULL,"               \
	"  n INTEGER NOT NULL, d INTEGER NOT NULL, PRIMARY KEY(project_id, kid)) WITHOUT ROWID;"   \
	"CREATE TABLE cat_param_values(kid INTEGER NOT NULL, value NOT NULL,"                      \
	"  project_id INTEGER NOT NULL, n INTEGER NOT NULL,"                                       \
	"  PRIMARY KEY(kid, value, project_id)) WITHOUT ROWID;"                                    \
	"CREATE TABLE cat_metrics(project_id INTEGER NOT NULL, kid INTEGER NOT NULL,"              \
	"  n INTEGER NOT NULL, PRIMARY KEY(project_id, kid)) WITHOUT ROWID;"                       \
	"CREATE TABLE cat_props(project_id INTEGER NOT NULL, key TEXT NOT NULL,"                   \
	"  n INTEGER NOT NULL, d INTEGER NOT NULL, PRIMARY KEY(project_id, key)) WITHOUT ROWID;"   \
	"CREATE TABLE cat_prop_values(key TEXT NOT NULL, value TEXT NOT NULL,"                     \
	"  project_id INTEGER NOT NULL, n INTEGER NOT NULL,"                                       \
	"  PRIMARY KEY(key, value, project_id)) WITHOUT ROWID;"                                    \
	"CREATE TABLE cat_tags(project_id INTEGER NOT NULL, tag TEXT NOT NULL,"                    \
	"  n INTEGER NOT NULL, PRIMARY KEY(project_id, tag)) WITHOUT ROWID;"                       \
	"INSERT INTO cat_runs SELECT 0, count(*) FROM runs WHERE deleted = 0;"                     \
	"INSERT INTO cat_runs SELECT project_id, count(*) FROM runs WHERE deleted = 0"             \
	"  GROUP BY project_id;"                                                                   \
	"CREATE TEMP TABLE cat_live AS SELECT rid, project_id FROM runs WHERE deleted = 0;"        \
	"INSERT INTO cat_params SELECT 0, x.kid, count(*), count(DISTINCT x.value) FROM params x"  \
	"  WHERE x.rid IN (SELECT rid FROM temp.cat_live) GROUP BY x.kid;"                         \
	"INSERT INTO cat_params SELECT r.project_id, x.kid, count(*), count(DISTINCT x.value)"     \
	"  FROM params x JOIN temp.cat_live r ON r.rid = x.rid GROUP BY r.project_id, x.kid;"      \
	"INSERT INTO cat_param_values SELECT x.kid, x.value, r.project_id, count(*)"               \
	"  FROM params x JOIN temp.cat_live r ON r.rid = x.rid WHERE x.value IS NOT NULL"          \
	"  GROUP BY x.kid, x.value, r.project_id;"                                                 \
	"INSERT INTO cat_metrics SELECT 0, x.kid, count(*) FROM metric_summary x"                  \
	"  WHERE x.rid IN (SELECT rid FROM temp.cat_live) GROUP BY x.kid;"                         \
	"INSERT INTO cat_metrics SELECT r.project_id, x.kid, count(*) FROM metric_summary x"       \
	"  JOIN temp.cat_live r ON r.rid = x.rid GROUP BY r.project_id, x.kid;"                    \
	"INSERT INTO cat_props SELECT 0, x.key, count(*), count(DISTINCT x.value) FROM "           \
	"properties x"                                                                             \
	"  WHERE x.rid IN (SELECT rid FROM temp.cat_live) GROUP BY x.key;"                         \
	"INSERT INTO cat_props SELECT r.project_id, x.key, count(*), count(DISTINCT x.value)"      \
	"  FROM properties x JOIN temp.cat_live r ON r.rid = x.rid GROUP BY r.project_id, x.key;"  \
	"INSERT INTO cat_prop_values SELECT x.key, x.value, r.project_id, count(*)"                \
	"  FROM properties x JOIN temp.cat_live r ON r.rid = x.rid"                                \
	"  GROUP BY x.key, x.value, r.project_id;"                                                 \
	"INSERT INTO cat_tags SELECT 0, x.tag, count(*) FROM tags x"                               \
	"  WHERE x.rid IN (SELECT rid FROM temp.cat_live) GROUP BY x.tag;"                         \
	"INSERT INTO cat_tags SELECT r.project_id, x.tag, count(*) FROM tags x"                    \
	"  JOIN temp.cat_live r ON r.rid = x.rid GROUP BY r.project_id, x.tag;"                    \
	"DROP TABLE temp.cat_live;" CAT_VAL_TRIGGERS("cat_param_values", "cat_params", "kid")      \
	    CAT_VAL_TRIGGERS("cat_prop_values", "cat_props", "key") CAT_TABLE_TRIGGERS(            \
	        "params", "cat_params", "kid", ", 0",                                              \
	        CAT_VAL_IN("cat_param_values", "kid", "NEW.rid"),                                  \
	        CAT_VAL_OUT("cat_param_values", "kid", "OLD.rid"), "rid, kid, value")              \
	        CAT_TABLE_TRIGGERS("properties", "cat_props", "key", ", 0",                        \
	                           CAT_VAL_IN("cat_prop_values", "key", "NEW.rid"),                \
	                           CAT_VAL_OUT("cat_prop_values", "key", "OLD.rid"),               \
	                           "rid, key, value") CAT_TABLE_TRIGGERS("metric_summary",         \
	                                                                 "cat_metrics", "kid", "", \
	                                                                 "", "", "rid, kid")       \
	            CAT_TABLE_TRIGGERS(                                                            \
	                "tags", "cat_tags", "tag", "", "", "",                                     \
	                "rid, tag") "CREATE TRIGGER runs_cat_ins AFTER INSERT ON runs WHEN "       \
	                            "NEW.deleted = 0 BEGIN "                                       \
	                            "  INSERT INTO cat_runs VALUES(NEW.project_id, 1), (0, 1)"     \
	                            "  ON CONFLICT(project_id) DO UPDATE SET n = n + 1; END;"      \
	                            "CREATE TRIGGER runs_cat_del AFTER DELETE ON runs WHEN "       \
	                            "OLD.deleted = 0 BEGIN " CAT_LEAVE(                            \
	                                "OLD.rid",                                                 \
	                                "OLD.project_id") "END;"                                   \
	                                                  "CREATE TRIGGER runs_cat_leave AFTER "   \
	                                                  "UPDATE OF deleted, project_id ON runs"  \
	                                                  "  WHEN OLD.deleted = 0 AND "            \
	                                                  "(NEW.deleted != 0 OR NEW.project_id "   \
	                                                  "!= OLD.project_id) BEGIN " CAT_LEAVE(   \
	                                                      "OLD.rid",                           \
	                                                      "OLD.project_id") "END;"             \
	                                                                        "CREATE TRIGGER "  \
	                                                                        "runs_cat_enter "  \
	                                                                        "AFTER UPDATE OF " \
	                                                                        "deleted, "        \
	                                                                        "project_id ON "   \
	                                                                        "runs"             \
	                                                                        "  WHEN "          \
	                                                                        "NEW.deleted = 0 " \
	                                                                        "AND "             \
	                                                                        "(OLD.deleted != " \
	                                                                        "0 OR "            \
	                                                                        "NEW.project_id "  \
	                                                                        "!= "              \
	                                                                        "OLD.project_id) " \
	                                                                        "BEGIN"            \
	                                                                        " " CAT_ENTER(     \
	                                                                            "NEW.rid",     \
	                                                                            "NEW.project_" \
	                                                                            "id") "END;"

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
     * (tiles.c): per run, key and 256-step tile, the number of points
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
    /* 7: sweeps (sweep.c): the trial queue of a sweep run, and an
     * index for a sweep's children (`parent = SWEEP` queries). */
    "CREATE TABLE sweep_trials(sweep_rid INTEGER NOT NULL, trial INTEGER NOT NULL,"
    "  state INTEGER NOT NULL, params TEXT NOT NULL, run_rid INTEGER, value REAL,"
    "  owner TEXT, updated REAL NOT NULL, PRIMARY KEY(sweep_rid, trial)) WITHOUT ROWID;"
    "CREATE INDEX sweep_trials_state ON sweep_trials(sweep_rid, state, trial);"
    "CREATE INDEX runs_parent ON runs(parent_rid);"
    "CREATE TRIGGER runs_delete_trials AFTER DELETE ON runs BEGIN"
    "  DELETE FROM sweep_trials WHERE sweep_rid = OLD.rid;"
    "END;",
    /* 8: the store's own settings (settings.c): `objects`, where its
     * objects live when not in objects/ (docs/internals/store.md, "Where
     * the objects are").  Never credentials. */
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
    /* 9: authentication (auth.c, docs/internals/auth.md): API tokens and
     * browser sessions, each stored as the SHA-256 of its secret only, and
     * the audit log of writes made through a server. */
    "CREATE TABLE tokens(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  hash TEXT NOT NULL UNIQUE, scope INTEGER NOT NULL, project TEXT,"
    "  created REAL NOT NULL, expires REAL, last_used REAL, revoked REAL);"
    "CREATE TABLE sessions(hash TEXT PRIMARY KEY, token_id INTEGER NOT NULL,"
    "  created REAL NOT NULL, expires REAL NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sessions_expires ON sessions(expires);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, ts REAL NOT NULL, token TEXT NOT NULL,"
    "  method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL);",
    /* 10: idempotency keys (idem.c): the answer a server gave to a write
     * that carried an Idempotency-Key, so a retried write is applied once
     * (docs/internals/remote.md, "Idempotency"). */
    "CREATE TABLE idempotency(key TEXT PRIMARY KEY, status INTEGER NOT NULL,"
    "  body TEXT NOT NULL, created REAL NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX idempotency_created ON idempotency(created);",
    /* 11: key/value tags and experiments (docs/mlflow.md): a tag may carry
     * a value (NULL: a bare tag), indexed for `tags.K = "v"`; a project
     * can be deleted and restored, carries its last change and its own
     * key/value tags (MLflow's experiments are projects). */
    "ALTER TABLE tags ADD COLUMN value TEXT;"
    "CREATE INDEX tags_value ON tags(tag, value, rid);"
    "ALTER TABLE projects ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE projects ADD COLUMN updated REAL;"
    "CREATE TABLE project_tags(project_id INTEGER NOT NULL, key TEXT NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY(project_id, key)) WITHOUT ROWID;",
    /* 12: the number of runs, kept by triggers, so a query does not count
     * the runs table (a pass over an index: half of a top-k at 1M runs);
     * the planner reads it to cost scans and to know the ids are dense
     * (docs/internals/query.md).  Only plain INSERT and DELETE change runs
     * (no REPLACE, whose deletions fire no trigger). */
    "CREATE TABLE run_count(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);"
    "INSERT INTO run_count SELECT 1, count(*) FROM runs;"
    "CREATE TRIGGER runs_count_ins AFTER INSERT ON runs BEGIN"
    "  UPDATE run_count SET n = n + 1; END;"
    "CREATE TRIGGER runs_count_del AFTER DELETE ON runs BEGIN"
    "  UPDATE run_count SET n = n - 1; END;",
    /* 13: the column catalog (cairn_run_columns_json over every run): per
     * param and property key the rows and distinct values, per metric key
     * and tag the rows, kept by triggers so the runs page's columns cost a
     * few rows, not a pass over every param (2.5 s at 1M runs).  A value is
     * new (d + 1) when no other row of its key holds it, and gone (d - 1)
     * when its last row goes; NULL (a NaN float) is not a value, as in
     * count(DISTINCT).  An UPDATE is a delete and an insert. */
    "CREATE TABLE param_stats(kid INTEGER PRIMARY KEY, n INTEGER NOT NULL, d INTEGER NOT NULL);"
    "INSERT INTO param_stats SELECT kid, count(*), count(DISTINCT value) FROM params GROUP BY kid;"
    "CREATE TABLE prop_stats(key TEXT PRIMARY KEY, n INTEGER NOT NULL, d INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "INSERT INTO prop_stats SELECT key, count(*), count(DISTINCT value) FROM properties"
    "  GROUP BY key;"
    "CREATE TABLE metric_stats(kid INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT INTO metric_stats SELECT kid, count(*) FROM metric_summary GROUP BY kid;"
    "CREATE TABLE tag_stats(tag TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO tag_stats SELECT tag, count(*) FROM tags GROUP BY tag;"
    "CREATE TRIGGER params_stats_ins AFTER INSERT ON params BEGIN"
    "  INSERT INTO param_stats VALUES(NEW.kid, 1, NEW.value IS NOT NULL)"
    "  ON CONFLICT(kid) DO UPDATE SET n = n + 1, d = d + (NEW.value IS NOT NULL AND NOT EXISTS("
    "    SELECT 1 FROM params x WHERE x.kid = NEW.kid AND x.value = NEW.value"
    "    AND x.rid != NEW.rid)); END;"
    "CREATE TRIGGER params_stats_del AFTER DELETE ON params BEGIN"
    "  UPDATE param_stats SET n = n - 1, d = d - (OLD.value IS NOT NULL AND NOT EXISTS("
    "    SELECT 1 FROM params x WHERE x.kid = OLD.kid AND x.value = OLD.value))"
    "  WHERE kid = OLD.kid; END;"
    "CREATE TRIGGER params_stats_upd AFTER UPDATE OF kid, value ON params BEGIN"
    "  UPDATE param_stats SET n = n - 1, d = d - (OLD.value IS NOT NULL AND NOT EXISTS("
    "    SELECT 1 FROM params x WHERE x.kid = OLD.kid AND x.value = OLD.value))"
    "  WHERE kid = OLD.kid;"
    "  INSERT INTO param_stats VALUES(NEW.kid, 1, NEW.value IS NOT NULL)"
    "  ON CONFLICT(kid) DO UPDATE SET n = n + 1, d = d + (NEW.value IS NOT NULL AND NOT EXISTS("
    "    SELECT 1 FROM params x WHERE x.kid = NEW.kid AND x.value = NEW.value"
    "    AND x.rid != NEW.rid)); END;"
    "CREATE TRIGGER props_stats_ins AFTER INSERT ON properties BEGIN"
    "  INSERT INTO prop_stats VALUES(NEW.key, 1, 1)"
    "  ON CONFLICT(key) DO UPDATE SET n = n + 1, d = d + NOT EXISTS("
    "    SELECT 1 FROM properties x WHERE x.key = NEW.key AND x.value = NEW.value"
    "    AND x.rid != NEW.rid); END;"
    "CREATE TRIGGER props_stats_del AFTER DELETE ON properties BEGIN"
    "  UPDATE prop_stats SET n = n - 1, d = d - NOT EXISTS("
    "    SELECT 1 FROM properties x WHERE x.key = OLD.key AND x.value = OLD.value)"
    "  WHERE key = OLD.key; END;"
    "CREATE TRIGGER props_stats_upd AFTER UPDATE OF key, value ON properties BEGIN"
    "  UPDATE prop_stats SET n = n - 1, d = d - NOT EXISTS("
    "    SELECT 1 FROM properties x WHERE x.key = OLD.key AND x.value = OLD.value)"
    "  WHERE key = OLD.key;"
    "  INSERT INTO prop_stats VALUES(NEW.key, 1, 1)"
    "  ON CONFLICT(key) DO UPDATE SET n = n + 1, d = d + NOT EXISTS("
    "    SELECT 1 FROM properties x WHERE x.key = NEW.key AND x.value = NEW.value"
    "    AND x.rid != NEW.rid); END;"
    "CREATE TRIGGER metrics_stats_ins AFTER INSERT ON metric_summary BEGIN"
    "  INSERT INTO metric_stats VALUES(NEW.kid, 1) ON CONFLICT(kid) DO UPDATE SET n = n + 1;"
    "  END;"
    "CREATE TRIGGER metrics_stats_del AFTER DELETE ON metric_summary BEGIN"
    "  UPDATE metric_stats SET n = n - 1 WHERE kid = OLD.kid; END;"
    "CREATE TRIGGER tags_stats_ins AFTER INSERT ON tags BEGIN"
    "  INSERT INTO tag_stats VALUES(NEW.tag, 1) ON CONFLICT(tag) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER tags_stats_del AFTER DELETE ON tags BEGIN"
    "  UPDATE tag_stats SET n = n - 1 WHERE tag = OLD.tag; END;",
    /* 14: the paths a run read and wrote (the query's `reads` and `wrote`:
     * input datasets, artifacts and output datasets by path), so a glob's
     * literal prefix (`reads ~ "data/train*"`) reads a range. */
    ("CREATE INDEX datasets_path ON datasets(path, role, rid);"
     "CREATE INDEX artifacts_path ON artifacts(path, rid);"
     /* and by object, for the sweep's "is it live" (store.md, "Deleting
      * an artifact") */
     "CREATE INDEX artifacts_oid ON artifacts(oid);"),
    /* 15: the column catalog per project, without deleted runs (replaces
     * 13, which answered only the whole store while no run was deleted):
     * docs/internals/store.md, "The column catalog".  Every count is of
     * live runs (deleted = 0) and exact.  cat_runs, cat_params, cat_metrics,
     * cat_props and cat_tags hold one row per (project, key), project 0
     * being the whole store; a param's or property's distinct values are
     * counted through cat_param_values / cat_prop_values, one row per
     * (key, value, project) with the number of live runs that hold it
     * (NULL, a NaN float, is no value, as in count(DISTINCT)).  A value row
     * appears (d + 1) or goes at n = 0 (d - 1) by its own triggers, which
     * also move the whole store's d when no other project holds the value.
     * A run leaves the catalog when it is deleted, purged or moved, and
     * enters it again when restored: set-based statements over its rows.
     * The tables are filled from the rows first, then the triggers made. */
    CAT_MIGRATION,
    /* 16: a metric's min and max in order, so a sort by `metrics.K.min` or
     * `.max` walks an index like `.last` (a page of 100k runs gathered
     * every run's summary: 0.2 s); the cost, one index entry moved when a
     * flush moves the min or the max, is in docs/internals/query.md. */
    ("CREATE INDEX metric_summary_kid_min ON metric_summary(kid, min, rid);"
     "CREATE INDEX metric_summary_kid_max ON metric_summary(kid, max, rid);"),
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int sqlite_schema_latest(void)
{
	return NMIGRATIONS;
}

/* --- opening and migrating -------------------------------------------------- */

static int pragma_int(cairn_store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, &st, NULL) != SQLITE_OK)
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

int sqlite_schema_version(cairn_store *s, int *out)
{
	return pragma_int(s, "PRAGMA user_version", out);
}

int sqlite_migrate(cairn_store *s, int target)
{
	int rc, version, appid;
	if (target > NMIGRATIONS)
		target = NMIGRATIONS;
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
		if ((rc = store_exec(s, migrations[v], "migrate the store schema")) != 0)
			goto fail;
	}
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", target,
	         SCHEMA_APP_ID);
	if ((rc = store_exec(s, sql, "migrate the store schema")) != 0)
		goto fail;
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}

/* Connect be->db to the file, after a look at what is there: nothing (a
 * fresh store: objects/ is made, the database is created by the migrations)
 * or a regular file. */
static int db_connect(cairn_store *s, sqlite_be *be, bool create)
{
	struct stat st;
	if (stat(be->db_path, &st) != 0) {
		/* A directory without a database: a fresh store (init by hand or
		 * the per-user default).  Create it. */
		int e = mkdir_p(s->objects_dir);
		if (e)
			return err_set(CAIRN_ESTORE, "cannot open store '%s': %s", s->dir,
			               strerror(-e));
	} else if (!S_ISREG(st.st_mode)) {
		return err_set(CAIRN_ESTORE, "'%s' is not a cairn store (not a regular file)",
		               be->db_path);
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(be->db_path, &be->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_CANTOPEN && access(s->dir, W_OK) != 0 && errno == EACCES)
			return err_set(CAIRN_ESTORE, "cannot open store '%s': permission denied",
			               s->dir);
		return err_set(CAIRN_ESTORE, "cannot open store '%s': %s", s->dir,
		               be->db ? sqlite3_errmsg(be->db) : "out of memory");
	}
	return 0;
}

int sqlite_store_open(cairn_store *s, bool create)
{
	sqlite_be *be = calloc(1, sizeof *be);
	if (!be)
		return err_set(CAIRN_ENOMEM, "out of memory");
	s->be = be; /* sqlite_store_close frees it, whatever happens below */
	if (!(be->db_path = path_join(s->dir, "cairn.db")))
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = db_connect(s, be, create);
	if (rc)
		return rc;
	sqlite3_busy_timeout(be->db, 60000);
	sqlite3_extended_result_codes(be->db, 0);

	int appid = 0, version = 0, ntables = 0;
	if (pragma_int(s, "PRAGMA application_id", &appid) != 0) {
		int ec = sqlite3_errcode(be->db);
		if (ec == SQLITE_READONLY || ec == SQLITE_CANTOPEN || ec == SQLITE_PERM)
			return err_set(CAIRN_ESTORE,
			               "cannot open store '%s': it is read-only for this user (%s)",
			               s->dir, sqlite3_errmsg(be->db));
		return err_set(CAIRN_ESTORE, "'%s' is not a cairn store (%s)", be->db_path,
		               sqlite3_errmsg(be->db));
	}
	if (pragma_int(s, "PRAGMA user_version", &version) != 0 ||
	    pragma_int(s, "SELECT count(*) FROM sqlite_schema", &ntables) != 0)
		return err_set(CAIRN_ESTORE, "'%s' is not a cairn store (%s)", be->db_path,
		               sqlite3_errmsg(be->db));
	if (appid != SCHEMA_APP_ID && (appid != 0 || ntables != 0 || version != 0))
		return err_set(CAIRN_ESTORE,
		               "'%s' is not a cairn store (it is an SQLite database of another "
		               "program)",
		               be->db_path);
	if (version > NMIGRATIONS)
		return err_set(CAIRN_ESTORE,
		               "store '%s' has schema version %d; this cairn knows up to %d "
		               "(upgrade cairn)",
		               s->dir, version, NMIGRATIONS);
	/* WAL lets readers run beside the writer; NORMAL sync is durable across
	 * process crashes (kill -9), which is the failure the tests exercise. */
	int wal_ok = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(be->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(st, 0);
			wal_ok = m && strcmp((const char *)m, "wal") == 0;
		}
		sqlite3_finalize(st);
	}
	if (!wal_ok && access(be->db_path, W_OK) == 0)
		return store_sqlerr(s, "switch the store to WAL mode");
	/* A 32 MiB page cache per connection: a streamed listing of a million
	 * runs stays within 64 MiB of memory in all, and the OS's page cache
	 * holds the rest of a hot store. */
	store_exec(s,
	           "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"
	           "PRAGMA cache_size=-32768",
	           "configure the store");
	/* A peer (a server's reader) loses its page cache whenever another
	 * connection commits, which a server's writer does all the time: it
	 * reads the file through a mapping instead, so starting over costs
	 * page faults on the OS's cache, not a copy of every page read. */
	if (s->peer_mapped)
		store_exec(s, "PRAGMA mmap_size=2147418112", "configure the store");
	if (version < NMIGRATIONS)
		return sqlite_migrate(s, NMIGRATIONS);
	return 0;
}
