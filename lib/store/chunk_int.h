/*
 * Chunk codec internals for the unit tests and bench/bench_codec.c: an
 * encoder that can be told which codings to use (the Gorilla baseline,
 * each path on its own) and that reports how the bits were spent. The
 * store uses only chunk.h.
 */
#ifndef BSP_CHUNK_INT_H
#define BSP_CHUNK_INT_H

#include "chunk.h"

/* How the timestamps are coded (the format byte's bits 2..3). */
enum chunk_ts_coding {
	CHUNK_TS_RESIDUAL = 0, /* deltas over a common unit, minus a
				  per-chunk predictor, adaptive code */
	CHUNK_TS_GORILLA = 1,  /* Gorilla's delta-of-delta buckets */
	CHUNK_TS_AUTO = -1,    /* the encoder decides */
};

/* How the values are coded (the format byte's bits 0..1). */
enum chunk_val_coding {
	CHUNK_VAL_SCALED = 0, /* decimal scaling to integers, ulp fixes */
	CHUNK_VAL_XOR = 1,    /* Gorilla's XOR with leading/trailing zeros */
	CHUNK_VAL_RAW = 2,    /* 64 bits per value */
	CHUNK_VAL_AUTO = -1,  /* the encoder decides (smallest) */
};

/* What the encoder chose and what each part cost, in bits. */
struct chunk_enc_info {
	int ts_coding;	   /* enum chunk_ts_coding */
	int val_coding;	   /* enum chunk_val_coding */
	double scale;	   /* CHUNK_VAL_SCALED: the scale s; else 0 */
	int int_mode;	   /* CHUNK_VAL_SCALED: 0 delta, 1 frame of ref. */
	int ts_lag;	   /* CHUNK_TS_RESIDUAL: predictor (0, 1, 2) */
	uint64_t ts_bits;  /* timestamp section */
	uint64_t val_bits; /* value section, corrections excluded */
	uint64_t fix_bits; /* CHUNK_VAL_SCALED: the ulp corrections */
	size_t n_fixed;	   /* values that needed a correction */
};

/*
 * chunk_encode with the codings given (or CHUNK_*_AUTO). `info` may be
 * NULL. Same results and ownership as chunk_encode.
 */
bsp_err chunk_encode_as(const bsp_time *ts, const double *v, size_t n,
			int ts_coding, int val_coding, uint8_t **out,
			size_t *out_len, struct chunk_enc_info *info);

#endif
