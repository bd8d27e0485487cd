/*
 * The shape optimizer: speed and agreement against plain enumeration.
 *
 *     bench_alloc [-n N] [CATALOG.yaml [POLICY.yaml [POLICY-NAME]]]
 *
 * Draws N (default 50000) random needs over the shipped catalog's range
 * (vCPU up to 24, memory up to 190 GiB, IOPS up to 40000, MB/s up to 900,
 * network up to 10 Gbit/s; squared uniforms, so small machines are the
 * common case as in real fleets), chooses with bsp_alloc_choose (GLPK) and
 * with an enumeration of every type × storage pair written here, checks
 * that both find the same price (or both none), and prints the time per
 * choice on one core for each. This is the cost the simulator pays per
 * entity, resource set and decision step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bespoke/alloc.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int family_ok(const struct bsp_alloc_policy *p, const char *fam)
{
	if (!p || !p->families_count)
		return 1;
	for (unsigned i = 0; i < p->families_count; i++)
		if (!strcmp(p->families[i], fam))
			return 1;
	return 0;
}

/* Every type × storage pair; the policy's families and minimum memory. */
static double enumerate(const struct bsp_alloc_catalog *cat,
			const struct bsp_alloc_policy *p, const double *need)
{
	double best = HUGE_VAL;
	double min_mem = p ? p->min.memory_gib : 0;
	for (unsigned t = 0; t < cat->types_count; t++) {
		const struct bsp_alloc_type *ty = &cat->types[t];
		double cpu = ty->vcpu * ty->cpu_baseline;
		if (!family_ok(p, ty->family) || cpu < need[BSP_RES_CPU] ||
		    ty->memory_gib < fmax(need[BSP_RES_MEM], min_mem) ||
		    ty->network_gbps < need[BSP_RES_NET])
			continue;
		for (unsigned s = 0; s < cat->storage_count; s++) {
			const struct bsp_alloc_storage *st = &cat->storage[s];
			int ok = !st->local;
			for (unsigned k = 0; k < ty->storage_count; k++)
				ok |= !strcmp(ty->storage[k], st->name);
			if (ok && st->iops >= need[BSP_RES_IOPS] &&
			    st->mbps >= need[BSP_RES_MBPS] &&
			    ty->price_hour + st->price_hour < best)
				best = ty->price_hour + st->price_hour;
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *catalog = "data/instances.yaml",
		   *policy = "data/policy.yaml", *use = "default";
	struct bsp_alloc_catalog *cat = NULL;
	struct bsp_alloc_policy_file *pf = NULL;
	struct bsp_error err = {0};
	size_t n = 50000, none = 0, differ = 0;
	int a = 1;

	if (argc > 2 && !strcmp(argv[1], "-n")) {
		n = strtoul(argv[2], NULL, 10);
		a = 3;
	}
	if (a < argc)
		catalog = argv[a++];
	if (a < argc)
		policy = argv[a++];
	if (a < argc)
		use = argv[a++];
	if (bsp_alloc_catalog_load(catalog, &cat, &err) ||
	    bsp_alloc_policy_load(policy, &pf, &err)) {
		fprintf(stderr, "bench_alloc: %s\n", err.msg);
		return 1;
	}
	const struct bsp_alloc_policy *p = bsp_alloc_policy_find(pf, use);
	if (!p || p->custom || p->budget_hour > 0) {
		fprintf(stderr,
			"bench_alloc: policy %s missing, or with custom "
			"sizes or a budget (the enumeration has neither)\n",
			use);
		return 1;
	}
	double(*need)[BSP_RES_N] = malloc(n * sizeof(*need));
	double *glpk = malloc(n * sizeof(double)),
	       *ref = malloc(n * sizeof(double));
	if (!need || !glpk || !ref)
		return 1;
	static const double scale[BSP_RES_N] = {24, 190, 40000, 900, 10};
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < n; i++)
		for (int r = 0; r < BSP_RES_N; r++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			double u = (double)(s >> 11) * 0x1p-53;
			need[i][r] = u * u * scale[r];
		}
	double t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		struct bsp_alloc_choice c;
		glpk[i] = bsp_alloc_choose(cat, p, need[i], NULL, 0, &c, NULL)
			      ? HUGE_VAL
			      : c.price_hour;
	}
	double t1 = now_s();
	for (size_t i = 0; i < n; i++)
		ref[i] = enumerate(cat, p, need[i]);
	double t2 = now_s();
	for (size_t i = 0; i < n; i++) {
		none += glpk[i] == HUGE_VAL;
		if (!(glpk[i] == ref[i] || fabs(glpk[i] - ref[i]) < 1e-9))
			differ++;
	}
	printf("catalog %s: %u types, %u storage options; policy %s\n", catalog,
	       cat->types_count, cat->storage_count, use);
	printf("%zu needs (%zu with no shape): GLPK %.1f us/choice, "
	       "enumeration %.2f us/choice, %zu disagreements\n",
	       n, none, (t1 - t0) / (double)n * 1e6,
	       (t2 - t1) / (double)n * 1e6, differ);
	free(need);
	free(glpk);
	free(ref);
	bsp_alloc_catalog_free(cat);
	bsp_alloc_policy_free(pf);
	return differ ? 1 : 0;
}
