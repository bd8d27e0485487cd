/*
 * bespoke: time values.
 *
 * All times are int64 milliseconds since the Unix epoch, UTC (as Prometheus
 * uses). Durations are int64 milliseconds too.
 */
#ifndef BESPOKE_TIME_H
#define BESPOKE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef int64_t bsp_time; /* ms since the epoch, UTC */

#define BSP_TIME_NONE INT64_MIN /* "no timestamp" (ordered events only) */
#define BSP_SECOND ((bsp_time)1000)
#define BSP_MINUTE (60 * BSP_SECOND)
#define BSP_HOUR (60 * BSP_MINUTE)
#define BSP_DAY (24 * BSP_HOUR)

/*
 * Parses a time: epoch seconds ("1372629804", "1372629804.5"), epoch
 * milliseconds when the number is too large to be seconds (13+ digits), or
 * RFC 3339 ("2013-07-01T00:00:00Z", "2013-07-01T02:00:00+02:00",
 * "2013-07-01 00:00:00", or a bare date "2013-07-01" meaning midnight UTC).
 * `len` bytes of `s` are read (no NUL needed). Returns BSP_EINVAL on
 * anything else, with no message (callers add the file and line).
 */
BSP_EXTERN bsp_err bsp_time_parse(const char *s, size_t len, bsp_time *out);

/* Parses a duration: "300" (seconds), "5m", "1h", "7d", "2w", "250ms". */
BSP_EXTERN bsp_err bsp_duration_parse(const char *s, bsp_time *out);

/* Formats as RFC 3339 UTC ("2013-07-01T00:00:00Z", with ".123" when the
 * milliseconds are not zero) into buf (at least 32 bytes). */
BSP_EXTERN char *bsp_time_format(bsp_time t, char *buf, size_t size);

/* Floor of t to a multiple of step (works for negative t). */
static inline bsp_time bsp_time_floor(bsp_time t, bsp_time step)
{
	bsp_time r = t % step;
	return r < 0 ? t - r - step : t - r;
}

#endif
