/*
 * The Kubernetes Vertical Pod Autoscaler's recommender as a forecaster:
 * a histogram of past usage with exponentially growing buckets and
 * exponentially decaying sample weights, read at a percentile, forecast
 * flat (kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender/
 * util: histogram.go, decaying_histogram.go; the design in the VPA
 * proposal "Recommender"). It is the distribution baseline a platform team
 * already runs: bespoke's forecasts must beat it.
 *
 * Constants from VPA: bucket i starts at first * (1.05^i - 1) / 0.05, so
 * buckets are 5% apart; a sample's weight halves every 24 hours of age;
 * the percentile is read as the end of the bucket where the cumulative
 * weight reaches it. VPA fixes the first bucket per resource (0.01 cores,
 * 10 MB); here the units are the series' own, so the first bucket is
 * 1/10000 of the history's 99th percentile, which keeps the 5% resolution
 * over three and a half decades below it. The point forecast reads the
 * median (absolute error is the score); the quantiles come, like every
 * model's, from the calibration. VPA only counts non-negative usage: the
 * model does not run on series that go below zero.
 */
#include "predict.h"

#define VPA_RATIO 1.05
#define VPA_HALF_LIFE BSP_DAY
#define VPA_HALF_LIVES 20 /* older samples weigh under 1e-6: skipped */
#define VPA_MAX_BUCKETS 2048

static size_t vpa_min(const struct fc_data *d)
{
	return d->nonneg ? 1 : 0;
}

static bsp_err vpa_fit(const struct fc_data *d, size_t n,
		       const struct fc_fit *warm, struct fc_fit *fit)
{
	double *tmp, p99;
	size_t m = 0, i;

	BSP_UNUSED(warm);
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return BSP_ENOMEM;
	for (i = 0; i < n; i++)
		if (!isnan(d->y[i]))
			tmp[m++] = d->y[i];
	fc_sort(tmp, m);
	p99 = fc_quantile_sorted(tmp, m, 0.99);
	free(tmp);
	fit->np = 3;
	fit->p[0] = (double)VPA_HALF_LIFE;
	fit->p[1] = p99 > 0 ? p99 * 1e-4 : 1e-9;
	fit->p[2] = 0.5;
	return BSP_OK;
}

static size_t bucket_of(double v, double first, size_t nb)
{
	double i;

	if (!(v > 0))
		return 0;
	i = floor(log(v * (VPA_RATIO - 1) / first + 1) / log(VPA_RATIO));
	return i >= (double)(nb - 1) ? nb - 1 : (size_t)i;
}

static double bucket_start(size_t i, double first)
{
	return first * (pow(VPA_RATIO, (double)i) - 1) / (VPA_RATIO - 1);
}

double fc_vpa_percentile(const double *y, size_t n, bsp_time step,
			 double half_life, double first, double pct)
{
	double *w, total = 0, sum = 0, v;
	size_t span, a, i, b;

	w = calloc(VPA_MAX_BUCKETS, sizeof(*w));
	if (!w)
		return NAN;
	span = (size_t)(VPA_HALF_LIVES * half_life / (double)step) + 1;
	a = n > span ? n - span : 0;
	for (i = a; i < n; i++) {
		double age, wt;
		if (isnan(y[i]))
			continue;
		age = (double)(n - 1 - i) * (double)step;
		wt = exp2(-age / half_life);
		w[bucket_of(y[i], first, VPA_MAX_BUCKETS)] += wt;
		total += wt;
	}
	v = NAN;
	if (total > 0) {
		for (b = 0; b + 1 < VPA_MAX_BUCKETS; b++) {
			sum += w[b];
			if (sum >= pct * total)
				break;
		}
		/* the end of the bucket (the last has none: its start) */
		v = bucket_start(b + 1 < VPA_MAX_BUCKETS ? b + 1 : b, first);
	}
	free(w);
	return v;
}

static bsp_err vpa_forecast(const struct fc_fit *fit, const struct fc_data *d,
			    size_t n, size_t h, double *out)
{
	double v = fc_vpa_percentile(d->y, n, d->step, fit->p[0], fit->p[1],
				     fit->p[2]);
	size_t i;

	if (isnan(v))
		v = d->f[n - 1]; /* nothing valid in the window, or no memory */
	for (i = 0; i < h; i++)
		out[i] = v;
	return BSP_OK;
}

static int vpa_check(const struct fc_fit *fit)
{
	if (fit->np != 3)
		return -1;
	if (!(fit->p[0] >= 1 && fit->p[0] <= 1e12) ||
	    !(fit->p[1] > 0 && isfinite(fit->p[1])))
		return -1;
	return fit->p[2] > 0 && fit->p[2] < 1 ? 0 : -1;
}

static void vpa_describe(const struct fc_fit *fit, char *buf, size_t size)
{
	snprintf(buf, size, "half_life=%gh first_bucket=%g percentile=%g",
		 fit->p[0] / (double)BSP_HOUR, fit->p[1], fit->p[2]);
}

const struct fc_kind fc_kind_vpa = {
	.name = "vpa",
	.help = "VPA decaying histogram (24 h half-life), its median, flat",
	.flags = 0,
	.min_points = vpa_min,
	.fit = vpa_fit,
	.forecast = vpa_forecast,
	.check = vpa_check,
	.describe = vpa_describe,
};
