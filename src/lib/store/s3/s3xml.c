/*
 * lib/store/s3/s3xml.c — a strict, bounded reader of the S3 service's small
 * XML answers, and of its ETag header (see s3xml.h).
 *
 * One pass over the bytes with an explicit stack of the open elements'
 * names (pointers into the document, S3_XML_DEPTH deep).  While the open
 * elements are the first segments of the path, `matched` counts them; when
 * all of the path is open, the text directly inside that element is decoded
 * into out, and the first such element is the answer.  The pass always
 * reaches the end, so a document is accepted only when all of it is
 * well-formed.
 */
#include "lib/store/s3/s3xml.h"

#include <string.h>
#include <strings.h>

typedef struct name {
	const char *p;
	size_t n;
} name;

static bool name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
}

static bool space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Control characters other than whitespace are never in these answers. */
static bool bad_byte(unsigned char c)
{
	return (c < 0x20 && !space(c)) || c == 0x7f;
}

static size_t skip_space(const char *d, size_t len, size_t i)
{
	while (i < len && space((unsigned char)d[i]))
		i++;
	return i;
}

/* A name at d[i]: its length (1..64), or 0. */
static size_t name_len(const char *d, size_t len, size_t i)
{
	size_t k = i;
	if (k >= len || !name_start((unsigned char)d[k]))
		return 0;
	while (k < len && name_char((unsigned char)d[k]) && k - i <= 64)
		k++;
	return k - i > 64 ? 0 : k - i;
}

/* A reference at d[i] == '&': its length, with its character in *ch (only
 * ASCII ones are kept: a larger code point is '?', which no value the
 * client uses holds); 0 when it is not one. */
static size_t entity(const char *d, size_t len, size_t i, unsigned *ch)
{
	static const struct {
		const char *s;
		char c;
	} named[] = {
	    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
		size_t n = strlen(named[k].s);
		if (len - i >= n && memcmp(d + i, named[k].s, n) == 0) {
			*ch = (unsigned char)named[k].c;
			return n;
		}
	}
	if (len - i < 4 || d[i + 1] != '#')
		return 0;
	size_t k = i + 2;
	bool hex = d[k] == 'x';
	if (hex)
		k++;
	unsigned long v = 0;
	size_t digits = 0;
	for (; k < len && d[k] != ';'; k++, digits++) {
		int c = (unsigned char)d[k], dv;
		if (c >= '0' && c <= '9')
			dv = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			dv = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			dv = c - 'A' + 10;
		else
			return 0;
		if (digits >= 7)
			return 0;
		v = v * (hex ? 16 : 10) + (unsigned long)dv;
	}
	if (k >= len || digits == 0 || v == 0 || v > 0x10FFFF)
		return 0;
	*ch = v < 0x80 ? (unsigned)v : '?';
	return k + 1 - i;
}

/* An attribute value's or text's bytes d[i..end) are well-formed: no '<',
 * references only as above, no control bytes. */
static bool chars_ok(const char *d, size_t i, size_t end)
{
	for (size_t k = i; k < end; k++) {
		unsigned char c = (unsigned char)d[k];
		unsigned ch;
		if (c == '<' || bad_byte(c))
			return false;
		if (c == '&') {
			size_t n = entity(d, end, k, &ch);
			if (!n)
				return false;
			k += n - 1;
		}
	}
	return true;
}

/* Parse the rest of a start tag after its name, from d[i]: the index after
 * '>' and *empty for "/>", or 0. */
static size_t tag_rest(const char *d, size_t len, size_t i, bool *empty)
{
	for (;;) {
		size_t j = skip_space(d, len, i);
		if (j >= len)
			return 0;
		if (d[j] == '>') {
			*empty = false;
			return j + 1;
		}
		if (d[j] == '/') {
			if (j + 1 >= len || d[j + 1] != '>')
				return 0;
			*empty = true;
			return j + 2;
		}
		if (j == i) /* an attribute needs space before it */
			return 0;
		size_t n = name_len(d, len, j);
		if (!n)
			return 0;
		j = skip_space(d, len, j + n);
		if (j >= len || d[j] != '=')
			return 0;
		j = skip_space(d, len, j + 1);
		if (j >= len || (d[j] != '"' && d[j] != '\''))
			return 0;
		const char *q = memchr(d + j + 1, d[j], len - j - 1);
		if (!q || !chars_ok(d, j + 1, (size_t)(q - d)))
			return 0;
		i = (size_t)(q - d) + 1;
	}
}

/* The path's segment k (0-based), or false when it has fewer. */
static bool segment(const char *path, int k, name *out)
{
	const char *p = path;
	for (int i = 0; i < k; i++) {
		p = strchr(p, '/');
		if (!p)
			return false;
		p++;
	}
	out->p = p;
	out->n = strcspn(p, "/");
	return out->n > 0;
}

static int segments(const char *path)
{
	int n = 1;
	for (const char *p = path; *p; p++)
		n += *p == '/';
	return n;
}

int s3_xml_text(const char *d, size_t len, const char *path, char *out, size_t outn)
{
	if ((out && outn == 0) || !path || !*path)
		return -1;
	if (out)
		out[0] = '\0';
	int want = segments(path);
	if (want > S3_XML_DEPTH)
		return -1;
	name stack[S3_XML_DEPTH];
	int depth = 0, matched = 0, found = 0;
	bool capturing = false, root_seen = false;
	size_t olen = 0;
	size_t i = skip_space(d, len, 0);
	if (len - i >= 5 && memcmp(d + i, "<?xml", 5) == 0 && len - i > 5 &&
	    space((unsigned char)d[i + 5])) {
		size_t k = i + 5;
		while (k + 1 < len && !(d[k] == '?' && d[k + 1] == '>')) {
			if (bad_byte((unsigned char)d[k]) || d[k] == '<' || d[k] == '>')
				return -1;
			k++;
		}
		if (k + 1 >= len)
			return -1;
		i = k + 2;
	}
	for (;;) {
		if (depth == 0) {
			i = skip_space(d, len, i);
			if (i >= len)
				return root_seen ? found : -1;
			if (root_seen || d[i] != '<')
				return -1;
		}
		if (i >= len)
			return -1; /* an element still open */
		if (d[i] != '<') {
			/* text up to the next '<' */
			const char *lt = memchr(d + i, '<', len - i);
			size_t end = lt ? (size_t)(lt - d) : len;
			if (!chars_ok(d, i, end))
				return -1;
			for (size_t k = i; out && capturing && depth == want && k < end; k++) {
				unsigned ch = (unsigned char)d[k];
				if (d[k] == '&')
					k += entity(d, end, k, &ch) - 1;
				if (space((unsigned char)ch))
					ch = ' ';
				if (ch < 0x20 || olen + 1 >= outn)
					return -1;
				out[olen++] = (char)ch;
				out[olen] = '\0';
			}
			i = end;
			continue;
		}
		if (i + 1 < len && d[i + 1] == '/') {
			/* an end tag: the innermost open element's */
			size_t n = name_len(d, len, i + 2);
			if (!n || depth == 0 || n != stack[depth - 1].n ||
			    memcmp(d + i + 2, stack[depth - 1].p, n) != 0)
				return -1;
			size_t j = skip_space(d, len, i + 2 + n);
			if (j >= len || d[j] != '>')
				return -1;
			depth--;
			if (capturing && depth == want - 1) {
				capturing = false;
				found = 1;
			}
			if (matched > depth)
				matched = depth;
			i = j + 1;
			continue;
		}
		/* a start tag */
		size_t n = name_len(d, len, i + 1);
		bool empty = false;
		size_t j = n ? tag_rest(d, len, i + 1 + n, &empty) : 0;
		if (!j || depth >= S3_XML_DEPTH)
			return -1;
		root_seen = true;
		name seg;
		bool match = !found && matched == depth && segment(path, depth, &seg) &&
		             seg.n == n && memcmp(seg.p, d + i + 1, n) == 0;
		if (empty) {
			if (match && depth + 1 == want)
				found = 1; /* <X/>: found, empty */
		} else {
			stack[depth].p = d + i + 1;
			stack[depth].n = n;
			depth++;
			if (match) {
				matched = depth;
				if (depth == want) {
					capturing = true;
					olen = 0;
				}
			}
		}
		i = j;
	}
}

bool s3_token_ok(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= max || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		                  (c >= '0' && c <= '9') || strchr("._~-", c)))
			return false;
	}
	return n > 0;
}

int s3_header_etag(const char *line, size_t len, char *out, size_t outn)
{
	if (len < 5 || strncasecmp(line, "etag:", 5) != 0)
		return 0;
	size_t i = 5, end = len;
	while (i < end && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (end > i && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' ' ||
	                   line[end - 1] == '\t'))
		end--;
	size_t a = i, b = end;
	if (b - a >= 2 && line[a] == '"' && line[b - 1] == '"') {
		a++;
		b--;
	}
	if (b <= a || b - a > 128 || end - i + 1 > outn)
		return -1;
	for (size_t k = a; k < b; k++) {
		char c = line[k];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("._~-", c)) ||
		    c == '\0')
			return -1;
	}
	memcpy(out, line + i, end - i);
	out[end - i] = '\0';
	return 1;
}
