/*
 * Every ingest format through bsp_ingest_buffer: good lines give the right
 * entities, series, units, samples, attributes and events; bad lines and
 * values are counted and reported as NAME:LINE: reason with the right line
 * numbers; abort mode stops; detection picks the right format for a small
 * sample of each (and for the real traces when ../shared/data, or
 * $SHARED_DATA, is there).
 */
#include "testutil.h"

#include <math.h>
#include <time.h>

#include "bespoke/bespoke.h"
#include "ingest/ingest_int.h"

#define MAX_KEPT 64

struct run {
	struct bsp_batch *b;
	struct bsp_ingest_report rep;
	struct bsp_error err;
	bsp_err rc;
	int n_diags;
	char diags[MAX_KEPT][BSP_ERROR_MAX];
};

static void on_diag(void *ud, const char *line)
{
	struct run *r = ud;

	if (r->n_diags < MAX_KEPT)
		snprintf(r->diags[r->n_diags], BSP_ERROR_MAX, "%s", line);
	r->n_diags++;
}

static struct run *run_opts(const char *name, const char *data,
			    struct bsp_ingest_options *opt)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->b = bsp_batch_new();
	assert_non_null(r->b);
	opt->diag = on_diag;
	opt->ud = r;
	r->rc = bsp_ingest_buffer(r->b, name, data, strlen(data), opt, &r->rep,
				  &r->err);
	return r;
}

static struct run *run(const char *name, const char *format, const char *data)
{
	struct bsp_ingest_options opt = {0};

	opt.format = format;
	return run_opts(name, data, &opt);
}

static void run_free(struct run *r)
{
	bsp_batch_free(r->b);
	free(r);
}

/* The series (entity, metric, labels), or a failed test. */
static struct bsp_batch_series_view find(struct run *r, const char *entity,
					 const char *metric, const char *labels)
{
	struct bsp_batch_series_view v;

	for (size_t i = 0; i < bsp_batch_n_series(r->b); i++) {
		bsp_batch_series_view(r->b, i, &v);
		if (!strcmp(v.entity, entity) && !strcmp(v.metric, metric) &&
		    !strcmp(v.labels, labels ? labels : ""))
			return v;
	}
	print_error("no series %s/%s{%s}\n", entity, metric,
		    labels ? labels : "");
	fail();
	memset(&v, 0, sizeof(v));
	return v;
}

static const char *attr(struct run *r, const char *entity, const char *key)
{
	const char *val = NULL;

	for (size_t i = 0; i < bsp_batch_n_attrs(r->b); i++) {
		struct bsp_batch_attr_view a;
		bsp_batch_attr_view(r->b, i, &a);
		if (!strcmp(a.entity, entity) && !strcmp(a.key, key))
			val = a.value;
	}
	return val;
}

/* Is there a diagnostic line that starts with `prefix` and holds `text`? */
static int has_diag(struct run *r, const char *prefix, const char *text)
{
	for (int i = 0; i < r->n_diags && i < MAX_KEPT; i++)
		if (!strncmp(r->diags[i], prefix, strlen(prefix)) &&
		    strstr(r->diags[i], text))
			return 1;
	return 0;
}

#define EXPECT_DIAG(r, prefix, text)                                        \
	do {                                                                \
		if (!has_diag((r), (prefix), (text))) {                     \
			for (int i_ = 0; i_ < (r)->n_diags && i_ < MAX_KEPT; \
			     i_++)                                          \
				print_error("diag: %s\n", (r)->diags[i_]);  \
			fail_msg("no diagnostic %s...%s", (prefix), (text)); \
		}                                                           \
	} while (0)

/* ---- csv ----------------------------------------------------------------- */

static void test_csv_header_any_order(void **state)
{
	struct run *r;
	struct bsp_batch_series_view v;

	(void)state;
	r = run("x.csv", "csv",
		"unit,value,ts,metric,entity\n"
		"%,1.5,1372629804,cpu,vm1\n"
		"%,2.5,1372629805000,cpu,vm1\n"
		"%,3,2013-07-01T00:00:00Z,cpu,vm1\n"
		"KB,-4,1372629804,mem,vm2\n");
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(r->rep.lines, 4);
	assert_int_equal(r->rep.samples, 4);
	assert_int_equal(r->rep.bad_lines + r->rep.bad_values, 0);
	assert_int_equal(bsp_batch_n_series(r->b), 2);
	v = find(r, "vm1", "cpu", "");
	assert_string_equal(v.unit, "%");
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ts[0], 1372629804000LL);
	assert_int_equal(v.ts[1], 1372629805000LL);
	assert_int_equal(v.ts[2], 1372636800000LL);
	assert_true(v.values[0] == 1.5 && v.values[2] == 3.0);
	v = find(r, "vm2", "mem", "");
	assert_string_equal(v.unit, "KB");
	assert_true(v.values[0] == -4.0); /* negatives are fine here */
	run_free(r);
}

static void test_csv_no_header(void **state)
{
	struct run *r;
	struct bsp_batch_series_view v;

	(void)state;
	r = run("x.csv", NULL, /* detected */
		"a,cpu,100,1\n"
		"a,cpu,200,2\n"
		"\"b,c\",cpu,100,\"3\",MHz\n");
	assert_int_equal(r->rc, BSP_OK);
	v = find(r, "a", "cpu", "");
	assert_int_equal(v.n, 2);
	assert_int_equal(v.ts[1], 200000);
	v = find(r, "b,c", "cpu", "");
	assert_string_equal(v.unit, "MHz");
	assert_true(v.values[0] == 3.0);
	run_free(r);
}

static const char csv_bad[] =
	"a,cpu,100,1\n"          /* 1 ok */
	"a,cpu,100\n"            /* 2 bad line: columns */
	"a,cpu,xyz,1\n"          /* 3 bad line: time */
	"a,cpu,100,abc\n"        /* 4 bad value */
	"a,cpu,100,NaN\n"        /* 5 bad value */
	"a,cpu,100,-inf\n"       /* 6 bad value */
	"a,cpu,100,1e400\n"      /* 7 bad value: overflow */
	"\n"                     /* 8 blank: silent */
	",cpu,100,1\n"           /* 9 bad line: empty entity */
	"a,cpu,300,3\n"          /* 10 ok */
	"a,\"cpu,100,3\n"        /* 11 bad line: quotes */
	"a,cpu,100,\n";          /* 12 bad value: empty */

static void test_csv_bad_lines(void **state)
{
	struct run *r;

	(void)state;
	r = run("in.csv", "csv", csv_bad);
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(r->rep.lines, 11);
	assert_int_equal(r->rep.bad_lines, 4);
	assert_int_equal(r->rep.bad_values, 5);
	assert_int_equal(r->rep.samples, 2);
	assert_int_equal(r->n_diags, 9);
	EXPECT_DIAG(r, "in.csv:2: ", "expected 4 or 5 columns");
	EXPECT_DIAG(r, "in.csv:3: ", "column 3 (timestamp): not a time: 'xyz'");
	EXPECT_DIAG(r, "in.csv:4: ", "column 4 (value): not a number: 'abc'");
	EXPECT_DIAG(r, "in.csv:5: ", "column 4 (value): not a finite number");
	EXPECT_DIAG(r, "in.csv:6: ", "not a finite number: '-inf'");
	EXPECT_DIAG(r, "in.csv:7: ", "out of range: '1e400'");
	EXPECT_DIAG(r, "in.csv:9: ", "column 1 (entity): empty");
	EXPECT_DIAG(r, "in.csv:11: ", "quotes");
	EXPECT_DIAG(r, "in.csv:12: ", "column 4 (value): empty");
	run_free(r);
}

static void test_csv_abort(void **state)
{
	struct bsp_ingest_options opt = {0};
	struct run *r;

	(void)state;
	opt.format = "csv";
	opt.on_error = BSP_ON_ERROR_ABORT;
	r = run_opts("in.csv", csv_bad, &opt);
	assert_int_equal(r->rc, BSP_EINVAL);
	assert_non_null(strstr(r->err.msg, "in.csv:2: expected 4 or 5"));
	assert_non_null(strstr(r->err.msg, "abort"));
	assert_int_equal(r->rep.files_failed, 1);
	assert_int_equal(r->rep.files, 0);
	assert_int_equal(r->rep.bad_lines, 1);
	assert_int_equal(r->n_diags, 0); /* the error says it all */
	run_free(r);
}

static void test_csv_diag_cap(void **state)
{
	struct bsp_ingest_options opt = {0};
	char data[4096];
	size_t k = 0;
	struct run *r;

	(void)state;
	for (int i = 0; i < 30; i++)
		k += (size_t)snprintf(data + k, sizeof(data) - k,
				      "a,m,%d,bad\n", i);
	opt.format = "csv";
	opt.max_diags_per_file = 5;
	r = run_opts("cap.csv", data, &opt);
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(r->rep.bad_values, 30);
	assert_int_equal(r->n_diags, 6);
	EXPECT_DIAG(r, "cap.csv:5: ", "not a number");
	EXPECT_DIAG(r, "cap.csv: ", "25 more problems not shown");
	run_free(r);

	/* The default cap is 20. */
	opt.max_diags_per_file = 0;
	r = run_opts("cap.csv", data, &opt);
	assert_int_equal(r->n_diags, 21);
	run_free(r);
}

static void test_csv_duplicates_and_order(void **state)
{
	struct run *r;
	struct bsp_batch_series_view v;

	(void)state;
	r = run("d.csv", "csv", "a,m,300,3\na,m,100,1\na,m,200,2\na,m,100,9\n");
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(r->rep.samples, 4);
	bsp_batch_sort_series(r->b);
	v = find(r, "a", "m", "");
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ts[0], 100000);
	assert_true(v.values[0] == 9.0); /* the last line wins */
	assert_int_equal(v.ts[2], 300000);
	run_free(r);
}

static void test_csv_header_missing_column(void **state)
{
	struct run *r;

	(void)state;
	r = run("h.csv", "csv", "entity,metric,timestamp\na,m,1\n");
	assert_int_equal(r->rc, BSP_EINVAL);
	assert_non_null(strstr(r->err.msg, "h.csv: the header names no "
					   "'value' column"));
	run_free(r);
}

static void test_overlong_line(void **state)
{
	size_t n = INGEST_MAX_LINE + 100;
	char *data = malloc(n + 64);
	struct run *r;

	(void)state;
	assert_non_null(data);
	memcpy(data, "a,m,1,1\n", 8);
	memset(data + 8, 'z', n);
	memcpy(data + 8 + n, "\na,m,2,2\n", 10);
	r = run("long.csv", "csv", data);
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(r->rep.samples, 2);
	assert_int_equal(r->rep.bad_lines, 1);
	EXPECT_DIAG(r, "long.csv:2: ", "line longer than");
	run_free(r);
	free(data);
}

/* ---- bitbrains ------------------------------------------------------- */

static const char bb_header[] =
	"Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU "
	"usage [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\t"
	"Memory usage [KB];\tDisk read throughput [KB/s];\tDisk write "
	"throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork "
	"transmitted throughput [KB/s]\n";

static void test_bitbrains(void **state)
{
	char data[2048];
	struct run *r;
	struct bsp_batch_series_view v;

	(void)state;
	snprintf(data, sizeof(data), "%s%s", bb_header,
		 "1372629804;\t2;\t5851.9989;\t87.78;\t1.5;\t8218624.0;\t"
		 "1034592.8;\t160.5;\t21.5;\t0.25;\t1.5\r\n"
		 "1372630104;\t2;\t5851.9989;\t29.25;\t0.5;\t8218624.0;\t"
		 "458575.5;\t0.0;\t2.5;\t-0.2;\t1.0\n"
		 "1372630404;\t2;\t5851.9989;\t29.25;\t0.5;\t8218624.0;\t"
		 "458575.5;\t0.0;\t2.5;\t0.2\n"
		 "1372630704;\t2;\t5851.9989;\tNaN;\t0.5;\t8218624.0;\t"
		 "458575.5;\t0.0;\t2.5;\t0.2;\t1.0\n");
	r = run("2013-7/42.csv.gz", NULL, data);
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(bsp_batch_n_series(r->b), 12);
	assert_int_equal(r->rep.lines, 4);
	assert_int_equal(r->rep.bad_lines, 1);
	assert_int_equal(r->rep.bad_values, 2);
	EXPECT_DIAG(r, "2013-7/42.csv.gz:3: ",
		    "column 10 (net_rx): negative value: '-0.2'");
	EXPECT_DIAG(r, "2013-7/42.csv.gz:4: ", "expected 11 columns");
	EXPECT_DIAG(r, "2013-7/42.csv.gz:5: ", "column 4 (cpu_usage)");

	v = find(r, "42", "cpu_capacity", "");
	assert_string_equal(v.unit, "MHz");
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ts[0], 1372629804000LL);
	assert_true(v.values[0] == 5851.9989);
	v = find(r, "42", "cpu_usage", "");
	assert_int_equal(v.n, 2);
	v = find(r, "42", "cpu_usage_pct", "");
	assert_string_equal(v.unit, "%");
	v = find(r, "42", "mem_usage", "");
	assert_string_equal(v.unit, "KB");
	assert_true(v.values[0] == 1034592.8);
	v = find(r, "42", "disk_total", "");
	assert_string_equal(v.unit, "KB/s");
	assert_int_equal(v.n, 3);
	assert_true(v.values[0] == 160.5 + 21.5);
	v = find(r, "42", "net_total", "");
	assert_int_equal(v.n, 2); /* not where net_rx was bad */
	assert_true(v.values[0] == 1.75);
	assert_true(v.values[1] == 1.2);
	v = find(r, "42", "net_rx", "");
	assert_int_equal(v.n, 2);
	find(r, "42", "cpu_cores", "");
	find(r, "42", "mem_capacity", "");
	find(r, "42", "disk_read", "");
	find(r, "42", "disk_write", "");
	find(r, "42", "net_tx", "");
	run_free(r);
}

static void test_bitbrains_entity_option(void **state)
{
	struct bsp_ingest_options opt = {0};
	struct run *r;

	(void)state;
	opt.format = "bitbrains";
	opt.entity = "vm-x";
	r = run_opts("1.csv", "1372629804;\t2;\t1;\t1;\t1;\t1;\t1;\t1;\t1;\t1;\t1\n",
		     &opt);
	assert_int_equal(r->rc, BSP_OK);
	find(r, "vm-x", "net_total", "");
	run_free(r);
}

/* ---- planetlab ---------------------------------------------------------- */

static void test_planetlab(void **state)
{
	char data[4096];
	size_t k = 0;
	struct run *r;
	struct bsp_batch_series_view v;
	const bsp_time day = 1299110400000LL; /* 2011-03-03 */

	(void)state;
	r = run("planetlab/20110303/vm_a", "planetlab", "5\n7\n\n9\nabc\n-3\n");
	assert_int_equal(r->rc, BSP_OK);
	v = find(r, "vm_a", "cpu_usage_pct", "");
	assert_string_equal(v.unit, "%");
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ts[0], day);
	assert_int_equal(v.ts[1], day + 5 * 60000);
	assert_int_equal(v.ts[2], day + 15 * 60000); /* line 4 */
	assert_true(v.values[2] == 9.0);
	assert_int_equal(r->rep.bad_values, 2);
	EXPECT_DIAG(r, "planetlab/20110303/vm_a:5: ", "not a number: 'abc'");
	EXPECT_DIAG(r, "planetlab/20110303/vm_a:6: ", "negative value");
	run_free(r);

	for (int i = 0; i < 290; i++)
		k += (size_t)snprintf(data + k, sizeof(data) - k, "%d\n",
				      i % 100);
	r = run("20110303/vm_b", "planetlab", data);
	assert_int_equal(r->rc, BSP_OK);
	v = find(r, "vm_b", "cpu_usage_pct", "");
	assert_int_equal(v.n, 288);
	assert_int_equal(v.ts[287], day + 287 * 300000LL);
	assert_int_equal(r->rep.bad_lines, 2);
	EXPECT_DIAG(r, "20110303/vm_b:289: ", "more than 288 values");
	run_free(r);

	r = run("notadate/vm_c", "planetlab", "5\n");
	assert_int_equal(r->rc, BSP_EINVAL);
	assert_non_null(strstr(r->err.msg, "notadate/vm_c: folder name "
					   "'notadate' is not a date"));
	run_free(r);
}

/* ---- azure ------------------------------------------------------------- */

static void test_azure_vmtable(void **state)
{
	struct run *r;

	(void)state;
	r = run("vmtable.csv", "azure-vmtable",
		"vmA,subA,depA,0,2591400,97.29,9.85,63.69,Delay-insensitive,"
		"2,2,2591400\n"
		"vmB,subB,depB,300,86400,x,20.5,50,Interactive,>24,>64\n"
		"vmC,subC,depC,300\n");
	assert_int_equal(r->rc, BSP_OK);
	assert_string_equal(attr(r, "vmA", "subscription"), "subA");
	assert_string_equal(attr(r, "vmA", "deployment"), "depA");
	assert_string_equal(attr(r, "vmA", "created"), "0");
	assert_string_equal(attr(r, "vmA", "deleted"), "2591400");
	assert_string_equal(attr(r, "vmA", "max_cpu"), "97.29");
	assert_string_equal(attr(r, "vmA", "avg_cpu"), "9.85");
	assert_string_equal(attr(r, "vmA", "p95_max_cpu"), "63.69");
	assert_string_equal(attr(r, "vmA", "category"), "Delay-insensitive");
	assert_string_equal(attr(r, "vmA", "cores_bucket"), "2");
	assert_string_equal(attr(r, "vmA", "memory_gb_bucket"), "2");
	assert_string_equal(attr(r, "vmA", "duration"), "2591400");
	assert_string_equal(attr(r, "vmA", "source"), "azure-v1");
	assert_null(attr(r, "vmB", "max_cpu"));
	assert_string_equal(attr(r, "vmB", "category"), "Interactive");
	assert_string_equal(attr(r, "vmB", "cores_bucket"), ">24");
	assert_null(attr(r, "vmB", "duration"));
	assert_null(attr(r, "vmC", "source"));
	assert_int_equal(r->rep.bad_values, 1);
	assert_int_equal(r->rep.bad_lines, 1);
	EXPECT_DIAG(r, "vmtable.csv:2: ", "column 6 (max_cpu): not a number");
	EXPECT_DIAG(r, "vmtable.csv:3: ", "expected 11 or 12 columns, found 4");
	run_free(r);

	r = run("v.csv", "azure-vmtable",
		"vm_id,subscription_id,deployment_id,timestamp_vm_created,"
		"timestamp_vm_deleted,max_cpu,avg_cpu,p95_max_cpu,vm_category,"
		"vm_virtual_core_count_bucket,vm_memory_gb_bucket\n"
		"vmA,s,d,0,1,2,3,4,Unknown,2,4\n");
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(r->rep.lines, 1);
	assert_string_equal(attr(r, "vmA", "memory_gb_bucket"), "4");
	run_free(r);
}

static void test_azure_cpu(void **state)
{
	struct run *r;
	struct bsp_batch_series_view v;

	(void)state;
	r = run("vm_cpu_readings-file-1-of-125.csv", NULL,
		"0,vmA,1.5,10.2,5.0\n300,vmA,2,11,6\n300,vmB,1,2,1.5\n"
		"600,vmB,1,2\n900,vmB,1,-2,1\n");
	assert_int_equal(r->rc, BSP_OK);
	v = find(r, "vmA", "cpu_min", "");
	assert_string_equal(v.unit, "%");
	assert_int_equal(v.n, 2);
	assert_int_equal(v.ts[1], 300000);
	v = find(r, "vmA", "cpu_avg", "");
	assert_true(v.values[0] == 5.0);
	v = find(r, "vmB", "cpu_max", "");
	assert_int_equal(v.n, 1);
	v = find(r, "vmB", "cpu_min", "");
	assert_int_equal(v.n, 2);
	EXPECT_DIAG(r, "vm_cpu_readings-file-1-of-125.csv:4: ",
		    "expected 5 columns");
	EXPECT_DIAG(r, "vm_cpu_readings-file-1-of-125.csv:5: ",
		    "column 4 (cpu_max): negative");
	run_free(r);

	r = run("c.csv", "azure-cpu",
		"timestamp,vm_id,min_cpu,max_cpu,avg_cpu\n0,v,1,2,3\n");
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(r->rep.lines, 1);
	assert_int_equal(r->rep.samples, 3);
	run_free(r);
}

/* ---- alibaba ------------------------------------------------------------ */

static void test_alibaba(void **state)
{
	struct run *r;
	struct bsp_batch_series_view v;

	(void)state;
	r = run("machine_usage.csv", "alibaba",
		"m_1,386650,42,93,1.5,2,3,4,5\n"
		"m_1,386640,41,92,,,,,\n"
		"m_2,100,-1,50,,,,,\n"
		"m_2,110,1,50,,,,\n");
	assert_int_equal(r->rc, BSP_OK);
	v = find(r, "m_1", "cpu_util_pct", "");
	assert_string_equal(v.unit, "%");
	assert_int_equal(v.n, 2);
	v = find(r, "m_1", "mem_gps", "");
	assert_int_equal(v.n, 1);
	assert_true(v.values[0] == 1.5);
	find(r, "m_1", "mkpi", "");
	find(r, "m_1", "net_in", "");
	find(r, "m_1", "net_out", "");
	v = find(r, "m_1", "disk_io_pct", "");
	assert_true(v.values[0] == 5.0);
	v = find(r, "m_2", "mem_util_pct", "");
	assert_int_equal(v.n, 1);
	assert_int_equal(r->rep.bad_values, 1); /* empty fields do not count */
	assert_int_equal(r->rep.bad_lines, 1);
	EXPECT_DIAG(r, "machine_usage.csv:3: ", "column 3 (cpu_util_pct): "
						 "negative value: '-1'");
	EXPECT_DIAG(r, "machine_usage.csv:4: ", "expected 9 columns, found 8");
	/* m_2 has no series for metrics that were never measured */
	for (size_t i = 0; i < bsp_batch_n_series(r->b); i++) {
		bsp_batch_series_view(r->b, i, &v);
		assert_true(v.n > 0);
	}
	run_free(r);
}

/* ---- prometheus -------------------------------------------------------- */

static const char prom_text[] =
	"# HELP node_cpu_seconds_total Seconds the CPUs spent.\n"     /* 1 */
	"# TYPE node_cpu_seconds_total counter\n"                     /* 2 */
	"node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 3.4e+04 "
	"1700000000000\n"                                             /* 3 */
	"node_cpu_seconds_total{ mode = \"user\", cpu=\"0\", "
	"instance=\"host1:9100\", } 12.5\n"                           /* 4 */
	"node_memory_MemFree_bytes 1.5e9\n"                           /* 5 */
	"http_requests_total{path=\"/a\\\"b\\\\c\\nd\",code=\"200\"} 7 "
	"1700000000000\n"                                             /* 6 */
	"weird_gauge NaN\n"                                           /* 7 */
	"hist_bucket{le=\"+Inf\"} +Inf\n"                             /* 8 */
	"om_metric_total 1 1700000000.5 # {trace_id=\"x\"} 1\n"      /* 9 */
	"bad{a=\"\\q\"} 1\n"                                          /* 10 */
	"bad2{a=\"x\"\n"                                              /* 11 */
	"bad3 abc\n"                                                  /* 12 */
	"bad4 1 notatime\n"                                           /* 13 */
	"bad5{a=\"1\",a=\"2\"} 1\n"                                   /* 14 */
	"# EOF\n"                                                     /* 15 */
	"after 1\n";                                                  /* 16 */

static void test_prometheus(void **state)
{
	struct run *r;
	struct bsp_batch_series_view v;
	bsp_time before = (bsp_time)time(NULL) * 1000 - 1000;

	(void)state;
	r = run("scrape.prom", NULL, prom_text);
	assert_int_equal(r->rc, BSP_OK);
	v = find(r, "scrape", "node_cpu_seconds_total",
		 "cpu=\"0\",mode=\"idle\"");
	assert_string_equal(v.unit, "s");
	assert_int_equal(v.ts[0], 1700000000000LL);
	assert_true(v.values[0] == 34000.0);
	v = find(r, "host1:9100", "node_cpu_seconds_total",
		 "cpu=\"0\",mode=\"user\"");
	assert_true(v.ts[0] >= before && v.ts[0] <= before + 60000);
	assert_true(v.values[0] == 12.5);
	v = find(r, "scrape", "node_memory_MemFree_bytes", "");
	assert_string_equal(v.unit, "bytes");
	v = find(r, "scrape", "http_requests_total",
		 "code=\"200\",path=\"/a\\\"b\\\\c\\nd\"");
	assert_string_equal(v.unit, "");
	assert_true(v.values[0] == 7.0);
	v = find(r, "scrape", "weird_gauge", "");
	assert_true(isnan(v.values[0]));
	v = find(r, "scrape", "hist_bucket", "le=\"+Inf\"");
	assert_true(isinf(v.values[0]));
	v = find(r, "scrape", "om_metric_total", "");
	assert_int_equal(v.ts[0], 1700000000500LL);
	assert_int_equal(bsp_batch_n_series(r->b), 7);
	assert_int_equal(r->rep.lines, 13);
	assert_int_equal(r->rep.bad_lines, 6);
	assert_int_equal(r->rep.bad_values, 0);
	EXPECT_DIAG(r, "scrape.prom:10: ", "invalid escape '\\q'");
	EXPECT_DIAG(r, "scrape.prom:11: ", "expected ',' or '}'");
	EXPECT_DIAG(r, "scrape.prom:12: ", "value: not a number: 'abc'");
	EXPECT_DIAG(r, "scrape.prom:13: ", "timestamp: not a time");
	EXPECT_DIAG(r, "scrape.prom:14: ", "a label appears twice");
	EXPECT_DIAG(r, "scrape.prom:16: ", "text after '# EOF'");
	run_free(r);
}

static void test_prometheus_entity_option(void **state)
{
	struct bsp_ingest_options opt = {0};
	struct run *r;

	(void)state;
	opt.entity = "node7";
	r = run_opts("m.txt", "# TYPE up gauge\nup 1\nup{instance=\"\"} 0\n",
		     &opt);
	assert_int_equal(r->rc, BSP_OK);
	find(r, "node7", "up", "");
	assert_int_equal(bsp_batch_n_series(r->b), 1);
	run_free(r);
}

/* ---- events and histories --------------------------------------------- */

static void test_events(void **state)
{
	struct run *r;
	struct bsp_batch_event_view e;

	(void)state;
	r = run("ev.csv", NULL,
		"entity,timestamp,kind,name\n"
		"alice,2024-03-01T09:00:00Z,app,firefox\n"
		"bob,1709283600,app,vim\n"
		"alice,,app,\"term, with comma\"\n"
		"alice,notatime,app,x\n"
		"alice,1,,x\n");
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(bsp_batch_n_events(r->b), 3);
	assert_int_equal(r->rep.events, 3);
	bsp_batch_event_view(r->b, 0, &e);
	assert_string_equal(e.entity, "alice");
	assert_int_equal(e.ts, 1709283600000LL);
	assert_int_equal(e.seq, 0);
	assert_string_equal(e.kind, "app");
	assert_string_equal(e.name, "firefox");
	bsp_batch_event_view(r->b, 1, &e);
	assert_string_equal(e.entity, "bob");
	assert_int_equal(e.seq, 0);
	bsp_batch_event_view(r->b, 2, &e);
	assert_int_equal(e.ts, BSP_TIME_NONE);
	assert_int_equal(e.seq, 1);
	assert_string_equal(e.name, "term, with comma");
	assert_int_equal(r->rep.bad_lines, 2);
	EXPECT_DIAG(r, "ev.csv:5: ", "column 2 (timestamp): not a time");
	EXPECT_DIAG(r, "ev.csv:6: ", "column 3 (kind): empty");
	run_free(r);
}

static void test_history(void **state)
{
	struct run *r;
	struct bsp_batch_event_view e;

	(void)state;
	r = run("schonlau/User7", NULL, "ls\n\n  cd  \r\nmake\n");
	assert_int_equal(r->rc, BSP_OK);
	assert_int_equal(bsp_batch_n_events(r->b), 3);
	for (int i = 0; i < 3; i++) {
		bsp_batch_event_view(r->b, (size_t)i, &e);
		assert_string_equal(e.entity, "User7");
		assert_string_equal(e.kind, "command");
		assert_int_equal(e.ts, BSP_TIME_NONE);
		assert_int_equal(e.seq, i);
	}
	bsp_batch_event_view(r->b, 1, &e);
	assert_string_equal(e.name, "cd");
	run_free(r);
}

/* ---- detection and the format table ----------------------------------- */

static const char *detected(const char *path, const char *data)
{
	int best;
	const struct ingest_format *f =
		ingest_format_detect(data, strlen(data), path, &best);
	return f ? f->name : "(none)";
}

static void test_detection(void **state)
{
	char bb[1024];

	(void)state;
	snprintf(bb, sizeof(bb), "%s1372629804;\t2;\t1;\t1;\t1;\t1;\t1;\t1;\t"
				 "1;\t1;\t1\n",
		 bb_header);
	assert_string_equal(detected("1.csv", bb), "bitbrains");
	assert_string_equal(detected("1.csv", bb + sizeof(bb_header) - 1),
			    "bitbrains");
	assert_string_equal(detected("x.csv", "entity,metric,timestamp,value\n"
					      "a,b,1,2\n"),
			    "csv");
	assert_string_equal(detected("x.csv", "a,cpu,2013-07-01,2.5\n"
					      "a,cpu,1372629804,3,%\n"),
			    "csv");
	assert_string_equal(detected("d/20110303/vm", "10\n12\n0\n"),
			    "planetlab");
	assert_string_equal(detected("d/other/vm", "10\n12\n0\n"),
			    "planetlab");
	/* One bad line in five does not hide the format. */
	assert_string_equal(detected("d/20110303/vm", "10\n12\nx\n0\n5\n"),
			    "planetlab");
	assert_string_equal(detected("d/20110303/vm", "10\nx\ny\n0\n5\n"),
			    "(none)");
	assert_string_equal(detected("v", "vm_id,subscription_id,x\n"),
			    "azure-vmtable");
	assert_string_equal(detected("v", "a,b,c,0,1,2.5,3,4,Interactive,2,"
					  "4\n"),
			    "azure-vmtable");
	assert_string_equal(detected("c", "0,abcDEF+/,1.5,2,1.7\n"
					  "300,abcDEF+/,1.5,2,1.7\n"),
			    "azure-cpu");
	assert_string_equal(detected("m", "m_1,386640,41,92,,,,,\n"),
			    "alibaba");
	assert_string_equal(detected("m", "# HELP x y\nx 1\n"), "prometheus");
	assert_string_equal(detected("m", "x{a=\"b c\"} 1 1700000000000\n"
					  "y NaN\n"),
			    "prometheus");
	assert_string_equal(detected("e", "entity,timestamp,kind,name\n"),
			    "events");
	assert_string_equal(detected("e", "alice,1709283600,app,firefox\n"),
			    "events");
	assert_string_equal(detected("User1", "cpp\nsh\nxrdb\n"), "history");
	/* Not histories, not anything: matrices, empty files, prose. */
	assert_string_equal(detected("label.txt", "0 0 1 0\n0 1 0 0\n"),
			    "(none)");
	assert_string_equal(detected("x", ""), "(none)");
	assert_string_equal(detected("x", "hello there, world\n"), "(none)");
}

static void test_detect_error(void **state)
{
	struct run *r;

	(void)state;
	r = run("label.txt", NULL, "0 0 1\n1 0 0\n");
	assert_int_equal(r->rc, BSP_EINVAL);
	assert_string_equal(r->err.msg,
			    "label.txt: cannot tell the format; use --format");
	run_free(r);
	r = run("x", "no-such-format", "1\n");
	assert_int_equal(r->rc, BSP_EINVAL);
	assert_non_null(strstr(r->err.msg, "unknown format 'no-such-format'"));
	run_free(r);
}

static void test_format_table(void **state)
{
	size_t n = 0;

	(void)state;
	for (; bsp_ingest_format_name(n); n++) {
		assert_non_null(bsp_ingest_format_help(n));
		assert_ptr_equal(ingest_format_find(bsp_ingest_format_name(n)),
				 &ingest_formats[n]);
		for (size_t k = 0; k < n; k++)
			assert_string_not_equal(bsp_ingest_format_name(k),
						bsp_ingest_format_name(n));
	}
	assert_int_equal(n, 9);
	assert_null(bsp_ingest_format_help(n));
	assert_null(ingest_format_find("nope"));
}

/* The first file of each real data set is detected as its format. */
static void test_detect_real_data(void **state)
{
	static const struct {
		const char *path, *format;
	} cases[] = {
		{"bitbrains-rnd/2013-7/1.csv.gz", "bitbrains"},
		{"planetlab/20110303/146-179_surfsnel_dsl_internl_net_root",
		 "planetlab"},
		{"azure-v1/vmtable-sample.csv", "azure-vmtable"},
		{"schonlau/User1", "history"},
		{"schonlau/label.txt", NULL},
	};
	const char *data = getenv("SHARED_DATA");

	(void)state;
	if (!data || !*data)
		data = "../shared/data";
	if (access(data, R_OK) != 0) {
		print_message("skipped: %s not found\n", data);
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", data, cases[i].path);
		struct line_reader *lr = lr_open_file(path, NULL);
		const struct ingest_format *f;
		const char *head;
		size_t len;
		int best;

		if (!lr)
			continue;
		head = lr_peek(lr, INGEST_HEAD_MAX, &len);
		if (len == INGEST_HEAD_MAX)
			len = (size_t)((const char *)memrchr(head, '\n', len) -
				       head) + 1;
		f = ingest_format_detect(head, len, path, &best);
		if (cases[i].format)
			assert_string_equal(f ? f->name : "(none)",
					    cases[i].format);
		else
			assert_null(f);
		lr_close(lr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_header_any_order),
		cmocka_unit_test(test_csv_no_header),
		cmocka_unit_test(test_csv_bad_lines),
		cmocka_unit_test(test_csv_abort),
		cmocka_unit_test(test_csv_diag_cap),
		cmocka_unit_test(test_csv_duplicates_and_order),
		cmocka_unit_test(test_csv_header_missing_column),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_bitbrains),
		cmocka_unit_test(test_bitbrains_entity_option),
		cmocka_unit_test(test_planetlab),
		cmocka_unit_test(test_azure_vmtable),
		cmocka_unit_test(test_azure_cpu),
		cmocka_unit_test(test_alibaba),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_prometheus_entity_option),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_detect_error),
		cmocka_unit_test(test_format_table),
		cmocka_unit_test(test_detect_real_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
