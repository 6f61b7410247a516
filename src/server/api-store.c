/*
 * server/api-store.c — the remote store protocol over HTTP (the client is
 * libcairn's remote backend; docs/internals/remote.md):
 *
 *   POST /api/v1/store/r/OP     a read op, its body and answer in the
 *   POST /api/v1/store/w/OP     protocol's bytes (cairn_store_serve); writes
 *                               carry an Idempotency-Key (server/idem.c)
 *   GET|HEAD /api/v1/objects/OID  an object's bytes (sendfile)
 *   PUT  /api/v1/objects/OID    an object, streamed to a temp file as it
 *                               arrives (server.c hands the body chunks to
 *                               upload_write), stored only when its SHA-256
 *                               is OID
 *
 * The bytes of every op are read and written by the library, so this file
 * only moves them.  Thread-safety: one request per thread; the store is
 * thread-safe.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/api.h"
#include "util/sha.h"

static int store_op(request *rq, response *rs, int write)
{
	char *out = NULL;
	size_t n = 0;
	int status = 500;
	if (cairn_store_serve(&out, &n, &status, rq->store, write, run_param(rq), rq->body.ptr,
	                      rq->body.len) != 0)
		return resp_lib_error(rs, cairn_error_last_code());
	buf_free(&rs->body);
	buf_add(&rs->body, out, n);
	cairn_free(out);
	if (!buf_ok(&rs->body))
		return resp_error(rs, 500, "internal", "out of memory");
	rs->status = status;
	rs->content_type = CAIRN_STORE_WIRE_TYPE;
	return 0;
}

int h_store_read(request *rq, response *rs)
{
	return store_op(rq, rs, 0);
}

static int store_write_op(request *rq, response *rs)
{
	return store_op(rq, rs, 1);
}

/* Each op and its idempotency key in one transaction (idem_write), but
 * objects_sweep: it unlinks files as it goes, so its rows are committed
 * before the files go, and its key after (an answer a retry recomputes). */
int h_store_write(request *rq, response *rs)
{
	if (strcmp(run_param(rq), "objects_sweep") == 0)
		return store_op(rq, rs, 1);
	return idem_write(rq, rs, store_write_op);
}

int h_object_get(request *rq, response *rs)
{
	const char *oid = run_param(rq);
	if (!hex_is(oid, CAIRN_OID_HEXSZ))
		return resp_error(rs, 400, "bad_request", "'%.70s' is not an object id", oid);
	char *path = NULL;
	int rc = cairn_object_path(&path, rq->store, oid);
	if (rc)
		return resp_lib_error(rs, rc);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return resp_error(rs, 404, "not_found", "no object %s", oid);
	}
	rs->status = 200;
	rs->content_type = "application/octet-stream";
	rs->fd = fd;
	rs->fd_size = (uint64_t)st.st_size;
	rs->cache = "private, max-age=31536000, immutable";
	snprintf(rs->etag, sizeof rs->etag, "\"%s\"", oid);
	return 0;
}

/* --- streamed uploads ---------------------------------------------------------- */

bool upload_wanted(const char *method, const char *url)
{
	return strcmp(method, "PUT") == 0 && strncmp(url, "/api/v1/objects/", 16) == 0;
}

int upload_begin(request *rq)
{
	cairn_object_writer *w = NULL;
	int rc = cairn_object_writer_new(&w, rq->store);
	rq->upload = w;
	rq->upload_rc = rc;
	return rc;
}

void upload_write(request *rq, const void *data, size_t len)
{
	if (rq->upload && rq->upload_rc == 0)
		rq->upload_rc = cairn_object_writer_write(rq->upload, data, len);
}

void upload_abort(request *rq)
{
	cairn_object_writer_free(rq->upload);
	rq->upload = NULL;
}

int h_object_put(request *rq, response *rs)
{
	const char *oid = run_param(rq);
	if (!hex_is(oid, CAIRN_OID_HEXSZ)) {
		upload_abort(rq);
		return resp_error(rs, 400, "bad_request", "'%.70s' is not an object id", oid);
	}
	if (!rq->upload || rq->upload_rc) {
		int rc = rq->upload_rc ? rq->upload_rc : CAIRN_ERROR;
		upload_abort(rq);
		return resp_lib_error(rs, rc);
	}
	char got[CAIRN_OID_HEXSZ + 1];
	int rc = cairn_object_writer_commit(rq->upload, oid, got);
	rq->upload = NULL;
	if (rc)
		return resp_lib_error(rs, rc);
	rs->status = 201;
	rs->content_type = "application/json";
	buf_printf(&rs->body, "{\"object\":\"%s\"}", got);
	return 0;
}
