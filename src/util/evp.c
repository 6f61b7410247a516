/*
 * util/evp.c — libcrypto's table (see evp.h).  CAIRN_SONAME_CRYPTO is set
 * by the Makefile from the libcrypto.so the headers came with.
 */
#include "util/evp.h"

#include <openssl/crypto.h>

#ifndef CAIRN_SONAME_CRYPTO
#error "CAIRN_SONAME_CRYPTO (the soname of libcrypto) comes from the Makefile"
#endif

struct evp_api evp;

#define EVP_NAME(f) DL_NAME(EVP_, f)
static const char *const names[] = {EVP_FUNCS(EVP_NAME) NULL};
#undef EVP_NAME

_Static_assert(sizeof(struct evp_api) ==
                   (sizeof names / sizeof names[0] - 1) * sizeof(void (*)(void)),
               "struct evp_api holds one function pointer per name");

static dl_lib lib = DL_LIB_INIT("libcrypto", CAIRN_SONAME_CRYPTO, names, &evp);

int evp_load(void)
{
	return dl_load(&lib);
}

const char *evp_error(void)
{
	return dl_error(&lib);
}

/* CRYPTO_memcmp, the constant-time comparison, is not an EVP_ function: a
 * table of its own in the same library (dlopen hands back the same handle). */
static struct {
	__typeof__(CRYPTO_memcmp) *memcmp_ct;
} crypto;
static const char *const crypto_names[] = {"CRYPTO_memcmp", NULL};
static dl_lib crypto_lib = DL_LIB_INIT("libcrypto", CAIRN_SONAME_CRYPTO, crypto_names, &crypto);

int evp_memeq(const void *a, const void *b, size_t n)
{
	if (dl_load(&crypto_lib) != 0)
		return -1;
	return crypto.memcmp_ct(a, b, n) == 0;
}
