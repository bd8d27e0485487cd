/*
 * Demand: a Behaviour Profile's quantile forecasts in allocation units.
 *
 * The profile (docs/profile.md) holds, per metric, forecasts of the mean
 * of each step at several quantile levels (p5 .. p99) in the metric's
 * ingested unit. Allocation needs vCPUs, GiB, IOPS, MB/s and Gbit/s; the
 * conversions (docs/allocation.md) are:
 *
 *   CPU     MHz / (MHz per vCPU); cores and vCPUs as they are; a % of the
 *           provisioned vCPUs when those are known
 *   memory  KB / 2^20, MiB / 1024, B / 2^30 (KB as Bitbrains writes it:
 *           1024 bytes)
 *   disk    KB/s * 1024 / 10^6 = MB/s; KB/s / (mean I/O size in KiB) = IOPS
 *   network KB/s * 1024 * 8 / 10^9 = Gbit/s
 *
 * Between the forecast levels the distribution is taken as linear in the
 * CDF; beyond the top level as an exponential tail through the two top
 * levels (p95 and p99: scale (v99 - v95) / ln 5), which is how the
 * violation rate of an allocation above p99 is estimated.
 *
 * A need (bsp_alloc_demand_q, above the median) never goes above the
 * largest step mean of the history window (history.max) unless the
 * median forecast of that step does: calibrated bands are as wide as the
 * worst recent errors, and on a bursty series their top went half again
 * above anything the VM had used in four weeks. The risk of an
 * allocation (bsp_alloc_exceed) still comes from the whole forecast
 * distribution. The allocation simulator measured the same cap at 11%
 * less CPU cost for the same violations (docs/simulate.md);
 * docs/allocation.md has the day-ahead figures.
 */
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "alloc_int.h"

/* Unit → factor to the resource's unit; 0 = not a unit we read. */
struct al_unit {
	const char *unit;
	double factor;
};

static const struct al_unit al_mem_units[] = {
    {"KB", 1.0 / 1048576},
    {"KiB", 1.0 / 1048576},
    {"MiB", 1.0 / 1024},
    {"MB", 1.0 / 1024},
    {"GiB", 1},
    {"GB", 1},
    {"B", 1.0 / 1073741824},
    {"bytes", 1.0 / 1073741824},
};
/* Bytes per second per unit. */
static const struct al_unit al_rate_units[] = {
    {"KB/s", 1024}, {"KiB/s", 1024}, {"B/s", 1},
    {"bytes/s", 1}, {"MB/s", 1e6},   {"MiB/s", 1048576},
};

static double al_unit_factor(const struct al_unit *u, size_t n,
			     const char *unit)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(u[i].unit, unit))
			return u[i].factor;
	return 0;
}

void bsp_alloc_demand_release(struct bsp_alloc_demand *d)
{
	for (int r = 0; r < BSP_RES_N; r++)
		free(d->q[r]);
	memset(d, 0, sizeof(*d));
}

static double al_num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Reads the quantile arrays of one metric into a fresh matrix scaled by
 * `f`; the first metric read fixes the levels and the step count. */
static bsp_err al_read_q(struct bsp_alloc_demand *d, json_t *m,
			 const char *metric, double f, double **out,
			 struct bsp_error *err)
{
	json_t *fc = json_object_get(m, "forecast");
	json_t *qs = json_object_get(fc, "quantiles");
	const char *key;
	json_t *arr;
	double lv[BSP_ALLOC_MAX_LEVELS];
	json_t *ar[BSP_ALLOC_MAX_LEVELS];
	size_t nl = 0;

	if (!json_is_object(qs))
		return bsp_error_set(err, BSP_EINVAL,
				     "profile: metrics.%s.forecast.quantiles "
				     "is missing",
				     metric);
	json_object_foreach(qs, key, arr)
	{
		char *end;
		double p;
		if (key[0] != 'p' || !json_is_array(arr))
			continue;
		p = strtod(key + 1, &end) / 100;
		if (*end || !(p > 0 && p < 1) || nl == BSP_ALLOC_MAX_LEVELS)
			continue;
		/* Insertion by level, so the matrix is ordered. */
		size_t k = nl++;
		while (k > 0 && lv[k - 1] > p) {
			lv[k] = lv[k - 1];
			ar[k] = ar[k - 1];
			k--;
		}
		lv[k] = p;
		ar[k] = arr;
	}
	if (nl < 2)
		return bsp_error_set(err, BSP_EINVAL,
				     "profile: metrics.%s has fewer than two "
				     "quantile levels",
				     metric);
	size_t n = json_array_size(ar[0]);
	if (d->n_levels == 0) {
		d->n_levels = nl;
		memcpy(d->levels, lv, nl * sizeof(*lv));
		d->n_steps = n;
	} else if (nl != d->n_levels || n != d->n_steps ||
		   memcmp(lv, d->levels, nl * sizeof(*lv))) {
		return bsp_error_set(err, BSP_EINVAL,
				     "profile: metrics.%s has other levels or "
				     "steps than the first metric",
				     metric);
	}
	if (!n)
		return bsp_error_set(
		    err, BSP_EINVAL,
		    "profile: metrics.%s has an empty forecast", metric);
	*out = malloc(nl * n * sizeof(**out));
	if (!*out)
		return bsp_error_set(err, BSP_ENOMEM, "alloc: out of memory");
	for (size_t l = 0; l < nl; l++) {
		if (json_array_size(ar[l]) != n) {
			free(*out);
			*out = NULL;
			return bsp_error_set(err, BSP_EINVAL,
					     "profile: metrics.%s.forecast: "
					     "p%g has %zu steps, not %zu",
					     metric, lv[l] * 100,
					     json_array_size(ar[l]), n);
		}
		for (size_t j = 0; j < n; j++)
			(*out)[l * n + j] =
			    al_num(json_array_get(ar[l], j)) * f;
	}
	return BSP_OK;
}

/* Resource r's history.max in its unit (see the top of this file). */
static void al_read_history(struct bsp_alloc_demand *d, int r, json_t *m)
{
	double mx =
	    al_num(json_object_get(json_object_get(m, "history"), "max")) *
	    d->factor[r];

	d->hist_max[r] = mx > 0 && isfinite(mx) ? mx : 0;
}

/* The factor of one metric to resource r, with a sentence saying how. */
static double al_factor(enum bsp_res r, const char *metric, const char *unit,
			const struct bsp_alloc_units *u, char *how, size_t size)
{
	double f;

	switch (r) {
	case BSP_RES_CPU:
		if (!strcmp(unit, "MHz")) {
			snprintf(how, size, "%s MHz / %g MHz per vCPU", metric,
				 u->mhz_per_vcpu);
			return 1 / u->mhz_per_vcpu;
		}
		if (!strcmp(unit, "cores") || !strcmp(unit, "vCPU") ||
		    !strcmp(unit, "vcpu")) {
			snprintf(how, size, "%s in %s", metric, unit);
			return 1;
		}
		if (!strcmp(unit, "%") && u->provisioned_vcpu > 0) {
			snprintf(how, size, "%s %% of %g provisioned vCPU",
				 metric, u->provisioned_vcpu);
			return u->provisioned_vcpu / 100;
		}
		return 0;
	case BSP_RES_MEM:
		f = al_unit_factor(al_mem_units, BSP_ARRAY_LEN(al_mem_units),
				   unit);
		if (f > 0)
			snprintf(how, size, "%s %s -> GiB (x %.6g)", metric,
				 unit, f);
		return f;
	case BSP_RES_IOPS:
		f = al_unit_factor(al_rate_units, BSP_ARRAY_LEN(al_rate_units),
				   unit);
		if (f > 0)
			snprintf(how, size, "%s %s / %g KiB per I/O", metric,
				 unit, u->io_size_kib);
		return f / (u->io_size_kib * 1024);
	case BSP_RES_MBPS:
		f = al_unit_factor(al_rate_units, BSP_ARRAY_LEN(al_rate_units),
				   unit);
		if (f > 0)
			snprintf(how, size, "%s %s -> MB/s (x %.6g)", metric,
				 unit, f / 1e6);
		return f / 1e6;
	case BSP_RES_NET:
		f = al_unit_factor(al_rate_units, BSP_ARRAY_LEN(al_rate_units),
				   unit);
		if (!strcmp(unit, "Mbit/s") || !strcmp(unit, "Mbps"))
			f = 1e6 / 8;
		if (f > 0)
			snprintf(how, size, "%s %s -> Gbit/s (x %.6g)", metric,
				 unit, f * 8 / 1e9);
		return f * 8 / 1e9;
	case BSP_RES_N:
		break;
	}
	return 0;
}

/* Which profile metrics feed each resource, in preference order. */
static const char *const al_sources[BSP_RES_N][4] = {
    [BSP_RES_CPU] = {"cpu_usage", "cpu_usage_pct", "cpu_util_pct", NULL},
    [BSP_RES_MEM] = {"mem_usage", NULL},
    [BSP_RES_IOPS] = {"disk_total", NULL},
    [BSP_RES_MBPS] = {"disk_total", NULL},
    [BSP_RES_NET] = {"net_total", NULL},
};

bsp_err bsp_alloc_demand_from_profile(const char *json,
				      const struct bsp_alloc_units *u,
				      struct bsp_alloc_demand *d,
				      struct bsp_error *err)
{
	json_error_t je;
	json_t *doc, *metrics, *fc0 = NULL;
	bsp_err r = BSP_OK;
	int any = 0;

	memset(d, 0, sizeof(*d));
	if (!(doc = json_loads(json, JSON_REJECT_DUPLICATES, &je)))
		return bsp_error_set(err, BSP_EINVAL, "profile: line %d: %s",
				     je.line, je.text);
	metrics = json_object_get(doc, "metrics");
	if (!json_is_object(metrics)) {
		r = bsp_error_set(err, BSP_EINVAL,
				  "profile: no \"metrics\" object");
		goto out;
	}
	for (int res = 0; res < BSP_RES_N; res++) {
		for (int k = 0; al_sources[res][k]; k++) {
			const char *name = al_sources[res][k];
			json_t *m = json_object_get(metrics, name);
			const char *unit;
			double f;
			if (!m)
				continue;
			unit = json_string_value(json_object_get(m, "unit"));
			f = al_factor((enum bsp_res)res, name, unit ? unit : "",
				      u, d->how[res], sizeof(d->how[res]));
			if (!(f > 0) || !isfinite(f))
				continue;
			if ((r = al_read_q(d, m, name, f, &d->q[res], err)))
				goto out;
			snprintf(d->metric[res], sizeof(d->metric[res]), "%s",
				 name);
			d->factor[res] = f;
			al_read_history(d, res, m);
			if (!fc0)
				fc0 = json_object_get(m, "forecast");
			any = 1;
			break;
		}
	}
	if (!any) {
		r = bsp_error_set(
		    err, BSP_EINVAL,
		    "profile: no metric it forecasts can be sized "
		    "(cpu_usage, mem_usage, disk_total, net_total "
		    "in a known unit)");
		goto out;
	}
	const char *start = json_string_value(json_object_get(fc0, "start"));
	json_t *stp = json_object_get(fc0, "step_seconds");
	if (!start || bsp_time_parse(start, strlen(start), &d->start) ||
	    !json_is_integer(stp) || json_integer_value(stp) <= 0) {
		r = bsp_error_set(err, BSP_EINVAL,
				  "profile: forecast start or step_seconds is "
				  "missing");
		goto out;
	}
	d->step = (bsp_time)json_integer_value(stp) * BSP_SECOND;
	d->profile_version =
	    json_integer_value(json_object_get(doc, "profile_version"));
	const char *cls = json_string_value(json_object_get(
	    json_object_get(json_object_get(doc, "behaviour"), "workload"),
	    "class"));
	snprintf(d->workload, sizeof(d->workload), "%s", cls ? cls : "");
out:
	json_decref(doc);
	if (r)
		bsp_alloc_demand_release(d);
	return r;
}

/* The finite (level, value) pairs at step j; returns how many. */
static size_t al_points(const struct bsp_alloc_demand *d, enum bsp_res r,
			size_t j, double *lv, double *v)
{
	size_t k = 0;
	for (size_t l = 0; l < d->n_levels; l++) {
		double x = d->q[r][l * d->n_steps + j];
		if (!isfinite(x))
			continue;
		/* Quantiles never decrease with the level. */
		if (k && x < v[k - 1])
			x = v[k - 1];
		lv[k] = d->levels[l];
		v[k++] = x;
	}
	return k;
}

/* Scale of the exponential tail through the two top points; 0 = none. */
static double al_tail(const double *lv, const double *v, size_t k)
{
	if (k < 2 || v[k - 1] <= v[k - 2])
		return 0;
	return (v[k - 1] - v[k - 2]) / log((1 - lv[k - 2]) / (1 - lv[k - 1]));
}

double bsp_alloc_demand_q_raw(const struct bsp_alloc_demand *d, enum bsp_res r,
			      size_t j, double p)
{
	double lv[BSP_ALLOC_MAX_LEVELS], v[BSP_ALLOC_MAX_LEVELS];
	size_t k;

	if (!d->q[r] || j >= d->n_steps)
		return NAN;
	if (!(k = al_points(d, r, j, lv, v)))
		return NAN;
	if (p <= lv[0])
		return v[0] * (lv[0] > 0 ? fmax(p, 0) / lv[0] : 1);
	for (size_t i = 1; i < k; i++)
		if (p <= lv[i])
			return v[i - 1] + (v[i] - v[i - 1]) * (p - lv[i - 1]) /
					      (lv[i] - lv[i - 1]);
	double s = al_tail(lv, v, k);
	return v[k - 1] + (p < 1 ? s * log((1 - lv[k - 1]) / (1 - p)) : 0);
}

double bsp_alloc_demand_q(const struct bsp_alloc_demand *d, enum bsp_res r,
			  size_t j, double p)
{
	double x = bsp_alloc_demand_q_raw(d, r, j, p);

	if (p > 0.5 && d->hist_max[r] > 0 && x > d->hist_max[r]) {
		double med = bsp_alloc_demand_q_raw(d, r, j, 0.5);
		x = med > d->hist_max[r] ? fmin(x, med) : d->hist_max[r];
	}
	return x;
}

void bsp_alloc_demand_need(const struct bsp_alloc_demand *d, double p,
			   size_t from, size_t until, double need[BSP_RES_N],
			   size_t peak[BSP_RES_N])
{
	if (until > d->n_steps)
		until = d->n_steps;
	for (int r = 0; r < BSP_RES_N; r++) {
		need[r] = NAN;
		if (peak)
			peak[r] = from;
		for (size_t j = from; j < until; j++) {
			double q = bsp_alloc_demand_q(d, (enum bsp_res)r, j, p);
			if (isfinite(q) && !(q <= need[r])) {
				need[r] = q;
				if (peak)
					peak[r] = j;
			}
		}
	}
}

double bsp_alloc_exceed(const struct bsp_alloc_demand *d, enum bsp_res r,
			size_t j, double alloc)
{
	double lv[BSP_ALLOC_MAX_LEVELS], v[BSP_ALLOC_MAX_LEVELS];
	size_t k;

	if (!d->q[r] || j >= d->n_steps || !(k = al_points(d, r, j, lv, v)))
		return 0;
	if (alloc >= v[k - 1]) {
		double s = al_tail(lv, v, k);
		return s > 0 ? (1 - lv[k - 1]) * exp(-(alloc - v[k - 1]) / s)
			     : 0;
	}
	if (alloc < v[0])
		return 1 - lv[0] * (v[0] > 0 ? fmax(alloc, 0) / v[0] : 0);
	for (size_t i = 1; i < k; i++)
		if (alloc < v[i])
			return 1 - (lv[i - 1] + (lv[i] - lv[i - 1]) *
						    (alloc - v[i - 1]) /
						    (v[i] - v[i - 1]));
	return 1 - lv[k - 1];
}
