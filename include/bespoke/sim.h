/*
 * bespoke: the allocation simulator, the proof that predictive sizing
 * beats today's right-sizers on real traces.
 *
 * It replays stored usage: at each decision step t (from, from + step,
 * ... < until) every policy sizes every resource of every entity from the
 * samples strictly before t (the driver hands a policy a sample only once
 * the clock has passed it, so no policy can look ahead), and then the real
 * samples in [t, t + step) are scored against that allocation:
 *
 *   violation rate   share of samples where usage > allocation
 *   slack            mean over entity-days of (A - P95 of the day's usage)
 *                    / A, A the day's mean allocation (Autopilot, EuroSys
 *                    2020, section 5)
 *   cost             allocated vCPU-hours and GiB-hours at unit prices
 *   changes per day  allocation changes per entity and day
 *
 * Policies (a table; bsp_sim_policy_name): bespoke (the last day's peak
 * times a factor calibrated on the whole fleet), vpa (the Kubernetes VPA
 * recommender), autopilot (Google Autopilot's moving window), provisioned (the
 * trace's capacity series), reactive (a threshold autoscaler), forecast (a
 * forecast of the step's mean plus a calibrated margin). docs/simulate.md
 * has the algorithms, their sources and constants.
 *
 * Ownership: results are malloc'd inside struct bsp_sim_result and
 * released by bsp_sim_result_release. Strings in the options are only
 * read during the call.
 */
#ifndef BESPOKE_SIM_H
#define BESPOKE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "time.h"

enum bsp_sim_policy {
	BSP_SIM_BESPOKE,
	BSP_SIM_VPA,
	BSP_SIM_AUTOPILOT,
	BSP_SIM_PROVISIONED,
	BSP_SIM_REACTIVE,
	BSP_SIM_FORECAST,
	BSP_SIM_N_POLICIES
};

/* The i-th policy's name ("bespoke", "vpa", ...) and one-line summary;
 * NULL past the end. */
BSP_EXTERN const char *bsp_sim_policy_name(size_t i);
BSP_EXTERN const char *bsp_sim_policy_help(size_t i);
/* Index of a policy by name, or -1. */
BSP_EXTERN int bsp_sim_policy_find(const char *name);

/* Resources the simulator sizes: the usage metric, the capacity metric
 * that `provisioned` reads, and how units convert for the cost. */
enum bsp_sim_resource { BSP_SIM_CPU, BSP_SIM_MEM, BSP_SIM_N_RESOURCES };

/* "cpu" / "mem" (or the usage metric's name, "cpu_usage" / "mem_usage");
 * -1 if unknown. */
BSP_EXTERN int bsp_sim_resource_find(const char *name);
BSP_EXTERN const char *bsp_sim_resource_name(size_t r);
BSP_EXTERN const char *bsp_sim_resource_metric(size_t r);

/* Default unit prices, US dollars per hour: a least-squares fit of
 * vCPU and GiB prices to AWS EC2 on-demand c5.large, m5.large and
 * r5.large in us-east-1 (Linux), $0.085, $0.096 and $0.126 an hour
 * (docs/simulate.md). */
#define BSP_SIM_PRICE_VCPU_HOUR 0.0350
#define BSP_SIM_PRICE_GIB_HOUR	0.00346

struct bsp_sim_options {
	bsp_time from, until; /* the replay: decisions at from + k*step */
	bsp_time step;	      /* 0 = 1 hour */
	/* How far before `from` the policies may read: 0 = 8 weeks. */
	bsp_time history;
	unsigned policies;  /* 1 << enum bsp_sim_policy; 0 = all */
	unsigned resources; /* 1 << enum bsp_sim_resource; 0 = both */
	/* Entity names; NULL (n_entities 0) = every entity in the store. */
	const char *const *entities;
	size_t n_entities;
	unsigned threads;	/* 0 = all cores */
	double price_vcpu_hour; /* 0 = BSP_SIM_PRICE_VCPU_HOUR */
	double price_gib_hour;	/* 0 = BSP_SIM_PRICE_GIB_HOUR */
	/* CPU in MHz → vCPUs when the entity has no cpu_capacity and
	 * cpu_cores series to derive it from; 0 = 2500. */
	double mhz_per_vcpu;
	/* bespoke and forecast: the conformal level, the share of samples
	 * they let exceed the allocation (0 = 0.004 for bespoke, 0.003 for
	 * forecast, chosen on July 2013 to keep the measured rate under
	 * 0.5%), and the days of scores they calibrate on (0 = 14). */
	double target;
	size_t calib_days;
	/* forecast: the refit period (0 = 7 days) and the parts of the UTC
	 * day whose scores calibrate apart (0 = 3, three 8-hour shifts; 1 =
	 * the whole day together). */
	bsp_time refit;
	size_t shifts;
	/* reactive: steps below 40% before scaling down (0 = 6). */
	size_t hold;
	/* Keep every allocation of this policy (-1 = none) for export. */
	int keep;
	/* Called after each entity (from worker threads, serialised). */
	void (*progress)(size_t done, size_t total, void *ud);
	void *progress_ud;
};

BSP_EXTERN void bsp_sim_options_init(struct bsp_sim_options *opt);

/* One policy and resource over the whole fleet. */
struct bsp_sim_row {
	int policy;	 /* enum bsp_sim_policy */
	int resource;	 /* enum bsp_sim_resource */
	size_t entities; /* entities scored */
	uint64_t points; /* usage samples scored */
	uint64_t violations;
	double violation_rate;
	size_t entity_days; /* days with usage and a positive allocation */
	double slack;	    /* mean relative slack over those */
	/* The same with a day below its P95 counted as 0, not negative:
	 * the mean rewards an allocation below the P95 without limit (half
	 * the P95 scores -1), this one does not. */
	double slack_clipped;
	size_t under_days; /* days whose mean allocation was below the P95 */
	double cost;	   /* dollars */
	double vcpu_hours; /* CPU rows; GiB-hours for memory rows */
	uint64_t changes;
	double changes_per_day; /* per entity */
};

/* The kept allocations of one entity and resource. */
struct bsp_sim_trace {
	char *entity;
	const char *metric; /* static: the usage metric */
	int resource;	    /* enum bsp_sim_resource */
	double *alloc;	    /* n_steps, in the metric's unit; NaN = none */
	/* vCPUs (CPU) or GiB (memory) per unit of the metric */
	double per_unit;
	/* the smallest allocation the policies make, in the metric's unit */
	double min_alloc;
};

struct bsp_sim_result {
	bsp_time from, until, step;
	size_t n_steps;
	size_t n_entities; /* entities simulated */
	size_t n_skipped;  /* entities with none of the resources */
	size_t n_rows;
	struct bsp_sim_row *rows; /* policy-major, in table order */
	size_t n_traces;
	struct bsp_sim_trace *traces; /* when opt->keep >= 0 */
	double price_vcpu_hour, price_gib_hour;
	/* bespoke's fleet factor in force at the last step, per resource
	 * (NaN when bespoke did not run or had no score yet) */
	double factor[BSP_SIM_N_RESOURCES];
	double seconds; /* wall time of the run */
};

/*
 * Runs the simulation on the store at `uri` (opened read-only, once per
 * worker thread). BSP_EINVAL for a bad range or option, BSP_ENOTFOUND for a
 * named entity that does not exist or a store without the resources'
 * metrics; *res is left empty on error.
 */
BSP_EXTERN bsp_err bsp_sim_run(const char *uri,
			       const struct bsp_sim_options *opt,
			       struct bsp_sim_result *res,
			       struct bsp_error *err);

BSP_EXTERN void bsp_sim_result_release(struct bsp_sim_result *res);

#endif
