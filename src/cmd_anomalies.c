/*
 * bespoke anomalies (ENTITY... | --all): the periods where each entity's
 * usage left its forecast's calibrated band, explained one per line, and
 * stored as the entity's next "anomalies" document (docs/anomalies.md).
 * Entities run in parallel, each thread with its own store handle; the
 * output keeps the order of the names.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/anomaly.h"
#include "cli_predict.h"

static const char usage_text[] =
    "usage: bespoke anomalies (ENTITY... | --all) [options]\n\n"
    "Flags the steps where observed usage left the band its forecast\n"
    "drew (each day forecast from the days before it), merges them into\n"
    "periods and explains each; the result is stored as the entity's\n"
    "next anomalies version.\n\n"
    "  --from TIME        examine from (default: --history before --until)\n"
    "  --until TIME       examine until (default: after the last sample)\n"
    "  --metrics a,b      (default: the resource metrics it has)\n"
    "  --step DUR         grid of step means (1h)\n"
    "  --level P          band [p(1-P), p(P)], 0.5 < P <= 0.99 (0.99)\n"
    "  --factor F         flag beyond median +- F x (edge - median) (1.5)\n"
    "  --block DUR        forecast block, a multiple of the step (1d)\n"
    "  --shift DUR        flags on every block this long are a change,\n"
    "                     kept in training (3d)\n"
    "  --warmup DUR       history before the first block (2 weeks)\n"
    "  --refit            fit on the window even when a stored model fits\n"
    "  --no-store         do not store the result\n"
    "  --threads N        parallel entities (all cores)\n"
    "  --json             the document (one line per entity)\n";

struct ajob {
	struct cli *cli;
	struct bsp_profile_options popt;
	struct bsp_anomaly_options aopt;
	bsp_time from, until;
	int store;
	struct cli_entities ents;
	char **json;  /* per entity: its document */
	char **error; /* per entity: why it failed */
};

static int anomalies_entity(size_t i, void *ud)
{
	struct ajob *j = ud;
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	bsp_err r;

	r = bsp_store_open(&st, j->cli->db, j->store ? 0 : BSP_OPEN_READONLY,
			   &err);
	if (r == BSP_OK)
		r = bsp_anomaly_entity(st, j->ents.names[i], &j->popt, &j->aopt,
				       j->from, j->until, j->store, &j->json[i],
				       NULL, &err);
	bsp_store_close(st);
	if (r != BSP_OK) {
		j->error[i] = strdup(err.msg);
		return 1;
	}
	return 0;
}

static double get_num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static long long get_int(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_text(json_t *doc)
{
	const char *key;
	json_t *m;

	printf("anomalies of %s from %s to %s at %lld s steps, band p%g..p%g "
	       "x%g",
	       json_string_value(json_object_get(doc, "entity")),
	       json_string_value(json_object_get(doc, "from")),
	       json_string_value(json_object_get(doc, "until")),
	       get_int(doc, "step_seconds"),
	       round(1000 * (1 - get_num(doc, "level"))) / 10,
	       round(1000 * get_num(doc, "level")) / 10,
	       get_num(doc, "factor"));
	if (json_object_get(doc, "anomalies_version"))
		printf(" (version %lld)", get_int(doc, "anomalies_version"));
	printf("\n");
	json_object_foreach(json_object_get(doc, "metrics"), key, m)
	{
		json_t *model = json_object_get(m, "model");
		json_t *periods = json_object_get(m, "periods");
		json_t *v = json_object_get(m, "examined_from");
		size_t k;
		json_t *p;

		printf("%s: %lld points examined from %s, %lld flagged in %zu "
		       "period%s, %lld to leave out of training (model %s",
		       key, get_int(m, "points"),
		       json_is_string(v) ? json_string_value(v) : "-",
		       get_int(m, "flagged"), json_array_size(periods),
		       json_array_size(periods) == 1 ? "" : "s",
		       get_int(m, "excluded"),
		       json_string_value(json_object_get(model, "name")));
		if (json_is_integer(json_object_get(model, "model_version")))
			printf(" v%lld", get_int(model, "model_version"));
		else
			printf(", fitted on the window");
		printf(")\n");
		json_array_foreach(periods, k, p) printf(
		    "  %s\n",
		    json_string_value(json_object_get(p, "explanation")));
	}
	json_t *sk = json_object_get(doc, "skipped");
	if (json_is_string(sk))
		printf("skipped: %s\n", json_string_value(sk));
}

/* A number option within [lo, hi]. */
static int cli_double(const char *opt, const char *arg, double lo, double hi,
		      double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || !(*out >= lo && *out <= hi))
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a number from %g to %g", opt,
				arg, lo, hi);
	return EXIT_OK;
}

int cmd_anomalies(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    CLI_PREDICT_LONGOPTS,
	    {"all", no_argument, NULL, 'A'},
	    {"from", required_argument, NULL, 'F'},
	    {"until", required_argument, NULL, 'U'},
	    {"level", required_argument, NULL, 'l'},
	    {"factor", required_argument, NULL, 'f'},
	    {"block", required_argument, NULL, 'b'},
	    {"shift", required_argument, NULL, 's'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"refit", no_argument, NULL, 'r'},
	    {"no-store", no_argument, NULL, 'n'},
	    {"threads", required_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	struct ajob j = {0};
	long long threads = 0;
	int c, rc, all = 0;
	size_t failed = 0;

	j.cli = cli;
	j.store = 1;
	j.from = j.until = BSP_TIME_NONE;
	bsp_profile_options_init(&j.popt);
	bsp_anomaly_options_init(&j.aopt);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if ((rc = cli_predict_opt(&j.popt, c, optarg)) >= 0) {
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
			if ((rc = cli_time("from", optarg, &j.from)))
				return rc;
			break;
		case 'U':
			if ((rc = cli_time("until", optarg, &j.until)))
				return rc;
			break;
		case 'l':
			if ((rc = cli_double("level", optarg, 0.5, 0.99,
					     &j.aopt.level)))
				return rc;
			if (j.aopt.level <= 0.5)
				return cli_fail(BSP_EINVAL,
						"--level: must be above 0.5");
			break;
		case 'f':
			if ((rc = cli_double("factor", optarg, 1, 100,
					     &j.aopt.factor)))
				return rc;
			break;
		case 'b':
			if ((rc = cli_duration("block", optarg, &j.aopt.block)))
				return rc;
			break;
		case 's':
			if ((rc = cli_duration("shift", optarg,
					       &j.aopt.shift_after)))
				return rc;
			break;
		case 'w':
			if ((rc = cli_duration("warmup", optarg,
					       &j.aopt.warmup)))
				return rc;
			break;
		case 'r':
			j.popt.refit = 1;
			break;
		case 'n':
			j.store = 0;
			break;
		case 'T':
			if ((rc = cli_size("threads", optarg, 1, 64, &threads)))
				return rc;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (j.aopt.block % j.popt.step)
		return cli_fail(BSP_EINVAL,
				"--block: must be a whole number of steps "
				"(--step is %lld s)",
				(long long)(j.popt.step / BSP_SECOND));
	if (j.from != BSP_TIME_NONE && j.until != BSP_TIME_NONE &&
	    j.from >= j.until)
		return cli_fail(BSP_EINVAL, "--from must be before --until");
	if ((rc = cli_entities_get(cli, all, argc - optind, argv + optind,
				   &j.ents)))
		return rc;
	j.json = calloc(j.ents.n + 1, sizeof(*j.json));
	j.error = calloc(j.ents.n + 1, sizeof(*j.error));
	if (!j.json || !j.error)
		return cli_fail(BSP_ENOMEM, "out of memory");
	bsp_parallel_for(j.ents.n, (unsigned)threads, anomalies_entity, &j);
	for (size_t i = 0; i < j.ents.n; i++) {
		if (j.json[i] && cli->json) {
			printf("%s\n", j.json[i]);
		} else if (j.json[i]) {
			json_t *doc = json_loads(j.json[i], 0, NULL);
			if (doc)
				print_text(doc);
			json_decref(doc);
		}
		if (j.error[i]) {
			fprintf(stderr, "bespoke: anomalies: %s\n", j.error[i]);
			failed++;
		}
		free(j.json[i]);
		free(j.error[i]);
	}
	free(j.json);
	free(j.error);
	cli_entities_release(&j.ents);
	if (fflush(stdout) != 0)
		return cli_fail(BSP_EIO, "anomalies: cannot write the output");
	return failed ? EXIT_USER : EXIT_OK;
}
