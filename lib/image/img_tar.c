/*
 * The personalization layer's bytes: tar through libarchive, and gzip with
 * a fixed header.
 *
 * Reproducibility decides the design. The writer asks libarchive for
 * restricted pax (plain ustar headers, pax extended records only for what
 * ustar cannot hold, such as long names) with every field that varies
 * between machines fixed: mtime = the build epoch (SOURCE_DATE_EPOCH, as
 * reproducible-builds.org specifies), uid = gid = 0, owner names "root",
 * entries in the caller's (sorted) order, and 512-byte blocks so the
 * archive ends after its two zero blocks. gzip's header carries a name and
 * a timestamp by default; both are cleared with deflateSetHeader, and the
 * OS byte is set to 255 ("unknown", RFC 1952) so that the same input gives
 * the same bytes on every host with the same zlib.
 *
 * The reader serves validation and is our own: it must accept what real
 * writers produce (umoci stops right after the last member's data,
 * without padding or end blocks, which libarchive calls truncated) and
 * still refuse a member whose data is cut short. It walks ustar, pax 'x'
 * records and GNU 'L' long names, bounds-checking every header against
 * the archive's length.
 */
#include <stdarg.h>
#include <stdio.h>

#include <archive.h>
#include <archive_entry.h>
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
/* ---- tar, through libarchive -------------------------------------------- */

static la_ssize_t la_write_buf(struct archive *a, void *ud, const void *p,
			       size_t n)
{
	(void)a;
	return img_buf_add(ud, p, n) ? -1 : (la_ssize_t)n;
}

int img_tar_write(struct img_buf *out, const struct img_tar_entry *e, size_t n,
		  int64_t epoch)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	int rc = -1;

	if (!a || !ae)
		goto out;
	/* pax where ustar cannot hold a name, ustar otherwise; no padding
	 * to a 10 KiB record (the layer ends after its two zero blocks). */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 512) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, la_write_buf, NULL) != ARCHIVE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_mtime(ae, (time_t)epoch, 0);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		archive_entry_set_uname(ae, "root");
		archive_entry_set_gname(ae, "root");
		if (e[i].is_dir) {
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e[i].mode & 07777);
			archive_entry_set_size(ae, 0);
		} else if (e[i].link) {
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].link);
			archive_entry_set_size(ae, 0);
		} else {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].mode & 07777);
			archive_entry_set_size(ae, (la_int64_t)e[i].len);
		}
		if (archive_write_header(a, ae) != ARCHIVE_OK)
			goto out;
		if (!e[i].is_dir && !e[i].link && e[i].len &&
		    archive_write_data(a, e[i].data, e[i].len) !=
			    (la_ssize_t)e[i].len)
			goto out;
	}
	if (archive_write_close(a) == ARCHIVE_OK)
		rc = 0;
out:
	archive_entry_free(ae);
	archive_write_free(a);
	return rc;
}

/* ---- tar, read back --------------------------------------------------- */

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
	return img_gzip_level(in, n, 9, out);
}

int img_gzip_level(const unsigned char *in, size_t n, int level,
		   struct img_buf *out)
{
	z_stream zs;
	gz_header gh;
	int rc;

	memset(&zs, 0, sizeof(zs));
	memset(&gh, 0, sizeof(gh));
	/* 31 = a gzip wrapper around a 32 KiB window. */
	if (deflateInit2(&zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
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
