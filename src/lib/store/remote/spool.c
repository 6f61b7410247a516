/*
 * lib/store/remote/spool.c — the offline spool of one store handle: the
 * writes its server did not take, appended to a journal (journal.h) in
 * $XDG_DATA_HOME/cairn/spool/<server>/<session>.journal, and the objects
 * they reference in <session>.objects/ beside it, until they are replayed.
 *
 * <server> is the first 16 hex digits of the SHA-256 of the server's URL,
 * so the journals of one server are together (`cairn sync URL`), and the
 * directory is made private (0700): it holds what the runs recorded.
 *
 * Replay (spool_drain, from the handle itself when a probe is due) sends
 * the records in order, each with the idempotency key it was made with
 * (consecutive metrics_insert records coalesced into one request under a
 * key derived from the first's: coalesce.c), so a record the server
 * applied before the answer was lost is not applied again; `done` in the journal's header moves
 * past each record sent, and a journal that is empty again is removed with its objects.  A record
 * the server refuses for good (a conflicting param, say) is dropped and its refusal kept for the
 * next write of the handle (spool_deferred); one that names a run the server does not know yet (a
 * run another process started offline, whose journal has not been replayed) stops the replay, to be
 * tried again later.  Thread-safety: the store's lock is held.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/store/objects.h"
#include "lib/store/remote/journal.h"
#include "lib/store/remote/remote.h"
#include "util/fs.h"
#include "util/sha.h"

struct spool {
	journal j;
	char *objdir;
	spool_replayer rp; /* kept between drains: a group sent unanswered */
};

char *spool_dir_for(const char *url)
{
	char h[65], p[4096];
	if (sha_buf_hex(url, strlen(url), h) != 0)
		return NULL;
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(p, sizeof p, "%s/cairn/spool/%.16s", xdg, h);
	else if (home && *home)
		snprintf(p, sizeof p, "%s/.local/share/cairn/spool/%.16s", home, h);
	else
		return NULL;
	return strdup(p);
}

static int spool_make(cairn_store *s)
{
	remote_be *be = remote_of(s);
	if (be->sp)
		return 0;
	char *dir = spool_dir_for(be->base);
	if (!dir)
		return err_set(CAIRN_EINVALID, "the offline spool needs XDG_DATA_HOME or HOME");
	int e = mkdir_p(dir);
	if (e == 0)
		chmod(dir, 0700);
	spool *sp = calloc(1, sizeof *sp);
	if (sp)
		sp->rp = (spool_replayer)SPOOL_REPLAYER_INIT;
	size_t n = strlen(dir) + 64;
	char *path = malloc(n), *objdir = malloc(n);
	int rc = 0;
	if (e)
		rc = err_set(CAIRN_EIO, "cannot make the spool directory '%s': %s", dir,
		             strerror(-e));
	else if (!sp || !path || !objdir)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc == 0) {
		snprintf(path, n, "%s/%s.journal", dir, be->session);
		snprintf(objdir, n, "%s/%s.objects", dir, be->session);
		rc = journal_create(&sp->j, path, be->base, be->session);
	}
	free(dir);
	free(path);
	if (rc) {
		free(objdir);
		free(sp);
		return rc;
	}
	sp->objdir = objdir;
	be->sp = sp;
	return 0;
}

bool spool_pending(const cairn_store *s)
{
	const remote_be *be = s->be;
	return be && be->sp && be->sp->j.size > be->sp->j.done;
}

int spool_append(cairn_store *s, const char *op, const char *idem, const buf *body)
{
	int rc = spool_make(s);
	if (rc == 0)
		rc = journal_append(&remote_of(s)->sp->j, op, idem, body->ptr, body->len);
	return rc;
}

int spool_object(cairn_store *s, const char *tmp, const char *oid)
{
	int rc = spool_make(s);
	if (rc)
		return rc;
	spool *sp = remote_of(s)->sp;
	char *file = object_file_in(sp->objdir, oid);
	if (!file)
		return err_set(CAIRN_ENOMEM, "out of memory");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%.2s", sp->objdir, oid);
	int e = mkdir_p(dir);
	if (e == 0 && access(file, F_OK) != 0 && link(tmp, file) != 0) {
		/* another file system: copy */
		buf b = BUF_INIT;
		e = read_file(tmp, 0, &b);
		if (e == 0)
			e = write_file_atomic(file, b.ptr, b.len);
		buf_free(&b);
	}
	free(file);
	if (e)
		return err_set(CAIRN_EIO, "cannot keep object %.12s… in the spool: %s", oid,
		               strerror(-e));
	/* the record orders the upload before the writes that reference it */
	return journal_append(&sp->j, "object", "", oid, 64);
}

int spool_send_object(remote_be *be, const char *file, const char *oid)
{
	int rc = remote_object_put(be, file, oid);
	return rc;
}

int spool_deferred(cairn_store *s)
{
	remote_be *be = remote_of(s);
	if (!be->deferred)
		return 0;
	int rc = err_set(be->deferred,
	                 "a write kept while the server was away was refused "
	                 "when sent: %s",
	                 be->deferred_msg);
	be->deferred = 0;
	return rc;
}

void spool_remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[4096];
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			spool_remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* One record: 0 sent (or dropped for good, *refused set), SPOOL_DOWN, or
 * CAIRN_ENOTFOUND for a run the server does not know yet. */
int spool_replay_one(remote_be *be, const char *objdir, const jrec *rec, double budget,
                     int *refused)
{
	*refused = 0;
	int rc;
	if (strcmp(rec->op, "object") == 0) {
		char oid[65];
		if (rec->len != 64)
			return err_set(CAIRN_ESTORE, "a damaged object record in the spool");
		memcpy(oid, rec->body, 64);
		oid[64] = '\0';
		char *file = object_file_in(objdir, oid);
		if (!file)
			return err_set(CAIRN_ENOMEM, "out of memory");
		rc = access(file, R_OK) == 0
		         ? spool_send_object(be, file, oid)
		         : err_set(CAIRN_ENOTFOUND, "object %.12s… is missing from the spool", oid);
		free(file);
		if (rc == CAIRN_ENOTFOUND) {
			*refused = rc;
			return 0;
		}
		return rc;
	}
	rc = spool_send(be, rec->op, rec->idem, rec->body, rec->len, budget);
	if (rc == 0 || rc == SPOOL_DOWN || rc == CAIRN_ENOTFOUND || rc == CAIRN_EBUSY ||
	    rc == CAIRN_ENOMEM)
		return rc;
	if (rc == OBJECT_VANISHED)
		rc = err_set(CAIRN_ESTORE, "an object it references is gone from the server");
	*refused = rc; /* the server will never take it: drop it */
	return 0;
}

int spool_drain(cairn_store *s)
{
	remote_be *be = remote_of(s);
	spool *sp = be->sp;
	if (!sp)
		return 0;
	int rc = 0;
	uint64_t off = sp->j.done;
	for (;;) {
		spool_step st;
		int got = spool_replay_step(be, &sp->j, sp->objdir, off, 0, &sp->rp, &st);
		if (got <= 0) {
			rc = got;
			break;
		}
		if (st.refused && !be->deferred) {
			be->deferred = st.refused;
			snprintf(be->deferred_msg, sizeof be->deferred_msg, "%s (%s)",
			         cairn_error_last(), st.op);
		}
		off = st.next;
		journal_set_done(&sp->j, off);
	}
	if (rc == 0 && sp->j.done == sp->j.size) {
		/* empty: the journal and its objects go; a later spool starts anew */
		unlink(sp->j.path);
		spool_remove_tree(sp->objdir);
		spool_close(sp);
		be->sp = NULL;
	}
	return rc == SPOOL_DOWN ? CAIRN_ESTORE : rc;
}

void spool_close(spool *sp)
{
	if (!sp)
		return;
	journal_close(&sp->j);
	spool_replayer_free(&sp->rp);
	free(sp->objdir);
	free(sp);
}
