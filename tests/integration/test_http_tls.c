/*
 * The transport: TLS versions, plain HTTP on the TLS port, client
 * certificates, the allow-list, slow clients and --insecure-http.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon_harness.h"

static struct daemon d;

static void
start_default(void)
{
	struct daemon_opts o = {.host_file = "healthy.json"};

	signal(SIGPIPE, SIG_IGN);
	daemon_start(&d, &o);
}

static void
stop(void)
{
	cr_expect_eq(daemon_stop(&d), 0, "wsusdiagd did not exit cleanly");
}

static int
connect_raw(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Read what the server sends until it closes or timeout_ms passes. */
static size_t
read_all(int fd, unsigned char *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		n = recv(fd, buf + got, len - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * A minimal ClientHello offering only `minor` (1 = TLS 1.0, 2 = TLS 1.1,
 * 3 = TLS 1.2) with an ECDHE-ECDSA suite of that era. Built by hand so
 * the test does not depend on what the local client library still
 * allows.
 */
static size_t
client_hello(unsigned char *b, unsigned minor, bool deflate)
{
	static const unsigned char ext[] = {
	    0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, /* P-256 */
	    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,		    /* uncompressed */
	    0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, /* ecdsa+sha256 */
	};
	unsigned char *p = b + 9;
	size_t body;

	*p++ = 3;
	*p++ = (unsigned char)minor;
	for (int i = 0; i < 32; i++)
		*p++ = (unsigned char)(i * 7 + 1);
	*p++ = 0; /* no session id */
	*p++ = 0;
	*p++ = 4;
	/* TLS 1.2: AES-128-GCM; older: AES-128-CBC-SHA, both ECDHE-ECDSA. */
	*p++ = 0xc0;
	*p++ = minor == 3 ? 0x2b : 0x09;
	*p++ = 0x00;
	*p++ = 0xff; /* renegotiation SCSV */
	if (deflate) {
		*p++ = 2;
		*p++ = 1; /* DEFLATE, first choice */
	} else {
		*p++ = 1;
	}
	*p++ = 0; /* null compression */
	*p++ = 0;
	*p++ = sizeof(ext);
	memcpy(p, ext, sizeof(ext));
	p += sizeof(ext);
	body = (size_t)(p - b) - 9;
	b[0] = 0x16;
	b[1] = 3;
	b[2] = 1;
	b[3] = (unsigned char)((body + 4) >> 8);
	b[4] = (unsigned char)(body + 4);
	b[5] = 1;
	b[6] = 0;
	b[7] = (unsigned char)(body >> 8);
	b[8] = (unsigned char)body;
	return body + 9;
}

static void
hello_answer_c(unsigned minor, bool deflate, unsigned char *reply, size_t *n)
{
	unsigned char hello[256];
	size_t len = client_hello(hello, minor, deflate);
	int fd = connect_raw(d.port);

	cr_assert_eq(send(fd, hello, len, 0), (ssize_t)len);
	*n = read_all(fd, reply, 4096, 3000);
	close(fd);
}

static void
hello_answer(unsigned minor, unsigned char *reply, size_t *n)
{
	hello_answer_c(minor, false, reply, n);
}

Test(tls, refuses_tls_1_0_and_1_1_with_protocol_version_alert,
     .init = start_default, .fini = stop)
{
	unsigned char reply[4096];
	size_t n;

	for (unsigned minor = 1; minor <= 2; minor++) {
		hello_answer(minor, reply, &n);
		cr_assert_geq(n, 7, "no answer to a TLS 1.%u hello", minor - 1);
		cr_expect_eq(reply[0], 0x15, "expected an alert record");
		cr_expect_eq(reply[5], 2, "expected a fatal alert");
		cr_expect_eq(reply[6], 70, "expected protocol_version (70)");
	}
}

Test(tls, the_same_hello_in_tls_1_2_gets_a_server_hello, .init = start_default,
     .fini = stop)
{
	unsigned char reply[4096];
	size_t n;

	hello_answer(3, reply, &n);
	cr_assert_geq(n, 11);
	cr_expect_eq(reply[0], 0x16, "expected a handshake record");
	cr_expect_eq(reply[5], 2, "expected ServerHello");
	cr_expect_eq(reply[9], 3);
	cr_expect_eq(reply[10], 3, "expected TLS 1.2 in ServerHello");
}

/* CRIME: a client offering DEFLATE first must be answered with null. */
Test(tls, compression_is_never_chosen, .init = start_default, .fini = stop)
{
	unsigned char reply[4096];
	size_t n, sid, at;

	hello_answer_c(3, true, reply, &n);
	cr_assert_geq(n, 44);
	cr_assert_eq(reply[0], 0x16, "expected a handshake record");
	cr_assert_eq(reply[5], 2, "expected ServerHello");
	sid = reply[43];
	at = 43 + 1 + sid + 2;
	cr_assert_lt(at, n);
	cr_expect_eq(reply[at], 0, "the server chose compression method %u",
		     reply[at]);
}

Test(tls, a_silent_client_does_not_delay_another, .init = start_default,
     .fini = stop)
{
	int idle = connect_raw(d.port);
	struct http_opts o = {.path = "/health", .timeout_ms = 2000};
	struct http_reply r;

	/* 2 s is below the 3 s handshake deadline the idle one holds. */
	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 200, "curl code %d", r.curl_code);
	http_reply_free(&r);
	close(idle);
}

Test(tls, a_stalled_handshake_is_dropped_at_the_deadline, .init = start_default,
     .fini = stop)
{
	unsigned char reply[64];
	int fd = connect_raw(d.port);
	size_t n;

	/* Deadline 3 s in the test config; allow generous slack. */
	n = read_all(fd, reply, sizeof(reply), 8000);
	cr_expect_eq(n, 0);
	{
		struct pollfd p = {.fd = fd, .events = POLLIN};

		cr_expect_eq(poll(&p, 1, 0), 1, "connection still open");
		cr_expect_eq(recv(fd, reply, sizeof(reply), 0), 0,
			     "expected the daemon to close");
	}
	close(fd);
}

Test(tls, client_certificate_from_the_ca_gets_its_role, .init = start_default,
     .fini = stop)
{
	struct http_opts o = {.path = "/checks", .client_cert = "read-client"};
	struct http_reply r;

	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 200, "curl %d body %s", r.curl_code, r.body);
	http_reply_free(&r);

	o.client_cert = "read-client";
	o.method = "POST";
	o.path = "/actions/restart-bits";
	o.body = "{\"dry_run\":true}";
	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 403, "read certificate must not act");
	http_reply_free(&r);

	o.client_cert = "admin-client";
	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 200, "admin certificate: %s", r.body);
	http_reply_free(&r);
}

Test(tls, client_certificate_from_another_ca_is_refused, .init = start_default,
     .fini = stop)
{
	struct http_opts o = {.path = "/health",
			      .client_cert = "foreign-client"};
	struct http_reply r;

	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 0, "a foreign certificate got HTTP %ld",
		     r.status);
	cr_expect_neq(r.curl_code, 0);
	http_reply_free(&r);
}

Test(tls, unmapped_client_certificate_is_forbidden, .init = start_default,
     .fini = stop)
{
	struct http_opts o = {.path = "/checks",
			      .client_cert = "unmapped-client"};
	struct http_reply r;

	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 403, "body %s", r.body);
	http_reply_free(&r);
}

Test(tls, address_outside_the_allow_list_is_refused)
{
	struct daemon_opts opts = {.host_file = "healthy.json",
				   .allow = "[\"10.0.0.0/8\"]"};
	struct http_opts o = {.path = "/health"};
	struct http_reply r;
	char *log;

	signal(SIGPIPE, SIG_IGN);
	daemon_start(&d, &opts);
	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 0, "127.0.0.1 got HTTP %ld", r.status);
	http_reply_free(&r);
	log = slurp(d.log);
	cr_expect(log && strstr(log, "not in auth.allow"),
		  "the refusal is not logged");
	free(log);
	stop();
}

Test(tls, insecure_http_serves_plain_http_on_loopback)
{
	struct daemon_opts opts = {.host_file = "healthy.json",
				   .insecure_http = true};
	struct http_opts o = {.path = "/health", .plain = true};
	struct http_reply r;

	daemon_start(&d, &opts);
	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 200);
	http_reply_free(&r);
	stop();
}
