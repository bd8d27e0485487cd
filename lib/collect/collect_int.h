/*
 * Internals of the collector shared between its files.
 */
#ifndef BSP_COLLECT_INT_H
#define BSP_COLLECT_INT_H

#include "internal.h"
#include "bespoke/collect.h"

/* One launch seen by the proc connector. */
struct col_launch {
	bsp_time ts;
	unsigned uid;
	char comm[64];
};

/* The kernel's proc connector (connector.c): NULL when it cannot be
 * listened to here; then launches come from scanning /proc. */
struct col_conn;
struct col_conn *col_conn_open(void);
/* The launches queued since the last call (malloc'd, caller frees), and
 * the running counts of those dropped and missed. */
size_t col_conn_take(struct col_conn *c, struct col_launch **out,
		     unsigned long long *dropped, unsigned long long *missed);
void col_conn_close(struct col_conn *c);

#endif
