/*
 * lib/store/remote/remote.h — the remote backend (a store named by an
 * http:// or https:// URL: a `cairn server`), what its files share.
 * The protocol, the journal and the retry policy are described in
 * docs/internals/remote.md; this header is the map of the code.
 *
 *   ops.c, ops-read.c   the ops table: each op encodes its arguments
 *                       (wire.h), calls the server, decodes the reply
 *   ops-sweep.c         the sweep trial queue (a claim in two requests)
 *   map.c               the handle's run and key numbers (below)
 *   http.c              libcurl: one easy handle per store, kept alive;
 *                       the token, the CA bundle, retries with back-off
 *   spool.c, journal.c  the offline spool: writes the server did not take
 *                       go to a local journal, replayed in order later
 *   objects.c           the object place of a remote store: HEAD, a
 *                       streamed PUT, GET into the local cache
 *   serve.c, serve-*.c  the server's end: cairn_store_serve (cairn/remote.h);
 *                       serve-sweep.c the trial queue's
 *   creds.c             tokens kept by `cairn login` (mode 0600)
 *
 * Numbers.  The library names runs and keys by integers (rid, kid) that a
 * backend hands out.  Over the wire a run is its 32-hex id and a key its
 * name, so a request means the same to any server and a journal record can
 * be replayed anywhere, any time; the handle numbers runs and keys itself
 * (map.c: 1, 2, 3… in the order it meets them), never the server's.
 *
 * State: online (writes go to the server) or offline (writes go to the
 * journal; a probe at most every PROBE_S seconds tries to replay it, and
 * going online again needs the journal empty).  Everything here runs with
 * the store's lock held (the dispatchers take it), so nothing locks.
 */
#ifndef CAIRN_LIB_STORE_REMOTE_REMOTE_H
#define CAIRN_LIB_STORE_REMOTE_REMOTE_H

#include "lib/store/backend.h"
#include "lib/store/remote/wire.h"

/* --- the handle's numbers (map.c) ---------------------------------------- */

typedef struct rmap_run {
	char id[33];
	char *name, *project; /* known from run_insert / run_names, else NULL */
	int64_t seq;
} rmap_run;

typedef struct rmap {
	rmap_run *runs; /* runs[rid - 1] */
	size_t n, cap;
	int64_t *slots; /* open addressing by id: rid or 0 */
	size_t nslots;
} rmap;

typedef struct kmap {
	char **names; /* names[kid - 1] */
	size_t n, cap;
	int64_t *slots;
	size_t nslots;
} kmap;

/* The run's number (added when new): > 0, or a negative error. */
int64_t rmap_rid(rmap *m, const char *id);
/* The run of a number, NULL when the handle never handed it out. */
rmap_run *rmap_get(rmap *m, int64_t rid);
int64_t kmap_kid(kmap *m, const char *name);
const char *kmap_name(const kmap *m, int64_t kid);
void rmap_free(rmap *m);
void kmap_free(kmap *m);

/* --- the connection (http.c) ------------------------------------------------ */

typedef struct spool spool;

typedef struct remote_be {
	char *base;       /* "https://host:port" (no trailing slash, no user info) */
	char *token;      /* $CAIRN_TOKEN or cairn login's, NULL: none */
	char *cacert;     /* $CAIRN_CA_BUNDLE, NULL: the system's */
	void *curl;       /* the easy handle, reused (keep-alive) */
	char session[33]; /* idempotency keys: session-seq */
	uint64_t seq;
	rmap runs;
	kmap keys;
	spool *sp;         /* the journal, opened on the first spooled write */
	bool offline;      /* writes go to the journal */
	double next_probe; /* monotonic time of the next replay attempt */
	double retry_s;    /* how long an online write is retried before it spools */
	double timeout_s;  /* one request's limit */
	int probe_fails;
	buf reply; /* the last reply's body */
	bool draining;
	int deferred; /* a replayed write the server refused: returned by the next write */
	char deferred_msg[512];
} remote_be;

static inline remote_be *remote_of(cairn_store *s)
{
	return s->be;
}

/* A transport result: the HTTP status (0: no answer: connection refused,
 * reset, timed out; the error raised says which). */
#define REMOTE_REPLY_MAX ((size_t)1 << 30) /* bytes in one reply body */

typedef struct http_result {
	long status;
	bool wire;          /* the body is a protocol reply (Content-Type) */
	double retry_after; /* seconds from Retry-After, 0 none */
} http_result;

/* One request, no retry: method, path under base, body (may be NULL),
 * content type, extra header (NULL or "Idempotency-Key: …"); the reply's
 * body into be->reply.  0 with res->status set (any status), or a negative
 * error when nothing came back (res->status 0). */
int http_once(remote_be *be, const char *method, const char *path, const void *body, size_t len,
              const char *idem, http_result *res);
/* Should this outcome be retried (no answer, 429, 5xx)? */
bool http_retryable(int rc, const http_result *res);
/* The wait before attempt n (0-based) of a retry: exponential with full
 * jitter, capped (docs/internals/remote.md, "Retries"). */
double http_backoff(int attempt, const http_result *res);
/* A streamed upload of a file (PUT path), and a download into fd. */
int http_put_file(remote_be *be, const char *path, const char *file, int64_t size,
                  http_result *res);
int http_get_fd(remote_be *be, const char *path, int fd, uint64_t cap, void *sha, http_result *res);
void http_close(remote_be *be);

/* --- calls (ops.c) ------------------------------------------------------------- */

/* remote_call's answer for a write the journal took (no reply to read). */
#define REMOTE_SPOOLED 1

/* A read: POST /api/v1/store/OP with req; on 0 *r reads the reply's
 * results (be->reply, valid until the next call).  Retried as the policy
 * says; an unreachable server is CAIRN_ESTORE "cannot reach …". */
int remote_read(cairn_store *s, const char *op, const buf *req, wr *r);
/* A write: the same with an idempotency key, or into the journal when the
 * server cannot take it (REMOTE_SPOOLED).  With the journal not empty
 * every write goes to it, so the server sees writes in order. */
int remote_write(cairn_store *s, const char *op, const buf *req, wr *r);
/* A write that needs its answer (trial_claim): never spooled; the server
 * away is CAIRN_ESTORE "cannot reach … needs the server". */
int remote_write_online(cairn_store *s, const char *op, const buf *req, wr *r);
/* A write whose reply carries nothing: REMOTE_SPOOLED is success, and a
 * refusal of an earlier spooled write (spool_deferred) is returned once.
 * Frees req. */
int remote_write_only(cairn_store *s, const char *op, buf *req);
/* Is rc the "server did not answer" of remote_read? */
int remote_down(int rc);
/* GET /api/v1/: is it a cairn server of this protocol (0), does nothing
 * answer (remote_down), or an error. */
int remote_hello(remote_be *be);
/* The run's id for a request ("" raised as an error when rid is not one of
 * the handle's numbers). */
int remote_run_id(cairn_store *s, int64_t rid, const char **out);
/* Write run rid to a request as its id (remote_run_id). */
int remote_w_run(cairn_store *s, buf *req, int64_t rid);
/* A reply's run id as the handle's number. */
int remote_rid(cairn_store *s, const char *id, int64_t *out);

/* --- the spool (spool.c) --------------------------------------------------------- */

/* Append a write to the handle's journal (made on first use), fsynced. */
int spool_append(cairn_store *s, const char *op, const char *idem, const buf *body);
/* A streamed object the server could not take: kept beside the journal. */
int spool_object(cairn_store *s, const char *tmp, const char *oid);
/* Replay the handle's journal (called when a probe is due): 0 when it is
 * empty afterwards, else the error that stopped it (the rest stays). */
int spool_drain(cairn_store *s);
bool spool_pending(const cairn_store *s);
void spool_close(spool *sp);
/* Send one journal record as it was written (the op, its key, its body),
 * retried within budget seconds; shared by spool_drain and cairn sync.
 * SPOOL_DOWN when the server did not answer (the error raised). */
#define SPOOL_DOWN (-102)
int spool_send(remote_be *be, const char *op, const char *idem, const void *body, size_t len,
               double budget);
/* Upload an object kept in a spool (HEAD first); SPOOL_DOWN as above. */
int spool_send_object(remote_be *be, const char *file, const char *oid);
/* The refusal of a replayed write, kept for the next write (0: none). */
int spool_deferred(cairn_store *s);
struct jrec;
/* Replay one journal record (the op, or an object kept in objdir): 0 sent
 * or refused for good (*refused its error code, the message raised),
 * SPOOL_DOWN, CAIRN_ENOTFOUND (a run the server does not know yet) or
 * another error that leaves it for later. */
int spool_replay_one(remote_be *be, const char *objdir, const struct jrec *rec, double budget,
                     int *refused);
void spool_remove_tree(const char *dir);

/* A replay group (coalesce.c): consecutive metrics_insert records of a
 * journal merged into one request under the key "FIRST:N". */
#define SPOOL_GROUP_POINTS 100000     /* points in one request */
#define SPOOL_GROUP_BYTES  (4u << 20) /* bytes of its body */
#define SPOOL_GROUP_KEYS   4096       /* distinct metric keys */
typedef struct spool_grp {
	buf body;
	char idem[160];
	uint64_t records, points, next; /* next: the offset after its last record */
	bool at_end;                    /* it ended at the journal's end, not at a record */
} spool_grp;
/* The record replay appends after a group that ends at the journal's end
 * before it sends it: the group's end made durable, so no record appended
 * later can join it and change its span and key (coalesce.c); with a body,
 * the span of a group refused as a whole, sent record by record
 * (journal_mark_alone).  Never sent. */
#define SPOOL_MARK_OP JOURNAL_MARK_OP
struct journal;
/* The group that starts at off (at most max_records records; 0: no limit):
 * g->records 0 when the record at off is not a metrics_insert (or off is
 * the end); an error for an unreadable journal. */
int spool_group(struct journal *j, uint64_t off, uint64_t max_records, buf *scratch, spool_grp *g);
void spool_group_free(spool_grp *g);
/* The state of one replay (spool_drain, cairn sync): its scratch, the
 * group in flight and the span of a group sent without an answer (tried
 * again as the same span, under the same key).  The spans of groups the
 * server refused as a whole, sent one by one, are in the journal
 * (journal_alone): durable, so every reader sends them alike. */
typedef struct spool_replayer {
	buf scratch;
	spool_grp g;
	uint64_t try_off, try_n;
} spool_replayer;
#define SPOOL_REPLAYER_INIT                                                                        \
	{                                                                                          \
		BUF_INIT, {BUF_INIT, "", 0, 0, 0, false}, UINT64_MAX, 0                            \
	}
/* What one step replayed: the records and points it covered, the offset
 * after them, the op and seq of its (first) record, and *refused as in
 * spool_replay_one. */
typedef struct spool_step {
	uint64_t next, records, seq;
	int64_t points;
	const char *op;
	int refused;
} spool_step;
/* Replay the group or the record at off: 1 done (st filled), 0 at the
 * end, else what spool_replay_one returns. */
int spool_replay_step(remote_be *be, struct journal *j, const char *objdir, uint64_t off,
                      double budget, spool_replayer *rp, spool_step *st);
void spool_replayer_free(spool_replayer *rp);

/* Open a connection to base for cairn sync (no store handle). */
int remote_be_new(remote_be **out, const char *url);
void remote_be_free(remote_be *be);

/* The directory of the journals for a server URL (malloc'ed). */
char *spool_dir_for(const char *url);

/* The handle goes offline: writes go to the journal until a probe empties it. */
void remote_offline(remote_be *be);

/* --- the objects of a remote store (objects.c) ------------------------------ */
/* HEAD: 1 there, 0 absent, SPOOL_DOWN no answer, else an error. */
int remote_object_head(remote_be *be, const char *oid);
/* Upload file as oid unless the server has it: 0, SPOOL_DOWN, or an error. */
int remote_object_put(remote_be *be, const char *file, const char *oid);
extern const struct object_ops objects_remote_ops;
int objects_remote_attach(cairn_store *s);

/* --- tokens (creds.c) ------------------------------------------------------------ */
/* The token for url: $CAIRN_TOKEN, else cairn login's file; NULL none. */
char *creds_token_for(const char *url);

/* --- the ops (ops-run.c, ops-data.c, ops-read.c), gathered into the table
 * by ops.c ----------------------------------------------------------------------- */
int rr_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                  char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name);
int rr_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                  char out_id[33]);
int rr_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project,
                 int64_t *out_seq);
int rr_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value);
int rr_run_finish(cairn_store *s, int64_t rid, cairn_status st, int exit_code, double end);
int rr_heartbeat(cairn_store *s, int64_t rid, double now);
int rr_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans);
int rr_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed);
int rr_key_intern(cairn_store *s, const char *name, int64_t *out_kid);
int rr_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
                 bool overwrite);
int rr_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                       const cairn_value *values, size_t n, bool overwrite);
int rr_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove);
int rr_property_put(cairn_store *s, int64_t rid, const char *key, const char *value);
int rr_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step);
int rr_metrics_insert(cairn_store *s, const mpoint *pts, size_t n);
#define REMOTE_RUN_OPS                                                                             \
	.run_insert = rr_run_insert, .run_lookup = rr_run_lookup, .run_names = rr_run_names,       \
	.run_set_text = rr_run_set_text, .run_finish = rr_run_finish, .heartbeat = rr_heartbeat,   \
	.run_delete = rr_run_delete, .objects_sweep = rr_objects_sweep,                            \
	.key_intern = rr_key_intern, .param_put = rr_param_put,                                    \
	.params_put_many = rr_params_put_many, .tag_put = rr_tag_put,                              \
	.property_put = rr_property_put, .metric_last_step = rr_metric_last_step,                  \
	.metrics_insert = rr_metrics_insert

int rd_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid, int64_t size,
                    const char *media_type, const char *kind, const char *key, int64_t step);
int rd_artifact_delete(cairn_store *s, int64_t rid, const char *path, const store_art_keep *keep,
                       int64_t *out_removed, buf *orphans);
int rd_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                    const int64_t *sizes, size_t n);
int rd_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                    const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                    size_t nrefs);
int rd_run_env_set(cairn_store *s, int64_t rid, const char *env_oid);
int rd_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d);
int rd_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz);
int rd_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, const char *digest);
int rd_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                         int64_t *out_found);
int rd_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n);
#define REMOTE_DATA_OPS                                                                            \
	.artifact_put = rd_artifact_put, .artifact_delete = rd_artifact_delete,                    \
	.code_map_put = rd_code_map_put, .run_code_set = rd_run_code_set,                          \
	.run_env_set = rd_run_env_set, .dataset_put = rd_dataset_put,                              \
	.hash_cache_get1 = rd_hash_cache_get1, .hash_cache_put1 = rd_hash_cache_put1,              \
	.hash_cache_lookup = rd_hash_cache_lookup, .hash_cache_put = rd_hash_cache_put

int rq_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                    struct rec_batch **out);
int rq_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids, size_t *out_n);
int rq_query_page(cairn_store *s, const store_query *sq, int64_t **out_rids, size_t *out_n,
                  int64_t *out_total);
int rq_query_group(cairn_store *s, const store_query *sq, cairn_group_result **out);
int rq_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out);
int rq_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                          int64_t from, int64_t to, buf *out);
int rq_project_list_json(cairn_store *s, buf *out);
int rq_run_columns_json(cairn_store *s, const char *project, buf *out);
int rq_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                       char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media);
int rq_run_code_oid(cairn_store *s, int64_t rid, char out[65]);
int rq_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                    int64_t *out_sizes);
int rq_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out,
                    size_t *out_n);
#define REMOTE_READ_OPS                                                                            \
	.records_load = rq_records_load, .run_list_ids = rq_run_list_ids,                          \
	.query_page = rq_query_page, .query_group = rq_query_group,                                \
	.metric_points = rq_metric_points, .metric_sample_json = rq_metric_sample_json,            \
	.project_list_json = rq_project_list_json, .run_columns_json = rq_run_columns_json,        \
	.artifact_lookup = rq_artifact_lookup, .run_code_oid = rq_run_code_oid,                    \
	.code_map_get = rq_code_map_get, .dataset_list = rq_dataset_list

int rs_trial_claim(cairn_store *s, int64_t sweep_rid, int64_t budget, const char *owner,
                   cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial,
                   char **out_params);
int rs_trial_set(cairn_store *s, int64_t sweep_rid, int64_t trial, cairn_trial_state state,
                 int64_t run_rid, double value);
int rs_trials_requeue(cairn_store *s, int64_t sweep_rid, int64_t *out_n);
int rs_trial_list(cairn_store *s, int64_t sweep_rid, trial_row **out, size_t *out_n);
int rs_sweep_child_find(cairn_store *s, int64_t sweep_rid, const char *name, char out_id[33]);
int rs_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host);
#define REMOTE_SWEEP_OPS                                                                           \
	.trial_claim = rs_trial_claim, .trial_set = rs_trial_set,                                  \
	.trials_requeue = rs_trials_requeue, .trial_list = rs_trial_list,                          \
	.sweep_child_find = rs_sweep_child_find, .run_reopen = rs_run_reopen

extern const store_ops store_remote_ops;

#endif
