/*
 * The remote-write append log. A Prometheus sender posts a few thousand
 * samples per request, one or two per series; writing each request into
 * the store would rewrite the day chunk of every series it touches, once
 * per request. Instead an accepted request (already validated by decoding
 * it) is appended, as the body it came in, to a log file next to the store
 * and acknowledged; a flusher thread decodes everything logged since its
 * last pass into one batch and writes it in one transaction, so each chunk
 * is rewritten once per flush.
 *
 * Durability: a request is acknowledged after its record is in the log
 * (written with one write(); the page cache survives the daemon being
 * killed). The flusher first moves the log aside (STORE-rw.log ->
 * STORE-rw.log.1) and starts a new one, writes the old one into the store,
 * and only after the commit deletes it. At start, whatever logs are there
 * are written into the store first: samples already stored are stored
 * again unchanged, so a crash between commit and delete costs nothing.
 * Records carry a CRC so that a record torn by a crash mid-write is
 * recognised at the tail and left out (it was never acknowledged).
 *
 * Reads see remote-written samples after the next flush (--flush, 1 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "bespoke/ingest.h"
#include "serve.h"

#define WAL_MAGIC 0x42535057u /* "BSPW" */
#define WAL_MAX_RECORD (256u << 20)

struct serve_wal {
	char path[4096], old[4104];
	int fd;
	pthread_mutex_t lock; /* appends and rotation */
	pthread_t thread;
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	int stop;
	atomic_uint_fast64_t pending_bytes, flushes, flushed_samples,
		flush_failures;
	atomic_uint_fast64_t flushing_bytes; /* the log moved aside */
	atomic_uint_fast64_t last_flush_us;
	size_t max_uncompressed;
	const char *db;
};

/* Record: magic, body length, entity length, CRC32 of the rest; then the
 * default entity and the body. */
struct wal_head {
	uint32_t magic, body_len, entity_len, crc;
};

static uint32_t record_crc(const char *entity, uint32_t elen, const void *body,
			   uint32_t blen)
{
	uLong c = crc32(0L, Z_NULL, 0);
	c = crc32(c, (const Bytef *)&elen, sizeof(elen));
	c = crc32(c, (const Bytef *)&blen, sizeof(blen));
	c = crc32(c, (const Bytef *)entity, elen);
	c = crc32(c, (const Bytef *)body, blen);
	return (uint32_t)c;
}

bsp_err serve_wal_append(struct serve *srv, const char *entity,
			 const void *body, size_t len, struct bsp_error *err)
{
	struct serve_wal *w = srv->wal;
	struct wal_head h;
	struct iovec iov[3];
	uint32_t elen = entity ? (uint32_t)strlen(entity) : 0;
	ssize_t want, got;

	if (len > WAL_MAX_RECORD || elen > 4096)
		return bsp_error_set(err, BSP_ELIMIT, "record too large");
	h.magic = WAL_MAGIC;
	h.body_len = (uint32_t)len;
	h.entity_len = elen;
	h.crc = record_crc(entity ? entity : "", elen, body, (uint32_t)len);
	iov[0] = (struct iovec){&h, sizeof(h)};
	iov[1] = (struct iovec){(void *)(entity ? entity : ""), elen};
	iov[2] = (struct iovec){(void *)body, len};
	want = (ssize_t)(sizeof(h) + elen + len);
	pthread_mutex_lock(&w->lock);
	got = writev(w->fd, iov, 3);
	if (got != want && got > 0) {
		/* A short write leaves a torn record: cut it off so the next
		 * one starts clean. */
		off_t end = lseek(w->fd, 0, SEEK_END);
		if (end >= got && ftruncate(w->fd, end - got)) {
			/* The CRC will reject it at replay. */
		}
	}
	pthread_mutex_unlock(&w->lock);
	if (got != want)
		return bsp_error_set(err, BSP_EIO, "%s: %s", w->path,
				     got < 0 ? strerror(errno) : "short write");
	atomic_fetch_add(&w->pending_bytes, (uint_fast64_t)want);
	return BSP_OK;
}

/* A share of a log's records, decoded (and compressed) on a thread of
 * its own. */
#define WAL_THREADS 4

struct decode_job {
	struct serve_wal *w;
	const char *buf;
	size_t from, until; /* byte range of whole records */
	struct bsp_batch *b;
	uint64_t samples;
	bsp_err r;
	struct bsp_error err;
};

static void *decode_range(void *arg)
{
	struct decode_job *j = arg;
	size_t off = j->from;

	if (!(j->b = bsp_batch_new())) {
		j->r = bsp_error_set(&j->err, BSP_ENOMEM, "out of memory");
		return NULL;
	}
	while (off < j->until) {
		struct wal_head h;
		struct bsp_ingest_report rep;
		char entity[4097];
		memcpy(&h, j->buf + off, sizeof(h));
		const char *e = j->buf + off + sizeof(h);
		memcpy(entity, e, h.entity_len);
		entity[h.entity_len] = '\0';
		/* Every record decoded when it was accepted; only running
		 * out of memory can stop it now, and then nothing is
		 * written and the log stays for the next try. */
		if ((j->r = bsp_ingest_remote_write(
			     j->b, e + h.entity_len, h.body_len,
			     h.entity_len ? entity : NULL,
			     j->w->max_uncompressed, &rep, &j->err)) != BSP_OK)
			return NULL;
		j->samples += rep.samples;
		off += sizeof(h) + h.entity_len + h.body_len;
	}
	/* Sorting and compressing, here rather than in the writer. */
	j->r = bsp_store_prepare(j->b, &j->err);
	return NULL;
}

/*
 * Decodes every whole, intact record of `path` and writes them; counts
 * samples. A torn tail is left out. The records are split by bytes into
 * shares decoded in parallel; the shares are then written in log order,
 * so a later sample for the same series and time still wins.
 */
static bsp_err replay_file(struct serve_wal *w, struct bsp_store *st,
			   const char *path, uint64_t *samples,
			   struct bsp_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf = NULL;
	struct decode_job jobs[WAL_THREADS];
	pthread_t th[WAL_THREADS];
	size_t off = 0, n_jobs = 0, cuts[WAL_THREADS + 1];
	bsp_err r = BSP_OK;

	*samples = 0;
	if (fd < 0)
		return errno == ENOENT ? BSP_OK
				       : bsp_error_set(err, BSP_EIO, "%s: %s",
						       path, strerror(errno));
	if (fstat(fd, &sb) || !(buf = malloc((size_t)sb.st_size + 1))) {
		close(fd);
		return bsp_error_set(err, BSP_ENOMEM, "%s: cannot read", path);
	}
	for (size_t done = 0; done < (size_t)sb.st_size;) {
		ssize_t n = read(fd, buf + done, (size_t)sb.st_size - done);
		if (n <= 0) {
			sb.st_size = (off_t)done;
			break;
		}
		done += (size_t)n;
	}
	close(fd);
	/* The intact records: up to a torn tail. Cut into shares of about
	 * equal bytes at record boundaries. */
	size_t size = (size_t)sb.st_size, share = size / WAL_THREADS + 1;
	cuts[0] = 0;
	while (off + sizeof(struct wal_head) <= size) {
		struct wal_head h;
		memcpy(&h, buf + off, sizeof(h));
		size_t rec = sizeof(h) + h.entity_len + h.body_len;
		if (h.magic != WAL_MAGIC || h.entity_len > 4096 ||
		    h.body_len > WAL_MAX_RECORD || off + rec > size)
			break;
		const char *e = buf + off + sizeof(h);
		if (record_crc(e, h.entity_len, e + h.entity_len, h.body_len) !=
		    h.crc)
			break;
		off += rec;
		if (off >= share * (n_jobs + 1) && n_jobs + 1 < WAL_THREADS)
			cuts[++n_jobs] = off;
	}
	if (off > cuts[n_jobs])
		cuts[++n_jobs] = off;
	int started[WAL_THREADS] = {0};
	for (size_t i = 0; i < n_jobs; i++) {
		jobs[i] = (struct decode_job){w, buf, cuts[i], cuts[i + 1],
					      NULL, 0, BSP_OK, {0}};
		/* Without a thread, the share is decoded here. */
		started[i] = !pthread_create(&th[i], NULL, decode_range,
					     &jobs[i]);
		if (!started[i])
			decode_range(&jobs[i]);
	}
	for (size_t i = 0; i < n_jobs; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	for (size_t i = 0; i < n_jobs && r == BSP_OK; i++) {
		if (jobs[i].r != BSP_OK) {
			*err = jobs[i].err;
			r = jobs[i].r;
			break;
		}
		*samples += jobs[i].samples;
	}
	/* In log order; each share is one transaction, and the log is only
	 * deleted once all of them committed (replaying one twice changes
	 * nothing). */
	for (size_t i = 0; i < n_jobs && r == BSP_OK; i++)
		if (bsp_batch_n_samples(jobs[i].b))
			r = bsp_store_write(st, jobs[i].b, NULL, err);
	for (size_t i = 0; i < n_jobs; i++)
		bsp_batch_free(jobs[i].b);
	free(buf);
	return r;
}

/* Moves the log aside, writes it into the store, deletes it. */
static bsp_err flush_once(struct serve_wal *w, struct bsp_store *st,
			  struct bsp_error *err)
{
	uint64_t samples = 0;
	struct timespec t0, t1;
	bsp_err r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* A log left aside by an earlier pass that failed goes first. */
	if (access(w->old, F_OK)) {
		pthread_mutex_lock(&w->lock);
		struct stat sb;
		if (fstat(w->fd, &sb) || sb.st_size == 0) {
			pthread_mutex_unlock(&w->lock);
			return BSP_OK;
		}
		int fd = -1;
		if (rename(w->path, w->old) ||
		    (fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			       0600)) < 0) {
			pthread_mutex_unlock(&w->lock);
			return bsp_error_set(err, BSP_EIO, "%s: %s", w->path,
					     strerror(errno));
		}
		close(w->fd);
		w->fd = fd;
		atomic_store(&w->flushing_bytes, (uint_fast64_t)sb.st_size);
		atomic_store(&w->pending_bytes, 0);
		pthread_mutex_unlock(&w->lock);
	}
	r = replay_file(w, st, w->old, &samples, err);
	if (r == BSP_OK) {
		unlink(w->old);
		atomic_fetch_add(&w->flushed_samples, samples);
		atomic_store(&w->flushing_bytes, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_store(&w->last_flush_us,
		     (uint_fast64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
				     (t1.tv_nsec - t0.tv_nsec) / 1000));
	atomic_fetch_add(&w->flushes, 1);
	return r;
}

static void *flusher(void *arg)
{
	struct serve *srv = arg;
	struct serve_wal *w = srv->wal;
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};

	if (bsp_store_open(&st, w->db, BSP_OPEN_CREATE, &err) != BSP_OK) {
		fprintf(stderr, "bespoke serve: remote-write flusher: %s\n",
			err.msg);
		return NULL;
	}
	pthread_mutex_lock(&w->wake_lock);
	for (;;) {
		int stopping = w->stop;
		pthread_mutex_unlock(&w->wake_lock);
		if (flush_once(w, st, &err) != BSP_OK) {
			atomic_fetch_add(&w->flush_failures, 1);
			fprintf(stderr, "bespoke serve: remote-write flush: %s "
					"(kept; retried)\n",
				err.msg);
		}
		pthread_mutex_lock(&w->wake_lock);
		if (stopping)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += srv->cfg.flush_every / 1000;
		ts.tv_nsec += (long)(srv->cfg.flush_every % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!w->stop)
			pthread_cond_timedwait(&w->wake, &w->wake_lock, &ts);
	}
	pthread_mutex_unlock(&w->wake_lock);
	bsp_store_close(st);
	return NULL;
}

bsp_err serve_wal_start(struct serve *srv, struct bsp_error *err)
{
	struct serve_wal *w = calloc(1, sizeof(*w));
	struct bsp_store *st = NULL;
	uint64_t samples;
	bsp_err r;

	if (!w)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	snprintf(w->path, sizeof(w->path), "%s-rw.log", srv->cfg.db);
	snprintf(w->old, sizeof(w->old), "%s.1", w->path);
	w->db = srv->cfg.db;
	w->max_uncompressed = srv->cfg.max_body * 8;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->wake_lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	/* What an earlier run acknowledged but did not store: now, the
	 * older log first. */
	uint64_t total = 0;
	if ((r = bsp_store_open(&st, srv->cfg.db, BSP_OPEN_CREATE, err)) ||
	    (r = replay_file(w, st, w->old, &samples, err))) {
		bsp_store_close(st);
		free(w);
		return r;
	}
	total += samples;
	unlink(w->old);
	if ((r = replay_file(w, st, w->path, &samples, err))) {
		bsp_store_close(st);
		free(w);
		return r;
	}
	total += samples;
	bsp_store_close(st);
	if (total)
		fprintf(stderr, "bespoke serve: stored %llu remote-written "
				"samples left from the last run\n",
			(unsigned long long)total);
	w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		     0600);
	if (w->fd < 0) {
		r = bsp_error_set(err, BSP_EIO, "%s: %s", w->path,
				  strerror(errno));
		free(w);
		return r;
	}
	srv->wal = w;
	if (pthread_create(&w->thread, NULL, flusher, srv)) {
		close(w->fd);
		srv->wal = NULL;
		free(w);
		return bsp_error_set(err, BSP_EINTERNAL,
				     "cannot start the flusher");
	}
	return BSP_OK;
}

void serve_wal_stop(struct serve *srv)
{
	struct serve_wal *w = srv->wal;

	if (!w)
		return;
	pthread_mutex_lock(&w->wake_lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->wake_lock);
	pthread_join(w->thread, NULL); /* its last pass flushes everything */
	close(w->fd);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->wake_lock);
	pthread_cond_destroy(&w->wake);
	free(w);
	srv->wal = NULL;
}

void serve_wal_stats(struct serve *srv, struct serve_wal_stats *out)
{
	struct serve_wal *w = srv->wal;

	memset(out, 0, sizeof(*out));
	if (!w)
		return;
	out->pending_bytes = atomic_load(&w->pending_bytes) +
			     atomic_load(&w->flushing_bytes);
	out->flushes = atomic_load(&w->flushes);
	out->flushed_samples = atomic_load(&w->flushed_samples);
	out->flush_failures = atomic_load(&w->flush_failures);
	out->last_flush_seconds = (double)atomic_load(&w->last_flush_us) / 1e6;
}
