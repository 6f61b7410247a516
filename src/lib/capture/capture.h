/*
 * lib/capture/capture.h — what the capture modules (capture*.c) share: the context
 * of one capture call, code entries and manifests, and the helpers for
 * secrets, configs, notebooks and NVML.  Nothing outside src/lib includes it
 * (the fuzz targets do, to reach the parsers directly).
 *
 * A code snapshot is two JSON objects in the object store (formats in
 * docs/internals/capture.md):
 *   - the run's code record: git facts plus the working tree's changes
 *     (one entry per modified, added, untracked or deleted path);
 *   - the base manifest of the committed tree (one entry per file), shared
 *     by every run on that tree and found again through the code map.
 * The run's tree is the base overlaid with the changes.
 */
#ifndef CAIRN_LIB_CAPTURE_H
#define CAIRN_LIB_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/internal.h"
#include "util/buf.h"
#include "util/json.h"

#define MODE_FILE    0100644u
#define MODE_EXEC    0100755u
#define MODE_LINK    0120000u
#define MODE_GITLINK 0160000u /* a submodule: a commit, no content */

#define NOTEBOOK_MAX ((size_t)64 << 20) /* notebooks larger are stored, not extracted */
#define CONFIG_MAX   ((size_t)16 << 20) /* config files larger are refused */
#define MANIFEST_MAX ((size_t)512 << 20)

/* --- one capture call ------------------------------------------------------- */

typedef struct capture_ctx {
	cairn_run *run;
	cairn_store *store;
	int64_t rid;
	const cairn_capture_options *o;
	char *cwd;    /* absolute */
	char *root;   /* project root: the git work tree, else cwd (absolute) */
	int64_t cap;  /* snapshot size cap, bytes */
	buf warnings; /* the messages, each NUL-terminated, one after another */
	int nwarnings;
	buf code_report; /* JSON object for the report's "code", or empty */
	char env_oid[65];
	char **env_allow; /* extra allow-list globs from the store's config.json */
	size_t nenv_allow;
	bool check_only; /* code_capture_git: stop after the require_clean check */
	buf *env_doc;    /* env_capture: the document goes here, not into the store */
} capture_ctx;

void capture_warn(capture_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The run's row id (its handle keeps only the hex id). */
int capture_run_rid(cairn_run *r, int64_t *out);

/* --- code entries --------------------------------------------------------------- */

enum {
	ST_BASE = 0,  /* a file of the committed tree (base manifest) */
	ST_MODIFIED,  /* in HEAD, different in the work tree */
	ST_ADDED,     /* staged, not in HEAD */
	ST_UNTRACKED, /* not in the index, not ignored */
	ST_DELETED,   /* in HEAD, gone from the work tree */
	ST_FILTERED,  /* in HEAD through an external filter (e.g. LFS): work-tree bytes */
	ST_EXTRA,     /* named by source_globs, otherwise not captured */
	ST_FILE,      /* a file of a directory snapshot (not git) */
};

typedef struct code_entry {
	char *path;          /* relative to the root, '/'-separated */
	uint32_t mode;       /* MODE_* */
	int64_t size;        /* -1: unknown */
	char oid[65];        /* the stored content, "" when not stored */
	char git[41];        /* git blob (or submodule commit) id, "" when none */
	char script[65];     /* a notebook's extracted code, "" when none */
	char digest[80];     /* content not stored: "xxh128:<hex>" or "git:<sha1>" */
	const char *omitted; /* why the content is not stored (static text), or NULL */
	uint8_t status;      /* ST_* */
	bool staged, unstaged;
} code_entry;

typedef struct code_list {
	code_entry *v;
	size_t n, cap;
} code_list;

code_entry *code_list_add(code_list *l, const char *path); /* NULL on OOM */
void code_list_free(code_list *l);
void code_list_sort(code_list *l); /* by path (bytes) */
/* Binary search in a sorted list. */
code_entry *code_list_find(const code_list *l, const char *path);

const char *code_status_name(int status);
/* Append one entry as a JSON object. */
void code_entry_json(buf *b, const code_entry *e);
/* Read a JSON array of entries (as written by code_entry_json), validating
 * every path; CAIRN_EINVALID on a damaged manifest. */
int code_entries_parse(const json *arr, code_list *out);

/* Store the content of the entries of l that have none yet, reading
 * root/path, smallest first while the total stays within cap; the rest get
 * a digest and omitted = "size cap".  Notebooks also get their script. */
int code_store_files(capture_ctx *c, code_list *l, int64_t cap);
/* Store a notebook's extracted code; script[0] stays "" when it is not one. */
void code_store_script(cairn_store *s, const void *data, size_t len, char script[65]);

/* Digest of a file's content as "xxh128:<32 hex>". 0 or -errno. */
int file_xxh128(const char *path, char out[80]);
/* True for file names that hold secrets by convention (.env, *.pem, id_rsa,
 * .netrc, ...): never stored in a snapshot. */
bool secret_file_name(const char *path);
bool is_notebook(const char *path);

/* The git code capture (capture-git.c): 0 with *is_git false when cwd is
 * not inside a work tree. */
int code_capture_git(capture_ctx *c, bool *is_git);
/* The directory snapshot for code outside git (capture-dir.c). */
int code_capture_dir(capture_ctx *c);
/* Write the record, store it and set the run's code columns. */
int code_record_finish(capture_ctx *c, const char *vcs, const char *commit, const char *branch,
                       const char *remote, int dirty, const char *subdir, const char *base_oid,
                       code_list *changes, int64_t nbase_files, int64_t base_bytes);

/* The run's tree, for checkout and diff (capture-tree.c). */
typedef struct code_tree {
	code_list files; /* sorted, no deletions */
	char *vcs, *commit, *root, *subdir, *branch, *remote;
} code_tree;
int code_tree_load(cairn_store *s, const char *run, code_tree *t);
/* Append to out, one per line, every object the code record code_oid names:
 * itself, its files and notebook scripts, its base manifest and the base's
 * files (what an artifact delete must leave referenced: store.h). */
int code_refs_collect(cairn_store *s, const char *code_oid, buf *out);
/* The same, but the files are the committed tree's only (the base manifest;
 * none on an unborn branch or outside git): what the run's changes are
 * changes against. */
int code_tree_load_base(cairn_store *s, const char *run, code_tree *t);
/* Append the unified diff of one path between two entries of two trees (a
 * or b NULL: added, deleted), as cairn_code_diff writes it (capture-diff.c);
 * nothing when they are the same. */
int code_patch_one(buf *out, cairn_store *s, const code_entry *a, const code_entry *b);
/* Make a checkout of a git run (its files already written into dir, its
 * tree t) a git repository at a stand-in for the run's commit
 * (capture-checkout-git.c). */
int checkout_git_init(cairn_store *s, const char *run, const char *dir, const code_tree *t);
/* commit (40 hex) is HEAD of the repository at gitdir: when it is a
 * checkout's stand-in (its cairn-origin file says so), it becomes the
 * original commit. */
void checkout_origin_commit(const char *gitdir, char commit[41]);
/* The size over which a file's content is not read to be diffed. */
#define DIFF_FILE_MAX ((size_t)32 << 20)
/* A stored JSON object (a code record or manifest; `what` names it in errors). */
int code_json_read(cairn_store *s, const char *oid, json_doc **out, const char *what);
void code_tree_free(code_tree *t);

/* --- the environment (capture-env.c) ------------------------------------------ */
int env_capture(capture_ctx *c);
/* Does the allow-list (built in + extra globs) admit this variable name? */
bool env_name_allowed(const char *name, char *const *extra, size_t nextra);

/* --- secrets (capture-params.c) -------------------------------------------------- */
/* Append text[0, n) to b with credentials inside URLs masked: the rule of
 * cairn_mask_credentials, for text that may hold NUL bytes (they end a URL). */
void mask_credentials_buf(buf *b, const char *text, size_t n);
/* Would the masker change s[0, n)? */
bool mask_would_change(const char *s, size_t n);

/* --- configs (capture-params.c, capture-config.c) --------------------------------- */
#define CONFIG_DEPTH_MAX 64 /* nesting depth of a config file */
typedef enum config_syntax { CONFIG_OTHER, CONFIG_YAML, CONFIG_JSON } config_syntax;
/* 0 with *yaml for a .yaml/.yml/.json path, else CAIRN_EINVALID. */
int config_kind(const char *path, bool *yaml);
/* Flatten config text into a JSON object of params (appended to out), with
 * credentials inside URLs masked in keys and values.  name is for messages;
 * yaml selects the syntax. */
int config_flatten_buf(buf *out, const char *data, size_t len, bool yaml, const char *name);
/* The text to store as the config's copy (appended to out): data with every
 * credential inside a URL masked, the rest byte for byte.  CAIRN_EINVALID
 * when a credential cannot be masked in the file (nothing appended). */
int config_snapshot_text(buf *out, const char *data, size_t len, config_syntax syntax,
                         const char *name);
/* Append v as typed JSON (floats keep a fraction so they read back as floats). */
void json_typed_value(buf *b, const cairn_value *v);
/* flatten.c: a JSON node's text (a list param's value), credentials in its
 * strings masked when mask. */
struct json;
void json_node_text(buf *b, const struct json *n, int depth, bool mask);

/* --- NVML, loaded at run time (capture-nvml.c) ----------------------------------- */
typedef struct nvml nvml;
/* NULL when NVML is absent or finds no GPU (never an error). */
nvml *nvml_open(void);
void nvml_close(nvml *n);
unsigned nvml_count(const nvml *n);
/* Append the GPUs as a JSON array of {name, memory_bytes, driver}. */
void nvml_gpus_json(nvml *n, buf *b);
typedef struct nvml_sample {
	double util_percent, memory_bytes, memory_percent, temperature_c, power_w;
	bool has_util, has_memory, has_temperature, has_power;
} nvml_sample;
void nvml_read(nvml *n, unsigned i, nvml_sample *out);

#endif
