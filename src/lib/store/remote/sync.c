/*
 * lib/store/remote/sync.c — the spool from outside the process that wrote
 * it (cairn/remote.h: cairn_spool_list, cairn_spool_sync; `cairn sync`):
 * the journals under $XDG_DATA_HOME/cairn/spool/SERVER/, and their replay to
 * the server each names, in order, with the idempotency keys they were
 * written with (so replaying a journal twice, or one its process had half
 * sent, applies each write once; metrics records go coalesced, coalesce.c).  A journal a live
 * process holds (its flock) is left to that process.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/remote.h"
#include "lib/store/remote/journal.h"
#include "lib/store/remote/remote.h"

static char *spool_root(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char p[4096];
	if (xdg && *xdg)
		snprintf(p, sizeof p, "%s/cairn/spool", xdg);
	else if (home && *home)
		snprintf(p, sizeof p, "%s/.local/share/cairn/spool", home);
	else
		return NULL;
	return strdup(p);
}

/* The points of a metrics_insert body (0 for anything else). */
static int64_t points_of(const jrec *rec)
{
	if (strcmp(rec->op, "metrics_insert") != 0)
		return 0;
	wr r;
	wr_init(&r, rec->body, rec->len);
	for (int part = 0; part < 2; part++) {
		uint32_t n = r_count(&r, 5);
		for (uint32_t i = 0; i < n; i++)
			r_str(&r);
	}
	uint32_t n = r_u32(&r);
	return r.bad ? 0 : n;
}

static int add_entry(cairn_spool_entry **v, size_t *n, size_t *cap, const char *path,
                     const char *url_filter)
{
	journal j;
	int rc = journal_open(&j, path, true);
	cairn_spool_entry e = {0};
	struct stat st;
	if (stat(path, &st) == 0) {
		e.bytes = st.st_size;
		e.modified = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	}
	if (rc == 0 && url_filter && strcmp(j.url, url_filter) != 0) {
		journal_close(&j);
		return 0;
	}
	e.path = strdup(path);
	e.url = strdup(j.url ? j.url : "");
	if (rc) {
		e.problem = strdup(cairn_error_last());
	} else {
		e.records = (int64_t)j.records;
		e.torn = (int64_t)j.torn_bytes;
		buf scratch = BUF_INIT;
		jrec rec;
		for (uint64_t off = j.done; journal_read(&j, off, &rec, &scratch) == 1;
		     off = rec.next) {
			e.points += points_of(&rec);
			if (strcmp(rec.op, SPOOL_MARK_OP) == 0)
				e.records--; /* replay's own, not a write */
		}
		buf_free(&scratch);
		/* held by a live process? (the lock is advisory; a test, not a wait) */
		e.in_use = journal_in_use(path);
	}
	journal_close(&j);
	if (!e.path || !e.url) {
		free(e.path);
		free(e.url);
		free(e.problem);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (e.records == 0 && !e.problem && !e.in_use && e.torn == 0) {
		free(e.path);
		free(e.url);
		return 0;
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		cairn_spool_entry *nv = realloc(*v, nc * sizeof *nv);
		if (!nv) {
			free(e.path);
			free(e.url);
			free(e.problem);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = e;
	return 0;
}

static int by_age(const void *a, const void *b)
{
	const cairn_spool_entry *x = a, *y = b;
	if (x->modified != y->modified)
		return x->modified < y->modified ? -1 : 1;
	return strcmp(x->path, y->path);
}

int cairn_spool_list(cairn_spool_entry **out, size_t *out_n, const char *url)
{
	*out = NULL;
	*out_n = 0;
	char *root = spool_root();
	if (!root)
		return err_set(CAIRN_EINVALID, "set XDG_DATA_HOME or HOME to find the spool");
	char *base = NULL;
	if (url) {
		remote_be *be;
		int rc = remote_be_new(&be, url);
		if (rc) {
			free(root);
			return rc;
		}
		base = strdup(be->base);
		remote_be_free(be);
	}
	cairn_spool_entry *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	DIR *d = opendir(root);
	struct dirent *e;
	while (rc == 0 && d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4200];
		snprintf(sub, sizeof sub, "%s/%s", root, e->d_name);
		DIR *sd = opendir(sub);
		struct dirent *f;
		while (rc == 0 && sd && (f = readdir(sd))) {
			size_t l = strlen(f->d_name);
			if (l < 9 || strcmp(f->d_name + l - 8, ".journal") != 0)
				continue;
			char p[4500];
			snprintf(p, sizeof p, "%s/%s", sub, f->d_name);
			rc = add_entry(&v, &n, &cap, p, base);
		}
		if (sd)
			closedir(sd);
	}
	if (d)
		closedir(d);
	free(root);
	free(base);
	if (rc) {
		cairn_spool_list_free(v, n);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof *v, by_age);
	*out = v;
	*out_n = n;
	return 0;
}

void cairn_spool_list_free(cairn_spool_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].path);
		free(v[i].url);
		free(v[i].problem);
	}
	free(v);
}

int cairn_spool_sync(const char *path, const cairn_sync_options *opts, cairn_sync_stats *stats)
{
	cairn_sync_options def = CAIRN_SYNC_OPTIONS_INIT;
	if (!opts)
		opts = &def;
	if (opts->version != CAIRN_SYNC_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_sync_options version %u is not supported",
		               opts->version);
	journal j;
	remote_be *be = NULL;
	int rc = journal_open(&j, path, false);
	if (rc) {
		journal_close(&j);
		return rc;
	}
	if (j.torn_bytes) {
		if (stats)
			stats->torn_bytes += (int64_t)j.torn_bytes;
		if (opts->problem) {
			char msg[256];
			snprintf(
			    msg, sizeof msg,
			    "a torn last record of %llu bytes at offset %llu was cut (the process "
			    "that wrote it died while writing it)",
			    (unsigned long long)j.torn_bytes, (unsigned long long)j.torn_at);
			opts->problem(path, 0, "", msg, opts->payload);
		}
	}
	char objdir[4200];
	snprintf(objdir, sizeof objdir, "%.*s.objects", (int)(strlen(path) - 8), path);
	if ((rc = remote_be_new(&be, j.url)) == 0 && (rc = remote_hello(be)) != 0 &&
	    remote_down(rc))
		rc = CAIRN_ESTORE;
	spool_replayer rp = SPOOL_REPLAYER_INIT;
	int64_t done = 0, total = (int64_t)j.records;
	uint64_t off = j.done;
	while (rc == 0) {
		spool_step st;
		int got = spool_replay_step(be, &j, objdir, off, be->retry_s, &rp, &st);
		if (got == CAIRN_ENOTFOUND) {
			/* a run the server does not know yet: another journal makes it */
			if (stats)
				stats->waiting += total - done;
			rc = 0;
			goto out;
		}
		if (got == SPOOL_DOWN)
			got = CAIRN_ESTORE;
		if (got <= 0) {
			rc = got;
			break;
		}
		if (st.refused) {
			if (stats)
				stats->refused++;
			if (opts->problem)
				opts->problem(path, st.seq, st.op, cairn_error_last(),
				              opts->payload);
		} else if (stats) {
			stats->records += (int64_t)st.records;
			stats->points += st.points;
		}
		off = st.next;
		journal_set_done(&j, off);
		done += (int64_t)st.records;
		if (opts->progress)
			opts->progress(done, total, opts->payload);
	}
	if (rc == 0) {
		unlink(path);
		spool_remove_tree(objdir);
	}
out:
	spool_replayer_free(&rp);
	remote_be_free(be);
	journal_close(&j);
	return rc;
}
