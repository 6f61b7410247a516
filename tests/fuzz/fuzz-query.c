/*
 * tests/fuzz/fuzz-query.c — libFuzzer target for the query language.
 *
 * Input: up to three lines — a query, a sort specification, a field to
 * group by.  Each is validated, then run against a small store (created once
 * per process, removed at exit).  Properties checked beyond "no crash, no
 * leak" (the sanitizers): an error position lies inside the text, and no
 * input text reaches SQL: every statement the store prepares is traced and
 * every word in it must come from the fixed vocabulary of the compiler's SQL
 * fragments, every number must be one of the few the fragments contain, and
 * the only quoted literal allowed is ''.  Values travel as bindings only.
 * (The vocabulary includes the fixed SQL of the store's key list, which "did
 * you mean" suggestions for an unknown bare name read: DISTINCT, EXISTS.)
 *
 * Build with clang: clang -fsanitize=fuzzer,address ... (see
 * docs/internals/query.md); `make test` replays tests/fuzz/corpus/query/.
 */
#include <ctype.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn.h"
#include "lib/store/sqlite/sqlite.h"

static cairn_store *store;
static char store_dir[64];

static const char *const vocabulary[] = {"SELECT",
                                         "FROM",
                                         "WHERE",
                                         "AND",
                                         "OR",
                                         "NOT",
                                         "IN",
                                         "IS",
                                         "NULL",
                                         "LIMIT",
                                         "OFFSET",
                                         "ORDER",
                                         "BY",
                                         "ASC",
                                         "DESC",
                                         "JOIN",
                                         "ON",
                                         "AS",
                                         "CASE",
                                         "WHEN",
                                         "THEN",
                                         "ELSE",
                                         "END",
                                         "CAST",
                                         "INTEGER",
                                         "GLOB",
                                         "LIKE",
                                         "INDEXED",
                                         "BEGIN",
                                         "COMMIT",
                                         "ROLLBACK",
                                         "count",
                                         "coalesce",
                                         "max",
                                         "cairn_bits",
                                         "cairn_inset",
                                         "runs",
                                         "params",
                                         "metric_summary",
                                         "tags",
                                         "properties",
                                         "datasets",
                                         "artifacts",
                                         "cat_runs",
                                         "cat_params",
                                         "cat_metrics",
                                         "cat_props",
                                         "cat_tags",
                                         "kind",
                                         "projects",
                                         "keys",
                                         "rid",
                                         "kid",
                                         "id",
                                         "name",
                                         "type",
                                         "value",
                                         "last",
                                         "min",
                                         "last_step",
                                         "last_ts",
                                         "tag",
                                         "key",
                                         "digest",
                                         "path",
                                         "role",
                                         "algo",
                                         "files",
                                         "bytes",
                                         "manifest_oid",
                                         "status",
                                         "heartbeat",
                                         "start_time",
                                         "end_time",
                                         "seq",
                                         "project_id",
                                         "user",
                                         "host",
                                         "git_commit",
                                         "git_branch",
                                         "git_remote",
                                         "git_dirty",
                                         "command",
                                         "note",
                                         "exit_code",
                                         "deleted",
                                         "cwd",
                                         "pid",
                                         "parent_rid",
                                         "code_oid",
                                         "env_oid",
                                         "runs_visible",
                                         "runs_parent",
                                         "run_count",
                                         "BETWEEN",
                                         "r",
                                         "p",
                                         "q",
                                         "k",
                                         "m",
                                         "PRAGMA",
                                         "user_version",
                                         "application_id",
                                         "journal_mode",
                                         "WAL",
                                         "synchronous",
                                         "NORMAL",
                                         "foreign_keys",
                                         "OFF",
                                         "temp_store",
                                         "MEMORY",
                                         "cache_size",
                                         "sqlite_schema",
                                         "GROUP",
                                         "cairn_gid",
                                         "cairn_gstat",
                                         "cairn_gvals",
                                         "cairn_rows",
                                         "cairn_gwalk",
                                         "w",
                                         "v",
                                         "t",
                                         "g",
                                         "c",
                                         "out",
                                         "lim",
                                         "DISTINCT",
                                         "EXISTS",
                                         "x",
                                         "n",
                                         "d",
                                         NULL};

static bool known_word(const char *w, size_t n)
{
	for (int i = 0; vocabulary[i]; i++)
		if (strlen(vocabulary[i]) == n && strncmp(vocabulary[i], w, n) == 0)
			return true;
	return false;
}

static int trace(unsigned type, void *ctx, void *p, void *x)
{
	(void)ctx;
	(void)type;
	const char *sql = sqlite3_sql((sqlite3_stmt *)p);
	(void)x;
	if (!sql)
		return 0;
	for (const char *c = sql; *c;) {
		if (isalpha((unsigned char)*c) || *c == '_') {
			const char *st = c;
			while (isalnum((unsigned char)*c) || *c == '_')
				c++;
			if (!known_word(st, (size_t)(c - st))) {
				fprintf(stderr, "word '%.*s' reached SQL: %s\n", (int)(c - st), st,
				        sql);
				abort();
			}
		} else if (isdigit((unsigned char)*c)) {
			const char *st = c;
			while (isdigit((unsigned char)*c))
				c++;
			long v = strtol(st, NULL, 10);
			/* grouping sets the page cache's size and gives the store's back */
			bool cache = st - sql >= 12 && (strncmp(st - 11, "cache_size=", 11) == 0 ||
			                                strncmp(st - 12, "cache_size=-", 12) == 0);
			if (!cache && (c - st > 4 || (v > 4 && v != 1000 && v != 65536))) {
				fprintf(stderr, "number '%.*s' reached SQL: %s\n", (int)(c - st),
				        st, sql);
				abort();
			}
		} else if (*c == '\'') {
			if (c[1] != '\'') {
				fprintf(stderr, "a string literal reached SQL: %s\n", sql);
				abort();
			}
			c += 2;
		} else {
			c++;
		}
	}
	return 0;
}

static void cleanup(void)
{
	cairn_store_close(store);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", store_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", store_dir);
}

static void setup(void)
{
	snprintf(store_dir, sizeof store_dir, "/tmp/cairn-fuzz-query.XXXXXX");
	if (!mkdtemp(store_dir))
		abort();
	char *sd;
	if (cairn_store_init(&sd, store_dir) != 0 || cairn_store_open(&store, sd) != 0)
		abort();
	cairn_free(sd);
	atexit(cleanup);
	char data[sizeof store_dir + 16];
	snprintf(data, sizeof data, "%s/train.csv", store_dir);
	FILE *f = fopen(data, "w");
	if (!f || fputs("a,b\n1,2\n", f) < 0 || fclose(f) != 0)
		abort();
	static const char *const tags[] = {"a", "debug"};
	for (int i = 0; i < 12; i++) {
		cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
		o.project = i % 2 ? "p1" : "p2";
		o.tags = tags;
		o.ntags = (size_t)(i % 3);
		cairn_run *r;
		if (cairn_run_create(&r, store, &o) != 0)
			abort();
		cairn_run_log_param_text(r, "lr", i % 4 ? "0.01" : "x");
		cairn_run_log_param_text(r, "flag", i % 2 ? "true" : "3");
		cairn_run_log_metric(r, "acc", i / 10.0, 0, 0);
		cairn_run_log_metric(r, "acc", i % 5 ? i / 7.0 : 0.0 / 0.0, 1, 0);
		cairn_run_set_property(r, "owner", i % 2 ? "me" : "you");
		/* what the run read and wrote (the query's reads and wrote) */
		if (i % 4 == 1)
			cairn_run_log_artifact_buf(r, "m", 1, "ckpt/model.pt", CAIRN_ARTIFACT_FILE);
		if (i % 4 == 2)
			cairn_run_log_dataset(r, "train", data, "input");
		if (i % 3)
			cairn_run_finish(r, CAIRN_STATUS_FINISHED, 0);
		cairn_run_free(r);
	}
	sqlite3_trace_v2(store_sqlite_db(store), SQLITE_TRACE_STMT, trace, NULL);
}

static void check_pos(int rc, size_t pos, const char *text)
{
	if (rc != 0 && pos > strlen(text))
		abort();
	if (rc != 0 && !*cairn_error_last())
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store)
		setup();
	if (size > 20000)
		return 0;
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char *lines[3] = {text, NULL, NULL};
	for (int i = 0; i < 2 && lines[i]; i++) {
		char *nl = strchr(lines[i], '\n');
		if (nl) {
			*nl = '\0';
			lines[i + 1] = nl + 1;
		}
	}
	size_t pos = 0;
	int rc = cairn_query_validate(lines[0], &pos);
	check_pos(rc, pos, lines[0]);
	char *out = NULL;
	if (lines[1]) {
		int src = cairn_query_sort_validate(lines[1], &pos);
		check_pos(src, pos, lines[1]);
		if (src != 0)
			lines[1] = NULL;
	}
	if (rc == 0) {
		cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
		o.query = lines[0];
		o.sort = lines[1];
		o.limit = 5;
		if (cairn_query_runs_json(&out, store, &o) != 0)
			abort(); /* a valid query must run */
		cairn_free(out);
		o.project = "p1";
		o.offset = 2;
		if (cairn_query_runs_json(&out, store, &o) != 0)
			abort();
		cairn_free(out);
		if (lines[2] &&
		    cairn_query_group_json(&out, store, &o, lines[2], "metrics.acc") == 0)
			cairn_free(out);
	}
	rc = cairn_query_field_json(&out, lines[0], &pos);
	check_pos(rc, pos, lines[0]);
	if (rc == 0)
		cairn_free(out);
	free(text);
	return 0;
}
