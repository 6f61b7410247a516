/*
 * tests/fuzz/fuzz-fevent.c — the file-event messages `cairn run` reads from
 * its socket (src/cli/fevent.c): any bytes, as a hostile local process may
 * send them.  A message accepted must satisfy the grammar's promises
 * (absolute path in bounds, no NUL, op r or w, pid in range); anything else
 * aborts.  fevent.c is part of the tool, not of libcairn, so it is compiled
 * in here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/fevent.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fevent ev;
	if (fevent_parse(&ev, (const char *)data, size) != 0)
		return 0;
	if (ev.pid < 1 || ev.pid > 2147483647L || (ev.op != 'r' && ev.op != 'w') ||
	    ev.path_len < 1 || ev.path_len > FEVENT_PATH_MAX || ev.path[0] != '/' ||
	    memchr(ev.path, '\0', ev.path_len) || ev.path < (const char *)data ||
	    ev.path + ev.path_len != (const char *)data + size)
		abort();
	return 0;
}
