/*
 * Backtests (bsp_backtest_one): a forecast made at an origin from the
 * history before it, scored against the step means that came after.
 *
 * MASE follows Hyndman & Koehler, "Another look at measures of forecast
 * accuracy" (IJF 2006): the forecast's MAE divided by the in-sample MAE of
 * the seasonal naive forecast (period one day) on the history. Pinball
 * loss at level q is q*(y-f) when y >= f, else (1-q)*(f-y), averaged and
 * scaled by the same in-sample MAE so that series of different units can
 * be averaged.
 */
#include <math.h>
#include <stdio.h>

#include "profile_int.h"

const double bsp_bt_levels[BSP_BT_LEVELS] = {0.9, 0.95, 0.99};

void bsp_bt_acc_add(struct bsp_bt_acc *a, const struct bsp_bt_acc *b)
{
	a->forecasts += b->forecasts;
	a->skipped += b->skipped;
	a->mase_sum += b->mase_sum;
	a->points += b->points;
	for (int l = 0; l < BSP_BT_LEVELS; l++) {
		a->pinball_sum[l] += b->pinball_sum[l];
		a->covered[l] += b->covered[l];
	}
}

/* In-sample MAE of the daily seasonal naive forecast. */
static double naive_scale(const struct bsp_fc_series *h)
{
	size_t p = (size_t)(BSP_DAY / h->step), n = 0;
	double sum = 0;

	for (size_t i = p; i < h->n; i++)
		if (!isnan(h->y[i]) && !isnan(h->y[i - p])) {
			sum += fabs(h->y[i] - h->y[i - p]);
			n++;
		}
	return n ? sum / (double)n : NAN;
}

bsp_err bsp_backtest_one(struct bsp_store *st, const struct bsp_series *s,
			 bsp_time origin, const struct bsp_profile_options *in,
			 const char *model, struct bsp_bt_acc *acc,
			 char *chosen, struct bsp_error *err)
{
	struct bsp_profile_options opt;
	struct bsp_fc_options fo;
	struct bsp_fc_series hist;
	struct bsp_fc_output out = {0};
	struct bsp_fc_model *m = NULL;
	double *y = NULL, *actual = NULL, scale;
	size_t steps, l;
	bsp_err result;

	prof_opts_fill(in, &opt);
	opt.model = model;
	prof_fc_options(&opt, &fo);
	if (chosen)
		chosen[0] = '\0';
	steps = (size_t)((opt.horizon + opt.step - 1) / opt.step);
	result = bsp_profile_history(st, s, origin, &opt, &y, &hist, NULL);
	if (result != BSP_OK || hist.n < BSP_FC_MIN_POINTS ||
	    !((scale = naive_scale(&hist)) > 0)) {
		acc->skipped++;
		free(y);
		return result == BSP_ENOMEM ? bsp_error_set(err, result,
							    "out of memory")
					    : BSP_OK;
	}
	actual = malloc(steps * sizeof(*actual));
	if (!actual) {
		free(y);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	result = bsp_store_read_grid(st, s->id, origin,
				     origin + (bsp_time)steps * opt.step,
				     opt.step, BSP_AGG_MEAN, BSP_FILL_NAN,
				     actual, err);
	if (result != BSP_OK)
		goto out;
	/* Levels asked of the forecaster: the three scored ones. */
	if (bsp_fc_train(&hist, &fo, &m, NULL) != BSP_OK ||
	    bsp_fc_predict(m, &hist, steps, bsp_bt_levels, BSP_BT_LEVELS,
			   &out, NULL) != BSP_OK) {
		acc->skipped++;
		goto out;
	}
	if (chosen) {
		struct bsp_fc_info info;
		bsp_fc_model_info(m, &info);
		snprintf(chosen, BSP_FC_NAME_MAX, "%s", info.model);
	}
	double ae = 0, pin[BSP_BT_LEVELS] = {0};
	size_t n = 0, cov[BSP_BT_LEVELS] = {0};
	for (size_t h = 0; h < steps; h++) {
		double a = actual[h];
		if (isnan(a))
			continue;
		ae += fabs(a - out.point[h]);
		for (l = 0; l < BSP_BT_LEVELS; l++) {
			double q = bsp_fc_q(&out, l, h), lv = bsp_bt_levels[l];
			pin[l] += a >= q ? lv * (a - q) : (1 - lv) * (q - a);
			cov[l] += a <= q;
		}
		n++;
	}
	if (!n) {
		acc->skipped++;
		goto out;
	}
	acc->forecasts++;
	acc->points += n;
	acc->mase_sum += ae / (double)n / scale;
	for (l = 0; l < BSP_BT_LEVELS; l++) {
		acc->pinball_sum[l] += pin[l] / (double)n / scale;
		acc->covered[l] += cov[l];
	}
out:
	bsp_fc_output_release(&out);
	bsp_fc_model_free(m);
	free(y);
	free(actual);
	return result;
}
