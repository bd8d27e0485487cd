/*
 * bsp_ingest_path and bsp_ingest_buffer (include/bespoke/ingest.h): from a
 * path on disk, or bytes in memory, to batches written to the store.
 *
 * A path is one file or a folder walked recursively (hidden names
 * skipped, each folder's entries sorted by name so that runs are
 * reproducible). Every file becomes a job: open (plain or gzip), detect
 * the format from its first 64 KiB unless one is forced, parse into a
 * batch of its own, and compress the batch's chunks (bsp_store_prepare).
 * Those steps are CPU-bound and independent, so opt->threads workers run
 * them in parallel while the calling thread, the only one that touches
 * the store (a store handle is not thread-safe), writes finished batches
 * in file order, one transaction per file. Workers may run at most
 * `window` files ahead of the writer, which bounds memory to a few
 * batches whatever the number of files.
 *
 * Diagnostics are buffered per file and emitted by the writing thread, so
 * the callback is called from one thread only and files never interleave.
 *
 * Failure rules (docs/ingest.md): a file that cannot be read, is corrupt,
 * cannot be told apart, or (with --on-error=abort) has a bad line is not
 * stored; the others still are, and the call returns BSP_EINVAL with the
 * first failure's message at the end. Only a store error that is not about the input (the
 * database, the disk) stops the whole run at once.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest_int.h"

/* Deepest folder nesting walked (guards against symlink loops). */
#define WALK_MAX_DEPTH 32
/* Most parser threads, whatever the machine says. */
#define MAX_THREADS 64

static const struct bsp_ingest_options default_options = {
	.on_error = BSP_ON_ERROR_SKIP,
};

/* ---- names ---------------------------------------------------------- */

static int has_suffix(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n > k && !strncasecmp(s + n - k, suf, k);
}

/* "a/b/1.csv.gz" → "1": the file name without .gz and one data suffix. */
static void base_name(const char *path, char *out, size_t size)
{
	static const char *const data_suffixes[] = {".csv", ".txt", ".tsv",
						    ".prom"};
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t n = strlen(name);

	if (has_suffix(name, n, ".gz"))
		n -= 3;
	for (size_t i = 0; i < BSP_ARRAY_LEN(data_suffixes); i++) {
		if (has_suffix(name, n, data_suffixes[i])) {
			n -= strlen(data_suffixes[i]);
			break;
		}
	}
	if (n == 0) /* ".csv": keep the whole name rather than nothing */
		n = strlen(name);
	if (n >= size)
		n = size - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

static bsp_time wall_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (bsp_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The detection head: cut at the last line end unless it is all there. */
static size_t head_cut(const char *head, size_t len, int complete)
{
	if (!complete) {
		const char *nl = memrchr(head, '\n', len);
		if (nl)
			return (size_t)(nl - head) + 1;
	}
	return len;
}

static const struct ingest_format *
pick_format(const struct bsp_ingest_options *opt, const char *head,
	    size_t len, const char *path, int *best)
{
	*best = 100;
	if (opt->format)
		return ingest_format_find(opt->format);
	return ingest_format_detect(head, len, path, best);
}

static bsp_err unknown_format(const char *name, struct bsp_error *err)
{
	char list[256];
	size_t k = 0;

	list[0] = '\0';
	for (size_t i = 0; i < ingest_n_formats && k < sizeof(list); i++) {
		int w = snprintf(list + k, sizeof(list) - k, "%s%s",
				 i ? ", " : "", ingest_formats[i].name);
		if (w < 0)
			break;
		k += (size_t)w;
	}
	return bsp_error_set(err, BSP_EINVAL,
			     "unknown format '%s' (known: %s)", name, list);
}

/* ---- one file --------------------------------------------------------- */

enum job_outcome { JOB_STORED, JOB_FAILED, JOB_SKIPPED };

struct ingest_job {
	char *path;
	char base[INGEST_MAX_NAME];
	char dir[INGEST_MAX_NAME];
	struct bsp_batch *batch;
	struct ingest_file file; /* diagnostics and, if failed, the error */
	struct bsp_ingest_report rep;
	enum job_outcome outcome;
	struct bsp_error err;
	int done; /* guarded by the run's mutex */
};

static void job_fail(struct ingest_job *j, const struct bsp_error *e)
{
	j->outcome = JOB_FAILED;
	j->err = *e;
	bsp_batch_free(j->batch);
	j->batch = NULL;
}

/* Opens, detects, parses and compresses one file (any thread). */
static void job_run(struct ingest_job *j, const struct bsp_ingest_options *opt,
		    int single)
{
	struct line_reader *r;
	const struct ingest_format *fmt;
	struct ingest_file *f = &j->file;
	struct bsp_error e = {0};
	const char *head;
	size_t hlen;
	int best;

	ingest_file_init(f);
	f->opt = opt;
	f->path = j->path;
	f->report = &j->rep;
	j->outcome = JOB_STORED;
	base_name(j->path, j->base, sizeof(j->base));
	ingest_parent_name(j->path, j->dir, sizeof(j->dir));

	if (!(r = lr_open_file(j->path, &e))) {
		job_fail(j, &e);
		return;
	}
	head = lr_peek(r, INGEST_HEAD_MAX, &hlen);
	if (lr_error(r, &e) != BSP_OK) {
		job_fail(j, &e);
		goto out;
	}
	hlen = head_cut(head, hlen, hlen < INGEST_HEAD_MAX);
	fmt = pick_format(opt, head, hlen, j->path, &best);
	if (!fmt) {
		if (!single && best < INGEST_DETECT_MIN) {
			j->outcome = JOB_SKIPPED;
			goto out;
		}
		bsp_error_set(&e, BSP_EINVAL,
			      "%s: cannot tell the format; use --format",
			      j->path);
		job_fail(j, &e);
		goto out;
	}
	if (!(j->batch = bsp_batch_new())) {
		bsp_error_set(&e, BSP_ENOMEM, "%s: out of memory", j->path);
		job_fail(j, &e);
		goto out;
	}
	f->base = j->base;
	f->dir = j->dir;
	f->batch = j->batch;
	f->reader = r;
	f->now = lr_mtime(r);
	if (f->now == BSP_TIME_NONE)
		f->now = wall_clock_ms();
	bsp_err res = fmt->parse(f);
	if (lr_error(r, &e) != BSP_OK) {
		job_fail(j, &e); /* a read error explains any bad last line */
		goto out;
	}
	if (res != BSP_OK || f->aborted) {
		if (f->err.code == BSP_OK)
			bsp_error_set(&f->err, res ? res : BSP_EINVAL,
				      "%s: not stored", j->path);
		job_fail(j, &f->err);
		goto out;
	}
	j->rep.samples = bsp_batch_n_samples(j->batch);
	j->rep.events = bsp_batch_n_events(j->batch);
	if (bsp_store_prepare(j->batch, &e) != BSP_OK) {
		struct bsp_error named;
		bsp_error_set(&named, e.code, "%s: %s", j->path,
			      e.msg[0] ? e.msg : bsp_strerror(e.code));
		job_fail(j, &named);
	}
out:
	lr_close(r);
	f->reader = NULL;
}

/* ---- folders -------------------------------------------------------- */

struct path_list {
	char **v;
	size_t n, cap;
};

static void path_list_free(struct path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int path_list_add(struct path_list *l, char *p)
{
	if (!p || BSP_GROW(l->v, l->cap, l->n + 1) < 0) {
		free(p);
		return -1;
	}
	l->v[l->n++] = p;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	int slash = a && dir[a - 1] != '/';
	char *p = malloc(a + slash + b + 1);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	if (slash)
		p[a] = '/';
	memcpy(p + a + slash, name, b + 1);
	return p;
}

/*
 * Adds the regular files under `dir`, sorted by name at each level. A
 * sub-folder that cannot be read is added as if it were a file, so that
 * opening it fails and names it among the failed files.
 */
static bsp_err walk(const char *dir, int depth, struct path_list *out,
		    struct bsp_error *err)
{
	struct path_list names = {0};
	struct dirent *de;
	bsp_err result = BSP_OK;
	DIR *d = opendir(dir);

	if (!d)
		return bsp_error_set(err, BSP_EIO, "%s: cannot open folder: %s",
				     dir, strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* hidden, "." and ".." */
		if (path_list_add(&names, strdup(de->d_name)) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM,
					       "out of memory");
			goto out;
		}
	}
	qsort(names.v, names.n, sizeof(*names.v), cmp_names);
	for (size_t i = 0; i < names.n; i++) {
		char *p = join(dir, names.v[i]);
		struct stat sb;

		if (!p) {
			result = bsp_error_set(err, BSP_ENOMEM,
					       "out of memory");
			goto out;
		}
		if (stat(p, &sb) == 0 && !S_ISDIR(sb.st_mode) &&
		    !S_ISREG(sb.st_mode)) {
			free(p); /* fifos, sockets, devices: not data */
			continue;
		}
		if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    depth < WALK_MAX_DEPTH) {
			struct bsp_error sub = {0};
			bsp_err r = walk(p, depth + 1, out, &sub);
			if (r == BSP_ENOMEM) {
				free(p);
				result = bsp_error_set(err, r, "%s", sub.msg);
				goto out;
			}
			if (r == BSP_OK) {
				free(p);
				continue;
			}
		}
		if (path_list_add(out, p) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM,
					       "out of memory");
			goto out;
		}
	}
out:
	closedir(d);
	path_list_free(&names);
	return result;
}

/* ---- the run ---------------------------------------------------------- */

struct ingest_run {
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* workers: room in the window, or stop */
	pthread_cond_t done_cv; /* writer: a job finished */
	struct ingest_job *jobs;
	size_t n;
	size_t next;    /* next job to start */
	size_t written; /* jobs the writer has consumed */
	size_t window;
	int stop;
	int single;
	const struct bsp_ingest_options *opt;
};

static void *worker(void *arg)
{
	struct ingest_run *run = arg;

	pthread_mutex_lock(&run->mu);
	for (;;) {
		while (!run->stop && run->next < run->n &&
		       run->next >= run->written + run->window)
			pthread_cond_wait(&run->work_cv, &run->mu);
		if (run->stop || run->next >= run->n)
			break;
		size_t i = run->next++;
		pthread_mutex_unlock(&run->mu);
		job_run(&run->jobs[i], run->opt, run->single);
		pthread_mutex_lock(&run->mu);
		run->jobs[i].done = 1;
		pthread_cond_signal(&run->done_cv);
	}
	pthread_mutex_unlock(&run->mu);
	return NULL;
}

static void diag(const struct bsp_ingest_options *opt, const char *fmt, ...)
	BSP_PRINTF(2, 3);

static void diag(const struct bsp_ingest_options *opt, const char *fmt, ...)
{
	char msg[BSP_ERROR_MAX];
	va_list ap;

	if (!opt->diag)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	opt->diag(opt->ud, msg);
}

static void add_counts(struct bsp_ingest_report *to,
		       const struct bsp_ingest_report *from, int stored)
{
	to->lines += from->lines;
	to->bad_lines += from->bad_lines;
	to->bad_values += from->bad_values;
	if (stored) {
		to->samples += from->samples;
		to->events += from->events;
	}
}

/*
 * The writer's part for job i: diagnostics, the store write, the counts.
 * Returns non-OK only for an error that must stop the whole run.
 */
static bsp_err job_finish(struct ingest_run *run, struct bsp_store *st,
			  struct ingest_job *j, struct bsp_ingest_report *rep,
			  struct bsp_error *first, struct bsp_error *err)
{
	const struct bsp_ingest_options *opt = run->opt;

	ingest_file_flush_diags(&j->file);
	if (j->outcome == JOB_STORED) {
		struct bsp_error we = {0};
		bsp_err r = bsp_store_write(st, j->batch, &rep->written, &we);
		if (r != BSP_OK && !bsp_err_is_user(r)) {
			add_counts(rep, &j->rep, 0);
			rep->files_failed++;
			return bsp_error_set(err, r, "%s: %s", j->path, we.msg);
		}
		if (r != BSP_OK) {
			bsp_error_set(&j->err, r, "%s: %s", j->path, we.msg);
			j->outcome = JOB_FAILED;
		}
	}
	switch (j->outcome) {
	case JOB_STORED:
		rep->files++;
		add_counts(rep, &j->rep, 1);
		break;
	case JOB_SKIPPED:
		diag(opt, "%s: skipped: format not recognised", j->path);
		break;
	case JOB_FAILED:
		rep->files_failed++;
		add_counts(rep, &j->rep, 0);
		if (!run->single)
			diag(opt, "%s", j->err.msg);
		if (first->code == BSP_OK)
			*first = j->err;
		break;
	}
	bsp_batch_free(j->batch);
	j->batch = NULL;
	ingest_file_release(&j->file);
	return BSP_OK;
}

static unsigned thread_count(const struct bsp_ingest_options *opt, size_t n)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t t = opt->threads ? opt->threads : (cores > 0 ? (size_t)cores : 1);

	if (t > MAX_THREADS)
		t = MAX_THREADS;
	if (t > n)
		t = n;
	return t ? (unsigned)t : 1;
}

bsp_err bsp_ingest_path(struct bsp_store *st, const char *path,
			const struct bsp_ingest_options *opt,
			struct bsp_ingest_report *report,
			struct bsp_error *err)
{
	struct ingest_run run;
	struct bsp_ingest_report local;
	struct bsp_ingest_report *rep = report ? report : &local;
	struct path_list files = {0};
	struct bsp_error first = {0};
	pthread_t tids[MAX_THREADS];
	unsigned nthreads, started = 0;
	bsp_err result = BSP_OK;
	struct stat sb;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	memset(&run, 0, sizeof(run));
	if (!opt)
		opt = &default_options;
	if (opt->format && !ingest_format_find(opt->format))
		return unknown_format(opt->format, err);
	if (stat(path, &sb) < 0)
		return bsp_error_set(err,
				     errno == ENOENT ? BSP_ENOTFOUND : BSP_EIO,
				     "%s: %s", path, strerror(errno));
	if (S_ISDIR(sb.st_mode)) {
		if ((result = walk(path, 0, &files, err)) != BSP_OK)
			goto out;
		if (files.n == 0) {
			result = bsp_error_set(err, BSP_EINVAL,
					       "%s: the folder holds no files",
					       path);
			goto out;
		}
	} else {
		if (path_list_add(&files, strdup(path)) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM,
					       "out of memory");
			goto out;
		}
		run.single = 1;
	}

	run.jobs = calloc(files.n, sizeof(*run.jobs));
	if (!run.jobs) {
		result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < files.n; i++)
		run.jobs[i].path = files.v[i];
	run.n = files.n;
	run.opt = opt;
	nthreads = thread_count(opt, files.n);
	run.window = 2 * (size_t)nthreads;
	pthread_mutex_init(&run.mu, NULL);
	pthread_cond_init(&run.work_cv, NULL);
	pthread_cond_init(&run.done_cv, NULL);
	for (; started < nthreads; started++)
		if (pthread_create(&tids[started], NULL, worker, &run) != 0)
			break;

	for (i = 0; i < run.n; i++) {
		struct ingest_job *j = &run.jobs[i];
		if (started == 0) {
			job_run(j, opt, run.single); /* no threads: inline */
		} else {
			pthread_mutex_lock(&run.mu);
			while (!j->done)
				pthread_cond_wait(&run.done_cv, &run.mu);
			pthread_mutex_unlock(&run.mu);
		}
		result = job_finish(&run, st, j, rep, &first, err);
		pthread_mutex_lock(&run.mu);
		run.written = i + 1;
		if (result != BSP_OK)
			run.stop = 1;
		pthread_cond_broadcast(&run.work_cv);
		pthread_mutex_unlock(&run.mu);
		if (opt->progress)
			opt->progress(opt->ud, i + 1, run.n, rep->samples);
		if (result != BSP_OK)
			break;
	}
	for (unsigned t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	/* Jobs finished but never written (the run stopped early). */
	for (i = 0; i < run.n; i++) {
		bsp_batch_free(run.jobs[i].batch);
		ingest_file_release(&run.jobs[i].file);
	}
	pthread_cond_destroy(&run.done_cv);
	pthread_cond_destroy(&run.work_cv);
	pthread_mutex_destroy(&run.mu);

	if (result == BSP_OK && first.code != BSP_OK) {
		/* A file that is corrupt, unreadable or has a bad line is a
		 * problem with the input the user gave (exit status 1), not
		 * with bespoke; only running out of memory is ours. */
		bsp_err code = first.code == BSP_ENOMEM ? BSP_ENOMEM : BSP_EINVAL;
		if (!run.single) /* each failure was a diagnostic already */
			result = bsp_error_set(err, code,
					       "%llu of %llu files not stored; "
					       "the first: %s",
					       (unsigned long long)
						       rep->files_failed,
					       (unsigned long long)run.n,
					       first.msg);
		else
			result = bsp_error_set(err, code, "%s", first.msg);
	}
out:
	free(run.jobs);
	path_list_free(&files);
	return result;
}

/* ---- memory ------------------------------------------------------------ */

bsp_err bsp_ingest_buffer(struct bsp_batch *batch, const char *name,
			  const char *data, size_t len,
			  const struct bsp_ingest_options *opt,
			  struct bsp_ingest_report *report,
			  struct bsp_error *err)
{
	struct bsp_ingest_report rep = {0};
	struct ingest_file f;
	struct line_reader *r = NULL;
	const struct ingest_format *fmt;
	char base[INGEST_MAX_NAME], dir[INGEST_MAX_NAME];
	size_t samples0 = bsp_batch_n_samples(batch);
	size_t events0 = bsp_batch_n_events(batch);
	bsp_err result;
	int best;

	if (report)
		memset(report, 0, sizeof(*report));
	if (!opt)
		opt = &default_options;
	if (!name || !*name)
		name = "buffer";
	if (!data)
		len = 0;
	if (opt->format && !ingest_format_find(opt->format))
		return unknown_format(opt->format, err);
	fmt = pick_format(opt, data ? data : "",
			  head_cut(data ? data : "",
				   len < INGEST_HEAD_MAX ? len : INGEST_HEAD_MAX,
				   len <= INGEST_HEAD_MAX),
			  name, &best);
	if (!fmt)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: cannot tell the format; use --format",
				     name);
	if (!(r = lr_open_mem(data, len, name)))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	base_name(name, base, sizeof(base));
	ingest_parent_name(name, dir, sizeof(dir));
	ingest_file_init(&f);
	f.path = name;
	f.base = base;
	f.dir = dir;
	f.batch = batch;
	f.opt = opt;
	f.report = &rep;
	f.reader = r;
	f.now = wall_clock_ms();

	result = fmt->parse(&f);
	ingest_file_flush_diags(&f);
	bsp_err rerr = lr_error(r, err);
	if (rerr != BSP_OK) {
		result = rerr;
	} else if (result != BSP_OK || f.aborted) {
		if (f.err.code == BSP_OK)
			bsp_error_set(&f.err, result ? result : BSP_EINVAL,
				      "%s: not parsed", name);
		result = bsp_error_set(err, f.err.code, "%s", f.err.msg);
	}
	if (result == BSP_OK) {
		rep.files = 1;
		rep.samples = bsp_batch_n_samples(batch) - samples0;
		rep.events = bsp_batch_n_events(batch) - events0;
	} else {
		rep.files_failed = 1;
	}
	if (report)
		*report = rep;
	ingest_file_release(&f);
	lr_close(r);
	return result;
}
