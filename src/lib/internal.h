/*
 * lib/internal.h — what the library's modules share and nothing outside
 * src/lib may include: the store handle's layout, error raising, and the
 * metric writer's entry points.
 */
#ifndef CAIRN_LIB_INTERNAL_H
#define CAIRN_LIB_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "cairn.h"
#include "util/buf.h"

#define KEY_MAX        250        /* bytes in any key, tag or name */
#define TEXT_VALUE_MAX (64 << 10) /* bytes in a param/property value */
#define NOTE_MAX       (1 << 20)  /* bytes in a note */

typedef struct writer writer;
typedef struct stmt_cache_entry {
	const char *sql;
	sqlite3_stmt *st;
} stmt_cache_entry;

#define STMT_CACHE_SIZE 96

struct cairn_store {
	char *dir;         /* the store directory (…/.cairn) */
	char *db_path;     /* dir/cairn.db */
	char *objects_dir; /* dir/objects */
	sqlite3 *db;
	pthread_mutex_t lock; /* recursive; held around every database use */
	stmt_cache_entry stmts[STMT_CACHE_SIZE];
	int nstmts;
	writer *w;             /* metrics writer, started on first metric */
	pthread_mutex_t wlock; /* guards w's creation */
	double stale_after;    /* seconds without heartbeat before "crashed" */
	double pinned_now;     /* > 0: what store_now() answers (tests); 0: the wall clock */
};

/* Raise an error on this thread; returns code so callers can
 * `return err_set(CAIRN_EINVALID, "…")`. */
int err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current error message with context ("cannot log artifact: …"). */
int err_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The writer (writer.c). */
typedef struct mpoint {
	int64_t rid, kid, step, ts_ms;
	double value;
} mpoint;

int writer_append(cairn_store *s, const mpoint *p);
int writer_flush(cairn_store *s);
void writer_stop(cairn_store *s);

/* objects.c */
void object_remove(cairn_store *s, const char *oid);
/* A temp file in objects/tmp (returns its fd, or -1 with the error set), and
 * moving a finished one into place under oid (streamed objects). */
int object_temp_open(cairn_store *s, char **out_path);
int object_publish(cairn_store *s, const char *tmp, const char *oid);
#endif
