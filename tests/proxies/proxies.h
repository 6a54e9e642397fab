/*
 * proxies.h: real proxies and a tiny origin server on 127.0.0.1 for the
 * tests (include from a Criterion test; everything is static inline, so
 * each test takes what it uses):
 *
 * - px_tinyproxy_start/stop: Debian's tinyproxy, a real forward proxy,
 *   as a child process in the foreground on a kernel-chosen free port,
 *   configured from tests/proxies/tinyproxy.conf.in;
 * - px_origin_start/stop: an HTTP/1.1 origin that serves one body with
 *   Content-Length, and honours "Range: bytes=a-b" with a 206, as IIS
 *   does for WSUS content;
 * - px_strip_start/stop: a forward proxy that misbehaves the way the
 *   article's Apache 2.0 proxies do: it drops Content-Length from the
 *   answers and/or the Range header from the requests. tinyproxy cannot
 *   be configured to do that.
 *
 * Every wait has a deadline; the servers are threads stopped through a
 * pipe, the proxy is killed (and dies with the test process anyway).
 */
#ifndef WSUSDIAG_TEST_PROXIES_H
#define WSUSDIAG_TEST_PROXIES_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/xalloc.h"

/* ---- small socket helpers ---------------------------------------------- */

static inline double
px_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* A listening 127.0.0.1 socket on a port the kernel chose. */
static inline int
px_listen(unsigned short *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
	cr_assert(listen(fd, 16) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port free right now (for a child that binds it itself). */
static inline unsigned short
px_free_port(void)
{
	unsigned short port;

	close(px_listen(&port));
	return port;
}

static inline bool
px_can_connect(unsigned short port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* fd readable within ms and no stop requested (stop < 0: none). */
static inline bool
px_wait(int fd, int stop, int ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
			      {.fd = stop, .events = POLLIN}};

	if (poll(p, stop >= 0 ? 2 : 1, ms) <= 0)
		return false;
	return stop < 0 || !(p[1].revents & POLLIN);
}

static inline void
px_send(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0 && (n = send(fd, p, len, MSG_NOSIGNAL)) > 0) {
		p += n;
		len -= (size_t)n;
	}
}

/* The request or response head, up to and with the blank line. */
static inline bool
px_read_head(int fd, int stop, char *buf, size_t cap, size_t *len)
{
	ssize_t n;

	*len = 0;
	buf[0] = '\0';
	while (*len + 1 < cap && strstr(buf, "\r\n\r\n") == NULL) {
		if (!px_wait(fd, stop, 5000))
			return false;
		if ((n = recv(fd, buf + *len, cap - 1 - *len, 0)) <= 0)
			return false;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return strstr(buf, "\r\n\r\n") != NULL;
}

/* A header's value in a head, copied to out; false if absent. */
static inline bool
px_header(const char *head, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), i;
	const char *p = strstr(head, "\r\n");

	while (p != NULL && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			for (i = 0; i + 1 < cap && p[i] != '\r'; i++)
				out[i] = p[i];
			out[i] = '\0';
			return true;
		}
		p = strstr(p, "\r\n");
	}
	return false;
}

/* ---- a thread that serves connections ------------------------------------ */

struct px_server {
	int lfd;
	int stop[2];
	unsigned short port;
	pthread_t thread;
	void (*serve)(struct px_server *s, int fd);
	unsigned flags;		 /* the strip proxy's PX_STRIP_* */
	size_t body_len;	 /* the origin's body */
	unsigned long requests;	 /* answered, for the tests */
	char last_request[4096]; /* head of the last request seen */
	pthread_mutex_t lock;
};

static inline void *
px_server_main(void *arg)
{
	struct px_server *s = arg;
	int fd;

	while (px_wait(s->lfd, s->stop[0], -1)) {
		if ((fd = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		s->serve(s, fd);
		close(fd);
	}
	return NULL;
}

static inline void
px_server_start(struct px_server *s, void (*serve)(struct px_server *, int))
{
	s->serve = serve;
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = px_listen(&s->port);
	cr_assert(pipe(s->stop) == 0);
	cr_assert(pthread_create(&s->thread, NULL, px_server_main, s) == 0);
}

static inline void
px_server_stop(struct px_server *s)
{
	cr_assert(write(s->stop[1], "x", 1) == 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
}

static inline void
px_note_request(struct px_server *s, const char *head)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->last_request, sizeof(s->last_request), "%s", head);
	s->requests++;
	pthread_mutex_unlock(&s->lock);
}

/* ---- the origin ---------------------------------------------------------- */

/* The origin's body: byte i is 'A' + i % 26, so a slice is recognisable. */
static inline char
px_body_byte(size_t i)
{
	return (char)('A' + i % 26);
}

/* "bytes=a-b" within the body; false for anything else. */
static inline bool
px_parse_range(const char *v, size_t body, size_t *a, size_t *b)
{
	unsigned long x, y;
	int n = 0;

	if (sscanf(v, "bytes=%lu-%lu%n", &x, &y, &n) != 2 || v[n] != '\0' ||
	    x > y || x >= body)
		return false;
	*a = x;
	*b = y < body ? y : body - 1;
	return true;
}

static inline void
px_origin_serve(struct px_server *s, int fd)
{
	char head[4096], range[128], *reply;
	size_t len, a = 0, b = s->body_len - 1, i;
	bool is_head, partial;

	if (!px_read_head(fd, s->stop[0], head, sizeof(head), &len))
		return;
	px_note_request(s, head);
	is_head = strncmp(head, "HEAD ", 5) == 0;
	partial = px_header(head, "Range", range, sizeof(range)) &&
		  px_parse_range(range, s->body_len, &a, &b);
	if (partial)
		reply = xasprintf("HTTP/1.1 206 Partial Content\r\n"
				  "Content-Range: bytes %zu-%zu/%zu\r\n"
				  "Content-Length: %zu\r\nAccept-Ranges: "
				  "bytes\r\nConnection: close\r\n\r\n",
				  a, b, s->body_len, b - a + 1);
	else
		reply = xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				  "Accept-Ranges: bytes\r\nContent-Type: "
				  "application/octet-stream\r\nConnection: "
				  "close\r\n\r\n",
				  s->body_len);
	px_send(fd, reply, strlen(reply));
	free(reply);
	if (is_head)
		return;
	for (i = a; i <= b; i++) {
		char c = px_body_byte(i);

		px_send(fd, &c, 1);
	}
}

static inline void
px_origin_start(struct px_server *s, size_t body_len)
{
	memset(s, 0, sizeof(*s));
	s->body_len = body_len;
	px_server_start(s, px_origin_serve);
}

/* ---- the stripping proxy ---------------------------------------------------
 */

enum {
	PX_STRIP_CONTENT_LENGTH = 1, /* answers lose Content-Length */
	PX_STRIP_RANGE = 2,	     /* requests lose Range */
};

static inline int
px_connect(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int fd = -1;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * "GET http://host:port/path HTTP/1.1" -> method, host, port, path.
 * Only the absolute form a forward proxy receives for http URLs.
 */
static inline bool
px_parse_target(const char *head, char *method, char *host, char *port,
		char *path)
{
	return sscanf(head, "%15s http://%255[^:/ ]:%15[0-9]%1023s", method,
		      host, port, path) == 4 &&
	       path[0] == '/';
}

/* Copy a head line by line, leaving out the hop-by-hop headers, the
 * request line (skip_first) and what the proxy strips. */
static inline char *
px_filter_head(const char *head, bool skip_first, const char *drop)
{
	size_t cap = strlen(head) + 64, len = 0;
	char *out = xmalloc(cap);
	const char *p = head, *eol;

	out[0] = '\0';
	if (skip_first)
		p = strstr(p, "\r\n") + 2;
	while ((eol = strstr(p, "\r\n")) != NULL && eol != p) {
		size_t n = (size_t)(eol - p) + 2;
		bool keep =
		    strncasecmp(p, "Connection:", 11) != 0 &&
		    strncasecmp(p, "Proxy-Connection:", 17) != 0 &&
		    strncasecmp(p, "Keep-Alive:", 11) != 0 &&
		    (drop == NULL || strncasecmp(p, drop, strlen(drop)) != 0);

		if (keep) {
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p = eol + 2;
	}
	return out;
}

/* Everything the origin sends until it closes, within 5 s. */
static inline char *
px_read_all(int fd, int stop, size_t *len)
{
	size_t cap = 8192;
	char *buf = xmalloc(cap);
	ssize_t n;

	*len = 0;
	while (px_wait(fd, stop, 5000)) {
		if (*len + 4096 > cap)
			buf = xrealloc(buf, cap *= 2);
		if ((n = recv(fd, buf + *len, cap - *len - 1, 0)) <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	return buf;
}

static inline void
px_relay_answer(struct px_server *s, int client, int origin)
{
	size_t len, head_len;
	char *all = px_read_all(origin, s->stop[0], &len), *end, *first;
	char *rest, *out;

	if ((end = strstr(all, "\r\n\r\n")) == NULL)
		goto out;
	head_len = (size_t)(end - all) + 4;
	first = xasprintf("%.*s", (int)(strstr(all, "\r\n") - all), all);
	rest = px_filter_head(
	    all, true,
	    (s->flags & PX_STRIP_CONTENT_LENGTH) ? "Content-Length:" : NULL);
	out = xasprintf("%s\r\n%sConnection: close\r\n\r\n", first, rest);
	px_send(client, out, strlen(out));
	px_send(client, all + head_len, len - head_len);
	free(first);
	free(rest);
	free(out);
out:
	free(all);
}

static inline void
px_strip_serve(struct px_server *s, int fd)
{
	static const char bad[] =
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	char head[4096], method[16], host[256], port[16], path[1024];
	char *fwd, *rest;
	size_t len;
	int up;

	if (!px_read_head(fd, s->stop[0], head, sizeof(head), &len))
		return;
	px_note_request(s, head);
	if (!px_parse_target(head, method, host, port, path) ||
	    (up = px_connect(host, port)) < 0) {
		px_send(fd, bad, sizeof(bad) - 1);
		return;
	}
	rest = px_filter_head(head, true,
			      (s->flags & PX_STRIP_RANGE) ? "Range:" : NULL);
	fwd = xasprintf("%s %s HTTP/1.1\r\n%sConnection: close\r\n\r\n", method,
			path, rest);
	px_send(up, fwd, strlen(fwd));
	px_relay_answer(s, fd, up);
	close(up);
	free(fwd);
	free(rest);
}

static inline void
px_strip_start(struct px_server *s, unsigned flags)
{
	memset(s, 0, sizeof(*s));
	s->flags = flags;
	px_server_start(s, px_strip_serve);
}

/* ---- tinyproxy
 * --------------------------------------------------------------- */

struct px_tinyproxy {
	pid_t pid;
	unsigned short port;
	char dir[64];
	char conf[128];
};

/* tinyproxy.conf.in with @PORT@ and @DIR@ filled in. */
static inline void
px_tinyproxy_config(struct px_tinyproxy *t)
{
	const char *src = getenv("WSUSDIAG_SOURCE_DIR");
	char *path, line[512], *at;
	FILE *in, *out;

	cr_assert_not_null(src, "WSUSDIAG_SOURCE_DIR is not set (run ctest)");
	path = xasprintf("%s/tests/proxies/tinyproxy.conf.in", src);
	in = fopen(path, "r");
	cr_assert_not_null(in, "open %s", path);
	out = fopen(t->conf, "w");
	cr_assert_not_null(out, "create %s", t->conf);
	while (fgets(line, sizeof(line), in) != NULL) {
		if ((at = strstr(line, "@PORT@")) != NULL)
			fprintf(out, "%.*s%u%s", (int)(at - line), line,
				t->port, at + 6);
		else if ((at = strstr(line, "@DIR@")) != NULL)
			fprintf(out, "%.*s%s%s", (int)(at - line), line, t->dir,
				at + 5);
		else
			fputs(line, out);
	}
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	free(path);
}

static inline bool
px_tinyproxy_installed(void)
{
	return access("/usr/bin/tinyproxy", X_OK) == 0 ||
	       access("/usr/sbin/tinyproxy", X_OK) == 0;
}

/* Fork tinyproxy -d; it dies with the test process if that dies first. */
static inline void
px_tinyproxy_spawn(struct px_tinyproxy *t)
{
	char *log = xasprintf("%s/stderr.log", t->dir);
	int fd;

	t->pid = fork();
	cr_assert(t->pid >= 0);
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("tinyproxy", "tinyproxy", "-d", "-c", t->conf,
		       (char *)NULL);
		_exit(127);
	}
	free(log);
}

/* Up and accepting within 5 s; false if it exited (port taken). */
static inline bool
px_tinyproxy_wait(struct px_tinyproxy *t)
{
	double deadline = px_now_ms() + 5000;
	int st;

	while (px_now_ms() < deadline) {
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = 0;
			return false;
		}
		if (px_can_connect(t->port))
			return true;
		usleep(20000);
	}
	return false;
}

static inline void
px_tinyproxy_kill(struct px_tinyproxy *t)
{
	double deadline = px_now_ms() + 3000;
	int st;

	if (t->pid <= 0)
		return;
	kill(t->pid, SIGTERM);
	while (waitpid(t->pid, &st, WNOHANG) == 0) {
		if (px_now_ms() > deadline) {
			kill(t->pid, SIGKILL);
			waitpid(t->pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	t->pid = 0;
}

static inline void
px_tinyproxy_start(struct px_tinyproxy *t)
{
	int attempt;

	memset(t, 0, sizeof(*t));
	cr_assert(px_tinyproxy_installed(),
		  "tinyproxy is not installed: run scripts/deps.sh --test");
	snprintf(t->dir, sizeof(t->dir), "/tmp/wsd-tinyproxy-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->conf, sizeof(t->conf), "%s/tinyproxy.conf", t->dir);
	/* Another process may take the free port before tinyproxy does. */
	for (attempt = 0; attempt < 3; attempt++) {
		t->port = px_free_port();
		px_tinyproxy_config(t);
		px_tinyproxy_spawn(t);
		if (px_tinyproxy_wait(t))
			return;
		px_tinyproxy_kill(t);
	}
	cr_assert_fail("tinyproxy did not start (see %s/stderr.log)", t->dir);
}

static inline void
px_tinyproxy_stop(struct px_tinyproxy *t)
{
	const char *names[] = {"tinyproxy.conf", "tinyproxy.log", "stderr.log"};
	size_t i;
	char *p;

	px_tinyproxy_kill(t);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		p = xasprintf("%s/%s", t->dir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(t->dir);
}

#endif
