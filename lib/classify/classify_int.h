/*
 * The classify stage's internals, shared by lib/classify/ only.
 */
#ifndef BSP_CLASSIFY_INT_H
#define BSP_CLASSIFY_INT_H

#include "bespoke/classify.h"

/* Fills the summary features from fractions of capacity; rest NaN. */
void cls_features_fill(double max, double avg, double p95,
		       struct bsp_cls_features *out);
/* Linear-interpolated quantile of the finite values (v is reordered). */
double cls_quantile(double *v, size_t n, double p);
/* Hour-of-day variance share and lag-24 autocorrelation of an hourly
 * series whose first value is at an hour boundary; NaN under 2 days. */
void cls_shape_features(const double *hourly, size_t n, double *diurnal,
			double *acf24);

#endif
