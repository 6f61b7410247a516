/*
 * tests/unit/test-auth.c — cairn/auth.h on both backends: tokens made,
 * listed, verified and revoked; names, scopes and options checked; expiry
 * decided by the store's pinned clock, never the wall clock; sessions
 * bounded by their token (expiry, revocation) and ended; the CSRF token's
 * derivation; the audit log; and that no secret is ever in the store.
 */
#include "unit.h"

#include "lib/store/store.h"
#include "util/json.h"

#define T0 2000000000.0 /* the pinned "now" */

static void open_pinned(unit_store *u)
{
	unit_store_open(u);
	store_clock_pin(u->s, T0);
}

static char *make(unit_store *u, const char *name, cairn_scope scope, const char *project,
                  double expires_in, cairn_token *out)
{
	cairn_token_options o = CAIRN_TOKEN_OPTIONS_INIT;
	o.name = name;
	o.scope = scope;
	o.project = project;
	o.expires_in = expires_in;
	char *secret = NULL;
	assert_ok(cairn_token_create(&secret, out, u->s, &o));
	return secret;
}

static void test_create_verify(void **state)
{
	unit_store u;
	open_pinned(&u);
	cairn_token t = {0}, v = {0};
	char *a = make(&u, "alice", CAIRN_SCOPE_WRITE, "p1", 0, &t);
	assert_int_equal(strlen(a), CAIRN_TOKEN_LEN);
	assert_memory_equal(a, CAIRN_TOKEN_PREFIX, 6);
	assert_string_equal(t.name, "alice");
	assert_int_equal(t.scope, CAIRN_SCOPE_WRITE);
	assert_string_equal(t.project, "p1");
	assert_true(t.created == T0);
	assert_true(t.expires == 0);
	assert_ok(cairn_token_verify(&v, u.s, a));
	assert_int_equal(v.id, t.id);
	assert_string_equal(v.name, "alice");
	assert_string_equal(v.project, "p1");
	cairn_token_clear(&v);

	/* the hash is what is stored, the secret never */
	char hash[65];
	assert_ok(cairn_token_hash(hash, a));
	assert_false(unit_store_holds(&u, a + 6));
	assert_true(unit_store_holds(&u, hash));

	/* a token differing in its last digit is unknown */
	char b[CAIRN_TOKEN_LEN + 1];
	memcpy(b, a, sizeof b);
	b[CAIRN_TOKEN_LEN - 1] = b[CAIRN_TOKEN_LEN - 1] == '0' ? '1' : '0';
	assert_int_equal(cairn_token_verify(&v, u.s, b), CAIRN_ENOTFOUND);
	assert_string_equal(cairn_error_last(), "unknown token");
	/* malformed ones are refused before the store is asked */
	const char *bad[] = {"", "cairn_", "cairn_xyz", "nope_0000", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(cairn_token_verify(&v, u.s, bad[i]), CAIRN_EINVALID);
	char upper[CAIRN_TOKEN_LEN + 1];
	memcpy(upper, a, sizeof upper);
	for (char *p = upper + 6; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	if (strcmp(upper, a) != 0)
		assert_int_equal(cairn_token_verify(&v, u.s, upper), CAIRN_EINVALID);

	/* a default name, from the hash */
	cairn_token d = {0};
	char *s2 = make(&u, NULL, CAIRN_SCOPE_READ, NULL, 0, &d);
	assert_ok(cairn_token_hash(hash, s2));
	char want[32];
	snprintf(want, sizeof want, "token-%.8s", hash);
	assert_string_equal(d.name, want);
	assert_null(d.project);
	assert_true(strcmp(a, s2) != 0);

	cairn_token_clear(&t);
	cairn_token_clear(&d);
	cairn_free(a);
	cairn_free(s2);
	unit_store_close(&u);
}

static void test_bad_options(void **state)
{
	unit_store u;
	open_pinned(&u);
	cairn_token_options o = CAIRN_TOKEN_OPTIONS_INIT;
	char *secret = NULL;
	o.scope = CAIRN_SCOPE_NONE;
	assert_int_equal(cairn_token_create(&secret, NULL, u.s, &o), CAIRN_EINVALID);
	o.scope = CAIRN_SCOPE_READ;
	const char *names[] = {"", "12345", "a b", "x/y", NULL};
	for (int i = 0; names[i]; i++) {
		o.name = names[i];
		assert_int_equal(cairn_token_create(&secret, NULL, u.s, &o), CAIRN_EINVALID);
	}
	char longname[CAIRN_TOKEN_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	o.name = longname;
	assert_int_equal(cairn_token_create(&secret, NULL, u.s, &o), CAIRN_EINVALID);
	o.name = "ok";
	o.expires_in = -1;
	assert_int_equal(cairn_token_create(&secret, NULL, u.s, &o), CAIRN_EINVALID);
	o.expires_in = 0;
	o.version = 99;
	assert_int_equal(cairn_token_create(&secret, NULL, u.s, &o), CAIRN_EINVALID);
	o.version = CAIRN_TOKEN_OPTIONS_VERSION;
	assert_null(secret);
	/* nothing was stored by the refusals; a taken name is EEXISTS */
	cairn_token *v = NULL;
	size_t n = 9;
	assert_ok(cairn_token_list(&v, &n, u.s));
	assert_int_equal(n, 0);
	cairn_token_list_free(v, n);
	assert_ok(cairn_token_create(&secret, NULL, u.s, &o));
	cairn_free(secret);
	assert_int_equal(cairn_token_create(&secret, NULL, u.s, &o), CAIRN_EEXISTS);
	cairn_scope sc;
	assert_ok(cairn_scope_parse(&sc, "admin"));
	assert_int_equal(sc, CAIRN_SCOPE_ADMIN);
	assert_int_equal(cairn_scope_parse(&sc, "root"), CAIRN_EINVALID);
	unit_store_close(&u);
}

static void test_expiry_and_revocation(void **state)
{
	unit_store u;
	open_pinned(&u);
	cairn_token t = {0}, v = {0};
	char *e = make(&u, "short", CAIRN_SCOPE_READ, NULL, 60, &t);
	assert_true(t.expires == T0 + 60);
	store_clock_pin(u.s, T0 + 59);
	assert_ok(cairn_token_verify(&v, u.s, e));
	cairn_token_clear(&v);
	store_clock_pin(u.s, T0 + 60);
	assert_int_equal(cairn_token_verify(&v, u.s, e), CAIRN_ENOTFOUND);
	assert_string_equal(cairn_error_last(), "the token 'short' has expired");
	store_clock_pin(u.s, T0);

	char *r = make(&u, "gone", CAIRN_SCOPE_ADMIN, NULL, 0, NULL);
	cairn_token rv = {0};
	char id[24];
	cairn_token_clear(&t);
	char *k = make(&u, "keep", CAIRN_SCOPE_READ, NULL, 0, &t);
	snprintf(id, sizeof id, "%lld", (long long)t.id - 1);
	assert_ok(cairn_token_revoke(u.s, id, &rv)); /* "gone", by id */
	assert_string_equal(rv.name, "gone");
	assert_true(rv.revoked == T0);
	cairn_token_clear(&rv);
	assert_int_equal(cairn_token_verify(&v, u.s, r), CAIRN_ENOTFOUND);
	assert_string_equal(cairn_error_last(), "the token 'gone' was revoked");
	/* again: not an error, the first time stays */
	store_clock_pin(u.s, T0 + 5);
	assert_ok(cairn_token_revoke(u.s, "gone", &rv));
	assert_true(rv.revoked == T0);
	cairn_token_clear(&rv);
	assert_int_equal(cairn_token_revoke(u.s, "nobody", NULL), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_token_revoke(u.s, "99999", NULL), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_token_revoke(u.s, "0", NULL), CAIRN_ENOTFOUND);

	/* touch records last use */
	assert_ok(cairn_token_touch(u.s, t.id));
	cairn_token *list = NULL;
	size_t n = 0;
	assert_ok(cairn_token_list(&list, &n, u.s));
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "short");
	assert_string_equal(list[2].name, "keep");
	assert_true(list[2].last_used == T0 + 5);
	assert_true(list[1].revoked == T0);
	assert_true(list[2].revoked == 0);
	cairn_token_list_free(list, n);
	cairn_token_clear(&t);
	cairn_free(e);
	cairn_free(r);
	cairn_free(k);
	unit_store_close(&u);
}

static void test_sessions(void **state)
{
	unit_store u;
	open_pinned(&u);
	cairn_token t = {0}, v = {0};
	char *sec = make(&u, "web", CAIRN_SCOPE_WRITE, "p", 3600, &t);
	char sid[CAIRN_SESSION_HEXSZ + 1], sid2[CAIRN_SESSION_HEXSZ + 1];
	assert_ok(cairn_session_create(sid, u.s, t.id, 12 * 3600.0));
	assert_int_equal(strlen(sid), 64);
	assert_false(unit_store_holds(&u, sid));
	assert_ok(cairn_session_verify(&v, u.s, sid));
	assert_string_equal(v.name, "web");
	assert_string_equal(v.project, "p");
	cairn_token_clear(&v);
	/* never past its token's expiry (1 h, though 12 h were asked) */
	store_clock_pin(u.s, T0 + 3600);
	assert_int_equal(cairn_session_verify(&v, u.s, sid), CAIRN_ENOTFOUND);
	store_clock_pin(u.s, T0);
	/* the CSRF token: fixed for a session, another for another */
	char c1[65], c1b[65], c2[65];
	assert_ok(cairn_session_create(sid2, u.s, t.id, 60));
	assert_ok(cairn_session_csrf(c1, sid));
	assert_ok(cairn_session_csrf(c1b, sid));
	assert_ok(cairn_session_csrf(c2, sid2));
	assert_string_equal(c1, c1b);
	assert_true(strcmp(c1, c2) != 0);
	assert_int_equal(cairn_session_csrf(c2, "short"), CAIRN_EINVALID);
	/* logout ends one session, not the other */
	assert_ok(cairn_session_delete(u.s, sid));
	assert_int_equal(cairn_session_verify(&v, u.s, sid), CAIRN_ENOTFOUND);
	assert_ok(cairn_session_verify(&v, u.s, sid2));
	cairn_token_clear(&v);
	/* a session ends by its own time too */
	store_clock_pin(u.s, T0 + 61);
	assert_int_equal(cairn_session_verify(&v, u.s, sid2), CAIRN_ENOTFOUND);
	store_clock_pin(u.s, T0);
	/* revoking the token ends its sessions */
	char sid3[CAIRN_SESSION_HEXSZ + 1];
	assert_ok(cairn_session_create(sid3, u.s, t.id, 60));
	assert_ok(cairn_token_revoke(u.s, "web", NULL));
	assert_int_equal(cairn_session_verify(&v, u.s, sid3), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_session_create(sid3, u.s, t.id, 60), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_session_create(sid3, u.s, 424242, 60), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_session_verify(&v, u.s, "zz"), CAIRN_EINVALID);
	cairn_token_clear(&t);
	cairn_free(sec);
	unit_store_close(&u);
}

static void test_audit(void **state)
{
	unit_store u;
	open_pinned(&u);
	assert_ok(cairn_audit_record(u.s, "alice", "POST", "/api/v1/runs", 201));
	store_clock_pin(u.s, T0 + 1);
	assert_ok(cairn_audit_record(u.s, "bob", "DELETE", "/api/v1/runs/x", 404));
	char *out = NULL;
	assert_ok(cairn_audit_list_json(&out, u.s, 10));
	char err[128];
	json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
	assert_non_null(d);
	const json *first = json_root(d)->child;
	assert_string_equal(json_get_str(first, "token"), "bob");
	assert_string_equal(json_get_str(first, "method"), "DELETE");
	double st = 0, ts = 0;
	assert_true(json_get_num(first, "status", &st) && st == 404);
	assert_true(json_get_num(first, "time", &ts) && ts == T0 + 1);
	assert_string_equal(json_get_str(first->next, "token"), "alice");
	assert_null(first->next->next);
	json_doc_free(d);
	cairn_free(out);
	assert_ok(cairn_audit_list_json(&out, u.s, 1));
	assert_non_null(strstr(out, "bob"));
	assert_null(strstr(out, "alice"));
	cairn_free(out);
	assert_int_equal(cairn_audit_list_json(&out, u.s, 0), CAIRN_EINVALID);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_verify),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_expiry_and_revocation),
	    cmocka_unit_test(test_sessions),
	    cmocka_unit_test(test_audit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
