/*
 * The allocation stage's internals: the YAML loading helpers shared by the
 * catalog and the policy loaders, and small numeric helpers.
 */
#ifndef BSP_ALLOC_INT_H
#define BSP_ALLOC_INT_H

#include <cyaml/cyaml.h>
#include <jansson.h>

#include "internal.h"
#include "bespoke/alloc.h"

/* What libcyaml's log callback keeps: the first message and position. */
struct al_log {
	char msg[256];
	long line, column;
};

/* A libcyaml configuration that logs into `lg`. */
const cyaml_config_t *al_yaml_config(struct al_log *lg, cyaml_config_t *cfg);

/*
 * Loads `path` against `schema` into *out; on failure the error reads
 * "FILE:LINE:COLUMN: message" (or "FILE: message" without a position).
 */
bsp_err al_yaml_load(const char *path, const cyaml_schema_value_t *schema,
		     void **out, struct bsp_error *err);

/* The limit of resource r in a bsp_alloc_limits. */
double al_limit(const struct bsp_alloc_limits *l, enum bsp_res r);

/* Formats a resource amount with its unit: "12 GiB", "2 vCPU". */
void al_fmt_amount(enum bsp_res r, double v, char *buf, size_t size);

/* BSP_ALLOC_SPOT when the policy's spot rule allows it for the workload. */
unsigned al_spot_flags(const struct bsp_alloc_policy *pol,
		       const struct bsp_alloc_demand *d);

/* Mean violation per resource and for any resource over [from, until). */
void al_violation(const struct bsp_alloc_demand *d, size_t from, size_t until,
		  const double have[BSP_RES_N], double viol[BSP_RES_N],
		  double *any);

/* The override as a JSON object (new reference). */
json_t *al_override_obj(const struct bsp_alloc_override *o);

#endif
