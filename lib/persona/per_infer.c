/*
 * The persona profiler: a posterior over the catalog from what a user says
 * and what it does.
 *
 * Text: multinomial naive Bayes (McCallum & Nigam, "A comparison of event
 * models for naive Bayes text classification", AAAI-98 workshop), one
 * class per persona, trained on its title (weight 2), description (1),
 * software names (3: naming a tool is the strongest thing a request says)
 * and data-set names (1), with Laplace smoothing over the catalog's
 * vocabulary. Words outside the vocabulary are ignored. An intended data
 * size adds a penalty of 2 nats per decade outside the persona's range of
 * data-set sizes (widened threefold each way).
 *
 * Usage: the observed daily and weekly CPU shapes and the persona's
 * profiles are both scaled to 0..1 (min to max), so that idle baselines
 * and machine size do not matter, and compared under a Gaussian with
 * sigma 0.2: log L = -sum (o - q)^2 / (2 sigma^2). The weight grows with
 * the history, reaching w_usage at a week: a shape seen for one day says
 * less than one seen for a month.
 *
 * Apps: launches are a multinomial over application names; a persona's
 * distribution is its software list with Laplace smoothing over every
 * name known (catalog and observed). The sum over launches is scaled to
 * at most 50 launches, because launches are far from independent (a
 * session repeats its chain) and would otherwise swamp everything else.
 */
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "persona_int.h"

#define PER_SIGMA 0.2
#define PER_APPS_CAP 50.0
#define PER_W_TITLE 2.0
#define PER_W_DESC 1.0
#define PER_W_SOFTWARE 3.0
#define PER_W_DATA 1.0

void bsp_persona_evidence_init(struct bsp_persona_evidence *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->data_gb = NAN;
	/* The CPU shape is a weaker witness than the apps: at 0.5 or more
	 * it overrode them on the demo fleet (seed 1); 0.25 was chosen there
	 * and checked on a fleet of another seed (docs/personas.md). */
	ev->w_usage = 0.25;
	ev->w_apps = 1;
}

void bsp_persona_evidence_release(struct bsp_persona_evidence *ev)
{
	for (size_t i = 0; i < ev->n_apps; i++)
		free(ev->apps[i]);
	free(ev->apps);
	ev->apps = NULL;
	ev->n_apps = 0;
}

void bsp_persona_scores_release(struct bsp_persona_scores *s)
{
	free(s->text);
	free(s->usage);
	free(s->apps);
	free(s->posterior);
	memset(s, 0, sizeof(*s));
}

static int per_persona_bag(const struct bsp_persona *p, struct per_bag *b)
{
	if (per_bag_add_text(b, p->title, PER_W_TITLE) < 0 ||
	    per_bag_add_text(b, p->description, PER_W_DESC) < 0)
		return -1;
	for (unsigned i = 0; i < p->software_count; i++)
		if (per_bag_add_text(b, p->software[i], PER_W_SOFTWARE) < 0)
			return -1;
	for (unsigned i = 0; i < p->datasets_count; i++)
		if (per_bag_add_text(b, p->datasets[i].name, PER_W_DATA) < 0)
			return -1;
	per_bag_finish(b);
	return 0;
}

/* Laplace-smoothed naive Bayes log-likelihood of the query under each
 * persona. */
static int per_text_scores(const struct bsp_persona_catalog *cat,
			   const struct bsp_persona_evidence *ev, double *out)
{
	size_t np = cat->personas_count;
	struct per_bag *bags = calloc(np, sizeof(*bags));
	struct per_bag vocab = {0}, q = {0};
	int rc = -1;

	if (!bags)
		return -1;
	for (size_t i = 0; i < np; i++) {
		if (per_persona_bag(&cat->personas[i], &bags[i]) < 0)
			goto out;
		for (size_t t = 0; t < bags[i].n; t++)
			if (per_bag_add_name(&vocab, bags[i].v[t].tok, 1) < 0)
				goto out;
	}
	per_bag_finish(&vocab);
	if (ev->text && per_bag_add_text(&q, ev->text, 1) < 0)
		goto out;
	for (size_t s = 0; s < ev->n_software; s++)
		if (per_bag_add_text(&q, ev->software[s], PER_W_SOFTWARE) < 0)
			goto out;
	per_bag_finish(&q);
	double V = (double)vocab.n;
	for (size_t i = 0; i < np; i++) {
		double ll = 0;
		for (size_t t = 0; t < q.n; t++) {
			if (per_bag_count(&vocab, q.v[t].tok) <= 0)
				continue;
			double c = per_bag_count(&bags[i], q.v[t].tok);
			ll += q.v[t].n * log((c + 1) / (bags[i].total + V));
		}
		out[i] = ll;
	}
	rc = 0;
out:
	for (size_t i = 0; i < np; i++)
		per_bag_release(&bags[i]);
	free(bags);
	per_bag_release(&vocab);
	per_bag_release(&q);
	return rc;
}

static double per_size_penalty(const struct bsp_persona *p, double gb)
{
	double lo = INFINITY, hi = 0;
	if (!isfinite(gb) || gb <= 0 || !p->datasets_count)
		return 0;
	for (unsigned i = 0; i < p->datasets_count; i++) {
		lo = fmin(lo, p->datasets[i].size_gb);
		hi = fmax(hi, p->datasets[i].size_gb);
	}
	double x = log10(gb), d = 0;
	if (x < log10(lo / 3))
		d = log10(lo / 3) - x;
	else if (x > log10(hi * 3))
		d = x - log10(hi * 3);
	return -2.0 * d;
}

static void per_minmax(const double *v, size_t n, double *out)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i])) {
			lo = fmin(lo, v[i]);
			hi = fmax(hi, v[i]);
		}
	for (size_t i = 0; i < n; i++)
		out[i] = !isfinite(v[i]) ? NAN
			 : hi - lo > 1e-12 ? (v[i] - lo) / (hi - lo)
					    : 0.5;
}

static double per_shape_ll(const double *obs, const double *prof, size_t n)
{
	double o[24], q[24], ll = 0;
	per_minmax(obs, n, o);
	per_minmax(prof, n, q);
	for (size_t i = 0; i < n; i++)
		if (isfinite(o[i])) {
			double d = o[i] - q[i];
			ll -= d * d / (2 * PER_SIGMA * PER_SIGMA);
		}
	return ll;
}

static int per_app_scores(const struct bsp_persona_catalog *cat,
			  const struct bsp_persona_evidence *ev, double *out)
{
	size_t np = cat->personas_count;
	struct per_bag *bags = calloc(np, sizeof(*bags));
	struct per_bag vocab = {0}, q = {0};
	int rc = -1;

	if (!bags)
		return -1;
	for (size_t i = 0; i < np; i++) {
		const struct bsp_persona *p = &cat->personas[i];
		for (unsigned s = 0; s < p->software_count; s++)
			if (per_bag_add_name(&bags[i], p->software[s], 1) < 0 ||
			    per_bag_add_name(&vocab, p->software[s], 1) < 0)
				goto out;
		per_bag_finish(&bags[i]);
	}
	for (size_t a = 0; a < ev->n_apps; a++)
		if (per_bag_add_name(&q, ev->apps[a], 1) < 0 ||
		    per_bag_add_name(&vocab, ev->apps[a], 1) < 0)
			goto out;
	per_bag_finish(&vocab);
	per_bag_finish(&q);
	double scale = q.total > PER_APPS_CAP ? PER_APPS_CAP / q.total : 1;
	for (size_t i = 0; i < np; i++) {
		double ll = 0;
		for (size_t t = 0; t < q.n; t++) {
			double c = per_bag_count(&bags[i], q.v[t].tok);
			ll += q.v[t].n *
			      log((c + 1) / (bags[i].total + (double)vocab.n));
		}
		out[i] = ll * scale * ev->w_apps;
	}
	rc = 0;
out:
	for (size_t i = 0; i < np; i++)
		per_bag_release(&bags[i]);
	free(bags);
	per_bag_release(&vocab);
	per_bag_release(&q);
	return rc;
}

bsp_err bsp_persona_infer(const struct bsp_persona_catalog *cat,
			  const struct bsp_persona_evidence *ev,
			  struct bsp_persona_scores *s, struct bsp_error *err)
{
	size_t np = cat->personas_count;

	memset(s, 0, sizeof(*s));
	s->n = np;
	s->text = calloc(np, sizeof(double));
	s->usage = calloc(np, sizeof(double));
	s->apps = calloc(np, sizeof(double));
	s->posterior = calloc(np, sizeof(double));
	if (!s->text || !s->usage || !s->apps || !s->posterior ||
	    per_text_scores(cat, ev, s->text) < 0 ||
	    (ev->n_apps && per_app_scores(cat, ev, s->apps) < 0)) {
		bsp_persona_scores_release(s);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	double wu = ev->w_usage * fmin(1.0, ev->days / 7.0);
	double mx = -INFINITY, sum = 0;
	for (size_t i = 0; i < np; i++) {
		const struct bsp_persona *p = &cat->personas[i];
		s->text[i] += per_size_penalty(p, ev->data_gb);
		if (ev->has_usage)
			s->usage[i] = wu * (per_shape_ll(ev->daily, p->daily, 24) +
					    per_shape_ll(ev->weekly, p->weekly,
							 7));
		s->posterior[i] = s->text[i] + s->usage[i] + s->apps[i];
		mx = fmax(mx, s->posterior[i]);
	}
	for (size_t i = 0; i < np; i++)
		sum += s->posterior[i] = exp(s->posterior[i] - mx);
	for (size_t i = 0; i < np; i++)
		s->posterior[i] /= sum;
	return BSP_OK;
}
