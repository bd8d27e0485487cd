/*
 * bespoke override ENTITY: an administrator's allocation that wins over
 * the predictions in `recommend` and `plan` until it expires (the API's
 * overrideResourceProfile). Each override, and each --clear, is a new
 * version of the entity's "override" document, so the history of
 * decisions stays readable with --list.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bespoke/alloc.h"
#include "cli.h"

static const char usage_text[] =
    "usage: bespoke override ENTITY [--cpu N] [--mem SIZE] [--iops N]\n"
    "                        [--disk-mbps N] [--net-gbps N] [--type NAME]\n"
    "                        --expires TIME|DUR --reason TEXT\n"
    "       bespoke override ENTITY --list\n"
    "       bespoke override ENTITY --clear [--reason TEXT]\n\n"
    "Sets what recommend and plan allocate for ENTITY until the expiry,\n"
    "whatever the forecast says; docs/allocation.md.\n\n"
    "  --cpu N            vCPUs (e.g. 4, 0.5)\n"
    "  --mem SIZE         memory: 8GiB, 512MiB, 16 (GiB)\n"
    "  --iops N, --disk-mbps N, --net-gbps N\n"
    "  --type NAME        an instance type of the catalog\n"
    "  --catalog FILE     the catalog --type is checked against\n"
    "  --expires T        a time (RFC 3339, epoch seconds) or a duration\n"
    "                     from now (2h, 7d)\n"
    "  --reason TEXT      why (kept with the override)\n"
    "  --list             every version, newest first\n"
    "  --clear            end the override now\n";

static bsp_time now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (bsp_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_amount(const char *opt, const char *arg, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(*out) || *out <= 0)
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a positive number", opt,
				arg);
	return EXIT_OK;
}

/* "8GiB", "8G", "512MiB", "512M", "8" (GiB) → GiB. */
static int parse_mem(const char *arg, double *out)
{
	static const struct {
		const char *suffix;
		double gib;
	} units[] = {
	    {"GiB", 1},
	    {"Gi", 1},
	    {"G", 1},
	    {"GB", 1},
	    {"MiB", 1.0 / 1024},
	    {"Mi", 1.0 / 1024},
	    {"M", 1.0 / 1024},
	    {"MB", 1.0 / 1024},
	    {"TiB", 1024},
	    {"T", 1024},
	    {"", 1},
	};
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (!errno && end != arg && isfinite(v) && v > 0)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].suffix)) {
				*out = v * units[i].gib;
				return EXIT_OK;
			}
	return cli_fail(BSP_EINVAL,
			"--mem: '%s' is not a size (e.g. 8GiB, 512MiB)", arg);
}

static void fmt_values(const struct bsp_alloc_override *o, char *buf,
		       size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int r = 0; r < BSP_RES_N && len < size; r++)
		if (isfinite(o->value[r]))
			len += (size_t)snprintf(
			    buf + len, size - len, "%s%s=%g", len ? " " : "",
			    bsp_res_name((enum bsp_res)r), o->value[r]);
	if (o->type[0] && len < size)
		snprintf(buf + len, size - len, "%stype=%s", len ? " " : "",
			 o->type);
	if (!buf[0])
		snprintf(buf, size, "-");
}

static int list(struct cli *cli, struct bsp_store *st, const char *entity)
{
	struct bsp_doc *docs = NULL;
	struct bsp_error err = {0};
	size_t n = 0;
	bsp_time now = now_ms();
	json_t *arr = json_array();
	int rc = EXIT_OK;

	if (bsp_store_doc_list(st, "override", entity, &docs, &n, &err)) {
		json_decref(arr);
		return cli_fail_err(&err);
	}
	if (!cli->json)
		printf("%-7s %-20s %-20s %-8s %-36s %s\n", "VERSION", "CREATED",
		       "EXPIRES", "STATE", "VALUES", "REASON");
	for (size_t i = 0; i < n; i++) {
		struct bsp_doc d;
		struct bsp_alloc_override o;
		char c[40], e[40], vals[160];
		const char *state;
		if (bsp_store_doc_get(st, "override", entity, docs[i].version,
				      &d, &err) ||
		    bsp_alloc_override_parse(d.body, &o, &err)) {
			rc = cli_fail_err(&err);
			break;
		}
		bsp_doc_release(&d);
		o.version = docs[i].version;
		if (o.cleared)
			state = "cleared";
		else if (i > 0)
			state = "replaced";
		else if (o.expires != BSP_TIME_NONE && now >= o.expires)
			state = "expired";
		else
			state = "active";
		if (cli->json) {
			char *t = NULL;
			json_t *j = NULL;
			if (!bsp_alloc_override_json(&o, &t, &err))
				j = json_loads(t, 0, NULL);
			free(t);
			if (!j) {
				rc = cli_fail(BSP_ENOMEM,
					      "override: out of memory");
				break;
			}
			json_object_set_new(j, "override_version",
					    json_integer(o.version));
			json_object_set_new(j, "state", json_string(state));
			json_array_append_new(arr, j);
			continue;
		}
		fmt_values(&o, vals, sizeof(vals));
		printf("%-7lld %-20s %-20s %-8s %-36s %s\n",
		       (long long)o.version,
		       cli_fmt_time(o.created, c, sizeof(c)),
		       cli_fmt_time(o.expires, e, sizeof(e)), state, vals,
		       o.reason);
	}
	if (cli->json && rc == EXIT_OK) {
		char *s =
		    json_dumps(arr, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
		printf("%s\n", s ? s : "[]");
		free(s);
	}
	json_decref(arr);
	bsp_docs_free(docs, n);
	return rc;
}

int cmd_override(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    {"cpu", required_argument, NULL, 'c'},
	    {"mem", required_argument, NULL, 'm'},
	    {"iops", required_argument, NULL, 'i'},
	    {"disk-mbps", required_argument, NULL, 'd'},
	    {"net-gbps", required_argument, NULL, 'N'},
	    {"type", required_argument, NULL, 't'},
	    {"catalog", required_argument, NULL, 'C'},
	    {"expires", required_argument, NULL, 'e'},
	    {"reason", required_argument, NULL, 'r'},
	    {"list", no_argument, NULL, 'l'},
	    {"clear", no_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	struct bsp_alloc_override o;
	struct bsp_store *st;
	struct bsp_entity ent;
	struct bsp_error err = {0};
	const char *expires = NULL, *reason = NULL, *catalog = NULL;
	char *json = NULL, path[PATH_MAX + 64];
	int c, rc, do_list = 0, do_clear = 0, any = 0;
	int64_t version = 0;

	memset(&o, 0, sizeof(o));
	for (int r = 0; r < BSP_RES_N; r++)
		o.value[r] = NAN;
	o.expires = BSP_TIME_NONE;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		rc = EXIT_OK;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'c':
			rc = parse_amount("cpu", optarg, &o.value[BSP_RES_CPU]);
			any = 1;
			break;
		case 'm':
			rc = parse_mem(optarg, &o.value[BSP_RES_MEM]);
			any = 1;
			break;
		case 'i':
			rc = parse_amount("iops", optarg,
					  &o.value[BSP_RES_IOPS]);
			any = 1;
			break;
		case 'd':
			rc = parse_amount("disk-mbps", optarg,
					  &o.value[BSP_RES_MBPS]);
			any = 1;
			break;
		case 'N':
			rc = parse_amount("net-gbps", optarg,
					  &o.value[BSP_RES_NET]);
			any = 1;
			break;
		case 't':
			snprintf(o.type, sizeof(o.type), "%s", optarg);
			any = 1;
			break;
		case 'C':
			catalog = optarg;
			break;
		case 'e':
			expires = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'l':
			do_list = 1;
			break;
		case 'x':
			do_clear = 1;
			break;
		default:
			return EXIT_USER;
		}
		if (rc)
			return rc;
	}
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "override: name one entity");
	const char *entity = argv[optind];
	if (do_list + do_clear + any != 1)
		return cli_fail(BSP_EINVAL,
				"override: give values, --list or --clear (one "
				"of them)");
	if (any) {
		if (!expires)
			return cli_fail(
			    BSP_EINVAL,
			    "override: --expires is required (a time "
			    "or a duration from now)");
		if (!reason || !*reason)
			return cli_fail(BSP_EINVAL,
					"override: --reason is required");
		/* A time first; else a duration from now. */
		if (bsp_time_parse(expires, strlen(expires), &o.expires)) {
			bsp_time dur;
			if ((rc = cli_duration("expires", expires, &dur)))
				return rc;
			o.expires = now_ms() + dur;
		}
		if (o.type[0]) {
			struct bsp_alloc_catalog *cat = NULL;
			if (cli_data_file(catalog, "instances.yaml", path,
					  sizeof(path)))
				return cli_fail(BSP_ENOTFOUND,
						"no instance catalog: give "
						"--catalog FILE");
			if (bsp_alloc_catalog_load(path, &cat, &err))
				return cli_fail_err(&err);
			int found = bsp_alloc_type_find(cat, o.type) >= 0;
			bsp_alloc_catalog_free(cat);
			if (!found)
				return cli_fail(BSP_EINVAL,
						"--type: %s is not in %s",
						o.type, path);
		}
	}
	if ((rc = cli_open(cli, 0, &st)))
		return rc;
	if (bsp_store_entity(st, entity, &ent, &err)) {
		bsp_store_close(st);
		return cli_fail_err(&err);
	}
	bsp_entity_release(&ent);
	if (do_list) {
		rc = list(cli, st, entity);
		bsp_store_close(st);
		return rc;
	}
	/* Whole seconds: a readable record, and what RFC 3339 round-trips. */
	o.created = now_ms() / 1000 * 1000;
	if (do_clear) {
		o.cleared = 1;
		snprintf(o.reason, sizeof(o.reason), "%s",
			 reason ? reason : "cleared");
	} else {
		snprintf(o.reason, sizeof(o.reason), "%s", reason);
	}
	if (bsp_alloc_override_json(&o, &json, &err) ||
	    bsp_store_doc_put(st, "override", entity, json, &version, &err)) {
		free(json);
		bsp_store_close(st);
		return cli_fail_err(&err);
	}
	bsp_store_close(st);
	if (cli->json) {
		json_t *j = json_loads(json, 0, NULL);
		json_object_set_new(j, "override_version",
				    json_integer(version));
		char *s =
		    json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
		printf("%s\n", s ? s : "null");
		free(s);
		json_decref(j);
	} else if (do_clear) {
		printf("%s: override cleared (v%lld)\n", entity,
		       (long long)version);
	} else {
		char e[40], vals[160];
		fmt_values(&o, vals, sizeof(vals));
		printf("%s: override v%lld: %s until %s (%s)\n", entity,
		       (long long)version, vals,
		       cli_fmt_time(o.expires, e, sizeof(e)), o.reason);
	}
	free(json);
	return EXIT_OK;
}
