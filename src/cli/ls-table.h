/*
 * cli/ls-table.h — the tables of `cairn ls` and `cairn best` (ls-table.c):
 * the runs of a page as records, the columns to show and their priorities,
 * and the runs and groups tables.  CLI only, on the public API.
 */
#ifndef CAIRN_CLI_LS_TABLE_H
#define CAIRN_CLI_LS_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn.h"
#include "cli/fields.h"

/* Priorities (table_priority): the columns kept first when the terminal is
 * narrow.  Sort keys, then status, then final metrics, then params, then
 * start, duration and tags; columns named with --columns by their order. */
enum {
	LS_PRIO_SORT = 900,    /* minus the key's index */
	LS_PRIO_PLUS = 850,    /* --columns +COLS, minus the position */
	LS_PRIO_PROJECT = 820, /* shown when the runs span projects */
	LS_PRIO_STATUS = 800,
	LS_PRIO_METRIC = 700,
	LS_PRIO_PARAM = 600,
	LS_PRIO_STARTED = 500,
	LS_PRIO_DURATION = 400,
	LS_PRIO_TAGS = 300,
	LS_PRIO_COLUMNS = 100000 /* --columns COLS: minus the position */
};

typedef struct col {
	rfield f;
	char head[320];
	int prio;
} col;

typedef struct cols {
	col *v;
	int n, cap;
} cols;

/* Add a column (head NULL: the field's name), or raise the priority of the
 * one already there.  A metric or param column goes after the last one of
 * its kind (its group), anything else at the end. */
void cols_add(cols *c, const rfield *f, const char *head, int prio);

/* The runs of the page, read as records. */
typedef struct runs {
	cairn_run_record **v;
	size_t n, cap;
} runs;

/* Every record the iterator gives (its rest), kept. */
int runs_load(runs *r, cairn_run_iter *it);
void runs_free(runs *r);

/* The default columns: ID, NAME, (PROJECT), STATUS, the sort keys and the
 * final metrics that differ (system metrics, sys/…, only when sorted by), the params
 * that differ, STARTED, DURATION, TAGS (ls-cols.c).  ls_default_columns
 * over a page in memory; the colscan calls over records one at a time,
 * none kept (colscan_columns once, after the last colscan_add). */
void ls_default_columns(cols *c, const runs *rs, char **sortf, int nsort);
typedef struct colscan colscan;
colscan *colscan_new(void);
void colscan_add(colscan *cs, const cairn_run_record *rec);
void colscan_columns(colscan *cs, cols *c, char **sortf, int nsort);
void colscan_free(colscan *cs);

/* The runs as a table fitted to the terminal, or CSV; what the width left
 * out is said on stderr. */
void ls_print_runs(const runs *rs, cols *c, bool csv, cairn_run_iter *it);

/* The runs as ls_print_runs shows them, streamed from the iterator (from
 * its first record: it is rewound) with none kept: a table is measured in
 * one pass and printed in a second over the same ids.  A library error
 * code when the store fails (what was printed stays printed). */
int ls_stream_runs(cairn_run_iter *it, cols *c, bool csv);

/* A grouping's table (by_metric: ordered by the metric's mean, desc). */
int ls_print_groups(const cairn_group_result *res, bool csv, bool by_metric, bool desc);

#endif
