/*
 * Bitbrains GWA-T-12 VM traces (Shen, van Beek, Iosup, CCGrid 2015): one
 * file per VM, e.g. 2013-7/1.csv.gz, with the header
 *
 *   Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\t...
 *
 * and eleven columns separated by ';' and a tab. Despite its header the
 * timestamp is Unix epoch seconds (ingest_time reads up to 12 digits as
 * seconds, so a file that really had milliseconds would still be right).
 *
 * The entity is the file's base name ("1" for 1.csv.gz) unless --entity
 * names one. Besides the ten measured columns two derived series are
 * written, disk_total = read + write and net_total = rx + tx, because the
 * forecaster sizes disk and network on totals; a derived sample exists
 * only when both of its parts are valid on that line.
 *
 * This is the largest real trace we read (19 M samples a month), so the
 * series are looked up once per file and each line is one split plus ten
 * number conversions.
 */
#include <math.h>

#include "ingest_int.h"

#define BB_COLUMNS 11
#define BB_VALUES 10

static const struct {
	const char *metric, *unit;
} bb_series[BB_VALUES + 2] = {
	{"cpu_cores", "cores"},	 {"cpu_capacity", "MHz"},
	{"cpu_usage", "MHz"},	 {"cpu_usage_pct", "%"},
	{"mem_capacity", "KB"},	 {"mem_usage", "KB"},
	{"disk_read", "KB/s"},	 {"disk_write", "KB/s"},
	{"net_rx", "KB/s"},	 {"net_tx", "KB/s"},
	{"disk_total", "KB/s"},	 {"net_total", "KB/s"},
};
enum { BB_DISK_READ = 6, BB_DISK_WRITE, BB_NET_RX, BB_NET_TX,
       BB_DISK_TOTAL, BB_NET_TOTAL };

static const char bb_header[] = "Timestamp [ms];";

static int bb_line_ok(const char *line, size_t n)
{
	struct ingest_field fld[BB_COLUMNS + 1];

	if (!memchr(line, ';', n) ||
	    ingest_split(NULL, line, n, ';', fld, BB_COLUMNS + 1) !=
		    BB_COLUMNS ||
	    !ingest_is_uint(fld[0].p, fld[0].n))
		return 0;
	for (int i = 1; i < BB_COLUMNS; i++)
		if (!ingest_is_number(fld[i].p, fld[i].n))
			return 0;
	return 1;
}

int fmt_bitbrains_detect(const char *head, size_t len, const char *path)
{
	const char *line;
	size_t n;

	BSP_UNUSED(path);
	if (ingest_head_first(head, len, &line, &n) &&
	    n >= sizeof(bb_header) - 1 &&
	    !memcmp(line, bb_header, sizeof(bb_header) - 1))
		return 100;
	return ingest_detect_lines(head, len, bb_line_ok, 80);
}

/* A derived total; two huge parts can overflow to infinity, which is
 * dropped rather than stored. */
static int add_total(struct ingest_file *f, int sid, bsp_time t, double v)
{
	return isfinite(v) ? bsp_batch_sample(f->batch, sid, t, v) : 0;
}

bsp_err fmt_bitbrains_parse(struct ingest_file *f)
{
	const char *entity = f->opt && f->opt->entity ? f->opt->entity
						       : f->base;
	struct ingest_field fld[BB_COLUMNS + 1];
	int sid[BB_VALUES + 2];
	const char *line;
	size_t len;
	int first = 1;

	for (int i = 0; i < BB_VALUES + 2; i++) {
		sid[i] = bsp_batch_series(f->batch, entity, bb_series[i].metric,
					  "", bb_series[i].unit);
		if (sid[i] < 0)
			return ingest_fail(f, BSP_ENOMEM, "out of memory");
	}
	while ((line = ingest_next_line(f, &len))) {
		double v[BB_VALUES];
		int ok[BB_VALUES];
		bsp_time t;
		int n = ingest_split(f, line, len, ';', fld, BB_COLUMNS + 1);
		int r;

		if (first) {
			first = 0;
			if (n > 0 && fld[0].n > 0 &&
			    ((fld[0].p[0] >= 'A' && fld[0].p[0] <= 'Z') ||
			     (fld[0].p[0] >= 'a' && fld[0].p[0] <= 'z'))) {
				ingest_not_data(f); /* the header */
				continue;
			}
		}
		if (n != BB_COLUMNS) {
			if (n < 0 ? ingest_bad(f, "unbalanced double quotes")
				  : ingest_bad(f, "expected %d columns "
						  "separated by ';', found %d",
					       BB_COLUMNS, n))
				break;
			continue;
		}
		r = ingest_time(f, &fld[0], 1, "timestamp", &t);
		if (r == INGEST_STOP)
			break;
		if (r != INGEST_OK)
			continue;
		for (int c = 0; c < BB_VALUES; c++) {
			r = ingest_value(f, &fld[c + 1], c + 2,
					 bb_series[c].metric, INGEST_NONNEG,
					 &v[c]);
			if (r == INGEST_STOP)
				goto out;
			ok[c] = r == INGEST_OK;
			if (ok[c] && bsp_batch_sample(f->batch, sid[c], t,
						      v[c]) < 0)
				return ingest_fail(f, BSP_ENOMEM,
						   "out of memory");
		}
		if (ok[BB_DISK_READ] && ok[BB_DISK_WRITE] &&
		    add_total(f, sid[BB_DISK_TOTAL], t,
			      v[BB_DISK_READ] + v[BB_DISK_WRITE]) < 0)
			return ingest_fail(f, BSP_ENOMEM, "out of memory");
		if (ok[BB_NET_RX] && ok[BB_NET_TX] &&
		    add_total(f, sid[BB_NET_TOTAL], t,
			      v[BB_NET_RX] + v[BB_NET_TX]) < 0)
			return ingest_fail(f, BSP_ENOMEM, "out of memory");
	}
out:
	return f->aborted ? BSP_EINVAL : BSP_OK;
}
