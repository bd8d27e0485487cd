/*
 * bespoke recommend ENTITY... | --all: the cheapest machine that meets the
 * performance tier, from the entity's Behaviour Profile (built and stored
 * now), the instance catalog and the policy; administrator overrides win
 * while they are in force. With --observed, usage that has reached the
 * policy's threshold of the allocation raises it at once and is recorded
 * as an "adjustment" document. --format exports the choice to what users
 * deploy with (libvirt, Kubernetes, an instance type name).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_alloc.h"

static const char usage_text[] =
    "usage: bespoke recommend ENTITY... | --all [options]\n\n"
    "The cheapest shape (instance type and storage, or a custom size)\n"
    "that covers the tier's quantile of the predicted peak of every\n"
    "resource, with its cost, expected violation rate, savings against\n"
    "the provisioned size and the reasons; docs/allocation.md.\n\n"
    "  --all              every entity\n" CLI_ALLOC_USAGE
    "  --observed         raise at once where the latest usage has\n"
    "                     reached the policy's adjust_threshold, and\n"
    "                     record it as an adjustment\n"
    "  --window DUR       --observed: mean usage over DUR (last sample)\n"
    "  --format F         libvirt | k8s | instance (one entity for\n"
    "                     libvirt)\n"
    "  --no-store         do not store the recommendation (it is kept\n"
    "                     as the entity's next `recommendation` document)\n"
    "  --json             the recommendation as JSON\n";

struct rec_opts {
	int observed;
	int store; /* keep it as a `recommendation` document */
	bsp_time window;
	int format; /* -1 = none */
	enum bsp_alloc_format fmt;
};

static void print_rec(const char *entity, const struct cli_alloc *a,
		      const struct bsp_alloc_demand *d,
		      const struct bsp_alloc_rec *rec)
{
	const struct bsp_alloc_choice *c = &rec->choice;
	char x[48], y[48];

	printf("%s: %s%s%s at $%.4f/h%s (tier %s p%g, policy %s, profile "
	       "v%lld)\n",
	       entity, c->name, c->storage >= 0 ? " + " : "",
	       c->storage >= 0 ? a->cat->storage[c->storage].name : "",
	       c->price_hour, c->spot ? " spot" : "", a->tier->name,
	       100 * a->tier->quantile, a->pol->name,
	       (long long)d->profile_version);
	printf("  %-10s %-16s %-16s %s\n", "RESOURCE", "NEED", "HAVE",
	       "VIOLATION");
	for (int r = 0; r < BSP_RES_N; r++) {
		if (!isfinite(rec->need[r]) && !(c->have[r] > 0))
			continue;
		cli_alloc_amount((enum bsp_res)r, rec->need[r], x, sizeof(x));
		cli_alloc_amount((enum bsp_res)r, c->have[r], y, sizeof(y));
		printf("  %-10s %-16s %-16s %.2f%%\n",
		       bsp_res_name((enum bsp_res)r), x, y,
		       100 * rec->violation[r]);
	}
	printf(
	    "  expected violation %.2f%% (tier tolerates %.2f%%); $%.2f over "
	    "%g h",
	    100 * rec->violation_any, 100 * a->tier->violation,
	    rec->cost_horizon, (double)d->n_steps * (double)d->step / BSP_HOUR);
	if (rec->has_current)
		printf("; %s $%.4f/h against %s",
		       rec->savings_hour >= 0 ? "saves" : "costs",
		       fabs(rec->savings_hour), rec->current.name);
	printf("\n");
	if (rec->override_used)
		printf("  override v%lld in force: %s\n",
		       (long long)rec->override.version, rec->override.reason);
	printf("  why:\n");
	for (size_t i = 0; i < rec->n_reasons; i++)
		printf("   - %s\n", rec->reasons[i]);
}

/* One entity: demand, override, recommendation, adjustment, output. */
static int rec_one(struct cli *cli, struct bsp_store *st, struct cli_alloc *a,
		   const struct rec_opts *ro, const char *entity,
		   json_t *all_json, size_t n_entities)
{
	struct bsp_alloc_demand d;
	struct bsp_alloc_current cur;
	struct bsp_alloc_override ov;
	struct bsp_alloc_rec rec;
	struct bsp_error err = {0};
	char *json = NULL, *text = NULL, *fb = NULL;
	int found = 0, raised = 0, rc = EXIT_OK;

	if (cli_alloc_demand(st, a, entity, &d, &cur, &err))
		return cli_alloc_fail(entity, &err);
	/* Decisions are made as of the forecast's origin, so a replayed
	 * trace sees the overrides that were in force then. */
	if (bsp_alloc_override_get(st, entity, d.start, &ov, &found, &err) ||
	    bsp_alloc_recommend(a->cat, a->pol, a->tier, &d, found ? &ov : NULL,
				&cur, &rec, &err)) {
		rc = cli_alloc_fail(entity, &err);
		goto out;
	}
	if (ro->observed) {
		struct bsp_alloc_observed obs;
		int64_t v = 0;
		if (bsp_alloc_observe(st, entity, &d, ro->window, &obs, &err) ||
		    bsp_alloc_adjust(a->cat, a->pol, a->tier, &d, entity, &obs,
				     &rec, &raised, &fb, &err) ||
		    (raised && bsp_store_doc_put(st, "adjustment", entity, fb,
						 &v, &err))) {
			rc = cli_alloc_fail(entity, &err);
			goto out;
		}
		if (raised && !cli->json && ro->format < 0)
			printf("%s: raised at once, adjustment v%lld stored\n",
			       entity, (long long)v);
	}
	/* Kept like a plan, so the API and the dashboard show the latest
	 * decision with its reasons. */
	int64_t version = 0;
	if (bsp_alloc_rec_json(entity, a->cat, a->tier, &d, &rec, &json,
			       &err) ||
	    (ro->store && bsp_store_doc_put(st, "recommendation", entity, json,
					    &version, &err))) {
		rc = cli_alloc_fail(entity, &err);
		goto out;
	}
	if (ro->format >= 0) {
		if (bsp_alloc_export(ro->fmt, entity, a->cat, &rec, &text,
				     &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
		if (ro->fmt == BSP_ALLOC_INSTANCE && n_entities > 1)
			printf("%s %s", entity, text);
		else
			printf("%s%s",
			       n_entities > 1 && ro->fmt == BSP_ALLOC_K8S
				   ? "---\n"
				   : "",
			       text);
		goto out;
	}
	if (cli->json) {
		json_t *o = json_loads(json, 0, NULL);
		if (o && raised)
			json_object_set_new(o, "adjustment",
					    json_loads(fb, 0, NULL));
		if (o && version)
			json_object_set_new(o, "recommendation_version",
					    json_integer(version));
		json_array_append_new(all_json, o);
	} else {
		print_rec(entity, a, &d, &rec);
		if (version)
			printf("  stored as recommendation v%lld\n",
			       (long long)version);
	}
out:
	free(json);
	free(text);
	free(fb);
	bsp_alloc_demand_release(&d);
	return rc;
}

int cmd_recommend(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    CLI_PREDICT_LONGOPTS,
	    CLI_ALLOC_LONGOPTS,
	    {"all", no_argument, NULL, 'A'},
	    {"observed", no_argument, NULL, 'o'},
	    {"window", required_argument, NULL, 'w'},
	    {"format", required_argument, NULL, 'f'},
	    {"no-store", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_alloc a;
	struct rec_opts ro = {
	    .store = 1, .format = -1, .fmt = BSP_ALLOC_INSTANCE};
	struct cli_entities ents;
	struct bsp_store *st;
	json_t *all_json;
	int c, rc, all = 0, failed = 0;

	cli_alloc_init(&a);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if ((rc = cli_alloc_opt(&a, c, optarg)) >= 0) {
			if (rc)
				return rc;
			continue;
		}
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'A':
			all = 1;
			break;
		case 'o':
			ro.observed = 1;
			break;
		case 'n':
			ro.store = 0;
			break;
		case 'w':
			if ((rc = cli_duration("window", optarg, &ro.window)))
				return rc;
			break;
		case 'f':
			if (bsp_alloc_format_parse(optarg, &ro.fmt))
				return cli_fail(
				    BSP_EINVAL,
				    "--format: '%s' is not libvirt, "
				    "k8s or instance",
				    optarg);
			ro.format = 1;
			break;
		default:
			return EXIT_USER;
		}
	}
	if ((rc = cli_alloc_load(&a)))
		goto done;
	if ((rc = cli_entities_get(cli, all, argc - optind, argv + optind,
				   &ents)))
		goto done;
	if (ro.format >= 0 && ro.fmt == BSP_ALLOC_LIBVIRT && ents.n != 1) {
		rc = cli_fail(BSP_EINVAL,
			      "--format libvirt: name exactly one entity");
		goto ents;
	}
	if ((rc = cli_open(cli, 0, &st)))
		goto ents;
	all_json = json_array();
	for (size_t i = 0; i < ents.n; i++) {
		int r1 =
		    rec_one(cli, st, &a, &ro, ents.names[i], all_json, ents.n);
		if (r1)
			failed = r1 > failed ? r1 : failed;
	}
	if (cli->json && ro.format < 0) {
		json_t *out = ents.n == 1 && json_array_size(all_json) == 1
				  ? json_array_get(all_json, 0)
				  : all_json;
		char *s =
		    json_dumps(out, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		if (s && (ents.n != 1 || json_array_size(all_json)))
			printf("%s\n", s);
		free(s);
	}
	json_decref(all_json);
	bsp_store_close(st);
	rc = failed;
ents:
	cli_entities_release(&ents);
done:
	cli_alloc_release(&a);
	return rc;
}
