/*
 * test_check_proxy.c: the proxy check on simulated hosts (the proxy
 * settings from the sim file, the network real): the examples, a real
 * tinyproxy on 127.0.0.1, a closed port, a proxy that never answers,
 * per-scheme lists and bypass lists, and hosts that fail the reads.
 */
#include "proxies/proxies.h"

#include <cjson/cJSON.h>

#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "platform/host.h"
#include "platform/probe.h"

#define E_INVALIDARG	     0x80070057u
#define HR_NAME_NOT_RESOLVED 0x80072EE7u
#define HR_CANNOT_CONNECT    0x80072EFDu
#define HR_TIMEOUT	     0x80072EE2u

static const struct check_settings settings = {
    .probe_timeout_ms = 2000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static const char *const ids[] = {"proxy.winhttp", "proxy.syntax",
				  "proxy.resolve", "proxy.reachable",
				  "proxy.mismatch"};

static void
setup(void)
{
	cr_assert_eq(plat_probe_global_init(), 0);
}

TestSuite(check_proxy, .init = setup, .timeout = 120);

/* ---- hosts ------------------------------------------------------------- */

static void
set_or_null(cJSON *o, const char *name, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	if (v != NULL)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* healthy.json with these proxy settings (user NULL: same as machine). */
static struct host *
host_with(const char *machine, const char *machine_bypass, const char *user,
	  const char *user_bypass)
{
	char path[] = "/tmp/test_check_proxy_XXXXXX", err[256] = "";
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *w = cJSON_GetObjectItem(doc, "winhttp_proxy");
	cJSON *u = cJSON_GetObjectItem(doc, "ie_proxy");
	struct host *h;
	char *text;
	FILE *fp;
	int fd;

	set_or_null(w, "proxy", machine);
	set_or_null(w, "bypass", machine_bypass);
	set_or_null(u, "proxy", user);
	set_or_null(u, "bypass", user_bypass);
	text = cJSON_Print(doc);
	cr_assert((fd = mkstemp(path)) >= 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	h = host_sim_open(path, false, err, sizeof(err));
	cr_assert_not_null(h, "host_sim_open: %s", err);
	unlink(path);
	free(text);
	cJSON_Delete(doc);
	return h;
}

/* The same settings for the machine and the user. */
static struct host *
host_proxy(const char *proxy, const char *bypass)
{
	return host_with(proxy, bypass, proxy, bypass);
}

static void
run(struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_proxy, &ctx, r);
}

/* Exactly the five findings, each once. */
static void
assert_all_ids(const struct check_result *r)
{
	cr_assert_eq(r->n_findings, sizeof(ids) / sizeof(ids[0]));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		(void)fx_find(r, ids[i]);
}

static const struct finding *
expect(const struct check_result *r, const char *id, enum status st, hr_t code)
{
	const struct finding *f = fx_find(r, id);

	cr_assert_eq(f->status, st, "%s is %s, not %s: %s", id,
		     status_name(f->status), status_name(st), f->message);
	cr_assert_eq(f->error, code, "%s: error 0x%08X, not 0x%08X: %s", id,
		     f->error, code, f->message);
	return f;
}

static const char *
fact_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	cr_assert(cJSON_IsString(v), "fact %s is not a string", name);
	return v->valuestring;
}

/* ---- the examples ------------------------------------------------------ */

Test(check_proxy, healthy_is_direct)
{
	struct host *h = fx_open_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	run(h, &r);
	cr_assert_eq(r.status, ST_PASS, "%s", r.summary);
	assert_all_ids(&r);
	f = expect(&r, "proxy.winhttp", ST_SKIP, 0);
	cr_assert_not_null(strstr(f->message, "direct connection"), "%s",
			   f->message);
	expect(&r, "proxy.syntax", ST_SKIP, 0);
	expect(&r, "proxy.resolve", ST_SKIP, 0);
	expect(&r, "proxy.reachable", ST_SKIP, 0);
	f = expect(&r, "proxy.mismatch", ST_PASS, 0);
	cr_assert_str_eq(f->observed, "direct (no proxy)");
	cr_assert_str_eq(f->expected, "direct (no proxy)");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(r.facts, "machine"), "proxy")));
	cr_assert_null(cJSON_GetObjectItem(r.facts, "proxies"));
	result_clear(&r);
	host_close(h);
}

Test(check_proxy, bad_name_is_invalidarg)
{
	struct host *h = fx_open_example("proxy-bad-name.json");
	struct check_result r;
	const struct finding *f;

	run(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	assert_all_ids(&r);
	expect(&r, "proxy.winhttp", ST_PASS, 0);
	f = expect(&r, "proxy.syntax", ST_FAIL, E_INVALIDARG);
	cr_assert_str_eq(f->observed, "proxy.corp.example,8080");
	cr_assert_not_null(strstr(f->message, "machine (WinHTTP)"));
	cr_assert_not_null(f->remedy_text);
	cr_assert_not_null(strstr(f->remedy_text, "netsh winhttp set proxy"));
	/* Nothing to probe behind an unusable name. */
	expect(&r, "proxy.resolve", ST_SKIP, 0);
	expect(&r, "proxy.reachable", ST_SKIP, 0);
	/* The article's remedy copied the same bad name: they agree. */
	expect(&r, "proxy.mismatch", ST_PASS, 0);
	cr_assert_null(cJSON_GetObjectItem(r.facts, "proxies"));
	result_clear(&r);
	host_close(h);
}

Test(check_proxy, unresolvable_proxy)
{
	struct host *h = fx_open_example("proxy-unresolvable.json");
	struct check_result r;
	const struct finding *f;
	const cJSON *p;

	run(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	assert_all_ids(&r);
	f = expect(&r, "proxy.winhttp", ST_PASS, 0);
	/* The WSUS server is not in the bypass list: it goes through. */
	cr_assert_not_null(strstr(f->message, "goes through "
					      "proxy.corp.invalid:8080"),
			   "%s", f->message);
	expect(&r, "proxy.syntax", ST_PASS, 0);
	f = expect(&r, "proxy.resolve", ST_FAIL, HR_NAME_NOT_RESOLVED);
	cr_assert_not_null(strstr(f->message, "proxy.corp.invalid:8080"));
	expect(&r, "proxy.reachable", ST_SKIP, 0);
	expect(&r, "proxy.mismatch", ST_PASS, 0);
	/* One deadline at most, not one per finding. */
	cr_assert_lt(r.duration_ms, settings.probe_timeout_ms + 1000);
	cr_assert_str_eq(fact_str(r.facts, "effective_proxy"),
			 "proxy.corp.invalid:8080");
	cr_assert_str_eq(fact_str(r.facts, "wsus_url"),
			 "http://wsus.corp.example:8530");
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(r.facts, "proxies"), 0);
	cr_assert_str_eq(fact_str(p, "error"), "0x80072EE7");
	cr_assert_eq(
	    cJSON_GetArraySize(cJSON_GetObjectItem(r.facts, "proxies")), 1);
	result_clear(&r);
	host_close(h);
}

Test(check_proxy, mismatch_warns_with_the_import_remedy)
{
	struct host *h = fx_open_example("proxy-mismatch.json");
	struct check_result r;
	const struct finding *f;

	run(h, &r);
	cr_assert_eq(r.status, ST_WARN, "%s", r.summary);
	assert_all_ids(&r);
	expect(&r, "proxy.winhttp", ST_SKIP, 0);
	f = expect(&r, "proxy.mismatch", ST_WARN, 0);
	cr_assert_str_eq(f->expected,
			 "proxy proxy.corp.example:8080, bypass <local>");
	cr_assert_str_eq(f->observed, "direct (no proxy)");
	cr_assert_not_null(f->remedy_text);
	cr_assert_not_null(
	    strstr(f->remedy_text, "netsh winhttp import proxy source=ie"));
	cr_assert_not_null(strstr(f->remedy_text, "proxycfg -u"));
	cr_assert_null(f->remedy_action);
	result_clear(&r);
	host_close(h);
}

/* ---- real proxies ------------------------------------------------------ */

Test(check_proxy, tinyproxy_passes)
{
	struct px_tinyproxy tp;
	struct check_result r;
	const struct finding *f;
	struct host *h;
	char *proxy;

	px_tinyproxy_start(&tp);
	proxy = xasprintf("127.0.0.1:%u", tp.port);
	h = host_proxy(proxy, "<local>");
	run(h, &r);
	cr_assert_eq(r.status, ST_PASS, "%s", r.summary);
	assert_all_ids(&r);
	expect(&r, "proxy.winhttp", ST_PASS, 0);
	expect(&r, "proxy.syntax", ST_PASS, 0);
	f = expect(&r, "proxy.resolve", ST_PASS, 0);
	cr_assert_str_eq(f->observed, "127.0.0.1");
	f = expect(&r, "proxy.reachable", ST_PASS, 0);
	/* tinyproxy answers a request for itself with 400. */
	cr_assert_str_eq(f->observed, "HTTP 400");
	expect(&r, "proxy.mismatch", ST_PASS, 0);
	cr_assert_str_eq(fact_str(r.facts, "effective_proxy"), proxy);
	result_clear(&r);
	host_close(h);
	free(proxy);
	px_tinyproxy_stop(&tp);
}

Test(check_proxy, closed_port_cannot_connect)
{
	struct check_result r;
	const struct finding *f;
	char *proxy = xasprintf("127.0.0.1:%u", px_free_port());
	struct host *h = host_proxy(proxy, NULL);

	run(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	assert_all_ids(&r);
	expect(&r, "proxy.resolve", ST_PASS, 0);
	f = expect(&r, "proxy.reachable", ST_FAIL, HR_CANNOT_CONNECT);
	cr_assert_not_null(strstr(f->message, proxy));
	cr_assert_not_null(f->remedy_text);
	expect(&r, "proxy.mismatch", ST_PASS, 0);
	result_clear(&r);
	host_close(h);
	free(proxy);
}

static void
silent_serve(struct px_server *s, int fd)
{
	/* Accept, then say nothing until the test stops us. */
	(void)px_wait(s->stop[0], -1, 10000);
	(void)fd;
}

Test(check_proxy, silent_proxy_costs_one_deadline)
{
	struct px_server silent = {0};
	struct check_result r;
	char *proxy;
	struct host *h;
	double t0;

	px_server_start(&silent, silent_serve);
	proxy = xasprintf("127.0.0.1:%u", silent.port);
	h = host_proxy(proxy, NULL);
	t0 = px_now_ms();
	run(h, &r);
	cr_assert_lt(px_now_ms() - t0, settings.probe_timeout_ms + 1500.0);
	cr_assert_eq(r.status, ST_WARN, "%s", r.summary);
	expect(&r, "proxy.resolve", ST_PASS, 0);
	expect(&r, "proxy.reachable", ST_WARN, HR_TIMEOUT);
	result_clear(&r);
	host_close(h);
	free(proxy);
	px_server_stop(&silent);
}

Test(check_proxy, per_scheme_proxies_are_each_probed)
{
	struct px_tinyproxy tp;
	struct check_result r;
	const struct finding *f;
	unsigned short closed = px_free_port();
	struct host *h;
	const cJSON *a;
	char *list, *bad;

	px_tinyproxy_start(&tp);
	list =
	    xasprintf("http=127.0.0.1:%u;https=127.0.0.1:%u", tp.port, closed);
	bad = xasprintf("127.0.0.1:%u", closed);
	h = host_proxy(list, NULL);
	run(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = expect(&r, "proxy.reachable", ST_FAIL, HR_CANNOT_CONNECT);
	cr_assert_not_null(strstr(f->message, bad), "%s", f->message);
	a = cJSON_GetObjectItem(r.facts, "proxies");
	cr_assert_eq(cJSON_GetArraySize(a), 2);
	cr_assert(cJSON_IsNull(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "error")));
	cr_assert_str_eq(fact_str(cJSON_GetArrayItem(a, 1), "error"),
			 "0x80072EFD");
	result_clear(&r);
	host_close(h);
	free(list);
	free(bad);
	px_tinyproxy_stop(&tp);
}

Test(check_proxy, same_proxy_for_both_schemes_is_probed_once)
{
	struct px_tinyproxy tp;
	struct check_result r;
	struct host *h;
	char *list;

	px_tinyproxy_start(&tp);
	list =
	    xasprintf("http=127.0.0.1:%u https=127.0.0.1:%u", tp.port, tp.port);
	h = host_proxy(list, NULL);
	run(h, &r);
	cr_assert_eq(r.status, ST_PASS, "%s", r.summary);
	cr_assert_eq(
	    cJSON_GetArraySize(cJSON_GetObjectItem(r.facts, "proxies")), 1);
	result_clear(&r);
	host_close(h);
	free(list);
	px_tinyproxy_stop(&tp);
}

Test(check_proxy, list_without_http_entries_is_direct)
{
	struct check_result r;
	struct host *h =
	    host_proxy("ftp=127.0.0.1:21;socks=127.0.0.1:1080", NULL);

	run(h, &r);
	cr_assert_eq(r.status, ST_PASS, "%s", r.summary);
	expect(&r, "proxy.winhttp", ST_PASS, 0);
	expect(&r, "proxy.syntax", ST_PASS, 0);
	expect(&r, "proxy.resolve", ST_SKIP, 0);
	expect(&r, "proxy.reachable", ST_SKIP, 0);
	cr_assert(
	    cJSON_IsNull(cJSON_GetObjectItem(r.facts, "effective_proxy")));
	result_clear(&r);
	host_close(h);
}

/* ---- bypass lists and the WSUS server ------------------------------------ */

Test(check_proxy, wsus_server_in_the_bypass_list)
{
	struct check_result r;
	const struct finding *f;
	char *proxy = xasprintf("127.0.0.1:%u", px_free_port());
	struct host *h = host_proxy(proxy, "<local>;*.corp.example");

	run(h, &r);
	f = expect(&r, "proxy.winhttp", ST_PASS, 0);
	cr_assert_not_null(strstr(f->message, "the bypass list sends the WSUS "
					      "server"),
			   "%s", f->message);
	cr_assert(
	    cJSON_IsNull(cJSON_GetObjectItem(r.facts, "effective_proxy")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.facts, "bypassed")));
	/* The proxy still serves everything else: still probed. */
	expect(&r, "proxy.reachable", ST_FAIL, HR_CANNOT_CONNECT);
	result_clear(&r);
	host_close(h);
	free(proxy);
}

/* ---- the user's settings ------------------------------------------------- */

Test(check_proxy, equal_settings_written_differently_match)
{
	struct check_result r;
	unsigned short port = px_free_port();
	char *m = xasprintf("http://127.0.0.1:%u/", port);
	char *u = xasprintf("127.0.0.1:%u", port);
	struct host *h =
	    host_with(m, "<local>;*.corp.example", u, "<LOCAL> *.CORP.example");

	run(h, &r);
	expect(&r, "proxy.mismatch", ST_PASS, 0);
	result_clear(&r);
	host_close(h);
	free(m);
	free(u);
}

Test(check_proxy, different_bypass_lists_mismatch)
{
	struct check_result r;
	const struct finding *f;
	char *p = xasprintf("127.0.0.1:%u", px_free_port());
	struct host *h = host_with(p, NULL, p, "<local>");

	run(h, &r);
	f = expect(&r, "proxy.mismatch", ST_WARN, 0);
	cr_assert_not_null(strstr(f->observed, "no bypass list"), "%s",
			   f->observed);
	cr_assert_not_null(strstr(f->expected, "bypass <local>"), "%s",
			   f->expected);
	result_clear(&r);
	host_close(h);
	free(p);
}

Test(check_proxy, machine_proxy_but_user_direct_mismatch)
{
	struct check_result r;
	char *p = xasprintf("127.0.0.1:%u", px_free_port());
	struct host *h = host_with(p, NULL, NULL, NULL);

	run(h, &r);
	expect(&r, "proxy.mismatch", ST_WARN, 0);
	result_clear(&r);
	host_close(h);
	free(p);
}

Test(check_proxy, user_bad_name_fails_syntax)
{
	struct check_result r;
	const struct finding *f;
	char *p = xasprintf("127.0.0.1:%u", px_free_port());
	struct host *h = host_with(p, NULL, "wsus proxy:99999", NULL);

	run(h, &r);
	f = expect(&r, "proxy.syntax", ST_FAIL, E_INVALIDARG);
	cr_assert_not_null(strstr(f->message, "Internet Explorer"));
	cr_assert_str_eq(f->observed, "proxy:99999");
	/* The machine's own proxy is still probed. */
	expect(&r, "proxy.reachable", ST_FAIL, HR_CANNOT_CONNECT);
	expect(&r, "proxy.mismatch", ST_WARN, 0);
	result_clear(&r);
	host_close(h);
	free(p);
}

/* ---- hosts that fail the reads ------------------------------------------- */

Test(check_proxy, user_settings_unreadable_skips_mismatch)
{
	struct check_result r;
	const struct finding *f;
	/* WinHttpGetIEProxyConfigForCurrentUser in a service: no profile. */
	const struct fx_fault no_profile[] = {
	    {"ie_proxy", NULL, hr_from_win32(WIN32_FILE_NOT_FOUND)},
	    {NULL, NULL, 0}};
	struct host *h =
	    fx_fault_host(fx_open_example("proxy-mismatch.json"), no_profile);

	run(h, &r);
	/* Direct, and nothing to compare with: nothing was judged. */
	cr_assert_eq(r.status, ST_SKIP, "%s", r.summary);
	assert_all_ids(&r);
	f = expect(&r, "proxy.mismatch", ST_SKIP, 0);
	cr_assert_not_null(strstr(f->message, "0x80070002"), "%s", f->message);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.facts, "user")));
	cr_assert_str_eq(fact_str(r.facts, "user_error"), "0x80070002");
	result_clear(&r);
	host_close(h);
}

Test(check_proxy, machine_settings_unreadable_is_an_error)
{
	struct check_result r;
	const struct finding *f;
	const struct fx_fault denied[] = {
	    {"winhttp_proxy", NULL, hr_from_win32(WIN32_ACCESS_DENIED)},
	    {NULL, NULL, 0}};
	struct host *h = fx_fault_host(fx_open_example("healthy.json"), denied);

	run(h, &r);
	cr_assert_eq(r.status, ST_ERROR);
	assert_all_ids(&r);
	f = expect(&r, "proxy.winhttp", ST_ERROR, 0x80070005u);
	cr_assert_not_null(strstr(f->message, "0x80070005"));
	expect(&r, "proxy.syntax", ST_SKIP, 0);
	expect(&r, "proxy.resolve", ST_SKIP, 0);
	expect(&r, "proxy.reachable", ST_SKIP, 0);
	expect(&r, "proxy.mismatch", ST_SKIP, 0);
	cr_assert_str_eq(fact_str(r.facts, "machine_error"), "0x80070005");
	result_clear(&r);
	host_close(h);
}

/* ---- the descriptor and the report ------------------------------------- */

Test(check_proxy, registered_after_wuauserv_before_agent)
{
	size_t i, at = check_count, wu = check_count, agent = check_count;

	cr_assert_eq(check_find("proxy"), &check_proxy);
	for (i = 0; i < check_count; i++) {
		if (check_table[i] == &check_proxy)
			at = i;
		if (check_table[i] == &check_wuauserv)
			wu = i;
		if (check_table[i] == &check_agent)
			agent = i;
	}
	cr_assert(wu < at && at < agent);
	cr_assert_str_eq(check_proxy.seed_section,
			 "Make sure the WSUS server is reachable from the "
			 "client");
	/* Two proxies (http, https), a deadline each, with room to spare. */
	cr_assert_geq(check_proxy.time_limit_ms, 2 * 5000);
}

/* Every check's status on a host. */
static void
statuses(const char *name, enum status *out)
{
	struct host *h = fx_open_example(name);
	struct check_ctx ctx = {.host = h, .settings = &settings};
	struct check_result r;

	for (size_t i = 0; i < check_count; i++) {
		check_run(check_table[i], &ctx, &r);
		out[i] = r.status;
		result_clear(&r);
	}
	host_close(h);
}

/* On each example only proxy changes; the rest is as on healthy.json. */
static void
assert_report(const char *name, const enum status *healthy, enum status want)
{
	enum status *got = xcalloc(check_count, sizeof(*got));

	statuses(name, got);
	for (size_t i = 0; i < check_count; i++) {
		if (check_table[i] == &check_proxy)
			cr_assert_eq(got[i], want, "%s: proxy is %s", name,
				     status_name(got[i]));
		else
			cr_assert_eq(got[i], healthy[i],
				     "%s: %s is %s, on "
				     "healthy.json %s",
				     name, check_table[i]->id,
				     status_name(got[i]),
				     status_name(healthy[i]));
	}
	free(got);
}

Test(check_proxy, report_on_the_examples)
{
	enum status *healthy = xcalloc(check_count, sizeof(*healthy));

	statuses("healthy.json", healthy);
	for (size_t i = 0; i < check_count; i++)
		if (check_table[i] == &check_proxy)
			cr_assert_eq(healthy[i], ST_PASS);
	assert_report("proxy-bad-name.json", healthy, ST_FAIL);
	assert_report("proxy-unresolvable.json", healthy, ST_FAIL);
	assert_report("proxy-mismatch.json", healthy, ST_WARN);
	free(healthy);
}
