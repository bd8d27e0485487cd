/*
 * The Behaviour Profile as the rules read it (docs/profile.md). The JSON
 * is kept as parsed by jansson and fields are looked up on demand: a rule
 * reads a handful of values, and a profile that lacks a part (no
 * behaviour, a metric skipped) simply gives the documented defaults.
 *
 * Metric values summarise the forecast horizon: `cpu.p95` is the largest
 * p95 over the horizon's steps, because an image is prepared for the
 * busiest hour ahead, not the average one.
 */
#include <math.h>
#include <stdio.h>

#include "image_int.h"

bsp_err bsp_image_profile_parse(const char *json, size_t len,
				const char *source,
				struct bsp_image_profile **out,
				struct bsp_error *err)
{
	json_error_t je;
	json_t *root;
	struct bsp_image_profile *p;
	const char *src = source ? source : "profile";

	*out = NULL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return bsp_error_set(err, BSP_EINVAL, "%s:%d:%d: %s", src,
				     je.line, je.column, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: a profile is a JSON object", src);
	}
	const char *fmt = json_string_value(json_object_get(root, "format"));
	if (fmt && strcmp(fmt, "bespoke-profile")) {
		bsp_error_set(err, BSP_EINVAL,
			      "%s: format: expected \"bespoke-profile\", "
			      "found \"%.64s\"",
			      src, fmt);
		json_decref(root);
		return BSP_EINVAL;
	}
	json_t *m = json_object_get(root, "metrics");
	json_t *b = json_object_get(root, "behaviour");
	if ((m && !json_is_object(m)) || (b && !json_is_object(b))) {
		bsp_error_set(err, BSP_EINVAL, "%s: %s: expected an object", src,
			      m && !json_is_object(m) ? "metrics" : "behaviour");
		json_decref(root);
		return BSP_EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->source = strdup(src))) {
		free(p);
		json_decref(root);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	p->root = root;
	*out = p;
	return BSP_OK;
}

bsp_err bsp_image_profile_set_plan(struct bsp_image_profile *p,
				   const char *json, size_t len,
				   const char *source, struct bsp_error *err)
{
	json_error_t je;
	const char *src = source ? source : "plan";
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);

	if (!root)
		return bsp_error_set(err, BSP_EINVAL, "%s:%d:%d: %s", src,
				     je.line, je.column, je.text);
	const char *fmt = json_string_value(json_object_get(root, "format"));
	if (!fmt || strcmp(fmt, "bespoke-plan") ||
	    !json_is_array(json_object_get(root, "steps"))) {
		json_decref(root);
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: expected a bespoke-plan with steps",
				     src);
	}
	json_decref(p->plan);
	p->plan = root;
	return BSP_OK;
}

double img_profile_plan_need(const struct bsp_image_profile *p,
			     const char *resource)
{
	double best = NAN;
	size_t i;
	json_t *step;

	if (!p->plan)
		return NAN;
	json_array_foreach(json_object_get(p->plan, "steps"), i, step)
	{
		json_t *v = json_object_get(json_object_get(step, "need"),
					    resource);
		if (json_is_number(v) &&
		    (isnan(best) || json_number_value(v) > best))
			best = json_number_value(v);
	}
	return best;
}

void bsp_image_profile_free(struct bsp_image_profile *p)
{
	if (!p)
		return;
	json_decref(p->plan);
	json_decref(p->root);
	free(p->source);
	free(p);
}

const char *bsp_image_profile_entity(const struct bsp_image_profile *p)
{
	const char *s = json_string_value(json_object_get(p->root, "entity"));
	return s ? s : "";
}

void bsp_image_profile_set_version(struct bsp_image_profile *p, int64_t v)
{
	p->version = v;
}

int64_t bsp_image_profile_version(const struct bsp_image_profile *p)
{
	if (p->version)
		return p->version;
	json_t *v = json_object_get(p->root, "profile_version");
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* The metric names an alias stands for, in order of preference: the
 * names the ingest formats give (docs/profile.md, "Metrics covered"). */
static const struct {
	const char *alias;
	const char *names[5];
} metric_aliases[] = {
	{"cpu", {"cpu_usage", "cpu_usage_pct", "cpu_avg", "cpu_util_pct", NULL}},
	{"mem", {"mem_usage", "mem_util_pct", NULL}},
	{"disk", {"disk_total", NULL}},
	{"net", {"net_total", NULL}},
};

json_t *img_profile_metric(const struct bsp_image_profile *p,
			   const char *alias, int alias_is_name,
			   const char **name)
{
	json_t *metrics = json_object_get(p->root, "metrics");
	json_t *m;

	if (!metrics)
		return NULL;
	if (alias_is_name) {
		m = json_object_get(metrics, alias);
		if (m && name)
			*name = alias;
		return json_is_object(m) ? m : NULL;
	}
	for (size_t i = 0; i < BSP_ARRAY_LEN(metric_aliases); i++) {
		if (strcmp(metric_aliases[i].alias, alias))
			continue;
		for (size_t k = 0; metric_aliases[i].names[k]; k++) {
			m = json_object_get(metrics, metric_aliases[i].names[k]);
			if (json_is_object(m)) {
				if (name)
					*name = metric_aliases[i].names[k];
				return m;
			}
		}
	}
	return NULL;
}

/* max or mean of a JSON array of numbers (nulls skipped); NaN if none. */
static double array_stat(json_t *a, int mean)
{
	double best = NAN, sum = 0;
	size_t n = 0, i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		if (!json_is_number(v))
			continue;
		double x = json_number_value(v);
		sum += x;
		n++;
		if (isnan(best) || x > best)
			best = x;
	}
	if (!n)
		return NAN;
	return mean ? sum / (double)n : best;
}

double img_metric_value(json_t *metric, const char *field)
{
	json_t *fc = json_object_get(metric, "forecast");

	if (!strcmp(field, "mean"))
		return array_stat(json_object_get(fc, "point"), 1);
	if (!strcmp(field, "peak"))
		return array_stat(json_object_get(fc, "point"), 0);
	if (!strcmp(field, "peak_hour")) {
		json_t *h = json_object_get(json_object_get(metric, "daily_peak"),
					    "hour_utc");
		return json_is_number(h) ? json_number_value(h) : NAN;
	}
	return array_stat(json_object_get(json_object_get(fc, "quantiles"),
					  field),
			  0);
}

static json_t *behaviour(const struct bsp_image_profile *p, const char *part)
{
	return json_object_get(json_object_get(p->root, "behaviour"), part);
}

/* p of the entry named `name` in an array of {"name", "p"}; 0 if absent. */
static double named_p(json_t *list, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));
		json_t *pv = json_object_get(e, "p");
		if (n && !strcmp(n, name) && json_is_number(pv))
			return json_number_value(pv);
	}
	return 0;
}

double img_profile_persona(const struct bsp_image_profile *p, const char *name)
{
	return named_p(behaviour(p, "personas"), name);
}

double img_profile_app(const struct bsp_image_profile *p, const char *name,
		       const char *which)
{
	return named_p(json_object_get(behaviour(p, "apps"), which), name);
}

const char *img_profile_workload(const struct bsp_image_profile *p)
{
	const char *s = json_string_value(
		json_object_get(behaviour(p, "workload"), "class"));
	return s ? s : "unknown";
}

double img_profile_p_interactive(const struct bsp_image_profile *p)
{
	json_t *v = json_object_get(behaviour(p, "workload"), "p_interactive");
	/* No classifier: no evidence either way. */
	return json_is_number(v) ? json_number_value(v) : 0.5;
}

char *img_profile_models(const struct bsp_image_profile *p)
{
	json_t *metrics = json_object_get(p->root, "metrics");
	struct img_buf b = {0};
	const char *key;
	json_t *m;
	void *tmp;

	/* jansson iterates in insertion order; sort for a stable text. */
	size_t n = json_object_size(metrics), k = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return NULL;
	json_object_foreach_safe(metrics, tmp, key, m) keys[k++] = key;
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			const char *t = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	for (size_t i = 0; i < k; i++) {
		json_t *v = json_object_get(
			json_object_get(json_object_get(metrics, keys[i]),
					"model"),
			"model_version");
		if (json_is_integer(v))
			img_buf_printf(&b, "%s%s=%lld", b.len ? "," : "",
				       keys[i], (long long)json_integer_value(v));
	}
	free(keys);
	if (img_buf_add(&b, "", 1)) {
		img_buf_release(&b);
		return NULL;
	}
	return (char *)b.p;
}
