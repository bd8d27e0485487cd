/*
 * The personalization layer's bytes: a small tar writer and reader and
 * gzip with a fixed header.
 *
 * Reproducibility decides the design. The writer emits POSIX ustar
 * (pax extended headers only for names ustar cannot hold) with every
 * field that varies between machines fixed: mtime = the build epoch
 * (SOURCE_DATE_EPOCH, as reproducible-builds.org specifies), uid = gid = 0,
 * owner names "root", no device numbers, entries in the caller's (sorted)
 * order. gzip's header carries a name and a timestamp by default; both
 * are cleared with deflateSetHeader, and the OS byte is set to 255
 * ("unknown", RFC 1952) so that the same input gives the same bytes on
 * every host with the same zlib.
 *
 * The reader serves validation: it walks any layer (ustar, pax 'x'
 * records, GNU 'L' long names), bounds-checking every header against the
 * archive's length.
 */
#include <stdarg.h>
#include <stdio.h>

#include <zlib.h>

#include "image_int.h"

int img_buf_add(struct img_buf *b, const void *data, size_t n)
{
	if (n > SIZE_MAX - b->len - 1)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0'; /* always a string too */
	return 0;
}

int img_buf_printf(struct img_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return img_buf_add(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int r = img_buf_add(b, big, (size_t)n);
	free(big);
	return r;
}

void img_buf_release(struct img_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- writer ------------------------------------------------------------- */

#define BLOCK 512

struct ustar {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char chksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];
	char version[2];
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};

/* Octal, zero-padded to width-1 digits and a NUL. */
static void octal(char *field, size_t width, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), v);
	memcpy(field, tmp, width - 1);
	field[width - 1] = '\0';
}

static int put_header(struct img_buf *out, const char *name, const char *prefix,
		      char type, unsigned mode, unsigned long long size,
		      int64_t epoch, const char *link)
{
	struct ustar h;
	unsigned sum = 0;

	memset(&h, 0, sizeof(h));
	memcpy(h.name, name, strlen(name));
	if (prefix)
		memcpy(h.prefix, prefix, strlen(prefix));
	octal(h.mode, sizeof(h.mode), mode & 07777);
	octal(h.uid, sizeof(h.uid), 0);
	octal(h.gid, sizeof(h.gid), 0);
	octal(h.size, sizeof(h.size), size);
	octal(h.mtime, sizeof(h.mtime), (unsigned long long)epoch);
	h.typeflag = type;
	if (link)
		memcpy(h.linkname, link, strlen(link));
	memcpy(h.magic, "ustar", 6);
	memcpy(h.version, "00", 2);
	memcpy(h.uname, "root", 4);
	memcpy(h.gname, "root", 4);
	octal(h.devmajor, sizeof(h.devmajor), 0);
	octal(h.devminor, sizeof(h.devminor), 0);
	memset(h.chksum, ' ', sizeof(h.chksum));
	for (size_t i = 0; i < sizeof(h); i++)
		sum += ((unsigned char *)&h)[i];
	snprintf(h.chksum, sizeof(h.chksum), "%06o", sum);
	h.chksum[7] = ' ';
	return img_buf_add(out, &h, sizeof(h));
}

static int put_padding(struct img_buf *out, size_t len)
{
	static const char zero[BLOCK];
	size_t rem = len % BLOCK;
	return rem ? img_buf_add(out, zero, BLOCK - rem) : 0;
}

/* Splits a name into ustar's prefix (<= 155) and name (<= 100) at a '/'. */
static int ustar_split(const char *path, char *name, char *prefix)
{
	size_t len = strlen(path);

	if (len <= 100) {
		memcpy(name, path, len + 1);
		prefix[0] = '\0';
		return 0;
	}
	for (size_t i = len - 1; i > 0; i--) {
		if (path[i] != '/')
			continue;
		if (i <= 155 && len - i - 1 <= 100 && len - i - 1 > 0) {
			memcpy(prefix, path, i);
			prefix[i] = '\0';
			memcpy(name, path + i + 1, len - i);
			return 0;
		}
	}
	return -1;
}

/* A pax record "LEN path=VALUE\n", where LEN counts itself. */
static int pax_record(struct img_buf *rec, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
	size_t n = body + 1;
	char num[24];

	for (;;) {
		int d = snprintf(num, sizeof(num), "%zu", n);
		if (body + (size_t)d == n)
			break;
		n = body + (size_t)d;
	}
	return img_buf_printf(rec, "%s %s=%s\n", num, key, value);
}

int img_tar_write(struct img_buf *out, const struct img_tar_entry *e, size_t n,
		  int64_t epoch)
{
	static const char zero[2 * BLOCK];

	for (size_t i = 0; i < n; i++) {
		char path[4096 + 2], name[101], prefix[156];
		int len = snprintf(path, sizeof(path), "%s%s", e[i].path,
				   e[i].is_dir ? "/" : "");
		if (len < 0 || (size_t)len >= sizeof(path))
			return -1;
		if (ustar_split(path, name, prefix)) {
			/* Too long for ustar: a pax header names it. */
			struct img_buf rec = {0};
			if (pax_record(&rec, "path", path) ||
			    put_header(out, "PaxHeaders/0", NULL, 'x', 0644,
				       rec.len, epoch, NULL) ||
			    img_buf_add(out, rec.p, rec.len) ||
			    put_padding(out, rec.len)) {
				img_buf_release(&rec);
				return -1;
			}
			img_buf_release(&rec);
			snprintf(name, sizeof(name), "%.99s", path);
			prefix[0] = '\0';
		}
		if (e[i].link && strlen(e[i].link) >= 100)
			return -1; /* link targets here are short paths */
		if (put_header(out, name, prefix[0] ? prefix : NULL,
			       e[i].is_dir ? '5' : e[i].link ? '2' : '0',
			       e[i].mode,
			       e[i].is_dir || e[i].link ? 0 : e[i].len, epoch,
			       e[i].link))
			return -1;
		if (!e[i].is_dir && !e[i].link &&
		    (img_buf_add(out, e[i].data, e[i].len) ||
		     put_padding(out, e[i].len)))
			return -1;
	}
	return img_buf_add(out, zero, sizeof(zero));
}

/* ---- reader ------------------------------------------------------------- */

/* An octal (or GNU base-256) number field; -1 when malformed. */
static long long field_num(const char *f, size_t width)
{
	unsigned long long v = 0;
	size_t i = 0;

	if ((unsigned char)f[0] & 0x80) {
		for (i = 1; i < width; i++) {
			if (v >> 55)
				return -1;
			v = (v << 8) | (unsigned char)f[i];
		}
		return (long long)v;
	}
	while (i < width && f[i] == ' ')
		i++;
	for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (unsigned)(f[i] - '0');
	}
	if (i < width && f[i] != '\0' && f[i] != ' ')
		return -1;
	return (long long)v;
}

static char *field_str(const char *f, size_t width)
{
	size_t n = strnlen(f, width);
	return strndup(f, n);
}

/* The "path" (or "linkpath") value of pax records, malloc'd, or NULL. */
static char *pax_get(const unsigned char *p, size_t len, const char *key)
{
	size_t off = 0, klen = strlen(key);

	while (off < len) {
		char *end;
		unsigned long long rlen;
		char num[24];
		size_t k = 0;
		while (off + k < len && k < sizeof(num) - 1 &&
		       p[off + k] >= '0' && p[off + k] <= '9') {
			num[k] = (char)p[off + k];
			k++;
		}
		num[k] = '\0';
		rlen = strtoull(num, &end, 10);
		if (!k || rlen <= k + 1 || rlen > len - off ||
		    p[off + k] != ' ' || p[off + rlen - 1] != '\n')
			return NULL;
		const char *kv = (const char *)p + off + k + 1;
		size_t kvlen = rlen - k - 2;
		if (kvlen > klen && !memcmp(kv, key, klen) && kv[klen] == '=')
			return strndup(kv + klen + 1, kvlen - klen - 1);
		off += rlen;
	}
	return NULL;
}

int img_tar_each(const unsigned char *tar, size_t len,
		 int (*fn)(const struct img_tar_member *m, void *ud), void *ud,
		 struct bsp_error *err)
{
	size_t off = 0;
	char *long_name = NULL, *long_link = NULL;
	int rc = 0, ended = 0;

	while (off + BLOCK <= len) {
		const struct ustar *h = (const struct ustar *)(tar + off);
		static const char zero[BLOCK];
		if (!memcmp(h, zero, BLOCK)) {
			ended = 1;
			break;
		}
		unsigned sum = 0;
		for (size_t i = 0; i < BLOCK; i++)
			sum += (i >= 148 && i < 156) ? ' ' : tar[off + i];
		long long want = field_num(h->chksum, sizeof(h->chksum));
		long long size = field_num(h->size, sizeof(h->size));
		long long mode = field_num(h->mode, sizeof(h->mode));
		if (want < 0 || (unsigned)want != sum || size < 0 || mode < 0 ||
		    (unsigned long long)size > len - off - BLOCK) {
			bsp_error_set(err, BSP_ECORRUPT,
				      "tar: bad header at byte %zu", off);
			rc = -1;
			break;
		}
		const unsigned char *data = tar + off + BLOCK;
		size_t padded = ((size_t)size + BLOCK - 1) / BLOCK * BLOCK;
		/* The data is all there (checked above); some writers end
		 * the archive without padding the last member or the two
		 * zero blocks, which costs nothing to accept. */
		if (padded > len - off - BLOCK)
			padded = len - off - BLOCK;
		off += BLOCK + padded;
		if (h->typeflag == 'x' || h->typeflag == 'L' ||
		    h->typeflag == 'K') {
			char *v = h->typeflag == 'x'
					  ? pax_get(data, (size_t)size, "path")
				  : h->typeflag == 'L'
					  ? strndup((const char *)data,
						    strnlen((const char *)data,
							    (size_t)size))
					  : NULL;
			char *l = h->typeflag == 'x'
					  ? pax_get(data, (size_t)size,
						    "linkpath")
				  : h->typeflag == 'K'
					  ? strndup((const char *)data,
						    strnlen((const char *)data,
							    (size_t)size))
					  : NULL;
			if (v) {
				free(long_name);
				long_name = v;
			}
			if (l) {
				free(long_link);
				long_link = l;
			}
			continue;
		}
		if (h->typeflag == 'g')
			continue;
		struct img_tar_member m = {0};
		if (long_name) {
			m.path = long_name;
			long_name = NULL;
		} else if (h->prefix[0] && !memcmp(h->magic, "ustar", 5)) {
			char *pre = field_str(h->prefix, sizeof(h->prefix));
			char *nm = field_str(h->name, sizeof(h->name));
			if (pre && nm && asprintf(&m.path, "%s/%s", pre, nm) < 0)
				m.path = NULL;
			free(pre);
			free(nm);
		} else {
			m.path = field_str(h->name, sizeof(h->name));
		}
		m.link = long_link ? long_link
				   : (h->linkname[0] ? field_str(h->linkname,
								 sizeof(h->linkname))
						     : NULL);
		long_link = NULL;
		if (!m.path) {
			free(m.link);
			bsp_error_set(err, BSP_ENOMEM, "out of memory");
			rc = -1;
			break;
		}
		m.type = h->typeflag ? h->typeflag : '0';
		m.mode = (unsigned)mode;
		m.data = data;
		m.len = (size_t)size;
		rc = fn(&m, ud);
		free(m.path);
		free(m.link);
		if (rc)
			break;
	}
	/* Less than a block left: only zeros may be there. */
	if (!rc && !ended && off < len) {
		for (size_t i = off; i < len; i++)
			if (tar[i]) {
				bsp_error_set(err, BSP_ECORRUPT,
					      "tar: cut short at byte %zu", off);
				rc = -1;
				break;
			}
	}
	free(long_name);
	free(long_link);
	return rc;
}

/* ---- gzip --------------------------------------------------------------- */

int img_gzip(const unsigned char *in, size_t n, struct img_buf *out)
{
	z_stream zs;
	gz_header gh;
	int rc;

	memset(&zs, 0, sizeof(zs));
	memset(&gh, 0, sizeof(gh));
	/* 31 = a gzip wrapper around a 32 KiB window. */
	if (deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	gh.os = 255;
	gh.time = 0;
	if (deflateSetHeader(&zs, &gh) != Z_OK) {
		deflateEnd(&zs);
		return -1;
	}
	size_t bound = deflateBound(&zs, (uLong)n) + 64;
	out->len = 0;
	if (img_buf_add(out, NULL, 0) || bound >= out->cap) {
		unsigned char *p = realloc(out->p, bound + 1);
		if (!p) {
			deflateEnd(&zs);
			return -1;
		}
		out->p = p;
		out->cap = bound + 1;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out->p;
	zs.avail_out = (uInt)bound;
	rc = deflate(&zs, Z_FINISH);
	out->len = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END || n > UINT32_MAX)
		return -1;
	out->p[out->len] = '\0';
	return 0;
}

int img_gunzip(const unsigned char *in, size_t n, size_t limit,
	       struct img_buf *out, struct bsp_error *err)
{
	z_stream zs;
	unsigned char chunk[65536];
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 31) != Z_OK)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory"), -1;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			inflateEnd(&zs);
			bsp_error_set(err, BSP_ECORRUPT, "gzip: %s",
				      zs.msg ? zs.msg : "bad data");
			return -1;
		}
		size_t got = sizeof(chunk) - zs.avail_out;
		if (out->len + got > limit) {
			inflateEnd(&zs);
			bsp_error_set(err, BSP_ELIMIT,
				      "gzip: more than %zu bytes", limit);
			return -1;
		}
		if (img_buf_add(out, chunk, got)) {
			inflateEnd(&zs);
			bsp_error_set(err, BSP_ENOMEM, "out of memory");
			return -1;
		}
		if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
			inflateEnd(&zs);
			bsp_error_set(err, BSP_ECORRUPT, "gzip: cut short");
			return -1;
		}
	} while (rc != Z_STREAM_END);
	inflateEnd(&zs);
	return 0;
}
