/*
 * cli/run-pump.h — the child's output in `cairn run` (run-pump.c): each
 * chunk read from the child's stdout/stderr pipes is passed on to ours
 * unchanged, to the log stream and to the metric parser; after the child
 * exits, what it left running is read until EOF or the drain timeout, and
 * the pipes still open are handed to detached drainers (drain.h).  The
 * order of events is described in cmd-run.c.
 */
#ifndef CAIRN_CLI_RUN_PUMP_H
#define CAIRN_CLI_RUN_PUMP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "cairn.h"
#include "cli/run-ctl.h"

typedef struct stream {
	const char *name; /* "stdout" / "stderr" */
	int fd;           /* our read end, -1 when closed */
	int out_fd;       /* where we pass it on: 1 or 2 */
	bool pass;        /* still passing it on */
	cairn_artifact_stream *log;
	cairn_metric_parser *mp;
	run_ctl *ctl; /* the metric gate (NULL: metrics go straight in) */
} stream;

/* "warning: ..." on stderr: a cairn problem while the child runs never
 * stops the child's output. */
void run_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Read what is there and pass it on; false at EOF / error (the stream is
 * then closed). */
bool drain_once(stream *s, cairn_run *run, char *b, size_t bsz);
/* Seconds to keep reading after the child exits ($CAIRN_DRAIN_TIMEOUT,
 * default 2; a bad value is warned about and the default used). */
double drain_timeout(void);
/* The child has exited: read on until every writer has closed the pipes,
 * `timeout` seconds have passed or a signal on sfd asks cairn to stop. */
void drain_after_exit(stream *out, stream *err, cairn_run *run, char *iobuf, int sfd,
                      double timeout);
/* Hand the pipes still open to detached drainers (true when some were). */
bool hand_off(stream *out, stream *err, cairn_run *run, char *iobuf, const sigset_t *mask);

#endif
