/*
 * bespoke: ingest of the telemetry formats users already have.
 *
 * bsp_ingest_path() reads a file (plain or .gz, detected by content) or
 * every regular file under a directory, detects each file's format (or uses
 * the one forced in the options), parses it into a batch and writes one
 * transaction per file. Bad lines are reported through the diagnostic
 * callback as "FILE:LINE: reason" and either skipped (counted) or, with
 * BSP_ON_ERROR_ABORT, make the whole file be dropped: nothing from it is
 * stored. A truncated or corrupt .gz is an error for that file, and what
 * was stored before stays intact.
 *
 * The formats (one table entry each, lib/ingest/formats.c) are listed by
 * bsp_ingest_format_name(); their rules for bad values are in
 * docs/ingest.md.
 */
#ifndef BESPOKE_INGEST_H
#define BESPOKE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

enum bsp_on_error {
	BSP_ON_ERROR_SKIP,  /* skip bad lines, count them, store the rest */
	BSP_ON_ERROR_ABORT, /* a bad line drops its whole file */
};

struct bsp_ingest_options {
	const char *format; /* NULL: detect per file; else a format name */
	enum bsp_on_error on_error;
	const char *entity; /* entity name for formats without one (NULL:
			       derived from the file name) */
	unsigned threads;   /* parser threads; 0 = number of cores */
	/* Diagnostics: one line each, without a trailing newline. */
	void (*diag)(void *ud, const char *line);
	/* Progress, called now and then from the writing thread. */
	void (*progress)(void *ud, uint64_t files_done, uint64_t files_total,
			 uint64_t samples);
	void *ud;
	size_t max_diags_per_file; /* 0 = 20; the rest are only counted */
};

struct bsp_ingest_report {
	uint64_t files;        /* files stored */
	uint64_t files_failed; /* files dropped (abort, unreadable, corrupt) */
	uint64_t lines;        /* data lines read */
	uint64_t bad_lines;    /* lines skipped as invalid */
	uint64_t bad_values;   /* single values skipped (NaN where invalid...) */
	uint64_t samples;      /* samples parsed */
	uint64_t events;       /* events parsed */
	struct bsp_write_stats written;
};

BSP_EXTERN bsp_err bsp_ingest_path(struct bsp_store *st, const char *path,
				   const struct bsp_ingest_options *opt,
				   struct bsp_ingest_report *report,
				   struct bsp_error *err);

/* Parses one in-memory buffer as `format` (no detection when non-NULL) into
 * `batch`; `name` is used in diagnostics and to derive entity names. */
BSP_EXTERN bsp_err bsp_ingest_buffer(struct bsp_batch *batch, const char *name,
				     const char *data, size_t len,
				     const struct bsp_ingest_options *opt,
				     struct bsp_ingest_report *report,
				     struct bsp_error *err);

/*
 * Prometheus remote-write 1.0: `data` is the request body (snappy block
 * format around a protobuf WriteRequest). Series map as in the Prometheus
 * text format: entity from the `instance` label (else `entity_default`),
 * metric from `__name__`, the other labels canonical. Bodies that
 * uncompress to more than `max_uncompressed` bytes are refused (BSP_ELIMIT)
 * before anything is allocated for them. On any error the batch holds part
 * of the request and must be discarded. report->samples counts samples,
 * report->lines series. With batch NULL the request is only checked.
 */
BSP_EXTERN bsp_err bsp_ingest_remote_write(struct bsp_batch *batch,
					   const void *data, size_t len,
					   const char *entity_default,
					   size_t max_uncompressed,
					   struct bsp_ingest_report *report,
					   struct bsp_error *err);

/* The i-th format's name and one-line description; NULL past the end. */
BSP_EXTERN const char *bsp_ingest_format_name(size_t i);
BSP_EXTERN const char *bsp_ingest_format_help(size_t i);

#endif
