/*
 * The store: creation and migrations, writes and reads (range and grid),
 * idempotent re-ingest and merges, events and attributes, checks, and a
 * process killed in the middle of writing.
 */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "testutil.h"

#include "bespoke/bespoke.h"

#define T0 ((bsp_time)1372629600000) /* 2013-06-30T22:00:00Z */

static struct bsp_store *open_new(const char *name)
{
	char path[256];
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};

	test_path(path, sizeof(path), name);
	unlink(path);
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_CREATE, &err),
			 BSP_OK);
	return st;
}

/* A series "vm1/cpu" with n samples every 5 minutes from t0, value i*1.5. */
static struct bsp_batch *cpu_batch(bsp_time t0, size_t n, double add)
{
	struct bsp_batch *b = bsp_batch_new();
	int s = bsp_batch_series(b, "vm1", "cpu", "", "MHz");

	for (size_t i = 0; i < n; i++)
		bsp_batch_sample(b, s, t0 + (bsp_time)i * 300000,
				 (double)i * 1.5 + add);
	return b;
}

static void test_open_create_and_schema(void **state)
{
	char path[256];
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};

	(void)state;
	test_path(path, sizeof(path), "missing.db");
	unlink(path);
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_READONLY, &err),
			 BSP_ENOTFOUND);
	assert_non_null(strstr(err.msg, "missing.db"));
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_CREATE, &err),
			 BSP_OK);
	assert_int_equal(bsp_store_schema_version(st),
			 bsp_store_schema_latest());
	bsp_store_close(st);
	/* Reopening read-only works and keeps the version. */
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_READONLY, &err),
			 BSP_OK);
	assert_int_equal(bsp_store_schema_version(st),
			 bsp_store_schema_latest());
	bsp_store_close(st);
	/* An unknown scheme is refused by name. */
	assert_int_equal(bsp_store_open(&st, "mysql://x/y", 0, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "mysql"));
}

static void test_newer_schema_refused(void **state)
{
	char path[256];
	sqlite3 *db;
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};

	(void)state;
	test_path(path, sizeof(path), "newer.db");
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_CREATE, &err),
			 BSP_EINVAL);
	assert_non_null(strstr(err.msg, "newer"));
}

static void test_not_a_database(void **state)
{
	char path[256];
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	const char junk[] = "this is not a database, just some text\n";

	(void)state;
	test_path(path, sizeof(path), "junk.db");
	assert_int_equal(test_write_file(path, junk, sizeof(junk)), 0);
	assert_int_not_equal(bsp_store_open(&st, path, BSP_OPEN_CREATE, &err),
			     BSP_OK);
	assert_non_null(strstr(err.msg, "junk.db"));
	assert_null(st);
}

static void test_write_read_range(void **state)
{
	struct bsp_store *st = open_new("rw.db");
	struct bsp_batch *b = cpu_batch(T0, 1000, 0); /* spans 4 days */
	struct bsp_write_stats ws = {0};
	struct bsp_series s;
	struct bsp_error err = {0};
	bsp_time *ts;
	double *v;
	size_t n;

	(void)state;
	assert_int_equal(bsp_store_write(st, b, &ws, &err), BSP_OK);
	assert_int_equal(ws.samples_new, 1000);
	assert_int_equal(bsp_store_series_find(st, "vm1", "cpu", "", &s, &err),
			 BSP_OK);
	assert_int_equal(s.n_samples, 1000);
	assert_string_equal(s.unit, "MHz");
	assert_true(s.first == T0);
	assert_true(s.last == T0 + 999 * 300000);
	/* A middle range: [T0+10 steps, T0+20 steps). */
	assert_int_equal(bsp_store_read(st, s.id, T0 + 10 * 300000,
					T0 + 20 * 300000, &ts, &v, &n, &err),
			 BSP_OK);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_true(ts[i] == T0 + (bsp_time)(10 + i) * 300000);
		assert_true(v[i] == (double)(10 + i) * 1.5);
	}
	free(ts);
	free(v);
	/* Everything, across day chunks, with the widest possible range. */
	assert_int_equal(bsp_store_read(st, s.id, INT64_MIN + 1, INT64_MAX,
					&ts, &v, &n, &err),
			 BSP_OK);
	assert_int_equal(n, 1000);
	for (size_t i = 1; i < n; i++)
		assert_true(ts[i] > ts[i - 1]);
	free(ts);
	free(v);
	assert_int_equal(bsp_store_check(st, &err), BSP_OK);
	bsp_series_release(&s);
	bsp_batch_free(b);
	bsp_store_close(st);
}

static void test_idempotent_and_merge(void **state)
{
	struct bsp_store *st = open_new("idem.db");
	struct bsp_batch *b = cpu_batch(T0, 600, 0);
	struct bsp_write_stats ws = {0};
	struct bsp_store_stats s1, s2;
	struct bsp_series s;
	struct bsp_error err = {0};
	bsp_time *ts;
	double *v;
	size_t n;

	(void)state;
	bsp_batch_event(b, "vm1", T0, 0, "app", "vim");
	bsp_batch_event(b, "vm1", T0 + 1000, 1, "app", "make");
	bsp_batch_attr(b, "vm1", "owner", "alice");
	assert_int_equal(bsp_store_write(st, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_store_stats(st, &s1, &err), BSP_OK);
	/* The same batch again: nothing new, nothing changes. */
	assert_int_equal(bsp_store_write(st, b, &ws, &err), BSP_OK);
	assert_int_equal(ws.samples_new, 0);
	assert_int_equal(ws.samples_replaced, 0);
	assert_int_equal(ws.samples_same, 600);
	assert_int_equal(ws.events_new, 0);
	assert_int_equal(ws.events_same, 2);
	assert_int_equal(bsp_store_stats(st, &s2, &err), BSP_OK);
	assert_int_equal(s1.samples, s2.samples);
	assert_int_equal(s1.chunk_bytes, s2.chunk_bytes);
	assert_int_equal(s1.events, s2.events);
	bsp_batch_free(b);

	/* Overlap: 300 old times with new values and 300 new times. */
	b = cpu_batch(T0 + 300 * 300000, 600, 1000);
	memset(&ws, 0, sizeof(ws));
	assert_int_equal(bsp_store_write(st, b, &ws, &err), BSP_OK);
	assert_int_equal(ws.samples_new, 300);
	assert_int_equal(ws.samples_replaced, 300);
	bsp_batch_free(b);
	assert_int_equal(bsp_store_series_find(st, "vm1", "cpu", NULL, &s, &err),
			 BSP_OK);
	assert_int_equal(s.n_samples, 900);
	assert_int_equal(bsp_store_read(st, s.id, 0, INT64_MAX, &ts, &v, &n,
					&err),
			 BSP_OK);
	assert_int_equal(n, 900);
	assert_true(v[0] == 0);
	assert_true(v[299] == 299 * 1.5);
	assert_true(v[300] == 1000); /* the newer value won */
	assert_true(v[899] == 599 * 1.5 + 1000);
	free(ts);
	free(v);
	bsp_series_release(&s);

	/* Attributes: the last value wins. */
	b = bsp_batch_new();
	bsp_batch_attr(b, "vm1", "owner", "bob");
	assert_int_equal(bsp_store_write(st, b, NULL, &err), BSP_OK);
	bsp_batch_free(b);
	struct bsp_entity e;
	assert_int_equal(bsp_store_entity(st, "vm1", &e, &err), BSP_OK);
	assert_int_equal(e.n_attrs, 1);
	assert_string_equal(e.attr_values[0], "bob");
	assert_int_equal(e.n_events, 2);
	assert_int_equal(e.n_samples, 900);
	bsp_entity_release(&e);
	assert_int_equal(bsp_store_entity(st, "nobody", &e, &err),
			 BSP_ENOTFOUND);
	assert_int_equal(bsp_store_check(st, &err), BSP_OK);
	bsp_store_close(st);
}

static void test_duplicates_and_disorder_in_batch(void **state)
{
	struct bsp_store *st = open_new("dup.db");
	struct bsp_batch *b = bsp_batch_new();
	int s = bsp_batch_series(b, "e", "m", "", "");
	struct bsp_series ser;
	struct bsp_error err = {0};
	bsp_time *ts;
	double *v;
	size_t n;

	(void)state;
	bsp_batch_sample(b, s, T0 + 2000, 2);
	bsp_batch_sample(b, s, T0, 0);
	bsp_batch_sample(b, s, T0 + 1000, 1);
	bsp_batch_sample(b, s, T0 + 1000, 10); /* the later line wins */
	assert_int_equal(bsp_store_write(st, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_store_series_find(st, "e", "m", "", &ser, &err),
			 BSP_OK);
	assert_int_equal(bsp_store_read(st, ser.id, 0, INT64_MAX, &ts, &v, &n,
					&err),
			 BSP_OK);
	assert_int_equal(n, 3);
	assert_true(v[0] == 0 && v[1] == 10 && v[2] == 2);
	free(ts);
	free(v);
	bsp_series_release(&ser);
	bsp_batch_free(b);
	bsp_store_close(st);
}

static void test_grid(void **state)
{
	struct bsp_store *st = open_new("grid.db");
	struct bsp_batch *b = bsp_batch_new();
	int s = bsp_batch_series(b, "e", "m", "", "");
	struct bsp_series ser;
	struct bsp_error err = {0};
	double g[6];

	(void)state;
	/* Samples at minutes 0,1,2 (values 1,2,3), none in [5,10), 10 and 11
	 * (values 5, 7), none after. */
	bsp_batch_sample(b, s, T0 + 0 * 60000, 1);
	bsp_batch_sample(b, s, T0 + 1 * 60000, 2);
	bsp_batch_sample(b, s, T0 + 2 * 60000, 3);
	bsp_batch_sample(b, s, T0 + 10 * 60000, 5);
	bsp_batch_sample(b, s, T0 + 11 * 60000, 7);
	bsp_batch_sample(b, s, T0 + 12 * 60000, NAN); /* no value */
	assert_int_equal(bsp_store_write(st, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_store_series_find(st, "e", "m", "", &ser, &err),
			 BSP_OK);
	const bsp_time step = 5 * 60000;
	assert_int_equal(bsp_grid_len(T0, T0 + 30 * 60000, step), 6);

	assert_int_equal(bsp_store_read_grid(st, ser.id, T0, T0 + 30 * 60000,
					     step, BSP_AGG_MEAN, BSP_FILL_NAN,
					     g, &err),
			 BSP_OK);
	assert_true(g[0] == 2);
	assert_true(isnan(g[1]));
	assert_true(g[2] == 6);
	assert_true(isnan(g[3]) && isnan(g[4]) && isnan(g[5]));

	bsp_store_read_grid(st, ser.id, T0, T0 + 30 * 60000, step, BSP_AGG_MAX,
			    BSP_FILL_PREVIOUS, g, &err);
	assert_true(g[0] == 3 && g[1] == 3 && g[2] == 7 && g[5] == 7);
	bsp_store_read_grid(st, ser.id, T0, T0 + 30 * 60000, step, BSP_AGG_MIN,
			    BSP_FILL_ZERO, g, &err);
	assert_true(g[0] == 1 && g[1] == 0 && g[2] == 5 && g[3] == 0);
	bsp_store_read_grid(st, ser.id, T0, T0 + 30 * 60000, step,
			    BSP_AGG_LAST, BSP_FILL_LINEAR, g, &err);
	assert_true(g[0] == 3 && g[1] == 5 && g[2] == 7 && g[4] == 7);
	bsp_store_read_grid(st, ser.id, T0, T0 + 30 * 60000, step,
			    BSP_AGG_COUNT, BSP_FILL_NAN, g, &err);
	assert_true(g[0] == 3 && g[1] == 0 && g[2] == 2 && g[3] == 0);
	/* A grid before any data is all gaps, never garbage. */
	bsp_store_read_grid(st, ser.id, T0 - 30 * 60000, T0, step,
			    BSP_AGG_MEAN, BSP_FILL_PREVIOUS, g, &err);
	for (int i = 0; i < 6; i++)
		assert_true(isnan(g[i]));
	assert_int_equal(bsp_store_read_grid(st, ser.id, T0, T0 + 1, 0,
					     BSP_AGG_MEAN, BSP_FILL_NAN, g,
					     &err),
			 BSP_EINVAL);
	bsp_series_release(&ser);
	bsp_batch_free(b);
	bsp_store_close(st);
}

static void test_events(void **state)
{
	struct bsp_store *st = open_new("ev.db");
	struct bsp_batch *b = bsp_batch_new();
	struct bsp_event *ev;
	struct bsp_error err = {0};
	size_t n;

	(void)state;
	/* A history without times keeps its order by seq. */
	bsp_batch_event(b, "u1", BSP_TIME_NONE, 2, "command", "make");
	bsp_batch_event(b, "u1", BSP_TIME_NONE, 0, "command", "vi");
	bsp_batch_event(b, "u1", BSP_TIME_NONE, 1, "command", "ls");
	bsp_batch_event(b, "u2", T0, 0, "app", "chrome");
	assert_int_equal(bsp_store_write(st, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_store_events(st, "u1", BSP_TIME_NONE, INT64_MAX,
					  &ev, &n, &err),
			 BSP_OK);
	assert_int_equal(n, 3);
	assert_string_equal(ev[0].name, "vi");
	assert_string_equal(ev[1].name, "ls");
	assert_string_equal(ev[2].name, "make");
	assert_true(ev[0].ts == BSP_TIME_NONE);
	bsp_events_free(ev, n);
	assert_int_equal(bsp_store_events(st, "u2", T0, T0 + 1, &ev, &n, &err),
			 BSP_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].kind, "app");
	bsp_events_free(ev, n);
	bsp_batch_free(b);
	bsp_store_close(st);
}

static void test_check_finds_corruption(void **state)
{
	char path[256];
	struct bsp_store *st = open_new("corrupt.db");
	struct bsp_batch *b = cpu_batch(T0, 100, 0);
	struct bsp_error err = {0};
	sqlite3 *db;

	(void)state;
	assert_int_equal(bsp_store_write(st, b, NULL, &err), BSP_OK);
	bsp_store_close(st);
	bsp_batch_free(b);
	test_path(path, sizeof(path), "corrupt.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE chunk SET n = n + 1", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(bsp_store_open(&st, path, 0, &err), BSP_OK);
	assert_int_equal(bsp_store_check(st, &err), BSP_ECORRUPT);
	assert_non_null(strstr(err.msg, "chunk"));
	bsp_store_close(st);
}

/*
 * A child writes 60-sample batches (one per hour of data) as fast as it
 * can; the parent kills it with SIGKILL mid-way. The store must open,
 * pass its check, and hold whole batches only.
 */
static void test_killed_mid_write(void **state)
{
	char path[256];
	struct bsp_store *st;
	struct bsp_store_stats s;
	struct bsp_error err = {0};
	pid_t pid;

	(void)state;
	test_path(path, sizeof(path), "killed.db");
	unlink(path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct bsp_store *cst;
		if (bsp_store_open(&cst, path, BSP_OPEN_CREATE, NULL) != BSP_OK)
			_exit(3);
		for (int k = 0;; k++) {
			struct bsp_batch *cb = cpu_batch(
				T0 + (bsp_time)k * 60 * 300000, 60, 0);
			bsp_batch_series(cb, "vm2", "mem", "", "KB");
			if (bsp_store_write(cst, cb, NULL, NULL) != BSP_OK)
				_exit(4);
			bsp_batch_free(cb);
		}
	}
	usleep(400 * 1000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(bsp_store_open(&st, path, 0, &err), BSP_OK);
	assert_int_equal(bsp_store_check(st, &err), BSP_OK);
	assert_int_equal(bsp_store_stats(st, &s, &err), BSP_OK);
	assert_true(s.samples > 0);
	assert_int_equal(s.samples % 60, 0);
	bsp_store_close(st);
}

/* The change counter moves when another handle commits, not for the
 * handle's own writes: what the daemon's reply cache relies on. */
static void test_change_counter(void **state)
{
	char path[256];
	struct bsp_store *a = open_new("counter.db"), *b = NULL;
	struct bsp_error err = {0};
	int64_t c0, c1;

	(void)state;
	test_path(path, sizeof(path), "counter.db");
	assert_int_equal(bsp_store_open(&b, path, 0, &err), BSP_OK);
	c0 = bsp_store_change_counter(a);
	assert_true(c0 >= 0);
	assert_int_equal(bsp_store_doc_put(a, "profile", "vm1", "{}", NULL,
					   &err),
			 BSP_OK);
	assert_true(bsp_store_change_counter(a) == c0);
	assert_int_equal(bsp_store_doc_put(b, "profile", "vm1", "{}", NULL,
					   &err),
			 BSP_OK);
	c1 = bsp_store_change_counter(a);
	assert_true(c1 != c0);
	assert_true(bsp_store_change_counter(a) == c1); /* no commit since */

	/* Two writers taking turns (the daemon's threads): neither is left
	 * holding an old snapshot, so neither fails with "locked", and each
	 * reads what the other wrote. */
	for (int round = 0; round < 4; round++) {
		struct bsp_store *w = round % 2 ? b : a;
		struct bsp_batch *bt = cpu_batch(T0 + (bsp_time)round * 10 * 300000, 10,
						 round);
		struct bsp_series s;
		assert_int_equal(bsp_store_write(w, bt, NULL, &err), BSP_OK);
		bsp_batch_free(bt);
		assert_int_equal(bsp_store_series_find(round % 2 ? a : b, "vm1",
						       "cpu", "", &s, &err),
				 BSP_OK);
		assert_int_equal(s.n_samples, 10 * (round + 1));
		bsp_series_release(&s);
	}
	bsp_store_close(b);
	bsp_store_close(a);
}

static void test_documents_and_migration(void **state)
{
	char path[256];
	struct bsp_store *st = open_new("docs.db");
	struct bsp_doc d, *list;
	struct bsp_error err = {0};
	int64_t v = 0;
	size_t n;
	sqlite3 *db;

	(void)state;
	assert_int_equal(bsp_store_doc_put(st, "profile", "vm1", "{\"a\":1}",
					   &v, &err),
			 BSP_OK);
	assert_int_equal(v, 1);
	assert_int_equal(bsp_store_doc_put(st, "profile", "vm1", "{\"a\":2}",
					   &v, &err),
			 BSP_OK);
	assert_int_equal(v, 2);
	bsp_store_doc_put(st, "profile", "vm2", "{}", NULL, &err);
	assert_int_equal(bsp_store_doc_get(st, "profile", "vm1", 0, &d, &err),
			 BSP_OK);
	assert_int_equal(d.version, 2);
	assert_string_equal(d.body, "{\"a\":2}");
	bsp_doc_release(&d);
	assert_int_equal(bsp_store_doc_get(st, "profile", "vm1", 1, &d, &err),
			 BSP_OK);
	assert_string_equal(d.body, "{\"a\":1}");
	bsp_doc_release(&d);
	assert_int_equal(bsp_store_doc_get(st, "profile", "vm1", 7, &d, &err),
			 BSP_ENOTFOUND);
	assert_int_equal(bsp_store_doc_get(st, "model", "vm1", 0, &d, &err),
			 BSP_ENOTFOUND);
	assert_int_equal(bsp_store_doc_list(st, "profile", NULL, &list, &n,
					    &err),
			 BSP_OK);
	assert_int_equal(n, 3);
	assert_null(list[0].body);
	bsp_docs_free(list, n);
	assert_int_equal(bsp_store_doc_put(st, "", "vm1", "{}", NULL, &err),
			 BSP_EINVAL);
	bsp_store_close(st);

	/* A version-1 store (no documents yet) is migrated on open. */
	test_path(path, sizeof(path), "docs.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE doc; PRAGMA "
					  "user_version = 1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(bsp_store_open(&st, path, BSP_OPEN_READONLY, &err),
			 BSP_EINVAL); /* read-only cannot upgrade */
	assert_int_equal(bsp_store_open(&st, path, 0, &err), BSP_OK);
	assert_int_equal(bsp_store_schema_version(st), 2);
	assert_int_equal(bsp_store_doc_put(st, "profile", "vm1", "{}", &v,
					   &err),
			 BSP_OK);
	assert_int_equal(v, 1);
	bsp_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_create_and_schema),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_not_a_database),
		cmocka_unit_test(test_write_read_range),
		cmocka_unit_test(test_idempotent_and_merge),
		cmocka_unit_test(test_duplicates_and_disorder_in_batch),
		cmocka_unit_test(test_grid),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_check_finds_corruption),
		cmocka_unit_test(test_killed_mid_write),
		cmocka_unit_test(test_change_counter),
		cmocka_unit_test(test_documents_and_migration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
