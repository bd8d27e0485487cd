/*
 * The Kubernetes Vertical Pod Autoscaler's recommender (kubernetes/
 * autoscaler, vertical-pod-autoscaler/pkg/recommender), its target
 * recommendation with the default flags, replayed on one trace:
 *
 *   CPU     every usage sample goes into a decaying histogram (24 h
 *           half-life, buckets from 0.01 core growing 5%, up to 1000
 *           cores) with weight max(current request in cores, 0.1): the
 *           request is the recommendation in force, as in
 *           aggregate_container_state.go. Target = P90 x 1.15.
 *   memory  one peak per 24 h aggregation interval (intervals start at the
 *           first sample, container.go), each added at its interval's end
 *           with weight 1 to a decaying histogram (24 h half-life, buckets
 *           from 10 MB growing 5%, up to 1 TB); the last 8 intervals form
 *           the window (MemoryAggregationIntervalCount). Target = P90 x
 *           1.15.
 *
 * A percentile is the end of the bucket where the weight reaches it, so
 * the target is at most 5% above the exact quantile before the margin.
 * The recommendation never goes below the pod minimums (25 millicores,
 * 250 MiB: --pod-recommendation-min-cpu-millicores and -min-memory-mb).
 *
 * Out-of-memory events: a memory sample above the recommendation in force
 * is an OOM kill (the simulator scores the allocation as a limit), and
 * VPA records it as container.go's RecordOOM does: with `used` the larger
 * of the request and the interval's usage peak, an artificial sample of
 * max(used + 100 MiB, used x 1.2) (--oom-min-bump-up-bytes,
 * --oom-bump-up-ratio) raises the interval's peak. The usage peak and the
 * OOM peak are kept apart, so that repeated OOMs do not compound. The
 * trace's usage goes on as recorded: a killed VM's restart is not
 * modelled.
 */
#include "sim_int.h"

#define VPA_HALF_LIFE	   ((double)BSP_DAY)
#define VPA_RATIO	   1.05
#define VPA_CPU_FIRST	   0.01 /* cores */
#define VPA_CPU_MAX	   1000.0
#define VPA_CPU_MIN_WEIGHT 0.1
#define VPA_CPU_MIN	   0.025 /* cores */
#define VPA_MEM_FIRST	   1e7	 /* bytes */
#define VPA_MEM_MAX	   1e12
#define VPA_MEM_MIN	   (250.0 * 1048576)
#define VPA_MEM_INTERVAL   BSP_DAY
#define VPA_MEM_INTERVALS  8
#define VPA_OOM_RATIO	   1.2
#define VPA_OOM_MIN_BUMP   (100.0 * 1048576) /* bytes */

struct vpa {
	struct sim_ctx ctx;
	struct sim_hist h;
	double request; /* the recommendation in force (metric units) */
	/* memory: finished intervals' peaks (a ring) and the current one */
	bsp_time end[VPA_MEM_INTERVALS];
	double peak[VPA_MEM_INTERVALS];
	size_t n_done, next;
	bsp_time cur_end; /* 0 before the first sample */
	double cur_peak;  /* the interval's usage peak */
	double cur_oom;	  /* the interval's OOM peak (0 = none) */
	int any;
};

static bsp_err vpa_init(void *self, const struct sim_ctx *ctx)
{
	struct vpa *p = self;

	memset(p, 0, sizeof(*p));
	p->ctx = *ctx;
	if (ctx->resource == BSP_SIM_CPU)
		return sim_hist_init(
		    &p->h, VPA_CPU_FIRST * ctx->unit_per_vcpu, VPA_RATIO,
		    VPA_CPU_MAX * ctx->unit_per_vcpu, VPA_HALF_LIFE);
	return sim_hist_init(&p->h, VPA_MEM_FIRST / ctx->unit_bytes, VPA_RATIO,
			     VPA_MEM_MAX / ctx->unit_bytes, VPA_HALF_LIFE);
}

static void vpa_observe(void *self, bsp_time t, double v)
{
	struct vpa *p = self;

	if (!(v >= 0))
		return; /* VPA discards negative usage */
	p->any = 1;
	if (p->ctx.resource == BSP_SIM_CPU) {
		double cores = p->request / p->ctx.unit_per_vcpu;
		sim_hist_add(
		    &p->h, v,
		    cores > VPA_CPU_MIN_WEIGHT ? cores : VPA_CPU_MIN_WEIGHT, t);
		return;
	}
	if (p->cur_end == 0) {
		p->cur_end = t + VPA_MEM_INTERVAL;
		p->cur_peak = v;
	} else if (t < p->cur_end) {
		if (v > p->cur_peak)
			p->cur_peak = v;
	} else {
		/* The interval ended: keep its peak, move on by whole
		 * intervals. */
		p->end[p->next] = p->cur_end;
		p->peak[p->next] =
		    p->cur_oom > p->cur_peak ? p->cur_oom : p->cur_peak;
		p->next = (p->next + 1) % VPA_MEM_INTERVALS;
		if (p->n_done < VPA_MEM_INTERVALS)
			p->n_done++;
		p->cur_end += ((t - p->cur_end) / VPA_MEM_INTERVAL + 1) *
			      VPA_MEM_INTERVAL;
		p->cur_peak = v;
		p->cur_oom = 0;
	}
	if (p->request > 0 && v > p->request) { /* an OOM kill */
		double used =
		    p->request > p->cur_peak ? p->request : p->cur_peak;
		double need = used + VPA_OOM_MIN_BUMP / p->ctx.unit_bytes;
		if (used * VPA_OOM_RATIO > need)
			need = used * VPA_OOM_RATIO;
		if (need > p->cur_oom)
			p->cur_oom = need;
	}
}

static double vpa_decide(void *self, bsp_time t)
{
	struct vpa *p = self;
	double r;

	BSP_UNUSED(t);
	if (!p->any)
		return NAN;
	if (p->ctx.resource == BSP_SIM_CPU) {
		r = sim_hist_percentile(&p->h, SIM_VPA_CPU_PCT) *
		    SIM_VPA_MARGIN;
		if (r < VPA_CPU_MIN * p->ctx.unit_per_vcpu)
			r = VPA_CPU_MIN * p->ctx.unit_per_vcpu;
		p->request = r;
		return r;
	}
	/* The window: the current interval and the 7 before it. */
	sim_hist_clear(&p->h);
	for (size_t i = 0, k = p->next;
	     i < p->n_done && i + 1 < VPA_MEM_INTERVALS; i++) {
		k = (k + VPA_MEM_INTERVALS - 1) % VPA_MEM_INTERVALS;
		sim_hist_add(&p->h, p->peak[k], 1, p->end[k]);
	}
	sim_hist_add(&p->h, p->cur_oom > p->cur_peak ? p->cur_oom : p->cur_peak,
		     1, p->cur_end);
	r = sim_hist_percentile(&p->h, SIM_VPA_MEM_PCT) * SIM_VPA_MARGIN;
	if (r < VPA_MEM_MIN / p->ctx.unit_bytes)
		r = VPA_MEM_MIN / p->ctx.unit_bytes;
	p->request = r;
	return r;
}

static void vpa_release(void *self)
{
	struct vpa *p = self;
	sim_hist_release(&p->h);
}

const struct sim_policy sim_policy_vpa = {
    .name = "vpa",
    .help = "Kubernetes VPA recommender: P90 x 1.15 of decaying "
	    "histograms (memory: daily peaks, 8 days)",
    .size = sizeof(struct vpa),
    .init = vpa_init,
    .observe = vpa_observe,
    .decide = vpa_decide,
    .release = vpa_release,
};
