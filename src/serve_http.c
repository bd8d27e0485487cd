/*
 * The daemon's HTTP plumbing on libmicrohttpd: a thread pool, request
 * bodies collected up to a limit (413 beyond it, answered as soon as the
 * Content-Length says so), bearer tokens compared in constant time, the
 * route table, JSON errors, and counters for /metrics.
 *
 * Every server thread keeps its own store connection (SQLite connections
 * are not shared between threads); they are closed when the daemon stops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "serve.h"

/* ---- per-thread state: store connection and reply cache ---------------- */

/*
 * Each server thread has its own store connection and a small cache of
 * replies (stored profiles, which entities exist). The cache is emptied
 * when another connection commits (the store's change counter moves) and
 * when this thread writes; so it never serves what the store no longer
 * says, and a hot profile costs no query but the counter.
 */
#define CACHE_SLOTS 1024 /* power of two */

struct cache_slot {
	char *key;
	char *text;
};

struct thread_ctx {
	struct bsp_store *st;
	int64_t seen; /* change counter when the cache was filled */
	struct cache_slot *cache;
	size_t used;
};

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_ctx **ctxs;
static size_t n_ctxs, cap_ctxs;
static _Thread_local struct thread_ctx *thread_ctx;

static void cache_clear(struct thread_ctx *c)
{
	for (size_t i = 0; c->used && i < CACHE_SLOTS; i++) {
		free(c->cache[i].key);
		free(c->cache[i].text);
		c->cache[i].key = c->cache[i].text = NULL;
	}
	c->used = 0;
}

static struct thread_ctx *ctx_for_thread(const char *db,
					 struct bsp_error *err)
{
	struct thread_ctx *c;

	if (thread_ctx)
		return thread_ctx;
	if (!(c = calloc(1, sizeof(*c))) ||
	    !(c->cache = calloc(CACHE_SLOTS, sizeof(*c->cache)))) {
		free(c);
		bsp_error_set(err, BSP_ENOMEM, "out of memory");
		return NULL;
	}
	if (bsp_store_open(&c->st, db, BSP_OPEN_CREATE, err) != BSP_OK) {
		free(c->cache);
		free(c);
		return NULL;
	}
	c->seen = bsp_store_change_counter(c->st);
	pthread_mutex_lock(&ctx_lock);
	if (n_ctxs == cap_ctxs) {
		size_t cap = cap_ctxs ? 2 * cap_ctxs : 16;
		struct thread_ctx **p = realloc(ctxs, cap * sizeof(*p));
		if (!p) {
			pthread_mutex_unlock(&ctx_lock);
			bsp_store_close(c->st);
			free(c->cache);
			free(c);
			bsp_error_set(err, BSP_ENOMEM, "out of memory");
			return NULL;
		}
		ctxs = p;
		cap_ctxs = cap;
	}
	ctxs[n_ctxs++] = c;
	pthread_mutex_unlock(&ctx_lock);
	return thread_ctx = c;
}

static void ctxs_free(void)
{
	pthread_mutex_lock(&ctx_lock);
	for (size_t i = 0; i < n_ctxs; i++) {
		cache_clear(ctxs[i]);
		free(ctxs[i]->cache);
		bsp_store_close(ctxs[i]->st);
		free(ctxs[i]);
	}
	free(ctxs);
	ctxs = NULL;
	n_ctxs = cap_ctxs = 0;
	pthread_mutex_unlock(&ctx_lock);
}

static size_t cache_hash(const char *kind, const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = kind; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (size_t)h & (CACHE_SLOTS - 1);
}

/* Open addressing with linear probing; keys are "kind\x01key". */
static struct cache_slot *cache_find(struct thread_ctx *c, const char *kind,
				     const char *key, int for_insert)
{
	size_t kl = strlen(kind), i = cache_hash(kind, key);
	for (size_t n = 0; n < CACHE_SLOTS; n++, i = (i + 1) & (CACHE_SLOTS - 1)) {
		struct cache_slot *s = &c->cache[i];
		if (!s->key)
			return for_insert ? s : NULL;
		if (!strncmp(s->key, kind, kl) && s->key[kl] == '\x01' &&
		    !strcmp(s->key + kl + 1, key))
			return s;
	}
	return NULL;
}

const char *serve_cache_get(struct serve_req *q, const char *kind,
			    const char *key)
{
	struct cache_slot *s = cache_find(q->ctx, kind, key, 0);
	return s ? s->text : NULL;
}

void serve_cache_put(struct serve_req *q, const char *kind, const char *key,
		     const char *text)
{
	struct thread_ctx *c = q->ctx;
	struct cache_slot *s;
	char *k, *t;

	/* Half full is full for linear probing: start again. */
	if (c->used >= CACHE_SLOTS / 2)
		cache_clear(c);
	if (!(s = cache_find(c, kind, key, 1)))
		return;
	if (s->key) {
		if (!(t = strdup(text)))
			return;
		free(s->text);
		s->text = t;
		return;
	}
	size_t kl = strlen(kind), l = strlen(key);
	if (!(k = malloc(kl + l + 2)) || !(t = strdup(text))) {
		free(k);
		return;
	}
	memcpy(k, kind, kl);
	k[kl] = '\x01';
	memcpy(k + kl + 1, key, l + 1);
	s->key = k;
	s->text = t;
	c->used++;
}

void serve_cache_clear(struct serve_req *q)
{
	cache_clear(q->ctx);
}

/* ---- replies ------------------------------------------------------------ */

void serve_error(struct serve_reply *r, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->json);
	r->status = status;
	r->json = json_pack("{s:{s:i,s:s}}", "error", "status", (int)status,
			    "message", msg);
}

void serve_error_bsp(struct serve_reply *r, const struct bsp_error *err)
{
	unsigned status;

	switch (err->code) {
	case BSP_EINVAL:
		status = 422;
		break;
	case BSP_ENOTFOUND:
		status = 404;
		break;
	case BSP_ELIMIT:
		status = 413;
		break;
	default:
		status = 500;
	}
	serve_error(r, status, "%s",
		    err->msg[0] ? err->msg : bsp_strerror(err->code));
}

const char *serve_arg(const struct serve_req *q, const char *key)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
}

int serve_may_see(const struct serve_caller *c, const char *entity)
{
	if (c->role == SERVE_ROLE_ADMIN)
		return 1;
	if (c->role != SERVE_ROLE_USER || !c->token)
		return 0;
	for (size_t i = 0; i < c->token->n_entities; i++)
		if (!strcmp(c->token->entities[i], entity))
			return 1;
	return 0;
}

/* ---- authentication ------------------------------------------------------ */

static struct serve_caller authenticate(struct serve *srv,
					struct MHD_Connection *conn,
					int *bad_token)
{
	struct serve_caller c = {SERVE_ROLE_NONE, NULL};
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	*bad_token = 0;
	if (!srv->cfg.tokens) {
		/* No tokens configured (loopback only, checked at start). */
		c.role = SERVE_ROLE_ADMIN;
		return c;
	}
	if (!h)
		return c;
	if (strncasecmp(h, "Bearer ", 7)) {
		*bad_token = 1;
		return c;
	}
	h += 7;
	size_t len = strlen(h);
	/* Compare against every token, in constant time per token, so the
	 * time taken says nothing about which prefix matched. */
	for (size_t i = 0; i < srv->cfg.n_tokens; i++) {
		const struct serve_token *t = &srv->cfg.tokens[i];
		size_t tl = strlen(t->token);
		if (tl == len && !CRYPTO_memcmp(t->token, h, len) && !c.token) {
			c.role = t->role;
			c.token = t;
		}
	}
	*bad_token = !c.token;
	return c;
}

/* ---- requests --------------------------------------------------------- */

struct request {
	double t0;
	char *body;
	size_t len, cap;
	int too_large;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const double bucket_le[SERVE_N_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
};

static void count(struct serve *srv, unsigned status, double secs)
{
	size_t cls = status >= 100 && status < 600 ? status / 100 : 0;
	atomic_fetch_add(&srv->stats.requests[cls], 1);
	if (status < 600)
		atomic_fetch_add(&srv->stats.by_code[status], 1);
	for (size_t i = 0; i < SERVE_N_BUCKETS; i++)
		if (secs <= bucket_le[i])
			atomic_fetch_add(&srv->stats.duration_bucket[i], 1);
	atomic_fetch_add(&srv->stats.duration_count, 1);
	atomic_fetch_add(&srv->stats.duration_us_sum,
			 (uint_fast64_t)(secs * 1e6));
}

static enum MHD_Result send_reply(struct serve *srv,
				  struct MHD_Connection *conn,
				  struct serve_reply *r, double t0)
{
	struct MHD_Response *resp;
	char *buf;
	size_t len;
	const char *type;
	enum MHD_Result ret;

	if (r->json) {
		buf = json_dumps(r->json, JSON_COMPACT | JSON_REAL_PRECISION(9));
		json_decref(r->json);
		r->json = NULL;
		if (!buf) {
			r->status = 500;
			buf = strdup("{\"error\":{\"status\":500,\"message\":"
				     "\"out of memory\"}}");
		}
		type = "application/json";
	} else {
		buf = r->text ? r->text : strdup("");
		r->text = NULL;
		type = r->content_type ? r->content_type : "text/plain";
	}
	if (!buf)
		return MHD_NO;
	len = strlen(buf);
	if (!(resp = MHD_create_response_from_buffer(len, buf,
						     MHD_RESPMEM_MUST_FREE))) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"bespoke\"");
	if (r->allow[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	count(srv, r->status, now_s() - t0);
	return ret;
}

/* Matches `path` against a pattern with at most one "{id}" segment; the
 * captured segment is copied to id. */
static int match(const char *pattern, const char *path, char *id,
		 size_t id_size)
{
	while (*pattern && *path) {
		if (!strncmp(pattern, "{id}", 4)) {
			const char *end = strchr(path, '/');
			size_t n = end ? (size_t)(end - path) : strlen(path);
			if (!n || n >= id_size)
				return 0;
			memcpy(id, path, n);
			id[n] = '\0';
			path += n;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return !*pattern && !*path;
}

static void dispatch(struct serve *srv, struct MHD_Connection *conn,
		     const char *method, const char *path, struct request *rq,
		     struct serve_reply *r)
{
	char id[512], allow[sizeof(r->allow)] = "";
	const struct serve_route *hit = NULL;
	struct serve_req q = {0};
	struct bsp_error err = {0};
	int bad_token, path_known = 0;

	for (const struct serve_route *rt = serve_routes; rt->method; rt++) {
		if (!match(rt->pattern, path, id, sizeof(id)))
			continue;
		path_known = 1;
		if (!strcmp(rt->method, method)) {
			hit = rt;
			break;
		}
		size_t l = strlen(allow);
		snprintf(allow + l, sizeof(allow) - l, "%s%s", l ? ", " : "",
			 rt->method);
	}
	if (!hit) {
		if (path_known) {
			serve_error(r, 405, "%s is not allowed on %s", method,
				    path);
			memcpy(r->allow, allow, sizeof(r->allow));
		} else {
			serve_error(r, 404, "no such route: %s", path);
		}
		return;
	}
	q.caller = authenticate(srv, conn, &bad_token);
	if (hit->min_role != SERVE_ROLE_NONE) {
		if (q.caller.role == SERVE_ROLE_NONE) {
			serve_error(r, 401, bad_token ? "invalid bearer token"
						      : "a bearer token is "
							"required");
			return;
		}
		/* Agents ingest; users and admins read; only the route's
		 * own minimum (agent routes take users and admins too when
		 * they are admins). */
		int ok = hit->min_role == SERVE_ROLE_AGENT
				 ? q.caller.role == SERVE_ROLE_AGENT ||
					   q.caller.role == SERVE_ROLE_ADMIN
				 : q.caller.role >= hit->min_role;
		if (!ok) {
			serve_error(r, 403, "this token may not %s %s", method,
				    hit->pattern);
			return;
		}
	}
	if (rq->too_large) {
		serve_error(r, 413, "request body over %zu bytes",
			    srv->cfg.max_body);
		return;
	}
	q.srv = srv;
	q.conn = conn;
	q.method = method;
	q.path = path;
	q.param = strstr(hit->pattern, "{id}") ? id : NULL;
	q.body = rq->body ? rq->body : "";
	q.body_len = rq->len;
	/* {id} under /v1/entities/ names an entity: access, then existence. */
	int entity = q.param && !strncmp(hit->pattern, "/v1/entities/{id}", 17);
	if (entity && !serve_may_see(&q.caller, q.param) &&
	    q.caller.role != SERVE_ROLE_AGENT) {
		/* Not 404: the entity may exist; say what is wrong. */
		serve_error(r, 403, "this token may not see entity '%s'",
			    q.param);
		return;
	}
	if (!(q.ctx = ctx_for_thread(srv->cfg.db, &err))) {
		serve_error_bsp(r, &err);
		r->status = 503;
		return;
	}
	q.st = q.ctx->st;
	int64_t now = bsp_store_change_counter(q.st);
	if (now != q.ctx->seen || now < 0) {
		cache_clear(q.ctx);
		q.ctx->seen = now;
	}
	if (entity && !serve_cache_get(&q, "entity", q.param)) {
		struct bsp_entity e = {0};
		bsp_err ee = bsp_store_entity(q.st, q.param, &e, &err);
		bsp_entity_release(&e);
		if (ee != BSP_OK) {
			serve_error_bsp(r, &err);
			return;
		}
		serve_cache_put(&q, "entity", q.param, "1");
	}
	r->status = 200;
	hit->run(&q, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct serve *srv = cls;
	struct request *rq = *con_cls;
	struct serve_reply r = {0};
	(void)version;

	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		rq->t0 = now_s();
		*con_cls = rq;
		/* Refuse an announced oversize body before reading it. */
		const char *cl = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || *end || n > srv->cfg.max_body) {
				serve_error(&r, 413, "request body over %zu "
					    "bytes", srv->cfg.max_body);
				return send_reply(srv, conn, &r, rq->t0);
			}
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->too_large) {
			size_t n = *upload_size;
			if (rq->len + n > srv->cfg.max_body) {
				rq->too_large = 1;
				free(rq->body);
				rq->body = NULL;
				rq->len = rq->cap = 0;
			} else {
				if (rq->len + n + 1 > rq->cap) {
					size_t cap = rq->cap ? rq->cap : 4096;
					while (cap < rq->len + n + 1)
						cap *= 2;
					char *p = realloc(rq->body, cap);
					if (!p)
						return MHD_NO;
					rq->body = p;
					rq->cap = cap;
				}
				memcpy(rq->body + rq->len, upload, n);
				rq->len += n;
				rq->body[rq->len] = '\0';
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	dispatch(srv, conn, method, url, rq, &r);
	return send_reply(srv, conn, &r, rq->t0);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* ---- the daemon --------------------------------------------------------- */

static char *read_file(const char *path, struct bsp_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f) {
		bsp_error_set(err, BSP_EINVAL, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)n + 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		bsp_error_set(err, BSP_EIO, "%s: cannot read", path);
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

bsp_err serve_run(struct serve *srv, struct bsp_error *err)
{
	struct sockaddr_storage ss = {0};
	socklen_t ss_len;
	struct MHD_Daemon *d;
	char *cert = NULL, *key = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ERROR_LOG;
	sigset_t set;
	int sig;
	bsp_err r = BSP_OK;

	/* The listening address. */
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, srv->cfg.listen_host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)srv->cfg.port);
		ss_len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, srv->cfg.listen_host,
			     &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)srv->cfg.port);
		ss_len = sizeof(*in6);
		flags |= MHD_USE_IPv6;
	} else {
		return bsp_error_set(err, BSP_EINVAL,
				     "--listen: '%s' is not a numeric IPv4 or "
				     "IPv6 address",
				     srv->cfg.listen_host);
	}
	(void)ss_len;
	if (srv->cfg.cert && srv->cfg.key) {
		if (!(cert = read_file(srv->cfg.cert, err)) ||
		    !(key = read_file(srv->cfg.key, err))) {
			free(cert);
			return err->code;
		}
		flags |= MHD_USE_TLS;
	}

	/* Signals are taken by sigwait below, not by handlers. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv->started = (double)time(NULL);
	if ((r = serve_wal_start(srv, err)) != BSP_OK)
		goto out_nowal;
	if ((r = serve_builds_start(srv, err)) != BSP_OK)
		goto out;
	if (cert)
		d = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_THREAD_POOL_SIZE, srv->cfg.threads,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
			MHD_OPTION_HTTPS_MEM_CERT, cert,
			MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	else
		d = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_THREAD_POOL_SIZE, srv->cfg.threads,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
			MHD_OPTION_END);
	if (!d) {
		r = bsp_error_set(err, BSP_EIO,
				  "cannot listen on %s port %u%s",
				  srv->cfg.listen_host, srv->cfg.port,
				  cert ? " (or the TLS certificate or key "
					 "is not valid)"
				       : "");
		goto out;
	}
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : srv->cfg.port;
	fprintf(stderr, "bespoke serve: listening on %s%s%s:%u (%s)\n",
		strchr(srv->cfg.listen_host, ':') ? "[" : "",
		srv->cfg.listen_host,
		strchr(srv->cfg.listen_host, ':') ? "]" : "", port,
		cert ? "https" : "http");
	if (srv->cfg.port_file) {
		/* Written whole, then renamed: a reader never sees half. */
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", srv->cfg.port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) ||
		    rename(tmp, srv->cfg.port_file)) {
			r = bsp_error_set(err, BSP_EIO, "%s: cannot write",
					  srv->cfg.port_file);
			MHD_stop_daemon(d);
			goto out;
		}
	}
	if ((r = serve_loop_start(srv, err)) != BSP_OK) {
		MHD_stop_daemon(d);
		goto out;
	}
	while (sigwait(&set, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
		;
	fprintf(stderr, "bespoke serve: stopping\n");
	serve_loop_stop(srv);
	MHD_stop_daemon(d);
out:
	serve_builds_stop(srv);
	serve_wal_stop(srv);
out_nowal:
	ctxs_free();
	free(cert);
	free(key);
	return r;
}
