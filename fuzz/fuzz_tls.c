/*
 * fuzz_tls.c: the daemon's TLS record path (daemon/tls.c, mbedTLS with
 * the daemon's configuration) fed hostile bytes on a socket pair, the
 * way daemon/listener.c drives it.
 *
 * Input: a mode byte, then the payload.
 *   mode bit 0 = 0  (a) before any handshake: the payload is all the
 *                   client ever sends (a ClientHello and what follows),
 *                   then EOF; the handshake (tls_conn_handshake_step,
 *                   driven as the listener drives it) must fail cleanly.
 *     bits 1-7 % 17 = k  the first k bytes reach the session through
 *                   tls_conn_unread, as the listener hands over what it
 *                   read to tell TLS from plain HTTP; the rest through
 *                   the socket.
 *   mode bit 0 = 1  (b) after a completed handshake (a real mbedTLS
 *                   client, resuming a session made at start-up so an
 *                   input costs no public-key operation): the payload
 *                   goes to the socket, then EOF, and tls_conn_read is
 *                   driven until it reports the end or an error.
 *     bit 1 = 0     the payload is written raw, as if it were records;
 *     bit 1 = 1     it is chunks [tag][len][len bytes], tag % 4: 0 raw
 *                   bytes, 1 application data through the client
 *                   (valid records), 2 an alert (level, type) through
 *                   the client, 3 the client's close_notify.
 *     bits 2-7      read size: 0 is 16384 bytes, else 1 to 63.
 * Whatever the server decrypts must be what the client encrypted.
 *
 * Certificates: tests/make-certs.sh into a temporary directory at
 * start-up, loaded, then removed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "common/xalloc.h"
#include "daemon/tls.h"
#include "fuzz/common.h"
#include "platform/host.h"
#include "support/tmptree.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* How long a step may take before it counts as a hang. */
#define STEP_MS 5000

static struct {
	struct tls_server *server;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf; /* the client's */
	mbedtls_ssl_session session;
} g;

struct client {
	mbedtls_ssl_context ssl;
	int fd; /* blocking */
	int rc;
};

/* What went in through the client and what came out of the server. */
struct stream {
	uint8_t *sent;
	size_t n_sent;
	uint8_t *got;
	size_t n_got;
	bool raw;   /* raw bytes went in: the rest cannot decrypt */
	bool ended; /* an alert or close_notify: the server may stop */
};

static int
client_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);

	return n >= 0 ? (int)n : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int
client_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n = recv(*(int *)ctx, buf, len, 0);

	return n >= 0 ? (int)n : MBEDTLS_ERR_NET_RECV_FAILED;
}

static void
client_init(struct client *c, int fd, bool resume)
{
	c->fd = fd;
	mbedtls_ssl_init(&c->ssl);
	if (mbedtls_ssl_setup(&c->ssl, &g.conf) != 0 ||
	    (resume && mbedtls_ssl_set_session(&c->ssl, &g.session) != 0))
		fuzz_fail("client setup");
	mbedtls_ssl_set_bio(&c->ssl, &c->fd, client_send, client_recv, NULL);
}

static void *
client_handshake(void *p)
{
	struct client *c = p;

	c->rc = mbedtls_ssl_handshake(&c->ssl);
	return NULL;
}

static void
make_client_conf(void)
{
	static const char pers[] = "wsusdiag fuzz client";
	mbedtls_ssl_config *c = &g.conf;

	mbedtls_entropy_init(&g.entropy);
	mbedtls_ctr_drbg_init(&g.drbg);
	mbedtls_ssl_config_init(c);
	mbedtls_ssl_session_init(&g.session);
	if (mbedtls_ctr_drbg_seed(&g.drbg, mbedtls_entropy_func, &g.entropy,
				  (const unsigned char *)pers,
				  sizeof(pers)) != 0 ||
	    mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		fuzz_fail("client configuration");
	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &g.drbg);
	/* The server is under test, not its certificate. */
	mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
}

static void
make_server(void)
{
	char dir[] = "/tmp/wsd-fuzz-tls.XXXXXX", err[512];
	char *cmd, *crt, *key, *ca;

	if (mkdtemp(dir) == NULL)
		fuzz_fail("mkdtemp: %s", strerror(errno));
	cmd = xasprintf("'%s/../tests/make-certs.sh' '%s' >/dev/null 2>&1",
			FUZZ_DIR, dir);
	if (system(cmd) != 0)
		fuzz_fail("%s failed", cmd);
	crt = xasprintf("%s/server.crt", dir);
	key = xasprintf("%s/server.key", dir);
	ca = xasprintf("%s/ca.crt", dir);
	/* With a client CA the server asks for certificates: more to parse. */
	g.server = tls_server_new(crt, key, ca, err, sizeof(err));
	rm_tree(dir);
	if (g.server == NULL)
		fuzz_fail("%s", err);
	free(cmd);
	free(crt);
	free(key);
	free(ca);
}

/*
 * The handshake step by step, waiting for the socket as each step asks,
 * the way daemon/listener.c drives it: 0 done, -1 failed (err), -2 no
 * progress within STEP_MS.
 */
static int
handshake(struct tls_conn *c, plat_sock fd, char *cn, size_t cnlen, char *err,
	  size_t errlen)
{
	int rc;

	while ((rc = tls_conn_handshake_step(c, cn, cnlen, err, errlen)) ==
		   TLS_WANT_READ ||
	       rc == TLS_WANT_WRITE) {
		struct plat_pollfd pfd = {
		    fd, rc == TLS_WANT_READ ? PLAT_POLLIN : PLAT_POLLOUT, 0};

		if (plat_poll(&pfd, 1, STEP_MS) <= 0)
			return -2;
	}
	return rc;
}

/*
 * A handshake between the daemon's side (sp[0]) and the client (sp[1]);
 * the server end is returned. Resuming, it costs no public-key
 * operation.
 */
static struct tls_conn *
connect_pair(plat_sock sp[2], struct client *cl, bool resume)
{
	struct tls_conn *c;
	pthread_t t;
	char cn[256], err[256];
	int rc;

	if (plat_sock_pair(sp) != 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	if ((c = tls_conn_new(g.server, sp[0])) == NULL)
		fuzz_fail("tls_conn_new");
	client_init(cl, (int)sp[1], resume);
	if (pthread_create(&t, NULL, client_handshake, cl) != 0)
		fuzz_fail("pthread_create");
	rc = handshake(c, sp[0], cn, sizeof(cn), err, sizeof(err));
	if (rc != 0)
		shutdown((int)sp[0], SHUT_RDWR); /* unblock the client */
	pthread_join(t, NULL);
	if (rc != 0 || cl->rc != 0)
		fuzz_fail("handshake: server %s, client -0x%04x",
			  rc == -2 ? "no progress"
			  : rc	   ? err
				   : "ok",
			  (unsigned)-cl->rc);
	return c;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	plat_sock sp[2];
	struct client cl;
	struct tls_conn *c;

	(void)argc, (void)argv;
	fuzz_quiet();
	make_client_conf();
	make_server();
	/* The one full handshake: its session is resumed by every input. */
	c = connect_pair(sp, &cl, false);
	if (mbedtls_ssl_get_session(&cl.ssl, &g.session) != 0)
		fuzz_fail("no session to resume");
	mbedtls_ssl_free(&cl.ssl);
	tls_conn_free(c, 0);
	close((int)sp[0]);
	close((int)sp[1]);
	return 0;
}

static void
write_raw(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the server closed: nothing more to send */
		p += w;
		n -= (size_t)w;
	}
}

/* (a): everything the client says before the server answers, then EOF. */
static void
before_handshake(uint8_t mode, const uint8_t *p, size_t n)
{
	size_t k = (size_t)(mode >> 1) % (TLS_UNREAD_MAX + 1);
	plat_sock sp[2];
	struct tls_conn *c;
	char cn[256], err[256];

	if (k > n)
		k = n;
	if (plat_sock_pair(sp) != 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	write_raw((int)sp[1], p + k, n - k);
	shutdown((int)sp[1], SHUT_WR);
	if ((c = tls_conn_new(g.server, sp[0])) == NULL)
		fuzz_fail("tls_conn_new");
	if (k > 0)
		tls_conn_unread(c, p, k);
	switch (handshake(c, sp[0], cn, sizeof(cn), err, sizeof(err))) {
	case 0:
		fuzz_fail("a handshake completed without a client");
		break;
	case -2:
		fuzz_fail("the handshake waited for input after EOF");
		break;
	}
	tls_conn_free(c, 0);
	close((int)sp[0]);
	close((int)sp[1]);
}

/* Read what the server can now; false once it reported end or error. */
static bool
pump(struct tls_conn *c, plat_sock fd, struct stream *s, size_t rlen, bool wait)
{
	uint8_t buf[16384];
	struct plat_pollfd pfd = {fd, PLAT_POLLIN, 0};
	long n;

	for (;;) {
		n = tls_conn_read(c, buf, rlen);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
			if (!wait)
				return true;
			if (plat_poll(&pfd, 1, STEP_MS) <= 0)
				fuzz_fail("tls_conn_read waits after EOF");
			continue;
		}
		if (n <= 0)
			return false;
		if ((size_t)n > rlen)
			fuzz_fail("read %ld bytes into %zu", n, rlen);
		s->got = xrealloc(s->got, s->n_got + (size_t)n);
		memcpy(s->got + s->n_got, buf, (size_t)n);
		s->n_got += (size_t)n;
		if (s->n_got > s->n_sent ||
		    memcmp(s->got, s->sent, s->n_got) != 0)
			fuzz_fail("decrypted bytes the client did not send");
	}
}

/* One chunk of mode (b) through the client; returns bytes consumed. */
static size_t
client_chunk(struct client *cl, struct stream *s, const uint8_t *p, size_t n)
{
	size_t len;

	if (n < 2)
		return n;
	len = p[1] < n - 2 ? p[1] : n - 2;
	switch (p[0] % 4) {
	case 0:
		write_raw(cl->fd, p + 2, len);
		s->raw |= len > 0;
		break;
	case 1:
		if (len > 0 && !s->raw &&
		    mbedtls_ssl_write(&cl->ssl, p + 2, len) == (int)len) {
			s->sent = xrealloc(s->sent, s->n_sent + len);
			memcpy(s->sent + s->n_sent, p + 2, len);
			s->n_sent += len;
		}
		break;
	case 2:
		if (len >= 2)
			mbedtls_ssl_send_alert_message(&cl->ssl, p[2], p[3]);
		s->ended = true;
		break;
	case 3:
		mbedtls_ssl_close_notify(&cl->ssl);
		s->ended = true;
		break;
	}
	return 2 + len;
}

/* (b): records, or garbage, after a completed handshake. */
static void
after_handshake(uint8_t mode, const uint8_t *p, size_t n)
{
	size_t rlen = (mode >> 2) != 0 ? (size_t)(mode >> 2) : 16384;
	struct stream s = {0};
	struct client cl;
	struct tls_conn *c;
	plat_sock sp[2];
	bool open = true;

	c = connect_pair(sp, &cl, true);
	if ((mode & 2) == 0) {
		write_raw(cl.fd, p, n);
		s.raw = n > 0;
	}
	while ((mode & 2) != 0 && n > 0 && open) {
		size_t used = client_chunk(&cl, &s, p, n);

		p += used;
		n -= used;
		open = pump(c, sp[0], &s, rlen, false);
	}
	shutdown(cl.fd, SHUT_WR);
	if (open)
		pump(c, sp[0], &s, rlen, true);
	if (!s.raw && !s.ended && s.n_got != s.n_sent)
		fuzz_fail("sent %zu bytes of data, the server read %zu",
			  s.n_sent, s.n_got);
	mbedtls_ssl_free(&cl.ssl);
	tls_conn_free(c, 0);
	close((int)sp[0]);
	close((int)sp[1]);
	free(s.sent);
	free(s.got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		before_handshake(data[0], data + 1, size - 1);
	else
		after_handshake(data[0], data + 1, size - 1);
	return 0;
}
