/*
 * The demo fleet's private interface, shared by the files of lib/demo/.
 *
 * demo.c       the public API: option checks, one user's plan, the batch
 * archetypes.c the table of behaviour archetypes (one entry each)
 * chain.c      the text form of an archetype's application Markov chain
 * series.c     the four resource series of a user
 * events.c     the application-launch events of a user
 * rng.c        the seeded generator (splitmix64 + xoshiro256**)
 *
 * A user is generated in two passes. The plan (demo.c) draws everything
 * that the series and the events must agree on: size, time zone, each local
 * day's scale and start-time shift, days off, and the list of jobs (cron
 * runs, training runs, CI builds) with their start and end. Then series.c
 * walks the time grid and events.c walks the sessions, each with its own
 * random stream (and the series' outages with another), so that tuning one
 * never changes the other.
 */
#ifndef BSP_DEMO_INT_H
#define BSP_DEMO_INT_H

#include "internal.h"

/* ---- random numbers (rng.c) ------------------------------------------ */

struct demo_rng {
	uint64_t s[4];
	double spare; /* the polar method makes normals in pairs */
	int has_spare;
};

uint64_t demo_splitmix64(uint64_t *state);
void demo_rng_seed(struct demo_rng *r, uint64_t seed);
uint64_t demo_rng_next(struct demo_rng *r);
double demo_rng_uniform(struct demo_rng *r);                /* [0, 1) */
double demo_rng_range(struct demo_rng *r, double lo, double hi);
uint64_t demo_rng_below(struct demo_rng *r, uint64_t n);   /* [0, n) */
double demo_rng_normal(struct demo_rng *r);                 /* N(0, 1) */
double demo_rng_exp(struct demo_rng *r, double mean);
uint64_t demo_rng_poisson(struct demo_rng *r, double lambda);
/* The p-quantile of N(0, 1), for 0 < p < 1. */
double demo_normal_quantile(double p);
/* exp(sigma N - sigma^2 / 2): multiplicative noise with mean 1. */
double demo_rng_lognormal(struct demo_rng *r, double sigma);
/* Index drawn with probability weight[i] / sum; n if all weights are 0. */
size_t demo_rng_pick(struct demo_rng *r, const uint16_t *weight, size_t n);

/* ---- archetypes (archetypes.c) --------------------------------------- */

#define DEMO_MAX_JOBS 2

enum demo_job_kind {
	DEMO_JOB_NONE = 0,
	DEMO_JOB_CRON,    /* the same local times every day (crontab) */
	DEMO_JOB_WINDOW,  /* planned starts inside a local window: per_day
			   * 0.6 is a run on 60% of the days */
	DEMO_JOB_DIURNAL, /* random starts that follow the activity profile */
};

/*
 * Work that runs on top of the interactive load: cron jobs, training runs,
 * CI builds, a report. Levels are what the job uses while it runs: cpu and
 * mem as fractions of the provisioned cores and memory (a build or a
 * training run spreads over whatever it is given), disk and net in KB/s.
 */
struct demo_job {
	enum demo_job_kind kind;
	float per_day;         /* mean starts on a weight-1 day (cron: count) */
	float days[7];         /* weight per local weekday, Monday first */
	float from_h, to_h;    /* local window for the start, hours */
	float min_len, max_len; /* minutes */
	float cpu, mem, disk, net;
	unsigned burst;        /* a trigger starts 1..burst jobs (0 = 1) */
	unsigned by_hand : 1;  /* started by a person: none on days off */
	unsigned resets_mem : 1; /* a deploy or restart: memory creep ends */
	unsigned quiet : 1;    /* starts no application session */
};

/*
 * One archetype. The activity a(t) in [0, 1] is the hourly profile at the
 * user's local time (shifted by the user's and the day's start jitter),
 * times the weekday weight and a day-to-day factor. Resources are
 *   cpu  = (cpu_idle + cpu_active a) * user scale + jobs + spikes, in cores
 *   mem  = mem_cache * provisioned + (mem_idle + mem_active a) * user scale
 *          + jobs + creep, smoothed over mem_tau minutes
 *   disk = disk_idle + disk_active a + jobs, net likewise, in KB/s
 * each times multiplicative noise, then clipped to what is provisioned.
 */
struct demo_archetype {
	const char *name;    /* short, used in entity names: "office" */
	const char *help;    /* one line for `bespoke demo --list` */
	const char *persona; /* persona_hint attribute */

	float hourly[24];  /* activity by local hour on a working day */
	float weekend[24]; /* on Saturday and Sunday; all zero = hourly */
	float weekday[7];  /* scale per local weekday, Monday first */
	float holiday_rate; /* chance that a working day is taken off */
	float shift_user_h; /* sd of the user's habitual start shift */
	float shift_day_h;  /* sd of the day-to-day start shift */
	float day_sigma;    /* sd of the log day-to-day scale */

	unsigned cores_min, cores_max; /* powers of two, within 2..32 */
	unsigned gib_per_core_min, gib_per_core_max; /* powers of two */

	float cpu_idle, cpu_active; /* cores */
	float mem_idle, mem_active; /* GiB */
	float mem_cache;            /* fraction of provisioned, always held */
	float mem_tau;              /* minutes */
	float mem_creep;            /* fraction of provisioned per day */
	float disk_idle, disk_active, net_idle, net_active; /* KB/s */
	float noise;                /* sd of log cpu noise per sample */
	float spikes_per_day; /* at activity 0.5; fewer when idle */
	float spike_cpu, spike_min; /* fraction of cores, minutes */

	struct demo_job jobs[DEMO_MAX_JOBS];

	float sessions_per_day; /* interactive sessions on a weight-1 day */
	float gap_min;          /* mean minutes between launches */
	const char *const *chain; /* text, see chain.c; NULL-terminated */
};

size_t demo_archetype_count(void);
const struct demo_archetype *demo_archetype_get(size_t i);

/* ---- application chains (chain.c) ------------------------------------ */

#define DEMO_MAX_APPS 12
#define DEMO_APP_END DEMO_MAX_APPS /* the "session ends" column */

enum demo_start {
	DEMO_START_FIRST, /* first interactive session of a local day */
	DEMO_START_LATER, /* any later interactive session */
	DEMO_START_JOB,   /* a session that a job starts */
	DEMO_START_N
};

struct demo_chain {
	size_t n_apps;
	char apps[DEMO_MAX_APPS][24];
	uint16_t start[DEMO_START_N][DEMO_MAX_APPS];
	uint16_t next[DEMO_MAX_APPS][DEMO_MAX_APPS + 1];
};

/* Parses an archetype's chain text; BSP_EINTERNAL (with the line) when the
 * table is wrong, which the unit tests catch for every entry. */
bsp_err demo_chain_parse(const char *const *text, struct demo_chain *out,
			 struct bsp_error *err);

/* ---- one user's plan (demo.c) ---------------------------------------- */

struct demo_day {
	double scale;   /* weekday weight * day factor (weekend's if off) */
	double shift_h; /* hours the day starts late (negative: early) */
	int dow;        /* local weekday, 0 = Monday */
	int off;        /* a working day taken off */
	int weekend;    /* use the weekend profile */
};

struct demo_run {
	bsp_time t0, t1; /* UTC */
	const struct demo_job *job;
	double level; /* this run's intensity factor (about 1) */
};

struct demo_user {
	const struct demo_archetype *arch;
	char entity[64];
	uint64_t seed;
	unsigned cores;
	unsigned mem_mib;
	double tz_hours;
	bsp_time tz; /* local = UTC + tz */
	double cpu_scale, mem_scale; /* this user's appetite */
	bsp_time start, end, step;
	int64_t day0; /* local day number of days[0] */
	size_t n_days;
	struct demo_day *days;
	struct demo_run *runs; /* sorted by t0 */
	size_t n_runs, cap_runs;
	const float *weekend; /* the weekend profile, or hourly if none */
	double profile_max;   /* of both profiles, for sampling */
};

/* Activity at UTC time t from the profile, no jobs (0 outside the plan). */
double demo_activity(const struct demo_user *u, bsp_time t);
/* Profile value at local hour h (wraps), linear between hour centres. */
double demo_profile_at(const float *profile, double h);
/* The day record for UTC time t, or NULL outside the plan. */
const struct demo_day *demo_day_at(const struct demo_user *u, bsp_time t);
/* A local hour on day d drawn with density following its profile, or -1. */
double demo_draw_hour(struct demo_rng *r, const struct demo_user *u,
		      const struct demo_day *d);
/* Local day number and hour of UTC time t. */
int64_t demo_local_day(const struct demo_user *u, bsp_time t, double *hour);

/* series.c, events.c: write the user's part into the batch. */
bsp_err demo_series(const struct demo_user *u, struct bsp_batch *b,
		    struct bsp_error *err);
bsp_err demo_events(const struct demo_user *u, const struct demo_chain *c,
		    struct bsp_batch *b, struct bsp_error *err);

/* Stream numbers for demo_rng_seed(seed ^ ...): one stream per pass. */
#define DEMO_STREAM_PLAN 0x706c616eULL
#define DEMO_STREAM_SERIES 0x73657269ULL
#define DEMO_STREAM_EVENTS 0x6576656eULL
#define DEMO_STREAM_GAPS 0x67617073ULL

#endif
