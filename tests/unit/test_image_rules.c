/*
 * The rule language against known answers: precedence and associativity
 * (expressions whose value differs under any other binding), type and
 * syntax errors at the right line and column, evaluation on a constructed
 * profile (aliases, horizon maxima, defaults for absent parts, the values
 * noted as the reason), and the knapsack against brute force.
 */
#include <math.h>

#include "testutil.h"

#include "bespoke/image.h"

/* A profile whose every number is known. cpu has no cpu_usage, so the
 * alias falls back to cpu_usage_pct; mem is absent. */
static const char profile_json[] =
	"{\"format\":\"bespoke-profile\",\"entity\":\"u1\",\"profile_version\":7,"
	"\"metrics\":{\"cpu_usage_pct\":{\"unit\":\"%\","
	"\"model\":{\"model_version\":3},"
	"\"forecast\":{\"point\":[10,20,30,40],"
	"\"quantiles\":{\"p50\":[10,20,30,40],\"p95\":[15,55,35,45]}},"
	"\"daily_peak\":{\"hour_utc\":14}},"
	"\"disk_total\":{\"forecast\":{\"point\":[1],\"quantiles\":{\"p95\":[2]}}}},"
	"\"behaviour\":{\"workload\":{\"class\":\"batch\",\"p_interactive\":0.12},"
	"\"personas\":[{\"name\":\"dba\",\"p\":0.61},{\"name\":\"developer\",\"p\":0.39}],"
	"\"apps\":{\"next\":[{\"name\":\"psql\",\"p\":0.3}],"
	"\"coming_hour\":[{\"name\":\"psql\",\"p\":0.7}],"
	"\"coming_day\":[{\"name\":\"psql\",\"p\":0.9},{\"name\":\"vim\",\"p\":0.2}]}}}";

static struct bsp_image_profile *profile(void)
{
	struct bsp_image_profile *p = NULL;
	struct bsp_error err = {0};
	if (bsp_image_profile_parse(profile_json, strlen(profile_json), "p.json",
				    &p, &err))
		fail_msg("profile: %s", err.msg);
	return p;
}

/* Evaluates text; fails the test on a parse error. */
static struct bsp_rule_value eval(const char *text,
				  const struct bsp_image_profile *p, char *why,
				  size_t size)
{
	struct bsp_rule *r = NULL;
	struct bsp_error err = {0};
	struct bsp_rule_value v;
	if (bsp_rule_parse(text, "t", 1, 1, &r, &err))
		fail_msg("%s: %s", text, err.msg);
	bsp_rule_eval(r, p, &v, why, size);
	/* Strings point into the rule or the profile; copy nothing here,
	 * the callers only read numbers and truth. */
	bsp_rule_free(r);
	return v;
}

static int truth(const char *text, const struct bsp_image_profile *p)
{
	struct bsp_rule_value v = eval(text, p, NULL, 0);
	assert_int_equal(v.type, BSP_RULE_BOOL);
	return v.truth;
}

static double num(const char *text, const struct bsp_image_profile *p)
{
	struct bsp_rule_value v = eval(text, p, NULL, 0);
	assert_int_equal(v.type, BSP_RULE_NUM);
	return v.num;
}

static void test_precedence(void **state)
{
	(void)state;
	/* Each would differ under another binding. */
	assert_true(num("1 + 2 * 3", NULL) == 7);      /* not 9 */
	assert_true(num("10 - 4 - 3", NULL) == 3);     /* not 9 */
	assert_true(num("8 / 4 / 2", NULL) == 1);      /* not 4 */
	assert_true(num("-2 * -3", NULL) == 6);
	assert_true(num("(1 + 2) * 3", NULL) == 9);
	assert_true(num("2 * 3 - 4 / 2", NULL) == 4);
	assert_true(num("max(1, 7, 3) - min(4, 2)", NULL) == 5);
	assert_true(truth("true || false && false", NULL));    /* && first */
	assert_false(truth("(true || false) && false", NULL));
	assert_true(truth("!false && true", NULL));
	assert_false(truth("!(false || true)", NULL));
	assert_true(truth("1 + 1 == 2 && 3 > 2", NULL));
	assert_true(truth("\"a\" != \"b\" && 'x' == \"x\"", NULL));
	assert_true(truth("2 >= 2 && 2 <= 2 && !(2 < 2) && !(2 > 2)", NULL));
	assert_true(truth(".5 == 0.5 && 1e3 == 1000", NULL));
	/* Undefined arithmetic compares false either way. */
	assert_false(truth("1 / 0 > 0", NULL));
	assert_false(truth("1 / 0 <= 0", NULL));
	assert_false(truth("1 / 0 == 1 / 0", NULL));
}

/* Expects a parse error whose message contains `want`. */
static void parse_error(const char *text, unsigned line, unsigned col,
			const char *want)
{
	struct bsp_rule *r = NULL;
	struct bsp_error err = {0};
	bsp_err rc = bsp_rule_parse(text, "cat.yaml", line, col, &r, &err);
	if (rc != BSP_EINVAL || r)
		fail_msg("'%s' parsed", text);
	if (!strstr(err.msg, want))
		fail_msg("'%s': got '%s', want '%s'", text, err.msg, want);
}

static void test_errors(void **state)
{
	(void)state;
	parse_error("cpu.p95 >", 3, 10, "cat.yaml:3:19: expected a value");
	parse_error("cpu.p95 >", 3, 10, "found end of rule");
	parse_error("cpu.p95 && true", 1, 1,
		    "cat.yaml:1:9: '&&' needs conditions, found a number");
	parse_error("workload > 3", 1, 1,
		    "1:10: '>' needs numbers, found a string and a number");
	parse_error("persona[dev] > 0.5", 1, 1,
		    "1:9: expected a quoted persona name, found 'dev'");
	parse_error("cpux.p95 > 1", 2, 5, "2:5: unknown name 'cpux'");
	parse_error("apps[\"x\"].p_week > 0", 1, 1,
		    "1:11: expected 'p_next', 'p_hour' or 'p_day'");
	parse_error("cpu.p100 > 1", 1, 1, "1:5: expected a metric field");
	parse_error("plan.ram > 1", 1, 1, "1:6: expected a resource (cpu, memory");
	parse_error("workload == \"batch", 1, 1,
		    "1:13: unterminated string");
	parse_error("1 = 2", 1, 1, "1:3: expected '==', found '='");
	parse_error("1 < 2 < 3", 1, 1, "1:7: comparisons do not chain");
	parse_error("(1 > 2", 1, 1, "1:7: expected ')', found end of rule");
	parse_error("1 > 2)", 1, 1, "1:6: expected an operator or end of rule");
	parse_error("max(1, \"a\") > 0", 1, 1, "1:8: max() needs numbers");
	parse_error("!3", 1, 1, "1:1: '!' needs a condition, found a number");
	parse_error("", 4, 2, "4:2: expected a condition");
	parse_error("1 > 0 &&\n  cpu.p95 $ 3", 1, 1, "2:11: unexpected character '$'");
	/* A number on its own is an expression, but not a condition when
	 * the catalog asks for one (checked there); here it parses. */
	struct bsp_rule *r = NULL;
	assert_int_equal(bsp_rule_parse("cpu.p95 * 2", NULL, 1, 1, &r, NULL),
			 BSP_OK);
	assert_int_equal(bsp_rule_type(r), BSP_RULE_NUM);
	assert_string_equal(bsp_rule_text(r), "cpu.p95 * 2");
	bsp_rule_free(r);
	/* Deep nesting is refused, not a stack overflow. */
	char deep[600];
	memset(deep, '(', 300);
	memcpy(deep + 300, "1", 2);
	parse_error(deep, 1, 1, "nested too deeply");
}

static void test_eval(void **state)
{
	struct bsp_image_profile *p = profile();
	char why[512];
	(void)state;

	assert_string_equal(bsp_image_profile_entity(p), "u1");
	assert_int_equal(bsp_image_profile_version(p), 7);
	/* The maximum over the horizon, through the alias. */
	assert_true(num("cpu.p95", p) == 55);
	assert_true(num("cpu.p50", p) == 40);
	assert_true(num("cpu.mean", p) == 25);
	assert_true(num("cpu.peak", p) == 40);
	assert_true(num("cpu.peak_hour", p) == 14);
	assert_true(num("metric[\"cpu_usage_pct\"].p95", p) == 55);
	assert_true(num("disk.p95", p) == 2);
	/* Absent: metric 0, persona 0, app 0. */
	assert_true(num("mem.p99", p) == 0);
	assert_true(num("cpu.p99", p) == 0);
	assert_true(num("persona[\"sre\"]", p) == 0);
	assert_true(num("apps[\"emacs\"].p_day", p) == 0);
	assert_true(num("persona[\"dba\"]", p) == 0.61);
	assert_true(num("apps[\"psql\"].p_next", p) == 0.3);
	assert_true(num("apps[\"psql\"].p_hour", p) == 0.7);
	assert_true(num("apps[\"psql\"].p_day", p) == 0.9);
	assert_true(num("workload.p_interactive", p) == 0.12);
	assert_true(truth("workload == \"batch\" && workload.class == 'batch'", p));
	/* The brief's example, and the reason lists what decided. */
	struct bsp_rule_value v = eval(
		"apps[\"psql\"].p_day > 0.5 && persona[\"dba\"] > 0.4", p, why,
		sizeof(why));
	assert_true(v.truth);
	assert_string_equal(why, "apps[\"psql\"].p_day=0.9 persona[\"dba\"]=0.61");
	/* Short-circuit: the right side is not read, nor reported. */
	v = eval("cpu.p95 > 100 && persona[\"dba\"] > 0.4", p, why, sizeof(why));
	assert_false(v.truth);
	assert_string_equal(why, "cpu.p95=55");
	/* Each value once. */
	v = eval("cpu.p95 > 1 && cpu.p95 < 100", p, why, sizeof(why));
	assert_true(v.truth);
	assert_string_equal(why, "cpu.p95=55");
	/* A resource plan: the largest need over its steps. */
	assert_true(num("plan.memory", p) == 0); /* none attached yet */
	static const char plan[] =
		"{\"format\":\"bespoke-plan\",\"steps\":["
		"{\"need\":{\"memory\":3,\"cpu\":2}},"
		"{\"need\":{\"memory\":7.5,\"cpu\":1}}]}";
	struct bsp_error err = {0};
	assert_int_equal(bsp_image_profile_set_plan(p, plan, strlen(plan), "pl",
						    &err),
			 BSP_OK);
	assert_true(num("plan.memory", p) == 7.5);
	assert_true(num("plan.cpu", p) == 2);
	assert_true(num("plan.iops", p) == 0);
	v = eval("plan.memory * 1024 / 8 > 900", p, why, sizeof(why));
	assert_true(v.truth);
	assert_string_equal(why, "plan.memory=7.5");
	assert_int_equal(bsp_image_profile_set_plan(p, "{\"format\":\"x\"}", 14,
						    "pl.json", &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "pl.json: expected a bespoke-plan"));
	assert_true(num("plan.memory", p) == 7.5); /* the old one stays */
	/* No profile at all: the documented defaults. */
	assert_true(num("workload.p_interactive", NULL) == 0.5);
	assert_true(truth("workload == \"unknown\"", NULL));
	assert_true(num("cpu.p95 + persona[\"x\"]", NULL) == 0);
	bsp_image_profile_free(p);
}

static void test_profile_errors(void **state)
{
	struct bsp_image_profile *p = NULL;
	struct bsp_error err = {0};
	(void)state;
	assert_int_equal(bsp_image_profile_parse("{\"a\":1,", 7, "x.json", &p, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "x.json:1:"));
	assert_int_equal(bsp_image_profile_parse("{\"format\":\"other\"}", 18,
						 "y.json", &p, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "y.json: format"));
	assert_int_equal(bsp_image_profile_parse("{\"metrics\":[]}", 14, "z.json",
						 &p, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "z.json: metrics"));
	assert_null(p);
}

/* xorshift64*: deterministic instances. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void test_knapsack(void **state)
{
	(void)state;
	/* The textbook instance (Cormen et al., ex. 16.2): 220 by {20, 30}. */
	unsigned w3[] = {10, 20, 30};
	double v3[] = {60, 100, 120};
	int c3[3];
	assert_true(bsp_knapsack(w3, v3, 3, 50, c3) == 220);
	assert_int_equal(c3[0], 0);
	assert_int_equal(c3[1], 1);
	assert_int_equal(c3[2], 1);
	/* Against brute force on random instances. */
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 300; round++) {
		size_t n = 1 + rng_next(&s) % 14;
		unsigned w[14], cap = (unsigned)(rng_next(&s) % 120);
		double v[14];
		int chosen[14];
		for (size_t i = 0; i < n; i++) {
			w[i] = (unsigned)(rng_next(&s) % 40);
			v[i] = (double)(rng_next(&s) % 1000) / 10.0;
		}
		double best = 0;
		for (uint32_t m = 0; m < (1u << n); m++) {
			unsigned tw = 0;
			double tv = 0;
			for (size_t i = 0; i < n; i++)
				if (m >> i & 1) {
					tw += w[i];
					tv += v[i];
				}
			if (tw <= cap && tv > best)
				best = tv;
		}
		double got = bsp_knapsack(w, v, n, cap, chosen);
		unsigned tw = 0;
		double tv = 0;
		for (size_t i = 0; i < n; i++)
			if (chosen[i]) {
				tw += w[i];
				tv += v[i];
			}
		if (fabs(got - best) > 1e-9 || fabs(tv - best) > 1e-9 || tw > cap)
			fail_msg("round %d: knapsack %g (set %g, %u of %u), brute "
				 "force %g",
				 round, got, tv, tw, cap, best);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_profile_errors),
		cmocka_unit_test(test_knapsack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
