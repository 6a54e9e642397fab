/*
 * poller.h: waiting on many sockets at once, at a cost that grows with
 * the sockets that are ready rather than with those watched: epoll on
 * Linux; on Windows, which has nothing like it for sockets that are not
 * overlapped, WSAPoll over the watched set.
 *
 * Level-triggered, like poll(): a socket is reported for as long as it is
 * ready. A socket watched for no event is not watched at all, so that a
 * hang-up nobody waits for is not reported over and over.
 */
#ifndef WSUSDIAG_POLLER_H
#define WSUSDIAG_POLLER_H

#include <stddef.h>

#include "platform/net.h"

struct plat_poller;

struct plat_event {
	void *tag;   /* as given to plat_poller_watch */
	int revents; /* PLAT_POLLIN | PLAT_POLLOUT | PLAT_POLLHUP | PLAT_POLLERR
		      */
};

/* NULL when the system refuses one. */
struct plat_poller *plat_poller_new(void);
void plat_poller_free(struct plat_poller *p);
/*
 * Watch s for events (PLAT_POLLIN, PLAT_POLLOUT; 0: stop watching it),
 * reported with tag. *cur holds what s is watched for now (0 at first)
 * and is updated; nothing is done when events equals it. Stop watching
 * a socket before closing it. 0, or -1 when the system refuses.
 */
int plat_poller_watch(struct plat_poller *p, plat_sock s, int *cur, int events,
		      void *tag);
/*
 * Wait until a watched socket is ready or timeout_ms passes (-1:
 * forever); at most max events into ev. The count, 0 on timeout, -1 on
 * error.
 */
int plat_poller_wait(struct plat_poller *p, struct plat_event *ev, size_t max,
		     int timeout_ms);

#endif
