/*
 * Resource limits under attack: slowloris from many addresses, a stalled
 * handshake, header floods and oversize bodies, the connection and
 * per-address limits, running out of descriptors, garbage and plain HTTP
 * on the TLS port.
 *
 * Attack connections come from 127.0.0.2 and up (all of 127/8 is
 * loopback on Linux), the legitimate client from 127.0.0.1. Raw TLS is
 * spoken with mbedTLS so that the test controls every byte; libcurl
 * (daemon_harness.c) is the administrator's client.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "daemon_harness.h"

#define SLOWLORIS     1000
#define SLOWLORIS_IPS 200 /* 5 connections each, under per_ip */
#define REPLY_MAX     65536

static struct daemon d;

/* ---- the daemon -------------------------------------------------------- */

static void
start_with(const char *limits)
{
	char extra[512];
	struct daemon_opts o = {.host_file = "healthy.json",
				.extra_json = extra};

	/* A second "limits" member overrides the harness's, key by key. */
	snprintf(extra, sizeof(extra), "\"limits\":{%s}", limits);
	signal(SIGPIPE, SIG_IGN);
	daemon_start(&d, &o);
}

/*
 * The handshake deadline is 30 s wherever a test must tell a refusal
 * from a deadline: anything closed within a few seconds was refused.
 */
static void
start_default(void)
{
	start_with("\"handshake_timeout_s\":30");
}

static void
stop(void)
{
	cr_expect_eq(daemon_stop(&d), 0, "wsusdiagd did not exit cleanly");
}

static void
expect_health(void)
{
	struct http_opts o = {.path = "/health", .timeout_ms = 5000};
	struct http_reply r;

	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 200, "GET /health: curl %d, HTTP %ld",
		     r.curl_code, r.status);
	http_reply_free(&r);
}

static int
count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static bool
log_has(const char *needle)
{
	char *log = slurp(d.log);
	bool yes = log != NULL && strstr(log, needle) != NULL;

	free(log);
	return yes;
}

/* ---- raw TCP ----------------------------------------------------------- */

static long
ms_left(const struct timespec *t0, int timeout_ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return timeout_ms - ((t.tv_sec - t0->tv_sec) * 1000 +
			     (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* A blocking TCP connection to the daemon from 127.0.0.<octet>. */
static int
tcp_from(int octet)
{
	struct sockaddr_in src = {.sin_family = AF_INET}, dst = src;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)octet);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst.sin_port = htons((uint16_t)d.port);
	cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0,
		     "bind 127.0.0.%d: %s", octet, strerror(errno));
	cr_assert_eq(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0,
		     "connect from 127.0.0.%d: %s", octet, strerror(errno));
	return fd;
}

static void
send_all(int fd, const void *buf, size_t len)
{
	cr_assert_eq(send(fd, buf, len, 0), (ssize_t)len, "send: %s",
		     strerror(errno));
}

/*
 * True when the daemon closes fd (end of stream or reset) within
 * timeout_ms; whatever it sends before is read and dropped.
 */
static bool
closed_within(int fd, int timeout_ms)
{
	struct timespec t0;
	char buf[4096];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long left = ms_left(&t0, timeout_ms);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
}

/* Nothing to read and no end of stream: the daemon keeps it open. */
static bool
still_open(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 0;
}

/* The first 15 bytes of a 512-byte ClientHello record, and no more. */
static const unsigned char half_hello[] = {
    0x16, 0x03, 0x01, 0x02, 0x00,	/* handshake record, 512 bytes */
    0x01, 0x00, 0x01, 0xfc,		/* ClientHello, 508 bytes */
    0x03, 0x03, 0x11, 0x22, 0x33, 0x44, /* TLS 1.2, random... */
};

static void
raise_nofile(rlim_t want)
{
	struct rlimit r;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	if (r.rlim_cur >= want)
		return;
	r.rlim_cur = want;
	if (r.rlim_max < want)
		r.rlim_max = want; /* allowed for root only */
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &r), 0,
		     "cannot raise RLIMIT_NOFILE to %lu: %s",
		     (unsigned long)want, strerror(errno));
}

/* ---- raw TLS with mbedTLS ---------------------------------------------- */

struct tls_client {
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
};

static struct {
	bool ready;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_ssl_config conf;
} pki;

static void
pki_init(void)
{
	char path[400];

	if (pki.ready)
		return;
	mbedtls_entropy_init(&pki.entropy);
	mbedtls_ctr_drbg_init(&pki.drbg);
	mbedtls_x509_crt_init(&pki.ca);
	mbedtls_ssl_config_init(&pki.conf);
	cr_assert_eq(mbedtls_ctr_drbg_seed(&pki.drbg, mbedtls_entropy_func,
					   &pki.entropy, NULL, 0),
		     0);
	snprintf(path, sizeof(path), "%s/test-certs/ca.crt", bin_dir());
	cr_assert_eq(mbedtls_x509_crt_parse_file(&pki.ca, path), 0);
	cr_assert_eq(mbedtls_ssl_config_defaults(&pki.conf,
						 MBEDTLS_SSL_IS_CLIENT,
						 MBEDTLS_SSL_TRANSPORT_STREAM,
						 MBEDTLS_SSL_PRESET_DEFAULT),
		     0);
	mbedtls_ssl_conf_authmode(&pki.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&pki.conf, &pki.ca, NULL);
	mbedtls_ssl_conf_rng(&pki.conf, mbedtls_ctr_drbg_random, &pki.drbg);
	mbedtls_ssl_conf_read_timeout(&pki.conf, 5000);
	pki.ready = true;
}

/*
 * A TLS session from 127.0.0.<octet>; false (nothing left open) when
 * the daemon does not complete the handshake.
 */
static bool
tls_open(struct tls_client *t, int octet)
{
	int rc;

	pki_init();
	mbedtls_net_init(&t->net);
	mbedtls_ssl_init(&t->ssl);
	t->net.fd = tcp_from(octet);
	cr_assert_eq(mbedtls_ssl_setup(&t->ssl, &pki.conf), 0);
	cr_assert_eq(mbedtls_ssl_set_hostname(&t->ssl, "localhost"), 0);
	mbedtls_ssl_set_bio(&t->ssl, &t->net, mbedtls_net_send, NULL,
			    mbedtls_net_recv_timeout);
	while ((rc = mbedtls_ssl_handshake(&t->ssl)) != 0) {
		if (rc != MBEDTLS_ERR_SSL_WANT_READ &&
		    rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
			mbedtls_ssl_free(&t->ssl);
			mbedtls_net_free(&t->net);
			return false;
		}
	}
	return true;
}

static void
tls_close(struct tls_client *t)
{
	mbedtls_ssl_close_notify(&t->ssl);
	mbedtls_ssl_free(&t->ssl);
	mbedtls_net_free(&t->net);
}

struct reply {
	char buf[REPLY_MAX + 1];
	size_t len;
	bool closed; /* the daemon ended the connection */
};

/*
 * Send req while reading whatever comes back, until the daemon closes or
 * timeout_ms passes. Reading while sending matters: the daemon answers a
 * flood long before the flood is sent, and a client that only writes
 * would never see the answer. A send the daemon cut short ends sending.
 */
static void
tls_exchange(struct tls_client *t, const char *req, size_t len, struct reply *r,
	     int timeout_ms)
{
	struct timespec t0;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Non-blocking, without the read timeout, which would block. */
	mbedtls_net_set_nonblock(&t->net);
	mbedtls_ssl_set_bio(&t->ssl, &t->net, mbedtls_net_send,
			    mbedtls_net_recv, NULL);
	while (ms_left(&t0, timeout_ms) > 0) {
		struct pollfd p = {.fd = t->net.fd, .events = POLLIN};
		int rc;

		if (off < len) {
			rc = mbedtls_ssl_write(&t->ssl,
					       (const unsigned char *)req + off,
					       len - off);
			if (rc > 0)
				off += (size_t)rc;
			else if (rc != MBEDTLS_ERR_SSL_WANT_WRITE &&
				 rc != MBEDTLS_ERR_SSL_WANT_READ)
				off = len;
		}
		rc = mbedtls_ssl_read(&t->ssl, (unsigned char *)r->buf + r->len,
				      REPLY_MAX - r->len);
		if (rc > 0) {
			r->len += (size_t)rc;
			continue;
		}
		if (rc != MBEDTLS_ERR_SSL_WANT_READ &&
		    rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
			r->closed = true; /* 0, close_notify or a reset */
			break;
		}
		if (off < len)
			p.events |= POLLOUT;
		poll(&p, 1, (int)ms_left(&t0, timeout_ms));
	}
	mbedtls_net_set_block(&t->net);
	mbedtls_ssl_set_bio(&t->ssl, &t->net, mbedtls_net_send, NULL,
			    mbedtls_net_recv_timeout);
	r->buf[r->len] = '\0';
}

/* One keep-alive GET /health on an open session: its status. */
static int
tls_health(struct tls_client *t)
{
	static const char req[] =
	    "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
	char buf[4096];
	size_t len = 0;
	const char *end, *cl;
	int status = 0;

	cr_assert_eq(mbedtls_ssl_write(&t->ssl, (const unsigned char *)req,
				       sizeof(req) - 1),
		     (int)sizeof(req) - 1);
	for (;;) {
		int rc = mbedtls_ssl_read(&t->ssl, (unsigned char *)buf + len,
					  sizeof(buf) - 1 - len);

		if (rc <= 0)
			return 0;
		len += (size_t)rc;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		cl = strcasestr(buf, "\r\nContent-Length: ");
		if (end != NULL && cl != NULL &&
		    len >= (size_t)(end + 4 - buf) + strtoul(cl + 18, NULL, 10))
			break;
	}
	sscanf(buf, "HTTP/1.1 %d ", &status);
	return status;
}

/* The status line, a header and a problem+json body with this status. */
static void
expect_problem_reply(const struct reply *r, int status)
{
	char line[64];
	const char *body = strstr(r->buf, "\r\n\r\n");
	cJSON *j, *s;

	snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
	cr_assert(strncmp(r->buf, line, strlen(line)) == 0,
		  "expected %s, got:\n%s", line, r->buf);
	cr_expect(strcasestr(r->buf, "\r\nConnection: close\r\n") != NULL,
		  "no Connection: close in\n%s", r->buf);
	cr_expect(strcasestr(r->buf, "\r\nContent-Type: "
				     "application/problem+json\r\n") != NULL,
		  "not problem+json:\n%s", r->buf);
	cr_assert_not_null(body);
	j = cJSON_Parse(body + 4);
	cr_assert_not_null(j, "body is not JSON: %s", body + 4);
	s = cJSON_GetObjectItemCaseSensitive(j, "status");
	cr_expect(cJSON_IsNumber(s) && s->valueint == status, "%s", body + 4);
	cJSON_Delete(j);
}

/* ---- slowloris --------------------------------------------------------- */

static int idle[SLOWLORIS];

static void
close_idle(void)
{
	for (int i = 0; i < SLOWLORIS; i++)
		if (idle[i] > 0)
			close(idle[i]);
}

/*
 * A loop numbers each connection it accepts (the order eviction goes
 * by) just after accept(). Preempted in between, it is overtaken by the
 * others, so a connection may be numbered later than it connected,
 * however much later; but only the one each loop is holding, and there
 * are at most LOOPS_MAX loops (listener.c).
 */
#define LOOPS_MAX 4

/* The shipped defaults for both limits. */
static void
start_slowloris(void)
{
	start_with("\"connections\":64,\"per_ip\":16,"
		   "\"handshake_timeout_s\":30");
}

static void
stop_slowloris(void)
{
	close_idle();
	stop();
}

/*
 * 1,000 connections from 200 addresses, each under the per-address
 * limit and together far over the connection limit (64), half silent,
 * half stopped in the middle of a ClientHello, all kept open. With the
 * handshake deadline at 30 s only eviction can let /health through.
 */
Test(limits, slowloris_from_many_addresses_does_not_stop_health,
     .init = start_slowloris, .fini = stop_slowloris, .timeout = 120)
{
	struct timespec t0;
	int open = 0, old_open = 0, evicted_lines;
	long elapsed_ms;
	char *log;

	raise_nofile(SLOWLORIS + 256);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < SLOWLORIS; i++) {
		idle[i] = tcp_from(2 + i % SLOWLORIS_IPS);
		if (i % 2 == 1)
			send_all(idle[i], half_hello, sizeof(half_hello));
	}
	expect_health();
	/*
	 * The table held the newest 64; /health evicted the oldest.
	 * "Newest" is by the loops' numbering (LOOPS_MAX above).
	 */
	for (int i = 0; i < SLOWLORIS; i++) {
		bool is_open = still_open(idle[i]);

		open += is_open;
		old_open += is_open && i < SLOWLORIS - 64;
	}
	cr_expect_leq(old_open, LOOPS_MAX,
		      "%d connections older than the newest 64 are still open",
		      old_open);
	cr_expect_eq(open, 63, "%d idle connections hold a slot", open);
	cr_expect(still_open(idle[SLOWLORIS - 1]), "the newest was evicted");
	elapsed_ms = -ms_left(&t0, 0);
	log = slurp(d.log);
	cr_assert_not_null(log);
	evicted_lines = count_lines(log, "evicted: still in the TLS handshake");
	cr_expect_geq(evicted_lines, 1, "no eviction logged");
	/* 936 evictions, logged at most once a second. */
	cr_expect_leq(evicted_lines, elapsed_ms / 1000 + 2,
		      "%d eviction lines in %ld ms", evicted_lines, elapsed_ms);
	free(log);
}

/* ---- the handshake deadline -------------------------------------------- */

static void
start_short_deadline(void)
{
	start_with("\"handshake_timeout_s\":1");
}

Test(limits, half_a_client_hello_is_dropped_at_the_handshake_deadline,
     .init = start_short_deadline, .fini = stop)
{
	int fd = tcp_from(1);

	send_all(fd, half_hello, sizeof(half_hello));
	/* 1 s deadline, generous slack. */
	cr_expect(closed_within(fd, 6000), "still open after 6 s");
	close(fd);
	cr_expect(log_has("TLS refused: handshake deadline passed"),
		  "the deadline is not what closed it");
}

/* ---- header flood and oversize bodies ---------------------------------- */

#define POST_HEAD                                                              \
	"POST /actions/restart-bits HTTP/1.1\r\nHost: localhost\r\n"           \
	"Authorization: Bearer " ADMIN_TOKEN "\r\n"                            \
	"Content-Type: application/json\r\n"

/*
 * The listener counts each request head and answers one over 16 KiB or
 * 100 header fields itself, with problem+json; MHD (whose pool is 8 KiB
 * larger) never sees the whole head, so its HTML 431 does not appear.
 */
#define HEAD_MAX 16384

/* A 431 problem naming the limit, and the connection closed. */
static void
expect_431(const struct reply *r, const char *detail)
{
	expect_problem_reply(r, 431);
	cr_expect(strstr(r->buf,
			 "\r\n\r\n{\"type\":\"about:blank\","
			 "\"title\":\"Request Header Fields Too Large\"") !=
		      NULL,
		  "%s", r->buf);
	cr_expect(strstr(r->buf, detail) != NULL, "no \"%s\" in\n%s", detail,
		  r->buf);
	cr_expect(r->closed, "the connection was left open");
}

/* 200 fields of 1,000 bytes: 200 KB, far over both limits. */
static char *
flood(size_t *len)
{
	size_t cap = 256 * 1024;
	char *req = malloc(cap);

	*len = (size_t)snprintf(req, cap,
				"GET /health HTTP/1.1\r\nHost: localhost\r\n");
	for (int i = 0; i < 200; i++) {
		*len +=
		    (size_t)snprintf(req + *len, cap - *len, "X-Pad-%03d: ", i);
		memset(req + *len, 'a', 1000);
		*len += 1000;
		*len += (size_t)snprintf(req + *len, cap - *len, "\r\n");
	}
	*len += (size_t)snprintf(req + *len, cap - *len, "\r\n");
	cr_assert_gt(*len, 200000);
	return req;
}

Test(limits, header_flood_gets_431_problem_and_close, .init = start_default,
     .fini = stop)
{
	struct tls_client t;
	struct reply *r = malloc(sizeof(*r));
	size_t len;
	char *req = flood(&len);

	cr_assert(tls_open(&t, 1));
	tls_exchange(&t, req, len, r, 10000);
	expect_431(r, "\"detail\":\"the request head exceeds 16384 bytes\"");
	tls_close(&t);
	free(req);
	free(r);
	cr_expect(log_has("request head too large: answered 431"));
	expect_health();
}

/*
 * A head that begins with start (a request line and its fields) and is
 * exactly len bytes with n header fields, padded in its last field.
 */
static char *
head_from(const char *start, size_t len, int n)
{
	char *req = malloc(len + 1);
	size_t off = (size_t)snprintf(req, len + 1, "%s", start);
	int have = -1;

	for (const char *p = start; (p = strstr(p, "\r\n")) != NULL; p += 2)
		have++;
	for (int i = have + 1; i < n; i++)
		off += (size_t)snprintf(req + off, len + 1 - off,
					"X-%03d: v\r\n", i);
	off += (size_t)snprintf(req + off, len + 1 - off, "X-Pad: ");
	cr_assert_lt(off + 4, len);
	memset(req + off, 'a', len - 4 - off);
	memcpy(req + len - 4, "\r\n\r\n", 4);
	req[len] = '\0';
	return req;
}

/* GET /health, closing after the answer, with such a head (n >= 3). */
static char *
head_of(size_t len, int n)
{
	return head_from("GET /health HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\n",
			 len, n);
}

/* One request on a new session, up to the daemon's close. */
static void
exchange(const char *req, size_t len, struct reply *r)
{
	struct tls_client t;

	cr_assert(tls_open(&t, 1));
	tls_exchange(&t, req, len, r, 10000);
	tls_close(&t);
}

Test(limits, a_head_at_the_limits_is_served_and_one_over_is_not,
     .init = start_default, .fini = stop)
{
	static const struct {
		size_t len;
		int fields;
		int status;
		const char *detail;
	} cases[] = {
	    {HEAD_MAX, 3, 200, NULL},
	    {HEAD_MAX, 100, 200, NULL},
	    {HEAD_MAX + 1, 3, 431, "the request head exceeds 16384 bytes"},
	    {4096, 101, 431,
	     "the request head has more than 100 header "
	     "fields"},
	};
	struct reply *r = malloc(sizeof(*r));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *req = head_of(cases[i].len, cases[i].fields);

		exchange(req, cases[i].len, r);
		if (cases[i].status == 431) {
			expect_431(r, cases[i].detail);
		} else {
			cr_expect(strncmp(r->buf, "HTTP/1.1 200 ", 13) == 0,
				  "case %zu:\n%.300s", i, r->buf);
			cr_expect(strstr(r->buf, "\"status\":\"ok\"") != NULL,
				  "case %zu:\n%.300s", i, r->buf);
		}
		free(req);
	}
	free(r);
}

/*
 * MHD's pool (httpd.c) also holds a body's first bytes and the answer's
 * header beside a head at both limits.
 */
Test(limits, a_post_with_a_head_at_the_limits_and_a_body_is_served,
     .init = start_default, .fini = stop)
{
	size_t blen = 4000;
	char start[512], *head, *req = malloc(HEAD_MAX + blen);
	struct reply *r = malloc(sizeof(*r));

	snprintf(start, sizeof(start),
		 POST_HEAD "Connection: close\r\nContent-Length: %zu\r\n",
		 blen);
	head = head_from(start, HEAD_MAX, 100);
	memcpy(req, head, HEAD_MAX);
	memcpy(req + HEAD_MAX, "{\"dry_run\":true", 15);
	memset(req + HEAD_MAX + 15, ' ', blen - 16);
	req[HEAD_MAX + blen - 1] = '}';
	exchange(req, HEAD_MAX + blen, r);
	cr_expect(strncmp(r->buf, "HTTP/1.1 200 ", 13) == 0, "%.400s", r->buf);
	cr_expect(strstr(r->buf, "\"id\":\"restart-bits\",\"status\":"
				 "\"planned\",\"dry_run\":true") != NULL,
		  "%.400s", r->buf);
	free(head);
	free(req);
	free(r);
}

/* The count starts again after each answer on a kept-alive session. */
Test(limits, a_second_request_that_floods_gets_431_problem,
     .init = start_default, .fini = stop)
{
	struct tls_client t;
	struct reply *r = malloc(sizeof(*r));
	size_t len;
	char *req = flood(&len);

	cr_assert(tls_open(&t, 1));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tls_health(&t), 200, "request %d", i);
	tls_exchange(&t, req, len, r, 10000);
	expect_431(r, "the request head exceeds 16384 bytes");
	tls_close(&t);
	free(req);
	free(r);
}

/*
 * Pipelined behind two requests not yet answered (the second with a
 * body that looks like a head), a flood is counted all the same: the
 * two are answered, then the flood gets the listener's 431, not MHD's
 * HTML one.
 */
Test(limits, a_pipelined_flood_gets_431_problem_after_the_answers_before,
     .init = start_default, .fini = stop)
{
	static const char before[] =
	    "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    "POST /health HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Type: application/json\r\nContent-Length: 30\r\n\r\n"
	    "\r\n\r\nGET /health HTTP/1.1\r\n\r\n\r\n";
	struct tls_client t;
	struct reply *r = malloc(sizeof(*r)), *last = malloc(sizeof(*r));
	size_t len, n = sizeof(before) - 1;
	char *flood_req = flood(&len), *req = malloc(n + len);
	const char *at;

	memcpy(req, before, n);
	memcpy(req + n, flood_req, len);
	cr_assert(tls_open(&t, 1));
	tls_exchange(&t, req, n + len, r, 10000);
	cr_expect(strncmp(r->buf, "HTTP/1.1 200 ", 13) == 0, "%.600s", r->buf);
	/* In order: the 405 to the POST, then the 431. */
	at = strstr(r->buf, "}HTTP/1.1 405 ");
	cr_assert_not_null(at, "no 405 to the POST:\n%.2000s", r->buf);
	at = strstr(at, "}HTTP/1.1 431 ");
	cr_assert_not_null(at, "no 431 after the 405:\n%.2000s", r->buf);
	at++;
	memset(last, 0, sizeof(*last));
	last->len = r->len - (size_t)(at - r->buf);
	memcpy(last->buf, at, last->len);
	last->closed = r->closed;
	expect_431(last, "the request head exceeds 16384 bytes");
	tls_close(&t);
	free(req);
	free(flood_req);
	free(last);
	free(r);
}

/* Read from the session until needle has come; false at its end. */
static bool
tls_read_until(struct tls_client *t, struct reply *r, const char *needle)
{
	while (strstr(r->buf, needle) == NULL) {
		int rc =
		    mbedtls_ssl_read(&t->ssl, (unsigned char *)r->buf + r->len,
				     REPLY_MAX - r->len);

		if (rc <= 0)
			return false;
		r->len += (size_t)rc;
		r->buf[r->len] = '\0';
	}
	return true;
}

static void
start_large_bodies(void)
{
	start_with("\"handshake_timeout_s\":30,\"body_bytes\":65536");
}

/*
 * A body after "100 Continue" is a body, not the next head, however
 * long it is: the interim answer does not end the request.
 */
Test(limits, a_body_after_100_continue_is_not_a_head,
     .init = start_large_bodies, .fini = stop)
{
	size_t blen = 3 * HEAD_MAX, hlen;
	char *body = malloc(blen), head[512];
	struct reply *r = calloc(1, sizeof(*r));
	struct tls_client t;

	memcpy(body, "{\"dry_run\":true", 15);
	memset(body + 15, ' ', blen - 16);
	body[blen - 1] = '}';
	hlen = (size_t)snprintf(head, sizeof(head),
				POST_HEAD "Expect: 100-continue\r\n"
					  "Connection: close\r\n"
					  "Content-Length: %zu\r\n\r\n",
				blen);
	cr_assert(tls_open(&t, 1));
	cr_assert_eq(
	    mbedtls_ssl_write(&t.ssl, (const unsigned char *)head, hlen),
	    (int)hlen);
	cr_assert(tls_read_until(&t, r, "\r\n\r\n"), "no answer to the head");
	cr_assert(strncmp(r->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0,
		  "%s", r->buf);
	tls_exchange(&t, body, blen, r, 10000);
	cr_expect(strncmp(r->buf, "HTTP/1.1 200 ", 13) == 0, "%.400s", r->buf);
	cr_expect(strstr(r->buf, "\"id\":\"restart-bits\",\"status\":"
				 "\"planned\",\"dry_run\":true") != NULL,
		  "%.400s", r->buf);
	cr_expect(r->closed);
	tls_close(&t);
	free(body);
	free(r);
}

static void
expect_413(const char *req, size_t len)
{
	struct tls_client t;
	struct reply *r = malloc(sizeof(*r));

	cr_assert(tls_open(&t, 1));
	tls_exchange(&t, req, len, r, 10000);
	expect_problem_reply(r, 413);
	cr_expect(r->closed, "the connection was left open");
	tls_close(&t);
	free(r);
}

/* The body limit is 4096 bytes in the harness's configuration. */
Test(limits, declared_oversize_body_gets_413_and_close, .init = start_default,
     .fini = stop)
{
	char *req = malloc(65536);
	size_t len;

	len = (size_t)snprintf(req, 65536,
			       POST_HEAD "Content-Length: 60000\r\n\r\n{");
	/* Part of the body follows at once, as from a real client. */
	memset(req + len, ' ', 30000);
	len += 30000;
	expect_413(req, len);
	free(req);
	expect_health();
}

static size_t
chunked_post(char *req, size_t cap, int chunks)
{
	size_t len = (size_t)snprintf(
	    req, cap, POST_HEAD "Transfer-Encoding: chunked\r\n\r\n");

	for (int i = 0; i < chunks; i++) {
		len += (size_t)snprintf(req + len, cap - len, "400\r\n");
		memset(req + len, ' ', 1024);
		len += 1024;
		len += (size_t)snprintf(req + len, cap - len, "\r\n");
	}
	return len;
}

Test(limits, chunked_oversize_body_gets_413_and_close, .init = start_default,
     .fini = stop)
{
	size_t cap = 32 * 1034 + 64, len;
	char *req = malloc(cap);

	len = chunked_post(req, cap, 16); /* 16 KiB */
	len += (size_t)snprintf(req + len, cap - len, "0\r\n\r\n");
	expect_413(req, len);
	free(req);
	expect_health();
}

/*
 * A chunked body cannot be answered before it ends (MHD 0.9.75); one that
 * does not end is read and dropped up to 1 MiB past the limit, then the
 * connection is closed.
 */
Test(limits, endless_chunked_body_is_cut_off, .init = start_default,
     .fini = stop, .timeout = 60)
{
	size_t cap = 2048 * 1034 + 256, len;
	char *req = malloc(cap);
	struct reply *r = malloc(sizeof(*r));
	struct tls_client t;

	len = chunked_post(req, cap, 2048); /* 2 MiB, no last chunk */
	cr_assert(tls_open(&t, 1));
	tls_exchange(&t, req, len, r, 20000);
	cr_expect(r->closed, "the connection was left open");
	tls_close(&t);
	cr_expect(log_has("the body goes on 1048576 bytes past the limit"));
	free(r);
	free(req);
	expect_health();
}

/* ---- the connection and per-address limits ------------------------------ */

/*
 * 8 connections, 4 per address. A TLS session counts once its handshake
 * is done, which a request answered on it proves.
 */
static void
start_small_limits(void)
{
	start_with("\"connections\":8,\"per_ip\":4,"
		   "\"handshake_timeout_s\":30,\"idle_timeout_s\":60");
}

Test(limits, connection_and_per_address_limits_hold, .init = start_small_limits,
     .fini = stop, .timeout = 60)
{
	struct tls_client s[8], late;
	int fd, idle_fd, i;
	bool ok = false;

	for (i = 0; i < 4; i++) {
		cr_assert(tls_open(&s[i], 1), "session %d from .1", i);
		cr_assert_eq(tls_health(&s[i]), 200);
	}
	/* A fifth from the same address: closed without a handshake. */
	fd = tcp_from(1);
	send_all(fd, half_hello, sizeof(half_hello));
	cr_expect(closed_within(fd, 3000), "a fifth connection from .1");
	close(fd);
	for (; i < 7; i++) {
		cr_assert(tls_open(&s[i], 2), "session %d from .2", i);
		cr_assert_eq(tls_health(&s[i]), 200);
	}
	/* The eighth slot: a connection still in its handshake... */
	idle_fd = tcp_from(3);
	send_all(idle_fd, half_hello, sizeof(half_hello));
	/* ...gives way to one that completes its handshake. */
	cr_assert(tls_open(&s[7], 4), "a newcomer did not evict");
	cr_assert_eq(tls_health(&s[7]), 200);
	cr_expect(closed_within(idle_fd, 3000), "the idle one was kept");
	close(idle_fd);
	/* Every slot an established session: the next is refused. */
	fd = tcp_from(5);
	cr_expect(closed_within(fd, 3000), "a ninth connection was kept");
	close(fd);
	cr_expect(!tls_open(&late, 5), "a ninth session was established");
	for (i = 0; i < 8; i++)
		cr_expect_eq(tls_health(&s[i]), 200, "session %d", i);
	/* One closes: a slot is free again once the daemon has seen it. */
	tls_close(&s[0]);
	for (int tries = 0; tries < 50 && !ok; tries++) {
		ok = tls_open(&late, 5);
		if (!ok)
			usleep(100000);
	}
	cr_assert(ok, "no slot after a session closed");
	cr_expect_eq(tls_health(&late), 200);
	tls_close(&late);
	for (i = 1; i < 8; i++)
		tls_close(&s[i]);
	cr_expect(log_has("per-address connection limit reached"));
	cr_expect(log_has("every connection is busy or new"));
	cr_expect(log_has("127.0.0.3: evicted: still in the TLS handshake"));
}

/*
 * An attacker can complete handshakes too. A full table of sessions
 * that wait for a request longer than a handshake may take (2 s here)
 * gives way to a newcomer, the longest waiting first, also when it
 * drips a head (slowloris); sessions that were just used do not.
 */
static void
start_tiny_table(void)
{
	start_with("\"connections\":4,\"per_ip\":4,"
		   "\"handshake_timeout_s\":2,\"idle_timeout_s\":60");
}

Test(limits, sessions_waiting_longer_than_a_handshake_give_way,
     .init = start_tiny_table, .fini = stop, .timeout = 60)
{
	struct tls_client s[4], admin, late;
	int i;

	for (i = 0; i < 4; i++) {
		cr_assert(tls_open(&s[i], 2), "session %d", i);
		cr_assert_eq(tls_health(&s[i]), 200);
	}
	/* s[0] begins a head and drips it. */
	for (i = 0; i < 5; i++) {
		cr_assert_eq(mbedtls_ssl_write(
				 &s[0].ssl, (const unsigned char *)"GET /", 5),
			     5);
		usleep(500 * 1000);
	}
	/* The administrator gets in; s[0], waiting longest, goes. */
	cr_assert(tls_open(&admin, 1), "a newcomer was refused");
	cr_expect_eq(tls_health(&admin), 200);
	cr_expect(closed_within(s[0].net.fd, 3000), "s[0] was kept");
	for (i = 1; i < 4; i++)
		cr_expect_eq(tls_health(&s[i]), 200, "session %d", i);
	/* Every session was just used: the next is refused. */
	cr_expect(!tls_open(&late, 3), "a fifth session was established");
	cr_expect(log_has("127.0.0.2: evicted: a session waiting for a "
			  "request longer than the handshake deadline"));
	cr_expect(log_has("every connection is busy or new"));
	tls_close(&admin);
	for (i = 0; i < 4; i++)
		tls_close(&s[i]);
}

/* ---- a client that reads nothing ---------------------------------------- */

static void
start_short_idle(void)
{
	start_with("\"handshake_timeout_s\":30,\"idle_timeout_s\":2");
}

/*
 * 400 pipelined answers of about 39 KiB are more than every buffer
 * between the daemon and a client that reads none of them holds: the
 * daemon's writes stall. That costs others nothing, and the connection
 * goes once an answer has not moved for limits.idle_timeout_s.
 */
Test(limits, a_client_that_reads_nothing_stalls_nobody_and_is_closed,
     .init = start_short_idle, .fini = stop, .timeout = 60)
{
	static const char req[] =
	    "GET /openapi.yaml HTTP/1.1\r\nHost: localhost\r\n\r\n";
	const char *line = "127.0.0.2: closed: the client did not read its "
			   "answer within limits.idle_timeout_s";
	struct tls_client hog;
	int i;

	cr_assert(tls_open(&hog, 2));
	for (i = 0; i < 400; i++)
		cr_assert_eq(mbedtls_ssl_write(&hog.ssl,
					       (const unsigned char *)req,
					       sizeof(req) - 1),
			     (int)sizeof(req) - 1);
	expect_health();
	for (i = 0; i < 150 && !log_has(line); i++)
		usleep(100 * 1000);
	cr_expect(log_has(line), "the stalled connection was kept");
	expect_health();
	mbedtls_ssl_free(&hog.ssl);
	mbedtls_net_free(&hog.net);
}

/* ---- out of descriptors ------------------------------------------------- */

static int
open_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	cr_assert_not_null(dir, "%s: %s", path, strerror(errno));
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* User and system CPU time of the whole process, in ms. */
static long
cpu_ms(pid_t pid)
{
	char path[64], stat[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_not_null(fgets(stat, sizeof(stat), f));
	fclose(f);
	p = strrchr(stat, ')'); /* the name may hold spaces */
	cr_assert_not_null(p, "%s", stat);
	cr_assert_eq(sscanf(p + 2,
			    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			    "%*u %lu %lu",
			    &ut, &st),
		     2, "%s", stat);
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/*
 * With its descriptors used up, the daemon cannot accept the connection
 * waiting in the backlog, and the listening socket stays readable. It
 * must say so and wait, not retry at once in a loop (which costs a
 * processor per event loop), and serve again once descriptors are free.
 */
Test(limits, out_of_descriptors_is_logged_and_does_not_spin,
     .init = start_default, .fini = stop, .timeout = 60)
{
	const char *line = "listener: cannot accept connections for now";
	struct timespec t0;
	struct rlimit r;
	int fds[8], lines;
	long cpu, elapsed_ms;
	char *log;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, NULL, &r), 0);
	r.rlim_cur = (rlim_t)open_fds(d.pid) + 4;
	cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, &r, NULL), 0, "%s",
		     strerror(errno));
	for (int i = 0; i < 8; i++)
		fds[i] = tcp_from(2); /* 4 accepted, then EMFILE */
	for (int i = 0; i < 50 && !log_has(line); i++)
		usleep(100 * 1000);
	cr_assert(log_has(line), "no line about running out of descriptors");
	cpu = cpu_ms(d.pid);
	sleep(2);
	cpu = cpu_ms(d.pid) - cpu;
	/* Spinning costs 2000 ms per loop here; waiting, next to nothing. */
	cr_expect_lt(cpu, 500, "%ld ms of CPU in 2 s without descriptors", cpu);
	log = slurp(d.log);
	cr_assert_not_null(log);
	lines = count_lines(log, line);
	elapsed_ms = -ms_left(&t0, 0);
	/* Logged at most once a second, however often accept() fails. */
	cr_expect_leq(lines, elapsed_ms / 1000 + 2, "%d lines in %ld ms", lines,
		      elapsed_ms);
	free(log);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	expect_health();
}

/* ---- what is not TLS on the TLS port ------------------------------------ */

Test(limits, garbage_on_the_tls_port_is_refused, .init = start_default,
     .fini = stop)
{
	/* Each 40 bytes, zero-padded. */
	static const char garbage[][40] = {
	    "\x00\x01\x02\x03\x04\x05\x06\x07 binary noise \xff\xfe",
	    "HELLOWORLD this is not a method",
	    "\x16\x03\x03\x00\x05\x99\x99\x99\x99\x99 a record of junk",
	    "\x80\x2e\x01\x00\x02 an SSLv2 hello, cut",
	};

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		int fd = tcp_from(1);

		send_all(fd, garbage[i], sizeof(garbage[i]));
		cr_expect(closed_within(fd, 3000), "garbage %zu kept open", i);
		close(fd);
	}
	expect_health();
}

/*
 * What an administrator who typed http:// gets (curl sends the same
 * request). Not through http_call: this answer comes from the listener,
 * before any HTTP is routed, and is outside the OpenAPI contract that
 * http_call checks.
 */
Test(limits, plain_http_on_the_tls_port_gets_a_400_problem,
     .init = start_default, .fini = stop)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n"
				  "User-Agent: curl/7.88.1\r\n"
				  "Accept: */*\r\n\r\n";
	struct reply *r = calloc(1, sizeof(*r));
	int fd = tcp_from(1);

	send_all(fd, req, sizeof(req) - 1);
	for (ssize_t n;
	     (n = recv(fd, r->buf + r->len, REPLY_MAX - r->len, 0)) > 0;)
		r->len += (size_t)n;
	close(fd);
	expect_problem_reply(r, 400);
	cr_expect(strstr(r->buf, "speaks HTTPS only") != NULL, "%s", r->buf);
	cr_expect(strstr(r->buf, "use https://") != NULL, "%s", r->buf);
	free(r);
	expect_health();
}
