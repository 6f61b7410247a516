/*
 * lib/store/remote/wire.h — the byte format of the remote store protocol
 * (docs/internals/remote.md): what a client of `cairn server` and the
 * server's store endpoint (serve.c) put in a request or reply body, written
 * once here for both ends.
 *
 * A body is a sequence of fields whose order each operation fixes (there
 * are no tags: both ends are this code).  Integers are little-endian and
 * fixed-width (u8, u32, i64), doubles their IEEE-754 bits (so NaN, ±Inf and
 * -0 cross unchanged), and a string is a u32 length, the bytes and a NUL
 * (0xffffffff: NULL, no bytes), so a reader hands out pointers into the
 * body instead of copies.
 *
 * The reader never reads past its end: a short or malformed body makes it
 * "bad" (sticky, like buf's oom) and every later read returns 0 / NULL;
 * the caller checks once (wr_check) at the end.  A string without its NUL
 * or with a NUL inside is bad too.  Not thread-safe; one owner.
 */
#ifndef CAIRN_LIB_STORE_REMOTE_WIRE_H
#define CAIRN_LIB_STORE_REMOTE_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/internal.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the remote protocol is written for little-endian hosts"
#endif

/* The protocol's version: GET /api/v1/ answers "store_wire": N, and a
 * client refuses a server with another. */
#define WIRE_VERSION 2
/* The media type of every body (a type no cross-site form can send). */
#define WIRE_TYPE "application/x-cairn"

static inline void w_u8(buf *b, uint8_t v)
{
	buf_add(b, &v, 1);
}
static inline void w_u32(buf *b, uint32_t v)
{
	buf_add(b, &v, 4);
}
static inline void w_i64(buf *b, int64_t v)
{
	buf_add(b, &v, 8);
}
static inline void w_f64(buf *b, double v)
{
	buf_add(b, &v, 8);
}
void w_str(buf *b, const char *s);
void w_strn(buf *b, const char *s, size_t n);
void w_bytes(buf *b, const void *p, size_t n);

typedef struct wr {
	const unsigned char *p, *end;
	bool bad;
} wr;

static inline void wr_init(wr *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
	r->bad = false;
}

uint8_t r_u8(wr *r);
uint32_t r_u32(wr *r);
int64_t r_i64(wr *r);
double r_f64(wr *r);
/* NULL for a NULL string (and when bad). */
const char *r_str(wr *r);
/* A string that must not be NULL ("" when bad). */
const char *r_text(wr *r);
const void *r_bytes(wr *r, size_t *n);
/* A count of items of at least `each` bytes each: bad when the body
 * cannot hold that many (so a hostile count never sizes an allocation). */
uint32_t r_count(wr *r, size_t each);
/* 0, or CAIRN_EINVALID "malformed <what>" when the reader went bad or
 * (with whole) did not end exactly at the body's end. */
int wr_check(const wr *r, bool whole, const char *what);

/* A reply: status 0 and the op's results, or an error code and its message. */
void w_reply_error(buf *b, int rc, const char *msg);
/* Raise the error of a reply (0 when it is a success, the reader then at
 * its results). */
int r_reply(wr *r);

/* Values of params: type, then the payload the type has. */
void w_value(buf *b, const cairn_value *v);
void r_value(wr *r, cairn_value *v);

#endif
