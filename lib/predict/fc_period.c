/*
 * Period detection: does this series have a daily cycle, a weekly one,
 * or another strong period? Seasonal models are only offered the periods
 * found here, so a series without a daily cycle is not forced into one.
 *
 * The method follows AUTOPERIOD (Vlachos, Yu & Castelli, "On periodicity
 * detection and structural periodic similarity", SDM 2005): the
 * periodogram proposes, the autocorrelation confirms. On the last whole
 * weeks (or days) of the gap-filled series, clipped at its 1st and 99th
 * percentiles so that one burst does not dominate, a candidate period P
 * is accepted when
 *   - its harmonics (the frequencies j/P, j = 1..4) hold on average at
 *     least SPEC_RATIO times the periodogram's noise level, estimated as
 *     the median ordinate over ln 2 (the median of an exponential: under
 *     white noise periodogram ordinates are exponential, Brockwell &
 *     Davis, "Time Series: Theory and Methods", 10.3), and
 *   - the autocorrelation at lag P reaches ACF_MIN and 3/sqrt(m), about
 *     three standard errors of a white-noise autocorrelation (Bartlett).
 * The candidates are the calendar's day and week when the step divides a
 * day, and the periodogram's highest peak otherwise or besides. A weekly
 * cycle must also show in the harmonics that a daily cycle does not have
 * (j/P with j not a multiple of 7) and correlate better at a week than at
 * a day, so that a daily cycle alone is not taken for a weekly one.
 *
 * The FFT is GSL's mixed-radix real transform (gsl_fft_real_transform);
 * the length is cut to a multiple of the period with small prime factors
 * so that the calendar harmonics fall on exact bins.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_real.h>

#include "predict.h"

#define SPEC_RATIO 3.0
#define ACF_MIN 0.1
#define MAX_WEEKS 8
#define MAX_POINTS 65536

struct spectrum {
	const double *x; /* m centred values */
	double *power;   /* power[k], k = 0 .. m/2 */
	size_t m;
	double noise; /* mean ordinate under white noise */
	double var;   /* sum of x^2 */
};

/* Largest w' <= w whose prime factors are 2, 3, 5 or 7. */
static size_t smooth_below(size_t w)
{
	for (; w > 1; w--) {
		size_t r = w;
		while (r % 2 == 0)
			r /= 2;
		while (r % 3 == 0)
			r /= 3;
		while (r % 5 == 0)
			r /= 5;
		while (r % 7 == 0)
			r /= 7;
		if (r == 1)
			return w;
	}
	return 1;
}

static double acf(const struct spectrum *s, size_t lag)
{
	double sum = 0;
	size_t t;

	if (lag >= s->m || s->var <= 0)
		return 0;
	for (t = lag; t < s->m; t++)
		sum += s->x[t] * s->x[t - lag];
	return sum / s->var;
}

/* Power near frequency bin f (not necessarily whole). */
static double power_at(const struct spectrum *s, double f)
{
	size_t a = (size_t)floor(f), b = (size_t)ceil(f);
	double pa, pb;

	if (a < 1 || b > s->m / 2)
		return 0;
	pa = s->power[a];
	pb = s->power[b];
	return pa > pb ? pa : pb;
}

/* Mean harmonic power of period p relative to the noise level; with
 * skip7, harmonics that are multiples of 7 are left out. */
static double harmonic_ratio(const struct spectrum *s, size_t p, int skip7)
{
	double sum = 0;
	size_t j, n = 0;

	for (j = 1; n < 4 && j <= p / 2 && j < 32; j++) {
		if (skip7 && j % 7 == 0)
			continue;
		sum += power_at(s, (double)j * (double)s->m / (double)p);
		n++;
	}
	return n && s->noise > 0 ? sum / (double)n / s->noise : 0;
}

static int accept(const struct spectrum *s, size_t p, int skip7)
{
	double r = acf(s, p), lim = 3 / sqrt((double)s->m);

	if (p < 2 || 2 * p > s->m)
		return 0;
	return harmonic_ratio(s, p, skip7) >= SPEC_RATIO && r >= ACF_MIN &&
	       r >= lim;
}

static size_t choose_length(const struct fc_data *d)
{
	size_t n = d->n < MAX_POINTS ? d->n : MAX_POINTS;

	if (d->week && n >= 2 * d->week) {
		size_t w = n / d->week;
		return d->week * smooth_below(w < MAX_WEEKS ? w : MAX_WEEKS);
	}
	if (d->day && n >= 2 * d->day)
		return d->day * smooth_below(n / d->day);
	return smooth_below(n);
}

static void add_period(struct fc_data *d, size_t p)
{
	size_t i;

	for (i = 0; i < BSP_FC_MAX_PERIODS; i++) {
		if (d->period[i] == p)
			return;
		if (!d->period[i]) {
			d->period[i] = p;
			return;
		}
	}
}

/* The periodogram's highest peak as a period, refined to the local
 * maximum of the autocorrelation within 10% (AUTOPERIOD's hill climb). */
static size_t peak_period(const struct spectrum *s)
{
	size_t k, best = 0, p, lo, hi, lag;
	double bp = 0, br = -2;

	for (k = 2; k <= s->m / 2; k++)
		if (s->power[k] > bp) {
			bp = s->power[k];
			best = k;
		}
	if (!best)
		return 0;
	p = (size_t)floor((double)s->m / (double)best + 0.5);
	lo = p - p / 10;
	hi = p + p / 10;
	for (lag = lo < 2 ? 2 : lo; lag <= hi && lag < s->m; lag++) {
		double r = acf(s, lag);
		if (r > br) {
			br = r;
			p = lag;
		}
	}
	return p;
}

bsp_err fc_period_detect(struct fc_data *d)
{
	struct spectrum s = {0};
	gsl_fft_real_wavetable *wt = NULL;
	gsl_fft_real_workspace *ws = NULL;
	double *x = NULL, *tmp = NULL, lo, hi, mean = 0;
	size_t m = choose_length(d), k, i, peak;
	bsp_err rc = BSP_OK;

	memset(d->period, 0, sizeof(d->period));
	if (m < 16)
		return BSP_OK;
	x = malloc(m * sizeof(*x));
	tmp = malloc(m * sizeof(*tmp));
	s.power = malloc((m / 2 + 1) * sizeof(*s.power));
	wt = gsl_fft_real_wavetable_alloc(m);
	ws = gsl_fft_real_workspace_alloc(m);
	if (!x || !tmp || !s.power || !wt || !ws) {
		rc = BSP_ENOMEM;
		goto out;
	}
	/* clip at the 1st and 99th percentiles, centre */
	memcpy(tmp, d->f + d->n - m, m * sizeof(*tmp));
	fc_sort(tmp, m);
	lo = fc_quantile_sorted(tmp, m, 0.01);
	hi = fc_quantile_sorted(tmp, m, 0.99);
	for (i = 0; i < m; i++) {
		double v = d->f[d->n - m + i];
		x[i] = v < lo ? lo : v > hi ? hi : v;
		mean += x[i];
	}
	mean /= (double)m;
	for (i = 0; i < m; i++) {
		x[i] -= mean;
		s.var += x[i] * x[i];
	}
	if (!(s.var > 1e-300 * (double)m))
		goto out; /* constant: no period */
	s.x = x;
	s.m = m;

	/* periodogram from the half-complex transform of a copy */
	memcpy(tmp, x, m * sizeof(*tmp));
	if (gsl_fft_real_transform(tmp, 1, m, wt, ws) != GSL_SUCCESS) {
		rc = BSP_EINTERNAL;
		goto out;
	}
	s.power[0] = 0;
	for (k = 1; k <= m / 2; k++) {
		double re = tmp[2 * k - 1], im = 2 * k < m ? tmp[2 * k] : 0;
		s.power[k] = re * re + im * im;
	}
	memcpy(tmp, s.power + 1, (m / 2) * sizeof(*tmp));
	fc_sort(tmp, m / 2);
	s.noise = fc_quantile_sorted(tmp, m / 2, 0.5) / log(2.0);

	if (d->day >= 2 && accept(&s, d->day, 0))
		add_period(d, d->day);
	if (d->week && accept(&s, d->week, 1) &&
	    (!d->period[0] || acf(&s, d->week) > acf(&s, d->day) + 0.05))
		add_period(d, d->week);
	peak = peak_period(&s);
	if (peak && !d->period[BSP_FC_MAX_PERIODS - 1] && accept(&s, peak, 0)) {
		int calendar = 0;
		if (d->day && labs((long)peak - (long)d->day) * 10 <=
				      (long)d->day)
			calendar = 1;
		if (d->week && labs((long)peak - (long)d->week) * 10 <=
				       (long)d->week)
			calendar = 1;
		if (!calendar)
			add_period(d, peak);
	}
	/* shortest first */
	if (d->period[1] && d->period[1] < d->period[0]) {
		size_t t = d->period[0];
		d->period[0] = d->period[1];
		d->period[1] = t;
	}
out:
	gsl_fft_real_wavetable_free(wt);
	gsl_fft_real_workspace_free(ws);
	free(x);
	free(tmp);
	free(s.power);
	return rc;
}
