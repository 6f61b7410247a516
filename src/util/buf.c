/*
 * util/buf.c — see buf.h.  Growth doubles (amortised O(1) appends).
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
	b->oom = false;
}

void buf_free(buf *b)
{
	if (b->cap)
		free(b->ptr);
	buf_init(b);
}

void buf_clear(buf *b)
{
	buf_truncate(b, 0);
	b->oom = false;
}

bool buf_ok(const buf *b)
{
	return !b->oom;
}

void buf_grow(buf *b, size_t extra)
{
	if (b->oom)
		return;
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

void buf_add(buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (b->oom)
		return;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_putc(buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_add(b, small, (size_t)n);
		return;
	}
	buf_grow(b, (size_t)n);
	if (b->oom)
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
	if (b->oom) {
		buf_free(b);
		return NULL;
	}
	if (!b->cap) {
		p = strdup("");
	} else {
		p = b->ptr;
	}
	buf_init(b);
	return p;
}
