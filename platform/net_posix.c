/*
 * net_posix.c: platform/net.h on BSD sockets.
 */
#include "platform/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/xalloc.h"

int
plat_net_init(void)
{
	return 0;
}

static void
fill_addr(struct plat_addr *a)
{
	const struct sockaddr_storage *ss = (const void *)a->sa;

	memset(a->addr16, 0, sizeof(a->addr16));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		a->addr16[10] = a->addr16[11] = 0xff;
		memcpy(a->addr16 + 12, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(a->addr16, &s6->sin6_addr, 16);
	}
	plat_sockaddr_text(ss, a->text, sizeof(a->text));
}

plat_sock
plat_listen_tcp(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	socklen_t len;
	int fd, one = 1;

	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		snprintf(err, errlen, "listen: %s is not a numeric address",
			 host);
		return PLAT_SOCK_INVALID;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "listen on %s port %u: %s", host, (unsigned)port,
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return PLAT_SOCK_INVALID;
}

uint16_t
plat_sock_port(plat_sock s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname((int)s, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET
			 ? ((struct sockaddr_in *)&ss)->sin_port
			 : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

plat_sock
plat_accept(plat_sock l, struct plat_addr *peer)
{
	socklen_t len = sizeof(peer->sa);
	int fd;

	memset(peer, 0, sizeof(*peer));
	fd = accept4((int)l, (struct sockaddr *)peer->sa, &len,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return PLAT_SOCK_INVALID;
	peer->sa_len = len;
	fill_addr(peer);
	return fd;
}

int
plat_set_nonblock(plat_sock s)
{
	int fl = fcntl((int)s, F_GETFL);

	return fl < 0 ? -1 : fcntl((int)s, F_SETFL, fl | O_NONBLOCK);
}

int
plat_sock_pair(plat_sock sp[2])
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
		return -1;
	sp[0] = fds[0];
	sp[1] = fds[1];
	if (plat_set_nonblock(sp[0]) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

/*
 * Every setsockopt of the daemon, libmicrohttpd's included, comes here
 * (CMakeLists.txt links with --wrap=setsockopt). MHD 0.9.75 sets
 * TCP_NODELAY and TCP_CORK around each answer, and takes a failure as
 * "not TCP, stop trying" only for EINVAL, ENOPROTOOPT or ENOTSOCK. On
 * its end of a socket pair, Linux fails them with EOPNOTSUPP instead, so
 * MHD tried both again at every answer: two failing system calls per
 * request (bench/RESULTS.md). ENOPROTOOPT says the same thing in the
 * words MHD knows, so it tries once per connection.
 */
int __real_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);

int
__wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = __real_setsockopt(fd, level, name, val, len);

	if (r != 0 && errno == EOPNOTSUPP && level == IPPROTO_TCP)
		errno = ENOPROTOOPT;
	return r;
}

void
plat_set_nodelay(plat_sock s)
{
	int one = 1;

	setsockopt((int)s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static long
io_result(ssize_t n)
{
	if (n >= 0)
		return (long)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return PLAT_WOULD_BLOCK;
	return -1;
}

long
plat_send(plat_sock s, const void *buf, size_t len)
{
	return io_result(send((int)s, buf, len, MSG_NOSIGNAL));
}

long
plat_recv(plat_sock s, void *buf, size_t len)
{
	return io_result(recv((int)s, buf, len, 0));
}

void
plat_shutdown(plat_sock s, bool write_only)
{
	shutdown((int)s, write_only ? SHUT_WR : SHUT_RDWR);
}

/*
 * On a Unix socket, SIOCOUTQ is the memory of what was sent and the
 * peer has not read yet: not a count of bytes, but 0 once all is read.
 */
bool
plat_sock_all_read(plat_sock s)
{
	int n = 0;

	return ioctl((int)s, SIOCOUTQ, &n) == 0 && n == 0;
}

void
plat_close_sock(plat_sock s)
{
	if (s != PLAT_SOCK_INVALID)
		close((int)s);
}

int
plat_poll(struct plat_pollfd *p, size_t n, int timeout_ms)
{
	struct pollfd stack[64],
	    *pf = n <= 64 ? stack : xcalloc(n, sizeof(*pf));
	int rc;

	/* PLAT_SOCK_INVALID is -1, which poll() skips, as net.h promises. */
	for (size_t i = 0; i < n; i++) {
		pf[i].fd = (int)p[i].fd;
		pf[i].events =
		    (short)(((p[i].events & PLAT_POLLIN) ? POLLIN : 0) |
			    ((p[i].events & PLAT_POLLOUT) ? POLLOUT : 0));
		pf[i].revents = 0;
	}
	do
		rc = poll(pf, (nfds_t)n, timeout_ms);
	while (rc < 0 && errno == EINTR);
	for (size_t i = 0; i < n; i++)
		p[i].revents =
		    ((pf[i].revents & POLLIN) ? PLAT_POLLIN : 0) |
		    ((pf[i].revents & POLLOUT) ? PLAT_POLLOUT : 0) |
		    ((pf[i].revents & POLLHUP) ? PLAT_POLLHUP : 0) |
		    ((pf[i].revents & (POLLERR | POLLNVAL)) ? PLAT_POLLERR : 0);
	if (pf != stack)
		free(pf);
	return rc;
}

const char *
plat_sock_strerror(void)
{
	return strerror(errno);
}

bool
plat_sock_exhausted(void)
{
	return errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	       errno == ENOMEM;
}

bool
plat_inet_parse(const char *s, uint8_t out[16], bool *v4)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		*v4 = true;
		return true;
	}
	*v4 = false;
	return inet_pton(AF_INET6, s, out) == 1;
}

void
plat_sockaddr_text(const void *sa, char *out, size_t outlen)
{
	const struct sockaddr *s = sa;

	out[0] = '\0';
	if (s == NULL)
		return;
	if (s->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  out, (socklen_t)outlen);
	else if (s->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)outlen);
}
