/*
 * poller_epoll.c: plat_poller on Linux's epoll.
 */
#include "platform/poller.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/xalloc.h"

struct plat_poller {
	int ep;
	struct epoll_event *ev;
	size_t cap;
};

struct plat_poller *
plat_poller_new(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct plat_poller *p;

	if (ep < 0)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->ep = ep;
	return p;
}

void
plat_poller_free(struct plat_poller *p)
{
	if (p == NULL)
		return;
	close(p->ep);
	free(p->ev);
	free(p);
}

int
plat_poller_watch(struct plat_poller *p, plat_sock s, int *cur, int events,
		  void *tag)
{
	struct epoll_event e = {.data.ptr = tag};
	int op = EPOLL_CTL_MOD;

	if (events == *cur)
		return 0;
	if (events & PLAT_POLLIN)
		e.events |= EPOLLIN;
	if (events & PLAT_POLLOUT)
		e.events |= EPOLLOUT;
	if (*cur == 0)
		op = EPOLL_CTL_ADD;
	else if (events == 0)
		op = EPOLL_CTL_DEL;
	if (epoll_ctl(p->ep, op, (int)s, &e) != 0)
		return -1;
	*cur = events;
	return 0;
}

static int
revents(uint32_t e)
{
	return ((e & EPOLLIN) ? PLAT_POLLIN : 0) |
	       ((e & EPOLLOUT) ? PLAT_POLLOUT : 0) |
	       ((e & EPOLLHUP) ? PLAT_POLLHUP : 0) |
	       ((e & EPOLLERR) ? PLAT_POLLERR : 0);
}

int
plat_poller_wait(struct plat_poller *p, struct plat_event *ev, size_t max,
		 int timeout_ms)
{
	int n;

	if (max > p->cap) {
		free(p->ev);
		p->ev = xcalloc(max, sizeof(*p->ev));
		p->cap = max;
	}
	do
		n = epoll_wait(p->ep, p->ev, (int)max, timeout_ms);
	while (n < 0 && errno == EINTR);
	for (int i = 0; i < n; i++) {
		ev[i].tag = p->ev[i].data.ptr;
		ev[i].revents = revents(p->ev[i].events);
	}
	return n;
}
