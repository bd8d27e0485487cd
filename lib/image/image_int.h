/*
 * Inside the image stage: the profile accessors the rule evaluator uses,
 * a growable byte buffer, the tar writer and reader, SHA-256 and the OCI
 * blob store helpers shared by build and validate.
 */
#ifndef BSP_IMAGE_INT_H
#define BSP_IMAGE_INT_H

#include <stdio.h>

#include <jansson.h>

#include "internal.h"
#include "bespoke/image.h"

/* ---- profile (img_profile.c) ---- */

struct bsp_image_profile {
	json_t *root;
	char *source;
	int64_t version; /* the stored document's, when set */
	json_t *plan;    /* the resource plan, or NULL */
};

/* Metric aliases: cpu, mem, disk, net → candidate metric names. Returns
 * the first metric object present, or NULL; *name gets its name. */
json_t *img_profile_metric(const struct bsp_image_profile *p,
			   const char *alias, int alias_is_name,
			   const char **name);
/* field: "pN" (max over the horizon of that quantile), "mean" (mean of
 * the point forecast), "peak" (max of the point forecast), "peak_hour"
 * (daily_peak.hour_utc). NaN when absent. */
double img_metric_value(json_t *metric, const char *field);
double img_profile_persona(const struct bsp_image_profile *p, const char *name);
/* which: "next", "coming_hour", "coming_day". */
double img_profile_app(const struct bsp_image_profile *p, const char *name,
		       const char *which);
const char *img_profile_workload(const struct bsp_image_profile *p);
double img_profile_p_interactive(const struct bsp_image_profile *p);
/* The largest need for a resource over the resource plan's steps
 * (cpu, memory, disk_mbps, iops, network); NaN without a plan. */
double img_profile_plan_need(const struct bsp_image_profile *p,
			     const char *resource);
/* "cpu_usage=2,mem_usage=2": model versions, malloc'd. */
char *img_profile_models(const struct bsp_image_profile *p);

/* ---- rules: the AST (img_rule.c parses, img_rule_eval.c evaluates) ---- */

enum op {
	R_NUM,
	R_STR,
	R_BOOL,
	R_METRIC,     /* str = alias or metric name, field = field */
	R_WORKLOAD,   /* class string */
	R_P_INTER,    /* workload.p_interactive */
	R_PERSONA,    /* str = persona */
	R_APP,        /* str = app, field = "next" | "coming_hour" | "coming_day" */
	R_NOT,
	R_NEG,
	R_AND,
	R_OR,
	R_EQ,
	R_NE,
	R_LT,
	R_LE,
	R_GT,
	R_GE,
	R_ADD,
	R_SUB,
	R_MUL,
	R_DIV,
	R_PLAN,       /* field = the resource of plan.FIELD */
	R_MAX, /* a, then b: the rest of the arguments */
	R_MIN,
};

struct rnode {
	enum op op;
	enum bsp_rule_type type;
	double num;
	char *str;
	char *field;
	int by_name; /* R_METRIC: metric["name"] rather than an alias */
	struct rnode *a, *b;
};

struct bsp_rule {
	char *text;
	struct rnode *root;
};

/* ---- byte buffer (img_tar.c) ---- */

struct img_buf {
	unsigned char *p;
	size_t len, cap;
};
int img_buf_add(struct img_buf *b, const void *data, size_t n);
int img_buf_printf(struct img_buf *b, const char *fmt, ...) BSP_PRINTF(2, 3);
void img_buf_release(struct img_buf *b);

/* ---- tar (img_tar.c) ---- */

struct img_tar_entry {
	const char *path; /* relative, no leading '/', dirs without trailing '/' */
	int is_dir;
	const char *link; /* a symbolic link when not NULL */
	unsigned mode;
	const void *data;
	size_t len;
};

/* Appends entries (already sorted by the caller) as ustar, with a pax
 * header for names ustar cannot hold; mtime `epoch`, uid/gid 0, owner
 * names "root"; then the two zero blocks. */
int img_tar_write(struct img_buf *out, const struct img_tar_entry *e,
		  size_t n, int64_t epoch);

/* One member read back: type flag, mode, name, content. */
struct img_tar_member {
	char *path; /* malloc'd, as stored (may start with "./") */
	char type;  /* '0' file, '5' dir, '2' symlink, '1' hard link, ... */
	unsigned mode;
	char *link;           /* link target or NULL */
	const unsigned char *data; /* points into the archive */
	size_t len;
};
/* Calls fn for every member; stops at the first non-zero return (which it
 * returns). -1 on a malformed archive (message in err). */
int img_tar_each(const unsigned char *tar, size_t len,
		 int (*fn)(const struct img_tar_member *m, void *ud), void *ud,
		 struct bsp_error *err);

/* gzip with a fixed header (no name, mtime 0, OS 255). */
int img_gzip(const unsigned char *in, size_t n, struct img_buf *out);
/* The same at another zlib level (1 fastest .. 9 smallest). */
int img_gzip_level(const unsigned char *in, size_t n, int level,
		   struct img_buf *out);
/* gunzip, bounded by `limit` output bytes. */
int img_gunzip(const unsigned char *in, size_t n, size_t limit,
	       struct img_buf *out, struct bsp_error *err);

/* ---- digests and blobs (img_oci.c) ---- */

/* "sha256:" + 64 hex digits into out[72]. */
void img_sha256(const void *data, size_t n, char out[72]);
/* Reads a whole file up to `limit` bytes; on failure `out` is released. */
int img_read_file(const char *path, size_t limit, struct img_buf *out,
		  struct bsp_error *err);
/* Writes a file atomically (temp + fsync + rename). */
int img_write_atomic(const char *path, const void *data, size_t n,
		     struct bsp_error *err);
/* DIR/blobs/sha256/HEX for a digest. */
int img_blob_path(const char *dir, const char *digest, char *buf, size_t size);
/* Stores a blob (if not there) and returns its digest. */
int img_blob_put(const char *dir, const void *data, size_t n, char digest[72],
		 struct bsp_error *err);
/* Reads a blob and checks its digest (and size when size >= 0); on
 * failure `out` is released. */
int img_blob_get(const char *dir, const char *digest, int64_t size,
		 size_t limit, struct img_buf *out, struct bsp_error *err);

/* The manifest descriptor tagged `tag` in DIR/index.json (a new ref). */
json_t *img_index_find(const char *dir, const char *tag, struct bsp_error *err);
/* Creates DIR with oci-layout and an empty index.json if absent. */
int img_layout_init(const char *dir, struct bsp_error *err);
/* Points `tag` at `desc` (replacing an older entry), atomically. */
int img_index_tag(const char *dir, const char *tag, json_t *desc,
		  struct bsp_error *err);

#define IMG_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMG_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMG_MT_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMG_MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define IMG_ANN_REF "org.opencontainers.image.ref.name"
#define IMG_ANN_BASE_LAYERS "io.bespoke.base.layers"

/* Limits on what is read back: JSON documents and a layer. */
#define IMG_JSON_MAX (16u << 20)
#define IMG_LAYER_MAX (4096ull << 20)

/* ---- security rules (img_validate.c), also used by the catalog ---- */

/* Is an absolute path one a component may write? (no "..", allowed
 * prefixes). Returns NULL when fine, or why not. */
const char *img_path_problem(const char *path);
/* Does the text look like a private key or a token? Returns what it
 * found, or NULL. */
const char *img_secret_find(const void *data, size_t len);
/* Validates the image whose manifest descriptor is `desc` in `dir`
 * (tagged or not). `deep`: also decompress the base's layers to check
 * their diff_ids (otherwise they are checked by presence and size). */
void img_validate_desc(const char *dir, json_t *desc, const char *user_data,
		       const char *cloud_init, int deep,
		       struct bsp_image_report *r);
/* Is a sysctl key known (/proc/sys or the documented list)? */
int img_sysctl_known(const char *key);

/* ---- the plan's outputs (img_files.c) ---- */

/* Turns the chosen components of a plan into its files, package list,
 * services and settings (everything after the modules have run). */
bsp_err img_plan_outputs(struct bsp_image_plan *plan,
			 const struct bsp_image_plan_options *opt,
			 const struct bsp_image_profile *p,
			 struct bsp_error *err);

/* The layer: the plan's files with their parent directories, sorted. */
int img_layer_tar(const struct bsp_image_plan *plan, int64_t epoch,
		  struct img_buf *tar, struct bsp_error *err);

#endif
