/*
 * net_win32.c: platform/net.h on Winsock 2.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "platform/net.h"

int
plat_net_init(void)
{
	WSADATA w;

	return WSAStartup(MAKEWORD(2, 2), &w) == 0 ? 0 : -1;
}

/* Child processes (gpupdate, wuauclt) must not inherit our sockets. */
static void
no_inherit(SOCKET s)
{
	SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
}

int
plat_set_nonblock(plat_sock s)
{
	u_long on = 1;

	return ioctlsocket((SOCKET)s, FIONBIO, &on) == 0 ? 0 : -1;
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

/* host:port into a sockaddr; 0 or -1. */
static int
make_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss,
	      int *len)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

plat_sock
plat_listen_tcp(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	SOCKET s = INVALID_SOCKET;
	BOOL on = TRUE;
	int len;

	if (make_sockaddr(host, port, &ss, &len) != 0) {
		snprintf(err, errlen, "listen: %s is not a numeric address",
			 host);
		return PLAT_SOCK_INVALID;
	}
	s = socket(ss.ss_family, SOCK_STREAM, IPPROTO_TCP);
	if (s == INVALID_SOCKET)
		goto fail;
	no_inherit(s);
	/* Not SO_REUSEADDR: on Windows it lets another process steal the
	 * port. */
	setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&on,
		   sizeof(on));
	if (bind(s, (struct sockaddr *)&ss, len) != 0 ||
	    listen(s, SOMAXCONN) != 0 || plat_set_nonblock((plat_sock)s) != 0)
		goto fail;
	return (plat_sock)s;
fail:
	snprintf(err, errlen, "listen on %s port %u: %s", host, (unsigned)port,
		 plat_sock_strerror());
	if (s != INVALID_SOCKET)
		closesocket(s);
	return PLAT_SOCK_INVALID;
}

uint16_t
plat_sock_port(plat_sock s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (getsockname((SOCKET)s, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET
			 ? ((struct sockaddr_in *)&ss)->sin_port
			 : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

plat_sock
plat_accept(plat_sock l, struct plat_addr *peer)
{
	int len = sizeof(peer->sa);
	SOCKET s;

	memset(peer, 0, sizeof(*peer));
	s = accept((SOCKET)l, (struct sockaddr *)peer->sa, &len);
	if (s == INVALID_SOCKET)
		return PLAT_SOCK_INVALID;
	no_inherit(s);
	plat_set_nonblock((plat_sock)s);
	peer->sa_len = (uint32_t)len;
	fill_addr(peer);
	return (plat_sock)s;
}

static bool
same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_port == b->sin_port &&
	       a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/*
 * Windows has no socketpair: connect two loopback TCP sockets through a
 * one-shot listener, and check that the accepted peer is our own client
 * so no other local process can slip into the pair.
 */
int
plat_sock_pair(plat_sock sp[2])
{
	struct sockaddr_in a = {0}, mine, theirs;
	SOCKET l, c = INVALID_SOCKET, s = INVALID_SOCKET;
	int len = sizeof(a);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (l == INVALID_SOCKET)
		return -1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0 ||
	    listen(l, 1) != 0)
		goto fail;
	c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (c == INVALID_SOCKET ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	len = sizeof(theirs);
	s = accept(l, (struct sockaddr *)&theirs, &len);
	len = sizeof(mine);
	if (s == INVALID_SOCKET ||
	    getsockname(c, (struct sockaddr *)&mine, &len) != 0 ||
	    !same_addr(&mine, &theirs))
		goto fail;
	closesocket(l);
	no_inherit(c);
	no_inherit(s);
	plat_set_nodelay((plat_sock)c);
	plat_set_nodelay((plat_sock)s);
	plat_set_nonblock((plat_sock)c);
	sp[0] = (plat_sock)c;
	sp[1] = (plat_sock)s;
	return 0;
fail:
	closesocket(l);
	if (c != INVALID_SOCKET)
		closesocket(c);
	if (s != INVALID_SOCKET)
		closesocket(s);
	return -1;
}

void
plat_set_nodelay(plat_sock s)
{
	BOOL on = TRUE;

	setsockopt((SOCKET)s, IPPROTO_TCP, TCP_NODELAY, (const char *)&on,
		   sizeof(on));
}

static long
io_result(int n)
{
	int e;

	if (n >= 0)
		return n;
	e = WSAGetLastError();
	return e == WSAEWOULDBLOCK || e == WSAEINTR ? PLAT_WOULD_BLOCK : -1;
}

long
plat_send(plat_sock s, const void *buf, size_t len)
{
	int n = len > INT_MAX ? INT_MAX : (int)len;

	return io_result(send((SOCKET)s, buf, n, 0));
}

long
plat_recv(plat_sock s, void *buf, size_t len)
{
	int n = len > INT_MAX ? INT_MAX : (int)len;

	return io_result(recv((SOCKET)s, buf, n, 0));
}

void
plat_shutdown(plat_sock s, bool write_only)
{
	shutdown((SOCKET)s, write_only ? SD_SEND : SD_BOTH);
}

/* Winsock does not say what the peer of a TCP socket has read. */
bool
plat_sock_all_read(plat_sock s)
{
	(void)s;
	return false;
}

void
plat_close_sock(plat_sock s)
{
	if (s != PLAT_SOCK_INVALID)
		closesocket((SOCKET)s);
}

/*
 * WSAPoll refuses a set with an invalid socket in it, so the skipped
 * entries (PLAT_SOCK_INVALID, net.h) are left out, and with nothing to
 * wait for the call only sleeps.
 */
int
plat_poll(struct plat_pollfd *p, size_t n, int timeout_ms)
{
	WSAPOLLFD stack[64], *pf = n <= 64 ? stack : xcalloc(n, sizeof(*pf));
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		p[i].revents = 0;
		if (p[i].fd == PLAT_SOCK_INVALID)
			continue;
		pf[k].fd = (SOCKET)p[i].fd;
		pf[k].events =
		    (SHORT)(((p[i].events & PLAT_POLLIN) ? POLLRDNORM : 0) |
			    ((p[i].events & PLAT_POLLOUT) ? POLLWRNORM : 0));
		pf[k++].revents = 0;
	}
	if (k == 0)
		Sleep(timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
	else
		rc = WSAPoll(pf, (ULONG)k, timeout_ms);
	k = 0;
	for (size_t i = 0; i < n && rc > 0; i++) {
		if (p[i].fd == PLAT_SOCK_INVALID)
			continue;
		p[i].revents =
		    ((pf[k].revents & (POLLRDNORM | POLLRDBAND)) ? PLAT_POLLIN
								 : 0) |
		    ((pf[k].revents & POLLWRNORM) ? PLAT_POLLOUT : 0) |
		    ((pf[k].revents & POLLHUP) ? PLAT_POLLHUP : 0) |
		    ((pf[k].revents & (POLLERR | POLLNVAL)) ? PLAT_POLLERR : 0);
		k++;
	}
	if (pf != stack)
		free(pf);
	return rc == SOCKET_ERROR ? -1 : rc;
}

bool
plat_sock_exhausted(void)
{
	int e = WSAGetLastError();

	return e == WSAEMFILE || e == WSAENOBUFS;
}

const char *
plat_sock_strerror(void)
{
	static __thread char buf[256];
	int e = WSAGetLastError();

	if (FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
			       FORMAT_MESSAGE_IGNORE_INSERTS,
			   NULL, (DWORD)e, 0, buf, sizeof(buf), NULL) == 0)
		snprintf(buf, sizeof(buf), "Winsock error %d", e);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
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
		inet_ntop(AF_INET,
			  (void *)&((const struct sockaddr_in *)sa)->sin_addr,
			  out, outlen);
	else if (s->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  (void *)&((const struct sockaddr_in6 *)sa)->sin6_addr,
			  out, outlen);
}
