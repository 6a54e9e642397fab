/*
 * test_probe.c: the libcurl probe against canned HTTP servers on
 * 127.0.0.1 (a thread per server, port chosen by the kernel): the answers
 * a WSUS server or proxy gives BITS, reproduced without leaving this host.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/xalloc.h"
#include "platform/probe.h"

#define HR_NAME_NOT_RESOLVED	   0x80072EE7u
#define HR_CANNOT_CONNECT	   0x80072EFDu
#define HR_TIMEOUT		   0x80072EE2u
#define HR_INVALID_SERVER_RESPONSE 0x80072F78u
#define HR_INVALID_URL		   0x80072EE5u
#define HR_UNRECOGNIZED_SCHEME	   0x80072EE6u
#define HR_INVALID_PARAMETER	   0x80070057u

/* How a canned server treats each connection. */
enum srv_mode {
	SRV_REPLY,  /* read the request head, send reply, close */
	SRV_PROXY,  /* SRV_REPLY, but only for an absolute-form GET */
	SRV_SILENT, /* read the request head, then say nothing until stopped */
	SRV_HANGUP, /* close as soon as accepted */
};

struct srv {
	enum srv_mode mode;
	const char *reply;
	int lfd;
	int stop[2];
	unsigned short port;
	pthread_t thread;
	pthread_mutex_t lock;
	char request[4096]; /* head of the last request */
	unsigned accepted;
};

static const char bad_request[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

/* Wait for fd or the stop pipe; false once stopped or after ms. */
static bool
wait_readable(struct srv *s, int fd, int ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
			      {.fd = s->stop[0], .events = POLLIN}};

	if (poll(p, 2, ms) <= 0 || (p[1].revents & POLLIN))
		return false;
	return true;
}

static bool
read_head(struct srv *s, int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while (len + 1 < cap && strstr(buf, "\r\n\r\n") == NULL) {
		if (!wait_readable(s, fd, 5000))
			return false;
		if ((n = recv(fd, buf + len, cap - 1 - len, 0)) <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return true;
}

static void
send_all(int fd, const char *p)
{
	size_t len = strlen(p);
	ssize_t n;

	while (len > 0 && (n = send(fd, p, len, MSG_NOSIGNAL)) > 0) {
		p += n;
		len -= (size_t)n;
	}
}

/* One connection; false when the server is told to stop meanwhile. */
static bool
serve(struct srv *s, int fd)
{
	char head[sizeof(s->request)];
	const char *reply = s->reply;

	if (s->mode == SRV_HANGUP)
		return true;
	if (!read_head(s, fd, head, sizeof(head)))
		return true;
	pthread_mutex_lock(&s->lock);
	memcpy(s->request, head, sizeof(head));
	pthread_mutex_unlock(&s->lock);
	if (s->mode == SRV_SILENT) {
		/* Hold the connection open, unanswered, until stopped. */
		(void)wait_readable(s, s->stop[0], -1);
		return false;
	}
	if (s->mode == SRV_PROXY && strncmp(head, "GET http://", 11) != 0 &&
	    strncmp(head, "CONNECT ", 8) != 0)
		reply = bad_request;
	send_all(fd, reply);
	return true;
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	bool go = true;
	int fd;

	while (go && wait_readable(s, s->lfd, -1)) {
		if ((fd = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		s->accepted++;
		pthread_mutex_unlock(&s->lock);
		go = serve(s, fd);
		close(fd);
	}
	return NULL;
}

/* A bound 127.0.0.1 socket on a kernel-chosen port, not yet listening. */
static int
bind_loopback(unsigned short *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void
srv_start(struct srv *s, enum srv_mode mode, const char *reply)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->reply = reply;
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = bind_loopback(&s->port);
	cr_assert(listen(s->lfd, 16) == 0);
	cr_assert(pipe(s->stop) == 0);
	cr_assert(pthread_create(&s->thread, NULL, srv_main, s) == 0);
}

static void
srv_stop(struct srv *s)
{
	cr_assert(write(s->stop[1], "x", 1) == 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
}

/* The first line of the request the server saw, for exact comparison. */
static char *
srv_request_line(struct srv *s)
{
	char *line, *eol;

	pthread_mutex_lock(&s->lock);
	line = xstrdup(s->request);
	pthread_mutex_unlock(&s->lock);
	if ((eol = strstr(line, "\r\n")) != NULL)
		*eol = '\0';
	return line;
}

static char *
url_for(const struct srv *s, const char *path)
{
	return xasprintf("http://127.0.0.1:%u%s", s->port, path);
}

static struct probe_request
request(const char *method, const char *url)
{
	return (struct probe_request){
	    .method = method, .url = url, .timeout_ms = 5000};
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
setup(void)
{
	cr_assert_eq(plat_probe_global_init(), 0);
}

TestSuite(probe, .init = setup);

Test(probe, head_with_content_length)
{
	struct srv s;
	struct probe_result r;
	char *url, *line;

	srv_start(&s, SRV_REPLY,
		  "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n"
		  "Content-Type: application/octet-stream\r\n\r\n");
	url = url_for(&s, "/Content/AB/1234.cab");
	struct probe_request req = request("HEAD", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	line = srv_request_line(&s);
	srv_stop(&s);
	cr_assert_str_eq(line, "HEAD /Content/AB/1234.cab HTTP/1.1");
	cr_assert_eq(r.http_status, 200);
	cr_assert(r.has_content_length);
	cr_assert_eq(r.content_length, 1048576);
	cr_assert_eq(r.body_bytes, 0);
	cr_assert_null(r.content_range);
	cr_assert_null(r.detail);
	cr_assert_eq(r.reached, PROBE_DONE);
	cr_assert_str_eq(r.resolved_ip, "127.0.0.1");
	cr_assert_eq(r.tls_ms, 0);
	cr_assert(r.total_ms >= r.first_byte_ms && r.first_byte_ms > 0);
	probe_result_clear(&r);
	free(line);
	free(url);
}

/* BITS needs the header on HEAD: its absence is the finding. */
Test(probe, head_without_content_length)
{
	struct srv s;
	struct probe_result r;
	char *url;

	srv_start(&s, SRV_REPLY,
		  "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	url = url_for(&s, "/Content/AB/1234.cab");
	struct probe_request req = request("HEAD", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	srv_stop(&s);
	cr_assert_eq(r.http_status, 200);
	cr_assert_not(r.has_content_length);
	cr_assert_eq(r.content_length, 0);
	cr_assert_eq(r.reached, PROBE_DONE);
	probe_result_clear(&r);
	free(url);
}

Test(probe, range_answered_206)
{
	struct srv s;
	struct probe_result r;
	char body[101], *reply, *url;

	memset(body, 'b', 100);
	body[100] = '\0';
	reply = xasprintf("HTTP/1.1 206 Partial Content\r\n"
			  "Content-Range: bytes 0-99/5000\r\n"
			  "Content-Length: 100\r\n\r\n%s",
			  body);
	srv_start(&s, SRV_REPLY, reply);
	url = url_for(&s, "/Content/AB/1234.cab");
	struct probe_request req = request("GET", url);
	req.range = "bytes=0-99";

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	srv_stop(&s);
	cr_assert(strstr(s.request, "\r\nRange: bytes=0-99\r\n") != NULL,
		  "request was: %s", s.request);
	cr_assert_eq(r.http_status, 206);
	cr_assert_str_eq(r.content_range, "bytes 0-99/5000");
	cr_assert(r.has_content_length);
	cr_assert_eq(r.content_length, 100);
	cr_assert_eq(r.body_bytes, 100);
	probe_result_clear(&r);
	free(url);
	free(reply);
}

/* A server that ignores Range sends everything: counted, not kept. */
Test(probe, range_ignored_full_body)
{
	struct srv s;
	struct probe_result r;
	char *body, *reply, *url;

	body = xmalloc(5001);
	memset(body, 'f', 5000);
	body[5000] = '\0';
	reply = xasprintf("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n%s",
			  body);
	srv_start(&s, SRV_REPLY, reply);
	url = url_for(&s, "/Content/AB/1234.cab");
	struct probe_request req = request("GET", url);
	req.range = "bytes=0-99";

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	srv_stop(&s);
	cr_assert_eq(r.http_status, 200);
	cr_assert_null(r.content_range);
	cr_assert_eq(r.content_length, 5000);
	cr_assert_eq(r.body_bytes, 5000);
	cr_assert_eq(r.reached, PROBE_DONE);
	probe_result_clear(&r);
	free(url);
	free(reply);
	free(body);
}

Test(probe, forbidden_is_a_response)
{
	struct srv s;
	struct probe_result r;
	char *url;

	srv_start(&s, SRV_REPLY,
		  "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\n"
		  "forbidden");
	url = url_for(&s, "/ClientWebService/client.asmx");
	struct probe_request req = request("GET", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	srv_stop(&s);
	cr_assert_eq(r.http_status, 403);
	cr_assert_eq(r.body_bytes, 9);
	cr_assert_null(r.detail);
	probe_result_clear(&r);
	free(url);
}

/* A 3xx is a result: the Location is not fetched. */
Test(probe, redirect_not_followed)
{
	struct srv s;
	struct probe_result r;
	char *url;

	srv_start(&s, SRV_REPLY,
		  "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
		  "Content-Length: 0\r\n\r\n");
	url = url_for(&s, "/selfupdate/wuident.cab");
	struct probe_request req = request("GET", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	srv_stop(&s);
	cr_assert_eq(r.http_status, 302);
	cr_assert_eq(s.accepted, 1);
	probe_result_clear(&r);
	free(url);
}

/* Headers of a 1xx interim response belong to no final response. */
Test(probe, interim_response_headers_dropped)
{
	struct srv s;
	struct probe_result r;
	char *url;

	srv_start(&s, SRV_REPLY,
		  "HTTP/1.1 102 Processing\r\nContent-Length: 7\r\n"
		  "Content-Range: bytes 0-6/7\r\n\r\n"
		  "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody");
	url = url_for(&s, "/x");
	struct probe_request req = request("GET", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	srv_stop(&s);
	cr_assert_eq(r.http_status, 200);
	cr_assert_not(r.has_content_length);
	cr_assert_null(r.content_range);
	cr_assert_eq(r.body_bytes, 4);
	probe_result_clear(&r);
	free(url);
}

Test(probe, connection_refused)
{
	struct probe_result r;
	unsigned short port;
	char *url;
	int fd;

	/* Bound but never listening: nothing accepts on this port. */
	fd = bind_loopback(&port);
	url = xasprintf("http://127.0.0.1:%u/", port);
	struct probe_request req = request("GET", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_CANNOT_CONNECT);
	close(fd);
	cr_assert_eq(r.reached, PROBE_RESOLVE);
	cr_assert_eq(r.http_status, 0);
	cr_assert_not_null(r.detail);
	probe_result_clear(&r);
	free(url);
}

Test(probe, silent_server_times_out)
{
	struct srv s;
	struct probe_result r;
	double t0, elapsed;
	char *url;

	srv_start(&s, SRV_SILENT, NULL);
	url = url_for(&s, "/selfupdate/wuident.cab");
	struct probe_request req = request("GET", url);
	req.timeout_ms = 500;

	t0 = now_ms();
	cr_assert_eq(plat_http_probe(&req, &r), HR_TIMEOUT);
	elapsed = now_ms() - t0;
	srv_stop(&s);
	cr_assert_lt(elapsed, 3000.0);
	cr_assert_eq(r.reached, PROBE_SEND);
	cr_assert_eq(r.http_status, 0);
	cr_assert_not_null(r.detail);
	cr_assert(strstr(r.detail, "timed out") != NULL, "detail: %s",
		  r.detail);
	probe_result_clear(&r);
	free(url);
}

Test(probe, server_hangs_up)
{
	struct srv s;
	struct probe_result r;
	char *url;

	srv_start(&s, SRV_HANGUP, NULL);
	url = url_for(&s, "/");
	struct probe_request req = request("HEAD", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_INVALID_SERVER_RESPONSE);
	srv_stop(&s);
	cr_assert_eq(r.http_status, 0);
	cr_assert_eq(r.reached, PROBE_SEND);
	cr_assert_not_null(r.detail);
	probe_result_clear(&r);
	free(url);
}

/* Not HTTP at all: curl calls it HTTP/0.9, WinHTTP an invalid response. */
Test(probe, garbage_reply)
{
	struct srv s;
	struct probe_result r;
	char *url;

	srv_start(&s, SRV_REPLY, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
	url = url_for(&s, "/");
	struct probe_request req = request("GET", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_INVALID_SERVER_RESPONSE);
	srv_stop(&s);
	cr_assert_eq(r.reached, PROBE_SEND);
	cr_assert_not_null(r.detail);
	probe_result_clear(&r);
	free(url);
}

Test(probe, unresolvable_host)
{
	struct probe_result r;
	double t0;
	struct probe_request req =
	    request("HEAD", "http://wsus.invalid:8530/selfupdate/wuident.cab");

	t0 = now_ms();
	cr_assert_eq(plat_http_probe(&req, &r), HR_NAME_NOT_RESOLVED);
	cr_assert_lt(now_ms() - t0, 3000.0);
	cr_assert_eq(r.reached, 0);
	cr_assert_null(r.resolved_ip);
	cr_assert_not_null(r.detail);
	probe_result_clear(&r);
}

Test(probe, bad_urls)
{
	struct probe_result r;
	struct probe_request req = request("GET", "ftp://127.0.0.1/x");

	cr_assert_eq(plat_http_probe(&req, &r), HR_UNRECOGNIZED_SCHEME);
	cr_assert_not_null(r.detail);
	probe_result_clear(&r);
	req.url = "http://[::1/x";
	cr_assert_eq(plat_http_probe(&req, &r), HR_INVALID_URL);
	probe_result_clear(&r);
}

Test(probe, invalid_request)
{
	struct probe_result r;
	struct probe_request req = request("POST", "http://127.0.0.1:1/");

	cr_assert_eq(plat_http_probe(&req, &r), HR_INVALID_PARAMETER);
	probe_result_clear(&r);
	req = request("GET", "http://127.0.0.1:1/");
	req.timeout_ms = 0;
	cr_assert_eq(plat_http_probe(&req, &r), HR_INVALID_PARAMETER);
	probe_result_clear(&r);
}

/*
 * Through a forward proxy the request line is absolute-form and the
 * origin's name is the proxy's to resolve; no_proxy must not bypass it.
 */
Test(probe, forward_proxy)
{
	struct srv s;
	struct probe_result r;
	char *proxy, *line;

	setenv("no_proxy", "*", 1);
	srv_start(&s, SRV_PROXY,
		  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	proxy = xasprintf("127.0.0.1:%u", s.port);
	struct probe_request req =
	    request("GET", "http://wsus.invalid:8530/selfupdate/wuident.cab");
	req.proxy = proxy;

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	line = srv_request_line(&s);
	srv_stop(&s);
	cr_assert_str_eq(
	    line,
	    "GET http://wsus.invalid:8530/selfupdate/wuident.cab HTTP/1.1");
	cr_assert_eq(r.http_status, 200);
	cr_assert_eq(r.body_bytes, 2);
	cr_assert_str_eq(r.resolved_ip, "127.0.0.1");
	probe_result_clear(&r);
	free(line);
	free(proxy);
}

/* A proxy refusing the HTTPS tunnel still answered: its 407 is the result. */
Test(probe, proxy_refuses_tunnel)
{
	struct srv s;
	struct probe_result r;
	char *proxy, *line;

	srv_start(&s, SRV_PROXY,
		  "HTTP/1.1 407 Proxy Authentication Required\r\n"
		  "Proxy-Authenticate: Basic realm=\"corp\"\r\n"
		  "Content-Length: 0\r\n\r\n");
	proxy = xasprintf("127.0.0.1:%u", s.port);
	struct probe_request req =
	    request("HEAD", "https://wsus.invalid:8531/selfupdate/wuident.cab");
	req.proxy = proxy;

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	line = srv_request_line(&s);
	srv_stop(&s);
	cr_assert_str_eq(line, "CONNECT wsus.invalid:8531 HTTP/1.1");
	cr_assert_eq(r.http_status, 407);
	cr_assert(r.has_content_length);
	cr_assert_eq(r.content_length, 0);
	cr_assert_not_null(r.detail);
	probe_result_clear(&r);
	free(line);
	free(proxy);
}

/* The service has no proxy environment; neither does a direct probe. */
Test(probe, environment_proxy_ignored)
{
	struct srv s;
	struct probe_result r;
	char *url, *line;

	setenv("http_proxy", "http://proxy.invalid:3128", 1);
	setenv("ALL_PROXY", "http://proxy.invalid:3128", 1);
	srv_start(&s, SRV_REPLY,
		  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	url = url_for(&s, "/selfupdate/wuident.cab");
	struct probe_request req = request("GET", url);

	cr_assert_eq(plat_http_probe(&req, &r), HR_OK);
	line = srv_request_line(&s);
	srv_stop(&s);
	cr_assert_str_eq(line, "GET /selfupdate/wuident.cab HTTP/1.1");
	cr_assert_eq(r.http_status, 200);
	probe_result_clear(&r);
	free(line);
	free(url);
}

struct worker {
	const char *url;
	hr_t hr;
	struct probe_result r;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct probe_request req = request("GET", w->url);

	w->hr = plat_http_probe(&req, &w->r);
	return NULL;
}

/* The daemon probes from many threads at once. */
Test(probe, concurrent_calls)
{
	enum { N = 8 };
	struct worker w[N];
	pthread_t t[N];
	struct srv s;
	char *url;
	int i;

	srv_start(&s, SRV_REPLY,
		  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	url = url_for(&s, "/x");
	for (i = 0; i < N; i++) {
		w[i] = (struct worker){.url = url};
		cr_assert(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
	}
	for (i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	srv_stop(&s);
	cr_assert_eq(s.accepted, N);
	for (i = 0; i < N; i++) {
		cr_assert_eq(w[i].hr, HR_OK);
		cr_assert_eq(w[i].r.http_status, 200);
		cr_assert_eq(w[i].r.body_bytes, 5);
		probe_result_clear(&w[i].r);
	}
	free(url);
}
