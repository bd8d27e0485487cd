/*
 * Number helpers of the chunk codec (included by lib/store/chunk.c only):
 * the bits of a double, a GCD, and exact division by a common factor.
 */
#ifndef BSP_STORE_CHUNK_NUM_H
#define BSP_STORE_CHUNK_NUM_H

#include <stdint.h>
#include <string.h>

/* The bits of a double and back, without aliasing games. */
static inline uint64_t dbits(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

static inline double dfrom(uint64_t u)
{
	double x;
	memcpy(&x, &u, sizeof(x));
	return x;
}

/* Stein's binary GCD; gcd(0, b) = b. */
static uint64_t chunk_gcd(uint64_t a, uint64_t b)
{
	unsigned sh;

	if (!a)
		return b;
	if (!b)
		return a;
	sh = (unsigned)__builtin_ctzll(a | b);
	a >>= __builtin_ctzll(a);
	do {
		b >>= __builtin_ctzll(b);
		if (a > b) {
			uint64_t t = a;
			a = b;
			b = t;
		}
		b -= a;
	} while (b);
	return a << sh;
}

/*
 * Division by d when it is known to be exact, as a shift and a multiply
 * by the inverse of d's odd part mod 2^64 (Granlund and Montgomery,
 * "Division by Invariant Integers using Multiplication", PLDI 1994, sec.
 * 9), which also tests divisibility cheaply.
 */
struct chunk_div {
	uint64_t inv;  /* odd part's inverse mod 2^64 */
	uint64_t lim;  /* UINT64_MAX / odd part */
	uint64_t mask; /* low bits that must be zero */
	unsigned sh;
};

static void div_init(struct chunk_div *dv, uint64_t d)
{
	uint64_t odd, x;

	dv->sh = (unsigned)__builtin_ctzll(d);
	odd = d >> dv->sh;
	/* Newton's iteration doubles the correct low bits: 3, 6, ... 96 */
	x = odd;
	for (int i = 0; i < 5; i++)
		x *= 2 - odd * x;
	dv->inv = x;
	dv->lim = UINT64_MAX / odd;
	dv->mask = (UINT64_C(1) << dv->sh) - 1;
}

static inline int div_divides(const struct chunk_div *dv, uint64_t x)
{
	return !(x & dv->mask) && (x >> dv->sh) * dv->inv <= dv->lim;
}

/* x / d for an x (two's complement) that d divides. */
static inline uint64_t div_exact(const struct chunk_div *dv, uint64_t x)
{
	return (uint64_t)((int64_t)x >> dv->sh) * dv->inv;
}

#endif
