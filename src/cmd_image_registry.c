/*
 * bespoke image list | history | rollback | revoke | gc | fsck: the image
 * registry, an OCI layout (--images, default STORE-images) with its
 * metadata in the store: each build is the entity's next "image" document
 * (its history), a rollback is a new version that repeats an older one,
 * and a revoked image is a "revoked" document named by its digest that
 * rollback and deploy refuse.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bespoke/image.h"
#include "cli.h"

static const char usage_text[] =
	"usage: bespoke image list [--images DIR]\n"
	"       bespoke image history ENTITY\n"
	"       bespoke image diff ENTITY V1 V2\n"
	"       bespoke image rollback ENTITY [--to VERSION] --reason TEXT\n"
	"       bespoke image revoke ENTITY VERSION --reason TEXT\n"
	"       bespoke image gc [--images DIR] [--grace DUR] [--dry-run]\n"
	"       bespoke image fsck [--images DIR]\n\n"
	"The registry: the images in the layout (--images, default\n"
	"STORE-images) with their history in the store (docs/images.md).\n";

struct reg_opts {
	const char *images, *reason;
	long long to;
	bsp_time grace;
	int dry_run;
	char images_buf[PATH_MAX];
};

/* Parses the registry subcommands' options; argv[optind..] are left. */
static int reg_parse(struct cli *cli, int argc, char **argv,
		     struct reg_opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"images", required_argument, NULL, 'i'},
		{"reason", required_argument, NULL, 'r'},
		{"to", required_argument, NULL, 't'},
		{"grace", required_argument, NULL, 'g'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	o->grace = 10 * BSP_MINUTE;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return -1;
		case 'i':
			o->images = optarg;
			break;
		case 'r':
			o->reason = optarg;
			break;
		case 't':
			if ((rc = cli_size("to", optarg, 1, INT64_MAX, &o->to)))
				return rc;
			break;
		case 'g':
			if (!strcmp(optarg, "0"))
				o->grace = 0;
			else if ((rc = cli_duration("grace", optarg, &o->grace)))
				return rc;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (!o->images) {
		const char *env = getenv("BESPOKE_IMAGES");
		if (env && *env)
			o->images = env;
		else {
			snprintf(o->images_buf, sizeof(o->images_buf),
				 "%s-images", cli->db);
			o->images = o->images_buf;
		}
	}
	return EXIT_OK;
}

static json_t *doc_json(struct bsp_store *st, const char *kind,
			const char *name, int64_t version, int64_t *v_out)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	json_t *j;

	if (bsp_store_doc_get(st, kind, name, version, &d, &err) != BSP_OK)
		return NULL;
	j = json_loads(d.body, 0, NULL);
	if (v_out)
		*v_out = d.version;
	bsp_doc_release(&d);
	return j;
}

static int revoked(struct bsp_store *st, const char *digest)
{
	json_t *j = digest ? doc_json(st, "revoked", digest, 0, NULL) : NULL;
	int r = j != NULL;
	json_decref(j);
	return r;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

int cmd_image_list(struct cli *cli, int argc, char **argv)
{
	struct reg_opts o = {0};
	struct bsp_store *st = NULL;
	struct bsp_doc *docs = NULL;
	struct bsp_error err = {0};
	char path[PATH_MAX + 32];
	size_t n = 0, i;
	json_t *idx, *m, *out = NULL;
	int rc = reg_parse(cli, argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	snprintf(path, sizeof(path), "%s/index.json", o.images);
	json_error_t je;
	if (!(idx = json_load_file(path, 0, &je)))
		return cli_fail(BSP_EINVAL, "%s: %s", path, je.text);
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		goto out;
	/* Which entity each digest was built for, from the history. */
	if (bsp_store_doc_list(st, "image", NULL, &docs, &n, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	json_t *owner = json_object();
	for (i = n; i-- > 0;) {
		json_t *b = doc_json(st, "image", docs[i].entity,
				     docs[i].version, NULL);
		const char *dg = json_string_value(json_object_get(b, "digest"));
		if (dg)
			json_object_set_new(
				owner, dg,
				json_pack("{s:s,s:I}", "entity", docs[i].entity,
					  "version", (json_int_t)docs[i].version));
		json_decref(b);
	}
	out = json_array();
	if (!cli->json)
		printf("%-40s %-19s %-24s %8s %s\n", "TAG", "DIGEST", "ENTITY",
		       "VERSION", "STATE");
	json_array_foreach(json_object_get(idx, "manifests"), i, m)
	{
		const char *tag = json_string_value(json_object_get(
			json_object_get(m, "annotations"),
			"org.opencontainers.image.ref.name"));
		const char *dg = str(m, "digest");
		json_t *who = json_object_get(owner, dg);
		int rv = revoked(st, dg);
		json_array_append_new(
			out, json_pack("{s:s,s:s,s:O,s:s}", "tag", tag ? tag : "",
				       "digest", dg, "built_for",
				       who ? who : json_null(), "state",
				       rv ? "revoked" : "ok"));
		if (!cli->json)
			printf("%-40s %-19.19s %-24s %8lld %s\n",
			       tag ? tag : "(untagged)", dg,
			       who ? str(who, "entity") : "-",
			       (long long)json_integer_value(
				       json_object_get(who, "version")),
			       rv ? "revoked" : "ok");
	}
	json_decref(owner);
	if (cli->json) {
		char *t = json_dumps(out, JSON_COMPACT);
		puts(t ? t : "[]");
		free(t);
	}
out:
	json_decref(out);
	json_decref(idx);
	bsp_docs_free(docs, n);
	bsp_store_close(st);
	return rc;
}

int cmd_image_history(struct cli *cli, int argc, char **argv)
{
	struct reg_opts o = {0};
	struct bsp_store *st = NULL;
	struct bsp_doc *docs = NULL;
	struct bsp_error err = {0};
	size_t n = 0;
	json_t *out = NULL, *deployed = NULL;
	int rc = reg_parse(cli, argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "image history: name one entity");
	const char *entity = argv[optind];
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (bsp_store_doc_list(st, "image", entity, &docs, &n, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (!n) {
		rc = cli_fail(BSP_ENOTFOUND, "%s: no images built", entity);
		goto out;
	}
	/* Where each digest was deployed (bespoke deploy). */
	struct bsp_doc *deps = NULL;
	size_t nd = 0;
	deployed = json_object();
	if (bsp_store_doc_list(st, "deployment", entity, &deps, &nd, &err) ==
	    BSP_OK)
		for (size_t i = nd; i-- > 0;) {
			json_t *dj = doc_json(st, "deployment", entity,
					      deps[i].version, NULL);
			const char *dg = str(dj, "digest");
			json_t *l = json_object_get(deployed, dg);
			if (!l) {
				l = json_array();
				json_object_set_new(deployed, dg, l);
			}
			json_array_append_new(l, json_string(str(dj, "target")));
			json_decref(dj);
		}
	bsp_docs_free(deps, nd);
	out = json_array();
	if (!cli->json)
		printf("%-8s %-24s %-19s %-8s %-9s %-12s %s\n", "VERSION",
		       "BUILT", "DIGEST", "PROFILE", "STATE", "DEPLOYED",
		       "REF");
	for (size_t i = 0; i < n; i++) {
		char t[40];
		json_t *b = doc_json(st, "image", entity, docs[i].version, NULL);
		const char *dg = str(b, "digest");
		int rv = revoked(st, dg);
		json_t *rb = json_object_get(b, "rollback_to");
		char state[32];
		if (rv)
			snprintf(state, sizeof(state), "revoked");
		else if (rb)
			snprintf(state, sizeof(state), "rolled back to v%lld",
				 (long long)json_integer_value(rb));
		else
			snprintf(state, sizeof(state), "%s",
				 i == 0 ? "current" : "-");
		json_t *dl = json_object_get(deployed, dg);
		if (cli->json) {
			json_object_set_new(b, "image_version",
					    json_integer(docs[i].version));
			json_object_set_new(b, "revoked", json_boolean(rv));
			json_object_set_new(b, "deployed",
					    dl ? json_incref(dl) : json_array());
			json_array_append(out, b);
		} else {
			char dep[64] = "-";
			size_t k, len = 0;
			json_t *it;
			json_array_foreach(dl, k, it) if (len < sizeof(dep))
				len += (size_t)snprintf(
				dep + len, sizeof(dep) - len, "%s%s",
				k ? "," : "", json_string_value(it));
			printf("%-8lld %-24s %-19.19s %-8lld %-9s %-12s %s\n",
			       (long long)docs[i].version,
			       bsp_time_format(docs[i].created, t, sizeof(t)),
			       dg,
			       (long long)json_integer_value(
				       json_object_get(b, "profile_version")),
			       state, dep, str(b, "ref"));
		}
		json_decref(b);
	}
	if (cli->json) {
		char *t = json_dumps(out, JSON_COMPACT);
		puts(t ? t : "[]");
		free(t);
	}
out:
	json_decref(deployed);
	json_decref(out);
	bsp_docs_free(docs, n);
	bsp_store_close(st);
	return rc;
}

int cmd_image_rollback(struct cli *cli, int argc, char **argv)
{
	struct reg_opts o = {0};
	struct bsp_store *st = NULL;
	struct bsp_doc *docs = NULL;
	struct bsp_error err = {0};
	struct bsp_oci_ref ref;
	struct bsp_image_report rep = {0};
	size_t n = 0;
	json_t *target = NULL;
	char *body = NULL;
	int64_t v = 0;
	int rc = reg_parse(cli, argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "image rollback: name one entity");
	if (!o.reason || !*o.reason)
		return cli_fail(BSP_EINVAL, "image rollback: --reason is "
					    "required");
	const char *entity = argv[optind];
	if ((rc = cli_open(cli, 0, &st)))
		return rc;
	if (bsp_store_doc_list(st, "image", entity, &docs, &n, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	/* The target: --to, or the newest older image that is not the
	 * current one's digest and not revoked. */
	json_t *cur = n ? doc_json(st, "image", entity, docs[0].version, NULL)
			: NULL;
	for (size_t i = o.to ? 0 : 1; i < n && !target; i++) {
		if (o.to && docs[i].version != o.to)
			continue;
		json_t *b = doc_json(st, "image", entity, docs[i].version, NULL);
		const char *dg = str(b, "digest");
		if (!o.to && (!strcmp(dg, str(cur, "digest")) || revoked(st, dg))) {
			json_decref(b);
			continue;
		}
		target = b;
		v = docs[i].version;
	}
	json_decref(cur);
	if (!target) {
		rc = cli_fail(BSP_ENOTFOUND, "%s: %s", entity,
			      o.to ? "no image of that version"
				   : "no earlier image to roll back to");
		goto out;
	}
	if (revoked(st, str(target, "digest"))) {
		rc = cli_fail(BSP_EINVAL, "%s: image v%lld (%s) is revoked",
			      entity, (long long)v, str(target, "digest"));
		goto out;
	}
	/* The image must still be there and sound. */
	if (bsp_oci_ref_parse(str(target, "ref"), &ref, &err) != BSP_OK ||
	    bsp_image_validate(&ref, NULL, "", &rep, &err) != BSP_OK) {
		rc = cli_fail(err.code ? err.code : BSP_ECORRUPT,
			      "%s: image v%lld cannot be rolled back to: %s",
			      entity, (long long)v, err.msg);
		goto out;
	}
	json_object_set_new(target, "rollback_to", json_integer(v));
	json_object_set_new(target, "reason", json_string(o.reason));
	body = json_dumps(target, JSON_SORT_KEYS | JSON_COMPACT);
	int64_t nv = 0;
	if (!body || bsp_store_doc_put(st, "image", entity, body, &nv, &err)) {
		rc = body ? cli_fail_err(&err) : cli_fail(BSP_ENOMEM, "oom");
		goto out;
	}
	printf("%s: image v%lld is now v%lld, current (%s)\n", entity,
	       (long long)v, (long long)nv, str(target, "digest"));
out:
	free(body);
	bsp_image_report_free(&rep);
	json_decref(target);
	bsp_docs_free(docs, n);
	bsp_store_close(st);
	return rc;
}

int cmd_image_revoke(struct cli *cli, int argc, char **argv)
{
	struct reg_opts o = {0};
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	char *end, *body = NULL;
	json_t *b = NULL, *rec = NULL;
	int rc = reg_parse(cli, argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (optind + 2 != argc)
		return cli_fail(BSP_EINVAL, "image revoke: ENTITY VERSION");
	long long version = strtoll(argv[optind + 1], &end, 10);
	if (*end || version < 1)
		return cli_fail(BSP_EINVAL, "image revoke: '%s' is not a "
					    "version",
				argv[optind + 1]);
	if (!o.reason || !*o.reason)
		return cli_fail(BSP_EINVAL, "image revoke: --reason is required");
	if ((rc = cli_open(cli, 0, &st)))
		return rc;
	if (!(b = doc_json(st, "image", argv[optind], version, NULL))) {
		rc = cli_fail(BSP_ENOTFOUND, "%s: no image v%lld", argv[optind],
			      version);
		goto out;
	}
	const char *dg = str(b, "digest");
	char t[40];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	rec = json_pack("{s:s,s:i,s:s,s:s,s:I,s:s,s:s}", "format",
			"bespoke-revoked", "version", 1, "digest", dg, "entity",
			argv[optind], "image_version", (json_int_t)version,
			"reason", o.reason, "at",
			bsp_time_format((bsp_time)ts.tv_sec * 1000, t,
					sizeof(t)));
	body = rec ? json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	if (!body || bsp_store_doc_put(st, "revoked", dg, body, NULL, &err)) {
		rc = body ? cli_fail_err(&err) : cli_fail(BSP_ENOMEM, "oom");
		goto out;
	}
	printf("revoked %s (%s v%lld)\n", dg, argv[optind], version);
	json_t *cur = doc_json(st, "image", argv[optind], 0, NULL);
	if (cur && !strcmp(str(cur, "digest"), dg))
		printf("the current image of %s is revoked: roll back "
		       "(bespoke image rollback %s --reason ...)\n",
		       argv[optind], argv[optind]);
	json_decref(cur);
out:
	free(body);
	json_decref(rec);
	json_decref(b);
	bsp_store_close(st);
	return rc;
}

static int print_report(struct cli *cli, const struct bsp_registry_report *r,
			const char *what, int gc)
{
	if (cli->json) {
		json_t *p = json_array();
		for (size_t i = 0; i < r->n_problems; i++)
			json_array_append_new(p, json_string(r->problems[i]));
		json_t *j = json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "images",
			(json_int_t)r->images, "blobs", (json_int_t)r->blobs,
			"bytes", (json_int_t)r->bytes, "unreferenced",
			(json_int_t)r->unreferenced, "unreferenced_bytes",
			(json_int_t)r->unreferenced_bytes, "leftovers",
			(json_int_t)r->leftovers, "removed",
			(json_int_t)r->removed, "removed_bytes",
			(json_int_t)r->removed_bytes, "problems", p);
		char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
		puts(t ? t : "{}");
		free(t);
		json_decref(j);
	} else {
		printf("%s: %zu images, %zu blobs (%llu bytes reached), %zu "
		       "unreferenced (%llu bytes), %zu leftovers%s",
		       what, r->images, r->blobs,
		       (unsigned long long)r->bytes, r->unreferenced,
		       (unsigned long long)r->unreferenced_bytes, r->leftovers,
		       gc ? "" : "\n");
		if (gc)
			printf("; removed %zu (%llu bytes)\n", r->removed,
			       (unsigned long long)r->removed_bytes);
		for (size_t i = 0; i < r->n_problems; i++)
			printf("problem: %s\n", r->problems[i]);
	}
	return r->n_problems ? EXIT_USER : EXIT_OK;
}

int cmd_image_gc(struct cli *cli, int argc, char **argv)
{
	struct reg_opts o = {0};
	struct bsp_registry_report r;
	struct bsp_error err = {0};
	int rc = reg_parse(cli, argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (bsp_registry_gc(o.images, (long)(o.grace / BSP_SECOND), o.dry_run,
			    &r, &err) != BSP_OK)
		return cli_fail_err(&err);
	rc = print_report(cli, &r, o.images, 1);
	bsp_registry_report_release(&r);
	return rc;
}

int cmd_image_fsck(struct cli *cli, int argc, char **argv)
{
	struct reg_opts o = {0};
	struct bsp_registry_report r;
	struct bsp_error err = {0};
	int rc = reg_parse(cli, argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (bsp_registry_fsck(o.images, &r, &err) != BSP_OK)
		return cli_fail_err(&err);
	rc = print_report(cli, &r, o.images, 0);
	bsp_registry_report_release(&r);
	return rc;
}

/* What changed between two builds of an entity: the files their
 * personalization adds, by content. */
int cmd_image_diff(struct cli *cli, int argc, char **argv)
{
	struct reg_opts o = {0};
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	struct bsp_image_file *fa = NULL, *fb = NULL;
	size_t na = 0, nb = 0, changes = 0;
	json_t *a = NULL, *b = NULL, *out = json_array();
	int rc = reg_parse(cli, argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (optind + 3 != argc)
		return cli_fail(BSP_EINVAL, "image diff: ENTITY V1 V2");
	long long v[2];
	for (int k = 0; k < 2; k++) {
		char *end;
		v[k] = strtoll(argv[optind + 1 + k], &end, 10);
		if (*end || v[k] < 1)
			return cli_fail(BSP_EINVAL, "image diff: '%s' is not a "
						    "version",
					argv[optind + 1 + k]);
	}
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	a = doc_json(st, "image", argv[optind], v[0], NULL);
	b = doc_json(st, "image", argv[optind], v[1], NULL);
	if (!a || !b) {
		rc = cli_fail(BSP_ENOTFOUND, "%s: no image v%lld", argv[optind],
			      !a ? v[0] : v[1]);
		goto out;
	}
	struct bsp_oci_ref ra, rb;
	if (bsp_oci_ref_parse(str(a, "ref"), &ra, &err) ||
	    bsp_oci_ref_parse(str(b, "ref"), &rb, &err) ||
	    bsp_image_files(&ra, &fa, &na, &err) ||
	    bsp_image_files(&rb, &fb, &nb, &err)) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (!cli->json)
		printf("%s: v%lld (%.19s, profile v%lld) -> v%lld (%.19s, "
		       "profile v%lld)\n",
		       argv[optind], v[0], str(a, "digest"),
		       (long long)json_integer_value(
			       json_object_get(a, "profile_version")),
		       v[1], str(b, "digest"),
		       (long long)json_integer_value(
			       json_object_get(b, "profile_version")));
	struct bsp_image_change *ch = calloc(na + nb + 1, sizeof(*ch));
	if (!ch) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	changes = bsp_image_files_diff(fa, na, fb, nb, ch);
	for (size_t k = 0; k < changes; k++) {
		if (cli->json)
			json_array_append_new(out, json_pack("{s:s,s:s}", "path",
							     ch[k].path, "change",
							     ch[k].change));
		else
			printf("  %c %s\n",
			       ch[k].change[0] == 'a'	? '+'
			       : ch[k].change[0] == 'r' ? '-'
							: '~',
			       ch[k].path);
	}
	free(ch);
	if (cli->json) {
		char *t = json_dumps(out, JSON_COMPACT);
		puts(t ? t : "[]");
		free(t);
	} else if (!changes) {
		printf("  (the same files)\n");
	}
out:
	bsp_image_files_free(fa, na);
	bsp_image_files_free(fb, nb);
	json_decref(out);
	json_decref(a);
	json_decref(b);
	bsp_store_close(st);
	return rc;
}

/* bespoke image base --out oci:DIR:TAG: a Debian base from mmdebstrap. */
int cmd_image_base(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"out", required_argument, NULL, 'o'},
		{"suite", required_argument, NULL, 's'},
		{"variant", required_argument, NULL, 'v'},
		{"include", required_argument, NULL, 'i'},
		{"mirror", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	struct bsp_image_base_options o = {0};
	struct bsp_image_result res;
	struct bsp_error err = {0};
	const char *out = NULL, *inc[256];
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: bespoke image base --out oci:DIR:TAG "
			       "[--suite bookworm] [--variant minbase]\n"
			       "                          [--include a,b,...] "
			       "[--mirror URL]\n\n"
			       "A base image from Debian's repository, built by "
			       "mmdebstrap; --include\ninstalls packages into "
			       "it. SOURCE_DATE_EPOCH makes it reproducible.\n");
			return EXIT_OK;
		case 'o':
			out = optarg;
			break;
		case 's':
			o.suite = optarg;
			break;
		case 'v':
			o.variant = optarg;
			break;
		case 'i':
			for (char *p = optarg; p && *p;) {
				char *comma = strchr(p, ',');
				if (comma)
					*comma = '\0';
				if (*p) {
					if (o.n_include == 256)
						return cli_fail(BSP_EINVAL,
								"--include: at "
								"most 256");
					inc[o.n_include++] = p;
				}
				p = comma ? comma + 1 : NULL;
			}
			break;
		case 'm':
			o.mirror = optarg;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (!out || optind != argc)
		return cli_fail(BSP_EINVAL, "image base: --out oci:DIR:TAG "
					    "(and nothing else)");
	if (bsp_oci_ref_parse(out, &o.out, &err))
		return cli_fail_err(&err);
	o.include = inc;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		long long v = strtoll(sde, &end, 10);
		if (*end || v < 0)
			return cli_fail(BSP_EINVAL, "SOURCE_DATE_EPOCH: '%s' is "
						    "not epoch seconds",
					sde);
		o.epoch = v;
	}
	if (bsp_image_base_debian(&o, &res, &err))
		return cli_fail_err(&err);
	if (cli->json)
		printf("{\"ref\":\"%s\",\"digest\":\"%s\",\"layer_bytes\":"
		       "%llu,\"tar_bytes\":%llu}\n",
		       out, res.manifest_digest,
		       (unsigned long long)res.layer_bytes,
		       (unsigned long long)res.layer_tar_bytes);
	else
		printf("built %s %s: %llu bytes (%llu as tar)\n", out,
		       res.manifest_digest,
		       (unsigned long long)res.layer_bytes,
		       (unsigned long long)res.layer_tar_bytes);
	return EXIT_OK;
}
