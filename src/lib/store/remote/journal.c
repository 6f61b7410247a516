/*
 * lib/store/remote/journal.c — the offline spool's files (the format and
 * its guarantees are in journal.h and docs/internals/remote.md, "The
 * journal").  Checksums are XXH3-64 (libxxhash, already linked for data
 * digests): a torn or damaged record is found with probability 1 - 2^-64.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lib/internal.h"
#include "lib/store/remote/journal.h"
#include "lib/store/remote/wire.h"

static const char magic[8] = {'C', 'A', 'I', 'R', 'N', 'J', 1, '\n'};

static int io_err(const journal *j, const char *what)
{
	return err_set(CAIRN_EIO, "cannot %s the spool journal '%s': %s", what, j->path,
	               strerror(errno));
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		got += (size_t)r;
	}
	return 1;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	size_t put = 0;
	while (put < n) {
		ssize_t r = pwrite(fd, (const char *)p + put, n - put, (off_t)(off + put));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		put += (size_t)r;
	}
	return 0;
}

static uint64_t header_check(const char *url, size_t ulen, const char *session)
{
	XXH3_state_t *st = XXH3_createState();
	uint64_t h = 0;
	if (st) {
		XXH3_64bits_reset(st);
		XXH3_64bits_update(st, url, ulen);
		XXH3_64bits_update(st, session, 32);
		h = XXH3_64bits_digest(st);
		XXH3_freeState(st);
	}
	return h;
}

int journal_create(journal *j, const char *path, const char *url, const char *session)
{
	memset(j, 0, sizeof *j);
	j->fd = -1;
	j->path = strdup(path);
	j->url = strdup(url);
	if (!j->path || !j->url) {
		journal_close(j);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	snprintf(j->session, sizeof j->session, "%s", session);
	j->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (j->fd < 0 || flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
		int rc = io_err(j, "create");
		journal_close(j);
		return rc;
	}
	buf h = BUF_INIT;
	size_t ulen = strlen(url);
	buf_add(&h, magic, 8);
	w_i64(&h, 0); /* done: set below */
	w_u32(&h, (uint32_t)ulen);
	buf_add(&h, url, ulen);
	buf_add(&h, session, 32);
	w_i64(&h, (int64_t)header_check(url, ulen, session));
	j->head = h.len;
	uint64_t done = j->head;
	memcpy(h.ptr + 8, &done, 8);
	int rc = 0;
	if (!buf_ok(&h))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	else if (pwrite_all(j->fd, h.ptr, h.len, 0) != 0 || fdatasync(j->fd) != 0)
		rc = io_err(j, "write");
	buf_free(&h);
	if (rc) {
		unlink(path);
		journal_close(j);
		return rc;
	}
	j->done = j->size = j->head;
	j->next_seq = 1;
	return 0;
}

/* Read the header: 0, or an error naming what is wrong. */
static int read_header(journal *j, uint64_t fsize)
{
	unsigned char h[24];
	if (fsize < 24 || pread_all(j->fd, h, 24, 0) != 1 || memcmp(h, magic, 8) != 0)
		return err_set(CAIRN_ESTORE, "'%s' is not a cairn spool journal", j->path);
	uint32_t ulen;
	memcpy(&j->done, h + 8, 8);
	memcpy(&ulen, h + 16, 4);
	if (ulen > 8192 || fsize < 20 + (uint64_t)ulen + 40)
		return err_set(CAIRN_ESTORE, "the spool journal '%s' has a damaged header",
		               j->path);
	char *u = malloc((size_t)ulen + 1 + 40);
	if (!u)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (pread_all(j->fd, u, (size_t)ulen + 40, 20) != 1) {
		free(u);
		return io_err(j, "read");
	}
	uint64_t check;
	memcpy(&check, u + ulen + 32, 8);
	memcpy(j->session, u + ulen, 32);
	j->session[32] = '\0';
	if (check != header_check(u, ulen, j->session)) {
		free(u);
		return err_set(CAIRN_ESTORE, "the spool journal '%s' has a damaged header",
		               j->path);
	}
	u[ulen] = '\0';
	j->url = u;
	j->head = 20 + (uint64_t)ulen + 40;
	if (j->done < j->head || j->done > fsize)
		return err_set(CAIRN_ESTORE, "the spool journal '%s' has a damaged header",
		               j->path);
	return 0;
}

/* Check the record at off; 1 whole (next set), 0 torn or damaged. */
static int check_at(journal *j, uint64_t off, uint64_t fsize, uint64_t want_seq, buf *scratch,
                    jrec *rec)
{
	unsigned char h[JOURNAL_REC_HEAD];
	if (fsize - off < JOURNAL_REC_HEAD || pread_all(j->fd, h, sizeof h, off) != 1)
		return 0;
	uint32_t len;
	uint64_t seq, check;
	memcpy(&len, h, 4);
	memcpy(&seq, h + 4, 8);
	memcpy(&check, h + 12, 8);
	if (len > JOURNAL_REC_MAX || fsize - off - JOURNAL_REC_HEAD < len ||
	    (want_seq && seq != want_seq))
		return 0;
	buf_clear(scratch);
	buf_grow(scratch, len);
	if (!buf_ok(scratch))
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (pread_all(j->fd, scratch->ptr, len, off + JOURNAL_REC_HEAD) != 1)
		return 0;
	scratch->len = len;
	scratch->ptr[len] = '\0';
	if (XXH3_64bits_withSeed(scratch->ptr, len, seq) != check)
		return 0;
	wr r;
	wr_init(&r, scratch->ptr, len);
	const char *op = r_text(&r), *idem = r_text(&r);
	if (r.bad)
		return 0;
	if (rec) {
		rec->seq = seq;
		rec->off = off;
		rec->op = op;
		rec->idem = idem;
		rec->body = r.p;
		rec->len = (size_t)(r.end - r.p);
	}
	return 1;
}

static int span_add(journal *j, uint64_t from, uint64_t to)
{
	if (j->nalone == j->alone_cap) {
		size_t nc = j->alone_cap ? j->alone_cap * 2 : 4;
		jspan *nv = realloc(j->alone, nc * sizeof *nv);
		if (!nv)
			return err_set(CAIRN_ENOMEM, "out of memory");
		j->alone = nv;
		j->alone_cap = nc;
	}
	j->alone[j->nalone++] = (jspan){from, to};
	return 0;
}

/* A mark read at open: a one-by-one span (FROM, TO: records before the
 * mark) kept when it ends past done; an empty body (a group's end) or any
 * other is passed over. */
static int mark_read(journal *j, const jrec *rec)
{
	if (strcmp(rec->op, JOURNAL_MARK_OP) != 0 || rec->len != 16)
		return 0;
	uint64_t from, to;
	memcpy(&from, rec->body, 8);
	memcpy(&to, (const char *)rec->body + 8, 8);
	if (from < j->head || from >= to || to > rec->off)
		return err_set(CAIRN_ESTORE,
		               "the spool journal '%s' is damaged at offset %llu (a replay mark "
		               "names records it does not follow)",
		               j->path, (unsigned long long)rec->off);
	return to > j->done ? span_add(j, from, to) : 0;
}

int journal_open(journal *j, const char *path, bool readonly)
{
	memset(j, 0, sizeof *j);
	j->fd = -1;
	j->path = strdup(path);
	if (!j->path)
		return err_set(CAIRN_ENOMEM, "out of memory");
	j->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (j->fd < 0)
		return io_err(j, "open");
	if (!readonly && flock(j->fd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK
		           ? err_set(CAIRN_EBUSY,
		                     "the spool journal '%s' is in use by a running process, "
		                     "which sends it itself",
		                     path)
		           : io_err(j, "lock");
	struct stat st;
	if (fstat(j->fd, &st) != 0)
		return io_err(j, "read");
	uint64_t fsize = (uint64_t)st.st_size;
	int rc = read_header(j, fsize);
	if (rc)
		return rc;
	/* every record, from the start: the sequence numbers run on */
	buf scratch = BUF_INIT;
	uint64_t off = j->head, seq = 0;
	for (;;) {
		if (off == fsize)
			break;
		jrec rec;
		int ok = check_at(j, off, fsize, seq ? seq + 1 : 0, &scratch, &rec);
		if (ok < 0) {
			buf_free(&scratch);
			return ok;
		}
		if (ok) {
			uint32_t len;
			pread_all(j->fd, &len, 4, off);
			seq = rec.seq;
			if (off >= j->done)
				j->records++;
			if ((rc = mark_read(j, &rec)) != 0) {
				buf_free(&scratch);
				return rc;
			}
			off += JOURNAL_REC_HEAD + len;
			continue;
		}
		/* damaged: a torn tail when nothing whole follows it, else corruption */
		unsigned char h[4];
		uint32_t len = 0;
		if (fsize - off >= 4 && pread_all(j->fd, h, 4, off) == 1)
			memcpy(&len, h, 4);
		bool past_end = fsize - off < JOURNAL_REC_HEAD ||
		                (uint64_t)len >= fsize - off - JOURNAL_REC_HEAD;
		if (!past_end) {
			buf_free(&scratch);
			return err_set(
			    CAIRN_ESTORE,
			    "the spool journal '%s' is damaged at offset %llu (record %llu "
			    "fails its checksum and more follows); nothing after it is sent",
			    path, (unsigned long long)off, (unsigned long long)seq + 1);
		}
		j->torn_at = off;
		j->torn_bytes = fsize - off;
		if (!readonly && ftruncate(j->fd, (off_t)off) != 0) {
			buf_free(&scratch);
			return io_err(j, "cut the torn tail of");
		}
		break;
	}
	buf_free(&scratch);
	j->size = off;
	if (j->done > j->size)
		j->done = j->size;
	j->next_seq = seq + 1;
	return 0;
}

int journal_append(journal *j, const char *op, const char *idem, const void *body, size_t len)
{
	buf rec = BUF_INIT;
	buf_grow(&rec, JOURNAL_REC_HEAD + len + 128);
	buf_add(&rec, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", JOURNAL_REC_HEAD);
	w_str(&rec, op);
	w_str(&rec, idem);
	buf_add(&rec, body, len);
	if (!buf_ok(&rec)) {
		buf_free(&rec);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	uint64_t plen = rec.len - JOURNAL_REC_HEAD;
	if (plen > JOURNAL_REC_MAX) {
		buf_free(&rec);
		return err_set(CAIRN_ETOOBIG, "a spooled write of %llu bytes is too big",
		               (unsigned long long)plen);
	}
	uint32_t l32 = (uint32_t)plen;
	uint64_t seq = j->next_seq;
	uint64_t check = XXH3_64bits_withSeed(rec.ptr + JOURNAL_REC_HEAD, plen, seq);
	memcpy(rec.ptr, &l32, 4);
	memcpy(rec.ptr + 4, &seq, 8);
	memcpy(rec.ptr + 12, &check, 8);
	int rc = 0;
	if (pwrite_all(j->fd, rec.ptr, rec.len, j->size) != 0 || fdatasync(j->fd) != 0) {
		rc = io_err(j, "write");
		/* nothing half-written stays behind this record's start */
		if (ftruncate(j->fd, (off_t)j->size) != 0)
			rc = io_err(j, "write");
	} else {
		j->size += rec.len;
		j->next_seq++;
		j->records++;
	}
	buf_free(&rec);
	return rc;
}

int journal_read(journal *j, uint64_t off, jrec *rec, buf *scratch)
{
	if (off >= j->size)
		return 0;
	int ok = check_at(j, off, j->size, 0, scratch, rec);
	if (ok < 0)
		return ok;
	if (!ok)
		return err_set(CAIRN_ESTORE, "the spool journal '%s' is damaged at offset %llu",
		               j->path, (unsigned long long)off);
	rec->next = off + JOURNAL_REC_HEAD + (uint64_t)(scratch->len);
	return 1;
}

int journal_mark_alone(journal *j, uint64_t from, uint64_t to)
{
	unsigned char body[16];
	memcpy(body, &from, 8);
	memcpy(body + 8, &to, 8);
	int rc = span_add(j, from, to); /* first: a mark on disk is always kept */
	if (rc == 0 && (rc = journal_append(j, JOURNAL_MARK_OP, "", body, sizeof body)) != 0)
		j->nalone--;
	return rc;
}

bool journal_alone(const journal *j, uint64_t off)
{
	for (size_t i = 0; i < j->nalone; i++)
		if (off >= j->alone[i].from && off < j->alone[i].to)
			return true;
	return false;
}

int journal_set_done(journal *j, uint64_t off)
{
	if (pwrite_all(j->fd, &off, 8, 8) != 0)
		return io_err(j, "write");
	j->done = off;
	size_t k = 0;
	for (size_t i = 0; i < j->nalone; i++)
		if (j->alone[i].to > off)
			j->alone[k++] = j->alone[i];
	j->nalone = k;
	return 0;
}

void journal_close(journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->path);
	free(j->url);
	free(j->alone);
	j->path = j->url = NULL;
	j->alone = NULL;
	j->nalone = j->alone_cap = 0;
}

bool journal_in_use(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}
