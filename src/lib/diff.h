/*
 * lib/diff.h — the layout of a run diff (cairn/diff.h) inside the library:
 * built by lib/diff.c from the two runs' records, written as JSON by
 * lib/diff-json.c (cairn_run_diff_json).
 *
 * Ownership: the diff holds both records (the keys of params, metrics,
 * tags, properties and datasets are borrowed from them) and one arena for
 * everything else it copies (environment keys and JSON text, file paths,
 * the unified diff); the arrays are malloc'ed and grow while it is built.
 * Immutable once built.
 */
#ifndef CAIRN_LIB_DIFF_H
#define CAIRN_LIB_DIFF_H

#include "lib/internal.h"
#include "util/arena.h"

#define DIFF_NSECTIONS 7

typedef struct diff_vec {
	void *v;
	size_t n, cap;
} diff_vec;

struct cairn_run_diff {
	arena mem;
	cairn_run_record *r[2];
	diff_vec sec[DIFF_NSECTIONS]; /* of cairn_diff_entry, by cairn_diff_section */
	diff_vec metrics;             /* of cairn_diff_metric */
	diff_vec datasets;            /* of cairn_diff_dataset */
	diff_vec files;               /* of cairn_diff_file: every dataset's, in order */
	cairn_diff_code code;
	bool env[2], env_same, command_same, data_same, identical;
};

/* {…} as cairn_run_diff_json writes it, appended to b. */
int diff_json(const cairn_run_diff *d, buf *b);

#endif
