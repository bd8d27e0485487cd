/*
 * The simulation driver: reads each entity's usage and capacity samples
 * from the store (one read-only handle per entity, entities in parallel on
 * the thread pool of lib/profile/parallel.c), runs every chosen policy on
 * every resource, scores the allocations, and adds the scores up per
 * policy and resource in table order, so the result does not depend on the
 * number of threads.
 *
 * Units: CPU in MHz becomes vCPUs with the entity's own MHz per core
 * (cpu_capacity / cpu_cores before the replay, as Bitbrains records
 * them), else opt->mhz_per_vcpu; cores and vCPUs are taken as they are.
 * Memory in KB (1024 bytes, as Bitbrains and /proc write it), KiB, MB,
 * MiB, GB, GiB or bytes.
 */
#include <pthread.h>
#include <time.h>

#include "bespoke/profile.h"
#include "sim_int.h"

#define SIM_DEFAULT_HISTORY (56 * BSP_DAY)
#define SIM_MAX_STEPS	    10000000

static const struct {
	const char *name, *usage, *capacity;
} sim_res[BSP_SIM_N_RESOURCES] = {
    [BSP_SIM_CPU] = {"cpu", "cpu_usage", "cpu_capacity"},
    [BSP_SIM_MEM] = {"mem", "mem_usage", "mem_capacity"},
};

int bsp_sim_resource_find(const char *name)
{
	for (size_t r = 0; r < BSP_SIM_N_RESOURCES; r++)
		if (!strcmp(name, sim_res[r].name) ||
		    !strcmp(name, sim_res[r].usage))
			return (int)r;
	return -1;
}

const char *bsp_sim_resource_name(size_t r)
{
	return r < BSP_SIM_N_RESOURCES ? sim_res[r].name : NULL;
}

const char *bsp_sim_resource_metric(size_t r)
{
	return r < BSP_SIM_N_RESOURCES ? sim_res[r].usage : NULL;
}

void bsp_sim_options_init(struct bsp_sim_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->keep = -1;
}

/* One entity's outcome. */
struct ent_out {
	int has[BSP_SIM_N_RESOURCES];
	struct sim_score score[BSP_SIM_N_POLICIES][BSP_SIM_N_RESOURCES];
	double res_hours[BSP_SIM_N_POLICIES][BSP_SIM_N_RESOURCES];
	double *keep[BSP_SIM_N_RESOURCES];
	double per_unit[BSP_SIM_N_RESOURCES];
	double min_alloc[BSP_SIM_N_RESOURCES];
	struct bsp_error err;
	int failed;
};

struct job {
	const char *uri;
	struct bsp_sim_options opt;
	size_t n_steps;
	char **names;
	size_t n;
	struct ent_out *out;
	pthread_mutex_t lock;
	size_t done;
	/* bespoke's calibration per resource, filled before the run */
	struct sim_calib calib[BSP_SIM_N_RESOURCES];
	int calib_ready;
};

/* Bytes per unit of a memory metric; 0 if the unit is not one. */
static double mem_unit_bytes(const char *unit)
{
	static const struct {
		const char *unit;
		double bytes;
	} u[] = {
	    {"", 1},	      {"B", 1},		  {"bytes", 1},
	    {"KB", 1024},     {"KiB", 1024},	  {"MB", 1048576},
	    {"MiB", 1048576}, {"GB", 1073741824}, {"GiB", 1073741824},
	};
	for (size_t i = 0; i < BSP_ARRAY_LEN(u); i++)
		if (!strcmp(unit, u[i].unit))
			return u[i].bytes;
	return 0;
}

/* The last sample before `before` of an entity's metric; NaN if none. */
static double last_before(struct bsp_store *st, const char *entity,
			  const char *metric, bsp_time start, bsp_time before)
{
	struct bsp_series s = {0};
	bsp_time *ts = NULL;
	double *v = NULL, r = NAN;
	size_t n = 0;

	if (bsp_store_series_find(st, entity, metric, NULL, &s, NULL) ==
		BSP_OK &&
	    bsp_store_read(st, s.id, start, before, &ts, &v, &n, NULL) ==
		BSP_OK &&
	    n > 0)
		r = v[n - 1];
	free(ts);
	free(v);
	bsp_series_release(&s);
	return r;
}

static bsp_err read_metric(struct bsp_store *st, const char *entity,
			   const char *metric, bsp_time from, bsp_time until,
			   bsp_time **ts, double **v, size_t *n, char **unit,
			   struct bsp_error *err)
{
	struct bsp_series s = {0};
	bsp_err rc;

	*ts = NULL;
	*v = NULL;
	*n = 0;
	rc = bsp_store_series_find(st, entity, metric, NULL, &s, err);
	if (rc != BSP_OK)
		return rc;
	rc = bsp_store_read(st, s.id, from, until, ts, v, n, err);
	if (unit)
		*unit = rc == BSP_OK ? bsp_strdup(s.unit ? s.unit : "") : NULL;
	bsp_series_release(&s);
	return rc;
}

/* One entity's resource as the policies see it. */
struct loaded {
	struct sim_ctx ctx;
	struct sim_trace tr;
	bsp_time *ts, *cts;
	double *v, *cv;
	double per_unit; /* vCPUs or GiB per unit of the metric */
};

static void loaded_release(struct loaded *l)
{
	free(l->ts);
	free(l->v);
	free(l->cts);
	free(l->cv);
	memset(l, 0, sizeof(*l));
}

/* Reads an entity's usage and capacity of resource r and works out its
 * units. BSP_ENOTFOUND: the entity lacks the resource. */
static bsp_err load_resource(struct job *j, struct bsp_store *st,
			     const char *entity, int r, struct loaded *l,
			     struct bsp_error *err)
{
	const struct bsp_sim_options *opt = &j->opt;
	struct sim_ctx *ctx = &l->ctx;
	size_t n = 0, cn = 0;
	char *unit = NULL;
	bsp_err rc;

	memset(l, 0, sizeof(*l));
	ctx->start = opt->from - opt->history;
	rc = read_metric(st, entity, sim_res[r].usage, ctx->start, opt->until,
			 &l->ts, &l->v, &n, &unit, err);
	if (rc != BSP_OK)
		goto out;
	rc = read_metric(st, entity, sim_res[r].capacity, ctx->start,
			 opt->until, &l->cts, &l->cv, &cn, NULL, NULL);
	if (rc != BSP_OK && rc != BSP_ENOTFOUND) {
		bsp_error_set(err, rc, "%s/%s: cannot read", entity,
			      sim_res[r].capacity);
		goto out;
	}
	rc = BSP_OK;
	ctx->resource = r;
	ctx->step = opt->step;
	ctx->from = opt->from;
	ctx->target = opt->target;
	ctx->refit = opt->refit;
	ctx->calib_days = opt->calib_days;
	ctx->shifts = opt->shifts;
	ctx->hold = opt->hold;
	ctx->calib = j->calib_ready ? &j->calib[r] : NULL;
	ctx->unit_per_vcpu = 1;
	ctx->unit_bytes = 1;
	if (r == BSP_SIM_CPU) {
		if (!strcmp(unit, "MHz")) {
			double cap = last_before(st, entity, "cpu_capacity",
						 ctx->start, opt->from);
			double cores = last_before(st, entity, "cpu_cores",
						   ctx->start, opt->from);
			ctx->unit_per_vcpu = cap > 0 && cores > 0
						 ? cap / cores
						 : opt->mhz_per_vcpu;
		} else if (!strcmp(unit, "%")) {
			ctx->unit_per_vcpu = 100; /* 100% is one vCPU */
		}
	} else {
		ctx->unit_bytes = mem_unit_bytes(unit);
		if (!ctx->unit_bytes) {
			rc =
			    bsp_error_set(err, BSP_EINVAL,
					  "%s/%s: unit '%s' is not a memory "
					  "unit (B, KB, KiB, MB, MiB, GB, GiB)",
					  entity, sim_res[r].usage, unit);
			goto out;
		}
	}
	ctx->min_alloc = r == BSP_SIM_CPU ? 0.01 * ctx->unit_per_vcpu
					  : 1e7 / ctx->unit_bytes;
	l->per_unit = r == BSP_SIM_CPU ? 1 / ctx->unit_per_vcpu
				       : ctx->unit_bytes / 1073741824.0;
	l->tr = (struct sim_trace){l->ts, l->v, n, l->cts, l->cv, cn};
out:
	free(unit);
	if (rc != BSP_OK)
		loaded_release(l);
	return rc;
}

static bsp_err run_resource(struct job *j, struct bsp_store *st,
			    const char *entity, int r, struct ent_out *o)
{
	const struct bsp_sim_options *opt = &j->opt;
	struct loaded l;
	double *alloc = NULL;
	bsp_err rc;

	rc = load_resource(j, st, entity, r, &l, &o->err);
	if (rc == BSP_ENOTFOUND)
		return BSP_OK; /* the entity lacks this resource */
	if (rc != BSP_OK)
		return rc;
	alloc = malloc(j->n_steps * sizeof(*alloc));
	if (!alloc) {
		rc = bsp_error_set(&o->err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	o->has[r] = 1;
	for (int p = 0; p < BSP_SIM_N_POLICIES; p++) {
		if (!(opt->policies & (1u << p)))
			continue;
		rc = sim_trace_run(sim_policies[p], &l.ctx, &l.tr, j->n_steps,
				   alloc, &o->err);
		if (rc != BSP_OK)
			goto out;
		sim_score(&l.tr, opt->from, opt->step, j->n_steps, alloc,
			  &o->score[p][r]);
		o->res_hours[p][r] = o->score[p][r].unit_hours * l.per_unit;
		if (p == opt->keep) {
			o->keep[r] = alloc;
			o->per_unit[r] = l.per_unit;
			o->min_alloc[r] = l.ctx.min_alloc;
			alloc = malloc(j->n_steps * sizeof(*alloc));
			if (!alloc) {
				rc = bsp_error_set(&o->err, BSP_ENOMEM,
						   "out of memory");
				goto out;
			}
		}
	}
out:
	free(alloc);
	loaded_release(&l);
	return rc;
}

static int run_entity(size_t i, void *ud)
{
	struct job *j = ud;
	struct ent_out *o = &j->out[i];
	struct bsp_store *st = NULL;
	bsp_err rc;

	rc = bsp_store_open(&st, j->uri, BSP_OPEN_READONLY, &o->err);
	for (int r = 0; rc == BSP_OK && r < BSP_SIM_N_RESOURCES; r++)
		if (j->opt.resources & (1u << r))
			rc = run_resource(j, st, j->names[i], r, o);
	bsp_store_close(st);
	o->failed = rc != BSP_OK;
	pthread_mutex_lock(&j->lock);
	j->done++;
	if (j->opt.progress)
		j->opt.progress(j->done, j->n, j->opt.progress_ud);
	pthread_mutex_unlock(&j->lock);
	return o->failed;
}

/* The calibration pass: an entity's scores into the fleet's calibration
 * of each resource (bespoke only). */
static int calib_entity(size_t i, void *ud)
{
	struct job *j = ud;
	struct ent_out *o = &j->out[i];
	struct bsp_store *st = NULL;
	bsp_err rc;

	rc = bsp_store_open(&st, j->uri, BSP_OPEN_READONLY, &o->err);
	for (int r = 0; rc == BSP_OK && r < BSP_SIM_N_RESOURCES; r++) {
		struct loaded l;
		if (!(j->opt.resources & (1u << r)))
			continue;
		rc = load_resource(j, st, j->names[i], r, &l, &o->err);
		if (rc == BSP_ENOTFOUND) {
			rc = BSP_OK;
			continue;
		}
		if (rc != BSP_OK)
			break;
		rc = sim_calib_add(&j->calib[r], &l.ctx, &l.tr, j->opt.until);
		if (rc != BSP_OK)
			bsp_error_set(&o->err, rc, "%s/%s: cannot calibrate",
				      j->names[i], sim_res[r].usage);
		loaded_release(&l);
	}
	bsp_store_close(st);
	o->failed = rc != BSP_OK;
	return o->failed;
}

/* bespoke's factors: every entity's scores, then the quantiles. */
static bsp_err calibrate(struct job *j, struct bsp_error *err)
{
	struct sim_ctx c = {0};
	bsp_err rc = BSP_OK;

	c.start = j->opt.from - j->opt.history;
	c.step = j->opt.step;
	c.from = j->opt.from;
	c.target = j->opt.target;
	c.calib_days = j->opt.calib_days;
	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
		if (j->opt.resources & (1u << r)) {
			rc = sim_calib_init(&j->calib[r], &c, j->opt.until);
			if (rc != BSP_OK)
				return bsp_error_set(err, rc,
						     "bespoke: cannot hold the "
						     "calibration of %s",
						     sim_res[r].name);
		}
	bsp_parallel_for(j->n, j->opt.threads, calib_entity, j);
	for (size_t i = 0; i < j->n; i++)
		if (j->out[i].failed)
			return bsp_error_set(err, j->out[i].err.code, "%s",
					     j->out[i].err.msg);
	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
		if (j->opt.resources & (1u << r))
			sim_calib_finish(&j->calib[r], &c);
	j->calib_ready = 1;
	return rc;
}

static bsp_err check_options(struct bsp_sim_options *o, struct bsp_error *err)
{
	if (!o->step)
		o->step = BSP_HOUR;
	if (!o->history)
		o->history = SIM_DEFAULT_HISTORY;
	if (!o->policies)
		o->policies = (1u << BSP_SIM_N_POLICIES) - 1;
	if (!o->resources)
		o->resources = (1u << BSP_SIM_N_RESOURCES) - 1;
	if (!(o->price_vcpu_hour > 0))
		o->price_vcpu_hour = BSP_SIM_PRICE_VCPU_HOUR;
	if (!(o->price_gib_hour > 0))
		o->price_gib_hour = BSP_SIM_PRICE_GIB_HOUR;
	if (!(o->mhz_per_vcpu > 0))
		o->mhz_per_vcpu = 2500;
	if (o->step < BSP_MINUTE || o->step > 7 * BSP_DAY)
		return bsp_error_set(err, BSP_EINVAL,
				     "step: must be from 1 minute to 7 days");
	if (o->from == BSP_TIME_NONE || o->until == BSP_TIME_NONE ||
	    o->until <= o->from)
		return bsp_error_set(err, BSP_EINVAL,
				     "until: must be after from");
	if (bsp_grid_len(o->from, o->until, o->step) > SIM_MAX_STEPS)
		return bsp_error_set(err, BSP_EINVAL,
				     "until: more than %d steps",
				     SIM_MAX_STEPS);
	if (o->history < 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "history: must not be negative");
	if (o->target != 0 && !(o->target > 0 && o->target < 0.5))
		return bsp_error_set(err, BSP_EINVAL,
				     "target: must be above 0 and below 0.5");
	if (o->shifts > 24)
		return bsp_error_set(err, BSP_EINVAL,
				     "shifts: at most 24 parts of a day");
	if (o->refit < 0 || (o->refit && o->refit < o->step))
		return bsp_error_set(err, BSP_EINVAL,
				     "refit: must be at least one step");
	if (o->policies >= (1u << BSP_SIM_N_POLICIES) ||
	    o->resources >= (1u << BSP_SIM_N_RESOURCES))
		return bsp_error_set(err, BSP_EINVAL,
				     "unknown policy or "
				     "resource");
	return BSP_OK;
}

/* The entity names to run: all of the store's, or the named ones. */
static bsp_err entity_names(const char *uri, const struct bsp_sim_options *o,
			    char ***names, size_t *n, struct bsp_error *err)
{
	struct bsp_store *st = NULL;
	struct bsp_entity *e = NULL;
	size_t ne = 0;
	bsp_err rc;

	*names = NULL;
	*n = 0;
	rc = bsp_store_open(&st, uri, BSP_OPEN_READONLY, err);
	if (rc == BSP_OK)
		rc = bsp_store_entities(st, &e, &ne, err);
	if (rc != BSP_OK)
		goto out;
	*names =
	    calloc((o->n_entities ? o->n_entities : ne) + 1, sizeof(**names));
	if (!*names) {
		rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (!o->n_entities) {
		for (size_t i = 0; i < ne; i++)
			(*names)[(*n)++] = bsp_strdup(e[i].name);
		goto out;
	}
	for (size_t k = 0; k < o->n_entities; k++) {
		size_t i;
		for (i = 0; i < ne; i++)
			if (!strcmp(e[i].name, o->entities[k]))
				break;
		if (i == ne) {
			rc = bsp_error_set(err, BSP_ENOTFOUND,
					   "entity '%s' is not in the store",
					   o->entities[k]);
			goto out;
		}
		(*names)[(*n)++] = bsp_strdup(e[i].name);
	}
out:
	bsp_entities_free(e, ne);
	bsp_store_close(st);
	return rc;
}

static void add_row(struct bsp_sim_result *res, struct job *j, int p, int r)
{
	struct bsp_sim_row *row = &res->rows[res->n_rows++];
	double days = 0;

	memset(row, 0, sizeof(*row));
	row->policy = p;
	row->resource = r;
	for (size_t i = 0; i < j->n; i++) {
		const struct sim_score *s = &j->out[i].score[p][r];
		if (!j->out[i].has[r] || !s->decided_steps)
			continue;
		row->entities++;
		row->points += s->points;
		row->violations += s->violations;
		row->entity_days += s->days;
		row->slack += s->slack_sum;
		row->slack_clipped += s->slack_pos_sum;
		row->under_days += s->under_days;
		row->vcpu_hours += j->out[i].res_hours[p][r];
		row->changes += s->changes;
		days += (double)s->decided_steps * (double)j->opt.step /
			(double)BSP_DAY;
	}
	row->violation_rate =
	    row->points ? (double)row->violations / (double)row->points : NAN;
	row->slack =
	    row->entity_days ? row->slack / (double)row->entity_days : NAN;
	row->slack_clipped = row->entity_days
				 ? row->slack_clipped / (double)row->entity_days
				 : NAN;
	row->cost = row->vcpu_hours * (r == BSP_SIM_CPU ? res->price_vcpu_hour
							: res->price_gib_hour);
	row->changes_per_day = days > 0 ? (double)row->changes / days : NAN;
}

static void job_release(struct job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->names[i]);
		if (j->out)
			for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
				free(j->out[i].keep[r]);
	}
	free(j->names);
	free(j->out);
	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
		sim_calib_release(&j->calib[r]);
}

bsp_err bsp_sim_run(const char *uri, const struct bsp_sim_options *opt,
		    struct bsp_sim_result *res, struct bsp_error *err)
{
	struct job j = {0};
	struct timespec t0, t1;
	size_t nt = 0;
	bsp_err rc;

	memset(res, 0, sizeof(*res));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	j.uri = uri;
	j.opt = *opt;
	rc = check_options(&j.opt, err);
	if (rc == BSP_OK)
		rc = entity_names(uri, &j.opt, &j.names, &j.n, err);
	if (rc != BSP_OK)
		goto out;
	j.n_steps = bsp_grid_len(j.opt.from, j.opt.until, j.opt.step);
	j.out = calloc(j.n + 1, sizeof(*j.out));
	if (!j.out) {
		rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (j.opt.policies & (1u << BSP_SIM_BESPOKE)) {
		rc = calibrate(&j, err);
		if (rc != BSP_OK)
			goto out;
	}
	pthread_mutex_init(&j.lock, NULL);
	bsp_parallel_for(j.n, j.opt.threads, run_entity, &j);
	pthread_mutex_destroy(&j.lock);
	for (size_t i = 0; i < j.n; i++)
		if (j.out[i].failed) {
			rc = bsp_error_set(err, j.out[i].err.code, "%s",
					   j.out[i].err.msg);
			goto out;
		}

	res->from = j.opt.from;
	res->step = j.opt.step;
	res->n_steps = j.n_steps;
	res->until = j.opt.from + (bsp_time)j.n_steps * j.opt.step;
	res->price_vcpu_hour = j.opt.price_vcpu_hour;
	res->price_gib_hour = j.opt.price_gib_hour;
	for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
		res->factor[r] = sim_calib_factor(
		    j.calib_ready && (j.opt.resources & (1u << r)) ? &j.calib[r]
								   : NULL,
		    res->from + (bsp_time)(j.n_steps - 1) * j.opt.step);
	for (size_t i = 0; i < j.n; i++) {
		int any = 0;
		for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
			any |= j.out[i].has[r];
		if (any)
			res->n_entities++;
		else
			res->n_skipped++;
	}
	if (!res->n_entities) {
		rc = bsp_error_set(err, BSP_ENOTFOUND,
				   "no entity has cpu_usage or mem_usage "
				   "samples");
		goto out;
	}
	res->rows = calloc(BSP_SIM_N_POLICIES * BSP_SIM_N_RESOURCES,
			   sizeof(*res->rows));
	if (!res->rows) {
		rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (int p = 0; p < BSP_SIM_N_POLICIES; p++)
		for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
			if ((j.opt.policies & (1u << p)) &&
			    (j.opt.resources & (1u << r)))
				add_row(res, &j, p, r);
	if (j.opt.keep >= 0) {
		for (size_t i = 0; i < j.n; i++)
			for (int r = 0; r < BSP_SIM_N_RESOURCES; r++)
				nt += j.out[i].keep[r] != NULL;
		res->traces = calloc(nt + 1, sizeof(*res->traces));
		if (!res->traces) {
			rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < j.n; i++)
			for (int r = 0; r < BSP_SIM_N_RESOURCES; r++) {
				struct bsp_sim_trace *t;
				if (!j.out[i].keep[r])
					continue;
				t = &res->traces[res->n_traces++];
				t->entity = bsp_strdup(j.names[i]);
				t->metric = sim_res[r].usage;
				t->resource = r;
				t->per_unit = j.out[i].per_unit[r];
				t->min_alloc = j.out[i].min_alloc[r];
				t->alloc = j.out[i].keep[r];
				j.out[i].keep[r] = NULL;
			}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
out:
	job_release(&j);
	if (rc != BSP_OK)
		bsp_sim_result_release(res);
	return rc;
}

void bsp_sim_result_release(struct bsp_sim_result *res)
{
	for (size_t i = 0; i < res->n_traces; i++) {
		free(res->traces[i].entity);
		free(res->traces[i].alloc);
	}
	free(res->traces);
	free(res->rows);
	memset(res, 0, sizeof(*res));
}
