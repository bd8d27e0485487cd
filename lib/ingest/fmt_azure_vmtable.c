/*
 * Azure Public Dataset V1 vmtable (Cortez et al., "Resource Central",
 * SOSP 2017): one row per VM,
 *
 *   vm_id,subscription_id,deployment_id,timestamp_vm_created,
 *   timestamp_vm_deleted,max_cpu,avg_cpu,p95_max_cpu,vm_category,
 *   vm_virtual_core_count_bucket,vm_memory_gb_bucket[,duration]
 *
 * The published files have no header; extracts often add one, so a first
 * line starting with "vm_id" is skipped. Rows carry no time series: each
 * becomes entity attributes (the VM's labelled workload category and CPU
 * summaries are what the classifiers learn from), keyed as in the table
 * below, plus source=azure-v1. Numeric columns are checked (a bad one is a
 * bad value and its attribute is left out) but stored as written.
 */
#include "ingest_int.h"

#define VT_MIN_COLUMNS 11
#define VT_MAX_COLUMNS 12

/* Column → attribute key; numeric columns must hold a non-negative number. */
static const struct {
	const char *key;
	int numeric;
} vt_cols[VT_MAX_COLUMNS] = {
	{NULL, 0}, /* vm_id: the entity */
	{"subscription", 0},
	{"deployment", 0},
	{"created", 1},
	{"deleted", 1},
	{"max_cpu", 1},
	{"avg_cpu", 1},
	{"p95_max_cpu", 1},
	{"category", 0},
	{"cores_bucket", 0},
	{"memory_gb_bucket", 0},
	{"duration", 1},
};

static const char vt_header[] = "vm_id,subscription_id,";

static int is_category(const struct ingest_field *f)
{
	return ingest_field_is(f, "Interactive") ||
	       ingest_field_is(f, "Delay-insensitive") ||
	       ingest_field_is(f, "Unknown");
}

static int vt_line_ok(const char *line, size_t n)
{
	struct ingest_field fld[VT_MAX_COLUMNS + 1];
	int k = ingest_split(NULL, line, n, ',', fld, VT_MAX_COLUMNS + 1);

	return k >= VT_MIN_COLUMNS && k <= VT_MAX_COLUMNS &&
	       is_category(&fld[8]) && ingest_is_number(fld[5].p, fld[5].n);
}

int fmt_azure_vmtable_detect(const char *head, size_t len, const char *path)
{
	const char *line;
	size_t n;

	BSP_UNUSED(path);
	if (ingest_head_first(head, len, &line, &n) &&
	    n >= sizeof(vt_header) - 1 &&
	    !memcmp(line, vt_header, sizeof(vt_header) - 1))
		return 100;
	return ingest_detect_lines(head, len, vt_line_ok, 90);
}

bsp_err fmt_azure_vmtable_parse(struct ingest_file *f)
{
	struct ingest_field fld[VT_MAX_COLUMNS + 1];
	char vm[INGEST_MAX_NAME], val[INGEST_MAX_NAME];
	const char *line;
	size_t len;
	int first = 1;

	while ((line = ingest_next_line(f, &len))) {
		int n = ingest_split(f, line, len, ',', fld,
				     VT_MAX_COLUMNS + 1);
		int r;

		if (first) {
			first = 0;
			if (n > 0 && ingest_field_is(&fld[0], "vm_id")) {
				ingest_not_data(f);
				continue;
			}
		}
		if (n < VT_MIN_COLUMNS || n > VT_MAX_COLUMNS) {
			if (n < 0 ? ingest_bad(f, "unbalanced double quotes")
				  : ingest_bad(f, "expected %d or %d columns, "
						  "found %d",
					       VT_MIN_COLUMNS, VT_MAX_COLUMNS,
					       n))
				break;
			continue;
		}
		r = ingest_name(f, &fld[0], 1, "vm_id", vm);
		if (r == INGEST_STOP)
			break;
		if (r != INGEST_OK)
			continue;
		for (int c = 1; c < n; c++) {
			if (vt_cols[c].numeric) {
				double v;
				r = ingest_value(f, &fld[c], c + 1,
						 vt_cols[c].key, INGEST_NONNEG,
						 &v);
				if (r == INGEST_STOP)
					goto out;
				if (r != INGEST_OK)
					continue;
			} else if (fld[c].n == 0) {
				continue; /* unknown: no attribute */
			} else if (fld[c].n >= sizeof(val)) {
				if (ingest_bad_value(f, "column %d (%s): "
							"longer than %zu bytes",
						     c + 1, vt_cols[c].key,
						     sizeof(val) - 1))
					goto out;
				continue;
			}
			ingest_field_str(&fld[c], val, sizeof(val));
			if (bsp_batch_attr(f->batch, vm, vt_cols[c].key, val) <
			    0)
				return ingest_fail(f, BSP_ENOMEM,
						   "out of memory");
		}
		if (bsp_batch_attr(f->batch, vm, "source", "azure-v1") < 0)
			return ingest_fail(f, BSP_ENOMEM, "out of memory");
	}
out:
	return f->aborted ? BSP_EINVAL : BSP_OK;
}
