/*
 * lib/capture/lg2.c — libgit2's table (see lg2.h).  CAIRN_SONAME_GIT2 is
 * set by the Makefile from the libgit2.so the headers came with.
 */
#include "lib/capture/lg2.h"

#include "lib/internal.h"

#ifndef CAIRN_SONAME_GIT2
#error "CAIRN_SONAME_GIT2 (the soname of libgit2) comes from the Makefile"
#endif

struct lg2_api lg2;

#define LG2_NAME(f) DL_NAME(git_, f)
static const char *const names[] = {LG2_FUNCS(LG2_NAME) NULL};
#undef LG2_NAME

_Static_assert(sizeof(struct lg2_api) ==
                   (sizeof names / sizeof names[0] - 1) * sizeof(void (*)(void)),
               "struct lg2_api holds one function pointer per name");

static dl_lib lib = DL_LIB_INIT("libgit2", CAIRN_SONAME_GIT2, names, &lg2);

int lg2_load(void)
{
	if (dl_load(&lib) != 0)
		return err_set(CAIRN_ERROR, "%s", dl_error(&lib));
	lg2.libgit2_init();
	return 0;
}
