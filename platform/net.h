/*
 * net.h: the sockets the daemon's listener needs, the same on POSIX and
 * Winsock. A socket is an intptr_t so that a Windows SOCKET fits; -1 is
 * the invalid socket on both.
 */
#ifndef WSUSDIAG_NET_H
#define WSUSDIAG_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef intptr_t plat_sock;
#define PLAT_SOCK_INVALID ((plat_sock)-1)

/* plat_send/plat_recv: no progress now; poll and try again. */
#define PLAT_WOULD_BLOCK (-2)

/* A peer address, opaque bytes for the OS plus what the daemon uses. */
struct plat_addr {
	unsigned char sa[128]; /* struct sockaddr_storage */
	uint32_t sa_len;
	uint8_t addr16[16]; /* IPv4 as ::ffff:a.b.c.d */
	char text[64];
};

enum { PLAT_POLLIN = 1, PLAT_POLLOUT = 2, PLAT_POLLHUP = 4, PLAT_POLLERR = 8 };

struct plat_pollfd {
	plat_sock fd;
	int events;
	int revents;
};

/* Once per process (WSAStartup on Windows). */
int plat_net_init(void);

/* A non-blocking listening TCP socket on a numeric address. */
plat_sock plat_listen_tcp(const char *host, uint16_t port, char *err,
			  size_t errlen);
uint16_t plat_sock_port(plat_sock s);
/* Accept one (non-blocking, not inherited); PLAT_SOCK_INVALID if none. */
plat_sock plat_accept(plat_sock l, struct plat_addr *peer);
/*
 * A connected pair: socketpair() on POSIX, two loopback TCP sockets on
 * Windows (which has no socketpair). sp[0] is made non-blocking.
 */
int plat_sock_pair(plat_sock sp[2]);
int plat_set_nonblock(plat_sock s);
void plat_set_nodelay(plat_sock s);
/* Bytes moved, 0 on orderly close (recv), PLAT_WOULD_BLOCK, or -1. */
long plat_send(plat_sock s, const void *buf, size_t len);
long plat_recv(plat_sock s, void *buf, size_t len);
void plat_shutdown(plat_sock s, bool write_only);
/*
 * Whether the other end of a socket pair has read everything sent on
 * its end s; false where the system cannot tell (Windows).
 */
bool plat_sock_all_read(plat_sock s);
void plat_close_sock(plat_sock s);
/*
 * poll()/WSAPoll(); timeout_ms -1 waits forever. An entry whose fd is
 * PLAT_SOCK_INVALID is skipped (revents 0).
 */
int plat_poll(struct plat_pollfd *p, size_t n, int timeout_ms);
/* The last socket error as text (strerror / FormatMessage). */
const char *plat_sock_strerror(void);
/*
 * Whether the last socket call failed for want of descriptors, buffers
 * or memory: a condition that lasts, so retrying at once only spins.
 */
bool plat_sock_exhausted(void);

/* Numeric IPv4 or IPv6 text into 16 bytes (IPv4 mapped); v4 says which. */
bool plat_inet_parse(const char *s, uint8_t out[16], bool *v4);
/* A struct sockaddr (from MHD) as text. */
void plat_sockaddr_text(const void *sa, char *out, size_t outlen);

#endif
