/*
 * Helpers shared by the commands: error exits, opening the store, common
 * options, and number/time formatting that round-trips.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(bsp_err code, const char *fmt, ...)
{
	va_list ap;

	fputs("bespoke: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return bsp_err_is_user(code) ? EXIT_USER : EXIT_INTERNAL;
}

int cli_fail_err(const struct bsp_error *err)
{
	return cli_fail(err->code, "%s",
			err->msg[0] ? err->msg : bsp_strerror(err->code));
}

int cli_open(struct cli *cli, unsigned flags, struct bsp_store **st)
{
	struct bsp_error err = {0};

	if (bsp_store_open(st, cli->db, flags, &err) != BSP_OK)
		return cli_fail_err(&err);
	return EXIT_OK;
}

int cli_common_opt(struct cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case 0x100:
		cli->db = arg;
		return 1;
	case 0x101:
		cli->json = 1;
		return 1;
	}
	return 0;
}

int cli_time(const char *opt, const char *arg, bsp_time *out)
{
	if (bsp_time_parse(arg, strlen(arg), out) != BSP_OK)
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a time (epoch seconds or "
				"RFC 3339, e.g. 2013-08-01T00:00:00Z)",
				opt, arg);
	return EXIT_OK;
}

int cli_duration(const char *opt, const char *arg, bsp_time *out)
{
	if (bsp_duration_parse(arg, out) != BSP_OK || *out <= 0)
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a duration (e.g. 300, 5m, "
				"1h, 7d)",
				opt, arg);
	return EXIT_OK;
}

int cli_size(const char *opt, const char *arg, long long min, long long max,
	     long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || *out < min || *out > max)
		return cli_fail(BSP_EINVAL,
				"--%s: '%s' is not a whole number from %lld "
				"to %lld",
				opt, arg, min, max);
	return EXIT_OK;
}

void cli_fmt_double(double v, char *buf, size_t size)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* The shortest of %.15g..%.17g that reads back exactly. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

void cli_fmt_epoch(bsp_time t, char *buf, size_t size)
{
	if (t % 1000 == 0)
		snprintf(buf, size, "%lld", (long long)(t / 1000));
	else
		snprintf(buf, size, "%.3f", (double)t / 1000.0);
}

const char *cli_fmt_time(bsp_time t, char *buf, size_t size)
{
	if (t == BSP_TIME_NONE) {
		snprintf(buf, size, "-");
		return buf;
	}
	return bsp_time_format(t, buf, size);
}

void cli_fmt_count(double n, char *buf, size_t size)
{
	if (n >= 1e9)
		snprintf(buf, size, "%.2fG", n / 1e9);
	else if (n >= 1e6)
		snprintf(buf, size, "%.2fM", n / 1e6);
	else if (n >= 1e4)
		snprintf(buf, size, "%.1fk", n / 1e3);
	else
		snprintf(buf, size, "%.0f", n);
}

void cli_usage(FILE *out, const char *text)
{
	fputs(text, out);
	fputs("\ncommon options: --db PATH (the store), --json, --help\n", out);
}

int cli_data_file(const char *given, const char *name, char *buf, size_t size)
{
	const char *env = getenv("BESPOKE_DATA");
	char exe[PATH_MAX];
	ssize_t n;

	if (given) {
		snprintf(buf, size, "%s", given);
		return 0;
	}
	if (env && *env) {
		snprintf(buf, size, "%s/%s", env, name);
		if (!access(buf, R_OK))
			return 0;
	}
	/* Beside the program: the source tree (build/../data) and an
	 * installed prefix (bin/../share/bespoke). */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, size, "%s/../data/%s", exe, name);
			if (!access(buf, R_OK))
				return 0;
			snprintf(buf, size, "%s/../share/bespoke/%s", exe, name);
			if (!access(buf, R_OK))
				return 0;
		}
	}
	snprintf(buf, size, "/usr/share/bespoke/%s", name);
	return access(buf, R_OK) ? -1 : 0;
}

int cli_secret_file(const char *opt, const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0, len;
	ssize_t n;

	*out = NULL;
	if (!f)
		return cli_fail(BSP_EINVAL, "--%s: %s: %s", opt, path,
				strerror(errno));
	n = getline(out, &cap, f);
	fclose(f);
	if (n > 0)
		(*out)[strcspn(*out, "\r\n")] = '\0';
	len = n > 0 ? strlen(*out) : 0;
	if (!len || len > CLI_SECRET_MAX) {
		if (*out)
			explicit_bzero(*out, cap);
		free(*out);
		*out = NULL;
		if (len)
			return cli_fail(BSP_EINVAL,
					"--%s: %s: a first line over %d bytes",
					opt, path, CLI_SECRET_MAX);
		return cli_fail(BSP_EINVAL, "--%s: %s: empty", opt, path);
	}
	return EXIT_OK;
}

void cli_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}
