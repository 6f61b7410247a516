/*
 * lib/query/glob.c — glob and LIKE matching (glob.h), after SQLite's
 * patternCompare: a loop over the pattern that recurses only at a wildcard
 * followed by more pattern, trying each place the next literal character
 * occurs.  A failed match after a wildcard answers "no match anywhere", so
 * an outer wildcard does not retry (no exponential backtracking).
 *
 * Sets: [abc], ranges [a-z], negation [^…]; a ] first in the set is
 * literal, a - first or last is literal; an unterminated set matches
 * nothing.  Characters are read as UTF-8 the way SQLite reads them
 * (malformed sequences become U+FFFD).
 */
#include "lib/query/glob.h"

#include <stdint.h>
#include <string.h>

enum { MATCH, NOMATCH, NOWILDCARDMATCH };

/* One character, read as SQLite's UTF-8 reader does. */
static uint32_t utf8_read(const unsigned char **pz)
{
	uint32_t c = *((*pz)++);
	if (c >= 0xc0) {
		uint32_t k = c - 0xc0;
		c = k < 32   ? k
		    : k < 48 ? k - 32
		    : k < 56 ? k - 48
		    : k < 60 ? k - 56
		    : k < 62 ? k - 60
		             : 0;
		while ((**pz & 0xc0) == 0x80)
			c = (c << 6) + (0x3f & *((*pz)++));
		if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 || (c & 0xFFFFFFFE) == 0xFFFE)
			c = 0xFFFD;
	}
	return c;
}

static uint32_t lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static uint32_t upper(uint32_t c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

typedef struct pinfo {
	uint32_t all, one, set; /* * ? [  or  % _ (none) */
	bool fold;
} pinfo;

static int compare(const unsigned char *pat, const unsigned char *str, const pinfo *pi)
{
	uint32_t c, c2;
	while ((c = utf8_read(&pat)) != 0) {
		if (c == pi->all) {
			/* skip further wildcards, each `one` taking a character */
			while ((c = utf8_read(&pat)) == pi->all || c == pi->one)
				if (c == pi->one && utf8_read(&str) == 0)
					return NOWILDCARDMATCH;
			if (c == 0)
				return MATCH;
			if (pi->set && c == pi->set) {
				/* a set right after the wildcard: try every position */
				while (*str) {
					int m = compare(pat - 1, str, pi);
					if (m != NOMATCH)
						return m;
					utf8_read(&str);
				}
				return NOWILDCARDMATCH;
			}
			/* find the next literal character, then match the rest there */
			if (c < 0x80) {
				char stop[3] = {(char)c, 0, 0};
				if (pi->fold) {
					stop[0] = (char)upper(c);
					stop[1] = (char)lower(c);
				}
				for (;;) {
					str += strcspn((const char *)str, stop);
					if (!*str)
						break;
					str++;
					int m = compare(pat, str, pi);
					if (m != NOMATCH)
						return m;
				}
			} else {
				while ((c2 = utf8_read(&str)) != 0) {
					if (c2 != c)
						continue;
					int m = compare(pat, str, pi);
					if (m != NOMATCH)
						return m;
				}
			}
			return NOWILDCARDMATCH;
		}
		if (pi->set && c == pi->set) {
			uint32_t prior = 0;
			bool seen = false, invert = false;
			c = utf8_read(&str);
			if (c == 0)
				return NOMATCH;
			c2 = utf8_read(&pat);
			if (c2 == '^') {
				invert = true;
				c2 = utf8_read(&pat);
			}
			if (c2 == ']') {
				if (c == ']')
					seen = true;
				c2 = utf8_read(&pat);
			}
			while (c2 && c2 != ']') {
				if (c2 == '-' && pat[0] != ']' && pat[0] != 0 && prior > 0) {
					c2 = utf8_read(&pat);
					if (c >= prior && c <= c2)
						seen = true;
					prior = 0;
				} else {
					if (c == c2)
						seen = true;
					prior = c2;
				}
				c2 = utf8_read(&pat);
			}
			if (c2 == 0 || seen == invert)
				return NOMATCH;
			continue;
		}
		c2 = utf8_read(&str);
		if (c == c2)
			continue;
		if (pi->fold && lower(c) == lower(c2) && c < 0x80 && c2 < 0x80)
			continue;
		if (c == pi->one && c2 != 0)
			continue;
		return NOMATCH;
	}
	return *str == 0 ? MATCH : NOMATCH;
}

bool glob_match(const char *pattern, const char *text)
{
	static const pinfo glob = {'*', '?', '[', false};
	return compare((const unsigned char *)pattern, (const unsigned char *)text, &glob) == MATCH;
}

bool like_match(const char *pattern, const char *text, bool fold_case)
{
	pinfo like = {'%', '_', 0, fold_case};
	return compare((const unsigned char *)pattern, (const unsigned char *)text, &like) == MATCH;
}
