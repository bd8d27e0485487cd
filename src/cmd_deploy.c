/*
 * bespoke deploy ENTITY --to libvirt|kubernetes|cloud-init|registry: what a
 * target needs to run the entity's current image at its recommended size,
 * written into --out (and applied where the target is reachable), and
 * recorded as the entity's next "deployment" document for feedback.
 *
 * The image is the entity's current one (its latest image document;
 * revoked images are refused). The size is the recommendation for the
 * tier from its latest stored profile, overrides in force winning
 * (lib/alloc). Per target:
 *
 *   libvirt     ENTITY.xml (domain XML; --apply URI defines it with virsh)
 *               and ENTITY.user-data, the image's cloud-init twin;
 *   kubernetes  ENTITY.yaml, a Pod with the requests and limits and the
 *               image reference pushed to --registry;
 *   cloud-init  ENTITY.user-data and ENTITY.instance-type;
 *   registry    the image pushed to URL.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bespoke/alloc.h"
#include "bespoke/image.h"
#include "bespoke/oci.h"
#include "cli.h"
#include "cli_alloc.h"

static const char usage_text[] =
	"usage: bespoke deploy ENTITY --to TARGET [options]\n\n"
	"Writes what TARGET needs to run the entity's current image at its\n"
	"recommended size, and records the deployment. TARGET is libvirt,\n"
	"kubernetes, cloud-init or registry.\n\n"
	"  --out DIR          where the files go (.)\n"
	"  --registry URL     http[s]://HOST/NAME: push the image there\n"
	"                     (registry, kubernetes)\n"
	"  --apply URI        libvirt: define the domain with virsh -c URI\n" CLI_ALLOC_USAGE;

static int write_file(const char *dir, const char *name, const char *text,
		      char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		return cli_fail(BSP_EIO, "%s: %s", path, strerror(errno));
	return EXIT_OK;
}

static int copy_file(const char *from, const char *dir, const char *name,
		     char *path, size_t size)
{
	FILE *in = fopen(from, "r");
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!in)
		return cli_fail(BSP_ENOTFOUND, "%s: %s", from, strerror(errno));
	FILE *mem = open_memstream(&buf, &len);
	int c;
	while (mem && (c = fgetc(in)) != EOF)
		fputc(c, mem);
	fclose(in);
	if (!mem || fclose(mem))
		return cli_fail(BSP_ENOMEM, "out of memory");
	rc = write_file(dir, name, buf, path, size);
	free(buf);
	return rc;
}

/* `text` with the line holding `marker` replaced by `line`; malloc'd. */
static char *replace_line(const char *text, const char *marker,
			  const char *line)
{
	const char *at = strstr(text, marker), *bol, *eol;
	char *out;

	if (!at)
		return strdup(text);
	for (bol = at; bol > text && bol[-1] != '\n'; bol--)
		;
	eol = strchr(at, '\n');
	eol = eol ? eol : at + strlen(at);
	size_t n = (size_t)(bol - text) + strlen(line) + strlen(eol) + 1;
	if (!(out = malloc(n)))
		return NULL;
	snprintf(out, n, "%.*s%s%s", (int)(bol - text), text, line, eol);
	return out;
}

static int run_virsh(const char *uri, const char *xml)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return cli_fail(BSP_EIO, "fork: %s", strerror(errno));
	if (!pid) {
		execlp("virsh", "virsh", "-q", "-c", uri, "define", xml,
		       (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return cli_fail(BSP_EINVAL, "virsh -c %s define %s failed%s",
				uri, xml,
				WIFEXITED(st) && WEXITSTATUS(st) == 127
					? " (virsh not found)"
					: "");
	return EXIT_OK;
}

int cmd_deploy(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_ALLOC_LONGOPTS,
		{"to", required_argument, NULL, 'T'},
		{"out", required_argument, NULL, 'o'},
		{"registry", required_argument, NULL, 'r'},
		{"apply", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	struct cli_alloc a;
	struct bsp_store *st = NULL;
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	struct bsp_alloc_demand dm = {0};
	struct bsp_alloc_override ov;
	struct bsp_alloc_rec rec;
	const char *to = NULL, *out = ".", *registry = NULL, *apply = NULL;
	char *export = NULL, *text = NULL, path[PATH_MAX + 300];
	json_t *img = NULL, *files = json_array(), *rec_doc = NULL;
	int c, rc, found = 0;

	cli_alloc_init(&a);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if ((rc = cli_alloc_opt(&a, c, optarg)) >= 0) {
			if (rc)
				return rc;
			continue;
		}
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'T':
			to = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			registry = optarg;
			break;
		case 'a':
			apply = optarg;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "deploy: name one entity");
	const char *entity = argv[optind];
	if (!to || (strcmp(to, "libvirt") && strcmp(to, "kubernetes") &&
		    strcmp(to, "cloud-init") && strcmp(to, "registry")))
		return cli_fail(BSP_EINVAL, "--to: libvirt, kubernetes, "
					    "cloud-init or registry");
	if ((!strcmp(to, "registry") || !strcmp(to, "kubernetes")) &&
	    !registry)
		return cli_fail(BSP_EINVAL, "--to %s needs --registry URL", to);
	if (apply && strcmp(to, "libvirt"))
		return cli_fail(BSP_EINVAL, "--apply is for --to libvirt");
	if (mkdir(out, 0755) && errno != EEXIST)
		return cli_fail(BSP_EIO, "--out %s: %s", out, strerror(errno));
	if ((rc = cli_alloc_load(&a)) || (rc = cli_open(cli, 0, &st)))
		goto out;

	/* The current image, not revoked. */
	if (bsp_store_doc_get(st, "image", entity, 0, &d, &err) != BSP_OK) {
		rc = err.code == BSP_ENOTFOUND
			     ? cli_fail(BSP_ENOTFOUND,
					"%s: no image built (bespoke image "
					"build)",
					entity)
			     : cli_fail_err(&err);
		goto out;
	}
	img = json_loads(d.body, 0, NULL);
	int64_t image_version = d.version;
	bsp_doc_release(&d);
	const char *digest = json_string_value(json_object_get(img, "digest"));
	const char *ref = json_string_value(json_object_get(img, "ref"));
	if (!digest || !ref) {
		rc = cli_fail(BSP_ECORRUPT, "%s: image v%lld has no digest",
			      entity, (long long)image_version);
		goto out;
	}
	if (bsp_store_doc_get(st, "revoked", digest, 0, &d, &err) == BSP_OK) {
		bsp_doc_release(&d);
		rc = cli_fail(BSP_EINVAL,
			      "%s: the current image %s is revoked (bespoke "
			      "image rollback)",
			      entity, digest);
		goto out;
	}
	memset(&err, 0, sizeof(err));
	/* The size: the tier's recommendation from the latest profile. */
	if (bsp_store_doc_get(st, "profile", entity, 0, &d, &err) != BSP_OK) {
		rc = cli_fail(BSP_ENOTFOUND, "%s: no stored profile (bespoke "
					     "predict)",
			      entity);
		goto out;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	bsp_time now = (bsp_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (cli_alloc_recommend_json(st, a.cat, a.pol, a.tier, a.mhz, entity,
				     d.body, now, &dm, &ov, &found, &rec,
				     &err)) {
		bsp_doc_release(&d);
		rc = cli_fail_err(&err);
		goto out;
	}
	bsp_doc_release(&d);

	char line[600];
	struct bsp_push_report pr = {0};
	if (registry) {
		struct bsp_oci_ref r;
		struct bsp_push_options po = {0};
		char dest[1200];
		if (bsp_oci_ref_parse(ref, &r, &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
		/* The entity's repository, tagged by the image version. */
		snprintf(dest, sizeof(dest), "%s:v%lld", registry,
			 (long long)image_version);
		if (bsp_oci_push(r.dir, r.tag, dest, &po, &pr, &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
	}
	const char *ud = json_string_value(json_object_get(img, "user_data"));
	if (!strcmp(to, "libvirt")) {
		if (bsp_alloc_export(BSP_ALLOC_LIBVIRT, entity, a.cat, &rec,
				     &export, &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
		snprintf(line, sizeof(line),
			 "  <description>bespoke: %s, $%.4f/h; image %s "
			 "(%.200s)</description>",
			 rec.choice.name, rec.choice.price_hour, digest, ref);
		if (!(text = replace_line(export, "<description>", line))) {
			rc = cli_fail(BSP_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(line, sizeof(line), "%s.xml", entity);
		if ((rc = write_file(out, line, text, path, sizeof(path))))
			goto out;
		json_array_append_new(files, json_string(path));
		if (apply && (rc = run_virsh(apply, path)))
			goto out;
	} else if (!strcmp(to, "kubernetes")) {
		if (bsp_alloc_export(BSP_ALLOC_K8S, entity, a.cat, &rec,
				     &export, &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
		const char *host = strstr(registry, "://");
		snprintf(line, sizeof(line), "    image: \"%s@%s\"",
			 host ? host + 3 : registry, pr.manifest_digest);
		if (!(text = replace_line(export, "    image: ", line))) {
			rc = cli_fail(BSP_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(line, sizeof(line), "%s.yaml", entity);
		if ((rc = write_file(out, line, text, path, sizeof(path))))
			goto out;
		json_array_append_new(files, json_string(path));
	} else if (!strcmp(to, "cloud-init")) {
		if (bsp_alloc_export(BSP_ALLOC_INSTANCE, entity, a.cat, &rec,
				     &export, &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
		snprintf(line, sizeof(line), "%s.instance-type", entity);
		if ((rc = write_file(out, line, export, path, sizeof(path))))
			goto out;
		json_array_append_new(files, json_string(path));
	}
	if ((!strcmp(to, "libvirt") || !strcmp(to, "cloud-init")) && ud &&
	    *ud) {
		snprintf(line, sizeof(line), "%s.user-data", entity);
		if ((rc = copy_file(ud, out, line, path, sizeof(path))))
			goto out;
		json_array_append_new(files, json_string(path));
	}

	/* The record, for feedback. */
	char t[40];
	rec_doc = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:I,s:s,s:f,s:s,s:o,s:b,s:s}",
			    "format", "bespoke-deployment", "version", 1,
			    "entity", entity, "target", to, "image", ref,
			    "digest", digest, "image_version",
			    (json_int_t)image_version, "shape", rec.choice.name,
			    "price_hour", rec.choice.price_hour, "tier",
			    a.tier_name, "files", json_incref(files), "applied",
			    apply != NULL, "at",
			    bsp_time_format(now, t, sizeof(t)));
	if (registry)
		json_object_set_new(rec_doc, "pushed",
				    json_pack("{s:s,s:s}", "to", pr.reference,
					      "digest", pr.manifest_digest));
	char *body = rec_doc ? json_dumps(rec_doc, JSON_SORT_KEYS | JSON_COMPACT)
			     : NULL;
	int64_t v = 0;
	if (!body || bsp_store_doc_put(st, "deployment", entity, body, &v,
				       &err)) {
		free(body);
		rc = body ? cli_fail_err(&err) : cli_fail(BSP_ENOMEM, "oom");
		goto out;
	}
	free(body);
	if (cli->json) {
		json_object_set_new(rec_doc, "deployment_version",
				    json_integer(v));
		char *s = json_dumps(rec_doc, JSON_COMPACT);
		puts(s ? s : "{}");
		free(s);
	} else {
		printf("%s: image v%lld (%.19s) on %s ($%.4f/h) for %s%s%s\n",
		       entity, (long long)image_version, digest,
		       rec.choice.name, rec.choice.price_hour, to,
		       apply ? ", defined with virsh" : "",
		       registry ? ", pushed" : "");
		size_t i;
		json_t *f;
		json_array_foreach(files, i, f)
			printf("  %s\n", json_string_value(f));
		printf("  recorded as deployment v%lld\n", (long long)v);
	}
	rc = EXIT_OK;
out:
	json_decref(rec_doc);
	json_decref(files);
	json_decref(img);
	free(text);
	free(export);
	bsp_alloc_demand_release(&dm);
	bsp_store_close(st);
	cli_alloc_release(&a);
	return rc;
}
