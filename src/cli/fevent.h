/*
 * cli/fevent.h — the messages of the file-event channel between `cairn
 * run` and what it runs (the LD_PRELOAD shim, src/shim/shim.c, and the
 * Python startup hook, python/pyhook): one datagram per event,
 *     "cairn1 PID OP FLAGS PATH"
 * (docs/internals/auto-capture.md).  fevent.c parses one strictly: anyone
 * on the machine may send to the socket, so a message is data to check,
 * never to trust.  Depends on libc only (the fuzz target builds it alone).
 */
#ifndef CAIRN_CLI_FEVENT_H
#define CAIRN_CLI_FEVENT_H

#include <stddef.h>

/* The longest message: the prefix, a pid, op, flags and a path of at most
 * FEVENT_PATH_MAX bytes. */
#define FEVENT_PATH_MAX 4095
#define FEVENT_MSG_MAX  (FEVENT_PATH_MAX + 64)

typedef struct fevent {
	long pid;         /* 1 .. 2^31-1 */
	char op;          /* 'r' read only, 'w' created or written */
	unsigned flags;   /* the open flags, as sent */
	const char *path; /* into the message: absolute, not NUL-terminated */
	size_t path_len;  /* 1 .. FEVENT_PATH_MAX */
} fevent;

/* 0 and *ev filled when msg[0..n) is one well-formed message, else -1
 * (*ev unspecified). */
int fevent_parse(fevent *ev, const char *msg, size_t n);

#endif
