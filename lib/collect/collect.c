/*
 * The collector: readings of /proc and cgroup v2 turned into samples and
 * application events (include/bespoke/collect.h).
 *
 * Everything is read with one open/read/close per file into a fixed buffer
 * (/proc files are small and generated on read), parsed in place, and
 * forgotten: the collector keeps only the previous counters and the set of
 * processes seen, so its memory stays flat whatever runs on the machine.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect_int.h"

#define COL_BUF (256 * 1024)
#define COL_MAX_USERS 256

struct col_user {
	unsigned uid;
	uint64_t usage_usec; /* cpu.stat usage_usec at the last reading */
	int seen;
};

/* Processes seen at the last scan in a hash set, by (pid, start time,
 * command name): an exec keeps the pid and start time but changes the
 * name, and is a launch too. */
struct col_proc {
	int pid; /* 0 = empty */
	uint64_t start;
	uint64_t comm; /* hash of the command name */
};

struct bsp_collector {
	char entity[256];
	char proc[256], cgroup[512];
	int no_users, no_apps;
	char *buf;
	/* previous readings */
	int primed;
	bsp_time last;
	struct bsp_proc_cpu cpu;
	uint64_t sectors, net_bytes;
	struct col_user users[COL_MAX_USERS];
	size_t n_users;
	struct col_proc *procs, *next;
	size_t cap_procs;
	int procs_primed;
	struct col_conn *conn; /* the proc connector, or NULL: scan /proc */
	unsigned long long conn_dropped, conn_missed;
	int64_t seq; /* events at the same millisecond stay distinct */
};

/* ---- parsers ------------------------------------------------------------ */

int bsp_proc_parse_stat(const char *text, struct bsp_proc_cpu *out)
{
	const char *line = text;
	int found = 0;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		if (!strncmp(line, "cpu ", 4)) {
			uint64_t v[10] = {0};
			int n = sscanf(line + 4,
				       "%" SCNu64 " %" SCNu64 " %" SCNu64
				       " %" SCNu64 " %" SCNu64 " %" SCNu64
				       " %" SCNu64 " %" SCNu64,
				       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
				       &v[6], &v[7]);
			if (n < 4)
				return -1;
			/* user nice system idle iowait irq softirq steal;
			 * guest time is already inside user and nice. */
			for (int i = 0; i < n; i++)
				out->total += v[i];
			out->busy = out->total - v[3] - (n > 4 ? v[4] : 0);
			found = 1;
		} else if (!strncmp(line, "cpu", 3) &&
			   isdigit((unsigned char)line[3])) {
			out->ncpu++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return found ? 0 : -1;
}

static int field_kb(const char *text, const char *key, uint64_t *out)
{
	const char *p = strstr(text, key);
	size_t kl = strlen(key);

	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, key);
	if (!p || p[kl] != ':')
		return -1;
	return sscanf(p + kl + 1, "%" SCNu64, out) == 1 ? 0 : -1;
}

int bsp_proc_parse_meminfo(const char *text, uint64_t *total_kb,
			   uint64_t *avail_kb)
{
	if (field_kb(text, "MemTotal", total_kb) < 0 ||
	    field_kb(text, "MemAvailable", avail_kb) < 0)
		return -1;
	return 0;
}

int bsp_proc_whole_disk(const char *name)
{
	size_t n = strlen(name);

	if (!n || !strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) ||
	    !strncmp(name, "zram", 4) || !strncmp(name, "dm-", 3) ||
	    !strncmp(name, "md", 2) || !strncmp(name, "sr", 2))
		return 0;
	/* nvme0n1p2, mmcblk0p1: a 'p' and digits after the device. */
	if (!strncmp(name, "nvme", 4) || !strncmp(name, "mmcblk", 6)) {
		const char *p = strrchr(name, 'p');
		return !(p && p > name + 4 && isdigit((unsigned char)p[-1]) &&
			 p[1] && strspn(p + 1, "0123456789") == strlen(p + 1));
	}
	/* sda1, vdb2, xvda1, hdc3: letters then digits. */
	return !isdigit((unsigned char)name[n - 1]);
}

int bsp_proc_parse_diskstats(const char *text, uint64_t *sectors)
{
	const char *line = text;
	int any = 0;

	*sectors = 0;
	while (line && *line) {
		unsigned major, minor;
		char name[64];
		uint64_t rd_ios, rd_merge, rd_sec, rd_ms, wr_ios, wr_merge,
			wr_sec;
		if (sscanf(line,
			   " %u %u %63s %" SCNu64 " %" SCNu64 " %" SCNu64
			   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
			   &major, &minor, name, &rd_ios, &rd_merge, &rd_sec,
			   &rd_ms, &wr_ios, &wr_merge, &wr_sec) == 10) {
			any = 1;
			if (bsp_proc_whole_disk(name))
				*sectors += rd_sec + wr_sec;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return any || !*text ? 0 : -1;
}

int bsp_proc_parse_netdev(const char *text, uint64_t *bytes)
{
	const char *line = text;

	*bytes = 0;
	while (line && *line) {
		const char *colon = strchr(line, ':');
		const char *eol = strchr(line, '\n');
		if (colon && (!eol || colon < eol)) {
			const char *s = line;
			while (*s == ' ')
				s++;
			uint64_t v[9];
			if (sscanf(colon + 1,
				   "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
				   " %" SCNu64 " %" SCNu64 " %" SCNu64
				   " %" SCNu64 " %" SCNu64,
				   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
				   &v[6], &v[7], &v[8]) == 9 &&
			    !((size_t)(colon - s) == 2 && !strncmp(s, "lo", 2)))
				*bytes += v[0] + v[8];
		}
		line = eol ? eol + 1 : NULL;
	}
	return 0;
}

/* ---- reading files ------------------------------------------------------- */

/* Reads a whole small file into c->buf (NUL-terminated); -1 if absent. */
static ssize_t slurp(struct bsp_collector *c, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -1;
	while (len < COL_BUF - 1 &&
	       (n = read(fd, c->buf + len, (size_t)(COL_BUF - 1 - len))) > 0)
		len += n;
	close(fd);
	c->buf[len] = '\0';
	return len;
}

static ssize_t slurpf(struct bsp_collector *c, const char *fmt,
		      const char *a, const char *b)
{
	char path[1024];
	snprintf(path, sizeof(path), fmt, a, b);
	return slurp(c, path);
}

static void find_cgroup2(struct bsp_collector *c)
{
	char path[300];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	snprintf(path, sizeof(path), "%s/self/mountinfo", c->proc);
	if (!(f = fopen(path, "re")))
		return;
	while (getline(&line, &cap, f) > 0) {
		/* ... mount-point ... - fstype source options */
		char *dash = strstr(line, " - cgroup2 ");
		if (!dash)
			continue;
		char mp[512];
		if (sscanf(line, "%*s %*s %*s %*s %511s", mp) == 1) {
			snprintf(c->cgroup, sizeof(c->cgroup), "%s", mp);
			break;
		}
	}
	free(line);
	fclose(f);
}

bsp_err bsp_collect_new(struct bsp_collector **out,
			const struct bsp_collect_options *opt,
			struct bsp_error *err)
{
	struct bsp_collector *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c || !(c->buf = malloc(COL_BUF))) {
		free(c);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	snprintf(c->proc, sizeof(c->proc), "%s",
		 opt && opt->proc_root ? opt->proc_root : "/proc");
	if (opt && opt->entity && *opt->entity)
		snprintf(c->entity, sizeof(c->entity), "%s", opt->entity);
	else if (gethostname(c->entity, sizeof(c->entity) - 1) || !*c->entity)
		snprintf(c->entity, sizeof(c->entity), "localhost");
	c->no_users = opt && opt->no_users;
	c->no_apps = opt && opt->no_apps;
	if (opt && opt->cgroup_root)
		snprintf(c->cgroup, sizeof(c->cgroup), "%s", opt->cgroup_root);
	else
		find_cgroup2(c);
	if (slurpf(c, "%s/stat%s", c->proc, "") < 0) {
		bsp_collect_free(c);
		return bsp_error_set(err, BSP_EIO, "%s/stat: %s", c->proc,
				     strerror(errno));
	}
	/* Launches as the kernel announces them, where it lets us listen;
	 * a made-up /proc (tests) is scanned. */
	if (!c->no_apps && !(opt && (opt->proc_root || opt->no_connector)))
		c->conn = col_conn_open();
	*out = c;
	return BSP_OK;
}

const char *bsp_collect_entity(const struct bsp_collector *c)
{
	return c->entity;
}

void bsp_collect_free(struct bsp_collector *c)
{
	if (!c)
		return;
	col_conn_close(c->conn);
	free(c->buf);
	free(c->procs);
	free(c->next);
	free(c);
}

const char *bsp_collect_launch_source(const struct bsp_collector *c,
				      unsigned long long *dropped,
				      unsigned long long *missed)
{
	if (dropped)
		*dropped = c->conn_dropped;
	if (missed)
		*missed = c->conn_missed;
	return c->no_apps ? "none" : c->conn ? "proc connector" : "/proc scan";
}

/* ---- one reading --------------------------------------------------------- */

struct col_out {
	struct bsp_batch *b;
	bsp_time now;
	size_t added;
	int oom;
};

static void emit(struct col_out *o, const char *entity, const char *metric,
		 const char *unit, double v)
{
	int s = bsp_batch_series(o->b, entity, metric, "", unit);
	if (s < 0 || bsp_batch_sample(o->b, s, o->now, v) < 0)
		o->oom = 1;
	else
		o->added++;
}

static void read_machine(struct bsp_collector *c, struct col_out *o,
			 double secs)
{
	struct bsp_proc_cpu cpu;
	uint64_t total, avail, sectors, bytes;

	if (slurpf(c, "%s/stat%s", c->proc, "") >= 0 &&
	    !bsp_proc_parse_stat(c->buf, &cpu)) {
		if (cpu.ncpu)
			emit(o, c->entity, "cpu_cores", "cores", cpu.ncpu);
		if (c->primed && cpu.total > c->cpu.total &&
		    cpu.busy >= c->cpu.busy) {
			double share = (double)(cpu.busy - c->cpu.busy) /
				       (double)(cpu.total - c->cpu.total);
			emit(o, c->entity, "cpu_usage_pct", "%", 100 * share);
			emit(o, c->entity, "cpu_usage", "cores",
			     share * (cpu.ncpu ? cpu.ncpu : 1));
		}
		c->cpu = cpu;
	}
	if (slurpf(c, "%s/meminfo%s", c->proc, "") >= 0 &&
	    !bsp_proc_parse_meminfo(c->buf, &total, &avail)) {
		emit(o, c->entity, "mem_capacity", "KB", (double)total);
		emit(o, c->entity, "mem_usage", "KB",
		     (double)(total > avail ? total - avail : 0));
	}
	if (slurpf(c, "%s/diskstats%s", c->proc, "") >= 0 &&
	    !bsp_proc_parse_diskstats(c->buf, &sectors)) {
		if (c->primed && secs > 0 && sectors >= c->sectors)
			emit(o, c->entity, "disk_total", "KB/s",
			     (double)(sectors - c->sectors) * 0.5 / secs);
		c->sectors = sectors;
	}
	if (slurpf(c, "%s/net/dev%s", c->proc, "") >= 0 &&
	    !bsp_proc_parse_netdev(c->buf, &bytes)) {
		if (c->primed && secs > 0 && bytes >= c->net_bytes)
			emit(o, c->entity, "net_total", "KB/s",
			     (double)(bytes - c->net_bytes) / 1024 / secs);
		c->net_bytes = bytes;
	}
}

static const char *login_of(unsigned uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (!getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, size, "%s", pw.pw_name);
	else
		snprintf(buf, size, "uid-%u", uid);
	return buf;
}

static struct col_user *user_slot(struct bsp_collector *c, unsigned uid)
{
	for (size_t i = 0; i < c->n_users; i++)
		if (c->users[i].uid == uid)
			return &c->users[i];
	if (c->n_users == COL_MAX_USERS)
		return NULL;
	c->users[c->n_users] = (struct col_user){uid, 0, 0};
	return &c->users[c->n_users++];
}

static void read_users(struct bsp_collector *c, struct col_out *o,
		       double secs)
{
	char dir[700], login[256];
	DIR *d;
	struct dirent *de;

	if (!*c->cgroup)
		return;
	snprintf(dir, sizeof(dir), "%s/user.slice", c->cgroup);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		unsigned uid;
		char tail[16];
		if (sscanf(de->d_name, "user-%u.slic%15s", &uid, tail) != 2 ||
		    strcmp(tail, "e"))
			continue;
		struct col_user *u = user_slot(c, uid);
		login_of(uid, login, sizeof(login));
		if (slurpf(c, "%s/%s/memory.current", dir, de->d_name) > 0) {
			uint64_t bytes;
			if (sscanf(c->buf, "%" SCNu64, &bytes) == 1)
				emit(o, login, "mem_usage", "KB",
				     (double)bytes / 1024);
		}
		if (u && slurpf(c, "%s/%s/cpu.stat", dir, de->d_name) > 0) {
			uint64_t usec;
			if (!strncmp(c->buf, "usage_usec ", 11) &&
			    sscanf(c->buf + 11, "%" SCNu64, &usec) == 1) {
				if (u->seen && secs > 0 && usec >= u->usage_usec)
					emit(o, login, "cpu_usage", "cores",
					     (double)(usec - u->usage_usec) /
						     1e6 / secs);
				u->usage_usec = usec;
				u->seen = 1;
			}
		}
	}
	closedir(d);
}

static size_t proc_hash(int pid, size_t cap)
{
	return ((size_t)pid * 2654435761u) & (cap - 1);
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void proc_insert(struct col_proc *set, size_t cap,
			struct col_proc p)
{
	for (size_t i = proc_hash(p.pid, cap), n = 0; n < cap;
	     n++, i = (i + 1) & (cap - 1)) {
		if (!set[i].pid) {
			set[i] = p;
			return;
		}
	}
}

static int proc_known(const struct col_proc *set, size_t cap,
		      struct col_proc p)
{
	if (!set)
		return 0;
	for (size_t i = proc_hash(p.pid, cap), n = 0; n < cap;
	     n++, i = (i + 1) & (cap - 1)) {
		if (!set[i].pid)
			return 0;
		if (set[i].pid == p.pid && set[i].start == p.start &&
		    set[i].comm == p.comm)
			return 1;
	}
	return 0;
}

/* Start time (field 22 of /proc/PID/stat) and the command name. */
static int proc_info(struct bsp_collector *c, const char *pid, uint64_t *start,
		     char *comm, size_t comm_size, unsigned *uid)
{
	char *open_p, *close_p;
	char path[600];
	struct stat sb;

	if (slurpf(c, "%s/%s/stat", c->proc, pid) <= 0)
		return -1;
	open_p = strchr(c->buf, '(');
	close_p = strrchr(c->buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -1;
	size_t n = (size_t)(close_p - open_p - 1);
	if (n >= comm_size)
		n = comm_size - 1;
	memcpy(comm, open_p + 1, n);
	comm[n] = '\0';
	/* After ") ": state is field 3; start time is field 22. */
	const char *p = close_p + 2;
	for (int f = 3; f < 22 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%" SCNu64, start) != 1)
		return -1;
	/* Kernel threads have no command line: not launches. */
	snprintf(path, sizeof(path), "%s/%s/cmdline", c->proc, pid);
	if (slurp(c, path) <= 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", c->proc, pid);
	if (stat(path, &sb))
		return -1;
	*uid = sb.st_uid;
	return 0;
}

static void read_apps(struct bsp_collector *c, struct col_out *o)
{
	DIR *d = opendir(c->proc);
	struct dirent *de;
	size_t count = 0, cap;
	char login[256];

	if (!d)
		return;
	/* Size the next set for the processes there now, at most half full. */
	while ((de = readdir(d)))
		count += isdigit((unsigned char)de->d_name[0]) != 0;
	for (cap = 1024; cap < 2 * count + 64; cap *= 2)
		;
	free(c->next);
	if (!(c->next = calloc(cap, sizeof(*c->next)))) {
		closedir(d);
		o->oom = 1;
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		char comm[64];
		uint64_t start;
		unsigned uid;
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT32_MAX ||
		    proc_info(c, de->d_name, &start, comm, sizeof(comm), &uid))
			continue;
		struct col_proc p = {(int)pid, start, name_hash(comm)};
		proc_insert(c->next, cap, p);
		if (!c->procs_primed || proc_known(c->procs, c->cap_procs, p))
			continue;
		login_of(uid, login, sizeof(login));
		if (bsp_batch_event(o->b, login, o->now, c->seq++, "app",
				    comm) < 0)
			o->oom = 1;
		else
			o->added++;
	}
	closedir(d);
	free(c->procs);
	c->procs = c->next;
	c->cap_procs = cap;
	c->next = NULL;
	c->procs_primed = 1;
}

bsp_err bsp_collect_sample(struct bsp_collector *c, bsp_time now,
			   struct bsp_batch *b, size_t *added,
			   struct bsp_error *err)
{
	struct col_out o = {b, now, 0, 0};
	double secs = c->primed ? (double)(now - c->last) / BSP_SECOND : 0;

	read_machine(c, &o, secs);
	if (!c->no_users)
		read_users(c, &o, secs);
	if (!c->no_apps && c->conn) {
		struct col_launch *l = NULL;
		size_t n = col_conn_take(c->conn, &l, &c->conn_dropped,
					 &c->conn_missed);
		char login[256];
		for (size_t i = 0; i < n; i++) {
			login_of(l[i].uid, login, sizeof(login));
			if (bsp_batch_event(b, login, l[i].ts, c->seq++, "app",
					    l[i].comm) < 0)
				o.oom = 1;
			else
				o.added++;
		}
		free(l);
	} else if (!c->no_apps) {
		read_apps(c, &o);
	}
	c->primed = 1;
	c->last = now;
	if (added)
		*added = o.added;
	if (o.oom)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	return BSP_OK;
}
