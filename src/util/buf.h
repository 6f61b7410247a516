/*
 * util/buf.h — a growable byte string (git's strbuf, SQLite's sticky error,
 * curl's dynbuf size cap).
 *
 * Invariants: `ptr` is never NULL and always NUL-terminated, also after an
 * allocation failure.  Appends never fail individually: on out-of-memory the
 * buffer sets `oom` and ignores further appends, and the caller checks once
 * with buf_ok().
 *
 * A buffer fed by untrusted input states its size cap once, where it is
 * made: buf_init_cap(&b, CONFIG_MAX).  An append that would take `len` past
 * the cap is refused whole and the buffer turns "too big" (buf_too_big):
 * sticky like oom, buf_ok() is false, further appends are ignored, and what
 * was there before stays (still NUL-terminated).  The caller reports it
 * once, as CAIRN_ETOOBIG where the library is the caller.  A cap of 0 means
 * none (BUF_INIT, buf_init).  buf_clear resets both states and keeps the
 * cap; buf_free and buf_detach keep the cap too.
 *
 * States: ok -> oom | too big (sticky until buf_clear / buf_free).
 * Not thread-safe; one owner at a time.
 */
#ifndef CAIRN_UTIL_BUF_H
#define CAIRN_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
	char *ptr;
	size_t len;
	size_t cap;   /* bytes allocated (0: ptr is the shared empty string) */
	bool oom;     /* an allocation failed */
	bool too_big; /* an append would have passed max */
	size_t max;   /* the size cap in bytes (len never exceeds it), 0: none */
} buf;

extern char buf_empty_[];
#define BUF_INIT                                                                                   \
	{                                                                                          \
		buf_empty_, 0, 0, false, false, 0                                                  \
	}

void buf_init(buf *b);
/* An empty buffer that never holds more than max bytes (max > 0). */
void buf_init_cap(buf *b, size_t max);
/* True once an append was refused for passing the cap. */
bool buf_too_big(const buf *b);
void buf_free(buf *b);
void buf_clear(buf *b);
bool buf_ok(const buf *b);
void buf_grow(buf *b, size_t extra);
/* The appends' slow paths (growing, the cap, a sticky error): buf_add and
 * buf_putc below take them only when the bytes do not fit as they are. */
void buf_add_slow(buf *b, const void *data, size_t len);
void buf_putc_slow(buf *b, char c);

/* The common case of every append, inlined: the buffer is ok, has no cap,
 * and the bytes fit in what is allocated (cap > len whenever cap > 0, so
 * cap - len cannot wrap).  A capped buffer always takes buf_grow's full
 * checks: read_file sets a cap on a buffer that may already hold more room
 * than the cap allows.  A run listing makes ~300 appends per run, so the
 * call saved on each is a measurable part of it. */
static inline bool buf_fits_(const buf *b, size_t extra)
{
	return !b->oom && !b->too_big && !b->max && extra < b->cap - b->len;
}

static inline void buf_add(buf *b, const void *data, size_t len)
{
	if (!buf_fits_(b, len)) {
		buf_add_slow(b, data, len);
		return;
	}
	__builtin_memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

static inline void buf_putc(buf *b, char c)
{
	if (!buf_fits_(b, 1)) {
		buf_putc_slow(b, c);
		return;
	}
	b->ptr[b->len++] = c;
	b->ptr[b->len] = '\0';
}

void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
void buf_truncate(buf *b, size_t len);
/* Hand the string to the caller (NULL on OOM) and reset the buffer. */
char *buf_detach(buf *b);

#endif
