/*
 * A batch of telemetry on its way into the store (include/bespoke/batch.h).
 *
 * Series are found by an open-addressing hash table keyed on
 * "entity\0metric\0labels", so parsers that meet the same series on every
 * line (long CSV, Alibaba's unsorted machine_usage) pay one hash per line,
 * and parsers that cache the index pay nothing. Samples are appended to
 * per-series arrays and only sorted (once, when the store asks) if they
 * arrived out of order.
 */
#include "store.h"
#include "chunk.h"

struct bseries {
	char *key; /* entity \0 metric \0 labels \0 */
	size_t key_len;
	const char *entity, *metric, *labels; /* point into key */
	char *unit;
	bsp_time *ts;
	double *val;
	size_t n, cap;
	uint64_t hash;
	int sorted; /* ts strictly increasing so far */
	struct batch_chunk *chunks; /* after batch_prepare */
	size_t n_chunks;
};

struct bevent {
	char *entity, *kind, *name;
	bsp_time ts;
	int64_t seq;
};

struct battr {
	char *entity, *key, *value;
};

struct bsp_batch {
	struct bseries *series;
	size_t n_series, cap_series;
	int *table; /* series index + 1; 0 = empty */
	size_t table_cap; /* power of two */
	struct bevent *events;
	size_t n_events, cap_events;
	struct battr *attrs;
	size_t n_attrs, cap_attrs;
	size_t n_samples;
};

/* FNV-1a, 64-bit: short keys, no need for more. */
static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct bsp_batch *bsp_batch_new(void)
{
	return calloc(1, sizeof(struct bsp_batch));
}

static void series_drop_chunks(struct bseries *s)
{
	for (size_t i = 0; i < s->n_chunks; i++)
		free(s->chunks[i].data);
	free(s->chunks);
	s->chunks = NULL;
	s->n_chunks = 0;
}

static void series_release(struct bseries *s)
{
	series_drop_chunks(s);
	free(s->key);
	free(s->unit);
	free(s->ts);
	free(s->val);
}

void bsp_batch_clear(struct bsp_batch *b)
{
	for (size_t i = 0; i < b->n_series; i++)
		series_release(&b->series[i]);
	b->n_series = 0;
	if (b->table)
		memset(b->table, 0, b->table_cap * sizeof(*b->table));
	for (size_t i = 0; i < b->n_events; i++) {
		free(b->events[i].entity);
		free(b->events[i].kind);
		free(b->events[i].name);
	}
	b->n_events = 0;
	for (size_t i = 0; i < b->n_attrs; i++) {
		free(b->attrs[i].entity);
		free(b->attrs[i].key);
		free(b->attrs[i].value);
	}
	b->n_attrs = 0;
	b->n_samples = 0;
}

void bsp_batch_free(struct bsp_batch *b)
{
	if (!b)
		return;
	bsp_batch_clear(b);
	free(b->series);
	free(b->table);
	free(b->events);
	free(b->attrs);
	free(b);
}

static int table_rehash(struct bsp_batch *b, size_t ncap)
{
	int *nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -1;
	for (size_t i = 0; i < b->n_series; i++) {
		size_t j = b->series[i].hash & (ncap - 1);
		while (nt[j])
			j = (j + 1) & (ncap - 1);
		nt[j] = (int)i + 1;
	}
	free(b->table);
	b->table = nt;
	b->table_cap = ncap;
	return 0;
}

int bsp_batch_series(struct bsp_batch *b, const char *entity,
		     const char *metric, const char *labels, const char *unit)
{
	size_t le = strlen(entity), lm = strlen(metric);
	size_t ll = labels ? strlen(labels) : 0;
	size_t klen = le + lm + ll + 3;
	char stackkey[512], *key = stackkey;
	uint64_t h;
	size_t j;
	int result = -1;

	if (klen > sizeof(stackkey) && !(key = malloc(klen)))
		return -1;
	memcpy(key, entity, le + 1);
	memcpy(key + le + 1, metric, lm + 1);
	if (ll)
		memcpy(key + le + lm + 2, labels, ll);
	key[klen - 1] = '\0';
	h = hash_bytes(key, klen);

	if (b->table_cap) {
		for (j = h & (b->table_cap - 1); b->table[j];
		     j = (j + 1) & (b->table_cap - 1)) {
			struct bseries *s = &b->series[b->table[j] - 1];
			if (s->hash == h && s->key_len == klen &&
			    !memcmp(s->key, key, klen)) {
				result = b->table[j] - 1;
				goto out;
			}
		}
	}
	if (b->n_series >= INT32_MAX - 1)
		goto out;
	if ((b->n_series + 1) * 2 > b->table_cap &&
	    table_rehash(b, b->table_cap ? b->table_cap * 2 : 64) < 0)
		goto out;
	if (BSP_GROW(b->series, b->cap_series, b->n_series + 1) < 0)
		goto out;
	struct bseries *s = &b->series[b->n_series];
	memset(s, 0, sizeof(*s));
	s->key = malloc(klen);
	s->unit = strdup(unit ? unit : "");
	if (!s->key || !s->unit) {
		free(s->key);
		free(s->unit);
		goto out;
	}
	memcpy(s->key, key, klen);
	s->key_len = klen;
	s->entity = s->key;
	s->metric = s->key + le + 1;
	s->labels = s->key + le + lm + 2;
	s->hash = h;
	s->sorted = 1;
	for (j = h & (b->table_cap - 1); b->table[j];
	     j = (j + 1) & (b->table_cap - 1))
		;
	b->table[j] = (int)b->n_series + 1;
	result = (int)b->n_series++;
out:
	if (key != stackkey)
		free(key);
	return result;
}

int bsp_batch_sample(struct bsp_batch *b, int series, bsp_time t, double v)
{
	struct bseries *s;

	if (series < 0 || (size_t)series >= b->n_series)
		return -1;
	s = &b->series[series];
	if (s->chunks)
		series_drop_chunks(s);
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		bsp_time *nts = realloc(s->ts, ncap * sizeof(*nts));
		if (!nts)
			return -1;
		s->ts = nts;
		double *nv = realloc(s->val, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		s->val = nv;
		s->cap = ncap;
	}
	if (s->n && t <= s->ts[s->n - 1])
		s->sorted = 0;
	s->ts[s->n] = t;
	s->val[s->n] = v;
	s->n++;
	b->n_samples++;
	return 0;
}

int bsp_batch_event(struct bsp_batch *b, const char *entity, bsp_time ts,
		    int64_t seq, const char *kind, const char *name)
{
	struct bevent *e;

	if (BSP_GROW(b->events, b->cap_events, b->n_events + 1) < 0)
		return -1;
	e = &b->events[b->n_events];
	e->entity = strdup(entity);
	e->kind = strdup(kind);
	e->name = strdup(name);
	e->ts = ts;
	e->seq = seq;
	if (!e->entity || !e->kind || !e->name) {
		free(e->entity);
		free(e->kind);
		free(e->name);
		return -1;
	}
	b->n_events++;
	return 0;
}

int bsp_batch_attr(struct bsp_batch *b, const char *entity, const char *key,
		   const char *value)
{
	struct battr *a;

	if (BSP_GROW(b->attrs, b->cap_attrs, b->n_attrs + 1) < 0)
		return -1;
	a = &b->attrs[b->n_attrs];
	a->entity = strdup(entity);
	a->key = strdup(key);
	a->value = strdup(value);
	if (!a->entity || !a->key || !a->value) {
		free(a->entity);
		free(a->key);
		free(a->value);
		return -1;
	}
	b->n_attrs++;
	return 0;
}

size_t bsp_batch_n_samples(const struct bsp_batch *b)
{
	return b->n_samples;
}

size_t bsp_batch_n_events(const struct bsp_batch *b)
{
	return b->n_events;
}

size_t bsp_batch_n_series(const struct bsp_batch *b)
{
	return b->n_series;
}

size_t bsp_batch_n_attrs(const struct bsp_batch *b)
{
	return b->n_attrs;
}

void bsp_batch_series_view(const struct bsp_batch *b, size_t i,
			   struct bsp_batch_series_view *out)
{
	const struct bseries *s = &b->series[i];

	out->entity = s->entity;
	out->metric = s->metric;
	out->labels = s->labels;
	out->unit = s->unit;
	out->ts = s->ts;
	out->values = s->val;
	out->n = s->n;
}

void bsp_batch_event_view(const struct bsp_batch *b, size_t i,
			  struct bsp_batch_event_view *out)
{
	const struct bevent *e = &b->events[i];

	out->entity = e->entity;
	out->kind = e->kind;
	out->name = e->name;
	out->ts = e->ts;
	out->seq = e->seq;
}

void bsp_batch_attr_view(const struct bsp_batch *b, size_t i,
			 struct bsp_batch_attr_view *out)
{
	const struct battr *a = &b->attrs[i];

	out->entity = a->entity;
	out->key = a->key;
	out->value = a->value;
}

/*
 * Stable merge sort of (ts, value) pairs by ts, then a pass that keeps the
 * last of each run of equal times: "the last line wins", as documented for
 * duplicate timestamps.
 */
struct tv {
	bsp_time t;
	double v;
};

static void merge_sort(struct tv *a, struct tv *tmp, size_t n)
{
	size_t mid, i, j, k;

	if (n < 2)
		return;
	mid = n / 2;
	merge_sort(a, tmp, mid);
	merge_sort(a + mid, tmp, n - mid);
	if (a[mid - 1].t <= a[mid].t)
		return;
	memcpy(tmp, a, n * sizeof(*a));
	for (i = 0, j = mid, k = 0; i < mid && j < n;)
		a[k++] = tmp[j].t < tmp[i].t ? tmp[j++] : tmp[i++];
	while (i < mid)
		a[k++] = tmp[i++];
	while (j < n)
		a[k++] = tmp[j++];
}

static int series_sort(struct bseries *s, size_t *removed)
{
	struct tv *a, *tmp;
	size_t i, k;

	*removed = 0;
	if (s->sorted || s->n < 2)
		return 0;
	a = malloc(s->n * sizeof(*a));
	tmp = malloc(s->n * sizeof(*tmp));
	if (!a || !tmp) {
		free(a);
		free(tmp);
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		a[i].t = s->ts[i];
		a[i].v = s->val[i];
	}
	merge_sort(a, tmp, s->n);
	for (i = 0, k = 0; i < s->n; i++) {
		if (i + 1 < s->n && a[i + 1].t == a[i].t)
			continue; /* a later duplicate wins */
		s->ts[k] = a[i].t;
		s->val[k] = a[i].v;
		k++;
	}
	*removed = s->n - k;
	s->n = k;
	s->sorted = 1;
	free(a);
	free(tmp);
	return 0;
}

void bsp_batch_sort_series(struct bsp_batch *b)
{
	for (size_t i = 0; i < b->n_series; i++) {
		size_t removed = 0;
		/* Out of memory leaves the series unsorted; the store then
		 * sorts its copy per chunk, so this is only slower. */
		if (series_sort(&b->series[i], &removed) == 0)
			b->n_samples -= removed;
	}
}

/* ---- labels ----------------------------------------------------------- */

static int label_key_ok(const char *k)
{
	if (!*k || !(k[0] == '_' || (k[0] >= 'a' && k[0] <= 'z') ||
		     (k[0] >= 'A' && k[0] <= 'Z')))
		return 0;
	for (const char *p = k + 1; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

bsp_err bsp_labels_canon(const char *const *keys, const char *const *values,
			 size_t n, char *out, size_t size)
{
	size_t order[64], pos = 0;

	if (n > BSP_ARRAY_LEN(order))
		return BSP_ELIMIT;
	if (size == 0)
		return BSP_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		if (!label_key_ok(keys[i]))
			return BSP_EINVAL;
		order[i] = i;
	}
	/* Insertion sort: label sets are small. */
	for (size_t i = 1; i < n; i++) {
		size_t t = order[i], j = i;
		while (j > 0 && strcmp(keys[order[j - 1]], keys[t]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		const char *k = keys[order[i]], *v = values[order[i]];
		if (i > 0 && !strcmp(k, keys[order[i - 1]]))
			return BSP_EINVAL; /* duplicate label */
#define PUT(c)                                  \
	do {                                    \
		if (pos + 1 >= size)            \
			return BSP_ELIMIT;      \
		out[pos++] = (c);               \
	} while (0)
		if (i)
			PUT(',');
		for (; *k; k++)
			PUT(*k);
		PUT('=');
		PUT('"');
		for (; *v; v++) {
			if (*v == '\\' || *v == '"') {
				PUT('\\');
				PUT(*v);
			} else if (*v == '\n') {
				PUT('\\');
				PUT('n');
			} else {
				PUT(*v);
			}
		}
		PUT('"');
#undef PUT
	}
	out[pos] = '\0';
	return BSP_OK;
}

/* ---- prepared chunks ------------------------------------------------- */

static bsp_err series_prepare(struct bseries *s)
{
	size_t i = 0, nch = 0, cap = 0;
	struct batch_chunk *ch = NULL;
	bsp_err result = BSP_ENOMEM;

	while (i < s->n) {
		int64_t day = store_day(s->ts[i]);
		size_t j = i + 1;
		bsp_time end = (day + 1) * STORE_CHUNK_SPAN;
		while (j < s->n && s->ts[j] < end)
			j++;
		if (j - i > CHUNK_MAX_SAMPLES) {
			result = BSP_ELIMIT;
			goto fail;
		}
		if (day < -STORE_DAY_LIMIT || day >= STORE_DAY_LIMIT) {
			result = BSP_EINVAL;
			goto fail;
		}
		if (BSP_GROW(ch, cap, nch + 1) < 0)
			goto fail;
		ch[nch].day = day;
		ch[nch].n = j - i;
		ch[nch].first = i;
		if (chunk_encode(s->ts + i, s->val + i, j - i, &ch[nch].data,
				 &ch[nch].len) != BSP_OK)
			goto fail;
		nch++;
		i = j;
	}
	s->chunks = ch;
	s->n_chunks = nch;
	return BSP_OK;
fail:
	for (size_t k = 0; k < nch; k++)
		free(ch[k].data);
	free(ch);
	return result;
}

bsp_err batch_prepare(struct bsp_batch *b, struct bsp_error *err)
{
	bsp_batch_sort_series(b);
	for (size_t i = 0; i < b->n_series; i++) {
		struct bseries *s = &b->series[i];
		if (s->chunks || s->n == 0)
			continue;
		if (!s->sorted)
			return bsp_error_set(err, BSP_ENOMEM,
					     "out of memory sorting samples");
		bsp_err r = series_prepare(s);
		if (r == BSP_ELIMIT)
			return bsp_error_set(err, r,
					     "series %s/%s: more than %u samples "
					     "in one day", s->entity, s->metric,
					     CHUNK_MAX_SAMPLES);
		if (r == BSP_EINVAL)
			return bsp_error_set(err, r,
					     "series %s/%s: a time is more than "
					     "2^23 days from 1970",
					     s->entity, s->metric);
		if (r != BSP_OK)
			return bsp_error_set(err, r,
					     "out of memory compressing samples");
	}
	return BSP_OK;
}

bsp_err bsp_store_prepare(struct bsp_batch *b, struct bsp_error *err)
{
	return batch_prepare(b, err);
}

void batch_chunks(const struct bsp_batch *b, size_t i,
		  const struct batch_chunk **out, size_t *n)
{
	*out = b->series[i].chunks;
	*n = b->series[i].n_chunks;
}
