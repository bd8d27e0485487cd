/*
 * Prometheus remote-write 1.0 (the body of POST /api/v1/write): a protobuf
 * WriteRequest compressed with snappy's block format. Decoded with
 * protobuf-c from lib/ingest/remote.proto; series are mapped exactly as the
 * Prometheus text format maps them (fmt_prometheus.c): entity from the
 * `instance` label, metric from `__name__`, the other labels canonical,
 * unit from the name's suffix, timestamps in milliseconds.
 *
 * A request is accepted whole or not at all: the first invalid series
 * makes it an error naming the series and the field, and the caller
 * discards the batch. Limits keep a hostile request from costing more than
 * a valid one of the same size: the uncompressed size announced by snappy
 * is checked before anything is allocated.
 */
#include <math.h>
#include <stddef.h>

#include <snappy-c.h>

#include "ingest_int.h"
#include "remote.pb-c.h"

#define RW_MAX_LABELS 64

/*
 * protobuf-c allocates every message, label and string on its own; for a
 * request of thousands of series that is most of the decoding time. An
 * arena takes those allocations from large blocks and drops them all at
 * once: "free" does nothing, and the unpacked request is never freed
 * message by message.
 */
struct rw_block {
	struct rw_block *next;
	size_t cap, used;
	max_align_t data[];
};

struct rw_arena {
	struct rw_block *head;
	size_t next_cap;
};

static void *arena_alloc(void *ud, size_t size)
{
	struct rw_arena *a = ud;
	struct rw_block *b = a->head;

	size = (size + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < size) {
		size_t cap = a->next_cap > size ? a->next_cap : size;
		if (!(b = malloc(sizeof(*b) + cap)))
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		if (a->next_cap < ((size_t)64 << 20))
			a->next_cap *= 2;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

static void arena_free(void *ud, void *p)
{
	(void)ud;
	(void)p;
}

static void arena_release(struct rw_arena *a)
{
	while (a->head) {
		struct rw_block *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}

bsp_err bsp_ingest_remote_write(struct bsp_batch *batch, const void *data,
				size_t len, const char *entity_default,
				size_t max_uncompressed,
				struct bsp_ingest_report *rep,
				struct bsp_error *err)
{
	Bespoke__Prompb__WriteRequest *wr = NULL;
	struct rw_arena arena = {NULL, 0};
	ProtobufCAllocator alloc = {arena_alloc, arena_free, &arena};
	char *raw = NULL, canon[4096];
	size_t raw_len = 0;
	bsp_err r = BSP_OK;

	memset(rep, 0, sizeof(*rep));
	if (snappy_uncompressed_length(data, len, &raw_len) != SNAPPY_OK ||
	    snappy_validate_compressed_buffer(data, len) != SNAPPY_OK)
		return bsp_error_set(err, BSP_EINVAL,
				     "remote-write: not snappy-compressed "
				     "data (block format)");
	if (raw_len > max_uncompressed)
		return bsp_error_set(err, BSP_ELIMIT,
				     "remote-write: %zu bytes uncompressed, "
				     "over the limit of %zu",
				     raw_len, max_uncompressed);
	if (!(raw = malloc(raw_len ? raw_len : 1)))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	if (snappy_uncompress(data, len, raw, &raw_len) != SNAPPY_OK) {
		r = bsp_error_set(err, BSP_EINVAL,
				  "remote-write: corrupt snappy data");
		goto out;
	}
	/* The unpacked messages take about twice the encoded size. */
	arena.next_cap = 2 * raw_len + 4096;
	wr = bespoke__prompb__write_request__unpack(&alloc, raw_len,
						    (const uint8_t *)raw);
	if (!wr) {
		r = bsp_error_set(err, BSP_EINVAL,
				  "remote-write: not a WriteRequest protobuf");
		goto out;
	}
	for (size_t i = 0; i < wr->n_timeseries; i++) {
		const Bespoke__Prompb__TimeSeries *ts = wr->timeseries[i];
		const char *keys[RW_MAX_LABELS], *vals[RW_MAX_LABELS];
		const char *metric = NULL, *entity = NULL;
		size_t nlab = 0;

		for (size_t k = 0; k < ts->n_labels; k++) {
			const char *n = ts->labels[k]->name;
			const char *v = ts->labels[k]->value;
			if (!strcmp(n, "__name__")) {
				metric = v;
			} else if (!strcmp(n, "instance") && !entity) {
				entity = v;
			} else {
				if (nlab == RW_MAX_LABELS) {
					r = bsp_error_set(
						err, BSP_EINVAL,
						"remote-write: series %zu: more "
						"than %d labels",
						i, RW_MAX_LABELS);
					goto out;
				}
				keys[nlab] = n;
				vals[nlab++] = v;
			}
		}
		if (!metric || !*metric || strlen(metric) >= INGEST_MAX_NAME) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "remote-write: series %zu: %s", i,
					  metric && *metric
						  ? "__name__ too long"
						  : "no __name__ label");
			goto out;
		}
		if (!entity || !*entity)
			entity = entity_default;
		if (!entity || !*entity || strlen(entity) >= INGEST_MAX_NAME) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "remote-write: series %zu (%s): %s",
					  i, metric,
					  entity && *entity
						  ? "instance label too long"
						  : "no instance label and no "
						    "default entity");
			goto out;
		}
		bsp_err cr = bsp_labels_canon(keys, vals, nlab, canon,
					      sizeof(canon));
		if (cr != BSP_OK) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "remote-write: series %zu (%s): %s",
					  i, metric,
					  cr == BSP_EINVAL
						  ? "a label appears twice or "
						    "has an invalid name"
						  : "labels too long");
			goto out;
		}
		int sid = batch ? bsp_batch_series(batch, entity, metric, canon,
						   ingest_prom_unit(
							   metric,
							   strlen(metric)))
				: 0;
		if (sid < 0) {
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < ts->n_samples; k++) {
			int64_t ms = ts->samples[k]->timestamp;
			/* Milliseconds within the store's time range. */
			if (ms < -(INT64_C(1) << 52) || ms > (INT64_C(1) << 52)) {
				r = bsp_error_set(err, BSP_EINVAL,
						  "remote-write: series %zu "
						  "(%s): timestamp %lld out "
						  "of range",
						  i, metric, (long long)ms);
				goto out;
			}
			if (batch && bsp_batch_sample(batch, sid, (bsp_time)ms,
						      ts->samples[k]->value) <
					     0) {
				r = bsp_error_set(err, BSP_ENOMEM,
						  "out of memory");
				goto out;
			}
			rep->samples++;
		}
		rep->lines++;
	}
	rep->files = 1;
out:
	arena_release(&arena); /* the unpacked request with it */
	free(raw);
	return r;
}
