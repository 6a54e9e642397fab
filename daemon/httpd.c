/*
 * httpd.c: libmicrohttpd behind the TLS listener. MHD never listens,
 * never sees TLS and has no thread of its own: each event loop of the
 * listener drives one MHD daemon in MHD's "external" mode, hands it one
 * end of a socket pair per connection with the real peer address
 * (MHD_add_connection), and runs it right after it has pumped bytes in
 * or out, so a request is answered within the loop's round that read
 * it, without a hand-off between threads. The verified
 * client-certificate CN becomes the connection's socket context while
 * MHD_add_connection announces the connection.
 *
 * Every request is admitted on the loop's thread (api_admit: routing,
 * the body limit, authentication, the role check), and a refusal is sent
 * at once: a caller without credentials costs no thread. An admitted
 * request whose handler may wait (route.blocks: checks, actions,
 * /report, /version) is suspended and its handler run by a worker thread
 * of its own, which then resumes it and wakes the loop, so that a
 * service stop of thirty seconds delays nobody else.
 */
#include "daemon/httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "common/xalloc.h"
#include "daemon/log.h"
#include "platform/thread.h"

struct conn_info {
	char cn[256];
	char peer[64];
};

struct httpd {
	const struct api_ctx *api;
	struct httpd_limits lim;
	struct plat_mutex *m;
	struct plat_cond *done; /* a worker ended */
	unsigned workers;	/* running; under m */
	struct httpd_mhd **mhds;
	size_t n_mhds, cap_mhds; /* under m */
};

struct httpd_mhd {
	struct httpd *h;
	struct MHD_Daemon *mhd;
	/* [1]: written by a worker that resumed a request; [0]: watched. */
	plat_sock wake[2];
	const char *adding_cn; /* during MHD_add_connection */
	bool selects;	       /* MHD polls with select(), not epoll */
};

/*
 * A chunked body over the limit: MHD 0.9.75 cannot queue a response
 * while a body is still arriving, so the rest is read and dropped to
 * answer 413 at its end, but not without bound.
 */
#define DISCARD_MAX (1024 * 1024)

/*
 * MHD's per-connection pool beyond the head limit. The pool holds the
 * head's text and a record of about 56 bytes per header field, then the
 * answer's header; MHD zeroes the whole pool after every request
 * (MHD_pool_reset), so its size is paid on each keep-alive request.
 * The listener answers a head over the limit or 100 fields itself; a
 * head at both limits needs 6.5 KiB of slack (6 KiB fails), measured
 * with test_limits' head-at-the-limits tests.
 */
#define POOL_SLACK 8192

struct req_ctx {
	char *body;
	size_t len, cap;
	size_t discarded; /* bytes dropped after the body went over */
	bool too_large;
	bool answered;
	uint64_t t0;
	/* A request handed to a worker: */
	struct httpd_mhd *m;
	struct MHD_Connection *conn;
	struct api_request req;
	struct api_call call; /* admitted on the loop's thread */
	/* The caller's identity from admission, then the handler's answer: */
	struct api_response res;
	bool ready; /* res is the worker's answer, to be sent */
};

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
	      enum MHD_ConnectionNotificationCode what)
{
	struct httpd_mhd *m = cls;
	const union MHD_ConnectionInfo *ai;
	struct conn_info *ci;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		free(*socket_ctx);
		*socket_ctx = NULL;
		return;
	}
	ci = xcalloc(1, sizeof(*ci));
	/* Called from within MHD_add_connection: see httpd_add. */
	snprintf(ci->cn, sizeof(ci->cn), "%s",
		 m->adding_cn ? m->adding_cn : "");
	ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ai != NULL)
		plat_sockaddr_text(ai->client_addr, ci->peer, sizeof(ci->peer));
	*socket_ctx = ci;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *rc = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (rc == NULL)
		return;
	free(rc->body);
	free(rc);
	*con_cls = NULL;
}

static const struct conn_info *
conn_info(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *i;

	i = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i != NULL ? i->socket_context : NULL;
}

static enum MHD_Result
send_response(struct MHD_Connection *conn, struct api_response *res, bool close)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(res->body_len, res->body,
					    MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		return MHD_NO;
	res->body = NULL; /* MHD frees it */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				res->content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (res->allow[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
	if (res->www_authenticate)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"wsusdiag\"");
	/* Whatever of the request is still unread is not worth reading. */
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ok = MHD_queue_response(conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* The request as the API sees it; valid until the request completes. */
static void
make_request(struct MHD_Connection *conn, const char *url, const char *method,
	     struct req_ctx *rc)
{
	const struct conn_info *ci = conn_info(conn);
	struct api_request *req = &rc->req;

	req->method = method;
	req->path = url;
	req->authorization = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req->content_type = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req->body = rc->body;
	req->body_len = rc->len;
	req->body_too_large = rc->too_large;
	req->peer = ci ? ci->peer : "";
	req->cert_cn = ci && ci->cn[0] ? ci->cn : NULL;
}

/* Send rc->res (and log the request). */
static enum MHD_Result
send_answer(struct MHD_Connection *conn, struct req_ctx *rc)
{
	struct api_response *res = &rc->res;
	enum MHD_Result ok;

	rc->answered = true;
	ok = send_response(conn, res, rc->too_large);
	log_access("%s %s %s %d %llums %s", rc->req.peer, rc->req.method,
		   rc->req.path, res->status,
		   (unsigned long long)(plat_now_ms() - rc->t0),
		   res->identity[0] ? res->identity : "-");
	api_response_clear(res);
	return ok;
}

/* The loop runs MHD once it has read this: a full pair is woken already. */
static void
wake(struct httpd_mhd *m)
{
	(void)plat_send(m->wake[1], "w", 1);
}

/*
 * Run a suspended, admitted request's handler and have its loop's MHD
 * send the answer. MHD may complete the request and free rc once it is
 * resumed.
 */
static void
serve_suspended(struct req_ctx *rc)
{
	struct httpd_mhd *m = rc->m;

	api_run(m->h->api, &rc->req, &rc->call, &rc->res);
	rc->ready = true;
	MHD_resume_connection(rc->conn);
	wake(m);
}

static void
worker_main(void *arg)
{
	struct req_ctx *rc = arg;
	struct httpd *h = rc->m->h;

	serve_suspended(rc);
	plat_mutex_lock(h->m);
	h->workers--;
	plat_cond_broadcast(h->done);
	plat_mutex_unlock(h->m);
}

/*
 * Off the loop's thread: suspended until the worker has the answer,
 * then on_request sends it. Without a thread to spare, the answer is
 * made here, the same way, and the loop's other connections wait.
 */
static void
hand_to_worker(struct httpd_mhd *m, struct MHD_Connection *conn,
	       struct req_ctx *rc)
{
	struct httpd *h = m->h;

	rc->m = m;
	rc->conn = conn;
	MHD_suspend_connection(conn);
	plat_mutex_lock(h->m);
	h->workers++;
	plat_mutex_unlock(h->m);
	if (plat_thread_detached(worker_main, rc) == 0)
		return;
	plat_mutex_lock(h->m);
	h->workers--;
	plat_mutex_unlock(h->m);
	log_warnx("%s %s %s: no worker thread; answered on the loop's thread",
		  rc->req.peer, rc->req.method, rc->req.path);
	serve_suspended(rc);
}

static enum MHD_Result
answer(struct httpd_mhd *m, struct MHD_Connection *conn, const char *url,
       const char *method, struct req_ctx *rc)
{
	const struct api_ctx *api = m->h->api;

	make_request(conn, url, method, rc);
	if (!api_admit(api, &rc->req, &rc->call, &rc->res))
		return send_answer(conn, rc);
	if (api_call_blocks(&rc->call)) {
		hand_to_worker(m, conn, rc);
		return MHD_YES;
	}
	api_run(api, &rc->req, &rc->call, &rc->res);
	return send_answer(conn, rc);
}

/* A declared length over the limit is refused before the body is read. */
static bool
declared_too_large(struct httpd *h, struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl != NULL && strtoull(cl, NULL, 10) > h->lim.body_bytes;
}

/*
 * Keep a piece of the body, or drop it once the body is over the limit;
 * false when so much was dropped that the connection is not worth
 * keeping for the 413.
 */
static bool
take_body(struct httpd *h, struct req_ctx *rc, const char *upload, size_t n)
{
	if (!rc->too_large && rc->len + n <= h->lim.body_bytes) {
		rc->body = xgrow(rc->body, &rc->cap, rc->len + n, 1);
		memcpy(rc->body + rc->len, upload, n);
		rc->len += n;
		return true;
	}
	rc->too_large = true;
	rc->discarded += n;
	return rc->discarded <= DISCARD_MAX;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload,
	   size_t *upload_size, void **con_cls)
{
	struct httpd_mhd *m = cls;
	struct httpd *h = m->h;
	struct req_ctx *rc = *con_cls;

	(void)version;
	if (rc == NULL) {
		rc = xcalloc(1, sizeof(*rc));
		rc->t0 = plat_now_ms();
		*con_cls = rc;
		if (!declared_too_large(h, conn))
			return MHD_YES;
		rc->too_large = true;
		return answer(m, conn, url, method, rc);
	}
	if (rc->ready) {
		rc->ready = false;
		return send_answer(conn, rc);
	}
	if (rc->answered) {
		*upload_size = 0; /* the connection closes after the answer */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (take_body(h, rc, upload, n))
			return MHD_YES;
		log_info("%s %s %s: the body goes on %d bytes past the limit; "
			 "closed",
			 conn_info(conn) ? conn_info(conn)->peer : "", method,
			 url, DISCARD_MAX);
		return MHD_NO;
	}
	return answer(m, conn, url, method, rc);
}

struct httpd *
httpd_new(const struct api_ctx *api, const struct httpd_limits *lim)
{
	struct httpd *h = xcalloc(1, sizeof(*h));

	h->api = api;
	h->lim = *lim;
	h->m = plat_mutex_new();
	h->done = plat_cond_new();
	return h;
}

/*
 * MHD 0.9.75 driven from outside polls with epoll where it has it;
 * elsewhere (Windows) it can only select(), over an fd_set its Windows
 * build sizes for 2048 sockets, its own wake-up socket among them. A
 * connection over that is refused at MHD_add_connection (the listener
 * says so) instead of failing every select.
 */
static unsigned
mhd_connection_limit(const struct httpd_limits *lim, bool selects)
{
	unsigned n = lim->connections * 2u;

	return selects && n > 2000 ? 2000 : n;
}

static void
mhd_free(struct httpd_mhd *m)
{
	if (m->mhd != NULL)
		MHD_stop_daemon(m->mhd);
	plat_close_sock(m->wake[0]);
	plat_close_sock(m->wake[1]);
	free(m);
}

struct httpd_mhd *
httpd_mhd_new(struct httpd *h, char *err, size_t errlen)
{
	struct httpd_mhd *m = xcalloc(1, sizeof(*m));
	const struct httpd_limits *lim = &h->lim;

	m->h = h;
	m->wake[0] = m->wake[1] = PLAT_SOCK_INVALID;
	if (plat_sock_pair(m->wake) != 0 ||
	    plat_set_nonblock(m->wake[1]) != 0) {
		snprintf(err, errlen, "socket pair: %s", plat_sock_strerror());
		goto fail;
	}
	/*
	 * The listener enforces the connection limit. MHD's, twice as
	 * large, is only a backstop: a connection the listener has let go
	 * can still be closing inside MHD when the next one arrives.
	 */
	m->selects = MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES;
	m->mhd = MHD_start_daemon(
	    (m->selects ? 0 : MHD_USE_EPOLL) | MHD_USE_NO_LISTEN_SOCKET |
		MHD_ALLOW_SUSPEND_RESUME,
	    0, NULL, NULL, on_request, m, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)lim->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
	    mhd_connection_limit(lim, m->selects),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, lim->head_bytes + POOL_SLACK,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_END);
	if (m->mhd == NULL) {
		snprintf(err, errlen, "libmicrohttpd did not start");
		goto fail;
	}
	plat_mutex_lock(h->m);
	h->mhds = xgrow(h->mhds, &h->cap_mhds, h->n_mhds, sizeof(*h->mhds));
	h->mhds[h->n_mhds++] = m;
	plat_mutex_unlock(h->m);
	return m;
fail:
	mhd_free(m);
	return NULL;
}

int
httpd_add(struct httpd_mhd *m, plat_sock fd, const void *peer, uint32_t peerlen,
	  const char *cn)
{
	enum MHD_Result ok;

	/*
	 * Without a thread of its own, MHD announces the connection
	 * (on_connection) before MHD_add_connection returns.
	 */
	m->adding_cn = cn;
	ok = MHD_add_connection(m->mhd, (MHD_socket)fd, peer,
				(socklen_t)peerlen);
	m->adding_cn = NULL;
	return ok == MHD_YES ? 0 : -1;
}

/*
 * With epoll, MHD writes an answer in the run that queued it, and a
 * connection with work left makes httpd_timeout_ms 0. With select()
 * (Windows), MHD 0.9.75 writes only to sockets that select() found
 * writable, and it asks only for those that had an answer queued
 * before the run: a second run writes what the first queued.
 */
void
httpd_run(struct httpd_mhd *m)
{
	MHD_run(m->mhd);
	if (m->selects)
		MHD_run(m->mhd);
}

int
httpd_timeout_ms(struct httpd_mhd *m)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(m->mhd, &t) != MHD_YES)
		return -1;
	return t < 60000 ? (int)t : 60000;
}

bool
httpd_misses_eof(const struct httpd_mhd *m)
{
	return !m->selects;
}

plat_sock
httpd_wake_sock(const struct httpd_mhd *m)
{
	return m->wake[0];
}

void
httpd_woken(struct httpd_mhd *m)
{
	char buf[64];

	while (plat_recv(m->wake[0], buf, sizeof(buf)) > 0)
		;
}

size_t
httpd_head_bytes(const struct httpd *h)
{
	return h->lim.head_bytes;
}

void
httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	/*
	 * The listener has drained, so every connection has closed; a
	 * worker may still be returning from its resume, or still be
	 * answering a request whose client left.
	 */
	plat_mutex_lock(h->m);
	while (h->workers > 0)
		plat_cond_wait_until(h->done, h->m, plat_now_ms() + 1000);
	plat_mutex_unlock(h->m);
	for (size_t i = 0; i < h->n_mhds; i++)
		mhd_free(h->mhds[i]);
	free(h->mhds);
	plat_cond_free(h->done);
	plat_mutex_free(h->m);
	free(h);
}
