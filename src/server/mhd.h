/*
 * server/mhd.h — the libmicrohttpd functions the server calls, loaded by
 * server_start (util/dl.h), so only `cairn ui` and `cairn server` map
 * libmicrohttpd and its TLS chain (gnutls, nettle, p11-kit, ...).
 *
 * mhd_load() is 0 when the library is there, -1 with mhd_error() saying
 * "cannot load libmicrohttpd (libmicrohttpd.so.12): ..." otherwise.  Then
 * mhd.queue_response(...) is MHD_queue_response(...), with its prototype.
 *
 * Thread-safety: mhd_load() is safe from any thread; the table is read-only
 * once loaded, and every request thread starts after it.
 */
#ifndef CAIRN_SERVER_MHD_H
#define CAIRN_SERVER_MHD_H

#include <microhttpd.h>

#include "util/dl.h"

#define MHD_FUNCS(X)                                                                               \
	X(add_response_header)                                                                     \
	X(create_response_from_buffer)                                                             \
	X(create_response_from_fd_at_offset64)                                                     \
	X(destroy_response)                                                                        \
	X(get_connection_values)                                                                   \
	X(get_daemon_info)                                                                         \
	X(is_feature_supported)                                                                    \
	X(lookup_connection_value)                                                                 \
	X(queue_response)                                                                          \
	X(start_daemon)                                                                            \
	X(stop_daemon)

#define MHD_SLOT(f) DL_SLOT(MHD_, f)
struct mhd_api {
	MHD_FUNCS(MHD_SLOT)
};
#undef MHD_SLOT

extern struct mhd_api mhd;

int mhd_load(void);
const char *mhd_error(void);

#endif
