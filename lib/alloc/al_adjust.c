/*
 * Runtime adjustment (behavioural mirroring): the forecast decided the
 * allocation ahead of time; when what is observed gets close to it the
 * allocation is raised at once rather than at the next planning round,
 * and the event is recorded for the forecaster as an "adjustment" document
 * (schema bespoke-adjustment, docs/allocation.md): which resource, how much
 * was used against how much was given, and the profile that predicted it.
 *
 * The new need is usage / threshold, so that after the raise the usage is
 * at most the threshold share again (a reactive autoscaler's target
 * utilisation, e.g. Kubernetes' HPA target).
 */
#include <math.h>
#include <stdio.h>

#include "alloc_int.h"

bsp_err bsp_alloc_observe(struct bsp_store *st, const char *entity,
			  const struct bsp_alloc_demand *d, bsp_time window,
			  struct bsp_alloc_observed *obs, struct bsp_error *err)
{
	for (int r = 0; r < BSP_RES_N; r++) {
		struct bsp_series s;
		bsp_time *ts = NULL, from;
		double *v = NULL, sum = 0;
		size_t n = 0, k = 0;
		bsp_err rc;

		obs->value[r] = NAN;
		obs->at[r] = BSP_TIME_NONE;
		if (!d->q[r])
			continue;
		rc = bsp_store_series_find(st, entity, d->metric[r], NULL, &s,
					   err);
		if (rc == BSP_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		from = window > 0 ? s.last - window + 1 : s.last;
		rc = bsp_store_read(st, s.id, from, s.last + 1, &ts, &v, &n,
				    err);
		for (size_t i = 0; !rc && i < n; i++)
			if (isfinite(v[i])) {
				sum += v[i];
				k++;
			}
		if (!rc && k) {
			obs->value[r] = sum / (double)k * d->factor[r];
			obs->at[r] = s.last;
		}
		free(ts);
		free(v);
		bsp_series_release(&s);
		if (rc)
			return rc;
	}
	return BSP_OK;
}

bsp_err bsp_alloc_adjust(const struct bsp_alloc_catalog *cat,
			 const struct bsp_alloc_policy *pol,
			 const struct bsp_alloc_tier *tier,
			 const struct bsp_alloc_demand *d, const char *entity,
			 const struct bsp_alloc_observed *obs,
			 struct bsp_alloc_rec *rec, int *raised,
			 char **feedback, struct bsp_error *err)
{
	double th =
	    pol && pol->adjust_threshold > 0 ? pol->adjust_threshold : 0.9;
	double need[BSP_RES_N];
	json_t *events = json_array();
	struct bsp_alloc_choice before = rec->choice, after;
	bsp_time at = BSP_TIME_NONE;
	char a[48], b[48], t[40];
	bsp_err r = BSP_OK;

	*raised = 0;
	if (feedback)
		*feedback = NULL;
	memcpy(need, rec->need, sizeof(need));
	for (int k = 0; k < BSP_RES_N; k++) {
		enum bsp_res res = (enum bsp_res)k;
		double have = rec->choice.have[k], u = obs->value[k];
		if (!isfinite(u) || !(have > 0) || u < th * have ||
		    (rec->override_used && isfinite(rec->override.value[k])))
			continue;
		need[k] = fmax(isfinite(need[k]) ? need[k] : 0, u / th);
		(*raised)++;
		if (obs->at[k] != BSP_TIME_NONE && obs->at[k] > at)
			at = obs->at[k];
		json_t *e = json_object();
		json_object_set_new(e, "resource",
				    json_string(bsp_res_name(res)));
		json_object_set_new(e, "metric", json_string(d->metric[k]));
		json_object_set_new(e, "observed", json_real(u));
		json_object_set_new(e, "allocated", json_real(have));
		json_object_set_new(e, "share", json_real(u / have));
		json_object_set_new(e, "predicted",
				    isfinite(rec->need[k])
					? json_real(rec->need[k])
					: json_null());
		json_object_set_new(e, "raised_to", json_real(need[k]));
		json_array_append_new(events, e);
	}
	if (!*raised)
		goto out;
	if ((r = bsp_alloc_choose(cat, pol, need,
				  rec->override_used && rec->override.type[0]
				      ? rec->override.type
				      : NULL,
				  rec->choice.spot ? BSP_ALLOC_SPOT : 0, &after,
				  err)))
		goto out;
	for (int k = 0; k < BSP_RES_N; k++)
		if (!(need[k] == rec->need[k]) && isfinite(obs->value[k]) &&
		    rec->n_reasons < BSP_ALLOC_MAX_REASONS) {
			al_fmt_amount((enum bsp_res)k, obs->value[k], a,
				      sizeof(a));
			al_fmt_amount((enum bsp_res)k, need[k], b, sizeof(b));
			snprintf(rec->reasons[rec->n_reasons++],
				 sizeof(rec->reasons[0]),
				 "raised at once: observed %s %s is %.0f%% of "
				 "%g (threshold %.0f%%) -> needs >= %s, now %s",
				 bsp_res_name((enum bsp_res)k), a,
				 100 * obs->value[k] / rec->choice.have[k],
				 rec->choice.have[k], 100 * th, b, after.name);
		}
	memcpy(rec->need, need, sizeof(need));
	rec->choice = after;
	al_violation(d, 0, d->n_steps, after.have, rec->violation,
		     &rec->violation_any);
	rec->savings_hour =
	    rec->has_current ? rec->current.price_hour - after.price_hour : 0;
	rec->cost_hour = after.price_hour;
	rec->cost_horizon = after.price_hour * (double)d->n_steps *
			    (double)d->step / (double)BSP_HOUR;
	if (feedback) {
		json_t *o = json_object();
		json_object_set_new(o, "format",
				    json_string("bespoke-adjustment"));
		json_object_set_new(o, "version", json_integer(1));
		json_object_set_new(o, "kind",
				    json_string("under-provisioned"));
		json_object_set_new(o, "entity", json_string(entity));
		json_object_set_new(
		    o, "at",
		    at == BSP_TIME_NONE
			? json_null()
			: json_string(bsp_time_format(at, t, sizeof(t))));
		json_object_set_new(o, "profile_version",
				    json_integer(d->profile_version));
		json_object_set_new(o, "tier", json_string(tier->name));
		json_object_set_new(o, "threshold", json_real(th));
		json_object_set_new(o, "before", json_string(before.name));
		json_object_set_new(o, "after", json_string(after.name));
		json_object_set_new(o, "events", json_incref(events));
		*feedback =
		    json_dumps(o, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		json_decref(o);
		if (!*feedback)
			r = bsp_error_set(err, BSP_ENOMEM,
					  "alloc: out of memory");
	}
out:
	json_decref(events);
	return r;
}
