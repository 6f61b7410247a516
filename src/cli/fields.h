/*
 * cli/fields.h — reading a query-language field (metrics.acc, params.lr,
 * started, …) out of a run record for display, shared by ls, best and
 * compare; and the caret error for a bad query.  CLI only; built on the
 * public API (cairn_field_parse, cairn_run_record_field).
 */
#ifndef CAIRN_CLI_FIELDS_H
#define CAIRN_CLI_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn.h"

typedef struct rfield {
	char name[320];        /* canonical: "metrics.`a b`.max" */
	cairn_field_kind kind; /* metric, param, tag, tags, property, dataset, attribute */
	char key[300];         /* key, tag, dataset name or attribute name */
	int part;              /* CAIRN_METRIC_* / CAIRN_DATASET_*, else -1 */
} rfield;

/* Parse a field name; on error prints nothing, returns the library's code
 * (message in cairn_error_last(), byte offset in *pos). */
int rfield_parse(rfield *f, const char *text, size_t *pos);

/* Build one directly (part -1: the kind's default). */
void rfield_make(rfield *f, cairn_field_kind kind, const char *key, int part);

/* The field's value in `run` as text; false (and "") when the run has no
 * such value.  full: every digit and the whole id/commit (CSV); else short
 * forms for tables.  A string is always shown as its text ("Infinity" stays
 * a word), a float NaN or +-Inf as nan / inf / -inf. */
bool rfield_text(const cairn_run_record *run, const rfield *f, char *out, size_t n, bool full);

/* Does the field hold numbers (right-aligned in tables)? */
bool rfield_numeric(const rfield *f, const cairn_run_record *sample);

/* A typed value as text, as rfield_text writes it ("" for NONE). */
void rvalue_text(char *out, size_t n, const cairn_value *v, bool full);

/* "1.5s", "3m05s", "2h10m". */
void fmt_duration(char *out, size_t n, double secs);

/* Print "error: <cairn_error_last()>" and, under it, the line of `text` that
 * holds byte `pos` with a caret under that character.  Returns EXIT_USAGE. */
int cli_caret_error(const char *text, size_t pos);

#endif
