/*
 * The image modification pipeline: a table of modules run in order over
 * the component catalog, each deciding which of its components to take
 * and recording why (the rule and the profile values that made it true,
 * or what kept a component out).
 *
 * Software pre-installation is a 0/1 knapsack: every package component
 * whose condition holds is an item worth P(use) × launch seconds saved
 * (the `use` rule, 1 when absent) and weighing its size in whole MB; the
 * dynamic programme over capacities (Martello & Toth, "Knapsack
 * Problems", 1990, ch. 2) finds the exact best set within --budget-mb in
 * O(items × budget) time. Packages that require other packages make it a
 * precedence-constrained knapsack, solved exactly by enumerating the
 * dependent packages (few in a catalog) around the same DP. Then two
 * passes keep the plan consistent: a component that conflicts with one
 * taken earlier (module order, then catalog order) is dropped, and a
 * component whose `requires` are not all taken is dropped, repeatedly,
 * until nothing changes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "image_int.h"

/* Budgets above this many MB are treated as unlimited (the DP table is
 * budget + 1 doubles). */
#define KNAPSACK_MAX_MB (1u << 22)

double bsp_knapsack(const unsigned *weight, const double *value, size_t n,
		    unsigned capacity, int *chosen)
{
	size_t cols = (size_t)capacity + 1;
	double *best;
	unsigned char *take;

	/* take[i][c]: item i is in the best set of items 0..i within c. */
	if (n && cols > SIZE_MAX / n)
		return NAN;
	size_t cells = n * cols;
	best = calloc(cols, sizeof(*best));
	take = calloc(cells > 0 ? cells : 1, 1);
	if (!best || !take) {
		free(best);
		free(take);
		return NAN;
	}
	for (size_t i = 0; i < n; i++) {
		if (value[i] <= 0 || weight[i] > capacity)
			continue;
		/* Downwards, so each item is used at most once. */
		for (size_t c = capacity + 1; c-- > weight[i];) {
			double with = best[c - weight[i]] + value[i];
			if (with > best[c]) {
				best[c] = with;
				take[i * cols + c] = 1;
			}
		}
	}
	double total = best[capacity];
	size_t c = capacity;
	for (size_t i = n; i-- > 0;) {
		chosen[i] = take[i * cols + c];
		if (chosen[i])
			c -= weight[i];
	}
	free(best);
	free(take);
	return total;
}

/* Up to this many packages that require other packages are enumerated
 * exactly (2^12 knapsacks at most); dependents past it are left out, and
 * their plan item says the knapsack did not take them. */
#define KNAPSACK_MAX_DEPENDENT 12

/*
 * The knapsack with requirements among items (needs[i * n + j]: item i
 * cannot be taken without item j). A precedence-constrained knapsack is
 * NP-hard in general, but catalogs have few dependent items: every subset
 * S of them is tried, taken together with everything they require
 * (skipped when that pulls in a dependent item outside S), and the free
 * items fill the remaining capacity by the exact DP. The best total wins.
 */
static int knapsack_deps(const unsigned *w, const double *v,
			 const unsigned char *needs, size_t n, unsigned cap,
			 int *chosen)
{
	size_t dep[KNAPSACK_MAX_DEPENDENT], n_dep = 0, i, j;
	unsigned char *forced = calloc(n + 1, 1);
	unsigned *fw = calloc(n + 1, sizeof(*fw));
	double *fv = calloc(n + 1, sizeof(*fv));
	int *sub = calloc(n + 1, sizeof(*sub));
	double best = -1;
	int rc = -1;

	if (!forced || !fw || !fv || !sub)
		goto out;
	memset(chosen, 0, n * sizeof(*chosen));
	for (i = 0; i < n; i++) {
		int has = 0;
		for (j = 0; j < n; j++)
			has |= needs[i * n + j];
		if (has && n_dep < KNAPSACK_MAX_DEPENDENT && v[i] > 0)
			dep[n_dep++] = i;
	}
	for (uint32_t mask = 0; mask < (1u << n_dep); mask++) {
		/* forced = the closure of the subset under `needs`. */
		memset(forced, 0, n);
		for (size_t d = 0; d < n_dep; d++)
			if (mask >> d & 1)
				forced[dep[d]] = 1;
		for (int grew = 1; grew;) {
			grew = 0;
			for (i = 0; i < n; i++)
				for (j = 0; forced[i] && j < n; j++)
					if (needs[i * n + j] && !forced[j])
						forced[j] = grew = 1;
		}
		unsigned long long wsum = 0;
		double vsum = 0;
		int ok = 1;
		for (size_t d = 0; d < n_dep; d++)
			if (!(mask >> d & 1) && forced[dep[d]])
				ok = 0; /* another subset covers this one */
		for (i = 0; i < n; i++) {
			if (!forced[i])
				continue;
			wsum += w[i];
			vsum += v[i];
		}
		if (!ok || wsum > cap)
			continue;
		/* The free items: not forced, not dependent (a dependent item
		 * outside the subset stays out), and not needing anything. */
		size_t m = 0;
		for (i = 0; i < n; i++) {
			int has = 0;
			for (j = 0; j < n; j++)
				has |= needs[i * n + j];
			if (forced[i] || has)
				continue;
			fw[m] = w[i];
			fv[m] = v[i];
			m++;
		}
		double got = bsp_knapsack(fw, fv, m, cap - (unsigned)wsum, sub);
		if (isnan(got))
			goto out;
		if (vsum + got <= best)
			continue;
		best = vsum + got;
		m = 0;
		for (i = 0; i < n; i++) {
			int has = 0;
			for (j = 0; j < n; j++)
				has |= needs[i * n + j];
			if (forced[i])
				chosen[i] = 1;
			else if (!has)
				chosen[i] = sub[m++];
			else
				chosen[i] = 0;
		}
	}
	rc = 0;
out:
	free(forced);
	free(fw);
	free(fv);
	free(sub);
	return rc;
}

struct plan_ctx {
	const struct bsp_component_catalog *cat;
	const struct bsp_image_profile *p;
	const struct bsp_image_plan_options *opt;
	struct bsp_image_plan *plan;
	/* Per catalog item: condition true, the why text. */
	int *cond;
	char **why;
	struct bsp_error *err;
};

static int item_add(struct plan_ctx *c, const struct bsp_component *comp,
		    int chosen, const char *fmt, ...) BSP_PRINTF(4, 5);

static int item_add(struct plan_ctx *c, const struct bsp_component *comp,
		    int chosen, const char *fmt, ...)
{
	struct bsp_image_plan *pl = c->plan;
	struct bsp_plan_item *it = &pl->items[pl->n_items];
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&it->reason, fmt, ap) < 0)
		it->reason = NULL;
	va_end(ap);
	if (!it->reason) {
		bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
		return -1;
	}
	it->comp = comp;
	it->module = comp->module;
	it->chosen = chosen;
	pl->n_items++;
	return 0;
}

static const char *cond_text(const struct bsp_component *comp)
{
	return comp->condition ? bsp_rule_text(comp->condition) : "(always)";
}

/* Components without a knapsack: taken when their condition holds. */
static int mod_rules(struct plan_ctx *c, enum bsp_image_module m)
{
	for (size_t i = 0; i < c->cat->n; i++) {
		const struct bsp_component *comp = &c->cat->items[i];
		if (comp->module != m || comp->kind == BSP_COMP_PACKAGE)
			continue;
		int r = c->cond[i]
				? item_add(c, comp, 1, "condition %s is true%s%s",
					   cond_text(comp), c->why[i][0] ? ": " : "",
					   c->why[i])
				: item_add(c, comp, 0, "condition %s is false%s%s",
					   cond_text(comp), c->why[i][0] ? ": " : "",
					   c->why[i]);
		if (r)
			return -1;
	}
	return 0;
}

/* Package components: the knapsack over those whose condition holds. */
static int mod_packages(struct plan_ctx *c, enum bsp_image_module m)
{
	size_t n = 0, k;
	size_t *idx = calloc(c->cat->n + 1, sizeof(*idx));
	unsigned *w = calloc(c->cat->n + 1, sizeof(*w));
	double *v = calloc(c->cat->n + 1, sizeof(*v)), *pu;
	int *chosen = calloc(c->cat->n + 1, sizeof(*chosen));
	double budget = c->opt && c->opt->budget_mb > 0 ? c->opt->budget_mb : 0;
	unsigned cap;
	int rc = -1;

	pu = calloc(c->cat->n + 1, sizeof(*pu));
	double *veff = calloc(c->cat->n + 1, sizeof(*veff));
	unsigned char *needs = calloc(c->cat->n * c->cat->n + 1, 1);
	int *blocked = calloc(c->cat->n + 1, sizeof(*blocked));
	const char **blocked_by = calloc(c->cat->n + 1, sizeof(*blocked_by));
	if (!idx || !w || !v || !chosen || !pu || !veff || !blocked ||
	    !blocked_by || !needs) {
		bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	double total_mb = 0;
	for (size_t i = 0; i < c->cat->n; i++) {
		const struct bsp_component *comp = &c->cat->items[i];
		if (comp->module != m || comp->kind != BSP_COMP_PACKAGE ||
		    !c->cond[i])
			continue;
		struct bsp_rule_value uv = {0};
		double p_use = 1;
		if (comp->use) {
			char why[256];
			bsp_rule_eval(comp->use, c->p, &uv, why, sizeof(why));
			p_use = isnan(uv.num) ? 0 : uv.num < 0 ? 0 : uv.num > 1 ? 1 : uv.num;
		}
		idx[n] = i;
		w[n] = (unsigned)ceil(comp->size_mb);
		pu[n] = p_use;
		/* A package nobody will launch still weighs; an epsilon keeps
		 * a free, always-wanted package (seconds 0) in the image. */
		v[n] = p_use * comp->launch_seconds_saved + 1e-9;
		total_mb += w[n];
		n++;
	}
	if (budget <= 0 || budget > KNAPSACK_MAX_MB)
		cap = total_mb > KNAPSACK_MAX_MB ? KNAPSACK_MAX_MB
						 : (unsigned)total_mb;
	else
		cap = (unsigned)floor(budget);
	/* Requirements between packages: exact by enumeration over the
	 * dependent ones (see knapsack_deps). */
	for (k = 0; k < n; k++) {
		const struct bsp_component *comp = &c->cat->items[idx[k]];
		for (size_t r = 0; r < comp->n_requires; r++) {
			const struct bsp_component *req = NULL;
			for (size_t q = 0; q < c->cat->n; q++)
				if (!strcmp(c->cat->items[q].name, comp->requires[r]))
					req = &c->cat->items[q];
			if (!req || req->kind != BSP_COMP_PACKAGE || req->module != m)
				continue; /* settled after every module */
			size_t j;
			for (j = 0; j < n; j++)
				if (&c->cat->items[idx[j]] == req)
					break;
			if (j == n) { /* its condition is false */
				blocked[k] = 1;
				blocked_by[k] = req->name;
			} else {
				needs[k * n + j] = 1;
			}
		}
	}
	for (k = 0; k < n; k++)
		veff[k] = blocked[k] ? 0 : v[k];
	if (knapsack_deps(w, veff, needs, n, cap, chosen)) {
		bsp_error_set(c->err, BSP_ENOMEM, "out of memory (knapsack)");
		goto out;
	}
	c->plan->budget_mb = budget;
	k = 0;
	for (size_t i = 0; i < c->cat->n; i++) {
		const struct bsp_component *comp = &c->cat->items[i];
		int r;
		if (comp->module != m || comp->kind != BSP_COMP_PACKAGE)
			continue;
		if (!c->cond[i]) {
			if (item_add(c, comp, 0, "condition %s is false%s%s",
				     cond_text(comp), c->why[i][0] ? ": " : "",
				     c->why[i]))
				goto out;
			continue;
		}
		if (blocked[k])
			r = item_add(c, comp, 0,
				     "condition %s is true, but it requires %s, "
				     "whose condition is false",
				     cond_text(comp), blocked_by[k]);
		else if (chosen[k])
			r = item_add(c, comp, 1,
				     "condition %s is true%s%s; knapsack: "
				     "P(use) %.3g x %gs saved for %u MB",
				     cond_text(comp), c->why[i][0] ? ": " : "",
				     c->why[i], pu[k], comp->launch_seconds_saved,
				     w[k]);
		else
			r = item_add(c, comp, 0,
				     "condition %s is true, but the knapsack "
				     "left it out: P(use) %.3g x %gs saved for "
				     "%u MB%s%s does not fit the %g MB budget as "
				     "well as the chosen set",
				     cond_text(comp), pu[k],
				     comp->launch_seconds_saved, w[k],
				     comp->n_requires ? " (with what it requires: "
						      : "",
				     comp->n_requires ? "see requires)" : "",
				     budget);
		if (r)
			goto out;
		struct bsp_plan_item *it = &c->plan->items[c->plan->n_items - 1];
		it->p_use = pu[k];
		it->value = pu[k] * comp->launch_seconds_saved;
		k++;
	}
	rc = 0;
out:
	free(idx);
	free(w);
	free(v);
	free(pu);
	free(chosen);
	free(veff);
	free(needs);
	free(blocked);
	free(blocked_by);
	return rc;
}

/*
 * The modules, in the order they run. To add one: an enum value in
 * include/bespoke/image.h (bsp_image_module), its name in img_catalog.c,
 * and a row here with the function that decides its components.
 */
static const struct {
	enum bsp_image_module id;
	int (*run)(struct plan_ctx *c, enum bsp_image_module m);
} modules[] = {
	{BSP_MOD_RESOURCES, mod_rules}, /* limits, hugepages, caches */
	{BSP_MOD_SOFTWARE, mod_packages}, /* the knapsack */
	{BSP_MOD_SERVICES, mod_rules},  /* units on/off, pre-loading */
	{BSP_MOD_DATA, mod_rules},      /* data sets fetched at first boot */
	{BSP_MOD_NETWORK, mod_rules},   /* firewall, proxy, tuning */
};

static struct bsp_plan_item *item_of(struct bsp_image_plan *pl,
				     const char *name)
{
	for (size_t i = 0; i < pl->n_items; i++)
		if (!strcmp(pl->items[i].comp->name, name))
			return &pl->items[i];
	return NULL;
}

static int drop(struct plan_ctx *c, struct bsp_plan_item *it, const char *fmt,
		const char *other)
{
	char *r = NULL;
	if (asprintf(&r, fmt, other) < 0) {
		bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
		return -1;
	}
	free(it->reason);
	it->reason = r;
	it->chosen = 0;
	return 0;
}

/* Conflicts (first taken wins), then requires until stable. */
static int resolve(struct plan_ctx *c)
{
	struct bsp_image_plan *pl = c->plan;

	for (size_t i = 0; i < pl->n_items; i++) {
		struct bsp_plan_item *it = &pl->items[i];
		if (!it->chosen)
			continue;
		for (size_t k = 0; k < pl->n_items; k++) {
			struct bsp_plan_item *o = &pl->items[k];
			if (k >= i || !o->chosen)
				continue;
			int clash = 0;
			for (size_t j = 0; j < it->comp->n_conflicts; j++)
				clash |= !strcmp(it->comp->conflicts[j], o->comp->name);
			for (size_t j = 0; j < o->comp->n_conflicts; j++)
				clash |= !strcmp(o->comp->conflicts[j], it->comp->name);
			if (clash) {
				if (drop(c, it, "conflicts with %s, taken first",
					 o->comp->name))
					return -1;
				break;
			}
		}
	}
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < pl->n_items; i++) {
			struct bsp_plan_item *it = &pl->items[i];
			for (size_t j = 0; it->chosen && j < it->comp->n_requires; j++) {
				struct bsp_plan_item *r =
					item_of(pl, it->comp->requires[j]);
				if (r && r->chosen)
					continue;
				if (drop(c, it, "requires %s, which is not taken",
					 it->comp->requires[j]))
					return -1;
				changed = 1;
			}
		}
	}
	return 0;
}

bsp_err bsp_image_plan_make(const struct bsp_component_catalog *cat,
			    const struct bsp_image_profile *p,
			    const struct bsp_image_plan_options *opt,
			    struct bsp_image_plan **out, struct bsp_error *err)
{
	struct plan_ctx c = {cat, p, opt, NULL, NULL, NULL, err};
	struct bsp_image_plan *pl;
	bsp_err rc = BSP_ENOMEM;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	c.plan = pl;
	c.cond = calloc(cat->n + 1, sizeof(*c.cond));
	c.why = calloc(cat->n + 1, sizeof(*c.why));
	if (!pl || !c.cond || !c.why ||
	    !(pl->items = calloc(cat->n + 1, sizeof(*pl->items))))
		goto fail;
	pl->entity = strdup(p ? bsp_image_profile_entity(p) : "");
	pl->models = p ? img_profile_models(p) : strdup("");
	pl->profile_version = p ? bsp_image_profile_version(p) : 0;
	if (!pl->entity || !pl->models)
		goto fail;
	for (size_t i = 0; i < cat->n; i++) {
		c.why[i] = calloc(1, 512);
		if (!c.why[i])
			goto fail;
		if (!cat->items[i].condition) {
			c.cond[i] = 1;
			continue;
		}
		struct bsp_rule_value v;
		bsp_rule_eval(cat->items[i].condition, p, &v, c.why[i], 512);
		c.cond[i] = v.truth;
	}
	rc = BSP_EINVAL;
	for (size_t m = 0; m < BSP_ARRAY_LEN(modules); m++)
		if (modules[m].run(&c, modules[m].id))
			goto fail_set;
	if (resolve(&c))
		goto fail_set;
	for (size_t i = 0; i < pl->n_items; i++)
		if (pl->items[i].chosen &&
		    pl->items[i].comp->kind == BSP_COMP_PACKAGE) {
			pl->used_mb += pl->items[i].comp->size_mb;
			pl->value += pl->items[i].value;
		}
	if (img_plan_outputs(pl, opt, p, err))
		goto fail_set;
	for (size_t i = 0; i < cat->n; i++)
		free(c.why[i]);
	free(c.why);
	free(c.cond);
	*out = pl;
	return BSP_OK;
fail:
	bsp_error_set(err, BSP_ENOMEM, "out of memory");
fail_set:
	if (c.why)
		for (size_t i = 0; i < cat->n; i++)
			free(c.why[i]);
	free(c.why);
	free(c.cond);
	bsp_image_plan_free(pl);
	return err && err->code ? err->code : rc;
}

void bsp_image_plan_free(struct bsp_image_plan *pl)
{
	size_t i;
	if (!pl)
		return;
	for (i = 0; i < pl->n_items; i++)
		free(pl->items[i].reason);
	free(pl->items);
	for (i = 0; i < pl->n_files; i++) {
		free(pl->files[i].path);
		free(pl->files[i].content);
		free(pl->files[i].link);
		free(pl->files[i].component);
	}
	free(pl->files);
	for (i = 0; i < pl->n_packages; i++)
		free(pl->packages[i]);
	free(pl->packages);
	for (i = 0; i < pl->n_enable; i++)
		free(pl->enable[i]);
	free(pl->enable);
	for (i = 0; i < pl->n_disable; i++)
		free(pl->disable[i]);
	free(pl->disable);
	for (i = 0; i < pl->n_sysctls; i++) {
		free(pl->sysctls[i].key);
		free(pl->sysctls[i].value);
	}
	free(pl->sysctls);
	free(pl->datasets);
	free(pl->entity);
	free(pl->models);
	free(pl);
}

char *bsp_image_plan_json(const struct bsp_image_plan *pl)
{
	json_t *root = json_object(), *mods = json_array(), *diff = json_object();
	json_t *files = json_array(), *pk = json_array(), *en = json_array();
	json_t *dis = json_array(), *sc = json_object(), *ds = json_array();
	json_t *replaced = json_array();
	char *text = NULL;
	size_t i;

	if (!root || !mods || !diff || !files || !pk || !en || !dis || !sc ||
	    !ds || !replaced)
		goto out;
	json_object_set_new(root, "format", json_string("bespoke-image-plan"));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "entity", json_string(pl->entity));
	json_object_set_new(root, "profile_version",
			    json_integer(pl->profile_version));
	json_object_set_new(root, "models", json_string(pl->models));
	json_object_set_new(root, "budget_mb",
			    pl->budget_mb > 0 ? json_real(pl->budget_mb)
					      : json_null());
	json_object_set_new(root, "packages_mb", json_real(pl->used_mb));
	json_object_set_new(root, "expected_seconds_saved", json_real(pl->value));
	for (size_t m = 0; m < BSP_MOD_COUNT; m++) {
		json_t *mod = json_object(), *items = json_array();
		json_object_set_new(mod, "name",
				    json_string(bsp_image_module_name(
					    (enum bsp_image_module)m)));
		for (i = 0; i < pl->n_items; i++) {
			const struct bsp_plan_item *it = &pl->items[i];
			if (it->module != m)
				continue;
			json_t *o = json_object();
			json_object_set_new(o, "component",
					    json_string(it->comp->name));
			json_object_set_new(o, "kind",
					    json_string(bsp_comp_kind_name(
						    it->comp->kind)));
			json_object_set_new(o, "chosen", json_boolean(it->chosen));
			json_object_set_new(o, "reason", json_string(it->reason));
			if (it->comp->kind == BSP_COMP_PACKAGE) {
				json_object_set_new(o, "p_use", json_real(it->p_use));
				json_object_set_new(o, "value", json_real(it->value));
				json_object_set_new(o, "size_mb",
						    json_real(it->comp->size_mb));
			}
			json_array_append_new(items, o);
		}
		json_object_set_new(mod, "items", items);
		json_array_append_new(mods, mod);
	}
	json_object_set_new(root, "modules", mods);
	mods = NULL;
	for (i = 0; i < pl->n_files; i++) {
		const struct bsp_plan_file *f = &pl->files[i];
		json_t *o = json_object();
		json_object_set_new(o, "path", json_string(f->path));
		if (f->link) {
			json_object_set_new(o, "link", json_string(f->link));
		} else {
			char mode[8];
			snprintf(mode, sizeof(mode), "%04o", f->mode);
			json_object_set_new(o, "mode", json_string(mode));
			json_object_set_new(o, "bytes", json_integer((json_int_t)f->len));
		}
		json_object_set_new(o, "component", json_string(f->component));
		json_array_append_new(f->in_base ? replaced : files, o);
	}
	for (i = 0; i < pl->n_packages; i++)
		json_array_append_new(pk, json_string(pl->packages[i]));
	for (i = 0; i < pl->n_enable; i++)
		json_array_append_new(en, json_string(pl->enable[i]));
	for (i = 0; i < pl->n_disable; i++)
		json_array_append_new(dis, json_string(pl->disable[i]));
	for (i = 0; i < pl->n_sysctls; i++)
		json_object_set_new(sc, pl->sysctls[i].key,
				    json_string(pl->sysctls[i].value));
	for (i = 0; i < pl->n_datasets; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "url", json_string(pl->datasets[i].url));
		json_object_set_new(o, "path", json_string(pl->datasets[i].path));
		json_object_set_new(o, "size_mb", json_real(pl->datasets[i].size_mb));
		json_array_append_new(ds, o);
	}
	json_object_set_new(diff, "files_added", files);
	json_object_set_new(diff, "files_replaced", replaced);
	json_object_set_new(diff, "packages_first_boot", pk);
	json_object_set_new(diff, "services_enabled", en);
	json_object_set_new(diff, "services_disabled", dis);
	json_object_set_new(diff, "sysctl", sc);
	json_object_set_new(diff, "datasets_first_boot", ds);
	files = pk = en = dis = sc = ds = replaced = NULL;
	json_object_set_new(root, "diff", diff);
	diff = NULL;
	text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
out:
	json_decref(root);
	json_decref(mods);
	json_decref(diff);
	json_decref(files);
	json_decref(pk);
	json_decref(en);
	json_decref(dis);
	json_decref(sc);
	json_decref(ds);
	json_decref(replaced);
	return text;
}
