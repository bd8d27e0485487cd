/*
 * Observed behaviour for the persona profiler: an entity's CPU series
 * folded into local daily and weekly shapes, and its application launches.
 *
 * Hourly means are read over whole UTC days and shifted by the entity's
 * tz_offset_hours attribute (rounded to the hour) so that they line up
 * with the catalog's profiles, which are in local time. Without that
 * attribute UTC is assumed. The weekday of epoch day 0 (1970-01-01) is a
 * Thursday, index 3 with Monday 0.
 */
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "persona_int.h"

#define PER_MAX_DAYS 366
#define PER_MAX_APPS 100000

static const char *const per_cpu_metrics[] = {
	"cpu_usage", "cpu_usage_pct", "cpu_util_pct", "cpu_avg",
};

static const char *per_attr(const struct bsp_entity *e, const char *key)
{
	for (size_t i = 0; i < e->n_attrs; i++)
		if (!strcmp(e->attr_keys[i], key))
			return e->attr_values[i];
	return NULL;
}

static bsp_err per_usage(struct bsp_store *st, const struct bsp_entity *e,
			 bsp_time before, struct bsp_persona_evidence *ev,
			 struct bsp_error *err)
{
	struct bsp_series s = {0};
	double *h = NULL, dsum[24] = {0}, dcnt[24] = {0}, wsum[7] = {0},
	       wcnt[7] = {0};
	long tz = 0;
	size_t k;
	bsp_err r = BSP_OK;

	for (k = 0; k < BSP_ARRAY_LEN(per_cpu_metrics); k++) {
		r = bsp_store_series_find(st, e->name, per_cpu_metrics[k], "",
					  &s, NULL);
		if (r == BSP_OK && s.n_samples > 0)
			break;
		if (r == BSP_OK)
			bsp_series_release(&s);
		else if (r != BSP_ENOTFOUND)
			return bsp_error_set(err, r, "%s: cannot read series",
					     e->name);
	}
	if (k == BSP_ARRAY_LEN(per_cpu_metrics))
		return BSP_OK; /* no CPU series: no usage evidence */
	const char *tzs = per_attr(e, "tz_offset_hours");
	if (tzs) {
		char *end;
		double v = strtod(tzs, &end);
		if (!*end && isfinite(v) && fabs(v) <= 14)
			tz = lround(v);
	}
	bsp_time from = s.first - (s.first % BSP_DAY + BSP_DAY) % BSP_DAY;
	bsp_time until = s.last + 1;
	if (before != BSP_TIME_NONE && before < until)
		until = before;
	if (until <= from)
		goto out; /* nothing before: no usage evidence */
	if (until - from > PER_MAX_DAYS * (bsp_time)BSP_DAY)
		from = until - PER_MAX_DAYS * (bsp_time)BSP_DAY;
	size_t n = bsp_grid_len(from, until, BSP_HOUR);
	if (!(h = malloc((n ? n : 1) * sizeof(*h)))) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = bsp_store_read_grid(st, s.id, from, until, BSP_HOUR,
				     BSP_AGG_MEAN, BSP_FILL_NAN, h, err)))
		goto out;
	int64_t h0 = from / BSP_HOUR + tz;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(h[i]))
			continue;
		int64_t lh = h0 + (int64_t)i;
		int hour = (int)(((lh % 24) + 24) % 24);
		int64_t day = (lh - hour) / 24;
		int wd = (int)(((day + 3) % 7 + 7) % 7);
		dsum[hour] += h[i];
		dcnt[hour]++;
		wsum[wd] += h[i];
		wcnt[wd]++;
	}
	double total = 0;
	for (int i = 0; i < 24; i++) {
		ev->daily[i] = dcnt[i] ? dsum[i] / dcnt[i] : NAN;
		total += dcnt[i];
	}
	for (int i = 0; i < 7; i++)
		ev->weekly[i] = wcnt[i] ? wsum[i] / wcnt[i] : NAN;
	ev->days = total / 24;
	ev->has_usage = total >= 24;
out:
	free(h);
	bsp_series_release(&s);
	return r;
}

static bsp_err per_apps(struct bsp_store *st, const char *entity,
			bsp_time before, struct bsp_persona_evidence *ev,
			struct bsp_error *err)
{
	struct bsp_event *evs = NULL;
	size_t n = 0, cap = 0;
	bsp_err r = bsp_store_events(st, entity, BSP_TIME_NONE,
				     before == BSP_TIME_NONE ? INT64_MAX : before,
				     &evs, &n, err);
	if (r != BSP_OK)
		return r;
	/* The most recent launches matter most; older ones are dropped. */
	size_t start = n > PER_MAX_APPS ? n - PER_MAX_APPS : 0;
	cap = ev->n_apps;
	for (size_t i = start; i < n; i++) {
		if (strcmp(evs[i].kind, "app"))
			continue;
		char *a = strdup(evs[i].name);
		if (!a || BSP_GROW(ev->apps, cap, ev->n_apps + 1) < 0) {
			free(a);
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			break;
		}
		ev->apps[ev->n_apps++] = a;
	}
	bsp_events_free(evs, n);
	return r;
}

bsp_err bsp_persona_observe(struct bsp_store *st, const char *entity,
			    struct bsp_persona_evidence *ev,
			    struct bsp_error *err)
{
	return bsp_persona_observe_before(st, entity, BSP_TIME_NONE, ev, err);
}

bsp_err bsp_persona_observe_before(struct bsp_store *st, const char *entity,
				   bsp_time before,
				   struct bsp_persona_evidence *ev,
				   struct bsp_error *err)
{
	struct bsp_entity e = {0};
	bsp_err r = bsp_store_entity(st, entity, &e, err);
	if (r != BSP_OK)
		return r;
	r = per_usage(st, &e, before, ev, err);
	if (r == BSP_OK)
		r = per_apps(st, entity, before, ev, err);
	bsp_entity_release(&e);
	return r;
}
