/*
 * lib/value.c — typed values and key validation, shared by params, metrics,
 * tags, properties and artifact names.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/internal.h"

void cairn_value_parse(cairn_value *out, const char *text)
{
	memset(out, 0, sizeof *out);
	out->s = text;
	out->type = CAIRN_TYPE_STRING;
	if (!text || !*text)
		return;
	if (strcasecmp(text, "true") == 0 || strcasecmp(text, "false") == 0) {
		out->type = CAIRN_TYPE_BOOL;
		out->i = (text[0] == 't' || text[0] == 'T');
		return;
	}
	/* Leading zeros ("007", "-01") mark identifiers, not numbers; so does a
	 * leading '+'. */
	const char *digits = text[0] == '-' ? text + 1 : text;
	if (text[0] == '+' || (digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9'))
		return;
	char *end;
	errno = 0;
	long long ll = strtoll(text, &end, 10);
	if (*end == '\0' && errno == 0) {
		out->type = CAIRN_TYPE_INT;
		out->i = ll;
		return;
	}
	errno = 0;
	double d = strtod(text, &end);
	/* Plain decimal / scientific notation only: no hex floats, inf or nan
	 * words (those stay strings: "nan" is more likely a name than a number). */
	if (*end == '\0' && errno == 0 && strpbrk(text, "xXiInN") == NULL) {
		out->type = CAIRN_TYPE_FLOAT;
		out->f = d;
	}
}

int cairn_key_validate(const char *key, const char *what)
{
	if (!what)
		what = "key";
	if (!key || !*key)
		return err_set(CAIRN_EINVALID, "empty %s", what);
	size_t n = strlen(key);
	if (n > KEY_MAX)
		return err_set(CAIRN_EINVALID, "%s too long (%zu bytes, at most %d)", what, n,
		               KEY_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c < 0x20 || c == 0x7f)
			return err_set(CAIRN_EINVALID,
			               "%s contains a control character at byte %zu", what, i);
	}
	if (key[0] == ' ' || key[n - 1] == ' ')
		return err_set(CAIRN_EINVALID, "%s '%s' has leading or trailing spaces", what, key);
	if (key[0] == '/' || strstr(key, "//"))
		return err_set(CAIRN_EINVALID, "%s '%s' is not a relative name", what, key);
	/* no "." or ".." components (path tricks in names used as paths) */
	const char *p = key;
	while (*p) {
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t l = (size_t)(p - s);
		if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return err_set(CAIRN_EINVALID, "%s '%s' contains a '%.*s' component", what,
			               key, (int)l, s);
		if (*p)
			p++;
	}
	if (key[n - 1] == '/')
		return err_set(CAIRN_EINVALID, "%s '%s' ends with '/'", what, key);
	return 0;
}
