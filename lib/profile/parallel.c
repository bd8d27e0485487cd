/*
 * A small thread pool for per-entity work (train --all, forecast --all):
 * workers take the next index from a shared counter until none is left,
 * so uneven entities balance themselves.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "internal.h"
#include "bespoke/profile.h"

struct pool {
	size_t n;
	atomic_size_t next;
	atomic_size_t failed;
	int (*fn)(size_t i, void *ud);
	void *ud;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
		if (p->fn(i, p->ud) != 0)
			atomic_fetch_add(&p->failed, 1);
	return NULL;
}

size_t bsp_parallel_for(size_t n, unsigned threads,
			int (*fn)(size_t i, void *ud), void *ud)
{
	struct pool p = {.n = n, .fn = fn, .ud = ud};
	pthread_t tid[64];
	unsigned started = 0;

	atomic_init(&p.next, 0);
	atomic_init(&p.failed, 0);
	if (threads == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 0 ? (unsigned)c : 1;
	}
	if (threads > BSP_ARRAY_LEN(tid))
		threads = BSP_ARRAY_LEN(tid);
	if (threads > n)
		threads = n ? (unsigned)n : 1;
	for (unsigned t = 1; t < threads; t++)
		if (pthread_create(&tid[started], NULL, worker, &p) == 0)
			started++;
	worker(&p); /* the calling thread works too */
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	return atomic_load(&p.failed);
}
