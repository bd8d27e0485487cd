/*
 * Regression on lags and the calendar, fitted per series for absolute
 * error.
 *
 * The forecast of step h after origin o is a linear function of what is
 * known at o: the last value, the mean of the last day, the value at the
 * same time of day one day earlier (the latest such day before o) and one
 * week earlier, the median of that time of day over the last seven days,
 * and the target's time of day (two Fourier pairs) and whether it falls on
 * a weekend. The model is direct, not recursive: horizon steps are grouped
 * into buckets (1, 2, 3, 4-6, 7-12, 13-24, 25-48, ... steps ahead) and each
 * bucket has its own coefficients. Recent values matter an hour ahead and
 * hardly a day ahead; a direct model learns that per bucket and does not
 * feed its own errors back (Ben Taieb et al., "A review and comparison of
 * strategies for multi-step ahead time series forecasting", Expert
 * Systems with Applications 2012, find direct strategies at least as good
 * as recursive ones at long horizons).
 *
 * Each bucket's rows are the most recent origins of the history (one step
 * of the bucket per origin, picked by a hash), at most MAX_ROWS. Coefficients
 * minimise absolute error, the score, by iteratively reweighted least
 * squares (weights 1/|residual|, Schlossmacher 1973), each step a ridge-
 * stabilised normal-equation solve: eleven coefficients need no more than
 * a small Cholesky factorisation, which never fails the way a library
 * routine would abort on a matrix that is not positive definite.
 */
#include "predict.h"

#define NF 11
#define MAX_BUCKETS 24
#define MAX_ROWS 1200
#define IRLS_ITER 8
#define RIDGE 1e-4

static size_t regress_min(const struct fc_data *d)
{
	return d->day ? d->week + 2 * d->day : 0;
}

/* Bucket starts for a horizon: 0, 1, 2, 3, 6, 12, 24, ... below h. */
static size_t buckets(size_t h, size_t *start)
{
	size_t n = 0, s = 0;

	while (s < h && n < MAX_BUCKETS) {
		start[n++] = s;
		s = s < 3 ? s + 1 : 2 * s;
	}
	return n ? n : (start[0] = 0, 1);
}

/* The features of the forecast of step j (0-based) from origin o. */
static void features(const struct fc_data *d, size_t o, size_t j, double sc,
		     double *x)
{
	size_t day = d->day, week = d->week, i = o + j, k, m = 0;
	const double *f = d->f;
	double sum = 0, tmp[7], ph;
	int64_t dayno;
	int wd;

	x[0] = 1;
	x[1] = f[o - 1] / sc;
	for (k = o - day; k < o; k++)
		sum += f[k];
	x[2] = sum / (double)day / sc;
	x[3] = f[i - day * (j / day + 1)] / sc;
	x[4] = f[i - week * (j / week + 1)] / sc;
	for (k = j / day + 1; m < 7 && k * day <= i; k++)
		tmp[m++] = f[i - k * day];
	fc_sort(tmp, m);
	x[5] = fc_quantile_sorted(tmp, m, 0.5) / sc;
	ph = 2 * M_PI * (double)fc_phase(d, i, day) / (double)day;
	x[6] = sin(ph);
	x[7] = cos(ph);
	x[8] = sin(2 * ph);
	x[9] = cos(2 * ph);
	dayno = (d->i0 + (int64_t)i) / (int64_t)day;
	wd = (int)(((dayno + 4) % 7 + 7) % 7); /* 0 = Sunday */
	x[10] = wd == 0 || wd == 6;
}

/* Solves (A + ridge) b = r by Cholesky, A symmetric p x p (row-major). */
static int solve(double *a, double *r, size_t p, double *out)
{
	double l[NF * NF] = {0};
	size_t i, j, k;

	for (i = 0; i < p; i++) {
		double dg = a[i * p + i];
		a[i * p + i] += (dg > 0 ? RIDGE * dg : 0) + 1e-12;
	}
	for (j = 0; j < p; j++) {
		double s = a[j * p + j];
		for (k = 0; k < j; k++)
			s -= l[j * p + k] * l[j * p + k];
		if (!(s > 0))
			return -1;
		l[j * p + j] = sqrt(s);
		for (i = j + 1; i < p; i++) {
			double t = a[i * p + j];
			for (k = 0; k < j; k++)
				t -= l[i * p + k] * l[j * p + k];
			l[i * p + j] = t / l[j * p + j];
		}
	}
	for (i = 0; i < p; i++) { /* L z = r */
		double t = r[i];
		for (k = 0; k < i; k++)
			t -= l[i * p + k] * out[k];
		out[i] = t / l[i * p + i];
	}
	for (i = p; i-- > 0;) { /* L' b = z */
		double t = out[i];
		for (k = i + 1; k < p; k++)
			t -= l[k * p + i] * out[k];
		out[i] = t / l[i * p + i];
	}
	return 0;
}

/* Least absolute deviations by IRLS over rows x[m][NF], y[m]. */
static void lad(const double *x, const double *y, size_t m, double *beta)
{
	double a[NF * NF], r[NF], w, e, delta = 0;
	size_t it, i, p, q;

	for (i = 0; i < m; i++)
		delta += fabs(y[i]);
	delta = 1e-4 * (m ? delta / (double)m : 1) + 1e-12;
	memset(beta, 0, NF * sizeof(*beta));
	for (it = 0; it <= IRLS_ITER; it++) {
		double nb[NF];
		memset(a, 0, sizeof(a));
		memset(r, 0, sizeof(r));
		for (i = 0; i < m; i++) {
			const double *xi = x + i * NF;
			w = 1;
			if (it) {
				e = y[i];
				for (p = 0; p < NF; p++)
					e -= beta[p] * xi[p];
				w = 1 / (fabs(e) > delta ? fabs(e) : delta);
			}
			for (p = 0; p < NF; p++) {
				double wx = w * xi[p];
				r[p] += wx * y[i];
				for (q = p; q < NF; q++)
					a[p * NF + q] += wx * xi[q];
			}
		}
		for (p = 0; p < NF; p++)
			for (q = 0; q < p; q++)
				a[p * NF + q] = a[q * NF + p];
		if (solve(a, r, NF, nb))
			break; /* keep the last good coefficients */
		memcpy(beta, nb, sizeof(nb));
	}
}

static double series_scale(const struct fc_data *d, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += fabs(d->f[i]);
	s /= (double)n;
	return s > 0 ? s : 1;
}

static bsp_err regress_fit(const struct fc_data *d, size_t n,
			   const struct fc_fit *warm, struct fc_fit *fit)
{
	size_t start[MAX_BUCKETS], nb, b, omin = d->week;
	double *x, *y, sc = series_scale(d, n);
	bsp_err rc = BSP_OK;

	BSP_UNUSED(warm);
	nb = buckets(d->horizon, start);
	x = malloc(MAX_ROWS * NF * sizeof(*x));
	y = malloc(MAX_ROWS * sizeof(*y));
	if (!x || !y) {
		rc = BSP_ENOMEM;
		goto out;
	}
	fit->np = 1 + nb + nb * NF;
	fit->p[0] = (double)nb;
	for (b = 0; b < nb; b++) {
		size_t lo = start[b], hi = b + 1 < nb ? start[b + 1] : d->horizon;
		size_t m = 0, o, p;
		double *beta = fit->p + 1 + nb + b * NF;
		fit->p[1 + b] = (double)lo;
		for (o = n > lo + 1 ? n - 1 - lo : 0; o >= omin && m < MAX_ROWS;
		     o--) {
			/* one step per origin, scrambled so that the targets'
			 * times of day do not line up (Knuth's multiplier) */
			size_t j = lo + (size_t)(((uint32_t)o * 2654435761u) >>
						 8) % (hi - lo);
			if (o + j >= n || isnan(d->y[o + j]))
				continue;
			features(d, o, j, sc, x + m * NF);
			y[m++] = d->y[o + j] / sc;
		}
		if (m < 3 * NF) {
			/* too few rows: the previous bucket's, or the median */
			if (b > 0)
				memcpy(beta, beta - NF, NF * sizeof(*beta));
			else {
				memset(beta, 0, NF * sizeof(*beta));
				beta[5] = 1;
			}
			continue;
		}
		lad(x, y, m, beta);
		/* back to the series' units: intercept and calendar terms */
		beta[0] *= sc;
		for (p = 6; p < NF; p++)
			beta[p] *= sc;
	}
out:
	free(x);
	free(y);
	return rc;
}

static bsp_err regress_forecast(const struct fc_fit *fit,
				const struct fc_data *d, size_t n, size_t h,
				double *out)
{
	size_t nb = (size_t)fit->p[0], b = 0, j, p;
	double x[NF];

	if (n < d->week + d->day) {
		/* a history shorter than the features need: carry the last */
		for (j = 0; j < h; j++)
			out[j] = d->f[n - 1];
		return BSP_OK;
	}
	for (j = 0; j < h; j++) {
		const double *beta;
		double v = 0;
		while (b + 1 < nb && (double)j >= fit->p[1 + b + 1])
			b++;
		beta = fit->p + 1 + nb + b * NF;
		features(d, n, j, 1, x);
		for (p = 0; p < NF; p++)
			v += beta[p] * x[p];
		out[j] = v;
	}
	return BSP_OK;
}

static int regress_check(const struct fc_fit *fit)
{
	size_t nb, b;

	if (fit->np < 1 || !(fit->p[0] >= 1 && fit->p[0] <= MAX_BUCKETS))
		return -1;
	nb = (size_t)fit->p[0];
	if ((double)nb != fit->p[0] || fit->np != 1 + nb + nb * NF ||
	    fit->p[1] != 0)
		return -1;
	for (b = 1; b < nb; b++)
		if (!(fit->p[1 + b] > fit->p[b]) ||
		    fit->p[1 + b] != floor(fit->p[1 + b]))
			return -1;
	return 0;
}

static void regress_describe(const struct fc_fit *fit, char *buf,
			     size_t size)
{
	size_t nb = (size_t)fit->p[0];
	const double *first = fit->p + 1 + nb;
	const double *last = first + (nb - 1) * NF;

	/* the weights of the last value and of the same-hour median in the
	 * first and the last bucket: the two that move with the horizon */
	snprintf(buf, size,
		 "buckets=%zu last_value=%.3g..%.3g day_median=%.3g..%.3g", nb,
		 first[1], last[1], first[5], last[5]);
}

const struct fc_kind fc_kind_regress = {
	.name = "regress",
	.help = "direct regression on lags and calendar, least absolute error",
	.flags = 0,
	.min_points = regress_min,
	.fit = regress_fit,
	.forecast = regress_forecast,
	.check = regress_check,
	.describe = regress_describe,
};
