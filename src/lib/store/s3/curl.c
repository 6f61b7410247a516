/*
 * lib/store/s3/curl.c — libcurl's table (see curl.h).  CAIRN_SONAME_CURL is
 * set by the Makefile from the libcurl.so the headers came with.
 * curl_global_init runs once, right after the load, under pthread_once:
 * before libcurl 7.84 it is not thread-safe, and every easy handle needs it.
 */
#include "lib/store/s3/curl.h"

#include <pthread.h>
#include <stdio.h>

#ifndef CAIRN_SONAME_CURL
#error "CAIRN_SONAME_CURL (the soname of libcurl) comes from the Makefile"
#endif

struct curl_api curlx;

#define CURL_NAME(f) DL_NAME(curl_, f)
static const char *const names[] = {CURL_FUNCS(CURL_NAME) NULL};
#undef CURL_NAME

_Static_assert(sizeof(struct curl_api) ==
                   (sizeof names / sizeof names[0] - 1) * sizeof(void (*)(void)),
               "struct curl_api holds one function pointer per name");

static dl_lib lib = DL_LIB_INIT("libcurl", CAIRN_SONAME_CURL, names, &curlx);
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc = -1;
static char init_error[128];

static void init_once(void)
{
	if (dl_load(&lib) != 0)
		return;
	CURLcode c = curlx.global_init(CURL_GLOBAL_DEFAULT);
	if (c != CURLE_OK) {
		snprintf(init_error, sizeof init_error, "cannot initialise libcurl: %s",
		         curlx.easy_strerror(c));
		return;
	}
	init_rc = 0;
}

int curl_load(void)
{
	pthread_once(&once, init_once);
	return init_rc;
}

const char *curl_error(void)
{
	return init_error[0] ? init_error : dl_error(&lib);
}
