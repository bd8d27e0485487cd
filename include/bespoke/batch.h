/*
 * bespoke: a batch of telemetry on its way into the store.
 *
 * Parsers, the demo generator and the HTTP ingest endpoints fill a batch;
 * bsp_store_write() stores it in one transaction. A batch keeps its own
 * copies of every string it is given.
 *
 * Series are added once and referred to by the small integer the add
 * returns, so the per-sample path is an array append:
 *
 *     int s = bsp_batch_series(b, "vm1", "cpu_usage", "", "MHz");
 *     bsp_batch_sample(b, s, t, v);
 *
 * Ownership: the batch belongs to whoever called bsp_batch_new and is freed
 * by bsp_batch_free. Nothing is stored until bsp_store_write.
 */
#ifndef BESPOKE_BATCH_H
#define BESPOKE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "time.h"

struct bsp_batch;

BSP_EXTERN struct bsp_batch *bsp_batch_new(void);
BSP_EXTERN void bsp_batch_free(struct bsp_batch *b);
/* Empties the batch but keeps its memory for reuse. */
BSP_EXTERN void bsp_batch_clear(struct bsp_batch *b);

/*
 * Returns the index of the series (entity, metric, labels, unit), adding it
 * if new; -1 when out of memory. `labels` is the canonical label string
 * (`k="v",...` sorted by key, "" or NULL for none; see bsp_labels_canon).
 * The unit of the first add wins.
 */
BSP_EXTERN int bsp_batch_series(struct bsp_batch *b, const char *entity,
				const char *metric, const char *labels,
				const char *unit);

/* Appends a sample (any order; the store sorts). -1 when out of memory. */
BSP_EXTERN int bsp_batch_sample(struct bsp_batch *b, int series, bsp_time t,
				double v);

/* An event; ts may be BSP_TIME_NONE when only the order (seq) is known. */
BSP_EXTERN int bsp_batch_event(struct bsp_batch *b, const char *entity,
			       bsp_time ts, int64_t seq, const char *kind,
			       const char *name);

/* An entity attribute or label (the last value for a key wins). An entity
 * with no series and no events can still be created this way. */
BSP_EXTERN int bsp_batch_attr(struct bsp_batch *b, const char *entity,
			      const char *key, const char *value);

/* Counts, for reports. */
BSP_EXTERN size_t bsp_batch_n_samples(const struct bsp_batch *b);
BSP_EXTERN size_t bsp_batch_n_events(const struct bsp_batch *b);
BSP_EXTERN size_t bsp_batch_n_series(const struct bsp_batch *b);

/*
 * Read access for store backends: series i's identity and its samples as
 * parallel arrays (valid until the batch changes). bsp_batch_sort_series
 * sorts each series by time and keeps the last of equal times.
 */
struct bsp_batch_series_view {
	const char *entity, *metric, *labels, *unit;
	const bsp_time *ts;
	const double *values;
	size_t n;
};
BSP_EXTERN void bsp_batch_series_view(const struct bsp_batch *b, size_t i,
				      struct bsp_batch_series_view *out);
BSP_EXTERN void bsp_batch_sort_series(struct bsp_batch *b);

struct bsp_batch_event_view {
	const char *entity, *kind, *name;
	bsp_time ts;
	int64_t seq;
};
BSP_EXTERN void bsp_batch_event_view(const struct bsp_batch *b, size_t i,
				     struct bsp_batch_event_view *out);

struct bsp_batch_attr_view {
	const char *entity, *key, *value;
};
BSP_EXTERN size_t bsp_batch_n_attrs(const struct bsp_batch *b);
BSP_EXTERN void bsp_batch_attr_view(const struct bsp_batch *b, size_t i,
				    struct bsp_batch_attr_view *out);

/*
 * Canonical label string from n key/value pairs: sorted by key, values
 * escaped as in the Prometheus text format, `k="v",k2="v2"`. Writes at most
 * `size` bytes; BSP_ELIMIT if it does not fit, BSP_EINVAL for an invalid key.
 */
BSP_EXTERN bsp_err bsp_labels_canon(const char *const *keys,
				    const char *const *values, size_t n,
				    char *out, size_t size);

#endif
