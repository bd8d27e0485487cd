/*
 * Gorilla's value coding in the chunk codec (included by
 * lib/store/chunk.c only): each double XOR the one before, the
 * meaningful bits between the leading and trailing zeros (Pelkonen et
 * al., "Gorilla: A Fast, Scalable, In-Memory Time Series Database",
 * VLDB 2015). The codec falls back to it for chunks that are not
 * decimal, and it is the baseline bench/bench_codec.c measures against.
 */
#ifndef BSP_STORE_CHUNK_XOR_H
#define BSP_STORE_CHUNK_XOR_H

#include "bitio.h"
#include "chunk_num.h"

/*
 * Gorilla's value coding: '0' for a repeat; '10' and the meaningful bits
 * when they fit the previous window of leading and trailing zeros; '11',
 * 5 bits of leading zeros (at most 31), 6 bits of length (64 as 0) and
 * the bits otherwise. The first value takes 64 bits.
 *
 * One function writes (w != NULL) or only counts the bits (w == NULL),
 * so that the count the encoder compares is the size it would write.
 */
static uint64_t val_xor(struct bitio_writer *out, const double *v, size_t n)
{
	struct bitio_writer w;
	uint64_t bits = 64, prev = dbits(v[0]);
	unsigned plead = 65, ptrail = 0; /* no window yet */

	if (out) {
		w = *out; /* in registers: see bitio_put */
		bitio_put_wide(&w, prev, 64);
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t cur = dbits(v[i]), x = cur ^ prev;
		unsigned lead, trail, sig;

		prev = cur;
		if (!x) {
			bits += 1;
			if (out)
				bitio_put(&w, 0, 1);
			continue;
		}
		lead = (unsigned)__builtin_clzll(x);
		trail = (unsigned)__builtin_ctzll(x);
		if (lead > 31)
			lead = 31;
		if (plead <= 64 && lead >= plead && trail >= ptrail) {
			sig = 64 - plead - ptrail;
			bits += 2 + sig;
			if (out) {
				bitio_put(&w, 0x2, 2);
				bitio_put_wide(&w, x >> ptrail, sig);
			}
			continue;
		}
		sig = 64 - lead - trail;
		bits += 2 + 5 + 6 + sig;
		if (out) {
			bitio_put(&w, 0x3, 2);
			bitio_put(&w, lead, 5);
			bitio_put(&w, sig & 63, 6);
			bitio_put_wide(&w, x >> trail, sig);
		}
		plead = lead;
		ptrail = trail;
	}
	if (out)
		*out = w;
	return bits;
}

static int val_xor_read(struct bitio_reader *in, double *v, size_t n)
{
	struct bitio_reader r = *in; /* in registers, as in bitio_put */
	uint64_t prev = bitio_get_wide(&r, 64);
	unsigned plead = 65, ptrail = 0; /* no window yet */
	int rc = -1;

	v[0] = dfrom(prev);
	for (size_t i = 1; i < n; i++) {
		unsigned sig;

		bitio_refill(&r);
		if (!(r.win >> 63)) {
			bitio_skip(&r, 1);
		} else if (!(r.win >> 62 & 1)) {
			bitio_skip(&r, 2);
			if (plead > 64)
				goto out;
			sig = 64 - plead - ptrail;
			prev ^= bitio_get_wide(&r, sig) << ptrail;
		} else {
			unsigned lead;
			bitio_skip(&r, 2);
			lead = (unsigned)bitio_get(&r, 5);
			sig = (unsigned)bitio_get(&r, 6);
			if (sig == 0)
				sig = 64;
			if (lead + sig > 64)
				goto out;
			plead = lead;
			ptrail = 64 - lead - sig;
			prev ^= bitio_get_wide(&r, sig) << ptrail;
		}
		v[i] = dfrom(prev);
	}
	rc = 0;
out:
	*in = r;
	return rc;
}

#endif
