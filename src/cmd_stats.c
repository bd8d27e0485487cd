/*
 * bespoke stats: how much the store holds and how compactly (bytes per
 * sample for the chunk payload and for the whole file).
 * bespoke check: verifies the store end to end.
 */
#include <getopt.h>

#include "cli.h"

static const char stats_usage[] =
	"usage: bespoke stats [--json]\n\n"
	"Counts entities, series, samples, chunks and events, and prints the\n"
	"stored bytes per sample (chunk payload, and the whole file).\n";

static int simple_args(struct cli *cli, int argc, char **argv,
		       const char *usage)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
						 {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			cli_usage(stdout, usage);
			return -1;
		}
		return EXIT_USER;
	}
	if (optind < argc)
		return cli_fail(BSP_EINVAL, "%s: unexpected argument '%s'",
				argv[0], argv[optind]);
	return EXIT_OK;
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	struct bsp_store *st;
	struct bsp_store_stats s;
	struct bsp_error err = {0};
	int rc = simple_args(cli, argc, argv, stats_usage);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (bsp_store_stats(st, &s, &err) != BSP_OK) {
		bsp_store_close(st);
		return cli_fail_err(&err);
	}
	bsp_store_close(st);
	double per = s.samples ? (double)s.chunk_bytes / (double)s.samples : 0;
	double per_file =
		s.samples ? (double)s.file_bytes / (double)s.samples : 0;
	if (cli->json) {
		printf("{\"entities\":%lld,\"series\":%lld,\"samples\":%lld,"
		       "\"chunks\":%lld,\"events\":%lld,\"chunk_bytes\":%lld,"
		       "\"file_bytes\":%lld,\"bytes_per_sample\":%.4f,"
		       "\"file_bytes_per_sample\":%.4f}\n",
		       (long long)s.entities, (long long)s.series,
		       (long long)s.samples, (long long)s.chunks,
		       (long long)s.events, (long long)s.chunk_bytes,
		       (long long)s.file_bytes, per, per_file);
	} else {
		printf("entities       %lld\n"
		       "series         %lld\n"
		       "samples        %lld\n"
		       "chunks         %lld\n"
		       "events         %lld\n"
		       "chunk bytes    %lld (%.3f bytes/sample)\n"
		       "file bytes     %lld (%.3f bytes/sample)\n",
		       (long long)s.entities, (long long)s.series,
		       (long long)s.samples, (long long)s.chunks,
		       (long long)s.events, (long long)s.chunk_bytes, per,
		       (long long)s.file_bytes, per_file);
	}
	return EXIT_OK;
}

static const char check_usage[] =
	"usage: bespoke check\n\n"
	"Verifies the store: SQLite's integrity check, then every chunk\n"
	"decodes and agrees with its row. Exit 0 when all is well.\n";

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct bsp_store *st;
	struct bsp_error err = {0};
	int rc = simple_args(cli, argc, argv, check_usage);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = cli_open(cli, BSP_OPEN_READONLY, &st)))
		return rc;
	if (bsp_store_check(st, &err) != BSP_OK) {
		bsp_store_close(st);
		fprintf(stderr, "bespoke: %s\n", err.msg);
		return err.code == BSP_ECORRUPT ? EXIT_USER : EXIT_INTERNAL;
	}
	bsp_store_close(st);
	printf("ok\n");
	return EXIT_OK;
}
