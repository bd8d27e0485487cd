/*
 * bespoke's own policy: forecast the next step, then size for the peak
 * within it at a calibrated risk.
 *
 * 1. Step means of the samples seen so far form the history grid (the
 *    grid of the decisions). The forecaster (include/bespoke/forecast.h)
 *    is fitted on it at fixed times (the first `calib_days` before the
 *    replay, then every `refit`, default 7 days) on data before that time
 *    only, and at each decision it forecasts one step ahead from the
 *    history up to the decision (re-filtering, not refitting): F, the
 *    expected mean of the coming step.
 * 2. A step mean is not its peak, and the score counts every 5-minute
 *    sample. So every sample x that arrives in a step already decided
 *    gives a score x - F of that step's forecast: how far above the
 *    forecast mean real samples go. The allocation is F plus the
 *    conformal quantile of the scores of the last `calib_days` days
 *    (split conformal prediction, Vovk et al. 2005; Angelopoulos & Bates,
 *    "A gentle introduction to conformal prediction", 2021): the
 *    ceil((m + 1)(1 - target))-th smallest of m scores, so that about
 *    `target` of the coming samples exceed it when the near future
 *    resembles the recent past. Scores come only from samples before the
 *    decision and are out of sample for the forecasts they judge. The
 *    decisions of the `calib_days` before the replay collect the first
 *    scores. The scores calibrate apart per part of the UTC day (`shifts`,
 *    default three of 8 hours: Mondrian conformal prediction, Vovk,
 *    Gammerman & Shafer 2005), so that a backup bursting at 02:00 each
 *    night widens the night's margin, not the afternoon's.
 * 3. When the forecaster cannot run (too little history), F is the mean
 *    of the last day's step means, and the same calibration applies.
 *
 * Differences, not ratios: a ratio x / F assumes bursts grow with the
 * level, and on VMs that idle at 70 MHz and burst to 22 GHz for a backup
 * job it multiplies a burst-sized factor by the next busy hour's mean
 * (tens of times the burst). A difference stays within the bursts seen.
 * The target is a conformal level; the default 0.3% and the three shifts
 * were chosen by replaying the last week of July 2013 on Bitbrains Rnd
 * (docs/simulate.md) so that the rate measured stays under 0.5% when the
 * recent past is not quite the future: shorter parts of the day leave too
 * few scores each and broke the target there.
 */
#include "bespoke/forecast.h"
#include "sim_int.h"

#define BES_PREDICT_HISTORY (28 * BSP_DAY) /* a forecast re-filters */
#define BES_MIN_SCORES	    288		   /* a day of 5-minute samples */

struct bespoke {
	struct sim_ctx ctx;
	bsp_time g0;	 /* time of grid step 0 */
	double *sum, *y; /* per step: sum of samples, mean (NaN = none) */
	size_t *cnt;
	size_t cap;
	struct bsp_fc_model *model;
	bsp_time warm;	   /* the first decision, before the replay */
	bsp_time next_fit; /* 0 = warming up has not begun */
	/* the decision in force: its step and forecast */
	bsp_time base_t;
	double base;
	/* scores (a queue in time order) */
	bsp_time *st;
	double *sv;
	size_t head, tail, scap;
	double *tmp;
	size_t tcap;
};

static bsp_err bes_init(void *self, const struct sim_ctx *ctx)
{
	struct bespoke *p = self;

	memset(p, 0, sizeof(*p));
	p->ctx = *ctx;
	if (!p->ctx.refit)
		p->ctx.refit = 7 * BSP_DAY;
	if (!p->ctx.calib_days)
		p->ctx.calib_days = 14;
	if (!(p->ctx.target > 0))
		p->ctx.target = 0.003;
	if (!p->ctx.shifts || p->ctx.shifts > 24)
		p->ctx.shifts = 3;
	p->g0 = ctx->from;
	if (ctx->start < ctx->from)
		p->g0 -= (ctx->from - ctx->start) / ctx->step * ctx->step;
	p->base = NAN;
	/* Warm up for a calibration window, on the grid of the decisions. */
	p->warm = ctx->from -
		  (bsp_time)p->ctx.calib_days * BSP_DAY / ctx->step * ctx->step;
	return BSP_OK;
}

static int grid_grow(struct bespoke *p, size_t need)
{
	size_t old = p->cap, c = p->cap;

	if (need <= p->cap)
		return 0;
	if (BSP_GROW(p->sum, c, need))
		return -1;
	c = old;
	if (BSP_GROW(p->y, c, need))
		return -1;
	c = old;
	if (BSP_GROW(p->cnt, c, need))
		return -1;
	for (size_t i = old; i < c; i++) {
		p->sum[i] = 0;
		p->y[i] = NAN;
		p->cnt[i] = 0;
	}
	p->cap = c;
	return 0;
}

static void score_push(struct bespoke *p, bsp_time t, double s)
{
	if (p->tail == p->scap) {
		if (p->head > 0) { /* slide the live part to the front */
			memmove(p->st, p->st + p->head,
				(p->tail - p->head) * sizeof(*p->st));
			memmove(p->sv, p->sv + p->head,
				(p->tail - p->head) * sizeof(*p->sv));
			p->tail -= p->head;
			p->head = 0;
		}
		if (p->tail == p->scap) {
			size_t c = p->scap;
			if (BSP_GROW(p->st, c, p->tail + 1))
				return;
			c = p->scap;
			if (BSP_GROW(p->sv, c, p->tail + 1))
				return;
			p->scap = c;
		}
	}
	p->st[p->tail] = t;
	p->sv[p->tail] = s;
	p->tail++;
}

static void bes_observe(void *self, bsp_time t, double v)
{
	struct bespoke *p = self;
	size_t i;

	if (!isfinite(v) || t < p->g0)
		return;
	i = (size_t)((t - p->g0) / p->ctx.step);
	if (grid_grow(p, i + 1))
		return;
	p->sum[i] += v;
	p->cnt[i]++;
	p->y[i] = p->sum[i] / (double)p->cnt[i];
	if (!isnan(p->base) && t >= p->base_t && t < p->base_t + p->ctx.step)
		score_push(p, t, v - p->base);
}

/* Mean of the valid step means of the day before step n. */
static double recent_level(const struct bespoke *p, size_t n)
{
	size_t day = (size_t)(BSP_DAY / p->ctx.step), k = 0;
	double s = 0;

	for (size_t i = n > day ? n - day : 0; i < n; i++)
		if (!isnan(p->y[i])) {
			s += p->y[i];
			k++;
		}
	return k ? s / (double)k : NAN;
}

/* The k-th smallest (0-based) of x[0..n), reordering x (Hoare's
 * selection with a middle pivot). */
static double select_kth(double *x, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (lo < hi) {
		double pivot = x[lo + (hi - lo) / 2];
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (x[i] < pivot)
				i++;
			while (x[j] > pivot)
				j--;
			if (i <= j) {
				double t = x[i];
				x[i] = x[j];
				x[j] = t;
				i++;
				j--;
			}
		}
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return x[k];
}

/* Which of the day's `shifts` parts a time falls in. */
static size_t shift_of(const struct bespoke *p, bsp_time t)
{
	bsp_time len = BSP_DAY / (bsp_time)p->ctx.shifts;
	return (size_t)((t - bsp_time_floor(t, BSP_DAY)) / len);
}

/* The conformal quantile of the scores after `since` that fall in the
 * same part of the day as `now`; NaN if too few. */
static double calib_quantile(struct bespoke *p, bsp_time since, bsp_time now)
{
	size_t m = 0, k, shift = shift_of(p, now), all;
	double r;

	while (p->head < p->tail && p->st[p->head] < since)
		p->head++;
	all = p->tail - p->head;
	if (p->tcap < all) {
		double *t = realloc(p->tmp, all * sizeof(*t));
		if (!t)
			return NAN;
		p->tmp = t;
		p->tcap = all;
	}
	for (size_t i = p->head; i < p->tail; i++)
		if (shift_of(p, p->st[i]) == shift)
			p->tmp[m++] = p->sv[i];
	if (m < BES_MIN_SCORES / p->ctx.shifts || m == 0)
		return NAN;
	r = ceil((double)(m + 1) * (1 - p->ctx.target));
	k = r >= (double)m ? m - 1 : (size_t)r - 1;
	return select_kth(p->tmp, m, k);
}

static void refit(struct bespoke *p, size_t n)
{
	struct bsp_fc_series s = {p->y, n, p->g0, p->ctx.step};
	struct bsp_fc_options fo;

	bsp_fc_model_free(p->model);
	p->model = NULL;
	bsp_fc_options_init(&fo);
	fo.horizon = 1;
	if (bsp_fc_train(&s, &fo, &p->model, NULL) != BSP_OK)
		p->model = NULL;
}

static double forecast(struct bespoke *p, size_t n)
{
	size_t keep = (size_t)(BES_PREDICT_HISTORY / p->ctx.step);
	size_t a = n > keep ? n - keep : 0;
	struct bsp_fc_series s = {
	    p->y + a, n - a, p->g0 + (bsp_time)a * p->ctx.step, p->ctx.step};
	struct bsp_fc_output out = {0};
	static const double level = 0.5;
	double f = NAN;

	if (p->model &&
	    bsp_fc_predict(p->model, &s, 1, &level, 1, &out, NULL) == BSP_OK) {
		f = out.point[0];
		bsp_fc_output_release(&out);
	}
	return f;
}

static double bes_decide(void *self, bsp_time t)
{
	struct bespoke *p = self;
	size_t n = (size_t)((t - p->g0) / p->ctx.step);
	double f, q;

	if (t < p->warm)
		return NAN; /* before the warm-up: nothing decided */
	if (grid_grow(p, n + 1))
		return NAN;
	if (!p->next_fit || t >= p->next_fit) {
		refit(p, n);
		p->next_fit =
		    (p->next_fit ? p->next_fit : p->warm) + p->ctx.refit;
	}
	f = forecast(p, n);
	if (isnan(f))
		f = recent_level(p, n);
	if (isnan(f)) {
		p->base = NAN;
		return NAN;
	}
	p->base = f;
	p->base_t = t;
	q = calib_quantile(p, t - (bsp_time)p->ctx.calib_days * BSP_DAY, t);
	if (isnan(q)) {
		/* Too few scores yet (warm-up): the largest seen, or F again.
		 */
		q = f;
		for (size_t i = p->head; i < p->tail; i++)
			if (p->sv[i] > q)
				q = p->sv[i];
	}
	f += q;
	return f > p->ctx.min_alloc ? f : p->ctx.min_alloc;
}

static void bes_release(void *self)
{
	struct bespoke *p = self;

	bsp_fc_model_free(p->model);
	free(p->sum);
	free(p->y);
	free(p->cnt);
	free(p->st);
	free(p->sv);
	free(p->tmp);
}

const struct sim_policy sim_policy_bespoke = {
    .name = "bespoke",
    .help = "forecast of the next step + a conformal peak margin "
	    "(0.3% level)",
    .size = sizeof(struct bespoke),
    .init = bes_init,
    .observe = bes_observe,
    .decide = bes_decide,
    .release = bes_release,
};
