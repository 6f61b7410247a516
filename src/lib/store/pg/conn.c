/*
 * lib/store/pg/conn.c — the PostgreSQL connection under a cairn_store: the
 * store URI (checked, its password kept out of every message), connecting,
 * the cache of prepared statements, text parameters and results, the one
 * mapping of PostgreSQL failures to cairn_error_code, transactions and read
 * snapshots, closing and the check.
 *
 * The URI is libpq's (postgresql://user:password@host:port/db?param=...,
 * or postgres://), plus one parameter of cairn's own, objects=DIR (where
 * the object files go; removed before libpq sees the URI).  The store's
 * location as the rest of the library sees it (s->dir, cairn_store_path,
 * every message) is the URI with the password replaced by "***"; the
 * password itself is kept only in the backend's conninfo, and scrubbed
 * from any message libpq writes.
 *
 * A lost connection (the server restarted, a network cut) is one error,
 * CAIRN_ESTORE "lost the connection to PostgreSQL ..."; the next statement
 * outside a transaction reconnects once (PQreset), so a long-lived handle
 * (a server, a training run's writer) carries on after the database comes
 * back.  Nothing half-written is visible: a transaction the connection
 * died in is rolled back by the server.
 * Thread-safety: called with the store's lock held (pg.h).
 */
#include "lib/store/pg/pg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/utf8.h"
#include "util/sha.h"

/* --- URIs ---------------------------------------------------------------------- */

/* Percent-decode s[0..n) (malloc'ed). */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 &&
		    hex_value(s[i + 2]) >= 0) {
			*o++ = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The parts of a URI: [scheme://][user[:password]@]hostspec[/db][?query]. */
typedef struct uri_parts {
	size_t auth, auth_end; /* the authority: auth..auth_end */
	size_t pw, pw_end;     /* the password inside it (pw == pw_end: none) */
	size_t query;          /* the '?' or strlen */
} uri_parts;

static void uri_split(const char *uri, uri_parts *u)
{
	const char *p = strstr(uri, "://");
	u->auth = p ? (size_t)(p - uri) + 3 : 0;
	size_t e = u->auth;
	while (uri[e] && uri[e] != '/' && uri[e] != '?')
		e++;
	u->auth_end = e;
	const char *q = strchr(uri + e, '?');
	u->query = q ? (size_t)(q - uri) : strlen(uri);
	u->pw = u->pw_end = 0;
	/* the last '@' of the authority ends the user info */
	size_t at = 0;
	bool has_at = false;
	for (size_t i = u->auth; i < e; i++)
		if (uri[i] == '@') {
			at = i;
			has_at = true;
		}
	if (has_at) {
		for (size_t i = u->auth; i < at; i++)
			if (uri[i] == ':') {
				u->pw = i + 1;
				u->pw_end = at;
				break;
			}
	}
}

/* Split the URI into libpq's conninfo (without objects=, with a connect
 * timeout and an application name unless given), the objects directory
 * (NULL when not given) and the password ("" when none). */
static int uri_conninfo(const char *uri, char **conninfo, char **objects, char **password)
{
	uri_parts u;
	uri_split(uri, &u);
	buf b = BUF_INIT;
	*objects = NULL;
	*password = u.pw_end > u.pw ? pct_decode(uri + u.pw, u.pw_end - u.pw) : strdup("");
	buf_add(&b, uri, u.query);
	bool first = true, timeout = false, app = false;
	const char *q = uri + u.query;
	while (*q) {
		q++; /* '?' or '&' */
		const char *end = strchr(q, '&');
		size_t n = end ? (size_t)(end - q) : strlen(q);
		if (n >= 8 && strncmp(q, "objects=", 8) == 0) {
			free(*objects);
			*objects = pct_decode(q + 8, n - 8);
		} else if (n > 0) {
			if (n >= 9 && strncmp(q, "password=", 9) == 0) {
				free(*password);
				*password = pct_decode(q + 9, n - 9);
			}
			timeout |= n >= 16 && strncmp(q, "connect_timeout=", 16) == 0;
			app |= (n >= 17 && strncmp(q, "application_name=", 17) == 0) ||
			       (n >= 26 && strncmp(q, "fallback_application_name=", 26) == 0);
			buf_putc(&b, first ? '?' : '&');
			buf_add(&b, q, n);
			first = false;
		}
		q += n;
	}
	if (!timeout) {
		buf_puts(&b, first ? "?connect_timeout=10" : "&connect_timeout=10");
		first = false;
	}
	if (!app)
		buf_puts(&b, first ? "?fallback_application_name=cairn"
		                   : "&fallback_application_name=cairn");
	*conninfo = buf_detach(&b);
	if (!*conninfo || !*password)
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* --- messages -------------------------------------------------------------------- */

/* libpq's message as one line, without the password: the conninfo, if
 * libpq quotes it, becomes the shown URI; the password itself (when it is
 * long enough not to be any word's part) becomes "***"; newlines become
 * "; ", "FATAL:  "/"ERROR:  " prefixes go. */
static void clean_message(const cairn_store *s, const char *m, char *out, size_t n)
{
	const pg_be *be = s->be;
	size_t o = 0;
	if (!m)
		m = "";
	while (*m && o + 1 < n) {
		if (be && be->conninfo && strncmp(m, be->conninfo, strlen(be->conninfo)) == 0) {
			const char *r = s->dir;
			while (*r && o + 1 < n)
				out[o++] = *r++;
			m += strlen(be->conninfo);
			continue;
		}
		if (strncmp(m, "FATAL:  ", 8) == 0 || strncmp(m, "ERROR:  ", 8) == 0) {
			m += 8;
			continue;
		}
		if (be && be->password && strlen(be->password) >= 4 &&
		    strncmp(m, be->password, strlen(be->password)) == 0) {
			const char *r = "***";
			while (*r && o + 1 < n)
				out[o++] = *r++;
			m += strlen(be->password);
			continue;
		}
		if (*m == '\n') {
			while (m[1] == '\n')
				m++;
			if (m[1] && o + 3 < n) {
				out[o++] = ';';
				out[o++] = ' ';
			}
			m++;
			continue;
		}
		out[o++] = *m++;
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == ';'))
		o--;
	out[o] = '\0';
}

/* --- errors -----------------------------------------------------------------------
 * The backend's error mapping (docs/internals/store.md, "Error mapping"):
 * every failed libpq call reaches the caller through pg_error, and only
 * here does a PostgreSQL condition become a cairn_error_code.
 *   the connection is gone (server stopped,   CAIRN_ESTORE "lost the connection"
 *   57P01-57P03 shutdown, 08xxx)
 *   40001 serialization failure, 40P01        CAIRN_EBUSY
 *   deadlock, 55P03 lock not available,
 *   57014 statement/lock timeout
 *   class 23 (unique, foreign key, check)     CAIRN_ECONFLICT
 *   53200 out of memory                       CAIRN_ENOMEM
 *   53100 disk full                           CAIRN_EIO, "disk full"
 *   25006 read-only transaction, 42501        CAIRN_ESTORE, "read-only" / "permission
 *   insufficient privilege                    denied"
 *   anything else                             CAIRN_ESTORE with the server's message
 */
int pg_error(cairn_store *s, const PGresult *r, const char *what)
{
	pg_be *be = pg_of(s);
	char msg[512];
	const char *state = r ? pq.resultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = r ? pq.resultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	clean_message(s, primary ? primary : pq.errorMessage(be->conn), msg, sizeof msg);
	bool lost = pq.status(be->conn) != CONNECTION_OK ||
	            (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0));
	if (lost) {
		be->in_txn = be->in_read = false;
		return err_set(CAIRN_ESTORE,
		               "cannot %s: lost the connection to PostgreSQL (store '%s'): %s",
		               what, s->dir, msg[0] ? msg : "server closed the connection");
	}
	if (!state)
		return err_set(CAIRN_ESTORE, "cannot %s: %s", what, msg);
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03") ||
	    !strcmp(state, "57014"))
		return err_set(CAIRN_EBUSY, "cannot %s: the store is busy: %s", what, msg);
	if (strncmp(state, "23", 2) == 0)
		return err_set(CAIRN_ECONFLICT, "cannot %s: %s", what, msg);
	if (!strcmp(state, "53200"))
		return err_set(CAIRN_ENOMEM, "cannot %s: the database is out of memory", what);
	if (!strcmp(state, "53100"))
		return err_set(CAIRN_EIO, "cannot %s: disk full", what);
	if (!strcmp(state, "25006"))
		return err_set(CAIRN_ESTORE, "cannot %s: store '%s' is read-only", what, s->dir);
	if (!strcmp(state, "42501"))
		return err_set(CAIRN_ESTORE, "cannot %s: permission denied in store '%s': %s", what,
		               s->dir, msg);
	return err_set(CAIRN_ESTORE, "cannot %s: %s", what, msg);
}

/* --- the connection ----------------------------------------------------------------- */

/* The library never prints: the server's notices are dropped. */
static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int pg_store_open(cairn_store *s, bool create)
{
	int rc = pq_load();
	if (rc)
		return rc;
	pg_be *be = calloc(1, sizeof *be);
	if (!be)
		return err_set(CAIRN_ENOMEM, "out of memory");
	s->be = be; /* pg_store_close frees it, whatever happens below */
	char *objects = NULL;
	if ((rc = uri_conninfo(s->uri ? s->uri : s->dir, &be->conninfo, &objects, &be->password)) !=
	    0)
		return rc;
	char *why = NULL;
	PQconninfoOption *opts = pq.conninfoParse(be->conninfo, &why);
	if (!opts) {
		char msg[320];
		clean_message(s, why ? why : "out of memory", msg, sizeof msg);
		if (why)
			pq.freemem(why);
		free(objects);
		return err_set(CAIRN_EINVALID, "invalid store URI '%s': %s", s->dir, msg);
	}
	pq.conninfoFree(opts);
	be->conn = pq.connectdb(be->conninfo);
	if (!be->conn) {
		free(objects);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (pq.status(be->conn) != CONNECTION_OK) {
		char msg[512];
		clean_message(s, pq.errorMessage(be->conn), msg, sizeof msg);
		free(objects);
		return err_set(CAIRN_ESTORE, "cannot open store '%s': %s", s->dir, msg);
	}
	pq.setNoticeProcessor(be->conn, no_notices, NULL);
	be->objects = objects;
	return pg_schema_open(s, create);
}

void pg_store_close(cairn_store *s)
{
	pg_be *be = s->be;
	if (!be)
		return;
	if (be->conn)
		pq.finish(be->conn);
	free(be->conninfo);
	free(be->password);
	free(be->objects);
	free(be);
	s->be = NULL;
}

/* Outside a transaction, a connection that was lost is made again once. */
static int ensure_connected(cairn_store *s, const char *what)
{
	pg_be *be = pg_of(s);
	if (pq.status(be->conn) == CONNECTION_OK)
		return 0;
	if (be->in_txn)
		return pg_error(s, NULL, what);
	pq.reset(be->conn);
	be->nstmts = 0; /* prepared statements died with the old session */
	if (pq.status(be->conn) != CONNECTION_OK)
		return pg_error(s, NULL, what);
	pq.setNoticeProcessor(be->conn, no_notices, NULL);
	return 0;
}

/* --- parameters and results ------------------------------------------------------------ */

void pg_param_text(pg_params *p, const char *v)
{
	if (p->n < PG_MAXPARAMS)
		p->v[p->n++] = v;
}

void pg_param_int(pg_params *p, int64_t v)
{
	if (p->n >= PG_MAXPARAMS)
		return;
	snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

static void fmt_double(char *out, size_t n, double v)
{
	if (isinf(v))
		snprintf(out, n, "%s", v > 0 ? "Infinity" : "-Infinity");
	else
		snprintf(out, n, "%.17g", v);
}

void pg_param_double(pg_params *p, double v)
{
	if (p->n >= PG_MAXPARAMS)
		return;
	if (isnan(v)) {
		p->v[p->n++] = NULL;
		return;
	}
	fmt_double(p->num[p->n], sizeof p->num[p->n], v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

void pg_param_bool(pg_params *p, bool v)
{
	pg_param_text(p, v ? "true" : "false");
}

void pg_param_int_or_null(pg_params *p, bool has, int64_t v)
{
	if (has)
		pg_param_int(p, v);
	else
		pg_param_text(p, NULL);
}

int64_t pg_get_int(const PGresult *r, int row, int col)
{
	if (pq.getisnull(r, row, col))
		return 0;
	const char *v = pq.getvalue(r, row, col);
	if (v[0] == 't' || v[0] == 'f') /* a boolean */
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

double pg_get_double(const PGresult *r, int row, int col)
{
	if (pq.getisnull(r, row, col))
		return NAN;
	return strtod(pq.getvalue(r, row, col), NULL);
}

void pg_array_text(buf *b, const char *const *v, size_t n)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		if (!v[i]) {
			buf_puts(b, "NULL");
			continue;
		}
		buf_putc(b, '"');
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(b, '\\');
			buf_putc(b, *c);
		}
		buf_putc(b, '"');
	}
	buf_putc(b, '}');
}

void pg_array_int_add(buf *b, bool *first, int64_t v)
{
	buf_printf(b, *first ? "%lld" : ",%lld", (long long)v);
	*first = false;
}

void pg_array_double_add(buf *b, bool *first, double v)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	if (isnan(v)) {
		buf_puts(b, "NULL");
		return;
	}
	char t[32];
	fmt_double(t, sizeof t, v);
	buf_puts(b, t);
}

/* --- statements ----------------------------------------------------------------------- */

static bool result_ok(const PGresult *r)
{
	ExecStatusType st = r ? pq.resultStatus(r) : PGRES_FATAL_ERROR;
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN;
}

/* NULL with the error raised when r failed (r is freed). */
static PGresult *checked(cairn_store *s, PGresult *r, const char *what)
{
	if (result_ok(r))
		return r;
	pg_error(s, r, what);
	if (r)
		pq.clear(r);
	return NULL;
}

/* The server refuses text that is not UTF-8 (its encoding is UTF8): say so
 * before sending anything, as an invalid input rather than a store failure
 * (docs/internals/store.md, "Text").  0, or CAIRN_EINVALID raised. */
int pg_text_check(const char *text, const char *what)
{
	size_t at;
	if (text && !utf8_valid(text, strlen(text), &at))
		return err_set(CAIRN_EINVALID,
		               "cannot %s: text is not valid UTF-8 (byte 0x%02x at offset %zu),"
		               " and a postgresql store holds UTF-8 text only",
		               what, (unsigned char)text[at], at);
	return 0;
}

static int params_utf8(const pg_params *p, const char *what)
{
	int rc = 0;
	for (int i = 0; p && i < p->n && rc == 0; i++)
		rc = pg_text_check(p->v[i], what);
	return rc;
}

PGresult *pg_exec(cairn_store *s, const char *what, const char *sql, const pg_params *p)
{
	pg_be *be = pg_of(s);
	static const pg_params none = PG_PARAMS_INIT;
	if (!p)
		p = &none;
	if (params_utf8(p, what) != 0 || ensure_connected(s, what) != 0)
		return NULL;
	int i = 0;
	while (i < be->nstmts && be->stmts[i].sql != sql)
		i++;
	if (i == be->nstmts) {
		if (i == PG_STMT_CACHE)
			return pg_exec_once(s, what, sql, p);
		char name[16];
		snprintf(name, sizeof name, "c%d", i);
		PGresult *r = checked(s, pq.prepare(be->conn, name, sql, 0, NULL), what);
		if (!r)
			return NULL;
		pq.clear(r);
		be->stmts[i].sql = sql;
		be->stmts[i].nparams = p->n;
		be->nstmts++;
	}
	char name[16];
	snprintf(name, sizeof name, "c%d", i);
	return checked(s, pq.execPrepared(be->conn, name, p->n, p->v, NULL, NULL, 0), what);
}

PGresult *pg_exec_once(cairn_store *s, const char *what, const char *sql, const pg_params *p)
{
	pg_be *be = pg_of(s);
	if (params_utf8(p, what) != 0 || ensure_connected(s, what) != 0)
		return NULL;
	return checked(
	    s, pq.execParams(be->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL, NULL, NULL, 0),
	    what);
}

int pg_run(cairn_store *s, const char *what, const char *sql, const pg_params *p, int64_t *changed)
{
	PGresult *r = pg_exec(s, what, sql, p);
	if (!r)
		return cairn_error_last_code();
	if (changed) {
		const char *n = pq.cmdTuples(r);
		*changed = n && *n ? strtoll(n, NULL, 10) : 0;
	}
	pq.clear(r);
	return 0;
}

int pg_query_int(cairn_store *s, const char *what, const char *sql, const pg_params *p,
                 int64_t *out, bool *found)
{
	PGresult *r = pg_exec(s, what, sql, p);
	if (!r)
		return cairn_error_last_code();
	bool f = pq.ntuples(r) > 0;
	if (f)
		*out = pg_get_int(r, 0, 0);
	if (found)
		*found = f;
	pq.clear(r);
	return 0;
}

int pg_copy_in(cairn_store *s, const char *what, const char *sql, const buf *data, char state[6])
{
	pg_be *be = pg_of(s);
	state[0] = '\0';
	if (ensure_connected(s, what) != 0)
		return cairn_error_last_code();
	PGresult *r = pq.exec(be->conn, sql);
	if (!r || pq.resultStatus(r) != PGRES_COPY_IN) {
		const char *st = r ? pq.resultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		snprintf(state, 6, "%s", st ? st : "");
		int rc = pg_error(s, r, what);
		if (r)
			pq.clear(r);
		return rc;
	}
	pq.clear(r);
	/* 1 MiB at a time: libpq buffers what it is given */
	size_t off = 0;
	int ok = 1;
	while (ok == 1 && off < data->len) {
		size_t n = data->len - off > (1u << 20) ? (1u << 20) : data->len - off;
		ok = pq.putCopyData(be->conn, data->ptr + off, (int)n);
		off += n;
	}
	if (ok == 1)
		ok = pq.putCopyEnd(be->conn, NULL);
	int rc = 0;
	while ((r = pq.getResult(be->conn)) != NULL) {
		if (rc == 0 && pq.resultStatus(r) != PGRES_COMMAND_OK) {
			const char *st = pq.resultErrorField(r, PG_DIAG_SQLSTATE);
			snprintf(state, 6, "%s", st ? st : "");
			rc = pg_error(s, r, what);
		}
		pq.clear(r);
	}
	if (rc == 0 && ok != 1)
		rc = pg_error(s, NULL, what);
	return rc;
}

/* --- transactions ------------------------------------------------------------------------- */

int pg_script(cairn_store *s, const char *sql, const char *what)
{
	pg_be *be = pg_of(s);
	if (ensure_connected(s, what) != 0)
		return cairn_error_last_code();
	PGresult *r = checked(s, pq.exec(be->conn, sql), what);
	if (!r)
		return cairn_error_last_code();
	pq.clear(r);
	return 0;
}

int pg_begin(cairn_store *s)
{
	pg_be *be = pg_of(s);
	/* inside a keyed write's transaction (pg/idem.c): a savepoint */
	if (s->hold && be->in_txn) {
		int rc = pg_script(s, "SAVEPOINT w", "begin a savepoint");
		if (rc == 0)
			s->hold_depth++;
		return rc;
	}
	if (be->in_txn)
		return err_set(CAIRN_ERROR, "internal: a transaction is already open");
	int rc = pg_script(s, "BEGIN", "begin a transaction");
	if (rc == 0)
		be->in_txn = true;
	return rc;
}

int pg_commit(cairn_store *s)
{
	pg_be *be = pg_of(s);
	if (s->hold && s->hold_depth > 0) {
		s->hold_depth--;
		return pg_script(s, "RELEASE SAVEPOINT w", "release a savepoint");
	}
	int rc = pg_script(s, "COMMIT", "commit");
	if (rc)
		pg_rollback(s);
	be->in_txn = be->in_read = false;
	return rc;
}

void pg_rollback(cairn_store *s)
{
	pg_be *be = pg_of(s);
	if (s->hold && s->hold_depth > 0) {
		s->hold_depth--;
		if (be->conn && pq.status(be->conn) == CONNECTION_OK) {
			PGresult *r = pq.exec(be->conn, "ROLLBACK TO SAVEPOINT w");
			if (r)
				pq.clear(r);
			if ((r = pq.exec(be->conn, "RELEASE SAVEPOINT w")))
				pq.clear(r);
		}
		return;
	}
	if (be->conn && pq.transactionStatus(be->conn) != PQTRANS_IDLE &&
	    pq.status(be->conn) == CONNECTION_OK) {
		PGresult *r = pq.exec(be->conn, "ROLLBACK");
		if (r)
			pq.clear(r);
	}
	be->in_txn = be->in_read = false;
}

int pg_read_begin(cairn_store *s, bool *own)
{
	pg_be *be = pg_of(s);
	*own = !be->in_txn;
	if (!*own)
		return 0;
	int rc = pg_script(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin a read");
	if (rc == 0)
		be->in_txn = be->in_read = true;
	return rc;
}

void pg_read_end(cairn_store *s, bool own)
{
	if (!own)
		return;
	pg_be *be = pg_of(s);
	if (be->in_txn && pq.status(be->conn) == CONNECTION_OK) {
		PGresult *r = pq.exec(be->conn, "COMMIT");
		if (r)
			pq.clear(r);
	}
	be->in_txn = be->in_read = false;
}

/* --- objects and their references -------------------------------------------------------- */

int pg_refs_begin(cairn_store *s)
{
	store_hook(s, "refs");
	int rc = pg_begin(s);
	if (rc)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, PG_LOCK_OBJECTS);
	if ((rc = pg_run(s, "lock the objects", "SELECT pg_advisory_xact_lock_shared($1::bigint)",
	                 &p, NULL)) != 0)
		pg_rollback(s);
	return rc;
}

int pg_object_check(cairn_store *s, const char *oid)
{
	if (!pg_in_txn(s))
		return err_set(CAIRN_ERROR, "internal: object %.64s checked outside a transaction",
		               oid ? oid : "");
	if (!object_present(s, oid))
		return err_set(OBJECT_VANISHED,
		               "object %.64s was removed (by a purge of another run) before the "
		               "reference to it was recorded",
		               oid ? oid : "");
	return 0;
}

int pg_object_ref(cairn_store *s, int64_t rid, const char *oid)
{
	int rc = pg_object_check(s, oid);
	if (rc)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, oid);
	return pg_run(s, "record the object reference",
	              "INSERT INTO object_refs(rid, oid) VALUES($1, $2) ON CONFLICT DO NOTHING", &p,
	              NULL);
}

/* --- the check ---------------------------------------------------------------------------- */

int pg_store_check(cairn_store *s)
{
	int v = 0;
	int rc = pg_schema_version(s, &v);
	if (rc)
		return rc;
	if (v != pg_schema_latest())
		return err_set(CAIRN_ESTORE,
		               "store '%s' is damaged: schema version %d, expected %d", s->dir, v,
		               pg_schema_latest());
	/* every table of the schema answers */
	static const char *const tables =
	    "SELECT (SELECT count(*) FROM projects) + (SELECT count(*) FROM runs) +"
	    " (SELECT count(*) FROM keys) + (SELECT count(*) FROM metric_summary) +"
	    " (SELECT count(*) FROM object_refs) + (SELECT count(*) FROM code_map)";
	return pg_run(s, "check the store", tables, NULL, NULL);
}
