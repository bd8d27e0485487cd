/*
 * bespoke image push oci:DIR:TAG URL: an image from an OCI layout to any
 * registry that speaks the distribution API (include/bespoke/oci.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/oci.h"
#include "cli.h"

static const char usage_text[] =
	"usage: bespoke image push oci:DIR:TAG http[s]://HOST[:PORT]/NAME[:TAG]\n\n"
	"Sends the image tagged TAG in the OCI layout DIR to a registry:\n"
	"every blob is checked against its digest first, blobs the registry\n"
	"has are not sent again, the manifest goes last.\n\n"
	"  --user NAME           registry user (Basic, or for a Bearer token)\n"
	"  --password-file FILE  the password, first line (or $BESPOKE_REGISTRY_PASSWORD)\n"
	"  --insecure            https without verifying the certificate\n";

static void progress(void *ud, const char *what, const char *digest,
		     uint64_t bytes)
{
	(void)ud;
	fprintf(stderr, "pushed %s %s (%llu bytes)\n", what, digest,
		(unsigned long long)bytes);
}

/* "oci:DIR:TAG" -> DIR and TAG (DIR may contain ':'; TAG may not). */
static int split_ref(char *ref, char **dir, char **tag)
{
	char *colon;
	if (strncmp(ref, "oci:", 4) || !(colon = strrchr(ref + 4, ':')) ||
	    colon == ref + 4 || !colon[1])
		return -1;
	*colon = '\0';
	*dir = ref + 4;
	*tag = colon + 1;
	return 0;
}

int cmd_image_push(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"user", required_argument, NULL, 'u'},
		{"password-file", required_argument, NULL, 'p'},
		{"insecure", no_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct bsp_push_options o = {0};
	struct bsp_push_report rep;
	struct bsp_error err = {0};
	const char *pwfile = NULL;
	char *pw = NULL, *dir, *tag;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'u':
			o.user = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'k':
			o.insecure = 1;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind + 2 != argc)
		return cli_fail(BSP_EINVAL,
				"image push: give oci:DIR:TAG and a registry "
				"URL (see --help)");
	if (split_ref(argv[optind], &dir, &tag))
		return cli_fail(BSP_EINVAL,
				"image push: '%s' is not oci:DIR:TAG",
				argv[optind]);
	if (pwfile) {
		if ((rc = cli_secret_file("password-file", pwfile, &pw)))
			return rc;
		o.password = pw;
	} else if (getenv("BESPOKE_REGISTRY_PASSWORD")) {
		o.password = getenv("BESPOKE_REGISTRY_PASSWORD");
	}
	if (!cli->json)
		o.progress = progress;
	rc = bsp_oci_push(dir, tag, argv[optind + 1], &o, &rep, &err);
	cli_secret_free(pw);
	if (rc != BSP_OK)
		return cli_fail_err(&err);
	if (cli->json)
		printf("{\"reference\":\"%s\",\"digest\":\"%s\",\"blobs_sent\":"
		       "%zu,\"blobs_present\":%zu,\"bytes_sent\":%llu}\n",
		       rep.reference, rep.manifest_digest, rep.blobs_sent,
		       rep.blobs_present, (unsigned long long)rep.bytes_sent);
	else
		printf("pushed %s@%s: %zu blobs sent (%llu bytes), %zu already "
		       "there\n",
		       rep.reference, rep.manifest_digest, rep.blobs_sent,
		       (unsigned long long)rep.bytes_sent, rep.blobs_present);
	return EXIT_OK;
}
