/*
 * tests/unit/test-remote.c — the remote backend's pieces that need no
 * network: the wire reader's bounds, the handle's run and key numbers,
 * the spool journal (records, reopen, a torn tail cut, a damaged record in
 * the middle refused with its offset), the replay's coalescing of metrics
 * records, the server's end of the protocol
 * (cairn_store_serve) against a real store of either backend (the trial
 * queue's claim in two requests among it), and the
 * idempotency keys of both backends (and a server dying between a write
 * and its key: both or neither are stored).  Over HTTP: tests/e2e/remote.t and
 * tests/python/test_remote.py.
 */
#include "unit.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/store/remote/journal.h"
#include "lib/store/remote/remote.h"
#include "lib/store/store.h"

static void test_wire_bounds(void **state)
{
	buf b = BUF_INIT;
	w_u32(&b, 7);
	w_str(&b, "hello");
	w_str(&b, NULL);
	w_f64(&b, -0.0);
	cairn_value v = {.type = CAIRN_TYPE_STRING, .s = "x"};
	w_value(&b, &v);
	wr r;
	wr_init(&r, b.ptr, b.len);
	assert_int_equal(r_u32(&r), 7);
	assert_string_equal(r_str(&r), "hello");
	assert_null(r_str(&r));
	double z = r_f64(&r);
	assert_true(z == 0 && signbit(z));
	cairn_value got;
	r_value(&r, &got);
	assert_int_equal(got.type, CAIRN_TYPE_STRING);
	assert_string_equal(got.s, "x");
	assert_ok(wr_check(&r, true, "body"));
	/* every prefix of the body is short somewhere: bad, never a read past it */
	for (size_t n = 0; n < b.len; n++) {
		wr_init(&r, b.ptr, n);
		r_u32(&r);
		r_str(&r);
		r_str(&r);
		r_f64(&r);
		r_value(&r, &got);
		assert_int_equal(wr_check(&r, true, "body"), CAIRN_EINVALID);
	}
	/* a count bigger than the body can hold is refused before any use */
	buf c = BUF_INIT;
	w_u32(&c, 1000000);
	wr_init(&r, c.ptr, c.len);
	assert_int_equal(r_count(&r, 32), 0);
	assert_true(r.bad);
	/* a string without its NUL, or with one inside */
	buf d = BUF_INIT;
	w_u32(&d, 2);
	buf_add(&d, "a\0\0", 3);
	wr_init(&r, d.ptr, d.len);
	assert_null(r_str(&r));
	assert_true(r.bad);
	buf_free(&b);
	buf_free(&c);
	buf_free(&d);
}

static void test_maps(void **state)
{
	rmap m = {0};
	kmap k = {0};
	char id[33];
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "%032x", i);
		assert_int_equal(rmap_rid(&m, id), i + 1);
	}
	snprintf(id, sizeof id, "%032x", 500);
	assert_int_equal(rmap_rid(&m, id), 501);
	assert_string_equal(rmap_get(&m, 501)->id, id);
	assert_null(rmap_get(&m, 1001));
	assert_true(rmap_rid(&m, "short") < 0);
	assert_int_equal(kmap_kid(&k, "loss"), 1);
	assert_int_equal(kmap_kid(&k, "acc"), 2);
	assert_int_equal(kmap_kid(&k, "loss"), 1);
	assert_string_equal(kmap_name(&k, 2), "acc");
	rmap_free(&m);
	kmap_free(&k);
}

static char *journal_file(const char *dir)
{
	return unit_strcat3(dir, "/s.journal", "");
}

static void write_three(const char *path)
{
	journal j;
	assert_ok(journal_create(&j, path, "http://h:1", "0123456789abcdef0123456789abcdef"));
	assert_ok(journal_append(&j, "run_insert", "k-1", "abc", 3));
	assert_ok(journal_append(&j, "tag_put", "k-2", "", 0));
	assert_ok(journal_append(&j, "metrics_insert", "k-3", "0123456789", 10));
	journal_close(&j);
}

/* A metrics_insert body: runs, keys, then (run index, key index, step)
 * points with ts = step and value = step / 2. */
static void mbody(buf *b, int nr, const char *const *runs, int nk, const char *const *keys, int n,
                  const int (*pts)[3])
{
	buf_clear(b);
	w_u32(b, (uint32_t)nr);
	for (int i = 0; i < nr; i++)
		w_str(b, runs[i]);
	w_u32(b, (uint32_t)nk);
	for (int i = 0; i < nk; i++)
		w_str(b, keys[i]);
	w_u32(b, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		w_u32(b, (uint32_t)pts[i][0]);
		w_u32(b, (uint32_t)pts[i][1]);
		w_i64(b, pts[i][2]);
		w_i64(b, pts[i][2]);
		w_f64(b, pts[i][2] / 2.0);
	}
}

/* Coalescing (coalesce.c): consecutive metrics_insert records become one
 * body with the runs and keys of all, the points in journal order, under
 * "FIRST:N"; another kind of record ends the group; a group of one is the
 * record as written; a record that does not parse goes alone. */
static void test_spool_group(void **state)
{
	char *dir = unit_tmpdir(), *path = journal_file(dir);
	journal j;
	assert_ok(journal_create(&j, path, "http://h:1", "0123456789abcdef0123456789abcdef"));
	buf b = BUF_INIT;
	const char *ra[] = {"runA"}, *rab[] = {"runB", "runA"}, *k1[] = {"loss"},
	           *k2[] = {"acc", "loss"};
	const int p1[][3] = {{0, 0, 1}, {0, 0, 2}};
	const int p2[][3] = {{1, 1, 3}, {0, 0, 1}, {1, 0, 4}};
	assert_ok(journal_append(&j, "run_insert", "S-1", "r", 1));
	mbody(&b, 1, ra, 1, k1, 2, p1);
	assert_ok(journal_append(&j, "metrics_insert", "S-2", b.ptr, b.len));
	size_t one_len = b.len;
	char *one = malloc(one_len);
	memcpy(one, b.ptr, one_len);
	mbody(&b, 2, rab, 2, k2, 3, p2);
	assert_ok(journal_append(&j, "metrics_insert", "S-3", b.ptr, b.len));
	assert_ok(journal_append(&j, "run_finish", "S-4", "f", 1));
	mbody(&b, 1, ra, 1, k1, 2, p1);
	assert_ok(journal_append(&j, "metrics_insert", "S-5", b.ptr, b.len));
	assert_ok(journal_append(&j, "metrics_insert", "S-6", "bad", 3));
	buf scratch = BUF_INIT;
	spool_grp g = {BUF_INIT, "", 0, 0, 0, false};
	jrec rec;
	/* not a metrics record: no group */
	assert_ok(spool_group(&j, j.head, 0, &scratch, &g));
	assert_int_equal(g.records, 0);
	assert_int_equal(journal_read(&j, j.head, &rec, &scratch), 1);
	uint64_t off = rec.next;
	assert_ok(spool_group(&j, off, 0, &scratch, &g));
	assert_int_equal(g.records, 2);
	assert_int_equal(g.points, 5);
	assert_string_equal(g.idem, "S-2:2");
	/* the merged body: runs A, B; keys loss, acc; points remapped in order */
	buf want = BUF_INIT;
	const char *rm[] = {"runA", "runB"}, *km[] = {"loss", "acc"};
	const int pm[][3] = {{0, 0, 1}, {0, 0, 2}, {0, 0, 3}, {1, 1, 1}, {0, 1, 4}};
	mbody(&want, 2, rm, 2, km, 5, pm);
	assert_int_equal(g.body.len, want.len);
	assert_memory_equal(g.body.ptr, want.ptr, want.len);
	/* the finish after it stays a record of its own */
	assert_int_equal(journal_read(&j, g.next, &rec, &scratch), 1);
	assert_string_equal(rec.op, "run_finish");
	/* at most max_records: the same span as a try before */
	assert_ok(spool_group(&j, off, 1, &scratch, &g));
	assert_int_equal(g.records, 1);
	assert_string_equal(g.idem, "S-2");
	assert_int_equal(g.body.len, one_len);
	assert_memory_equal(g.body.ptr, one, one_len); /* a group of one: the record's bytes */
	/* a record that does not parse ends the group (it goes alone) */
	assert_ok(spool_group(&j, rec.next, 0, &scratch, &g));
	assert_int_equal(g.records, 1);
	assert_string_equal(g.idem, "S-5");
	assert_int_equal(journal_read(&j, g.next, &rec, &scratch), 1);
	assert_string_equal(rec.op, "metrics_insert");
	assert_ok(spool_group(&j, g.next, 0, &scratch, &g));
	assert_int_equal(g.records, 0);
	spool_group_free(&g);
	journal_close(&j);
	buf_free(&b);
	buf_free(&want);
	buf_free(&scratch);
	free(one);
	unit_rmrf(dir);
	free(dir);
	free(path);
}

/* One-by-one marks (journal_mark_alone): the span is kept by the handle
 * and found again by journal_open while it ends past done; an empty mark
 * (a group's end, as older journals hold) names none; a mark naming
 * records after it is damage. */
static void test_journal_alone(void **state)
{
	char *dir = unit_tmpdir(), *path = journal_file(dir);
	write_three(path);
	journal j;
	assert_ok(journal_open(&j, path, false));
	buf scratch = BUF_INIT;
	jrec rec;
	assert_int_equal(journal_read(&j, j.head, &rec, &scratch), 1);
	uint64_t r2 = rec.next;
	assert_int_equal(journal_read(&j, r2, &rec, &scratch), 1);
	uint64_t r3 = rec.next;
	buf_free(&scratch);
	assert_ok(journal_append(&j, "group_end", "", "", 0));
	assert_int_equal(j.nalone, 0);
	assert_ok(journal_mark_alone(&j, r2, j.size));
	assert_true(!journal_alone(&j, j.head) && journal_alone(&j, r2) && journal_alone(&j, r3));
	journal_close(&j);
	assert_ok(journal_open(&j, path, true));
	assert_int_equal(j.nalone, 1);
	assert_true(!journal_alone(&j, j.head) && journal_alone(&j, r3));
	assert_int_equal(j.records, 5); /* marks are records (sync's list leaves them out) */
	journal_close(&j);
	assert_ok(journal_open(&j, path, false));
	assert_ok(journal_set_done(&j, r3));
	assert_true(journal_alone(&j, r3));
	assert_ok(journal_set_done(&j, j.alone[0].to)); /* past it: forgotten, and at open */
	assert_int_equal(j.nalone, 0);
	assert_ok(journal_mark_alone(&j, j.size, j.size + 1)); /* records after the mark */
	journal_close(&j);
	assert_int_equal(journal_open(&j, path, true), CAIRN_ESTORE);
	assert_non_null(strstr(cairn_error_last(), "a replay mark"));
	journal_close(&j);
	unit_rmrf(dir);
	free(dir);
	free(path);
}

static void test_journal(void **state)
{
	char *dir = unit_tmpdir(), *path = journal_file(dir);
	write_three(path);
	journal j;
	assert_ok(journal_open(&j, path, false));
	assert_string_equal(j.url, "http://h:1");
	assert_int_equal(j.records, 3);
	assert_int_equal(j.torn_bytes, 0);
	buf scratch = BUF_INIT;
	jrec rec;
	assert_int_equal(journal_read(&j, j.done, &rec, &scratch), 1);
	assert_string_equal(rec.op, "run_insert");
	assert_string_equal(rec.idem, "k-1");
	assert_int_equal(rec.len, 3);
	assert_memory_equal(rec.body, "abc", 3);
	/* done moves past what was sent and stays across opens */
	assert_ok(journal_set_done(&j, rec.next));
	uint64_t size = j.size;
	/* a new record goes on with the sequence */
	assert_ok(journal_append(&j, "heartbeat", "k-4", "z", 1));
	journal_close(&j);
	assert_ok(journal_open(&j, path, false));
	assert_int_equal(j.records, 3);
	assert_true(j.size > size);
	assert_int_equal(j.next_seq, 5);
	journal_close(&j);
	buf_free(&scratch);
	unit_rmrf(dir);
	free(dir);
	free(path);
}

static void test_journal_torn_tail(void **state)
{
	char *dir = unit_tmpdir(), *path = journal_file(dir);
	write_three(path);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* the last record cut short, as a process killed while writing it leaves it */
	assert_int_equal(truncate(path, st.st_size - 4), 0);
	journal j;
	assert_ok(journal_open(&j, path, true)); /* read only: reported, not cut */
	assert_int_equal(j.records, 2);
	assert_true(j.torn_bytes > 0);
	journal_close(&j);
	assert_int_equal(stat(path, &st), 0);
	off_t before = st.st_size;
	assert_ok(journal_open(&j, path, false));
	assert_int_equal(j.records, 2);
	uint64_t at = j.torn_at;
	journal_close(&j);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, at);
	assert_true(st.st_size < before);
	/* garbage appended after whole records is a torn tail too */
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\xff\xff\xff\x7fjunk", 8), 8);
	close(fd);
	assert_ok(journal_open(&j, path, false));
	assert_int_equal(j.records, 2);
	assert_int_equal(j.torn_bytes, 8);
	journal_close(&j);
	unit_rmrf(dir);
	free(dir);
	free(path);
}

static void test_journal_damaged_middle(void **state)
{
	char *dir = unit_tmpdir(), *path = journal_file(dir);
	write_three(path);
	journal j;
	assert_ok(journal_open(&j, path, true));
	uint64_t first = j.head;
	journal_close(&j);
	/* one byte of the first record's payload flipped */
	int fd = open(path, O_RDWR);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, (off_t)first + JOURNAL_REC_HEAD + 2), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)first + JOURNAL_REC_HEAD + 2), 1);
	close(fd);
	assert_int_equal(journal_open(&j, path, false), CAIRN_ESTORE);
	char want[64];
	snprintf(want, sizeof want, "damaged at offset %llu", (unsigned long long)first);
	assert_non_null(strstr(cairn_error_last(), want));
	assert_non_null(strstr(cairn_error_last(), path));
	journal_close(&j);
	/* a header that is not a journal's */
	fd = open(path, O_RDWR);
	assert_int_equal(pwrite(fd, "XXXX", 4, 0), 4);
	close(fd);
	assert_int_equal(journal_open(&j, path, true), CAIRN_ESTORE);
	assert_non_null(strstr(cairn_error_last(), "not a cairn spool journal"));
	journal_close(&j);
	unit_rmrf(dir);
	free(dir);
	free(path);
}

/* --- the server's end ------------------------------------------------------------------ */

static int serve(cairn_store *s, int write, const char *op, const buf *body, buf *reply)
{
	char *out;
	size_t n;
	int status;
	assert_ok(cairn_store_serve(&out, &n, &status, s, write, op, body->ptr, body->len));
	buf_clear(reply);
	buf_add(reply, out, n);
	cairn_free(out);
	return status;
}

static void insert_req(buf *b, const char *id)
{
	w_str(b, "proj");
	w_str(b, NULL); /* name: generated */
	w_str(b, "cmd");
	w_str(b, "/tmp");
	w_str(b, "host");
	w_str(b, "user");
	w_str(b, NULL);
	w_i64(b, 1);
	w_f64(b, 1700000000.0);
	w_str(b, id);
	w_i64(b, 0);
	w_u32(b, 1);
	w_str(b, "t1");
}

static void test_serve(void **state)
{
	unit_store u;
	unit_store_open(&u);
	buf req = BUF_INIT, rep = BUF_INIT;
	const char *id = "00112233445566778899aabbccddeeff";
	insert_req(&req, id);
	assert_int_equal(serve(u.s, 1, "run_insert", &req, &rep), 200);
	wr r;
	wr_init(&r, rep.ptr, rep.len);
	assert_ok(r_reply(&r));
	assert_string_equal(r_text(&r), id);
	int64_t seq = r_i64(&r);
	char name[128];
	snprintf(name, sizeof name, "%s", r_text(&r));
	/* the same insert again (a retry, a replay): the same run, no second one */
	assert_int_equal(serve(u.s, 1, "run_insert", &req, &rep), 200);
	wr_init(&r, rep.ptr, rep.len);
	assert_ok(r_reply(&r));
	assert_string_equal(r_text(&r), id);
	assert_int_equal(r_i64(&r), seq);
	assert_string_equal(r_text(&r), name);
	char *n = unit_store_sql(&u, "SELECT count(*) FROM runs");
	assert_string_equal(n, "1\n");
	free(n);
	/* a read sent as a write, an unknown op, a malformed body */
	buf_clear(&req);
	w_str(&req, id);
	assert_int_equal(serve(u.s, 1, "run_names", &req, &rep), 400);
	assert_int_equal(serve(u.s, 0, "run_names", &req, &rep), 200);
	assert_int_equal(serve(u.s, 0, "no_such_op", &req, &rep), 404);
	buf_clear(&req);
	w_u32(&req, 5);
	assert_int_equal(serve(u.s, 1, "metrics_insert", &req, &rep), 400);
	wr_init(&r, rep.ptr, rep.len);
	assert_int_equal(r_reply(&r), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "malformed"));
	/* a point naming a run index the batch does not have: refused whole */
	buf_clear(&req);
	w_u32(&req, 1);
	w_str(&req, id);
	w_u32(&req, 1);
	w_str(&req, "loss");
	w_u32(&req, 2);
	w_u32(&req, 0);
	w_u32(&req, 0);
	w_i64(&req, 1);
	w_i64(&req, 1700000000000);
	w_f64(&req, 0.5);
	w_u32(&req, 3); /* no such run */
	w_u32(&req, 0);
	w_i64(&req, 2);
	w_i64(&req, 1700000000000);
	w_f64(&req, 0.25);
	assert_int_equal(serve(u.s, 1, "metrics_insert", &req, &rep), 400);
	n = unit_store_sql(&u, "SELECT count(*) FROM metric_points");
	assert_string_equal(n, "0\n");
	free(n);
	/* a run that is not there, a key that is not a key */
	buf_clear(&req);
	w_str(&req, "ffffffffffffffffffffffffffffffff");
	w_str(&req, "tag");
	w_u8(&req, 0);
	assert_int_equal(serve(u.s, 1, "tag_put", &req, &rep), 404);
	buf_clear(&req);
	w_str(&req, id);
	w_str(&req, "bad\ntag");
	w_u8(&req, 0);
	assert_int_equal(serve(u.s, 1, "tag_put", &req, &rep), 400);
	/* a column outside the fixed list */
	buf_clear(&req);
	w_str(&req, id);
	w_str(&req, "env_oid");
	w_str(&req, "x");
	assert_int_equal(serve(u.s, 1, "run_set_text", &req, &rep), 400);
	buf_free(&req);
	buf_free(&rep);
	unit_store_close(&u);
}

/* artifact_delete at the server's end: the count comes back; nothing
 * there is 404, a path that is not clean 400 (nothing changed), and the
 * op is a write. */
static void test_serve_artifact_delete(void **state)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	char id[33];
	strcpy(id, cairn_run_id(r));
	assert_ok(cairn_run_log_artifact_buf(r, "a", 1, "d/a.txt", NULL));
	assert_ok(cairn_run_log_artifact_buf(r, "b", 1, "d/e/b.txt", NULL));
	assert_ok(cairn_run_log_artifact_buf(r, "c", 1, "d.txt", NULL));
	cairn_run_free(r);
	buf req = BUF_INIT, rep = BUF_INIT;
	w_str(&req, id);
	w_str(&req, "../d");
	assert_int_equal(serve(u.s, 1, "artifact_delete", &req, &rep), 400);
	buf_clear(&req);
	w_str(&req, id);
	w_str(&req, "d");
	assert_int_equal(serve(u.s, 0, "artifact_delete", &req, &rep), 400); /* a write */
	char *n = unit_store_sql(&u, "SELECT count(*) FROM artifacts");
	assert_string_equal(n, "3\n");
	free(n);
	assert_int_equal(serve(u.s, 1, "artifact_delete", &req, &rep), 200);
	wr rd;
	wr_init(&rd, rep.ptr, rep.len);
	assert_ok(r_reply(&rd));
	assert_int_equal(r_i64(&rd), 2);
	assert_ok(wr_check(&rd, true, "reply"));
	n = unit_store_sql(&u, "SELECT path FROM artifacts");
	assert_string_equal(n, "d.txt\n");
	free(n);
	assert_int_equal(serve(u.s, 1, "artifact_delete", &req, &rep), 404);
	buf_free(&req);
	buf_free(&rep);
	unit_store_close(&u);
}

/* A claim at the server's end (serve-sweep.c, the client's half is
 * ops-sweep.c): without a proposal it asks for one, for the number a new
 * trial would get, and writes nothing; a proposal for that number creates
 * the trial; a stale one (another driver took the number) asks again; a
 * queued trial is handed out whatever is proposed; bad params change
 * nothing; a spent budget is 404; a claim is a write. */
static void claim_req(buf *b, const char *sweep, int64_t next, const char *params)
{
	buf_clear(b);
	w_str(b, sweep);
	w_i64(b, 2);
	w_str(b, "host:1");
	w_i64(b, next);
	w_str(b, params);
}

static int64_t claim_reply(const buf *rep, uint8_t want_kind, const char *want_params)
{
	wr r;
	wr_init(&r, rep->ptr, rep->len);
	assert_ok(r_reply(&r));
	assert_int_equal(r_u8(&r), want_kind);
	int64_t trial = r_i64(&r);
	if (want_params)
		assert_string_equal(r_text(&r), want_params);
	assert_ok(wr_check(&r, true, "reply"));
	return trial;
}

static void test_serve_trial_claim(void **state)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *run;
	assert_ok(cairn_run_create(&run, u.s, NULL));
	char id[33];
	strcpy(id, cairn_run_id(run));
	cairn_run_free(run);
	buf req = BUF_INIT, rep = BUF_INIT;
	claim_req(&req, id, -1, NULL);
	assert_int_equal(serve(u.s, 0, "trial_claim", &req, &rep), 400); /* a write */
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 200);
	assert_int_equal(claim_reply(&rep, 1, NULL), 0); /* propose for trial 0 */
	char *n = unit_store_sql(&u, "SELECT count(*) FROM sweep_trials");
	assert_string_equal(n, "0\n");
	free(n);
	claim_req(&req, id, 0, "{\"x\":1}");
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 200);
	assert_int_equal(claim_reply(&rep, 0, "{\"x\":1}"), 0);
	/* the same proposal again is stale: trial 0 exists, propose for 1 */
	claim_req(&req, id, 0, "{\"x\":2}");
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 200);
	assert_int_equal(claim_reply(&rep, 1, NULL), 1);
	/* params that are not a params object, a number past the budget */
	claim_req(&req, id, 1, "[1,2]");
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 400);
	claim_req(&req, id, 2, "{\"x\":3}");
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 400);
	n = unit_store_sql(&u, "SELECT count(*) FROM sweep_trials");
	assert_string_equal(n, "1\n");
	free(n);
	claim_req(&req, id, 1, "{\"x\":3}");
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 200);
	assert_int_equal(claim_reply(&rep, 0, "{\"x\":3}"), 1);
	claim_req(&req, id, -1, NULL);
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 404);
	wr r;
	wr_init(&r, rep.ptr, rep.len);
	assert_int_equal(r_reply(&r), CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "handed out"));
	/* trial 0 back to the queue: handed out again, with its own params */
	buf_clear(&req);
	w_str(&req, id);
	w_i64(&req, 0);
	w_u8(&req, CAIRN_TRIAL_QUEUED);
	w_str(&req, NULL);
	w_f64(&req, NAN);
	assert_int_equal(serve(u.s, 1, "trial_set", &req, &rep), 200);
	claim_req(&req, id, 1, "{\"x\":9}");
	assert_int_equal(serve(u.s, 1, "trial_claim", &req, &rep), 200);
	assert_int_equal(claim_reply(&rep, 0, "{\"x\":1}"), 0);
	/* trial_set: a state out of range, a trial the sweep lacks */
	buf_clear(&req);
	w_str(&req, id);
	w_i64(&req, 0);
	w_u8(&req, 9);
	w_str(&req, NULL);
	w_f64(&req, 1.0);
	assert_int_equal(serve(u.s, 1, "trial_set", &req, &rep), 400);
	buf_clear(&req);
	w_str(&req, id);
	w_i64(&req, 7);
	w_u8(&req, CAIRN_TRIAL_DONE);
	w_str(&req, id);
	w_f64(&req, 1.0);
	assert_int_equal(serve(u.s, 1, "trial_set", &req, &rep), 404);
	/* the list: both trials, running */
	buf_clear(&req);
	w_str(&req, id);
	assert_int_equal(serve(u.s, 0, "trial_list", &req, &rep), 200);
	wr_init(&r, rep.ptr, rep.len);
	assert_ok(r_reply(&r));
	assert_int_equal(r_u32(&r), 2);
	for (int64_t t = 0; t < 2; t++) {
		assert_int_equal(r_i64(&r), t);
		assert_int_equal(r_u8(&r), CAIRN_TRIAL_RUNNING);
		assert_string_equal(r_text(&r), t ? "{\"x\":3}" : "{\"x\":1}");
		assert_null(r_str(&r));
		assert_true(isnan(r_f64(&r)));
	}
	assert_ok(wr_check(&r, true, "reply"));
	/* the re-queue counts them */
	assert_int_equal(serve(u.s, 1, "trials_requeue", &req, &rep), 200);
	wr_init(&r, rep.ptr, rep.len);
	assert_ok(r_reply(&r));
	assert_int_equal(r_i64(&r), 2);
	buf_free(&req);
	buf_free(&rep);
	unit_store_close(&u);
}

static void test_idempotency_keys(void **state)
{
	unit_store u;
	unit_store_open(&u);
	int status;
	char *body;
	size_t len;
	assert_int_equal(cairn_store_idem_get(u.s, "s-1", &status, &body, &len), CAIRN_ENOTFOUND);
	assert_ok(cairn_store_idem_put(u.s, "s-1", 201, "a\0b", 3));
	assert_ok(cairn_store_idem_get(u.s, "s-1", &status, &body, &len));
	assert_int_equal(status, 201);
	assert_int_equal(len, 3);
	assert_memory_equal(body, "a\0b", 3);
	cairn_free(body);
	/* the first answer stays */
	assert_ok(cairn_store_idem_put(u.s, "s-1", 409, "other", 5));
	assert_ok(cairn_store_idem_get(u.s, "s-1", &status, &body, &len));
	assert_int_equal(status, 201);
	cairn_free(body);
	assert_int_equal(cairn_store_idem_put(u.s, "bad key", 200, "", 0), CAIRN_EINVALID);
	assert_int_equal(cairn_store_idem_get(u.s, "", &status, &body, &len), CAIRN_EINVALID);
	unit_store_close(&u);
}

/* A metrics_insert of two points under one idempotency key, in the
 * transaction that records the key (cairn_store_idem_begin .. commit), as
 * the server runs it (server/idem.c, idem_write). */
static void points_req(buf *b, const char *id)
{
	buf_clear(b);
	w_u32(b, 1);
	w_str(b, id);
	w_u32(b, 1);
	w_str(b, "loss");
	w_u32(b, 2);
	for (int i = 0; i < 2; i++) {
		w_u32(b, 0);
		w_u32(b, 0);
		w_i64(b, i);
		w_i64(b, 1700000000000 + i);
		w_f64(b, 0.5 / (i + 1));
	}
}

static void keyed_write(cairn_store *s, const char *key, const buf *req)
{
	buf rep = BUF_INIT;
	assert_ok(cairn_store_idem_begin(s));
	assert_int_equal(serve(s, 1, "metrics_insert", req, &rep), 200);
	assert_ok(cairn_store_idem_commit(s, key, 200, rep.ptr, rep.len));
	buf_free(&rep);
}

static void die_at_idem(cairn_store *s, const char *point, void *arg)
{
	(void)s;
	(void)arg;
	if (strcmp(point, "idem") == 0)
		_exit(42); /* the server dies after the write, before its key */
}

static void test_idempotency_in_txn(void **state)
{
	unit_store u;
	unit_store_open(&u);
	buf req = BUF_INIT, rep = BUF_INIT;
	const char *id = "00112233445566778899aabbccddeeff";
	insert_req(&req, id);
	assert_int_equal(serve(u.s, 1, "run_insert", &req, &rep), 200);
	points_req(&req, id);
	int status;
	char *body;
	size_t len;
	/* the crash window: a process applies the write and dies before the key */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cairn_store *c;
		if (cairn_store_open(&c, u.store_dir) != 0 || cairn_store_idem_begin(c) != 0)
			_exit(1);
		store_test_hook(c, die_at_idem, NULL);
		buf r2 = BUF_INIT;
		if (serve(c, 1, "metrics_insert", &req, &r2) != 200)
			_exit(2);
		cairn_store_idem_commit(c, "sess-7", 200, r2.ptr, r2.len);
		_exit(3);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 42);
	/* neither the points nor the key: the retry is not lost ... */
	char *n = unit_store_sql(&u, "SELECT count(*) FROM metric_points");
	assert_string_equal(n, "0\n");
	free(n);
	assert_int_equal(cairn_store_idem_get(u.s, "sess-7", &status, &body, &len),
	                 CAIRN_ENOTFOUND);
	/* ... and applied once: the retry stores both, a second retry finds the key */
	keyed_write(u.s, "sess-7", &req);
	n = unit_store_sql(&u, "SELECT count(*) FROM metric_points");
	assert_string_equal(n, "2\n");
	free(n);
	assert_ok(cairn_store_idem_get(u.s, "sess-7", &status, &body, &len));
	assert_int_equal(status, 200);
	cairn_free(body);
	/* inside one: an op that fails (its savepoint rolled back) and one that
	 * succeeds; aborted, nothing of either stays */
	buf bad = BUF_INIT;
	w_u32(&bad, 5);
	assert_ok(cairn_store_idem_begin(u.s));
	assert_int_equal(serve(u.s, 1, "metrics_insert", &bad, &rep), 400);
	buf_clear(&req);
	insert_req(&req, "ffeeddccbbaa99887766554433221100");
	assert_int_equal(serve(u.s, 1, "run_insert", &req, &rep), 200);
	cairn_store_idem_abort(u.s);
	n = unit_store_sql(&u, "SELECT count(*) FROM runs");
	assert_string_equal(n, "1\n");
	free(n);
	/* the same, committed: the failed op left nothing, the other its run */
	assert_ok(cairn_store_idem_begin(u.s));
	assert_int_equal(serve(u.s, 1, "metrics_insert", &bad, &rep), 400);
	assert_int_equal(serve(u.s, 1, "run_insert", &req, &rep), 200);
	assert_ok(cairn_store_idem_commit(u.s, "sess-8", 200, rep.ptr, rep.len));
	n = unit_store_sql(&u, "SELECT count(*) FROM runs");
	assert_string_equal(n, "2\n");
	free(n);
	n = unit_store_sql(&u, "SELECT count(*) FROM metric_points");
	assert_string_equal(n, "2\n");
	free(n);
	/* a keyed write is not nested in another, nor committed when none is open */
	assert_ok(cairn_store_idem_begin(u.s));
	assert_int_equal(cairn_store_idem_begin(u.s), CAIRN_ERROR);
	cairn_store_idem_abort(u.s);
	assert_int_equal(cairn_store_idem_commit(u.s, "k", 200, "", 0), CAIRN_ERROR);
	/* the store is usable after: an ordinary write commits on its own */
	buf_clear(&req);
	insert_req(&req, "aaeeddccbbaa99887766554433221100");
	assert_int_equal(serve(u.s, 1, "run_insert", &req, &rep), 200);
	n = unit_store_sql(&u, "SELECT count(*) FROM runs");
	assert_string_equal(n, "3\n");
	free(n);
	buf_free(&bad);
	buf_free(&req);
	buf_free(&rep);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wire_bounds),
	    cmocka_unit_test(test_maps),
	    cmocka_unit_test(test_journal),
	    cmocka_unit_test(test_journal_alone),
	    cmocka_unit_test(test_spool_group),
	    cmocka_unit_test(test_journal_torn_tail),
	    cmocka_unit_test(test_journal_damaged_middle),
	    cmocka_unit_test(test_serve),
	    cmocka_unit_test(test_serve_artifact_delete),
	    cmocka_unit_test(test_serve_trial_claim),
	    cmocka_unit_test(test_idempotency_keys),
	    cmocka_unit_test(test_idempotency_in_txn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
