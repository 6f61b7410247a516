/*
 * cli/run-pump.c — passing the child's output on in `cairn run` (see
 * run-pump.h and the order of events in cmd-run.c).  One thread (cairn
 * run's) owns the streams.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/drain.h"
#include "cli/run-pump.h"
#include "util/clock.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void run_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Pass a chunk on (we own the data until the log commit). */
static void pass_on(stream *s, cairn_run *run, const char *data, size_t n)
{
	if (s->pass) {
		int e = write_all(s->out_fd, data, n);
		if (e) {
			/* Our reader went away (`cairn run … | head`): stop reading too,
			 * so the child meets the closed pipe as it would without us. */
			s->pass = false;
			if (e == -EPIPE) {
				close(s->fd);
				s->fd = -1;
			}
		}
	}
	if (s->mp && s->ctl) {
		run_ctl_chunk(s->ctl);
		cairn_metric_parser_feed_cb(s->mp, data, n, run_ctl_metric, s->ctl);
	} else if (s->mp) {
		cairn_metric_parser_feed(s->mp, run, data, n);
	}
}

static void log_failed(stream *s)
{
	run_warn("the %s log will be incomplete: %s", s->name, cairn_error_last());
	cairn_artifact_stream_abort(s->log);
	s->log = NULL;
}

static ssize_t drain_counted(stream *s, cairn_run *run, char *b, size_t bsz, int *err);

/* Read what is there; false at EOF / error (the stream is then closed). */
bool drain_once(stream *s, cairn_run *run, char *b, size_t bsz)
{
	int e = 0;
	ssize_t n = drain_counted(s, run, b, bsz, &e);
	if (n > 0)
		return true;
	if (n < 0 && (e == EINTR || e == EAGAIN))
		return e == EINTR;
	if (s->fd >= 0) /* pass_on may have closed it */
		close(s->fd);
	s->fd = -1;
	return false;
}

/* One read, with a log straight into the log's next buffer; the bytes
 * read, 0 at EOF, -1 with *err on error. */
static ssize_t drain_counted(stream *s, cairn_run *run, char *b, size_t bsz, int *err)
{
	if (s->fd < 0)
		return 0;
	void *slot = NULL;
	size_t cap = 0;
	if (s->log && cairn_artifact_stream_reserve(s->log, &slot, &cap) != 0)
		log_failed(s);
	char *p = s->log ? slot : b;
	ssize_t n = read(s->fd, p, s->log ? cap : bsz);
	*err = errno;
	if (n > 0) {
		pass_on(s, run, p, (size_t)n);
		if (s->log && cairn_artifact_stream_commit(s->log, (size_t)n) != 0)
			log_failed(s);
		return n;
	}
	if (s->log)
		cairn_artifact_stream_commit(s->log, 0);
	return n;
}

/* --- after the child: processes it left behind -------------------------------------------- */

#define DRAIN_TIMEOUT_DEFAULT 2.0

/* Seconds to keep reading after the child exits ($CAIRN_DRAIN_TIMEOUT). */
double drain_timeout(void)
{
	const char *v = getenv("CAIRN_DRAIN_TIMEOUT");
	char *end;
	if (!v || !*v)
		return DRAIN_TIMEOUT_DEFAULT;
	double t = strtod(v, &end);
	if (end == v || *end || !(t >= 0) || t > 86400) {
		run_warn(
		    "CAIRN_DRAIN_TIMEOUT='%s' is not a number of seconds from 0 to 86400; using %g",
		    v, DRAIN_TIMEOUT_DEFAULT);
		return DRAIN_TIMEOUT_DEFAULT;
	}
	return t;
}

/* The child has exited.  What it started may still hold the pipes (a
 * background job): read on, storing and passing it on as before, until
 * every writer has closed them (EOF) or `timeout` seconds have passed or
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT asks cairn to stop waiting.  With no such
 * process, EOF is there at once: no wait. */
void drain_after_exit(stream *out, stream *err, cairn_run *run, char *iobuf, int sfd,
                      double timeout)
{
	double end = clock_mono() + timeout;
	while (out->fd >= 0 || err->fd >= 0) {
		double left = end - clock_mono();
		if (left <= 0)
			return;
		struct pollfd pf[3];
		int np = 0, io = -1, ie = -1;
		if (out->fd >= 0) {
			pf[np] = (struct pollfd){out->fd, POLLIN, 0};
			io = np++;
		}
		if (err->fd >= 0) {
			pf[np] = (struct pollfd){err->fd, POLLIN, 0};
			ie = np++;
		}
		pf[np] = (struct pollfd){sfd, POLLIN, 0};
		int is = np++;
		int n = poll(pf, (nfds_t)np, (int)fmin(ceil(left * 1000), INT_MAX));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (io >= 0 && pf[io].revents)
			drain_once(out, run, iobuf, 1 << 20);
		if (ie >= 0 && pf[ie].revents)
			drain_once(err, run, iobuf, 1 << 20);
		if (pf[is].revents) {
			struct signalfd_siginfo si;
			bool stop = false;
			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				int sig = (int)si.ssi_signo;
				stop = stop || sig == SIGINT || sig == SIGTERM || sig == SIGHUP ||
				       sig == SIGQUIT;
			}
			if (stop)
				return;
		}
	}
}

/* Writers remain after the wait: store what the pipes hold at this moment,
 * then hand them to drainers that pass the rest on to our stdout/stderr, so
 * those writers never meet a closed pipe because cairn exits.  true when
 * anything was handed off. */
bool hand_off(stream *out, stream *err, cairn_run *run, char *iobuf, const sigset_t *mask)
{
	stream *ss[2] = {out, err};
	for (int i = 0; i < 2; i++) {
		stream *x = ss[i];
		int pending = 0;
		if (x->fd < 0 || ioctl(x->fd, FIONREAD, &pending) != 0)
			continue;
		for (int64_t left = pending; left > 0 && x->fd >= 0;) {
			int rerr;
			ssize_t got = drain_counted(x, run, iobuf, 1 << 20, &rerr);
			if (got <= 0)
				break;
			left -= got;
		}
		/* readable with nothing in it: at EOF after all (a bound of 0) */
		struct pollfd pf = {x->fd, POLLIN, 0};
		if (x->fd >= 0 && poll(&pf, 1, 0) == 1 && ioctl(x->fd, FIONREAD, &pending) == 0 &&
		    pending == 0) {
			close(x->fd);
			x->fd = -1;
		}
	}
	if (out->fd < 0 && err->fd < 0)
		return false;
	int in[2] = {out->fd, err->fd};
	int to[2] = {out->pass ? out->out_fd : -1, err->pass ? err->out_fd : -1};
	if (drain_detach(in, to, mask) != 0)
		run_warn("cannot pass on the output of what the command left running: %s",
		         strerror(errno));
	for (int i = 0; i < 2; i++) {
		if (ss[i]->fd >= 0)
			close(ss[i]->fd);
		ss[i]->fd = -1;
	}
	return true;
}
