/*
 * Internals of the profile stage shared between its files.
 */
#ifndef BSP_PROFILE_INT_H
#define BSP_PROFILE_INT_H

#include "internal.h"
#include "bespoke/forecast.h"
#include "bespoke/profile.h"

#include <jansson.h>

/* `in` (or the defaults when NULL) with zero fields defaulted. */
void prof_opts_fill(const struct bsp_profile_options *in,
		    struct bsp_profile_options *o);

/* RFC 3339 string, or null for BSP_TIME_NONE. */
json_t *prof_time_json(bsp_time t);

/* The forecast origin: opt->origin, or just after the last sample rounded
 * up to the step; BSP_TIME_NONE when there are no samples. */
bsp_time prof_origin(const struct bsp_series *s, size_t n,
		     const struct bsp_profile_options *opt);

/* Forecaster options for the profile options (horizon in steps). */
void prof_fc_options(const struct bsp_profile_options *opt,
		     struct bsp_fc_options *fo);

/* The profile's "behaviour" object from history before `origin`
 * (behaviour.c); parts whose input is absent are named under "missing". */
json_t *prof_behaviour(struct bsp_store *st, const char *entity,
		       bsp_time origin, const struct bsp_profile_options *opt);

#endif
