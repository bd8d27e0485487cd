/*
 * bespoke: personalized machine images.
 *
 * Three parts, each usable alone:
 *
 *   - the rule language: conditions over a Behaviour Profile such as
 *     `apps["psql"].p_day > 0.5 && persona["data-scientist"] > 0.4`,
 *     parsed once (errors with line and column) and evaluated against any
 *     number of profiles;
 *   - the component catalog (YAML, schema in docs/images.md; the default is
 *     data/components.yaml) and the plan: a table of modules run in order
 *     (resources, software, services, data, network), each recording what
 *     it chose and why; packages are chosen by an exact 0/1 knapsack that
 *     maximises Σ P(use) × launch seconds saved within a size budget;
 *   - the build: an OCI image layout = the base image's layers + one
 *     deterministic personalization layer, a cloud-init user-data document
 *     with the same content, and the validation that must pass before the
 *     new image is tagged.
 *
 * Ownership: every `**out` object belongs to the caller and is freed by the
 * matching *_free function. Strings inside catalogs, plans and reports are
 * read-only and live as long as their owner.
 */
#ifndef BESPOKE_IMAGE_H
#define BESPOKE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* ---- profiles as rules see them ------------------------------------------ */

/* A Behaviour Profile (docs/profile.md) read from its JSON text. `source`
 * names it in messages (a file name, "ENTITY profile v3"). */
struct bsp_image_profile;
BSP_EXTERN bsp_err bsp_image_profile_parse(const char *json, size_t len,
					   const char *source,
					   struct bsp_image_profile **out,
					   struct bsp_error *err);
BSP_EXTERN void bsp_image_profile_free(struct bsp_image_profile *p);
/* The profile's entity ("" if absent) and stored version (0 if absent). */
BSP_EXTERN const char *bsp_image_profile_entity(const struct bsp_image_profile *p);
BSP_EXTERN int64_t bsp_image_profile_version(const struct bsp_image_profile *p);
/* Sets the version for a profile read from the store (the document's
 * version, which the stored JSON itself does not carry). */
BSP_EXTERN void bsp_image_profile_set_version(struct bsp_image_profile *p,
					      int64_t version);

/* Attaches the entity's resource plan (`bespoke-plan` JSON, as `bespoke
 * plan` stores it) so that rules can read `plan.memory` and the like. */
BSP_EXTERN bsp_err bsp_image_profile_set_plan(struct bsp_image_profile *p,
					      const char *json, size_t len,
					      const char *source,
					      struct bsp_error *err);

/* ---- rules ---------------------------------------------------------------- */

enum bsp_rule_type {
	BSP_RULE_BOOL,
	BSP_RULE_NUM,
	BSP_RULE_STR,
};

struct bsp_rule;

/*
 * Parses one expression. `where` (may be NULL) names the file, and `line`,
 * `col` (1-based) where the text starts in it, so that an error reads
 * "FILE:LINE:COL: expected ..., found ...". Types are checked here: `&&`
 * on numbers or `<` on strings is a parse error, not a run-time surprise.
 */
BSP_EXTERN bsp_err bsp_rule_parse(const char *text, const char *where,
				  unsigned line, unsigned col,
				  struct bsp_rule **out, struct bsp_error *err);
BSP_EXTERN void bsp_rule_free(struct bsp_rule *r);
BSP_EXTERN enum bsp_rule_type bsp_rule_type(const struct bsp_rule *r);
/* The text it was parsed from. */
BSP_EXTERN const char *bsp_rule_text(const struct bsp_rule *r);

struct bsp_rule_value {
	enum bsp_rule_type type;
	int truth;       /* BSP_RULE_BOOL */
	double num;      /* BSP_RULE_NUM (NaN when undefined, e.g. x / 0) */
	const char *str; /* BSP_RULE_STR; lives as long as rule and profile */
};

/*
 * Evaluates `r` against `p` (NULL = an empty profile: every field takes its
 * default, see docs/images.md). `why` (may be NULL) receives the profile
 * values the rule read, e.g. `apps["psql"].p_day=0.9 persona["dev"]=0.1`.
 */
BSP_EXTERN void bsp_rule_eval(const struct bsp_rule *r,
			      const struct bsp_image_profile *p,
			      struct bsp_rule_value *out, char *why,
			      size_t why_size);

/* ---- the component catalog ------------------------------------------------ */

enum bsp_comp_kind {
	BSP_COMP_PACKAGE,
	BSP_COMP_SERVICE,
	BSP_COMP_SYSCTL,
	BSP_COMP_FILE,
	BSP_COMP_DATASET,
	BSP_COMP_NETWORK,
	BSP_COMP_LIMITS,
	BSP_COMP_KIND_COUNT
};

/* The modules of the modification pipeline, in the order they run. */
enum bsp_image_module {
	BSP_MOD_RESOURCES,
	BSP_MOD_SOFTWARE,
	BSP_MOD_SERVICES,
	BSP_MOD_DATA,
	BSP_MOD_NETWORK,
	BSP_MOD_COUNT
};

BSP_EXTERN const char *bsp_comp_kind_name(enum bsp_comp_kind k);
BSP_EXTERN const char *bsp_image_module_name(enum bsp_image_module m);

struct bsp_comp_file {
	char *path; /* absolute, normalised: no "..", no "//" */
	char *content;
	unsigned mode; /* permission bits, e.g. 0644 */
};

struct bsp_comp_setting {
	char *key;
	char *value;           /* literal value, or NULL when `expr` is set */
	struct bsp_rule *expr; /* numeric expression ("=mem.p95 / 2048") */
};

struct bsp_comp_service {
	char *unit;
	int enable; /* 1 enable, 0 disable */
};

struct bsp_comp_dataset {
	char *url;
	char *path; /* absolute destination */
	double size_mb;
	char *sha256; /* may be NULL */
};

struct bsp_component {
	char *name;
	char *description; /* may be NULL */
	enum bsp_comp_kind kind;
	enum bsp_image_module module;
	unsigned line; /* where it starts in the catalog */
	struct bsp_rule *condition; /* NULL = always */
	struct bsp_rule *use;       /* P(use), numeric; NULL = 1 */
	double size_mb;
	double launch_seconds_saved;

	char **packages;
	size_t n_packages;
	struct bsp_comp_service *services;
	size_t n_services;
	struct bsp_comp_setting *sysctls;
	size_t n_sysctls;
	struct bsp_comp_file *files;
	size_t n_files;
	struct bsp_comp_dataset *datasets;
	size_t n_datasets;
	char **firewall; /* nftables rule lines for the input chain */
	size_t n_firewall;
	char *proxy; /* http(s) proxy URL, may be NULL */
	struct bsp_comp_setting *limits; /* see docs/images.md */
	size_t n_limits;
	char **requires;
	size_t n_requires;
	char **conflicts;
	size_t n_conflicts;
};

struct bsp_component_catalog {
	char *path;
	unsigned version;
	struct bsp_component *items;
	size_t n;
};

/* Loads and checks a catalog; errors name FILE:LINE:COLUMN. */
BSP_EXTERN bsp_err bsp_component_catalog_load(const char *path,
					      struct bsp_component_catalog **out,
					      struct bsp_error *err);
/* The same from memory (`name` stands for the file in messages). */
BSP_EXTERN bsp_err bsp_component_catalog_parse(const char *text, size_t len,
					       const char *name,
					       struct bsp_component_catalog **out,
					       struct bsp_error *err);
BSP_EXTERN void bsp_component_catalog_free(struct bsp_component_catalog *c);

/* ---- the plan ------------------------------------------------------------- */

struct bsp_oci_ref;

/* One decision of a module: a component taken or left out, and why. */
struct bsp_plan_item {
	const struct bsp_component *comp;
	enum bsp_image_module module;
	int chosen;
	char *reason; /* "condition ... is true: cpu.p95=4100" / why not */
	double p_use; /* packages: P(use) */
	double value; /* packages: P(use) × launch seconds saved */
};

/* A file the personalization adds, sorted by path. */
struct bsp_plan_file {
	char *path; /* absolute */
	char *content;
	size_t len;
	unsigned mode;
	char *link;      /* a symbolic link to this target, or NULL */
	char *component; /* who asked for it */
	int in_base;     /* the base image has this path (bsp_image_plan_against) */
};

struct bsp_image_plan {
	struct bsp_plan_item *items; /* in module order, then catalog order */
	size_t n_items;
	struct bsp_plan_file *files; /* sorted by path, unique */
	size_t n_files;
	char **packages; /* sorted, unique: installed at first boot */
	size_t n_packages;
	char **enable, **disable; /* systemd units, sorted */
	size_t n_enable, n_disable;
	struct bsp_comp_setting *sysctls; /* evaluated: value set, sorted */
	size_t n_sysctls;
	struct bsp_comp_dataset *datasets; /* borrowed from the catalog */
	size_t n_datasets;
	double budget_mb, used_mb; /* packages */
	double value;              /* Σ P(use) × seconds over chosen packages */
	char *entity;
	int64_t profile_version;
	int packages_installed; /* at build, into the root filesystem */
	char *models; /* "cpu_usage=2,mem_usage=2" or "" */
};

struct bsp_image_plan_options {
	double budget_mb; /* package size budget; <= 0 = unlimited */
	/* Software asked for by name (the build request's list): installed
	 * at first boot whatever the rules chose, outside the budget. Debian
	 * package names; anything else is refused. */
	const char *const *packages;
	size_t n_packages;
	/* The packages are installed into the image's root filesystem at
	 * build (image build --install): no first-boot list. */
	int install;
};

/* Runs the modules over the catalog for one profile. The plan borrows
 * from `cat`: free the plan first. */
BSP_EXTERN bsp_err bsp_image_plan_make(const struct bsp_component_catalog *cat,
				       const struct bsp_image_profile *p,
				       const struct bsp_image_plan_options *opt,
				       struct bsp_image_plan **out,
				       struct bsp_error *err);
BSP_EXTERN void bsp_image_plan_free(struct bsp_image_plan *plan);
/* Compares the plan with a base image: marks the files the base already
 * has (in_base), reading the base's layers (whiteouts applied). */
BSP_EXTERN bsp_err bsp_image_plan_against(struct bsp_image_plan *plan,
					  const struct bsp_oci_ref *base,
					  struct bsp_error *err);

/* The plan as JSON (`bespoke-image-plan`, docs/images.md); malloc'd. */
BSP_EXTERN char *bsp_image_plan_json(const struct bsp_image_plan *plan);

/*
 * Exact 0/1 knapsack: chooses items maximising Σ value within `capacity`
 * (integer weights, e.g. whole MB). chosen[i] is set to 0/1; returns the
 * best total value, or NaN when out of memory. Exposed for tests.
 */
BSP_EXTERN double bsp_knapsack(const unsigned *weight, const double *value,
			       size_t n, unsigned capacity, int *chosen);

/* ---- OCI build and validation --------------------------------------------- */

/* "oci:DIR:TAG" (or "DIR:TAG") split into its parts; 0 or -1. */
struct bsp_oci_ref {
	char dir[4096];
	char tag[256];
};
BSP_EXTERN bsp_err bsp_oci_ref_parse(const char *s, struct bsp_oci_ref *out,
				     struct bsp_error *err);

struct bsp_image_build_options {
	struct bsp_oci_ref base;
	struct bsp_oci_ref out;
	const char *user_data; /* where to write the #cloud-config; NULL = none */
	int64_t epoch;         /* mtime of every entry; SOURCE_DATE_EPOCH or 0 */
	const char *cloud_init; /* validator program; NULL = "cloud-init",
				   "" = do not run it */
};

struct bsp_image_result {
	char manifest_digest[72]; /* "sha256:..." */
	char layer_digest[72];
	char base_digest[72];
	uint64_t layer_bytes;    /* compressed */
	uint64_t layer_tar_bytes;
	size_t n_files;
	size_t n_packages_first_boot; /* packages left to first boot */
};

/* One problem found by validation. */
struct bsp_image_issue {
	char *check; /* "setuid", "world-writable", "secret", "path", "sysctl",
			"digest", "size", "diff_id", "manifest", "config",
			"cloud-init" */
	char *file;  /* the path in the layer, the blob, or the document */
	char *detail;
};

struct bsp_image_report {
	struct bsp_image_issue *issues;
	size_t n;
	size_t checked_blobs, checked_files;
	int cloud_init_checked; /* the schema validator ran */
};
BSP_EXTERN void bsp_image_report_free(struct bsp_image_report *r);

/*
 * Builds the image: writes the personalization layer, the config and the
 * manifest as blobs under out.dir, validates the result (and the user-data
 * if any), and only then tags it in out.dir/index.json (atomically).
 * When validation finds problems the image is not tagged, `report` lists
 * them and the call returns BSP_EINVAL naming the first.
 */
BSP_EXTERN bsp_err bsp_image_build(const struct bsp_image_plan *plan,
				   const struct bsp_image_build_options *opt,
				   struct bsp_image_result *res,
				   struct bsp_image_report *report,
				   struct bsp_error *err);

/* Writes the #cloud-config document for a plan. */
BSP_EXTERN bsp_err bsp_image_user_data(const struct bsp_image_plan *plan,
				       const char *path,
				       struct bsp_error *err);

/*
 * Validates a tagged image: every blob's digest and size, the layers'
 * diff_ids, manifest and config, and the security rules on the layers
 * added after the base (annotation io.bespoke.base.layers; all layers
 * when absent). `user_data` (may be NULL) is checked with cloud-init.
 * Problems go to `report`; returns BSP_OK when the image could be read
 * (even with issues), an error when it could not be found or read.
 */
BSP_EXTERN bsp_err bsp_image_validate(const struct bsp_oci_ref *ref,
				      const char *user_data,
				      const char *cloud_init,
				      struct bsp_image_report *report,
				      struct bsp_error *err);

/* ---- the registry (an OCI layout; img_registry.c) ----------------------- */

struct bsp_registry_report {
	size_t images;             /* entries of index.json */
	size_t blobs;              /* blob files with a digest name */
	uint64_t bytes;            /* of the blobs tagged images reach */
	size_t unreferenced;       /* blobs no tagged image reaches */
	uint64_t unreferenced_bytes;
	size_t leftovers;          /* temporary files of killed writes */
	size_t removed;            /* gc: files deleted (or, dry run, to be) */
	uint64_t removed_bytes;
	char **problems;           /* fsck: one line each */
	size_t n_problems;
};
BSP_EXTERN void bsp_registry_report_release(struct bsp_registry_report *r);

/*
 * fsck: index.json reads, every tagged image validates as a build checks it
 * (digests, sizes, diff_ids, manifest and config), every reachable blob's
 * content matches its digest. Problems are listed in the report (BSP_OK
 * with n_problems > 0); leftovers of killed writes are counted, not
 * problems.
 */
BSP_EXTERN bsp_err bsp_registry_fsck(const char *dir,
				     struct bsp_registry_report *r,
				     struct bsp_error *err);
/* gc: deletes blobs no tagged image reaches, and leftovers, older than
 * `grace_seconds` (a build running meanwhile has not tagged yet). */
BSP_EXTERN bsp_err bsp_registry_gc(const char *dir, long grace_seconds,
				   int dry_run, struct bsp_registry_report *r,
				   struct bsp_error *err);

/* The files an image adds to its base (its layers after the base's,
 * by the io.bespoke.base.layers annotation; all layers without it),
 * sorted by path; for diffs between builds. */
struct bsp_image_file {
	char *path;
	char type;  /* '0' file, '5' directory, '2' symlink, ... */
	unsigned mode;
	size_t size;
	char digest[72]; /* sha256 of a file, "-> target" of a link */
};
BSP_EXTERN bsp_err bsp_image_files(const struct bsp_oci_ref *ref,
				   struct bsp_image_file **out, size_t *n,
				   struct bsp_error *err);
BSP_EXTERN void bsp_image_files_free(struct bsp_image_file *f, size_t n);
/* What changed from file list a to b (both as bsp_image_files gives
 * them): `out` holds na + nb entries; returns how many it filled, in path
 * order. Paths point into the lists; change is "added", "removed" or
 * "changed" (content, mode or type). */
struct bsp_image_change {
	const char *path;
	const char *change;
};
BSP_EXTERN size_t bsp_image_files_diff(const struct bsp_image_file *a,
				       size_t na,
				       const struct bsp_image_file *b,
				       size_t nb,
				       struct bsp_image_change *out);

/*
 * A base image from Debian's repository: mmdebstrap builds the root
 * filesystem (variant, suite, packages installed into it) and it becomes
 * the one layer of a new image tagged out.tag in out.dir, validated first.
 * BSP_ENOTFOUND when mmdebstrap is not installed.
 */
struct bsp_image_base_options {
	struct bsp_oci_ref out;
	const char *suite;   /* NULL = "bookworm" */
	const char *variant; /* NULL = "minbase" */
	const char *const *include; /* packages installed into it */
	size_t n_include;
	const char *mirror;     /* NULL = the machine's apt sources */
	int64_t epoch;          /* SOURCE_DATE_EPOCH for mmdebstrap; 0 = now */
	const char *mmdebstrap; /* NULL = "mmdebstrap" */
};
BSP_EXTERN bsp_err bsp_image_base_debian(const struct bsp_image_base_options *o,
					 struct bsp_image_result *res,
					 struct bsp_error *err);

/* How a base made by bsp_image_base_debian was made: suite, variant and
 * the comma list of packages included; BSP_ENOTFOUND for other bases. */
BSP_EXTERN bsp_err bsp_image_base_origin(const struct bsp_oci_ref *base,
					 char *suite, size_t suite_size,
					 char *variant, size_t variant_size,
					 char *include, size_t include_size,
					 struct bsp_error *err);

#endif
