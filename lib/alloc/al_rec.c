/*
 * A recommendation: the tier's quantile of the predicted peak per
 * resource (or an administrator's override), the cheapest shape that
 * covers it (al_choose.c), what it is expected to cost and how often
 * demand is expected to exceed it, the savings against what the entity
 * runs on now, and the reasons in words.
 *
 * The expected violation rate of a shape is the mean over the forecast
 * steps of P(demand > allocation), read from the quantile forecast
 * (bsp_alloc_exceed); for several resources a step counts as violated
 * when any one is, taking resources as independent.
 */
#include <math.h>
#include <stdio.h>

#include "alloc_int.h"

static void al_reason(struct bsp_alloc_rec *rec, const char *fmt, ...)
    BSP_PRINTF(2, 3);
static void al_reason(struct bsp_alloc_rec *rec, const char *fmt, ...)
{
	va_list ap;
	if (rec->n_reasons == BSP_ALLOC_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(rec->reasons[rec->n_reasons++], sizeof(rec->reasons[0]), fmt,
		  ap);
	va_end(ap);
}

/* "14:00" of a step's start, with the date when not the first day. */
static void al_step_time(const struct bsp_alloc_demand *d, size_t j, char *buf,
			 size_t size)
{
	char t[40];
	bsp_time_format(d->start + (bsp_time)j * d->step, t, sizeof(t));
	/* 2013-09-01T14:00:00Z → "2013-09-01 14:00" */
	snprintf(buf, size, "%.10s %.5s", t, t + 11);
}

/* Spot prices allowed by the policy for this workload? */
unsigned al_spot_flags(const struct bsp_alloc_policy *pol,
		       const struct bsp_alloc_demand *d)
{
	if (!pol)
		return 0;
	if (pol->spot == BSP_SPOT_ALWAYS ||
	    (pol->spot == BSP_SPOT_BATCH && !strcmp(d->workload, "batch")))
		return BSP_ALLOC_SPOT;
	return 0;
}

/* Mean violation per resource and for any resource over [from, until). */
void al_violation(const struct bsp_alloc_demand *d, size_t from, size_t until,
		  const double have[BSP_RES_N], double viol[BSP_RES_N],
		  double *any)
{
	double sum_any = 0;
	size_t n = until > from ? until - from : 0;

	for (int r = 0; r < BSP_RES_N; r++)
		viol[r] = 0;
	for (size_t j = from; j < until; j++) {
		double ok = 1;
		for (int r = 0; r < BSP_RES_N; r++) {
			double p =
			    bsp_alloc_exceed(d, (enum bsp_res)r, j, have[r]);
			viol[r] += p;
			ok *= 1 - p;
		}
		sum_any += 1 - ok;
	}
	for (int r = 0; r < BSP_RES_N; r++)
		viol[r] = n ? viol[r] / (double)n : 0;
	*any = n ? sum_any / (double)n : 0;
}

/* Fills need[] from the demand, the override and the policy's caps. */
static void al_need(const struct bsp_alloc_policy *pol,
		    const struct bsp_alloc_tier *tier,
		    const struct bsp_alloc_demand *d,
		    const struct bsp_alloc_override *ov,
		    struct bsp_alloc_rec *rec, int words)
{
	char a[48], b[48], t[40];

	bsp_alloc_demand_need(d, tier->quantile, 0, d->n_steps, rec->need,
			      rec->peak);
	for (int r = 0; r < BSP_RES_N; r++) {
		enum bsp_res res = (enum bsp_res)r;
		if (ov && isfinite(ov->value[r])) {
			rec->need[r] = ov->value[r];
			al_fmt_amount(res, ov->value[r], a, sizeof(a));
			if (words)
				al_reason(rec,
					  "%s set to %s by override v%lld "
					  "(\"%s\") until %s",
					  bsp_res_name(res), a,
					  (long long)ov->version, ov->reason,
					  ov->expires == BSP_TIME_NONE
					      ? "cleared"
					      : bsp_time_format(ov->expires, t,
								sizeof(t)));
			continue;
		}
		if (!isfinite(rec->need[r]))
			continue;
		al_fmt_amount(res, rec->need[r], a, sizeof(a));
		al_step_time(d, rec->peak[r], t, sizeof(t));
		if (words)
			al_reason(rec, "%s p%g peak %s at %s -> needs >= %s",
				  bsp_res_name(res), tier->quantile * 100, a, t,
				  a);
		if (words && d->hist_max[r] > 0 &&
		    rec->need[r] == d->hist_max[r] &&
		    bsp_alloc_demand_q_raw(d, res, rec->peak[r],
					   tier->quantile) > d->hist_max[r]) {
			al_fmt_amount(res, d->hist_max[r], b, sizeof(b));
			al_reason(rec,
				  "%s: the forecast band reached above %s, "
				  "the largest hourly mean of the history; "
				  "held there",
				  bsp_res_name(res), b);
		}
		double mx = pol ? al_limit(&pol->max, res) : 0;
		if (mx > 0 && rec->need[r] > mx) {
			al_fmt_amount(res, mx, b, sizeof(b));
			if (words)
				al_reason(rec,
					  "%s capped at %s by policy %s's "
					  "maximum",
					  bsp_res_name(res), b, pol->name);
		}
	}
}

bsp_err bsp_alloc_recommend(const struct bsp_alloc_catalog *cat,
			    const struct bsp_alloc_policy *pol,
			    const struct bsp_alloc_tier *tier,
			    const struct bsp_alloc_demand *d,
			    const struct bsp_alloc_override *ov,
			    const struct bsp_alloc_current *cur,
			    struct bsp_alloc_rec *rec, struct bsp_error *err)
{
	unsigned flags = al_spot_flags(pol, d);
	char list[160] = "", a[48];
	size_t len = 0;
	bsp_err r;

	memset(rec, 0, sizeof(*rec));
	if (ov) {
		rec->override_used = 1;
		rec->override = *ov;
	}
	al_need(pol, tier, d, ov, rec, 1);
	if ((r = bsp_alloc_choose(cat, pol, rec->need,
				  ov && ov->type[0] ? ov->type : NULL, flags,
				  &rec->choice, err)))
		return r;
	al_violation(d, 0, d->n_steps, rec->choice.have, rec->violation,
		     &rec->violation_any);
	rec->cost_hour = rec->choice.price_hour;
	rec->cost_horizon = rec->cost_hour * (double)d->n_steps *
			    (double)d->step / (double)BSP_HOUR;
	for (int k = 0; k < BSP_RES_N; k++) {
		if (!(rec->need[k] > 0) || len >= sizeof(list) - 40)
			continue;
		al_fmt_amount((enum bsp_res)k, rec->choice.have[k], a,
			      sizeof(a));
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					len ? ", " : "", a);
	}
	al_reason(rec,
		  "%s is the cheapest allowed shape that covers it (%s%s%s) at "
		  "$%.4f/h%s",
		  rec->choice.name, list,
		  rec->choice.storage >= 0 ? ", storage " : "",
		  rec->choice.storage >= 0
		      ? cat->storage[rec->choice.storage].name
		      : "",
		  rec->cost_hour, rec->choice.spot ? " spot" : "");
	if (rec->choice.spot)
		al_reason(rec,
			  "spot price: the workload is %s and policy %s "
			  "allows spot for it",
			  d->workload[0] ? d->workload : "unclassified",
			  pol->name);
	if (rec->violation_any > tier->violation)
		al_reason(rec,
			  "expected violation %.2f%% is above tier %s's %.2f%% "
			  "(a policy cap, an override or the history's peak "
			  "holds it down; the estimate counts the whole "
			  "forecast band)",
			  100 * rec->violation_any, tier->name,
			  100 * tier->violation);
	if (cur && (cur->type[0] || cur->vcpu > 0 || cur->memory_gib > 0)) {
		double cneed[BSP_RES_N] = {cur->vcpu, cur->memory_gib, 0, 0, 0};
		struct bsp_error e2 = {0};
		if (bsp_alloc_choose(cat, NULL, cneed,
				     cur->type[0] ? cur->type : NULL, 0,
				     &rec->current, &e2) == BSP_OK) {
			rec->has_current = 1;
			rec->savings_hour =
			    rec->current.price_hour - rec->cost_hour;
			al_reason(rec,
				  "%s $%.4f/h (%.0f%%) against the provisioned "
				  "%g vCPU / %g GiB, priced as %s at $%.4f/h",
				  rec->savings_hour >= 0 ? "saves" : "costs",
				  fabs(rec->savings_hour),
				  rec->current.price_hour > 0
				      ? 100 * fabs(rec->savings_hour) /
					    rec->current.price_hour
				      : 0,
				  rec->current.have[BSP_RES_CPU],
				  rec->current.have[BSP_RES_MEM],
				  rec->current.name, rec->current.price_hour);
		}
	}
	return BSP_OK;
}

/* ---- the entity's current size ----------------------------------------- */

static const char *al_attr(const struct bsp_entity *e, const char *key)
{
	for (size_t i = 0; i < e->n_attrs; i++)
		if (!strcmp(e->attr_keys[i], key))
			return e->attr_values[i];
	return NULL;
}

static double al_attr_num(const struct bsp_entity *e, const char *key)
{
	const char *v = al_attr(e, key);
	char *end;
	double x;
	if (!v)
		return 0;
	x = strtod(v, &end);
	return *end || !isfinite(x) || x < 0 ? 0 : x;
}

/* The last sample of a series before `before` (BSP_TIME_NONE: the last
 * of all), looked for over the 30 days before it; 0 when none. */
static double al_last(struct bsp_store *st, const char *entity,
		      const char *metric, bsp_time before)
{
	struct bsp_series s;
	bsp_time *ts = NULL, until;
	double *v = NULL, x = 0;
	size_t n = 0;

	if (bsp_store_series_find(st, entity, metric, NULL, &s, NULL))
		return 0;
	until =
	    before == BSP_TIME_NONE || before > s.last ? s.last + 1 : before;
	if (!bsp_store_read(st, s.id, until - 30 * BSP_DAY, until, &ts, &v, &n,
			    NULL) &&
	    n)
		x = v[n - 1];
	free(ts);
	free(v);
	bsp_series_release(&s);
	return isfinite(x) && x > 0 ? x : 0;
}

bsp_err bsp_alloc_entity_current(struct bsp_store *st, const char *entity,
				 bsp_time before, struct bsp_alloc_current *cur,
				 double *mhz_per_core, struct bsp_error *err)
{
	struct bsp_entity e;
	bsp_err r;
	const char *type;

	memset(cur, 0, sizeof(*cur));
	*mhz_per_core = 0;
	if ((r = bsp_store_entity(st, entity, &e, err)))
		return r;
	if ((type = al_attr(&e, "instance_type")))
		snprintf(cur->type, sizeof(cur->type), "%s", type);
	cur->vcpu = al_attr_num(&e, "provisioned_cores");
	if (!cur->vcpu)
		cur->vcpu = al_attr_num(&e, "provisioned_vcpu");
	cur->memory_gib = al_attr_num(&e, "provisioned_mem_mib") / 1024;
	if (!cur->memory_gib)
		cur->memory_gib = al_attr_num(&e, "provisioned_memory_gib");
	bsp_entity_release(&e);
	/* Bitbrains records the provisioned size as series of its own. */
	double cores = al_last(st, entity, "cpu_cores", before);
	double cap = al_last(st, entity, "cpu_capacity", before);
	if (!cur->vcpu)
		cur->vcpu = cores;
	if (!cur->memory_gib)
		cur->memory_gib =
		    al_last(st, entity, "mem_capacity", before) / 1048576;
	if (cores > 0 && cap > 0)
		*mhz_per_core = cap / cores;
	return BSP_OK;
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *al_choice_json(const struct bsp_alloc_catalog *cat,
			      const struct bsp_alloc_choice *c)
{
	json_t *o = json_object(), *h = json_object();
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "family",
			    c->type >= 0
				? json_string(cat->types[c->type].family)
				: json_string("custom"));
	json_object_set_new(o, "storage",
			    c->storage >= 0
				? json_string(cat->storage[c->storage].name)
				: json_null());
	json_object_set_new(o, "spot", json_boolean(c->spot));
	json_object_set_new(o, "price_hour", json_real(c->price_hour));
	for (int r = 0; r < BSP_RES_N; r++)
		json_object_set_new(h, bsp_res_name((enum bsp_res)r),
				    json_real(c->have[r]));
	json_object_set_new(o, "provides", h);
	return o;
}

static json_t *al_num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

bsp_err bsp_alloc_rec_json(const char *entity,
			   const struct bsp_alloc_catalog *cat,
			   const struct bsp_alloc_tier *tier,
			   const struct bsp_alloc_demand *d,
			   const struct bsp_alloc_rec *rec, char **json,
			   struct bsp_error *err)
{
	json_t *o = json_object(), *need = json_object(), *viol = json_object(),
	       *reasons = json_array();
	char t[40];

	json_object_set_new(o, "format", json_string("bespoke-recommendation"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "entity", json_string(entity));
	json_object_set_new(o, "tier", json_string(tier->name));
	json_object_set_new(o, "quantile", json_real(tier->quantile));
	json_object_set_new(o, "profile_version",
			    json_integer(d->profile_version));
	json_object_set_new(
	    o, "origin", json_string(bsp_time_format(d->start, t, sizeof(t))));
	json_object_set_new(o, "horizon_seconds",
			    json_integer((json_int_t)((bsp_time)d->n_steps *
						      d->step / BSP_SECOND)));
	for (int r = 0; r < BSP_RES_N; r++) {
		const char *k = bsp_res_name((enum bsp_res)r);
		json_t *n = json_object();
		json_object_set_new(n, "value", al_num_or_null(rec->need[r]));
		json_object_set_new(n, "unit",
				    json_string(bsp_res_unit((enum bsp_res)r)));
		if (d->q[r]) {
			json_object_set_new(n, "metric",
					    json_string(d->metric[r]));
			json_object_set_new(n, "conversion",
					    json_string(d->how[r]));
			json_object_set_new(
			    n, "peak_time",
			    json_string(bsp_time_format(
				d->start + (bsp_time)rec->peak[r] * d->step, t,
				sizeof(t))));
		}
		json_object_set_new(need, k, n);
		json_object_set_new(viol, k, json_real(rec->violation[r]));
	}
	json_object_set_new(o, "need", need);
	json_object_set_new(o, "choice", al_choice_json(cat, &rec->choice));
	json_object_set_new(o, "cost_hour", json_real(rec->cost_hour));
	json_object_set_new(o, "cost_horizon", json_real(rec->cost_horizon));
	json_object_set_new(viol, "any", json_real(rec->violation_any));
	json_object_set_new(o, "violation", viol);
	json_object_set_new(o, "violation_tolerated",
			    json_real(tier->violation));
	if (rec->has_current) {
		json_object_set_new(o, "current",
				    al_choice_json(cat, &rec->current));
		json_object_set_new(o, "savings_hour",
				    json_real(rec->savings_hour));
	} else {
		json_object_set_new(o, "current", json_null());
		json_object_set_new(o, "savings_hour", json_null());
	}
	json_object_set_new(o, "override",
			    rec->override_used ? al_override_obj(&rec->override)
					       : json_null());
	for (size_t i = 0; i < rec->n_reasons; i++)
		json_array_append_new(reasons, json_string(rec->reasons[i]));
	json_object_set_new(o, "reasons", reasons);
	*json = json_dumps(o, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (!*json)
		return bsp_error_set(err, BSP_ENOMEM, "alloc: out of memory");
	return BSP_OK;
}
