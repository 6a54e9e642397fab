/*
 * listener.h: TCP accept, allow-list, limits, TLS handshake and the byte
 * pump into the HTTP layer.
 */
#ifndef WSUSDIAG_LISTENER_H
#define WSUSDIAG_LISTENER_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "daemon/httpd.h"
#include "daemon/tls.h"

struct listener_config {
	const char *host;	/* numeric address */
	uint16_t port;		/* 0: any free port (tests) */
	struct tls_server *tls; /* NULL: plain HTTP (loopback only) */
	struct httpd *httpd;
	const struct auth_config *auth; /* the allow-list */
	/*
	 * A full table evicts the oldest connection still in its handshake
	 * and refuses only when every slot holds an established session.
	 */
	uint32_t max_connections;
	uint32_t per_ip; /* connections from one address; over it: refused */
	uint32_t handshake_timeout_s;
	uint32_t idle_timeout_s;
};

struct listener;

struct listener *listener_start(const struct listener_config *cfg, char *err,
				size_t errlen);
/* The bound port (after port 0). */
uint16_t listener_port(const struct listener *l);
/* Stop and drain; true when no connection thread remains. */
bool listener_stop(struct listener *l, uint32_t wait_ms);
/* Only after listener_stop returned true. */
void listener_free(struct listener *l);

#endif
