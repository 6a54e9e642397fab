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
 * Handshake until done or deadline (plat_now_ms). On success the
 * verified client certificate's subject CN (or "") is in cn. A client
 * certificate that does not verify fails the handshake.
 */
int tls_conn_handshake(struct tls_conn *c, uint64_t deadline_ms, char *cn,
		       size_t cnlen, char *err, size_t errlen);

/* >0 bytes, 0 orderly close, TLS_WANT (try again after poll), -1 error. */
#define TLS_WANT (-2)
long tls_conn_read(struct tls_conn *c, void *buf, size_t len);
/* Write everything before deadline; 0 or -1. */
int tls_conn_write_all(struct tls_conn *c, const void *buf, size_t len,
		       uint64_t deadline_ms);
/*
 * Bytes poll cannot see: decrypted ones inside mbedTLS and received ones
 * read ahead but not yet decrypted. Read before polling when not 0.
 */
size_t tls_conn_pending(struct tls_conn *c);
/* Send close_notify (best effort) and free. */
void tls_conn_free(struct tls_conn *c, int notify);

#endif
