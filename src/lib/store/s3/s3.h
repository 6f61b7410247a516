/*
 * lib/store/s3/s3.h — a small S3 client for the object store: one bucket
 * and key prefix (`s3://bucket/prefix`), objects named by their SHA-256.
 *
 * What it does: HEAD, streamed PUT from a file (a multipart upload above
 * 64 MiB, aborted on failure: s3.c), streamed GET into a file,
 * DELETE of one object key (prefix/ab/cdef…, the layout of objects/), a
 * reachability check of the bucket, and presigned GET URLs.  Requests are
 * signed by libcurl's SigV4 (CURLOPT_AWS_SIGV4, "aws:amz:REGION:s3"); the
 * presigned URLs by SigV4's query form (presign.c), with HMAC-SHA256 from
 * libcrypto.  No crypto of its own.
 *
 * Where the settings come from (docs/internals/store.md, "Objects in a
 * bucket"): the endpoint from $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL
 * (path-style addressing: endpoint/bucket/key), else AWS itself
 * (https://bucket.s3.REGION.amazonaws.com/key); the region from
 * $AWS_REGION, $AWS_DEFAULT_REGION, the profile's `region` in
 * ~/.aws/config, else us-east-1; the credentials from $AWS_ACCESS_KEY_ID +
 * $AWS_SECRET_ACCESS_KEY (+ $AWS_SESSION_TOKEN), else the profile
 * ($AWS_PROFILE, default "default") of ~/.aws/credentials
 * ($AWS_SHARED_CREDENTIALS_FILE).  The credentials stay in this struct;
 * nothing here writes them anywhere, and no message shows more than the
 * first four characters of the key id.
 *
 * Errors: every call returns 0 (or 1/0 for s3_head) or a negative
 * cairn_error_code with one message saying what and why: CAIRN_EINVALID a
 * bad URI or no credentials; CAIRN_ENOTFOUND no such key; CAIRN_EIO the
 * endpoint cannot be reached, the bucket does not exist, the credentials
 * are refused (which part: InvalidAccessKeyId or SignatureDoesNotMatch), or
 * the bucket denies the operation (AccessDenied); CAIRN_EBUSY the service
 * asked to slow down past the retries.
 *
 * Thread-safety: a client may be used by several threads at once; it keeps
 * a few idle curl handles (connection reuse) under a mutex and each request
 * holds one handle for its duration.
 */
#ifndef CAIRN_LIB_STORE_S3_H
#define CAIRN_LIB_STORE_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "util/sha.h"

typedef struct s3_client s3_client;

/* The parts of an s3:// URI (no network, no environment): 0, or
 * CAIRN_EINVALID saying what is wrong (a URI carrying user:password@ is
 * refused, and its password never repeated).  bucket and prefix are
 * malloc'ed; prefix has no leading or trailing '/' and may be "". */
int s3_uri_parse(const char *uri, char **out_bucket, char **out_prefix);
/* An endpoint URL split into the base requests go to, the host they are
 * signed for and a path prefix (each freed by the caller; s3-uri.c). */
int s3_endpoint_split(const char *ep, char **out_base, char **out_host, char **out_path);

/* A client for uri, configured from the environment and ~/.aws. */
int s3_open(s3_client **out, const char *uri);
void s3_close(s3_client *c);

/* 1 when the object is in the bucket, 0 when it is not. */
int s3_head(s3_client *c, const char *oid);
/* Upload the file at path (size bytes whose SHA-256 is oid) as oid: one PUT,
 * or above the multipart threshold a multipart upload that is aborted on
 * any failure (CAIRN_ETOOBIG over 5 TiB; CAIRN_EINVALID from s3_open for a
 * bad $CAIRN_S3_MULTIPART_THRESHOLD or $CAIRN_S3_PART_SIZE). */
int s3_put_file(s3_client *c, const char *oid, const char *path, int64_t size);
/* Download oid into fd (at its offset), feeding sha when not NULL; an
 * object over cap bytes (cap 0: none) is CAIRN_ETOOBIG.  *out_size: bytes
 * written. */
int s3_get_fd(s3_client *c, const char *oid, int fd, uint64_t cap, sha_ctx *sha, int64_t *out_size);
/* Delete oid (a key that is not there is no error). */
int s3_delete(s3_client *c, const char *oid);
/* Can the bucket be reached and listed with these credentials? */
int s3_check(s3_client *c);
/* A presigned GET URL for oid valid for expires seconds (1..604800), with
 * the response's Content-Disposition and Content-Type set when not NULL. */
int s3_presign(s3_client *c, const char *oid, int expires, const char *disposition,
               const char *content_type, char **out_url);

/* --- shared by the client's files ---------------------------------------- */

/* The credentials and region (aws-config.c): from the environment, else the
 * profile's files.  Strings malloc'ed; token may be NULL. */
typedef struct s3_config {
	char *key_id, *secret, *token, *region, *endpoint;
} s3_config;
int s3_config_load(s3_config *cfg, const char *uri);
void s3_config_free(s3_config *cfg);

/* What presign.c needs of the client. */
typedef struct s3_sign_info {
	const char *host;     /* host[:port] as sent in Host */
	const char *path;     /* the key's absolute path, already URI-safe */
	const char *url_base; /* scheme://host[:port] */
	const char *region, *key_id, *secret, *token;
} s3_sign_info;
int s3_presign_url(const s3_sign_info *si, int64_t now, int expires, const char *disposition,
                   const char *content_type, char **out_url);

#endif
