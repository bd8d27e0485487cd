/*
 * Event CSV: one event per line,
 *
 *   entity,timestamp,kind,name
 *
 * e.g. "alice,2024-03-01T09:12:00Z,app,firefox". A first line naming the
 * columns (entity, timestamp|time|ts, kind|type, name|event, any order) is
 * a header. An empty timestamp means "order known, time not" and is stored
 * as BSP_TIME_NONE. Each event's seq is its 0-based ordinal among the
 * events of the same entity in this file, so that events at equal times
 * keep the order of the file.
 *
 * The per-entity counters live in a small open-addressing table local to
 * the parse (entities per file are few compared with lines).
 */
#include "ingest_int.h"

enum { EV_ENTITY, EV_TIME, EV_KIND, EV_NAME, EV_NCOLS };

static const char *const ev_names[] = {"entity", "timestamp|time|ts",
				       "kind|type", "name|event", NULL};

/* Longest event name (an application, a command line). */
#define EV_MAX_NAME 4096
#define EV_MAX_FIELDS 16

static int ev_line_ok(const char *line, size_t n)
{
	struct ingest_field fld[5];
	bsp_time t;

	return ingest_split(NULL, line, n, ',', fld, 5) == 4 && fld[0].n &&
	       fld[2].n && fld[3].n && !ingest_is_number(fld[2].p, fld[2].n) &&
	       (fld[1].n == 0 ||
		bsp_time_parse(fld[1].p, fld[1].n, &t) == BSP_OK);
}

int fmt_events_detect(const char *head, size_t len, const char *path)
{
	struct ingest_field fld[EV_MAX_FIELDS];
	int cols[EV_NCOLS];
	const char *line;
	size_t n;
	int k;

	BSP_UNUSED(path);
	if (!ingest_head_first(head, len, &line, &n))
		return 0;
	k = ingest_split(NULL, line, n, ',', fld, EV_MAX_FIELDS);
	if (k >= 2 && k <= EV_MAX_FIELDS &&
	    ingest_header_map(fld, k, ev_names, cols) > 0)
		return cols[EV_ENTITY] >= 0 && cols[EV_KIND] >= 0 &&
				       cols[EV_NAME] >= 0 && cols[EV_TIME] >= 0
			       ? 100
			       : 0;
	return ingest_detect_lines(head, len, ev_line_ok, 50);
}

/* entity → events seen so far in this file */
struct ev_counter {
	char **keys;
	int64_t *counts;
	size_t cap, n; /* cap: power of two */
};

static uint64_t ev_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int ev_grow(struct ev_counter *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 64;
	char **nk = calloc(ncap, sizeof(*nk));
	int64_t *nc = calloc(ncap, sizeof(*nc));

	if (!nk || !nc) {
		free(nk);
		free(nc);
		return -1;
	}
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->keys[i])
			continue;
		size_t j = ev_hash(c->keys[i]) & (ncap - 1);
		while (nk[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = c->keys[i];
		nc[j] = c->counts[i];
	}
	free(c->keys);
	free(c->counts);
	c->keys = nk;
	c->counts = nc;
	c->cap = ncap;
	return 0;
}

/* The next seq for `entity` (0, 1, 2...); -1 when out of memory. */
static int64_t ev_next(struct ev_counter *c, const char *entity)
{
	size_t j;

	if ((c->n + 1) * 2 > c->cap && ev_grow(c) < 0)
		return -1;
	for (j = ev_hash(entity) & (c->cap - 1); c->keys[j];
	     j = (j + 1) & (c->cap - 1))
		if (!strcmp(c->keys[j], entity))
			return c->counts[j]++;
	if (!(c->keys[j] = strdup(entity)))
		return -1;
	c->n++;
	c->counts[j] = 1;
	return 0;
}

static void ev_free(struct ev_counter *c)
{
	for (size_t i = 0; i < c->cap; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->counts);
}

bsp_err fmt_events_parse(struct ingest_file *f)
{
	struct ingest_field fld[EV_MAX_FIELDS + 1];
	int cols[EV_NCOLS] = {0, 1, 2, 3};
	struct ev_counter seqs = {0};
	char entity[INGEST_MAX_NAME], kind[INGEST_MAX_NAME];
	char *name = malloc(EV_MAX_NAME);
	int ncols = 4, first = 1;
	const char *line;
	size_t len;
	bsp_err result = BSP_OK;

	if (!name)
		return ingest_fail(f, BSP_ENOMEM, "out of memory");
	while ((line = ingest_next_line(f, &len))) {
		int n = ingest_split(f, line, len, ',', fld, EV_MAX_FIELDS + 1);
		const struct ingest_field *nf;
		bsp_time t = BSP_TIME_NONE;
		int64_t seq;
		int r;

		if (first) {
			first = 0;
			int hc[EV_NCOLS];
			if (n > 0 && n <= EV_MAX_FIELDS &&
			    ingest_header_map(fld, n, ev_names, hc) > 0) {
				static const char *const need[] = {
					"entity", "timestamp", "kind", "name"};
				memcpy(cols, hc, sizeof(cols));
				for (int c = 0; c < EV_NCOLS; c++) {
					if (cols[c] >= 0)
						continue;
					result = ingest_fail(
						f, BSP_EINVAL,
						"the header names no '%s' "
						"column",
						need[c]);
					goto out;
				}
				ncols = n;
				ingest_not_data(f);
				continue;
			}
		}
		if (n != ncols) {
			if (n < 0 ? ingest_bad(f, "unbalanced double quotes")
				  : ingest_bad(f, "expected %d columns "
						  "(entity,timestamp,kind,"
						  "name), found %d",
					       ncols, n))
				break;
			continue;
		}
		r = ingest_name(f, &fld[cols[EV_ENTITY]], cols[EV_ENTITY] + 1,
				"entity", entity);
		if (r == INGEST_OK)
			r = ingest_name(f, &fld[cols[EV_KIND]],
					cols[EV_KIND] + 1, "kind", kind);
		if (r == INGEST_OK && fld[cols[EV_TIME]].n)
			r = ingest_time(f, &fld[cols[EV_TIME]],
					cols[EV_TIME] + 1, "timestamp", &t);
		nf = &fld[cols[EV_NAME]];
		if (r == INGEST_OK && (nf->n == 0 || nf->n >= EV_MAX_NAME))
			r = (nf->n ? ingest_bad(f, "column %d (name): longer "
						   "than %d bytes",
						cols[EV_NAME] + 1,
						EV_MAX_NAME - 1)
				   : ingest_bad(f, "column %d (name): empty",
						cols[EV_NAME] + 1))
				    ? INGEST_STOP
				    : INGEST_SKIP;
		if (r == INGEST_STOP)
			break;
		if (r != INGEST_OK)
			continue;
		ingest_field_str(nf, name, EV_MAX_NAME);
		if ((seq = ev_next(&seqs, entity)) < 0 ||
		    bsp_batch_event(f->batch, entity, t, seq, kind, name) < 0) {
			result = ingest_fail(f, BSP_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (f->aborted)
		result = BSP_EINVAL;
out:
	ev_free(&seqs);
	free(name);
	return result;
}
