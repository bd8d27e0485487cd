/*
 * The OCI image layout on disk (image-spec, "image-layout.md"): blobs
 * named by their SHA-256 under blobs/sha256/, an oci-layout marker and
 * index.json, whose manifests carry org.opencontainers.image.ref.name as
 * their tag.
 *
 * Every write is a temporary file, fsync'd, renamed over its name, then
 * the directory fsync'd, so a build killed at any moment leaves either the
 * old or the new file, never half of one. Blobs are immutable and shared:
 * an existing blob of the right size is not written again, which is what
 * lets a thousand images on one base store the base once. index.json is
 * rewritten under an exclusive lock on the layout directory so that two
 * builds tagging at once do not lose each other's tags.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image_int.h"

void img_sha256(const void *data, size_t n, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	memcpy(out, "sha256:", 7);
	if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32) {
		memset(out + 7, '0', 64);
		out[71] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

int img_read_file(const char *path, size_t limit, struct img_buf *out,
		  struct bsp_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char chunk[65536];

	if (fd < 0) {
		bsp_error_set(err, errno == ENOENT ? BSP_ENOTFOUND : BSP_EIO,
			      "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		bsp_error_set(err, BSP_EINVAL, "%s: is a directory", path);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			bsp_error_set(err, BSP_EIO, "%s: %s", path,
				      strerror(errno));
			break;
		}
		if (r == 0) {
			close(fd);
			return img_buf_add(out, NULL, 0) ? -1 : 0;
		}
		if (out->len + (size_t)r > limit) {
			bsp_error_set(err, BSP_ELIMIT,
				      "%s: larger than %zu bytes", path, limit);
			break;
		}
		if (img_buf_add(out, chunk, (size_t)r)) {
			bsp_error_set(err, BSP_ENOMEM, "out of memory");
			break;
		}
	}
	close(fd);
	img_buf_release(out);
	return -1;
}

static void fsync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + (slash == path)),
			 path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int img_write_atomic(const char *path, const void *data, size_t n,
		     struct bsp_error *err)
{
	char tmp[4200];
	const unsigned char *p = data;
	size_t done = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		bsp_error_set(err, BSP_EIO, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			bsp_error_set(err, BSP_EIO, "%s: %s", tmp,
				      strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		done += (size_t)w;
	}
	if (fsync(fd) || close(fd)) {
		bsp_error_set(err, BSP_EIO, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		bsp_error_set(err, BSP_EIO, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	fsync_dir_of(path);
	return 0;
}

static int digest_ok(const char *digest)
{
	if (strncmp(digest, "sha256:", 7) || strlen(digest) != 71)
		return 0;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int img_blob_path(const char *dir, const char *digest, char *buf, size_t size)
{
	if (!digest_ok(digest))
		return -1;
	int n = snprintf(buf, size, "%s/blobs/sha256/%s", dir, digest + 7);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int mkdir_p(const char *path, struct bsp_error *err)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return bsp_error_set(err, BSP_EINVAL, "%s: path too long", path),
		       -1;
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST) {
			bsp_error_set(err, BSP_EIO, "%s: %s", buf,
				      strerror(errno));
			return -1;
		}
		if (!c)
			break;
		*p = c;
	}
	return 0;
}

int img_blob_put(const char *dir, const void *data, size_t n, char digest[72],
		 struct bsp_error *err)
{
	char path[4200], sub[4200];
	struct stat st;

	img_sha256(data, n, digest);
	snprintf(sub, sizeof(sub), "%s/blobs/sha256", dir);
	if (mkdir_p(sub, err))
		return -1;
	img_blob_path(dir, digest, path, sizeof(path));
	if (stat(path, &st) == 0 && (size_t)st.st_size == n)
		return 0;
	return img_write_atomic(path, data, n, err);
}

int img_blob_get(const char *dir, const char *digest, int64_t size,
		 size_t limit, struct img_buf *out, struct bsp_error *err)
{
	char path[4200], got[72];

	if (img_blob_path(dir, digest, path, sizeof(path))) {
		bsp_error_set(err, BSP_ECORRUPT, "'%s' is not a sha256 digest",
			      digest);
		return -1;
	}
	if (img_read_file(path, limit, out, err))
		return -1;
	if (size >= 0 && (int64_t)out->len != size) {
		bsp_error_set(err, BSP_ECORRUPT,
			      "blob %s: %zu bytes, the descriptor says %lld",
			      digest, out->len, (long long)size);
		img_buf_release(out);
		return -1;
	}
	img_sha256(out->p, out->len, got);
	if (strcmp(got, digest)) {
		bsp_error_set(err, BSP_ECORRUPT, "blob %s: content hashes to %s",
			      digest, got);
		img_buf_release(out);
		return -1;
	}
	return 0;
}

static json_t *index_load(const char *dir, struct bsp_error *err)
{
	char path[4200];
	struct img_buf b = {0};
	json_error_t je;
	json_t *idx;

	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (img_read_file(path, IMG_JSON_MAX, &b, err))
		return NULL;
	idx = json_loadb((const char *)b.p, b.len, 0, &je);
	img_buf_release(&b);
	if (!idx || !json_is_array(json_object_get(idx, "manifests"))) {
		bsp_error_set(err, BSP_ECORRUPT, "%s: %s", path,
			      idx ? "no manifests list" : je.text);
		json_decref(idx);
		return NULL;
	}
	return idx;
}

json_t *img_index_find(const char *dir, const char *tag, struct bsp_error *err)
{
	json_t *idx = index_load(dir, err), *m, *found = NULL;
	struct img_buf tags = {0};
	size_t i;

	if (!idx)
		return NULL;
	json_array_foreach(json_object_get(idx, "manifests"), i, m)
	{
		const char *ref = json_string_value(json_object_get(
			json_object_get(m, "annotations"), IMG_ANN_REF));
		if (ref && !strcmp(ref, tag)) {
			found = json_incref(m);
			break;
		}
		if (ref)
			img_buf_printf(&tags, "%s%s", tags.len ? ", " : "", ref);
	}
	if (!found)
		bsp_error_set(err, BSP_ENOTFOUND,
			      "%s: no image tagged '%s' (tags: %s)", dir, tag,
			      tags.len ? (char *)tags.p : "none");
	img_buf_release(&tags);
	json_decref(idx);
	return found;
}

int img_layout_init(const char *dir, struct bsp_error *err)
{
	char path[4200];
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	static const char index[] =
		"{\"schemaVersion\":2,\"mediaType\":"
		"\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}";

	if (mkdir_p(dir, err))
		return -1;
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	if (access(path, F_OK) && img_write_atomic(path, layout,
						   sizeof(layout) - 1, err))
		return -1;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (access(path, F_OK) &&
	    img_write_atomic(path, index, sizeof(index) - 1, err))
		return -1;
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	return mkdir_p(path, err);
}

int img_index_tag(const char *dir, const char *tag, json_t *desc,
		  struct bsp_error *err)
{
	char path[4200];
	int lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	json_t *idx = NULL, *list, *m;
	char *text = NULL;
	int rc = -1;
	size_t i;

	if (lock < 0 || flock(lock, LOCK_EX)) {
		bsp_error_set(err, BSP_EIO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	idx = index_load(dir, err);
	if (!idx)
		goto out;
	list = json_object_get(idx, "manifests");
	for (i = json_array_size(list); i-- > 0;) {
		m = json_array_get(list, i);
		const char *ref = json_string_value(json_object_get(
			json_object_get(m, "annotations"), IMG_ANN_REF));
		if (ref && !strcmp(ref, tag))
			json_array_remove(list, i);
	}
	if (json_array_append(list, desc)) {
		bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	text = json_dumps(idx, JSON_SORT_KEYS | JSON_COMPACT);
	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (!text)
		bsp_error_set(err, BSP_ENOMEM, "out of memory");
	else
		rc = img_write_atomic(path, text, strlen(text), err);
out:
	free(text);
	json_decref(idx);
	if (lock >= 0)
		close(lock); /* releases the lock */
	return rc;
}

bsp_err bsp_oci_ref_parse(const char *s, struct bsp_oci_ref *out,
			  struct bsp_error *err)
{
	const char *p = s, *colon;

	if (!strncmp(p, "oci:", 4))
		p += 4;
	colon = strrchr(p, ':');
	if (!colon || colon == p || !colon[1])
		return bsp_error_set(err, BSP_EINVAL,
				     "'%s': expected oci:DIR:TAG", s);
	size_t dlen = (size_t)(colon - p), tlen = strlen(colon + 1);
	if (dlen >= sizeof(out->dir) || tlen >= sizeof(out->tag))
		return bsp_error_set(err, BSP_EINVAL, "'%s': too long", s);
	/* Tags as the distribution spec allows them. */
	for (const char *t = colon + 1; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || *t == '_' || *t == '.' ||
		      *t == '-') ||
		    (t == colon + 1 && (*t == '.' || *t == '-')) ||
		    tlen > 128)
			return bsp_error_set(err, BSP_EINVAL,
					     "'%s': tag '%s' may hold letters, "
					     "digits, '_', '.', '-' (at most "
					     "128, not first '.' or '-')",
					     s, colon + 1);
	memcpy(out->dir, p, dlen);
	out->dir[dlen] = '\0';
	memcpy(out->tag, colon + 1, tlen + 1);
	return BSP_OK;
}
