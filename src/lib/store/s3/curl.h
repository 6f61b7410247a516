/*
 * lib/store/s3/curl.h — the libcurl functions the S3 client calls, loaded
 * on first use (util/dl.h), so only a process whose objects are in a
 * bucket maps libcurl and its chain (OpenSSL's libssl, nghttp2, libssh2,
 * LDAP, Kerberos, ...): `cairn ls` on a directory store loads none of it.
 *
 * curl_load() is 0 when the library is there and initialised
 * (curl_global_init, once per process), -1 with curl_error() saying
 * "cannot load libcurl (libcurl.so.4): ..." otherwise.  Then
 * curlx.easy_perform(h) is curl_easy_perform(h), with its prototype.
 * curl.h's type-checking macros are off (CURL_DISABLE_TYPECHECK) because
 * the table needs the functions themselves; the setopt calls are checked
 * by the S3 client's own small wrappers (s3.c).
 *
 * Thread-safety: curl_load() is safe from any thread; the table is
 * read-only once loaded.  An easy handle serves one thread at a time.
 */
#ifndef CAIRN_LIB_STORE_S3_CURL_H
#define CAIRN_LIB_STORE_S3_CURL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "util/dl.h"

#define CURL_FUNCS(X)                                                                              \
	X(global_init)                                                                             \
	X(easy_init)                                                                               \
	X(easy_cleanup)                                                                            \
	X(easy_reset)                                                                              \
	X(easy_setopt)                                                                             \
	X(easy_perform)                                                                            \
	X(easy_getinfo)                                                                            \
	X(easy_strerror)                                                                           \
	X(slist_append)                                                                            \
	X(slist_free_all)

#define CURL_SLOT(f) DL_SLOT(curl_, f)
struct curl_api {
	CURL_FUNCS(CURL_SLOT)
};
#undef CURL_SLOT

extern struct curl_api curlx;

int curl_load(void);
const char *curl_error(void);

#endif
