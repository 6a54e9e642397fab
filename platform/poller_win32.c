/*
 * poller_win32.c: plat_poller on Windows: the watched set in an array,
 * handed to WSAPoll (through plat_poll) on every wait. Its cost grows
 * with the sockets watched, as poll()'s does; Windows offers nothing
 * better for sockets that are not overlapped.
 */
#include "platform/poller.h"

#include <stdlib.h>

#include "common/xalloc.h"

struct watched {
	plat_sock s;
	void *tag;
};

struct plat_poller {
	struct watched *w;
	struct plat_pollfd *pf; /* parallel to w */
	size_t n, cap, pf_cap;
};

struct plat_poller *
plat_poller_new(void)
{
	return xcalloc(1, sizeof(struct plat_poller));
}

void
plat_poller_free(struct plat_poller *p)
{
	if (p == NULL)
		return;
	free(p->w);
	free(p->pf);
	free(p);
}

static size_t
find(const struct plat_poller *p, plat_sock s)
{
	size_t i = 0;

	while (i < p->n && p->w[i].s != s)
		i++;
	return i;
}

int
plat_poller_watch(struct plat_poller *p, plat_sock s, int *cur, int events,
		  void *tag)
{
	size_t i;

	if (events == *cur)
		return 0;
	i = find(p, s);
	if (events == 0) {
		if (i < p->n) {
			p->w[i] = p->w[--p->n];
			p->pf[i] = p->pf[p->n];
		}
	} else {
		if (i == p->n) {
			p->w = xgrow(p->w, &p->cap, p->n, sizeof(*p->w));
			p->pf = xgrow(p->pf, &p->pf_cap, p->n, sizeof(*p->pf));
			p->n++;
		}
		p->w[i].s = s;
		p->w[i].tag = tag;
		p->pf[i].fd = s;
		p->pf[i].events = events;
	}
	*cur = events;
	return 0;
}

int
plat_poller_wait(struct plat_poller *p, struct plat_event *ev, size_t max,
		 int timeout_ms)
{
	size_t k = 0;
	int rc = plat_poll(p->pf, p->n, timeout_ms);

	for (size_t i = 0; rc > 0 && i < p->n && k < max; i++) {
		if (p->pf[i].revents == 0)
			continue;
		ev[k].tag = p->w[i].tag;
		ev[k++].revents = p->pf[i].revents;
	}
	return rc < 0 ? -1 : (int)k;
}
