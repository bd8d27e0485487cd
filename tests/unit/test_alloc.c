/*
 * Resource allocation against known answers: catalog and policy loading
 * (and the errors that name file, line and field), the cheapest feasible
 * shape on a hand-made catalog checked against an exhaustive search written
 * here, custom sizes priced by hand, impossible constraints named, the
 * quantile arithmetic, plans on a constant and a square-wave demand,
 * overrides that win and expire, and the exports.
 */
#include <math.h>
#include <pthread.h>

#include "testutil.h"

#include "bespoke/bespoke.h"
#include "bespoke/alloc.h"

#define T0 1372636800000LL /* 2013-07-01T00:00:00Z */

/* Four types, two storage options; prices chosen so that the cheapest
 * answer differs with the need. */
static const char hand_catalog[] =
    "version: 1\n"
    "source: test\n"
    "storage:\n"
    "  - {name: hdd, kind: hdd, size_gib: 100, iops: 200, mbps: 50, "
    "price_hour: 0.01}\n"
    "  - {name: ssd, kind: ssd, size_gib: 100, iops: 3000, mbps: 125, "
    "price_hour: 0.02}\n"
    "  - {name: local, kind: nvme, size_gib: 50, iops: 20000, mbps: 400, "
    "price_hour: 0, local: true}\n"
    "types:\n"
    "  - {name: s.small, family: s, vcpu: 1, memory_gib: 2, "
    "network_gbps: 1, price_hour: 0.05, spot_hour: 0.02}\n"
    "  - {name: c.large, family: c, vcpu: 4, memory_gib: 4, "
    "network_gbps: 2, price_hour: 0.12}\n"
    "  - {name: r.large, family: r, vcpu: 2, memory_gib: 16, "
    "network_gbps: 2, price_hour: 0.13}\n"
    "  - {name: m.large, family: m, vcpu: 4, memory_gib: 16, "
    "network_gbps: 5, price_hour: 0.20, storage: [local]}\n";

static const char hand_policy[] =
    "version: 1\n"
    "tiers:\n"
    "  - {name: medium, quantile: 0.95, violation: 0.02}\n"
    "policies:\n"
    "  - {name: any}\n"
    "  - {name: budget, budget_hour: 0.1}\n"
    "  - {name: nor, families: [s, c, m]}\n"
    "  - {name: small, max: {vcpu: 2}}\n"
    "  - {name: hyst, hysteresis: 0.5}\n"
    "  - {name: sb, spot: batch}\n";

static struct bsp_alloc_catalog *load_cat(const char *name, const char *text)
{
	char path[256];
	struct bsp_alloc_catalog *cat = NULL;
	struct bsp_error err = {0};
	test_path(path, sizeof(path), name);
	assert_int_equal(test_write_file(path, text, strlen(text)), 0);
	if (bsp_alloc_catalog_load(path, &cat, &err))
		fail_msg("catalog: %s", err.msg);
	return cat;
}

static struct bsp_alloc_policy_file *load_pol(const char *name,
					      const char *text)
{
	char path[256];
	struct bsp_alloc_policy_file *pf = NULL;
	struct bsp_error err = {0};
	test_path(path, sizeof(path), name);
	assert_int_equal(test_write_file(path, text, strlen(text)), 0);
	if (bsp_alloc_policy_load(path, &pf, &err))
		fail_msg("policy: %s", err.msg);
	return pf;
}

/* The test's own exhaustive search: cheapest type x storage that covers
 * need (no policy bounds), local storage only with the types naming it. */
static double brute(const struct bsp_alloc_catalog *cat, const double *need,
		    char *name)
{
	double best = HUGE_VAL;
	for (unsigned t = 0; t < cat->types_count; t++) {
		const struct bsp_alloc_type *ty = &cat->types[t];
		for (unsigned s = 0; s < cat->storage_count; s++) {
			const struct bsp_alloc_storage *st = &cat->storage[s];
			int ok = !st->local;
			for (unsigned k = 0; k < ty->storage_count; k++)
				ok |= !strcmp(ty->storage[k], st->name);
			if (!ok || ty->vcpu < need[BSP_RES_CPU] ||
			    ty->memory_gib < need[BSP_RES_MEM] ||
			    ty->network_gbps < need[BSP_RES_NET] ||
			    st->iops < need[BSP_RES_IOPS] ||
			    st->mbps < need[BSP_RES_MBPS])
				continue;
			if (ty->price_hour + st->price_hour < best) {
				best = ty->price_hour + st->price_hour;
				snprintf(name, 64, "%s", ty->name);
			}
		}
	}
	return best;
}

static void test_cheapest_known(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("hand.yaml", hand_catalog);
	struct bsp_alloc_policy_file *pf =
	    load_pol("hand-pol.yaml", hand_policy);
	const struct bsp_alloc_policy *any = bsp_alloc_policy_find(pf, "any");
	struct bsp_alloc_choice c;
	struct bsp_error err = {0};
	(void)state;

	/* 3 vCPU, 3 GiB: c.large (0.12) + hdd (0.01). */
	double n1[BSP_RES_N] = {3, 3, 0, 0, 0};
	assert_int_equal(bsp_alloc_choose(cat, any, n1, NULL, 0, &c, &err), 0);
	assert_string_equal(c.name, "c.large");
	assert_string_equal(cat->storage[c.storage].name, "hdd");
	assert_true(fabs(c.price_hour - 0.13) < 1e-9);
	/* 2 vCPU, 10 GiB, 1000 IOPS: r.large + ssd = 0.15. */
	double n2[BSP_RES_N] = {2, 10, 1000, 0, 0};
	assert_int_equal(bsp_alloc_choose(cat, any, n2, NULL, 0, &c, &err), 0);
	assert_string_equal(c.name, "r.large");
	assert_string_equal(cat->storage[c.storage].name, "ssd");
	assert_true(fabs(c.price_hour - 0.15) < 1e-9);
	/* 10000 IOPS: only m.large's local NVMe has it (0.20 + 0). */
	double n3[BSP_RES_N] = {1, 1, 10000, 0, 0};
	assert_int_equal(bsp_alloc_choose(cat, any, n3, NULL, 0, &c, &err), 0);
	assert_string_equal(c.name, "m.large");
	assert_string_equal(cat->storage[c.storage].name, "local");
	/* Spot allowed: s.small at its spot price. */
	double n4[BSP_RES_N] = {1, 1, 0, 0, 0};
	assert_int_equal(
	    bsp_alloc_choose(cat, any, n4, NULL, BSP_ALLOC_SPOT, &c, &err), 0);
	assert_string_equal(c.name, "s.small");
	assert_true(c.spot && fabs(c.price_hour - 0.03) < 1e-9);
	/* Families: without r, 10 GiB needs m.large. */
	assert_int_equal(bsp_alloc_choose(cat, bsp_alloc_policy_find(pf, "nor"),
					  n2, NULL, 0, &c, &err),
			 0);
	assert_string_equal(c.name, "m.large");
	/* only_type forces it. */
	assert_int_equal(bsp_alloc_choose(cat, any, n4, "r.large", 0, &c, &err),
			 0);
	assert_string_equal(c.name, "r.large");
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

/* GLPK's answer equals the exhaustive one on many random needs. */
static void test_cheapest_exhaustive(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("hand2.yaml", hand_catalog);
	struct bsp_alloc_choice c;
	struct bsp_error err = {0};
	uint64_t s = 88172645463325252ULL;
	size_t feasible = 0, infeasible = 0;
	(void)state;

	for (int i = 0; i < 2000; i++) {
		double need[BSP_RES_N];
		char name[64] = "";
		for (int r = 0; r < BSP_RES_N; r++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			double u = (double)(s >> 11) * 0x1p-53;
			static const double scale[] = {5, 18, 25000, 500, 6};
			need[r] = u * u * scale[r];
		}
		double want = brute(cat, need, name);
		bsp_err rc =
		    bsp_alloc_choose(cat, NULL, need, NULL, 0, &c, &err);
		if (want == HUGE_VAL) {
			assert_int_equal(rc, BSP_EINVAL);
			infeasible++;
			continue;
		}
		if (rc)
			fail_msg("need %g %g %g %g %g: %s", need[0], need[1],
				 need[2], need[3], need[4], err.msg);
		assert_true(fabs(c.price_hour - want) < 1e-9);
		for (int r = 0; r < BSP_RES_N; r++)
			assert_true(c.have[r] >= need[r]);
		feasible++;
	}
	/* Both outcomes were exercised. */
	assert_true(feasible > 200 && infeasible > 200);
	bsp_alloc_catalog_free(cat);
}

static void test_impossible(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("hand3.yaml", hand_catalog);
	struct bsp_alloc_policy_file *pf =
	    load_pol("hand3-pol.yaml", hand_policy);
	struct bsp_alloc_choice c;
	struct bsp_error err = {0};
	(void)state;

	/* 12 GiB with a $0.10 budget: r.large + hdd costs 0.14. */
	double n[BSP_RES_N] = {1, 12, 0, 0, 0};
	assert_int_equal(bsp_alloc_choose(cat,
					  bsp_alloc_policy_find(pf, "budget"),
					  n, NULL, 0, &c, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "budget"));
	assert_non_null(strstr(err.msg, "0.1400"));
	/* 64 GiB: nothing that large. */
	double big[BSP_RES_N] = {1, 64, 0, 0, 0};
	assert_int_equal(bsp_alloc_choose(cat, NULL, big, NULL, 0, &c, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "memory"));
	assert_non_null(strstr(err.msg, "64 GiB"));
	/* max vcpu 2 and 16 GiB and 10 Gbit/s cannot go together. */
	double net[BSP_RES_N] = {1, 1, 0, 0, 10};
	assert_int_equal(bsp_alloc_choose(cat,
					  bsp_alloc_policy_find(pf, "small"),
					  net, NULL, 0, &c, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "network"));
	/* A need above the policy maximum is cut to it, not refused. */
	double cpu[BSP_RES_N] = {3, 1, 0, 0, 0};
	assert_int_equal(bsp_alloc_choose(cat,
					  bsp_alloc_policy_find(pf, "small"),
					  cpu, NULL, 0, &c, &err),
			 0);
	assert_true(c.have[BSP_RES_CPU] <= 2);
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

static void test_custom(void **state)
{
	static const char text[] =
	    "version: 1\nsource: t\n"
	    "custom: {price_vcpu_hour: 0.04, price_gib_hour: 0.005, "
	    "vcpu_step: 0.25, memory_step_gib: 0.5, max_vcpu: 16, "
	    "max_memory_gib: 64, network_gbps: 10}\n";
	struct bsp_alloc_catalog *cat = load_cat("custom.yaml", text);
	struct bsp_alloc_choice c;
	struct bsp_error err = {0};
	(void)state;

	/* 1.3 vCPU → 1.5; 3.2 GiB → 3.5: 1.5*0.04 + 3.5*0.005 = 0.0775. */
	double n[BSP_RES_N] = {1.3, 3.2, 0, 0, 1};
	assert_int_equal(bsp_alloc_choose(cat, NULL, n, NULL, 0, &c, &err), 0);
	assert_int_equal(c.type, -1);
	assert_true(fabs(c.have[BSP_RES_CPU] - 1.5) < 1e-9);
	assert_true(fabs(c.have[BSP_RES_MEM] - 3.5) < 1e-9);
	assert_true(fabs(c.price_hour - 0.0775) < 1e-9);
	assert_string_equal(c.name, "custom-1.5vcpu-3.5gib");
	/* Above its maximum. */
	double big[BSP_RES_N] = {20, 1, 0, 0, 0};
	assert_int_equal(bsp_alloc_choose(cat, NULL, big, NULL, 0, &c, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "cpu"));
	bsp_alloc_catalog_free(cat);
}

static void expect_load_error(const char *name, const char *text,
			      const char *want1, const char *want2, int policy)
{
	char path[256];
	struct bsp_error err = {0};
	bsp_err rc;
	test_path(path, sizeof(path), name);
	assert_int_equal(test_write_file(path, text, strlen(text)), 0);
	if (policy) {
		struct bsp_alloc_policy_file *pf = NULL;
		rc = bsp_alloc_policy_load(path, &pf, &err);
		assert_null(pf);
	} else {
		struct bsp_alloc_catalog *cat = NULL;
		rc = bsp_alloc_catalog_load(path, &cat, &err);
		assert_null(cat);
	}
	assert_int_equal(rc, BSP_EINVAL);
	if (!strstr(err.msg, path) || !strstr(err.msg, want1) ||
	    (want2 && !strstr(err.msg, want2)))
		fail_msg("'%s' lacks '%s' / '%s'", err.msg, want1,
			 want2 ? want2 : "");
}

static void test_bad_files(void **state)
{
	(void)state;
	/* A string where a number goes: line 5, the field named. */
	expect_load_error("bad1.yaml",
			  "version: 1\nsource: t\ntypes:\n"
			  "  - name: a\n    vcpu: lots\n    family: f\n",
			  ":5:", "vcpu", 0);
	/* An unknown storage kind. */
	expect_load_error("bad2.yaml",
			  "version: 1\nsource: t\nstorage:\n"
			  "  - {name: x, kind: tape, size_gib: 1, iops: 1, "
			  "mbps: 1, price_hour: 0}\n",
			  ":4:", "kind", 0);
	/* Storage a type names that is not there. */
	expect_load_error("bad3.yaml",
			  "version: 1\nsource: t\ntypes:\n"
			  "  - {name: a, family: f, vcpu: 1, memory_gib: 1, "
			  "network_gbps: 1, price_hour: 1, storage: [nope]}\n",
			  "type a", "nope", 0);
	expect_load_error("bad4.yaml",
			  "version: 1\nsource: t\ntypes:\n"
			  "  - {name: a, family: f, vcpu: 0, memory_gib: 1, "
			  "network_gbps: 1, price_hour: 1}\n",
			  "type a", "vcpu", 0);
	/* Policies: min above max, a duration that is not one, a tier. */
	expect_load_error("pbad1.yaml",
			  "version: 1\ntiers: [{name: t, quantile: 0.9, "
			  "violation: 0.1}]\npolicies:\n"
			  "  - {name: p, min: {vcpu: 8}, max: {vcpu: 4}}\n",
			  "policy p", "cpu", 1);
	expect_load_error("pbad2.yaml",
			  "version: 1\ntiers: [{name: t, quantile: 0.9, "
			  "violation: 0.1}]\npolicies:\n"
			  "  - {name: p, lead_time: soon}\n",
			  "lead_time", "soon", 1);
	expect_load_error("pbad3.yaml",
			  "version: 1\ntiers: [{name: t, quantile: 1.5, "
			  "violation: 0.1}]\npolicies: [{name: p}]\n",
			  "tier t", "quantile", 1);
	expect_load_error("pbad4.yaml",
			  "version: 1\ntiers: [{name: t, quantile: 0.9, "
			  "violation: 0.1}]\npolicies:\n"
			  "  - {name: p, spot: sometimes}\n",
			  ":4:", "spot", 1);
}

/* The shipped files load, and the defaults make sense. */
static void test_shipped(void **state)
{
	struct bsp_alloc_catalog *cat = NULL;
	struct bsp_alloc_policy_file *pf = NULL;
	struct bsp_error err = {0};
	struct bsp_alloc_choice c;
	(void)state;

	if (access("data/instances.yaml", R_OK))
		skip();
	if (bsp_alloc_catalog_load("data/instances.yaml", &cat, &err) ||
	    bsp_alloc_policy_load("data/policy.yaml", &pf, &err))
		fail_msg("%s", err.msg);
	const struct bsp_alloc_policy *p = bsp_alloc_policy_find(pf, "default");
	assert_non_null(p);
	assert_int_equal(p->lead, 10 * BSP_MINUTE);
	assert_int_equal(p->hold, 2 * BSP_HOUR);
	assert_non_null(bsp_alloc_tier_find(pf, "medium"));
	/* 2 sustained vCPUs and 12 GiB: r5.large ($0.126) + gp3 is the
	 * cheapest with 16 GiB (m5.xlarge costs 0.192). */
	double n[BSP_RES_N] = {1.5, 12, 500, 10, 0.1};
	assert_int_equal(bsp_alloc_choose(cat, p, n, NULL, 0, &c, &err), 0);
	assert_string_equal(c.name, "r5.large");
	assert_string_equal(cat->storage[c.storage].name, "gp3-100");
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

/* ---- demand ----------------------------------------------------------- */

/* A demand with levels 0.5, 0.9, 0.95, 0.99 for CPU only. */
static void demand_new(struct bsp_alloc_demand *d, size_t n)
{
	static const double lv[] = {0.5, 0.9, 0.95, 0.99};
	memset(d, 0, sizeof(*d));
	d->start = T0;
	d->step = BSP_HOUR;
	d->n_steps = n;
	d->n_levels = 4;
	memcpy(d->levels, lv, sizeof(lv));
	d->q[BSP_RES_CPU] = calloc(4 * n, sizeof(double));
	d->q[BSP_RES_MEM] = calloc(4 * n, sizeof(double));
	assert_non_null(d->q[BSP_RES_CPU]);
	assert_non_null(d->q[BSP_RES_MEM]);
}

/* Sets step j: CPU median m with p90/p95/p99 at m*(1.2, 1.3, 1.5); memory
 * a constant 1 GiB. */
static void demand_set(struct bsp_alloc_demand *d, size_t j, double m)
{
	static const double f[] = {1, 1.2, 1.3, 1.5};
	for (int l = 0; l < 4; l++) {
		d->q[BSP_RES_CPU][l * d->n_steps + j] = m * f[l];
		d->q[BSP_RES_MEM][l * d->n_steps + j] = 1;
	}
}

static void test_quantiles(void **state)
{
	struct bsp_alloc_demand d;
	double need[BSP_RES_N];
	size_t peak[BSP_RES_N];
	(void)state;

	demand_new(&d, 3);
	demand_set(&d, 0, 1);
	demand_set(&d, 1, 2);
	demand_set(&d, 2, 1);
	/* Between levels: p92.5 of step 1 is halfway 2.4 .. 2.6. */
	assert_true(fabs(bsp_alloc_demand_q(&d, BSP_RES_CPU, 1, 0.925) - 2.5) <
		    1e-12);
	bsp_alloc_demand_need(&d, 0.95, 0, 3, need, peak);
	assert_true(fabs(need[BSP_RES_CPU] - 2.6) < 1e-12);
	assert_int_equal(peak[BSP_RES_CPU], 1);
	assert_true(fabs(need[BSP_RES_MEM] - 1) < 1e-12);
	assert_true(isnan(need[BSP_RES_NET]));
	/* P(> p95 value) = 5%; P(> p99) = 1%; above p99 the exponential tail
	 * with scale (3 - 2.6) / ln 5. */
	assert_true(fabs(bsp_alloc_exceed(&d, BSP_RES_CPU, 1, 2.6) - 0.05) <
		    1e-12);
	assert_true(fabs(bsp_alloc_exceed(&d, BSP_RES_CPU, 1, 3.0) - 0.01) <
		    1e-12);
	double s = 0.4 / log(5);
	assert_true(fabs(bsp_alloc_exceed(&d, BSP_RES_CPU, 1, 3.4) -
			 0.01 * exp(-0.4 / s)) < 1e-12);
	/* A constant (all levels equal) is never exceeded at its value. */
	assert_true(bsp_alloc_exceed(&d, BSP_RES_MEM, 0, 1) == 0);
	bsp_alloc_demand_release(&d);
}

static void test_profile_units(void **state)
{
	static const char json[] =
	    "{\"format\":\"bespoke-profile\",\"profile_version\":3,"
	    "\"metrics\":{"
	    "\"cpu_usage\":{\"unit\":\"MHz\",\"forecast\":{\"start\":"
	    "\"2013-07-01T00:00:00Z\",\"step_seconds\":3600,\"point\":[1,1],"
	    "\"quantiles\":{\"p50\":[2500,5000],\"p95\":[5000,7500]}}},"
	    "\"mem_usage\":{\"unit\":\"KB\",\"forecast\":{\"start\":"
	    "\"2013-07-01T00:00:00Z\",\"step_seconds\":3600,\"point\":[1,1],"
	    "\"quantiles\":{\"p50\":[1048576,2097152],\"p95\":[2097152,"
	    "3145728]}}},"
	    "\"net_total\":{\"unit\":\"KB/s\",\"forecast\":{\"start\":"
	    "\"2013-07-01T00:00:00Z\",\"step_seconds\":3600,\"point\":[1,1],"
	    "\"quantiles\":{\"p50\":[0,0],\"p95\":[125000,0]}}},"
	    "\"disk_total\":{\"unit\":\"KB/s\",\"forecast\":{\"start\":"
	    "\"2013-07-01T00:00:00Z\",\"step_seconds\":3600,\"point\":[1,1],"
	    "\"quantiles\":{\"p50\":[0,0],\"p95\":[1600,0]}}}},"
	    "\"behaviour\":{\"workload\":{\"class\":\"batch\"}}}";
	struct bsp_alloc_units u = {2500, 16, 0};
	struct bsp_alloc_demand d;
	struct bsp_error err = {0};
	double need[BSP_RES_N];
	(void)state;

	if (bsp_alloc_demand_from_profile(json, &u, &d, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(d.n_steps, 2);
	assert_int_equal(d.start, T0);
	assert_int_equal(d.profile_version, 3);
	assert_string_equal(d.workload, "batch");
	bsp_alloc_demand_need(&d, 0.95, 0, 2, need, NULL);
	assert_true(fabs(need[BSP_RES_CPU] - 3) < 1e-12); /* 7500 MHz */
	assert_true(fabs(need[BSP_RES_MEM] - 3) < 1e-12); /* 3 Gi of KB */
	/* 125000 KB/s * 1024 * 8 = 1.024 Gbit/s */
	assert_true(fabs(need[BSP_RES_NET] - 1.024) < 1e-12);
	/* 1600 KB/s / 16 KiB = 100 IOPS; 1600 * 1024 B = 1.6384 MB/s */
	assert_true(fabs(need[BSP_RES_IOPS] - 100) < 1e-12);
	assert_true(fabs(need[BSP_RES_MBPS] - 1.6384) < 1e-12);
	bsp_alloc_demand_release(&d);
	/* Not JSON, no metrics. */
	assert_int_equal(bsp_alloc_demand_from_profile("{", &u, &d, &err),
			 BSP_EINVAL);
	assert_int_equal(
	    bsp_alloc_demand_from_profile("{\"metrics\":{}}", &u, &d, &err),
	    BSP_EINVAL);
}

/* The history's largest hourly mean bounds a need: a p95 band that
 * reaches above it is held there, unless the median itself is higher
 * (a trend), and the risk still comes from the whole band. */
static void test_history_bound(void **state)
{
	static const char json[] =
	    "{\"metrics\":{\"cpu_usage\":{\"unit\":\"cores\","
	    "\"history\":{\"max\":4},\"forecast\":{\"start\":"
	    "\"2013-07-01T00:00:00Z\",\"step_seconds\":3600,"
	    "\"quantiles\":{\"p50\":[2,3,5],\"p95\":[3,6,7]}}}}}";
	struct bsp_alloc_units u = {2500, 16, 0};
	struct bsp_alloc_demand d;
	struct bsp_error err = {0};
	double need[BSP_RES_N];
	size_t peak[BSP_RES_N];
	(void)state;

	if (bsp_alloc_demand_from_profile(json, &u, &d, &err))
		fail_msg("%s", err.msg);
	assert_true(d.hist_max[BSP_RES_CPU] == 4);
	/* under the bound: as forecast */
	assert_true(bsp_alloc_demand_q(&d, BSP_RES_CPU, 0, 0.95) == 3);
	/* a band above it: held at 4; the raw band is still 6 */
	assert_true(bsp_alloc_demand_q(&d, BSP_RES_CPU, 1, 0.95) == 4);
	assert_true(bsp_alloc_demand_q_raw(&d, BSP_RES_CPU, 1, 0.95) == 6);
	/* a median above it (a trend): the median bounds it instead */
	assert_true(bsp_alloc_demand_q(&d, BSP_RES_CPU, 2, 0.95) == 5);
	/* medians and below are never touched */
	assert_true(bsp_alloc_demand_q(&d, BSP_RES_CPU, 1, 0.5) == 3);
	bsp_alloc_demand_need(&d, 0.95, 0, 3, need, peak);
	assert_true(need[BSP_RES_CPU] == 5 && peak[BSP_RES_CPU] == 2);
	/* the risk of 4 at step 1 comes from the forecast: above 5% */
	assert_true(bsp_alloc_exceed(&d, BSP_RES_CPU, 1, 4) > 0.05);
	bsp_alloc_demand_release(&d);
}

/* ---- plans ------------------------------------------------------------ */

static void test_plan_constant(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("hp.yaml", hand_catalog);
	struct bsp_alloc_policy_file *pf = load_pol("hp-pol.yaml", hand_policy);
	struct bsp_alloc_demand d;
	struct bsp_alloc_plan plan;
	struct bsp_error err = {0};
	(void)state;

	demand_new(&d, 24 * 7);
	for (size_t j = 0; j < d.n_steps; j++)
		demand_set(&d, j, 2);
	if (bsp_alloc_plan_make(cat, bsp_alloc_policy_find(pf, "any"),
				&pf->tiers[0], &d, NULL, 10 * BSP_MINUTE,
				2 * BSP_HOUR, &plan, &err))
		fail_msg("%s", err.msg);
	/* p95 = 2.6 vCPU all week: one step, c.large + hdd, 168 h of it. */
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.changes, 0);
	assert_int_equal(plan.steps[0].from, T0);
	assert_int_equal(plan.steps[0].until, T0 + 168 * BSP_HOUR);
	assert_string_equal(plan.steps[0].choice.name, "c.large");
	assert_true(fabs(plan.cost - 0.13 * 168) < 1e-9);
	bsp_alloc_plan_release(&plan);
	bsp_alloc_demand_release(&d);
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

/* Daily square wave: 3 vCPU median 08:00-18:00, 0.5 otherwise. */
static void test_plan_square(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("hq.yaml", hand_catalog);
	struct bsp_alloc_policy_file *pf = load_pol("hq-pol.yaml", hand_policy);
	struct bsp_alloc_demand d;
	struct bsp_alloc_plan plan;
	struct bsp_error err = {0};
	bsp_time lead = 10 * BSP_MINUTE, hold = 2 * BSP_HOUR;
	(void)state;

	demand_new(&d, 24 * 3);
	for (size_t j = 0; j < d.n_steps; j++)
		demand_set(&d, j, (j % 24 >= 8 && j % 24 < 18) ? 3 : 0.5);
	if (bsp_alloc_plan_make(cat, bsp_alloc_policy_find(pf, "any"),
				&pf->tiers[0], &d, NULL, lead, hold, &plan,
				&err))
		fail_msg("%s", err.msg);
	/* start small; per day: up at 07:50, down at 20:00. */
	assert_int_equal(plan.n, 1 + 2 * 3);
	assert_string_equal(plan.steps[0].choice.name, "s.small");
	for (int day = 0; day < 3; day++) {
		const struct bsp_alloc_step *up = &plan.steps[1 + 2 * day];
		const struct bsp_alloc_step *down = &plan.steps[2 + 2 * day];
		assert_int_equal(up->from,
				 T0 + day * BSP_DAY + 8 * BSP_HOUR - lead);
		/* p95 of 3 = 3.9 vCPU → c.large (4 vCPU). */
		assert_string_equal(up->choice.name, "c.large");
		assert_int_equal(down->from,
				 T0 + day * BSP_DAY + 18 * BSP_HOUR + hold);
		assert_string_equal(down->choice.name, "s.small");
	}
	bsp_alloc_plan_release(&plan);

	/* With a 50% hysteresis band c.large → s.small (0.13 → 0.06) still
	 * saves enough; a band that blocks it keeps the plan up. */
	struct bsp_alloc_policy hp = *bsp_alloc_policy_find(pf, "hyst");
	hp.hysteresis = 0.6;
	if (bsp_alloc_plan_make(cat, &hp, &pf->tiers[0], &d, NULL, lead, hold,
				&plan, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(plan.n, 2);
	bsp_alloc_plan_release(&plan);
	bsp_alloc_demand_release(&d);
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

/* An override wins until it expires, then the forecast takes over. */
static void test_plan_override(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("ho.yaml", hand_catalog);
	struct bsp_alloc_policy_file *pf = load_pol("ho-pol.yaml", hand_policy);
	struct bsp_alloc_demand d;
	struct bsp_alloc_plan plan;
	struct bsp_alloc_override ov;
	struct bsp_error err = {0};
	(void)state;

	demand_new(&d, 24);
	for (size_t j = 0; j < d.n_steps; j++)
		demand_set(&d, j, 0.5);
	memset(&ov, 0, sizeof(ov));
	for (int r = 0; r < BSP_RES_N; r++)
		ov.value[r] = NAN;
	ov.value[BSP_RES_MEM] = 12;
	ov.expires = T0 + 5 * BSP_HOUR + 30 * BSP_MINUTE;
	if (bsp_alloc_plan_make(cat, bsp_alloc_policy_find(pf, "any"),
				&pf->tiers[0], &d, &ov, 10 * BSP_MINUTE,
				2 * BSP_HOUR, &plan, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(plan.n, 2);
	assert_string_equal(plan.steps[0].choice.name, "r.large");
	assert_true(plan.steps[0].override);
	assert_int_equal(plan.steps[1].from, ov.expires);
	assert_string_equal(plan.steps[1].choice.name, "s.small");
	assert_false(plan.steps[1].override);
	bsp_alloc_plan_release(&plan);

	/* The recommendation shows it too; an expired one is not passed. */
	struct bsp_alloc_rec rec;
	if (bsp_alloc_recommend(cat, bsp_alloc_policy_find(pf, "any"),
				&pf->tiers[0], &d, &ov, NULL, &rec, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(rec.choice.name, "r.large");
	assert_true(rec.override_used);
	int said = 0;
	for (size_t i = 0; i < rec.n_reasons; i++)
		said |= strstr(rec.reasons[i],
			       "memory set to 12 GiB by override") != NULL;
	assert_true(said);

	/* JSON round trip of the stored document. */
	char *json = NULL;
	struct bsp_alloc_override back;
	snprintf(ov.reason, sizeof(ov.reason), "quarter-end batch");
	ov.created = T0;
	assert_int_equal(bsp_alloc_override_json(&ov, &json, &err), 0);
	assert_int_equal(bsp_alloc_override_parse(json, &back, &err), 0);
	assert_true(back.value[BSP_RES_MEM] == 12);
	assert_true(isnan(back.value[BSP_RES_CPU]));
	assert_int_equal(back.expires, ov.expires);
	assert_string_equal(back.reason, "quarter-end batch");
	free(json);
	bsp_alloc_demand_release(&d);
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

static void test_recommend_export(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("hx.yaml", hand_catalog);
	struct bsp_alloc_policy_file *pf = load_pol("hx-pol.yaml", hand_policy);
	struct bsp_alloc_demand d;
	struct bsp_alloc_rec rec;
	struct bsp_alloc_current cur = {4, 16, ""};
	struct bsp_error err = {0};
	char *text;
	(void)state;

	demand_new(&d, 24);
	for (size_t j = 0; j < d.n_steps; j++)
		demand_set(&d, j, j == 14 ? 2 : 1);
	if (bsp_alloc_recommend(cat, bsp_alloc_policy_find(pf, "any"),
				&pf->tiers[0], &d, NULL, &cur, &rec, &err))
		fail_msg("%s", err.msg);
	/* p95 peak 2.6 vCPU at 14:00 → c.large + hdd 0.13; the provisioned
	 * 4 vCPU / 16 GiB is m.large with its free local disk, 0.20: saves
	 * 0.07/h. */
	assert_string_equal(rec.choice.name, "c.large");
	assert_int_equal(rec.peak[BSP_RES_CPU], 14);
	if (fabs(rec.savings_hour - 0.07) > 1e-9)
		fail_msg("current %s %g, savings %g", rec.current.name,
			 rec.current.price_hour, rec.savings_hour);
	assert_true(fabs(rec.cost_horizon - 0.13 * 24) < 1e-9);
	assert_non_null(strstr(rec.reasons[0], "14:00"));
	/* CPU: 4 vCPU over a p99 of 3 (1.5 * 2) at the peak; the rest way
	 * above: a small but non-zero violation rate. */
	assert_true(rec.violation[BSP_RES_CPU] > 0 &&
		    rec.violation[BSP_RES_CPU] < 0.01);

	assert_int_equal(bsp_alloc_export(BSP_ALLOC_LIBVIRT, "VM 17", cat, &rec,
					  &text, &err),
			 0);
	assert_non_null(strstr(text, "<name>vm-17</name>"));
	assert_non_null(strstr(text, "<vcpu placement='static'>4</vcpu>"));
	assert_non_null(strstr(text, "<memory unit='KiB'>4194304</memory>"));
	assert_non_null(strstr(text, "<total_iops_sec>200</total_iops_sec>"));
	/* 2 Gbit/s = 244140 KiB/s */
	assert_non_null(strstr(text, "average='244140'"));
	free(text);
	assert_int_equal(
	    bsp_alloc_export(BSP_ALLOC_K8S, "vm-17", cat, &rec, &text, &err),
	    0);
	/* request = the need (2.6 vCPU, 1 GiB), limit = the shape. */
	assert_non_null(strstr(text, "cpu: \"2600m\""));
	assert_non_null(strstr(text, "memory: \"1024Mi\""));
	assert_non_null(strstr(text, "cpu: \"4000m\""));
	assert_non_null(strstr(text, "memory: \"4096Mi\""));
	free(text);
	bsp_alloc_demand_release(&d);
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

/* Spot only for delay-insensitive (batch) workloads under spot: batch. */
static void test_spot_rule(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("sb.yaml", hand_catalog);
	struct bsp_alloc_policy_file *pf = load_pol("sb-pol.yaml", hand_policy);
	const struct bsp_alloc_policy *sb = bsp_alloc_policy_find(pf, "sb");
	struct bsp_alloc_demand d;
	assert_non_null(sb);
	struct bsp_alloc_rec rec;
	struct bsp_error err = {0};
	(void)state;

	demand_new(&d, 4);
	for (size_t j = 0; j < d.n_steps; j++)
		demand_set(&d, j, 0.5);
	snprintf(d.workload, sizeof(d.workload), "interactive");
	assert_int_equal(bsp_alloc_recommend(cat, sb, &pf->tiers[0], &d, NULL,
					     NULL, &rec, &err),
			 0);
	assert_false(rec.choice.spot);
	assert_true(fabs(rec.cost_hour - 0.06) < 1e-9); /* s.small + hdd */
	snprintf(d.workload, sizeof(d.workload), "batch");
	assert_int_equal(bsp_alloc_recommend(cat, sb, &pf->tiers[0], &d, NULL,
					     NULL, &rec, &err),
			 0);
	assert_true(rec.choice.spot);
	assert_true(fabs(rec.cost_hour - 0.03) < 1e-9); /* at 0.02 spot */
	bsp_alloc_demand_release(&d);
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
}

/* The choice is made on several threads at once (the simulator does):
 * every thread gets the answers one thread gets. */
struct mt_arg {
	const struct bsp_alloc_catalog *cat;
	double price[200];
	int failed;
};

static void *mt_run(void *p)
{
	struct mt_arg *a = p;
	for (int i = 0; i < 200; i++) {
		double need[BSP_RES_N] = {(i % 5) * 0.8, (i % 7) * 2.2,
					  (i % 3) * 4000, 0, (i % 4) * 1.2};
		struct bsp_alloc_choice c;
		struct bsp_error err = {0};
		bsp_err rc =
		    bsp_alloc_choose(a->cat, NULL, need, NULL, 0, &c, &err);
		if (rc && rc != BSP_EINVAL)
			a->failed = 1;
		a->price[i] = rc ? -1 : c.price_hour;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct bsp_alloc_catalog *cat = load_cat("mt.yaml", hand_catalog);
	struct mt_arg one = {cat, {0}, 0}, many[4];
	pthread_t th[4];
	(void)state;

	mt_run(&one);
	for (int t = 0; t < 4; t++) {
		many[t] = (struct mt_arg){cat, {0}, 0};
		assert_int_equal(pthread_create(&th[t], NULL, mt_run, &many[t]),
				 0);
	}
	for (int t = 0; t < 4; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_false(many[t].failed);
		assert_memory_equal(many[t].price, one.price,
				    sizeof(one.price));
	}
	bsp_alloc_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cheapest_known),
	    cmocka_unit_test(test_cheapest_exhaustive),
	    cmocka_unit_test(test_impossible),
	    cmocka_unit_test(test_custom),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_shipped),
	    cmocka_unit_test(test_quantiles),
	    cmocka_unit_test(test_profile_units),
	    cmocka_unit_test(test_history_bound),
	    cmocka_unit_test(test_plan_constant),
	    cmocka_unit_test(test_plan_square),
	    cmocka_unit_test(test_plan_override),
	    cmocka_unit_test(test_recommend_export),
	    cmocka_unit_test(test_spot_rule),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
