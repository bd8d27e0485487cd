/*
 * Unit tests of the sample chunk codec (lib/store/chunk.c): every value
 * and time comes back bit for bit through every coding, on edge values
 * and on thousands of random chunks; bad arguments are refused; any
 * damage to a chunk is either detected (BSP_ECORRUPT) or decodes to a
 * well-formed chunk, never a crash (run under ASan/UBSan too); and the
 * sizes the design promises hold.
 */
#include <float.h>
#include <math.h>

#include "testutil.h"

#include "store/chunk_int.h"

/* splitmix64 (Steele, Lea, Flood, OOPSLA 2014): a fixed-seed generator */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

static uint64_t bits_of(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

static double from_bits(uint64_t u)
{
	double x;
	memcpy(&x, &u, sizeof(x));
	return x;
}

static const int ts_codings[] = {CHUNK_TS_AUTO, CHUNK_TS_RESIDUAL,
				 CHUNK_TS_GORILLA};
static const int val_codings[] = {CHUNK_VAL_AUTO, CHUNK_VAL_SCALED,
				  CHUNK_VAL_XOR, CHUNK_VAL_RAW};

/* Decodes buf and checks it against ts/v, bit for bit. */
static void check_decode(const uint8_t *buf, size_t len, const bsp_time *ts,
			 const double *v, size_t n)
{
	bsp_time *dts = malloc((n + 1) * sizeof(*dts));
	double *dv = malloc((n + 1) * sizeof(*dv));
	size_t cnt = 0, got = 0;

	assert_non_null(dts);
	assert_non_null(dv);
	assert_int_equal(chunk_count(buf, len, &cnt), BSP_OK);
	assert_int_equal(cnt, n);
	assert_int_equal(chunk_decode(buf, len, dts, dv, n, &got), BSP_OK);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		if (dts[i] != ts[i] || bits_of(dv[i]) != bits_of(v[i]))
			fail_msg("sample %zu of %zu: got (%lld, %016llx), want "
				 "(%lld, %016llx)",
				 i, n, (long long)dts[i],
				 (unsigned long long)bits_of(dv[i]),
				 (long long)ts[i],
				 (unsigned long long)bits_of(v[i]));
	}
	free(dts);
	free(dv);
}

/* Round trip through every coding; returns the automatic size. */
static size_t round_trip(const bsp_time *ts, const double *v, size_t n)
{
	size_t auto_len = 0;

	for (size_t a = 0; a < BSP_ARRAY_LEN(ts_codings); a++) {
		for (size_t b = 0; b < BSP_ARRAY_LEN(val_codings); b++) {
			struct chunk_enc_info info;
			uint8_t *buf = NULL;
			size_t len = 0;

			assert_int_equal(
			    chunk_encode_as(ts, v, n, ts_codings[a],
					    val_codings[b], &buf, &len, &info),
			    BSP_OK);
			assert_non_null(buf);
			/* the parts add up to the size, padding aside */
			assert_true(info.ts_bits + info.val_bits +
					info.fix_bits <=
				    8 * len);
			if (val_codings[b] != CHUNK_VAL_AUTO)
				assert_int_equal(info.val_coding,
						 val_codings[b]);
			check_decode(buf, len, ts, v, n);
			if (a == 0 && b == 0)
				auto_len = len;
			free(buf);
		}
	}
	/* chunk_encode is the automatic choice */
	{
		uint8_t *buf = NULL;
		size_t len = 0;
		assert_int_equal(chunk_encode(ts, v, n, &buf, &len), BSP_OK);
		assert_int_equal(len, auto_len);
		check_decode(buf, len, ts, v, n);
		free(buf);
	}
	return auto_len;
}

static void regular_times(bsp_time *ts, size_t n, bsp_time t0, bsp_time step)
{
	for (size_t i = 0; i < n; i++)
		ts[i] = t0 + (bsp_time)i * step;
}

/* ---- edge values --------------------------------------------------- */

static const double *edge_values(size_t *n)
{
	static double v[40];
	size_t k = 0;

	v[k++] = 0.0;
	v[k++] = -0.0;
	v[k++] = INFINITY;
	v[k++] = -INFINITY;
	v[k++] = NAN;
	v[k++] = -NAN;
	v[k++] = from_bits(UINT64_C(0x7ff0000000000001)); /* signalling */
	v[k++] = from_bits(UINT64_C(0x7ff8dead0000beef)); /* payload */
	v[k++] = from_bits(UINT64_C(0xfff4000000000123));
	v[k++] = from_bits(UINT64_C(0xffffffffffffffff));
	v[k++] = DBL_MAX;
	v[k++] = -DBL_MAX;
	v[k++] = DBL_MIN;
	v[k++] = -DBL_MIN;
	v[k++] = DBL_TRUE_MIN;
	v[k++] = -DBL_TRUE_MIN;
	/* the largest subnormal */
	v[k++] = from_bits(UINT64_C(0x000fffffffffffff));
	v[k++] = DBL_EPSILON;
	v[k++] = 1e300;
	v[k++] = -1e-300;
	v[k++] = 0x1p51;
	v[k++] = 0x1p53 + 2;
	v[k++] = 9007199254740993.0;
	v[k++] = 1034592.8;
	v[k++] = 160.86666666666667;
	v[k++] = 0.1;
	v[k++] = 1.0 / 3.0;
	v[k++] = 3e15;
	v[k++] = -2251799813685247.5;
	v[k++] = 123456789.123;
	*n = k;
	return v;
}

static void test_edge_values(void **state)
{
	size_t n;
	const double *v = edge_values(&n);
	bsp_time ts[40];

	BSP_UNUSED(state);
	regular_times(ts, n, 1372629804000, 300000);
	round_trip(ts, v, n);
	/* each on its own, and each as a constant chunk */
	for (size_t i = 0; i < n; i++) {
		double c[5] = {v[i], v[i], v[i], v[i], v[i]};
		round_trip(ts, &v[i], 1);
		round_trip(ts, c, 5);
	}
}

static void test_edge_times(void **state)
{
	bsp_time ts[6];
	double v[6] = {1, 2, 3, 4, 5, 6};

	BSP_UNUSED(state);
	/* the whole int64 range in one step */
	ts[0] = INT64_MIN;
	ts[1] = INT64_MAX;
	round_trip(ts, v, 2);
	/* huge and tiny steps mixed, near both ends */
	ts[0] = INT64_MIN;
	ts[1] = INT64_MIN + 1;
	ts[2] = -1;
	ts[3] = 0;
	ts[4] = INT64_MAX - 1;
	ts[5] = INT64_MAX;
	round_trip(ts, v, 6);
	/* single samples at the extremes */
	ts[0] = INT64_MIN;
	round_trip(ts, v, 1);
	ts[0] = INT64_MAX;
	round_trip(ts, v, 1);
	ts[0] = 0;
	round_trip(ts, v, 1);
	/* negative times on a regular grid */
	regular_times(ts, 6, -1000000, 7);
	round_trip(ts, v, 6);
}

static void test_shapes(void **state)
{
	enum { N = 288 };
	bsp_time ts[N];
	double v[N];

	BSP_UNUSED(state);
	regular_times(ts, N, 1372636800000, 300000);
	/* constant, all zero, alternating, ramp, one spike */
	for (size_t i = 0; i < N; i++)
		v[i] = 8218624.0;
	round_trip(ts, v, N);
	for (size_t i = 0; i < N; i++)
		v[i] = 0.0;
	round_trip(ts, v, N);
	for (size_t i = 0; i < N; i++)
		v[i] = i % 2 ? -1.5 : 2.25;
	round_trip(ts, v, N);
	for (size_t i = 0; i < N; i++)
		v[i] = 0.1 * (double)i;
	round_trip(ts, v, N);
	for (size_t i = 0; i < N; i++)
		v[i] = i == 100 ? 1e12 : 0.0;
	round_trip(ts, v, N);
	/* irregular spacing: jitter, gaps, two interleaved agents */
	for (size_t i = 0; i < N; i++) {
		v[i] = (double)(i * 7 % 13) / 15.0;
		ts[i] = 1372636800000 + (bsp_time)i * 300000 +
			(i % 5 == 0 ? 1000 : 0) + (i > 200 ? 3600000 : 0);
	}
	round_trip(ts, v, N);
	for (size_t i = 0; i < N; i++)
		ts[i] = 1372636800000 + (bsp_time)(i / 2) * 300000 +
			(i % 2 ? 166000 + (bsp_time)(i % 3) * 1000 : 0);
	round_trip(ts, v, N);
	/* millisecond times with no common factor */
	for (size_t i = 0; i < N; i++)
		ts[i] = 1372636800000 + (bsp_time)(i * i) + (bsp_time)i * 997;
	round_trip(ts, v, N);
}

/* ---- random chunks --------------------------------------------------- */

static double random_value(uint64_t *s, int regime, double prev)
{
	switch (regime) {
	case 0: /* any bit pattern: NaNs, infinities, subnormals */
		return from_bits(rng_next(s));
	case 1: /* decimals with up to 4 digits */
		return (double)((int64_t)rng_below(s, 2000000) - 1000000) /
		       (double)(rng_below(s, 2) ? 10000 : 10);
	case 2: /* five-minute averages: k / 15, k / 30 */
		return (double)rng_below(s, 100000) /
		       (rng_below(s, 2) ? 15.0 : 30.0);
	case 3: /* integers, small and huge */
		return (double)(int64_t)(rng_next(s) >>
					 (rng_below(s, 64) | 1)) *
		       (rng_below(s, 2) ? 1.0 : -1.0);
	case 4: /* a random walk of decimals */
		return prev + (double)((int64_t)rng_below(s, 201) - 100) / 100;
	case 5: /* mostly zero with bursts */
		return rng_below(s, 10) ? 0.0 : (double)rng_below(s, 1 << 20);
	case 6: /* products of decimals, like CPU MHz = % x capacity */
		return (double)rng_below(s, 3000) / 30.0 * 5851.9989 / 100.0;
	default: /* repeats, with the odd special value */
		switch (rng_below(s, 8)) {
		case 0:
			return NAN;
		case 1:
			return -0.0;
		case 2:
			return INFINITY;
		default:
			return prev;
		}
	}
}

static void random_chunk(uint64_t *s, bsp_time *ts, double *v, size_t n)
{
	int tmode = (int)rng_below(s, 5);
	int regime = (int)rng_below(s, 9);
	bsp_time t = (bsp_time)(rng_next(s) >> 2) - (INT64_C(1) << 61);
	double prev = 0;

	for (size_t i = 0; i < n; i++) {
		bsp_time step;
		switch (tmode) {
		case 0:
			step = 300000;
			break;
		case 1:
			step = 300000 + 1000 * ((bsp_time)rng_below(s, 3) - 1);
			break;
		case 2:
			step = 1 + (bsp_time)rng_below(s, 1000000);
			break;
		case 3:
			step = 1000 * (1 + (bsp_time)rng_below(s, 600));
			break;
		default:
			step = 1 + (bsp_time)(rng_next(s) >> 40);
			break;
		}
		if (i)
			t += step;
		ts[i] = t;
		/* regime 8 mixes all the others value by value */
		prev = random_value(
		    s, regime == 8 ? (int)rng_below(s, 8) : regime, prev);
		v[i] = prev;
	}
}

static void test_random_round_trips(void **state)
{
	enum { MAXN = 2000 };
	bsp_time *ts = malloc(MAXN * sizeof(*ts));
	double *v = malloc(MAXN * sizeof(*v));
	uint64_t seed = 20130701;

	BSP_UNUSED(state);
	assert_non_null(ts);
	assert_non_null(v);
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = rng_below(&seed, 10) ? 1 + rng_below(&seed, 300)
						: 1 + rng_below(&seed, MAXN);
		random_chunk(&seed, ts, v, n);
		round_trip(ts, v, n);
	}
	free(ts);
	free(v);
}

static void test_large_chunk(void **state)
{
	/* a day at one second */
	enum { N = 86400 };
	bsp_time *ts = malloc(N * sizeof(*ts));
	double *v = malloc(N * sizeof(*v));
	uint64_t seed = 42;
	size_t len;

	BSP_UNUSED(state);
	assert_non_null(ts);
	assert_non_null(v);
	for (size_t i = 0; i < N; i++) {
		ts[i] = 1372636800000 + (bsp_time)i * 1000;
		v[i] = (double)rng_below(&seed, 1000) / 10.0;
	}
	len = round_trip(ts, v, N);
	/* about 10 bits of noise a value */
	assert_true(len < 2 * N);
	free(ts);
	free(v);
}

/* ---- sizes ----------------------------------------------------------- */

static void test_sizes(void **state)
{
	enum { N = 288 };
	bsp_time ts[N];
	double v[N];
	uint8_t *buf;
	size_t len, glen;

	BSP_UNUSED(state);
	regular_times(ts, N, 1372636800000, 300000);
	for (size_t i = 0; i < N; i++)
		v[i] = 5851.9989;
	assert_int_equal(chunk_encode(ts, v, N, &buf, &len), BSP_OK);
	assert_true(len < 32);
	free(buf);

	/* five-minute averages in steps of 1/15: about a byte a sample,
	 * where XOR needs several */
	uint64_t seed = 7;
	for (size_t i = 0; i < N; i++)
		v[i] = (double)rng_below(&seed, 200) / 15.0;
	assert_int_equal(chunk_encode(ts, v, N, &buf, &len), BSP_OK);
	free(buf);
	assert_int_equal(chunk_encode_as(ts, v, N, CHUNK_TS_GORILLA,
					 CHUNK_VAL_XOR, &buf, &glen, NULL),
			 BSP_OK);
	free(buf);
	assert_true(len < 1.25 * N);
	assert_true(3 * len < glen);

	/* the header: format byte, then the count as a varint */
	assert_int_equal(chunk_encode(ts, v, N, &buf, &len), BSP_OK);
	assert_int_equal(buf[0] >> 4, 1);
	assert_int_equal(buf[1], (N & 0x7f) | 0x80);
	assert_int_equal(buf[2], N >> 7);
	free(buf);
}

/* ---- refusals -------------------------------------------------------- */

static void test_bad_arguments(void **state)
{
	bsp_time ts[3] = {10, 20, 20};
	double v[3] = {1, 2, 3};
	uint8_t *buf = (uint8_t *)&buf;
	size_t len = 99, n;

	BSP_UNUSED(state);
	assert_int_equal(chunk_encode(ts, v, 3, &buf, &len), BSP_EINVAL);
	assert_null(buf);
	assert_int_equal(len, 0);
	ts[2] = 15;
	assert_int_equal(chunk_encode(ts, v, 3, &buf, &len), BSP_EINVAL);
	for (size_t i = 0; i < BSP_ARRAY_LEN(ts_codings); i++)
		assert_int_equal(chunk_encode_as(ts, v, 3, ts_codings[i],
						 CHUNK_VAL_AUTO, &buf, &len,
						 NULL),
				 BSP_EINVAL);
	/* out of order late in a long, regular chunk */
	{
		enum { N = 300 };
		bsp_time lts[N];
		double lv[N] = {0};

		for (size_t at = 5; at < N; at += 50) {
			regular_times(lts, N, 1372636800000, 300000);
			lts[at] = lts[at - 1];
			assert_int_equal(chunk_encode(lts, lv, N, &buf, &len),
					 BSP_EINVAL);
			lts[at] = lts[at - 1] - 300000;
			assert_int_equal(chunk_encode(lts, lv, N, &buf, &len),
					 BSP_EINVAL);
		}
		/* a step back that is the usual step modulo 2^64: eight
		 * steps of 2^61 from INT64_MIN, the ninth wraps to it */
		lts[0] = INT64_MIN;
		for (size_t i = 1; i < 8; i++)
			lts[i] = lts[i - 1] + (INT64_C(1) << 61);
		lts[8] = INT64_MIN;
		assert_int_equal(chunk_encode(lts, lv, 9, &buf, &len),
				 BSP_EINVAL);
		assert_int_equal(chunk_encode(lts, lv, 8, &buf, &len), BSP_OK);
		free(buf);
	}
	assert_int_equal(chunk_encode(ts, v, 0, &buf, &len), BSP_EINVAL);
	assert_int_equal(chunk_encode(ts, v, CHUNK_MAX_SAMPLES + 1, &buf, &len),
			 BSP_EINVAL);
	assert_int_equal(chunk_encode(NULL, v, 1, &buf, &len), BSP_EINVAL);
	assert_int_equal(chunk_encode(ts, NULL, 1, &buf, &len), BSP_EINVAL);
	assert_int_equal(chunk_encode(ts, v, 1, NULL, &len), BSP_EINVAL);
	assert_int_equal(
	    chunk_encode_as(ts, v, 1, 7, CHUNK_VAL_AUTO, &buf, &len, NULL),
	    BSP_EINVAL);

	assert_int_equal(chunk_count(NULL, 0, &n), BSP_ECORRUPT);
	assert_int_equal(chunk_decode(NULL, 0, ts, v, 3, &n), BSP_ECORRUPT);

	/* a decode into arrays that are too small */
	ts[2] = 30;
	assert_int_equal(chunk_encode(ts, v, 3, &buf, &len), BSP_OK);
	assert_int_equal(chunk_decode(buf, len, ts, v, 2, &n), BSP_ELIMIT);
	assert_int_equal(n, 0);
	assert_int_equal(chunk_decode(buf, len, NULL, v, 3, &n), BSP_EINVAL);
	free(buf);
}

static void test_bad_headers(void **state)
{
	/* no count, unknown version, unknown codings, count 0, a count
	 * over the limit, a count with a redundant zero byte */
	static const uint8_t bad[][6] = {
	    {0x10},
	    {0x20, 0x01, 0x00},
	    {0x1c, 0x01, 0x00},
	    {0x13, 0x01, 0x00},
	    {0x10, 0x00, 0x00},
	    {0x10, 0x81, 0x80, 0x80, 0x02, 0x00},
	    {0x10, 0x81, 0x00, 0x00},
	};
	static const size_t lens[] = {1, 3, 3, 3, 3, 6, 4};
	size_t n;
	bsp_time ts[4];
	double v[4];

	BSP_UNUSED(state);
	for (size_t i = 0; i < BSP_ARRAY_LEN(bad); i++) {
		assert_int_equal(chunk_count(bad[i], lens[i], &n),
				 BSP_ECORRUPT);
		assert_int_equal(chunk_decode(bad[i], lens[i], ts, v, 4, &n),
				 BSP_ECORRUPT);
	}
}

/*
 * A damaged chunk decodes to an error or to a well-formed chunk: times
 * strictly increasing, and that chunk encodes and decodes again.
 */
static void check_damaged(const uint8_t *buf, size_t len)
{
	enum { CAP = 4096 };
	static bsp_time ts[CAP];
	static double v[CAP];
	size_t n = 0;
	bsp_err e = chunk_decode(buf, len, ts, v, CAP, &n);

	if (e != BSP_OK) {
		assert_true(e == BSP_ECORRUPT || e == BSP_ELIMIT);
		assert_int_equal(n, 0);
		return;
	}
	assert_true(n >= 1 && n <= CAP);
	for (size_t i = 1; i < n; i++)
		assert_true(ts[i] > ts[i - 1]);
	round_trip(ts, v, n);
}

static void test_damage(void **state)
{
	enum { N = 300 };
	bsp_time ts[N];
	double v[N];
	uint64_t seed = 99;

	BSP_UNUSED(state);
	for (int iter = 0; iter < 60; iter++) {
		size_t n = 1 + rng_below(&seed, N), len;
		uint8_t *buf, *copy;
		int tc = ts_codings[rng_below(&seed, 3)];
		int vc = val_codings[rng_below(&seed, 4)];

		random_chunk(&seed, ts, v, n);
		assert_int_equal(
		    chunk_encode_as(ts, v, n, tc, vc, &buf, &len, NULL),
		    BSP_OK);
		copy = malloc(len + 1);
		assert_non_null(copy);
		/* every truncation */
		for (size_t cut = 0; cut < len; cut++) {
			memcpy(copy, buf, cut);
			check_damaged(copy, cut);
		}
		/* a byte too many */
		memcpy(copy, buf, len);
		copy[len] = 0;
		assert_int_equal(chunk_decode(copy, len + 1, ts, v, N, &n),
				 BSP_ECORRUPT);
		/* flipped bits and random bytes */
		for (int k = 0; k < 200; k++) {
			size_t at = rng_below(&seed, len);
			memcpy(copy, buf, len);
			if (k % 2)
				copy[at] ^=
				    (uint8_t)(1u << rng_below(&seed, 8));
			else
				copy[at] = (uint8_t)rng_next(&seed);
			check_damaged(copy, len);
		}
		free(copy);
		free(buf);
	}
}

static void test_random_bytes(void **state)
{
	uint8_t buf[64];
	uint64_t seed = 5;

	BSP_UNUSED(state);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = rng_below(&seed, sizeof(buf) + 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng_next(&seed);
		/* a plausible header, so the body gets read */
		if (len >= 2 && iter % 2) {
			buf[0] = (uint8_t)(0x10 | rng_below(&seed, 2) << 2 |
					   rng_below(&seed, 3));
			buf[1] &= 0x7f;
		}
		check_damaged(buf, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_edge_values),
	    cmocka_unit_test(test_edge_times),
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_random_round_trips),
	    cmocka_unit_test(test_large_chunk),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests_name("chunk", tests, NULL, NULL);
}
