/*
 * proxy.c: "Make sure the WSUS server is reachable from the client",
 * the proxy part. BITS and the update agent use the machine (WinHTTP)
 * proxy, which "netsh winhttp show proxy" shows (the article's
 * proxycfg); the article has the administrator set the user's Internet
 * Explorer proxy and copy it over with "proxycfg -u", today "netsh
 * winhttp import proxy source=ie". So the check reads both, validates
 * the names (an unusable one is BITS's E_INVALIDARG, 0x80070057), probes
 * the proxies the agent would use for http and https (a name that does
 * not resolve is 0x80072EE7, a refused connection 0x80072EFD) and
 * compares the two settings.
 *
 * Each proxy is probed once, with a HEAD request to the proxy itself and
 * no proxy: how far that got tells resolution from connection in one
 * round trip, under the probe's own deadline (probe.timeout_ms).
 */
#include "checks/registry.h"
#include "checks/proxysel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define HR_NAME_NOT_RESOLVED 0x80072EE7u

#define WU_POLICY_KEY                                                          \
	"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"

#define IMPORT_REMEDY                                                          \
	"Make the Internet Explorer proxy settings right (Tools > Internet "   \
	"Options > Connections > LAN Settings), then copy them to the "        \
	"machine with netsh winhttp import proxy source=ie (the modern form "  \
	"of the article's proxycfg -u) from an elevated prompt of that user"

#define SET_REMEDY                                                             \
	"Set a valid machine proxy: netsh winhttp set proxy "                  \
	"proxy-server=\"host:port\" bypass-list=\"<local>\" (entries "         \
	"[scheme=]host[:port], separated by ';'), or netsh winhttp reset "     \
	"proxy for a direct connection"

/* At most one proxy for http and one for https. */
#define MAX_PROBES 2

struct proxy_probe {
	char *name; /* "host:port" */
	hr_t hr;
	struct probe_result res;
};

struct proxy_state {
	struct proxy_config machine, user;
	hr_t machine_hr, user_hr;
	struct proxy_probe probes[MAX_PROBES];
	size_t n_probes;
};

static bool
is_blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s != '\0'; s++)
		if (*s != ';' && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != '\n')
			return false;
	return true;
}

/* "proxy X, bypass Y" or "direct", for messages and expected/observed. */
static char *
describe(const struct proxy_config *c)
{
	if (is_blank(c->proxy))
		return xstrdup("direct (no proxy)");
	if (is_blank(c->bypass))
		return xasprintf("proxy %s, no bypass list", c->proxy);
	return xasprintf("proxy %s, bypass %s", c->proxy, c->bypass);
}

static void
add_str_or_null(cJSON *o, const char *name, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(o, name, s);
	else
		cJSON_AddNullToObject(o, name);
}

static void
add_config(cJSON *facts, const char *name, const struct proxy_config *c,
	   hr_t hr)
{
	char code[11];
	cJSON *o;

	if (hr != HR_OK) {
		error_format(hr, code);
		cJSON_AddNullToObject(facts, name);
		cJSON_AddStringToObject(facts,
					strcmp(name, "machine") == 0
					    ? "machine_error"
					    : "user_error",
					code);
		return;
	}
	o = cJSON_AddObjectToObject(facts, name);
	add_str_or_null(o, "proxy", c->proxy);
	add_str_or_null(o, "bypass", c->bypass);
	cJSON_AddBoolToObject(o, "auto_detect", c->auto_detect);
	add_str_or_null(o, "auto_config_url", c->auto_config_url);
}

/* ---- proxy.winhttp ----------------------------------------------------- */

/*
 * Where the policy names the WSUS server, the way its requests take with
 * these settings, as "; the WSUS server ... goes through ...", and the
 * facts proxy_for_url gives; "" when not known (the policy check owns a
 * missing or bad WUServer).
 */
static char *
wsus_route(struct host *h, const struct proxy_config *m, cJSON *facts)
{
	struct reg_value v = {0};
	char *proxy = NULL, *s;
	bool by = false;

	if (h->ops->reg_get(h, WU_POLICY_KEY, "WUServer", &v) != HR_OK ||
	    v.type != REGT_SZ || v.str == NULL ||
	    proxy_select(m->proxy, m->bypass, v.str, &proxy, &by) != HR_OK) {
		s = xstrdup("");
		goto out;
	}
	cJSON_AddStringToObject(facts, "wsus_url", v.str);
	add_str_or_null(facts, "effective_proxy", proxy);
	cJSON_AddBoolToObject(facts, "bypassed", by);
	if (proxy != NULL)
		s = xasprintf("; the WSUS server %s goes through %s", v.str,
			      proxy);
	else if (by)
		s = xasprintf("; the bypass list sends the WSUS server %s "
			      "direct",
			      v.str);
	else
		s = xasprintf("; the WSUS server %s is reached directly",
			      v.str);
out:
	free(proxy);
	reg_value_clear(&v);
	return s;
}

/* False when there is no machine proxy to look further into. */
static bool
judge_winhttp(const struct check_ctx *ctx, struct check_result *r,
	      const struct proxy_state *s)
{
	struct finding *f;
	char code[11], *d, *route;

	if (s->machine_hr != HR_OK) {
		error_format(s->machine_hr, code);
		f = result_add(r, "proxy.winhttp", ST_ERROR,
			       "could not read the machine (WinHTTP) proxy "
			       "settings (%s)",
			       code);
		f->error = s->machine_hr;
		return false;
	}
	d = describe(&s->machine);
	if (is_blank(s->machine.proxy)) {
		f = result_add(r, "proxy.winhttp", ST_SKIP,
			       "direct connection: no machine (WinHTTP) proxy "
			       "is set, so BITS and the update agent connect "
			       "to the server directly");
	} else {
		route = wsus_route(ctx->host, &s->machine, r->facts);
		f = result_add(r, "proxy.winhttp", ST_PASS,
			       "BITS and the update agent use the machine "
			       "(WinHTTP) proxy settings: %s%s",
			       d, route);
		free(route);
	}
	finding_set_observed(f, "%s", d);
	free(d);
	return !is_blank(s->machine.proxy);
}

/* ---- proxy.syntax ------------------------------------------------------ */

static struct finding *
bad_syntax(struct check_result *r, const char *whose, const char *list,
	   const char *bad, const char *why)
{
	struct finding *f;

	f = result_add(r, "proxy.syntax", ST_FAIL,
		       "the %s proxy \"%s\" has an unusable entry \"%s\" (%s): "
		       "BITS fails its downloads with E_INVALIDARG",
		       whose, list, bad != NULL ? bad : "", why);
	f->error = hr_from_win32(WIN32_INVALID_PARAMETER);
	finding_set_expected(f, "[scheme=][http://]host[:port] entries "
				"separated by ';' or spaces, port 1-65535");
	finding_set_observed(f, "%s", bad != NULL ? bad : list);
	return f;
}

/* Whether text parses as a proxy list; only the verdict is kept. */
static bool
list_parses(const char *text, char **bad, const char **why)
{
	struct proxy_list l;

	if (proxy_list_parse(text, &l, bad, why) != HR_OK)
		return false;
	proxy_list_clear(&l);
	return true;
}

/*
 * The machine list, which BITS uses; and the user's, which the article's
 * remedy copies over it (and which that user's own BITS jobs use).
 */
static bool
judge_syntax(struct check_result *r, const struct proxy_state *s)
{
	const char *why = NULL;
	struct finding *f;
	char *bad = NULL;

	if (!list_parses(s->machine.proxy, &bad, &why)) {
		f = bad_syntax(r, "machine (WinHTTP)", s->machine.proxy, bad,
			       why);
		finding_set_remedy(f, NULL, SET_REMEDY);
		free(bad);
		return false;
	}
	if (s->user_hr == HR_OK && !is_blank(s->user.proxy) &&
	    !list_parses(s->user.proxy, &bad, &why)) {
		f = bad_syntax(r, "user's Internet Explorer", s->user.proxy,
			       bad, why);
		finding_set_remedy(f, NULL,
				   "Correct the proxy server in Internet "
				   "Explorer (Tools > Internet Options > "
				   "Connections > LAN Settings) before "
				   "importing it with netsh winhttp import "
				   "proxy source=ie");
		free(bad);
		return true; /* the machine's own list is fine to probe */
	}
	result_add(r, "proxy.syntax", ST_PASS,
		   "every proxy entry is a usable host name and port");
	return true;
}

/* ---- probing ----------------------------------------------------------- */

/* The proxy the agent uses for URLs of this scheme, or NULL. */
static char *
proxy_for_scheme(const char *list, const char *scheme)
{
	char *url = xasprintf("%s://wsus.invalid/", scheme), *p = NULL;

	(void)proxy_select(list, NULL, url, &p, NULL);
	free(url);
	return p;
}

static void
add_target(struct proxy_state *s, char *name)
{
	size_t i;

	if (name == NULL)
		return;
	for (i = 0; i < s->n_probes; i++) {
		if (strcasecmp(s->probes[i].name, name) == 0) {
			free(name);
			return;
		}
	}
	s->probes[s->n_probes++].name = name;
}

static void
probe_one(const struct check_ctx *ctx, struct proxy_probe *p)
{
	struct host *h = ctx->host;
	uint32_t ms =
	    ctx->settings != NULL ? ctx->settings->probe_timeout_ms : 0;
	char *url = xasprintf("http://%s/", p->name);
	struct probe_request req = {
	    .method = "HEAD",
	    .url = url,
	    .timeout_ms = ms != 0 ? ms : 5000,
	};

	p->hr = h->ops->http_probe(h, &req, &p->res);
	free(url);
}

static void
add_probe_facts(cJSON *facts, const struct proxy_state *s)
{
	cJSON *a = cJSON_AddArrayToObject(facts, "proxies"), *o;
	char code[11];
	size_t i;

	for (i = 0; i < s->n_probes; i++) {
		const struct proxy_probe *p = &s->probes[i];

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "proxy", p->name);
		add_str_or_null(o, "resolved_ip", p->res.resolved_ip);
		if (p->hr != HR_OK) {
			error_format(p->hr, code);
			cJSON_AddStringToObject(o, "error", code);
		} else {
			cJSON_AddNullToObject(o, "error");
		}
		add_str_or_null(o, "detail", p->res.detail);
		cJSON_AddNumberToObject(o, "dns_ms", p->res.dns_ms);
		cJSON_AddNumberToObject(o, "connect_ms", p->res.connect_ms);
		cJSON_AddNumberToObject(o, "total_ms", p->res.total_ms);
		cJSON_AddItemToArray(a, o);
	}
}

/* ---- proxy.resolve and proxy.reachable --------------------------------- */

static void
judge_resolve(struct check_result *r, const struct proxy_state *s)
{
	const struct proxy_probe *p;
	struct finding *f;
	size_t i;

	for (i = 0; i < s->n_probes; i++) {
		p = &s->probes[i];
		if (p->hr != HR_NAME_NOT_RESOLVED)
			continue;
		f = result_add(r, "proxy.resolve", ST_FAIL,
			       "the proxy %s does not resolve: BITS reports "
			       "0x80072EE7 for every download through it",
			       p->name);
		f->error = p->hr;
		finding_set_expected(f, "an address");
		finding_set_observed(f, "%s",
				     p->res.detail != NULL ? p->res.detail
							   : "no address");
		finding_set_remedy(f, NULL,
				   "Correct the proxy name (netsh winhttp set "
				   "proxy) or its DNS record; nslookup of the "
				   "name must answer on this computer");
		return;
	}
	f = result_add(r, "proxy.resolve", ST_PASS, "the proxy %s resolves",
		       s->probes[0].name);
	if (s->probes[0].res.resolved_ip != NULL)
		finding_set_observed(f, "%s", s->probes[0].res.resolved_ip);
}

/* TCP came up, even if nothing sensible came back over it. */
static bool
connected(const struct proxy_probe *p)
{
	return p->hr == HR_OK || p->res.reached >= PROBE_CONNECT;
}

static void
unreachable(struct check_result *r, const struct proxy_probe *p, uint32_t port)
{
	struct finding *f;
	char code[11], *text;

	error_format(p->hr, code);
	f = result_add(r, "proxy.reachable", ST_FAIL,
		       "could not connect to the proxy %s (%s): BITS and the "
		       "update agent cannot reach any server through it",
		       p->name, code);
	f->error = p->hr;
	finding_set_expected(f, "a TCP connection");
	finding_set_observed(f, "%s",
			     p->res.detail != NULL ? p->res.detail : code);
	text = xasprintf("Check that the proxy service runs on %s and that no "
			 "firewall blocks this computer on port %u; or correct "
			 "the machine proxy (netsh winhttp set proxy)",
			 p->name, (unsigned)port);
	finding_set_remedy(f, NULL, text);
	free(text);
}

static uint32_t
port_of(const char *name)
{
	const char *c = strrchr(name, ':');

	return c != NULL ? (uint32_t)strtoul(c + 1, NULL, 10) : 0;
}

static void
judge_reachable(struct check_result *r, const struct proxy_state *s)
{
	const struct proxy_probe *p, *ok = NULL;
	struct finding *f;
	size_t i;

	for (i = 0; i < s->n_probes; i++) {
		p = &s->probes[i];
		if (p->hr == HR_NAME_NOT_RESOLVED)
			continue;
		if (!connected(p)) {
			unreachable(r, p, port_of(p->name));
			return;
		}
		if (p->hr != HR_OK) {
			f = result_add(r, "proxy.reachable", ST_WARN,
				       "the proxy %s accepts connections but "
				       "did not answer an HTTP request",
				       p->name);
			f->error = p->hr;
			finding_set_observed(f, "%s",
					     p->res.detail != NULL
						 ? p->res.detail
						 : "no answer");
			return;
		}
		ok = ok != NULL ? ok : p;
	}
	if (ok == NULL) {
		result_add(r, "proxy.reachable", ST_SKIP,
			   "the proxy name does not resolve, so there is "
			   "nothing to connect to");
		return;
	}
	f = result_add(r, "proxy.reachable", ST_PASS,
		       "the proxy %s accepts connections and answers HTTP",
		       ok->name);
	finding_set_observed(f, "HTTP %ld", ok->res.http_status);
}

static void
skip_network(struct check_result *r, const char *why)
{
	result_add(r, "proxy.resolve", ST_SKIP, "%s", why);
	result_add(r, "proxy.reachable", ST_SKIP, "%s", why);
}

static const struct proxy_probe *
first_not_run(const struct proxy_state *s)
{
	for (size_t i = 0; i < s->n_probes; i++)
		if (probe_not_run(s->probes[i].hr, &s->probes[i].res))
			return &s->probes[i];
	return NULL;
}

/* A probe could not run: say so, and judge nothing from the others. */
static bool
not_probed(struct check_result *r, const struct proxy_state *s)
{
	const struct proxy_probe *p = first_not_run(s);
	struct finding *f;
	char code[11];

	if (p == NULL)
		return false;
	error_format(p->hr, code);
	f = result_add(r, "proxy.resolve", ST_ERROR,
		       "the proxy %s was not probed: the probe could not run "
		       "(%s): %s",
		       p->name, code,
		       p->res.detail != NULL ? p->res.detail : "no detail");
	f->error = p->hr;
	result_add(r, "proxy.reachable", ST_SKIP, "the probe could not run");
	return true;
}

static void
judge_network(const struct check_ctx *ctx, struct check_result *r,
	      struct proxy_state *s)
{
	size_t i;

	add_target(s, proxy_for_scheme(s->machine.proxy, "http"));
	add_target(s, proxy_for_scheme(s->machine.proxy, "https"));
	if (s->n_probes == 0) {
		skip_network(r, "the machine proxy has no entry for http or "
				"https, so BITS connects directly");
		return;
	}
	for (i = 0; i < s->n_probes; i++)
		probe_one(ctx, &s->probes[i]);
	add_probe_facts(r->facts, s);
	if (not_probed(r, s))
		return;
	judge_resolve(r, s);
	judge_reachable(r, s);
}

/* ---- proxy.mismatch ---------------------------------------------------- */

static bool
same_entries(const struct proxy_list *a, const struct proxy_list *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].scheme, b->v[i].scheme) != 0 ||
		    strcasecmp(a->v[i].host, b->v[i].host) != 0 ||
		    a->v[i].port != b->v[i].port)
			return false;
	return true;
}

/* The same servers in the same order; unparseable lists as written. */
static bool
same_proxy(const char *a, const char *b)
{
	struct proxy_list la, lb;
	bool same;

	if (is_blank(a) || is_blank(b))
		return is_blank(a) == is_blank(b);
	if (proxy_list_parse(a, &la, NULL, NULL) != HR_OK)
		return strcasecmp(a, b) == 0;
	if (proxy_list_parse(b, &lb, NULL, NULL) != HR_OK) {
		proxy_list_clear(&la);
		return false;
	}
	same = same_entries(&la, &lb);
	proxy_list_clear(&la);
	proxy_list_clear(&lb);
	return same;
}

/* Case-insensitive, token by token: "<local>;*.corp" == "<LOCAL> *.corp". */
static bool
same_bypass(const char *a, const char *b)
{
	const char *sep = "; \t\r\n";

	a = a != NULL ? a : "";
	b = b != NULL ? b : "";
	for (;;) {
		size_t la, lb;

		a += strspn(a, sep);
		b += strspn(b, sep);
		la = strcspn(a, sep);
		lb = strcspn(b, sep);
		if (la != lb || strncasecmp(a, b, la) != 0)
			return false;
		if (la == 0)
			return true;
		a += la;
		b += lb;
	}
}

static void
judge_mismatch(struct check_result *r, const struct proxy_state *s)
{
	char code[11], *mine, *theirs;
	struct finding *f;

	if (s->user_hr != HR_OK) {
		error_format(s->user_hr, code);
		result_add(r, "proxy.mismatch", ST_SKIP,
			   "the user's Internet Explorer proxy settings could "
			   "not be read (%s): there is no interactive user's "
			   "profile in this context (a service, or Wine)",
			   code);
		return;
	}
	mine = describe(&s->machine);
	theirs = describe(&s->user);
	if (same_proxy(s->machine.proxy, s->user.proxy) &&
	    (is_blank(s->machine.proxy) ||
	     same_bypass(s->machine.bypass, s->user.bypass))) {
		f = result_add(r, "proxy.mismatch", ST_PASS,
			       "the machine (WinHTTP) proxy matches the user's "
			       "Internet Explorer proxy: %s%s",
			       mine,
			       s->user.auto_detect ||
				       s->user.auto_config_url != NULL
				   ? " (the user's automatic configuration "
				     "is not part of the machine settings)"
				   : "");
	} else {
		f = result_add(r, "proxy.mismatch", ST_WARN,
			       "the machine (WinHTTP) proxy, which BITS and "
			       "the update agent use, differs from the user's "
			       "Internet Explorer proxy");
		finding_set_remedy(f, NULL, IMPORT_REMEDY);
	}
	finding_set_expected(f, theirs);
	finding_set_observed(f, "%s", mine);
	free(mine);
	free(theirs);
}

/* ---- the check --------------------------------------------------------- */

static void
state_clear(struct proxy_state *s)
{
	size_t i;

	proxy_config_clear(&s->machine);
	proxy_config_clear(&s->user);
	for (i = 0; i < s->n_probes; i++) {
		free(s->probes[i].name);
		probe_result_clear(&s->probes[i].res);
	}
}

static void
proxy_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct host *h = ctx->host;
	struct proxy_state s;

	memset(&s, 0, sizeof(s));
	s.machine_hr = h->ops->winhttp_proxy(h, &s.machine);
	s.user_hr = h->ops->ie_proxy(h, &s.user);
	add_config(r->facts, "machine", &s.machine, s.machine_hr);
	add_config(r->facts, "user", &s.user, s.user_hr);
	if (!judge_winhttp(ctx, r, &s)) {
		const char *why = s.machine_hr != HR_OK
				      ? "the machine proxy could not be read"
				      : "direct connection: no machine proxy";

		result_add(r, "proxy.syntax", ST_SKIP, "%s", why);
		skip_network(r, why);
	} else if (judge_syntax(r, &s)) {
		judge_network(ctx, r, &s);
	} else {
		skip_network(r, "the machine proxy setting is unusable");
	}
	if (s.machine_hr == HR_OK)
		judge_mismatch(r, &s);
	else
		result_add(r, "proxy.mismatch", ST_SKIP,
			   "the machine proxy could not be read");
	state_clear(&s);
}

const struct check check_proxy = {
    .id = "proxy",
    .title = "Proxy used by BITS and the update agent",
    .description =
	"The machine (WinHTTP) proxy that BITS and the Windows Update agent "
	"use: its entries must be usable names and ports (else BITS fails "
	"with E_INVALIDARG), the proxies for http and https must resolve "
	"(0x80072EE7) and accept connections (0x80072EFD), within "
	"probe.timeout_ms each; and it should match the user's Internet "
	"Explorer proxy, which the article has copied to the machine "
	"(netsh winhttp import proxy source=ie, formerly proxycfg -u)",
    .seed_section = "Make sure the WSUS server is reachable from the client",
    .time_limit_ms = 15000,
    .run = proxy_run,
};
