/*
 * bespoke resize ENTITY... | --all: each entity's CPU and memory for the
 * coming hour, decided as the simulator's bespoke policy decides
 * (docs/simulate.md): the largest sample of the last 24 hours times one
 * factor for the whole fleet, the conformal quantile of every entity's
 * scores of the days before, falling only by more than 10%. The decision
 * is the simulator's own, a replay of the last hours by the same code, so
 * what `simulate` scored is what `resize` does. The policy's minimum and
 * maximum and an administrator's override win. Each decision is stored as
 * a `resize` document; --format k8s writes requests and limits, --format
 * virsh the commands that resize a libvirt domain in place.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/sim.h"
#include "cli_alloc.h"

static const char usage_text[] =
    "usage: bespoke resize ENTITY... | --all [options]\n\n"
    "CPU and memory for the coming hour: the largest sample of the last\n"
    "24 hours times one factor calibrated on the whole fleet, as the\n"
    "simulator's bespoke policy sizes; docs/resize.md.\n\n"
    "  --all              every entity\n"
    "  --at TIME          decide the hour that contains TIME (default:\n"
    "                     the hour after the fleet's newest sample)\n"
    "  --target RATE      share of samples allowed above the allocation\n"
    "                     over the fleet (0.0035)\n"
    "  --calib-days N     days of scores the factor comes from (14)\n"
    "  --policy FILE      tiers and policies (the shipped policy.yaml)\n"
    "  --use NAME         the policy whose min and max apply (default)\n"
    "  --mhz-per-vcpu N   CPU MHz per vCPU when the entity does not say\n"
    "  --format k8s       Kubernetes resources (requests and limits)\n"
    "  --format virsh     virsh commands resizing each domain in place\n"
    "  --no-store         do not store the decisions\n"
    "  --json             the decisions as JSON\n";

static const char *const res_key[BSP_SIM_N_RESOURCES] = {"cpu", "memory"};
static const char *const res_unit[BSP_SIM_N_RESOURCES] = {"vCPU", "GiB"};

/* The hour the decision is for: the one containing `at`, or the one after
 * the newest usage sample of the fleet. */
static bsp_err decision_hour(struct bsp_store *st, bsp_time at, bsp_time *out,
			     struct bsp_error *err)
{
	struct bsp_series *s = NULL;
	bsp_time newest = BSP_TIME_NONE;
	size_t n = 0;
	bsp_err rc;

	if (at != BSP_TIME_NONE) {
		*out = bsp_time_floor(at, BSP_HOUR);
		return BSP_OK;
	}
	if ((rc = bsp_store_series(st, NULL, &s, &n, err)) != BSP_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((!strcmp(s[i].metric, "cpu_usage") ||
		     !strcmp(s[i].metric, "mem_usage")) &&
		    s[i].n_samples > 0 &&
		    (newest == BSP_TIME_NONE || s[i].last > newest))
			newest = s[i].last;
	bsp_series_free(s, n);
	if (newest == BSP_TIME_NONE)
		return bsp_error_set(err, BSP_ENOTFOUND,
				     "resize: the store has no cpu_usage or "
				     "mem_usage samples");
	*out = bsp_time_floor(newest, BSP_HOUR) + BSP_HOUR;
	return BSP_OK;
}

/* The largest usage sample of [t - 1 day, t), in the metric's unit. */
static double last_day_peak(struct bsp_store *st, const char *entity,
			    const char *metric, bsp_time t)
{
	struct bsp_series s = {0};
	bsp_time *ts = NULL;
	double *v = NULL, peak = NAN;
	size_t n = 0;

	if (bsp_store_series_find(st, entity, metric, NULL, &s, NULL) ==
		BSP_OK &&
	    bsp_store_read(st, s.id, t - BSP_DAY, t, &ts, &v, &n, NULL) ==
		BSP_OK)
		for (size_t i = 0; i < n; i++)
			if (isfinite(v[i]) && !(v[i] <= peak))
				peak = v[i];
	free(ts);
	free(v);
	bsp_series_release(&s);
	return peak;
}

/* An allocation within the policy's bounds (0 = none), the override's
 * value (NaN = none) winning. */
static double bounded(double v, double lo, double hi, double ovv)
{
	if (isfinite(ovv))
		return ovv;
	if (isfinite(v) && lo > 0 && v < lo)
		v = lo;
	if (isfinite(v) && hi > 0 && v > hi)
		v = hi;
	return v;
}

/* The override's value for a simulator resource; NaN without one. */
static double override_value(const struct bsp_alloc_override *ov, int r)
{
	return ov ? ov->value[r == BSP_SIM_CPU ? BSP_RES_CPU : BSP_RES_MEM]
		  : NAN;
}

/* The simulator's decision for one trace, with the policy's bounds and
 * the override over it: for the hour decided (`ov`, in force at t) and
 * for the hour before (`ov_before`, in force an hour earlier), so that the
 * allocation in force is what was applied then. */
static void decide(struct bsp_store *st, const char *entity,
		   const struct bsp_sim_trace *tr, double factor,
		   const struct bsp_alloc_policy *pol,
		   const struct bsp_alloc_override *ov,
		   const struct bsp_alloc_override *ov_before, bsp_time t,
		   struct cli_resize_res *d)
{
	int r = tr->resource;
	double lo = r == BSP_SIM_CPU ? pol->min.vcpu : pol->min.memory_gib;
	double hi = r == BSP_SIM_CPU ? pol->max.vcpu : pol->max.memory_gib;
	double ovv = override_value(ov, r), v;
	double peak = last_day_peak(st, entity, tr->metric, t);

	/* the simulator's smallest allocation */
	double least = tr->min_alloc * tr->per_unit;
	double base;

	d->has = 1;
	d->in_force = tr->alloc[0] * tr->per_unit;
	d->next = tr->alloc[1] * tr->per_unit;
	d->base = peak * tr->per_unit;
	base = d->base > least ? d->base : least;
	if (isnan(d->next))
		snprintf(d->why, sizeof(d->why),
			 "no decision: no samples in the last day, or no "
			 "score in the fleet's calibration window");
	else if (isnan(d->base))
		snprintf(d->why, sizeof(d->why),
			 "kept: no samples in the last day");
	else if (d->next > factor * base * (1 + 1e-9))
		snprintf(d->why, sizeof(d->why),
			 "held: the last day's peak x %.4f (%.4g %s) is not "
			 "10%% below the allocation in force",
			 factor, factor * base, res_unit[r]);
	else if (!(d->base > least))
		snprintf(d->why, sizeof(d->why),
			 "the smallest allocation, %g %s, x the fleet's "
			 "factor %.4f",
			 least, res_unit[r], factor);
	else
		snprintf(d->why, sizeof(d->why),
			 "the last day's peak %.4g %s x the fleet's factor "
			 "%.4f",
			 d->base, res_unit[r], factor);
	d->in_force =
	    bounded(d->in_force, lo, hi, override_value(ov_before, r));
	v = bounded(d->next, lo, hi, ovv);
	if (isfinite(ovv))
		snprintf(d->why, sizeof(d->why), "override v%lld: %s",
			 (long long)ov->version, ov->reason);
	else if (v > d->next)
		snprintf(d->why, sizeof(d->why), "the policy's minimum, %g %s",
			 lo, res_unit[r]);
	else if (v < d->next)
		snprintf(d->why, sizeof(d->why), "the policy's maximum, %g %s",
			 hi, res_unit[r]);
	d->next = v;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *decision_json(const char *entity,
			     const struct cli_resize_fleet *f,
			     const struct cli_resize_res *d,
			     const struct bsp_alloc_policy *pol,
			     const struct bsp_alloc_override *ov)
{
	json_t *o = json_object(), *fj = json_object();
	char ts[40];

	json_object_set_new(o, "format", json_string("bespoke-resize"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "entity", json_string(entity));
	json_object_set_new(o, "from",
			    json_string(bsp_time_format(f->t, ts, sizeof(ts))));
	json_object_set_new(
	    o, "until",
	    json_string(bsp_time_format(f->t + BSP_HOUR, ts, sizeof(ts))));
	json_object_set_new(o, "target", json_real(f->target));
	json_object_set_new(o, "calib_days",
			    json_integer((json_int_t)f->calib_days));
	json_object_set_new(o, "policy", json_string(pol->name));
	json_object_set_new(o, "override_version",
			    ov ? json_integer(ov->version) : json_null());
	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++) {
		json_t *x;
		json_object_set_new(fj, res_key[r], num_or_null(f->factor[r]));
		if (!d[r].has)
			continue;
		x = json_object();
		json_object_set_new(x, "unit", json_string(res_unit[r]));
		json_object_set_new(x, "in_force", num_or_null(d[r].in_force));
		json_object_set_new(x, "next", num_or_null(d[r].next));
		json_object_set_new(x, "last_day_peak", num_or_null(d[r].base));
		json_object_set_new(x, "why", json_string(d[r].why));
		json_object_set_new(o, res_key[r], x);
	}
	json_object_set_new(o, "factor", fj);
	return o;
}

/* The `next` of each resource in an entity's latest resize document (NaN
 * where there is none). */
static void previous_next(struct bsp_store *st, const char *entity,
			  double prev[BSP_SIM_N_RESOURCES])
{
	struct bsp_doc doc = {0};
	struct bsp_error err = {0};
	json_t *j = NULL;

	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
		prev[r] = NAN;
	if (bsp_store_doc_get(st, "resize", entity, 0, &doc, &err) != BSP_OK)
		return;
	j = json_loads(doc.body, 0, NULL);
	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++) {
		json_t *v =
		    json_object_get(json_object_get(j, res_key[r]), "next");
		if (json_is_number(v))
			prev[r] = json_number_value(v);
	}
	json_decref(j);
	bsp_doc_release(&doc);
}

bsp_err cli_resize_run(const char *db, struct bsp_store *st,
		       const struct cli_resize *o, char *const *names, size_t n,
		       cli_resize_fn fn, void *ud, struct bsp_error *err)
{
	struct bsp_sim_options opt;
	struct bsp_sim_result res = {0};
	struct bsp_entity *all = NULL;
	struct cli_resize_fleet f = {0};
	size_t n_all = 0;
	bsp_err rc;

	bsp_sim_options_init(&opt);
	f.target = o->target > 0 ? o->target : 0.0035;
	f.calib_days = o->calib_days ? o->calib_days : 14;
	if ((rc = decision_hour(st, o->at, &f.t, err)))
		return rc;
	if (!names) {
		if ((rc = bsp_store_entities(st, &all, &n_all, err)))
			return rc;
		n = n_all;
	}
	/* The replay: the hour before (the allocation in force) and the hour
	 * decided, with the history the base and the calibration read. The
	 * whole fleet runs, whatever entities were named: the factor is the
	 * fleet's. */
	opt.from = f.t - BSP_HOUR;
	opt.until = f.t + BSP_HOUR;
	opt.step = BSP_HOUR;
	opt.history = (bsp_time)(f.calib_days + 2) * BSP_DAY;
	opt.policies = 1u << BSP_SIM_BESPOKE;
	opt.keep = BSP_SIM_BESPOKE;
	opt.target = f.target;
	opt.calib_days = f.calib_days;
	opt.threads = o->threads;
	opt.mhz_per_vcpu = o->mhz > 0 ? o->mhz : o->pol->mhz_per_vcpu;
	if ((rc = bsp_sim_run(db, &opt, &res, err)))
		goto out;
	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
		f.factor[r] = res.factor[r];
	for (size_t i = 0; i < n && rc == BSP_OK; i++) {
		const char *entity = names ? names[i] : all[i].name;
		struct cli_resize_res d[BSP_SIM_N_RESOURCES] = {0};
		struct bsp_alloc_override ov, ovb;
		double prev[BSP_SIM_N_RESOURCES];
		int found = 0, found_before = 0;
		int64_t version = 0;
		char *text;
		json_t *j;

		if ((rc = bsp_alloc_override_get(st, entity, f.t, &ov, &found,
						 err)) ||
		    (rc = bsp_alloc_override_get(st, entity, f.t - BSP_HOUR,
						 &ovb, &found_before, err)))
			break;
		for (size_t k = 0; k < res.n_traces; k++) {
			const struct bsp_sim_trace *tr = &res.traces[k];
			if (!strcmp(tr->entity, entity))
				decide(st, entity, tr, f.factor[tr->resource],
				       o->pol, found ? &ov : NULL,
				       found_before ? &ovb : NULL, f.t,
				       &d[tr->resource]);
		}
		if (!d[BSP_SIM_CPU].has && !d[BSP_SIM_MEM].has) {
			rc = fn(entity, &f, d, NULL, 0, NULL, ud, err);
			continue;
		}
		previous_next(st, entity, prev);
		j = decision_json(entity, &f, d, o->pol, found ? &ov : NULL);
		text =
		    j ? json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(10))
		      : NULL;
		if (!text)
			rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		else if (o->store)
			rc = bsp_store_doc_put(st, "resize", entity, text,
					       &version, err);
		free(text);
		if (rc == BSP_OK)
			rc = fn(entity, &f, d, j, version, prev, ud, err);
		json_decref(j);
	}
out:
	bsp_entities_free(all, n_all);
	bsp_sim_result_release(&res);
	return rc;
}

/* ---- the command ----------------------------------------------------- */

static void print_k8s(const char *entity, bsp_time t,
		      const struct cli_resize_res *d)
{
	char ts[40];

	printf("# %s, %s\nresources:\n", entity,
	       bsp_time_format(t, ts, sizeof(ts)));
	if (isfinite(d[BSP_SIM_CPU].next) || isfinite(d[BSP_SIM_MEM].next)) {
		printf("  requests:\n");
		if (isfinite(d[BSP_SIM_CPU].next))
			printf("    cpu: %.0fm\n",
			       ceil(d[BSP_SIM_CPU].next * 1000));
		if (isfinite(d[BSP_SIM_MEM].next))
			printf("    memory: %.0fMi\n",
			       ceil(d[BSP_SIM_MEM].next * 1024));
	}
	/* memory is scored as a limit (above it a container is killed);
	 * CPU above its request is only throttled, as with the VPA */
	if (isfinite(d[BSP_SIM_MEM].next))
		printf("  limits:\n    memory: %.0fMi\n",
		       ceil(d[BSP_SIM_MEM].next * 1024));
}

/* virsh commands (its own shell syntax: pipe them into `virsh -c URI`)
 * that resize the domain named as the entity in place: whole vCPUs, up
 * from the decision, and memory in KiB. */
static void print_virsh(const char *entity, bsp_time t,
			const struct cli_resize_res *d)
{
	char ts[40], q[600];
	size_t k = 0;

	/* "..." with \ before " and \ */
	q[k++] = '"';
	for (const char *p = entity; *p && k < sizeof(q) - 3; p++) {
		if (*p == '"' || *p == '\\')
			q[k++] = '\\';
		q[k++] = *p;
	}
	q[k++] = '"';
	q[k] = '\0';
	printf("# %s, %s\n", entity, bsp_time_format(t, ts, sizeof(ts)));
	if (isfinite(d[BSP_SIM_CPU].next)) {
		double n = ceil(d[BSP_SIM_CPU].next - 1e-9);
		printf("setvcpus %s %.0f --live\n", q, n < 1 ? 1 : n);
	}
	if (isfinite(d[BSP_SIM_MEM].next))
		printf("setmem %s %.0f --live\n", q,
		       ceil(d[BSP_SIM_MEM].next * 1048576));
}

static void print_row(const char *entity, int r, const struct cli_resize_res *d)
{
	char a[48] = "-", b[48] = "-";

	if (isfinite(d->in_force))
		snprintf(a, sizeof(a), "%.3f %s", d->in_force, res_unit[r]);
	if (isfinite(d->next))
		snprintf(b, sizeof(b), "%.3f %s", d->next, res_unit[r]);
	printf("%-16s %-7s %-14s %-14s %s\n", entity, res_key[r], a, b, d->why);
}

enum resize_format { FMT_TABLE, FMT_K8S, FMT_VIRSH };

struct out {
	struct cli *cli;
	enum resize_format format;
	int store;
	int every; /* --all: entities without usage are skipped, not errors */
	int header, failed;
	json_t *all;
};

static bsp_err print_one(const char *entity, const struct cli_resize_fleet *f,
			 const struct cli_resize_res *d, json_t *doc,
			 int64_t version, const double *prev, void *ud,
			 struct bsp_error *err)
{
	struct out *o = ud;
	char ts[40], te[40];

	(void)prev;
	(void)err;
	if (!o->header && !o->cli->json && o->format == FMT_TABLE) {
		printf("resize for %s to %s (fleet factor: cpu %.4f, memory "
		       "%.4f; level %g%%, %zu days)\n",
		       bsp_time_format(f->t, ts, sizeof(ts)),
		       bsp_time_format(f->t + BSP_HOUR, te, sizeof(te)),
		       f->factor[BSP_SIM_CPU], f->factor[BSP_SIM_MEM],
		       100 * f->target, f->calib_days);
		printf("%-16s %-7s %-14s %-14s %s\n", "ENTITY", "RES",
		       "IN FORCE", "NEXT", "WHY");
	}
	o->header = 1;
	if (!doc && o->every)
		return BSP_OK;
	if (!doc) {
		fprintf(stderr,
			"bespoke: %s: no cpu_usage or mem_usage samples\n",
			entity);
		o->failed = EXIT_USER;
		return BSP_OK;
	}
	if (o->format == FMT_K8S) {
		print_k8s(entity, f->t, d);
	} else if (o->format == FMT_VIRSH) {
		print_virsh(entity, f->t, d);
	} else if (o->cli->json) {
		json_t *c = json_deep_copy(doc);
		if (o->store)
			json_object_set_new(c, "resize_version",
					    json_integer(version));
		json_array_append_new(o->all, c);
	} else {
		for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
			if (d[r].has)
				print_row(entity, r, &d[r]);
	}
	return BSP_OK;
}

int cmd_resize(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_ALLOC_LONGOPTS,
	    {"all", no_argument, NULL, 'A'},
	    {"target", required_argument, NULL, 't'},
	    {"calib-days", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"no-store", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_alloc a;
	struct cli_resize z = {.store = 1, .target = 0.0035, .calib_days = 14};
	struct out o = {.cli = cli};
	struct bsp_error err = {0};
	struct cli_entities ents = {0};
	struct bsp_store *st = NULL;
	long long ll;
	int c, rc, all = 0;

	cli_alloc_init(&a);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if ((rc = cli_alloc_opt(&a, c, optarg)) >= 0) {
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
		case 't': {
			char *end;
			z.target = strtod(optarg, &end);
			if (end == optarg || *end ||
			    !(z.target > 0 && z.target < 0.5))
				return cli_fail(BSP_EINVAL,
						"--target: '%s' is not a rate "
						"above 0 and below 0.5",
						optarg);
			break;
		}
		case 'd':
			if ((rc = cli_size("calib-days", optarg, 1, 365, &ll)))
				return rc;
			z.calib_days = (size_t)ll;
			break;
		case 'f':
			if (!strcmp(optarg, "k8s") ||
			    !strcmp(optarg, "kubernetes"))
				o.format = FMT_K8S;
			else if (!strcmp(optarg, "virsh"))
				o.format = FMT_VIRSH;
			else
				return cli_fail(BSP_EINVAL,
						"--format: '%s' is not k8s or "
						"virsh",
						optarg);
			break;
		case 'n':
			z.store = 0;
			break;
		default:
			return EXIT_USER;
		}
	}
	if ((rc = cli_alloc_load(&a)))
		goto done;
	if ((rc = cli_entities_get(cli, all, argc - optind, argv + optind,
				   &ents)))
		goto done;
	if ((rc = cli_open(cli, 0, &st)))
		goto done;
	z.pol = a.pol;
	z.mhz = a.mhz;
	z.at = a.popt.origin;
	o.store = z.store;
	o.every = all;
	o.all = json_array();
	if (cli_resize_run(cli->db, st, &z, ents.names, ents.n, print_one, &o,
			   &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto done;
	}
	if (cli->json && o.format == FMT_TABLE) {
		json_t *out = ents.n == 1 && json_array_size(o.all) == 1
				  ? json_array_get(o.all, 0)
				  : o.all;
		char *s =
		    json_dumps(out, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		if (s && (ents.n != 1 || json_array_size(o.all)))
			printf("%s\n", s);
		free(s);
	}
	if (z.store && !cli->json && o.format == FMT_TABLE && !o.failed)
		printf("stored as each entity's next resize document\n");
	rc = o.failed;
	if (!rc && fflush(stdout) != 0)
		rc = cli_fail(BSP_EIO, "resize: cannot write the output");
done:
	json_decref(o.all);
	bsp_store_close(st);
	cli_entities_release(&ents);
	cli_alloc_release(&a);
	return rc;
}
