/*
 * The cheapest shape that covers a need: a small mixed-integer program.
 *
 *   minimise   sum_ts price(t,s) x_ts + sum_s price(s) w_s
 *              + p_vcpu * vstep * c + p_gib * mstep * m
 *   subject to sum x_ts + sum w_s = 1              (exactly one shape)
 *              vstep*c >= lo_cpu * W, vstep*c <= hi_cpu * W,
 *              mstep*m >= lo_mem * W, mstep*m <= hi_mem * W
 *              cost <= budget                        (when there is one)
 *   x, w binary; c, m integer; W = sum_s w_s
 *
 * x_ts is one instance type t with storage option s; w_s, c and m make a
 * custom size (c vCPU steps, m memory steps) with storage s. A pair is a
 * column only when it meets every per-resource bound on its own (need,
 * policy minimum and maximum, family, type restriction): those are
 * constants, so they become column bounds rather than rows, and the rows
 * left are the ones that couple columns. GLPK's branch-and-cut proves the
 * optimum; the catalog is small, so this takes well under a millisecond.
 *
 * When the program is infeasible the constraints are relaxed one at a
 * time by exhaustive search to name the one that cannot be met.
 *
 * GLPK's environment is thread-local in the Debian build, so choices can
 * be made on several threads at once.
 */
#include <math.h>
#include <stdio.h>

#include <glpk.h>

#include "alloc_int.h"

#define AL_INF HUGE_VAL

/* The policy's bounds with the need folded in: lo[r] <= have[r] <= hi[r]. */
struct al_bounds {
	double lo[BSP_RES_N], hi[BSP_RES_N]; /* hi = +Inf for none */
};

static void al_bounds_make(const struct bsp_alloc_policy *pol,
			   const double need[BSP_RES_N], struct al_bounds *b)
{
	for (int r = 0; r < BSP_RES_N; r++) {
		double n =
		    need && isfinite(need[r]) && need[r] > 0 ? need[r] : 0;
		double mn = pol ? al_limit(&pol->min, (enum bsp_res)r) : 0;
		double mx = pol ? al_limit(&pol->max, (enum bsp_res)r) : 0;
		b->hi[r] = mx > 0 ? mx : AL_INF;
		/* A need above the maximum is cut to it (the caller says so).
		 */
		b->lo[r] = fmin(fmax(n, mn), b->hi[r]);
	}
}

static int al_family_ok(const struct bsp_alloc_policy *pol,
			const struct bsp_alloc_type *t)
{
	if (!pol || !pol->families_count)
		return 1;
	for (unsigned i = 0; i < pol->families_count; i++)
		if (!strcmp(pol->families[i], t->family))
			return 1;
	return 0;
}

/* May type t use storage option s (-1 = none)? */
static int al_storage_ok(const struct bsp_alloc_catalog *cat,
			 const struct bsp_alloc_type *t, int s)
{
	if (s < 0)
		return cat->storage_count == 0;
	if (!cat->storage[s].local)
		return 1;
	for (unsigned k = 0; t && k < t->storage_count; k++)
		if (!strcmp(t->storage[k], cat->storage[s].name))
			return 1;
	return 0;
}

static void al_have(const struct bsp_alloc_catalog *cat, double vcpu,
		    double mem, double net, int s, double have[BSP_RES_N])
{
	have[BSP_RES_CPU] = vcpu;
	have[BSP_RES_MEM] = mem;
	have[BSP_RES_NET] = net;
	have[BSP_RES_IOPS] = s >= 0 ? cat->storage[s].iops : 0;
	have[BSP_RES_MBPS] = s >= 0 ? cat->storage[s].mbps : 0;
}

/* Does `have` fit the bounds of the resources in `mask`? */
static int al_fits(const double have[BSP_RES_N], const struct al_bounds *b,
		   unsigned mask)
{
	for (int r = 0; r < BSP_RES_N; r++)
		if ((mask & (1u << r)) &&
		    (have[r] < b->lo[r] - 1e-9 || have[r] > b->hi[r] + 1e-9))
			return 0;
	return 1;
}

/* Sustained vCPUs (a catalog built in code may leave the baseline 0). */
static double al_type_vcpu(const struct bsp_alloc_type *t)
{
	return t->vcpu * (t->cpu_baseline > 0 ? t->cpu_baseline : 1);
}

static double al_type_price(const struct bsp_alloc_type *t, unsigned flags)
{
	return (flags & BSP_ALLOC_SPOT) && t->spot_hour > 0 ? t->spot_hour
							    : t->price_hour;
}

static int al_use_custom(const struct bsp_alloc_catalog *cat,
			 const struct bsp_alloc_policy *pol,
			 const char *only_type)
{
	if (!cat->custom || only_type)
		return 0;
	/* Without a policy (pricing a provisioned size) custom sizes stand
	 * in only for a catalog that has nothing else. */
	return !cat->types_count || (pol && pol->custom);
}

/* The custom steps for [lo, hi] of one resource: -1 when none fits. */
static double al_custom_steps(double lo, double hi, double step, double cap)
{
	double k = ceil(lo / step - 1e-9);
	if (k < 1)
		k = 1;
	if (k * step > fmin(hi, cap) + 1e-9)
		return -1;
	return k;
}

/*
 * Exhaustive search over the same space, checking the resources in
 * `mask`, the families and the type restriction (and the budget when
 * `budget`): the cheapest price and its shape, or +Inf. Used to name the
 * constraint that cannot be met, never to choose.
 */
static double al_exhaustive(const struct bsp_alloc_catalog *cat,
			    const struct bsp_alloc_policy *pol,
			    const struct al_bounds *b, const char *only_type,
			    unsigned flags, unsigned mask, int families,
			    int budget)
{
	double best = AL_INF, have[BSP_RES_N];
	int s0 = cat->storage_count ? 0 : -1;

	for (unsigned t = 0; t < cat->types_count; t++) {
		const struct bsp_alloc_type *ty = &cat->types[t];
		if ((families && !al_family_ok(pol, ty)) ||
		    (only_type && strcmp(only_type, ty->name)))
			continue;
		for (int s = s0; s < (int)cat->storage_count; s++) {
			if (!al_storage_ok(cat, ty, s))
				continue;
			al_have(cat, al_type_vcpu(ty), ty->memory_gib,
				ty->network_gbps, s, have);
			double p = al_type_price(ty, flags) +
				   (s >= 0 ? cat->storage[s].price_hour : 0);
			if (al_fits(have, b, mask) && p < best)
				best = p;
		}
	}
	if (al_use_custom(cat, pol, only_type)) {
		const struct bsp_alloc_custom *c = cat->custom;
		double kc = al_custom_steps(
		    mask & 1u << BSP_RES_CPU ? b->lo[BSP_RES_CPU] : 0,
		    mask & 1u << BSP_RES_CPU ? b->hi[BSP_RES_CPU] : AL_INF,
		    c->vcpu_step, c->max_vcpu);
		double km = al_custom_steps(
		    mask & 1u << BSP_RES_MEM ? b->lo[BSP_RES_MEM] : 0,
		    mask & 1u << BSP_RES_MEM ? b->hi[BSP_RES_MEM] : AL_INF,
		    c->memory_step_gib, c->max_memory_gib);
		for (int s = s0;
		     kc > 0 && km > 0 && s < (int)cat->storage_count; s++) {
			if (s >= 0 && cat->storage[s].local)
				continue;
			al_have(cat, kc * c->vcpu_step, km * c->memory_step_gib,
				c->network_gbps, s, have);
			double p = kc * c->vcpu_step * c->price_vcpu_hour +
				   km * c->memory_step_gib * c->price_gib_hour +
				   (s >= 0 ? cat->storage[s].price_hour : 0);
			if (al_fits(have, b, mask) && p < best)
				best = p;
		}
	}
	if (budget && pol && pol->budget_hour > 0 &&
	    best > pol->budget_hour + 1e-12)
		return AL_INF;
	return best;
}

/* Names the constraint that makes the program infeasible. */
static bsp_err al_diagnose(const struct bsp_alloc_catalog *cat,
			   const struct bsp_alloc_policy *pol,
			   const struct al_bounds *b, const char *only_type,
			   unsigned flags, struct bsp_error *err)
{
	const unsigned all = (1u << BSP_RES_N) - 1;
	char lo[48], hi[48];

	if (only_type && bsp_alloc_type_find(cat, only_type) < 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "type %s is not in the catalog",
				     only_type);
	if (al_exhaustive(cat, pol, b, only_type, flags, 0, 1, 0) == AL_INF)
		return bsp_error_set(err, BSP_EINVAL,
				     "policy %s: no catalog type is in its "
				     "allowed families%s%s",
				     pol ? pol->name : "-",
				     only_type ? " or is " : "",
				     only_type ? only_type : "");
	for (int r = 0; r < BSP_RES_N; r++) {
		if (al_exhaustive(cat, pol, b, only_type, flags, 1u << r, 1,
				  0) < AL_INF)
			continue;
		al_fmt_amount((enum bsp_res)r, b->lo[r], lo, sizeof(lo));
		if (b->hi[r] < AL_INF) {
			al_fmt_amount((enum bsp_res)r, b->hi[r], hi,
				      sizeof(hi));
			return bsp_error_set(err, BSP_EINVAL,
					     "%s: no allowed shape has between "
					     "%s and %s (policy %s min/max, "
					     "families, storage options)",
					     bsp_res_name((enum bsp_res)r), lo,
					     hi, pol ? pol->name : "-");
		}
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: no allowed shape has %s or more "
				     "(policy %s families, catalog sizes)",
				     bsp_res_name((enum bsp_res)r), lo,
				     pol ? pol->name : "-");
	}
	double p = al_exhaustive(cat, pol, b, only_type, flags, all, 1, 0);
	if (p == AL_INF)
		return bsp_error_set(err, BSP_EINVAL,
				     "no single allowed shape meets every "
				     "resource's need and policy %s's bounds "
				     "together",
				     pol ? pol->name : "-");
	return bsp_error_set(err, BSP_EINVAL,
			     "budget: the cheapest shape that fits costs "
			     "$%.4f/h, over policy %s's budget_hour $%.4f",
			     p, pol->name, pol->budget_hour);
}

/* One binary column of the program: a type (or custom) and storage. */
struct al_col {
	int type; /* -1 = custom */
	int storage;
	double price;
};

static void al_name(const struct bsp_alloc_catalog *cat,
		    struct bsp_alloc_choice *out)
{
	if (out->type >= 0)
		snprintf(out->name, sizeof(out->name), "%s",
			 cat->types[out->type].name);
	else
		snprintf(out->name, sizeof(out->name), "custom-%gvcpu-%ggib",
			 out->have[BSP_RES_CPU], out->have[BSP_RES_MEM]);
}

bsp_err bsp_alloc_choose(const struct bsp_alloc_catalog *cat,
			 const struct bsp_alloc_policy *pol,
			 const double need[BSP_RES_N], const char *only_type,
			 unsigned flags, struct bsp_alloc_choice *out,
			 struct bsp_error *err)
{
	const unsigned all = (1u << BSP_RES_N) - 1;
	struct al_bounds b;
	struct al_col *cols = NULL;
	size_t n = 0, cap = 0;
	double have[BSP_RES_N];
	int s0 = cat->storage_count ? 0 : -1, custom, ncust = 0;
	double kc_lo = 0, kc_hi = 0, km_lo = 0, km_hi = 0;
	glp_prob *lp = NULL;
	int *ia = NULL, *ja = NULL;
	double *ar = NULL;
	bsp_err result = BSP_OK;

	memset(out, 0, sizeof(*out));
	out->type = out->storage = -1;
	al_bounds_make(pol, need, &b);
	for (unsigned t = 0; t < cat->types_count; t++) {
		const struct bsp_alloc_type *ty = &cat->types[t];
		if (!al_family_ok(pol, ty) ||
		    (only_type && strcmp(only_type, ty->name)))
			continue;
		for (int s = s0; s < (int)cat->storage_count; s++) {
			if (!al_storage_ok(cat, ty, s))
				continue;
			al_have(cat, al_type_vcpu(ty), ty->memory_gib,
				ty->network_gbps, s, have);
			if (!al_fits(have, &b, all))
				continue;
			if (BSP_GROW(cols, cap, n + 1))
				goto nomem;
			cols[n++] = (struct al_col){
			    (int)t, s,
			    al_type_price(ty, flags) +
				(s >= 0 ? cat->storage[s].price_hour : 0)};
		}
	}
	/* Custom sizes: storage columns that meet the storage and network
	 * bounds; vCPU and memory are the integer columns c and m. */
	custom = al_use_custom(cat, pol, only_type);
	if (custom) {
		const struct bsp_alloc_custom *c = cat->custom;
		kc_lo = al_custom_steps(b.lo[BSP_RES_CPU], b.hi[BSP_RES_CPU],
					c->vcpu_step, c->max_vcpu);
		km_lo = al_custom_steps(b.lo[BSP_RES_MEM], b.hi[BSP_RES_MEM],
					c->memory_step_gib, c->max_memory_gib);
		kc_hi = floor(
		    fmin(b.hi[BSP_RES_CPU], c->max_vcpu) / c->vcpu_step + 1e-9);
		km_hi = floor(fmin(b.hi[BSP_RES_MEM], c->max_memory_gib) /
				  c->memory_step_gib +
			      1e-9);
		for (int s = s0;
		     kc_lo > 0 && km_lo > 0 && s < (int)cat->storage_count;
		     s++) {
			if (s >= 0 && cat->storage[s].local)
				continue;
			al_have(cat, b.lo[BSP_RES_CPU], b.lo[BSP_RES_MEM],
				c->network_gbps, s, have);
			if (!al_fits(
				have, &b,
				all & ~(1u << BSP_RES_CPU | 1u << BSP_RES_MEM)))
				continue;
			if (BSP_GROW(cols, cap, n + 1))
				goto nomem;
			cols[n++] = (struct al_col){
			    -1, s, s >= 0 ? cat->storage[s].price_hour : 0};
			ncust++;
		}
	}
	if (!n) {
		result = al_diagnose(cat, pol, &b, only_type, flags, err);
		goto out;
	}

	/* Columns 1..n the binaries, then c and m when custom. Rows: one
	 * shape; custom cpu lo/hi, memory lo/hi; budget. */
	int nc = (int)n + (ncust ? 2 : 0), col_c = (int)n + 1,
	    col_m = (int)n + 2, row = 0, ne = 0;
	size_t maxne = (size_t)nc * 6 + 16;
	lp = glp_create_prob();
	ia = malloc((maxne + 1) * sizeof(*ia));
	ja = malloc((maxne + 1) * sizeof(*ja));
	ar = malloc((maxne + 1) * sizeof(*ar));
	if (!ia || !ja || !ar)
		goto nomem;
	glp_set_obj_dir(lp, GLP_MIN);
	glp_add_cols(lp, nc);
	for (size_t j = 0; j < n; j++) {
		glp_set_col_kind(lp, (int)j + 1, GLP_BV);
		glp_set_obj_coef(lp, (int)j + 1, cols[j].price);
	}
	if (ncust) {
		const struct bsp_alloc_custom *c = cat->custom;
		glp_set_col_kind(lp, col_c, GLP_IV);
		glp_set_col_bnds(lp, col_c, GLP_DB, 0, kc_hi);
		glp_set_obj_coef(lp, col_c, c->vcpu_step * c->price_vcpu_hour);
		glp_set_col_kind(lp, col_m, GLP_IV);
		glp_set_col_bnds(lp, col_m, GLP_DB, 0, km_hi);
		glp_set_obj_coef(lp, col_m,
				 c->memory_step_gib * c->price_gib_hour);
	}
	/* Exactly one shape. */
	glp_add_rows(lp, 1);
	glp_set_row_bnds(lp, ++row, GLP_FX, 1, 1);
	for (size_t j = 0; j < n; j++) {
		ne++;
		ia[ne] = row, ja[ne] = (int)j + 1, ar[ne] = 1;
	}
	if (ncust) {
		const struct bsp_alloc_custom *c = cat->custom;
		/* step*k - bound*W >= 0 (lower) and <= 0 (upper), so that c and
		 * m are free of bounds when the custom shape is not chosen. */
		const struct {
			int col;
			double step, bound, type;
		} rows[4] = {
		    {col_c, c->vcpu_step, kc_lo * c->vcpu_step, GLP_LO},
		    {col_c, c->vcpu_step, kc_hi * c->vcpu_step, GLP_UP},
		    {col_m, c->memory_step_gib, km_lo * c->memory_step_gib,
		     GLP_LO},
		    {col_m, c->memory_step_gib, km_hi * c->memory_step_gib,
		     GLP_UP},
		};
		glp_add_rows(lp, 4);
		for (int k = 0; k < 4; k++) {
			row++;
			glp_set_row_bnds(lp, row, (int)rows[k].type, 0, 0);
			ne++;
			ia[ne] = row, ja[ne] = rows[k].col,
			ar[ne] = rows[k].step;
			for (size_t j = 0; j < n; j++)
				if (cols[j].type < 0) {
					ne++;
					ia[ne] = row, ja[ne] = (int)j + 1,
					ar[ne] = -rows[k].bound;
				}
		}
	}
	if (pol && pol->budget_hour > 0) {
		glp_add_rows(lp, 1);
		glp_set_row_bnds(lp, ++row, GLP_UP, 0, pol->budget_hour);
		for (int j = 1; j <= nc; j++) {
			ne++;
			ia[ne] = row, ja[ne] = j,
			ar[ne] = glp_get_obj_coef(lp, j);
		}
	}
	glp_load_matrix(lp, ne, ia, ja, ar);

	glp_iocp parm;
	glp_init_iocp(&parm);
	parm.presolve = GLP_ON;
	parm.msg_lev = GLP_MSG_OFF;
	int rc = glp_intopt(lp, &parm);
	int st = glp_mip_status(lp);
	if (rc == GLP_ENOPFS || rc == GLP_ENODFS || st == GLP_NOFEAS) {
		result = al_diagnose(cat, pol, &b, only_type, flags, err);
		goto out;
	}
	if (rc != 0 || st != GLP_OPT) {
		result = bsp_error_set(err, BSP_EINTERNAL,
				       "GLPK: intopt returned %d, status %d",
				       rc, st);
		goto out;
	}
	for (size_t j = 0; j < n; j++) {
		if (glp_mip_col_val(lp, (int)j + 1) < 0.5)
			continue;
		out->type = cols[j].type;
		out->storage = cols[j].storage;
		if (cols[j].type >= 0) {
			const struct bsp_alloc_type *ty =
			    &cat->types[cols[j].type];
			out->spot =
			    (flags & BSP_ALLOC_SPOT) && ty->spot_hour > 0;
			al_have(cat, al_type_vcpu(ty), ty->memory_gib,
				ty->network_gbps, cols[j].storage, out->have);
		} else {
			const struct bsp_alloc_custom *c = cat->custom;
			al_have(cat, glp_mip_col_val(lp, col_c) * c->vcpu_step,
				glp_mip_col_val(lp, col_m) * c->memory_step_gib,
				c->network_gbps, cols[j].storage, out->have);
		}
		break;
	}
	out->price_hour = glp_mip_obj_val(lp);
	al_name(cat, out);
	goto out;
nomem:
	result = bsp_error_set(err, BSP_ENOMEM, "alloc: out of memory");
out:
	if (lp)
		glp_delete_prob(lp);
	/* GLPK keeps an environment per thread (thread-local storage); it is
	 * freed here so that a worker thread that ends leaves nothing behind.
	 * Nothing else in the library holds GLPK objects across this call. */
	glp_free_env();
	free(ia);
	free(ja);
	free(ar);
	free(cols);
	return result;
}
