/*
 * The forecasting core against known answers: series whose future is
 * known (a sinusoid with a trend, a level shift, constants), calibrated
 * coverage on noise of known distribution, no look-ahead, gaps, refusals,
 * period detection, a Holt-Winters step and a VPA percentile computed by
 * hand, and saved models that predict the same numbers after loading.
 */
#include <math.h>

#include "testutil.h"

#include "bespoke/bespoke.h"
#include "bespoke/forecast.h"
#include "predict/predict.h"

#define T0 1372636800000LL /* 2013-07-01T00:00:00Z, a Monday */

/* A small deterministic generator: xorshift64* and Box-Muller. */
struct rng {
	uint64_t s;
};

static double rng_uniform(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (double)((r->s * 2685821657736338717ULL) >> 11) * 0x1p-53;
}

static double rng_normal(struct rng *r)
{
	double u = rng_uniform(r), v = rng_uniform(r);
	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static double *series_new(size_t n)
{
	double *y = malloc(n * sizeof(*y));
	assert_non_null(y);
	return y;
}

/* Forecasts h steps after y[0..n) (hourly, from T0) with the defaults. */
static void forecast(const double *y, size_t n, size_t h,
		     struct bsp_fc_output *out)
{
	struct bsp_fc_series s = {y, n, T0, BSP_HOUR};
	struct bsp_error err = {0};
	bsp_err rc = bsp_fc_forecast(&s, NULL, h, NULL, 0, out, NULL, &err);
	if (rc)
		fail_msg("forecast: %s", err.msg);
}

/* Every number finite, quantiles ordered by level, point inside. */
static void check_sane(const struct bsp_fc_output *o, int nonneg)
{
	size_t l, j;
	for (j = 0; j < o->horizon; j++) {
		assert_true(isfinite(o->point[j]));
		if (nonneg)
			assert_true(o->point[j] >= 0);
		for (l = 0; l < o->n_levels; l++) {
			double q = bsp_fc_q(o, l, j);
			assert_true(isfinite(q));
			if (nonneg)
				assert_true(q >= 0);
			if (l > 0 && o->levels[l] > o->levels[l - 1])
				assert_true(q >= bsp_fc_q(o, l - 1, j));
		}
	}
}

static void test_sine_trend(void **state)
{
	size_t n = 24 * 35, h = 24, j;
	double *y = series_new(n + h), worst = 0;
	struct bsp_fc_output out;

	(void)state;
	for (j = 0; j < n + h; j++)
		y[j] = 100 + 0.05 * (double)j + 10 * sin(2 * M_PI * j / 24.0);
	forecast(y, n, h, &out);
	check_sane(&out, 1);
	for (j = 0; j < h; j++) {
		double e = fabs(out.point[j] - y[n + j]);
		worst = e > worst ? e : worst;
	}
	/* within 2% of the daily swing of 20 */
	assert_true(worst < 0.4);
	bsp_fc_output_release(&out);
	free(y);
}

static void test_level_shift(void **state)
{
	size_t n = 24 * 28, h = 24, j;
	double *y = series_new(n), mean = 0;
	struct rng r = {42};
	struct bsp_fc_output out;

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = (j < n - 24 * 3 ? 10 : 30) + 0.5 * rng_normal(&r);
	forecast(y, n, h, &out);
	check_sane(&out, 1);
	for (j = 0; j < h; j++)
		mean += out.point[j] / (double)h;
	assert_true(fabs(mean - 30) < 3);
	bsp_fc_output_release(&out);
	free(y);
}

static void test_constant_and_zero(void **state)
{
	double v[2] = {5, 0};
	size_t n = 24 * 20, h = 48, j, l, k;
	double *y = series_new(n);

	(void)state;
	for (k = 0; k < 2; k++) {
		struct bsp_fc_output out;
		for (j = 0; j < n; j++)
			y[j] = v[k];
		forecast(y, n, h, &out);
		check_sane(&out, 1);
		for (j = 0; j < h; j++) {
			assert_true(fabs(out.point[j] - v[k]) < 1e-9);
			for (l = 0; l < out.n_levels; l++)
				assert_true(fabs(bsp_fc_q(&out, l, j) - v[k]) <
					    1e-9);
		}
		bsp_fc_output_release(&out);
	}
	free(y);
}

static void test_gaps(void **state)
{
	size_t n = 24 * 30, h = 24, j;
	double *y = series_new(n + h), worst = 0;
	struct rng r = {7};
	struct bsp_fc_output out;

	(void)state;
	for (j = 0; j < n + h; j++)
		y[j] = 50 + 10 * sin(2 * M_PI * j / 24.0) +
		       0.3 * rng_normal(&r);
	for (j = 0; j < n; j++)
		if (rng_uniform(&r) < 0.2)
			y[j] = NAN;
	for (j = 0; j < 30; j++) /* a gap of more than a day, */
		y[24 * 20 + j] = NAN;
	for (j = 0; j < 5; j++) /* missing values at the start, */
		y[j] = NAN;
	y[n - 1] = y[n - 2] = NAN; /* and at the origin */
	forecast(y, n, h, &out);
	check_sane(&out, 1);
	for (j = 0; j < h; j++) {
		double e = fabs(out.point[j] - y[n + j]);
		worst = e > worst ? e : worst;
	}
	assert_true(worst < 3);
	bsp_fc_output_release(&out);
	free(y);
}

static void test_not_enough_history(void **state)
{
	double y[3] = {1, 2, 3}, z[40];
	struct bsp_fc_series s = {y, 3, T0, BSP_HOUR};
	struct bsp_fc_model *m = (void *)1;
	struct bsp_fc_output out;
	struct bsp_error err = {0};
	size_t j;

	(void)state;
	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_EINVAL);
	assert_null(m);
	assert_string_equal(err.msg, "not enough history: 3 points, need 16");
	assert_int_equal(bsp_fc_forecast(&s, NULL, 24, NULL, 0, &out, NULL,
					 &err),
			 BSP_EINVAL);
	assert_null(out.point);
	/* enough points, but too many of them missing */
	for (j = 0; j < 40; j++)
		z[j] = j % 3 ? NAN : 1.0;
	s.y = z;
	s.n = 40;
	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_EINVAL);
	assert_string_equal(err.msg, "not enough history: 14 points, need 16");
	/* a bad step, an unknown model, a bad level */
	s.step = 0;
	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_EINVAL);
}

/* A candidate list limits the choice to those models; an empty choice
 * (no listed model can run) is an error, not a silent fallback. */
static void test_candidates(void **state)
{
	size_t n = 24 * 21, j;
	double *y = series_new(n);
	struct bsp_fc_series s = {y, n, T0, BSP_HOUR};
	struct bsp_fc_options opt;
	struct bsp_fc_model *m = NULL;
	struct bsp_fc_info info;
	struct bsp_error err = {0};
	const char *two[] = {"snaive_day", "naive"}, *none[] = {"nothing"};

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = 10 + 5 * sin(2 * M_PI * (double)j / 24) + (double)(j % 5);
	bsp_fc_options_init(&opt);
	opt.candidates = two;
	opt.n_candidates = 2;
	assert_int_equal(bsp_fc_train(&s, &opt, &m, &err), BSP_OK);
	bsp_fc_model_info(m, &info);
	assert_true(info.n_members >= 1 && info.n_members <= 2);
	for (j = 0; j < info.n_members; j++)
		assert_true(!strcmp(info.members[j].name, "snaive_day") ||
			    !strcmp(info.members[j].name, "naive"));
	bsp_fc_model_free(m);
	opt.candidates = none;
	opt.n_candidates = 1;
	assert_int_not_equal(bsp_fc_train(&s, &opt, &m, &err), BSP_OK);
	free(y);
}

static void test_bad_arguments(void **state)
{
	size_t n = 24 * 10, j;
	double *y = series_new(n), lv = 0.999;
	struct bsp_fc_series s = {y, n, T0, BSP_HOUR};
	struct bsp_fc_options opt;
	struct bsp_fc_model *m;
	struct bsp_fc_output out;
	struct bsp_error err = {0};

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = (double)(j % 24);
	bsp_fc_options_init(&opt);
	opt.model = "no_such_model";
	assert_int_equal(bsp_fc_train(&s, &opt, &m, &err), BSP_EINVAL);
	assert_non_null(strstr(err.msg, "no_such_model"));
	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_OK);
	assert_int_equal(bsp_fc_predict(m, &s, 24, &lv, 1, &out, &err),
			 BSP_EINVAL);
	assert_int_equal(bsp_fc_predict(m, &s, 0, NULL, 0, &out, &err),
			 BSP_EINVAL);
	s.step = BSP_MINUTE;
	assert_int_equal(bsp_fc_predict(m, &s, 24, NULL, 0, &out, &err),
			 BSP_EINVAL);
	bsp_fc_model_free(m);
	y[3] = INFINITY;
	s.step = BSP_HOUR;
	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_EINVAL);
	free(y);
}

/* Odd series: huge, tiny, negative, spiky, sparse. Nothing may be NaN. */
static void test_never_nan(void **state)
{
	size_t n = 24 * 21, h = 24 * 3, j, k;
	double *y = series_new(n);
	struct rng r = {99};

	(void)state;
	for (k = 0; k < 6; k++) {
		struct bsp_fc_output out;
		for (j = 0; j < n; j++) {
			double u = rng_uniform(&r);
			switch (k) {
			case 0: y[j] = 1e12 * u; break;
			case 1: y[j] = 1e-12 * u; break;
			case 2: y[j] = -50 + 10 * rng_normal(&r); break;
			case 3: y[j] = u < 0.01 ? 1e6 : 0; break;
			case 4: y[j] = u < 0.9 ? NAN : u; break;
			default: y[j] = j < n / 2 ? 0 : 1e9 * u; break;
			}
		}
		if (k == 4)
			for (j = 0; j < 40; j++)
				y[n - 1 - j] = 1 + (double)(j % 3);
		forecast(y, n, h, &out);
		check_sane(&out, k != 2);
		bsp_fc_output_release(&out);
	}
	free(y);
}

/* A daily sine with standard normal noise: the p95 should cover about
 * 95% of what comes, over many origins. */
static void test_coverage(void **state)
{
	size_t n = 24 * 70, h = 24, j, o, in95 = 0, in50 = 0, in05 = 0,
	       total = 0;
	double *y = series_new(n);
	double levels[3] = {0.05, 0.5, 0.95};
	struct rng r = {2024};

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = 20 + 5 * sin(2 * M_PI * j / 24.0) + rng_normal(&r);
	for (o = 24 * 30; o + h <= n; o += 24 * 2) {
		struct bsp_fc_series s = {y, o, T0, BSP_HOUR};
		struct bsp_fc_output out;
		struct bsp_error err = {0};
		assert_int_equal(bsp_fc_forecast(&s, NULL, h, levels, 3, &out,
						 NULL, &err),
				 BSP_OK);
		for (j = 0; j < h; j++) {
			in05 += y[o + j] <= bsp_fc_q(&out, 0, j);
			in50 += y[o + j] <= bsp_fc_q(&out, 1, j);
			in95 += y[o + j] <= bsp_fc_q(&out, 2, j);
			total++;
		}
		bsp_fc_output_release(&out);
	}
	/* 480 points; a binomial standard error is 1% at p95, 2.3% at p50 */
	assert_true(in95 >= total * 91 / 100 && in95 <= total * 99 / 100);
	assert_true(in50 >= total * 40 / 100 && in50 <= total * 60 / 100);
	assert_true(in05 >= total * 1 / 100 && in05 <= total * 9 / 100);
	free(y);
}

static void outputs_equal(const struct bsp_fc_output *a,
			  const struct bsp_fc_output *b)
{
	assert_int_equal(a->horizon, b->horizon);
	assert_int_equal(a->n_levels, b->n_levels);
	assert_true(a->t0 == b->t0);
	assert_memory_equal(a->point, b->point, a->horizon * sizeof(double));
	assert_memory_equal(a->q, b->q,
			    a->horizon * a->n_levels * sizeof(double));
}

/* Changing what comes after the origin changes nothing. */
static void test_no_lookahead(void **state)
{
	size_t n = 24 * 40, o = 24 * 30 + 5, j;
	double *y = series_new(n);
	struct rng r = {5};
	struct bsp_fc_output a, b;
	struct bsp_fc_model *m1, *m2;
	struct bsp_error err = {0};
	struct bsp_fc_series s = {y, o, T0, BSP_HOUR};

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = 10 + 3 * sin(2 * M_PI * j / 24.0) + rng_normal(&r);
	assert_int_equal(bsp_fc_forecast(&s, NULL, 24, NULL, 0, &a, &m1, &err),
			 BSP_OK);
	for (j = o; j < n; j++)
		y[j] = 1e6 * rng_uniform(&r);
	assert_int_equal(bsp_fc_forecast(&s, NULL, 24, NULL, 0, &b, &m2, &err),
			 BSP_OK);
	outputs_equal(&a, &b);
	bsp_fc_output_release(&b);
	/* a model trained up to o predicts the same from o however the
	 * later data looks */
	assert_int_equal(bsp_fc_predict(m1, &s, 24, NULL, 0, &b, &err), BSP_OK);
	outputs_equal(&a, &b);
	bsp_fc_output_release(&a);
	bsp_fc_output_release(&b);
	bsp_fc_model_free(m1);
	bsp_fc_model_free(m2);
	free(y);
}

static void train_info(const double *y, size_t n, struct bsp_fc_info *info)
{
	struct bsp_fc_series s = {y, n, T0, BSP_HOUR};
	struct bsp_fc_model *m;
	struct bsp_error err = {0};

	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_OK);
	bsp_fc_model_info(m, info);
	bsp_fc_model_free(m);
}

static void test_periods(void **state)
{
	size_t n = 24 * 35, j;
	double *y = series_new(n);
	struct rng r = {11};
	struct bsp_fc_info info;

	(void)state;
	for (j = 0; j < n; j++) /* a daily cycle under noise */
		y[j] = 10 + 2 * sin(2 * M_PI * j / 24.0) + rng_normal(&r);
	train_info(y, n, &info);
	assert_int_equal(info.n_periods, 1);
	assert_int_equal(info.periods[0], 24);
	for (j = 0; j < n; j++) /* white noise */
		y[j] = 10 + rng_normal(&r);
	train_info(y, n, &info);
	assert_int_equal(info.n_periods, 0);
	for (j = 0; j < n; j++) { /* office hours on weekdays */
		size_t wd = (j / 24) % 7, hr = j % 24; /* T0 is a Monday */
		y[j] = 5 + 0.3 * rng_normal(&r);
		if (wd < 5 && hr >= 8 && hr < 18)
			y[j] += 10;
	}
	train_info(y, n, &info);
	assert_int_equal(info.n_periods, 2);
	assert_int_equal(info.periods[0], 24);
	assert_int_equal(info.periods[1], 168);
	for (j = 0; j < n; j++) /* a 10-hour cycle, not the calendar's */
		y[j] = 10 + 3 * sin(2 * M_PI * j / 10.0) + rng_normal(&r);
	train_info(y, n, &info);
	assert_int_equal(info.n_periods, 1);
	assert_int_equal(info.periods[0], 10);
	free(y);
}

/* Holt-Winters by hand: a "day" of 2 steps, alpha 0.5, gamma 0.2, rho
 * 0.5, no trend, y = 10 20 12 22. The states start at l = 15 (mean of the
 * first cycle), s = -5, +5 (mean deviation per phase from 16, the mean of
 * the first two cycles). t=0,1: no error. t=2: e = 12 - 10 = 2, l = 16,
 * s0 = -4.6, r = 2. t=3: forecast 16 + 5 + 0.5*2 = 22, e = 0, r = 22 - 21
 * = 1. Ahead: 16 - 4.6 + 0.5 = 11.9, then 16 + 5 + 0.25 = 21.25. */
static void test_holt_winters_step(void **state)
{
	double y[4] = {10, 20, 12, 22}, f[4] = {10, 20, 12, 22}, out[2];
	struct fc_data d;
	struct fc_fit fit;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.y = y;
	d.f = f;
	d.n = d.n_valid = 4;
	d.t0 = 0;
	d.step = BSP_HOUR;
	memset(&fit, 0, sizeof(fit));
	fit.kind = &fc_kind_ets;
	fit.season[0] = 2;
	fit.np = 7;
	fit.p[0] = 0.5;  /* alpha */
	fit.p[2] = 1;    /* phi (no trend) */
	fit.p[3] = 0.2;  /* gamma1 */
	fit.p[5] = 0.5;  /* rho */
	assert_int_equal(fc_kind_ets.check(&fit), 0);
	assert_int_equal(fc_kind_ets.forecast(&fit, &d, 4, 2, out), BSP_OK);
	assert_true(fabs(out[0] - 11.9) < 1e-12);
	assert_true(fabs(out[1] - 21.25) < 1e-12);
	/* without season: simple exponential smoothing from l = 2.5 */
	fit.season[0] = 0;
	fit.p[5] = 0;
	y[0] = f[0] = 1;
	y[1] = f[1] = 2;
	y[2] = f[2] = 3;
	y[3] = f[3] = 4;
	assert_int_equal(fc_kind_ets.forecast(&fit, &d, 4, 2, out), BSP_OK);
	assert_true(fabs(out[0] - 3.21875) < 1e-12);
	assert_true(fabs(out[1] - 3.21875) < 1e-12);
}

/* VPA's histogram: buckets 5% apart from `first`, end of bucket. */
static void test_vpa_percentile(void **state)
{
	double y[100], two[49];
	size_t j;

	(void)state;
	for (j = 0; j < 100; j++)
		y[j] = (double)(j + 1);
	/* 1..100 with (nearly) equal weights: the 50th value, 50, is in
	 * bucket 25 = [47.73, 51.11); the answer is that bucket's end */
	double p50 = fc_vpa_percentile(y, 100, BSP_HOUR, 1e15, 1.0, 0.5);
	assert_true(fabs(p50 - (pow(1.05, 26) - 1) / 0.05) < 1e-9);
	/* decay: 100 two days old weighs 1/4 of a fresh 10 */
	for (j = 0; j < 49; j++)
		two[j] = NAN;
	two[0] = 100;
	two[48] = 10;
	double b10 = floor(log(10 * 0.05 / 1.0 + 1) / log(1.05));
	double b100 = floor(log(100 * 0.05 / 1.0 + 1) / log(1.05));
	double end10 = (pow(1.05, b10 + 1) - 1) / 0.05;
	double end100 = (pow(1.05, b100 + 1) - 1) / 0.05;
	/* total 1.25: p50 needs 0.625 (the 10 alone), p90 1.125 (both) */
	assert_true(fabs(fc_vpa_percentile(two, 49, BSP_HOUR, BSP_DAY, 1.0,
					   0.5) - end10) < 1e-9);
	assert_true(fabs(fc_vpa_percentile(two, 49, BSP_HOUR, BSP_DAY, 1.0,
					   0.79) - end10) < 1e-9);
	assert_true(fabs(fc_vpa_percentile(two, 49, BSP_HOUR, BSP_DAY, 1.0,
					   0.81) - end100) < 1e-9);
}

static void test_save_load(void **state)
{
	size_t n = 24 * 30, j, k;
	double *y = series_new(n);
	struct rng r = {3};
	struct bsp_fc_series s = {y, n, T0, BSP_HOUR};
	struct bsp_fc_model *m, *m2;
	struct bsp_fc_output a, b;
	struct bsp_error err = {0};
	char *json, *json2;

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = 30 + 8 * sin(2 * M_PI * j / 24.0) +
		       4 * (j / 24 % 7 >= 5) + rng_normal(&r);
	for (k = 0;; k++) {
		struct bsp_fc_options opt;
		bsp_fc_options_init(&opt);
		opt.model = bsp_fc_model_name(k); /* each, then NULL: auto */
		assert_int_equal(bsp_fc_train(&s, &opt, &m, &err), BSP_OK);
		assert_int_equal(bsp_fc_model_save(m, &json, &err), BSP_OK);
		assert_int_equal(bsp_fc_model_load(json, strlen(json), &m2,
						   &err),
				 BSP_OK);
		assert_int_equal(bsp_fc_model_save(m2, &json2, &err), BSP_OK);
		assert_string_equal(json, json2);
		assert_int_equal(bsp_fc_predict(m, &s, 36, NULL, 0, &a, &err),
				 BSP_OK);
		assert_int_equal(bsp_fc_predict(m2, &s, 36, NULL, 0, &b, &err),
				 BSP_OK);
		outputs_equal(&a, &b);
		bsp_fc_output_release(&a);
		bsp_fc_output_release(&b);
		free(json);
		free(json2);
		bsp_fc_model_free(m);
		bsp_fc_model_free(m2);
		if (!opt.model)
			break;
	}
	free(y);
}

static void test_load_refuses(void **state)
{
	const char *bad[] = {
		"",
		"[]",
		"{}",
		"{\"format\":\"bespoke-forecast\",\"version\":99}",
		"{\"format\":\"other\",\"version\":1}",
	};
	size_t n = 24 * 20, j, i;
	double *y = series_new(n);
	struct bsp_fc_series s = {y, n, T0, BSP_HOUR};
	struct bsp_fc_model *m;
	struct bsp_error err = {0};
	char *json, *p;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bsp_fc_model_load(bad[i], strlen(bad[i]), &m,
						   &err),
				 BSP_ECORRUPT);
		assert_null(m);
	}
	for (j = 0; j < n; j++)
		y[j] = (double)(j % 24);
	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_OK);
	assert_int_equal(bsp_fc_model_save(m, &json, &err), BSP_OK);
	bsp_fc_model_free(m);
	/* an unknown model name inside */
	p = strstr(json, "\"model\":\"");
	assert_non_null(p);
	p[9] = 'X';
	assert_int_equal(bsp_fc_model_load(json, strlen(json), &m, &err),
			 BSP_ECORRUPT);
	/* cut short */
	assert_int_equal(bsp_fc_model_load(json, strlen(json) / 2, &m, &err),
			 BSP_ECORRUPT);
	free(json);
	free(y);
}

static void test_info(void **state)
{
	size_t n = 24 * 30, j;
	double *y = series_new(n), wsum = 0;
	struct rng r = {8};
	struct bsp_fc_info info;

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = 5 + sin(2 * M_PI * j / 24.0) + 0.2 * rng_normal(&r);
	train_info(y, n, &info);
	assert_true(info.n_members >= 1);
	for (j = 0; j < info.n_members; j++) {
		assert_non_null(info.members[j].name);
		assert_true(info.members[j].weight > 0);
		wsum += info.members[j].weight;
	}
	assert_true(fabs(wsum - 1) < 1e-9);
	assert_true(info.mase > 0 && info.mase < 1);
	assert_true(info.coverage95 > 0.8);
	assert_int_equal(info.horizon, 24);
	assert_int_equal(info.n_origins, 14);
	assert_true(info.from == T0);
	assert_true(info.until == T0 + (bsp_time)n * BSP_HOUR);
	assert_int_equal(info.n_train, n);
	assert_true(info.nonneg);
	free(y);
}

/* Five-minute data: a day is 288 steps; the daily cycle is found. */
static void test_five_minutes(void **state)
{
	size_t n = 288 * 16, h = 288, j;
	double *y = series_new(n);
	struct rng r = {17};
	struct bsp_fc_series s = {y, n, T0, 5 * BSP_MINUTE};
	struct bsp_fc_output out;
	struct bsp_fc_model *m;
	struct bsp_fc_info info;
	struct bsp_error err = {0};

	(void)state;
	for (j = 0; j < n; j++)
		y[j] = 40 + 10 * sin(2 * M_PI * j / 288.0) + rng_normal(&r);
	assert_int_equal(bsp_fc_forecast(&s, NULL, h, NULL, 0, &out, &m, &err),
			 BSP_OK);
	check_sane(&out, 1);
	bsp_fc_model_info(m, &info);
	assert_int_equal(info.periods[0], 288);
	assert_true(out.t0 == T0 + (bsp_time)n * 5 * BSP_MINUTE);
	for (j = 0; j < h; j += 36)
		assert_true(fabs(out.point[j] -
				 (40 + 10 * sin(2 * M_PI * (n + j) / 288.0))) <
			    2);
	bsp_fc_output_release(&out);
	bsp_fc_model_free(m);
	free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sine_trend),
		cmocka_unit_test(test_level_shift),
		cmocka_unit_test(test_constant_and_zero),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_not_enough_history),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_never_nan),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_no_lookahead),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_holt_winters_step),
		cmocka_unit_test(test_vpa_percentile),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_refuses),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_five_minutes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
