/*
 * Ingest internals: the context a format parser runs in, the line reader it
 * pulls lines from, and the table of formats (formats.c). To add a format,
 * write fmt_NAME.c with a detect and a parse function and add one entry to
 * the table in formats.c.
 *
 * Life of one file: ingest.c opens a line_reader (reader.c), peeks at the
 * first 64 KiB to pick a format (formats.c), then the format's parse
 * function pulls lines with ingest_next_line, splits them with
 * ingest_split, converts fields with ingest_value / ingest_time (fields.c)
 * and appends to the batch. Problems go through ingest_bad /
 * ingest_bad_value, which buffer the diagnostics in the ingest_file so that
 * the writing thread can emit them in file order.
 */
#ifndef BSP_INGEST_INT_H
#define BSP_INGEST_INT_H

#include "internal.h"

/* Longest accepted line; longer lines are reported as bad and skipped. */
#define INGEST_MAX_LINE (1u << 20)

/* How much of a file (decompressed) format detection sees. */
#define INGEST_HEAD_MAX (64u * 1024)

/* Below this best score a file in a folder is skipped as "not recognised";
 * a single named file is an error. */
#define INGEST_DETECT_MIN 30

/* Default for bsp_ingest_options.max_diags_per_file. */
#define INGEST_DEFAULT_DIAGS 20

struct line_reader; /* reader.c: lines from a plain or gzip stream/buffer */

/* Opens a file, plain or gzip (told apart by the magic bytes, not the
 * name). On failure returns NULL with a message naming the path. */
struct line_reader *lr_open_file(const char *path, struct bsp_error *err);
/* Reads lines from memory (not copied: `data` must outlive the reader).
 * NULL only when out of memory. */
struct line_reader *lr_open_mem(const char *data, size_t len,
				const char *name);
void lr_close(struct line_reader *r);

/* Next line without its "\n" or "\r\n"; NULL at the end or on error
 * (then lr_error says why). `*len` receives the length; the line is not
 * NUL-terminated in general, but byte line[len] may be read and is
 * '\n' or '\0'. */
const char *lr_next(struct line_reader *r, size_t *len);
/* BSP_OK at a clean end; BSP_EIO / BSP_ECORRUPT (truncated gzip) otherwise,
 * with a message in `err`. */
bsp_err lr_error(struct line_reader *r, struct bsp_error *err);
/* 1-based number of the line last returned. */
uint64_t lr_lineno(const struct line_reader *r);
/* Non-zero when the line last returned was longer than INGEST_MAX_LINE:
 * lr_next then returned an empty line and skipped the rest of it. */
int lr_overlong(const struct line_reader *r);
/* The first bytes of the stream (decompressed), up to `max` (at most
 * INGEST_HEAD_MAX), without consuming them; call before the first lr_next.
 * Read errors show in lr_error. */
const char *lr_peek(struct line_reader *r, size_t max, size_t *len);
/* Modification time of the file (ms); BSP_TIME_NONE for memory readers. */
bsp_time lr_mtime(const struct line_reader *r);

/* What one parser run of one file sees. */
struct ingest_file {
	const char *path;  /* as given, for messages */
	const char *base;  /* file name without folders and .gz/.csv/.txt */
	const char *dir;   /* name of the parent folder ("" if none) */
	struct bsp_batch *batch;
	const struct bsp_ingest_options *opt;
	struct bsp_ingest_report *report; /* counts for this file */
	struct line_reader *reader;
	size_t n_diags;
	int aborted; /* set by ingest_bad in abort mode */

	/* Time for samples that carry none (Prometheus): the file's
	 * modification time, or the time of the call for buffers. */
	bsp_time now;
	/* A file-level failure (parse returns non-OK) or, in abort mode, the
	 * first bad line: the message the caller reports. */
	struct bsp_error err;
	/* Diagnostics buffered as NUL-separated lines, emitted by the caller
	 * in file order (parsers may run on worker threads). */
	char *diags;
	size_t diags_len, diags_cap;
	size_t n_hidden;  /* problems beyond max_diags_per_file */
	char *scratch;    /* per-file scratch for unquoting fields */
	size_t scratch_cap;
};

/* Sets up / releases the buffers of an ingest_file (not the reader or the
 * batch, which belong to the caller). */
void ingest_file_init(struct ingest_file *f);
void ingest_file_release(struct ingest_file *f);
/* Sends buffered diagnostics to opt->diag (and a closing count of those
 * that were not shown), then forgets them. */
void ingest_file_flush_diags(struct ingest_file *f);

/*
 * Reports a bad line (prefixing "PATH:LINE: ") and counts it. Returns
 * non-zero when the parser must stop (--on-error=abort).
 */
int ingest_bad(struct ingest_file *f, const char *fmt, ...) BSP_PRINTF(2, 3);
/* Same for a single skipped value on an otherwise good line. */
int ingest_bad_value(struct ingest_file *f, const char *fmt, ...)
	BSP_PRINTF(2, 3);
/* A problem with the whole file ("PATH: reason"): sets f->err and returns
 * `code`, for `return ingest_fail(f, ...)` from a parse function. */
bsp_err ingest_fail(struct ingest_file *f, bsp_err code, const char *fmt, ...)
	BSP_PRINTF(3, 4);

/*
 * The next non-blank line for a parser, counted in report->lines. Blank
 * lines (nothing but spaces and tabs) are skipped silently; overlong lines
 * are reported as bad and skipped. NULL at the end of the input, on a read
 * error, or when an overlong line aborted the file.
 */
const char *ingest_next_line(struct ingest_file *f, size_t *len);
/* The line last returned was a header or comment, not data. */
static inline void ingest_not_data(struct ingest_file *f)
{
	f->report->lines--;
}

/* One field of a split line (not NUL-terminated). */
struct ingest_field {
	const char *p;
	size_t n;
};

/*
 * Splits a line at `delim`. Spaces and tabs around fields are trimmed; a
 * field in double quotes loses them ("" inside stands for one quote; such
 * fields are unescaped into f's scratch, valid until the next split).
 * Fills at most `max` fields and returns how many the line has (may be
 * more than max), or -1 for an unterminated quote or out of memory.
 * `f` may be NULL (detectors): then "" inside quotes is left as is.
 */
int ingest_split(struct ingest_file *f, const char *line, size_t len,
		 char delim, struct ingest_field *out, int max);

/* Results of the field converters below. */
enum {
	INGEST_STOP = -1, /* abort mode: the parser must return now */
	INGEST_OK = 0,
	INGEST_SKIP = 1, /* reported and counted: skip the value or line */
};

/* Flags for ingest_value. */
enum ingest_value_flags {
	INGEST_NONNEG = 1 << 0,    /* negative values are bad */
	INGEST_NONFINITE = 1 << 1, /* NaN and infinities are valid values */
	INGEST_EMPTY_OK = 1 << 2,  /* empty field: INGEST_SKIP, not reported */
};

/*
 * Converts field `fld` (1-based column `col`, called `name` in messages)
 * to a double. A bad value is reported with ingest_bad_value: "column 4
 * (value): not a number: 'abc'".
 */
int ingest_value(struct ingest_file *f, const struct ingest_field *fld,
		 int col, const char *name, unsigned flags, double *out);
/*
 * Converts a time field (epoch seconds, epoch ms from 13 digits, RFC 3339;
 * see bsp_time_parse). A bad time makes the line bad (ingest_bad).
 */
int ingest_time(struct ingest_file *f, const struct ingest_field *fld,
		int col, const char *name, bsp_time *out);

/* Does the field equal `s` (ASCII case-insensitive)? */
int ingest_field_is(const struct ingest_field *fld, const char *s);
/* Copies a field as a NUL-terminated string into buf (cut to size-1). */
const char *ingest_field_str(const struct ingest_field *fld, char *buf,
			     size_t size);
/* Longest entity, metric, kind or event name accepted. */
#define INGEST_MAX_NAME 256

/* The unit a Prometheus metric name's suffix makes certain ("bytes", "s",
 * "%"), or "" (fmt_prometheus.c; also used for remote-write). */
const char *ingest_prom_unit(const char *name, size_t n);

/*
 * Copies a name field (an entity, a metric...) NUL-terminated into buf
 * (INGEST_MAX_NAME bytes). An empty or overlong name makes the line bad.
 */
int ingest_name(struct ingest_file *f, const struct ingest_field *fld,
		int col, const char *what, char *buf);

/*
 * Maps a header line onto column indexes: names[i] (NULL-terminated list,
 * each entry "name|alias|...") gets cols[i] = the 0-based column holding
 * it, or -1. Returns the number of columns recognised, or -1 when a field
 * is numeric (then the line is data, not a header). cols is scratch until
 * the caller accepts the line as a header.
 */
int ingest_header_map(const struct ingest_field *fld, int n,
		      const char *const *names, int *cols);

/* Iterates the non-blank lines of a detection head ("\r" stripped). */
struct ingest_head {
	const char *p, *end;
};
static inline void ingest_head_init(struct ingest_head *h, const char *p,
				   size_t len)
{
	h->p = p;
	h->end = p + len;
}
int ingest_head_next(struct ingest_head *h, const char **line, size_t *len);
/*
 * Scores a head line by line: line_ok returns 1 for a line in the format,
 * 0 for one that is not, -1 for one that says nothing (a comment). The
 * first INGEST_DETECT_LINES lines are judged; the result is `score` when
 * at least one is good and at most one in five is bad (a few bad lines
 * must not hide a file's format), else 0.
 */
#define INGEST_DETECT_LINES 200
int ingest_detect_lines(const char *head, size_t len,
			int (*line_ok)(const char *line, size_t n), int score);
/* The first non-blank line of a head; 0 if none. */
int ingest_head_first(const char *head, size_t len, const char **line,
		      size_t *n);
/* Is [p, p+n) a plain decimal number (as ingest_parse_double accepts,
 * without NaN/Inf)? Used by detectors. */
int ingest_is_number(const char *p, size_t n);
/* Is it a non-empty run of ASCII digits? */
int ingest_is_uint(const char *p, size_t n);
/* The name of the folder holding `path` ("" if none) into buf. */
const char *ingest_parent_name(const char *path, char *buf, size_t size);

struct ingest_format {
	const char *name;
	const char *help;
	/*
	 * Confidence 0..100 that the file is in this format, from its first
	 * bytes (decompressed, up to 64 KiB, cut at a line end) and its path.
	 */
	int (*detect)(const char *head, size_t len, const char *path);
	/* Parses every line of the file into f->batch. */
	bsp_err (*parse)(struct ingest_file *f);
};

extern const struct ingest_format ingest_formats[];
extern const size_t ingest_n_formats;
const struct ingest_format *ingest_format_find(const char *name);
/*
 * The format whose detect scores highest. NULL when the best score is
 * below INGEST_DETECT_MIN or shared by two formats; *best receives it.
 */
const struct ingest_format *ingest_format_detect(const char *head, size_t len,
						 const char *path, int *best);

/* Each format's functions (fmt_*.c). */
#define INGEST_FORMAT_DECL(n)                                           \
	int fmt_##n##_detect(const char *head, size_t len, const char *path); \
	bsp_err fmt_##n##_parse(struct ingest_file *f)
INGEST_FORMAT_DECL(csv);
INGEST_FORMAT_DECL(bitbrains);
INGEST_FORMAT_DECL(planetlab);
INGEST_FORMAT_DECL(azure_vmtable);
INGEST_FORMAT_DECL(azure_cpu);
INGEST_FORMAT_DECL(alibaba);
INGEST_FORMAT_DECL(prometheus);
INGEST_FORMAT_DECL(events);
INGEST_FORMAT_DECL(history);
#undef INGEST_FORMAT_DECL

#endif
