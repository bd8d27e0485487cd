/*
 * The line reader: line endings, line numbers, overlong lines, buffer
 * boundaries, peeking, and gzip (round trip, several members, truncated
 * and corrupt streams reported as BSP_ECORRUPT).
 */
#include "testutil.h"

#include <zlib.h>

#include "ingest/ingest_int.h"

/* Reads every line of r into one '|'-joined string. */
static char *all_lines(struct line_reader *r)
{
	size_t cap = 1024, n = 0, len;
	char *out = malloc(cap);
	const char *l;

	assert_non_null(out);
	out[0] = '\0';
	while ((l = lr_next(r, &len))) {
		assert_true(l[len] == '\0' || l[len] == '\n');
		while (n + len + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		if (n)
			out[n++] = '|';
		memcpy(out + n, l, len);
		n += len;
		out[n] = '\0';
	}
	return out;
}

static void test_mem_lines(void **state)
{
	static const char data[] = "a,b\r\n\nccc\nlast";
	struct line_reader *r = lr_open_mem(data, sizeof(data) - 1, "m");
	const char *l;
	size_t len;

	(void)state;
	assert_non_null(r);
	l = lr_next(r, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(l, "a,b", 3);
	assert_int_equal(l[len], '\0');
	assert_int_equal(lr_lineno(r), 1);
	l = lr_next(r, &len);
	assert_int_equal(len, 0);
	assert_int_equal(lr_lineno(r), 2);
	l = lr_next(r, &len);
	assert_int_equal(len, 3);
	assert_int_equal(lr_lineno(r), 3);
	l = lr_next(r, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(l, "last", 4);
	assert_int_equal(l[len], '\0');
	assert_null(lr_next(r, &len));
	assert_int_equal(lr_error(r, NULL), BSP_OK);
	lr_close(r);
}

static void test_file_lines_and_peek(void **state)
{
	char path[256];
	static const char data[] = "h1\r\nx\n\ny\r\nz";
	struct line_reader *r;
	const char *head;
	size_t hlen;
	char *s;

	(void)state;
	test_path(path, sizeof(path), "plain.txt");
	assert_int_equal(test_write_file(path, data, sizeof(data) - 1), 0);
	r = lr_open_file(path, NULL);
	assert_non_null(r);
	assert_true(lr_mtime(r) > 0);
	head = lr_peek(r, 1000, &hlen);
	assert_int_equal(hlen, sizeof(data) - 1);
	assert_memory_equal(head, data, hlen);
	s = all_lines(r);
	assert_string_equal(s, "h1|x||y|z");
	assert_int_equal(lr_lineno(r), 5);
	assert_int_equal(lr_error(r, NULL), BSP_OK);
	free(s);
	lr_close(r);
}

/* Lines that straddle the reader's internal blocks come out whole. */
static void test_file_large(void **state)
{
	char path[256];
	size_t n = 400000, total = 0, len;
	FILE *f;
	struct line_reader *r;
	const char *l;
	uint64_t count = 0;

	(void)state;
	test_path(path, sizeof(path), "large.txt");
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		total += (size_t)fprintf(f, "line-%zu-%0*d\n", i,
					 (int)(i % 37), 0);
	fclose(f);
	assert_true(total > 2 * (1u << 20));
	r = lr_open_file(path, NULL);
	assert_non_null(r);
	while ((l = lr_next(r, &len))) {
		char want[128];
		int k = snprintf(want, sizeof(want), "line-%llu-%0*d",
				 (unsigned long long)count,
				 (int)(count % 37), 0);
		assert_int_equal(len, (size_t)k);
		assert_memory_equal(l, want, len);
		count++;
	}
	assert_int_equal(count, n);
	assert_int_equal(lr_error(r, NULL), BSP_OK);
	lr_close(r);
}

static void check_overlong(struct line_reader *r)
{
	const char *l;
	size_t len;

	l = lr_next(r, &len);
	assert_non_null(l);
	assert_int_equal(len, 2);
	assert_false(lr_overlong(r));
	l = lr_next(r, &len);
	assert_non_null(l);
	assert_int_equal(len, 0);
	assert_true(lr_overlong(r));
	assert_int_equal(lr_lineno(r), 2);
	l = lr_next(r, &len);
	assert_non_null(l);
	assert_false(lr_overlong(r));
	assert_int_equal(len, 4);
	assert_memory_equal(l, "next", 4);
	assert_int_equal(lr_lineno(r), 3);
	assert_null(lr_next(r, &len));
	assert_int_equal(lr_error(r, NULL), BSP_OK);
}

static void test_overlong(void **state)
{
	size_t big = 3 * INGEST_MAX_LINE + 17;
	char *data = malloc(big + 16), path[256];
	struct line_reader *r;

	(void)state;
	assert_non_null(data);
	memcpy(data, "ok\n", 3);
	memset(data + 3, 'x', big);
	memcpy(data + 3 + big, "\nnext\n", 6);
	r = lr_open_mem(data, big + 9, "m");
	check_overlong(r);
	lr_close(r);

	test_path(path, sizeof(path), "overlong.txt");
	assert_int_equal(test_write_file(path, data, big + 9), 0);
	r = lr_open_file(path, NULL);
	assert_non_null(r);
	check_overlong(r);
	lr_close(r);

	/* Just over the limit, within one buffer of the reader. */
	memset(data + 3, 'y', INGEST_MAX_LINE + 1);
	memcpy(data + 3 + INGEST_MAX_LINE + 1, "\nnext\n", 6);
	assert_int_equal(test_write_file(path, data, INGEST_MAX_LINE + 10), 0);
	r = lr_open_file(path, NULL);
	assert_non_null(r);
	check_overlong(r);
	lr_close(r);
	free(data);
}

static void write_gz(const char *path, const char *data, size_t len)
{
	gzFile gz = gzopen(path, "wb");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, data, (unsigned)len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
}

static void test_gzip_round_trip(void **state)
{
	char path[256], *s;
	struct line_reader *r;
	const char *head;
	size_t hlen;
	gzFile gz;

	(void)state;
	test_path(path, sizeof(path), "a.data"); /* no .gz: magic decides */
	write_gz(path, "one\ntwo\r\nthree", 14);
	r = lr_open_file(path, NULL);
	assert_non_null(r);
	head = lr_peek(r, 100, &hlen);
	assert_int_equal(hlen, 14);
	assert_memory_equal(head, "one\ntwo", 7);
	s = all_lines(r);
	assert_string_equal(s, "one|two|three");
	free(s);
	assert_int_equal(lr_error(r, NULL), BSP_OK);
	lr_close(r);

	/* Two gzip members back to back read as one stream. */
	test_path(path, sizeof(path), "two.gz");
	write_gz(path, "a\nb\n", 4);
	gz = gzopen(path, "ab");
	assert_non_null(gz);
	gzputs(gz, "c\n");
	gzclose(gz);
	r = lr_open_file(path, NULL);
	s = all_lines(r);
	assert_string_equal(s, "a|b|c");
	free(s);
	assert_int_equal(lr_error(r, NULL), BSP_OK);
	lr_close(r);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static void expect_corrupt(const char *path)
{
	struct bsp_error err = {0};
	struct line_reader *r = lr_open_file(path, NULL);
	size_t len;

	assert_non_null(r);
	while (lr_next(r, &len))
		;
	assert_int_equal(lr_error(r, &err), BSP_ECORRUPT);
	assert_non_null(strstr(err.msg, "truncated or corrupt gzip data"));
	assert_non_null(strstr(err.msg, path));
	lr_close(r);
}

static void test_gzip_truncated_and_corrupt(void **state)
{
	char path[256], cut[256], bad[256];
	size_t n = 200000, len;
	char *data = malloc(n), *gz;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = i % 50 == 49 ? '\n' : (char)('a' + (i * 7919) % 26);
	test_path(path, sizeof(path), "whole.gz");
	write_gz(path, data, n);
	gz = read_all(path, &len);

	test_path(cut, sizeof(cut), "cut.gz");
	assert_int_equal(test_write_file(cut, gz, len / 2), 0);
	expect_corrupt(cut);
	assert_int_equal(test_write_file(cut, gz, len - 4), 0); /* no size */
	expect_corrupt(cut);
	assert_int_equal(test_write_file(cut, gz, 2), 0); /* magic only */
	expect_corrupt(cut);

	test_path(bad, sizeof(bad), "flipped.gz");
	for (size_t i = len / 3; i < len / 3 + 64; i++)
		gz[i] ^= 0x5a;
	assert_int_equal(test_write_file(bad, gz, len), 0);
	expect_corrupt(bad);
	free(gz);
	free(data);
}

static void test_open_missing(void **state)
{
	struct bsp_error err = {0};

	(void)state;
	assert_null(lr_open_file("/nonexistent/file.csv", &err));
	assert_int_equal(err.code, BSP_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/file.csv"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_lines),
		cmocka_unit_test(test_file_lines_and_peek),
		cmocka_unit_test(test_file_large),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_gzip_round_trip),
		cmocka_unit_test(test_gzip_truncated_and_corrupt),
		cmocka_unit_test(test_open_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
