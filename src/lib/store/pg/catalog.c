/*
 * lib/store/pg/catalog.c — the PostgreSQL store's column catalog (migration
 * 8; SQLite's migration 15, docs/internals/store.md "The column catalog"):
 * the tables, the statement-level triggers that keep them, and the fill of
 * an existing store.
 *
 * The tables.  cat_runs(project_id, n): the live runs (deleted = 0) per
 * project, project 0 being the whole store.  cat_keys(kind, project_id,
 * key, n, d), kind 0 params, 1 metrics, 2 properties, 3 tags: the live runs
 * that carry the key and (params, properties) its distinct values.
 * cat_values(kind, key, v, project_id, n): the live runs holding value v,
 * per project and for the whole store (0).  A param's v is 's' || the string,
 * or 'n' || the hex of the double (num + 0.0, so -0 and 0 are one value; an
 * int or bool is its num, so 1 and 1.0 are one value, as SQLite compares
 * them); NaN (NULL) is no value, as in count(DISTINCT).  The bytes of the
 * double, not its text, which extra_float_digits would round.
 *
 * How a write changes them.  Every statement that writes params,
 * metric_summary, properties or tags fires one AFTER ... FOR EACH STATEMENT
 * trigger with its transition table (REFERENCING NEW/OLD TABLE), which
 * queues the statement's events, the rows of live runs summed per (kind,
 * project, key, value), in cat_pending under txid_current(), and inserts
 * that id into cat_txn (ON CONFLICT DO NOTHING).  A change of a run
 * (insert, delete, deleted or project_id updated: rm, restore, a project's
 * deletion, purge) queues its count (kind −1) and its rows (params,
 * metrics, properties, tags) as leaving the old scope and entering the new
 * one.  The deferred constraint trigger of the cat_txn row runs cat_flush
 * once, at the commit: cat_runs, then cat_values' project and store rows
 * (INSERT ... ON CONFLICT DO UPDATE; a value row whose count went from 0
 * to more is a value that appeared in its scope, d + 1, one that went to 0
 * disappeared, d − 1), then cat_keys, each in key order; rows left at 0
 * are deleted, the queue emptied.  Only rows of live runs count.  Both
 * queue tables are UNLOGGED: no row outlives its transaction (a rolled
 * back statement or savepoint takes its events with it).
 *
 * Concurrency (several servers on one database; READ COMMITTED writers).
 * There is no lock across writers: two writers wait for each other only
 * when they change the same catalog row (the same key, or the same value of
 * a key, in the same scope), and only during the later one's commit.
 * Exactness and no deadlock need three things:
 *   - a value's appearance in the whole store is decided on its store row
 *     (project 0), which every writer of that value updates: two projects
 *     receiving the same new value at once are serialised on it, and the
 *     second sees the first's count (ON CONFLICT DO UPDATE reads the latest
 *     committed row);
 *   - a row's trigger locks its run FOR SHARE, live or not, and reads
 *     deleted after the lock (CAT_LIVE): a concurrent rm/restore/purge of
 *     that run (which updates or deletes the run row) waits for the row's
 *     writer, or the writer waits for it and then sees the run's new state,
 *     so a row is counted by its own trigger or by the run's, never both or
 *     neither;
 *   - every transaction takes the catalog's row locks in one statement at
 *     its commit, in one global order (cat_runs, cat_values, cat_keys, each
 *     by key), whatever the order of its own statements (a purge deletes
 *     metrics before params; a server's batch mixes anything): no deadlock.
 * UPDATEs of metric_summary and tags (a new last value, a tag's value)
 * change nothing the catalog counts and fire nothing: their triggers are row
 * triggers on the key columns only (UPDATE OF rid, kid / rid, tag; a
 * transition table cannot go with a column list), which no writer changes.
 *
 * Thread-safety: the SQL runs inside PostgreSQL; this file is data.
 */
#include "lib/store/pg/pg.h"

/* A param's value as the catalog compares it (see the header). */
#define CAT_PVAL(t)                                                                                \
	"(CASE WHEN " t ".type = 4 THEN 's' || " t ".sval ELSE 'n' || encode(float8send(" t        \
	".num + 0.0), 'hex') END)"

/* The events of table T (a relation: a transition table, or a subquery of
 * OLD / NEW) joined to the runs in L (rid, project_id), each row counted DN:
 * (kind, p, key, v, dn) per kind. */
#define EV_PARAMS(T, L, DN)                                                                        \
	"SELECT 0::smallint, l.project_id, k.name, " CAT_PVAL(                                     \
	    "x") ", " DN "::bigint FROM " T " x JOIN keys k ON k.id = x.kid JOIN " L               \
	         " l ON l.rid = x.rid"
#define EV_METRICS(T, L, DN)                                                                       \
	"SELECT 1::smallint, l.project_id, k.name, NULL::text, " DN "::bigint FROM " T " x"        \
	" JOIN keys k ON k.id = x.kid JOIN " L " l ON l.rid = x.rid"
#define EV_PROPS(T, L, DN)                                                                         \
	"SELECT 2::smallint, l.project_id, x.key, x.value, " DN "::bigint FROM " T " x"            \
	" JOIN " L " l ON l.rid = x.rid"
#define EV_TAGS(T, L, DN)                                                                          \
	"SELECT 3::smallint, l.project_id, x.tag, NULL::text, " DN "::bigint FROM " T " x"         \
	" JOIN " L " l ON l.rid = x.rid"

/* The live runs among RIDS (a subquery of rids): a CTE named live.  Every
 * one of those runs is locked FOR SHARE, live or not (CTE lk), and only
 * then is deleted read: the lock waits for a concurrent rm or restore of
 * the run and returns the run as that left it (READ COMMITTED).  A
 * condition on deleted inside the locking query, or one the planner could
 * push into it (a subquery), is checked on the version the statement's
 * snapshot saw, before locking: a run being restored would be skipped
 * without waiting, and rows written to it meanwhile never counted. */
#define CAT_LIVE(RIDS)                                                                             \
	"lk AS (SELECT rid, project_id, deleted FROM runs WHERE rid IN (" RIDS ")"                 \
	" ORDER BY rid FOR SHARE), live AS (SELECT rid, project_id FROM lk WHERE deleted = 0),"

/* The pending events EV (kind, p, key, v, dn) of this statement, after the
 * CTEs PRE, summed and queued for this transaction's flush; the flush is
 * armed by the transaction's cat_txn row (zn: a BIGINT of the body). */
#define CAT_PEND(PRE, EV)                                                                          \
	"WITH " PRE " z AS (INSERT INTO cat_pending(tx, kind, p, key, v, dn)"                      \
	"  SELECT txid_current(), kind, p, key, v, sum(dn) FROM (" EV ") AS"                       \
	"  e0(kind, p, key, v, dn) GROUP BY kind, p, key, v HAVING sum(dn) <> 0 RETURNING 1)"      \
	" SELECT count(*) INTO zn FROM z;"                                                         \
	" IF zn > 0 THEN INSERT INTO cat_txn VALUES(txid_current()) ON CONFLICT DO NOTHING;"       \
	" END IF;"

/* A PL/pgSQL trigger function NAME whose body is BODY. */
#define CAT_FUNC(NAME, BODY)                                                                       \
	"CREATE FUNCTION " NAME "() RETURNS trigger LANGUAGE plpgsql AS $$"                        \
	" DECLARE zn BIGINT; BEGIN " BODY " RETURN NULL; END $$;"

/* The statement triggers of child table TAB (rows of one run each) with
 * events EV(T, L, DN): insert and delete. */
#define CAT_CHILD(TAB, EV)                                                                         \
	CAT_FUNC(TAB "_cat_ins",                                                                   \
	         "IF NOT EXISTS(SELECT 1 FROM nt) THEN RETURN NULL; END IF; " CAT_PEND(            \
	             CAT_LIVE("SELECT rid FROM nt"), EV("nt", "live", "1")))                       \
	CAT_FUNC(TAB "_cat_del",                                                                   \
	         "IF NOT EXISTS(SELECT 1 FROM ot) THEN RETURN NULL; END IF; " CAT_PEND(            \
	             CAT_LIVE("SELECT rid FROM ot"), EV("ot", "live", "-1")))                      \
	"CREATE TRIGGER " TAB "_cat_ins AFTER INSERT ON " TAB " REFERENCING NEW TABLE AS nt"       \
	" FOR EACH STATEMENT EXECUTE FUNCTION " TAB "_cat_ins();"                                  \
	"CREATE TRIGGER " TAB "_cat_del AFTER DELETE ON " TAB " REFERENCING OLD TABLE AS ot"       \
	" FOR EACH STATEMENT EXECUTE FUNCTION " TAB "_cat_del();"

/* An update as the old rows going and the new coming (what did not change
 * cancels out in the sums): from transition tables ot, nt. */
#define CAT_CHILD_UPD(TAB, EV)                                                                     \
	CAT_FUNC(TAB "_cat_upd",                                                                   \
	         "IF NOT EXISTS(SELECT 1 FROM nt) THEN RETURN NULL; END IF; " CAT_PEND(            \
	             CAT_LIVE("SELECT rid FROM ot UNION SELECT rid FROM nt"),                      \
	             EV("ot", "live", "-1") " UNION ALL " EV("nt", "live", "1")))                  \
	"CREATE TRIGGER " TAB "_cat_upd AFTER UPDATE ON " TAB                                      \
	" REFERENCING OLD TABLE AS ot NEW TABLE AS nt"                                             \
	" FOR EACH STATEMENT EXECUTE FUNCTION " TAB "_cat_upd();"

/* The same as a row trigger on the key columns COLS (OLD_T and NEW_T: the
 * row as a one-row subquery). */
#define CAT_CHILD_ROWUPD(TAB, EV, COLS, OLD_T, NEW_T)                                              \
	CAT_FUNC(TAB "_cat_upd",                                                                   \
	         CAT_PEND(CAT_LIVE("SELECT OLD.rid UNION SELECT NEW.rid"),                         \
	                  EV(OLD_T, "live", "-1") " UNION ALL " EV(NEW_T, "live", "1")))           \
	"CREATE TRIGGER " TAB "_cat_upd AFTER UPDATE OF " COLS " ON " TAB " FOR EACH ROW"          \
	" EXECUTE FUNCTION " TAB "_cat_upd();"

/* The rows of the runs in S (rid, project_id, dn): each run's rows counted
 * dn in that project. */
#define EV_RUNS                                                                                    \
	"SELECT 0::smallint, s.project_id, k.name, " CAT_PVAL(                                     \
	    "x") ", s.dn::bigint FROM s JOIN params x ON x.rid = s.rid JOIN keys k ON k.id = "     \
	         "x.kid"                                                                           \
	         " UNION ALL SELECT 1::smallint, s.project_id, k.name, NULL, s.dn FROM s"          \
	         " JOIN metric_summary x ON x.rid = s.rid JOIN keys k ON k.id = x.kid"             \
	         " UNION ALL SELECT 2::smallint, s.project_id, x.key, x.value, s.dn FROM s"        \
	         " JOIN properties x ON x.rid = s.rid"                                             \
	         " UNION ALL SELECT 3::smallint, s.project_id, x.tag, NULL, s.dn FROM s"           \
	         " JOIN tags x ON x.rid = s.rid"

/* A body for runs changing: S is the CTE (s) of the runs leaving (dn −1,
 * their old project) and entering (+1, their new one): their count (kind
 * −1) and their rows. */
#define CAT_RUNS(GUARD, S)                                                                         \
	GUARD CAT_PEND(S ",", "SELECT -1::smallint, s.project_id, '', NULL, s.dn FROM s"           \
	                      " UNION ALL " EV_RUNS)

/* The runs that change scope in an UPDATE (ot, nt): the old side of those
 * that were live, the new of those that are. */
#define RUNS_MOVED                                                                                 \
	"m AS (SELECT o.rid, o.project_id AS op, o.deleted AS od, n.project_id AS np,"             \
	" n.deleted AS nd FROM ot o JOIN nt n ON n.rid = o.rid WHERE (o.deleted = 0 OR"            \
	" n.deleted = 0) AND ((o.deleted = 0) <> (n.deleted = 0) OR o.project_id <> "              \
	"n.project_id)),"                                                                          \
	" s AS (SELECT rid, op AS project_id, -1 AS dn FROM m WHERE od = 0"                        \
	" UNION ALL SELECT rid, np, 1 FROM m WHERE nd = 0)"

/* The flush, at the commit of a transaction that queued events (the
 * deferred trigger of its cat_txn row): cat_runs, then cat_values, then
 * cat_keys, each in key order, so every writer takes the catalog's row
 * locks in one global order; the rows left at 0 deleted; the queue
 * emptied. */
#define CAT_FLUSH                                                                                  \
	"CREATE FUNCTION cat_flush() RETURNS trigger LANGUAGE plpgsql AS $$"                       \
	" DECLARE zk SMALLINT[]; zkey TEXT[]; zv TEXT[]; zp BIGINT[];"                             \
	" qk SMALLINT[]; qp BIGINT[]; qkey TEXT[]; BEGIN"                                          \
	" INSERT INTO cat_runs AS c(project_id, n) SELECT p, sum(dn) FROM"                         \
	"  (SELECT p, dn FROM cat_pending WHERE tx = NEW.tx AND kind = -1"                         \
	"   UNION ALL SELECT 0, dn FROM cat_pending WHERE tx = NEW.tx AND kind = -1) AS x(p, dn)"  \
	"  GROUP BY p HAVING sum(dn) <> 0 ORDER BY p"                                              \
	"  ON CONFLICT(project_id) DO UPDATE SET n = c.n + excluded.n;"                            \
	" WITH z AS (DELETE FROM cat_pending WHERE tx = NEW.tx RETURNING kind, p, key, v, dn),"    \
	" e AS (SELECT kind, p, key, v, sum(dn) AS dn FROM z WHERE kind >= 0"                      \
	"  GROUP BY kind, p, key, v),"                                                             \
	" vs AS (SELECT kind, key, v, p, dn FROM e WHERE v IS NOT NULL AND dn <> 0"                \
	"  UNION ALL SELECT kind, key, v, 0, sum(dn) FROM e WHERE v IS NOT NULL"                   \
	"  GROUP BY kind, key, v HAVING sum(dn) <> 0),"                                            \
	" up AS (INSERT INTO cat_values AS c(kind, key, v, project_id, n)"                         \
	"  SELECT kind, key, v, p, dn FROM vs ORDER BY kind, key, v, p"                            \
	"  ON CONFLICT(kind, key, v, project_id) DO UPDATE SET n = c.n + excluded.n"               \
	"  RETURNING c.kind, c.key, c.v, c.project_id, c.n),"                                      \
	" dd AS (SELECT u.kind, u.project_id AS p, u.key, sum(CASE WHEN u.n > 0 AND u.n <= vs.dn"  \
	"  THEN 1 WHEN u.n <= 0 AND u.n - vs.dn > 0 THEN -1 ELSE 0 END) AS dd FROM up u"           \
	"  JOIN vs ON vs.kind = u.kind AND vs.key = u.key AND vs.v = u.v AND vs.p = u.project_id"  \
	"  GROUP BY 1, 2, 3),"                                                                     \
	" kn AS (SELECT kind, p, key, sum(dn) AS dn FROM e GROUP BY kind, p, key"                  \
	"  UNION ALL SELECT kind, 0, key, sum(dn) FROM e GROUP BY kind, key),"                     \
	" ku AS (INSERT INTO cat_keys AS c(kind, project_id, key, n, d)"                           \
	"  SELECT coalesce(kn.kind, dd.kind), coalesce(kn.p, dd.p), coalesce(kn.key, dd.key),"     \
	"  coalesce(kn.dn, 0), coalesce(dd.dd, 0) FROM kn FULL JOIN dd ON dd.kind = kn.kind"       \
	"  AND dd.p = kn.p AND dd.key = kn.key"                                                    \
	"  WHERE coalesce(kn.dn, 0) <> 0 OR coalesce(dd.dd, 0) <> 0 ORDER BY 1, 2, 3"              \
	"  ON CONFLICT(kind, project_id, key) DO UPDATE SET n = c.n + excluded.n,"                 \
	"  d = c.d + excluded.d RETURNING c.kind, c.project_id, c.key, c.n)"                       \
	" SELECT a.*, b.* INTO zk, zkey, zv, zp, qk, qp, qkey FROM"                                \
	"  (SELECT array_agg(kind), array_agg(key), array_agg(v), array_agg(project_id)"           \
	"   FROM up WHERE n = 0) a,"                                                               \
	"  (SELECT array_agg(kind), array_agg(project_id), array_agg(key) FROM ku WHERE n = 0) b;" \
	" IF zk IS NOT NULL THEN DELETE FROM cat_values c USING unnest(zk, zkey, zv, zp)"          \
	"  AS u(kind, key, v, p) WHERE c.kind = u.kind AND c.key = u.key AND c.v = u.v"            \
	"  AND c.project_id = u.p AND c.n = 0; END IF;"                                            \
	" IF qk IS NOT NULL THEN DELETE FROM cat_keys c USING unnest(qk, qp, qkey)"                \
	"  AS u(kind, p, key) WHERE c.kind = u.kind AND c.project_id = u.p AND c.key = u.key"      \
	"  AND c.n = 0; END IF;"                                                                   \
	" DELETE FROM cat_txn WHERE tx = NEW.tx; RETURN NULL; END $$;"                             \
	"CREATE CONSTRAINT TRIGGER cat_flush AFTER INSERT ON cat_txn"                              \
	" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cat_flush();"

/* The fill: every row of a live run, as (kind, p, key, v). */
#define FILL_ROWS                                                                                  \
	"(SELECT 0::smallint AS kind, r.project_id AS p, k.name AS key, " CAT_PVAL(                \
	    "x") " AS v FROM params x JOIN runs r ON r.rid = x.rid AND r.deleted = 0"              \
	         " JOIN keys k ON k.id = x.kid"                                                    \
	         " UNION ALL SELECT 1, r.project_id, k.name, NULL FROM metric_summary x"           \
	         " JOIN runs r ON r.rid = x.rid AND r.deleted = 0 JOIN keys k ON k.id = x.kid"     \
	         " UNION ALL SELECT 2, r.project_id, x.key, x.value FROM properties x"             \
	         " JOIN runs r ON r.rid = x.rid AND r.deleted = 0"                                 \
	         " UNION ALL SELECT 3, r.project_id, x.tag, NULL FROM tags x"                      \
	         " JOIN runs r ON r.rid = x.rid AND r.deleted = 0) AS f"

const char pg_catalog_migration[] =
    "CREATE TABLE cat_runs(project_id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
    "CREATE TABLE cat_keys(kind SMALLINT NOT NULL, project_id BIGINT NOT NULL,"
    "  key TEXT COLLATE \"C\" NOT NULL, n BIGINT NOT NULL, d BIGINT NOT NULL,"
    "  PRIMARY KEY(kind, project_id, key));"
    "CREATE TABLE cat_values(kind SMALLINT NOT NULL, key TEXT COLLATE \"C\" NOT NULL,"
    "  v TEXT COLLATE \"C\" NOT NULL, project_id BIGINT NOT NULL, n BIGINT NOT NULL,"
    "  PRIMARY KEY(kind, key, v, project_id));"
    /* the queue of a transaction's events, flushed at its commit */
    "CREATE UNLOGGED TABLE cat_pending(tx BIGINT NOT NULL, kind SMALLINT NOT NULL,"
    "  p BIGINT NOT NULL, key TEXT COLLATE \"C\" NOT NULL, v TEXT COLLATE \"C\","
    "  dn BIGINT NOT NULL);"
    "CREATE INDEX cat_pending_tx ON cat_pending(tx);"
    "CREATE UNLOGGED TABLE cat_txn(tx BIGINT PRIMARY KEY);" CAT_FLUSH
    /* the fill, from the rows of live runs */
    "INSERT INTO cat_runs SELECT coalesce(project_id, 0), count(*) FROM runs WHERE deleted = 0"
    "  GROUP BY GROUPING SETS ((project_id), ()) HAVING count(*) > 0;"
    "INSERT INTO cat_values SELECT kind, key, v, coalesce(p, 0), count(*) FROM " FILL_ROWS
    "  WHERE v IS NOT NULL GROUP BY GROUPING SETS ((kind, key, v, p), (kind, key, v));"
    "INSERT INTO cat_keys SELECT kind, coalesce(p, 0), key, count(*), count(DISTINCT v)"
    "  FROM " FILL_ROWS " GROUP BY GROUPING SETS ((kind, key, p), (kind, key));"
    /* the triggers */
    CAT_CHILD("params", EV_PARAMS) CAT_CHILD_UPD("params", EV_PARAMS)
        CAT_CHILD("properties", EV_PROPS) CAT_CHILD_UPD("properties", EV_PROPS)
            CAT_CHILD("metric_summary", EV_METRICS)
                CAT_CHILD_ROWUPD("metric_summary", EV_METRICS, "rid, kid",
                                 "(SELECT OLD.rid, OLD.kid)", "(SELECT NEW.rid, NEW.kid)")
                    CAT_CHILD("tags", EV_TAGS)
                        CAT_CHILD_ROWUPD("tags", EV_TAGS, "rid, tag", "(SELECT OLD.rid, OLD.tag)",
                                         "(SELECT NEW.rid, NEW.tag)")
    /* runs: a new run counts (it has no rows yet); a deleted one takes its
     * remaining rows (purge deletes them first, each counted out by its own
     * trigger); an update of deleted or project_id moves the run's rows. */
    CAT_FUNC("runs_cat_ins",
             CAT_PEND("", "SELECT -1::smallint, project_id, '', NULL, 1 FROM nt WHERE deleted = 0"))
        CAT_FUNC("runs_cat_del",
                 CAT_RUNS("IF NOT EXISTS(SELECT 1 FROM ot WHERE deleted = 0) THEN RETURN NULL;"
                          " END IF;",
                          "s AS (SELECT rid, project_id, -1 AS dn FROM ot WHERE deleted = 0)"))
            CAT_FUNC("runs_cat_upd",
                     CAT_RUNS("IF NOT EXISTS(SELECT 1 FROM ot o JOIN nt n ON n.rid = o.rid"
                              " WHERE o.deleted <> n.deleted OR o.project_id <> n.project_id)"
                              " THEN RETURN NULL; END IF;",
                              RUNS_MOVED)) "CREATE TRIGGER runs_cat_ins AFTER INSERT ON runs "
                                           "REFERENCING NEW TABLE AS nt"
                                           " FOR EACH STATEMENT EXECUTE FUNCTION runs_cat_ins();"
                                           "CREATE TRIGGER runs_cat_del AFTER DELETE ON runs "
                                           "REFERENCING OLD TABLE AS ot"
                                           " FOR EACH STATEMENT EXECUTE FUNCTION runs_cat_del();"
                                           "CREATE TRIGGER runs_cat_upd AFTER UPDATE ON runs "
                                           "REFERENCING OLD TABLE AS ot"
                                           " NEW TABLE AS nt FOR EACH STATEMENT EXECUTE FUNCTION "
                                           "runs_cat_upd();";
