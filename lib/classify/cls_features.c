/*
 * Workload-class features, from CPU summaries or from a stored CPU series.
 *
 * Azure's vmtable summarises each VM by max_cpu, avg_cpu and p95_max_cpu:
 * the maximum, the mean and the 95th percentile of its 5-minute maxima, in
 * % of the VM's cores (Cortez et al., "Resource Central", SOSP 2017). A
 * series gives the same three numbers: the 5-minute grid of maxima for max
 * and p95, the mean of all samples for avg. Ratios make the features
 * independent of how busy a VM is overall, which is what separates an
 * interactive VM (idle with rare peaks) from a batch one (near its peak
 * for long stretches). Series add the share of variance explained by the
 * hour of day and the autocorrelation at 24 hours: interactive load
 * follows its users' day.
 *
 * CPU is normalised to a fraction of capacity: % series as they are,
 * cpu_usage in cores over the provisioned_cores attribute, and a series of
 * unknown capacity over its own maximum (then max is 1 by construction).
 */
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "classify_int.h"

static const char *const cls_names[BSP_CLS_NFEATURES] = {
	"max", "avg", "p95", "avg_max", "p95_max", "avg_p95", "log_peak",
	"diurnal", "acf24",
};

const char *bsp_cls_feature_name(size_t i)
{
	return i < BSP_CLS_NFEATURES ? cls_names[i] : NULL;
}

/* The ratios are bounded away from 0/0: a VM that never ran has
 * max = avg = 0 and gets ratio 1 (flat), log_peak 0. */
static double cls_ratio(double a, double b)
{
	return b > 1e-9 ? a / b : 1.0;
}

void cls_features_fill(double max, double avg, double p95,
		       struct bsp_cls_features *out)
{
	for (size_t i = 0; i < BSP_CLS_NFEATURES; i++)
		out->x[i] = NAN;
	out->x[BSP_CLS_F_MAX] = max;
	out->x[BSP_CLS_F_AVG] = avg;
	out->x[BSP_CLS_F_P95] = p95;
	out->x[BSP_CLS_F_AVG_MAX] = cls_ratio(avg, max);
	out->x[BSP_CLS_F_P95_MAX] = cls_ratio(p95, max);
	out->x[BSP_CLS_F_AVG_P95] = cls_ratio(avg, p95);
	out->x[BSP_CLS_F_LOG_PEAK] = log((max + 1e-3) / (avg + 1e-3));
}

bsp_err bsp_cls_features_summary(double max_pct, double avg_pct,
				 double p95_pct, struct bsp_cls_features *out,
				 struct bsp_error *err)
{
	if (!isfinite(max_pct) || !isfinite(avg_pct) || !isfinite(p95_pct) ||
	    max_pct < 0 || avg_pct < 0 || p95_pct < 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "CPU summaries must be finite and >= 0");
	cls_features_fill(max_pct / 100, avg_pct / 100, p95_pct / 100, out);
	out->source = "summary";
	return BSP_OK;
}

static const char *cls_attr(const struct bsp_entity *e, const char *key)
{
	for (size_t i = 0; i < e->n_attrs; i++)
		if (!strcmp(e->attr_keys[i], key))
			return e->attr_values[i];
	return NULL;
}

static int cls_num(const char *s, double *v)
{
	char *end;
	if (!s || !*s)
		return -1;
	*v = strtod(s, &end);
	return *end || !isfinite(*v) ? -1 : 0;
}

static int cls_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* p-quantile of the finite values of v (sorted in place), linear
 * interpolation between order statistics (Hyndman & Fan type 7). */
double cls_quantile(double *v, size_t n, double p)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[m++] = v[i];
	if (!m)
		return NAN;
	qsort(v, m, sizeof(*v), cls_cmp_double);
	double h = (double)(m - 1) * p;
	size_t lo = (size_t)floor(h);
	size_t hi = lo + 1 < m ? lo + 1 : lo;
	return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

void cls_shape_features(const double *hourly, size_t n, double *diurnal,
			double *acf24)
{
	double sum[24] = {0}, cnt[24] = {0}, tot = 0, tn = 0;

	*diurnal = NAN;
	*acf24 = NAN;
	for (size_t i = 0; i < n; i++)
		if (isfinite(hourly[i])) {
			sum[i % 24] += hourly[i];
			cnt[i % 24]++;
			tot += hourly[i];
			tn++;
		}
	if (tn < 48)
		return; /* under two days: no daily shape to speak of */
	double mean = tot / tn, ss = 0, ssb = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(hourly[i])) {
			double d = hourly[i] - mean;
			double b = sum[i % 24] / cnt[i % 24] - mean;
			ss += d * d;
			ssb += b * b;
		}
	if (ss <= 0)
		return;
	*diurnal = ssb / ss;
	double num = 0;
	for (size_t i = 24; i < n; i++)
		if (isfinite(hourly[i]) && isfinite(hourly[i - 24]))
			num += (hourly[i] - mean) * (hourly[i - 24] - mean);
	*acf24 = num / ss;
}

/* CPU series in preference order, with how to scale them to a fraction. */
enum cls_scale { CLS_PCT, CLS_CORES };
static const struct {
	const char *metric;
	enum cls_scale scale;
} cls_cpu_series[] = {
	{"cpu_usage_pct", CLS_PCT},
	{"cpu_util_pct", CLS_PCT},
	{"cpu_avg", CLS_PCT},
	{"cpu_usage", CLS_CORES},
};

static bsp_err cls_from_series(struct bsp_store *st,
			       const struct bsp_entity *e, bsp_time before,
			       struct bsp_cls_features *out,
			       struct bsp_error *err)
{
	struct bsp_series s = {0};
	double *grid = NULL, *hourly = NULL, cap = NAN;
	size_t k, n5, nh;
	bsp_err r = BSP_ENOTFOUND;

	for (k = 0; k < BSP_ARRAY_LEN(cls_cpu_series); k++) {
		r = bsp_store_series_find(st, e->name, cls_cpu_series[k].metric,
					  "", &s, NULL);
		if (r == BSP_OK && s.n_samples > 0)
			break;
		if (r == BSP_OK)
			bsp_series_release(&s);
		else if (r != BSP_ENOTFOUND)
			return bsp_error_set(err, r, "%s: cannot read its series",
					     e->name);
		r = BSP_ENOTFOUND;
	}
	if (r != BSP_OK)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: has neither CPU summaries (max_cpu, "
				     "avg_cpu, p95_max_cpu) nor a CPU series",
				     e->name);
	if (cls_cpu_series[k].scale == CLS_PCT)
		cap = 100;
	else if (cls_num(cls_attr(e, "provisioned_cores"), &cap) < 0 ||
		 cap <= 0)
		cap = NAN; /* unknown: scaled by its own maximum below */

	bsp_time from = s.first - s.first % (5 * BSP_MINUTE);
	bsp_time until = s.last + 1;
	if (before != BSP_TIME_NONE && before < until)
		until = before;
	if (until <= from) {
		r = bsp_error_set(err, BSP_EINVAL, "%s: no CPU samples before "
				  "the given time", e->name);
		goto out;
	}
	n5 = bsp_grid_len(from, until, 5 * BSP_MINUTE);
	nh = bsp_grid_len(from, until, BSP_HOUR);
	if (n5 > 50u * 1000 * 1000) {
		r = bsp_error_set(err, BSP_ELIMIT, "%s: series too long",
				  e->name);
		goto out;
	}
	grid = malloc((n5 ? n5 : 1) * sizeof(*grid));
	hourly = malloc((nh ? nh : 1) * sizeof(*hourly));
	if (!grid || !hourly) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	r = bsp_store_read_grid(st, s.id, from, until, BSP_HOUR, BSP_AGG_MEAN,
				BSP_FILL_NAN, hourly, err);
	if (r == BSP_OK)
		r = bsp_store_read_grid(st, s.id, from, until, 5 * BSP_MINUTE,
					BSP_AGG_MAX, BSP_FILL_NAN, grid, err);
	if (r != BSP_OK)
		goto out;
	double max = 0, sum = 0, cnt = 0;
	for (size_t i = 0; i < n5; i++)
		if (isfinite(grid[i]) && grid[i] > max)
			max = grid[i];
	for (size_t i = 0; i < nh; i++)
		if (isfinite(hourly[i])) {
			sum += hourly[i];
			cnt++;
		}
	if (!isfinite(cap))
		cap = max > 0 ? max : 1;
	double avg = cnt ? sum / cnt : 0;
	double p95 = cls_quantile(grid, n5, 0.95);
	cls_features_fill(fmin(max / cap, 1.0), avg / cap, p95 / cap, out);
	cls_shape_features(hourly, nh, &out->x[BSP_CLS_F_DIURNAL],
			   &out->x[BSP_CLS_F_ACF24]);
	out->source = cls_cpu_series[k].metric;
out:
	free(grid);
	free(hourly);
	bsp_series_release(&s);
	return r;
}

bsp_err bsp_cls_features_entity(struct bsp_store *st, const char *entity,
				struct bsp_cls_features *out,
				struct bsp_error *err)
{
	return bsp_cls_features_entity_before(st, entity, BSP_TIME_NONE, out,
					      err);
}

bsp_err bsp_cls_features_entity_before(struct bsp_store *st,
				       const char *entity, bsp_time before,
				       struct bsp_cls_features *out,
				       struct bsp_error *err)
{
	struct bsp_entity e = {0};
	double mx, av, p95;
	bsp_err r;

	if ((r = bsp_store_entity(st, entity, &e, err)) != BSP_OK)
		return r;
	if (cls_num(cls_attr(&e, "max_cpu"), &mx) == 0 &&
	    cls_num(cls_attr(&e, "avg_cpu"), &av) == 0 &&
	    cls_num(cls_attr(&e, "p95_max_cpu"), &p95) == 0)
		r = bsp_cls_features_summary(mx, av, p95, out, err);
	else
		r = cls_from_series(st, &e, before, out, err);
	bsp_entity_release(&e);
	return r;
}
