/*
 * bespoke: resource allocation, from a Behaviour Profile to a machine.
 *
 * Three inputs, all YAML that users edit (schemas in docs/allocation.md):
 *
 *   - an instance catalog (data/instances.yaml): instance types with their
 *     vCPUs, memory, network bandwidth, on-demand and spot prices, and the
 *     storage options they can use; or a `custom` price model (per vCPU and
 *     per GiB, for KVM or Kubernetes) where any size can be made;
 *   - performance tiers (data/policy.yaml): the forecast quantile to cover
 *     and the violation rate tolerated;
 *   - policies (same file): minimum and maximum per resource, allowed
 *     families, budget, when spot capacity may be used, lead and hold
 *     times, and the unit conversions.
 *
 * Demand is the profile's quantile forecasts converted to the catalog's
 * units (struct bsp_alloc_demand). The cheapest shape that covers the
 * tier's quantile of the peak for every resource is chosen exactly, as a
 * small mixed-integer program solved by GLPK (bsp_alloc_choose). A plan
 * (bsp_alloc_plan) makes that choice over time, ahead of peaks.
 *
 * Units everywhere in this API: vCPUs, GiB of memory, disk I/O operations
 * per second and MB/s (10^6 bytes), network Gbit/s, US dollars per hour.
 *
 * Ownership: a catalog or policy file belongs to the caller of its _load
 * function and is freed by its _free; strings and arrays inside are
 * read-only and live as long as it does. Demands, plans and
 * recommendations are released with their _release function. JSON text
 * returned through `char **` is malloc'd and belongs to the caller.
 *
 * Threads: everything here may run on several threads at once (catalogs
 * and policies are only read). GLPK keeps its state per thread and
 * bsp_alloc_choose frees it before returning, so a caller must not hold
 * GLPK objects of its own on the same thread across the call.
 */
#ifndef BESPOKE_ALLOC_H
#define BESPOKE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "time.h"

/* The resources sized, in the units above. */
enum bsp_res {
	BSP_RES_CPU,  /* vCPUs */
	BSP_RES_MEM,  /* GiB */
	BSP_RES_IOPS, /* disk operations per second */
	BSP_RES_MBPS, /* disk MB/s */
	BSP_RES_NET,  /* network Gbit/s */
	BSP_RES_N,
};

/* "cpu", "memory", "iops", "disk_mbps", "network" and their units. */
BSP_EXTERN const char *bsp_res_name(enum bsp_res r);
BSP_EXTERN const char *bsp_res_unit(enum bsp_res r);

/* ---- the catalog ------------------------------------------------------- */

enum bsp_storage_kind {
	BSP_STORAGE_HDD,
	BSP_STORAGE_SSD,
	BSP_STORAGE_NVME,
};

struct bsp_alloc_storage {
	char *name; /* "gp3-100", unique */
	enum bsp_storage_kind kind;
	double size_gib;   /* the volume the price is for */
	double iops;	   /* sustained operations per second */
	double mbps;	   /* sustained MB/s */
	double price_hour; /* added to the instance's price */
	/* Instance-store storage comes only with the types that name it;
	 * the others (network volumes) go with every type. */
	int local;
};

struct bsp_alloc_type {
	char *name;   /* "m5.large" */
	char *family; /* "m5" */
	double vcpu;
	/* Share of each vCPU it can use without end: 1, or a burstable
	 * type's baseline (t3.large: 0.3). Sizing counts vcpu * cpu_baseline,
	 * since demand here is sustained over a forecast step. */
	double cpu_baseline;
	double memory_gib;
	double network_gbps; /* sustained (baseline) bandwidth */
	double price_hour;   /* on-demand */
	double spot_hour;    /* 0 = no spot offer */
	char **storage;	     /* local storage options it comes with */
	unsigned storage_count;
};

/* Any size in steps, priced per vCPU-hour and per GiB-hour. */
struct bsp_alloc_custom {
	double price_vcpu_hour;
	double price_gib_hour;
	double vcpu_step; /* sizes are whole multiples of these */
	double memory_step_gib;
	double max_vcpu;
	double max_memory_gib;
	double network_gbps;
};

struct bsp_alloc_catalog {
	unsigned version; /* 1 */
	char *source;	  /* where the figures come from, and when */
	struct bsp_alloc_storage *storage;
	unsigned storage_count;
	struct bsp_alloc_type *types;
	unsigned types_count;
	struct bsp_alloc_custom *custom; /* NULL = no custom sizes */
};

/* Loads and checks a catalog; errors name FILE:LINE:COLUMN or the field. */
BSP_EXTERN bsp_err bsp_alloc_catalog_load(const char *path,
					  struct bsp_alloc_catalog **out,
					  struct bsp_error *err);
BSP_EXTERN void bsp_alloc_catalog_free(struct bsp_alloc_catalog *cat);
/* Index of a type by name, or -1. */
BSP_EXTERN int bsp_alloc_type_find(const struct bsp_alloc_catalog *cat,
				   const char *name);

/* ---- tiers and policies ------------------------------------------------ */

struct bsp_alloc_tier {
	char *name;	  /* "low", "medium", "high", or a custom one */
	double quantile;  /* forecast quantile to cover, 0.5..0.999 */
	double violation; /* share of steps allowed above the allocation */
};

/* A resource's bounds; 0 = no bound. */
struct bsp_alloc_limits {
	double vcpu, memory_gib, iops, mbps, network_gbps;
};

enum bsp_spot_rule {
	BSP_SPOT_NEVER,
	BSP_SPOT_BATCH, /* only for delay-insensitive (batch) workloads */
	BSP_SPOT_ALWAYS,
};

struct bsp_alloc_policy {
	char *name;
	struct bsp_alloc_limits min, max;
	char **families; /* allowed families; 0 = all */
	unsigned families_count;
	double budget_hour; /* 0 = none */
	enum bsp_spot_rule spot;
	int custom;		 /* use the catalog's custom sizes too */
	char *lead_time;	 /* text as written ("10m"); parsed into lead */
	char *hold_time;	 /* the scale-down delay, e.g. "2h" */
	double hysteresis;	 /* scale down only if it saves this share */
	double mhz_per_vcpu;	 /* CPU in MHz → vCPUs, when the entity
				    does not say */
	double io_size_kib;	 /* disk KB/s → IOPS */
	double adjust_threshold; /* runtime: raise above this share */
	bsp_time lead, hold;	 /* parsed (ms) */
};

struct bsp_alloc_policy_file {
	unsigned version;
	struct bsp_alloc_tier *tiers;
	unsigned tiers_count;
	struct bsp_alloc_policy *policies;
	unsigned policies_count;
};

BSP_EXTERN bsp_err bsp_alloc_policy_load(const char *path,
					 struct bsp_alloc_policy_file **out,
					 struct bsp_error *err);
BSP_EXTERN void bsp_alloc_policy_free(struct bsp_alloc_policy_file *pf);
/* By name, or NULL. */
BSP_EXTERN const struct bsp_alloc_tier *
bsp_alloc_tier_find(const struct bsp_alloc_policy_file *pf, const char *name);
BSP_EXTERN const struct bsp_alloc_policy *
bsp_alloc_policy_find(const struct bsp_alloc_policy_file *pf, const char *name);

/* ---- the choice: cheapest shape that covers a need --------------------- */

enum bsp_alloc_flags {
	BSP_ALLOC_SPOT = 1 << 0, /* spot prices may be used (the caller has
				    applied the policy's spot rule) */
};

struct bsp_alloc_choice {
	int type;    /* index in the catalog's types; -1 = a custom size */
	int storage; /* index in the catalog's storage; -1 = none needed */
	int spot;    /* priced at the spot rate */
	double have[BSP_RES_N]; /* what the shape provides */
	double price_hour;	/* instance (or custom) + storage */
	char name[64];		/* "r5.large", "custom-4vcpu-12gib" */
};

/*
 * The cheapest shape with have[r] >= need[r] for every resource (NaN or 0
 * = not needed), within the policy's minimum, maximum, families and
 * budget. A need above the policy maximum is cut to the maximum (the
 * caller reports it; bsp_alloc_recommend does). `only_type` (may be NULL)
 * restricts the choice to that one type. Solved exactly as a small MIP
 * with GLPK: a binary per type × storage option (plus integer vCPU and
 * memory steps for custom sizes), one row per resource and the budget.
 * BSP_EINVAL when nothing fits, with the constraint that cannot be met
 * named in `err`.
 *
 * This is the function the simulator calls: need[] from
 * bsp_alloc_demand_need() for its tier, or from any other estimate.
 */
BSP_EXTERN bsp_err bsp_alloc_choose(const struct bsp_alloc_catalog *cat,
				    const struct bsp_alloc_policy *pol,
				    const double need[BSP_RES_N],
				    const char *only_type, unsigned flags,
				    struct bsp_alloc_choice *out,
				    struct bsp_error *err);

/* ---- demand: the profile's forecasts in allocation units --------------- */

#define BSP_ALLOC_MAX_LEVELS 8

struct bsp_alloc_demand {
	bsp_time start, step; /* the forecast grid */
	size_t n_steps;
	size_t n_levels;
	double levels[BSP_ALLOC_MAX_LEVELS]; /* increasing, e.g. 0.05..0.99 */
	/* q[r][l * n_steps + j]: level l at step j, in the resource's unit;
	 * NULL for a resource the profile does not forecast. */
	double *q[BSP_RES_N];
	char metric[BSP_RES_N][32]; /* where each came from */
	double factor[BSP_RES_N];   /* metric's unit → resource's unit */
	char how[BSP_RES_N][96];    /* the conversion, in words */
	/* The largest step mean of the history window (the profile's
	 * history.max) in the resource's unit, 0 if unknown. No need goes
	 * above it unless the median forecast does (a trend): a band's
	 * width is no evidence of demand nothing in the history ever
	 * reached (bsp_alloc_demand_q). */
	double hist_max[BSP_RES_N];
	int64_t profile_version;    /* 0 when not stored */
	char workload[16];	    /* "batch", "interactive" or "" */
};

/* How raw units become allocation units (docs/allocation.md). */
struct bsp_alloc_units {
	double mhz_per_vcpu;	 /* CPU MHz per vCPU */
	double io_size_kib;	 /* mean I/O size: KB/s → IOPS */
	double provisioned_vcpu; /* for a CPU in %; 0 = unknown */
};

/*
 * Reads a Behaviour Profile (docs/profile.md) into *d: cpu_usage (MHz,
 * cores), mem_usage (KB, MiB, GiB, B), disk_total (KB/s, MB/s, B/s: both
 * IOPS and MB/s), net_total (KB/s, B/s, Mbit/s). Release with
 * bsp_alloc_demand_release.
 */
BSP_EXTERN bsp_err bsp_alloc_demand_from_profile(
    const char *json, const struct bsp_alloc_units *u,
    struct bsp_alloc_demand *d, struct bsp_error *err);
BSP_EXTERN void bsp_alloc_demand_release(struct bsp_alloc_demand *d);

/* Quantile `p` of resource r at step j (linear between levels), as a
 * need: above the median, held at hist_max[r] unless the median itself
 * is higher. */
BSP_EXTERN double bsp_alloc_demand_q(const struct bsp_alloc_demand *d,
				     enum bsp_res r, size_t j, double p);
/* The same from the forecast alone, without the history's bound. */
BSP_EXTERN double bsp_alloc_demand_q_raw(const struct bsp_alloc_demand *d,
					 enum bsp_res r, size_t j, double p);
/*
 * The need per resource: the highest quantile-p value over steps
 * [from, until) of the grid; peak[r] (may be NULL) receives its step.
 * NaN for resources without a forecast.
 */
BSP_EXTERN void bsp_alloc_demand_need(const struct bsp_alloc_demand *d,
				      double p, size_t from, size_t until,
				      double need[BSP_RES_N],
				      size_t peak[BSP_RES_N]);
/*
 * P(demand > alloc) at step j, from the quantile forecast: linear in the
 * CDF between levels, an exponential tail fitted to the two top levels.
 */
BSP_EXTERN double bsp_alloc_exceed(const struct bsp_alloc_demand *d,
				   enum bsp_res r, size_t j, double alloc);

/* ---- overrides ---------------------------------------------------------- */

/* An administrator's override: values win over predictions until expiry. */
struct bsp_alloc_override {
	double value[BSP_RES_N]; /* NaN = not overridden */
	char type[64];		 /* "" = any type */
	bsp_time expires;	 /* BSP_TIME_NONE = never */
	bsp_time created;
	char reason[256];
	int64_t version; /* stored version, 0 when not stored */
	int cleared;	 /* a --clear record */
};

/* JSON text of the stored document (kind "override"), and back. */
BSP_EXTERN bsp_err bsp_alloc_override_json(const struct bsp_alloc_override *o,
					   char **json, struct bsp_error *err);
BSP_EXTERN bsp_err bsp_alloc_override_parse(const char *json,
					    struct bsp_alloc_override *o,
					    struct bsp_error *err);
/*
 * The override in force for `entity` at time `at`: its latest "override"
 * version, unless that one is a clear or has expired by `at`; then
 * *found = 0 but *o still holds it (o->version 0 when there is none).
 */
BSP_EXTERN bsp_err bsp_alloc_override_get(struct bsp_store *st,
					  const char *entity, bsp_time at,
					  struct bsp_alloc_override *o,
					  int *found, struct bsp_error *err);

/* ---- recommendation ---------------------------------------------------- */

#define BSP_ALLOC_MAX_REASONS 12

struct bsp_alloc_rec {
	struct bsp_alloc_choice choice;
	double need[BSP_RES_N];	     /* after overrides and caps */
	size_t peak[BSP_RES_N];	     /* step of each resource's peak */
	double violation[BSP_RES_N]; /* expected share of steps above */
	double violation_any;	     /* any resource, steps independent */
	double cost_hour;
	double cost_horizon; /* over the forecast horizon */
	int has_current;
	struct bsp_alloc_choice current; /* the provisioned size, priced */
	double savings_hour;		 /* current - chosen */
	int override_used;
	struct bsp_alloc_override override;
	char reasons[BSP_ALLOC_MAX_REASONS][256];
	size_t n_reasons;
};

/* What the entity runs on now: provisioned vCPUs and memory (0 = unknown)
 * or a catalog type name. */
struct bsp_alloc_current {
	double vcpu, memory_gib;
	char type[64];
};

/*
 * The recommendation for one demand: need = the tier's quantile peak
 * (or the override's values), flags from the policy's spot rule and the
 * workload class, the choice, its violation and cost, savings against
 * `cur` (may be NULL) and the reasons in words.
 */
BSP_EXTERN bsp_err bsp_alloc_recommend(
    const struct bsp_alloc_catalog *cat, const struct bsp_alloc_policy *pol,
    const struct bsp_alloc_tier *tier, const struct bsp_alloc_demand *d,
    const struct bsp_alloc_override *ov, const struct bsp_alloc_current *cur,
    struct bsp_alloc_rec *rec, struct bsp_error *err);

/* The entity's provisioned size and the MHz of one of its cores, from its
 * attributes and its series' last samples before `before` (BSP_TIME_NONE
 * = the latest; docs/allocation.md); zeros when unknown. */
BSP_EXTERN bsp_err bsp_alloc_entity_current(struct bsp_store *st,
					    const char *entity, bsp_time before,
					    struct bsp_alloc_current *cur,
					    double *mhz_per_core,
					    struct bsp_error *err);

/* The recommendation as JSON (schema in docs/allocation.md). */
BSP_EXTERN bsp_err bsp_alloc_rec_json(const char *entity,
				      const struct bsp_alloc_catalog *cat,
				      const struct bsp_alloc_tier *tier,
				      const struct bsp_alloc_demand *d,
				      const struct bsp_alloc_rec *rec,
				      char **json, struct bsp_error *err);

/* ---- runtime adjustment ------------------------------------------------ */

/* The latest observed usage per resource, in allocation units. */
struct bsp_alloc_observed {
	double value[BSP_RES_N]; /* NaN = not observed */
	bsp_time at[BSP_RES_N];
};

/*
 * Reads the last sample of each metric the demand was built from (the
 * mean over the `window` before it when window > 0) and converts it like
 * the forecast.
 */
BSP_EXTERN bsp_err bsp_alloc_observe(struct bsp_store *st, const char *entity,
				     const struct bsp_alloc_demand *d,
				     bsp_time window,
				     struct bsp_alloc_observed *obs,
				     struct bsp_error *err);

/*
 * Behavioural mirroring: where observed usage has reached the policy's
 * adjust_threshold share of what `rec` allocates (and no override sets
 * that resource), the need is raised at once to usage / threshold and the
 * shape chosen again; `rec` is updated with a reason. *raised counts the
 * resources raised; *feedback (may be NULL) receives the JSON of an
 * "adjustment" document (schema bespoke-adjustment) when *raised > 0.
 */
BSP_EXTERN bsp_err bsp_alloc_adjust(const struct bsp_alloc_catalog *cat,
				    const struct bsp_alloc_policy *pol,
				    const struct bsp_alloc_tier *tier,
				    const struct bsp_alloc_demand *d,
				    const char *entity,
				    const struct bsp_alloc_observed *obs,
				    struct bsp_alloc_rec *rec, int *raised,
				    char **feedback, struct bsp_error *err);

/* ---- plans -------------------------------------------------------------- */

/* One stretch of time with one shape. */
struct bsp_alloc_step {
	bsp_time from, until;
	struct bsp_alloc_choice choice;
	double need[BSP_RES_N]; /* what the window asked for */
	double violation;	/* expected share of grid steps above */
	double cost;		/* price × duration, dollars */
	int override;		/* an override was in force */
	char why[96];		/* "up 10m before the 08:00 peak", ... */
};

struct bsp_alloc_plan {
	struct bsp_alloc_step *steps;
	size_t n;
	double cost;	  /* total */
	double violation; /* over the whole horizon */
	size_t changes;
};

/*
 * A time-varying plan over the demand's grid. At time t the shape covers
 * the tier's quantile of the highest demand in [t - hold, t + lead]: a
 * rise is met `lead` before it is predicted, and a fall is followed only
 * once it has lasted `hold`. A scale-down that saves less than the
 * policy's hysteresis share of the price is skipped, so the plan does not
 * flap. `ov` (may be NULL) wins until it expires.
 */
BSP_EXTERN bsp_err bsp_alloc_plan_make(
    const struct bsp_alloc_catalog *cat, const struct bsp_alloc_policy *pol,
    const struct bsp_alloc_tier *tier, const struct bsp_alloc_demand *d,
    const struct bsp_alloc_override *ov, bsp_time lead, bsp_time hold,
    struct bsp_alloc_plan *plan, struct bsp_error *err);
BSP_EXTERN void bsp_alloc_plan_release(struct bsp_alloc_plan *plan);

/* ---- exports ----------------------------------------------------------- */

enum bsp_alloc_format {
	BSP_ALLOC_LIBVIRT,  /* a libvirt domain XML */
	BSP_ALLOC_K8S,	    /* Kubernetes requests/limits YAML */
	BSP_ALLOC_INSTANCE, /* the cloud instance type name */
};

BSP_EXTERN bsp_err bsp_alloc_format_parse(const char *s,
					  enum bsp_alloc_format *out);
/*
 * The choice (and the need it covers, for requests) in a deployment
 * format; `name` is the domain or container name.
 */
BSP_EXTERN bsp_err bsp_alloc_export(enum bsp_alloc_format f, const char *name,
				    const struct bsp_alloc_catalog *cat,
				    const struct bsp_alloc_rec *rec,
				    char **text, struct bsp_error *err);

#endif
