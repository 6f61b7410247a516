/*
 * util/evp.h — the part of OpenSSL's libcrypto that cairn calls (SHA-256
 * object ids, sha256/md5 data digests, HMAC-SHA256 for presigned S3 URLs),
 * loaded on first use (util/dl.h).
 *
 * Callers run evp_load() before touching the table: 0 when libcrypto is
 * there, -1 with evp_error() saying why not.  Then evp.DigestInit_ex(...)
 * is EVP_DigestInit_ex(...), with its own prototype.
 *
 * Thread-safety: evp_load() is safe from any thread; the loaded table is
 * read-only.
 */
#ifndef CAIRN_UTIL_EVP_H
#define CAIRN_UTIL_EVP_H

#include <openssl/evp.h>

#include "util/dl.h"

#define EVP_FUNCS(X)                                                                               \
	X(MD_fetch)                                                                                \
	X(MD_free)                                                                                 \
	X(MD_CTX_new)                                                                              \
	X(MD_CTX_free)                                                                             \
	X(DigestInit_ex)                                                                           \
	X(DigestUpdate)                                                                            \
	X(DigestFinal_ex)                                                                          \
	X(Digest)                                                                                  \
	X(sha256)                                                                                  \
	X(Q_mac)

#define EVP_SLOT(f) DL_SLOT(EVP_, f)
struct evp_api {
	EVP_FUNCS(EVP_SLOT)
};
#undef EVP_SLOT

extern struct evp_api evp;

int evp_load(void);
/* libcrypto's CRYPTO_memcmp: 1 when the n bytes are equal, 0 when not, in
 * time that does not depend on where they differ; -1 when libcrypto cannot
 * be loaded. */
int evp_memeq(const void *a, const void *b, size_t n);
const char *evp_error(void);

#endif
