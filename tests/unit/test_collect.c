/*
 * The collector on a made-up /proc and cgroup tree: two readings a known
 * time apart give known rates; the parsers on kernel-format text; a
 * process that appears between readings is a launch, one that was there
 * before is not.
 */
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"

#include "bespoke/bespoke.h"
#include "bespoke/collect.h"

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[512], dir[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(dir, 0755);
		*p = '/';
	}
	assert_int_equal(test_write_file(path, text, strlen(text)), 0);
}

static void proc_tree(unsigned busy, unsigned idle, unsigned sectors,
		      unsigned long long bytes, unsigned cg_usec)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "cpu  %u 0 0 %u 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\n"
		 "cpu1 1 0 0 1 0 0 0 0 0 0\nintr 5\n",
		 busy, idle);
	put("proc/stat", buf);
	put("proc/meminfo", "MemTotal:       16000000 kB\n"
			    "MemFree:         1000000 kB\n"
			    "MemAvailable:   12000000 kB\n");
	/* sda counts, sda1 (a partition) and loop0 must not. */
	snprintf(buf, sizeof(buf),
		 "   8       0 sda 10 0 %u 0 10 0 %u 0 0 0 0 0 0 0 0 0 0\n"
		 "   8       1 sda1 10 0 999 0 10 0 999 0 0 0 0 0 0 0 0 0 0\n"
		 "   7       0 loop0 1 0 555 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		 sectors / 2, sectors - sectors / 2);
	put("proc/diskstats", buf);
	snprintf(buf, sizeof(buf),
		 "Inter-|   Receive |  Transmit\n"
		 " face |bytes packets errs drop fifo frame compressed "
		 "multicast|bytes packets\n"
		 "    lo: 777777 1 0 0 0 0 0 0 777777 1 0 0 0 0 0 0\n"
		 "  eth0: %llu 1 0 0 0 0 0 0 %llu 1 0 0 0 0 0 0\n",
		 bytes / 2, bytes - bytes / 2);
	put("proc/net/dev", buf);
	snprintf(buf, sizeof(buf), "usage_usec %u\nuser_usec 1\n", cg_usec);
	put("cg/user.slice/user-0.slice/cpu.stat", buf);
	put("cg/user.slice/user-0.slice/memory.current", "2048000\n");
}

static double last_value(struct bsp_batch *b, const char *entity,
			 const char *metric)
{
	for (size_t i = 0; i < bsp_batch_n_series(b); i++) {
		struct bsp_batch_series_view v;
		bsp_batch_series_view(b, i, &v);
		if (!strcmp(v.entity, entity) && !strcmp(v.metric, metric) &&
		    v.n)
			return v.values[v.n - 1];
	}
	return -1;
}

static void test_two_readings(void **state)
{
	struct bsp_collect_options o = {0};
	struct bsp_collector *c = NULL;
	struct bsp_batch *b = bsp_batch_new();
	struct bsp_error err = {0};
	char proc[300], cg[300];
	size_t added;

	(void)state;
	snprintf(root, sizeof(root), "%s/tree", test_tmpdir());
	mkdir(root, 0755);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	o.entity = "host";
	o.proc_root = proc;
	o.cgroup_root = cg;
	o.no_apps = 1;
	proc_tree(100, 900, 1000, 1000000, 5000000);
	assert_int_equal(bsp_collect_new(&c, &o, &err), BSP_OK);
	assert_string_equal(bsp_collect_entity(c), "host");
	assert_int_equal(bsp_collect_sample(c, 1000000, b, &added, &err),
			 BSP_OK);
	/* First reading: gauges only. */
	assert_true(last_value(b, "host", "cpu_usage_pct") < 0);
	assert_true(last_value(b, "host", "mem_usage") == 4000000);
	assert_true(last_value(b, "host", "cpu_cores") == 2);
	bsp_batch_clear(b);
	/* 10 s later: 300 of 1000 more jiffies busy, 2048 more sectors
	 * (1 MiB), 10 MiB more bytes; the user used 5 s of CPU. */
	proc_tree(400, 1600, 3048, 1000000 + 10485760, 10000000);
	assert_int_equal(bsp_collect_sample(c, 1010000, b, &added, &err),
			 BSP_OK);
	assert_true(fabs(last_value(b, "host", "cpu_usage_pct") - 30) < 1e-9);
	assert_true(fabs(last_value(b, "host", "cpu_usage") - 0.6) < 1e-9);
	assert_true(fabs(last_value(b, "host", "disk_total") - 102.4) < 1e-9);
	assert_true(fabs(last_value(b, "host", "net_total") - 1024) < 1e-9);
	assert_true(fabs(last_value(b, "root", "cpu_usage") - 0.5) < 1e-9);
	assert_true(last_value(b, "root", "mem_usage") == 2000);
	bsp_collect_free(c);
	bsp_batch_free(b);
}

static void test_parsers(void **state)
{
	struct bsp_proc_cpu cpu;
	uint64_t t, a, s;

	(void)state;
	assert_int_equal(bsp_proc_parse_stat("cpu  1 2 3 4 5 6 7 8 0 0\n"
					     "cpu0 1 2 3 4 5 6 7 8 0 0\n",
					     &cpu),
			 0);
	assert_true(cpu.total == 36 && cpu.busy == 27 && cpu.ncpu == 1);
	assert_int_equal(bsp_proc_parse_stat("intr 1\n", &cpu), -1);
	assert_int_equal(bsp_proc_parse_meminfo("MemTotal: 5 kB\n", &t, &a),
			 -1);
	/* "MemAvailable" must not be found inside another key's line. */
	assert_int_equal(bsp_proc_parse_meminfo("MemTotal: 9 kB\nXMemAvailable"
						": 1 kB\n",
						&t, &a),
			 -1);
	assert_true(bsp_proc_whole_disk("sda") && bsp_proc_whole_disk("vdb") &&
		    bsp_proc_whole_disk("nvme0n1") &&
		    bsp_proc_whole_disk("mmcblk0"));
	assert_false(bsp_proc_whole_disk("sda1") ||
		     bsp_proc_whole_disk("nvme0n1p2") ||
		     bsp_proc_whole_disk("mmcblk0p1") ||
		     bsp_proc_whole_disk("loop3") ||
		     bsp_proc_whole_disk("dm-0"));
	assert_int_equal(bsp_proc_parse_diskstats("", &s), 0);
	assert_true(s == 0);
}

static void test_launches(void **state)
{
	struct bsp_collect_options o = {0};
	struct bsp_collector *c = NULL;
	struct bsp_batch *b = bsp_batch_new();
	struct bsp_error err = {0};
	char proc[300];

	(void)state;
	snprintf(root, sizeof(root), "%s/apps", test_tmpdir());
	mkdir(root, 0755);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	o.entity = "host";
	o.proc_root = proc;
	o.cgroup_root = "";
	proc_tree(1, 1, 0, 0, 0);
	/* pid 40 runs before the first reading; 41 starts after it; 40 is
	 * then replaced by a new process with the same pid. */
	put("proc/40/stat", "40 (bash) S 1 40 40 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 "
			    "0 1000 0\n");
	put("proc/40/cmdline", "bash");
	assert_int_equal(bsp_collect_new(&c, &o, &err), BSP_OK);
	assert_int_equal(bsp_collect_sample(c, 1000, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_batch_n_events(b), 0);
	put("proc/41/stat", "41 (make (1)) R 40 40 40 0 -1 0 0 0 0 0 0 0 0 0 "
			    "20 0 1 0 2000 0\n");
	put("proc/41/cmdline", "make");
	put("proc/42/stat", "42 (kworker) S 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 "
			    "0 2100 0\n");
	put("proc/42/cmdline", "");
	assert_int_equal(bsp_collect_sample(c, 2000, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_batch_n_events(b), 1);
	struct bsp_batch_event_view ev;
	bsp_batch_event_view(b, 0, &ev);
	assert_string_equal(ev.name, "make (1)"); /* a ')' in the name */
	assert_string_equal(ev.kind, "app");
	assert_true(ev.ts == 2000);
	bsp_batch_clear(b);
	put("proc/40/stat", "40 (vim) S 1 40 40 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 "
			    "0 3000 0\n");
	assert_int_equal(bsp_collect_sample(c, 3000, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_batch_n_events(b), 1);
	bsp_batch_event_view(b, 0, &ev);
	assert_string_equal(ev.name, "vim");
	/* An exec in place: same pid and start time, another name. */
	bsp_batch_clear(b);
	put("proc/41/stat", "41 (cc1) R 40 40 40 0 -1 0 0 0 0 0 0 0 0 0 "
			    "20 0 1 0 2000 0\n");
	assert_int_equal(bsp_collect_sample(c, 4000, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_batch_n_events(b), 1);
	bsp_batch_event_view(b, 0, &ev);
	assert_string_equal(ev.name, "cc1");
	/* Nothing new: nothing reported. */
	bsp_batch_clear(b);
	assert_int_equal(bsp_collect_sample(c, 5000, b, NULL, &err), BSP_OK);
	assert_int_equal(bsp_batch_n_events(b), 0);
	bsp_collect_free(c);
	bsp_batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_readings),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_launches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
