/*
 * tls.h: the daemon's TLS server with mbedTLS: TLS 1.2 only (mbedTLS 2.28
 * has no 1.3), ECDHE key exchange with AEAD suites only, no
 * renegotiation, optional client certificates verified against a CA.
 */
#ifndef WSUSDIAG_TLS_H
#define WSUSDIAG_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "platform/net.h"

struct tls_server;
struct tls_conn;

/* Load cert, key and (optional) client CA; NULL with err on failure. */
struct tls_server *tls_server_new(const char *cert, const char *key,
				  const char *client_ca, char *err,
				  size_t errlen);
void tls_server_free(struct tls_server *s);

/* A session on a connected non-blocking socket (the fd stays the
 * caller's). */
struct tls_conn *tls_conn_new(struct tls_server *s, plat_sock fd);
/*
 * Bytes the caller already read from fd (to tell TLS from plain HTTP),
 * which the session reads before the socket. At most TLS_UNREAD_MAX.
 */
#define TLS_UNREAD_MAX 16
void tls_conn_unread(struct tls_conn *c, const void *buf, size_t len);

/*
 * What a non-blocking call needs before it can go on: the socket
 * readable or writable. Call it again with the same arguments then.
 */
#define TLS_WANT_READ  (-2)
#define TLS_WANT_WRITE (-3)

/*
 * One step of the handshake, as far as the socket allows: 0 when done,
 * with the verified client certificate's subject CN (or "") in cn;
 * TLS_WANT_READ or TLS_WANT_WRITE; -1 with err. A client certificate
 * that does not verify fails the handshake.
 */
int tls_conn_handshake_step(struct tls_conn *c, char *cn, size_t cnlen,
			    char *err, size_t errlen);

/* >0 bytes, 0 orderly close, TLS_WANT_READ or TLS_WANT_WRITE, -1 error. */
long tls_conn_read(struct tls_conn *c, void *buf, size_t len);
/* >0 bytes taken (at most one record), a TLS_WANT_*, or -1. */
long tls_conn_write(struct tls_conn *c, const void *buf, size_t len);
/*
 * Bytes poll cannot see: decrypted ones inside mbedTLS and received ones
 * read ahead but not yet decrypted. Read before polling when not 0.
 */
size_t tls_conn_pending(struct tls_conn *c);
/* Send close_notify (best effort) and free. */
void tls_conn_free(struct tls_conn *c, int notify);

#endif
