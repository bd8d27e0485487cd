/*
 * bespoke demo: the main job end to end on a synthetic fleet. It generates
 * users from the behaviour archetypes (lib/demo), stores them, and shows
 * what every stage that exists makes of them. Each stage adds its step
 * here, so the demo always shows the whole pipeline.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bespoke/persona.h"
#include "bespoke/profile.h"
#include "cli.h"
#include "cli_alloc.h"

static const char usage_text[] =
	"usage: bespoke demo [options]\n\n"
	"Generates a fleet of users from documented behaviour archetypes\n"
	"(office hours, nightly batch, ML training, always-on service, data\n"
	"analysis, CI, ...), stores it, and runs the pipeline on it.\n"
	"Deterministic: the same options give the same fleet; running it\n"
	"twice stores nothing new.\n\n"
	"  --users N     fleet size (24)\n"
	"  --days N      days of history (28)\n"
	"  --step DUR    sampling step (5m)\n"
	"  --seed N      random seed (1)\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *attr(const struct bsp_entity *e, const char *key)
{
	for (size_t i = 0; i < e->n_attrs; i++)
		if (!strcmp(e->attr_keys[i], key))
			return e->attr_values[i];
	return "-";
}

/* Step 1: generate and store the fleet. */
static int demo_generate(struct bsp_store *st,
			 const struct bsp_demo_options *opt)
{
	struct bsp_batch *b = bsp_batch_new();
	struct bsp_write_stats ws = {0};
	struct bsp_error err = {0};
	uint64_t samples = 0, events = 0;
	double t0 = now_s();

	if (!b)
		return cli_fail(BSP_ENOMEM, "out of memory");
	for (size_t u = 0; u < opt->users; u++) {
		bsp_batch_clear(b);
		if (bsp_demo_user(opt, u, b, &err) != BSP_OK ||
		    bsp_store_write(st, b, &ws, &err) != BSP_OK) {
			bsp_batch_free(b);
			return cli_fail_err(&err);
		}
		samples += bsp_batch_n_samples(b);
		events += bsp_batch_n_events(b);
	}
	bsp_batch_free(b);
	printf("== 1. telemetry: generated %zu users, %llu samples, %llu app "
	       "events in %.2f s\n"
	       "   stored %llu new samples (%llu unchanged), %llu new events\n\n",
	       opt->users, (unsigned long long)samples,
	       (unsigned long long)events, now_s() - t0,
	       (unsigned long long)ws.samples_new,
	       (unsigned long long)ws.samples_same,
	       (unsigned long long)ws.events_new);
	return EXIT_OK;
}

/* Step 2: what the store holds. */
static int demo_store(struct bsp_store *st)
{
	struct bsp_entity *e = NULL;
	struct bsp_store_stats s;
	struct bsp_error err = {0};
	size_t n = 0;

	if (bsp_store_entities(st, &e, &n, &err) != BSP_OK ||
	    bsp_store_stats(st, &s, &err) != BSP_OK) {
		bsp_entities_free(e, n);
		return cli_fail_err(&err);
	}
	printf("== 2. store: %lld entities, %lld series, %lld samples in "
	       "%lld chunks (%.2f bytes/sample), %lld events\n",
	       (long long)s.entities, (long long)s.series,
	       (long long)s.samples, (long long)s.chunks,
	       s.samples ? (double)s.chunk_bytes / (double)s.samples : 0.0,
	       (long long)s.events);
	printf("   %-22s %-18s %-16s %5s %6s %8s %7s\n", "ENTITY", "ARCHETYPE",
	       "PERSONA HINT", "CORES", "MEM", "SAMPLES", "EVENTS");
	for (size_t i = 0; i < n; i++)
		printf("   %-22s %-18s %-16s %5s %6s %8lld %7lld\n", e[i].name,
		       attr(&e[i], "archetype"), attr(&e[i], "persona_hint"),
		       attr(&e[i], "provisioned_cores"),
		       attr(&e[i], "provisioned_mem_mib"),
		       (long long)e[i].n_samples, (long long)e[i].n_events);
	printf("\n");
	bsp_entities_free(e, n);
	return EXIT_OK;
}

struct demo_train {
	const char *db;
	struct bsp_entity *e;
	size_t failed;
};

static int demo_train_one(size_t i, void *ud)
{
	struct demo_train *t = ud;
	struct bsp_store *st = NULL;
	int r = bsp_store_open(&st, t->db, 0, NULL) != BSP_OK ||
		bsp_profile_train(st, t->e[i].name, NULL, NULL, NULL, NULL) !=
			BSP_OK;
	bsp_store_close(st);
	return r;
}

/* Step 3: fit forecasters for every user (all cores). The profiles,
 * behaviour included, are kept in `profiles` for step 4. */
static int demo_predict(struct cli *cli, struct bsp_store *st,
			const struct bsp_profile_options *popt,
			json_t *profiles)
{
	struct bsp_entity *e = NULL;
	struct bsp_error err = {0};
	struct demo_train t = {0};
	size_t n = 0, failed;
	double t0 = now_s();

	if (bsp_store_entities(st, &e, &n, &err) != BSP_OK)
		return cli_fail_err(&err);
	t.db = cli->db;
	t.e = e;
	failed = bsp_parallel_for(n, 0, demo_train_one, &t);
	printf("== 3. predict: fitted forecasters for %zu users (%zu failed) "
	       "in %.2f s, chosen per series by backtests\n",
	       n - failed, failed, now_s() - t0);
	printf("   next 24 h, per user: CPU (cores) and memory (MiB) at p50 "
	       "and p95 at the predicted daily peak\n");
	printf("   %-22s %-10s %6s %6s %5s  %-10s %8s %8s %5s  %s\n", "ENTITY",
	       "CPU MODEL", "P50", "P95", "HOUR", "MEM MODEL", "P50", "P95",
	       "HOUR", "CPU MASE");
	for (size_t i = 0; i < n; i++) {
		char *json = NULL;
		json_t *doc, *cpu, *mem;
		if (bsp_profile_build(st, e[i].name, popt, 1, &json, NULL,
				      &err) != BSP_OK) {
			printf("   %-22s %s\n", e[i].name, err.msg);
			continue;
		}
		doc = json_loads(json, 0, NULL);
		json_array_append(profiles, doc);
		cpu = json_object_get(json_object_get(doc, "metrics"),
				      "cpu_usage");
		mem = json_object_get(json_object_get(doc, "metrics"),
				      "mem_usage");
#define PK(m, k) json_number_value(json_object_get(json_object_get(m, "daily_peak"), k))
#define MODEL(m) json_string_value(json_object_get(json_object_get(m, "model"), "name"))
		printf("   %-22s %-10s %6.2f %6.2f %5lld  %-10s %8.0f %8.0f "
		       "%5lld  %.2f\n",
		       e[i].name, MODEL(cpu), PK(cpu, "value"), PK(cpu, "p95"),
		       (long long)json_integer_value(json_object_get(
			       json_object_get(cpu, "daily_peak"), "hour_utc")),
		       MODEL(mem), PK(mem, "value"), PK(mem, "p95"),
		       (long long)json_integer_value(json_object_get(
			       json_object_get(mem, "daily_peak"), "hour_utc")),
		       json_number_value(json_object_get(
			       json_object_get(json_object_get(cpu, "model"),
					       "backtest"),
			       "mase")));
#undef PK
#undef MODEL
		json_decref(doc);
		free(json);
	}
	printf("   (profiles stored as versioned documents; `bespoke predict "
	       "ENTITY --json` shows one whole)\n\n");
	bsp_entities_free(e, n);
	return EXIT_OK;
}

/* "a 62%, b 20%, c 9%": the first k names of a [{"name","p"}] list. */
static void top_names(json_t *arr, size_t k, char *buf, size_t size)
{
	size_t i, len = 0;
	json_t *it;

	buf[0] = '\0';
	json_array_foreach(arr, i, it)
	{
		if (i == k || len >= size)
			break;
		len += (size_t)snprintf(
			buf + len, size - len, "%s%s %.0f%%", i ? ", " : "",
			json_string_value(json_object_get(it, "name")),
			100 * json_number_value(json_object_get(it, "p")));
	}
}

/* Step 4: how each user works, from the profiles' behaviour part, beside
 * the archetype the generator drew it from. */
static int demo_understand(struct bsp_store *st, json_t *profiles)
{
	struct bsp_entity *e = NULL;
	struct bsp_error err = {0};
	size_t n = 0, i, scored = 0, right = 0;
	json_t *doc;

	if (bsp_store_entities(st, &e, &n, &err) != BSP_OK)
		return cli_fail_err(&err);
	printf("== 4. understand: persona (from usage shapes and launches), "
	       "next application, what to pre-load for the coming day\n");
	printf("   %-22s %-16s %5s %-16s %-12s %s\n", "ENTITY", "PERSONA", "P",
	       "ARCHETYPE", "NEXT APP", "COMING DAY");
	json_array_foreach(profiles, i, doc)
	{
		json_t *b = json_object_get(doc, "behaviour");
		json_t *top = json_array_get(json_object_get(b, "personas"), 0);
		json_t *apps = json_object_get(b, "apps");
		json_t *next = json_array_get(json_object_get(apps, "next"), 0);
		const char *name = json_string_value(
			json_object_get(doc, "entity"));
		const char *truth = "-", *who = json_string_value(
					     json_object_get(top, "name"));
		char day[128];
		for (size_t j = 0; j < n; j++)
			if (!strcmp(e[j].name, name))
				truth = attr(&e[j], "persona_hint");
		if (who && strcmp(truth, "-")) {
			scored++;
			right += !strcmp(who, truth);
		}
		top_names(json_object_get(apps, "coming_day"), 3, day,
			  sizeof(day));
		printf("   %-22s %-16s %5.2f %-16s %-12s %s\n", name,
		       who ? who : "-",
		       json_number_value(json_object_get(top, "p")), truth,
		       next ? json_string_value(json_object_get(next, "name"))
			    : "-",
		       *day ? day : "-");
	}
	if (scored)
		printf("   persona = archetype for %zu of %zu users\n", right,
		       scored);
	printf("\n");
	bsp_entities_free(e, n);
	return EXIT_OK;
}

/* Sums the coming hour's CPU and memory over the fleet. */
static bsp_err add_resize(const char *entity, const struct cli_resize_fleet *f,
			  const struct cli_resize_res *d, json_t *doc,
			  int64_t version, const double *prev, void *ud,
			  struct bsp_error *err)
{
	double *sum = ud;

	(void)entity;
	(void)f;
	(void)doc;
	(void)version;
	(void)prev;
	(void)err;
	for (int r = 0; r < 2; r++)
		if (d[r].has && isfinite(d[r].next))
			sum[r] += d[r].next;
	return BSP_OK;
}

/* Step 5: the cheapest machine per user for the medium tier, from the
 * profiles of step 3, against the size the generator provisioned; then
 * the coming hour in place, as `bespoke resize --all` sizes it. */
static int demo_allocate(struct cli *cli, struct bsp_store *st,
			 json_t *profiles)
{
	struct cli_alloc a;
	struct bsp_error err = {0};
	double total = 0, total_cur = 0, have[2] = {0, 0}, next[2] = {0, 0};
	size_t i, n = 0;
	json_t *doc;
	int rc;

	cli_alloc_init(&a);
	if ((rc = cli_alloc_load(&a)))
		return rc;
	printf("== 5. allocate: the cheapest shape covering each user's p95 "
	       "peak over the next day (tier %s), against what it was given\n",
	       a.tier_name);
	printf("   %-22s %-18s %6s %7s %8s %7s  %-18s %8s\n", "ENTITY",
	       "SHAPE", "VCPU", "GIB", "$/H", "RISK", "PROVISIONED", "$/H");
	json_array_foreach(profiles, i, doc)
	{
		const char *name = json_string_value(
			json_object_get(doc, "entity"));
		struct bsp_alloc_demand d = {0};
		struct bsp_alloc_override ov;
		struct bsp_alloc_rec rec;
		int found;
		char *text = json_dumps(doc, JSON_COMPACT);
		if (!text ||
		    cli_alloc_recommend_json(st, a.cat, a.pol, a.tier, 0, name,
					     text, BSP_TIME_NONE, &d, &ov,
					     &found, &rec, &err)) {
			printf("   %-22s %s\n", name,
			       err.msg[0] ? err.msg : "out of memory");
			free(text);
			bsp_alloc_demand_release(&d);
			continue;
		}
		free(text);
		char cur_price[32] = "-";
		if (rec.has_current)
			snprintf(cur_price, sizeof(cur_price), "%.4f",
				 rec.current.price_hour);
		printf("   %-22s %-18s %6.0f %7.1f %8.4f %6.2f%%  %-18s %8s\n",
		       name, rec.choice.name, rec.choice.have[BSP_RES_CPU],
		       rec.choice.have[BSP_RES_MEM], rec.choice.price_hour,
		       100 * rec.violation_any,
		       rec.has_current ? rec.current.name : "-", cur_price);
		total += rec.choice.price_hour;
		have[0] += rec.choice.have[BSP_RES_CPU];
		have[1] += rec.choice.have[BSP_RES_MEM];
		if (rec.has_current)
			total_cur += rec.current.price_hour;
		n++;
		bsp_alloc_demand_release(&d);
	}
	if (n && total_cur > 0)
		printf("   fleet: $%.2f/h as recommended, $%.2f/h as "
		       "provisioned (%.0f%% %s); RISK is the expected share "
		       "of hours some resource runs short\n",
		       total, total_cur, 100 * fabs(1 - total / total_cur),
		       total <= total_cur ? "less" : "more");
	printf("   (`bespoke recommend ENTITY` explains a choice; `bespoke "
	       "plan ENTITY --horizon 7d` scales it over time)\n");
	struct cli_resize z = {.pol = a.pol, .at = BSP_TIME_NONE};
	if (cli_resize_run(cli->db, st, &z, NULL, 0, add_resize, next,
			   &err) == BSP_OK)
		printf("   in place for the coming hour (`bespoke resize "
		       "--all`): %.1f vCPU and %.1f GiB for the fleet, against "
		       "%.0f vCPU and %.1f GiB in the shapes above\n",
		       next[0], next[1], have[0], have[1]);
	else
		printf("   resize: %s\n", err.msg);
	printf("\n");
	cli_alloc_release(&a);
	return EXIT_OK;
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"users", required_argument, NULL, 'u'},
		{"days", required_argument, NULL, 'd'},
		{"step", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	struct bsp_demo_options opt = {0};
	struct bsp_store *st;
	long long v;
	int c, rc;

	opt.users = 24;
	opt.duration = 28 * BSP_DAY;
	opt.step = 5 * BSP_MINUTE;
	opt.seed = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'u':
			if ((rc = cli_size("users", optarg, 1, 100000, &v)))
				return rc;
			opt.users = (size_t)v;
			break;
		case 'd':
			if ((rc = cli_size("days", optarg, 1, 3650, &v)))
				return rc;
			opt.duration = v * BSP_DAY;
			break;
		case 's':
			if ((rc = cli_duration("step", optarg, &opt.step)))
				return rc;
			break;
		case 'S':
			if ((rc = cli_size("seed", optarg, 0, INT64_MAX, &v)))
				return rc;
			opt.seed = (uint64_t)v;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind < argc)
		return cli_fail(BSP_EINVAL, "demo: unexpected argument '%s'",
				argv[optind]);
	if ((rc = cli_open(cli, BSP_OPEN_CREATE, &st)))
		return rc;
	printf("bespoke demo: %zu users, %lld days at %lld s steps, seed "
	       "%llu, store %s\n\n",
	       opt.users, (long long)(opt.duration / BSP_DAY),
	       (long long)(opt.step / BSP_SECOND),
	       (unsigned long long)opt.seed, cli->db);
	rc = demo_generate(st, &opt);
	if (rc == EXIT_OK)
		rc = demo_store(st);
	/* The shipped persona catalog, when it is found, gives step 4 its
	 * personas. */
	struct bsp_profile_options popt;
	struct bsp_persona_catalog *cat = NULL;
	struct bsp_error err = {0};
	char path[PATH_MAX + 64];
	json_t *profiles = json_array();
	bsp_profile_options_init(&popt);
	if (!cli_data_file(NULL, "personas.yaml", path, sizeof(path)) &&
	    bsp_persona_catalog_load(path, &cat, &err) == BSP_OK)
		popt.personas = cat;
	if (rc == EXIT_OK)
		rc = demo_predict(cli, st, &popt, profiles);
	if (rc == EXIT_OK)
		rc = demo_understand(st, profiles);
	if (rc == EXIT_OK)
		rc = demo_allocate(cli, st, profiles);
	json_decref(profiles);
	bsp_persona_catalog_free(cat);
	bsp_store_close(st);
	return rc;
}
