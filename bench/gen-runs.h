/*
 * bench/gen-runs.h — builds a large synthetic store for the query benchmark:
 * N runs × 20 params × 10 final metrics (one point each, so summaries and
 * points agree) and 0–3 tags per run, written straight into the store's
 * SQLite file in one transaction (the library creates the schema first).
 *
 * The values are drawn from a fixed-seed generator, so two builds are
 * identical and figures compare across runs of the benchmark.
 */
#ifndef CAIRN_BENCH_GEN_RUNS_H
#define CAIRN_BENCH_GEN_RUNS_H

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"

static uint64_t gen_state = 0x9E3779B97F4A7C15ull;

static inline uint64_t gen_next(void)
{
	/* splitmix64 */
	uint64_t z = (gen_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline double gen_unif(void)
{
	return (double)(gen_next() >> 11) / 9007199254740992.0;
}

#define GEN_NPARAMS  20
#define GEN_NMETRICS 10

static const char *const gen_param_names[GEN_NPARAMS] = {
    "model",  "optimizer", "lr",           "batch_size", "epochs",       "dropout",   "seed",
    "layers", "hidden",    "weight_decay", "augment",    "momentum",     "warmup",    "scheduler",
    "loss",   "depth",     "n_estimators", "subsample",  "data_version", "activation"};
static const char *const gen_metric_names[GEN_NMETRICS] = {
    "valid_auc", "train_auc", "valid_loss", "train_loss", "accuracy",
    "f1",        "precision", "recall",     "rmse",       "epoch_time"};
static const char *const gen_models[] = {"lgbm", "xgb", "rf", "mlp", "linear"};
static const char *const gen_opts[] = {"adam", "sgd", "rmsprop", "adagrad"};
static const char *const gen_tags[] = {"baseline", "sweep", "debug", "tuned", "gpu", "cpu"};

static inline int gen_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "gen: %s: %s\n", sql, err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Build `nruns` runs into the (new, empty) store at store_dir. */
static inline int gen_runs(const char *store_dir, int nruns)
{
	char path[4096];
	sqlite3 *db;
	cairn_store *s;
	if (cairn_store_open(&s, store_dir) != 0) {
		fprintf(stderr, "gen: %s\n", cairn_error_last());
		return -1;
	}
	cairn_store_close(s);
	snprintf(path, sizeof path, "%s/cairn.db", store_dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	gen_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
	if (gen_exec(db, "BEGIN") != 0)
		return -1;
	gen_exec(db, "INSERT INTO projects(id, name, next_seq, created) VALUES(1, 'bench', 1, 0)");
	int64_t kid[GEN_NPARAMS + GEN_NMETRICS];
	sqlite3_stmt *k;
	sqlite3_prepare_v2(db, "INSERT INTO keys(name) VALUES(?)", -1, &k, NULL);
	for (int i = 0; i < GEN_NPARAMS + GEN_NMETRICS; i++) {
		const char *n =
		    i < GEN_NPARAMS ? gen_param_names[i] : gen_metric_names[i - GEN_NPARAMS];
		sqlite3_bind_text(k, 1, n, -1, SQLITE_STATIC);
		sqlite3_step(k);
		sqlite3_reset(k);
		kid[i] = sqlite3_last_insert_rowid(db);
	}
	sqlite3_finalize(k);
	sqlite3_stmt *ru, *pa, *ms, *mp, *tg;
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO runs(rid, id, project_id, seq, name, status, start_time,"
	    " end_time, heartbeat, exit_code, command, cwd, host, user, pid, note,"
	    " git_commit, git_branch, git_dirty)"
	    " VALUES(?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, '/home/me/proj', ?, 'me', 4242,"
	    " '', ?, ?, ?)",
	    -1, &ru, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO params(rid, kid, type, value) VALUES(?, ?, ?, ?)", -1,
	                   &pa, NULL);
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO metric_summary(rid, kid, last, last_step, last_ts, min, max,"
	    " count) VALUES(?, ?, ?, 0, ?, ?, ?, 1)",
	    -1, &ms, NULL);
	sqlite3_prepare_v2(
	    db, "INSERT INTO metric_points(rid, kid, step, ts, value) VALUES(?, ?, 0, ?, ?)", -1,
	    &mp, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO tags(rid, tag) VALUES(?, ?)", -1, &tg, NULL);
	const double t0 = 1767225600.0; /* 2026-01-01 */
	for (int r = 1; r <= nruns; r++) {
		char id[33], name[32], cmd[96], commit[41];
		for (int i = 0; i < 32; i += 16)
			snprintf(id + i, 17, "%016llx", (unsigned long long)gen_next());
		snprintf(name, sizeof name, "run-%d", r);
		for (int i = 0; i < 40; i += 10)
			snprintf(commit + i, 11, "%010llx",
			         (unsigned long long)(gen_next() % 64 * 997));
		double u = gen_unif();
		int status = u < 0.9 ? 1 : u < 0.97 ? 2 : u < 0.99 ? 3 : 0;
		double start = t0 + (double)r * 300.0 + gen_unif() * 100.0;
		double end = start + 60 + gen_unif() * 36000;
		const char *model = gen_models[gen_next() % 5];
		snprintf(cmd, sizeof cmd, "python train.py --model %s", model);
		sqlite3_bind_int64(ru, 1, r);
		sqlite3_bind_text(ru, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ru, 3, r);
		sqlite3_bind_text(ru, 4, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(ru, 5, status);
		sqlite3_bind_double(ru, 6, start);
		if (status)
			sqlite3_bind_double(ru, 7, end);
		else
			sqlite3_bind_null(ru, 7);
		sqlite3_bind_double(ru, 8, status ? end : start);
		if (status)
			sqlite3_bind_int(ru, 9, status == 1 ? 0 : 1);
		else
			sqlite3_bind_null(ru, 9);
		sqlite3_bind_text(ru, 10, cmd, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ru, 11, r % 7 ? "gpu-box" : "laptop", -1, SQLITE_STATIC);
		sqlite3_bind_text(ru, 12, commit, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ru, 13, r % 5 ? "main" : "experiment", -1, SQLITE_STATIC);
		sqlite3_bind_int(ru, 14, r % 3 == 0);
		if (sqlite3_step(ru) != SQLITE_DONE) {
			fprintf(stderr, "gen: run insert: %s\n", sqlite3_errmsg(db));
			return -1;
		}
		sqlite3_reset(ru);
		for (int p = 0; p < GEN_NPARAMS; p++) {
			sqlite3_bind_int64(pa, 1, r);
			sqlite3_bind_int64(pa, 2, kid[p]);
			switch (p) {
			case 0:
				sqlite3_bind_int(pa, 3, CAIRN_TYPE_STRING);
				sqlite3_bind_text(pa, 4, model, -1, SQLITE_STATIC);
				break;
			case 1:
			case 13:
			case 14:
			case 18:
			case 19: {
				char v[32];
				if (p == 1)
					snprintf(v, sizeof v, "%s", gen_opts[gen_next() % 4]);
				else
					snprintf(v, sizeof v, "%c%d", "sclda"[p % 5],
					         (int)(gen_next() % 8));
				sqlite3_bind_int(pa, 3, CAIRN_TYPE_STRING);
				sqlite3_bind_text(pa, 4, v, -1, SQLITE_TRANSIENT);
				break;
			}
			case 2:
			case 5:
			case 9:
			case 11:
			case 17:
				sqlite3_bind_int(pa, 3, CAIRN_TYPE_FLOAT);
				sqlite3_bind_double(pa, 4,
				                    p == 2 ? pow(10, -5 + 4 * gen_unif())
				                           : round(gen_unif() * 1000) / 1000);
				break;
			case 10:
				sqlite3_bind_int(pa, 3, CAIRN_TYPE_BOOL);
				sqlite3_bind_int(pa, 4, (int)(gen_next() & 1));
				break;
			default:
				sqlite3_bind_int(pa, 3, CAIRN_TYPE_INT);
				sqlite3_bind_int64(pa, 4, p == 6 ? r : (int64_t)(gen_next() % 512));
				break;
			}
			if (sqlite3_step(pa) != SQLITE_DONE) {
				fprintf(stderr, "gen: param insert: %s\n", sqlite3_errmsg(db));
				return -1;
			}
			sqlite3_reset(pa);
		}
		for (int m = 0; m < GEN_NMETRICS; m++) {
			double v =
			    m < 2 || (m >= 4 && m < 8) ? 0.5 + 0.5 * gen_unif() : gen_unif() * 3;
			bool nan = gen_next() % 200 == 0;
			int64_t ts = (int64_t)(end * 1000);
			sqlite3_bind_int64(ms, 1, r);
			sqlite3_bind_int64(ms, 2, kid[GEN_NPARAMS + m]);
			sqlite3_bind_int64(ms, 4, ts);
			sqlite3_bind_int64(mp, 1, r);
			sqlite3_bind_int64(mp, 2, kid[GEN_NPARAMS + m]);
			sqlite3_bind_int64(mp, 3, ts);
			if (nan) {
				sqlite3_bind_null(ms, 3);
				sqlite3_bind_null(ms, 5);
				sqlite3_bind_null(ms, 6);
				sqlite3_bind_null(mp, 4);
			} else {
				sqlite3_bind_double(ms, 3, v);
				sqlite3_bind_double(ms, 5, v);
				sqlite3_bind_double(ms, 6, v);
				sqlite3_bind_double(mp, 4, v);
			}
			if (sqlite3_step(ms) != SQLITE_DONE || sqlite3_step(mp) != SQLITE_DONE) {
				fprintf(stderr, "gen: metric insert: %s\n", sqlite3_errmsg(db));
				return -1;
			}
			sqlite3_reset(ms);
			sqlite3_reset(mp);
		}
		uint64_t tb = gen_next();
		for (int t = 0; t < 6; t++) {
			if ((tb >> (t * 3) & 7) != 0)
				continue; /* each tag on 1 run in 8 */
			sqlite3_bind_int64(tg, 1, r);
			sqlite3_bind_text(tg, 2, gen_tags[t], -1, SQLITE_STATIC);
			sqlite3_step(tg);
			sqlite3_reset(tg);
		}
	}
	char upd[96];
	snprintf(upd, sizeof upd, "UPDATE projects SET next_seq = %d WHERE id = 1", nruns + 1);
	gen_exec(db, upd);
	sqlite3_finalize(ru);
	sqlite3_finalize(pa);
	sqlite3_finalize(ms);
	sqlite3_finalize(mp);
	sqlite3_finalize(tg);
	int rc = gen_exec(db, "COMMIT");
	sqlite3_close(db);
	return rc;
}

/* The store a benchmark reads, from its command line: --runs N (default
 * 100,000) runs, under --keep DIR (built there once, reused after) or under
 * a fresh temporary folder that gen_store_done removes. */
typedef struct {
	int nruns;
	const char *keep;
	char base[4096];
	char store_dir[4200];
} gen_store;

static inline int gen_store_open(gen_store *g, const char *who, int argc, char **argv)
{
	g->nruns = 100000;
	g->keep = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			g->nruns = atoi(argv[++i]);
		else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc)
			g->keep = argv[++i];
	}
	if (g->keep) {
		snprintf(g->base, sizeof g->base, "%s", g->keep);
	} else {
		snprintf(g->base, sizeof g->base, "/tmp/cairn-%s.XXXXXX", who);
		if (!mkdtemp(g->base)) {
			fprintf(stderr, "%s: mkdtemp: %s\n", who, strerror(errno));
			return -1;
		}
	}
	char db_path[4300];
	snprintf(g->store_dir, sizeof g->store_dir, "%s/.cairn", g->base);
	snprintf(db_path, sizeof db_path, "%s/cairn.db", g->store_dir);
	if (access(db_path, F_OK) == 0)
		return 0;
	char *sd = NULL;
	if (cairn_store_init(&sd, g->base) != 0) {
		fprintf(stderr, "%s: %s\n", who, cairn_error_last());
		return -1;
	}
	cairn_free(sd);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (gen_runs(g->store_dir, g->nruns) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("built %d runs × %d params × %d metrics in %.1f s\n", g->nruns, GEN_NPARAMS,
	       GEN_NMETRICS, (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}

/* Remove the store unless it was kept with --keep. */
static inline int gen_store_done(const gen_store *g, const char *who)
{
	if (g->keep)
		return 0;
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g->base);
	if (system(cmd) == 0)
		return 0;
	fprintf(stderr, "%s: cannot remove %s\n", who, g->base);
	return -1;
}

#endif
