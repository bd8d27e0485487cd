/*
 * bespoke: anomalies, the points and periods where observed usage left
 * the band its forecast had drawn for it.
 *
 * The series is walked block by block (one day by default). Each block is
 * forecast from the data strictly before it, with points already flagged
 * replaced by gaps, so that yesterday's spike neither sets today's
 * expectation nor hides today's spike. A point is flagged when it lies
 * beyond the median forecast by more than `factor` times the distance
 * from the median to the band edge (the calibrated quantiles 1 - level
 * and level, p1 and p99 by default). Flagged steps that follow one another
 * in the same direction form one period, explained in words: metric, time
 * span, observed value, the band it left, the ratio and the model.
 *
 * Flags in the same direction on every block for `shift_after` (three
 * days by default) are a change, a level shift or a new habit, not a
 * one-off: they are still reported, but from then on they count as
 * history and training keeps them, so the forecast follows a new normal
 * instead of ignoring it.
 *
 * bsp_anomaly_train is the robust fit that training uses: pass one fits
 * on the raw series and flags with a band scaled from the p10..p90 spread
 * (which a short spike cannot widen, unlike p99); pass two fits on the
 * series with those points removed and flags again with its calibrated
 * band; the final model is fitted without the points pass two flagged.
 * docs/anomalies.md has the method and its limits.
 *
 * Ownership: results are filled by the calls and released with
 * bsp_anomaly_result_release; models returned belong to the caller
 * (bsp_fc_model_free); strings returned through `char **` are malloc'd.
 * The calls keep no global state; separate series may run in parallel.
 */
#ifndef BESPOKE_ANOMALY_H
#define BESPOKE_ANOMALY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "forecast.h"
#include "profile.h"
#include "store.h"
#include "time.h"

struct bsp_anomaly_options {
	/* The band is [q(1 - level), q(level)]; within (0.5, 0.99]. */
	double level;
	/* Flagged beyond median +- factor x (band edge - median); >= 1. */
	double factor;
	/* The half-band never counts as narrower than this share of the
	 * mean absolute value of the history: near-constant series do not
	 * flag changes that do not matter for sizing. */
	double min_rel;
	bsp_time block; /* forecast block, a multiple of the step */
	/* Flags in one direction on every block for this long (in whole
	 * blocks, at least two) are a change, not an anomaly. */
	bsp_time shift_after;
	/* History needed before the first point examined; 0 = two weeks
	 * (models look a week back: a week to look back on, a week to
	 * settle), or two of the model's periods when longer. */
	bsp_time warmup;
	/* Examine nothing before this time (0 or BSP_TIME_NONE: from the
	 * end of the warm-up). */
	bsp_time from;
};

/* Defaults: level 0.99, factor 1.5, min_rel 0.05, block 1 day,
 * shift_after 3 days, warmup automatic, from the warm-up's end. */
BSP_EXTERN void bsp_anomaly_options_init(struct bsp_anomaly_options *opt);

/* Per-point flags. */
enum bsp_anomaly_flag {
	BSP_ANOM_ABOVE = 1 << 0,
	BSP_ANOM_BELOW = 1 << 1,
	BSP_ANOM_SHIFT = 1 << 2, /* part of a change: kept in training */
};

/* One period: flagged steps in a row, in one direction. */
struct bsp_anomaly_period {
	bsp_time start, end; /* [start, end), whole steps */
	size_t first, last;  /* indices into the series, inclusive */
	size_t n_points;     /* flagged steps (gaps inside are not counted) */
	int direction;	     /* +1 above the band, -1 below */
	int shift;	     /* part of a change (see above) */
	bsp_time peak;	     /* the step furthest outside the band */
	double observed;     /* at the peak: the value, */
	double expected;     /* the median forecast, */
	double band_lo;	     /* the band's edges (after the min_rel floor), */
	double band_hi;
	double ratio;	 /* observed / the edge it crossed (NaN if 0), */
	double severity; /* and the distance outside / the band width
			    (NaN when the band has no width) */
	double mean_observed, mean_expected; /* over the period's points */
};

struct bsp_anomaly_result {
	size_t n;	       /* points of the series */
	unsigned char *flag;   /* n: enum bsp_anomaly_flag bits, 0 = normal */
	double *lo, *mid, *hi; /* n: band edges and median; NaN where the
				  point was not examined */
	size_t first;	       /* first point examined */
	size_t n_examined;     /* valid points examined */
	size_t n_flagged;      /* flagged points */
	size_t n_excluded;     /* flagged and not part of a change */
	size_t n_periods;
	struct bsp_anomaly_period *periods;
};

BSP_EXTERN void bsp_anomaly_result_release(struct bsp_anomaly_result *r);

/*
 * Flags the points of `s` from `s->t0 + warmup` (and opt->from) on, each
 * block forecast by `m` (which must have s's step) from the
 * cleaned history before it. `opt` NULL = the defaults. BSP_EINVAL for
 * options out of range; a series too short to examine gives an empty
 * result, not an error.
 */
BSP_EXTERN bsp_err bsp_anomaly_detect(const struct bsp_fc_series *s,
				      const struct bsp_fc_model *m,
				      const struct bsp_anomaly_options *opt,
				      struct bsp_anomaly_result *out,
				      struct bsp_error *err);

/*
 * The robust two-pass fit described above: *model (may be NULL) receives
 * a forecaster fitted on `s` without its excluded points, *out (may be
 * NULL) the flags of pass two. `fo` and `opt` may be NULL.
 */
BSP_EXTERN bsp_err bsp_anomaly_train(const struct bsp_fc_series *s,
				     const struct bsp_fc_options *fo,
				     const struct bsp_anomaly_options *opt,
				     struct bsp_fc_model **model,
				     struct bsp_anomaly_result *out,
				     struct bsp_error *err);

/* Sets y[i] to NaN for every excluded point of r (r->n values); returns
 * how many. */
BSP_EXTERN size_t bsp_anomaly_mask(const struct bsp_anomaly_result *r,
				   double *y);

/*
 * The entity's anomalies as JSON text (*json, format "bespoke-anomalies",
 * schema in docs/anomalies.md): each metric of popt (the profile's
 * defaults when none are named) at popt->step over [from, until)
 * (BSP_TIME_NONE: until = just after the last sample, from = until -
 * popt->history), with the warm-up read before `from`. The
 * entity's stored forecasters are used when they fit the step (unless
 * popt->refit), else bsp_anomaly_train fits one on the window. With
 * `store`, the document becomes the next version of kind "anomalies"
 * (*version, may be NULL; the text then carries "anomalies_version").
 */
BSP_EXTERN bsp_err bsp_anomaly_entity(struct bsp_store *st, const char *entity,
				      const struct bsp_profile_options *popt,
				      const struct bsp_anomaly_options *opt,
				      bsp_time from, bsp_time until, int store,
				      char **json, int64_t *version,
				      struct bsp_error *err);

#endif
