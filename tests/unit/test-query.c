/*
 * tests/unit/test-query.c — the compiled queries against a brute-force
 * evaluation, property style.
 *
 * A generated store (a few hundred runs with every kind of field: typed and
 * mixed-type params, NaN and infinite metrics with histories, tags,
 * properties, datasets, git state, every status including crashed, deleted
 * and purged runs) is read back as run JSON; thousands of random queries
 * and sorts are then answered twice: by cairn_query_runs_json (the SQL
 * compiler and planner) and by an evaluator here that walks the parsed query
 * over the JSON following the semantics of docs/internals/query.md.  The
 * match sets, counts and orders must agree exactly.  Also: the batched run
 * objects equal cairn_run_get_json's, grouping agrees with a recount, and
 * the planner's choices (probe vs scan, index walks) are all exercised by
 * the same queries under different candidate sizes.
 */
#include "unit.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>

#include "lib/store/pg/pg.h"
#include "lib/store/sqlite/sqlite.h"
#include <ctype.h>
#include <strings.h>
#include "lib/query/query.h"
#include "lib/run/run.h"
#include "lib/store/scan.h"
#include "util/json.h"

#define NRUNS 260

static uint64_t rs = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static int rn(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

static double unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* --- the store -------------------------------------------------------------- */

typedef struct world {
	unit_store u;
	double now;
	int n; /* runs (alive or soft-deleted) */
	char ids[NRUNS][33];
	int64_t rid[NRUNS];
	json_doc *docs[NRUNS]; /* run JSON */
	bool deleted[NRUNS];
	bool fresh[NRUNS]; /* running with a heartbeat at W.now */
	char *texts[NRUNS];
} world;

static world W;

static void exec_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void exec_sql(const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	if (unit_pg()) {
		if (pg_script(W.u.s, sql, "set up the world") != 0)
			fail_msg("%s: %s", sql, cairn_error_last());
		return;
	}
	char *err = NULL;
	if (sqlite3_exec(store_sqlite_db(W.u.s), sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static const char *const models[] = {"lgbm", "xgb", "rf", "Resnet", "mlp_2", "5", "true"};
static const char *const owners[] = {"alice", "bob", "Carol", "dave%", "e_f", ""};
static const char *const tagpool[] = {"a", "b", "c", "debug", "x:y", "Debug"};
static const char *const projects[] = {"p1", "p2", "p3"};
static const char *const commits[] = {
    "3fa2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4", "3fa2b1c0000000000000000000000000000000ff",
    "abcdef0123456789abcdef0123456789abcdef01", "ABCDEF0123456789ABCDEF0123456789ABCDEF02"};

static void log_param(cairn_run *r, const char *k, cairn_value v)
{
	assert_ok(cairn_run_log_param(r, k, &v));
}

static void build_world(void)
{
	unit_store_open(&W.u);
	/* "Now" is pinned, so the wall clock never decides an outcome (this test
	 * used to fail when checking began over a minute after the runs were
	 * made: fresh heartbeats turned stale, running runs became crashed).  It
	 * is pinned a month behind the wall clock, so that any "now" still taken
	 * from the wall clock shows: fresh heartbeats would read as stale and
	 * running durations would be a month longer than the evaluator's. */
	W.now = (double)time(NULL) - 30 * 86400.0;
	store_clock_pin(W.u.s, W.now);
	char fresh_hb[32];
	snprintf(fresh_hb, sizeof fresh_hb, "%.3f", W.now);
	const char *envs[2];
	char oid[CAIRN_OID_HEXSZ + 1];
	static const char env_a[] = "{\"os\":\"Linux\",\"packages\":{\"numpy\":\"1.26\"}}";
	assert_ok(cairn_object_put_buf(oid, W.u.s, env_a, strlen(env_a)));
	envs[0] = strdup(oid);
	envs[1] = NULL;
	for (int i = 0; i < NRUNS; i++) {
		cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
		char name[64];
		const char *tags[4];
		size_t nt = 0;
		for (int t = 0; t < 6; t++)
			if (rn(4) == 0 && nt < 4)
				tags[nt++] = tagpool[t];
		snprintf(name, sizeof name, "%s-%d", rn(3) ? "r" : "resnet", i);
		o.project = projects[rn(3)];
		o.name = name;
		o.tags = tags;
		o.ntags = nt;
		o.command = rn(5) ? "python train.py" : NULL;
		if (i > 10 && rn(8) == 0)
			o.parent = W.ids[rn(i)];
		cairn_run *r;
		assert_ok(cairn_run_create(&r, W.u.s, &o));
		memcpy(W.ids[i], cairn_run_id(r), 33);
		/* params: typed, sometimes missing, one key with mixed types */
		if (rn(6))
			log_param(
			    r, "lr",
			    (cairn_value){.type = CAIRN_TYPE_FLOAT,
			                  .f = rn(10)  ? round(pow(10, -4 + 3 * unif()) * 1e5) / 1e5
			                       : rn(2) ? NAN
			                               : 0.5});
		if (rn(6))
			log_param(r, "bs", (cairn_value){.type = CAIRN_TYPE_INT, .i = 16 << rn(5)});
		if (rn(8))
			log_param(r, "model",
			          (cairn_value){.type = CAIRN_TYPE_STRING, .s = models[rn(7)]});
		if (rn(3))
			log_param(r, "flag", (cairn_value){.type = CAIRN_TYPE_BOOL, .i = rn(2)});
		switch (rn(6)) {
		case 0:
			log_param(r, "mixed", (cairn_value){.type = CAIRN_TYPE_INT, .i = rn(3)});
			break;
		case 1:
			log_param(r, "mixed", (cairn_value){.type = CAIRN_TYPE_FLOAT, .f = rn(3)});
			break;
		case 2:
			log_param(r, "mixed", (cairn_value){.type = CAIRN_TYPE_BOOL, .i = rn(2)});
			break;
		case 3:
			log_param(r, "mixed",
			          (cairn_value){.type = CAIRN_TYPE_STRING, .s = rn(2) ? "1" : "b"});
			break;
		case 4:
			log_param(r, "mixed", (cairn_value){.type = CAIRN_TYPE_FLOAT, .f = 1.5});
			break;
		default: break;
		}
		if (rn(2))
			log_param(r, "odd.key x",
			          (cairn_value){.type = CAIRN_TYPE_INT, .i = rn(4)});
		/* metrics with histories (last differs from min/max), NaN, inf */
		static const char *const mk[] = {"acc", "loss", "val.loss", "nanny", "acc.min"};
		for (int m = 0; m < 5; m++) {
			if (rn(7) == 0)
				continue;
			int npts = 1 + rn(4);
			for (int p = 0; p < npts; p++) {
				double v = m == 0   ? round(unif() * 100) / 100
				           : m == 1 ? unif() * 3
				                    : rn(20) / 4.0;
				if (m == 3 && rn(2))
					v = NAN;
				if (m == 2 && rn(15) == 0)
					v = rn(2) ? INFINITY : -INFINITY;
				assert_ok(cairn_run_log_metric(r, mk[m], v, p, 0));
			}
		}
		assert_ok(cairn_run_flush(r));
		if (rn(2))
			assert_ok(cairn_run_set_property(r, "owner", owners[rn(6)]));
		if (rn(2)) {
			char v[8];
			snprintf(v, sizeof v, "%d", rn(12));
			assert_ok(cairn_run_set_property(r, "ver", v));
		}
		if (rn(3) == 0)
			assert_ok(cairn_run_set_note(r, rn(2) ? "good run" : ""));
		int st = rn(10);
		cairn_status status = st < 5   ? CAIRN_STATUS_FINISHED
		                      : st < 7 ? CAIRN_STATUS_FAILED
		                      : st < 8 ? CAIRN_STATUS_KILLED
		                               : CAIRN_STATUS_RUNNING;
		if (status != CAIRN_STATUS_RUNNING)
			assert_ok(cairn_run_finish(
			    r, status, status == CAIRN_STATUS_FINISHED ? 0 : 1 + rn(2)));
		cairn_run_free(r);
		int64_t rid;
		char full[33];
		assert_ok(store_run_lookup(W.u.s, W.ids[i], true, &rid, full));
		W.rid[i] = rid;
		/* times, git state and the rest straight into the row */
		double start = W.now - 86400.0 * 200 + i * 7 * 3600.0 + rn(3600);
		double dur = 10 + rn(4) * 1800 + rn(1000);
		if (status == CAIRN_STATUS_RUNNING) {
			/* live (no or a fresh heartbeat) or crashed (stale) */
			char stale_hb[32];
			snprintf(stale_hb, sizeof stale_hb, "%.3f", start + dur);
			const char *hb = rn(2) ? "NULL" : rn(2) ? stale_hb : fresh_hb;
			W.fresh[i] = hb == fresh_hb;
			exec_sql(
			    "UPDATE runs SET start_time = %.3f, heartbeat = %s WHERE rid = %lld",
			    start, hb, (long long)rid);
		} else {
			exec_sql(
			    "UPDATE runs SET start_time = %.3f, end_time = %.3f WHERE rid = %lld",
			    start, start + dur, (long long)rid);
		}
		if (rn(4)) {
			exec_sql("UPDATE runs SET git_commit = '%s', git_branch = %s, git_dirty = "
			         "%s WHERE rid "
			         "= %lld",
			         commits[rn(4)],
			         rn(3)   ? "'main'"
			         : rn(2) ? "'dev'"
			                 : "NULL",
			         rn(3)   ? "0"
			         : rn(2) ? "1"
			                 : "NULL",
			         (long long)rid);
		}
		exec_sql("UPDATE runs SET %s = %s, host = 'h%d' WHERE rid = %lld",
		         unit_pg() ? "user_name" : "user",
		         rn(5)   ? "'u1'"
		         : rn(2) ? "'u2'"
		                 : "NULL",
		         rn(3), (long long)rid);
		if (rn(3) == 0)
			exec_sql("UPDATE runs SET env_oid = '%s' WHERE rid = %lld", envs[0],
			         (long long)rid);
		if (rn(3)) {
			static const char *const tp[] = {"data/train", "/home/u/p/data/train.csv",
			                                 "/srv/d[1]/train.csv", "/srv/train"};
			exec_sql("INSERT INTO datasets(rid, name, path, role, algo, digest, files, "
			         "bytes,"
			         " manifest_oid, created) VALUES(%lld, 'train', '%s', 'input',"
			         " 'xxh128', 'xxh128:%032x', %d, %d, NULL, 0)",
			         (long long)rid, tp[rn(4)], rn(4), 1 + rn(50), rn(100000));
		}
		/* artifacts: what the run wrote (`wrote`), and cairn's own log,
		 * which `wrote` does not count */
		static const char *const ap[] = {"model.pt", "ckpt/model.pt", "plots/roc.png",
		                                 "logs/stdout.log"};
		for (int k = rn(3); k-- > 0;) {
			int w = rn(4);
			exec_sql(
			    "INSERT INTO artifacts(rid, path, oid, size, media_type, kind, key, "
			    "step, created) VALUES(%lld, '%s', 'sha256:%d', 1, NULL, '%s', NULL, "
			    "NULL, 0) ON CONFLICT DO NOTHING",
			    (long long)rid, ap[w], k,
			    w == 3   ? "log"
			    : w == 2 ? "image"
			             : "file");
		}
		if (rn(4) == 0)
			exec_sql(
			    "INSERT INTO datasets(rid, name, path, role, algo, digest, files, "
			    "bytes,"
			    " manifest_oid, created) VALUES(%lld, 'v.2', 'out', 'output', 'sha256',"
			    " 'sha256:%d', 1, 10, NULL, 0)",
			    (long long)rid, rn(3));
	}
	free((char *)envs[0]);
	/* some deleted, some purged (holes in the rids) */
	int keep = 0;
	for (int i = 0; i < NRUNS; i++) {
		int d = rn(25);
		if (d == 0) {
			assert_ok(cairn_run_delete(W.u.s, W.ids[i], 1));
			continue;
		}
		if (d == 1) {
			assert_ok(cairn_run_delete(W.u.s, W.ids[i], 0));
			W.deleted[keep] = true;
		} else {
			W.deleted[keep] = false;
		}
		memcpy(W.ids[keep], W.ids[i], 33);
		W.rid[keep] = W.rid[i];
		W.fresh[keep] = W.fresh[i];
		keep++;
	}
	W.n = keep;
	int nfresh = 0;
	for (int i = 0; i < W.n; i++) {
		char *out;
		/* cairn_run_get_json hides deleted runs: read through the store */
		buf b = BUF_INIT;
		assert_ok(store_run_json(W.u.s, W.rid[i], true, &b));
		out = buf_detach(&b);
		char err[128];
		W.docs[i] = json_parse(out, strlen(out), NULL, err, sizeof err);
		assert_non_null(W.docs[i]);
		W.texts[i] = out;
		nfresh += W.fresh[i] && !W.deleted[i];
		/* by the pinned clock a fresh heartbeat is fresh, however long ago
		 * the wall clock says it was */
		if (W.fresh[i])
			assert_string_equal(json_get_str(json_root(W.docs[i]), "status"),
			                    "running");
	}
	assert_true(nfresh > 0);
}

static int setup(void **state)
{
	(void)state;
	build_world();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < W.n; i++) {
		json_doc_free(W.docs[i]);
		free(W.texts[i]);
	}
	unit_store_close(&W.u);
	return 0;
}

/* --- the evaluator --------------------------------------------------------------- */

enum { E_MISSING, E_NUM, E_TEXT };

typedef struct ev {
	int cls;
	double d; /* E_NUM (NaN possible) */
	bool is_int;
	int64_t i;
	int ptype; /* params: 1 int, 2 float, 3 bool, 4 string; else 0 */
	const char *s;
} ev;

static ev num_ev(const json *v)
{
	ev e = {.cls = E_NUM};
	if (!v || v->type == JSON_NULL) {
		e.d = NAN; /* min/max of all-NaN series */
		return e;
	}
	if (v->type == JSON_BOOL) {
		e.d = v->b;
		e.is_int = true;
		e.i = v->b;
		return e;
	}
	json_num_value(v, &e.d);
	if (v->type == JSON_NUM && v->is_int) {
		e.is_int = true;
		e.i = v->i;
	}
	return e;
}

static ev text_ev(const char *s)
{
	ev e = {.cls = s ? E_TEXT : E_MISSING, .s = s};
	return e;
}

static const json *find_dataset(const json *run, const char *name)
{
	const json *ds = json_get(run, "datasets");
	for (const json *d = ds ? ds->child : NULL; d; d = d->next)
		if (strcmp(json_get_str(d, "name"), name) == 0)
			return d;
	return NULL;
}

static ev field_value(const json *run, const qfield *f)
{
	ev none = {.cls = E_MISSING};
	switch (f->kind) {
	case QK_METRIC: {
		const json *m = json_get(json_get(run, "metrics"), f->key);
		if (!m)
			return none;
		static const char *const parts[] = {"last", "min", "max", "count", "step"};
		return num_ev(json_get(m, parts[f->part]));
	}
	case QK_PARAM: {
		const json *p = json_get(json_get(run, "params"), f->key);
		if (!p)
			return none;
		if (p->type == JSON_OBJ) {
			/* a non-finite float param: {"$float": "NaN"} */
			double d = 0;
			json_num_value(json_get(p, "$float"), &d);
			ev e = {.cls = E_NUM, .d = d, .ptype = 2};
			return e;
		}
		if (p->type == JSON_STR) {
			ev e = text_ev(p->str);
			e.ptype = 4;
			return e;
		}
		ev e = num_ev(p);
		e.ptype = p->type == JSON_BOOL ? 3 : e.is_int ? 1 : 2;
		return e;
	}
	case QK_PROPERTY: return text_ev(json_get_str(json_get(run, "properties"), f->key));
	case QK_DATASET: {
		const json *d = find_dataset(run, f->key);
		if (!d)
			return none;
		static const char *const parts[] = {"digest", "path",  "role",
		                                    "algo",   "files", "bytes"};
		if (f->part >= QD_FILES)
			return num_ev(json_get(d, parts[f->part]));
		return text_ev(json_get_str(d, parts[f->part]));
	}
	case QK_ATTR: {
		const json *code = json_get(run, "code");
		bool hascode = code && code->type == JSON_OBJ;
		double st = 0, en = 0, hb = 0;
		json_get_num(run, "start_time", &st);
		bool ended = json_get_num(run, "end_time", &en);
		switch ((qattr)f->part) {
		case QA_ID: return text_ev(json_get_str(run, "id"));
		case QA_SEQ: return num_ev(json_get(run, "seq"));
		case QA_NAME: return text_ev(json_get_str(run, "name"));
		case QA_PROJECT: return text_ev(json_get_str(run, "project"));
		case QA_STATUS: return text_ev(json_get_str(run, "status"));
		case QA_STARTED: return num_ev(json_get(run, "start_time"));
		case QA_ENDED: return ended ? num_ev(json_get(run, "end_time")) : none;
		case QA_START_MS: {
			ev e = {.cls = E_NUM, .is_int = true, .i = (int64_t)(st * 1000)};
			e.d = (double)e.i;
			return e;
		}
		case QA_END_MS: {
			if (!ended)
				return none;
			ev e = {.cls = E_NUM, .is_int = true, .i = (int64_t)(en * 1000)};
			e.d = (double)e.i;
			return e;
		}
		case QA_DURATION: {
			ev e = {.cls = E_NUM};
			if (ended)
				e.d = en - st;
			else if (strcmp(json_get_str(run, "status"), "running") == 0)
				e.d = W.now - st;
			else if (strcmp(json_get_str(run, "status"), "crashed") == 0 &&
			         json_get_num(run, "heartbeat", &hb))
				e.d = hb - st; /* a crashed run lasted until its last heartbeat */
			else
				return none;
			return e;
		}
		case QA_USER: return text_ev(json_get_str(run, "user"));
		case QA_HOST: return text_ev(json_get_str(run, "host"));
		case QA_COMMIT: return hascode ? text_ev(json_get_str(code, "commit")) : none;
		case QA_BRANCH: return hascode ? text_ev(json_get_str(code, "branch")) : none;
		case QA_REMOTE: return hascode ? text_ev(json_get_str(code, "remote")) : none;
		case QA_DIRTY: {
			const json *d = hascode ? json_get(code, "dirty") : NULL;
			return d && d->type == JSON_BOOL ? num_ev(d) : none;
		}
		case QA_COMMAND: return text_ev(json_get_str(run, "command"));
		case QA_NOTE: return text_ev(json_get_str(run, "note"));
		case QA_PARENT: {
			const char *pid = json_get_str(run, "parent");
			return pid ? text_ev(pid) : none;
		}
		case QA_CHILDREN: {
			/* counted here from every run's parent, not read from the
			 * record: the runs (deleted ones aside) that name this one */
			const char *id = json_get_str(run, "id");
			int64_t c = 0;
			for (int j = 0; j < W.n && id; j++) {
				const char *pj = json_get_str(json_root(W.docs[j]), "parent");
				c += !W.deleted[j] && pj && strcmp(pj, id) == 0;
			}
			return (ev){.cls = E_NUM, .d = (double)c, .is_int = true, .i = c};
		}
		case QA_EXIT_CODE: {
			const json *x = json_get(run, "exit_code");
			return x && x->type == JSON_NUM ? num_ev(x) : none;
		}
		default: return none;
		}
	}
	default: return none;
	}
}

/* LIKE, case-sensitive, % and _ (an implementation independent of the
 * compiler's translation to GLOB). */
static bool like(const char *p, const char *s)
{
	for (; *p; p++) {
		if (*p == '%') {
			while (p[1] == '%')
				p++;
			if (!p[1])
				return true;
			for (const char *t = s; *t; t++)
				if (like(p + 1, t))
					return true;
			return like(p + 1, s + strlen(s));
		}
		if (!*s)
			return false;
		if (*p == '_') {
			s++;
			while (((unsigned char)*s & 0xC0) == 0x80)
				s++;
			continue;
		}
		if (*p != *s)
			return false;
		s++;
	}
	return *s == '\0';
}

static int num_cmp(const ev *v, const qlit *l)
{
	if (v->is_int && l->is_int)
		return (v->i > l->i) - (v->i < l->i);
	return (v->d > l->num) - (v->d < l->num);
}

static bool order_ok(qop op, int c)
{
	switch (op) {
	case QO_EQ: return c == 0;
	case QO_LT: return c < 0;
	case QO_LE: return c <= 0;
	case QO_GT: return c > 0;
	case QO_GE: return c >= 0;
	default: return false;
	}
}

/* id and commit: 4-31 hex digits name a prefix, 32 or 40 the whole value,
 * compared with the literal in lowercase; anything else compares as text. */
static bool hex_prefix_eq(const char *v, const char *lit)
{
	size_t n = strlen(lit);
	bool hex = n > 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)lit[i]))
			hex = false;
	if (!hex || !((n >= 4 && n < 32) || n == 32 || n == 40))
		return strcmp(v, lit) == 0;
	if (strlen(v) < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] != (char)tolower((unsigned char)lit[i]))
			return false;
	return n < 32 || v[n] == '\0';
}

/* One literal against a present value, positive operators only. */
static bool lit_match(const qfield *f, qop op, const ev *v, const qlit *l)
{
	qtype t = qfield_type(f);
	if (op == QO_GLOB || op == QO_LIKE || op == QO_ILIKE) {
		if (v->cls != E_TEXT)
			return false;
		if (t == QT_STATUS) {
			/* status words are case-insensitive everywhere (MLflow writes
			 * FINISHED), patterns too: match the pattern in lower case */
			char low[64];
			size_t k = 0;
			for (; l->text[k] && k + 1 < sizeof low; k++)
				low[k] = (char)tolower((unsigned char)l->text[k]);
			low[k] = '\0';
			return op == QO_GLOB ? sqlite3_strglob(low, v->s) == 0
			                     : sqlite3_strlike(low, v->s, 0) == 0;
		}
		if (op == QO_GLOB)
			return sqlite3_strglob(l->text, v->s) == 0;
		if (op == QO_LIKE)
			return like(l->text, v->s);
		return sqlite3_strlike(l->text, v->s, 0) == 0;
	}
	if (t == QT_STATUS) {
		for (unsigned s = 0; s <= CAIRN_STATUS_PRUNED; s++)
			if ((l->status_mask >> s & 1) &&
			    strcmp(v->s, cairn_status_name((cairn_status)s)) == 0)
				return true;
		return false;
	}
	if (v->cls == E_TEXT) {
		if (op == QO_EQ && f->kind == QK_ATTR &&
		    (f->part == QA_ID || f->part == QA_COMMIT || f->part == QA_PARENT))
			return hex_prefix_eq(v->s, l->text);
		int c = strcmp(v->s, l->text);
		return order_ok(op, (c > 0) - (c < 0));
	}
	/* numbers: params compare bools with booleans, numbers with numbers */
	if (v->ptype == 3 || t == QT_BOOL) {
		if (!l->has_bool)
			return false;
		return order_ok(op, (v->i > l->b) - (v->i < l->b));
	}
	if (!l->has_num)
		return false;
	if (isnan(l->num))
		return op == QO_EQ && isnan(v->d);
	if (isnan(v->d))
		return false;
	return order_ok(op, num_cmp(v, l));
}

static bool present_all(const qfield *f)
{
	if (f->kind == QK_TAGS)
		return true;
	if (f->kind != QK_ATTR)
		return false;
	switch ((qattr)f->part) {
	case QA_ID:
	case QA_SEQ:
	case QA_NAME:
	case QA_PROJECT:
	case QA_STATUS:
	case QA_STARTED:
	case QA_START_MS:
	case QA_CHILDREN:
	case QA_NOTE: return true;
	default: return false;
	}
}

static bool eval(const json *run, const qnode *n);

static bool eval_cmp(const json *run, const qnode *n)
{
	const qfield *f = &n->f;
	bool neg = n->op == QO_NE || n->op == QO_NGLOB || n->op == QO_NLIKE || n->op == QO_NILIKE ||
	           n->op == QO_NIN;
	qop op = n->op == QO_NE       ? QO_EQ
	         : n->op == QO_NGLOB  ? QO_GLOB
	         : n->op == QO_NLIKE  ? QO_LIKE
	         : n->op == QO_NILIKE ? QO_ILIKE
	         : n->op == QO_NIN    ? QO_IN
	                              : n->op;
	if (f->kind == QK_TAG) {
		const json *tags = json_get(run, "tags");
		for (const json *t = tags->child; t; t = t->next)
			if (strcmp(t->str, f->key) == 0)
				return true;
		return false;
	}
	if (f->kind == QK_TAGS) {
		const json *tags = json_get(run, "tags");
		if (op == QO_PRESENT)
			return true;
		if (op == QO_TRUE)
			return tags->len > 0;
		bool any = false;
		size_t nl = op == QO_IN ? n->nlits : 1;
		for (const json *t = tags->child; t && !any; t = t->next) {
			ev v = text_ev(t->str);
			for (size_t k = 0; k < nl && !any; k++)
				any = lit_match(f, op == QO_IN ? QO_EQ : op, &v, &n->lits[k]);
		}
		return neg ? !any : any;
	}
	if (f->kind == QK_FILES) {
		if (op == QO_PRESENT)
			return true;
		bool any = false;
		bool wrote = f->part == QF_WROTE;
		size_t nl = op == QO_IN ? n->nlits : 1;
		for (int pass = 0; pass < 2 && !any; pass++) {
			const json *list = json_get(run, pass == 0 ? "datasets" : "artifacts");
			if (pass == 1 && !wrote)
				break;
			for (const json *d = list ? list->child : NULL; d && !any; d = d->next) {
				const char *path = json_get_str(d, "path");
				if (pass == 0 && strcmp(json_get_str(d, "role"),
				                        wrote ? "output" : "input") != 0)
					continue;
				if (pass == 1 && cairn_artifact_is_capture(json_get_str(d, "kind")))
					continue;
				if (op == QO_TRUE) {
					any = true;
					break;
				}
				/* the whole path, or (a relative literal) a tail after a '/' */
				for (size_t k = 0; k < nl && !any; k++) {
					const qlit *lt = &n->lits[k];
					qop o = op == QO_IN ? QO_EQ : op;
					for (const char *t = path; t && !any;) {
						ev v = text_ev(t);
						any = lit_match(f, o, &v, lt);
						if (lt->text[0] == '/')
							break;
						t = strchr(t, '/');
						if (t)
							t++;
					}
				}
			}
		}
		return neg ? !any : any;
	}
	ev v = field_value(run, f);
	bool present = v.cls != E_MISSING;
	if (op == QO_PRESENT)
		return present;
	if (!present)
		return false;
	if (op == QO_TRUE) {
		if (f->kind == QK_PARAM)
			return !(v.ptype == 3 && v.i == 0);
		if (f->kind == QK_ATTR) {
			if ((qattr)f->part == QA_DIRTY)
				return v.i == 1;
			if ((qattr)f->part == QA_CHILDREN) /* has children */
				return v.i > 0;
			if (v.cls == E_TEXT && !present_all(f))
				return v.s[0] != '\0';
			if ((qattr)f->part == QA_NOTE)
				return v.s[0] != '\0';
		}
		return true;
	}
	bool any = false;
	size_t nl = op == QO_IN ? n->nlits : 1;
	for (size_t k = 0; k < nl && !any; k++)
		any = lit_match(f, op == QO_IN ? QO_EQ : op, &v, &n->lits[k]);
	return neg ? !any : any;
}

static bool eval(const json *run, const qnode *n)
{
	switch (n->type) {
	case QN_AND: return eval(run, n->l) && eval(run, n->r);
	case QN_OR: return eval(run, n->l) || eval(run, n->r);
	case QN_NOT: return !eval(run, n->l);
	default: return eval_cmp(run, n);
	}
}

/* --- expected order -------------------------------------------------------------- */

typedef struct srt {
	int idx;
	ev v[QUERY_MAX_SORT];
} srt;

static const qsortkey *S_keys;
static size_t S_nkeys;

static ev sort_value(const json *run, const qfield *f)
{
	ev v = field_value(run, f);
	if (f->kind == QK_ATTR && (qattr)f->part == QA_DIRTY && v.cls == E_NUM)
		v.ptype = 0;
	return v;
}

/* 0 present, 1 NaN, 2 missing */
static int rank_of(const ev *v)
{
	if (v->cls == E_MISSING)
		return 2;
	if (v->cls == E_NUM && isnan(v->d))
		return 1;
	return 0;
}

static int cmp_ev(const ev *a, const ev *b, bool desc)
{
	int ra = rank_of(a), rb = rank_of(b);
	if (ra || rb)
		return ra - rb;
	int r;
	if (a->cls != b->cls)
		r = a->cls == E_NUM ? -1 : 1;
	else if (a->cls == E_TEXT)
		r = strcmp(a->s, b->s), r = (r > 0) - (r < 0);
	else {
		if (a->is_int && b->is_int)
			r = (a->i > b->i) - (a->i < b->i);
		else
			r = (a->d > b->d) - (a->d < b->d);
		if (r == 0)
			r = (a->ptype > b->ptype) - (a->ptype < b->ptype);
	}
	return desc ? -r : r;
}

static int cmp_srt(const void *x, const void *y)
{
	const srt *a = x, *b = y;
	for (size_t k = 0; k < S_nkeys; k++) {
		int r = cmp_ev(&a->v[k], &b->v[k], S_keys[k].desc);
		if (r)
			return r;
	}
	int64_t ra = W.rid[a->idx], rb = W.rid[b->idx];
	return (ra < rb) - (ra > rb);
}

/* --- comparing -------------------------------------------------------------------- */

static int find_run(const char *id)
{
	for (int i = 0; i < W.n; i++)
		if (strcmp(W.ids[i], id) == 0)
			return i;
	return -1;
}

/* The brute force: the matches of query in sort order, into *out (free
 * it); returns how many. */
static int brute(const char *query, const char *sort, const char *project, bool deleted, srt **out)
{
	qexpr e;
	qerror err;
	if (qexpr_parse(&e, query, &err) != 0)
		fail_msg("generated query does not parse: %s: %s at %zu", query, err.msg, err.pos);
	qexpr se = {0};
	qsortkey keys[QUERY_MAX_SORT];
	size_t nkeys = 0;
	if (sort && qsort_parse(keys, &nkeys, &se, sort, &err) != 0)
		fail_msg("sort does not parse: %s: %s", sort, err.msg);
	if (nkeys == 0) {
		keys[0].f = (qfield){.kind = QK_ATTR, .part = QA_STARTED};
		keys[0].desc = true;
		nkeys = 1;
	}
	srt *want = calloc((size_t)W.n, sizeof *want);
	int nwant = 0;
	for (int i = 0; i < W.n; i++) {
		const json *run = json_root(W.docs[i]);
		if (W.deleted[i] && !deleted)
			continue;
		if (project && strcmp(json_get_str(run, "project"), project) != 0)
			continue;
		if (e.root && !eval(run, e.root))
			continue;
		want[nwant].idx = i;
		for (size_t k = 0; k < nkeys; k++)
			want[nwant].v[k] = sort_value(run, &keys[k].f);
		nwant++;
	}
	S_keys = keys;
	S_nkeys = nkeys;
	qsort(want, (size_t)nwant, sizeof *want, cmp_srt);
	qexpr_free(&e);
	qexpr_free(&se);
	*out = want;
	return nwant;
}

/* Run one query both ways; returns the number of matches. */
static int check_query(const char *query, const char *sort, const char *project, bool deleted,
                       int64_t limit, int64_t offset)
{
	srt *want;
	int nwant = brute(query, sort, project, deleted, &want);

	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.query = query;
	o.sort = sort;
	o.project = project;
	o.include_deleted = deleted;
	o.limit = limit;
	o.offset = offset;
	char *out;
	if (cairn_query_runs_json(&out, W.u.s, &o) != 0)
		fail_msg("query failed: %s: %s", query, cairn_error_last());
	char jerr[128];
	json_doc *got = json_parse(out, strlen(out), NULL, jerr, sizeof jerr);
	assert_non_null(got);
	double total = -1;
	json_get_num(json_root(got), "total", &total);
	if ((int)total != nwant)
		fail_msg("query '%s' (sort %s): %d matches, expected %d", query, sort ? sort : "-",
		         (int)total, nwant);
	int from = offset > 0 ? (int)offset : 0;
	int to = limit > 0 && from + limit < nwant ? from + (int)limit : nwant;
	int k = from;
	for (const json *r = json_get(json_root(got), "runs")->child; r; r = r->next, k++) {
		if (k >= to)
			fail_msg("query '%s': more runs than expected", query);
		int i = find_run(json_get_str(r, "id"));
		if (i != want[k].idx) {
			fail_msg("query '%s' sort '%s' limit %lld offset %lld: position %d is %s, "
			         "expected %s",
			         query, sort ? sort : "-", (long long)limit, (long long)offset, k,
			         json_get_str(r, "id"), W.ids[want[k].idx]);
		}
	}
	if (k != (to > from ? to : from))
		fail_msg("query '%s': %d runs, expected %d", query, k - from, to - from);
	/* the iterator, which counts only when asked: a small page may come
	 * from walking the first sort key (store_probe_min_runs is 0 here) */
	cairn_run_iter *it;
	if (cairn_query_iter_new(&it, W.u.s, &o) != 0)
		fail_msg("iterator failed: %s: %s", query, cairn_error_last());
	cairn_run_record *rec;
	k = from;
	while (cairn_run_iter_next(&rec, it) == 0) {
		if (k >= to || find_run(cairn_run_record_id(rec)) != want[k].idx)
			fail_msg("iterator, query '%s' sort '%s' limit %lld offset %lld: position "
			         "%d is %s",
			         query, sort ? sort : "-", (long long)limit, (long long)offset, k,
			         cairn_run_record_id(rec));
		cairn_run_record_free(rec);
		k++;
	}
	if (k != (to > from ? to : from))
		fail_msg("iterator, query '%s': %d runs, expected %d", query, k - from, to - from);
	if (cairn_run_iter_total(it) != nwant)
		fail_msg("iterator, query '%s': total %lld, expected %d", query,
		         (long long)cairn_run_iter_total(it), nwant);
	cairn_run_iter_free(it);
	json_doc_free(got);
	cairn_free(out);
	free(want);
	return nwant;
}

/* --- random queries ---------------------------------------------------------------- */

typedef struct gen {
	char s[4096];
	size_t n;
} gen;

static void g_puts(gen *g, const char *t)
{
	size_t l = strlen(t);
	if (g->n + l + 1 < sizeof g->s) {
		memcpy(g->s + g->n, t, l + 1);
		g->n += l;
	}
}

static void g_printf(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void g_printf(gen *g, const char *fmt, ...)
{
	char t[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t, sizeof t, fmt, ap);
	va_end(ap);
	g_puts(g, t);
}

/* A literal drawn from the values some run has for this JSON path. */
static void sample_value(gen *g, const char *section, const char *key, const char *part)
{
	for (int tries = 0; tries < 20; tries++) {
		const json *run = json_root(W.docs[rn(W.n)]);
		const json *v = json_get(json_get(run, section), key);
		if (v && part)
			v = json_get(v, part);
		if (v && v->type == JSON_OBJ) /* {"$float": "NaN"} */
			v = json_get(v, "$float");
		if (!v || v->type == JSON_NULL)
			continue;
		if (v->type == JSON_BOOL) {
			g_puts(g, v->b ? "true" : "false");
		} else if (v->type == JSON_NUM) {
			if (v->is_int)
				g_printf(g, "%lld", (long long)v->i);
			else
				g_printf(g, "%.17g", v->num);
		} else if (v->type == JSON_STR) {
			double d;
			if (json_num_value(v, &d) && (isnan(d) || isinf(d)))
				g_puts(g, isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
			else
				g_printf(g, "%s\"%s\"", "", v->str);
		}
		return;
	}
	g_printf(g, "%d", rn(5));
}

static void gen_lit_num(gen *g)
{
	switch (rn(8)) {
	case 0: g_puts(g, "nan"); break;
	case 1: g_puts(g, rn(2) ? "inf" : "-inf"); break;
	case 2: g_printf(g, "%d", rn(4)); break;
	case 3: g_printf(g, "\"%d\"", rn(3)); break;
	default: g_printf(g, "%.2f", unif() * 3); break;
	}
}

static const char *const ops_num[] = {"=", "!=", "<", "<=", ">", ">=", "==", "<>"};
static const char *const ops_text[] = {"=",  "!=",   "<",        ">=",    "~",
                                       "!~", "like", "not like", "ilike", "not ilike"};

static void gen_in_list(gen *g, void (*lit)(gen *), bool neg)
{
	g_puts(g, neg ? " not in (" : " in (");
	int n = 1 + rn(3);
	for (int i = 0; i < n; i++) {
		if (i)
			g_puts(g, ", ");
		lit(g);
	}
	g_puts(g, ")");
}

static const char *cur_section, *cur_key, *cur_part;

static void lit_sampled(gen *g)
{
	if (rn(4) == 0)
		gen_lit_num(g);
	else
		sample_value(g, cur_section, cur_key, cur_part);
}

static void lit_pattern(gen *g)
{
	static const char *const pats[] = {"\"r*\"",        "\"*es*\"",    "\"a%\"",     "\"%o%\"",
	                                   "\"L_bm\"",      "\"l%\"",      "\"[a-c]*\"", "\"?b\"",
	                                   "\"_\"",         "\"%\"",       "\"RES%\"",   "\"*\"",
	                                   "\"dave\\\\%\"", "\"%e\\\\_f\""};
	g_puts(g, pats[rn(14)]);
}

static void gen_metric(gen *g)
{
	static const char *const keys[] = {"acc", "loss", "val.loss", "nanny", "`acc.min`", "nope"};
	static const char *const raw[] = {"acc", "loss", "val.loss", "nanny", "acc.min", "nope"};
	static const char *const parts[] = {"", ".min", ".max", ".count", ".step", ".last"};
	static const char *const jparts[] = {"last", "min", "max", "count", "step", "last"};
	int k = rn(6), p = rn(4) ? 0 : rn(6);
	g_printf(g, "%s.%s%s", rn(6) ? "metrics" : "metric", keys[k], parts[p]);
	cur_section = "metrics";
	cur_key = raw[k];
	cur_part = jparts[p];
	int o = rn(14);
	if (o < 8) {
		g_printf(g, " %s ", ops_num[o]);
		lit_sampled(g);
	} else if (o < 10) {
		gen_in_list(g, lit_sampled, o == 9);
	} else if (o == 10) {
		g_puts(g, rn(2) ? " is null" : " is not null");
	} else {
		g_printf(g, " %s ", ops_num[rn(6)]);
		gen_lit_num(g);
	}
}

static void gen_param(gen *g)
{
	static const char *const keys[] = {"lr",    "bs",          "model", "flag",
	                                   "mixed", "`odd.key x`", "none"};
	static const char *const raw[] = {"lr",    "bs",        "model", "flag",
	                                  "mixed", "odd.key x", "none"};
	int k = rn(7);
	g_printf(g, "params.%s", keys[k]);
	cur_section = "params";
	cur_key = raw[k];
	cur_part = NULL;
	int o = rn(16);
	if (o < 8) {
		g_printf(g, " %s ", ops_num[o]);
		lit_sampled(g);
	} else if (o < 10) {
		gen_in_list(g, lit_sampled, o == 9);
	} else if (o < 12) {
		g_printf(g, " %s ", ops_text[4 + rn(6)]);
		lit_pattern(g);
	} else if (o == 12) {
		/* bare: present and not false */
	} else if (o == 13) {
		g_puts(g, rn(2) ? " is null" : " is not null");
	} else {
		static const char *const lits[] = {"\"1\"",    "1",   "1.0", "true",
		                                   "\"true\"", "b",   "5",   "\"lgbm\"",
		                                   "'xgb'",    "0.5", "nan", "False"};
		g_printf(g, " %s %s", ops_num[rn(8)], lits[rn(12)]);
	}
}

static void gen_text_field(gen *g, const char *field, const char *section, const char *key)
{
	g_puts(g, field);
	cur_section = section;
	cur_key = key;
	cur_part = NULL;
	int o = rn(10);
	if (o < 4) {
		g_printf(g, " %s ", ops_text[rn(4)]);
		lit_sampled(g);
	} else if (o < 7) {
		g_printf(g, " %s ", ops_text[4 + rn(6)]);
		lit_pattern(g);
	} else if (o == 7) {
		gen_in_list(g, lit_sampled, rn(2));
	} else if (o == 8) {
		g_puts(g, rn(2) ? " is null" : " is not null");
	}
}

static void lit_status(gen *g)
{
	static const char *const st[] = {"finished", "failed",     "killed",  "running",
	                                 "crashed",  "'FINISHED'", "Running", "scheduled"};
	g_puts(g, st[rn(8)]);
}

static void lit_date(gen *g)
{
	time_t t = (time_t)(W.now - 86400.0 * 200 + unif() * 86400.0 * 80);
	struct tm tm;
	gmtime_r(&t, &tm);
	char d[64];
	strftime(d, sizeof d, rn(2) ? "%Y-%m-%dT%H:%M:%SZ" : "\"%Y-%m-%d %H:%M:%SZ\"", &tm);
	g_puts(g, d);
}

static void gen_attr(gen *g)
{
	switch (rn(22)) {
	case 0:
		g_puts(g, rn(3) ? "status" : "attributes.status");
		if (rn(3)) {
			g_printf(g, " %s ", rn(2) ? "=" : "!=");
			lit_status(g);
		} else if (rn(2)) {
			gen_in_list(g, lit_status, rn(2));
		} else {
			g_printf(g, " %s %s",
			         rn(2)   ? "~"
			         : rn(2) ? "like"
			                 : "not ilike",
			         rn(2) ? "\"f*\"" : "'%ED'");
		}
		break;
	case 1:
		g_printf(g, "name %s %s", rn(2) ? "~" : "!~", rn(2) ? "\"resnet*\"" : "\"r-1?\"");
		break;
	case 2: g_printf(g, "project %s p%d", rn(3) ? "=" : "!=", 1 + rn(3)); break;
	case 3:
		g_printf(g, "%s %s ", rn(2) ? "started" : "ended", ops_num[2 + rn(4)]);
		lit_date(g);
		break;
	case 4:
		g_printf(g, "duration %s %s", ops_num[2 + rn(4)],
		         rn(2)   ? "1h"
		         : rn(2) ? "30m"
		         : rn(2) ? "1h30m"
		                 : "3600");
		break;
	case 5: gen_text_field(g, "user", "", "user"); break;
	case 6: gen_text_field(g, "host", "", "host"); break;
	case 7: {
		static const char *const c[] = {"3fa2", "3FA2B1C0",
		                                "abcd", "abcdef01",
		                                "zzzz", "abcdef0123456789abcdef0123456789abcdef01"};
		g_printf(g, "commit %s %s", rn(3) ? "=" : "!=", c[rn(6)]);
		break;
	}
	case 8: g_printf(g, "branch %s %s", rn(2) ? "=" : "!=", rn(2) ? "main" : "dev"); break;
	case 9: g_puts(g, rn(2) ? "dirty" : rn(2) ? "dirty = false" : "dirty != true"); break;
	case 10: g_printf(g, "exit_code %s %d", ops_num[rn(6)], rn(3)); break;
	case 11: g_printf(g, "seq %s %d", ops_num[rn(6)], rn(40)); break;
	case 12: {
		const char *id = W.ids[rn(W.n)];
		g_printf(g, "id = %.*s", 4 + rn(5), id);
		break;
	}
	case 13:
		g_printf(g, "attributes.start_time %s %.0f", ops_num[2 + rn(4)],
		         (W.now - 86400.0 * 200 + unif() * 86400.0 * 80) * 1000);
		break;
	case 14: g_puts(g, rn(2) ? "note" : rn(2) ? "note = \"good run\"" : "note ~ \"g*\""); break;
	case 15: g_puts(g, rn(2) ? "ended" : "not ended"); break;
	case 16: g_puts(g, rn(2) ? "command" : "command is null"); break;
	case 17: g_puts(g, rn(2) ? "user" : "branch is not null"); break;
	case 18: g_printf(g, "run.run_name %s \"r-%d\"", rn(2) ? "=" : "like", rn(40)); break;
	case 19:
		if (rn(3) == 0)
			g_puts(g, rn(2) ? "children" : "not children");
		else
			g_printf(g, "children %s %d", ops_num[rn(6)], rn(3));
		break;
	case 20: {
		const char *id = W.ids[rn(W.n)];
		g_printf(g, "parent %s %.*s", rn(3) ? "=" : "!=", rn(2) ? 32 : 4 + rn(5), id);
		break;
	}
	default:
		g_printf(g, "attributes.end_time %s %.0f", ops_num[2 + rn(4)],
		         (W.now - 86400.0 * 200 + unif() * 86400.0 * 80) * 1000);
	}
}

static void gen_atom(gen *g)
{
	switch (rn(13)) {
	case 12: {
		static const char *const t[] = {"reads",
		                                "not reads",
		                                "wrote",
		                                "reads ~ \"data/train*\"",
		                                "reads = \"train.csv\"",
		                                "reads = \"/srv/train\"",
		                                "reads = \"d[1]/train.csv\"",
		                                "reads !~ \"*.csv\"",
		                                "reads like \"%TRAIN%\"",
		                                "reads ilike \"%TRAIN%\"",
		                                "reads in (\"train\", \"data/train\")",
		                                "reads not in (\"train\")",
		                                "wrote = \"model.pt\"",
		                                "wrote ~ \"*.pt\"",
		                                "wrote ~ \"ckpt/*\"",
		                                "wrote != \"roc.png\"",
		                                "wrote ~ \"*.log\"",
		                                "wrote = out",
		                                "wrote is not null",
		                                "wrote ilike \"PLOTS/%\""};
		g_puts(g, t[rn(20)]);
		break;
	}
	case 0:
	case 1:
	case 2: gen_metric(g); break;
	case 3:
	case 4:
	case 5: gen_param(g); break;
	case 6: {
		static const char *const t[] = {"tags.a",        "tags.debug",     "tags.`x:y`",
		                                "tags.b = true", "tags.c = false", "tags.zz",
		                                "tag.Debug"};
		g_puts(g, t[rn(7)]);
		break;
	}
	case 7: {
		static const char *const t[] = {"tags = a",
		                                "tags != \"debug\"",
		                                "tags ~ \"d*\"",
		                                "tags in (a, \"x:y\")",
		                                "tags not in (b, c)",
		                                "tags ilike \"DEBUG\"",
		                                "tags",
		                                "tags is not null",
		                                "tags !~ \"[ab]\"",
		                                "tags like \"D%\""};
		g_puts(g, t[rn(10)]);
		break;
	}
	case 8:
		if (rn(3))
			gen_text_field(g, rn(3) ? "properties.owner" : "tags.owner", "properties",
			               "owner");
		else
			gen_text_field(g, "properties.ver", "properties", "ver");
		break;
	case 9:
		if (rn(2)) {
			gen_text_field(g, "datasets.train.digest", "", "");
		} else {
			static const char *const t[] = {"datasets.train.files > 10",
			                                "datasets.`v.2`",
			                                "datasets.train",
			                                "datasets.train.bytes <= 50000",
			                                "datasets.`v.2`.digest = \"sha256:1\"",
			                                "datasets.train.role = input"};
			g_puts(g, t[rn(6)]);
		}
		break;
	default: gen_attr(g); break;
	}
}

static void gen_expr(gen *g, int depth)
{
	int c = depth > 2 ? 0 : rn(6);
	switch (c) {
	case 0:
	case 1: gen_atom(g); break;
	case 2:
		g_puts(g, "not ");
		gen_expr(g, depth + 1);
		break;
	case 3:
	case 4: {
		g_puts(g, "(");
		int n = 2 + rn(2);
		for (int i = 0; i < n; i++) {
			if (i)
				g_puts(g, c == 3 ? " and " : " or ");
			gen_expr(g, depth + 1);
		}
		g_puts(g, ")");
		break;
	}
	default:
		gen_expr(g, depth + 1);
		g_puts(g, rn(2) ? " and " : " or ");
		gen_expr(g, depth + 1);
	}
}

static void gen_sort(gen *g)
{
	static const char *const k[] = {"metrics.acc",
	                                "metrics.loss",
	                                "metrics.nanny",
	                                "metrics.val.loss.max",
	                                "params.lr",
	                                "params.mixed",
	                                "params.model",
	                                "params.flag",
	                                "started",
	                                "name",
	                                "ended",
	                                "duration",
	                                "status",
	                                "project",
	                                "properties.owner",
	                                "datasets.train.digest",
	                                "user",
	                                "exit_code",
	                                "dirty",
	                                "metrics.acc.count",
	                                "commit",
	                                "params.none",
	                                "id",
	                                "attributes.start_time",
	                                "seq",
	                                "children",
	                                "metrics.acc.min",
	                                "metrics.loss.max"};
	int n = 1 + (rn(3) == 0) + (rn(5) == 0);
	for (int i = 0; i < n; i++) {
		if (i)
			g_puts(g, ",");
		g_printf(g, "%s%s", rn(2) ? "-" : "", k[rn((int)(sizeof k / sizeof *k))]);
	}
}

static void random_queries(void **state)
{
	(void)state;
	int nonempty = 0, nq = 2500;
	for (int i = 0; i < nq; i++) {
		gen g = {.n = 0};
		g.s[0] = '\0';
		gen_expr(&g, 0);
		gen sg = {.n = 0};
		sg.s[0] = '\0';
		if (rn(3))
			gen_sort(&sg);
		int64_t limit = rn(3) ? 0 : 1 + rn(20);
		int64_t offset = rn(4) ? 0 : rn(10);
		const char *project = rn(6) ? NULL : projects[rn(3)];
		bool deleted = rn(8) == 0;
		if (check_query(g.s, sg.n ? sg.s : NULL, project, deleted, limit, offset) > 0)
			nonempty++;
	}
	/* the generator must produce selective and unselective queries */
	assert_true(nonempty > nq / 4);
	assert_true(nonempty < nq);
}

/* Offset pages of every run (deleted ones included, so no match set: the
 * store may pass over the offset in its own statement, PostgreSQL by MOVE
 * on the walk's cursor) and of the live runs (a set: passed over in SQL on
 * SQLite, as the rows come on PostgreSQL), sorted by one key walked newest
 * first, at offsets through the whole list and past its end.  Ascending,
 * SQLite's offset lands in the index's order (ties oldest first) and the
 * first block is fixed: both with blocks held and read from their end. */
static void offset_pages(void **state)
{
	(void)state;
	static const char *const sorts[] = {"-metrics.acc",   "-metrics.loss",
	                                    "-metrics.nanny", "-metrics.val.loss.max",
	                                    "-params.lr",     "-params.mixed",
	                                    "-params.model",  "-started",
	                                    "-name",          "-ended",
	                                    "metrics.acc",    "metrics.nanny",
	                                    "params.model",   "params.mixed",
	                                    "params.flag",    "params.lr",
	                                    "metrics.loss",   "metrics.val.loss.max",
	                                    "started",        "name",
	                                    "ended"};
	for (int held = 0; held < 2; held++) {
		store_walk_held_max = held ? 1 + rn(3) : 64;
		for (size_t i = 0; i < sizeof sorts / sizeof *sorts; i++)
			for (int deleted = 0; deleted < 2; deleted++)
				for (int64_t off = 1; off < NRUNS + 20; off += 1 + rn(23))
					check_query("", sorts[i], NULL, deleted, 1 + rn(9), off);
	}
	store_walk_held_max = 64;
}

/* A comparison of the metric a top-k walks is tested on the walked values
 * instead of by the store (sort.c, walk_probe): with the rest of the query
 * or alone, nested in the project's AND, on integer, float, NaN and huge
 * literals, both directions, beside a NaN-holding metric. */
/* reads / wrote in a list whose first path is absolute: each later
 * literal is still scanned, with its tails (plan.c's files_scans returned
 * after an absolute one: 4 matches of 8). */
static void files_lists(void **state)
{
	(void)state;
	static const char *const qs[] = {
	    "reads = \"/srv/train\" or reads in (\"train\", \"data/train\")",
	    "reads in (\"/srv/train\", \"train\", \"data/train\")",
	    "metrics.loss < 0.75 and (reads = \"/srv/train\" or reads in (\"data/train\"))",
	    "wrote in (\"/nowhere\", \"PLOTS/x\") or wrote ilike \"PLOTS/%\""};
	int n[4];
	for (int i = 0; i < 4; i++)
		n[i] = check_query(qs[i], NULL, NULL, false, 0, 0);
	assert_true(n[0] > check_query("reads = \"/srv/train\"", NULL, NULL, false, 0, 0));
	assert_int_equal(n[0], n[1]);
}

static void walk_tests_its_key(void **state)
{
	(void)state;
	static const char *const keys[] = {"acc", "loss", "nanny"};
	static const char *const lits[] = {
	    "0.5", "0", "1", "0.25", "-3", "nan", "1e300", "9007199254740993", "0.75"};
	static const char *const ops[] = {">", ">=", "<", "<=", "=", "!="};
	for (int i = 0; i < 500; i++) {
		const char *k = keys[rn(3)];
		char q[4096], sort[64];
		gen g = {.n = 0};
		g.s[0] = '\0';
		if (rn(2))
			gen_expr(&g, 1);
		int n = snprintf(q, sizeof q, "metrics.%s %s %s", k, ops[rn(6)], lits[rn(9)]);
		if (g.n && n < (int)sizeof q)
			snprintf(q + n, sizeof q - (size_t)n, " %s (%s)", rn(4) ? "and" : "or",
			         g.s);
		snprintf(sort, sizeof sort, "%smetrics.%s%s", rn(2) ? "-" : "", k,
		         rn(4) ? "" : ", name");
		const char *project = rn(3) ? NULL : projects[rn(3)];
		check_query(q, sort, project, rn(8) == 0, 1 + rn(15), rn(3) ? 0 : rn(5));
	}
}

static void sorts_everything(void **state)
{
	(void)state;
	for (int i = 0; i < 600; i++) {
		store_walk_held_max = i % 2 ? 1 + rn(3) : 64;
		gen sg = {.n = 0};
		sg.s[0] = '\0';
		gen_sort(&sg);
		check_query("", sg.s, NULL, rn(4) == 0, rn(2) ? 0 : 1 + rn(30), rn(3) ? 0 : rn(20));
	}
	store_walk_held_max = 64;
	check_query("", NULL, NULL, false, 0, 0);
	check_query("", "", NULL, true, 5, 3);
	check_query("metrics.acc > 0.5", "-metrics.acc", NULL, false, 3, 0);
	check_query("metrics.acc > 0.5", "metrics.acc desc, name asc", NULL, false, 0, 0);
	check_query("", "-params.lr", "p2", false, 10, 0);
}

/* Every page through keyset positions (cairn_run_iter_after into
 * cairn_query_options.after): the pages joined are the brute force's whole
 * sorted result, no run twice and none left out; each page also through
 * cairn_query_runs_json (with the total: the match set is planned first). */
static void check_pages(const char *query, const char *sort, const char *project, bool deleted,
                        int64_t size)
{
	srt *want;
	int nwant = brute(query, sort, project, deleted, &want);
	char *after = NULL;
	int k = 0, pages = 0;
	for (;;) {
		cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
		o.query = query;
		o.sort = sort;
		o.project = project;
		o.include_deleted = deleted;
		o.limit = size;
		o.after = after;
		cairn_run_iter *it;
		if (cairn_query_iter_new(&it, W.u.s, &o) != 0)
			fail_msg("keyset page failed: '%s' sort '%s': %s", query, sort ? sort : "-",
			         cairn_error_last());
		int k0 = k;
		cairn_run_record *rec;
		while (cairn_run_iter_next(&rec, it) == 0) {
			if (k >= nwant || find_run(cairn_run_record_id(rec)) != want[k].idx)
				fail_msg(
				    "keyset, query '%s' sort '%s' size %lld: position %d is %s, "
				    "expected %s",
				    query, sort ? sort : "-", (long long)size, k,
				    cairn_run_record_id(rec),
				    k < nwant ? W.ids[want[k].idx] : "none");
			cairn_run_record_free(rec);
			k++;
		}
		int cnt = k - k0;
		char *out;
		if (cairn_query_runs_json(&out, W.u.s, &o) != 0)
			fail_msg("keyset json failed: %s", cairn_error_last());
		char jerr[128];
		json_doc *got = json_parse(out, strlen(out), NULL, jerr, sizeof jerr);
		assert_non_null(got);
		double total = -1;
		json_get_num(json_root(got), "total", &total);
		assert_int_equal((int)total, nwant);
		int j = k0;
		for (const json *r = json_get(json_root(got), "runs")->child; r; r = r->next, j++)
			if (j >= k || find_run(json_get_str(r, "id")) != want[j].idx)
				fail_msg(
				    "keyset json, query '%s' sort '%s' size %lld: position %d is "
				    "%s",
				    query, sort ? sort : "-", (long long)size, j,
				    json_get_str(r, "id"));
		assert_int_equal(j, k);
		json_doc_free(got);
		cairn_free(out);
		char *next = NULL;
		assert_ok(cairn_run_iter_after(&next, it));
		cairn_run_iter_free(it);
		cairn_free(after);
		after = next;
		if (cnt == 0)
			assert_null(after);
		if (cnt < size || !after)
			break;
		if (++pages > nwant + 2)
			fail_msg("keyset, query '%s': the pages do not end", query);
	}
	if (k != nwant)
		fail_msg("keyset, query '%s' sort '%s' size %lld: %d runs, expected %d", query,
		         sort ? sort : "-", (long long)size, k, nwant);
	cairn_free(after);
	free(want);
}

static void keyset_pages(void **state)
{
	(void)state;
	static const int64_t sizes[] = {1, 3, 7, 40};
	/* PostgreSQL answers each page in a few round trips: fewer there */
	int nq = unit_pg() ? 40 : 200;
	for (int i = 0; i < nq; i++) {
		/* ties held and given back, or read from their end */
		store_walk_held_max = i % 2 ? 1 + rn(3) : 64;
		gen g = {.n = 0};
		g.s[0] = '\0';
		if (rn(3) == 0)
			gen_expr(&g, 0);
		gen sg = {.n = 0};
		sg.s[0] = '\0';
		if (rn(6))
			gen_sort(&sg);
		check_pages(g.s, sg.n ? sg.s : NULL, rn(6) ? NULL : projects[rn(3)], rn(8) == 0,
		            sizes[rn(unit_pg() ? 8 : 4) == 0 ? 0 : 1 + rn(3)]);
	}
	store_walk_held_max = 64;
	/* every kind of key, both ways, with ties broken by later keys */
	static const char *const fixed[] = {"-metrics.acc",
	                                    "metrics.loss.min",
	                                    "metrics.val.loss.max",
	                                    "-metrics.nanny",
	                                    "params.mixed",
	                                    "-params.mixed",
	                                    "params.model,-started",
	                                    "-params.model,name",
	                                    "status,params.lr",
	                                    "-duration",
	                                    "name",
	                                    "-ended",
	                                    "datasets.train.digest",
	                                    "-properties.owner",
	                                    "params.flag,-metrics.acc",
	                                    "params.none",
	                                    "-started",
	                                    "started"};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		for (int s = unit_pg() ? 1 : 0; s < 4; s++)
			check_pages("", fixed[i], NULL, s == 3, sizes[s]);
}

/* Positions are checked strictly: garbled, of another sort order, or of
 * another version are CAIRN_EINVALID, naming the position. */
static void keyset_bad(void **state)
{
	(void)state;
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.sort = "-metrics.acc";
	o.limit = 5;
	cairn_run_iter *it;
	char *pos = NULL;
	assert_ok(cairn_query_iter_new(&it, W.u.s, &o));
	assert_ok(cairn_run_iter_after(&pos, it));
	cairn_run_iter_free(it);
	assert_non_null(pos);
	/* another sort order */
	o.after = pos;
	o.sort = "metrics.acc";
	assert_int_equal(cairn_query_iter_new(&it, W.u.s, &o), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "another sort order"));
	o.sort = NULL;
	assert_int_equal(cairn_query_iter_new(&it, W.u.s, &o), CAIRN_EINVALID);
	/* garbled: a character changed, cut short, not base64url, empty-ish */
	o.sort = "-metrics.acc";
	char *bad = strdup(pos);
	bad[strlen(bad) / 2] = bad[strlen(bad) / 2] == 'A' ? 'B' : 'A';
	o.after = bad;
	assert_int_equal(cairn_query_iter_new(&it, W.u.s, &o), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "invalid position"));
	strcpy(bad, pos);
	bad[strlen(bad) - 3] = '\0';
	assert_int_equal(cairn_query_iter_new(&it, W.u.s, &o), CAIRN_EINVALID);
	o.after = "not a position!";
	assert_int_equal(cairn_query_iter_new(&it, W.u.s, &o), CAIRN_EINVALID);
	o.after = "QUJD";
	assert_int_equal(cairn_query_iter_new(&it, W.u.s, &o), CAIRN_EINVALID);
	char *out = NULL;
	assert_int_equal(cairn_query_runs_json(&out, W.u.s, &o), CAIRN_EINVALID);
	/* version 1 options ignore after */
	o.version = 1;
	assert_ok(cairn_query_runs_json(&out, W.u.s, &o));
	cairn_free(out);
	/* the good one again, with an offset after it */
	o.version = CAIRN_QUERY_OPTIONS_VERSION;
	o.after = pos;
	o.offset = 2;
	o.limit = 3;
	assert_ok(cairn_query_iter_new(&it, W.u.s, &o));
	assert_int_equal(cairn_run_iter_count(it), 3);
	cairn_run_iter_free(it);
	free(bad);
	cairn_free(pos);
}

/* The ids of every page of sort (size at a time, through positions), or of
 * one page without a limit, comma-separated into out. */
static void page_ids(cairn_store *st, const char *sort, int64_t size, char *out, size_t n)
{
	char *after = NULL;
	out[0] = '\0';
	for (int pages = 0; pages < 100; pages++) {
		cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
		o.sort = sort;
		o.limit = size;
		o.after = after;
		cairn_run_iter *it;
		assert_ok(cairn_query_iter_new(&it, st, &o));
		cairn_run_record *rec;
		while (cairn_run_iter_next(&rec, it) == 0) {
			size_t l = strlen(out);
			snprintf(out + l, n - l, "%s,", cairn_run_record_id(rec));
			cairn_run_record_free(rec);
		}
		cairn_free(after);
		after = NULL;
		assert_ok(cairn_run_iter_after(&after, it));
		size_t cnt = cairn_run_iter_count(it);
		cairn_run_iter_free(it);
		if (size <= 0 || (int64_t)cnt < size || !after)
			break;
	}
	cairn_free(after);
}

/* Sorting by a tag's value (the brute force's world has bare tags only):
 * runs with a value, bare ones (""), runs without the tag; pages through
 * positions give the one-page order. */
static void keyset_tags(void **state)
{
	(void)state;
	static const char *const stage[] = {"dev", "prod", "", "alpha", "prod"};
	unit_store u;
	unit_store_open(&u);
	for (int i = 0; i < 23; i++) {
		cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
		cairn_run *r;
		assert_ok(cairn_run_create(&r, u.s, &o));
		if (i % 6 == 5)
			assert_ok(cairn_run_set_tag(r, "stage"));
		else if (i % 6 != 0)
			assert_ok(cairn_run_set_tag_value(r, "stage", stage[i % 5]));
		assert_ok(cairn_run_finish(r, CAIRN_STATUS_FINISHED, 0));
		cairn_run_free(r);
	}
	static const char *const sorts[] = {"tags.stage", "-tags.stage", "tags.stage,-name"};
	for (size_t i = 0; i < 3; i++) {
		char want[2048], got[2048];
		page_ids(u.s, sorts[i], 0, want, sizeof want);
		assert_int_equal(strlen(want), 23 * 33);
		for (int64_t size = 1; size <= 4; size++) {
			page_ids(u.s, sorts[i], size, got, sizeof got);
			assert_string_equal(got, want);
		}
	}
	unit_store_close(&u);
}

static void fixed_queries(void **state)
{
	(void)state;
	static const char *const q[] = {
	    "metrics.nanny = nan",
	    "metrics.nanny != nan",
	    "metrics.nanny != 1",
	    "metrics.nanny < inf",
	    "metrics.val.loss = inf",
	    "metrics.val.loss > 1e308",
	    "metrics.val.loss < -1e308",
	    "params.lr = nan",
	    "params.lr != nan",
	    "params.mixed = 1",
	    "params.mixed = \"1\"",
	    "params.mixed = true",
	    "params.mixed > 0",
	    "params.mixed",
	    "not params.flag",
	    "params.flag",
	    "params.flag = false",
	    "params.model = 5",
	    "params.model = \"true\"",
	    "params.model = true",
	    "params.model > \"m\"",
	    "params.model ~ \"*b*\"",
	    "params.model like \"%G%\"",
	    "params.model ilike \"%G%\"",
	    "params.bs in (16, 64, \"32\")",
	    "params.bs not in (16, 64)",
	    "params.lr < 1e-3 or params.model in (\"rf\", \"xgb\")",
	    "status = crashed",
	    "status = running",
	    "status != running",
	    "status in (failed, killed)",
	    "not (status = finished or status = failed)",
	    "duration > 1h",
	    "duration < 30m",
	    "duration > 201d", /* only a wall-clock "now" makes running runs this old */
	    "status = running and duration < 201d",
	    "ended",
	    "not ended",
	    "tags = a and not tags.debug",
	    "tags ~ \"*\"",
	    "not tags",
	    "datasets.train.digest = \"xxh128:00000000000000000000000000000001\"",
	    "datasets.`v.2`.files = 1",
	    "properties.owner = \"\"",
	    "properties.owner",
	    "properties.owner like \"dave\\\\%\"",
	    "properties.owner like \"dave%\"",
	    "properties.ver > 5",
	    "properties.ver = 10",
	    "commit = 3fa2",
	    "commit = 3FA2B1C0",
	    "commit = abcdef01",
	    "commit != 3fa2",
	    "commit ~ \"ABC*\"",
	    "dirty",
	    "not dirty",
	    "dirty = false",
	    "branch = main and user = u1",
	    "note",
	    "note = \"good run\"",
	    "metrics.acc.min < metrics",
	    "metrics.`acc.min` > 2",
	    "metrics.acc.count >= 3",
	    "metrics.acc.step = 2",
	    "metrics.acc.last > 0.5",
	    "exit_code > 0",
	    "seq <= 3",
	    "children",
	    "not children",
	    "children > 1",
	    "children = 0",
	    "children >= 1 and parent",
	    "attributes.status = 'FINISHED' and metrics.loss < 1",
	    "run.status = \"Killed\"",
	    "project = p1 or project = p3",
	    "project ~ \"p*\"",
	    "name ~ \"resnet*\"",
	};
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		size_t pos;
		if (cairn_query_validate(q[i], &pos) != 0) {
			/* a deliberately odd one: skip those the language rejects */
			continue;
		}
		check_query(q[i], NULL, NULL, false, 0, 0);
		check_query(q[i], "-metrics.acc,name", NULL, true, 7, 2);
	}
}

/* The batched run objects are exactly cairn_run_get_json's (minus artifacts). */
static void batch_json_matches(void **state)
{
	(void)state;
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.include_deleted = 1;
	char *out;
	assert_ok(cairn_query_runs_json(&out, W.u.s, &o));
	char err[128];
	json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
	assert_non_null(d);
	int n = 0;
	/* compare text: find each run's object in the output */
	for (int i = 0; i < W.n; i++) {
		buf b = BUF_INIT;
		assert_ok(store_run_json(W.u.s, W.rid[i], false, &b));
		if (!strstr(out, b.ptr))
			fail_msg("run %s: batched JSON differs from store_run_json:\n%s", W.ids[i],
			         b.ptr);
		buf_free(&b);
		n++;
	}
	assert_int_equal(n, W.n);
	json_doc_free(d);
	cairn_free(out);
}

/* The same when every batch's aggregate finds its rows out of run order
 * and the batch is read again row by row (SQLite; records.c). */
static void batch_json_rows(void **state)
{
	sqlite_rows_disorder = true;
	batch_json_matches(state);
	sqlite_rows_disorder = false;
}

/* cairn_run_iter_write_json's writer: the text into a buf, or a failure
 * at the fail-th call. */
typedef struct jsink {
	buf b;
	int calls, fail;
} jsink;

static int jsink_write(void *arg, const char *data, size_t len)
{
	jsink *k = arg;
	if (++k->calls == k->fail) {
		errno = ENOSPC;
		return 1; /* not a cairn code: CAIRN_EIO */
	}
	buf_add(&k->b, data, len);
	return 0;
}

/* The iterator's records written as JSON by threads equal the records the
 * iterator gives, one by one, whatever the threads, batches, query, and how
 * many were taken with cairn_run_iter_next first; a writer's failure stops
 * it with CAIRN_EIO and errno's reason. */
static void iter_write_json(void **state)
{
	(void)state;
	static const char *const queries[] = {"", "metrics.loss < 2", "tags.a or tags.b"};
	static const char *const sorts[] = {NULL, "-metrics.acc", "params.lr"};
	static const struct {
		size_t min, batch;
		int threads;
	} modes[] = {{1024, 256, 0}, {0, 256, 2}, {0, 3, 4}, {0, 1, 3}, {0, 7, 1}};
	size_t was_min = run_json_threads_min, was_batch = run_json_batch;
	int was_threads = run_json_threads;
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		run_json_threads_min = modes[m].min;
		run_json_batch = modes[m].batch;
		run_json_threads = modes[m].threads;
		for (size_t c = 0; c < 9; c++) {
			cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
			o.query = queries[c % 3];
			o.sort = sorts[c / 3];
			o.include_deleted = c % 2;
			size_t skip = c % 4 == 1 ? 5 : 0;
			/* what the iterator gives */
			cairn_run_iter *it;
			assert_ok(cairn_query_iter_new(&it, W.u.s, &o));
			buf want = BUF_INIT;
			cairn_run_record *r;
			size_t i = 0;
			while (cairn_run_iter_next(&r, it) == 0) {
				if (i++ >= skip) {
					char *js;
					assert_ok(cairn_run_record_json(&js, r, NULL, 0));
					if (want.len)
						buf_putc(&want, ',');
					buf_puts(&want, js);
					cairn_free(js);
				}
				cairn_run_record_free(r);
			}
			assert_true(i > 20);
			cairn_run_iter_rewind(it);
			for (size_t k = 0; k < skip; k++) {
				assert_ok(cairn_run_iter_next(&r, it));
				cairn_run_record_free(r);
			}
			jsink k = {.b = BUF_INIT};
			assert_ok(cairn_run_iter_write_json(it, jsink_write, &k));
			buf_putc(&k.b, 0);
			buf_putc(&want, 0);
			if (strcmp(k.b.ptr, want.ptr) != 0)
				fail_msg("mode %zu, query '%s', sort %s: the written JSON differs",
				         m, o.query, o.sort ? o.sort : "-");
			/* the iterator is at its end */
			assert_int_equal(cairn_run_iter_next(&r, it), CAIRN_ITEROVER);
			buf_free(&k.b);
			/* a failing writer */
			cairn_run_iter_rewind(it);
			/* small batches: many writes, the third fails (threads are
			 * loading later batches then) */
			int fail = modes[m].batch < 10 ? 3 : 1;
			jsink f = {.b = BUF_INIT, .fail = fail};
			assert_int_equal(cairn_run_iter_write_json(it, jsink_write, &f), CAIRN_EIO);
			assert_non_null(strstr(cairn_error_last(), "cannot write the listing"));
			assert_non_null(strstr(cairn_error_last(), strerror(ENOSPC)));
			assert_int_equal(f.calls, fail); /* nothing after the failure */
			buf_free(&f.b);
			buf_free(&want);
			cairn_run_iter_free(it);
		}
	}
	run_json_threads_min = was_min;
	run_json_batch = was_batch;
	run_json_threads = was_threads;
}

/* Groups agree with counting the evaluator's matches per value. */
static void groups(void **state)
{
	(void)state;
	static const char *const by[] = {
	    "params.model", "params.mixed",      "status",      "project",
	    "params.flag",  "metrics.acc.count", "params.none", "datasets.train.digest",
	    "dirty",        "params.lr",         "params.bs"};
	/* the metric: a metric's last value, or a param's numbers (ints and
	 * floats; a mixed param's strings and bools are not summarised) */
	static const char *const metrics[] = {"metrics.acc", "params.mixed", "params.lr"};
	const size_t nby = sizeof by / sizeof by[0];
	for (size_t gi = 0; gi < nby * 3; gi++) {
		const char *field = by[gi % nby], *metric = metrics[gi / nby];
		for (int qi = 0; qi < 3; qi++) {
			const char *query = qi == 0   ? ""
			                    : qi == 1 ? "metrics.loss < 2"
			                              : "tags.a or tags.b";
			cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
			o.query = query;
			char *out;
			assert_ok(cairn_query_group_json(&out, W.u.s, &o, field, metric));
			char err[128];
			json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
			assert_non_null(d);
			qexpr e, fe = {0};
			qerror qe;
			qfield gf;
			assert_int_equal(qexpr_parse(&e, query, &qe), 0);
			assert_int_equal(qfield_parse(&gf, &fe, field, &qe), 0);
			qfield acc;
			assert_int_equal(qfield_parse(&acc, &fe, metric, &qe), 0);
			int64_t total = 0, sum_counts = 0;
			for (const json *g = json_get(json_root(d), "groups")->child; g;
			     g = g->next) {
				const json *val = json_get(g, "value");
				const json *miss = json_get(g, "missing");
				double cnt = 0, nvals = 0, mn = 0, mx = 0;
				json_get_num(g, "count", &cnt);
				json_get_num(g, "values", &nvals);
				json_get_num(g, "min", &mn);
				json_get_num(g, "max", &mx);
				int64_t want = 0, wvals = 0;
				double wmin = INFINITY, wmax = -INFINITY;
				for (int i = 0; i < W.n; i++) {
					const json *run = json_root(W.docs[i]);
					if (W.deleted[i] || (e.root && !eval(run, e.root)))
						continue;
					ev v = field_value(run, &gf);
					bool in;
					if (miss)
						in = v.cls == E_MISSING;
					else if (v.cls == E_MISSING)
						in = false;
					else if (v.cls == E_TEXT)
						in = val->type == JSON_STR &&
						     strcmp(val->str, v.s) == 0;
					else if (isnan(v.d)) {
						/* a param's NaN is {"$float": "NaN"} */
						const json *f = val->type == JSON_OBJ
						                    ? json_get(val, "$float")
						                    : val;
						in = f && f->type == JSON_STR &&
						     strcmp(f->str, "NaN") == 0;
					} else if (val->type == JSON_OBJ) {
						in = false;
					} else {
						ev gv = num_ev(val);
						int ptype = val->type == JSON_BOOL ? 3
						            : gv.is_int            ? 1
						                                   : 2;
						in = val->type != JSON_STR && gv.d == v.d &&
						     (gf.kind != QK_PARAM || ptype == v.ptype);
					}
					if (!in)
						continue;
					want++;
					ev m = field_value(run, &acc);
					if (m.cls == E_NUM && !isnan(m.d) &&
					    (acc.kind != QK_PARAM || m.ptype == 1 ||
					     m.ptype == 2)) {
						wvals++;
						if (m.d < wmin)
							wmin = m.d;
						if (m.d > wmax)
							wmax = m.d;
					}
				}
				if (want != (int64_t)cnt)
					fail_msg("group by %s (%s): count %g, expected %lld", field,
					         query, cnt, (long long)want);
				assert_int_equal((int64_t)nvals, wvals);
				if (wvals) {
					assert_true(mn == wmin);
					assert_true(mx == wmax);
				}
				sum_counts += (int64_t)cnt;
			}
			for (int i = 0; i < W.n; i++)
				if (!W.deleted[i] &&
				    (!e.root || eval(json_root(W.docs[i]), e.root)))
					total++;
			assert_int_equal(sum_counts, total);
			json_doc_free(d);
			cairn_free(out);
			qexpr_free(&e);
			qexpr_free(&fe);
		}
	}
}

/* The same with the metric pass beside the group pass (on a second
 * connection, from another thread: SQLite's group_stats_begin), which big
 * stores take; PostgreSQL has no such pass and takes group_stats. */
static void groups_beside(void **state)
{
	int64_t was = store_group_bg_min;
	store_group_bg_min = 0;
	groups(state);
	store_group_bg_min = was;
}

/* The SQLite store groups a param of at most 256 values by a skip scan and
 * one walk, and any other by GROUP BY: both paths, on NaN, on every type, on
 * values whose first run (the walk's boundary) is deleted or filtered out,
 * and the counts agree with what was logged. */
static void groups_both_paths(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	enum { N = 300 };
	char ids[N][33];
	for (int i = 0; i < N; i++) {
		cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
		o.project = "p";
		cairn_run *r;
		assert_ok(cairn_run_create(&r, u.s, &o));
		memcpy(ids[i], cairn_run_id(r), 33);
		/* many: 290 distinct ints, then NaN, 1.0 (a float equal to int 1) and text */
		cairn_value m = {.type = CAIRN_TYPE_INT, .i = i};
		if (i >= 290)
			m = i % 3 == 0   ? (cairn_value){.type = CAIRN_TYPE_FLOAT, .f = NAN}
			    : i % 3 == 1 ? (cairn_value){.type = CAIRN_TYPE_FLOAT, .f = 1.0}
			                 : (cairn_value){.type = CAIRN_TYPE_STRING, .s = "1"};
		log_param(r, "many", m);
		/* few: the same kinds of values, i % 6 of them */
		static const cairn_value few[] = {
		    {.type = CAIRN_TYPE_INT, .i = 1},     {.type = CAIRN_TYPE_FLOAT, .f = 1.0},
		    {.type = CAIRN_TYPE_BOOL, .i = 1},    {.type = CAIRN_TYPE_STRING, .s = "1"},
		    {.type = CAIRN_TYPE_FLOAT, .f = NAN}, {.type = CAIRN_TYPE_STRING, .s = "a"}};
		if (i % 7) /* every 7th run has no value */
			log_param(r, "few", few[i % 6]);
		assert_ok(cairn_run_log_metric(r, "m", (double)i, 0, 0));
		cairn_run_free(r);
	}
	/* the first run of each of few's values deleted: a value's first row
	 * is then not a match (runs 1..5; run 0 has no value) */
	for (int i = 1; i <= 5; i++)
		assert_ok(cairn_run_delete(u.s, ids[i], 0));
	static const struct {
		const char *field, *query;
		int64_t total;
		size_t ngroups;
	} cases[] = {
	    /* 1..5 deleted: 295 runs; many: 285 ints, NaN, 1.0, "1" (past 256: GROUP BY) */
	    {"params.many", "", 295, 288},
	    {"params.many", "metrics.m >= 10", 290, 283},
	    /* few: 6 values and the missing group */
	    {"params.few", "", 295, 7},
	    /* only runs past 200: the first runs of the values are not matches */
	    {"params.few", "metrics.m > 200", 99, 7},
	    /* one value left: the walk's other values have no match */
	    {"params.few", "metrics.m = 12", 1, 1},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
		o.query = cases[c].query;
		cairn_group_result *g;
		assert_ok(cairn_query_group(&g, u.s, &o, cases[c].field, "metrics.m"));
		assert_int_equal(cairn_group_result_total(g), cases[c].total);
		size_t n = cairn_group_result_count(g);
		if (n != cases[c].ngroups)
			fail_msg("%s [%s]: %zu groups, expected %zu", cases[c].field,
			         cases[c].query, n, cases[c].ngroups);
		int64_t sum = 0;
		for (size_t k = 0; k < n; k++) {
			const cairn_group *gr = cairn_group_result_get(g, k);
			sum += gr->count;
			/* every run has the metric: one value a run */
			assert_int_equal(gr->values, gr->count);
			assert_true(gr->min <= gr->mean && gr->mean <= gr->max);
			/* a value's runs: its own, by the value's type (1, 1.0, true
			 * and "1" apart); each of few's values holds runs i % 6 */
			if (strcmp(cases[c].field, "params.few") == 0 && !gr->missing) {
				int64_t want = 0;
				for (int i = 0; i < N; i++) {
					if (i % 7 == 0 || (i >= 1 && i <= 5))
						continue;
					if (cases[c].query[0] &&
					    !(strstr(cases[c].query, "> 200") ? i > 200 : i == 12))
						continue;
					cairn_type t = gr->value.type;
					int kind = i % 6;
					bool same = t == CAIRN_TYPE_INT    ? kind == 0
					            : t == CAIRN_TYPE_BOOL ? kind == 2
					            : t == CAIRN_TYPE_STRING
					                ? kind == (*gr->value.s == '1' ? 3 : 5)
					            : isnan(gr->value.f) ? kind == 4
					                                 : kind == 1;
					want += same;
				}
				assert_int_equal(gr->count, want);
			}
		}
		assert_int_equal(sum, cases[c].total);
		cairn_group_result_free(g);
	}
	unit_store_close(&u);
}

static void bad_input(void **state)
{
	(void)state;
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	char *out = (char *)1;
	o.query = "metrics.acc >";
	assert_int_equal(cairn_query_runs_json(&out, W.u.s, &o), CAIRN_EINVALID);
	assert_null(out);
	assert_non_null(strstr(cairn_error_last(), "expected a value"));
	o.query = NULL;
	o.sort = "-tags";
	assert_int_equal(cairn_query_runs_json(&out, W.u.s, &o), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "cannot sort by tags"));
	o.sort = NULL;
	o.version = 99;
	assert_int_equal(cairn_query_runs_json(&out, W.u.s, &o), CAIRN_EINVALID);
	o.version = CAIRN_QUERY_OPTIONS_VERSION;
	o.offset = -1;
	assert_int_equal(cairn_query_runs_json(&out, W.u.s, &o), CAIRN_EINVALID);
	o.offset = 0;
	assert_int_equal(cairn_query_group_json(&out, W.u.s, &o, "tags", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_query_group_json(&out, W.u.s, &o, "params.", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_query_group_json(&out, W.u.s, &o, "", NULL), CAIRN_EINVALID);
	/* many distinct statements in one query (more than it keeps prepared) */
	{
		static const char *const f[] = {"metrics.acc", "metrics.loss",    "params.lr",
		                                "params.bs",   "metrics.acc.max", "params.mixed",
		                                "seq",         "exit_code"};
		static const char *const op[] = {">", "<", ">=", "<=", "!=", "="};
		gen g = {.n = 0};
		g.s[0] = '\0';
		for (int i = 0; i < 96; i++)
			g_printf(&g, "%s(%s %s %d.%d and not tags.t%d)", i ? " or " : "", f[i % 8],
			         op[i / 8 % 6], i % 3, i % 10, i);
		check_query(g.s, "-metrics.acc", NULL, false, 0, 0);
	}
	/* an unknown key matches nothing, positive or negative */
	assert_int_equal(
	    check_query("metrics.nokey != 1 or params.nokey != 2", NULL, NULL, false, 0, 0), 0);
	/* an empty store answers too */
	unit_store u;
	unit_store_open(&u);
	o.query = "metrics.acc > 0 or not tags.a";
	o.sort = "-metrics.acc";
	assert_ok(cairn_query_runs_json(&out, u.s, &o));
	assert_string_equal(out, "{\"total\":0,\"runs\":[]}");
	cairn_free(out);
	assert_ok(cairn_query_group_json(&out, u.s, &o, "params.model", "metrics.acc"));
	assert_non_null(strstr(out, "\"groups\":[]"));
	cairn_free(out);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fixed_queries),      cmocka_unit_test(random_queries),
	    cmocka_unit_test(offset_pages),       cmocka_unit_test(sorts_everything),
	    cmocka_unit_test(batch_json_matches), cmocka_unit_test(batch_json_rows),
	    cmocka_unit_test(iter_write_json),    cmocka_unit_test(groups),
	    cmocka_unit_test(groups_beside),      cmocka_unit_test(groups_both_paths),
	    cmocka_unit_test(bad_input),          cmocka_unit_test(keyset_pages),
	    cmocka_unit_test(keyset_bad),         cmocka_unit_test(keyset_tags),
	    cmocka_unit_test(files_lists),        cmocka_unit_test(walk_tests_its_key),
	};
	store_probe_min_runs = 0; /* the walk of a sort key on a small store too */
	return cmocka_run_group_tests(tests, setup, teardown);
}
