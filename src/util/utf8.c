/*
 * util/utf8.c — UTF-8 validation.  The decoder checks each continuation byte
 * and the ranges that make a sequence non-shortest (overlong), a surrogate or
 * past U+10FFFF, following the table in RFC 3629 section 4.
 */
#include "util/utf8.h"

size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, v = c & 0x1Fu, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, v = c & 0x0Fu, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, v = c & 0x07u, min = 0x10000;
	else
		return 0; /* a continuation byte, an overlong lead (C0, C1) or F5..FF */
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	if (cp)
		*cp = v;
	return len;
}

int utf8_check_name(const char *s, size_t n, size_t *bad_at)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (u[i] < 0x80) {
			if (u[i] < 0x20 || u[i] == 0x7F) {
				*bad_at = i;
				return UTF8_CONTROL;
			}
			i++;
			continue;
		}
		uint32_t cp;
		size_t len = utf8_seq(u + i, n - i, &cp);
		if (!len) {
			*bad_at = i;
			return UTF8_NOT_UTF8;
		}
		if (cp >= 0x80 && cp <= 0x9F) { /* C1 controls: U+0085 breaks lines */
			*bad_at = i;
			return UTF8_CONTROL;
		}
		i += len;
	}
	return UTF8_OK;
}

bool utf8_valid(const char *s, size_t n, size_t *bad_at)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t len = utf8_seq(u + i, n - i, NULL);
		if (!len) {
			*bad_at = i;
			return false;
		}
		i += len;
	}
	return true;
}
