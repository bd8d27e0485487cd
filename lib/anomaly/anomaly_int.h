/*
 * Internals of the anomaly stage (prefix anom_) shared between its files:
 * detect.c (the block walk, periods), train.c (the two-pass robust fit),
 * report.c (an entity's anomalies as a stored JSON document).
 */
#ifndef BSP_ANOMALY_INT_H
#define BSP_ANOMALY_INT_H

#include "internal.h"
#include "bespoke/anomaly.h"

/* `in` (or the defaults when NULL) with zero fields defaulted, checked
 * against the step of the series it will run on. */
bsp_err anom_opts_fill(const struct bsp_anomaly_options *in, bsp_time step,
		       struct bsp_anomaly_options *o, struct bsp_error *err);

/* The warm-up the options leave automatic, for model m. */
bsp_time anom_auto_warmup(const struct bsp_fc_model *m);

/*
 * The block walk of bsp_anomaly_detect. With `robust`, the band is not
 * the model's p(1-level)..p(level) but its p10..p90 spread scaled to the
 * level as a normal distribution's would be: a few large residuals in
 * the training data widen a model's p99 until it covers them, while its
 * p90 barely moves (pass one of bsp_anomaly_train).
 */
bsp_err anom_detect(const struct bsp_fc_series *s, const struct bsp_fc_model *m,
		    const struct bsp_anomaly_options *opt, int robust,
		    struct bsp_anomaly_result *out, struct bsp_error *err);

#endif
