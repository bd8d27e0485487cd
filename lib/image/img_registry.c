/*
 * The registry: an OCI image layout holding every entity's images, blobs
 * shared between them (content-addressed, so a thousand images on one base
 * store the base once).
 *
 * fsck checks the layout as a whole: index.json reads; every image it tags
 * validates (digests, sizes, diff_ids of the personalization layers, the
 * same checks a build runs before tagging); every blob file's content
 * matches its name. Temporary files left by a build that was killed are
 * reported, not errors: a build writes every file to a temporary name and
 * renames it, and tags last, so a kill at any moment leaves either the old
 * layout or the new one plus leftovers.
 *
 * gc deletes the blobs no tagged image reaches, and leftovers, once they
 * are older than a grace period (a build running at the same time has not
 * tagged its blobs yet).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image_int.h"

#define REG_MT_INDEX "application/vnd.oci.image.index.v1+json"

static int report_add(struct bsp_registry_report *r, const char *fmt, ...)
	BSP_PRINTF(2, 3);

static int report_add(struct bsp_registry_report *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char **p;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!(p = realloc(r->problems, (r->n_problems + 1) * sizeof(*p))) ||
	    !(p[r->n_problems] = strdup(buf))) {
		if (p)
			r->problems = p;
		return -1;
	}
	r->problems = p;
	r->n_problems++;
	return 0;
}

void bsp_registry_report_release(struct bsp_registry_report *r)
{
	for (size_t i = 0; i < r->n_problems; i++)
		free(r->problems[i]);
	free(r->problems);
	memset(r, 0, sizeof(*r));
}

/* A set of digests (hex part), kept sorted once filled. */
struct digests {
	char (*d)[65];
	size_t n, cap;
};

static int digests_add(struct digests *s, const char *digest)
{
	if (strncmp(digest, "sha256:", 7) || strlen(digest) != 71)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		char(*p)[65] = realloc(s->d, cap * sizeof(*p));
		if (!p)
			return -1;
		s->d = p;
		s->cap = cap;
	}
	memcpy(s->d[s->n++], digest + 7, 65);
	return 0;
}

static int cmp_hex(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int digests_has(const struct digests *s, const char *hex)
{
	return s->n && bsearch(hex, s->d, s->n, sizeof(*s->d), cmp_hex);
}

static json_t *load_index(const char *dir, struct bsp_error *err)
{
	char path[4200];
	struct img_buf b = {0};
	json_error_t je;
	json_t *j;

	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (img_read_file(path, IMG_JSON_MAX, &b, err))
		return NULL;
	j = json_loadb((const char *)b.p, b.len, 0, &je);
	img_buf_release(&b);
	if (!j || !json_is_array(json_object_get(j, "manifests"))) {
		bsp_error_set(err, BSP_ECORRUPT, "%s:%d: %s", path,
			      j ? 0 : je.line,
			      j ? "no manifests list" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Adds what a manifest (or an index, one level down) reaches. */
static int reach(const char *dir, json_t *desc, struct digests *live,
		 struct bsp_registry_report *r, int depth)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	const char *mt = json_string_value(json_object_get(desc, "mediaType"));
	struct img_buf b = {0};
	struct bsp_error e = {0};
	json_t *j, *l;
	size_t i;

	if (!digest || digests_add(live, digest))
		return -1;
	if (img_blob_get(dir, digest, -1, IMG_JSON_MAX, &b, &e)) {
		report_add(r, "%s: %s", digest, e.msg);
		return 0;
	}
	j = json_loadb((const char *)b.p, b.len, 0, NULL);
	img_buf_release(&b);
	if (!j) {
		report_add(r, "%s: not JSON", digest);
		return 0;
	}
	if (mt && !strcmp(mt, REG_MT_INDEX)) {
		if (depth < 2)
			json_array_foreach(json_object_get(j, "manifests"), i, l)
				reach(dir, l, live, r, depth + 1);
	} else {
		const char *cfg = json_string_value(
			json_object_get(json_object_get(j, "config"), "digest"));
		if (cfg)
			digests_add(live, cfg);
		json_array_foreach(json_object_get(j, "layers"), i, l)
		{
			const char *d =
				json_string_value(json_object_get(l, "digest"));
			if (d)
				digests_add(live, d);
		}
	}
	json_decref(j);
	return 0;
}

/* Walks blobs/sha256: every file's name, size and age; calls fn. */
static int each_blob(const char *dir,
		     int (*fn)(const char *path, const char *name,
			       const struct stat *st, void *ud),
		     void *ud)
{
	char sub[4200], path[4500];
	DIR *d;
	struct dirent *de;
	int rc = 0;

	snprintf(sub, sizeof(sub), "%s/blobs/sha256", dir);
	if (!(d = opendir(sub)))
		return errno == ENOENT ? 0 : -1;
	while (!rc && (de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
					     !strcmp(de->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sub, de->d_name);
		if (lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		rc = fn(path, de->d_name, &st, ud);
	}
	closedir(d);
	return rc;
}

struct walk {
	const char *dir;
	struct digests *live;
	struct bsp_registry_report *r;
	int gc, dry_run;
	time_t cutoff;
};

static int is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int on_blob(const char *path, const char *name, const struct stat *st,
		   void *ud)
{
	struct walk *w = ud;
	int named = is_hex64(name);
	int live = named && digests_has(w->live, name);

	if (named)
		w->r->blobs++;
	if (live) {
		w->r->bytes += (uint64_t)st->st_size;
		if (!w->gc) {
			/* fsck: the content matches the name. */
			struct img_buf b = {0};
			struct bsp_error e = {0};
			char digest[72];
			snprintf(digest, sizeof(digest), "sha256:%s", name);
			if (img_blob_get(w->dir, digest, -1, IMG_LAYER_MAX, &b,
					 &e))
				report_add(w->r, "%s", e.msg);
			img_buf_release(&b);
		}
		return 0;
	}
	/* Not reached from any tag: a leftover or an old image's blob. */
	if (named) {
		w->r->unreferenced++;
		w->r->unreferenced_bytes += (uint64_t)st->st_size;
	} else {
		w->r->leftovers++;
	}
	if (w->gc && st->st_mtime <= w->cutoff) {
		if (!w->dry_run && unlink(path))
			report_add(w->r, "%s: %s", path, strerror(errno));
		else
			w->r->removed++, w->r->removed_bytes +=
					 (uint64_t)st->st_size;
	}
	return 0;
}

static bsp_err walk(const char *dir, int gc, int dry_run, long grace_s,
		    struct bsp_registry_report *r, struct bsp_error *err)
{
	struct digests live = {0};
	json_t *idx, *m;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!(idx = load_index(dir, err)))
		return err->code ? err->code : BSP_ECORRUPT;
	json_array_foreach(json_object_get(idx, "manifests"), i, m)
	{
		if (reach(dir, m, &live, r, 0)) {
			json_decref(idx);
			free(live.d);
			return bsp_error_set(err, BSP_ENOMEM, "out of memory");
		}
		r->images++;
		if (!gc) {
			/* fsck: what a build checks before it tags. */
			struct bsp_image_report vr = {0};
			const char *ref = json_string_value(json_object_get(
				json_object_get(m, "annotations"), IMG_ANN_REF));
			const char *mt =
				json_string_value(json_object_get(m, "mediaType"));
			if (mt && !strcmp(mt, IMG_MT_MANIFEST)) {
				img_validate_desc(dir, m, NULL, "", 0, &vr);
				for (size_t k = 0; k < vr.n; k++)
					report_add(r, "%s: %s: %s: %s",
						   ref ? ref : "(untagged)",
						   vr.issues[k].check,
						   vr.issues[k].file,
						   vr.issues[k].detail);
				bsp_image_report_free(&vr);
			}
		}
	}
	json_decref(idx);
	if (live.n)
		qsort(live.d, live.n, sizeof(*live.d), cmp_hex);
	struct walk w = {dir, &live, r, gc, dry_run, time(NULL) - grace_s};
	if (each_blob(dir, on_blob, &w)) {
		free(live.d);
		return bsp_error_set(err, BSP_EIO, "%s/blobs: %s", dir,
				     strerror(errno));
	}
	/* index.json written to a temporary name by a killed build. */
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[4500];
		struct stat st;
		if (strncmp(de->d_name, "index.json.tmp-", 15))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		r->leftovers++;
		if (gc && st.st_mtime <= w.cutoff) {
			if (!dry_run && unlink(path))
				report_add(r, "%s: %s", path, strerror(errno));
			else
				r->removed++;
		}
	}
	if (d)
		closedir(d);
	free(live.d);
	return BSP_OK;
}

bsp_err bsp_registry_fsck(const char *dir, struct bsp_registry_report *r,
			  struct bsp_error *err)
{
	return walk(dir, 0, 0, 0, r, err);
}

bsp_err bsp_registry_gc(const char *dir, long grace_seconds, int dry_run,
			struct bsp_registry_report *r, struct bsp_error *err)
{
	return walk(dir, 1, dry_run, grace_seconds, r, err);
}

/* ---- the files an image adds to its base ---------------------------------- */

struct files_ctx {
	struct bsp_image_file *f;
	size_t n, cap;
};

static int on_file(const struct img_tar_member *m, void *ud)
{
	struct files_ctx *c = ud;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct bsp_image_file *p = realloc(c->f, cap * sizeof(*p));
		if (!p)
			return -1;
		c->f = p;
		c->cap = cap;
	}
	struct bsp_image_file *f = &c->f[c->n];
	memset(f, 0, sizeof(*f));
	const char *path = m->path;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!(f->path = strdup(path)))
		return -1;
	f->type = m->type;
	f->mode = m->mode;
	f->size = m->len;
	if (m->type == '2' && m->link)
		snprintf(f->digest, sizeof(f->digest), "-> %.60s", m->link);
	else if (m->type == '0')
		img_sha256(m->data, m->len, f->digest);
	c->n++;
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct bsp_image_file *)a)->path,
		      ((const struct bsp_image_file *)b)->path);
}

bsp_err bsp_image_files(const struct bsp_oci_ref *ref,
			struct bsp_image_file **out, size_t *n,
			struct bsp_error *err)
{
	struct files_ctx c = {0};
	struct img_buf mb = {0}, lb = {0}, tar = {0};
	json_t *desc, *man = NULL;
	bsp_err r = BSP_OK;
	size_t base = 0, i;

	*out = NULL;
	*n = 0;
	if (!(desc = img_index_find(ref->dir, ref->tag, err)))
		return err->code ? err->code : BSP_ENOTFOUND;
	const char *md = json_string_value(json_object_get(desc, "digest"));
	if (!md || img_blob_get(ref->dir, md, -1, IMG_JSON_MAX, &mb, err) ||
	    !(man = json_loadb((const char *)mb.p, mb.len, 0, NULL))) {
		r = err->code ? err->code
			      : bsp_error_set(err, BSP_ECORRUPT,
					      "%s:%s: manifest unreadable",
					      ref->dir, ref->tag);
		goto out;
	}
	/* Only the layers added on top of the base (all without the
	 * annotation: then the whole image). */
	const char *bl = json_string_value(json_object_get(
		json_object_get(man, "annotations"), IMG_ANN_BASE_LAYERS));
	if (bl)
		base = (size_t)strtoul(bl, NULL, 10);
	json_t *layers = json_object_get(man, "layers");
	for (i = base; i < json_array_size(layers); i++) {
		json_t *l = json_array_get(layers, i);
		const char *d = json_string_value(json_object_get(l, "digest"));
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		lb.len = tar.len = 0;
		if (!d || img_blob_get(ref->dir, d, -1, IMG_LAYER_MAX, &lb, err)) {
			r = err->code ? err->code : BSP_ECORRUPT;
			goto out;
		}
		const struct img_buf *raw = &lb;
		if (mt && strstr(mt, "gzip")) {
			if (img_gunzip(lb.p, lb.len, IMG_LAYER_MAX, &tar, err)) {
				r = err->code ? err->code : BSP_ECORRUPT;
				goto out;
			}
			raw = &tar;
		}
		if (img_tar_each(raw->p, raw->len, on_file, &c, err)) {
			r = err->code ? err->code : BSP_ENOMEM;
			goto out;
		}
	}
	if (c.n)
		qsort(c.f, c.n, sizeof(*c.f), cmp_file);
	*out = c.f;
	*n = c.n;
	c.f = NULL;
	c.n = 0;
out:
	bsp_image_files_free(c.f, c.n);
	json_decref(man);
	json_decref(desc);
	img_buf_release(&mb);
	img_buf_release(&lb);
	img_buf_release(&tar);
	return r;
}

void bsp_image_files_free(struct bsp_image_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].path);
	free(f);
}

size_t bsp_image_files_diff(const struct bsp_image_file *a, size_t na,
			    const struct bsp_image_file *b, size_t nb,
			    struct bsp_image_change *out)
{
	size_t i = 0, j = 0, n = 0;

	/* A merge of two lists sorted by path. */
	while (i < na || j < nb) {
		int c = i == na	  ? 1
			: j == nb ? -1
				  : strcmp(a[i].path, b[j].path);
		if (c < 0) {
			out[n++] = (struct bsp_image_change){a[i++].path,
							     "removed"};
		} else if (c > 0) {
			out[n++] = (struct bsp_image_change){b[j++].path,
							     "added"};
		} else {
			if (strcmp(a[i].digest, b[j].digest) ||
			    a[i].mode != b[j].mode || a[i].type != b[j].type)
				out[n++] = (struct bsp_image_change){
					a[i].path, "changed"};
			i++;
			j++;
		}
	}
	return n;
}
