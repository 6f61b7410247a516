/*
 * cairn/auth.h — who may use a store through a server (issue 14): API
 * tokens, browser sessions and the audit log of writes.
 *
 * A token is a 256-bit random secret, "cairn_" followed by 64 hex digits,
 * shown once by cairn_token_create and never stored: the store keeps its
 * SHA-256 only, and a presented token is found by that hash and compared in
 * constant time.  A token has a name (what its writes are attributed to),
 * a scope (read < write < admin: each includes the ones before), optionally
 * one project it is limited to, and optionally an expiry; revoking it ends
 * it and its sessions at once.
 *
 * A session is what a browser holds instead of a token: a random id (64 hex
 * digits, kept by the server as a hash) that stands for the token it was
 * opened with, until it expires, is deleted (logout) or its token is
 * revoked.  Its CSRF token is derived from the id (cairn_session_csrf), so
 * nothing more is stored.  docs/internals/auth.md has the reasons.
 *
 * Thread-safe like every call on a cairn_store.
 */
#ifndef CAIRN_AUTH_H
#define CAIRN_AUTH_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cairn_scope {
	CAIRN_SCOPE_NONE = 0, /* no token needed (a route: login, the UI's files) */
	CAIRN_SCOPE_READ = 1,
	CAIRN_SCOPE_WRITE = 2,
	CAIRN_SCOPE_ADMIN = 3,
} cairn_scope;

/* "read", "write", "admin" ("none" for CAIRN_SCOPE_NONE). */
CAIRN_EXTERN(const char *) cairn_scope_name(cairn_scope scope);
/* read|write|admin; CAIRN_EINVALID otherwise. */
CAIRN_EXTERN(int) cairn_scope_parse(cairn_scope *out, const char *name);

typedef struct cairn_token {
	int64_t id;
	char *name;
	cairn_scope scope;
	char *project; /* NULL: every project */
	double created;
	double expires;   /* 0: never */
	double last_used; /* 0: never (updated at most once a minute by a server) */
	double revoked;   /* 0: not revoked */
} cairn_token;

/* Free the fields of t (NULL-safe), and a list. */
CAIRN_EXTERN(void) cairn_token_clear(cairn_token *t);
CAIRN_EXTERN(void) cairn_token_list_free(cairn_token *v, size_t n);

#define CAIRN_TOKEN_PREFIX   "cairn_"
#define CAIRN_TOKEN_LEN      70 /* "cairn_" + 64 hex digits */
#define CAIRN_TOKEN_NAME_MAX 100

typedef struct cairn_token_options {
	unsigned int version; /* CAIRN_TOKEN_OPTIONS_VERSION */
	const char *name;     /* NULL: "token-" and 8 hex digits of its hash */
	cairn_scope scope;    /* read, write or admin */
	const char *project;  /* NULL: every project */
	double expires_in;    /* seconds from now; 0: never */
} cairn_token_options;
#define CAIRN_TOKEN_OPTIONS_VERSION 1
#define CAIRN_TOKEN_OPTIONS_INIT                                                                   \
	{                                                                                          \
		CAIRN_TOKEN_OPTIONS_VERSION, NULL, CAIRN_SCOPE_READ, NULL, 0                       \
	}

/* Make a token: *out_secret (freed with cairn_free) is the token itself,
 * the only time it exists outside the caller; out (may be NULL) its row.
 * A name is 1-100 bytes of letters, digits and ._@- not all digits (an id
 * is a number), unique in the store (CAIRN_EEXISTS). */
CAIRN_EXTERN(int)
cairn_token_create(char **out_secret, cairn_token *out, cairn_store *store,
                   const cairn_token_options *opts);
/* Every token, oldest first (never the secrets, which are not stored). */
CAIRN_EXTERN(int) cairn_token_list(cairn_token **out, size_t *out_n, cairn_store *store);
/* Revoke the token named name_or_id (its name, or its id in decimal); its
 * sessions end with it.  Revoking a revoked token is not an error.  out
 * (may be NULL) gets its row. */
CAIRN_EXTERN(int)
cairn_token_revoke(cairn_store *store, const char *name_or_id, cairn_token *out);

/* The SHA-256 (hex) of a token: 0, or CAIRN_EINVALID when `secret` does
 * not have a token's form (no store is asked). */
CAIRN_EXTERN(int) cairn_token_hash(char out[65], const char *secret);
/* The live token whose hash is `hash`: 0 with its row in out;
 * CAIRN_ENOTFOUND ("unknown token", "the token 'x' was revoked", "... has
 * expired") otherwise. */
CAIRN_EXTERN(int) cairn_token_verify_hash(cairn_token *out, cairn_store *store, const char *hash);
/* cairn_token_hash, then cairn_token_verify_hash. */
CAIRN_EXTERN(int) cairn_token_verify(cairn_token *out, cairn_store *store, const char *secret);
/* Record that token id was used now (token ls's "last used"). */
CAIRN_EXTERN(int) cairn_token_touch(cairn_store *store, int64_t id);

#define CAIRN_SESSION_HEXSZ 64
/* Open a session for token token_id, valid for ttl_s seconds (and never
 * past its token's expiry): its id in out_id. */
CAIRN_EXTERN(int)
cairn_session_create(char out_id[CAIRN_SESSION_HEXSZ + 1], cairn_store *store, int64_t token_id,
                     double ttl_s);
/* The live token behind a live session, or CAIRN_ENOTFOUND. */
CAIRN_EXTERN(int)
cairn_session_verify(cairn_token *out, cairn_store *store, const char *session_id);
/* End a session (an unknown one: not an error). */
CAIRN_EXTERN(int) cairn_session_delete(cairn_store *store, const char *session_id);
/* The session's CSRF token: SHA-256 of a fixed label and the id, so only who
 * holds the id can know it, and knowing it does not give the id.  0 or
 * CAIRN_EINVALID for a malformed id. */
CAIRN_EXTERN(int) cairn_session_csrf(char out[65], const char *session_id);

/* The audit log: one row per write made through a server, attributed to the
 * token's name. */
CAIRN_EXTERN(int)
cairn_audit_record(cairn_store *store, const char *token_name, const char *method, const char *path,
                   int status);
/* The newest `limit` rows, newest first:
 *   [{"time", "token", "method", "path", "status"}] */
CAIRN_EXTERN(int) cairn_audit_list_json(char **out, cairn_store *store, int64_t limit);

#ifdef __cplusplus
}
#endif
#endif
