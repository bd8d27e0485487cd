/*
 * The timestamp codings of the chunk codec (included by lib/store/chunk.c
 * only; the format is in docs/storage.md).
 *
 * Residual coding: the deltas between consecutive times, divided by
 * their greatest common divisor g, minus a prediction: a base step (the
 * usual delta), the previous delta (Gorilla's delta-of-delta), or the
 * delta two back (two sampling agents taking turns, each on its own
 * 300 s clock, as some Bitbrains VMs show). The residuals, zigzag, go
 * through the adaptive integer code of bitio_code.h. On the Bitbrains
 * trace (300 s steps, a second of jitter now and then, missing rows)
 * the times take 0.68 bits a sample, against 1.34 with delta-of-delta
 * alone and 3.7 with Gorilla's buckets. Each time must be strictly
 * larger than the one before.
 *
 * Gorilla coding: the delta-of-delta buckets of Pelkonen et al.
 * ("Gorilla: A Fast, Scalable, In-Memory Time Series Database", VLDB
 * 2015), kept as the baseline and as a choice for the future.
 */
#ifndef BSP_STORE_CHUNK_TIME_H
#define BSP_STORE_CHUNK_TIME_H

#include "internal.h"

#include "bitio_code.h"
#include "chunk_num.h"

struct ts_plan {
	uint64_t g;	   /* common factor of the deltas */
	uint64_t base;	   /* the usual delta, in units of g */
	unsigned lag;	   /* predictor: 0 base, 1 previous, 2 two back */
	const uint64_t *u; /* the residuals, n - 1 */
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
 * passes with the GCD of the guess and all deltas.
 */
static int ts_plan(const bsp_time *ts, size_t n, uint64_t *q, uint64_t *ua,
		   uint64_t *ub, struct ts_plan *p)
{
	struct chunk_div dv;
	struct bitio_hist h;
	uint64_t g = 0, bad = 0, d3[3], step, zeros = 0;
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
	/* a step of exactly base * g is the rule, and takes a short path */
	step = p->base * g;
	prev = ts[0];
	for (size_t i = 1; i < n; i++) {
		bsp_time t = ts[i];
		uint64_t d = (uint64_t)t - (uint64_t)prev;
		uint64_t qi;

		bad |= (uint64_t)(t <= prev);
		prev = t;
		if (d == step) {
			q[i] = p->base;
			ua[i - 1] = 0;
			zeros++;
			continue;
		}
		qi = (d >> dv.sh) * dv.inv;
		bad |= (d & dv.mask) | (qi > dv.lim);
		q[i] = qi;
		ua[i - 1] = bitio_zigzag((int64_t)(qi - p->base));
		h.run += zeros;
		h.all[0] += (uint32_t)zeros;
		zeros = 0;
		bitio_hist_add(&h, ua[i - 1]);
	}
	h.run += zeros;
	h.all[0] += (uint32_t)zeros;
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
	p->bits +=
	    bitio_num_bits(p->g) + bitio_num_bits(p->base) + 2 + p->st.bits;
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

/*
 * ts[1..count] = ts[0] + step, ts[0] + 2 step, ...: a run of steps, its
 * overflow checked once. Returns -1 if a time would not be larger than
 * the one before or would pass INT64_MAX.
 */
static int ts_fill(bsp_time *ts, size_t count, uint64_t step)
{
	uint64_t t = (uint64_t)ts[0];
	uint64_t room = (uint64_t)INT64_MAX - t; /* exact: t <= INT64_MAX */

	if (count == 0)
		return 0;
	if (step == 0 || count > room / step)
		return -1;
	for (size_t i = 1; i <= count; i++) {
		t += step;
		ts[i] = (bsp_time)t;
	}
	return 0;
}

/*
 * Times predicted by the base step (the common case), decoded straight
 * from the residual stream: runs of zero residuals are a fill.
 */
static int ts_read_base(struct bitio_reader *in, bsp_time *ts, size_t n,
			uint64_t g, uint64_t base)
{
	struct bitio_reader r = *in; /* in registers, as in bitio_put */
	struct bitio_stream_rd s;
	uint64_t step = base * g;
	size_t pos = 0; /* residuals done; ts[pos] is set */
	int rc = -1;

	if (bitio_stream_open(&r, n - 1, &s) < 0)
		goto out;
	if (s.kind == BITIO_DENSE) {
		bsp_time t = ts[0];
		for (size_t i = 1; i < n; i++) {
			uint64_t u = bitio_code_get(&r, &s.code);
			uint64_t q = base + (uint64_t)bitio_unzigzag(u);
			if (ts_step(t, q * g, &t) < 0)
				goto out;
			ts[i] = t;
		}
		rc = 0;
		goto out;
	}
	for (uint64_t j = 0; s.kind == BITIO_SPARSE && j < s.k; j++) {
		size_t next = pos;
		uint64_t u, q;

		if (bitio_sparse_next(&r, &s, n - 1, &next, &u) < 0 ||
		    ts_fill(&ts[pos], next - pos, step) < 0)
			goto out;
		pos = next;
		q = base + (uint64_t)bitio_unzigzag(u);
		if (ts_step(ts[pos], q * g, &ts[pos + 1]) < 0)
			goto out;
		pos++;
	}
	if (ts_fill(&ts[pos], n - 1 - pos, step) < 0)
		goto out;
	rc = 0;
out:
	*in = r;
	return rc;
}

static int ts_read(struct bitio_reader *r, bsp_time *ts, size_t n)
{
	uint64_t t0, g, base, q1, q2;
	unsigned lag;
	unsigned char *raw = (unsigned char *)ts;

	if (bitio_get_num(r, &t0) < 0)
		return -1;
	ts[0] = bitio_unzigzag(t0);
	if (n < 2)
		return 0;
	if (bitio_get_num(r, &g) < 0 || g == 0 || bitio_get_num(r, &base) < 0)
		return -1;
	lag = (unsigned)bitio_get(r, 2);
	if (lag > 2)
		return -1;
	if (lag == 0)
		return ts_read_base(r, ts, n, g, base);
	if (bitio_stream_read(r, n - 1, raw + 8, 0) < 0)
		return -1;
	/* q1, q2: the deltas one and two back, in units of g */
	q1 = q2 = base;
	for (size_t i = 1; i < n; i++) {
		uint64_t pred = i <= lag ? base : lag == 1 ? q1 : q2;
		uint64_t q =
		    pred + (uint64_t)bitio_unzigzag(bitio_elem_get(raw, i));
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
 * -(2^(b-1) - 1) .. 2^(b-1). The first time takes 64 bits (Gorilla keeps
 * it in a block header), its delta is coded against a delta of 0.
 */
static const struct {
	uint8_t plen, pbits, width;
} gorilla_dod[] = {
    {2, 0x2, 14},
    {3, 0x6, 17},
    {4, 0xe, 20},
};

/* Bits ts_gorilla_write may take for n times. */
static uint64_t ts_gorilla_bound(size_t n)
{
	return 64 + 68 * (uint64_t)(n - 1);
}

static void ts_gorilla_write(struct bitio_writer *out, const bsp_time *ts,
			     size_t n)
{
	struct bitio_writer w = *out; /* in registers: see bitio_put */
	uint64_t prev = 0;

	bitio_put_wide(&w, (uint64_t)ts[0], 64);
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
		int64_t dod = (int64_t)(d - prev);
		size_t b;

		prev = d;
		if (dod == 0) {
			bitio_put(&w, 0, 1);
			continue;
		}
		for (b = 0; b < BSP_ARRAY_LEN(gorilla_dod); b++) {
			int64_t half = INT64_C(1) << (gorilla_dod[b].width - 1);
			if (dod > -half && dod <= half)
				break;
		}
		if (b < BSP_ARRAY_LEN(gorilla_dod)) {
			unsigned wd = gorilla_dod[b].width;
			bitio_put(&w, gorilla_dod[b].pbits,
				  gorilla_dod[b].plen);
			bitio_put(&w, (uint64_t)dod & ((UINT64_C(1) << wd) - 1),
				  wd);
		} else {
			bitio_put(&w, 0xf, 4);
			bitio_put_wide(&w, (uint64_t)dod, 64);
		}
	}
	*out = w;
}

static int ts_gorilla_read(struct bitio_reader *in, bsp_time *ts, size_t n)
{
	struct bitio_reader r = *in; /* in registers, as in bitio_put */
	uint64_t prev = 0;
	int rc = -1;

	ts[0] = (bsp_time)bitio_get_wide(&r, 64);
	for (size_t i = 1; i < n; i++) {
		uint64_t dod;
		unsigned ones;

		bitio_refill(&r);
		ones = (unsigned)__builtin_clzll(~r.win | UINT64_C(1) << 59);
		if (ones == 0) {
			bitio_skip(&r, 1);
			dod = 0;
		} else if (ones < 4) {
			unsigned wd = gorilla_dod[ones - 1].width;
			bitio_skip(&r, ones + 1);
			dod = bitio_get(&r, wd);
			if (dod > UINT64_C(1) << (wd - 1))
				dod -= UINT64_C(1) << wd;
		} else {
			bitio_skip(&r, 4);
			dod = bitio_get_wide(&r, 64);
		}
		prev += dod;
		if (ts_step(ts[i - 1], prev, &ts[i]) < 0)
			goto out;
	}
	rc = 0;
out:
	*in = r;
	return rc;
}

#endif
