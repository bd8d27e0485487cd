/*
 * bespoke classify: the workload class of VMs and users, interactive or
 * delay-insensitive (batch).
 *
 *   --train FILE     fit on a labelled vmtable file, print the
 *                    cross-validation table against the majority
 *                    baseline, store the model as the next version
 *   --evaluate FILE  score the stored model on a labelled file
 *   ENTITY | --all   classify stored entities with the stored model
 *
 * --train may be combined with entities: train first, then classify.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bespoke/classify.h"
#include "cli.h"

static const char usage_text[] =
	"usage: bespoke classify --train FILE [--folds K] [--seed N]\n"
	"       bespoke classify --evaluate FILE\n"
	"       bespoke classify [--train FILE] ENTITY... | --all\n\n"
	"Interactive or delay-insensitive (batch), by an L2-regularised\n"
	"logistic regression on CPU summaries (max, mean, p95 of 5-minute\n"
	"maxima) and their ratios. Training files are Azure vmtable CSV\n"
	"with vm_category labels; rows labelled Unknown are ignored.\n\n"
	"  --train FILE     fit, print k-fold CV against the majority\n"
	"                   baseline, store the model (next version)\n"
	"  --evaluate FILE  score the stored model on a labelled file\n"
	"  --all            every entity in the store\n"
	"  --folds K        cross-validation folds (5)\n"
	"  --seed N         fold shuffle seed (1)\n"
	"  --lambda X       L2 penalty on standardised features (1)\n"
	"  --model-version V  use this stored version (latest)\n";

struct cls_opts {
	const char *train, *evaluate;
	long long folds, seed, version;
	double lambda;
	int all;
};

static void print_metrics_row(const char *name,
			      const struct bsp_cls_metrics *m)
{
	printf("%-14s %8.3f %13.3f %9.3f\n", name, m->accuracy,
	       m->balanced_accuracy, m->macro_f1);
}

static json_t *metrics_json(const struct bsp_cls_metrics *m)
{
	return json_pack("{s:I,s:f,s:f,s:f,s:{s:I,s:I,s:I,s:I}}", "n",
			 (json_int_t)m->n, "accuracy", m->accuracy,
			 "balanced_accuracy", m->balanced_accuracy, "macro_f1",
			 m->macro_f1, "confusion", "tp", (json_int_t)m->tp,
			 "tn", (json_int_t)m->tn, "fp", (json_int_t)m->fp, "fn",
			 (json_int_t)m->fn);
}

static int print_json(json_t *o)
{
	if (!o)
		return cli_fail(BSP_ENOMEM, "out of memory");
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (!s)
		return cli_fail(BSP_ENOMEM, "out of memory");
	puts(s);
	free(s);
	return EXIT_OK;
}

static int do_train(struct cli *cli, struct bsp_store *st,
		    const struct cls_opts *o, int quiet)
{
	struct bsp_cls_data d = {0};
	struct bsp_cls_metrics mm, mb;
	struct bsp_cls_model m;
	struct bsp_error err = {0};
	size_t skipped = 0;
	int64_t version = 0;
	json_t *tr = NULL;
	char *extra = NULL;
	int rc = EXIT_OK;

	if (bsp_cls_load_vmtable(o->train, &d, &skipped, &err) != BSP_OK ||
	    bsp_cls_cross_validate(&d, (size_t)o->folds, (uint64_t)o->seed,
				   o->lambda, &mm, &mb, &err) != BSP_OK ||
	    bsp_cls_train(&d, o->lambda, &m, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	tr = json_pack("{s:s,s:I,s:I,s:{s:I,s:I,s:o,s:o}}", "file", o->train,
		       "rows", (json_int_t)d.n, "skipped_unknown",
		       (json_int_t)skipped, "cv", "folds", o->folds, "seed",
		       o->seed, "model", metrics_json(&mm), "baseline",
		       metrics_json(&mb));
	extra = tr ? json_dumps(tr, JSON_COMPACT | JSON_REAL_PRECISION(17))
		   : NULL;
	if (!extra) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (bsp_cls_model_save(st, &m, extra, &version, &err) != BSP_OK) {
		rc = cli_fail_err(&err);
		goto out;
	}
	if (quiet)
		goto out;
	if (cli->json) {
		json_object_set_new(tr, "model_version", json_integer(version));
		json_object_set_new(tr, "interactive",
				    json_integer((json_int_t)m.n_interactive));
		rc = print_json(json_incref(tr));
		goto out;
	}
	printf("training: %s: %zu rows (%zu interactive, %zu "
	       "delay-insensitive), %zu Unknown ignored\n",
	       o->train, d.n, m.n_interactive, d.n - m.n_interactive, skipped);
	printf("%lld-fold stratified cross-validation (seed %lld), pooled:\n",
	       o->folds, o->seed);
	printf("%-14s %8s %13s %9s\n", "model", "accuracy", "balanced_acc",
	       "macro_f1");
	print_metrics_row("logistic-l2", &mm);
	print_metrics_row("majority", &mb);
	printf("stored classifier version %lld\n", (long long)version);
out:
	json_decref(tr);
	free(extra);
	bsp_cls_data_release(&d);
	return rc;
}

static int load_model(struct bsp_store *st, const struct cls_opts *o,
		      struct bsp_cls_model *m, int64_t *version)
{
	struct bsp_error err = {0};
	bsp_err r = bsp_cls_model_load(st, o->version, m, version, &err);
	if (r == BSP_ENOTFOUND)
		return cli_fail(BSP_ENOTFOUND,
				"no classifier stored%s; train one first: "
				"bespoke classify --train VMTABLE.csv (e.g. "
				"the Azure V1 vmtable-sample.csv)",
				o->version ? " at that version" : "");
	return r == BSP_OK ? EXIT_OK : cli_fail_err(&err);
}

static int do_evaluate(struct cli *cli, struct bsp_store *st,
		       const struct cls_opts *o)
{
	struct bsp_cls_data d = {0};
	struct bsp_cls_model m;
	struct bsp_cls_metrics mm;
	struct bsp_error err = {0};
	int64_t version = 0;
	int *yhat = NULL, rc;

	if ((rc = load_model(st, o, &m, &version)))
		return rc;
	if (bsp_cls_load_vmtable(o->evaluate, &d, NULL, &err) != BSP_OK)
		return cli_fail_err(&err);
	if (!(yhat = malloc(d.n * sizeof(*yhat)))) {
		bsp_cls_data_release(&d);
		return cli_fail(BSP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < d.n; i++) {
		struct bsp_cls_features f;
		memcpy(f.x, d.x + i * BSP_CLS_NFEATURES, sizeof(f.x));
		yhat[i] = bsp_cls_predict(&m, &f) >= 0.5;
	}
	bsp_cls_metrics_compute(d.y, yhat, d.n, &mm);
	if (cli->json) {
		json_t *j = metrics_json(&mm);
		json_object_set_new(j, "model_version", json_integer(version));
		json_object_set_new(j, "file", json_string(o->evaluate));
		rc = print_json(j);
	} else {
		printf("classifier version %lld on %s (%zu rows):\n",
		       (long long)version, o->evaluate, d.n);
		printf("%-14s %8s %13s %9s\n", "model", "accuracy",
		       "balanced_acc", "macro_f1");
		print_metrics_row("logistic-l2", &mm);
	}
	free(yhat);
	bsp_cls_data_release(&d);
	return rc;
}

static int do_entities(struct cli *cli, struct bsp_store *st,
		       const struct cls_opts *o, int argc, char **argv)
{
	struct bsp_cls_model m;
	struct bsp_entity *ents = NULL;
	struct bsp_error err = {0};
	size_t n = 0;
	int64_t version = 0;
	json_t *arr = NULL;
	int rc;

	if ((rc = load_model(st, o, &m, &version)))
		return rc;
	if (o->all) {
		if (bsp_store_entities(st, &ents, &n, &err) != BSP_OK)
			return cli_fail_err(&err);
	} else {
		n = (size_t)argc;
	}
	if (cli->json && !(arr = json_array())) {
		rc = cli_fail(BSP_ENOMEM, "out of memory");
		goto out;
	}
	if (!cli->json)
		printf("%-32s %-18s %7s  %s\n", "entity", "class",
		       "p(inter)", "features from");
	for (size_t i = 0; i < n; i++) {
		const char *name = o->all ? ents[i].name : argv[i];
		struct bsp_cls_features f;
		bsp_err r = bsp_cls_features_entity(st, name, &f, &err);
		if (r != BSP_OK) {
			/* With --all, entities without CPU data are skipped;
			 * a named one that cannot be classified is an error. */
			if (o->all && r == BSP_EINVAL)
				continue;
			rc = cli_fail_err(&err);
			goto out;
		}
		double p = bsp_cls_predict(&m, &f);
		const char *cls = p >= 0.5 ? "interactive" : "delay-insensitive";
		if (!cli->json) {
			printf("%-32s %-18s %7.3f  %s\n", name, cls, p,
			       f.source);
			continue;
		}
		json_t *feat = json_object(), *e;
		for (size_t j = 0; j < BSP_CLS_NFEATURES; j++)
			json_object_set_new(feat, bsp_cls_feature_name(j),
					    isfinite(f.x[j]) ? json_real(f.x[j])
							     : json_null());
		e = json_pack("{s:s,s:s,s:f,s:s,s:o,s:I}", "entity", name,
			      "class", cls, "p_interactive", p, "source",
			      f.source, "features", feat, "model_version",
			      (json_int_t)version);
		if (!e || json_array_append_new(arr, e)) {
			rc = cli_fail(BSP_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (cli->json) {
		rc = print_json(o->all ? json_pack("{s:I,s:o}", "model_version",
						   (json_int_t)version,
						   "entities", arr)
				       : (json_array_size(arr) == 1
						  ? json_incref(
							    json_array_get(arr, 0))
						  : json_incref(arr)));
		if (!o->all)
			json_decref(arr);
		arr = NULL;
	} else {
		printf("classifier version %lld\n", (long long)version);
	}
out:
	json_decref(arr);
	bsp_entities_free(ents, o->all ? n : 0);
	return rc;
}

int cmd_classify(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"train", required_argument, NULL, 't'},
		{"evaluate", required_argument, NULL, 'e'},
		{"all", no_argument, NULL, 'A'},
		{"folds", required_argument, NULL, 'k'},
		{"seed", required_argument, NULL, 's'},
		{"lambda", required_argument, NULL, 'l'},
		{"model-version", required_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cls_opts o = {.folds = 5, .seed = 1, .lambda = BSP_CLS_LAMBDA};
	struct bsp_store *st = NULL;
	char *end;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 't':
			o.train = optarg;
			break;
		case 'e':
			o.evaluate = optarg;
			break;
		case 'A':
			o.all = 1;
			break;
		case 'k':
			if ((rc = cli_size("folds", optarg, 2, 100, &o.folds)))
				return rc;
			break;
		case 's':
			if ((rc = cli_size("seed", optarg, 0, INT64_MAX,
					   &o.seed)))
				return rc;
			break;
		case 'V':
			if ((rc = cli_size("model-version", optarg, 1,
					   INT64_MAX, &o.version)))
				return rc;
			break;
		case 'l':
			o.lambda = strtod(optarg, &end);
			if (*end || !(o.lambda >= 0) || !isfinite(o.lambda))
				return cli_fail(BSP_EINVAL,
						"--lambda: '%s' is not a "
						"number >= 0",
						optarg);
			break;
		default:
			return EXIT_USER;
		}
	}
	argc -= optind;
	argv += optind;
	int classify = o.all || argc > 0;
	if (o.all && argc > 0)
		return cli_fail(BSP_EINVAL,
				"name entities or give --all (not both)");
	if (!o.train && !o.evaluate && !classify)
		return cli_fail(BSP_EINVAL,
				"give --train FILE, --evaluate FILE, entities "
				"or --all (see bespoke classify --help)");
	if (o.evaluate && classify)
		return cli_fail(BSP_EINVAL,
				"--evaluate does not take entities");
	if ((rc = cli_open(cli, o.train ? BSP_OPEN_CREATE : BSP_OPEN_READONLY,
			   &st)))
		return rc;
	int json = cli->json;
	if (o.train) {
		/* With entities and --json, stdout stays one JSON document:
		 * the training report is left out (it is in the stored
		 * model's "training" member). */
		rc = do_train(cli, st, &o, classify && json);
	}
	if (!rc && o.evaluate)
		rc = do_evaluate(cli, st, &o);
	if (!rc && classify)
		rc = do_entities(cli, st, &o, argc, argv);
	bsp_store_close(st);
	return rc;
}
