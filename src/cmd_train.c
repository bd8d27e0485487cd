/*
 * bespoke train [--all | ENTITY...]: fits a forecaster per resource metric
 * of each entity (model chosen by backtests on its own history) and stores
 * them as the entity's next "model" version. Entities run in parallel on
 * every core, each thread with its own store handle; one entity's failure
 * is reported and does not stop the others.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bespoke/forecast.h"
#include "bespoke/profile.h"
#include "cli.h"
#include "cli_predict.h"

static const char usage_text[] =
	"usage: bespoke train [--all | ENTITY...] [options]\n\n"
	"Fits and stores a forecaster for each resource metric of each\n"
	"entity, chosen by rolling-origin backtests on its own history.\n\n"
	"  --all              every entity in the store\n"
	"  --metrics a,b      metrics (default: cpu_usage, mem_usage,\n"
	"                     disk_total, net_total, ... that it has)\n"
	"  --step DUR         model step, data as step means (1h)\n"
	"  --horizon DUR      horizon the backtests calibrate (24h)\n"
	"  --history DUR      training window (8w)\n"
	"  --model NAME       use this model instead of choosing\n"
	"  --keep-anomalies   fit on every point; by default usage that\n"
	"                     left its forecast band is left out\n"
	"                     (docs/anomalies.md)\n"
	"  --threads N        parallel entities (all cores)\n";

struct train_job {
	struct cli *cli;
	struct bsp_profile_options opt;
	char **names;
	size_t n;
	pthread_mutex_t lock;
	size_t done, failed;
	double t0;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int train_one(size_t i, void *ud)
{
	struct train_job *j = ud;
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	char *skipped = NULL;
	int64_t version = 0;
	bsp_err r;

	r = bsp_store_open(&st, j->cli->db, 0, &err);
	if (r == BSP_OK)
		r = bsp_profile_train(st, j->names[i], &j->opt, &version,
				      &skipped, &err);
	bsp_store_close(st);
	pthread_mutex_lock(&j->lock);
	j->done++;
	if (j->cli->tty)
		fputs("\r\033[K", stderr);
	if (r != BSP_OK) {
		j->failed++;
		fprintf(stderr, "bespoke: train %s: %s\n", j->names[i],
			err.msg);
	} else {
		if (skipped)
			fprintf(stderr, "bespoke: train %s: skipped %s\n",
				j->names[i], skipped);
		if (!j->cli->json && j->n <= 20)
			printf("trained %s (model version %lld)\n",
			       j->names[i], (long long)version);
	}
	if (j->cli->tty)
		fprintf(stderr, "train: %zu/%zu entities, %.1f s", j->done,
			j->n, now_s() - j->t0);
	pthread_mutex_unlock(&j->lock);
	free(skipped);
	return r != BSP_OK;
}

int cmd_train(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_PREDICT_LONGOPTS,
		{"all", no_argument, NULL, 'A'},
		{"threads", required_argument, NULL, 'T'},
		{"keep-anomalies", no_argument, NULL, 'K'},
		{NULL, 0, NULL, 0},
	};
	struct train_job j = {0};
	struct cli_entities ents = {0};
	long long threads = 0;
	int c, rc, all = 0;

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
		case 'T':
			if ((rc = cli_size("threads", optarg, 1, 64, &threads)))
				return rc;
			break;
		case 'K':
			j.opt.keep_anomalies = 1;
			break;
		default:
			return EXIT_USER;
		}
	}
	if ((rc = cli_entities_get(cli, all, argc - optind, argv + optind,
				   &ents)))
		return rc;
	j.names = ents.names;
	j.n = ents.n;
	j.t0 = now_s();
	pthread_mutex_init(&j.lock, NULL);
	bsp_parallel_for(j.n, (unsigned)threads, train_one, &j);
	pthread_mutex_destroy(&j.lock);
	if (cli->tty)
		fputs("\r\033[K", stderr);
	if (cli->json)
		printf("{\"entities\":%zu,\"trained\":%zu,\"failed\":%zu,"
		       "\"seconds\":%.3f}\n",
		       j.n, j.n - j.failed, j.failed, now_s() - j.t0);
	else
		printf("trained %zu of %zu entities in %.2f s%s\n",
		       j.n - j.failed, j.n, now_s() - j.t0,
		       j.failed ? " (failures above)" : "");
	cli_entities_release(&ents);
	return j.failed ? EXIT_USER : EXIT_OK;
}
