/*
 * cli/drain.h — the detached drainers of `cairn run` (drain.c): they pass on
 * the output of processes the command left running, after cairn run exits.
 */
#ifndef CAIRN_CLI_DRAIN_H
#define CAIRN_CLI_DRAIN_H

#include <signal.h>

/* For each in[i] (a pipe's read end, -1 for none), start a detached
 * process that copies what it reads to out[i] (-1: reads and drops it) until
 * every writer has closed the pipe, then exits.  It runs with the signal mask
 * `mask` (the one cairn run started with).  The caller still owns in[] and
 * closes its copies.  0, or -1 with errno when one could not be started (its
 * pipe then closes with the caller's copy, as before). */
int drain_detach(const int in[2], const int out[2], const sigset_t *mask);

#endif
