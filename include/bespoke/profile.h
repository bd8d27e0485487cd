/*
 * bespoke: the Behaviour Profile, what the prediction stage hands to
 * allocation and image personalisation.
 *
 * For each resource metric of an entity (CPU, memory, disk, network; see
 * bsp_profile_default_metrics) the profile holds the point and quantile
 * forecasts over a horizon, the expected daily peak and its hour, the
 * daily and weekly shapes, the chosen model with its backtest error and
 * training window. It is JSON (schema in docs/profile.md), stored in the
 * store as a versioned document of kind "profile", so that later stages and
 * feedback name the exact prediction they used.
 *
 * Training fits one forecaster per metric (include/bespoke/forecast.h) on
 * the entity's history at a step (default one hour, hourly means) and
 * stores them together as a document of kind "model".
 *
 * Ownership: strings returned through `char **` are malloc'd and belong to
 * the caller.
 */
#ifndef BESPOKE_PROFILE_H
#define BESPOKE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "time.h"

#define BSP_PROFILE_MAX_METRICS 16

struct bsp_persona_catalog;

struct bsp_profile_options {
	/* Metric names; n_metrics == 0 = the defaults the entity has. */
	const char *metrics[BSP_PROFILE_MAX_METRICS];
	size_t n_metrics;
	bsp_time step;        /* model and forecast step; 0 = 1 hour */
	bsp_time horizon;     /* forecast horizon; 0 = 24 hours */
	bsp_time history;     /* training window length; 0 = 8 weeks */
	/* The forecast starts here; history is everything before it.
	 * BSP_TIME_NONE = just after the entity's last sample (rounded up
	 * to the step). */
	bsp_time origin;
	/* Refit the models even when stored ones exist (predict only). */
	int refit;
	/* Forecaster options: model name (NULL = choose by backtest) and
	 * backtest origins (0 = the forecaster's default). */
	const char *model;
	size_t origins;
	/* The "behaviour" object (workload class, personas, applications):
	 * built unless no_behaviour; the persona part needs a catalog
	 * (NULL = left out). */
	int no_behaviour;
	const struct bsp_persona_catalog *personas;
	/* Training leaves out the points that anomaly detection flags
	 * (include/bespoke/anomaly.h, with its default options) so that a
	 * one-off spike does not inflate the forecast; set to keep them. */
	int keep_anomalies;
};

/* Fills the defaults. */
BSP_EXTERN void bsp_profile_options_init(struct bsp_profile_options *opt);

/* The metric names a profile covers by default, in preference order
 * (NULL-terminated). Only those an entity has are used. */
BSP_EXTERN const char *const *bsp_profile_default_metrics(void);

/*
 * Fits a forecaster for each metric of `entity` and stores them as the
 * next version of its "model" document (*version, may be NULL). A metric
 * without enough history is skipped and named in `skipped` (may be NULL,
 * a malloc'd comma list). BSP_EINVAL when no metric could be fitted.
 */
BSP_EXTERN bsp_err bsp_profile_train(struct bsp_store *st, const char *entity,
				     const struct bsp_profile_options *opt,
				     int64_t *version, char **skipped,
				     struct bsp_error *err);

/*
 * Builds the entity's Behaviour Profile as JSON text (*json) from its
 * stored models (fitting them first when there are none, when the stored
 * step differs, or with opt->refit) and the history before the origin.
 * When `store` is non-zero the profile is stored as the next "profile"
 * version and *version receives it (the JSON then carries it too).
 */
BSP_EXTERN bsp_err bsp_profile_build(struct bsp_store *st, const char *entity,
				     const struct bsp_profile_options *opt,
				     int store, char **json, int64_t *version,
				     struct bsp_error *err);

/*
 * The entity's series a profile covers: opt->metrics, or the defaults it
 * has. *out is malloc'd (bsp_series_free(*out, *n)). BSP_ENOTFOUND for a
 * named metric it lacks, BSP_EINVAL when it has none of the defaults.
 */
BSP_EXTERN bsp_err bsp_profile_series(struct bsp_store *st,
				      const char *entity,
				      const struct bsp_profile_options *opt,
				      struct bsp_series **out, size_t *n,
				      struct bsp_error *err);

/*
 * A series as the forecaster sees it: step means (opt->step) over the
 * training window (opt->history) that ends at `origin`, exclusive, with
 * leading gaps trimmed. Nothing at or after `origin` is read. *y is
 * malloc'd and backs out->y.
 */
struct bsp_fc_series;
BSP_EXTERN bsp_err bsp_profile_history(struct bsp_store *st,
				       const struct bsp_series *s,
				       bsp_time origin,
				       const struct bsp_profile_options *opt,
				       double **y, struct bsp_fc_series *out,
				       struct bsp_error *err);

/*
 * The entity's stored forecasters (its latest "model" document) if they
 * can be used for a forecast from `origin` (BSP_TIME_NONE: any): fitted at
 * opt->step on data that ended no later than the origin. NULL otherwise.
 */
struct bsp_profile_models;
struct bsp_fc_model;
BSP_EXTERN struct bsp_profile_models *
bsp_profile_models_load(struct bsp_store *st, const char *entity,
			const struct bsp_profile_options *opt,
			bsp_time origin);
/* A new fitted model for `metric` (the caller frees it), or NULL. */
BSP_EXTERN struct bsp_fc_model *
bsp_profile_models_get(const struct bsp_profile_models *pm,
		       const char *metric);
/* The stored version (0 for NULL). */
BSP_EXTERN int64_t
bsp_profile_models_version(const struct bsp_profile_models *pm);
BSP_EXTERN void bsp_profile_models_free(struct bsp_profile_models *pm);

/*
 * Feedback: the stored profile `version` (0 = the latest) against what was
 * observed from its origin until `until` (whole steps only). JSON in
 * *json (schema in docs/feedback.md): per metric the steps compared, MAE,
 * MASE (scaled by the daily seasonal-naive MAE of the week before the
 * origin), p95 coverage and whether it drifted; *drift (may be NULL) is
 * set when any metric did. With `store` it is kept as the next
 * "feedback" document of the entity.
 */
BSP_EXTERN bsp_err bsp_profile_feedback(struct bsp_store *st,
					const char *entity, int64_t version,
					bsp_time until, int store, char **json,
					int *drift, struct bsp_error *err);

/* ---- backtests ----------------------------------------------------------
 * Scores forecasts made at an origin against what came after it, as the
 * M-competitions do: MASE (mean absolute error over the in-sample daily
 * seasonal-naive MAE of the history before the origin), pinball loss at
 * p90/p95/p99 scaled the same way, and coverage (share of actual values
 * at or below each quantile). */

#define BSP_BT_LEVELS 3 /* 0.9, 0.95, 0.99 */

struct bsp_bt_acc {
	size_t forecasts;      /* series x origins scored */
	size_t skipped;        /* no history, no actuals, or a zero scale */
	double mase_sum;
	double pinball_sum[BSP_BT_LEVELS];
	size_t covered[BSP_BT_LEVELS];
	size_t points; /* actual values compared */
};

BSP_EXTERN extern const double bsp_bt_levels[BSP_BT_LEVELS];

/*
 * Trains on `series` before `origin` only (model NULL = bespoke's own
 * choice, else a model of the table), forecasts opt->horizon, and adds the
 * scores to `acc`. `chosen` (may be NULL, BSP_FC_NAME_MAX bytes) receives
 * the model that was used. Returns BSP_OK also when the forecast could not
 * be scored (counted in acc->skipped).
 */
BSP_EXTERN bsp_err bsp_backtest_one(struct bsp_store *st,
				    const struct bsp_series *series,
				    bsp_time origin,
				    const struct bsp_profile_options *opt,
				    const char *model, struct bsp_bt_acc *acc,
				    char *chosen, struct bsp_error *err);

/* Adds b into a. */
BSP_EXTERN void bsp_bt_acc_add(struct bsp_bt_acc *a,
			       const struct bsp_bt_acc *b);

/*
 * Runs fn(i, ud) for i in [0, n) on `threads` threads (0 = the number of
 * cores). fn must be thread-safe; it returns 0 or an error code that is
 * only counted. Returns the number of calls that failed.
 */
BSP_EXTERN size_t bsp_parallel_for(size_t n, unsigned threads,
				   int (*fn)(size_t i, void *ud), void *ud);

#endif
