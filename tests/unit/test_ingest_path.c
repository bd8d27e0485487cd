/*
 * bsp_ingest_path end to end, into a real store: a folder walked in name
 * order with hidden files skipped; plain, gzip, truncated gzip and
 * unrecognised files side by side; counts, diagnostics and the final
 * error; abort mode dropping exactly the bad file; re-ingest changing
 * nothing; the same result whatever the number of threads.
 */
#include <sys/stat.h>
#include <zlib.h>

#include "testutil.h"

#include "bespoke/bespoke.h"

#define MAX_KEPT 64

struct seen {
	int n_diags;
	char diags[MAX_KEPT][BSP_ERROR_MAX];
	uint64_t progress_calls, last_done, last_total;
};

static void on_diag(void *ud, const char *line)
{
	struct seen *s = ud;

	if (s->n_diags < MAX_KEPT)
		snprintf(s->diags[s->n_diags], BSP_ERROR_MAX, "%s", line);
	s->n_diags++;
}

static void on_progress(void *ud, uint64_t done, uint64_t total,
			uint64_t samples)
{
	struct seen *s = ud;

	(void)samples;
	assert_true(done == s->last_done + 1);
	s->last_done = done;
	s->last_total = total;
	s->progress_calls++;
}

/* Index of the first diagnostic holding `text`, or -1. */
static int diag_at(const struct seen *s, const char *text)
{
	for (int i = 0; i < s->n_diags && i < MAX_KEPT; i++)
		if (strstr(s->diags[i], text))
			return i;
	return -1;
}

static void put(const char *dir, const char *name, const char *data)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(test_write_file(path, data, strlen(data)), 0);
}

static void put_gz(const char *dir, const char *name, const char *data)
{
	char path[512];
	gzFile gz;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	gz = gzopen(path, "wb");
	assert_non_null(gz);
	gzwrite(gz, data, (unsigned)strlen(data));
	gzclose(gz);
}

static const char bb_data[] =
	"Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU "
	"usage [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\t"
	"Memory usage [KB];\tDisk read throughput [KB/s];\tDisk write "
	"throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork "
	"transmitted throughput [KB/s]\n"
	"1372629804;\t2;\t5851.9989;\t87.78;\t1.5;\t8218624.0;\t1034592.8;\t"
	"160.5;\t21.5;\t0.25;\t1.5\n"
	"1372630104;\t2;\t5851.9989;\t29.25;\t0.5;\t8218624.0;\t458575.5;\t"
	"0.0;\t2.5;\t0.2;\t1.0\n";

/* A large enough text that a cut gzip of it is surely incomplete. */
static char *filler_csv(void)
{
	size_t cap = 1 << 20, k = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	for (int i = 0; k + 64 < cap && i < 20000; i++)
		k += (size_t)snprintf(s + k, cap - k, "cut,m,%d,%d\n",
				      1000 + i, i * 7919 % 1000);
	return s;
}

/* The tree every test ingests; returns its root. */
static const char *make_tree(const char *name)
{
	static char root[256];
	char sub[512];
	char *filler = filler_csv();

	test_path(root, sizeof(root), name);
	mkdir(root, 0755);
	snprintf(sub, sizeof(sub), "%s/sub", root);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/sub/20110303", root);
	mkdir(sub, 0755);
	put(root, "a.csv", "vmA,cpu,1372629804,1.5,%\n"
			   "vmA,cpu,1372630104,2.5,%\n"
			   "vmA,mem,1372629804,100,KB\n");
	put_gz(root, "b.csv.gz", bb_data);
	put(root, "c_bad.csv", "vmC,cpu,1372629804,1\nvmC,cpu,oops,2\n"
			       "vmC,cpu,1372630104,3\nvmC,cpu,1372630404,4\n"
			       "vmC,cpu,1372630704,5\n");
	put(root, ".hidden.csv", "hidden,cpu,1372629804,1\n");
	put(root, "notes.txt", "0 0 1\n1 0 0\n");
	put(sub, "vm1", "10\n20\n30\n");
	put_gz(root, "zz_cut.csv.gz", filler);
	{ /* cut in half */
		char path[512];
		struct stat sb;
		snprintf(path, sizeof(path), "%s/zz_cut.csv.gz", root);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(truncate(path, sb.st_size / 2), 0);
	}
	free(filler);
	return root;
}

static struct bsp_store *open_store(const char *name)
{
	char path[256];
	struct bsp_store *st = NULL;

	test_path(path, sizeof(path), name);
	unlink(path);
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_CREATE, NULL),
			 BSP_OK);
	return st;
}

static int64_t samples_of(struct bsp_store *st, const char *entity,
			  const char *metric)
{
	struct bsp_series s;
	int64_t n;

	if (bsp_store_series_find(st, entity, metric, NULL, &s, NULL) !=
	    BSP_OK)
		return -1;
	n = s.n_samples;
	bsp_series_release(&s);
	return n;
}

static void ingest_tree(unsigned threads)
{
	char dbname[64];
	struct bsp_ingest_options opt = {0};
	struct bsp_ingest_report rep;
	struct bsp_error err = {0};
	struct seen seen = {0};
	struct bsp_store *st;
	const char *root = make_tree("tree");
	bsp_err rc;

	snprintf(dbname, sizeof(dbname), "tree-%u.db", threads);
	st = open_store(dbname);
	opt.threads = threads;
	opt.diag = on_diag;
	opt.progress = on_progress;
	opt.ud = &seen;
	rc = bsp_ingest_path(st, root, &opt, &rep, &err);

	assert_int_equal(rc, BSP_EINVAL); /* bad input: exit status 1 */
	assert_non_null(strstr(err.msg, "/zz_cut.csv.gz: truncated or corrupt "
					"gzip data (unexpected end of file)"));
	assert_int_equal(rep.files, 4); /* a, b, c_bad, sub/20110303/vm1 */
	assert_int_equal(rep.files_failed, 1);
	assert_int_equal(rep.bad_lines, 1);
	assert_int_equal(rep.samples, 3 + 2 * 12 + 4 + 3);
	assert_int_equal(rep.written.samples_new, rep.samples);
	assert_int_equal(seen.progress_calls, 6); /* 6 files, not .hidden */
	assert_int_equal(seen.last_total, 6);

	/* Diagnostics in file order. */
	int i_bad = diag_at(&seen, "c_bad.csv:2: column 3 (timestamp)");
	int i_skip = diag_at(&seen, "notes.txt: skipped: format not "
				    "recognised");
	int i_cut = diag_at(&seen, "zz_cut.csv.gz: truncated");
	assert_true(i_bad >= 0 && i_skip > i_bad && i_cut > i_skip);

	assert_int_equal(samples_of(st, "vmA", "cpu"), 2);
	assert_int_equal(samples_of(st, "vmA", "mem"), 1);
	assert_int_equal(samples_of(st, "b", "disk_total"), 2);
	assert_int_equal(samples_of(st, "vmC", "cpu"), 4);
	assert_int_equal(samples_of(st, "vm1", "cpu_usage_pct"), 3);
	assert_int_equal(samples_of(st, "hidden", "cpu"), -1);
	assert_int_equal(samples_of(st, "cut", "m"), -1); /* dropped whole */

	/* The same again changes nothing. */
	memset(&seen, 0, sizeof(seen));
	rc = bsp_ingest_path(st, root, &opt, &rep, &err);
	assert_int_equal(rc, BSP_EINVAL);
	assert_int_equal(rep.written.samples_new, 0);
	assert_int_equal(rep.written.samples_same, rep.samples);
	bsp_store_close(st);
}

static void test_tree_threads(void **state)
{
	(void)state;
	ingest_tree(1);
	ingest_tree(2);
	ingest_tree(5);
}

static void test_abort_drops_only_the_bad_file(void **state)
{
	struct bsp_ingest_options opt = {0};
	struct bsp_ingest_report rep;
	struct bsp_error err = {0};
	struct seen seen = {0};
	char root[256];
	struct bsp_store *st = open_store("abort.db");
	bsp_err rc;

	(void)state;
	test_path(root, sizeof(root), "abort");
	mkdir(root, 0755);
	put(root, "1.csv", "good,cpu,1372629804,1\n");
	put(root, "2.csv", "bad,cpu,1372629804,1\nbad,cpu,1372630104,x\n");
	put(root, "3.csv", "good2,cpu,1372629804,1\n");
	opt.format = "csv";
	opt.on_error = BSP_ON_ERROR_ABORT;
	opt.diag = on_diag;
	opt.ud = &seen;
	rc = bsp_ingest_path(st, root, &opt, &rep, &err);
	assert_int_equal(rc, BSP_EINVAL);
	assert_non_null(strstr(err.msg, "2.csv:2: column 4 (value): not a "
					"number: 'x'"));
	assert_int_equal(rep.files, 2);
	assert_int_equal(rep.files_failed, 1);
	assert_int_equal(samples_of(st, "good", "cpu"), 1);
	assert_int_equal(samples_of(st, "good2", "cpu"), 1);
	assert_int_equal(samples_of(st, "bad", "cpu"), -1);
	assert_true(diag_at(&seen, "2.csv:2:") >= 0);
	bsp_store_close(st);
}

static void test_single_files(void **state)
{
	struct bsp_ingest_report rep;
	struct bsp_error err = {0};
	char root[256], path[512];
	struct bsp_store *st = open_store("single.db");

	(void)state;
	test_path(root, sizeof(root), "single");
	mkdir(root, 0755);
	put(root, "matrix.txt", "0 1\n1 0\n");
	snprintf(path, sizeof(path), "%s/matrix.txt", root);
	assert_int_equal(bsp_ingest_path(st, path, NULL, &rep, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "matrix.txt: cannot tell the format; "
					"use --format"));
	assert_int_equal(rep.files_failed, 1);

	put(root, "User9", "ls\ncd\n");
	snprintf(path, sizeof(path), "%s/User9", root);
	assert_int_equal(bsp_ingest_path(st, path, NULL, &rep, &err), BSP_OK);
	assert_int_equal(rep.events, 2);
	assert_int_equal(rep.written.events_new, 2);

	snprintf(path, sizeof(path), "%s/missing", root);
	assert_int_equal(bsp_ingest_path(st, path, NULL, &rep, &err),
			 BSP_ENOTFOUND);
	assert_non_null(strstr(err.msg, "missing"));

	struct bsp_ingest_options opt = {0};
	opt.format = "nope";
	assert_int_equal(bsp_ingest_path(st, root, &opt, &rep, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "unknown format 'nope'"));
	bsp_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_threads),
		cmocka_unit_test(test_abort_drops_only_the_bad_file),
		cmocka_unit_test(test_single_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
