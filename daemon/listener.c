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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/tls.h"
#include "platform/net.h"
#include "platform/thread.h"

#define PUMP_BUF 16384

struct per_ip {
	uint8_t addr[16];
	uint32_t n;
};

struct listener {
	struct listener_config cfg;
	plat_sock fd;
	plat_sock wake[2]; /* written to stop the accept loop */
	struct plat_mutex *m;
	struct plat_cond *idle; /* signalled when active reaches 0 */
	uint32_t active;
	bool accepting;
	struct per_ip *ips;
	size_t n_ips, cap_ips;
	plat_sock *fds; /* client sockets, to shut down at exit */
	size_t n_fds, cap_fds;
};

struct conn {
	struct listener *l;
	plat_sock fd;
	struct plat_addr peer;
	struct tls_conn *tls;
};

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
admit(struct listener *l, plat_sock fd, const uint8_t addr[16],
      const char **why)
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
release(struct listener *l, plat_sock fd, const uint8_t addr[16])
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

/* ---- transports: TLS or (loopback only) plain ------------------------- */

static long
net_read(struct conn *c, void *buf, size_t len)
{
	long n;

	if (c->tls != NULL) {
		n = tls_conn_read(c->tls, buf, len);
		return n == TLS_WANT ? PLAT_WOULD_BLOCK : n;
	}
	return plat_recv(c->fd, buf, len);
}

/* Wait until s is ready for ev or the deadline passes; 0 when ready. */
static int
wait_sock(plat_sock s, int ev, uint64_t deadline)
{
	struct plat_pollfd pf = {s, ev, 0};
	uint64_t now = plat_now_ms();

	if (now >= deadline)
		return -1;
	return plat_poll(&pf, 1, (int)(deadline - now)) > 0 ? 0 : -1;
}

static int
net_write_all(struct conn *c, const char *p, size_t len, uint64_t deadline)
{
	if (c->tls != NULL)
		return tls_conn_write_all(c->tls, p, len, deadline);
	while (len > 0) {
		long n = plat_send(c->fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n != PLAT_WOULD_BLOCK ||
			   wait_sock(c->fd, PLAT_POLLOUT, deadline) != 0) {
			return -1;
		}
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
	plat_sock sp; /* our end of the pair */
	char in[PUMP_BUF];
	size_t in_len, in_off; /* bytes read from the client, not yet in MHD */
	bool net_eof;
};

/* Client -> MHD. Returns -1 when the connection is over. */
static int
pump_in(struct pump *p)
{
	long n;

	if (p->in_len == 0) {
		n = net_read(p->c, p->in, sizeof(p->in));
		if (n == PLAT_WOULD_BLOCK)
			return 0;
		if (n <= 0) {
			/* The client is done sending; let MHD finish. */
			p->net_eof = true;
			plat_shutdown(p->sp, true);
			return 0;
		}
		p->in_len = (size_t)n;
		p->in_off = 0;
	}
	n = plat_send(p->sp, p->in + p->in_off, p->in_len - p->in_off);
	if (n < 0)
		return n == PLAT_WOULD_BLOCK ? 0 : -1;
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
	long n = plat_recv(p->sp, buf, sizeof(buf));
	uint64_t deadline;

	if (n == 0)
		return -1; /* MHD closed: the response is complete */
	if (n < 0)
		return n == PLAT_WOULD_BLOCK ? 0 : -1;
	deadline = plat_now_ms() + p->c->l->cfg.idle_timeout_s * 1000ull;
	return net_write_all(p->c, buf, (size_t)n, deadline);
}

/*
 * MHD enforces the idle timeout and closes its end, which ends this
 * loop; the pump itself never gives up on a connection that is busy in
 * a long action.
 */
static void
pump(struct conn *c, plat_sock sp)
{
	struct pump *p = xcalloc(1, sizeof(*p));

	p->c = c;
	p->sp = sp;
	for (;;) {
		struct plat_pollfd pf[2] = {{sp, PLAT_POLLIN, 0},
					    {c->fd, PLAT_POLLIN, 0}};
		size_t nf = 2;

		if (p->in_len > 0)
			pf[0].events |= PLAT_POLLOUT; /* MHD takes ours first */
		if (p->in_len > 0 || p->net_eof)
			nf = 1;
		if (nf == 2 && net_pending(c) > 0)
			pf[1].revents = PLAT_POLLIN;
		else if (plat_poll(pf, nf, -1) < 0)
			break;
		if ((pf[0].revents &
		     (PLAT_POLLIN | PLAT_POLLHUP | PLAT_POLLERR)) &&
		    pump_out(p) != 0)
			break;
		if (((pf[0].revents & PLAT_POLLOUT) ||
		     (nf == 2 && pf[1].revents)) &&
		    pump_in(p) != 0)
			break;
	}
	free(p);
}

static int
handshake(struct conn *c)
{
	struct listener *l = c->l;
	uint64_t deadline =
	    plat_now_ms() + l->cfg.handshake_timeout_s * 1000ull;
	char err[256], cn[256] = "";
	plat_sock sp[2] = {PLAT_SOCK_INVALID, PLAT_SOCK_INVALID};
	int rc = -1;

	if (l->cfg.tls != NULL) {
		c->tls = tls_conn_new(l->cfg.tls, c->fd);
		if (c->tls == NULL ||
		    tls_conn_handshake(c->tls, deadline, cn, sizeof(cn), err,
				       sizeof(err)) != 0) {
			log_info("%s: TLS refused: %s", c->peer.text,
				 c->tls ? err : "no session");
			goto out;
		}
	}
	if (plat_sock_pair(sp) != 0) {
		log_warnx("%s: socket pair: %s", c->peer.text,
			  plat_sock_strerror());
		goto out;
	}
	/* MHD owns sp[1] from here on, also when it refuses it. */
	if (httpd_add(l->cfg.httpd, sp[1], c->peer.sa, c->peer.sa_len, cn) !=
	    0) {
		log_warnx("%s: the HTTP layer refused the connection",
			  c->peer.text);
		goto out;
	}
	pump(c, sp[0]);
	rc = 0;
out:
	plat_close_sock(sp[0]);
	return rc;
}

static void
conn_main(void *arg)
{
	struct conn *c = arg;
	struct listener *l = c->l;

	handshake(c);
	tls_conn_free(c->tls, 1);
	release(l, c->fd, c->peer.addr16);
	plat_close_sock(c->fd);
	free(c);
}

static void
accept_one(struct listener *l)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	const char *why = NULL;

	c->l = l;
	c->fd = plat_accept(l->fd, &c->peer);
	if (c->fd == PLAT_SOCK_INVALID)
		goto drop;
	if (!allowed(l, c->peer.addr16)) {
		log_info("%s: refused: not in auth.allow", c->peer.text);
		goto drop;
	}
	if (!admit(l, c->fd, c->peer.addr16, &why)) {
		log_warnx("%s: refused: %s", c->peer.text, why);
		goto drop;
	}
	plat_set_nodelay(c->fd);
	if (plat_thread_detached(conn_main, c) == 0)
		return;
	log_warnx("%s: refused: no thread available", c->peer.text);
	release(l, c->fd, c->peer.addr16);
drop:
	plat_close_sock(c->fd);
	free(c);
}

static void
accept_loop(void *arg)
{
	struct listener *l = arg;

	for (;;) {
		struct plat_pollfd pf[2] = {{l->fd, PLAT_POLLIN, 0},
					    {l->wake[0], PLAT_POLLIN, 0}};

		if (plat_poll(pf, 2, -1) < 0 || pf[1].revents)
			break;
		if (pf[0].revents)
			accept_one(l);
	}
	plat_mutex_lock(l->m);
	l->accepting = false;
	plat_cond_broadcast(l->idle);
	plat_mutex_unlock(l->m);
}

struct listener *
listener_start(const struct listener_config *cfg, char *err, size_t errlen)
{
	struct listener *l = xcalloc(1, sizeof(*l));

	l->cfg = *cfg;
	l->wake[0] = l->wake[1] = PLAT_SOCK_INVALID;
	l->fd = plat_listen_tcp(cfg->host, cfg->port, err, errlen);
	if (l->fd == PLAT_SOCK_INVALID)
		goto fail;
	/* A socket pair, not a pipe: Winsock can only poll sockets. */
	if (plat_sock_pair(l->wake) != 0) {
		snprintf(err, errlen, "socket pair: %s", plat_sock_strerror());
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
	plat_close_sock(l->fd);
	plat_close_sock(l->wake[0]);
	plat_close_sock(l->wake[1]);
	plat_cond_free(l->idle);
	plat_mutex_free(l->m);
	free(l);
	return NULL;
}

uint16_t
listener_port(const struct listener *l)
{
	return plat_sock_port(l->fd);
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

	if (plat_send(l->wake[1], "x", 1) != 1)
		log_warnx("listener wake-up: %s", plat_sock_strerror());
	plat_mutex_lock(l->m);
	while (l->accepting && plat_now_ms() < deadline)
		plat_cond_wait_until(l->idle, l->m, deadline);
	for (size_t i = 0; i < l->n_fds; i++)
		plat_shutdown(l->fds[i], false);
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
	plat_close_sock(l->fd);
	plat_close_sock(l->wake[0]);
	plat_close_sock(l->wake[1]);
	plat_cond_free(l->idle);
	plat_mutex_free(l->m);
	free(l->ips);
	free(l->fds);
	free(l);
}
