/*
 * bespoke feedback ENTITY: how a stored profile's forecast fared against
 * what then happened (lib/profile/feedback.c), stored as the entity's next
 * feedback document unless --no-store.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/profile.h"
#include "cli.h"

static const char usage_text[] =
	"usage: bespoke feedback ENTITY [options]\n\n"
	"Compares the latest stored profile (or --version N) with the\n"
	"samples observed since its origin: per metric MAE, MASE (scaled as\n"
	"the backtests are), p95 coverage, and whether the model drifted\n"
	"(docs/feedback.md). Exit status 3 when a metric drifted.\n\n"
	"  --version N    the profile version (latest)\n"
	"  --until TIME   compare up to this time (the entity's last sample)\n"
	"  --no-store     do not store the result\n";

int cmd_feedback(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"version", required_argument, NULL, 'v'},
		{"until", required_argument, NULL, 'u'},
		{"no-store", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct bsp_store *st;
	struct bsp_entity e = {0};
	struct bsp_error err = {0};
	bsp_time until = BSP_TIME_NONE;
	long long version = 0;
	char *json = NULL;
	int c, rc, store = 1, drift = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'v':
			if ((rc = cli_size("version", optarg, 1, INT64_MAX,
					   &version)))
				return rc;
			break;
		case 'u':
			if ((rc = cli_time("until", optarg, &until)))
				return rc;
			break;
		case 'n':
			store = 0;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "feedback: name one entity");
	if ((rc = cli_open(cli, 0, &st)))
		return rc;
	if (bsp_store_entity(st, argv[optind], &e, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (until == BSP_TIME_NONE)
		until = e.last == BSP_TIME_NONE ? 0 : e.last + 1;
	if (bsp_profile_feedback(st, argv[optind], version, until, store, &json,
				 &drift, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (cli->json) {
		puts(json);
	} else {
		json_t *d = json_loads(json, 0, NULL), *m;
		const char *key;
		printf("%s: profile %lld from %s, compared until %s\n",
		       argv[optind],
		       (long long)json_integer_value(
			       json_object_get(d, "profile_version")),
		       json_string_value(json_object_get(d, "origin")),
		       json_string_value(json_object_get(d, "until")));
		printf("%-16s %6s %10s %8s %8s %8s  %s\n", "METRIC", "STEPS",
		       "MAE", "MASE", "BT MASE", "COV95", "DRIFT");
		json_object_foreach(json_object_get(d, "metrics"), key, m)
		{
#define N(k) (json_is_number(json_object_get(m, k)) ? json_number_value(json_object_get(m, k)) : NAN)
			printf("%-16s %6lld %10.4g %8.3f %8.3f %8.3f  %s\n",
			       key,
			       (long long)json_integer_value(
				       json_object_get(m, "steps")),
			       N("mae"), N("mase"), N("backtest_mase"),
			       N("coverage95"),
			       json_is_true(json_object_get(m, "drift"))
				       ? json_string_value(
						 json_object_get(m, "why"))
				       : "no");
#undef N
		}
		json_decref(d);
	}
	rc = drift ? 3 : EXIT_OK;
out:
	free(json);
	bsp_entity_release(&e);
	bsp_store_close(st);
	return rc;
}
