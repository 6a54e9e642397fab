/*
 * httpd.h: the HTTP layer (libmicrohttpd on one thread of its own, no
 * listen socket of its own, a worker thread for each request that may
 * wait) between the listener and api_handle().
 */
#ifndef WSUSDIAG_HTTPD_H
#define WSUSDIAG_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "platform/net.h"

struct httpd_limits {
	uint32_t connections;
	uint32_t idle_timeout_s;
	size_t body_bytes;
	/*
	 * The largest request head: the listener answers 431 above it.
	 * MHD's per-connection pool is twice as large, so that MHD's own
	 * 431 (HTML, not problem+json) is only a backstop.
	 */
	size_t head_bytes;
};

struct httpd;

struct httpd *httpd_start(const struct api_ctx *api,
			  const struct httpd_limits *lim, char *err,
			  size_t errlen);
/*
 * Hand over a connected socket with the real peer address and the
 * verified client-certificate CN (NULL or "" for none). MHD owns fd
 * afterwards, also on failure (-1).
 */
int httpd_add(struct httpd *h, plat_sock fd, const void *peer, uint32_t peerlen,
	      const char *cn);
/* lim->head_bytes, for the listener. */
size_t httpd_head_bytes(const struct httpd *h);
void httpd_stop(struct httpd *h);

#endif
