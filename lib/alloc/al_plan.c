/*
 * A proactive plan: the allocation over time, ahead of predicted peaks.
 *
 * The forecast is piecewise constant on its grid (each step forecasts the
 * mean of that step). At time t the plan provides for the highest
 * tier-quantile demand of the grid steps that meet [t - hold, t + lead]:
 *
 *   - a rise at boundary b is covered from b - lead, because a resize or a
 *     boot takes `lead` to take effect;
 *   - a fall at b is followed only from b + hold, so a short dip does not
 *     cost a resize and the capacity is there if the dip was noise.
 *
 * The allocation can therefore change only at b - lead or b + hold for a
 * grid boundary b (or when an override expires), which are the candidate
 * times evaluated here. On top of that a hysteresis band: a scale-down
 * happens only when the cheaper shape saves at least the policy's
 * hysteresis share of the price, and the current shape still covers the
 * need; otherwise the current shape is kept. Kubernetes' HPA uses the
 * same two devices (a stabilisation window for scale-down, a tolerance
 * band, 10% by default).
 */
#include <math.h>
#include <stdio.h>

#include "alloc_int.h"

static int al_cmp_time(const void *a, const void *b)
{
	bsp_time x = *(const bsp_time *)a, y = *(const bsp_time *)b;
	return (x > y) - (x < y);
}

static int al_ov_active(const struct bsp_alloc_override *ov, bsp_time t)
{
	return ov && !ov->cleared &&
	       (ov->expires == BSP_TIME_NONE || t < ov->expires);
}

/* The need of the window around t: grid steps meeting [t-hold, t+lead]. */
static void al_window_need(const struct bsp_alloc_tier *tier,
			   const struct bsp_alloc_demand *d,
			   const struct bsp_alloc_override *ov, bsp_time t,
			   bsp_time lead, bsp_time hold, double need[BSP_RES_N])
{
	bsp_time lo = t - hold, hi = t + lead;
	long long k0 = (lo - d->start) / d->step, k1;

	/* Step k meets the window when start_k <= hi and end_k > lo. */
	if (lo < d->start)
		k0 = 0;
	else if (d->start + (k0 + 1) * d->step <= lo)
		k0++;
	k1 = hi < d->start ? -1 : (hi - d->start) / d->step;
	if (k1 >= (long long)d->n_steps)
		k1 = (long long)d->n_steps - 1;
	bsp_alloc_demand_need(d, tier->quantile, (size_t)k0,
			      k1 < k0 ? (size_t)k0 : (size_t)k1 + 1, need,
			      NULL);
	if (al_ov_active(ov, t))
		for (int r = 0; r < BSP_RES_N; r++)
			if (isfinite(ov->value[r]))
				need[r] = ov->value[r];
}

static int al_covers(const struct bsp_alloc_choice *c,
		     const double need[BSP_RES_N])
{
	for (int r = 0; r < BSP_RES_N; r++)
		if (isfinite(need[r]) && need[r] > c->have[r] + 1e-9)
			return 0;
	return 1;
}

static int al_same(const struct bsp_alloc_choice *a,
		   const struct bsp_alloc_choice *b)
{
	return !strcmp(a->name, b->name) && a->storage == b->storage &&
	       a->spot == b->spot;
}

/* Time-weighted violation (any resource) of a shape over [from, until). */
static double al_seg_violation(const struct bsp_alloc_demand *d,
			       const struct bsp_alloc_choice *c, bsp_time from,
			       bsp_time until)
{
	double w = 0, sum = 0;
	for (size_t j = 0; j < d->n_steps; j++) {
		bsp_time s = d->start + (bsp_time)j * d->step, e = s + d->step;
		bsp_time a = s > from ? s : from, b = e < until ? e : until;
		if (b <= a)
			continue;
		double ok = 1;
		for (int r = 0; r < BSP_RES_N; r++)
			ok *= 1 - bsp_alloc_exceed(d, (enum bsp_res)r, j,
						   c->have[r]);
		sum += (double)(b - a) * (1 - ok);
		w += (double)(b - a);
	}
	return w > 0 ? sum / w : 0;
}

void bsp_alloc_plan_release(struct bsp_alloc_plan *plan)
{
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}

bsp_err bsp_alloc_plan_make(const struct bsp_alloc_catalog *cat,
			    const struct bsp_alloc_policy *pol,
			    const struct bsp_alloc_tier *tier,
			    const struct bsp_alloc_demand *d,
			    const struct bsp_alloc_override *ov, bsp_time lead,
			    bsp_time hold, struct bsp_alloc_plan *plan,
			    struct bsp_error *err)
{
	bsp_time end = d->start + (bsp_time)d->n_steps * d->step, *tv;
	size_t nt = 0, cap = 0;
	unsigned flags = al_spot_flags(pol, d);
	double h = pol ? pol->hysteresis : 0, wsum = 0;
	bsp_err r = BSP_OK;
	char tb[40];

	memset(plan, 0, sizeof(*plan));
	if (!d->n_steps || d->step <= 0 || lead < 0 || hold < 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "plan: an empty forecast or a negative "
				     "lead or hold time");
	tv = malloc((2 * d->n_steps + 3) * sizeof(*tv));
	if (!tv)
		return bsp_error_set(err, BSP_ENOMEM, "alloc: out of memory");
	tv[nt++] = d->start;
	for (size_t k = 1; k < d->n_steps; k++) {
		bsp_time b = d->start + (bsp_time)k * d->step;
		if (b - lead > d->start)
			tv[nt++] = b - lead;
		if (b + hold < end)
			tv[nt++] = b + hold;
	}
	if (ov && ov->expires != BSP_TIME_NONE && ov->expires > d->start &&
	    ov->expires < end)
		tv[nt++] = ov->expires;
	qsort(tv, nt, sizeof(*tv), al_cmp_time);

	for (size_t i = 0; i < nt; i++) {
		struct bsp_alloc_choice c;
		double need[BSP_RES_N];
		bsp_time t = tv[i];
		struct bsp_alloc_step *last =
		    plan->n ? &plan->steps[plan->n - 1] : NULL;
		int ov_on = al_ov_active(ov, t);

		if (i + 1 < nt && tv[i + 1] == t)
			continue; /* the last of equal times decides */
		al_window_need(tier, d, ov, t, lead, hold, need);
		if ((r = bsp_alloc_choose(
			 cat, pol, need, ov_on && ov->type[0] ? ov->type : NULL,
			 flags, &c, err)))
			goto out;
		if (last) {
			int down = c.price_hour < last->choice.price_hour;
			/* Keep the current shape when it still covers the need
			 * and the cheaper one saves too little. */
			if (al_same(&c, &last->choice) ||
			    (al_covers(&last->choice, need) &&
			     (!down ||
			      c.price_hour >
				  (1 - h) * last->choice.price_hour + 1e-12) &&
			     last->override == ov_on)) {
				for (int k = 0; k < BSP_RES_N; k++)
					if (isfinite(need[k]) &&
					    !(need[k] <= last->need[k]))
						last->need[k] = need[k];
				continue;
			}
		}
		if (BSP_GROW(plan->steps, cap, plan->n + 1)) {
			r = bsp_error_set(err, BSP_ENOMEM,
					  "alloc: out of memory");
			goto out;
		}
		struct bsp_alloc_step *s = &plan->steps[plan->n++];
		memset(s, 0, sizeof(*s));
		s->from = t;
		s->choice = c;
		s->override = ov_on;
		memcpy(s->need, need, sizeof(need));
		if (!last)
			snprintf(s->why, sizeof(s->why), "start");
		else if (last->override && !ov_on)
			snprintf(s->why, sizeof(s->why), "override expired");
		else if (ov_on && !last->override)
			snprintf(s->why, sizeof(s->why), "override");
		else if (c.price_hour > last->choice.price_hour ||
			 !al_covers(&last->choice, need))
			snprintf(s->why, sizeof(s->why),
				 "up %g min before the rise at %.16s",
				 (double)lead / BSP_MINUTE,
				 bsp_time_format(t + lead, tb, sizeof(tb)));
		else
			snprintf(s->why, sizeof(s->why),
				 "down after the fall at %.16s held %g min",
				 bsp_time_format(t - hold, tb, sizeof(tb)),
				 (double)hold / BSP_MINUTE);
	}
	for (size_t i = 0; i < plan->n; i++) {
		struct bsp_alloc_step *s = &plan->steps[i];
		s->until = i + 1 < plan->n ? plan->steps[i + 1].from : end;
		double hours = (double)(s->until - s->from) / BSP_HOUR;
		s->cost = s->choice.price_hour * hours;
		s->violation =
		    al_seg_violation(d, &s->choice, s->from, s->until);
		plan->cost += s->cost;
		plan->violation += s->violation * (double)(s->until - s->from);
		wsum += (double)(s->until - s->from);
	}
	plan->violation = wsum > 0 ? plan->violation / wsum : 0;
	plan->changes = plan->n ? plan->n - 1 : 0;
out:
	free(tv);
	if (r)
		bsp_alloc_plan_release(plan);
	return r;
}
