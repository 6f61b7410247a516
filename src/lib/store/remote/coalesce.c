/*
 * lib/store/remote/coalesce.c — replay groups of the offline spool
 * (remote.h: spool_group): consecutive metrics_insert records of a journal
 * merged into one request, so a replay costs one request and one server
 * transaction per group instead of per record (docs/internals/remote.md,
 * "The offline spool", Replay).
 *
 * A group starts at a metrics_insert record and takes the ones right after
 * it while they are metrics_insert too, up to SPOOL_GROUP_POINTS points,
 * SPOOL_GROUP_BYTES bytes of body and SPOOL_GROUP_KEYS distinct keys; any
 * other record (a finish, a tag, an object) ends it, so the order of writes
 * of different kinds is the journal's.  The merged body is the one
 * rr_metrics_insert writes (runs, keys, points): each record's runs and
 * keys are mapped to the group's, its points appended in order, so a point
 * logged twice is stored as the later one, as it would be record by record.
 *
 * Its idempotency key is the first record's key and the number of records,
 * "KEY:N" (a group of one keeps the record's own key and body, byte for
 * byte), so replaying the same span again — after a crash, or by `cairn
 * sync` after the process died — is answered from the server's kept answer.
 * A record that does not parse is left out of the group (it goes alone,
 * and the server refuses it as it would have).
 *
 * The span must be the same on every try, or a group the server applied
 * would be applied again under another key.  Records end a group where a
 * record of another kind or a limit ends it, the same on every read of the
 * journal; the journal's end does not stay put (the live process appends
 * behind it), so a group — or a lone metrics record — that reaches the end
 * is closed before it is sent by appending a SPOOL_MARK_OP record (durable
 * as any record): whoever replays the journal after that, this process or
 * `cairn sync` after it died, meets the mark and sends the same span under
 * the same key.  A group the server refuses as a whole goes record by
 * record (each under its own key, so only the bad one is dropped); that
 * span is made durable too before its first record is sent, by a mark
 * naming it (journal_mark_alone), so a reader after a crash in the middle
 * goes on record by record instead of grouping the rest under a new key.
 * Marks are skipped by replay.  Not thread-safe: the journal's owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/remote/journal.h"
#include "lib/store/remote/remote.h"

typedef struct names {
	char **v;
	uint32_t n, cap;
} names;

static void names_free(names *a)
{
	for (uint32_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof *a);
}

/* The index of s in a, added when new; -1 out of memory. */
static int64_t names_index(names *a, const char *s)
{
	for (uint32_t i = a->n; i-- > 0;)
		if (strcmp(a->v[i], s) == 0)
			return i;
	if (a->n == a->cap) {
		uint32_t nc = a->cap ? a->cap * 2 : 8;
		char **nv = realloc(a->v, nc * sizeof *nv);
		if (!nv)
			return -1;
		a->v = nv;
		a->cap = nc;
	}
	if (!(a->v[a->n] = strdup(s)))
		return -1;
	return a->n++;
}

/* Add one metrics_insert body to the group: 1 added, 0 it does not fit
 * (or does not parse; nothing added), -1 out of memory. */
static int group_add(names *runs, names *keys, buf *pts, uint32_t *npts, const jrec *rec)
{
	wr r;
	wr_init(&r, rec->body, rec->len);
	uint32_t nr = r_count(&r, 5);
	const char **rv = calloc(nr ? nr : 1, sizeof *rv);
	if (!rv)
		return -1;
	for (uint32_t i = 0; i < nr; i++)
		rv[i] = r_text(&r);
	uint32_t nk = r_count(&r, 5);
	const char **kv = calloc(nk ? nk : 1, sizeof *kv);
	if (!kv) {
		free(rv);
		return -1;
	}
	for (uint32_t i = 0; i < nk; i++)
		kv[i] = r_text(&r);
	uint32_t n = r_count(&r, 32);
	const unsigned char *p = r.p;
	int ok = !r.bad && (size_t)(r.end - r.p) == (size_t)n * 32;
	if (ok && *npts &&
	    ((uint64_t)*npts + n > SPOOL_GROUP_POINTS ||
	     pts->len + (size_t)n * 32 + (size_t)(p - (const unsigned char *)rec->body) >
	         SPOOL_GROUP_BYTES ||
	     keys->n + nk > SPOOL_GROUP_KEYS))
		ok = 0;
	uint32_t r0 = runs->n, k0 = keys->n;
	uint32_t *run_map = ok ? malloc((nr ? nr : 1) * sizeof *run_map) : NULL;
	uint32_t *key_map = ok ? malloc((nk ? nk : 1) * sizeof *key_map) : NULL;
	int rc = ok ? 1 : 0;
	if (ok && (!run_map || !key_map))
		rc = -1;
	for (uint32_t i = 0; rc == 1 && i < nr; i++) {
		int64_t x = names_index(runs, rv[i]);
		if (x < 0)
			rc = -1;
		else
			run_map[i] = (uint32_t)x;
	}
	for (uint32_t i = 0; rc == 1 && i < nk; i++) {
		int64_t x = names_index(keys, kv[i]);
		if (x < 0)
			rc = -1;
		else
			key_map[i] = (uint32_t)x;
	}
	size_t at = pts->len;
	if (rc == 1) {
		buf_grow(pts, (size_t)n * 32);
		if (!buf_ok(pts))
			rc = -1;
	}
	for (uint32_t i = 0; rc == 1 && i < n; i++, p += 32) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		if (a >= nr || b >= nk) {
			rc = 0; /* out of range: the server refuses it, alone */
			break;
		}
		a = run_map[a];
		b = key_map[b];
		char *q = pts->ptr + at + (size_t)i * 32;
		memcpy(q, &a, 4);
		memcpy(q + 4, &b, 4);
		memcpy(q + 8, p + 8, 24);
	}
	if (rc == 1) {
		pts->len = at + (size_t)n * 32;
		*npts += n;
	} else {
		/* undo: names added by this record go, the points buffer is as it was */
		while (runs->n > r0)
			free(runs->v[--runs->n]);
		while (keys->n > k0)
			free(keys->v[--keys->n]);
		pts->len = at;
	}
	free(rv);
	free(kv);
	free(run_map);
	free(key_map);
	return rc;
}

int spool_group(journal *j, uint64_t off, uint64_t max_records, buf *scratch, spool_grp *g)
{
	buf_free(&g->body);
	g->records = 0;
	g->points = 0;
	g->idem[0] = '\0';
	g->at_end = false;
	names runs = {0}, keys = {0};
	buf pts = BUF_INIT;
	uint32_t npts = 0;
	int rc = 0;
	uint64_t at = off;
	char first[128] = "";
	while (max_records == 0 || g->records < max_records) {
		jrec rec;
		int got = journal_read(j, at, &rec, scratch);
		if (got < 0 && g->records == 0) {
			rc = got;
			break;
		}
		if (got == 0)
			g->at_end = true;
		if (got <= 0 || strcmp(rec.op, "metrics_insert") != 0)
			break;
		int add = group_add(&runs, &keys, &pts, &npts, &rec);
		if (add < 0) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		if (add == 0)
			break;
		if (g->records == 0)
			snprintf(first, sizeof first, "%s", rec.idem);
		g->records++;
		at = rec.next;
	}
	if (rc == 0 && g->records > 0) {
		buf_grow(&g->body, 16 + pts.len + (size_t)(runs.n + keys.n) * 40);
		w_u32(&g->body, runs.n);
		for (uint32_t i = 0; i < runs.n; i++)
			w_str(&g->body, runs.v[i]);
		w_u32(&g->body, keys.n);
		for (uint32_t i = 0; i < keys.n; i++)
			w_str(&g->body, keys.v[i]);
		w_u32(&g->body, npts);
		buf_add(&g->body, pts.ptr, pts.len);
		if (!buf_ok(&g->body))
			rc = err_set(CAIRN_ENOMEM, "out of memory");
		if (g->records == 1)
			snprintf(g->idem, sizeof g->idem, "%s", first);
		else
			snprintf(g->idem, sizeof g->idem, "%s:%llu", first,
			         (unsigned long long)g->records);
		g->points = npts;
		g->next = at;
	}
	names_free(&runs);
	names_free(&keys);
	buf_free(&pts);
	return rc;
}

void spool_group_free(spool_grp *g)
{
	buf_free(&g->body);
}

int spool_replay_step(remote_be *be, journal *j, const char *objdir, uint64_t off, double budget,
                      spool_replayer *rp, spool_step *st)
{
	memset(st, 0, sizeof *st);
	int rc;
	rp->g.records = 0;
	if (!journal_alone(j, off) && (rc = spool_group(j, off, rp->try_off == off ? rp->try_n : 0,
	                                                &rp->scratch, &rp->g)) != 0)
		return rc;
	/* a span that reaches the end: closed for good before it is sent */
	if (rp->g.records > 1 && rp->g.at_end &&
	    (rc = journal_append(j, SPOOL_MARK_OP, "", "", 0)) != 0)
		return rc;
	if (rp->g.records > 1) {
		rp->try_off = off;
		rp->try_n = rp->g.records;
		rc = spool_send(be, "metrics_insert", rp->g.idem, rp->g.body.ptr, rp->g.body.len,
		                budget);
		if (rc == SPOOL_DOWN || rc == CAIRN_ENOTFOUND || rc == CAIRN_EBUSY ||
		    rc == CAIRN_ENOMEM)
			return rc;
		rp->try_off = UINT64_MAX;
		rp->try_n = 0;
		if (rc == 0) {
			st->next = rp->g.next;
			st->records = rp->g.records;
			st->points = (int64_t)rp->g.points;
			st->op = "metrics_insert";
			return 1;
		}
		/* refused as a whole (nothing of it applied): one by one, the span
		 * durable before its first record goes, for every later reader */
		if ((rc = journal_mark_alone(j, off, rp->g.next)) != 0)
			return rc;
	}
	jrec rec;
	int got = journal_read(j, off, &rec, &rp->scratch);
	if (got <= 0)
		return got;
	if (strcmp(rec.op, SPOOL_MARK_OP) == 0) { /* nothing to send: passed over */
		st->next = rec.next;
		st->seq = rec.seq;
		st->op = rec.op;
		return 1;
	}
	/* a lone metrics record at the end (a group of one, or one of a group
	 * sent record by record): closed too, or it could join a group later */
	if (strcmp(rec.op, "metrics_insert") == 0 && rec.next == j->size &&
	    (rc = journal_append(j, SPOOL_MARK_OP, "", "", 0)) != 0)
		return rc;
	if ((rc = spool_replay_one(be, objdir, &rec, budget, &st->refused)) != 0)
		return rc;
	st->next = rec.next;
	st->records = 1;
	st->seq = rec.seq;
	st->op = rec.op;
	if (!st->refused && strcmp(rec.op, "metrics_insert") == 0) {
		wr r;
		wr_init(&r, rec.body, rec.len);
		for (int part = 0; part < 2; part++) {
			uint32_t n = r_count(&r, 5);
			for (uint32_t i = 0; i < n; i++)
				r_str(&r);
		}
		uint32_t n = r_u32(&r);
		st->points = r.bad ? 0 : n;
	}
	return 1;
}

void spool_replayer_free(spool_replayer *rp)
{
	buf_free(&rp->scratch);
	spool_group_free(&rp->g);
}
