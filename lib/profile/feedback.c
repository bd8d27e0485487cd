/*
 * Feedback: a stored profile's forecast against what then happened.
 *
 * For each metric of the profile, the step means observed since its origin
 * are compared with the point forecast and the p95: mean absolute error,
 * scaled like the backtests (by the in-sample daily seasonal-naive MAE of
 * the week before the origin, so the figure reads like the profile's own
 * backtest MASE), and the share of values at or below the p95. A metric
 * drifts when, over enough steps, its live error is well above its
 * backtest error or the p95 covers too little: the model no longer
 * describes the entity and is refitted (the daemon's loop does so).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "profile_int.h"

/* Drift: live MASE over max(1.5 x backtest, backtest + 0.5), or p95
 * coverage under 80%, over at least this many steps. */
#define FB_MIN_STEPS 12
#define FB_MASE_RATIO 1.5
#define FB_MASE_MARGIN 0.5
#define FB_MIN_COVERAGE 0.80

static double get_num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Daily seasonal-naive MAE over the week before `origin` (lag 1 when a
 * day is not a whole number of steps or longer than the window). */
static double naive_scale(struct bsp_store *st, int64_t sid, bsp_time origin,
			  bsp_time step, struct bsp_error *err)
{
	bsp_time from = origin - 8 * BSP_DAY;
	size_t n = bsp_grid_len(from, origin, step);
	size_t lag = BSP_DAY % step == 0 && BSP_DAY / step < (bsp_time)n / 2
			     ? (size_t)(BSP_DAY / step)
			     : 1;
	double *y, sum = 0;
	size_t cnt = 0;

	if (!n || n > 1000000 || !(y = malloc(n * sizeof(*y))))
		return NAN;
	if (bsp_store_read_grid(st, sid, from, origin, step, BSP_AGG_MEAN,
				BSP_FILL_NAN, y, err) == BSP_OK)
		for (size_t i = lag; i < n; i++)
			if (isfinite(y[i]) && isfinite(y[i - lag])) {
				sum += fabs(y[i] - y[i - lag]);
				cnt++;
			}
	free(y);
	return cnt ? sum / (double)cnt : NAN;
}

static json_t *metric_feedback(struct bsp_store *st, const char *entity,
			       const char *metric, json_t *m, bsp_time until,
			       int *drift, struct bsp_error *err)
{
	json_t *fc = json_object_get(m, "forecast");
	json_t *point = json_object_get(fc, "point");
	json_t *p95 = json_object_get(json_object_get(fc, "quantiles"), "p95");
	const char *start = json_string_value(json_object_get(fc, "start"));
	double step_s = get_num(fc, "step_seconds");
	double bt = get_num(json_object_get(json_object_get(m, "model"),
					    "backtest"),
			    "mase");
	struct bsp_series s = {0};
	bsp_time t0, step;
	size_t h = json_array_size(point), n, steps = 0, covered = 0;
	double *y = NULL, abs_sum = 0;
	json_t *out = NULL;

	if (!start || bsp_time_parse(start, strlen(start), &t0) != BSP_OK ||
	    !(step_s > 0) || !h || json_array_size(p95) != h) {
		bsp_error_set(err, BSP_ECORRUPT, "%s: %s: profile without a "
			      "forecast", entity, metric);
		return NULL;
	}
	step = (bsp_time)step_s * BSP_SECOND;
	if (bsp_store_series_find(st, entity, metric, "", &s, err) != BSP_OK)
		return NULL;
	/* Whole steps that have ended by `until`. */
	n = until > t0 ? (size_t)((until - t0) / step) : 0;
	if (n > h)
		n = h;
	if (n && !(y = malloc(n * sizeof(*y)))) {
		bsp_series_release(&s);
		bsp_error_set(err, BSP_ENOMEM, "out of memory");
		return NULL;
	}
	if (n && bsp_store_read_grid(st, s.id, t0, t0 + (bsp_time)n * step,
				     step, BSP_AGG_MEAN, BSP_FILL_NAN, y,
				     err) != BSP_OK) {
		free(y);
		bsp_series_release(&s);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		double f = json_number_value(json_array_get(point, i));
		double q = json_number_value(json_array_get(p95, i));
		if (!isfinite(y[i]) || !json_is_number(json_array_get(point, i)))
			continue;
		abs_sum += fabs(y[i] - f);
		covered += json_is_number(json_array_get(p95, i)) && y[i] <= q;
		steps++;
	}
	double scale = steps ? naive_scale(st, s.id, t0, step, err) : NAN;
	double mae = steps ? abs_sum / (double)steps : NAN;
	double mase = scale > 0 ? mae / scale : NAN;
	double cov = steps ? (double)covered / (double)steps : NAN;
	const char *why = NULL;
	if (steps >= FB_MIN_STEPS || (steps && steps == h)) {
		if (isfinite(mase) && isfinite(bt) &&
		    mase > fmax(FB_MASE_RATIO * bt, bt + FB_MASE_MARGIN))
			why = "live error well above the backtest error";
		else if (cov < FB_MIN_COVERAGE)
			why = "p95 covered too little of what came";
	}
	*drift |= why != NULL;
	out = json_pack("{s:I,s:o,s:o,s:o,s:o,s:b}", "steps", (json_int_t)steps,
			"mae", isfinite(mae) ? json_real(mae) : json_null(),
			"mase", isfinite(mase) ? json_real(mase) : json_null(),
			"coverage95", isfinite(cov) ? json_real(cov) : json_null(),
			"backtest_mase", isfinite(bt) ? json_real(bt) : json_null(),
			"drift", why != NULL);
	if (why)
		json_object_set_new(out, "why", json_string(why));
	free(y);
	bsp_series_release(&s);
	return out;
}

bsp_err bsp_profile_feedback(struct bsp_store *st, const char *entity,
			     int64_t version, bsp_time until, int store,
			     char **json, int *drift, struct bsp_error *err)
{
	struct bsp_doc d = {0};
	json_t *prof = NULL, *out = NULL, *metrics;
	const char *key;
	json_t *m;
	bsp_err r;
	int any = 0;

	*json = NULL;
	if (drift)
		*drift = 0;
	r = bsp_store_doc_get(st, "profile", entity, version, &d, err);
	if (r == BSP_ENOTFOUND)
		return bsp_error_set(err, BSP_ENOTFOUND,
				     "%s: no stored profile%s", entity,
				     version ? " of that version" : "");
	if (r != BSP_OK)
		return r;
	if (!(prof = json_loads(d.body, 0, NULL))) {
		r = bsp_error_set(err, BSP_ECORRUPT, "%s: stored profile %lld "
				  "is not JSON", entity, (long long)d.version);
		goto out;
	}
	out = json_object();
	metrics = json_object();
	json_object_set_new(out, "format", json_string("bespoke-feedback"));
	json_object_set_new(out, "version", json_integer(1));
	json_object_set_new(out, "entity", json_string(entity));
	json_object_set_new(out, "profile_version", json_integer(d.version));
	json_object_set(out, "origin", json_object_get(prof, "origin"));
	json_object_set_new(out, "until", prof_time_json(until));
	json_object_set_new(out, "metrics", metrics);
	json_object_foreach(json_object_get(prof, "metrics"), key, m)
	{
		json_t *f = metric_feedback(st, entity, key, m, until, &any, err);
		if (!f) {
			r = err->code;
			goto out;
		}
		json_object_set_new(metrics, key, f);
	}
	json_object_set_new(out, "drift", json_boolean(any));
	char *text = json_dumps(out, JSON_COMPACT);
	if (!text) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (store && (r = bsp_store_doc_put(st, "feedback", entity, text, NULL,
					    err)) != BSP_OK) {
		free(text);
		goto out;
	}
	*json = text;
	if (drift)
		*drift = any;
	r = BSP_OK;
out:
	json_decref(out);
	json_decref(prof);
	bsp_doc_release(&d);
	return r;
}
