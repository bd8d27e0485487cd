/*
 * Training that a one-off spike cannot inflate (bsp_anomaly_train).
 *
 * A forecaster fitted on a series with a spike learns the spike twice:
 * its members may copy it forward, and its conformal quantiles, computed
 * from backtest errors, widen until p99 covers it. A detector built on
 * that model would then find nothing, which is why one pass is not enough
 * (the masking effect of robust statistics: Rousseeuw & Leroy, "Robust
 * Regression and Outlier Detection", 1987). So:
 *
 *   pass 1  fit on the raw series; flag with the robust band (the p10..p90
 *           spread scaled to the level), which a few outliers barely move;
 *   pass 2  fit on the series without those points; flag again with this
 *           cleaner model's own calibrated band;
 *   final   fit without the points pass 2 flagged (pass 2's model when
 *           both passes excluded the same points).
 *
 * The refits choose among the models pass 1 chose (the members of its
 * combination) instead of the whole table: an outlier moves the
 * calibration far more than the ranking of models over two weeks of
 * backtests, and a refit then costs a fraction of a full selection
 * (bespoke train with exclusion ~1.6x the work of one without, not 3x).
 *
 * Level shifts are never excluded (anomaly.h), so a lasting change still
 * moves the forecast.
 */
#include <math.h>

#include "anomaly_int.h"

/* Do both results exclude exactly the same points? */
static int same_exclusions(const struct bsp_anomaly_result *a,
			   const struct bsp_anomaly_result *b)
{
	const unsigned dir = BSP_ANOM_ABOVE | BSP_ANOM_BELOW;

	if (a->n != b->n || a->n_excluded != b->n_excluded)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		int ea = (a->flag[i] & dir) && !(a->flag[i] & BSP_ANOM_SHIFT);
		int eb = (b->flag[i] & dir) && !(b->flag[i] & BSP_ANOM_SHIFT);
		if (ea != eb)
			return 0;
	}
	return 1;
}

/* Fits on s without the points r excludes; `y` is scratch (s->n). */
static bsp_err fit_without(const struct bsp_fc_series *s, double *y,
			   const struct bsp_anomaly_result *r,
			   const struct bsp_fc_options *fo,
			   struct bsp_fc_model **m, struct bsp_error *err)
{
	struct bsp_fc_series c = *s;

	memcpy(y, s->y, s->n * sizeof(*y));
	bsp_anomaly_mask(r, y);
	c.y = y;
	return bsp_fc_train(&c, fo, m, err);
}

/* fo, restricted to the members of m1 when fo chooses among all. */
static void refit_options(const struct bsp_fc_options *fo,
			  const struct bsp_fc_model *m1,
			  struct bsp_fc_info *info, const char **names,
			  struct bsp_fc_options *out)
{
	if (fo)
		*out = *fo;
	else
		bsp_fc_options_init(out);
	if ((out->model && strcmp(out->model, "auto")) || out->n_candidates)
		return;
	bsp_fc_model_info(m1, info);
	for (size_t i = 0; i < info->n_members; i++)
		names[i] = info->members[i].name;
	out->candidates = names;
	out->n_candidates = info->n_members;
}

bsp_err bsp_anomaly_train(const struct bsp_fc_series *s,
			  const struct bsp_fc_options *fo,
			  const struct bsp_anomaly_options *opt,
			  struct bsp_fc_model **model,
			  struct bsp_anomaly_result *out, struct bsp_error *err)
{
	struct bsp_anomaly_result r1 = {0}, r2 = {0};
	struct bsp_fc_model *m1 = NULL, *m2 = NULL, *m3 = NULL;
	struct bsp_fc_options ro;
	struct bsp_fc_info info;
	const char *names[BSP_FC_MAX_MEMBERS];
	double *y = NULL;
	bsp_err rc;

	if (model)
		*model = NULL;
	if (out)
		memset(out, 0, sizeof(*out));
	rc = bsp_fc_train(s, fo, &m1, err);
	if (rc)
		return rc;
	rc = anom_detect(s, m1, opt, 1, &r1, err);
	if (rc)
		goto out;
	refit_options(fo, m1, &info, names, &ro);
	y = malloc((s->n ? s->n : 1) * sizeof(*y));
	if (!y) {
		rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (r1.n_excluded) {
		struct bsp_error e = {0};
		/* Refusing to fit because too much was removed would leave
		 * the entity without a forecast: keep pass one's model. */
		if (fit_without(s, y, &r1, &ro, &m2, &e) != BSP_OK)
			m2 = NULL;
	}
	rc = anom_detect(s, m2 ? m2 : m1, opt, 0, &r2, err);
	if (rc)
		goto out;
	if (!same_exclusions(&r1, &r2) && r2.n_excluded) {
		struct bsp_error e = {0};
		if (fit_without(s, y, &r2, &ro, &m3, &e) != BSP_OK)
			m3 = NULL;
	}
	if (model) {
		/* The latest model whose training left out what it should. */
		struct bsp_fc_model **pick = m3			     ? &m3
					     : (r2.n_excluded && m2) ? &m2
								     : &m1;
		if (!r2.n_excluded)
			pick = &m1;
		*model = *pick;
		*pick = NULL;
	}
	if (out) {
		*out = r2;
		memset(&r2, 0, sizeof(r2));
	}
out:
	free(y);
	bsp_anomaly_result_release(&r1);
	bsp_anomaly_result_release(&r2);
	bsp_fc_model_free(m1);
	bsp_fc_model_free(m2);
	bsp_fc_model_free(m3);
	return rc;
}
