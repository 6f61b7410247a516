/*
 * lib/value.c — typed values and key validation, shared by params, metrics,
 * tags, properties and artifact names.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/internal.h"
#include "util/utf8.h"

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
	/* Names are shown in tables, written into JSON and matched by queries:
	 * they must be text, so no byte that is not UTF-8 and no C0/C1 control
	 * (U+0085 splits lines for many readers). */
	size_t at;
	int bad = utf8_check_name(key, n, &at);
	if (bad) {
		if (bad == UTF8_CONTROL)
			return err_set(CAIRN_EINVALID,
			               "%s contains a control character at byte %zu", what, at);
		return err_set(CAIRN_EINVALID, "%s is not valid UTF-8 (byte 0x%02x at offset %zu)",
		               what, (unsigned char)key[at], at);
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

int cairn_tag_validate(const char *tag)
{
	int rc = cairn_key_validate(tag, "tag");
	if (rc)
		return rc;
	/* listings join a run's tags with ',' (ls, CSV, the web UI's chips split
	 * on spaces): a tag holding either would read as several */
	const char *bad = strpbrk(tag, ", ");
	if (bad)
		return err_set(CAIRN_EINVALID,
		               "tag '%s' contains %s at byte %zu (a tag is one word: use '-', '_' "
		               "or key=value, e.g. 'lr-sweep')",
		               tag, *bad == ',' ? "a comma" : "a space", (size_t)(bad - tag));
	return 0;
}

int cairn_metric_value_parse(const char *text, double *out)
{
	if (!text || !out)
		return err_set(CAIRN_EINVALID, "no metric value");
	const char *w = text[0] == '+' || text[0] == '-' ? text + 1 : text;
	if (strcasecmp(w, "nan") == 0) {
		*out = NAN;
		return 0;
	}
	if (strcasecmp(w, "inf") == 0 || strcasecmp(w, "infinity") == 0) {
		*out = text[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	/* strtod's own words and hex floats were handled or are refused here */
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (end == text || *end || strpbrk(text, "xXiInNpP") || isspace((unsigned char)text[0]))
		return err_set(CAIRN_EINVALID, "'%.64s' is not a number", text);
	/* ERANGE is both overflow (HUGE_VAL) and underflow; a subnormal or a
	 * value that rounds to zero is still the number written */
	if (errno == ERANGE && isinf(v))
		return err_set(CAIRN_EINVALID, "'%.64s' is past the range of a double", text);
	*out = v;
	return 0;
}
