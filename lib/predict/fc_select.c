/*
 * Choosing a forecaster for one series by rolling-origin backtests on its
 * own history (Tashman, "Out-of-sample tests of forecasting accuracy",
 * IJF 2000), then calibrating its quantiles on the same backtests.
 *
 * The origins are the last K days of the history, one a day (or one
 * horizon apart when the step divides no day), the latest one leaving
 * exactly one horizon of data to score. Each candidate is fitted once, on
 * the history before the earliest origin, and forecasts from every origin
 * with those parameters and its state re-filtered up to the origin: the
 * errors are out of sample for the parameters and cost one fit, not K.
 *
 * Candidates are ranked by MASE. The forecast is a weighted mean of the
 * best three, with weights proportional to 1 / MASE^2: combining beats
 * picking one on average (Bates & Granger 1969; the M4 competition,
 * Makridakis et al., IJF 2020), and the inverse-error weights let a clearly
 * better candidate dominate. The combination's own backtest errors then
 * calibrate the quantiles (fc_conformal.c), and the point forecast moves
 * onto the calibrated median, the forecast that minimises absolute error
 * on skewed, bursty usage. Finally each member is refitted on the whole
 * history, starting from its backtest parameters.
 */
#include "predict.h"

#define DEFAULT_ORIGINS 14
#define ENSEMBLE_SIZE 3

struct cand {
	const struct fc_kind *kind;
	struct fc_fit fit;
	double mase;
	double *bt; /* K * H backtest point forecasts */
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->mase != y->mase)
		return x->mase < y->mase ? -1 : 1;
	return (x->kind > y->kind) - (x->kind < y->kind);
}

bsp_err fc_model_point(const struct bsp_fc_model *m, const struct fc_data *d,
		       size_t n, size_t h, double *out)
{
	double *tmp;
	size_t i, j;
	bsp_err rc = BSP_OK;

	tmp = malloc(h * sizeof(*tmp));
	if (!tmp)
		return BSP_ENOMEM;
	for (j = 0; j < h; j++)
		out[j] = 0;
	for (i = 0; i < m->n_members && rc == BSP_OK; i++) {
		const struct fc_member *mb = &m->members[i];
		rc = mb->fit.kind->forecast(&mb->fit, d, n, h, tmp);
		for (j = 0; rc == BSP_OK && j < h; j++)
			out[j] += mb->weight * tmp[j];
	}
	free(tmp);
	return rc;
}

/*
 * Mean absolute error of backtest forecasts bt[k][h] against the data,
 * after the point forecast is moved onto the calibrated median of its own
 * errors (unless mean_point): candidates are ranked as they would
 * forecast. errs (k * h) and c are scratch.
 */
static double backtest_mae(const struct fc_data *d, const size_t *origin,
			   size_t k, size_t h, const double *bt, int mean_point,
			   double *errs, struct fc_calib *c)
{
	double sum = 0;
	size_t m = 0, o, j;

	for (o = 0; o < k; o++)
		for (j = 0; j < h; j++)
			errs[o * h + j] = d->y[origin[o] + j] - bt[o * h + j];
	if (!mean_point)
		fc_calib_build(c, errs, k, h, 0);
	for (o = 0; o < k; o++)
		for (j = 0; j < h; j++) {
			double e = errs[o * h + j];
			if (isnan(e))
				continue;
			if (!mean_point)
				e -= fc_calib_quantile(c, 0.5, j);
			sum += fabs(e);
			m++;
		}
	return m ? sum / (double)m : 0;
}

/* The backtest plan: horizon hb, origins (ascending). Returns K. */
static size_t plan(const struct fc_data *d, const struct bsp_fc_options *opt,
		   size_t *hb_out, size_t *origin)
{
	size_t n = d->n, day = d->day ? d->day : 24;
	size_t fit_min = 2 * day < n / 2 ? 2 * day : n / 2;
	size_t kmax = opt->origins ? opt->origins : DEFAULT_ORIGINS;
	size_t hb, stride, k, i;

	if (fit_min < 8)
		fit_min = 8;
	hb = d->horizon < n - fit_min ? d->horizon : n - fit_min;
	stride = d->day ? d->day : hb;
	k = 1 + (n - hb - fit_min) / stride;
	if (k > kmax)
		k = kmax;
	for (i = 0; i < k; i++)
		origin[k - 1 - i] = n - hb - i * stride;
	*hb_out = hb;
	return k;
}

static bsp_err pick_candidates(const struct fc_data *d,
			       const struct bsp_fc_options *opt, size_t first,
			       struct cand *c, size_t *nc,
			       struct bsp_error *err)
{
	size_t i, need;

	*nc = 0;
	if (opt->model && strcmp(opt->model, "auto")) {
		const struct fc_kind *k = fc_kind_find(opt->model);
		if (!k)
			return bsp_error_set(err, BSP_EINVAL,
					     "forecast: unknown model '%s'",
					     opt->model);
		need = k->min_points(d);
		if (!need)
			return bsp_error_set(err, BSP_EINVAL,
					     "forecast: model '%s' cannot run "
					     "on a step of %lld ms",
					     k->name, (long long)d->step);
		if (need > first)
			return bsp_error_set(err, BSP_EINVAL,
					     "not enough history for model "
					     "'%s': %zu points before the "
					     "backtests, need %zu",
					     k->name, first, need);
		c[(*nc)++].kind = k;
		return BSP_OK;
	}
	for (i = 0; i < fc_n_kinds; i++) {
		const struct fc_kind *k = fc_kinds[i];
		if (k->flags & FC_BASELINE)
			continue;
		if (opt->n_candidates) {
			size_t j = 0;
			while (j < opt->n_candidates &&
			       strcmp(opt->candidates[j], k->name))
				j++;
			if (j == opt->n_candidates)
				continue;
		}
		need = k->min_points(d);
		if (need && need <= first)
			c[(*nc)++].kind = k;
	}
	if (!*nc)
		return bsp_error_set(err, BSP_EINTERNAL,
				     "forecast: no model can run on %zu points",
				     d->n);
	return BSP_OK;
}

/* Scores of the final combination on the backtests, for the info. */
static void score(struct bsp_fc_model *m, const struct fc_data *d,
		  const size_t *origin, size_t k, size_t hb, const double *comb,
		  double mscale)
{
	double ae = 0, pin = 0, cov = 0;
	size_t cnt = 0, o, j;

	for (o = 0; o < k; o++)
		for (j = 0; j < hb; j++) {
			double a = d->y[origin[o] + j], p = comb[o * hb + j];
			double q95 = p + fc_calib_quantile(&m->calib, 0.95, j);
			if (isnan(a))
				continue;
			if (!m->mean_point)
				p += fc_calib_quantile(&m->calib, 0.5, j);
			if (m->nonneg) {
				p = p < 0 ? 0 : p;
				q95 = q95 < 0 ? 0 : q95;
			}
			ae += fabs(a - p);
			pin += a >= q95 ? 0.95 * (a - q95) : 0.05 * (q95 - a);
			cov += a <= q95;
			cnt++;
		}
	if (!cnt)
		return;
	m->mase = ae / (double)cnt / mscale;
	m->pinball95 = pin / (double)cnt / mscale;
	m->coverage95 = cov / (double)cnt;
}

bsp_err fc_select_train(struct bsp_fc_model *m, struct fc_data *d,
			const struct bsp_fc_options *opt,
			struct bsp_error *err)
{
	struct cand c[16];
	size_t origin[64], k, hb, nc = 0, nm, i, o, j;
	double *comb = NULL, *errs = NULL, mscale, wsum = 0;
	bsp_err rc;
	struct bsp_fc_options defaults;

	if (!opt) {
		bsp_fc_options_init(&defaults);
		opt = &defaults;
	}
	if (fc_n_kinds > BSP_ARRAY_LEN(c))
		return bsp_error_set(err, BSP_EINTERNAL,
				     "forecast: too many models");
	memset(c, 0, sizeof(c));
	if (opt->origins > BSP_ARRAY_LEN(origin))
		return bsp_error_set(err, BSP_EINVAL,
				     "forecast: at most %zu backtest origins",
				     BSP_ARRAY_LEN(origin));
	k = plan(d, opt, &hb, origin);
	rc = pick_candidates(d, opt, origin[0], c, &nc, err);
	if (rc)
		return rc;
	mscale = fc_mase_scale(d->y, d->n, d->day ? d->day : 1);
	if (!(mscale > 0))
		mscale = 1;
	comb = calloc(k * hb, sizeof(*comb));
	errs = malloc(k * hb * sizeof(*errs));
	if (!comb || !errs) {
		rc = BSP_ENOMEM;
		goto out;
	}

	for (i = 0; i < nc; i++) {
		c[i].fit.kind = c[i].kind;
		c[i].bt = malloc(k * hb * sizeof(double));
		if (!c[i].bt) {
			rc = BSP_ENOMEM;
			goto out;
		}
		rc = c[i].kind->fit(d, origin[0], NULL, &c[i].fit);
		for (o = 0; rc == BSP_OK && o < k; o++)
			rc = c[i].kind->forecast(&c[i].fit, d, origin[o], hb,
						 c[i].bt + o * hb);
		if (rc)
			goto out;
		c[i].mase = backtest_mae(d, origin, k, hb, c[i].bt,
					 m->mean_point, errs, &m->calib) /
			    mscale;
		if (!isfinite(c[i].mase))
			c[i].mase = 1e300;
	}
	qsort(c, nc, sizeof(*c), cand_cmp);

	/* the members and their weights */
	nm = (opt->flags & BSP_FC_SELECT_ONE) ? 1 : ENSEMBLE_SIZE;
	if (nm > nc)
		nm = nc;
	if (nm > BSP_FC_MAX_MEMBERS)
		nm = BSP_FC_MAX_MEMBERS;
	for (i = 0; i < nm; i++) {
		double e = c[i].mase > 1e-12 ? c[i].mase : 1e-12;
		m->members[i].weight = 1 / (e * e); /* inverse MASE squared */
		wsum += m->members[i].weight;
	}
	m->n_members = nm;
	for (i = 0; i < nm; i++) {
		m->members[i].weight /= wsum;
		m->members[i].mase = c[i].mase;
		for (j = 0; j < k * hb; j++)
			comb[j] += m->members[i].weight * c[i].bt[j];
	}

	/* calibration on the combination's backtest errors */
	for (o = 0; o < k; o++)
		for (j = 0; j < hb; j++)
			errs[o * hb + j] = d->y[origin[o] + j] - comb[o * hb + j];
	fc_calib_build(&m->calib, errs, k, hb, 1);
	m->n_origins = k;
	score(m, d, origin, k, hb, comb, mscale);

	/* final fits on the whole history */
	for (i = 0; i < nm; i++) {
		struct fc_fit *f = &m->members[i].fit;
		f->kind = c[i].kind;
		rc = c[i].kind->fit(d, d->n, &c[i].fit, f);
		if (rc)
			goto out;
	}
	rc = BSP_OK;
out:
	for (i = 0; i < nc; i++)
		free(c[i].bt);
	free(comb);
	free(errs);
	if (rc == BSP_ENOMEM)
		return bsp_error_set(err, rc, "forecast: out of memory");
	if (rc)
		return bsp_error_set(err, rc, "forecast: fitting failed: %s",
				     bsp_strerror(rc));
	return rc;
}
