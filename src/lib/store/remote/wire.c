/*
 * lib/store/remote/wire.c — the remote protocol's fields (wire.h): strings,
 * byte runs, values and replies; the fixed-width numbers are inline.
 */
#include <string.h>

#include "lib/store/remote/wire.h"

#define WIRE_NULL 0xffffffffu

void w_strn(buf *b, const char *s, size_t n)
{
	if (!s) {
		w_u32(b, WIRE_NULL);
		return;
	}
	w_u32(b, (uint32_t)n);
	buf_add(b, s, n);
	buf_putc(b, '\0');
}

void w_str(buf *b, const char *s)
{
	w_strn(b, s, s ? strlen(s) : 0);
}

void w_bytes(buf *b, const void *p, size_t n)
{
	w_u32(b, (uint32_t)n);
	buf_add(b, p, n);
}

static bool need(wr *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return false;
	}
	return true;
}

uint8_t r_u8(wr *r)
{
	if (!need(r, 1))
		return 0;
	return *r->p++;
}

uint32_t r_u32(wr *r)
{
	uint32_t v = 0;
	if (need(r, 4)) {
		memcpy(&v, r->p, 4);
		r->p += 4;
	}
	return v;
}

int64_t r_i64(wr *r)
{
	int64_t v = 0;
	if (need(r, 8)) {
		memcpy(&v, r->p, 8);
		r->p += 8;
	}
	return v;
}

double r_f64(wr *r)
{
	double v = 0;
	if (need(r, 8)) {
		memcpy(&v, r->p, 8);
		r->p += 8;
	}
	return v;
}

const char *r_str(wr *r)
{
	uint32_t n = r_u32(r);
	if (r->bad || n == WIRE_NULL)
		return NULL;
	if (!need(r, (size_t)n + 1))
		return NULL;
	const char *s = (const char *)r->p;
	if (s[n] != '\0' || memchr(s, '\0', n)) {
		r->bad = true;
		return NULL;
	}
	r->p += (size_t)n + 1;
	return s;
}

const char *r_text(wr *r)
{
	const char *s = r_str(r);
	if (!s && !r->bad)
		r->bad = true;
	return s ? s : "";
}

const void *r_bytes(wr *r, size_t *n)
{
	uint32_t k = r_u32(r);
	*n = 0;
	if (!need(r, k))
		return NULL;
	const void *p = r->p;
	r->p += k;
	*n = k;
	return p;
}

uint32_t r_count(wr *r, size_t each)
{
	uint32_t n = r_u32(r);
	if (!r->bad && each && (size_t)(r->end - r->p) / each < n)
		r->bad = true;
	return r->bad ? 0 : n;
}

int wr_check(const wr *r, bool whole, const char *what)
{
	if (r->bad || (whole && r->p != r->end))
		return err_set(CAIRN_EINVALID, "malformed %s", what);
	return 0;
}

void w_reply_error(buf *b, int rc, const char *msg)
{
	w_u32(b, (uint32_t)(int32_t)rc);
	w_str(b, msg ? msg : "");
}

int r_reply(wr *r)
{
	int32_t rc = (int32_t)r_u32(r);
	if (r->bad)
		return err_set(CAIRN_ESTORE, "the server sent a malformed reply");
	if (rc == 0)
		return 0;
	const char *msg = r_str(r);
	if (rc > 0 || rc < OBJECT_VANISHED)
		rc = CAIRN_ESTORE;
	if (rc == OBJECT_VANISHED)
		return OBJECT_VANISHED;
	return err_set(rc, "%s", msg ? msg : "the server failed without saying why");
}

void w_value(buf *b, const cairn_value *v)
{
	w_u8(b, (uint8_t)v->type);
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: w_i64(b, v->i); break;
	case CAIRN_TYPE_FLOAT: w_f64(b, v->f); break;
	case CAIRN_TYPE_STRING: w_str(b, v->s ? v->s : ""); break;
	default: break;
	}
}

void r_value(wr *r, cairn_value *v)
{
	memset(v, 0, sizeof *v);
	v->type = (cairn_type)r_u8(r);
	switch (v->type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: v->i = r_i64(r); break;
	case CAIRN_TYPE_FLOAT: v->f = r_f64(r); break;
	case CAIRN_TYPE_STRING: v->s = r_text(r); break;
	case CAIRN_TYPE_NONE: break;
	default: r->bad = true;
	}
}
