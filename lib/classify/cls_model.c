/*
 * L2-regularised logistic regression for the workload class, fitted by
 * iteratively reweighted least squares: Newton's method on the penalised
 * log-likelihood, each step solving (X'WX + lambda*I) d = X'(y - p) -
 * lambda*beta by Cholesky (GSL). The intercept is not penalised (Hastie,
 * Tibshirani & Friedman, "The Elements of Statistical Learning", 4.4.1).
 *
 * The classes are weighted to count alike (each row by n / (2 n_class),
 * "balanced" weights): the labelled data are mostly delay-insensitive
 * (71% of Azure's sample), and an unweighted fit on features that
 * separate the classes only partly learns to answer the majority, which
 * scores no better than always saying it. Balanced, it is judged by and
 * fitted for balanced accuracy.
 *
 * Features are standardised first, so that one lambda treats them alike
 * and the Hessian stays well conditioned. A feature with a non-finite
 * value in any training row is left out (coefficient 0): vmtable rows have
 * no series, so the series-only features only enter a model trained on
 * series-derived rows.
 */
#include <math.h>
#include <stdio.h>

#include <gsl/gsl_linalg.h>
#include <jansson.h>

#include "internal.h"
#include "classify_int.h"

#define CLS_MAX_ITER 50
#define CLS_TOL 1e-9

static double cls_sigmoid(double z)
{
	return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

bsp_err bsp_cls_train(const struct bsp_cls_data *d, double lambda,
		      struct bsp_cls_model *m, struct bsp_error *err)
{
	size_t idx[BSP_CLS_NFEATURES], p = 0, npos = 0;
	gsl_matrix *H = NULL;
	gsl_vector *g = NULL, *step = NULL;
	double *z = NULL;
	bsp_err r = BSP_OK;

	memset(m, 0, sizeof(*m));
	m->lambda = lambda;
	for (size_t i = 0; i < d->n; i++)
		npos += d->y[i] != 0;
	if (d->n < 2 || npos == 0 || npos == d->n)
		return bsp_error_set(err, BSP_EINVAL,
				     "training needs both classes (%zu rows, "
				     "%zu interactive)",
				     d->n, npos);
	for (size_t j = 0; j < BSP_CLS_NFEATURES; j++) {
		double s = 0, ss = 0;
		int ok = 1;
		for (size_t i = 0; i < d->n && ok; i++) {
			double v = d->x[i * BSP_CLS_NFEATURES + j];
			ok = isfinite(v);
			s += v;
		}
		m->scale[j] = 1;
		if (!ok)
			continue;
		m->mean[j] = s / (double)d->n;
		for (size_t i = 0; i < d->n; i++) {
			double v = d->x[i * BSP_CLS_NFEATURES + j] - m->mean[j];
			ss += v * v;
		}
		double sd = sqrt(ss / (double)d->n);
		if (sd < 1e-12)
			continue; /* constant: carries no information */
		m->scale[j] = sd;
		m->used |= 1u << j;
		idx[p++] = j;
	}
	size_t q = p + 1; /* + intercept, last */
	H = gsl_matrix_alloc(q, q);
	g = gsl_vector_alloc(q);
	step = gsl_vector_alloc(q);
	z = malloc(d->n * q * sizeof(*z));
	if (!H || !g || !step || !z) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->n; i++) {
		for (size_t k = 0; k < p; k++)
			z[i * q + k] = (d->x[i * BSP_CLS_NFEATURES + idx[k]] -
					m->mean[idx[k]]) /
				       m->scale[idx[k]];
		z[i * q + p] = 1;
	}
	double beta[BSP_CLS_NFEATURES + 1] = {0};
	/* Balanced weights make the weighted base rate one half: the
	 * intercept-only optimum is 0, where beta starts. */
	double c_pos = (double)d->n / (2.0 * (double)npos);
	double c_neg = (double)d->n / (2.0 * (double)(d->n - npos));
	for (m->iterations = 1; m->iterations <= CLS_MAX_ITER;
	     m->iterations++) {
		gsl_matrix_set_zero(H);
		gsl_vector_set_zero(g);
		for (size_t i = 0; i < d->n; i++) {
			const double *zi = z + i * q;
			double eta = 0;
			for (size_t k = 0; k < q; k++)
				eta += zi[k] * beta[k];
			double pi = cls_sigmoid(eta);
			double c = d->y[i] ? c_pos : c_neg;
			double w = c * pi * (1 - pi) + 1e-12;
			double res = c * ((double)(d->y[i] != 0) - pi);
			for (size_t a = 0; a < q; a++) {
				*gsl_vector_ptr(g, a) += zi[a] * res;
				for (size_t b = 0; b <= a; b++)
					*gsl_matrix_ptr(H, a, b) +=
						w * zi[a] * zi[b];
			}
		}
		for (size_t a = 0; a < q; a++) {
			for (size_t b = 0; b < a; b++)
				gsl_matrix_set(H, b, a, gsl_matrix_get(H, a, b));
			if (a < p) {
				*gsl_matrix_ptr(H, a, a) += lambda;
				*gsl_vector_ptr(g, a) -= lambda * beta[a];
			}
		}
		gsl_set_error_handler_off();
		if (gsl_linalg_cholesky_decomp1(H) ||
		    gsl_linalg_cholesky_solve(H, g, step)) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "training: the system is singular");
			goto out;
		}
		double delta = 0;
		for (size_t k = 0; k < q; k++) {
			double s = gsl_vector_get(step, k);
			beta[k] += s;
			delta = fmax(delta, fabs(s));
		}
		if (delta < CLS_TOL)
			break;
	}
	for (size_t k = 0; k < p; k++)
		m->coef[idx[k]] = beta[k];
	m->intercept = beta[p];
	m->n_train = d->n;
	m->n_interactive = npos;
out:
	gsl_matrix_free(H);
	gsl_vector_free(g);
	gsl_vector_free(step);
	free(z);
	return r;
}

double bsp_cls_predict(const struct bsp_cls_model *m,
		       const struct bsp_cls_features *f)
{
	double eta = m->intercept;
	for (size_t j = 0; j < BSP_CLS_NFEATURES; j++) {
		if (!(m->used & (1u << j)) || !isfinite(f->x[j]))
			continue;
		eta += m->coef[j] * (f->x[j] - m->mean[j]) / m->scale[j];
	}
	return cls_sigmoid(eta);
}

/* ---- JSON ---------------------------------------------------------------- */

#define CLS_FORMAT "bespoke-classifier"
#define CLS_FORMAT_VERSION 1

bsp_err bsp_cls_model_to_json(const struct bsp_cls_model *m, const char *extra,
			      char **json, struct bsp_error *err)
{
	json_t *o = json_object(), *feat = json_array(), *tr = NULL;
	bsp_err r = BSP_OK;

	*json = NULL;
	if (!o || !feat)
		goto nomem;
	json_object_set_new(o, "format", json_string(CLS_FORMAT));
	json_object_set_new(o, "format_version",
			    json_integer(CLS_FORMAT_VERSION));
	json_object_set_new(o, "model", json_string("logistic-l2"));
	json_object_set_new(o, "classes",
			    json_pack("[ss]", "delay-insensitive",
				      "interactive"));
	json_object_set_new(o, "lambda", json_real(m->lambda));
	json_object_set_new(o, "intercept", json_real(m->intercept));
	json_object_set_new(o, "iterations", json_integer(m->iterations));
	json_object_set_new(o, "n_train", json_integer((json_int_t)m->n_train));
	json_object_set_new(o, "n_interactive",
			    json_integer((json_int_t)m->n_interactive));
	for (size_t j = 0; j < BSP_CLS_NFEATURES; j++) {
		if (!(m->used & (1u << j)))
			continue;
		json_array_append_new(feat,
				      json_pack("{s:s,s:f,s:f,s:f}", "name",
						bsp_cls_feature_name(j), "mean",
						m->mean[j], "scale",
						m->scale[j], "coef", m->coef[j]));
	}
	json_object_set_new(o, "features", feat);
	feat = NULL;
	if (extra) {
		json_error_t je;
		if (!(tr = json_loads(extra, 0, &je))) {
			r = bsp_error_set(err, BSP_EINTERNAL,
					  "classifier: bad training JSON: %s",
					  je.text);
			goto out;
		}
		json_object_set_new(o, "training", tr);
	}
	if (!(*json = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17))))
		goto nomem;
	goto out;
nomem:
	r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
out:
	json_decref(feat);
	json_decref(o);
	return r;
}

bsp_err bsp_cls_model_from_json(const char *json, struct bsp_cls_model *m,
				struct bsp_error *err)
{
	json_error_t je;
	json_t *o = json_loads(json, 0, &je), *feat, *f;
	const char *fmt = NULL;
	size_t i;
	bsp_err r = BSP_OK;

	memset(m, 0, sizeof(*m));
	for (size_t j = 0; j < BSP_CLS_NFEATURES; j++)
		m->scale[j] = 1;
	if (!o)
		return bsp_error_set(err, BSP_ECORRUPT,
				     "classifier: not JSON: %s", je.text);
	json_int_t ntr = 0, npos = 0, it = 0;
	if (json_unpack(o, "{s:s,s:F,s:F,s:o,s?I,s?I,s?I}", "format", &fmt,
			"lambda", &m->lambda, "intercept", &m->intercept,
			"features", &feat, "n_train", &ntr, "n_interactive",
			&npos, "iterations", &it) ||
	    strcmp(fmt, CLS_FORMAT) || !json_is_array(feat)) {
		r = bsp_error_set(err, BSP_ECORRUPT,
				  "classifier: not a %s document", CLS_FORMAT);
		goto out;
	}
	m->n_train = (size_t)ntr;
	m->n_interactive = (size_t)npos;
	m->iterations = (int)it;
	json_array_foreach(feat, i, f)
	{
		const char *name;
		double mean, scale, coef;
		size_t j;
		if (json_unpack(f, "{s:s,s:F,s:F,s:F}", "name", &name, "mean",
				&mean, "scale", &scale, "coef", &coef) ||
		    scale <= 0) {
			r = bsp_error_set(err, BSP_ECORRUPT,
					  "classifier: feature %zu is malformed",
					  i);
			goto out;
		}
		for (j = 0; j < BSP_CLS_NFEATURES; j++)
			if (!strcmp(name, bsp_cls_feature_name(j)))
				break;
		if (j == BSP_CLS_NFEATURES) {
			r = bsp_error_set(err, BSP_ECORRUPT,
					  "classifier: unknown feature '%s'",
					  name);
			goto out;
		}
		m->mean[j] = mean;
		m->scale[j] = scale;
		m->coef[j] = coef;
		m->used |= 1u << j;
	}
out:
	json_decref(o);
	return r;
}

bsp_err bsp_cls_model_load(struct bsp_store *st, int64_t version,
			   struct bsp_cls_model *out, int64_t *version_out,
			   struct bsp_error *err)
{
	struct bsp_doc doc = {0};
	bsp_err r = bsp_store_doc_get(st, "classifier", "global", version,
				      &doc, err);
	if (r != BSP_OK)
		return r;
	r = bsp_cls_model_from_json(doc.body, out, err);
	if (version_out)
		*version_out = doc.version;
	bsp_doc_release(&doc);
	return r;
}

bsp_err bsp_cls_model_save(struct bsp_store *st, const struct bsp_cls_model *m,
			   const char *extra, int64_t *version,
			   struct bsp_error *err)
{
	char *json = NULL;
	bsp_err r = bsp_cls_model_to_json(m, extra, &json, err);
	if (r == BSP_OK)
		r = bsp_store_doc_put(st, "classifier", "global", json, version,
				      err);
	free(json);
	return r;
}
