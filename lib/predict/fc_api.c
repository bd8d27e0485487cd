/*
 * The public forecasting calls (include/bespoke/forecast.h): checking the
 * caller's input, preparing the series, and turning a model's point path
 * and calibration into the output. The choice of model is fc_select.c's,
 * the quantiles fc_conformal.c's.
 */
#include <stdio.h>

#include "predict.h"

/* Refuse horizons whose output would not fit in memory anyway. */
#define MAX_HORIZON ((size_t)1 << 22)

static const double default_levels[BSP_FC_N_DEFAULT_LEVELS] = {
	0.05, 0.1, 0.5, 0.9, 0.95, 0.99};

void bsp_fc_options_init(struct bsp_fc_options *opt)
{
	memset(opt, 0, sizeof(*opt));
}

bsp_err bsp_fc_train(const struct bsp_fc_series *in,
		     const struct bsp_fc_options *opt,
		     struct bsp_fc_model **out, struct bsp_error *err)
{
	struct bsp_fc_options defaults;
	struct bsp_fc_model *m;
	struct fc_data d;
	bsp_err rc;
	size_t i;

	*out = NULL;
	if (!opt) {
		bsp_fc_options_init(&defaults);
		opt = &defaults;
	}
	if (opt->horizon > MAX_HORIZON)
		return bsp_error_set(err, BSP_EINVAL,
				     "forecast: horizon %zu is over %zu steps",
				     opt->horizon, MAX_HORIZON);
	rc = fc_data_init(&d, in, opt->max_history, err);
	if (rc)
		goto out;
	rc = fc_period_detect(&d);
	if (rc) {
		bsp_error_set(err, rc, "forecast: out of memory");
		goto out;
	}
	fc_data_fill(&d);
	d.horizon = opt->horizon ? opt->horizon : (d.day ? d.day : 24);
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = bsp_error_set(err, BSP_ENOMEM, "forecast: out of memory");
		goto out;
	}
	m->step = d.step;
	for (i = 0; i < BSP_FC_MAX_PERIODS; i++)
		m->period[i] = d.period[i];
	m->horizon = d.horizon;
	m->nonneg = d.nonneg;
	m->mean_point = !!(opt->flags & BSP_FC_MEAN_POINT);
	m->max_history = opt->max_history;
	m->from = d.t0;
	m->until = d.t0 + (bsp_time)d.n * d.step;
	m->n_train = d.n;
	rc = fc_select_train(m, &d, opt, err);
	if (rc) {
		free(m);
		goto out;
	}
	*out = m;
out:
	fc_data_release(&d);
	return rc;
}

void bsp_fc_model_free(struct bsp_fc_model *m)
{
	free(m);
}

void bsp_fc_output_release(struct bsp_fc_output *out)
{
	if (!out)
		return;
	free(out->levels);
	free(out->point);
	free(out->q);
	memset(out, 0, sizeof(*out));
}

static bsp_err check_levels(const double *levels, size_t n,
			    struct bsp_error *err)
{
	size_t i;

	if (!levels && n)
		return bsp_error_set(err, BSP_EINVAL, "forecast: no levels");
	for (i = 0; i < n; i++)
		if (!(levels[i] >= BSP_FC_LEVEL_MIN &&
		      levels[i] <= BSP_FC_LEVEL_MAX))
			return bsp_error_set(err, BSP_EINVAL,
					     "forecast: level %g is outside "
					     "[%g, %g]",
					     levels[i], BSP_FC_LEVEL_MIN,
					     BSP_FC_LEVEL_MAX);
	return BSP_OK;
}

/* The last valid value of the history: the fallback for a non-finite
 * number, which no model should produce but nothing downstream may see. */
static double fallback(const struct fc_data *d)
{
	size_t i = d->n;

	while (i-- > 0)
		if (!isnan(d->y[i]))
			return d->y[i];
	return 0;
}

bsp_err bsp_fc_predict(const struct bsp_fc_model *m,
		       const struct bsp_fc_series *history, size_t horizon,
		       const double *levels, size_t n_levels,
		       struct bsp_fc_output *out, struct bsp_error *err)
{
	struct fc_data d;
	double *raw = NULL, fb;
	size_t i, j;
	bsp_err rc;

	memset(out, 0, sizeof(*out));
	if (!m)
		return bsp_error_set(err, BSP_EINVAL, "forecast: no model");
	if (!horizon || horizon > MAX_HORIZON)
		return bsp_error_set(err, BSP_EINVAL,
				     "forecast: horizon must be 1 to %zu "
				     "steps, not %zu",
				     MAX_HORIZON, horizon);
	if (!levels) {
		levels = default_levels;
		n_levels = BSP_FC_N_DEFAULT_LEVELS;
	}
	rc = check_levels(levels, n_levels, err);
	if (rc)
		return rc;
	if (history && history->step != m->step)
		return bsp_error_set(err, BSP_EINVAL,
				     "forecast: the history's step is %lld ms, "
				     "the model's %lld ms",
				     (long long)history->step,
				     (long long)m->step);
	rc = fc_data_init(&d, history, m->max_history, err);
	if (rc)
		goto out;
	for (i = 0; i < BSP_FC_MAX_PERIODS; i++)
		d.period[i] = m->period[i];
	fc_data_fill(&d);
	d.horizon = m->horizon;

	out->t0 = d.t0 + (bsp_time)d.n * d.step;
	out->step = d.step;
	out->horizon = horizon;
	out->n_levels = n_levels;
	out->levels = malloc((n_levels ? n_levels : 1) * sizeof(double));
	out->point = malloc(horizon * sizeof(double));
	out->q = malloc((n_levels ? n_levels : 1) * horizon * sizeof(double));
	raw = malloc(horizon * sizeof(double));
	if (!out->levels || !out->point || !out->q || !raw) {
		rc = bsp_error_set(err, BSP_ENOMEM, "forecast: out of memory");
		goto out;
	}
	memcpy(out->levels, levels, n_levels * sizeof(double));
	rc = fc_model_point(m, &d, d.n, horizon, raw);
	if (rc) {
		bsp_error_set(err, rc, "forecast: %s", bsp_strerror(rc));
		goto out;
	}
	fb = fallback(&d);
	for (j = 0; j < horizon; j++) {
		double c = isfinite(raw[j]) ? raw[j] : fb, p = c;
		if (!m->mean_point)
			p += fc_calib_quantile(&m->calib, 0.5, j);
		for (i = 0; i < n_levels; i++) {
			double v = c + fc_calib_quantile(&m->calib, levels[i],
							 j);
			if (!isfinite(v))
				v = c;
			out->q[i * horizon + j] = m->nonneg && v < 0 ? 0 : v;
		}
		if (!isfinite(p))
			p = c;
		out->point[j] = m->nonneg && p < 0 ? 0 : p;
	}
out:
	free(raw);
	fc_data_release(&d);
	if (rc)
		bsp_fc_output_release(out);
	return rc;
}

bsp_err bsp_fc_forecast(const struct bsp_fc_series *in,
			const struct bsp_fc_options *opt, size_t horizon,
			const double *levels, size_t n_levels,
			struct bsp_fc_output *out,
			struct bsp_fc_model **model_out,
			struct bsp_error *err)
{
	struct bsp_fc_model *m;
	bsp_err rc;

	memset(out, 0, sizeof(*out));
	if (model_out)
		*model_out = NULL;
	rc = bsp_fc_train(in, opt, &m, err);
	if (rc)
		return rc;
	rc = bsp_fc_predict(m, in, horizon, levels, n_levels, out, err);
	if (rc || !model_out)
		bsp_fc_model_free(m);
	else
		*model_out = m;
	return rc;
}

void bsp_fc_model_info(const struct bsp_fc_model *m, struct bsp_fc_info *info)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	for (i = 0; i < m->n_members; i++) {
		const struct fc_member *mb = &m->members[i];
		struct bsp_fc_member *o = &info->members[i];
		snprintf(o->name, sizeof(o->name), "%s", mb->fit.kind->name);
		o->weight = mb->weight;
		o->mase = mb->mase;
		mb->fit.kind->describe(&mb->fit, o->params, sizeof(o->params));
	}
	info->n_members = m->n_members;
	snprintf(info->model, sizeof(info->model), "%s",
		 m->n_members == 1 ? m->members[0].fit.kind->name
				   : "ensemble");
	for (i = 0; i < BSP_FC_MAX_PERIODS; i++)
		if (m->period[i])
			info->periods[info->n_periods++] = m->period[i];
	info->mase = m->mase;
	info->pinball95 = m->pinball95;
	info->coverage95 = m->coverage95;
	info->n_origins = m->n_origins;
	info->horizon = m->calib.horizon;
	info->from = m->from;
	info->until = m->until;
	info->step = m->step;
	info->n_train = m->n_train;
	info->nonneg = m->nonneg;
}
