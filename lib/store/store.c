/*
 * The public store API (include/bespoke/store.h): opens a backend by URI
 * scheme and forwards each call through its table of operations. What is
 * the same for every backend lives here: decoding chunks into a time range,
 * aggregation onto a regular grid, and releasing result structs.
 */
#include <math.h>
#include <stdio.h>

#include "chunk.h"
#include "store.h"

/* URI scheme → backend. A path without a scheme is SQLite. */
static const struct {
	const char *scheme;
	const struct store_ops *ops;
} backends[] = {
	{"sqlite", &store_sqlite_ops},
};

bsp_err bsp_store_open(struct bsp_store **out, const char *uri,
		       unsigned flags, struct bsp_error *err)
{
	const struct store_ops *ops = &store_sqlite_ops;
	const char *path = uri;
	const char *sep = strstr(uri, "://");
	struct bsp_store *st;
	bsp_err result;

	*out = NULL;
	for (size_t i = 0; i < BSP_ARRAY_LEN(backends); i++) {
		size_t len = strlen(backends[i].scheme);
		if (!strncmp(uri, backends[i].scheme, len) && uri[len] == ':') {
			ops = backends[i].ops;
			path = uri + len + 1;
			sep = NULL;
		}
	}
	if (sep && path == uri)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: unknown store type '%.*s' (known: "
				     "sqlite)",
				     uri, (int)(sep - uri), uri);
	if (!*path)
		return bsp_error_set(err, BSP_EINVAL, "empty store path");
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	st->ops = ops;
	result = ops->open(st, path, flags, err);
	if (result != BSP_OK) {
		free(st->path);
		free(st);
		return result;
	}
	*out = st;
	return BSP_OK;
}

void bsp_store_close(struct bsp_store *st)
{
	if (!st)
		return;
	st->ops->close(st);
	free(st->path);
	free(st);
}

int bsp_store_schema_version(struct bsp_store *st)
{
	return st->ops->schema_version(st);
}

int64_t bsp_store_change_counter(struct bsp_store *st)
{
	return st->ops->change_counter(st);
}

bsp_err bsp_store_write(struct bsp_store *st, struct bsp_batch *batch,
			struct bsp_write_stats *stats, struct bsp_error *err)
{
	struct bsp_write_stats local;

	memset(&local, 0, sizeof(local));
	bsp_err result = batch_prepare(batch, err);
	if (result == BSP_OK)
		result = st->ops->write(st, batch, &local, err);
	if (stats && result == BSP_OK) {
		stats->samples_new += local.samples_new;
		stats->samples_replaced += local.samples_replaced;
		stats->samples_same += local.samples_same;
		stats->events_new += local.events_new;
		stats->events_same += local.events_same;
	}
	return result;
}

bsp_err bsp_store_entities(struct bsp_store *st, struct bsp_entity **out,
			   size_t *n, struct bsp_error *err)
{
	return st->ops->entities(st, NULL, out, n, err);
}

bsp_err bsp_store_entity(struct bsp_store *st, const char *name,
			 struct bsp_entity *out, struct bsp_error *err)
{
	struct bsp_entity *all = NULL;
	size_t n = 0;
	bsp_err result = st->ops->entities(st, name, &all, &n, err);

	if (result != BSP_OK)
		return result;
	if (n == 0) {
		free(all);
		return bsp_error_set(err, BSP_ENOTFOUND,
				     "no entity named '%s'", name);
	}
	*out = all[0];
	free(all);
	return BSP_OK;
}

void bsp_entity_release(struct bsp_entity *e)
{
	if (!e)
		return;
	free(e->name);
	for (size_t i = 0; i < e->n_attrs; i++) {
		free(e->attr_keys[i]);
		free(e->attr_values[i]);
	}
	free(e->attr_keys);
	free(e->attr_values);
	memset(e, 0, sizeof(*e));
}

void bsp_entities_free(struct bsp_entity *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bsp_entity_release(&e[i]);
	free(e);
}

bsp_err bsp_store_series(struct bsp_store *st, const char *entity,
			 struct bsp_series **out, size_t *n,
			 struct bsp_error *err)
{
	return st->ops->series(st, entity, NULL, NULL, out, n, err);
}

bsp_err bsp_store_series_find(struct bsp_store *st, const char *entity,
			      const char *metric, const char *labels,
			      struct bsp_series *out, struct bsp_error *err)
{
	struct bsp_series *all = NULL;
	size_t n = 0;
	bsp_err result = st->ops->series(st, entity, metric,
					 labels ? labels : "", &all, &n, err);

	if (result != BSP_OK)
		return result;
	if (n == 0) {
		free(all);
		return bsp_error_set(err, BSP_ENOTFOUND,
				     "entity '%s' has no series '%s%s%s%s'",
				     entity, metric, labels && *labels ? "{" : "",
				     labels ? labels : "",
				     labels && *labels ? "}" : "");
	}
	*out = all[0];
	free(all);
	return BSP_OK;
}

void bsp_series_release(struct bsp_series *s)
{
	if (!s)
		return;
	free(s->entity);
	free(s->metric);
	free(s->labels);
	free(s->unit);
	memset(s, 0, sizeof(*s));
}

void bsp_series_free(struct bsp_series *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bsp_series_release(&s[i]);
	free(s);
}

void bsp_events_free(struct bsp_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ev[i].kind);
		free(ev[i].name);
	}
	free(ev);
}

bsp_err bsp_store_events(struct bsp_store *st, const char *entity,
			 bsp_time from, bsp_time until,
			 struct bsp_event **out, size_t *n,
			 struct bsp_error *err)
{
	return st->ops->events(st, entity, from, until, out, n, err);
}

bsp_err bsp_store_stats(struct bsp_store *st, struct bsp_store_stats *out,
			struct bsp_error *err)
{
	memset(out, 0, sizeof(*out));
	return st->ops->stats(st, out, err);
}

bsp_err bsp_store_check(struct bsp_store *st, struct bsp_error *err)
{
	return st->ops->check(st, err);
}

/* ---- reading samples ------------------------------------------------ */

struct range_read {
	bsp_time from, until;
	bsp_time *ts;
	double *v;
	size_t n, cap;
	bsp_time *tmp_ts; /* one chunk's decode */
	double *tmp_v;
	size_t tmp_cap;
	bsp_err result;
};

static int range_chunk(void *ud, const uint8_t *data, size_t len)
{
	struct range_read *r = ud;
	size_t cnt, got, i;

	if (chunk_count(data, len, &cnt) != BSP_OK)
		goto corrupt;
	if (cnt > r->tmp_cap) {
		free(r->tmp_ts);
		free(r->tmp_v);
		r->tmp_ts = malloc(cnt * sizeof(*r->tmp_ts));
		r->tmp_v = malloc(cnt * sizeof(*r->tmp_v));
		r->tmp_cap = cnt;
		if (!r->tmp_ts || !r->tmp_v) {
			r->tmp_cap = 0;
			r->result = BSP_ENOMEM;
			return -1;
		}
	}
	if (chunk_decode(data, len, r->tmp_ts, r->tmp_v, r->tmp_cap, &got) !=
	    BSP_OK)
		goto corrupt;
	if (r->n + got > r->cap) {
		size_t ncap = r->cap ? r->cap : 1024;
		while (ncap < r->n + got)
			ncap *= 2;
		bsp_time *nts = realloc(r->ts, ncap * sizeof(*nts));
		if (!nts)
			goto oom;
		r->ts = nts;
		double *nv = realloc(r->v, ncap * sizeof(*nv));
		if (!nv)
			goto oom;
		r->v = nv;
		r->cap = ncap;
	}
	for (i = 0; i < got; i++) {
		if (r->tmp_ts[i] < r->from || r->tmp_ts[i] >= r->until)
			continue;
		r->ts[r->n] = r->tmp_ts[i];
		r->v[r->n] = r->tmp_v[i];
		r->n++;
	}
	return 0;
oom:
	r->result = BSP_ENOMEM;
	return -1;
corrupt:
	r->result = BSP_ECORRUPT;
	return -1;
}

bsp_err bsp_store_read(struct bsp_store *st, int64_t series_id, bsp_time from,
		       bsp_time until, bsp_time **ts, double **values,
		       size_t *n, struct bsp_error *err)
{
	struct range_read r;
	bsp_err result;

	memset(&r, 0, sizeof(r));
	r.from = from;
	r.until = until;
	*ts = NULL;
	*values = NULL;
	*n = 0;
	if (until <= from)
		return BSP_OK;
	/* No sample lies outside the days a chunk can have; clamping first
	 * also keeps the day arithmetic away from INT64 overflow. */
	bsp_time lo = -STORE_DAY_LIMIT * STORE_CHUNK_SPAN;
	bsp_time hi = STORE_DAY_LIMIT * STORE_CHUNK_SPAN;
	result = st->ops->chunks(st, series_id, store_day(from < lo ? lo : from),
				 store_day((until > hi ? hi : until) - 1),
				 range_chunk, &r, err);
	if (result == BSP_OK && r.result != BSP_OK)
		result = bsp_error_set(err, r.result,
				       r.result == BSP_ECORRUPT
					       ? "series %lld: a stored chunk "
						 "fails to decode"
					       : "series %lld: out of memory",
				       (long long)series_id);
	free(r.tmp_ts);
	free(r.tmp_v);
	if (result != BSP_OK) {
		free(r.ts);
		free(r.v);
		return result;
	}
	*ts = r.ts;
	*values = r.v;
	*n = r.n;
	return BSP_OK;
}

bsp_err bsp_agg_parse(const char *s, enum bsp_agg *out)
{
	static const struct {
		const char *name;
		enum bsp_agg agg;
	} t[] = {{"mean", BSP_AGG_MEAN}, {"avg", BSP_AGG_MEAN},
		 {"max", BSP_AGG_MAX},   {"min", BSP_AGG_MIN},
		 {"last", BSP_AGG_LAST}, {"sum", BSP_AGG_SUM},
		 {"count", BSP_AGG_COUNT}};
	for (size_t i = 0; i < BSP_ARRAY_LEN(t); i++)
		if (!strcmp(s, t[i].name)) {
			*out = t[i].agg;
			return BSP_OK;
		}
	return BSP_EINVAL;
}

bsp_err bsp_fill_parse(const char *s, enum bsp_fill *out)
{
	static const struct {
		const char *name;
		enum bsp_fill fill;
	} t[] = {{"nan", BSP_FILL_NAN},
		 {"none", BSP_FILL_NAN},
		 {"previous", BSP_FILL_PREVIOUS},
		 {"linear", BSP_FILL_LINEAR},
		 {"zero", BSP_FILL_ZERO}};
	for (size_t i = 0; i < BSP_ARRAY_LEN(t); i++)
		if (!strcmp(s, t[i].name)) {
			*out = t[i].fill;
			return BSP_OK;
		}
	return BSP_EINVAL;
}

/*
 * Aggregates sorted samples into grid cells. NaN samples are skipped by
 * every aggregation (a NaN in the source means "no value", as in
 * Prometheus' staleness markers); a cell with none is empty.
 */
void store_grid_fill(const bsp_time *ts, const double *v, size_t n,
		     bsp_time from, bsp_time step, size_t cells,
		     enum bsp_agg agg, enum bsp_fill fill, double *out);
void store_grid_fill(const bsp_time *ts, const double *v, size_t n,
		     bsp_time from, bsp_time step, size_t cells,
		     enum bsp_agg agg, enum bsp_fill fill, double *out)
{
	size_t i = 0, c;

	for (c = 0; c < cells; c++) {
		bsp_time end = from + (bsp_time)(c + 1) * step;
		double acc = 0, best = NAN;
		size_t cnt = 0;
		for (; i < n && ts[i] < end; i++) {
			double x = v[i];
			if (isnan(x))
				continue;
			switch (agg) {
			case BSP_AGG_MEAN:
			case BSP_AGG_SUM:
				acc += x;
				break;
			case BSP_AGG_MAX:
				if (!cnt || x > best)
					best = x;
				break;
			case BSP_AGG_MIN:
				if (!cnt || x < best)
					best = x;
				break;
			case BSP_AGG_LAST:
				best = x;
				break;
			case BSP_AGG_COUNT:
				break;
			}
			cnt++;
		}
		if (agg == BSP_AGG_COUNT)
			out[c] = (double)cnt;
		else if (!cnt)
			out[c] = NAN;
		else if (agg == BSP_AGG_MEAN)
			out[c] = acc / (double)cnt;
		else if (agg == BSP_AGG_SUM)
			out[c] = acc;
		else
			out[c] = best;
	}
	if (fill == BSP_FILL_NAN || agg == BSP_AGG_COUNT)
		return;
	if (fill == BSP_FILL_ZERO) {
		for (c = 0; c < cells; c++)
			if (isnan(out[c]))
				out[c] = 0;
		return;
	}
	/* previous / linear: leading gaps stay NaN (nothing to carry);
	 * trailing gaps carry the last value for both. */
	size_t prev = SIZE_MAX;
	for (c = 0; c < cells; c++) {
		if (!isnan(out[c])) {
			if (fill == BSP_FILL_LINEAR && prev != SIZE_MAX &&
			    c - prev > 1) {
				double a = out[prev], b = out[c];
				for (size_t k = prev + 1; k < c; k++)
					out[k] = a + (b - a) * (double)(k - prev) /
							     (double)(c - prev);
			}
			prev = c;
		} else if (prev != SIZE_MAX && fill == BSP_FILL_PREVIOUS) {
			out[c] = out[prev];
		}
	}
	if (fill == BSP_FILL_LINEAR && prev != SIZE_MAX)
		for (c = prev + 1; c < cells; c++)
			out[c] = out[prev];
}

bsp_err bsp_store_read_grid(struct bsp_store *st, int64_t series_id,
			    bsp_time from, bsp_time until, bsp_time step,
			    enum bsp_agg agg, enum bsp_fill fill,
			    double *values, struct bsp_error *err)
{
	bsp_time *ts;
	double *v;
	size_t n, cells;
	bsp_err result;

	if (step <= 0)
		return bsp_error_set(err, BSP_EINVAL, "step must be positive");
	cells = bsp_grid_len(from, until, step);
	/* Read whole cells: the last may end after `until`. */
	result = bsp_store_read(st, series_id, from,
				from + (bsp_time)cells * step, &ts, &v, &n, err);
	if (result != BSP_OK)
		return result;
	store_grid_fill(ts, v, n, from, step, cells, agg, fill, values);
	free(ts);
	free(v);
	return BSP_OK;
}

/* ---- documents ------------------------------------------------------- */

static int doc_name_ok(const char *s)
{
	return s && *s && strlen(s) < 256;
}

bsp_err bsp_store_doc_put(struct bsp_store *st, const char *kind,
			  const char *entity, const char *body,
			  int64_t *version, struct bsp_error *err)
{
	if (!doc_name_ok(kind) || !doc_name_ok(entity) || !body)
		return bsp_error_set(err, BSP_EINVAL,
				     "document needs a kind, an entity and a "
				     "body");
	return st->ops->doc_put(st, kind, entity, body, version, err);
}

bsp_err bsp_store_doc_get(struct bsp_store *st, const char *kind,
			  const char *entity, int64_t version,
			  struct bsp_doc *out, struct bsp_error *err)
{
	struct bsp_doc *d = NULL;
	size_t n = 0;
	bsp_err result;

	memset(out, 0, sizeof(*out));
	if (!doc_name_ok(kind) || !doc_name_ok(entity) || version < 0)
		return bsp_error_set(err, BSP_EINVAL, "bad document query");
	result = st->ops->doc_query(st, kind, entity, version, 1, 1, &d, &n,
				    err);
	if (result != BSP_OK)
		return result;
	if (n == 0) {
		free(d);
		if (version)
			return bsp_error_set(err, BSP_ENOTFOUND,
					     "no %s version %lld for '%s'",
					     kind, (long long)version, entity);
		return bsp_error_set(err, BSP_ENOTFOUND, "no %s for '%s'",
				     kind, entity);
	}
	*out = d[0];
	free(d);
	return BSP_OK;
}

bsp_err bsp_store_doc_list(struct bsp_store *st, const char *kind,
			   const char *entity, struct bsp_doc **out,
			   size_t *n, struct bsp_error *err)
{
	if (!doc_name_ok(kind))
		return bsp_error_set(err, BSP_EINVAL, "bad document kind");
	return st->ops->doc_query(st, kind, entity, 0, 0, 0, out, n, err);
}

void bsp_doc_release(struct bsp_doc *d)
{
	if (!d)
		return;
	free(d->kind);
	free(d->entity);
	free(d->body);
	memset(d, 0, sizeof(*d));
}

void bsp_docs_free(struct bsp_doc *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bsp_doc_release(&d[i]);
	free(d);
}
