/*
 * libFuzzer harness for the classifier's labelled vmtable reader
 * (bsp_cls_load_vmtable), which reads files: each input is written to an
 * in-memory file and read by its /proc path. Bad rows must give an error
 * naming the line, never a crash, an out-of-bounds read or a leak; a file
 * that loads is trained on when it has both classes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bespoke/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsp_cls_data d = {0};
	struct bsp_cls_model m;
	struct bsp_error err = {0};
	size_t skipped = 0;
	char path[64];
	int fd = memfd_create("vmtable.csv", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (bsp_cls_load_vmtable(path, &d, &skipped, &err) == BSP_OK &&
		    d.n <= 200)
			bsp_cls_train(&d, BSP_CLS_LAMBDA, &m, &err);
		bsp_cls_data_release(&d);
	}
	close(fd);
	return 0;
}
