/*
 * test_check_server.c: the server check on the simulated host against
 * real servers on 127.0.0.1 (tests/servers/): nginx serving the WSUS
 * files over HTTP and HTTPS with the test CA, a misbehaving server with
 * one fault at a time, a closed port, bad certificates and a name that
 * does not resolve. The policy (and the proxy) come from a temporary
 * copy of examples/hosts/wsus-local.json pointing at the server's port;
 * the network is real.
 */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/probe.h"
#include "servers/servers.h"

#define HR_SUS_SERVER_NOT_SET 0x80244011u
#define HR_TIMEOUT	      0x80072EE2u
#define HR_INVALID_URL	      0x80072EE5u
#define HR_UNRECOGNIZED	      0x80072EE6u
#define HR_NAME_NOT_RESOLVED  0x80072EE7u
#define HR_CANNOT_CONNECT     0x80072EFDu
#define HR_CERT_DATE_INVALID  0x80072F05u
#define HR_CERT_CN_INVALID    0x80072F06u
#define HR_INVALID_CA	      0x80072F0Du
#define HR_ACCESS_DENIED      0x80070005u
#define HR_HTTP_403	      0x80190193u
#define HR_HTTP_404	      0x80190194u
#define HR_HTTP_500	      0x801901F4u
#define HR_MISSING_FILE_SIZE  0x80200011u
#define HR_NO_RANGE_SUPPORT   0x80200013u

#define WU_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"

static const char *const all_ids[] = {
    "server.url",     "server.resolve",	       "server.connect", "server.tls",
    "server.iuident", "server.content_length", "server.range",
};

#define N_IDS (sizeof(all_ids) / sizeof(all_ids[0]))

static void
setup(void)
{
	cr_assert_eq(plat_probe_global_init(), 0);
}

TestSuite(check_server, .init = setup, .timeout = 120);

/* ---- hosts ------------------------------------------------------------- */

/* wsus-local.json with its policy pointing at url. */
static cJSON *
local_doc(const char *url)
{
	cJSON *doc = fx_load_example("wsus-local.json");
	cJSON *key =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), WU_KEY);

	cr_assert_not_null(key, "wsus-local.json has no %s", WU_KEY);
	fx_set_str(key, "WUServer", url);
	fx_set_str(key, "WUStatusServer", url);
	return doc;
}

/* Trust ca_file as the simulated machine's store. */
static void
set_trust(cJSON *doc, const char *ca_file)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "ca_file", ca_file);
	cJSON_DeleteItemFromObject(doc, "trust");
	cJSON_AddItemToObject(doc, "trust", t);
}

static void
set_proxy(cJSON *doc, const char *proxy, const char *bypass)
{
	cJSON *p = cJSON_GetObjectItem(doc, "winhttp_proxy");

	cr_assert_not_null(p);
	fx_set_str(p, "proxy", proxy);
	if (bypass != NULL)
		fx_set_str(p, "bypass", bypass);
}

static void
run_check(struct host *h, uint32_t timeout_ms, struct check_result *r)
{
	struct check_settings st = {.probe_timeout_ms = timeout_ms,
				    .service_wait_ms = 300};
	struct check_ctx ctx = {.host = h, .settings = &st};

	check_run(&check_server, &ctx, r);
}

static void
run_doc(const cJSON *doc, uint32_t timeout_ms, struct check_result *r)
{
	struct host *h = fx_open_doc(doc);

	run_check(h, timeout_ms, r);
	host_close(h);
}

/* The check on wsus-local.json pointing at url, trusting ca_file. */
static void
run_url(const char *url, const char *ca_file, struct check_result *r)
{
	cJSON *doc = local_doc(url);

	if (ca_file != NULL)
		set_trust(doc, ca_file);
	run_doc(doc, 5000, r);
	cJSON_Delete(doc);
}

/* ---- assertions -------------------------------------------------------- */

/* Every finding once, in the order of diagnosis. */
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

/* The one failing finding, the ones before it pass (tls may be skip on
 * http), the ones after it are skipped. */
static void
assert_fails_at(const struct check_result *r, const char *id, hr_t code)
{
	bool after = false;

	assert_shape(r);
	cr_assert_eq(r->status, ST_FAIL, "%s", r->summary);
	for (size_t i = 0; i < N_IDS; i++) {
		const struct finding *f = &r->findings[i];

		if (strcmp(f->id, id) == 0) {
			assert_finding(r, id, ST_FAIL, code);
			after = true;
		} else if (after) {
			cr_assert_eq(f->status, ST_SKIP, "%s: %s", f->id,
				     f->message);
		} else if (strcmp(f->id, "server.tls") != 0) {
			cr_assert_eq(f->status, ST_PASS, "%s: %s", f->id,
				     f->message);
		}
	}
}

/* Everything passes; tls is skipped for http. */
static void
assert_all_pass(const struct check_result *r, bool https)
{
	assert_shape(r);
	for (size_t i = 0; i < N_IDS; i++) {
		const struct finding *f = &r->findings[i];
		enum status want = !https && strcmp(f->id, "server.tls") == 0
				       ? ST_SKIP
				       : ST_PASS;

		cr_assert_eq(f->status, want, "%s is %s: %s", f->id,
			     status_name(f->status), f->message);
		cr_assert_eq(f->error, 0, "%s: %s", f->id, f->message);
	}
	cr_assert_eq(r->status, ST_PASS, "%s", r->summary);
}

static const cJSON *
timing(const struct check_result *r, const char *phase)
{
	const cJSON *t = fx_fact(r, "timing_ms");

	cr_assert(cJSON_IsObject(t));
	return cJSON_GetObjectItemCaseSensitive(t, phase);
}

/* ---- servers ----------------------------------------------------------- */

/* The test PKI and nginx serving with one of its certificates. */
struct nginx_run {
	char *certs;
	struct wsus_nginx *ngx;
	char *ca, *cert, *key;
};

static void
nginx_up(struct nginx_run *n, const char *cert_name)
{
	char err[1024] = "";

	n->certs = wsus_certs_make(err, sizeof(err));
	cr_assert_not_null(n->certs, "test PKI: %s", err);
	n->ca = xasprintf("%s/ca.crt", n->certs);
	n->cert = xasprintf("%s/%s.crt", n->certs, cert_name);
	n->key = xasprintf("%s/%s.key", n->certs, cert_name);
	n->ngx = wsus_nginx_start(n->cert, n->key, err, sizeof(err));
	cr_assert_not_null(n->ngx, "nginx: %s", err);
}

static void
nginx_down(struct nginx_run *n)
{
	wsus_nginx_stop(n->ngx);
	wsus_certs_remove(n->certs);
	free(n->ca);
	free(n->cert);
	free(n->key);
}

static char *
nginx_url(const struct nginx_run *n, bool https)
{
	return https ? xasprintf("https://127.0.0.1:%u",
				 wsus_nginx_https_port(n->ngx))
		     : xasprintf("http://127.0.0.1:%u",
				 wsus_nginx_http_port(n->ngx));
}

/* The check against nginx with the certificate cert_name; ca: trust the
 * test CA. */
static void
run_nginx(const char *cert_name, bool https, bool ca, struct check_result *r)
{
	struct nginx_run n;
	char *url;

	nginx_up(&n, cert_name);
	url = nginx_url(&n, https);
	run_url(url, ca ? n.ca : NULL, r);
	free(url);
	nginx_down(&n);
}

static struct badsrv *
bad_up(enum badsrv_fault fault, int status)
{
	char err[256] = "";
	struct badsrv *s = badsrv_start(fault, status, err, sizeof(err));

	cr_assert_not_null(s, "badsrv: %s", err);
	return s;
}

/* The check against the misbehaving server; returns its request count. */
static unsigned
run_bad(enum badsrv_fault fault, int status, uint32_t timeout_ms,
	struct check_result *r)
{
	struct badsrv *s = bad_up(fault, status);
	char *url = xasprintf("http://127.0.0.1:%u", badsrv_port(s));
	cJSON *doc = local_doc(url);
	unsigned n;

	run_doc(doc, timeout_ms, r);
	n = badsrv_requests(s);
	badsrv_stop(s);
	cJSON_Delete(doc);
	free(url);
	return n;
}

/* ---- descriptor and the policy ----------------------------------------- */

Test(check_server, descriptor)
{
	cr_assert_eq(check_find("server"), &check_server);
	cr_assert_str_eq(check_server.title, "WSUS server reachability");
	cr_assert_str_eq(check_server.seed_section,
			 "Make sure the WSUS server is reachable from the "
			 "client");
	/* Well above the default probe budget of 5000 ms. */
	cr_assert_eq(check_server.time_limit_ms, 30000);
	/* The articles' order: the network after the services. */
	for (size_t i = 0; i < check_count; i++) {
		if (check_table[i] != &check_server)
			continue;
		cr_assert_gt(i, 0);
		cr_assert_str_eq(check_table[i - 1]->id, "wuauserv");
		return;
	}
	cr_assert_fail("server is not in check_table");
}

Test(check_server, no_policy_fails_url)
{
	char *path = fx_example_path("no-wsus-policy.json");
	struct host *h = fx_open_file(path);
	struct check_result r;
	const struct finding *f;

	run_check(h, 5000, &r);
	assert_fails_at(&r, "server.url", HR_SUS_SERVER_NOT_SET);
	f = fx_find(&r, "server.url");
	cr_assert(strstr(f->message, "policy check") != NULL, "%s", f->message);
	cr_assert_not_null(f->remedy_text);
	cr_assert(cJSON_IsNull(fx_fact(&r, "url")));
	cr_assert_null(cJSON_GetObjectItem(r.facts, "probes"));
	result_clear(&r);
	host_close(h);
	free(path);
}

Test(check_server, url_without_scheme)
{
	char *path = fx_example_path("wsus-policy-bad-url.json");
	struct host *h = fx_open_file(path);
	struct check_result r;

	run_check(h, 5000, &r);
	assert_fails_at(&r, "server.url", HR_UNRECOGNIZED);
	cr_assert_str_eq(fx_find(&r, "server.url")->observed,
			 "wsus.corp.example:8530");
	result_clear(&r);
	host_close(h);
	free(path);
}

/* The agent adds its own paths: a path in WUServer is not a server URL. */
Test(check_server, url_with_a_path)
{
	struct check_result r;

	run_url("http://127.0.0.1:8530/ClientWebService", NULL, &r);
	assert_fails_at(&r, "server.url", HR_INVALID_URL);
	result_clear(&r);
}

Test(check_server, unreadable_policy_is_an_error)
{
	cJSON *doc = local_doc("http://127.0.0.1:8530");
	cJSON *fault = cJSON_CreateObject();
	struct check_result r;

	cJSON_AddNumberToObject(fault, "registry_read", 5);
	cJSON_DeleteItemFromObject(doc, "fault");
	cJSON_AddItemToObject(doc, "fault", fault);
	run_doc(doc, 5000, &r);
	assert_shape(&r);
	assert_finding(&r, "server.url", ST_ERROR, HR_ACCESS_DENIED);
	cr_assert_eq(r.status, ST_ERROR);
	for (size_t i = 1; i < N_IDS; i++)
		cr_assert_eq(r.findings[i].status, ST_SKIP);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- the well-behaved server: nginx ------------------------------------ */

Test(check_server, nginx_http_passes)
{
	struct check_result r;
	const cJSON *probes;

	run_nginx("good", false, true, &r);
	assert_all_pass(&r, false);
	cr_assert_str_eq(fx_find(&r, "server.range")->observed,
			 "bytes 0-99/3000");
	cr_assert_str_eq(fx_find(&r, "server.content_length")->observed,
			 "Content-Length: 3000");
	cr_assert_str_eq(cJSON_GetStringValue(fx_fact(&r, "resolved_address")),
			 "127.0.0.1");
	cr_assert(cJSON_IsNull(fx_fact(&r, "effective_proxy")));
	cr_assert(cJSON_IsNumber(timing(&r, "dns")));
	cr_assert(cJSON_IsNumber(timing(&r, "connect")));
	cr_assert(cJSON_IsNull(timing(&r, "tls")));
	cr_assert(cJSON_IsNumber(timing(&r, "first_byte")));
	cr_assert_gt(timing(&r, "first_byte")->valuedouble, 0);
	probes = fx_fact(&r, "probes");
	cr_assert_eq(cJSON_GetArraySize(probes), 4);
	result_clear(&r);
}

Test(check_server, nginx_https_passes)
{
	struct check_result r;

	run_nginx("good", true, true, &r);
	assert_all_pass(&r, true);
	cr_assert(cJSON_IsNumber(timing(&r, "tls")));
	cr_assert_gt(timing(&r, "tls")->valuedouble, 0);
	result_clear(&r);
}

/* The probes trust the host's store, not this system's: without the
 * test CA in it the same server is from an unknown CA. */
Test(check_server, nginx_https_untrusted_without_the_ca)
{
	struct check_result r;

	run_nginx("good", true, false, &r);
	assert_fails_at(&r, "server.tls", HR_INVALID_CA);
	result_clear(&r);
}

Test(check_server, tls_wrong_name)
{
	struct check_result r;

	run_nginx("wrong-name", true, true, &r);
	assert_fails_at(&r, "server.tls", HR_CERT_CN_INVALID);
	cr_assert_not_null(fx_find(&r, "server.tls")->remedy_text);
	result_clear(&r);
}

Test(check_server, tls_expired)
{
	struct check_result r;

	run_nginx("expired", true, true, &r);
	assert_fails_at(&r, "server.tls", HR_CERT_DATE_INVALID);
	result_clear(&r);
}

Test(check_server, tls_unknown_ca)
{
	struct check_result r;

	run_nginx("unknown-ca", true, true, &r);
	assert_fails_at(&r, "server.tls", HR_INVALID_CA);
	result_clear(&r);
}

/* ---- misbehaving servers ----------------------------------------------- */

/* The helper itself serves correctly: each fault below is its only one. */
Test(check_server, misbehaving_server_without_fault_passes)
{
	struct check_result r;

	cr_assert_eq(run_bad(BADSRV_NONE, 0, 5000, &r), 4);
	assert_all_pass(&r, false);
	result_clear(&r);
}

Test(check_server, head_without_content_length)
{
	struct check_result r;

	run_bad(BADSRV_HEAD_NO_LENGTH, 0, 5000, &r);
	assert_shape(&r);
	assert_finding(&r, "server.content_length", ST_FAIL,
		       HR_MISSING_FILE_SIZE);
	assert_finding(&r, "server.iuident", ST_PASS, 0);
	assert_finding(&r, "server.range", ST_PASS, 0);
	cr_assert_eq(r.status, ST_FAIL);
	result_clear(&r);
}

Test(check_server, range_ignored)
{
	struct check_result r;
	const struct finding *f;

	run_bad(BADSRV_RANGE_IGNORED, 0, 5000, &r);
	assert_fails_at(&r, "server.range", HR_NO_RANGE_SUPPORT);
	f = fx_find(&r, "server.range");
	cr_assert_str_eq(f->observed, "200 OK");
	cr_assert_str_eq(f->expected,
			 "206 with Content-Range: bytes 0-99/3000");
	result_clear(&r);
}

Test(check_server, range_with_wrong_content_range)
{
	struct check_result r;

	run_bad(BADSRV_RANGE_WRONG, 0, 5000, &r);
	assert_fails_at(&r, "server.range", HR_NO_RANGE_SUPPORT);
	cr_assert_str_eq(fx_find(&r, "server.range")->observed,
			 "bytes 100-199/3000");
	result_clear(&r);
}

Test(check_server, forbidden_403)
{
	struct check_result r;

	run_bad(BADSRV_STATUS, 403, 5000, &r);
	assert_fails_at(&r, "server.iuident", HR_HTTP_403);
	cr_assert_str_eq(fx_find(&r, "server.iuident")->observed,
			 "403 Forbidden");
	result_clear(&r);
}

Test(check_server, not_found_404)
{
	struct check_result r;

	run_bad(BADSRV_STATUS, 404, 5000, &r);
	assert_fails_at(&r, "server.iuident", HR_HTTP_404);
	result_clear(&r);
}

Test(check_server, other_status_named)
{
	struct check_result r;
	const struct finding *f;

	run_bad(BADSRV_STATUS, 500, 5000, &r);
	assert_fails_at(&r, "server.iuident", HR_HTTP_500);
	f = fx_find(&r, "server.iuident");
	cr_assert(strstr(f->message, "500 Internal Server Error") != NULL, "%s",
		  f->message);
	result_clear(&r);
}

/* A server without the article's file but with the agent's only warns. */
Test(check_server, iuident_missing_but_wuident_served)
{
	struct check_result r;
	const struct finding *f;

	run_bad(BADSRV_NO_IUIDENT, 0, 5000, &r);
	assert_shape(&r);
	assert_finding(&r, "server.iuident", ST_WARN, HR_HTTP_404);
	f = fx_find(&r, "server.iuident");
	cr_assert(strstr(f->message, "GET /iuident.cab answered 404") != NULL,
		  "%s", f->message);
	assert_finding(&r, "server.content_length", ST_PASS, 0);
	assert_finding(&r, "server.range", ST_PASS, 0);
	cr_assert_eq(r.status, ST_WARN, "%s", r.summary);
	result_clear(&r);
}

/*
 * Accepts, reads, never answers: one probe times out and the check stops
 * there, so it costs one probe timeout, not one per probe.
 */
Test(check_server, never_answers_costs_one_timeout)
{
	struct check_result r;
	uint64_t t0 = plat_now_ms(), took;
	unsigned requests;

	requests = run_bad(BADSRV_SILENT, 0, 2000, &r);
	took = plat_now_ms() - t0;
	assert_fails_at(&r, "server.iuident", HR_TIMEOUT);
	cr_assert_eq(requests, 1);
	cr_assert_lt(took, 2000 + 3000, "took %llu ms",
		     (unsigned long long)took);
	cr_assert_eq(cJSON_GetArraySize(fx_fact(&r, "probes")), 1);
	result_clear(&r);
}

/*
 * Every answer takes 700 ms, the budget is 2000: two GETs fit, the HEAD
 * gets the 600 ms left and times out, the Range request never starts.
 * Four probes would take 2800 ms; the check keeps to its one deadline.
 */
Test(check_server, later_probes_get_only_the_remaining_time)
{
	struct check_result r;
	uint64_t t0 = plat_now_ms(), took;
	unsigned requests;

	requests = run_bad(BADSRV_SLOW, 700, 2000, &r);
	took = plat_now_ms() - t0;
	assert_fails_at(&r, "server.content_length", HR_TIMEOUT);
	assert_finding(&r, "server.iuident", ST_PASS, 0);
	cr_assert_eq(requests, 3);
	cr_assert_eq(cJSON_GetArraySize(fx_fact(&r, "probes")), 3);
	cr_assert_lt(took, 2000 + 3000, "took %llu ms",
		     (unsigned long long)took);
	result_clear(&r);
}

Test(check_server, closed_port)
{
	struct check_result r;
	unsigned short port;
	char err[256] = "", *url;
	int fd = closed_port(&port, err, sizeof(err));

	cr_assert_geq(fd, 0, "%s", err);
	url = xasprintf("http://127.0.0.1:%u", port);
	run_url(url, NULL, &r);
	close(fd);
	assert_fails_at(&r, "server.connect", HR_CANNOT_CONNECT);
	cr_assert_eq(cJSON_GetArraySize(fx_fact(&r, "probes")), 1);
	result_clear(&r);
	free(url);
}

Test(check_server, name_does_not_resolve)
{
	struct check_result r;
	const struct finding *f;

	run_url("http://wsus.invalid:8530", NULL, &r);
	assert_fails_at(&r, "server.resolve", HR_NAME_NOT_RESOLVED);
	f = fx_find(&r, "server.resolve");
	cr_assert(strstr(f->message, "wsus.invalid") != NULL, "%s", f->message);
	cr_assert(cJSON_IsNull(fx_fact(&r, "resolved_address")));
	cr_assert(cJSON_IsNull(timing(&r, "dns")));
	result_clear(&r);
}

/* ---- through the machine proxy ----------------------------------------- */

/* The probes go where the agent's would: to the proxy, here a closed one. */
Test(check_server, probes_go_through_the_machine_proxy)
{
	struct check_result r;
	unsigned short port;
	char err[256] = "", *proxy;
	struct badsrv *s = bad_up(BADSRV_NONE, 0);
	char *url = xasprintf("http://127.0.0.1:%u", badsrv_port(s));
	cJSON *doc = local_doc(url);
	int fd = closed_port(&port, err, sizeof(err));
	const struct finding *f;

	cr_assert_geq(fd, 0, "%s", err);
	proxy = xasprintf("127.0.0.1:%u", port);
	set_proxy(doc, proxy, NULL);
	run_doc(doc, 5000, &r);
	cr_assert_eq(badsrv_requests(s), 0);
	badsrv_stop(s);
	close(fd);
	assert_fails_at(&r, "server.connect", HR_CANNOT_CONNECT);
	f = fx_find(&r, "server.connect");
	cr_assert(strstr(f->message, "the proxy") != NULL, "%s", f->message);
	cr_assert_str_eq(cJSON_GetStringValue(fx_fact(&r, "effective_proxy")),
			 proxy);
	result_clear(&r);
	cJSON_Delete(doc);
	free(proxy);
	free(url);
}

/* A bypassed server is reached directly, as WinHTTP would. */
Test(check_server, bypass_list_honoured)
{
	struct check_result r;
	struct badsrv *s = bad_up(BADSRV_NONE, 0);
	char *url = xasprintf("http://127.0.0.1:%u", badsrv_port(s));
	cJSON *doc = local_doc(url);

	set_proxy(doc, "proxy.invalid:3128", "<local>;127.0.0.1");
	run_doc(doc, 5000, &r);
	cr_assert_eq(badsrv_requests(s), 4);
	badsrv_stop(s);
	assert_all_pass(&r, false);
	cr_assert(cJSON_IsNull(fx_fact(&r, "effective_proxy")));
	result_clear(&r);
	cJSON_Delete(doc);
	free(url);
}

Test(check_server, proxy_name_does_not_resolve)
{
	struct check_result r;
	cJSON *doc = local_doc("http://127.0.0.1:8530");
	const struct finding *f;

	set_proxy(doc, "proxy.invalid:3128", NULL);
	run_doc(doc, 5000, &r);
	assert_fails_at(&r, "server.resolve", HR_NAME_NOT_RESOLVED);
	f = fx_find(&r, "server.resolve");
	cr_assert(strstr(f->message, "the proxy proxy.invalid") != NULL, "%s",
		  f->message);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- the examples (what GET /report shows) ------------------------------ */

/* wsus-local.json pointed at a running nginx: no check fails. */
Test(check_server, local_example_fails_nothing)
{
	struct nginx_run n;
	char *url;
	cJSON *doc;
	struct host *h;
	struct check_settings st = {.probe_timeout_ms = 5000,
				    .service_wait_ms = 300};
	struct check_ctx ctx = {.settings = &st};

	nginx_up(&n, "good");
	url = nginx_url(&n, false);
	doc = local_doc(url);
	h = fx_open_doc(doc);
	ctx.host = h;
	for (size_t i = 0; i < check_count; i++) {
		struct check_result r;

		check_run(check_table[i], &ctx, &r);
		cr_assert(r.status != ST_FAIL && r.status != ST_ERROR,
			  "%s on wsus-local.json is %s: %s", r.id,
			  status_name(r.status), r.summary);
		if (check_table[i] == &check_server)
			cr_assert_eq(r.status, ST_PASS, "%s", r.summary);
		result_clear(&r);
	}
	host_close(h);
	cJSON_Delete(doc);
	free(url);
	nginx_down(&n);
}

/*
 * The other examples name wsus.corp.example on purpose: the reserved
 * example domain does not resolve, and the check says so.
 */
Test(check_server, healthy_example_names_an_unresolvable_server)
{
	char *path = fx_example_path("healthy.json");
	struct host *h = fx_open_file(path);
	struct check_result r;

	run_check(h, 5000, &r);
	assert_fails_at(&r, "server.resolve", HR_NAME_NOT_RESOLVED);
	result_clear(&r);
	host_close(h);
	free(path);
}
