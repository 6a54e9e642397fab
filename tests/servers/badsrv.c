/*
 * badsrv.c: a small HTTP/1.1 server on 127.0.0.1 that serves the two
 * WSUS files correctly except for one chosen fault: the answers of the
 * broken servers and proxies that make BITS fail. One thread accepts
 * and answers one connection at a time ("Connection: close"), which is
 * all a check's sequential probes need.
 */
#include "servers/servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long a client may take to send its request head. */
#define HEAD_WAIT_MS 5000

struct badsrv {
	enum badsrv_fault fault;
	int arg;
	int lfd;
	int stop[2];
	unsigned short port;
	pthread_t thread;
	pthread_mutex_t lock;
	unsigned requests;
};

/* What a request asks for. */
struct req {
	char method[8];
	char path[256];
	bool has_range;
	unsigned long first, last; /* of "Range: bytes=first-last" */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

unsigned char
wsus_file_byte(size_t i)
{
	return (unsigned char)('A' + (i * 7 + i / 26) % 26);
}

/* Wait for fd or the stop pipe; false once stopped or after ms. */
static bool
wait_readable(struct badsrv *s, int fd, int ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
			      {.fd = s->stop[0], .events = POLLIN}};

	if (poll(p, 2, ms) <= 0 || (p[1].revents & POLLIN))
		return false;
	return true;
}

/* Sleep ms unless told to stop first (true). */
static bool
stopped_within(struct badsrv *s, int ms)
{
	struct pollfd p = {.fd = s->stop[0], .events = POLLIN};

	return poll(&p, 1, ms) > 0;
}

static bool
read_head(struct badsrv *s, int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while (len + 1 < cap && strstr(buf, "\r\n\r\n") == NULL) {
		if (!wait_readable(s, fd, HEAD_WAIT_MS))
			return false;
		if ((n = recv(fd, buf + len, cap - 1 - len, 0)) <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return true;
}

static void
parse_request(const char *head, struct req *r)
{
	const char *range;

	memset(r, 0, sizeof(*r));
	if (sscanf(head, "%7s %255s", r->method, r->path) != 2)
		r->method[0] = '\0';
	range = strcasestr(head, "\r\nRange: bytes=");
	if (range != NULL &&
	    sscanf(range + 15, "%lu-%lu", &r->first, &r->last) == 2 &&
	    r->first <= r->last)
		r->has_range = true;
}

static void
send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0 && (n = send(fd, p, len, MSG_NOSIGNAL)) > 0) {
		p += n;
		len -= (size_t)n;
	}
}

/* Bytes [from, from + n) of a file. */
static void
send_body(int fd, size_t from, size_t n)
{
	unsigned char buf[512];
	size_t k;

	while (n > 0) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = wsus_file_byte(from + i);
		send_all(fd, buf, k);
		from += k;
		n -= k;
	}
}

static void send_head(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
send_head(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		send_all(fd, buf,
			 (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static size_t
file_size(const struct badsrv *s, const char *path)
{
	if (strcmp(path, "/iuident.cab") == 0 && s->fault != BADSRV_NO_IUIDENT)
		return WSUS_IUIDENT_SIZE;
	if (strcmp(path, "/selfupdate/wuident.cab") == 0)
		return WSUS_WUIDENT_SIZE;
	return 0;
}

static void
answer_status(int fd, int status, const char *reason)
{
	send_head(fd,
		  "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		  status, reason, strlen(reason), reason);
}

/* 206 for [first, last] of size (last within the file), or the fault's
 * wrong range: the next hundred bytes, announced as such. */
static void
answer_range(struct badsrv *s, int fd, const struct req *r, size_t size)
{
	size_t first = r->first, last = r->last < size ? r->last : size - 1;

	if (first >= size) {
		send_head(fd,
			  "HTTP/1.1 416 Range Not Satisfiable\r\n"
			  "Content-Range: bytes */%zu\r\nContent-Length: 0\r\n"
			  "Connection: close\r\n\r\n",
			  size);
		return;
	}
	if (s->fault == BADSRV_RANGE_WRONG) {
		first += 100;
		last = first + 99 < size ? first + 99 : size - 1;
	}
	send_head(fd,
		  "HTTP/1.1 206 Partial Content\r\n"
		  "Content-Type: application/octet-stream\r\n"
		  "Content-Range: bytes %zu-%zu/%zu\r\nContent-Length: %zu\r\n"
		  "Connection: close\r\n\r\n",
		  first, last, size, last - first + 1);
	send_body(fd, first, last - first + 1);
}

static void
answer_file(struct badsrv *s, int fd, const struct req *r, size_t size)
{
	bool head = strcmp(r->method, "HEAD") == 0;

	if (!head && r->has_range && s->fault != BADSRV_RANGE_IGNORED) {
		answer_range(s, fd, r, size);
		return;
	}
	if (head && s->fault == BADSRV_HEAD_NO_LENGTH) {
		send_head(fd, "HTTP/1.1 200 OK\r\n"
			      "Content-Type: application/octet-stream\r\n"
			      "Connection: close\r\n\r\n");
		return;
	}
	send_head(
	    fd,
	    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    size);
	if (!head)
		send_body(fd, 0, size);
}

/* One connection; false when told to stop meanwhile. */
static bool
serve(struct badsrv *s, int fd)
{
	char head[4096];
	struct req r;
	size_t size;

	if (!read_head(s, fd, head, sizeof(head)))
		return true;
	pthread_mutex_lock(&s->lock);
	s->requests++;
	pthread_mutex_unlock(&s->lock);
	if (s->fault == BADSRV_SILENT) {
		/* Hold the connection open, unanswered, until stopped. */
		(void)wait_readable(s, s->stop[0], -1);
		return false;
	}
	parse_request(head, &r);
	if (s->fault == BADSRV_SLOW && stopped_within(s, s->arg))
		return false;
	if (s->fault == BADSRV_STATUS)
		answer_status(fd, s->arg, "fault");
	else if (strcmp(r.method, "GET") != 0 && strcmp(r.method, "HEAD") != 0)
		answer_status(fd, 405, "Method Not Allowed");
	else if ((size = file_size(s, r.path)) == 0)
		answer_status(fd, 404, "Not Found");
	else
		answer_file(s, fd, &r, size);
	return true;
}

static void *
badsrv_main(void *arg)
{
	struct badsrv *s = arg;
	bool go = true;
	int fd;

	while (go && wait_readable(s, s->lfd, -1)) {
		if ((fd = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		go = serve(s, fd);
		close(fd);
	}
	return NULL;
}

/* A bound 127.0.0.1 socket on a kernel-chosen port, not yet listening. */
static int
bind_loopback(unsigned short *port, char *err, size_t errlen)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		set_err(err, errlen, "bind 127.0.0.1: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int
closed_port(unsigned short *port, char *err, size_t errlen)
{
	return bind_loopback(port, err, errlen);
}

struct badsrv *
badsrv_start(enum badsrv_fault fault, int arg, char *err, size_t errlen)
{
	struct badsrv *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	s->fault = fault;
	s->arg = arg;
	s->stop[0] = s->stop[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	if ((s->lfd = bind_loopback(&s->port, err, errlen)) < 0)
		goto fail;
	if (listen(s->lfd, 16) != 0 || pipe(s->stop) != 0) {
		set_err(err, errlen, "listen: %s", strerror(errno));
		goto fail;
	}
	if ((errno = pthread_create(&s->thread, NULL, badsrv_main, s)) != 0) {
		set_err(err, errlen, "pthread_create: %s", strerror(errno));
		goto fail;
	}
	return s;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop[0] >= 0) {
		close(s->stop[0]);
		close(s->stop[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

unsigned short
badsrv_port(const struct badsrv *s)
{
	return s->port;
}

unsigned
badsrv_requests(struct badsrv *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void
badsrv_stop(struct badsrv *s)
{
	if (s == NULL)
		return;
	if (write(s->stop[1], "x", 1) != 1)
		abort(); /* the thread would never end */
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
