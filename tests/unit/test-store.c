/*
 * tests/unit/test-store.c — the store, runs, params, metrics writer, objects,
 * migrations and deletion, through the public API (plus the store's
 * internal migration entry point for building old stores).
 */
#include "unit.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "lib/store/sqlite/sqlite.h"
#include "util/json.h"

static json_doc *run_json(cairn_store *s, const char *id)
{
	char *out = NULL;
	assert_ok(cairn_run_get_json(&out, s, id));
	char err[128];
	json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
	if (!d)
		fail_msg("bad JSON: %s: %s", err, out);
	cairn_free(out);
	return d;
}

static void test_create_and_show(void **st)
{
	unit_store u;
	unit_store_open(&u);
	const char *tags[] = {"baseline", "gpu"};
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.project = "salt";
	o.tags = tags;
	o.ntags = 2;
	o.command = "python train.py --lr 0.1";
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, &o));
	assert_int_equal(strlen(cairn_run_id(r)), 32);
	assert_int_equal(cairn_run_seq(r), 1);
	assert_string_equal(cairn_run_project(r), "salt");
	assert_non_null(strchr(cairn_run_name(r), '-'));

	cairn_value v = {CAIRN_TYPE_FLOAT, 0, 0.1, NULL};
	assert_ok(cairn_run_log_param(r, "optimizer.lr", &v));
	assert_ok(cairn_run_log_param(r, "optimizer.lr", &v)); /* same value: fine */
	v.f = 0.2;
	assert_int_equal(cairn_run_log_param(r, "optimizer.lr", &v), CAIRN_ECONFLICT);
	assert_non_null(strstr(cairn_error_last(), "write-once"));
	assert_ok(cairn_run_set_param(r, "optimizer.lr", &v)); /* explicit override */
	assert_ok(cairn_run_log_param_text(r, "epochs", "10"));
	assert_ok(cairn_run_log_param_text(r, "model", "lgbm"));
	assert_ok(cairn_run_log_param_text(r, "shuffle", "true"));
	cairn_value whole = {CAIRN_TYPE_FLOAT, 0, 2.0, NULL};
	assert_ok(cairn_run_log_param(r, "momentum", &whole));
	assert_ok(cairn_run_set_property(r, "data_version", "v3"));
	assert_ok(cairn_run_set_note(r, "first try"));
	for (int i = 0; i < 5; i++)
		assert_ok(cairn_run_log_metric(r, "loss", 1.0 / (i + 1), CAIRN_STEP_AUTO, 0));
	assert_ok(cairn_run_log_metric(r, "weird", NAN, 0, 0));
	assert_ok(cairn_run_log_metric(r, "weird", INFINITY, 1, 0));
	assert_ok(cairn_run_log_metric(r, "weird", -INFINITY, 2, 0));
	assert_ok(cairn_run_finish(r, CAIRN_STATUS_FINISHED, 0));

	json_doc *d = run_json(u.s, cairn_run_id(r));
	const json *j = json_root(d);
	assert_string_equal(json_get_str(j, "status"), "finished");
	assert_string_equal(json_get_str(j, "project"), "salt");
	assert_string_equal(json_get_str(j, "command"), "python train.py --lr 0.1");
	assert_string_equal(json_get_str(j, "note"), "first try");
	const json *p = json_get(j, "params");
	assert_true(json_get(p, "optimizer.lr")->num == 0.2);
	assert_true(json_get(p, "epochs")->is_int);
	assert_int_equal(json_get(p, "epochs")->i, 10);
	assert_string_equal(json_get_str(p, "model"), "lgbm");
	assert_int_equal(json_get(p, "shuffle")->type, JSON_BOOL);
	assert_false(json_get(p, "momentum")->is_int); /* 2.0 stays a float */
	const json *m = json_get(json_get(j, "metrics"), "loss");
	double x;
	assert_true(json_get_num(m, "last", &x) && x == 0.2);
	assert_true(json_get_num(m, "min", &x) && x == 0.2);
	assert_true(json_get_num(m, "max", &x) && x == 1.0);
	assert_int_equal(json_get(m, "count")->i, 5);
	assert_int_equal(json_get(m, "step")->i, 4);
	const json *w = json_get(json_get(j, "metrics"), "weird");
	assert_true(json_get_num(w, "last", &x) && isinf(x) && x < 0);
	assert_true(json_get_num(w, "max", &x) && isinf(x) && x > 0);
	assert_int_equal(json_get(w, "count")->i, 3);
	assert_int_equal(json_get(j, "tags")->len, 2);
	assert_string_equal(json_get_str(json_get(j, "properties"), "data_version"), "v3");
	json_doc_free(d);

	char *hist = NULL;
	assert_ok(cairn_run_metric_history_json(&hist, u.s, cairn_run_id(r), "weird"));
	assert_non_null(strstr(hist, "\"NaN\""));
	assert_non_null(strstr(hist, "\"-Infinity\""));
	cairn_free(hist);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* A batch interleaving series, written grouped by series and many rows to a
 * statement (sqlite/metrics.c), keeps each series whole and in step order,
 * and a duplicate of (step, timestamp) later in the batch — rows and
 * statements apart — still replaces the earlier point. */
static void test_metric_batch_interleaved(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	static const char *const keys[] = {"a", "b", "c"};
	enum { STEPS = 333 };
	for (int i = 0; i < STEPS; i++)
		for (int k = 0; k < 3; k++)
			assert_ok(cairn_run_log_metric(r, keys[k], k * 1000 + i, i, 1000.0 + i));
	/* the same (step, ts) again, 200 points after the first: the later wins */
	for (int i = 0; i < 5; i++)
		assert_ok(cairn_run_log_metric(r, "b", -1 - i, 100 + i, 1000.0 + 100 + i));
	assert_ok(cairn_run_flush(r));
	for (int k = 0; k < 3; k++) {
		char *hist = NULL, err[128];
		assert_ok(cairn_run_metric_history_json(&hist, u.s, cairn_run_id(r), keys[k]));
		json_doc *d = json_parse(hist, strlen(hist), NULL, err, sizeof err);
		if (!d)
			fail_msg("bad JSON: %s: %s", err, hist);
		const json *pts = json_root(d);
		assert_int_equal(pts->len, STEPS);
		int i = 0;
		for (const json *p = pts->child; p; p = p->next, i++) {
			double v, want = k * 1000 + i;
			if (k == 1 && i >= 100 && i < 105)
				want = -1 - (i - 100);
			assert_int_equal(p->child->i, i);
			assert_true(json_num_value(p->child->next->next, &v));
			if (v != want)
				fail_msg("%s step %d: %g, want %g", keys[k], i, v, want);
		}
		json_doc_free(d);
		cairn_free(hist);
	}
	cairn_run_free(r);
	unit_store_close(&u);
}

/* A point logged again at the same step and timestamp replaces the stored
 * one, whether the two are in one batch or in two (on PostgreSQL: the binary
 * COPY fails on the key and the batch goes through the staging table); NaN
 * and ±Inf come back as they went in. */
static void test_metric_point_replaced(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_metric(r, "m", 1, 1, 100.0));
	assert_ok(cairn_run_log_metric(r, "m", 2, 1, 100.0)); /* the same batch */
	assert_ok(cairn_run_log_metric(r, "m", INFINITY, 2, 100.0));
	assert_ok(cairn_run_flush(r));
	assert_ok(cairn_run_log_metric(r, "m", 3, 1, 100.0)); /* a later batch */
	assert_ok(cairn_run_log_metric(r, "m", NAN, 3, 100.0));
	assert_ok(cairn_run_log_metric(r, "m", -0.5, 1, 100.5)); /* another timestamp */
	assert_ok(cairn_run_flush(r));
	char *hist = NULL, err[128];
	assert_ok(cairn_run_metric_history_json(&hist, u.s, cairn_run_id(r), "m"));
	json_doc *d = json_parse(hist, strlen(hist), NULL, err, sizeof err);
	if (!d)
		fail_msg("bad JSON: %s: %s", err, hist);
	const json *pts = json_root(d); /* [[step, timestamp, value], ...] */
	assert_int_equal(pts->type, JSON_ARR);
	assert_int_equal(pts->len, 4);
	static const double want[4] = {3, -0.5, INFINITY, NAN};
	int i = 0;
	for (const json *p = pts->child; p; p = p->next, i++) {
		double v;
		assert_true(json_num_value(p->child->next->next, &v));
		if (isnan(want[i]))
			assert_true(isnan(v));
		else
			assert_true(v == want[i]);
	}
	json_doc_free(d);
	cairn_free(hist);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_lookup_prefix(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *a, *b;
	assert_ok(cairn_run_create(&a, u.s, NULL));
	assert_ok(cairn_run_create(&b, u.s, NULL));
	char id[33], pre[9];
	memcpy(pre, cairn_run_id(a), 8);
	pre[8] = '\0';
	assert_ok(cairn_run_resolve(id, u.s, pre));
	assert_string_equal(id, cairn_run_id(a));
	/* upper case works too */
	for (int i = 0; i < 8; i++)
		if (pre[i] >= 'a')
			pre[i] = (char)(pre[i] - 32);
	assert_ok(cairn_run_resolve(id, u.s, pre));
	assert_ok(cairn_run_resolve(id, u.s, cairn_run_name(b)));
	assert_string_equal(id, cairn_run_id(b));
	assert_int_equal(cairn_run_resolve(id, u.s, "ffffffffffff"), CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "no run 'ffffffffffff'"));
	assert_int_equal(cairn_run_resolve(id, u.s, ""), CAIRN_EINVALID);
	/* force an ambiguous prefix: rewrite both ids to share 6 digits */
	free(unit_store_sql(&u, "UPDATE runs SET id = 'abcdef' || substr(id, 7)"));
	assert_int_equal(cairn_run_resolve(id, u.s, "abcdef"), CAIRN_EAMBIGUOUS);
	assert_non_null(strstr(cairn_error_last(), "ambiguous"));
	cairn_run_free(a);
	cairn_run_free(b);
	unit_store_close(&u);
}

/* A string that is one run's exact name and a prefix of another's id is
 * ambiguous (both named in the error); a full id is always exact. */
static void test_lookup_name_versus_prefix(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *a, *b, *c;
	assert_ok(cairn_run_create(&a, u.s, NULL));
	assert_ok(cairn_run_create(&b, u.s, NULL));
	assert_ok(cairn_run_create(&c, u.s, NULL));
	char id[33], pre[9];
	memcpy(pre, cairn_run_id(a), 8);
	pre[8] = '\0';
	assert_ok(cairn_run_set_name(b, pre));
	assert_int_equal(cairn_run_resolve(id, u.s, pre), CAIRN_EAMBIGUOUS);
	assert_non_null(strstr(cairn_error_last(), "ambiguous"));
	assert_non_null(strstr(cairn_error_last(), cairn_run_id(a)));
	assert_non_null(strstr(cairn_error_last(), cairn_run_id(b)));
	/* more digits settle it; so does the other run's id */
	char pre9[10];
	memcpy(pre9, cairn_run_id(a), 9);
	pre9[9] = '\0';
	assert_ok(cairn_run_resolve(id, u.s, pre9));
	assert_string_equal(id, cairn_run_id(a));
	assert_ok(cairn_run_resolve(id, u.s, cairn_run_id(b)));
	assert_string_equal(id, cairn_run_id(b));
	/* a full id is exact, even when another run is named by it */
	assert_ok(cairn_run_set_name(c, cairn_run_id(a)));
	assert_ok(cairn_run_resolve(id, u.s, cairn_run_id(a)));
	assert_string_equal(id, cairn_run_id(a));
	/* a 32-hex name that is no run's id still finds its run */
	char fake[33];
	memset(fake, 'f', 32);
	fake[32] = '\0';
	assert_ok(cairn_run_set_name(c, fake));
	assert_ok(cairn_run_resolve(id, u.s, fake));
	assert_string_equal(id, cairn_run_id(c));
	/* a run named by its own prefix is not ambiguous */
	assert_ok(cairn_run_set_name(b, "x"));
	memcpy(pre, cairn_run_id(a), 8);
	assert_ok(cairn_run_set_name(a, pre));
	assert_ok(cairn_run_resolve(id, u.s, pre));
	assert_string_equal(id, cairn_run_id(a));
	/* a deleted run is no candidate */
	assert_ok(cairn_run_set_name(b, pre));
	assert_int_equal(cairn_run_resolve(id, u.s, pre), CAIRN_EAMBIGUOUS);
	assert_ok(cairn_run_delete(u.s, cairn_run_id(b), 0));
	assert_ok(cairn_run_resolve(id, u.s, pre));
	assert_string_equal(id, cairn_run_id(a));
	/* two runs with one name */
	assert_ok(cairn_run_set_name(c, "twin"));
	assert_ok(cairn_run_set_name(a, "twin"));
	assert_int_equal(cairn_run_resolve(id, u.s, "twin"), CAIRN_EAMBIGUOUS);
	assert_non_null(strstr(cairn_error_last(), "run name 'twin' is ambiguous"));
	cairn_run_free(a);
	cairn_run_free(b);
	cairn_run_free(c);
	unit_store_close(&u);
}

static void test_sequence_and_projects(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	for (int i = 1; i <= 3; i++) {
		cairn_run *r;
		o.project = (i == 2) ? "other" : "p1";
		assert_ok(cairn_run_create(&r, u.s, &o));
		assert_int_equal(cairn_run_seq(r), i == 3 ? 2 : 1);
		cairn_run_free(r);
	}
	o.project = "bad\nname";
	cairn_run *r = NULL;
	assert_int_equal(cairn_run_create(&r, u.s, &o), CAIRN_EINVALID);
	assert_null(r);
	o.project = NULL;
	o.version = 99;
	assert_int_equal(cairn_run_create(&r, u.s, &o), CAIRN_EINVALID);
	unit_store_close(&u);
}

static void test_artifacts_and_images(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	char path[4200];
	snprintf(path, sizeof path, "%s/model.bin", u.dir);
	FILE *f = fopen(path, "wb");
	fputs("weights", f);
	fclose(f);
	assert_ok(cairn_run_log_artifact(r, path, NULL));
	assert_ok(cairn_run_log_artifact(r, path, "models/final.bin"));
	assert_int_equal(cairn_run_log_artifact(r, path, "../escape"), CAIRN_EINVALID);
	assert_int_equal(cairn_run_log_artifact(r, "/nonexistent/file", NULL), CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "/nonexistent/file"));
	/* a directory is stored recursively */
	char dir[4200], sub[4300];
	snprintf(dir, sizeof dir, "%s/outdir", u.dir);
	mkdir(dir, 0777);
	snprintf(sub, sizeof sub, "%s/a.txt", dir);
	f = fopen(sub, "w");
	fputs("a", f);
	fclose(f);
	assert_ok(cairn_run_log_artifact(r, dir, NULL));
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
	assert_ok(cairn_run_log_image_buf(r, "confusion", png, sizeof png, 3));
	assert_int_equal(cairn_run_log_image_buf(r, "x", "hello", 5, CAIRN_STEP_AUTO),
	                 CAIRN_EINVALID);
	assert_ok(cairn_run_log_artifact_buf(r, "text", 4, "notes/n.txt", NULL));
	char *out;
	assert_ok(cairn_run_get_json(&out, u.s, cairn_run_id(r)));
	assert_non_null(strstr(out, "\"path\":\"model.bin\""));
	assert_non_null(strstr(out, "\"path\":\"models/final.bin\""));
	assert_non_null(strstr(out, "\"path\":\"outdir/a.txt\""));
	assert_non_null(strstr(out, "\"path\":\"images/confusion/00000003.png\""));
	assert_non_null(strstr(out, "\"media_type\":\"image/png\""));
	assert_null(strstr(out, "escape"));
	cairn_free(out);
	/* the object is whole, read-only, and named by its SHA-256 */
	char *op;
	assert_int_equal(
	    cairn_object_path(&op, u.s,
	                      "ebeee0eef4ec7a8a7b1d4c7d4ae3f6b4ac6a8a7e0be2d8b0c7b8c1d8b0e5c2a1"),
	    CAIRN_ENOTFOUND);
	char oid[65];
	assert_ok(cairn_object_put_buf(oid, u.s, "abc", 3));
	assert_string_equal(oid,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_ok(cairn_object_path(&op, u.s, oid));
	struct stat sb;
	assert_int_equal(stat(op, &sb), 0);
	assert_int_equal(sb.st_mode & 0222, 0);
	cairn_free(op);
	assert_int_equal(cairn_object_path(&op, u.s, "../../etc/passwd"), CAIRN_EINVALID);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_delete_and_purge(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *a, *b;
	assert_ok(cairn_run_create(&a, u.s, NULL));
	assert_ok(cairn_run_create(&b, u.s, NULL));
	assert_ok(cairn_run_log_artifact_buf(a, "shared", 6, "s.txt", NULL));
	assert_ok(cairn_run_log_artifact_buf(b, "shared", 6, "s.txt", NULL));
	assert_ok(cairn_run_log_artifact_buf(a, "only-a", 6, "a.txt", NULL));
	assert_ok(cairn_run_log_metric(a, "m", 1, 0, 0));
	char ida[33], oid_shared[65], oid_a[65];
	strcpy(ida, cairn_run_id(a));
	cairn_object_put_buf(oid_shared, u.s, "shared", 6);
	cairn_object_put_buf(oid_a, u.s, "only-a", 6);
	cairn_run_free(a);
	/* soft delete: hidden, not found, but still purgeable */
	assert_ok(cairn_run_delete(u.s, ida, 0));
	char id[33], *p;
	assert_int_equal(cairn_run_resolve(id, u.s, ida), CAIRN_ENOTFOUND);
	char *list;
	assert_ok(cairn_run_list_json(&list, u.s, NULL));
	assert_null(strstr(list, ida));
	cairn_free(list);
	cairn_list_options lo = CAIRN_LIST_OPTIONS_INIT;
	lo.include_deleted = 1;
	assert_ok(cairn_run_list_json(&list, u.s, &lo));
	assert_non_null(strstr(list, ida));
	cairn_free(list);
	assert_ok(cairn_run_delete(u.s, ida, 1));
	assert_int_equal(cairn_object_path(&p, u.s, oid_a), CAIRN_ENOTFOUND);
	assert_ok(cairn_object_path(&p, u.s, oid_shared)); /* b still uses it */
	cairn_free(p);
	/* the planner's run count, kept by triggers, follows inserts and purges
	 * (PostgreSQL: statement-level, migration 7) */
	char *n = unit_store_sql(&u, "SELECT (SELECT n FROM run_count) || ' ' || count(*) "
	                             "FROM runs");
	assert_non_null(n);
	assert_int_equal(strncmp(n, "1 1", 3), 0);
	free(n);
	cairn_run_free(b);
	unit_store_close(&u);
}

static void test_migrations(void **st)
{
	char *dir = unit_tmpdir();
	char sd[4200], db[4300];
	snprintf(sd, sizeof sd, "%s/.cairn", dir);
	mkdir(sd, 0777);
	snprintf(db, sizeof db, "%s/cairn.db", sd);
	/* Build a version-1 store by hand (the first migration only). */
	{
		cairn_store tmp;
		memset(&tmp, 0, sizeof tmp);
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&tmp.lock, &a);
		tmp.dir = sd;
		sqlite_be be = {0};
		tmp.ops = &store_sqlite_ops;
		tmp.be = &be;
		assert_int_equal(sqlite3_open(db, &be.db), 0);
		assert_ok(store_migrate(&tmp, 1));
		int v;
		assert_ok(store_schema_version(&tmp, &v));
		assert_int_equal(v, 1);
		sqlite3_close(be.db);
		pthread_mutex_destroy(&tmp.lock);
	}
	cairn_store *s;
	assert_ok(cairn_store_open(&s, sd));
	int v;
	assert_ok(store_schema_version(s, &v));
	assert_int_equal(v, store_schema_latest());
	cairn_run *r;
	assert_ok(cairn_run_create(&r, s, NULL));
	cairn_run_free(r);
	assert_ok(cairn_store_check(s));
	cairn_store_close(s);
	/* A store from the future is refused, untouched. */
	sqlite3 *raw;
	assert_int_equal(sqlite3_open(db, &raw), 0);
	assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 999", 0, 0, 0), 0);
	sqlite3_close(raw);
	assert_int_equal(cairn_store_open(&s, sd), CAIRN_ESTORE);
	assert_non_null(strstr(cairn_error_last(), "schema version 999"));
	unit_rmrf(dir);
	free(dir);
}

static void test_bad_store_files(void **st)
{
	char *dir = unit_tmpdir();
	char sd[4200], db[4300];
	snprintf(sd, sizeof sd, "%s/.cairn", dir);
	mkdir(sd, 0777);
	snprintf(db, sizeof db, "%s/cairn.db", sd);
	FILE *f = fopen(db, "w");
	fputs("this is not a database, just some text that is long enough to matter..........."
	      "................................................................................",
	      f);
	fclose(f);
	cairn_store *s = NULL;
	assert_int_equal(cairn_store_open(&s, sd), CAIRN_ESTORE);
	assert_non_null(strstr(cairn_error_last(), "is not a cairn store"));
	assert_null(s);
	/* a foreign SQLite database */
	unlink(db);
	sqlite3 *raw;
	assert_int_equal(sqlite3_open(db, &raw), 0);
	assert_int_equal(sqlite3_exec(raw, "CREATE TABLE t(x)", 0, 0, 0), 0);
	sqlite3_close(raw);
	assert_int_equal(cairn_store_open(&s, sd), CAIRN_ESTORE);
	assert_non_null(strstr(cairn_error_last(), "another program"));
	/* a missing explicit store */
	char missing[4300];
	snprintf(missing, sizeof missing, "%s/nope", dir);
	assert_int_equal(cairn_store_open(&s, missing), CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "no such directory"));
	unit_rmrf(dir);
	free(dir);
}

typedef struct logger_arg {
	cairn_run *r;
	int id;
	int n;
} logger_arg;

static void *logger(void *p)
{
	logger_arg *a = p;
	char key[32];
	snprintf(key, sizeof key, "t%d", a->id);
	for (int i = 0; i < a->n; i++)
		if (cairn_run_log_metric(a->r, key, i, i, 0) != 0)
			return (void *)1;
	return NULL;
}

static void test_writer_threads_and_backpressure(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	/* 4 threads x 200k points: more than the writer's buffer holds, so the
	 * producers must wait for the flusher; nothing may be dropped. */
	pthread_t th[4];
	logger_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (logger_arg){r, i, 200000};
		pthread_create(&th[i], NULL, logger, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	assert_ok(cairn_run_flush(r));
	char *out;
	assert_ok(cairn_run_get_json(&out, u.s, cairn_run_id(r)));
	char err[64];
	json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
	const json *m = json_get(json_root(d), "metrics");
	for (int i = 0; i < 4; i++) {
		char key[32];
		snprintf(key, sizeof key, "t%d", i);
		assert_int_equal(json_get(json_get(m, key), "count")->i, 200000);
		assert_int_equal(json_get(json_get(m, key), "step")->i, 199999);
	}
	json_doc_free(d);
	cairn_free(out);
	assert_int_equal(cairn_run_log_metric(r, "x", 1, -5, 0), CAIRN_EINVALID);
	assert_int_equal(cairn_run_log_metric(r, "", 1, 0, 0), CAIRN_EINVALID);
	assert_int_equal(cairn_run_finish(r, CAIRN_STATUS_RUNNING, 0), CAIRN_EINVALID);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_attach_continues_steps(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r, *r2;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_metric(r, "loss", 1, CAIRN_STEP_AUTO, 0));
	assert_ok(cairn_run_log_metric(r, "loss", 2, CAIRN_STEP_AUTO, 0));
	assert_ok(cairn_run_flush(r));
	assert_ok(cairn_run_open(&r2, u.s, cairn_run_id(r)));
	assert_ok(cairn_run_log_metric(r2, "loss", 3, CAIRN_STEP_AUTO, 0));
	assert_ok(cairn_run_flush(r2));
	char *h;
	assert_ok(cairn_run_metric_history_json(&h, u.s, cairn_run_id(r), "loss"));
	assert_non_null(strstr(h, "[2,"));
	cairn_free(h);
	cairn_run_free(r2);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_store_discovery(void **st)
{
	char *dir = unit_tmpdir();
	char *sd;
	assert_ok(cairn_store_init(&sd, dir));
	assert_int_equal(cairn_store_init(NULL, dir), CAIRN_EEXISTS);
	char sub[4200], cwd[4200];
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
	assert_int_equal(system(cmd), 0);
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(sub), 0);
	unsetenv("CAIRN_DIR");
	char *found;
	assert_ok(cairn_store_find(&found, NULL));
	assert_string_equal(found, sd);
	cairn_free(found);
	setenv("CAIRN_DIR", "/somewhere/else", 1);
	assert_ok(cairn_store_find(&found, NULL));
	assert_string_equal(found, "/somewhere/else");
	cairn_free(found);
	assert_ok(cairn_store_find(&found, "/explicit"));
	assert_string_equal(found, "/explicit");
	cairn_free(found);
	unsetenv("CAIRN_DIR");
	/* no .cairn above: the per-user store under XDG_DATA_HOME */
	assert_int_equal(chdir("/"), 0);
	setenv("XDG_DATA_HOME", dir, 1);
	assert_ok(cairn_store_find(&found, NULL));
	char want[4300];
	snprintf(want, sizeof want, "%s/cairn", dir);
	assert_string_equal(found, want);
	cairn_free(found);
	cairn_store *s;
	assert_ok(cairn_store_open(&s, NULL)); /* created on demand */
	cairn_store_close(s);
	unsetenv("XDG_DATA_HOME");
	assert_int_equal(chdir(cwd), 0);
	cairn_free(sd);
	unit_rmrf(dir);
	free(dir);
}

/* A `.cairn` that is a file or a dangling link is an error for init and for
 * discovery (never a silent fall-back to the per-user store); a link to a
 * store directory is that store. */
static void test_store_not_a_directory(void **st)
{
	char *dir = unit_tmpdir();
	char cwd[4200], sd[4300], sub[4300], real[4300], *found = NULL, *made = NULL;
	snprintf(sd, sizeof sd, "%s/.cairn", dir);
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	char cmd[4400];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
	assert_int_equal(system(cmd), 0);
	assert_non_null(getcwd(cwd, sizeof cwd));
	unsetenv("CAIRN_DIR");
	setenv("XDG_DATA_HOME", dir, 1); /* a fall-back would land in dir/cairn */
	assert_int_equal(chdir(sub), 0);
	for (int kind = 0; kind < 2; kind++) {
		if (kind == 0) {
			FILE *f = fopen(sd, "w");
			fputs("not a store", f);
			fclose(f);
		} else {
			assert_int_equal(symlink("/nonexistent/cairn-store", sd), 0);
		}
		assert_int_equal(cairn_store_init(&made, dir), CAIRN_EEXISTS);
		assert_null(made);
		assert_non_null(
		    strstr(cairn_error_last(), kind ? "does not exist" : "regular file"));
		assert_int_equal(cairn_store_find(&found, NULL), CAIRN_ESTORE);
		assert_null(found);
		assert_non_null(strstr(cairn_error_last(), "is not a store directory"));
		cairn_store *s = NULL;
		assert_int_equal(cairn_store_open(&s, NULL), CAIRN_ESTORE);
		assert_null(s);
		assert_int_equal(unlink(sd), 0);
	}
	char fallback[4300];
	snprintf(fallback, sizeof fallback, "%s/cairn", dir);
	assert_int_equal(access(fallback, F_OK), -1); /* no per-user store was made */
	/* a link to a real store directory works as before */
	snprintf(real, sizeof real, "%s/real", dir);
	mkdir(real, 0777);
	assert_ok(cairn_store_init(&made, real));
	assert_int_equal(symlink(made, sd), 0);
	cairn_free(made);
	assert_int_equal(cairn_store_init(&made, dir), CAIRN_EEXISTS);
	assert_string_equal(made, sd);
	cairn_free(made);
	assert_ok(cairn_store_find(&found, NULL));
	assert_string_equal(found, sd);
	cairn_free(found);
	cairn_store *s;
	assert_ok(cairn_store_open(&s, NULL));
	cairn_run *r;
	assert_ok(cairn_run_create(&r, s, NULL));
	cairn_run_free(r);
	cairn_store_close(s);
	unsetenv("XDG_DATA_HOME");
	assert_int_equal(chdir(cwd), 0);
	unit_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_and_show),
	    cmocka_unit_test(test_metric_point_replaced),
	    cmocka_unit_test(test_metric_batch_interleaved),
	    cmocka_unit_test(test_lookup_prefix),
	    cmocka_unit_test(test_lookup_name_versus_prefix),
	    cmocka_unit_test(test_sequence_and_projects),
	    cmocka_unit_test(test_artifacts_and_images),
	    cmocka_unit_test(test_delete_and_purge),
	    cmocka_unit_test(test_migrations),
	    cmocka_unit_test(test_bad_store_files),
	    cmocka_unit_test(test_writer_threads_and_backpressure),
	    cmocka_unit_test(test_attach_continues_steps),
	    cmocka_unit_test(test_store_discovery),
	    cmocka_unit_test(test_store_not_a_directory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
