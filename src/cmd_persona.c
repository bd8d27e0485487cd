/*
 * bespoke persona: who a user is, as a distribution over the persona
 * catalog, from what it says it needs and from what it does.
 *
 *   persona --describe TEXT [--software a,b] [--data-size 50GB]
 *   persona ENTITY [--describe ...]      adds the entity's behaviour
 *   persona --all                         every entity; with persona_hint
 *                                         attributes, the top-1 accuracy
 *
 * The catalog is --catalog FILE, else $BESPOKE_DATA/personas.yaml, else
 * data/personas.yaml next to the program's build folder (../data from the
 * binary), else /usr/share/bespoke/personas.yaml.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/persona.h"
#include "cli.h"

static const char usage_text[] =
	"usage: bespoke persona --describe TEXT [--software a,b,c]\n"
	"                       [--data-size 50GB]\n"
	"       bespoke persona ENTITY... | --all [--describe TEXT ...]\n\n"
	"A probability for each persona of the catalog: naive Bayes on the\n"
	"request's words and software, times the likelihood of the\n"
	"entity's daily and weekly CPU shape and its application launches.\n\n"
	"  --describe TEXT   what the user says it needs\n"
	"  --software LIST   selected software, comma-separated\n"
	"  --data-size SIZE  intended data size (500MB, 50GB, 2TB)\n"
	"  --catalog FILE    persona catalog (data/personas.yaml)\n"
	"  --all             every entity; scores persona_hint if present\n"
	"  --no-usage        leave out the CPU shapes\n"
	"  --no-apps         leave out the application launches\n"
	"  --top N           personas to print (3)\n";

#define SW_MAX 64

struct per_opts {
	const char *catalog, *describe;
	char *software[SW_MAX];
	size_t n_software;
	double data_gb;
	int all, no_usage, no_apps;
	long long top;
};

static int parse_size_gb(const char *s, double *gb)
{
	static const struct {
		const char *unit;
		double gb;
	} units[] = {
		{"", 1},	 {"b", 1e-9}, {"k", 1e-6}, {"kb", 1e-6},
		{"m", 1e-3},	 {"mb", 1e-3}, {"g", 1},   {"gb", 1},
		{"t", 1e3},	 {"tb", 1e3}, {"p", 1e6}, {"pb", 1e6},
	};
	char *end;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v) || v <= 0)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].unit)) {
			*gb = v * units[i].gb;
			return 0;
		}
	return -1;
}

/* Indices of the personas by falling probability. */
static void rank(const struct bsp_persona_scores *s, size_t *idx)
{
	for (size_t i = 0; i < s->n; i++)
		idx[i] = i;
	for (size_t i = 1; i < s->n; i++)
		for (size_t j = i; j > 0 && s->posterior[idx[j]] >
						    s->posterior[idx[j - 1]];
		     j--) {
			size_t t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
}

static json_t *strings_json(char **v, unsigned n)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *result_json(const struct bsp_persona_catalog *cat,
			   const char *entity,
			   const struct bsp_persona_evidence *ev,
			   const struct bsp_persona_scores *s,
			   const size_t *idx)
{
	const struct bsp_persona *top = &cat->personas[idx[0]];
	json_t *arr = json_array();
	for (size_t k = 0; arr && k < s->n; k++) {
		size_t i = idx[k];
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:f,s:{s:f,s:f,s:f}}", "name",
				       cat->personas[i].name, "title",
				       cat->personas[i].title, "probability",
				       s->posterior[i], "log", "text",
				       s->text[i], "usage", s->usage[i], "apps",
				       s->apps[i]));
	}
	json_t *o = json_pack(
		"{s:s,s:f,s:o,s:{s:b,s:f,s:I},s:{s:o,s:I,s:f,s:o,s:o}}",
		"persona", top->name, "probability", s->posterior[idx[0]],
		"personas", arr, "evidence", "usage", ev->has_usage, "days",
		ev->days, "app_launches", (json_int_t)ev->n_apps, "suggested",
		"software", strings_json(top->software, top->software_count),
		"cores", (json_int_t)top->cores, "memory_gb", top->memory_gb,
		"sysctls", strings_json(top->sysctls, top->sysctls_count),
		"services", strings_json(top->services, top->services_count));
	if (o && entity)
		json_object_set_new(o, "entity", json_string(entity));
	return o;
}

static void print_text(const struct bsp_persona_catalog *cat,
		       const char *entity,
		       const struct bsp_persona_evidence *ev,
		       const struct bsp_persona_scores *s, const size_t *idx,
		       size_t top)
{
	if (entity)
		printf("%s (%s%.0f days of use, %zu app launches)\n", entity,
		       ev->has_usage ? "" : "no CPU series, ", ev->days,
		       ev->n_apps);
	for (size_t k = 0; k < top && k < s->n; k++)
		printf("  %5.1f%%  %-20s %s\n", 100 * s->posterior[idx[k]],
		       cat->personas[idx[k]].name, cat->personas[idx[k]].title);
}

static const char *hint_of(const struct bsp_entity *e)
{
	for (size_t i = 0; i < e->n_attrs; i++)
		if (!strcmp(e->attr_keys[i], "persona_hint"))
			return e->attr_values[i];
	return NULL;
}

int cmd_persona(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"describe", required_argument, NULL, 'd'},
		{"software", required_argument, NULL, 's'},
		{"data-size", required_argument, NULL, 'z'},
		{"catalog", required_argument, NULL, 'c'},
		{"all", no_argument, NULL, 'A'},
		{"no-usage", no_argument, NULL, 'U'},
		{"no-apps", no_argument, NULL, 'P'},
		{"top", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct per_opts o = {.data_gb = NAN, .top = 3};
	struct bsp_persona_catalog *cat = NULL;
	struct bsp_store *st = NULL;
	struct bsp_entity *ents = NULL;
	struct bsp_error err = {0};
	char path[PATH_MAX + 64];
	size_t n_ents = 0, scored = 0, correct = 0, *idx = NULL;
	json_t *out = NULL;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'd':
			o.describe = optarg;
			break;
		case 's':
			for (char *p = optarg; p && *p;) {
				char *comma = strchr(p, ',');
				if (comma)
					*comma = '\0';
				if (*p) {
					if (o.n_software == SW_MAX)
						return cli_fail(BSP_EINVAL,
								"--software: "
								"at most %d",
								SW_MAX);
					o.software[o.n_software++] = p;
				}
				p = comma ? comma + 1 : NULL;
			}
			break;
		case 'z':
			if (parse_size_gb(optarg, &o.data_gb) < 0)
				return cli_fail(BSP_EINVAL,
						"--data-size: '%s' is not a "
						"size like 500MB, 50GB, 2TB",
						optarg);
			break;
		case 'c':
			o.catalog = optarg;
			break;
		case 'A':
			o.all = 1;
			break;
		case 'U':
			o.no_usage = 1;
			break;
		case 'P':
			o.no_apps = 1;
			break;
		case 'n':
			if ((rc = cli_size("top", optarg, 1, 1000, &o.top)))
				return rc;
			break;
		default:
			return EXIT_USER;
		}
	}
	argc -= optind;
	argv += optind;
	if (o.all && argc)
		return cli_fail(BSP_EINVAL,
				"name entities or give --all (not both)");
	if (!o.all && !argc && !o.describe && !o.n_software)
		return cli_fail(BSP_EINVAL,
				"give --describe TEXT, --software, entities "
				"or --all (see bespoke persona --help)");
	if (cli_data_file(o.catalog, "personas.yaml", path, sizeof(path)))
		return cli_fail(BSP_ENOTFOUND,
				"no persona catalog found; give --catalog "
				"FILE or set BESPOKE_DATA");
	if (bsp_persona_catalog_load(path, &cat, &err) != BSP_OK)
		return cli_fail_err(&err);
	if (!(idx = calloc(cat->personas_count, sizeof(*idx)))) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (o.all || argc) {
		if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
			goto out;
		if (o.all && bsp_store_entities(st, &ents, &n_ents, &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
	}
	size_t runs = o.all ? n_ents : argc ? (size_t)argc : 1;
	if (cli->json && (o.all || argc > 1) && !(out = json_array())) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t r = 0; r < runs; r++) {
		const char *entity = o.all ? ents[r].name : argc ? argv[r] : NULL;
		struct bsp_persona_evidence ev;
		struct bsp_persona_scores s;
		bsp_persona_evidence_init(&ev);
		ev.text = o.describe;
		ev.software = (const char *const *)o.software;
		ev.n_software = o.n_software;
		ev.data_gb = o.data_gb;
		if (entity && bsp_persona_observe(st, entity, &ev, &err)) {
			bsp_persona_evidence_release(&ev);
			rc = cli_fail_err(&err);
			goto out;
		}
		if (o.no_usage)
			ev.has_usage = 0;
		if (o.no_apps)
			bsp_persona_evidence_release(&ev);
		if (bsp_persona_infer(cat, &ev, &s, &err)) {
			bsp_persona_evidence_release(&ev);
			rc = cli_fail_err(&err);
			goto out;
		}
		rank(&s, idx);
		const char *hint = o.all ? hint_of(&ents[r]) : NULL;
		if (hint) {
			scored++;
			correct += !strcmp(hint, cat->personas[idx[0]].name);
		}
		if (cli->json) {
			json_t *j = result_json(cat, entity, &ev, &s, idx);
			if (j && hint)
				json_object_set_new(j, "persona_hint",
						    json_string(hint));
			if (out)
				json_array_append_new(out, j);
			else
				out = j;
		} else if (o.all) {
			printf("%-28s %-20s %5.1f%%%s%s\n", entity,
			       cat->personas[idx[0]].name,
			       100 * s.posterior[idx[0]], hint ? "  truth " : "",
			       hint ? hint : "");
		} else {
			print_text(cat, entity, &ev, &s, idx, (size_t)o.top);
		}
		bsp_persona_scores_release(&s);
		bsp_persona_evidence_release(&ev);
	}
	if (cli->json) {
		if (o.all)
			out = json_pack("{s:o,s:I,s:I}", "entities", out,
					"scored", (json_int_t)scored, "correct",
					(json_int_t)correct);
		char *txt = out ? json_dumps(out, JSON_COMPACT |
							  JSON_REAL_PRECISION(6))
				: NULL;
		if (!txt) {
			rc = cli_fail(BSP_ENOMEM, "out of memory");
			goto out;
		}
		puts(txt);
		free(txt);
	} else if (scored) {
		printf("top-1 accuracy against persona_hint: %zu of %zu "
		       "(%.1f%%)\n",
		       correct, scored, 100.0 * (double)correct / (double)scored);
	}
out:
	json_decref(out);
	free(idx);
	bsp_entities_free(ents, n_ents);
	bsp_store_close(st);
	bsp_persona_catalog_free(cat);
	return rc;
}
