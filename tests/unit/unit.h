/*
 * tests/unit/unit.h — helpers for cmocka unit tests: a temporary store per
 * test, removed afterwards.
 */
#ifndef CAIRN_TESTS_UNIT_H
#define CAIRN_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

/* A fresh store in a temp dir. */
typedef struct unit_store {
	char *dir;
	char *store_dir;
	cairn_store *s;
} unit_store;

static inline void unit_store_open(unit_store *u)
{
	u->dir = unit_tmpdir();
	assert_int_equal(cairn_store_init(&u->store_dir, u->dir), 0);
	assert_int_equal(cairn_store_open(&u->s, u->store_dir), 0);
}

static inline void unit_store_close(unit_store *u)
{
	cairn_store_close(u->s);
	unit_rmrf(u->dir);
	free(u->dir);
	cairn_free(u->store_dir);
}

#define assert_ok(expr)                                                                            \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != 0)                                                                      \
			fail_msg("%s returned %d: %s", #expr, rc_, cairn_error_last());            \
	} while (0)

#endif
