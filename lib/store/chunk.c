/*
 * The sample chunk codec (chunk.h): one series' samples over one window,
 * lossless to the bit. The byte format, the reasons for each choice and
 * the measured sizes are in docs/storage.md ("Chunk format"); this is the
 * design in brief and a map of the parts.
 *
 * A chunk is a format byte (version, time coding, value coding), the
 * sample count as a LEB128 varint, then one bit stream: the times, then
 * the values, zero-padded to a byte. Nothing follows.
 *
 * Times (chunk_time.h): deltas divided by their common factor, minus a
 * per-chunk prediction (a base step, the previous delta, or the delta
 * two back), or Gorilla's delta-of-delta buckets.
 *
 * Values (this file): Gorilla's XOR coding (Pelkonen et al., "Gorilla: A
 * Fast, Scalable, In-Memory Time Series Database", VLDB 2015; in
 * chunk_xor.h) spends 25 bits a value on decimal telemetry. Following
 * ALP (Afroozeh and Boncz, "ALP: Adaptive Lossless floating-Point
 * Compression", SIGMOD 2024) each chunk instead picks a scale s = k *
 * 10^e (k in {1, 3}, so that five-minute averages such as m / 15 are
 * covered; e in 0..15) from a sample of its values, and codes the
 * integers m = round(v * s), read back as (double)m / s. Unlike ALP, a
 * value that does not come back exactly is not an exception stored
 * apart: the difference of the two bit patterns is coded as a
 * correction, 0 for a decimal, a few ulp for a value computed from
 * decimals, 64 bits for NaN, -0.0 or a value out of range. The integers
 * are divided by the GCD of their deltas (CPU MHz values are multiples
 * of capacity / 3000) and coded as deltas or as offsets from the
 * minimum. A chunk that gains nothing from this is coded with XOR or as
 * raw 64-bit words.
 *
 * Integers (bitio_code.h): each stream is all-zero, dense (up to four
 * width classes fitted to the stream by dynamic programming, Gorilla's
 * buckets made adaptive) or sparse (runs of zeros and the values between
 * them). Bits (bitio.h): a writer and a reader that never leaves its
 * buffer. Numbers (chunk_num.h): GCD and exact division.
 *
 * Every size is computed exactly before anything is written, so the
 * encoder allocates its output once and checks what it wrote against
 * its plan. Decoding checks every count against the header's sample
 * count (at most CHUNK_MAX_SAMPLES and at most the caller's cap), every
 * width against 64, every run against n, that times increase strictly,
 * and that the stream ends at the last byte; it allocates nothing and
 * unpacks into the caller's arrays.
 *
 * The arithmetic needs IEEE-754 binary64 with round-to-nearest and no
 * excess precision, so that encoder and decoder round (double)m / s alike.
 */
#include <float.h>
#include <math.h>

#include "bitio_code.h"
#include "chunk_int.h"
#include "chunk_num.h"
#include "chunk_time.h"
#include "chunk_xor.h"

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "the chunk codec needs double arithmetic without excess precision"
#endif

#define CHUNK_VERSION 1u
#define CHUNK_FMT(tsc, valc)                                                   \
	(CHUNK_VERSION << 4 | (unsigned)(tsc) << 2 | (unsigned)(valc))

/* s = k * 10^e, ascending; all exact doubles. The index takes 5 bits. */
/* clang-format off */
static const double chunk_scales[] = {
	1,    3,    1e1,  3e1,  1e2,  3e2,  1e3,  3e3,
	1e4,  3e4,  1e5,  3e5,  1e6,  3e6,  1e7,  3e7,
	1e8,  3e8,  1e9,  3e9,  1e10, 3e10, 1e11, 3e11,
	1e12, 3e12, 1e13, 3e13, 1e14, 3e14, 1e15, 3e15,
};
/* clang-format on */
#define CHUNK_N_SCALES BSP_ARRAY_LEN(chunk_scales)

/* |v * s| below this rounds exactly with the 1.5 * 2^52 trick. */
#define CHUNK_M_LIMIT 0x1p51

/* ---- values: decimal scaling -------------------------------------------- */

struct val_plan {
	unsigned sidx;	   /* chunk_scales[sidx] */
	unsigned mode;	   /* 0 deltas, 1 offsets from the minimum */
	int64_t anchor;	   /* first m (deltas) or the minimum (offsets) */
	uint64_t gcd;	   /* of the m deltas; 0 if all m are equal */
	const uint64_t *u; /* the integer stream */
	struct bitio_stream ints, fix;
	uint64_t bits;
};

/* round(x) for |x| < 2^51 (to nearest, ties to even), without libm. */
static inline int64_t round_small(double x)
{
	return (int64_t)((x + 0x1.8p52) - 0x1.8p52);
}

/* m for v under scale s; a value too large to scale repeats prev. */
static inline int64_t val_m(double v, double s, int64_t prev)
{
	double x = v * s;
	return fabs(x) < CHUNK_M_LIMIT ? round_small(x) : prev;
}

/* The correction, zigzag, that brings (double)m / s back to the bits b. */
static inline uint64_t val_fix(uint64_t b, int64_t m, double s)
{
	return bitio_zigzag((int64_t)(b - dbits((double)m / s)));
}

/* Where pick_scale looks: eight values spread over the chunk. */
static inline size_t pick_scale_at(size_t n, size_t j)
{
	return n > 1 ? j * (n - 1) / 7 : 0;
}

/*
 * The scale under which a sample of the values comes back with the
 * fewest correction bits; the smallest such scale on ties. Costs a few
 * hundred multiplies and divides at most, whatever n.
 */
static unsigned pick_scale(const double *v, size_t n)
{
	double smp[8];
	unsigned ns = 0, best = 0;
	uint64_t best_score = UINT64_MAX;

	for (size_t j = 0; j < 8; j++) {
		double x = v[pick_scale_at(n, j)];
		if (isfinite(x) && x != 0 && (ns == 0 || smp[ns - 1] != x))
			smp[ns++] = x;
	}
	if (ns == 0)
		return 0;
	for (unsigned si = 0; si < CHUNK_N_SCALES; si++) {
		double s = chunk_scales[si];
		uint64_t score = 0;
		unsigned huge = 0;

		for (unsigned j = 0; j < ns; j++) {
			double x = smp[j] * s;
			uint64_t c;

			if (!(fabs(x) < CHUNK_M_LIMIT)) {
				score += 80;
				huge++;
				continue;
			}
			c = dbits(smp[j]) - dbits((double)round_small(x) / s);
			if (c)
				score +=
				    4 + bitio_width(bitio_zigzag((int64_t)c));
		}
		if (score < best_score) {
			best_score = score;
			best = si;
			if (score == 0)
				break;
		}
		if (huge == ns) /* larger scales only overflow more */
			break;
	}
	return best;
}

/*
 * The integer stream of a mode, divided by the GCD (skipped when it is 1:
 * the compiler makes two loops of this): zigzag deltas (n-1) or offsets
 * from lo (n) into u, with their histogram.
 */
static inline size_t val_ints(const int64_t *m, size_t n, unsigned mode,
			      int64_t lo, const struct chunk_div *dv, int unit,
			      uint64_t *u, struct bitio_hist *h)
{
	if (mode == 1) {
		for (size_t i = 0; i < n; i++) {
			uint64_t o = (uint64_t)m[i] - (uint64_t)lo;
			if (!unit)
				o = div_exact(dv, o);
			u[i] = o;
			h->all[bitio_width(o)]++;
		}
		return n;
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)m[i] - (uint64_t)m[i - 1];
		if (!unit)
			d = div_exact(dv, d);
		d = bitio_zigzag((int64_t)d);
		u[i - 1] = d;
		h->all[bitio_width(d)]++;
	}
	return n - 1;
}

/*
 * Deltas or offsets from the minimum? Compares their summed widths on
 * every fourth value: a bursty series that keeps coming back to its
 * floor prefers offsets, a drifting one deltas.
 */
static unsigned val_mode(const int64_t *m, size_t n, int64_t lo,
			 const struct chunk_div *dv)
{
	uint64_t cd = bitio_width(bitio_zigzag(m[0])),
		 co = bitio_width(bitio_zigzag(lo));

	for (size_t i = 4; i < n; i += 4) {
		uint64_t o = div_exact(dv, (uint64_t)m[i] - (uint64_t)lo);
		uint64_t d = div_exact(dv, (uint64_t)m[i] - (uint64_t)m[i - 1]);
		co += bitio_width(o);
		cd += bitio_width(bitio_zigzag((int64_t)d));
	}
	return co < cd;
}

/*
 * Plans the scaled coding: m[] and fix[] (the zigzag corrections) for
 * every value, and the integer stream in u.
 */
static void val_scaled_plan(const double *v, size_t n, int64_t *m,
			    uint64_t *fix, uint64_t *u, struct val_plan *p)
{
	struct bitio_hist hf, hi;
	uint64_t g = 0, b0 = dbits(v[0]);
	int64_t prev, lo;
	struct chunk_div dv;
	size_t same = 1;
	double s;

	p->sidx = pick_scale(v, n);
	s = chunk_scales[p->sidx];
	p->mode = 0;
	p->u = u;
	bitio_hist_init(&hf, 0);

	/* a constant chunk (a capacity, a core count) needs one value */
	while (same < n && dbits(v[same]) == b0)
		same++;
	if (same == n) {
		int64_t m0 = val_m(v[0], s, 0);
		uint64_t f0 = val_fix(b0, m0, s);

		for (size_t i = 0; i < n; i++)
			fix[i] = f0;
		hf.all[bitio_width(f0)] = (uint32_t)n;
		bitio_stream_plan(fix, n, &hf, &p->fix);
		p->gcd = 0;
		p->anchor = m0;
		p->bits = 5 + 1 + bitio_num_bits(0) + p->fix.bits +
			  bitio_num_bits(bitio_zigzag(m0));
		return;
	}

	/*
	 * m, and the correction that brings (double)m / s back to v; a value
	 * too large to scale repeats the previous m. The same pass keeps the
	 * GCD of the deltas: a multiply tests whether the GCD so far divides
	 * the next one (nothing divides by the GCD 0 but 0), and only a
	 * delta that it does not divide costs a GCD step.
	 */
	dv.mask = UINT64_MAX;
	dv.sh = 0;
	dv.inv = 1;
	dv.lim = 0;
	prev = val_m(v[0], s, 0);
	m[0] = lo = prev;
	fix[0] = val_fix(b0, prev, s);
	hf.all[bitio_width(fix[0])]++;
	for (size_t i = 1; i < n; i++) {
		uint64_t b = dbits(v[i]), ad;
		int64_t mi;

		/* a repeat (idle, or a gauge that did not move) is common
		 * and needs nothing new */
		if (b == b0) {
			m[i] = prev;
			fix[i] = fix[i - 1];
			hf.all[bitio_width(fix[i])]++;
			continue;
		}
		b0 = b;
		mi = val_m(v[i], s, prev);
		m[i] = mi;
		fix[i] = val_fix(b, mi, s);
		hf.all[bitio_width(fix[i])]++;
		ad = mi < prev ? (uint64_t)prev - (uint64_t)mi
			       : (uint64_t)mi - (uint64_t)prev;
		if (!div_divides(&dv, ad)) {
			g = chunk_gcd(g, ad);
			div_init(&dv, g);
		}
		lo = mi < lo ? mi : lo;
		prev = mi;
	}
	bitio_stream_plan(fix, n, &hf, &p->fix);

	p->gcd = g;
	p->anchor = m[0];
	p->bits = 5 + 1 + bitio_num_bits(p->gcd) + p->fix.bits;
	if (!p->gcd) {
		p->bits += bitio_num_bits(bitio_zigzag(p->anchor));
		return;
	}
	p->mode = val_mode(m, n, lo, &dv);
	if (p->mode)
		p->anchor = lo;
	bitio_hist_init(&hi, 0);
	size_t nu = g == 1 ? val_ints(m, n, p->mode, lo, &dv, 1, u, &hi)
			   : val_ints(m, n, p->mode, lo, &dv, 0, u, &hi);
	bitio_stream_plan(u, nu, &hi, &p->ints);
	p->bits += bitio_num_bits(bitio_zigzag(p->anchor)) + p->ints.bits;
}

static void val_scaled_write(struct bitio_writer *w, const uint64_t *fix,
			     const struct val_plan *p)
{
	bitio_put(w, p->sidx, 5);
	bitio_put(w, p->mode, 1);
	bitio_put_num(w, bitio_zigzag(p->anchor));
	bitio_put_num(w, p->gcd);
	if (p->gcd)
		bitio_stream_write(w, &p->ints, p->u);
	bitio_stream_write(w, &p->fix, fix);
}

/*
 * The integers of the scaled coding back to values: v[i] = m / s with
 * m = anchor + g * u[i] (offsets) or m += g * unzigzag(u[i]) (deltas).
 * A dense stream is decoded in the same loop; the others go through v
 * as scratch first.
 */
static int val_ints_read(struct bitio_reader *in, double *v, size_t n,
			 unsigned mode, uint64_t anchor, uint64_t g, double s)
{
	struct bitio_reader r = *in; /* in registers, as in bitio_put */
	struct bitio_stream_rd st;
	unsigned char *raw = (unsigned char *)v;
	size_t nu = mode ? n : n - 1;
	uint64_t m = anchor;
	int rc = -1;

	if (mode == 0)
		v[0] = (double)(int64_t)m / s;
	if (bitio_stream_open(&r, nu, &st) < 0)
		goto out;
	if (st.kind == BITIO_DENSE) {
		if (mode == 0) {
			for (size_t i = 1; i < n; i++) {
				uint64_t u = bitio_code_get(&r, &st.code);
				m += g * (uint64_t)bitio_unzigzag(u);
				v[i] = (double)(int64_t)m / s;
			}
		} else {
			for (size_t i = 0; i < n; i++) {
				uint64_t u = bitio_code_get(&r, &st.code);
				v[i] = (double)(int64_t)(anchor + g * u) / s;
			}
		}
		rc = 0;
		goto out;
	}
	if (mode == 0) {
		/* a zero delta repeats the value: fill runs */
		size_t pos = 0; /* deltas done; v[pos] is set */
		for (uint64_t j = 0; st.kind == BITIO_SPARSE && j < st.k; j++) {
			size_t next = pos;
			uint64_t u;

			if (bitio_sparse_next(&r, &st, nu, &next, &u) < 0)
				goto out;
			for (; pos < next; pos++)
				v[pos + 1] = v[pos];
			m += g * (uint64_t)bitio_unzigzag(u);
			v[++pos] = (double)(int64_t)m / s;
		}
		for (; pos < nu; pos++)
			v[pos + 1] = v[pos];
		rc = 0;
		goto out;
	}
	*in = r;
	if (bitio_stream_read_values(in, &st, n, raw, 0) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		v[i] =
		    (double)(int64_t)(anchor + g * bitio_elem_get(raw, i)) / s;
	return 0;
out:
	*in = r;
	return rc;
}

static int val_scaled_read(struct bitio_reader *r, double *v, size_t n)
{
	unsigned sidx = (unsigned)bitio_get(r, 5);
	unsigned mode = (unsigned)bitio_get(r, 1);
	uint64_t anchor, g;
	double s;

	if (sidx >= CHUNK_N_SCALES || bitio_get_num(r, &anchor) < 0 ||
	    bitio_get_num(r, &g) < 0)
		return -1;
	s = chunk_scales[sidx];
	anchor = (uint64_t)bitio_unzigzag(anchor);
	if (!g) {
		/* every m is the anchor; no stream */
		double x = (double)(int64_t)anchor / s;
		for (size_t i = 0; i < n; i++)
			v[i] = x;
	} else if (val_ints_read(r, v, n, mode, anchor, g, s) < 0) {
		return -1;
	}
	return bitio_stream_read(r, n, (unsigned char *)v, 1);
}

/* ---- the chunk ----------------------------------------------------------- */

/* Format byte, LEB128 count. Returns the header length, or 0 if bad. */
static size_t chunk_header(const uint8_t *buf, size_t len, unsigned *fmt,
			   size_t *n)
{
	size_t x = 0, i;

	if (!buf || len < 2)
		return 0;
	*fmt = buf[0];
	if (*fmt >> 4 != CHUNK_VERSION || (*fmt >> 2 & 3) > CHUNK_TS_GORILLA ||
	    (*fmt & 3) > CHUNK_VAL_RAW)
		return 0;
	for (i = 0; i < 4; i++) {
		if (1 + i >= len)
			return 0;
		x |= (size_t)(buf[1 + i] & 0x7f) << (7 * i);
		if (!(buf[1 + i] & 0x80))
			break;
	}
	/* at most 4 bytes, no redundant zero byte at the end */
	if (i == 4 || (i > 0 && buf[1 + i] == 0))
		return 0;
	if (x == 0 || x > CHUNK_MAX_SAMPLES)
		return 0;
	*n = x;
	return 2 + i;
}

static size_t chunk_put_header(uint8_t *buf, unsigned fmt, size_t n)
{
	size_t i = 1;

	buf[0] = (uint8_t)fmt;
	while (n >= 0x80) {
		buf[i++] = (uint8_t)(n | 0x80);
		n >>= 7;
	}
	buf[i++] = (uint8_t)n;
	return i;
}

/* Bits val_xor may take for n values (it counts them exactly too). */
static uint64_t val_xor_bound(size_t n)
{
	return 64 + 77 * (uint64_t)(n - 1);
}

/*
 * Plans the values with the coding asked for, or chooses one: the scaled
 * coding, unless XOR or raw words are smaller. Returns the coding; fills
 * *bits, and clears *exact if *bits is only a bound.
 */
static int val_choose(const double *v, size_t n, int coding, int64_t *m,
		      uint64_t *fix, uint64_t *u, struct val_plan *vp,
		      uint64_t *bits, int *exact)
{
	switch (coding) {
	case CHUNK_VAL_SCALED:
		val_scaled_plan(v, n, m, fix, u, vp);
		*bits = vp->bits;
		return coding;
	case CHUNK_VAL_XOR:
		*bits = val_xor_bound(n);
		*exact = 0;
		return coding;
	case CHUNK_VAL_RAW:
		*bits = 64 * (uint64_t)n;
		return coding;
	}
	val_scaled_plan(v, n, m, fix, u, vp);
	*bits = vp->bits;
	coding = CHUNK_VAL_SCALED;
	/* XOR wins only where values share long runs of binary digits but
	 * are not decimals: look only when the scaled coding needed
	 * corrections and many bits */
	if (*bits > 8 * (uint64_t)n && vp->fix.k > 0) {
		uint64_t b = val_xor(NULL, v, n);
		if (b < *bits) {
			*bits = b;
			coding = CHUNK_VAL_XOR;
		}
	}
	if (64 * (uint64_t)n < *bits) {
		*bits = 64 * (uint64_t)n;
		coding = CHUNK_VAL_RAW;
	}
	return coding;
}

/*
 * Asks for the first few KB of both arrays at once: when they are not in
 * cache (a benchmark that streams through many chunks) the loads then
 * overlap instead of waiting one cache line after another.
 */
static void chunk_prefetch(const bsp_time *ts, const double *v, size_t n)
{
	size_t lim = n < 512 ? n : 512;

	for (size_t i = 0; i < lim; i += 8) {
		__builtin_prefetch(&ts[i], 0, 2);
		__builtin_prefetch(&v[i], 0, 2);
	}
	for (size_t j = 0; j < 8; j++)
		__builtin_prefetch(&v[pick_scale_at(n, j)], 0, 2);
}

bsp_err chunk_encode_as(const bsp_time *ts, const double *v, size_t n,
			int ts_coding, int val_coding, uint8_t **out,
			size_t *out_len, struct chunk_enc_info *info)
{
	uint64_t *scratch = NULL, *q, *ta, *tb, *fix, *va;
	int64_t *m;
	struct ts_plan tp;
	struct val_plan vp;
	uint64_t ts_bits, val_bits, ts_end;
	int exact = 1; /* ts_bits and val_bits are exact, not bounds */
	struct bitio_writer w;
	uint8_t *buf = NULL;
	size_t hdr, cap, got;
	bsp_err result = BSP_EINVAL;

	if (!out || !out_len)
		return BSP_EINVAL;
	*out = NULL;
	*out_len = 0;
	if (!ts || !v || n == 0 || n > CHUNK_MAX_SAMPLES)
		return BSP_EINVAL;
	if (ts_coding < CHUNK_TS_AUTO || ts_coding > CHUNK_TS_GORILLA ||
	    val_coding < CHUNK_VAL_AUTO || val_coding > CHUNK_VAL_RAW)
		return BSP_EINVAL;
	if (ts_coding == CHUNK_TS_AUTO)
		ts_coding = CHUNK_TS_RESIDUAL;

	chunk_prefetch(ts, v, n);
	result = BSP_ENOMEM;
	scratch = malloc(5 * n * sizeof(*scratch));
	if (!scratch)
		goto out;
	q = scratch;
	ta = scratch + n;
	tb = scratch + 2 * n;
	fix = scratch + 3 * n;
	m = (int64_t *)(void *)(scratch + 4 * n);

	result = BSP_EINVAL;
	if (ts_coding == CHUNK_TS_RESIDUAL) {
		if (ts_plan(ts, n, q, ta, tb, &tp) < 0)
			goto out;
		ts_bits = tp.bits;
		/* the value plan takes a buffer the times are done with */
		va = q;
	} else {
		for (size_t i = 1; i < n; i++)
			if (ts[i] <= ts[i - 1])
				goto out;
		ts_bits = ts_gorilla_bound(n);
		exact = 0;
		va = ta;
	}

	val_coding =
	    val_choose(v, n, val_coding, m, fix, va, &vp, &val_bits, &exact);
	result = BSP_ENOMEM;
	cap = 1 + 4 + (size_t)((ts_bits + val_bits + 7) / 8) + BITIO_SLACK;
	buf = malloc(cap);
	if (!buf)
		goto out;
	hdr = chunk_put_header(buf, CHUNK_FMT(ts_coding, val_coding), n);
	bitio_writer_init(&w, buf + hdr, cap - hdr);

	if (ts_coding == CHUNK_TS_RESIDUAL)
		ts_write(&w, ts, n, &tp);
	else
		ts_gorilla_write(&w, ts, n);
	ts_end = bitio_tell(&w);
	switch (val_coding) {
	case CHUNK_VAL_SCALED:
		val_scaled_write(&w, fix, &vp);
		break;
	case CHUNK_VAL_XOR:
		val_xor(&w, v, n);
		break;
	default:
		for (size_t i = 0; i < n; i++)
			bitio_put_wide(&w, dbits(v[i]), 64);
		break;
	}
	/* the plan and the writing must agree to the bit */
	result = BSP_EINTERNAL;
	if (w.overflow || (exact && bitio_tell(&w) != ts_bits + val_bits))
		goto out;
	val_bits = bitio_tell(&w) - ts_end;
	ts_bits = ts_end;
	got = bitio_finish(&w);
	if (!got)
		goto out;

	if (info) {
		memset(info, 0, sizeof(*info));
		info->ts_coding = ts_coding;
		info->val_coding = val_coding;
		info->ts_bits = ts_bits;
		info->val_bits = val_bits;
		if (ts_coding == CHUNK_TS_RESIDUAL)
			info->ts_lag = (int)tp.lag;
		if (val_coding == CHUNK_VAL_SCALED) {
			info->scale = chunk_scales[vp.sidx];
			info->int_mode = (int)vp.mode;
			info->fix_bits = vp.fix.bits;
			info->val_bits = val_bits - vp.fix.bits;
			info->n_fixed = vp.fix.k;
		}
	}
	*out = buf;
	*out_len = hdr + got;
	buf = NULL;
	result = BSP_OK;
out:
	free(buf);
	free(scratch);
	return result;
}

bsp_err chunk_encode(const bsp_time *ts, const double *v, size_t n,
		     uint8_t **out, size_t *out_len)
{
	return chunk_encode_as(ts, v, n, CHUNK_TS_AUTO, CHUNK_VAL_AUTO, out,
			       out_len, NULL);
}

bsp_err chunk_count(const uint8_t *buf, size_t len, size_t *n)
{
	unsigned fmt;

	if (!n)
		return BSP_EINVAL;
	if (!chunk_header(buf, len, &fmt, n))
		return BSP_ECORRUPT;
	return BSP_OK;
}

bsp_err chunk_decode(const uint8_t *buf, size_t len, bsp_time *ts, double *v,
		     size_t cap, size_t *n)
{
	struct bitio_reader r;
	unsigned fmt;
	size_t count, hdr;
	int rc;

	if (!ts || !v || !n)
		return BSP_EINVAL;
	*n = 0;
	hdr = chunk_header(buf, len, &fmt, &count);
	if (!hdr)
		return BSP_ECORRUPT;
	if (count > cap)
		return BSP_ELIMIT;
	bitio_reader_init(&r, buf + hdr, len - hdr);

	if ((fmt >> 2 & 3) == CHUNK_TS_RESIDUAL)
		rc = ts_read(&r, ts, count);
	else
		rc = ts_gorilla_read(&r, ts, count);
	if (rc < 0 || bitio_overrun(&r))
		return BSP_ECORRUPT;

	switch (fmt & 3) {
	case CHUNK_VAL_SCALED:
		rc = val_scaled_read(&r, v, count);
		break;
	case CHUNK_VAL_XOR:
		rc = val_xor_read(&r, v, count);
		break;
	default:
		for (size_t i = 0; i < count; i++)
			v[i] = dfrom(bitio_get_wide(&r, 64));
		rc = 0;
		break;
	}
	/* all bits used, the padding zero, nothing after it */
	if (rc < 0 || bitio_overrun(&r) || bitio_bytes_left(&r) != 0 ||
	    !bitio_pad_is_zero(&r))
		return BSP_ECORRUPT;
	*n = count;
	return BSP_OK;
}
