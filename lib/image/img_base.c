/*
 * What the base image already holds, for the plan's "difference from the
 * base image": the paths of the base's root filesystem, computed the way
 * a runtime stacks layers (image-spec "layer.md"): each layer adds its
 * entries, a `.wh.NAME` whiteout removes NAME (and what lies below it),
 * and `.wh..wh..opq` empties its directory of what lower layers put
 * there. Only paths are kept; the layers are read once and dropped.
 */
#include <stdio.h>

#include "image_int.h"

struct paths {
	char **p;
	size_t n, cap;
	size_t layer_start; /* entries before this came from lower layers */
};

static int paths_add(struct paths *ps, const char *path)
{
	if (BSP_GROW(ps->p, ps->cap, ps->n + 1))
		return -1;
	if (!(ps->p[ps->n] = strdup(path)))
		return -1;
	ps->n++;
	return 0;
}

/* Removes lower-layer entries equal to `path` or below it (below only,
 * when `below_only`). */
static void paths_remove(struct paths *ps, const char *path, int below_only)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < ps->layer_start; i++) {
		char *q = ps->p[i];
		if (!q)
			continue;
		int same = !strcmp(q, path);
		int below = !strncmp(q, path, len) && q[len] == '/';
		if (below || (same && !below_only)) {
			free(q);
			ps->p[i] = NULL;
		}
	}
}

static int on_member(const struct img_tar_member *m, void *ud)
{
	struct paths *ps = ud;
	char path[4200];
	const char *p = m->path;
	size_t len;

	while (!strncmp(p, "./", 2))
		p += 2;
	while (*p == '/')
		p++;
	len = strlen(p);
	while (len && p[len - 1] == '/')
		len--;
	if (!len || len >= sizeof(path) - 2)
		return 0;
	snprintf(path, sizeof(path), "/%.*s", (int)len, p);
	char *base = strrchr(path, '/') + 1;
	if (!strcmp(base, ".wh..wh..opq")) {
		base[-1] = '\0';
		paths_remove(ps, path[0] ? path : "/", 1);
		return 0;
	}
	if (!strncmp(base, ".wh.", 4)) {
		memmove(base, base + 4, strlen(base + 4) + 1);
		paths_remove(ps, path, 0);
		return 0;
	}
	return paths_add(ps, path);
}

static int cmp_str(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	if (!x || !y)
		return !x - !y;
	return strcmp(x, y);
}

bsp_err bsp_image_plan_against(struct bsp_image_plan *plan,
			       const struct bsp_oci_ref *base,
			       struct bsp_error *err)
{
	struct paths ps = {0};
	struct img_buf b = {0}, tar = {0};
	json_t *desc = NULL, *man = NULL, *layers, *l;
	json_error_t je;
	bsp_err rc = BSP_OK;
	size_t i;

	desc = img_index_find(base->dir, base->tag, err);
	if (!desc)
		return err ? err->code : BSP_ENOTFOUND;
	json_t *size = json_object_get(desc, "size");
	const char *mdigest = json_string_value(json_object_get(desc, "digest"));
	if (img_blob_get(base->dir, mdigest ? mdigest : "",
			 json_is_integer(size) ? json_integer_value(size) : -1,
			 IMG_JSON_MAX, &b, err)) {
		rc = err ? err->code : BSP_ECORRUPT;
		goto out;
	}
	man = json_loadb((const char *)b.p, b.len, 0, &je);
	layers = json_object_get(man, "layers");
	if (!json_is_array(layers)) {
		rc = bsp_error_set(err, BSP_ECORRUPT, "%s: the manifest of '%s' "
						      "has no layers",
				   base->dir, base->tag);
		goto out;
	}
	json_array_foreach(layers, i, l)
	{
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		const char *digest = json_string_value(json_object_get(l, "digest"));
		json_t *lsize = json_object_get(l, "size");
		b.len = tar.len = 0;
		if (!mt || !digest ||
		    img_blob_get(base->dir, digest,
				 json_is_integer(lsize) ? json_integer_value(lsize) : -1,
				 IMG_LAYER_MAX, &b, err)) {
			rc = err && err->code ? err->code : BSP_ECORRUPT;
			goto out;
		}
		const struct img_buf *raw = &b;
		if (strstr(mt, "gzip")) {
			if (img_gunzip(b.p, b.len, IMG_LAYER_MAX, &tar, err)) {
				rc = err ? err->code : BSP_ECORRUPT;
				goto out;
			}
			raw = &tar;
		} else if (strcmp(mt, IMG_MT_LAYER) &&
			   strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar")) {
			rc = bsp_error_set(err, BSP_EINVAL,
					   "%s: layer %s: media type %s cannot "
					   "be read",
					   base->dir, digest, mt);
			goto out;
		}
		ps.layer_start = ps.n;
		if (img_tar_each(raw->p, raw->len, on_member, &ps, err)) {
			rc = err && err->code ? err->code : BSP_ENOMEM;
			goto out;
		}
	}
	qsort(ps.p, ps.n, sizeof(*ps.p), cmp_str);
	for (i = 0; i < plan->n_files; i++) {
		const char *key = plan->files[i].path;
		plan->files[i].in_base =
			ps.n && bsearch(&key, ps.p, ps.n, sizeof(*ps.p), cmp_str);
	}
out:
	for (i = 0; i < ps.n; i++)
		free(ps.p[i]);
	free(ps.p);
	img_buf_release(&b);
	img_buf_release(&tar);
	json_decref(desc);
	json_decref(man);
	return rc;
}
