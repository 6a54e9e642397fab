/*
 * test_server_via_proxy.c: the server check on the simulated host with a
 * machine (WinHTTP) proxy, everything real on 127.0.0.1: the policy
 * points at nginx serving the WSUS files (tests/servers/), the host's
 * WinHTTP proxy at a real tinyproxy or at the proxy that strips headers
 * the way the article's Apache 2.0 proxies do (tests/proxies/). Each
 * scenario asserts the finding and code BITS would meet through that
 * proxy, and that the requests really took the proxy (or, bypassed,
 * did not).
 */
#include "proxies/proxies.h"

#include <cjson/cJSON.h>

#include "checks/registry.h"
#include "checks/result.h"
#include "fixture.h"
#include "platform/host.h"
#include "platform/probe.h"
#include "servers/servers.h"

#define HR_NAME_NOT_RESOLVED 0x80072EE7u
#define HR_CANNOT_CONNECT    0x80072EFDu
#define HR_MISSING_FILE_SIZE 0x80200011u
#define HR_NO_RANGE_SUPPORT  0x80200013u

#define WU_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"

/* Every probe gets this much; nothing here should come near it. */
#define BUDGET_MS 5000

static const char *const all_ids[] = {
    "server.url",     "server.resolve",	       "server.connect", "server.tls",
    "server.iuident", "server.content_length", "server.range",
};

#define N_IDS (sizeof(all_ids) / sizeof(all_ids[0]))

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(plat_probe_global_init(), 0);
}

TestSuite(server_via_proxy, .init = setup, .timeout = 120);

/* ---- nginx ------------------------------------------------------------- */

/* nginx needs a certificate for its HTTPS port; these tests use HTTP. */
struct nginx_run {
	char *certs;
	struct wsus_nginx *ngx;
	char *url; /* http://127.0.0.1:PORT */
};

static void
nginx_up(struct nginx_run *n)
{
	char err[1024] = "", *cert, *key;

	n->certs = wsus_certs_make(err, sizeof(err));
	cr_assert_not_null(n->certs, "test PKI: %s", err);
	cert = xasprintf("%s/good.crt", n->certs);
	key = xasprintf("%s/good.key", n->certs);
	n->ngx = wsus_nginx_start(cert, key, err, sizeof(err));
	cr_assert_not_null(n->ngx, "nginx: %s", err);
	n->url = xasprintf("http://127.0.0.1:%u", wsus_nginx_http_port(n->ngx));
	free(cert);
	free(key);
}

static void
nginx_down(struct nginx_run *n)
{
	wsus_nginx_stop(n->ngx);
	wsus_certs_remove(n->certs);
	free(n->url);
}

/* ---- the simulated host ------------------------------------------------- */

/* wsus-local.json: policy at url, machine proxy and bypass list as
 * given (bypass NULL: none). */
static cJSON *
host_doc(const char *url, const char *proxy, const char *bypass)
{
	cJSON *doc = fx_load_example("wsus-local.json");
	cJSON *key =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), WU_KEY);
	cJSON *p = cJSON_GetObjectItem(doc, "winhttp_proxy");

	cr_assert_not_null(key, "wsus-local.json has no %s", WU_KEY);
	cr_assert_not_null(p, "wsus-local.json has no winhttp_proxy");
	fx_set_str(key, "WUServer", url);
	fx_set_str(key, "WUStatusServer", url);
	fx_set_str(p, "proxy", proxy);
	if (bypass != NULL)
		fx_set_str(p, "bypass", bypass);
	return doc;
}

/* The server check on a host made from doc. */
static void
run_doc(const cJSON *doc, struct check_result *r)
{
	struct check_settings st = {.probe_timeout_ms = BUDGET_MS,
				    .service_wait_ms = 300};
	struct check_ctx ctx = {.host = fx_open_doc(doc), .settings = &st};

	check_run(&check_server, &ctx, r);
	host_close(ctx.host);
}

/* The check with the policy at url and this machine proxy. */
static void
run_via(const char *url, const char *proxy, const char *bypass,
	struct check_result *r)
{
	cJSON *doc = host_doc(url, proxy, bypass);

	run_doc(doc, r);
	cJSON_Delete(doc);
}

/* "127.0.0.1:PORT", as proxy_for_url formats the effective proxy. */
static char *
loopback(unsigned short port)
{
	return xasprintf("127.0.0.1:%u", port);
}

/* Requests a px_server has seen (its thread counts them). */
static unsigned long
requests(struct px_server *s)
{
	unsigned long n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- assertions -------------------------------------------------------- */

static void
assert_shape(const struct check_result *r)
{
	cr_assert_eq(r->n_findings, N_IDS, "%zu findings: %s", r->n_findings,
		     r->summary);
	for (size_t i = 0; i < N_IDS; i++)
		cr_assert_str_eq(r->findings[i].id, all_ids[i]);
}

static void
assert_finding(const struct check_result *r, const char *id, enum status st,
	       hr_t code)
{
	const struct finding *f = fx_find(r, id);

	cr_assert_eq(f->status, st, "%s is %s, not %s: %s", id,
		     status_name(f->status), status_name(st), f->message);
	cr_assert_eq(f->error, code, "%s: error 0x%08X, not 0x%08X: %s", id,
		     f->error, code, f->message);
}

/* Each finding's status in the order of all_ids; tls is skipped (http). */
static void
assert_statuses(const struct check_result *r, const enum status want[N_IDS])
{
	assert_shape(r);
	for (size_t i = 0; i < N_IDS; i++)
		cr_assert_eq(r->findings[i].status, want[i], "%s is %s: %s",
			     all_ids[i], status_name(r->findings[i].status),
			     r->findings[i].message);
}

static void
assert_all_pass(const struct check_result *r)
{
	static const enum status want[N_IDS] = {
	    ST_PASS, ST_PASS, ST_PASS, ST_SKIP, ST_PASS, ST_PASS, ST_PASS,
	};

	assert_statuses(r, want);
	for (size_t i = 0; i < N_IDS; i++)
		cr_assert_eq(r->findings[i].error, 0, "%s: %s", all_ids[i],
			     r->findings[i].message);
	cr_assert_eq(r->status, ST_PASS, "%s", r->summary);
	cr_assert_str_eq(fx_find(r, "server.content_length")->observed,
			 "Content-Length: 3000");
	cr_assert_str_eq(fx_find(r, "server.range")->observed,
			 "bytes 0-99/3000");
}

/* facts.effective_proxy is proxy (NULL: null) and facts.bypassed by. */
static void
assert_route(const struct check_result *r, const char *proxy, bool by)
{
	const cJSON *p = fx_fact(r, "effective_proxy");

	if (proxy == NULL)
		cr_assert(cJSON_IsNull(p), "effective_proxy %s",
			  cJSON_PrintUnformatted(p));
	else
		cr_assert_str_eq(cJSON_GetStringValue(p), proxy);
	cr_assert(cJSON_IsBool(fx_fact(r, "bypassed")));
	cr_assert_eq(cJSON_IsTrue(fx_fact(r, "bypassed")), by);
}

static void
assert_contains(const char *s, const char *part)
{
	cr_assert(s != NULL && strstr(s, part) != NULL, "\"%s\" not in \"%s\"",
		  part, s != NULL ? s : "(null)");
}

/* ---- through a real proxy: tinyproxy ------------------------------------ */

/*
 * nginx through tinyproxy: every finding passes, the facts name the
 * proxy, and the connection findings are about the proxy. Then the same
 * host with tinyproxy stopped cannot connect: the pass went through it.
 */
Test(server_via_proxy, tinyproxy_to_nginx_passes)
{
	struct px_tinyproxy tp;
	struct nginx_run n;
	struct check_result r;
	char *proxy, *msg;

	nginx_up(&n);
	px_tinyproxy_start(&tp);
	proxy = loopback(tp.port);
	run_via(n.url, proxy, NULL, &r);
	assert_all_pass(&r);
	assert_route(&r, proxy, false);
	msg = xasprintf("connected to the proxy 127.0.0.1 port %u", tp.port);
	cr_assert_str_eq(fx_find(&r, "server.connect")->message, msg);
	assert_contains(fx_find(&r, "server.resolve")->message, "the proxy ");
	cr_assert_str_eq(cJSON_GetStringValue(fx_fact(&r, "resolved_name")),
			 "127.0.0.1");
	cr_assert_eq(cJSON_GetArraySize(fx_fact(&r, "probes")), 4);
	result_clear(&r);

	px_tinyproxy_kill(&tp);
	run_via(n.url, proxy, NULL, &r);
	assert_shape(&r);
	assert_finding(&r, "server.connect", ST_FAIL, HR_CANNOT_CONNECT);
	assert_contains(fx_find(&r, "server.connect")->message, "the proxy ");
	assert_route(&r, proxy, false);
	result_clear(&r);

	px_tinyproxy_stop(&tp);
	nginx_down(&n);
	free(proxy);
	free(msg);
}

/* ---- through the proxy that strips headers ------------------------------ */

/* The article's Apache 2.0 case: HEAD loses Content-Length on the way. */
Test(server_via_proxy, proxy_stripping_content_length_fails_0x80200011)
{
	static const enum status want[N_IDS] = {
	    ST_PASS, ST_PASS, ST_PASS, ST_SKIP, ST_PASS, ST_FAIL, ST_PASS,
	};
	struct px_server strip;
	struct nginx_run n;
	struct check_result r;
	const struct finding *f;
	char *proxy;

	nginx_up(&n);
	px_strip_start(&strip, PX_STRIP_CONTENT_LENGTH);
	proxy = loopback(strip.port);
	run_via(n.url, proxy, NULL, &r);
	/* GET, GET, HEAD, Range: all four through the proxy. */
	cr_assert_eq(requests(&strip), 4);
	assert_statuses(&r, want);
	assert_finding(&r, "server.content_length", ST_FAIL,
		       HR_MISSING_FILE_SIZE);
	f = fx_find(&r, "server.content_length");
	cr_assert_str_eq(f->observed, "no Content-Length");
	cr_assert_str_eq(f->expected, "200 OK with Content-Length");
	assert_contains(f->remedy_text, "Apache 2.0");
	/* The rest of the way is sound: the files and the range arrive. */
	cr_assert_str_eq(fx_find(&r, "server.range")->observed,
			 "bytes 0-99/3000");
	cr_assert_eq(r.status, ST_FAIL, "%s", r.summary);
	assert_route(&r, proxy, false);
	result_clear(&r);
	px_server_stop(&strip);
	nginx_down(&n);
	free(proxy);
}

/* A proxy that drops Range: the whole file comes back with a 200. */
Test(server_via_proxy, proxy_dropping_range_fails_0x80200013)
{
	static const enum status want[N_IDS] = {
	    ST_PASS, ST_PASS, ST_PASS, ST_SKIP, ST_PASS, ST_PASS, ST_FAIL,
	};
	struct px_server strip;
	struct nginx_run n;
	struct check_result r;
	const struct finding *f;
	char *proxy, *seen;

	nginx_up(&n);
	px_strip_start(&strip, PX_STRIP_RANGE);
	proxy = loopback(strip.port);
	run_via(n.url, proxy, NULL, &r);
	cr_assert_eq(requests(&strip), 4);
	/* The last request the proxy relayed was the Range GET; it did
	 * carry the header to the proxy. */
	pthread_mutex_lock(&strip.lock);
	seen = xstrdup(strip.last_request);
	pthread_mutex_unlock(&strip.lock);
	assert_contains(seen, "Range: bytes=0-99");
	assert_statuses(&r, want);
	assert_finding(&r, "server.range", ST_FAIL, HR_NO_RANGE_SUPPORT);
	f = fx_find(&r, "server.range");
	cr_assert_str_eq(f->observed, "200 OK");
	cr_assert_str_eq(f->expected,
			 "206 with Content-Range: bytes 0-99/3000");
	assert_contains(f->message, "was ignored: 200 with the whole file "
				    "(3000 bytes)");
	cr_assert_str_eq(fx_find(&r, "server.content_length")->observed,
			 "Content-Length: 3000");
	cr_assert_eq(r.status, ST_FAIL, "%s", r.summary);
	assert_route(&r, proxy, false);
	result_clear(&r);
	px_server_stop(&strip);
	nginx_down(&n);
	free(proxy);
	free(seen);
}

/* ---- a proxy that does not resolve -------------------------------------- */

/*
 * The WinHTTP error of a proxy name that does not resolve, reported on
 * server.resolve naming the proxy: the WSUS server is never asked.
 */
Test(server_via_proxy, unresolvable_proxy_fails_resolve_0x80072EE7)
{
	static const enum status want[N_IDS] = {
	    ST_PASS, ST_FAIL, ST_SKIP, ST_SKIP, ST_SKIP, ST_SKIP, ST_SKIP,
	};
	struct nginx_run n;
	struct check_result r;
	const struct finding *f;

	nginx_up(&n);
	run_via(n.url, "wsus-proxy.invalid:3128", NULL, &r);
	assert_statuses(&r, want);
	assert_finding(&r, "server.resolve", ST_FAIL, HR_NAME_NOT_RESOLVED);
	f = fx_find(&r, "server.resolve");
	assert_contains(f->message, "the proxy wsus-proxy.invalid does not "
				    "resolve");
	cr_assert_str_eq(f->observed, "no address");
	assert_contains(f->remedy_text, "netsh winhttp set proxy");
	cr_assert_str_eq(fx_find(&r, "server.connect")->message,
			 "not probed: the proxy wsus-proxy.invalid does not "
			 "resolve");
	assert_route(&r, "wsus-proxy.invalid:3128", false);
	cr_assert_str_eq(cJSON_GetStringValue(fx_fact(&r, "resolved_name")),
			 "wsus-proxy.invalid");
	cr_assert(cJSON_IsNull(fx_fact(&r, "resolved_address")));
	cr_assert_eq(cJSON_GetArraySize(fx_fact(&r, "probes")), 1);
	cr_assert_eq(r.status, ST_FAIL);
	result_clear(&r);
	nginx_down(&n);
}

/* ---- the bypass list ------------------------------------------------------
 */

/*
 * The machine proxy is the one that drops Range, so a request through it
 * would fail server.range and be counted. With the WSUS host in the
 * bypass list (in the forms WinHTTP takes) the check goes direct and
 * passes; an entry for another port does not bypass.
 */
Test(server_via_proxy, bypass_list_sends_the_wsus_server_direct)
{
	struct px_server strip;
	struct nginx_run n;
	struct check_result r;
	char *proxy, *bypass[3], *other, *direct;
	unsigned short port;

	nginx_up(&n);
	port = wsus_nginx_http_port(n.ngx);
	direct = xasprintf("connected to 127.0.0.1 port %u", port);
	px_strip_start(&strip, PX_STRIP_RANGE);
	proxy = loopback(strip.port);
	bypass[0] = xstrdup("<local>;127.0.0.1");
	bypass[1] = xstrdup("*.corp.example 127.0.0.*");
	bypass[2] = xasprintf("wsus.corp.example;http://127.0.0.1:%u", port);
	for (size_t i = 0; i < 3; i++) {
		run_via(n.url, proxy, bypass[i], &r);
		cr_assert_eq(requests(&strip), 0, "bypass \"%s\"", bypass[i]);
		assert_all_pass(&r);
		assert_route(&r, NULL, true);
		cr_assert_str_eq(fx_find(&r, "server.connect")->message,
				 direct);
		result_clear(&r);
		free(bypass[i]);
	}

	/* The same host on another port is not this server. */
	other = xasprintf("127.0.0.1:%u", port == 65535 ? 1 : port + 1);
	run_via(n.url, proxy, other, &r);
	cr_assert_eq(requests(&strip), 4);
	assert_finding(&r, "server.range", ST_FAIL, HR_NO_RANGE_SUPPORT);
	assert_route(&r, proxy, false);
	result_clear(&r);

	px_server_stop(&strip);
	nginx_down(&n);
	free(proxy);
	free(other);
	free(direct);
}
