/*
 * bespoke serve: the HTTP API daemon (libmicrohttpd).
 *
 * serve_http.c owns the connection plumbing: request bodies with a size
 * limit, bearer-token authentication, the route table, JSON errors, and the
 * daemon's own metrics. serve_routes.c holds one handler per route; they
 * use only the public API (include/bespoke/), through a store connection
 * per server thread.
 */
#ifndef BSP_SERVE_H
#define BSP_SERVE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bespoke/bespoke.h"
#include "bespoke/alloc.h"
#include "bespoke/image.h"
#include "bespoke/persona.h"

/* Who is asking: roles, from least to most trusted in what they see. */
enum serve_role {
	SERVE_ROLE_NONE = 0, /* no token: only the open routes */
	SERVE_ROLE_AGENT,    /* ingest only (collectors, remote-write) */
	SERVE_ROLE_USER,     /* read its own entities */
	SERVE_ROLE_ADMIN,    /* everything */
};

struct serve_token {
	char *token;
	enum serve_role role;
	char **entities; /* SERVE_ROLE_USER: the entities it may see */
	size_t n_entities;
};

struct serve_caller {
	enum serve_role role;
	const struct serve_token *token; /* NULL without tokens configured */
};

/* Latency buckets of the request-duration histogram, seconds. */
#define SERVE_N_BUCKETS 10

struct serve_stats {
	atomic_uint_fast64_t requests[6]; /* by status class: 1xx..5xx, other */
	atomic_uint_fast64_t by_code[600];
	atomic_uint_fast64_t duration_bucket[SERVE_N_BUCKETS];
	atomic_uint_fast64_t duration_count;
	atomic_uint_fast64_t duration_us_sum;
	atomic_uint_fast64_t ingested_samples;
	atomic_uint_fast64_t ingested_events;
	atomic_uint_fast64_t profiles_built;
};

struct serve_config {
	const char *db;
	const char *listen_host; /* numeric IPv4/IPv6 address */
	unsigned port;           /* 0 = any free port */
	const char *port_file;   /* write the bound port here */
	size_t max_body;         /* request body limit, bytes */
	unsigned threads;
	const char *cert, *key;  /* TLS when both are set */
	struct serve_token *tokens; /* NULL: no authentication */
	size_t n_tokens;
	const struct bsp_persona_catalog *personas; /* may be NULL */
	const struct bsp_alloc_catalog *instances;  /* may be NULL */
	/* The policy and tier the loop's recommendations use (NULL: none). */
	const struct bsp_alloc_policy *policy;
	const struct bsp_alloc_tier *tier;
	const struct bsp_component_catalog *components; /* may be NULL */
	const char *images;   /* the OCI layout builds go into */
	int check_cloud_init; /* run cloud-init schema on build user-data */
	bsp_time loop_every;  /* the learn loop's period; 0 = off */
	bsp_time retrain_age; /* refit models older than this */
	bsp_time flush_every; /* remote-write flushes */
	uint64_t max_pending; /* remote-write bytes waiting before 503 */
	const char *webhook;  /* scale events are POSTed here; NULL = none */
	/* "Authorization: Bearer ..." or "": room for CLI_SECRET_MAX */
	char webhook_auth[16384];
};

struct serve_wal_stats {
	uint64_t pending_bytes, flushes, flushed_samples, flush_failures;
	double last_flush_seconds;
};

/* The learn loop's state (serve_loop.c), read by /metrics and /v1/loop. */
struct serve_loop_status {
	uint64_t runs;
	double last_start, last_seconds; /* Unix time, duration */
	uint64_t entities, skipped, failed;  /* in the last pass */
	uint64_t retrained, profiles, drifted; /* in the last pass */
	uint64_t recommended, anomaly_reports, resized;
	uint64_t scale_events, resize_events;     /* totals */
	uint64_t webhooks_sent, webhook_failures; /* totals */
	uint64_t retrained_total, profiles_total, drifted_total;
	char last_error[256];
};

struct serve_loop;

struct serve {
	struct serve_config cfg;
	struct serve_stats stats;
	double started; /* CLOCK_REALTIME seconds */
	struct serve_loop *loop; /* NULL when off */
	struct serve_wal *wal;   /* the remote-write append log */
	struct serve_builds *builds; /* the image build worker */
};

struct thread_ctx;

/* A handler's answer: status and a JSON body (stolen), or text. */
struct serve_reply {
	unsigned status;
	json_t *json;
	char *text;              /* malloc'd; used when json is NULL */
	const char *content_type; /* for text */
	char allow[128];          /* 405: the methods allowed */
};

/* What a handler gets. */
struct serve_req {
	struct serve *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	const char *param; /* the {id} of the route, or NULL */
	const char *body;  /* request body (NUL-terminated), may be empty */
	size_t body_len;
	struct serve_caller caller;
	struct bsp_store *st; /* this thread's store connection */
	struct thread_ctx *ctx;
};

/* Sets an error reply: {"error": {"status": S, "message": ...}}. */
void serve_error(struct serve_reply *r, unsigned status, const char *fmt, ...)
	BSP_PRINTF(3, 4);
/* The error reply for a library error (status from its code). */
void serve_error_bsp(struct serve_reply *r, const struct bsp_error *err);
/* A query argument, or NULL. */
const char *serve_arg(const struct serve_req *q, const char *key);
/* This thread's reply cache (see serve_http.c): a cached text by kind and
 * key, or NULL; put copies. A handler that writes to the store clears it. */
const char *serve_cache_get(struct serve_req *q, const char *kind,
			    const char *key);
void serve_cache_put(struct serve_req *q, const char *kind, const char *key,
		     const char *text);
void serve_cache_clear(struct serve_req *q);
/* May the caller see this entity? */
int serve_may_see(const struct serve_caller *c, const char *entity);

/* The routes (serve_routes.c). */
typedef void (*serve_handler)(struct serve_req *q, struct serve_reply *r);
struct serve_route {
	const char *method;
	const char *pattern; /* "/v1/entities/{id}/profile" */
	enum serve_role min_role;
	serve_handler run;
};
extern const struct serve_route serve_routes[];

/* Reads a tokens file: "TOKEN ROLE [ENTITY,...]" per line, # comments. */
bsp_err serve_tokens_load(const char *path, struct serve_token **out,
			  size_t *n, struct bsp_error *err);
void serve_tokens_free(struct serve_token *t, size_t n);

/* The learn loop: started and stopped by serve_run; a snapshot of its
 * status (0 when it is off); a pass now, without waiting. */
bsp_err serve_loop_start(struct serve *srv, struct bsp_error *err);
void serve_loop_stop(struct serve *srv);
int serve_loop_status(struct serve *srv, struct serve_loop_status *out);
void serve_loop_kick(struct serve *srv);

/* The remote-write append log (serve_wal.c): started before the daemon
 * listens (storing what an earlier run left), stopped after it (flushing
 * everything); append acknowledges a validated request body. */
struct serve_wal;
bsp_err serve_wal_start(struct serve *srv, struct bsp_error *err);
void serve_wal_stop(struct serve *srv);
bsp_err serve_wal_append(struct serve *srv, const char *entity,
			 const void *body, size_t len, struct bsp_error *err);
void serve_wal_stats(struct serve *srv, struct serve_wal_stats *out);

/* requestImageBuild (serve_builds.c): the worker, and the routes. */
struct serve_builds;
bsp_err serve_builds_start(struct serve *srv, struct bsp_error *err);
void serve_builds_stop(struct serve *srv);
void serve_h_build_post(struct serve_req *q, struct serve_reply *r);
void serve_h_build_get(struct serve_req *q, struct serve_reply *r);

/* Runs until SIGINT or SIGTERM. */
bsp_err serve_run(struct serve *srv, struct bsp_error *err);

/* The OpenAPI document (generated from docs/openapi.json). */
extern const char serve_openapi_json[];

/* The dashboard's own routes (serve_dash.c). */
/* GET /v1/entities/{id}/series?metric=M[&labels=L&from=T&until=T&step=D
 * &agg=A]: one series as a grid of step aggregates, empty steps null. */
void serve_h_series(struct serve_req *q, struct serve_reply *r);
/* GET /v1/entities/{id}/plan[?version=N]: the latest (or N-th) stored
 * plan, with plan_version; 404 when there is none. */
void serve_h_plan(struct serve_req *q, struct serve_reply *r);
/* GET /v1/entities/{id}/images[?limit=N]: stored image builds, newest
 * first, each with image_version; an empty list when there are none. */
void serve_h_images(struct serve_req *q, struct serve_reply *r);
void serve_h_images_diff(struct serve_req *q, struct serve_reply *r);

#endif
