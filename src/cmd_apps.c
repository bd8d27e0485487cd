/*
 * bespoke apps ENTITY | --evaluate PATH...: the applications an entity
 * will run next (variable-order Markov model over its own events, blended
 * with a population model of every entity in the store) and those it
 * will use in the coming hour and day; or the next-command evaluation on
 * command-history files against two baselines.
 *
 * bespoke recommend-software ENTITY | --evaluate: applications the
 * entity does not use but similar users rely on (item-item collaborative
 * filtering over every entity's usage), or a hold-out evaluation.
 *
 * Both read events of kind "app" and "command" only.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/apps.h"
#include "cli.h"

static const char apps_usage[] =
	"usage: bespoke apps ENTITY [--top K] [options]\n"
	"       bespoke apps --evaluate PATH... [--train-first N] [options]\n\n"
	"The applications ENTITY will run next after its latest ones, with\n"
	"probabilities, and those it will use in the coming hour and day.\n"
	"--evaluate predicts each command of history files (one command per\n"
	"line, one file per user; a folder stands for its files; label.txt\n"
	"next to them marks blocks to skip) after the first N, and prints\n"
	"hit@1 and hit@5 of the model and two baselines.\n\n"
	"  --top K            applications to list (5)\n"
	"  --train-first N    commands per user to train on (5000)\n"
	"  --order N          longest context, 0..3 (3)\n"
	"  --decay D          per-event decay of the user's counts (1: none)\n"
	"  --no-population    no all-users model\n";

static const char rec_usage[] =
	"usage: bespoke recommend-software ENTITY [--top K]\n"
	"       bespoke recommend-software --evaluate [--holdout F] [--seed N]\n\n"
	"Applications ENTITY does not use but users like it rely on\n"
	"(item-item cosine over every entity's usage), with the applications\n"
	"and users behind each. --evaluate hides a share of each user's\n"
	"applications (users with at least --min-apps), recommends --top, and\n"
	"prints recall against a popularity baseline.\n\n"
	"  --top K            recommendations (10)\n"
	"  --holdout F        share of applications hidden, 0 < F < 1 (0.2)\n"
	"  --seed N           the hidden choice (1)\n"
	"  --min-apps N       distinct applications a user needs (10)\n";

static int usable(const struct bsp_event *e)
{
	return !strcmp(e->kind, "app") || !strcmp(e->kind, "command");
}

static void print_json(json_t *root)
{
	char *s = json_dumps(root, JSON_COMPACT);
	if (s)
		puts(s);
	free(s);
}

static int parse_double(const char *opt, const char *arg, double lo, double hi,
			double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v > lo && v < hi))
		return cli_fail(BSP_EINVAL, "--%s: '%s' must be a number "
				"between %g and %g (exclusive)", opt, arg, lo, hi);
	*out = v;
	return EXIT_OK;
}

/* Every entity's usable events, for building the population models. */
struct fleet {
	struct bsp_entity *ents;
	size_t n;
	struct bsp_event **ev;
	size_t *n_ev;
};

static void fleet_release(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->ev)
			bsp_events_free(f->ev[i], f->n_ev[i]);
	free(f->ev);
	free(f->n_ev);
	bsp_entities_free(f->ents, f->n);
}

static int fleet_load(struct cli *cli, const char *entity, struct fleet *f,
		      size_t *target)
{
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	int rc;

	memset(f, 0, sizeof(*f));
	*target = SIZE_MAX;
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (bsp_store_entities(st, &f->ents, &f->n, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	f->ev = calloc(f->n + 1, sizeof(*f->ev));
	f->n_ev = calloc(f->n + 1, sizeof(*f->n_ev));
	if (!f->ev || !f->n_ev) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->n; i++) {
		size_t k = 0;
		if (entity && !strcmp(f->ents[i].name, entity))
			*target = i;
		if (!f->ents[i].n_events)
			continue;
		if (bsp_store_events(st, f->ents[i].name, BSP_TIME_NONE,
				     INT64_MAX, &f->ev[i], &f->n_ev[i],
				     &err) != BSP_OK) {
			rc = cli_fail_err(&err);
			goto out;
		}
		/* Keep the usable ones, in order. */
		for (size_t j = 0; j < f->n_ev[i]; j++) {
			if (usable(&f->ev[i][j])) {
				struct bsp_event t = f->ev[i][k];
				f->ev[i][k++] = f->ev[i][j];
				f->ev[i][j] = t;
			}
		}
		/* The unusable ones were swapped to the end: free them. */
		for (size_t j = k; j < f->n_ev[i]; j++) {
			free(f->ev[i][j].kind);
			free(f->ev[i][j].name);
		}
		f->n_ev[i] = k;
	}
	if (entity && *target == SIZE_MAX)
		rc = cli_fail(BSP_ENOTFOUND, "unknown entity '%s'", entity);
	else if (entity && !f->n_ev[*target])
		rc = cli_fail(BSP_EINVAL,
			      "'%s' has no app or command events", entity);
out:
	bsp_store_close(st);
	if (rc)
		fleet_release(f);
	return rc;
}

static json_t *preds_json(const struct bsp_apps_pred *p, size_t n, size_t k)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n && i < k; i++)
		json_array_append_new(a, json_pack("{s:s,s:f}", "app", p[i].app,
						   "p", p[i].p));
	return a;
}

static void preds_print(const char *title, const struct bsp_apps_pred *p,
			size_t n, size_t k)
{
	printf("%s\n", title);
	if (!n)
		printf("  (none)\n");
	for (size_t i = 0; i < n && i < k; i++)
		printf("  %-24s %.3f\n", p[i].app, p[i].p);
}

static int apps_entity(struct cli *cli, const char *entity, size_t top,
		       const struct bsp_apps_options *opt)
{
	struct fleet f;
	struct bsp_apps *m = NULL;
	struct bsp_apps_coming coming = {0};
	struct bsp_error err = {0};
	struct bsp_apps_pred *pred = NULL;
	const char *ctx[BSP_APPS_MAX_ORDER];
	size_t target, n_pred = 0, n_ctx, tuser = 0;
	bsp_time at;
	int rc;

	if ((rc = fleet_load(cli, entity, &f, &target)))
		return rc;
	if (bsp_apps_new(&m, opt, &err) ||
	    !(pred = calloc(top, sizeof(*pred)))) {
		rc = cli_fail(err.code ? err.code : BSP_ENOMEM, "%s",
			      err.code ? err.msg : "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f.n; i++) {
		unsigned learn = BSP_APPS_LEARN_POPULATION;
		size_t user;
		if (!f.n_ev[i] || (!opt->population && i != target))
			continue;
		if (i == target)
			learn |= BSP_APPS_LEARN_USER;
		if (bsp_apps_user(m, f.ents[i].name, &user, &err))
			goto fail;
		if (i == target)
			tuser = user;
		for (size_t j = 0; j < f.n_ev[i]; j++)
			if (bsp_apps_observe(m, user, f.ev[i][j].name,
					     f.ev[i][j].ts, learn, &err))
				goto fail;
	}
	at = f.ev[target][f.n_ev[target] - 1].ts;
	if (bsp_apps_predict(m, tuser, at, top, pred, &n_pred, &err) ||
	    bsp_apps_coming(f.ev[target], f.n_ev[target], BSP_TIME_NONE, opt,
			    &coming, &err))
		goto fail;
	n_ctx = bsp_apps_context(m, tuser, ctx, BSP_APPS_MAX_ORDER);
	if (cli->json) {
		json_t *root = json_object(), *c = json_array(), *h, *d;
		for (size_t i = 0; i < n_ctx; i++)
			json_array_append_new(c, json_string(ctx[i]));
		if (coming.timed) {
			h = json_pack("{s:s,s:i,s:i}", "basis", "hour_of_day",
				      "hour_utc", (json_int_t)coming.hour_utc,
				      "days", (json_int_t)coming.days);
			d = json_pack("{s:s,s:i}", "basis", "days", "days",
				      (json_int_t)coming.days);
		} else {
			h = json_pack("{s:s,s:i}", "basis", "next_commands",
				      "commands", (json_int_t)coming.hour_window);
			d = json_pack("{s:s,s:i}", "basis", "next_commands",
				      "commands", (json_int_t)coming.day_window);
		}
		json_object_set_new(h, "apps", preds_json(coming.hour,
							  coming.n_hour, top));
		json_object_set_new(d, "apps", preds_json(coming.day,
							  coming.n_day, top));
		json_object_set_new(root, "entity", json_string(entity));
		json_object_set_new(root, "events",
				    json_integer((json_int_t)f.n_ev[target]));
		json_object_set_new(root, "context", c);
		json_object_set_new(root, "next", preds_json(pred, n_pred, top));
		json_object_set_new(root, "coming_hour", h);
		json_object_set_new(root, "coming_day", d);
		print_json(root);
		json_decref(root);
	} else {
		char title[128];
		printf("%s: %zu events; latest:", entity, f.n_ev[target]);
		for (size_t i = 0; i < n_ctx; i++)
			printf(" %s", ctx[i]);
		printf("\n");
		preds_print("next application:", pred, n_pred, top);
		if (coming.timed)
			snprintf(title, sizeof(title),
				 "coming hour (%02u:00 UTC, over %u days):",
				 coming.hour_utc, coming.days);
		else
			snprintf(title, sizeof(title),
				 "coming hour (next %zu commands):",
				 coming.hour_window);
		preds_print(title, coming.hour, coming.n_hour, top);
		if (coming.timed)
			snprintf(title, sizeof(title),
				 "coming day (over %u days):", coming.days);
		else
			snprintf(title, sizeof(title),
				 "coming day (next %zu commands):",
				 coming.day_window);
		preds_print(title, coming.day, coming.n_day, top);
	}
	rc = EXIT_OK;
	goto out;
fail:
	rc = cli_fail_err(&err);
out:
	bsp_apps_coming_release(&coming);
	free(pred);
	bsp_apps_free(m);
	fleet_release(&f);
	return rc;
}

static double pct(uint64_t a, uint64_t n)
{
	return n ? 100.0 * (double)a / (double)n : 0.0;
}

static int apps_evaluate(struct cli *cli, char **paths, size_t n,
			 size_t train_first, const struct bsp_apps_options *opt)
{
	struct bsp_apps_eval ev;
	struct bsp_error err = {0};
	const struct {
		const char *name;
		const struct bsp_apps_score *s;
	} rows[] = {
		{"bespoke", &ev.model},
		{"most_frequent", &ev.mfc},
		{"markov1", &ev.markov1},
	};

	if (!n)
		return cli_fail(BSP_EINVAL, "--evaluate: name history files");
	if (bsp_apps_evaluate(paths, n, train_first, opt, &ev, &err))
		return cli_fail_err(&err);
	if (cli->json) {
		json_t *root = json_pack(
			"{s:i,s:i,s:b,s:I,s:i,s:[]}", "users",
			(json_int_t)ev.users, "train_first",
			(json_int_t)train_first, "labels", ev.labels,
			"skipped", (json_int_t)ev.skipped, "order",
			(json_int_t)opt->order, "rows");
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			json_array_append_new(
				json_object_get(root, "rows"),
				json_pack("{s:s,s:I,s:f,s:f}", "model",
					  rows[i].name, "predictions",
					  (json_int_t)rows[i].s->n, "hit1",
					  pct(rows[i].s->hit1, rows[i].s->n) / 100,
					  "hit5",
					  pct(rows[i].s->hit5, rows[i].s->n) / 100));
		print_json(root);
		json_decref(root);
		return EXIT_OK;
	}
	printf("%zu users, first %zu commands train, %llu predictions%s\n",
	       ev.users, train_first, (unsigned long long)ev.model.n,
	       ev.labels ? "" : " (no label.txt)");
	if (ev.labels)
		printf("masquerade blocks skipped: %llu commands\n",
		       (unsigned long long)ev.skipped);
	printf("%-16s %8s %8s\n", "model", "hit@1", "hit@5");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("%-16s %7.2f%% %7.2f%%\n", rows[i].name,
		       pct(rows[i].s->hit1, rows[i].s->n),
		       pct(rows[i].s->hit5, rows[i].s->n));
	return EXIT_OK;
}

int cmd_apps(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"top", required_argument, NULL, 0x300},
		{"evaluate", no_argument, NULL, 0x301},
		{"train-first", required_argument, NULL, 0x302},
		{"order", required_argument, NULL, 0x303},
		{"no-population", no_argument, NULL, 0x304},
		{"decay", required_argument, NULL, 0x305},
		{NULL, 0, NULL, 0},
	};
	struct bsp_apps_options opt;
	long long top = 5, train_first = 5000, v;
	int c, rc, evaluate = 0;

	bsp_apps_options_init(&opt);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, apps_usage);
			return EXIT_OK;
		case 0x300:
			if ((rc = cli_size("top", optarg, 1, 1000, &top)))
				return rc;
			break;
		case 0x301:
			evaluate = 1;
			break;
		case 0x302:
			if ((rc = cli_size("train-first", optarg, 1, 100000000,
					   &train_first)))
				return rc;
			break;
		case 0x303:
			if ((rc = cli_size("order", optarg, 0,
					   BSP_APPS_MAX_ORDER, &v)))
				return rc;
			opt.order = (unsigned)v;
			break;
		case 0x304:
			opt.population = 0;
			break;
		case 0x305:
			if (!strcmp(optarg, "1")) {
				opt.decay = 1;
				break;
			}
			if ((rc = parse_double("decay", optarg, 0, 1,
					       &opt.decay)))
				return rc;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (evaluate)
		return apps_evaluate(cli, argv + optind, (size_t)(argc - optind),
				     (size_t)train_first, &opt);
	if (argc - optind != 1)
		return cli_fail(BSP_EINVAL, "apps: name one entity (or "
				"--evaluate PATH...); see --help");
	return apps_entity(cli, argv[optind], (size_t)top, &opt);
}

static json_t *reasons_json(const char *const *names, const double *sims,
			    size_t n, const char *key)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:f}", key, names[i],
						   "similarity", sims[i]));
	return a;
}

static int cf_load(struct cli *cli, const char *entity, struct bsp_cf **cf)
{
	struct fleet f;
	struct bsp_error err = {0};
	size_t target;
	int rc;

	*cf = NULL;
	if ((rc = fleet_load(cli, entity, &f, &target)))
		return rc;
	if (bsp_cf_new(cf, &err))
		goto fail;
	for (size_t i = 0; i < f.n; i++)
		for (size_t j = 0; j < f.n_ev[i]; j++)
			if (bsp_cf_add(*cf, f.ents[i].name, f.ev[i][j].name, 1,
				       &err))
				goto fail;
	fleet_release(&f);
	return EXIT_OK;
fail:
	fleet_release(&f);
	bsp_cf_free(*cf);
	*cf = NULL;
	return cli_fail_err(&err);
}

int cmd_recommend_software(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"top", required_argument, NULL, 0x300},
		{"evaluate", no_argument, NULL, 0x301},
		{"holdout", required_argument, NULL, 0x302},
		{"seed", required_argument, NULL, 0x303},
		{"min-apps", required_argument, NULL, 0x304},
		{NULL, 0, NULL, 0},
	};
	struct bsp_cf *cf = NULL;
	struct bsp_cf_rec *rec = NULL;
	struct bsp_error err = {0};
	long long top = 10, seed = 1, min_apps = 10;
	double holdout = 0.2;
	size_t n = 0;
	int c, rc, evaluate = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, rec_usage);
			return EXIT_OK;
		case 0x300:
			if ((rc = cli_size("top", optarg, 1, 1000, &top)))
				return rc;
			break;
		case 0x301:
			evaluate = 1;
			break;
		case 0x302:
			if ((rc = parse_double("holdout", optarg, 0, 1,
					       &holdout)))
				return rc;
			break;
		case 0x303:
			if ((rc = cli_size("seed", optarg, 0, INT64_MAX, &seed)))
				return rc;
			break;
		case 0x304:
			if ((rc = cli_size("min-apps", optarg, 2, 1000000,
					   &min_apps)))
				return rc;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (evaluate) {
		struct bsp_cf_eval ev;
		if (argc != optind)
			return cli_fail(BSP_EINVAL, "--evaluate takes no "
					"entity: it scores every user");
		if ((rc = cf_load(cli, NULL, &cf)))
			return rc;
		if (bsp_cf_evaluate(cf, holdout, (uint64_t)seed,
				    (size_t)min_apps, (size_t)top, &ev, &err)) {
			rc = cli_fail_err(&err);
			goto out;
		}
		if (cli->json) {
			json_t *root = json_pack(
				"{s:I,s:I,s:f,s:I,s:I,s:f,s:f}", "users",
				(json_int_t)ev.users, "hidden",
				(json_int_t)ev.hidden, "holdout", holdout,
				"seed", (json_int_t)seed, "k", (json_int_t)top,
				"recall_model", ev.recall_model,
				"recall_popularity", ev.recall_popularity);
			print_json(root);
			json_decref(root);
		} else {
			printf("%zu users with >= %lld applications, %.0f%% "
			       "hidden (%zu), seed %lld\n",
			       ev.users, min_apps, holdout * 100, ev.hidden,
			       seed);
			printf("%-16s  recall@%lld\n", "model", top);
			printf("%-16s %9.2f%%\n", "item_cosine",
			       100 * ev.recall_model);
			printf("%-16s %9.2f%%\n", "popularity",
			       100 * ev.recall_popularity);
		}
		rc = EXIT_OK;
		goto out;
	}
	if (argc - optind != 1)
		return cli_fail(BSP_EINVAL, "recommend-software: name one "
				"entity (or --evaluate); see --help");
	if ((rc = cf_load(cli, argv[optind], &cf)))
		return rc;
	if (!(rec = calloc((size_t)top, sizeof(*rec)))) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (bsp_cf_recommend(cf, argv[optind], (size_t)top, rec, &n, &err)) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (cli->json) {
		json_t *root = json_object(), *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_pack("{s:s,s:f}", "app", rec[i].app,
					      "score", rec[i].score);
			json_object_set_new(o, "because",
					    reasons_json(rec[i].because,
							 rec[i].because_sim,
							 rec[i].n_because, "app"));
			json_object_set_new(o, "similar_users",
					    reasons_json(rec[i].users,
							 rec[i].users_sim,
							 rec[i].n_users, "user"));
			json_array_append_new(a, o);
		}
		json_object_set_new(root, "entity", json_string(argv[optind]));
		json_object_set_new(root, "recommendations", a);
		print_json(root);
		json_decref(root);
	} else {
		printf("%s: %zu recommendations\n", argv[optind], n);
		for (size_t i = 0; i < n; i++) {
			printf("  %-24s %.3f  because:", rec[i].app,
			       rec[i].score);
			for (size_t j = 0; j < rec[i].n_because; j++)
				printf(" %s", rec[i].because[j]);
			printf("; users:");
			for (size_t j = 0; j < rec[i].n_users; j++)
				printf(" %s", rec[i].users[j]);
			printf("\n");
		}
	}
	rc = EXIT_OK;
out:
	free(rec);
	bsp_cf_free(cf);
	return rc;
}
