/*
 * lib/store/s3/s3-uri.c — the names of a bucket, for the S3 client (s3.c):
 * an `s3://bucket/prefix` URI checked against S3's bucket-name rules and a
 * clean key prefix, and an endpoint URL ($AWS_ENDPOINT_URL and friends)
 * split into the base the requests go to, the host they are signed for and
 * a path prefix (path-style addressing).  Every part is bounded and checked
 * where it enters; one clear error names what was wrong.  Stateless;
 * thread-safe.
 */
#include "lib/store/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

/* --- URIs ------------------------------------------------------------------- */

static bool bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.'))
			return false;
	return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

/* A prefix is kept to characters that need no escaping in a URL path or
 * a signature (the SigV4 canonical URI is then the path itself). */
static bool prefix_ok(const char *p)
{
	if (strlen(p) > 512)
		return false;
	for (const char *q = p; *q; q++) {
		bool ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		          (*q >= '0' && *q <= '9') || strchr("-_.~/", *q);
		if (!ok || (*q == '/' && q[1] == '/'))
			return false;
	}
	return strstr(p, "/./") == NULL && strstr(p, "/../") == NULL && strcmp(p, ".") != 0 &&
	       strcmp(p, "..") != 0 && strncmp(p, "../", 3) != 0 && strncmp(p, "./", 2) != 0;
}

int s3_uri_parse(const char *uri, char **out_bucket, char **out_prefix)
{
	*out_bucket = *out_prefix = NULL;
	if (!uri || strncmp(uri, "s3://", 5) != 0)
		return err_set(CAIRN_EINVALID, "'%.200s' is not an s3:// URI", uri ? uri : "");
	const char *b = uri + 5;
	const char *slash = strchr(b, '/');
	const char *at = strchr(b, '@');
	if (at && (!slash || at < slash))
		return err_set(CAIRN_EINVALID,
		               "the objects URI 's3://…@%.200s' carries credentials: cairn never "
		               "stores them; give them in AWS_ACCESS_KEY_ID and "
		               "AWS_SECRET_ACCESS_KEY or ~/.aws/credentials",
		               at + 1);
	size_t bn = slash ? (size_t)(slash - b) : strlen(b);
	if (!bucket_ok(b, bn))
		return err_set(CAIRN_EINVALID,
		               "'%.200s': '%.*s' is not a bucket name (3 to 63 of a-z, 0-9, '.', "
		               "'-')",
		               uri, (int)(bn > 80 ? 80 : bn), b);
	const char *p = slash ? slash + 1 : "";
	size_t pn = strlen(p);
	while (pn && p[pn - 1] == '/')
		pn--;
	char *prefix = strndup(p, pn);
	if (!prefix)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (strchr(uri, '?') || strchr(uri, '#') || !prefix_ok(prefix)) {
		free(prefix);
		return err_set(CAIRN_EINVALID,
		               "'%.200s': the key prefix may hold only letters, digits, '-', '_', "
		               "'.', '~' and single '/' between names",
		               uri);
	}
	*out_bucket = strndup(b, bn);
	if (!*out_bucket) {
		free(prefix);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out_prefix = prefix;
	return 0;
}

/* The endpoint's scheme://host[:port] and its path (without trailing '/'). */
int s3_endpoint_split(const char *ep, char **out_base, char **out_host, char **out_path)
{
	const char *h;
	if (strncmp(ep, "http://", 7) == 0)
		h = ep + 7;
	else if (strncmp(ep, "https://", 8) == 0)
		h = ep + 8;
	else
		return err_set(CAIRN_EINVALID,
		               "the S3 endpoint '%.200s' (AWS_ENDPOINT_URL) is not an http:// or "
		               "https:// URL",
		               ep);
	size_t hn = strcspn(h, "/?#");
	if (hn == 0 || memchr(h, '@', hn) || strlen(ep) > 1024 || strpbrk(ep, " \r\n\t"))
		return err_set(
		    CAIRN_EINVALID,
		    "the S3 endpoint '%.200s' (AWS_ENDPOINT_URL) has no host, or carries "
		    "credentials or spaces",
		    ep);
	const char *path = h + hn;
	if (*path && *path != '/')
		return err_set(CAIRN_EINVALID, "the S3 endpoint '%.200s' has a query", ep);
	size_t pn = strlen(path);
	while (pn && path[pn - 1] == '/')
		pn--;
	*out_base = strndup(ep, (size_t)(h - ep) + hn);
	*out_host = strndup(h, hn);
	*out_path = strndup(path, pn);
	if (!*out_base || !*out_host || !*out_path)
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* $name, when set: bytes, digits only, within lo..hi; else def. */
