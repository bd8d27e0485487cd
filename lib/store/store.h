/*
 * The store stage's interface: the table of backend operations that
 * include/bespoke/store.h dispatches to, and the batch internals backends
 * use to write pre-compressed chunks.
 *
 * To add a backend (PostgreSQL is the next one), write lib/store/NAME.c
 * defining a `const struct store_ops store_NAME_ops` and add it to the
 * `backends[]` table in store.c with its URI scheme. Callers never change.
 */
#ifndef BSP_STORE_INT_H
#define BSP_STORE_INT_H

#include "internal.h"

/* Chunks cover one UTC day of one series. */
#define STORE_CHUNK_SPAN BSP_DAY

/* Days a chunk may cover: +-2^23 days around 1970 (backends pack the day
 * into 24 bits of a key). Samples outside are refused. */
#define STORE_DAY_LIMIT ((int64_t)1 << 23)

static inline int64_t store_day(bsp_time t)
{
	return bsp_time_floor(t, STORE_CHUNK_SPAN) / STORE_CHUNK_SPAN;
}

struct store_ops {
	const char *scheme; /* URI scheme ("sqlite") */
	/* Opens or creates the store at `path` (the URI without scheme);
	 * sets st->impl. */
	bsp_err (*open)(struct bsp_store *st, const char *path,
			unsigned flags, struct bsp_error *err);
	void (*close)(struct bsp_store *st);
	int (*schema_version)(struct bsp_store *st);
	int64_t (*change_counter)(struct bsp_store *st);
	bsp_err (*write)(struct bsp_store *st, struct bsp_batch *b,
			 struct bsp_write_stats *stats, struct bsp_error *err);
	bsp_err (*entities)(struct bsp_store *st, const char *name,
			    struct bsp_entity **out, size_t *n,
			    struct bsp_error *err);
	bsp_err (*series)(struct bsp_store *st, const char *entity,
			  const char *metric, const char *labels,
			  struct bsp_series **out, size_t *n,
			  struct bsp_error *err);
	/* Raw chunks of a series with day_from <= day <= day_to, in order:
	 * calls `fn` with each chunk's bytes (valid only during the call). */
	bsp_err (*chunks)(struct bsp_store *st, int64_t series_id,
			  int64_t day_from, int64_t day_to,
			  int (*fn)(void *ud, const uint8_t *data, size_t len),
			  void *ud, struct bsp_error *err);
	bsp_err (*events)(struct bsp_store *st, const char *entity,
			  bsp_time from, bsp_time until,
			  struct bsp_event **out, size_t *n,
			  struct bsp_error *err);
	bsp_err (*stats)(struct bsp_store *st, struct bsp_store_stats *out,
			 struct bsp_error *err);
	bsp_err (*check)(struct bsp_store *st, struct bsp_error *err);
	bsp_err (*doc_put)(struct bsp_store *st, const char *kind,
			   const char *entity, const char *body,
			   int64_t *version, struct bsp_error *err);
	/* entity NULL = all; version 0 = latest; with_body 0 for listings;
	 * limit 0 = no limit. Newest first. */
	bsp_err (*doc_query)(struct bsp_store *st, const char *kind,
			     const char *entity, int64_t version,
			     int with_body, size_t limit,
			     struct bsp_doc **out, size_t *n,
			     struct bsp_error *err);
};

struct bsp_store {
	const struct store_ops *ops;
	void *impl;
	char *path;
};

extern const struct store_ops store_sqlite_ops;

/* A compressed chunk prepared from a batch series (batch.c). */
struct batch_chunk {
	int64_t day;
	uint8_t *data;
	size_t len;
	size_t n;         /* samples */
	size_t first;     /* index of its first sample in the series view */
};

/*
 * Compresses every series of the batch into per-day chunks (sorting first)
 * unless already done; samples added afterwards drop the prepared chunks.
 */
bsp_err batch_prepare(struct bsp_batch *b, struct bsp_error *err);
/* The prepared chunks of series i (after batch_prepare). */
void batch_chunks(const struct bsp_batch *b, size_t i,
		  const struct batch_chunk **out, size_t *n);

#endif
