/*
 * `image build`: a new OCI image = the base image's layers, untouched and
 * shared, + one personalization layer written from the plan.
 *
 * Determinism: the layer is a function of the plan (sorted entries, fixed
 * owners and mtimes, gzip without name or time); the config is the base's
 * with one diff_id and one history entry appended, its times set to the
 * build epoch; JSON is written with sorted keys. So the same base and the
 * same profile give the same manifest digest, which makes rebuilding a
 * no-op and lets a registry spot duplicates.
 *
 * Order of writes: blobs first (each atomically), then validation of the
 * untagged manifest, and only when it passes the tag in index.json (one
 * atomic rename). A build killed at any point leaves at most unreferenced
 * blobs, never a tag that points at something incomplete.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image_int.h"

static void rfc3339(int64_t epoch, char *buf, size_t size)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "1970-01-01T00:00:00Z");
}

/* Copies (or hard-links) a blob from one layout to another. */
static int blob_copy(const char *from_dir, const char *to_dir,
		     const char *digest, int64_t size, struct bsp_error *err)
{
	char src[4200], dst[4200];
	struct stat st;

	if (img_blob_path(from_dir, digest, src, sizeof(src)) ||
	    img_blob_path(to_dir, digest, dst, sizeof(dst))) {
		bsp_error_set(err, BSP_ECORRUPT, "'%s' is not a sha256 digest",
			      digest);
		return -1;
	}
	if (stat(dst, &st) == 0 && st.st_size == size)
		return 0;
	if (link(src, dst) == 0)
		return 0;
	struct img_buf b = {0};
	if (img_blob_get(from_dir, digest, size, IMG_LAYER_MAX, &b, err))
		return -1;
	int rc = img_write_atomic(dst, b.p, b.len, err);
	img_buf_release(&b);
	return rc;
}

static int same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	if (!realpath(a, ra) || !realpath(b, rb))
		return !strcmp(a, b);
	return !strcmp(ra, rb);
}

static json_t *load_json_blob(const char *dir, const char *digest, int64_t size,
			      const char *what, struct bsp_error *err)
{
	struct img_buf b = {0};
	json_error_t je;
	json_t *j = NULL;

	if (img_blob_get(dir, digest, size, IMG_JSON_MAX, &b, err) == 0) {
		j = json_loadb((const char *)b.p, b.len, 0, &je);
		if (!json_is_object(j)) {
			json_decref(j);
			j = NULL;
			bsp_error_set(err, BSP_ECORRUPT, "%s %s: %s", what,
				      digest, je.text);
		}
	}
	img_buf_release(&b);
	return j;
}

/* A descriptor object. */
static json_t *descriptor(const char *mt, const char *digest, size_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest,
			 "size", (json_int_t)size);
}

/* Dumps `j` canonically and stores it; fills the descriptor. */
static json_t *put_json(const char *dir, json_t *j, const char *mt,
			struct bsp_error *err)
{
	char digest[72];
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_t *d = NULL;

	if (!text) {
		bsp_error_set(err, BSP_ENOMEM, "out of memory");
		return NULL;
	}
	if (img_blob_put(dir, text, strlen(text), digest, err) == 0)
		d = descriptor(mt, digest, strlen(text));
	free(text);
	return d;
}

bsp_err bsp_image_build(const struct bsp_image_plan *plan,
			const struct bsp_image_build_options *opt,
			struct bsp_image_result *res,
			struct bsp_image_report *report, struct bsp_error *err)
{
	json_t *bdesc = NULL, *bman = NULL, *cfg = NULL, *man = NULL;
	json_t *cdesc = NULL, *mdesc = NULL, *layers, *ann;
	struct img_buf tar = {0}, gz = {0};
	char diff_id[72], created[40], pv[32], nb[32];
	const char *bdigest;
	bsp_err rc = BSP_EINVAL;

	memset(res, 0, sizeof(*res));
	memset(report, 0, sizeof(*report));
	rfc3339(opt->epoch, created, sizeof(created));

	/* The base: its manifest and config, checked by digest. */
	bdesc = img_index_find(opt->base.dir, opt->base.tag, err);
	if (!bdesc)
		return err ? err->code : BSP_ENOTFOUND;
	bdigest = json_string_value(json_object_get(bdesc, "digest"));
	json_t *bsize = json_object_get(bdesc, "size");
	if (!bdigest || !json_is_integer(bsize)) {
		rc = bsp_error_set(err, BSP_ECORRUPT,
				   "%s: the descriptor of '%s' lacks digest or "
				   "size",
				   opt->base.dir, opt->base.tag);
		goto out;
	}
	snprintf(res->base_digest, sizeof(res->base_digest), "%s", bdigest);
	bman = load_json_blob(opt->base.dir, bdigest, json_integer_value(bsize),
			      "manifest", err);
	if (!bman)
		goto fail;
	json_t *bcfg = json_object_get(bman, "config");
	json_t *blayers = json_object_get(bman, "layers");
	const char *cdigest = json_string_value(json_object_get(bcfg, "digest"));
	if (!cdigest || !json_is_array(blayers)) {
		rc = bsp_error_set(err, BSP_ECORRUPT,
				   "%s: manifest %s has no config or layers",
				   opt->base.dir, bdigest);
		goto out;
	}
	cfg = load_json_blob(opt->base.dir, cdigest,
			     json_integer_value(json_object_get(bcfg, "size")),
			     "config", err);
	if (!cfg)
		goto fail;
	json_t *rootfs = json_object_get(cfg, "rootfs");
	json_t *diffs = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(diffs) || json_array_size(diffs) != json_array_size(blayers)) {
		rc = bsp_error_set(err, BSP_ECORRUPT,
				   "%s: config %s: diff_ids do not match the "
				   "layers",
				   opt->base.dir, cdigest);
		goto out;
	}

	/* The output layout, with the base's layers in it. */
	if (img_layout_init(opt->out.dir, err))
		goto fail;
	if (!same_dir(opt->base.dir, opt->out.dir)) {
		size_t i;
		json_t *l;
		json_array_foreach(blayers, i, l)
		{
			const char *d = json_string_value(json_object_get(l, "digest"));
			json_t *s = json_object_get(l, "size");
			if (!d || !json_is_integer(s)) {
				rc = bsp_error_set(err, BSP_ECORRUPT,
						   "%s: layer %zu lacks digest "
						   "or size",
						   opt->base.dir, i);
				goto out;
			}
			if (blob_copy(opt->base.dir, opt->out.dir, d,
				      json_integer_value(s), err))
				goto fail;
		}
	}

	/* The personalization layer. */
	if (img_layer_tar(plan, opt->epoch, &tar, err))
		goto fail;
	img_sha256(tar.p, tar.len, diff_id);
	if (img_gzip(tar.p, tar.len, &gz)) {
		rc = bsp_error_set(err, BSP_ENOMEM, "gzip of the layer failed");
		goto out;
	}
	if (img_blob_put(opt->out.dir, gz.p, gz.len, res->layer_digest, err))
		goto fail;
	res->layer_bytes = gz.len;
	res->layer_tar_bytes = tar.len;
	res->n_files = plan->n_files;
	res->n_packages_first_boot =
		plan->packages_installed ? 0 : plan->n_packages;

	/* The config: the base's, one layer longer. */
	if (json_array_append_new(diffs, json_string(diff_id)))
		goto oom;
	json_t *hist = json_object_get(cfg, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		if (!hist || json_object_set_new(cfg, "history", hist))
			goto oom;
	}
	char comment[512];
	snprintf(comment, sizeof(comment),
		 "personalization of %s from profile version %lld",
		 plan->entity[0] ? plan->entity : "(profile file)",
		 (long long)plan->profile_version);
	if (json_array_append_new(hist, json_pack("{s:s, s:s, s:s}", "created",
						  created, "created_by",
						  "bespoke image build",
						  "comment", comment)) ||
	    json_object_set_new(cfg, "created", json_string(created)))
		goto oom;
	cdesc = put_json(opt->out.dir, cfg, IMG_MT_CONFIG, err);
	if (!cdesc)
		goto fail;

	/* The manifest. */
	layers = json_deep_copy(blayers);
	if (!layers ||
	    json_array_append_new(layers, descriptor(IMG_MT_LAYER_GZ,
						     res->layer_digest, gz.len)))
		goto oom_layers;
	snprintf(pv, sizeof(pv), "%lld", (long long)plan->profile_version);
	snprintf(nb, sizeof(nb), "%zu", json_array_size(blayers));
	ann = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			"org.opencontainers.image.base.digest", bdigest,
			"org.opencontainers.image.base.name", opt->base.tag,
			"org.opencontainers.image.created", created,
			IMG_ANN_BASE_LAYERS, nb, "io.bespoke.entity",
			plan->entity, "io.bespoke.profile.version", pv,
			"io.bespoke.models", plan->models);
	man = json_pack("{s:i, s:s, s:O, s:o, s:o}", "schemaVersion", 2,
			"mediaType", IMG_MT_MANIFEST, "config", cdesc, "layers",
			layers, "annotations", ann);
	if (!man)
		goto oom;
	mdesc = put_json(opt->out.dir, man, IMG_MT_MANIFEST, err);
	if (!mdesc)
		goto fail;
	snprintf(res->manifest_digest, sizeof(res->manifest_digest), "%s",
		 json_string_value(json_object_get(mdesc, "digest")));
	json_t *platform = json_object_get(bdesc, "platform");
	if (platform && json_object_set(mdesc, "platform", platform))
		goto oom;

	/* The cloud-init twin, then validation, then the tag. */
	if (opt->user_data && bsp_image_user_data(plan, opt->user_data, err))
		goto fail;
	img_validate_desc(opt->out.dir, mdesc, opt->user_data, opt->cloud_init,
			  0, report);
	if (report->n) {
		const struct bsp_image_issue *is = &report->issues[0];
		rc = bsp_error_set(err, BSP_EINVAL,
				   "validation failed, image not tagged: %s: "
				   "%s: %s%s",
				   is->file, is->check, is->detail,
				   report->n > 1 ? " (and more)" : "");
		goto out;
	}
	if (json_object_set_new(mdesc, "annotations",
				json_pack("{s:s}", IMG_ANN_REF, opt->out.tag)) ||
	    img_index_tag(opt->out.dir, opt->out.tag, mdesc, err))
		goto fail;
	rc = BSP_OK;
	goto out;
oom_layers:
	json_decref(layers);
oom:
	rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
	goto out;
fail:
	rc = err && err->code ? err->code : BSP_EIO;
out:
	img_buf_release(&tar);
	img_buf_release(&gz);
	json_decref(bdesc);
	json_decref(bman);
	json_decref(cfg);
	json_decref(man);
	json_decref(cdesc);
	json_decref(mdesc);
	return rc;
}
