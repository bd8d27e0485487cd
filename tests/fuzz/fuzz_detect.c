/*
 * libFuzzer harness for format detection: arbitrary bytes through
 * bsp_ingest_buffer with no format given, so every detector scores the
 * input and the winner, if any, parses it.
 */
#include <stddef.h>
#include <stdint.h>

#include "bespoke/bespoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsp_ingest_options opt = {0};
	struct bsp_batch *b = bsp_batch_new();

	if (!b)
		return 0;
	bsp_ingest_buffer(b, "fuzz/20110303/input", (const char *)data, size,
			  &opt, NULL, NULL);
	bsp_batch_free(b);
	return 0;
}
