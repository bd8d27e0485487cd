/*
 * requestImageBuild: POST /v1/builds queues a personalized image build and
 * answers 202 with its id at once; GET /v1/builds/{id} gives its state
 * (queued, running, done, failed) and result. One worker thread builds in
 * order with its own store connection: the entity's latest profile (built
 * first when it has none), its stored resource plan if any, the component
 * catalog's plan plus the software asked for by name, then lib/image's
 * reproducible build and validation on the base, into the daemon's image
 * layout (--images). Each state is stored as the next version of a
 * "build" document named by the id, so a build outlives the daemon's
 * memory. Stopping the daemon lets a running build finish and records
 * the queued ones as failed; only a killed daemon leaves a build that
 * says "queued" or "running" for good.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bespoke/image.h"
#include "bespoke/profile.h"
#include "serve.h"

#define BUILD_MAX_PACKAGES 64
#define BUILD_MAX_QUEUE 64

struct build_job {
	struct build_job *next;
	char id[33];
	char entity[256];
	char base[4200], out[4200];
	char *packages[BUILD_MAX_PACKAGES];
	size_t n_packages;
	double budget_mb;
	json_t *request; /* as recorded */
};

struct serve_builds {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct build_job *head, *tail;
	size_t queued;
	int stop;
};

static void job_free(struct build_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_packages; i++)
		free(j->packages[i]);
	json_decref(j->request);
	free(j);
}

static json_t *now_json(void)
{
	char buf[40];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return json_string(bsp_time_format(
		(bsp_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, buf,
		sizeof(buf)));
}

/* Stores the next state of a build. */
static void record(struct bsp_store *st, const struct build_job *j,
		   const char *state, json_t *result, const char *error)
{
	struct bsp_error err = {0};
	json_t *d = json_pack("{s:s,s:i,s:s,s:s,s:s,s:O,s:o}", "format",
			      "bespoke-build", "version", 1, "id", j->id,
			      "entity", j->entity, "state", state, "request",
			      j->request, "at", now_json());
	if (result)
		json_object_set_new(d, "result", result);
	if (error)
		json_object_set_new(d, "error", json_string(error));
	char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || bsp_store_doc_put(st, "build", j->id, text, NULL, &err))
		fprintf(stderr, "bespoke serve: build %s: cannot record %s: "
				"%s\n",
			j->id, state, text ? err.msg : "out of memory");
	free(text);
	json_decref(d);
}

/* The build itself; 0, or the error in err. */
static bsp_err run_build(struct serve *srv, struct bsp_store *st,
			 const struct build_job *j, json_t **result,
			 struct bsp_error *err)
{
	struct bsp_doc d = {0};
	struct bsp_image_profile *p = NULL;
	struct bsp_image_plan *pl = NULL;
	struct bsp_image_build_options bo = {0};
	struct bsp_image_plan_options po = {0};
	struct bsp_image_result res;
	struct bsp_image_report rep = {0};
	char src[300], ud[4400], *text = NULL;
	bsp_err r;

	if (!srv->cfg.components)
		return bsp_error_set(err, BSP_ENOTFOUND,
				     "no component catalog (components.yaml)");
	/* The latest profile, built now when there is none. */
	r = bsp_store_doc_get(st, "profile", j->entity, 0, &d, err);
	if (r == BSP_ENOTFOUND) {
		struct bsp_profile_options opt;
		int64_t v = 0;
		bsp_profile_options_init(&opt);
		opt.personas = srv->cfg.personas;
		if ((r = bsp_profile_build(st, j->entity, &opt, 1, &text, &v,
					   err)) != BSP_OK)
			return r;
		free(text);
		r = bsp_store_doc_get(st, "profile", j->entity, 0, &d, err);
	}
	if (r != BSP_OK)
		return r;
	snprintf(src, sizeof(src), "%s profile v%lld", j->entity,
		 (long long)d.version);
	r = bsp_image_profile_parse(d.body, strlen(d.body), src, &p, err);
	if (r == BSP_OK)
		bsp_image_profile_set_version(p, d.version);
	bsp_doc_release(&d);
	if (r != BSP_OK)
		goto out;
	/* Its resource plan, when `bespoke plan` stored one. */
	if (bsp_store_doc_get(st, "plan", j->entity, 0, &d, err) == BSP_OK) {
		snprintf(src, sizeof(src), "%s plan v%lld", j->entity,
			 (long long)d.version);
		r = bsp_image_profile_set_plan(p, d.body, strlen(d.body), src,
					       err);
		bsp_doc_release(&d);
		if (r != BSP_OK)
			goto out;
	}
	memset(err, 0, sizeof(*err));
	po.budget_mb = j->budget_mb;
	po.packages = (const char *const *)j->packages;
	po.n_packages = j->n_packages;
	if ((r = bsp_image_plan_make(srv->cfg.components, p, &po, &pl, err)) ||
	    (r = bsp_oci_ref_parse(j->base, &bo.base, err)) ||
	    (r = bsp_oci_ref_parse(j->out, &bo.out, err)))
		goto out;
	snprintf(ud, sizeof(ud), "%s/%s.user-data", bo.out.dir, bo.out.tag);
	bo.user_data = ud;
	bo.cloud_init = srv->cfg.check_cloud_init ? NULL : "";
	if ((r = bsp_image_build(pl, &bo, &res, &rep, err)) != BSP_OK) {
		/* The first problem is in err; the image was not tagged. */
		goto out;
	}
	*result = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:I}", "ref",
			    j->out, "digest", res.manifest_digest,
			    "base_digest", res.base_digest, "layer_digest",
			    res.layer_digest, "layer_bytes",
			    (json_int_t)res.layer_bytes, "files",
			    (json_int_t)res.n_files, "packages_first_boot",
			    (json_int_t)res.n_packages_first_boot, "user_data",
			    ud, "profile_version",
			    (json_int_t)pl->profile_version);
	/* The image's own record, as `bespoke image build` keeps it. */
	json_t *img = json_pack(
		"{s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:s,s:s}",
		"format", "bespoke-image-build", "version", 1, "ref", j->out,
		"digest", res.manifest_digest, "base", j->base, "base_digest",
		res.base_digest, "layer", res.layer_digest, "profile_version",
		(json_int_t)pl->profile_version, "models", pl->models,
		"packages_first_boot", (json_int_t)res.n_packages_first_boot,
		"user_data", ud, "validation", "passed", "build_id", j->id);
	text = img ? json_dumps(img, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(img);
	if (!text)
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
	else
		r = bsp_store_doc_put(st, "image", j->entity, text, NULL, err);
out:
	free(text);
	bsp_image_report_free(&rep);
	bsp_image_plan_free(pl);
	bsp_image_profile_free(p);
	return r;
}

static void *worker(void *arg)
{
	struct serve *srv = arg;
	struct serve_builds *b = srv->builds;
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};

	if (bsp_store_open(&st, srv->cfg.db, BSP_OPEN_CREATE, &err) != BSP_OK) {
		fprintf(stderr, "bespoke serve: builds: %s\n", err.msg);
		return NULL;
	}
	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->stop && !b->head)
			pthread_cond_wait(&b->wake, &b->lock);
		if (b->stop)
			break;
		struct build_job *j = b->head;
		b->head = j->next;
		if (!b->head)
			b->tail = NULL;
		b->queued--;
		pthread_mutex_unlock(&b->lock);

		json_t *result = NULL;
		memset(&err, 0, sizeof(err));
		record(st, j, "running", NULL, NULL);
		if (run_build(srv, st, j, &result, &err) == BSP_OK)
			record(st, j, "done", result, NULL);
		else
			record(st, j, "failed", NULL,
			       err.msg[0] ? err.msg : bsp_strerror(err.code));
		job_free(j);
		pthread_mutex_lock(&b->lock);
	}
	/* Builds still queued at the stop are recorded as such. */
	while (b->head) {
		struct build_job *j = b->head;
		b->head = j->next;
		record(st, j, "failed", NULL, "the daemon stopped first");
		job_free(j);
	}
	b->tail = NULL;
	pthread_mutex_unlock(&b->lock);
	bsp_store_close(st);
	return NULL;
}

bsp_err serve_builds_start(struct serve *srv, struct bsp_error *err)
{
	struct serve_builds *b = calloc(1, sizeof(*b));

	if (!b)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	srv->builds = b;
	if (pthread_create(&b->thread, NULL, worker, srv)) {
		srv->builds = NULL;
		free(b);
		return bsp_error_set(err, BSP_EINTERNAL,
				     "cannot start the build worker");
	}
	return BSP_OK;
}

void serve_builds_stop(struct serve *srv)
{
	struct serve_builds *b = srv->builds;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = 1;
	pthread_cond_broadcast(&b->wake);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL); /* a running build finishes first */
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->wake);
	free(b);
	srv->builds = NULL;
}

/* ---- the routes ------------------------------------------------------------ */

static int random_id(char *out)
{
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(raw))
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static int valid_tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/*
 * POST /v1/builds {"entity": E, "base": "oci:DIR:TAG" | "os": TAG,
 * "software": ["psql", ...], "tier": "high", "budget_mb": 2048}
 */
void serve_h_build_post(struct serve_req *q, struct serve_reply *r)
{
	struct serve_builds *b = q->srv->builds;
	json_error_t je;
	json_t *body = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES,
				  &je),
	       *v;
	struct build_job *j = NULL;
	struct bsp_entity e = {0};
	struct bsp_error err = {0};
	const char *key, *entity, *base, *os;

	if (!body || !json_is_object(body)) {
		serve_error(r, 400, "body: %s",
			    body ? "not a JSON object" : je.text);
		goto out;
	}
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "entity") && strcmp(key, "base") &&
		    strcmp(key, "os") && strcmp(key, "software") &&
		    strcmp(key, "tier") && strcmp(key, "budget_mb")) {
			serve_error(r, 422, "%s: not a field of a build request",
				    key);
			goto out;
		}
	}
	entity = json_string_value(json_object_get(body, "entity"));
	base = json_string_value(json_object_get(body, "base"));
	os = json_string_value(json_object_get(body, "os"));
	if (!entity || !*entity || strlen(entity) >= sizeof(j->entity)) {
		serve_error(r, 422, "entity: required");
		goto out;
	}
	if (!serve_may_see(&q->caller, entity)) {
		serve_error(r, 403, "this token may not build for '%s'",
			    entity);
		goto out;
	}
	if (bsp_store_entity(q->st, entity, &e, &err) != BSP_OK) {
		serve_error_bsp(r, &err);
		goto out;
	}
	if (!(j = calloc(1, sizeof(*j)))) {
		serve_error(r, 500, "out of memory");
		goto out;
	}
	snprintf(j->entity, sizeof(j->entity), "%s", entity);
	if (base) {
		struct bsp_oci_ref ref;
		if (bsp_oci_ref_parse(base, &ref, &err) != BSP_OK) {
			serve_error(r, 422, "base: %s", err.msg);
			goto out;
		}
		snprintf(j->base, sizeof(j->base), "%s", base);
	} else if (os) {
		/* An operating system by name: the base image of that tag in
		 * the daemon's image layout. */
		size_t n = strlen(os);
		if (!n || n > 128) {
			serve_error(r, 422, "os: a base image tag");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (!valid_tag_char(os[i])) {
				serve_error(r, 422, "os: a base image tag");
				goto out;
			}
		snprintf(j->base, sizeof(j->base), "oci:%s:%s",
			 q->srv->cfg.images, os);
	} else {
		serve_error(r, 422, "give base (oci:DIR:TAG) or os (a base "
			    "tag in %s)",
			    q->srv->cfg.images);
		goto out;
	}
	v = json_object_get(body, "software");
	if (v) {
		size_t i;
		json_t *it;
		if (!json_is_array(v) || json_array_size(v) > BUILD_MAX_PACKAGES) {
			serve_error(r, 422, "software: a list of up to %d "
				    "package names",
				    BUILD_MAX_PACKAGES);
			goto out;
		}
		json_array_foreach(v, i, it)
		{
			const char *s = json_string_value(it);
			if (!s || !(j->packages[j->n_packages] = strdup(s))) {
				serve_error(r, 422, "software[%zu]: a package "
					    "name",
					    i);
				goto out;
			}
			j->n_packages++;
		}
	}
	v = json_object_get(body, "budget_mb");
	if (v && (!json_is_number(v) || json_number_value(v) < 0 ||
		  json_number_value(v) > 1e7)) {
		serve_error(r, 422, "budget_mb: a size in MB");
		goto out;
	}
	j->budget_mb = v ? json_number_value(v) : 0;
	v = json_object_get(body, "tier");
	if (v && !json_is_string(v)) {
		serve_error(r, 422, "tier: a tier name");
		goto out;
	}
	if (random_id(j->id)) {
		serve_error(r, 500, "no random id");
		goto out;
	}
	snprintf(j->out, sizeof(j->out), "oci:%s:%s-%.12s",
		 q->srv->cfg.images, entity, j->id);
	/* Entity names may hold what tags cannot: map it. */
	for (char *c = strrchr(j->out, ':') + 1; *c; c++)
		if (!valid_tag_char(*c))
			*c = '_';
	j->request = json_deep_copy(body);
	pthread_mutex_lock(&b->lock);
	if (b->queued >= BUILD_MAX_QUEUE) {
		pthread_mutex_unlock(&b->lock);
		serve_error(r, 503, "%d builds are waiting; retry later",
			    BUILD_MAX_QUEUE);
		goto out;
	}
	record(q->st, j, "queued", NULL, NULL);
	serve_cache_clear(q);
	r->status = 202;
	r->json = json_pack("{s:s,s:s,s:s,s:s}", "id", j->id, "state",
			    "queued", "entity", j->entity, "href", "");
	char href[64];
	snprintf(href, sizeof(href), "/v1/builds/%s", j->id);
	json_object_set_new(r->json, "href", json_string(href));
	if (b->tail)
		b->tail->next = j;
	else
		b->head = j;
	b->tail = j;
	b->queued++;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
	j = NULL;
out:
	job_free(j);
	bsp_entity_release(&e);
	json_decref(body);
}

void serve_h_build_get(struct serve_req *q, struct serve_reply *r)
{
	struct bsp_doc d = {0};
	struct bsp_error err = {0};
	json_t *j;

	if (strlen(q->param) != 32 ||
	    strspn(q->param, "0123456789abcdef") != 32) {
		serve_error(r, 404, "no such build: %s", q->param);
		return;
	}
	if (bsp_store_doc_get(q->st, "build", q->param, 0, &d, &err) != BSP_OK) {
		if (err.code == BSP_ENOTFOUND)
			serve_error(r, 404, "no such build: %s", q->param);
		else
			serve_error_bsp(r, &err);
		return;
	}
	j = json_loads(d.body, 0, NULL);
	bsp_doc_release(&d);
	const char *entity = json_string_value(json_object_get(j, "entity"));
	if (!j || !entity) {
		json_decref(j);
		serve_error(r, 500, "stored build is not JSON");
		return;
	}
	/* A user sees only builds for its own entities (as if absent). */
	if (!serve_may_see(&q->caller, entity)) {
		json_decref(j);
		serve_error(r, 404, "no such build: %s", q->param);
		return;
	}
	r->json = j;
}
