/*
 * Scoring the workload classifier: accuracy, balanced accuracy (the mean
 * of the per-class recalls, Brodersen et al., ICPR 2010) and macro F1 (the
 * unweighted mean of the per-class F1 scores), and stratified k-fold
 * cross-validation against the majority-class baseline.
 *
 * Folds are pooled: every row is predicted once by the model that did not
 * see it, and the metrics are computed over all of those predictions
 * (Forman & Scholz, "Apples-to-apples in cross-validation studies",
 * SIGKDD Explorations 2010, recommend pooling for F-measures). The
 * shuffle is a local splitmix64 stream, so a seed gives the same folds
 * on every machine.
 */
#include <math.h>

#include "internal.h"
#include "classify_int.h"

static double cls_div(double a, double b)
{
	return b > 0 ? a / b : 0;
}

void bsp_cls_metrics_compute(const int *y, const int *yhat, size_t n,
			     struct bsp_cls_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		int t = y[i] != 0, p = yhat[i] != 0;
		m->tp += t && p;
		m->tn += !t && !p;
		m->fp += !t && p;
		m->fn += t && !p;
	}
	double tp = (double)m->tp, tn = (double)m->tn, fp = (double)m->fp,
	       fn = (double)m->fn;
	m->accuracy = cls_div(tp + tn, (double)n);
	double rec1 = cls_div(tp, tp + fn), rec0 = cls_div(tn, tn + fp);
	m->balanced_accuracy = (rec1 + rec0) / 2;
	/* F1 = 2TP / (2TP + FP + FN), per class; 0 when undefined. */
	double f1_1 = cls_div(2 * tp, 2 * tp + fp + fn);
	double f1_0 = cls_div(2 * tn, 2 * tn + fn + fp);
	m->macro_f1 = (f1_1 + f1_0) / 2;
}

static uint64_t cls_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bsp_err bsp_cls_cross_validate(const struct bsp_cls_data *d, size_t k,
			       uint64_t seed, double lambda,
			       struct bsp_cls_metrics *model,
			       struct bsp_cls_metrics *baseline,
			       struct bsp_error *err)
{
	size_t *fold = NULL, *order = NULL;
	int *pm = NULL, *pb = NULL, *ytr = NULL;
	double *xtr = NULL;
	uint64_t rng = seed;
	bsp_err r = BSP_OK;

	if (k < 2 || d->n < k)
		return bsp_error_set(err, BSP_EINVAL,
				     "cross-validation: %zu rows cannot make "
				     "%zu folds",
				     d->n, k);
	fold = malloc(d->n * sizeof(*fold));
	order = malloc(d->n * sizeof(*order));
	pm = malloc(d->n * sizeof(*pm));
	pb = malloc(d->n * sizeof(*pb));
	ytr = malloc(d->n * sizeof(*ytr));
	xtr = malloc(d->n * BSP_CLS_NFEATURES * sizeof(*xtr));
	if (!fold || !order || !pm || !pb || !ytr || !xtr) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	/* Stratify: shuffle each class (Fisher-Yates), deal round-robin,
	 * the second class continuing where the first stopped so that fold
	 * sizes differ by at most one. */
	size_t next = 0;
	for (int cls = 0; cls <= 1; cls++) {
		size_t m = 0;
		for (size_t i = 0; i < d->n; i++)
			if ((d->y[i] != 0) == cls)
				order[m++] = i;
		for (size_t i = m; i > 1; i--) {
			size_t j = (size_t)(cls_splitmix(&rng) % i);
			size_t t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t i = 0; i < m; i++)
			fold[order[i]] = next++ % k;
	}
	for (size_t f = 0; f < k; f++) {
		struct bsp_cls_data tr = {.x = xtr, .y = ytr};
		struct bsp_cls_model mdl;
		size_t npos = 0;
		for (size_t i = 0; i < d->n; i++) {
			if (fold[i] == f)
				continue;
			memcpy(xtr + tr.n * BSP_CLS_NFEATURES,
			       d->x + i * BSP_CLS_NFEATURES,
			       BSP_CLS_NFEATURES * sizeof(*xtr));
			npos += d->y[i] != 0;
			ytr[tr.n++] = d->y[i];
		}
		int majority = 2 * npos > tr.n;
		int trained = bsp_cls_train(&tr, lambda, &mdl, NULL) == BSP_OK;
		for (size_t i = 0; i < d->n; i++) {
			if (fold[i] != f)
				continue;
			struct bsp_cls_features ft;
			memcpy(ft.x, d->x + i * BSP_CLS_NFEATURES,
			       sizeof(ft.x));
			pb[i] = majority;
			/* A fold with one class predicts that class. */
			pm[i] = trained ? bsp_cls_predict(&mdl, &ft) >= 0.5
					: majority;
		}
	}
	bsp_cls_metrics_compute(d->y, pm, d->n, model);
	bsp_cls_metrics_compute(d->y, pb, d->n, baseline);
out:
	free(fold);
	free(order);
	free(pm);
	free(pb);
	free(ytr);
	free(xtr);
	return r;
}
