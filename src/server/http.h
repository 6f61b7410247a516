/*
 * server/http.h — what the server's parts share: one request as the handlers
 * see it, the response they fill, the route type, and the helpers that turn
 * library errors into JSON error responses.  The route tables themselves
 * are declared by their owner (server/api.h), which includes this header.
 *
 * A request is handled on one libmicrohttpd thread from start to end; the
 * structures here belong to that thread.  The server object (store, run
 * cache) is shared by every thread and guards its own mutable state.
 */
#ifndef CAIRN_SERVER_HTTP_H
#define CAIRN_SERVER_HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn.h"
#include "server/server.h"
#include "util/buf.h"

#define ROUTE_MAX_PARAMS 4
#define QUERY_ARG_MAX    8192 /* bytes in one query-string argument */

struct MHD_Connection;

typedef struct run_cache_ent {
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	cairn_run *run;
	uint64_t used;
	int refs; /* requests using the handle now; evicted only at 0 */
} run_cache_ent;

#define RUN_CACHE_SIZE 64

/* Who a request is (server/auth.c): the token it presented, directly or
 * through a browser session.  Empty (authed false) on a --no-auth server. */
typedef struct auth_ctx {
	bool authed;
	bool via_session; /* a cookie, so writes need the CSRF header */
	int64_t token_id;
	cairn_scope scope;
	char name[CAIRN_TOKEN_NAME_MAX + 1];
	char *project; /* NULL: every project (owned) */
	char session[CAIRN_SESSION_HEXSZ + 1];
} auth_ctx;

/* Tokens verified recently, so a request costs one SHA-256 and a scan of
 * this table instead of a store lookup (which waits for the metrics
 * flusher's lock); an entry is trusted for AUTH_CACHE_TTL seconds, after
 * which the token is looked up again, so a revocation by another process
 * is honoured within that time (and at once by this server's own API). */
#define AUTH_CACHE_SIZE 64
#define AUTH_CACHE_TTL  1.0
typedef struct auth_cache_ent {
	char hash[65];
	double checked; /* monotonic seconds; 0: empty */
	double expires; /* the token's own expiry (wall clock), 0 never */
	int64_t token_id;
	cairn_scope scope;
	char name[CAIRN_TOKEN_NAME_MAX + 1];
	char *project;
} auth_cache_ent;

/* Metric and heartbeat batches are audited once per token, run and
 * AUDIT_COALESCE_S seconds (the ingest path stays one store write per
 * batch); every other write is audited each time. */
#define AUDIT_COALESCE_SIZE 64
#define AUDIT_COALESCE_S    60.0
typedef struct audit_coalesce_ent {
	int64_t token_id;
	char key[CAIRN_RUN_ID_HEXSZ + 16];
	double at;
} audit_coalesce_ent;

/* Read-your-writes per client (server/pool.c): the writer's mark after each
 * client's last write, by token (0: a --no-auth server's one client). */
#define POOL_MARKS 64
typedef struct pool_mark {
	int64_t who;
	uint64_t mark; /* 0: a free slot */
} pool_mark;

struct server {
	cairn_store *store; /* the writer: every write, and reads when the pool is empty */
	/* The read pool (server/pool.c): peer handles of the store, one per
	 * thread, each with its own connection, so a slow read blocks no other
	 * and no write.  pool_free[0..pool_nfree) are the idle ones. */
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
	cairn_store **pool;
	cairn_store **pool_free;
	unsigned pool_n, pool_nfree;
	pool_mark marks[POOL_MARKS]; /* under pool_mu */
	uint64_t marks_evicted;      /* the highest mark let go: unknown clients wait for it */
	server_config cfg;
	struct MHD_Daemon *daemon;
	int port;
	bool loopback;
	/* Open run handles of runs being logged to over HTTP, so consecutive
	 * batches reuse the handle's key cache and automatic steps. */
	pthread_mutex_t cache_mu;
	run_cache_ent cache[RUN_CACHE_SIZE];
	uint64_t cache_clock;
	/* Authentication (server/auth.c), guarded by auth_mu. */
	pthread_mutex_t auth_mu;
	auth_cache_ent auth_cache[AUTH_CACHE_SIZE];
	audit_coalesce_ent audit_recent[AUDIT_COALESCE_SIZE];
};

typedef struct request {
	server *srv;
	cairn_store *store; /* what the handler uses: srv->store, or a reader while it reads */
	struct MHD_Connection *conn;
	const char *method;
	const char *path;                     /* decoded path, without the query string */
	const char *url;                      /* the same, never cut by route captures */
	const char *params[ROUTE_MAX_PARAMS]; /* captured path segments, in order */
	int nparams;
	buf body;
	bool body_too_big;
	bool answered;      /* a response was queued early (413) */
	uint64_t discarded; /* body bytes dropped past the cap */
	double started;
	auth_ctx auth;
	/* PUT /api/v1/objects/OID: the body goes here, not into body (api-store.c) */
	cairn_object_writer *upload;
	int upload_rc;
} request;

typedef struct response {
	int status;
	const char *content_type; /* static string */
	buf body;
	int fd; /* >= 0: serve this file (body unused) */
	uint64_t fd_size;
	uint64_t fd_offset;      /* 206 partial content */
	char range[96];          /* Content-Range */
	const char *disposition; /* "inline" / "attachment" or NULL */
	char *filename;          /* for Content-Disposition (owned) */
	char *location;          /* Location of a redirect (owned) */
	const char *allow;       /* Allow header for 405 */
	const char *cache;       /* Cache-Control or NULL */
	char etag[72];
	bool sandbox;            /* CSP sandbox: user content */
	const void *static_data; /* embedded asset (not freed) */
	size_t static_len;
	char *set_cookie;     /* Set-Cookie (owned) */
	const char *www_auth; /* WWW-Authenticate of a 401 (static) */
	bool replayed;        /* the answer kept for its Idempotency-Key (idem.c) */
	bool idem_done;       /* its key already recorded with the write (idem_write) */
} response;

typedef int (*handler_fn)(request *rq, response *rs);

/* A route says what a caller needs to reach it: CAIRN_SCOPE_NONE (no token:
 * logging in), READ, WRITE or ADMIN.  Reads are GET, writes anything else,
 * and server/auth.c refuses a table where a write route asks only READ,
 * unless the route says ROUTE_POST_READ: a read whose question needs a body
 * (the remote backend's reads, MLflow's POST searches).  A write and its
 * Idempotency-Key are committed in one transaction (idem_write) unless the
 * route says ROUTE_KEY_AFTER: its handler keys its own writes (the store
 * protocol) or removes files as it goes, which a rollback cannot bring
 * back; its key is kept after it (idem_remember). */
enum { ROUTE_POST_READ = 1, ROUTE_KEY_AFTER = 2 };

typedef struct route {
	const char *method;
	const char *pattern; /* "/api/v1/runs/{run}/metrics/{*}": {x} one segment, {*} the rest */
	cairn_scope scope;
	handler_fn fn;
	unsigned flags; /* ROUTE_* */
} route;

/* "attachment; filename=\"x\"": quotes and control bytes of the name
 * replaced by '_', so they cannot break the header. */
void content_disposition(char *out, size_t n, const char *disposition, const char *filename);

/* Dispatch rq to the route of table that matches it (405 with Allow, or
 * 404 naming `what`, when none does); authenticates first (server.c). */
int server_dispatch_table(request *rq, response *rs, const struct route *table, const char *what);

/* The read pool (server/pool.c). */
void pool_open(server *srv);
void pool_close(server *srv);
/* A reader for rq's read, after the writer's points that rq's client had
 * logged are committed (so a client reads every point acknowledged to it;
 * others' points as the writer commits them); srv->store when the pool is
 * empty. */
cairn_store *pool_lease(server *srv, const request *rq);
void pool_release(server *srv, cairn_store *s);
/* After a write of rq's client on the writer: keep the writer's mark. */
void pool_wrote(server *srv, const request *rq);

/* Match path against pattern; fills rq->params.  Returns true on a match. */
bool route_match(const char *pattern, const char *path, request *rq);

/* --- responses ------------------------------------------------------------ */
/* Take ownership of JSON text (from a cairn_*_json call) as a 200/201 body. */
int resp_json_take(response *rs, int status, char *text);
/* The buffer rs->body already holds JSON. */
int resp_json_buf(response *rs, int status);
/* {"error":{"code","message"}} with status; returns 0 (handled). */
int resp_error(response *rs, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same with "position" (a byte offset into the named input, e.g. a query). */
int resp_error_pos(response *rs, int status, const char *code, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Map the library's last error (rc) to a status and error response. */
int resp_lib_error(response *rs, int rc);

/* A query-string argument (decoded), NULL when absent.  Arguments longer
 * than QUERY_ARG_MAX are treated as present but refused by arg_checked. */
const char *req_arg(request *rq, const char *name);
/* Same, but writes a 400 response and returns false when it is too long. */
bool req_arg_checked(request *rq, response *rs, const char *name, const char **out);
/* A request header, NULL when absent. */
const char *req_header(request *rq, const char *name);

/* --- run handles ---------------------------------------------------------- */
/* A handle on the run named by id (full id, prefix or name), from the cache
 * when possible.  Give it back with run_cache_release. */
int run_cache_get(server *srv, const char *id, cairn_run **out);
void run_cache_release(server *srv, cairn_run *run);
void run_cache_clear(server *srv);

#endif
