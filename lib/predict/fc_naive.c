/*
 * Seasonal baselines: nothing is fitted, the history is copied.
 *
 * snaive_day, snaive_week: the value one day (one week) before the target
 * step, the baseline every forecaster must beat and the scale of MASE
 * (Hyndman & Koehler, "Another look at measures of forecast accuracy",
 * IJF 2006). When that value is missing, the same phase one cycle earlier
 * is taken, then the last observed value.
 *
 * smedian: the median of the same phase over the last K cycles of the
 * series' main period (K = 7: a week of days), or of the last day when the
 * series has no period. On bursty usage a median, not a copy of
 * yesterday's bursts, is what minimises absolute error; it is the robust
 * version of the seasonal naive forecast.
 */
#include "predict.h"

#define SMEDIAN_CYCLES 7
#define SMEDIAN_MAX_CYCLES 28 /* the most a loaded model may ask */

static double last_valid(const struct fc_data *d, size_t n)
{
	size_t i = n;

	while (i > 0) {
		i--;
		if (!isnan(d->y[i]))
			return d->y[i];
	}
	return d->f[0];
}

static bsp_err snaive_forecast(const struct fc_fit *fit,
			       const struct fc_data *d, size_t n, size_t h,
			       double *out)
{
	size_t p = fit->season[0], j;
	double last = last_valid(d, n);

	for (j = 0; j < h; j++) {
		/* the latest n + j - k*p before n, going back while missing */
		size_t k = j / p + 1;
		out[j] = last;
		for (; k * p <= n + j; k++) {
			double v = d->y[n + j - k * p];
			if (!isnan(v)) {
				out[j] = v;
				break;
			}
		}
	}
	return BSP_OK;
}

static size_t snaive_day_min(const struct fc_data *d)
{
	return d->day;
}

static size_t snaive_week_min(const struct fc_data *d)
{
	return d->week;
}

static bsp_err snaive_day_fit(const struct fc_data *d, size_t n,
			      const struct fc_fit *warm, struct fc_fit *fit)
{
	BSP_UNUSED(n);
	BSP_UNUSED(warm);
	fit->season[0] = d->day;
	fit->np = 0;
	return BSP_OK;
}

static bsp_err snaive_week_fit(const struct fc_data *d, size_t n,
			       const struct fc_fit *warm, struct fc_fit *fit)
{
	BSP_UNUSED(n);
	BSP_UNUSED(warm);
	fit->season[0] = d->week;
	fit->np = 0;
	return BSP_OK;
}

static int snaive_check(const struct fc_fit *fit)
{
	return fit->season[0] > 0 && fit->np == 0 ? 0 : -1;
}

static void snaive_describe(const struct fc_fit *fit, char *buf, size_t size)
{
	snprintf(buf, size, "period=%zu", fit->season[0]);
}

const struct fc_kind fc_kind_snaive_day = {
	.name = "snaive_day",
	.help = "the value one day earlier (the baseline)",
	.flags = 0,
	.min_points = snaive_day_min,
	.fit = snaive_day_fit,
	.forecast = snaive_forecast,
	.check = snaive_check,
	.describe = snaive_describe,
};

const struct fc_kind fc_kind_snaive_week = {
	.name = "snaive_week",
	.help = "the value one week earlier",
	.flags = 0,
	.min_points = snaive_week_min,
	.fit = snaive_week_fit,
	.forecast = snaive_forecast,
	.check = snaive_check,
	.describe = snaive_describe,
};

/* ---- seasonal median -------------------------------------------------- */

static size_t smedian_min(const struct fc_data *d)
{
	BSP_UNUSED(d);
	return 1; /* with less than a cycle it is the median of what there is */
}

static void smedian_set(const struct fc_data *d, struct fc_fit *fit,
			size_t cycles)
{
	fit->season[0] = d->period[0];
	fit->np = 2;
	fit->p[0] = (double)cycles;
	fit->p[1] = (double)(d->day ? d->day : 24); /* window without period */
}

static bsp_err smedian_fit(const struct fc_data *d, size_t n,
			   const struct fc_fit *warm, struct fc_fit *fit)
{
	BSP_UNUSED(n);
	BSP_UNUSED(warm);
	smedian_set(d, fit, SMEDIAN_CYCLES);
	return BSP_OK;
}

static bsp_err smedian3_fit(const struct fc_data *d, size_t n,
			    const struct fc_fit *warm, struct fc_fit *fit)
{
	BSP_UNUSED(n);
	BSP_UNUSED(warm);
	smedian_set(d, fit, 3);
	return BSP_OK;
}

static bsp_err smedian14_fit(const struct fc_data *d, size_t n,
			     const struct fc_fit *warm, struct fc_fit *fit)
{
	BSP_UNUSED(n);
	BSP_UNUSED(warm);
	smedian_set(d, fit, 14);
	return BSP_OK;
}

static bsp_err smedian_forecast(const struct fc_fit *fit,
				const struct fc_data *d, size_t n, size_t h,
				double *out)
{
	size_t p = fit->season[0], k = (size_t)fit->p[0], j;
	double tmp[SMEDIAN_MAX_CYCLES], *win;

	if (!p) {
		size_t w = (size_t)fit->p[1], m = 0, i;
		double med;
		if (w > n)
			w = n;
		win = malloc(w * sizeof(*win));
		if (!win)
			return BSP_ENOMEM;
		for (i = n - w; i < n; i++)
			if (!isnan(d->y[i]))
				win[m++] = d->y[i];
		fc_sort(win, m);
		med = m ? fc_quantile_sorted(win, m, 0.5) : last_valid(d, n);
		free(win);
		for (j = 0; j < h; j++)
			out[j] = med;
		return BSP_OK;
	}
	for (j = 0; j < h; j++) {
		/* the same phase in the last k cycles before n */
		size_t back = p * ((j / p) + 1), m = 0, c;
		for (c = 0; c < k; c++) {
			size_t off = back + c * p;
			if (off > n + j)
				break;
			double v = d->y[n + j - off];
			if (!isnan(v))
				tmp[m++] = v;
		}
		fc_sort(tmp, m);
		out[j] = m ? fc_quantile_sorted(tmp, m, 0.5) : last_valid(d, n);
	}
	return BSP_OK;
}

static int smedian_check(const struct fc_fit *fit)
{
	if (fit->np != 2 || !(fit->p[0] >= 1 && fit->p[0] <= SMEDIAN_MAX_CYCLES))
		return -1;
	return fit->p[1] >= 1 && fit->p[1] <= 1e7 ? 0 : -1;
}

static void smedian_describe(const struct fc_fit *fit, char *buf, size_t size)
{
	if (fit->season[0])
		snprintf(buf, size, "period=%zu cycles=%g", fit->season[0],
			 fit->p[0]);
	else
		snprintf(buf, size, "window=%g", fit->p[1]);
}

const struct fc_kind fc_kind_smedian = {
	.name = "smedian",
	.help = "median of the same phase over the last 7 cycles",
	.flags = 0,
	.min_points = smedian_min,
	.fit = smedian_fit,
	.forecast = smedian_forecast,
	.check = smedian_check,
	.describe = smedian_describe,
};

const struct fc_kind fc_kind_smedian3 = {
	.name = "smedian3",
	.help = "median of the same phase over the last 3 cycles",
	.flags = 0,
	.min_points = smedian_min,
	.fit = smedian3_fit,
	.forecast = smedian_forecast,
	.check = smedian_check,
	.describe = smedian_describe,
};

const struct fc_kind fc_kind_smedian14 = {
	.name = "smedian14",
	.help = "median of the same phase over the last 14 cycles",
	.flags = 0,
	.min_points = smedian_min,
	.fit = smedian14_fit,
	.forecast = smedian_forecast,
	.check = smedian_check,
	.describe = smedian_describe,
};

/* ---- naive ------------------------------------------------------------ */

static size_t naive_min(const struct fc_data *d)
{
	BSP_UNUSED(d);
	return 1;
}

static bsp_err naive_fit(const struct fc_data *d, size_t n,
			 const struct fc_fit *warm, struct fc_fit *fit)
{
	BSP_UNUSED(d);
	BSP_UNUSED(n);
	BSP_UNUSED(warm);
	fit->np = 0;
	return BSP_OK;
}

static bsp_err naive_forecast(const struct fc_fit *fit,
			      const struct fc_data *d, size_t n, size_t h,
			      double *out)
{
	double v = last_valid(d, n);
	size_t j;

	BSP_UNUSED(fit);
	for (j = 0; j < h; j++)
		out[j] = v;
	return BSP_OK;
}

static int naive_check(const struct fc_fit *fit)
{
	return fit->np == 0 ? 0 : -1;
}

static void naive_describe(const struct fc_fit *fit, char *buf, size_t size)
{
	BSP_UNUSED(fit);
	snprintf(buf, size, "last value");
}

const struct fc_kind fc_kind_naive = {
	.name = "naive",
	.help = "the last observed value (a random walk)",
	.flags = 0,
	.min_points = naive_min,
	.fit = naive_fit,
	.forecast = naive_forecast,
	.check = naive_check,
	.describe = naive_describe,
};
