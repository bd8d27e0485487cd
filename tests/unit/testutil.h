/*
 * Shared by the cmocka unit tests: the includes cmocka needs, in order, and
 * small helpers (a temporary folder per test binary).
 */
#ifndef BSP_TESTUTIL_H
#define BSP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* A fresh temporary folder, removed at exit; returns its path. */
static inline const char *test_tmpdir(void)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/bsp-test-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

/* path = tmpdir/name, in a static buffer of its own per call site count. */
static inline const char *test_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", test_tmpdir(), name);
	return buf;
}

/* Writes `data` to a file; returns 0 or -1. */
static inline int test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(data, 1, len, f);
	return (fclose(f) == 0 && w == len) ? 0 : -1;
}

#endif
