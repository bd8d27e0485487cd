/*
 * Workload classifier: metrics against hand-computed values, a separable
 * data set learned exactly, cross-validation and its majority baseline on
 * a hand example, the vmtable reader's errors, the model's JSON.
 */
#include <math.h>

#include "testutil.h"

#include "bespoke/classify.h"

static void test_metrics_hand(void **state)
{
	/* tp 2, fn 1, tn 3, fp 2 */
	int y[] = {1, 1, 1, 0, 0, 0, 0, 0};
	int p[] = {1, 1, 0, 0, 0, 0, 1, 1};
	struct bsp_cls_metrics m;
	(void)state;
	bsp_cls_metrics_compute(y, p, 8, &m);
	assert_int_equal(m.tp, 2);
	assert_int_equal(m.fn, 1);
	assert_int_equal(m.tn, 3);
	assert_int_equal(m.fp, 2);
	assert_true(fabs(m.accuracy - 5.0 / 8) < 1e-12);
	assert_true(fabs(m.balanced_accuracy - (2.0 / 3 + 3.0 / 5) / 2) <
		    1e-12);
	/* F1 = 2TP/(2TP+FP+FN): 4/7 for interactive, 6/9 for batch */
	assert_true(fabs(m.macro_f1 - (4.0 / 7 + 6.0 / 9) / 2) < 1e-12);
}

static void test_metrics_degenerate(void **state)
{
	int y[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
	int p[10] = {0};
	struct bsp_cls_metrics m;
	(void)state;
	bsp_cls_metrics_compute(y, p, 10, &m);
	assert_true(fabs(m.accuracy - 0.7) < 1e-12);
	assert_true(fabs(m.balanced_accuracy - 0.5) < 1e-12);
	/* interactive F1 is 0 (never predicted); batch 14/17 */
	assert_true(fabs(m.macro_f1 - 7.0 / 17) < 1e-12);
}

/* Interactive rows idle with rare peaks, batch rows near their peak. */
static void make_separable(struct bsp_cls_data *d, size_t n)
{
	d->n = n;
	d->x = calloc(n * BSP_CLS_NFEATURES, sizeof(double));
	d->y = calloc(n, sizeof(int));
	assert_non_null(d->x);
	assert_non_null(d->y);
	for (size_t i = 0; i < n; i++) {
		struct bsp_cls_features f;
		int inter = i % 3 == 0;
		double j = (double)(i % 7) / 7;
		double mx = 60 + 30 * j;
		double avg = inter ? 3 + 4 * j : 40 + 15 * j;
		double p95 = inter ? 20 + 10 * j : mx - 5;
		assert_int_equal(bsp_cls_features_summary(mx, avg, p95, &f,
							  NULL),
				 BSP_OK);
		memcpy(d->x + i * BSP_CLS_NFEATURES, f.x, sizeof(f.x));
		d->y[i] = inter;
	}
}

static void test_separable(void **state)
{
	struct bsp_cls_data d;
	struct bsp_cls_model m;
	struct bsp_cls_metrics mm, mb;
	(void)state;
	make_separable(&d, 60);
	assert_int_equal(bsp_cls_train(&d, 0.1, &m, NULL), BSP_OK);
	assert_int_equal(m.n_interactive, 20);
	for (size_t i = 0; i < d.n; i++) {
		struct bsp_cls_features f;
		memcpy(f.x, d.x + i * BSP_CLS_NFEATURES, sizeof(f.x));
		double p = bsp_cls_predict(&m, &f);
		assert_true(d.y[i] ? p > 0.9 : p < 0.1);
	}
	assert_int_equal(bsp_cls_cross_validate(&d, 5, 1, 0.1, &mm, &mb, NULL),
			 BSP_OK);
	assert_true(mm.accuracy == 1.0);
	assert_true(mm.macro_f1 == 1.0);
	/* the baseline always says batch: 40 of 60 */
	assert_true(fabs(mb.accuracy - 40.0 / 60) < 1e-12);
	assert_true(fabs(mb.balanced_accuracy - 0.5) < 1e-12);
	/* CV is seeded: the same seed, the same result */
	struct bsp_cls_metrics m2, b2;
	assert_int_equal(bsp_cls_cross_validate(&d, 5, 1, 0.1, &m2, &b2, NULL),
			 BSP_OK);
	assert_int_equal(m2.tp, mm.tp);
	bsp_cls_data_release(&d);
}

static void test_one_class_refused(void **state)
{
	struct bsp_cls_data d;
	struct bsp_cls_model m;
	struct bsp_error err = {0};
	(void)state;
	make_separable(&d, 9);
	for (size_t i = 0; i < d.n; i++)
		d.y[i] = 0;
	assert_int_equal(bsp_cls_train(&d, 1, &m, &err), BSP_EINVAL);
	assert_non_null(strstr(err.msg, "both classes"));
	bsp_cls_data_release(&d);
}

static void test_json_roundtrip(void **state)
{
	struct bsp_cls_data d;
	struct bsp_cls_model m, back;
	char *json = NULL;
	(void)state;
	make_separable(&d, 30);
	assert_int_equal(bsp_cls_train(&d, 1, &m, NULL), BSP_OK);
	assert_int_equal(bsp_cls_model_to_json(&m, "{\"file\":\"x\"}", &json,
					       NULL),
			 BSP_OK);
	assert_int_equal(bsp_cls_model_from_json(json, &back, NULL), BSP_OK);
	assert_int_equal(back.used, m.used);
	for (size_t i = 0; i < d.n; i++) {
		struct bsp_cls_features f;
		memcpy(f.x, d.x + i * BSP_CLS_NFEATURES, sizeof(f.x));
		assert_true(fabs(bsp_cls_predict(&m, &f) -
				 bsp_cls_predict(&back, &f)) < 1e-12);
	}
	assert_int_equal(bsp_cls_model_from_json("{\"format\":\"x\"}", &back,
						 NULL),
			 BSP_ECORRUPT);
	free(json);
	bsp_cls_data_release(&d);
}

static void test_vmtable(void **state)
{
	static const char good[] =
		"vm_id,subscription_id,deployment_id,timestamp_vm_created,"
		"timestamp_vm_deleted,max_cpu,avg_cpu,p95_max_cpu,vm_category,"
		"vm_virtual_core_count_bucket,vm_memory_gb_bucket,duration\n"
		"a,s,d,0,300,90,5,30,Interactive,2,4,300\n"
		"b,s,d,0,300,95,60,90,Delay-insensitive,2,4,300\n"
		"c,s,d,0,300,10,1,5,Unknown,2,4,300\n";
	static const char bad[] = "a,s,d,0,300,90,5,30,Interactive,2,4,300\n"
				  "b,s,d,0,300,ninety,60,90,Interactive,2,4,"
				  "300\n";
	char p1[256], p2[256];
	struct bsp_cls_data d;
	struct bsp_error err = {0};
	size_t skipped = 0;
	(void)state;
	test_path(p1, sizeof(p1), "good.csv");
	test_path(p2, sizeof(p2), "bad.csv");
	assert_int_equal(test_write_file(p1, good, sizeof(good) - 1), 0);
	assert_int_equal(test_write_file(p2, bad, sizeof(bad) - 1), 0);
	assert_int_equal(bsp_cls_load_vmtable(p1, &d, &skipped, &err), BSP_OK);
	assert_int_equal(d.n, 2);
	assert_int_equal(skipped, 1);
	assert_int_equal(d.y[0], 1);
	assert_int_equal(d.y[1], 0);
	assert_true(fabs(d.x[BSP_CLS_F_AVG_MAX] - 5.0 / 90) < 1e-12);
	bsp_cls_data_release(&d);
	assert_int_equal(bsp_cls_load_vmtable(p2, &d, NULL, &err), BSP_EINVAL);
	assert_non_null(strstr(err.msg, "bad.csv:2:"));
	assert_int_equal(bsp_cls_load_vmtable("/nonexistent.csv", &d, NULL,
					      &err),
			 BSP_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_hand),
		cmocka_unit_test(test_metrics_degenerate),
		cmocka_unit_test(test_separable),
		cmocka_unit_test(test_one_class_refused),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_vmtable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
