/*
 * util/dl.h — a shared library loaded on first use, with a table of typed
 * function pointers.
 *
 * Why: a short command (`cairn --version`, `cairn ls`) spends most of its
 * time in the dynamic linker, and libgit2, libmicrohttpd and libcrypto bring
 * two dozen libraries with them (mbedtls, ssh2, krb5, gnutls, ...).  Only the
 * code that uses them loads them, with dlopen(SONAME, RTLD_LAZY | RTLD_LOCAL),
 * once per process (docs/internals/build.md).
 *
 * A user declares its table with an X-macro list of the functions it calls,
 * typed from the library's own header, so every call stays type-checked:
 *
 *   #define LG2_FUNCS(X) X(libgit2_init) X(repository_open_ext) ...
 *   struct lg2_api { LG2_FUNCS(DL_SLOT_GIT) };    // __typeof__(git_x) *x;
 *   static const char *const names[] = { LG2_FUNCS(DL_NAME_GIT) NULL };
 *   dl_lib lib = DL_LIB_INIT("libgit2", CAIRN_SONAME_GIT2, names, &table);
 *   if (dl_load(&lib) != 0) ... dl_error(&lib) ...
 *   table.repository_open_ext(&repo, path, 0, NULL);
 *
 * The SONAME comes from the build (the Makefile reads it from the .so the
 * headers belong to), never a path: the dynamic linker's search applies.
 *
 * State: unloaded -> loaded (every slot filled) or failed (no slot used,
 * dl_error() says why: "cannot load libgit2 (libgit2.so.1.5): <dlerror>").
 * The outcome is final for the process.  The handle is never closed: the
 * library stays mapped until exit, like one linked at start-up.
 *
 * Thread-safety: dl_load() may be called from any thread, any number of
 * times; the first call loads under the struct's mutex, later calls read
 * the published state.  A loaded table is read-only.  This is the one kind
 * of process-wide mutable state the library keeps besides the per-thread
 * last error, and it only ever moves once, from unloaded to loaded/failed.
 */
#ifndef CAIRN_UTIL_DL_H
#define CAIRN_UTIL_DL_H

#include <pthread.h>
#include <stddef.h>

typedef struct dl_lib {
	const char *name;         /* for messages: "libgit2" */
	const char *soname;       /* "libgit2.so.1.5" */
	const char *const *names; /* symbol names, NULL-terminated, table order */
	void *table;              /* a struct of function pointers, one per name */
	pthread_mutex_t lock;
	int state; /* 0 unloaded, 1 loaded, -1 failed; written under lock */
	char error[320];
} dl_lib;

#define DL_LIB_INIT(name, soname, names, table)                                                    \
	{                                                                                          \
		(name), (soname), (names), (table), PTHREAD_MUTEX_INITIALIZER, 0,                  \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/* Slot and name makers for the X-macro lists: PREFIX is the C prefix the
 * library's functions carry (git_, MHD_, EVP_), which the table drops. */
#define DL_SLOT(prefix, f) __typeof__(prefix##f) *f;
#define DL_NAME(prefix, f) #prefix #f,

/* 0 when every symbol resolved (now or before), -1 otherwise. */
int dl_load(dl_lib *l);
/* Why the load failed ("" before a failure). */
const char *dl_error(const dl_lib *l);

#endif
