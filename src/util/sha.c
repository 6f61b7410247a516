/*
 * util/sha.c — SHA-256 through libcrypto's EVP (the table of util/evp.h,
 * loaded by the first sha_new or sha_buf_hex), hex encoding, and the
 * kernel's random bytes.  A context is one EVP_MD_CTX set up for SHA-256.
 */
#include "util/sha.h"

#include "util/evp.h"
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <errno.h>

struct sha_ctx {
	EVP_MD_CTX *md;
};

sha_ctx *sha_new(void)
{
	if (evp_load() != 0)
		return NULL;
	sha_ctx *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	c->md = evp.MD_CTX_new();
	if (!c->md || evp.DigestInit_ex(c->md, evp.sha256(), NULL) != 1) {
		evp.MD_CTX_free(c->md);
		free(c);
		return NULL;
	}
	return c;
}

void sha_update(sha_ctx *c, const void *data, size_t len)
{
	evp.DigestUpdate(c->md, data, len);
}

void sha_final_hex(sha_ctx *c, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	evp.DigestFinal_ex(c->md, md, &n);
	hex_encode(out, md, 32);
	sha_free(c);
}

void sha_free(sha_ctx *c)
{
	if (!c)
		return;
	evp.MD_CTX_free(c->md);
	free(c);
}

int sha_buf_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (evp_load() != 0 || evp.Digest(data, len, md, &n, evp.sha256(), NULL) != 1) {
		out[0] = '\0';
		return -1;
	}
	hex_encode(out, md, 32);
	return 0;
}

const char *sha_error(void)
{
	return evp_load() != 0 ? evp_error() : NULL;
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

bool hex_is(const char *s, size_t n)
{
	if (!s)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *hex_decode_dup(const char *hex, size_t *out_len)
{
	size_t n = strlen(hex);
	if (n % 2)
		return NULL;
	n /= 2;
	char *b = malloc(n + 1);
	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return NULL;
		}
		b[i] = (char)(hi * 16 + lo);
	}
	b[n] = '\0';
	*out_len = n;
	return b;
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
