/*
 * bespoke: the program. git-style subcommands from one table; global
 * options (--db, --json) may come before the command or after it.
 *
 * Exit codes: 0 ok, 1 user error (one line on stderr saying what and
 * where), 2 internal error.
 *
 * To add a command: write src/cmd_NAME.c with `int cmd_NAME(struct cli *,
 * int, char **)`, declare it below and add one line to cli_commands[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cmd_ingest(struct cli *cli, int argc, char **argv);
int cmd_entities(struct cli *cli, int argc, char **argv);
int cmd_series(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_classify(struct cli *cli, int argc, char **argv);
int cmd_persona(struct cli *cli, int argc, char **argv);
int cmd_apps(struct cli *cli, int argc, char **argv);
int cmd_recommend_software(struct cli *cli, int argc, char **argv);
int cmd_demo(struct cli *cli, int argc, char **argv);
int cmd_train(struct cli *cli, int argc, char **argv);
int cmd_predict(struct cli *cli, int argc, char **argv);
int cmd_forecast(struct cli *cli, int argc, char **argv);
int cmd_backtest(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_collect(struct cli *cli, int argc, char **argv);
int cmd_feedback(struct cli *cli, int argc, char **argv);
int cmd_recommend(struct cli *cli, int argc, char **argv);
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_resize(struct cli *cli, int argc, char **argv);
int cmd_override(struct cli *cli, int argc, char **argv);
int cmd_anomalies(struct cli *cli, int argc, char **argv);
int cmd_simulate(struct cli *cli, int argc, char **argv);
int cmd_image(struct cli *cli, int argc, char **argv);
int cmd_deploy(struct cli *cli, int argc, char **argv);

const struct cli_command cli_commands[] = {
	{"ingest", cmd_ingest, "read telemetry files into the store"},
	{"entities", cmd_entities, "list users, VMs and workloads"},
	{"series", cmd_series, "list an entity's series"},
	{"export", cmd_export, "write samples as CSV or JSON (range or grid)"},
	{"stats", cmd_stats, "count entities, series, samples; bytes/sample"},
	{"check", cmd_check, "verify the store (integrity, every chunk)"},
	{"train", cmd_train, "fit and store forecasters per entity"},
	{"predict", cmd_predict, "an entity's Behaviour Profile (forecasts)"},
	{"forecast", cmd_forecast, "batch forecasts as CSV from a time"},
	{"backtest", cmd_backtest, "forecast accuracy against what happened"},
	{"feedback", cmd_feedback, "a stored profile against what happened"},
	{"anomalies", cmd_anomalies, "usage that left its forecast band"},
	{"classify", cmd_classify, "workload class: interactive or batch"},
	{"persona", cmd_persona, "who a user is: persona from text and use"},
	{"apps", cmd_apps, "next applications; coming hour and day"},
	{"recommend-software", cmd_recommend_software,
	 "software that users like this one rely on"},
	{"image", cmd_image, "personalized images: plan, build, validate, push"},
	{"deploy", cmd_deploy, "an image and its size to libvirt, k8s, ..."},
	{"serve", cmd_serve, "the HTTP API daemon"},
	{"collect", cmd_collect, "the agent: sample this machine, ship it"},
	{"recommend", cmd_recommend, "cheapest machine that meets the tier"},
	{"plan", cmd_plan, "time-varying allocation ahead of peaks"},
	{"resize", cmd_resize, "CPU and memory for the coming hour"},
	{"override", cmd_override, "administrator overrides of allocations"},
	{"simulate", cmd_simulate, "replay traces: bespoke vs VPA, Autopilot"},
	{"demo", cmd_demo, "generate a demo fleet and run the pipeline"},
	{NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bespoke [--db PATH] [--json] COMMAND [ARGS]\n\n"
		"bespoke learns how each user, VM or workload behaves and "
		"prepares its machine\nbefore it is needed.\n\n"
		"commands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out,
		"\n--db PATH    the store (default $BESPOKE_DB or "
		"./bespoke.db)\n"
		"--json       data as JSON where the command outputs data\n"
		"`bespoke COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	int i = 1;

	cli.db = getenv("BESPOKE_DB");
	if (!cli.db || !*cli.db)
		cli.db = "bespoke.db";
	cli.tty = isatty(2);

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			cli.db = argv[++i];
		} else if (!strncmp(argv[i], "--db=", 5)) {
			cli.db = argv[i] + 5;
		} else if (!strcmp(argv[i], "--json")) {
			cli.json = 1;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("bespoke %s\n", bsp_version());
			return EXIT_OK;
		} else {
			fprintf(stderr, "bespoke: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return EXIT_USER;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USER;
	}
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, argv[i]))
			return c->run(&cli, argc - i, argv + i);
	fprintf(stderr, "bespoke: '%s' is not a command; see bespoke --help\n",
		argv[i]);
	return EXIT_USER;
}
