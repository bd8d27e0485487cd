/*
 * Options and helpers shared by the prediction commands (train, predict,
 * forecast, backtest).
 */
#ifndef BSP_CLI_PREDICT_H
#define BSP_CLI_PREDICT_H

#include <getopt.h>

#include "bespoke/profile.h"
#include "cli.h"

#define CLI_PREDICT_LONGOPTS                                          \
	{"metrics", required_argument, NULL, 0x200},                  \
		{"metric", required_argument, NULL, 0x200},           \
		{"step", required_argument, NULL, 0x201},             \
		{"horizon", required_argument, NULL, 0x202},          \
		{"history", required_argument, NULL, 0x203},          \
		{"model", required_argument, NULL, 0x204},            \
		{"origins", required_argument, NULL, 0x205}

/*
 * Handles one of CLI_PREDICT_LONGOPTS into `opt`: returns -1 when `c` is
 * not one of them, 0 when handled, or an exit code for a bad value. The
 * metric list points into `arg` (argv), which outlives the options.
 */
int cli_predict_opt(struct bsp_profile_options *opt, int c, char *arg);

/* Entity names: every entity (all) or the ones named (checked to exist). */
struct cli_entities {
	char **names;
	size_t n;
};
int cli_entities_get(struct cli *cli, int all, int argc, char **argv,
		     struct cli_entities *out);
void cli_entities_release(struct cli_entities *e);

#endif
