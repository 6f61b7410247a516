/*
 * lib/data/digest.c — the three digest algorithms of data versions behind one
 * small context type.
 *
 * xxh128 is XXH3-128 from libxxhash, through its x86 dispatch entry points so
 * the AVX2/AVX-512 kernels are used when the CPU has them (the plain entry
 * points of Debian's build are SSE2 only: 14 against 42 GB/s here).  Its hex
 * form is the canonical (big-endian) one that `xxh128sum` prints.  sha256 and
 * md5 go through libcrypto's EVP with the EVP_MD fetched once per context:
 * an implicit fetch on every EVP_DigestInit_ex costs more than hashing a
 * 4 KiB file.  libcrypto is loaded (util/evp.h) by the first context that
 * needs it, so xxh128, the default, never maps it.
 *
 * A digest_ctx belongs to one thread at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xxh_x86dispatch.h>
#define XXH128_UPDATE  XXH3_128bits_update_dispatch
#define XXH128_ONESHOT XXH3_128bits_dispatch
#else
#define XXH128_UPDATE  XXH3_128bits_update
#define XXH128_ONESHOT XXH3_128bits
#endif

#include "lib/data/data.h"
#include "util/evp.h"
#include "util/sha.h"

static const char *const algo_names[] = {"xxh128", "sha256", "md5"};

int algo_parse(data_algo *out, const char *name)
{
	if (!name || !*name || strcasecmp(name, "xxh128") == 0 || strcasecmp(name, "xxh3") == 0 ||
	    strcasecmp(name, "xxh3-128") == 0) {
		*out = ALGO_XXH128;
		return 0;
	}
	if (strcasecmp(name, "sha256") == 0 || strcasecmp(name, "sha-256") == 0) {
		*out = ALGO_SHA256;
		return 0;
	}
	if (strcasecmp(name, "md5") == 0) {
		*out = ALGO_MD5;
		return 0;
	}
	return err_set(CAIRN_EINVALID, "unknown digest '%.40s' (expected xxh128, sha256 or md5)",
	               name);
}

const char *algo_name(data_algo a)
{
	return (unsigned)a < 3 ? algo_names[a] : "unknown";
}

size_t algo_hexlen(data_algo a)
{
	return a == ALGO_SHA256 ? 64 : 32;
}

int digest_ctx_init(digest_ctx *c, data_algo a)
{
	memset(c, 0, sizeof *c);
	c->algo = a;
	if (a == ALGO_XXH128) {
		c->xxh = XXH3_createState();
		if (!c->xxh)
			return err_set(CAIRN_ENOMEM, "out of memory");
		return 0;
	}
	if (evp_load() != 0)
		return err_set(CAIRN_ERROR, "%s", evp_error());
	c->md = evp.MD_fetch(NULL, a == ALGO_SHA256 ? "SHA256" : "MD5", NULL);
	c->evp = evp.MD_CTX_new();
	if (!c->md || !c->evp) {
		digest_ctx_free(c);
		return err_set(CAIRN_ERROR, "the %s digest is not available from libcrypto",
		               algo_name(a));
	}
	return 0;
}

void digest_ctx_free(digest_ctx *c)
{
	if (!c)
		return;
	if (c->xxh)
		XXH3_freeState(c->xxh);
	if (c->evp)
		evp.MD_CTX_free(c->evp);
	if (c->md)
		evp.MD_free(c->md);
	memset(c, 0, sizeof *c);
}

void digest_begin(digest_ctx *c)
{
	if (c->algo == ALGO_XXH128)
		XXH3_128bits_reset(c->xxh);
	else
		evp.DigestInit_ex(c->evp, c->md, NULL);
}

void digest_update(digest_ctx *c, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (c->algo == ALGO_XXH128)
		XXH128_UPDATE(c->xxh, p, n);
	else
		evp.DigestUpdate(c->evp, p, n);
}

static void xxh_hex(XXH128_hash_t h, char *out)
{
	XXH128_canonical_t canon;
	XXH128_canonicalFromHash(&canon, h);
	hex_encode(out, canon.digest, sizeof canon.digest);
}

void digest_end_hex(digest_ctx *c, char out[DIGEST_HEX_MAX + 1])
{
	if (c->algo == ALGO_XXH128) {
		xxh_hex(XXH3_128bits_digest(c->xxh), out);
		return;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	evp.DigestFinal_ex(c->evp, md, &n);
	hex_encode(out, md, n);
}

void digest_buf_hex(digest_ctx *c, const void *p, size_t n, char out[DIGEST_HEX_MAX + 1])
{
	if (c->algo == ALGO_XXH128) {
		xxh_hex(XXH128_ONESHOT(p, n), out);
		return;
	}
	digest_begin(c);
	digest_update(c, p, n);
	digest_end_hex(c, out);
}

/* --- problems ------------------------------------------------------------------ */

void problems_add(problems *p, const char *path, const char *msg)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		problem *nv = realloc(p->v, ncap * sizeof *nv);
		if (!nv)
			return;
		p->v = nv;
		p->cap = ncap;
	}
	char *a = strdup(path ? path : ""), *b = strdup(msg ? msg : "");
	if (!a || !b) {
		free(a);
		free(b);
		return;
	}
	p->v[p->n].path = a;
	p->v[p->n].msg = b;
	p->n++;
}

void problems_free(problems *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].msg);
	}
	free(p->v);
	memset(p, 0, sizeof *p);
}

void problems_merge(problems *to, problems *from)
{
	for (size_t i = 0; i < from->n; i++)
		problems_add(to, from->v[i].path, from->v[i].msg);
	problems_free(from);
}
