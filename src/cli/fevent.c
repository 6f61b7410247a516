/*
 * cli/fevent.c — parsing one message of the file-event channel (fevent.h).
 *
 * The grammar, with nothing left over:
 *     "cairn1" SP PID SP OP SP FLAGS SP PATH
 *     PID   = 1*10 DIGIT, no leading zero, 1 .. 2147483647
 *     OP    = "r" / "w"
 *     FLAGS = 1*8 lowercase HEXDIG
 *     PATH  = "/" followed by bytes other than NUL, at most FEVENT_PATH_MAX
 * Anything else is rejected whole.  No allocation, no state.
 */
#include "cli/fevent.h"

#include <string.h>

int fevent_parse(fevent *ev, const char *msg, size_t n)
{
	static const char pre[] = "cairn1 ";
	size_t i = sizeof pre - 1;
	if (!msg || n > FEVENT_MSG_MAX || n < i || memcmp(msg, pre, i) != 0)
		return -1;
	/* pid */
	long pid = 0;
	size_t d = 0;
	if (i < n && msg[i] == '0')
		return -1;
	while (i < n && msg[i] >= '0' && msg[i] <= '9') {
		if (++d > 10)
			return -1;
		pid = pid * 10 + (msg[i++] - '0');
	}
	if (d == 0 || pid > 2147483647L || i >= n || msg[i++] != ' ')
		return -1;
	/* op */
	if (i >= n || (msg[i] != 'r' && msg[i] != 'w'))
		return -1;
	char op = msg[i++];
	if (i >= n || msg[i++] != ' ')
		return -1;
	/* flags */
	unsigned flags = 0;
	d = 0;
	for (; i < n && msg[i] != ' '; i++) {
		char c = msg[i];
		unsigned v;
		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return -1;
		if (++d > 8)
			return -1;
		flags = flags << 4 | v;
	}
	if (d == 0 || i >= n || msg[i++] != ' ')
		return -1;
	/* path */
	size_t len = n - i;
	if (len < 1 || len > FEVENT_PATH_MAX || msg[i] != '/' || memchr(msg + i, '\0', len))
		return -1;
	ev->pid = pid;
	ev->op = op;
	ev->flags = flags;
	ev->path = msg + i;
	ev->path_len = len;
	return 0;
}
