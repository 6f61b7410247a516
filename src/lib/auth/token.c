/*
 * lib/auth/token.c — API tokens, browser sessions and the audit log
 * (cairn/auth.h; the design is docs/internals/auth.md).
 *
 * Secrets: a token is "cairn_" + 64 hex digits of 32 bytes from getrandom();
 * a session id is 64 hex digits of another 32.  Only their SHA-256
 * (libcrypto) goes to the store (lib/store/auth.h), where a presented
 * secret is found by an indexed equality on that hash; the stored hash is
 * then compared with the presented one again with CRYPTO_memcmp, so the
 * answer's time does not depend on how much of it matched.  SHA-256 without
 * a salt or stretching is enough because the secrets are 256-bit random
 * values, not passwords: nothing can be guessed from a leaked hash.
 *
 * Clock: every "now" is store_now(s), so tests that pin the store's clock
 * decide expiry by their data.
 * Thread-safety: like every call on a cairn_store (the store's lock).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/auth.h"
#include "lib/store/store.h"
#include "util/evp.h"
#include "util/json.h"
#include "util/sha.h"

/* --- scopes and rows ---------------------------------------------------------- */

const char *cairn_scope_name(cairn_scope scope)
{
	switch (scope) {
	case CAIRN_SCOPE_READ: return "read";
	case CAIRN_SCOPE_WRITE: return "write";
	case CAIRN_SCOPE_ADMIN: return "admin";
	default: return "none";
	}
}

int cairn_scope_parse(cairn_scope *out, const char *name)
{
	static const cairn_scope all[] = {CAIRN_SCOPE_READ, CAIRN_SCOPE_WRITE, CAIRN_SCOPE_ADMIN};
	for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
		if (strcmp(name, cairn_scope_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return err_set(CAIRN_EINVALID, "a scope is read, write or admin, not '%.40s'",
	               name ? name : "");
}

void cairn_token_clear(cairn_token *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->project);
	memset(t, 0, sizeof *t);
}

void cairn_token_list_free(cairn_token *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		cairn_token_clear(&v[i]);
	free(v);
}

/* Move a store row into a public one (the strings change hands). */
static void from_row(cairn_token *out, token_row *r)
{
	out->id = r->id;
	out->name = r->name;
	out->scope = (cairn_scope)r->scope;
	out->project = r->project;
	out->created = r->created;
	out->expires = r->expires;
	out->last_used = r->last_used;
	out->revoked = r->revoked;
	r->name = r->project = NULL;
}

/* --- secrets ------------------------------------------------------------------ */

/* 32 random bytes as 64 hex digits. */
static int random_hex(char out[65])
{
	unsigned char raw[32];
	if (random_bytes(raw, sizeof raw) != 0)
		return err_set(CAIRN_ERROR, "cannot read random bytes from the kernel (getrandom)");
	hex_encode(out, raw, sizeof raw);
	memset(raw, 0, sizeof raw);
	return 0;
}

static int hash_hex(char out[65], const char *text)
{
	if (sha_buf_hex(text, strlen(text), out) != 0)
		return err_set(CAIRN_ERROR, "%s", sha_error());
	return 0;
}

int cairn_token_hash(char out[65], const char *secret)
{
	out[0] = '\0';
	size_t np = strlen(CAIRN_TOKEN_PREFIX);
	if (!secret || strlen(secret) != CAIRN_TOKEN_LEN ||
	    strncmp(secret, CAIRN_TOKEN_PREFIX, np) != 0 || !hex_is(secret + np, 64))
		return err_set(CAIRN_EINVALID, "not a cairn token (\"%s\" and 64 hex digits)",
		               CAIRN_TOKEN_PREFIX);
	return hash_hex(out, secret);
}

/* Constant-time equality of two 64-digit hashes. */
static int hash_equal(const char *a, const char *b)
{
	int eq = evp_memeq(a, b, 64);
	if (eq < 0)
		return err_set(CAIRN_ERROR, "%s", evp_error());
	return eq;
}

/* --- tokens ----------------------------------------------------------------------- */

static int name_check(const char *name)
{
	size_t n = strlen(name);
	bool digits = true;
	if (n == 0 || n > CAIRN_TOKEN_NAME_MAX)
		return err_set(CAIRN_EINVALID, "a token name is 1 to %d bytes, not %zu",
		               CAIRN_TOKEN_NAME_MAX, n);
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._@-", *p))
			return err_set(CAIRN_EINVALID,
			               "a token name holds letters, digits and . _ @ - only, not "
			               "'%c' (in '%.100s')",
			               *p, name);
		digits = digits && isdigit((unsigned char)*p);
	}
	if (digits)
		return err_set(CAIRN_EINVALID,
		               "a token name cannot be all digits ('%s' would read as an id)",
		               name);
	return 0;
}

int cairn_token_create(char **out_secret, cairn_token *out, cairn_store *s,
                       const cairn_token_options *opts)
{
	*out_secret = NULL;
	if (!s || !opts)
		return err_set(CAIRN_EINVALID, "no store or no options");
	if (opts->version != CAIRN_TOKEN_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_token_options version %u is not %d",
		               opts->version, CAIRN_TOKEN_OPTIONS_VERSION);
	if (opts->scope < CAIRN_SCOPE_READ || opts->scope > CAIRN_SCOPE_ADMIN)
		return err_set(CAIRN_EINVALID, "a token's scope is read, write or admin");
	if (opts->name && name_check(opts->name) != 0)
		return cairn_error_last_code();
	if (opts->project && (!*opts->project || strlen(opts->project) > KEY_MAX))
		return err_set(CAIRN_EINVALID, "a project name is 1 to %d bytes", KEY_MAX);
	if (opts->expires_in < 0 || opts->expires_in > 100.0 * 365 * 86400)
		return err_set(CAIRN_EINVALID, "a token expires in 1 s to 100 years, or never");

	char hex[65], secret[CAIRN_TOKEN_LEN + 1], defname[32];
	int rc = random_hex(hex);
	if (rc)
		return rc;
	snprintf(secret, sizeof secret, "%s%s", CAIRN_TOKEN_PREFIX, hex);
	token_row r = {0};
	if ((rc = hash_hex(r.hash, secret)) != 0)
		goto done;
	snprintf(defname, sizeof defname, "token-%.8s", r.hash);
	double now = store_now(s);
	r.name = (char *)(opts->name ? opts->name : defname);
	r.scope = opts->scope;
	r.project = (char *)opts->project;
	r.created = now;
	r.expires = opts->expires_in > 0 ? now + opts->expires_in : 0;
	rc = store_token_insert(s, &r, &r.id);
	if (rc == CAIRN_ECONFLICT) {
		rc = err_set(CAIRN_EEXISTS, "a token named '%s' exists already", r.name);
		goto done;
	}
	if (rc)
		goto done;
	if (!(*out_secret = strdup(secret))) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if (out) {
		memset(out, 0, sizeof *out);
		out->id = r.id;
		out->name = strdup(r.name);
		out->scope = opts->scope;
		out->project = opts->project ? strdup(opts->project) : NULL;
		out->created = r.created;
		out->expires = r.expires;
		if (!out->name || (opts->project && !out->project)) {
			cairn_token_clear(out);
			free(*out_secret);
			*out_secret = NULL;
			rc = err_set(CAIRN_ENOMEM, "out of memory");
		}
	}
done:
	memset(secret, 0, sizeof secret);
	memset(hex, 0, sizeof hex);
	return rc;
}

int cairn_token_list(cairn_token **out, size_t *out_n, cairn_store *s)
{
	*out = NULL;
	*out_n = 0;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	token_row *rows = NULL;
	size_t n = 0;
	int rc = store_token_list(s, &rows, &n);
	if (rc)
		return rc;
	cairn_token *v = calloc(n ? n : 1, sizeof *v);
	if (!v) {
		token_rows_free(rows, n);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		from_row(&v[i], &rows[i]);
	token_rows_free(rows, n);
	*out = v;
	*out_n = n;
	return 0;
}

int cairn_token_revoke(cairn_store *s, const char *name_or_id, cairn_token *out)
{
	if (!s || !name_or_id || !*name_or_id)
		return err_set(CAIRN_EINVALID, "name the token to revoke (its name or id)");
	int64_t id = 0, got = 0;
	bool digits = true;
	for (const char *p = name_or_id; *p; p++)
		digits = digits && isdigit((unsigned char)*p);
	if (digits) {
		if (strlen(name_or_id) > 18)
			return err_set(CAIRN_ENOTFOUND, "no token has id %s", name_or_id);
		id = strtoll(name_or_id, NULL, 10);
		if (id <= 0)
			return err_set(CAIRN_ENOTFOUND, "no token has id %s", name_or_id);
	}
	int rc = store_token_revoke(s, name_or_id, id, store_now(s), &got);
	if (rc || !out)
		return rc;
	/* The row as it is now, for the caller's message. */
	token_row *rows = NULL;
	size_t n = 0;
	if ((rc = store_token_list(s, &rows, &n)) != 0)
		return rc;
	rc = err_set(CAIRN_ENOTFOUND, "the token vanished while it was revoked");
	for (size_t i = 0; i < n; i++)
		if (rows[i].id == got) {
			memset(out, 0, sizeof *out);
			from_row(out, &rows[i]);
			cairn_error_clear();
			rc = 0;
		}
	token_rows_free(rows, n);
	return rc;
}

/* Is the row live at now?  0, or CAIRN_ENOTFOUND saying why not. */
static int live(const token_row *r, double now)
{
	if (r->revoked > 0)
		return err_set(CAIRN_ENOTFOUND, "the token '%s' was revoked", r->name);
	if (r->expires > 0 && r->expires <= now)
		return err_set(CAIRN_ENOTFOUND, "the token '%s' has expired", r->name);
	return 0;
}

int cairn_token_verify_hash(cairn_token *out, cairn_store *s, const char *hash)
{
	memset(out, 0, sizeof *out);
	if (!s || !hash || strlen(hash) != 64)
		return err_set(CAIRN_EINVALID, "no store or not a token hash");
	token_row r = {0};
	int rc = store_token_find(s, hash, &r);
	if (rc == CAIRN_ENOTFOUND)
		return err_set(CAIRN_ENOTFOUND, "unknown token");
	if (rc)
		return rc;
	int eq = hash_equal(r.hash, hash);
	if (eq != 1)
		rc = eq < 0 ? cairn_error_last_code() : err_set(CAIRN_ENOTFOUND, "unknown token");
	else
		rc = live(&r, store_now(s));
	if (rc == 0)
		from_row(out, &r);
	token_row_clear(&r);
	return rc;
}

int cairn_token_verify(cairn_token *out, cairn_store *s, const char *secret)
{
	char hash[65];
	memset(out, 0, sizeof *out);
	int rc = cairn_token_hash(hash, secret);
	return rc ? rc : cairn_token_verify_hash(out, s, hash);
}

int cairn_token_touch(cairn_store *s, int64_t id)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	return store_token_touch(s, id, store_now(s));
}

/* --- sessions ---------------------------------------------------------------------- */

static int session_hash(char out[65], const char *sid)
{
	if (!sid || strlen(sid) != CAIRN_SESSION_HEXSZ || !hex_is(sid, CAIRN_SESSION_HEXSZ))
		return err_set(CAIRN_EINVALID, "not a session id");
	return hash_hex(out, sid);
}

int cairn_session_create(char out_id[CAIRN_SESSION_HEXSZ + 1], cairn_store *s, int64_t token_id,
                         double ttl_s)
{
	out_id[0] = '\0';
	if (!s || ttl_s <= 0)
		return err_set(CAIRN_EINVALID, "no store or a session that ends before it starts");
	char sid[65], hash[65];
	int rc = random_hex(sid);
	if (rc || (rc = session_hash(hash, sid)) != 0)
		return rc;
	/* Never past the token's own expiry. */
	token_row *rows = NULL;
	size_t n = 0;
	if ((rc = store_token_list(s, &rows, &n)) != 0)
		return rc;
	double now = store_now(s), until = now + ttl_s;
	rc = err_set(CAIRN_ENOTFOUND, "no token has id %lld", (long long)token_id);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].id != token_id)
			continue;
		cairn_error_clear();
		rc = live(&rows[i], now);
		if (rows[i].expires > 0 && rows[i].expires < until)
			until = rows[i].expires;
	}
	token_rows_free(rows, n);
	if (rc == 0)
		rc = store_session_insert(s, hash, token_id, now, until);
	if (rc == 0)
		memcpy(out_id, sid, sizeof sid);
	memset(sid, 0, sizeof sid);
	return rc;
}

int cairn_session_verify(cairn_token *out, cairn_store *s, const char *session_id)
{
	char hash[65];
	memset(out, 0, sizeof *out);
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = session_hash(hash, session_id);
	if (rc)
		return rc;
	token_row r = {0};
	double now = store_now(s);
	if ((rc = store_session_find(s, hash, now, &r)) != 0)
		return rc == CAIRN_ENOTFOUND ? err_set(CAIRN_ENOTFOUND, "the session has ended")
		                             : rc;
	if ((rc = live(&r, now)) == 0)
		from_row(out, &r);
	token_row_clear(&r);
	return rc;
}

int cairn_session_delete(cairn_store *s, const char *session_id)
{
	char hash[65];
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = session_hash(hash, session_id);
	return rc ? rc : store_session_delete(s, hash);
}

int cairn_session_csrf(char out[65], const char *session_id)
{
	out[0] = '\0';
	if (!session_id || strlen(session_id) != CAIRN_SESSION_HEXSZ ||
	    !hex_is(session_id, CAIRN_SESSION_HEXSZ))
		return err_set(CAIRN_EINVALID, "not a session id");
	char text[16 + CAIRN_SESSION_HEXSZ + 1];
	snprintf(text, sizeof text, "cairn-csrf-v1:%s", session_id);
	int rc = hash_hex(out, text);
	memset(text, 0, sizeof text);
	return rc;
}

/* --- the audit log -------------------------------------------------------------------- */

int cairn_audit_record(cairn_store *s, const char *token_name, const char *method, const char *path,
                       int status)
{
	if (!s || !token_name || !method || !path)
		return err_set(CAIRN_EINVALID,
		               "an audit row needs a store, token, method and path");
	char cut[1025];
	snprintf(cut, sizeof cut, "%s", path); /* a path is bounded by the server anyway */
	audit_row a = {store_now(s), (char *)token_name, (char *)method, cut, status};
	return store_audit_insert(s, &a);
}

int cairn_audit_list_json(char **out, cairn_store *s, int64_t limit)
{
	*out = NULL;
	if (!s || limit < 1)
		return err_set(CAIRN_EINVALID, "no store, or a limit under 1");
	audit_row *v = NULL;
	size_t n = 0;
	int rc = store_audit_list(s, limit, &v, &n);
	if (rc)
		return rc;
	buf b = BUF_INIT;
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		bool f = true;
		buf_puts(&b, i ? ",{" : "{");
		json_key(&b, &f, "time");
		json_num(&b, v[i].ts);
		json_key(&b, &f, "token");
		json_str(&b, v[i].token);
		json_key(&b, &f, "method");
		json_str(&b, v[i].method);
		json_key(&b, &f, "path");
		json_str(&b, v[i].path);
		json_key(&b, &f, "status");
		json_int(&b, v[i].status);
		buf_putc(&b, '}');
	}
	buf_putc(&b, ']');
	audit_rows_free(v, n);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
