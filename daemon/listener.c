/*
 * listener.c: the socket side of the daemon. It accepts TCP, applies the
 * allow-list and the connection limits, runs the TLS handshake against a
 * deadline, and then pumps bytes between the TLS session and one end of
 * a socket pair whose other end belongs to libmicrohttpd.
 *
 * One thread per connection: a handshake or a slow client only ever
 * stalls its own thread, never the accept loop or another client.
 */
#include "daemon/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/tls.h"
#include "platform/thread.h"

#define PUMP_BUF 16384

struct per_ip {
	uint8_t addr[16];
	uint32_t n;
};

struct listener {
	struct listener_config cfg;
	int fd;
	int wake[2]; /* written to stop the accept loop */
	struct plat_mutex *m;
	struct plat_cond *idle; /* signalled when active reaches 0 */
	uint32_t active;
	bool accepting;
	struct per_ip *ips;
	size_t n_ips, cap_ips;
	int *fds; /* client sockets, to shut down at exit */
	size_t n_fds, cap_fds;
};

struct conn {
	struct listener *l;
	int fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint8_t addr[16];
	char peer_str[INET6_ADDRSTRLEN];
	struct tls_conn *tls;
};

/* IPv4 peers as ::ffff:a.b.c.d, the form the allow-list uses. */
static void
addr16(const struct sockaddr_storage *ss, uint8_t out[16], char *str,
       size_t strlen_)
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		out[10] = out[11] = 0xff;
		memcpy(out + 12, &s4->sin_addr, 4);
		inet_ntop(AF_INET, &s4->sin_addr, str, (socklen_t)strlen_);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(out, &s6->sin6_addr, 16);
		inet_ntop(AF_INET6, &s6->sin6_addr, str, (socklen_t)strlen_);
	}
}

static bool
allowed(const struct listener *l, const uint8_t addr[16])
{
	const struct auth_config *a = l->cfg.auth;

	for (size_t i = 0; i < a->n_allow; i++)
		if (cidr_match(&a->allow[i], addr))
			return true;
	return false;
}

static struct per_ip *
ip_slot(struct listener *l, const uint8_t addr[16])
{
	for (size_t i = 0; i < l->n_ips; i++)
		if (memcmp(l->ips[i].addr, addr, 16) == 0)
			return &l->ips[i];
	l->ips = xgrow(l->ips, &l->cap_ips, l->n_ips, sizeof(*l->ips));
	memcpy(l->ips[l->n_ips].addr, addr, 16);
	l->ips[l->n_ips].n = 0;
	return &l->ips[l->n_ips++];
}

/* Count a new connection in; false (nothing counted) when over a limit. */
static bool
admit(struct listener *l, int fd, const uint8_t addr[16], const char **why)
{
	struct per_ip *p;
	bool ok = false;

	plat_mutex_lock(l->m);
	if (l->active >= l->cfg.max_connections) {
		*why = "connection limit reached";
		goto out;
	}
	p = ip_slot(l, addr);
	if (p->n >= l->cfg.per_ip) {
		*why = "per-address connection limit reached";
		goto out;
	}
	p->n++;
	l->active++;
	l->fds = xgrow(l->fds, &l->cap_fds, l->n_fds, sizeof(*l->fds));
	l->fds[l->n_fds++] = fd;
	ok = true;
out:
	plat_mutex_unlock(l->m);
	return ok;
}

static void
release(struct listener *l, int fd, const uint8_t addr[16])
{
	struct per_ip *p;

	plat_mutex_lock(l->m);
	for (size_t i = 0; i < l->n_fds; i++) {
		if (l->fds[i] == fd) {
			l->fds[i] = l->fds[--l->n_fds];
			break;
		}
	}
	p = ip_slot(l, addr);
	if (p->n > 0 && --p->n == 0)
		*p = l->ips[--l->n_ips];
	if (--l->active == 0)
		plat_cond_broadcast(l->idle);
	plat_mutex_unlock(l->m);
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- transports: TLS or (loopback only) plain ------------------------- */

static ssize_t
net_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->tls != NULL)
		return tls_conn_read(c->tls, buf, len);
	n = recv(c->fd, buf, len, 0);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return TLS_WANT;
	return n;
}

static int
net_write_all(struct conn *c, const char *p, size_t len, uint64_t deadline)
{
	if (c->tls != NULL)
		return tls_conn_write_all(c->tls, p, len, deadline);
	while (len > 0) {
		struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		uint64_t now = plat_now_ms();

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -1;
		if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) <= 0)
			return -1;
	}
	return 0;
}

static size_t
net_pending(struct conn *c)
{
	return c->tls != NULL ? tls_conn_pending(c->tls) : 0;
}

/* ---- the pump ---------------------------------------------------------- */

struct pump {
	struct conn *c;
	int sp; /* our end of the pair */
	char in[PUMP_BUF];
	size_t in_len, in_off; /* bytes read from the client, not yet in MHD */
	bool net_eof;
};

/* Client -> MHD. Returns -1 when the connection is over. */
static int
pump_in(struct pump *p)
{
	ssize_t n;

	if (p->in_len == 0) {
		n = net_read(p->c, p->in, sizeof(p->in));
		if (n == TLS_WANT)
			return 0;
		if (n <= 0) {
			/* The client is done sending; let MHD finish. */
			p->net_eof = true;
			shutdown(p->sp, SHUT_WR);
			return 0;
		}
		p->in_len = (size_t)n;
		p->in_off = 0;
	}
	n = send(p->sp, p->in + p->in_off, p->in_len - p->in_off, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	p->in_off += (size_t)n;
	if (p->in_off == p->in_len)
		p->in_len = p->in_off = 0;
	return 0;
}

/* MHD -> client. Returns -1 when the connection is over. */
static int
pump_out(struct pump *p)
{
	char buf[PUMP_BUF];
	ssize_t n = recv(p->sp, buf, sizeof(buf), 0);
	uint64_t deadline;

	if (n == 0)
		return -1; /* MHD closed: the response is complete */
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	deadline = plat_now_ms() + p->c->l->cfg.idle_timeout_s * 1000ull;
	return net_write_all(p->c, buf, (size_t)n, deadline);
}

/*
 * MHD enforces the idle timeout and closes its end, which ends this
 * loop; the pump itself never gives up on a connection that is busy in
 * a long action.
 */
static void
pump(struct conn *c, int sp)
{
	struct pump *p = xcalloc(1, sizeof(*p));

	p->c = c;
	p->sp = sp;
	for (;;) {
		struct pollfd pf[2] = {{.fd = sp, .events = POLLIN},
				       {.fd = c->fd, .events = POLLIN}};
		nfds_t nf = 2;

		if (p->in_len > 0)
			pf[0].events |= POLLOUT; /* MHD must take ours first */
		if (p->in_len > 0 || p->net_eof)
			nf = 1;
		if (nf == 2 && net_pending(c) > 0) {
			pf[1].revents = POLLIN;
		} else if (poll(pf, nf, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    pump_out(p) != 0)
			break;
		if ((pf[0].revents & POLLOUT) || (nf == 2 && pf[1].revents)) {
			if (pump_in(p) != 0)
				break;
		}
	}
	free(p);
}

static int
handshake(struct conn *c)
{
	struct listener *l = c->l;
	uint64_t deadline =
	    plat_now_ms() + l->cfg.handshake_timeout_s * 1000ull;
	char err[256], cn[256];
	int sp[2] = {-1, -1};
	int rc = -1;

	if (l->cfg.tls != NULL) {
		c->tls = tls_conn_new(l->cfg.tls, c->fd);
		if (c->tls == NULL ||
		    tls_conn_handshake(c->tls, deadline, cn, sizeof(cn), err,
				       sizeof(err)) != 0) {
			log_info("%s: TLS refused: %s", c->peer_str,
				 c->tls ? err : "no session");
			goto out;
		}
	} else {
		cn[0] = '\0';
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 ||
	    set_nonblock(sp[0]) != 0) {
		log_warn("%s: socketpair", c->peer_str);
		goto out;
	}
	if (httpd_add(l->cfg.httpd, sp[1], (struct sockaddr *)&c->peer,
		      c->peerlen, cn) != 0) {
		log_warnx("%s: the HTTP layer refused the connection",
			  c->peer_str);
		sp[1] = -1;
		goto out;
	}
	sp[1] = -1; /* MHD's now */
	pump(c, sp[0]);
	rc = 0;
out:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	return rc;
}

static void
conn_main(void *arg)
{
	struct conn *c = arg;
	struct listener *l = c->l;

	handshake(c);
	tls_conn_free(c->tls, 1);
	release(l, c->fd, c->addr);
	close(c->fd);
	free(c);
}

static void
accept_one(struct listener *l)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	const char *why = NULL;
	int one = 1;

	c->l = l;
	c->peerlen = sizeof(c->peer);
	c->fd = accept4(l->fd, (struct sockaddr *)&c->peer, &c->peerlen,
			SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c->fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		goto drop;
	}
	addr16(&c->peer, c->addr, c->peer_str, sizeof(c->peer_str));
	if (!allowed(l, c->addr)) {
		log_info("%s: refused: not in auth.allow", c->peer_str);
		goto drop;
	}
	if (!admit(l, c->fd, c->addr, &why)) {
		log_warnx("%s: refused: %s", c->peer_str, why);
		goto drop;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (plat_thread_detached(conn_main, c) == 0)
		return;
	log_warnx("%s: refused: no thread available", c->peer_str);
	release(l, c->fd, c->addr);
drop:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static void
accept_loop(void *arg)
{
	struct listener *l = arg;

	for (;;) {
		struct pollfd pf[2] = {{.fd = l->fd, .events = POLLIN},
				       {.fd = l->wake[0], .events = POLLIN}};

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (pf[0].revents)
			accept_one(l);
	}
	plat_mutex_lock(l->m);
	l->accepting = false;
	plat_cond_broadcast(l->idle);
	plat_mutex_unlock(l->m);
}

static int
open_socket(const struct listener_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, one = 1;

	if (inet_pton(AF_INET, cfg->host,
		      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(cfg->port);
		len = sizeof(struct sockaddr_in);
	} else {
		ss.ss_family = AF_INET6;
		inet_pton(AF_INET6, cfg->host,
			  &((struct sockaddr_in6 *)&ss)->sin6_addr);
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(cfg->port);
		len = sizeof(struct sockaddr_in6);
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
	snprintf(err, errlen, "listen on %s port %u: %s", cfg->host,
		 (unsigned)cfg->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

struct listener *
listener_start(const struct listener_config *cfg, char *err, size_t errlen)
{
	struct listener *l = xcalloc(1, sizeof(*l));

	l->cfg = *cfg;
	l->wake[0] = l->wake[1] = -1;
	l->fd = open_socket(cfg, err, errlen);
	if (l->fd < 0)
		goto fail;
	if (pipe2(l->wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	l->m = plat_mutex_new();
	l->idle = plat_cond_new();
	l->accepting = true;
	if (plat_thread_detached(accept_loop, l) != 0) {
		snprintf(err, errlen, "cannot start the accept thread");
		goto fail;
	}
	return l;
fail:
	if (l->fd >= 0)
		close(l->fd);
	if (l->wake[0] >= 0) {
		close(l->wake[0]);
		close(l->wake[1]);
	}
	plat_cond_free(l->idle);
	plat_mutex_free(l->m);
	free(l);
	return NULL;
}

uint16_t
listener_port(const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(l->fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET
			 ? ((struct sockaddr_in *)&ss)->sin_port
			 : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * Stop accepting, then shut every client socket down: handshakes fail at
 * once, pumps pass the end of input to MHD, which finishes the requests
 * in flight and closes. Only when every connection thread has gone may
 * the caller stop MHD (true); otherwise the threads still use it.
 */
bool
listener_stop(struct listener *l, uint32_t wait_ms)
{
	uint64_t deadline = plat_now_ms() + wait_ms;
	bool drained;

	if (write(l->wake[1], "x", 1) != 1)
		log_warn("listener wake-up");
	plat_mutex_lock(l->m);
	while (l->accepting && plat_now_ms() < deadline)
		plat_cond_wait_until(l->idle, l->m, deadline);
	for (size_t i = 0; i < l->n_fds; i++)
		shutdown(l->fds[i], SHUT_RDWR);
	while ((l->active > 0 || l->accepting) && plat_now_ms() < deadline)
		plat_cond_wait_until(l->idle, l->m, deadline);
	drained = l->active == 0 && !l->accepting;
	if (!drained)
		log_warnx("%u connections still open at shutdown", l->active);
	plat_mutex_unlock(l->m);
	return drained;
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	close(l->wake[0]);
	close(l->wake[1]);
	plat_cond_free(l->idle);
	plat_mutex_free(l->m);
	free(l->ips);
	free(l->fds);
	free(l);
}
