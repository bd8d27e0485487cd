/*
 * bespoke: learns how each user, VM or workload behaves and prepares its
 * machine before it is needed. This umbrella header includes the public API.
 */
#ifndef BESPOKE_H
#define BESPOKE_H

#define BSP_VERSION "0.1.0"

#include "error.h"
#include "time.h"
#include "batch.h"
#include "store.h"
#include "ingest.h"
#include "demo.h"

BSP_EXTERN const char *bsp_version(void);

#endif
