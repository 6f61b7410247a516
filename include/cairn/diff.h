/*
 * cairn/diff.h — what differs between two runs, as a typed result: the
 * form `cairn diff` reads and cairn_run_diff_json (cairn/query.h) writes as
 * JSON (shape in docs/cli/diff.md).
 *
 * A cairn_run_diff holds the two runs' records and, per dimension, what
 * differs: params, metrics (with the change and which run is better where
 * the direction is known), code (with the unified diff of the two source
 * snapshots), datasets (with the files added, removed and changed between
 * their manifests), the environment (details, packages, environment
 * variables, files), the command, tags and properties.  Only what differs
 * is listed, except datasets, which are all listed with their status.
 *
 * Ownership: the diff is the caller's, released with cairn_run_diff_free
 * (NULL-safe); every struct and string an accessor returns is borrowed from
 * it.  Immutable once made: it may be read from several threads, but free
 * it before closing its store.
 */
#ifndef CAIRN_DIFF_H
#define CAIRN_DIFF_H

#include "common.h"
#include "query.h"
#include "record.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_run_diff cairn_run_diff;

typedef enum cairn_diff_change {
	CAIRN_DIFF_SAME = 0,
	CAIRN_DIFF_CHANGED = 1,
	CAIRN_DIFF_ADDED = 2,   /* only in b */
	CAIRN_DIFF_REMOVED = 3, /* only in a */
} cairn_diff_change;

/* The lists of keyed differences. */
typedef enum cairn_diff_section {
	CAIRN_DIFF_PARAMS = 0,
	CAIRN_DIFF_PROPERTIES = 1,
	CAIRN_DIFF_TAGS = 2,         /* key: the tag's text (key or key=value); ADDED or REMOVED */
	CAIRN_DIFF_ENV_DETAILS = 3,  /* the environment's other members: os, kernel, gpus, … */
	CAIRN_DIFF_ENV_PACKAGES = 4, /* key: the package; values: versions */
	CAIRN_DIFF_ENV_VARS = 5,     /* key: the variable */
	CAIRN_DIFF_ENV_FILES = 6,    /* key: the file's path; values: its digest */
} cairn_diff_section;

typedef struct cairn_diff_entry {
	cairn_diff_change change;
	const char *key;
	/* The two values, CAIRN_TYPE_NONE on the side without one (and for
	 * tags).  A param keeps its type (a float NaN is CAIRN_TYPE_FLOAT, the
	 * string "NaN" CAIRN_TYPE_STRING); a property is a string.  An
	 * environment member that is an array or object is CAIRN_TYPE_NONE with
	 * a_entries / b_entries its number of entries and a_json / b_json its
	 * JSON text. */
	cairn_value a, b;
	const char *a_json, *b_json; /* environment sections: the value as JSON, else NULL */
	size_t a_entries, b_entries;
} cairn_diff_entry;

typedef struct cairn_diff_metric {
	cairn_diff_change change; /* CHANGED (last values differ), ADDED or REMOVED */
	const char *key;
	double a, b;     /* the last values (NaN possible; NaN on the side without) */
	double delta;    /* b - a, NaN unless both are finite */
	double relative; /* (b - a) / |a|, NaN unless both are finite and a != 0 */
	int direction;   /* +1 higher is better, -1 lower, 0 unknown */
	char better;     /* 'a', 'b', or 0 when not known */
} cairn_diff_metric;

typedef struct cairn_diff_code {
	int same;
	int commit_changed, branch_changed, dirty_changed, remote_changed, snapshot_changed;
	/* The unified diff of the two snapshots, or NULL (either run without a
	 * snapshot, the code the same, or the diff could not be made). */
	const char *diff;
} cairn_diff_code;

typedef struct cairn_diff_file {
	cairn_diff_change change; /* ADDED, REMOVED or CHANGED */
	const char *path;
} cairn_diff_file;

typedef struct cairn_diff_dataset {
	const char *name;
	cairn_diff_change change;       /* SAME, CHANGED, ADDED or REMOVED */
	const cairn_run_dataset *a, *b; /* NULL on the side without it */
	/* CHANGED datasets whose two manifests could be read: the files that
	 * differ, added, then removed, then changed, each in path order. */
	int has_files;
	const cairn_diff_file *files;
	size_t nfiles;
} cairn_diff_dataset;

/* The diff of runs a and b (ids, prefixes of 4+ hex digits or names).
 * opts NULL: metric directions guessed from their names.  CAIRN_ENOTFOUND,
 * CAIRN_EAMBIGUOUS as cairn_run_resolve; CAIRN_EINVALID for a bad options
 * version. */
CAIRN_EXTERN(int)
cairn_run_diff_new(cairn_run_diff **out, cairn_store *store, const char *a, const char *b,
                   const cairn_diff_options *opts);
CAIRN_EXTERN(void) cairn_run_diff_free(cairn_run_diff *d);
/* The environment sections only, between two environment documents (JSON
 * text as cairn_run_record_environment and cairn_env_capture_json give;
 * NULL or unreadable: not recorded).  Read it with cairn_run_diff_count /
 * _entry for the CAIRN_DIFF_ENV_* sections, cairn_run_diff_env_recorded and
 * cairn_run_diff_env_same; it has no runs, metrics, code or data. */
CAIRN_EXTERN(int) cairn_env_diff_new(cairn_run_diff **out, const char *a, const char *b);

/* The two runs: side 0 is a, 1 is b. */
CAIRN_EXTERN(const cairn_run_record *) cairn_run_diff_run(const cairn_run_diff *d, int side);
/* 1 when nothing differs. */
CAIRN_EXTERN(int) cairn_run_diff_identical(const cairn_run_diff *d);

CAIRN_EXTERN(size_t) cairn_run_diff_count(const cairn_run_diff *d, cairn_diff_section section);
CAIRN_EXTERN(const cairn_diff_entry *)
cairn_run_diff_entry(const cairn_run_diff *d, cairn_diff_section section, size_t i);

CAIRN_EXTERN(size_t) cairn_run_diff_metric_count(const cairn_run_diff *d);
CAIRN_EXTERN(const cairn_diff_metric *) cairn_run_diff_metric(const cairn_run_diff *d, size_t i);

/* The runs' code themselves: cairn_run_record_code of each run. */
CAIRN_EXTERN(const cairn_diff_code *) cairn_run_diff_code(const cairn_run_diff *d);

/* Every dataset of either run, a's first. */
CAIRN_EXTERN(size_t) cairn_run_diff_dataset_count(const cairn_run_diff *d);
CAIRN_EXTERN(const cairn_diff_dataset *)
cairn_run_diff_dataset(const cairn_run_diff *d, size_t i);

/* Whether each run has a recorded environment (side 0: a, 1: b), and
 * whether the environments are the same. */
CAIRN_EXTERN(int) cairn_run_diff_env_recorded(const cairn_run_diff *d, int side);
CAIRN_EXTERN(int) cairn_run_diff_env_same(const cairn_run_diff *d);
/* Whether the command lines are the same (the lines: cairn_run_record_command). */
CAIRN_EXTERN(int) cairn_run_diff_command_same(const cairn_run_diff *d);

#ifdef __cplusplus
}
#endif
#endif
