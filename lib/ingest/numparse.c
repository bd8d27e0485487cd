/*
 * Fast, exact decimal parsing for the ingest hot path.
 *
 * Traces are mostly numbers (Bitbrains: ten per line, often with 16-17
 * significant digits), and strtod is slow: it handles locales, hexadecimal
 * and arbitrary precision on every call. This parser reads the digits into
 * a 64-bit integer w and a decimal exponent q (value = w * 10^q) and then
 * takes the first of these paths that applies:
 *
 *  1. Clinger's fast path (W. D. Clinger, "How to Read Floating Point
 *     Numbers Accurately", PLDI 1990): when w < 2^53 and |q| <= 22 both w
 *     and 10^|q| are exact doubles, so one IEEE multiply or divide rounds
 *     exactly once and gives the correctly rounded result.
 *  2. 0 <= q <= 19: w * 10^q is an exact 128-bit integer; it is rounded to
 *     53 bits by hand (round half to even).
 *  3. -19 <= q < 0 with w >= 2^53 (the 17-digit case): a first guess
 *     d = w / 10^k (k = -q) is within two units in the last place; it is
 *     then checked exactly. With d = m * 2^e, the true value lies above the
 *     midpoint between d and its upper neighbour iff
 *     w * 2^(1-e) > (2m+1) * 10^k, two integers below 2^128 here, so one
 *     128-bit comparison decides; the guess moves one ulp at a time until
 *     the value lies between its two midpoints, ties going to even.
 *  4. Anything else (more than 19 significant digits, tiny or huge
 *     exponents) is handed to strtod.
 *
 * The unit tests compare the result with strtod bit for bit on a million
 * random strings and on the edge cases (ties, powers of two, 2^53 + 1).
 * The arithmetic assumes doubles are evaluated in double precision
 * (FLT_EVAL_METHOD == 0, as on x86-64 and arm64); elsewhere everything
 * goes to strtod.
 */
#include <errno.h>
#include <float.h>
#include <math.h>

#include "internal.h"
#include "numparse.h"

__extension__ typedef unsigned __int128 num_u128;

static const double pow10_exact[23] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static const uint64_t pow10_u64[20] = {
	1ULL,
	10ULL,
	100ULL,
	1000ULL,
	10000ULL,
	100000ULL,
	1000000ULL,
	10000000ULL,
	100000000ULL,
	1000000000ULL,
	10000000000ULL,
	100000000000ULL,
	1000000000000ULL,
	10000000000000ULL,
	100000000000000ULL,
	1000000000000000ULL,
	10000000000000000ULL,
	100000000000000000ULL,
	1000000000000000000ULL,
	10000000000000000000ULL,
};

static int lower_eq(const char *s, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!word[i] || c != word[i])
			return 0;
	}
	return word[n] == '\0';
}

static int parse_nonfinite(const char *s, size_t len, double *out)
{
	int neg = 0;

	if (len && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		s++;
		len--;
	}
	if (lower_eq(s, len, "nan")) {
		*out = neg ? -NAN : NAN;
		return INGEST_NUM_NONFINITE;
	}
	if (lower_eq(s, len, "inf") || lower_eq(s, len, "infinity")) {
		*out = neg ? -INFINITY : INFINITY;
		return INGEST_NUM_NONFINITE;
	}
	return INGEST_NUM_SYNTAX;
}

/* strtod on a copy with a terminating NUL: the slow, general path. */
static int parse_slow(const char *s, size_t len, double *out)
{
	char stackbuf[512], *buf = stackbuf;
	char *end;
	double v;
	int result = INGEST_NUM_OK;

	if (len >= sizeof(stackbuf) && !(buf = malloc(len + 1)))
		return INGEST_NUM_SYNTAX;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (end != buf + len)
		result = INGEST_NUM_SYNTAX;
	else if (errno == ERANGE && isinf(v))
		result = INGEST_NUM_RANGE;
	*out = v;
	if (buf != stackbuf)
		free(buf);
	return result;
}

/* An exact 128-bit integer rounded to the nearest double (ties to even). */
static double u128_to_double(num_u128 p)
{
	uint64_t hi = (uint64_t)(p >> 64), mant;
	int sh;
	num_u128 rem, half;

	if (hi == 0)
		return (double)(uint64_t)p; /* one correctly rounded conversion */
	sh = 64 - __builtin_clzll(hi) + 64 - 53;
	mant = (uint64_t)(p >> sh);
	rem = p & (((num_u128)1 << sh) - 1);
	half = (num_u128)1 << (sh - 1);
	if (rem > half || (rem == half && (mant & 1)))
		mant++; /* may reach 2^53: still exact */
	return ldexp((double)mant, sh);
}

/*
 * Sign of w / 10^k minus the midpoint between d (> 0, finite) and the next
 * double above it; 2 when the operands do not fit in 128 bits.
 */
static int cmp_midpoint_above(uint64_t w, unsigned k, double d)
{
	uint64_t bits, m;
	int be, e, sh;
	num_u128 lhs = w, rhs;

	memcpy(&bits, &d, sizeof(bits));
	be = (int)((bits >> 52) & 0x7ff);
	m = bits & ((1ULL << 52) - 1);
	if (be) {
		m |= 1ULL << 52;
		e = be - 1075;
	} else {
		e = -1074;
	}
	/* d = m 2^e, midpoint = (2m + 1) 2^(e-1) */
	rhs = (num_u128)(2 * m + 1) * pow10_u64[k];
	sh = 1 - e;
	if (sh >= 0) {
		if (sh >= 127 || (lhs >> (127 - sh)) != 0)
			return 2;
		lhs <<= sh;
	} else {
		sh = -sh;
		if (sh >= 127 || (rhs >> (127 - sh)) != 0)
			return 2;
		rhs <<= sh;
	}
	return lhs < rhs ? -1 : lhs > rhs;
}

static double next_up(double d)
{
	uint64_t b;
	memcpy(&b, &d, sizeof(b));
	b++;
	memcpy(&d, &b, sizeof(b));
	return d;
}

static double next_down(double d)
{
	uint64_t b;
	memcpy(&b, &d, sizeof(b));
	b--;
	memcpy(&d, &b, sizeof(b));
	return d;
}

static int mantissa_odd(double d)
{
	uint64_t b;
	memcpy(&b, &d, sizeof(b));
	return (int)(b & 1);
}

/* w / 10^k correctly rounded (path 3); 0 when it must go to strtod. */
static int divide_exact(uint64_t w, unsigned k, double *out)
{
	double d = (double)w / pow10_exact[k];

	for (int it = 0; it < 8; it++) {
		int c = cmp_midpoint_above(w, k, d);
		if (c == 2)
			return 0;
		if (c > 0) {
			d = next_up(d);
			continue;
		}
		if (c == 0) { /* halfway up: ties go to the even mantissa */
			if (mantissa_odd(d))
				d = next_up(d);
			*out = d;
			return 1;
		}
		double lo = next_down(d);
		c = cmp_midpoint_above(w, k, lo);
		if (c == 2)
			return 0;
		if (c < 0) {
			d = lo;
			continue;
		}
		if (c == 0 && mantissa_odd(d))
			d = lo;
		*out = d;
		return 1;
	}
	return 0;
}

/*
 * The mantissa digits starting at s[i], at most 19 of them counting
 * leading zeros (then none can overflow and no bookkeeping is needed):
 * *w, the decimal exponent *q, and the index after them; 0 when there are
 * more digits, or none.
 */
static size_t mantissa_short(const char *s, size_t len, size_t i,
			     uint64_t *w, int64_t *q)
{
	size_t start = i, nint, nfrac = 0;
	uint64_t v = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	nint = i - start;
	if (i < len && s[i] == '.') {
		size_t fs = ++i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			v = v * 10 + (uint64_t)(s[i] - '0');
		nfrac = i - fs;
	}
	if (nint + nfrac == 0 || nint + nfrac > 19)
		return 0;
	*w = v;
	*q = -(int64_t)nfrac;
	return i;
}

int ingest_parse_double(const char *s, size_t len, double *out)
{
	size_t i = 0, e;
	int neg = 0, any = 0, lost = 0, nd = 0;
	uint64_t w = 0;
	int64_t q = 0;
	double v;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if ((e = mantissa_short(s, len, i, &w, &q))) {
		i = e;
		any = 1;
		goto exponent;
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned dg = (unsigned)(s[i] - '0');
		any = 1;
		if (w == 0 && dg == 0)
			continue; /* leading zero */
		if (nd < 19) {
			w = w * 10 + dg;
			nd++;
		} else {
			q++;
			lost |= dg != 0;
		}
	}
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			unsigned dg = (unsigned)(s[i] - '0');
			any = 1;
			if (w == 0 && dg == 0) {
				q--;
			} else if (nd < 19) {
				w = w * 10 + dg;
				nd++;
				q--;
			} else {
				lost |= dg != 0;
			}
		}
	}
	if (!any)
		return parse_nonfinite(s, len, out);
exponent:
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0, edigits = 0;
		int64_t ex = 0;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			edigits = 1;
			if (ex < 1000000)
				ex = ex * 10 + (s[i] - '0');
		}
		if (!edigits)
			return INGEST_NUM_SYNTAX;
		q += eneg ? -ex : ex;
	}
	if (i != len)
		return INGEST_NUM_SYNTAX;
	if (w == 0) {
		*out = neg ? -0.0 : 0.0;
		return INGEST_NUM_OK;
	}
	if (lost || FLT_EVAL_METHOD != 0)
		return parse_slow(s, len, out);

	if (w < (1ULL << 53) && q >= -22 && q <= 22) {
		v = (double)w;
		v = q >= 0 ? v * pow10_exact[q] : v / pow10_exact[-q];
	} else if (q >= 0 && q <= 19) {
		v = u128_to_double((num_u128)w * pow10_u64[q]);
	} else if (q < 0 && q >= -19) {
		if (!divide_exact(w, (unsigned)-q, &v))
			return parse_slow(s, len, out);
	} else {
		return parse_slow(s, len, out);
	}
	*out = neg ? -v : v;
	return INGEST_NUM_OK;
}
