/*
 * A base image from Debian's repository (bsp_image_base_debian): mmdebstrap
 * builds a root filesystem as a tar (the variant, the suite, and any
 * packages to install into it), which becomes the one layer of a new OCI
 * image. With SOURCE_DATE_EPOCH set, mmdebstrap clamps its timestamps, so
 * the same suite state gives the same layer.
 *
 * The manifest marks its one layer as the base (io.bespoke.base.layers =
 * 1): a Debian system has setuid programs and the like by design, and the
 * security rules are for what bespoke adds on top, not for the
 * distribution.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image_int.h"

#define DEB_MAX_INCLUDE 256

static int word_ok(const char *s, const char *extra)
{
	if (!s || !*s || strlen(s) > 128)
		return 0;
	for (const char *c = s; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) &&
		    !strchr(extra, *c))
			return 0;
	return 1;
}

static const char *oci_arch(void)
{
	struct utsname u;
	if (uname(&u))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return "amd64";
}

/* Runs mmdebstrap into `tar`; its stderr goes to `log`. */
static bsp_err run_mmdebstrap(const struct bsp_image_base_options *o,
			      const char *tar, const char *log,
			      struct bsp_error *err)
{
	char variant[160], include[8192] = "";
	const char *argv[16];
	size_t a = 0, len = 0;
	pid_t pid;
	int st;

	for (size_t i = 0; i < o->n_include; i++) {
		int n = snprintf(include + len, sizeof(include) - len, "%s%s",
				 i ? "," : "--include=", o->include[i]);
		if (n < 0 || (size_t)n >= sizeof(include) - len)
			return bsp_error_set(err, BSP_ELIMIT,
					     "too many packages to include");
		len += (size_t)n;
	}
	snprintf(variant, sizeof(variant), "--variant=%s",
		 o->variant ? o->variant : "minbase");
	argv[a++] = o->mmdebstrap ? o->mmdebstrap : "mmdebstrap";
	argv[a++] = "--quiet";
	argv[a++] = variant;
	argv[a++] = "--format=tar";
	if (*include)
		argv[a++] = include;
	argv[a++] = o->suite ? o->suite : "bookworm";
	argv[a++] = tar;
	if (o->mirror)
		argv[a++] = o->mirror;
	argv[a] = NULL;
	if ((pid = fork()) < 0)
		return bsp_error_set(err, BSP_EIO, "fork: %s", strerror(errno));
	if (!pid) {
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		if (o->epoch > 0) {
			char e[32];
			snprintf(e, sizeof(e), "%lld", (long long)o->epoch);
			setenv("SOURCE_DATE_EPOCH", e, 1);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return bsp_error_set(err, BSP_EIO, "waitpid: %s",
				     strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char last[512] = "";
		FILE *f = fopen(log, "r");
		/* The last line says why. */
		while (f && fgets(last, sizeof(last), f))
			;
		if (f)
			fclose(f);
		last[strcspn(last, "\n")] = '\0';
		return bsp_error_set(err, WIFEXITED(st) &&
						  WEXITSTATUS(st) == 127
					      ? BSP_ENOTFOUND
					      : BSP_EIO,
				     "mmdebstrap %s",
				     WIFEXITED(st) && WEXITSTATUS(st) == 127
					     ? "is not installed"
					     : *last ? last : "failed");
	}
	return BSP_OK;
}

static json_t *put_json(const char *dir, json_t *j, const char *mt,
			struct bsp_error *err)
{
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	char digest[72];
	json_t *desc = NULL;

	if (text && !img_blob_put(dir, text, strlen(text), digest, err))
		desc = json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest",
				 digest, "size", (json_int_t)strlen(text));
	free(text);
	return desc;
}

bsp_err bsp_image_base_debian(const struct bsp_image_base_options *o,
			      struct bsp_image_result *res,
			      struct bsp_error *err)
{
	char tar[4300], log[4310], diff_id[72], created[40];
	struct img_buf raw = {0}, gz = {0};
	json_t *cfg = NULL, *cdesc = NULL, *man = NULL, *mdesc = NULL;
	struct bsp_image_report rep = {0};
	bsp_err r;
	int fd;

	memset(res, 0, sizeof(*res));
	if (!word_ok(o->suite ? o->suite : "bookworm", "-"))
		return bsp_error_set(err, BSP_EINVAL, "suite '%s': not a "
				     "Debian suite name",
				     o->suite);
	if (o->variant && !word_ok(o->variant, "-"))
		return bsp_error_set(err, BSP_EINVAL, "variant '%s'",
				     o->variant);
	if (o->n_include > DEB_MAX_INCLUDE)
		return bsp_error_set(err, BSP_ELIMIT, "at most %d packages",
				     DEB_MAX_INCLUDE);
	for (size_t i = 0; i < o->n_include; i++)
		if (!word_ok(o->include[i], "+-.") || strlen(o->include[i]) < 2)
			return bsp_error_set(err, BSP_EINVAL,
					     "package '%.64s': not a Debian "
					     "package name",
					     o->include[i]);
	if (o->mirror && strncmp(o->mirror, "http://", 7) &&
	    strncmp(o->mirror, "https://", 8))
		return bsp_error_set(err, BSP_EINVAL, "mirror '%s': not an "
				     "http(s) URL",
				     o->mirror);
	if (img_layout_init(o->out.dir, err))
		return err->code ? err->code : BSP_EIO;
	snprintf(tar, sizeof(tar), "%s/.base-XXXXXX", o->out.dir);
	if ((fd = mkstemp(tar)) < 0)
		return bsp_error_set(err, BSP_EIO, "%s: %s", tar,
				     strerror(errno));
	close(fd);
	snprintf(log, sizeof(log), "%s.log", tar);
	r = run_mmdebstrap(o, tar, log, err);
	unlink(log);
	if (r != BSP_OK)
		goto out;
	if (img_read_file(tar, IMG_LAYER_MAX, &raw, err)) {
		r = err->code ? err->code : BSP_EIO;
		goto out;
	}
	unlink(tar);
	img_sha256(raw.p, raw.len, diff_id);
	/* Level 6: a root filesystem is large, and 9 buys little. */
	if (img_gzip_level(raw.p, raw.len, 6, &gz)) {
		r = bsp_error_set(err, BSP_ENOMEM, "gzip of the base failed");
		goto out;
	}
	res->layer_tar_bytes = raw.len;
	img_buf_release(&raw);
	if (img_blob_put(o->out.dir, gz.p, gz.len, res->layer_digest, err)) {
		r = err->code;
		goto out;
	}
	res->layer_bytes = gz.len;
	time_t t = o->epoch > 0 ? (time_t)o->epoch : time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char by[512];
	snprintf(by, sizeof(by), "mmdebstrap --variant=%s %s (%zu packages "
		 "included)",
		 o->variant ? o->variant : "minbase",
		 o->suite ? o->suite : "bookworm", o->n_include);
	cfg = json_pack("{s:s,s:s,s:s,s:{s:s,s:[s]},s:[{s:s,s:s}]}",
			"architecture", oci_arch(), "os", "linux", "created",
			created, "rootfs", "type", "layers", "diff_ids",
			diff_id, "history", "created", created, "created_by",
			by);
	if (!cfg || !(cdesc = put_json(o->out.dir, cfg, IMG_MT_CONFIG, err))) {
		r = err->code ? err->code : BSP_ENOMEM;
		goto out;
	}
	char incl[8192] = "";
	for (size_t i = 0, len = 0; i < o->n_include && len < sizeof(incl); i++)
		len += (size_t)snprintf(incl + len, sizeof(incl) - len, "%s%s",
					i ? "," : "", o->include[i]);
	man = json_pack("{s:i,s:s,s:O,s:[{s:s,s:s,s:I}],"
			"s:{s:s,s:s,s:s,s:s,s:s,s:s}}",
			"schemaVersion", 2, "mediaType", IMG_MT_MANIFEST,
			"config", cdesc, "layers", "mediaType",
			IMG_MT_LAYER_GZ, "digest", res->layer_digest, "size",
			(json_int_t)gz.len, "annotations",
			"org.opencontainers.image.created", created,
			IMG_ANN_BASE_LAYERS, "1", "io.bespoke.base",
			by, "io.bespoke.base.suite",
			o->suite ? o->suite : "bookworm",
			"io.bespoke.base.variant",
			o->variant ? o->variant : "minbase",
			"io.bespoke.base.include", incl);
	if (!man || !(mdesc = put_json(o->out.dir, man, IMG_MT_MANIFEST, err))) {
		r = err->code ? err->code : BSP_ENOMEM;
		goto out;
	}
	snprintf(res->manifest_digest, sizeof(res->manifest_digest), "%s",
		 json_string_value(json_object_get(mdesc, "digest")));
	/* Digests and sizes checked before the tag, as for every build. */
	img_validate_desc(o->out.dir, mdesc, NULL, "", 0, &rep);
	if (rep.n) {
		r = bsp_error_set(err, BSP_EINVAL, "validation failed, image "
				  "not tagged: %s: %s: %s",
				  rep.issues[0].check, rep.issues[0].file,
				  rep.issues[0].detail);
		goto out;
	}
	json_object_set_new(mdesc, "annotations",
			    json_pack("{s:s}", IMG_ANN_REF, o->out.tag));
	json_object_set_new(mdesc, "platform",
			    json_pack("{s:s,s:s}", "architecture", oci_arch(),
				      "os", "linux"));
	if (img_index_tag(o->out.dir, o->out.tag, mdesc, err))
		r = err->code ? err->code : BSP_EIO;
out:
	unlink(tar);
	bsp_image_report_free(&rep);
	img_buf_release(&raw);
	img_buf_release(&gz);
	json_decref(cfg);
	json_decref(cdesc);
	json_decref(man);
	json_decref(mdesc);
	return r;
}

bsp_err bsp_image_base_origin(const struct bsp_oci_ref *base, char *suite,
			      size_t suite_size, char *variant,
			      size_t variant_size, char *include,
			      size_t include_size, struct bsp_error *err)
{
	struct img_buf b = {0};
	json_t *desc, *man = NULL, *ann;
	bsp_err r = BSP_OK;

	if (!(desc = img_index_find(base->dir, base->tag, err)))
		return err->code ? err->code : BSP_ENOTFOUND;
	const char *d = json_string_value(json_object_get(desc, "digest"));
	if (!d || img_blob_get(base->dir, d, -1, IMG_JSON_MAX, &b, err) ||
	    !(man = json_loadb((const char *)b.p, b.len, 0, NULL))) {
		r = err->code ? err->code
			      : bsp_error_set(err, BSP_ECORRUPT,
					      "%s:%s: manifest unreadable",
					      base->dir, base->tag);
		goto out;
	}
	ann = json_object_get(man, "annotations");
	const char *s = json_string_value(json_object_get(ann, "io.bespoke.base.suite"));
	const char *v = json_string_value(json_object_get(ann, "io.bespoke.base.variant"));
	const char *i = json_string_value(json_object_get(ann, "io.bespoke.base.include"));
	if (!s || !v) {
		r = bsp_error_set(err, BSP_ENOTFOUND,
				  "%s:%s was not made by `bespoke image base` "
				  "(no suite recorded)",
				  base->dir, base->tag);
		goto out;
	}
	snprintf(suite, suite_size, "%s", s);
	snprintf(variant, variant_size, "%s", v);
	snprintf(include, include_size, "%s", i ? i : "");
out:
	json_decref(man);
	json_decref(desc);
	img_buf_release(&b);
	return r;
}
