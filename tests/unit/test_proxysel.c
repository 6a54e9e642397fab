/*
 * test_proxysel.c: which proxy the update agent uses for a URL, from the
 * WinHTTP proxy list and bypass list (WINHTTP_PROXY_INFO's rules).
 */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/proxysel.h"
#include "common/xalloc.h"
#include "fixture.h"
#include "platform/host.h"

#define E_INVALIDARG 0x80070057u

/* The proxy chosen for url, "DIRECT" for none, "EINVAL" for 0x80070057. */
static char *
pick(const char *list, const char *bypass, const char *url, bool *bypassed)
{
	char *proxy = (char *)"sentinel";
	bool by = true;
	hr_t hr = proxy_select(list, bypass, url, &proxy, &by);

	if (bypassed != NULL)
		*bypassed = by;
	if (hr == E_INVALIDARG) {
		cr_assert_null(proxy, "no proxy on failure");
		cr_assert(!by);
		return xstrdup("EINVAL");
	}
	cr_assert_eq(hr, HR_OK, "proxy_select: 0x%08X", hr);
	return proxy != NULL ? proxy : xstrdup("DIRECT");
}

static void
expect(const char *list, const char *bypass, const char *url, const char *want,
       bool want_bypassed)
{
	bool by;
	char *got = pick(list, bypass, url, &by);

	cr_assert_str_eq(got, want, "list '%s' bypass '%s' url %s", list,
			 bypass != NULL ? bypass : "(null)", url);
	cr_assert_eq(by, want_bypassed, "bypassed for %s", url);
	free(got);
}

/* ---- the proxy list ------------------------------------------------------ */

Test(proxysel, no_proxy_is_direct)
{
	expect(NULL, NULL, "http://wsus.corp.example:8530/", "DIRECT", false);
	expect("", "", "http://wsus.corp.example:8530/", "DIRECT", false);
	expect(" ; ", NULL, "https://wsus:8531/", "DIRECT", false);
}

Test(proxysel, one_proxy_for_every_scheme)
{
	expect("proxy.corp.example:8080", NULL, "http://wsus:8530/",
	       "proxy.corp.example:8080", false);
	expect("proxy.corp.example:8080", NULL, "https://wsus:8531/",
	       "proxy.corp.example:8080", false);
}

Test(proxysel, default_port_is_80)
{
	expect("proxy.corp.example", NULL, "http://wsus/",
	       "proxy.corp.example:80", false);
	expect("http://proxy.corp.example", NULL, "http://wsus/",
	       "proxy.corp.example:80", false);
}

Test(proxysel, scheme_url_prefix_and_trailing_slash)
{
	expect("http://proxy.corp.example:3128/", NULL, "http://wsus/",
	       "proxy.corp.example:3128", false);
	expect("HTTP://Proxy.Corp.Example:3128", NULL, "http://wsus/",
	       "Proxy.Corp.Example:3128", false);
}

Test(proxysel, per_scheme_proxies)
{
	const char *list =
	    "http=hp.corp.example:8080;https=sp.corp.example:8443";

	expect(list, NULL, "http://wsus:8530/", "hp.corp.example:8080", false);
	expect(list, NULL, "https://wsus:8531/", "sp.corp.example:8443", false);
	/* The order in the list does not matter, the scheme does. */
	expect("https=sp:1;http=hp:2", NULL, "http://wsus/", "hp:2", false);
}

Test(proxysel, scheme_entry_wins_over_generic_entry)
{
	expect("any.example:1 https=sp.example:2", NULL, "https://wsus/",
	       "sp.example:2", false);
	expect("any.example:1 https=sp.example:2", NULL, "http://wsus/",
	       "any.example:1", false);
}

Test(proxysel, no_entry_for_the_scheme_is_direct)
{
	expect("http=hp.corp.example:8080", NULL, "https://wsus:8531/",
	       "DIRECT", false);
	expect("ftp=f.example:21;socks=s.example:1080", NULL, "http://wsus/",
	       "DIRECT", false);
}

Test(proxysel, first_generic_entry_is_used)
{
	expect("p1.example:1;p2.example:2", NULL, "http://wsus/",
	       "p1.example:1", false);
	expect("p1.example:1 p2.example:2", NULL, "http://wsus/",
	       "p1.example:1", false);
}

Test(proxysel, ip_literal_proxies)
{
	expect("10.0.0.5:3128", NULL, "http://wsus/", "10.0.0.5:3128", false);
	expect("[fd00::5]:3128", NULL, "http://wsus/", "[fd00::5]:3128", false);
}

/* ---- unusable proxy lists: E_INVALIDARG ------------------------------------
 */

Test(proxysel, unusable_proxy_names)
{
	const char *bad[] = {
	    ":8080",			  /* empty host */
	    "proxy.corp.example:",	  /* empty port */
	    "proxy.corp.example:0",	  /* port 0 */
	    "proxy.corp.example:80800",	  /* port out of range */
	    "proxy.corp.example:80a",	  /* not a number */
	    "proxy,corp,example:8080",	  /* illegal characters */
	    "prox#y:8080",		  /* illegal character */
	    "proxy..corp.example:8080",	  /* empty label */
	    "=proxy.corp.example:8080",	  /* empty scheme */
	    "ht1p=proxy.corp.example:80", /* not a scheme name */
	    "socks://proxy.example:1080", /* WinHTTP speaks http to proxies */
	    "http://",			  /* no server */
	    "http=",			  /* no server */
	    "[zz::1]:80",		  /* not an IPv6 literal */
	    "proxy.example:8080/path",	  /* a path is not a proxy */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(bad[i], NULL, "http://wsus/", "EINVAL", false);
}

Test(proxysel, one_bad_entry_spoils_the_list)
{
	expect("https=ok.example:1;http=:80", NULL, "https://wsus/", "EINVAL",
	       false);
}

Test(proxysel, parse_reports_the_bad_entry)
{
	struct proxy_list l;
	char *bad = NULL;
	const char *why = NULL;

	cr_assert_eq(
	    proxy_list_parse("good.example:1;bad name:99999", &l, &bad, &why),
	    E_INVALIDARG);
	cr_assert_str_eq(bad, "name:99999");
	cr_assert_not_null(why);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.v);
	free(bad);
}

Test(proxysel, parse_lists_every_entry)
{
	struct proxy_list l;
	char *s;

	cr_assert_eq(proxy_list_parse("http=a.example:1 https=[::1]:2;c", &l,
				      NULL, NULL),
		     HR_OK);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[0].scheme, "http");
	cr_assert_str_eq(l.v[0].host, "a.example");
	cr_assert_eq(l.v[0].port, 1);
	cr_assert_str_eq(l.v[1].scheme, "https");
	cr_assert_str_eq(l.v[1].host, "::1");
	s = proxy_entry_format(&l.v[1]);
	cr_assert_str_eq(s, "[::1]:2");
	free(s);
	cr_assert_str_eq(l.v[2].scheme, "");
	cr_assert_str_eq(l.v[2].host, "c");
	cr_assert_eq(l.v[2].port, 80);
	proxy_list_clear(&l);
	cr_assert_eq(l.n, 0);
}

Test(proxysel, bad_urls)
{
	expect("p:1", NULL, "ftp://wsus/", "EINVAL", false);
	expect("p:1", NULL, "wsus.corp.example", "EINVAL", false);
	expect("p:1", NULL, "http://:8530/", "EINVAL", false);
	expect("p:1", NULL, "http://wsus:99999/", "EINVAL", false);
	expect("p:1", NULL, NULL, "EINVAL", false);
}

/* ---- the bypass list -------------------------------------------------------
 */

Test(proxysel, bypass_exact_host)
{
	const char *bp = "wsus.corp.example";

	expect("p:1", bp, "http://wsus.corp.example:8530/", "DIRECT", true);
	expect("p:1", bp, "http://WSUS.Corp.Example/", "DIRECT", true);
	/* An exact entry is not a domain suffix. */
	expect("p:1", bp, "http://x.wsus.corp.example/", "p:1", false);
	expect("p:1", bp, "http://wsus.corp.example.org/", "p:1", false);
}

Test(proxysel, bypass_wildcards)
{
	const char *bp = "*.corp.example";

	expect("p:1", bp, "http://wsus.corp.example/", "DIRECT", true);
	expect("p:1", bp, "https://a.b.corp.example:8531/", "DIRECT", true);
	/* The dot belongs to the pattern: the domain itself does not match. */
	expect("p:1", bp, "http://corp.example/", "p:1", false);
	expect("p:1", bp, "http://evilcorp.example/", "p:1", false);
	expect("p:1", "10.*", "http://10.1.2.3:8530/", "DIRECT", true);
	expect("p:1", "10.*", "http://110.1.2.3/", "p:1", false);
	expect("p:1", "wsus*", "http://wsus01/", "DIRECT", true);
	expect("p:1", "*", "http://anything.example/", "DIRECT", true);
}

Test(proxysel, bypass_local)
{
	expect("p:1", "<local>", "http://wsus:8530/", "DIRECT", true);
	expect("p:1", "<LOCAL>", "http://wsus:8530/", "DIRECT", true);
	expect("p:1", "<local>", "http://wsus.corp.example:8530/", "p:1",
	       false);
	/* An IP address has dots: not an intranet name. */
	expect("p:1", "<local>", "http://127.0.0.1:8530/", "p:1", false);
	expect("p:1", "<local>", "http://[::1]:8530/", "p:1", false);
}

Test(proxysel, bypass_ports)
{
	const char *bp = "wsus.corp.example:8530";

	expect("p:1", bp, "http://wsus.corp.example:8530/", "DIRECT", true);
	expect("p:1", bp, "http://wsus.corp.example:8531/", "p:1", false);
	/* The scheme's default port counts as written. */
	expect("p:1", "wsus.corp.example:80", "http://wsus.corp.example/",
	       "DIRECT", true);
	expect("p:1", "wsus.corp.example:443", "https://wsus.corp.example/",
	       "DIRECT", true);
	expect("p:1", "wsus.corp.example:*", "https://wsus.corp.example:1/",
	       "DIRECT", true);
	expect("p:1", "[::1]:8530", "http://[::1]:8530/", "DIRECT", true);
	expect("p:1", "[::1]:8530", "http://[::1]:8531/", "p:1", false);
}

Test(proxysel, bypass_schemes)
{
	const char *bp = "https://wsus.corp.example";

	expect("p:1", bp, "https://wsus.corp.example:8531/", "DIRECT", true);
	expect("p:1", bp, "http://wsus.corp.example:8530/", "p:1", false);
}

Test(proxysel, bypass_lists_with_several_entries)
{
	const char *bp = "<local>; *.corp.example  10.*;wsus.other.example";

	expect("p:1", bp, "http://wsus/", "DIRECT", true);
	expect("p:1", bp, "http://a.corp.example/", "DIRECT", true);
	expect("p:1", bp, "http://10.0.0.1/", "DIRECT", true);
	expect("p:1", bp, "http://wsus.other.example/", "DIRECT", true);
	expect("p:1", bp, "http://update.microsoft.com/", "p:1", false);
}

Test(proxysel, bypass_without_proxy_is_still_direct)
{
	/* Nothing to bypass: direct, and not because of the bypass list. */
	expect(NULL, "<local>", "http://wsus/", "DIRECT", false);
	expect("http=hp:1", "*", "https://wsus/", "DIRECT", false);
}

Test(proxysel, userinfo_is_not_the_host)
{
	expect("p:1", "wsus.corp.example",
	       "http://user:pw@wsus.corp.example:8530/x", "DIRECT", true);
	expect("p:1", "evil.example", "http://evil.example@wsus/", "p:1",
	       false);
}

Test(proxysel, proxy_bypassed_directly)
{
	cr_assert(proxy_bypassed("<local>", "http", "wsus", 80));
	cr_assert(!proxy_bypassed(NULL, "http", "wsus", 80));
	cr_assert(!proxy_bypassed("", "http", "wsus", 80));
	cr_assert(!proxy_bypassed("wsus:81", "http", "wsus", 80));
	cr_assert(proxy_bypassed("http://wsus:80", "http", "wsus", 80));
}

/* ---- through the host ------------------------------------------------------
 */

/* healthy.json with these machine proxy settings. */
static struct host *
host_with(const char *proxy, const char *bypass)
{
	cJSON *doc = fx_load_example("healthy.json"), *p;

	cJSON_DeleteItemFromObjectCaseSensitive(doc, "winhttp_proxy");
	p = cJSON_AddObjectToObject(doc, "winhttp_proxy");
	if (proxy != NULL)
		cJSON_AddStringToObject(p, "proxy", proxy);
	if (bypass != NULL)
		cJSON_AddStringToObject(p, "bypass", bypass);
	return fx_open_doc_take(doc);
}

Test(proxysel, for_url_sets_facts)
{
	struct host *h = host_with("proxy.corp.example:8080", "<local>");
	cJSON *facts = cJSON_CreateObject();
	char *proxy = NULL;

	cr_assert_eq(
	    proxy_for_url(h, "http://wsus.corp.example:8530/", &proxy, facts),
	    HR_OK);
	cr_assert_str_eq(proxy, "proxy.corp.example:8080");
	cr_assert_str_eq(
	    cJSON_GetObjectItem(facts, "effective_proxy")->valuestring,
	    "proxy.corp.example:8080");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(facts, "bypassed")));
	free(proxy);

	/* Asked again, the facts are replaced, not duplicated. */
	cr_assert_eq(proxy_for_url(h, "http://wsus:8530/", &proxy, facts),
		     HR_OK);
	cr_assert_null(proxy);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(facts, "effective_proxy")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(facts, "bypassed")));
	cr_assert_eq(cJSON_GetArraySize(facts), 2);
	cJSON_Delete(facts);
	host_close(h);
}

Test(proxysel, for_url_without_proxy)
{
	struct host *h = host_with(NULL, NULL);
	cJSON *facts = cJSON_CreateObject();
	char *proxy = (char *)"x";

	cr_assert_eq(proxy_for_url(h, "https://wsus:8531/", &proxy, facts),
		     HR_OK);
	cr_assert_null(proxy);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(facts, "effective_proxy")));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(facts, "bypassed")));
	cJSON_Delete(facts);
	host_close(h);
}

Test(proxysel, for_url_with_unusable_proxy)
{
	struct host *h = host_with("proxy.corp.example:80800", NULL);
	cJSON *facts = cJSON_CreateObject();
	char *proxy = (char *)"x";

	cr_assert_eq(proxy_for_url(h, "http://wsus:8530/", &proxy, facts),
		     E_INVALIDARG);
	cr_assert_null(proxy);
	/* No decision, no facts about one. */
	cr_assert_null(cJSON_GetObjectItem(facts, "effective_proxy"));
	cJSON_Delete(facts);
	host_close(h);
}

/* A host whose WinHTTP settings cannot be read. */
Test(proxysel, for_url_reports_the_read_error)
{
	const struct fx_fault denied[] = {
	    {"winhttp_proxy", NULL, hr_from_win32(WIN32_ACCESS_DENIED)},
	    {NULL, NULL, 0}};
	struct host *h = fx_fault_host(host_with("p:1", NULL), denied);
	char *proxy = (char *)"x";

	cr_assert_eq(proxy_for_url(h, "http://wsus/", &proxy, NULL),
		     0x80070005u);
	cr_assert_null(proxy);
	host_close(h);
}
