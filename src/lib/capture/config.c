/*
 * lib/capture/config.c — the stored copy of a config file (the artifact
 * `config/<path>` of kind "config"), with every credential inside a URL
 * masked by the same rule as the command line and the params
 * (mask_credentials_buf), so that a `postgres://bob:PW@db/x` in a config
 * reaches neither the params nor the object store.
 *
 * Masking the file as plain text is not enough: escapes can spell a URL that
 * a text scan does not see but the parser (and so the params) does — JSON's
 * "postgres:\/\/bob:PW@db" (PHP writes slashes so), "\u0040", YAML's
 * "\x2F" or an escaped line break.  So a file is masked in three steps:
 *
 *   1. every double-quoted string (YAML) or string literal (JSON) written
 *      with a backslash, whose value the masker would change, is rewritten
 *      in place as a JSON-escaped double-quoted string holding the masked
 *      value (valid in both syntaxes).  libyaml's marks find YAML scalars
 *      (they count characters, not bytes, and skip a UTF-8 BOM); a scan of
 *      string literals finds JSON ones;
 *   2. the whole text goes through the masker: strings written plainly,
 *      comments, and files that do not parse;
 *   3. a file that parsed is parsed again and every string (keys too)
 *      checked: one that the masker would still change means a credential
 *      survived, and the copy is refused (CAIRN_EINVALID) rather than stored
 *      with it.  A file that does not parse cannot be checked; it is stored
 *      masked by steps 1 (JSON) and 2.
 *
 * Everything else is kept byte for byte: comments, order, layout.  A file
 * with no "://", no backslash and no NUL byte can hold no URL in any
 * spelling (UTF-16 text has NULs) and is stored as it is, unparsed — the
 * common case costs three scans.  Input is bounded by CONFIG_MAX, like the
 * flattener; the checks walk libyaml's node list, never expanding aliases.
 * Stateless and thread-safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/capture/capture.h"
#include "util/fs.h"
#include "util/json.h"

typedef struct edit {
	size_t from, to; /* bytes of the original text */
	buf text;        /* what replaces them */
} edit;

typedef struct edits {
	edit *v;
	size_t n, cap;
	bool oom;
} edits;

static void edits_free(edits *e)
{
	for (size_t i = 0; i < e->n; i++)
		buf_free(&e->v[i].text);
	free(e->v);
}

/* Record: bytes [from, to) become the masked value as a quoted string. */
static void edit_add(edits *e, size_t from, size_t to, const char *value, size_t n)
{
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 8;
		edit *nv = realloc(e->v, nc * sizeof *nv);
		if (!nv) {
			e->oom = true;
			return;
		}
		e->v = nv;
		e->cap = nc;
	}
	edit *x = &e->v[e->n++];
	x->from = from;
	x->to = to;
	buf_init(&x->text);
	buf m = BUF_INIT;
	mask_credentials_buf(&m, value, n);
	json_strn(&x->text, m.ptr, m.len);
	if (!buf_ok(&m) || !buf_ok(&x->text))
		e->oom = true;
	buf_free(&m);
}

static int edit_cmp(const void *a, const void *b)
{
	const edit *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* --- YAML ----------------------------------------------------------------------------- */

/* libyaml's marks count characters; the walk turns them into byte offsets,
 * moving forward (marks come in document order), starting over if asked
 * for an earlier one. */
typedef struct char_walk {
	const char *text;
	size_t len, base; /* base: bytes of a UTF-8 BOM, which marks do not count */
	size_t byte, chr;
} char_walk;

static size_t char_offset(char_walk *w, size_t index)
{
	if (index < w->chr) {
		w->byte = w->base;
		w->chr = 0;
	}
	while (w->chr < index && w->byte < w->len) {
		w->byte++;
		while (w->byte < w->len && ((unsigned char)w->text[w->byte] & 0xC0) == 0x80)
			w->byte++;
		w->chr++;
	}
	return w->byte;
}

/* Calls fn on every scalar of every document; false when the text does not
 * parse. */
typedef void (*scalar_fn)(void *ctx, const yaml_node_t *n);

static bool yaml_each_scalar(const char *data, size_t len, scalar_fn fn, void *ctx)
{
	yaml_parser_t p;
	bool ok = true;
	if (!yaml_parser_initialize(&p))
		return false;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	for (;;) {
		yaml_document_t doc;
		if (!yaml_parser_load(&p, &doc)) {
			ok = false;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) { /* the end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		for (yaml_node_t *n = doc.nodes.start; n < doc.nodes.top; n++)
			if (n->type == YAML_SCALAR_NODE)
				fn(ctx, n);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
	return ok;
}

typedef struct yaml_scan {
	edits *ed;
	char_walk w;
	bool utf8;   /* marks can be mapped to bytes */
	bool unsafe; /* a string the masker would still change */
} yaml_scan;

static void yaml_escaped_scalar(void *ctx, const yaml_node_t *n)
{
	yaml_scan *s = ctx;
	const char *v = (const char *)n->data.scalar.value;
	size_t vn = n->data.scalar.length;
	if (!s->utf8 || n->data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
	    !mask_would_change(v, vn))
		return;
	size_t from = char_offset(&s->w, n->start_mark.index);
	size_t to = char_offset(&s->w, n->end_mark.index);
	/* written without escapes: step 2 masks it where it stands */
	if (to > from && memchr(s->w.text + from, '\\', to - from))
		edit_add(s->ed, from, to, v, vn);
}

static void yaml_check_scalar(void *ctx, const yaml_node_t *n)
{
	yaml_scan *s = ctx;
	if (mask_would_change((const char *)n->data.scalar.value, n->data.scalar.length))
		s->unsafe = true;
}

/* --- JSON ----------------------------------------------------------------------------- */

/* String literals written with a backslash whose value holds a credential.
 * A scan, not a parse, so it also works on a file that does not parse. */
static void json_escaped_literals(edits *ed, const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i] != '"')
			continue;
		size_t from = i;
		bool esc = false;
		for (i++; i < n && d[i] != '"'; i++)
			if (d[i] == '\\') {
				esc = true;
				i++;
			}
		if (i >= n)
			return; /* unterminated */
		if (!esc)
			continue;
		char err[64];
		json_doc *doc = json_parse(d + from, i + 1 - from, NULL, err, sizeof err);
		const json *v = doc ? json_root(doc) : NULL;
		if (v && v->type == JSON_STR && mask_would_change(v->str, v->len))
			edit_add(ed, from, i + 1, v->str, v->len);
		json_doc_free(doc);
	}
}

static bool json_unsafe(const json *n, int depth)
{
	if (depth > CONFIG_DEPTH_MAX)
		return true;
	if (n->key && mask_would_change(n->key, strlen(n->key)))
		return true;
	if (n->type == JSON_STR)
		return mask_would_change(n->str, n->len);
	for (const json *c = n->child; c; c = c->next)
		if (json_unsafe(c, depth + 1))
			return true;
	return false;
}

/* --- the copy --------------------------------------------------------------------------- */

int config_snapshot_text(buf *out, const char *data, size_t len, config_syntax syntax,
                         const char *name)
{
	if (!name)
		name = "config";
	if (len > CONFIG_MAX)
		return err_set(CAIRN_ETOOBIG, "config '%s' is larger than %zu bytes", name,
		               CONFIG_MAX);
	if (!memmem(data, len, "://", 3) && !memchr(data, '\\', len) && !memchr(data, '\0', len)) {
		buf_add(out, data, len);
		return buf_ok(out) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	}

	/* 1. strings written with escapes */
	edits ed = {0};
	bool parsed = false;
	if (syntax == CONFIG_YAML) {
		bool bom = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0;
		bool utf16 =
		    len >= 2 && ((unsigned char)data[0] == 0xFE || (unsigned char)data[0] == 0xFF);
		yaml_scan s = {&ed, {data, len, bom ? 3 : 0, bom ? 3 : 0, 0}, !utf16, false};
		parsed = yaml_each_scalar(data, len, yaml_escaped_scalar, &s);
	} else if (syntax == CONFIG_JSON) {
		char err[160];
		json_limits lim = {CONFIG_DEPTH_MAX, CONFIG_MAX};
		json_doc *d = json_parse(data, len, &lim, err, sizeof err);
		parsed = d != NULL;
		json_doc_free(d);
		json_escaped_literals(&ed, data, len);
	}
	if (ed.oom) {
		edits_free(&ed);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	buf step1 = BUF_INIT;
	if (ed.n > 1)
		qsort(ed.v, ed.n, sizeof *ed.v, edit_cmp);
	size_t at = 0;
	for (size_t i = 0; i < ed.n; i++) {
		if (ed.v[i].from < at || ed.v[i].to > len)
			continue; /* overlapping: cannot be; the check below decides */
		buf_add(&step1, data + at, ed.v[i].from - at);
		buf_add(&step1, ed.v[i].text.ptr, ed.v[i].text.len);
		at = ed.v[i].to;
	}
	buf_add(&step1, data + at, len - at);
	edits_free(&ed);

	/* 2. the whole text */
	size_t start = out->len;
	mask_credentials_buf(out, step1.ptr, step1.len);
	buf_free(&step1);
	if (!buf_ok(out))
		return err_set(CAIRN_ENOMEM, "out of memory");

	/* 3. what parsed must parse again, with no credential left */
	if (!parsed)
		return 0;
	const char *m = out->ptr + start;
	size_t mn = out->len - start;
	bool unsafe;
	if (syntax == CONFIG_YAML) {
		yaml_scan s = {NULL, {m, mn, 0, 0, 0}, false, false};
		unsafe = !yaml_each_scalar(m, mn, yaml_check_scalar, &s) || s.unsafe;
	} else {
		char err[160];
		json_limits lim = {CONFIG_DEPTH_MAX, CONFIG_MAX};
		json_doc *d = json_parse(m, mn, &lim, err, sizeof err);
		unsafe = !d || json_unsafe(json_root(d), 0);
		json_doc_free(d);
	}
	if (unsafe) {
		buf_truncate(out, start);
		return err_set(CAIRN_EINVALID,
		               "config '%s' is not stored: a credential in a URL in it cannot be "
		               "masked in the file",
		               name);
	}
	return 0;
}

int cairn_run_log_config_snapshot(cairn_run *run, const char *path)
{
	buf data = BUF_INIT, masked = BUF_INIT;
	char *name = NULL;
	bool yaml = false;
	config_syntax syntax = CONFIG_OTHER;
	if (!run || !path)
		return err_set(CAIRN_EINVALID, "no run or no config path");
	if (config_kind(path, &yaml) == 0)
		syntax = yaml ? CONFIG_YAML : CONFIG_JSON;
	cairn_error_clear(); /* any other file is masked as text */
	int e = read_file(path, CONFIG_MAX, &data);
	int rc = 0;
	if (e == -EFBIG)
		rc = err_set(CAIRN_ETOOBIG, "config '%s' is not stored: larger than %zu bytes",
		             path, CONFIG_MAX);
	else if (e)
		rc = err_set(e == -ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		             "cannot read config '%s': %s", path, strerror(-e));
	if (rc)
		goto done;
	if ((rc = config_snapshot_text(&masked, data.ptr, data.len, syntax, path)) != 0)
		goto done;
	/* config/<path>, or config/<base name> when the path is absolute or
	 * climbs out */
	name = path_join("config", relpath_is_safe(path) ? path : path_base(path));
	if (!name) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	rc = cairn_run_log_artifact_buf(run, masked.ptr, masked.len, name, CAIRN_ARTIFACT_CONFIG);
done:
	free(name);
	buf_free(&data);
	buf_free(&masked);
	return rc;
}
