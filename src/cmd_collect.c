/*
 * bespoke collect: the agent. Reads the machine every --interval
 * (lib/collect) and ships what it read to a daemon (POST /v1/ingest, CSV
 * samples and event lines, with a bearer token) or writes it into a local
 * store.
 *
 * Shipping is decoupled from reading: each reading becomes request bodies
 * on a queue bounded in bytes (the oldest are dropped, and counted, when a
 * daemon stays away longer than the buffer lasts); the queue is sent in
 * order, with exponential backoff while the daemon is unreachable or
 * answers 5xx, so a daemon restart loses nothing. A 4xx other than 408 and
 * 429 cannot succeed later: that body is dropped with a warning. With
 * --spool DIR, what is still undelivered when the agent stops is written
 * there (one file per body, atomically) and sent first by the next agent
 * run, so an agent restart while the daemon is away loses nothing either.
 *
 * The agent measures itself: its CPU time over its run is reported at exit
 * and stored as the machine's `collect_cpu_pct` series.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bespoke/collect.h"
#include "cli.h"

static const char usage_text[] =
	"usage: bespoke collect [options]\n\n"
	"Samples this machine (CPU, memory, disk, network from /proc; each\n"
	"user's CPU and memory from cgroup v2; process launches as app\n"
	"events) and sends the readings to a daemon, or stores them.\n\n"
	"  --interval DUR     time between readings (15s)\n"
	"  --duration DUR     stop after this long (default: until SIGTERM)\n"
	"  --to URL           daemon base URL (http://host:8080); without it\n"
	"                     the readings go into the store (--db)\n"
	"  --token-file FILE  bearer token for the daemon (or $BESPOKE_TOKEN)\n"
	"  --entity NAME      this machine's entity (the host name)\n"
	"  --max-buffer N     bytes kept for an absent daemon (16777216)\n"
	"  --spool DIR        keep what is undelivered at exit in DIR and\n"
	"                     send it first on the next run\n"
	"  --no-users         no per-user cgroup readings\n"
	"  --no-apps          no process launches\n"
	"  --no-connector     scan /proc for launches even where the kernel's\n"
	"                     proc connector can be listened to\n"
	"  --proc DIR, --cgroup DIR   read these instead of /proc and the\n"
	"                     cgroup v2 mount\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bsp_time wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (bsp_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the send queue -------------------------------------------------------- */

struct body {
	struct body *next;
	int events; /* 1: event lines, 0: samples */
	size_t len;
	char text[];
};

struct queue {
	struct body *head, *tail;
	size_t bytes, max_bytes;
	unsigned long long dropped, sent_samples, sent_events;
};

static void queue_push(struct queue *q, struct body *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->bytes += b->len;
	/* Over the bound: the oldest readings go first. */
	while (q->bytes > q->max_bytes && q->head && q->head != b) {
		struct body *old = q->head;
		q->head = old->next;
		q->bytes -= old->len;
		q->dropped++;
		free(old);
	}
}

static struct body *queue_pop(struct queue *q)
{
	struct body *b = q->head;
	if (b) {
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= b->len;
	}
	return b;
}

/* ---- the spool: the queue across agent restarts --------------------------- */

/* Spool files are "MS-SEQ-KIND.csv": MS the wall time of the stop that
 * wrote them, SEQ the body's place in the queue, KIND s (samples) or e
 * (events); name order is queue order. */
static int spool_name_ok(const char *n)
{
	size_t l = strlen(n);
	return l > 8 && !strcmp(n + l - 6, "-s.csv") ? 1
	       : l > 8 && !strcmp(n + l - 6, "-e.csv") ? 2
						       : 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A whole spool file as a body (NULL if unreadable or empty). */
static struct body *read_body(const char *path, int events)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct body *b = NULL;
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (b = malloc(sizeof(*b) + (size_t)st.st_size + 1))) {
		if (read(fd, b->text, (size_t)st.st_size) == st.st_size) {
			b->len = (size_t)st.st_size;
			b->text[b->len] = '\0';
			b->events = events;
		} else {
			free(b);
			b = NULL;
		}
	}
	close(fd);
	return b;
}

/* Loads DIR's bodies, oldest first, onto the queue and removes their
 * files (they are in memory now; the next stop spools them again if
 * still undelivered). Returns the number loaded, or -1 after a message. */
static long spool_load(const char *dir, struct queue *q)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, path[4200];
	size_t n = 0, cap = 0;
	long loaded = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0; /* made at the first stop that needs it */
		cli_fail(BSP_EIO, "--spool: %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (spool_name_ok(de->d_name)) {
			if (n == cap) {
				size_t c = cap ? 2 * cap : 64;
				char **t = realloc(names, c * sizeof(*t));
				if (!t)
					break;
				names = t;
				cap = c;
			}
			if (!(names[n] = strdup(de->d_name)))
				break;
			n++;
		}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		struct body *b;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((b = read_body(path, spool_name_ok(names[i]) == 2))) {
			queue_push(q, b);
			unlink(path);
			loaded++;
		} else {
			fprintf(stderr,
				"bespoke collect: --spool: %s: unreadable, "
				"left in place\n",
				path);
		}
		free(names[i]);
	}
	free(names);
	return loaded;
}

/* Writes the queue's bodies into DIR, each through a temporary file
 * renamed into place; returns the bytes written, or -1. */
static long long spool_save(const char *dir, const struct queue *q)
{
	char path[4200], tmp[4300];
	long long bytes = 0, ms = (long long)time(NULL) * 1000;
	unsigned seq = 0;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -1;
	for (const struct body *b = q->head; b; b = b->next, seq++) {
		snprintf(path, sizeof(path), "%s/%013lld-%06u-%c.csv", dir, ms,
			 seq, b->events ? 'e' : 's');
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);
		if (fd < 0)
			return -1;
		int ok = write(fd, b->text, b->len) == (ssize_t)b->len &&
			 fsync(fd) == 0;
		if (close(fd) || !ok || rename(tmp, path)) {
			unlink(tmp);
			return -1;
		}
		bytes += (long long)b->len;
	}
	return bytes;
}

/* Names go into CSV fields: no separators, quotes or line breaks. */
static void clean(char *dst, size_t size, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < size; i++)
		dst[i] = (src[i] == ',' || src[i] == '"' || src[i] == '\n' ||
			  src[i] == '\r')
				 ? '_'
				 : src[i];
	dst[i] = '\0';
}

/* The batch as a samples body and an events body (either may be NULL). */
static int render(const struct bsp_batch *b, struct body **samples,
		  struct body **events)
{
	char *buf = NULL, e[256], m[256];
	size_t len = 0;
	FILE *f;

	*samples = *events = NULL;
	for (int pass = 0; pass < 2; pass++) {
		size_t rows = 0;
		if (!(f = open_memstream(&buf, &len)))
			return -1;
		if (!pass) {
			fputs("entity,metric,timestamp,value,unit\n", f);
			for (size_t i = 0; i < bsp_batch_n_series(b); i++) {
				struct bsp_batch_series_view v;
				bsp_batch_series_view(b, i, &v);
				clean(e, sizeof(e), v.entity);
				clean(m, sizeof(m), v.metric);
				for (size_t k = 0; k < v.n; k++, rows++)
					fprintf(f, "%s,%s,%lld,%.17g,%s\n", e, m,
						(long long)v.ts[k],
						v.values[k], v.unit);
			}
		} else {
			fputs("entity,timestamp,kind,name\n", f);
			for (size_t i = 0; i < bsp_batch_n_events(b); i++, rows++) {
				struct bsp_batch_event_view v;
				bsp_batch_event_view(b, i, &v);
				clean(e, sizeof(e), v.entity);
				clean(m, sizeof(m), v.name);
				fprintf(f, "%s,%lld,%s,%s\n", e, (long long)v.ts,
					v.kind, m);
			}
		}
		if (fclose(f)) {
			free(buf);
			return -1;
		}
		if (rows) {
			struct body *bd = malloc(sizeof(*bd) + len + 1);
			if (!bd) {
				free(buf);
				return -1;
			}
			bd->events = pass;
			bd->len = len;
			memcpy(bd->text, buf, len + 1);
			*(pass ? events : samples) = bd;
		}
		free(buf);
		buf = NULL;
	}
	return 0;
}

struct shipper {
	CURL *h;
	struct curl_slist *hdr;
	char url_csv[1024], url_events[1024];
	double retry_at, backoff;
	int warned_down;
};

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return s * n;
}

/* Sends what it can, in order. */
static void ship(struct shipper *sh, struct queue *q)
{
	while (q->head && mono_s() >= sh->retry_at) {
		struct body *b = q->head;
		long code = 0;
		CURLcode rc;

		curl_easy_setopt(sh->h, CURLOPT_URL,
				 b->events ? sh->url_events : sh->url_csv);
		curl_easy_setopt(sh->h, CURLOPT_POSTFIELDS, (const char *)b->text);
		curl_easy_setopt(sh->h, CURLOPT_POSTFIELDSIZE, (long)b->len);
		rc = curl_easy_perform(sh->h);
		if (rc == CURLE_OK)
			curl_easy_getinfo(sh->h, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300) {
			queue_pop(q);
			if (b->events)
				q->sent_events++;
			else
				q->sent_samples++;
			free(b);
			sh->backoff = 0;
			if (sh->warned_down)
				fprintf(stderr, "bespoke collect: daemon back, "
						"%zu bytes waiting\n",
					q->bytes);
			sh->warned_down = 0;
			continue;
		}
		if (code >= 400 && code < 500 && code != 408 && code != 429) {
			fprintf(stderr,
				"bespoke collect: the daemon refused a body "
				"(HTTP %ld); dropped\n",
				code);
			free(queue_pop(q));
			q->dropped++;
			continue;
		}
		/* Unreachable or 5xx: back off, keep everything. */
		sh->backoff = sh->backoff ? sh->backoff * 2 : 0.5;
		if (sh->backoff > 30)
			sh->backoff = 30;
		sh->retry_at = mono_s() + sh->backoff;
		if (!sh->warned_down)
			fprintf(stderr,
				"bespoke collect: daemon unavailable (%s); "
				"buffering\n",
				rc == CURLE_OK ? "server error"
					       : curl_easy_strerror(rc));
		sh->warned_down = 1;
		break;
	}
}

/* The daemon's token from --token-file or $BESPOKE_TOKEN (NULL: none). */
static int read_token(const char *file, char **out)
{
	const char *env = getenv("BESPOKE_TOKEN");

	*out = NULL;
	if (file)
		return cli_secret_file("token-file", file, out);
	if (env && *env && !(*out = strdup(env)))
		return cli_fail(BSP_ENOMEM, "out of memory");
	return 0;
}

int cmd_collect(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"interval", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, 'd'},
		{"to", required_argument, NULL, 't'},
		{"token-file", required_argument, NULL, 'T'},
		{"entity", required_argument, NULL, 'e'},
		{"max-buffer", required_argument, NULL, 'm'},
		{"spool", required_argument, NULL, 'S'},
		{"no-users", no_argument, NULL, 'U'},
		{"no-apps", no_argument, NULL, 'A'},
		{"no-connector", no_argument, NULL, 'C'},
		{"proc", required_argument, NULL, 'p'},
		{"cgroup", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0},
	};
	struct bsp_collect_options co = {0};
	struct bsp_collector *col = NULL;
	struct bsp_store *st = NULL;
	struct bsp_batch *b = NULL;
	struct bsp_error err = {0};
	struct queue q = {0};
	struct shipper sh = {0};
	bsp_time interval = 15 * BSP_SECOND, duration = 0;
	const char *to = NULL, *token_file = NULL, *spool = NULL;
	char *token = NULL;
	unsigned long long readings = 0, samples = 0, events = 0;
	long long v;
	int c, rc = EXIT_OK;

	q.max_bytes = 16u << 20;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'i':
			if ((rc = cli_duration("interval", optarg, &interval)))
				return rc;
			if (interval < 50 || interval > BSP_DAY)
				return cli_fail(BSP_EINVAL, "--interval: from "
						"50ms to 1d");
			break;
		case 'd':
			if ((rc = cli_duration("duration", optarg, &duration)))
				return rc;
			break;
		case 't':
			to = optarg;
			break;
		case 'T':
			token_file = optarg;
			break;
		case 'e':
			co.entity = optarg;
			break;
		case 'm':
			if ((rc = cli_size("max-buffer", optarg, 4096,
					   1LL << 34, &v)))
				return rc;
			q.max_bytes = (size_t)v;
			break;
		case 'U':
			co.no_users = 1;
			break;
		case 'A':
			co.no_apps = 1;
			break;
		case 'C':
			co.no_connector = 1;
			break;
		case 'p':
			co.proc_root = optarg;
			break;
		case 'g':
			co.cgroup_root = optarg;
			break;
		case 'S':
			spool = optarg;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind < argc)
		return cli_fail(BSP_EINVAL, "collect: unexpected argument '%s'",
				argv[optind]);
	if (to && strncmp(to, "http://", 7) && strncmp(to, "https://", 8))
		return cli_fail(BSP_EINVAL,
				"--to: '%s' is not an http:// or https:// URL",
				to);
	if (spool && !to)
		return cli_fail(BSP_EINVAL, "--spool: only with --to");
	if (to && (rc = read_token(token_file, &token)))
		return rc;
	if (bsp_collect_new(&col, &co, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (!(b = bsp_batch_new())) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (to) {
		size_t l = strlen(to);
		while (l && to[l - 1] == '/')
			l--;
		snprintf(sh.url_csv, sizeof(sh.url_csv),
			 "%.*s/v1/ingest?format=csv", (int)l, to);
		snprintf(sh.url_events, sizeof(sh.url_events),
			 "%.*s/v1/ingest?format=events", (int)l, to);
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if (!(sh.h = curl_easy_init())) {
			rc = cli_fail(BSP_ENOMEM, "cannot start libcurl");
			goto out;
		}
		if (token) {
			size_t n = strlen(token) + 32;
			char *auth = malloc(n);
			if (!auth) {
				rc = cli_fail(BSP_ENOMEM, "out of memory");
				goto out;
			}
			snprintf(auth, n, "Authorization: Bearer %s", token);
			sh.hdr = curl_slist_append(sh.hdr, auth);
			cli_secret_free(auth);
		}
		sh.hdr = curl_slist_append(sh.hdr, "Content-Type: text/csv");
		curl_easy_setopt(sh.h, CURLOPT_HTTPHEADER, sh.hdr);
		curl_easy_setopt(sh.h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(sh.h, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(sh.h, CURLOPT_CONNECTTIMEOUT, 5L);
		curl_easy_setopt(sh.h, CURLOPT_NOSIGNAL, 1L);
		/* What an earlier run could not deliver goes first. */
		long n = spool ? spool_load(spool, &q) : 0;
		if (n < 0) {
			rc = EXIT_USER;
			goto out;
		}
		if (n > 0)
			fprintf(stderr,
				"bespoke collect: %ld bodies (%zu bytes) from "
				"%s to send first\n",
				n, q.bytes, spool);
	} else if ((rc = cli_open(cli, BSP_OPEN_CREATE, &st))) {
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	double start = mono_s(), cpu0 = cpu_s(), next = start;
	double prev_mono = start, prev_cpu = cpu0;
	for (;;) {
		size_t added = 0;
		(void)added;
		double elapsed = mono_s() - start;
		int last = stop || (duration && elapsed * 1000 >= (double)duration);
		bsp_time tnow = wall_ms();
		if (bsp_collect_sample(col, tnow, b, &added, &err) != BSP_OK) {
			rc = cli_fail_err(&err);
			goto out;
		}
		readings++;
		/* The agent's own cost since the last reading, stored with
		 * the rest. */
		double mnow = mono_s(), cnow = cpu_s();
		if (readings > 1 && mnow > prev_mono) {
			int sid = bsp_batch_series(b, bsp_collect_entity(col),
						   "collect_cpu_pct", "", "%");
			if (sid < 0 ||
			    bsp_batch_sample(b, sid, tnow,
					     100 * (cnow - prev_cpu) /
						     (mnow - prev_mono)) < 0) {
				rc = cli_fail(BSP_ENOMEM, "out of memory");
				goto out;
			}
		}
		prev_mono = mnow;
		prev_cpu = cnow;
		samples += bsp_batch_n_samples(b);
		events += bsp_batch_n_events(b);
		if (to) {
			struct body *s1, *s2;
			if (render(b, &s1, &s2)) {
				rc = cli_fail(BSP_ENOMEM, "out of memory");
				goto out;
			}
			if (s1)
				queue_push(&q, s1);
			if (s2)
				queue_push(&q, s2);
			ship(&sh, &q);
		} else if (bsp_store_write(st, b, NULL, &err) != BSP_OK) {
			rc = cli_fail_err(&err);
			goto out;
		}
		bsp_batch_clear(b);
		if (last)
			break;
		/* Sleep to the next tick; a signal ends the sleep early. */
		next += (double)interval / 1000;
		double now = mono_s();
		if (next < now)
			next = now;
		struct timespec ts = {(time_t)(next - now),
				      (long)((next - now -
					      (double)(time_t)(next - now)) *
					     1e9)};
		while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	/* Last chance for the queue: a few tries within a few seconds. */
	for (double until = mono_s() + 5; to && q.head && mono_s() < until;) {
		sh.retry_at = 0;
		ship(&sh, &q);
		if (q.head)
			nanosleep(&(struct timespec){0, 200000000}, NULL);
	}
	double wall = mono_s() - start, cpu = cpu_s() - cpu0;
	unsigned long long dropped = 0, missed = 0;
	const char *src = bsp_collect_launch_source(col, &dropped, &missed);
	fprintf(stderr, "bespoke collect: launches from the %s", src);
	if (!strcmp(src, "proc connector"))
		fprintf(stderr, " (%llu gone before their name was read, %llu "
				"dropped)",
			missed, dropped);
	fputc('\n', stderr);
	fprintf(stderr,
		"bespoke collect: %llu readings, %llu samples, %llu events in "
		"%.1f s; own CPU %.3f s (%.2f%% of one core)\n",
		readings, samples, events, wall, cpu,
		wall > 0 ? 100 * cpu / wall : 0.0);
	if (q.head && spool) {
		long long w = spool_save(spool, &q);
		if (w < 0) {
			fprintf(stderr,
				"bespoke collect: --spool: %s: %s\n", spool,
				strerror(errno));
		} else {
			fprintf(stderr,
				"bespoke collect: %lld bytes not delivered, "
				"kept in %s for the next run\n",
				w, spool);
			while (q.head)
				free(queue_pop(&q));
		}
	}
	if (q.head || q.dropped) {
		fprintf(stderr,
			"bespoke collect: %zu bytes not delivered, %llu bodies "
			"dropped\n",
			q.bytes, q.dropped);
		rc = EXIT_USER;
	}
out:
	while (q.head)
		free(queue_pop(&q));
	if (sh.h) {
		curl_slist_free_all(sh.hdr);
		curl_easy_cleanup(sh.h);
		curl_global_cleanup();
	}
	bsp_batch_free(b);
	bsp_store_close(st);
	bsp_collect_free(col);
	cli_secret_free(token);
	return rc;
}
