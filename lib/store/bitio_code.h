/*
 * The adaptive integer code of the chunk codec, on top of bitio.h.
 * Included by lib/store/chunk.c only; header-only so that the per-value
 * loops inline into their callers.
 *
 * A code has up to four symbols, truncated unary (0, 10, 110, 111; with
 * k symbols the last is k-1 ones), each followed by a fixed number of
 * payload bits, its width. A value takes the symbol of the narrowest
 * width that holds it. This is Gorilla's bucket code (Pelkonen et al.,
 * VLDB 2015) with the buckets fitted to each stream instead of fixed:
 * from the histogram of bit widths, dynamic programming picks the split
 * into k contiguous width classes that costs least with the symbols in
 * width order; then the shortest symbols go to the fullest classes (a
 * second split for those lengths gained 0.1% on the Bitbrains trace and
 * was dropped for speed). The header lists k and the width of each
 * symbol.
 *
 * A stream of n values is one of
 *   zero:   every value is 0 (2 bits in all);
 *   dense:  a code, then each value;
 *   sparse: the count of non-zero values, a code for the runs of zeros
 *           before each and a code for (value - 1), then the pairs.
 * The encoder picks the smallest; sizes are exact, so the caller can
 * size its buffer and check what it wrote.
 */
#ifndef BSP_STORE_BITIO_CODE_H
#define BSP_STORE_BITIO_CODE_H

#include <string.h>

#include "bitio.h"

#define BITIO_CODE_MAX 4 /* symbols per code */

struct bitio_code {
	unsigned k;		       /* symbols, 1..BITIO_CODE_MAX */
	uint8_t width[BITIO_CODE_MAX]; /* payload bits after symbol c */
};

static inline unsigned bitio_code_plen(unsigned k, unsigned c)
{
	return c + 1 < k ? c + 1 : c;
}

static inline uint64_t bitio_code_pbits(unsigned k, unsigned c)
{
	uint64_t ones = (UINT64_C(1) << c) - 1;
	return c + 1 < k ? ones << 1 : ones;
}

static inline unsigned bitio_code_header_bits(unsigned k)
{
	return 2 + 7 * k;
}

/*
 * What planning a stream needs: the histogram of the values' bit widths
 * and, for the sparse form, of the zero runs and of the non-zero values
 * less one. Callers fill it inside their own loops (bitio_hist_add).
 */
struct bitio_hist {
	uint32_t all[65];
	uint32_t gap[65];
	uint32_t nz[65];
	uint64_t run; /* zeros since the last non-zero value */
	int sparse;   /* gap and nz are filled */
};

static inline void bitio_hist_init(struct bitio_hist *h, int sparse)
{
	memset(h->all, 0, sizeof(h->all));
	if (sparse) {
		memset(h->gap, 0, sizeof(h->gap));
		memset(h->nz, 0, sizeof(h->nz));
	}
	h->run = 0;
	h->sparse = sparse;
}

/* Counts u in the sparse part only. */
static inline void bitio_hist_add_sparse(struct bitio_hist *h, uint64_t u)
{
	if (u) {
		h->gap[bitio_width(h->run)]++;
		h->nz[bitio_width(u - 1)]++;
		h->run = 0;
	} else {
		h->run++;
	}
}

/* Counts u; for a histogram made with sparse == 1. */
static inline void bitio_hist_add(struct bitio_hist *h, uint64_t u)
{
	h->all[bitio_width(u)]++;
	bitio_hist_add_sparse(h, u);
}

/*
 * Gives the shortest symbols to the fullest classes. ends[j] is the index
 * in ws of class j's largest width; cum[] holds cumulative counts. Fills
 * code and returns the data bits.
 */
static inline uint64_t bitio_code_assign(unsigned k, const uint8_t *ws,
					 const uint64_t *cum,
					 const unsigned *ends,
					 struct bitio_code *code)
{
	uint64_t cnt[BITIO_CODE_MAX];
	unsigned order[BITIO_CODE_MAX];
	uint64_t bits = 0;

	for (unsigned j = 0; j < k; j++) {
		unsigned lo = j ? ends[j - 1] + 1 : 0;
		cnt[j] = cum[ends[j] + 1] - cum[lo];
		order[j] = j;
	}
	/* stable insertion sort, fullest first */
	for (unsigned a = 1; a < k; a++) {
		unsigned x = order[a], b = a;
		while (b > 0 && cnt[order[b - 1]] < cnt[x]) {
			order[b] = order[b - 1];
			b--;
		}
		order[b] = x;
	}
	code->k = k;
	for (unsigned c = 0; c < k; c++) {
		unsigned j = order[c];
		code->width[c] = ws[ends[j]];
		bits += cnt[j] * (bitio_code_plen(k, c) + ws[ends[j]]);
	}
	return bits;
}

/*
 * Fits a code to a histogram of widths (h[w] values of width w) and
 * returns the bits of its header plus all the values.
 *
 * With the symbols in width order, class j of k costs j+1 prefix bits,
 * except the last, which costs k-1: so the dynamic programme's layers
 * (f[j][i]: classes 0..j cover the widths up to ws[i], the cheapest) are
 * the same for every k but the last, which is needed at one cell only.
 * One pass fills two shared layers; each k then closes in O(nw).
 */
static inline uint64_t bitio_code_plan(const uint32_t *h,
				       struct bitio_code *code)
{
	uint8_t ws[65];
	uint64_t cum[66];
	uint64_t f[BITIO_CODE_MAX - 1][65];
	uint8_t arg[BITIO_CODE_MAX - 1][65];
	unsigned nw = 0;
	uint64_t best;

	cum[0] = 0;
	for (unsigned w = 0; w <= 64; w += 2) {
		uint64_t pair = h[w];

		/* most widths are absent: test two counters at once */
		if (w < 64)
			memcpy(&pair, &h[w], sizeof(pair));
		if (!pair)
			continue;
		for (unsigned x = w; x <= w + 1 && x <= 64; x++) {
			if (h[x]) {
				ws[nw] = (uint8_t)x;
				cum[nw + 1] = cum[nw] + h[x];
				nw++;
			}
		}
	}
	/* one class: no prefix at all */
	code->k = 1;
	code->width[0] = nw ? ws[nw - 1] : 0;
	best = (nw ? cum[nw] * ws[nw - 1] : 0) + bitio_code_header_bits(1);
	if (nw < 2)
		return best;

	for (unsigned i = 0; i < nw; i++)
		f[0][i] = cum[i + 1] * (1 + ws[i]);
	for (unsigned j = 1; j < BITIO_CODE_MAX - 1 && j < nw; j++) {
		for (unsigned i = j; i < nw; i++) {
			uint64_t per = j + 1 + ws[i], bc = UINT64_MAX;
			unsigned ba = j - 1;
			for (unsigned p = j - 1; p < i; p++) {
				uint64_t c = f[j - 1][p] +
					     (cum[i + 1] - cum[p + 1]) * per;
				if (c < bc) {
					bc = c;
					ba = p;
				}
			}
			f[j][i] = bc;
			arg[j][i] = (uint8_t)ba;
		}
	}
	for (unsigned k = 2; k <= BITIO_CODE_MAX && k <= nw; k++) {
		unsigned ends[BITIO_CODE_MAX];
		struct bitio_code c;
		uint64_t per = k - 1 + ws[nw - 1], bc = UINT64_MAX, bits;
		unsigned ba = k - 2;

		/* the last class, k-1, ends at the widest width */
		for (unsigned p = k - 2; p < nw - 1; p++) {
			uint64_t x = f[k - 2][p] + (cum[nw] - cum[p + 1]) * per;
			if (x < bc) {
				bc = x;
				ba = p;
			}
		}
		ends[k - 1] = nw - 1;
		ends[k - 2] = ba;
		for (unsigned j = k - 2; j > 0; j--)
			ends[j - 1] = arg[j][ends[j]];
		/* then the shortest symbols to the fullest classes */
		bits = bitio_code_assign(k, ws, cum, ends, &c) +
		       bitio_code_header_bits(k);
		if (bits < best) {
			best = bits;
			*code = c;
		}
	}
	return best;
}

/* The writer's view of a code: per width the symbol, per symbol its bits. */
struct bitio_code_enc {
	uint8_t sym[65];
	uint8_t len[BITIO_CODE_MAX]; /* prefix + payload */
	uint8_t plen[BITIO_CODE_MAX];
	uint8_t wd[BITIO_CODE_MAX];
	uint64_t pbits[BITIO_CODE_MAX]; /* prefix, shifted over the payload
					   when len <= 56 */
};

static inline void bitio_code_enc_init(struct bitio_code_enc *e,
				       const struct bitio_code *code)
{
	unsigned by_w[BITIO_CODE_MAX], k = code->k, lo = 0;

	for (unsigned c = 0; c < k; c++) {
		unsigned x = c, b = c;
		while (b > 0 && code->width[by_w[b - 1]] > code->width[x]) {
			by_w[b] = by_w[b - 1];
			b--;
		}
		by_w[b] = x;
	}
	/* widths lo..width[c] take symbol c; those above the widest are
	 * never asked for */
	for (unsigned j = 0; j < k; j++) {
		unsigned hi = code->width[by_w[j]];
		if (hi >= lo)
			memset(&e->sym[lo], (int)by_w[j], hi - lo + 1);
		lo = hi + 1;
	}
	if (lo <= 64)
		memset(&e->sym[lo], (int)by_w[k - 1], 65 - lo);
	for (unsigned c = 0; c < k; c++) {
		e->plen[c] = (uint8_t)bitio_code_plen(k, c);
		e->wd[c] = code->width[c];
		e->len[c] = (uint8_t)(e->plen[c] + e->wd[c]);
		e->pbits[c] = bitio_code_pbits(k, c);
		if (e->len[c] <= 56)
			e->pbits[c] <<= e->wd[c];
	}
}

static inline void bitio_code_write_header(struct bitio_writer *w,
					   const struct bitio_code *code)
{
	bitio_put(w, code->k - 1, 2);
	for (unsigned c = 0; c < code->k; c++)
		bitio_put(w, code->width[c], 7);
}

/* Writes u under the code; the caller has checked the room (bitio_room). */
BITIO_HOT void bitio_code_put(struct bitio_writer *w,
			      const struct bitio_code_enc *e, uint64_t u)
{
	unsigned c = e->sym[bitio_width(u)];

	if (e->len[c] <= 56) {
		bitio_put_unchecked(w, e->pbits[c] | u, e->len[c]);
	} else {
		bitio_put_unchecked(w, e->pbits[c], e->plen[c]);
		if (e->wd[c] > 56) {
			bitio_put_unchecked(w, u >> 32, e->wd[c] - 32);
			u &= UINT64_C(0xffffffff);
			bitio_put_unchecked(w, u, 32);
		} else {
			bitio_put_unchecked(w, u, e->wd[c]);
		}
	}
}

/*
 * The reader's view of a code. A symbol is at most 3 bits, so the next 3
 * bits of the stream name it and its payload width; both are looked up
 * in 64-bit words (8 entries of 8 bits, indexed by those 3 bits), which
 * keeps the per-value dependency chain to a few shifts.
 */
struct bitio_code_dec {
	uint64_t lentab; /* symbol + payload bits */
	uint64_t wdtab;	 /* payload bits */
};

/* Returns 0, or -1 for a width over 64. */
static inline int bitio_code_read_header(struct bitio_reader *r,
					 struct bitio_code_dec *d)
{
	unsigned k = (unsigned)bitio_get(r, 2) + 1;
	uint8_t wd[BITIO_CODE_MAX];

	for (unsigned c = 0; c < k; c++) {
		wd[c] = (uint8_t)bitio_get(r, 7);
		if (wd[c] > 64)
			return -1;
	}
	d->lentab = 0;
	d->wdtab = 0;
	for (unsigned top = 0; top < 8; top++) {
		/* leading ones of the 3 bits, at most k-1 */
		unsigned c = top >= 6 ? (top == 7 ? 3 : 2) : top >= 4;
		if (c > k - 1)
			c = k - 1;
		d->lentab |= (uint64_t)(bitio_code_plen(k, c) + wd[c])
			     << (8 * top);
		d->wdtab |= (uint64_t)wd[c] << (8 * top);
	}
	return 0;
}

BITIO_HOT uint64_t bitio_code_get(struct bitio_reader *r,
				  const struct bitio_code_dec *d)
{
	unsigned sh, len, wd;
	uint64_t w, x;

	bitio_refill(r);
	w = r->win;
	sh = (unsigned)(w >> 58) & 0x38; /* the top 3 bits, times 8 */
	len = (unsigned)(d->lentab >> sh) & 0xff;
	wd = (unsigned)(d->wdtab >> sh) & 0xff;
	if (len <= 56) {
		x = w << (len - wd);
		r->win = w << len;
		r->avail -= len;
		/* the top wd bits of x, also right for wd == 0 */
		return (x >> 1) >> (63 - wd);
	}
	bitio_skip(r, len - wd);
	return bitio_get_wide(r, wd);
}

/* ---- streams ----------------------------------------------------------- */

enum { BITIO_ZERO = 0, BITIO_DENSE = 1, BITIO_SPARSE = 2 };

struct bitio_stream {
	unsigned kind;
	size_t n, k;		/* values, non-zero values */
	struct bitio_code code; /* dense: values; sparse: non-zero - 1 */
	struct bitio_code gap;	/* sparse: zero runs before each non-zero */
	uint64_t bits;		/* exact size, kind included */
};

/*
 * Plans the stream u[0..n) from its histogram h. Sparse coding is looked
 * at only when at least half the values are zero: below that it does
 * not pay. If h lacks the sparse part, it is counted from u here.
 */
static inline void bitio_stream_plan(const uint64_t *u, size_t n,
				     struct bitio_hist *h,
				     struct bitio_stream *st)
{
	st->n = n;
	st->k = n - h->all[0];
	if (st->k == 0) {
		st->kind = BITIO_ZERO;
		st->bits = 2;
		return;
	}
	st->bits = UINT64_MAX;
	if (h->all[0] >= n / 2) {
		if (!h->sparse) {
			memset(h->gap, 0, sizeof(h->gap));
			memset(h->nz, 0, sizeof(h->nz));
			h->run = 0;
			h->sparse = 1;
			for (size_t i = 0; i < n; i++)
				bitio_hist_add_sparse(h, u[i]);
		}
		st->kind = BITIO_SPARSE;
		st->bits = 2 + bitio_width(n - 1) +
			   bitio_code_plan(h->gap, &st->gap) +
			   bitio_code_plan(h->nz, &st->code);
		/* dense takes a bit a value at least */
		if (st->bits <= 2 + bitio_code_header_bits(1) + n)
			return;
	}
	struct bitio_code dense;
	uint64_t bits = 2 + bitio_code_plan(h->all, &dense);
	if (bits < st->bits) {
		st->kind = BITIO_DENSE;
		st->bits = bits;
		st->code = dense;
	}
}

static inline void bitio_stream_write(struct bitio_writer *out,
				      const struct bitio_stream *st,
				      const uint64_t *u)
{
	struct bitio_writer w = *out; /* in registers: see bitio_put */
	struct bitio_code_enc e, g;
	uint64_t run = 0;

	/* the plan's size is exact: one check of the room for it all */
	if (!bitio_room(&w, st->bits)) {
		out->overflow = 1;
		return;
	}
	bitio_put(&w, st->kind, 2);
	switch (st->kind) {
	case BITIO_DENSE:
		bitio_code_write_header(&w, &st->code);
		bitio_code_enc_init(&e, &st->code);
		for (size_t i = 0; i < st->n; i++)
			bitio_code_put(&w, &e, u[i]);
		break;
	case BITIO_SPARSE:
		bitio_put(&w, st->k - 1, bitio_width(st->n - 1));
		bitio_code_write_header(&w, &st->gap);
		bitio_code_write_header(&w, &st->code);
		bitio_code_enc_init(&g, &st->gap);
		bitio_code_enc_init(&e, &st->code);
		for (size_t i = 0; i < st->n; i++) {
			/* zeros are the rule: skip them four at a time */
			while (i + 4 <= st->n &&
			       !(u[i] | u[i + 1] | u[i + 2] | u[i + 3])) {
				run += 4;
				i += 4;
			}
			if (i == st->n)
				break;
			if (u[i] == 0) {
				run++;
				continue;
			}
			bitio_code_put(&w, &g, run);
			bitio_code_put(&w, &e, u[i] - 1);
			run = 0;
		}
		break;
	}
	*out = w;
}

/* 8-byte array elements, read and written without aliasing games. */
static inline uint64_t bitio_elem_get(const unsigned char *base, size_t i)
{
	uint64_t u;
	memcpy(&u, base + 8 * i, sizeof(u));
	return u;
}

static inline void bitio_elem_set(unsigned char *base, size_t i, uint64_t u)
{
	memcpy(base + 8 * i, &u, sizeof(u));
}

/* A stream being read: its kind and codes, from bitio_stream_open. */
struct bitio_stream_rd {
	unsigned kind;
	uint64_t k;		    /* sparse: non-zero values, 1..n */
	struct bitio_code_dec code; /* dense: values; sparse: non-zero - 1 */
	struct bitio_code_dec gap;  /* sparse: zero runs */
};

/* Reads a stream's header (n values follow); returns 0 or -1. */
static inline int bitio_stream_open(struct bitio_reader *r, size_t n,
				    struct bitio_stream_rd *s)
{
	s->kind = (unsigned)bitio_get(r, 2);
	switch (s->kind) {
	case BITIO_ZERO:
		return 0;
	case BITIO_DENSE:
		return bitio_code_read_header(r, &s->code);
	case BITIO_SPARSE:
		if (n == 0)
			return -1;
		s->k = bitio_get(r, bitio_width(n - 1)) + 1;
		if (s->k > n || bitio_code_read_header(r, &s->gap) < 0 ||
		    bitio_code_read_header(r, &s->code) < 0)
			return -1;
		return 0;
	}
	return -1;
}

/*
 * The next non-zero value of a sparse stream and the zeros before it;
 * pos (values so far) advances past both. Returns -1 if the zeros would
 * run past n.
 */
BITIO_HOT int bitio_sparse_next(struct bitio_reader *r,
				const struct bitio_stream_rd *s, size_t n,
				size_t *pos, uint64_t *u)
{
	uint64_t run = bitio_code_get(r, &s->gap);

	*u = bitio_code_get(r, &s->code) + 1;
	if (run >= n - *pos)
		return -1;
	*pos += (size_t)run;
	return 0;
}

/*
 * Reads the n values of an opened stream into the 8-byte elements at
 * out: stores them (add == 0), or adds their zigzag-decoded values to
 * what is there (add == 1). Returns 0, or -1 when the stream cannot be
 * right.
 */
static inline int bitio_stream_read_values(struct bitio_reader *in,
					   const struct bitio_stream_rd *s,
					   size_t n, unsigned char *out,
					   int add)
{
	struct bitio_reader r = *in; /* in registers, as in bitio_put */
	size_t pos = 0;
	int rc = -1;

	switch (s->kind) {
	case BITIO_ZERO:
		if (!add)
			memset(out, 0, 8 * n);
		break;
	case BITIO_DENSE:
		for (size_t i = 0; i < n; i++) {
			uint64_t u = bitio_code_get(&r, &s->code);
			if (add)
				u = bitio_elem_get(out, i) +
				    (uint64_t)bitio_unzigzag(u);
			bitio_elem_set(out, i, u);
		}
		break;
	default:
		if (!add)
			memset(out, 0, 8 * n);
		for (uint64_t j = 0; j < s->k; j++) {
			uint64_t u;
			if (bitio_sparse_next(&r, s, n, &pos, &u) < 0)
				goto out;
			if (add)
				u = bitio_elem_get(out, pos) +
				    (uint64_t)bitio_unzigzag(u);
			bitio_elem_set(out, pos, u);
			pos++;
		}
		break;
	}
	rc = 0;
out:
	*in = r;
	return rc;
}

/* Opens and reads a stream: bitio_stream_read_values. */
static inline int bitio_stream_read(struct bitio_reader *r, size_t n,
				    unsigned char *out, int add)
{
	struct bitio_stream_rd s;

	if (bitio_stream_open(r, n, &s) < 0)
		return -1;
	return bitio_stream_read_values(r, &s, n, out, add);
}

#endif
