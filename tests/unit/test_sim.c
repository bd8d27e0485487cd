/*
 * The allocation simulator against known answers: the VPA percentile of a
 * histogram computed by hand, Autopilot on a constant, a reactive
 * trajectory traced by hand, the provisioned size following its capacity
 * series, constant usage giving an exactly constant allocation from every
 * policy, scoring of a tiny case, bespoke's calibrated violation rate on
 * noise of known distribution, and no look-ahead: rewriting the samples
 * after a decision never changes that decision, for every policy.
 */
#include <math.h>

#include "testutil.h"

#include "bespoke/sim.h"
#include "sim/sim_int.h"

#define T0	 1372636800000LL /* 2013-07-01T00:00:00Z */
#define FIVE_MIN (5 * BSP_MINUTE)

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

/* A trace of n samples 5 minutes apart from T0, values from fn. */
struct fixture {
	bsp_time *ts;
	double *v;
	size_t n;
	bsp_time *cts;
	double *cv;
	size_t cn;
};

static void fixture_new(struct fixture *f, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->ts = calloc(n, sizeof(*f->ts));
	f->v = calloc(n, sizeof(*f->v));
	assert_non_null(f->ts);
	assert_non_null(f->v);
	f->n = n;
	for (size_t i = 0; i < n; i++)
		f->ts[i] = T0 + (bsp_time)i * FIVE_MIN;
}

static void fixture_free(struct fixture *f)
{
	free(f->ts);
	free(f->v);
	free(f->cts);
	free(f->cv);
}

static struct sim_trace trace_of(const struct fixture *f)
{
	struct sim_trace t = {f->ts, f->v, f->n, f->cts, f->cv, f->cn};
	return t;
}

static struct sim_ctx ctx_of(int resource, bsp_time from, bsp_time start)
{
	struct sim_ctx c = {0};
	c.resource = resource;
	c.step = BSP_HOUR;
	c.from = from;
	c.start = start;
	c.unit_per_vcpu = 1; /* cores */
	c.unit_bytes = 1;    /* bytes */
	return c;
}

/* Runs a policy over one trace; bespoke calibrates on that trace alone
 * (a fleet of one) unless the context brings a calibration. */
static void run(int policy, const struct sim_ctx *c, const struct fixture *f,
		size_t n_steps, double *alloc)
{
	struct sim_trace t = trace_of(f);
	struct bsp_error err = {0};
	struct sim_calib cal = {0};
	struct sim_ctx cc = *c;
	bsp_time until = c->from + (bsp_time)n_steps * c->step;

	if (policy == BSP_SIM_BESPOKE && !cc.calib) {
		assert_int_equal(sim_calib_init(&cal, c, until), BSP_OK);
		assert_int_equal(sim_calib_add(&cal, c, &t, until), BSP_OK);
		sim_calib_finish(&cal, c);
		cc.calib = &cal;
	}
	if (sim_trace_run(sim_policies[policy], &cc, &t, n_steps, alloc, &err))
		fail_msg("%s: %s", sim_policies[policy]->name, err.msg);
	sim_calib_release(&cal);
}

/* 100 CPU samples 0.1 .. 10 cores, a millisecond apart (so the 24 h decay
 * changes their weights by under 1e-8), all before the decision. Buckets
 * start at 0.01 * (1.05^i - 1) / 0.05: 8.79 (i = 78) and 9.24 (i = 79), so
 * bucket 78 holds 8.8 .. 9.2 and the 90th of 100 equal weights falls in
 * it: P90 = 9.24 (its end), target = 9.24 x 1.15. */
static void test_vpa_known_histogram(void **state)
{
	struct fixture f;
	struct sim_ctx c = ctx_of(BSP_SIM_CPU, T0 + BSP_HOUR, T0);
	double alloc[1], want;

	(void)state;
	fixture_new(&f, 100);
	for (size_t i = 0; i < 100; i++) {
		f.ts[i] = T0 + (bsp_time)i;
		f.v[i] = 0.1 * (double)(i + 1);
	}
	run(BSP_SIM_VPA, &c, &f, 1, alloc);
	want = 0.01 * (pow(1.05, 79) - 1) / 0.05 * 1.15;
	assert_true(fabs(alloc[0] - want) < 1e-9);
	assert_true(fabs(want - 10.6255) < 1e-3); /* 9.2396 x 1.15 */
	fixture_free(&f);
}

/* VPA memory: one peak per day over 8 days; three days of constant 2 GB
 * then a day at 2.25 GB (under the request in force, so no OOM): the
 * peaks are 2, 2, 2, 2.25 GB with weights halving per day back from the
 * newest, 1/8 + 1/4 + 1/2 of 15/8 below 2.25 GB = 7/15 < 0.9, so P90 is
 * the end of 2.25 GB's bucket, x 1.15. */
static void test_vpa_memory_peaks(void **state)
{
	struct fixture f;
	size_t n = 4 * 288;
	struct sim_ctx c = ctx_of(BSP_SIM_MEM, T0 + 4 * BSP_DAY, T0);
	struct sim_hist h;
	double alloc[1], want;

	(void)state;
	fixture_new(&f, n);
	for (size_t i = 0; i < n; i++)
		f.v[i] = i < 3 * 288 ? 2e9 : 2.25e9;
	run(BSP_SIM_VPA, &c, &f, 1, alloc);
	assert_int_equal(sim_hist_init(&h, 1e7, 1.05, 1e12, BSP_DAY), BSP_OK);
	want = sim_hist_start(&h, sim_hist_bucket(&h, 2.25e9) + 1) * 1.15;
	assert_true(fabs(alloc[0] - want) < 1e-3);
	/* and below the 2.25 GB bucket it would be 2 GB's */
	assert_true(want > 2.25e9 * 1.15 && want < 2.25e9 * 1.06 * 1.15);
	sim_hist_release(&h);
	fixture_free(&f);
}

/* An OOM kill: memory steady at 2 GB for three days, then one sample of
 * 2.5 GB, above the request in force (2 GB's bucket end x 1.15). VPA
 * records max(2.5 GB + 100 MiB, 2.5 GB x 1.2) = 3 GB as the interval's
 * peak, which holds most of the decayed weight (intervals end at 1, 2, 3
 * and 4 days: weights 2, 4, 8, 16), so the next target is 3 GB's bucket
 * end x 1.15, not 2.5 GB's. */
static void test_vpa_oom_bump(void **state)
{
	struct fixture f;
	size_t n = 4 * 288, spike = 3 * 288 + 24; /* day 3, 02:00 */
	struct sim_ctx c = ctx_of(BSP_SIM_MEM, T0 + 3 * BSP_DAY, T0);
	struct sim_hist h;
	double alloc[6], before, after;

	(void)state;
	fixture_new(&f, n);
	for (size_t i = 0; i < n; i++)
		f.v[i] = i == spike ? 2.5e9 : 2e9;
	run(BSP_SIM_VPA, &c, &f, 6, alloc);
	assert_int_equal(sim_hist_init(&h, 1e7, 1.05, 1e12, BSP_DAY), BSP_OK);
	before = sim_hist_start(&h, sim_hist_bucket(&h, 2e9) + 1) * 1.15;
	after = sim_hist_start(&h, sim_hist_bucket(&h, 3e9) + 1) * 1.15;
	assert_true(before < 2.5e9);
	for (size_t k = 0; k < 3; k++) /* 00:00, 01:00, 02:00 */
		assert_true(fabs(alloc[k] - before) < 1e-3);
	for (size_t k = 3; k < 6; k++)
		assert_true(fabs(alloc[k] - after) < 1e-3);
	sim_hist_release(&h);
	fixture_free(&f);
}

/* Every policy that should give a constant gives exactly one. */
static void test_constant(void **state)
{
	size_t days = 21, n = days * 288, steps = 7 * 24;
	bsp_time from = T0 + 14 * BSP_DAY;
	double *alloc = calloc(steps, sizeof(*alloc));
	struct fixture f;

	(void)state;
	fixture_new(&f, n);
	for (size_t i = 0; i < n; i++)
		f.v[i] = 1.5; /* cores */
	f.cn = 1;
	f.cts = calloc(1, sizeof(*f.cts));
	f.cv = calloc(1, sizeof(*f.cv));
	f.cts[0] = T0;
	f.cv[0] = 4;
	for (int p = 0; p < BSP_SIM_N_POLICIES; p++) {
		for (int r = 0; r < BSP_SIM_N_RESOURCES; r++) {
			struct sim_ctx c = ctx_of(r, from, T0);
			run(p, &c, &f, steps, alloc);
			for (size_t k = 1; k < steps; k++)
				if (alloc[k] != alloc[0])
					fail_msg("%s/%d: step %zu: %.17g != "
						 "%.17g",
						 sim_policies[p]->name, r, k,
						 alloc[k], alloc[0]);
			assert_true(alloc[0] >= 1.5);
			if (p == BSP_SIM_BESPOKE)
				assert_true(fabs(alloc[0] - 1.5) < 1e-9);
			if (p == BSP_SIM_PROVISIONED)
				assert_true(alloc[0] == 4);
		}
	}
	/* Autopilot: the end of 1.5's bucket + 10%. */
	{
		struct sim_ctx c = ctx_of(BSP_SIM_CPU, from, T0);
		struct sim_hist h;
		run(BSP_SIM_AUTOPILOT, &c, &f, steps, alloc);
		assert_int_equal(sim_hist_init(&h, 0.01, 1.05, 1000, 1), 0);
		assert_true(
		    fabs(alloc[0] -
			 sim_hist_start(&h, sim_hist_bucket(&h, 1.5) + 1) *
			     1.1) < 1e-12);
		sim_hist_release(&h);
	}
	free(alloc);
	fixture_free(&f);
}

/* Reactive, by hand: 1 core for 2 h, then 3 cores. Start at the first
 * step's peak / 0.6 = 1.667; 3 > 0.8 x 1.667 → x1.5 = 2.5; 3 > 2.0 →
 * 3.75; 3 = 0.8 x 3.75 is not above: stays. Then back to 1 core: under
 * 40% of 3.75 (1.5) for 6 steps → x0.75 = 2.8125 on the sixth. */
static void test_reactive(void **state)
{
	size_t n = 20 * 12;
	struct fixture f;
	struct sim_ctx c = ctx_of(BSP_SIM_CPU, T0 + BSP_HOUR, T0);
	double alloc[19];

	(void)state;
	fixture_new(&f, n);
	for (size_t i = 0; i < n; i++)
		f.v[i] = i < 12 ? 1 : i < 6 * 12 ? 3 : 1;
	run(BSP_SIM_REACTIVE, &c, &f, 19, alloc);
	/* alloc[k] decides [T0 + (k+1) h, ...) from the hour before */
	assert_true(fabs(alloc[0] - 1 / 0.6) < 1e-12);
	assert_true(fabs(alloc[1] - 2.5) < 1e-12);
	assert_true(fabs(alloc[2] - 3.75) < 1e-12);
	for (size_t k = 3; k < 5; k++)
		assert_true(alloc[k] == 3.75);
	/* usage falls to 1 from hour 6: decisions at hours 7..12 see it */
	for (size_t k = 5; k < 11; k++)
		assert_true(alloc[k] == 3.75);
	assert_true(fabs(alloc[11] - 2.8125) < 1e-12);
	fixture_free(&f);
}

/* Provisioned follows the last capacity sample strictly before t. */
static void test_provisioned(void **state)
{
	struct fixture f;
	struct sim_ctx c = ctx_of(BSP_SIM_MEM, T0 + BSP_HOUR, T0);
	double alloc[4];

	(void)state;
	fixture_new(&f, 12);
	f.cn = 2;
	f.cts = calloc(2, sizeof(*f.cts));
	f.cv = calloc(2, sizeof(*f.cv));
	f.cts[0] = T0;
	f.cv[0] = 8;
	f.cts[1] = T0 + 2 * BSP_HOUR; /* exactly at a decision: not yet */
	f.cv[1] = 16;
	run(BSP_SIM_PROVISIONED, &c, &f, 4, alloc);
	assert_true(alloc[0] == 8 && alloc[1] == 8);
	assert_true(alloc[2] == 16 && alloc[3] == 16);
	fixture_free(&f);
}

/* Scoring, by hand: two hourly steps of 12 samples, 1..12 and again;
 * allocation 10 then 12: 2 violations (11, 12) in the first hour, none in
 * the second; one change; one day whose mean allocation is 11 and whose
 * P95 (type 7 over 1,1,2,2,...,12,12) is 11.85: slack (11 - 11.85) / 11. */
static void test_score(void **state)
{
	struct fixture f;
	struct sim_trace t;
	struct sim_score s;
	double alloc[2] = {10, 12};

	(void)state;
	fixture_new(&f, 24);
	for (size_t i = 0; i < 24; i++)
		f.v[i] = (double)(i % 12 + 1);
	t = trace_of(&f);
	sim_score(&t, T0, BSP_HOUR, 2, alloc, &s);
	assert_int_equal(s.points, 24);
	assert_int_equal(s.violations, 2);
	assert_int_equal(s.changes, 1);
	assert_int_equal(s.days, 1);
	assert_true(fabs(s.slack_sum - (11 - 11.85) / 11) < 1e-12);
	/* the day's mean allocation 11 is under its P95 11.85: clipped to 0 */
	assert_true(s.slack_pos_sum == 0);
	assert_int_equal(s.under_days, 1);
	assert_true(fabs(s.unit_hours - 22) < 1e-12);
	/* an allocation of 13 all day: (13 - 11.85) / 13 either way */
	alloc[0] = alloc[1] = 13;
	sim_score(&t, T0, BSP_HOUR, 2, alloc, &s);
	assert_true(fabs(s.slack_sum - (13 - 11.85) / 13) < 1e-12);
	assert_true(fabs(s.slack_pos_sum - s.slack_sum) < 1e-15);
	assert_int_equal(s.under_days, 0);
	fixture_free(&f);
}

/*
 * The forecast policy on a daily cycle with uniform noise: hourly means are
 * easy to forecast and the 5-minute samples spread +-20% around them. Over
 * three weeks of replay the violation rate must stay near or under the 0.5%
 * target (the conformal bound is marginal and the noise is bounded, so
 * allow up to 1.2%), and the allocation must follow the cycle: its mean
 * stays well under a flat cover of the top, the trough's allocation is
 * under half the crest's, and it never falls by 10% or less at once.
 */
static void test_forecast_calibrated(void **state)
{
	size_t days = 42, n = days * 288, steps = 21 * 24;
	bsp_time from = T0 + 21 * BSP_DAY;
	double *alloc = calloc(steps, sizeof(*alloc)), mean = 0;
	struct fixture f;
	struct rng r = {99};
	struct sim_ctx c = ctx_of(BSP_SIM_CPU, from, T0);
	struct sim_trace t;
	struct sim_score s;
	double rate;

	(void)state;
	fixture_new(&f, n);
	for (size_t i = 0; i < n; i++) {
		double level = 2 + sin(2 * M_PI * (double)(i % 288) / 288);
		f.v[i] = level * (0.8 + 0.4 * rng_uniform(&r));
	}
	run(BSP_SIM_FORECAST, &c, &f, steps, alloc);
	t = trace_of(&f);
	sim_score(&t, from, BSP_HOUR, steps, alloc, &s);
	rate = (double)s.violations / (double)s.points;
	print_message("forecast violation rate %.3f%%\n", 100 * rate);
	assert_true(rate < 0.012);
	for (size_t k = 0; k < steps; k++)
		mean += alloc[k] / (double)steps;
	assert_true(mean < 3 * 1.2 * 0.9); /* under the flat cover */
	/* hour 6 UTC is the crest (sin = 1), hour 18 the trough */
	for (size_t d = 0; d < 21; d++)
		assert_true(alloc[d * 24 + 18] < 0.5 * alloc[d * 24 + 6]);
	/* hysteresis: it falls only by more than 10% at a time */
	for (size_t k = 1; k < steps; k++)
		assert_true(alloc[k] >= alloc[k - 1] ||
			    alloc[k] < 0.9 * alloc[k - 1]);
	free(alloc);
	fixture_free(&f);
}

/* A burst at 02:00 every day (two samples of 10 over a floor of 1): with
 * the day calibrated as three 8-hour shifts, only the night shift pays for
 * it; with one, every hour does. */
static void test_forecast_shifts(void **state)
{
	size_t days = 35, n = days * 288, steps = 14 * 24;
	bsp_time from = T0 + 21 * BSP_DAY;
	double *alloc = calloc(steps, sizeof(*alloc));
	struct fixture f;

	(void)state;
	fixture_new(&f, n);
	for (size_t i = 0; i < n; i++)
		f.v[i] = i % 288 == 24 || i % 288 == 25 ? 10 : 1;
	for (size_t shifts = 1; shifts <= 3; shifts += 2) {
		struct sim_ctx c = ctx_of(BSP_SIM_CPU, from, T0);
		double night = 0, day = 0;
		c.shifts = shifts;
		run(BSP_SIM_FORECAST, &c, &f, steps, alloc);
		for (size_t d = 0; d < 14; d++) {
			night += alloc[d * 24 + 2] / 14;
			for (size_t h = 8; h < 24; h++)
				day += alloc[d * 24 + h] / (14 * 16);
		}
		print_message("shifts %zu: 02:00 %.3f, 08-24 %.3f\n", shifts,
			      night, day);
		assert_true(night > 8);
		if (shifts == 1)
			assert_true(day > 8);
		else
			assert_true(day < 1.5);
	}
	free(alloc);
	fixture_free(&f);
}

/* A batch job: idle at 1, it runs at 100 (the VM's full size) for 6
 * hours from an hour that changes every day. Covering its unpredictable
 * starts, the forecast policy's margin is a whole run high; added to a running
 * forecast it would ask for about twice the largest sample ever seen.
 * It never allocates above that sample, and covers the runs it knows of. */
static void test_forecast_peak_cap(void **state)
{
	size_t days = 35, n = days * 288, steps = 14 * 24;
	bsp_time from = T0 + 21 * BSP_DAY;
	double *alloc = calloc(steps, sizeof(*alloc));
	size_t start[35], covered = 0, running = 0;
	struct fixture f;
	struct rng r = {7};
	struct sim_ctx c = ctx_of(BSP_SIM_CPU, from, T0);

	(void)state;
	fixture_new(&f, n);
	for (size_t d = 0; d < days; d++)
		start[d] = (size_t)(rng_uniform(&r) * 16);
	for (size_t i = 0; i < n; i++) {
		size_t d = i / 288, h = i % 288 / 12;
		f.v[i] = h >= start[d] && h < start[d] + 6 ? 100 : 1;
	}
	run(BSP_SIM_FORECAST, &c, &f, steps, alloc);
	for (size_t k = 0; k < steps; k++) {
		size_t d = 21 + k / 24, h = k % 24;
		assert_true(alloc[k] <= 100);
		/* the hours of a run after its first */
		if (h > start[d] && h < start[d] + 6) {
			running++;
			covered += alloc[k] >= 100;
		}
	}
	print_message("runs covered after their first hour: %zu of %zu\n",
		      covered, running);
	assert_true(covered == running);
	free(alloc);
	fixture_free(&f);
}

/* The fleet's factor is the conformal quantile of the scores of the days
 * before, to the histogram's resolution and never below the exact one:
 * day d gets 1000 scores k / 500 (k = 1 .. 1000) and the factor of day
 * 14 at a 1% level is the ceil(14001 x 0.99) = 13861st smallest of the
 * 14 days' 14000, the score 990 / 500 (the 990th of a day, 14 x 990 =
 * 13860 < 13861 <= 14 x 991: the 991st, 1.982). Day 0 has no score
 * before it; day 1 sees only day 0's. */
static void test_calib_quantile(void **state)
{
	struct sim_ctx c = ctx_of(BSP_SIM_CPU, T0 + 20 * BSP_DAY, T0);
	struct sim_calib cal;
	double f;

	(void)state;
	c.target = 0.01;
	c.calib_days = 14;
	assert_int_equal(sim_calib_init(&cal, &c, T0 + 20 * BSP_DAY), BSP_OK);
	assert_int_equal(cal.n_days, 20);
	for (size_t d = 0; d < 20; d++)
		for (int k = 1; k <= 1000; k++) {
			double r = k / 500.0;
			cal.count[d * SIM_CALIB_BUCKETS +
				  sim_calib_bucket(r)]++;
			if (r > cal.max[d])
				cal.max[d] = r;
		}
	sim_calib_finish(&cal, &c);
	assert_true(isnan(sim_calib_factor(&cal, T0 + BSP_HOUR)));
	f = sim_calib_factor(&cal, T0 + 14 * BSP_DAY + 5 * BSP_HOUR);
	print_message("day 14 factor %.6f (exact 1.982)\n", f);
	assert_true(f >= 1.982 && f <= 1.982 * (1 + SIM_CALIB_STEP));
	/* day 1: ceil(1001 x 0.99) = 991 of day 0's 1000 */
	f = sim_calib_factor(&cal, T0 + BSP_DAY);
	assert_true(f >= 1.982 && f <= 1.982 * (1 + SIM_CALIB_STEP));
	/* a score of exactly 1 ends its bucket */
	assert_true(sim_calib_edge(sim_calib_bucket(1.0)) == 1.0);
	assert_true(sim_calib_edge(sim_calib_bucket(1.0000001)) > 1.0);
	assert_true(isnan(sim_calib_factor(&cal, T0 + 20 * BSP_DAY)));
	sim_calib_release(&cal);
}

/* bespoke on a job that peaks at 10 from 10:00 to 12:00 every day over a
 * floor of 1, with 5% noise: from the second day on the allocation covers
 * the peaks (no violation at 10:00-12:00), and once the job stops it
 * falls to the floor's size a day after the last peak, not before. */
static void test_bespoke_peak_hold(void **state)
{
	size_t days = 35, n = days * 288, steps = 14 * 24, stop = 28;
	bsp_time from = T0 + 21 * BSP_DAY;
	double *alloc = calloc(steps, sizeof(*alloc));
	struct fixture f;
	struct rng r = {11};
	struct sim_ctx c = ctx_of(BSP_SIM_CPU, from, T0);
	struct sim_trace t;
	struct sim_score s;

	(void)state;
	fixture_new(&f, n);
	for (size_t i = 0; i < n; i++) {
		size_t d = i / 288, h = i % 288 / 12;
		double level = d < stop && h >= 10 && h < 12 ? 10 : 1;
		f.v[i] = level * (0.95 + 0.05 * rng_uniform(&r));
	}
	run(BSP_SIM_BESPOKE, &c, &f, steps, alloc);
	t = trace_of(&f);
	sim_score(&t, from, BSP_HOUR, steps, alloc, &s);
	print_message("peak hold: %llu violations of %llu samples\n",
		      (unsigned long long)s.violations,
		      (unsigned long long)s.points);
	for (size_t k = 0; k < (stop - 21) * 24; k++)
		assert_true(alloc[k] >= 9.5); /* the day's peak, held */
	/* the last peak ends at day 27 12:00; its day ends at day 28
	 * 12:00: held until then, down to about the floor after */
	for (size_t k = (stop - 21) * 24; k < (stop - 21) * 24 + 12; k++)
		assert_true(alloc[k] >= 9.5);
	for (size_t k = (stop - 21) * 24 + 13; k < steps; k++)
		assert_true(alloc[k] < 1.5);
	assert_true(s.violations <= s.points / 100);
	free(alloc);
	fixture_free(&f);
}

/* The factor of one trace calibrated alone, at day `at`. */
static double factor_alone(const struct sim_ctx *c, const struct sim_trace *t,
			   bsp_time until, bsp_time at)
{
	struct sim_calib cal;
	double f;

	assert_int_equal(sim_calib_init(&cal, c, until), BSP_OK);
	assert_int_equal(sim_calib_add(&cal, c, t, until), BSP_OK);
	sim_calib_finish(&cal, c);
	f = sim_calib_factor(&cal, at);
	sim_calib_release(&cal);
	return f;
}

/* Pooling: a steady VM and a bursty one (a sample in 100 jumps to 1.5 -
 * 6 times its floor). The fleet's factor is the quantile of both VMs'
 * scores together: below the bursty VM's own, at least the steady
 * VM's. The bursty VM spends the fleet's budget of violations, and the
 * pooled rate stays near the level. */
static void test_bespoke_pooled(void **state)
{
	size_t days = 35, n = days * 288, steps = 14 * 24;
	bsp_time from = T0 + 21 * BSP_DAY, until = from + 14 * BSP_DAY;
	double *alloc = calloc(steps, sizeof(*alloc)), fb, fs, pooled, rate;
	struct fixture steady, bursty;
	struct rng r = {3};
	struct sim_ctx c = ctx_of(BSP_SIM_CPU, from, T0);
	struct sim_trace ts, tb;
	struct sim_calib cal;
	struct sim_score s1, s2;

	(void)state;
	c.target = 0.002;
	fixture_new(&steady, n);
	fixture_new(&bursty, n);
	for (size_t i = 0; i < n; i++) {
		steady.v[i] = 4 * (0.9 + 0.1 * rng_uniform(&r));
		bursty.v[i] = rng_uniform(&r) < 0.01
				  ? 1.5 + 4.5 * rng_uniform(&r)
				  : 0.5 + 0.5 * rng_uniform(&r);
	}
	ts = trace_of(&steady);
	tb = trace_of(&bursty);
	fb = factor_alone(&c, &tb, until, from);
	fs = factor_alone(&c, &ts, until, from);
	assert_int_equal(sim_calib_init(&cal, &c, until), BSP_OK);
	assert_int_equal(sim_calib_add(&cal, &c, &tb, until), BSP_OK);
	assert_int_equal(sim_calib_add(&cal, &c, &ts, until), BSP_OK);
	sim_calib_finish(&cal, &c);
	pooled = sim_calib_factor(&cal, from);
	print_message("factor bursty %.3f, steady %.3f, pooled %.3f\n", fb, fs,
		      pooled);
	assert_true(pooled < fb);
	assert_true(pooled >= fs);
	c.calib = &cal;
	run(BSP_SIM_BESPOKE, &c, &bursty, steps, alloc);
	sim_score(&tb, from, BSP_HOUR, steps, alloc, &s1);
	run(BSP_SIM_BESPOKE, &c, &steady, steps, alloc);
	sim_score(&ts, from, BSP_HOUR, steps, alloc, &s2);
	rate = (double)(s1.violations + s2.violations) /
	       (double)(s1.points + s2.points);
	print_message("violations: bursty %llu, steady %llu, pooled %.3f%%\n",
		      (unsigned long long)s1.violations,
		      (unsigned long long)s2.violations, 100 * rate);
	assert_true(s1.violations > s2.violations);
	assert_true(rate < 0.01);
	sim_calib_release(&cal);
	free(alloc);
	fixture_free(&steady);
	fixture_free(&bursty);
}

/* Rewriting every sample from a decision time on never changes that
 * decision or an earlier one, for every policy and resource. */
static void test_no_lookahead(void **state)
{
	size_t days = 21, n = days * 288, steps = 7 * 24;
	bsp_time from = T0 + 14 * BSP_DAY;
	double *a = calloc(steps, sizeof(*a)), *b = calloc(steps, sizeof(*b));
	struct fixture f;
	struct rng r = {5};

	(void)state;
	fixture_new(&f, n);
	f.cn = days * 24;
	f.cts = calloc(f.cn, sizeof(*f.cts));
	f.cv = calloc(f.cn, sizeof(*f.cv));
	for (size_t i = 0; i < f.cn; i++) {
		f.cts[i] = T0 + (bsp_time)i * BSP_HOUR;
		f.cv[i] = 8;
	}
	for (size_t cut = 3; cut < steps; cut += 50) {
		bsp_time tc = from + (bsp_time)cut * BSP_HOUR;
		for (int p = 0; p < BSP_SIM_N_POLICIES; p++) {
			for (int res = 0; res < BSP_SIM_N_RESOURCES; res++) {
				struct sim_ctx c = ctx_of(res, from, T0);
				c.unit_bytes = 1073741824; /* GiB */
				r.s = 5;
				for (size_t i = 0; i < n; i++)
					f.v[i] = 1 + 3 * rng_uniform(&r) +
						 sin((double)i / 40);
				for (size_t i = 0; i < f.cn; i++)
					f.cv[i] = 8;
				run(p, &c, &f, steps, a);
				for (size_t i = 0; i < n; i++)
					if (f.ts[i] >= tc)
						f.v[i] = 100 * f.v[i] + 7;
				for (size_t i = 0; i < f.cn; i++)
					if (f.cts[i] >= tc)
						f.cv[i] = 64;
				run(p, &c, &f, steps, b);
				if (memcmp(a, b, (cut + 1) * sizeof(*a)))
					fail_msg(
					    "%s: a decision up to step %zu "
					    "changed",
					    sim_policies[p]->name, cut);
				/* and the rewrite is seen afterwards */
				if (p != BSP_SIM_PROVISIONED &&
				    !memcmp(a, b, steps * sizeof(*a)))
					fail_msg("%s: nothing changed",
						 sim_policies[p]->name);
			}
		}
	}
	free(a);
	free(b);
	fixture_free(&f);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(bsp_sim_policy_find("vpa"), BSP_SIM_VPA);
	assert_int_equal(bsp_sim_policy_find("autopilot"), BSP_SIM_AUTOPILOT);
	assert_int_equal(bsp_sim_policy_find("crystal"), -1);
	assert_int_equal(bsp_sim_resource_find("cpu"), BSP_SIM_CPU);
	assert_int_equal(bsp_sim_resource_find("mem_usage"), BSP_SIM_MEM);
	assert_int_equal(bsp_sim_resource_find("gpu"), -1);
	assert_null(bsp_sim_policy_name(BSP_SIM_N_POLICIES));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vpa_known_histogram),
	    cmocka_unit_test(test_vpa_memory_peaks),
	    cmocka_unit_test(test_vpa_oom_bump),
	    cmocka_unit_test(test_constant),
	    cmocka_unit_test(test_reactive),
	    cmocka_unit_test(test_provisioned),
	    cmocka_unit_test(test_score),
	    cmocka_unit_test(test_forecast_calibrated),
	    cmocka_unit_test(test_forecast_shifts),
	    cmocka_unit_test(test_forecast_peak_cap),
	    cmocka_unit_test(test_calib_quantile),
	    cmocka_unit_test(test_bespoke_peak_hold),
	    cmocka_unit_test(test_bespoke_pooled),
	    cmocka_unit_test(test_no_lookahead),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
