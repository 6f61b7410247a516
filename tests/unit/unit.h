/*
 * tests/unit/unit.h — helpers for cmocka unit tests: a temporary store per
 * test, removed afterwards.
 *
 * Both backends: with CAIRN_TEST_PG=1 every unit_store_open store is a
 * fresh PostgreSQL database (its objects in the test's temp directory) on
 * the cluster CAIRN_TEST_PG_URI names, or, without one, on a cluster this
 * program starts with scripts/pg-cluster and stops at exit.  What a test
 * checks in the store itself goes through unit_store.objects (where the
 * object files are) and unit_store_sql (the database), the same on either
 * backend.  A test that is about SQLite or the directory layout (discovery,
 * cairn.db, .cairn files) says so with UNIT_SQLITE_ONLY(why) and is skipped
 * on PostgreSQL.
 */
#ifndef CAIRN_TESTS_UNIT_H
#define CAIRN_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn.h"

/* Make a fresh temp directory; returns a malloc'd path. */
static inline char *unit_tmpdir(void)
{
	char tmpl[] = "/tmp/cairn-unit.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static inline void unit_rmrf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* --- PostgreSQL (CAIRN_TEST_PG=1) --------------------------------------- */

static inline bool unit_pg(void)
{
	const char *v = getenv("CAIRN_TEST_PG");
	return v && strcmp(v, "1") == 0;
}

#define UNIT_SQLITE_ONLY(why)                                                                      \
	do {                                                                                       \
		if (unit_pg()) {                                                                   \
			print_message("# skip on postgresql: %s\n", why);                          \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Run `scripts/pg-cluster ARGS` and return its first line (malloc'd). */
static inline char *unit_pg_cluster(const char *args)
{
	char cmd[4400];
	const char *root = getenv("CAIRN_ROOT");
	snprintf(cmd, sizeof cmd, "'%s/scripts/pg-cluster' %s", root && *root ? root : ".", args);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[4096] = "";
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	int rc = pclose(f);
	if (rc != 0 || !line[0])
		fail_msg("scripts/pg-cluster %s failed (%d)", args, rc);
	line[strcspn(line, "\n")] = '\0';
	return strdup(line);
}

static char *unit_pg_started_; /* the cluster this program started */

static inline void unit_pg_stop_(void)
{
	char args[4200];
	snprintf(args, sizeof args, "stop '%s'", unit_pg_started_);
	char cmd[4400];
	const char *root = getenv("CAIRN_ROOT");
	snprintf(cmd, sizeof cmd, "'%s/scripts/pg-cluster' %s", root && *root ? root : ".", args);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot stop the test cluster\n");
}

/* The base URI of the test cluster (started on first use if need be). */
static inline const char *unit_pg_base(void)
{
	const char *u = getenv("CAIRN_TEST_PG_URI");
	if (u && *u)
		return u;
	unit_pg_started_ = unit_pg_cluster("start");
	setenv("CAIRN_TEST_PG_URI", unit_pg_started_, 1);
	atexit(unit_pg_stop_);
	return unit_pg_started_;
}

/* A fresh database's URI with its objects under dir (malloc'd). */
static inline char *unit_pg_store(const char *dir)
{
	static int n;
	char args[4400];
	snprintf(args, sizeof args, "createdb '%s' u%d_%d", unit_pg_base(), (int)getpid(), n++);
	char *uri = unit_pg_cluster(args);
	size_t len = strlen(uri) + strlen(dir) + 32;
	char *full = malloc(len);
	snprintf(full, len, "%s%cobjects=%s/objects", uri, strchr(uri, '?') ? '&' : '?', dir);
	free(uri);
	return full;
}

/* A fresh store in a temp dir. */
typedef struct unit_store {
	char *dir;
	char *store_dir; /* what opens the store: its directory, or its URI */
	char *objects;   /* the directory of its object files, on either backend */
	char *db;        /* for unit_store_sql: cairn.db, or the URI for libpq */
	cairn_store *s;
} unit_store;

static inline char *unit_strcat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s%s%s", a, b, c);
	return p;
}

static inline void unit_store_open(unit_store *u)
{
	u->dir = unit_tmpdir();
	if (unit_pg()) {
		char *uri = unit_pg_store(u->dir);
		char *shown = NULL;
		if (cairn_store_init(&shown, uri) != 0)
			fail_msg("cannot create the store: %s", cairn_error_last());
		cairn_free(shown);
		u->store_dir = uri; /* the URI opens the store again */
		u->objects = unit_strcat3(u->dir, "/objects", "");
		u->db = strdup(uri); /* less objects=, the last parameter: cairn's, not libpq's */
		char *o = strstr(u->db, "objects=");
		assert_non_null(o);
		o[-1] = '\0';
		assert_int_equal(cairn_store_open(&u->s, u->store_dir), 0);
		return;
	}
	assert_int_equal(cairn_store_init(&u->store_dir, u->dir), 0);
	u->objects = unit_strcat3(u->store_dir, "/objects", "");
	u->db = unit_strcat3(u->store_dir, "/cairn.db", "");
	assert_int_equal(cairn_store_open(&u->s, u->store_dir), 0);
}

/* Run SQL on the store's database with its own client (sqlite3 or psql, as
 * scripts do: tests/e2e/lib.sh's store_sql), outside the store's handle.
 * Returns the rows, one a line, columns joined by '|' (malloc'd; the test
 * fails when the client does).  SQL both dialects take works on either. */
static inline char *unit_store_sql(const unit_store *u, const char *sql)
{
	char q[8192];
	size_t k = 0;
	for (const char *c = sql; *c && k + 5 < sizeof q; c++) { /* one shell word */
		if (*c == '\'') {
			memcpy(q + k, "'\\''", 4);
			k += 4;
		} else {
			q[k++] = *c;
		}
	}
	q[k] = '\0';
	char cmd[12800];
	if (unit_pg())
		snprintf(cmd, sizeof cmd, "psql -X -q -t -A -v ON_ERROR_STOP=1 '%s' -c '%s'", u->db,
		         q);
	else
		snprintf(cmd, sizeof cmd, "sqlite3 '%s' '%s'", u->db, q);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t cap = 4096, n = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	size_t got;
	while ((got = fread(out + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[n] = '\0';
	if (pclose(f) != 0)
		fail_msg("store sql failed: %s", sql);
	return out;
}

/* True when the bytes of needle (no quote in it) are anywhere in the store:
 * its database (on SQLite every file of the store directory, so its WAL and
 * its objects; on PostgreSQL every row of every table) or an object file,
 * as stored. */
static inline bool unit_store_holds(const unit_store *u, const char *needle)
{
	char cmd[8800];
	if (!unit_pg()) {
		snprintf(cmd, sizeof cmd, "grep -rqa -- '%s' '%s'", needle, u->store_dir);
		return system(cmd) == 0;
	}
	char *rows =
	    unit_store_sql(u, "SELECT query_to_xml('SELECT * FROM ' || quote_ident(tablename),"
	                      " true, false, '') FROM pg_tables WHERE schemaname = 'public'");
	bool in_rows = strstr(rows, needle) != NULL;
	free(rows);
	snprintf(cmd, sizeof cmd, "grep -rqa -- '%s' '%s' 2>/dev/null", needle, u->objects);
	return in_rows || system(cmd) == 0;
}

static inline void unit_store_close(unit_store *u)
{
	cairn_store_close(u->s);
	unit_rmrf(u->dir);
	free(u->dir);
	free(u->objects);
	free(u->db);
	if (unit_pg())
		free(u->store_dir);
	else
		cairn_free(u->store_dir);
}

#define assert_ok(expr)                                                                            \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != 0)                                                                      \
			fail_msg("%s returned %d: %s", #expr, rc_, cairn_error_last());            \
	} while (0)

#endif
