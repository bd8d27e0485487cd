/*
 * Flagging points outside the forecast's band (include/bespoke/anomaly.h).
 *
 * The walk goes one block (a UTC day by default) at a time. Each block is
 * forecast by the model from a cleaned copy of the history before it:
 * flagged points become gaps there, which the forecasters fill from the
 * same phase a period earlier, so a spike on Monday neither raises
 * Tuesday's expectation (a seasonal naive member would copy it) nor, by
 * that, hides a spike on Tuesday. The exception is a change: flags in
 * the same direction day after day (a level shift, a new nightly job) go
 * back into the cleaned history so that the model follows the new normal
 * instead of flagging it forever.
 *
 * The test on one point is the band of a calibrated forecast widened by a
 * factor: with the default p1..p99 band and factor 1.5, a correctly
 * calibrated Gaussian forecast error lands outside about 4.8e-4 of the
 * time (|z| > 1.5 x 2.326 = 3.49), so flags are rare on normal usage,
 * while the band itself comes from the model's backtest errors (split
 * conformal), so bursty series get wide bands and smooth ones narrow.
 */
#include <math.h>

#include <gsl/gsl_cdf.h>

#include "anomaly_int.h"

void bsp_anomaly_options_init(struct bsp_anomaly_options *opt)
{
	opt->level = 0.99;
	opt->factor = 1.5;
	opt->min_rel = 0.05;
	opt->block = BSP_DAY;
	opt->shift_after = 3 * BSP_DAY;
	opt->warmup = 0;
	opt->from = BSP_TIME_NONE;
}

bsp_time anom_auto_warmup(const struct bsp_fc_model *m)
{
	struct bsp_fc_info info;
	/* Several members look a week back (seasonal naive of a week, the
	 * regression's weekly lag) whether or not a weekly period was
	 * detected: a week to look back on and a week for them to settle. */
	bsp_time w = 14 * BSP_DAY;

	bsp_fc_model_info(m, &info);
	for (size_t i = 0; i < info.n_periods; i++)
		if (2 * (bsp_time)info.periods[i] * info.step > w)
			w = 2 * (bsp_time)info.periods[i] * info.step;
	return w;
}

bsp_err anom_opts_fill(const struct bsp_anomaly_options *in, bsp_time step,
		       struct bsp_anomaly_options *o, struct bsp_error *err)
{
	struct bsp_anomaly_options d;

	bsp_anomaly_options_init(&d);
	*o = in ? *in : d;
	if (o->level == 0)
		o->level = d.level;
	if (o->factor == 0)
		o->factor = d.factor;
	if (o->block == 0)
		o->block = d.block;
	if (o->shift_after == 0)
		o->shift_after = d.shift_after;
	if (!(o->level > 0.5 && o->level <= BSP_FC_LEVEL_MAX))
		return bsp_error_set(err, BSP_EINVAL,
				     "anomalies: level %g is outside (0.5, %g]",
				     o->level, BSP_FC_LEVEL_MAX);
	if (!(o->factor >= 1 && o->factor <= 100))
		return bsp_error_set(err, BSP_EINVAL,
				     "anomalies: factor %g is outside [1, 100]",
				     o->factor);
	if (!(o->min_rel >= 0 && o->min_rel <= 10))
		return bsp_error_set(err, BSP_EINVAL,
				     "anomalies: min_rel %g is outside [0, 10]",
				     o->min_rel);
	if (step <= 0 || o->block < step || o->block % step)
		return bsp_error_set(err, BSP_EINVAL,
				     "anomalies: the block (%lld s) must be a "
				     "whole number of steps (%lld s)",
				     (long long)(o->block / BSP_SECOND),
				     (long long)(step / BSP_SECOND));
	if (o->shift_after < 0 || o->warmup < 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "anomalies: shift_after and warmup must "
				     "not be negative");
	return BSP_OK;
}

void bsp_anomaly_result_release(struct bsp_anomaly_result *r)
{
	if (!r)
		return;
	free(r->flag);
	free(r->lo);
	free(r->mid);
	free(r->hi);
	free(r->periods);
	memset(r, 0, sizeof(*r));
}

size_t bsp_anomaly_mask(const struct bsp_anomaly_result *r, double *y)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++)
		if ((r->flag[i] & (BSP_ANOM_ABOVE | BSP_ANOM_BELOW)) &&
		    !(r->flag[i] & BSP_ANOM_SHIFT)) {
			y[i] = NAN;
			k++;
		}
	return k;
}

#define DIR_MASK (BSP_ANOM_ABOVE | BSP_ANOM_BELOW)

/*
 * The run of flags in one direction that starts at `k` (flagged) within
 * [k, end): gaps (NaN, unflagged) inside do not break it. Returns its
 * last flagged index.
 */
static size_t run_last(const struct bsp_anomaly_result *r, const double *y,
		       size_t k, size_t end)
{
	unsigned dir = r->flag[k] & DIR_MASK;
	size_t last = k;

	for (size_t j = k + 1; j < end; j++) {
		if (r->flag[j] & dir)
			last = j;
		else if (!(isnan(y[j]) && !r->flag[j]))
			break;
	}
	return last;
}

/*
 * After block j (points [b[j], b[j + 1])): when each of the last k blocks
 * has flags in one direction, or block j has and block j - 1 was already
 * part of a shift in that direction, the flags are a new pattern, not a
 * one-off: mark them and put their values back into the history, so the
 * model follows the change instead of flagging it forever.
 */
static void mark_shifts(struct bsp_anomaly_result *r,
			const struct bsp_fc_series *s, double *clean,
			const size_t *b, unsigned char *bdir,
			unsigned char *bshift, size_t j, size_t k)
{
	static const unsigned char dirs[2] = {BSP_ANOM_ABOVE, BSP_ANOM_BELOW};

	bdir[j] = bshift[j] = 0;
	for (size_t i = b[j]; i < b[j + 1]; i++)
		bdir[j] |= r->flag[i] & DIR_MASK;
	for (size_t d = 0; d < 2; d++) {
		unsigned char dir = dirs[d];
		size_t from = j + 1;
		if (!(bdir[j] & dir))
			continue;
		if (j >= 1 && (bshift[j - 1] & dir)) {
			from = j;
		} else if (j + 1 >= k) {
			size_t q = 0;
			while (q < k && (bdir[j - q] & dir))
				q++;
			if (q == k)
				from = j + 1 - k;
		}
		for (size_t x = from; x <= j; x++) {
			bshift[x] |= dir;
			for (size_t i = b[x]; i < b[x + 1]; i++)
				if (r->flag[i] & dir) {
					r->flag[i] |= BSP_ANOM_SHIFT;
					clean[i] = s->y[i];
				}
		}
	}
}

/* How far outside its band point i lies, in band widths; NaN when the
 * band has no width (a history of zeros: any use at all is outside). */
static double severity(const struct bsp_anomaly_result *r, double v, size_t i)
{
	double w = r->hi[i] - r->lo[i];

	if (!(w > 0))
		return NAN;
	return r->flag[i] & BSP_ANOM_ABOVE ? (v - r->hi[i]) / w
					   : (r->lo[i] - v) / w;
}

static bsp_err build_periods(struct bsp_anomaly_result *r,
			     const struct bsp_fc_series *s)
{
	size_t cap = 0, k = r->first;

	while (k < r->n) {
		if (!(r->flag[k] & DIR_MASK)) {
			k++;
			continue;
		}
		size_t last = run_last(r, s->y, k, r->n), best = k, cnt = 0;
		double sum_o = 0, sum_e = 0, best_sev = -INFINITY;
		struct bsp_anomaly_period *p;

		if (BSP_GROW(r->periods, cap, r->n_periods + 1))
			return BSP_ENOMEM;
		p = &r->periods[r->n_periods++];
		memset(p, 0, sizeof(*p));
		for (size_t q = k; q <= last; q++) {
			if (!(r->flag[q] & DIR_MASK))
				continue;
			double sev = severity(r, s->y[q], q);
			/* a point off a zero-width band is the furthest out */
			if ((isnan(sev) ? INFINITY : sev) > best_sev) {
				best_sev = sev;
				best = q;
			}
			sum_o += s->y[q];
			sum_e += r->mid[q];
			cnt++;
		}
		p->first = k;
		p->last = last;
		p->start = s->t0 + (bsp_time)k * s->step;
		p->end = s->t0 + (bsp_time)(last + 1) * s->step;
		p->n_points = cnt;
		p->direction = r->flag[k] & BSP_ANOM_ABOVE ? 1 : -1;
		p->shift = !!(r->flag[k] & BSP_ANOM_SHIFT);
		p->peak = s->t0 + (bsp_time)best * s->step;
		p->observed = s->y[best];
		p->expected = r->mid[best];
		p->band_lo = r->lo[best];
		p->band_hi = r->hi[best];
		double edge = p->direction > 0 ? p->band_hi : p->band_lo;
		p->ratio = edge != 0 ? p->observed / edge : NAN;
		p->severity = severity(r, s->y[best], best);
		p->mean_observed = sum_o / (double)cnt;
		p->mean_expected = sum_e / (double)cnt;
		k = last + 1;
	}
	return BSP_OK;
}

/* Mean absolute value of the valid y[0..n); 0 when there is none. */
static double mean_abs(const double *y, size_t n)
{
	double sum = 0;
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i])) {
			sum += fabs(y[i]);
			cnt++;
		}
	return cnt ? sum / (double)cnt : 0;
}

/* Tests the points [i, i + h) against the forecast `fo` made at i. */
static void test_block(struct bsp_anomaly_result *r,
		       const struct bsp_fc_series *s, double *clean, size_t i,
		       const struct bsp_fc_output *fo,
		       const struct bsp_anomaly_options *opt, int robust,
		       double zr)
{
	/* The half-band's floor: min_rel of the history's level, so that a
	 * near-constant series does not flag changes too small to matter. */
	double floor = opt->min_rel * mean_abs(clean, i);
	for (size_t j = 0; j < fo->horizon; j++) {
		size_t x = i + j;
		double v = s->y[x], mid = bsp_fc_q(fo, 2, j), up, down;

		if (robust) {
			up = (bsp_fc_q(fo, 3, j) - mid) * zr;
			down = (mid - bsp_fc_q(fo, 1, j)) * zr;
		} else {
			up = bsp_fc_q(fo, 4, j) - mid;
			down = mid - bsp_fc_q(fo, 0, j);
		}
		up = up > floor ? up : floor;
		down = down > floor ? down : floor;
		r->mid[x] = mid;
		r->hi[x] = mid + up;
		r->lo[x] = mid - down;
		if (isnan(v))
			continue;
		r->n_examined++;
		if (v > mid + opt->factor * up)
			r->flag[x] = BSP_ANOM_ABOVE;
		else if (v < mid - opt->factor * down)
			r->flag[x] = BSP_ANOM_BELOW;
		else
			continue;
		clean[x] = NAN;
	}
}

bsp_err anom_detect(const struct bsp_fc_series *s, const struct bsp_fc_model *m,
		    const struct bsp_anomaly_options *in_opt, int robust,
		    struct bsp_anomaly_result *out, struct bsp_error *err)
{
	struct bsp_anomaly_options opt;
	struct bsp_fc_info info;
	double levels[5], zr, *clean = NULL;
	size_t shift_blocks, i, nb, *b = NULL;
	unsigned char *bdir = NULL, *bshift = NULL;
	bsp_err rc;

	memset(out, 0, sizeof(*out));
	rc = anom_opts_fill(in_opt, s->step, &opt, err);
	if (rc)
		return rc;
	if (!m)
		return bsp_error_set(err, BSP_EINVAL, "anomalies: no model");
	bsp_fc_model_info(m, &info);
	if (info.step != s->step)
		return bsp_error_set(err, BSP_EINVAL,
				     "anomalies: the series' step is %lld s, "
				     "the model's %lld s",
				     (long long)(s->step / BSP_SECOND),
				     (long long)(info.step / BSP_SECOND));
	/* Band edges, the robust spread, the median. */
	levels[0] = 1 - opt.level;
	levels[1] = 0.1;
	levels[2] = 0.5;
	levels[3] = 0.9;
	levels[4] = opt.level;
	if (levels[0] < BSP_FC_LEVEL_MIN)
		levels[0] = BSP_FC_LEVEL_MIN;
	zr = gsl_cdf_ugaussian_Pinv(opt.level) / gsl_cdf_ugaussian_Pinv(0.9);
	shift_blocks = (size_t)((opt.shift_after + opt.block - 1) / opt.block);
	if (shift_blocks < 2)
		shift_blocks = 2;

	out->n = s->n;
	out->flag = calloc(s->n ? s->n : 1, 1);
	out->lo = malloc((s->n ? s->n : 1) * sizeof(double));
	out->mid = malloc((s->n ? s->n : 1) * sizeof(double));
	out->hi = malloc((s->n ? s->n : 1) * sizeof(double));
	clean = malloc((s->n ? s->n : 1) * sizeof(double));
	/* at most one block per point, and one more bound */
	b = malloc((s->n + 2) * sizeof(*b));
	bdir = malloc(s->n + 1);
	bshift = malloc(s->n + 1);
	if (!out->flag || !out->lo || !out->mid || !out->hi || !clean || !b ||
	    !bdir || !bshift) {
		rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		out->lo[i] = out->mid[i] = out->hi[i] = NAN;
		clean[i] = s->y[i];
	}
	if (!opt.warmup)
		opt.warmup = anom_auto_warmup(m);
	out->first = (size_t)((opt.warmup + s->step - 1) / s->step);
	if (opt.from != BSP_TIME_NONE && opt.from > s->t0 &&
	    (size_t)((opt.from - s->t0 + s->step - 1) / s->step) > out->first)
		out->first =
		    (size_t)((opt.from - s->t0 + s->step - 1) / s->step);
	if (out->first > s->n)
		out->first = s->n;

	for (i = out->first, nb = 0; i < s->n;) {
		bsp_time t = s->t0 + (bsp_time)i * s->step;
		bsp_time next = bsp_time_floor(t, opt.block) + opt.block;
		size_t h = (size_t)((next - t + s->step - 1) / s->step);
		struct bsp_fc_series hist = {clean, i, s->t0, s->step};
		struct bsp_fc_output fo = {0};
		struct bsp_error e = {0};

		if (h > s->n - i)
			h = s->n - i;
		rc = bsp_fc_predict(m, &hist, h, levels, 5, &fo, &e);
		b[nb] = i;
		b[nb + 1] = i + h;
		if (rc == BSP_EINVAL) {
			/* Too few points before this block (a long gap):
			 * it cannot be examined, the next one may. */
			bdir[nb] = bshift[nb] = 0;
			nb++;
			i += h;
			continue;
		}
		if (rc) {
			bsp_error_set(err, rc, "anomalies: %s", e.msg);
			goto out;
		}
		test_block(out, s, clean, i, &fo, &opt, robust, zr);
		bsp_fc_output_release(&fo);
		mark_shifts(out, s, clean, b, bdir, bshift, nb, shift_blocks);
		nb++;
		i += h;
	}
	rc = BSP_OK;
	for (i = out->first; i < s->n; i++)
		if (out->flag[i] & DIR_MASK) {
			out->n_flagged++;
			out->n_excluded += !(out->flag[i] & BSP_ANOM_SHIFT);
		}
	if (build_periods(out, s) != BSP_OK)
		rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
out:
	free(clean);
	free(b);
	free(bdir);
	free(bshift);
	if (rc)
		bsp_anomaly_result_release(out);
	return rc;
}

bsp_err bsp_anomaly_detect(const struct bsp_fc_series *s,
			   const struct bsp_fc_model *m,
			   const struct bsp_anomaly_options *opt,
			   struct bsp_anomaly_result *out,
			   struct bsp_error *err)
{
	return anom_detect(s, m, opt, 0, out, err);
}
