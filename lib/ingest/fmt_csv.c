/*
 * Generic long CSV: one sample per line,
 *
 *   entity,metric,timestamp,value[,unit]
 *
 * the shape any tool can export (a spreadsheet, a SQL query, `promtool`
 * output reshaped). The first line may be a header naming the columns, in
 * any order: entity, metric, timestamp (or time, ts), value, and optionally
 * unit and labels (the canonical `k="v",...` string that `bespoke export`
 * writes, so that export then ingest keeps series apart); unknown columns
 * are ignored then. Without a header the order above
 * is used and a fifth column, if present, is the unit.
 *
 * Times are epoch seconds, epoch milliseconds (13+ digits) or RFC 3339.
 * Values may be negative (a temperature, a delta), but not NaN, infinite
 * or out of range. Fields may be double-quoted (RFC 4180).
 *
 * Lines of one series usually follow each other, so the series of the
 * previous line is kept and reused while entity, metric and unit repeat.
 */
#include "ingest_int.h"

enum { CSV_ENTITY, CSV_METRIC, CSV_TIME, CSV_VALUE, CSV_UNIT, CSV_LABELS, CSV_NCOLS };

static const char *const csv_names[] = {"entity", "metric", "timestamp|time|ts",
					"value", "unit", "labels", NULL};

/* Longest header we map (more columns are allowed but ignored). */
#define CSV_MAX_FIELDS 64

static int csv_line_ok(const char *line, size_t n)
{
	struct ingest_field fld[6];
	int k = ingest_split(NULL, line, n, ',', fld, 6);
	bsp_time t;

	return (k == 4 || k == 5) && fld[0].n && fld[1].n &&
	       !ingest_is_number(fld[0].p, fld[0].n) &&
	       !ingest_is_number(fld[1].p, fld[1].n) &&
	       bsp_time_parse(fld[2].p, fld[2].n, &t) == BSP_OK &&
	       ingest_is_number(fld[3].p, fld[3].n);
}

int fmt_csv_detect(const char *head, size_t len, const char *path)
{
	struct ingest_field fld[CSV_MAX_FIELDS];
	int cols[CSV_NCOLS];
	const char *line;
	size_t n;
	int k;

	BSP_UNUSED(path);
	if (!ingest_head_first(head, len, &line, &n))
		return 0;
	k = ingest_split(NULL, line, n, ',', fld, CSV_MAX_FIELDS);
	if (k >= 2 && k <= CSV_MAX_FIELDS &&
	    ingest_header_map(fld, k, csv_names, cols) > 0)
		return cols[CSV_ENTITY] >= 0 && cols[CSV_METRIC] >= 0 &&
				       cols[CSV_TIME] >= 0 &&
				       cols[CSV_VALUE] >= 0
			       ? 100
			       : 0;
	return ingest_detect_lines(head, len, csv_line_ok, 60);
}

/* The series of the previous line, to skip the lookup while it repeats. */
struct csv_last {
	int sid;
	char entity[INGEST_MAX_NAME], metric[INGEST_MAX_NAME],
		unit[INGEST_MAX_NAME], labels[INGEST_MAX_NAME];
};

static int same(const struct ingest_field *fld, const char *s)
{
	return fld->n == strlen(s) && !memcmp(fld->p, s, fld->n);
}

bsp_err fmt_csv_parse(struct ingest_file *f)
{
	struct ingest_field fld[CSV_MAX_FIELDS + 1];
	int cols[CSV_NCOLS] = {0, 1, 2, 3, 4, -1};
	struct csv_last last = {.sid = -1};
	int ncols = -1; /* -1: no header, 4 or 5 columns */
	int first = 1;
	const char *line;
	size_t len;

	while ((line = ingest_next_line(f, &len))) {
		int n = ingest_split(f, line, len, ',', fld, CSV_MAX_FIELDS + 1);
		struct ingest_field nounit = {"", 0};
		const struct ingest_field *unit = &nounit, *labels = &nounit;
		bsp_time t;
		double v;
		int r;

		if (first) {
			first = 0;
			int hc[CSV_NCOLS];
			if (n > 0 && n <= CSV_MAX_FIELDS &&
			    ingest_header_map(fld, n, csv_names, hc) > 0) {
				static const char *const need[] = {
					"entity", "metric", "timestamp",
					"value"};
				memcpy(cols, hc, sizeof(cols));
				for (int c = 0; c < CSV_UNIT; c++)
					if (cols[c] < 0)
						return ingest_fail(
							f, BSP_EINVAL,
							"the header names no "
							"'%s' column",
							need[c]);
				ncols = n;
				ingest_not_data(f);
				continue;
			}
		}
		if (n < 0 || (ncols < 0 ? n != 4 && n != 5 : n != ncols)) {
			if (n < 0 ? ingest_bad(f, "unbalanced double quotes")
			    : ncols < 0
				? ingest_bad(f, "expected 4 or 5 columns "
						"(entity,metric,timestamp,"
						"value[,unit]), found %d",
					     n)
				: ingest_bad(f, "expected %d columns as in the "
						"header, found %d",
					     ncols, n))
				break;
			continue;
		}
		if (ncols < 0 ? n == 5 : cols[CSV_UNIT] >= 0)
			unit = &fld[cols[CSV_UNIT]];
		if (ncols >= 0 && cols[CSV_LABELS] >= 0)
			labels = &fld[cols[CSV_LABELS]];
		if (last.sid < 0 || !same(&fld[cols[CSV_ENTITY]], last.entity) ||
		    !same(&fld[cols[CSV_METRIC]], last.metric) ||
		    !same(unit, last.unit) || !same(labels, last.labels)) {
			r = ingest_name(f, &fld[cols[CSV_ENTITY]],
					cols[CSV_ENTITY] + 1, "entity",
					last.entity);
			if (r == INGEST_OK)
				r = ingest_name(f, &fld[cols[CSV_METRIC]],
						cols[CSV_METRIC] + 1, "metric",
						last.metric);
			if (r == INGEST_OK && unit->n >= INGEST_MAX_NAME)
				r = ingest_bad(f, "column %d (unit): longer "
						  "than %d bytes",
					       cols[CSV_UNIT] + 1,
					       INGEST_MAX_NAME - 1)
					    ? INGEST_STOP
					    : INGEST_SKIP;
			if (r == INGEST_OK && (labels->n >= INGEST_MAX_NAME ||
					       memchr(labels->p, '\n',
						      labels->n)))
				r = ingest_bad(f, "column %d (labels): longer "
						  "than %d bytes or not one "
						  "line",
					       cols[CSV_LABELS] + 1,
					       INGEST_MAX_NAME - 1)
					    ? INGEST_STOP
					    : INGEST_SKIP;
			if (r != INGEST_OK) {
				last.sid = -1;
				if (r == INGEST_STOP)
					break;
				continue;
			}
			ingest_field_str(unit, last.unit, sizeof(last.unit));
			ingest_field_str(labels, last.labels,
					 sizeof(last.labels));
			last.sid = bsp_batch_series(f->batch, last.entity,
						    last.metric, last.labels,
						    last.unit);
			if (last.sid < 0)
				return ingest_fail(f, BSP_ENOMEM,
						   "out of memory");
		}
		r = ingest_time(f, &fld[cols[CSV_TIME]], cols[CSV_TIME] + 1,
				"timestamp", &t);
		if (r == INGEST_OK)
			r = ingest_value(f, &fld[cols[CSV_VALUE]],
					 cols[CSV_VALUE] + 1, "value", 0, &v);
		if (r == INGEST_STOP)
			break;
		if (r == INGEST_OK && bsp_batch_sample(f->batch, last.sid, t, v) < 0)
			return ingest_fail(f, BSP_ENOMEM, "out of memory");
	}
	return f->aborted ? BSP_EINVAL : BSP_OK;
}
