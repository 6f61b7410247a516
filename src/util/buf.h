/*
 * util/buf.h — a growable byte string (git's strbuf, SQLite's sticky error).
 *
 * Invariants: `ptr` is never NULL and always NUL-terminated, also after an
 * allocation failure.  Appends never fail individually: on out-of-memory the
 * buffer sets `oom` and ignores further appends, and the caller checks once
 * with buf_ok().  Not thread-safe; one owner at a time.
 */
#ifndef CAIRN_UTIL_BUF_H
#define CAIRN_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
	char *ptr;
	size_t len;
	size_t cap;
	bool oom;
} buf;

extern char buf_empty_[];
#define BUF_INIT                                                                                   \
	{                                                                                          \
		buf_empty_, 0, 0, false                                                            \
	}

void buf_init(buf *b);
void buf_free(buf *b);
void buf_clear(buf *b);
bool buf_ok(const buf *b);
void buf_grow(buf *b, size_t extra);
void buf_add(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
void buf_truncate(buf *b, size_t len);
/* Hand the string to the caller (NULL on OOM) and reset the buffer. */
char *buf_detach(buf *b);

#endif
