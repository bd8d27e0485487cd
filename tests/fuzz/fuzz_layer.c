/*
 * libFuzzer harness for reading image layers: the tar reader (ustar, pax
 * and GNU long-name records) behind validation and the base comparison,
 * on the input as it is and, when it is gzip, inflated within a bound.
 * Whatever the input: no crash, no out-of-bounds read, no leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "image/image_int.h"

static int count(const struct img_tar_member *m, void *ud)
{
	size_t *n = ud;
	/* Touch what a caller reads. */
	*n += m->len + (m->path[0] != 0) + (m->link ? 1 : 0);
	if (m->len)
		*n += m->data[m->len - 1];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_buf raw = {0};
	size_t n = 0;

	img_tar_each(data, size, count, &n, NULL);
	if (size > 2 && data[0] == 0x1f && data[1] == 0x8b &&
	    img_gunzip(data, size, 1 << 20, &raw, NULL) == 0)
		img_tar_each(raw.p, raw.len, count, &n, NULL);
	img_buf_release(&raw);
	img_secret_find(data, size);
	return 0;
}
