/*
 * Alibaba cluster-trace-v2018 machine_usage.csv: resource use of each
 * machine about every 10 s, no header, rows not sorted by machine or time:
 *
 *   machine_id,time_stamp,cpu_util_percent,mem_util_percent,mem_gps,
 *   mkpi,net_in,net_out,disk_io_percent
 *
 * (a first line naming the columns, as some extracts add, is skipped).
 * time_stamp counts seconds from the start of the trace (kept as epoch
 * seconds). Empty fields are common and mean "not measured": that value
 * is left out silently, the rest of the row is kept. mem_gps, net_in and
 * net_out are normalised by the publisher to [0, 100] and mkpi is cache
 * misses per thousand instructions, so they carry no unit.
 *
 * Series are created when their first value appears (a machine whose
 * mem_gps is never measured gets no empty series) and those of the last
 * machine are remembered, which helps on the runs that the unsorted file
 * still has.
 */
#include "ingest_int.h"

#define AL_COLUMNS 9
#define AL_VALUES 7

static const struct {
	const char *metric, *unit;
} al_series[AL_VALUES] = {
	{"cpu_util_pct", "%"}, {"mem_util_pct", "%"}, {"mem_gps", ""},
	{"mkpi", ""},	       {"net_in", ""},	      {"net_out", ""},
	{"disk_io_pct", "%"},
};

static int al_line_ok(const char *line, size_t n)
{
	struct ingest_field fld[AL_COLUMNS + 1];

	if (ingest_split(NULL, line, n, ',', fld, AL_COLUMNS + 1) !=
		    AL_COLUMNS ||
	    fld[0].n == 0 || ingest_is_number(fld[0].p, fld[0].n) ||
	    !ingest_is_uint(fld[1].p, fld[1].n))
		return 0;
	for (int i = 2; i < AL_COLUMNS; i++)
		if (fld[i].n && !ingest_is_number(fld[i].p, fld[i].n))
			return 0;
	return 1;
}

int fmt_alibaba_detect(const char *head, size_t len, const char *path)
{
	struct ingest_field fld[AL_COLUMNS + 1];
	const char *line;
	size_t n;
	int k;

	BSP_UNUSED(path);
	if (!ingest_head_first(head, len, &line, &n))
		return 0;
	k = ingest_split(NULL, line, n, ',', fld, AL_COLUMNS + 1);
	if (k == AL_COLUMNS && ingest_field_is(&fld[0], "machine_id") &&
	    ingest_field_is(&fld[1], "time_stamp"))
		return 100;
	if (!ingest_detect_lines(head, len, al_line_ok, 1))
		return 0;
	/* The published machine ids are "m_NNNN". */
	return k >= 1 && fld[0].n > 2 && !memcmp(fld[0].p, "m_", 2) ? 90 : 50;
}

bsp_err fmt_alibaba_parse(struct ingest_file *f)
{
	struct ingest_field fld[AL_COLUMNS + 1];
	char machine[INGEST_MAX_NAME], last[INGEST_MAX_NAME] = "";
	int sid[AL_VALUES];
	const char *line;
	size_t len;
	int first = 1;

	for (int i = 0; i < AL_VALUES; i++)
		sid[i] = -1;
	while ((line = ingest_next_line(f, &len))) {
		int n = ingest_split(f, line, len, ',', fld, AL_COLUMNS + 1);
		bsp_time t;
		int r;

		if (first) {
			first = 0;
			if (n > 1 && ingest_field_is(&fld[1], "time_stamp")) {
				ingest_not_data(f); /* an extract's header */
				continue;
			}
		}
		if (n != AL_COLUMNS) {
			if (n < 0 ? ingest_bad(f, "unbalanced double quotes")
				  : ingest_bad(f, "expected %d columns, found "
						  "%d",
					       AL_COLUMNS, n))
				break;
			continue;
		}
		r = ingest_name(f, &fld[0], 1, "machine_id", machine);
		if (r == INGEST_OK)
			r = ingest_time(f, &fld[1], 2, "time_stamp", &t);
		if (r == INGEST_STOP)
			break;
		if (r != INGEST_OK)
			continue;
		if (strcmp(machine, last)) {
			for (int i = 0; i < AL_VALUES; i++)
				sid[i] = -1;
			memcpy(last, machine, strlen(machine) + 1);
		}
		for (int i = 0; i < AL_VALUES; i++) {
			double v;
			r = ingest_value(f, &fld[2 + i], 3 + i,
					 al_series[i].metric,
					 INGEST_NONNEG | INGEST_EMPTY_OK, &v);
			if (r == INGEST_STOP)
				goto out;
			if (r != INGEST_OK)
				continue;
			if (sid[i] < 0)
				sid[i] = bsp_batch_series(f->batch, machine,
							  al_series[i].metric,
							  "", al_series[i].unit);
			if (sid[i] < 0 ||
			    bsp_batch_sample(f->batch, sid[i], t, v) < 0)
				return ingest_fail(f, BSP_ENOMEM,
						   "out of memory");
		}
	}
out:
	return f->aborted ? BSP_EINVAL : BSP_OK;
}
