/*
 * An entity's anomalies as a document (bsp_anomaly_entity): for each of
 * its resource metrics, the window's step means are read (with the warm-up
 * before it), flagged by the stored forecaster or by one fitted robustly
 * on the window, and each period is explained in one sentence. The JSON
 * (schema in docs/anomalies.md) is stored as a versioned document of kind
 * "anomalies" so that the service and feedback can show the same flags.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "anomaly_int.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *time_json(bsp_time t)
{
	char buf[40];
	return t == BSP_TIME_NONE
		   ? json_null()
		   : json_string(bsp_time_format(t, buf, sizeof(buf)));
}

/* "2013-07-14 14:00" (UTC), or only "14:00" when `short_form`. */
static void fmt_minute(bsp_time t, int short_form, char *buf, size_t size)
{
	time_t sec = (time_t)(bsp_time_floor(t, BSP_SECOND) / BSP_SECOND);
	struct tm tm;

	if (!gmtime_r(&sec, &tm)) {
		snprintf(buf, size, "?");
		return;
	}
	strftime(buf, size, short_form ? "%H:%M" : "%Y-%m-%d %H:%M", &tm);
}

/* "5400 MHz", "0.93" */
static void fmt_value(double v, const char *unit, char *buf, size_t size)
{
	snprintf(buf, size, "%.4g%s%s", v, unit && *unit ? " " : "",
		 unit ? unit : "");
}

/* "p99" for 0.99 */
static void fmt_level(double l, char *buf, size_t size)
{
	snprintf(buf, size, "p%g", round(l * 1000) / 10);
}

/*
 * One sentence a person reads: "cpu_usage 2013-07-14 14:00–16:00: 5400
 * MHz, 3.3x the p99 band 1650 MHz (model ensemble v2)".
 */
static void explain(const struct bsp_anomaly_period *p, const char *metric,
		    const char *unit, double level, const char *model,
		    char *buf, size_t size)
{
	char a[32], b[32], obs[48], edge[48], exp[48], lv[16];
	double e = p->direction > 0 ? p->band_hi : p->band_lo;
	int same_day = bsp_time_floor(p->start, BSP_DAY) ==
		       bsp_time_floor(p->end - 1, BSP_DAY);

	fmt_minute(p->start, 0, a, sizeof(a));
	fmt_minute(p->end, same_day, b, sizeof(b));
	fmt_value(p->observed, unit, obs, sizeof(obs));
	fmt_value(e, unit, edge, sizeof(edge));
	fmt_value(p->expected, unit, exp, sizeof(exp));
	fmt_level(p->direction > 0 ? level : 1 - level, lv, sizeof(lv));
	if (isfinite(p->ratio))
		snprintf(buf, size,
			 "%s %s\u2013%s: %s, %.2gx the %s band %s (expected "
			 "%s, model %s)%s",
			 metric, a, b, obs, p->ratio, lv, edge, exp, model,
			 p->shift ? "; recurring: a change, kept in training"
				  : "");
	else
		snprintf(
		    buf, size,
		    "%s %s\u2013%s: %s, %s the %s band %s (expected "
		    "%s, model %s)%s",
		    metric, a, b, obs, p->direction > 0 ? "above" : "below", lv,
		    edge, exp, model,
		    p->shift ? "; recurring: a change, kept in training" : "");
}

static json_t *period_json(const struct bsp_anomaly_period *p,
			   const char *metric, const char *unit, double level,
			   const char *model)
{
	char text[512];
	json_t *o = json_object();

	explain(p, metric, unit, level, model, text, sizeof(text));
	json_object_set_new(o, "start", time_json(p->start));
	json_object_set_new(o, "end", time_json(p->end));
	json_object_set_new(o, "points", json_integer((json_int_t)p->n_points));
	json_object_set_new(o, "direction",
			    json_string(p->direction > 0 ? "above" : "below"));
	json_object_set_new(o, "shift", json_boolean(p->shift));
	json_object_set_new(o, "peak", time_json(p->peak));
	json_object_set_new(o, "observed", num(p->observed));
	json_object_set_new(o, "expected", num(p->expected));
	json_object_set_new(o, "band_lo", num(p->band_lo));
	json_object_set_new(o, "band_hi", num(p->band_hi));
	json_object_set_new(o, "ratio", num(p->ratio));
	json_object_set_new(o, "severity", num(p->severity));
	json_object_set_new(o, "mean_observed", num(p->mean_observed));
	json_object_set_new(o, "mean_expected", num(p->mean_expected));
	json_object_set_new(o, "explanation", json_string(text));
	return o;
}

/*
 * Were the stored models trained with the anomalies left out? A model
 * trained on a spike has a band wide enough to cover it, and would hide
 * the very thing it is asked to find; such models are not used here.
 */
static int trained_clean(struct bsp_store *st, const char *entity,
			 const struct bsp_profile_models *models)
{
	struct bsp_doc d = {0};
	json_t *doc;
	int ok;

	if (bsp_store_doc_get(st, "model", entity,
			      bsp_profile_models_version(models), &d,
			      NULL) != BSP_OK)
		return 0;
	doc = json_loads(d.body, 0, NULL);
	ok = json_is_true(json_object_get(doc, "anomalies_excluded"));
	json_decref(doc);
	bsp_doc_release(&d);
	return ok;
}

/* Everything about one metric; NULL with `e` filled when it cannot be
 * examined. */
static json_t *metric_json(struct bsp_store *st, const struct bsp_series *s,
			   const struct bsp_profile_options *popt,
			   const struct bsp_anomaly_options *opt,
			   const struct bsp_profile_models *models,
			   bsp_time from, bsp_time until, struct bsp_error *e)
{
	struct bsp_profile_options hp = *popt;
	struct bsp_fc_series fs;
	struct bsp_anomaly_result r = {0};
	struct bsp_fc_model *m = NULL;
	struct bsp_fc_info info;
	double *y = NULL;
	char model[64];
	json_t *o = NULL, *arr;
	int stored = 0;

	struct bsp_anomaly_options ao = *opt;

	/* Examine [from, until), with the warm-up read before it: two
	 * weeks unless set, enough for the automatic one of a weekly
	 * model. */
	ao.from = from;
	hp.history = until - from + (opt->warmup ? opt->warmup : 14 * BSP_DAY);
	if (bsp_profile_history(st, s, until, &hp, &y, &fs, e) != BSP_OK)
		goto out;
	if ((m = bsp_profile_models_get(models, s->metric))) {
		stored = 1;
		if (bsp_anomaly_detect(&fs, m, &ao, &r, e) != BSP_OK)
			goto out;
	} else {
		struct bsp_fc_options fo;
		bsp_fc_options_init(&fo);
		fo.model = popt->model;
		fo.origins = popt->origins;
		fo.horizon = (size_t)(opt->block / popt->step);
		if (bsp_anomaly_train(&fs, &fo, &ao, &m, &r, e) != BSP_OK)
			goto out;
	}
	bsp_fc_model_info(m, &info);
	if (stored)
		snprintf(model, sizeof(model), "%s v%lld", info.model,
			 (long long)bsp_profile_models_version(models));
	else
		snprintf(model, sizeof(model), "%s fitted on the window",
			 info.model);
	o = json_object();
	arr = json_array();
	json_object_set_new(o, "unit", json_string(s->unit));
	json_object_set_new(
	    o, "model",
	    json_pack("{s:s, s:o, s:s}", "name", info.model, "model_version",
		      stored ? json_integer(bsp_profile_models_version(models))
			     : json_null(),
		      "source", stored ? "stored" : "fitted on the window"));
	json_object_set_new(o, "examined_from",
			    time_json(r.first < fs.n
					  ? fs.t0 + (bsp_time)r.first * fs.step
					  : BSP_TIME_NONE));
	json_object_set_new(o, "points",
			    json_integer((json_int_t)r.n_examined));
	json_object_set_new(o, "flagged",
			    json_integer((json_int_t)r.n_flagged));
	json_object_set_new(o, "excluded",
			    json_integer((json_int_t)r.n_excluded));
	for (size_t k = 0; k < r.n_periods; k++)
		json_array_append_new(arr,
				      period_json(&r.periods[k], s->metric,
						  s->unit, opt->level, model));
	json_object_set_new(o, "periods", arr);
out:
	bsp_anomaly_result_release(&r);
	bsp_fc_model_free(m);
	free(y);
	return o;
}

bsp_err bsp_anomaly_entity(struct bsp_store *st, const char *entity,
			   const struct bsp_profile_options *in_popt,
			   const struct bsp_anomaly_options *in_opt,
			   bsp_time from, bsp_time until, int store,
			   char **json, int64_t *version, struct bsp_error *err)
{
	struct bsp_profile_options popt;
	struct bsp_anomaly_options opt;
	struct bsp_profile_models *models = NULL;
	struct bsp_series *s = NULL;
	json_t *doc = NULL, *metrics;
	char *text = NULL, skip[1024] = "";
	size_t n = 0, done = 0;
	bsp_err result;

	*json = NULL;
	if (version)
		*version = 0;
	if (in_popt)
		popt = *in_popt;
	else
		bsp_profile_options_init(&popt);
	if (popt.step <= 0)
		popt.step = BSP_HOUR;
	if (popt.history <= 0)
		popt.history = 8 * 7 * BSP_DAY;
	result = anom_opts_fill(in_opt, popt.step, &opt, err);
	if (result != BSP_OK)
		return result;
	result = bsp_profile_series(st, entity, &popt, &s, &n, err);
	if (result != BSP_OK)
		return result;
	if (until == BSP_TIME_NONE) {
		/* Just after the last sample, rounded up to a step. */
		for (size_t i = 0; i < n; i++)
			if (s[i].last != BSP_TIME_NONE && s[i].last > until)
				until = s[i].last;
		if (until != BSP_TIME_NONE)
			until = bsp_time_floor(until, popt.step) + popt.step;
		if (until == BSP_TIME_NONE) {
			result = bsp_error_set(err, BSP_EINVAL,
					       "%s: no samples", entity);
			goto out;
		}
	}
	until = bsp_time_floor(until, popt.step);
	from = from == BSP_TIME_NONE ? until - popt.history
				     : bsp_time_floor(from, popt.step);
	if (from >= until) {
		result = bsp_error_set(err, BSP_EINVAL,
				       "anomalies: the window is empty: from "
				       "must be at least one step (%lld s) "
				       "before until",
				       (long long)(popt.step / BSP_SECOND));
		goto out;
	}
	if (!popt.refit && !popt.model)
		models =
		    bsp_profile_models_load(st, entity, &popt, BSP_TIME_NONE);
	if (models && !trained_clean(st, entity, models)) {
		bsp_profile_models_free(models);
		models = NULL;
	}

	doc = json_object();
	metrics = json_object();
	json_object_set_new(doc, "format", json_string("bespoke-anomalies"));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "entity", json_string(entity));
	json_object_set_new(doc, "from", time_json(from));
	json_object_set_new(doc, "until", time_json(until));
	json_object_set_new(doc, "step_seconds",
			    json_integer(popt.step / BSP_SECOND));
	json_object_set_new(doc, "level", json_real(opt.level));
	json_object_set_new(doc, "factor", json_real(opt.factor));
	json_object_set_new(doc, "block_seconds",
			    json_integer(opt.block / BSP_SECOND));
	json_object_set_new(doc, "shift_after_seconds",
			    json_integer(opt.shift_after / BSP_SECOND));
	json_object_set_new(doc, "metrics", metrics);
	for (size_t i = 0; i < n; i++) {
		struct bsp_error e = {0};
		json_t *mj = metric_json(st, &s[i], &popt, &opt, models, from,
					 until, &e);
		if (!mj) {
			size_t len = strlen(skip);
			snprintf(skip + len, sizeof(skip) - len, "%s%s: %s",
				 len ? "; " : "", s[i].metric, e.msg);
			continue;
		}
		json_object_set_new(metrics, s[i].metric, mj);
		done++;
	}
	if (*skip)
		json_object_set_new(doc, "skipped", json_string(skip));
	if (!done) {
		result = bsp_error_set(err, BSP_EINVAL, "%s: %s", entity, skip);
		goto out;
	}
	if (store) {
		int64_t v = 0;
		text = json_dumps(doc, JSON_COMPACT);
		if (!text) {
			result =
			    bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		result =
		    bsp_store_doc_put(st, "anomalies", entity, text, &v, err);
		if (result != BSP_OK)
			goto out;
		if (version)
			*version = v;
		json_object_set_new(doc, "anomalies_version", json_integer(v));
		free(text);
	}
	text = json_dumps(doc, JSON_COMPACT);
	if (!text) {
		result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	*json = text;
	text = NULL;
out:
	free(text);
	json_decref(doc);
	bsp_profile_models_free(models);
	bsp_series_free(s, n);
	return result;
}
