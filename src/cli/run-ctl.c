/*
 * cli/run-ctl.c — the channel between `cairn run` and its command
 * (run-ctl.h).
 *
 * The channel is a pipe whose write end the command inherits as descriptor
 * N, named by CAIRN_CAPTURE_FD=N:INODE (the inode lets the reader check that
 * N is still this pipe and not a file the program opened after closing it).
 * Messages are lines, each written by one write(2):
 *   attach            the Python binding attached to this run (cairn.init);
 *   metric KEY        the binding is about to log KEY for the first time;
 *   argparse JSON     the hook (python/pyhook) reports a parsed namespace:
 *                     {"args": [...], "params": [{"k", "t", "v", "typed",
 *                     "opts"}]}, handed to run_params_namespace.
 * Unknown lines are ignored; a line over CTL_LINE_MAX is dropped.  The reader
 * never waits for the channel to close (a background job may keep it open).
 *
 * Metrics logged twice: a program that logs `loss` through the API and also
 * prints `loss=0.2` would get each point twice, once from the API and once
 * from the output parser.  The rule is per key: a key the API logs is the
 * API's, and the parser leaves it out.  The binding names a key before its
 * first point is logged, and so before the program can print the line that
 * follows; the gate reads the channel before the first metric of each chunk
 * of output, so a claim written before the print is always seen in time.  For
 * the other order (print, then log) every point parsed after an attach is
 * held HOLD seconds before it is logged, and left out if its key is claimed
 * meanwhile.  Before any attach nothing is held: a program that does not use
 * the API pays nothing.  Points held keep the time they were printed.
 * Bounds: KEYS_MAX keys are tracked (a key past that is never held or left
 * out), HELD_MAX points held (the oldest is logged early when full).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/run-ctl.h"
#include "util/buf.h"
#include "util/clock.h"

extern char **environ;

#define HOLD         1.0
#define CTL_LINE_MAX ((size_t)1 << 20)
#define KEYS_MAX     4096
#define SLOTS        8192 /* open addressing, twice KEYS_MAX */
#define HELD_MAX     16384

typedef struct held {
	int key;
	double value, ts, due;
	int64_t step;
} held;

struct run_ctl {
	cairn_run *run;
	run_params *rp;
	int rfd, wfd, child_fd;
	char env[64];
	buf line;
	bool skipping; /* inside a line over CTL_LINE_MAX */
	bool attached, fresh;
	char *names[KEYS_MAX];
	bool claimed[KEYS_MAX];
	int nkeys;
	int slot[SLOTS]; /* key index + 1, 0 empty */
	held *q;         /* ring of HELD_MAX */
	size_t head, n;
	uint64_t dropped;
};

/* --- the channel -------------------------------------------------------------------------- */

run_ctl *run_ctl_new(cairn_run *run, run_params *rp)
{
	int p[2];
	run_ctl *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->run = run;
	c->rp = rp;
	c->rfd = c->wfd = c->child_fd = -1;
	buf_init_cap(&c->line, CTL_LINE_MAX);
	if (!(c->q = malloc(HELD_MAX * sizeof *c->q)) || pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
		run_ctl_free(c);
		return NULL;
	}
	c->rfd = p[0];
	c->wfd = p[1];
	/* the writer blocks (a full pipe waits for us, it does not lose lines) */
	fcntl(c->wfd, F_SETFL, fcntl(c->wfd, F_GETFL) & ~O_NONBLOCK);
	/* N: a number free here, so the child's copy takes the place of no
	 * descriptor it inherits */
	c->child_fd = fcntl(c->wfd, F_DUPFD_CLOEXEC, 10);
	struct stat st;
	if (c->child_fd < 0 || fstat(c->wfd, &st) != 0) {
		run_ctl_free(c);
		return NULL;
	}
	snprintf(c->env, sizeof c->env, "CAIRN_CAPTURE_FD=%d:%llu", c->child_fd,
	         (unsigned long long)st.st_ino);
	return c;
}

void run_ctl_free(run_ctl *c)
{
	if (!c)
		return;
	run_ctl_spawned(c);
	if (c->rfd >= 0)
		close(c->rfd);
	for (int i = 0; i < c->nkeys; i++)
		free(c->names[i]);
	buf_free(&c->line);
	free(c->q);
	free(c);
}

bool run_ctl_child_fd(const run_ctl *c, int *src, int *dst)
{
	if (!c || c->wfd < 0)
		return false;
	*src = c->wfd;
	*dst = c->child_fd;
	return true;
}

void run_ctl_spawned(run_ctl *c)
{
	if (!c)
		return;
	if (c->wfd >= 0)
		close(c->wfd);
	if (c->child_fd >= 0)
		close(c->child_fd);
	c->wfd = c->child_fd = -1;
}

int run_ctl_fd(const run_ctl *c)
{
	return c ? c->rfd : -1;
}

/* --- the hook and the environment ----------------------------------------------------------- */

static char *hook_in(const char *dir)
{
	char f[PATH_MAX + 32];
	snprintf(f, sizeof f, "%s/sitecustomize.py", dir);
	if (access(f, R_OK) != 0)
		return NULL;
	return realpath(dir, NULL);
}

bool run_ctl_self_dir(char out[PATH_MAX])
{
	ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
	if (n <= 0)
		return false;
	out[n] = '\0';
	char *slash = strrchr(out, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

char *run_ctl_pyhook_dir(void)
{
	const char *e = getenv("CAIRN_PYHOOK");
	if (e)
		return *e && strcmp(e, "0") != 0 ? hook_in(e) : NULL;
	char self[PATH_MAX];
	if (!run_ctl_self_dir(self))
		return NULL;
	/* installed: PREFIX/bin/cairn and PREFIX/share/cairn/pyhook; the build
	 * tree: build/cairn and python/pyhook */
	static const char *const rel[] = {"../share/cairn/pyhook", "../python/pyhook"};
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char d[PATH_MAX + 32];
		snprintf(d, sizeof d, "%s/%s", self, rel[i]);
		char *r = hook_in(d);
		if (r)
			return r;
	}
	return NULL;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int run_ctl_child_env(run_env *e, const run_ctl *c, const char *run_id, const char *store_dir,
                      bool unbuffered, const char *pyhook)
{
	size_t n = 0, k = 0, o = 0;
	memset(e, 0, sizeof *e);
	for (char **v = environ; *v; v++)
		n++;
	if (!(e->envp = calloc(n + 6, sizeof *e->envp)))
		return -1;
	const char *pp = getenv("PYTHONPATH");
	for (char **v = environ; *v; v++)
		if (!has_prefix(*v, "CAIRN_RUN_ID=") && !has_prefix(*v, "CAIRN_DIR=") &&
		    !has_prefix(*v, "CAIRN_CAPTURE_FD=") &&
		    !(pyhook && has_prefix(*v, "PYTHONPATH=")))
			e->envp[k++] = *v;
	buf b = BUF_INIT;
	for (int i = 0; i < 3; i++) {
		buf_clear(&b);
		if (i == 0)
			buf_printf(&b, "CAIRN_RUN_ID=%s", run_id);
		else if (i == 1)
			buf_printf(&b, "CAIRN_DIR=%s", store_dir);
		else if (pyhook)
			buf_printf(&b, "PYTHONPATH=%s%s%s", pyhook, pp && *pp ? ":" : "",
			           pp && *pp ? pp : "");
		else
			continue;
		if (!buf_ok(&b) || !(e->own[o] = strdup(b.ptr))) {
			buf_free(&b);
			run_env_free(e);
			return -1;
		}
		e->envp[k++] = e->own[o++];
	}
	buf_free(&b);
	if (c)
		e->envp[k++] = (char *)c->env;
	if (unbuffered)
		e->envp[k++] = "PYTHONUNBUFFERED=1";
	e->envp[k] = NULL;
	return 0;
}

void run_env_free(run_env *e)
{
	for (size_t i = 0; i < sizeof e->own / sizeof e->own[0]; i++)
		free(e->own[i]);
	free(e->envp);
	memset(e, 0, sizeof *e);
}

/* --- keys ------------------------------------------------------------------------------------ */

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The key's index (added when new); -1 when the table is full. */
static int key_index(run_ctl *c, const char *key)
{
	unsigned i = hash(key) & (SLOTS - 1);
	for (; c->slot[i]; i = (i + 1) & (SLOTS - 1))
		if (strcmp(c->names[c->slot[i] - 1], key) == 0)
			return c->slot[i] - 1;
	if (c->nkeys == KEYS_MAX || !(c->names[c->nkeys] = strdup(key)))
		return -1;
	c->slot[i] = ++c->nkeys;
	return c->nkeys - 1;
}

/* --- messages -------------------------------------------------------------------------------- */

static void message(run_ctl *c, const char *s, size_t n)
{
	if (n == 6 && memcmp(s, "attach", 6) == 0) {
		c->attached = true;
	} else if (n > 7 && memcmp(s, "metric ", 7) == 0) {
		c->attached = true;
		char key[512];
		if (n - 7 < sizeof key) {
			memcpy(key, s + 7, n - 7);
			key[n - 7] = '\0';
			int k = key_index(c, key);
			if (k >= 0)
				c->claimed[k] = true;
		}
	} else if (n > 9 && memcmp(s, "argparse ", 9) == 0 && c->rp) {
		run_params_namespace(c->rp, c->run, s + 9, n - 9, clock_mono());
	}
}

void run_ctl_read(run_ctl *c)
{
	char chunk[65536];
	if (!c || c->rfd < 0)
		return;
	for (;;) {
		ssize_t r = read(c->rfd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) { /* every writer is gone */
			close(c->rfd);
			c->rfd = -1;
		}
		if (r <= 0)
			return; /* or EAGAIN: nothing more now */
		const char *p = chunk, *end = chunk + r;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = (size_t)((nl ? nl : end) - p);
			if (!c->skipping) {
				buf_add(&c->line, p, len);
				if (buf_too_big(&c->line)) {
					c->skipping = true;
					buf_clear(&c->line);
				}
			}
			if (!nl)
				break;
			if (!c->skipping && buf_ok(&c->line))
				message(c, c->line.ptr, c->line.len);
			c->skipping = false;
			buf_clear(&c->line);
			p = nl + 1;
		}
	}
}

/* --- the metric gate ---------------------------------------------------------------------- */

static int log_point(run_ctl *c, const char *key, double v, int64_t step, double ts)
{
	/* a bad key in someone's output is not our error: skip it */
	return cairn_run_log_metric(c->run, key, v, step, ts) == CAIRN_ENOMEM ? CAIRN_ENOMEM : 0;
}

static int pop(run_ctl *c)
{
	held *h = &c->q[c->head];
	c->head = (c->head + 1) % HELD_MAX;
	c->n--;
	if (c->claimed[h->key]) {
		c->dropped++;
		return 0;
	}
	return log_point(c, c->names[h->key], h->value, h->step, h->ts);
}

void run_ctl_chunk(run_ctl *c)
{
	if (c)
		c->fresh = false;
}

int run_ctl_metric(void *ctx, const char *key, double value, int64_t step)
{
	run_ctl *c = ctx;
	if (!c->fresh) {
		run_ctl_read(c);
		c->fresh = true;
	}
	if (!c->attached)
		return log_point(c, key, value, step, 0);
	int k = key_index(c, key);
	if (k < 0)
		return log_point(c, key, value, step, 0);
	if (c->claimed[k]) {
		c->dropped++;
		return 0;
	}
	int rc = c->n == HELD_MAX ? pop(c) : 0;
	double now = clock_mono();
	c->q[(c->head + c->n) % HELD_MAX] = (held){k, value, clock_now(), now + HOLD, step};
	c->n++;
	return rc;
}

double run_ctl_due(const run_ctl *c)
{
	return c && c->n ? c->q[c->head].due : INFINITY;
}

void run_ctl_tick(run_ctl *c, double now)
{
	if (!c || !c->n)
		return;
	run_ctl_read(c); /* claims that came meanwhile */
	while (c->n && c->q[c->head].due <= now)
		pop(c);
}

uint64_t run_ctl_dropped(const run_ctl *c)
{
	return c ? c->dropped : 0;
}
