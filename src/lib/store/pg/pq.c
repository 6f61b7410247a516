/*
 * lib/store/pg/pq.c — libpq's table (see pg.h and util/dl.h).
 * CAIRN_SONAME_PQ is set by the Makefile from the libpq.so the headers came
 * with.  Loaded by the first PostgreSQL store a process opens, so a process
 * that only ever opens SQLite stores never maps libpq (or its GSSAPI, LDAP
 * and TLS dependencies).
 */
#include "lib/store/pg/pg.h"

#ifndef CAIRN_SONAME_PQ
#error "CAIRN_SONAME_PQ (the soname of libpq) comes from the Makefile"
#endif

struct pq_api pq;

#define PQ_NAME(f) DL_NAME(PQ, f)
static const char *const names[] = {PQ_FUNCS(PQ_NAME) NULL};
#undef PQ_NAME

_Static_assert(sizeof(struct pq_api) ==
                   (sizeof names / sizeof names[0] - 1) * sizeof(void (*)(void)),
               "struct pq_api holds one function pointer per name");

static dl_lib lib = DL_LIB_INIT("libpq", CAIRN_SONAME_PQ, names, &pq);

int pq_load(void)
{
	if (dl_load(&lib) != 0)
		return err_set(CAIRN_ESTORE, "cannot open a PostgreSQL store: %s", dl_error(&lib));
	return 0;
}
