/*
 * server/resp.c — the helpers every handler answers with: JSON bodies, the
 * one error body shape ({"error": {"code", "message"[, "position"]}}), the
 * library's error codes mapped to HTTP statuses, and reading a request's
 * query arguments and headers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/http.h"
#include "server/mhd.h"
#include "util/json.h"

/* --- responses ------------------------------------------------------------- */

int resp_json_take(response *rs, int status, char *text)
{
	rs->status = status;
	rs->content_type = "application/json";
	buf_free(&rs->body);
	buf_puts(&rs->body, text ? text : "null");
	cairn_free(text);
	return 0;
}

int resp_json_buf(response *rs, int status)
{
	rs->status = status;
	rs->content_type = "application/json";
	if (!buf_ok(&rs->body)) {
		buf_free(&rs->body);
		return resp_error(rs, 500, "internal", "out of memory");
	}
	return 0;
}

static int error_body(response *rs, int status, const char *code, const char *msg, bool has_pos,
                      size_t pos)
{
	bool f = true, g = true;
	buf_free(&rs->body);
	if (rs->fd >= 0) {
		close(rs->fd);
		rs->fd = -1;
	}
	/* An error is never the file a handler was about to send: no download
	 * name, no validator, not cacheable. */
	rs->disposition = NULL;
	rs->cache = NULL;
	rs->etag[0] = '\0';
	rs->status = status;
	rs->content_type = "application/json";
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "error");
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &g, "code");
	json_str(&rs->body, code);
	json_key(&rs->body, &g, "message");
	json_str(&rs->body, msg);
	if (has_pos) {
		json_key(&rs->body, &g, "position");
		json_int(&rs->body, (int64_t)pos);
	}
	buf_puts(&rs->body, "}}");
	return 0;
}

int resp_error(response *rs, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return error_body(rs, status, code, msg, false, 0);
}

int resp_error_pos(response *rs, int status, const char *code, size_t pos, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return error_body(rs, status, code, msg, true, pos);
}

int resp_lib_error(response *rs, int rc)
{
	const char *msg = cairn_error_last();
	switch (rc) {
	case CAIRN_EINVALID:
	case CAIRN_EAMBIGUOUS: return resp_error(rs, 400, "bad_request", "%s", msg);
	case CAIRN_ENOTFOUND: return resp_error(rs, 404, "not_found", "%s", msg);
	case CAIRN_EEXISTS:
	case CAIRN_ECONFLICT: return resp_error(rs, 409, "conflict", "%s", msg);
	case CAIRN_ETOOBIG: return resp_error(rs, 413, "too_large", "%s", msg);
	case CAIRN_EBUSY: return resp_error(rs, 503, "busy", "%s", msg);
	default: return resp_error(rs, 500, "internal", "%s", msg);
	}
}

/* --- request helpers ------------------------------------------------------- */

const char *req_arg(request *rq, const char *name)
{
	return mhd.lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool req_arg_checked(request *rq, response *rs, const char *name, const char **out)
{
	const char *v = req_arg(rq, name);
	if (v && strlen(v) > QUERY_ARG_MAX) {
		resp_error(rs, 400, "bad_request", "argument '%s' is too long (at most %d bytes)",
		           name, QUERY_ARG_MAX);
		return false;
	}
	*out = v;
	return true;
}

const char *req_header(request *rq, const char *name)
{
	return mhd.lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}
