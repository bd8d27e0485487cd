/*
 * The sample chunk codec (chunk.h): one series' samples over one window,
 * lossless to the bit. The byte format and the measured sizes are in
 * docs/storage.md ("Chunk format"); this is the design in brief.
 *
 * A chunk is a format byte (version, timestamp coding, value coding), the
 * sample count as a LEB128 varint, then one bit stream: the timestamps,
 * then the values, zero-padded to a byte. Nothing follows.
 *
 * Timestamps. The deltas between consecutive times are divided by their
 * greatest common divisor (1000 when times are whole seconds), then
 * predicted, per chunk, by one of: a constant base step, the previous
 * delta (Gorilla's delta-of-delta), or the delta two back (two sampling
 * agents interleaved, as some Bitbrains VMs show). The residuals go
 * through the adaptive integer code below.
 *
 * Values. Gorilla's XOR coding (Pelkonen et al., "Gorilla: A Fast,
 * Scalable, In-Memory Time Series Database", VLDB 2015) works for binary
 * fractions but spends 30-50 bits on decimal data. Most telemetry is
 * decimal: printed with a few digits, or an average over a window (so
 * v = m / 15, m / 30). Following ALP (Afroozeh and Boncz, "ALP: Adaptive
 * Lossless floating-Point Compression", SIGMOD 2024) each chunk picks a
 * scale s = k * 10^e (k in {1, 3}, e in 0..15) from a sample of its
 * values, and codes the integers m = round(v * s). Unlike ALP, a value
 * that does not come back exactly as (double)m / s is not an exception
 * stored apart: the difference of the two bit patterns is coded as a
 * correction, usually 0, often +-1..3 ulp for values that were computed
 * (a product of two decimals, a percentage), and 64 bits for NaN, -0.0 or
 * a value out of range. The integers m are then divided by their greatest
 * common divisor (CPU MHz values are multiples of capacity / 3000) and
 * coded as deltas or as offsets from the minimum, whichever is smaller.
 * When that is not smaller than Gorilla's XOR or raw 64-bit words, the
 * chunk uses one of those.
 *
 * The integer code. Each stream of unsigned integers (zigzag for signed)
 * is all-zero, dense or sparse. Dense: up to four width classes, each a
 * truncated-unary symbol followed by that many bits; the widths and
 * which class gets the shortest symbol are chosen per stream by dynamic
 * programming over the histogram of bit widths (Gorilla's fixed buckets,
 * fitted to the data). Sparse: the count of non-zero values, then for
 * each the run of zeros before it and the value, each with its own fitted
 * code. The encoder computes every size exactly before it writes, so the
 * output buffer is allocated once, and a mismatch is a bug it reports.
 *
 * Decoding reads through bitio.h, which never reads outside the buffer;
 * every count is checked against the header's sample count (itself at
 * most CHUNK_MAX_SAMPLES and at most the caller's cap), widths against
 * 64, sparse positions against n, timestamps must increase strictly, and
 * the stream must end exactly at the last byte. Decoding allocates
 * nothing: streams are unpacked into the caller's arrays.
 *
 * The arithmetic needs IEEE-754 binary64 with round-to-nearest and no
 * excess precision, so that encoder and decoder round (double)m / s alike.
 */
#include <float.h>
#include <math.h>

#include "bitio_code.h"
#include "chunk_int.h"

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "the chunk codec needs double arithmetic without excess precision"
#endif

#define CHUNK_VERSION 1u
#define CHUNK_FMT(tsc, valc) (CHUNK_VERSION << 4 | (unsigned)(tsc) << 2 | \
			      (unsigned)(valc))

/* s = k * 10^e, ascending; all exact doubles. The index takes 5 bits. */
static const double chunk_scales[] = {
	1, 3, 1e1, 3e1, 1e2, 3e2, 1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6, 3e6,
	1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11, 3e11, 1e12, 3e12,
	1e13, 3e13, 1e14, 3e14, 1e15, 3e15,
};
#define CHUNK_N_SCALES BSP_ARRAY_LEN(chunk_scales)

/* |v * s| below this rounds exactly with the 1.5 * 2^52 trick. */
#define CHUNK_M_LIMIT 0x1p51

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

/* ---- exact division by a common factor --------------------------------- */

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
	uint64_t inv;   /* odd part's inverse mod 2^64 */
	uint64_t lim;   /* UINT64_MAX / odd part */
	uint64_t mask;  /* low bits that must be zero */
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

/* ---- timestamps: residual coding ------------------------------------- */

struct ts_plan {
	uint64_t g;         /* common factor of the deltas */
	uint64_t base;      /* the usual delta, in units of g */
	unsigned lag;       /* predictor: 0 base, 1 previous, 2 two back */
	const uint64_t *u;  /* the residuals, n - 1 */
	struct bitio_stream st;
	uint64_t bits;
};

/*
 * Residuals of q[1..n) (deltas in units of g) under a predictor, zigzag,
 * into u[0..n-1), and their stream's plan.
 */
static void ts_eval(const uint64_t *q, size_t n, uint64_t base, unsigned lag,
		    uint64_t *u, struct bitio_stream *st)
{
	struct bitio_hist h;

	bitio_hist_init(&h, 1);
	for (size_t i = 1; i < n; i++) {
		uint64_t pred = lag && i > lag ? q[i - lag] : base;
		u[i - 1] = bitio_zigzag((int64_t)(q[i] - pred));
		bitio_hist_add(&h, u[i - 1]);
	}
	bitio_stream_plan(u, n - 1, &h, st);
}

static uint64_t median3(uint64_t a, uint64_t b, uint64_t c)
{
	if (a > b) {
		uint64_t t = a;
		a = b;
		b = t;
	}
	return c <= a ? a : c >= b ? b : c;
}

/*
 * Plans the times; returns -1 if they do not increase strictly. q[1..n)
 * receives the deltas / g; the residuals land in ua or ub (p->u says
 * which).
 *
 * One pass in the common case: the common factor is guessed from the
 * first deltas (rounded down to 1000 when it is a multiple: whole
 * seconds, which are the norm, and a larger factor saves almost nothing
 * over it), and the pass that checks the order also checks the guess
 * while it divides, predicts and counts. A wrong guess costs two more
 * passes that find the true GCD.
 */
static int ts_plan(const bsp_time *ts, size_t n, uint64_t *q, uint64_t *ua,
		   uint64_t *ub, struct ts_plan *p)
{
	struct chunk_div dv;
	struct bitio_hist h;
	uint64_t g = 0, bad = 0, d3[3];
	bsp_time prev;

	p->bits = bitio_num_bits(bitio_zigzag(ts[0]));
	p->g = 1;
	p->base = 0;
	p->lag = 0;
	p->u = ua;
	if (n < 2)
		return 0;
	for (size_t i = 1; i < n && i <= 4; i++) {
		if (ts[i] <= ts[i - 1])
			return -1;
		g = chunk_gcd(g, (uint64_t)ts[i] - (uint64_t)ts[i - 1]);
	}
	if (g % 1000 == 0)
		g = 1000;
	for (size_t j = 0; j < 3; j++) {
		size_t i = j + 1 < n ? j + 1 : n - 1;
		d3[j] = ((uint64_t)ts[i] - (uint64_t)ts[i - 1]) / g;
	}
	p->base = median3(d3[0], d3[1], d3[2]);
	div_init(&dv, g);
	bitio_hist_init(&h, 1);
	prev = ts[0];
	for (size_t i = 1; i < n; i++) {
		bsp_time t = ts[i];
		uint64_t d = (uint64_t)t - (uint64_t)prev;
		uint64_t qi = (d >> dv.sh) * dv.inv;

		bad |= (uint64_t)(t <= prev) | (d & dv.mask) | (qi > dv.lim);
		q[i] = qi;
		ua[i - 1] = bitio_zigzag((int64_t)(qi - p->base));
		bitio_hist_add(&h, ua[i - 1]);
		prev = t;
	}
	if (bad) {
		/* out of order, or the guess was wrong */
		for (size_t i = 1; i < n; i++) {
			if (ts[i] <= ts[i - 1])
				return -1;
			q[i] = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
			if (!div_divides(&dv, q[i])) {
				g = chunk_gcd(g, q[i]);
				div_init(&dv, g);
			}
		}
		for (size_t i = 1; i < n; i++)
			q[i] = (q[i] >> dv.sh) * dv.inv;
		p->base = median3(q[1 + (n - 2) / 4], q[1 + (n - 2) / 2],
				  q[1 + 3 * (n - 2) / 4]);
		bitio_hist_init(&h, 1);
		for (size_t i = 1; i < n; i++) {
			ua[i - 1] = bitio_zigzag((int64_t)(q[i] - p->base));
			bitio_hist_add(&h, ua[i - 1]);
		}
	}
	p->g = g;
	bitio_stream_plan(ua, n - 1, &h, &p->st);
	/* a steady clock leaves few residuals; otherwise try a base from
	 * over the whole chunk, and the lags */
	if (n >= 4 && p->st.k > (n - 1) / 8) {
		uint64_t base = median3(q[1 + (n - 2) / 4], q[1 + (n - 2) / 2],
					q[1 + 3 * (n - 2) / 4]);
		for (unsigned lag = 0; lag <= 2; lag++) {
			uint64_t *spare = p->u == ua ? ub : ua;
			struct bitio_stream st;

			if (lag == 0 && base == p->base)
				continue;
			ts_eval(q, n, base, lag, spare, &st);
			if (st.bits + bitio_width(base) <
			    p->st.bits + bitio_width(p->base)) {
				p->st = st;
				p->lag = lag;
				p->base = base;
				p->u = spare;
			}
		}
	}
	p->bits += bitio_num_bits(p->g) + bitio_num_bits(p->base) + 2 +
		   p->st.bits;
	return 0;
}

static void ts_write(struct bitio_writer *w, const bsp_time *ts, size_t n,
		     const struct ts_plan *p)
{
	bitio_put_num(w, bitio_zigzag(ts[0]));
	if (n < 2)
		return;
	bitio_put_num(w, p->g);
	bitio_put_num(w, p->base);
	bitio_put(w, p->lag, 2);
	bitio_stream_write(w, &p->st, p->u);
}

/* ts[i] = prev + d after checking that it is larger. */
static inline int ts_step(bsp_time prev, uint64_t d, bsp_time *out)
{
	bsp_time t = (bsp_time)((uint64_t)prev + d);
	if (t <= prev)
		return -1;
	*out = t;
	return 0;
}

static int ts_read(struct bitio_reader *r, bsp_time *ts, size_t n)
{
	uint64_t t0, g, base, q1, q2;
	unsigned lag;
	unsigned char *raw = (unsigned char *)ts;
	size_t i = 1;

	if (bitio_get_num(r, &t0) < 0)
		return -1;
	ts[0] = bitio_unzigzag(t0);
	if (n < 2)
		return 0;
	if (bitio_get_num(r, &g) < 0 || g == 0 ||
	    bitio_get_num(r, &base) < 0)
		return -1;
	lag = (unsigned)bitio_get(r, 2);
	if (lag > 2)
		return -1;
	if (bitio_stream_read(r, n - 1, raw + 8, 0) < 0)
		return -1;
	if (lag == 0) {
		for (; i < n; i++) {
			uint64_t q = base + (uint64_t)bitio_unzigzag(
						    bitio_elem_get(raw, i));
			if (ts_step(ts[i - 1], q * g, &ts[i]) < 0)
				return -1;
		}
		return 0;
	}
	/* q1, q2: the deltas one and two back, in units of g */
	q1 = q2 = base;
	for (; i < n; i++) {
		uint64_t pred = i <= lag ? base : lag == 1 ? q1 : q2;
		uint64_t q = pred + (uint64_t)bitio_unzigzag(
					    bitio_elem_get(raw, i));
		if (ts_step(ts[i - 1], q * g, &ts[i]) < 0)
			return -1;
		q2 = q1;
		q1 = q;
	}
	return 0;
}

/* ---- timestamps: Gorilla ------------------------------------------------ */

/*
 * Gorilla's delta-of-delta buckets ('0', '10', '110', '1110', '1111'),
 * with the widths Prometheus chose for millisecond times (14, 17, 20
 * bits, then 64 where Gorilla has 32); a bucket of b bits holds
 * -(2^(b-1) - 1) .. 2^(b-1). The first time takes 64 bits.
 */
static const struct {
	uint8_t plen, pbits, width;
} gorilla_dod[] = {
	{2, 0x2, 14},
	{3, 0x6, 17},
	{4, 0xe, 20},
};

/* Writes (w != NULL) or only counts; returns the bits. */
static uint64_t ts_gorilla(struct bitio_writer *w, const bsp_time *ts,
			   size_t n)
{
	uint64_t bits = 64, prev = 0;

	if (w)
		bitio_put_wide(w, (uint64_t)ts[0], 64);
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
		int64_t dod = (int64_t)(d - prev);
		size_t b;

		prev = d;
		if (dod == 0) {
			bits += 1;
			if (w)
				bitio_put(w, 0, 1);
			continue;
		}
		for (b = 0; b < BSP_ARRAY_LEN(gorilla_dod); b++) {
			int64_t half = INT64_C(1) << (gorilla_dod[b].width - 1);
			if (dod > -half && dod <= half)
				break;
		}
		if (b < BSP_ARRAY_LEN(gorilla_dod)) {
			unsigned wd = gorilla_dod[b].width;
			bits += gorilla_dod[b].plen + wd;
			if (w) {
				bitio_put(w, gorilla_dod[b].pbits,
					  gorilla_dod[b].plen);
				bitio_put(w, (uint64_t)dod &
					  ((UINT64_C(1) << wd) - 1), wd);
			}
		} else {
			bits += 4 + 64;
			if (w) {
				bitio_put(w, 0xf, 4);
				bitio_put_wide(w, (uint64_t)dod, 64);
			}
		}
	}
	return bits;
}

static int ts_gorilla_read(struct bitio_reader *r, bsp_time *ts, size_t n)
{
	uint64_t prev = 0;

	ts[0] = (bsp_time)bitio_get_wide(r, 64);
	for (size_t i = 1; i < n; i++) {
		uint64_t dod;
		unsigned ones;

		bitio_refill(r);
		ones = (unsigned)__builtin_clzll(~r->win | UINT64_C(1) << 59);
		if (ones == 0) {
			bitio_skip(r, 1);
			dod = 0;
		} else if (ones < 4) {
			unsigned wd = gorilla_dod[ones - 1].width;
			bitio_skip(r, ones + 1);
			dod = bitio_get(r, wd);
			if (dod > UINT64_C(1) << (wd - 1))
				dod -= UINT64_C(1) << wd;
		} else {
			bitio_skip(r, 4);
			dod = bitio_get_wide(r, 64);
		}
		prev += dod;
		if (ts_step(ts[i - 1], prev, &ts[i]) < 0)
			return -1;
	}
	return 0;
}

/* ---- values: Gorilla XOR and raw --------------------------------------- */

/*
 * Gorilla's value coding: '0' for a repeat; '10' and the meaningful bits
 * when they fit the previous window of leading and trailing zeros; '11',
 * 5 bits of leading zeros (at most 31), 6 bits of length (64 as 0) and
 * the bits otherwise. Writes (w != NULL) or only counts.
 */
static uint64_t val_xor(struct bitio_writer *w, const double *v, size_t n)
{
	uint64_t bits = 64, prev = dbits(v[0]);
	unsigned plead = 65, ptrail = 0;

	if (w)
		bitio_put_wide(w, prev, 64);
	for (size_t i = 1; i < n; i++) {
		uint64_t cur = dbits(v[i]), x = cur ^ prev;
		unsigned lead, trail, sig;

		prev = cur;
		if (!x) {
			bits += 1;
			if (w)
				bitio_put(w, 0, 1);
			continue;
		}
		lead = (unsigned)__builtin_clzll(x);
		trail = (unsigned)__builtin_ctzll(x);
		if (lead > 31)
			lead = 31;
		if (plead <= 64 && lead >= plead && trail >= ptrail) {
			sig = 64 - plead - ptrail;
			bits += 2 + sig;
			if (w) {
				bitio_put(w, 0x2, 2);
				bitio_put_wide(w, x >> ptrail, sig);
			}
			continue;
		}
		sig = 64 - lead - trail;
		bits += 2 + 5 + 6 + sig;
		if (w) {
			bitio_put(w, 0x3, 2);
			bitio_put(w, lead, 5);
			bitio_put(w, sig & 63, 6);
			bitio_put_wide(w, x >> trail, sig);
		}
		plead = lead;
		ptrail = trail;
	}
	return bits;
}

static int val_xor_read(struct bitio_reader *r, double *v, size_t n)
{
	uint64_t prev = bitio_get_wide(r, 64);
	unsigned plead = 65, ptrail = 0;

	v[0] = dfrom(prev);
	for (size_t i = 1; i < n; i++) {
		unsigned sig;

		bitio_refill(r);
		if (!(r->win >> 63)) {
			bitio_skip(r, 1);
		} else if (!(r->win >> 62 & 1)) {
			bitio_skip(r, 2);
			if (plead > 64)
				return -1;
			sig = 64 - plead - ptrail;
			prev ^= bitio_get_wide(r, sig) << ptrail;
		} else {
			unsigned lead;
			bitio_skip(r, 2);
			lead = (unsigned)bitio_get(r, 5);
			sig = (unsigned)bitio_get(r, 6);
			if (sig == 0)
				sig = 64;
			if (lead + sig > 64)
				return -1;
			plead = lead;
			ptrail = 64 - lead - sig;
			prev ^= bitio_get_wide(r, sig) << ptrail;
		}
		v[i] = dfrom(prev);
	}
	return 0;
}

/* ---- values: decimal scaling -------------------------------------------- */

struct val_plan {
	unsigned sidx;     /* chunk_scales[sidx] */
	unsigned mode;     /* 0 deltas, 1 offsets from the minimum */
	int64_t anchor;    /* first m (deltas) or the minimum (offsets) */
	uint64_t gcd;      /* of the m deltas; 0 if all m are equal */
	const uint64_t *u; /* the integer stream */
	struct bitio_stream ints, fix;
	uint64_t bits;
};

/* round(x) for |x| < 2^51 (to nearest, ties to even), without libm. */
static inline int64_t round_small(double x)
{
	return (int64_t)((x + 0x1.8p52) - 0x1.8p52);
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
				score += 4 + bitio_width(bitio_zigzag(
						     (int64_t)c));
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
			      int64_t lo, const struct chunk_div *dv,
			      int unit, uint64_t *u, struct bitio_hist *h)
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
	uint64_t cd = bitio_width(bitio_zigzag(m[0])), co = bitio_width(
		bitio_zigzag(lo));

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
	int64_t prev = 0, lo = INT64_MAX;
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
		double x = v[0] * s;
		int64_t m0 = fabs(x) < CHUNK_M_LIMIT ? round_small(x) : 0;
		uint64_t f0 = bitio_zigzag((int64_t)(b0 - dbits((double)m0 /
								 s)));
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
	for (size_t i = 0; i < n; i++) {
		double x = v[i] * s;
		int64_t mi = fabs(x) < CHUNK_M_LIMIT ? round_small(x) : prev;
		uint64_t c = dbits(v[i]) - dbits((double)mi / s);
		int64_t d = i ? mi - prev : 0;
		uint64_t ad = d < 0 ? -(uint64_t)d : (uint64_t)d;

		m[i] = mi;
		fix[i] = bitio_zigzag((int64_t)c);
		hf.all[bitio_width(fix[i])]++;
		if (ad && !div_divides(&dv, ad)) {
			g = chunk_gcd(g, ad);
			div_init(&dv, g);
		}
		if (mi < lo)
			lo = mi;
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

static int val_scaled_read(struct bitio_reader *r, double *v, size_t n)
{
	unsigned sidx = (unsigned)bitio_get(r, 5);
	unsigned mode = (unsigned)bitio_get(r, 1);
	unsigned char *raw = (unsigned char *)v;
	uint64_t anchor, g, m;
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
	} else if (mode == 0) {
		if (bitio_stream_read(r, n - 1, raw + 8, 0) < 0)
			return -1;
		m = anchor;
		v[0] = (double)(int64_t)m / s;
		for (size_t i = 1; i < n; i++) {
			m += g * (uint64_t)bitio_unzigzag(
					 bitio_elem_get(raw, i));
			v[i] = (double)(int64_t)m / s;
		}
	} else {
		if (bitio_stream_read(r, n, raw, 0) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			m = anchor + g * bitio_elem_get(raw, i);
			v[i] = (double)(int64_t)m / s;
		}
	}
	return bitio_stream_read(r, n, raw, 1);
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

/* Bits the Gorilla codings take at most (the writer checks them). */
static uint64_t ts_gorilla_bound(size_t n)
{
	return 64 + 68 * (uint64_t)(n - 1);
}

static uint64_t val_xor_bound(size_t n)
{
	return 64 + 77 * (uint64_t)(n - 1);
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

	switch (val_coding) {
	case CHUNK_VAL_AUTO:
		val_scaled_plan(v, n, m, fix, va, &vp);
		val_bits = vp.bits;
		val_coding = CHUNK_VAL_SCALED;
		/* XOR wins only where values share long runs of binary
		 * digits but are not decimals: look only when the scaled
		 * coding needed corrections and many bits */
		if (val_bits > 8 * (uint64_t)n && vp.fix.k > 0) {
			uint64_t b = val_xor(NULL, v, n);
			if (b < val_bits) {
				val_bits = b;
				val_coding = CHUNK_VAL_XOR;
			}
		}
		if (64 * (uint64_t)n < val_bits) {
			val_bits = 64 * (uint64_t)n;
			val_coding = CHUNK_VAL_RAW;
		}
		break;
	case CHUNK_VAL_SCALED:
		val_scaled_plan(v, n, m, fix, va, &vp);
		val_bits = vp.bits;
		break;
	case CHUNK_VAL_XOR:
		val_bits = val_xor_bound(n);
		exact = 0;
		break;
	default:
		val_bits = 64 * (uint64_t)n;
		break;
	}

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
		ts_gorilla(&w, ts, n);
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
