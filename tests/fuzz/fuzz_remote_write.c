/*
 * libFuzzer harness for the Prometheus remote-write decoder: arbitrary
 * bytes as a request body (snappy, then protobuf, then the series mapping).
 * Whatever the input: no crash, no out-of-bounds read, no leak, and a
 * refused body is an error, never a partial success.
 */
#include <stddef.h>
#include <stdint.h>

#include "bespoke/bespoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsp_ingest_report rep;
	struct bsp_error err = {0};
	struct bsp_batch *b = bsp_batch_new();

	if (!b)
		return 0;
	/* Every third input only checked, as the daemon does first. */
	bsp_ingest_remote_write(size % 3 ? b : NULL, data, size,
				size % 2 ? "fuzz" : NULL, 1 << 20, &rep, &err);
	bsp_batch_free(b);
	return 0;
}
