/*
 * libFuzzer harness for the PlanetLab parser: arbitrary bytes through
 * bsp_ingest_buffer with the format forced, in skip mode and (for some
 * inputs) abort mode. Whatever the input, parsing must neither crash nor
 * read out of bounds nor leak; bad lines are only counted.
 */
#include <stddef.h>
#include <stdint.h>

#include "bespoke/bespoke.h"

static void ignore(void *ud, const char *line)
{
	(void)ud;
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsp_ingest_options opt = {0};
	struct bsp_ingest_report rep;
	struct bsp_batch *b = bsp_batch_new();

	if (!b)
		return 0;
	opt.format = "planetlab";
	opt.diag = ignore;
	opt.max_diags_per_file = 3;
	opt.on_error = size % 7 == 0 ? BSP_ON_ERROR_ABORT : BSP_ON_ERROR_SKIP;
	/* A day folder, so that PlanetLab-style names have their date. */
	bsp_ingest_buffer(b, "fuzz/20110303/input.csv", (const char *)data,
			  size, &opt, &rep, NULL);
	bsp_batch_free(b);
	return 0;
}
