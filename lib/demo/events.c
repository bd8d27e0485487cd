/*
 * A demo user's application launches: events of kind "app", timestamped
 * in milliseconds, numbered 0, 1, 2, ... per user.
 *
 * Launches come in sessions. Interactive sessions start at hours drawn from
 * the archetype's activity profile for that local day (so an office worker
 * starts at nine, a streamer at eight in the evening, and nobody on a day
 * off starts many); every job run that is not quiet opens a session too (a
 * cron job, a CI build, a training run). A session walks the archetype's
 * Markov chain (chain.c) from a start drawn by its kind: the first session
 * of a local day has its own start (mail and chat in the morning), later
 * ones another, job sessions a third. Launches within a session are an
 * exponential gap apart; sessions never overlap, so consecutive launches
 * of a user are always a step of one chain, the structure a sequence model
 * is meant to find.
 */
#include "demo_int.h"

#include <math.h>

#define DEMO_MAX_SESSION 24 /* launches; a walk rarely gets near this */
#define DEMO_MIN_GAP (2 * BSP_SECOND)

struct demo_session {
	bsp_time t;
	enum demo_start kind; /* FIRST is decided later, in time order */
};

struct demo_sessions {
	struct demo_session *v;
	size_t n, cap;
};

static int demo_session_add(struct demo_sessions *s, bsp_time t,
			    enum demo_start kind)
{
	if (BSP_GROW(s->v, s->cap, s->n + 1) < 0)
		return -1;
	s->v[s->n].t = t;
	s->v[s->n].kind = kind;
	s->n++;
	return 0;
}

static int demo_weights_zero(const uint16_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i])
			return 0;
	return 1;
}

static int demo_session_cmp(const void *pa, const void *pb)
{
	const struct demo_session *a = pa, *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return (int)a->kind - (int)b->kind;
}

/* Interactive sessions of every planned day, then one per job run. */
static int demo_plan_sessions(const struct demo_user *u, struct demo_rng *r,
			      struct demo_sessions *s)
{
	const struct demo_archetype *a = u->arch;

	for (size_t di = 0; di < u->n_days && a->sessions_per_day > 0; di++) {
		const struct demo_day *d = &u->days[di];
		double lambda = a->sessions_per_day * d->scale;
		uint64_t n = demo_rng_poisson(r, lambda);

		for (uint64_t i = 0; i < n; i++) {
			double h = demo_draw_hour(r, u, d);
			if (h < 0)
				break;
			bsp_time t = (u->day0 + (int64_t)di) * BSP_DAY +
				     (bsp_time)(h * (double)BSP_HOUR) - u->tz;
			if (t >= u->start && t < u->end &&
			    demo_session_add(s, t, DEMO_START_LATER) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < u->n_runs; i++) {
		const struct demo_run *run = &u->runs[i];
		bsp_time t = run->t0 + (bsp_time)demo_rng_below(r, 30000);

		if (run->job->quiet || t < u->start || t >= u->end)
			continue;
		if (demo_session_add(s, t, DEMO_START_JOB) < 0)
			return -1;
	}
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), demo_session_cmp);
	return 0;
}

bsp_err demo_events(const struct demo_user *u, const struct demo_chain *c,
		    struct bsp_batch *b, struct bsp_error *err)
{
	struct demo_sessions s = {0};
	struct demo_rng r;
	bsp_time last = INT64_MIN;
	int64_t last_day = INT64_MIN, seq = 0;
	double gap = u->arch->gap_min * (double)BSP_MINUTE;
	bsp_err result = BSP_OK;

	demo_rng_seed(&r, u->seed ^ DEMO_STREAM_EVENTS);
	if (demo_plan_sessions(u, &r, &s) < 0)
		goto nomem;

	for (size_t i = 0; i < s.n; i++) {
		enum demo_start kind = s.v[i].kind;
		bsp_time t = s.v[i].t;
		const uint16_t *start;
		size_t app;

		/* A session due while the last one still runs waits for it,
		 * a usual gap later. */
		if (last != INT64_MIN && t <= last)
			t = last + DEMO_MIN_GAP +
			    (bsp_time)demo_rng_exp(&r, gap);
		if (t >= u->end)
			break;
		if (kind == DEMO_START_LATER) {
			int64_t day = demo_local_day(u, t, NULL);
			if (day != last_day)
				kind = DEMO_START_FIRST;
			last_day = day;
		}
		start = c->start[kind];
		if (demo_weights_zero(start, c->n_apps))
			start = c->start[DEMO_START_LATER];
		app = demo_rng_pick(&r, start, c->n_apps);
		for (int k = 0; k < DEMO_MAX_SESSION && app < c->n_apps; k++) {
			if (t >= u->end)
				break;
			if (bsp_batch_event(b, u->entity, t, seq++, "app",
					    c->apps[app]) < 0)
				goto nomem;
			last = t;
			app = demo_rng_pick(&r, c->next[app], DEMO_APP_END + 1);
			t += DEMO_MIN_GAP + (bsp_time)demo_rng_exp(&r, gap);
		}
	}
	goto out;
nomem:
	result = bsp_error_set(err, BSP_ENOMEM, "demo: out of memory");
out:
	free(s.v);
	return result;
}
