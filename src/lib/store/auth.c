/*
 * lib/store/auth.c — the dispatchers of lib/store/auth.h (tokens, sessions,
 * the audit log): each takes the store's lock and calls its backend's op,
 * as store.c does for the rest; and the row helpers.
 * Thread-safety: every call holds the store's recursive lock.
 */
#include <stdlib.h>

#include "lib/store/backend.h"

void token_row_clear(token_row *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->project);
	t->name = t->project = NULL;
}

void token_rows_free(token_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		token_row_clear(&v[i]);
	free(v);
}

void audit_rows_free(audit_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].token);
		free(v[i].method);
		free(v[i].path);
	}
	free(v);
}

#define DISPATCH(op, what, ...)                                                                    \
	do {                                                                                       \
		if (!s->ops->op)                                                                   \
			return store_unsupported(s, what);                                         \
		store_lock(s);                                                                     \
		int rc_ = s->ops->op(s, __VA_ARGS__);                                              \
		store_unlock(s);                                                                   \
		return rc_;                                                                        \
	} while (0)

int store_token_insert(cairn_store *s, const token_row *t, int64_t *out_id)
{
	DISPATCH(token_insert, "tokens", t, out_id);
}

int store_token_list(cairn_store *s, token_row **out, size_t *out_n)
{
	DISPATCH(token_list, "tokens", out, out_n);
}

int store_token_find(cairn_store *s, const char *hash, token_row *out)
{
	DISPATCH(token_find, "tokens", hash, out);
}

int store_token_revoke(cairn_store *s, const char *name, int64_t id, double now, int64_t *out_id)
{
	DISPATCH(token_revoke, "tokens", name, id, now, out_id);
}

int store_token_touch(cairn_store *s, int64_t id, double now)
{
	DISPATCH(token_touch, "tokens", id, now);
}

int store_session_insert(cairn_store *s, const char *hash, int64_t token_id, double created,
                         double expires)
{
	DISPATCH(session_insert, "sessions", hash, token_id, created, expires);
}

int store_session_find(cairn_store *s, const char *hash, double now, token_row *out)
{
	DISPATCH(session_find, "sessions", hash, now, out);
}

int store_session_delete(cairn_store *s, const char *hash)
{
	DISPATCH(session_delete, "sessions", hash);
}

int store_audit_insert(cairn_store *s, const audit_row *a)
{
	DISPATCH(audit_insert, "the audit log", a);
}

int store_audit_list(cairn_store *s, int64_t limit, audit_row **out, size_t *out_n)
{
	DISPATCH(audit_list, "the audit log", limit, out, out_n);
}
