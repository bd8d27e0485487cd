/*
 * The daemon's routes, one handler each. Handlers read and write through
 * the public API with the calling thread's store connection, fill a JSON
 * reply, and never print. Entity access was checked by the dispatcher
 * (serve_http.c) before a handler with {id} runs.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>
#include <zlib.h>

#include "bespoke/alloc.h"
#include "bespoke/ingest.h"
#include "bespoke/profile.h"
#include "serve.h"

static json_t *time_json(bsp_time t)
{
	char buf[40];
	return t == BSP_TIME_NONE
		       ? json_null()
		       : json_string(bsp_time_format(t, buf, sizeof(buf)));
}

/* ---- open routes ---------------------------------------------------------- */

static void h_healthz(struct serve_req *q, struct serve_reply *r)
{
	r->json = json_pack("{s:s,s:i}", "status", "ok", "schema",
			    bsp_store_schema_version(q->st));
}

static void h_openapi(struct serve_req *q, struct serve_reply *r)
{
	(void)q;
	r->text = strdup(serve_openapi_json);
	r->content_type = "application/json";
}

/* Prometheus text exposition format 0.0.4. */
static void h_metrics(struct serve_req *q, struct serve_reply *r)
{
	static const double le[SERVE_N_BUCKETS] = {
		0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
	};
	struct serve_stats *s = &q->srv->stats;
	struct bsp_store_stats ss;
	struct bsp_error err = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		serve_error(r, 500, "out of memory");
		return;
	}
	fprintf(f, "# HELP bespoke_build_info The running version.\n"
		   "# TYPE bespoke_build_info gauge\n"
		   "bespoke_build_info{version=\"%s\"} 1\n",
		bsp_version());
	fprintf(f, "# HELP bespoke_start_time_seconds When the daemon "
		   "started, Unix time.\n"
		   "# TYPE bespoke_start_time_seconds gauge\n"
		   "bespoke_start_time_seconds %.0f\n",
		q->srv->started);
	fprintf(f, "# HELP bespoke_http_requests_total HTTP requests "
		   "answered, by status code.\n"
		   "# TYPE bespoke_http_requests_total counter\n");
	for (unsigned c = 100; c < 600; c++) {
		uint_fast64_t n = atomic_load(&s->by_code[c]);
		if (n)
			fprintf(f,
				"bespoke_http_requests_total{code=\"%u\"} "
				"%" PRIuFAST64 "\n",
				c, n);
	}
	fprintf(f, "# HELP bespoke_http_request_duration_seconds Time from "
		   "request to reply.\n"
		   "# TYPE bespoke_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < SERVE_N_BUCKETS; i++)
		fprintf(f,
			"bespoke_http_request_duration_seconds_bucket{le=\"%g\"}"
			" %" PRIuFAST64 "\n",
			le[i], atomic_load(&s->duration_bucket[i]));
	fprintf(f,
		"bespoke_http_request_duration_seconds_bucket{le=\"+Inf\"} "
		"%" PRIuFAST64 "\n"
		"bespoke_http_request_duration_seconds_sum %.6f\n"
		"bespoke_http_request_duration_seconds_count %" PRIuFAST64
		"\n",
		atomic_load(&s->duration_count),
		(double)atomic_load(&s->duration_us_sum) / 1e6,
		atomic_load(&s->duration_count));
	fprintf(f, "# HELP bespoke_ingested_samples_total Samples received "
		   "through the API.\n"
		   "# TYPE bespoke_ingested_samples_total counter\n"
		   "bespoke_ingested_samples_total %" PRIuFAST64 "\n"
		   "# HELP bespoke_ingested_events_total Events received "
		   "through the API.\n"
		   "# TYPE bespoke_ingested_events_total counter\n"
		   "bespoke_ingested_events_total %" PRIuFAST64 "\n"
		   "# HELP bespoke_profiles_built_total Behaviour Profiles "
		   "built by the daemon.\n"
		   "# TYPE bespoke_profiles_built_total counter\n"
		   "bespoke_profiles_built_total %" PRIuFAST64 "\n",
		atomic_load(&s->ingested_samples),
		atomic_load(&s->ingested_events),
		atomic_load(&s->profiles_built));
	struct serve_wal_stats ws;
	serve_wal_stats(q->srv, &ws);
	fprintf(f, "# HELP bespoke_remote_write_pending_bytes Remote-write "
		   "bodies acknowledged, not yet in the store.\n"
		   "# TYPE bespoke_remote_write_pending_bytes gauge\n"
		   "bespoke_remote_write_pending_bytes %llu\n"
		   "# HELP bespoke_remote_write_flushes_total Flushes of the "
		   "append log.\n"
		   "# TYPE bespoke_remote_write_flushes_total counter\n"
		   "bespoke_remote_write_flushes_total %llu\n"
		   "# HELP bespoke_remote_write_flushed_samples_total Samples "
		   "the flushes stored.\n"
		   "# TYPE bespoke_remote_write_flushed_samples_total counter\n"
		   "bespoke_remote_write_flushed_samples_total %llu\n"
		   "# HELP bespoke_remote_write_flush_failures_total Flushes "
		   "that failed (the log is kept and retried).\n"
		   "# TYPE bespoke_remote_write_flush_failures_total counter\n"
		   "bespoke_remote_write_flush_failures_total %llu\n"
		   "# HELP bespoke_remote_write_last_flush_seconds Duration of "
		   "the last flush.\n"
		   "# TYPE bespoke_remote_write_last_flush_seconds gauge\n"
		   "bespoke_remote_write_last_flush_seconds %.6f\n",
		(unsigned long long)ws.pending_bytes,
		(unsigned long long)ws.flushes,
		(unsigned long long)ws.flushed_samples,
		(unsigned long long)ws.flush_failures, ws.last_flush_seconds);
	struct serve_loop_status ls;
	if (serve_loop_status(q->srv, &ls))
		fprintf(f, "# HELP bespoke_loop_runs_total Passes of the learn "
			   "loop.\n"
			   "# TYPE bespoke_loop_runs_total counter\n"
			   "bespoke_loop_runs_total %llu\n"
			   "# HELP bespoke_loop_last_seconds Duration of the last "
			   "pass.\n"
			   "# TYPE bespoke_loop_last_seconds gauge\n"
			   "bespoke_loop_last_seconds %.3f\n"
			   "# HELP bespoke_loop_retrained_total Entities refitted "
			   "by the loop.\n"
			   "# TYPE bespoke_loop_retrained_total counter\n"
			   "bespoke_loop_retrained_total %llu\n"
			   "# HELP bespoke_loop_drifted_total Drifts found by "
			   "feedback.\n"
			   "# TYPE bespoke_loop_drifted_total counter\n"
			   "bespoke_loop_drifted_total %llu\n"
			   "# HELP bespoke_loop_profiles_total Profiles stored by "
			   "the loop.\n"
			   "# TYPE bespoke_loop_profiles_total counter\n"
			   "bespoke_loop_profiles_total %llu\n"
			   "# HELP bespoke_loop_scale_events_total Changes of "
			   "recommended shape.\n"
			   "# TYPE bespoke_loop_scale_events_total counter\n"
			   "bespoke_loop_scale_events_total %llu\n"
			   "# HELP bespoke_loop_resize_events_total Changes of "
			   "an entity's hourly allocation.\n"
			   "# TYPE bespoke_loop_resize_events_total counter\n"
			   "bespoke_loop_resize_events_total %llu\n"
			   "# HELP bespoke_loop_webhook_failures_total Scale "
			   "and resize events the webhook did not take.\n"
			   "# TYPE bespoke_loop_webhook_failures_total counter\n"
			   "bespoke_loop_webhook_failures_total %llu\n"
			   "# HELP bespoke_loop_failed Entities that failed in "
			   "the last pass.\n"
			   "# TYPE bespoke_loop_failed gauge\n"
			   "bespoke_loop_failed %llu\n",
			(unsigned long long)ls.runs, ls.last_seconds,
			(unsigned long long)ls.retrained_total,
			(unsigned long long)ls.drifted_total,
			(unsigned long long)ls.profiles_total,
			(unsigned long long)ls.scale_events,
			(unsigned long long)ls.resize_events,
			(unsigned long long)ls.webhook_failures,
			(unsigned long long)ls.failed);
	if (bsp_store_stats(q->st, &ss, &err) == BSP_OK)
		fprintf(f, "# HELP bespoke_store_entities Entities in the "
			   "store.\n"
			   "# TYPE bespoke_store_entities gauge\n"
			   "bespoke_store_entities %" PRId64 "\n"
			   "# HELP bespoke_store_samples Samples in the store.\n"
			   "# TYPE bespoke_store_samples gauge\n"
			   "bespoke_store_samples %" PRId64 "\n",
			ss.entities, ss.samples);
	if (fclose(f)) {
		free(buf);
		serve_error(r, 500, "out of memory");
		return;
	}
	r->text = buf;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* The dashboard's files (web/, embedded by the build). */
struct serve_asset {
	const char *name, *type;
	const unsigned char *data;
	size_t len;
};
extern const struct serve_asset serve_assets[];

static void send_asset(const char *name, struct serve_reply *r)
{
	for (const struct serve_asset *a = serve_assets; a->name; a++) {
		if (strcmp(a->name, name))
			continue;
		if (!(r->text = malloc(a->len + 1))) {
			serve_error(r, 500, "out of memory");
			return;
		}
		memcpy(r->text, a->data, a->len);
		r->text[a->len] = '\0';
		r->content_type = a->type;
		return;
	}
	serve_error(r, 404, "no such file: %s", name);
}

static void h_ui_index(struct serve_req *q, struct serve_reply *r)
{
	(void)q;
	send_asset("index.html", r);
}

static void h_ui_file(struct serve_req *q, struct serve_reply *r)
{
	send_asset(q->param, r);
}

/* ---- entities ------------------------------------------------------------ */

static json_t *entity_json(const struct bsp_entity *e)
{
	json_t *attrs = json_object();
	for (size_t k = 0; k < e->n_attrs; k++)
		json_object_set_new(attrs, e->attr_keys[k],
				    json_string(e->attr_values[k]));
	return json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o}", "name", e->name,
			 "series", (json_int_t)e->n_series, "samples",
			 (json_int_t)e->n_samples, "events",
			 (json_int_t)e->n_events, "first", time_json(e->first),
			 "last", time_json(e->last), "attributes", attrs);
}

static void h_entities(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_entity *e = NULL;
	struct bsp_error err = {0};
	size_t n = 0;

	if (bsp_store_entities(q->st, &e, &n, &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		if (serve_may_see(&q->caller, e[i].name))
			json_array_append_new(arr, entity_json(&e[i]));
	bsp_entities_free(e, n);
	r->json = json_pack("{s:o}", "entities", arr);
}

static void h_entity(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_entity e = {0};
	struct bsp_series *s = NULL;
	struct bsp_error err = {0};
	size_t n = 0;

	if (bsp_store_entity(q->st, q->param, &e, &err) != BSP_OK ||
	    bsp_store_series(q->st, q->param, &s, &n, &err) != BSP_OK) {
		bsp_entity_release(&e);
		serve_error_bsp(r, &err);
		return;
	}
	json_t *j = entity_json(&e), *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "metric",
				       s[i].metric, "labels", s[i].labels,
				       "unit", s[i].unit, "samples",
				       (json_int_t)s[i].n_samples, "first",
				       time_json(s[i].first), "last",
				       time_json(s[i].last)));
	json_object_set_new(j, "series_list", arr);
	bsp_series_free(s, n);
	bsp_entity_release(&e);
	r->json = j;
}

/* ---- profiles -------------------------------------------------------------- */

/* Options from ?horizon=24h&step=1h&metrics=a,b&at=TIME; 0 or a reply. */
static int profile_options(struct serve_req *q, struct serve_reply *r,
			   struct bsp_profile_options *opt, char *metrics,
			   size_t metrics_size)
{
	const char *v;

	bsp_profile_options_init(opt);
	opt->personas = q->srv->cfg.personas;
	if ((v = serve_arg(q, "horizon")) &&
	    (bsp_duration_parse(v, &opt->horizon) != BSP_OK ||
	     opt->horizon <= 0 || opt->horizon > 28 * BSP_DAY)) {
		serve_error(r, 400, "horizon: '%s' is not a duration up to 28d",
			    v);
		return -1;
	}
	if ((v = serve_arg(q, "step")) &&
	    (bsp_duration_parse(v, &opt->step) != BSP_OK ||
	     opt->step < BSP_SECOND || opt->step > BSP_DAY)) {
		serve_error(r, 400, "step: '%s' is not a duration from 1s to 1d",
			    v);
		return -1;
	}
	if ((v = serve_arg(q, "history")) &&
	    (bsp_duration_parse(v, &opt->history) != BSP_OK ||
	     opt->history <= 0 || opt->history > 366 * BSP_DAY)) {
		serve_error(r, 400, "history: '%s' is not a duration up to 366d",
			    v);
		return -1;
	}
	/* What the models read: a bounded number of steps. */
	bsp_time step = opt->step ? opt->step : BSP_HOUR;
	bsp_time history = opt->history ? opt->history : 8 * 7 * BSP_DAY;
	if (history / step > 200000) {
		serve_error(r, 400, "history/step: over 200000 steps; give a "
			    "longer step or a shorter history");
		return -1;
	}
	if (opt->step && opt->horizon &&
	    opt->horizon / opt->step > 28 * 24 * 12) {
		serve_error(r, 400, "horizon/step: too many steps");
		return -1;
	}
	if ((v = serve_arg(q, "at")) &&
	    bsp_time_parse(v, strlen(v), &opt->origin) != BSP_OK) {
		serve_error(r, 400, "at: '%s' is not a time", v);
		return -1;
	}
	if ((v = serve_arg(q, "metrics"))) {
		if (strlen(v) >= metrics_size) {
			serve_error(r, 400, "metrics: too long");
			return -1;
		}
		memcpy(metrics, v, strlen(v) + 1);
		for (char *p = metrics; p && *p;) {
			char *comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			if (*p) {
				if (opt->n_metrics == BSP_PROFILE_MAX_METRICS) {
					serve_error(r, 400, "metrics: at most "
						    "%d",
						    BSP_PROFILE_MAX_METRICS);
					return -1;
				}
				opt->metrics[opt->n_metrics++] = p;
			}
			p = comma ? comma + 1 : NULL;
		}
	}
	return 0;
}

/* The latest stored profile, or a new one (stored) when there is none or
 * when ?refresh=1. */
static json_t *latest_profile(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	const char *refresh = serve_arg(q, "refresh");
	json_t *j = NULL;

	if (!(refresh && !strcmp(refresh, "1"))) {
		bsp_err e = bsp_store_doc_get(q->st, "profile", q->param, 0, &d,
					      &err);
		if (e == BSP_OK) {
			j = json_loads(d.body, 0, NULL);
			if (j)
				json_object_set_new(j, "profile_version",
						    json_integer(d.version));
			bsp_doc_release(&d);
			if (!j)
				serve_error(r, 500, "stored profile is not "
					    "JSON");
			return j;
		}
		if (e != BSP_ENOTFOUND) {
			serve_error_bsp(r, &err);
			return NULL;
		}
	}
	struct bsp_profile_options opt;
	char metrics[1024], *text = NULL;
	int64_t version = 0;
	if (profile_options(q, r, &opt, metrics, sizeof(metrics)))
		return NULL;
	serve_cache_clear(q);
	if (bsp_profile_build(q->st, q->param, &opt, 1, &text, &version,
			      &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		return NULL;
	}
	atomic_fetch_add(&q->srv->stats.profiles_built, 1);
	j = json_loads(text, 0, NULL);
	free(text);
	if (!j)
		serve_error(r, 500, "profile is not JSON");
	return j;
}

/* The stored body as it is, with its version spliced in before the last
 * brace: the hot path parses and prints no JSON. */
static int stored_profile_text(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	const char *refresh = serve_arg(q, "refresh");
	char *end, *text;
	size_t len;

	if (refresh && !strcmp(refresh, "1"))
		return 0;
	const char *hit = serve_cache_get(q, "profile", q->param);
	if (hit) {
		r->text = strdup(hit);
		r->content_type = "application/json";
		if (!r->text)
			serve_error(r, 500, "out of memory");
		return 1;
	}
	bsp_err e = bsp_store_doc_get(q->st, "profile", q->param, 0, &d, &err);
	if (e == BSP_ENOTFOUND)
		return 0;
	if (e != BSP_OK) {
		serve_error_bsp(r, &err);
		return 1;
	}
	len = strlen(d.body);
	end = d.body + len;
	while (end > d.body && end[-1] != '}')
		end--;
	if (end == d.body || !(text = malloc(len + 48))) {
		bsp_doc_release(&d);
		serve_error(r, 500, "stored profile is not a JSON object");
		return 1;
	}
	size_t head = (size_t)(end - 1 - d.body);
	memcpy(text, d.body, head);
	snprintf(text + head, 48, ",\"profile_version\":%" PRId64, d.version);
	bsp_doc_release(&d);
	/* getPredictedResourceProfile carries the recommended shape and
	 * plan, as the loop or `bespoke plan` stored them last. */
	static const char *const parts[] = {"recommendation", "plan"};
	for (size_t k = 0; k < 2; k++) {
		struct bsp_doc pd = {0};
		if (bsp_store_doc_get(q->st, parts[k], q->param, 0, &pd, &err) !=
		    BSP_OK)
			continue;
		size_t tl = strlen(text), pl = strlen(pd.body);
		char *t2 = realloc(text, tl + pl + 32);
		if (t2) {
			text = t2;
			snprintf(text + tl, pl + 32, ",\"%s\":%s", parts[k],
				 pd.body);
		}
		bsp_doc_release(&pd);
	}
	size_t tl = strlen(text);
	char *t3 = realloc(text, tl + 2);
	if (!t3) {
		free(text);
		serve_error(r, 500, "out of memory");
		return 1;
	}
	text = t3;
	memcpy(text + tl, "}", 2);
	serve_cache_put(q, "profile", q->param, text);
	r->text = text;
	r->content_type = "application/json";
	return 1;
}

static void h_profile(struct serve_req *q, struct serve_reply *r)
{
	if (stored_profile_text(q, r))
		return;
	json_t *p = latest_profile(q, r);
	if (p)
		r->json = p;
}

static void h_forecast(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_profile_options opt;
	struct bsp_error err = {0};
	char metrics[1024], *text = NULL;
	json_t *doc, *out;

	if (profile_options(q, r, &opt, metrics, sizeof(metrics)))
		return;
	opt.no_behaviour = 1;
	if (bsp_profile_build(q->st, q->param, &opt, 0, &text, NULL, &err) !=
	    BSP_OK) {
		serve_error_bsp(r, &err);
		return;
	}
	if (!(doc = json_loads(text, 0, NULL))) {
		free(text);
		serve_error(r, 500, "profile is not JSON");
		return;
	}
	free(text);
	/* The forecasts alone, per metric. */
	out = json_pack("{s:O,s:O,s:O,s:O,s:o}", "entity",
			json_object_get(doc, "entity"), "origin",
			json_object_get(doc, "origin"), "step_seconds",
			json_object_get(doc, "step_seconds"), "horizon_seconds",
			json_object_get(doc, "horizon_seconds"), "metrics",
			json_object());
	const char *key;
	json_t *m;
	json_object_foreach(json_object_get(doc, "metrics"), key, m)
	{
		json_object_set(json_object_get(out, "metrics"), key,
				json_object_get(m, "forecast"));
	}
	json_decref(doc);
	r->json = out;
}

/* A part of the latest profile's behaviour object. */
static void behaviour_part(struct serve_req *q, struct serve_reply *r,
			   const char *part)
{
	json_t *p = latest_profile(q, r), *b, *v;

	if (!p)
		return;
	b = json_object_get(p, "behaviour");
	v = json_object_get(b, part);
	if (!v) {
		json_t *why = json_object_get(json_object_get(b, "missing"),
					      part);
		serve_error(r, 404, "%s: no %s: %s", q->param, part,
			    json_is_string(why) ? json_string_value(why)
						: "not in the profile");
	} else {
		r->json = json_pack("{s:s,s:O,s:O}", "entity", q->param,
				    "profile_version",
				    json_object_get(p, "profile_version"), part,
				    v);
	}
	json_decref(p);
}

static void h_apps(struct serve_req *q, struct serve_reply *r)
{
	behaviour_part(q, r, "apps");
}

static void h_persona(struct serve_req *q, struct serve_reply *r)
{
	behaviour_part(q, r, "personas");
}

/* ---- ingest ------------------------------------------------------------ */

/*
 * A gzip body (Content-Encoding: gzip, one member or several in a row)
 * inflated into *out, at most `max` bytes: the same limit as a plain
 * body, so a small bomb cannot become a large one. Returns 0, or the HTTP
 * status to answer with its message in `why`.
 */
static int inflate_body(const char *in, size_t len, size_t max, char **out,
			size_t *out_len, char *why, size_t why_size)
{
	z_stream z = {0};
	size_t cap = len * 4 + 4096, n = 0;
	char *buf = NULL;
	int rc = Z_OK, status = 0;

	if (cap > max + 1)
		cap = max + 1;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		snprintf(why, why_size, "cannot start zlib");
		return 500;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	while (!status && rc != Z_STREAM_END) {
		if (n == cap || !buf) {
			/* one byte past `max` tells an oversize body */
			size_t nc = !buf ? cap : cap * 2 > max + 1 ? max + 1
								 : cap * 2;
			char *nb = nc > n ? realloc(buf, nc) : NULL;
			if (!nb && nc > n) {
				status = 500;
				snprintf(why, why_size, "out of memory");
				break;
			}
			if (!nb) {
				status = 413;
				snprintf(why, why_size,
					 "the body inflates to over %zu bytes",
					 max);
				break;
			}
			buf = nb;
			cap = nc;
		}
		z.next_out = (Bytef *)buf + n;
		z.avail_out = (uInt)(cap - n);
		rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (rc == Z_STREAM_END && z.avail_in > 0) {
			/* gzip members one after another (cat a.gz b.gz) */
			inflateReset(&z);
			rc = Z_OK;
			continue;
		}
		if (rc != Z_STREAM_END &&
		    (rc != Z_OK || (z.avail_in == 0 && z.avail_out > 0))) {
			status = 400;
			snprintf(why, why_size, "the gzip body is %s at byte %lu",
				 rc == Z_DATA_ERROR ? "corrupt" : "cut short",
				 z.total_in);
		}
	}
	inflateEnd(&z);
	if (!status && n > max) {
		status = 413;
		snprintf(why, why_size, "the body inflates to over %zu bytes",
			 max);
	}
	if (status) {
		free(buf);
		return status;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

static void h_ingest(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_ingest_options opt = {0};
	struct bsp_ingest_report rep = {0};
	struct bsp_write_stats ws = {0};
	struct bsp_error err = {0};
	struct bsp_batch *b;
	const char *format = serve_arg(q, "format");
	const char *entity = serve_arg(q, "entity");
	const char *enc = MHD_lookup_connection_value(
	    q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	const char *body = q->body;
	size_t body_len = q->body_len;
	char *inflated = NULL, why[160];

	if (!q->body_len) {
		serve_error(r, 400, "empty body: send CSV or event lines");
		return;
	}
	if (enc && !strcasecmp(enc, "gzip")) {
		int status = inflate_body(q->body, q->body_len,
					  q->srv->cfg.max_body, &inflated,
					  &body_len, why, sizeof(why));
		if (status) {
			serve_error(r, status, "%s", why);
			return;
		}
		body = inflated;
	} else if (enc && strcasecmp(enc, "identity")) {
		serve_error(r, 415,
			    "Content-Encoding '%s': send the body plain or "
			    "gzip",
			    enc);
		return;
	}
	if (!body_len || memchr(body, '\0', body_len)) {
		serve_error(r, 400, body_len ? "the body holds a NUL byte"
					     : "empty body: send CSV or "
					       "event lines");
		free(inflated);
		return;
	}
	if (!(b = bsp_batch_new())) {
		serve_error(r, 500, "out of memory");
		free(inflated);
		return;
	}
	/* All or nothing: a bad line rejects the request, naming it. */
	opt.format = format;
	opt.entity = entity;
	opt.on_error = BSP_ON_ERROR_ABORT;
	opt.threads = 1;
	if (bsp_ingest_buffer(b, "body", body, body_len, &opt, &rep, &err) !=
	    BSP_OK) {
		serve_error(r, err.code == BSP_ENOTFOUND ? 400 : 422, "%s",
			    err.msg);
		goto out;
	}
	if (rep.bad_lines || rep.files_failed) {
		serve_error(r, 422, "%s",
			    err.msg[0] ? err.msg
				       : "bad lines in the body; nothing "
					 "was stored");
		goto out;
	}
	serve_cache_clear(q);
	if (bsp_store_write(q->st, b, &ws, &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		goto out;
	}
	atomic_fetch_add(&q->srv->stats.ingested_samples, rep.samples);
	atomic_fetch_add(&q->srv->stats.ingested_events, rep.events);
	r->json = json_pack("{s:I,s:I,s:I,s:I,s:I}", "lines",
			    (json_int_t)rep.lines, "samples",
			    (json_int_t)rep.samples, "events",
			    (json_int_t)rep.events, "samples_new",
			    (json_int_t)ws.samples_new, "events_new",
			    (json_int_t)ws.events_new);
out:
	bsp_batch_free(b);
	free(inflated);
}

/* Prometheus remote-write 1.0: answered 204 once stored. Prometheus does
 * not retry 4xx, so only what cannot succeed later gets one. */
static void h_remote_write(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_ingest_report rep = {0};
	struct bsp_error err = {0};
	const char *enc = MHD_lookup_connection_value(
		q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);

	if (enc && strcasecmp(enc, "snappy")) {
		serve_error(r, 415, "Content-Encoding '%s': remote-write bodies "
			    "are snappy",
			    enc);
		return;
	}
	/* Back-pressure: when the flusher is this far behind, the sender
	 * waits (Prometheus retries a 503 with backoff) instead of the log
	 * growing without bound. */
	struct serve_wal_stats ws;
	serve_wal_stats(q->srv, &ws);
	if (ws.pending_bytes > q->srv->cfg.max_pending) {
		serve_error(r, 503, "ingest is behind: %llu bytes wait to be "
			    "stored; retry later",
			    (unsigned long long)ws.pending_bytes);
		return;
	}
	/* Checked here (decoded, not kept); stored by the next flush. */
	if (bsp_ingest_remote_write(NULL, q->body, q->body_len,
				    serve_arg(q, "entity"),
				    q->srv->cfg.max_body * 8, &rep,
				    &err) != BSP_OK) {
		serve_error(r, err.code == BSP_ELIMIT ? 413
			    : err.code == BSP_ENOMEM ? 500 : 400,
			    "%s", err.msg);
		return;
	}
	if (serve_wal_append(q->srv, serve_arg(q, "entity"), q->body,
			     q->body_len, &err) != BSP_OK) {
		serve_error(r, 500, "%s", err.msg);
		return;
	}
	atomic_fetch_add(&q->srv->stats.ingested_samples, rep.samples);
	r->status = 204;
	r->text = strdup("");
}

/* ---- overrides (overrideResourceProfile) --------------------------------- */

static bsp_time wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (bsp_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void override_reply(struct serve_req *q, struct serve_reply *r,
			   unsigned status)
{
	struct bsp_alloc_override o;
	struct bsp_error err = {0};
	char *text = NULL;
	int found = 0;

	if (bsp_alloc_override_get(q->st, q->param, wall_ms(), &o, &found,
				   &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		return;
	}
	if (!o.version) {
		serve_error(r, 404, "%s: no override", q->param);
		return;
	}
	if (bsp_alloc_override_json(&o, &text, &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		return;
	}
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	r->status = status;
	r->json = json_pack("{s:s,s:b,s:I,s:o}", "entity", q->param,
			    "in_force", found, "override_version",
			    (json_int_t)o.version, "override",
			    j ? j : json_null());
}

static void h_override_get(struct serve_req *q, struct serve_reply *r)
{
	override_reply(q, r, 200);
}

/*
 * PUT body: {"cpu": 6, "memory": 24, "iops": .., "disk_mbps": ..,
 * "network": .., "type": "r5.2xlarge", "expires": TIME or DURATION,
 * "reason": "..."}: at least one resource or a type; expires and reason
 * required. The same rules as `bespoke override`.
 */
static void h_override_put(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_alloc_override o;
	struct bsp_error err = {0};
	json_error_t je;
	json_t *b = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES,
			       &je),
	       *v;
	const char *key, *s;
	char *text = NULL;
	int any = 0;

	if (!b || !json_is_object(b)) {
		serve_error(r, 400, "body: %s", b ? "not a JSON object"
						 : je.text);
		json_decref(b);
		return;
	}
	memset(&o, 0, sizeof(o));
	for (int k = 0; k < BSP_RES_N; k++)
		o.value[k] = NAN;
	o.expires = BSP_TIME_NONE;
	json_object_foreach(b, key, v)
	{
		int res = -1;
		for (int k = 0; k < BSP_RES_N; k++)
			if (!strcmp(key, bsp_res_name((enum bsp_res)k)))
				res = k;
		if (res >= 0) {
			double x = json_number_value(v);
			if (!json_is_number(v) || !isfinite(x) || x <= 0 ||
			    x > 1e9) {
				serve_error(r, 422, "%s: a positive number "
					    "(%s)",
					    key, bsp_res_unit((enum bsp_res)res));
				goto out;
			}
			o.value[res] = x;
			any = 1;
		} else if (!strcmp(key, "type")) {
			s = json_string_value(v);
			if (!s || !*s || strlen(s) >= sizeof(o.type)) {
				serve_error(r, 422, "type: an instance type "
					    "name");
				goto out;
			}
			if (!q->srv->cfg.instances ||
			    bsp_alloc_type_find(q->srv->cfg.instances, s) < 0) {
				serve_error(r, 422, "type: %s is not in the "
					    "instance catalog",
					    s);
				goto out;
			}
			snprintf(o.type, sizeof(o.type), "%s", s);
			any = 1;
		} else if (!strcmp(key, "expires")) {
			bsp_time dur;
			s = json_string_value(v);
			if (!s) {
				serve_error(r, 422, "expires: a time or a "
					    "duration");
				goto out;
			}
			if (bsp_time_parse(s, strlen(s), &o.expires) != BSP_OK) {
				if (bsp_duration_parse(s, &dur) != BSP_OK ||
				    dur <= 0) {
					serve_error(r, 422, "expires: '%s' is "
						    "not a time or a duration",
						    s);
					goto out;
				}
				o.expires = wall_ms() + dur;
			}
		} else if (!strcmp(key, "reason")) {
			s = json_string_value(v);
			if (!s || !*s || strlen(s) >= sizeof(o.reason)) {
				serve_error(r, 422, "reason: text, up to %zu "
					    "bytes",
					    sizeof(o.reason) - 1);
				goto out;
			}
			snprintf(o.reason, sizeof(o.reason), "%s", s);
		} else {
			serve_error(r, 422, "%s: not a field of an override",
				    key);
			goto out;
		}
	}
	if (!any) {
		serve_error(r, 422, "give at least one of cpu, memory, iops, "
			    "disk_mbps, network, type");
		goto out;
	}
	if (o.expires == BSP_TIME_NONE || o.expires <= wall_ms()) {
		serve_error(r, 422, "expires: required, in the future");
		goto out;
	}
	if (!o.reason[0]) {
		serve_error(r, 422, "reason: required");
		goto out;
	}
	o.created = wall_ms() / 1000 * 1000;
	serve_cache_clear(q);
	if (bsp_alloc_override_json(&o, &text, &err) != BSP_OK ||
	    bsp_store_doc_put(q->st, "override", q->param, text, NULL,
			      &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		goto out;
	}
	override_reply(q, r, 201);
out:
	free(text);
	json_decref(b);
}

/* DELETE: a clear record (the history keeps what was cleared). */
static void h_override_delete(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_alloc_override o;
	struct bsp_error err = {0};
	const char *reason = serve_arg(q, "reason");
	char *text = NULL;

	memset(&o, 0, sizeof(o));
	for (int k = 0; k < BSP_RES_N; k++)
		o.value[k] = NAN;
	o.expires = BSP_TIME_NONE;
	o.cleared = 1;
	o.created = wall_ms() / 1000 * 1000;
	snprintf(o.reason, sizeof(o.reason), "%s",
		 reason && *reason ? reason : "cleared");
	serve_cache_clear(q);
	if (bsp_alloc_override_json(&o, &text, &err) != BSP_OK ||
	    bsp_store_doc_put(q->st, "override", q->param, text, NULL,
			      &err) != BSP_OK)
		serve_error_bsp(r, &err);
	else
		override_reply(q, r, 200);
	free(text);
}

static json_t *loop_json(struct serve *srv)
{
	struct serve_loop_status s;
	if (!serve_loop_status(srv, &s))
		return json_pack("{s:b}", "enabled", 0);
	return json_pack("{s:b,s:f,s:I,s:f,s:f,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
			 "s:I},s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:s}",
			 "enabled", 1, "period_seconds",
			 (double)srv->cfg.loop_every / 1000, "runs",
			 (json_int_t)s.runs, "last_start", s.last_start,
			 "last_seconds", s.last_seconds, "last_pass",
			 "entities", (json_int_t)s.entities, "skipped",
			 (json_int_t)s.skipped, "failed", (json_int_t)s.failed,
			 "retrained", (json_int_t)s.retrained, "profiles",
			 (json_int_t)s.profiles, "drifted",
			 (json_int_t)s.drifted, "recommended",
			 (json_int_t)s.recommended, "anomaly_reports",
			 (json_int_t)s.anomaly_reports, "resized",
			 (json_int_t)s.resized, "totals", "retrained",
			 (json_int_t)s.retrained_total, "profiles",
			 (json_int_t)s.profiles_total, "drifted",
			 (json_int_t)s.drifted_total, "scale_events",
			 (json_int_t)s.scale_events, "resize_events",
			 (json_int_t)s.resize_events, "webhooks_sent",
			 (json_int_t)s.webhooks_sent, "webhook_failures",
			 (json_int_t)s.webhook_failures, "last_error",
			 s.last_error);
}

static void h_loop(struct serve_req *q, struct serve_reply *r)
{
	r->json = loop_json(q->srv);
}

static void h_loop_run(struct serve_req *q, struct serve_reply *r)
{
	if (!q->srv->loop) {
		serve_error(r, 409, "the loop is off (serve --loop 0)");
		return;
	}
	serve_loop_kick(q->srv);
	r->status = 202;
	r->json = loop_json(q->srv);
}

/* The latest stored document of a kind, as it is. */
static void latest_doc(struct serve_req *q, struct serve_reply *r,
		       const char *kind, const char *missing)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};

	if (bsp_store_doc_get(q->st, kind, q->param, 0, &d, &err) != BSP_OK) {
		if (err.code == BSP_ENOTFOUND)
			serve_error(r, 404, "%s: %s", q->param, missing);
		else
			serve_error_bsp(r, &err);
		return;
	}
	r->text = d.body;
	d.body = NULL;
	r->content_type = "application/json";
	bsp_doc_release(&d);
}

static void h_feedback(struct serve_req *q, struct serve_reply *r)
{
	latest_doc(q, r, "feedback", "no feedback yet");
}

static void h_anomalies(struct serve_req *q, struct serve_reply *r)
{
	latest_doc(q, r, "anomalies",
		   "no anomaly report yet (bespoke anomalies ENTITY)");
}

static void h_resize(struct serve_req *q, struct serve_reply *r)
{
	latest_doc(q, r, "resize",
		   "no resize decision yet (bespoke resize ENTITY)");
}

const struct serve_route serve_routes[] = {
	{"GET", "/healthz", SERVE_ROLE_NONE, h_healthz},
	{"GET", "/metrics", SERVE_ROLE_NONE, h_metrics},
	{"GET", "/openapi.json", SERVE_ROLE_NONE, h_openapi},
	{"GET", "/", SERVE_ROLE_NONE, h_ui_index},
	{"GET", "/ui/{id}", SERVE_ROLE_NONE, h_ui_file},
	{"GET", "/v1/entities", SERVE_ROLE_USER, h_entities},
	{"GET", "/v1/entities/{id}", SERVE_ROLE_USER, h_entity},
	{"GET", "/v1/entities/{id}/profile", SERVE_ROLE_USER, h_profile},
	{"GET", "/v1/entities/{id}/forecast", SERVE_ROLE_USER, h_forecast},
	{"GET", "/v1/entities/{id}/apps", SERVE_ROLE_USER, h_apps},
	{"GET", "/v1/entities/{id}/persona", SERVE_ROLE_USER, h_persona},
	{"GET", "/v1/entities/{id}/feedback", SERVE_ROLE_USER, h_feedback},
	{"GET", "/v1/entities/{id}/anomalies", SERVE_ROLE_USER, h_anomalies},
	{"GET", "/v1/entities/{id}/resize", SERVE_ROLE_USER, h_resize},
	{"GET", "/v1/entities/{id}/override", SERVE_ROLE_USER, h_override_get},
	{"PUT", "/v1/entities/{id}/override", SERVE_ROLE_ADMIN, h_override_put},
	{"DELETE", "/v1/entities/{id}/override", SERVE_ROLE_ADMIN,
	 h_override_delete},
	{"POST", "/v1/builds", SERVE_ROLE_USER, serve_h_build_post},
	{"GET", "/v1/builds/{id}", SERVE_ROLE_USER, serve_h_build_get},
	{"GET", "/v1/loop", SERVE_ROLE_ADMIN, h_loop},
	{"POST", "/v1/loop/run", SERVE_ROLE_ADMIN, h_loop_run},
	{"POST", "/v1/ingest", SERVE_ROLE_AGENT, h_ingest},
	{"POST", "/api/v1/write", SERVE_ROLE_AGENT, h_remote_write},
	{"GET", "/v1/entities/{id}/series", SERVE_ROLE_USER, serve_h_series},
	{"GET", "/v1/entities/{id}/plan", SERVE_ROLE_USER, serve_h_plan},
	{"GET", "/v1/entities/{id}/images", SERVE_ROLE_USER, serve_h_images},
	{"GET", "/v1/entities/{id}/images/diff", SERVE_ROLE_USER,
	 serve_h_images_diff},
	{NULL, NULL, 0, NULL},
};
