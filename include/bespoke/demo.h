/*
 * bespoke: the demo fleet.
 *
 * A synthetic fleet of users drawn from documented behaviour archetypes
 * (office-hours interactive, nightly batch, ML training bursts, always-on
 * service, data analysis with weekly cycles, ...), each with a seed,
 * realistic noise, daily and weekly cycles and application-launch events.
 * The same options always give the same fleet. docs/demo.md describes the
 * archetypes.
 */
#ifndef BESPOKE_DEMO_H
#define BESPOKE_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "error.h"
#include "time.h"

struct bsp_demo_options {
	size_t users;      /* fleet size (0 = 24) */
	bsp_time start;    /* first sample, UTC (0 = 2026-01-05T00:00:00Z) */
	bsp_time duration; /* 0 = 28 days */
	bsp_time step;     /* 0 = 5 minutes */
	uint64_t seed;     /* 0 = 1 */
};

/* The i-th archetype's name and description; NULL past the end. */
BSP_EXTERN const char *bsp_demo_archetype_name(size_t i);
BSP_EXTERN const char *bsp_demo_archetype_help(size_t i);

/*
 * Generates user `index` of the fleet into `batch` (series cpu, mem, disk,
 * net with units, attributes "archetype" and "seed", app events). Users are
 * independent, so callers can write one user per transaction.
 */
BSP_EXTERN bsp_err bsp_demo_user(const struct bsp_demo_options *opt,
				 size_t index, struct bsp_batch *batch,
				 struct bsp_error *err);

#endif
