/*
 * util/utf8.h — UTF-8 validation (RFC 3629), for the door checks on names,
 * for the JSON writer's lossless escaping of bytes that are not UTF-8, and
 * for the text a PostgreSQL store is given (it holds UTF-8 text only).
 *
 * Valid means: shortest form, no UTF-16 surrogates (U+D800..U+DFFF), nothing
 * past U+10FFFF.  Stateless and thread-safe.
 */
#ifndef CAIRN_UTIL_UTF8_H
#define CAIRN_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (2..4) of the valid multi-byte sequence at s (s[0] >= 0x80),
 * reading at most n bytes, or 0 when it is not one; *cp gets the code point. */
size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* What utf8_check_name found first. */
enum { UTF8_OK = 0, UTF8_NOT_UTF8 = 1, UTF8_CONTROL = 2 };

/* UTF8_OK when the n bytes are valid UTF-8 with no C0/C1 control character
 * and no DEL; otherwise what is wrong, and *bad_at the offset of the first
 * offending byte. */
int utf8_check_name(const char *s, size_t n, size_t *bad_at);

/* True when the n bytes are valid UTF-8 (controls allowed); otherwise
 * false, and *bad_at the offset of the first byte that is not. */
bool utf8_valid(const char *s, size_t n, size_t *bad_at);

#endif
