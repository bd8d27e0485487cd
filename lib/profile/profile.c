/*
 * The Behaviour Profile (include/bespoke/profile.h): from an entity's
 * stored history and its fitted forecasters to one JSON document that the
 * later stages read.
 *
 * Data flow: the entity's resource series are read as a regular grid of
 * step means (bsp_store_read_grid) over the training window that ends at
 * the origin; a forecaster per metric (lib/predict) is fitted on that grid
 * (train) or loaded from the entity's latest "model" document (predict),
 * re-filtered over the history and run over the horizon; the shapes and
 * peaks are summaries of that same grid and forecast. Nothing at or after
 * the origin is read, so a profile built "as of" a time is what bespoke
 * would have said then.
 */
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "internal.h"
#include "bespoke/anomaly.h"
#include "bespoke/forecast.h"
#include "bespoke/profile.h"
#include "profile_int.h"

static const char *const default_metrics[] = {
	"cpu_usage",    "mem_usage",    "disk_total", "net_total",
	"cpu_usage_pct", "cpu_avg",     "cpu_util_pct", "mem_util_pct",
	NULL,
};

const char *const *bsp_profile_default_metrics(void)
{
	return default_metrics;
}

void bsp_profile_options_init(struct bsp_profile_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->step = BSP_HOUR;
	opt->horizon = BSP_DAY;
	opt->history = 8 * 7 * BSP_DAY;
	opt->origin = BSP_TIME_NONE;
}

void prof_opts_fill(const struct bsp_profile_options *in,
		    struct bsp_profile_options *o)
{
	if (in)
		*o = *in;
	else
		bsp_profile_options_init(o);
	if (o->step <= 0)
		o->step = BSP_HOUR;
	if (o->horizon <= 0)
		o->horizon = BSP_DAY;
	if (o->history <= 0)
		o->history = 8 * 7 * BSP_DAY;
}

/* ---- which series --------------------------------------------------- */

bsp_err bsp_profile_series(struct bsp_store *st, const char *entity,
			 const struct bsp_profile_options *opt,
			 struct bsp_series **out, size_t *n,
			 struct bsp_error *err)
{
	struct bsp_series *all = NULL, *pick = NULL;
	size_t n_all = 0, k = 0;
	bsp_err result;

	*out = NULL;
	*n = 0;
	result = bsp_store_series(st, entity, &all, &n_all, err);
	if (result != BSP_OK)
		return result;
	pick = calloc(BSP_PROFILE_MAX_METRICS, sizeof(*pick));
	if (!pick) {
		bsp_series_free(all, n_all);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	if (opt->n_metrics) {
		for (size_t m = 0; m < opt->n_metrics; m++) {
			size_t i;
			for (i = 0; i < n_all; i++)
				if (all[i].metric && /* not taken already */
				    !strcmp(all[i].metric, opt->metrics[m]) &&
				    !*all[i].labels)
					break;
			if (i == n_all) {
				result = bsp_error_set(
					err, BSP_ENOTFOUND,
					"entity '%s' has no metric '%s'",
					entity, opt->metrics[m]);
				goto out;
			}
			pick[k++] = all[i];
			memset(&all[i], 0, sizeof(all[i]));
		}
	} else {
		for (size_t m = 0; default_metrics[m] &&
				   k < BSP_PROFILE_MAX_METRICS;
		     m++)
			for (size_t i = 0; i < n_all; i++)
				if (all[i].metric &&
				    !strcmp(all[i].metric, default_metrics[m]) &&
				    !*all[i].labels && all[i].n_samples) {
					pick[k++] = all[i];
					memset(&all[i], 0, sizeof(all[i]));
					break;
				}
		if (k == 0) {
			result = bsp_error_set(
				err, BSP_EINVAL,
				"entity '%s' has none of the resource metrics "
				"(cpu_usage, mem_usage, disk_total, net_total, "
				"...); name some with --metrics",
				entity);
			goto out;
		}
	}
	*out = pick;
	*n = k;
	pick = NULL;
out:
	bsp_series_free(pick, pick ? k : 0);
	bsp_series_free(all, n_all);
	return result;
}

bsp_time prof_origin(const struct bsp_series *s, size_t n,
		     const struct bsp_profile_options *opt)
{
	bsp_time last = BSP_TIME_NONE;

	if (opt->origin != BSP_TIME_NONE)
		return opt->origin;
	for (size_t i = 0; i < n; i++)
		if (s[i].last != BSP_TIME_NONE && s[i].last > last)
			last = s[i].last;
	if (last == BSP_TIME_NONE)
		return BSP_TIME_NONE;
	/* Just after the last sample, rounded up to a whole step. */
	return bsp_time_floor(last, opt->step) + opt->step;
}

bsp_err bsp_profile_history(struct bsp_store *st, const struct bsp_series *s,
		     bsp_time origin, const struct bsp_profile_options *opt,
		     double **y, struct bsp_fc_series *out,
		     struct bsp_error *err)
{
	bsp_time from = bsp_time_floor(origin - opt->history, opt->step);
	bsp_time first;
	size_t cells, skip = 0;
	double *v;
	bsp_err result;

	/* Start at the series' first sample when it is later. */
	if (s->first != BSP_TIME_NONE) {
		first = bsp_time_floor(s->first, opt->step);
		if (first > from)
			from = first;
	}
	if (from >= origin)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s/%s: no history before the origin",
				     s->entity, s->metric);
	cells = bsp_grid_len(from, origin, opt->step);
	v = malloc(cells * sizeof(*v));
	if (!v)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	result = bsp_store_read_grid(st, s->id, from, origin, opt->step,
				     BSP_AGG_MEAN, BSP_FILL_NAN, v, err);
	if (result != BSP_OK) {
		free(v);
		return result;
	}
	/* The grid is built so that its last cell ends at the origin; a
	 * partial last cell (origin not on the step) is dropped, so that
	 * nothing at or after the origin is ever seen. */
	if (from + (bsp_time)cells * opt->step > origin)
		cells--;
	while (skip < cells && isnan(v[skip]))
		skip++;
	memmove(v, v + skip, (cells - skip) * sizeof(*v));
	*y = v;
	out->y = v;
	out->n = cells - skip;
	out->t0 = from + (bsp_time)skip * opt->step;
	out->step = opt->step;
	return BSP_OK;
}

void prof_fc_options(const struct bsp_profile_options *opt,
		     struct bsp_fc_options *fo)
{
	bsp_fc_options_init(fo);
	fo->model = opt->model;
	fo->origins = opt->origins;
	fo->horizon = (size_t)((opt->horizon + opt->step - 1) / opt->step);
	if (fo->horizon > (size_t)(BSP_DAY / opt->step) * 7)
		fo->horizon = (size_t)(BSP_DAY / opt->step) * 7;
}

/* ---- training ------------------------------------------------------- */

json_t *prof_time_json(bsp_time t)
{
	char buf[40];
	return t == BSP_TIME_NONE ? json_null()
				  : json_string(bsp_time_format(t, buf,
								sizeof(buf)));
}

/*
 * Fits one metric's forecaster. By default flagged points are left out
 * (bsp_anomaly_train: two passes, so that the spike being removed cannot
 * widen the band that should catch it); *excluded receives how many.
 */
static bsp_err prof_fit(const struct bsp_fc_series *fs,
			const struct bsp_fc_options *fo,
			const struct bsp_profile_options *opt,
			struct bsp_fc_model **m, size_t *excluded,
			struct bsp_error *err)
{
	struct bsp_anomaly_options ao;
	struct bsp_anomaly_result r = {0};
	bsp_err result;

	*excluded = 0;
	if (opt->keep_anomalies)
		return bsp_fc_train(fs, fo, m, err);
	bsp_anomaly_options_init(&ao);
	/* Blocks are whole steps: a step that divides no day gets the
	 * shortest block of whole steps that covers one. */
	ao.block = (BSP_DAY + opt->step - 1) / opt->step * opt->step;
	result = bsp_anomaly_train(fs, fo, &ao, m, &r, err);
	*excluded = r.n_excluded;
	bsp_anomaly_result_release(&r);
	return result;
}

bsp_err bsp_profile_train(struct bsp_store *st, const char *entity,
			  const struct bsp_profile_options *in_opt,
			  int64_t *version, char **skipped,
			  struct bsp_error *err)
{
	struct bsp_profile_options opt;
	struct bsp_series *s = NULL;
	struct bsp_fc_options fo;
	json_t *doc = NULL, *models;
	char *text = NULL, skip[1024] = "";
	size_t n = 0, fitted = 0;
	bsp_time origin;
	bsp_err result;

	prof_opts_fill(in_opt, &opt);
	if (skipped)
		*skipped = NULL;
	result = bsp_profile_series(st, entity, &opt, &s, &n, err);
	if (result != BSP_OK)
		return result;
	origin = prof_origin(s, n, &opt);
	prof_fc_options(&opt, &fo);
	doc = json_object();
	models = json_object();
	json_object_set_new(doc, "format", json_string("bespoke-models"));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "entity", json_string(entity));
	json_object_set_new(doc, "step_seconds",
			    json_integer(opt.step / BSP_SECOND));
	json_object_set_new(doc, "trained_until", prof_time_json(origin));
	json_object_set_new(doc, "anomalies_excluded",
			    json_boolean(!opt.keep_anomalies));
	json_object_set_new(doc, "metrics", models);
	for (size_t i = 0; i < n; i++) {
		struct bsp_fc_series fs;
		struct bsp_fc_model *m = NULL;
		struct bsp_error e = {0};
		double *y = NULL;
		char *mj = NULL;
		json_t *mo;
		size_t excluded = 0;

		if (bsp_profile_history(st, &s[i], origin, &opt, &y, &fs, &e) !=
			    BSP_OK ||
		    prof_fit(&fs, &fo, &opt, &m, &excluded, &e) != BSP_OK ||
		    bsp_fc_model_save(m, &mj, &e) != BSP_OK ||
		    !(mo = json_loads(mj, 0, NULL))) {
			size_t len = strlen(skip);
			snprintf(skip + len, sizeof(skip) - len, "%s%s (%s)",
				 len ? ", " : "", s[i].metric, e.msg);
			free(y);
			free(mj);
			bsp_fc_model_free(m);
			continue;
		}
		json_object_set_new(mo, "unit", json_string(s[i].unit));
		json_object_set_new(mo, "excluded_points",
				    json_integer((json_int_t)excluded));
		json_object_set_new(models, s[i].metric, mo);
		fitted++;
		free(y);
		free(mj);
		bsp_fc_model_free(m);
	}
	if (!fitted) {
		result = bsp_error_set(err, BSP_EINVAL, "%s: nothing to fit: %s",
				       entity, skip);
		goto out;
	}
	text = json_dumps(doc, JSON_COMPACT);
	if (!text) {
		result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	result = bsp_store_doc_put(st, "model", entity, text, version, err);
	if (result == BSP_OK && skipped && *skip)
		*skipped = strdup(skip);
out:
	free(text);
	json_decref(doc);
	bsp_series_free(s, n);
	return result;
}

/* ---- stored models ---------------------------------------------------- */

struct bsp_profile_models {
	json_t *doc;
	int64_t version;
};

struct bsp_profile_models *
bsp_profile_models_load(struct bsp_store *st, const char *entity,
			const struct bsp_profile_options *in_opt,
			bsp_time origin)
{
	struct bsp_profile_options opt;
	struct bsp_profile_models *pm = NULL;
	struct bsp_doc d = {0};
	json_t *doc, *until;
	bsp_time tu = BSP_TIME_NONE;

	prof_opts_fill(in_opt, &opt);
	if (bsp_store_doc_get(st, "model", entity, 0, &d, NULL) != BSP_OK)
		return NULL;
	doc = json_loads(d.body, 0, NULL);
	until = json_object_get(doc, "trained_until");
	if (json_is_string(until))
		bsp_time_parse(json_string_value(until),
			       strlen(json_string_value(until)), &tu);
	/* Usable only when fitted at this step on data that ended no later
	 * than the origin: a model trained on later data would carry
	 * knowledge of what came after it. */
	if (!doc ||
	    json_integer_value(json_object_get(doc, "step_seconds")) *
			    BSP_SECOND != opt.step ||
	    tu == BSP_TIME_NONE || (origin != BSP_TIME_NONE && tu > origin) ||
	    !(pm = calloc(1, sizeof(*pm)))) {
		json_decref(doc);
		bsp_doc_release(&d);
		return NULL;
	}
	pm->doc = doc;
	pm->version = d.version;
	bsp_doc_release(&d);
	return pm;
}

struct bsp_fc_model *
bsp_profile_models_get(const struct bsp_profile_models *pm,
		       const char *metric)
{
	struct bsp_fc_model *m = NULL;
	json_t *mo;
	char *text;

	if (!pm)
		return NULL;
	mo = json_object_get(json_object_get(pm->doc, "metrics"), metric);
	if (!mo)
		return NULL;
	text = json_dumps(mo, JSON_COMPACT);
	if (text)
		bsp_fc_model_load(text, strlen(text), &m, NULL);
	free(text);
	return m;
}

int64_t bsp_profile_models_version(const struct bsp_profile_models *pm)
{
	return pm ? pm->version : 0;
}

void bsp_profile_models_free(struct bsp_profile_models *pm)
{
	if (!pm)
		return;
	json_decref(pm->doc);
	free(pm);
}
