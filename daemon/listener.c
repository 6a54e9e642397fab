/*
 * listener.c: the socket side of the daemon. It accepts TCP, applies the
 * allow-list and the connection limits, runs the TLS handshake against a
 * deadline, and then pumps bytes between the TLS session and one end of
 * a socket pair whose other end belongs to libmicrohttpd.
 *
 * One thread per connection: a handshake or a slow client only ever
 * stalls its own thread, never the accept loop or another client. A
 * full connection table makes room by evicting the oldest connection
 * still in its handshake (see admit), so idle connections from many
 * addresses cannot lock out a client that completes its handshake.
 */
#include "daemon/listener.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/reqhead.h"
#include "daemon/tls.h"
#include "platform/net.h"
#include "platform/thread.h"

#define PUMP_BUF	16384
#define SNIFF_LEN	8     /* the longest method and its space: "OPTIONS " */
#define LINGER_MS	2000  /* reading a refused request's remainder */
#define LINGER_BYTES	65536 /* ... and at most this much of it */
#define LOG_INTERVAL_MS 1000

_Static_assert(SNIFF_LEN <= TLS_UNREAD_MAX, "the session must take back "
					    "what the sniffing read");

enum conn_state {
	CONN_HANDSHAKE, /* has proved nothing yet: may be evicted */
	CONN_SESSION,	/* TLS established: evicted only when waiting */
	CONN_EVICTED,	/* shut down for a newcomer; its thread is ending */
};

/* Per-connection events an attacker can repeat: logged at a bounded rate. */
enum event {
	EV_NOT_ALLOWED,
	EV_PER_IP,
	EV_FULL,
	EV_NO_THREAD,
	EV_EVICTED,
	EV_EVICTED_IDLE,
	EV_TLS_REFUSED,
	EV_PLAIN_HTTP,
	EV_HEAD_TOO_LARGE,
	EV_N
};

static const struct {
	bool warn;
	const char *text;
} events[EV_N] = {
    [EV_NOT_ALLOWED] = {false, "refused: not in auth.allow"},
    [EV_PER_IP] = {true, "refused: per-address connection limit reached"},
    [EV_FULL] = {true, "refused: connection limit reached and every "
		       "connection is busy or new"},
    [EV_NO_THREAD] = {true, "refused: no thread available"},
    [EV_EVICTED] = {false, "evicted: still in the TLS handshake when the "
			   "connection table was full"},
    [EV_EVICTED_IDLE] = {false, "evicted: a session waiting for a request "
				"longer than the handshake deadline when the "
				"connection table was full"},
    [EV_TLS_REFUSED] = {false, "TLS refused"},
    [EV_PLAIN_HTTP] = {false, "plain HTTP on the TLS port: answered 400"},
    [EV_HEAD_TOO_LARGE] = {false, "request head too large: answered 431"},
};

struct ratelog {
	uint64_t next_ms;
	uint32_t held; /* events not logged since the last line */
};

struct per_ip {
	uint8_t addr[16];
	uint32_t n;
};

struct conn;

struct listener {
	struct listener_config cfg;
	plat_sock fd;
	plat_sock wake[2]; /* written to stop the accept loop */
	struct plat_mutex *m;
	struct plat_cond *idle; /* signalled when the table empties */
	bool accepting;
	uint64_t seq;	     /* accept order, for eviction */
	uint32_t live;	     /* connections in the table, less the evicted */
	struct conn **conns; /* every connection until its thread ends */
	size_t n_conns, cap_conns;
	struct per_ip *ips;
	size_t n_ips, cap_ips;
	struct ratelog logs[EV_N]; /* under m */
};

struct conn {
	struct listener *l;
	plat_sock fd;
	struct plat_addr peer;
	struct tls_conn *tls;
	uint64_t seq;
	enum conn_state state; /* under l->m */
	bool waiting; /* for a request, nothing in flight; under l->m */
	uint64_t waiting_since; /* plat_now_ms; under l->m */
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

/*
 * An attacker must not be able to flood the log: a second line of the
 * same kind within LOG_INTERVAL_MS is only counted, and the count goes
 * into the next line that is written. detail may be NULL.
 */
static void
log_event(struct listener *l, enum event e, const char *peer,
	  const char *detail)
{
	struct ratelog *r = &l->logs[e];
	uint64_t now = plat_now_ms();
	uint32_t held = 0;
	char more[48] = "";
	bool quiet;

	plat_mutex_lock(l->m);
	quiet = now < r->next_ms;
	if (quiet) {
		r->held++;
	} else {
		held = r->held;
		r->held = 0;
		r->next_ms = now + LOG_INTERVAL_MS;
	}
	plat_mutex_unlock(l->m);
	if (quiet)
		return;
	if (held > 0)
		snprintf(more, sizeof(more), " (and %u more since the last)",
			 held);
	if (events[e].warn)
		log_warnx("%s: %s%s%s%s", peer, events[e].text,
			  detail ? ": " : "", detail ? detail : "", more);
	else
		log_info("%s: %s%s%s%s", peer, events[e].text,
			 detail ? ": " : "", detail ? detail : "", more);
}

/* Under m, at the end: what the last lines did not count yet. */
static void
log_held_events(struct listener *l)
{
	for (int e = 0; e < EV_N; e++)
		if (l->logs[e].held > 0)
			log_info("%u more: %s", l->logs[e].held,
				 events[e].text);
}

static struct per_ip *
ip_find(struct listener *l, const uint8_t addr[16])
{
	for (size_t i = 0; i < l->n_ips; i++)
		if (memcmp(l->ips[i].addr, addr, 16) == 0)
			return &l->ips[i];
	return NULL;
}

static void
ip_get(struct listener *l, const uint8_t addr[16])
{
	struct per_ip *p = ip_find(l, addr);

	if (p == NULL) {
		l->ips = xgrow(l->ips, &l->cap_ips, l->n_ips, sizeof(*l->ips));
		p = &l->ips[l->n_ips++];
		memcpy(p->addr, addr, 16);
		p->n = 0;
	}
	p->n++;
}

static void
ip_put(struct listener *l, const uint8_t addr[16])
{
	struct per_ip *p = ip_find(l, addr);

	if (p != NULL && --p->n == 0)
		*p = l->ips[--l->n_ips];
}

/* The oldest connection still in its handshake, or NULL. */
static struct conn *
oldest_handshake(const struct listener *l)
{
	struct conn *best = NULL;

	for (size_t i = 0; i < l->n_conns; i++) {
		struct conn *c = l->conns[i];

		if (c->state == CONN_HANDSHAKE &&
		    (best == NULL || c->seq < best->seq))
			best = c;
	}
	return best;
}

/*
 * The session that has waited longest for a request, if that is longer
 * than a handshake may take: it has had the same patience as a client
 * still in its handshake, and nothing of it is in flight. NULL if none.
 */
static struct conn *
longest_waiting(const struct listener *l)
{
	uint64_t patience = l->cfg.handshake_timeout_s * 1000ull,
		 now = plat_now_ms();
	struct conn *best = NULL;

	for (size_t i = 0; i < l->n_conns; i++) {
		struct conn *c = l->conns[i];

		if (c->state == CONN_SESSION && c->waiting &&
		    now - c->waiting_since >= patience &&
		    (best == NULL || c->waiting_since < best->waiting_since))
			best = c;
	}
	return best;
}

/*
 * Shutting the socket down ends the victim's thread at once: its poll
 * wakes and its reads fail. The thread still owns the socket and the
 * memory and frees them through release().
 */
static void
evict(struct listener *l, struct conn *v, char *who, size_t wholen)
{
	v->state = CONN_EVICTED;
	ip_put(l, v->peer.addr16);
	l->live--;
	plat_shutdown(v->fd, false);
	snprintf(who, wholen, "%s", v->peer.text);
}

/*
 * Count c into the table; false with the reason when a limit refuses
 * it. A full table makes room by evicting the oldest connection still
 * in its handshake (named in who): such a connection has proved nothing
 * and costs its client nothing, while the newcomer may be the
 * administrator whom a slowloris attack from many addresses would
 * otherwise lock out. Next comes a session that has waited for a
 * request longer than a handshake may take (an attacker can complete
 * handshakes too); a table of busy or new sessions refuses.
 */
static bool
admit(struct listener *l, struct conn *c, enum event *why, char *who,
      size_t wholen, bool *idle)
{
	const struct per_ip *p;
	struct conn *v;
	bool ok = false;

	plat_mutex_lock(l->m);
	p = ip_find(l, c->peer.addr16);
	if (p != NULL && p->n >= l->cfg.per_ip) {
		*why = EV_PER_IP;
		goto out;
	}
	if (l->live >= l->cfg.max_connections) {
		v = oldest_handshake(l);
		if (v == NULL && (v = longest_waiting(l)) != NULL)
			*idle = true;
		if (v == NULL) {
			*why = EV_FULL;
			goto out;
		}
		evict(l, v, who, wholen);
	}
	ip_get(l, c->peer.addr16);
	l->live++;
	c->seq = l->seq++;
	c->state = CONN_HANDSHAKE;
	l->conns =
	    xgrow(l->conns, &l->cap_conns, l->n_conns, sizeof(*l->conns));
	l->conns[l->n_conns++] = c;
	ok = true;
out:
	plat_mutex_unlock(l->m);
	return ok;
}

static void
release(struct listener *l, struct conn *c)
{
	plat_mutex_lock(l->m);
	for (size_t i = 0; i < l->n_conns; i++) {
		if (l->conns[i] == c) {
			l->conns[i] = l->conns[--l->n_conns];
			break;
		}
	}
	if (c->state != CONN_EVICTED) {
		ip_put(l, c->peer.addr16);
		l->live--;
	}
	if (l->n_conns == 0)
		plat_cond_broadcast(l->idle);
	plat_mutex_unlock(l->m);
}

/* The handshake is over: false if c was evicted meanwhile. */
static bool
established(struct conn *c)
{
	bool ok;

	plat_mutex_lock(c->l->m);
	ok = c->state != CONN_EVICTED;
	if (ok)
		c->state = CONN_SESSION;
	plat_mutex_unlock(c->l->m);
	return ok;
}

static bool
evicted(struct conn *c)
{
	bool e;

	plat_mutex_lock(c->l->m);
	e = c->state == CONN_EVICTED;
	plat_mutex_unlock(c->l->m);
	return e;
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

/*
 * An answer of the listener's own, in the API's problem+json, as one
 * write. The connection closes after it; title and detail need no JSON
 * escaping.
 */
static int
send_problem(struct conn *c, int status, const char *title, const char *detail,
	     uint64_t deadline)
{
	char body[384], msg[768];
	int bn, n;

	bn = snprintf(body, sizeof(body),
		      "{\"type\":\"about:blank\",\"title\":\"%s\","
		      "\"status\":%d,\"detail\":\"%s\"}",
		      title, status, detail);
	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: application/problem+json\r\n"
		     "Content-Length: %d\r\n"
		     "Cache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "Connection: close\r\n\r\n%s",
		     status, title, bn, body);
	if (bn < 0 || (size_t)bn >= sizeof(body) || n < 0 ||
	    (size_t)n >= sizeof(msg))
		return -1;
	return net_write_all(c, msg, (size_t)n, deadline);
}

/* ---- the pump ---------------------------------------------------------- */

struct pump {
	struct conn *c;
	plat_sock sp; /* our end of the pair */
	char in[PUMP_BUF];
	size_t in_len, in_off; /* bytes read from the client, not yet in MHD */
	bool net_eof;
	bool net_failed;     /* a write to the client failed */
	bool waiting;	     /* as last told to the listener */
	struct reqhead head; /* where the request heads are */
};

/*
 * Tell the listener whether this session waits for a request with
 * nothing in flight (it may then be evicted, see longest_waiting). The
 * time is when the wait began: a slowly dripped head does not renew it.
 * Called before each poll; takes the lock only on a change.
 */
static void
note_waiting(struct pump *p)
{
	bool w = p->in_len == 0 && !p->net_eof && reqhead_waiting(&p->head);
	struct listener *l = p->c->l;

	if (w == p->waiting)
		return;
	p->waiting = w;
	plat_mutex_lock(l->m);
	p->c->waiting = w;
	p->c->waiting_since = plat_now_ms();
	plat_mutex_unlock(l->m);
}

/* Client -> MHD. MHD's end closing ends the pump, through pump_out. */
static void
pump_in(struct pump *p)
{
	long n;

	if (p->in_len == 0) {
		n = net_read(p->c, p->in, sizeof(p->in));
		if (n == PLAT_WOULD_BLOCK)
			return;
		/*
		 * The client is done sending, or its head went over a limit
		 * and MHD gets not one byte more of it: either way, MHD's end
		 * of input lets it finish what it is answering and close,
		 * and then the listener answers the head itself (pump).
		 */
		if (n <= 0 || reqhead_in(&p->head, p->in, (size_t)n)) {
			p->net_eof = true;
			plat_shutdown(p->sp, true);
			return;
		}
		p->in_len = (size_t)n;
		p->in_off = 0;
	}
	n = plat_send(p->sp, p->in + p->in_off, p->in_len - p->in_off);
	if (n == PLAT_WOULD_BLOCK)
		return;
	if (n < 0) {
		/*
		 * MHD stopped reading: it is answering and closing (a 413,
		 * or its own 431 to a pipelined head that reqhead did not
		 * count). Drop the client's input; the answer still goes out.
		 */
		p->in_len = p->in_off = 0;
		p->net_eof = true;
		return;
	}
	p->in_off += (size_t)n;
	if (p->in_off == p->in_len)
		p->in_len = p->in_off = 0;
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
	reqhead_out(&p->head, buf, (size_t)n);
	deadline = plat_now_ms() + p->c->l->cfg.idle_timeout_s * 1000ull;
	if (net_write_all(p->c, buf, (size_t)n, deadline) == 0)
		return 0;
	p->net_failed = true;
	return -1;
}

/* After MHD has closed: what reqhead refused, problem+json, not MHD's. */
static void
refuse_head(struct conn *c, const struct reqhead *h)
{
	uint64_t deadline = plat_now_ms() + c->l->cfg.idle_timeout_s * 1000ull;
	char detail[96];

	if (h->state == RH_BYTES)
		snprintf(detail, sizeof(detail),
			 "the request head exceeds %zu bytes", h->max_bytes);
	else
		snprintf(detail, sizeof(detail),
			 "the request head has more than %d header fields",
			 REQHEAD_MAX_FIELDS);
	log_event(c->l, EV_HEAD_TOO_LARGE, c->peer.text, detail);
	send_problem(c, 431, "Request Header Fields Too Large", detail,
		     deadline);
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
	reqhead_init(&p->head, httpd_head_bytes(c->l->cfg.httpd));
	for (;;) {
		struct plat_pollfd pf[2] = {{sp, PLAT_POLLIN, 0},
					    {c->fd, PLAT_POLLIN, 0}};
		size_t nf = 2;

		if (p->in_len > 0)
			pf[0].events |= PLAT_POLLOUT; /* MHD takes ours first */
		if (p->in_len > 0 || p->net_eof)
			nf = 1;
		if (nf == 2 && net_pending(c) > 0) {
			pf[1].revents = PLAT_POLLIN;
		} else {
			note_waiting(p);
			if (plat_poll(pf, nf, -1) < 0)
				break;
		}
		if ((pf[0].revents &
		     (PLAT_POLLIN | PLAT_POLLHUP | PLAT_POLLERR)) &&
		    pump_out(p) != 0)
			break;
		if ((pf[0].revents & PLAT_POLLOUT) ||
		    (nf == 2 && pf[1].revents))
			pump_in(p);
	}
	if (reqhead_over(&p->head) && !p->net_failed)
		refuse_head(c, &p->head);
	free(p);
}

/* ---- before TLS: plain HTTP on the TLS port ---------------------------- */

enum sniff { SNIFF_TLS, SNIFF_HTTP, SNIFF_GONE, SNIFF_LATE };

/* An uppercase method and a space; more bytes needed: -1. */
static int
looks_like_http(const unsigned char *b, size_t len)
{
	size_t i = 0;

	while (i < len && b[i] >= 'A' && b[i] <= 'Z')
		i++;
	if (i < len)
		return i > 0 && b[i] == ' ';
	return len < SNIFF_LEN ? -1 : 0;
}

/*
 * Read the first bytes, which the TLS session is given back. A TLS
 * record never starts with a letter, so a client that speaks TLS costs
 * one read of up to SNIFF_LEN bytes; anything else that is not plain
 * HTTP is left to mbedTLS to refuse.
 */
static enum sniff
sniff(plat_sock fd, uint64_t deadline, unsigned char *buf, size_t *len)
{
	int http;

	*len = 0;
	while ((http = looks_like_http(buf, *len)) < 0) {
		long n = plat_recv(fd, buf + *len, SNIFF_LEN - *len);

		if (n > 0)
			*len += (size_t)n;
		else if (n != PLAT_WOULD_BLOCK)
			return SNIFF_GONE;
		else if (wait_sock(fd, PLAT_POLLIN, deadline) != 0)
			return SNIFF_LATE;
	}
	return http ? SNIFF_HTTP : SNIFF_TLS;
}

#define HTTPS_ONLY                                                             \
	"this port speaks HTTPS only: the plain HTTP request was sent to the " \
	"HTTPS port; use https://"

/*
 * Close gracefully: say we are done, then read what the client still
 * sends, up to a bound, before closing. A close with unread input
 * resets the connection, and the reset can destroy the last answer (a
 * 400, 413 or 431) before a client that is still sending has read it.
 */
static void
linger(plat_sock fd, uint64_t deadline)
{
	char buf[4096];
	size_t total = 0;

	plat_shutdown(fd, true);
	while (total < LINGER_BYTES) {
		long n = plat_recv(fd, buf, sizeof(buf));

		if (n > 0)
			total += (size_t)n;
		else if (n != PLAT_WOULD_BLOCK ||
			 wait_sock(fd, PLAT_POLLIN, deadline) != 0)
			break;
	}
}

/* An administrator who typed http:// learns what to type instead. */
static void
refuse_plain_http(struct conn *c, uint64_t deadline)
{
	log_event(c->l, EV_PLAIN_HTTP, c->peer.text, NULL);
	if (send_problem(c, 400, "Bad Request", HTTPS_ONLY, deadline) == 0) {
		uint64_t soon = plat_now_ms() + LINGER_MS;

		linger(c->fd, soon < deadline ? soon : deadline);
	}
}

/* ---- a connection's life ----------------------------------------------- */

static int
tls_start(struct conn *c, uint64_t deadline, char *cn, size_t cnlen)
{
	unsigned char first[SNIFF_LEN];
	char err[256] = "";
	size_t n;

	switch (sniff(c->fd, deadline, first, &n)) {
	case SNIFF_HTTP:
		refuse_plain_http(c, deadline);
		return -1;
	case SNIFF_GONE:
		snprintf(err, sizeof(err), "closed before the handshake");
		goto fail;
	case SNIFF_LATE:
		snprintf(err, sizeof(err), "handshake deadline passed");
		goto fail;
	case SNIFF_TLS:
		break;
	}
	if ((c->tls = tls_conn_new(c->l->cfg.tls, c->fd)) == NULL) {
		snprintf(err, sizeof(err), "no session");
		goto fail;
	}
	tls_conn_unread(c->tls, first, n);
	if (tls_conn_handshake(c->tls, deadline, cn, cnlen, err, sizeof(err)) !=
	    0)
		goto fail;
	return 0;
fail:
	/* An evicted connection is the eviction's, logged (counted) there. */
	if (!evicted(c))
		log_event(c->l, EV_TLS_REFUSED, c->peer.text, err);
	return -1;
}

/* Hand the session to MHD through a socket pair and pump until done. */
static void
hand_over(struct conn *c, const char *cn)
{
	plat_sock sp[2] = {PLAT_SOCK_INVALID, PLAT_SOCK_INVALID};

	if (plat_sock_pair(sp) != 0) {
		log_warnx("%s: socket pair: %s", c->peer.text,
			  plat_sock_strerror());
		return;
	}
	/* MHD owns sp[1] from here on, also when it refuses it. */
	if (httpd_add(c->l->cfg.httpd, sp[1], c->peer.sa, c->peer.sa_len, cn) !=
	    0) {
		log_warnx("%s: the HTTP layer refused the connection",
			  c->peer.text);
		goto out;
	}
	pump(c, sp[0]);
out:
	plat_close_sock(sp[0]);
}

static void
conn_main(void *arg)
{
	struct conn *c = arg;
	struct listener *l = c->l;
	uint64_t deadline =
	    plat_now_ms() + l->cfg.handshake_timeout_s * 1000ull;
	char cn[256] = "";

	if ((l->cfg.tls == NULL ||
	     tls_start(c, deadline, cn, sizeof(cn)) == 0) &&
	    established(c)) {
		hand_over(c, cn);
		tls_conn_free(c->tls, 1);
		c->tls = NULL;
		linger(c->fd, plat_now_ms() + LINGER_MS);
	}
	tls_conn_free(c->tls, 0);
	release(l, c);
	plat_close_sock(c->fd);
	free(c);
}

static void
accept_one(struct listener *l)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	enum event why = EV_N;
	char victim[64] = "";
	bool idle = false;

	c->l = l;
	c->fd = plat_accept(l->fd, &c->peer);
	if (c->fd == PLAT_SOCK_INVALID)
		goto drop;
	if (!allowed(l, c->peer.addr16)) {
		log_event(l, EV_NOT_ALLOWED, c->peer.text, NULL);
		goto drop;
	}
	if (!admit(l, c, &why, victim, sizeof(victim), &idle)) {
		log_event(l, why, c->peer.text, NULL);
		goto drop;
	}
	if (victim[0] != '\0')
		log_event(l, idle ? EV_EVICTED_IDLE : EV_EVICTED, victim, NULL);
	plat_set_nodelay(c->fd);
	if (plat_thread_detached(conn_main, c) == 0)
		return;
	log_event(l, EV_NO_THREAD, c->peer.text, NULL);
	release(l, c);
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
	for (size_t i = 0; i < l->n_conns; i++)
		plat_shutdown(l->conns[i]->fd, false);
	while ((l->n_conns > 0 || l->accepting) && plat_now_ms() < deadline)
		plat_cond_wait_until(l->idle, l->m, deadline);
	drained = l->n_conns == 0 && !l->accepting;
	log_held_events(l);
	if (!drained)
		log_warnx("%zu connections still open at shutdown", l->n_conns);
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
	free(l->conns);
	free(l);
}
