/*
 * bespoke: forecasts of one series, with calibrated quantiles.
 *
 * A forecaster works on a regular grid: y[i] is the value at t0 + i*step
 * (bsp_store_read_grid gives one), NaN where nothing was measured.
 *
 *     struct bsp_fc_series s = {y, n, t0, BSP_HOUR};
 *     struct bsp_fc_model *m;
 *     struct bsp_fc_output out;
 *
 *     bsp_fc_train(&s, NULL, &m, &err);              // choose and fit
 *     bsp_fc_predict(m, &s, 24, NULL, 0, &out, &err); // the next 24 steps
 *     ... out.point[h], bsp_fc_q(&out, l, h) ...
 *     bsp_fc_output_release(&out);
 *     bsp_fc_model_free(m);
 *
 * Training detects the series' periods (a daily and a weekly cycle when
 * they are there), fits every candidate model of the table (seasonal
 * naive, Holt-Winters, regression on lags and calendar, the VPA decaying
 * histogram, ...) and scores each by rolling-origin backtests on the
 * series' own history: nothing after the last point given is ever read.
 * The best candidates are combined, and the backtest errors calibrate the
 * quantiles (split conformal prediction, per horizon step, scaled by the
 * series' recent spread), so that the p95 forecast covers about 95% of
 * what comes. docs/forecasting.md has the method and its accuracy on real
 * traces.
 *
 * A fitted model keeps parameters, not state: bsp_fc_predict re-filters
 * its state over the history it is given, so the same model forecasts
 * from a later origin without refitting. Models are saved and loaded as
 * JSON text for storing and versioning.
 *
 * Ownership and threads: a model belongs to the caller of bsp_fc_train or
 * bsp_fc_model_load and is freed by bsp_fc_model_free; it is read-only
 * after training, so any number of threads may call bsp_fc_predict on it
 * at once. Outputs belong to the caller (bsp_fc_output_release). The
 * library keeps no global mutable state: train series in parallel freely.
 * Input arrays are only read, and only during the call.
 */
#ifndef BESPOKE_FORECAST_H
#define BESPOKE_FORECAST_H

#include <stddef.h>

#include "error.h"
#include "time.h"

/* A series on a regular grid; the caller owns y. */
struct bsp_fc_series {
	const double *y; /* n values; NaN = missing */
	size_t n;
	bsp_time t0;   /* time of y[0] (ms since the epoch, UTC) */
	bsp_time step; /* grid spacing (ms), > 0 */
};

/* Training needs at least this many non-missing points. */
#define BSP_FC_MIN_POINTS 16

enum bsp_fc_flags {
	/* Use the single best candidate instead of combining the best. */
	BSP_FC_SELECT_ONE = 1 << 0,
	/* Keep the backtest point forecasts' own centre instead of moving
	 * the point forecast onto the calibrated median. */
	BSP_FC_MEAN_POINT = 1 << 1,
};

struct bsp_fc_options {
	/* NULL or "auto": choose among all candidates. Otherwise the name
	 * of one model of the table (bsp_fc_model_name), which is then
	 * fitted and calibrated alone. */
	const char *model;
	/* Steps ahead that the backtests and the calibration cover; 0 =
	 * one day of steps (at least 1). Predicting further reuses the last
	 * step's calibration, widened with the square root of the horizon. */
	size_t horizon;
	/* Backtest origins (most recent first, one day apart); 0 = 14. */
	size_t origins;
	/* Use only the last max_history points; 0 = all. */
	size_t max_history;
	unsigned flags; /* enum bsp_fc_flags */
	/* With model NULL or "auto": choose among these models only (names
	 * of the table; those that cannot run on the data are passed over);
	 * n_candidates 0 = all. A refit that should keep an earlier choice
	 * costs a fraction of a full selection this way. */
	const char *const *candidates;
	size_t n_candidates;
};

/* Fills `opt` with the defaults (all zero: auto, one day, 14 origins). */
BSP_EXTERN void bsp_fc_options_init(struct bsp_fc_options *opt);

/* A fitted forecaster (opaque, read-only after training). */
struct bsp_fc_model;

/*
 * Chooses and fits a forecaster for `in` (opt may be NULL for the
 * defaults). BSP_EINVAL "not enough history: N points, need M" when `in`
 * has fewer than BSP_FC_MIN_POINTS non-missing values (after max_history),
 * and BSP_EINVAL for an unknown model name, a step <= 0 or values that
 * are infinite. On success *out is a new model.
 */
BSP_EXTERN bsp_err bsp_fc_train(const struct bsp_fc_series *in,
				const struct bsp_fc_options *opt,
				struct bsp_fc_model **out,
				struct bsp_error *err);

BSP_EXTERN void bsp_fc_model_free(struct bsp_fc_model *m);

/*
 * Quantile levels. Levels must lie within [BSP_FC_LEVEL_MIN,
 * BSP_FC_LEVEL_MAX]; passing levels = NULL asks for the defaults:
 * 0.05, 0.1, 0.5, 0.9, 0.95, 0.99.
 */
#define BSP_FC_LEVEL_MIN 0.01
#define BSP_FC_LEVEL_MAX 0.99
#define BSP_FC_N_DEFAULT_LEVELS 6

/* A forecast. All arrays are malloc'd and belong to the caller. */
struct bsp_fc_output {
	bsp_time t0;     /* time of point[0]: one step after the history */
	bsp_time step;
	size_t horizon;  /* steps */
	size_t n_levels;
	double *levels;  /* n_levels, as asked (or the defaults) */
	double *point;   /* horizon: the point forecast (an estimate of the
			    median, which minimises absolute error) */
	double *q;       /* n_levels * horizon: q[l * horizon + h] */
};

/* The forecast of level index l, step h. */
static inline double bsp_fc_q(const struct bsp_fc_output *o, size_t l,
			      size_t h)
{
	return o->q[l * o->horizon + h];
}

/*
 * Forecasts `horizon` steps after the last point of `history` (which must
 * have the model's step; it may end later than the training data did).
 * The model's parameters are reused; its state is re-filtered over
 * `history`. Values are never NaN; quantiles are non-decreasing in the
 * level; when the training data had no negative value, nothing is below
 * zero. BSP_EINVAL "not enough history" when `history` has fewer than
 * BSP_FC_MIN_POINTS non-missing values. On error *out is left empty.
 */
BSP_EXTERN bsp_err bsp_fc_predict(const struct bsp_fc_model *m,
				  const struct bsp_fc_series *history,
				  size_t horizon, const double *levels,
				  size_t n_levels, struct bsp_fc_output *out,
				  struct bsp_error *err);

BSP_EXTERN void bsp_fc_output_release(struct bsp_fc_output *out);

/*
 * Train and predict in one call (batch exports, backtests). `model_out`
 * (may be NULL) receives the fitted model, which the caller then frees.
 */
BSP_EXTERN bsp_err bsp_fc_forecast(const struct bsp_fc_series *in,
				   const struct bsp_fc_options *opt,
				   size_t horizon, const double *levels,
				   size_t n_levels, struct bsp_fc_output *out,
				   struct bsp_fc_model **model_out,
				   struct bsp_error *err);

/* ---- what a model is ------------------------------------------------ */

#define BSP_FC_MAX_PERIODS 2
#define BSP_FC_MAX_MEMBERS 8
#define BSP_FC_NAME_MAX 32

struct bsp_fc_member {
	char name[BSP_FC_NAME_MAX]; /* a model of the table */
	double weight;              /* in the combination; they sum to 1 */
	double mase;                /* its own backtest MASE */
	char params[160];           /* "alpha=0.12 gamma=0.05 ..." */
};

struct bsp_fc_info {
	char model[BSP_FC_NAME_MAX]; /* "ensemble" or the member's name */
	size_t n_members;
	struct bsp_fc_member members[BSP_FC_MAX_MEMBERS];
	/* Periods found in the training data, in steps (0 = none). */
	size_t n_periods;
	size_t periods[BSP_FC_MAX_PERIODS];
	/* Backtests of the final forecaster over the training history:
	 * mean MASE (MAE over the in-sample daily seasonal naive MAE),
	 * pinball loss at 0.95 scaled the same way, and the share of actual
	 * values at or below the p95 forecast. The calibration was made on
	 * the same backtests, so the coverage is an in-sample check. */
	double mase;
	double pinball95;
	double coverage95;
	size_t n_origins; /* backtest origins */
	size_t horizon;   /* steps backtested and calibrated */
	/* Training window [from, until) and its points. */
	bsp_time from, until, step;
	size_t n_train;
	int nonneg; /* forecasts are clamped at zero */
};

BSP_EXTERN void bsp_fc_model_info(const struct bsp_fc_model *m,
				  struct bsp_fc_info *info);

/* ---- saving ---------------------------------------------------------- */

/*
 * The model as one line of JSON text ({"format":"bespoke-forecast",
 * "version":1,...}), malloc'd into *json for the caller to free. Numbers
 * are written so that loading gives back the same doubles bit for bit.
 */
BSP_EXTERN bsp_err bsp_fc_model_save(const struct bsp_fc_model *m, char **json,
				     struct bsp_error *err);

/* Reads a model saved by bsp_fc_model_save; `len` bytes of `json` (no NUL
 * needed). BSP_ECORRUPT with the reason when it does not check out. */
BSP_EXTERN bsp_err bsp_fc_model_load(const char *json, size_t len,
				     struct bsp_fc_model **out,
				     struct bsp_error *err);

/* ---- the table of models --------------------------------------------- */

/* The i-th model's name and one-line description; NULL past the end. */
BSP_EXTERN const char *bsp_fc_model_name(size_t i);
BSP_EXTERN const char *bsp_fc_model_help(size_t i);

#endif
