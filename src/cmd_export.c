/*
 * bespoke export: samples out of the store, as CSV or JSON, either as
 * stored (a time range) or on a regular grid (--step, with an aggregation
 * and a gap rule). Values print in the shortest form that reads back to the
 * same double, so export → ingest is lossless.
 */
#include <getopt.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char usage_text[] =
	"usage: bespoke export [ENTITY...] [options]\n\n"
	"Writes samples of the named entities (default: all) as CSV\n"
	"`entity,metric,labels,ts,value` (ts in epoch seconds) or JSON.\n\n"
	"  --metric NAME[,NAME]  only these metrics\n"
	"  --from TIME           first time (epoch seconds or RFC 3339)\n"
	"  --until TIME          end time (exclusive)\n"
	"  --step DURATION       a regular grid (e.g. 5m, 1h) instead of raw\n"
	"  --agg mean|max|min|last|sum|count   grid aggregation (mean)\n"
	"  --fill nan|previous|linear|zero     empty grid steps (nan)\n"
	"  --format csv|json     (csv; --json is the same as --format json)\n";

struct export_opts {
	const char *metrics; /* comma list or NULL */
	bsp_time from, until, step;
	enum bsp_agg agg;
	enum bsp_fill fill;
	int json;
	int first_out; /* JSON: no comma before the first series */
};

static int metric_wanted(const char *list, const char *metric)
{
	size_t len = strlen(metric);

	if (!list)
		return 1;
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == len && !memcmp(p, metric, n))
			return 1;
		p += n + (e != NULL);
	}
	return 0;
}

static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void json_str(const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	fputs(t ? t : "\"\"", stdout);
	free(t);
	json_decref(j);
}

static void put_point(const struct export_opts *o, const struct bsp_series *s,
		      bsp_time t, double v, int first)
{
	char ts[40], val[40];

	cli_fmt_epoch(t, ts, sizeof(ts));
	cli_fmt_double(v, val, sizeof(val));
	if (o->json) {
		/* JSON has no NaN/Inf: those become null. */
		if (!(v - v == 0))
			snprintf(val, sizeof(val), "null");
		printf("%s[%s,%s]", first ? "" : ",", ts, val);
		return;
	}
	csv_field(s->entity);
	putchar(',');
	csv_field(s->metric);
	putchar(',');
	csv_field(s->labels);
	printf(",%s,%s\n", ts, val);
}

static int export_series(struct bsp_store *st, struct export_opts *o,
			 const struct bsp_series *s)
{
	struct bsp_error err = {0};
	bsp_time from = o->from, until = o->until;

	if (o->json) {
		printf("%s{\"entity\":", o->first_out ? "" : ",\n");
		json_str(s->entity);
		printf(",\"metric\":");
		json_str(s->metric);
		printf(",\"labels\":");
		json_str(s->labels);
		printf(",\"unit\":");
		json_str(s->unit);
		printf(",\"points\":[");
		o->first_out = 0;
	}
	if (o->step) {
		/* A grid needs bounds: default to the series' own range,
		 * aligned to the step. */
		if (from == BSP_TIME_NONE)
			from = bsp_time_floor(s->first, o->step);
		if (until == BSP_TIME_NONE)
			until = s->last + 1;
		size_t cells = bsp_grid_len(from, until, o->step);
		if (cells > 100000000)
			return cli_fail(BSP_ELIMIT,
					"export: %zu grid steps is too many; "
					"narrow --from/--until or widen --step",
					cells);
		double *v = malloc((cells ? cells : 1) * sizeof(*v));
		if (!v)
			return cli_fail(BSP_ENOMEM, "out of memory");
		if (bsp_store_read_grid(st, s->id, from, until, o->step, o->agg,
					o->fill, v, &err) != BSP_OK) {
			free(v);
			return cli_fail_err(&err);
		}
		for (size_t i = 0; i < cells; i++)
			put_point(o, s, from + (bsp_time)i * o->step, v[i],
				  i == 0);
		free(v);
	} else {
		bsp_time *ts;
		double *v;
		size_t n;
		if (from == BSP_TIME_NONE)
			from = INT64_MIN + 1;
		if (until == BSP_TIME_NONE)
			until = INT64_MAX;
		if (bsp_store_read(st, s->id, from, until, &ts, &v, &n, &err) !=
		    BSP_OK)
			return cli_fail_err(&err);
		for (size_t i = 0; i < n; i++)
			put_point(o, s, ts[i], v[i], i == 0);
		free(ts);
		free(v);
	}
	if (o->json)
		printf("]}");
	return EXIT_OK;
}

static int export_entity(struct bsp_store *st, struct export_opts *o,
			 const char *entity)
{
	struct bsp_series *s = NULL;
	struct bsp_error err = {0};
	size_t n = 0;
	int rc = EXIT_OK;

	if (bsp_store_series(st, entity, &s, &n, &err) != BSP_OK)
		return cli_fail_err(&err);
	for (size_t i = 0; i < n && rc == EXIT_OK; i++)
		if (metric_wanted(o->metrics, s[i].metric) && s[i].n_samples)
			rc = export_series(st, o, &s[i]);
	bsp_series_free(s, n);
	return rc;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"metric", required_argument, NULL, 'm'},
		{"metrics", required_argument, NULL, 'm'},
		{"from", required_argument, NULL, 'F'},
		{"until", required_argument, NULL, 'U'},
		{"step", required_argument, NULL, 's'},
		{"agg", required_argument, NULL, 'a'},
		{"fill", required_argument, NULL, 'l'},
		{"format", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct export_opts o = {0};
	struct bsp_store *st;
	struct bsp_error err = {0};
	int c, rc;

	o.from = o.until = BSP_TIME_NONE;
	o.agg = BSP_AGG_MEAN;
	o.fill = BSP_FILL_NAN;
	o.first_out = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'm':
			o.metrics = optarg;
			break;
		case 'F':
			if ((rc = cli_time("from", optarg, &o.from)))
				return rc;
			break;
		case 'U':
			if ((rc = cli_time("until", optarg, &o.until)))
				return rc;
			break;
		case 's':
			if ((rc = cli_duration("step", optarg, &o.step)))
				return rc;
			break;
		case 'a':
			if (bsp_agg_parse(optarg, &o.agg) != BSP_OK)
				return cli_fail(BSP_EINVAL,
						"--agg: '%s' is not one of "
						"mean, max, min, last, sum, "
						"count",
						optarg);
			break;
		case 'l':
			if (bsp_fill_parse(optarg, &o.fill) != BSP_OK)
				return cli_fail(BSP_EINVAL,
						"--fill: '%s' is not one of "
						"nan, previous, linear, zero",
						optarg);
			break;
		case 'o':
			if (!strcmp(optarg, "json"))
				cli->json = 1;
			else if (strcmp(optarg, "csv"))
				return cli_fail(BSP_EINVAL,
						"--format: '%s' is neither csv "
						"nor json",
						optarg);
			break;
		default:
			return EXIT_USER;
		}
	}
	o.json = cli->json;
	if (o.from != BSP_TIME_NONE && o.until != BSP_TIME_NONE &&
	    o.until <= o.from)
		return cli_fail(BSP_EINVAL, "--until must be after --from");
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (o.json)
		printf("[");
	else
		printf("entity,metric,labels,ts,value\n");
	if (optind < argc) {
		for (int i = optind; i < argc && rc == EXIT_OK; i++) {
			struct bsp_entity e;
			if (bsp_store_entity(st, argv[i], &e, &err) != BSP_OK) {
				rc = cli_fail_err(&err);
				break;
			}
			bsp_entity_release(&e);
			rc = export_entity(st, &o, argv[i]);
		}
	} else {
		struct bsp_entity *e = NULL;
		size_t n = 0;
		if (bsp_store_entities(st, &e, &n, &err) != BSP_OK)
			rc = cli_fail_err(&err);
		for (size_t i = 0; i < n && rc == EXIT_OK; i++)
			rc = export_entity(st, &o, e[i].name);
		bsp_entities_free(e, n);
	}
	if (o.json)
		printf("]\n");
	bsp_store_close(st);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = cli_fail(BSP_EIO, "export: cannot write the output");
	return rc;
}
