/*
 * Unit tests for the applications stage (lib/apps/): known answers on
 * constructed sequences for the next-application model (a fixed
 * successor, back-off to the population, hour of day), the coming hour
 * and day, the history evaluation with its baselines, item-item
 * recommendations with their reasons, and recall on a hand example.
 */
#include "testutil.h"

#include <math.h>

#include "bespoke/apps.h"

#define DAY0 ((bsp_time)1767571200000) /* 2026-01-05T00:00:00Z */

static size_t user(struct bsp_apps *m, const char *name)
{
	size_t u = 0;
	assert_int_equal(bsp_apps_user(m, name, &u, NULL), BSP_OK);
	return u;
}

static void feed(struct bsp_apps *m, size_t u, const char *const *seq,
		 size_t n, size_t times, unsigned learn)
{
	for (size_t t = 0; t < times; t++)
		for (size_t i = 0; i < n; i++)
			assert_int_equal(bsp_apps_observe(m, u, seq[i],
							  BSP_TIME_NONE, learn,
							  NULL),
					 BSP_OK);
}

/* A user who always runs make after vi gets make first after vi. */
static void test_vi_make(void **state)
{
	static const char *const seq[] = {"ls", "vi", "make", "cd", "vi",
					  "make", "ls", "cat"};
	const unsigned both = BSP_APPS_LEARN_USER | BSP_APPS_LEARN_POPULATION;
	struct bsp_apps *m;
	struct bsp_apps_pred p[3];
	size_t n, u;
	double sum = 0;

	(void)state;
	assert_int_equal(bsp_apps_new(&m, NULL, NULL), BSP_OK);
	u = user(m, "alice");
	feed(m, u, seq, sizeof(seq) / sizeof(seq[0]), 20, both);
	feed(m, u, (const char *const[]){"ls", "vi"}, 2, 1, both);
	assert_int_equal(bsp_apps_predict(m, u, BSP_TIME_NONE, 3, p, &n, NULL),
			 BSP_OK);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].app, "make");
	assert_true(p[0].p > 0.8);
	assert_true(p[0].p >= p[1].p && p[1].p >= p[2].p);
	/* The distribution sums to one over every name. */
	struct bsp_apps_pred all[5];
	assert_int_equal(bsp_apps_predict(m, u, BSP_TIME_NONE, 5, all, &n,
					  NULL), BSP_OK);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		sum += all[i].p;
	assert_true(fabs(sum - 1.0) < 1e-9);
	const char *ctx[3];
	assert_int_equal(bsp_apps_context(m, u, ctx, 3), 3);
	assert_string_equal(ctx[1], "ls");
	assert_string_equal(ctx[2], "vi");
	bsp_apps_free(m);
}

/* An unseen context for the user defers to what the population does. */
static void test_backoff_population(void **state)
{
	static const char *const pop[] = {"latex", "xdvi", "ls"};
	static const char *const own[] = {"mail", "ls", "mail", "ls"};
	struct bsp_apps *m;
	struct bsp_apps_pred p[2];
	size_t n, a, b;

	(void)state;
	assert_int_equal(bsp_apps_new(&m, NULL, NULL), BSP_OK);
	a = user(m, "writer");
	b = user(m, "newcomer");
	feed(m, a, pop, 3, 30, BSP_APPS_LEARN_USER | BSP_APPS_LEARN_POPULATION);
	feed(m, b, own, 4, 5, BSP_APPS_LEARN_USER | BSP_APPS_LEARN_POPULATION);
	/* b has never run latex: after it, the population says xdvi. */
	assert_int_equal(bsp_apps_observe(m, b, "latex", BSP_TIME_NONE,
					  BSP_APPS_LEARN_USER, NULL), BSP_OK);
	assert_int_equal(bsp_apps_predict(m, b, BSP_TIME_NONE, 2, p, &n, NULL),
			 BSP_OK);
	assert_string_equal(p[0].app, "xdvi");
	bsp_apps_free(m);

	/* Without the population model, b's own habits win instead. */
	struct bsp_apps_options opt;
	bsp_apps_options_init(&opt);
	opt.population = 0;
	assert_int_equal(bsp_apps_new(&m, &opt, NULL), BSP_OK);
	a = user(m, "writer");
	b = user(m, "newcomer");
	feed(m, a, pop, 3, 30, BSP_APPS_LEARN_USER | BSP_APPS_LEARN_POPULATION);
	feed(m, b, own, 4, 5, BSP_APPS_LEARN_USER);
	assert_int_equal(bsp_apps_observe(m, b, "latex", BSP_TIME_NONE,
					  BSP_APPS_LEARN_USER, NULL), BSP_OK);
	assert_int_equal(bsp_apps_predict(m, b, BSP_TIME_NONE, 2, p, &n, NULL),
			 BSP_OK);
	assert_string_not_equal(p[0].app, "xdvi");
	bsp_apps_free(m);
	assert_int_equal(bsp_apps_new(&m, &(struct bsp_apps_options){.order = 9,
								     .decay = 1},
				      NULL),
			 BSP_EINVAL);
}

/* Mail at 9:00 every day, editor and browser through the day. */
static void mail_days(struct bsp_event *ev, size_t *n, unsigned days)
{
	static char kind[] = "app", mail[] = "mail", ed[] = "editor",
		    web[] = "browser";
	*n = 0;
	for (unsigned d = 0; d < days; d++) {
		bsp_time day = DAY0 + (bsp_time)d * BSP_DAY;
		ev[(*n)++] = (struct bsp_event){day + 9 * BSP_HOUR + 60000, 0,
						kind, mail};
		for (int h = 10; h < 17; h++)
			ev[(*n)++] = (struct bsp_event){
				day + h * BSP_HOUR, 0, kind, h % 2 ? ed : web};
	}
}

static void test_time_of_day(void **state)
{
	struct bsp_event ev[10 * 8];
	struct bsp_apps_coming c;
	struct bsp_apps *m;
	struct bsp_apps_pred p[1];
	size_t n, u;

	(void)state;
	mail_days(ev, &n, 10);
	/* The coming hour at 9:00 on day 11 is mail's. */
	assert_int_equal(bsp_apps_coming(ev, n, DAY0 + 10 * BSP_DAY + 9 * BSP_HOUR,
					 NULL, &c, NULL),
			 BSP_OK);
	assert_int_equal(c.timed, 1);
	assert_int_equal(c.hour_utc, 9);
	assert_int_equal(c.n_hour, 1);
	assert_string_equal(c.hour[0].app, "mail");
	assert_true(fabs(c.hour[0].p - 10.5 / 11.0) < 1e-12);
	/* Every app was used on each of 10 days (day 11 has begun). */
	assert_int_equal(c.n_day, 3);
	assert_true(fabs(c.day[0].p - 10.5 / 12.0) < 1e-12);
	bsp_apps_coming_release(&c);

	/* The next-app model also prefers mail at 9:00 from any context. */
	assert_int_equal(bsp_apps_new(&m, NULL, NULL), BSP_OK);
	u = user(m, "clerk");
	for (size_t i = 0; i < n; i++)
		assert_int_equal(bsp_apps_observe(m, u, ev[i].name, ev[i].ts,
						  BSP_APPS_LEARN_USER, NULL),
				 BSP_OK);
	bsp_apps_break(m, u);
	assert_int_equal(bsp_apps_predict(m, u, DAY0 + 10 * BSP_DAY + 9 * BSP_HOUR,
					  1, p, &n, NULL),
			 BSP_OK);
	assert_string_equal(p[0].app, "mail");
	bsp_apps_free(m);
}

/* Untimed windows: "b" comes within 2 commands after every start. */
static void test_coming_untimed(void **state)
{
	static char kind[] = "command", a[] = "a", b[] = "b";
	struct bsp_event ev[9];
	struct bsp_apps_options opt;
	struct bsp_apps_coming c;

	(void)state;
	for (size_t i = 0; i < 9; i++)
		ev[i] = (struct bsp_event){BSP_TIME_NONE, (int64_t)i, kind,
					   i % 2 ? b : a};
	bsp_apps_options_init(&opt);
	opt.hour_window = 2;
	opt.day_window = 4;
	assert_int_equal(bsp_apps_coming(ev, 9, BSP_TIME_NONE, &opt, &c, NULL),
			 BSP_OK);
	assert_int_equal(c.timed, 0);
	/* 8 starts; b (positions 1,3,5,7) is within 2 of all 8 but start 7
	 * (window {8}): 7 of 8; a (2,4,6,8) within 2 of starts 0..7: 8. */
	assert_int_equal(c.n_hour, 2);
	assert_string_equal(c.hour[0].app, "a");
	assert_true(fabs(c.hour[0].p - 8.5 / 9.0) < 1e-12);
	assert_true(fabs(c.hour[1].p - 7.5 / 9.0) < 1e-12);
	bsp_apps_coming_release(&c);
}

/* The evaluation on files: a user whose vi is always followed by make. */
static void test_evaluate(void **state)
{
	char p1[256], p2[256], lab[256];
	char *paths[2];
	struct bsp_apps_eval ev;
	FILE *f;

	(void)state;
	test_path(p1, sizeof(p1), "User1");
	test_path(p2, sizeof(p2), "User2");
	f = fopen(p1, "w");
	for (int i = 0; i < 300; i++)
		fputs(i % 2 ? "make\n" : "vi\n", f);
	fclose(f);
	f = fopen(p2, "w");
	for (int i = 0; i < 300; i++)
		fputs(i % 3 ? "ls\n" : "cd\n", f);
	fclose(f);
	paths[0] = p1;
	paths[1] = p2;
	assert_int_equal(bsp_apps_evaluate(paths, 2, 100, NULL, &ev, NULL),
			 BSP_OK);
	assert_int_equal(ev.users, 2);
	assert_int_equal(ev.labels, 0);
	assert_int_equal(ev.model.n, 400);
	assert_int_equal(ev.model.hit1, 400);
	/* User2's ls is followed by ls or cd equally: markov1 misses some. */
	assert_true(ev.markov1.hit1 >= 200 + 66 && ev.markov1.hit1 < 400);
	assert_int_equal(ev.mfc.hit5, 400);
	/* A label file skips User2's second block of 100 (of the last 200). */
	test_path(lab, sizeof(lab), "label.txt");
	assert_int_equal(test_write_file(lab, "0 0\n0 1\n", 8), 0);
	assert_int_equal(bsp_apps_evaluate(paths, 2, 100, NULL, &ev, NULL),
			 BSP_OK);
	assert_int_equal(ev.labels, 1);
	assert_int_equal(ev.skipped, 100);
	assert_int_equal(ev.model.n, 300);
	unlink(lab);
	paths[0] = (char *)"/nonexistent/User9";
	assert_int_equal(bsp_apps_evaluate(paths, 1, 100, NULL, &ev, NULL),
			 BSP_ENOTFOUND);
}

/* Two users share {a, b, c}; one also uses d: d goes to the other. */
static void test_cf(void **state)
{
	struct bsp_cf *cf;
	struct bsp_cf_rec rec[3];
	size_t n, reasons = 0;

	(void)state;
	assert_int_equal(bsp_cf_new(&cf, NULL), BSP_OK);
	for (const char *p = "abc"; *p; p++) {
		char app[2] = {*p, 0};
		assert_int_equal(bsp_cf_add(cf, "u1", app, 3, NULL), BSP_OK);
		assert_int_equal(bsp_cf_add(cf, "u2", app, 2, NULL), BSP_OK);
	}
	assert_int_equal(bsp_cf_add(cf, "u1", "d", 5, NULL), BSP_OK);
	assert_int_equal(bsp_cf_add(cf, "u3", "z", 5, NULL), BSP_OK);
	assert_int_equal(bsp_cf_recommend(cf, "u2", 3, rec, &n, NULL), BSP_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rec[0].app, "d");
	/* w = log(1 + count); cos(a, d) = w(u1,a) w(u1,d) / (|a| |d|)
	 * with |a| over u1 and u2, the same for b and c. */
	double cos_ad = log(4) / sqrt(log(4) * log(4) + log(3) * log(3));
	assert_true(fabs(rec[0].score - 3 * cos_ad) < 1e-9);
	assert_true(fabs(rec[0].because_sim[0] - cos_ad) < 1e-9);
	assert_int_equal(rec[0].n_because, 3);
	for (size_t i = 0; i < rec[0].n_because; i++)
		reasons |= 1u << (rec[0].because[i][0] - 'a');
	assert_int_equal(reasons, 7);
	assert_int_equal(rec[0].n_users, 1);
	assert_string_equal(rec[0].users[0], "u1");
	assert_int_equal(bsp_cf_recommend(cf, "nobody", 3, rec, &n, NULL),
			 BSP_ENOTFOUND);
	struct bsp_cf_eval ev;
	assert_int_equal(bsp_cf_evaluate(cf, 1.5, 1, 2, 10, &ev, NULL),
			 BSP_EINVAL);
	assert_int_equal(bsp_cf_evaluate(cf, 0.2, 1, 4, 10, &ev, NULL), BSP_OK);
	assert_int_equal(ev.users, 1); /* only u1 has 4 apps */
	assert_int_equal(ev.hidden, 1);
	bsp_cf_free(cf);
}

static void test_recall(void **state)
{
	const char *rec[] = {"x", "b", "y", "a", "z"};
	const char *hid[] = {"a", "b", "c"};

	(void)state;
	assert_true(fabs(bsp_apps_recall(rec, 5, hid, 3, 10) - 2.0 / 3) < 1e-12);
	assert_true(fabs(bsp_apps_recall(rec, 5, hid, 3, 2) - 1.0 / 3) < 1e-12);
	assert_true(bsp_apps_recall(rec, 5, hid, 0, 10) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vi_make),
		cmocka_unit_test(test_backoff_population),
		cmocka_unit_test(test_time_of_day),
		cmocka_unit_test(test_coming_untimed),
		cmocka_unit_test(test_evaluate),
		cmocka_unit_test(test_cf),
		cmocka_unit_test(test_recall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
