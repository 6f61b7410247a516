/*
 * server/mhd.c — libmicrohttpd's table (see mhd.h).  CAIRN_SONAME_MHD is
 * set by the Makefile from the libmicrohttpd.so the headers came with.
 */
#include "server/mhd.h"

#ifndef CAIRN_SONAME_MHD
#error "CAIRN_SONAME_MHD (the soname of libmicrohttpd) comes from the Makefile"
#endif

struct mhd_api mhd;

#define MHD_NAME(f) DL_NAME(MHD_, f)
static const char *const names[] = {MHD_FUNCS(MHD_NAME) NULL};
#undef MHD_NAME

_Static_assert(sizeof(struct mhd_api) ==
                   (sizeof names / sizeof names[0] - 1) * sizeof(void (*)(void)),
               "struct mhd_api holds one function pointer per name");

static dl_lib lib = DL_LIB_INIT("libmicrohttpd", CAIRN_SONAME_MHD, names, &mhd);

int mhd_load(void)
{
	return dl_load(&lib);
}

const char *mhd_error(void)
{
	return dl_error(&lib);
}
