/*
 * probe_curl.c: the outbound HTTP probe on POSIX, with libcurl.
 *
 * The probe answers "what would BITS see if it fetched this URL now?", so
 * it behaves like WinHTTP as Windows Update configures it: HTTP/1.1, no
 * redirects followed, no proxy unless one is given (environment proxies
 * are ignored: the service runs without them), full TLS verification, and
 * failures reported as the WinHTTP HRESULTs that BITS and the update agent
 * put in their logs. One easy handle per call, nothing shared between
 * calls, so any number of threads may probe at once.
 *
 * libcurl itself is loaded on first use (dlopen), not linked: its tree
 * (OpenSSL, nghttp2, libssh2, LDAP, Kerberos, ...) is about 3 MiB of
 * memory that a daemon only ever asked for /health never needs. curl.h
 * still gives the types, the constants and the prototypes the entry
 * points are checked against.
 */
#include "platform/probe.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/xalloc.h"

/* WinHTTP error numbers (winhttp.h), wrapped as 0x8007xxxx. */
enum {
	WINHTTP_TIMEOUT = 12002,
	WINHTTP_INTERNAL_ERROR = 12004,
	WINHTTP_INVALID_URL = 12005,
	WINHTTP_UNRECOGNIZED_SCHEME = 12006,
	WINHTTP_NAME_NOT_RESOLVED = 12007,
	WINHTTP_CANNOT_CONNECT = 12029,
	WINHTTP_CONNECTION_ERROR = 12030,
	WINHTTP_SECURE_CERT_DATE_INVALID = 12037,
	WINHTTP_SECURE_CERT_CN_INVALID = 12038,
	WINHTTP_SECURE_INVALID_CA = 12045,
	WINHTTP_INVALID_SERVER_RESPONSE = 12152,
	WINHTTP_SECURE_CERT_REVOKED = 12170,
	WINHTTP_SECURE_FAILURE = 12175,
	WINHTTP_SECURE_CERT_WRONG_USAGE = 12179,
};

/*
 * OpenSSL X509_V_ERR_* numbers as CURLINFO_SSL_VERIFYRESULT reports them
 * with the OpenSSL backend. Copied rather than included: they are a stable
 * ABI and the build needs no libssl headers for them.
 */
enum {
	X509V_OK = 0,
	X509V_UNSPECIFIED = 1, /* also curl's "not verified yet" */
	X509V_UNABLE_TO_GET_ISSUER_CERT = 2,
	X509V_CERT_NOT_YET_VALID = 9,
	X509V_CERT_HAS_EXPIRED = 10,
	X509V_ERROR_IN_CERT_NOT_BEFORE_FIELD = 13,
	X509V_ERROR_IN_CERT_NOT_AFTER_FIELD = 14,
	X509V_DEPTH_ZERO_SELF_SIGNED_CERT = 18,
	X509V_SELF_SIGNED_CERT_IN_CHAIN = 19,
	X509V_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20,
	X509V_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21,
	X509V_CERT_REVOKED = 23,
	X509V_INVALID_PURPOSE = 26,
	X509V_CERT_UNTRUSTED = 27,
	X509V_HOSTNAME_MISMATCH = 62,
	X509V_IP_ADDRESS_MISMATCH = 64,
};

/* The file to load; CMake names the one the build was configured with. */
#ifndef WSD_LIBCURL_SONAME
#define WSD_LIBCURL_SONAME "libcurl.so.4"
#endif

/*
 * The libcurl entry points this file calls, typed from curl.h's own
 * prototypes so the compiler checks every call against them. (What is
 * lost: typecheck-gcc.h's per-option checks of setopt and getinfo,
 * macros over the real names.)
 */
struct curl_api {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_version_info) *version_info;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
};

/*
 * The library: written once, by load_once (init_rc by init_once), and
 * read-only after, so probes on any thread share it without a lock. It
 * is never unloaded: OpenSSL, once initialised, cannot be again.
 */
static struct {
	struct curl_api fn;
	bool loaded;
	char error[256]; /* why it is not loaded, in dlerror()'s words */
	CURLcode init_rc;
} curl = {.init_rc = CURLE_FAILED_INIT};

static void
load_failed(void *h)
{
	const char *why = dlerror();

	snprintf(curl.error, sizeof(curl.error), "%s",
		 why != NULL ? why : "unknown error");
	if (h != NULL)
		dlclose(h);
}

#define LOAD(f)                                                                \
	(ok = ok && (curl.fn.f =                                               \
			 (__typeof__(curl.fn.f))dlsym(h, "curl_" #f)) != NULL)

static void
load_once(void)
{
	void *h = dlopen(WSD_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	bool ok = h != NULL;

	LOAD(global_init);
	LOAD(version_info);
	LOAD(easy_init);
	LOAD(easy_setopt);
	LOAD(easy_perform);
	LOAD(easy_getinfo);
	LOAD(easy_strerror);
	LOAD(easy_cleanup);
	if (ok)
		curl.loaded = true;
	else
		load_failed(h);
}

#undef LOAD

/* Loads libcurl on the first call; false, with curl.error, if it cannot. */
static bool
curl_loaded(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	return curl.loaded;
}

/* Header name match: "Name:" at the start of line, case-insensitive. */
static const char *
header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	return line + n + 1;
}

/* Copy of [p, end) without surrounding blanks and the CRLF. */
static char *
trimmed(const char *p, const char *end)
{
	char *s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	s = xmalloc((size_t)(end - p) + 1);
	memcpy(s, p, (size_t)(end - p));
	s[end - p] = '\0';
	return s;
}

/* Content-Length as sent: digits only, else the header does not count. */
static bool
parse_length(const char *p, const char *end, uint64_t *out)
{
	char *s = trimmed(p, end), *q;
	unsigned long long v;
	bool ok;

	errno = 0;
	v = strtoull(s, &q, 10);
	ok = s[0] >= '0' && s[0] <= '9' && *q == '\0' && errno == 0;
	if (ok)
		*out = v;
	free(s);
	return ok;
}

/*
 * Every status line starts a new response: a proxy's CONNECT answer or a
 * 1xx interim response must not lend its headers to the final one.
 */
static void
header_reset(struct probe_result *r)
{
	r->has_content_length = false;
	r->content_length = 0;
	free(r->content_range);
	r->content_range = NULL;
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct probe_result *r = arg;
	size_t len = size * nitems;
	const char *end = buf + len, *v;
	uint64_t n;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		header_reset(r);
	} else if ((v = header_value(buf, len, "Content-Length")) != NULL) {
		if (parse_length(v, end, &n)) {
			r->has_content_length = true;
			r->content_length = n;
		}
	} else if ((v = header_value(buf, len, "Content-Range")) != NULL) {
		free(r->content_range);
		r->content_range = trimmed(v, end);
	}
	return len;
}

static size_t
on_body(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct probe_result *r = arg;

	(void)buf;
	r->body_bytes += size * nmemb;
	return size * nmemb;
}

/* TLS verification failures, by what OpenSSL found wrong. */
static uint32_t
tls_verify_error(long verify)
{
	switch (verify) {
	case X509V_CERT_NOT_YET_VALID:
	case X509V_CERT_HAS_EXPIRED:
	case X509V_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509V_ERROR_IN_CERT_NOT_AFTER_FIELD:
		return WINHTTP_SECURE_CERT_DATE_INVALID;
	case X509V_HOSTNAME_MISMATCH:
	case X509V_IP_ADDRESS_MISMATCH:
		return WINHTTP_SECURE_CERT_CN_INVALID;
	case X509V_UNABLE_TO_GET_ISSUER_CERT:
	case X509V_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509V_SELF_SIGNED_CERT_IN_CHAIN:
	case X509V_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509V_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509V_CERT_UNTRUSTED:
		return WINHTTP_SECURE_INVALID_CA;
	case X509V_CERT_REVOKED:
		return WINHTTP_SECURE_CERT_REVOKED;
	case X509V_INVALID_PURPOSE:
		return WINHTTP_SECURE_CERT_WRONG_USAGE;
	default:
		return WINHTTP_SECURE_FAILURE;
	}
}

/* Only OpenSSL's verify results are X509_V_ERR numbers. */
static bool
tls_backend_is_openssl(void)
{
	const curl_version_info_data *vi =
	    curl.fn.version_info(CURLVERSION_NOW);

	return vi->ssl_version != NULL &&
	       strncmp(vi->ssl_version, "OpenSSL/", 8) == 0;
}

static uint32_t
tls_error(CURLcode rc, long verify)
{
	if (!tls_backend_is_openssl())
		return WINHTTP_SECURE_FAILURE;
	/*
	 * The chain verified but the peer check failed: that is curl's own
	 * host name check, which leaves OpenSSL's verdict at "ok" (or at
	 * its "not verified yet" mark when it runs first).
	 */
	if (rc == CURLE_PEER_FAILED_VERIFICATION &&
	    (verify == X509V_OK || verify == X509V_UNSPECIFIED))
		return WINHTTP_SECURE_CERT_CN_INVALID;
	return tls_verify_error(verify);
}

/*
 * The WinHTTP error BITS would report for this curl failure. connected
 * tells a server's reply curl will not parse (it reports HTTP/0.9 as an
 * unsupported protocol) from a URL it will not fetch.
 */
static uint32_t
winhttp_error(CURLcode rc, long verify, bool connected)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
		return connected ? WINHTTP_INVALID_SERVER_RESPONSE
				 : WINHTTP_UNRECOGNIZED_SCHEME;
	case CURLE_URL_MALFORMAT:
		return WINHTTP_INVALID_URL;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
		return WINHTTP_NAME_NOT_RESOLVED;
	case CURLE_COULDNT_CONNECT:
		return WINHTTP_CANNOT_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return WINHTTP_TIMEOUT;
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return WINHTTP_INVALID_SERVER_RESPONSE;
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return WINHTTP_CONNECTION_ERROR;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return tls_error(rc, verify);
	default:
		return WINHTTP_INTERNAL_ERROR;
	}
}

/* CURLOPT_RANGE wants "0-99"; the request says "bytes=0-99". */
static const char *
curl_range(const char *range)
{
	if (strncasecmp(range, "bytes=", 6) == 0)
		return range + 6;
	return range;
}

#define SET(opt, val) (ok = ok && curl.fn.easy_setopt(c, opt, val) == CURLE_OK)

/*
 * "" disables every proxy, the environment's included (the service has
 * none); NOPROXY "" keeps a no_proxy variable from bypassing ours.
 */
static bool
configure_proxy(CURL *c, const char *proxy, char **proxy_url)
{
	bool ok = true;

	if (proxy != NULL)
		*proxy_url = strstr(proxy, "://") != NULL
				 ? xstrdup(proxy)
				 : xasprintf("http://%s", proxy);
	SET(CURLOPT_PROXY, *proxy_url != NULL ? *proxy_url : "");
	SET(CURLOPT_PROXYTYPE, (long)CURLPROXY_HTTP);
	SET(CURLOPT_NOPROXY, "");
	return ok;
}

/* Set every option; false if libcurl refused one (too old a libcurl). */
static bool
configure(CURL *c, const struct probe_request *req, struct probe_result *out,
	  char *errbuf, char **proxy_url)
{
	bool ok = true;
	long ms = (long)req->timeout_ms;

	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* BITS and the update agent speak HTTP/1.1, also over TLS. */
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_TIMEOUT_MS, ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ms);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file != NULL)
		SET(CURLOPT_CAINFO, req->ca_file);
	SET(CURLOPT_USERAGENT, "wsusdiag/" WSUSDIAG_VERSION);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, out);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, out);
	if (strcmp(req->method, "HEAD") == 0)
		SET(CURLOPT_NOBODY, 1L);
	else
		SET(CURLOPT_HTTPGET, 1L);
	if (req->range != NULL)
		SET(CURLOPT_RANGE, curl_range(req->range));
	return ok && configure_proxy(c, req->proxy, proxy_url);
}

#undef SET

static double
info_ms(CURL *c, CURLINFO what)
{
	curl_off_t us = 0;

	if (curl.fn.easy_getinfo(c, what, &us) != CURLE_OK || us < 0)
		return 0;
	return (double)us / 1000.0;
}

static double
span_ms(double from, double to)
{
	return to > from && from > 0 ? to - from : 0;
}

static bool
is_https(CURL *c)
{
	char *scheme = NULL;

	return curl.fn.easy_getinfo(c, CURLINFO_SCHEME, &scheme) == CURLE_OK &&
	       scheme != NULL && strcasecmp(scheme, "https") == 0;
}

/* Timings, as phase durations except first byte and total (from start). */
static void
collect_times(CURL *c, struct probe_result *out, double *connect_at)
{
	double dns = info_ms(c, CURLINFO_NAMELOOKUP_TIME_T);
	double conn = info_ms(c, CURLINFO_CONNECT_TIME_T);
	double app = info_ms(c, CURLINFO_APPCONNECT_TIME_T);

	out->dns_ms = dns;
	out->connect_ms = span_ms(dns, conn);
	out->tls_ms = span_ms(conn, app);
	out->first_byte_ms = info_ms(c, CURLINFO_STARTTRANSFER_TIME_T);
	out->total_ms = info_ms(c, CURLINFO_TOTAL_TIME_T);
	*connect_at = conn;
}

/*
 * Whether TCP came up. curl leaves the connect time at 0 when TLS fails
 * afterwards, but it learns the local port only from a connected socket.
 */
static bool
tcp_connected(CURL *c, double connect_at)
{
	long port = 0;

	if (connect_at > 0)
		return true;
	if (curl.fn.easy_getinfo(c, CURLINFO_LOCAL_PORT, &port) != CURLE_OK)
		return false;
	return port > 0;
}

/*
 * The last phase that completed, from what curl measured: a phase that
 * never finished has no trace. SEND counts once curl has written request
 * bytes; RECEIVE once a status line came back.
 */
static enum probe_phase
collect_phase(CURL *c, const struct probe_result *out, bool connected)
{
	long sent = 0;

	if (out->http_status > 0)
		return PROBE_RECEIVE;
	if (!connected)
		return out->dns_ms > 0 ? PROBE_RESOLVE : 0;
	if (is_https(c) && out->tls_ms <= 0)
		return PROBE_CONNECT;
	(void)curl.fn.easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent);
	if (sent <= 0)
		return is_https(c) ? PROBE_TLS : PROBE_CONNECT;
	return PROBE_SEND;
}

/*
 * A proxy that refuses the CONNECT tunnel has answered over HTTP all the
 * same (407 is how a proxy asks for credentials): report its status, as
 * WinHTTP does, and keep curl's words so the caller can tell it apart.
 */
static long
tunnel_refusal(CURL *c, CURLcode rc)
{
	long code = 0;

	if (rc == CURLE_OK || curl.fn.easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE,
						   &code) != CURLE_OK)
		return 0;
	return code >= 300 ? code : 0;
}

static hr_t
finish(CURL *c, CURLcode rc, const char *errbuf, struct probe_result *out)
{
	char *ip = NULL;
	long status = 0, verify = 0, refused;
	double connect_at;
	bool connected;

	collect_times(c, out, &connect_at);
	connected = tcp_connected(c, connect_at);
	(void)curl.fn.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	out->http_status = status;
	if (curl.fn.easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
	    ip != NULL && ip[0] != '\0')
		out->resolved_ip = xstrdup(ip);
	refused = tunnel_refusal(c, rc);
	if (refused > 0)
		out->http_status = refused;
	if (rc != CURLE_OK)
		out->detail = xstrdup(
		    errbuf[0] != '\0' ? errbuf : curl.fn.easy_strerror(rc));
	if (rc == CURLE_OK || refused > 0) {
		out->reached = PROBE_DONE;
		return HR_OK;
	}
	/* No final status line: what was parsed was a tunnel's answer. */
	if (out->http_status == 0)
		header_reset(out);
	out->reached = collect_phase(c, out, connected);
	(void)curl.fn.easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify);
	return hr_from_win32(winhttp_error(rc, verify, connected));
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
 * A zero timeout or another method is the caller's bug, not a network
 * finding: E_INVALIDARG's Win32 twin, never a probe without a deadline.
 */
hr_t
plat_http_probe(const struct probe_request *req, struct probe_result *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char *proxy_url = NULL;
	CURL *c = NULL;
	CURLcode rc;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	if (!request_valid(req)) {
		out->detail = xstrdup("invalid probe request");
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	}
	if (!curl_loaded()) {
		out->detail =
		    xasprintf("libcurl could not be loaded: %s", curl.error);
		return HR_PROBE_NOT_RUN;
	}
	if (plat_probe_global_init() != 0 ||
	    (c = curl.fn.easy_init()) == NULL) {
		out->detail = xstrdup("libcurl could not be initialised");
		hr = HR_PROBE_NOT_RUN;
		goto out;
	}
	if (!configure(c, req, out, errbuf, &proxy_url)) {
		out->detail = xasprintf("libcurl refused an option: %s",
					errbuf[0] != '\0' ? errbuf : "?");
		hr = HR_PROBE_NOT_RUN;
		goto out;
	}
	rc = curl.fn.easy_perform(c);
	hr = finish(c, rc, errbuf, out);
out:
	curl.fn.easy_cleanup(c);
	free(proxy_url);
	return hr;
}

static void
init_once(void)
{
	if (curl_loaded())
		curl.init_rc = curl.fn.global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * On the first probe, not at start: libcurl's TLS library costs a few
 * MiB of memory that a daemon only asked for /health never needs.
 */
int
plat_probe_global_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_once);
	return curl.init_rc == CURLE_OK ? 0 : -1;
}

/*
 * /version loads the library to name it but leaves its initialisation
 * (OpenSSL's, the costly part) to the first probe. Without the library
 * the version is null, as winhttp's is; a probe says why (curl.error).
 */
void
plat_probe_describe(struct cJSON *libs)
{
	if (curl_loaded())
		cJSON_AddStringToObject(
		    libs, "curl",
		    curl.fn.version_info(CURLVERSION_NOW)->version);
	else
		cJSON_AddNullToObject(libs, "curl");
}
