/*
 * Bit-level I/O for the chunk codec (lib/store/chunk.c), header-only so
 * that the hot loops inline.
 *
 * Bits are packed most significant first into big-endian bytes, so a
 * chunk reads the same on every host. The writer works into a buffer of
 * fixed capacity and remembers an overflow instead of writing past it
 * (the encoder sizes the buffer from its own cost model, so an overflow
 * is a bug that the caller turns into BSP_EINTERNAL).
 *
 * The reader keeps a 64-bit window of the next bits, left-aligned, and
 * refills it eight bytes at a time while at least eight bytes remain
 * (the branch-light refill that Fabian Giesen describes in "Reading bits
 * in far too many ways", 2018), byte by byte near the end. Past the end
 * it feeds zero bits and counts them, so a read never touches memory
 * outside [start, end); bitio_overrun() then tells whether the stream
 * asked for more bits than it had. Callers bound every loop by a count
 * they have checked, so reading zeros past the end cannot spin for long.
 *
 * Reads and writes take at most 56 bits at once; the *_wide variants
 * split 57..64-bit fields in two.
 */
#ifndef BSP_STORE_BITIO_H
#define BSP_STORE_BITIO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The per-value helpers must inline into their loops. */
#if defined(__GNUC__)
#define BITIO_HOT static inline __attribute__((always_inline))
#else
#define BITIO_HOT static inline
#endif

/* ---- writer ---------------------------------------------------------- */

/*
 * Each write ORs the bits into a 64-bit accumulator and stores all eight
 * bytes of it, then advances by the whole bytes done: one unconditional
 * store a write (the writer from Giesen's same series). So the buffer
 * needs BITIO_SLACK bytes beyond the last byte written.
 */
#define BITIO_SLACK 8

struct bitio_writer {
	uint8_t *buf; /* start of the output */
	uint8_t *p;   /* byte that holds the first pending bit */
	uint8_t *end; /* buf + capacity (slack included) */
	uint64_t acc; /* pending bits, left-aligned */
	unsigned cnt; /* pending bits, 0..7 between writes */
	int overflow; /* set when a write did not fit */
};

static inline void bitio_writer_init(struct bitio_writer *w, uint8_t *buf,
				     size_t cap)
{
	w->buf = buf;
	w->p = buf;
	w->end = buf + cap;
	w->acc = 0;
	w->cnt = 0;
	w->overflow = 0;
}

/* Big-endian 64-bit store and load, one memory access each. */
static inline void bitio_store64(uint8_t *p, uint64_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x);
	memcpy(p, &x, sizeof(x));
#else
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(x >> (56 - 8 * i));
#endif
}

static inline uint64_t bitio_load64(const uint8_t *p)
{
	uint64_t x;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&x, p, sizeof(x));
	x = __builtin_bswap64(x);
#else
	x = 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
#endif
	return x;
}

/*
 * bitio_put without the room check, for loops whose caller has checked
 * the room for all their writes at once (bitio_room).
 */
BITIO_HOT void bitio_put_unchecked(struct bitio_writer *w, uint64_t v,
				   unsigned nb)
{
	uint64_t acc = w->acc | (v << (63 - w->cnt - nb)) << 1;
	unsigned cnt = w->cnt + nb;

	bitio_store64(w->p, acc);
	w->p += cnt >> 3;
	w->acc = acc << (cnt & ~7u);
	w->cnt = cnt & 7;
}

/* Is there room for nbits more (and the slack)? Sets overflow if not. */
static inline int bitio_room(struct bitio_writer *w, uint64_t nbits)
{
	if ((uint64_t)(w->end - w->p) <
	    (nbits + w->cnt + 7) / 8 + BITIO_SLACK) {
		w->overflow = 1;
		return 0;
	}
	return 1;
}

/*
 * Appends the low nb bits of v (nb <= 56; the other bits of v are 0).
 * The store goes through a uint8_t pointer, which the compiler must
 * assume may alias the writer: hot loops work on a local copy of the
 * writer (whose address does not escape) so its fields stay in registers.
 */
BITIO_HOT void bitio_put(struct bitio_writer *w, uint64_t v, unsigned nb)
{
	/* cnt + nb <= 63, so both shifts are defined, nb == 0 included */
	uint64_t acc = w->acc | (v << (63 - w->cnt - nb)) << 1;
	unsigned cnt = w->cnt + nb;
	uint8_t *p = w->p;

	if (w->end - p < 8) {
		w->overflow = 1;
		return;
	}
	bitio_store64(p, acc);
	w->p = p + (cnt >> 3);
	w->acc = acc << (cnt & ~7u);
	w->cnt = cnt & 7;
}

/* Appends the low nb bits of v, nb <= 64. */
static inline void bitio_put_wide(struct bitio_writer *w, uint64_t v,
				  unsigned nb)
{
	if (nb > 56) {
		bitio_put(w, v >> 32, nb - 32);
		v &= UINT64_C(0xffffffff);
		nb = 32;
	}
	bitio_put(w, v, nb);
}

/* Bits written so far. */
static inline uint64_t bitio_tell(const struct bitio_writer *w)
{
	return (uint64_t)(w->p - w->buf) * 8 + w->cnt;
}

/*
 * Pads the last byte with zero bits and returns the byte length, or 0 if
 * a write overflowed.
 */
static inline size_t bitio_finish(struct bitio_writer *w)
{
	if (w->overflow)
		return 0;
	/* the last store already put the pending bits at p[0] */
	if (w->cnt) {
		w->p++;
		w->cnt = 0;
		w->acc = 0;
	}
	return (size_t)(w->p - w->buf);
}

/* ---- reader ---------------------------------------------------------- */

struct bitio_reader {
	const uint8_t *p; /* next byte to load */
	const uint8_t *end;
	uint64_t win;	/* next bits, left-aligned */
	unsigned avail; /* valid bits at the top of win */
	size_t virt;	/* zero bits fed past the end */
};

static inline void bitio_reader_init(struct bitio_reader *r, const uint8_t *buf,
				     size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->win = 0;
	r->avail = 0;
	r->virt = 0;
}

/* Makes at least 56 bits available (zeros past the end). */
BITIO_HOT void bitio_refill(struct bitio_reader *r)
{
	if (r->avail >= 56)
		return;
	if (r->end - r->p >= 8) {
		uint64_t t = bitio_load64(r->p);
		unsigned nbytes = (63 - r->avail) >> 3;

		/*
		 * Bits below `avail` that are not counted yet hold the true
		 * next bits, so or-ing the same bytes again later is harmless.
		 */
		r->win |= t >> r->avail;
		r->p += nbytes;
		r->avail += nbytes * 8;
		return;
	}
	while (r->avail <= 56) {
		uint64_t b = 0;
		if (r->p < r->end)
			b = *r->p++;
		else
			r->virt += 8;
		r->win |= b << (56 - r->avail);
		r->avail += 8;
	}
}

/* Consumes nb bits (at most avail; call bitio_refill first). */
BITIO_HOT void bitio_skip(struct bitio_reader *r, unsigned nb)
{
	r->win = nb < 64 ? r->win << nb : 0;
	r->avail -= nb;
}

/* Reads nb bits, 0..56. */
BITIO_HOT uint64_t bitio_get(struct bitio_reader *r, unsigned nb)
{
	uint64_t v;

	if (nb == 0)
		return 0;
	bitio_refill(r);
	v = r->win >> (64 - nb);
	bitio_skip(r, nb);
	return v;
}

/* Reads nb bits, 0..64. */
static inline uint64_t bitio_get_wide(struct bitio_reader *r, unsigned nb)
{
	if (nb <= 56)
		return bitio_get(r, nb);
	uint64_t hi = bitio_get(r, nb - 32);
	return hi << 32 | bitio_get(r, 32);
}

/* Has the reader consumed bits beyond the end of its buffer? */
static inline int bitio_overrun(const struct bitio_reader *r)
{
	/* bits consumed = 8 * (p - start) + virt - avail; virt > 0 only
	 * once p == end, so this is "consumed > 8 * len". */
	return r->virt > r->avail;
}

/*
 * Bytes of the buffer left unread, not counting the partly read byte.
 * Valid when !bitio_overrun(r).
 */
static inline size_t bitio_bytes_left(const struct bitio_reader *r)
{
	size_t real_avail = r->avail - r->virt; /* real bits in the window */
	return (size_t)(r->end - r->p) + real_avail / 8;
}

/* Are the bits up to the next byte boundary all zero? */
static inline int bitio_pad_is_zero(const struct bitio_reader *r)
{
	unsigned frac = (r->avail - (unsigned)r->virt) % 8;
	return frac == 0 || (r->win >> (64 - frac)) == 0;
}

/* ---- small integer helpers ------------------------------------------- */

/* Bit length: 0 for 0, else 1 + floor(log2(x)). */
static inline unsigned bitio_width(uint64_t x)
{
	return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

/* Zigzag (as in Protocol Buffers): small magnitudes get small codes. */
static inline uint64_t bitio_zigzag(int64_t x)
{
	return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

static inline int64_t bitio_unzigzag(uint64_t u)
{
	return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* A number of any size: 7-bit width, then that many bits. */
static inline void bitio_put_num(struct bitio_writer *w, uint64_t v)
{
	unsigned nb = bitio_width(v);
	bitio_put(w, nb, 7);
	bitio_put_wide(w, v, nb);
}

static inline unsigned bitio_num_bits(uint64_t v)
{
	return 7 + bitio_width(v);
}

/* Reads a bitio_put_num value; returns -1 on an impossible width. */
static inline int bitio_get_num(struct bitio_reader *r, uint64_t *v)
{
	unsigned nb = (unsigned)bitio_get(r, 7);
	if (nb > 64)
		return -1;
	*v = bitio_get_wide(r, nb);
	/* the top bit of a width-nb number is set: one spelling per value */
	if (nb && !(*v >> (nb - 1)))
		return -1;
	return 0;
}

#endif
