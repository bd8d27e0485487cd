/*
 * Catalog, plan, layer and build against known answers: catalog errors at
 * their line and column, a plan whose choices are computed by hand (the
 * knapsack within a budget, requires and conflicts, sysctl expressions),
 * the tar writer read back (modes, long names, links), gzip's fixed
 * header, the security rules, and builds on a base written here: the same
 * input gives the same digest, and a component that plants a setuid file
 * or a private key is refused without tagging the image.
 */
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"

#include "bespoke/image.h"
#include "image/image_int.h"

static struct bsp_component_catalog *catalog(const char *yaml)
{
	struct bsp_component_catalog *cat = NULL;
	struct bsp_error err = {0};
	if (bsp_component_catalog_parse(yaml, strlen(yaml), "c.yaml", &cat, &err))
		fail_msg("catalog: %s", err.msg);
	return cat;
}

static void catalog_error(const char *yaml, const char *want)
{
	struct bsp_component_catalog *cat = NULL;
	struct bsp_error err = {0};
	if (bsp_component_catalog_parse(yaml, strlen(yaml), "c.yaml", &cat,
					&err) == BSP_OK)
		fail_msg("catalog accepted, want '%s'", want);
	if (!strstr(err.msg, want))
		fail_msg("got '%s', want '%s'", err.msg, want);
	assert_null(cat);
}

static void test_catalog_errors(void **state)
{
	(void)state;
	/* A rule error points into the file: line 5, the rule starts at
	 * column 17 (after the quote at 16). */
	catalog_error("version: 1\n"
		      "components:\n"
		      "  - name: a\n"
		      "    kind: sysctl\n"
		      "    condition: 'cpu.p95 > > 3'\n"
		      "    sysctl: {vm.swappiness: \"10\"}\n",
		      "c.yaml:5:27: expected a value");
	catalog_error("version: 1\n"
		      "components:\n"
		      "  - name: a\n"
		      "    kind: sysctl\n"
		      "    condition: cpu.p95 * 2\n"
		      "    sysctl: {vm.swappiness: \"10\"}\n",
		      "c.yaml:5:16: condition: expected a condition");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: gadget\n",
		      "c.yaml:4:11: kind: expected package");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: package\n"
		      "    colour: red\n",
		      "c.yaml:5:5: unknown key 'colour'");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: package\n"
		      "    size_mb: 3\n",
		      "c.yaml:3:5: a: a package component needs packages");
	/* Path traversal is refused when the catalog is read. */
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: file\n"
		      "    files:\n      - path: /etc/../root/.ssh/authorized_keys\n"
		      "        content: x\n",
		      "c.yaml:6:15: files.path: '/etc/../root/.ssh/authorized_keys' "
		      "climbs out with '..'");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: file\n"
		      "    files:\n      - {path: /etc/shadow, content: x}\n",
		      "is a protected system file");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: file\n"
		      "    files:\n      - {path: /bin/ls, content: x}\n",
		      "is outside the allowed paths");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: service\n"
		      "    requires: [b]\n"
		      "    services: [{unit: x.service, state: enable}]\n",
		      "c.yaml:3: a: requires 'b' is not in the catalog");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: package\n"
		      "    packages: [\"Bad Name\"]\n",
		      "is not a Debian package name");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: limits\n"
		      "    limits: {cpu_quota: 5}\n",
		      "limits: unknown key 'cpu_quota'");
	catalog_error("version: 1\ncomponents:\n  - name: a\n    kind: package\n"
		      "    packages: [git]\n    packages: [vim]\n",
		      "c.yaml:6:5: duplicate key 'packages'");
	catalog_error("version: 1\ncomponents: [\n", "c.yaml:3:1:");
	catalog_error("version: 2\ncomponents: []\n", "version: expected a number "
						      "from 1 to 1");
}

/* The shipped catalog loads and names only keys the checks accept. */
static void test_shipped_catalog(void **state)
{
	struct bsp_component_catalog *cat = NULL;
	struct bsp_error err = {0};
	(void)state;
	if (access("data/components.yaml", R_OK))
		skip();
	assert_int_equal(bsp_component_catalog_load("data/components.yaml", &cat,
						    &err),
			 BSP_OK);
	assert_true(cat->n >= 15);
	int kinds[BSP_COMP_KIND_COUNT] = {0};
	for (size_t i = 0; i < cat->n; i++) {
		kinds[cat->items[i].kind]++;
		for (size_t k = 0; k < cat->items[i].n_sysctls; k++)
			if (!img_sysctl_known(cat->items[i].sysctls[k].key))
				fail_msg("%s: sysctl %s unknown", cat->items[i].name,
					 cat->items[i].sysctls[k].key);
	}
	for (int k = 0; k < BSP_COMP_KIND_COUNT; k++)
		if (!kinds[k])
			fail_msg("no %s component", bsp_comp_kind_name(k));
	bsp_component_catalog_free(cat);
}

/* Packages a (60 MB, worth 0.9 × 100 = 90), b (50 MB, 0.5 × 100 = 50),
 * c (50 MB, 1 × 45 = 45): within 100 MB the best set is {b, c} = 95 > 90
 * ({a} alone). d requires a, so it is dropped; e conflicts with the
 * earlier f. */
static const char plan_yaml[] =
	"version: 1\n"
	"components:\n"
	"  - name: tune\n"
	"    kind: sysctl\n"
	"    condition: 'cpu.p95 > 50'\n"
	"    sysctl:\n"
	"      vm.swappiness: \"10\"\n"
	"      vm.nr_hugepages: \"=cpu.p95 * 2 + 0.4\"\n"
	"  - name: a\n"
	"    kind: package\n"
	"    use: 'apps[\"psql\"].p_day'\n"
	"    packages: [postgresql-client]\n"
	"    size_mb: 60\n"
	"    launch_seconds_saved: 100\n"
	"  - name: b\n"
	"    kind: package\n"
	"    use: 'persona[\"dba\"] - 0.11'\n"
	"    packages: [git]\n"
	"    size_mb: 50\n"
	"    launch_seconds_saved: 100\n"
	"  - name: c\n"
	"    kind: package\n"
	"    packages: [htop, git]\n"
	"    size_mb: 49.5\n"
	"    launch_seconds_saved: 45\n"
	"  - name: never\n"
	"    kind: package\n"
	"    condition: 'workload == \"interactive\"'\n"
	"    packages: [emacs]\n"
	"    size_mb: 1\n"
	"    launch_seconds_saved: 1000\n"
	"  - name: d\n"
	"    kind: service\n"
	"    requires: [a]\n"
	"    services: [{unit: postgresql.service, state: enable}]\n"
	"  - name: f\n"
	"    kind: service\n"
	"    services: [{unit: cups.service, state: disable}]\n"
	"  - name: e\n"
	"    kind: service\n"
	"    conflicts: [f]\n"
	"    services: [{unit: cups.service, state: enable}]\n"
	"  - name: limits\n"
	"    kind: limits\n"
	"    condition: 'workload == \"batch\"'\n"
	"    limits: {scheduling_policy: batch, nofile: \"4096\", memory_max: \"8G\"}\n";

static const char plan_profile[] =
	"{\"format\":\"bespoke-profile\",\"entity\":\"u1\",\"profile_version\":4,"
	"\"metrics\":{\"cpu_usage\":{\"model\":{\"model_version\":2},"
	"\"forecast\":{\"point\":[1],\"quantiles\":{\"p95\":[60,70.3,10]}}}},"
	"\"behaviour\":{\"workload\":{\"class\":\"batch\"},"
	"\"personas\":[{\"name\":\"dba\",\"p\":0.61}],"
	"\"apps\":{\"coming_day\":[{\"name\":\"psql\",\"p\":0.9}]}}}";

static const struct bsp_plan_item *item(const struct bsp_image_plan *pl,
					const char *name)
{
	for (size_t i = 0; i < pl->n_items; i++)
		if (!strcmp(pl->items[i].comp->name, name))
			return &pl->items[i];
	fail_msg("no item %s", name);
	return NULL;
}

static const struct bsp_plan_file *file(const struct bsp_image_plan *pl,
					const char *path)
{
	for (size_t i = 0; i < pl->n_files; i++)
		if (!strcmp(pl->files[i].path, path))
			return &pl->files[i];
	return NULL;
}

static struct bsp_image_plan *make_plan(struct bsp_component_catalog *cat,
					struct bsp_image_profile **p,
					double budget)
{
	struct bsp_image_plan_options po = {.budget_mb = budget};
	struct bsp_image_plan *pl = NULL;
	struct bsp_error err = {0};
	assert_int_equal(bsp_image_profile_parse(plan_profile, strlen(plan_profile),
						 "p", p, &err),
			 BSP_OK);
	if (bsp_image_plan_make(cat, *p, &po, &pl, &err))
		fail_msg("plan: %s", err.msg);
	return pl;
}

static void test_plan(void **state)
{
	struct bsp_component_catalog *cat = catalog(plan_yaml);
	struct bsp_image_profile *p = NULL;
	struct bsp_image_plan *pl = make_plan(cat, &p, 100);
	(void)state;

	assert_false(item(pl, "a")->chosen);
	assert_true(item(pl, "b")->chosen);
	assert_true(item(pl, "c")->chosen);
	assert_false(item(pl, "never")->chosen);
	assert_true(fabs(pl->value - 95) < 1e-6);
	assert_true(fabs(item(pl, "a")->p_use - 0.9) < 1e-12);
	assert_true(fabs(item(pl, "b")->p_use - 0.5) < 1e-12);
	assert_true(fabs(pl->used_mb - 99.5) < 1e-9);
	assert_non_null(strstr(item(pl, "a")->reason, "knapsack left it out"));
	assert_non_null(strstr(item(pl, "never")->reason,
			       "is false: workload=batch"));
	/* requires and conflicts */
	assert_false(item(pl, "d")->chosen);
	assert_string_equal(item(pl, "d")->reason, "requires a, which is not taken");
	assert_true(item(pl, "f")->chosen);
	assert_false(item(pl, "e")->chosen);
	assert_string_equal(item(pl, "e")->reason, "conflicts with f, taken first");
	/* The reason carries the values that made the rule true. */
	assert_string_equal(item(pl, "tune")->reason,
			    "condition cpu.p95 > 50 is true: cpu.p95=70.3");
	/* Outputs: packages sorted and unique, the expression's value. */
	assert_int_equal(pl->n_packages, 2);
	assert_string_equal(pl->packages[0], "git");
	assert_string_equal(pl->packages[1], "htop");
	assert_int_equal(pl->n_sysctls, 2);
	assert_string_equal(pl->sysctls[0].key, "vm.nr_hugepages");
	assert_string_equal(pl->sysctls[0].value, "141"); /* 70.3*2+0.4 */
	const struct bsp_plan_file *f = file(pl, "/etc/sysctl.d/90-bespoke.conf");
	assert_non_null(f);
	assert_string_equal(f->content, "# bespoke: kernel settings of this image\n"
					"vm.nr_hugepages = 141\n"
					"vm.swappiness = 10\n");
	f = file(pl, "/etc/systemd/system/user@.service.d/90-bespoke.conf");
	assert_non_null(f);
	assert_string_equal(f->content, "[Service]\nCPUSchedulingPolicy=batch\n");
	f = file(pl, "/etc/systemd/system/user-.slice.d/90-bespoke.conf");
	assert_string_equal(f->content, "[Slice]\nMemoryMax=8G\n");
	f = file(pl, "/etc/security/limits.d/90-bespoke.conf");
	assert_string_equal(f->content, "*\tsoft\tnofile\t4096\n*\thard\tnofile\t4096\n");
	f = file(pl, "/etc/bespoke/packages.list");
	assert_string_equal(f->content, "git\nhtop\n");
	f = file(pl, "/etc/bespoke/services.list");
	assert_string_equal(f->content, "disable cups.service\n");
	assert_non_null(file(pl, "/usr/local/sbin/bespoke-firstboot"));
	for (size_t i = 1; i < pl->n_files; i++)
		assert_true(strcmp(pl->files[i - 1].path, pl->files[i].path) < 0);
	char *json = bsp_image_plan_json(pl);
	assert_non_null(strstr(json, "\"format\": \"bespoke-image-plan\""));
	free(json);
	bsp_image_plan_free(pl);
	bsp_image_profile_free(p);

	/* No budget: everything whose condition holds. */
	pl = make_plan(cat, &p, 0);
	assert_true(item(pl, "a")->chosen && item(pl, "b")->chosen &&
		    item(pl, "c")->chosen && item(pl, "d")->chosen);
	assert_true(fabs(pl->value - 185) < 1e-6);
	bsp_image_plan_free(pl);
	bsp_image_profile_free(p);
	bsp_component_catalog_free(cat);
}

/* p1 (60 MB, worth 90) requires p2 (50 MB, 10); p3 (45 MB, 40). Within
 * 100 MB the knapsack alone picks {p1} = 90, which lacks p2; p1 + p2 do
 * not fit, so the best feasible set is {p2, p3} = 50. */
static void test_plan_requires(void **state)
{
	static const char yaml[] =
		"version: 1\n"
		"components:\n"
		"  - {name: p1, kind: package, packages: [a], size_mb: 60,\n"
		"     launch_seconds_saved: 90, requires: [p2]}\n"
		"  - {name: p2, kind: package, packages: [b], size_mb: 50,\n"
		"     launch_seconds_saved: 10}\n"
		"  - {name: p3, kind: package, packages: [c], size_mb: 45,\n"
		"     launch_seconds_saved: 40}\n";
	struct bsp_component_catalog *cat = catalog(yaml);
	struct bsp_image_plan_options po = {.budget_mb = 100};
	struct bsp_image_plan *pl = NULL;
	struct bsp_error err = {0};
	(void)state;
	assert_int_equal(bsp_image_plan_make(cat, NULL, &po, &pl, &err), BSP_OK);
	assert_false(item(pl, "p1")->chosen);
	assert_true(item(pl, "p2")->chosen);
	assert_true(item(pl, "p3")->chosen);
	assert_non_null(strstr(item(pl, "p1")->reason, "knapsack left it out"));
	assert_non_null(strstr(item(pl, "p1")->reason, "with what it requires"));
	assert_true(fabs(pl->value - 50) < 1e-6);
	bsp_image_plan_free(pl);
	/* With room for both, p1 comes with p2. */
	po.budget_mb = 110;
	assert_int_equal(bsp_image_plan_make(cat, NULL, &po, &pl, &err), BSP_OK);
	assert_true(item(pl, "p1")->chosen && item(pl, "p2")->chosen);
	assert_false(item(pl, "p3")->chosen);
	assert_true(fabs(pl->value - 100) < 1e-6);
	bsp_image_plan_free(pl);
	bsp_component_catalog_free(cat);
	/* A requirement whose own condition is false blocks the package. */
	static const char yaml2[] =
		"version: 1\n"
		"components:\n"
		"  - {name: p1, kind: package, packages: [a], size_mb: 1,\n"
		"     launch_seconds_saved: 90, requires: [p2]}\n"
		"  - {name: p2, kind: package, packages: [b], size_mb: 1,\n"
		"     launch_seconds_saved: 10, condition: 'false'}\n";
	cat = catalog(yaml2);
	assert_int_equal(bsp_image_plan_make(cat, NULL, &po, &pl, &err), BSP_OK);
	assert_false(item(pl, "p1")->chosen);
	assert_non_null(strstr(item(pl, "p1")->reason,
			       "requires p2, whose condition is false"));
	bsp_image_plan_free(pl);
	bsp_component_catalog_free(cat);
}

/* Random catalogs of packages with requirements: the plan's value equals
 * the best feasible set found by brute force. */
static void test_plan_requires_brute(void **state)
{
	uint64_t rs = 0x2545f4914f6cdd1dULL;
	(void)state;
	for (int round = 0; round < 200; round++) {
		enum { N = 8 };
		unsigned w[N], sec[N], need[N] = {0}, cap;
		char yaml[4096];
		size_t len = 0;
#define RND() (rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17, rs)
		cap = 10 + (unsigned)(RND() % 80);
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
					"version: 1\ncomponents:\n");
		for (int i = 0; i < N; i++) {
			w[i] = 1 + (unsigned)(RND() % 30);
			sec[i] = 1 + (unsigned)(RND() % 100);
			if (RND() % 3 == 0) {
				int j = (int)(RND() % N);
				if (j != i)
					need[i] |= 1u << j;
			}
			len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
				"  - {name: p%d, kind: package, packages: [x%d], "
				"size_mb: %u, launch_seconds_saved: %u",
				i, i, w[i], sec[i]);
			for (int j = 0; j < N; j++)
				if (need[i] >> j & 1)
					len += (size_t)snprintf(yaml + len,
								sizeof(yaml) - len,
								", requires: [p%d]", j);
			len += (size_t)snprintf(yaml + len, sizeof(yaml) - len, "}\n");
		}
#undef RND
		double best = 0;
		for (unsigned m = 0; m < (1u << N); m++) {
			unsigned tw = 0, ok = 1;
			double tv = 0;
			for (int i = 0; i < N; i++)
				if (m >> i & 1) {
					tw += w[i];
					tv += sec[i];
					ok &= (need[i] & ~m) == 0;
				}
			if (ok && tw <= cap && tv > best)
				best = tv;
		}
		struct bsp_component_catalog *cat = catalog(yaml);
		struct bsp_image_plan_options po = {.budget_mb = cap};
		struct bsp_image_plan *pl = NULL;
		assert_int_equal(bsp_image_plan_make(cat, NULL, &po, &pl, NULL),
				 BSP_OK);
		if (fabs(pl->value - best) > 1e-6 || pl->used_mb > cap)
			fail_msg("round %d: plan %g (%g MB of %u), brute force %g\n%s",
				 round, pl->value, pl->used_mb, cap, best, yaml);
		bsp_image_plan_free(pl);
		bsp_component_catalog_free(cat);
	}
}

struct seen {
	char paths[32][512];
	char types[32];
	unsigned modes[32];
	char links[32][128];
	size_t n;
};

static int collect(const struct img_tar_member *m, void *ud)
{
	struct seen *s = ud;
	assert_true(s->n < 32);
	snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", m->path);
	snprintf(s->links[s->n], sizeof(s->links[0]), "%s", m->link ? m->link : "");
	s->types[s->n] = m->type;
	s->modes[s->n++] = m->mode;
	return 0;
}

static void test_tar(void **state)
{
	char longdir[200], longest[400];
	(void)state;
	memset(longdir, 'd', 150);
	snprintf(longdir + 150, sizeof(longdir) - 150, "/file-with-a-name");
	memset(longest, 'x', 300);
	longest[300] = '\0';
	struct img_tar_entry e[] = {
		{"etc", 1, NULL, 0755, NULL, 0},
		{"etc/a.conf", 0, NULL, 0644, "hello\n", 6},
		{longdir, 0, NULL, 0600, "", 0},
		{longest, 0, NULL, 0755, "x", 1},
		{"etc/link", 0, "/etc/a.conf", 0777, NULL, 0},
	};
	struct img_buf t1 = {0}, t2 = {0}, g1 = {0}, g2 = {0};
	assert_int_equal(img_tar_write(&t1, e, 5, 1700000000), 0);
	assert_int_equal(img_tar_write(&t2, e, 5, 1700000000), 0);
	assert_int_equal(t1.len % 512, 0);
	assert_memory_equal(t1.p, t2.p, t1.len);
	struct seen s = {0};
	assert_int_equal(img_tar_each(t1.p, t1.len, collect, &s, NULL), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.paths[0], "etc/");
	assert_int_equal(s.types[0], '5');
	assert_string_equal(s.paths[1], "etc/a.conf");
	assert_int_equal(s.modes[1], 0644);
	assert_string_equal(s.paths[2], longdir); /* ustar prefix split */
	assert_string_equal(s.paths[3], longest); /* pax path record */
	assert_int_equal(s.types[4], '2');
	assert_string_equal(s.links[4], "/etc/a.conf");
	/* mtime and owner as fixed (offsets of the ustar header). */
	assert_memory_equal(t1.p + 136, "14524770400", 11); /* 1700000000 */
	assert_int_equal(strtol((const char *)t1.p + 108, NULL, 8), 0); /* uid */
	assert_int_equal(strtol((const char *)t1.p + 116, NULL, 8), 0); /* gid */
	/* Some writers stop after the last member's data (no padding, no
	 * zero blocks): accepted; a member whose data is missing is not. */
	s.n = 0;
	assert_int_equal(img_tar_each(t1.p, t1.len - 1024, collect, &s, NULL), 0);
	assert_int_equal(s.n, 5);
	struct bsp_error err0 = {0};
	s.n = 0; /* etc/a.conf's header is at 512, its 6 bytes at 1024 */
	assert_int_equal(img_tar_each(t1.p, 1024 + 3, collect, &s, &err0), -1);
	assert_non_null(strstr(err0.msg, "bad header at byte 512"));
	s.n = 0; /* half a header */
	assert_int_equal(img_tar_each(t1.p, 1536 + 100, collect, &s, &err0), -1);
	assert_non_null(strstr(err0.msg, "cut short at byte 1536"));
	/* A corrupted checksum is found, not trusted. */
	t2.p[512 + 5] ^= 1;
	struct bsp_error err = {0};
	s.n = 0;
	assert_int_equal(img_tar_each(t2.p, t2.len, collect, &s, &err), -1);
	assert_non_null(strstr(err.msg, "bad header at byte 512"));
	/* gzip: no name, mtime 0, OS unknown; same bytes twice; reads back. */
	assert_int_equal(img_gzip(t1.p, t1.len, &g1), 0);
	assert_int_equal(img_gzip(t1.p, t1.len, &g2), 0);
	assert_int_equal(g1.len, g2.len);
	assert_memory_equal(g1.p, g2.p, g1.len);
	assert_int_equal(g1.p[0], 0x1f);
	assert_int_equal(g1.p[1], 0x8b);
	assert_int_equal(g1.p[3], 0);	   /* FLG: no name */
	assert_memory_equal(g1.p + 4, "\0\0\0\0", 4); /* MTIME */
	assert_int_equal(g1.p[9], 255);
	struct img_buf back = {0};
	assert_int_equal(img_gunzip(g1.p, g1.len, 1 << 20, &back, NULL), 0);
	assert_int_equal(back.len, t1.len);
	assert_memory_equal(back.p, t1.p, t1.len);
	img_buf_release(&back);
	assert_int_equal(img_gunzip(g1.p, g1.len, 100, &back, &err), -1);
	assert_int_equal(err.code, BSP_ELIMIT);
	img_buf_release(&back);
	img_buf_release(&t1);
	img_buf_release(&t2);
	img_buf_release(&g1);
	img_buf_release(&g2);
}

static void test_security_rules(void **state)
{
	(void)state;
	static const char pem[] = "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n";
	static const char rsa[] = "-----BEGIN RSA PRIVATE KEY-----";
	static const char cert[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
	static const char aws[] = "key=AKIAIOSFODNN7EXAMPLE\n";
	static const char gh[] = "token: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n";
	static const char short_gh[] = "ghp_abc and AKIA12\n";
	assert_string_equal(img_secret_find(pem, strlen(pem)), "a private key (PEM)");
	assert_string_equal(img_secret_find(rsa, strlen(rsa)), "a private key (PEM)");
	assert_null(img_secret_find(cert, strlen(cert)));
	assert_string_equal(img_secret_find(aws, strlen(aws)), "an AWS access key id");
	assert_string_equal(img_secret_find(gh, strlen(gh)), "a GitHub token");
	assert_null(img_secret_find(short_gh, strlen(short_gh)));
	assert_null(img_path_problem("/etc/sysctl.d/90-bespoke.conf"));
	assert_null(img_path_problem("/usr/local/sbin/x"));
	assert_non_null(img_path_problem("/etc/../bin/sh"));
	assert_non_null(img_path_problem("/etc/./x"));
	assert_non_null(img_path_problem("/etc//x"));
	assert_non_null(img_path_problem("etc/x"));
	assert_non_null(img_path_problem("/usr/bin/x"));
	assert_non_null(img_path_problem("/etc/sudoers.d/bespoke"));
	assert_non_null(img_path_problem("/etc/ld.so.preload"));
	assert_null(img_path_problem("/etc/sshd-banner")); /* not /etc/ssh/ */
	assert_true(img_sysctl_known("vm.swappiness"));
	assert_true(img_sysctl_known("net.core.rmem_max"));
	assert_false(img_sysctl_known("vm.no_such_knob"));
	assert_false(img_sysctl_known("../../etc/passwd"));
}

/* ---- builds on a base written here --------------------------------------- */

/* A base image with one layer holding /etc/os-release. */
static void make_base(const char *dir)
{
	struct img_tar_entry e[] = {
		{"etc", 1, NULL, 0755, NULL, 0},
		{"etc/os-release", 0, NULL, 0644, "ID=test\n", 8},
	};
	struct img_buf tar = {0}, gz = {0};
	char layer[72], diff[72], cfgd[72], mand[72];
	struct bsp_error err = {0};
	char *text;

	assert_int_equal(img_layout_init(dir, &err), 0);
	assert_int_equal(img_tar_write(&tar, e, 2, 0), 0);
	img_sha256(tar.p, tar.len, diff);
	assert_int_equal(img_gzip(tar.p, tar.len, &gz), 0);
	assert_int_equal(img_blob_put(dir, gz.p, gz.len, layer, &err), 0);
	json_t *cfg = json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "architecture",
				"amd64", "os", "linux", "rootfs", "type", "layers",
				"diff_ids", diff);
	text = json_dumps(cfg, JSON_SORT_KEYS | JSON_COMPACT);
	assert_int_equal(img_blob_put(dir, text, strlen(text), cfgd, &err), 0);
	json_t *man = json_pack(
		"{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}",
		"schemaVersion", 2, "mediaType", IMG_MT_MANIFEST, "config",
		"mediaType", IMG_MT_CONFIG, "digest", cfgd, "size",
		(json_int_t)strlen(text), "layers", "mediaType", IMG_MT_LAYER_GZ,
		"digest", layer, "size", (json_int_t)gz.len);
	free(text);
	text = json_dumps(man, JSON_SORT_KEYS | JSON_COMPACT);
	assert_int_equal(img_blob_put(dir, text, strlen(text), mand, &err), 0);
	json_t *desc = json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType",
				 IMG_MT_MANIFEST, "digest", mand, "size",
				 (json_int_t)strlen(text), "annotations",
				 IMG_ANN_REF, "base");
	assert_int_equal(img_index_tag(dir, "base", desc, &err), 0);
	json_decref(desc);
	json_decref(man);
	json_decref(cfg);
	free(text);
	img_buf_release(&tar);
	img_buf_release(&gz);
}

static bsp_err build(const char *yaml, const char *out_dir, const char *tag,
		     struct bsp_image_result *res, struct bsp_image_report *rep,
		     struct bsp_error *err)
{
	struct bsp_component_catalog *cat = catalog(yaml);
	struct bsp_image_profile *p = NULL;
	struct bsp_image_plan *pl = make_plan(cat, &p, 100);
	struct bsp_image_build_options bo = {0};
	char base[300];

	snprintf(bo.base.dir, sizeof(bo.base.dir), "%s",
		 test_path(base, sizeof(base), "base"));
	snprintf(bo.base.tag, sizeof(bo.base.tag), "base");
	snprintf(bo.out.dir, sizeof(bo.out.dir), "%s", out_dir);
	snprintf(bo.out.tag, sizeof(bo.out.tag), "%s", tag);
	bo.epoch = 1700000000;
	bo.cloud_init = ""; /* the CLI test runs cloud-init */
	bsp_err rc = bsp_image_build(pl, &bo, res, rep, err);
	bsp_image_plan_free(pl);
	bsp_image_profile_free(p);
	bsp_component_catalog_free(cat);
	return rc;
}

static void test_build(void **state)
{
	char base[300], o1[300], o2[300];
	struct bsp_image_result r1, r2;
	struct bsp_image_report rep = {0};
	struct bsp_error err = {0};
	(void)state;

	make_base(test_path(base, sizeof(base), "base"));
	test_path(o1, sizeof(o1), "out1");
	test_path(o2, sizeof(o2), "out2");
	if (build(plan_yaml, o1, "u1", &r1, &rep, &err))
		fail_msg("build: %s", err.msg);
	assert_int_equal(rep.n, 0);
	bsp_image_report_free(&rep);
	/* Another layout, same inputs: the same digest; the base layer was
	 * brought along. */
	if (build(plan_yaml, o2, "u1", &r2, &rep, &err))
		fail_msg("build: %s", err.msg);
	bsp_image_report_free(&rep);
	assert_string_equal(r1.manifest_digest, r2.manifest_digest);
	assert_string_equal(r1.layer_digest, r2.layer_digest);
	/* The tagged image validates, deep. */
	struct bsp_oci_ref ref;
	assert_int_equal(bsp_oci_ref_parse(o2, &ref, &err), BSP_EINVAL);
	char refs[400];
	snprintf(refs, sizeof(refs), "oci:%s:u1", o2);
	assert_int_equal(bsp_oci_ref_parse(refs, &ref, &err), BSP_OK);
	assert_int_equal(bsp_image_validate(&ref, NULL, "", &rep, &err), BSP_OK);
	assert_int_equal(rep.n, 0);
	assert_int_equal(rep.checked_blobs, 4); /* manifest, config, 2 layers */
	bsp_image_report_free(&rep);
	/* Damage the personalization layer: digest mismatch. */
	char path[600];
	assert_int_equal(img_blob_path(o2, r2.layer_digest, path, sizeof(path)), 0);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, 20, SEEK_SET);
	fputc(0x55, f);
	fclose(f);
	assert_int_equal(bsp_image_validate(&ref, NULL, "", &rep, &err), BSP_OK);
	assert_true(rep.n >= 1);
	assert_string_equal(rep.issues[0].check, "digest");
	assert_string_equal(rep.issues[0].file, r2.layer_digest);
	bsp_image_report_free(&rep);
}

/* Planted bad content: refused, named, and not tagged. */
static void test_build_rejects(void **state)
{
	static const char bad[] =
		"version: 1\n"
		"components:\n"
		"  - name: evil\n"
		"    kind: file\n"
		"    files:\n"
		"      - path: /usr/local/bin/rootme\n"
		"        mode: \"4755\"\n"
		"        content: x\n"
		"      - path: /etc/bespoke/deploy-key\n"
		"        content: |\n"
		"          -----BEGIN EC PRIVATE KEY-----\n"
		"          MHcCAQEEIB\n"
		"      - path: /etc/sysctl.d/50-x.conf\n"
		"        content: \"vm.not_a_knob = 1\\n\"\n"
		"      - path: /srv/share\n"
		"        mode: \"0666\"\n"
		"        content: y\n";
	char out[300], idx[400];
	struct bsp_image_result r;
	struct bsp_image_report rep = {0};
	struct bsp_error err = {0};
	struct img_buf b = {0};
	(void)state;

	test_path(out, sizeof(out), "bad");
	assert_int_equal(build(bad, out, "evil", &r, &rep, &err), BSP_EINVAL);
	assert_non_null(strstr(err.msg, "image not tagged"));
	int setuid = 0, secret = 0, sysctl = 0, ww = 0;
	for (size_t i = 0; i < rep.n; i++) {
		const struct bsp_image_issue *is = &rep.issues[i];
		setuid |= !strcmp(is->check, "setuid") &&
			  !strcmp(is->file, "/usr/local/bin/rootme");
		secret |= !strcmp(is->check, "secret") &&
			  !strcmp(is->file, "/etc/bespoke/deploy-key");
		sysctl |= !strcmp(is->check, "sysctl") &&
			  !strcmp(is->file, "/etc/sysctl.d/50-x.conf");
		ww |= !strcmp(is->check, "world-writable") &&
		      !strcmp(is->file, "/srv/share");
	}
	assert_true(setuid && secret && sysctl && ww);
	bsp_image_report_free(&rep);
	snprintf(idx, sizeof(idx), "%s/index.json", out);
	assert_int_equal(img_read_file(idx, 1 << 20, &b, NULL), 0);
	assert_null(strstr((char *)b.p, "evil"));
	img_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_errors),
		cmocka_unit_test(test_shipped_catalog),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_requires),
		cmocka_unit_test(test_plan_requires_brute),
		cmocka_unit_test(test_tar),
		cmocka_unit_test(test_security_rules),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
