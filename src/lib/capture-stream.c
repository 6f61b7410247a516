/*
 * lib/capture-stream.c — artifacts written in pieces (the logs of `cairn
 * run`): bytes go straight to a temp file in objects/tmp and through
 * SHA-256 on the way, so memory stays bounded whatever the size; close()
 * publishes the object under its hash and records the artifact.
 *
 * States: open -> (write)* -> closed | aborted.  A write error is sticky:
 * later writes are dropped and close() reports it (the temp file is removed).
 * Not thread-safe: one writer per stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/capture.h"
#include "lib/store.h"
#include "util/fs.h"
#include "util/sha.h"

struct cairn_artifact_stream {
	cairn_run *run;
	cairn_store *store;
	int64_t rid;
	char *name, *kind, *tmp;
	int fd;
	sha_ctx *sha;
	int64_t size;
	int err;           /* sticky: the first error */
	char errmsg[256];
};

void cairn_artifact_stream_abort(cairn_artifact_stream *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp)
		unlink(s->tmp);
	sha_free(s->sha);
	free(s->tmp);
	free(s->name);
	free(s->kind);
	free(s);
}

int cairn_artifact_stream_open(cairn_artifact_stream **out, cairn_run *run, const char *name,
                               const char *kind)
{
	*out = NULL;
	if (!run || !name)
		return err_set(CAIRN_EINVALID, "no run or no artifact name");
	int rc = cairn_key_validate(name, "artifact name");
	if (rc)
		return rc;
	if (!relpath_is_safe(name))
		return err_set(CAIRN_EINVALID, "artifact name '%s' is not a clean relative path", name);
	cairn_artifact_stream *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(CAIRN_ENOMEM, "out of memory");
	s->fd = -1;
	s->run = run;
	s->store = cairn_run_store(run);
	s->name = strdup(name);
	s->kind = strdup(kind ? kind : CAIRN_ARTIFACT_FILE);
	s->sha = sha_new();
	if (!s->name || !s->kind || !s->sha) {
		cairn_artifact_stream_abort(s);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	if ((rc = capture_run_rid(run, &s->rid)) != 0) {
		cairn_artifact_stream_abort(s);
		return rc;
	}
	s->fd = object_temp_open(s->store, &s->tmp);
	if (s->fd < 0) {
		rc = cairn_error_last_code();
		cairn_artifact_stream_abort(s);
		return rc ? rc : CAIRN_EIO;
	}
	*out = s;
	return 0;
}

int cairn_artifact_stream_write(cairn_artifact_stream *s, const void *data, size_t len)
{
	if (!s || (!data && len))
		return err_set(CAIRN_EINVALID, "no stream or no data");
	if (s->err)
		return err_set(s->err, "%s", s->errmsg);
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(s->fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->err = CAIRN_EIO;
			snprintf(s->errmsg, sizeof s->errmsg, "cannot write artifact '%s': %s", s->name,
			         strerror(errno));
			return err_set(s->err, "%s", s->errmsg);
		}
		p += w;
		left -= (size_t)w;
	}
	sha_update(s->sha, data, len);
	s->size += (int64_t)len;
	return 0;
}

static const char *media_of(const char *name)
{
	size_t n = strlen(name);
	if ((n > 4 && strcmp(name + n - 4, ".log") == 0) || (n > 4 && strcmp(name + n - 4, ".txt") == 0))
		return "text/plain";
	return "application/octet-stream";
}

int cairn_artifact_stream_close(cairn_artifact_stream *s)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no stream");
	int rc = 0;
	char oid[65];
	if (s->err) {
		rc = err_set(s->err, "%s", s->errmsg);
		goto done;
	}
	int fd = s->fd;
	s->fd = -1;
	if (close(fd) != 0) {
		rc = err_set(CAIRN_EIO, "cannot write artifact '%s': %s", s->name, strerror(errno));
		goto done;
	}
	sha_final_hex(s->sha, oid);
	s->sha = NULL;
	if ((rc = object_publish(s->store, s->tmp, oid)) != 0)
		goto done;
	free(s->tmp);
	s->tmp = NULL; /* published: nothing to remove */
	rc = store_artifact_put(s->store, s->rid, s->name, oid, s->size, media_of(s->name), s->kind,
	                        NULL, CAIRN_STEP_AUTO);
done:
	cairn_artifact_stream_abort(s);
	return rc;
}
