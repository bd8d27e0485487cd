/*
 * The behaviour archetypes of the demo fleet: one table entry each.
 *
 * Each entry is a small model of a kind of user or machine, with the
 * shapes such machines commonly show: office desktops idle under a tenth
 * of a core outside a 9-to-6 day with a lunch dip; nightly batch hosts run
 * their crontab between midnight and five and barely breathe by day;
 * training runs pin every core for hours; services follow the day of their
 * users but never reach zero (the diurnal class of the Azure VM traces);
 * CI runners see short builds in bursts after pushes. docs/demo.md
 * describes each one in prose.
 *
 * To add an archetype: append an entry to demo_archetypes[] (the struct is
 * documented in demo_int.h, the chain format in chain.c) and a section to
 * docs/demo.md. The fleet assigns archetypes round-robin, so a new entry
 * shows up in every fleet at least as large as the table.
 */
#include "demo_int.h"

/* ---- application chains --------------------------------------------- */

static const char *const demo_chain_office[] = {
	"first: outlook 6, teams 3, chrome 1",
	"later: outlook 3, teams 3, chrome 3, excel 2, word 1",
	"outlook -> teams 4, excel 3, word 2, chrome 2, acrobat 1, end 2",
	"teams -> outlook 2, excel 2, powerpoint 2, chrome 2, onenote 2, end 3",
	"excel -> outlook 2, word 2, powerpoint 3, chrome 1, end 3",
	"word -> outlook 2, acrobat 3, excel 1, chrome 1, end 3",
	"chrome -> outlook 1, excel 2, word 1, teams 1, end 3",
	"powerpoint -> teams 3, outlook 2, excel 1, end 3",
	"acrobat -> outlook 3, word 1, end 4",
	"onenote -> teams 2, outlook 1, end 3",
	NULL,
};

static const char *const demo_chain_developer[] = {
	"first: slack 4, git 4, firefox 2",
	"later: vim 6, git 2, firefox 1, slack 1, ssh 1",
	"job: make 1",
	"vim -> make 7, git 2, vim 1, end 1",
	"make -> gcc 7, vim 2, end 1",
	"gcc -> vim 4, gdb 2, git 2, make 1, end 1",
	"gdb -> vim 5, make 1, end 1",
	"git -> vim 4, ssh 1, firefox 1, end 3",
	"firefox -> vim 2, slack 1, end 3",
	"slack -> firefox 2, vim 2, git 1, end 2",
	"ssh -> vim 1, git 1, end 4",
	NULL,
};

static const char *const demo_chain_batch[] = {
	"later: ssh 1",
	"job: cron 1",
	"cron -> backup 3, etl 3, logrotate 2",
	"backup -> gzip 4, rsync 4, end 1",
	"gzip -> rsync 6, end 2",
	"rsync -> end 1",
	"etl -> python3 3, psql 5, end 1",
	"python3 -> psql 3, rsync 1, end 3",
	"psql -> gzip 2, end 4",
	"logrotate -> gzip 4, end 3",
	"ssh -> top 3, crontab 2, end 2",
	"top -> crontab 1, end 4",
	"crontab -> end 1",
	NULL,
};

static const char *const demo_chain_ml[] = {
	"first: jupyter 4, git 2, nvidia-smi 2",
	"later: jupyter 4, vim 2, nvidia-smi 1",
	"job: python 4, git 1, pip 1",
	"python -> nvidia-smi 6, tensorboard 3, end 1",
	"nvidia-smi -> tensorboard 4, htop 2, nvidia-smi 1, end 3",
	"tensorboard -> nvidia-smi 2, jupyter 2, end 4",
	"jupyter -> python 4, vim 1, end 3",
	"git -> python 4, pip 3, end 1",
	"pip -> python 6, end 1",
	"vim -> python 5, git 2, end 1",
	"htop -> nvidia-smi 2, end 4",
	NULL,
};

static const char *const demo_chain_service[] = {
	"first: journalctl 3, curl 1",
	"later: journalctl 3, curl 2, systemctl 1",
	"job: git 3, logrotate 1",
	"journalctl -> systemctl 3, curl 2, end 4",
	"systemctl -> journalctl 4, curl 4, end 1",
	"curl -> journalctl 2, end 4",
	"git -> systemctl 6, end 1",
	"logrotate -> certbot 1, end 5",
	"certbot -> systemctl 3, end 1",
	NULL,
};

static const char *const demo_chain_analyst[] = {
	"first: slack 3, jupyter 3, chrome 2, rstudio 2",
	"later: jupyter 4, rstudio 3, psql 2, excel 1",
	"job: psql 3, rstudio 2, jupyter 2",
	"jupyter -> python 5, psql 3, end 2",
	"python -> psql 4, jupyter 2, excel 1, end 2",
	"psql -> python 3, R 3, excel 2, end 2",
	"R -> rstudio 2, excel 3, psql 1, end 2",
	"rstudio -> R 6, psql 2, end 1",
	"excel -> chrome 2, slack 2, end 4",
	"chrome -> jupyter 2, slack 1, end 3",
	"slack -> chrome 2, excel 1, end 3",
	NULL,
};

static const char *const demo_chain_ci[] = {
	"job: runner 1",
	"runner -> git 1",
	"git -> docker 4, make 3, npm 2",
	"docker -> make 3, pytest 3, npm 2, end 1",
	"make -> gcc 6, pytest 2, end 1",
	"gcc -> make 2, pytest 3, tar 2, end 2",
	"pytest -> tar 3, end 4",
	"npm -> tar 2, end 3",
	"tar -> end 1",
	NULL,
};

static const char *const demo_chain_streamer[] = {
	"first: discord 4, steam 3, chrome 2",
	"later: steam 4, discord 2, obs 2, chrome 1",
	"steam -> game 9, end 1",
	"game -> obs 3, discord 2, steam 1, end 4",
	"obs -> game 5, discord 2, end 1",
	"discord -> steam 4, obs 3, chrome 1, end 2",
	"chrome -> discord 2, spotify 2, steam 2, end 3",
	"spotify -> steam 3, chrome 1, end 2",
	NULL,
};

static const char *const demo_chain_database[] = {
	"first: psql 4, journalctl 2",
	"later: psql 4, journalctl 2, top 1",
	"job: pg_dump 4, vacuumdb 2",
	"pg_dump -> gzip 6, end 1",
	"gzip -> rsync 6, end 1",
	"rsync -> end 1",
	"vacuumdb -> psql 3, end 2",
	"psql -> psql 1, journalctl 1, end 4",
	"journalctl -> psql 2, top 1, end 3",
	"top -> psql 1, end 3",
	NULL,
};

/* ---- the table ------------------------------------------------------- */

#define DEMO_WEEKDAYS {1, 1, 1, 1, 1, 0, 0}
#define DEMO_EVERY_DAY {1, 1, 1, 1, 1, 1, 1}

static const struct demo_archetype demo_archetypes[] = {
	{
		.name = "office",
		.help = "office-hours interactive: 9-18 local with a lunch "
			"dip, quiet weekends, mail and documents",
		.persona = "office-worker",
		.hourly = {.02, .02, .02, .02, .02, .02, .03, .08, .35, .80,
			   .95, .90, .45, .70, .90, .88, .80, .55, .20, .08,
			   .05, .04, .03, .02},
		.weekday = {1, 1, 1, 1, .9, .05, .03},
		.holiday_rate = .06,
		.shift_user_h = .75, .shift_day_h = .3, .day_sigma = .15,
		.cores_min = 2, .cores_max = 8,
		.gib_per_core_min = 2, .gib_per_core_max = 4,
		.cpu_idle = .08, .cpu_active = 1.4,
		.mem_idle = 2.0, .mem_active = 4.0, .mem_tau = 30,
		.disk_idle = 20, .disk_active = 600,
		.net_idle = 4, .net_active = 350,
		.noise = .25,
		.spikes_per_day = 1.5, .spike_cpu = .45, .spike_min = 15,
		.sessions_per_day = 10, .gap_min = 4,
		.chain = demo_chain_office,
	},
	{
		.name = "developer",
		.help = "developer workstation: 10-19 local, edit-build-test "
			"loops with short compile bursts on every core",
		.persona = "developer",
		.hourly = {.03, .02, .02, .02, .02, .02, .02, .03, .08, .35,
			   .75, .90, .70, .55, .85, .95, .95, .85, .60, .35,
			   .20, .15, .10, .05},
		.weekday = {1, 1, 1, 1, .85, .12, .08},
		.holiday_rate = .05,
		.shift_user_h = 1.0, .shift_day_h = .5, .day_sigma = .2,
		.cores_min = 4, .cores_max = 16,
		.gib_per_core_min = 2, .gib_per_core_max = 4,
		.cpu_idle = .1, .cpu_active = 1.2,
		.mem_idle = 3.0, .mem_active = 5.0, .mem_tau = 45,
		.disk_idle = 30, .disk_active = 900,
		.net_idle = 5, .net_active = 250,
		.noise = .3,
		.spikes_per_day = .5, .spike_cpu = .3, .spike_min = 10,
		.jobs = {{
			.kind = DEMO_JOB_DIURNAL, .per_day = 12,
			.days = DEMO_EVERY_DAY,
			.min_len = 2, .max_len = 12,
			.cpu = .85, .mem = .15, .disk = 8000, .net = 200,
			.by_hand = 1,
		}},
		.sessions_per_day = 14, .gap_min = 3,
		.chain = demo_chain_developer,
	},
	{
		.name = "batch",
		.help = "nightly batch host: a crontab of backups and ETL "
			"between midnight and five, near idle by day",
		.persona = "data-engineer",
		.hourly = {0, 0, 0, 0, 0, 0, 0, 0, 0, .1, .15, .15, .05, .1,
			   .15, .15, .1, .05, 0, 0, 0, 0, 0, 0},
		.weekday = {1, 1, 1, 1, 1, .3, .3},
		.shift_day_h = .2, .day_sigma = .1,
		.cores_min = 4, .cores_max = 32,
		.gib_per_core_min = 2, .gib_per_core_max = 4,
		.cpu_idle = .05, .cpu_active = .3,
		.mem_idle = 1.5, .mem_active = .5, .mem_tau = 10,
		.disk_idle = 30, .disk_active = 200,
		.net_idle = 5, .net_active = 50,
		.noise = .15,
		.jobs = {{
			.kind = DEMO_JOB_CRON, .per_day = 4,
			.days = DEMO_EVERY_DAY,
			.from_h = .5, .to_h = 4.5,
			.min_len = 20, .max_len = 80,
			.cpu = .85, .mem = .55, .disk = 45000, .net = 12000,
		}, {
			/* the weekly full backup, Sunday night */
			.kind = DEMO_JOB_CRON, .per_day = 1,
			.days = {0, 0, 0, 0, 0, 0, 1},
			.from_h = 1, .to_h = 2,
			.min_len = 150, .max_len = 240,
			.cpu = .5, .mem = .3, .disk = 80000, .net = 30000,
		}},
		.sessions_per_day = 1, .gap_min = 2,
		.chain = demo_chain_batch,
	},
	{
		.name = "ml",
		.help = "ML training: multi-hour runs near saturation a few "
			"times a week, notebooks and idle in between",
		.persona = "ml-engineer",
		.hourly = {.02, .02, .02, .02, .02, .02, .02, .03, .10, .40,
			   .60, .60, .40, .50, .60, .60, .50, .40, .20, .10,
			   .08, .06, .04, .03},
		.weekday = {1, 1, 1, 1, .9, .15, .1},
		.holiday_rate = .05,
		.shift_user_h = 1.0, .shift_day_h = .5, .day_sigma = .2,
		.cores_min = 8, .cores_max = 32,
		.gib_per_core_min = 4, .gib_per_core_max = 8,
		.cpu_idle = .1, .cpu_active = 1.0,
		.mem_idle = 3.0, .mem_active = 4.0, .mem_tau = 20,
		.disk_idle = 20, .disk_active = 500,
		.net_idle = 5, .net_active = 200,
		.noise = .15,
		.jobs = {{
			.kind = DEMO_JOB_WINDOW, .per_day = .6,
			.days = {1, 1, 1, 1, 1, .25, .25},
			.from_h = 9, .to_h = 19,
			.min_len = 180, .max_len = 720,
			.cpu = .95, .mem = .75, .disk = 6000, .net = 1500,
			.by_hand = 1,
		}},
		.sessions_per_day = 6, .gap_min = 5,
		.chain = demo_chain_ml,
	},
	{
		.name = "service",
		.help = "always-on service: steady load that follows its "
			"users' day, memory creeping until a deploy, rare "
			"spikes",
		.persona = "sre",
		.hourly = {.35, .30, .28, .27, .28, .32, .40, .52, .65, .75,
			   .80, .82, .80, .82, .85, .83, .78, .72, .66, .62,
			   .58, .52, .45, .40},
		.weekday = {1, 1, 1, 1, .97, .8, .78},
		.shift_day_h = .1, .day_sigma = .06,
		.cores_min = 4, .cores_max = 16,
		.gib_per_core_min = 2, .gib_per_core_max = 4,
		.cpu_idle = .2, .cpu_active = 3.0,
		.mem_idle = 3.0, .mem_active = 1.5, .mem_tau = 60,
		.mem_creep = .04,
		.disk_idle = 100, .disk_active = 1500,
		.net_idle = 200, .net_active = 6000,
		.noise = .12,
		.spikes_per_day = 1.5, .spike_cpu = .45, .spike_min = 20,
		.jobs = {{
			/* deploys, Tuesday and Thursday afternoon */
			.kind = DEMO_JOB_WINDOW, .per_day = 1,
			.days = {0, 1, 0, 1, 0, 0, 0},
			.from_h = 13, .to_h = 16,
			.min_len = 5, .max_len = 10,
			.cpu = .3, .disk = 20000, .net = 20000,
			.by_hand = 1, .resets_mem = 1,
		}, {
			.kind = DEMO_JOB_CRON, .per_day = 1,
			.days = DEMO_EVERY_DAY,
			.from_h = 3, .to_h = 3.1,
			.min_len = 2, .max_len = 4,
			.cpu = .1, .disk = 30000,
		}},
		.sessions_per_day = 2, .gap_min = 1,
		.chain = demo_chain_service,
	},
	{
		.name = "analyst",
		.help = "data analysis with a weekly cycle: heavy early in the "
			"week, reports on Friday, memory-heavy",
		.persona = "data-scientist",
		.hourly = {.02, .02, .02, .02, .02, .02, .02, .04, .20, .60,
			   .85, .90, .50, .70, .85, .80, .70, .45, .15, .08,
			   .05, .04, .03, .02},
		.weekday = {1, .9, .6, .45, .6, .04, .03},
		.holiday_rate = .05,
		.shift_user_h = .75, .shift_day_h = .4, .day_sigma = .2,
		.cores_min = 4, .cores_max = 16,
		.gib_per_core_min = 8, .gib_per_core_max = 16,
		.cpu_idle = .1, .cpu_active = 2.0,
		.mem_idle = 4.0, .mem_active = 14.0, .mem_tau = 90,
		.disk_idle = 20, .disk_active = 1200,
		.net_idle = 5, .net_active = 400,
		.noise = .3,
		.spikes_per_day = .5, .spike_cpu = .3, .spike_min = 15,
		.jobs = {{
			/* big queries and model fits, front-loaded */
			.kind = DEMO_JOB_DIURNAL, .per_day = 4,
			.days = {1.5, 1.2, .5, .3, .2, 0, 0},
			.min_len = 10, .max_len = 40,
			.cpu = .7, .mem = .3, .disk = 20000, .net = 4000,
			.by_hand = 1,
		}, {
			/* the Friday report */
			.kind = DEMO_JOB_WINDOW, .per_day = 1,
			.days = {0, 0, 0, 0, 1, 0, 0},
			.from_h = 13, .to_h = 15,
			.min_len = 60, .max_len = 150,
			.cpu = .6, .mem = .45, .disk = 10000, .net = 2000,
			.by_hand = 1,
		}},
		.sessions_per_day = 10, .gap_min = 4,
		.chain = demo_chain_analyst,
	},
	{
		.name = "ci",
		.help = "CI runner: bursts of short builds after pushes in "
			"working hours, idle at night and on weekends",
		.persona = "build-agent",
		.hourly = {.03, .02, .02, .02, .02, .02, .03, .08, .30, .70,
			   .90, 1, .60, .80, 1, 1, .90, .70, .40, .25,
			   .15, .10, .06, .04},
		.weekday = {1, 1, 1, 1, .8, .06, .04},
		.shift_user_h = .5, .shift_day_h = .3, .day_sigma = .25,
		.cores_min = 4, .cores_max = 16,
		.gib_per_core_min = 2, .gib_per_core_max = 4,
		.cpu_idle = .05, .cpu_active = .2,
		.mem_idle = 1.0, .mem_active = .5, .mem_tau = 5,
		.disk_idle = 10, .disk_active = 100,
		.net_idle = 5, .net_active = 30,
		.noise = .2,
		.jobs = {{
			.kind = DEMO_JOB_DIURNAL, .per_day = 20,
			.days = DEMO_EVERY_DAY,
			.min_len = 2, .max_len = 15,
			.cpu = .9, .mem = .35, .disk = 25000, .net = 6000,
			.burst = 4,
		}},
		.gap_min = .5,
		.chain = demo_chain_ci,
	},
	{
		.name = "streamer",
		.help = "game streamer: evenings on weekdays, afternoons and "
			"evenings at weekends, game plus video encoding",
		.persona = "streamer",
		.hourly = {.45, .25, .10, .03, .02, .02, .02, .02, .03, .04,
			   .04, .05, .05, .06, .06, .08, .12, .20, .45, .85,
			   1, 1, .90, .70},
		.weekend = {.55, .35, .15, .05, .02, .02, .02, .02, .04, .08,
			    .15, .30, .40, .50, .60, .65, .60, .55, .65, .90,
			    1, 1, .95, .80},
		.weekday = {.9, .85, .9, .95, 1, 1, 1},
		.shift_user_h = 1.0, .shift_day_h = .6, .day_sigma = .25,
		.cores_min = 4, .cores_max = 16,
		.gib_per_core_min = 2, .gib_per_core_max = 4,
		.cpu_idle = .1, .cpu_active = 5.0,
		.mem_idle = 2.5, .mem_active = 9.0, .mem_tau = 15,
		.disk_idle = 10, .disk_active = 3000,
		.net_idle = 5, .net_active = 900,
		.noise = .2,
		.spikes_per_day = .3, .spike_cpu = .3, .spike_min = 10,
		.sessions_per_day = 3, .gap_min = 6,
		.chain = demo_chain_streamer,
	},
	{
		.name = "database",
		.help = "database host: a buffer pool that holds most memory, "
			"load that follows the business day, nightly dumps",
		.persona = "dba",
		.hourly = {.20, .17, .15, .15, .15, .18, .25, .40, .65, .80,
			   .85, .85, .75, .80, .85, .85, .80, .65, .50, .40,
			   .35, .30, .25, .22},
		.weekday = {1, 1, 1, 1, .95, .45, .4},
		.shift_day_h = .15, .day_sigma = .08,
		.cores_min = 4, .cores_max = 32,
		.gib_per_core_min = 4, .gib_per_core_max = 8,
		.cpu_idle = .3, .cpu_active = 4.0,
		.mem_idle = 1.0, .mem_active = 1.0, .mem_cache = .7,
		.mem_tau = 30,
		.disk_idle = 300, .disk_active = 8000,
		.net_idle = 100, .net_active = 3000,
		.noise = .15,
		.spikes_per_day = .8, .spike_cpu = .35, .spike_min = 10,
		.jobs = {{
			.kind = DEMO_JOB_CRON, .per_day = 1,
			.days = DEMO_EVERY_DAY,
			.from_h = 1.5, .to_h = 2.5,
			.min_len = 40, .max_len = 90,
			.cpu = .35, .mem = .05, .disk = 60000, .net = 25000,
		}, {
			/* weekly vacuum and reindex */
			.kind = DEMO_JOB_CRON, .per_day = 1,
			.days = {0, 0, 0, 0, 0, 0, 1},
			.from_h = 3.5, .to_h = 4,
			.min_len = 60, .max_len = 120,
			.cpu = .5, .mem = .1, .disk = 40000, .net = 500,
		}},
		.sessions_per_day = 1.5, .gap_min = 2,
		.chain = demo_chain_database,
	},
};

size_t demo_archetype_count(void)
{
	return BSP_ARRAY_LEN(demo_archetypes);
}

const struct demo_archetype *demo_archetype_get(size_t i)
{
	return i < BSP_ARRAY_LEN(demo_archetypes) ? &demo_archetypes[i] : NULL;
}

const char *bsp_demo_archetype_name(size_t i)
{
	return i < BSP_ARRAY_LEN(demo_archetypes) ? demo_archetypes[i].name
						  : NULL;
}

const char *bsp_demo_archetype_help(size_t i)
{
	return i < BSP_ARRAY_LEN(demo_archetypes) ? demo_archetypes[i].help
						  : NULL;
}
