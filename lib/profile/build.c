/*
 * Building a Behaviour Profile (bsp_profile_build): per metric, the
 * forecast with its quantile bands, the expected daily peak and its hour,
 * the daily and weekly shapes of the history, and the model that made it
 * with its backtest error. Schema: docs/profile.md.
 */
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "profile_int.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *array_of(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, num(v[i]));
	return a;
}

/* Monday = 0 (1970-01-01 was a Thursday). */
static int weekday(bsp_time t)
{
	int64_t day = bsp_time_floor(t, BSP_DAY) / BSP_DAY;
	return (int)(((day + 3) % 7 + 7) % 7);
}

static int hour_of_day(bsp_time t)
{
	return (int)((t - bsp_time_floor(t, BSP_DAY)) / BSP_HOUR);
}

/*
 * The history's shape: mean by hour of day (UTC) and by weekday, each
 * relative to the overall mean (1.0 = average), plus mean, p95 and max of
 * the step means.
 */
static json_t *history_json(const struct bsp_fc_series *fs)
{
	double hs[24] = {0}, ws[7] = {0}, sum = 0, mx = NAN;
	size_t hn[24] = {0}, wn[7] = {0}, cnt = 0;
	double *sorted = malloc((fs->n ? fs->n : 1) * sizeof(double));
	json_t *o = json_object();

	for (size_t i = 0; i < fs->n; i++) {
		double v = fs->y[i];
		bsp_time t = fs->t0 + (bsp_time)i * fs->step;
		if (isnan(v))
			continue;
		hs[hour_of_day(t)] += v;
		hn[hour_of_day(t)]++;
		ws[weekday(t)] += v;
		wn[weekday(t)]++;
		sum += v;
		if (!(v <= mx))
			mx = v;
		if (sorted)
			sorted[cnt] = v;
		cnt++;
	}
	double mean = cnt ? sum / (double)cnt : NAN;
	double p95 = NAN;
	if (sorted && cnt) {
		/* A partial selection would do; histories are small. */
		for (size_t i = 1; i < cnt; i++) {
			double x = sorted[i];
			size_t j = i;
			while (j > 0 && sorted[j - 1] > x) {
				sorted[j] = sorted[j - 1];
				j--;
			}
			sorted[j] = x;
		}
		p95 = sorted[(size_t)floor(0.95 * (double)(cnt - 1))];
	}
	free(sorted);
	double dshape[24], wshape[7];
	for (int h = 0; h < 24; h++)
		dshape[h] = hn[h] && mean > 0 ? hs[h] / (double)hn[h] / mean
					      : NAN;
	for (int d = 0; d < 7; d++)
		wshape[d] = wn[d] && mean > 0 ? ws[d] / (double)wn[d] / mean
					      : NAN;
	json_object_set_new(o, "mean", num(mean));
	json_object_set_new(o, "p95", num(p95));
	json_object_set_new(o, "max", num(mx));
	json_object_set_new(o, "points", json_integer((json_int_t)cnt));
	json_object_set_new(o, "daily_shape", array_of(dshape, 24));
	json_object_set_new(o, "weekly_shape", array_of(wshape, 7));
	return o;
}

static json_t *model_json(const struct bsp_fc_model *m, int64_t model_version)
{
	struct bsp_fc_info info;
	json_t *o = json_object(), *mem = json_array(), *per = json_array();

	bsp_fc_model_info(m, &info);
	for (size_t i = 0; i < info.n_members; i++)
		json_array_append_new(
			mem, json_pack("{s:s, s:o, s:o, s:s}", "name",
				       info.members[i].name, "weight",
				       num(info.members[i].weight), "mase",
				       num(info.members[i].mase), "params",
				       info.members[i].params));
	for (size_t i = 0; i < info.n_periods; i++)
		json_array_append_new(
			per, json_integer((json_int_t)(info.periods[i] *
						       info.step / BSP_SECOND)));
	json_object_set_new(o, "name", json_string(info.model));
	json_object_set_new(o, "members", mem);
	json_object_set_new(o, "periods_seconds", per);
	json_object_set_new(o, "backtest",
			    json_pack("{s:o, s:o, s:o, s:I, s:I}", "mase",
				      num(info.mase), "pinball95",
				      num(info.pinball95), "coverage95",
				      num(info.coverage95), "origins",
				      (json_int_t)info.n_origins,
				      "horizon_steps",
				      (json_int_t)info.horizon));
	json_object_set_new(o, "training",
			    json_pack("{s:o, s:o, s:I}", "from",
				      prof_time_json(info.from), "until",
				      prof_time_json(info.until), "points",
				      (json_int_t)info.n_train));
	json_object_set_new(o, "model_version",
			    model_version ? json_integer(model_version)
					  : json_null());
	return o;
}

static const char *level_name(double l, char *buf, size_t size)
{
	snprintf(buf, size, "p%g", l * 100);
	return buf;
}

static json_t *forecast_json(const struct bsp_fc_output *o)
{
	json_t *f = json_object(), *q = json_object();
	char name[16];

	json_object_set_new(f, "start", prof_time_json(o->t0));
	json_object_set_new(f, "step_seconds",
			    json_integer(o->step / BSP_SECOND));
	json_object_set_new(f, "point", array_of(o->point, o->horizon));
	for (size_t l = 0; l < o->n_levels; l++)
		json_object_set_new(q, level_name(o->levels[l], name,
						  sizeof(name)),
				    array_of(o->q + l * o->horizon,
					     o->horizon));
	json_object_set_new(f, "quantiles", q);
	return f;
}

/* The highest point forecast over the first day, its p95 and hour. */
static json_t *peak_json(const struct bsp_fc_output *o)
{
	size_t day = (size_t)(BSP_DAY / o->step), best = 0, l95 = SIZE_MAX;

	if (day > o->horizon)
		day = o->horizon;
	for (size_t h = 1; h < day; h++)
		if (o->point[h] > o->point[best])
			best = h;
	for (size_t l = 0; l < o->n_levels; l++)
		if (fabs(o->levels[l] - 0.95) < 1e-9)
			l95 = l;
	bsp_time t = o->t0 + (bsp_time)best * o->step;
	return json_pack("{s:o, s:o, s:o, s:i}", "value", num(o->point[best]),
			 "p95",
			 l95 == SIZE_MAX ? json_null()
					 : num(bsp_fc_q(o, l95, best)),
			 "time", prof_time_json(t), "hour_utc", hour_of_day(t));
}

bsp_err bsp_profile_build(struct bsp_store *st, const char *entity,
			  const struct bsp_profile_options *in_opt, int store,
			  char **json, int64_t *version,
			  struct bsp_error *err)
{
	struct bsp_profile_options opt;
	struct bsp_series *s = NULL;
	struct bsp_fc_options fo;
	struct bsp_profile_models *models = NULL;
	json_t *doc, *metrics;
	int64_t model_version = 0;
	size_t n = 0, done = 0;
	char *text = NULL, skip[1024] = "";
	bsp_time origin;
	bsp_err result;

	*json = NULL;
	prof_opts_fill(in_opt, &opt);
	result = bsp_profile_series(st, entity, &opt, &s, &n, err);
	if (result != BSP_OK)
		return result;
	origin = prof_origin(s, n, &opt);
	if (origin == BSP_TIME_NONE) {
		bsp_series_free(s, n);
		return bsp_error_set(err, BSP_EINVAL, "%s: no samples", entity);
	}
	prof_fc_options(&opt, &fo);
	if (!opt.refit && !opt.model)
		models = bsp_profile_models_load(st, entity, &opt, origin);
	model_version = bsp_profile_models_version(models);

	doc = json_object();
	metrics = json_object();
	json_object_set_new(doc, "format", json_string("bespoke-profile"));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "entity", json_string(entity));
	json_object_set_new(doc, "origin", prof_time_json(origin));
	json_object_set_new(doc, "step_seconds",
			    json_integer(opt.step / BSP_SECOND));
	json_object_set_new(doc, "horizon_seconds",
			    json_integer(opt.horizon / BSP_SECOND));
	json_object_set_new(doc, "metrics", metrics);

	for (size_t i = 0; i < n; i++) {
		struct bsp_fc_series fs;
		struct bsp_fc_output out = {0};
		struct bsp_error e = {0};
		struct bsp_fc_model *m = NULL;
		size_t steps = (size_t)((opt.horizon + opt.step - 1) / opt.step);
		double *y = NULL;
		int from_store = 0;

		if (bsp_profile_history(st, &s[i], origin, &opt, &y, &fs, &e) != BSP_OK)
			goto skip_metric;
		if ((m = bsp_profile_models_get(models, s[i].metric)))
			from_store = 1;
		else if (bsp_fc_train(&fs, &fo, &m, &e) != BSP_OK)
			goto skip_metric;
		if (bsp_fc_predict(m, &fs, steps, NULL, 0, &out, &e) != BSP_OK)
			goto skip_metric;
		json_t *mj = json_object();
		json_object_set_new(mj, "unit", json_string(s[i].unit));
		json_object_set_new(mj, "model",
				    model_json(m, from_store ? model_version
							     : 0));
		json_object_set_new(mj, "forecast", forecast_json(&out));
		json_object_set_new(mj, "daily_peak", peak_json(&out));
		json_object_set_new(mj, "history", history_json(&fs));
		json_object_set_new(metrics, s[i].metric, mj);
		done++;
		bsp_fc_output_release(&out);
		bsp_fc_model_free(m);
		free(y);
		continue;
skip_metric:;
		size_t len = strlen(skip);
		snprintf(skip + len, sizeof(skip) - len, "%s%s: %s",
			 len ? "; " : "", s[i].metric, e.msg);
		bsp_fc_model_free(m);
		free(y);
	}
	bsp_profile_models_free(models);
	if (!opt.no_behaviour)
		json_object_set_new(doc, "behaviour",
				    prof_behaviour(st, entity, origin, &opt));
	if (*skip)
		json_object_set_new(doc, "skipped", json_string(skip));
	if (!done) {
		result = bsp_error_set(err, BSP_EINVAL, "%s: %s", entity, skip);
		goto out;
	}
	text = json_dumps(doc, JSON_COMPACT);
	if (!text) {
		result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (store) {
		int64_t v = 0;
		result = bsp_store_doc_put(st, "profile", entity, text, &v, err);
		if (result != BSP_OK)
			goto out;
		if (version)
			*version = v;
		/* The stored body is the profile; the copy handed back also
		 * says which version it became. */
		json_object_set_new(doc, "profile_version", json_integer(v));
		free(text);
		text = json_dumps(doc, JSON_COMPACT);
		if (!text) {
			result = bsp_error_set(err, BSP_ENOMEM,
					       "out of memory");
			goto out;
		}
	}
	*json = text;
	text = NULL;
out:
	free(text);
	json_decref(doc);
	bsp_series_free(s, n);
	return result;
}
