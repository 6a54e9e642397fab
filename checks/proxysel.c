/*
 * proxysel.c: the proxy the update agent uses for a URL, from the
 * machine's WinHTTP proxy and bypass lists (see proxysel.h for the rules).
 */
#include "checks/proxysel.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"

#define E_INVALIDARG_HR hr_from_win32(WIN32_INVALID_PARAMETER)

/* Both lists separate their entries with semicolons or whitespace. */
static bool
is_sep(char c)
{
	return c == ';' || isspace((unsigned char)c);
}

/* The next entry of a list: [*start, *start + *len), false at the end. */
static bool
next_token(const char **p, const char **start, size_t *len)
{
	const char *s = *p;

	while (*s != '\0' && is_sep(*s))
		s++;
	if (*s == '\0')
		return false;
	*start = s;
	while (*s != '\0' && !is_sep(*s))
		s++;
	*len = (size_t)(s - *start);
	*p = s;
	return true;
}

/* "://" in [s, s + len): memmem is not in every C library we build on. */
static const char *
find_sep(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 3 <= len; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return s + i;
	return NULL;
}

static bool
prefix_ci(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(s, prefix, n) == 0;
}

/* 1..65535 in decimal, nothing else. */
static bool
parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* A DNS name or IPv4 literal: letters, digits, '-', '_', non-empty
 * labels. */
static bool
valid_name(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 || len > 1; /* a trailing dot ends an FQDN */
}

static bool
valid_v6(const char *s, size_t len)
{
	size_t i;

	if (len < 2)
		return false;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' &&
		    s[i] != '.')
			return false;
	return memchr(s, ':', len) != NULL;
}

/*
 * host[:port] or [v6][:port] into host and port; *has_port says whether
 * a port was written. Pure syntax: no name is looked up.
 */
static bool
split_hostport(const char *s, size_t len, char **host, uint16_t *port,
	       bool *has_port)
{
	const char *h = s, *colon = NULL, *end = s + len;
	size_t hlen;

	*has_port = false;
	if (len > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (rb == NULL || !valid_v6(s + 1, (size_t)(rb - s - 1)))
			return false;
		h = s + 1;
		hlen = (size_t)(rb - h);
		if (rb + 1 < end && rb[1] != ':')
			return false;
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		if (!valid_name(s, hlen))
			return false;
	}
	if (colon != NULL) {
		if (!parse_port(colon + 1, (size_t)(end - colon - 1), port))
			return false;
		*has_port = true;
	}
	*host = xmalloc(hlen + 1);
	memcpy(*host, h, hlen);
	(*host)[hlen] = '\0';
	return true;
}

/* "<scheme>=" at the start of an entry: letters only, up to '='. */
static const char *
entry_scheme(const char *s, size_t len, struct proxy_entry *e, const char **why)
{
	const char *eq = memchr(s, '=', len);
	size_t n, i;

	e->scheme[0] = '\0';
	if (eq == NULL)
		return s;
	n = (size_t)(eq - s);
	for (i = 0; i < n; i++)
		if (!isalpha((unsigned char)s[i]))
			break;
	if (n == 0 || i < n || n >= sizeof(e->scheme)) {
		*why = "the scheme before '=' is not a scheme name";
		return NULL;
	}
	for (i = 0; i < n; i++)
		e->scheme[i] = (char)tolower((unsigned char)s[i]);
	e->scheme[n] = '\0';
	return eq + 1;
}

/* One entry: [<scheme>=][<scheme>"://"]<server>[":"<port>]. */
static bool
parse_entry(const char *s, size_t len, struct proxy_entry *e, const char **why)
{
	const char *p = entry_scheme(s, len, e, why), *end = s + len;
	bool has_port;

	if (p == NULL)
		return false;
	if (prefix_ci(p, (size_t)(end - p), "http://"))
		p += 7;
	else if (prefix_ci(p, (size_t)(end - p), "https://"))
		p += 8;
	else if (find_sep(p, (size_t)(end - p)) != NULL) {
		*why = "WinHTTP reaches proxies over http only";
		return false;
	}
	/* A closing slash is how many people write it; WinHTTP takes it. */
	if (end > p && end[-1] == '/')
		end--;
	if (p == end) {
		*why = "no proxy server name";
		return false;
	}
	if (!split_hostport(p, (size_t)(end - p), &e->host, &e->port,
			    &has_port)) {
		*why = "not a valid host name and port (1-65535)";
		return false;
	}
	if (!has_port)
		e->port = 80;
	return true;
}

void
proxy_list_clear(struct proxy_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].host);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

hr_t
proxy_list_parse(const char *text, struct proxy_list *out, char **bad,
		 const char **why)
{
	const char *p = text != NULL ? text : "", *tok, *reason = NULL;
	size_t len, cap = 0;
	struct proxy_entry e;

	memset(out, 0, sizeof(*out));
	if (bad != NULL)
		*bad = NULL;
	while (next_token(&p, &tok, &len)) {
		memset(&e, 0, sizeof(e));
		if (!parse_entry(tok, len, &e, &reason)) {
			if (bad != NULL)
				*bad = xasprintf("%.*s", (int)len, tok);
			if (why != NULL)
				*why = reason;
			proxy_list_clear(out);
			return E_INVALIDARG_HR;
		}
		out->v = xgrow(out->v, &cap, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = e;
	}
	return HR_OK;
}

char *
proxy_entry_format(const struct proxy_entry *e)
{
	if (strchr(e->host, ':') != NULL)
		return xasprintf("[%s]:%u", e->host, (unsigned)e->port);
	return xasprintf("%s:%u", e->host, (unsigned)e->port);
}

/* '*' matches any run of characters; case-insensitive. */
static bool
glob_ci(const char *pat, size_t plen, const char *s)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
	size_t slen = strlen(s);

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (pi < plen && tolower((unsigned char)pat[pi]) ==
					    tolower((unsigned char)s[si])) {
			pi++;
			si++;
		} else if (star_p != (size_t)-1) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* The host pattern of a bypass entry and its port (NULL: any port). */
static void
bypass_hostport(const char *s, size_t len, const char **host, size_t *hlen,
		const char **port, size_t *port_len)
{
	const char *end = s + len, *colon, *rb;

	*host = s;
	*port = NULL;
	*port_len = 0;
	if (len > 0 && s[0] == '[' && (rb = memchr(s, ']', len)) != NULL) {
		*host = s + 1;
		*hlen = (size_t)(rb - s - 1);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', len);
		*hlen = colon != NULL ? (size_t)(colon - s) : len;
	}
	if (colon != NULL) {
		*port = colon + 1;
		*port_len = (size_t)(end - colon - 1);
	}
}

static bool
bypass_entry_matches(const char *s, size_t len, const char *scheme,
		     const char *host, uint16_t port)
{
	const char *sl = find_sep(s, len), *pp, *hs;
	size_t hlen, plen, n = strlen(scheme);
	uint16_t want;

	if (len == 7 && strncasecmp(s, "<local>", 7) == 0)
		return strchr(host, '.') == NULL && strchr(host, ':') == NULL;
	if (sl != NULL) {
		if ((size_t)(sl - s) != n || strncasecmp(s, scheme, n) != 0)
			return false;
		len -= (size_t)(sl + 3 - s);
		s = sl + 3;
	}
	while (len > 0 && s[len - 1] == '/')
		len--;
	bypass_hostport(s, len, &hs, &hlen, &pp, &plen);
	if (pp != NULL && !(plen == 1 && pp[0] == '*') &&
	    (!parse_port(pp, plen, &want) || want != port))
		return false;
	return hlen > 0 && glob_ci(hs, hlen, host);
}

bool
proxy_bypassed(const char *bypass, const char *scheme, const char *host,
	       uint16_t port)
{
	const char *p = bypass != NULL ? bypass : "", *tok;
	size_t len;

	while (next_token(&p, &tok, &len))
		if (bypass_entry_matches(tok, len, scheme, host, port))
			return true;
	return false;
}

/* The parts of an http(s) URL that proxy selection needs. */
struct url_parts {
	char scheme[6];
	char *host;
	uint16_t port;
};

static bool
parse_url(const char *url, struct url_parts *u)
{
	const char *p, *end, *at;
	bool has_port;

	if (url == NULL)
		return false;
	if (strncasecmp(url, "http://", 7) == 0) {
		strcpy(u->scheme, "http");
		p = url + 7;
		u->port = 80;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		strcpy(u->scheme, "https");
		p = url + 8;
		u->port = 443;
	} else {
		return false;
	}
	end = p + strcspn(p, "/?#");
	/* user:password@ never takes part in the decision. */
	at = memchr(p, '@', (size_t)(end - p));
	if (at != NULL)
		p = at + 1;
	/* Without a port the scheme's default stays in u->port. */
	return split_hostport(p, (size_t)(end - p), &u->host, &u->port,
			      &has_port);
}

/* The first entry for this scheme, else the first one for every scheme. */
static const struct proxy_entry *
pick_entry(const struct proxy_list *l, const char *scheme)
{
	const struct proxy_entry *any = NULL;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].scheme, scheme) == 0)
			return &l->v[i];
		if (l->v[i].scheme[0] == '\0' && any == NULL)
			any = &l->v[i];
	}
	return any;
}

hr_t
proxy_select(const char *proxy_list, const char *bypass, const char *url,
	     char **proxy_out, bool *bypassed)
{
	struct url_parts u = {.host = NULL};
	struct proxy_list l = {0};
	const struct proxy_entry *e;
	bool by = false;
	hr_t hr;

	*proxy_out = NULL;
	if (!parse_url(url, &u)) {
		hr = E_INVALIDARG_HR;
		goto out;
	}
	if ((hr = proxy_list_parse(proxy_list, &l, NULL, NULL)) != HR_OK)
		goto out;
	e = pick_entry(&l, u.scheme);
	if (e != NULL && proxy_bypassed(bypass, u.scheme, u.host, u.port))
		by = true;
	else if (e != NULL)
		*proxy_out = proxy_entry_format(e);
out:
	if (bypassed != NULL)
		*bypassed = by;
	proxy_list_clear(&l);
	free(u.host);
	return hr;
}

static void
set_facts(cJSON *facts, const char *proxy, bool bypassed)
{
	cJSON_DeleteItemFromObjectCaseSensitive(facts, "effective_proxy");
	cJSON_DeleteItemFromObjectCaseSensitive(facts, "bypassed");
	if (proxy != NULL)
		cJSON_AddStringToObject(facts, "effective_proxy", proxy);
	else
		cJSON_AddNullToObject(facts, "effective_proxy");
	cJSON_AddBoolToObject(facts, "bypassed", bypassed);
}

hr_t
proxy_for_url(struct host *h, const char *url, char **proxy_out,
	      struct cJSON *facts)
{
	struct proxy_config pc = {0};
	bool bypassed = false;
	hr_t hr;

	*proxy_out = NULL;
	if ((hr = h->ops->winhttp_proxy(h, &pc)) != HR_OK)
		goto out;
	hr = proxy_select(pc.proxy, pc.bypass, url, proxy_out, &bypassed);
	if (hr == HR_OK && facts != NULL)
		set_facts(facts, *proxy_out, bypassed);
out:
	proxy_config_clear(&pc);
	return hr;
}
