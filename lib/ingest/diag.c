/*
 * Bad-input reporting for parsers: "PATH:LINE: reason" lines, counted,
 * capped per file, and buffered.
 *
 * Parsers run on worker threads, and the user's diagnostic callback is
 * neither required to be thread-safe nor should its output interleave
 * files. So each ingest_file keeps its messages (at most
 * max_diags_per_file; the rest are only counted) and the thread that
 * writes the store emits them, in file order, with
 * ingest_file_flush_diags. In abort mode the first problem becomes the
 * file's error (f->err) instead, which is what the caller reports.
 */
#include <stdio.h>

#include "ingest_int.h"

void ingest_file_init(struct ingest_file *f)
{
	memset(f, 0, sizeof(*f));
	f->now = BSP_TIME_NONE;
}

void ingest_file_release(struct ingest_file *f)
{
	free(f->diags);
	free(f->scratch);
	f->diags = f->scratch = NULL;
	f->diags_len = f->diags_cap = f->scratch_cap = 0;
}

static size_t max_diags(const struct ingest_file *f)
{
	return f->opt && f->opt->max_diags_per_file ? f->opt->max_diags_per_file
						     : INGEST_DEFAULT_DIAGS;
}

/* Appends one NUL-terminated message to f->diags (dropped if out of
 * memory: a lost diagnostic must not fail the ingest). */
static void keep(struct ingest_file *f, const char *msg)
{
	size_t n = strlen(msg) + 1;

	if (BSP_GROW(f->diags, f->diags_cap, f->diags_len + n) < 0)
		return;
	memcpy(f->diags + f->diags_len, msg, n);
	f->diags_len += n;
}

/* Formats "PATH:LINE: reason", keeps or counts it; the abort decision. */
static int report(struct ingest_file *f, const char *fmt, va_list ap)
{
	char msg[BSP_ERROR_MAX];
	int k;

	k = snprintf(msg, sizeof(msg), "%s:%llu: ", f->path,
		     (unsigned long long)(f->reader ? lr_lineno(f->reader)
						    : 0));
	if (k < 0)
		k = 0;
	if ((size_t)k < sizeof(msg))
		vsnprintf(msg + k, sizeof(msg) - (size_t)k, fmt, ap);
	if (f->opt && f->opt->on_error == BSP_ON_ERROR_ABORT) {
		/* The first problem is the file's error, reported once by
		 * the caller; nothing is buffered. */
		if (!f->aborted)
			bsp_error_set(&f->err, BSP_EINVAL,
				      "%s (file not stored: --on-error=abort)",
				      msg);
		f->aborted = 1;
		return 1;
	}
	if (f->n_diags < max_diags(f)) {
		keep(f, msg);
		f->n_diags++;
	} else {
		f->n_hidden++;
	}
	return 0;
}

int ingest_bad(struct ingest_file *f, const char *fmt, ...)
{
	va_list ap;
	int stop;

	f->report->bad_lines++;
	va_start(ap, fmt);
	stop = report(f, fmt, ap);
	va_end(ap);
	return stop;
}

int ingest_bad_value(struct ingest_file *f, const char *fmt, ...)
{
	va_list ap;
	int stop;

	f->report->bad_values++;
	va_start(ap, fmt);
	stop = report(f, fmt, ap);
	va_end(ap);
	return stop;
}

bsp_err ingest_fail(struct ingest_file *f, bsp_err code, const char *fmt, ...)
{
	char msg[BSP_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bsp_error_set(&f->err, code, "%s: %s", f->path, msg);
}

void ingest_file_flush_diags(struct ingest_file *f)
{
	const struct bsp_ingest_options *opt = f->opt;

	if (opt && opt->diag) {
		for (size_t i = 0; i < f->diags_len;) {
			const char *m = f->diags + i;
			opt->diag(opt->ud, m);
			i += strlen(m) + 1;
		}
		if (f->n_hidden) {
			char msg[BSP_ERROR_MAX];
			snprintf(msg, sizeof(msg),
				 "%s: %zu more problems not shown", f->path,
				 f->n_hidden);
			opt->diag(opt->ud, msg);
		}
	}
	f->diags_len = 0;
	f->n_diags = 0;
	f->n_hidden = 0;
}
