/*
 * tests/fuzz/fuzz-http-json.c — fuzz target for the HTTP API's request
 * parser: the bounded JSON parse of a body and every body decoder of the
 * native API (server/body.c, compiled in here), plus the writer that sends
 * parsed JSON back out, whose output must parse again; and json_valid, the
 * check-only mode of the same parser, which must accept exactly what
 * json_parse accepts; and the fast decoder of a metrics batch
 * (server/ingest.c), which must accept only what body_metrics accepts, with
 * the same points bit for bit.
 *
 * Corpus: tests/fuzz/corpus/http-json/ (replayed by `make test`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/body.c"
#include "server/ingest.c"
#include "util/utf8.h"

static bool same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b);
}

/* The fast decoder against the general path, on the same bytes. */
static void check_fast(const char *data, size_t size)
{
	char err[512];
	ingest_batch fast;
	if (!ingest_decode(&fast, data, size, 1 << 20))
		return;
	json_doc *d = body_parse(data, size, 1 << 20, err, sizeof err);
	metric_in *m = NULL;
	size_t n = 0;
	if (!d || body_metrics(json_root(d), &m, &n, err, sizeof err) != 0)
		abort(); /* accepted what the general path refuses */
	if (n != fast.n)
		abort();
	for (size_t i = 0; i < n; i++) {
		const metric_in *f = &fast.pts[i], *g = &m[i];
		if (strcmp(f->key, g->key) != 0 || !same_double(f->value, g->value) ||
		    f->step != g->step || !same_double(f->timestamp, g->timestamp))
			abort(); /* a point read differently */
	}
	free(m);
	json_doc_free(d);
	ingest_batch_free(&fast);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	check_fast((const char *)data, size);
	json_doc *full = json_parse((const char *)data, size, NULL, NULL, 0);
	json_type vt;
	if (json_valid((const char *)data, size, NULL, &vt) != (full != NULL))
		abort(); /* the check-only parse and the full one disagree */
	if (full && vt != json_root(full)->type)
		abort();
	json_doc_free(full);
	json_doc *d = body_parse((const char *)data, size, 1 << 20, err, sizeof err);
	if (!d)
		return 0;
	const json *root = json_root(d);

	metric_in *m = NULL;
	size_t n = 0;
	if (body_metrics(root, &m, &n, err, sizeof err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!m[i].key || (m[i].step != CAIRN_STEP_AUTO && m[i].step < 0))
				abort();
		free(m);
	}
	param_in *p = NULL;
	if (body_params(root, "params", &p, &n, err, sizeof err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (cairn_key_validate(p[i].key, "param key") != 0)
				abort(); /* the decoder let a bad key through */
		/* The sorted duplicate check agrees with the pairwise one. */
		bool twice = false;
		for (size_t i = 0; i < n && n <= 256 && !twice; i++)
			for (size_t j = i + 1; j < n && !twice; j++)
				twice = strcmp(p[i].key, p[j].key) == 0;
		long dup = body_params_dup(p, n);
		if (n <= 256 && (dup >= 0) != twice)
			abort();
		if (dup >= (long)n)
			abort();
		body_free_params(p, n);
	}
	const json *obj;
	body_properties(root, &obj, err, sizeof err);
	const char **tags = NULL;
	if (body_tags(root, &tags, &n, err, sizeof err) == 0)
		free(tags);
	const char *note;
	body_note(root, &note, err, sizeof err);
	finish_in fin;
	body_finish(root, &fin, err, sizeof err);
	create_in c;
	if (body_create(root, &c, err, sizeof err) == 0)
		body_free_create(&c);

	/* What the server writes back from a parsed document is valid UTF-8
	 * whatever bytes came in, parses again, and writes the same text again
	 * (so every string read back is the bytes that were written). */
	buf b = BUF_INIT;
	json_write_node(&b, root);
	if (buf_ok(&b)) {
		for (size_t i = 0; i < b.len;) {
			unsigned char ch = (unsigned char)b.ptr[i];
			size_t l =
			    ch < 0x80 ? 1
			              : utf8_seq((const unsigned char *)b.ptr + i, b.len - i, NULL);
			if (!l)
				abort(); /* JSON output that is not UTF-8 */
			i += l;
		}
		json_doc *again = json_parse(b.ptr, b.len, NULL, err, sizeof err);
		if (!again)
			abort();
		buf b2 = BUF_INIT;
		json_write_node(&b2, json_root(again));
		if (buf_ok(&b2) && (b2.len != b.len || memcmp(b2.ptr, b.ptr, b.len) != 0))
			abort(); /* the round trip lost or changed bytes */
		buf_free(&b2);
		json_doc_free(again);
	}
	buf_free(&b);
	json_doc_free(d);
	return 0;
}
