/*
 * What a plan puts into the image: the chosen components turned into
 * files in the places Debian and systemd read them from, and the layer
 * tar that holds them.
 *
 *   sysctl           /etc/sysctl.d/90-bespoke.conf (systemd-sysctl, boot)
 *   limits           /etc/security/limits.d/90-bespoke.conf (pam_limits:
 *                    nofile, nproc, memlock); user-.slice.d drop-in
 *                    (CPUWeight, MemoryHigh, MemoryMax, TasksMax for every
 *                    user's slice); user@.service.d drop-in
 *                    (CPUSchedulingPolicy, Nice for the user's processes)
 *   firewall         /etc/bespoke/firewall.nft (a table of its own)
 *   proxy            /etc/environment.d/90-bespoke-proxy.conf and
 *                    /etc/apt/apt.conf.d/90bespoke-proxy
 *   first boot       packages.list, services.list, datasets.list under
 *                    /etc/bespoke, run once by bespoke-firstboot.service
 *   record           /etc/bespoke/image.json: the entity, profile version,
 *                    components taken and why
 *
 * Packages are listed for installation at first boot because no package
 * builder runs during `image build` (docs/images.md says how to read it).
 */
#include <math.h>
#include <ctype.h>
#include <stdio.h>

#include "image_int.h"

static const char firstboot_script[] =
	"#!/bin/sh\n"
	"# Finishes a bespoke personalization on the first boot: what an image\n"
	"# layer cannot do (install packages, switch services, fetch data).\n"
	"set -u\n"
	"stamp=/var/lib/bespoke/firstboot.done\n"
	"[ -e \"$stamp\" ] && exit 0\n"
	"status=0\n"
	"if [ -s /etc/bespoke/packages.list ]; then\n"
	"\texport DEBIAN_FRONTEND=noninteractive\n"
	"\tapt-get update || status=1\n"
	"\txargs -a /etc/bespoke/packages.list apt-get install -y "
	"--no-install-recommends || status=1\n"
	"fi\n"
	"if [ -s /etc/bespoke/services.list ]; then\n"
	"\twhile read -r action unit; do\n"
	"\t\tsystemctl \"$action\" --now \"$unit\" || status=1\n"
	"\tdone </etc/bespoke/services.list\n"
	"fi\n"
	"if [ -s /etc/bespoke/datasets.list ]; then\n"
	"\twhile read -r url path sum; do\n"
	"\t\tmkdir -p \"$(dirname \"$path\")\"\n"
	"\t\tcurl -fsSL -o \"$path.part\" \"$url\" || { status=1; continue; }\n"
	"\t\tif [ \"$sum\" != - ] && ! echo \"$sum  $path.part\" | "
	"sha256sum -c - >/dev/null; then\n"
	"\t\t\trm -f \"$path.part\"; status=1; continue\n"
	"\t\tfi\n"
	"\t\tmv \"$path.part\" \"$path\"\n"
	"\tdone </etc/bespoke/datasets.list\n"
	"fi\n"
	"[ -s /etc/bespoke/firewall.nft ] && { nft -f /etc/bespoke/firewall.nft "
	"|| status=1; }\n"
	"sysctl --system >/dev/null 2>&1 || true\n"
	"# Only a complete run is final; otherwise the next boot retries.\n"
	"[ \"$status\" = 0 ] && mkdir -p /var/lib/bespoke && touch \"$stamp\"\n"
	"exit \"$status\"\n";

static const char firstboot_unit[] =
	"[Unit]\n"
	"Description=bespoke first-boot personalization\n"
	"Wants=network-online.target\n"
	"After=network-online.target\n"
	"ConditionPathExists=!/var/lib/bespoke/firstboot.done\n"
	"\n"
	"[Service]\n"
	"Type=oneshot\n"
	"ExecStart=/usr/local/sbin/bespoke-firstboot\n"
	"RemainAfterExit=yes\n"
	"\n"
	"[Install]\n"
	"WantedBy=multi-user.target\n";

#define FIRSTBOOT_UNIT "/etc/systemd/system/bespoke-firstboot.service"

static int add_file(struct bsp_image_plan *pl, const char *path,
		    const char *content, size_t len, unsigned mode,
		    const char *link, const char *component,
		    struct bsp_error *err)
{
	for (size_t i = 0; i < pl->n_files; i++)
		if (!strcmp(pl->files[i].path, path)) {
			bsp_error_set(err, BSP_EINVAL,
				      "%s: written by both %s and %s", path,
				      pl->files[i].component, component);
			return -1;
		}
	struct bsp_plan_file *f;
	size_t cap = pl->n_files; /* grown one at a time: plans are small */
	f = realloc(pl->files, (cap + 1) * sizeof(*f));
	if (!f)
		goto oom;
	pl->files = f;
	f = &pl->files[pl->n_files];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->content = malloc(len + 1);
	f->component = strdup(component);
	f->link = link ? strdup(link) : NULL;
	if (!f->path || !f->content || !f->component || (link && !f->link)) {
		free(f->path);
		free(f->content);
		free(f->component);
		free(f->link);
		goto oom;
	}
	memcpy(f->content, content, len);
	f->content[len] = '\0';
	f->len = len;
	f->mode = mode;
	pl->n_files++;
	return 0;
oom:
	bsp_error_set(err, BSP_ENOMEM, "out of memory");
	return -1;
}

static int add_name(char ***list, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], name))
			return 0;
	char **l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l)
		return -1;
	*list = l;
	if (!(l[*n] = strdup(name)))
		return -1;
	(*n)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct bsp_plan_file *)a)->path,
		      ((const struct bsp_plan_file *)b)->path);
}

static int cmp_setting(const void *a, const void *b)
{
	return strcmp(((const struct bsp_comp_setting *)a)->key,
		      ((const struct bsp_comp_setting *)b)->key);
}

/* A setting's value: the literal, or its expression rounded to a whole,
 * non-negative number. */
static char *setting_value(const struct bsp_comp_setting *s,
			   const struct bsp_image_profile *p)
{
	char *v = NULL;
	if (s->value)
		return strdup(s->value);
	struct bsp_rule_value rv;
	bsp_rule_eval(s->expr, p, &rv, NULL, 0);
	double x = isfinite(rv.num) && rv.num > 0 ? floor(rv.num + 0.5) : 0;
	if (x > 9e15)
		x = 9e15;
	if (asprintf(&v, "%.0f", x) < 0)
		return NULL;
	return v;
}

struct gathered {
	struct bsp_comp_setting *limits;
	size_t n_limits;
	const char **limit_from;
	struct img_buf firewall;
	const char *proxy, *proxy_from;
	const char **sysctl_from;
};

static int set_unique(struct bsp_comp_setting **arr, size_t *n,
		      const char ***from, const struct bsp_comp_setting *s,
		      const char *comp, const struct bsp_image_profile *p,
		      const char *what, struct bsp_error *err)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*arr)[i].key, s->key)) {
			bsp_error_set(err, BSP_EINVAL,
				      "%s %s: set by both %s and %s", what,
				      s->key, (*from)[i], comp);
			return -1;
		}
	struct bsp_comp_setting *a = realloc(*arr, (*n + 1) * sizeof(*a));
	const char **f = a ? realloc(*from, (*n + 1) * sizeof(*f)) : NULL;
	if (a)
		*arr = a;
	if (f)
		*from = f;
	if (!a || !f)
		goto oom;
	memset(&a[*n], 0, sizeof(a[*n]));
	a[*n].key = strdup(s->key);
	a[*n].value = setting_value(s, p);
	f[*n] = comp;
	(*n)++;
	if (!a[*n - 1].key || !a[*n - 1].value)
		goto oom;
	return 0;
oom:
	bsp_error_set(err, BSP_ENOMEM, "out of memory");
	return -1;
}

static const char *limit_get(const struct gathered *g, const char *key)
{
	for (size_t i = 0; i < g->n_limits; i++)
		if (!strcmp(g->limits[i].key, key))
			return g->limits[i].value;
	return NULL;
}

/* The generated files that depend on several components. */
static int gen_files(struct bsp_image_plan *pl, struct gathered *g,
		     struct bsp_error *err)
{
	struct img_buf b = {0};
	int rc = -1;
	size_t i;

#define EMIT(path, mode)                                                      \
	do {                                                                  \
		if (add_file(pl, path, b.len ? (char *)b.p : "", b.len, mode, \
			     NULL, "bespoke", err))                           \
			goto out;                                             \
		b.len = 0;                                                    \
	} while (0)

	if (pl->n_sysctls) {
		img_buf_printf(&b, "# bespoke: kernel settings of this image\n");
		for (i = 0; i < pl->n_sysctls; i++)
			img_buf_printf(&b, "%s = %s\n", pl->sysctls[i].key,
				       pl->sysctls[i].value);
		EMIT("/etc/sysctl.d/90-bespoke.conf", 0644);
	}
	static const char *const pam[][2] = {
		{"nofile", "nofile"}, {"nproc", "nproc"}, {"memlock", "memlock"}};
	for (i = 0; i < BSP_ARRAY_LEN(pam); i++) {
		const char *v = limit_get(g, pam[i][0]);
		if (v)
			img_buf_printf(&b, "*\tsoft\t%s\t%s\n*\thard\t%s\t%s\n",
				       pam[i][1], v, pam[i][1], v);
	}
	if (b.len)
		EMIT("/etc/security/limits.d/90-bespoke.conf", 0644);
	static const char *const slice[][2] = {{"cpu_weight", "CPUWeight"},
					       {"memory_high", "MemoryHigh"},
					       {"memory_max", "MemoryMax"},
					       {"tasks_max", "TasksMax"}};
	for (i = 0; i < BSP_ARRAY_LEN(slice); i++) {
		const char *v = limit_get(g, slice[i][0]);
		if (v)
			img_buf_printf(&b, "%s%s=%s\n", b.len ? "" : "[Slice]\n",
				       slice[i][1], v);
	}
	if (b.len)
		EMIT("/etc/systemd/system/user-.slice.d/90-bespoke.conf", 0644);
	const char *pol = limit_get(g, "scheduling_policy");
	const char *nice = limit_get(g, "nice");
	if (pol || nice) {
		img_buf_printf(&b, "[Service]\n");
		if (pol)
			img_buf_printf(&b, "CPUSchedulingPolicy=%s\n", pol);
		if (nice)
			img_buf_printf(&b, "Nice=%s\n", nice);
		EMIT("/etc/systemd/system/user@.service.d/90-bespoke.conf", 0644);
	}
	if (g->firewall.len) {
		img_buf_printf(&b, "table inet bespoke {\n\tchain input {\n"
				   "\t\ttype filter hook input priority 0; "
				   "policy accept;\n%s\t}\n}\n",
			       (char *)g->firewall.p);
		EMIT("/etc/bespoke/firewall.nft", 0644);
	}
	if (g->proxy) {
		img_buf_printf(&b, "http_proxy=%s\nhttps_proxy=%s\n", g->proxy,
			       g->proxy);
		EMIT("/etc/environment.d/90-bespoke-proxy.conf", 0644);
		img_buf_printf(&b, "Acquire::http::Proxy \"%s\";\n"
				   "Acquire::https::Proxy \"%s\";\n",
			       g->proxy, g->proxy);
		EMIT("/etc/apt/apt.conf.d/90bespoke-proxy", 0644);
	}
	for (i = 0; !pl->packages_installed && i < pl->n_packages; i++)
		img_buf_printf(&b, "%s\n", pl->packages[i]);
	if (b.len)
		EMIT("/etc/bespoke/packages.list", 0644);
	for (i = 0; i < pl->n_enable; i++)
		img_buf_printf(&b, "enable %s\n", pl->enable[i]);
	for (i = 0; i < pl->n_disable; i++)
		img_buf_printf(&b, "disable %s\n", pl->disable[i]);
	if (b.len)
		EMIT("/etc/bespoke/services.list", 0644);
	for (i = 0; i < pl->n_datasets; i++)
		img_buf_printf(&b, "%s %s %s\n", pl->datasets[i].url,
			       pl->datasets[i].path,
			       pl->datasets[i].sha256 ? pl->datasets[i].sha256
						      : "-");
	if (b.len)
		EMIT("/etc/bespoke/datasets.list", 0644);
	if ((pl->n_packages && !pl->packages_installed) || pl->n_enable ||
	    pl->n_disable || pl->n_datasets || g->firewall.len) {
		if (add_file(pl, "/usr/local/sbin/bespoke-firstboot",
			     firstboot_script, sizeof(firstboot_script) - 1,
			     0755, NULL, "bespoke", err) ||
		    add_file(pl, FIRSTBOOT_UNIT, firstboot_unit,
			     sizeof(firstboot_unit) - 1, 0644, NULL, "bespoke",
			     err) ||
		    add_file(pl, "/etc/systemd/system/multi-user.target.wants/"
				 "bespoke-firstboot.service",
			     "", 0, 0777, FIRSTBOOT_UNIT, "bespoke", err))
			goto out;
	}
	rc = 0;
out:
	img_buf_release(&b);
	return rc;
#undef EMIT
}

/* /etc/bespoke/image.json: what this image is and why. */
static int gen_record(struct bsp_image_plan *pl, struct bsp_error *err)
{
	json_t *o = json_object(), *comps = json_array(), *pk = json_array();
	char *text;
	int rc;

	if (!o || !comps || !pk) {
		json_decref(o);
		json_decref(comps);
		json_decref(pk);
		bsp_error_set(err, BSP_ENOMEM, "out of memory");
		return -1;
	}
	json_object_set_new(o, "format", json_string("bespoke-image"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "entity", json_string(pl->entity));
	json_object_set_new(o, "profile_version", json_integer(pl->profile_version));
	json_object_set_new(o, "models", json_string(pl->models));
	for (size_t i = 0; i < pl->n_items; i++) {
		if (!pl->items[i].chosen)
			continue;
		json_t *c = json_object();
		json_object_set_new(c, "name", json_string(pl->items[i].comp->name));
		json_object_set_new(c, "module",
				    json_string(bsp_image_module_name(pl->items[i].module)));
		json_object_set_new(c, "reason", json_string(pl->items[i].reason));
		json_array_append_new(comps, c);
	}
	for (size_t i = 0; i < pl->n_packages; i++)
		json_array_append_new(pk, json_string(pl->packages[i]));
	json_object_set_new(o, "components", comps);
	json_object_set_new(o, "packages_first_boot", pk);
	text = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2));
	json_decref(o);
	if (!text) {
		bsp_error_set(err, BSP_ENOMEM, "out of memory");
		return -1;
	}
	size_t len = strlen(text);
	text[len] = '\0';
	rc = add_file(pl, "/etc/bespoke/image.json", text, len, 0644, NULL,
		      "bespoke", err);
	free(text);
	return rc;
}

/* A Debian package name (Policy 5.6.1): lowercase letters, digits and
 * + - . , at least two characters, starting with a letter or digit. */
static int debian_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 128 || !(islower((unsigned char)s[0]) ||
				  isdigit((unsigned char)s[0])))
		return 0;
	for (const char *c = s; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) ||
		      *c == '+' || *c == '-' || *c == '.'))
			return 0;
	return 1;
}

bsp_err img_plan_outputs(struct bsp_image_plan *pl,
			 const struct bsp_image_plan_options *opt,
			 const struct bsp_image_profile *p,
			 struct bsp_error *err)
{
	struct gathered g = {0};
	size_t n_ds = 0;
	int rc = -1;

	for (size_t i = 0; i < pl->n_items; i++)
		if (pl->items[i].chosen)
			n_ds += pl->items[i].comp->n_datasets;
	pl->datasets = calloc(n_ds + 1, sizeof(*pl->datasets));
	if (!pl->datasets)
		goto oom;
	for (size_t i = 0; i < pl->n_items; i++) {
		const struct bsp_component *c = pl->items[i].comp;
		size_t k;
		if (!pl->items[i].chosen)
			continue;
		for (k = 0; k < c->n_packages; k++)
			if (add_name(&pl->packages, &pl->n_packages, c->packages[k]))
				goto oom;
		for (k = 0; k < c->n_services; k++) {
			const char *u = c->services[k].unit;
			char **other = c->services[k].enable ? pl->disable : pl->enable;
			size_t n_other = c->services[k].enable ? pl->n_disable
							       : pl->n_enable;
			for (size_t j = 0; j < n_other; j++)
				if (!strcmp(other[j], u)) {
					bsp_error_set(err, BSP_EINVAL,
						      "%s: %s: both enabled and "
						      "disabled by the plan",
						      c->name, u);
					goto out;
				}
			if (c->services[k].enable
				    ? add_name(&pl->enable, &pl->n_enable, u)
				    : add_name(&pl->disable, &pl->n_disable, u))
				goto oom;
		}
		for (k = 0; k < c->n_sysctls; k++)
			if (set_unique(&pl->sysctls, &pl->n_sysctls,
				       &g.sysctl_from, &c->sysctls[k], c->name,
				       p, "sysctl", err))
				goto out;
		for (k = 0; k < c->n_limits; k++)
			if (set_unique(&g.limits, &g.n_limits, &g.limit_from,
				       &c->limits[k], c->name, p, "limit", err))
				goto out;
		for (k = 0; k < c->n_files; k++)
			if (add_file(pl, c->files[k].path, c->files[k].content,
				     strlen(c->files[k].content),
				     c->files[k].mode, NULL, c->name, err))
				goto out;
		for (k = 0; k < c->n_datasets; k++)
			pl->datasets[pl->n_datasets++] = c->datasets[k];
		for (k = 0; k < c->n_firewall; k++)
			if (img_buf_printf(&g.firewall, "\t\t%s # %s\n",
					   c->firewall[k], c->name))
				goto oom;
		if (c->proxy) {
			if (g.proxy && strcmp(g.proxy, c->proxy)) {
				bsp_error_set(err, BSP_EINVAL,
					      "proxy: set by both %s and %s",
					      g.proxy_from, c->name);
				goto out;
			}
			g.proxy = c->proxy;
			g.proxy_from = c->name;
		}
	}
	pl->packages_installed = opt && opt->install;
	/* Software asked for by name goes in whatever the rules said. */
	for (size_t k = 0; opt && k < opt->n_packages; k++) {
		if (!debian_name(opt->packages[k])) {
			bsp_error_set(err, BSP_EINVAL,
				      "package '%.64s': not a Debian package "
				      "name",
				      opt->packages[k]);
			goto out;
		}
		if (add_name(&pl->packages, &pl->n_packages, opt->packages[k]))
			goto oom;
	}
	/* qsort wants a valid pointer even for nothing to sort. */
	if (pl->n_packages)
		qsort(pl->packages, pl->n_packages, sizeof(*pl->packages), cmp_str);
	if (pl->n_enable)
		qsort(pl->enable, pl->n_enable, sizeof(*pl->enable), cmp_str);
	if (pl->n_disable)
		qsort(pl->disable, pl->n_disable, sizeof(*pl->disable), cmp_str);
	if (pl->n_sysctls)
		qsort(pl->sysctls, pl->n_sysctls, sizeof(*pl->sysctls),
		      cmp_setting);
	if (gen_files(pl, &g, err) || gen_record(pl, err))
		goto out;
	qsort(pl->files, pl->n_files, sizeof(*pl->files), cmp_file);
	rc = 0;
	goto out;
oom:
	bsp_error_set(err, BSP_ENOMEM, "out of memory");
out:
	for (size_t i = 0; i < g.n_limits; i++) {
		free(g.limits[i].key);
		free(g.limits[i].value);
	}
	free(g.limits);
	free(g.limit_from);
	free(g.sysctl_from);
	img_buf_release(&g.firewall);
	return rc ? (err && err->code ? err->code : BSP_EINVAL) : BSP_OK;
}

/* ---- the layer ----------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct img_tar_entry *)a)->path,
		      ((const struct img_tar_entry *)b)->path);
}

int img_layer_tar(const struct bsp_image_plan *pl, int64_t epoch,
		  struct img_buf *tar, struct bsp_error *err)
{
	struct img_tar_entry *e = NULL;
	char **dirs = NULL;
	size_t n_dirs = 0, n = 0;
	int rc = -1;

	/* Parent directories, each once. */
	for (size_t i = 0; i < pl->n_files; i++) {
		const char *path = pl->files[i].path + 1;
		for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
			char *d = strndup(path, (size_t)(s - path));
			if (!d || add_name(&dirs, &n_dirs, d)) {
				free(d);
				goto oom;
			}
			free(d);
		}
	}
	e = calloc(pl->n_files + n_dirs + 1, sizeof(*e));
	if (!e)
		goto oom;
	for (size_t i = 0; i < n_dirs; i++) {
		e[n].path = dirs[i];
		e[n].is_dir = 1;
		e[n++].mode = 0755;
	}
	for (size_t i = 0; i < pl->n_files; i++) {
		e[n].path = pl->files[i].path + 1;
		e[n].mode = pl->files[i].mode;
		e[n].link = pl->files[i].link;
		e[n].data = pl->files[i].content;
		e[n++].len = pl->files[i].len;
	}
	qsort(e, n, sizeof(*e), cmp_entry);
	if (img_tar_write(tar, e, n, epoch))
		goto oom;
	rc = 0;
	goto out;
oom:
	bsp_error_set(err, BSP_ENOMEM, "out of memory writing the layer");
out:
	for (size_t i = 0; i < n_dirs; i++)
		free(dirs[i]);
	free(dirs);
	free(e);
	return rc;
}
