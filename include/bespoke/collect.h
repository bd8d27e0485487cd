/*
 * bespoke: the collector, what `bespoke collect` runs on each machine.
 *
 * Each call to bsp_collect_sample() reads the kernel's counters and adds
 * to a batch, at the time given:
 *
 *  - the machine, as entity opt->entity (default: the host name), with the
 *    metric names the Bitbrains traces use so the same models apply:
 *    cpu_usage (busy cores), cpu_usage_pct (busy share of all cores, %),
 *    cpu_cores, mem_usage and mem_capacity (KB; used = MemTotal -
 *    MemAvailable), disk_total (KB/s read + written by whole disks),
 *    net_total (KB/s received + sent, loopback excluded);
 *  - each logged-in user with a cgroup v2 user-UID.slice, as entity named
 *    by its login: cpu_usage (cores) and mem_usage (KB);
 *  - process launches since the last call as "app" events (the command
 *    name) of the user that owns them: from the kernel's proc connector
 *    where it may be listened to (every exec, as it happens, with its
 *    time), else by scanning /proc: a process is new when its (pid, start
 *    time, command name) was not there at the last scan, so an exec in
 *    place counts too, but one that starts and ends between two scans is
 *    missed.
 *
 * Rates need two readings: the first call only records gauges and primes
 * the counters. Paths are taken from the options so that tests can point
 * them at a made-up tree.
 */
#ifndef BESPOKE_COLLECT_H
#define BESPOKE_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "error.h"
#include "time.h"

struct bsp_collect_options {
	const char *entity;      /* the machine's entity; NULL = host name */
	const char *proc_root;   /* NULL = "/proc" */
	const char *cgroup_root; /* cgroup v2 mount; NULL = found in
				    /proc/self/mountinfo, "" = none */
	int no_users;            /* skip per-user cgroups */
	int no_apps;             /* skip process launches */
	int no_connector;        /* scan /proc even where the kernel's proc
				    connector could be listened to */
};

struct bsp_collector;

BSP_EXTERN bsp_err bsp_collect_new(struct bsp_collector **out,
				   const struct bsp_collect_options *opt,
				   struct bsp_error *err);
BSP_EXTERN void bsp_collect_free(struct bsp_collector *c);
/* Where launches come from: "proc connector", "/proc scan" or "none";
 * with the connector, how many were dropped (queue full) or missed (the
 * process was gone before its name could be read). */
BSP_EXTERN const char *bsp_collect_launch_source(const struct bsp_collector *c,
						 unsigned long long *dropped,
						 unsigned long long *missed);
/* The machine's entity name. */
BSP_EXTERN const char *bsp_collect_entity(const struct bsp_collector *c);

/* One reading at `now` into `b`; *added (may be NULL) receives how many
 * samples and events were added. */
BSP_EXTERN bsp_err bsp_collect_sample(struct bsp_collector *c, bsp_time now,
				      struct bsp_batch *b, size_t *added,
				      struct bsp_error *err);

/* ---- parsers of the kernel's text files, for tests ---------------------- */

struct bsp_proc_cpu {
	uint64_t busy, total; /* jiffies over all CPUs */
	unsigned ncpu;
};
BSP_EXTERN int bsp_proc_parse_stat(const char *text, struct bsp_proc_cpu *out);
/* MemTotal and MemAvailable in KB; -1 when either is missing. */
BSP_EXTERN int bsp_proc_parse_meminfo(const char *text, uint64_t *total_kb,
				      uint64_t *avail_kb);
/* Sectors (512 bytes) read + written by whole disks. */
BSP_EXTERN int bsp_proc_parse_diskstats(const char *text, uint64_t *sectors);
/* Bytes received + sent by every interface but loopback. */
BSP_EXTERN int bsp_proc_parse_netdev(const char *text, uint64_t *bytes);
/* Is a /proc/diskstats name a whole disk (not a partition, loop, ram)? */
BSP_EXTERN int bsp_proc_whole_disk(const char *name);

#endif
