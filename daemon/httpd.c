/*
 * httpd.c: libmicrohttpd behind the TLS listener. MHD never listens and
 * never sees TLS: the listener hands it one end of a socket pair per
 * connection with the real peer address (MHD_add_connection), and the
 * verified client-certificate CN, registered here by fd, becomes the
 * connection's socket context when MHD announces the connection.
 *
 * MHD runs a single thread of its own for all connections. A request
 * whose handler may wait (route.blocks: checks, actions, /report,
 * /version) is suspended and answered by a worker thread of its own,
 * then resumed, so that a service stop of thirty seconds delays nobody
 * else.
 */
#include "daemon/httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "common/xalloc.h"
#include "daemon/log.h"
#include "platform/thread.h"

struct pending {
	plat_sock fd;
	char cn[256];
};

struct conn_info {
	char cn[256];
	char peer[64];
};

struct httpd {
	struct MHD_Daemon *mhd;
	const struct api_ctx *api;
	size_t body_limit;
	size_t head_limit;
	struct plat_mutex *m;
	struct plat_cond *done; /* a worker ended */
	unsigned workers;	/* running; under m */
	struct pending *pending;
	size_t n_pending, cap_pending;
};

/*
 * A chunked body over the limit: MHD 0.9.75 cannot queue a response
 * while a body is still arriving, so the rest is read and dropped to
 * answer 413 at its end, but not without bound.
 */
#define DISCARD_MAX (1024 * 1024)

struct req_ctx {
	char *body;
	size_t len, cap;
	size_t discarded; /* bytes dropped after the body went over */
	bool too_large;
	bool answered;
	uint64_t t0;
	/* A request handed to a worker: */
	struct httpd *h;
	struct MHD_Connection *conn;
	struct api_request req;
	struct api_response res;
	bool ready; /* res is the worker's answer, to be sent */
};

/* Take the pending identity registered for fd, if any. */
static void
take_pending(struct httpd *h, plat_sock fd, char *cn, size_t cnlen)
{
	cn[0] = '\0';
	plat_mutex_lock(h->m);
	for (size_t i = 0; i < h->n_pending; i++) {
		if (h->pending[i].fd == fd) {
			snprintf(cn, cnlen, "%s", h->pending[i].cn);
			h->pending[i] = h->pending[--h->n_pending];
			break;
		}
	}
	plat_mutex_unlock(h->m);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
	      enum MHD_ConnectionNotificationCode what)
{
	struct httpd *h = cls;
	const union MHD_ConnectionInfo *fdi, *ai;
	struct conn_info *ci;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		free(*socket_ctx);
		*socket_ctx = NULL;
		return;
	}
	ci = xcalloc(1, sizeof(*ci));
	fdi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (fdi != NULL)
		take_pending(h, (plat_sock)fdi->connect_fd, ci->cn,
			     sizeof(ci->cn));
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
	log_info("%s %s %s %d %llums %s", rc->req.peer, rc->req.method,
		 rc->req.path, res->status,
		 (unsigned long long)(plat_now_ms() - rc->t0),
		 res->identity[0] ? res->identity : "-");
	api_response_clear(res);
	return ok;
}

/* Answer a suspended request and let MHD send the answer. */
static void
serve_suspended(struct req_ctx *rc)
{
	api_handle(rc->h->api, &rc->req, &rc->res);
	rc->ready = true;
	/* MHD may complete the request and free rc from here on. */
	MHD_resume_connection(rc->conn);
}

static void
worker_main(void *arg)
{
	struct req_ctx *rc = arg;
	struct httpd *h = rc->h;

	serve_suspended(rc);
	plat_mutex_lock(h->m);
	h->workers--;
	plat_cond_broadcast(h->done);
	plat_mutex_unlock(h->m);
}

/*
 * Off MHD's thread: suspended until the worker has the answer, then
 * on_request sends it. Without a thread to spare, the answer is made
 * here, the same way, and everyone else waits for it.
 */
static void
hand_to_worker(struct httpd *h, struct MHD_Connection *conn, struct req_ctx *rc)
{
	rc->h = h;
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
	log_warnx("%s %s %s: no worker thread; answered on the HTTP thread",
		  rc->req.peer, rc->req.method, rc->req.path);
	serve_suspended(rc);
}

static enum MHD_Result
answer(struct httpd *h, struct MHD_Connection *conn, const char *url,
       const char *method, struct req_ctx *rc)
{
	make_request(conn, url, method, rc);
	if (!rc->too_large && api_may_block(method, url)) {
		hand_to_worker(h, conn, rc);
		return MHD_YES;
	}
	api_handle(h->api, &rc->req, &rc->res);
	return send_answer(conn, rc);
}

/* A declared length over the limit is refused before the body is read. */
static bool
declared_too_large(struct httpd *h, struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl != NULL && strtoull(cl, NULL, 10) > h->body_limit;
}

/*
 * Keep a piece of the body, or drop it once the body is over the limit;
 * false when so much was dropped that the connection is not worth
 * keeping for the 413.
 */
static bool
take_body(struct httpd *h, struct req_ctx *rc, const char *upload, size_t n)
{
	if (!rc->too_large && rc->len + n <= h->body_limit) {
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
	struct httpd *h = cls;
	struct req_ctx *rc = *con_cls;

	(void)version;
	if (rc == NULL) {
		rc = xcalloc(1, sizeof(*rc));
		rc->t0 = plat_now_ms();
		*con_cls = rc;
		if (!declared_too_large(h, conn))
			return MHD_YES;
		rc->too_large = true;
		return answer(h, conn, url, method, rc);
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
	return answer(h, conn, url, method, rc);
}

struct httpd *
httpd_start(const struct api_ctx *api, const struct httpd_limits *lim,
	    char *err, size_t errlen)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD |
			 MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME;

	h->api = api;
	h->body_limit = lim->body_bytes;
	h->head_limit = lim->head_bytes;
	h->m = plat_mutex_new();
	h->done = plat_cond_new();
	/*
	 * The listener enforces the connection limit. MHD's, twice as
	 * large, is only a backstop: a connection the listener has let go
	 * can still be closing inside MHD when the next one arrives. So is
	 * the pool, twice the head limit: the listener answers a head over
	 * that limit (reqhead.h), and a field costs MHD's pool about 64
	 * bytes besides its text.
	 */
	h->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)lim->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)lim->connections * 2, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    lim->head_bytes * 2, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "libmicrohttpd did not start");
		plat_cond_free(h->done);
		plat_mutex_free(h->m);
		free(h);
		return NULL;
	}
	return h;
}

int
httpd_add(struct httpd *h, plat_sock fd, const void *peer, uint32_t peerlen,
	  const char *cn)
{
	plat_mutex_lock(h->m);
	h->pending = xgrow(h->pending, &h->cap_pending, h->n_pending,
			   sizeof(*h->pending));
	h->pending[h->n_pending].fd = fd;
	snprintf(h->pending[h->n_pending].cn,
		 sizeof(h->pending[h->n_pending].cn), "%s", cn ? cn : "");
	h->n_pending++;
	plat_mutex_unlock(h->m);
	if (MHD_add_connection(h->mhd, (MHD_socket)fd, peer,
			       (socklen_t)peerlen) == MHD_YES)
		return 0;
	/* MHD closed fd; forget the identity registered for it. */
	{
		char dummy[256];

		take_pending(h, fd, dummy, sizeof(dummy));
	}
	return -1;
}

size_t
httpd_head_bytes(const struct httpd *h)
{
	return h->head_limit;
}

void
httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	/*
	 * The listener has drained, so every connection has closed; a
	 * worker may still be returning from its resume.
	 */
	plat_mutex_lock(h->m);
	while (h->workers > 0)
		plat_cond_wait_until(h->done, h->m, plat_now_ms() + 1000);
	plat_mutex_unlock(h->m);
	MHD_stop_daemon(h->mhd);
	plat_cond_free(h->done);
	plat_mutex_free(h->m);
	free(h->pending);
	free(h);
}
