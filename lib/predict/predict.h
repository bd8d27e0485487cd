/*
 * The forecasting core's internal interface (prefix fc_): the prepared
 * series every model reads, the table of models, the calibration, the
 * fitted model behind the opaque struct bsp_fc_model, and the small
 * numeric helpers the models share.
 *
 * To add a model: write lib/predict/fc_NAME.c with a
 * `const struct fc_kind fc_kind_NAME` (fit, forecast, check, describe) and
 * add it to fc_kinds[] in fc_models.c. Training backtests it beside the
 * others and saving/loading handles its parameters (a vector of doubles)
 * with no further change.
 */
#ifndef BSP_FC_PREDICT_H
#define BSP_FC_PREDICT_H

#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "bespoke/forecast.h"

/* ---- the prepared series ---------------------------------------------- */

/*
 * What models read. `y` is the caller's grid after leading missing
 * values were cut (y[0] is valid); `f` is a gap-filled copy in which each
 * missing value is taken from the same phase one primary period earlier,
 * else the previous value, so f[i] depends on y[0..i] only: forecasting
 * from origin n (history y[0..n)) never sees later points.
 */
struct fc_data {
	const double *y; /* n values, NaN = missing, y[0] valid */
	double *f;       /* n values, no NaN (owned) */
	size_t n;
	size_t n_valid;
	bsp_time t0, step;
	size_t day;    /* steps per UTC day; 0 unless step divides a day */
	size_t week;   /* steps per week; 0 likewise */
	int64_t i0;    /* floor(t0 / step): y[i] is grid step i0 + i */
	/* Detected periods in steps, shortest first; 0 = none. */
	size_t period[BSP_FC_MAX_PERIODS];
	size_t horizon; /* steps the model is trained for */
	int nonneg;     /* no negative value in the training data */
};

/* Prepares `d` from a caller's series: cuts leading NaN, fills `f`.
 * The periods are set by the caller (detected, or the model's). */
bsp_err fc_data_init(struct fc_data *d, const struct bsp_fc_series *s,
		     size_t max_history, struct bsp_error *err);
void fc_data_release(struct fc_data *d);
/* (Re)builds the gap-filled copy after the periods changed. */
void fc_data_fill(struct fc_data *d);

/* Phase of point i within a period of p steps, counted from the epoch:
 * for p = d->day it is the step of the UTC day, for p = d->week the step
 * of the week (which starts on Thursday 00:00 UTC, as the epoch did). */
static inline size_t fc_phase(const struct fc_data *d, size_t i, size_t p)
{
	int64_t r;

	if (!p)
		return 0;
	r = (d->i0 + (int64_t)i) % (int64_t)p;
	return (size_t)(r < 0 ? r + (int64_t)p : r);
}

/* ---- models ------------------------------------------------------------- */

#define FC_MAX_PARAMS 400

/* One fitted model: its kind, the seasonal periods it uses, and its
 * parameters as a vector of doubles (layout private to the kind). */
struct fc_fit {
	const struct fc_kind *kind;
	size_t season[BSP_FC_MAX_PERIODS]; /* steps; 0 = unused */
	size_t np;
	double p[FC_MAX_PARAMS];
};

enum fc_kind_flags {
	FC_BASELINE = 1 << 0, /* only when asked by name, never in "auto" */
};

struct fc_kind {
	const char *name;
	const char *help;
	unsigned flags;
	/* Points of history it needs before an origin (0: it cannot run on
	 * this series, e.g. a daily model on a step that divides no day). */
	size_t (*min_points)(const struct fc_data *d);
	/* Fits on the history y[0..n) of d. `warm` (may be NULL) is an
	 * earlier fit of the same kind on a shorter history, to start from. */
	bsp_err (*fit)(const struct fc_data *d, size_t n,
		       const struct fc_fit *warm, struct fc_fit *fit);
	/* Point forecasts out[0..h) from origin n: reads y, f [0..n) only. */
	bsp_err (*forecast)(const struct fc_fit *fit, const struct fc_data *d,
			    size_t n, size_t h, double *out);
	/* Checks a loaded parameter vector: 0 if usable. */
	int (*check)(const struct fc_fit *fit);
	/* A one-line summary of the parameters. */
	void (*describe)(const struct fc_fit *fit, char *buf, size_t size);
};

extern const struct fc_kind *const fc_kinds[];
extern const size_t fc_n_kinds;
const struct fc_kind *fc_kind_find(const char *name);

extern const struct fc_kind fc_kind_snaive_day, fc_kind_snaive_week,
	fc_kind_naive, fc_kind_smedian, fc_kind_smedian3, fc_kind_smedian14, fc_kind_ets, fc_kind_ets_damped, fc_kind_regress,
	fc_kind_vpa;

/*
 * The VPA decaying-histogram percentile of the valid y[0..n) (step ms
 * apart, y[n-1] the newest): weights halve every half_life ms of age,
 * buckets start at first * (1.05^i - 1) / 0.05. NaN if nothing is valid.
 */
double fc_vpa_percentile(const double *y, size_t n, bsp_time step,
			 double half_life, double first, double pct);

/* ---- periods ------------------------------------------------------------ */

/* Detects the periods of f[n - m .. n) (m chosen inside): a daily and a
 * weekly cycle, or another strong period; fills d->period. */
bsp_err fc_period_detect(struct fc_data *d);

/* ---- calibration (split conformal) ---------------------------------- */

/* The fixed grid of levels the calibration stores; predictions at other
 * levels interpolate between neighbours. */
#define FC_NQ 15
extern const double fc_qgrid[FC_NQ];
#define FC_MAX_ROWS 48

struct fc_calib {
	size_t horizon;             /* steps calibrated */
	size_t n_rows;              /* rows of the table */
	size_t lo[FC_MAX_ROWS + 1]; /* row r covers steps [lo[r], lo[r+1]) */
	/* q[r][j]: quantile fc_qgrid[j] of actual - point. */
	double q[FC_MAX_ROWS][FC_NQ];
	size_t n_scores; /* residuals it was computed from */
};

/*
 * Builds `c` from backtest errors: err[o * h + j] = actual - point at
 * origin o (of k), step j (NaN when the actual was missing). With `tune`,
 * the spread on each side of the median is fitted by leaving days out
 * (only the median matters without it, and it is cheaper).
 */
void fc_calib_build(struct fc_calib *c, const double *err, size_t k,
		    size_t h, int tune);

/* The calibrated error quantile at `level` for step j (any j). */
double fc_calib_quantile(const struct fc_calib *c, double level, size_t j);

/* ---- the fitted forecaster --------------------------------------------- */

struct fc_member {
	struct fc_fit fit;
	double weight;
	double mase;
};

struct bsp_fc_model {
	bsp_time step;
	size_t period[BSP_FC_MAX_PERIODS];
	size_t horizon;
	int nonneg;
	int mean_point;
	size_t max_history;
	size_t n_members;
	struct fc_member members[BSP_FC_MAX_MEMBERS];
	struct fc_calib calib;
	/* what training saw, for bsp_fc_model_info */
	bsp_time from, until;
	size_t n_train;
	size_t n_origins;
	double mase, pinball95, coverage95;
};

/* Point forecasts of the model's weighted members from origin n. */
bsp_err fc_model_point(const struct bsp_fc_model *m, const struct fc_data *d,
		       size_t n, size_t h, double *out);

/* Chooses, fits and calibrates (the body of bsp_fc_train). */
bsp_err fc_select_train(struct bsp_fc_model *m, struct fc_data *d,
			const struct bsp_fc_options *opt,
			struct bsp_error *err);

/* ---- numeric helpers ------------------------------------------------- */

/* Sorts x[0..n) ascending (NaN-free). */
void fc_sort(double *x, size_t n);
/* Quantile p (type 7: linear between order statistics) of sorted
 * x[0..n); 0 for n == 0. */
double fc_quantile_sorted(const double *x, size_t n, double p);
/* Median of the non-NaN values among x[0..n), using tmp (n doubles). */
double fc_median_nan(const double *x, size_t n, double *tmp);
/* Mean absolute seasonal difference |y[t] - y[t-lag]| over valid pairs
 * of y[0..n) (the MASE scale); 0 if there is none. */
double fc_mase_scale(const double *y, size_t n, size_t lag);

static inline int fc_finite(double x)
{
	return isfinite(x);
}

#endif
