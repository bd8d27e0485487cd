/*
 * Reading one series' month as a 5-minute grid, the read the forecaster
 * makes for every series. Usage:
 *
 *     bench_read DB ENTITY METRIC FROM UNTIL [REPEAT]
 *
 * Opens the store once, then times REPEAT (default 2000) calls of
 * bsp_store_read_grid(mean, 5 minutes) over [FROM, UNTIL) and prints the
 * mean, median and 99th percentile in microseconds, with the number of
 * grid steps and non-empty steps as a sanity check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#include "bespoke/bespoke.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct bsp_store *st;
	struct bsp_series s;
	struct bsp_error err = {0};
	bsp_time from, until, step = 5 * BSP_MINUTE;
	int repeat = argc > 6 ? (int)strtol(argv[6], NULL, 10) : 2000;

	if (argc < 6 || repeat <= 0) {
		fprintf(stderr, "usage: bench_read DB ENTITY METRIC FROM UNTIL "
				"[REPEAT]\n");
		return 1;
	}
	if (bsp_time_parse(argv[4], strlen(argv[4]), &from) != BSP_OK ||
	    bsp_time_parse(argv[5], strlen(argv[5]), &until) != BSP_OK) {
		fprintf(stderr, "bench_read: bad FROM or UNTIL\n");
		return 1;
	}
	if (bsp_store_open(&st, argv[1], BSP_OPEN_READONLY, &err) != BSP_OK ||
	    bsp_store_series_find(st, argv[2], argv[3], "", &s, &err) !=
		    BSP_OK) {
		fprintf(stderr, "bench_read: %s\n", err.msg);
		return 1;
	}
	size_t cells = bsp_grid_len(from, until, step), filled = 0;
	double *grid = malloc(cells * sizeof(*grid));
	double *lat = malloc((size_t)repeat * sizeof(*lat));
	if (!grid || !lat)
		return 2;
	for (int r = 0; r < repeat; r++) {
		double t0 = now_us();
		if (bsp_store_read_grid(st, s.id, from, until, step,
					BSP_AGG_MEAN, BSP_FILL_NAN, grid,
					&err) != BSP_OK) {
			fprintf(stderr, "bench_read: %s\n", err.msg);
			return 1;
		}
		lat[r] = now_us() - t0;
	}
	for (size_t i = 0; i < cells; i++)
		filled += !isnan(grid[i]);
	qsort(lat, (size_t)repeat, sizeof(*lat), cmp_double);
	double sum = 0;
	for (int r = 0; r < repeat; r++)
		sum += lat[r];
	printf("%zu steps (%zu with data), %d reads: mean %.1f us, median "
	       "%.1f us, p99 %.1f us\n",
	       cells, filled, repeat, sum / repeat, lat[repeat / 2],
	       lat[(int)(repeat * 0.99)]);
	free(grid);
	free(lat);
	bsp_series_release(&s);
	bsp_store_close(st);
	return 0;
}
