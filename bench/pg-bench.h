/*
 * bench/pg-bench.h — what the PostgreSQL benchmarks share (bench-*-pg.c):
 * a throwaway cluster through scripts/pg-cluster, one SQL statement on a
 * raw libpq connection, and big-endian fields for binary COPY floors.
 * libpq is the library's own lazily loaded table (lib/store/pg/pg.h).
 */
#ifndef CAIRN_BENCH_PG_BENCH_H
#define CAIRN_BENCH_PG_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/pg.h"

/* The first line `scripts/pg-cluster ARGS` prints (malloc'd), or NULL. */
static inline char *pg_cluster(const char *args)
{
	char cmd[4400];
	snprintf(cmd, sizeof cmd, "scripts/pg-cluster %s", args);
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	char l[4096] = "";
	if (!fgets(l, sizeof l, f))
		l[0] = '\0';
	if (pclose(f) != 0 || !l[0])
		return NULL;
	l[strcspn(l, "\n")] = '\0';
	return strdup(l);
}

/* Run q; 0, or -1 with "WHO: q: the server's message" on stderr. */
static inline int pg_bench_sql(PGconn *c, const char *who, const char *q)
{
	PGresult *r = pq.exec(c, q);
	ExecStatusType st = pq.resultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "%s: %s: %s\n", who, q, pq.errorMessage(c));
	pq.clear(r);
	return ok ? 0 : -1;
}

/* v as n big-endian bytes at p (binary COPY's byte order). */
static inline void put_be(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (char)(v & 0xff);
}

#endif
