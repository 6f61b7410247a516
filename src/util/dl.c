/*
 * util/dl.c — loading a shared library on first use (see dl.h for why and
 * the state machine).
 *
 * The table is a struct whose members are all function pointers, filled in
 * order from `names`; that every function pointer has the size of a void *
 * and that the struct has no padding between them holds on every ABI cairn
 * builds for (POSIX requires dlsym's void * to convert to a function
 * pointer).  The table is written completely before the state says
 * "loaded", and published with a release store, so a reader that sees
 * state 1 without the lock also sees the slots.
 */
#include "util/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef void (*any_fn)(void);

static int load_locked(dl_lib *l)
{
	void *h = dlopen(l->soname, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		snprintf(l->error, sizeof l->error, "cannot load %s (%s): %s", l->name, l->soname,
		         why ? why : "unknown error");
		return -1;
	}
	char *slot = l->table;
	for (size_t i = 0; l->names[i]; i++) {
		dlerror();
		void *p = dlsym(h, l->names[i]);
		if (!p) {
			const char *why = dlerror();
			snprintf(l->error, sizeof l->error, "cannot load %s (%s): no symbol %s%s%s",
			         l->name, l->soname, l->names[i], why ? ": " : "", why ? why : "");
			/* the handle stays open: the library is loaded either way,
			 * and closing a library some other code holds is unsafe */
			return -1;
		}
		any_fn f;
		memcpy(&f, &p, sizeof f);
		memcpy(slot + i * sizeof f, &f, sizeof f);
	}
	return 0;
}

int dl_load(dl_lib *l)
{
	int st = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
	if (st == 0) {
		pthread_mutex_lock(&l->lock);
		st = l->state;
		if (st == 0) {
			st = load_locked(l) == 0 ? 1 : -1;
			__atomic_store_n(&l->state, st, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&l->lock);
	}
	return st == 1 ? 0 : -1;
}

const char *dl_error(const dl_lib *l)
{
	return l->error;
}
