/*
 * bespoke: the telemetry store.
 *
 * The model: entities (a user, VM or workload, with key/value attributes),
 * series (entity, metric, labels, unit), samples (time, value) kept as
 * compressed chunks of one series and one UTC day each, and events (entity,
 * time, kind, name: an application launch, a command).
 *
 * A store is opened by URI: a plain path (or "sqlite:PATH") is the embedded
 * SQLite backend, created on first use. Backends implement one table of
 * function pointers (lib/store/store.h); callers never see which one runs.
 *
 * Ownership: a `struct bsp_store *` belongs to the caller of bsp_store_open
 * and is released by bsp_store_close. Arrays returned through `**out`
 * parameters are malloc'd and belong to the caller (free them, or use the
 * matching *_free helper). A store handle is not thread-safe; open one per
 * thread.
 */
#ifndef BESPOKE_STORE_H
#define BESPOKE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "time.h"

struct bsp_store;
struct bsp_batch;

enum bsp_open_flags {
	BSP_OPEN_CREATE = 1 << 0,   /* create the store if it does not exist */
	BSP_OPEN_READONLY = 1 << 1, /* never write (fails if missing) */
};

BSP_EXTERN bsp_err bsp_store_open(struct bsp_store **out, const char *uri,
				  unsigned flags, struct bsp_error *err);
BSP_EXTERN void bsp_store_close(struct bsp_store *st);

/* Schema version of an open store, and the newest this build knows. */
BSP_EXTERN int bsp_store_schema_version(struct bsp_store *st);
BSP_EXTERN int bsp_store_schema_latest(void);

/* A number that changes whenever another connection (another handle, or
 * another process) commits to the store; -1 when it cannot be read. What
 * this handle writes itself does not change it. For caches. */
BSP_EXTERN int64_t bsp_store_change_counter(struct bsp_store *st);

/*
 * Writes everything in `batch` (entities, attributes, series, samples,
 * events) in one transaction: all of it or none of it. The batch's series
 * are sorted in place (bsp_batch_sort_series) first. Samples whose series
 * already holds a sample at the same time replace that sample's value;
 * events already stored (same entity, kind, time, sequence and name) are
 * skipped, so writing the same batch twice changes nothing. `stats` (may
 * be NULL) receives how many samples and events were new.
 */
struct bsp_write_stats {
	uint64_t samples_new;      /* samples at a time the series did not have */
	uint64_t samples_replaced; /* same time, different value */
	uint64_t samples_same;     /* same time, same value: nothing changed */
	uint64_t events_new;
	uint64_t events_same;
};
BSP_EXTERN bsp_err bsp_store_write(struct bsp_store *st,
				   struct bsp_batch *batch,
				   struct bsp_write_stats *stats,
				   struct bsp_error *err);

/*
 * Optional: does the CPU-heavy part of bsp_store_write (sorting and
 * compressing the batch's samples) now, so that it can run on another
 * thread than the one that writes. Adding samples afterwards undoes it.
 */
BSP_EXTERN bsp_err bsp_store_prepare(struct bsp_batch *batch,
				     struct bsp_error *err);

/* ---- entities ---------------------------------------------------------- */

struct bsp_entity {
	int64_t id;
	char *name;
	int64_t n_series;
	int64_t n_samples;
	int64_t n_events;
	bsp_time first, last; /* sample time range; BSP_TIME_NONE if none */
	size_t n_attrs;
	char **attr_keys; /* n_attrs each */
	char **attr_values;
};

BSP_EXTERN bsp_err bsp_store_entities(struct bsp_store *st,
				      struct bsp_entity **out, size_t *n,
				      struct bsp_error *err);
BSP_EXTERN bsp_err bsp_store_entity(struct bsp_store *st, const char *name,
				    struct bsp_entity *out,
				    struct bsp_error *err);
BSP_EXTERN void bsp_entity_release(struct bsp_entity *e);
BSP_EXTERN void bsp_entities_free(struct bsp_entity *e, size_t n);

/* ---- series ------------------------------------------------------------- */

struct bsp_series {
	int64_t id;
	char *entity;
	char *metric;
	char *labels; /* canonical `k="v",k2="v2"` sorted by key; "" if none */
	char *unit;   /* "" if unknown */
	int64_t n_samples;
	int64_t n_chunks;
	int64_t bytes; /* compressed size of its chunks */
	bsp_time first, last;
};

BSP_EXTERN bsp_err bsp_store_series(struct bsp_store *st, const char *entity,
				    struct bsp_series **out, size_t *n,
				    struct bsp_error *err);
/* One series by entity, metric and labels (NULL or "" for none). */
BSP_EXTERN bsp_err bsp_store_series_find(struct bsp_store *st,
					 const char *entity,
					 const char *metric,
					 const char *labels,
					 struct bsp_series *out,
					 struct bsp_error *err);
BSP_EXTERN void bsp_series_release(struct bsp_series *s);
BSP_EXTERN void bsp_series_free(struct bsp_series *s, size_t n);

/* ---- samples ------------------------------------------------------------ */

/* Samples of one series with from <= t < until, in time order. */
BSP_EXTERN bsp_err bsp_store_read(struct bsp_store *st, int64_t series_id,
				  bsp_time from, bsp_time until,
				  bsp_time **ts, double **values, size_t *n,
				  struct bsp_error *err);

enum bsp_agg {
	BSP_AGG_MEAN,
	BSP_AGG_MAX,
	BSP_AGG_MIN,
	BSP_AGG_LAST,
	BSP_AGG_SUM,
	BSP_AGG_COUNT,
};
enum bsp_fill {
	BSP_FILL_NAN,      /* empty steps are NaN */
	BSP_FILL_PREVIOUS, /* carry the last value forward */
	BSP_FILL_LINEAR,   /* interpolate between neighbours */
	BSP_FILL_ZERO,
};

/* Parses "mean"/"max"/..., "nan"/"previous"/"linear"/"zero". */
BSP_EXTERN bsp_err bsp_agg_parse(const char *s, enum bsp_agg *out);
BSP_EXTERN bsp_err bsp_fill_parse(const char *s, enum bsp_fill *out);

/*
 * A regular grid: values[i] aggregates the samples with
 * from + i*step <= t < from + (i+1)*step, for i < n = ceil((until-from)/step).
 * `values` must hold n doubles.
 */
BSP_EXTERN bsp_err bsp_store_read_grid(struct bsp_store *st, int64_t series_id,
				       bsp_time from, bsp_time until,
				       bsp_time step, enum bsp_agg agg,
				       enum bsp_fill fill, double *values,
				       struct bsp_error *err);

/* Number of grid steps for a range. */
static inline size_t bsp_grid_len(bsp_time from, bsp_time until, bsp_time step)
{
	return until <= from ? 0 : (size_t)((until - from + step - 1) / step);
}

/* ---- events ------------------------------------------------------------- */

struct bsp_event {
	bsp_time ts; /* BSP_TIME_NONE for ordered histories */
	int64_t seq; /* order within the entity's history / same time */
	char *kind;  /* "app", "command", ... */
	char *name;
};

/* Events of one entity with from <= ts < until (histories without time
 * are all returned when from == BSP_TIME_NONE), ordered by time, then seq. */
BSP_EXTERN bsp_err bsp_store_events(struct bsp_store *st, const char *entity,
				    bsp_time from, bsp_time until,
				    struct bsp_event **out, size_t *n,
				    struct bsp_error *err);
BSP_EXTERN void bsp_events_free(struct bsp_event *ev, size_t n);

/* ---- statistics ----------------------------------------------------------- */

struct bsp_store_stats {
	int64_t entities;
	int64_t series;
	int64_t samples;
	int64_t chunks;
	int64_t events;
	int64_t chunk_bytes; /* compressed sample payload */
	int64_t file_bytes;  /* the whole store on disk (db + wal) */
};
BSP_EXTERN bsp_err bsp_store_stats(struct bsp_store *st,
				   struct bsp_store_stats *out,
				   struct bsp_error *err);

/* ---- documents ----------------------------------------------------------
 * Versioned JSON written by the stages (fitted models, behaviour profiles,
 * plans, overrides), by kind and entity. Each put makes a new version
 * (1, 2, ...) of that (kind, entity); nothing is overwritten, so later
 * stages and feedback can name the exact version they used. */

/* Stores `body` as the next version; *version (may be NULL) receives it. */
BSP_EXTERN bsp_err bsp_store_doc_put(struct bsp_store *st, const char *kind,
				     const char *entity, const char *body,
				     int64_t *version, struct bsp_error *err);

struct bsp_doc {
	char *kind;
	char *entity;
	int64_t version;
	bsp_time created;
	char *body; /* NULL in listings */
};

/* One version (0 = the latest) of a document; BSP_ENOTFOUND if none. */
BSP_EXTERN bsp_err bsp_store_doc_get(struct bsp_store *st, const char *kind,
				     const char *entity, int64_t version,
				     struct bsp_doc *out,
				     struct bsp_error *err);
/* Every version of kind (for one entity, or all when entity is NULL),
 * newest first, without bodies. */
BSP_EXTERN bsp_err bsp_store_doc_list(struct bsp_store *st, const char *kind,
				      const char *entity, struct bsp_doc **out,
				      size_t *n, struct bsp_error *err);
BSP_EXTERN void bsp_doc_release(struct bsp_doc *d);
BSP_EXTERN void bsp_docs_free(struct bsp_doc *d, size_t n);

/*
 * Checks the whole store: the database's own integrity check, then every
 * chunk decodes and agrees with its row (count, day). BSP_ECORRUPT with
 * the first problem found.
 */
BSP_EXTERN bsp_err bsp_store_check(struct bsp_store *st, struct bsp_error *err);

#endif
