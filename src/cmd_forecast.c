/*
 * bespoke forecast: batch export of forecasts as CSV
 * `entity,metric,ts,mean,p50,p90,p95,p99` from the samples before --from
 * only. Stored models (bespoke train) are used when they were fitted on
 * data that ended no later than --from; otherwise, and with --refit, the
 * model is fitted afresh. Series run in parallel; output is in entity and
 * metric order.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/forecast.h"
#include "cli_predict.h"

static const char usage_text[] =
	"usage: bespoke forecast (--all | ENTITY...) --from TIME [options]\n\n"
	"Writes CSV `entity,metric,ts,mean,p50,p90,p95,p99` (ts in epoch\n"
	"seconds at the start of each step; values forecast the step mean),\n"
	"using only samples before TIME.\n\n"
	"  --from TIME        forecast origin (required)\n"
	"  --horizon DUR      (24h)\n"
	"  --step DUR         (1h)\n"
	"  --metrics a,b      (default: the resource metrics each has)\n"
	"  --model NAME       one model instead of bespoke's choice\n"
	"  --refit            fit afresh even when stored models apply\n"
	"  --format csv       (the only format)\n"
	"  --threads N        (all cores)\n";

static const double levels[] = {0.5, 0.9, 0.95, 0.99};

struct fjob {
	struct cli *cli;
	struct bsp_profile_options opt;
	struct cli_entities ents;
	char **out;   /* per entity: its CSV rows */
	char **error; /* per entity: why it failed */
};

static void put_value(FILE *f, double v)
{
	char buf[40];
	cli_fmt_double(v, buf, sizeof(buf));
	fprintf(f, ",%s", buf);
}

static int forecast_entity(size_t i, void *ud)
{
	struct fjob *j = ud;
	const char *entity = j->ents.names[i];
	struct bsp_store *st = NULL;
	struct bsp_series *s = NULL;
	struct bsp_error err = {0};
	struct bsp_fc_options fo;
	struct bsp_profile_models *models = NULL;
	size_t n = 0, len = 0;
	char *buf = NULL;
	FILE *f = NULL;
	int failed = 1;

	if (bsp_store_open(&st, j->cli->db, BSP_OPEN_READONLY, &err) != BSP_OK ||
	    bsp_profile_series(st, entity, &j->opt, &s, &n, &err) != BSP_OK)
		goto out;
	f = open_memstream(&buf, &len);
	if (!f) {
		bsp_error_set(&err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	bsp_fc_options_init(&fo);
	fo.model = j->opt.model;
	fo.origins = j->opt.origins;
	fo.horizon = (size_t)((j->opt.horizon + j->opt.step - 1) / j->opt.step);
	if (!j->opt.model && !j->opt.refit)
		models = bsp_profile_models_load(st, entity, &j->opt,
						 j->opt.origin);
	for (size_t k = 0; k < n; k++) {
		struct bsp_fc_series hist;
		struct bsp_fc_output out = {0};
		struct bsp_error e = {0};
		struct bsp_fc_model *m = bsp_profile_models_get(models,
								s[k].metric);
		double *y = NULL;
		bsp_err r = bsp_profile_history(st, &s[k], j->opt.origin,
						&j->opt, &y, &hist, &e);
		if (r == BSP_OK && m)
			r = bsp_fc_predict(m, &hist, fo.horizon, levels, 4,
					   &out, &e);
		else if (r == BSP_OK)
			r = bsp_fc_forecast(&hist, &fo, fo.horizon, levels, 4,
					    &out, NULL, &e);
		bsp_fc_model_free(m);
		if (r != BSP_OK) {
			free(y);
			fflush(f);
			bsp_error_set(&err, e.code, "%s/%s: %s", entity,
				      s[k].metric, e.msg);
			goto out;
		}
		for (size_t h = 0; h < out.horizon; h++) {
			char ts[32];
			cli_fmt_epoch(out.t0 + (bsp_time)h * out.step, ts,
				      sizeof(ts));
			fprintf(f, "%s,%s,%s", entity, s[k].metric, ts);
			put_value(f, out.point[h]);
			for (size_t l = 0; l < 4; l++)
				put_value(f, bsp_fc_q(&out, l, h));
			fputc('\n', f);
		}
		bsp_fc_output_release(&out);
		free(y);
	}
	failed = 0;
out:
	if (f)
		fclose(f);
	if (failed) {
		free(buf);
		buf = NULL;
		j->error[i] = strdup(err.msg);
	}
	j->out[i] = buf;
	bsp_profile_models_free(models);
	bsp_series_free(s, n);
	bsp_store_close(st);
	return failed;
}

int cmd_forecast(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_PREDICT_LONGOPTS,
		{"all", no_argument, NULL, 'A'},
		{"from", required_argument, NULL, 'F'},
		{"format", required_argument, NULL, 'o'},
		{"threads", required_argument, NULL, 'T'},
		{"refit", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct fjob j = {0};
	long long threads = 0;
	int c, rc, all = 0;
	size_t failed = 0;

	j.cli = cli;
	bsp_profile_options_init(&j.opt);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if ((rc = cli_predict_opt(&j.opt, c, optarg)) >= 0) {
			if (rc)
				return rc;
			continue;
		}
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'A':
			all = 1;
			break;
		case 'F':
			if ((rc = cli_time("from", optarg, &j.opt.origin)))
				return rc;
			break;
		case 'o':
			if (strcmp(optarg, "csv"))
				return cli_fail(BSP_EINVAL,
						"--format: only csv is written");
			break;
		case 'T':
			if ((rc = cli_size("threads", optarg, 1, 64, &threads)))
				return rc;
			break;
		case 'r':
			j.opt.refit = 1;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (j.opt.origin == BSP_TIME_NONE)
		return cli_fail(BSP_EINVAL, "forecast: --from TIME is required");
	if ((rc = cli_entities_get(cli, all, argc - optind, argv + optind,
				   &j.ents)))
		return rc;
	j.out = calloc(j.ents.n + 1, sizeof(*j.out));
	j.error = calloc(j.ents.n + 1, sizeof(*j.error));
	if (!j.out || !j.error)
		return cli_fail(BSP_ENOMEM, "out of memory");
	bsp_parallel_for(j.ents.n, (unsigned)threads, forecast_entity, &j);
	printf("entity,metric,ts,mean,p50,p90,p95,p99\n");
	for (size_t i = 0; i < j.ents.n; i++) {
		if (j.out[i])
			fputs(j.out[i], stdout);
		if (j.error[i]) {
			fprintf(stderr, "bespoke: forecast %s\n", j.error[i]);
			failed++;
		}
		free(j.out[i]);
		free(j.error[i]);
	}
	free(j.out);
	free(j.error);
	cli_entities_release(&j.ents);
	if (fflush(stdout) != 0)
		return cli_fail(BSP_EIO, "forecast: cannot write the output");
	return failed ? EXIT_USER : EXIT_OK;
}
