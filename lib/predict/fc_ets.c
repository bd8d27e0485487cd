/*
 * Exponential smoothing: additive Holt-Winters with up to two seasonal
 * cycles (a day and a week), an optional damped trend, and an AR(1)
 * correction of its one-step residuals.
 *
 * This is Taylor's double seasonal Holt-Winters ("Short-term electricity
 * demand forecasting using double seasonal exponential smoothing", JORS
 * 2003), written in error-correction form (Hyndman et al., "Forecasting
 * with Exponential Smoothing: The State Space Approach", 2008) with
 * Gardner & McKenzie's damped trend (1985). With base_t = l + phi*b +
 * s1[t] + s2[t] (seasonal states indexed by the phase of t in the UTC day
 * and week), the one-step forecast is base_t + rho * r_{t-1}, where r is
 * the residual y - base, and with the innovation e_t = y_t - forecast:
 *
 *     l  <- l + phi*b + alpha*e        s1[t] <- s1[t] + gamma1*e
 *     b  <- phi*b + beta*e             s2[t] <- s2[t] + gamma2*e
 *
 * h steps ahead: l + (phi + ... + phi^h)*b + s1 + s2 + rho^h * r.
 * A missing value makes no update and carries rho*r forward.
 *
 * The states start from the first cycles of the history given (level:
 * mean of the first day; daily states: mean deviation of each phase over
 * the first two days; weekly states: what remains at each phase of the
 * first two weeks), so a model's state is never saved: it is re-filtered
 * over whatever history predict gets. The parameters minimise the sum of
 * absolute one-step errors after the first cycle (GSL's Nelder-Mead,
 * gsl_multimin_fminimizer_nmsimplex2, on logistic-transformed parameters
 * within R forecast's usual bounds). Absolute rather than squared error,
 * because these series are bursty: squared error lets a few bursts pull
 * the smoothing towards chasing them, and MASE, the score, is an absolute
 * error too.
 */
#include <gsl/gsl_multimin.h>

#include "predict.h"

#define ETS_NP 7 /* alpha beta phi gamma1 gamma2 rho trend */
#define ETS_MAX_ITER 200
#define ETS_TOL 1e-3
#define ETS_MAX_SEASON (1 << 16)

struct ets_par {
	double alpha, beta, phi, gamma1, gamma2, rho;
	int trend;
};

struct ets_state {
	double l, b, r;
	double *s1, *s2; /* season[0], season[1] states, or NULL */
};

static size_t ets_min(const struct fc_data *d)
{
	return d->period[0] ? 2 * d->period[0] : 24;
}

static void par_get(const struct fc_fit *fit, struct ets_par *p)
{
	p->alpha = fit->p[0];
	p->beta = fit->p[1];
	p->phi = fit->p[2];
	p->gamma1 = fit->p[3];
	p->gamma2 = fit->p[4];
	p->rho = fit->p[5];
	p->trend = fit->p[6] != 0;
}

static void par_set(struct fc_fit *fit, const struct ets_par *p)
{
	fit->np = ETS_NP;
	fit->p[0] = p->alpha;
	fit->p[1] = p->beta;
	fit->p[2] = p->phi;
	fit->p[3] = p->gamma1;
	fit->p[4] = p->gamma2;
	fit->p[5] = p->rho;
	fit->p[6] = p->trend;
}

/* Initial states from the first cycles of f[0..n). */
static void init_state(const struct fc_data *d, size_t n, const size_t *season,
		       struct ets_state *st)
{
	size_t p1 = season[0], p2 = season[1], w, i;
	double sum = 0;

	st->b = 0;
	st->r = 0;
	w = p1 ? p1 : 24;
	if (w > n)
		w = n;
	for (i = 0; i < w; i++)
		sum += d->f[i];
	st->l = sum / (double)w;
	if (p1) {
		size_t m = 2 * p1 < n ? 2 * p1 : n;
		for (i = 0; i < p1; i++)
			st->s1[i] = 0;
		sum = 0;
		for (i = 0; i < m; i++)
			sum += d->f[i];
		sum /= (double)m;
		/* mean deviation per phase over the first (up to) two days */
		for (i = 0; i < p1; i++) {
			double acc = 0;
			size_t c = 0, t;
			for (t = i; t < m; t += p1) {
				acc += d->f[t] - sum;
				c++;
			}
			if (c)
				st->s1[fc_phase(d, i, p1)] = acc / (double)c;
		}
	}
	if (p2) {
		size_t m = 2 * p2 < n ? 2 * p2 : n;
		for (i = 0; i < p2; i++)
			st->s2[i] = 0;
		for (i = 0; i < p2 && i < m; i++) {
			double acc = 0;
			size_t c = 0, t;
			for (t = i; t < m; t += p2) {
				double s = p1 ? st->s1[fc_phase(d, t, p1)] : 0;
				acc += d->f[t] - st->l - s;
				c++;
			}
			st->s2[fc_phase(d, i, p2)] = acc / (double)c;
		}
	}
}

/*
 * Runs the filter over y[0..n); returns the sum of absolute one-step
 * errors from point `burn` on (the fitting loss). The states after n stay
 * in st.
 */
static double filter(const struct fc_data *d, size_t n, const size_t *season,
		     const struct ets_par *p, struct ets_state *st, size_t burn)
{
	size_t p1 = season[0], p2 = season[1], i1, i2, t;
	double loss = 0, phi = p->trend ? p->phi : 0;

	init_state(d, n, season, st);
	i1 = fc_phase(d, 0, p1);
	i2 = fc_phase(d, 0, p2);
	for (t = 0; t < n; t++) {
		double s1 = p1 ? st->s1[i1] : 0, s2 = p2 ? st->s2[i2] : 0;
		double base = st->l + phi * st->b + s1 + s2;
		double yt = d->y[t];
		if (isnan(yt)) {
			st->l += phi * st->b;
			st->b *= phi;
			st->r *= p->rho;
		} else {
			double e = yt - (base + p->rho * st->r);
			st->l += phi * st->b + p->alpha * e;
			st->b = phi * st->b + p->beta * e;
			if (p1)
				st->s1[i1] = s1 + p->gamma1 * e;
			if (p2)
				st->s2[i2] = s2 + p->gamma2 * e;
			st->r = yt - base;
			if (t >= burn)
				loss += fabs(e);
		}
		if (p1 && ++i1 == p1)
			i1 = 0;
		if (p2 && ++i2 == p2)
			i2 = 0;
	}
	return loss;
}

static bsp_err state_alloc(struct ets_state *st, const size_t *season)
{
	memset(st, 0, sizeof(*st));
	if (season[0] > ETS_MAX_SEASON || season[1] > ETS_MAX_SEASON)
		return BSP_EINVAL;
	st->s1 = malloc((season[0] + season[1] + 1) * sizeof(double));
	if (!st->s1)
		return BSP_ENOMEM;
	st->s2 = season[1] ? st->s1 + season[0] : NULL;
	return BSP_OK;
}

static bsp_err ets_forecast(const struct fc_fit *fit, const struct fc_data *d,
			    size_t n, size_t h, double *out)
{
	struct ets_state st;
	struct ets_par p;
	size_t p1 = fit->season[0], p2 = fit->season[1], j;
	double phi, php = 1, damp = 0, rr;
	bsp_err rc;

	par_get(fit, &p);
	rc = state_alloc(&st, fit->season);
	if (rc)
		return rc;
	filter(d, n, fit->season, &p, &st, n);
	phi = p.trend ? p.phi : 0;
	rr = st.r;
	for (j = 0; j < h; j++) {
		double s = 0;
		php *= phi;
		damp += php;
		rr *= p.rho;
		if (p1)
			s += st.s1[fc_phase(d, n + j, p1)];
		if (p2)
			s += st.s2[fc_phase(d, n + j, p2)];
		out[j] = st.l + damp * st.b + s + rr;
	}
	free(st.s1);
	return BSP_OK;
}

/* ---- fitting ----------------------------------------------------------- */

struct fit_ctx {
	const struct fc_data *d;
	size_t n, burn;
	const size_t *season;
	struct ets_state st;
	int trend;
	double worst; /* returned for any non-finite loss */
};

static double logistic(double u)
{
	return 1 / (1 + exp(-u));
}

static double logit(double x)
{
	return log(x / (1 - x));
}

/* The free coordinates: alpha, rho, [gamma1], [gamma2], [beta, phi]. */
static void decode(const struct fit_ctx *c, const gsl_vector *u,
		   struct ets_par *p)
{
	size_t k = 0;

	memset(p, 0, sizeof(*p));
	p->alpha = 0.001 + 0.998 * logistic(gsl_vector_get(u, k++));
	p->rho = 0.98 * logistic(gsl_vector_get(u, k++));
	if (c->season[0])
		p->gamma1 = (1 - p->alpha) * 0.5 *
			    logistic(gsl_vector_get(u, k++));
	if (c->season[1])
		p->gamma2 = (1 - p->alpha) * 0.5 *
			    logistic(gsl_vector_get(u, k++));
	p->trend = c->trend;
	p->phi = 1;
	if (c->trend) {
		p->beta = 0.2 * p->alpha * logistic(gsl_vector_get(u, k++));
		p->phi = 0.8 + 0.18 * logistic(gsl_vector_get(u, k++));
	}
}

static void encode(const struct fit_ctx *c, const struct ets_par *p,
		   gsl_vector *u)
{
	size_t k = 0;
	double a = p->alpha, g;

#define CLAMP01(x) ((x) < 1e-4 ? 1e-4 : (x) > 1 - 1e-4 ? 1 - 1e-4 : (x))
	gsl_vector_set(u, k++, logit(CLAMP01((a - 0.001) / 0.998)));
	gsl_vector_set(u, k++, logit(CLAMP01(p->rho / 0.98)));
	if (c->season[0]) {
		g = p->gamma1 / ((1 - a) * 0.5);
		gsl_vector_set(u, k++, logit(CLAMP01(g)));
	}
	if (c->season[1]) {
		g = p->gamma2 / ((1 - a) * 0.5);
		gsl_vector_set(u, k++, logit(CLAMP01(g)));
	}
	if (c->trend) {
		gsl_vector_set(u, k++, logit(CLAMP01(p->beta / (0.2 * a))));
		gsl_vector_set(u, k++, logit(CLAMP01((p->phi - 0.8) / 0.18)));
	}
#undef CLAMP01
}

static double objective(const gsl_vector *u, void *arg)
{
	struct fit_ctx *c = arg;
	struct ets_par p;
	double loss;

	decode(c, u, &p);
	loss = filter(c->d, c->n, c->season, &p, &c->st, c->burn);
	/* Nelder-Mead must never see a non-finite value (GSL aborts) */
	return isfinite(loss) ? loss : c->worst;
}

static bsp_err ets_fit_common(const struct fc_data *d, size_t n,
			      const struct fc_fit *warm, struct fc_fit *fit,
			      int trend)
{
	const gsl_multimin_fminimizer_type *T =
		gsl_multimin_fminimizer_nmsimplex2;
	gsl_multimin_fminimizer *s = NULL;
	gsl_multimin_function fn;
	gsl_vector *u = NULL, *step = NULL;
	struct fit_ctx c;
	struct ets_par p = {0.2, 0.01, 0.95, 0.05, 0.05, 0.3, trend};
	size_t dim, it;
	bsp_err rc;

	fit->season[0] = d->period[0];
	fit->season[1] = d->period[1];
	memset(&c, 0, sizeof(c));
	c.d = d;
	c.n = n;
	c.season = fit->season;
	c.trend = trend;
	c.burn = fit->season[0] ? fit->season[0] : 24;
	c.worst = 1e300;
	if (warm && warm->np == ETS_NP)
		par_get(warm, &p);
	p.trend = trend;
	rc = state_alloc(&c.st, fit->season);
	if (rc)
		return rc;
	dim = 2 + (fit->season[0] != 0) + (fit->season[1] != 0) +
	      (trend ? 2 : 0);
	u = gsl_vector_alloc(dim);
	step = gsl_vector_alloc(dim);
	s = gsl_multimin_fminimizer_alloc(T, dim);
	if (!u || !step || !s) {
		rc = BSP_ENOMEM;
		goto out;
	}
	encode(&c, &p, u);
	gsl_vector_set_all(step, warm ? 0.3 : 1.0);
	fn.n = dim;
	fn.f = objective;
	fn.params = &c;
	if (gsl_multimin_fminimizer_set(s, &fn, u, step)) {
		rc = BSP_EINTERNAL;
		goto out;
	}
	for (it = 0; it < ETS_MAX_ITER; it++) {
		if (gsl_multimin_fminimizer_iterate(s))
			break;
		if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(s),
					   ETS_TOL) == GSL_SUCCESS)
			break;
	}
	decode(&c, gsl_multimin_fminimizer_x(s), &p);
	par_set(fit, &p);
out:
	gsl_multimin_fminimizer_free(s);
	gsl_vector_free(u);
	gsl_vector_free(step);
	free(c.st.s1);
	return rc;
}

static bsp_err ets_fit(const struct fc_data *d, size_t n,
		       const struct fc_fit *warm, struct fc_fit *fit)
{
	return ets_fit_common(d, n, warm, fit, 0);
}

static bsp_err ets_damped_fit(const struct fc_data *d, size_t n,
			      const struct fc_fit *warm, struct fc_fit *fit)
{
	return ets_fit_common(d, n, warm, fit, 1);
}

static int ets_check(const struct fc_fit *fit)
{
	struct ets_par p;

	if (fit->np != ETS_NP || fit->season[0] > ETS_MAX_SEASON ||
	    fit->season[1] > ETS_MAX_SEASON)
		return -1;
	par_get(fit, &p);
	if (!(p.alpha > 0 && p.alpha < 1) || !(p.rho >= 0 && p.rho < 1) ||
	    !(p.gamma1 >= 0 && p.gamma1 < 1) ||
	    !(p.gamma2 >= 0 && p.gamma2 < 1) || !(p.beta >= 0 && p.beta < 1) ||
	    !(p.phi > 0 && p.phi <= 1))
		return -1;
	return 0;
}

static void ets_describe(const struct fc_fit *fit, char *buf, size_t size)
{
	struct ets_par p;

	par_get(fit, &p);
	if (p.trend)
		snprintf(buf, size,
			 "alpha=%.3g beta=%.3g phi=%.3g gamma1=%.3g "
			 "gamma2=%.3g rho=%.3g seasons=%zu,%zu",
			 p.alpha, p.beta, p.phi, p.gamma1, p.gamma2, p.rho,
			 fit->season[0], fit->season[1]);
	else
		snprintf(buf, size,
			 "alpha=%.3g gamma1=%.3g gamma2=%.3g rho=%.3g "
			 "seasons=%zu,%zu",
			 p.alpha, p.gamma1, p.gamma2, p.rho, fit->season[0],
			 fit->season[1]);
}

const struct fc_kind fc_kind_ets = {
	.name = "ets",
	.help = "Holt-Winters, daily and weekly seasons, AR(1) residuals",
	.flags = 0,
	.min_points = ets_min,
	.fit = ets_fit,
	.forecast = ets_forecast,
	.check = ets_check,
	.describe = ets_describe,
};

const struct fc_kind fc_kind_ets_damped = {
	.name = "ets_damped",
	.help = "Holt-Winters as ets, with a damped trend",
	.flags = 0,
	.min_points = ets_min,
	.fit = ets_damped_fit,
	.forecast = ets_forecast,
	.check = ets_check,
	.describe = ets_describe,
};
