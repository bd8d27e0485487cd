/*
 * Google Autopilot's moving-window recommender (Rzadca et al.,
 * "Autopilot: workload autoscaling at Google", EuroSys 2020, section 3.2)
 * replayed on one trace.
 *
 * Each 5-minute sample enters a load-adjusted decaying histogram: its
 * weight is 2^(age / half-life) times its own value (the paper's b[k] *
 * s[t][k]), so the percentile is of the load, not of the time, and busy
 * moments count for more. The raw recommendation after each sample is
 *
 *   CPU     P95 of the histogram, 12 h half-life, + 10% margin
 *   memory  P98 of the histogram, 48 h half-life, + 10% margin
 *
 * and the recommendation applied is the largest raw recommendation made in
 * the last hour (the paper's stabilisation against falling too fast). The
 * paper does not publish its bucket boundaries; the buckets here are
 * VPA's (5% apart), so both histogram baselines share one resolution.
 */
#include "sim_int.h"

#define AP_RATIO	 1.05
#define AP_CPU_HALF_LIFE (12.0 * (double)BSP_HOUR)
#define AP_MEM_HALF_LIFE (48.0 * (double)BSP_HOUR)
#define AP_CPU_PCT	 0.95
#define AP_MEM_PCT	 0.98
#define AP_WINDOW	 BSP_HOUR
#define AP_RING		 64 /* raw recommendations kept (> one hour of samples) */

struct autopilot {
	struct sim_ctx ctx;
	struct sim_hist h;
	double pct;
	bsp_time rt[AP_RING];
	double rv[AP_RING];
	size_t n, next;
};

static bsp_err ap_init(void *self, const struct sim_ctx *ctx)
{
	struct autopilot *p = self;

	memset(p, 0, sizeof(*p));
	p->ctx = *ctx;
	if (ctx->resource == BSP_SIM_CPU) {
		p->pct = AP_CPU_PCT;
		return sim_hist_init(&p->h, 0.01 * ctx->unit_per_vcpu, AP_RATIO,
				     1000.0 * ctx->unit_per_vcpu,
				     AP_CPU_HALF_LIFE);
	}
	p->pct = AP_MEM_PCT;
	return sim_hist_init(&p->h, 1e7 / ctx->unit_bytes, AP_RATIO,
			     1e12 / ctx->unit_bytes, AP_MEM_HALF_LIFE);
}

static void ap_observe(void *self, bsp_time t, double v)
{
	struct autopilot *p = self;

	if (!(v >= 0))
		return;
	if (v > 0)
		sim_hist_add(&p->h, v, v, t);
	p->rt[p->next] = t;
	p->rv[p->next] = sim_hist_percentile(&p->h, p->pct) * SIM_AP_MARGIN;
	p->next = (p->next + 1) % AP_RING;
	if (p->n < AP_RING)
		p->n++;
}

static double ap_decide(void *self, bsp_time t)
{
	struct autopilot *p = self;
	double best = NAN;
	size_t k = p->next;

	if (!p->n)
		return NAN;
	for (size_t i = 0; i < p->n; i++) {
		k = (k + AP_RING - 1) % AP_RING;
		if (i > 0 && p->rt[k] < t - AP_WINDOW)
			break; /* the newest always counts, however old */
		if (isnan(best) || p->rv[k] > best)
			best = p->rv[k];
	}
	return best < p->ctx.min_alloc ? p->ctx.min_alloc : best;
}

static void ap_release(void *self)
{
	struct autopilot *p = self;
	sim_hist_release(&p->h);
}

const struct sim_policy sim_policy_autopilot = {
    .name = "autopilot",
    .help = "Autopilot moving window: load-adjusted P95 (CPU, 12 h) / "
	    "P98 (memory, 48 h) + 10%, max over the last hour",
    .size = sizeof(struct autopilot),
    .init = ap_init,
    .observe = ap_observe,
    .decide = ap_decide,
    .release = ap_release,
};
