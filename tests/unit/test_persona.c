/*
 * Personas: the catalog's schema errors name line and column, naive Bayes
 * picks the persona whose software is named, a usage shape picks the
 * persona with that shape, and the shipped catalog loads.
 */
#include <math.h>

#include "testutil.h"

#include "bespoke/persona.h"

#define DAY_OFFICE                                                        \
	"[0, 0, 0, 0, 0, 0, 0, .1, .5, 1, 1, 1, .5, 1, 1, 1, .8, .4, .1, 0, " \
	"0, 0, 0, 0]"
#define DAY_NIGHT                                                         \
	"[.3, .8, 1, 1, .9, .5, .1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, " \
	"0, 0, 0, .1]"

static const char catalog[] =
	"version: 1\n"
	"personas:\n"
	"  - name: office\n"
	"    title: Office worker\n"
	"    description: email and documents and spreadsheets\n"
	"    software: [outlook, excel, word]\n"
	"    datasets: [{name: mail, size_gb: 10}]\n"
	"    daily: " DAY_OFFICE "\n"
	"    weekly: [1, 1, 1, 1, 1, 0.05, 0.05]\n"
	"    cores: 4\n"
	"    memory_gb: 8\n"
	"  - name: batch\n"
	"    title: Data engineer\n"
	"    description: nightly ETL pipelines and backups\n"
	"    software: [airflow, spark, rsync]\n"
	"    datasets: [{name: warehouse, size_gb: 2000}]\n"
	"    daily: " DAY_NIGHT "\n"
	"    weekly: [1, 1, 1, 1, 1, 1, 1]\n"
	"    cores: 16\n"
	"    memory_gb: 64\n";

static struct bsp_persona_catalog *load(const char *name, const char *text,
					struct bsp_error *err)
{
	char p[256];
	struct bsp_persona_catalog *cat = NULL;
	test_path(p, sizeof(p), name);
	assert_int_equal(test_write_file(p, text, strlen(text)), 0);
	bsp_persona_catalog_load(p, &cat, err);
	return cat;
}

static void test_catalog_ok(void **state)
{
	struct bsp_error err = {0};
	struct bsp_persona_catalog *cat = load("ok.yaml", catalog, &err);
	(void)state;
	assert_non_null(cat);
	assert_int_equal(cat->personas_count, 2);
	assert_int_equal(bsp_persona_find(cat, "batch"), 1);
	assert_int_equal(cat->personas[1].datasets_count, 1);
	assert_true(cat->personas[1].datasets[0].size_gb == 2000);
	assert_true(cat->personas[0].daily[9] == 1);
	bsp_persona_catalog_free(cat);
}

static void test_catalog_planted_error(void **state)
{
	struct bsp_error err = {0};
	char *bad = strdup(catalog), *p;
	(void)state;
	assert_non_null(bad);
	/* line 10 is "    cores: 4": make it not a number */
	p = strstr(bad, "cores: 4");
	assert_non_null(p);
	memcpy(p + 7, "x", 1);
	assert_null(load("bad.yaml", bad, &err));
	assert_int_equal(err.code, BSP_EINVAL);
	assert_non_null(strstr(err.msg, "bad.yaml:10:"));
	free(bad);
	/* a missing required key and an out-of-range profile value */
	assert_null(load("bad2.yaml", "version: 1\npersonas:\n  - name: x\n",
			 &err));
	assert_non_null(strstr(err.msg, "bad2.yaml:"));
	char *bad3 = strdup(catalog);
	p = strstr(bad3, "0.05, 0.05");
	memcpy(p, "7.05", 4);
	assert_null(load("bad3.yaml", bad3, &err));
	assert_non_null(strstr(err.msg, "weekly[5]"));
	free(bad3);
	/* an empty file, and one with only a comment, load as nothing */
	assert_null(load("empty.yaml", "", &err));
	assert_non_null(strstr(err.msg, "empty.yaml: empty catalog"));
	assert_null(load("comment.yaml", "# nothing\n", &err));
	assert_int_equal(err.code, BSP_EINVAL);
}

static int top(const struct bsp_persona_scores *s)
{
	size_t best = 0;
	for (size_t i = 1; i < s->n; i++)
		if (s->posterior[i] > s->posterior[best])
			best = i;
	return (int)best;
}

static void test_text(void **state)
{
	struct bsp_error err = {0};
	struct bsp_persona_catalog *cat = load("t.yaml", catalog, &err);
	struct bsp_persona_evidence ev;
	struct bsp_persona_scores s;
	const char *sw[] = {"spark"};
	(void)state;
	assert_non_null(cat);
	bsp_persona_evidence_init(&ev);
	ev.text = "I need a machine for Excel";
	assert_int_equal(bsp_persona_infer(cat, &ev, &s, NULL), BSP_OK);
	assert_int_equal(top(&s), 0);
	assert_true(fabs(s.posterior[0] + s.posterior[1] - 1) < 1e-12);
	bsp_persona_scores_release(&s);
	ev.text = NULL;
	ev.software = sw;
	ev.n_software = 1;
	assert_int_equal(bsp_persona_infer(cat, &ev, &s, NULL), BSP_OK);
	assert_int_equal(top(&s), 1);
	bsp_persona_scores_release(&s);
	/* nothing known: uniform */
	ev.n_software = 0;
	assert_int_equal(bsp_persona_infer(cat, &ev, &s, NULL), BSP_OK);
	assert_true(fabs(s.posterior[0] - 0.5) < 1e-12);
	bsp_persona_scores_release(&s);
	/* a data size only the batch persona has */
	ev.data_gb = 3000;
	assert_int_equal(bsp_persona_infer(cat, &ev, &s, NULL), BSP_OK);
	assert_int_equal(top(&s), 1);
	bsp_persona_scores_release(&s);
	bsp_persona_catalog_free(cat);
}

static void test_usage(void **state)
{
	struct bsp_error err = {0};
	struct bsp_persona_catalog *cat = load("u.yaml", catalog, &err);
	struct bsp_persona_evidence ev;
	struct bsp_persona_scores s;
	(void)state;
	assert_non_null(cat);
	bsp_persona_evidence_init(&ev);
	ev.text = "excel"; /* the text says office... */
	ev.has_usage = 1;
	ev.days = 28;
	/* ...but it works at night, with a baseline and another scale */
	for (int h = 0; h < 24; h++)
		ev.daily[h] = 2 + 3 * cat->personas[1].daily[h];
	for (int d = 0; d < 7; d++)
		ev.weekly[d] = 4;
	assert_int_equal(bsp_persona_infer(cat, &ev, &s, NULL), BSP_OK);
	assert_int_equal(top(&s), 1);
	assert_true(s.usage[1] > s.usage[0]);
	bsp_persona_scores_release(&s);
	bsp_persona_catalog_free(cat);
}

static void test_shipped_catalog(void **state)
{
	struct bsp_persona_catalog *cat = NULL;
	struct bsp_error err = {0};
	(void)state;
	if (access("data/personas.yaml", R_OK))
		skip();
	assert_int_equal(bsp_persona_catalog_load("data/personas.yaml", &cat,
						  &err),
			 BSP_OK);
	assert_true(cat->personas_count >= 9);
	for (unsigned i = 0; i < cat->personas_count; i++) {
		struct bsp_persona_evidence ev;
		struct bsp_persona_scores s;
		const struct bsp_persona *p = &cat->personas[i];
		/* naming a persona's first three tools makes it first */
		bsp_persona_evidence_init(&ev);
		ev.software = (const char *const *)p->software;
		ev.n_software = p->software_count < 3 ? p->software_count : 3;
		assert_int_equal(bsp_persona_infer(cat, &ev, &s, NULL), BSP_OK);
		if (top(&s) != (int)i)
			fail_msg("%s: software picks %s", p->name,
				 cat->personas[top(&s)].name);
		bsp_persona_scores_release(&s);
	}
	bsp_persona_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_ok),
		cmocka_unit_test(test_catalog_planted_error),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_shipped_catalog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
