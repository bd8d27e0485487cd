/*
 * Internals of the applications stage (lib/apps/): an open-addressing
 * hash map with 128-bit keys and a string vocabulary (name <-> dense id),
 * shared by the next-application model and collaborative filtering.
 */
#ifndef BSP_APPS_INT_H
#define BSP_APPS_INT_H

#include "internal.h"

#include "bespoke/apps.h"

/* Key -> uint32 value; keys are two 64-bit words chosen by the caller. */
struct apps_map {
	uint64_t *k1, *k2;
	uint32_t *val; /* UINT32_MAX marks an empty slot */
	size_t cap;    /* a power of two, or 0 */
	size_t n;
};

void apps_map_release(struct apps_map *m);
/* The value stored at (k1, k2), or UINT32_MAX. */
uint32_t apps_map_get(const struct apps_map *m, uint64_t k1, uint64_t k2);
/* Stores value (< UINT32_MAX) at (k1, k2); 0 or -1 out of memory. */
int apps_map_put(struct apps_map *m, uint64_t k1, uint64_t k2, uint32_t val);

/* Names and their ids, 0..n-1 in order of first appearance. */
struct apps_vocab {
	char **names;
	size_t n, cap;
	struct apps_map index; /* (hash, 0) -> id, chained through probes */
};

void apps_vocab_release(struct apps_vocab *v);
/* The id of name, or -1. */
long apps_vocab_find(const struct apps_vocab *v, const char *name);
/* The id of name, added if new; -1 out of memory. */
long apps_vocab_add(struct apps_vocab *v, const char *name);

uint64_t apps_hash(const char *s);

/* A small deterministic generator (splitmix64) for hold-out draws. */
static inline uint64_t apps_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Sorts predictions by decreasing p, then name (a stable, total order). */
void apps_pred_sort(struct bsp_apps_pred *p, size_t n);

#endif
