/*
 * The pieces every line parser needs: the next non-blank line, splitting at
 * a delimiter, numbers, times and names out of fields, header recognition,
 * and helpers for format detection.
 *
 * Splitting scans bytes (memchr for the delimiter) and hands out pointers
 * into the line, so a field costs no copy unless it was quoted with an
 * escaped quote inside. Numbers go through ingest_parse_double (exactly
 * strtod's value, several times faster); times take a fast path for plain
 * epoch integers and otherwise bsp_time_parse. Every rejection names the
 * column and quotes the offending text, cut to a readable length.
 */
#include <stdio.h>

#include "ingest_int.h"
#include "numparse.h"

/* How much of a bad field a message quotes. */
#define QUOTE_MAX 40

const char *ingest_next_line(struct ingest_file *f, size_t *len)
{
	const char *l;
	size_t i;

	while (!f->aborted && (l = lr_next(f->reader, len))) {
		if (lr_overlong(f->reader)) {
			f->report->lines++;
			if (ingest_bad(f, "line longer than %u bytes",
				       INGEST_MAX_LINE))
				return NULL;
			continue;
		}
		for (i = 0; i < *len && (l[i] == ' ' || l[i] == '\t'); i++)
			;
		if (i == *len)
			continue; /* blank lines are skipped silently */
		f->report->lines++;
		return l;
	}
	return NULL;
}

static int is_blank(char c, char delim)
{
	return (c == ' ' || c == '\t') && c != delim;
}

int ingest_split(struct ingest_file *f, const char *line, size_t len,
		 char delim, struct ingest_field *out, int max)
{
	size_t i = 0, used = 0;
	int n = 0;

	if (f && memchr(line, '"', len) && len + 1 > f->scratch_cap) {
		char *ns = realloc(f->scratch, len + 1);
		if (!ns)
			return -1;
		f->scratch = ns;
		f->scratch_cap = len + 1;
	}
	for (;;) {
		const char *start;
		size_t flen;

		while (i < len && is_blank(line[i], delim))
			i++;
		if (i < len && line[i] == '"') {
			size_t s = ++i;
			int esc = 0;
			for (;; i++) {
				if (i >= len)
					return -1; /* unterminated quote */
				if (line[i] != '"')
					continue;
				if (i + 1 < len && line[i + 1] == '"') {
					esc = 1;
					i++;
					continue;
				}
				break;
			}
			start = line + s;
			flen = i - s;
			i++; /* the closing quote */
			if (esc && f) {
				char *d = f->scratch + used;
				size_t k = 0;
				for (size_t j = 0; j < flen; j++) {
					d[k++] = start[j];
					if (start[j] == '"')
						j++; /* "" is one quote */
				}
				start = d;
				flen = k;
				used += k;
			}
			while (i < len && is_blank(line[i], delim))
				i++;
			if (i < len && line[i] != delim)
				return -1; /* text after the closing quote */
		} else {
			const char *d = memchr(line + i, delim, len - i);
			size_t e = d ? (size_t)(d - line) : len;
			start = line + i;
			flen = e - i;
			while (flen && is_blank(start[flen - 1], delim))
				flen--;
			i = e;
		}
		if (n < max) {
			out[n].p = start;
			out[n].n = flen;
		}
		n++;
		if (i >= len)
			return n;
		i++; /* the delimiter */
	}
}

/* 'text' for a message: at most QUOTE_MAX bytes, non-printables as '?'. */
static const char *quote(const struct ingest_field *fld, char *buf,
			 size_t size)
{
	size_t n = fld->n, k = 0;
	int cut = n > QUOTE_MAX;

	if (cut)
		n = QUOTE_MAX;
	for (size_t i = 0; i < n && k + 4 < size; i++) {
		unsigned char c = (unsigned char)fld->p[i];
		buf[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (cut && k + 4 < size) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

int ingest_value(struct ingest_file *f, const struct ingest_field *fld,
		 int col, const char *name, unsigned flags, double *out)
{
	char q[QUOTE_MAX + 8];
	int stop;

	if (fld->n == 0) {
		if (flags & INGEST_EMPTY_OK)
			return INGEST_SKIP;
		stop = ingest_bad_value(f, "column %d (%s): empty", col, name);
		return stop ? INGEST_STOP : INGEST_SKIP;
	}
	switch (ingest_parse_double(fld->p, fld->n, out)) {
	case INGEST_NUM_OK:
		if (!(flags & INGEST_NONNEG) || !(*out < 0))
			return INGEST_OK;
		stop = ingest_bad_value(f, "column %d (%s): negative value: "
					   "'%s'",
					col, name, quote(fld, q, sizeof(q)));
		break;
	case INGEST_NUM_NONFINITE:
		if (flags & INGEST_NONFINITE)
			return INGEST_OK;
		stop = ingest_bad_value(f, "column %d (%s): not a finite "
					   "number: '%s'",
					col, name, quote(fld, q, sizeof(q)));
		break;
	case INGEST_NUM_RANGE:
		stop = ingest_bad_value(f, "column %d (%s): out of range: '%s'",
					col, name, quote(fld, q, sizeof(q)));
		break;
	default:
		stop = ingest_bad_value(f, "column %d (%s): not a number: '%s'",
					col, name, quote(fld, q, sizeof(q)));
		break;
	}
	return stop ? INGEST_STOP : INGEST_SKIP;
}

int ingest_time(struct ingest_file *f, const struct ingest_field *fld,
		int col, const char *name, bsp_time *out)
{
	char q[QUOTE_MAX + 8];
	size_t n = fld->n;

	/* Fast path: a plain epoch integer, seconds up to 12 digits and
	 * milliseconds from 13 (the same rule as bsp_time_parse). */
	if (n > 0 && n <= 16) {
		int64_t v = 0;
		size_t i = 0;
		for (; i < n && fld->p[i] >= '0' && fld->p[i] <= '9'; i++)
			v = v * 10 + (fld->p[i] - '0');
		if (i == n) {
			*out = n >= 13 ? v : v * 1000;
			return INGEST_OK;
		}
	}
	if (n > 0 && bsp_time_parse(fld->p, n, out) == BSP_OK)
		return INGEST_OK;
	if (ingest_bad(f, "column %d (%s): not a time: '%s'", col, name,
		       quote(fld, q, sizeof(q))))
		return INGEST_STOP;
	return INGEST_SKIP;
}

int ingest_name(struct ingest_file *f, const struct ingest_field *fld,
		int col, const char *what, char *buf)
{
	int stop;

	if (fld->n == 0) {
		stop = ingest_bad(f, "column %d (%s): empty", col, what);
	} else if (fld->n >= INGEST_MAX_NAME) {
		stop = ingest_bad(f, "column %d (%s): longer than %d bytes",
				  col, what, INGEST_MAX_NAME - 1);
	} else {
		memcpy(buf, fld->p, fld->n);
		buf[fld->n] = '\0';
		return INGEST_OK;
	}
	return stop ? INGEST_STOP : INGEST_SKIP;
}

int ingest_field_is(const struct ingest_field *fld, const char *s)
{
	size_t i;

	for (i = 0; i < fld->n; i++) {
		char c = fld->p[i], d = s[i];
		if (!d)
			return 0;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (d >= 'A' && d <= 'Z')
			d = (char)(d - 'A' + 'a');
		if (c != d)
			return 0;
	}
	return s[i] == '\0';
}

const char *ingest_field_str(const struct ingest_field *fld, char *buf,
			     size_t size)
{
	size_t n = fld->n < size - 1 ? fld->n : size - 1;

	memcpy(buf, fld->p, n);
	buf[n] = '\0';
	return buf;
}

/* Does the field equal one of the '|'-separated names in `spec`? */
static int field_is_one_of(const struct ingest_field *fld, const char *spec)
{
	char one[64];

	while (*spec) {
		const char *bar = strchr(spec, '|');
		size_t n = bar ? (size_t)(bar - spec) : strlen(spec);
		if (n < sizeof(one)) {
			memcpy(one, spec, n);
			one[n] = '\0';
			if (ingest_field_is(fld, one))
				return 1;
		}
		spec += n + (bar != NULL);
	}
	return 0;
}

int ingest_header_map(const struct ingest_field *fld, int n,
		      const char *const *names, int *cols)
{
	int found = 0;

	for (int i = 0; i < n; i++)
		if (ingest_is_number(fld[i].p, fld[i].n))
			return -1; /* data; cols untouched */
	for (size_t k = 0; names[k]; k++)
		cols[k] = -1;
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; names[k]; k++) {
			if (cols[k] < 0 && field_is_one_of(&fld[i], names[k])) {
				cols[k] = i;
				found++;
				break;
			}
		}
	}
	return found;
}

int ingest_head_next(struct ingest_head *h, const char **line, size_t *len)
{
	while (h->p < h->end) {
		const char *p = h->p;
		const char *nl = memchr(p, '\n', (size_t)(h->end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(h->end - p);
		size_t i;

		h->p = nl ? nl + 1 : h->end;
		if (n && p[n - 1] == '\r')
			n--;
		for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		if (i == n)
			continue;
		*line = p;
		*len = n;
		return 1;
	}
	return 0;
}

int ingest_detect_lines(const char *head, size_t len,
			int (*line_ok)(const char *line, size_t n), int score)
{
	struct ingest_head h;
	const char *line;
	size_t n;
	int good = 0, bad = 0;

	ingest_head_init(&h, head, len);
	while (good + bad < INGEST_DETECT_LINES &&
	       ingest_head_next(&h, &line, &n)) {
		int k = line_ok(line, n);
		if (k > 0)
			good++;
		else if (k == 0)
			bad++;
	}
	return good > 0 && bad * 5 <= good + bad ? score : 0;
}

int ingest_head_first(const char *head, size_t len, const char **line,
		      size_t *n)
{
	struct ingest_head h;

	ingest_head_init(&h, head, len);
	return ingest_head_next(&h, line, n);
}

int ingest_is_number(const char *p, size_t n)
{
	double v;

	return ingest_parse_double(p, n, &v) == INGEST_NUM_OK;
}

int ingest_is_uint(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

const char *ingest_parent_name(const char *path, char *buf, size_t size)
{
	const char *end = strrchr(path, '/'), *start;
	size_t n;

	buf[0] = '\0';
	while (end && end > path && end[-1] == '/')
		end--; /* "a//b" */
	if (!end || end == path)
		return buf;
	for (start = end; start > path && start[-1] != '/'; start--)
		;
	n = (size_t)(end - start);
	if (n >= size)
		n = size - 1;
	memcpy(buf, start, n);
	buf[n] = '\0';
	return buf;
}
