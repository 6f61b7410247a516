/*
 * cairn/project.h — projects as records: a stable integer id, its name,
 * creation and last-change times, a deleted flag and key/value tags, and
 * the calls that create, rename, delete, restore and tag one.  MLflow's
 * experiments are cairn's projects (docs/mlflow.md); `cairn run -p NAME`
 * creates a project the first time a run names it.
 *
 * The list is a snapshot owned by the caller (cairn_projects_free); every
 * string in it is borrowed from the list.
 */
#ifndef CAIRN_PROJECT_H
#define CAIRN_PROJECT_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_project {
	int64_t id; /* stable: never reused, kept across renames */
	const char *name;
	double created; /* seconds since the epoch */
	double updated; /* the last rename, delete, restore or tag; 0: none */
	int deleted;
	int64_t runs; /* runs that are not deleted (-1: not counted) */
	size_t ntags; /* key/value tags, in key order */
	const char *const *tag_keys;
	const char *const *tag_values;
} cairn_project;

/* Every project, by id.  *out is an array of *n (freed with
 * cairn_projects_free, NULL-safe). */
CAIRN_EXTERN(int) cairn_projects_get(cairn_project **out, size_t *n, cairn_store *store);
/* Flags for cairn_projects_get_ext. */
#define CAIRN_PROJECTS_NO_COUNTS 1u /* runs is -1: the runs are not counted */
/* The same with flags.  Counting reads an index entry per run (a few ms per
 * 100,000 runs), which a caller that only maps ids to names (MLflow's
 * routes, on every request) need not pay. */
CAIRN_EXTERN(int)
cairn_projects_get_ext(cairn_project **out, size_t *n, cairn_store *store, unsigned flags);
CAIRN_EXTERN(void) cairn_projects_free(cairn_project *p, size_t n);

/* A new, empty project: CAIRN_EEXISTS when the name is taken, also by a
 * deleted project. */
CAIRN_EXTERN(int) cairn_project_create(int64_t *out_id, cairn_store *store, const char *name);
/* Rename project id (CAIRN_EEXISTS when the name is taken, CAIRN_ENOTFOUND
 * for no such id).  Its runs follow it. */
CAIRN_EXTERN(int) cairn_project_rename(cairn_store *store, int64_t id, const char *name);
/* Delete (deleted 1) or restore (0) a project.  Deleting it deletes its
 * runs with it (as cairn rm does: hidden, not purged); restoring it
 * restores exactly those, not the runs deleted on their own before. */
CAIRN_EXTERN(int) cairn_project_set_deleted(cairn_store *store, int64_t id, int deleted);
/* Set a project's tag (value NULL: remove it, CAIRN_ENOTFOUND when it has
 * none).  Keys are checked as every key is (cairn_key_validate); values are
 * UTF-8 text of at most 64 KiB. */
CAIRN_EXTERN(int)
cairn_project_set_tag(cairn_store *store, int64_t id, const char *key, const char *value);

#ifdef __cplusplus
}
#endif
#endif
