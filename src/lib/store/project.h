/*
 * lib/store/project.h — projects as records of their own: a stable integer
 * id, name, creation and last-change times, a deleted flag and key/value
 * tags (MLflow's experiments are projects: docs/mlflow.md).  Rows are
 * malloc'ed; project_rows_free frees them.  Dispatched through store_ops
 * like every store call (store.c), with the store's lock held.
 */
#ifndef CAIRN_LIB_STORE_PROJECT_H
#define CAIRN_LIB_STORE_PROJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn.h"

typedef struct project_row {
	int64_t id;
	char *name;
	double created;
	double updated; /* 0: never changed since it was created */
	int deleted;
	int64_t runs;                  /* runs not deleted; -1 when not counted */
	char **tag_keys, **tag_values; /* in key order */
	size_t ntags;
} project_row;

void project_rows_free(project_row *rows, size_t n);

/* Every project, by id; count_runs false: each runs is -1 (not counted). */
int store_project_list(cairn_store *s, bool count_runs, project_row **out, size_t *out_n);
/* A new project: CAIRN_EEXISTS when the name is taken (deleted or not). */
int store_project_create(cairn_store *s, const char *name, double now, int64_t *out_id);
/* Rename (name not NULL; CAIRN_EEXISTS when taken) and/or delete or
 * restore it (deleted 0 or 1; -1 keeps it).  Deleting a project deletes its
 * runs that are not deleted yet, marking them deleted with it (deleted =
 * 2), so restoring it restores exactly those.  CAIRN_ENOTFOUND for no such
 * id.  One transaction. */
int store_project_update(cairn_store *s, int64_t id, const char *name, int deleted, double now);
/* Set a project's tag (value NULL: remove it; CAIRN_ENOTFOUND when it had
 * none). */
int store_project_tag_put(cairn_store *s, int64_t id, const char *key, const char *value,
                          double now);

#endif
