/*
 * probe_winhttp.c: the outbound HTTP probe on Windows, with WinHTTP, the
 * stack BITS and the update agent use themselves; and the machine's and
 * the user's WinHTTP proxy settings.
 *
 * Same contract as probe_curl.c: HTTP/1.1, no redirects followed, no
 * proxy unless one is given, full TLS verification against the system
 * store, failures as WinHTTP's own error numbers (0x80072EE7 and so on),
 * one session per call and nothing shared between calls.
 *
 * req->ca_file is ignored here: it exists so the Linux tests can trust
 * their own CA; on Windows trust is the machine's certificate store, and
 * that is exactly what BITS would see.
 *
 * WinHTTP's timeouts are per phase. Each blocking call gets what is left
 * of the budget, so a probe ends within about timeout_ms; only a slow
 * name resolution followed by a slow connect inside one WinHttpSendRequest
 * can add up to twice that.
 */
#include "platform/host_win32_int.h"
#include "platform/probe.h"

#include <winhttp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/xalloc.h"

#define WIDEN_(s) L##s
#define WIDEN(s)  WIDEN_(s)

/* What the status callback saw, per request (its context value). */
struct trace {
	uint64_t t0, resolved, connected, sending, sent, received;
	DWORD secure_flags;
	wchar_t ip[64];
};

static void
copy_ip(struct trace *t, const void *info, DWORD len)
{
	const wchar_t *w = info;
	size_t n = 0;

	if (w == NULL)
		return;
	/* The length is in bytes on Windows and in characters in some
	 * versions of Wine; the string is NUL-terminated either way. */
	(void)len;
	while (n < sizeof(t->ip) / sizeof(*t->ip) - 1 && w[n] != L'\0') {
		t->ip[n] = w[n];
		n++;
	}
	t->ip[n] = L'\0';
}

static void CALLBACK
on_status(HINTERNET h, DWORD_PTR ctx, DWORD status, LPVOID info, DWORD len)
{
	struct trace *t = (struct trace *)ctx;
	uint64_t now = plat_now_ms();

	(void)h;
	if (t == NULL)
		return;
	switch (status) {
	case WINHTTP_CALLBACK_STATUS_NAME_RESOLVED:
		t->resolved = now;
		if (t->ip[0] == L'\0')
			copy_ip(t, info, len);
		break;
	case WINHTTP_CALLBACK_STATUS_CONNECTED_TO_SERVER:
		t->connected = now;
		copy_ip(t, info, len);
		break;
	case WINHTTP_CALLBACK_STATUS_SENDING_REQUEST:
		if (t->sending == 0)
			t->sending = now;
		break;
	case WINHTTP_CALLBACK_STATUS_REQUEST_SENT:
		t->sent = now;
		break;
	case WINHTTP_CALLBACK_STATUS_RESPONSE_RECEIVED:
		if (t->received == 0)
			t->received = now;
		break;
	case WINHTTP_CALLBACK_STATUS_SECURE_FAILURE:
		if (info != NULL)
			t->secure_flags |= *(const DWORD *)info;
		break;
	default:
		break;
	}
}

/* The certificate problem behind ERROR_WINHTTP_SECURE_FAILURE, in the
 * order curl's OpenSSL checks find them: chain, dates, name. */
static DWORD
secure_error(DWORD err, DWORD flags)
{
	if (err != ERROR_WINHTTP_SECURE_FAILURE)
		return err;
	if (flags & WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA)
		return ERROR_WINHTTP_SECURE_INVALID_CA;
	if (flags & WINHTTP_CALLBACK_STATUS_FLAG_CERT_DATE_INVALID)
		return ERROR_WINHTTP_SECURE_CERT_DATE_INVALID;
	if (flags & WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID)
		return ERROR_WINHTTP_SECURE_CERT_CN_INVALID;
	if (flags & WINHTTP_CALLBACK_STATUS_FLAG_CERT_REVOKED)
		return ERROR_WINHTTP_SECURE_CERT_REVOKED;
	if (flags & WINHTTP_CALLBACK_STATUS_FLAG_CERT_WRONG_USAGE)
		return ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE;
	return err;
}

/* WinHTTP's own words for its error, else the number. */
static char *
error_text(DWORD err)
{
	wchar_t *msg = NULL;
	char *s;
	size_t n;

	if (FormatMessageW(
		FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_HMODULE |
		    FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
		GetModuleHandleW(L"winhttp.dll"), err, 0, (LPWSTR)&msg, 0,
		NULL) == 0 ||
	    msg == NULL)
		return xasprintf("WinHTTP error %lu", (unsigned long)err);
	s = w32_utf8(msg);
	LocalFree(msg);
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n' ||
			 s[n - 1] == ' ' || s[n - 1] == '.'))
		s[--n] = '\0';
	return s;
}

/* The parts of a URL WinHTTP needs, as copies. */
struct url {
	wchar_t *host, *path;
	INTERNET_PORT port;
	bool https;
};

static void
url_clear(struct url *u)
{
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

static wchar_t *
wdup_n(const wchar_t *s, size_t n)
{
	wchar_t *d = xcalloc(n + 1, sizeof(*d));

	if (n > 0)
		memcpy(d, s, n * sizeof(*d));
	return d;
}

static DWORD
crack(const wchar_t *wurl, struct url *u)
{
	URL_COMPONENTSW uc;

	memset(&uc, 0, sizeof(uc));
	uc.dwStructSize = sizeof(uc);
	uc.dwHostNameLength = (DWORD)-1;
	uc.dwUrlPathLength = (DWORD)-1;
	uc.dwExtraInfoLength = (DWORD)-1;
	uc.dwSchemeLength = (DWORD)-1;
	if (!WinHttpCrackUrl(wurl, 0, 0, &uc))
		return GetLastError();
	if (uc.dwHostNameLength == 0)
		return ERROR_WINHTTP_INVALID_URL;
	u->host = wdup_n(uc.lpszHostName, uc.dwHostNameLength);
	/* Path and query are adjacent in the URL: one request target. */
	if (uc.dwUrlPathLength + uc.dwExtraInfoLength == 0)
		u->path = wdup_n(L"/", 1);
	else
		u->path = wdup_n(uc.dwUrlPathLength > 0 ? uc.lpszUrlPath
							: uc.lpszExtraInfo,
				 uc.dwUrlPathLength + uc.dwExtraInfoLength);
	u->port = uc.nPort;
	u->https = uc.nScheme == INTERNET_SCHEME_HTTPS;
	return 0;
}

/* One probe's handles and clock. */
struct probe {
	HINTERNET session, connect, request;
	struct trace t;
	uint64_t deadline;
	bool https;
};

/* What is left of the budget, at least 1 ms (0 means "no limit"). */
static int
remaining(const struct probe *p)
{
	uint64_t now = plat_now_ms();

	if (now >= p->deadline)
		return 1;
	return p->deadline - now > INT32_MAX ? INT32_MAX
					     : (int)(p->deadline - now);
}

static bool
expired(const struct probe *p)
{
	return plat_now_ms() >= p->deadline;
}

/* The response headers have a timeout of their own (90 s by default on
 * Windows, none in Wine). */
static bool
set_timeouts(struct probe *p)
{
	int ms = remaining(p);
	DWORD dms = (DWORD)ms;

	return WinHttpSetTimeouts(p->request, ms, ms, ms, ms) &&
	       WinHttpSetOption(p->request,
				WINHTTP_OPTION_RECEIVE_RESPONSE_TIMEOUT, &dms,
				sizeof(dms));
}

static DWORD
open_request(struct probe *p, const struct probe_request *req,
	     const struct url *u)
{
	DWORD off = WINHTTP_DISABLE_REDIRECTS | WINHTTP_DISABLE_COOKIES |
		    WINHTTP_DISABLE_AUTHENTICATION;
	wchar_t *proxy = NULL, *verb = NULL;
	DWORD err = 0;

	if (req->proxy != NULL && w32_wide(req->proxy, &proxy) != HR_OK)
		return ERROR_INVALID_PARAMETER;
	p->session = WinHttpOpen(L"wsusdiag/" WIDEN(WSUSDIAG_VERSION),
				 proxy != NULL ? WINHTTP_ACCESS_TYPE_NAMED_PROXY
					       : WINHTTP_ACCESS_TYPE_NO_PROXY,
				 proxy != NULL ? proxy : WINHTTP_NO_PROXY_NAME,
				 WINHTTP_NO_PROXY_BYPASS, 0);
	if (p->session == NULL ||
	    WinHttpSetStatusCallback(p->session, on_status,
				     WINHTTP_CALLBACK_FLAG_ALL_NOTIFICATIONS,
				     0) == WINHTTP_INVALID_STATUS_CALLBACK ||
	    (p->connect = WinHttpConnect(p->session, u->host, u->port, 0)) ==
		NULL ||
	    w32_wide(req->method, &verb) != HR_OK ||
	    (p->request = WinHttpOpenRequest(
		 p->connect, verb, u->path, NULL, WINHTTP_NO_REFERER,
		 WINHTTP_DEFAULT_ACCEPT_TYPES,
		 u->https ? WINHTTP_FLAG_SECURE : 0)) == NULL ||
	    !WinHttpSetOption(p->request, WINHTTP_OPTION_DISABLE_FEATURE, &off,
			      sizeof(off)))
		err = GetLastError();
	free(proxy);
	free(verb);
	return err;
}

static DWORD
send_request(struct probe *p, const char *range)
{
	wchar_t *hdr = NULL;
	char *text;
	DWORD err = 0;
	BOOL ok;

	if (range != NULL) {
		/* A line break would smuggle in a header of its own. */
		if (strpbrk(range, "\r\n") != NULL)
			return ERROR_INVALID_PARAMETER;
		text = xasprintf("Range: %s", range);
		if (w32_wide(text, &hdr) != HR_OK)
			err = ERROR_INVALID_PARAMETER;
		free(text);
		if (err != 0)
			return err;
	}
	if (!set_timeouts(p))
		return GetLastError();
	ok = WinHttpSendRequest(
	    p->request, hdr != NULL ? hdr : WINHTTP_NO_ADDITIONAL_HEADERS,
	    hdr != NULL ? (DWORD)-1L : 0, WINHTTP_NO_REQUEST_DATA, 0, 0,
	    (DWORD_PTR)&p->t);
	if (!ok)
		err = GetLastError();
	free(hdr);
	return err;
}

/* A response header as UTF-8, or NULL when the server did not send it. */
static char *
header(HINTERNET req, DWORD which)
{
	DWORD size = 0;
	wchar_t *buf;
	char *s = NULL;

	WinHttpQueryHeaders(req, which, WINHTTP_HEADER_NAME_BY_INDEX,
			    WINHTTP_NO_OUTPUT_BUFFER, &size,
			    WINHTTP_NO_HEADER_INDEX);
	if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || size == 0)
		return NULL;
	buf = xcalloc(size / sizeof(wchar_t) + 1, sizeof(*buf));
	if (WinHttpQueryHeaders(req, which, WINHTTP_HEADER_NAME_BY_INDEX, buf,
				&size, WINHTTP_NO_HEADER_INDEX))
		s = w32_utf8(buf);
	free(buf);
	return s;
}

/* Content-Length as sent: digits only, else the header does not count. */
static void
content_length(HINTERNET req, struct probe_result *out)
{
	char *s = header(req, WINHTTP_QUERY_CONTENT_LENGTH), *end;
	unsigned long long v;

	if (s != NULL && s[0] >= '0' && s[0] <= '9') {
		v = strtoull(s, &end, 10);
		if (*end == '\0') {
			out->has_content_length = true;
			out->content_length = v;
		}
	}
	free(s);
}

static DWORD
receive(struct probe *p, struct probe_result *out)
{
	DWORD status = 0, size = sizeof(status), n;
	char buf[16384];

	if (!set_timeouts(p) || !WinHttpReceiveResponse(p->request, NULL))
		return GetLastError();
	if (p->t.received == 0)
		p->t.received = plat_now_ms();
	if (!WinHttpQueryHeaders(p->request,
				 WINHTTP_QUERY_STATUS_CODE |
				     WINHTTP_QUERY_FLAG_NUMBER,
				 WINHTTP_HEADER_NAME_BY_INDEX, &status, &size,
				 WINHTTP_NO_HEADER_INDEX))
		return GetLastError();
	out->http_status = (long)status;
	out->reached = PROBE_RECEIVE;
	content_length(p->request, out);
	out->content_range = header(p->request, WINHTTP_QUERY_CONTENT_RANGE);
	for (;;) {
		if (expired(p))
			return ERROR_WINHTTP_TIMEOUT;
		if (!set_timeouts(p) ||
		    !WinHttpReadData(p->request, buf, sizeof(buf), &n))
			return GetLastError();
		if (n == 0)
			return 0;
		out->body_bytes += n;
	}
}

static double
span(uint64_t from, uint64_t to)
{
	return from != 0 && to > from ? (double)(to - from) : 0;
}

/* Phases and timings from what the callback saw. */
static void
collect(const struct probe *p, struct probe_result *out)
{
	const struct trace *t = &p->t;
	uint64_t tls_end = p->https ? t->sending : t->connected;

	if (out->reached < PROBE_RECEIVE) {
		if (t->sent != 0)
			out->reached = PROBE_SEND;
		else if (p->https && t->sending != 0)
			out->reached = PROBE_TLS;
		else if (t->connected != 0)
			out->reached = PROBE_CONNECT;
		else if (t->resolved != 0)
			out->reached = PROBE_RESOLVE;
	}
	out->dns_ms = span(t->t0, t->resolved);
	out->connect_ms =
	    span(t->resolved != 0 ? t->resolved : t->t0, t->connected);
	out->tls_ms = p->https ? span(t->connected, tls_end) : 0;
	/* Wine reports "response received" for a response that failed. */
	out->first_byte_ms =
	    out->http_status > 0 ? span(t->t0, t->received) : 0;
	out->total_ms = span(t->t0, plat_now_ms());
	if (t->ip[0] != L'\0')
		out->resolved_ip = w32_utf8(t->ip);
}

static bool
request_valid(const struct probe_request *req)
{
	return req != NULL && req->url != NULL && req->method != NULL &&
	       (strcmp(req->method, "GET") == 0 ||
		strcmp(req->method, "HEAD") == 0) &&
	       req->timeout_ms > 0;
}

/*
 * Child handles keep a copy of the callback: each loses it before it is
 * closed, so no late notification (Windows may deliver HANDLE_CLOSING on
 * another thread) reaches a trace that is gone.
 */
static void
probe_close(struct probe *p)
{
	HINTERNET hs[] = {p->request, p->connect, p->session};

	for (size_t i = 0; i < sizeof(hs) / sizeof(*hs); i++) {
		if (hs[i] == NULL)
			continue;
		WinHttpSetStatusCallback(
		    hs[i], NULL, WINHTTP_CALLBACK_FLAG_ALL_NOTIFICATIONS, 0);
		WinHttpCloseHandle(hs[i]);
	}
}

hr_t
plat_http_probe(const struct probe_request *req, struct probe_result *out)
{
	struct probe p;
	struct url u = {0};
	wchar_t *wurl = NULL;
	DWORD err;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (!request_valid(req)) {
		out->detail = xstrdup("invalid probe request");
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	}
	p.t.t0 = plat_now_ms();
	p.deadline = p.t.t0 + req->timeout_ms;
	if (w32_wide(req->url, &wurl) != HR_OK)
		err = ERROR_WINHTTP_INVALID_URL;
	else if ((err = crack(wurl, &u)) == 0)
		p.https = u.https;
	if (err == 0 && (err = open_request(&p, req, &u)) == 0 &&
	    (err = send_request(&p, req->range)) == 0)
		err = receive(&p, out);
	if (err == 0)
		out->reached = PROBE_DONE;
	err = secure_error(err, p.t.secure_flags);
	collect(&p, out);
	if (err != 0)
		out->detail = error_text(err);
	probe_close(&p);
	url_clear(&u);
	free(wurl);
	return hr_from_win32(err);
}

/* WinHTTP needs no process-wide set-up. */
int
plat_probe_global_init(void)
{
	return 0;
}

/* The version of the winhttp.dll this process has loaded. */
void
plat_probe_describe(struct cJSON *libs)
{
	wchar_t path[MAX_PATH + 1];
	HMODULE m = GetModuleHandleW(L"winhttp.dll");
	char *v = NULL;
	DWORD n;

	if (m != NULL && (n = GetModuleFileNameW(m, path, MAX_PATH + 1)) > 0 &&
	    n <= MAX_PATH && w32_file_version_w(path, &v) == HR_OK)
		cJSON_AddStringToObject(libs, "winhttp", v);
	else
		cJSON_AddNullToObject(libs, "winhttp");
	free(v);
}

/* ---- proxy settings ---------------------------------------------------- */

/* WinHTTP allocates with GlobalAlloc; the copy is ours. */
static char *
take_global(wchar_t *s)
{
	char *u = w32_utf8(s);

	if (s != NULL)
		GlobalFree(s);
	return u;
}

hr_t
w32_winhttp_proxy(struct host *h, struct proxy_config *out)
{
	WINHTTP_PROXY_INFO pi;

	(void)h;
	memset(out, 0, sizeof(*out));
	memset(&pi, 0, sizeof(pi));
	if (!WinHttpGetDefaultProxyConfiguration(&pi))
		return w32_last_hr();
	out->proxy = take_global(pi.lpszProxy);
	out->bypass = take_global(pi.lpszProxyBypass);
	return HR_OK;
}

hr_t
w32_ie_proxy(struct host *h, struct proxy_config *out)
{
	WINHTTP_CURRENT_USER_IE_PROXY_CONFIG c;

	(void)h;
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!WinHttpGetIEProxyConfigForCurrentUser(&c))
		return w32_last_hr();
	out->auto_detect = c.fAutoDetect != FALSE;
	out->auto_config_url = take_global(c.lpszAutoConfigUrl);
	out->proxy = take_global(c.lpszProxy);
	out->bypass = take_global(c.lpszProxyBypass);
	return HR_OK;
}
