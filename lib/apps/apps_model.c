/*
 * The next-application model: variable-order Markov chains blended by
 * Witten-Bell interpolation.
 *
 * Each context (owner, order, previous `order` applications) keeps counts
 * of the applications that followed it. The owner is the population
 * (every user's sequences) or one user; the user also has one context per
 * hour of day (order "hour") when events carry time. A prediction starts
 * from the uniform distribution over every known name and walks up a
 * chain of contexts, each mixed in with weight
 *
 *     lambda = N / (N + T)    (N events seen in the context, T distinct)
 *
 * the blending of PPM method C (Cleary & Witten 1984; Moffat 1990) and
 * Witten-Bell smoothing (Witten & Bell 1991): a context that has seen
 * many events with few distinct followers is trusted, a new or erratic
 * one defers to the shorter context below it. The chain is
 *
 *     uniform, pop/0, user/0, user/hour, pop/1, user/1, pop/2, user/2, ...
 *
 * so at every order the user's own evidence overrides the population's,
 * and a longer context overrides a shorter one; an unseen user context
 * (weight 0) leaves the population's prediction in place. docs/apps.md
 * has the measurements behind the order and the blending.
 *
 * The user's counts may decay (each new event multiplies the old counts
 * by `decay`), after the recency weighting of Davison & Hirsh's
 * incremental probabilistic action modelling (1998). Decay is applied
 * lazily: a context stores counts relative to its reference time and is
 * rescaled only when the factor grows large.
 */
#include <math.h>

#include "apps_int.h"

#define ORDER_HOUR 15u
#define ID_BITS 21
#define ID_MAX ((1u << ID_BITS) - 2)
/* Rescale a decaying context once its stored counts are this large. */
#define RESCALE_AT 1e60

struct follower {
	uint32_t id;
	double count; /* relative to the context's reference time */
};

struct ctx {
	double total;   /* sum of the followers' counts (same units) */
	uint64_t t_ref; /* the owner's event counter the counts refer to */
	struct follower *f;
	size_t n_f, cap_f;
};

struct user {
	char *name;
	uint32_t hist[BSP_APPS_MAX_ORDER]; /* last ids, most recent first */
	unsigned n_hist;
	uint64_t t; /* events learned by this user's model */
};

struct bsp_apps {
	struct bsp_apps_options opt;
	struct apps_vocab vocab;
	struct apps_map ctx_index; /* context key -> index in ctxs */
	struct apps_map fol_index; /* (context, id) -> index in its f */
	struct ctx *ctxs;
	size_t n_ctxs, cap_ctxs;
	struct user *users;
	size_t n_users, cap_users;
	struct apps_map user_index; /* (hash, probe) -> user */
	double *q;                  /* prediction scratch, one per name */
	size_t cap_q;
};

void bsp_apps_options_init(struct bsp_apps_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->order = 3;
	opt->population = 1;
	opt->hour_of_day = 1;
	opt->decay = 1.0;
	opt->hour_window = 10;
	opt->day_window = 100;
	opt->recent = 2000;
	opt->days = 28;
}

bsp_err bsp_apps_new(struct bsp_apps **out, const struct bsp_apps_options *opt,
		     struct bsp_error *err)
{
	struct bsp_apps *m;

	*out = NULL;
	if (opt && opt->order > BSP_APPS_MAX_ORDER)
		return bsp_error_set(err, BSP_EINVAL,
				     "order %u: at most %d", opt->order,
				     BSP_APPS_MAX_ORDER);
	if (opt && !(opt->decay > 0 && opt->decay <= 1))
		return bsp_error_set(err, BSP_EINVAL,
				     "decay %g: must be in (0, 1]", opt->decay);
	if (!(m = calloc(1, sizeof(*m))))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	if (opt)
		m->opt = *opt;
	else
		bsp_apps_options_init(&m->opt);
	*out = m;
	return BSP_OK;
}

void bsp_apps_free(struct bsp_apps *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_ctxs; i++)
		free(m->ctxs[i].f);
	free(m->ctxs);
	for (size_t i = 0; i < m->n_users; i++)
		free(m->users[i].name);
	free(m->users);
	free(m->q);
	apps_vocab_release(&m->vocab);
	apps_map_release(&m->ctx_index);
	apps_map_release(&m->fol_index);
	apps_map_release(&m->user_index);
	free(m);
}

bsp_err bsp_apps_user(struct bsp_apps *m, const char *name, size_t *user,
		      struct bsp_error *err)
{
	uint64_t h = apps_hash(name), probe = 0;
	struct user *u;

	for (;; probe++) {
		uint32_t i = apps_map_get(&m->user_index, h, probe);
		if (i == UINT32_MAX)
			break;
		if (!strcmp(m->users[i].name, name)) {
			*user = i;
			return BSP_OK;
		}
	}
	if (m->n_users >= (1u << 30) ||
	    BSP_GROW(m->users, m->cap_users, m->n_users + 1))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	u = &m->users[m->n_users];
	memset(u, 0, sizeof(*u));
	if (!(u->name = bsp_strdup(name)) ||
	    apps_map_put(&m->user_index, h, probe, (uint32_t)m->n_users)) {
		free(u->name);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	*user = m->n_users++;
	return BSP_OK;
}

/* Owner 0 is the population, u + 1 user u. */
static uint64_t key1(size_t owner, unsigned order, unsigned hour)
{
	return ((uint64_t)owner << 16) | ((uint64_t)order << 8) | hour;
}

static uint64_t key2(const struct user *u, unsigned order)
{
	uint64_t k = 0;
	for (unsigned i = 0; i < order; i++)
		k |= (uint64_t)(u->hist[i] + 1) << (ID_BITS * i);
	return k;
}

static unsigned hour_of(bsp_time ts)
{
	return (unsigned)(bsp_time_floor(ts, BSP_HOUR) / BSP_HOUR % 24 + 24) % 24;
}

/* The real count of a stored value at the owner's time t. */
static double scale_at(const struct bsp_apps *m, const struct ctx *c,
		       size_t owner, uint64_t t)
{
	if (!owner || m->opt.decay >= 1.0)
		return 1.0;
	return pow(m->opt.decay, (double)(t - c->t_ref));
}

static int learn(struct bsp_apps *m, size_t owner, unsigned order,
		 unsigned hour, uint64_t k2, uint32_t id, uint64_t t)
{
	uint64_t k1 = key1(owner, order, hour);
	uint32_t ci = apps_map_get(&m->ctx_index, k1, k2), fi;
	struct ctx *c;
	double w;

	if (ci == UINT32_MAX) {
		if (m->n_ctxs >= UINT32_MAX - 1 ||
		    BSP_GROW(m->ctxs, m->cap_ctxs, m->n_ctxs + 1) ||
		    apps_map_put(&m->ctx_index, k1, k2, (uint32_t)m->n_ctxs))
			return -1;
		ci = (uint32_t)m->n_ctxs++;
		memset(&m->ctxs[ci], 0, sizeof(m->ctxs[ci]));
		m->ctxs[ci].t_ref = t;
	}
	c = &m->ctxs[ci];
	w = 1.0 / scale_at(m, c, owner, t);
	if (w > RESCALE_AT) {
		double s = 1.0 / w;
		for (size_t i = 0; i < c->n_f; i++)
			c->f[i].count *= s;
		c->total *= s;
		c->t_ref = t;
		w = 1.0;
	}
	fi = apps_map_get(&m->fol_index, ci, id);
	if (fi == UINT32_MAX) {
		if (BSP_GROW(c->f, c->cap_f, c->n_f + 1) ||
		    apps_map_put(&m->fol_index, ci, id, (uint32_t)c->n_f))
			return -1;
		fi = (uint32_t)c->n_f++;
		c->f[fi].id = id;
		c->f[fi].count = 0;
	}
	c->f[fi].count += w;
	c->total += w;
	return 0;
}

bsp_err bsp_apps_observe(struct bsp_apps *m, size_t user, const char *app,
			 bsp_time ts, unsigned flags, struct bsp_error *err)
{
	struct user *u;
	long id;
	int rc = 0;

	if (user >= m->n_users)
		return bsp_error_set(err, BSP_EINVAL, "no user %zu", user);
	u = &m->users[user];
	if ((id = apps_vocab_add(&m->vocab, app)) < 0)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	if ((size_t)id > ID_MAX)
		return bsp_error_set(err, BSP_ELIMIT,
				     "more than %u distinct applications",
				     ID_MAX);
	if (flags & BSP_APPS_LEARN_USER)
		u->t++;
	for (unsigned o = 0; o <= m->opt.order && o <= u->n_hist && !rc; o++) {
		uint64_t k2 = key2(u, o);
		if (flags & BSP_APPS_LEARN_POPULATION)
			rc |= learn(m, 0, o, 0, k2, (uint32_t)id, 0);
		if (flags & BSP_APPS_LEARN_USER)
			rc |= learn(m, user + 1, o, 0, k2, (uint32_t)id, u->t);
	}
	if (!rc && (flags & BSP_APPS_LEARN_USER) && ts != BSP_TIME_NONE &&
	    m->opt.hour_of_day)
		rc = learn(m, user + 1, ORDER_HOUR, hour_of(ts), 0,
			   (uint32_t)id, u->t);
	if (rc)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	memmove(u->hist + 1, u->hist, (BSP_APPS_MAX_ORDER - 1) * sizeof(*u->hist));
	u->hist[0] = (uint32_t)id;
	if (u->n_hist < BSP_APPS_MAX_ORDER)
		u->n_hist++;
	return BSP_OK;
}

void bsp_apps_break(struct bsp_apps *m, size_t user)
{
	if (user < m->n_users)
		m->users[user].n_hist = 0;
}

size_t bsp_apps_context(const struct bsp_apps *m, size_t user,
			const char **ctx, size_t cap)
{
	const struct user *u;
	size_t n;

	if (user >= m->n_users)
		return 0;
	u = &m->users[user];
	n = u->n_hist < m->opt.order ? u->n_hist : m->opt.order;
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		ctx[i] = m->vocab.names[u->hist[n - 1 - i]];
	return n;
}

/* Mixes context (owner, order, hour, k2) into q (true p = q * *s). */
static void mix_in(struct bsp_apps *m, size_t owner, unsigned order,
		   unsigned hour, uint64_t k2, uint64_t t, double *s)
{
	uint32_t ci = apps_map_get(&m->ctx_index, key1(owner, order, hour), k2);
	const struct ctx *c;
	double sc, n, lambda, a;

	if (ci == UINT32_MAX)
		return;
	c = &m->ctxs[ci];
	sc = scale_at(m, c, owner, t);
	n = c->total * sc;
	if (!(n > 0))
		return;
	lambda = n / (n + (double)c->n_f);
	*s *= 1.0 - lambda;
	if (*s < 1e-200) {
		for (size_t i = 0; i < m->vocab.n; i++)
			m->q[i] *= *s;
		*s = 1.0;
	}
	a = lambda / c->total / *s;
	for (size_t i = 0; i < c->n_f; i++)
		m->q[c->f[i].id] += a * c->f[i].count;
}

bsp_err bsp_apps_predict(struct bsp_apps *m, size_t user, bsp_time at,
			 size_t k, struct bsp_apps_pred *out, size_t *n,
			 struct bsp_error *err)
{
	size_t v = m->vocab.n, filled = 0;
	struct user *u;
	double s = 1.0;

	*n = 0;
	if (user >= m->n_users)
		return bsp_error_set(err, BSP_EINVAL, "no user %zu", user);
	u = &m->users[user];
	if (!v || !k)
		return BSP_OK;
	if (v > m->cap_q) {
		double *q = realloc(m->q, v * sizeof(*q));
		if (!q)
			return bsp_error_set(err, BSP_ENOMEM, "out of memory");
		m->q = q;
		m->cap_q = v;
	}
	for (size_t i = 0; i < v; i++)
		m->q[i] = 1.0 / (double)v;
	for (unsigned o = 0; o <= m->opt.order && o <= u->n_hist; o++) {
		uint64_t k2 = key2(u, o);
		if (m->opt.population)
			mix_in(m, 0, o, 0, k2, 0, &s);
		mix_in(m, user + 1, o, 0, k2, u->t, &s);
		if (o == 0 && at != BSP_TIME_NONE && m->opt.hour_of_day)
			mix_in(m, user + 1, ORDER_HOUR, hour_of(at), 0, u->t,
			       &s);
	}
	/* Top k by insertion into a sorted array: k is small. */
	for (size_t i = 0; i < v; i++) {
		double p = m->q[i] * s;
		size_t j;
		if (filled == k && p <= out[k - 1].p)
			continue;
		j = filled < k ? filled++ : k - 1;
		while (j > 0 && out[j - 1].p < p) {
			out[j] = out[j - 1];
			j--;
		}
		out[j].app = m->vocab.names[i];
		out[j].p = p;
	}
	*n = filled;
	return BSP_OK;
}
