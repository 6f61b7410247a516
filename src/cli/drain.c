/*
 * cli/drain.c — the detached drainers of `cairn run`.
 *
 * The command's stdout and stderr are pipes whose read ends only cairn run
 * holds.  A process the command leaves running (`sh -c 'job & echo early'`, a
 * server started with `&`) keeps the write ends; were the read ends closed
 * when cairn exits, its next write would die of SIGPIPE — which never happens
 * without cairn, where it writes to the terminal.  So when such writers remain
 * after cairn run's bound (docs/cli/run.md), cairn hands each read end to a
 * drainer and exits as usual.  A drainer passes whatever arrives on to
 * cairn's own stdout or stderr, unchanged, until every writer has closed its
 * end, then exits.  That output is no longer stored in the run's logs.
 *
 * A drainer is `cat`, the pipe as its stdin, cairn's stdout (or stderr) as
 * its stdout.  Considered and not taken: forking cairn itself (cairn has
 * threads; and the copy would keep cairn's whole memory — log buffers,
 * libgit2, SQLite — resident for as long as a background job lives) and
 * re-executing cairn in a hidden mode (an entry point outside `cairn run`'s
 * own code for a loop `cat` already is).  `cat` is spawned like the command
 * (posix_spawn), with cairn's original signal mask, so SIGINT, SIGTERM and
 * SIGHUP end it like any process of the job, in the job's process group
 * (`kill -- -PGID` reaches it), in / (it holds no directory busy), and with
 * SIGPIPE at its default: when the reader of cairn's output has gone, the
 * drainer dies of it and its pipe closes, so the writer meets the closed
 * pipe as it would without cairn.  Every other descriptor of cairn is
 * close-on-exec, so the drainer holds only its pipe and where it writes.
 */
#include "cli/drain.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

extern char **environ;

static int spawn_cat(int in, int out, const sigset_t *mask)
{
	static const char *const cats[] = {"/bin/cat", "/usr/bin/cat"};
	char *argv[] = {"cat", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	pid_t pid;
	int e = ENOENT;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	else /* cairn stopped passing this stream on: read it and drop it */
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addchdir_np(&fa, "/");
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&at, mask);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	for (size_t i = 0; i < sizeof cats / sizeof cats[0] && e == ENOENT; i++)
		e = posix_spawn(&pid, cats[i], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

int drain_detach(const int in[2], const int out[2], const sigset_t *mask)
{
	int rc = 0;
	for (int i = 0; i < 2; i++)
		if (in[i] >= 0 && spawn_cat(in[i], out[i], mask) != 0)
			rc = -1;
	return rc;
}
