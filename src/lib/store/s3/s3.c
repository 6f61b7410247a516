/*
 * lib/store/s3/s3.c — the S3 client (see s3.h): requests over libcurl with
 * its SigV4 signing, and what the service's answers mean (the URIs and the
 * endpoint: s3-uri.c).
 *
 * A request is one curl easy transfer: HEAD, GET streamed into a file
 * descriptor, PUT streamed from one (CURLOPT_UPLOAD with INFILESIZE_LARGE,
 * so the body is never in memory), DELETE.  Every request carries
 * x-amz-content-sha256: for a PUT the object id itself (the SHA-256 of the
 * body, so the service checks the bytes it received), for the others the
 * hash of the empty body; curl signs it with the other x-amz-* headers.
 *
 * Failures become one message (explain()): a transport error names the
 * endpoint; an S3 error answer is read from its XML body (capped at 16 KiB)
 * for its <Code>, and the codes a user can act on get their own words.  A
 * HEAD answer has no body, so a refused HEAD is asked again as a one-byte
 * GET to learn why.  Transient failures (a dropped connection, HTTP 500 and
 * 503) are retried twice, 0.1 s and 0.4 s apart; every request is
 * idempotent (objects are content-addressed) but CreateMultipartUpload,
 * which is sent once (a retried one could leave an upload nobody aborts).
 *
 * A file over the multipart threshold (64 MiB, $CAIRN_S3_MULTIPART_THRESHOLD)
 * goes up in parts (64 MiB, $CAIRN_S3_PART_SIZE; grown so at most 10,000):
 * CreateMultipartUpload (POST ?uploads=) for an UploadId, UploadPart (PUT
 * ?partNumber=N&uploadId=…) per part streamed with pread from its offset,
 * each carrying its own SHA-256 and giving back an ETag, then
 * CompleteMultipartUpload (POST ?uploadId=…) with the list.  Any failure
 * after the Create sends AbortMultipartUpload (DELETE ?uploadId=…), so no
 * part is left in the bucket, and the message says which part and whether
 * the abort worked.  The answers' XML and ETags are read by s3xml.c,
 * strictly.  Queries are written sorted and needing no escapes, so they are
 * their own SigV4 canonical form whatever libcurl's version does with them.
 *
 * Thread-safety: see s3.h.  Idle handles are kept (up to IDLE_MAX) so a
 * run's many small objects reuse one connection.
 */
#include "lib/store/s3/s3.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/internal.h"
#include "lib/store/s3/curl.h"
#include "lib/store/s3/s3xml.h"
#include "util/buf.h"
#include "util/fs.h"

#define IDLE_MAX      4
#define ERR_BODY_MAX  (16 << 10)
#define ATTEMPTS      3
#define EMPTY_SHA256  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MiB           ((int64_t)1 << 20)
#define GiB           ((int64_t)1 << 30)
#define MP_THRESHOLD  (64 * MiB) /* a larger file goes up in parts */
#define MP_PART       (64 * MiB)
#define MP_PART_MIN   (5 * MiB) /* S3's least part (but the last) */
#define MP_PART_MAX   (5 * GiB) /* S3's largest part, and largest single PUT */
#define MP_PARTS_MAX  10000
#define MP_OBJECT_MAX (5 * GiB * 1024) /* S3's largest object: 5 TiB */
#define ETAG_MAX      132

struct s3_client {
	char *uri;      /* s3://bucket/prefix, for messages */
	char *bucket;   /* checked: [a-z0-9.-], 3..63 */
	char *prefix;   /* "" or "a/b" (no leading or trailing '/') */
	char *base;     /* scheme://host[:port][/path] */
	char *host;     /* host[:port] */
	char *path0;    /* "/bucket" (path-style) or "" (virtual-hosted), plus endpoint path */
	char *endpoint; /* for messages: the endpoint or the AWS host */
	char sigv4[96]; /* "aws:amz:REGION:s3" */
	s3_config cfg;
	int64_t mp_threshold, mp_part; /* multipart: above this size, in parts of this */
	pthread_mutex_t mu;
	CURL *idle[IDLE_MAX];
	int nidle;
};

static int size_knob(const char *name, int64_t lo, int64_t hi, int64_t def, int64_t *out)
{
	const char *v = getenv(name);
	*out = def;
	if (!v || !*v)
		return 0;
	int64_t n = 0;
	const char *p = v;
	for (; *p >= '0' && *p <= '9' && n <= hi; p++)
		n = n * 10 + (*p - '0');
	if (*p || n < lo || n > hi)
		return err_set(CAIRN_EINVALID,
		               "%s='%.40s' is not a size in bytes from %lld to %lld", name, v,
		               (long long)lo, (long long)hi);
	*out = n;
	return 0;
}

int s3_open(s3_client **out, const char *uri)
{
	*out = NULL;
	s3_client *c = calloc(1, sizeof *c);
	if (!c)
		return err_set(CAIRN_ENOMEM, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	int rc = s3_uri_parse(uri, &c->bucket, &c->prefix);
	if (rc == 0 && !(c->uri = strdup(uri)))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = size_knob("CAIRN_S3_MULTIPART_THRESHOLD", MP_PART_MIN, MP_PART_MAX,
		               MP_THRESHOLD, &c->mp_threshold);
	if (rc == 0)
		rc =
		    size_knob("CAIRN_S3_PART_SIZE", MP_PART_MIN, MP_PART_MAX, MP_PART, &c->mp_part);
	if (rc == 0)
		rc = s3_config_load(&c->cfg, uri);
	if (rc)
		goto fail;
	char *epath = NULL;
	if (c->cfg.endpoint) {
		if ((rc = s3_endpoint_split(c->cfg.endpoint, &c->base, &c->host, &epath)) != 0) {
			free(epath);
			goto fail;
		}
		size_t n = strlen(epath) + strlen(c->bucket) + 2;
		if ((c->path0 = malloc(n)))
			snprintf(c->path0, n, "%s/%s", epath, c->bucket);
		c->endpoint = strdup(c->cfg.endpoint);
	} else {
		char h[256];
		snprintf(h, sizeof h, "%s.s3.%s.amazonaws.com", c->bucket, c->cfg.region);
		c->host = strdup(h);
		size_t n = strlen(h) + 9;
		if ((c->base = malloc(n)))
			snprintf(c->base, n, "https://%s", h);
		c->path0 = strdup("");
		c->endpoint = strdup(c->base ? c->base : "");
	}
	free(epath);
	snprintf(c->sigv4, sizeof c->sigv4, "aws:amz:%s:s3", c->cfg.region);
	if (!c->host || !c->base || !c->path0 || !c->endpoint) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if (curl_load() != 0) {
		rc = err_set(CAIRN_ERROR, "%s (needed for objects in %s)", curl_error(), uri);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	s3_close(c);
	return rc;
}

void s3_close(s3_client *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nidle; i++)
		curlx.easy_cleanup(c->idle[i]);
	pthread_mutex_destroy(&c->mu);
	s3_config_free(&c->cfg);
	free(c->uri);
	free(c->bucket);
	free(c->prefix);
	free(c->base);
	free(c->host);
	free(c->path0);
	free(c->endpoint);
	free(c);
}

/* --- requests --------------------------------------------------------------- */

typedef struct req {
	const char *method; /* HEAD GET PUT POST DELETE */
	const char *oid;    /* NULL: the bucket */
	const char *query;  /* without '?', sorted and needing no escapes, or NULL */
	const char *range;  /* "0-0", or NULL */
	int in_fd;          /* PUT: size bytes from offset off */
	int64_t in_off, in_size, sent;
	const char *body; /* POST: the body (body_len bytes, may be 0) */
	size_t body_len;
	const char *content_type; /* POST */
	bool keep_body;           /* a 2xx body is kept in err too (capped), for the caller */
	bool once;                /* never retried */
	const char *payload_sha;
	int out_fd; /* GET: -1 discards the body */
	uint64_t cap;
	sha_ctx *sha;
	/* results */
	long status;
	int64_t got;
	int werr; /* errno of a failed write into out_fd */
	bool too_big;
	int etag_bad;        /* the answer's ETag header: 1 seen, -1 malformed */
	char etag[ETAG_MAX]; /* its value */
	buf err;             /* the body of a non-2xx answer, capped */
} req;

static CURL *handle_get(s3_client *c)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->nidle)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->mu);
	return h ? h : curlx.easy_init();
}

static void handle_put(s3_client *c, CURL *h)
{
	pthread_mutex_lock(&c->mu);
	if (c->nidle < IDLE_MAX) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	if (h)
		curlx.easy_cleanup(h);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	req *r = arg;
	size_t len = size * n;
	if (r->status == 0)
		return len;
	if (r->status < 200 || r->status > 299 || r->keep_body) {
		buf_add(&r->err, p, len); /* capped: the rest is dropped */
		return len;
	}
	if (r->cap && (uint64_t)r->got + len > r->cap) {
		r->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (r->out_fd >= 0) {
		int e = fd_write_all(r->out_fd, p, len);
		if (e) {
			r->werr = -e;
			return 0;
		}
	}
	if (r->sha)
		sha_update(r->sha, p, len);
	r->got += (int64_t)len;
	return len;
}

/* The status line comes first: learn it before the body does. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	req *r = arg;
	size_t len = size * n;
	if (len > 9 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', len);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		if (r->status == 100)
			r->status = 0;
		r->etag_bad = 0;
		r->etag[0] = '\0';
	} else if (r->status >= 200 && r->status <= 299) {
		int e = s3_header_etag(p, len, r->etag, sizeof r->etag);
		if (e)
			r->etag_bad = e;
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	req *r = arg;
	size_t want = size * n;
	if ((int64_t)want > r->in_size - r->sent)
		want = (size_t)(r->in_size - r->sent);
	if (want == 0)
		return 0;
	for (;;) {
		ssize_t k = pread(r->in_fd, p, want, r->in_off + r->sent);
		if (k > 0) {
			r->sent += k;
			return (size_t)k;
		}
		if (k == 0 || errno != EINTR)
			return CURL_READFUNC_ABORT; /* the file shrank, or cannot be read */
	}
}

static void url_of(const s3_client *c, const req *r, buf *u)
{
	buf_printf(u, "%s%s/", c->base, c->path0);
	if (r->oid)
		buf_printf(u, "%s%s%.2s/%s", c->prefix, *c->prefix ? "/" : "", r->oid, r->oid + 2);
	if (r->query)
		buf_printf(u, "?%s", r->query);
}

/* One attempt: 0 when the transfer completed (r->status says how), else the
 * curl code. */
static CURLcode perform(s3_client *c, CURL *h, req *r)
{
	buf url = BUF_INIT, hd = BUF_INIT;
	struct curl_slist *hdrs = NULL;
	url_of(c, r, &url);
	buf_printf(&hd, "x-amz-content-sha256: %s", r->payload_sha ? r->payload_sha : EMPTY_SHA256);
	hdrs = curlx.slist_append(hdrs, hd.ptr);
	if (c->cfg.token) {
		buf_clear(&hd);
		buf_printf(&hd, "x-amz-security-token: %s", c->cfg.token);
		hdrs = curlx.slist_append(hdrs, hd.ptr);
	}
	hdrs = curlx.slist_append(hdrs, "Expect:");
	if (strcmp(r->method, "POST") == 0) {
		buf_clear(&hd);
		buf_printf(&hd, "Content-Type:%s%s", r->content_type ? " " : "",
		           r->content_type ? r->content_type : "");
		hdrs = curlx.slist_append(hdrs, hd.ptr);
	}
	curlx.easy_reset(h);
	curlx.easy_setopt(h, CURLOPT_URL, url.ptr);
	curlx.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curlx.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curlx.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curlx.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	curlx.easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
	curlx.easy_setopt(h, CURLOPT_USERNAME, c->cfg.key_id);
	curlx.easy_setopt(h, CURLOPT_PASSWORD, c->cfg.secret);
	curlx.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curlx.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curlx.easy_setopt(h, CURLOPT_HEADERDATA, r);
	curlx.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curlx.easy_setopt(h, CURLOPT_WRITEDATA, r);
	curlx.easy_setopt(h, CURLOPT_BUFFERSIZE, 512L << 10);
	if (r->range)
		curlx.easy_setopt(h, CURLOPT_RANGE, r->range);
	if (strcmp(r->method, "HEAD") == 0) {
		curlx.easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0) {
		curlx.easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curlx.easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curlx.easy_setopt(h, CURLOPT_READDATA, r);
		curlx.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->in_size);
		curlx.easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L << 10);
	} else if (strcmp(r->method, "POST") == 0) {
		curlx.easy_setopt(h, CURLOPT_POST, 1L);
		curlx.easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curlx.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "DELETE") == 0) {
		curlx.easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	r->status = 0;
	r->got = 0;
	r->sent = 0;
	r->etag_bad = 0;
	r->etag[0] = '\0';
	buf_clear(&r->err);
	CURLcode cc = buf_ok(&url) ? curlx.easy_perform(h) : CURLE_OUT_OF_MEMORY;
	long code = 0;
	curlx.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code)
		r->status = code;
	curlx.slist_free_all(hdrs);
	buf_free(&url);
	buf_free(&hd);
	return cc;
}

static bool transient(CURLcode cc, long status)
{
	if (cc == CURLE_OK)
		return status == 500 || status == 502 || status == 503 || status == 504;
	return cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
	       cc == CURLE_PARTIAL_FILE || cc == CURLE_OPERATION_TIMEDOUT;
}

/* The text of <tag> in an S3 error body, into out. */
static void xml_text(const buf *b, const char *tag, char *out, size_t n)
{
	char open[40], close[40];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	out[0] = '\0';
	const char *s = b->len ? strstr(b->ptr, open) : NULL;
	const char *e = s ? strstr(s, close) : NULL;
	if (!s || !e)
		return;
	s += strlen(open);
	size_t k = (size_t)(e - s) < n - 1 ? (size_t)(e - s) : n - 1;
	for (size_t i = 0; i < k; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : ' ';
	out[k] = '\0';
}

static const char *verb_of(const req *r)
{
	if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0)
		return "write objects to";
	if (strcmp(r->method, "DELETE") == 0)
		return "delete objects from";
	return "read objects from";
}

/* The message and code for a failed request. */
static int explain(s3_client *c, const req *r, CURLcode cc)
{
	if (r->too_big)
		return err_set(CAIRN_ETOOBIG, "object %.64s is larger than %llu bytes", r->oid,
		               (unsigned long long)r->cap);
	if (r->werr)
		return err_set(CAIRN_EIO, "cannot write object %.64s from %s: %s", r->oid, c->uri,
		               strerror(r->werr));
	if (cc != CURLE_OK)
		return err_set(CAIRN_EIO, "cannot reach the object store at %s (for %s): %s",
		               c->endpoint, c->uri, curlx.easy_strerror(cc));
	char code[64], msg[200];
	xml_text(&r->err, "Code", code, sizeof code);
	xml_text(&r->err, "Message", msg, sizeof msg);
	char kid[8];
	snprintf(kid, sizeof kid, "%.4s", c->cfg.key_id);
	if (strcmp(code, "InvalidAccessKeyId") == 0)
		return err_set(CAIRN_EIO,
		               "the object store %s does not know the access key id '%s…' "
		               "(InvalidAccessKeyId): check AWS_ACCESS_KEY_ID or the profile",
		               c->endpoint, kid);
	if (strcmp(code, "SignatureDoesNotMatch") == 0)
		return err_set(CAIRN_EIO,
		               "the object store %s refused the signature of key id '%s…' "
		               "(SignatureDoesNotMatch): the secret access key is wrong",
		               c->endpoint, kid);
	if (strcmp(code, "NoSuchBucket") == 0 || (r->status == 404 && !r->oid))
		return err_set(CAIRN_EIO, "no such bucket '%s' at %s (for %s)", c->bucket,
		               c->endpoint, c->uri);
	if (strcmp(code, "NoSuchKey") == 0 || (r->status == 404 && !code[0]))
		return err_set(CAIRN_ENOTFOUND, "object %.64s is missing from %s", r->oid, c->uri);
	if (strcmp(code, "AccessDenied") == 0 || r->status == 403)
		return err_set(CAIRN_EIO, "%s denies this key id ('%s…') to %s it (%s%s%s)", c->uri,
		               kid, verb_of(r), code[0] ? code : "HTTP 403", msg[0] ? ": " : "",
		               msg);
	if (r->status == 503 || strcmp(code, "SlowDown") == 0)
		return err_set(CAIRN_EBUSY, "the object store %s is busy (%s)", c->endpoint,
		               code[0] ? code : "HTTP 503");
	return err_set(CAIRN_EIO, "cannot %s %s: HTTP %ld%s%s%s%s", verb_of(r), c->uri, r->status,
	               code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

/* Run r with the retries: 0 when the service answered 2xx, else the error
 * raised (404 too: the caller decides what a missing key means). */
static int request(s3_client *c, req *r)
{
	CURL *h = handle_get(c);
	if (!h)
		return err_set(CAIRN_ENOMEM, "out of memory");
	buf_init_cap(&r->err, ERR_BODY_MAX);
	CURLcode cc = CURLE_OK;
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		if (attempt) {
			struct timespec ts = {0, attempt == 1 ? 100000000L : 400000000L};
			nanosleep(&ts, NULL);
		}
		cc = perform(c, h, r);
		if (!transient(cc, r->status) || r->got > 0 || r->once)
			break;
	}
	int rc = 0;
	if (cc != CURLE_OK || r->too_big || r->werr || r->status < 200 || r->status > 299)
		rc = explain(c, r, cc);
	if (!r->keep_body || rc)
		buf_free(&r->err);
	handle_put(c, h);
	return rc;
}

#define REQ_INIT(m, o)                                                                             \
	{                                                                                          \
		.method = (m), .oid = (o), .in_fd = -1, .out_fd = -1                               \
	}

int s3_head(s3_client *c, const char *oid)
{
	req r = REQ_INIT("HEAD", oid);
	int rc = request(c, &r);
	if (rc == 0)
		return 1;
	if (r.status == 404)
		return 0; /* the key, or the bucket: a PUT will tell which */
	if (r.status >= 400 && r.status != 404) {
		/* no body to say why: ask again with a one-byte GET */
		req g = REQ_INIT("GET", oid);
		g.range = "0-0";
		int grc = request(c, &g);
		if (grc == 0 || g.status == 404)
			return grc == 0 ? 1 : 0;
		return grc;
	}
	return rc;
}

/* --- multipart upload ---------------------------------------------------- */

/* The SHA-256 of fd's bytes off..off+n, in hex: each part's
 * x-amz-content-sha256, so the service checks every part's bytes. */
static int part_sha(int fd, int64_t off, int64_t n, char out[65])
{
	sha_ctx *h = sha_new();
	char *b = malloc(1 << 20);
	int rc = 0;
	while (rc == 0 && h && b && n > 0) {
		ssize_t k = pread(fd, b, (size_t)(n < (1 << 20) ? n : (1 << 20)), off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			rc = err_set(CAIRN_EIO, "cannot read the object to upload: %s",
			             k < 0 ? strerror(errno) : "the file shrank");
		else {
			sha_update(h, b, (size_t)k);
			off += k;
			n -= k;
		}
	}
	if (rc == 0 && (!h || !b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc == 0)
		sha_final_hex(h, out); /* frees h */
	else
		sha_free(h);
	free(b);
	return rc;
}

/* The answer to CreateMultipartUpload or CompleteMultipartUpload (a 200
 * that may still carry an <Error>): 0 when its root is `root`, with the
 * text at `path` in out when path is not NULL; else the error. */
static int mp_answer(s3_client *c, const req *r, const char *op, const char *root, const char *path,
                     char *out, size_t outn)
{
	char code[64], msg[200];
	const char *doc = r->err.len ? r->err.ptr : "";
	if (s3_xml_text(doc, r->err.len, "Error/Code", code, sizeof code) == 1) {
		if (s3_xml_text(doc, r->err.len, "Error/Message", msg, sizeof msg) != 1)
			msg[0] = '\0';
		return err_set(CAIRN_EIO, "cannot write objects to %s: %s failed: %s%s%s", c->uri,
		               op, code, msg[0] ? ": " : "", msg);
	}
	bool got = s3_xml_text(doc, r->err.len, root, NULL, 0) == 1;
	if (path && got)
		got = s3_xml_text(doc, r->err.len, path, out, outn) == 1 &&
		      s3_token_ok(out, outn - 1);
	if (!got)
		return err_set(CAIRN_EIO,
		               "the object store %s gave an answer to %s that is not one "
		               "(HTTP %ld, no well-formed <%s>%s%s)",
		               c->endpoint, op, r->status, root, path ? " with " : "",
		               path ? strchr(path, '/') + 1 : "");
	return 0;
}

/* The part size for size bytes: the configured one, grown (in MiB) so that
 * at most MP_PARTS_MAX parts are needed. */
static int64_t part_size_for(const s3_client *c, int64_t size)
{
	int64_t p = c->mp_part;
	int64_t least = (size + MP_PARTS_MAX - 1) / MP_PARTS_MAX;
	if (p < least)
		p = (least + MiB - 1) / MiB * MiB;
	return p;
}

static int put_multipart(s3_client *c, const char *oid, int fd, int64_t size)
{
	if (size > MP_OBJECT_MAX)
		return err_set(CAIRN_ETOOBIG,
		               "object %.64s is %lld bytes: an S3 object is at most 5 TiB", oid,
		               (long long)size);
	int64_t psize = part_size_for(c, size);
	int nparts = (int)((size + psize - 1) / psize);
	char upload_id[1024 + 1], sha[65];
	buf q = BUF_INIT, body = BUF_INIT;

	/* CreateMultipartUpload: POST ?uploads */
	req cr = REQ_INIT("POST", oid);
	cr.query = "uploads=";
	cr.keep_body = true;
	cr.once = true;
	int rc = request(c, &cr);
	if (rc == 0) {
		rc = mp_answer(c, &cr, "CreateMultipartUpload", "InitiateMultipartUploadResult",
		               "InitiateMultipartUploadResult/UploadId", upload_id,
		               sizeof upload_id);
		buf_free(&cr.err);
	}
	if (rc)
		return rc;

	/* UploadPart for each, keeping the ETags for the list */
	buf_printf(&body, "<CompleteMultipartUpload "
	                  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (int part = 1; rc == 0 && part <= nparts; part++) {
		int64_t off = (int64_t)(part - 1) * psize;
		int64_t n = size - off < psize ? size - off : psize;
		buf_clear(&q);
		buf_printf(&q, "partNumber=%d&uploadId=%s", part, upload_id);
		req pr = REQ_INIT("PUT", oid);
		pr.query = q.ptr;
		pr.in_fd = fd;
		pr.in_off = off;
		pr.in_size = n;
		pr.payload_sha = sha;
		if ((rc = part_sha(fd, off, n, sha)) != 0)
			;
		else if (!buf_ok(&q))
			rc = err_set(CAIRN_ENOMEM, "out of memory");
		else if ((rc = request(c, &pr)) == 0 && pr.etag_bad != 1)
			rc = err_set(CAIRN_EIO,
			             "the object store %s answered UploadPart without a valid ETag",
			             c->endpoint);
		if (rc == 0)
			buf_printf(&body, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
			           part, pr.etag);
		else
			err_wrap(rc, "cannot upload part %d of %d of object %.12s…", part, nparts,
			         oid);
	}
	if (rc == 0) {
		buf_printf(&body, "</CompleteMultipartUpload>");
		buf_clear(&q);
		buf_printf(&q, "uploadId=%s", upload_id);
		if (!buf_ok(&body) || !buf_ok(&q) || sha_buf_hex(body.ptr, body.len, sha) != 0)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		/* CompleteMultipartUpload: POST ?uploadId with the list */
		req cm = REQ_INIT("POST", oid);
		cm.query = q.ptr;
		cm.body = body.ptr;
		cm.body_len = body.len;
		cm.content_type = "application/xml";
		cm.payload_sha = sha;
		cm.keep_body = true;
		rc = request(c, &cm);
		if (rc == 0) {
			rc = mp_answer(c, &cm, "CompleteMultipartUpload",
			               "CompleteMultipartUploadResult", NULL, NULL, 0);
			buf_free(&cm.err);
		}
	}
	if (rc) {
		/* AbortMultipartUpload: DELETE ?uploadId, so no part is left behind */
		char saved[1024];
		snprintf(saved, sizeof saved, "%s", cairn_error_last());
		buf_clear(&q);
		buf_printf(&q, "uploadId=%s", upload_id);
		req ab = REQ_INIT("DELETE", oid);
		ab.query = q.ptr;
		int arc = buf_ok(&q) ? request(c, &ab) : CAIRN_ENOMEM;
		if (arc && arc != CAIRN_ENOTFOUND)
			err_set(rc, "%s (and its parts could not be removed: %s)", saved,
			        cairn_error_last());
		else
			err_set(rc, "%s (the upload was aborted)", saved);
	}
	buf_free(&q);
	buf_free(&body);
	return rc;
}

int s3_put_file(s3_client *c, const char *oid, const char *path, int64_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(CAIRN_EIO, "cannot read '%s': %s", path, strerror(errno));
	int rc;
	if (size > c->mp_threshold) {
		rc = put_multipart(c, oid, fd, size);
	} else {
		req r = REQ_INIT("PUT", oid);
		r.in_fd = fd;
		r.in_size = size;
		r.payload_sha = oid;
		rc = request(c, &r);
	}
	close(fd);
	return rc;
}

int s3_get_fd(s3_client *c, const char *oid, int fd, uint64_t cap, sha_ctx *sha, int64_t *out_size)
{
	req r = REQ_INIT("GET", oid);
	r.out_fd = fd;
	r.cap = cap;
	r.sha = sha;
	int rc = request(c, &r);
	if (out_size)
		*out_size = r.got;
	return rc;
}

int s3_delete(s3_client *c, const char *oid)
{
	req r = REQ_INIT("DELETE", oid);
	int rc = request(c, &r);
	return rc == CAIRN_ENOTFOUND ? 0 : rc;
}

/* A GET of a key no object has (64 zeros): NoSuchKey says the bucket is
 * there and readable with these credentials; anything else is the error.
 * (Not a listing: it needs the ListBucket permission, which a store does
 * not, and s3rver 3.7.1 fails truncated listings on OpenSSL 3.) */
int s3_check(s3_client *c)
{
	static const char zero[] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	req r = REQ_INIT("GET", zero);
	int rc = request(c, &r);
	return rc == CAIRN_ENOTFOUND ? 0 : rc;
}

int s3_presign(s3_client *c, const char *oid, int expires, const char *disposition,
               const char *content_type, char **out_url)
{
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s%s%.2s/%s", c->path0, c->prefix, *c->prefix ? "/" : "", oid,
	           oid + 2);
	if (!buf_ok(&path)) {
		buf_free(&path);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	s3_sign_info si = {.host = c->host,
	                   .path = path.ptr,
	                   .url_base = c->base,
	                   .region = c->cfg.region,
	                   .key_id = c->cfg.key_id,
	                   .secret = c->cfg.secret,
	                   .token = c->cfg.token};
	int rc =
	    s3_presign_url(&si, (int64_t)time(NULL), expires, disposition, content_type, out_url);
	buf_free(&path);
	return rc;
}
