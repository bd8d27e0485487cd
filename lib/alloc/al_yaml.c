/*
 * YAML loading for the allocation files. libcyaml checks the structure
 * against a schema while it parses and reports problems through its log
 * callback: a message, then a backtrace whose lines carry "(line: L,
 * column: C)". The first message and the first position are kept so that
 * the error names FILE:LINE:COLUMN; the backtrace also names the field
 * ("in mapping field 'vcpu'"), which is kept too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "alloc_int.h"

static void al_log_fn(cyaml_log_t level, void *ctx, const char *fmt,
		      va_list args)
{
	struct al_log *lg = ctx;
	char buf[256];
	const char *p;
	long l, c;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(buf, sizeof(buf), fmt, args);
	buf[strcspn(buf, "\n")] = '\0';
	/* "  in mapping field 'vcpu'" names where the value was. */
	if ((p = strstr(buf, "in mapping field '")) && lg->msg[0] &&
	    !strstr(lg->msg, " (field ")) {
		size_t len = strlen(lg->msg);
		const char *q = p + 18, *e = strchr(q, '\'');
		if (e)
			snprintf(lg->msg + len, sizeof(lg->msg) - len,
				 " (field %.*s)", (int)(e - q), q);
	}
	if ((p = strstr(buf, "(line: ")) &&
	    sscanf(p, "(line: %ld, column: %ld)", &l, &c) == 2) {
		if (!lg->line) {
			lg->line = l;
			lg->column = c;
		}
		return;
	}
	if (!lg->msg[0] && !strstr(buf, "Backtrace")) {
		const char *m = strncmp(buf, "Load: ", 6) ? buf : buf + 6;
		snprintf(lg->msg, sizeof(lg->msg), "%s", m);
	}
}

const cyaml_config_t *al_yaml_config(struct al_log *lg, cyaml_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_fn = al_log_fn;
	cfg->log_ctx = lg;
	cfg->mem_fn = cyaml_mem;
	cfg->log_level = CYAML_LOG_ERROR;
	cfg->flags = CYAML_CFG_DEFAULT;
	return cfg;
}

bsp_err al_yaml_load(const char *path, const cyaml_schema_value_t *schema,
		     void **out, struct bsp_error *err)
{
	struct al_log lg = {{0}, 0, 0};
	cyaml_config_t cfg;
	cyaml_err_t ce;
	FILE *fp;

	*out = NULL;
	/* libcyaml's own message for a missing file names no file. */
	if (!(fp = fopen(path, "r")))
		return bsp_error_set(err, BSP_ENOTFOUND, "%s: %s", path,
				     strerror(errno));
	fclose(fp);
	ce = cyaml_load_file(path, al_yaml_config(&lg, &cfg), schema,
			     (cyaml_data_t **)out, NULL);
	if (ce != CYAML_OK) {
		const char *m = lg.msg[0] ? lg.msg : cyaml_strerror(ce);
		*out = NULL;
		if (lg.line)
			return bsp_error_set(err, BSP_EINVAL, "%s:%ld:%ld: %s",
					     path, lg.line, lg.column, m);
		return bsp_error_set(err, BSP_EINVAL, "%s: %s", path, m);
	}
	if (!*out)
		return bsp_error_set(err, BSP_EINVAL, "%s: empty document",
				     path);
	return BSP_OK;
}

double al_limit(const struct bsp_alloc_limits *l, enum bsp_res r)
{
	switch (r) {
	case BSP_RES_CPU:
		return l->vcpu;
	case BSP_RES_MEM:
		return l->memory_gib;
	case BSP_RES_IOPS:
		return l->iops;
	case BSP_RES_MBPS:
		return l->mbps;
	case BSP_RES_NET:
		return l->network_gbps;
	case BSP_RES_N:
		break;
	}
	return 0;
}

static const struct {
	const char *name, *unit;
} al_res[BSP_RES_N] = {
    [BSP_RES_CPU] = {"cpu", "vCPU"},
    [BSP_RES_MEM] = {"memory", "GiB"},
    [BSP_RES_IOPS] = {"iops", "IOPS"},
    [BSP_RES_MBPS] = {"disk_mbps", "MB/s"},
    [BSP_RES_NET] = {"network", "Gbit/s"},
};

const char *bsp_res_name(enum bsp_res r)
{
	return (unsigned)r < BSP_RES_N ? al_res[r].name : "?";
}

const char *bsp_res_unit(enum bsp_res r)
{
	return (unsigned)r < BSP_RES_N ? al_res[r].unit : "?";
}

void al_fmt_amount(enum bsp_res r, double v, char *buf, size_t size)
{
	if (v >= 100)
		snprintf(buf, size, "%.0f %s", v, bsp_res_unit(r));
	else
		snprintf(buf, size, "%.3g %s", v, bsp_res_unit(r));
}
