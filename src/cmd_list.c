/*
 * bespoke entities / bespoke series ENTITY: what the store holds, as a
 * table or as JSON (--json).
 */
#include <getopt.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static json_t *time_json(bsp_time t)
{
	char buf[40];
	return t == BSP_TIME_NONE ? json_null()
				  : json_string(bsp_time_format(t, buf, sizeof(buf)));
}

static int print_json(json_t *j)
{
	if (!j || json_dumpf(j, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) < 0) {
		json_decref(j);
		return cli_fail(BSP_ENOMEM, "cannot write JSON");
	}
	fputc('\n', stdout);
	json_decref(j);
	return EXIT_OK;
}

static const char entities_usage[] =
	"usage: bespoke entities [--json]\n\n"
	"Lists every entity (user, VM, workload) with its series, samples,\n"
	"events, time range and attributes.\n";

int cmd_entities(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
						 {NULL, 0, NULL, 0}};
	struct bsp_store *st;
	struct bsp_entity *e = NULL;
	struct bsp_error err = {0};
	size_t n = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			cli_usage(stdout, entities_usage);
			return EXIT_OK;
		}
		return EXIT_USER;
	}
	if (optind < argc)
		return cli_fail(BSP_EINVAL, "entities: unexpected argument '%s'",
				argv[optind]);
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (bsp_store_entities(st, &e, &n, &err) != BSP_OK) {
		bsp_store_close(st);
		return cli_fail_err(&err);
	}
	if (cli->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *attrs = json_object();
			for (size_t k = 0; k < e[i].n_attrs; k++)
				json_object_set_new(attrs, e[i].attr_keys[k],
						    json_string(e[i].attr_values[k]));
			json_array_append_new(
				arr,
				json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o}",
					  "name", e[i].name, "series",
					  (json_int_t)e[i].n_series, "samples",
					  (json_int_t)e[i].n_samples, "events",
					  (json_int_t)e[i].n_events, "first",
					  time_json(e[i].first), "last",
					  time_json(e[i].last), "attributes",
					  attrs));
		}
		rc = print_json(arr);
	} else {
		char a[40], b[40], cnt[32];
		printf("%-24s %6s %9s %8s  %-20s  %-20s  %s\n", "ENTITY",
		       "SERIES", "SAMPLES", "EVENTS", "FIRST", "LAST",
		       "ATTRIBUTES");
		for (size_t i = 0; i < n; i++) {
			cli_fmt_count((double)e[i].n_samples, cnt, sizeof(cnt));
			printf("%-24s %6lld %9s %8lld  %-20s  %-20s ",
			       e[i].name, (long long)e[i].n_series, cnt,
			       (long long)e[i].n_events,
			       cli_fmt_time(e[i].first, a, sizeof(a)),
			       cli_fmt_time(e[i].last, b, sizeof(b)));
			for (size_t k = 0; k < e[i].n_attrs && k < 4; k++)
				printf(" %s=%s", e[i].attr_keys[k],
				       e[i].attr_values[k]);
			if (e[i].n_attrs > 4)
				printf(" (+%zu)", e[i].n_attrs - 4);
			printf("\n");
		}
		rc = EXIT_OK;
	}
	bsp_entities_free(e, n);
	bsp_store_close(st);
	return rc;
}

static const char series_usage[] =
	"usage: bespoke series ENTITY [--json]\n\n"
	"Lists the entity's series: metric, labels, unit, samples, compressed\n"
	"bytes per sample and time range.\n";

int cmd_series(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
						 {NULL, 0, NULL, 0}};
	struct bsp_store *st;
	struct bsp_series *s = NULL;
	struct bsp_entity ent;
	struct bsp_error err = {0};
	size_t n = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			cli_usage(stdout, series_usage);
			return EXIT_OK;
		}
		return EXIT_USER;
	}
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "series: name one entity");
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (bsp_store_entity(st, argv[optind], &ent, &err) != BSP_OK ||
	    bsp_store_series(st, argv[optind], &s, &n, &err) != BSP_OK) {
		bsp_store_close(st);
		return cli_fail_err(&err);
	}
	bsp_entity_release(&ent);
	if (cli->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
				arr,
				json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
					  "s:o, s:o}",
					  "entity", s[i].entity, "metric",
					  s[i].metric, "labels", s[i].labels,
					  "unit", s[i].unit, "samples",
					  (json_int_t)s[i].n_samples, "chunks",
					  (json_int_t)s[i].n_chunks, "bytes",
					  (json_int_t)s[i].bytes, "first",
					  time_json(s[i].first), "last",
					  time_json(s[i].last)));
		rc = print_json(arr);
	} else {
		char a[40], b[40];
		printf("%-28s %-8s %9s %7s  %-20s  %s\n", "METRIC", "UNIT",
		       "SAMPLES", "B/SMPL", "FIRST", "LAST");
		for (size_t i = 0; i < n; i++) {
			char name[256];
			snprintf(name, sizeof(name), "%s%s%s%s", s[i].metric,
				 *s[i].labels ? "{" : "", s[i].labels,
				 *s[i].labels ? "}" : "");
			printf("%-28s %-8s %9lld %7.2f  %-20s  %s\n", name,
			       *s[i].unit ? s[i].unit : "-",
			       (long long)s[i].n_samples,
			       s[i].n_samples ? (double)s[i].bytes /
							(double)s[i].n_samples
					      : 0.0,
			       cli_fmt_time(s[i].first, a, sizeof(a)),
			       cli_fmt_time(s[i].last, b, sizeof(b)));
		}
		rc = EXIT_OK;
	}
	bsp_series_free(s, n);
	bsp_store_close(st);
	return rc;
}
