/*
 * The forecast policy, bespoke's first hourly resizer: forecast the next
 * step's mean, then size for the peak within it at a calibrated risk.
 * bespoke's own policy (sim_bespoke.c) replaced it; it stays in the table
 * as the forecasting alternative, cheaper on VMs that follow a daily
 * cycle (docs/simulate.md has both on Bitbrains).
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
 *    gives a score (x - F) / s of that step's forecast, s the step's
 *    scale: how far above the forecast mean real samples go, in units of
 *    how far they went lately (s is the mean of max - mean over the last
 *    3 steps, plus 2% of the largest sample seen so that a flat stretch
 *    does not make every deviation infinite; locally weighted conformal
 *    prediction, Lei et al., "Distribution-free predictive inference for
 *    regression", JASA 2018). The allocation is F + q s, q the conformal
 *    quantile of the scores of the last `calib_days` days (split
 *    conformal prediction, Vovk et al. 2005; Angelopoulos & Bates, "A
 *    gentle introduction to conformal prediction", 2021): the
 *    ceil((m + 1)(1 - target))-th smallest of m scores, so that about
 *    `target` of the coming samples exceed it when the near future
 *    resembles the recent past. A calm hour then gets a narrow margin and
 *    a restless one a wide margin, where a plain difference x - F gave
 *    every hour the margin of the worst. Scores come only from samples
 *    before the decision and are out of sample for the forecasts they
 *    judge. The decisions of the `calib_days` before the replay collect
 *    the first scores. The scores calibrate apart per part of the UTC day
 *    (`shifts`, default three of 8 hours: Mondrian conformal prediction,
 *    Vovk, Gammerman & Shafer 2005), so that a backup bursting at 02:00
 *    each night widens the night's margin, not the afternoon's.
 * 3. The allocation never exceeds the largest sample seen: a batch job
 *    whose starts are unpredictable leaves a margin a whole run high,
 *    and added to a running job's forecast it asked for twice what the
 *    VM had ever used.
 * 4. Hysteresis: the allocation rises at once, and falls only when the
 *    new one is more than 10% below the one in force, which halves the
 *    changes per day for under 1% of cost.
 * 5. When the forecaster cannot run (too little history), F is the mean
 *    of the last day's step means, and the same calibration applies.
 *
 * Deviations, not ratios: a ratio x / F assumes bursts grow with the
 * level, and on VMs that idle at 70 MHz and burst to 22 GHz for a backup
 * job it multiplies a burst-sized factor by the next busy hour's mean
 * (tens of times the burst). A deviation stays within the bursts seen.
 * The target is a conformal level; the default 0.3%, the three shifts,
 * the scale, the cap and the band were chosen by replaying the last week
 * of July 2013 on Bitbrains Rnd (docs/simulate.md) so that the rate
 * measured stays under 0.5% when the recent past is not quite the future:
 * shorter parts of the day leave too few scores each and broke the target
 * there.
 */
#include "bespoke/forecast.h"
#include "sim_int.h"

#define FCP_PREDICT_HISTORY (28 * BSP_DAY) /* a forecast re-filters */
#define FCP_MIN_SCORES	    288		   /* a day of 5-minute samples */
#define FCP_DOWN_BAND	    0.10 /* scale down only by more than this */

/* One score: a sample of a step already decided, how far above the
 * step's forecast it went in units of the step's scale, and the part of
 * the day it calibrates. */
struct score {
	bsp_time t;
	double v; /* (x - F) / scale */
	unsigned shift;
};

struct fcpol {
	struct sim_ctx ctx;
	bsp_time g0;	 /* time of grid step 0 */
	double *sum, *y; /* per step: sum of samples, mean (NaN = none) */
	double *mx;	 /* per step: largest sample */
	size_t *cnt;
	size_t cap;
	double peak; /* the largest sample seen */
	double last; /* the allocation in force (0 = none yet) */
	struct bsp_fc_model *model;
	bsp_time warm;	   /* the first decision, before the replay */
	bsp_time next_fit; /* 0 = warming up has not begun */
	/* the decision in force: its step, forecast and scale */
	bsp_time base_t;
	double base, scale;
	/* scores, a queue in time order */
	struct score *sc;
	size_t head, tail, scap;
	double *tmp;
	size_t tcap;
};

static bsp_err fcp_init(void *self, const struct sim_ctx *ctx)
{
	struct fcpol *p = self;

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

static int grid_grow(struct fcpol *p, size_t need)
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
	if (BSP_GROW(p->mx, c, need))
		return -1;
	c = old;
	if (BSP_GROW(p->cnt, c, need))
		return -1;
	for (size_t i = old; i < c; i++) {
		p->sum[i] = 0;
		p->y[i] = NAN;
		p->mx[i] = -INFINITY;
		p->cnt[i] = 0;
	}
	p->cap = c;
	return 0;
}

/* Which of the day's `shifts` parts a time falls in. */
static unsigned shift_of(const struct fcpol *p, bsp_time t)
{
	bsp_time len = BSP_DAY / (bsp_time)p->ctx.shifts;
	return (unsigned)((t - bsp_time_floor(t, BSP_DAY)) / len);
}

static void score_push(struct fcpol *p, bsp_time t, double x)
{
	if (p->tail == p->scap && p->head > 0) {
		/* slide the live part to the front */
		memmove(p->sc, p->sc + p->head,
			(p->tail - p->head) * sizeof(*p->sc));
		p->tail -= p->head;
		p->head = 0;
	}
	if (p->tail == p->scap && BSP_GROW(p->sc, p->scap, p->tail + 1))
		return;
	p->sc[p->tail++] = (struct score){
	    .t = t,
	    .v = (x - p->base) / p->scale,
	    .shift = shift_of(p, p->base_t),
	};
}

static void fcp_observe(void *self, bsp_time t, double v)
{
	struct fcpol *p = self;
	size_t i;

	if (!isfinite(v) || t < p->g0)
		return;
	i = (size_t)((t - p->g0) / p->ctx.step);
	if (grid_grow(p, i + 1))
		return;
	p->sum[i] += v;
	p->cnt[i]++;
	p->y[i] = p->sum[i] / (double)p->cnt[i];
	if (v > p->mx[i])
		p->mx[i] = v;
	if (v > p->peak)
		p->peak = v;
	if (!isnan(p->base) && t >= p->base_t && t < p->base_t + p->ctx.step)
		score_push(p, t, v);
}

/* Mean of the valid step means of the day before step n. */
static double recent_level(const struct fcpol *p, size_t n)
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

/* The scale of the coming step: the mean spread (largest sample minus
 * mean) of the last FCP_SCALE_STEPS steps with samples, plus
 * FCP_SCALE_FLOOR of the largest sample seen (1 if both are 0). */
#define FCP_SCALE_STEPS 3
#define FCP_SCALE_FLOOR 0.02
static double step_scale(const struct fcpol *p, size_t n)
{
	size_t k = 0;
	double s = 0, floor = FCP_SCALE_FLOOR * p->peak;

	for (size_t i = n; i-- > 0 && k < FCP_SCALE_STEPS;)
		if (!isnan(p->y[i])) {
			s += p->mx[i] - p->y[i];
			k++;
		}
	s = (k ? s / (double)k : 0) + floor;
	return s > 0 ? s : 1;
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

/* Index of the conformal quantile at `level` among m sorted scores:
 * the ceil((m + 1)(1 - level))-th smallest. */
static size_t conformal_rank(size_t m, double level)
{
	double r = ceil((double)(m + 1) * (1 - level));
	return r >= (double)m ? m - 1 : (size_t)r - 1;
}

/* The conformal quantile of the scores after `since` from the same
 * part of the day as `now`; NaN if too few. */
static double calib_quantile(struct fcpol *p, bsp_time since, bsp_time now)
{
	size_t m = 0, all;
	unsigned shift = shift_of(p, now);

	while (p->head < p->tail && p->sc[p->head].t < since)
		p->head++;
	all = p->tail - p->head;
	if (p->tcap < all) {
		double *a = realloc(p->tmp, all * sizeof(*a));
		if (!a)
			return NAN;
		p->tmp = a;
		p->tcap = all;
	}
	for (size_t i = p->head; i < p->tail; i++)
		if (p->sc[i].shift == shift)
			p->tmp[m++] = p->sc[i].v;
	if (m < FCP_MIN_SCORES / p->ctx.shifts || m == 0)
		return NAN;
	return select_kth(p->tmp, m, conformal_rank(m, p->ctx.target));
}

static void refit(struct fcpol *p, size_t n)
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

static double forecast(struct fcpol *p, size_t n)
{
	size_t keep = (size_t)(FCP_PREDICT_HISTORY / p->ctx.step);
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

static double fcp_decide(void *self, bsp_time t)
{
	struct fcpol *p = self;
	size_t n = (size_t)((t - p->g0) / p->ctx.step);
	bsp_time since = t - (bsp_time)p->ctx.calib_days * BSP_DAY;
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
	p->scale = step_scale(p, n);
	q = calib_quantile(p, since, t);
	if (isnan(q)) {
		/* Too few scores yet (warm-up): the largest seen, or F again
		 * (in units of the scale). */
		q = f / p->scale;
		for (size_t i = p->head; i < p->tail; i++)
			if (p->sc[i].v > q)
				q = p->sc[i].v;
	}
	f += q * p->scale;
	/* Never above the largest sample seen: more would only be idle. */
	if (p->peak > 0 && f > p->peak)
		f = p->peak;
	if (f < p->ctx.min_alloc)
		f = p->ctx.min_alloc;
	/* Hysteresis: up at once, down only by more than the band. */
	if (f < p->last && f > p->last * (1 - FCP_DOWN_BAND))
		f = p->last;
	p->last = f;
	return f;
}

static void fcp_release(void *self)
{
	struct fcpol *p = self;

	bsp_fc_model_free(p->model);
	free(p->sum);
	free(p->y);
	free(p->mx);
	free(p->cnt);
	free(p->sc);
	free(p->tmp);
}

const struct sim_policy sim_policy_forecast = {
    .name = "forecast",
    .help = "forecast of the next step + a locally scaled conformal "
	    "peak margin (0.3% level)",
    .size = sizeof(struct fcpol),
    .init = fcp_init,
    .observe = fcp_observe,
    .decide = fcp_decide,
    .release = fcp_release,
};
