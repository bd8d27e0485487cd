/*
 * The instance catalog and the policy file: YAML read by libcyaml against
 * a schema (structure and types are checked while parsing, errors carry
 * FILE:LINE:COLUMN), then the checks a schema cannot express (positive
 * sizes, unique names, storage names that exist, durations that parse),
 * which name the entry and the field.
 */
#include <math.h>
#include <stdio.h>

#include "alloc_int.h"

/* ---- catalog ------------------------------------------------------------ */

static const cyaml_strval_t al_kinds[] = {
    {"hdd", BSP_STORAGE_HDD},
    {"ssd", BSP_STORAGE_SSD},
    {"nvme", BSP_STORAGE_NVME},
};

static const cyaml_schema_value_t al_string = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 128),
};

static const cyaml_schema_field_t al_storage_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct bsp_alloc_storage,
			   name, 1, 63),
    CYAML_FIELD_ENUM("kind", CYAML_FLAG_STRICT, struct bsp_alloc_storage, kind,
		     al_kinds, BSP_ARRAY_LEN(al_kinds)),
    CYAML_FIELD_FLOAT("size_gib", CYAML_FLAG_DEFAULT, struct bsp_alloc_storage,
		      size_gib),
    CYAML_FIELD_FLOAT("iops", CYAML_FLAG_DEFAULT, struct bsp_alloc_storage,
		      iops),
    CYAML_FIELD_FLOAT("mbps", CYAML_FLAG_DEFAULT, struct bsp_alloc_storage,
		      mbps),
    CYAML_FIELD_FLOAT("price_hour", CYAML_FLAG_DEFAULT,
		      struct bsp_alloc_storage, price_hour),
    CYAML_FIELD_BOOL("local", CYAML_FLAG_OPTIONAL, struct bsp_alloc_storage,
		     local),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t al_storage = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct bsp_alloc_storage,
			al_storage_fields),
};

static const cyaml_schema_field_t al_type_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct bsp_alloc_type,
			   name, 1, 63),
    CYAML_FIELD_STRING_PTR("family", CYAML_FLAG_POINTER, struct bsp_alloc_type,
			   family, 1, 63),
    CYAML_FIELD_FLOAT("vcpu", CYAML_FLAG_DEFAULT, struct bsp_alloc_type, vcpu),
    CYAML_FIELD_FLOAT("cpu_baseline", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_type, cpu_baseline),
    CYAML_FIELD_FLOAT("memory_gib", CYAML_FLAG_DEFAULT, struct bsp_alloc_type,
		      memory_gib),
    CYAML_FIELD_FLOAT("network_gbps", CYAML_FLAG_DEFAULT, struct bsp_alloc_type,
		      network_gbps),
    CYAML_FIELD_FLOAT("price_hour", CYAML_FLAG_DEFAULT, struct bsp_alloc_type,
		      price_hour),
    CYAML_FIELD_FLOAT("spot_hour", CYAML_FLAG_OPTIONAL, struct bsp_alloc_type,
		      spot_hour),
    CYAML_FIELD_SEQUENCE("storage", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			 struct bsp_alloc_type, storage, &al_string, 0, 64),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t al_type = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct bsp_alloc_type,
			al_type_fields),
};

static const cyaml_schema_field_t al_custom_fields[] = {
    CYAML_FIELD_FLOAT("price_vcpu_hour", CYAML_FLAG_DEFAULT,
		      struct bsp_alloc_custom, price_vcpu_hour),
    CYAML_FIELD_FLOAT("price_gib_hour", CYAML_FLAG_DEFAULT,
		      struct bsp_alloc_custom, price_gib_hour),
    CYAML_FIELD_FLOAT("vcpu_step", CYAML_FLAG_DEFAULT, struct bsp_alloc_custom,
		      vcpu_step),
    CYAML_FIELD_FLOAT("memory_step_gib", CYAML_FLAG_DEFAULT,
		      struct bsp_alloc_custom, memory_step_gib),
    CYAML_FIELD_FLOAT("max_vcpu", CYAML_FLAG_DEFAULT, struct bsp_alloc_custom,
		      max_vcpu),
    CYAML_FIELD_FLOAT("max_memory_gib", CYAML_FLAG_DEFAULT,
		      struct bsp_alloc_custom, max_memory_gib),
    CYAML_FIELD_FLOAT("network_gbps", CYAML_FLAG_DEFAULT,
		      struct bsp_alloc_custom, network_gbps),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t al_catalog_fields[] = {
    CYAML_FIELD_UINT("version", CYAML_FLAG_DEFAULT, struct bsp_alloc_catalog,
		     version),
    CYAML_FIELD_STRING_PTR("source", CYAML_FLAG_POINTER,
			   struct bsp_alloc_catalog, source, 1, 4096),
    CYAML_FIELD_SEQUENCE("storage", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			 struct bsp_alloc_catalog, storage, &al_storage, 0,
			 256),
    CYAML_FIELD_SEQUENCE("types", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			 struct bsp_alloc_catalog, types, &al_type, 0, 4096),
    CYAML_FIELD_MAPPING_PTR("custom", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			    struct bsp_alloc_catalog, custom, al_custom_fields),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t al_catalog = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct bsp_alloc_catalog,
			al_catalog_fields),
};

void bsp_alloc_catalog_free(struct bsp_alloc_catalog *cat)
{
	struct al_log lg = {{0}, 0, 0};
	cyaml_config_t cfg;
	if (cat)
		cyaml_free(al_yaml_config(&lg, &cfg), &al_catalog, cat, 0);
}

int bsp_alloc_type_find(const struct bsp_alloc_catalog *cat, const char *name)
{
	for (unsigned i = 0; i < cat->types_count; i++)
		if (!strcmp(cat->types[i].name, name))
			return (int)i;
	return -1;
}

static int al_storage_find(const struct bsp_alloc_catalog *cat,
			   const char *name)
{
	for (unsigned i = 0; i < cat->storage_count; i++)
		if (!strcmp(cat->storage[i].name, name))
			return (int)i;
	return -1;
}

/* A finite value > 0 (or >= 0 when zero_ok). */
static int al_pos(double v, int zero_ok)
{
	return isfinite(v) && (v > 0 || (zero_ok && v == 0));
}

static bsp_err al_catalog_check(const char *path, struct bsp_alloc_catalog *cat,
				struct bsp_error *err)
{
	if (cat->version != 1)
		return bsp_error_set(
		    err, BSP_EINVAL,
		    "%s: catalog version %u (this build reads 1)", path,
		    cat->version);
	if (!cat->types_count && !cat->custom)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: the catalog has neither types nor "
				     "custom sizes",
				     path);
	for (unsigned i = 0; i < cat->storage_count; i++) {
		const struct bsp_alloc_storage *s = &cat->storage[i];
		if (al_storage_find(cat, s->name) != (int)i)
			return bsp_error_set(err, BSP_EINVAL,
					     "%s: storage %s appears twice",
					     path, s->name);
		if (!al_pos(s->iops, 0) || !al_pos(s->mbps, 0) ||
		    !al_pos(s->size_gib, 0) || !al_pos(s->price_hour, 1))
			return bsp_error_set(
			    err, BSP_EINVAL,
			    "%s: storage %s: size_gib, iops and mbps must "
			    "be > 0 and price_hour >= 0",
			    path, s->name);
	}
	for (unsigned i = 0; i < cat->types_count; i++) {
		struct bsp_alloc_type *t = &cat->types[i];
		const char *bad = NULL;
		if (t->cpu_baseline == 0)
			t->cpu_baseline = 1;
		if (bsp_alloc_type_find(cat, t->name) != (int)i)
			return bsp_error_set(err, BSP_EINVAL,
					     "%s: type %s appears twice", path,
					     t->name);
		if (!al_pos(t->vcpu, 0))
			bad = "vcpu";
		else if (!al_pos(t->cpu_baseline, 0) || t->cpu_baseline > 1)
			bad = "cpu_baseline";
		else if (!al_pos(t->memory_gib, 0))
			bad = "memory_gib";
		else if (!al_pos(t->network_gbps, 0))
			bad = "network_gbps";
		else if (!al_pos(t->price_hour, 0))
			bad = "price_hour";
		else if (!al_pos(t->spot_hour, 1) ||
			 t->spot_hour > t->price_hour)
			bad = "spot_hour";
		if (bad)
			return bsp_error_set(
			    err, BSP_EINVAL, "%s: type %s: %s must be > 0%s",
			    path, t->name, bad,
			    !strcmp(bad, "spot_hour")
				? " and at most price_hour "
				  "(0 = no spot offer)"
			    : !strcmp(bad, "cpu_baseline") ? " and at most 1"
							   : "");
		for (unsigned k = 0; k < t->storage_count; k++)
			if (al_storage_find(cat, t->storage[k]) < 0)
				return bsp_error_set(
				    err, BSP_EINVAL,
				    "%s: type %s: storage %s is not in the "
				    "catalog's storage list",
				    path, t->name, t->storage[k]);
	}
	if (cat->custom) {
		const struct bsp_alloc_custom *c = cat->custom;
		if (!al_pos(c->price_vcpu_hour, 0) ||
		    !al_pos(c->price_gib_hour, 0) || !al_pos(c->vcpu_step, 0) ||
		    !al_pos(c->memory_step_gib, 0) ||
		    !(c->max_vcpu >= c->vcpu_step) ||
		    !(c->max_memory_gib >= c->memory_step_gib) ||
		    !al_pos(c->network_gbps, 0))
			return bsp_error_set(
			    err, BSP_EINVAL,
			    "%s: custom: prices, steps and network_gbps "
			    "must be > 0, maxima at least one step",
			    path);
	}
	return BSP_OK;
}

bsp_err bsp_alloc_catalog_load(const char *path, struct bsp_alloc_catalog **out,
			       struct bsp_error *err)
{
	struct bsp_alloc_catalog *cat;
	bsp_err r;

	*out = NULL;
	if ((r = al_yaml_load(path, &al_catalog, (void **)&cat, err)))
		return r;
	if ((r = al_catalog_check(path, cat, err))) {
		bsp_alloc_catalog_free(cat);
		return r;
	}
	*out = cat;
	return BSP_OK;
}

/* ---- tiers and policies ------------------------------------------------- */

static const cyaml_strval_t al_spot_rules[] = {
    {"never", BSP_SPOT_NEVER},
    {"batch", BSP_SPOT_BATCH},
    {"always", BSP_SPOT_ALWAYS},
};

static const cyaml_schema_field_t al_tier_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct bsp_alloc_tier,
			   name, 1, 63),
    CYAML_FIELD_FLOAT("quantile", CYAML_FLAG_DEFAULT, struct bsp_alloc_tier,
		      quantile),
    CYAML_FIELD_FLOAT("violation", CYAML_FLAG_DEFAULT, struct bsp_alloc_tier,
		      violation),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t al_tier = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct bsp_alloc_tier,
			al_tier_fields),
};

static const cyaml_schema_field_t al_limit_fields[] = {
    CYAML_FIELD_FLOAT("vcpu", CYAML_FLAG_OPTIONAL, struct bsp_alloc_limits,
		      vcpu),
    CYAML_FIELD_FLOAT("memory_gib", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_limits, memory_gib),
    CYAML_FIELD_FLOAT("iops", CYAML_FLAG_OPTIONAL, struct bsp_alloc_limits,
		      iops),
    CYAML_FIELD_FLOAT("mbps", CYAML_FLAG_OPTIONAL, struct bsp_alloc_limits,
		      mbps),
    CYAML_FIELD_FLOAT("network_gbps", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_limits, network_gbps),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t al_policy_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct bsp_alloc_policy,
			   name, 1, 63),
    CYAML_FIELD_MAPPING("min", CYAML_FLAG_OPTIONAL, struct bsp_alloc_policy,
			min, al_limit_fields),
    CYAML_FIELD_MAPPING("max", CYAML_FLAG_OPTIONAL, struct bsp_alloc_policy,
			max, al_limit_fields),
    CYAML_FIELD_SEQUENCE("families", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			 struct bsp_alloc_policy, families, &al_string, 0, 256),
    CYAML_FIELD_FLOAT("budget_hour", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_policy, budget_hour),
    CYAML_FIELD_ENUM("spot", CYAML_FLAG_STRICT | CYAML_FLAG_OPTIONAL,
		     struct bsp_alloc_policy, spot, al_spot_rules,
		     BSP_ARRAY_LEN(al_spot_rules)),
    CYAML_FIELD_BOOL("custom", CYAML_FLAG_OPTIONAL, struct bsp_alloc_policy,
		     custom),
    CYAML_FIELD_STRING_PTR("lead_time",
			   CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			   struct bsp_alloc_policy, lead_time, 1, 32),
    CYAML_FIELD_STRING_PTR("hold_time",
			   CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			   struct bsp_alloc_policy, hold_time, 1, 32),
    CYAML_FIELD_FLOAT("hysteresis", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_policy, hysteresis),
    CYAML_FIELD_FLOAT("mhz_per_vcpu", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_policy, mhz_per_vcpu),
    CYAML_FIELD_FLOAT("io_size_kib", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_policy, io_size_kib),
    CYAML_FIELD_FLOAT("adjust_threshold", CYAML_FLAG_OPTIONAL,
		      struct bsp_alloc_policy, adjust_threshold),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t al_policy = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct bsp_alloc_policy,
			al_policy_fields),
};

static const cyaml_schema_field_t al_pfile_fields[] = {
    CYAML_FIELD_UINT("version", CYAML_FLAG_DEFAULT,
		     struct bsp_alloc_policy_file, version),
    CYAML_FIELD_SEQUENCE("tiers", CYAML_FLAG_POINTER,
			 struct bsp_alloc_policy_file, tiers, &al_tier, 1, 64),
    CYAML_FIELD_SEQUENCE("policies", CYAML_FLAG_POINTER,
			 struct bsp_alloc_policy_file, policies, &al_policy, 1,
			 256),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t al_pfile = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct bsp_alloc_policy_file,
			al_pfile_fields),
};

void bsp_alloc_policy_free(struct bsp_alloc_policy_file *pf)
{
	struct al_log lg = {{0}, 0, 0};
	cyaml_config_t cfg;
	if (pf)
		cyaml_free(al_yaml_config(&lg, &cfg), &al_pfile, pf, 0);
}

const struct bsp_alloc_tier *
bsp_alloc_tier_find(const struct bsp_alloc_policy_file *pf, const char *name)
{
	for (unsigned i = 0; i < pf->tiers_count; i++)
		if (!strcmp(pf->tiers[i].name, name))
			return &pf->tiers[i];
	return NULL;
}

const struct bsp_alloc_policy *
bsp_alloc_policy_find(const struct bsp_alloc_policy_file *pf, const char *name)
{
	for (unsigned i = 0; i < pf->policies_count; i++)
		if (!strcmp(pf->policies[i].name, name))
			return &pf->policies[i];
	return NULL;
}

/* A duration field: absent = the default, else it must parse. */
static bsp_err al_duration(const char *path, const char *who, const char *field,
			   const char *text, bsp_time dflt, bsp_time *out,
			   struct bsp_error *err)
{
	if (!text) {
		*out = dflt;
		return BSP_OK;
	}
	if (bsp_duration_parse(text, out) != BSP_OK || *out < 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: policy %s: %s '%s' is not a duration "
				     "(e.g. 10m, 2h)",
				     path, who, field, text);
	return BSP_OK;
}

static bsp_err al_policy_check(const char *path, struct bsp_alloc_policy *p,
			       struct bsp_error *err)
{
	bsp_err r;

	for (int k = 0; k < BSP_RES_N; k++) {
		double lo = al_limit(&p->min, (enum bsp_res)k);
		double hi = al_limit(&p->max, (enum bsp_res)k);
		if (!al_pos(lo, 1) || !al_pos(hi, 1))
			return bsp_error_set(err, BSP_EINVAL,
					     "%s: policy %s: %s bounds must be "
					     ">= 0",
					     path, p->name,
					     bsp_res_name((enum bsp_res)k));
		if (hi > 0 && lo > hi)
			return bsp_error_set(
			    err, BSP_EINVAL,
			    "%s: policy %s: min %s %g is above max %g", path,
			    p->name, bsp_res_name((enum bsp_res)k), lo, hi);
	}
	if (!al_pos(p->budget_hour, 1))
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: policy %s: budget_hour must be >= 0",
				     path, p->name);
	if (!(p->hysteresis >= 0 && p->hysteresis < 1))
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: policy %s: hysteresis %g is not in "
				     "[0, 1)",
				     path, p->name, p->hysteresis);
	if (!al_pos(p->mhz_per_vcpu, 1) || !al_pos(p->io_size_kib, 1))
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: policy %s: mhz_per_vcpu and "
				     "io_size_kib must be > 0",
				     path, p->name);
	if (!(p->adjust_threshold >= 0 && p->adjust_threshold <= 1))
		return bsp_error_set(
		    err, BSP_EINVAL,
		    "%s: policy %s: adjust_threshold %g is not "
		    "in (0, 1]",
		    path, p->name, p->adjust_threshold);
	/* Defaults for what was left out (docs/allocation.md). */
	if (p->mhz_per_vcpu == 0)
		p->mhz_per_vcpu = 2500;
	if (p->io_size_kib == 0)
		p->io_size_kib = 16;
	if (p->adjust_threshold == 0)
		p->adjust_threshold = 0.9;
	if ((r = al_duration(path, p->name, "lead_time", p->lead_time,
			     10 * BSP_MINUTE, &p->lead, err)) ||
	    (r = al_duration(path, p->name, "hold_time", p->hold_time,
			     2 * BSP_HOUR, &p->hold, err)))
		return r;
	return BSP_OK;
}

bsp_err bsp_alloc_policy_load(const char *path,
			      struct bsp_alloc_policy_file **out,
			      struct bsp_error *err)
{
	struct bsp_alloc_policy_file *pf;
	bsp_err r = BSP_OK;

	*out = NULL;
	if ((r = al_yaml_load(path, &al_pfile, (void **)&pf, err)))
		return r;
	if (pf->version != 1) {
		r = bsp_error_set(err, BSP_EINVAL,
				  "%s: policy file version %u (this build "
				  "reads 1)",
				  path, pf->version);
		goto out;
	}
	for (unsigned i = 0; i < pf->tiers_count; i++) {
		const struct bsp_alloc_tier *t = &pf->tiers[i];
		if (bsp_alloc_tier_find(pf, t->name) != t) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s: tier %s appears twice", path,
					  t->name);
			goto out;
		}
		if (!(t->quantile >= 0.5 && t->quantile <= 0.999) ||
		    !(t->violation > 0 && t->violation < 0.5)) {
			r = bsp_error_set(
			    err, BSP_EINVAL,
			    "%s: tier %s: quantile must be in "
			    "0.5..0.999 and violation in (0, 0.5)",
			    path, t->name);
			goto out;
		}
	}
	for (unsigned i = 0; i < pf->policies_count; i++) {
		struct bsp_alloc_policy *p = &pf->policies[i];
		if (bsp_alloc_policy_find(pf, p->name) != p) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s: policy %s appears twice", path,
					  p->name);
			goto out;
		}
		if ((r = al_policy_check(path, p, err)))
			goto out;
	}
out:
	if (r != BSP_OK)
		bsp_alloc_policy_free(pf);
	else
		*out = pf;
	return r;
}
