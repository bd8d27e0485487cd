/*
 * bespoke: workload class, interactive or delay-insensitive (batch).
 *
 * Resource Central (Cortez et al., SOSP 2017) showed that a VM's class is
 * visible in its CPU summaries: interactive VMs idle most of the time and
 * peak rarely, batch VMs run near their peak for long stretches. The
 * features here are those summaries (max, mean, p95 of interval maxima, in
 * % of capacity) and their ratios, computable both from Azure's vmtable
 * rows and from any stored CPU series; series add two shape features of
 * their own (diurnal amplitude and the 24 h autocorrelation).
 *
 * The model is an L2-regularised logistic regression on standardised
 * features, fitted by iteratively reweighted least squares (Newton's
 * method). It is JSON, stored as the versioned document ("classifier",
 * "global").
 *
 * Ownership: arrays and strings returned through `**` parameters are
 * malloc'd and belong to the caller; the *_release helpers free the
 * contents of a struct, not the struct.
 */
#ifndef BESPOKE_CLASSIFY_H
#define BESPOKE_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Features in model order. The first BSP_CLS_SUMMARY_FEATURES come from
 * CPU summaries alone; the rest only from a series (NaN otherwise). */
enum bsp_cls_feature {
	BSP_CLS_F_MAX,       /* max CPU, fraction of capacity */
	BSP_CLS_F_AVG,       /* mean CPU, fraction */
	BSP_CLS_F_P95,       /* p95 of interval maxima, fraction */
	BSP_CLS_F_AVG_MAX,   /* avg / max */
	BSP_CLS_F_P95_MAX,   /* p95 / max */
	BSP_CLS_F_AVG_P95,   /* avg / p95 */
	BSP_CLS_F_LOG_PEAK,  /* log(max / avg): peak-to-mean */
	BSP_CLS_F_DIURNAL,   /* share of variance explained by hour of day */
	BSP_CLS_F_ACF24,     /* autocorrelation of hourly means at 24 h */
	BSP_CLS_NFEATURES
};
#define BSP_CLS_SUMMARY_FEATURES 7

/* "max", "avg", ..., NULL past the end. */
BSP_EXTERN const char *bsp_cls_feature_name(size_t i);

struct bsp_cls_features {
	double x[BSP_CLS_NFEATURES]; /* NaN = not available */
	const char *source; /* "summary" or the series' metric (static) */
};

/* From CPU summaries in % (0..100): fills the summary features, the rest
 * NaN. BSP_EINVAL for negative or non-finite input. */
BSP_EXTERN bsp_err bsp_cls_features_summary(double max_pct, double avg_pct,
					    double p95_pct,
					    struct bsp_cls_features *out,
					    struct bsp_error *err);

/*
 * Of a stored entity: from its max_cpu/avg_cpu/p95_max_cpu attributes when
 * it has them (Azure vmtable rows), else from its CPU series (cpu_usage_pct,
 * cpu_util_pct, cpu_avg, or cpu_usage normalised by provisioned_cores).
 * BSP_ENOTFOUND for an unknown entity, BSP_EINVAL when it has neither.
 */
BSP_EXTERN bsp_err bsp_cls_features_entity(struct bsp_store *st,
					   const char *entity,
					   struct bsp_cls_features *out,
					   struct bsp_error *err);
/* The same from CPU samples before `before` only (BSP_TIME_NONE: all). */
BSP_EXTERN bsp_err bsp_cls_features_entity_before(struct bsp_store *st,
						  const char *entity,
						  bsp_time before,
						  struct bsp_cls_features *out,
						  struct bsp_error *err);

/* A labelled data set: n rows of BSP_CLS_NFEATURES, y = 1 interactive. */
struct bsp_cls_data {
	size_t n;
	double *x; /* n * BSP_CLS_NFEATURES, row-major */
	int *y;
};
BSP_EXTERN void bsp_cls_data_release(struct bsp_cls_data *d);

/*
 * Reads a vmtable-format CSV (Azure Public Dataset V1 columns, with or
 * without its header): max_cpu, avg_cpu, p95_max_cpu and vm_category per
 * row; rows of category Unknown are skipped. `skipped` (may be NULL)
 * receives their number. Errors name file:line.
 */
BSP_EXTERN bsp_err bsp_cls_load_vmtable(const char *path,
					struct bsp_cls_data *out,
					size_t *skipped,
					struct bsp_error *err);

/* Binary classification metrics, positive class = interactive (1). */
struct bsp_cls_metrics {
	size_t n;
	size_t tp, tn, fp, fn;
	double accuracy;
	double balanced_accuracy; /* mean of the two classes' recalls */
	double macro_f1;          /* mean of the two classes' F1 */
};
BSP_EXTERN void bsp_cls_metrics_compute(const int *y, const int *yhat,
					size_t n, struct bsp_cls_metrics *out);

/* The fitted model. Coefficients are for standardised features. */
struct bsp_cls_model {
	double lambda;                   /* L2 penalty (not on the intercept) */
	double mean[BSP_CLS_NFEATURES];  /* standardisation */
	double scale[BSP_CLS_NFEATURES];
	double coef[BSP_CLS_NFEATURES];  /* 0 for features it was not given */
	double intercept;
	unsigned used;                   /* bit i: feature i was fitted */
	size_t n_train, n_interactive;
	int iterations;
};

/* The default penalty (on standardised features). */
#define BSP_CLS_LAMBDA 1.0

/*
 * Fits the model on `d` with penalty `lambda`, using the features whose
 * values are all finite in `d`. BSP_EINVAL when d has fewer than two rows
 * or only one class.
 */
BSP_EXTERN bsp_err bsp_cls_train(const struct bsp_cls_data *d, double lambda,
				 struct bsp_cls_model *out,
				 struct bsp_error *err);

/* P(interactive | f). Features the model uses but f lacks count as the
 * training mean (a neutral value). */
BSP_EXTERN double bsp_cls_predict(const struct bsp_cls_model *m,
				  const struct bsp_cls_features *f);

/*
 * Stratified k-fold cross-validation, seeded: each class is shuffled and
 * dealt round-robin into k folds. `model` gets the pooled out-of-fold
 * metrics of the logistic model, `baseline` those of always predicting the
 * training folds' majority class.
 */
BSP_EXTERN bsp_err bsp_cls_cross_validate(const struct bsp_cls_data *d,
					  size_t k, uint64_t seed,
					  double lambda,
					  struct bsp_cls_metrics *model,
					  struct bsp_cls_metrics *baseline,
					  struct bsp_error *err);

/* JSON text of a model (*json malloc'd), and back. `extra` (may be NULL)
 * is a JSON object text merged in as "training". */
BSP_EXTERN bsp_err bsp_cls_model_to_json(const struct bsp_cls_model *m,
					 const char *extra, char **json,
					 struct bsp_error *err);
BSP_EXTERN bsp_err bsp_cls_model_from_json(const char *json,
					   struct bsp_cls_model *out,
					   struct bsp_error *err);

/* The stored model (version 0 = latest); *version receives its version.
 * BSP_ENOTFOUND when none is stored. */
BSP_EXTERN bsp_err bsp_cls_model_load(struct bsp_store *st, int64_t version,
				      struct bsp_cls_model *out,
				      int64_t *version_out,
				      struct bsp_error *err);
BSP_EXTERN bsp_err bsp_cls_model_save(struct bsp_store *st,
				      const struct bsp_cls_model *m,
				      const char *extra, int64_t *version,
				      struct bsp_error *err);

#endif
