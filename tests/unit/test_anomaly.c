/*
 * Anomaly detection against known answers: a planted spike is flagged
 * exactly where it was planted, a planted dip likewise, clean seasonal
 * data with noise gives almost no flags, a lasting change of level is
 * called a shift and kept, and training with the flagged points left out
 * forecasts the same quantiles as training on the series without the
 * spike, while training with them kept does not (so the test can fail).
 */
#include <math.h>

#include "testutil.h"

#include "bespoke/anomaly.h"
#include "bespoke/bespoke.h"
#include "bespoke/forecast.h"
#include "bespoke/profile.h"

#define T0   1372636800000LL /* 2013-07-01T00:00:00Z, a Monday */
#define DAYS 56
#define N    (24 * DAYS)

/* xorshift64* and Box-Muller: the same noise on every run. */
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

/* Hourly usage with a daily cycle (busy 8:00-18:00 UTC), quieter
 * weekends and Gaussian noise of sd 5 around a level of 100. */
static void seasonal(double *y, size_t n, uint64_t seed)
{
	struct rng r = {seed};

	for (size_t i = 0; i < n; i++) {
		size_t hour = i % 24, day = (i / 24) % 7;
		double base = 100 + 60 * sin(M_PI * ((double)hour - 6) / 12);
		if (day >= 5)
			base *= 0.7;
		y[i] = base + 5 * rng_normal(&r);
		if (y[i] < 0)
			y[i] = 0;
	}
}

static size_t at(int day, int hour)
{
	return (size_t)(24 * day + hour);
}

static void train_detect(const double *y, size_t n,
			 struct bsp_anomaly_result *r, struct bsp_fc_model **m)
{
	struct bsp_fc_series s = {y, n, T0, BSP_HOUR};
	struct bsp_error err = {0};

	if (bsp_anomaly_train(&s, NULL, NULL, m, r, &err))
		fail_msg("anomaly train: %s", err.msg);
}

/* Flags outside [lo, hi] (indices) among the examined points. */
static size_t flags_outside(const struct bsp_anomaly_result *r, size_t lo,
			    size_t hi)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++)
		if ((i < lo || i > hi) &&
		    (r->flag[i] & (BSP_ANOM_ABOVE | BSP_ANOM_BELOW)))
			k++;
	return k;
}

static void test_clean_series(void **state)
{
	double *y = malloc(N * sizeof(*y));
	struct bsp_anomaly_result r;
	struct bsp_fc_model *m = NULL;

	(void)state;
	assert_non_null(y);
	for (uint64_t seed = 1; seed <= 3; seed++) {
		seasonal(y, N, seed * 7919);
		train_detect(y, N, &r, &m);
		/* everything after the warm-up is examined: two weeks for a
		 * series with a weekly cycle */
		assert_int_equal(r.first, 24 * 14);
		assert_int_equal(r.n_examined, N - 24 * 14);
		/* A calibrated p1..p99 band alone lets 2% through; widened
		 * 1.5x it should let through far fewer. */
		assert_true(r.n_flagged * 100 < r.n_examined);
		bsp_anomaly_result_release(&r);
		bsp_fc_model_free(m);
	}
	free(y);
}

static void test_spike(void **state)
{
	double *y = malloc(N * sizeof(*y));
	struct bsp_anomaly_result r;
	struct bsp_fc_model *m = NULL;
	const struct bsp_anomaly_period *p = NULL;
	size_t s0 = at(40, 14), s1 = at(40, 16);

	(void)state;
	assert_non_null(y);
	seasonal(y, N, 42);
	for (size_t i = s0; i <= s1; i++)
		y[i] = 5 * y[i]; /* a one-off burst: five times the usual */
	train_detect(y, N, &r, &m);
	for (size_t k = 0; k < r.n_periods; k++)
		if (r.periods[k].first <= s1 && r.periods[k].last >= s0)
			p = &r.periods[k];
	assert_non_null(p);
	assert_int_equal(p->first, s0);
	assert_int_equal(p->last, s1);
	assert_int_equal(p->n_points, 3);
	assert_int_equal(p->direction, 1);
	assert_false(p->shift);
	assert_true(p->start == T0 + (bsp_time)s0 * BSP_HOUR);
	assert_true(p->end == T0 + (bsp_time)(s1 + 1) * BSP_HOUR);
	/* the peak is one of the spike's points, far above its band */
	assert_true(p->observed > 4 * p->expected);
	assert_true(p->ratio > 2);
	assert_true(p->severity > 1);
	assert_true(flags_outside(&r, s0, s1) * 100 < r.n_examined);
	/* No echo: the hours a day and a week later are forecast from a
	 * history without the spike, so the seasonal members do not expect
	 * it again and normal values there are not called a dip. */
	for (size_t i = s0; i <= s1; i++) {
		assert_int_equal(r.flag[i + 24], 0);
		assert_int_equal(r.flag[i + 24 * 7], 0);
	}
	/* the spike is left out of training, nothing of a level shift */
	assert_true(r.n_excluded >= 3);
	bsp_anomaly_result_release(&r);
	bsp_fc_model_free(m);
	free(y);
}

static void test_dip(void **state)
{
	double *y = malloc(N * sizeof(*y));
	struct bsp_anomaly_result r;
	struct bsp_fc_model *m = NULL;
	const struct bsp_anomaly_period *p = NULL;
	size_t s0 = at(30, 11), s1 = at(30, 14); /* a Wednesday, midday */

	(void)state;
	assert_non_null(y);
	seasonal(y, N, 4242);
	for (size_t i = s0; i <= s1; i++)
		y[i] = 2; /* the workload stopped for four hours */
	train_detect(y, N, &r, &m);
	for (size_t k = 0; k < r.n_periods; k++)
		if (r.periods[k].first <= s1 && r.periods[k].last >= s0)
			p = &r.periods[k];
	assert_non_null(p);
	assert_int_equal(p->first, s0);
	assert_int_equal(p->last, s1);
	assert_int_equal(p->direction, -1);
	assert_true(p->ratio < 0.5);
	assert_true(flags_outside(&r, s0, s1) * 100 < r.n_examined);
	bsp_anomaly_result_release(&r);
	bsp_fc_model_free(m);
	free(y);
}

static void test_level_shift(void **state)
{
	double *y = malloc(N * sizeof(*y));
	struct bsp_anomaly_result r;
	struct bsp_fc_model *m = NULL;
	size_t shift = at(35, 0), late = 0;

	(void)state;
	assert_non_null(y);
	seasonal(y, N, 99);
	for (size_t i = shift; i < N; i++)
		y[i] *= 2; /* a bigger workload from day 35 on, for good */
	train_detect(y, N, &r, &m);
	/* the change is reported, as a shift */
	assert_true(r.n_periods >= 1);
	int found = 0;
	for (size_t k = 0; k < r.n_periods; k++)
		if (r.periods[k].first >= shift &&
		    r.periods[k].first < shift + 24 && r.periods[k].shift)
			found = 1;
	assert_true(found);
	/* the new level is history, not an anomaly: a week after the
	 * change hardly anything is flagged, and training keeps it */
	for (size_t i = shift + 24 * 7; i < N; i++)
		late += (r.flag[i] & (BSP_ANOM_ABOVE | BSP_ANOM_BELOW)) != 0;
	assert_true(late * 100 < N - shift - 24 * 7);
	assert_true(r.n_excluded * 10 < N - shift);
	bsp_anomaly_result_release(&r);
	bsp_fc_model_free(m);
	free(y);
}

/* Flat series: min_rel decides what is worth a flag, and a history of
 * zeros makes any use an anomaly without a meaningful ratio. */
static void test_flat(void **state)
{
	double *y = malloc(N * sizeof(*y));
	struct bsp_anomaly_result r;
	struct bsp_fc_model *m = NULL;
	size_t small = at(30, 10), big = at(40, 10);

	(void)state;
	assert_non_null(y);
	for (size_t i = 0; i < N; i++)
		y[i] = 5;
	y[small] = 5.1; /* 2%: below the 5% floor */
	y[big] = 7;	/* 40% */
	train_detect(y, N, &r, &m);
	assert_int_equal(r.n_flagged, 1);
	assert_int_equal(r.n_periods, 1);
	assert_int_equal(r.periods[0].first, big);
	assert_true(fabs(r.periods[0].ratio - 7 / r.periods[0].band_hi) <
		    1e-12);
	/* the band is the floor: 5% of the history's mean (just above 5) */
	assert_true(r.periods[0].band_hi < 5 * 1.05 * 1.001);
	bsp_anomaly_result_release(&r);
	bsp_fc_model_free(m);

	for (size_t i = 0; i < N; i++)
		y[i] = 0;
	y[big] = 3;
	train_detect(y, N, &r, &m);
	assert_int_equal(r.n_flagged, 1);
	assert_int_equal(r.periods[0].first, big);
	assert_true(isnan(r.periods[0].ratio));
	assert_true(isnan(r.periods[0].severity));
	bsp_anomaly_result_release(&r);
	bsp_fc_model_free(m);
	free(y);
}

static void test_bad_options(void **state)
{
	double *y = malloc(N * sizeof(*y));
	struct bsp_fc_series s = {y, N, T0, BSP_HOUR};
	struct bsp_fc_series s5 = {y, N, T0, 5 * BSP_MINUTE};
	struct bsp_anomaly_options o;
	struct bsp_anomaly_result r;
	struct bsp_fc_model *m = NULL;
	struct bsp_error err = {0};

	(void)state;
	assert_non_null(y);
	seasonal(y, N, 5);
	assert_int_equal(bsp_fc_train(&s, NULL, &m, &err), BSP_OK);
	bsp_anomaly_options_init(&o);
	o.level = 0.3;
	assert_int_equal(bsp_anomaly_detect(&s, m, &o, &r, &err), BSP_EINVAL);
	assert_non_null(strstr(err.msg, "level"));
	bsp_anomaly_options_init(&o);
	o.factor = 0.5;
	assert_int_equal(bsp_anomaly_detect(&s, m, &o, &r, &err), BSP_EINVAL);
	assert_non_null(strstr(err.msg, "factor"));
	bsp_anomaly_options_init(&o);
	o.block = 90 * BSP_MINUTE;
	assert_int_equal(bsp_anomaly_detect(&s, m, &o, &r, &err), BSP_EINVAL);
	assert_non_null(strstr(err.msg, "block"));
	assert_int_equal(bsp_anomaly_detect(&s5, m, NULL, &r, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "step"));
	/* too short to examine: an empty result, not an error */
	s.n = 24 * 5;
	assert_int_equal(bsp_anomaly_detect(&s, m, NULL, &r, &err), BSP_OK);
	assert_int_equal(r.n_examined, 0);
	assert_int_equal(r.n_periods, 0);
	bsp_anomaly_result_release(&r);
	bsp_fc_model_free(m);
	free(y);
}

/* ---- through the store: training leaves the spike out ------------------ */

static void put_series(struct bsp_store *st, const char *entity,
		       const double *y, size_t n)
{
	struct bsp_batch *b = bsp_batch_new();
	struct bsp_error err = {0};
	int k;

	assert_non_null(b);
	k = bsp_batch_series(b, entity, "cpu_usage", "", "MHz");
	assert_true(k >= 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
		    bsp_batch_sample(b, k, T0 + (bsp_time)i * BSP_HOUR, y[i]),
		    0);
	if (bsp_store_write(st, b, NULL, &err))
		fail_msg("write: %s", err.msg);
	bsp_batch_free(b);
}

/* Mean p95 and p99 over a day forecast by the entity's stored model from
 * the clean history. */
static void stored_quantiles(struct bsp_store *st, const char *entity,
			     const double *clean, double q[2])
{
	static const double levels[2] = {0.95, 0.99};
	struct bsp_fc_series s = {clean, N, T0, BSP_HOUR};
	struct bsp_profile_models *pm =
	    bsp_profile_models_load(st, entity, NULL, BSP_TIME_NONE);
	struct bsp_fc_model *m = bsp_profile_models_get(pm, "cpu_usage");
	struct bsp_fc_output out;
	struct bsp_error err = {0};

	assert_non_null(m);
	if (bsp_fc_predict(m, &s, 24, levels, 2, &out, &err))
		fail_msg("predict: %s", err.msg);
	q[0] = q[1] = 0;
	for (size_t h = 0; h < 24; h++) {
		q[0] += bsp_fc_q(&out, 0, h) / 24;
		q[1] += bsp_fc_q(&out, 1, h) / 24;
	}
	bsp_fc_output_release(&out);
	bsp_fc_model_free(m);
	bsp_profile_models_free(pm);
}

static long long excluded_points(struct bsp_store *st, const char *entity)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	const char *key = "\"excluded_points\":";
	long long v = -1;

	if (bsp_store_doc_get(st, "model", entity, 0, &d, &err))
		fail_msg("doc: %s", err.msg);
	const char *p = strstr(d.body, key);
	if (p)
		v = strtoll(p + strlen(key), NULL, 10);
	bsp_doc_release(&d);
	return v;
}

static void test_training_exclusion(void **state)
{
	double *clean = malloc(N * sizeof(double));
	double *spiky = malloc(N * sizeof(double));
	struct bsp_profile_options opt;
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	char path[128];
	double qc[2], qs[2], qk[2];
	size_t s0 = at(DAYS - 5, 13);

	(void)state;
	assert_non_null(clean);
	assert_non_null(spiky);
	seasonal(clean, N, 2024);
	memcpy(spiky, clean, N * sizeof(double));
	for (size_t i = s0; i < s0 + 3; i++)
		spiky[i] = 6 * clean[i];
	test_path(path, sizeof(path), "anomaly.db");
	if (bsp_store_open(&st, path, BSP_OPEN_CREATE, &err))
		fail_msg("open: %s", err.msg);
	put_series(st, "clean", clean, N);
	put_series(st, "spiky", spiky, N);
	put_series(st, "kept", spiky, N);

	bsp_profile_options_init(&opt);
	opt.no_behaviour = 1;
	if (bsp_profile_train(st, "clean", &opt, NULL, NULL, &err) ||
	    bsp_profile_train(st, "spiky", &opt, NULL, NULL, &err))
		fail_msg("train: %s", err.msg);
	opt.keep_anomalies = 1;
	if (bsp_profile_train(st, "kept", &opt, NULL, NULL, &err))
		fail_msg("train: %s", err.msg);

	/* the model document says what was left out */
	long long ex = excluded_points(st, "spiky");
	assert_true(ex >= 3 && ex * 100 < N);
	assert_int_equal(excluded_points(st, "kept"), 0);

	stored_quantiles(st, "clean", clean, qc);
	stored_quantiles(st, "spiky", clean, qs);
	stored_quantiles(st, "kept", clean, qk);
	print_message("mean p95/p99: clean %.1f/%.1f, spike left out "
		      "%.1f/%.1f, spike kept %.1f/%.1f\n",
		      qc[0], qc[1], qs[0], qs[1], qk[0], qk[1]);
	/* trained without the spike: within 5% of never having seen it */
	assert_true(fabs(qs[0] - qc[0]) < 0.05 * qc[0]);
	assert_true(fabs(qs[1] - qc[1]) < 0.05 * qc[1]);
	/* trained with it: the upper quantiles are inflated */
	assert_true(qk[1] > 1.1 * qc[1]);

	/* the command's document: the spike is the period it lists */
	char *json = NULL;
	int64_t v = 0;
	opt.keep_anomalies = 0;
	if (bsp_anomaly_entity(st, "kept", &opt, NULL, BSP_TIME_NONE,
			       BSP_TIME_NONE, 1, &json, &v, &err))
		fail_msg("anomalies: %s", err.msg);
	assert_int_equal(v, 1);
	assert_non_null(strstr(json, "\"format\":\"bespoke-anomalies\""));
	assert_non_null(strstr(json, "\"start\":\"2013-08-21T13:00:00Z\""));
	assert_non_null(strstr(json, "cpu_usage 2013-08-21 13:00\u201316:00"));
	/* a model trained on the spike would hide it: not used */
	assert_non_null(strstr(json, "\"source\":\"fitted on the window\""));
	free(json);
	if (bsp_anomaly_entity(st, "spiky", &opt, NULL, BSP_TIME_NONE,
			       BSP_TIME_NONE, 0, &json, &v, &err))
		fail_msg("anomalies: %s", err.msg);
	assert_non_null(strstr(json, "\"start\":\"2013-08-21T13:00:00Z\""));
	assert_non_null(strstr(json, "\"source\":\"stored\""));
	free(json);
	struct bsp_doc d = {0};
	assert_int_equal(
	    bsp_store_doc_get(st, "anomalies", "kept", 0, &d, &err), BSP_OK);
	assert_int_equal(d.version, 1);
	bsp_doc_release(&d);

	bsp_store_close(st);
	free(clean);
	free(spiky);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_series),
	    cmocka_unit_test(test_spike),
	    cmocka_unit_test(test_dip),
	    cmocka_unit_test(test_level_shift),
	    cmocka_unit_test(test_flat),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_training_exclusion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
