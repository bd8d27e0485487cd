/*
 * The Behaviour Profile's "behaviour" object: how the entity works, beside
 * how much it uses. Three parts, each from history before the origin only,
 * each left out (with the reason under "missing") when its input is absent:
 *
 *  - workload: the stored classifier (bespoke classify --train) applied to
 *    the entity's CPU features;
 *  - personas: the posterior over the catalog given the observed usage
 *    shapes and application launches;
 *  - apps: the next applications from the entity's own launch sequence, and
 *    what it will use in the coming hour and day (what to pre-load).
 *
 * The apps part uses the entity's own events only, so that building one
 * profile does not read the whole fleet; `bespoke apps` adds the population
 * model on top.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/apps.h"
#include "bespoke/classify.h"
#include "bespoke/persona.h"
#include "profile_int.h"

#define BEH_TOP_APPS 10

static void missing(json_t *why, const char *part, const char *reason)
{
	json_object_set_new(why, part, json_string(reason));
}

static json_t *beh_workload(struct bsp_store *st, const char *entity,
			    bsp_time origin, json_t *why)
{
	struct bsp_cls_model m;
	struct bsp_cls_features f;
	struct bsp_error e = {0};
	int64_t version = 0;

	if (bsp_cls_model_load(st, 0, &m, &version, &e) != BSP_OK) {
		missing(why, "workload",
			e.code == BSP_ENOTFOUND
				? "no classifier stored (bespoke classify "
				  "--train FILE)"
				: e.msg);
		return NULL;
	}
	if (bsp_cls_features_entity_before(st, entity, origin, &f, &e) !=
	    BSP_OK) {
		missing(why, "workload", e.msg);
		return NULL;
	}
	double p = bsp_cls_predict(&m, &f);
	/* "batch" is Azure's "delay-insensitive". */
	return json_pack("{s:s,s:f,s:s,s:I}", "class",
			 p >= 0.5 ? "interactive" : "batch", "p_interactive",
			 p, "features_from", f.source, "model_version",
			 (json_int_t)version);
}

static int by_p_desc(const void *a, const void *b)
{
	double x = json_real_value(json_object_get(*(json_t *const *)a, "p"));
	double y = json_real_value(json_object_get(*(json_t *const *)b, "p"));
	return (x < y) - (x > y);
}

static json_t *beh_personas(struct bsp_store *st, const char *entity,
			    bsp_time origin,
			    const struct bsp_persona_catalog *cat, json_t *why)
{
	struct bsp_persona_evidence ev;
	struct bsp_persona_scores s = {0};
	struct bsp_error e = {0};
	json_t *arr = NULL, **items = NULL;

	if (!cat) {
		missing(why, "personas", "no persona catalog given");
		return NULL;
	}
	bsp_persona_evidence_init(&ev);
	if (bsp_persona_observe_before(st, entity, origin, &ev, &e) != BSP_OK)
		goto fail;
	if (!ev.has_usage && !ev.n_apps) {
		missing(why, "personas",
			"no usage shapes or application launches to go by");
		goto out;
	}
	if (bsp_persona_infer(cat, &ev, &s, &e) != BSP_OK)
		goto fail;
	if (!(items = calloc(s.n ? s.n : 1, sizeof(*items))))
		goto out;
	for (size_t i = 0; i < s.n; i++)
		items[i] = json_pack("{s:s,s:f}", "name", cat->personas[i].name,
				     "p", s.posterior[i]);
	qsort(items, s.n, sizeof(*items), by_p_desc);
	arr = json_array();
	for (size_t i = 0; i < s.n; i++)
		json_array_append_new(arr, items[i]);
	goto out;
fail:
	missing(why, "personas", e.msg);
out:
	free(items);
	bsp_persona_scores_release(&s);
	bsp_persona_evidence_release(&ev);
	return arr;
}

static json_t *preds(const struct bsp_apps_pred *p, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n && i < BEH_TOP_APPS; i++)
		json_array_append_new(a, json_pack("{s:s,s:f}", "name",
						   p[i].app, "p", p[i].p));
	return a;
}

static json_t *beh_apps(struct bsp_store *st, const char *entity,
			bsp_time origin, json_t *why)
{
	struct bsp_event *ev = NULL;
	struct bsp_apps *m = NULL;
	struct bsp_apps_options opt;
	struct bsp_apps_coming coming = {0};
	struct bsp_apps_pred next[BEH_TOP_APPS];
	struct bsp_error e = {0};
	size_t n = 0, k = 0, n_next = 0, user = 0;
	json_t *out = NULL;

	if (bsp_store_events(st, entity, BSP_TIME_NONE, origin, &ev, &n, &e) !=
	    BSP_OK)
		goto fail;
	/* Keep the application launches and commands, in order. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev[i].kind, "app") && strcmp(ev[i].kind, "command"))
			continue;
		struct bsp_event t = ev[k];
		ev[k++] = ev[i];
		ev[i] = t;
	}
	if (!k) {
		missing(why, "apps", "no application events");
		goto out;
	}
	bsp_apps_options_init(&opt);
	opt.population = 0;
	if (bsp_apps_new(&m, &opt, &e) != BSP_OK ||
	    bsp_apps_user(m, entity, &user, &e) != BSP_OK)
		goto fail;
	for (size_t i = 0; i < k; i++)
		if (bsp_apps_observe(m, user, ev[i].name, ev[i].ts,
				     BSP_APPS_LEARN_USER, &e) != BSP_OK)
			goto fail;
	/* Timed events: the coming hour is the one that starts at the
	 * origin; untimed histories have no clock. */
	bsp_time now = ev[k - 1].ts == BSP_TIME_NONE ? BSP_TIME_NONE : origin;
	if (bsp_apps_predict(m, user, now, BEH_TOP_APPS, next, &n_next, &e) !=
		    BSP_OK ||
	    bsp_apps_coming(ev, k, now, &opt, &coming, &e) != BSP_OK)
		goto fail;
	out = json_pack("{s:I,s:o,s:o,s:o}", "events", (json_int_t)k, "next",
			preds(next, n_next), "coming_hour",
			preds(coming.hour, coming.n_hour), "coming_day",
			preds(coming.day, coming.n_day));
	goto out;
fail:
	missing(why, "apps", e.msg);
out:
	bsp_apps_coming_release(&coming);
	bsp_apps_free(m);
	bsp_events_free(ev, n);
	return out;
}

json_t *prof_behaviour(struct bsp_store *st, const char *entity,
		       bsp_time origin, const struct bsp_profile_options *opt)
{
	json_t *b = json_object(), *why = json_object(), *part;

	if ((part = beh_workload(st, entity, origin, why)))
		json_object_set_new(b, "workload", part);
	if ((part = beh_personas(st, entity, origin, opt->personas, why)))
		json_object_set_new(b, "personas", part);
	if ((part = beh_apps(st, entity, origin, why)))
		json_object_set_new(b, "apps", part);
	if (json_object_size(why))
		json_object_set_new(b, "missing", why);
	else
		json_decref(why);
	return b;
}
