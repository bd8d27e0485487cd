/*
 * Scoring one trace's allocations against the samples that came:
 * violations (samples above the allocation in force), the Autopilot
 * paper's relative slack per entity-day ((A - P95 of the day's usage) / A,
 * Rzadca et al., EuroSys 2020, section 5, with A the mean allocation over
 * the day's samples because ours changes within a day), allocation-hours
 * for the cost, and the number of changes. Steps without a decision
 * (NaN) are left out of every figure.
 */
#include "sim_int.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double sim_quantile(double *x, size_t n, double p)
{
	double h;
	size_t i;

	if (!n)
		return NAN;
	qsort(x, n, sizeof(*x), cmp_double);
	h = p * (double)(n - 1);
	i = (size_t)h;
	if (i + 1 >= n)
		return x[n - 1];
	return x[i] + (h - (double)i) * (x[i + 1] - x[i]);
}

static void day_flush(double *x, size_t n, double asum, struct sim_score *s)
{
	double a, p95;

	if (!n)
		return;
	a = asum / (double)n;
	if (!(a > 0))
		return;
	p95 = sim_quantile(x, n, 0.95);
	s->slack_sum += (a - p95) / a;
	if (a >= p95)
		s->slack_pos_sum += (a - p95) / a;
	else
		s->under_days++;
	s->days++;
}

void sim_score(const struct sim_trace *tr, bsp_time from, bsp_time step,
	       size_t n_steps, const double *alloc, struct sim_score *out)
{
	bsp_time until = from + (bsp_time)n_steps * step, day = BSP_TIME_NONE;
	double *x = NULL, asum = 0, prev = NAN;
	size_t nx = 0, cap = 0, i = 0;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < n_steps; k++) {
		double a = alloc[k];
		if (isnan(a))
			continue;
		out->decided_steps++;
		out->unit_hours += a * (double)step / (double)BSP_HOUR;
		if (!isnan(prev) && a != prev)
			out->changes++;
		prev = a;
	}
	while (i < tr->n && tr->ts[i] < from)
		i++;
	for (; i < tr->n && tr->ts[i] < until; i++) {
		double a = alloc[(tr->ts[i] - from) / step], v = tr->v[i];
		bsp_time d = bsp_time_floor(tr->ts[i], BSP_DAY);
		if (isnan(a) || isnan(v))
			continue;
		out->points++;
		if (v > a)
			out->violations++;
		if (d != day) {
			day_flush(x, nx, asum, out);
			nx = 0;
			asum = 0;
			day = d;
		}
		if (nx == cap && BSP_GROW(x, cap, nx + 1))
			continue;
		x[nx++] = v;
		asum += a;
	}
	day_flush(x, nx, asum, out);
	free(x);
}
