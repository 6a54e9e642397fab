/*
 * proxysel.h: which proxy the Windows Update agent and BITS use for a URL.
 *
 * They take the machine (WinHTTP) proxy, "netsh winhttp show proxy", and
 * read it the way WINHTTP_PROXY_INFO documents it:
 * - the proxy list: entries separated by semicolons or whitespace, each
 *   ([<scheme>=][<scheme>"://"]<server>[":"<port>]); an entry with
 *   "<scheme>=" serves only URLs of that scheme and wins over the entries
 *   without one; the first fitting entry is used; no port means 80;
 *   no fitting entry means a direct connection ("http=p:80" alone sends
 *   https URLs direct);
 * - the bypass list: entries separated by semicolons or whitespace,
 *   matched case-insensitively against the URL's host: "<local>" is every
 *   name without a dot, '*' matches any run of characters ("*.corp.example"
 *   matches "wsus.corp.example" but not "corp.example", "10.*" a subnet),
 *   an optional "<scheme>://" prefix limits an entry to that scheme and an
 *   optional ":<port>" suffix to that port.
 * Proxy auto-detection (WPAD) and PAC scripts are not evaluated: the
 * WinHTTP default configuration that BITS falls back on has neither.
 */
#ifndef WSUSDIAG_PROXYSEL_H
#define WSUSDIAG_PROXYSEL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "platform/host.h"

/*
 * The proxy "host:port" the update agent would use for url with the
 * machine's WinHTTP settings (host->ops->winhttp_proxy), or NULL in
 * *proxy_out for a direct connection (no proxy, no entry for the URL's
 * scheme, or bypassed). Returns HR_OK; 0x80070057 (E_INVALIDARG, the
 * article's "incorrect proxy server name") when an entry of the proxy
 * list, or the URL, cannot be used (the whole list is judged, the way
 * the proxy check's proxy.syntax judges it); or the error of reading the
 * settings.
 * *proxy_out is NULL on every failure. When facts is non-NULL and the
 * call succeeds, sets "effective_proxy" (string or null) and "bypassed"
 * (bool: a proxy is configured for the scheme but the bypass list sends
 * this URL direct) in it.
 */
hr_t proxy_for_url(struct host *h, const char *url, char **proxy_out,
		   struct cJSON *facts);

/*
 * The same decision on given strings (proxy list and bypass list may be
 * NULL or empty): the pure part of proxy_for_url, for the checks and the
 * tests. bypassed may be NULL.
 */
hr_t proxy_select(const char *proxy_list, const char *bypass, const char *url,
		  char **proxy_out, bool *bypassed);

/* One entry of a proxy list. */
struct proxy_entry {
	char scheme[8]; /* "http", "https", or "" for every scheme */
	char *host;	/* without brackets for IPv6 literals */
	uint16_t port;
};

/* The entries of a proxy list; release with proxy_list_clear(). */
struct proxy_list {
	struct proxy_entry *v;
	size_t n;
};

/*
 * Parse and validate a whole proxy list. HR_OK (an empty or NULL list
 * gives no entries), or 0x80070057 with the first unusable entry in
 * *bad (malloc'd; may be NULL) and why in *why (static text; may be NULL).
 */
hr_t proxy_list_parse(const char *text, struct proxy_list *out, char **bad,
		      const char **why);
void proxy_list_clear(struct proxy_list *l);

/* "host:port" ("[v6]:port" for IPv6 literals), malloc'd. */
char *proxy_entry_format(const struct proxy_entry *e);

/* Whether the bypass list sends a URL with this scheme, host and port
 * direct. */
bool proxy_bypassed(const char *bypass, const char *scheme, const char *host,
		    uint16_t port);

#endif
