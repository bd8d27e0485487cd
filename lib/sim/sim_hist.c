/*
 * The decaying exponential histogram that the Kubernetes VPA recommender
 * keeps per container (kubernetes/autoscaler, vertical-pod-autoscaler/
 * pkg/recommender/util: histogram.go, histogram_options.go,
 * decaying_histogram.go), also used here for Autopilot's moving window.
 *
 * Decay without touching old buckets: a sample added at time t gets the
 * factor 2^((t - ref) / half_life), so a newer sample outweighs an older
 * one by 2 per half-life and only ratios matter for a percentile. When the
 * exponent passes 100 (VPA's maxDecayExponent) the reference moves to t
 * and every weight is scaled down once, which keeps the numbers finite.
 */
#include "sim_int.h"

#define SIM_MAX_DECAY_EXP 100.0

bsp_err sim_hist_init(struct sim_hist *h, double first, double ratio,
		      double max, double half_life)
{
	double nb;

	memset(h, 0, sizeof(*h));
	if (!(first > 0) || !(ratio > 1) || !(max > first))
		return BSP_EINVAL;
	nb = ceil(log(max * (ratio - 1) / first + 1) / log(ratio)) + 1;
	if (!(nb < 1e6))
		return BSP_EINVAL;
	h->first = first;
	h->ratio = ratio;
	h->nb = (size_t)nb;
	h->half_life = half_life;
	h->w = calloc(h->nb, sizeof(*h->w));
	if (!h->w)
		return BSP_ENOMEM;
	h->lo = h->nb;
	h->hi = 0;
	return BSP_OK;
}

void sim_hist_release(struct sim_hist *h)
{
	free(h->w);
	memset(h, 0, sizeof(*h));
}

void sim_hist_clear(struct sim_hist *h)
{
	memset(h->w, 0, h->nb * sizeof(*h->w));
	h->total = 0;
	h->lo = h->nb;
	h->hi = 0;
	h->has_ref = 0;
}

size_t sim_hist_bucket(const struct sim_hist *h, double v)
{
	double b;

	if (!(v >= h->first))
		return 0;
	b = floor(log(v * (h->ratio - 1) / h->first + 1) / log(h->ratio));
	return b >= (double)(h->nb - 1) ? h->nb - 1 : (size_t)b;
}

double sim_hist_start(const struct sim_hist *h, size_t b)
{
	return h->first * (pow(h->ratio, (double)b) - 1) / (h->ratio - 1);
}

static void rescale(struct sim_hist *h, bsp_time t)
{
	double f = exp2(-(double)(t - h->ref) / h->half_life);

	for (size_t b = h->lo; b < h->hi; b++)
		h->w[b] *= f;
	h->total *= f;
	h->ref = t;
}

void sim_hist_add(struct sim_hist *h, double v, double w, bsp_time t)
{
	size_t b = sim_hist_bucket(h, v);
	double f = 1;

	if (h->half_life > 0) {
		if (!h->has_ref) {
			h->ref = t;
			h->has_ref = 1;
		}
		if ((double)(t - h->ref) / h->half_life > SIM_MAX_DECAY_EXP)
			rescale(h, t);
		f = exp2((double)(t - h->ref) / h->half_life);
	}
	h->w[b] += w * f;
	h->total += w * f;
	/* A subtraction can leave dust from rounding: treat it as empty, as
	 * VPA does below its epsilon. */
	if (h->w[b] < 1e-12 * (h->total > 0 ? h->total : 1))
		h->w[b] = 0;
	if (w > 0) {
		if (b < h->lo)
			h->lo = b;
		if (b + 1 > h->hi)
			h->hi = b + 1;
	}
	if (!(h->total > 0)) {
		h->total = 0;
		h->lo = h->nb;
		h->hi = 0;
	}
}

double sim_hist_percentile(const struct sim_hist *h, double p)
{
	double sum = 0, need = p * h->total;
	size_t b;

	if (!(h->total > 0) || h->lo >= h->hi)
		return 0;
	for (b = h->lo; b + 1 < h->hi; b++) {
		sum += h->w[b];
		if (sum >= need)
			break;
	}
	return b + 1 < h->nb ? sim_hist_start(h, b + 1) : sim_hist_start(h, b);
}
