/*
 * Forecast accuracy and speed on real traces, beside the baselines and
 * R's forecast package measured in the same run. bench/accuracy.sh fills
 * the store and runs it; docs/forecasting.md states the protocol and the
 * results. Usage:
 *
 *     bench_accuracy DB [options]
 *       --from TIME       first hour of every history (2013-07-01)
 *       --origins LIST    forecast origins, comma-separated
 *                         (2013-08-01,05,09,13,17,21,25 at 00:00 UTC)
 *       --horizon N       steps ahead (24)
 *       --metrics LIST    (cpu_usage,mem_usage,disk_total,net_total)
 *       --threads N       (2)
 *       --rscript PATH    run R's ets, mstl, auto.arima through PATH on a
 *                         subset: --r-vms VMs (28) spread evenly over the
 *                         store's order, all their metrics, each VM at one
 *                         origin (the i-th chosen VM at origin i mod K)
 *       --work DIR        where the CSV files for and from R go (/tmp)
 *       --r-reuse         read R's forecasts left in --work by an earlier
 *                         run with the same options instead of running R
 *       --models LIST     the bespoke models to score (default: all of
 *                         the table, then "auto", bespoke's choice)
 *       --all-models      score every bespoke model on every task (by
 *                         default only on the R subset; elsewhere the
 *                         seasonal naive baselines and bespoke's choice)
 *       --speed FROM,UNTIL  also time reading, training and forecasting
 *                         7 days for every series over [FROM, UNTIL)
 *       --dump FILE       per-task scores as CSV (entity, metric, origin,
 *                         model, mase, pinball95, covered95, points)
 *
 * A task is one series (VM, metric) and one origin: the history is the
 * hourly grid of means from --from up to the origin, the actuals the next
 * --horizon hours. Scores are scaled by the history's in-sample MAE of
 * the daily seasonal naive forecast (MASE, Hyndman & Koehler 2006); tasks
 * whose history has no such error (constant) or whose actuals are all
 * missing are left out and counted.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bespoke/bespoke.h"
#include "bespoke/forecast.h"

#define MAX_ORIGINS 32
#define MAX_MODELS 24
#define N_R 3
#define N_LEV 4

static const double levels[N_LEV] = {0.5, 0.9, 0.95, 0.99};
static const char *const r_models[N_R] = {"ets", "mstl", "auto.arima"};

struct series {
	char *entity, *metric;
	double *grid; /* from .. last origin + horizon */
	size_t n;
};

struct score {
	int ok;
	double ae, pin[3];  /* sums over valid actuals, scaled */
	double cov[3], cnt; /* counts of actual <= q */
	double secs;
};

struct task {
	size_t series, origin;
	size_t hist; /* points of history */
	double scale;
	int nonneg;
	int in_r;
	struct score *sc; /* n_models + N_R */
};

struct bench {
	struct series *ser;
	size_t n_ser;
	bsp_time from, origin[MAX_ORIGINS];
	size_t n_origin, horizon;
	const char *model[MAX_MODELS]; /* bespoke's; "auto" last */
	size_t n_models;
	struct task *task;
	size_t n_task;
	size_t next; /* work queue */
	int all_models;
	pthread_mutex_t lock;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_accuracy: %s: %s\n", what, why);
	exit(1);
}

static bsp_time parse_time(const char *s)
{
	bsp_time t;
	if (bsp_time_parse(s, strlen(s), &t) != BSP_OK)
		die("bad time", s);
	return t;
}

/* In-sample MAE of the daily seasonal naive forecast over y[0..n). */
static double snaive_scale(const double *y, size_t n, size_t lag)
{
	double s = 0;
	size_t m = 0, i;
	for (i = lag; i < n; i++)
		if (!isnan(y[i]) && !isnan(y[i - lag])) {
			s += fabs(y[i] - y[i - lag]);
			m++;
		}
	return m ? s / (double)m : 0;
}

static double pinball(double y, double q, double tau)
{
	return y >= q ? tau * (y - q) : (1 - tau) * (q - y);
}

/* Scores a forecast (point[h], q[3][h] at 0.9, 0.95, 0.99). */
static void score_task(const struct task *t, const double *actual,
		       size_t h, const double *point, const double *q,
		       struct score *sc)
{
	size_t j, l;
	memset(sc, 0, sizeof(*sc));
	for (j = 0; j < h; j++) {
		double a = actual[j];
		if (isnan(a))
			continue;
		sc->ae += fabs(a - point[j]) / t->scale;
		for (l = 0; l < 3; l++) {
			double v = q[l * h + j];
			sc->pin[l] += pinball(a, v, levels[l + 1]) / t->scale;
			sc->cov[l] += a <= v;
		}
		sc->cnt++;
	}
	sc->ok = sc->cnt > 0;
}

static int is_headline(const char *model)
{
	return !strcmp(model, "auto") || !strcmp(model, "snaive_day") ||
	       !strcmp(model, "snaive_week");
}

static void run_task(struct bench *b, struct task *t)
{
	struct series *s = &b->ser[t->series];
	struct bsp_fc_series in = {s->grid, t->hist, b->from, BSP_HOUR};
	const double *actual = s->grid + t->hist;
	size_t h = b->horizon, m, l, j;
	double *q = malloc(3 * h * sizeof(*q));

	if (!q)
		die("run", "out of memory");
	for (m = 0; m < b->n_models; m++) {
		struct bsp_fc_options opt;
		/* every candidate on the R subset; elsewhere the baselines
		 * and bespoke's choice (unless --all-models) */
		if (!t->in_r && !b->all_models && !is_headline(b->model[m]))
			continue;
		struct bsp_fc_output out;
		struct bsp_fc_model *fm;
		struct bsp_error err = {0};
		double t0;

		bsp_fc_options_init(&opt);
		opt.model = b->model[m];
		opt.horizon = h;
		t0 = now();
		if (bsp_fc_train(&in, &opt, &fm, &err) != BSP_OK) {
			t->sc[m].ok = 0;
			continue;
		}
		t->sc[m].secs = now() - t0;
		if (bsp_fc_predict(fm, &in, h, levels, N_LEV, &out, &err) !=
		    BSP_OK) {
			fprintf(stderr, "bench_accuracy: %s %s: %s\n", s->entity,
				s->metric, err.msg);
			bsp_fc_model_free(fm);
			continue;
		}
		for (l = 0; l < 3; l++)
			for (j = 0; j < h; j++)
				q[l * h + j] = bsp_fc_q(&out, l + 1, j);
		double secs = t->sc[m].secs;
		score_task(t, actual, h, out.point, q, &t->sc[m]);
		t->sc[m].secs = secs;
		bsp_fc_output_release(&out);
		bsp_fc_model_free(fm);
	}
	free(q);
}

static void *worker(void *arg)
{
	struct bench *b = arg;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&b->lock);
		i = b->next++;
		pthread_mutex_unlock(&b->lock);
		if (i >= b->n_task)
			return NULL;
		run_task(b, &b->task[i]);
	}
}

static void run_all(struct bench *b, int threads)
{
	pthread_t th[64];
	int i;
	if (threads < 1 || threads > 64)
		threads = 2;
	b->next = 0;
	for (i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, worker, b))
			die("threads", strerror(errno));
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
}

/* ---- reading the store ------------------------------------------------ */

static void load(struct bench *b, const char *db, char **metrics, size_t nm)
{
	struct bsp_store *st;
	struct bsp_entity *ent;
	struct bsp_error err = {0};
	size_t ne, e, k;
	bsp_time until = b->origin[b->n_origin - 1] +
			 (bsp_time)b->horizon * BSP_HOUR;
	size_t n = bsp_grid_len(b->from, until, BSP_HOUR);

	if (bsp_store_open(&st, db, BSP_OPEN_READONLY, &err) != BSP_OK ||
	    bsp_store_entities(st, &ent, &ne, &err) != BSP_OK)
		die(db, err.msg);
	b->ser = calloc(ne * nm, sizeof(*b->ser));
	for (e = 0; e < ne; e++)
		for (k = 0; k < nm; k++) {
			struct bsp_series s;
			struct series *o = &b->ser[b->n_ser];
			if (bsp_store_series_find(st, ent[e].name, metrics[k],
						  "", &s, &err) != BSP_OK)
				continue;
			o->entity = strdup(ent[e].name);
			o->metric = strdup(metrics[k]);
			o->n = n;
			o->grid = malloc(n * sizeof(double));
			if (!o->grid ||
			    bsp_store_read_grid(st, s.id, b->from, until,
						BSP_HOUR, BSP_AGG_MEAN,
						BSP_FILL_NAN, o->grid,
						&err) != BSP_OK)
				die("read", err.msg);
			bsp_series_release(&s);
			b->n_ser++;
		}
	bsp_entities_free(ent, ne);
	bsp_store_close(st);
}

/* ---- R ---------------------------------------------------------------- */

static void write_r_input(struct bench *b, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i, j;
	if (!f)
		die(path, strerror(errno));
	for (i = 0; i < b->n_task; i++) {
		struct task *t = &b->task[i];
		const double *y = b->ser[t->series].grid;
		if (!t->in_r)
			continue;
		fprintf(f, "%zu", i);
		for (j = 0; j < t->hist; j++)
			if (isnan(y[j]))
				fputs(",NA", f);
			else
				fprintf(f, ",%.17g", y[j]);
		fputc('\n', f);
	}
	if (fclose(f))
		die(path, strerror(errno));
}

/* Reads id,model,h,mean,p90,p95,p99,seconds and scores each R model. */
static void read_r_output(struct bench *b, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t h = b->horizon, nt = b->n_task, i, r;
	double *fc = calloc(nt * N_R * 4 * h, sizeof(double));
	double *secs = calloc(nt * N_R, sizeof(double));
	unsigned char *have = calloc(nt * N_R * h, 1);

	if (!f)
		die(path, strerror(errno));
	if (!fc || !secs || !have)
		die("R", "out of memory");
	while (fgets(line, sizeof(line), f)) {
		char model[32];
		size_t id, step;
		double v[5];
		if (sscanf(line, "%zu,%31[^,],%zu,%lf,%lf,%lf,%lf,%lf", &id,
			   model, &step, &v[0], &v[1], &v[2], &v[3],
			   &v[4]) != 8)
			continue; /* the header, or NA forecasts */
		for (r = 0; r < N_R && strcmp(model, r_models[r]); r++)
			;
		if (r == N_R || id >= nt || step < 1 || step > h)
			continue;
		for (i = 0; i < 4; i++)
			fc[((id * N_R + r) * 4 + i) * h + step - 1] = v[i];
		secs[id * N_R + r] = v[4];
		have[(id * N_R + r) * h + step - 1] = 1;
	}
	fclose(f);
	for (i = 0; i < nt; i++) {
		struct task *t = &b->task[i];
		if (!t->in_r)
			continue;
		for (r = 0; r < N_R; r++) {
			double *p = fc + (i * N_R + r) * 4 * h;
			struct score *sc = &t->sc[b->n_models + r];
			size_t j, all = 1;
			for (j = 0; j < h; j++)
				all &= have[(i * N_R + r) * h + j];
			if (!all) {
				sc->ok = 0;
				continue;
			}
			/* usage is never negative: clamp as bespoke does */
			for (j = 0; t->nonneg && j < 4 * h; j++)
				p[j] = p[j] < 0 ? 0 : p[j];
			score_task(t, b->ser[t->series].grid + t->hist, h, p,
				   p + h, sc);
			sc->secs = secs[i * N_R + r];
		}
	}
	free(fc);
	free(secs);
	free(have);
}

/* ---- the table ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct row {
	double mase, med, pin[3], cov[3], ms;
	size_t n;
};

/* Scores of column c over the tasks where every column of cols[0..ncol)
 * is ok and (if subset) the task is in the R subset. */
static struct row aggregate(struct bench *b, size_t c, const size_t *cols,
			    size_t ncol, int subset)
{
	struct row r = {0};
	double *m = malloc(b->n_task * sizeof(double)), cnt = 0;
	size_t i, k, l;
	for (i = 0; i < b->n_task; i++) {
		struct task *t = &b->task[i];
		int ok = t->scale > 0 && (!subset || t->in_r);
		for (k = 0; ok && k < ncol; k++)
			ok = t->sc[cols[k]].ok;
		if (!ok)
			continue;
		struct score *s = &t->sc[c];
		m[r.n++] = s->ae / s->cnt;
		r.mase += s->ae / s->cnt;
		for (l = 0; l < 3; l++) {
			r.pin[l] += s->pin[l] / s->cnt;
			r.cov[l] += s->cov[l];
		}
		cnt += s->cnt;
		r.ms += s->secs * 1e3;
	}
	if (r.n) {
		qsort(m, r.n, sizeof(double), cmp_double);
		r.med = m[r.n / 2];
		r.mase /= (double)r.n;
		r.ms /= (double)r.n;
		for (l = 0; l < 3; l++) {
			r.pin[l] /= (double)r.n;
			r.cov[l] = 100 * r.cov[l] / cnt;
		}
	}
	free(m);
	return r;
}

static void print_row(const char *name, struct row r)
{
	printf("%-18s %6zu %7.3f %7.3f %7.3f %7.3f %7.3f %6.1f %6.1f %6.1f "
	       "%9.2f\n",
	       name, r.n, r.mase, r.med, r.pin[0], r.pin[1], r.pin[2],
	       r.cov[0], r.cov[1], r.cov[2], r.ms);
}

static void print_header(void)
{
	printf("%-18s %6s %7s %7s %7s %7s %7s %6s %6s %6s %9s\n", "model",
	       "tasks", "MASE", "median", "pin90", "pin95", "pin99", "cov90",
	       "cov95", "cov99", "fit ms");
}

static void table(struct bench *b, int with_r)
{
	size_t cols[MAX_MODELS + N_R], ncol = 0, c, i;
	struct row rows[MAX_MODELS + N_R] = {{0}}, best_r = {0};
	int have_best = 0;
	const char *best_name = "";

	for (c = 0; c < b->n_models; c++)
		if (with_r || b->all_models || is_headline(b->model[c]))
			cols[ncol++] = c;
	for (c = 0; with_r && c < N_R; c++)
		cols[ncol++] = b->n_models + c;
	print_header();
	for (i = 0; i < ncol; i++) {
		char name[40];
		c = cols[i];
		rows[c] = aggregate(b, c, cols, ncol, with_r);
		if (c < b->n_models)
			snprintf(name, sizeof(name), "%s%s",
				 strcmp(b->model[c], "auto") ? "" : "bespoke ",
				 b->model[c]);
		else
			snprintf(name, sizeof(name), "R %s",
				 r_models[c - b->n_models]);
		print_row(name, rows[c]);
		if (c >= b->n_models && rows[c].n &&
		    (!have_best || rows[c].mase < best_r.mase)) {
			best_r = rows[c];
			best_name = r_models[c - b->n_models];
			have_best = 1;
		}
	}
	struct row me = rows[b->n_models - 1], sn = rows[0];
	if (sn.n && sn.mase > 0)
		printf("bespoke vs snaive_day: MASE %+.1f%%\n",
		       100 * (me.mase / sn.mase - 1));
	if (with_r && have_best) {
		double best_pin = best_r.pin[1];
		for (c = b->n_models; c < b->n_models + N_R; c++)
			if (rows[c].n && rows[c].pin[1] < best_pin)
				best_pin = rows[c].pin[1];
		printf("bespoke vs best R (%s): MASE %+.1f%%; pinball95 %.3f "
		       "vs R's best %.3f (%+.1f%%)\n",
		       best_name, 100 * (me.mase / best_r.mase - 1), me.pin[1],
		       best_pin, 100 * (me.pin[1] / best_pin - 1));
		printf("fit time per series: bespoke %.2f ms, R ets %.0f ms "
		       "(%.0fx)\n",
		       me.ms, rows[b->n_models].ms,
		       rows[b->n_models].ms / me.ms);
	}
}

/* ---- speed -------------------------------------------------------------- */

struct speed {
	const char *db;
	char **ent, **met;
	size_t n, next;
	bsp_time from, until;
	pthread_mutex_t lock;
	size_t failed;
};

static void *speed_worker(void *arg)
{
	struct speed *sp = arg;
	struct bsp_store *st;
	struct bsp_error err = {0};
	size_t n = bsp_grid_len(sp->from, sp->until, BSP_HOUR);
	double *grid = malloc(n * sizeof(double));

	if (!grid || bsp_store_open(&st, sp->db, BSP_OPEN_READONLY, &err))
		die(sp->db, err.msg);
	for (;;) {
		struct bsp_series s;
		struct bsp_fc_options opt;
		struct bsp_fc_output out;
		struct bsp_fc_series in = {grid, n, sp->from, BSP_HOUR};
		size_t i;
		pthread_mutex_lock(&sp->lock);
		i = sp->next++;
		pthread_mutex_unlock(&sp->lock);
		if (i >= sp->n)
			break;
		bsp_fc_options_init(&opt);
		opt.horizon = 7 * 24;
		if (bsp_store_series_find(st, sp->ent[i], sp->met[i], "", &s,
					  &err) ||
		    bsp_store_read_grid(st, s.id, sp->from, sp->until,
					BSP_HOUR, BSP_AGG_MEAN, BSP_FILL_NAN,
					grid, &err))
			die("read", err.msg);
		bsp_series_release(&s);
		if (bsp_fc_forecast(&in, &opt, 7 * 24, NULL, 0, &out, NULL,
				    &err)) {
			pthread_mutex_lock(&sp->lock);
			sp->failed++;
			pthread_mutex_unlock(&sp->lock);
			continue;
		}
		bsp_fc_output_release(&out);
	}
	bsp_store_close(st);
	free(grid);
	return NULL;
}

static void speed(struct bench *b, const char *db, const char *range,
		  int threads)
{
	struct speed sp = {0};
	pthread_t th[64];
	char from[64], *comma;
	double t0;
	int i;

	snprintf(from, sizeof(from), "%s", range);
	comma = strchr(from, ',');
	if (!comma)
		die("--speed", "FROM,UNTIL");
	*comma = 0;
	sp.db = db;
	sp.from = parse_time(from);
	sp.until = parse_time(comma + 1);
	sp.n = b->n_ser;
	sp.ent = malloc(sp.n * sizeof(char *));
	sp.met = malloc(sp.n * sizeof(char *));
	for (size_t k = 0; k < sp.n; k++) {
		sp.ent[k] = b->ser[k].entity;
		sp.met[k] = b->ser[k].metric;
	}
	pthread_mutex_init(&sp.lock, NULL);
	t0 = now();
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, speed_worker, &sp);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("\n== speed: read (5-minute samples as an hourly grid), train "
	       "and forecast 7 days\n");
	printf("%zu series over [%s, %s), %d threads: %.2f s wall (%zu "
	       "failed; goal: under 20 s)\n",
	       sp.n, from, comma + 1, threads, now() - t0, sp.failed);
	free(sp.ent);
	free(sp.met);
}

static void dump(struct bench *b, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i, c;
	if (!f)
		die(path, strerror(errno));
	fprintf(f, "entity,metric,origin,model,mase,pinball95,covered95,"
		   "points\n");
	for (i = 0; i < b->n_task; i++) {
		struct task *t = &b->task[i];
		struct series *s = &b->ser[t->series];
		if (!(t->scale > 0))
			continue;
		for (c = 0; c < b->n_models + N_R; c++) {
			struct score *sc = &t->sc[c];
			if (!sc->ok)
				continue;
			fprintf(f, "%s,%s,%zu,%s%s,%.6g,%.6g,%.0f,%.0f\n",
				s->entity, s->metric, t->origin,
				c < b->n_models ? "" : "R_",
				c < b->n_models ? b->model[c]
						: r_models[c - b->n_models],
				sc->ae / sc->cnt, sc->pin[1] / sc->cnt,
				sc->cov[1], sc->cnt);
		}
	}
	fclose(f);
}

/* ---- main --------------------------------------------------------------- */

static size_t split(char *s, char **out, size_t max)
{
	size_t n = 0;
	char *save = NULL, *p;
	for (p = strtok_r(s, ",", &save); p && n < max;
	     p = strtok_r(NULL, ",", &save))
		out[n++] = p;
	return n;
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	char origins[512] = "2013-08-01,2013-08-05,2013-08-09,2013-08-13,"
			    "2013-08-17,2013-08-21,2013-08-25";
	char metrics_s[256] = "cpu_usage,mem_usage,disk_total,net_total";
	char *olist[MAX_ORIGINS], *metrics[16], rin[512], rout[512], cmd[2048];
	const char *db, *rscript = NULL, *work = "/tmp", *speed_range = NULL;
	const char *dump_path = NULL;
	char models_s[512] = "", *mlist[MAX_MODELS];
	int r_reuse = 0;
	size_t nm, r_vms = 28, i, k;
	int threads = 2;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: bench_accuracy DB [options] (see the "
				"source)\n");
		return 1;
	}
	db = argv[1];
	b.from = parse_time("2013-07-01");
	b.horizon = 24;
	for (i = 2; i < (size_t)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (size_t)argc ? argv[i + 1]
								 : NULL;
		if (!strcmp(a, "--r-reuse")) {
			r_reuse = 1;
			continue;
		}
		if (!strcmp(a, "--all-models")) {
			b.all_models = 1;
			continue;
		}
		if (!v)
			die(a, "needs a value");
		if (!strcmp(a, "--from"))
			b.from = parse_time(v);
		else if (!strcmp(a, "--origins"))
			snprintf(origins, sizeof(origins), "%s", v);
		else if (!strcmp(a, "--horizon"))
			b.horizon = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--metrics"))
			snprintf(metrics_s, sizeof(metrics_s), "%s", v);
		else if (!strcmp(a, "--threads"))
			threads = (int)strtol(v, NULL, 10);
		else if (!strcmp(a, "--rscript"))
			rscript = v;
		else if (!strcmp(a, "--r-vms"))
			r_vms = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--work"))
			work = v;
		else if (!strcmp(a, "--speed"))
			speed_range = v;
		else if (!strcmp(a, "--dump"))
			dump_path = v;
		else if (!strcmp(a, "--models"))
			snprintf(models_s, sizeof(models_s), "%s", v);
		else
			die(a, "unknown option");
		i++;
	}
	b.n_origin = split(origins, olist, MAX_ORIGINS);
	for (i = 0; i < b.n_origin; i++)
		b.origin[i] = parse_time(olist[i]);
	nm = split(metrics_s, metrics, 16);
	if (!b.n_origin || !nm || !b.horizon)
		die("options", "no origins, metrics or horizon");
	if (models_s[0]) {
		size_t nml = split(models_s, mlist, MAX_MODELS - 1);
		for (i = 0; i < nml; i++)
			if (strcmp(mlist[i], "auto"))
				b.model[b.n_models++] = mlist[i];
	} else {
		for (i = 0; bsp_fc_model_name(i) && b.n_models < MAX_MODELS - 1;
		     i++)
			b.model[b.n_models++] = bsp_fc_model_name(i);
	}
	b.model[b.n_models++] = "auto";
	pthread_mutex_init(&b.lock, NULL);

	load(&b, db, metrics, nm);
	if (!b.n_ser)
		die(db, "no series of those metrics");

	/* tasks: every series at every origin; the R subset takes r_vms
	 * entities spread evenly over the store's order, each at one
	 * origin in turn */
	b.task = calloc(b.n_ser * b.n_origin, sizeof(*b.task));
	size_t ent_index = 0, n_ent = 1, r_stride;
	for (i = 1; i < b.n_ser; i++)
		n_ent += strcmp(b.ser[i].entity, b.ser[i - 1].entity) != 0;
	r_stride = r_vms && n_ent > r_vms ? n_ent / r_vms : 1;
	for (i = 0; i < b.n_ser; i++) {
		if (i > 0 && strcmp(b.ser[i].entity, b.ser[i - 1].entity))
			ent_index++;
		for (k = 0; k < b.n_origin; k++) {
			struct task *t = &b.task[b.n_task];
			const double *y = b.ser[i].grid;
			size_t j, valid = 0;
			t->series = i;
			t->origin = k;
			t->hist = (size_t)((b.origin[k] - b.from) / BSP_HOUR);
			t->scale = snaive_scale(y, t->hist, 24);
			t->nonneg = 1;
			for (j = 0; j < t->hist; j++)
				if (!isnan(y[j]) && y[j] < 0)
					t->nonneg = 0;
			for (j = 0; j < b.horizon; j++)
				valid += !isnan(y[t->hist + j]);
			if (!valid || !(t->scale > 0))
				t->scale = 0; /* not scored */
			/* every r_stride-th VM, at origins in turn */
			t->in_r = ent_index % r_stride == 0 &&
				  ent_index / r_stride < r_vms &&
				  (ent_index / r_stride) % b.n_origin == k;
			t->sc = calloc(b.n_models + N_R, sizeof(struct score));
			b.n_task++;
		}
	}
	size_t scored = 0, in_r = 0;
	for (i = 0; i < b.n_task; i++) {
		scored += b.task[i].scale > 0;
		in_r += b.task[i].in_r && b.task[i].scale > 0;
	}

	double t0 = now();
	run_all(&b, threads);
	double bsp_secs = now() - t0;

	double r_secs = 0;
	if (rscript) {
		snprintf(rin, sizeof(rin), "%s/bsp-acc-hist.csv", work);
		snprintf(rout, sizeof(rout), "%s/bsp-acc-r.csv", work);
		write_r_input(&b, rin);
		snprintf(cmd, sizeof(cmd), "Rscript '%s' '%s' '%s' %zu %d",
			 rscript, rin, rout, b.horizon, threads);
		t0 = now();
		if (!r_reuse && system(cmd) != 0)
			die("R", "Rscript failed");
		r_secs = now() - t0;
		read_r_output(&b, rout);
	}

	printf("== accuracy: %zu series x %zu origins, hourly means from %s, "
	       "%zu h ahead\n",
	       b.n_ser, b.n_origin, olist[0] ? "--from" : "", b.horizon);
	printf("tasks: %zu, scored %zu (left out: constant history or no "
	       "actuals); bespoke ran all models in %.1f s on %d threads\n",
	       b.n_task, scored, bsp_secs, threads);
	if (rscript) {
		printf("\n-- R subset: %zu VMs, each at one origin, %zu scored "
		       "tasks (R took %.0f s on %d cores); rows use only tasks "
		       "every model finished\n",
		       r_vms, in_r, r_secs, threads);
		table(&b, 1);
	}
	printf("\n-- all tasks (bespoke and the baselines)\n");
	table(&b, 0);
	if (dump_path)
		dump(&b, dump_path);
	if (speed_range)
		speed(&b, db, speed_range, threads);
	return 0;
}
