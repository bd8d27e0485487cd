/*
 * Prometheus remote-write decoding: requests built with the generated
 * protobuf-c code and compressed with snappy, as a Prometheus sends them,
 * decoded into a batch and stored; then the refusals.
 */
#include <math.h>

#include <snappy-c.h>

#include "testutil.h"

#include "bespoke/bespoke.h"
#include "remote.pb-c.h"

typedef Bespoke__Prompb__Label Label;
typedef Bespoke__Prompb__Sample Sample;
typedef Bespoke__Prompb__TimeSeries Series;

/* Packs and compresses a request of n series; *out malloc'd. */
static size_t encode(Series **series, size_t n, char **out)
{
	Bespoke__Prompb__WriteRequest wr = BESPOKE__PROMPB__WRITE_REQUEST__INIT;
	wr.n_timeseries = n;
	wr.timeseries = series;
	size_t len = bespoke__prompb__write_request__get_packed_size(&wr);
	uint8_t *raw = malloc(len + 1);
	assert_non_null(raw);
	bespoke__prompb__write_request__pack(&wr, raw);
	size_t clen = snappy_max_compressed_length(len);
	*out = malloc(clen);
	assert_non_null(*out);
	assert_int_equal(snappy_compress((char *)raw, len, *out, &clen),
			 SNAPPY_OK);
	free(raw);
	return clen;
}

static void test_decode_and_store(void **state)
{
	Label l[5] = {BESPOKE__PROMPB__LABEL__INIT, BESPOKE__PROMPB__LABEL__INIT,
		      BESPOKE__PROMPB__LABEL__INIT, BESPOKE__PROMPB__LABEL__INIT,
		      BESPOKE__PROMPB__LABEL__INIT};
	Sample s[3] = {BESPOKE__PROMPB__SAMPLE__INIT,
		       BESPOKE__PROMPB__SAMPLE__INIT,
		       BESPOKE__PROMPB__SAMPLE__INIT};
	Series a = BESPOKE__PROMPB__TIME_SERIES__INIT,
	       b = BESPOKE__PROMPB__TIME_SERIES__INIT;
	Label *la[3] = {&l[0], &l[1], &l[2]}, *lb[2] = {&l[3], &l[4]};
	Sample *sa[2] = {&s[0], &s[1]}, *sb[1] = {&s[2]};
	Series *all[2] = {&a, &b};
	struct bsp_ingest_report rep;
	struct bsp_error err = {0};
	struct bsp_store *st = NULL;
	struct bsp_series ser;
	bsp_time *ts;
	double *v;
	size_t n;
	char *body, path[256];

	(void)state;
	/* Labels in any order, as a sender may put them. */
	l[0].name = "job", l[0].value = "node";
	l[1].name = "__name__", l[1].value = "node_memory_MemFree_bytes";
	l[2].name = "instance", l[2].value = "host1:9100";
	s[0].value = 1.5e9, s[0].timestamp = 1767225600000;
	s[1].value = 1.25e9, s[1].timestamp = 1767225615000;
	a.n_labels = 3, a.labels = la, a.n_samples = 2, a.samples = sa;
	l[3].name = "__name__", l[3].value = "up";
	l[4].name = "job", l[4].value = "self";
	s[2].value = 1, s[2].timestamp = 1767225600000;
	b.n_labels = 2, b.labels = lb, b.n_samples = 1, b.samples = sb;
	size_t len = encode(all, 2, &body);

	/* Checked only (no batch): the same counts. */
	assert_int_equal(bsp_ingest_remote_write(NULL, body, len, "collector",
						 1 << 20, &rep, &err),
			 BSP_OK);
	assert_int_equal(rep.samples, 3);
	struct bsp_batch *bt = bsp_batch_new();
	assert_int_equal(bsp_ingest_remote_write(bt, body, len, "collector",
						 1 << 20, &rep, &err),
			 BSP_OK);
	assert_int_equal(rep.samples, 3);
	assert_int_equal(rep.lines, 2);
	assert_int_equal(bsp_batch_n_series(bt), 2);
	test_path(path, sizeof(path), "rw.db");
	unlink(path);
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_CREATE, &err),
			 BSP_OK);
	assert_int_equal(bsp_store_write(st, bt, NULL, &err), BSP_OK);
	bsp_batch_free(bt);
	assert_int_equal(bsp_store_series_find(st, "host1:9100",
					       "node_memory_MemFree_bytes",
					       "job=\"node\"", &ser, &err),
			 BSP_OK);
	assert_string_equal(ser.unit, "bytes");
	assert_int_equal(bsp_store_read(st, ser.id, 0, INT64_MAX, &ts, &v, &n,
					&err),
			 BSP_OK);
	assert_int_equal(n, 2);
	assert_true(ts[0] == 1767225600000 && ts[1] == 1767225615000);
	assert_true(v[0] == 1.5e9 && v[1] == 1.25e9);
	free(ts);
	free(v);
	bsp_series_release(&ser);
	/* No instance label: the default entity. */
	assert_int_equal(bsp_store_series_find(st, "collector", "up",
					       "job=\"self\"", &ser, &err),
			 BSP_OK);
	bsp_series_release(&ser);
	bsp_store_close(st);

	/* Refusals: over the size limit, no default for a series without an
	 * instance, a series without a name. */
	bt = bsp_batch_new();
	assert_int_equal(bsp_ingest_remote_write(bt, body, len, "c", 16, &rep,
						 &err),
			 BSP_ELIMIT);
	assert_int_equal(bsp_ingest_remote_write(bt, body, len, NULL, 1 << 20,
						 &rep, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "series 1 (up)"));
	free(body);
	l[3].name = "name";
	len = encode(all, 2, &body);
	assert_int_equal(bsp_ingest_remote_write(bt, body, len, "c", 1 << 20,
						 &rep, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "series 1: no __name__"));
	free(body);
	bsp_batch_free(bt);
}

static void test_not_snappy_not_protobuf(void **state)
{
	struct bsp_ingest_report rep;
	struct bsp_error err = {0};
	struct bsp_batch *bt = bsp_batch_new();
	char out[64];
	size_t olen = sizeof(out);

	(void)state;
	assert_int_equal(bsp_ingest_remote_write(bt, "hello", 5, "c", 1 << 20,
						 &rep, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "snappy"));
	/* Valid snappy around bytes that are no WriteRequest. */
	assert_int_equal(snappy_compress("\xff\xff\xff\xff", 4, out, &olen),
			 SNAPPY_OK);
	assert_int_equal(bsp_ingest_remote_write(bt, out, olen, "c", 1 << 20,
						 &rep, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "WriteRequest"));
	/* Empty request: valid, nothing in it. */
	olen = sizeof(out);
	assert_int_equal(snappy_compress("", 0, out, &olen), SNAPPY_OK);
	assert_int_equal(bsp_ingest_remote_write(bt, out, olen, "c", 1 << 20,
						 &rep, &err),
			 BSP_OK);
	assert_int_equal(rep.samples, 0);
	bsp_batch_free(bt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_and_store),
		cmocka_unit_test(test_not_snappy_not_protobuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
