/*
 * lib/data/manifest.c — manifests: the sorted list of a data version's
 * entries, its canonical text, and a bounded parser of that text.
 *
 * The canonical text (docs/internals/data.md) is
 *
 *   cairn-manifest 1 <algo> <dir|file>\n
 *   f\t<hex digest>\t<size>\t<path>\n               a regular file
 *   l\t<hex digest>\t<size>\t<path>\t<target>\n     a symbolic link
 *
 * with entries sorted bytewise by raw path, paths relative to the root with
 * `/` separators, and \\ \t \n \r and other control bytes escaped so a line is
 * always one entry.  A link's digest and size are those of its target text.
 * A directory's version digest is the digest of this text, so two trees
 * with equal digests list equal files with equal contents.
 *
 * The parser is given stored objects (possibly damaged): it bounds line
 * length, checks every field, and insists on strictly increasing paths, so a
 * parsed manifest is as canonical as a freshly built one.
 * Not thread-safe per manifest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/data/data.h"

manifest *manifest_new(data_algo a)
{
	manifest *m = calloc(1, sizeof *m);
	if (!m) {
		err_set(CAIRN_ENOMEM, "out of memory");
		return NULL;
	}
	m->algo = a;
	return m;
}

void manifest_free(manifest *m)
{
	if (!m)
		return;
	arena_free(&m->mem);
	free(m->e);
	free(m);
}

static int grow(manifest *m, size_t need)
{
	if (need <= m->cap)
		return 0;
	size_t ncap = m->cap ? m->cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	mentry *ne = realloc(m->e, ncap * sizeof *ne);
	if (!ne)
		return err_set(CAIRN_ENOMEM, "out of memory");
	m->e = ne;
	m->cap = ncap;
	return 0;
}

int manifest_add(manifest *m, const mentry *e)
{
	if (grow(m, m->n + 1) != 0)
		return CAIRN_ENOMEM;
	mentry *d = &m->e[m->n];
	*d = *e;
	d->path = arena_strndup(&m->mem, e->path, strlen(e->path));
	d->target = e->target ? arena_strndup(&m->mem, e->target, strlen(e->target)) : NULL;
	if (!d->path || (e->target && !d->target))
		return err_set(CAIRN_ENOMEM, "out of memory");
	m->n++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const mentry *)a)->path, ((const mentry *)b)->path);
}

void manifest_sort(manifest *m)
{
	if (m->n > 1)
		qsort(m->e, m->n, sizeof *m->e, cmp_entry);
}

/* --- escaping ---------------------------------------------------------------- */

static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}

void path_escape(buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0, i = 0;
	for (; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!needs_escape(c))
			continue;
		buf_add(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '\\': buf_add(out, "\\\\", 2); break;
		case '\t': buf_add(out, "\\t", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		case '\r': buf_add(out, "\\r", 2); break;
		default: {
			char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			buf_add(out, e, 4);
		}
		}
	}
	buf_add(out, s + run, i - run);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int path_unescape(buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '\\') {
			if (c < 0x20 || c == 0x7f)
				return -1; /* raw control bytes are always escaped */
			buf_putc(out, (char)c);
			continue;
		}
		if (++i >= n)
			return -1;
		switch (s[i]) {
		case '\\': buf_putc(out, '\\'); break;
		case 't': buf_putc(out, '\t'); break;
		case 'n': buf_putc(out, '\n'); break;
		case 'r': buf_putc(out, '\r'); break;
		case 'x': {
			if (i + 2 >= n)
				return -1;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			int v = h < 0 || l < 0 ? -1 : h * 16 + l;
			/* Only bytes that must be escaped may be: one text per path. */
			if (v <= 0 || !needs_escape((unsigned char)v) || v == '\\' || v == '\t' ||
			    v == '\n' || v == '\r')
				return -1;
			buf_putc(out, (char)v);
			i += 2;
			break;
		}
		default: return -1;
		}
	}
	return 0;
}

/* --- formatting ------------------------------------------------------------------ */

static size_t fmt_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

void manifest_format(const manifest *m, buf *out)
{
	buf_printf(out, "%s %s %s\n", MANIFEST_MAGIC, algo_name(m->algo),
	           m->is_file ? "file" : "dir");
	size_t hexlen = algo_hexlen(m->algo);
	for (size_t i = 0; i < m->n; i++) {
		const mentry *e = &m->e[i];
		char head[2 + DIGEST_HEX_MAX + 1 + 24 + 1];
		size_t k = 0;
		head[k++] = e->type;
		head[k++] = '\t';
		memcpy(head + k, e->digest, hexlen);
		k += hexlen;
		head[k++] = '\t';
		k += fmt_u64(head + k, (uint64_t)e->size);
		head[k++] = '\t';
		buf_add(out, head, k);
		path_escape(out, e->path);
		if (e->type == 'l') {
			buf_putc(out, '\t');
			path_escape(out, e->target ? e->target : "");
		}
		buf_putc(out, '\n');
	}
}

int manifest_finish(manifest *m)
{
	m->files = (int64_t)m->n;
	m->bytes = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].type == 'f')
			m->bytes += m->e[i].size;
	if (m->is_file) {
		if (m->n != 1)
			return err_set(CAIRN_ERROR, "internal: a file manifest with %zu entries",
			               m->n);
		memcpy(m->digest, m->e[0].digest, sizeof m->digest);
		return 0;
	}
	buf text = BUF_INIT;
	manifest_format(m, &text);
	if (!buf_ok(&text)) {
		buf_free(&text);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	digest_ctx c;
	int rc = digest_ctx_init(&c, m->algo);
	if (rc == 0) {
		digest_buf_hex(&c, text.ptr, text.len, m->digest);
		digest_ctx_free(&c);
	}
	buf_free(&text);
	return rc;
}

/* --- parsing ------------------------------------------------------------------------ */

typedef struct parser {
	manifest *m;
	size_t hexlen;
	int64_t lineno;
	buf path, target;
	char *prev; /* the previous entry's path (arena) */
} parser;

static int bad(const parser *p, const char *what)
{
	return err_set(CAIRN_EINVALID, "manifest line %lld: %s", (long long)p->lineno, what);
}

/* A path inside a tree: relative, no empty, "." or ".." components. */
static bool relpath_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == '/')
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		size_t len = i - start;
		if (len == 0 || (len == 1 && s[start] == '.') ||
		    (len == 2 && s[start] == '.' && s[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

static int parse_header(parser *p, const char *line, size_t len, data_algo *algo, bool *is_file)
{
	size_t ml = strlen(MANIFEST_MAGIC);
	if (len < ml + 1 || memcmp(line, MANIFEST_MAGIC, ml) != 0 || line[ml] != ' ')
		return bad(p, "not a cairn manifest (no 'cairn-manifest 1' header)");
	const char *rest = line + ml + 1;
	size_t rl = len - ml - 1;
	const char *sp = memchr(rest, ' ', rl);
	if (!sp)
		return bad(p, "header lacks the kind (dir or file)");
	size_t nl = (size_t)(sp - rest);
	if (nl == 0)
		return bad(p, "header names no digest algorithm");
	bool found = false;
	for (data_algo a = ALGO_XXH128; a <= ALGO_MD5 && !found; a++) {
		const char *name = algo_name(a);
		if (strlen(name) == nl && memcmp(rest, name, nl) == 0) {
			*algo = a;
			found = true;
		}
	}
	if (!found)
		return bad(p, "unknown digest algorithm");
	size_t kl = rl - nl - 1;
	if (kl == 3 && memcmp(sp + 1, "dir", 3) == 0)
		*is_file = false;
	else if (kl == 4 && memcmp(sp + 1, "file", 4) == 0)
		*is_file = true;
	else
		return bad(p, "header kind is neither dir nor file");
	return 0;
}

static int parse_entry(parser *p, const char *line, size_t len)
{
	manifest *m = p->m;
	mentry e;
	memset(&e, 0, sizeof e);
	if (len < 2 || (line[0] != 'f' && line[0] != 'l') || line[1] != '\t')
		return bad(p, "an entry starts with 'f' or 'l' and a tab");
	e.type = line[0];
	const char *s = line + 2, *end = line + len;
	const char *tab = memchr(s, '\t', (size_t)(end - s));
	if (!tab || (size_t)(tab - s) != p->hexlen)
		return bad(p, "digest of the wrong length");
	for (size_t i = 0; i < p->hexlen; i++)
		if (hexval(s[i]) < 0)
			return bad(p, "digest is not lowercase hex");
	memcpy(e.digest, s, p->hexlen);
	e.digest[p->hexlen] = '\0';
	s = tab + 1;
	tab = memchr(s, '\t', (size_t)(end - s));
	if (!tab || tab == s || tab - s > 19)
		return bad(p, "bad size");
	uint64_t size = 0;
	for (const char *q = s; q < tab; q++) {
		if (*q < '0' || *q > '9' || (q == s && *q == '0' && tab - s > 1))
			return bad(p, "bad size");
		size = size * 10 + (uint64_t)(*q - '0');
	}
	if (size > (uint64_t)INT64_MAX)
		return bad(p, "bad size");
	e.size = (int64_t)size;
	s = tab + 1;
	tab = memchr(s, '\t', (size_t)(end - s));
	const char *pend = tab ? tab : end;
	buf_clear(&p->path);
	if (path_unescape(&p->path, s, (size_t)(pend - s)) != 0)
		return bad(p, "bad escape in path");
	if (strlen(p->path.ptr) != p->path.len || !relpath_ok(p->path.ptr, p->path.len))
		return bad(p, "path is not a clean relative path");
	if (e.type == 'l') {
		if (!tab)
			return bad(p, "a link entry lacks its target");
		buf_clear(&p->target);
		if (path_unescape(&p->target, tab + 1, (size_t)(end - tab - 1)) != 0)
			return bad(p, "bad escape in link target");
		if (strlen(p->target.ptr) != p->target.len || p->target.len == 0)
			return bad(p, "bad link target");
		if ((int64_t)p->target.len != e.size)
			return bad(p, "link size differs from its target's length");
	} else if (tab) {
		return bad(p, "a file entry has an extra field");
	}
	if (!buf_ok(&p->path) || !buf_ok(&p->target))
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (p->prev && strcmp(p->prev, p->path.ptr) >= 0)
		return bad(p, "entries are not in strictly increasing path order");
	if (m->is_file && m->n >= 1)
		return bad(p, "a file manifest has more than one entry");
	if (m->is_file && e.type != 'f')
		return bad(p, "a file manifest's entry is not a file");
	e.path = p->path.ptr;
	e.target = e.type == 'l' ? p->target.ptr : NULL;
	int rc = manifest_add(m, &e);
	if (rc)
		return rc;
	p->prev = m->e[m->n - 1].path;
	return 0;
}

/* Feed one line (without its newline). */
static int parse_line(parser *p, const char *line, size_t len)
{
	p->lineno++;
	if (len > MANIFEST_LINE_MAX)
		return bad(p, "line too long");
	if (p->lineno == 1) {
		data_algo a = ALGO_XXH128;
		bool is_file = false;
		int rc = parse_header(p, line, len, &a, &is_file);
		if (rc)
			return rc;
		p->m = manifest_new(a);
		if (!p->m)
			return CAIRN_ENOMEM;
		p->m->is_file = is_file;
		p->hexlen = algo_hexlen(a);
		return 0;
	}
	return parse_entry(p, line, len);
}

static int parse_end(parser *p, manifest **out, bool whole)
{
	buf_free(&p->path);
	buf_free(&p->target);
	if (!p->m) {
		p->lineno = 1;
		return bad(p, "empty manifest");
	}
	if (whole && p->m->is_file && p->m->n != 1) {
		manifest_free(p->m);
		return err_set(CAIRN_EINVALID, "manifest: a file manifest needs exactly one entry");
	}
	*out = p->m;
	return 0;
}

static void parse_abort(parser *p)
{
	buf_free(&p->path);
	buf_free(&p->target);
	manifest_free(p->m);
	p->m = NULL;
}

int manifest_parse(manifest **out, const char *text, size_t len)
{
	parser p;
	memset(&p, 0, sizeof p);
	buf_init(&p.path);
	buf_init(&p.target);
	*out = NULL;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		if (!nl) {
			p.lineno++;
			int rc = bad(&p, "the last line has no newline");
			parse_abort(&p);
			return rc;
		}
		int rc = parse_line(&p, text + i, (size_t)(nl - (text + i)));
		if (rc) {
			parse_abort(&p);
			return rc;
		}
		i = (size_t)(nl - text) + 1;
	}
	int rc = parse_end(&p, out, true);
	if (rc == 0 && (rc = manifest_finish(*out)) != 0) {
		manifest_free(*out);
		*out = NULL;
	}
	return rc;
}

int manifest_read_prefix(manifest **out, bool *out_more, FILE *f, int64_t limit)
{
	parser p;
	memset(&p, 0, sizeof p);
	buf_init(&p.path);
	buf_init(&p.target);
	*out = NULL;
	*out_more = false;
	char *line = malloc(MANIFEST_LINE_MAX + 2);
	if (!line)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = 0;
	while (fgets(line, MANIFEST_LINE_MAX + 2, f)) {
		size_t len = strlen(line);
		if (len == 0 || line[len - 1] != '\n') {
			p.lineno++;
			rc = bad(&p, len > MANIFEST_LINE_MAX ? "line too long"
			                                     : "the last line has no newline");
			break;
		}
		if (p.m && limit > 0 && (int64_t)p.m->n >= limit) {
			*out_more = true;
			break;
		}
		if ((rc = parse_line(&p, line, len - 1)) != 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = err_set(CAIRN_EIO, "cannot read the manifest: %s", strerror(errno));
	free(line);
	if (rc) {
		parse_abort(&p);
		return rc;
	}
	return parse_end(&p, out, false);
}
