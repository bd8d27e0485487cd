/*
 * The persona catalog: YAML read by libcyaml against a schema, so that the
 * structure is checked while it is parsed and an error points at the
 * line and column where it happened.
 *
 * libcyaml reports problems through its log callback: a message, then a
 * backtrace whose lines carry "(line: L, column: C)". The callback here
 * keeps the first message and the first position into a bounded buffer;
 * the loader then reports "FILE:LINE:COLUMN: message". Values the schema
 * cannot express (profiles in 0..1, unique names, a non-empty stack) are
 * checked after the load, naming the persona.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <cyaml/cyaml.h>

#include "internal.h"
#include "persona_int.h"

static const cyaml_schema_value_t per_string = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 4096),
};
static const cyaml_schema_value_t per_double = {
	CYAML_VALUE_FLOAT(CYAML_FLAG_DEFAULT, double),
};

static const cyaml_schema_field_t per_dataset_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER,
			       struct bsp_persona_dataset, name, 1, 256),
	CYAML_FIELD_FLOAT("size_gb", CYAML_FLAG_DEFAULT,
			  struct bsp_persona_dataset, size_gb),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t per_dataset = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct bsp_persona_dataset,
			    per_dataset_fields),
};

static const cyaml_schema_field_t per_persona_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct bsp_persona,
			       name, 1, 64),
	CYAML_FIELD_STRING_PTR("title", CYAML_FLAG_POINTER, struct bsp_persona,
			       title, 1, 256),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER,
			       struct bsp_persona, description, 1, 8192),
	CYAML_FIELD_SEQUENCE("software", CYAML_FLAG_POINTER,
			     struct bsp_persona, software, &per_string, 1,
			     1024),
	CYAML_FIELD_SEQUENCE("datasets", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			     struct bsp_persona, datasets, &per_dataset, 0,
			     256),
	CYAML_FIELD_SEQUENCE_FIXED("daily", CYAML_FLAG_DEFAULT,
				   struct bsp_persona, daily, &per_double, 24),
	CYAML_FIELD_SEQUENCE_FIXED("weekly", CYAML_FLAG_DEFAULT,
				   struct bsp_persona, weekly, &per_double, 7),
	CYAML_FIELD_UINT("cores", CYAML_FLAG_DEFAULT, struct bsp_persona,
			 cores),
	CYAML_FIELD_FLOAT("memory_gb", CYAML_FLAG_DEFAULT, struct bsp_persona,
			  memory_gb),
	CYAML_FIELD_SEQUENCE("sysctls", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			     struct bsp_persona, sysctls, &per_string, 0, 256),
	CYAML_FIELD_SEQUENCE("services",
			     CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			     struct bsp_persona, services, &per_string, 0, 256),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t per_persona = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct bsp_persona,
			    per_persona_fields),
};

static const cyaml_schema_field_t per_catalog_fields[] = {
	CYAML_FIELD_UINT("version", CYAML_FLAG_DEFAULT,
			 struct bsp_persona_catalog, version),
	CYAML_FIELD_SEQUENCE("personas", CYAML_FLAG_POINTER,
			     struct bsp_persona_catalog, personas,
			     &per_persona, 1, 256),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t per_catalog = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct bsp_persona_catalog,
			    per_catalog_fields),
};

/* What the log callback keeps: the first message and position. */
struct per_log {
	char msg[256];
	long line, column;
};

static void per_log_fn(cyaml_log_t level, void *ctx, const char *fmt,
		       va_list args)
{
	struct per_log *lg = ctx;
	char buf[256];
	const char *p;
	long l, c;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(buf, sizeof(buf), fmt, args);
	buf[strcspn(buf, "\n")] = '\0';
	if ((p = strstr(buf, "(line: ")) &&
	    sscanf(p, "(line: %ld, column: %ld)", &l, &c) == 2) {
		if (!lg->line) {
			lg->line = l;
			lg->column = c;
		}
		return;
	}
	if (!lg->msg[0] && strstr(buf, "Backtrace") == NULL) {
		/* "Load: Invalid value..." → "Invalid value..." */
		const char *m = strncmp(buf, "Load: ", 6) ? buf : buf + 6;
		snprintf(lg->msg, sizeof(lg->msg), "%s", m);
	}
}

static const cyaml_config_t *per_config(struct per_log *lg,
					cyaml_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_fn = per_log_fn;
	cfg->log_ctx = lg;
	cfg->mem_fn = cyaml_mem;
	cfg->log_level = CYAML_LOG_ERROR;
	cfg->flags = CYAML_CFG_DEFAULT;
	return cfg;
}

void bsp_persona_catalog_free(struct bsp_persona_catalog *cat)
{
	struct per_log lg = {{0}, 0, 0};
	cyaml_config_t cfg;
	if (cat)
		cyaml_free(per_config(&lg, &cfg), &per_catalog, cat, 0);
}

int bsp_persona_find(const struct bsp_persona_catalog *cat, const char *name)
{
	for (unsigned i = 0; i < cat->personas_count; i++)
		if (!strcmp(cat->personas[i].name, name))
			return (int)i;
	return -1;
}

static bsp_err per_check_profile(const char *path, const char *who,
				 const char *what, const double *v, size_t n,
				 struct bsp_error *err)
{
	double mx = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]) || v[i] < 0 || v[i] > 1)
			return bsp_error_set(err, BSP_EINVAL,
					     "%s: persona %s: %s[%zu] = %g is "
					     "not in 0..1",
					     path, who, what, i, v[i]);
		mx = fmax(mx, v[i]);
	}
	if (mx <= 0)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: persona %s: %s is all zero", path,
				     who, what);
	return BSP_OK;
}

bsp_err bsp_persona_catalog_load(const char *path,
				 struct bsp_persona_catalog **out,
				 struct bsp_error *err)
{
	struct per_log lg = {{0}, 0, 0};
	struct bsp_persona_catalog *cat = NULL;
	cyaml_config_t cfg;
	cyaml_err_t ce;
	FILE *fp;
	bsp_err r = BSP_OK;

	*out = NULL;
	/* libcyaml's own message for a missing file names no file. */
	if (!(fp = fopen(path, "r")))
		return bsp_error_set(err, BSP_ENOTFOUND, "%s: %s", path,
				     strerror(errno));
	fclose(fp);
	ce = cyaml_load_file(path, per_config(&lg, &cfg), &per_catalog,
			     (cyaml_data_t **)&cat, NULL);
	if (ce != CYAML_OK) {
		const char *m = lg.msg[0] ? lg.msg : cyaml_strerror(ce);
		if (lg.line)
			return bsp_error_set(err, BSP_EINVAL, "%s:%ld:%ld: %s",
					     path, lg.line, lg.column, m);
		return bsp_error_set(err, BSP_EINVAL, "%s: %s", path, m);
	}
	/* An empty document loads as nothing at all. */
	if (!cat)
		return bsp_error_set(err, BSP_EINVAL, "%s: empty catalog",
				     path);
	if (cat->version != 1) {
		r = bsp_error_set(err, BSP_EINVAL,
				  "%s: catalog version %u (this build reads 1)",
				  path, cat->version);
		goto out;
	}
	for (unsigned i = 0; i < cat->personas_count; i++) {
		const struct bsp_persona *p = &cat->personas[i];
		if (bsp_persona_find(cat, p->name) != (int)i) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s: persona %s appears twice", path,
					  p->name);
			goto out;
		}
		if ((r = per_check_profile(path, p->name, "daily", p->daily, 24,
					   err)) ||
		    (r = per_check_profile(path, p->name, "weekly", p->weekly,
					   7, err)))
			goto out;
		for (unsigned d = 0; d < p->datasets_count; d++)
			if (!(p->datasets[d].size_gb > 0)) {
				r = bsp_error_set(err, BSP_EINVAL,
						  "%s: persona %s: data set %s: "
						  "size_gb must be > 0",
						  path, p->name,
						  p->datasets[d].name);
				goto out;
			}
	}
out:
	if (r != BSP_OK)
		bsp_persona_catalog_free(cat);
	else
		*out = cat;
	return r;
}
