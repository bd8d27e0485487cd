/*
 * bespoke simulate: replays stored traces through the allocation policies
 * (bespoke, vpa, autopilot, provisioned, reactive, forecast) and prints, per
 * policy and resource, the violation rate, slack, cost and changes per day;
 * with
 * --export, one policy's allocations as CSV `entity,metric,ts,alloc` so
 * that anyone can score them again. The method is in docs/simulate.md.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/sim.h"
#include "cli.h"

static const char usage_text[] =
    "usage: bespoke simulate --from TIME --until TIME [options]\n\n"
    "Replays the stored usage: at each step every policy sizes each\n"
    "resource from the samples before the step only, then the samples in\n"
    "the step are scored against it.\n\n"
    "  --from TIME, --until TIME  the replay (decisions from --from on)\n"
    "  --step DUR            decision step (1h)\n"
    "  --policy a,b          bespoke,vpa,autopilot,provisioned,reactive,\n"
    "                        forecast (all)\n"
    "  --metrics a,b         cpu,mem (both)\n"
    "  --entities a,b|all    (all)\n"
    "  --history DUR         data before --from the policies read (8w)\n"
    "  --export FILE.csv     write entity,metric,ts,alloc of one policy\n"
    "  --export-policy NAME  the policy --export writes (bespoke, or the\n"
    "                        first of --policy)\n"
    "  --price-vcpu USD      per vCPU-hour (0.0350)\n"
    "  --price-gib USD       per GiB-hour (0.00346)\n"
    "  --mhz-per-vcpu MHZ    CPU in MHz without the trace's own cores "
    "(2500)\n"
    "  --target RATE         conformal level of bespoke (0.004) and\n"
    "                        forecast (0.003)\n"
    "  --calib-days N        days of scores they calibrate on (14)\n"
    "  --refit DUR           forecast: refit period (7d)\n"
    "  --shifts N            forecast: parts of the day calibrated apart "
    "(3)\n"
    "  --hold N              reactive: steps under 40% before scaling "
    "down (6)\n"
    "  --threads N           (all cores)\n";

/* Splits a comma list in place; calls fn on each item (0 or an exit). */
static int each_item(char *list, const char *opt,
		     int (*fn)(const char *item, const char *opt, void *ud),
		     void *ud)
{
	char *p = list;
	int rc;

	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (!*p)
			return cli_fail(BSP_EINVAL, "--%s: empty name in '%s'",
					opt, list);
		if ((rc = fn(p, opt, ud)))
			return rc;
		if (!comma)
			return EXIT_OK;
		p = comma + 1;
	}
}

static int add_policy(const char *item, const char *opt, void *ud)
{
	int p = bsp_sim_policy_find(item);
	int *first = (int *)ud + 1;

	if (p < 0)
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a policy (bespoke, vpa, "
				"autopilot, provisioned, reactive, forecast)",
				opt, item);
	*(unsigned *)ud |= 1u << p;
	if (*first < 0)
		*first = p;
	return EXIT_OK;
}

static int add_resource(const char *item, const char *opt, void *ud)
{
	int r = bsp_sim_resource_find(item);

	if (r < 0)
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a resource (cpu, mem)", opt,
				item);
	*(unsigned *)ud |= 1u << r;
	return EXIT_OK;
}

struct names {
	const char **v;
	size_t n, cap;
};

static int add_name(const char *item, const char *opt, void *ud)
{
	struct names *n = ud;

	(void)opt;
	if (n->n == n->cap) {
		size_t c = n->cap ? 2 * n->cap : 16;
		const char **v = realloc(n->v, c * sizeof(*v));
		if (!v)
			return cli_fail(BSP_ENOMEM, "out of memory");
		n->v = v;
		n->cap = c;
	}
	n->v[n->n++] = item;
	return EXIT_OK;
}

static int parse_double(const char *opt, const char *arg, double lo, double hi,
			double *out)
{
	char *end;

	*out = strtod(arg, &end);
	if (end == arg || *end || !(*out > lo) || !(*out < hi))
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a number above %g and below "
				"%g",
				opt, arg, lo, hi);
	return EXIT_OK;
}

static void progress(size_t done, size_t total, void *ud)
{
	(void)ud;
	fprintf(stderr, "\rsimulate: %zu/%zu entities", done, total);
	if (done == total)
		fputc('\n', stderr);
}

static void print_table(const struct bsp_sim_result *res)
{
	char a[40], b[40];

	printf("replay %s .. %s, step %llds: %zu entities, %zu steps, "
	       "%.1f s\n",
	       bsp_time_format(res->from, a, sizeof(a)),
	       bsp_time_format(res->until, b, sizeof(b)),
	       (long long)(res->step / BSP_SECOND), res->n_entities,
	       res->n_steps, res->seconds);
	printf("%-12s %-4s %10s %8s %8s %6s %12s %12s %9s\n", "policy", "res",
	       "violation", "slack", "slack>=0", "under", "cost_usd",
	       "changes/day", "entities");
	for (size_t i = 0; i < res->n_rows; i++) {
		const struct bsp_sim_row *r = &res->rows[i];
		printf("%-12s %-4s %9.3f%% %8.3f %8.3f %5.1f%% %12.2f %12.2f "
		       "%9zu\n",
		       bsp_sim_policy_name((size_t)r->policy),
		       bsp_sim_resource_name((size_t)r->resource),
		       100 * r->violation_rate, r->slack, r->slack_clipped,
		       r->entity_days ? 100.0 * (double)r->under_days /
					    (double)r->entity_days
				      : 0.0,
		       r->cost, r->changes_per_day, r->entities);
	}
	printf("prices: $%g per vCPU-hour, $%g per GiB-hour\n",
	       res->price_vcpu_hour, res->price_gib_hour);
}

/* NaN (no data) as JSON null. */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static int print_json(const struct bsp_sim_result *res)
{
	json_t *root = json_object(), *rows = json_array();
	char a[40], b[40];
	char *text;

	json_object_set_new(
	    root, "from",
	    json_string(bsp_time_format(res->from, a, sizeof(a))));
	json_object_set_new(
	    root, "until",
	    json_string(bsp_time_format(res->until, b, sizeof(b))));
	json_object_set_new(root, "step_seconds",
			    json_integer(res->step / BSP_SECOND));
	json_object_set_new(root, "steps",
			    json_integer((json_int_t)res->n_steps));
	json_object_set_new(root, "entities",
			    json_integer((json_int_t)res->n_entities));
	json_object_set_new(root, "skipped",
			    json_integer((json_int_t)res->n_skipped));
	json_object_set_new(root, "seconds", json_real(res->seconds));
	json_object_set_new(root, "price_vcpu_hour",
			    json_real(res->price_vcpu_hour));
	json_object_set_new(root, "price_gib_hour",
			    json_real(res->price_gib_hour));
	for (size_t i = 0; i < res->n_rows; i++) {
		const struct bsp_sim_row *r = &res->rows[i];
		json_t *o = json_object();
		json_object_set_new(
		    o, "policy",
		    json_string(bsp_sim_policy_name((size_t)r->policy)));
		json_object_set_new(
		    o, "resource",
		    json_string(bsp_sim_resource_name((size_t)r->resource)));
		json_object_set_new(
		    o, "metric",
		    json_string(bsp_sim_resource_metric((size_t)r->resource)));
		json_object_set_new(o, "entities",
				    json_integer((json_int_t)r->entities));
		json_object_set_new(o, "points",
				    json_integer((json_int_t)r->points));
		json_object_set_new(o, "violations",
				    json_integer((json_int_t)r->violations));
		json_object_set_new(o, "violation_rate",
				    num(r->violation_rate));
		json_object_set_new(o, "entity_days",
				    json_integer((json_int_t)r->entity_days));
		json_object_set_new(o, "slack", num(r->slack));
		json_object_set_new(o, "slack_clipped", num(r->slack_clipped));
		json_object_set_new(o, "under_days",
				    json_integer((json_int_t)r->under_days));
		json_object_set_new(o, "cost_usd", num(r->cost));
		json_object_set_new(
		    o, r->resource == BSP_SIM_CPU ? "vcpu_hours" : "gib_hours",
		    num(r->vcpu_hours));
		json_object_set_new(o, "changes",
				    json_integer((json_int_t)r->changes));
		json_object_set_new(o, "changes_per_day",
				    num(r->changes_per_day));
		json_array_append_new(rows, o);
	}
	json_object_set_new(root, "rows", rows);
	text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (!text)
		return cli_fail(BSP_ENOMEM, "out of memory");
	puts(text);
	free(text);
	return EXIT_OK;
}

static int write_export(const char *path, const struct bsp_sim_result *res)
{
	FILE *f = fopen(path, "w");
	char ts[32], v[40];

	if (!f)
		return cli_fail(BSP_EIO, "--export: cannot write %s", path);
	fputs("entity,metric,ts,alloc\n", f);
	for (size_t i = 0; i < res->n_traces; i++) {
		const struct bsp_sim_trace *t = &res->traces[i];
		for (size_t k = 0; k < res->n_steps; k++) {
			cli_fmt_epoch(res->from + (bsp_time)k * res->step, ts,
				      sizeof(ts));
			if (isnan(t->alloc[k]))
				v[0] = '\0'; /* no decision: an empty field */
			else
				cli_fmt_double(t->alloc[k], v, sizeof(v));
			fprintf(f, "%s,%s,%s,%s\n", t->entity, t->metric, ts,
				v);
		}
	}
	if (fclose(f) != 0)
		return cli_fail(BSP_EIO, "--export: cannot write %s", path);
	return EXIT_OK;
}

int cmd_simulate(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    {"from", required_argument, NULL, 'F'},
	    {"until", required_argument, NULL, 'U'},
	    {"step", required_argument, NULL, 's'},
	    {"policy", required_argument, NULL, 'p'},
	    {"policies", required_argument, NULL, 'p'},
	    {"metrics", required_argument, NULL, 'm'},
	    {"entities", required_argument, NULL, 'e'},
	    {"history", required_argument, NULL, 'H'},
	    {"export", required_argument, NULL, 'x'},
	    {"export-policy", required_argument, NULL, 'X'},
	    {"price-vcpu", required_argument, NULL, 'c'},
	    {"price-gib", required_argument, NULL, 'g'},
	    {"mhz-per-vcpu", required_argument, NULL, 'z'},
	    {"target", required_argument, NULL, 't'},
	    {"refit", required_argument, NULL, 'r'},
	    {"calib-days", required_argument, NULL, 'd'},
	    {"shifts", required_argument, NULL, 'S'},
	    {"hold", required_argument, NULL, 'o'},
	    {"threads", required_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	struct bsp_sim_options opt;
	struct bsp_sim_result res;
	struct bsp_error err = {0};
	struct names ents = {0};
	const char *export = NULL, *export_policy = NULL;
	int pol[2] = {0, -1}; /* mask, first named */
	long long ll;
	int c, rc = EXIT_OK;

	bsp_sim_options_init(&opt);
	opt.from = opt.until = BSP_TIME_NONE;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			goto out;
		case 'F':
			rc = cli_time("from", optarg, &opt.from);
			break;
		case 'U':
			rc = cli_time("until", optarg, &opt.until);
			break;
		case 's':
			rc = cli_duration("step", optarg, &opt.step);
			break;
		case 'p':
			rc = each_item(optarg, "policy", add_policy, pol);
			break;
		case 'm':
			rc = each_item(optarg, "metrics", add_resource,
				       &opt.resources);
			break;
		case 'e':
			ents.n = 0;
			if (strcmp(optarg, "all"))
				rc = each_item(optarg, "entities", add_name,
					       &ents);
			break;
		case 'H':
			rc = cli_duration("history", optarg, &opt.history);
			break;
		case 'x':
			export = optarg;
			break;
		case 'X':
			export_policy = optarg;
			break;
		case 'c':
			rc = parse_double("price-vcpu", optarg, 0, 1e6,
					  &opt.price_vcpu_hour);
			break;
		case 'g':
			rc = parse_double("price-gib", optarg, 0, 1e6,
					  &opt.price_gib_hour);
			break;
		case 'z':
			rc = parse_double("mhz-per-vcpu", optarg, 0, 1e7,
					  &opt.mhz_per_vcpu);
			break;
		case 't':
			rc =
			    parse_double("target", optarg, 0, 0.5, &opt.target);
			break;
		case 'r':
			rc = cli_duration("refit", optarg, &opt.refit);
			break;
		case 'd':
			if (!(rc = cli_size("calib-days", optarg, 1, 365, &ll)))
				opt.calib_days = (size_t)ll;
			break;
		case 'S':
			if (!(rc = cli_size("shifts", optarg, 1, 24, &ll)))
				opt.shifts = (size_t)ll;
			break;
		case 'o':
			if (!(rc = cli_size("hold", optarg, 1, 10000, &ll)))
				opt.hold = (size_t)ll;
			break;
		case 'T':
			if (!(rc = cli_size("threads", optarg, 1, 64, &ll)))
				opt.threads = (unsigned)ll;
			break;
		default:
			rc = EXIT_USER;
		}
		if (rc)
			goto out;
	}
	if (optind < argc) {
		rc = cli_fail(BSP_EINVAL,
			      "simulate: unexpected argument '%s' (entities "
			      "go in --entities a,b)",
			      argv[optind]);
		goto out;
	}
	if (opt.from == BSP_TIME_NONE || opt.until == BSP_TIME_NONE) {
		rc = cli_fail(BSP_EINVAL,
			      "simulate: --from TIME and --until TIME are "
			      "required");
		goto out;
	}
	if (opt.until <= opt.from) {
		rc = cli_fail(BSP_EINVAL, "--until: must be after --from");
		goto out;
	}
	opt.policies = (unsigned)pol[0];
	if (export) {
		if (export_policy)
			opt.keep = bsp_sim_policy_find(export_policy);
		else if (!opt.policies ||
			 (opt.policies & 1u << BSP_SIM_BESPOKE))
			opt.keep = BSP_SIM_BESPOKE;
		else
			opt.keep = pol[1];
		if (opt.keep < 0 ||
		    (opt.policies && !(opt.policies & (1u << opt.keep)))) {
			rc = cli_fail(BSP_EINVAL,
				      "--export-policy: '%s' is not one of the "
				      "policies simulated",
				      export_policy);
			goto out;
		}
	} else if (export_policy) {
		rc = cli_fail(BSP_EINVAL,
			      "--export-policy: needs --export FILE.csv");
		goto out;
	}
	opt.entities = ents.v;
	opt.n_entities = ents.n;
	if (cli->tty && !cli->json)
		opt.progress = progress;
	if (bsp_sim_run(cli->db, &opt, &res, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (cli->json)
		rc = print_json(&res);
	else
		print_table(&res);
	if (!rc && export)
		rc = write_export(export, &res);
	bsp_sim_result_release(&res);
	if (!rc && fflush(stdout) != 0)
		rc = cli_fail(BSP_EIO, "simulate: cannot write the output");
out:
	free(ents.v);
	return rc;
}
