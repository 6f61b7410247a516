/*
 * util/sha.c — see sha.h.
 */
#include "util/sha.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/random.h>
#include <errno.h>

struct sha_ctx {
	EVP_MD_CTX *md;
};

sha_ctx *sha_new(void)
{
	sha_ctx *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	c->md = EVP_MD_CTX_new();
	if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c->md);
		free(c);
		return NULL;
	}
	return c;
}

void sha_update(sha_ctx *c, const void *data, size_t len)
{
	EVP_DigestUpdate(c->md, data, len);
}

void sha_final_hex(sha_ctx *c, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(c->md, md, &n);
	hex_encode(out, md, 32);
	sha_free(c);
}

void sha_free(sha_ctx *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

void sha_buf_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	hex_encode(out, md, 32);
}

void hex_encode(char *out, const unsigned char *in, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int random_bytes(void *out, size_t n)
{
	unsigned char *p = out;
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
