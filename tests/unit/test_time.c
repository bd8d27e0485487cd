/*
 * Time parsing and formatting: epoch seconds and milliseconds, RFC 3339
 * with fractions and offsets, durations, and what must be refused.
 */
#include "testutil.h"

#include "bespoke/bespoke.h"

static bsp_time parse(const char *s)
{
	bsp_time t = 0;
	assert_int_equal(bsp_time_parse(s, strlen(s), &t), BSP_OK);
	return t;
}

static void bad(const char *s)
{
	bsp_time t;
	assert_int_equal(bsp_time_parse(s, strlen(s), &t), BSP_EINVAL);
}

static void test_epoch(void **state)
{
	(void)state;
	assert_true(parse("1372629804") == 1372629804000LL);
	assert_true(parse(" 1372629804 ") == 1372629804000LL);
	assert_true(parse("1372629804.5") == 1372629804500LL);
	assert_true(parse("1372629804123") == 1372629804123LL); /* ms */
	assert_true(parse("0") == 0);
	assert_true(parse("-86400") == -86400000LL);
	bad("");
	bad("abc");
	bad("12x");
	bad("1.2.3");
	bad("99999999999999999999");
}

static void test_rfc3339(void **state)
{
	(void)state;
	assert_true(parse("1970-01-01T00:00:00Z") == 0);
	assert_true(parse("2013-07-01T00:00:00Z") == 1372636800000LL);
	assert_true(parse("2013-07-01 00:00:00") == 1372636800000LL);
	assert_true(parse("2013-07-01") == 1372636800000LL);
	assert_true(parse("2013-07-01T02:00:00+02:00") == 1372636800000LL);
	assert_true(parse("2013-06-30T19:00:00-05:00") == 1372636800000LL);
	assert_true(parse("2013-07-01T00:00:00.25Z") == 1372636800250LL);
	assert_true(parse("2024-02-29T12:00:00Z") == 1709208000000LL);
	assert_true(parse("1969-12-31T23:59:59Z") == -1000);
	bad("2013-13-01");
	bad("2013-02-30");
	bad("2023-02-29");
	bad("2013-07-01T25:00:00Z");
	bad("2013-07-01T00:00:00Q");
	bad("2013-07-01T00:00:00+2");
}

static void test_format(void **state)
{
	char buf[40];

	(void)state;
	assert_string_equal(bsp_time_format(0, buf, sizeof(buf)),
			    "1970-01-01T00:00:00Z");
	assert_string_equal(bsp_time_format(1372636800250LL, buf, sizeof(buf)),
			    "2013-07-01T00:00:00.250Z");
	assert_string_equal(bsp_time_format(-1000, buf, sizeof(buf)),
			    "1969-12-31T23:59:59Z");
	/* Round trip over a spread of times. */
	for (bsp_time t = -5000000000000LL; t < 5000000000000LL;
	     t += 123456789013LL) {
		bsp_time back;
		bsp_time_format(t, buf, sizeof(buf));
		assert_int_equal(bsp_time_parse(buf, strlen(buf), &back),
				 BSP_OK);
		assert_true(back == t);
	}
}

static void test_duration(void **state)
{
	bsp_time d;

	(void)state;
	assert_int_equal(bsp_duration_parse("300", &d), BSP_OK);
	assert_true(d == 300000);
	assert_int_equal(bsp_duration_parse("5m", &d), BSP_OK);
	assert_true(d == 300000);
	assert_int_equal(bsp_duration_parse("1h", &d), BSP_OK);
	assert_true(d == BSP_HOUR);
	assert_int_equal(bsp_duration_parse("7d", &d), BSP_OK);
	assert_true(d == 7 * BSP_DAY);
	assert_int_equal(bsp_duration_parse("2w", &d), BSP_OK);
	assert_true(d == 14 * BSP_DAY);
	assert_int_equal(bsp_duration_parse("250ms", &d), BSP_OK);
	assert_true(d == 250);
	assert_int_equal(bsp_duration_parse("1.5h", &d), BSP_OK);
	assert_true(d == 90 * BSP_MINUTE);
	assert_int_equal(bsp_duration_parse("5x", &d), BSP_EINVAL);
	assert_int_equal(bsp_duration_parse("-5m", &d), BSP_EINVAL);
	assert_int_equal(bsp_duration_parse("", &d), BSP_EINVAL);
	assert_int_equal(bsp_duration_parse("nan", &d), BSP_EINVAL);
	assert_int_equal(bsp_duration_parse("1e300d", &d), BSP_EINVAL);
	assert_true(bsp_time_floor(-1, 1000) == -1000);
	assert_true(bsp_time_floor(1999, 1000) == 1000);
}

static void test_labels(void **state)
{
	const char *k[] = {"mode", "cpu"};
	const char *v[] = {"id\"le", "0"};
	const char *dk[] = {"a", "a"};
	char out[64];

	(void)state;
	assert_int_equal(bsp_labels_canon(k, v, 2, out, sizeof(out)), BSP_OK);
	assert_string_equal(out, "cpu=\"0\",mode=\"id\\\"le\"");
	assert_int_equal(bsp_labels_canon(dk, v, 2, out, sizeof(out)),
			 BSP_EINVAL);
	assert_int_equal(bsp_labels_canon(k, v, 2, out, 8), BSP_ELIMIT);
	assert_int_equal(bsp_labels_canon(k, v, 0, out, sizeof(out)), BSP_OK);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
