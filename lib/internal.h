/*
 * Library-wide internals: included by every file under lib/ (never by
 * src/ or installed). Public declarations come from include/bespoke/.
 */
#ifndef BSP_INTERNAL_H
#define BSP_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/bespoke.h"

#define BSP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define BSP_UNUSED(x) ((void)(x))

/*
 * Grows *p (an array of `elem`-sized items with capacity *cap) so that it
 * holds at least `need` items; doubles the capacity. Returns 0 or -1 on
 * overflow or out of memory (then *p is unchanged).
 */
int bsp_grow(void **p, size_t *cap, size_t need, size_t elem);
#define BSP_GROW(p, cap, need) bsp_grow((void **)&(p), &(cap), (need), sizeof(*(p)))

/* strdup that returns NULL for NULL. */
char *bsp_strdup(const char *s);

#include "banned.h"

#endif
