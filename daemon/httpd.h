/*
 * httpd.h: the HTTP layer between the listener and the API (api_admit,
 * api_run): libmicrohttpd without a listen socket and without a thread of
 * its own. Each event loop of the listener drives one MHD daemon on its own
 * thread, and a request whose handler may wait is answered by a worker
 * thread of its own.
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
	 * MHD's per-connection pool is larger (httpd.c), so that MHD's own
	 * 431 (HTML, not problem+json) is only a backstop.
	 */
	size_t head_bytes;
};

/* What the MHD daemons share: the API, the limits, the workers. */
struct httpd;
/* One MHD daemon, driven by one event loop. */
struct httpd_mhd;

struct httpd *httpd_new(const struct api_ctx *api,
			const struct httpd_limits *lim);
/*
 * An MHD daemon for the calling event loop, or NULL with err. The
 * httpd owns it: httpd_stop frees it, since a worker may still
 * resume a request on it after its loop has ended.
 */
struct httpd_mhd *httpd_mhd_new(struct httpd *h, char *err, size_t errlen);
/*
 * Hand over a connected socket with the real peer address and the
 * verified client-certificate CN (NULL or "" for none). MHD owns fd
 * afterwards, also on failure (-1).
 */
int httpd_add(struct httpd_mhd *m, plat_sock fd, const void *peer,
	      uint32_t peerlen, const char *cn);
/*
 * Let MHD do what it can now, without waiting. The loop calls it after
 * it wrote to, read from, shut down or closed its end of a pair, once
 * httpd_woken said so, and when httpd_timeout_ms has passed: MHD's
 * sockets change state only through these.
 */
void httpd_run(struct httpd_mhd *m);
/*
 * Whether MHD can miss the end of a pair's input: with epoll it waits
 * edge-triggered and takes a read shorter than asked for as "nothing
 * more", so an end that came with the last bytes is never read
 * (select(), on Windows, looks again each run). The listener then
 * shuts its end once more after MHD has read everything.
 */
bool httpd_misses_eof(const struct httpd_mhd *m);
/* Milliseconds until MHD must run (idle timeouts); -1: not by itself. */
int httpd_timeout_ms(struct httpd_mhd *m);
/*
 * Readable when a worker has answered a request of m's: the loop
 * watches it and then calls httpd_woken and httpd_run.
 */
plat_sock httpd_wake_sock(const struct httpd_mhd *m);
void httpd_woken(struct httpd_mhd *m);
/* lim->head_bytes, for the listener. */
size_t httpd_head_bytes(const struct httpd *h);
/* After the listener has drained: waits for the workers, frees all. */
void httpd_stop(struct httpd *h);

#endif
