/*
 * The sample chunk codec: one series' samples over one time window,
 * compressed losslessly (every double comes back bit for bit, NaN payloads,
 * -0.0 and infinities included).
 *
 * A chunk is self-describing: a format byte, the sample count, then the
 * encoded timestamps and values. Decoding checks every length against the
 * buffer and fails with BSP_ECORRUPT, never reads out of bounds, whatever
 * the bytes. Design, byte format and measured sizes: docs/storage.md
 * ("Chunk format").
 *
 * The functions keep no state between calls: they may run in any number
 * of threads at once. On Bitbrains data a chunk of 288 five-minute
 * samples takes about a byte a sample (constant series a tenth of that).
 */
#ifndef BSP_CHUNK_H
#define BSP_CHUNK_H

#include "internal.h"

/* Upper bound on the samples in one chunk (keeps decode allocations sane). */
#define CHUNK_MAX_SAMPLES (1u << 22)

/*
 * Encodes n samples (ts strictly increasing) into a malloc'd buffer
 * returned in *out (*out_len bytes; the caller frees it).
 * BSP_EINVAL if ts is not strictly increasing or n is 0 or too large, or
 * an argument is NULL; BSP_ENOMEM. On error *out is NULL.
 */
bsp_err chunk_encode(const bsp_time *ts, const double *v, size_t n,
		     uint8_t **out, size_t *out_len);

/*
 * Reads the sample count of a chunk (cheap: header only). BSP_ECORRUPT if
 * the header is not one this version writes.
 */
bsp_err chunk_count(const uint8_t *buf, size_t len, size_t *n);

/*
 * Decodes a chunk into caller arrays that hold `cap` samples (cap must be
 * at least chunk_count). *n receives the number decoded: on success the
 * chunk's count, with times strictly increasing; otherwise 0.
 * BSP_ELIMIT if the chunk holds more than cap samples (nothing written);
 * BSP_ECORRUPT if the bytes are not a whole, valid chunk (the arrays may
 * then hold garbage); BSP_EINVAL for NULL arrays. Allocates nothing.
 */
bsp_err chunk_decode(const uint8_t *buf, size_t len, bsp_time *ts, double *v,
		     size_t cap, size_t *n);

#endif
