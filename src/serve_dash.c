/*
 * Routes the dashboard (web/) needs beyond the rest of the API.
 *
 * GET /v1/entities/{id}/series returns one series as a regular grid of
 * step aggregates (hourly means by default), the "actual" line the entity
 * page draws against the forecast. Every argument is checked before the
 * store is read, and the grid is capped, so that a query string cannot
 * make the daemon allocate or scan without bound.
 *
 * GET /v1/entities/{id}/plan and /images read what other stages stored as
 * versioned documents (`bespoke plan`, `bespoke image build`): the plan
 * over time and the image history. They pass the documents on as stored,
 * adding only their version and time.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/image.h"
#include "serve.h"

/* At most this many grid points per request: two years of hours, or a
 * week of minutes, is more than a chart can show. */
#define SERIES_MAX_POINTS 20000
/* Without ?from=, this much history before ?until=. */
#define SERIES_DEFAULT_SPAN (7 * BSP_DAY)
/* Image builds listed at most (?limit=, 20 by default). */
#define IMAGES_MAX 100
/* 9999-12-31T23:59:59Z in ms; times beyond it are refused. */
#define SERIES_MAX_TIME ((bsp_time)253402300799 * BSP_SECOND)

static json_t *dash_time_json(bsp_time t)
{
	char buf[40];
	return json_string(bsp_time_format(t, buf, sizeof(buf)));
}

/* A time argument: 1 and *out set when present and valid, 0 when absent,
 * -1 (with the 400 reply set) when malformed. */
static int time_arg(struct serve_req *q, struct serve_reply *r, const char *key,
		    bsp_time *out)
{
	const char *v = serve_arg(q, key);

	if (!v)
		return 0;
	/* Up to the year 9999 (and as far before 1970): differences of
	 * such times cannot overflow. */
	if (!*v || bsp_time_parse(v, strlen(v), out) != BSP_OK ||
	    *out < -SERIES_MAX_TIME || *out > SERIES_MAX_TIME) {
		serve_error(r, 400,
			    "%s: '%.64s' is not a time (RFC 3339 or epoch "
			    "seconds)",
			    key, v);
		return -1;
	}
	return 1;
}

void serve_h_series(struct serve_req *q, struct serve_reply *r)
{
	const char *metric = serve_arg(q, "metric");
	const char *labels = serve_arg(q, "labels");
	const char *v;
	struct bsp_series s = {0};
	struct bsp_error err = {0};
	enum bsp_agg agg = BSP_AGG_MEAN;
	bsp_time step = BSP_HOUR, from = 0, until = 0;
	double *vals = NULL;
	size_t n;
	int have_from, have_until;

	if (!metric || !*metric) {
		serve_error(r, 400, "metric: required (e.g. metric=cpu_usage)");
		return;
	}
	if (strlen(metric) > 256 || (labels && strlen(labels) > 1024)) {
		serve_error(r, 400, "metric or labels: too long");
		return;
	}
	if ((v = serve_arg(q, "step")) &&
	    (bsp_duration_parse(v, &step) != BSP_OK || step < BSP_MINUTE ||
	     step > BSP_DAY)) {
		serve_error(r, 400,
			    "step: '%.64s' is not a duration from 1m "
			    "to 1d",
			    v);
		return;
	}
	if ((v = serve_arg(q, "agg")) && bsp_agg_parse(v, &agg) != BSP_OK) {
		serve_error(r, 400,
			    "agg: '%.64s' is not one of mean, max, min, "
			    "last, sum, count",
			    v);
		return;
	}
	if ((have_from = time_arg(q, r, "from", &from)) < 0 ||
	    (have_until = time_arg(q, r, "until", &until)) < 0)
		return;
	if (have_from && have_until && until <= from) {
		serve_error(r, 400, "until: must be after from");
		return;
	}
	/* Both given: the cap is checked before the store is touched. */
	if (have_from && have_until &&
	    (until - from) / step >= SERIES_MAX_POINTS) {
		serve_error(r, 400,
			    "from/until/step: more than %d points; "
			    "widen step or narrow the range",
			    SERIES_MAX_POINTS);
		return;
	}

	if (bsp_store_series_find(q->st, q->param, metric, labels, &s, &err) !=
	    BSP_OK) {
		serve_error_bsp(r, &err);
		return;
	}
	/* Defaults: up to just after the last sample, a week back. */
	if (!have_until)
		until = s.last != BSP_TIME_NONE
			    ? bsp_time_floor(s.last, step) + step
			    : (have_from ? from + step : step);
	if (!have_from)
		from = until - SERIES_DEFAULT_SPAN;
	/* Whole steps from a step boundary, as the profile's grid is, so the
	 * actual line and the forecast line up hour for hour. */
	from = bsp_time_floor(from, step);
	if (until <= from) {
		serve_error(r, 400, "until: must be after from");
		goto out;
	}
	n = bsp_grid_len(from, until, step);
	if (n > SERIES_MAX_POINTS) {
		serve_error(r, 400,
			    "from/until/step: more than %d points; "
			    "widen step or narrow the range",
			    SERIES_MAX_POINTS);
		goto out;
	}
	if (!(vals = malloc(n * sizeof(*vals)))) {
		serve_error(r, 500, "out of memory");
		goto out;
	}
	if (bsp_store_read_grid(q->st, s.id, from, until, step, agg,
				BSP_FILL_NAN, vals, &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		goto out;
	}
	/* Empty steps are null: JSON has no NaN, and a chart should show a
	 * gap rather than a made-up value. */
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    arr, isfinite(vals[i]) ? json_real(vals[i]) : json_null());
	r->json =
	    json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:o,s:I,s:o}", "entity",
		      q->param, "metric", s.metric, "labels", s.labels, "unit",
		      s.unit, "step_seconds", (json_int_t)(step / BSP_SECOND),
		      "start", dash_time_json(from), "until",
		      dash_time_json(from + (bsp_time)n * step), "points",
		      (json_int_t)n, "values", arr);
	if (!r->json)
		serve_error(r, 500, "out of memory");
out:
	free(vals);
	bsp_series_release(&s);
}

/* A positive integer argument up to max: 1 and *out set when present and
 * valid, 0 when absent, -1 (with the 400 reply set) otherwise. */
static int count_arg(struct serve_req *q, struct serve_reply *r,
		     const char *key, long long max, long long *out)
{
	const char *v = serve_arg(q, key);
	char *end;

	if (!v)
		return 0;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (!*v || *end || errno || *out < 1 || *out > max) {
		serve_error(r, 400,
			    "%s: '%.64s' is not a whole number from 1 to "
			    "%lld",
			    key, v, max);
		return -1;
	}
	return 1;
}

/* A stored document's body as JSON with its version and time added. */
static json_t *doc_json(const struct bsp_doc *d, const char *version_key)
{
	json_t *j = json_loads(d->body, JSON_REJECT_DUPLICATES, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	json_object_set_new(j, version_key, json_integer(d->version));
	json_object_set_new(j, "stored", dash_time_json(d->created));
	return j;
}

void serve_h_plan(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	long long version = 0;
	bsp_err e;

	if (count_arg(q, r, "version", INT32_MAX, &version) < 0)
		return;
	e = bsp_store_doc_get(q->st, "plan", q->param, version, &d, &err);
	if (e == BSP_ENOTFOUND) {
		if (version)
			serve_error(r, 404, "%s: no plan version %lld",
				    q->param, version);
		else
			serve_error(r, 404,
				    "%s: no plan yet (bespoke plan %s "
				    "stores one)",
				    q->param, q->param);
		return;
	}
	if (e != BSP_OK) {
		serve_error_bsp(r, &err);
		return;
	}
	if (!(r->json = doc_json(&d, "plan_version")))
		serve_error(r, 500,
			    "%s: stored plan v%lld is not a JSON object",
			    q->param, (long long)d.version);
	bsp_doc_release(&d);
}

void serve_h_images(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_doc *list = NULL;
	struct bsp_error err = {0};
	long long limit = 20;
	size_t n = 0;

	if (count_arg(q, r, "limit", IMAGES_MAX, &limit) < 0)
		return;
	if (bsp_store_doc_list(q->st, "image", q->param, &list, &n, &err) !=
	    BSP_OK) {
		serve_error_bsp(r, &err);
		return;
	}
	json_t *arr = json_array();
	/* Newest first, as listed. */
	for (size_t i = 0; i < n && i < (size_t)limit; i++) {
		struct bsp_doc d = {0};
		if (bsp_store_doc_get(q->st, "image", q->param, list[i].version,
				      &d, &err) != BSP_OK) {
			serve_error_bsp(r, &err);
			json_decref(arr);
			goto out;
		}
		json_t *j = doc_json(&d, "image_version");
		bsp_doc_release(&d);
		if (!j) {
			serve_error(r, 500,
				    "%s: stored image v%lld is not a "
				    "JSON object",
				    q->param, (long long)list[i].version);
			json_decref(arr);
			goto out;
		}
		json_array_append_new(arr, j);
	}
	r->json = json_pack("{s:s,s:I,s:o}", "entity", q->param, "total",
			    (json_int_t)n, "images", arr);
out:
	bsp_docs_free(list, n);
}

/*
 * GET /v1/entities/{id}/images/diff?a=V1&b=V2: the files two builds add to
 * their bases, compared by content ({"a","b","changes":[{"path","change"}]}).
 */
void serve_h_images_diff(struct serve_req *q, struct serve_reply *r)
{
	const char *as = serve_arg(q, "a"), *bs = serve_arg(q, "b");
	struct bsp_image_file *fa = NULL, *fb = NULL;
	struct bsp_error err = {0};
	size_t na = 0, nb = 0;
	long long v[2];
	json_t *docs[2] = {NULL, NULL}, *ch = NULL;

	for (int k = 0; k < 2; k++) {
		const char *s = k ? bs : as;
		char *end;
		struct bsp_doc d = {0};
		v[k] = s ? strtoll(s, &end, 10) : 0;
		if (!s || *end || v[k] < 1) {
			serve_error(r, 400, "%s: an image version", k ? "b" : "a");
			goto out;
		}
		if (bsp_store_doc_get(q->st, "image", q->param, v[k], &d, &err)) {
			serve_error(r, 404, "%s: no image v%lld", q->param, v[k]);
			goto out;
		}
		docs[k] = json_loads(d.body, 0, NULL);
		bsp_doc_release(&d);
	}
	struct bsp_oci_ref ra, rb;
	const char *refa = json_string_value(json_object_get(docs[0], "ref"));
	const char *refb = json_string_value(json_object_get(docs[1], "ref"));
	if (!refa || !refb || bsp_oci_ref_parse(refa, &ra, &err) ||
	    bsp_oci_ref_parse(refb, &rb, &err) ||
	    bsp_image_files(&ra, &fa, &na, &err) ||
	    bsp_image_files(&rb, &fb, &nb, &err)) {
		serve_error(r, err.code == BSP_ENOTFOUND ? 404 : 500, "%s",
			    err.msg[0] ? err.msg : "image without a reference");
		goto out;
	}
	struct bsp_image_change *c = calloc(na + nb + 1, sizeof(*c));
	if (!c) {
		serve_error(r, 500, "out of memory");
		goto out;
	}
	size_t n = bsp_image_files_diff(fa, na, fb, nb, c);
	ch = json_array();
	for (size_t k = 0; k < n; k++)
		json_array_append_new(ch, json_pack("{s:s,s:s}", "path",
						    c[k].path, "change",
						    c[k].change));
	free(c);
	r->json = json_pack("{s:I,s:I,s:O}", "a", (json_int_t)v[0], "b",
			    (json_int_t)v[1], "changes", ch);
out:
	json_decref(ch);
	json_decref(docs[0]);
	json_decref(docs[1]);
	bsp_image_files_free(fa, na);
	bsp_image_files_free(fb, nb);
}
