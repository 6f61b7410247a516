/*
 * lib/store/sqlite/scan-attr.c — the SQL of each field a query names: a run
 * attribute's value expression over the runs table, its presence and its
 * truth (a bare attribute), and whether an index answers ranges over it;
 * the columns of a metric summary's parts and of a dataset's fields.
 *
 * Status and duration depend on the stale-heartbeat rule: a running run
 * whose heartbeat is older than the store's stale time is crashed, so those
 * expressions take the stale time (and now) as bound values.
 */
#include "lib/store/sqlite/scan-sql.h"

const char *const scan_metric_cols[] = {"last", "min", "max", "count", "last_step"};
const char *const scan_data_cols[] = {"digest", "path", "role", "algo", "files", "bytes"};

#define LIVE "(status = 0 AND (heartbeat IS NULL OR heartbeat >= ?))"
/* a crashed run lasted until its last heartbeat */
#define CRASHED "(status = 4 OR (status = 0 AND heartbeat < ?))"
#define HAS_DURATION                                                                               \
	"(end_time IS NOT NULL OR status = 0 OR (status = 4 AND heartbeat IS NOT NULL))"

attr_sql scan_attr(qattr a)
{
	int R = STORE_COST_RANGE, F = STORE_COST_FULL;
	switch (a) {
	case QA_ID: return (attr_sql){"id", NULL, "1", R, 0, 0, 0};
	case QA_SEQ: return (attr_sql){"seq", NULL, "1", F, 0, 0, 0};
	case QA_NAME: return (attr_sql){"name", NULL, "1", R, 0, 0, 0};
	case QA_PROJECT:
		return (attr_sql){
		    "(SELECT name FROM projects WHERE id = project_id)", NULL, "1", F, 0, 0, 0};
	case QA_STATUS:
		return (attr_sql){"(CASE WHEN status = 0 AND heartbeat < ? THEN 4 ELSE status END)",
		                  NULL,
		                  "1",
		                  R,
		                  1,
		                  0,
		                  0};
	case QA_STARTED: return (attr_sql){"start_time", NULL, "1", R, 0, 0, 0};
	case QA_ENDED:
		return (attr_sql){
		    "end_time", "end_time IS NOT NULL", "end_time IS NOT NULL", R, 0, 0, 0};
	case QA_START_MS:
		return (attr_sql){"CAST(start_time * 1000 AS INTEGER)", NULL, "1", F, 0, 0, 0};
	case QA_END_MS:
		return (attr_sql){"CAST(end_time * 1000 AS INTEGER)",
		                  "end_time IS NOT NULL",
		                  "end_time IS NOT NULL",
		                  F,
		                  0,
		                  0,
		                  0};
	case QA_DURATION:
		return (attr_sql){"(coalesce(end_time, CASE WHEN " CRASHED " THEN heartbeat END,"
		                  " CASE WHEN " LIVE " THEN ? END) - start_time)",
		                  HAS_DURATION,
		                  HAS_DURATION,
		                  F,
		                  2,
		                  1,
		                  0};
	case QA_USER:
		return (attr_sql){
		    "user", "user IS NOT NULL", "(user IS NOT NULL AND user != '')", F, 0, 0, 0};
	case QA_HOST:
		return (attr_sql){
		    "host", "host IS NOT NULL", "(host IS NOT NULL AND host != '')", F, 0, 0, 0};
	case QA_COMMIT:
		return (attr_sql){"git_commit",
		                  "git_commit IS NOT NULL",
		                  "(git_commit IS NOT NULL AND git_commit != '')",
		                  R,
		                  0,
		                  0,
		                  0};
	case QA_BRANCH:
		return (attr_sql){"git_branch",
		                  "git_branch IS NOT NULL",
		                  "(git_branch IS NOT NULL AND git_branch != '')",
		                  R,
		                  0,
		                  0,
		                  0};
	case QA_REMOTE:
		return (attr_sql){"git_remote",
		                  "git_remote IS NOT NULL",
		                  "(git_remote IS NOT NULL AND git_remote != '')",
		                  F,
		                  0,
		                  0,
		                  0};
	case QA_DIRTY:
		return (attr_sql){
		    "git_dirty", "git_dirty IS NOT NULL", "git_dirty = 1", F, 0, 0, 0};
	case QA_COMMAND:
		return (attr_sql){"command",
		                  "command IS NOT NULL",
		                  "(command IS NOT NULL AND command != '')",
		                  F,
		                  0,
		                  0,
		                  0};
	case QA_NOTE:
		return (attr_sql){
		    "coalesce(note, '')", NULL, "coalesce(note, '') != ''", F, 0, 0, 0};
	case QA_EXIT_CODE:
		return (attr_sql){
		    "exit_code", "exit_code IS NOT NULL", "exit_code IS NOT NULL", F, 0, 0, 0};
	case QA_PARENT:
		/* present while the parent is in the store: a purged parent's
		 * children keep its parent_rid, and their parent is no one's */
		return (attr_sql){"(SELECT q.id FROM runs q WHERE q.rid = runs.parent_rid)",
		                  "EXISTS(SELECT 1 FROM runs q WHERE q.rid = runs.parent_rid)",
		                  "EXISTS(SELECT 1 FROM runs q WHERE q.rid = runs.parent_rid)",
		                  F,
		                  0,
		                  0,
		                  0};
	case QA_CHILDREN:
		/* runs_parent answers both, named: ANALYZE of a store without
		 * nested runs rates the index as one value over every run, and
		 * the planner then scans runs once per run it lists */
		return (attr_sql){"(SELECT count(*) FROM runs c INDEXED BY runs_parent"
		                  " WHERE c.parent_rid = runs.rid"
		                  " AND c.deleted = 0)",
		                  NULL,
		                  "EXISTS(SELECT 1 FROM runs c INDEXED BY runs_parent"
		                  " WHERE c.parent_rid = runs.rid"
		                  " AND c.deleted = 0)",
		                  F,
		                  0,
		                  0,
		                  0};
	default: return (attr_sql){"NULL", "0", "0", F, 0, 0, 0};
	}
}

void scan_attr_binds(store_scan_ctx *q, const attr_sql *a, cb *c, bool for_present)
{
	int ns = for_present ? a->pstale : a->nstale;
	for (int k = 0; k < ns; k++)
		cb_dbl(c, q->stale);
	if (!for_present)
		for (int k = 0; k < a->nnow; k++)
			cb_dbl(c, q->now);
}
