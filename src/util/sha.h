/*
 * util/sha.h — streaming SHA-256 (OpenSSL libcrypto EVP) and hex helpers.
 * A sha_ctx belongs to one thread at a time.  libcrypto is loaded by the
 * first sha_new/sha_buf_hex (util/evp.h): when it cannot be, sha_new gives
 * NULL, sha_buf_hex -1, and sha_error() says why.
 */
#ifndef CAIRN_UTIL_SHA_H
#define CAIRN_UTIL_SHA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sha_ctx sha_ctx;

/* NULL when out of memory or libcrypto cannot be loaded (sha_error()). */
sha_ctx *sha_new(void);
void sha_update(sha_ctx *c, const void *data, size_t len);
/* Writes 64 hex digits + NUL and frees the context. */
void sha_final_hex(sha_ctx *c, char out[65]);
void sha_free(sha_ctx *c);
/* 0, or -1 with out "" when libcrypto cannot be loaded. */
int sha_buf_hex(const void *data, size_t len, char out[65]);
/* NULL when libcrypto is loaded (or loads now), else why it cannot be. */
const char *sha_error(void);

void hex_encode(char *out, const unsigned char *in, size_t n); /* writes 2n+1 */
/* Is s exactly n lower-case hex digits (an id, an object id)?  NULL: no. */
bool hex_is(const char *s, size_t n);
/* The value of one hex digit (either case), -1 for any other byte. */
int hex_value(char c);
/* The bytes of an even-length hex string, NUL-terminated and malloc'ed,
 * their number in *out_len; NULL when out of memory or not hex. */
char *hex_decode_dup(const char *hex, size_t *out_len);
/* Fill `n` bytes from the kernel's CSPRNG (getrandom). 0 or -1. */
int random_bytes(void *out, size_t n);

#endif
