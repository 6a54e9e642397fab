/*
 * tls.c: mbedTLS server configuration and per-connection sessions.
 */
#include "daemon/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/x509_crt.h>

#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/net.h"

struct tls_server {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt cert;
	mbedtls_x509_crt ca;
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_cache_context cache;
	int has_ca;
};

/*
 * mbedTLS reads a record as two reads, its 5-byte header and then the
 * rest; reading ahead into rbuf makes that one recv for a request's
 * record (one system call in about twelve per request, bench/).
 */
#define READ_AHEAD 4096

_Static_assert(TLS_UNREAD_MAX <= READ_AHEAD, "unread goes into rbuf");

struct tls_conn {
	mbedtls_ssl_context ssl;
	plat_sock fd;
	unsigned char rbuf[READ_AHEAD]; /* read from fd, not yet by mbedTLS */
	size_t r_len, r_off;
};

/* ECDHE for forward secrecy, AEAD only: nothing CBC, nothing static-RSA. */
static const int suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

/*
 * The server picks the first curve of this list that the client offers.
 * mbedTLS 2.28's default list starts at P-521, several times slower per
 * handshake than X25519 or P-256 for no gain here. P-521 stays last
 * because mbedTLS also checks a client certificate's EC key against
 * this list.
 */
static const mbedtls_ecp_group_id curves[] = {
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,  MBEDTLS_ECP_DP_SECP521R1,
    MBEDTLS_ECP_DP_NONE,
};

static int
mbed_fail(char *err, size_t errlen, const char *what, const char *path, int rc)
{
	char buf[128];

	mbedtls_strerror(rc, buf, sizeof(buf));
	snprintf(err, errlen, "%s %s: %s (-0x%04x)", what, path ? path : "",
		 buf, (unsigned)-rc);
	return -1;
}

static int
load_credentials(struct tls_server *s, const char *cert, const char *key,
		 const char *ca, char *err, size_t errlen)
{
	int rc;

	if ((rc = mbedtls_x509_crt_parse_file(&s->cert, cert)) != 0)
		return mbed_fail(err, errlen, "tls.cert", cert, rc);
	rc = mbedtls_pk_parse_keyfile(&s->key, key, NULL);
	if (rc != 0)
		return mbed_fail(err, errlen, "tls.key", key, rc);
	if ((rc = mbedtls_pk_check_pair(&s->cert.pk, &s->key)) != 0)
		return mbed_fail(err, errlen, "tls.key does not match tls.cert",
				 key, rc);
	if (ca != NULL) {
		if ((rc = mbedtls_x509_crt_parse_file(&s->ca, ca)) != 0)
			return mbed_fail(err, errlen, "tls.client_ca", ca, rc);
		s->has_ca = 1;
	}
	return 0;
}

static int
configure(struct tls_server *s, char *err, size_t errlen)
{
	mbedtls_ssl_config *c = &s->conf;
	int rc;

	rc = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER,
					 MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc != 0)
		return mbed_fail(err, errlen, "TLS defaults", NULL, rc);
	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &s->drbg);
	mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(c, suites);
	mbedtls_ssl_conf_curves(c, curves);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_session_cache(c, &s->cache, mbedtls_ssl_cache_get,
				       mbedtls_ssl_cache_set);
	if ((rc = mbedtls_ssl_conf_own_cert(c, &s->cert, &s->key)) != 0)
		return mbed_fail(err, errlen, "tls.cert", NULL, rc);
	/*
	 * Client certificates are optional (token callers have none); one
	 * that is presented must verify, which tls_conn_handshake enforces.
	 */
	if (s->has_ca) {
		mbedtls_ssl_conf_ca_chain(c, &s->ca, NULL);
		mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_OPTIONAL);
	} else {
		mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
	}
	return 0;
}

struct tls_server *
tls_server_new(const char *cert, const char *key, const char *client_ca,
	       char *err, size_t errlen)
{
	struct tls_server *s = xcalloc(1, sizeof(*s));
	static const char pers[] = "wsusdiagd";
	int rc;

	mbedtls_ssl_config_init(&s->conf);
	mbedtls_x509_crt_init(&s->cert);
	mbedtls_x509_crt_init(&s->ca);
	mbedtls_pk_init(&s->key);
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	mbedtls_ssl_cache_init(&s->cache);
	rc = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
				   (const unsigned char *)pers, sizeof(pers));
	if (rc != 0) {
		mbed_fail(err, errlen, "random generator", NULL, rc);
		goto fail;
	}
	if (load_credentials(s, cert, key, client_ca, err, errlen) != 0 ||
	    configure(s, err, errlen) != 0)
		goto fail;
	return s;
fail:
	tls_server_free(s);
	return NULL;
}

void
tls_server_free(struct tls_server *s)
{
	if (s == NULL)
		return;
	mbedtls_ssl_cache_free(&s->cache);
	mbedtls_ssl_config_free(&s->conf);
	mbedtls_x509_crt_free(&s->cert);
	mbedtls_x509_crt_free(&s->ca);
	mbedtls_pk_free(&s->key);
	mbedtls_ctr_drbg_free(&s->drbg);
	mbedtls_entropy_free(&s->entropy);
	free(s);
}

static int
bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	long n = plat_send(c->fd, buf, len);

	if (n >= 0)
		return (int)n;
	return n == PLAT_WOULD_BLOCK ? MBEDTLS_ERR_SSL_WANT_WRITE
				     : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int
bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	long n;

	if (c->r_off == c->r_len) {
		c->r_off = c->r_len = 0;
		n = plat_recv(c->fd, c->rbuf, sizeof(c->rbuf));
		if (n < 0)
			return n == PLAT_WOULD_BLOCK
				   ? MBEDTLS_ERR_SSL_WANT_READ
				   : MBEDTLS_ERR_NET_RECV_FAILED;
		c->r_len = (size_t)n;
	}
	if (len > c->r_len - c->r_off)
		len = c->r_len - c->r_off;
	memcpy(buf, c->rbuf + c->r_off, len);
	c->r_off += len;
	return (int)len;
}

struct tls_conn *
tls_conn_new(struct tls_server *s, plat_sock fd)
{
	struct tls_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	mbedtls_ssl_init(&c->ssl);
	if (mbedtls_ssl_setup(&c->ssl, &s->conf) != 0) {
		mbedtls_ssl_free(&c->ssl);
		free(c);
		return NULL;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	return c;
}

void
tls_conn_unread(struct tls_conn *c, const void *buf, size_t len)
{
	if (len > TLS_UNREAD_MAX || c->r_off != c->r_len)
		abort(); /* a caller's bug, not input */
	memcpy(c->rbuf, buf, len);
	c->r_len = len;
	c->r_off = 0;
}

/* mbedTLS's "not now" as the caller's, anything else as -1. */
static int
want(int rc)
{
	if (rc == MBEDTLS_ERR_SSL_WANT_READ)
		return TLS_WANT_READ;
	if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_WRITE;
	return -1;
}

static void
subject_cn(const mbedtls_x509_crt *crt, char *cn, size_t cnlen)
{
	const mbedtls_x509_name *n;

	cn[0] = '\0';
	for (n = &crt->subject; n != NULL; n = n->next) {
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
			size_t len =
			    n->val.len < cnlen - 1 ? n->val.len : cnlen - 1;

			memcpy(cn, n->val.p, len);
			cn[len] = '\0';
			return;
		}
	}
}

int
tls_conn_handshake_step(struct tls_conn *c, char *cn, size_t cnlen, char *err,
			size_t errlen)
{
	const mbedtls_x509_crt *peer;
	int rc = mbedtls_ssl_handshake(&c->ssl);

	cn[0] = '\0';
	if (rc != 0) {
		if (want(rc) != -1)
			return want(rc);
		return mbed_fail(err, errlen, "handshake", NULL, rc);
	}
	peer = mbedtls_ssl_get_peer_cert(&c->ssl);
	if (peer == NULL)
		return 0;
	if (mbedtls_ssl_get_verify_result(&c->ssl) != 0) {
		snprintf(err, errlen, "client certificate did not verify");
		mbedtls_ssl_send_alert_message(&c->ssl,
					       MBEDTLS_SSL_ALERT_LEVEL_FATAL,
					       MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
		return -1;
	}
	subject_cn(peer, cn, cnlen);
	return 0;
}

long
tls_conn_read(struct tls_conn *c, void *buf, size_t len)
{
	int rc = mbedtls_ssl_read(&c->ssl, buf, len);

	if (rc > 0)
		return rc;
	if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	return want(rc);
}

long
tls_conn_write(struct tls_conn *c, const void *buf, size_t len)
{
	int rc = mbedtls_ssl_write(&c->ssl, buf, len);

	return rc > 0 ? rc : want(rc);
}

size_t
tls_conn_pending(struct tls_conn *c)
{
	return mbedtls_ssl_get_bytes_avail(&c->ssl) + (c->r_len - c->r_off);
}

void
tls_conn_free(struct tls_conn *c, int notify)
{
	if (c == NULL)
		return;
	if (notify)
		mbedtls_ssl_close_notify(&c->ssl);
	mbedtls_ssl_free(&c->ssl);
	free(c);
}
