/*
 * The persona stage's internals, shared by lib/persona/ only.
 */
#ifndef BSP_PERSONA_INT_H
#define BSP_PERSONA_INT_H

#include <errno.h>

#include "bespoke/persona.h"

/* One token, counted. */
struct per_count {
	char *tok;
	double n;
};

/* A bag of tokens: unsorted while built, sorted by per_bag_finish. */
struct per_bag {
	struct per_count *v;
	size_t n, cap;
	double total;
};

/* Adds the tokens of `text` (lowercased; letters, digits, + # _ .) with
 * weight w; stop words are left out. -1 when out of memory. */
int per_bag_add_text(struct per_bag *b, const char *text, double w);
/* Adds one whole name (lowercased) with weight w. */
int per_bag_add_name(struct per_bag *b, const char *name, double w);
/* Sorts and merges duplicates. */
void per_bag_finish(struct per_bag *b);
/* Count of a token in a finished bag. */
double per_bag_count(const struct per_bag *b, const char *tok);
void per_bag_release(struct per_bag *b);

#endif
