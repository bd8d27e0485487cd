/*
 * PlanetLab CoMon CPU traces as shipped with CloudSim (Beloglazov & Buyya,
 * CCPE 2012): a folder per day named YYYYMMDD, in it one file per VM
 * holding 288 integer CPU-utilisation percentages, one per 5 minutes from
 * UTC midnight.
 *
 * The file carries no times, so they come from the path: line n (counted
 * from 1, blank lines included) is at DAY + (n-1) * 5 min. Counting
 * physical lines keeps a bad or empty line from shifting every later
 * value. A file with fewer lines is a partial day and fine; lines past the
 * 288th do not fit in the day and are bad lines. A folder that is not a
 * date makes the file fail: without it no time can be given.
 *
 * Entity: the file name (or --entity); metric cpu_usage_pct (%). The same
 * VM on several days continues the same series.
 */
#include "ingest_int.h"

#define PL_STEPS 288
#define PL_STEP (5 * BSP_MINUTE)

/* Day folder "YYYYMMDD" → its UTC midnight; -1 if it is not a date. */
static int day_of(const char *dir, bsp_time *out)
{
	char iso[11];

	if (strlen(dir) != 8 || !ingest_is_uint(dir, 8))
		return -1;
	memcpy(iso, dir, 4);
	iso[4] = '-';
	memcpy(iso + 5, dir + 4, 2);
	iso[7] = '-';
	memcpy(iso + 8, dir + 6, 2);
	return bsp_time_parse(iso, 10, out) == BSP_OK ? 0 : -1;
}

static int pl_line_ok(const char *line, size_t n)
{
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	return n <= 3 && ingest_is_uint(line, n);
}

int fmt_planetlab_detect(const char *head, size_t len, const char *path)
{
	struct ingest_head h;
	const char *line;
	char dir[64];
	bsp_time day;
	size_t n;
	int lines = 0;

	if (!ingest_detect_lines(head, len, pl_line_ok, 1))
		return 0;
	ingest_head_init(&h, head, len);
	while (ingest_head_next(&h, &line, &n))
		if (++lines > PL_STEPS)
			return 10; /* longer than a day: something else */
	/* Without its date folder it still looks like PlanetLab: say so
	 * (above the threshold) so that the parser can name the problem. */
	return day_of(ingest_parent_name(path, dir, sizeof(dir)), &day) == 0
		       ? 90
		       : 35;
}

bsp_err fmt_planetlab_parse(struct ingest_file *f)
{
	const char *entity = f->opt && f->opt->entity ? f->opt->entity
						       : f->base;
	struct ingest_field fld;
	const char *line;
	bsp_time day;
	size_t len;
	int sid;

	if (day_of(f->dir, &day) < 0)
		return ingest_fail(f, BSP_EINVAL,
				   "folder name '%s' is not a date "
				   "(YYYYMMDD): PlanetLab files are "
				   "DAY/VM and take their times from it",
				   f->dir);
	sid = bsp_batch_series(f->batch, entity, "cpu_usage_pct", "", "%");
	if (sid < 0)
		return ingest_fail(f, BSP_ENOMEM, "out of memory");
	while ((line = ingest_next_line(f, &len))) {
		uint64_t slot = lr_lineno(f->reader) - 1;
		double v;
		int r;

		if (slot >= PL_STEPS) {
			if (ingest_bad(f, "more than %d values: a day has %d "
					  "five-minute steps",
				       PL_STEPS, PL_STEPS))
				break;
			continue;
		}
		fld.p = line;
		fld.n = len;
		while (fld.n && (*fld.p == ' ' || *fld.p == '\t')) {
			fld.p++;
			fld.n--;
		}
		while (fld.n && (fld.p[fld.n - 1] == ' ' ||
				 fld.p[fld.n - 1] == '\t'))
			fld.n--;
		r = ingest_value(f, &fld, 1, "cpu_usage_pct", INGEST_NONNEG, &v);
		if (r == INGEST_STOP)
			break;
		if (r == INGEST_OK &&
		    bsp_batch_sample(f->batch, sid,
				     day + (bsp_time)slot * PL_STEP, v) < 0)
			return ingest_fail(f, BSP_ENOMEM, "out of memory");
	}
	return f->aborted ? BSP_EINVAL : BSP_OK;
}
