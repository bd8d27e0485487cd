/*
 * The simulator's internal interface (prefix sim_): the decaying
 * histogram VPA and Autopilot share, the table of policies, one entity's
 * trace as the driver feeds it, and the scoring.
 *
 * A policy is a small state machine driven by the clock: observe() gets
 * each usage sample (and capacity() each capacity sample) once its time
 * has passed, in time order; decide(t) returns the allocation for
 * [t, t + step) from what was observed, all of it strictly before t. The
 * driver (sim_trace_run) owns the clock, so look-ahead is impossible by
 * construction, and tests/unit/test_sim.c checks it.
 *
 * To add a policy: write its state, observe, decide and release in a
 * file of its own and add an entry to sim_policies[] (sim_policy.c) and
 * to enum bsp_sim_policy.
 */
#ifndef BSP_SIM_INT_H
#define BSP_SIM_INT_H

#include <math.h>
#include <pthread.h>

#include "internal.h"
#include "bespoke/sim.h"

/* ---- the decaying exponential histogram (VPA's util/histogram.go) ---- */

/*
 * Bucket i covers [start(i), start(i+1)) with start(i) = first * (ratio^i -
 * 1) / (ratio - 1): buckets grow by `ratio`, the first is `first` wide,
 * the last is open. A sample at time t weighs w * 2^((t - ref) / half_life),
 * so older samples decay relative to newer ones without touching them; the
 * reference moves when the factor grows large.
 */
struct sim_hist {
	double first, ratio;
	size_t nb;
	double half_life; /* ms; 0 = no decay */
	bsp_time ref;
	int has_ref;
	double *w;
	double total;
	size_t lo, hi; /* buckets [lo, hi) hold all weight */
};

bsp_err sim_hist_init(struct sim_hist *h, double first, double ratio,
		      double max, double half_life);
void sim_hist_release(struct sim_hist *h);
void sim_hist_clear(struct sim_hist *h);
size_t sim_hist_bucket(const struct sim_hist *h, double v);
double sim_hist_start(const struct sim_hist *h, size_t b);
/* Adds (w > 0) or subtracts (w < 0) a sample of value v at time t. */
void sim_hist_add(struct sim_hist *h, double v, double w, bsp_time t);
/* VPA's percentile: the end of the bucket where the cumulative weight
 * reaches p of the total (the start of the last bucket); 0 if empty. */
double sim_hist_percentile(const struct sim_hist *h, double p);

/* ---- policies --------------------------------------------------------- */

struct sim_calib;

/* What a policy knows about the trace before it starts. */
struct sim_ctx {
	int resource; /* enum bsp_sim_resource */
	bsp_time step;
	bsp_time from;	      /* first scored decision */
	bsp_time start;	      /* first time samples may come from */
	double unit_per_vcpu; /* CPU: metric units per vCPU */
	double unit_bytes;    /* memory: bytes per metric unit */
	/* The smallest allocation bespoke, autopilot and reactive make (VPA
	 * keeps its own pod minimums): 0.01 vCPU or 10 MB, the first bucket
	 * of VPA's histograms, in the metric's unit. 0 = none. */
	double min_alloc;
	double target; /* bespoke, forecast */
	/* bespoke: the fleet's calibration of this resource; NULL = decide
	 * the uncalibrated base (the calibration pass itself). */
	const struct sim_calib *calib;
	bsp_time refit;
	size_t calib_days;
	size_t shifts; /* parts of the day calibrated apart */
	size_t hold;   /* reactive */
};

struct sim_policy {
	const char *name;
	const char *help;
	size_t size; /* of its state */
	bsp_err (*init)(void *self, const struct sim_ctx *ctx);
	void (*observe)(void *self, bsp_time t, double v);
	void (*capacity)(void *self, bsp_time t, double v); /* may be NULL */
	/* The allocation for [t, t + step); NaN = no decision (the policy
	 * lacks the data, e.g. provisioned without a capacity series). */
	double (*decide)(void *self, bsp_time t);
	void (*release)(void *self);
};

extern const struct sim_policy *const sim_policies[BSP_SIM_N_POLICIES];
extern const struct sim_policy sim_policy_bespoke, sim_policy_vpa,
    sim_policy_autopilot, sim_policy_provisioned, sim_policy_reactive,
    sim_policy_forecast;

/* VPA and Autopilot constants, exposed for the tests. */
#define SIM_VPA_MARGIN	1.15
#define SIM_VPA_CPU_PCT 0.90
#define SIM_VPA_MEM_PCT 0.90
#define SIM_AP_MARGIN	1.10

/* ---- one trace ------------------------------------------------------- */

/* One entity's samples of one resource (the caller owns the arrays). */
struct sim_trace {
	const bsp_time *ts; /* usage, time order */
	const double *v;
	size_t n;
	const bsp_time *cap_ts; /* capacity, time order (may be 0 long) */
	const double *cap_v;
	size_t cap_n;
};

/*
 * Runs `policy` over the trace: decisions at ctx->from + k * step for
 * k < n_steps into alloc[k]. Decisions before ctx->from (from ctx->start
 * on, one per step) warm the policy up and are not returned.
 */
bsp_err sim_trace_run(const struct sim_policy *policy,
		      const struct sim_ctx *ctx, const struct sim_trace *tr,
		      size_t n_steps, double *alloc, struct bsp_error *err);

/* ---- bespoke's fleet calibration ---------------------------------------- */

/*
 * bespoke sizes each entity at its base (the largest sample of the last
 * day) times one factor per UTC day for the whole fleet: the conformal
 * quantile of every entity's scores (sample / base in force) from the
 * `calib_days` days before. The scores go into one histogram per day
 * (buckets 0.2% apart, exact at 1), so the memory does not grow with the
 * fleet, and entities add theirs from any thread.
 *
 *   sim_calib_init    days from ctx->start to `until`
 *   sim_calib_add     one entity's trace: runs the base over it, adds the
 *                     scores (takes the lock itself)
 *   sim_calib_finish  the factor of every day, at ctx->target
 *   sim_calib_factor  the factor in force at t; NaN if no score came
 *                     before t's day
 */
#define SIM_CALIB_STEP	   0.002 /* histogram buckets grow by this */
#define SIM_CALIB_HALF	   4606	 /* buckets from 1 up to 1e4, and down */
#define SIM_CALIB_BUCKETS  (2 * SIM_CALIB_HALF + 1)
#define SIM_CALIB_MAX_DAYS 100000

struct sim_calib {
	bsp_time day0; /* UTC midnight of day 0 */
	size_t n_days;
	uint32_t *count; /* n_days x SIM_CALIB_BUCKETS */
	double *max;	 /* per day: the largest score (-inf = none) */
	double *factor;	 /* per day, after sim_calib_finish */
	pthread_mutex_t lock;
};

bsp_err sim_calib_init(struct sim_calib *c, const struct sim_ctx *ctx,
		       bsp_time until);
bsp_err sim_calib_add(struct sim_calib *c, const struct sim_ctx *ctx,
		      const struct sim_trace *tr, bsp_time until);
void sim_calib_finish(struct sim_calib *c, const struct sim_ctx *ctx);
double sim_calib_factor(const struct sim_calib *c, bsp_time t);
void sim_calib_release(struct sim_calib *c);
/* Bucket i > 0 holds scores in (e(i - 1), e(i)], e(i) = (1 +
 * SIM_CALIB_STEP)^(i - SIM_CALIB_HALF); exposed for the tests. */
size_t sim_calib_bucket(double r);
double sim_calib_edge(size_t i);

/* ---- scoring ------------------------------------------------------------- */

struct sim_score {
	uint64_t points, violations;
	size_t days; /* entity-days scored for slack */
	double slack_sum;
	double slack_pos_sum; /* of max(slack, 0) */
	size_t under_days;    /* days whose allocation was below the P95 */
	double unit_hours;    /* allocation x hours, in the metric's unit */
	uint64_t changes;
	size_t decided_steps;
};

/* Scores alloc[0..n_steps) (decisions at from + k*step) against the
 * usage samples in [from, from + n_steps*step). */
void sim_score(const struct sim_trace *tr, bsp_time from, bsp_time step,
	       size_t n_steps, const double *alloc, struct sim_score *out);

/* Quantile p (type 7) of x[0..n), sorting x in place; NaN if n == 0. */
double sim_quantile(double *x, size_t n, double p);

#endif
