/*
 * lib/store/store.h — the store module's interface inside the library: the
 * calls the run, query, capture and data modules make on a cairn_store.
 * Each is dispatched (lib/store/store.c) through the store's operations
 * table (lib/store/backend.h) to its backend; the SQLite one
 * (lib/store/sqlite/) holds every SQL statement of cairn, with bound
 * parameters only, each write inside a transaction.  browse.h, capture.h,
 * data.h, query.h and sweep.h declare the rest of the calls.
 *
 * Every call holds the store's recursive lock for its whole duration, so a
 * cairn_store may be shared between threads.
 */
#ifndef CAIRN_LIB_STORE_H
#define CAIRN_LIB_STORE_H

#include <limits.h>

#include "lib/internal.h"

#define SCHEMA_APP_ID 0x6361726e /* 'carn' */

/* "Now" for everything the library records or decides by the clock: start,
 * end, heartbeat and creation times, metric timestamps, the stale-heartbeat
 * rule (running -> crashed) and running durations in queries.  The wall
 * clock, unless a test pinned it with store_clock_pin (0 unpins), so that no
 * outcome depends on how long a test machine took (store.md, "The clock"). */
double store_now(const cairn_store *s);
int64_t store_now_ms(const cairn_store *s);
void store_clock_pin(cairn_store *s, double now);

/* cairn_store_open_peer, the file mapped (a server's reader) or not (a
 * listing's loader: a mapping's pages count in the process's memory); the
 * peer takes src's page cache size. */
int store_open_peer(cairn_store **out, const cairn_store *src, bool mapped);

void store_lock(cairn_store *s);
void store_unlock(cairn_store *s);
/* A read snapshot, unless one is open already (*own tells which, for
 * store_read_end): everything read inside sees one state of the store.
 * Hold store_lock from begin to end (the connection is the handle's). */
int store_read_begin(cairn_store *s, bool *own);
void store_read_end(cairn_store *s, bool own);

/* The schema version of the open store, and of this build (for the store
 * kind a directory names); migrate up to `target` (tests use it to build
 * old stores). */
int store_schema_version(cairn_store *s, int *out);
int store_migrate(cairn_store *s, int target);
int store_schema_latest(void);

/* The store's settings (key/value text; "objects" is the only key so far):
 * CAIRN_ENOTFOUND with *out NULL when absent. */
int store_setting_get(cairn_store *s, const char *key, char **out);
int store_setting_put(cairn_store *s, const char *key, const char *value);

typedef struct run_row {
	const char *project;
	const char *name; /* NULL: generated */
	const char *command;
	const char *cwd;
	const char *host;
	const char *user;
	const char *parent; /* parent run id or NULL */
	int pid;
	double start_time;
	/* Given (cairn migrate): the run keeps this id and sequence number,
	 * and the project's next number moves past it; NULL / 0: new ones. */
	const char *id;
	int64_t seq;
} run_row;

/* Inserts the run; fills id (32 hex), rid, seq and the final name. */
int store_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                     char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name);
/* Resolve an id / unique prefix / exact name. */
int store_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                     char out_id[33]);
int store_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project,
                    int64_t *out_seq);
int store_key_intern(cairn_store *s, const char *name, int64_t *out_kid);
int store_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step);
int store_metrics_insert(cairn_store *s, const mpoint *pts, size_t n);
/* Does store_metrics_insert give CAIRN_STEP_AUTO points their steps itself,
 * in its transaction (backend.h, default_steps)? */
bool store_default_steps(const cairn_store *s);
/* Params are write-once: unless overwrite, the same value again is fine,
 * another is CAIRN_ECONFLICT. */
int store_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
                    bool overwrite);
/* Set tag (value NULL: a bare tag, present or not; else its value,
 * replacing any earlier one) or remove it (whatever its value). */
int store_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove);
/* A tag given as text, "key" or "key=value" (split at the first '='): the
 * form run_insert's tags and `cairn tag` take.  *key is malloc'ed when the
 * text has a value (NULL otherwise: the key is the text); 0 or ENOMEM. */
int store_tag_split(const char *text, char **key, const char **value);
int store_property_put(cairn_store *s, int64_t rid, const char *key, const char *value);
int store_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value);
/* Undelete a run (deleted = 0). */
int store_run_restore(cairn_store *s, int64_t rid);
int store_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid, int64_t size,
                       const char *media_type, const char *kind, const char *key, int64_t step);
/* What an artifact delete must not unreference (backend.h, artifact_delete):
 * the run's code record as the caller read it ("" none) and the objects it
 * names, one oid per line. */
typedef struct store_art_keep {
	const char *code_oid;
	const char *oids;
} store_art_keep;
/* Does the store's backend keep its records elsewhere (a cairn server)? */
bool store_is_remote(const cairn_store *s);
/* Is oid a whole line of list (lines of object ids, as keep->oids)? */
bool store_oid_listed(const char *list, const char *oid);
/* Drop the artifact at path, or every one under the directory path ("":
 * all of the run's); with keep, also the run's references that no other
 * record of the run needs, their objects appended to orphans (backend.h).
 * CAIRN_ENOTFOUND when nothing is there.  Callers free objects through
 * artifact_delete_free (lib/run/artifact.c). */
int store_artifact_delete(cairn_store *s, int64_t rid, const char *path, const store_art_keep *keep,
                          int64_t *out_removed, buf *orphans);
/* exit_code STORE_NO_EXIT_CODE: none (a run ended through MLflow's API) */
#define STORE_NO_EXIT_CODE INT_MIN
int store_run_finish(cairn_store *s, int64_t rid, cairn_status st, int exit_code, double end);
int store_heartbeat(cairn_store *s, int64_t rid, double now);
int store_run_json(cairn_store *s, int64_t rid, bool with_artifacts, buf *out);
int store_run_list_json(cairn_store *s, const cairn_list_options *o, buf *out);
/* A metric's points (store_metric_points): parallel arrays, malloc'ed,
 * released with store_points_free; known tells whether the run has the
 * metric at all (a series may be empty). */
typedef struct store_points {
	int64_t *step, *ts_ms;
	double *value; /* NaN kept */
	size_t n;
	bool known;
} store_points;
int store_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out);
void store_points_free(store_points *p);
/* [[step, time, value], ...] (time in seconds); [] without the metric. */
int store_metric_history_json(cairn_store *s, int64_t rid, const char *key, buf *out);
/* With purge, appends the ids of objects no other run referenced at the
 * commit, one per line, to `orphans`: candidates for store_objects_sweep,
 * which the caller runs after this returns. */
int store_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans);

/* Objects and references (docs/internals/store.md, "Objects, references
 * and purge").  Every call that records a reference to an object checks,
 * under the store's write lock, that the object's file is there; a writer
 * that gets OBJECT_VANISHED (nothing recorded) writes the object again and
 * retries (object_retry).
 */
/* Remove the files of the candidates (oid lines) that nothing references
 * any more: each is checked and unlinked inside one write transaction.
 * *out_removed (may be NULL) counts the files removed. */
int store_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed);
/* Test-only: see store_hook_fn in internal.h (NULL removes it). */
void store_test_hook(cairn_store *s, store_hook_fn fn, void *arg);

/* --- copying a whole store (cairn migrate: lib/store/migrate.c) ---------- */
/* The objects run rid references (object_refs), *out malloc'ed. */
int store_refs_list(cairn_store *s, int64_t rid, char (**out)[65], size_t *out_n);
/* Record that rid references each object (checked present, as every
 * reference is); references already there are kept. */
int store_refs_put(cairn_store *s, int64_t rid, const char (*oids)[65], size_t n);
/* Every entry of the code map (capture.h), *out freed with code_map_rows_free. */
typedef struct code_map_row {
	char *key;
	char oid[65];
	int64_t size;
} code_map_row;
int store_code_map_list(cairn_store *s, code_map_row **out, size_t *out_n);
void code_map_rows_free(code_map_row *v, size_t n);

/* Generated names (names.c). */
void name_generate(char *out, size_t outsz, uint32_t rnd, int64_t seq);

#endif
