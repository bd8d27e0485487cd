/*
 * bespoke backtest: how good the forecasts are on the store's own data.
 * For each entity, metric and origin (daily from --from), every contender
 * is trained on the history before the origin and scored on what came
 * after: bespoke's own choice, the daily and weekly seasonal naive
 * baselines, and with --models all every model of the table alone.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/forecast.h"
#include "cli_predict.h"

static const char usage_text[] =
	"usage: bespoke backtest [--all | ENTITY...] [options]\n\n"
	"Scores forecasts made at daily origins against what came after:\n"
	"MASE (over the in-sample daily seasonal-naive MAE), pinball loss at\n"
	"p90/p95/p99 (scaled the same way) and coverage, for bespoke and\n"
	"next to seasonal naive, computed in the same run.\n\n"
	"  --from TIME        first origin (default: 7 days before the end)\n"
	"  --origins N        daily origins (7)\n"
	"  --horizon DUR      (24h)\n"
	"  --step DUR         (1h)\n"
	"  --metrics a,b      (default: the resource metrics each has)\n"
	"  --models all       also every model of the table on its own\n"
	"  --threads N        (all cores)\n";

#define MAX_CONTENDERS 24
#define MAX_CHOSEN 16

struct bjob {
	struct cli *cli;
	struct bsp_profile_options opt;
	struct cli_entities ents;
	bsp_time first_origin;
	size_t n_origins;
	const char *names[MAX_CONTENDERS]; /* NULL name = bespoke */
	size_t n;
	pthread_mutex_t lock;
	struct bsp_bt_acc acc[MAX_CONTENDERS];
	/* bespoke's own choices: model name → its scores */
	char chosen_name[MAX_CHOSEN][BSP_FC_NAME_MAX];
	struct bsp_bt_acc chosen[MAX_CHOSEN];
	size_t n_chosen;
	size_t errors;
};

static void add_chosen(struct bjob *j, const char *name,
		       const struct bsp_bt_acc *a)
{
	size_t i;

	for (i = 0; i < j->n_chosen; i++)
		if (!strcmp(j->chosen_name[i], name))
			break;
	if (i == j->n_chosen) {
		if (j->n_chosen == MAX_CHOSEN)
			return;
		snprintf(j->chosen_name[i], BSP_FC_NAME_MAX, "%s", name);
		j->n_chosen++;
	}
	bsp_bt_acc_add(&j->chosen[i], a);
}

static int backtest_entity(size_t i, void *ud)
{
	struct bjob *j = ud;
	struct bsp_store *st = NULL;
	struct bsp_series *s = NULL;
	struct bsp_error err = {0};
	size_t n = 0;
	int failed = 1;

	if (bsp_store_open(&st, j->cli->db, BSP_OPEN_READONLY, &err) != BSP_OK ||
	    bsp_profile_series(st, j->ents.names[i], &j->opt, &s, &n, &err) !=
		    BSP_OK)
		goto out;
	for (size_t k = 0; k < n; k++)
		for (size_t o = 0; o < j->n_origins; o++) {
			bsp_time origin = j->first_origin + (bsp_time)o * BSP_DAY;
			for (size_t c = 0; c < j->n; c++) {
				struct bsp_bt_acc a = {0};
				char chosen[BSP_FC_NAME_MAX];
				if (bsp_backtest_one(st, &s[k], origin, &j->opt,
						     j->names[c], &a, chosen,
						     &err) != BSP_OK)
					goto out;
				pthread_mutex_lock(&j->lock);
				bsp_bt_acc_add(&j->acc[c], &a);
				if (!j->names[c] && a.forecasts)
					add_chosen(j, chosen, &a);
				pthread_mutex_unlock(&j->lock);
			}
		}
	failed = 0;
out:
	if (failed) {
		pthread_mutex_lock(&j->lock);
		j->errors++;
		fprintf(stderr, "bespoke: backtest %s: %s\n", j->ents.names[i],
			err.msg);
		pthread_mutex_unlock(&j->lock);
	}
	bsp_series_free(s, n);
	bsp_store_close(st);
	return failed;
}

static void print_row(struct cli *cli, const char *name,
		      const struct bsp_bt_acc *a, int *first)
{
	double f = a->forecasts ? (double)a->forecasts : 1;
	double p = a->points ? (double)a->points : 1;

	if (cli->json) {
		printf("%s{\"model\":\"%s\",\"forecasts\":%zu,\"mase\":%.6f,"
		       "\"pinball90\":%.6f,\"pinball95\":%.6f,"
		       "\"pinball99\":%.6f,\"coverage90\":%.6f,"
		       "\"coverage95\":%.6f,\"coverage99\":%.6f}",
		       *first ? "" : ",", name, a->forecasts, a->mase_sum / f,
		       a->pinball_sum[0] / f, a->pinball_sum[1] / f,
		       a->pinball_sum[2] / f, (double)a->covered[0] / p,
		       (double)a->covered[1] / p, (double)a->covered[2] / p);
		*first = 0;
		return;
	}
	printf("%-22s %9zu %7.3f %8.4f %8.4f %8.4f %7.1f%% %7.1f%% %7.1f%%\n",
	       name, a->forecasts, a->mase_sum / f, a->pinball_sum[0] / f,
	       a->pinball_sum[1] / f, a->pinball_sum[2] / f,
	       100.0 * (double)a->covered[0] / p,
	       100.0 * (double)a->covered[1] / p,
	       100.0 * (double)a->covered[2] / p);
}

/* Default first origin: 7 days before the newest sample's day. */
static int default_origin(struct cli *cli, struct bjob *j)
{
	struct bsp_store *st;
	struct bsp_entity *e = NULL;
	struct bsp_error err = {0};
	bsp_time last = BSP_TIME_NONE;
	size_t n = 0;
	int rc;

	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (bsp_store_entities(st, &e, &n, &err) != BSP_OK) {
		bsp_store_close(st);
		return cli_fail_err(&err);
	}
	for (size_t i = 0; i < n; i++)
		if (e[i].last != BSP_TIME_NONE && e[i].last > last)
			last = e[i].last;
	bsp_entities_free(e, n);
	bsp_store_close(st);
	if (last == BSP_TIME_NONE)
		return cli_fail(BSP_EINVAL, "backtest: the store has no samples");
	j->first_origin = bsp_time_floor(last, BSP_DAY) -
			  (bsp_time)j->n_origins * BSP_DAY;
	return EXIT_OK;
}

int cmd_backtest(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_PREDICT_LONGOPTS,
		{"all", no_argument, NULL, 'A'},
		{"from", required_argument, NULL, 'F'},
		{"models", required_argument, NULL, 'M'},
		{"threads", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	struct bjob j = {0};
	long long threads = 0;
	int c, rc, every = 0, first = 1;

	j.cli = cli;
	j.first_origin = BSP_TIME_NONE;
	bsp_profile_options_init(&j.opt);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 0x205) { /* --origins: here, how many days */
			long long v;
			if ((rc = cli_size("origins", optarg, 1, 365, &v)))
				return rc;
			j.n_origins = (size_t)v;
			continue;
		}
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
			break;
		case 'F':
			if ((rc = cli_time("from", optarg, &j.first_origin)))
				return rc;
			break;
		case 'M':
			if (strcmp(optarg, "all"))
				return cli_fail(BSP_EINVAL,
						"--models: only 'all'");
			every = 1;
			break;
		case 'T':
			if ((rc = cli_size("threads", optarg, 1, 64, &threads)))
				return rc;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (!j.n_origins)
		j.n_origins = 7;
	if (j.first_origin == BSP_TIME_NONE && (rc = default_origin(cli, &j)))
		return rc;
	if ((rc = cli_entities_get(cli, optind >= argc, argc - optind,
				   argv + optind, &j.ents)))
		return rc;
	j.names[j.n++] = NULL; /* bespoke */
	j.names[j.n++] = "snaive_day";
	j.names[j.n++] = "snaive_week";
	for (size_t i = 0; every && bsp_fc_model_name(i) &&
			   j.n < MAX_CONTENDERS;
	     i++)
		if (strcmp(bsp_fc_model_name(i), "snaive_day") &&
		    strcmp(bsp_fc_model_name(i), "snaive_week"))
			j.names[j.n++] = bsp_fc_model_name(i);
	pthread_mutex_init(&j.lock, NULL);
	bsp_parallel_for(j.ents.n, (unsigned)threads, backtest_entity, &j);
	pthread_mutex_destroy(&j.lock);

	char from[40];
	if (cli->json) {
		printf("{\"first_origin\":\"%s\",\"origins\":%zu,\"rows\":[",
		       bsp_time_format(j.first_origin, from, sizeof(from)),
		       j.n_origins);
	} else {
		printf("backtest: %zu entities, %zu daily origins from %s, "
		       "horizon %lld h at %lld s steps\n",
		       j.ents.n, j.n_origins,
		       bsp_time_format(j.first_origin, from, sizeof(from)),
		       (long long)(j.opt.horizon / BSP_HOUR),
		       (long long)(j.opt.step / BSP_SECOND));
		printf("%-22s %9s %7s %8s %8s %8s %8s %8s %8s\n", "MODEL",
		       "FORECASTS", "MASE", "PIN90", "PIN95", "PIN99", "COV90",
		       "COV95", "COV99");
	}
	for (size_t c2 = 0; c2 < j.n; c2++) {
		print_row(cli, j.names[c2] ? j.names[c2] : "bespoke",
			  &j.acc[c2], &first);
		if (c2 == 0)
			for (size_t k = 0; k < j.n_chosen; k++) {
				char name[BSP_FC_NAME_MAX + 16];
				snprintf(name, sizeof(name), "  chose %s",
					 j.chosen_name[k]);
				print_row(cli, name, &j.chosen[k], &first);
			}
	}
	if (cli->json) {
		printf("]}\n");
	} else if (j.acc[0].forecasts && j.acc[1].forecasts) {
		double b = j.acc[0].mase_sum / (double)j.acc[0].forecasts;
		double s = j.acc[1].mase_sum / (double)j.acc[1].forecasts;
		printf("bespoke MASE is %.1f%% %s daily seasonal naive\n",
		       100.0 * (s > b ? (s - b) / s : (b - s) / s),
		       s > b ? "below" : "above");
	}
	cli_entities_release(&j.ents);
	return j.errors ? EXIT_USER : EXIT_OK;
}
