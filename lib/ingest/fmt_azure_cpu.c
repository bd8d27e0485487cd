/*
 * Azure Public Dataset V1 CPU readings (vm_cpu_readings-file-*-of-*.csv):
 *
 *   timestamp,vm_id,min_cpu,max_cpu,avg_cpu
 *
 * every 5 minutes per VM, no header in the published files (a first line
 * naming the columns is skipped). Timestamps count seconds from the start
 * of the trace; they are kept as they are, as epoch seconds, so the trace
 * starts on 1970-01-01 (its real start date was not published).
 *
 * Entity = vm_id; series cpu_min, cpu_max, cpu_avg in %. Rows of one VM
 * come in runs in the published files, so the three series of the last VM
 * are remembered to skip the lookup.
 */
#include "ingest_int.h"

#define AC_COLUMNS 5

static const char *const ac_metrics[3] = {"cpu_min", "cpu_max", "cpu_avg"};

static int ac_line_ok(const char *line, size_t n)
{
	struct ingest_field fld[AC_COLUMNS + 1];

	if (ingest_split(NULL, line, n, ',', fld, AC_COLUMNS + 1) !=
		    AC_COLUMNS ||
	    !ingest_is_uint(fld[0].p, fld[0].n) || fld[1].n == 0 ||
	    ingest_is_number(fld[1].p, fld[1].n))
		return 0;
	for (int i = 2; i < AC_COLUMNS; i++)
		if (!ingest_is_number(fld[i].p, fld[i].n))
			return 0;
	return 1;
}

int fmt_azure_cpu_detect(const char *head, size_t len, const char *path)
{
	struct ingest_field fld[AC_COLUMNS + 1];
	const char *line;
	size_t n;

	BSP_UNUSED(path);
	if (ingest_head_first(head, len, &line, &n) &&
	    ingest_split(NULL, line, n, ',', fld, AC_COLUMNS + 1) ==
		    AC_COLUMNS &&
	    ingest_field_is(&fld[0], "timestamp") &&
	    ingest_field_is(&fld[1], "vm_id"))
		return 100;
	return ingest_detect_lines(head, len, ac_line_ok, 75);
}

bsp_err fmt_azure_cpu_parse(struct ingest_file *f)
{
	struct ingest_field fld[AC_COLUMNS + 1];
	char vm[INGEST_MAX_NAME], last[INGEST_MAX_NAME] = "";
	int sid[3] = {-1, -1, -1};
	const char *line;
	size_t len;
	int first = 1;

	while ((line = ingest_next_line(f, &len))) {
		int n = ingest_split(f, line, len, ',', fld, AC_COLUMNS + 1);
		bsp_time t;
		int r;

		if (first) {
			first = 0;
			if (n > 0 && ingest_field_is(&fld[0], "timestamp")) {
				ingest_not_data(f);
				continue;
			}
		}
		if (n != AC_COLUMNS) {
			if (n < 0 ? ingest_bad(f, "unbalanced double quotes")
				  : ingest_bad(f, "expected %d columns, found "
						  "%d",
					       AC_COLUMNS, n))
				break;
			continue;
		}
		r = ingest_time(f, &fld[0], 1, "timestamp", &t);
		if (r == INGEST_OK)
			r = ingest_name(f, &fld[1], 2, "vm_id", vm);
		if (r == INGEST_STOP)
			break;
		if (r != INGEST_OK)
			continue;
		if (sid[0] < 0 || strcmp(vm, last)) {
			for (int i = 0; i < 3; i++) {
				sid[i] = bsp_batch_series(f->batch, vm,
							  ac_metrics[i], "",
							  "%");
				if (sid[i] < 0)
					return ingest_fail(f, BSP_ENOMEM,
							   "out of memory");
			}
			memcpy(last, vm, strlen(vm) + 1);
		}
		for (int i = 0; i < 3; i++) {
			double v;
			r = ingest_value(f, &fld[2 + i], 3 + i, ac_metrics[i],
					 INGEST_NONNEG, &v);
			if (r == INGEST_STOP)
				goto out;
			if (r == INGEST_OK &&
			    bsp_batch_sample(f->batch, sid[i], t, v) < 0)
				return ingest_fail(f, BSP_ENOMEM,
						   "out of memory");
		}
	}
out:
	return f->aborted ? BSP_EINVAL : BSP_OK;
}
