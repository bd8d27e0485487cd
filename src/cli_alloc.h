/*
 * Options and helpers shared by the allocation commands (recommend, plan):
 * the catalog, policy file, policy and tier, and the demand of an entity
 * from a freshly built Behaviour Profile.
 */
#ifndef BSP_CLI_ALLOC_H
#define BSP_CLI_ALLOC_H

#include <limits.h>

#include <jansson.h>

#include "bespoke/alloc.h"
#include "cli_predict.h"

#define CLI_ALLOC_LONGOPTS                                                     \
	{"catalog", required_argument, NULL, 0x300},                           \
	    {"policy", required_argument, NULL, 0x301},                        \
	    {"use", required_argument, NULL, 0x302},                           \
	    {"tier", required_argument, NULL, 0x303},                          \
	    {"mhz-per-vcpu", required_argument, NULL, 0x304},                  \
	{                                                                      \
		"at", required_argument, NULL, 0x305                           \
	}

#define CLI_ALLOC_USAGE                                                        \
	"  --tier NAME        performance tier (medium; low, high, ...)\n"     \
	"  --catalog FILE     instance catalog (the shipped instances.yaml)\n" \
	"  --policy FILE      tiers and policies (the shipped policy.yaml)\n"  \
	"  --use NAME         the policy to apply (default)\n"                 \
	"  --mhz-per-vcpu N   CPU MHz per vCPU when the entity does not say\n" \
	"  --at TIME          decide as of TIME (history before it only)\n"    \
	"  --horizon DUR      forecast horizon; --step DUR its step\n"

struct cli_alloc {
	const char *catalog, *policy, *use, *tier_name;
	double mhz; /* --mhz-per-vcpu, 0 = the policy's or the entity's */
	struct bsp_profile_options popt;
	struct bsp_alloc_catalog *cat;
	struct bsp_alloc_policy_file *pf;
	const struct bsp_alloc_policy *pol;
	const struct bsp_alloc_tier *tier;
};

void cli_alloc_init(struct cli_alloc *a);
/* -1: not one of ours; 0: handled; else an exit code. */
int cli_alloc_opt(struct cli_alloc *a, int c, char *arg);
/* Loads the catalog and policy file, finds the policy and tier. */
int cli_alloc_load(struct cli_alloc *a);
void cli_alloc_release(struct cli_alloc *a);

/*
 * Builds (and stores) the entity's profile and reads it as demand in
 * allocation units; fills *cur with its provisioned size. Returns 0 or
 * fills err.
 */
bsp_err cli_alloc_demand(struct bsp_store *st, struct cli_alloc *a,
			 const char *entity, struct bsp_alloc_demand *d,
			 struct bsp_alloc_current *cur, struct bsp_error *err);

/*
 * The recommendation for a profile already in hand (its JSON): units from
 * the entity's attributes (`mhz` > 0 wins), the demand (*d, release it),
 * the override in force at `now` (*ov and *found; BSP_TIME_NONE: none
 * looked up), then bsp_alloc_recommend into *rec.
 */
bsp_err cli_alloc_recommend_json(struct bsp_store *st,
				 const struct bsp_alloc_catalog *cat,
				 const struct bsp_alloc_policy *pol,
				 const struct bsp_alloc_tier *tier, double mhz,
				 const char *entity, const char *profile,
				 bsp_time now, struct bsp_alloc_demand *d,
				 struct bsp_alloc_override *ov, int *found,
				 struct bsp_alloc_rec *rec,
				 struct bsp_error *err);

/* Prints the error with the entity's name in front unless it starts
 * with it already; returns the exit code. */
int cli_alloc_fail(const char *entity, const struct bsp_error *err);

/* A plan as the JSON `bespoke plan` stores (docs/allocation.md);
 * cmd_plan.c, also used by the daemon's learn loop. */
json_t *cli_alloc_plan_json(const char *entity,
			    const struct bsp_alloc_catalog *cat,
			    const struct bsp_alloc_policy *pol,
			    const struct bsp_alloc_tier *tier,
			    const struct bsp_alloc_demand *d,
			    const struct bsp_alloc_plan *p, bsp_time lead,
			    bsp_time hold, const struct bsp_alloc_override *ov);

/* ---- resize (cmd_resize.c; also the daemon's learn loop) ---------- */

/* One resource's decision, in vCPUs or GiB. */
struct cli_resize_res {
	int has;
	double in_force; /* the decision of the hour before; NaN = none */
	double next;     /* NaN = none */
	double base;     /* the last day's largest sample; NaN = none */
	char why[320];
};

struct cli_resize {
	const struct bsp_alloc_policy *pol; /* its min and max apply */
	double mhz;        /* CPU MHz per vCPU; 0 = the entity's or policy's */
	double target;     /* 0 = 0.0035 */
	size_t calib_days; /* 0 = 14 */
	bsp_time at;       /* BSP_TIME_NONE = after the newest sample */
	int store;         /* keep each as a `resize` document */
	unsigned threads;  /* 0 = all cores */
};

/* What the whole run decided on. */
struct cli_resize_fleet {
	bsp_time t;       /* the hour decided starts here */
	double factor[2]; /* cpu, memory */
	double target;
	size_t calib_days;
};

/* Called per entity: its decisions (cpu, memory), the JSON stored (NULL
 * when the entity has no usage), the stored version (0 when not stored)
 * and the `next` of its previous resize document (NaN where none). */
typedef bsp_err (*cli_resize_fn)(const char *entity,
				 const struct cli_resize_fleet *f,
				 const struct cli_resize_res *d, json_t *doc,
				 int64_t version, const double *prev, void *ud,
				 struct bsp_error *err);

/*
 * The coming hour's CPU and memory for `names` (every entity when NULL):
 * the simulator's bespoke policy replayed over the whole fleet of the
 * store at `db`, with the policy's bounds and the overrides in force over
 * it (docs/resize.md). `st` is an open handle on the same store.
 */
bsp_err cli_resize_run(const char *db, struct bsp_store *st,
		       const struct cli_resize *o, char *const *names,
		       size_t n, cli_resize_fn fn, void *ud,
		       struct bsp_error *err);

/* "2 vCPU", "12.5 GiB" */
void cli_alloc_amount(enum bsp_res r, double v, char *buf, size_t size);

#endif
