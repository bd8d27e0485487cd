/*
 * libFuzzer harness for the allocation stage's parsers: the same input is
 * loaded as an instance catalog and as a policy file (YAML through libcyaml
 * and the loaders' own checks, from an in-memory file by its /proc path),
 * and read as a Behaviour Profile (JSON) into demand. Whatever the input,
 * each must fail cleanly or give something that is used and freed cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bespoke/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsp_alloc_catalog *cat = NULL;
	struct bsp_alloc_policy_file *pf = NULL;
	struct bsp_alloc_demand d;
	struct bsp_alloc_units u = {2500, 16, 0};
	struct bsp_error err = {0};
	char path[64], *text;
	int fd = memfd_create("alloc.yaml", 0);

	if (fd >= 0 && write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (bsp_alloc_catalog_load(path, &cat, &err) == BSP_OK) {
			double need[BSP_RES_N] = {1, 2, 100, 10, 0.1};
			struct bsp_alloc_choice c;
			bsp_alloc_choose(cat, NULL, need, NULL, BSP_ALLOC_SPOT,
					 &c, &err);
		}
		if (bsp_alloc_policy_load(path, &pf, &err) == BSP_OK &&
		    pf->policies_count)
			bsp_alloc_policy_find(pf, pf->policies[0].name);
		bsp_alloc_catalog_free(cat);
		bsp_alloc_policy_free(pf);
	}
	if (fd >= 0)
		close(fd);
	if ((text = malloc(size + 1))) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (bsp_alloc_demand_from_profile(text, &u, &d, &err) ==
		    BSP_OK) {
			double need[BSP_RES_N];
			bsp_alloc_demand_need(&d, 0.95, 0, d.n_steps, need,
					      NULL);
			for (size_t j = 0; j < d.n_steps; j++)
				bsp_alloc_exceed(&d, BSP_RES_CPU, j, 1.0);
			bsp_alloc_demand_release(&d);
		}
		free(text);
	}
	return 0;
}
