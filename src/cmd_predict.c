/*
 * bespoke predict ENTITY: the entity's Behaviour Profile (forecasts with
 * quantiles, daily peak, shapes, the model and its backtest error), stored
 * as a new profile version, shown as a summary or as JSON. The profile's
 * behaviour part (workload class, personas, applications) uses the stored
 * classifier and the persona catalog when they are there.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/persona.h"
#include "cli_predict.h"

static const char usage_text[] =
	"usage: bespoke predict ENTITY [options]\n\n"
	"Builds and stores the entity's Behaviour Profile from its models\n"
	"(fitted now if none are stored) and its history; docs/profile.md\n"
	"documents the JSON.\n\n"
	"  --horizon DUR      how far ahead (24h; e.g. 7d)\n"
	"  --step DUR         forecast step (1h; e.g. 5m)\n"
	"  --at TIME          forecast as of TIME (history before it only)\n"
	"  --metrics a,b      metrics (default: the resource metrics it has)\n"
	"  --refit            fit the models again instead of loading them\n"
	"  --no-store         do not store the profile\n"
	"  --catalog FILE     persona catalog (default: the shipped one)\n"
	"  --no-behaviour     leave out workload class, personas, apps\n"
	"  --json             the whole profile as JSON\n";

static double get_num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "name 61%, name 20%" from [{"name":..,"p":..}], at most k entries. */
static void print_list(const char *title, json_t *arr, size_t k)
{
	size_t i;
	json_t *it;

	if (!json_is_array(arr))
		return;
	printf("%s", title);
	json_array_foreach(arr, i, it)
	{
		if (i == k)
			break;
		printf("%s%s %.0f%%", i ? ", " : " ",
		       json_string_value(json_object_get(it, "name")),
		       100 * get_num(it, "p"));
	}
	printf("%s\n", json_array_size(arr) ? "" : " (none)");
}

static void print_behaviour(json_t *b)
{
	json_t *w = json_object_get(b, "workload");
	json_t *apps = json_object_get(b, "apps");
	const char *key;
	json_t *v;

	if (!b)
		return;
	if (w)
		printf("workload: %s (p interactive %.2f, classifier v%lld)\n",
		       json_string_value(json_object_get(w, "class")),
		       get_num(w, "p_interactive"),
		       (long long)json_integer_value(
			       json_object_get(w, "model_version")));
	print_list("personas:", json_object_get(b, "personas"), 3);
	print_list("next apps:", json_object_get(apps, "next"), 5);
	print_list("coming hour:", json_object_get(apps, "coming_hour"), 5);
	print_list("coming day:", json_object_get(apps, "coming_day"), 5);
	json_object_foreach(json_object_get(b, "missing"), key, v)
		printf("no %s: %s\n", key, json_string_value(v));
}

static void print_summary(json_t *doc)
{
	const char *key;
	json_t *m;

	printf("profile of %s (version %lld), forecast from %s, %lld h at "
	       "%lld s steps\n",
	       json_string_value(json_object_get(doc, "entity")),
	       (long long)json_integer_value(
		       json_object_get(doc, "profile_version")),
	       json_string_value(json_object_get(doc, "origin")),
	       (long long)json_integer_value(
		       json_object_get(doc, "horizon_seconds")) /
		       3600,
	       (long long)json_integer_value(
		       json_object_get(doc, "step_seconds")));
	printf("%-14s %-7s %-16s %6s %6s %12s %12s %12s %5s\n", "METRIC",
	       "UNIT", "MODEL", "MASE", "COV95", "HIST MEAN", "PEAK P50",
	       "PEAK P95", "HOUR");
	json_object_foreach(json_object_get(doc, "metrics"), key, m)
	{
		json_t *model = json_object_get(m, "model");
		json_t *bt = json_object_get(model, "backtest");
		json_t *peak = json_object_get(m, "daily_peak");
		printf("%-14s %-7s %-16s %6.3f %6.3f %12.6g %12.6g %12.6g "
		       "%5lld\n",
		       key, json_string_value(json_object_get(m, "unit")),
		       json_string_value(json_object_get(model, "name")),
		       get_num(bt, "mase"), get_num(bt, "coverage95"),
		       get_num(json_object_get(m, "history"), "mean"),
		       get_num(peak, "value"), get_num(peak, "p95"),
		       (long long)json_integer_value(
			       json_object_get(peak, "hour_utc")));
	}
	json_t *sk = json_object_get(doc, "skipped");
	if (json_is_string(sk))
		printf("skipped: %s\n", json_string_value(sk));
	print_behaviour(json_object_get(doc, "behaviour"));
}

int cmd_predict(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_PREDICT_LONGOPTS,
		{"at", required_argument, NULL, 'a'},
		{"refit", no_argument, NULL, 'r'},
		{"no-store", no_argument, NULL, 'n'},
		{"catalog", required_argument, NULL, 'c'},
		{"no-behaviour", no_argument, NULL, 'B'},
		{NULL, 0, NULL, 0},
	};
	struct bsp_profile_options opt;
	struct bsp_store *st;
	struct bsp_persona_catalog *cat = NULL;
	struct bsp_error err = {0};
	const char *catalog = NULL;
	char *json = NULL, path[PATH_MAX + 64];
	int64_t version = 0;
	int c, rc, store = 1;

	bsp_profile_options_init(&opt);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if ((rc = cli_predict_opt(&opt, c, optarg)) >= 0) {
			if (rc)
				return rc;
			continue;
		}
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'a':
			if ((rc = cli_time("at", optarg, &opt.origin)))
				return rc;
			break;
		case 'r':
			opt.refit = 1;
			break;
		case 'n':
			store = 0;
			break;
		case 'c':
			catalog = optarg;
			break;
		case 'B':
			opt.no_behaviour = 1;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "predict: name one entity");
	/* A catalog named on the command line must load; the shipped one is
	 * used when it is found. */
	if (!opt.no_behaviour &&
	    !cli_data_file(catalog, "personas.yaml", path, sizeof(path))) {
		if (bsp_persona_catalog_load(path, &cat, &err) != BSP_OK)
			return cli_fail_err(&err);
		opt.personas = cat;
	}
	if ((rc = cli_open(cli, 0, &st))) {
		bsp_persona_catalog_free(cat);
		return rc;
	}
	rc = bsp_profile_build(st, argv[optind], &opt, store, &json, &version,
			       &err) != BSP_OK;
	bsp_store_close(st);
	bsp_persona_catalog_free(cat);
	if (rc)
		return cli_fail_err(&err);
	if (cli->json) {
		printf("%s\n", json);
	} else {
		json_t *doc = json_loads(json, 0, NULL);
		if (doc)
			print_summary(doc);
		json_decref(doc);
	}
	free(json);
	return EXIT_OK;
}
