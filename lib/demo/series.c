/*
 * A demo user's four resource series, one sample per step:
 *
 *   cpu_usage  cores  0 .. provisioned cores
 *   mem_usage  MiB    0 .. provisioned memory
 *   disk_total KB/s   read + write
 *   net_total  KB/s   receive + transmit
 *
 * Each step takes the archetype's activity at the middle of the step, adds
 * the share of every job run that overlaps the step (a three-minute build
 * in a five-minute step counts 60%), a spike if one is under way, and
 * multiplies by noise. Spikes (a big spreadsheet, a virus scan, a burst of
 * requests) come more often when the user is active: the archetype's rate
 * holds at activity 0.5, a third of it at night.
 *
 * CPU noise is AR(1) in the log with a 15-minute correlation time, because
 * real utilisation wanders rather than jumping independently every sample;
 * disk and network get heavier, independent lognormal noise, as I/O is
 * burstier than CPU. Noise is read from per-user tables of the inverse
 * normal CDF (and its lognormal images), interpolated linearly, so a sample
 * costs a few table reads instead of a log, a square root and an exp per
 * series: a month of 24 users takes a few tens of milliseconds. The tables
 * end at 3.5 sigma, which noise does not miss; the heavy tails come from
 * jobs and spikes.
 *
 * Memory follows its target through an exponential smoother (memory is
 * released slowly, not at once) and may creep upward until a deploy resets
 * it.
 *
 * About one agent outage a day, 5 to 30 minutes long, leaves all four
 * series without samples there, as a real collector restart would: about
 * 1% of the samples are missing, whatever the step.
 */
#include "demo_int.h"

#include <math.h>

#define DEMO_OUTAGES_PER_DAY 1.0
#define DEMO_OUTAGE_MIN 5.0  /* minutes */
#define DEMO_OUTAGE_MAX 30.0
#define DEMO_CPU_CORR_MIN 15.0
#define DEMO_MEM_NOISE 0.02
#define DEMO_DISK_NOISE 0.5
#define DEMO_NET_NOISE 0.4
#define DEMO_NOISE_BITS 10
#define DEMO_NOISE_N (1u << DEMO_NOISE_BITS)

/* An inverse CDF at N + 1 evenly spaced probabilities (the two ends pulled
 * in by a quarter step), to be interpolated. */
struct demo_noise {
	double v[DEMO_NOISE_N + 1];
};

enum {
	DEMO_NOISE_Z,
	DEMO_NOISE_MEM,
	DEMO_NOISE_DISK,
	DEMO_NOISE_NET,
	DEMO_NOISE_TABLES
};

/* sigma 0: N(0, 1) itself; otherwise exp(sigma N - sigma^2 / 2). */
static void demo_noise_init(struct demo_noise *n, double sigma)
{
	for (unsigned i = 0; i <= DEMO_NOISE_N; i++) {
		double p = (double)i / DEMO_NOISE_N;
		double z;

		if (i == 0)
			p = 0.25 / DEMO_NOISE_N;
		else if (i == DEMO_NOISE_N)
			p = 1 - 0.25 / DEMO_NOISE_N;
		z = demo_normal_quantile(p);
		n->v[i] = sigma > 0 ? exp(sigma * z - 0.5 * sigma * sigma) : z;
	}
}

static inline double demo_noise_draw(const struct demo_noise *n,
				     struct demo_rng *r)
{
	/* The top bits pick the interval, the next ones where in it. */
	const unsigned frac_bits = 53 - DEMO_NOISE_BITS;
	uint64_t x = demo_rng_next(r);
	size_t i = (size_t)(x >> (64 - DEMO_NOISE_BITS));
	double f = (double)((x >> 11) & ((1ULL << frac_bits) - 1)) /
		   (double)(1ULL << frac_bits);

	return n->v[i] + f * (n->v[i + 1] - n->v[i]);
}

/* The values real collectors report: mcores, whole MiB, 0.1 KB/s. */
static double demo_round(double v, double unit)
{
	return floor(v / unit + 0.5) * unit;
}

static double demo_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct demo_load {
	double cpu, mem, disk, net; /* from jobs: fractions, KB/s */
	int reset_mem;
};

/* Sums the runs that overlap [t, t + step); *lo skips finished ones. */
static void demo_jobs_at(const struct demo_user *u, size_t *lo, bsp_time t,
			 struct demo_load *l)
{
	bsp_time t_end = t + u->step;

	memset(l, 0, sizeof(*l));
	while (*lo < u->n_runs && u->runs[*lo].t1 <= t)
		(*lo)++;
	for (size_t i = *lo; i < u->n_runs && u->runs[i].t0 < t_end; i++) {
		const struct demo_run *run = &u->runs[i];
		bsp_time a = run->t0 > t ? run->t0 : t;
		bsp_time b = run->t1 < t_end ? run->t1 : t_end;
		double share;

		if (b <= a)
			continue;
		share = (double)(b - a) / (double)u->step * run->level;
		l->cpu += share * run->job->cpu;
		l->mem += share * run->job->mem;
		l->disk += share * run->job->disk;
		l->net += share * run->job->net;
		if (run->job->resets_mem && run->t0 >= t)
			l->reset_mem = 1;
	}
}

bsp_err demo_series(const struct demo_user *u, struct bsp_batch *b,
		    struct bsp_error *err)
{
	const struct demo_archetype *a = u->arch;
	double step_min = (double)u->step / (double)BSP_MINUTE;
	double step_day = (double)u->step / (double)BSP_DAY;
	double phi = exp(-step_min / DEMO_CPU_CORR_MIN);
	double innov = sqrt(1.0 - phi * phi);
	double alpha = a->mem_tau > 0 ? 1.0 - exp(-step_min / a->mem_tau) : 1.0;
	double cores = u->cores, mem_max = u->mem_mib;
	double z = 0, mem = -1, creep = 0, spike = 0;
	double p_outage = 1.0 - exp(-DEMO_OUTAGES_PER_DAY * step_day);
	bsp_time outage_end = INT64_MIN;
	int64_t spike_left = 0;
	size_t lo = 0;
	struct demo_noise *nz = NULL;
	struct demo_rng r, rg;
	int s_cpu, s_mem, s_disk, s_net;
	bsp_err result = BSP_OK;

	s_cpu = bsp_batch_series(b, u->entity, "cpu_usage", "", "cores");
	s_mem = bsp_batch_series(b, u->entity, "mem_usage", "", "MiB");
	s_disk = bsp_batch_series(b, u->entity, "disk_total", "", "KB/s");
	s_net = bsp_batch_series(b, u->entity, "net_total", "", "KB/s");
	if (s_cpu < 0 || s_mem < 0 || s_disk < 0 || s_net < 0)
		goto nomem;
	nz = malloc(DEMO_NOISE_TABLES * sizeof(*nz));
	if (!nz)
		goto nomem;
	demo_noise_init(&nz[DEMO_NOISE_Z], 0);
	demo_noise_init(&nz[DEMO_NOISE_MEM], DEMO_MEM_NOISE);
	demo_noise_init(&nz[DEMO_NOISE_DISK], DEMO_DISK_NOISE);
	demo_noise_init(&nz[DEMO_NOISE_NET], DEMO_NET_NOISE);
	demo_rng_seed(&r, u->seed ^ DEMO_STREAM_SERIES);
	demo_rng_seed(&rg, u->seed ^ DEMO_STREAM_GAPS);

	for (bsp_time t = u->start; t < u->end; t += u->step) {
		double act = demo_activity(u, t + u->step / 2);
		double cpu, target, m, disk, net;
		struct demo_load l;
		int missing;

		demo_jobs_at(u, &lo, t, &l);

		if (spike_left > 0) {
			spike_left--;
		} else if (demo_rng_uniform(&r) <
			   a->spikes_per_day * step_day * (0.25 + act) / 0.75) {
			double len = demo_rng_range(&r, 0.5, 1.5);

			len *= a->spike_min;
			spike_left = (int64_t)ceil(len / step_min);
			spike = a->spike_cpu * demo_rng_range(&r, 0.6, 1.4);
		}

		z = phi * z + innov * demo_noise_draw(&nz[DEMO_NOISE_Z], &r);
		cpu = (a->cpu_idle + a->cpu_active * act) * u->cpu_scale +
		      l.cpu * cores + (spike_left > 0 ? spike * cores : 0);
		cpu *= exp(a->noise * z - 0.5 * a->noise * a->noise);
		cpu = demo_clamp(demo_round(cpu, 0.001), 0, cores);

		if (l.reset_mem)
			creep = 0;
		target = a->mem_cache * mem_max +
			 (a->mem_idle + a->mem_active * act) * 1024.0 *
				 u->mem_scale +
			 l.mem * mem_max + creep;
		creep += a->mem_creep * mem_max * step_day;
		mem = mem < 0 ? target : mem + alpha * (target - mem);
		m = mem * demo_noise_draw(&nz[DEMO_NOISE_MEM], &r);
		m = demo_clamp(demo_round(m, 1), 0, 0.98 * mem_max);

		disk = (a->disk_idle + a->disk_active * act + l.disk) *
		       demo_noise_draw(&nz[DEMO_NOISE_DISK], &r);
		disk = demo_round(disk, 0.1);
		net = (a->net_idle + a->net_active * act + l.net) *
		      demo_noise_draw(&nz[DEMO_NOISE_NET], &r);
		net = demo_round(net, 0.1);

		/* Outages are spans of time, so any step loses about the
		 * same share of samples; they come from their own stream, so
		 * the values around them are the same as with none. */
		missing = t < outage_end;
		if (demo_rng_uniform(&rg) < p_outage) {
			bsp_time from = t + (bsp_time)(demo_rng_uniform(&rg) *
						       (double)u->step);
			bsp_time len = (bsp_time)(demo_rng_range(
				&rg, DEMO_OUTAGE_MIN, DEMO_OUTAGE_MAX) *
				(double)BSP_MINUTE);
			if (from + len > outage_end)
				outage_end = from + len;
		}
		if (missing)
			continue;

		if (bsp_batch_sample(b, s_cpu, t, cpu) < 0 ||
		    bsp_batch_sample(b, s_mem, t, m) < 0 ||
		    bsp_batch_sample(b, s_disk, t, disk) < 0 ||
		    bsp_batch_sample(b, s_net, t, net) < 0)
			goto nomem;
	}
	goto out;
nomem:
	result = bsp_error_set(err, BSP_ENOMEM, "demo: out of memory");
out:
	free(nz);
	return result;
}
