/*
 * The prepared series every model reads (struct fc_data), and the small
 * order statistics the models share.
 *
 * Preparing a series checks the caller's grid, keeps at most the last
 * max_history points, cuts leading missing values (a VM that did not exist
 * yet), notes whether the data ever goes below zero (resource usage does
 * not: forecasts are then clamped at zero) and builds a gap-filled copy.
 * Gaps are filled causally, from the same phase one period earlier or else
 * the previous value, so that a forecast from origin n can read f[0..n)
 * without seeing anything after n. Bitbrains traces, for one, have whole
 * days missing; copying the last value across a day would flatten the
 * daily cycle models learn from.
 */
#include "predict.h"

bsp_err fc_data_init(struct fc_data *d, const struct bsp_fc_series *s,
		     size_t max_history, struct bsp_error *err)
{
	size_t start = 0, i;

	memset(d, 0, sizeof(*d));
	if (!s || (s->n && !s->y))
		return bsp_error_set(err, BSP_EINVAL, "forecast: no series");
	if (s->step <= 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "forecast: step must be positive, not "
				     "%lld ms",
				     (long long)s->step);
	for (i = 0; i < s->n; i++)
		if (isinf(s->y[i]))
			return bsp_error_set(err, BSP_EINVAL,
					     "forecast: value %zu is infinite",
					     i);
	if (max_history && s->n > max_history)
		start = s->n - max_history;
	while (start < s->n && isnan(s->y[start]))
		start++;
	d->y = s->y + start;
	d->n = s->n - start;
	d->nonneg = 1;
	for (i = 0; i < d->n; i++) {
		if (isnan(d->y[i]))
			continue;
		d->n_valid++;
		if (d->y[i] < 0)
			d->nonneg = 0;
	}
	if (d->n_valid < BSP_FC_MIN_POINTS)
		return bsp_error_set(err, BSP_EINVAL,
				     "not enough history: %zu points, need %d",
				     d->n_valid, BSP_FC_MIN_POINTS);
	d->step = s->step;
	d->t0 = s->t0 + (bsp_time)start * s->step;
	d->i0 = bsp_time_floor(d->t0, d->step) / d->step;
	if (s->step <= BSP_DAY && BSP_DAY % s->step == 0) {
		d->day = (size_t)(BSP_DAY / s->step);
		d->week = 7 * d->day;
	}
	d->f = malloc(d->n * sizeof(*d->f));
	if (!d->f)
		return bsp_error_set(err, BSP_ENOMEM, "forecast: out of memory");
	fc_data_fill(d);
	return BSP_OK;
}

void fc_data_fill(struct fc_data *d)
{
	size_t p = d->period[0], i;

	for (i = 0; i < d->n; i++) {
		if (!isnan(d->y[i]))
			d->f[i] = d->y[i];
		else if (p && i >= p)
			d->f[i] = d->f[i - p];
		else
			d->f[i] = d->f[i - 1]; /* y[0] is valid */
	}
}

void fc_data_release(struct fc_data *d)
{
	free(d->f);
	d->f = NULL;
}

/* ---- order statistics ---------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void fc_sort(double *x, size_t n)
{
	size_t i, j;

	if (n > 24) {
		qsort(x, n, sizeof(*x), cmp_double);
		return;
	}
	for (i = 1; i < n; i++) {
		double v = x[i];
		for (j = i; j > 0 && x[j - 1] > v; j--)
			x[j] = x[j - 1];
		x[j] = v;
	}
}

double fc_quantile_sorted(const double *x, size_t n, double p)
{
	double h, lo;
	size_t i;

	if (!n)
		return 0;
	if (p <= 0)
		return x[0];
	if (p >= 1)
		return x[n - 1];
	h = p * (double)(n - 1);
	lo = floor(h);
	i = (size_t)lo;
	if (i + 1 >= n)
		return x[n - 1];
	return x[i] + (h - lo) * (x[i + 1] - x[i]);
}

double fc_median_nan(const double *x, size_t n, double *tmp)
{
	size_t m = 0, i;

	for (i = 0; i < n; i++)
		if (!isnan(x[i]))
			tmp[m++] = x[i];
	fc_sort(tmp, m);
	return fc_quantile_sorted(tmp, m, 0.5);
}

double fc_mase_scale(const double *y, size_t n, size_t lag)
{
	double sum = 0;
	size_t m = 0, i;

	if (!lag)
		lag = 1;
	for (i = lag; i < n; i++) {
		if (isnan(y[i]) || isnan(y[i - lag]))
			continue;
		sum += fabs(y[i] - y[i - lag]);
		m++;
	}
	return m ? sum / (double)m : 0;
}
