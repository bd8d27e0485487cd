/*
 * What an entity will use in the coming hour and day: the pre-loading
 * signal, computed from the entity's own recent events.
 *
 * With timestamps, the probability that an application is used in the
 * coming hour is the share of recent days on which it was used in that
 * hour of day, and for the coming day the share of days on which it was
 * used at all. Both are smoothed by adding half a use and one day
 * (Jeffreys' prior for a binomial share), so that one observed day does
 * not claim certainty. Days before the first event are not counted: a
 * user seen for three days is judged on three days.
 *
 * Command histories have no clock, so "the coming hour" becomes the next
 * hour_window commands and "the coming day" the next day_window: the
 * share of window starts, over the last `recent` commands, whose window
 * contains the command. An occurrence at position p lies in the windows
 * that start at p-N .. p-1, so the count is the length of a union of
 * intervals, found in one pass.
 */
#include "apps_int.h"

struct tally {
	struct apps_vocab vocab;
	const char **name; /* per id: a name inside the events */
	double *hour, *day;
	size_t cap;
};

static void tally_release(struct tally *t)
{
	apps_vocab_release(&t->vocab);
	free(t->name);
	free(t->hour);
	free(t->day);
}

static long tally_id(struct tally *t, const char *name)
{
	long id = apps_vocab_add(&t->vocab, name);

	if (id < 0)
		return -1;
	if ((size_t)id >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		const char **nn = realloc(t->name, cap * sizeof(*nn));
		if (nn)
			t->name = nn;
		double *h = realloc(t->hour, cap * sizeof(*h));
		if (h)
			t->hour = h;
		double *d = realloc(t->day, cap * sizeof(*d));
		if (d)
			t->day = d;
		if (!nn || !h || !d)
			return -1;
		for (size_t i = t->cap; i < cap; i++)
			t->hour[i] = t->day[i] = 0;
		t->cap = cap;
	}
	t->name[id] = name;
	return id;
}

/* The apps with a non-zero count, as predictions p = (c + 0.5) / (d + 1). */
static bsp_err to_preds(const struct tally *t, const double *count,
			double denom, struct bsp_apps_pred **out, size_t *n)
{
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!t->vocab.n)
		return BSP_OK;
	if (!(*out = calloc(t->vocab.n, sizeof(**out))))
		return BSP_ENOMEM;
	for (size_t i = 0; i < t->vocab.n; i++)
		if (count[i] > 0) {
			(*out)[k].app = t->name[i];
			(*out)[k].p = (count[i] + 0.5) / (denom + 1.0);
			k++;
		}
	apps_pred_sort(*out, k);
	*n = k;
	return BSP_OK;
}

static bsp_err coming_timed(const struct bsp_event *ev, size_t n,
			    const struct bsp_apps_options *opt,
			    struct bsp_apps_coming *out, struct tally *t)
{
	struct apps_map seen = {0};
	bsp_time now;
	bsp_time first = BSP_TIME_NONE, last = BSP_TIME_NONE, end, start;
	unsigned h;
	double days_day = 0, days_hour = 0;
	bsp_err r = BSP_ENOMEM;

	for (size_t i = 0; i < n; i++)
		if (ev[i].ts != BSP_TIME_NONE) {
			if (first == BSP_TIME_NONE || ev[i].ts < first)
				first = ev[i].ts;
			if (last == BSP_TIME_NONE || ev[i].ts > last)
				last = ev[i].ts;
		}
	now = out->now != BSP_TIME_NONE ? out->now : last;
	h = (unsigned)((bsp_time_floor(now, BSP_HOUR) -
			bsp_time_floor(now, BSP_DAY)) / BSP_HOUR);
	end = bsp_time_floor(now, BSP_DAY) + BSP_DAY;
	start = end - (bsp_time)(opt->days ? opt->days : 1) * BSP_DAY;
	if (first != BSP_TIME_NONE && bsp_time_floor(first, BSP_DAY) > start)
		start = bsp_time_floor(first, BSP_DAY);
	/* Days whose slot began before now: today counts only for the hours
	 * it has already lived through, and as a day once it has begun. */
	for (bsp_time d = start; d < end; d += BSP_DAY) {
		if (d <= now)
			days_day++;
		if (d + (bsp_time)h * BSP_HOUR < now)
			days_hour++;
	}
	for (size_t i = 0; i < n; i++) {
		bsp_time ts = ev[i].ts;
		long id;
		uint64_t day;
		if (ts == BSP_TIME_NONE || ts < start || ts > now)
			continue;
		if ((id = tally_id(t, ev[i].name)) < 0)
			goto out;
		day = (uint64_t)((ts - start) / BSP_DAY);
		if (apps_map_get(&seen, (uint64_t)id, day) == UINT32_MAX) {
			if (apps_map_put(&seen, (uint64_t)id, day, 1))
				goto out;
			t->day[id]++;
		}
		if ((unsigned)((ts - bsp_time_floor(ts, BSP_DAY)) / BSP_HOUR) == h &&
		    apps_map_get(&seen, (uint64_t)id, day | (1ULL << 40)) ==
			    UINT32_MAX) {
			if (apps_map_put(&seen, (uint64_t)id, day | (1ULL << 40), 1))
				goto out;
			t->hour[id]++;
		}
	}
	out->timed = 1;
	out->now = now;
	out->hour_utc = h;
	out->days = (unsigned)days_day;
	if ((r = to_preds(t, t->hour, days_hour, &out->hour, &out->n_hour)) ||
	    (r = to_preds(t, t->day, days_day, &out->day, &out->n_day)))
		goto out;
	r = BSP_OK;
out:
	apps_map_release(&seen);
	return r;
}

/* Union length of [p - w, p - 1] over occurrences p, clipped to [lo, hi). */
static bsp_err coming_untimed(const struct bsp_event *ev, size_t n,
			      const struct bsp_apps_options *opt,
			      struct bsp_apps_coming *out, struct tally *t)
{
	size_t lo = n > opt->recent ? n - opt->recent : 0;
	size_t hi = n ? n - 1 : 0; /* window starts lo .. hi-1 */
	size_t *cover_h = NULL, *cover_d = NULL;
	size_t wh = opt->hour_window ? opt->hour_window : 1;
	size_t wd = opt->day_window ? opt->day_window : 1;
	bsp_err r = BSP_ENOMEM;

	/* Ids in order of first appearance within [lo, n). */
	for (size_t i = lo; i < n; i++)
		if (tally_id(t, ev[i].name) < 0)
			goto out;
	cover_h = calloc(t->vocab.n + 1, sizeof(*cover_h));
	cover_d = calloc(t->vocab.n + 1, sizeof(*cover_d));
	if (!cover_h || !cover_d)
		goto out;
	for (size_t p = lo + 1; p < n; p++) {
		long id = apps_vocab_find(&t->vocab, ev[p].name);
		size_t a, b = p; /* starts a .. b-1 */
		a = p > wh ? p - wh : 0;
		if (a < lo)
			a = lo;
		if (a < cover_h[id])
			a = cover_h[id];
		if (a < b)
			t->hour[id] += (double)(b - a);
		if (cover_h[id] < b)
			cover_h[id] = b;
		a = p > wd ? p - wd : 0;
		if (a < lo)
			a = lo;
		if (a < cover_d[id])
			a = cover_d[id];
		if (a < b)
			t->day[id] += (double)(b - a);
		if (cover_d[id] < b)
			cover_d[id] = b;
	}
	out->timed = 0;
	out->hour_window = wh;
	out->day_window = wd;
	if ((r = to_preds(t, t->hour, (double)(hi - lo), &out->hour,
			  &out->n_hour)) ||
	    (r = to_preds(t, t->day, (double)(hi - lo), &out->day,
			  &out->n_day)))
		goto out;
	r = BSP_OK;
out:
	free(cover_h);
	free(cover_d);
	return r;
}

bsp_err bsp_apps_coming(const struct bsp_event *ev, size_t n, bsp_time now,
			const struct bsp_apps_options *opt,
			struct bsp_apps_coming *out, struct bsp_error *err)
{
	struct bsp_apps_options def;
	struct tally t = {0};
	bsp_err r;

	memset(out, 0, sizeof(*out));
	out->now = now;
	if (!opt) {
		bsp_apps_options_init(&def);
		opt = &def;
	}
	if (n && ev[n - 1].ts != BSP_TIME_NONE)
		r = coming_timed(ev, n, opt, out, &t);
	else
		r = coming_untimed(ev, n, opt, out, &t);
	tally_release(&t);
	if (r != BSP_OK) {
		bsp_apps_coming_release(out);
		return bsp_error_set(err, r, "out of memory");
	}
	return BSP_OK;
}

void bsp_apps_coming_release(struct bsp_apps_coming *c)
{
	free(c->hour);
	free(c->day);
	c->hour = c->day = NULL;
	c->n_hour = c->n_day = 0;
}
