/*
 * lib/store/pg/auth.c — tokens, sessions and the audit log in PostgreSQL
 * (migration 2: tables tokens, sessions, audit; lib/store/auth.h).  A
 * token or session is found by the SHA-256 of its secret (a unique index
 * or the primary key).  Each op is one statement, so one transaction;
 * revoking a token ends its sessions in the same statement.
 * Thread-safety: called with the store's lock held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/pg.h"

#define TOKEN_COLS                                                                                 \
	"t.id, t.name, t.scope, t.project, t.created, t.expires, t.last_used, t.revoked, t.hash"

static double get_time(const PGresult *r, int row, int col)
{
	return pg_isnull(r, row, col) ? 0 : pg_get_double(r, row, col);
}

static void param_time(pg_params *p, double t)
{
	if (t > 0)
		pg_param_double(p, t);
	else
		pg_param_text(p, NULL);
}

static int read_token(const PGresult *r, int i, token_row *t)
{
	const char *name = pg_get_text(r, i, 1), *project = pg_get_text(r, i, 3);
	const char *hash = pg_get_text(r, i, 8);
	memset(t, 0, sizeof *t);
	t->id = pg_get_int(r, i, 0);
	t->scope = (int)pg_get_int(r, i, 2);
	t->created = get_time(r, i, 4);
	t->expires = get_time(r, i, 5);
	t->last_used = get_time(r, i, 6);
	t->revoked = get_time(r, i, 7);
	snprintf(t->hash, sizeof t->hash, "%s", hash ? hash : "");
	t->name = strdup(name ? name : "");
	t->project = project ? strdup(project) : NULL;
	if (!t->name || (project && !t->project)) {
		token_row_clear(t);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

int pg_token_insert(cairn_store *s, const token_row *t, int64_t *out_id)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, t->name);
	pg_param_text(&p, t->hash);
	pg_param_int(&p, t->scope);
	pg_param_text(&p, t->project);
	pg_param_double(&p, t->created);
	param_time(&p, t->expires);
	bool found = false;
	int rc = pg_query_int(s, "create the token",
	                      "INSERT INTO tokens(name, hash, scope, project, created, expires)"
	                      " VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
	                      &p, out_id, &found);
	if (rc == 0 && !found)
		rc = err_set(CAIRN_ESTORE, "cannot create the token: no id came back");
	return rc;
}

/* The token rows of a result. */
static int read_tokens(PGresult *r, token_row **out, size_t *out_n)
{
	size_t n = (size_t)pq.ntuples(r), done = 0;
	token_row *v = calloc(n ? n : 1, sizeof *v);
	int rc = v ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	for (; rc == 0 && done < n; done++)
		if ((rc = read_token(r, (int)done, &v[done])) != 0)
			break;
	pq.clear(r);
	if (rc) {
		token_rows_free(v, done);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int pg_token_list(cairn_store *s, token_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	PGresult *r = pg_exec(s, "list the tokens",
	                      "SELECT " TOKEN_COLS " FROM tokens t ORDER BY t.id", NULL);
	if (!r)
		return cairn_error_last_code();
	return read_tokens(r, out, out_n);
}

static int find_one(PGresult *r, token_row *out, const char *what)
{
	if (!r)
		return cairn_error_last_code();
	int rc = pq.ntuples(r) == 1 ? read_token(r, 0, out)
	                            : err_set(CAIRN_ENOTFOUND, "no such %s", what);
	pq.clear(r);
	return rc;
}

int pg_token_find(cairn_store *s, const char *hash, token_row *out)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, hash);
	return find_one(pg_exec(s, "check the token",
	                        "SELECT " TOKEN_COLS " FROM tokens t WHERE t.hash = $1", &p),
	                out, "token");
}

int pg_token_revoke(cairn_store *s, const char *name, int64_t id, double now, int64_t *out_id)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, id > 0 ? id : 0);
	pg_param_text(&p, id > 0 ? "" : name);
	pg_param_double(&p, now);
	bool found = false;
	int rc =
	    pg_query_int(s, "revoke the token",
	                 "WITH t AS (UPDATE tokens SET revoked = coalesce(revoked, $3)"
	                 "  WHERE ($1 > 0 AND id = $1) OR ($1 = 0 AND name = $2) RETURNING id),"
	                 " d AS (DELETE FROM sessions WHERE token_id IN (SELECT id FROM t))"
	                 " SELECT id FROM t",
	                 &p, out_id, &found);
	if (rc == 0 && !found)
		rc = id > 0 ? err_set(CAIRN_ENOTFOUND, "no token has id %lld", (long long)id)
		            : err_set(CAIRN_ENOTFOUND, "no token is named '%.100s'", name);
	return rc;
}

int pg_token_touch(cairn_store *s, int64_t id, double now)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_double(&p, now);
	pg_param_int(&p, id);
	return pg_run(s, "record the token's use", "UPDATE tokens SET last_used = $1 WHERE id = $2",
	              &p, NULL);
}

int pg_session_insert(cairn_store *s, const char *hash, int64_t token_id, double created,
                      double expires)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, hash);
	pg_param_int(&p, token_id);
	pg_param_double(&p, created);
	pg_param_double(&p, expires);
	return pg_run(s, "create the session",
	              "WITH d AS (DELETE FROM sessions WHERE expires <= $3)"
	              " INSERT INTO sessions(hash, token_id, created, expires)"
	              " VALUES($1, $2, $3, $4)",
	              &p, NULL);
}

int pg_session_find(cairn_store *s, const char *hash, double now, token_row *out)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, hash);
	pg_param_double(&p, now);
	return find_one(pg_exec(s, "check the session",
	                        "SELECT " TOKEN_COLS " FROM sessions x"
	                        " JOIN tokens t ON t.id = x.token_id"
	                        " WHERE x.hash = $1 AND x.expires > $2",
	                        &p),
	                out, "session");
}

int pg_session_delete(cairn_store *s, const char *hash)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, hash);
	return pg_run(s, "end the session", "DELETE FROM sessions WHERE hash = $1", &p, NULL);
}

int pg_audit_insert(cairn_store *s, const audit_row *a)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_double(&p, a->ts);
	pg_param_text(&p, a->token);
	pg_param_text(&p, a->method);
	pg_param_text(&p, a->path);
	pg_param_int(&p, a->status);
	return pg_run(
	    s, "record the write in the audit log",
	    "INSERT INTO audit(ts, token, method, path, status) VALUES($1, $2, $3, $4, $5)", &p,
	    NULL);
}

int pg_audit_list(cairn_store *s, int64_t limit, audit_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, limit);
	PGresult *r = pg_exec(s, "read the audit log",
	                      "SELECT ts, token, method, path, status FROM audit"
	                      " ORDER BY id DESC LIMIT $1",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	size_t n = (size_t)pq.ntuples(r), done = 0;
	audit_row *v = calloc(n ? n : 1, sizeof *v);
	int rc = v ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	for (; rc == 0 && done < n; done++) {
		int i = (int)done;
		audit_row *a = &v[done];
		a->ts = pg_get_double(r, i, 0);
		a->token = strdup(pq.getvalue(r, i, 1));
		a->method = strdup(pq.getvalue(r, i, 2));
		a->path = strdup(pq.getvalue(r, i, 3));
		a->status = (int)pg_get_int(r, i, 4);
		if (!a->token || !a->method || !a->path)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	pq.clear(r);
	if (rc) {
		audit_rows_free(v, done);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}
