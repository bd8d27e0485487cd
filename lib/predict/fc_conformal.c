/*
 * Quantiles by split conformal prediction on backtest errors.
 *
 * Training forecasts its own history from several past origins; the
 * errors (actual - point) at each horizon step have empirical quantiles
 * that become the forecast's: q_level(h) = point(h) + Q_level(h). This is
 * split conformal prediction (Vovk, Gammerman & Shafer, "Algorithmic
 * Learning in a Random World", 2005; Lei et al., "Distribution-free
 * predictive inference for regression", JASA 2018) applied per horizon
 * step as in Stankeviciute et al., "Conformal time-series forecasting",
 * NeurIPS 2021.
 *
 * One origin a day over two weeks gives only 14 errors per step, too few
 * for a p95, so each step pools the errors of neighbouring steps (a window
 * that widens with the horizon, where errors change slowly). The order
 * statistic taken is the conformal one, ceil((m + 1) * level) of m, which
 * keeps coverage at or above the level for exchangeable scores.
 *
 * The errors are used in the series' own units, not divided by a local
 * spread (normalised scores, Papadopoulos et al. 2008): on the Bitbrains
 * traces every local scale tried (the last day's or week's absolute
 * deviation, alone or floored) made the p95 pinball loss worse, because a
 * quiet day before a busy one shrinks the interval exactly when it should
 * not (docs/forecasting.md).
 */
#include "predict.h"

const double fc_qgrid[FC_NQ] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
				0.6,  0.7,  0.8,  0.9, 0.95, 0.98, 0.99};

/* The conformal order statistic for `level` among m sorted scores. */
static double conformal_quantile(const double *x, size_t m, double level)
{
	double r;
	size_t k;

	if (!m)
		return 0;
	if (level >= 0.5) {
		r = ceil((double)(m + 1) * level);
		k = r < 1 ? 1 : (size_t)r;
	} else {
		r = floor((double)(m + 1) * level);
		k = r < 1 ? 1 : (size_t)r;
	}
	if (k > m)
		k = m;
	return x[k - 1];
}

/* Collects the errors of steps [a, b) into buf; returns their number. */
static size_t gather(const double *err, size_t k, size_t h, size_t a,
		     size_t b, double *buf)
{
	size_t m = 0, o, j;

	for (o = 0; o < k; o++)
		for (j = a; j < b; j++) {
			double e = err[o * h + j];
			if (!isnan(e))
				buf[m++] = e;
		}
	return m;
}

void fc_calib_build(struct fc_calib *c, const double *err, size_t k,
		    size_t h)
{
	double *buf;
	size_t r, j;

	memset(c, 0, sizeof(*c));
	c->horizon = h;
	c->n_rows = h < FC_MAX_ROWS ? h : FC_MAX_ROWS;
	for (r = 0; r <= c->n_rows; r++)
		c->lo[r] = r * h / c->n_rows;
	buf = malloc((k * h + 1) * sizeof(*buf));
	if (!buf)
		return; /* zero-width quantiles: safe, only less useful */
	for (r = 0; r < c->n_rows; r++) {
		size_t lo = c->lo[r], hi = c->lo[r + 1];
		size_t w = 1 + lo / 8;
		size_t a = lo > w ? lo - w : 0, b = hi + w < h ? hi + w : h;
		size_t m = gather(err, k, h, a, b, buf);
		if (m < 20) /* too few: pool every step */
			m = gather(err, k, h, 0, h, buf);
		fc_sort(buf, m);
		for (j = 0; j < FC_NQ; j++)
			c->q[r][j] = conformal_quantile(buf, m, fc_qgrid[j]);
		c->n_scores += m;
	}
	free(buf);
}

double fc_calib_quantile(const struct fc_calib *c, double level, size_t j)
{
	size_t r = 0, i;
	double widen = 1, t, q;

	if (!c->n_rows)
		return 0;
	if (j >= c->horizon) {
		widen = sqrt((double)(j + 1) / (double)c->horizon);
		r = c->n_rows - 1;
	} else {
		while (r + 1 < c->n_rows && c->lo[r + 1] <= j)
			r++;
	}
	if (level <= fc_qgrid[0])
		return widen * c->q[r][0];
	if (level >= fc_qgrid[FC_NQ - 1])
		return widen * c->q[r][FC_NQ - 1];
	for (i = 1; i < FC_NQ - 1 && fc_qgrid[i] < level; i++)
		;
	t = (level - fc_qgrid[i - 1]) / (fc_qgrid[i] - fc_qgrid[i - 1]);
	q = c->q[r][i - 1] + t * (c->q[r][i] - c->q[r][i - 1]);
	return widen * q;
}
