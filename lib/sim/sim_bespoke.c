/*
 * bespoke's own policy: the largest sample of the last day, times one
 * factor for the whole fleet that makes the fleet's violation rate the
 * target.
 *
 * 1. The base of an entity at decision t is the largest sample in the
 *    day before t (the step maxima of the last 24 hours), never under
 *    the smallest allocation. It is the forecast of the coming step's
 *    peak: on Bitbrains the next hour's peak is predicted better by the
 *    last day's peak than by a forecast of the hour's mean plus a margin
 *    (the forecast policy), because the peaks of a day recur at about
 *    the same hour and the peaks of an hour do not follow its mean.
 *    Windows of 16 and 36 hours did worse than 24 (docs/simulate.md).
 * 2. Every sample x of a step already decided gives a score x / base of
 *    its step. The factor for a UTC day is the conformal quantile of the
 *    whole fleet's scores of the `calib_days` days before it (split
 *    conformal prediction: Vovk, Gammerman & Shafer, "Algorithmic
 *    Learning in a Random World", 2005): the ceil((m + 1)(1 - target))-th
 *    smallest of m scores, so that about `target` of the coming samples,
 *    pooled over the fleet, exceed the allocation. The goal is a pooled
 *    rate, and pooling lets the VMs whose bursts no history predicts
 *    spend the budget, where a quantile per VM covered each VM's own
 *    worst bursts and cost nearly three times as much (July 2013).
 * 3. Hysteresis: the allocation rises at once and falls only when the new
 *    one is more than 10% below the one in force.
 *
 * The default level, 0.35%, is the highest whose measured rate stayed
 * under 80% of the 0.5% goal on both of July 2013's test periods
 * (docs/simulate.md); the window and the band were chosen there too.
 *
 * The factor needs the fleet, so the driver runs bespoke twice: once
 * uncalibrated (ctx->calib NULL: the decision is the base) to collect
 * the scores into a sim_calib, then with the factors. A factor uses only
 * scores from before its day, and a base only samples before its
 * decision, so no decision reads a sample at or after its time.
 */
#include "sim_int.h"

#define BES_WINDOW     BSP_DAY /* the base: the largest sample of this */
#define BES_TARGET     0.0035  /* the default conformal level */
#define BES_DOWN_BAND  0.10    /* scale down only by more than this */
#define BES_MIN_SCORES 288     /* fewer: the largest score instead */

struct bespoke {
	struct sim_ctx ctx;
	bsp_time g0; /* time of grid step 0 */
	double *mx;  /* per step: the largest sample (-inf = none) */
	size_t cap;
	size_t window; /* steps in BES_WINDOW */
	double last;   /* the allocation in force (0 = none yet) */
};

static bsp_err bes_init(void *self, const struct sim_ctx *ctx)
{
	struct bespoke *p = self;

	memset(p, 0, sizeof(*p));
	p->ctx = *ctx;
	p->g0 = ctx->from;
	if (ctx->start < ctx->from)
		p->g0 -= (ctx->from - ctx->start) / ctx->step * ctx->step;
	p->window = (size_t)(BES_WINDOW / ctx->step);
	if (!p->window)
		p->window = 1;
	return BSP_OK;
}

static int grid_grow(struct bespoke *p, size_t need)
{
	size_t old = p->cap;

	if (need <= p->cap)
		return 0;
	if (BSP_GROW(p->mx, p->cap, need))
		return -1;
	for (size_t i = old; i < p->cap; i++)
		p->mx[i] = -INFINITY;
	return 0;
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
	if (v > p->mx[i])
		p->mx[i] = v;
}

/* The largest sample of the window before step n, at least the smallest
 * allocation; NaN if the window has no sample. */
static double base_at(const struct bespoke *p, size_t n)
{
	double b = -INFINITY;

	for (size_t i = n > p->window ? n - p->window : 0; i < n && i < p->cap;
	     i++)
		if (p->mx[i] > b)
			b = p->mx[i];
	if (b == -INFINITY)
		return NAN;
	return b > p->ctx.min_alloc ? b : p->ctx.min_alloc;
}

static double bes_decide(void *self, bsp_time t)
{
	struct bespoke *p = self;
	double b = base_at(p, (size_t)((t - p->g0) / p->ctx.step)), f;

	if (!p->ctx.calib)
		return b; /* the calibration pass */
	if (isnan(b))
		return p->last > 0 ? p->last : NAN; /* silent: keep it */
	f = sim_calib_factor(p->ctx.calib, t);
	if (isnan(f))
		return NAN; /* no score yet: nothing to size by */
	f *= b;
	/* Hysteresis: up at once, down only by more than the band. */
	if (f < p->last && f > p->last * (1 - BES_DOWN_BAND))
		f = p->last;
	p->last = f;
	return f;
}

static void bes_release(void *self)
{
	struct bespoke *p = self;

	free(p->mx);
}

const struct sim_policy sim_policy_bespoke = {
    .name = "bespoke",
    .help = "the last day's largest sample x a factor calibrated on the "
	    "fleet (0.35% level)",
    .size = sizeof(struct bespoke),
    .init = bes_init,
    .observe = bes_observe,
    .decide = bes_decide,
    .release = bes_release,
};

/* ---- the fleet's calibration ---------------------------------------------
 */

/* A score of exactly 1 ends its bucket; bucket 0 holds everything up to
 * e(0), the last everything above. */
size_t sim_calib_bucket(double r)
{
	double k;

	if (!(r > 0))
		return 0;
	k = ceil(log(r) / log1p(SIM_CALIB_STEP)) + SIM_CALIB_HALF;
	if (k < 0)
		return 0;
	return k >= SIM_CALIB_BUCKETS - 1 ? SIM_CALIB_BUCKETS - 1 : (size_t)k;
}

double sim_calib_edge(size_t i)
{
	return exp(((double)i - SIM_CALIB_HALF) * log1p(SIM_CALIB_STEP));
}

bsp_err sim_calib_init(struct sim_calib *c, const struct sim_ctx *ctx,
		       bsp_time until)
{
	memset(c, 0, sizeof(*c));
	c->day0 = bsp_time_floor(ctx->start, BSP_DAY);
	if (until <= c->day0 ||
	    (until - c->day0) / BSP_DAY >= SIM_CALIB_MAX_DAYS)
		return BSP_EINVAL;
	c->n_days = (size_t)((until - c->day0 + BSP_DAY - 1) / BSP_DAY);
	c->count = calloc(c->n_days * SIM_CALIB_BUCKETS, sizeof(*c->count));
	c->max = malloc(c->n_days * sizeof(*c->max));
	c->factor = malloc(c->n_days * sizeof(*c->factor));
	if (!c->count || !c->max || !c->factor) {
		free(c->count);
		free(c->max);
		free(c->factor);
		memset(c, 0, sizeof(*c));
		return BSP_ENOMEM;
	}
	for (size_t d = 0; d < c->n_days; d++) {
		c->max[d] = -INFINITY;
		c->factor[d] = NAN;
	}
	pthread_mutex_init(&c->lock, NULL);
	return BSP_OK;
}

bsp_err sim_calib_add(struct sim_calib *c, const struct sim_ctx *ctx,
		      const struct sim_trace *tr, bsp_time until)
{
	struct sim_ctx bc = *ctx;
	struct bsp_error err = {0};
	double *base;
	size_t n, i = 0;
	bsp_err rc;

	/* The base on the grid of the decisions, from the first step
	 * after ctx->start on: every step a decision that is scored. */
	bc.calib = NULL;
	if (ctx->start < ctx->from)
		bc.from -= (ctx->from - ctx->start) / ctx->step * ctx->step;
	if (until <= bc.from)
		return BSP_OK;
	n = bsp_grid_len(bc.from, until, ctx->step);
	base = malloc(n * sizeof(*base));
	if (!base)
		return BSP_ENOMEM;
	rc = sim_trace_run(&sim_policy_bespoke, &bc, tr, n, base, &err);
	if (rc != BSP_OK) {
		free(base);
		return rc;
	}
	while (i < tr->n && tr->ts[i] < bc.from)
		i++;
	pthread_mutex_lock(&c->lock);
	for (; i < tr->n && tr->ts[i] < until; i++) {
		double b = base[(tr->ts[i] - bc.from) / ctx->step], r;
		size_t d = (size_t)((tr->ts[i] - c->day0) / BSP_DAY);
		if (!(b > 0) || !isfinite(tr->v[i]) || d >= c->n_days)
			continue;
		r = tr->v[i] / b;
		c->count[d * SIM_CALIB_BUCKETS + sim_calib_bucket(r)]++;
		if (r > c->max[d])
			c->max[d] = r;
	}
	pthread_mutex_unlock(&c->lock);
	free(base);
	return BSP_OK;
}

void sim_calib_finish(struct sim_calib *c, const struct sim_ctx *ctx)
{
	double level = ctx->target > 0 ? ctx->target : BES_TARGET;
	size_t days = ctx->calib_days ? ctx->calib_days : 14;
	uint64_t *sum = calloc(SIM_CALIB_BUCKETS, sizeof(*sum)), m = 0;

	if (!sum)
		return; /* every factor stays NaN: no decision */
	for (size_t d = 0; d < c->n_days; d++) {
		double mx = -INFINITY, r;
		uint64_t k, cum = 0;
		size_t b;
		/* the window [d - days, d): add day d - 1, drop d - 1 - days */
		if (d >= 1)
			for (b = 0; b < SIM_CALIB_BUCKETS; b++) {
				uint32_t x =
				    c->count[(d - 1) * SIM_CALIB_BUCKETS + b];
				sum[b] += x;
				m += x;
			}
		if (d >= days + 1)
			for (b = 0; b < SIM_CALIB_BUCKETS; b++) {
				uint32_t x = c->count[(d - 1 - days) *
							  SIM_CALIB_BUCKETS +
						      b];
				sum[b] -= x;
				m -= x;
			}
		for (size_t e = d > days ? d - days : 0; e < d; e++)
			if (c->max[e] > mx)
				mx = c->max[e];
		if (!m)
			continue;
		r = ceil((double)(m + 1) * (1 - level));
		if (m < BES_MIN_SCORES || r > (double)m) {
			c->factor[d] = mx;
			continue;
		}
		k = (uint64_t)r;
		for (b = 0; b < SIM_CALIB_BUCKETS - 1; b++)
			if ((cum += sum[b]) >= k)
				break;
		c->factor[d] =
		    b < SIM_CALIB_BUCKETS - 1 && sim_calib_edge(b) < mx
			? sim_calib_edge(b)
			: mx;
	}
	free(sum);
}

double sim_calib_factor(const struct sim_calib *c, bsp_time t)
{
	bsp_time d;

	if (!c || t < c->day0)
		return NAN;
	d = (t - c->day0) / BSP_DAY;
	return (size_t)d < c->n_days ? c->factor[d] : NAN;
}

void sim_calib_release(struct sim_calib *c)
{
	if (c->count)
		pthread_mutex_destroy(&c->lock);
	free(c->count);
	free(c->max);
	free(c->factor);
	memset(c, 0, sizeof(*c));
}
