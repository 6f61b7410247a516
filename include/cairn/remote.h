/*
 * cairn/remote.h — logging to a `cairn server` from anywhere: a store named
 * by an http:// or https:// URL is the server's store (cairn_store_open
 * takes the URL as it takes a directory), with the token from $CAIRN_TOKEN
 * or cairn_login_save's file, and writes the server cannot take kept in an
 * offline spool until they are sent (docs/team.md, docs/internals/remote.md).
 *
 * This header has the few calls that are about the server itself: keeping
 * a token, the spool's journals and their replay (cairn sync), and the
 * server's end of the store protocol.
 */
#ifndef CAIRN_REMOTE_H
#define CAIRN_REMOTE_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- tokens ------------------------------------------------------------------- */

/* Keep token for the server at url in the user's credentials file
 * ($XDG_CONFIG_HOME/cairn/credentials, else ~/.config/cairn/credentials),
 * made mode 0600 in a 0700 directory, replacing a token kept for the same
 * URL.  *out_path (may be NULL) names the file. */
CAIRN_EXTERN(int) cairn_login_save(const char *url, const char *token, char **out_path);
/* Is url a cairn server that speaks this protocol and takes this token
 * (NULL: none)?  0, or CAIRN_ESTORE saying why not. */
CAIRN_EXTERN(int) cairn_remote_check(const char *url, const char *token);

/* --- the offline spool ------------------------------------------------------------ */

typedef struct cairn_spool_entry {
	char *path;      /* the journal */
	char *url;       /* its server */
	int64_t records; /* writes not sent yet */
	int64_t points;  /* metric points among them */
	int64_t bytes;   /* of the journal */
	double modified; /* its last write, seconds since the epoch */
	int in_use;      /* a running process holds it (it sends it itself) */
	char *problem;   /* NULL, or why it cannot be replayed (damaged) */
	int64_t torn;    /* bytes of a torn last record, cut when it is replayed */
} cairn_spool_entry;

/* The journals waiting to be sent, oldest first: every server's, or only
 * url's.  Nothing is changed. */
CAIRN_EXTERN(int) cairn_spool_list(cairn_spool_entry **out, size_t *out_n, const char *url);
CAIRN_EXTERN(void) cairn_spool_list_free(cairn_spool_entry *v, size_t n);

typedef struct cairn_sync_stats {
	int64_t records, points; /* sent */
	int64_t refused;         /* the server will never take them: dropped */
	int64_t waiting;         /* left for later (a run the server does not know yet) */
	int64_t torn_bytes;      /* a torn tail cut */
} cairn_sync_stats;

typedef struct cairn_sync_options {
	unsigned int version; /* CAIRN_SYNC_OPTIONS_VERSION */
	/* After each record: sent so far and the journal's total. */
	void (*progress)(int64_t done, int64_t total, void *payload);
	/* A record the server refused (dropped) or a torn tail cut (seq 0). */
	void (*problem)(const char *journal, uint64_t seq, const char *op, const char *message,
	                void *payload);
	void *payload;
} cairn_sync_options;
#define CAIRN_SYNC_OPTIONS_VERSION 1
#define CAIRN_SYNC_OPTIONS_INIT                                                                    \
	{                                                                                          \
		CAIRN_SYNC_OPTIONS_VERSION, NULL, NULL, NULL                                       \
	}

/* Send one journal to its server, in order, each record with the
 * idempotency key it was made with (so what the server applied already is
 * not applied again), then remove it.  A torn tail is cut and reported; a
 * record damaged in the middle stops it with CAIRN_ESTORE naming the file
 * and offset; a journal a running process holds is CAIRN_EBUSY; when a
 * record names a run the server does not know yet the rest is kept
 * (stats->waiting) and 0 is returned.  stats are added to. */
CAIRN_EXTERN(int)
cairn_spool_sync(const char *journal, const cairn_sync_options *opts, cairn_sync_stats *stats);

/* --- the server's end ----------------------------------------------------------------- */

/* One request of the store protocol (POST /api/v1/store/w/OP for a write,
 * /api/v1/store/r/OP for a read, with body) on store: *out (cairn_free) is
 * the reply body and *out_status the HTTP status to answer with; an error
 * of the op (an unknown op, a read sent as a write) is in the reply, not
 * the return value (0 unless out of memory). */
CAIRN_EXTERN(int)
cairn_store_serve(char **out, size_t *out_len, int *out_status, cairn_store *store, int write,
                  const char *op, const void *body, size_t len);
/* The media type of the protocol's bodies. */
#define CAIRN_STORE_WIRE_TYPE    "application/x-cairn"
#define CAIRN_STORE_WIRE_VERSION 2

/* Idempotency keys: the answer (status, body) to a write that carried key,
 * kept for CAIRN_IDEM_MAX_AGE seconds.  get: CAIRN_ENOTFOUND when unknown;
 * *body cairn_free'd.  Keys are 1 to 128 of [A-Za-z0-9._:-] (CAIRN_EINVALID). */
#define CAIRN_IDEM_MAX_AGE (30 * 86400.0)
CAIRN_EXTERN(int)
cairn_store_idem_get(cairn_store *store, const char *key, int *status, char **body, size_t *len);
CAIRN_EXTERN(int)
cairn_store_idem_put(cairn_store *store, const char *key, int status, const void *body, size_t len);
/* A write and its key in one transaction (docs/internals/remote.md,
 * "Idempotency"): cairn_store_idem_begin opens it and holds the store's
 * lock for this thread (other threads' calls on the handle wait), the
 * write's calls run inside it, and cairn_store_idem_commit records key
 * with its answer (key NULL: none) and commits both, or
 * cairn_store_idem_abort rolls everything back.  A store without such
 * transactions (a remote store) answers CAIRN_EUNSUPPORTED from begin.
 * The writes must be the store's own ops, not the buffered metrics writer
 * (its thread would wait for the lock). */
CAIRN_EXTERN(int) cairn_store_idem_begin(cairn_store *store);
CAIRN_EXTERN(int)
cairn_store_idem_commit(cairn_store *store, const char *key, int status, const void *body,
                        size_t len);
CAIRN_EXTERN(void) cairn_store_idem_abort(cairn_store *store);

/* Objects written by a stream (the server's PUT /api/v1/objects/OID):
 * bytes appended, then committed under the SHA-256 of what was written,
 * which must be `expect` when not NULL (CAIRN_EINVALID, nothing stored).
 * free aborts an uncommitted writer (NULL-safe). */
typedef struct cairn_object_writer cairn_object_writer;
CAIRN_EXTERN(int) cairn_object_writer_new(cairn_object_writer **out, cairn_store *store);
CAIRN_EXTERN(int) cairn_object_writer_write(cairn_object_writer *w, const void *data, size_t len);
CAIRN_EXTERN(int)
cairn_object_writer_commit(cairn_object_writer *w, const char *expect,
                           char out_oid[CAIRN_OID_HEXSZ + 1]);
CAIRN_EXTERN(void) cairn_object_writer_free(cairn_object_writer *w);

#ifdef __cplusplus
}
#endif
#endif
