/*
 * The component catalog (YAML, schema in docs/images.md).
 *
 * Read with libyaml's document API rather than a libcyaml schema: every
 * node keeps its start mark, and the rule parser needs the exact line and
 * column where a condition's text starts so that a mistake in a rule is
 * reported at its place in the file. The checks a schema would do (known
 * keys, types, required fields per kind) are done here by hand, each
 * naming FILE:LINE:COLUMN and the field. Paths a component writes are
 * checked against the same rules validation applies to the built layer
 * (img_path_problem), so a path traversal is refused at load time.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <yaml.h>

#include "image_int.h"

#define CAT_MAX_BYTES (8u << 20)
#define CAT_MAX_ITEMS 4096

static const char *const kind_names[BSP_COMP_KIND_COUNT] = {
	"package", "service", "sysctl", "file", "dataset", "network", "limits",
};

/* The module a kind belongs to unless the component says otherwise. */
static const enum bsp_image_module kind_module[BSP_COMP_KIND_COUNT] = {
	BSP_MOD_SOFTWARE, BSP_MOD_SERVICES,  BSP_MOD_RESOURCES, BSP_MOD_SERVICES,
	BSP_MOD_DATA,     BSP_MOD_NETWORK,   BSP_MOD_RESOURCES,
};

static const char *const module_names[BSP_MOD_COUNT] = {
	"resources", "software", "services", "data", "network",
};

/* Keys of `limits:` and where each goes (docs/images.md). */
static const char *const limit_keys[] = {
	"nofile",     "nproc",	     "memlock",	  "cpu_weight", "memory_high",
	"memory_max", "tasks_max", "scheduling_policy", "nice",	 NULL,
};

const char *bsp_comp_kind_name(enum bsp_comp_kind k)
{
	return (unsigned)k < BSP_COMP_KIND_COUNT ? kind_names[k] : "?";
}

const char *bsp_image_module_name(enum bsp_image_module m)
{
	return (unsigned)m < BSP_MOD_COUNT ? module_names[m] : "?";
}

struct cat_ctx {
	yaml_document_t *doc;
	const char *file;
	struct bsp_error *err;
};

static bsp_err cat_fail(struct cat_ctx *c, const yaml_node_t *n,
			const char *fmt, ...) BSP_PRINTF(3, 4);

static bsp_err cat_fail(struct cat_ctx *c, const yaml_node_t *n,
			const char *fmt, ...)
{
	char msg[BSP_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bsp_error_set(c->err, BSP_EINVAL, "%s:%zu:%zu: %s", c->file,
			     n ? n->start_mark.line + 1 : 0,
			     n ? n->start_mark.column + 1 : 0, msg);
}

static yaml_node_t *node(struct cat_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
						: NULL;
}

/* A scalar as a malloc'd string, or an error naming the field. */
static bsp_err get_str(struct cat_ctx *c, yaml_node_t *n, const char *field,
		       char **out)
{
	const char *s = scalar(n);
	if (!s)
		return cat_fail(c, n, "%s: expected a string", field);
	if (!*s)
		return cat_fail(c, n, "%s: must not be empty", field);
	free(*out);
	*out = strdup(s);
	return *out ? BSP_OK : bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
}

static bsp_err get_num(struct cat_ctx *c, yaml_node_t *n, const char *field,
		       double min, double max, double *out)
{
	const char *s = scalar(n);
	char *end;
	if (!s)
		return cat_fail(c, n, "%s: expected a number", field);
	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*out) || *out < min ||
	    *out > max)
		return cat_fail(c, n, "%s: expected a number from %g to %g, "
				      "found '%s'",
				field, min, max, s);
	return BSP_OK;
}

static bsp_err get_list(struct cat_ctx *c, yaml_node_t *n, const char *field,
			char ***out, size_t *count)
{
	yaml_node_item_t *it;
	if (n->type != YAML_SEQUENCE_NODE)
		return cat_fail(c, n, "%s: expected a list", field);
	size_t len = (size_t)(n->data.sequence.items.top -
			      n->data.sequence.items.start);
	*out = calloc(len ? len : 1, sizeof(**out));
	if (!*out)
		return bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
	*count = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		bsp_err rc = get_str(c, node(c, *it), field, &(*out)[*count]);
		if (rc)
			return rc;
		(*count)++;
	}
	return BSP_OK;
}

/* Parses a rule from a scalar node, positioned where its text starts. */
static bsp_err get_rule(struct cat_ctx *c, yaml_node_t *n, const char *field,
			enum bsp_rule_type want, struct bsp_rule **out)
{
	const char *s = scalar(n);
	unsigned line, col;
	if (!s)
		return cat_fail(c, n, "%s: expected a rule (a string)", field);
	line = (unsigned)n->start_mark.line + 1;
	col = (unsigned)n->start_mark.column + 1;
	switch (n->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		col++; /* past the quote */
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		line++; /* the text starts on the next line */
		col = 1;
		break;
	default:
		break;
	}
	bsp_rule_free(*out);
	*out = NULL;
	bsp_err rc = bsp_rule_parse(s, c->file, line, col, out, c->err);
	if (rc)
		return rc;
	if (bsp_rule_type(*out) != want)
		return cat_fail(c, n, "%s: expected %s", field,
				want == BSP_RULE_BOOL ? "a condition (true or false)"
						      : "a number");
	return BSP_OK;
}

static int name_ok(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	return 1;
}

/* Each mapping entry: key node, value node. */
#define MAP_EACH(c, n, kn, vn)                                               \
	for (yaml_node_pair_t *pr_ = (n)->data.mapping.pairs.start;         \
	     pr_ < (n)->data.mapping.pairs.top &&                          \
	     ((kn) = node((c), pr_->key), (vn) = node((c), pr_->value), 1); \
	     pr_++)

/* YAML allows a key twice and libyaml keeps both; a catalog must not. */
static bsp_err unique_keys(struct cat_ctx *c, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return BSP_OK;
	for (yaml_node_pair_t *a = n->data.mapping.pairs.start;
	     a < n->data.mapping.pairs.top; a++) {
		const char *ka = scalar(node(c, a->key));
		for (yaml_node_pair_t *b = n->data.mapping.pairs.start;
		     ka && b < a; b++) {
			const char *kb = scalar(node(c, b->key));
			if (kb && !strcmp(ka, kb))
				return cat_fail(c, node(c, a->key),
						"duplicate key '%s'", ka);
		}
	}
	return BSP_OK;
}

static bsp_err get_settings(struct cat_ctx *c, yaml_node_t *n,
			    const char *field, struct bsp_comp_setting **out,
			    size_t *count)
{
	yaml_node_t *k, *v;
	if (n->type != YAML_MAPPING_NODE)
		return cat_fail(c, n, "%s: expected a mapping of key: value",
				field);
	if (unique_keys(c, n))
		return BSP_EINVAL;
	size_t len = (size_t)(n->data.mapping.pairs.top -
			      n->data.mapping.pairs.start);
	*out = calloc(len ? len : 1, sizeof(**out));
	if (!*out)
		return bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
	*count = 0;
	MAP_EACH(c, n, k, v)
	{
		struct bsp_comp_setting *s = &(*out)[(*count)++];
		const char *key = scalar(k), *val = scalar(v);
		if (!key || !name_ok(key, "._-/"))
			return cat_fail(c, k, "%s: bad key", field);
		if (!val || strchr(val, '\n'))
			return cat_fail(c, v, "%s.%s: expected a one-line value",
					field, key);
		s->key = strdup(key);
		if (!s->key)
			return bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
		if (val[0] == '=') {
			/* A number computed from the profile, e.g. hugepages
			 * sized by the memory forecast. */
			bsp_err rc = bsp_rule_parse(
				val + 1, c->file, (unsigned)v->start_mark.line + 1,
				(unsigned)v->start_mark.column + 2 +
					(v->data.scalar.style !=
					 YAML_PLAIN_SCALAR_STYLE),
				&s->expr, c->err);
			if (rc)
				return rc;
			if (bsp_rule_type(s->expr) != BSP_RULE_NUM)
				return cat_fail(c, v, "%s.%s: expected a number",
						field, key);
		} else if (!(s->value = strdup(val))) {
			return bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
		}
	}
	return BSP_OK;
}

static bsp_err get_files(struct cat_ctx *c, yaml_node_t *n,
			 struct bsp_component *comp)
{
	yaml_node_item_t *it;
	if (n->type != YAML_SEQUENCE_NODE)
		return cat_fail(c, n, "files: expected a list");
	size_t len = (size_t)(n->data.sequence.items.top -
			      n->data.sequence.items.start);
	comp->files = calloc(len ? len : 1, sizeof(*comp->files));
	if (!comp->files)
		return bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *f = node(c, *it), *k, *v;
		struct bsp_comp_file *cf = &comp->files[comp->n_files++];
		bsp_err rc;
		cf->mode = 0644;
		if (f->type != YAML_MAPPING_NODE)
			return cat_fail(c, f, "files: expected a mapping with "
					      "path, content and mode");
		if (unique_keys(c, f))
			return BSP_EINVAL;
		MAP_EACH(c, f, k, v)
		{
			const char *key = scalar(k);
			if (key && !strcmp(key, "path")) {
				if ((rc = get_str(c, v, "files.path", &cf->path)))
					return rc;
				const char *why = img_path_problem(cf->path);
				if (why)
					return cat_fail(c, v, "files.path: '%s' %s",
							cf->path, why);
			} else if (key && !strcmp(key, "content")) {
				const char *s = scalar(v);
				if (!s)
					return cat_fail(c, v, "files.content: "
							      "expected text");
				free(cf->content);
				if (!(cf->content = strdup(s)))
					return bsp_error_set(c->err, BSP_ENOMEM,
							     "out of memory");
			} else if (key && !strcmp(key, "mode")) {
				const char *s = scalar(v);
				char *end;
				unsigned long m = s ? strtoul(s, &end, 8) : 0;
				if (!s || !*s || *end || m > 07777)
					return cat_fail(c, v, "files.mode: "
							      "expected octal "
							      "bits such as "
							      "\"0644\"");
				cf->mode = (unsigned)m;
			} else {
				return cat_fail(c, k, "files: unknown key '%s' "
						      "(expected path, content, "
						      "mode)",
						key ? key : "?");
			}
		}
		if (!cf->path || !cf->content)
			return cat_fail(c, f, "files: path and content are "
					      "required");
	}
	return BSP_OK;
}

static bsp_err get_services(struct cat_ctx *c, yaml_node_t *n,
			    struct bsp_component *comp)
{
	yaml_node_item_t *it;
	if (n->type != YAML_SEQUENCE_NODE)
		return cat_fail(c, n, "services: expected a list");
	size_t len = (size_t)(n->data.sequence.items.top -
			      n->data.sequence.items.start);
	comp->services = calloc(len ? len : 1, sizeof(*comp->services));
	if (!comp->services)
		return bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *s = node(c, *it), *k, *v;
		struct bsp_comp_service *sv = &comp->services[comp->n_services++];
		int state = -1;
		bsp_err rc;
		if (s->type != YAML_MAPPING_NODE)
			return cat_fail(c, s, "services: expected a mapping "
					      "with unit and state");
		if (unique_keys(c, s))
			return BSP_EINVAL;
		MAP_EACH(c, s, k, v)
		{
			const char *key = scalar(k), *val = scalar(v);
			if (key && !strcmp(key, "unit")) {
				if ((rc = get_str(c, v, "services.unit",
						  &sv->unit)))
					return rc;
				if (!name_ok(sv->unit, "@._:-") ||
				    !strchr(sv->unit, '.'))
					return cat_fail(c, v, "services.unit: "
							      "expected a systemd "
							      "unit name such as "
							      "foo.service");
			} else if (key && !strcmp(key, "state")) {
				state = val && !strcmp(val, "enable")	 ? 1
					: val && !strcmp(val, "disable") ? 0
									 : -2;
				if (state == -2)
					return cat_fail(c, v, "services.state: "
							      "expected enable "
							      "or disable");
			} else {
				return cat_fail(c, k, "services: unknown key "
						      "'%s' (expected unit, "
						      "state)",
						key ? key : "?");
			}
		}
		if (!sv->unit || state < 0)
			return cat_fail(c, s, "services: unit and state are "
					      "required");
		sv->enable = state;
	}
	return BSP_OK;
}

static bsp_err get_datasets(struct cat_ctx *c, yaml_node_t *n,
			    struct bsp_component *comp)
{
	yaml_node_item_t *it;
	if (n->type != YAML_SEQUENCE_NODE)
		return cat_fail(c, n, "datasets: expected a list");
	size_t len = (size_t)(n->data.sequence.items.top -
			      n->data.sequence.items.start);
	comp->datasets = calloc(len ? len : 1, sizeof(*comp->datasets));
	if (!comp->datasets)
		return bsp_error_set(c->err, BSP_ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *d = node(c, *it), *k, *v;
		struct bsp_comp_dataset *ds = &comp->datasets[comp->n_datasets++];
		bsp_err rc = BSP_OK;
		if (d->type != YAML_MAPPING_NODE)
			return cat_fail(c, d, "datasets: expected a mapping");
		if (unique_keys(c, d))
			return BSP_EINVAL;
		MAP_EACH(c, d, k, v)
		{
			const char *key = scalar(k);
			if (key && !strcmp(key, "url")) {
				rc = get_str(c, v, "datasets.url", &ds->url);
				if (!rc && strncmp(ds->url, "https://", 8) &&
				    strncmp(ds->url, "http://", 7))
					return cat_fail(c, v, "datasets.url: "
							      "expected http(s)://");
			} else if (key && !strcmp(key, "path")) {
				rc = get_str(c, v, "datasets.path", &ds->path);
				const char *why =
					rc ? NULL : img_path_problem(ds->path);
				if (why)
					return cat_fail(c, v, "datasets.path: "
							      "'%s' %s",
							ds->path, why);
			} else if (key && !strcmp(key, "size_mb")) {
				rc = get_num(c, v, "datasets.size_mb", 0, 1e9,
					     &ds->size_mb);
			} else if (key && !strcmp(key, "sha256")) {
				rc = get_str(c, v, "datasets.sha256",
					     &ds->sha256);
				if (!rc && (strlen(ds->sha256) != 64 ||
					    !name_ok(ds->sha256, "")))
					return cat_fail(c, v, "datasets.sha256: "
							      "expected 64 hex "
							      "digits");
			} else {
				return cat_fail(c, k, "datasets: unknown key "
						      "'%s' (expected url, path, "
						      "size_mb, sha256)",
						key ? key : "?");
			}
			if (rc)
				return rc;
		}
		if (!ds->url || !ds->path)
			return cat_fail(c, d, "datasets: url and path are "
					      "required");
	}
	return BSP_OK;
}

static bsp_err get_component(struct cat_ctx *c, yaml_node_t *n,
			     struct bsp_component *comp)
{
	yaml_node_t *k, *v, *kind_node = NULL;
	int module_set = 0;
	bsp_err rc = BSP_OK;

	if (n->type != YAML_MAPPING_NODE)
		return cat_fail(c, n, "components: expected a mapping");
	if (unique_keys(c, n))
		return BSP_EINVAL;
	comp->line = (unsigned)n->start_mark.line + 1;
	comp->kind = BSP_COMP_KIND_COUNT;
	MAP_EACH(c, n, k, v)
	{
		const char *key = scalar(k);
		if (!key)
			return cat_fail(c, k, "expected a key");
		if (!strcmp(key, "name")) {
			rc = get_str(c, v, "name", &comp->name);
			if (!rc && !name_ok(comp->name, "._-"))
				return cat_fail(c, v, "name: letters, digits, "
						      "'.', '_', '-' only");
		} else if (!strcmp(key, "description")) {
			rc = get_str(c, v, "description", &comp->description);
		} else if (!strcmp(key, "kind")) {
			const char *s = scalar(v);
			kind_node = v;
			for (unsigned i = 0; s && i < BSP_COMP_KIND_COUNT; i++)
				if (!strcmp(s, kind_names[i]))
					comp->kind = (enum bsp_comp_kind)i;
			if (comp->kind == BSP_COMP_KIND_COUNT)
				return cat_fail(c, v, "kind: expected package, "
						      "service, sysctl, file, "
						      "dataset, network or "
						      "limits");
		} else if (!strcmp(key, "module")) {
			const char *s = scalar(v);
			module_set = 0;
			for (unsigned i = 0; s && i < BSP_MOD_COUNT; i++)
				if (!strcmp(s, module_names[i])) {
					comp->module = (enum bsp_image_module)i;
					module_set = 1;
				}
			if (!module_set)
				return cat_fail(c, v, "module: expected resources, "
						      "software, services, data "
						      "or network");
		} else if (!strcmp(key, "condition")) {
			rc = get_rule(c, v, "condition", BSP_RULE_BOOL,
				      &comp->condition);
		} else if (!strcmp(key, "use")) {
			rc = get_rule(c, v, "use", BSP_RULE_NUM, &comp->use);
		} else if (!strcmp(key, "size_mb")) {
			rc = get_num(c, v, "size_mb", 0, 1e7, &comp->size_mb);
		} else if (!strcmp(key, "launch_seconds_saved")) {
			rc = get_num(c, v, "launch_seconds_saved", 0, 1e6,
				     &comp->launch_seconds_saved);
		} else if (!strcmp(key, "packages")) {
			rc = get_list(c, v, "packages", &comp->packages,
				      &comp->n_packages);
			for (size_t i = 0; !rc && i < comp->n_packages; i++)
				if (!islower((unsigned char)comp->packages[i][0]) &&
				    !isdigit((unsigned char)comp->packages[i][0]))
					return cat_fail(c, v, "packages: '%s' is "
							      "not a Debian package "
							      "name",
							comp->packages[i]);
				else if (!name_ok(comp->packages[i], "+.-"))
					return cat_fail(c, v, "packages: '%s' is "
							      "not a Debian package "
							      "name",
							comp->packages[i]);
		} else if (!strcmp(key, "services")) {
			rc = get_services(c, v, comp);
		} else if (!strcmp(key, "sysctl")) {
			rc = get_settings(c, v, "sysctl", &comp->sysctls,
					  &comp->n_sysctls);
		} else if (!strcmp(key, "limits")) {
			rc = get_settings(c, v, "limits", &comp->limits,
					  &comp->n_limits);
			for (size_t i = 0; !rc && i < comp->n_limits; i++) {
				size_t j;
				for (j = 0; limit_keys[j]; j++)
					if (!strcmp(limit_keys[j],
						    comp->limits[i].key))
						break;
				if (!limit_keys[j])
					return cat_fail(c, v, "limits: unknown "
							      "key '%s' (see "
							      "docs/images.md)",
							comp->limits[i].key);
			}
		} else if (!strcmp(key, "files")) {
			rc = get_files(c, v, comp);
		} else if (!strcmp(key, "datasets")) {
			rc = get_datasets(c, v, comp);
		} else if (!strcmp(key, "firewall")) {
			rc = get_list(c, v, "firewall", &comp->firewall,
				      &comp->n_firewall);
			for (size_t i = 0; !rc && i < comp->n_firewall; i++)
				if (strpbrk(comp->firewall[i], "\n;{}"))
					return cat_fail(c, v, "firewall: one "
							      "nftables rule per "
							      "item, without ';', "
							      "'{' or '}'");
		} else if (!strcmp(key, "proxy")) {
			rc = get_str(c, v, "proxy", &comp->proxy);
			if (!rc && strncmp(comp->proxy, "http://", 7) &&
			    strncmp(comp->proxy, "https://", 8))
				return cat_fail(c, v, "proxy: expected an "
						      "http(s):// URL");
			if (!rc && strpbrk(comp->proxy, " \n\"'"))
				return cat_fail(c, v, "proxy: no spaces or "
						      "quotes");
		} else if (!strcmp(key, "requires")) {
			rc = get_list(c, v, "requires", &comp->requires,
				      &comp->n_requires);
		} else if (!strcmp(key, "conflicts")) {
			rc = get_list(c, v, "conflicts", &comp->conflicts,
				      &comp->n_conflicts);
		} else {
			return cat_fail(c, k, "unknown key '%s'", key);
		}
		if (rc)
			return rc;
	}
	if (!comp->name)
		return cat_fail(c, n, "name: required");
	if (!kind_node)
		return cat_fail(c, n, "%s: kind: required", comp->name);
	if (!module_set)
		comp->module = kind_module[comp->kind];
	/* The content a kind needs. */
	static const char *const needs[BSP_COMP_KIND_COUNT] = {
		"packages", "services", "sysctl", "files", "datasets",
		"firewall or proxy", "limits",
	};
	int has[BSP_COMP_KIND_COUNT] = {
		comp->n_packages > 0,  comp->n_services > 0,
		comp->n_sysctls > 0,   comp->n_files > 0,
		comp->n_datasets > 0,  comp->n_firewall > 0 || comp->proxy,
		comp->n_limits > 0,
	};
	if (!has[comp->kind])
		return cat_fail(c, n, "%s: a %s component needs %s", comp->name,
				kind_names[comp->kind], needs[comp->kind]);
	if (comp->kind != BSP_COMP_PACKAGE && comp->n_packages)
		return cat_fail(c, n, "%s: packages belong in a package "
				      "component",
				comp->name);
	return BSP_OK;
}

static void component_release(struct bsp_component *c)
{
	size_t i;
	free(c->name);
	free(c->description);
	bsp_rule_free(c->condition);
	bsp_rule_free(c->use);
	for (i = 0; i < c->n_packages; i++)
		free(c->packages[i]);
	free(c->packages);
	for (i = 0; i < c->n_services; i++)
		free(c->services[i].unit);
	free(c->services);
	for (i = 0; i < c->n_sysctls; i++) {
		free(c->sysctls[i].key);
		free(c->sysctls[i].value);
		bsp_rule_free(c->sysctls[i].expr);
	}
	free(c->sysctls);
	for (i = 0; i < c->n_limits; i++) {
		free(c->limits[i].key);
		free(c->limits[i].value);
		bsp_rule_free(c->limits[i].expr);
	}
	free(c->limits);
	for (i = 0; i < c->n_files; i++) {
		free(c->files[i].path);
		free(c->files[i].content);
	}
	free(c->files);
	for (i = 0; i < c->n_datasets; i++) {
		free(c->datasets[i].url);
		free(c->datasets[i].path);
		free(c->datasets[i].sha256);
	}
	free(c->datasets);
	for (i = 0; i < c->n_firewall; i++)
		free(c->firewall[i]);
	free(c->firewall);
	free(c->proxy);
	for (i = 0; i < c->n_requires; i++)
		free(c->requires[i]);
	free(c->requires);
	for (i = 0; i < c->n_conflicts; i++)
		free(c->conflicts[i]);
	free(c->conflicts);
}

void bsp_component_catalog_free(struct bsp_component_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n; i++)
		component_release(&cat->items[i]);
	free(cat->items);
	free(cat->path);
	free(cat);
}

static int find_name(const struct bsp_component_catalog *cat, size_t upto,
		     const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (!strcmp(cat->items[i].name, name))
			return (int)i;
	return -1;
}

/* Names in requires/conflicts must exist; names must be unique. */
static bsp_err check_refs(struct cat_ctx *c, struct bsp_component_catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++) {
		struct bsp_component *it = &cat->items[i];
		if (find_name(cat, i, it->name) >= 0)
			return bsp_error_set(c->err, BSP_EINVAL,
					     "%s:%u: %s: a component of that "
					     "name comes earlier",
					     c->file, it->line, it->name);
		for (size_t k = 0; k < it->n_requires + it->n_conflicts; k++) {
			const char *r = k < it->n_requires
						? it->requires[k]
						: it->conflicts[k - it->n_requires];
			if (find_name(cat, cat->n, r) < 0)
				return bsp_error_set(
					c->err, BSP_EINVAL,
					"%s:%u: %s: %s '%s' is not in the "
					"catalog",
					c->file, it->line, it->name,
					k < it->n_requires ? "requires"
							   : "conflicts",
					r);
			if (!strcmp(r, it->name))
				return bsp_error_set(c->err, BSP_EINVAL,
						     "%s:%u: %s: names itself",
						     c->file, it->line, it->name);
		}
	}
	return BSP_OK;
}

bsp_err bsp_component_catalog_parse(const char *text, size_t len,
				    const char *name,
				    struct bsp_component_catalog **out,
				    struct bsp_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct cat_ctx c = {&doc, name ? name : "catalog", err};
	struct bsp_component_catalog *cat;
	yaml_node_t *root, *k, *v, *list = NULL;
	bsp_err rc = BSP_OK;
	int have_version = 0;

	*out = NULL;
	if (len > CAT_MAX_BYTES)
		return bsp_error_set(err, BSP_ELIMIT, "%s: larger than %u bytes",
				     c.file, CAT_MAX_BYTES);
	if (!yaml_parser_initialize(&parser))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = bsp_error_set(err, BSP_EINVAL, "%s:%zu:%zu: %s%s%s",
				   c.file, parser.problem_mark.line + 1,
				   parser.problem_mark.column + 1,
				   parser.problem ? parser.problem : "bad YAML",
				   parser.context ? " " : "",
				   parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return rc;
	}
	yaml_parser_delete(&parser);
	cat = calloc(1, sizeof(*cat));
	if (!cat || !(cat->path = strdup(c.file))) {
		free(cat);
		yaml_document_delete(&doc);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = cat_fail(&c, root, "expected a mapping with version and "
					"components");
		goto out;
	}
	if ((rc = unique_keys(&c, root)))
		goto out;
	MAP_EACH(&c, root, k, v)
	{
		const char *key = scalar(k);
		if (key && !strcmp(key, "version")) {
			double ver;
			if ((rc = get_num(&c, v, "version", 1, 1, &ver)))
				goto out;
			cat->version = 1;
			have_version = 1;
		} else if (key && !strcmp(key, "components")) {
			list = v;
		} else {
			rc = cat_fail(&c, k, "unknown key '%s' (expected version, "
					     "components)",
				      key ? key : "?");
			goto out;
		}
	}
	if (!have_version || !list) {
		rc = cat_fail(&c, root, "version: 1 and components are required");
		goto out;
	}
	if (list->type != YAML_SEQUENCE_NODE) {
		rc = cat_fail(&c, list, "components: expected a list");
		goto out;
	}
	size_t n = (size_t)(list->data.sequence.items.top -
			    list->data.sequence.items.start);
	if (n > CAT_MAX_ITEMS) {
		rc = cat_fail(&c, list, "components: more than %d", CAT_MAX_ITEMS);
		goto out;
	}
	cat->items = calloc(n ? n : 1, sizeof(*cat->items));
	if (!cat->items) {
		rc = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		rc = get_component(&c, node(&c, *it), &cat->items[cat->n++]);
		if (rc)
			goto out;
	}
	rc = check_refs(&c, cat);
out:
	yaml_document_delete(&doc);
	if (rc) {
		bsp_component_catalog_free(cat);
		return rc;
	}
	*out = cat;
	return BSP_OK;
}

bsp_err bsp_component_catalog_load(const char *path,
				   struct bsp_component_catalog **out,
				   struct bsp_error *err)
{
	struct img_buf b = {0};
	bsp_err rc;

	*out = NULL;
	if (img_read_file(path, CAT_MAX_BYTES, &b, err))
		return err ? err->code : BSP_EIO;
	rc = bsp_component_catalog_parse((const char *)b.p, b.len, path, out,
					 err);
	img_buf_release(&b);
	return rc;
}
