/*
 * libFuzzer harness for the chunk codec (lib/store/chunk.c).
 *
 * Each input is used twice:
 *  1. as a stored chunk: chunk_count and chunk_decode must not misbehave
 *     (ASan/UBSan watch), must agree, must honour a small cap; a chunk
 *     that decodes must have strictly increasing times and survive a
 *     round trip (encode what came out, decode, compare bits);
 *  2. as samples: the bytes become times and values (the first byte
 *     picks how), which are encoded with every coding, decoded and
 *     compared bit for bit.
 *
 * Build and run (also `make fuzz`):
 *
 *     clang -std=c11 -D_GNU_SOURCE -g -O1 \
 *         -fsanitize=fuzzer,address,undefined -Iinclude -Ilib \
 *         tests/fuzz/fuzz_chunk.c lib/store/chunk.c lib/util/error.c \
 *         -lm -o /tmp/fuzz_chunk
 *     /tmp/fuzz_chunk -max_total_time=60 tests/fuzz/seeds/chunk
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/chunk_int.h"

/* Decodes of at most this many samples; larger counts test the cap. */
#define FUZZ_CAP 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const bsp_time *ta, const double *va, const bsp_time *tb,
		       const double *vb, size_t n)
{
	if (memcmp(ta, tb, n * sizeof(*ta)) || memcmp(va, vb, n * sizeof(*va)))
		abort();
}

/* Encodes with the codings given, decodes, compares. */
static void round_trip(const bsp_time *ts, const double *v, size_t n, int tc,
		       int vc, bsp_time *dts, double *dv)
{
	uint8_t *buf = NULL;
	size_t len = 0, got = 0, cnt = 0;

	if (chunk_encode_as(ts, v, n, tc, vc, &buf, &len, NULL) != BSP_OK)
		abort();
	if (chunk_count(buf, len, &cnt) != BSP_OK || cnt != n)
		abort();
	if (chunk_decode(buf, len, dts, dv, n, &got) != BSP_OK || got != n)
		abort();
	check_same(ts, v, dts, dv, n);
	free(buf);
}

static void as_chunk(const uint8_t *data, size_t size, bsp_time *ts, double *v,
		     bsp_time *ts2, double *v2)
{
	size_t cnt = 0, got = 0;
	bsp_err ec = chunk_count(data, size, &cnt);
	bsp_err ed = chunk_decode(data, size, ts, v, FUZZ_CAP, &got);

	if (ec != BSP_OK) {
		/* a bad header fails both ways */
		if (ed != BSP_ECORRUPT || got != 0)
			abort();
		return;
	}
	if (cnt == 0 || cnt > CHUNK_MAX_SAMPLES)
		abort();
	if (cnt > FUZZ_CAP) {
		if (ed != BSP_ELIMIT)
			abort();
		return;
	}
	if (ed != BSP_OK) {
		if (ed != BSP_ECORRUPT || got != 0)
			abort();
		return;
	}
	if (got != cnt)
		abort();
	for (size_t i = 1; i < got; i++)
		if (ts[i] <= ts[i - 1])
			abort();
	/* one less room than needed is refused */
	if (chunk_decode(data, size, ts2, v2, got - 1, &cnt) != BSP_ELIMIT)
		abort();
	round_trip(ts, v, got, CHUNK_TS_AUTO, CHUNK_VAL_AUTO, ts2, v2);
}

/* Reads the next n bytes as a little-endian number (0 past the end). */
static uint64_t take(const uint8_t **p, const uint8_t *end, unsigned n)
{
	uint64_t x = 0;
	for (unsigned i = 0; i < n && *p < end; i++)
		x |= (uint64_t) * (*p)++ << (8 * i);
	return x;
}

static void as_samples(const uint8_t *data, size_t size, bsp_time *ts,
		       double *v, bsp_time *ts2, double *v2)
{
	const uint8_t *p = data, *end = data + size;
	unsigned mode = (unsigned)take(&p, end, 1);
	unsigned tbytes = 1 + (mode & 3) * 2; /* bytes per time step */
	unsigned vshape = (mode >> 2) & 3;    /* how values are read */
	bsp_time t = (bsp_time)take(&p, end, 8);
	size_t n = 0;

	while (p < end && n < FUZZ_CAP) {
		/* steps of at most 2^56, so they fit */
		bsp_time step = (bsp_time)take(&p, end, tbytes) + 1;
		uint64_t x;

		if (n) {
			if (t > INT64_MAX - step)
				break;
			t += step;
		}
		ts[n] = t;
		switch (vshape) {
		case 0: /* raw bit patterns */
			x = take(&p, end, 8);
			memcpy(&v[n], &x, sizeof(x));
			break;
		case 1: /* small decimals */
			v[n] = (double)(int16_t)take(&p, end, 2) / 100.0;
			break;
		case 2: /* fifteenths, as five-minute averages */
			v[n] = (double)take(&p, end, 3) / 15.0;
			break;
		default: /* repeats of the previous value, or a new one */
			x = take(&p, end, 1);
			if (n && (x & 1))
				v[n] = v[n - 1];
			else
				v[n] = (double)x * 0.1;
			break;
		}
		n++;
	}
	if (n == 0)
		return;
	round_trip(ts, v, n, CHUNK_TS_AUTO, CHUNK_VAL_AUTO, ts2, v2);
	round_trip(ts, v, n, CHUNK_TS_GORILLA, CHUNK_VAL_XOR, ts2, v2);
	round_trip(ts, v, n, CHUNK_TS_RESIDUAL, CHUNK_VAL_SCALED, ts2, v2);
	round_trip(ts, v, n, CHUNK_TS_AUTO, CHUNK_VAL_RAW, ts2, v2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bsp_time ts[FUZZ_CAP], ts2[FUZZ_CAP];
	static double v[FUZZ_CAP], v2[FUZZ_CAP];

	as_chunk(data, size, ts, v, ts2, v2);
	as_samples(data, size, ts, v, ts2, v2);
	return 0;
}
