/*
 * The prediction commands' shared options and entity lists.
 */
#include <stdlib.h>
#include <string.h>

#include "bespoke/forecast.h"
#include "cli_predict.h"

int cli_predict_opt(struct bsp_profile_options *opt, int c, char *arg)
{
	int rc;
	long long v;

	switch (c) {
	case 0x200:
		opt->n_metrics = 0;
		for (char *p = arg; p && *p;) {
			char *comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			if (*p) {
				if (opt->n_metrics == BSP_PROFILE_MAX_METRICS)
					return cli_fail(BSP_EINVAL,
							"--metrics: at most %d",
							BSP_PROFILE_MAX_METRICS);
				opt->metrics[opt->n_metrics++] = p;
			}
			p = comma ? comma + 1 : NULL;
		}
		if (!opt->n_metrics)
			return cli_fail(BSP_EINVAL, "--metrics: name at least one");
		return 0;
	case 0x201:
		if ((rc = cli_duration("step", arg, &opt->step)))
			return rc;
		if (opt->step < BSP_MINUTE || BSP_DAY % opt->step)
			return cli_fail(BSP_EINVAL,
					"--step: '%s' must be at least 1m and "
					"divide a day (5m, 15m, 1h, ...)",
					arg);
		return 0;
	case 0x202:
		if ((rc = cli_duration("horizon", arg, &opt->horizon)))
			return rc;
		if (opt->horizon > 31 * BSP_DAY)
			return cli_fail(BSP_EINVAL,
					"--horizon: at most 31 days");
		return 0;
	case 0x203:
		return cli_duration("history", arg, &opt->history);
	case 0x204:
		for (size_t i = 0; bsp_fc_model_name(i); i++)
			if (!strcmp(bsp_fc_model_name(i), arg)) {
				opt->model = arg;
				return 0;
			}
		fprintf(stderr, "models:");
		for (size_t i = 0; bsp_fc_model_name(i); i++)
			fprintf(stderr, " %s", bsp_fc_model_name(i));
		fprintf(stderr, "\n");
		return cli_fail(BSP_EINVAL, "--model: unknown model '%s'", arg);
	case 0x205:
		if ((rc = cli_size("origins", arg, 1, 365, &v)))
			return rc;
		opt->origins = (size_t)v;
		return 0;
	}
	return -1;
}

int cli_entities_get(struct cli *cli, int all, int argc, char **argv,
		     struct cli_entities *out)
{
	struct bsp_store *st;
	struct bsp_entity *e = NULL;
	struct bsp_error err = {0};
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (all == (argc > 0))
		return cli_fail(BSP_EINVAL,
				"name entities or give --all (not both)");
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (all) {
		if (bsp_store_entities(st, &e, &n, &err) != BSP_OK) {
			bsp_store_close(st);
			return cli_fail_err(&err);
		}
		out->names = calloc(n ? n : 1, sizeof(*out->names));
		for (size_t i = 0; out->names && i < n; i++)
			out->names[i] = strdup(e[i].name);
		out->n = n;
		bsp_entities_free(e, n);
	} else {
		out->names = calloc((size_t)argc, sizeof(*out->names));
		for (int i = 0; out->names && i < argc; i++) {
			struct bsp_entity one;
			if (bsp_store_entity(st, argv[i], &one, &err) != BSP_OK) {
				cli_entities_release(out);
				bsp_store_close(st);
				return cli_fail_err(&err);
			}
			bsp_entity_release(&one);
			out->names[i] = strdup(argv[i]);
			out->n++;
		}
	}
	bsp_store_close(st);
	if (!out->names)
		return cli_fail(BSP_ENOMEM, "out of memory");
	return EXIT_OK;
}

void cli_entities_release(struct cli_entities *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->names[i]);
	free(e->names);
	memset(e, 0, sizeof(*e));
}
