/*
 * Labelled training data for the workload classifier: vmtable-format CSV
 * files (Azure Public Dataset V1, Cortez et al. SOSP 2017), one VM a row.
 *
 * Only four columns matter: max_cpu, avg_cpu, p95_max_cpu and vm_category.
 * With the dataset's header they are found by name, so any file that keeps
 * those names works; without one, the dataset's positions (5 to 8) are
 * used. Lines are read into a bounded buffer; a longer line is an error,
 * as is a bad number or category, each with file:line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "classify_int.h"

#define CLS_LINE_MAX 8192
#define CLS_MAX_COLS 64
#define CLS_MAX_ROWS (10u * 1000 * 1000)

enum { COL_MAX, COL_AVG, COL_P95, COL_CAT, COL_N };
static const char *const cls_col_names[COL_N] = {
	"max_cpu", "avg_cpu", "p95_max_cpu", "vm_category",
};

void bsp_cls_data_release(struct bsp_cls_data *d)
{
	free(d->x);
	free(d->y);
	memset(d, 0, sizeof(*d));
}

/* Splits `line` at commas in place; returns the field count or -1. */
static int cls_split(char *line, char **f)
{
	int n = 0;
	char *p = line;

	for (;;) {
		if (n == CLS_MAX_COLS)
			return -1;
		f[n++] = p;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	return n;
}

static void cls_unquote(char **s)
{
	size_t len = strlen(*s);
	if (len >= 2 && (*s)[0] == '"' && (*s)[len - 1] == '"') {
		(*s)[len - 1] = '\0';
		(*s)++;
	}
}

bsp_err bsp_cls_load_vmtable(const char *path, struct bsp_cls_data *out,
			     size_t *skipped, struct bsp_error *err)
{
	FILE *fp;
	char *line = NULL, *f[CLS_MAX_COLS];
	int col[COL_N] = {5, 6, 7, 8};
	size_t lineno = 0, cap = 0, capx = 0, nskip = 0;
	bsp_err r = BSP_OK;

	memset(out, 0, sizeof(*out));
	if (skipped)
		*skipped = 0;
	if (!(fp = fopen(path, "r")))
		return bsp_error_set(err, errno == ENOENT ? BSP_ENOTFOUND
							  : BSP_EIO,
				     "%s: %s", path, strerror(errno));
	if (!(line = malloc(CLS_LINE_MAX))) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	while (fgets(line, CLS_LINE_MAX, fp)) {
		size_t len = strlen(line);
		lineno++;
		if (len == CLS_LINE_MAX - 1 && line[len - 1] != '\n' &&
		    !feof(fp)) {
			r = bsp_error_set(err, BSP_ELIMIT,
					  "%s:%zu: line longer than %d bytes",
					  path, lineno, CLS_LINE_MAX - 1);
			goto out;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		int nf = cls_split(line, f);
		if (nf < 0) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s:%zu: more than %d columns", path,
					  lineno, CLS_MAX_COLS);
			goto out;
		}
		for (int i = 0; i < nf; i++)
			cls_unquote(&f[i]);
		if (lineno == 1 && !strcmp(f[0], "vm_id")) {
			for (int c = 0; c < COL_N; c++) {
				col[c] = -1;
				for (int i = 0; i < nf; i++)
					if (!strcmp(f[i], cls_col_names[c]))
						col[c] = i;
				if (col[c] < 0) {
					r = bsp_error_set(
						err, BSP_EINVAL,
						"%s:1: header lacks column %s",
						path, cls_col_names[c]);
					goto out;
				}
			}
			continue;
		}
		int need = 0;
		for (int c = 0; c < COL_N; c++)
			need = col[c] > need ? col[c] : need;
		if (nf <= need) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s:%zu: expected at least %d columns, "
					  "found %d",
					  path, lineno, need + 1, nf);
			goto out;
		}
		const char *cat = f[col[COL_CAT]];
		int y;
		if (!strcmp(cat, "Interactive"))
			y = 1;
		else if (!strcmp(cat, "Delay-insensitive"))
			y = 0;
		else if (!strcmp(cat, "Unknown") || !*cat) {
			nskip++;
			continue;
		} else {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s:%zu: vm_category '%.40s' is not "
					  "Interactive, Delay-insensitive or "
					  "Unknown",
					  path, lineno, cat);
			goto out;
		}
		double v[3];
		for (int c = 0; c < 3; c++) {
			char *end;
			errno = 0;
			v[c] = strtod(f[col[c]], &end);
			if (end == f[col[c]] || *end || errno || !isfinite(v[c]) ||
			    v[c] < 0) {
				r = bsp_error_set(err, BSP_EINVAL,
						  "%s:%zu: %s '%.40s' is not a "
						  "number >= 0",
						  path, lineno, cls_col_names[c],
						  f[col[c]]);
				goto out;
			}
		}
		if (out->n == CLS_MAX_ROWS) {
			r = bsp_error_set(err, BSP_ELIMIT,
					  "%s:%zu: more than %u rows", path,
					  lineno, CLS_MAX_ROWS);
			goto out;
		}
		if (BSP_GROW(out->y, cap, out->n + 1) < 0) {
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		if (bsp_grow((void **)&out->x, &capx, out->n + 1,
			     sizeof(double) * BSP_CLS_NFEATURES) < 0) {
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		struct bsp_cls_features ft;
		cls_features_fill(v[0] / 100, v[1] / 100, v[2] / 100, &ft);
		memcpy(out->x + out->n * BSP_CLS_NFEATURES, ft.x, sizeof(ft.x));
		out->y[out->n++] = y;
	}
	if (ferror(fp)) {
		r = bsp_error_set(err, BSP_EIO, "%s: read error", path);
		goto out;
	}
	if (!out->n)
		r = bsp_error_set(err, BSP_EINVAL,
				  "%s: no labelled rows (Interactive or "
				  "Delay-insensitive)",
				  path);
out:
	if (r != BSP_OK)
		bsp_cls_data_release(out);
	else if (skipped)
		*skipped = nskip;
	free(line);
	fclose(fp);
	return r;
}
