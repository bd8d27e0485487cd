/*
 * The applications stage's containers: an open-addressing hash map
 * (linear probing, load at most 1/2, keys of two 64-bit words so that a
 * whole Markov context fits in one key) and a vocabulary of names.
 *
 * The vocabulary keys its map by (FNV-1a hash of the name, probe number)
 * so that names whose hashes collide still find each other: lookups walk
 * probe numbers 0, 1, ... until the stored id's name matches or a slot is
 * empty.
 */
#include "apps_int.h"

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

uint64_t apps_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void apps_map_release(struct apps_map *m)
{
	free(m->k1);
	free(m->k2);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

uint32_t apps_map_get(const struct apps_map *m, uint64_t k1, uint64_t k2)
{
	if (!m->cap)
		return UINT32_MAX;
	size_t mask = m->cap - 1;
	for (size_t i = mix(k1, k2) & mask;; i = (i + 1) & mask) {
		if (m->val[i] == UINT32_MAX)
			return UINT32_MAX;
		if (m->k1[i] == k1 && m->k2[i] == k2)
			return m->val[i];
	}
}

static void put_raw(struct apps_map *m, uint64_t k1, uint64_t k2, uint32_t val)
{
	size_t mask = m->cap - 1;
	size_t i = mix(k1, k2) & mask;

	while (m->val[i] != UINT32_MAX && (m->k1[i] != k1 || m->k2[i] != k2))
		i = (i + 1) & mask;
	if (m->val[i] == UINT32_MAX)
		m->n++;
	m->k1[i] = k1;
	m->k2[i] = k2;
	m->val[i] = val;
}

static int map_resize(struct apps_map *m, size_t cap)
{
	struct apps_map nm = {0};

	nm.cap = cap;
	nm.k1 = malloc(cap * sizeof(*nm.k1));
	nm.k2 = malloc(cap * sizeof(*nm.k2));
	nm.val = malloc(cap * sizeof(*nm.val));
	if (!nm.k1 || !nm.k2 || !nm.val) {
		apps_map_release(&nm);
		return -1;
	}
	memset(nm.val, 0xff, cap * sizeof(*nm.val));
	for (size_t i = 0; i < m->cap; i++)
		if (m->val[i] != UINT32_MAX)
			put_raw(&nm, m->k1[i], m->k2[i], m->val[i]);
	apps_map_release(m);
	*m = nm;
	return 0;
}

int apps_map_put(struct apps_map *m, uint64_t k1, uint64_t k2, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap &&
	    map_resize(m, m->cap ? m->cap * 2 : 64))
		return -1;
	put_raw(m, k1, k2, val);
	return 0;
}

void apps_vocab_release(struct apps_vocab *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->names[i]);
	free(v->names);
	apps_map_release(&v->index);
	memset(v, 0, sizeof(*v));
}

long apps_vocab_find(const struct apps_vocab *v, const char *name)
{
	uint64_t h = apps_hash(name);

	for (uint64_t probe = 0;; probe++) {
		uint32_t id = apps_map_get(&v->index, h, probe);
		if (id == UINT32_MAX)
			return -1;
		if (!strcmp(v->names[id], name))
			return (long)id;
	}
}

long apps_vocab_add(struct apps_vocab *v, const char *name)
{
	uint64_t h = apps_hash(name), probe = 0;
	char *copy;

	for (;; probe++) {
		uint32_t id = apps_map_get(&v->index, h, probe);
		if (id == UINT32_MAX)
			break;
		if (!strcmp(v->names[id], name))
			return (long)id;
	}
	if (v->n >= UINT32_MAX - 1 || BSP_GROW(v->names, v->cap, v->n + 1))
		return -1;
	if (!(copy = bsp_strdup(name)))
		return -1;
	if (apps_map_put(&v->index, h, probe, (uint32_t)v->n)) {
		free(copy);
		return -1;
	}
	v->names[v->n] = copy;
	return (long)v->n++;
}

static int pred_cmp(const void *a, const void *b)
{
	const struct bsp_apps_pred *x = a, *y = b;

	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return strcmp(x->app, y->app);
}

void apps_pred_sort(struct bsp_apps_pred *p, size_t n)
{
	if (n > 1)
		qsort(p, n, sizeof(*p), pred_cmp);
}
