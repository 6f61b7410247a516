/*
 * cli/fields.h — reading a query-language field (metrics.acc, params.lr,
 * started, …) out of a run object for display, shared by ls, best and
 * compare; and the caret error for a bad query.  CLI only; uses the public
 * API (cairn_query_field_json) to parse field names.
 */
#ifndef CAIRN_CLI_FIELDS_H
#define CAIRN_CLI_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/json.h"

typedef struct rfield {
	char name[320]; /* canonical: "metrics.`a b`.max" */
	char kind[16];  /* metric, param, tag, tags, property, dataset, attribute */
	char key[300];  /* key, tag, dataset name or attribute name */
	char part[16];  /* metrics: last/min/max/count/step; datasets: digest/... */
} rfield;

/* Parse a field name; on error prints nothing, returns the library's code
 * (message in cairn_error_last(), byte offset in *pos). */
int rfield_parse(rfield *f, const char *text, size_t *pos);

/* Build one directly (kind "metric" etc.). */
void rfield_make(rfield *f, const char *kind, const char *key, const char *part);

/* The field's value in `run` as text; false (and "") when the run has no
 * such value.  full: every digit and the whole id/commit (CSV); else short
 * forms for tables. */
bool rfield_text(const json *run, const rfield *f, char *out, size_t n, bool full);

/* Does the field hold numbers (right-aligned in tables)? */
bool rfield_numeric(const rfield *f, const json *sample);

/* "1.5s", "3m05s", "2h10m". */
void fmt_duration(char *out, size_t n, double secs);

/* Print "error: <cairn_error_last()>" and, under it, the line of `text` that
 * holds byte `pos` with a caret under that character.  Returns EXIT_USAGE. */
int cli_caret_error(const char *text, size_t pos);

#endif
