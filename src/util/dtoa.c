/*
 * util/dtoa.c — see dtoa.h.
 *
 * Method (exact, no floating point): a non-integer v with 1e-5 <= |v| < 1e15
 * is m·2^-s with m < 2^53 and 0 < s <= 70.  Choosing k so that v·10^k has 17
 * digits before the point (k <= 21), v·10^k = m·10^k / 2^s, and m·10^k <
 * 2^53·10^21 < 2^123 fits in unsigned __int128: the integer part N, and the
 * remainder, are exact.  Rounding N (with the remainder) half-to-even to 15,
 * 16 or 17 digits gives exactly the digits printf's %.15g/%.16g/%.17g print.
 * A candidate reads back as v iff it lies inside v's rounding interval,
 * (4m-g)·2^-(s+2) .. (4m+2)·2^-(s+2) (g = 1 at a power of two, else 2),
 * boundaries included when m is even (strtod rounds ties to even); scaled by
 * 10^k those bounds are below 2^54·10^21 < 2^127, so the test is exact too.
 * The first of 15, 16, 17 digits that reads back is the answer: by DBL_DIG
 * (15), if any shorter decimal reads back as v, the 15-digit rounding is
 * that decimal padded with zeros, which %g strips.
 *
 * Everything else (integers, tiny, subnormal or huge magnitudes, where the
 * DBL_DIG argument does not hold) takes the printf loop from 6 digits, as
 * json_num always did.
 */
#include "util/dtoa.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

size_t dtoa_shortest_slow(char out[32], double v)
{
	for (int p = 6; p <= 17; p++) {
		snprintf(out, 32, "%.*g", p, v);
		if (p == 17 || strtod(out, NULL) == v)
			break;
	}
	return strlen(out);
}

static const uint64_t pow10_u64[] = {1ull,
                                     10ull,
                                     100ull,
                                     1000ull,
                                     10000ull,
                                     100000ull,
                                     1000000ull,
                                     10000000ull,
                                     100000000ull,
                                     1000000000ull,
                                     10000000000ull,
                                     100000000000ull,
                                     1000000000000ull,
                                     10000000000000ull,
                                     100000000000000ull,
                                     1000000000000000ull,
                                     10000000000000000ull,
                                     100000000000000000ull,
                                     1000000000000000000ull,
                                     10000000000000000000ull};

static const char digits2[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546"
    "4748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293"
    "949596979899";

char *dtoa_u64(char *end, unsigned long long u)
{
	char *p = end;
	while (u >= 100) {
		unsigned d = (unsigned)(u % 100) * 2;
		u /= 100;
		*--p = digits2[d + 1];
		*--p = digits2[d];
	}
	if (u >= 10) {
		*--p = digits2[u * 2 + 1];
		*--p = digits2[u * 2];
	} else {
		*--p = (char)('0' + u);
	}
	return p;
}

static u128 pow10_u128(int k)
{
	return k <= 19 ? (u128)pow10_u64[k] : (u128)pow10_u64[19] * pow10_u64[k - 19];
}

/* Compare d with num / 2^t exactly: -1, 0, +1. */
static int cmp_scaled(uint64_t d, u128 num, int t)
{
	u128 q = num >> t;
	bool rem = (num & (((u128)1 << t) - 1)) != 0;
	if ((u128)d > q)
		return 1;
	if ((u128)d < q)
		return -1;
	return rem ? -1 : 0;
}

size_t dtoa_shortest(char out[32], double v)
{
	double a = fabs(v);
	if (!(a >= 1e-5 && a < 1e15) || v == floor(v))
		return dtoa_shortest_slow(out, v);
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	int bexp = (int)((bits >> 52) & 0x7ff);
	uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
	int s = 1075 - bexp; /* v = m * 2^-s */
	if (s <= 0 || s > 100)
		return dtoa_shortest_slow(out, v);
	/* k such that v * 10^k is in [1e16, 1e17): floor(log10(2^e2)) is
	 * (e2 * 78913) >> 18, at most one below the decimal exponent of v */
	int e2 = bexp - 1023;
	int e10 = (e2 * 78913) >> 18;
	int k = 16 - e10;
	if (k < 0 || k > 21)
		return dtoa_shortest_slow(out, v);
	u128 num = (u128)m * pow10_u128(k);
	u128 n128 = num >> s;
	if (n128 >= (u128)pow10_u64[17]) {
		if (--k < 0)
			return dtoa_shortest_slow(out, v);
		num = (u128)m * pow10_u128(k);
		n128 = num >> s;
	}
	if (n128 < (u128)pow10_u64[16] || n128 >= (u128)pow10_u64[17])
		return dtoa_shortest_slow(out, v);
	uint64_t N = (uint64_t)n128;
	u128 rmask = ((u128)1 << s) - 1;
	u128 rem = num & rmask; /* fraction = rem / 2^s */
	u128 half = (u128)1 << (s - 1);
	/* the rounding interval, scaled by 10^k, over 2^(s+2) */
	bool pow2 = m == (1ull << 52) && bexp > 1;
	u128 pk = pow10_u128(k);
	u128 lo = ((u128)4 * m - (pow2 ? 1 : 2)) * pk;
	u128 hi = ((u128)4 * m + 2) * pk;
	bool inclusive = (m & 1) == 0;
	int E = 16 - k;
	uint64_t D = 0;
	int p;
	for (p = 15; p <= 17; p++) {
		int j = 17 - p;
		uint64_t pj = j == 2 ? 100 : j == 1 ? 10 : 1;
		D = j == 2 ? N / 100 : j == 1 ? N / 10 : N;
		uint64_t r = N - D * pj;
		bool up;
		if (j == 0) {
			up = rem > half || (rem == half && (D & 1));
		} else {
			/* compare r + frac with pj / 2 */
			uint64_t h = pj / 2;
			if (r > h)
				up = true;
			else if (r < h)
				up = false;
			else
				up = rem > 0 || (D & 1);
		}
		if (up)
			D++;
		uint64_t Ds = D * pj; /* back at N's scale (<= 1e17) */
		int cl = cmp_scaled(Ds, lo, s + 2), ch = cmp_scaled(Ds, hi, s + 2);
		bool ok = inclusive ? (cl >= 0 && ch <= 0) : (cl > 0 && ch < 0);
		if (ok || p == 17)
			break;
	}
	/* digits of D (p of them, or p+1 when rounding carried to 10^p) */
	char dig[24];
	int nd = 0;
	int Eo = E;
	if (D == pow10_u64[p]) {
		D = pow10_u64[p - 1];
		Eo++;
	}
	{
		char tmp[24], *e = tmp + sizeof tmp, *d = dtoa_u64(e, D);
		nd = (int)(e - d);
		memcpy(dig, d, (size_t)nd);
	}
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	char *o = out;
	if (v < 0)
		*o++ = '-';
	if (Eo < -4 || Eo >= p) {
		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		int ex = Eo < 0 ? -Eo : Eo;
		*o++ = 'e';
		*o++ = Eo < 0 ? '-' : '+';
		if (ex >= 100)
			*o++ = (char)('0' + ex / 100);
		*o++ = (char)('0' + ex / 10 % 10);
		*o++ = (char)('0' + ex % 10);
	} else if (Eo >= 0) {
		for (int i = 0; i <= Eo; i++)
			*o++ = i < nd ? dig[i] : '0';
		if (nd > Eo + 1) {
			*o++ = '.';
			memcpy(o, dig + Eo + 1, (size_t)(nd - Eo - 1));
			o += nd - Eo - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -Eo - 1; i++)
			*o++ = '0';
		memcpy(o, dig, (size_t)nd);
		o += nd;
	}
	*o = '\0';
	return (size_t)(o - out);
}
