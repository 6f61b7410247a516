/*
 * lib/store/remote/journal.h — the file format of the offline spool: one
 * journal per store handle (a process's connection to a server), holding
 * the writes the server did not take, in the order they were made.
 *
 *   header   "CAIRNJ\x01\n"      8 bytes, magic and format version
 *            done                u64: bytes of the file already replayed
 *                                (the header's end when none), rewritten in
 *                                place as records are sent
 *            url                 u32 length + bytes: the server (no token)
 *            session             32 hex: the idempotency keys' prefix
 *            check               u64: XXH3-64 of url and session
 *   record   len                 u32: payload bytes
 *            seq                 u64: 1, 2, 3… (no gaps)
 *            check               u64: XXH3-64 of the payload, seeded by seq
 *            payload             op (wire string), idempotency key (wire
 *                                string), then the request body as sent
 *                                (op "object": an upload; "group_end": a
 *                                replay mark, coalesce.c, never sent: an
 *                                empty body is a group's end, a body of two
 *                                u64 FROM, TO a span replay sends record by
 *                                record)
 *
 * A record is appended with one write and fdatasync'ed before the call
 * that made it returns, so a process killed at any moment leaves every
 * write it reported done, and at worst a torn last record.  Reading checks
 * every record: a record that fails its check or its sequence number and
 * reaches the end of the file is a torn tail (dropped: the file is cut
 * there, and the caller reports it); one with valid bytes after it is
 * corruption in the middle, an error naming the file and the offset, and
 * nothing after it is replayed.  The owner holds an exclusive flock on the
 * file for its life, so `cairn sync` never replays a journal a running
 * process is still writing.  A one-by-one mark is appended at the end, after
 * the span it names: journal_open, which reads every record anyway, keeps
 * the spans that end past `done`, so any later reader knows them before it
 * reaches them.  Journals without such marks (older ones) read as before.
 * Not thread-safe: one owner.
 */
#ifndef CAIRN_LIB_STORE_REMOTE_JOURNAL_H
#define CAIRN_LIB_STORE_REMOTE_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define JOURNAL_REC_HEAD 20
#define JOURNAL_REC_MAX  ((uint64_t)1 << 30)

/* The op of replay's own marks (coalesce.c), never sent. */
#define JOURNAL_MARK_OP "group_end"

/* A span [from, to) of records replay sends one by one (a group the server
 * refused as a whole), from a mark after it. */
typedef struct jspan {
	uint64_t from, to;
} jspan;

typedef struct journal {
	int fd;
	char *path;
	char *url;
	char session[33];
	uint64_t head;     /* the header's length */
	uint64_t done;     /* replayed up to here */
	uint64_t size;     /* the end of the last whole record */
	uint64_t next_seq; /* of the next record appended */
	uint64_t records;  /* whole records past done */
	/* journal_open: a torn tail it cut (torn_bytes 0: none) */
	uint64_t torn_at, torn_bytes;
	/* the one-by-one spans not yet replayed past (journal_mark_alone; found
	 * by journal_open) */
	jspan *alone;
	size_t nalone, alone_cap;
} journal;

typedef struct jrec {
	uint64_t seq, off, next; /* its number, where it starts, where the next starts */
	const char *op, *idem;
	const void *body;
	size_t len;
} jrec;

/* A new journal at path for url and session (locked, header fsynced). */
int journal_create(journal *j, const char *path, const char *url, const char *session);
/* An existing journal: locked without waiting (CAIRN_EBUSY "in use by a
 * running process" when another holds it), header checked, every record
 * checked (a torn tail cut, corruption in the middle an error), and the
 * one-by-one spans its marks name kept (j->alone). With readonly nothing is
 * cut or locked (cairn sync --status). */
int journal_open(journal *j, const char *path, bool readonly);
/* Append one record and fdatasync it. */
int journal_append(journal *j, const char *op, const char *idem, const void *body, size_t len);
/* The record at off (>= done) into *rec, its bytes in scratch: 1, or 0 at
 * the end (off == size). */
int journal_read(journal *j, uint64_t off, jrec *rec, buf *scratch);
/* Append a mark that the records in [from, to) go one by one (a group the
 * server refused as a whole), fdatasync'ed as any record, and keep the span. */
int journal_mark_alone(journal *j, uint64_t from, uint64_t to);
/* Is the record at off in a one-by-one span (marked by this handle, or
 * found by journal_open)? */
bool journal_alone(const journal *j, uint64_t off);
/* Record that everything before off was replayed (spans before it are
 * forgotten). */
int journal_set_done(journal *j, uint64_t off);
void journal_close(journal *j);
/* Does a running process hold the journal at path (its lock)? */
bool journal_in_use(const char *path);

#endif
