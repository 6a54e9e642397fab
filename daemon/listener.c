/*
 * listener.c: the socket side of the daemon. It accepts TCP, applies the
 * allow-list and the connection limits, runs the TLS handshake against a
 * deadline, and then pumps bytes between the TLS session and one end of
 * a socket pair whose other end belongs to libmicrohttpd.
 *
 * Each loop also drives an MHD daemon of its own (httpd.h): after a
 * round has pumped requests in, it runs MHD and reads the answers back
 * in the same round, so that a request costs no thread hand-off.
 *
 * A few event loops (one per processor, at most LOOPS_MAX) share the
 * listening socket; each drives the connections it accepted without
 * ever blocking: sniffing, handshake, pump, last answer, graceful
 * close. A slow client costs a table slot and a little memory, never a
 * thread, so memory does not grow with the clients served (bench/).
 * A full connection table makes room by evicting the oldest connection
 * still in its handshake (see admit), so idle connections from many
 * addresses cannot lock out a client that completes its handshake.
 */
#include "daemon/listener.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/reqhead.h"
#include "daemon/tls.h"
#include "platform/net.h"
#include "platform/poller.h"
#include "platform/sys.h"
#include "platform/thread.h"

#define PUMP_BUF	16384
#define SNIFF_LEN	8     /* the longest method and its space: "OPTIONS " */
#define LINGER_MS	2000  /* reading a refused request's remainder */
#define LINGER_BYTES	65536 /* ... and at most this much of it */
#define LOG_INTERVAL_MS 1000
#define LOOPS_MAX	4
#define ACCEPT_BATCH	32 /* accepted per wake-up, so that others get a turn */
#define ACCEPT_PAUSE_MS 500 /* after accept() ran out of descriptors */
#define EVENTS_MAX	128 /* per wait */

_Static_assert(SNIFF_LEN <= TLS_UNREAD_MAX, "the session must take back "
					    "what the sniffing read");

enum conn_state {
	CONN_HANDSHAKE, /* has proved nothing yet: may be evicted */
	CONN_SESSION,	/* TLS established: evicted only when waiting */
	CONN_EVICTED,	/* shut down for a newcomer; its loop is closing it */
};

/* Where a connection is in its life; its loop's alone. */
enum phase {
	PH_SNIFF,     /* reading the first bytes: TLS or plain HTTP? */
	PH_HANDSHAKE, /* TLS handshake */
	PH_PUMP,      /* session: client <-> MHD */
	PH_FLUSH,     /* the listener's own last answer going out */
	PH_LINGER,    /* done writing, reading what the client still sends */
	PH_CLOSED,    /* gone; freed at the end of the loop's round */
};

/* Per-connection events an attacker can repeat: logged at a bounded rate. */
enum event {
	EV_NOT_ALLOWED,
	EV_PER_IP,
	EV_FULL,
	EV_EVICTED,
	EV_EVICTED_IDLE,
	EV_TLS_REFUSED,
	EV_PLAIN_HTTP,
	EV_HEAD_TOO_LARGE,
	EV_STALLED,
	EV_EXHAUSTED,
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
    [EV_EVICTED] = {false, "evicted: still in the TLS handshake when the "
			   "connection table was full"},
    [EV_EVICTED_IDLE] = {false, "evicted: a session waiting for a request "
				"longer than the handshake deadline when the "
				"connection table was full"},
    [EV_TLS_REFUSED] = {false, "TLS refused"},
    [EV_PLAIN_HTTP] = {false, "plain HTTP on the TLS port: answered 400"},
    [EV_HEAD_TOO_LARGE] = {false, "request head too large: answered 431"},
    [EV_STALLED] = {false, "closed: the client did not read its answer "
			   "within limits.idle_timeout_s"},
    [EV_EXHAUSTED] = {true, "cannot accept connections for now, out of "
			    "descriptors or memory (retrying twice a second)"},
};

struct ratelog {
	uint64_t next_ms;
	uint32_t held; /* events not logged since the last line */
};

struct per_ip {
	uint8_t addr[16]; /* of the client (client_of) */
	uint32_t n;
};

struct conn;

/* A socket in a loop's poller: what it waits for, what poll said. */
struct watch {
	int cur;     /* events watched now */
	int revents; /* of this round */
};

/* An event loop: the connections it accepted, its poller, its MHD. */
struct loop {
	struct listener *l;
	struct conn **conns;
	size_t n_conns, cap_conns;
	struct plat_poller *poller;
	struct plat_event ev[EVENTS_MAX];
	struct watch w_wake, w_listen, w_mhd;
	struct httpd_mhd *mhd;
	bool mhd_due;	       /* a pair's end changed: MHD must run */
	uint64_t mhd_at;       /* ms; when MHD must run by itself */
	uint64_t accept_after; /* ms; 0 unless accept() ran out */
	bool stopping;	       /* seen the stop: accepts no more */
};

struct listener {
	struct listener_config cfg;
	plat_sock fd;
	plat_sock wake[2]; /* written once, never read: stop */
	struct loop loops[LOOPS_MAX];
	unsigned n_loops;
	struct plat_mutex *m;
	struct plat_cond *idle; /* signalled when a loop ends */
	bool stopping;		/* under m */
	unsigned running;	/* loops not ended; under m */
	uint64_t seq;		/* accept order, for eviction */
	uint32_t live;		/* connections in the table, less the evicted */
	struct conn **conns;	/* every connection until it is closed */
	size_t n_conns, cap_conns;
	struct per_ip *ips;
	size_t n_ips, cap_ips;
	struct ratelog logs[EV_N]; /* under m */
};

/* Buffers of an established connection (or one the listener answers). */
struct pump {
	plat_sock sp;	   /* our end of the pair; invalid if none */
	char in[PUMP_BUF]; /* client -> MHD */
	size_t in_len, in_off;
	char out[PUMP_BUF]; /* MHD (or the listener) -> client */
	size_t out_len, out_off;
	bool net_eof;	     /* nothing more from the client */
	bool sp_shut;	     /* MHD was told so */
	bool nudge;	     /* and may have missed it (httpd_misses_eof) */
	bool sp_eof;	     /* MHD closed its end: answers complete */
	bool fed;	     /* gave MHD input in this round */
	bool waiting;	     /* as last told to the listener */
	unsigned answered;   /* head.answered, as last told */
	struct reqhead head; /* where the request heads are */
};

struct conn {
	struct listener *l;
	struct loop *lp;
	plat_sock fd;
	struct plat_addr peer;
	struct tls_conn *tls;
	uint64_t seq;
	enum conn_state state; /* under l->m */
	/*
	 * Since when (plat_now_ms, at least 1) the session has waited for
	 * a request with nothing in flight; 0: not waiting. Its loop sets
	 * it at each request and answer, without the lock every loop takes
	 * (admit reads it under the lock, and a value a moment old does as
	 * well for eviction).
	 */
	_Atomic uint64_t waiting_since;
	/* The owning loop's alone: */
	enum phase phase;
	uint64_t deadline; /* of the phase, or of a stalled write; 0 none */
	int want;	   /* TLS_WANT_* the last step returned, or 0 */
	unsigned char first[SNIFF_LEN];
	size_t first_len;
	size_t lingered;
	struct pump *p;
	struct watch wf, ws; /* the client's socket, MHD's end */
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

/* The entry of addr's client (client_of), or NULL. */
static struct per_ip *
ip_find(struct listener *l, const uint8_t addr[16])
{
	uint8_t key[16];

	client_of(addr, key);
	for (size_t i = 0; i < l->n_ips; i++)
		if (memcmp(l->ips[i].addr, key, 16) == 0)
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
		client_of(addr, p->addr);
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
		 now = plat_now_ms(), best_since = 0;
	struct conn *best = NULL;

	for (size_t i = 0; i < l->n_conns; i++) {
		struct conn *c = l->conns[i];
		uint64_t since = atomic_load_explicit(&c->waiting_since,
						      memory_order_relaxed);

		if (c->state == CONN_SESSION && since != 0 &&
		    now - since >= patience &&
		    (best == NULL || since < best_since)) {
			best = c;
			best_since = since;
		}
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
	if (l->stopping) {
		*why = EV_N; /* not worth a line */
		goto out;
	}
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

/*
 * Out of the table. The last one out gives the heap's free memory
 * back: a burst of clients leaves no high-water mark behind.
 */
static void
release(struct listener *l, struct conn *c)
{
	bool empty;

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
	empty = l->n_conns == 0;
	plat_mutex_unlock(l->m);
	if (empty)
		plat_trim_memory();
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

/* By when an answer waiting for the client must have moved on. */
static uint64_t
idle_deadline(const struct conn *c)
{
	return plat_now_ms() + c->l->cfg.idle_timeout_s * 1000ull;
}

static int
sock_want(long n, int want)
{
	return n == PLAT_WOULD_BLOCK ? want : -1;
}

/* >0 bytes, 0 end of input, TLS_WANT_READ/WRITE, or -1. */
static long
net_read(struct conn *c, void *buf, size_t len)
{
	long n;

	if (c->tls != NULL)
		return tls_conn_read(c->tls, buf, len);
	n = plat_recv(c->fd, buf, len);
	return n >= 0 ? n : sock_want(n, TLS_WANT_READ);
}

/* >0 bytes taken, TLS_WANT_READ/WRITE, or -1. */
static long
net_write(struct conn *c, const void *buf, size_t len)
{
	long n;

	if (c->tls != NULL)
		return tls_conn_write(c->tls, buf, len);
	n = plat_send(c->fd, buf, len);
	return n > 0 ? n : sock_want(n, TLS_WANT_WRITE);
}

/* Bytes of the client's that poll cannot see (inside the TLS session). */
static bool
net_pending(struct conn *c)
{
	return c->tls != NULL && tls_conn_pending(c->tls) > 0;
}

/*
 * Send what out holds, as far as the socket takes it: 0 (all sent, or
 * c->want says what to wait for), -1 when the client is gone.
 */
static int
flush_out(struct conn *c)
{
	struct pump *p = c->p;

	while (p->out_off < p->out_len) {
		long n =
		    net_write(c, p->out + p->out_off, p->out_len - p->out_off);

		if (n < 0) {
			c->want = (int)n;
			return n == -1 ? -1 : 0;
		}
		p->out_off += (size_t)n;
	}
	p->out_len = p->out_off = 0;
	c->want = 0;
	return 0;
}

/*
 * An answer of the listener's own, in the API's problem+json, into out
 * (empty at this point). The connection closes after it; title and
 * detail need no JSON escaping.
 */
static void
put_problem(struct pump *p, int status, const char *title, const char *detail)
{
	char body[384];
	int bn, n;

	bn = snprintf(body, sizeof(body),
		      "{\"type\":\"about:blank\",\"title\":\"%s\","
		      "\"status\":%d,\"detail\":\"%s\"}",
		      title, status, detail);
	n = snprintf(p->out, sizeof(p->out),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: application/problem+json\r\n"
		     "Content-Length: %d\r\n"
		     "Cache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "Connection: close\r\n\r\n%s",
		     status, title, bn, body);
	p->out_len = n > 0 && (size_t)n < sizeof(p->out) ? (size_t)n : 0;
	p->out_off = 0;
}

/* ---- ending a connection ----------------------------------------------- */

/* Out of the loop's poller, before the socket closes. */
static void
unwatch(struct conn *c, plat_sock s, struct watch *w)
{
	if (plat_poller_watch(c->lp->poller, s, &w->cur, 0, w) != 0)
		w->cur = 0; /* the socket is about to close: it leaves anyway */
}

static void
pump_free(struct conn *c)
{
	if (c->p == NULL)
		return;
	if (c->p->sp != PLAT_SOCK_INVALID) {
		unwatch(c, c->p->sp, &c->ws);
		c->lp->mhd_due = true; /* to see its end of the pair close */
	}
	plat_close_sock(c->p->sp);
	free(c->p);
	c->p = NULL;
}

static struct pump *
pump_new(void)
{
	struct pump *p = xcalloc(1, sizeof(*p));

	p->sp = PLAT_SOCK_INVALID;
	return p;
}

/* At once: the client is gone, or has had all the time it gets. */
static void
conn_close(struct conn *c)
{
	tls_conn_free(c->tls, 0);
	c->tls = NULL;
	pump_free(c);
	release(c->l, c);
	unwatch(c, c->fd, &c->wf);
	plat_close_sock(c->fd);
	c->phase = PH_CLOSED;
}

/*
 * Close gracefully: say we are done (close_notify, then the end of our
 * output), then read what the client still sends, up to a bound, before
 * closing. A close with unread input resets the connection, and the
 * reset can destroy the last answer (a 400, 413 or 431) before a client
 * that is still sending has read it.
 */
static void
conn_finish(struct conn *c, uint64_t by)
{
	uint64_t soon = plat_now_ms() + LINGER_MS;

	tls_conn_free(c->tls, 1);
	c->tls = NULL;
	pump_free(c);
	plat_shutdown(c->fd, true);
	c->phase = PH_LINGER;
	c->deadline = by != 0 && by < soon ? by : soon;
	c->lingered = 0;
	c->want = TLS_WANT_READ;
}

static void
do_linger(struct conn *c)
{
	char buf[4096];

	while (c->lingered < LINGER_BYTES) {
		long n = plat_recv(c->fd, buf, sizeof(buf));

		if (n == PLAT_WOULD_BLOCK)
			return;
		if (n <= 0)
			break;
		c->lingered += (size_t)n;
	}
	conn_close(c);
}

/* The listener's answer is out (or the client is gone). */
static void
do_flush(struct conn *c)
{
	if (flush_out(c) != 0)
		conn_close(c);
	else if (c->p->out_len == 0)
		conn_finish(c, c->deadline);
}

/* ---- the pump ---------------------------------------------------------- */

/*
 * Tell the listener whether this session waits for a request with
 * nothing in flight (it may then be evicted, see longest_waiting). The
 * time is when the wait began: a slowly dripped head does not renew it,
 * an answer does. Told as the pump reads a request or an answer, so
 * that a session answered within one round is never seen waiting since
 * before its request, and again before each wait.
 */
static void
note_waiting(struct conn *c)
{
	struct pump *p = c->p;
	bool w = p->in_len == 0 && !p->net_eof && reqhead_waiting(&p->head);
	uint64_t now = plat_now_ms();

	if (w == p->waiting && p->head.answered == p->answered)
		return;
	p->waiting = w;
	p->answered = p->head.answered;
	atomic_store_explicit(&c->waiting_since, w ? (now > 0 ? now : 1) : 0,
			      memory_order_relaxed);
}

/* MHD has input: it runs at the end of the round, c reads its answer. */
static void
fed_mhd(struct conn *c)
{
	c->p->fed = true;
	c->lp->mhd_due = true;
}

/*
 * Client -> MHD, what in holds. When the client is done, MHD's end of
 * input lets it finish what it is answering and close.
 */
static void
to_mhd(struct conn *c)
{
	struct pump *p = c->p;
	long n;

	while (p->in_len > 0) {
		n = plat_send(p->sp, p->in + p->in_off, p->in_len - p->in_off);
		if (n == PLAT_WOULD_BLOCK)
			return;
		if (n < 0) {
			/*
			 * MHD stopped reading: it is answering and closing
			 * (a 413, or its own 431 to a head reqhead could not
			 * frame). Drop the client's input; the answer still
			 * goes out.
			 */
			p->in_len = p->in_off = 0;
			p->net_eof = true;
			break;
		}
		fed_mhd(c);
		p->in_off += (size_t)n;
		if (p->in_off == p->in_len)
			p->in_len = p->in_off = 0;
	}
	if (p->net_eof && !p->sp_shut) {
		plat_shutdown(p->sp, true);
		p->sp_shut = true;
		p->nudge = httpd_misses_eof(c->lp->mhd);
		fed_mhd(c);
	}
}

/*
 * After MHD ran: once it has read every byte before the end of input,
 * shutting down again wakes its socket, and it reads the end it missed
 * (httpd.h). Until then, the same after its next run.
 */
static void
nudge_mhd(struct conn *c)
{
	struct pump *p = c->p;

	if (c->phase != PH_PUMP || !p->nudge || p->sp_eof)
		return;
	if (!plat_sock_all_read(p->sp)) {
		p->fed = true;
		return;
	}
	plat_shutdown(p->sp, true);
	p->nudge = false;
	c->lp->mhd_due = true;
}

/*
 * Read from the client into in. A head over a limit ends the input
 * too: MHD gets what came before the byte that went over, and not one
 * byte more, so it answers the requests before that head and closes.
 * The listener then answers the head itself (end_pump).
 */
static void
from_client(struct conn *c)
{
	struct pump *p = c->p;
	long n = net_read(c, p->in, sizeof(p->in));

	if (n == TLS_WANT_READ || n == TLS_WANT_WRITE)
		return;
	if (n > 0)
		p->in_len = reqhead_in(&p->head, p->in, (size_t)n);
	if (n <= 0 || reqhead_over(&p->head))
		p->net_eof = true;
	to_mhd(c);
	note_waiting(c);
}

/* MHD -> out -> client. -1 when the client is gone. */
static int
from_mhd(struct conn *c)
{
	struct pump *p = c->p;
	long n = plat_recv(p->sp, p->out, sizeof(p->out));

	if (n == PLAT_WOULD_BLOCK)
		return 0;
	if (n <= 0) {
		p->sp_eof = true; /* MHD closed: the answers are complete */
		return 0;
	}
	c->lp->mhd_due = true; /* room for the rest of a long answer */
	reqhead_out(&p->head, p->out, (size_t)n);
	/* Before the client can see the answer and connect again. */
	note_waiting(c);
	p->out_len = (size_t)n;
	p->out_off = 0;
	c->deadline = idle_deadline(c);
	return flush_out(c);
}

/* MHD has closed and everything it said is out. */
static void
end_pump(struct conn *c)
{
	struct pump *p = c->p;
	char detail[96];

	if (!reqhead_over(&p->head)) {
		conn_finish(c, 0);
		return;
	}
	if (p->head.state == RH_BYTES)
		snprintf(detail, sizeof(detail),
			 "the request head exceeds %zu bytes",
			 p->head.max_bytes);
	else
		snprintf(detail, sizeof(detail),
			 "the request head has more than %d header fields",
			 REQHEAD_MAX_FIELDS);
	log_event(c->l, EV_HEAD_TOO_LARGE, c->peer.text, detail);
	put_problem(p, 431, "Request Header Fields Too Large", detail);
	c->phase = PH_FLUSH;
	c->deadline = idle_deadline(c);
	do_flush(c);
}

/*
 * One round for a session. rf and rs: what poll said of the client and
 * of MHD's end. MHD enforces the idle timeout and closes its end, which
 * ends the session; the pump itself never gives up on a connection that
 * is busy in a long action.
 */
static void
do_pump(struct conn *c, int rf, int rs)
{
	struct pump *p = c->p;
	const int any = PLAT_POLLIN | PLAT_POLLHUP | PLAT_POLLERR;

	if ((rf & (PLAT_POLLOUT | PLAT_POLLHUP | PLAT_POLLERR)) &&
	    p->out_len > 0 && flush_out(c) != 0)
		goto gone;
	if ((rs & any) && p->out_len == 0 && from_mhd(c) != 0)
		goto gone;
	if (rs & (PLAT_POLLOUT | PLAT_POLLHUP | PLAT_POLLERR))
		to_mhd(c);
	if (((rf & any) || net_pending(c)) && p->in_len == 0 && !p->net_eof)
		from_client(c);
	if (p->out_len == 0)
		c->deadline = 0;
	if (p->sp_eof && p->out_len == 0)
		end_pump(c);
	return;
gone:
	conn_close(c);
}

/* Hand the session to MHD through a socket pair. */
static void
start_pump(struct conn *c, const char *cn)
{
	plat_sock sp[2] = {PLAT_SOCK_INVALID, PLAT_SOCK_INVALID};
	struct pump *p = c->p = pump_new();

	reqhead_init(&p->head, httpd_head_bytes(c->l->cfg.httpd));
	c->phase = PH_PUMP;
	c->deadline = 0;
	c->want = 0;
	if (plat_sock_pair(sp) != 0) {
		log_warnx("%s: socket pair: %s", c->peer.text,
			  plat_sock_strerror());
		conn_finish(c, 0);
		return;
	}
	p->sp = sp[0];
	/* MHD owns sp[1] from here on, also when it refuses it. */
	if (httpd_add(c->lp->mhd, sp[1], c->peer.sa, c->peer.sa_len, cn) != 0) {
		log_warnx("%s: the HTTP layer refused the connection",
			  c->peer.text);
		conn_finish(c, 0);
	}
}

/* ---- before the session: plain HTTP or TLS ----------------------------- */

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

#define HTTPS_ONLY                                                             \
	"this port speaks HTTPS only: the plain HTTP request was sent to the " \
	"HTTPS port; use https://"

/* A failed start; an evicted connection is logged (counted) by eviction. */
static void
refuse_tls(struct conn *c, const char *why)
{
	if (!evicted(c))
		log_event(c->l, EV_TLS_REFUSED, c->peer.text, why);
	conn_close(c);
}

static void
do_handshake(struct conn *c)
{
	char cn[256], err[256] = "";
	int rc =
	    tls_conn_handshake_step(c->tls, cn, sizeof(cn), err, sizeof(err));

	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
		c->want = rc;
	else if (rc != 0)
		refuse_tls(c, err);
	else if (!established(c))
		conn_close(c);
	else
		start_pump(c, cn);
}

/* An administrator who typed http:// learns what to type instead. */
static void
refuse_plain_http(struct conn *c)
{
	log_event(c->l, EV_PLAIN_HTTP, c->peer.text, NULL);
	c->p = pump_new();
	put_problem(c->p, 400, "Bad Request", HTTPS_ONLY);
	c->phase = PH_FLUSH;
	do_flush(c);
}

/*
 * Read the first bytes, which the TLS session is given back. A TLS
 * record never starts with a letter, so a client that speaks TLS costs
 * one read of up to SNIFF_LEN bytes; anything else that is not plain
 * HTTP is left to mbedTLS to refuse.
 */
static void
do_sniff(struct conn *c)
{
	int http;

	while ((http = looks_like_http(c->first, c->first_len)) < 0) {
		long n = plat_recv(c->fd, c->first + c->first_len,
				   SNIFF_LEN - c->first_len);

		if (n == PLAT_WOULD_BLOCK)
			return;
		if (n <= 0) {
			refuse_tls(c, "closed before the handshake");
			return;
		}
		c->first_len += (size_t)n;
	}
	if (http) {
		refuse_plain_http(c);
		return;
	}
	if ((c->tls = tls_conn_new(c->l->cfg.tls, c->fd)) == NULL) {
		refuse_tls(c, "no session");
		return;
	}
	tls_conn_unread(c->tls, c->first, c->first_len);
	c->phase = PH_HANDSHAKE;
	do_handshake(c);
}

/* ---- the event loop ----------------------------------------------------- */

/* The deadline of c's phase has passed. */
static void
expire(struct conn *c)
{
	if (c->phase == PH_SNIFF || c->phase == PH_HANDSHAKE) {
		refuse_tls(c, "handshake deadline passed");
		return;
	}
	if (c->phase != PH_LINGER)
		log_event(c->l, EV_STALLED, c->peer.text, NULL);
	conn_close(c);
}

/* What c waits for on the client's socket and on MHD's end. */
static void
interest(struct conn *c, int *ef, int *es)
{
	struct pump *p = c->p;

	*ef = *es = 0;
	if (c->phase != PH_PUMP) {
		*ef = c->want == TLS_WANT_WRITE ? PLAT_POLLOUT : PLAT_POLLIN;
		return;
	}
	if (p->out_len > 0)
		*ef |= c->want == TLS_WANT_READ ? PLAT_POLLIN : PLAT_POLLOUT;
	else if (!p->sp_eof)
		*es |= PLAT_POLLIN;
	if (p->in_len > 0)
		*es |= PLAT_POLLOUT;
	else if (!p->net_eof)
		*ef |= PLAT_POLLIN;
}

/* What c waits for now, in the poller; false if the poller refused. */
static bool
watch_conn(struct conn *c)
{
	struct plat_poller *pl = c->lp->poller;
	int ef, es;

	interest(c, &ef, &es);
	if (plat_poller_watch(pl, c->fd, &c->wf.cur, ef, &c->wf) != 0)
		return false;
	return c->p == NULL || c->p->sp == PLAT_SOCK_INVALID ||
	       plat_poller_watch(pl, c->p->sp, &c->ws.cur, es, &c->ws) == 0;
}

static uint64_t
mhd_deadline(struct loop *lp, uint64_t now)
{
	int t = httpd_timeout_ms(lp->mhd);

	return t < 0 ? UINT64_MAX : now + (uint64_t)t;
}

/*
 * Before waiting: every connection's interest into the poller (a
 * system call only where it changed). Returns the wait's timeout: the
 * nearest deadline, 0 when a session has input that poll cannot see.
 */
static int
prepare(struct loop *lp)
{
	uint64_t now = plat_now_ms(), next = UINT64_MAX;
	int ev = lp->stopping ? 0 : PLAT_POLLIN;
	bool paused = now < lp->accept_after;

	plat_poller_watch(lp->poller, lp->l->wake[0], &lp->w_wake.cur, ev,
			  &lp->w_wake);
	/* Resumed requests are answered while the loop drains, too. */
	plat_poller_watch(lp->poller, httpd_wake_sock(lp->mhd), &lp->w_mhd.cur,
			  PLAT_POLLIN, &lp->w_mhd);
	/* The queued connection keeps the socket readable: not watched. */
	plat_poller_watch(lp->poller, lp->l->fd, &lp->w_listen.cur,
			  paused ? 0 : ev, &lp->w_listen);
	if (paused)
		next = lp->accept_after;
	lp->mhd_at = mhd_deadline(lp, now);
	if (lp->mhd_at < next)
		next = lp->mhd_at;
	for (size_t i = 0; i < lp->n_conns; i++) {
		struct conn *c = lp->conns[i];

		if (!watch_conn(c)) {
			log_warn("%s: cannot wait for the connection",
				 c->peer.text);
			conn_close(c);
			continue;
		}
		if (c->phase == PH_PUMP) {
			note_waiting(c);
			if (c->p->in_len == 0 && !c->p->net_eof &&
			    net_pending(c))
				next = now;
		}
		if (c->deadline != 0 && c->deadline < next)
			next = c->deadline;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now < 60000 ? next - now : 60000);
}

static void
conn_start(struct loop *lp, struct conn *c)
{
	lp->conns =
	    xgrow(lp->conns, &lp->cap_conns, lp->n_conns, sizeof(*lp->conns));
	lp->conns[lp->n_conns++] = c;
	c->lp = lp;
	c->deadline = plat_now_ms() + c->l->cfg.handshake_timeout_s * 1000ull;
	c->want = TLS_WANT_READ;
	if (c->l->cfg.tls != NULL)
		c->phase = PH_SNIFF;
	else if (established(c))
		start_pump(c, "");
	else
		conn_close(c);
}

/* Accept one connection into lp; false when none is waiting. */
static bool
accept_one(struct loop *lp)
{
	struct listener *l = lp->l;
	struct conn *c = xcalloc(1, sizeof(*c));
	enum event why = EV_N;
	char victim[64] = "";
	bool idle = false;

	c->l = l;
	c->fd = plat_accept(l->fd, &c->peer);
	if (c->fd == PLAT_SOCK_INVALID) {
		if (plat_sock_exhausted()) {
			log_event(l, EV_EXHAUSTED, "listener",
				  plat_sock_strerror());
			lp->accept_after = plat_now_ms() + ACCEPT_PAUSE_MS;
		}
		free(c);
		return false;
	}
	if (!allowed(l, c->peer.addr16)) {
		log_event(l, EV_NOT_ALLOWED, c->peer.text, NULL);
		goto drop;
	}
	if (!admit(l, c, &why, victim, sizeof(victim), &idle)) {
		if (why != EV_N)
			log_event(l, why, c->peer.text, NULL);
		goto drop;
	}
	if (victim[0] != '\0')
		log_event(l, idle ? EV_EVICTED_IDLE : EV_EVICTED, victim, NULL);
	plat_set_nodelay(c->fd);
	conn_start(lp, c);
	return true;
drop:
	plat_close_sock(c->fd);
	free(c);
	return true;
}

static void
dispatch(struct conn *c, int rf, int rs)
{
	if (c->phase == PH_PUMP)
		do_pump(c, rf, rs);
	else if (rf == 0)
		return;
	else if (c->phase == PH_SNIFF)
		do_sniff(c);
	else if (c->phase == PH_HANDSHAKE)
		do_handshake(c);
	else if (c->phase == PH_FLUSH)
		do_flush(c);
	else if (c->phase == PH_LINGER)
		do_linger(c);
}

/* Free what closed in this round. */
static void
sweep(struct loop *lp)
{
	size_t k = 0;

	for (size_t i = 0; i < lp->n_conns; i++) {
		if (lp->conns[i]->phase == PH_CLOSED)
			free(lp->conns[i]);
		else
			lp->conns[k++] = lp->conns[i];
	}
	lp->n_conns = k;
}

/*
 * Run MHD if the round gave it anything to do, then read the answers of
 * the sessions that fed it while it is still warm: a request is read,
 * answered and sent back in one round. Reading an answer makes room for
 * more of it, so MHD runs once more; anything later is polled for.
 */
static void
run_mhd(struct loop *lp)
{
	if (!lp->mhd_due)
		return;
	lp->mhd_due = false;
	httpd_run(lp->mhd);
	log_flush(); /* the access lines, before the answers go out */
	for (size_t i = 0; i < lp->n_conns; i++) {
		struct conn *c = lp->conns[i];

		if (c->phase == PH_PUMP && c->p->fed) {
			c->p->fed = false;
			do_pump(c, 0, PLAT_POLLIN);
			nudge_mhd(c);
		}
	}
	if (lp->mhd_due) {
		lp->mhd_due = false;
		httpd_run(lp->mhd);
		log_flush();
	}
}

/* One round: wait, then serve what is ready and what has expired. */
static void
loop_round(struct loop *lp)
{
	int timeout = prepare(lp);
	size_t polled;
	uint64_t now;
	int n;

	sweep(lp); /* what prepare closed */
	polled = lp->n_conns;
	log_flush(); /* nothing is held while the loop sleeps */
	n = plat_poller_wait(lp->poller, lp->ev, EVENTS_MAX, timeout);
	for (int i = 0; i < n; i++)
		((struct watch *)lp->ev[i].tag)->revents |= lp->ev[i].revents;
	if (lp->w_wake.revents) {
		plat_mutex_lock(lp->l->m);
		lp->stopping = lp->l->stopping;
		plat_mutex_unlock(lp->l->m);
	}
	now = plat_now_ms();
	if (lp->w_mhd.revents)
		httpd_woken(lp->mhd);
	if (lp->w_mhd.revents || now >= lp->mhd_at)
		lp->mhd_due = true;
	for (size_t i = 0; i < polled; i++) {
		struct conn *c = lp->conns[i];

		dispatch(c, c->wf.revents, c->ws.revents);
		c->wf.revents = c->ws.revents = 0;
		if (c->phase != PH_CLOSED && c->deadline != 0 &&
		    c->deadline <= now)
			expire(c);
	}
	run_mhd(lp);
	for (int i = 0; lp->w_listen.revents && i < ACCEPT_BATCH; i++)
		if (!accept_one(lp))
			break;
	lp->w_wake.revents = lp->w_listen.revents = lp->w_mhd.revents = 0;
	sweep(lp);
}

static void
loop_main(void *arg)
{
	struct loop *lp = arg;
	struct listener *l = lp->l;
	struct log_hold *hold = xmalloc(sizeof(*hold));

	/* One write for the lines of a round, not one for each request. */
	log_hold(hold);
	while (!lp->stopping || lp->n_conns > 0)
		loop_round(lp);
	log_hold(NULL);
	free(hold);
	plat_poller_free(lp->poller);
	free(lp->conns);
	plat_mutex_lock(l->m);
	l->running--;
	plat_cond_broadcast(l->idle);
	plat_mutex_unlock(l->m);
}

static unsigned
loops_wanted(void)
{
	unsigned n = plat_cpu_count();

	return n < LOOPS_MAX ? n : LOOPS_MAX;
}

/*
 * The loops; false with the reason if not even one could start. An MHD
 * daemon made for a loop that did not start is the httpd's to free.
 */
static bool
start_loops(struct listener *l, char *err, size_t errlen)
{
	unsigned want = loops_wanted();

	snprintf(err, errlen, "cannot start the listener's threads");
	for (unsigned i = 0; i < want; i++) {
		struct loop *lp = &l->loops[l->n_loops];

		lp->l = l;
		lp->mhd = httpd_mhd_new(l->cfg.httpd, err, errlen);
		if (lp->mhd == NULL)
			break;
		if ((lp->poller = plat_poller_new()) == NULL)
			break;
		plat_mutex_lock(l->m);
		l->running++;
		plat_mutex_unlock(l->m);
		if (plat_thread_detached(loop_main, lp) != 0) {
			plat_mutex_lock(l->m);
			l->running--;
			plat_mutex_unlock(l->m);
			plat_poller_free(lp->poller);
			break;
		}
		l->n_loops++;
	}
	return l->n_loops > 0;
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
	if (!start_loops(l, err, errlen))
		goto fail;
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
 * in flight and closes. Only when every loop has ended may the caller
 * stop the HTTP layer (true); otherwise the loops still use it.
 */
bool
listener_stop(struct listener *l, uint32_t wait_ms)
{
	uint64_t deadline = plat_now_ms() + wait_ms;
	bool drained;

	plat_mutex_lock(l->m);
	l->stopping = true;
	for (size_t i = 0; i < l->n_conns; i++)
		plat_shutdown(l->conns[i]->fd, false);
	plat_mutex_unlock(l->m);
	if (plat_send(l->wake[1], "x", 1) != 1)
		log_warnx("listener wake-up: %s", plat_sock_strerror());
	plat_mutex_lock(l->m);
	while (l->running > 0 && plat_now_ms() < deadline)
		plat_cond_wait_until(l->idle, l->m, deadline);
	drained = l->running == 0;
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
