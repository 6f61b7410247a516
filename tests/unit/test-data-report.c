/*
 * tests/unit/test-data-report.c — the data module's typed results:
 * cairn_hash_result, cairn_data_diff and cairn_data_listing.  Each is checked
 * field by field against the JSON its `*_json` wrapper writes (which is
 * written from it), and on its failure paths: NULL arguments, an unknown run
 * or dataset, a path where only stored versions are allowed.  Accessors and
 * frees are NULL-safe.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include "unit.h"
#include "util/json.h"

static void put(const char *dir, const char *rel, const char *text)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
	*slash = '/';
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *join(const char *a, const char *b)
{
	char *p = malloc(strlen(a) + strlen(b) + 2);
	sprintf(p, "%s/%s", a, b);
	return p;
}

static json_doc *parse(const char *text)
{
	char err[128];
	json_doc *doc = json_parse(text, strlen(text), NULL, err, sizeof err);
	if (!doc)
		fail_msg("bad JSON: %s", err);
	return doc;
}

static void same_str(const char *typed, const json *v)
{
	if (!typed)
		assert_true(!v || v->type == JSON_NULL);
	else
		assert_string_equal(typed, v->str);
}

/* --- hash ------------------------------------------------------------------------- */

static void expect_problems(const cairn_hash_result *r, bool errors, const json *list,
                            const char *key)
{
	size_t n = errors ? cairn_hash_result_error_count(r) : cairn_hash_result_skipped_count(r);
	assert_int_equal(n, list->len);
	const json *e = list->child;
	for (size_t i = 0; i < n; i++, e = e->next) {
		const cairn_data_problem *p =
		    errors ? cairn_hash_result_error(r, i) : cairn_hash_result_skipped(r, i);
		assert_string_equal(p->path, json_get_str(e, "path"));
		assert_string_equal(p->message, json_get_str(e, key));
	}
	assert_null(errors ? cairn_hash_result_error(r, n) : cairn_hash_result_skipped(r, n));
}

static void test_hash_result_agrees_with_json(void **state)
{
	(void)state;
	char *d = unit_tmpdir(), *root = join(d, "data");
	put(root, "a.txt", "alpha\n");
	put(root, "sub/b.txt", "beta beta\n");
	char *fifo = join(root, "pipe");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	char *link = join(root, "ln");
	assert_int_equal(symlink("a.txt", link), 0);
	static const char *const algos[] = {NULL, "sha256", "md5"};
	for (int k = 0; k < 3; k++) {
		cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
		o.algo = algos[k];
		cairn_hash_result *r = NULL;
		char *out = NULL;
		assert_ok(cairn_hash_path_result(&r, NULL, root, &o));
		assert_ok(cairn_hash_path(&out, NULL, NULL, root, &o));
		json_doc *doc = parse(out);
		const json *j = json_root(doc);
		assert_string_equal(cairn_hash_result_path(r), root);
		same_str(cairn_hash_result_path(r), json_get(j, "path"));
		same_str(cairn_hash_result_algo(r), json_get(j, "algo"));
		same_str(cairn_hash_result_digest(r), json_get(j, "digest"));
		assert_non_null(cairn_hash_result_digest(r));
		assert_int_equal(cairn_hash_result_files(r), json_get(j, "files")->i);
		assert_int_equal(cairn_hash_result_files(r), 3); /* two files and the link */
		assert_int_equal(cairn_hash_result_bytes(r), json_get(j, "bytes")->i);
		expect_problems(r, true, json_get(j, "errors"), "error");
		expect_problems(r, false, json_get(j, "skipped"), "reason");
		assert_int_equal(cairn_hash_result_skipped_count(r), 1);
		const cairn_hash_stats *st = cairn_hash_result_stats(r);
		assert_non_null(st);
		assert_int_equal(st->files_read, json_get(json_get(j, "stats"), "files_read")->i);
		json_doc_free(doc);
		cairn_free(out);
		cairn_hash_result_free(r);
	}
	/* A single file: its own digest, one entry. */
	char *a = join(root, "a.txt");
	cairn_hash_result *r = NULL;
	char *out = NULL;
	assert_ok(cairn_hash_path_result(&r, NULL, a, NULL));
	assert_ok(cairn_hash_path_json(&out, NULL, a, NULL));
	json_doc *doc = parse(out);
	same_str(cairn_hash_result_digest(r), json_get(json_root(doc), "digest"));
	assert_int_equal(cairn_hash_result_files(r), 1);
	assert_int_equal(cairn_hash_result_bytes(r), 6);
	json_doc_free(doc);
	cairn_free(out);
	cairn_hash_result_free(r);
	free(a);
	free(fifo);
	free(link);
	free(root);
	unit_rmrf(d);
	free(d);
}

static void test_hash_result_failures(void **state)
{
	(void)state;
	cairn_hash_result *r = (cairn_hash_result *)&r; /* must be reset */
	assert_int_equal(cairn_hash_path_result(NULL, NULL, "/", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_hash_path_result(&r, NULL, NULL, NULL), CAIRN_EINVALID);
	assert_null(r);
	char *d = unit_tmpdir(), *missing = join(d, "nothing-here");
	assert_int_not_equal(cairn_hash_path_result(&r, NULL, missing, NULL), 0);
	assert_null(r);
	assert_non_null(strstr(cairn_error_last(), "nothing-here"));
	cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
	o.algo = "crc32";
	assert_int_equal(cairn_hash_path_result(&r, NULL, d, &o), CAIRN_EINVALID);
	assert_null(r);
	/* Accessors and free on NULL. */
	assert_null(cairn_hash_result_path(NULL));
	assert_null(cairn_hash_result_algo(NULL));
	assert_null(cairn_hash_result_digest(NULL));
	assert_int_equal(cairn_hash_result_files(NULL), 0);
	assert_int_equal(cairn_hash_result_bytes(NULL), 0);
	assert_null(cairn_hash_result_stats(NULL));
	assert_int_equal(cairn_hash_result_error_count(NULL), 0);
	assert_null(cairn_hash_result_error(NULL, 0));
	assert_int_equal(cairn_hash_result_skipped_count(NULL), 0);
	assert_null(cairn_hash_result_skipped(NULL, 0));
	cairn_hash_result_free(NULL);
	free(missing);
	unit_rmrf(d);
	free(d);
}

/* --- diff ------------------------------------------------------------------------- */

static void expect_side(const cairn_data_side *s, const json *v)
{
	if (!s) {
		assert_int_equal(v->type, JSON_NULL);
		return;
	}
	assert_int_equal(v->type, JSON_OBJ);
	same_str(s->digest, json_get(v, "digest"));
	assert_int_equal(s->files, json_get(v, "files")->i);
	assert_int_equal(s->bytes, json_get(v, "bytes")->i);
	same_str(s->path, json_get(v, "path"));
	same_str(s->manifest, json_get(v, "manifest"));
}

static void expect_list(const char *const *l, size_t n, const json *v)
{
	assert_int_equal(n, v->len);
	const json *e = v->child;
	for (size_t i = 0; i < n; i++, e = e->next)
		assert_string_equal(l[i], e->str);
}

/* The typed diff of a and b (stored: cairn_data_diff_stored) against the JSON
 * wrapper's; returns the number of pairs. */
static size_t expect_diff_agrees(cairn_store *s, const char *a, const char *b, bool stored)
{
	cairn_data_diff *d = NULL;
	char *out = NULL;
	if (stored) {
		assert_ok(cairn_data_diff_stored(&d, s, a, b));
		assert_ok(cairn_data_diff_stored_json(&out, s, a, b));
	} else {
		assert_ok(cairn_data_diff_new(&d, s, a, b));
		assert_ok(cairn_data_diff_json(&out, s, a, b));
	}
	json_doc *doc = parse(out);
	const json *ds = json_get(json_root(doc), "datasets");
	size_t n = cairn_data_diff_count(d);
	assert_int_equal(n, ds->len);
	const json *e = ds->child;
	for (size_t i = 0; i < n; i++, e = e->next) {
		const cairn_data_pair *p = cairn_data_diff_get(d, i);
		same_str(p->name, json_get(e, "name"));
		assert_int_equal(!!p->same, json_get(e, "same")->b);
		expect_side(p->a, json_get(e, "a"));
		expect_side(p->b, json_get(e, "b"));
		expect_list(p->added, p->nadded, json_get(e, "added"));
		expect_list(p->removed, p->nremoved, json_get(e, "removed"));
		expect_list(p->changed, p->nchanged, json_get(e, "changed"));
	}
	assert_null(cairn_data_diff_get(d, n));
	json_doc_free(doc);
	cairn_free(out);
	cairn_data_diff_free(d);
	return n;
}

typedef struct two_runs {
	unit_store u;
	char *a, *b;
	char id1[CAIRN_RUN_ID_HEXSZ + 1], id2[CAIRN_RUN_ID_HEXSZ + 1];
} two_runs;

static void two_runs_open(two_runs *t)
{
	unit_store_open(&t->u);
	t->a = join(t->u.dir, "a");
	t->b = join(t->u.dir, "b");
	put(t->a, "same.txt", "same\n");
	put(t->a, "gone.txt", "gone\n");
	put(t->a, "sub/edit.txt", "v1\n");
	put(t->b, "same.txt", "same\n");
	put(t->b, "sub/edit.txt", "v2 longer\n");
	put(t->b, "sub/new.txt", "new\n");
	char *ln = join(t->b, "ln");
	assert_int_equal(symlink("same.txt", ln), 0);
	free(ln);
	cairn_run *r1 = NULL, *r2 = NULL;
	assert_ok(cairn_run_create(&r1, t->u.s, NULL));
	assert_ok(cairn_run_create(&r2, t->u.s, NULL));
	assert_ok(cairn_run_log_dataset(r1, "train", t->a, "input"));
	assert_ok(cairn_run_log_dataset(r1, "old", t->a, "input"));
	assert_ok(cairn_run_log_dataset(r2, "train", t->b, "input"));
	assert_ok(cairn_run_log_dataset(r2, "model", t->b, "output"));
	strcpy(t->id1, cairn_run_id(r1));
	strcpy(t->id2, cairn_run_id(r2));
	cairn_run_free(r1);
	cairn_run_free(r2);
}

static void two_runs_close(two_runs *t)
{
	free(t->a);
	free(t->b);
	unit_store_close(&t->u);
}

static void test_diff_agrees_with_json(void **state)
{
	(void)state;
	two_runs t;
	two_runs_open(&t);
	/* Two paths: one pair, no name; the lists in path order. */
	assert_int_equal(expect_diff_agrees(NULL, t.a, t.b, false), 1);
	cairn_data_diff *d = NULL;
	assert_ok(cairn_data_diff_new(&d, NULL, t.a, t.b));
	const cairn_data_pair *p = cairn_data_diff_get(d, 0);
	assert_null(p->name);
	assert_false(p->same);
	assert_int_equal(p->nadded, 2);
	assert_string_equal(p->added[0], "ln");
	assert_string_equal(p->added[1], "sub/new.txt");
	assert_int_equal(p->nremoved, 1);
	assert_string_equal(p->removed[0], "gone.txt");
	assert_int_equal(p->nchanged, 1);
	assert_string_equal(p->changed[0], "sub/edit.txt");
	assert_null(p->a->manifest);
	assert_int_equal(p->a->files, 3);
	cairn_data_diff_free(d);
	assert_int_equal(expect_diff_agrees(NULL, t.a, t.a, false), 1);
	/* Runs: paired by name (model only in b, old only in a). */
	assert_int_equal(expect_diff_agrees(t.u.s, t.id1, t.id2, false), 3);
	assert_int_equal(expect_diff_agrees(t.u.s, t.id1, t.id2, true), 3);
	char spec[80];
	snprintf(spec, sizeof spec, "%s:train", t.id2);
	assert_int_equal(expect_diff_agrees(t.u.s, t.a, spec, false), 1);
	assert_ok(cairn_data_diff_stored(&d, t.u.s, t.id1, t.id2));
	for (size_t i = 0; i < cairn_data_diff_count(d); i++) {
		p = cairn_data_diff_get(d, i);
		if (strcmp(p->name, "model") == 0) {
			assert_null(p->a);
			assert_non_null(p->b->manifest);
			assert_int_equal(p->nadded, 4);
		} else if (strcmp(p->name, "old") == 0) {
			assert_null(p->b);
			assert_int_equal(p->nremoved, 3);
		}
	}
	cairn_data_diff_free(d);
	two_runs_close(&t);
}

static void test_diff_failures(void **state)
{
	(void)state;
	two_runs t;
	two_runs_open(&t);
	cairn_data_diff *d = (cairn_data_diff *)&d; /* must be reset */
	assert_int_equal(cairn_data_diff_new(NULL, t.u.s, t.a, t.b), CAIRN_EINVALID);
	assert_int_equal(cairn_data_diff_stored(NULL, t.u.s, t.id1, t.id2), CAIRN_EINVALID);
	/* A stored diff needs a store and reads no path. */
	assert_int_equal(cairn_data_diff_stored(&d, NULL, t.id1, t.id2), CAIRN_EINVALID);
	assert_null(d);
	assert_int_equal(cairn_data_diff_stored(&d, t.u.s, t.a, t.id2), CAIRN_ENOTFOUND);
	assert_null(d);
	assert_int_equal(cairn_data_diff_new(&d, t.u.s, "no-such-run", t.id2), CAIRN_ENOTFOUND);
	assert_null(d);
	char spec[80];
	snprintf(spec, sizeof spec, "%s:nope", t.id1);
	assert_int_equal(cairn_data_diff_new(&d, t.u.s, spec, t.id2), CAIRN_ENOTFOUND);
	assert_null(d);
	assert_int_equal(cairn_data_diff_new(&d, t.u.s, NULL, t.id2), CAIRN_EINVALID);
	assert_null(d);
	/* Without a store only paths resolve. */
	assert_int_equal(cairn_data_diff_new(&d, NULL, t.id1, t.id2), CAIRN_ENOTFOUND);
	assert_null(d);
	/* A run with several datasets against one version must be named. */
	assert_int_equal(cairn_data_diff_new(&d, t.u.s, t.id2, t.a), CAIRN_EINVALID);
	assert_null(d);
	assert_non_null(strstr(cairn_error_last(), "RUN:NAME"));
	assert_int_equal(cairn_data_diff_new(&d, t.u.s, "", t.id2), CAIRN_EINVALID);
	assert_null(d);
	assert_int_equal(cairn_data_diff_count(NULL), 0);
	assert_null(cairn_data_diff_get(NULL, 0));
	cairn_data_diff_free(NULL);
	two_runs_close(&t);
}

/* --- show ------------------------------------------------------------------------- */

static void expect_show_agrees(cairn_store *s, const char *run, const char *name, int64_t limit)
{
	cairn_data_listing *l = NULL;
	char *out = NULL;
	assert_ok(cairn_data_show(&l, s, run, name, limit));
	assert_ok(cairn_data_show_json(&out, s, run, name, limit));
	json_doc *doc = parse(out);
	const json *root = json_root(doc), *ds = json_get(root, "datasets");
	same_str(cairn_data_listing_run(l), json_get(root, "run"));
	size_t n = cairn_data_listing_count(l);
	assert_int_equal(n, ds->len);
	const json *e = ds->child;
	for (size_t i = 0; i < n; i++, e = e->next) {
		const cairn_data_dataset *d = cairn_data_listing_get(l, i);
		same_str(d->name, json_get(e, "name"));
		same_str(d->path, json_get(e, "path"));
		same_str(d->role, json_get(e, "role"));
		same_str(d->algo, json_get(e, "algo"));
		same_str(d->digest, json_get(e, "digest"));
		same_str(d->manifest, json_get(e, "manifest"));
		same_str(d->error, json_get(e, "error"));
		assert_int_equal(d->files, json_get(e, "files")->i);
		assert_int_equal(d->bytes, json_get(e, "bytes")->i);
		assert_int_equal(!!d->truncated, json_get(e, "truncated")->b);
		const json *es = json_get(e, "entries"), *x = es->child;
		assert_int_equal(d->nentries, es->len);
		for (size_t k = 0; k < d->nentries; k++, x = x->next) {
			const cairn_manifest_entry *me = &d->entries[k];
			same_str(me->path, json_get(x, "path"));
			same_str(me->type, json_get(x, "type"));
			same_str(me->digest, json_get(x, "digest"));
			same_str(me->target, json_get(x, "target"));
			assert_int_equal(me->size, json_get(x, "size")->i);
		}
	}
	assert_null(cairn_data_listing_get(l, n));
	json_doc_free(doc);
	cairn_free(out);
	cairn_data_listing_free(l);
}

static void test_show_agrees_with_json(void **state)
{
	(void)state;
	two_runs t;
	two_runs_open(&t);
	for (int64_t limit = 0; limit <= 5; limit++) {
		expect_show_agrees(t.u.s, t.id1, NULL, limit);
		expect_show_agrees(t.u.s, t.id2, NULL, limit);
		expect_show_agrees(t.u.s, t.id2, "model", limit);
	}
	cairn_data_listing *l = NULL;
	assert_ok(cairn_data_show(&l, t.u.s, t.id2, "train", 0));
	assert_int_equal(cairn_data_listing_count(l), 1);
	const cairn_data_dataset *d = cairn_data_listing_get(l, 0);
	assert_string_equal(d->name, "train");
	assert_string_equal(d->role, "input");
	assert_string_equal(d->algo, "xxh128");
	assert_int_equal(d->nentries, 4);
	assert_false(d->truncated);
	assert_null(d->error);
	assert_string_equal(d->entries[0].path, "ln");
	assert_string_equal(d->entries[0].type, "link");
	assert_string_equal(d->entries[0].target, "same.txt");
	assert_string_equal(d->entries[1].type, "file");
	assert_null(d->entries[1].target);
	cairn_data_listing_free(l);
	assert_ok(cairn_data_show(&l, t.u.s, t.id2, "train", 2));
	d = cairn_data_listing_get(l, 0);
	assert_int_equal(d->nentries, 2);
	assert_true(d->truncated);
	cairn_data_listing_free(l);
	/* A run without datasets: an empty listing. */
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, t.u.s, NULL));
	assert_ok(cairn_data_show(&l, t.u.s, cairn_run_id(r), NULL, 0));
	assert_int_equal(cairn_data_listing_count(l), 0);
	assert_string_equal(cairn_data_listing_run(l), cairn_run_id(r));
	cairn_data_listing_free(l);
	cairn_run_free(r);
	two_runs_close(&t);
}

static void test_show_failures(void **state)
{
	(void)state;
	two_runs t;
	two_runs_open(&t);
	cairn_data_listing *l = (cairn_data_listing *)&l; /* must be reset */
	assert_int_equal(cairn_data_show(NULL, t.u.s, t.id1, NULL, 0), CAIRN_EINVALID);
	assert_int_equal(cairn_data_show(&l, NULL, t.id1, NULL, 0), CAIRN_EINVALID);
	assert_null(l);
	assert_int_equal(cairn_data_show(&l, t.u.s, NULL, NULL, 0), CAIRN_EINVALID);
	assert_null(l);
	assert_int_equal(cairn_data_show(&l, t.u.s, "no-such-run", NULL, 0), CAIRN_ENOTFOUND);
	assert_null(l);
	assert_int_equal(cairn_data_show(&l, t.u.s, t.id1, "nope", 0), CAIRN_ENOTFOUND);
	assert_null(l);
	assert_non_null(strstr(cairn_error_last(), "nope"));
	char *out = (char *)&out;
	assert_int_equal(cairn_data_show_json(&out, t.u.s, t.id1, "nope", 0), CAIRN_ENOTFOUND);
	assert_null(out);
	assert_null(cairn_data_listing_run(NULL));
	assert_int_equal(cairn_data_listing_count(NULL), 0);
	assert_null(cairn_data_listing_get(NULL, 0));
	cairn_data_listing_free(NULL);
	two_runs_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_result_agrees_with_json),
	    cmocka_unit_test(test_hash_result_failures),
	    cmocka_unit_test(test_diff_agrees_with_json),
	    cmocka_unit_test(test_diff_failures),
	    cmocka_unit_test(test_show_agrees_with_json),
	    cmocka_unit_test(test_show_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
