/*
 * The allocation commands' shared part: which files, which policy and
 * tier, and the step from an entity to its demand (profile → units).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_alloc.h"

void cli_alloc_init(struct cli_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->use = "default";
	a->tier_name = "medium";
	bsp_profile_options_init(&a->popt);
}

int cli_alloc_opt(struct cli_alloc *a, int c, char *arg)
{
	char *end;
	int rc;

	if ((rc = cli_predict_opt(&a->popt, c, arg)) >= 0)
		return rc;
	switch (c) {
	case 0x300:
		a->catalog = arg;
		return 0;
	case 0x301:
		a->policy = arg;
		return 0;
	case 0x302:
		a->use = arg;
		return 0;
	case 0x303:
		a->tier_name = arg;
		return 0;
	case 0x304:
		a->mhz = strtod(arg, &end);
		if (*end || !(a->mhz > 0) || !isfinite(a->mhz))
			return cli_fail(
			    BSP_EINVAL,
			    "--mhz-per-vcpu: '%s' is not a positive "
			    "number",
			    arg);
		return 0;
	case 0x305:
		return cli_time("at", arg, &a->popt.origin);
	}
	return -1;
}

int cli_alloc_load(struct cli_alloc *a)
{
	char path[PATH_MAX + 64];
	struct bsp_error err = {0};

	if (cli_data_file(a->catalog, "instances.yaml", path, sizeof(path)))
		return cli_fail(BSP_ENOTFOUND,
				"no instance catalog: give --catalog FILE");
	if (bsp_alloc_catalog_load(path, &a->cat, &err))
		return cli_fail_err(&err);
	if (cli_data_file(a->policy, "policy.yaml", path, sizeof(path)))
		return cli_fail(BSP_ENOTFOUND,
				"no policy file: give --policy FILE");
	if (bsp_alloc_policy_load(path, &a->pf, &err))
		return cli_fail_err(&err);
	if (!(a->pol = bsp_alloc_policy_find(a->pf, a->use)))
		return cli_fail(BSP_EINVAL, "--use: %s has no policy '%s'",
				path, a->use);
	if (!(a->tier = bsp_alloc_tier_find(a->pf, a->tier_name)))
		return cli_fail(BSP_EINVAL, "--tier: %s has no tier '%s'", path,
				a->tier_name);
	return EXIT_OK;
}

void cli_alloc_release(struct cli_alloc *a)
{
	bsp_alloc_catalog_free(a->cat);
	bsp_alloc_policy_free(a->pf);
	a->cat = NULL;
	a->pf = NULL;
}

/* How the entity's raw units become allocation units: the MHz of one
 * vCPU is `mhz` when given, else what the trace says of its own cores
 * (Bitbrains: capacity / cores), else the policy's. */
static bsp_err units_for(struct bsp_store *st, const char *entity,
			 bsp_time at, double mhz,
			 const struct bsp_alloc_policy *pol,
			 struct bsp_alloc_current *cur,
			 struct bsp_alloc_units *u, struct bsp_error *err)
{
	double mhz_core = 0;
	bsp_err r = bsp_alloc_entity_current(st, entity, at, cur, &mhz_core,
					     err);
	if (r)
		return r;
	u->mhz_per_vcpu = mhz > 0 ? mhz
			  : mhz_core > 0 ? mhz_core
					 : pol->mhz_per_vcpu;
	u->io_size_kib = pol->io_size_kib;
	u->provisioned_vcpu = cur->vcpu;
	return BSP_OK;
}

bsp_err cli_alloc_demand(struct bsp_store *st, struct cli_alloc *a,
			 const char *entity, struct bsp_alloc_demand *d,
			 struct bsp_alloc_current *cur, struct bsp_error *err)
{
	struct bsp_alloc_units u;
	char *json = NULL;
	int64_t version = 0;
	bsp_err r;

	if ((r = units_for(st, entity, a->popt.origin, a->mhz, a->pol, cur, &u,
			   err)))
		return r;
	if ((r = bsp_profile_build(st, entity, &a->popt, 1, &json, &version,
				   err)))
		return r;
	r = bsp_alloc_demand_from_profile(json, &u, d, err);
	free(json);
	return r;
}

bsp_err cli_alloc_recommend_json(struct bsp_store *st,
				 const struct bsp_alloc_catalog *cat,
				 const struct bsp_alloc_policy *pol,
				 const struct bsp_alloc_tier *tier, double mhz,
				 const char *entity, const char *profile,
				 bsp_time now, struct bsp_alloc_demand *d,
				 struct bsp_alloc_override *ov, int *found,
				 struct bsp_alloc_rec *rec,
				 struct bsp_error *err)
{
	struct bsp_alloc_current cur = {0};
	struct bsp_alloc_units u;
	bsp_err r;

	*found = 0;
	if ((r = units_for(st, entity, BSP_TIME_NONE, mhz, pol, &cur, &u,
			   err)) ||
	    (r = bsp_alloc_demand_from_profile(profile, &u, d, err)))
		return r;
	if (now != BSP_TIME_NONE &&
	    (r = bsp_alloc_override_get(st, entity, now, ov, found, err)))
		return r;
	return bsp_alloc_recommend(cat, pol, tier, d, *found ? ov : NULL, &cur,
				   rec, err);
}

int cli_alloc_fail(const char *entity, const struct bsp_error *err)
{
	size_t n = strlen(entity);
	if (!strncmp(err->msg, entity, n) && err->msg[n] == ':')
		return cli_fail_err(err);
	return cli_fail(err->code, "%s: %s", entity, err->msg);
}

void cli_alloc_amount(enum bsp_res r, double v, char *buf, size_t size)
{
	if (!isfinite(v))
		snprintf(buf, size, "-");
	else if (v >= 100)
		snprintf(buf, size, "%.0f %s", v, bsp_res_unit(r));
	else
		snprintf(buf, size, "%.3g %s", v, bsp_res_unit(r));
}
