/*
 * Process launches from the kernel's proc connector (netlink), where the
 * collector may listen to it (CAP_NET_ADMIN). Every exec is announced as
 * it happens, so a program that starts and ends between two readings is
 * still seen, which scanning /proc cannot do. A thread waits on the
 * socket and, for each exec, reads the command name and owner from
 * /proc/PID at once (a process that is already gone is counted as
 * missed); the readings take what has queued since the last one. The
 * queue is bounded: past it, launches are counted as dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collect_int.h"

#define CONN_MAX_QUEUE 65536

struct col_conn {
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;
	int stop;
	struct col_launch *q;
	size_t n, cap;
	unsigned long long dropped, missed;
};

static bsp_time now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (bsp_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The command name and owner of a process, read now. */
static int proc_comm(int pid, char *comm, size_t size, unsigned *uid)
{
	char path[64], buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &st))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(comm, size, "%.63s", buf);
	*uid = st.st_uid;
	return 0;
}

static void *conn_main(void *arg)
{
	struct col_conn *c = arg;
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		struct pollfd p = {c->fd, POLLIN, 0};
		pthread_mutex_lock(&c->lock);
		int stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t len = recv(c->fd, buf, sizeof(buf), 0);
		if (len <= 0) {
			if (len < 0 && errno == ENOBUFS) {
				pthread_mutex_lock(&c->lock);
				c->dropped++; /* at least one lost */
				pthread_mutex_unlock(&c->lock);
			}
			continue;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		     NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct cn_msg *m = NLMSG_DATA(h);
			/* The event sits 36 bytes in, short of the 8-byte
			 * alignment its 64-bit timestamp wants: copy it out. */
			struct proc_event ev;
			size_t have = h->nlmsg_len > NLMSG_HDRLEN + sizeof(*m)
					  ? h->nlmsg_len - NLMSG_HDRLEN -
						sizeof(*m)
					  : 0,
			       need = offsetof(struct proc_event, event_data) +
				      sizeof(ev.event_data.exec);
			if (h->nlmsg_type == NLMSG_ERROR || have < need)
				continue;
			memset(&ev, 0, sizeof(ev));
			memcpy(&ev, m->data, have < sizeof(ev) ? have : sizeof(ev));
			if (ev.what != PROC_EVENT_EXEC)
				continue;
			struct col_launch l = {0};
			l.ts = now_ms();
			int pid = ev.event_data.exec.process_pid;
			int ok = !proc_comm(pid, l.comm, sizeof(l.comm), &l.uid);
			pthread_mutex_lock(&c->lock);
			if (!ok) {
				c->missed++;
			} else if (c->n == CONN_MAX_QUEUE) {
				c->dropped++;
			} else {
				if (c->n == c->cap) {
					size_t cap = c->cap ? 2 * c->cap : 256;
					struct col_launch *q =
						realloc(c->q, cap * sizeof(*q));
					if (q) {
						c->q = q;
						c->cap = cap;
					}
				}
				if (c->n < c->cap)
					c->q[c->n++] = l;
				else
					c->dropped++;
			}
			pthread_mutex_unlock(&c->lock);
		}
	}
	return NULL;
}

struct col_conn *col_conn_open(void)
{
	struct col_conn *c;
	struct sockaddr_nl a = {0};
	struct {
		struct nlmsghdr h;
		struct cn_msg m;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg;
	int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_CONNECTOR);

	if (fd < 0)
		return NULL;
	a.nl_family = AF_NETLINK;
	a.nl_groups = CN_IDX_PROC;
	a.nl_pid = 0; /* the kernel assigns one */
	memset(&msg, 0, sizeof(msg));
	msg.h.nlmsg_len = sizeof(msg);
	msg.h.nlmsg_type = NLMSG_DONE;
	msg.m.id.idx = CN_IDX_PROC;
	msg.m.id.val = CN_VAL_PROC;
	msg.m.len = sizeof(enum proc_cn_mcast_op);
	msg.op = PROC_CN_MCAST_LISTEN;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, &msg, sizeof(msg), 0) < 0 || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	pthread_mutex_init(&c->lock, NULL);
	if (pthread_create(&c->thread, NULL, conn_main, c)) {
		pthread_mutex_destroy(&c->lock);
		close(fd);
		free(c);
		return NULL;
	}
	return c;
}

size_t col_conn_take(struct col_conn *c, struct col_launch **out,
		     unsigned long long *dropped, unsigned long long *missed)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	*out = c->q;
	n = c->n;
	c->q = NULL;
	c->n = c->cap = 0;
	*dropped = c->dropped;
	*missed = c->missed;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void col_conn_close(struct col_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c->q);
	free(c);
}
