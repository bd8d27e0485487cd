/*
 * The demo fleet's random numbers: xoshiro256** (Blackman and Vigna,
 * "Scrambled linear pseudorandom number generators", 2018) seeded through
 * splitmix64, as its authors recommend, so that nearby seeds (user 7 and
 * user 8) give unrelated streams. The generator lives in a struct the
 * caller owns: no global state, and the same seed gives the same numbers on
 * every platform (the integer part is exact; the floating-point transforms
 * use only log, sqrt and exp).
 */
#include "demo_int.h"

#include <math.h>


uint64_t demo_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void demo_rng_seed(struct demo_rng *r, uint64_t seed)
{
	uint64_t sm = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = demo_splitmix64(&sm);
	r->spare = 0;
	r->has_spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t demo_rng_next(struct demo_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double demo_rng_uniform(struct demo_rng *r)
{
	/* The top 53 bits fill a double's mantissa exactly. */
	return (double)(demo_rng_next(r) >> 11) * 0x1.0p-53;
}

double demo_rng_range(struct demo_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * demo_rng_uniform(r);
}

uint64_t demo_rng_below(struct demo_rng *r, uint64_t n)
{
	/* Rejection keeps small n exactly uniform. */
	uint64_t limit, x;

	if (n < 2)
		return 0;
	limit = UINT64_MAX - UINT64_MAX % n;
	do
		x = demo_rng_next(r);
	while (x >= limit);
	return x % n;
}

double demo_rng_normal(struct demo_rng *r)
{
	double u, v, q, f;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	/* Marsaglia's polar form of Box-Muller: a pair of normals for one
	 * log and one sqrt, no sine or cosine (a fifth of the tries are
	 * rejected, which is still cheaper). */
	do {
		u = 2.0 * demo_rng_uniform(r) - 1.0;
		v = 2.0 * demo_rng_uniform(r) - 1.0;
		q = u * u + v * v;
	} while (q >= 1.0 || q == 0.0);
	f = sqrt(-2.0 * log(q) / q);
	r->spare = v * f;
	r->has_spare = 1;
	return u * f;
}

double demo_normal_quantile(double p)
{
	/* Acklam's rational approximation (2003), relative error below
	 * 1.2e-9: plenty for noise, and no iteration. */
	static const double a[] = {
		-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
		-3.066479806614716e+01, 2.506628277459239e+00,
	};
	static const double b[] = {
		-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
		-1.328068155288572e+01,
	};
	static const double c[] = {
		-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
		4.374664141464968e+00,  2.938163982698783e+00,
	};
	static const double d[] = {
		7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00,
	};
	const double lo = 0.02425, hi = 1 - lo;
	double q, r, num, den;

	if (p <= 0)
		return -HUGE_VAL;
	if (p >= 1)
		return HUGE_VAL;
	if (p < lo || p > hi) {
		q = sqrt(-2 * log(p < lo ? p : 1 - p));
		r = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) *
			     q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
		return p < lo ? r : -r;
	}
	q = p - 0.5;
	r = q * q;
	num = ((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
	      a[5];
	den = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1;
	return num * q / den;
}

double demo_rng_exp(struct demo_rng *r, double mean)
{
	return -mean * log(1.0 - demo_rng_uniform(r));
}

uint64_t demo_rng_poisson(struct demo_rng *r, double lambda)
{
	double limit, p, x;
	uint64_t k = 0;

	if (!(lambda > 0))
		return 0;
	if (lambda > 30) {
		/* Normal approximation; exactness does not matter here. */
		x = floor(lambda + sqrt(lambda) * demo_rng_normal(r) + 0.5);
		return x < 0 ? 0 : (uint64_t)x;
	}
	/* Knuth's product of uniforms. */
	limit = exp(-lambda);
	p = demo_rng_uniform(r);
	while (p > limit) {
		k++;
		p *= demo_rng_uniform(r);
	}
	return k;
}

double demo_rng_lognormal(struct demo_rng *r, double sigma)
{
	if (sigma <= 0)
		return 1.0;
	return exp(sigma * demo_rng_normal(r) - 0.5 * sigma * sigma);
}

size_t demo_rng_pick(struct demo_rng *r, const uint16_t *weight, size_t n)
{
	uint64_t total = 0, x;

	for (size_t i = 0; i < n; i++)
		total += weight[i];
	if (!total)
		return n;
	x = demo_rng_below(r, total);
	for (size_t i = 0; i < n; i++) {
		if (x < weight[i])
			return i;
		x -= weight[i];
	}
	return n; /* not reached */
}
