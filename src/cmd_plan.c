/*
 * bespoke plan ENTITY: a time-varying allocation over the forecast
 * horizon (default a week): capacity rises one lead time before each
 * predicted rise and follows a fall only after the hold time, with a
 * hysteresis band against flapping; every stretch has its shape, expected
 * cost and risk (violation rate). Overrides win until they expire. The
 * plan is stored as a versioned document of kind "plan".
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_alloc.h"

static const char usage_text[] =
    "usage: bespoke plan ENTITY [options]\n\n"
    "A proactive plan over the forecast: the cheapest shape that covers\n"
    "the tier's quantile of the demand from HOLD before to LEAD after\n"
    "each moment; docs/allocation.md.\n\n" CLI_ALLOC_USAGE
    "                     (plan: --horizon 7d by default)\n"
    "  --lead DUR         resize/boot delay (the policy's lead_time)\n"
    "  --hold DUR         scale-down delay (the policy's hold_time)\n"
    "  --no-store         do not store the plan\n"
    "  --json             the plan as JSON\n";

json_t *cli_alloc_plan_json(const char *entity,
			    const struct bsp_alloc_catalog *cat,
			    const struct bsp_alloc_policy *pol,
			    const struct bsp_alloc_tier *tier,
			    const struct bsp_alloc_demand *d,
			    const struct bsp_alloc_plan *p, bsp_time lead,
			    bsp_time hold, const struct bsp_alloc_override *ov)
{
	json_t *o = json_object(), *steps = json_array();
	char t[40];

	json_object_set_new(o, "format", json_string("bespoke-plan"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "entity", json_string(entity));
	json_object_set_new(o, "tier", json_string(tier->name));
	json_object_set_new(o, "policy", json_string(pol->name));
	json_object_set_new(o, "profile_version",
			    json_integer(d->profile_version));
	json_object_set_new(o, "lead_seconds", json_integer(lead / BSP_SECOND));
	json_object_set_new(o, "hold_seconds", json_integer(hold / BSP_SECOND));
	json_object_set_new(o, "cost", json_real(p->cost));
	json_object_set_new(o, "violation", json_real(p->violation));
	json_object_set_new(o, "changes", json_integer((json_int_t)p->changes));
	json_object_set_new(o, "override_version",
			    ov ? json_integer(ov->version) : json_null());
	for (size_t i = 0; i < p->n; i++) {
		const struct bsp_alloc_step *s = &p->steps[i];
		json_t *j = json_object(), *need = json_object();
		json_object_set_new(
		    j, "from",
		    json_string(bsp_time_format(s->from, t, sizeof(t))));
		json_object_set_new(
		    j, "until",
		    json_string(bsp_time_format(s->until, t, sizeof(t))));
		json_object_set_new(j, "shape", json_string(s->choice.name));
		json_object_set_new(
		    j, "storage",
		    s->choice.storage >= 0
			? json_string(cat->storage[s->choice.storage].name)
			: json_null());
		json_object_set_new(j, "spot", json_boolean(s->choice.spot));
		json_object_set_new(j, "price_hour",
				    json_real(s->choice.price_hour));
		json_object_set_new(j, "cost", json_real(s->cost));
		json_object_set_new(j, "violation", json_real(s->violation));
		json_object_set_new(j, "override", json_boolean(s->override));
		json_object_set_new(j, "why", json_string(s->why));
		for (int r = 0; r < BSP_RES_N; r++)
			json_object_set_new(need, bsp_res_name((enum bsp_res)r),
					    isfinite(s->need[r])
						? json_real(s->need[r])
						: json_null());
		json_object_set_new(j, "need", need);
		json_array_append_new(steps, j);
	}
	json_object_set_new(o, "steps", steps);
	return o;
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    CLI_PREDICT_LONGOPTS,
	    CLI_ALLOC_LONGOPTS,
	    {"lead", required_argument, NULL, 'l'},
	    {"hold", required_argument, NULL, 'H'},
	    {"no-store", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_alloc a;
	struct bsp_store *st = NULL;
	struct bsp_alloc_demand d;
	struct bsp_alloc_current cur;
	struct bsp_alloc_override ov;
	struct bsp_alloc_plan plan;
	struct bsp_error err = {0};
	bsp_time lead = -1, hold = -1;
	int c, rc, store = 1, found = 0, have_d = 0, have_p = 0;
	char *text = NULL, f[40], u[40];
	json_t *doc = NULL;
	int64_t version = 0;

	cli_alloc_init(&a);
	a.popt.horizon = 7 * BSP_DAY;
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
		case 'l':
			if ((rc = cli_duration("lead", optarg, &lead)))
				return rc;
			break;
		case 'H':
			if ((rc = cli_duration("hold", optarg, &hold)))
				return rc;
			break;
		case 'n':
			store = 0;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind + 1 != argc)
		return cli_fail(BSP_EINVAL, "plan: name one entity");
	const char *entity = argv[optind];
	if ((rc = cli_alloc_load(&a)))
		goto out;
	if (lead < 0)
		lead = a.pol->lead;
	if (hold < 0)
		hold = a.pol->hold;
	if ((rc = cli_open(cli, 0, &st)))
		goto out;
	if (cli_alloc_demand(st, &a, entity, &d, &cur, &err))
		goto fail;
	have_d = 1;
	if (bsp_alloc_override_get(st, entity, d.start, &ov, &found, &err) ||
	    bsp_alloc_plan_make(a.cat, a.pol, a.tier, &d, found ? &ov : NULL,
				lead, hold, &plan, &err))
		goto fail;
	have_p = 1;
	doc = cli_alloc_plan_json(entity, a.cat, a.pol, a.tier, &d, &plan, lead,
				  hold, found ? &ov : NULL);
	text = json_dumps(doc, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	if (!text) {
		rc = cli_fail(BSP_ENOMEM, "plan: out of memory");
		goto out;
	}
	if (store &&
	    bsp_store_doc_put(st, "plan", entity, text, &version, &err))
		goto fail;
	if (cli->json) {
		if (version)
			json_object_set_new(doc, "plan_version",
					    json_integer(version));
		free(text);
		text =
		    json_dumps(doc, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		printf("%s\n", text ? text : "null");
		goto out;
	}
	printf("plan for %s: tier %s p%g, policy %s, lead %g min, hold %g min, "
	       "profile v%lld%s\n",
	       entity, a.tier->name, 100 * a.tier->quantile, a.pol->name,
	       (double)lead / BSP_MINUTE, (double)hold / BSP_MINUTE,
	       (long long)d.profile_version,
	       found ? ", override in force" : "");
	printf("%-20s %-20s %-22s %9s %9s %7s  %s\n", "FROM", "UNTIL", "SHAPE",
	       "$/H", "COST", "RISK", "WHY");
	for (size_t i = 0; i < plan.n; i++) {
		const struct bsp_alloc_step *s = &plan.steps[i];
		printf("%-20s %-20s %-22s %9.4f %9.2f %6.2f%%  %s%s\n",
		       bsp_time_format(s->from, f, sizeof(f)),
		       bsp_time_format(s->until, u, sizeof(u)), s->choice.name,
		       s->choice.price_hour, s->cost, 100 * s->violation,
		       s->why, s->override ? " [override]" : "");
	}
	printf("total $%.2f, expected violation %.2f%%, %zu changes", plan.cost,
	       100 * plan.violation, plan.changes);
	if (version)
		printf(", stored as plan v%lld", (long long)version);
	printf("\n");
	rc = EXIT_OK;
	goto out;
fail:
	rc = cli_alloc_fail(entity, &err);
out:
	json_decref(doc);
	free(text);
	if (have_p)
		bsp_alloc_plan_release(&plan);
	if (have_d)
		bsp_alloc_demand_release(&d);
	if (st)
		bsp_store_close(st);
	cli_alloc_release(&a);
	return rc;
}
