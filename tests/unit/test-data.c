/*
 * tests/unit/test-data.c — data versions: digests against known vectors,
 * manifests (format, escapes, parser), the hash cache (hits, invalidation,
 * one changed file among many), the error paths through the engine's fault
 * hooks, datasets on runs, and diffs.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "unit.h"

#include "lib/data/data.h"
#include "util/buf.h"
#include "util/json.h"

/* --- helpers ------------------------------------------------------------------- */

static void mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

static void put(const char *dir, const char *rel, const void *data, size_t n)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	mkdirs(p);
	*slash = '/';
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void puts_(const char *dir, const char *rel, const char *text)
{
	put(dir, rel, text, strlen(text));
}

static char *join(const char *a, const char *b)
{
	char *p = malloc(strlen(a) + strlen(b) + 2);
	sprintf(p, "%s/%s", a, b);
	return p;
}

/* Hash with the engine directly; racy window 0 so fresh files are cached. */
static int hash(hash_job *j, cairn_store *s, const char *path, data_algo a)
{
	hash_job_init(j, path, a);
	j->racy_ns = 0;
	j->threads = 2;
	return data_hash(j, s);
}

static void digest_of(const char *path, cairn_store *s, char out[DIGEST_HEX_MAX + 1])
{
	hash_job j;
	assert_ok(hash(&j, s, path, ALGO_XXH128));
	strcpy(out, j.m->digest);
	hash_job_free(&j);
}

/* Wait until the clock has moved past the file's ctime, so a change made
 * now gets a new ctime even on coarse-timestamp kernels. */
static void next_tick(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	int64_t c = (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
	for (int i = 0; i < 200; i++) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if ((int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - c > 20000000LL)
			return;
		usleep(5000);
	}
}

/* --- digests ------------------------------------------------------------------------ */

static void check_vector(data_algo a, const char *in, const char *want)
{
	digest_ctx c;
	char out[DIGEST_HEX_MAX + 1];
	assert_ok(digest_ctx_init(&c, a));
	digest_buf_hex(&c, in, strlen(in), out);
	assert_string_equal(out, want);
	/* Streaming in pieces gives the same. */
	digest_begin(&c);
	for (size_t i = 0; in[i]; i++)
		digest_update(&c, in + i, 1);
	digest_end_hex(&c, out);
	assert_string_equal(out, want);
	digest_ctx_free(&c);
}

static void test_known_vectors(void **state)
{
	(void)state;
	check_vector(ALGO_XXH128, "", "99aa06d3014798d86001c324468d497f");
	check_vector(ALGO_XXH128, "abc", "06b05ab6733a618578af5f94892f3950");
	check_vector(ALGO_MD5, "", "d41d8cd98f00b204e9800998ecf8427e");
	check_vector(ALGO_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72");
	check_vector(ALGO_SHA256, "",
	             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_vector(ALGO_SHA256, "abc",
	             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_algo_names(void **state)
{
	(void)state;
	data_algo a;
	assert_ok(algo_parse(&a, NULL));
	assert_int_equal(a, ALGO_XXH128);
	assert_ok(algo_parse(&a, "SHA256"));
	assert_int_equal(a, ALGO_SHA256);
	assert_ok(algo_parse(&a, "md5"));
	assert_int_equal(a, ALGO_MD5);
	assert_int_equal(algo_parse(&a, "crc32"), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "crc32"));
}

/* A file's digest through the engine, small (one read) and large (several
 * 1 MiB reads, streamed), for each algorithm. */
static void test_file_digests(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	puts_(d, "abc.txt", "abc");
	size_t big = 3500000;
	char *b = malloc(big);
	memset(b, 'q', big);
	put(d, "big.bin", b, big);
	free(b);
	char *p = join(d, "abc.txt"), *pb = join(d, "big.bin");
	static const struct {
		data_algo a;
		const char *abc;
		const char *big;
	} want[] = {
	    {ALGO_XXH128, "06b05ab6733a618578af5f94892f3950", "033059c552c492bb7e2dd9fc739ae1ec"},
	    {ALGO_MD5, "900150983cd24fb0d6963f7d28e17f72", NULL},
	    {ALGO_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", NULL},
	};
	for (size_t i = 0; i < 3; i++) {
		hash_job j;
		assert_ok(hash(&j, NULL, p, want[i].a));
		assert_true(j.m->is_file);
		assert_string_equal(j.m->digest, want[i].abc);
		assert_int_equal(j.m->files, 1);
		assert_int_equal(j.m->bytes, 3);
		hash_job_free(&j);
		if (want[i].big) {
			assert_ok(hash(&j, NULL, pb, want[i].a));
			assert_string_equal(j.m->digest, want[i].big);
			assert_int_equal(j.stats.bytes_read, (int64_t)big);
			hash_job_free(&j);
		}
	}
	/* The public JSON form. */
	char *out = NULL;
	assert_ok(cairn_hash_path_json(&out, NULL, p, "md5"));
	assert_non_null(strstr(out, "\"digest\":\"md5:900150983cd24fb0d6963f7d28e17f72\""));
	cairn_free(out);
	free(p);
	free(pb);
	unit_rmrf(d);
	free(d);
}

/* --- manifests ---------------------------------------------------------------------- */

static void test_dir_digest_is_manifest_digest(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	puts_(root, "b.txt", "abc");
	puts_(root, "a/x.txt", "");
	char lp[4096];
	snprintf(lp, sizeof lp, "%s/a/link", root);
	assert_int_equal(symlink("../b.txt", lp), 0);
	hash_job j;
	assert_ok(hash(&j, NULL, root, ALGO_XXH128));
	assert_false(j.m->is_file);
	assert_int_equal(j.m->files, 3);
	assert_int_equal(j.m->bytes, 3);
	buf text = BUF_INIT;
	manifest_format(j.m, &text);
	/* The canonical text, written out by hand: sorted paths, link digest of
	 * its target text "../b.txt". */
	digest_ctx c;
	char lt[DIGEST_HEX_MAX + 1], want_digest[DIGEST_HEX_MAX + 1];
	assert_ok(digest_ctx_init(&c, ALGO_XXH128));
	digest_buf_hex(&c, "../b.txt", 8, lt);
	char want[1024];
	snprintf(want, sizeof want,
	         "cairn-manifest 1 xxh128 dir\n"
	         "l\t%s\t8\ta/link\t../b.txt\n"
	         "f\t99aa06d3014798d86001c324468d497f\t0\ta/x.txt\n"
	         "f\t06b05ab6733a618578af5f94892f3950\t3\tb.txt\n",
	         lt);
	assert_string_equal(text.ptr, want);
	digest_buf_hex(&c, want, strlen(want), want_digest);
	assert_string_equal(j.m->digest, want_digest);
	digest_ctx_free(&c);
	buf_free(&text);
	hash_job_free(&j);
	free(root);
	unit_rmrf(d);
	free(d);
}

static void test_manifest_escapes_roundtrip(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	puts_(root, "tab\there", "1");
	puts_(root, "new\nline", "2");
	puts_(root, "back\\slash", "3");
	puts_(root, "sp ace", "4");
	puts_(root, "ctl\x01x", "5");
	puts_(root, "utf8-é", "6");
	hash_job j;
	assert_ok(hash(&j, NULL, root, ALGO_SHA256));
	assert_int_equal(j.m->n, 6);
	buf text = BUF_INIT;
	manifest_format(j.m, &text);
	assert_non_null(strstr(text.ptr, "\ttab\\there\n"));
	assert_non_null(strstr(text.ptr, "\tnew\\nline\n"));
	assert_non_null(strstr(text.ptr, "\tback\\\\slash\n"));
	assert_non_null(strstr(text.ptr, "\tctl\\x01x\n"));
	/* Every entry is one line. */
	size_t lines = 0;
	for (size_t i = 0; i < text.len; i++)
		lines += text.ptr[i] == '\n';
	assert_int_equal(lines, 7);
	manifest *m = NULL;
	assert_ok(manifest_parse(&m, text.ptr, text.len));
	assert_int_equal(m->n, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_string_equal(m->e[i].path, j.m->e[i].path);
		assert_string_equal(m->e[i].digest, j.m->e[i].digest);
	}
	assert_string_equal(m->digest, j.m->digest);
	assert_int_equal(m->algo, ALGO_SHA256);
	manifest_free(m);
	buf_free(&text);
	hash_job_free(&j);
	free(root);
	unit_rmrf(d);
	free(d);
}

static void expect_parse_error(const char *text, const char *what)
{
	manifest *m = NULL;
	int rc = manifest_parse(&m, text, strlen(text));
	assert_int_equal(rc, CAIRN_EINVALID);
	assert_null(m);
	if (!strstr(cairn_error_last(), what))
		fail_msg("'%s' does not say '%s'", cairn_error_last(), what);
}

#define H32 "0123456789abcdef0123456789abcdef"

static void test_manifest_parser_rejects(void **state)
{
	(void)state;
	expect_parse_error("", "empty");
	expect_parse_error("hello\n", "not a cairn manifest");
	expect_parse_error("cairn-manifest 1 crc32 dir\n", "unknown digest");
	expect_parse_error("cairn-manifest 1 xxh128 tree\n", "neither dir nor file");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta", "no newline");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nx\t" H32 "\t1\ta\n", "starts with");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t0123\t1\ta\n", "wrong length");
	expect_parse_error(
	    "cairn-manifest 1 xxh128 dir\nf\t0123456789ABCDEF0123456789abcdef\t1\ta\n",
	    "lowercase hex");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t-1\ta\n", "bad size");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t01\ta\n", "bad size");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t99999999999999999999\ta\n",
	                   "bad size");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\t/etc/passwd\n",
	                   "clean relative");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta/../b\n",
	                   "clean relative");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta//b\n", "clean relative");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta\\q\n", "bad escape");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta\\x41\n", "bad escape");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta\\x00\n", "bad escape");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\tb\nf\t" H32 "\t1\ta\n",
	                   "increasing");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta\nf\t" H32 "\t1\ta\n",
	                   "increasing");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nl\t" H32 "\t1\ta\n", "lacks its target");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nl\t" H32 "\t3\ta\txy\n", "link size");
	expect_parse_error("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta\tx\n", "extra field");
	expect_parse_error("cairn-manifest 1 xxh128 file\n", "exactly one");
	expect_parse_error("cairn-manifest 1 xxh128 file\nf\t" H32 "\t1\ta\nf\t" H32 "\t1\tb\n",
	                   "more than one");
	/* A line over the cap. */
	buf b = BUF_INIT;
	buf_puts(&b, "cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\t");
	for (int i = 0; i < MANIFEST_LINE_MAX; i++)
		buf_putc(&b, 'a');
	buf_putc(&b, '\n');
	manifest *m = NULL;
	assert_int_equal(manifest_parse(&m, b.ptr, b.len), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "too long"));
	buf_free(&b);
	/* And a good one. */
	const char *ok = "cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\ta\nl\t" H32 "\t1\tb\tc\n";
	assert_ok(manifest_parse(&m, ok, strlen(ok)));
	assert_int_equal(m->n, 2);
	assert_int_equal(m->files, 2);
	assert_int_equal(m->bytes, 1);
	manifest_free(m);
}

/* --- walking: links, special files ------------------------------------------------------- */

static void test_links_and_special_files(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	puts_(root, "f.txt", "hello");
	puts_(d, "outside.txt", "secret");
	char p[4096];
	snprintf(p, sizeof p, "%s/out", root);
	assert_int_equal(symlink("../outside.txt", p), 0); /* points out of the tree */
	snprintf(p, sizeof p, "%s/loop1", root);
	assert_int_equal(symlink("loop2", p), 0); /* a loop inside the tree */
	snprintf(p, sizeof p, "%s/loop2", root);
	assert_int_equal(symlink("loop1", p), 0);
	snprintf(p, sizeof p, "%s/dangling", root);
	assert_int_equal(symlink("nowhere", p), 0);
	snprintf(p, sizeof p, "%s/sub", root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/sub/up", root);
	assert_int_equal(symlink("..", p), 0); /* a directory link: not followed */
	snprintf(p, sizeof p, "%s/fifo", root);
	assert_int_equal(mkfifo(p, 0644), 0);
	hash_job j;
	assert_ok(hash(&j, NULL, root, ALGO_XXH128));
	assert_int_equal(j.m->n, 6);
	assert_int_equal(j.stats.files_read, 1); /* only f.txt: links are never read */
	assert_int_equal(j.m->bytes, 5);
	int links = 0;
	for (size_t i = 0; i < j.m->n; i++) {
		if (j.m->e[i].type == 'l')
			links++;
		if (strcmp(j.m->e[i].path, "out") == 0)
			assert_string_equal(j.m->e[i].target, "../outside.txt");
		if (strcmp(j.m->e[i].path, "sub/up") == 0)
			assert_string_equal(j.m->e[i].target, "..");
	}
	assert_int_equal(links, 5);
	assert_int_equal(j.skipped.n, 1);
	assert_non_null(strstr(j.skipped.v[0].path, "fifo"));
	assert_non_null(strstr(j.skipped.v[0].msg, "FIFO"));
	assert_int_equal(j.errors.n, 0);
	/* A link's target is part of the version: retargeting changes the digest. */
	char before[DIGEST_HEX_MAX + 1];
	strcpy(before, j.m->digest);
	hash_job_free(&j);
	snprintf(p, sizeof p, "%s/dangling", root);
	unlink(p);
	assert_int_equal(symlink("elsewhere", p), 0);
	char after[DIGEST_HEX_MAX + 1];
	digest_of(root, NULL, after);
	assert_string_not_equal(before, after);
	free(root);
	unit_rmrf(d);
	free(d);
}

/* --- error paths --------------------------------------------------------------------- */

static void test_missing_and_loop_roots(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *missing = join(d, "nope"), *loop = join(d, "loop"), *dang = join(d, "dangling");
	char *out = (char *)1;
	assert_int_equal(cairn_hash_path_json(&out, NULL, missing, NULL), CAIRN_ENOTFOUND);
	assert_null(out);
	assert_non_null(strstr(cairn_error_last(), missing));
	assert_non_null(strstr(cairn_error_last(), "no such file"));
	assert_int_equal(symlink("loop", loop), 0);
	assert_int_equal(cairn_hash_path_json(&out, NULL, loop, NULL), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), loop));
	assert_non_null(strstr(cairn_error_last(), "symbolic link loop"));
	assert_int_equal(symlink("nowhere", dang), 0);
	assert_int_equal(cairn_hash_path_json(&out, NULL, dang, NULL), CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "dangling symbolic link"));
	char *fifo = join(d, "fifo");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(cairn_hash_path_json(&out, NULL, fifo, NULL), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "not a regular file or directory"));
	assert_int_equal(cairn_hash_path_json(&out, NULL, d, "crc32"), CAIRN_EINVALID);
	free(fifo);
	free(missing);
	free(loop);
	free(dang);
	unit_rmrf(d);
	free(d);
}

typedef struct fault_plan {
	const char *rmdir;  /* FAULT_DIR: remove this directory just before the walk opens it */
	const char *deny;   /* FAULT_OPEN: this relpath fails with EACCES */
	const char *remove; /* FAULT_AFTER_WALK: unlink root/remove */
	const char *grow;   /* FAULT_READ: append to root/grow */
	const char *root;
	int opens;
} fault_plan;

static int fault(void *arg, fault_stage stage, const char *rel)
{
	fault_plan *f = arg;
	char p[4096];
	if (stage == FAULT_OPEN) {
		__atomic_fetch_add(&f->opens, 1, __ATOMIC_RELAXED);
		if (f->deny && strcmp(rel, f->deny) == 0)
			return EACCES;
	} else if (stage == FAULT_DIR && f->rmdir && strcmp(rel, f->rmdir) == 0) {
		snprintf(p, sizeof p, "%s/%s", f->root, f->rmdir);
		unit_rmrf(p);
	} else if (stage == FAULT_AFTER_WALK && f->remove) {
		snprintf(p, sizeof p, "%s/%s", f->root, f->remove);
		assert_int_equal(unlink(p), 0);
	} else if (stage == FAULT_READ && f->grow && strcmp(rel, f->grow) == 0) {
		snprintf(p, sizeof p, "%s/%s", f->root, f->grow);
		FILE *fp = fopen(p, "ab");
		assert_non_null(fp);
		fputs("more", fp);
		fclose(fp);
	}
	return 0;
}

static void make_tree(const char *root, int n)
{
	for (int i = 0; i < n; i++) {
		char rel[64], body[64];
		snprintf(rel, sizeof rel, "d%d/f%03d.txt", i % 4, i);
		snprintf(body, sizeof body, "file %d\n", i);
		puts_(root, rel, body);
	}
}

static int faulty_hash(hash_job *j, cairn_store *s, const char *root, fault_plan *f)
{
	hash_job_init(j, root, ALGO_XXH128);
	j->racy_ns = 0;
	j->threads = 2;
	f->root = root;
	j->fault = fault;
	j->fault_arg = f;
	return data_hash(j, s);
}

static void test_unreadable_file_inside(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	make_tree(root, 40);
	fault_plan f = {.deny = "d1/f005.txt"};
	hash_job j;
	assert_int_equal(faulty_hash(&j, NULL, root, &f), CAIRN_EIO);
	/* The walk went on: every other file was read. */
	assert_int_equal(f.opens, 40);
	assert_int_equal(j.stats.files_read, 39);
	assert_int_equal(j.errors.n, 1);
	assert_non_null(strstr(j.errors.v[0].path, "data/d1/f005.txt"));
	assert_string_equal(j.errors.v[0].msg, strerror(EACCES));
	assert_non_null(strstr(cairn_error_last(), "1 entry could not be hashed"));
	assert_non_null(strstr(cairn_error_last(), "d1/f005.txt"));
	/* The partial manifest is there but the JSON has no digest. */
	assert_non_null(j.m);
	assert_int_equal(j.m->n, 39);
	cairn_hash_result *r = NULL;
	assert_int_equal(hash_result_take(&r, &j), 0);
	assert_null(cairn_hash_result_digest(r));
	assert_int_equal(cairn_hash_result_error_count(r), 1);
	buf b = BUF_INIT;
	hash_result_json(r, &b);
	assert_non_null(strstr(b.ptr, "\"digest\":null"));
	assert_non_null(strstr(b.ptr, "Permission denied"));
	buf_free(&b);
	cairn_hash_result_free(r);
	hash_job_free(&j);
	free(root);
	unit_rmrf(d);
	free(d);
}

static void test_vanished_mid_walk(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	make_tree(root, 10);
	fault_plan f = {.remove = "d2/f006.txt"};
	hash_job j;
	assert_int_equal(faulty_hash(&j, NULL, root, &f), CAIRN_EIO);
	assert_int_equal(j.errors.n, 1);
	assert_non_null(strstr(j.errors.v[0].path, "d2/f006.txt"));
	assert_string_equal(j.errors.v[0].msg, "vanished while being hashed");
	hash_job_free(&j);
	free(root);
	unit_rmrf(d);
	free(d);
}

static void test_dir_vanished_mid_walk(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	make_tree(root, 12);
	fault_plan f = {.rmdir = "d2"};
	hash_job j;
	assert_int_equal(faulty_hash(&j, NULL, root, &f), CAIRN_EIO);
	assert_int_equal(j.errors.n, 1);
	assert_non_null(strstr(j.errors.v[0].path, "data/d2"));
	assert_string_equal(j.errors.v[0].msg, "vanished during the walk");
	assert_int_equal(j.stats.files_read, 9); /* the other directories were hashed */
	hash_job_free(&j);
	free(root);
	unit_rmrf(d);
	free(d);
}

static void test_changed_while_hashed(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	make_tree(root, 10);
	/* A big file too, so the change lands between two reads. */
	size_t big = 3 << 20;
	char *b = calloc(1, big);
	put(root, "big.bin", b, big);
	free(b);
	static const char *const targets[] = {"d3/f003.txt", "big.bin"};
	for (int t = 0; t < 2; t++) {
		fault_plan f = {.grow = targets[t]};
		hash_job j;
		assert_int_equal(faulty_hash(&j, NULL, root, &f), CAIRN_EIO);
		assert_int_equal(j.errors.n, 1);
		assert_non_null(strstr(j.errors.v[0].path, targets[t]));
		assert_string_equal(j.errors.v[0].msg, "changed while being hashed");
		hash_job_free(&j);
	}
	/* A single changing file is a plain error. */
	char *one = join(root, "big.bin");
	fault_plan f = {.grow = "big.bin", .root = root};
	hash_job j;
	hash_job_init(&j, one, ALGO_XXH128);
	j.fault = fault;
	j.fault_arg = &f;
	assert_int_equal(data_hash(&j, NULL), CAIRN_EIO);
	assert_null(j.m);
	assert_non_null(strstr(cairn_error_last(), "changed while being hashed"));
	hash_job_free(&j);
	free(one);
	free(root);
	unit_rmrf(d);
	free(d);
}

/* --- the hash cache ------------------------------------------------------------------------ */

static void test_cache_hits_and_invalidation(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char *root = join(u.dir, "data");
	make_tree(root, 100);
	hash_job j;
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 100);
	assert_int_equal(j.stats.cache_hits, 0);
	char first[DIGEST_HEX_MAX + 1];
	strcpy(first, j.m->digest);
	hash_job_free(&j);

	/* Unchanged: nothing is read. */
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 0);
	assert_int_equal(j.stats.cache_hits, 100);
	assert_string_equal(j.m->digest, first);
	hash_job_free(&j);

	/* Another algorithm has its own rows. */
	assert_ok(hash(&j, u.s, root, ALGO_SHA256));
	assert_int_equal(j.stats.files_read, 100);
	hash_job_free(&j);

	/* touch: mtime moves, the file is read again, the digest stays. */
	char *p = join(root, "d1/f001.txt");
	next_tick(p);
	assert_int_equal(utimensat(AT_FDCWD, p, NULL, 0), 0);
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 1);
	assert_int_equal(j.stats.cache_hits, 99);
	assert_string_equal(j.m->digest, first);
	hash_job_free(&j);

	/* Rewritten with the same size: read again, new digest. */
	char *q = join(root, "d2/f002.txt");
	next_tick(q);
	puts_(root, "d2/f002.txt", "FILE 2\n");
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 1);
	assert_string_not_equal(j.m->digest, first);
	char second[DIGEST_HEX_MAX + 1];
	strcpy(second, j.m->digest);
	hash_job_free(&j);

	/* Same size and same mtime, different content: only ctime tells. */
	char *r = join(root, "d3/f003.txt");
	struct stat st;
	assert_int_equal(stat(r, &st), 0);
	next_tick(r);
	puts_(root, "d3/f003.txt", "FILE 3\n");
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	assert_int_equal(utimensat(AT_FDCWD, r, times, 0), 0);
	struct stat st2;
	assert_int_equal(stat(r, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size);
	assert_int_equal(st2.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	assert_true(st2.st_ctim.tv_sec != st.st_ctim.tv_sec ||
	            st2.st_ctim.tv_nsec != st.st_ctim.tv_nsec);
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 1);
	assert_string_not_equal(j.m->digest, second);
	/* And it matches a hash without the cache. */
	char nocache[DIGEST_HEX_MAX + 1];
	digest_of(root, NULL, nocache);
	assert_string_equal(j.m->digest, nocache);
	hash_job_free(&j);

	/* Replaced by another file (new inode): read again. */
	char *tmp = join(root, "d0/new.tmp"), *dst = join(root, "d0/f004.txt");
	puts_(root, "d0/new.tmp", "file 4\n");
	assert_int_equal(rename(tmp, dst), 0);
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 1);
	hash_job_free(&j);

	free(tmp);
	free(dst);
	free(p);
	free(q);
	free(r);
	free(root);
	unit_store_close(&u);
}

/* One changed file among many: only it is read (counted, not timed). */
static void test_one_changed_among_many(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char *root = join(u.dir, "data");
	make_tree(root, 2000); /* over the point-lookup limit: the range join */
	hash_job j;
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 2000);
	hash_job_free(&j);
	char *p = join(root, "d3/f999.txt");
	next_tick(p);
	puts_(root, "d3/f999.txt", "changed!\n");
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 1);
	assert_int_equal(j.stats.bytes_read, 9);
	assert_int_equal(j.stats.cache_hits, 1999);
	hash_job_free(&j);
	free(p);
	free(root);
	unit_store_close(&u);
}

/* Files changed just now are hashed but not cached (racy window). */
static void test_racy_files_not_cached(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char *root = join(u.dir, "data");
	make_tree(root, 5);
	hash_job j;
	hash_job_init(&j, root, ALGO_XXH128);
	j.racy_ns = 3600LL * 1000000000LL; /* everything is "recent" */
	assert_ok(data_hash(&j, u.s));
	assert_int_equal(j.stats.files_read, 5);
	hash_job_free(&j);
	assert_ok(hash(&j, u.s, root, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 5); /* nothing was cached */
	assert_int_equal(j.stats.cache_hits, 0);
	hash_job_free(&j);
	free(root);
	unit_store_close(&u);
}

/* A single file is cached too. */
static void test_cache_single_file(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	puts_(u.dir, "one.txt", "abc");
	char *p = join(u.dir, "one.txt");
	hash_job j;
	assert_ok(hash(&j, u.s, p, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 1);
	hash_job_free(&j);
	assert_ok(hash(&j, u.s, p, ALGO_XXH128));
	assert_int_equal(j.stats.files_read, 0);
	assert_int_equal(j.stats.cache_hits, 1);
	assert_string_equal(j.m->digest, "06b05ab6733a618578af5f94892f3950");
	hash_job_free(&j);
	free(p);
	unit_store_close(&u);
}

static void test_threads_agree(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	make_tree(root, 300);
	char digests[4][DIGEST_HEX_MAX + 1];
	int threads[4] = {1, 2, 3, 8};
	for (int i = 0; i < 4; i++) {
		hash_job j;
		hash_job_init(&j, root, ALGO_MD5);
		j.threads = threads[i];
		assert_ok(data_hash(&j, NULL));
		strcpy(digests[i], j.m->digest);
		hash_job_free(&j);
	}
	for (int i = 1; i < 4; i++)
		assert_string_equal(digests[i], digests[0]);
	free(root);
	unit_rmrf(d);
	free(d);
}

typedef struct progress_seen {
	int calls;
	cairn_hash_progress last;
} progress_seen;

static int on_progress(const cairn_hash_progress *p, void *payload)
{
	progress_seen *s = payload;
	s->calls++;
	s->last = *p;
	return 0;
}

static void test_progress_and_stats(void **state)
{
	(void)state;
	char *d = unit_tmpdir();
	char *root = join(d, "data");
	make_tree(root, 50);
	progress_seen seen = {0};
	cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
	o.progress = on_progress;
	o.payload = &seen;
	o.progress_interval = 0.001;
	cairn_hash_stats st;
	char *out = NULL;
	assert_ok(cairn_hash_path(&out, &st, NULL, root, &o));
	assert_true(seen.calls >= 1);
	assert_int_equal(seen.last.walking, 0);
	assert_int_equal(seen.last.files_done, 50);
	assert_int_equal(seen.last.files_total, 50);
	assert_int_equal(seen.last.bytes_done, seen.last.bytes_total);
	assert_int_equal(st.files, 50);
	assert_int_equal(st.files_read, 50);
	assert_int_equal(st.errors, 0);
	assert_non_null(strstr(out, "\"files_read\":50"));
	cairn_free(out);
	o.version = 99;
	assert_int_equal(cairn_hash_path(&out, NULL, NULL, root, &o), CAIRN_EINVALID);
	free(root);
	unit_rmrf(d);
	free(d);
}

/* --- datasets on runs, show, diff ------------------------------------------------------------- */

static json_doc *parse(const char *text)
{
	char err[128];
	json_doc *doc = json_parse(text, strlen(text), NULL, err, sizeof err);
	if (!doc)
		fail_msg("bad JSON: %s", err);
	return doc;
}

static void test_log_dataset(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char *root = join(u.dir, "images");
	for (int i = 0; i < 12; i++) {
		char rel[32];
		snprintf(rel, sizeof rel, "img%02d.png", i);
		puts_(root, rel, rel);
	}
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_dataset(r, NULL, root, NULL));
	assert_int_equal(cairn_run_log_dataset(r, NULL, root, "sideways"), CAIRN_EINVALID);
	assert_int_equal(cairn_run_log_dataset(r, "bad name\n", root, NULL), CAIRN_EINVALID);

	char *out = NULL;
	assert_ok(cairn_run_get_json(&out, u.s, cairn_run_id(r)));
	json_doc *doc = parse(out);
	const json *ds = json_get(json_root(doc), "datasets");
	assert_int_equal(ds->len, 1);
	const json *d0 = ds->child;
	assert_string_equal(json_get_str(d0, "name"), "images");
	assert_string_equal(json_get_str(d0, "role"), "input");
	assert_string_equal(json_get_str(d0, "algo"), "xxh128");
	assert_int_equal(json_get(d0, "files")->i, 12);
	char want[DIGEST_HEX_MAX + 1];
	digest_of(root, NULL, want);
	assert_string_equal(json_get_str(d0, "digest"), want);
	const char *oid = json_get_str(d0, "manifest");
	assert_non_null(oid);
	char *mp = NULL;
	assert_ok(cairn_object_path(&mp, u.s, oid));
	char oidcopy[CAIRN_OID_HEXSZ + 1];
	snprintf(oidcopy, sizeof oidcopy, "%s", oid);
	json_doc_free(doc);
	cairn_free(out);

	/* show: a sample of the manifest, then all of it. */
	assert_ok(cairn_data_show_json(&out, u.s, cairn_run_id(r), "images", 5));
	doc = parse(out);
	d0 = json_get(json_root(doc), "datasets")->child;
	assert_int_equal(json_get(d0, "entries")->len, 5);
	assert_true(json_get(d0, "truncated")->b);
	assert_string_equal(json_get_str(json_get(d0, "entries")->child, "path"), "img00.png");
	json_doc_free(doc);
	cairn_free(out);
	assert_ok(cairn_data_show_json(&out, u.s, cairn_run_id(r), NULL, 0));
	doc = parse(out);
	d0 = json_get(json_root(doc), "datasets")->child;
	assert_int_equal(json_get(d0, "entries")->len, 12);
	assert_false(json_get(d0, "truncated")->b);
	json_doc_free(doc);
	cairn_free(out);
	assert_int_equal(cairn_data_show_json(&out, u.s, cairn_run_id(r), "nope", 0),
	                 CAIRN_ENOTFOUND);

	/* A hash with an unreadable file records nothing. */
	cairn_run *r2 = NULL;
	assert_ok(cairn_run_create(&r2, u.s, NULL));
	fault_plan f = {.deny = "img03.png", .root = root};
	hash_job j;
	hash_job_init(&j, root, ALGO_XXH128);
	j.fault = fault;
	j.fault_arg = &f;
	assert_int_equal(data_log(r2, "images", NULL, &j), CAIRN_EIO);
	hash_job_free(&j);
	assert_ok(cairn_run_get_json(&out, u.s, cairn_run_id(r2)));
	assert_non_null(strstr(out, "\"datasets\":[]"));
	cairn_free(out);

	/* Purge removes the manifest nobody else references. */
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	strcpy(id, cairn_run_id(r));
	cairn_run_free(r);
	cairn_run_free(r2);
	struct stat st;
	assert_int_equal(stat(mp, &st), 0);
	assert_ok(cairn_run_delete(u.s, id, 1));
	assert_int_equal(stat(mp, &st), -1);
	cairn_free(mp);
	free(root);
	unit_store_close(&u);
}

static const json *entry_named(const json *datasets, const char *name)
{
	for (const json *d = datasets->child; d; d = d->next) {
		const char *n = json_get_str(d, "name");
		if ((!name && !n) || (name && n && strcmp(n, name) == 0))
			return d;
	}
	fail_msg("no diff entry '%s'", name ? name : "(null)");
	return NULL;
}

static char *list_text(const json *arr)
{
	buf b = BUF_INIT;
	for (const json *e = arr->child; e; e = e->next) {
		if (b.len)
			buf_putc(&b, ',');
		buf_puts(&b, e->str);
	}
	return buf_detach(&b);
}

static void expect_lists(const json *d, const char *added, const char *removed, const char *changed)
{
	char *a = list_text(json_get(d, "added")), *r = list_text(json_get(d, "removed")),
	     *c = list_text(json_get(d, "changed"));
	assert_string_equal(a, added);
	assert_string_equal(r, removed);
	assert_string_equal(c, changed);
	free(a);
	free(r);
	free(c);
}

static void test_diff(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char *a = join(u.dir, "a"), *b = join(u.dir, "b");
	puts_(a, "same.txt", "same");
	puts_(a, "gone.txt", "gone");
	puts_(a, "sub/edit.txt", "v1");
	puts_(b, "same.txt", "same");
	puts_(b, "sub/edit.txt", "v2");
	puts_(b, "sub/new.txt", "new");

	/* Two paths: one entry named null. */
	char *out = NULL;
	assert_ok(cairn_data_diff_json(&out, NULL, a, b));
	json_doc *doc = parse(out);
	const json *ds = json_get(json_root(doc), "datasets");
	assert_int_equal(ds->len, 1);
	const json *d = entry_named(ds, NULL);
	assert_false(json_get(d, "same")->b);
	expect_lists(d, "sub/new.txt", "gone.txt", "sub/edit.txt");
	assert_int_equal(json_get(json_get(d, "a"), "files")->i, 3);
	json_doc_free(doc);
	cairn_free(out);
	assert_ok(cairn_data_diff_json(&out, NULL, a, a));
	assert_non_null(strstr(out, "\"same\":true"));
	cairn_free(out);

	/* Runs: datasets paired by name. */
	cairn_run *r1 = NULL, *r2 = NULL;
	assert_ok(cairn_run_create(&r1, u.s, NULL));
	assert_ok(cairn_run_create(&r2, u.s, NULL));
	assert_ok(cairn_run_log_dataset(r1, "train", a, "input"));
	assert_ok(cairn_run_log_dataset(r1, "old", a, "input"));
	assert_ok(cairn_run_log_dataset(r2, "train", b, "input"));
	assert_ok(cairn_run_log_dataset(r2, "model", b, "output"));
	char id1[40], id2[40];
	strcpy(id1, cairn_run_id(r1));
	strcpy(id2, cairn_run_id(r2));
	assert_ok(cairn_data_diff_json(&out, u.s, id1, id2));
	doc = parse(out);
	ds = json_get(json_root(doc), "datasets");
	assert_int_equal(ds->len, 3);
	d = entry_named(ds, "train");
	expect_lists(d, "sub/new.txt", "gone.txt", "sub/edit.txt");
	d = entry_named(ds, "old");
	assert_int_equal(json_get(d, "b")->type, JSON_NULL);
	expect_lists(d, "", "gone.txt,same.txt,sub/edit.txt", "");
	d = entry_named(ds, "model");
	assert_int_equal(json_get(d, "a")->type, JSON_NULL);
	json_doc_free(doc);
	cairn_free(out);

	/* RUN:NAME against a path; a run prefix; a manifest object id. */
	char spec[64];
	snprintf(spec, sizeof spec, "%.8s:train", id1);
	assert_ok(cairn_data_diff_json(&out, u.s, spec, b));
	doc = parse(out);
	d = entry_named(json_get(json_root(doc), "datasets"), "train");
	expect_lists(d, "sub/new.txt", "gone.txt", "sub/edit.txt");
	char oid[CAIRN_OID_HEXSZ + 1];
	snprintf(oid, sizeof oid, "%s", json_get_str(json_get(d, "a"), "manifest"));
	json_doc_free(doc);
	cairn_free(out);
	assert_ok(cairn_data_diff_json(&out, u.s, oid, a));
	assert_non_null(strstr(out, "\"same\":true"));
	cairn_free(out);

	/* A run with several datasets against one version: by path, else refused. */
	assert_ok(cairn_data_diff_json(&out, u.s, b, id2));
	cairn_free(out);
	char *c = join(u.dir, "c");
	puts_(c, "x", "x");
	assert_int_equal(cairn_data_diff_json(&out, u.s, c, id1), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "RUN:NAME"));

	/* Unknown names, wrong algorithms. */
	assert_int_equal(cairn_data_diff_json(&out, u.s, "no-such-thing", a), CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "no-such-thing"));
	snprintf(spec, sizeof spec, "%.8s:nope", id1);
	assert_int_equal(cairn_data_diff_json(&out, u.s, spec, a), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_data_diff_json(&out, NULL, "no-such-thing", a), CAIRN_ENOTFOUND);
	cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
	o.algo = "sha256";
	assert_ok(cairn_run_log_dataset_opts(r2, "train", b, NULL, &o));
	snprintf(spec, sizeof spec, "%s:train", id2);
	char spec1[64];
	snprintf(spec1, sizeof spec1, "%s:train", id1);
	assert_int_equal(cairn_data_diff_json(&out, u.s, spec1, spec), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "different digests"));
	/* A live path is hashed with the stored side's algorithm. */
	assert_ok(cairn_data_diff_json(&out, u.s, spec, b));
	assert_non_null(strstr(out, "\"same\":true"));
	assert_non_null(strstr(out, "sha256:"));
	cairn_free(out);

	cairn_run_free(r1);
	cairn_run_free(r2);
	free(a);
	free(b);
	free(c);
	unit_store_close(&u);
}

/* A damaged manifest object is refused, not trusted. */
static void test_diff_damaged_manifest(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char *a = join(u.dir, "a");
	puts_(a, "x.txt", "x");
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_dataset(r, "a", a, NULL));
	char *out = NULL;
	assert_ok(cairn_run_get_json(&out, u.s, cairn_run_id(r)));
	json_doc *doc = parse(out);
	const char *oid = json_get_str(json_get(json_root(doc), "datasets")->child, "manifest");
	char *mp = NULL;
	assert_ok(cairn_object_path(&mp, u.s, oid));
	json_doc_free(doc);
	cairn_free(out);
	chmod(mp, 0644);
	FILE *f = fopen(mp, "wb");
	fputs("cairn-manifest 1 xxh128 dir\nf\t" H32 "\t1\tx.txt\n", f);
	fclose(f);
	assert_int_equal(cairn_data_diff_json(&out, u.s, cairn_run_id(r), a), CAIRN_ESTORE);
	assert_non_null(strstr(cairn_error_last(), "does not match"));
	cairn_free(mp);
	cairn_run_free(r);
	free(a);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_vectors),
	    cmocka_unit_test(test_algo_names),
	    cmocka_unit_test(test_file_digests),
	    cmocka_unit_test(test_dir_digest_is_manifest_digest),
	    cmocka_unit_test(test_manifest_escapes_roundtrip),
	    cmocka_unit_test(test_manifest_parser_rejects),
	    cmocka_unit_test(test_links_and_special_files),
	    cmocka_unit_test(test_missing_and_loop_roots),
	    cmocka_unit_test(test_unreadable_file_inside),
	    cmocka_unit_test(test_vanished_mid_walk),
	    cmocka_unit_test(test_dir_vanished_mid_walk),
	    cmocka_unit_test(test_changed_while_hashed),
	    cmocka_unit_test(test_cache_hits_and_invalidation),
	    cmocka_unit_test(test_one_changed_among_many),
	    cmocka_unit_test(test_racy_files_not_cached),
	    cmocka_unit_test(test_cache_single_file),
	    cmocka_unit_test(test_threads_agree),
	    cmocka_unit_test(test_progress_and_stats),
	    cmocka_unit_test(test_log_dataset),
	    cmocka_unit_test(test_diff),
	    cmocka_unit_test(test_diff_damaged_manifest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
