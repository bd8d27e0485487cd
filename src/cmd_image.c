/*
 * bespoke image: personalized machine images from a Behaviour Profile.
 *
 *   image plan ENTITY | --profile F       what the modules would do, and why
 *   image build ENTITY | --profile F --base oci:DIR:TAG --out oci:DIR:TAG
 *   image validate oci:DIR:TAG            the checks a build runs before tagging
 *   image user-data ENTITY | --profile F  the #cloud-config twin of an image
 *   image catalog                         the component catalog, checked
 *
 * The subcommands are a table, like the commands: one row each.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/image.h"
#include "cli.h"

static const char usage_text[] =
	"usage: bespoke image plan (ENTITY | --profile FILE) [--base oci:DIR:TAG]\n"
	"       bespoke image build (ENTITY | --profile FILE) --base oci:DIR:TAG\n"
	"                           --out oci:DIR:TAG [options]\n"
	"       bespoke image validate oci:DIR:TAG [--user-data FILE]\n"
	"       bespoke image user-data (ENTITY | --profile FILE) [-o FILE]\n"
	"       bespoke image catalog [--catalog FILE]\n"
	"       bespoke image push oci:DIR:TAG URL (see image push --help)\n"
	"       bespoke image list | history ENTITY | diff ENTITY V1 V2 |\n"
	"                     rollback ENTITY |\n"
	"                     revoke ENTITY VERSION | gc | fsck (the registry;\n"
	"                     see image list --help)\n"
	"       bespoke image base --out oci:DIR:TAG (Debian, by mmdebstrap)\n\n"
	"Chooses components for the entity from its latest stored profile\n"
	"(bespoke predict) or a profile file, and builds an OCI image: the\n"
	"base's layers plus one deterministic personalization layer.\n"
	"Packages are installed at first boot (no package builder runs).\n\n"
	"  --profile FILE     a Behaviour Profile JSON instead of the store's\n"
	"  --catalog FILE     component catalog (data/components.yaml)\n"
	"  --resource-plan F  a resource plan (bespoke plan --json) for rules'\n"
	"                     plan.* terms (default: the entity's stored one)\n"
	"  --budget-mb N      image-size budget for packages (unlimited)\n"
	"  --base oci:DIR:TAG the base image (any OCI image layout); plan:\n"
	"                     marks the files the base already has\n"
	"  --out oci:DIR:TAG  where to write and tag the new image\n"
	"  --user-data FILE   the cloud-init document (build: TAG.user-data\n"
	"                     in the current folder; validate: checked too)\n"
	"  -o FILE            user-data: write here instead of stdout\n"
	"  --no-cloud-init    do not run `cloud-init schema` on the user-data\n"
	"  --install          build: install the chosen packages into the root\n"
	"                     filesystem (a base made by `image base` is\n"
	"                     rebuilt with them as TAG-base) instead of at\n"
	"                     first boot\n";

struct img_opts {
	const char *profile, *catalog, *base, *out, *user_data, *o;
	const char *resource_plan;
	long long budget;
	int no_cloud_init, install;
};

static int parse_opts(struct cli *cli, int argc, char **argv,
		      struct img_opts *o, int *first)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"profile", required_argument, NULL, 'p'},
		{"catalog", required_argument, NULL, 'c'},
		{"budget-mb", required_argument, NULL, 'b'},
		{"base", required_argument, NULL, 'B'},
		{"out", required_argument, NULL, 'O'},
		{"user-data", required_argument, NULL, 'u'},
		{"no-cloud-init", no_argument, NULL, 'N'},
		{"install", no_argument, NULL, 'I'},
		{"resource-plan", required_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return -1;
		case 'p':
			o->profile = optarg;
			break;
		case 'c':
			o->catalog = optarg;
			break;
		case 'b':
			if ((rc = cli_size("budget-mb", optarg, 1, 1LL << 22,
					   &o->budget)))
				return rc;
			break;
		case 'B':
			o->base = optarg;
			break;
		case 'O':
			o->out = optarg;
			break;
		case 'u':
			o->user_data = optarg;
			break;
		case 'o':
			o->o = optarg;
			break;
		case 'I':
			o->install = 1;
			break;
		case 'N':
			o->no_cloud_init = 1;
			break;
		case 'R':
			o->resource_plan = optarg;
			break;
		default:
			return EXIT_USER;
		}
	}
	*first = optind;
	return EXIT_OK;
}

/* A whole file, bounded (profiles and plans are JSON of a few MB). */
static int read_file(const char *path, char **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0, got;

	if (!f)
		return cli_fail(BSP_ENOTFOUND, "%s: cannot open", path);
	do {
		if (len + 65536 > cap) {
			char *nb = realloc(buf, cap += 65536 * 4);
			if (!nb || cap > (64u << 20)) {
				free(nb ? nb : buf);
				fclose(f);
				return cli_fail(BSP_ELIMIT, "%s: too large", path);
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	*out = buf;
	*out_len = len;
	return EXIT_OK;
}

/* The latest stored document of a kind for the entity; 1 when none. */
static int stored_doc(struct cli *cli, const char *kind, const char *entity,
		      struct bsp_doc *doc)
{
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	int rc = cli_open(cli, BSP_OPEN_READONLY, &st);
	if (rc)
		return -rc;
	bsp_err r = bsp_store_doc_get(st, kind, entity, 0, doc, &err);
	bsp_store_close(st);
	if (r == BSP_ENOTFOUND)
		return 1;
	return r ? -cli_fail_err(&err) : 0;
}

/* The resource plan: --resource-plan FILE, else the entity's latest
 * stored one when there is one (rules read plan.* as 0 without). */
static int load_resource_plan(struct cli *cli, const struct img_opts *o,
			      const char *entity, struct bsp_image_profile *p)
{
	struct bsp_error err = {0};
	struct bsp_doc doc = {0};
	char *buf = NULL, src[256];
	size_t len = 0;
	int rc;

	if (o->resource_plan) {
		if ((rc = read_file(o->resource_plan, &buf, &len)))
			return rc;
		rc = bsp_image_profile_set_plan(p, buf ? buf : "", len,
						o->resource_plan, &err)
			     ? cli_fail_err(&err)
			     : EXIT_OK;
		free(buf);
		return rc;
	}
	if (!entity)
		return EXIT_OK;
	rc = stored_doc(cli, "plan", entity, &doc);
	if (rc)
		return rc > 0 ? EXIT_OK : -rc;
	snprintf(src, sizeof(src), "%s plan v%lld", entity, (long long)doc.version);
	rc = bsp_image_profile_set_plan(p, doc.body, strlen(doc.body), src, &err)
		     ? cli_fail_err(&err)
		     : EXIT_OK;
	bsp_doc_release(&doc);
	return rc;
}

/* The profile: from --profile, or the entity's latest stored one. */
static int load_profile(struct cli *cli, const struct img_opts *o,
			const char *entity, struct bsp_image_profile **p)
{
	struct bsp_error err = {0};
	struct bsp_doc doc = {0};
	char *buf = NULL, src[256];
	size_t len = 0;
	bsp_err r;
	int rc;

	if (o->profile && entity)
		return cli_fail(BSP_EINVAL, "name an entity or give --profile "
					    "(not both)");
	if (o->profile) {
		if ((rc = read_file(o->profile, &buf, &len)))
			return rc;
		r = bsp_image_profile_parse(buf ? buf : "", len, o->profile, p,
					    &err);
		free(buf);
		if (r)
			return cli_fail_err(&err);
		return load_resource_plan(cli, o, NULL, *p);
	}
	if (!entity)
		return cli_fail(BSP_EINVAL, "name an entity or give --profile "
					    "FILE (see bespoke image --help)");
	rc = stored_doc(cli, "profile", entity, &doc);
	if (rc > 0)
		return cli_fail(BSP_ENOTFOUND,
				"%s: no stored profile (run bespoke predict "
				"%s first, or give --profile FILE)",
				entity, entity);
	if (rc)
		return -rc;
	snprintf(src, sizeof(src), "%s profile v%lld", entity,
		 (long long)doc.version);
	r = bsp_image_profile_parse(doc.body, strlen(doc.body), src, p, &err);
	if (!r)
		bsp_image_profile_set_version(*p, doc.version);
	bsp_doc_release(&doc);
	if (r)
		return cli_fail_err(&err);
	return load_resource_plan(cli, o, entity, *p);
}

static int load_catalog(const struct img_opts *o,
			struct bsp_component_catalog **cat)
{
	char path[PATH_MAX + 64];
	struct bsp_error err = {0};

	if (cli_data_file(o->catalog, "components.yaml", path, sizeof(path)))
		return cli_fail(BSP_ENOTFOUND,
				"components.yaml not found (give --catalog "
				"FILE or set BESPOKE_DATA)");
	if (bsp_component_catalog_load(path, cat, &err))
		return cli_fail_err(&err);
	return EXIT_OK;
}

/* Profile + catalog → plan, shared by plan, build and user-data. */
static int make_plan(struct cli *cli, const struct img_opts *o,
		     const char *entity, struct bsp_component_catalog **cat,
		     struct bsp_image_profile **p, struct bsp_image_plan **plan)
{
	struct bsp_image_plan_options po = {.budget_mb = (double)o->budget,
					    .install = o->install};
	struct bsp_error err = {0};
	int rc;

	if ((rc = load_profile(cli, o, entity, p)) ||
	    (rc = load_catalog(o, cat)))
		return rc;
	if (bsp_image_plan_make(*cat, *p, &po, plan, &err))
		return cli_fail_err(&err);
	return EXIT_OK;
}

static void print_plan(const struct bsp_image_plan *pl,
		       const struct bsp_component_catalog *cat)
{
	printf("image plan for %s (profile version %lld), catalog %s\n",
	       pl->entity[0] ? pl->entity : "(profile file)",
	       (long long)pl->profile_version, cat->path);
	if (pl->budget_mb > 0)
		printf("packages: %.0f of %.0f MB, ", pl->used_mb, pl->budget_mb);
	else
		printf("packages: %.0f MB (no budget), ", pl->used_mb);
	printf("expected launch time saved: %.1f s\n", pl->value);
	for (int m = 0; m < BSP_MOD_COUNT; m++) {
		printf("%s:\n", bsp_image_module_name((enum bsp_image_module)m));
		for (size_t i = 0; i < pl->n_items; i++) {
			const struct bsp_plan_item *it = &pl->items[i];
			if ((int)it->module == m)
				printf("  %c %-24s %s\n", it->chosen ? '+' : '-',
				       it->comp->name, it->reason);
		}
	}
	printf("difference from the base image:\n");
	for (size_t i = 0; i < pl->n_files; i++) {
		if (pl->files[i].link)
			printf("  + %s -> %s\n", pl->files[i].path,
			       pl->files[i].link);
		else
			printf("  %c %s (%04o, %zu bytes, %s%s)\n",
			       pl->files[i].in_base ? '~' : '+', pl->files[i].path,
			       pl->files[i].mode, pl->files[i].len,
			       pl->files[i].component,
			       pl->files[i].in_base ? "; replaces the base's" : "");
	}
	if (pl->n_packages) {
		printf("  packages at first boot:");
		for (size_t i = 0; i < pl->n_packages; i++)
			printf(" %s", pl->packages[i]);
		printf("\n");
	}
	for (size_t i = 0; i < pl->n_enable; i++)
		printf("  service enabled: %s\n", pl->enable[i]);
	for (size_t i = 0; i < pl->n_disable; i++)
		printf("  service disabled: %s\n", pl->disable[i]);
	for (size_t i = 0; i < pl->n_sysctls; i++)
		printf("  sysctl %s = %s\n", pl->sysctls[i].key,
		       pl->sysctls[i].value);
	for (size_t i = 0; i < pl->n_datasets; i++)
		printf("  data set at first boot: %s -> %s\n",
		       pl->datasets[i].url, pl->datasets[i].path);
}

static int sub_plan(struct cli *cli, int argc, char **argv)
{
	struct img_opts o = {0};
	struct bsp_component_catalog *cat = NULL;
	struct bsp_image_profile *p = NULL;
	struct bsp_image_plan *pl = NULL;
	int first, rc = parse_opts(cli, argc, argv, &o, &first);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (argc - first > 1)
		return cli_fail(BSP_EINVAL, "image plan: one entity at a time");
	rc = make_plan(cli, &o, first < argc ? argv[first] : NULL, &cat, &p, &pl);
	if (!rc && o.base) {
		struct bsp_oci_ref base;
		struct bsp_error err = {0};
		if (bsp_oci_ref_parse(o.base, &base, &err) ||
		    bsp_image_plan_against(pl, &base, &err))
			rc = cli_fail_err(&err);
	}
	if (!rc) {
		if (cli->json) {
			char *j = bsp_image_plan_json(pl);
			if (!j)
				rc = cli_fail(BSP_ENOMEM, "out of memory");
			else
				printf("%s\n", j);
			free(j);
		} else {
			print_plan(pl, cat);
		}
	}
	bsp_image_plan_free(pl);
	bsp_component_catalog_free(cat);
	bsp_image_profile_free(p);
	return rc;
}

/* Prints and frees a JSON object (sorted keys, one line). */
static void print_json(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	if (text)
		printf("%s\n", text);
	else
		cli_fail(BSP_ENOMEM, "out of memory");
	free(text);
	json_decref(j);
}

static void print_issues(const struct bsp_image_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		fprintf(stderr, "bespoke: %s: %s: %s\n", r->issues[i].file,
			r->issues[i].check, r->issues[i].detail);
}

/* Records a build in the store, where history and rollback will read. */
static int record_build(struct cli *cli, const char *entity,
			const struct img_opts *o,
			const struct bsp_image_result *res,
			const struct bsp_image_plan *pl, const char *user_data,
			int64_t *version)
{
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	char *body = NULL;
	int rc = cli_open(cli, 0, &st);

	if (rc)
		return rc;
	json_t *doc = json_pack(
		"{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s}",
		"format", "bespoke-image-build", "version", 1, "ref", o->out,
		"digest", res->manifest_digest, "base", o->base, "base_digest",
		res->base_digest, "layer", res->layer_digest, "profile_version",
		(json_int_t)pl->profile_version, "models", pl->models,
		"packages_first_boot", (json_int_t)res->n_packages_first_boot,
		"user_data", user_data ? user_data : "", "validation", "passed");
	body = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!body) {
		bsp_store_close(st);
		return cli_fail(BSP_ENOMEM, "out of memory");
	}
	if (bsp_store_doc_put(st, "image", entity, body, version, &err))
		rc = cli_fail_err(&err);
	free(body);
	bsp_store_close(st);
	return rc;
}

static int sub_build(struct cli *cli, int argc, char **argv)
{
	struct img_opts o = {0};
	struct bsp_component_catalog *cat = NULL;
	struct bsp_image_profile *p = NULL;
	struct bsp_image_plan *pl = NULL;
	struct bsp_image_build_options bo = {0};
	struct bsp_image_result res;
	struct bsp_image_report rep = {0};
	struct bsp_error err = {0};
	char ud[PATH_MAX];
	int first, rc = parse_opts(cli, argc, argv, &o, &first);
	const char *entity;

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (!o.base || !o.out)
		return cli_fail(BSP_EINVAL, "image build: --base oci:DIR:TAG and "
					    "--out oci:DIR:TAG are required");
	if (bsp_oci_ref_parse(o.base, &bo.base, &err) ||
	    bsp_oci_ref_parse(o.out, &bo.out, &err))
		return cli_fail_err(&err);
	if (argc - first > 1)
		return cli_fail(BSP_EINVAL, "image build: one entity at a time");
	entity = first < argc ? argv[first] : NULL;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		long long v = strtoll(sde, &end, 10);
		if (*end || v < 0 || v > 253402300799LL)
			return cli_fail(BSP_EINVAL,
					"SOURCE_DATE_EPOCH: '%s' is not epoch "
					"seconds",
					sde);
		bo.epoch = v;
	}
	snprintf(ud, sizeof(ud), "%s.user-data", bo.out.tag);
	bo.user_data = o.user_data ? o.user_data : ud;
	bo.cloud_init = o.no_cloud_init ? "" : NULL;
	rc = make_plan(cli, &o, entity, &cat, &p, &pl);
	if (rc)
		goto out;
	struct bsp_oci_ref newbase;
	if (o.install) {
		/* The packages go into the root filesystem: the base is made
		 * again by mmdebstrap, as it was, with them included. */
		char suite[64], variant[64], incl[8192];
		const char *inc[512];
		size_t ni = 0;
		struct bsp_image_base_options bopt = {0};
		struct bsp_image_result bres;
		if (bsp_image_base_origin(&bo.base, suite, sizeof(suite), variant,
					  sizeof(variant), incl, sizeof(incl),
					  &err)) {
			rc = cli_fail(err.code, "--install: %s", err.msg);
			goto out;
		}
		for (char *q = incl; *q && ni < 256;) {
			char *comma = strchr(q, ',');
			if (comma)
				*comma = '\0';
			inc[ni++] = q;
			if (!comma)
				break;
			q = comma + 1;
		}
		for (size_t i = 0; i < pl->n_packages && ni < 512; i++)
			inc[ni++] = pl->packages[i];
		newbase = bo.out;
		snprintf(newbase.tag, sizeof(newbase.tag), "%.240s-base",
			 bo.out.tag);
		bopt.out = newbase;
		bopt.suite = suite;
		bopt.variant = variant;
		bopt.include = inc;
		bopt.n_include = ni;
		bopt.epoch = bo.epoch;
		if (bsp_image_base_debian(&bopt, &bres, &err)) {
			rc = cli_fail(err.code, "--install: %s", err.msg);
			goto out;
		}
		fprintf(stderr, "installed %zu packages into a new base %s:%s "
				"(%s)\n",
			pl->n_packages, newbase.dir, newbase.tag,
			bres.manifest_digest);
		bo.base = newbase;
	}
	if (bsp_image_build(pl, &bo, &res, &rep, &err)) {
		print_issues(&rep);
		rc = cli_fail_err(&err);
		goto out;
	}
	int64_t version = 0;
	if (entity && (rc = record_build(cli, entity, &o, &res, pl,
					 bo.user_data, &version)))
		goto out;
	if (cli->json) {
		print_json(json_pack(
			"{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:I}",
			"ref", o.out, "digest", res.manifest_digest, "base_digest",
			res.base_digest, "layer_digest", res.layer_digest,
			"layer_bytes", (json_int_t)res.layer_bytes, "files",
			(json_int_t)res.n_files, "packages_first_boot",
			(json_int_t)res.n_packages_first_boot, "user_data",
			bo.user_data, "cloud_init_checked", rep.cloud_init_checked,
			"build_version", (json_int_t)version));
	} else {
		printf("built %s %s\n", o.out, res.manifest_digest);
		printf("  base %s + layer %s (%zu files, %llu bytes gzip)\n",
		       res.base_digest, res.layer_digest, res.n_files,
		       (unsigned long long)res.layer_bytes);
		if (o.install && pl->n_packages)
			printf("  packages: %zu installed into the root "
			       "filesystem (base %s:%s)\n",
			       pl->n_packages, bo.base.dir, bo.base.tag);
		if (res.n_packages_first_boot)
			printf("  packages: %zu installed at first boot (no "
			       "package builder ran; /etc/bespoke/packages.list)\n",
			       res.n_packages_first_boot);
		printf("  user-data: %s (%s)\n", bo.user_data,
		       rep.cloud_init_checked ? "cloud-init schema: valid"
					      : "cloud-init schema not run");
		printf("  validation: passed (%zu blobs, %zu layer entries)\n",
		       rep.checked_blobs, rep.checked_files);
	}
out:
	bsp_image_report_free(&rep);
	bsp_image_plan_free(pl);
	bsp_component_catalog_free(cat);
	bsp_image_profile_free(p);
	return rc;
}

static int sub_validate(struct cli *cli, int argc, char **argv)
{
	struct img_opts o = {0};
	struct bsp_oci_ref ref;
	struct bsp_image_report rep = {0};
	struct bsp_error err = {0};
	int first, rc = parse_opts(cli, argc, argv, &o, &first);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (argc - first != 1)
		return cli_fail(BSP_EINVAL, "image validate: name one image "
					    "(oci:DIR:TAG)");
	if (bsp_oci_ref_parse(argv[first], &ref, &err))
		return cli_fail_err(&err);
	if (bsp_image_validate(&ref, o.user_data, o.no_cloud_init ? "" : NULL,
			       &rep, &err))
		return cli_fail_err(&err);
	if (cli->json) {
		json_t *issues = json_array();
		for (size_t i = 0; i < rep.n; i++)
			json_array_append_new(
				issues, json_pack("{s:s, s:s, s:s}", "check",
						  rep.issues[i].check, "file",
						  rep.issues[i].file, "detail",
						  rep.issues[i].detail));
		print_json(json_pack("{s:s, s:b, s:I, s:I, s:b, s:o}", "ref",
				     argv[first], "valid", !rep.n, "blobs",
				     (json_int_t)rep.checked_blobs, "entries",
				     (json_int_t)rep.checked_files,
				     "cloud_init_checked", rep.cloud_init_checked,
				     "issues", issues));
	} else if (!rep.n) {
		printf("%s: valid (%zu blobs, %zu layer entries checked%s)\n",
		       argv[first], rep.checked_blobs, rep.checked_files,
		       rep.cloud_init_checked ? ", user-data passes cloud-init "
						"schema"
					      : "");
	}
	if (rep.n) {
		print_issues(&rep);
		rc = cli_fail(BSP_EINVAL, "%s: %zu problem%s found", argv[first],
			      rep.n, rep.n == 1 ? "" : "s");
	}
	bsp_image_report_free(&rep);
	return rc;
}

static int sub_user_data(struct cli *cli, int argc, char **argv)
{
	struct img_opts o = {0};
	struct bsp_component_catalog *cat = NULL;
	struct bsp_image_profile *p = NULL;
	struct bsp_image_plan *pl = NULL;
	struct bsp_error err = {0};
	int first, rc = parse_opts(cli, argc, argv, &o, &first);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = make_plan(cli, &o, first < argc ? argv[first] : NULL, &cat, &p, &pl);
	if (!rc && bsp_image_user_data(pl, o.o ? o.o : "/dev/stdout", &err))
		rc = cli_fail_err(&err);
	bsp_image_plan_free(pl);
	bsp_component_catalog_free(cat);
	bsp_image_profile_free(p);
	return rc;
}

static int sub_catalog(struct cli *cli, int argc, char **argv)
{
	struct img_opts o = {0};
	struct bsp_component_catalog *cat = NULL;
	int first, rc = parse_opts(cli, argc, argv, &o, &first);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = load_catalog(&o, &cat)))
		return rc;
	printf("%s: %zu components\n", cat->path, cat->n);
	for (size_t i = 0; i < cat->n; i++) {
		const struct bsp_component *c = &cat->items[i];
		printf("  %-24s %-8s %-9s %s\n", c->name,
		       bsp_comp_kind_name(c->kind),
		       bsp_image_module_name(c->module),
		       c->condition ? bsp_rule_text(c->condition) : "(always)");
	}
	bsp_component_catalog_free(cat);
	return EXIT_OK;
}

int cmd_image_push(struct cli *cli, int argc, char **argv);
int cmd_image_list(struct cli *cli, int argc, char **argv);
int cmd_image_history(struct cli *cli, int argc, char **argv);
int cmd_image_rollback(struct cli *cli, int argc, char **argv);
int cmd_image_revoke(struct cli *cli, int argc, char **argv);
int cmd_image_gc(struct cli *cli, int argc, char **argv);
int cmd_image_fsck(struct cli *cli, int argc, char **argv);
int cmd_image_diff(struct cli *cli, int argc, char **argv);
int cmd_image_base(struct cli *cli, int argc, char **argv);

/* The subcommands; to add one, a function and a row. */
static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} subs[] = {
	{"plan", sub_plan},	    {"build", sub_build},
	{"validate", sub_validate}, {"user-data", sub_user_data},
	{"catalog", sub_catalog},   {"push", cmd_image_push},
	{"list", cmd_image_list},	    {"history", cmd_image_history},
	{"rollback", cmd_image_rollback}, {"revoke", cmd_image_revoke},
	{"gc", cmd_image_gc},		    {"fsck", cmd_image_fsck},
	{"diff", cmd_image_diff},	    {"base", cmd_image_base},
};

int cmd_image(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_usage(argc < 2 ? stderr : stdout, usage_text);
		return argc < 2 ? EXIT_USER : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(subs[i].name, argv[1]))
			return subs[i].run(cli, argc - 1, argv + 1);
	return cli_fail(BSP_EINVAL,
			"image: '%s' is not a subcommand (plan, build, validate, "
			"user-data, catalog, push, list, history, diff, rollback, revoke, "
			"gc, fsck, base)",
			argv[1]);
}
