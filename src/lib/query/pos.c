/*
 * lib/query/pos.c — keyset positions: the place of one row in a sort order,
 * as an opaque text a caller hands back to ask for the rows after it
 * (cairn_query_options.after, docs/internals/query.md "Keyset pages").
 *
 * A position holds the row's value of every sort key (the default key,
 * start time descending, included) and its rid, the final tiebreak, so it
 * names one place in the total order of sort.c (keys, then newest rid
 * first) whether or not that row still exists.  The text is base64url
 * (no padding) of:
 *
 *   'K' 1                    magic and version
 *   u32 sort hash            FNV-1a of the keys' canonical names and directions
 *   u8  nkeys
 *   per key: u8 cls, then    V_NUM:  u8 type, u8 is_int, 8 bytes (int64 or
 *                                    the double's bits)
 *                            V_TEXT: u8 type, u32 length, the bytes
 *                            V_NAN:  u8 type;  V_MISSING: nothing
 *   i64 rid
 *   u32 checksum             FNV-1a of every byte before it
 *
 * integers big-endian.  Decoding is strict: a wrong length, magic, version,
 * class, checksum or sort hash (a position of another sort order) is
 * CAIRN_EINVALID with one message.  Doubles travel as their bits, so a value
 * compares equal to the row's after the round trip.  Stateless.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/query/plan.h"

#define POS_MAGIC 'K'
#define POS_VER   1

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint32_t fnv32(uint32_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t qpos_sort_hash(const store_key *keys, int nkeys)
{
	uint32_t h = 2166136261u;
	for (int k = 0; k < nkeys; k++) {
		char name[320];
		qfield_name(name, sizeof name, &keys[k].f);
		h = fnv32(h, name, strlen(name) + 1);
		h = fnv32(h, keys[k].desc ? "-" : "+", 1);
	}
	return h;
}

static void put_u(buf *b, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		buf_putc(b, (char)((v >> (8 * i)) & 0xff));
}

int qpos_encode(char **out, const qpos *p, uint32_t hash)
{
	buf raw = BUF_INIT, t = BUF_INIT;
	*out = NULL;
	buf_putc(&raw, POS_MAGIC);
	buf_putc(&raw, POS_VER);
	put_u(&raw, hash, 4);
	put_u(&raw, (uint64_t)p->nkeys, 1);
	for (int k = 0; k < p->nkeys; k++) {
		const sval *v = &p->v[k];
		put_u(&raw, v->cls, 1);
		if (v->cls == V_MISSING)
			continue;
		put_u(&raw, v->type, 1);
		if (v->cls == V_NUM) {
			put_u(&raw, v->is_int, 1);
			uint64_t bits;
			if (v->is_int) {
				bits = (uint64_t)v->i;
			} else {
				memcpy(&bits, &v->d, sizeof bits);
			}
			put_u(&raw, bits, 8);
		} else if (v->cls == V_TEXT) {
			size_t n = strlen(v->s);
			put_u(&raw, n, 4);
			buf_add(&raw, v->s, n);
		}
	}
	put_u(&raw, (uint64_t)p->rid, 8);
	put_u(&raw, fnv32(2166136261u, raw.ptr, raw.len), 4);
	if (!buf_ok(&raw)) {
		buf_free(&raw);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (raw.len > QPOS_MAX_RAW) {
		buf_free(&raw);
		return err_set(CAIRN_ETOOBIG, "the row's sort values are too long for a position");
	}
	const unsigned char *s = (const unsigned char *)raw.ptr;
	for (size_t i = 0; i < raw.len; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < raw.len)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < raw.len)
			v |= s[i + 2];
		buf_putc(&t, b64[(v >> 18) & 63]);
		buf_putc(&t, b64[(v >> 12) & 63]);
		if (i + 1 < raw.len)
			buf_putc(&t, b64[(v >> 6) & 63]);
		if (i + 2 < raw.len)
			buf_putc(&t, b64[v & 63]);
	}
	buf_free(&raw);
	if (!buf_ok(&t) || !(*out = buf_detach(&t))) {
		buf_free(&t);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

static int bad(const char *why)
{
	return err_set(CAIRN_EINVALID, "invalid position (after): %s", why);
}

typedef struct rd {
	const unsigned char *p;
	size_t n, at;
	bool short_;
} rd;

static uint64_t get_u(rd *r, int bytes)
{
	uint64_t v = 0;
	if (r->at + (size_t)bytes > r->n) {
		r->short_ = true;
		r->at = r->n;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v = (v << 8) | r->p[r->at++];
	return v;
}

int qpos_decode(qpos *out, const char *text, uint32_t hash, int nkeys, arena *mem)
{
	size_t tn = strlen(text);
	memset(out, 0, sizeof *out);
	if (tn == 0)
		return bad("empty");
	if (tn > QPOS_MAX_TEXT)
		return bad("too long");
	if (tn % 4 == 1)
		return bad("not a position (garbled)");
	unsigned char *raw = arena_alloc(mem, tn);
	if (!raw)
		return err_set(CAIRN_ENOMEM, "out of memory");
	size_t n = 0;
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < tn; i++) {
		const char *c = strchr(b64, text[i]);
		if (!c || !text[i])
			return bad("not a position (a character outside base64url)");
		v = (v << 6) | (unsigned)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (unsigned char)((v >> bits) & 0xff);
		}
	}
	if (n < 2 + 4 + 1 + 8 + 4 || raw[0] != POS_MAGIC)
		return bad("not a position (garbled)");
	if (raw[1] != POS_VER)
		return bad("a position of another version");
	uint32_t sum = (uint32_t)raw[n - 4] << 24 | (uint32_t)raw[n - 3] << 16 |
	               (uint32_t)raw[n - 2] << 8 | raw[n - 1];
	if (fnv32(2166136261u, raw, n - 4) != sum)
		return bad("not a position (garbled)");
	rd r = {raw, n - 4, 2, false};
	if ((uint32_t)get_u(&r, 4) != hash || (int)get_u(&r, 1) != nkeys)
		return bad("a position of another sort order (start again without it)");
	out->nkeys = nkeys;
	for (int k = 0; k < nkeys; k++) {
		sval *x = &out->v[k];
		x->cls = (uint8_t)get_u(&r, 1);
		if (x->cls > V_MISSING)
			return bad("not a position (garbled)");
		if (x->cls == V_MISSING)
			continue;
		x->type = (uint8_t)get_u(&r, 1);
		if (x->cls == V_NUM) {
			uint64_t is_int = get_u(&r, 1), b = get_u(&r, 8);
			if (is_int > 1)
				return bad("not a position (garbled)");
			x->is_int = is_int != 0;
			if (x->is_int) {
				x->i = (int64_t)b;
				x->d = (double)x->i;
			} else {
				memcpy(&x->d, &b, sizeof b);
				if (isnan(x->d))
					return bad("not a position (garbled)");
			}
		} else if (x->cls == V_TEXT) {
			uint64_t len = get_u(&r, 4);
			if (r.short_ || len > r.n - r.at)
				return bad("not a position (garbled)");
			if (memchr(raw + r.at, 0, len))
				return bad("not a position (garbled)");
			if (!(x->s = arena_strndup(mem, (const char *)raw + r.at, len)))
				return err_set(CAIRN_ENOMEM, "out of memory");
			r.at += len;
		}
	}
	out->rid = (int64_t)get_u(&r, 8);
	if (r.short_ || r.at != r.n || out->rid <= 0)
		return bad("not a position (garbled)");
	return 0;
}
