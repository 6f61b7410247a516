/*
 * lib/store/auth.h — the store's part of authentication (issue 14): API
 * tokens, browser sessions and the audit log of writes made through a
 * server, as rows, and the store_* calls that keep them.  The rules they
 * serve (what is hashed, who verifies) are lib/auth/ and
 * docs/internals/auth.md; this is only their persistence.
 *
 * Nothing here ever sees a secret: a token and a session id reach the
 * store as the lowercase hex SHA-256 of the secret (`hash`), and only that
 * is stored, looked up (an indexed equality) and compared.
 * Thread-safety: every call holds the store's lock (store.c).
 */
#ifndef CAIRN_LIB_STORE_AUTH_H
#define CAIRN_LIB_STORE_AUTH_H

#include "lib/internal.h"

typedef struct token_row {
	int64_t id;
	char *name;
	int scope;     /* cairn_scope */
	char *project; /* NULL: every project */
	double created;
	double expires;   /* 0: never */
	double last_used; /* 0: never */
	double revoked;   /* 0: live */
	char hash[65];    /* SHA-256 of the secret, hex */
} token_row;

typedef struct audit_row {
	double ts;
	char *token; /* the token's name */
	char *method;
	char *path;
	int status;
} audit_row;

void token_row_clear(token_row *t);
void token_rows_free(token_row *v, size_t n);
void audit_rows_free(audit_row *v, size_t n);

/* Insert a token (name, hash, scope, project, created, expires of t):
 * CAIRN_ECONFLICT when its name is taken.  *out_id its id. */
int store_token_insert(cairn_store *s, const token_row *t, int64_t *out_id);
/* Every token, oldest first. */
int store_token_list(cairn_store *s, token_row **out, size_t *out_n);
/* The token whose hash is `hash` (revoked and expired ones too): its row,
 * or CAIRN_ENOTFOUND. */
int store_token_find(cairn_store *s, const char *hash, token_row *out);
/* Revoke the token named `name`, or whose id is `id` when id > 0, at `now`
 * (a revoked token keeps its first revocation time): its id, or
 * CAIRN_ENOTFOUND. */
int store_token_revoke(cairn_store *s, const char *name, int64_t id, double now, int64_t *out_id);
/* Record that token id was used at now. */
int store_token_touch(cairn_store *s, int64_t id, double now);

/* A session (hash of its id) of token token_id, valid until expires; the
 * expired sessions of every token are removed in the same transaction. */
int store_session_insert(cairn_store *s, const char *hash, int64_t token_id, double created,
                         double expires);
/* The token of a session that has not expired at now (the token row, which
 * the caller checks for revocation and expiry), or CAIRN_ENOTFOUND. */
int store_session_find(cairn_store *s, const char *hash, double now, token_row *out);
/* Remove a session (absent: not an error). */
int store_session_delete(cairn_store *s, const char *hash);

/* Append one audit row; list the newest `limit`, newest first. */
int store_audit_insert(cairn_store *s, const audit_row *a);
int store_audit_list(cairn_store *s, int64_t limit, audit_row **out, size_t *out_n);

#endif
