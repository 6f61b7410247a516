/*
 * lib/store/s3/presign.c — presigned GET URLs: SigV4's query-string form,
 * which libcurl does not make (its CURLOPT_AWS_SIGV4 signs headers of the
 * requests it sends).  The algorithm is AWS's ("Authenticating Requests:
 * Using Query Parameters"):
 *
 *   canonical = "GET\n" PATH "\n" QUERY "\nhost:" HOST "\n\nhost\nUNSIGNED-PAYLOAD"
 *   QUERY     = the X-Amz-* parameters and the response-* overrides, each
 *               name=value URI-encoded (RFC 3986 unreserved kept), sorted
 *   to_sign   = "AWS4-HMAC-SHA256\n" DATE "\n" SCOPE "\n" hex(SHA-256(canonical))
 *   key       = HMAC(HMAC(HMAC(HMAC("AWS4" SECRET, DAY), REGION), "s3"), "aws4_request")
 *   signature = hex(HMAC(key, to_sign))
 *
 * HMAC-SHA256 and SHA-256 come from libcrypto (EVP_Q_mac, util/sha.h): no
 * crypto primitive is written here.  PATH needs no encoding: the client
 * admits only URI-safe bucket names and prefixes (s3.c), and object ids
 * are hex.  Stateless; thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/internal.h"
#include "lib/store/s3/s3.h"
#include "util/buf.h"
#include "util/evp.h"
#include "util/sha.h"

static void uri_encode(buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
}

static int hmac(const void *key, size_t klen, const char *data, unsigned char out[32])
{
	size_t n = 0;
	if (!evp.Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, klen, (const unsigned char *)data,
	               strlen(data), out, 32, &n) ||
	    n != 32)
		return err_set(CAIRN_ERROR, "libcrypto cannot compute HMAC-SHA256");
	return 0;
}

int s3_presign_url(const s3_sign_info *si, int64_t now, int expires, const char *disposition,
                   const char *content_type, char **out_url)
{
	*out_url = NULL;
	if (expires < 1 || expires > 604800)
		return err_set(CAIRN_EINVALID, "a presigned URL lasts 1 s to 7 days, not %d s",
		               expires);
	if (evp_load() != 0)
		return err_set(CAIRN_ERROR, "%s", evp_error());
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	char day[16], date[32], scope[128], cred[400];
	strftime(day, sizeof day, "%Y%m%d", &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(scope, sizeof scope, "%s/%s/s3/aws4_request", day, si->region);
	snprintf(cred, sizeof cred, "%s/%s", si->key_id, scope);

	/* The parameters in the order of their names (X-Amz-* sort before
	 * response-*: 'X' < 'r'). */
	buf q = BUF_INIT, canon = BUF_INIT, sts = BUF_INIT;
	buf_puts(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
	uri_encode(&q, cred);
	buf_printf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%d", date, expires);
	if (si->token) {
		buf_puts(&q, "&X-Amz-Security-Token=");
		uri_encode(&q, si->token);
	}
	buf_puts(&q, "&X-Amz-SignedHeaders=host");
	if (disposition) {
		buf_puts(&q, "&response-content-disposition=");
		uri_encode(&q, disposition);
	}
	if (content_type) {
		buf_puts(&q, "&response-content-type=");
		uri_encode(&q, content_type);
	}
	buf_printf(&canon, "GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", si->path, q.ptr,
	           si->host);
	char canon_hex[65];
	int rc = 0;
	if (!buf_ok(&q) || !buf_ok(&canon)) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if (sha_buf_hex(canon.ptr, canon.len, canon_hex) != 0) {
		rc = err_set(CAIRN_ERROR, "%s", sha_error());
		goto done;
	}
	buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", date, scope, canon_hex);

	unsigned char k[32], sig[32];
	buf secret = BUF_INIT;
	buf_printf(&secret, "AWS4%s", si->secret);
	rc = buf_ok(&secret) && buf_ok(&sts) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = hmac(secret.ptr, secret.len, day, k);
	memset(secret.ptr, 0, secret.len);
	buf_free(&secret);
	if (rc == 0)
		rc = hmac(k, 32, si->region, k);
	if (rc == 0)
		rc = hmac(k, 32, "s3", k);
	if (rc == 0)
		rc = hmac(k, 32, "aws4_request", k);
	if (rc == 0)
		rc = hmac(k, 32, sts.ptr, sig);
	memset(k, 0, sizeof k);
	if (rc)
		goto done;
	char sig_hex[65];
	hex_encode(sig_hex, sig, 32);
	buf url = BUF_INIT;
	buf_printf(&url, "%s%s?%s&X-Amz-Signature=%s", si->url_base, si->path, q.ptr, sig_hex);
	if (!buf_ok(&url)) {
		buf_free(&url);
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	*out_url = buf_detach(&url);
done:
	buf_free(&q);
	buf_free(&canon);
	buf_free(&sts);
	return rc;
}
