/*
 * policy.c: "Verify that the client is configured correctly": the WSUS
 * Group Policy must have reached this computer, which leaves WUServer
 * and WUStatusServer under Policies\...\WindowsUpdate and UseWUServer=1
 * under its AU key. The applied computer GPOs are reported as facts, the
 * way the article reads them from gpresult.
 */
#include "checks/registry.h"
#include "checks/svc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define WU_POLICY_KEY                                                          \
	"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"
#define AU_POLICY_KEY WU_POLICY_KEY "\\AU"

/* The GPO setting that writes all three values. */
#define GPO_SETTING "\"Specify intranet Microsoft update service location\""

#define GPUPDATE_TEXT                                                          \
	"gpupdate /force, then check gpresult /scope computer /r for the "     \
	"WSUS policy"

/* The article's two reasons for missing WSUS settings. */
#define MISSING_CAUSES                                                         \
	"the WSUS Group Policy has not reached this computer: either it does " \
	"not receive Group Policy from the domain, or the WSUS policy is not " \
	"targeted at it (linked OU, security or WMI filtering)"

#define URL_FORM "http(s)://server[:port]"

/* WU_E_PT_SUS_SERVER_NOT_SET: what the agent itself reports. */
#define HR_SUS_SERVER_NOT_SET	   0x80244011u
#define WIN32_WINHTTP_INVALID_URL  12005u
#define WIN32_WINHTTP_UNRECOGNIZED 12006u

/* One URL value of the policy as read and judged. */
struct policy_url {
	const char *name; /* registry value name */
	hr_t read;	  /* reg_get's answer */
	struct reg_value v;
	bool ok; /* a REG_SZ that is a well-formed URL */
};

/* ---- URL syntax -------------------------------------------------------- */

static bool
is_label_char(int c)
{
	/* ASCII only, whatever the locale; NetBIOS-derived Windows host
	 * names may carry '_'. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A DNS name or IPv4 address: dot-separated labels of 1..63 characters. */
static bool
valid_reg_name(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_label_char((unsigned char)s[i])) {
			if (label == 0 && s[i] == '-')
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

/* "[v6]" with hex digits, ':' and '.' (an embedded IPv4) inside. */
static bool
valid_ipv6_literal(const char *s, size_t n)
{
	if (n < 4 || s[0] != '[' || s[n - 1] != ']')
		return false;
	for (size_t i = 1; i < n - 1; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' &&
		    s[i] != '.')
			return false;
	return memchr(s, ':', n) != NULL;
}

static bool
valid_port(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* host[:port] of an authority without user information. */
static bool
valid_authority(const char *s, size_t n, const char **why)
{
	const char *colon;
	size_t hn;

	if (memchr(s, '@', n) != NULL) {
		*why = "it must not carry a user name";
		return false;
	}
	if (n > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', n);

		hn = end != NULL ? (size_t)(end - s) + 1 : n;
		colon = hn < n && s[hn] == ':' ? s + hn : NULL;
		if (!valid_ipv6_literal(s, hn) || (hn < n && colon == NULL)) {
			*why = "its IPv6 address is not well-formed";
			return false;
		}
	} else {
		colon = memchr(s, ':', n);
		hn = colon != NULL ? (size_t)(colon - s) : n;
		if (!valid_reg_name(s, hn)) {
			*why = hn == 0 ? "it has no server name"
				       : "its server name is not a valid "
					 "host name";
			return false;
		}
	}
	if (colon != NULL && !valid_port(colon + 1, n - hn - 1)) {
		*why = "its port is not a number from 1 to 65535";
		return false;
	}
	return true;
}

/*
 * The agent appends its own paths (/ClientWebService/client.asmx, ...)
 * to the server URL, so the policy holds only scheme, host and port; a
 * trailing '/' is harmless. Returns HR_OK or the WinHTTP error the agent
 * would meet, with the reason in *why.
 */
static hr_t
url_check(const char *url, const char **why)
{
	const char *p, *auth, *end;
	size_t n;

	p = strstr(url, "://");
	if (p == NULL) {
		*why = "it has no http:// or https:// scheme";
		return hr_from_win32(WIN32_WINHTTP_UNRECOGNIZED);
	}
	n = (size_t)(p - url);
	if (!((n == 4 && strncasecmp(url, "http", 4) == 0) ||
	      (n == 5 && strncasecmp(url, "https", 5) == 0))) {
		*why = "its scheme is not http or https";
		return hr_from_win32(WIN32_WINHTTP_UNRECOGNIZED);
	}
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	if (!valid_authority(auth, (size_t)(end - auth), why))
		return hr_from_win32(WIN32_WINHTTP_INVALID_URL);
	if (*end != '\0' && strcmp(end, "/") != 0) {
		*why = "it has a path, query or fragment; the agent adds its "
		       "own paths to " URL_FORM;
		return hr_from_win32(WIN32_WINHTTP_INVALID_URL);
	}
	return HR_OK;
}

/* Equal URLs up to letter case and a trailing '/'. */
static bool
same_url(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '/')
		na--;
	if (nb > 0 && b[nb - 1] == '/')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

/* ---- findings ---------------------------------------------------------- */

static void
add_read_error(struct check_result *r, const char *id, const char *key,
	       const char *name, hr_t hr)
{
	struct finding *f;
	char code[11];

	error_format(hr, code);
	f = result_add(r, id, ST_ERROR, "could not read %s under %s (%s)", name,
		       key, code);
	f->error = hr;
}

static void
add_missing(struct check_result *r, const char *id, const char *key,
	    const char *name, hr_t code, const char *expected)
{
	struct finding *f;

	f = result_add(r, id, ST_FAIL,
		       "%s is not set under %s: " MISSING_CAUSES, name, key);
	f->error = code;
	finding_set_expected(f, expected);
	finding_set_observed(f, "not set");
	svc_set_remedy(f, "gpupdate", GPUPDATE_TEXT);
}

static void
read_url(struct host *h, struct policy_url *u)
{
	const char *why;

	u->read = h->ops->reg_get(h, WU_POLICY_KEY, u->name, &u->v);
	u->ok = u->read == HR_OK && u->v.type == REGT_SZ && u->v.str != NULL &&
		url_check(u->v.str, &why) == HR_OK;
}

/*
 * Judge what is wrong with one URL value on its own (absent, unreadable,
 * not a string, malformed) and add that finding; true when nothing is,
 * so the caller adds its own pass or warn.
 */
static bool
judge_url(struct check_result *r, const char *id, const struct policy_url *u,
	  hr_t missing_code)
{
	struct finding *f;
	const char *why = NULL;
	hr_t hr;

	if (u->read == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		add_missing(r, id, WU_POLICY_KEY, u->name, missing_code,
			    URL_FORM);
		return false;
	}
	if (u->read != HR_OK) {
		add_read_error(r, id, WU_POLICY_KEY, u->name, u->read);
		return false;
	}
	if (u->v.type != REGT_SZ || u->v.str == NULL) {
		f = result_add(r, id, ST_FAIL,
			       "%s is not a string (REG_SZ), as the policy "
			       "writes it",
			       u->name);
		f->error = hr_from_win32(WIN32_INVALID_DATA);
	} else if ((hr = url_check(u->v.str, &why)) != HR_OK) {
		f = result_add(r, id, ST_FAIL,
			       "%s \"%s\" is not a well-formed URL: %s",
			       u->name, u->v.str, why);
		f->error = hr;
		finding_set_observed(f, "%s", u->v.str);
	} else {
		return true;
	}
	finding_set_expected(f, URL_FORM);
	svc_set_remedy(f, "gpupdate",
		       "correct the URL in the WSUS GPO setting " GPO_SETTING
		       " (" URL_FORM "), then " GPUPDATE_TEXT);
	return false;
}

static void
judge_server(struct check_result *r, const struct policy_url *srv)
{
	struct finding *f;

	if (!judge_url(r, "policy.wuserver", srv, HR_SUS_SERVER_NOT_SET))
		return;
	f = result_add(r, "policy.wuserver", ST_PASS,
		       "the WSUS server is %s, set by policy", srv->v.str);
	finding_set_expected(f, URL_FORM);
	finding_set_observed(f, "%s", srv->v.str);
}

static void
judge_status(struct check_result *r, const struct policy_url *srv,
	     const struct policy_url *st)
{
	struct finding *f;

	if (!judge_url(r, "policy.statusserver", st,
		       hr_from_win32(WIN32_FILE_NOT_FOUND)))
		return;
	if (!srv->ok || same_url(srv->v.str, st->v.str)) {
		/* With a bad WUServer there is nothing to compare with; that
		 * fault has its own finding. */
		f = result_add(r, "policy.statusserver", ST_PASS,
			       "the reporting server is %s", st->v.str);
		finding_set_expected(f, srv->ok ? srv->v.str : URL_FORM);
	} else {
		f = result_add(r, "policy.statusserver", ST_WARN,
			       "the reporting server %s differs from the WSUS "
			       "server %s: legitimate, but unusual; clients "
			       "report their status to the server they do not "
			       "scan against",
			       st->v.str, srv->v.str);
		finding_set_expected(f, srv->v.str);
		finding_set_remedy(f, NULL,
				   "if not intended, set both URLs of the GPO "
				   "setting " GPO_SETTING
				   " to the same server, then " GPUPDATE_TEXT);
	}
	finding_set_observed(f, "%s", st->v.str);
}

static void
judge_use(struct check_result *r, hr_t hr, const struct reg_value *v)
{
	struct finding *f;

	if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		add_missing(r, "policy.usewuserver", AU_POLICY_KEY,
			    "UseWUServer", hr, "1");
		return;
	}
	if (hr != HR_OK) {
		add_read_error(r, "policy.usewuserver", AU_POLICY_KEY,
			       "UseWUServer", hr);
		return;
	}
	if (v->type != REGT_DWORD) {
		f = result_add(r, "policy.usewuserver", ST_FAIL,
			       "UseWUServer is not a REG_DWORD, as the policy "
			       "writes it");
		f->error = hr_from_win32(WIN32_INVALID_DATA);
	} else if (v->num != 1) {
		f = result_add(r, "policy.usewuserver", ST_FAIL,
			       "UseWUServer is %llu: the agent ignores "
			       "WUServer and goes to Microsoft Update instead",
			       (unsigned long long)v->num);
		finding_set_observed(f, "%llu", (unsigned long long)v->num);
	} else {
		f = result_add(r, "policy.usewuserver", ST_PASS,
			       "UseWUServer is 1: the agent uses the WSUS "
			       "server");
		finding_set_observed(f, "1");
	}
	finding_set_expected(f, "1");
	if (f->status != ST_PASS)
		svc_set_remedy(f, "gpupdate",
			       "enable " GPO_SETTING
			       " in the WSUS GPO (it sets UseWUServer to 1), "
			       "then " GPUPDATE_TEXT);
}

/* ---- facts ------------------------------------------------------------- */

static cJSON *
url_fact(const struct policy_url *u)
{
	if (u->read == HR_OK && u->v.type == REGT_SZ && u->v.str != NULL)
		return cJSON_CreateString(u->v.str);
	return cJSON_CreateNull();
}

/* The GPO list is context, not a verdict: a failure is noted, no more. */
static void
add_gpo_facts(struct host *h, cJSON *facts)
{
	struct strlist gpos = {0};
	cJSON *arr;
	char code[11], *note;
	hr_t hr;

	hr = h->ops->applied_gpos(h, &gpos);
	if (hr != HR_OK) {
		error_format(hr, code);
		cJSON_AddNullToObject(facts, "applied_gpos");
		cJSON_AddItemToObject(facts, "applied_gpos_error",
				      error_to_json(hr));
		note = xasprintf("the applied computer GPOs could not be read "
				 "(%s); the policy values above were read "
				 "from the registry all the same",
				 code);
		cJSON_AddStringToObject(facts, "applied_gpos_note", note);
		free(note);
		goto out;
	}
	arr = cJSON_AddArrayToObject(facts, "applied_gpos");
	for (size_t i = 0; i < gpos.n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(gpos.v[i]));
out:
	strlist_clear(&gpos);
}

static void
add_facts(struct check_result *r, struct host *h, const struct policy_url *srv,
	  const struct policy_url *st, hr_t use_hr, const struct reg_value *use)
{
	cJSON_AddItemToObject(r->facts, "server_url", url_fact(srv));
	cJSON_AddItemToObject(r->facts, "status_server_url", url_fact(st));
	if (use_hr == HR_OK && use->type == REGT_DWORD)
		cJSON_AddNumberToObject(r->facts, "use_wu_server",
					(double)use->num);
	else
		cJSON_AddNullToObject(r->facts, "use_wu_server");
	add_gpo_facts(h, r->facts);
}

/* ---- the check --------------------------------------------------------- */

static void
policy_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct host *h = ctx->host;
	struct policy_url srv = {.name = "WUServer"};
	struct policy_url st = {.name = "WUStatusServer"};
	struct reg_value use = {0};
	hr_t use_hr;

	read_url(h, &srv);
	read_url(h, &st);
	use_hr = h->ops->reg_get(h, AU_POLICY_KEY, "UseWUServer", &use);
	judge_server(r, &srv);
	judge_status(r, &srv, &st);
	judge_use(r, use_hr, &use);
	add_facts(r, h, &srv, &st, use_hr, &use);
	reg_value_clear(&srv.v);
	reg_value_clear(&st.v);
	reg_value_clear(&use);
}

const struct check check_policy = {
    .id = "policy",
    .title = "WSUS Group Policy",
    .description =
	"The WSUS Group Policy reached this computer: WUServer and "
	"WUStatusServer are well-formed http(s) URLs and UseWUServer is 1; "
	"facts list the server URLs and the applied computer GPOs",
    .seed_section = "Verify that the client is configured correctly",
    /* On Windows the GPO list comes from gpresult, which takes seconds. */
    .time_limit_ms = 30000,
    .run = policy_run,
};
