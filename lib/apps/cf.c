/*
 * Software recommendations: item-based collaborative filtering on
 * implicit feedback (Sarwar et al., WWW 2001; Deshpande & Karypis, "Item-
 * based top-N recommendation algorithms", ACM TOIS 2004).
 *
 * The user x application matrix holds launch counts. Counts say how much
 * someone relies on a tool, but a compiler run 5,000 times is not 5,000
 * times the evidence of an editor run once a day, so each cell becomes
 * w = log(1 + count), the damping Hu, Koren & Volinsky (ICDM 2008) use
 * for confidence in implicit feedback. Two applications are similar when
 * the same users rely on them: cosine of their columns. A user's score
 * for an application it does not use is the sum of that application's
 * similarities to the ones it does use; the top contributors are the
 * "because you use" reasons, and the users most similar to it (cosine of
 * rows) who use the application are the "people like you" reasons.
 *
 * Item-item rather than implicit ALS: fleets are small (tens to thousands
 * of users, hundreds of applications), the similarities need no training
 * or hyper-parameters, every recommendation can be explained by named
 * applications, and new usage shows up without refitting. Similarities
 * are computed on demand from co-occurrences through shared users, so
 * the cost per user is its applications x their users x their apps.
 *
 * Evaluation hides a seeded share of each qualifying user's applications
 * (the cells are masked, norms corrected), recommends from the rest, and
 * measures recall@k against a popularity baseline.
 */
#include <math.h>

#include "apps_int.h"

struct cf_entry {
	uint32_t user, app;
	double count;
};

struct bsp_cf {
	struct apps_vocab users, apps;
	struct apps_map cell; /* (user, app) -> entry */
	struct cf_entry *e;
	size_t n_e, cap_e;
	/* Built on demand (dirty after an add): entries by user and by app. */
	int built;
	size_t *u_off, *a_off; /* n+1 offsets into u_ent / a_ent */
	uint32_t *u_ent, *a_ent;
	double *w;        /* per entry: log(1 + count) */
	double *norm2;    /* per app: sum of w^2 over users */
	size_t *n_users;  /* per app: users with it */
	unsigned char *hidden; /* per entry, during evaluation */
	/* Scratch, one per app / user. */
	double *dot, *usim, *sim_row;
	unsigned char *mine;
};

bsp_err bsp_cf_new(struct bsp_cf **out, struct bsp_error *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	return BSP_OK;
}

static void unbuild(struct bsp_cf *cf)
{
	free(cf->u_off);
	free(cf->a_off);
	free(cf->u_ent);
	free(cf->a_ent);
	free(cf->w);
	free(cf->norm2);
	free(cf->n_users);
	free(cf->hidden);
	free(cf->dot);
	free(cf->usim);
	free(cf->sim_row);
	free(cf->mine);
	cf->u_off = cf->a_off = NULL;
	cf->u_ent = cf->a_ent = NULL;
	cf->w = cf->norm2 = cf->dot = cf->usim = cf->sim_row = NULL;
	cf->n_users = NULL;
	cf->hidden = cf->mine = NULL;
	cf->built = 0;
}

void bsp_cf_free(struct bsp_cf *cf)
{
	if (!cf)
		return;
	unbuild(cf);
	apps_vocab_release(&cf->users);
	apps_vocab_release(&cf->apps);
	apps_map_release(&cf->cell);
	free(cf->e);
	free(cf);
}

bsp_err bsp_cf_add(struct bsp_cf *cf, const char *user, const char *app,
		   double count, struct bsp_error *err)
{
	long u, a;
	uint32_t i;

	if (!(count > 0) || !isfinite(count))
		return bsp_error_set(err, BSP_EINVAL,
				     "%s/%s: count must be positive", user, app);
	if ((u = apps_vocab_add(&cf->users, user)) < 0 ||
	    (a = apps_vocab_add(&cf->apps, app)) < 0)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	unbuild(cf);
	i = apps_map_get(&cf->cell, (uint64_t)u, (uint64_t)a);
	if (i == UINT32_MAX) {
		if (cf->n_e >= UINT32_MAX - 1 ||
		    BSP_GROW(cf->e, cf->cap_e, cf->n_e + 1) ||
		    apps_map_put(&cf->cell, (uint64_t)u, (uint64_t)a,
				 (uint32_t)cf->n_e))
			return bsp_error_set(err, BSP_ENOMEM, "out of memory");
		i = (uint32_t)cf->n_e++;
		cf->e[i].user = (uint32_t)u;
		cf->e[i].app = (uint32_t)a;
		cf->e[i].count = 0;
	}
	cf->e[i].count += count;
	return BSP_OK;
}

/* Counting sort of entry indices by key (user or app). */
static int index_by(const struct bsp_cf *cf, size_t n_keys, int by_app,
		    size_t **off, uint32_t **ent)
{
	size_t *pos;

	*off = calloc(n_keys + 1, sizeof(**off));
	*ent = malloc((cf->n_e ? cf->n_e : 1) * sizeof(**ent));
	pos = malloc((n_keys + 1) * sizeof(*pos));
	if (!*off || !*ent || !pos) {
		free(pos);
		return -1;
	}
	for (size_t i = 0; i < cf->n_e; i++)
		(*off)[(by_app ? cf->e[i].app : cf->e[i].user) + 1]++;
	for (size_t k = 0; k < n_keys; k++)
		(*off)[k + 1] += (*off)[k];
	memcpy(pos, *off, (n_keys + 1) * sizeof(*pos));
	for (size_t i = 0; i < cf->n_e; i++)
		(*ent)[pos[by_app ? cf->e[i].app : cf->e[i].user]++] =
			(uint32_t)i;
	free(pos);
	return 0;
}

static int build(struct bsp_cf *cf)
{
	size_t na = cf->apps.n, nu = cf->users.n;

	if (cf->built)
		return 0;
	if (index_by(cf, nu, 0, &cf->u_off, &cf->u_ent) ||
	    index_by(cf, na, 1, &cf->a_off, &cf->a_ent))
		goto fail;
	cf->w = malloc((cf->n_e + 1) * sizeof(*cf->w));
	cf->hidden = calloc(cf->n_e + 1, 1);
	cf->norm2 = calloc(na + 1, sizeof(*cf->norm2));
	cf->n_users = calloc(na + 1, sizeof(*cf->n_users));
	cf->dot = calloc(na + 1, sizeof(*cf->dot));
	cf->sim_row = calloc(na + 1, sizeof(*cf->sim_row));
	cf->mine = calloc(na + 1, 1);
	cf->usim = calloc(nu + 1, sizeof(*cf->usim));
	if (!cf->w || !cf->hidden || !cf->norm2 || !cf->n_users || !cf->dot ||
	    !cf->sim_row || !cf->mine || !cf->usim)
		goto fail;
	for (size_t i = 0; i < cf->n_e; i++) {
		cf->w[i] = log1p(cf->e[i].count);
		cf->norm2[cf->e[i].app] += cf->w[i] * cf->w[i];
		cf->n_users[cf->e[i].app]++;
	}
	cf->built = 1;
	return 0;
fail:
	unbuild(cf);
	return -1;
}

/* Top-k reasons: keeps the best `cap` (name, value) pairs. */
static void reason_push(const char **names, double *vals, size_t *n,
			size_t cap, const char *name, double v)
{
	size_t j;

	if (!(v > 0) || (*n == cap && v <= vals[cap - 1]))
		return;
	j = *n < cap ? (*n)++ : cap - 1;
	while (j > 0 && vals[j - 1] < v) {
		names[j] = names[j - 1];
		vals[j] = vals[j - 1];
		j--;
	}
	names[j] = name;
	vals[j] = v;
}

static void rec_push(struct bsp_cf_rec *out, size_t *n, size_t k,
		     const char *app, double score)
{
	size_t j;

	if (*n == k && score <= out[k - 1].score)
		return;
	j = *n < k ? (*n)++ : k - 1;
	while (j > 0 && out[j - 1].score < score) {
		out[j] = out[j - 1];
		j--;
	}
	memset(&out[j], 0, sizeof(out[j]));
	out[j].app = app;
	out[j].score = score;
}

/*
 * Scores for user u from its visible cells. Item norms leave out u's
 * hidden cells (an evaluation must not see them).
 */
static void recommend(struct bsp_cf *cf, uint32_t u, size_t k,
		      struct bsp_cf_rec *out, size_t *n_out, int reasons)
{
	size_t na = cf->apps.n;
	double *score = cf->sim_row;

	*n_out = 0;
	memset(cf->mine, 0, na);
	for (size_t x = cf->u_off[u]; x < cf->u_off[u + 1]; x++) {
		uint32_t e = cf->u_ent[x];
		if (cf->hidden[e])
			cf->norm2[cf->e[e].app] -= cf->w[e] * cf->w[e];
		else
			cf->mine[cf->e[e].app] = 1;
	}
	memset(score, 0, na * sizeof(*score));
	for (size_t x = cf->u_off[u]; x < cf->u_off[u + 1]; x++) {
		uint32_t ei = cf->u_ent[x], i = cf->e[ei].app;
		if (cf->hidden[ei])
			continue;
		/* dot(i, j) for every j through the users of i. */
		memset(cf->dot, 0, na * sizeof(*cf->dot));
		for (size_t y = cf->a_off[i]; y < cf->a_off[i + 1]; y++) {
			uint32_t ev = cf->a_ent[y], v = cf->e[ev].user;
			if (v == u)
				continue;
			for (size_t z = cf->u_off[v]; z < cf->u_off[v + 1]; z++) {
				uint32_t ej = cf->u_ent[z];
				cf->dot[cf->e[ej].app] += cf->w[ev] * cf->w[ej];
			}
		}
		for (size_t j = 0; j < na; j++) {
			double d = cf->norm2[i] * cf->norm2[j];
			if (cf->mine[j] || !(cf->dot[j] > 0) || !(d > 0))
				continue;
			score[j] += cf->dot[j] / sqrt(d);
		}
	}
	for (size_t j = 0; j < na; j++)
		if (!cf->mine[j] && score[j] > 0)
			rec_push(out, n_out, k, cf->apps.names[j], score[j]);
	if (reasons && *n_out) {
		/* Reasons: similarity of each recommended app to u's apps,
		 * and users like u (cosine of rows) who use it. */
		double un = 0;
		memset(cf->usim, 0, cf->users.n * sizeof(*cf->usim));
		for (size_t x = cf->u_off[u]; x < cf->u_off[u + 1]; x++) {
			uint32_t ei = cf->u_ent[x], i = cf->e[ei].app;
			if (cf->hidden[ei])
				continue;
			un += cf->w[ei] * cf->w[ei];
			for (size_t y = cf->a_off[i]; y < cf->a_off[i + 1]; y++) {
				uint32_t ev = cf->a_ent[y];
				if (cf->e[ev].user != u)
					cf->usim[cf->e[ev].user] +=
						cf->w[ei] * cf->w[ev];
			}
		}
		for (size_t r = 0; r < *n_out; r++) {
			long j = apps_vocab_find(&cf->apps, out[r].app);
			for (size_t x = cf->u_off[u]; x < cf->u_off[u + 1]; x++) {
				uint32_t ei = cf->u_ent[x], i = cf->e[ei].app;
				double dot = 0, d;
				if (cf->hidden[ei])
					continue;
				/* dot(i, j) over users having both. */
				for (size_t y = cf->a_off[j]; y < cf->a_off[j + 1]; y++) {
					uint32_t ev = cf->a_ent[y];
					uint32_t c = apps_map_get(&cf->cell,
								  cf->e[ev].user, i);
					if (cf->e[ev].user != u && c != UINT32_MAX)
						dot += cf->w[ev] * cf->w[c];
				}
				d = cf->norm2[i] * cf->norm2[j];
				if (d > 0)
					reason_push(out[r].because,
						    out[r].because_sim,
						    &out[r].n_because,
						    BSP_CF_REASONS,
						    cf->apps.names[i],
						    dot / sqrt(d));
			}
			for (size_t y = cf->a_off[j]; y < cf->a_off[j + 1]; y++) {
				uint32_t v = cf->e[cf->a_ent[y]].user;
				double vn = 0;
				if (v == u || !(cf->usim[v] > 0))
					continue;
				for (size_t z = cf->u_off[v]; z < cf->u_off[v + 1]; z++)
					vn += cf->w[cf->u_ent[z]] *
					      cf->w[cf->u_ent[z]];
				reason_push(out[r].users, out[r].users_sim,
					    &out[r].n_users, BSP_CF_REASONS,
					    cf->users.names[v],
					    cf->usim[v] / sqrt(un * vn));
			}
		}
	}
	for (size_t x = cf->u_off[u]; x < cf->u_off[u + 1]; x++) {
		uint32_t e = cf->u_ent[x];
		if (cf->hidden[e])
			cf->norm2[cf->e[e].app] += cf->w[e] * cf->w[e];
	}
}

bsp_err bsp_cf_recommend(struct bsp_cf *cf, const char *user, size_t k,
			 struct bsp_cf_rec *out, size_t *n,
			 struct bsp_error *err)
{
	long u = apps_vocab_find(&cf->users, user);

	*n = 0;
	if (u < 0)
		return bsp_error_set(err, BSP_ENOTFOUND,
				     "'%s' has no application usage", user);
	if (!k)
		return BSP_OK;
	if (build(cf))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	recommend(cf, (uint32_t)u, k, out, n, 1);
	return BSP_OK;
}

double bsp_apps_recall(const char *const *rec, size_t n_rec,
		       const char *const *hidden, size_t n_hidden, size_t k)
{
	size_t hits = 0;

	if (!n_hidden)
		return 0;
	for (size_t h = 0; h < n_hidden; h++)
		for (size_t i = 0; i < n_rec && i < k; i++)
			if (!strcmp(rec[i], hidden[h])) {
				hits++;
				break;
			}
	return (double)hits / (double)n_hidden;
}

bsp_err bsp_cf_evaluate(struct bsp_cf *cf, double holdout, uint64_t seed,
			size_t min_apps, size_t k, struct bsp_cf_eval *out,
			struct bsp_error *err)
{
	struct bsp_cf_rec *rec = NULL;
	const char **names = NULL, **hid = NULL, **pop = NULL;
	uint32_t *order = NULL, *apps = NULL;
	size_t na, cap_apps = 0;
	uint64_t state = seed;
	bsp_err r = BSP_OK;

	memset(out, 0, sizeof(*out));
	if (!(holdout > 0 && holdout < 1))
		return bsp_error_set(err, BSP_EINVAL,
				     "holdout %g: must be between 0 and 1",
				     holdout);
	if (!k)
		return bsp_error_set(err, BSP_EINVAL, "k must be positive");
	if (build(cf))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	na = cf->apps.n;
	rec = calloc(k, sizeof(*rec));
	names = calloc(k, sizeof(*names));
	pop = calloc(k, sizeof(*pop));
	order = malloc((na + 1) * sizeof(*order));
	if (!rec || !names || !pop || !order) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	/* Apps by how many users use them (the popularity ranking). */
	for (size_t j = 0; j < na; j++) {
		size_t x = j;
		while (x > 0 && cf->n_users[order[x - 1]] < cf->n_users[j]) {
			order[x] = order[x - 1];
			x--;
		}
		order[x] = (uint32_t)j;
	}
	for (uint32_t u = 0; u < cf->users.n; u++) {
		size_t deg = cf->u_off[u + 1] - cf->u_off[u], nh, n = 0, np = 0;
		double rm, rp;
		if (deg < min_apps || deg < 2)
			continue;
		nh = (size_t)floor(holdout * (double)deg + 0.5);
		if (nh < 1)
			nh = 1;
		if (nh >= deg)
			nh = deg - 1;
		if (BSP_GROW(apps, cap_apps, deg) ||
		    !(hid = realloc(hid, nh * sizeof(*hid)))) {
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		/* A seeded partial Fisher-Yates shuffle picks the hidden. */
		for (size_t x = 0; x < deg; x++)
			apps[x] = cf->u_ent[cf->u_off[u] + x];
		for (size_t x = 0; x < nh; x++) {
			size_t y = x + (size_t)(apps_rand(&state) % (deg - x));
			uint32_t t = apps[x];
			apps[x] = apps[y];
			apps[y] = t;
			cf->hidden[apps[x]] = 1;
			hid[x] = cf->apps.names[cf->e[apps[x]].app];
		}
		recommend(cf, u, k, rec, &n, 0);
		for (size_t x = 0; x < n; x++)
			names[x] = rec[x].app;
		rm = bsp_apps_recall(names, n, hid, nh, k);
		/* Popularity: the apps most other users use, among those the
		 * user does not visibly use. The user's own hidden cells do
		 * not count (that would leak what is hidden): each count
		 * drops by at most one, so the candidates are taken from the
		 * global order while their count can still reach the k-th. */
		np = 0;
		for (size_t x = 0; x < na; x++) {
			uint32_t j = order[x];
			uint32_t c = apps_map_get(&cf->cell, u, j);
			if (c != UINT32_MAX && !cf->hidden[c])
				continue;
			double cnt = (double)cf->n_users[j] -
				     (c != UINT32_MAX ? 1.0 : 0.0);
			if (np == k && (double)cf->n_users[j] <= rec[k - 1].score)
				break;
			rec_push(rec, &np, k, cf->apps.names[j], cnt);
		}
		for (size_t x = 0; x < np; x++)
			pop[x] = rec[x].app;
		rp = bsp_apps_recall(pop, np, hid, nh, k);
		for (size_t x = 0; x < nh; x++)
			cf->hidden[apps[x]] = 0;
		out->users++;
		out->hidden += nh;
		out->recall_model += rm;
		out->recall_popularity += rp;
	}
	if (out->users) {
		out->recall_model /= (double)out->users;
		out->recall_popularity /= (double)out->users;
	}
out:
	free(rec);
	free(names);
	free(hid);
	free(pop);
	free(order);
	free(apps);
	return r;
}
