/*
 * util/buf.c — the growable string of buf.h.  Growth doubles (amortised
 * O(1) appends), and never allocates past the cap (+1 for the NUL), so a
 * capped buffer's memory is bounded by its cap, not by its input.
 */
#include "util/buf.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char buf_empty_[1];

void buf_init(buf *b)
{
	b->ptr = buf_empty_;
	b->len = b->cap = 0;
	b->oom = b->too_big = false;
	b->max = 0;
}

void buf_init_cap(buf *b, size_t max)
{
	buf_init(b);
	b->max = max;
}

/* Empty and unallocated again, with the same cap. */
static void reset(buf *b)
{
	size_t max = b->max;
	buf_init(b);
	b->max = max;
}

void buf_free(buf *b)
{
	if (b->cap)
		free(b->ptr);
	reset(b);
}

void buf_clear(buf *b)
{
	buf_truncate(b, 0);
	b->oom = b->too_big = false;
}

bool buf_ok(const buf *b)
{
	return !b->oom && !b->too_big;
}

bool buf_too_big(const buf *b)
{
	return b->too_big;
}

void buf_grow(buf *b, size_t extra)
{
	if (buf_fits_(b, extra))
		return;
	if (!buf_ok(b))
		return;
	if (b->max && (extra > b->max || b->len > b->max - extra)) {
		b->too_big = true;
		return;
	}
	if (extra > SIZE_MAX - 1 - b->len) {
		b->oom = true;
		return;
	}
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return;
		}
		cap *= 2;
	}
	if (b->max && cap > b->max + 1)
		cap = b->max + 1; /* never more than the cap can use */
	char *p = b->cap ? realloc(b->ptr, cap) : malloc(cap);
	if (!p) {
		b->oom = true;
		return;
	}
	if (!b->cap)
		p[0] = '\0';
	b->ptr = p;
	b->cap = cap;
}

void buf_add_slow(buf *b, const void *data, size_t len)
{
	if (!buf_fits_(b, len)) {
		buf_grow(b, len);
		if (!buf_ok(b))
			return;
	}
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_putc_slow(buf *b, char c)
{
	buf_add_slow(b, &c, 1);
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, cp);
	va_end(cp);
	if (n < 0) {
		if (buf_ok(b))
			b->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_add(b, small, (size_t)n);
		return;
	}
	buf_grow(b, (size_t)n);
	if (!buf_ok(b))
		return;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_truncate(buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->ptr[len] = '\0';
	}
}

char *buf_detach(buf *b)
{
	char *p;
	if (!buf_ok(b)) {
		buf_free(b);
		return NULL;
	}
	if (!b->cap) {
		p = strdup("");
	} else {
		p = b->ptr;
	}
	reset(b);
	return p;
}
