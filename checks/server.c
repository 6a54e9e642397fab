/*
 * server.c: "Make sure the WSUS server is reachable from the client":
 * fetch what the article fetches (http://WSUSSERVER:port/iuident.cab),
 * and what current WSUS serves the agent (/selfupdate/wuident.cab), the
 * way BITS and the update agent would: through the proxy they would use
 * for that URL, then the two requests BITS depends on for every download
 * (HEAD for the file size, GET with a Range for a part of it).
 *
 * Decisions:
 * - The URL is WUServer from this client's policy and nothing else: no
 *   request parameter can point the probes anywhere.
 * - The probes run in sequence with one budget, probe.timeout_ms (capped
 *   so the check ends within its own time limit): each gets what the
 *   earlier ones left. A name that does not resolve, a connection that
 *   fails or times out, or a server that never answers ends the probing:
 *   an unreachable server costs one timeout, not one per probe.
 * - The first request tells where the transport fails: resolve, connect,
 *   TLS (https only; the chain, name and dates against the machine's
 *   trust store, in WinHTTP's words), then HTTP. Through a proxy the
 *   name resolved and the address connected to are the proxy's: the
 *   origin's name is the proxy's to resolve, and its failure comes back
 *   as an HTTP status.
 * - /selfupdate/wuident.cab is what the agent fetches: a failure there
 *   fails. /iuident.cab is the article's test file, which not every WSUS
 *   version serves: its failure alone warns.
 * - HEAD and Range go to the file that was served (wuident.cab first).
 *   The Range answer must be 206 with "bytes 0-99/N" (0-(N-1) for a file
 *   shorter than 100 bytes), N the size the full GET delivered, and
 *   exactly those bytes; anything else is what BITS reports as
 *   0x80200013.
 * - HTTP statuses other than the expected one carry BITS's code for them
 *   (0x80190000 + status, BG_E_HTTP_ERROR_xxx), so 403 is 0x80190193
 *   and 404 0x80190194, as the BITS job would fail.
 */
#include "checks/registry.h"
#include "checks/proxysel.h"
#include "checks/svc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define WU_POLICY_KEY                                                          \
	"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"

#define PATH_IUIDENT "/iuident.cab"
#define PATH_WUIDENT "/selfupdate/wuident.cab"
#define RANGE	     "bytes=0-99"
#define RANGE_LEN    100u

/* The check's own limit, and what the probes leave of it for the rest. */
#define TIME_LIMIT_MS 30000u
#define MARGIN_MS     2000u

/* WU_E_PT_SUS_SERVER_NOT_SET, as the policy check reports it. */
#define HR_SUS_SERVER_NOT_SET 0x80244011u
#define HR_MISSING_FILE_SIZE  0x80200011u /* BG_E_MISSING_FILE_SIZE */
#define HR_NO_RANGE_SUPPORT   0x80200013u /* BG_E_INSUFFICIENT_RANGE_... */
#define HR_BG_HTTP(status)    (0x80190000u | (uint32_t)(status))
#define HR_INVALIDARG	      0x80070057u

/* WinHTTP error numbers (winhttp.h). */
enum {
	WINHTTP_TIMEOUT = 12002,
	WINHTTP_INVALID_URL = 12005,
	WINHTTP_UNRECOGNIZED_SCHEME = 12006,
	WINHTTP_NAME_NOT_RESOLVED = 12007,
	WINHTTP_SECURE_CERT_DATE_INVALID = 12037,
	WINHTTP_SECURE_CERT_CN_INVALID = 12038,
	WINHTTP_CLIENT_AUTH_CERT_NEEDED = 12044,
	WINHTTP_SECURE_INVALID_CA = 12045,
	WINHTTP_SECURE_CERT_REV_FAILED = 12057,
	WINHTTP_SECURE_CHANNEL_ERROR = 12157,
	WINHTTP_SECURE_INVALID_CERT = 12169,
	WINHTTP_SECURE_CERT_REVOKED = 12170,
	WINHTTP_SECURE_FAILURE = 12175,
	WINHTTP_SECURE_CERT_WRONG_USAGE = 12179,
};

/* The findings, in the order of diagnosis. */
enum stage {
	S_URL,
	S_RESOLVE,
	S_CONNECT,
	S_TLS,
	S_IUIDENT,
	S_CONTENT_LENGTH,
	S_RANGE,
	S_COUNT,
};

static const char *const stage_ids[S_COUNT] = {
    [S_URL] = "server.url",
    [S_RESOLVE] = "server.resolve",
    [S_CONNECT] = "server.connect",
    [S_TLS] = "server.tls",
    [S_IUIDENT] = "server.iuident",
    [S_CONTENT_LENGTH] = "server.content_length",
    [S_RANGE] = "server.range",
};

/* WUServer, split the way the probes need it. */
struct wsus_url {
	char *base; /* scheme://authority, without a trailing '/' */
	char *host; /* without brackets */
	unsigned port;
	bool https;
};

/* One request and what came back. */
struct probe {
	const char *method;
	const char *path;
	const char *range;
	bool ran;
	hr_t hr;
	struct probe_result res;
};

/* Where the transport of a request failed. */
enum fail_at {
	AT_NONE, /* an HTTP response arrived */
	AT_RESOLVE,
	AT_CONNECT,
	AT_TLS,
	AT_HTTP, /* connected (and secured), then no usable response */
};

struct server {
	const struct check_ctx *ctx;
	struct check_result *r;
	struct wsus_url url;
	char *proxy;	 /* effective proxy "host:port", NULL: direct */
	uint32_t budget; /* ms for all probes */
	uint64_t deadline;
	const char *stopped; /* why later probes do not run, or NULL */
	cJSON *probes;	     /* facts.probes */
};

/* ---- small helpers ----------------------------------------------------- */

static struct finding *add(struct server *s, enum stage st, enum status status,
			   const char *fmt, ...)
    __attribute__((format(gnu_printf, 4, 5)));

static struct finding *
add(struct server *s, enum stage st, enum status status, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	f = result_add(s->r, stage_ids[st], status, "%s", msg);
	free(msg);
	return f;
}

/* The same skip for every finding from stage on. */
static void
skip_from(struct server *s, enum stage from, const char *why)
{
	for (enum stage st = from; st < S_COUNT; st++)
		add(s, st, ST_SKIP, "not probed: %s", why);
}

static const char *
http_reason(long status)
{
	static const struct {
		long status;
		const char *reason;
	} t[] = {
	    {200, "OK"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {407, "Proxy Authentication Required"},
	    {408, "Request Timeout"},
	    {416, "Range Not Satisfiable"},
	    {500, "Internal Server Error"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].status == status)
			return t[i].reason;
	return "";
}

/* "403 Forbidden", "599". */
static char *
status_text(long status)
{
	const char *why = http_reason(status);

	return xasprintf("%ld%s%s", status, *why != '\0' ? " " : "", why);
}

/* BITS's code for a status it did not want: BG_E_HTTP_ERROR_xxx. */
static hr_t
status_hr(long status)
{
	return status > 0 && status < 1000 ? HR_BG_HTTP(status) : 0;
}

static bool
is_tls_error(hr_t hr)
{
	static const uint32_t codes[] = {
	    WINHTTP_SECURE_CERT_DATE_INVALID, WINHTTP_SECURE_CERT_CN_INVALID,
	    WINHTTP_CLIENT_AUTH_CERT_NEEDED,  WINHTTP_SECURE_INVALID_CA,
	    WINHTTP_SECURE_CERT_REV_FAILED,   WINHTTP_SECURE_CHANNEL_ERROR,
	    WINHTTP_SECURE_INVALID_CERT,      WINHTTP_SECURE_CERT_REVOKED,
	    WINHTTP_SECURE_FAILURE,	      WINHTTP_SECURE_CERT_WRONG_USAGE,
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (hr == hr_from_win32(codes[i]))
			return true;
	return false;
}

/* ---- the URL ----------------------------------------------------------- */

static void
wsus_url_clear(struct wsus_url *u)
{
	free(u->base);
	free(u->host);
	memset(u, 0, sizeof(*u));
}

/* The port of an authority's ":port" suffix, 0 when malformed. */
static unsigned
parse_port(const char *p, const char *end)
{
	unsigned v = 0;

	if (p == end || end - p > 5)
		return 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned)(*p - '0');
	}
	return v <= 65535 ? v : 0;
}

/* host[:port] or [v6][:port] into u; false when malformed. */
static bool
parse_authority(const char *a, const char *end, struct wsus_url *u)
{
	const char *host = a, *hend, *colon = NULL;

	if (a < end && *a == '[') {
		hend = memchr(a, ']', (size_t)(end - a));
		if (hend == NULL)
			return false;
		host = a + 1;
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
		if (hend + 1 < end && colon == NULL)
			return false;
	} else {
		colon = memchr(a, ':', (size_t)(end - a));
		hend = colon != NULL ? colon : end;
	}
	if (hend == host || memchr(a, '@', (size_t)(end - a)) != NULL)
		return false;
	u->port = u->https ? 443 : 80;
	if (colon != NULL && (u->port = parse_port(colon + 1, end)) == 0)
		return false;
	u->host = xasprintf("%.*s", (int)(hend - host), host);
	return true;
}

/*
 * The agent appends its own paths to WUServer, so the policy holds
 * scheme, host and port only (a trailing '/' is harmless). Returns HR_OK
 * or the WinHTTP error the agent would meet, with the reason in *why.
 */
static hr_t
parse_url(const char *s, struct wsus_url *u, const char **why)
{
	const char *auth, *end;

	if (strncasecmp(s, "https://", 8) == 0) {
		u->https = true;
		auth = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		auth = s + 7;
	} else {
		*why = "it is not an http:// or https:// URL";
		return hr_from_win32(WINHTTP_UNRECOGNIZED_SCHEME);
	}
	end = auth + strcspn(auth, "/?# \t");
	if ((*end != '\0' && strcmp(end, "/") != 0) ||
	    !parse_authority(auth, end, u)) {
		wsus_url_clear(u);
		*why = "it is not of the form http(s)://server[:port]";
		return hr_from_win32(WINHTTP_INVALID_URL);
	}
	u->base = xasprintf("%.*s", (int)(end - s), s);
	return HR_OK;
}

/* ---- server.url -------------------------------------------------------- */

static void
url_remedy(struct finding *f)
{
	svc_set_remedy(f, "gpupdate",
		       "set the WSUS server in the GPO setting \"Specify "
		       "intranet Microsoft update service location\" "
		       "(http(s)://server[:port]), then gpupdate /force; the "
		       "policy check says what is wrong with the policy");
}

/* Judge WUServer; true when it can be probed (s->url is set). */
static bool
judge_url(struct server *s, hr_t read, const struct reg_value *v)
{
	struct finding *f;
	const char *why = NULL;
	char code[11];
	hr_t hr;

	if (read == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		f = add(s, S_URL, ST_FAIL,
			"no WSUS server is set by policy (WUServer under %s): "
			"there is nothing to probe; see the policy check",
			WU_POLICY_KEY);
		f->error = HR_SUS_SERVER_NOT_SET;
		finding_set_observed(f, "not set");
	} else if (read != HR_OK) {
		error_format(read, code);
		f = add(s, S_URL, ST_ERROR,
			"could not read WUServer under %s (%s)", WU_POLICY_KEY,
			code);
		f->error = read;
		return false;
	} else if (v->type != REGT_SZ || v->str == NULL) {
		f = add(s, S_URL, ST_FAIL,
			"WUServer is not a string (REG_SZ); see the policy "
			"check");
		f->error = hr_from_win32(WIN32_INVALID_DATA);
	} else if ((hr = parse_url(v->str, &s->url, &why)) != HR_OK) {
		f = add(s, S_URL, ST_FAIL,
			"WUServer \"%s\" cannot be probed: %s; see the policy "
			"check",
			v->str, why);
		f->error = hr;
		finding_set_observed(f, "%s", v->str);
	} else {
		f = add(s, S_URL, ST_PASS,
			"the WSUS server set by policy is %s", s->url.base);
		finding_set_observed(f, "%s", v->str);
		return true;
	}
	finding_set_expected(f, "http(s)://server[:port]");
	url_remedy(f);
	return false;
}

/* ---- probing ----------------------------------------------------------- */

static uint32_t
remaining_ms(const struct server *s)
{
	uint64_t now = plat_now_ms();

	return now < s->deadline ? (uint32_t)(s->deadline - now) : 0;
}

static cJSON *
num_or_null(bool known, double v)
{
	/* Microseconds are the most a timing here means. */
	return known ? cJSON_CreateNumber((double)(long long)(v * 1000 + 0.5) /
					  1000)
		     : cJSON_CreateNull();
}

static void
probe_fact(struct server *s, const struct probe *p)
{
	cJSON *o = cJSON_CreateObject();
	char code[11];

	cJSON_AddStringToObject(o, "method", p->method);
	cJSON_AddStringToObject(o, "path", p->path);
	if (p->range != NULL)
		cJSON_AddStringToObject(o, "range", p->range);
	cJSON_AddItemToObject(
	    o, "status",
	    num_or_null(p->res.http_status > 0, (double)p->res.http_status));
	error_format(p->hr, code);
	if (p->hr != HR_OK)
		cJSON_AddStringToObject(o, "error", code);
	else
		cJSON_AddNullToObject(o, "error");
	if (p->res.detail != NULL)
		cJSON_AddStringToObject(o, "detail", p->res.detail);
	cJSON_AddItemToObject(o, "content_length",
			      num_or_null(p->res.has_content_length,
					  (double)p->res.content_length));
	if (p->res.content_range != NULL)
		cJSON_AddStringToObject(o, "content_range",
					p->res.content_range);
	cJSON_AddNumberToObject(o, "body_bytes", (double)p->res.body_bytes);
	cJSON_AddItemToObject(o, "total_ms",
			      num_or_null(true, p->res.total_ms));
	cJSON_AddItemToArray(s->probes, o);
}

/*
 * One request with what is left of the budget, unless an earlier probe
 * ended the probing or no time is left (p->ran stays false).
 */
static void
run_probe(struct server *s, struct probe *p)
{
	struct host *h = s->ctx->host;
	struct probe_request req = {0};
	char *url;

	if (s->stopped != NULL || (req.timeout_ms = remaining_ms(s)) == 0)
		return;
	url = xasprintf("%s%s", s->url.base, p->path);
	req.method = p->method;
	req.url = url;
	req.range = p->range;
	req.proxy = s->proxy;
	/* NULL: the machine's trust store (the simulated host has its own:
	 * host_sim.c, "trust"). */
	req.ca_file = NULL;
	p->hr = h->ops->http_probe(h, &req, &p->res);
	p->ran = true;
	probe_fact(s, p);
	free(url);
}

static enum fail_at
failed_at(const struct server *s, const struct probe *p)
{
	if (p->hr == HR_OK)
		return AT_NONE;
	if (p->hr == hr_from_win32(WINHTTP_NAME_NOT_RESOLVED))
		return AT_RESOLVE;
	if (p->res.reached < PROBE_CONNECT)
		return AT_CONNECT;
	if (s->url.https && (is_tls_error(p->hr) || p->res.reached < PROBE_TLS))
		return AT_TLS;
	return AT_HTTP;
}

/* After a failed request: nothing more to learn from this server. */
static void
stop_after(struct server *s, const struct probe *p)
{
	if (p->ran && p->hr != HR_OK)
		s->stopped = "an earlier request to the server failed";
}

/* The finding of a probe that did not run. */
static void
add_not_run(struct server *s, enum stage st)
{
	struct finding *f;

	if (s->stopped != NULL) {
		add(s, st, ST_SKIP, "not probed: %s", s->stopped);
		return;
	}
	f = add(s, st, ST_ERROR,
		"not probed: the earlier requests used up the %u ms the probes "
		"may take (probe.timeout_ms)",
		s->budget);
	f->error = hr_from_win32(WINHTTP_TIMEOUT);
}

/* A request that got no usable HTTP response fails the finding st. */
static void
add_transport(struct server *s, enum stage st, const struct probe *p)
{
	struct finding *f;
	char code[11];

	error_format(p->hr, code);
	if (p->hr == hr_from_win32(WINHTTP_TIMEOUT))
		f = add(s, st, ST_FAIL,
			"%s %s: no answer within %u ms: the server accepted "
			"the connection but did not respond",
			p->method, p->path, s->budget);
	else
		f = add(s, st, ST_FAIL, "%s %s failed (%s): %s", p->method,
			p->path, code,
			p->res.detail != NULL ? p->res.detail : "no detail");
	f->error = p->hr;
	finding_set_observed(f, "%s", code);
}

/* ---- resolve, connect, TLS --------------------------------------------- */

/* The host a proxy "host:port" names. */
static char *
proxy_host(const char *proxy)
{
	const char *end;

	if (proxy[0] == '[' && (end = strchr(proxy, ']')) != NULL)
		return xasprintf("%.*s", (int)(end - proxy - 1), proxy + 1);
	end = strrchr(proxy, ':');
	return end != NULL ? xasprintf("%.*s", (int)(end - proxy), proxy)
			   : xstrdup(proxy);
}

static void
judge_resolve(struct server *s, const struct probe *p, enum fail_at at,
	      const char *name)
{
	struct finding *f;
	const char *who = s->proxy != NULL ? "the proxy " : "";

	if (at == AT_RESOLVE) {
		f = add(s, S_RESOLVE, ST_FAIL, "%s%s does not resolve: %s", who,
			name,
			p->res.detail != NULL ? p->res.detail : "no address");
		f->error = p->hr;
		finding_set_observed(f, "no address");
		finding_set_remedy(
		    f, NULL,
		    s->proxy != NULL
			? "correct the machine proxy (netsh winhttp set proxy) "
			  "or its DNS name; see the proxy check"
			: "check the server name in WUServer and this client's "
			  "DNS (nslookup, ipconfig /all); the name must "
			  "resolve "
			  "from this computer");
		return;
	}
	if (p->res.resolved_ip != NULL && strcmp(p->res.resolved_ip, name) == 0)
		f = add(s, S_RESOLVE, ST_PASS,
			"%s%s is an address: there is no name to resolve", who,
			name);
	else
		f = add(s, S_RESOLVE, ST_PASS, "%s%s resolves to %s", who, name,
			p->res.resolved_ip != NULL ? p->res.resolved_ip
						   : "an address");
	if (p->res.resolved_ip != NULL)
		finding_set_observed(f, "%s", p->res.resolved_ip);
}

static void
judge_connect(struct server *s, const struct probe *p, enum fail_at at,
	      const char *name, unsigned port)
{
	struct finding *f;
	const char *who = s->proxy != NULL ? "the proxy " : "";
	char code[11];

	if (at == AT_RESOLVE) {
		add(s, S_CONNECT, ST_SKIP, "not probed: %s%s does not resolve",
		    who, name);
		return;
	}
	if (at == AT_CONNECT) {
		error_format(p->hr, code);
		f = add(s, S_CONNECT, ST_FAIL,
			"cannot connect to %s%s port %u (%s): %s", who, name,
			port, code,
			p->res.detail != NULL ? p->res.detail : "no detail");
		f->error = p->hr;
		finding_set_observed(f, "%s", code);
		finding_set_remedy(
		    f, NULL,
		    "check that the server listens on that port "
		    "(the WSUS site in IIS) and that no firewall "
		    "on the way or on the server blocks it "
		    "(Test-NetConnection NAME -Port PORT)");
		return;
	}
	f = add(s, S_CONNECT, ST_PASS, "connected to %s%s port %u", who, name,
		port);
	finding_set_observed(f, "connected");
}

static const char *
tls_remedy(hr_t hr)
{
	if (hr == hr_from_win32(WINHTTP_SECURE_CERT_DATE_INVALID))
		return "renew the WSUS server's certificate (or set this "
		       "computer's clock right) and bind the new one to the "
		       "WSUS site in IIS";
	if (hr == hr_from_win32(WINHTTP_SECURE_CERT_CN_INVALID))
		return "issue the WSUS server a certificate whose subject "
		       "alternative names include the name in WUServer, or "
		       "set WUServer to a name the certificate carries";
	if (hr == hr_from_win32(WINHTTP_SECURE_INVALID_CA))
		return "trust the CA that issued the WSUS server's certificate "
		       "on this computer (Trusted Root Certification "
		       "Authorities of the computer account, by GPO), or use "
		       "a certificate from a CA it trusts";
	return "check the WSUS server's certificate and TLS settings "
	       "(SSL binding of the WSUS site) against what this computer "
	       "accepts";
}

static void
judge_tls(struct server *s, const struct probe *p, enum fail_at at)
{
	struct finding *f;
	char code[11];

	if (!s->url.https) {
		add(s, S_TLS, ST_SKIP, "WUServer is http: no TLS");
		return;
	}
	if (at == AT_RESOLVE || at == AT_CONNECT) {
		add(s, S_TLS, ST_SKIP, "not probed: no connection");
		return;
	}
	if (at == AT_TLS) {
		error_format(p->hr, code);
		f = add(s, S_TLS, ST_FAIL,
			"the TLS handshake with %s failed (%s): %s",
			s->url.host, code,
			p->res.detail != NULL ? p->res.detail : "no detail");
		f->error = p->hr;
		finding_set_observed(f, "%s", code);
		finding_set_remedy(f, NULL, tls_remedy(p->hr));
		return;
	}
	if (p->res.tls_ms <= 0 && p->res.detail != NULL) {
		/* A proxy that answered the CONNECT itself. */
		add(s, S_TLS, ST_SKIP,
		    "not probed: the proxy refused the tunnel");
		return;
	}
	f = add(s, S_TLS, ST_PASS,
		"the certificate of %s is trusted, names it and is in date",
		s->url.host);
	finding_set_observed(f, "valid");
}

/* ---- server.iuident ---------------------------------------------------- */

static void
iuident_remedy(struct finding *f, long status)
{
	if (status == 403 || status == 401 || status == 407)
		finding_set_remedy(
		    f, NULL,
		    "the server or a proxy refuses the request: check the "
		    "WSUS site's authentication and permissions in IIS "
		    "(anonymous access to the root and to /selfupdate) and "
		    "any proxy rule for the WSUS server");
	else if (status == 404)
		finding_set_remedy(
		    f, NULL,
		    "the WSUS site does not serve the file: check that the URL "
		    "names the WSUS site and port, and the site's selfupdate "
		    "virtual directory (wsusutil checkhealth)");
	else
		finding_set_remedy(f, NULL,
				   "check the WSUS site in IIS and the "
				   "server's event logs for the cause of this "
				   "answer");
}

static void
iuident_bad_status(struct server *s, const struct probe *p, enum status st,
		   const char *note)
{
	struct finding *f;
	char *text = status_text(p->res.http_status);

	f = add(s, S_IUIDENT, st, "GET %s answered %s%s", p->path, text, note);
	f->error = status_hr(p->res.http_status);
	finding_set_expected(f, "200 OK");
	finding_set_observed(f, "%s", text);
	iuident_remedy(f, p->res.http_status);
	free(text);
}

/* The file served for HEAD and Range, or NULL. */
static const struct probe *
judge_iuident(struct server *s, const struct probe *iu, const struct probe *wu)
{
	struct finding *f;

	if (!wu->ran) {
		add_not_run(s, S_IUIDENT);
		return NULL;
	}
	if (wu->hr != HR_OK) {
		add_transport(s, S_IUIDENT, wu);
		return NULL;
	}
	if (wu->res.http_status != 200) {
		iuident_bad_status(s, wu, ST_FAIL,
				   ": the agent cannot fetch its self-update "
				   "information");
		return iu->res.http_status == 200 ? iu : NULL;
	}
	if (iu->res.http_status != 200) {
		iuident_bad_status(
		    s, iu, ST_WARN,
		    ", the article's test file; " PATH_WUIDENT
		    ", which the agent fetches, answered 200 OK");
		return wu;
	}
	f = add(s, S_IUIDENT, ST_PASS,
		"GET " PATH_IUIDENT " and " PATH_WUIDENT
		" answered 200 OK (%llu and %llu bytes)",
		(unsigned long long)iu->res.body_bytes,
		(unsigned long long)wu->res.body_bytes);
	finding_set_expected(f, "200 OK");
	finding_set_observed(f, "200 OK");
	return wu;
}

/* ---- server.content_length --------------------------------------------- */

static void
judge_content_length(struct server *s, const struct probe *p)
{
	struct finding *f;
	char *text;

	if (!p->ran) {
		add_not_run(s, S_CONTENT_LENGTH);
		return;
	}
	if (p->hr != HR_OK) {
		add_transport(s, S_CONTENT_LENGTH, p);
		return;
	}
	if (p->res.http_status != 200) {
		text = status_text(p->res.http_status);
		f = add(s, S_CONTENT_LENGTH, ST_FAIL,
			"HEAD %s answered %s: BITS asks for the file size "
			"with HEAD before every download",
			p->path, text);
		f->error = status_hr(p->res.http_status);
		finding_set_observed(f, "%s", text);
		free(text);
	} else if (!p->res.has_content_length) {
		f = add(s, S_CONTENT_LENGTH, ST_FAIL,
			"HEAD %s answered without Content-Length: BITS cannot "
			"learn the file size and fails the job",
			p->path);
		f->error = HR_MISSING_FILE_SIZE;
		finding_set_observed(f, "no Content-Length");
		finding_set_remedy(f, NULL,
				   "configure the proxy (or the server) to "
				   "return Content-Length on HEAD; some Apache "
				   "2.0 proxies are known not to");
	} else {
		f = add(s, S_CONTENT_LENGTH, ST_PASS,
			"HEAD %s returned Content-Length: %llu", p->path,
			(unsigned long long)p->res.content_length);
		finding_set_observed(f, "Content-Length: %llu",
				     (unsigned long long)p->res.content_length);
	}
	finding_set_expected(f, "200 OK with Content-Length");
}

/* ---- server.range ------------------------------------------------------ */

/* "bytes A-B/N" exactly, with decimal numbers. */
static bool
parse_content_range(const char *s, unsigned long long *a, unsigned long long *b,
		    unsigned long long *n)
{
	int end = 0;

	return s != NULL &&
	       sscanf(s, "bytes %llu-%llu/%llu%n", a, b, n, &end) == 3 &&
	       s[end] == '\0';
}

static struct finding *range_fail(struct server *s, const char *expected,
				  const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));

/* A Range answer BITS cannot use: 0x80200013. */
static struct finding *
range_fail(struct server *s, const char *expected, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	f = add(s, S_RANGE, ST_FAIL,
		"%s: BITS downloads in ranges and fails the job", msg);
	f->error = HR_NO_RANGE_SUPPORT;
	finding_set_expected(f, expected);
	finding_set_remedy(f, NULL,
			   "configure the proxy servers on the way (and the "
			   "server) to support HTTP/1.1 Range requests");
	free(msg);
	return f;
}

static void
judge_partial(struct server *s, const struct probe *p, uint64_t size,
	      const char *expected)
{
	unsigned long long a, b, n, last = size >= RANGE_LEN ? 99 : size - 1;
	struct finding *f;
	const char *cr = p->res.content_range;

	if (!parse_content_range(cr, &a, &b, &n) || a != 0 || b != last ||
	    n != size) {
		f = range_fail(s, expected,
			       "GET %s with Range: " RANGE
			       " answered 206 with Content-Range \"%s\"",
			       p->path, cr != NULL ? cr : "(none)");
		finding_set_observed(f, "%s",
				     cr != NULL ? cr : "no Content-Range");
	} else if (p->res.body_bytes != last + 1) {
		f = range_fail(s, expected,
			       "GET %s with Range: " RANGE
			       " sent %llu bytes for Content-Range \"%s\"",
			       p->path, (unsigned long long)p->res.body_bytes,
			       cr);
		finding_set_observed(f, "%llu bytes",
				     (unsigned long long)p->res.body_bytes);
	} else {
		f = add(s, S_RANGE, ST_PASS,
			"GET %s with Range: " RANGE " answered 206 with "
			"Content-Range \"%s\"",
			p->path, cr);
		finding_set_expected(f, expected);
		finding_set_observed(f, "%s", cr);
	}
}

static void
judge_range(struct server *s, const struct probe *p, uint64_t size)
{
	unsigned long long last = size >= RANGE_LEN ? 99 : size - 1;
	char *expected, *text;
	struct finding *f;

	if (!p->ran) {
		add_not_run(s, S_RANGE);
		return;
	}
	if (p->hr != HR_OK) {
		add_transport(s, S_RANGE, p);
		return;
	}
	expected = xasprintf("206 with Content-Range: bytes 0-%llu/%llu", last,
			     (unsigned long long)size);
	if (p->res.http_status == 206) {
		judge_partial(s, p, size, expected);
	} else if (p->res.http_status == 200) {
		f = range_fail(s, expected,
			       "GET %s with Range: " RANGE
			       " was ignored: 200 with the whole file (%llu "
			       "bytes)",
			       p->path, (unsigned long long)p->res.body_bytes);
		finding_set_observed(f, "200 OK");
	} else {
		text = status_text(p->res.http_status);
		f = add(s, S_RANGE, ST_FAIL,
			"GET %s with Range: " RANGE " answered %s", p->path,
			text);
		f->error = status_hr(p->res.http_status);
		finding_set_expected(f, expected);
		finding_set_observed(f, "%s", text);
		free(text);
	}
	free(expected);
}

/* ---- facts ------------------------------------------------------------- */

static void
add_timing(struct server *s, const struct probe *p, enum fail_at at)
{
	cJSON *t = cJSON_AddObjectToObject(s->r->facts, "timing_ms");
	bool connected = at != AT_RESOLVE && at != AT_CONNECT;

	cJSON_AddItemToObject(t, "dns",
			      num_or_null(at != AT_RESOLVE, p->res.dns_ms));
	cJSON_AddItemToObject(t, "connect",
			      num_or_null(connected, p->res.connect_ms));
	cJSON_AddItemToObject(
	    t, "tls",
	    num_or_null(s->url.https && p->res.tls_ms > 0, p->res.tls_ms));
	cJSON_AddItemToObject(
	    t, "first_byte",
	    num_or_null(p->res.http_status > 0, p->res.first_byte_ms));
}

static void
add_address_facts(struct server *s, const struct probe *p, const char *name)
{
	cJSON *f = s->r->facts;

	cJSON_AddStringToObject(f, "resolved_name", name);
	if (p->res.resolved_ip != NULL)
		cJSON_AddStringToObject(f, "resolved_address",
					p->res.resolved_ip);
	else
		cJSON_AddNullToObject(f, "resolved_address");
}

/* ---- the check --------------------------------------------------------- */

/* The effective proxy; false (with findings) when it cannot be used. */
static bool
select_proxy(struct server *s)
{
	struct finding *f;
	char *url = xasprintf("%s%s", s->url.base, PATH_WUIDENT);
	char code[11];
	hr_t hr;

	hr = proxy_for_url(s->ctx->host, url, &s->proxy, s->r->facts);
	free(url);
	if (hr == HR_OK)
		return true;
	error_format(hr, code);
	add(s, S_RESOLVE, ST_SKIP, "not probed: no usable proxy setting");
	if (hr == HR_INVALIDARG) {
		f = add(
		    s, S_CONNECT, ST_FAIL,
		    "the machine (WinHTTP) proxy setting for this URL cannot "
		    "be used (%s): BITS and the agent fail the same way; "
		    "see the proxy check",
		    code);
		finding_set_remedy(f, NULL,
				   "correct the proxy with netsh winhttp set "
				   "proxy (or netsh winhttp import proxy "
				   "source=ie)");
	} else {
		f = add(s, S_CONNECT, ST_ERROR,
			"could not read the machine (WinHTTP) proxy setting "
			"(%s)",
			code);
	}
	f->error = hr;
	skip_from(s, S_TLS, "no usable proxy setting");
	return false;
}

static uint32_t
probe_budget(const struct check_ctx *ctx)
{
	uint32_t t =
	    ctx->settings != NULL ? ctx->settings->probe_timeout_ms : 0;

	if (t == 0 || t > TIME_LIMIT_MS - MARGIN_MS)
		t = TIME_LIMIT_MS - MARGIN_MS;
	return t;
}

/* GET both files; then HEAD and Range on the one that was served. */
static void
probe_files(struct server *s, struct probe *iu, struct probe *wu,
	    struct probe *head, struct probe *rng)
{
	const struct probe *file;

	stop_after(s, iu);
	run_probe(s, wu);
	stop_after(s, wu);
	if (iu->hr != HR_OK) {
		add_transport(s, S_IUIDENT, iu);
		skip_from(s, S_CONTENT_LENGTH, s->stopped);
		return;
	}
	if ((file = judge_iuident(s, iu, wu)) == NULL) {
		skip_from(s, S_CONTENT_LENGTH,
			  wu->ran && wu->hr == HR_OK ? "no file is served"
						     : "the file was not "
						       "fetched");
		return;
	}
	head->path = rng->path = file->path;
	run_probe(s, head);
	stop_after(s, head);
	run_probe(s, rng);
	judge_content_length(s, head);
	if (file->res.body_bytes == 0)
		add(s, S_RANGE, ST_SKIP, "not probed: %s is empty", file->path);
	else
		judge_range(s, rng, file->res.body_bytes);
}

/*
 * The probe itself failed (WinHTTP's internal error; libcurl not
 * loaded): nothing is known about the server, which is no finding
 * against it.
 */
static void
probe_did_not_run(struct server *s, const struct probe *p)
{
	struct finding *f;
	char code[11];

	error_format(p->hr, code);
	f = add(s, S_RESOLVE, ST_ERROR,
		"not probed: the probe could not run (%s): %s", code,
		p->res.detail != NULL ? p->res.detail : "no detail");
	f->error = p->hr;
	skip_from(s, S_CONNECT, "the probe could not run");
}

static void
probe_server(struct server *s)
{
	struct probe iu = {.method = "GET", .path = PATH_IUIDENT};
	struct probe wu = {.method = "GET", .path = PATH_WUIDENT};
	struct probe head = {.method = "HEAD"};
	struct probe rng = {.method = "GET", .range = RANGE};
	char *name =
	    s->proxy != NULL ? proxy_host(s->proxy) : xstrdup(s->url.host);
	unsigned port = s->url.port;
	enum fail_at at;

	if (s->proxy != NULL) {
		const char *colon = strrchr(s->proxy, ':');

		port = colon != NULL ? (unsigned)atoi(colon + 1) : 80;
	}
	run_probe(s, &iu);
	if (probe_not_run(iu.hr, &iu.res)) {
		probe_did_not_run(s, &iu);
		goto out;
	}
	at = failed_at(s, &iu);
	judge_resolve(s, &iu, at, name);
	judge_connect(s, &iu, at, name, port);
	judge_tls(s, &iu, at);
	add_address_facts(s, &iu, name);
	add_timing(s, &iu, at);
	if (at == AT_RESOLVE || at == AT_CONNECT || at == AT_TLS)
		skip_from(s, S_IUIDENT, "no connection to the server");
	else
		probe_files(s, &iu, &wu, &head, &rng);
out:
	probe_result_clear(&iu.res);
	probe_result_clear(&wu.res);
	probe_result_clear(&head.res);
	probe_result_clear(&rng.res);
	free(name);
}

static void
server_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct server s = {.ctx = ctx, .r = r};
	struct host *h = ctx->host;
	struct reg_value v = {0};
	hr_t hr;

	hr = h->ops->reg_get(h, WU_POLICY_KEY, "WUServer", &v);
	cJSON_AddItemToObject(r->facts, "url",
			      hr == HR_OK && v.type == REGT_SZ && v.str != NULL
				  ? cJSON_CreateString(v.str)
				  : cJSON_CreateNull());
	if (!judge_url(&s, hr, &v)) {
		skip_from(&s, S_RESOLVE, "no usable WSUS URL");
		goto out;
	}
	if (!select_proxy(&s))
		goto out;
	s.budget = probe_budget(ctx);
	s.deadline = plat_now_ms() + s.budget;
	cJSON_AddNumberToObject(r->facts, "probe_budget_ms", s.budget);
	s.probes = cJSON_AddArrayToObject(r->facts, "probes");
	probe_server(&s);
out:
	reg_value_clear(&v);
	wsus_url_clear(&s.url);
	free(s.proxy);
}

const struct check check_server = {
    .id = "server",
    .title = "WSUS server reachability",
    .description =
	"The WSUS server set by policy (WUServer) is reachable the way BITS "
	"and the update agent reach it, through the machine proxy: the name "
	"resolves, the port connects, TLS verifies (https), /iuident.cab and "
	"/selfupdate/wuident.cab are served, HEAD returns Content-Length and "
	"a Range request is answered with 206; facts give the effective "
	"proxy, the address and the time of each phase",
    .seed_section = "Make sure the WSUS server is reachable from the client",
    /* The probes share probe.timeout_ms, capped at TIME_LIMIT_MS less
     * MARGIN_MS. */
    .time_limit_ms = TIME_LIMIT_MS,
    .run = server_run,
};
