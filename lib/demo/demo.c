/*
 * The demo fleet (include/bespoke/demo.h): option checks, the plan of one
 * user, and the batch it is written into.
 *
 * User i of a fleet takes archetype i mod N (round-robin, so every fleet of
 * N or more users has every archetype and a user keeps its archetype when
 * the fleet grows) and its own seed, mixed from the fleet seed and i. All
 * of a user's randomness flows from that seed through three streams (plan,
 * series, events), so users can be generated in any order, one per
 * transaction or in parallel, and always come out the same.
 *
 * The plan fixes what the series and the events must agree on: the size,
 * the time zone, each local day's scale, start shift and day off, and the
 * jobs with their start and end. See demo_int.h for the model.
 */
#include "demo_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#define DEMO_DEFAULT_USERS 24
#define DEMO_DEFAULT_START ((bsp_time)1767571200000) /* 2026-01-05, Monday */
#define DEMO_DEFAULT_DURATION (28 * BSP_DAY)
#define DEMO_DEFAULT_STEP (5 * BSP_MINUTE)
#define DEMO_MAX_USERS 1000000
#define DEMO_MAX_DURATION (3660 * BSP_DAY) /* ten years */
#define DEMO_MAX_SAMPLES 10000000          /* per series */
#define DEMO_MAX_CRON 8                    /* cron entries per job */

/*
 * Time zones the fleet's users live in, weighted towards where cloud
 * workstation fleets are: the Americas, Europe, India, East Asia.
 */
static const struct {
	double hours;
	uint16_t weight;
} demo_zones[] = {
	{-8, 3}, {-7, 1}, {-6, 2}, {-5, 4}, {-3, 1}, {0, 3}, {1, 5},
	{2, 2},  {3, 1},  {5.5, 2}, {8, 2}, {9, 1},  {10, 1},
};

/* ---- options ----------------------------------------------------------- */

static bsp_err demo_resolve(const struct bsp_demo_options *in, size_t index,
			    struct bsp_demo_options *o, struct bsp_error *err)
{
	static const struct bsp_demo_options none;

	*o = in ? *in : none;
	if (!o->users)
		o->users = DEMO_DEFAULT_USERS;
	if (!o->start)
		o->start = DEMO_DEFAULT_START;
	if (!o->duration)
		o->duration = DEMO_DEFAULT_DURATION;
	if (!o->step)
		o->step = DEMO_DEFAULT_STEP;
	if (!o->seed)
		o->seed = 1;

	if (o->users > DEMO_MAX_USERS)
		return bsp_error_set(err, BSP_EINVAL,
				     "users: %zu is more than %d", o->users,
				     DEMO_MAX_USERS);
	if (index >= o->users)
		return bsp_error_set(err, BSP_EINVAL,
				     "index: %zu is past the fleet of %zu "
				     "users",
				     index, o->users);
	if (o->start < 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "start: %" PRId64 " is before 1970",
				     o->start);
	if (o->duration < 0 || o->duration > DEMO_MAX_DURATION)
		return bsp_error_set(err, BSP_EINVAL,
				     "duration: %" PRId64
				     " ms is not between 1 ms and ten years",
				     o->duration);
	if (o->step < BSP_SECOND || o->step > BSP_DAY)
		return bsp_error_set(err, BSP_EINVAL,
				     "step: %" PRId64
				     " ms is not between 1 s and 1 day",
				     o->step);
	if (o->step > o->duration)
		return bsp_error_set(err, BSP_EINVAL,
				     "step: longer than the duration");
	if (o->duration / o->step > DEMO_MAX_SAMPLES)
		return bsp_error_set(err, BSP_EINVAL,
				     "step: %" PRId64 " samples per series is "
				     "more than %d",
				     o->duration / o->step, DEMO_MAX_SAMPLES);
	/* Room for the plan's spare day either side. */
	if (o->start > INT64_MAX - o->duration - 4 * BSP_DAY)
		return bsp_error_set(err, BSP_EINVAL,
				     "start: too far in the future");
	return BSP_OK;
}

/* ---- time helpers ----------------------------------------------------- */

int64_t demo_local_day(const struct demo_user *u, bsp_time t, double *hour)
{
	bsp_time local = t + u->tz;
	bsp_time day = bsp_time_floor(local, BSP_DAY);

	if (hour)
		*hour = (double)(local - day) / (double)BSP_HOUR;
	return day / BSP_DAY;
}

const struct demo_day *demo_day_at(const struct demo_user *u, bsp_time t)
{
	int64_t d = demo_local_day(u, t, NULL) - u->day0;

	if (d < 0 || (uint64_t)d >= u->n_days)
		return NULL;
	return &u->days[d];
}

double demo_profile_at(const float *p, double h)
{
	/* p[k] is the mean over hour k, placed at its centre k + 0.5. */
	double x = h - 0.5, f;
	int k;

	x = fmod(x, 24.0);
	if (x < 0)
		x += 24.0;
	k = (int)x;
	if (k > 23)
		k = 23;
	f = x - k;
	return p[k] * (1.0 - f) + p[(k + 1) % 24] * f;
}

static const float *demo_day_profile(const struct demo_user *u,
				     const struct demo_day *d)
{
	return d->weekend ? u->weekend : u->arch->hourly;
}

double demo_activity(const struct demo_user *u, bsp_time t)
{
	const struct demo_day *d = demo_day_at(u, t);
	double hour, v;

	if (!d)
		return 0;
	demo_local_day(u, t, &hour);
	v = demo_profile_at(demo_day_profile(u, d), hour - d->shift_h) *
	    d->scale;
	return v < 0 ? 0 : v > 1.5 ? 1.5 : v;
}

/* A local hour drawn with density proportional to the day's profile
 * (rejection sampling: the profiles are small and smooth), or -1. */
double demo_draw_hour(struct demo_rng *r, const struct demo_user *u,
		      const struct demo_day *d)
{
	const float *p = demo_day_profile(u, d);

	if (u->profile_max <= 0)
		return -1;
	for (int tries = 0; tries < 1000; tries++) {
		double h = demo_rng_range(r, 0, 24);
		if (demo_rng_uniform(r) * u->profile_max <=
		    demo_profile_at(p, h - d->shift_h))
			return h;
	}
	return -1;
}

/* UTC time of local hour h on plan day di. */
static bsp_time demo_day_time(const struct demo_user *u, size_t di, double h)
{
	return ((u->day0 + (int64_t)di) * BSP_DAY) +
	       (bsp_time)(h * (double)BSP_HOUR) - u->tz;
}

/* ---- the plan ---------------------------------------------------------- */

static double demo_clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static unsigned demo_draw_pow2(struct demo_rng *r, unsigned lo, unsigned hi)
{
	unsigned n = 0, v;

	for (v = lo; v < hi; v *= 2)
		n++;
	return lo << demo_rng_below(r, n + 1);
}

static int demo_add_run(struct demo_user *u, const struct demo_job *job,
			bsp_time t0, double minutes, double level)
{
	bsp_time t1;

	if (minutes < 0.5)
		minutes = 0.5;
	t1 = t0 + (bsp_time)(minutes * (double)BSP_MINUTE);
	if (t1 <= u->start || t0 >= u->end)
		return 0; /* outside the window */
	if (BSP_GROW(u->runs, u->cap_runs, u->n_runs + 1) < 0)
		return -1;
	u->runs[u->n_runs].t0 = t0;
	u->runs[u->n_runs].t1 = t1;
	u->runs[u->n_runs].job = job;
	u->runs[u->n_runs].level = level;
	u->n_runs++;
	return 0;
}

static int demo_run_cmp(const void *pa, const void *pb)
{
	const struct demo_run *a = pa, *b = pb;

	/* A total order, so qsort's instability cannot change the output. */
	if (a->t0 != b->t0)
		return a->t0 < b->t0 ? -1 : 1;
	if (a->t1 != b->t1)
		return a->t1 < b->t1 ? -1 : 1;
	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	return (a->job > b->job) - (a->job < b->job);
}

/* Log-uniform between the job's bounds: short runs are the common ones. */
static double demo_job_len(struct demo_rng *r, const struct demo_job *job)
{
	return exp(demo_rng_range(r, log(job->min_len), log(job->max_len)));
}

/* One job spec's runs over the whole plan. */
static int demo_plan_job(struct demo_user *u, struct demo_rng *r,
			 const struct demo_job *job)
{
	double cron_h[DEMO_MAX_CRON], cron_len[DEMO_MAX_CRON];
	size_t n_cron = 0;

	if (job->kind == DEMO_JOB_CRON) {
		/* A crontab is written once: fixed minutes, typical lengths. */
		n_cron = (size_t)job->per_day;
		if (n_cron > DEMO_MAX_CRON)
			n_cron = DEMO_MAX_CRON;
		for (size_t i = 0; i < n_cron; i++) {
			cron_h[i] = floor(demo_rng_range(r, job->from_h,
							 job->to_h) * 60) / 60;
			cron_len[i] = demo_rng_range(r, job->min_len,
						     job->max_len);
		}
	}
	for (size_t di = 0; di < u->n_days; di++) {
		const struct demo_day *d = &u->days[di];
		double w = job->days[d->dow];
		uint64_t n;

		if (w <= 0 || (job->by_hand && d->off))
			continue;
		switch (job->kind) {
		case DEMO_JOB_CRON:
			if (w < 1 && demo_rng_uniform(r) >= w)
				break;
			for (size_t i = 0; i < n_cron; i++) {
				/* cron fires on the minute; the job's own
				 * start-up adds a few seconds */
				bsp_time t0 = demo_day_time(u, di, cron_h[i]);
				double len, level;

				t0 += (bsp_time)demo_rng_below(r, 30000);
				len = cron_len[i] * demo_rng_lognormal(r, 0.15);
				level = demo_rng_lognormal(r, 0.1);
				if (demo_add_run(u, job, t0, len, level) < 0)
					return -1;
			}
			break;
		case DEMO_JOB_WINDOW:
			/* Planned work is regular: 0.6 a day is a run on 60%
			 * of the days, 1 is every day, not a Poisson count. */
			n = (uint64_t)(job->per_day * w);
			n += demo_rng_uniform(r) < job->per_day * w - (double)n;
			for (uint64_t i = 0; i < n; i++) {
				double h = demo_rng_range(r, job->from_h,
							  job->to_h);
				double len, level;
				bsp_time t0;

				if (job->by_hand)
					h += d->shift_h;
				t0 = demo_day_time(u, di, h);
				len = demo_job_len(r, job);
				level = demo_rng_lognormal(r, 0.1);
				if (demo_add_run(u, job, t0, len, level) < 0)
					return -1;
			}
			break;
		case DEMO_JOB_DIURNAL:
			n = demo_rng_poisson(r, job->per_day * w * d->scale);
			for (uint64_t i = 0; i < n; i++) {
				double h = demo_draw_hour(r, u, d);
				uint64_t burst = 1 + demo_rng_below(
					r, job->burst ? job->burst : 1);
				if (h < 0)
					break;
				for (uint64_t k = 0; k < burst; k++) {
					/* one push's jobs start together */
					bsp_time t0 = demo_day_time(u, di, h);
					double len, level;

					t0 += (bsp_time)demo_rng_below(
						r, 3 * BSP_MINUTE);
					len = demo_job_len(r, job);
					level = demo_rng_lognormal(r, 0.1);
					if (demo_add_run(u, job, t0, len,
							 level) < 0)
						return -1;
				}
			}
			break;
		case DEMO_JOB_NONE:
			break;
		}
	}
	return 0;
}

static bsp_err demo_plan(const struct bsp_demo_options *o, size_t index,
			 struct demo_user *u, struct bsp_error *err)
{
	const struct demo_archetype *a;
	struct demo_rng r;
	uint16_t zw[BSP_ARRAY_LEN(demo_zones)];
	uint64_t st;
	int64_t last_day;
	double user_shift;
	size_t zi, i;

	memset(u, 0, sizeof(*u));
	a = u->arch = demo_archetype_get(index % demo_archetype_count());
	snprintf(u->entity, sizeof(u->entity), "user-%03zu-%s", index, a->name);
	/* Mix the fleet seed and the index so users are unrelated. */
	st = o->seed ^ (0xd1b54a32d192ed03ULL * ((uint64_t)index + 1));
	u->seed = demo_splitmix64(&st);
	demo_rng_seed(&r, u->seed ^ DEMO_STREAM_PLAN);

	u->start = o->start;
	u->end = o->start + o->duration;
	u->step = o->step;

	u->cores = demo_draw_pow2(&r, a->cores_min, a->cores_max);
	u->mem_mib = u->cores * 1024 *
		     demo_draw_pow2(&r, a->gib_per_core_min,
				    a->gib_per_core_max);
	for (i = 0; i < BSP_ARRAY_LEN(demo_zones); i++)
		zw[i] = demo_zones[i].weight;
	zi = demo_rng_pick(&r, zw, BSP_ARRAY_LEN(zw));
	u->tz_hours = demo_zones[zi].hours;
	u->tz = (bsp_time)(u->tz_hours * (double)BSP_HOUR);
	u->cpu_scale = demo_rng_lognormal(&r, 0.3);
	u->mem_scale = demo_rng_lognormal(&r, 0.25);
	u->weekend = a->hourly;
	for (i = 0; i < 24; i++) {
		if (a->weekend[i] > 0)
			u->weekend = a->weekend;
		if (a->hourly[i] > u->profile_max)
			u->profile_max = a->hourly[i];
		if (a->weekend[i] > u->profile_max)
			u->profile_max = a->weekend[i];
	}

	/* One spare local day either side, for runs that cross midnight
	 * into the window (a training run started the evening before). */
	u->day0 = demo_local_day(u, u->start, NULL) - 1;
	last_day = demo_local_day(u, u->end - 1, NULL) + 1;
	u->n_days = (size_t)(last_day - u->day0 + 1);
	u->days = calloc(u->n_days, sizeof(*u->days));
	if (!u->days)
		return bsp_error_set(err, BSP_ENOMEM, "demo: out of memory");
	/* Early birds and late risers, within two deviations: a desk worker
	 * who starts at noon is another archetype. */
	user_shift = a->shift_user_h * demo_clampd(demo_rng_normal(&r), -2, 2);
	for (i = 0; i < u->n_days; i++) {
		struct demo_day *d = &u->days[i];
		int64_t day = u->day0 + (int64_t)i;

		/* 1970-01-01 was a Thursday. */
		d->dow = (int)(((day + 3) % 7 + 7) % 7);
		d->weekend = d->dow >= 5;
		d->off = !d->weekend && demo_rng_uniform(&r) < a->holiday_rate;
		d->scale = a->weekday[d->off ? 5 : d->dow] *
			   demo_rng_lognormal(&r, a->day_sigma);
		d->weekend |= d->off;
		d->shift_h = user_shift + a->shift_day_h * demo_rng_normal(&r);
	}

	for (i = 0; i < DEMO_MAX_JOBS; i++)
		if (a->jobs[i].kind != DEMO_JOB_NONE &&
		    demo_plan_job(u, &r, &a->jobs[i]) < 0)
			return bsp_error_set(err, BSP_ENOMEM,
					     "demo: out of memory");
	if (u->n_runs)
		qsort(u->runs, u->n_runs, sizeof(*u->runs), demo_run_cmp);
	return BSP_OK;
}

static void demo_user_release(struct demo_user *u)
{
	free(u->days);
	free(u->runs);
	u->days = NULL;
	u->runs = NULL;
}

/* ---- the batch --------------------------------------------------------- */

static bsp_err demo_attrs(const struct demo_user *u, struct bsp_batch *b,
			  struct bsp_error *err)
{
	char seed[24], cores[16], mem[16], tz[16];
	const char *const kv[][2] = {
		{"archetype", u->arch->name},
		{"seed", seed},
		{"provisioned_cores", cores},
		{"provisioned_mem_mib", mem},
		{"tz_offset_hours", tz},
		{"persona_hint", u->arch->persona},
	};

	snprintf(seed, sizeof(seed), "%" PRIu64, u->seed);
	snprintf(cores, sizeof(cores), "%u", u->cores);
	snprintf(mem, sizeof(mem), "%u", u->mem_mib);
	snprintf(tz, sizeof(tz), "%g", u->tz_hours);
	for (size_t i = 0; i < BSP_ARRAY_LEN(kv); i++)
		if (bsp_batch_attr(b, u->entity, kv[i][0], kv[i][1]) < 0)
			return bsp_error_set(err, BSP_ENOMEM,
					     "demo: out of memory");
	return BSP_OK;
}

bsp_err bsp_demo_user(const struct bsp_demo_options *opt, size_t index,
		      struct bsp_batch *batch, struct bsp_error *err)
{
	struct bsp_demo_options o;
	struct demo_chain chain;
	struct demo_user u;
	bsp_err result;

	memset(&u, 0, sizeof(u));
	if (!batch)
		return bsp_error_set(err, BSP_EINVAL, "batch: none given");
	result = demo_resolve(opt, index, &o, err);
	if (result)
		return result;
	result = demo_plan(&o, index, &u, err);
	if (result)
		goto out;
	result = demo_chain_parse(u.arch->chain, &chain, err);
	if (result)
		goto out;
	result = demo_attrs(&u, batch, err);
	if (result)
		goto out;
	result = demo_series(&u, batch, err);
	if (result)
		goto out;
	result = demo_events(&u, &chain, batch, err);
out:
	demo_user_release(&u);
	return result;
}
