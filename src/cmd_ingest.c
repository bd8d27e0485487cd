/*
 * bespoke ingest PATH...: reads telemetry files (formats detected, .gz
 * transparent, directories walked) into the store, one transaction per
 * file. Bad lines are reported as FILE:LINE: reason; the summary at the end
 * counts them. Exit 1 when any file could not be stored.
 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char usage_text[] =
	"usage: bespoke ingest [options] PATH...\n\n"
	"Reads telemetry into the store. PATH is a file (plain or .gz) or a\n"
	"folder (every file in it). The format is detected per file.\n\n"
	"  --format NAME        force a format (see the list below)\n"
	"  --on-error=skip      skip bad lines, report counts (default)\n"
	"  --on-error=abort     a bad line drops its whole file\n"
	"  --entity NAME        entity for formats that name none\n"
	"  --threads N          parser threads (default: all cores)\n"
	"  --quiet              no per-line diagnostics, only the summary\n";

struct ingest_ui {
	int quiet;
	int tty;
	double t0;
	int progress_shown;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_diag(void *ud, const char *line)
{
	struct ingest_ui *ui = ud;

	if (ui->quiet)
		return;
	if (ui->progress_shown) {
		fputs("\r\033[K", stderr);
		ui->progress_shown = 0;
	}
	fprintf(stderr, "%s\n", line);
}

static void on_progress(void *ud, uint64_t done, uint64_t total,
			uint64_t samples)
{
	struct ingest_ui *ui = ud;
	char cnt[32];

	if (!ui->tty)
		return;
	cli_fmt_count((double)samples, cnt, sizeof(cnt));
	fprintf(stderr, "\r\033[Kingest: %llu/%llu files, %s samples, %.1f s",
		(unsigned long long)done, (unsigned long long)total, cnt,
		now_s() - ui->t0);
	ui->progress_shown = 1;
}

static void print_formats(FILE *out)
{
	fprintf(out, "\nformats:\n");
	for (size_t i = 0; bsp_ingest_format_name(i); i++)
		fprintf(out, "  %-14s %s\n", bsp_ingest_format_name(i),
			bsp_ingest_format_help(i));
}

int cmd_ingest(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"format", required_argument, NULL, 'f'},
		{"on-error", required_argument, NULL, 'e'},
		{"entity", required_argument, NULL, 'E'},
		{"threads", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	struct bsp_ingest_options opt = {0};
	struct bsp_ingest_report total = {0};
	struct ingest_ui ui = {0};
	struct bsp_store *st = NULL;
	struct bsp_error err = {0};
	bsp_err first = BSP_OK;
	long long threads = 0;
	int c, rc;

	opt.on_error = BSP_ON_ERROR_SKIP;
	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			print_formats(stdout);
			return EXIT_OK;
		case 'f':
			opt.format = optarg;
			break;
		case 'e':
			if (!strcmp(optarg, "skip"))
				opt.on_error = BSP_ON_ERROR_SKIP;
			else if (!strcmp(optarg, "abort"))
				opt.on_error = BSP_ON_ERROR_ABORT;
			else
				return cli_fail(BSP_EINVAL,
						"--on-error: '%s' is neither "
						"skip nor abort",
						optarg);
			break;
		case 'E':
			opt.entity = optarg;
			break;
		case 't':
			if ((rc = cli_size("threads", optarg, 1, 256,
					   &threads)))
				return rc;
			opt.threads = (unsigned)threads;
			break;
		case 'q':
			ui.quiet = 1;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind >= argc)
		return cli_fail(BSP_EINVAL,
				"ingest: name at least one file or folder");
	if (opt.format) {
		int known = 0;
		for (size_t i = 0; bsp_ingest_format_name(i); i++)
			known |= !strcmp(bsp_ingest_format_name(i), opt.format);
		if (!known) {
			print_formats(stderr);
			return cli_fail(BSP_EINVAL,
					"--format: unknown format '%s'",
					opt.format);
		}
	}
	if ((rc = cli_open(cli, BSP_OPEN_CREATE, &st)))
		return rc;

	ui.tty = cli->tty;
	ui.t0 = now_s();
	opt.diag = on_diag;
	opt.progress = on_progress;
	opt.ud = &ui;
	for (int i = optind; i < argc; i++) {
		struct bsp_ingest_report r = {0};
		struct bsp_error e = {0};
		bsp_err res = bsp_ingest_path(st, argv[i], &opt, &r, &e);
		total.files += r.files;
		total.files_failed += r.files_failed;
		total.lines += r.lines;
		total.bad_lines += r.bad_lines;
		total.bad_values += r.bad_values;
		total.samples += r.samples;
		total.events += r.events;
		total.written.samples_new += r.written.samples_new;
		total.written.samples_replaced += r.written.samples_replaced;
		total.written.samples_same += r.written.samples_same;
		total.written.events_new += r.written.events_new;
		total.written.events_same += r.written.events_same;
		if (res != BSP_OK && first == BSP_OK) {
			first = res;
			err = e;
		}
	}
	if (ui.progress_shown)
		fputs("\r\033[K", stderr);
	double secs = now_s() - ui.t0;
	bsp_store_close(st);

	if (cli->json) {
		printf("{\"files\":%llu,\"files_failed\":%llu,\"lines\":%llu,"
		       "\"bad_lines\":%llu,\"bad_values\":%llu,"
		       "\"samples\":%llu,\"events\":%llu,"
		       "\"samples_new\":%llu,\"samples_replaced\":%llu,"
		       "\"samples_unchanged\":%llu,\"events_new\":%llu,"
		       "\"events_unchanged\":%llu,\"seconds\":%.3f}\n",
		       (unsigned long long)total.files,
		       (unsigned long long)total.files_failed,
		       (unsigned long long)total.lines,
		       (unsigned long long)total.bad_lines,
		       (unsigned long long)total.bad_values,
		       (unsigned long long)total.samples,
		       (unsigned long long)total.events,
		       (unsigned long long)total.written.samples_new,
		       (unsigned long long)total.written.samples_replaced,
		       (unsigned long long)total.written.samples_same,
		       (unsigned long long)total.written.events_new,
		       (unsigned long long)total.written.events_same, secs);
	} else {
		printf("ingested %llu files (%llu failed) in %.2f s: %llu "
		       "samples (%llu new, %llu replaced, %llu unchanged), "
		       "%llu events (%llu new)",
		       (unsigned long long)total.files,
		       (unsigned long long)total.files_failed, secs,
		       (unsigned long long)total.samples,
		       (unsigned long long)total.written.samples_new,
		       (unsigned long long)total.written.samples_replaced,
		       (unsigned long long)total.written.samples_same,
		       (unsigned long long)total.events,
		       (unsigned long long)total.written.events_new);
		if (total.bad_lines || total.bad_values)
			printf("; skipped %llu bad lines and %llu bad values",
			       (unsigned long long)total.bad_lines,
			       (unsigned long long)total.bad_values);
		printf("\n");
	}
	if (first != BSP_OK)
		return cli_fail_err(&err);
	return EXIT_OK;
}
