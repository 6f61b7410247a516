/*
 * lib/data/data.h — the data-versions module's insides, shared by data-*.c,
 * store-data.c and the unit tests (which link libcairn.a and may reach the
 * fault hooks below).  Nothing outside src/lib and tests/ includes this.
 *
 * Pieces:
 *  - digest contexts over the three algorithms (data-digest.c);
 *  - the manifest: sorted entries, its canonical text, and a bounded parser of
 *    that text (data-manifest.c);
 *  - the hash engine: walk, cache lookup, parallel hashing (data-hash.c),
 *    and its typed result (hash-result.c);
 *  - diff and recording (data-diff.c, data-log.c), each a typed result with
 *    its JSON written from it.
 */
#ifndef CAIRN_LIB_DATA_H
#define CAIRN_LIB_DATA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/data.h"
#include "lib/internal.h"
#include "util/arena.h"
#include "util/buf.h"

/* --- algorithms and digest contexts (data-digest.c) ------------------------ */

typedef enum data_algo {
	ALGO_XXH128 = 0,
	ALGO_SHA256 = 1,
	ALGO_MD5 = 2,
} data_algo;

#define DIGEST_HEX_MAX 64

/* "xxh128" (also "xxh3", "xxh3-128"), "sha256", "md5"; NULL or "" is xxh128.
 * CAIRN_EINVALID with the list of names otherwise. */
int algo_parse(data_algo *out, const char *name);
const char *algo_name(data_algo a);
size_t algo_hexlen(data_algo a);

/* One thread's hashing state for one algorithm; reused file after file. */
typedef struct digest_ctx {
	data_algo algo;
	void *xxh; /* XXH3_state_t */
	void *evp; /* EVP_MD_CTX */
	void *md;  /* EVP_MD, fetched once (owned) */
} digest_ctx;

int digest_ctx_init(digest_ctx *c, data_algo a);
void digest_ctx_free(digest_ctx *c);
void digest_begin(digest_ctx *c);
void digest_update(digest_ctx *c, const void *p, size_t n);
/* Writes algo_hexlen() lowercase hex digits and a NUL. */
void digest_end_hex(digest_ctx *c, char out[DIGEST_HEX_MAX + 1]);
void digest_buf_hex(digest_ctx *c, const void *p, size_t n, char out[DIGEST_HEX_MAX + 1]);

/* Manifests keep their strings in a util/arena.h arena (256 KiB chunks). */

/* --- manifests (data-manifest.c) --------------------------------------------- */

typedef enum entry_state {
	ENTRY_PENDING = 0, /* to be hashed */
	ENTRY_CANDIDATE,   /* the cache has a row for its inode: stat to confirm */
	ENTRY_CACHED,      /* digest from the cache */
	ENTRY_HASHED,      /* digest computed now (links: from the target text) */
	ENTRY_FAILED,      /* could not be hashed: listed as an error */
} entry_state;

typedef struct mentry {
	char *path;        /* relative path, raw bytes (arena) */
	char *target;      /* a link's target text (arena), else NULL */
	int64_t size;      /* file size; a link: the target's length */
	uint64_t dev, ino; /* hash engine: from the walk (readdir), then fstat */
	int64_t mtime_ns, ctime_ns;
	uint32_t dir;      /* hash engine: index of the parent directory */
	uint32_t name_off; /* offset of the last component in path */
	char type;         /* 'f' regular file, 'l' symbolic link */
	uint8_t state;     /* entry_state, used by the hash engine */
	char digest[DIGEST_HEX_MAX + 1];
} mentry;

typedef struct manifest {
	data_algo algo;
	bool is_file; /* the root was one regular file */
	mentry *e;    /* sorted by path (bytewise), no duplicates */
	size_t n, cap;
	arena mem;
	char digest[DIGEST_HEX_MAX + 1]; /* the version's digest */
	int64_t files, bytes;
} manifest;

#define MANIFEST_MAGIC    "cairn-manifest 1"
#define MANIFEST_LINE_MAX (3 * 4096 + 256) /* bytes in one manifest line */

manifest *manifest_new(data_algo a);
void manifest_free(manifest *m);
/* Append an entry (copied strings); order is fixed later by manifest_sort. */
int manifest_add(manifest *m, const mentry *e);
void manifest_sort(manifest *m);
/* The canonical text (docs/internals/data.md). */
void manifest_format(const manifest *m, buf *out);
/* Fill counts and the version's digest: a directory's is the digest of the
 * canonical text, a single file's is that file's digest. */
int manifest_finish(manifest *m);
/* Parse canonical text, bounded: lines up to MANIFEST_LINE_MAX, entries
 * strictly sorted, fields validated.  On error returns CAIRN_EINVALID with
 * "manifest line N: what" in cairn_error_last(). */
int manifest_parse(manifest **out, const char *text, size_t len);
/* Stream the first `limit` entries (limit <= 0: all) of a manifest file;
 * *out_more is set when entries remain. */
int manifest_read_prefix(manifest **out, bool *out_more, FILE *f, int64_t limit);

/* Escape a path for the canonical text: \\ \t \n \r and \xHH for other
 * control bytes.  unescape returns -1 on a malformed escape. */
void path_escape(buf *out, const char *s);
int path_unescape(buf *out, const char *s, size_t n);

/* --- problems: errors and skipped files ----------------------------------- */

typedef struct problem {
	char *path;
	char *msg;
} problem;

typedef struct problems {
	problem *v;
	size_t n, cap;
} problems;

/* Copies both strings; silently drops on out-of-memory (the count stays). */
void problems_add(problems *p, const char *path, const char *msg);
void problems_free(problems *p);
void problems_merge(problems *to, problems *from);

/* --- the hash engine (data-hash.c) ---------------------------------------------- */

/* Fault injection for tests: called at each stage with the entry's relative
 * path; a non-zero return at FAULT_OPEN is taken as the errno of open(). */
typedef enum fault_stage {
	FAULT_AFTER_WALK = 1, /* once, after the walk, relpath NULL */
	FAULT_OPEN,           /* before each file is opened */
	FAULT_READ,           /* after the first block of each file is read */
	FAULT_DIR,            /* before each subdirectory is opened by the walk */
} fault_stage;
typedef int (*fault_fn)(void *arg, fault_stage stage, const char *relpath);

#define RACY_NS_DEFAULT (50 * 1000000LL)

typedef struct hash_job {
	/* inputs */
	const char *path;
	data_algo algo;
	bool use_cache;
	int threads; /* 0: one per core */
	cairn_hash_progress_cb progress;
	void *payload;
	double interval;
	int64_t racy_ns; /* files changed this recently are not cached */
	fault_fn fault;
	void *fault_arg;
	/* outputs */
	manifest *m;     /* set on success and on per-file errors */
	problems errors; /* per-file problems (path as the user names it) */
	problems skipped;
	cairn_hash_stats stats;
} hash_job;

void hash_job_init(hash_job *j, const char *path, data_algo algo);
/* Apply public options over the defaults. */
int hash_job_options(hash_job *j, const cairn_hash_options *o);
/* Hash j->path.  0: j->m holds the complete manifest.  CAIRN_EIO with
 * j->errors non-empty: j->m holds what could be hashed (never to be recorded
 * as the version).  Other codes: nothing was hashed. */
int data_hash(hash_job *j, cairn_store *s);
/* The typed result of a hash (hash-result.c): takes the job's path copy,
 * counts, digest, problems and stats (j->m and j->path are left to the job).
 * Only for a job that returned 0, or CAIRN_EIO with j->m set. */
int hash_result_take(cairn_hash_result **out, hash_job *j);
/* The result object of cairn_hash_path, written from the typed result. */
void hash_result_json(const cairn_hash_result *r, buf *out);
void hash_job_free(hash_job *j);

/* Hash j->path and record it on the run (data-log.c); nothing is recorded
 * unless the hash is complete. */
int data_log(cairn_run *run, const char *name, const char *role, hash_job *j);
/* Read a whole manifest object of the store, counts and digest filled
 * (data-log.c). */
int manifest_load(manifest **out, cairn_store *s, const char *oid);

/* The number of online cores (at least 1). */
int data_ncores(void);

#endif
