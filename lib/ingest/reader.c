/*
 * Line reader: bounded lines from a plain file, a gzip file or memory.
 *
 * Files are read in large blocks into one buffer (READ_BLOCK plus room for
 * the longest line) and lines are found with memchr, so the per-line cost
 * is a scan for '\n' and nothing else. A gzip file is recognised by its
 * magic bytes (1f 8b), not by its name, and read through zlib's gzread,
 * which inflates straight into our buffer when asked for large blocks.
 * zlib reports a truncated stream only softly (gzread returns 0 and gzerror
 * says Z_BUF_ERROR, "unexpected end of file"), so the end of every gzip
 * stream is checked explicitly and turned into BSP_ECORRUPT.
 *
 * A line longer than INGEST_MAX_LINE is not kept: the reader discards
 * bytes up to its end and returns an empty line flagged by lr_overlong, so
 * one absurd line costs no memory and does not end the file.
 *
 * Memory readers return lines in place when they end in "\n"; otherwise
 * (a "\r\n" ending or the last line without one) they copy the line into a
 * small buffer so that line[len] can be read and is '\0', as promised.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ingest_int.h"

/* Bytes asked from the OS or zlib at a time. zlib inflates directly into
 * the caller's buffer for requests of at least twice its own buffer. */
#define READ_BLOCK (1u << 20)
#define GZ_BUFFER (256u * 1024)

struct line_reader {
	const char *name;
	/* file input */
	int fd;
	gzFile gz;
	bsp_time mtime;
	/* memory input */
	const char *mem;
	size_t mem_len;
	/* buffered bytes: valid data is buf[pos..end) */
	char *buf;
	size_t cap, pos, end;
	int eof;
	/* state */
	uint64_t lineno;
	int overlong;
	int started; /* lr_next was called: no more peeking */
	char *copy;  /* memory readers: lines that need a NUL */
	size_t copy_cap;
	bsp_err error;
	char msg[BSP_ERROR_MAX];
};

static struct line_reader *reader_new(const char *name)
{
	struct line_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->name = name;
	r->fd = -1;
	r->mtime = BSP_TIME_NONE;
	return r;
}

static void reader_fail(struct line_reader *r, bsp_err code, const char *fmt,
			...) BSP_PRINTF(3, 4);

static void reader_fail(struct line_reader *r, bsp_err code, const char *fmt,
			...)
{
	va_list ap;

	if (r->error != BSP_OK)
		return; /* keep the first */
	r->error = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->eof = 1;
}

struct line_reader *lr_open_file(const char *path, struct bsp_error *err)
{
	struct line_reader *r = reader_new(path);
	unsigned char magic[2];
	struct stat sb;
	ssize_t n;

	if (!r) {
		bsp_error_set(err, BSP_ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		bsp_error_set(err, errno == ENOENT ? BSP_ENOTFOUND : BSP_EIO,
			      "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(r->fd, &sb) == 0)
		r->mtime = (bsp_time)sb.st_mtim.tv_sec * 1000 +
			   sb.st_mtim.tv_nsec / 1000000;
	r->cap = INGEST_MAX_LINE + READ_BLOCK;
	r->buf = malloc(r->cap + 1);
	if (!r->buf) {
		bsp_error_set(err, BSP_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	n = pread(r->fd, magic, sizeof(magic), 0);
	if (n < 0) {
		bsp_error_set(err, BSP_EIO, "%s: cannot read: %s", path,
			      strerror(errno));
		goto fail;
	}
	if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		r->gz = gzdopen(r->fd, "rb");
		if (!r->gz) {
			bsp_error_set(err, BSP_ENOMEM, "%s: out of memory",
				      path);
			goto fail;
		}
		r->fd = -1; /* gzclose closes it */
		gzbuffer(r->gz, GZ_BUFFER);
	}
	return r;
fail:
	lr_close(r);
	return NULL;
}

struct line_reader *lr_open_mem(const char *data, size_t len,
				const char *name)
{
	struct line_reader *r = reader_new(name);

	if (!r)
		return NULL;
	r->mem = data ? data : "";
	r->mem_len = data ? len : 0;
	r->eof = 1;
	return r;
}

void lr_close(struct line_reader *r)
{
	if (!r)
		return;
	if (r->gz)
		gzclose(r->gz);
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->copy);
	free(r);
}

/* Reads more bytes into buf[end..cap); sets eof (and maybe an error). */
static void fill(struct line_reader *r)
{
	size_t room;

	if (r->eof)
		return;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	room = r->cap - r->end;
	if (room == 0)
		return;
	if (r->gz) {
		unsigned want = room > (1u << 30) ? (1u << 30) : (unsigned)room;
		int n = gzread(r->gz, r->buf + r->end, want);
		if (n > 0) {
			r->end += (size_t)n;
			return;
		}
		int zerr = Z_OK;
		const char *zmsg = gzerror(r->gz, &zerr);
		/* zlib prefixes its message with the stream's name, which for
		 * gzdopen is "<fd:N>": useless next to ours. */
		if (zmsg && !strncmp(zmsg, "<fd:", 4) && strstr(zmsg, ": "))
			zmsg = strstr(zmsg, ": ") + 2;
		if (n < 0 || zerr != Z_OK) {
			if (zerr == Z_ERRNO)
				reader_fail(r, BSP_EIO, "%s: cannot read: %s",
					    r->name, strerror(errno));
			else
				reader_fail(r, BSP_ECORRUPT,
					    "%s: truncated or corrupt gzip "
					    "data (%s)",
					    r->name, zmsg ? zmsg : "zlib error");
		}
		r->eof = 1;
		return;
	}
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->end, room);
		if (n > 0) {
			r->end += (size_t)n;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			reader_fail(r, BSP_EIO, "%s: cannot read: %s", r->name,
				    strerror(errno));
		r->eof = 1;
		return;
	}
}

const char *lr_peek(struct line_reader *r, size_t max, size_t *len)
{
	if (max > INGEST_HEAD_MAX)
		max = INGEST_HEAD_MAX;
	if (r->mem) {
		*len = r->mem_len < max ? r->mem_len : max;
		return r->mem;
	}
	if (r->started) {
		*len = 0;
		return "";
	}
	while (r->end - r->pos < max && !r->eof)
		fill(r);
	*len = r->end - r->pos < max ? r->end - r->pos : max;
	return r->buf + r->pos;
}

static const char *next_mem(struct line_reader *r, size_t *len)
{
	const char *p, *nl;
	size_t n;

	if (r->pos >= r->mem_len)
		return NULL;
	p = r->mem + r->pos;
	nl = memchr(p, '\n', r->mem_len - r->pos);
	n = nl ? (size_t)(nl - p) : r->mem_len - r->pos;
	r->pos += n + (nl != NULL);
	r->lineno++;
	if (n > INGEST_MAX_LINE) {
		r->overlong = 1;
		*len = 0;
		return "";
	}
	if (nl && (n == 0 || p[n - 1] != '\r')) {
		*len = n; /* p[n] is the '\n' */
		return p;
	}
	if (n && p[n - 1] == '\r')
		n--;
	if (n + 1 > r->copy_cap) {
		size_t ncap = n + 1 < 256 ? 256 : n + 1;
		char *nc = realloc(r->copy, ncap);
		if (!nc) {
			reader_fail(r, BSP_ENOMEM, "%s: out of memory",
				    r->name);
			return NULL;
		}
		r->copy = nc;
		r->copy_cap = ncap;
	}
	memcpy(r->copy, p, n);
	r->copy[n] = '\0';
	*len = n;
	return r->copy;
}

const char *lr_next(struct line_reader *r, size_t *len)
{
	char *p, *nl;
	size_t scanned = 0;

	r->started = 1;
	r->overlong = 0;
	if (r->error != BSP_OK)
		return NULL;
	if (r->mem)
		return next_mem(r, len);
	for (;;) {
		p = r->buf + r->pos;
		nl = memchr(p + scanned, '\n', r->end - r->pos - scanned);
		if (nl)
			break;
		scanned = r->end - r->pos;
		if (scanned > INGEST_MAX_LINE) {
			/* Too long: drop what we have and skip to its end. */
			r->overlong = 1;
			r->pos = r->end = 0;
			scanned = 0;
			while (!r->eof) {
				fill(r);
				nl = memchr(r->buf, '\n', r->end);
				if (nl) {
					r->pos = (size_t)(nl - r->buf) + 1;
					break;
				}
				r->end = 0;
			}
			if (r->error != BSP_OK)
				return NULL;
			r->lineno++;
			*len = 0;
			return "";
		}
		if (r->eof) {
			if (r->end == r->pos || r->error != BSP_OK)
				return NULL;
			nl = r->buf + r->end; /* last line without "\n" */
			r->end++;             /* consume the virtual "\n" */
			break;
		}
		fill(r);
		if (r->error != BSP_OK)
			return NULL;
	}
	p = r->buf + r->pos;
	size_t n = (size_t)(nl - p);
	r->pos += n + 1;
	r->lineno++;
	if (n > INGEST_MAX_LINE) {
		r->overlong = 1;
		*len = 0;
		return "";
	}
	if (n && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	*len = n;
	return p;
}

bsp_err lr_error(struct line_reader *r, struct bsp_error *err)
{
	if (r->error == BSP_OK)
		return BSP_OK;
	return bsp_error_set(err, r->error, "%s", r->msg);
}

uint64_t lr_lineno(const struct line_reader *r)
{
	return r->lineno;
}

int lr_overlong(const struct line_reader *r)
{
	return r->overlong;
}

bsp_time lr_mtime(const struct line_reader *r)
{
	return r->mtime;
}
