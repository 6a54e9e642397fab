/*
 * test_proxy_paths.c: the way BITS's requests take through proxies, end
 * to end on 127.0.0.1: the machine proxy of a simulated host picked by
 * proxy_for_url, then the host's probe through it to a tiny origin. A
 * real tinyproxy passes HEAD, GET and Range as the origin answers them;
 * a proxy that strips Content-Length (the article's Apache 2.0 case) or
 * Range changes what the probe sees exactly the way BITS would see it.
 */
#include "proxies/proxies.h"

#include <cjson/cJSON.h>

#include "checks/proxysel.h"
#include "fixture.h"
#include "platform/host.h"
#include "platform/probe.h"

#define BODY_LEN 1000

struct paths {
	struct px_server origin;
	struct host *h;
	char *proxy; /* what proxy_for_url chose */
	char *url;   /* the origin's file */
};

static void
setup(void)
{
	cr_assert_eq(plat_probe_global_init(), 0);
}

TestSuite(proxy_paths, .init = setup, .timeout = 60);

/* healthy.json whose machine proxy is 127.0.0.1:port. */
static struct host *
host_with_proxy(unsigned short port)
{
	cJSON *doc = fx_load_example("healthy.json"),
	      *p = cJSON_GetObjectItem(doc, "winhttp_proxy");
	char *proxy = xasprintf("127.0.0.1:%u", port);
	struct host *h;

	cr_assert_not_null(p);
	cJSON_ReplaceItemInObject(p, "proxy", cJSON_CreateString(proxy));
	h = fx_open_doc(doc);
	free(proxy);
	cJSON_Delete(doc);
	return h;
}

/* An origin, a host whose machine proxy listens on proxy_port, and the
 * proxy the update agent would take to the origin's file. */
static void
paths_open(struct paths *p, unsigned short proxy_port)
{
	cJSON *facts = cJSON_CreateObject();
	char *want = xasprintf("127.0.0.1:%u", proxy_port);

	px_origin_start(&p->origin, BODY_LEN);
	p->url = xasprintf("http://127.0.0.1:%u/selfupdate/wuident.cab",
			   p->origin.port);
	p->h = host_with_proxy(proxy_port);
	cr_assert_eq(proxy_for_url(p->h, p->url, &p->proxy, facts), HR_OK);
	cr_assert_str_eq(p->proxy, want);
	cr_assert_str_eq(
	    cJSON_GetObjectItem(facts, "effective_proxy")->valuestring, want);
	free(want);
	cJSON_Delete(facts);
}

static void
paths_close(struct paths *p)
{
	px_server_stop(&p->origin);
	host_close(p->h);
	free(p->proxy);
	free(p->url);
}

static hr_t
probe(struct paths *p, const char *method, const char *range,
      struct probe_result *r)
{
	struct probe_request req = {.method = method,
				    .url = p->url,
				    .range = range,
				    .proxy = p->proxy,
				    .timeout_ms = 5000};

	return p->h->ops->http_probe(p->h, &req, r);
}

/* The head of the last request the origin saw. */
static char *
origin_saw(struct paths *p)
{
	char *s;

	pthread_mutex_lock(&p->origin.lock);
	s = xstrdup(p->origin.last_request);
	pthread_mutex_unlock(&p->origin.lock);
	return s;
}

/* ---- through tinyproxy -----------------------------------------------------
 */

Test(proxy_paths, tinyproxy_passes_get_head_and_range)
{
	struct px_tinyproxy tp;
	struct probe_result r;
	struct paths p;
	char *seen;

	px_tinyproxy_start(&tp);
	paths_open(&p, tp.port);

	cr_assert_eq(probe(&p, "GET", NULL, &r), HR_OK, "%s",
		     r.detail != NULL ? r.detail : "");
	cr_assert_eq(r.http_status, 200);
	cr_assert_eq(r.body_bytes, BODY_LEN);
	cr_assert_eq(r.reached, PROBE_DONE);
	/* It went through the proxy: tinyproxy says so in Via. */
	seen = origin_saw(&p);
	cr_assert_not_null(strstr(seen, "GET /selfupdate/wuident.cab "), "%s",
			   seen);
	cr_assert_not_null(strcasestr(seen, "\r\nVia: "), "%s", seen);
	cr_assert_not_null(strstr(seen, "wsd-tinyproxy"), "%s", seen);
	free(seen);
	probe_result_clear(&r);

	cr_assert_eq(probe(&p, "HEAD", NULL, &r), HR_OK);
	cr_assert_eq(r.http_status, 200);
	cr_assert(r.has_content_length);
	cr_assert_eq(r.content_length, BODY_LEN);
	cr_assert_eq(r.body_bytes, 0);
	probe_result_clear(&r);

	cr_assert_eq(probe(&p, "GET", "bytes=0-99", &r), HR_OK);
	cr_assert_eq(r.http_status, 206);
	cr_assert_str_eq(r.content_range, "bytes 0-99/1000");
	cr_assert_eq(r.body_bytes, 100);
	probe_result_clear(&r);
	cr_assert_eq(p.origin.requests, 3);

	paths_close(&p);
	px_tinyproxy_stop(&tp);
}

Test(proxy_paths, stopped_tinyproxy_cannot_connect)
{
	struct px_tinyproxy tp;
	struct probe_result r;
	struct paths p;

	px_tinyproxy_start(&tp);
	paths_open(&p, tp.port);
	px_tinyproxy_kill(&tp);
	cr_assert_eq(probe(&p, "HEAD", NULL, &r), 0x80072EFDu);
	cr_assert_eq(p.origin.requests, 0);
	probe_result_clear(&r);
	paths_close(&p);
	px_tinyproxy_stop(&tp);
}

/* ---- through a proxy that strips headers -----------------------------------
 */

Test(proxy_paths, stripped_content_length)
{
	struct px_server strip;
	struct probe_result r;
	struct paths p;

	px_strip_start(&strip, PX_STRIP_CONTENT_LENGTH);
	paths_open(&p, strip.port);

	/* The origin sends Content-Length; BITS would see none: 0x80200011. */
	cr_assert_eq(probe(&p, "HEAD", NULL, &r), HR_OK, "%s",
		     r.detail != NULL ? r.detail : "");
	cr_assert_eq(r.http_status, 200);
	cr_assert(!r.has_content_length);
	probe_result_clear(&r);
	cr_assert_eq(p.origin.requests, 1);

	/* The body still arrives, delimited by the closed connection. */
	cr_assert_eq(probe(&p, "GET", NULL, &r), HR_OK);
	cr_assert_eq(r.http_status, 200);
	cr_assert(!r.has_content_length);
	cr_assert_eq(r.body_bytes, BODY_LEN);
	probe_result_clear(&r);

	paths_close(&p);
	px_server_stop(&strip);
}

Test(proxy_paths, stripped_range)
{
	struct px_server strip;
	struct probe_result r;
	struct paths p;
	char *seen;

	px_strip_start(&strip, PX_STRIP_RANGE);
	paths_open(&p, strip.port);

	/* BITS asks for 100 bytes and gets the file: 0x80200013. */
	cr_assert_eq(probe(&p, "GET", "bytes=0-99", &r), HR_OK, "%s",
		     r.detail != NULL ? r.detail : "");
	cr_assert_eq(r.http_status, 200);
	cr_assert_null(r.content_range);
	cr_assert_eq(r.body_bytes, BODY_LEN);
	seen = origin_saw(&p);
	cr_assert_null(strcasestr(seen, "\r\nRange:"), "%s", seen);
	free(seen);
	probe_result_clear(&r);

	/* HEAD is untouched by this one. */
	cr_assert_eq(probe(&p, "HEAD", NULL, &r), HR_OK);
	cr_assert(r.has_content_length);
	cr_assert_eq(r.content_length, BODY_LEN);
	probe_result_clear(&r);

	paths_close(&p);
	px_server_stop(&strip);
}

Test(proxy_paths, strip_proxy_is_otherwise_sound)
{
	struct px_server strip;
	struct probe_result r;
	struct paths p;

	/* The same relay without the fault: the test proxy itself is sound. */
	px_strip_start(&strip, PX_STRIP_CONTENT_LENGTH);
	paths_open(&p, strip.port);
	cr_assert_eq(probe(&p, "GET", "bytes=100-199", &r), HR_OK);
	cr_assert_eq(r.http_status, 206);
	cr_assert_str_eq(r.content_range, "bytes 100-199/1000");
	cr_assert_eq(r.body_bytes, 100);
	probe_result_clear(&r);
	paths_close(&p);
	px_server_stop(&strip);
}

/* ---- the bypass list decides
 * ------------------------------------------------- */

Test(proxy_paths, bypassed_origin_is_reached_directly)
{
	struct px_server origin;
	struct host *h = host_with_proxy(px_free_port());
	cJSON *facts = cJSON_CreateObject();
	struct probe_result r;
	char *proxy = (char *)"x", *url;
	struct probe_request req = {.method = "HEAD", .timeout_ms = 5000};

	px_origin_start(&origin, BODY_LEN);
	url = xasprintf("http://localhost:%u/iuident.cab", origin.port);
	/* healthy.json's bypass list is empty: the proxy (closed) is used. */
	cr_assert_eq(proxy_for_url(h, url, &proxy, facts), HR_OK);
	cr_assert_not_null(proxy);
	req.url = url;
	req.proxy = proxy;
	cr_assert_eq(h->ops->http_probe(h, &req, &r), 0x80072EFDu);
	probe_result_clear(&r);
	free(proxy);
	/* The same decision with "<local>": localhost has no dot. */
	cr_assert_eq(proxy_select("127.0.0.1:1", "<local>", url, &proxy, NULL),
		     HR_OK);
	cr_assert_null(proxy);
	req.proxy = proxy;
	cr_assert_eq(h->ops->http_probe(h, &req, &r), HR_OK);
	cr_assert_eq(r.http_status, 200);
	cr_assert(r.has_content_length);
	probe_result_clear(&r);
	cr_assert_eq(origin.requests, 1);
	px_server_stop(&origin);
	free(url);
	cJSON_Delete(facts);
	host_close(h);
}
