/*
 * The bespoke program's shared pieces: the command table entry, exit codes,
 * common option handling and output helpers. Commands live one per file
 * (src/cmd_*.c) and use only the public API (include/bespoke/).
 */
#ifndef BSP_CLI_H
#define BSP_CLI_H

#include <stdio.h>

#include "bespoke/bespoke.h"

enum cli_exit {
	EXIT_OK = 0,
	EXIT_USER = 1,     /* a user error: one clear line on stderr */
	EXIT_INTERNAL = 2, /* our fault, or the machine's */
};

/* What every command gets: the store location and output flags. */
struct cli {
	const char *db; /* --db, $BESPOKE_DB, or ./bespoke.db */
	int json;       /* --json */
	int tty;        /* stderr is a terminal: progress lines allowed */
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

extern const struct cli_command cli_commands[];

/* Prints "bespoke: MESSAGE" and returns the exit code for `code`. */
int cli_fail(bsp_err code, const char *fmt, ...) BSP_PRINTF(2, 3);
/* Same for a filled bsp_error. */
int cli_fail_err(const struct bsp_error *err);

/* Opens the store named by cli->db (creating it if `create`). */
int cli_open(struct cli *cli, unsigned flags, struct bsp_store **st);

/*
 * getopt_long wrapper data: the common options every command accepts
 * (--db, --json, --help) are handled by cli_common_opt(); returns 1 if
 * the option was one of them (and acted on it).
 */
#define CLI_COMMON_LONGOPTS                                   \
	{"db", required_argument, NULL, 0x100},               \
		{"json", no_argument, NULL, 0x101},           \
		{"help", no_argument, NULL, 'h'}
int cli_common_opt(struct cli *cli, int opt, const char *arg);

/* Parses a time or a duration option, failing with the option's name. */
int cli_time(const char *opt, const char *arg, bsp_time *out);
int cli_duration(const char *opt, const char *arg, bsp_time *out);
int cli_size(const char *opt, const char *arg, long long min, long long max,
	     long long *out);

/*
 * The first line of a secret file (a token, a password), whole and
 * without its line end, into a malloc'd *out: tokens and passwords run to
 * kilobytes (a JWT, a cloud registry's password), so nothing is cut. An
 * empty line, or one over CLI_SECRET_MAX bytes, fails with the option's
 * name. Release with cli_secret_free, which wipes it first.
 */
#define CLI_SECRET_MAX 16000
int cli_secret_file(const char *opt, const char *path, char **out);
void cli_secret_free(char *s);

/*
 * Finds a shipped data file (personas.yaml, ...): `given` when not NULL,
 * else $BESPOKE_DATA/NAME, data/NAME beside the program's source tree,
 * PREFIX/share/bespoke/NAME, /usr/share/bespoke/NAME. The path goes to
 * buf; returns 0 when found (or given), -1 when not (no message).
 */
int cli_data_file(const char *given, const char *name, char *buf,
		  size_t size);

/* Shortest text that reads back as the same double ("NaN", "+Inf"...). */
void cli_fmt_double(double v, char *buf, size_t size);
/* Epoch seconds, with a fraction only when the milliseconds are not 0. */
void cli_fmt_epoch(bsp_time t, char *buf, size_t size);
/* "2013-07-01T00:00:00Z" or "-" for BSP_TIME_NONE. */
const char *cli_fmt_time(bsp_time t, char *buf, size_t size);
/* 1234567 → "1.23M" */
void cli_fmt_count(double n, char *buf, size_t size);

/* Usage text for `bespoke CMD --help`. */
void cli_usage(FILE *out, const char *text);

#endif
