/*
 * The daemon's learn loop: on a schedule (serve --loop), for every entity
 * with resource metrics,
 *
 *   monitor  its latest profile against what has been observed since
 *            (bsp_profile_feedback, stored as a feedback document);
 *   learn    refit its models when a metric drifted, when they are older
 *            than --retrain-age, or when it has none;
 *   predict  store a new profile when the models changed or data has
 *            arrived past the latest profile's origin;
 *   allocate with each new profile, the recommended shape and the plan;
 *   resize   then, for the whole fleet, the coming hour's CPU and memory
 *            (bespoke resize), an event when it changes.
 *
 * One thread with its own store connection; a pass can be asked for at
 * once (POST /v1/loop/run), and stopping the daemon interrupts the wait,
 * not a pass. One entity's failure is counted and the pass goes on.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bespoke/alloc.h"
#include "bespoke/anomaly.h"
#include "bespoke/profile.h"
#include "cli_alloc.h"
#include "serve.h"

struct serve_loop {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_int stop; /* also read by a pass, between entities */
	int kick;
	struct serve_loop_status status;
};

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* When a document was stored, or BSP_TIME_NONE. */
static bsp_time doc_time(struct bsp_store *st, const char *kind,
			 const char *entity, bsp_time *origin)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	bsp_time t = BSP_TIME_NONE;

	if (origin)
		*origin = BSP_TIME_NONE;
	if (bsp_store_doc_get(st, kind, entity, 0, &d, &err) != BSP_OK)
		return t;
	t = d.created;
	if (origin) {
		json_t *j = json_loads(d.body, 0, NULL);
		const char *o = json_string_value(json_object_get(j, "origin"));
		if (o)
			bsp_time_parse(o, strlen(o), origin);
		json_decref(j);
	}
	bsp_doc_release(&d);
	return t;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

/* POSTs an event to --webhook as JSON, with the bearer token of
 * --webhook-token-file, a 10 s timeout and no retry (the next pass sends
 * the next change); counted in /metrics either way. Takes `ev`. */
static void post_event(struct serve *srv, struct serve_loop_status *l,
		       json_t *ev)
{
	char *body = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	CURL *h;

	json_decref(ev);
	if (!body || !(h = curl_easy_init())) {
		free(body);
		l->webhook_failures++;
		return;
	}
	struct curl_slist *hdr = curl_slist_append(NULL,
					       "Content-Type: application/json");
	if (srv->cfg.webhook_auth[0])
		hdr = curl_slist_append(hdr, srv->cfg.webhook_auth);
	curl_easy_setopt(h, CURLOPT_URL, srv->cfg.webhook);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	long code = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		l->webhooks_sent++;
	else
		l->webhook_failures++;
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	free(body);
}

/* A scale event: the recommended shape changed (or the first one). */
static void scale_event(struct serve *srv, struct serve_loop_status *l,
			const char *entity, const char *before,
			const struct bsp_alloc_rec *rec, const char *rec_json)
{
	char t[40];

	l->scale_events++;
	if (!srv->cfg.webhook)
		return;
	post_event(srv, l,
		   json_pack("{s:s,s:s,s:o,s:s,s:f,s:s,s:o}", "event",
			     "bespoke.scale", "entity", entity, "from",
			     *before ? json_string(before) : json_null(), "to",
			     rec->choice.name, "price_hour",
			     rec->choice.price_hour, "at",
			     bsp_time_format((bsp_time)(wall_s() * 1000), t,
					     sizeof(t)),
			     "recommendation", json_loads(rec_json, 0, NULL)));
}

struct resize_pass {
	struct serve *srv;
	struct serve_loop_status *status;
};

/* A resize event: an entity's hourly allocation (bespoke resize) changed
 * from its previous resize document, or is its first. */
static bsp_err resized(const char *entity, const struct cli_resize_fleet *f,
		       const struct cli_resize_res *d, json_t *doc,
		       int64_t version, const double *prev, void *ud,
		       struct bsp_error *err)
{
	struct resize_pass *rp = ud;
	struct serve_loop_status *l = rp->status;
	int changed = 0;
	char t[40];

	(void)f;
	(void)version;
	(void)err;
	if (!doc)
		return BSP_OK; /* no usage: nothing to size */
	l->resized++;
	for (int r = 0; r < 2; r++)
		if (d[r].has && isfinite(d[r].next) &&
		    !(fabs(d[r].next - prev[r]) <= 1e-9 * d[r].next))
			changed = 1;
	if (!changed)
		return BSP_OK;
	l->resize_events++;
	if (rp->srv->cfg.webhook)
		post_event(rp->srv, l,
			   json_pack("{s:s,s:s,s:s,s:O}", "event",
				     "bespoke.resize", "entity", entity, "at",
				     bsp_time_format((bsp_time)(wall_s() * 1000),
						     t, sizeof(t)),
				     "resize", doc));
	return BSP_OK;
}

/* Allocate: the cheapest shape for the profile just stored, as the
 * entity's next "recommendation" document (the profile route shows it). */
static bsp_err recommend(struct serve *srv, struct bsp_store *st,
			 const char *entity, const char *profile,
			 struct serve_loop_status *ls, struct bsp_error *err)
{
	struct bsp_alloc_demand d = {0};
	struct bsp_alloc_override ov;
	struct bsp_alloc_rec rec;
	int found = 0;
	char *json = NULL;
	bsp_err r;

	if (!srv->cfg.policy || !srv->cfg.tier)
		return BSP_OK;
	if ((r = cli_alloc_recommend_json(st, srv->cfg.instances,
					  srv->cfg.policy, srv->cfg.tier, 0,
					  entity, profile,
					  (bsp_time)(wall_s() * 1000), &d, &ov,
					  &found, &rec, err)) ||
	    (r = bsp_alloc_rec_json(entity, srv->cfg.instances, srv->cfg.tier,
				    &d, &rec, &json, err)))
		goto out;
	/* A different shape than last time is a scale event: stored, and
	 * sent to the webhook when there is one. */
	struct bsp_doc prev = {0};
	struct bsp_error pe = {0};
	char before[64] = "";
	if (bsp_store_doc_get(st, "recommendation", entity, 0, &prev, &pe) ==
	    BSP_OK) {
		json_t *pj = json_loads(prev.body, 0, NULL);
		const char *nm = json_string_value(json_object_get(
			json_object_get(pj, "choice"), "name"));
		snprintf(before, sizeof(before), "%s", nm ? nm : "");
		json_decref(pj);
		bsp_doc_release(&prev);
	}
	if ((r = bsp_store_doc_put(st, "recommendation", entity, json, NULL,
				   err)))
		goto out;
	if (strcmp(before, rec.choice.name))
		scale_event(srv, ls, entity, before, &rec, json);
	/* And the plan over the horizon, scaled ahead of its peaks. */
	struct bsp_alloc_plan plan = {0};
	if ((r = bsp_alloc_plan_make(srv->cfg.instances, srv->cfg.policy,
				     srv->cfg.tier, &d, found ? &ov : NULL,
				     srv->cfg.policy->lead,
				     srv->cfg.policy->hold, &plan, err)))
		goto out;
	json_t *pj = cli_alloc_plan_json(entity, srv->cfg.instances,
					 srv->cfg.policy, srv->cfg.tier, &d,
					 &plan, srv->cfg.policy->lead,
					 srv->cfg.policy->hold,
					 found ? &ov : NULL);
	char *ptext = pj ? json_dumps(pj, JSON_SORT_KEYS |
						  JSON_REAL_PRECISION(10))
			 : NULL;
	json_decref(pj);
	bsp_alloc_plan_release(&plan);
	if (!ptext)
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
	else
		r = bsp_store_doc_put(st, "plan", entity, ptext, NULL, err);
	free(ptext);
out:
	free(json);
	bsp_alloc_demand_release(&d);
	return r;
}

static void pass(struct serve *srv, struct bsp_store *st,
		 struct serve_loop_status *s)
{
	struct serve_loop *l = srv->loop;
	struct bsp_entity *e = NULL;
	struct bsp_error err = {0};
	struct bsp_profile_options opt;
	size_t n = 0;

	s->entities = s->skipped = s->failed = 0;
	s->retrained = s->profiles = s->drifted = s->recommended = 0;
	s->anomaly_reports = s->resized = 0;
	if (bsp_store_entities(st, &e, &n, &err) != BSP_OK) {
		snprintf(s->last_error, sizeof(s->last_error), "%.255s", err.msg);
		s->failed++;
		return;
	}
	bsp_profile_options_init(&opt);
	opt.personas = srv->cfg.personas;
	bsp_time now = (bsp_time)(wall_s() * 1000);
	for (size_t i = 0; i < n && !atomic_load(&l->stop); i++) {
		const char *name = e[i].name;
		struct bsp_series *ser = NULL;
		size_t nser = 0;
		bsp_time origin, model_at;
		char *json = NULL;
		int drift = 0, refit = 0;

		/* Only entities with resource metrics have profiles. */
		if (e[i].last == BSP_TIME_NONE ||
		    bsp_profile_series(st, name, &opt, &ser, &nser, &err) !=
			    BSP_OK) {
			s->skipped++;
			continue;
		}
		bsp_series_free(ser, nser);
		s->entities++;
		/* Monitor. */
		doc_time(st, "profile", name, &origin);
		if (origin != BSP_TIME_NONE && e[i].last >= origin) {
			if (bsp_profile_feedback(st, name, 0, e[i].last + 1, 1,
						 &json, &drift,
						 &err) != BSP_OK) {
				snprintf(s->last_error, sizeof(s->last_error),
					 "%.255s", err.msg);
				s->failed++;
			}
			free(json);
			json = NULL;
		}
		s->drifted += drift;
		/* Learn. */
		model_at = doc_time(st, "model", name, NULL);
		refit = drift || model_at == BSP_TIME_NONE ||
			now - model_at > srv->cfg.retrain_age;
		if (refit) {
			if (bsp_profile_train(st, name, &opt, NULL, NULL,
					      &err) != BSP_OK) {
				snprintf(s->last_error, sizeof(s->last_error),
					 "%.255s", err.msg);
				s->failed++;
				continue;
			}
			s->retrained++;
		}
		/* Predict: new models, or data past the profile's origin. */
		if (refit || origin == BSP_TIME_NONE || e[i].last >= origin) {
			if (bsp_profile_build(st, name, &opt, 1, &json, NULL,
					      &err) != BSP_OK) {
				snprintf(s->last_error, sizeof(s->last_error),
					 "%.255s", err.msg);
				s->failed++;
				continue;
			}
			s->profiles++;
			/* Update: the last week's anomalies, with the models
			 * just checked. */
			struct bsp_anomaly_options ao;
			char *atext = NULL;
			bsp_anomaly_options_init(&ao);
			if (bsp_anomaly_entity(st, name, &opt, &ao,
					       e[i].last - 7 * BSP_DAY,
					       BSP_TIME_NONE, 1, &atext, NULL,
					       &err) == BSP_OK)
				s->anomaly_reports++;
			free(atext);
			if (recommend(srv, st, name, json, s, &err) != BSP_OK) {
				snprintf(s->last_error, sizeof(s->last_error),
					 "%.255s", err.msg);
				s->failed++;
			} else if (srv->cfg.policy) {
				s->recommended++;
			}
			free(json);
		}
	}
	bsp_entities_free(e, n);
	/* Resize: the coming hour's CPU and memory for the whole fleet, the
	 * simulator's bespoke policy (docs/resize.md). */
	if (srv->cfg.policy && !atomic_load(&l->stop)) {
		struct cli_resize z = {.pol = srv->cfg.policy,
				       .at = BSP_TIME_NONE,
				       .store = 1,
				       .threads = 1};
		struct resize_pass rp = {srv, s};
		if (cli_resize_run(srv->cfg.db, st, &z, NULL, 0, resized, &rp,
				   &err) != BSP_OK &&
		    err.code != BSP_ENOTFOUND) {
			snprintf(s->last_error, sizeof(s->last_error),
				 "resize: %.240s", err.msg);
			s->failed++;
		}
	}
}

static void *loop_main(void *arg)
{
	struct serve *srv = arg;
	struct serve_loop *l = srv->loop;
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};

	if (bsp_store_open(&st, srv->cfg.db, BSP_OPEN_CREATE, &err) != BSP_OK) {
		pthread_mutex_lock(&l->lock);
		snprintf(l->status.last_error, sizeof(l->status.last_error),
			 "%.255s", err.msg);
		pthread_mutex_unlock(&l->lock);
		return NULL;
	}
	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		struct serve_loop_status s = l->status;
		l->kick = 0;
		pthread_mutex_unlock(&l->lock);

		s.last_start = wall_s();
		pass(srv, st, &s);
		s.last_seconds = wall_s() - s.last_start;
		s.runs++;
		s.retrained_total += s.retrained;
		s.profiles_total += s.profiles;
		s.drifted_total += s.drifted;

		pthread_mutex_lock(&l->lock);
		l->status = s;
		/* Sleep until the next pass, a kick, or the stop. */
		double due = s.last_start + (double)srv->cfg.loop_every / 1000;
		struct timespec ts = {(time_t)due,
				      (long)((due - (double)(time_t)due) * 1e9)};
		while (!l->stop && !l->kick &&
		       pthread_cond_timedwait(&l->wake, &l->lock, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&l->lock);
	bsp_store_close(st);
	return NULL;
}

bsp_err serve_loop_start(struct serve *srv, struct bsp_error *err)
{
	struct serve_loop *l;
	pthread_condattr_t ca;

	if (srv->cfg.loop_every <= 0)
		return BSP_OK;
	if (!(l = calloc(1, sizeof(*l))))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&l->wake, &ca);
	pthread_condattr_destroy(&ca);
	srv->loop = l;
	if (pthread_create(&l->thread, NULL, loop_main, srv)) {
		srv->loop = NULL;
		pthread_cond_destroy(&l->wake);
		pthread_mutex_destroy(&l->lock);
		free(l);
		return bsp_error_set(err, BSP_EINTERNAL,
				     "cannot start the loop thread");
	}
	return BSP_OK;
}

void serve_loop_stop(struct serve *srv)
{
	struct serve_loop *l = srv->loop;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	atomic_store(&l->stop, 1);
	pthread_cond_broadcast(&l->wake);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
	srv->loop = NULL;
}

int serve_loop_status(struct serve *srv, struct serve_loop_status *out)
{
	struct serve_loop *l = srv->loop;

	memset(out, 0, sizeof(*out));
	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	*out = l->status;
	pthread_mutex_unlock(&l->lock);
	return 1;
}

void serve_loop_kick(struct serve *srv)
{
	struct serve_loop *l = srv->loop;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->kick = 1;
	pthread_cond_broadcast(&l->wake);
	pthread_mutex_unlock(&l->lock);
}
