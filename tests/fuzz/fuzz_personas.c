/*
 * libFuzzer harness for the persona catalog loader (YAML through libcyaml
 * and the catalog's own checks). The loader reads files, so each input is
 * written to an in-memory file and loaded by its /proc path. Whatever the
 * input, loading must fail cleanly or give a catalog that frees cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bespoke/persona.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsp_persona_catalog *cat = NULL;
	struct bsp_error err = {0};
	char path[64];
	int fd = memfd_create("personas.yaml", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (bsp_persona_catalog_load(path, &cat, &err) == BSP_OK)
			bsp_persona_find(cat, "developer");
		bsp_persona_catalog_free(cat);
	}
	close(fd);
	return 0;
}
