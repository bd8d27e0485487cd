/*
 * The table of policies, the two simplest ones, and the driver that runs
 * a policy over a trace.
 *
 *   provisioned  the trace's own capacity series: what the operators gave
 *                the VM (the last capacity sample before the decision).
 *   reactive     a threshold autoscaler of the kind cloud autoscalers
 *                offer (target tracking on a peak): after each step, if
 *                the step's peak exceeded 80% of the allocation, scale up
 *                x1.5 at once; if it stayed under 40% for `hold` steps in a
 *                row (default 6), scale down x0.75, never under the
 *                smallest allocation. It starts at the first step's
 *                peak / 0.6, the middle of its band.
 *
 * The driver is the only place that knows the clock: it feeds each policy
 * the samples with t < decision time, then asks for the decision. A
 * policy never sees a sample before the clock has passed it.
 */
#include "sim_int.h"

#define REACTIVE_UP_AT	 0.8
#define REACTIVE_UP	 1.5
#define REACTIVE_DOWN_AT 0.4
#define REACTIVE_DOWN	 0.75
#define REACTIVE_START	 0.6

/* ---- provisioned ----------------------------------------------------------
 */

struct provisioned {
	double last;
};

static bsp_err prov_init(void *self, const struct sim_ctx *ctx)
{
	struct provisioned *p = self;

	BSP_UNUSED(ctx);
	p->last = NAN;
	return BSP_OK;
}

static void prov_observe(void *self, bsp_time t, double v)
{
	BSP_UNUSED(self);
	BSP_UNUSED(t);
	BSP_UNUSED(v);
}

static void prov_capacity(void *self, bsp_time t, double v)
{
	struct provisioned *p = self;

	BSP_UNUSED(t);
	if (v > 0 && isfinite(v))
		p->last = v;
}

static double prov_decide(void *self, bsp_time t)
{
	struct provisioned *p = self;

	BSP_UNUSED(t);
	return p->last;
}

static void nothing(void *self)
{
	BSP_UNUSED(self);
}

const struct sim_policy sim_policy_provisioned = {
    .name = "provisioned",
    .help = "the trace's capacity series (cpu_capacity, mem_capacity)",
    .size = sizeof(struct provisioned),
    .init = prov_init,
    .observe = prov_observe,
    .capacity = prov_capacity,
    .decide = prov_decide,
    .release = nothing,
};

/* ---- reactive -------------------------------------------------------------
 */

struct reactive {
	size_t hold;
	double min_alloc;
	double alloc; /* NaN until the first step with samples */
	double peak;  /* of the samples since the last decision; NaN if none */
	size_t below;
};

static bsp_err reactive_init(void *self, const struct sim_ctx *ctx)
{
	struct reactive *p = self;

	p->hold = ctx->hold ? ctx->hold : 6;
	p->min_alloc = ctx->min_alloc;
	p->alloc = NAN;
	p->peak = NAN;
	p->below = 0;
	return BSP_OK;
}

static void reactive_observe(void *self, bsp_time t, double v)
{
	struct reactive *p = self;

	BSP_UNUSED(t);
	if (isfinite(v) && (isnan(p->peak) || v > p->peak))
		p->peak = v;
}

static double reactive_decide(void *self, bsp_time t)
{
	struct reactive *p = self;
	double peak = p->peak;

	BSP_UNUSED(t);
	p->peak = NAN;
	if (isnan(peak))
		return p->alloc; /* nothing measured: keep what is there */
	if (isnan(p->alloc) || !(p->alloc > 0)) {
		p->alloc = peak / REACTIVE_START;
		if (!(p->alloc >= p->min_alloc))
			p->alloc = p->min_alloc;
		return p->alloc > 0 ? p->alloc : NAN;
	}
	if (peak > REACTIVE_UP_AT * p->alloc) {
		p->alloc *= REACTIVE_UP;
		p->below = 0;
	} else if (peak < REACTIVE_DOWN_AT * p->alloc) {
		if (++p->below >= p->hold) {
			p->alloc *= REACTIVE_DOWN;
			if (p->alloc < p->min_alloc)
				p->alloc = p->min_alloc;
			p->below = 0;
		}
	} else {
		p->below = 0;
	}
	return p->alloc;
}

const struct sim_policy sim_policy_reactive = {
    .name = "reactive",
    .help = "threshold autoscaler: x1.5 above 80% of the allocation, "
	    "x0.75 after 6 steps under 40%",
    .size = sizeof(struct reactive),
    .init = reactive_init,
    .observe = reactive_observe,
    .decide = reactive_decide,
    .release = nothing,
};

/* ---- the table ---------------------------------------------------------- */

/* In enum bsp_sim_policy order. */
const struct sim_policy *const sim_policies[BSP_SIM_N_POLICIES] = {
    [BSP_SIM_BESPOKE] = &sim_policy_bespoke,
    [BSP_SIM_VPA] = &sim_policy_vpa,
    [BSP_SIM_AUTOPILOT] = &sim_policy_autopilot,
    [BSP_SIM_PROVISIONED] = &sim_policy_provisioned,
    [BSP_SIM_REACTIVE] = &sim_policy_reactive,
    [BSP_SIM_FORECAST] = &sim_policy_forecast,
};

const char *bsp_sim_policy_name(size_t i)
{
	return i < BSP_SIM_N_POLICIES ? sim_policies[i]->name : NULL;
}

const char *bsp_sim_policy_help(size_t i)
{
	return i < BSP_SIM_N_POLICIES ? sim_policies[i]->help : NULL;
}

int bsp_sim_policy_find(const char *name)
{
	for (size_t i = 0; i < BSP_SIM_N_POLICIES; i++)
		if (!strcmp(name, sim_policies[i]->name))
			return (int)i;
	return -1;
}

/* ---- the driver -----------------------------------------------------------
 */

bsp_err sim_trace_run(const struct sim_policy *policy,
		      const struct sim_ctx *ctx, const struct sim_trace *tr,
		      size_t n_steps, double *alloc, struct bsp_error *err)
{
	void *self = calloc(1, policy->size);
	size_t i = 0, c = 0;
	bsp_time t, end;
	bsp_err rc;

	if (!self)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	rc = policy->init(self, ctx);
	if (rc != BSP_OK) {
		free(self);
		return bsp_error_set(err, rc, "%s: cannot start", policy->name);
	}
	/* Warm-up decisions run on the same grid as the replay. */
	t = ctx->from;
	if (ctx->start < ctx->from)
		t -= (ctx->from - ctx->start) / ctx->step * ctx->step;
	end = ctx->from + (bsp_time)n_steps * ctx->step;
	while (i < tr->n && tr->ts[i] < t - ctx->step)
		i++;
	while (c < tr->cap_n && tr->cap_ts[c] < t - ctx->step) {
		if (policy->capacity)
			policy->capacity(self, tr->cap_ts[c], tr->cap_v[c]);
		c++;
	}
	for (; t < end; t += ctx->step) {
		double a;
		while (i < tr->n && tr->ts[i] < t) {
			policy->observe(self, tr->ts[i], tr->v[i]);
			i++;
		}
		while (c < tr->cap_n && tr->cap_ts[c] < t) {
			if (policy->capacity)
				policy->capacity(self, tr->cap_ts[c],
						 tr->cap_v[c]);
			c++;
		}
		a = policy->decide(self, t);
		if (t >= ctx->from)
			alloc[(t - ctx->from) / ctx->step] = a;
	}
	policy->release(self);
	free(self);
	return BSP_OK;
}
