/*
 * The ingest number parser must give exactly strtod's double: checked bit
 * for bit on hand-picked edge cases (ties, powers of two, the 2^53
 * boundary, 17-19 digit mantissas), on a million random decimal strings
 * of mixed lengths and exponents, and on the numbers of a real trace when
 * ../shared/data (or $SHARED_DATA) is there.
 */
#include "testutil.h"

#include <math.h>
#include <zlib.h>

#include "ingest/numparse.h"

static void expect_same(const char *s)
{
	double a = 12345.0, b;
	int r = ingest_parse_double(s, strlen(s), &a);

	b = strtod(s, NULL);
	if (r != INGEST_NUM_OK || memcmp(&a, &b, sizeof(a)) != 0) {
		print_error("'%s': parsed %.17g (result %d), strtod %.17g\n", s,
			    a, r, b);
		fail();
	}
}

static void test_edge_cases(void **state)
{
	static const char *const cases[] = {
		"0", "-0", "+0", "0.0", "00000", "0e10", "0e-400", "1", "-1",
		"+1", "1.", ".5", "-.5", "0.1", "0.2", "0.3", "1.5", "2.5",
		"1e22", "1e23", "1e-22", "1e-23", "123456789012345678",
		"1234567890123456789", "12345678901234567890",
		"123456789012345678901234567890",
		"9007199254740992", "9007199254740993", "9007199254740994",
		"9007199254740995", "9007199254740993.0", "18014398509481985",
		"18014398509481987", "4503599627370496.5", "4503599627370497.5",
		"2.2250738585072014e-308", "2.2250738585072011e-308",
		"4.9406564584124654e-324", "2.4703282292062327e-324",
		"2.4703282292062328e-324", "1.7976931348623157e308",
		"1.7976931348623158e308", "0.1e1", "100e-2", "1E5", "1e+5",
		"0.000001", "0.0000001234567890123456789",
		"0.26666666666666666", "160.86666666666667",
		"1.4666666666666666", "5851.9989", "8218624.0",
		"29.259994499999998", "0.4666666666666666",
		"78292.26666666666", "7.0e-10", "3.14159265358979323846",
		"2.718281828459045235360287", "1e-19", "9999999999999999999e-19",
		"18446744073709551615", "18446744073709551616",
		"18446744073709551615e-5", "0.30000000000000004",
		"123.456e-7", "1e-5", "5e-324", "1e-400", "-1e-400",
		"89255.0e-22", "8.9255e-18", "1448997445238699",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		expect_same(cases[i]);
}

static void test_syntax_and_specials(void **state)
{
	static const char *const bad[] = {
		"", "-", "+", ".", "-.", "e5", "1e", "1e+", "1e-", "0x10",
		" 1", "1 ", "1.2.3", "abc", "1,5", "1e5.5", "--1", "+-1",
		"nan(1)", "infinit", "in", "1d", "12a",
	};
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (ingest_parse_double(bad[i], strlen(bad[i]), &v) !=
		    INGEST_NUM_SYNTAX) {
			print_error("'%s' accepted\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(ingest_parse_double("NaN", 3, &v),
			 INGEST_NUM_NONFINITE);
	assert_true(isnan(v));
	assert_int_equal(ingest_parse_double("nan", 3, &v),
			 INGEST_NUM_NONFINITE);
	assert_int_equal(ingest_parse_double("+Inf", 4, &v),
			 INGEST_NUM_NONFINITE);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(ingest_parse_double("-Inf", 4, &v),
			 INGEST_NUM_NONFINITE);
	assert_true(isinf(v) && v < 0);
	assert_int_equal(ingest_parse_double("Infinity", 8, &v),
			 INGEST_NUM_NONFINITE);
	assert_int_equal(ingest_parse_double("1e400", 5, &v), INGEST_NUM_RANGE);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(ingest_parse_double("-1e400", 6, &v),
			 INGEST_NUM_RANGE);
	assert_true(isinf(v) && v < 0);
	assert_int_equal(ingest_parse_double("1e-400", 6, &v), INGEST_NUM_OK);
	assert_true(v == 0.0);
	/* Only len bytes count: "12" out of "123". */
	assert_int_equal(ingest_parse_double("123", 2, &v), INGEST_NUM_OK);
	assert_true(v == 12.0);
}

/* xorshift64*: a fixed seed, so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* A random decimal string of 1..30 digits, a point anywhere, an exponent
 * sometimes, so that every path of the parser is taken. */
static size_t random_number(char *buf, size_t size)
{
	size_t p = 0;
	unsigned nd = 1 + (unsigned)(rnd() % 30), dot;
	unsigned shape = (unsigned)(rnd() % 4);

	if (shape == 3)
		nd = 15 + (unsigned)(rnd() % 5); /* the 15-19 digit band */
	dot = (unsigned)(rnd() % (nd + 2));
	if (rnd() % 4 == 0)
		buf[p++] = '-';
	for (unsigned i = 0; i < nd; i++) {
		if (i == dot)
			buf[p++] = '.';
		/* runs of 9s and 0s find carry and tie bugs */
		unsigned r = (unsigned)(rnd() % 16);
		buf[p++] = (char)('0' + (r < 10 ? r : r < 13 ? 9 : 0));
	}
	if (rnd() % 3 == 0) {
		int e = (int)(rnd() % 700) - 350;
		if (rnd() % 2)
			e = (int)(rnd() % 50) - 25;
		p += (size_t)snprintf(buf + p, size - p, "e%d", e);
	}
	buf[p] = '\0';
	return p;
}

static void test_random_million(void **state)
{
	char buf[64];
	long mismatches = 0;

	(void)state;
	for (long i = 0; i < 1000000; i++) {
		size_t n = random_number(buf, sizeof(buf));
		double a, b = strtod(buf, NULL);
		int r = ingest_parse_double(buf, n, &a);
		if (r == INGEST_NUM_RANGE && isinf(b))
			continue; /* both overflow */
		if (r != INGEST_NUM_OK || memcmp(&a, &b, sizeof(a))) {
			if (mismatches++ < 10)
				print_error("'%s': %.17g (result %d) vs "
					    "strtod %.17g\n",
					    buf, a, r, b);
		}
	}
	assert_int_equal(mismatches, 0);
}

/* Every field of a real Bitbrains file, when the data is there. */
static void test_real_trace(void **state)
{
	const char *data = getenv("SHARED_DATA");
	char path[1024], line[1024];
	long checked = 0;
	gzFile gz;

	(void)state;
	snprintf(path, sizeof(path), "%s/bitbrains-rnd/2013-7/1.csv.gz",
		 data && *data ? data : "../shared/data");
	if (access(path, R_OK) != 0) {
		print_message("skipped: %s not found\n", path);
		skip();
	}
	gz = gzopen(path, "rb");
	assert_non_null(gz);
	while (gzgets(gz, line, sizeof(line))) {
		char *p = line;
		while (*p) {
			size_t n;
			while (*p == ';' || *p == '\t' || *p == '\n' ||
			       *p == '\r')
				p++;
			n = strcspn(p, ";\t\r\n");
			if (n == 0)
				break;
			char save = p[n];
			p[n] = '\0';
			double a, b = strtod(p, NULL);
			if (ingest_parse_double(p, n, &a) == INGEST_NUM_OK) {
				if (memcmp(&a, &b, sizeof(a))) {
					print_error("'%s'\n", p);
					fail();
				}
				checked++;
			}
			p[n] = save;
			p += n;
		}
	}
	gzclose(gz);
	assert_true(checked > 50000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_syntax_and_specials),
		cmocka_unit_test(test_random_million),
		cmocka_unit_test(test_real_trace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
