/*
 * The server check of wsusdiagd.exe under Wine: the Win32 host reads
 * WUServer from the prefix's registry (set with `wine reg add`) and
 * probes with Wine's real WinHTTP, against servers this test starts on
 * 127.0.0.1: nginx serving the WSUS files (over HTTP: Wine's WinHTTP
 * does not trust the test CA) and the misbehaving server that ignores
 * Range (tests/servers/). Skipped when the .exe is absent
 * (tests/wine/README.md).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "servers/servers.h"
#include "wine_harness.h"

#define POLICIES_KEY  "HKLM\\SOFTWARE\\Policies\\Microsoft"
#define WU_POLICY_KEY POLICIES_KEY "\\Windows\\WindowsUpdate"
#define AU_POLICY_KEY WU_POLICY_KEY "\\AU"

#define HTTP_WAIT_MS 60000

static struct daemon d;
static char *certs;
static struct wsus_nginx *ngx;
static struct badsrv *bad;

/* ---- the policy, and putting it back ------------------------------------ */

/* Names the key this test created (and .fini deletes) while it may
 * have changed the prefix. */
static void
marker_path(char *out, size_t len)
{
	snprintf(out, len, "%s/.wsusdiag-server-changed",
		 getenv("WSUSDIAG_WINEPREFIX"));
}

static bool
key_exists(const char *key)
{
	struct wine_out o;
	int st;

	wine_run(&o, "reg", "query", key, NULL);
	st = o.status;
	cr_assert(st == 0 || st == 1, "reg query %s: %d %s", key, st, o.text);
	wine_out_free(&o);
	return st == 0;
}

static void
reg_delete_key(const char *key)
{
	struct wine_out o;

	wine_run(&o, "reg", "delete", key, "/f", NULL);
	cr_expect(o.status == 0 || o.status == 1, "reg delete %s: %d %s", key,
		  o.status, o.text);
	wine_out_free(&o);
}

/* The key named in the marker, deleted, and the marker removed. */
static void
undo(void)
{
	char marker[512], key[256] = "";
	FILE *f;

	marker_path(marker, sizeof(marker));
	if ((f = fopen(marker, "r")) == NULL)
		return;
	if (fgets(key, sizeof(key), f) != NULL)
		key[strcspn(key, "\n")] = '\0';
	fclose(f);
	if (key[0] != '\0')
		reg_delete_key(key);
	unlink(marker);
}

/*
 * The outermost key of the policy path that does not exist yet: the
 * one whose deletion undoes everything this test writes. The policy
 * itself must not exist before the test.
 */
static void
will_create_policy(void)
{
	static const char *const chain[] = {
	    POLICIES_KEY, POLICIES_KEY "\\Windows", WU_POLICY_KEY};
	char marker[512];
	const char *first = NULL;
	FILE *f;

	for (size_t i = 0; i < 3 && first == NULL; i++)
		if (!key_exists(chain[i]))
			first = chain[i];
	cr_assert_not_null(first, "%s exists before the test", WU_POLICY_KEY);
	marker_path(marker, sizeof(marker));
	f = fopen(marker, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", first);
	cr_assert_eq(fclose(f), 0);
}

/* WUServer and WUStatusServer at url, UseWUServer 1: the policy a GPO
 * pointing this client at the WSUS server writes. */
static void
set_policy(const char *url)
{
	wine_reg_set(WU_POLICY_KEY, "WUServer", "REG_SZ", url);
	wine_reg_set(WU_POLICY_KEY, "WUStatusServer", "REG_SZ", url);
	wine_reg_set(AU_POLICY_KEY, "UseWUServer", "REG_DWORD", "1");
}

static void
setup(void)
{
	/* Wine's WinHTTP takes a machine proxy from http_proxy when the
	 * registry has none: the probes here go direct. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("HTTPS_PROXY");
	wine_setup();
	/* A test of this file died before its .fini. */
	undo();
	will_create_policy();
}

static void
teardown(void)
{
	if (d.pid > 0)
		wine_daemon_stop_clean(&d);
	undo();
	wine_teardown(&d);
	wsus_nginx_stop(ngx);
	ngx = NULL;
	if (certs != NULL)
		wsus_certs_remove(certs);
	certs = NULL;
	badsrv_stop(bad);
	bad = NULL;
}

TestSuite(wine_server, .init = setup, .fini = teardown, .timeout = 240);

/* The run's wineserver is persistent: stop it after the last test. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	wine_shutdown();
}

/* ---- servers ------------------------------------------------------------- */

/* nginx on 127.0.0.1; its HTTPS port needs the test PKI, unused here. */
static char *
nginx_up(void)
{
	char err[1024] = "", *cert, *key;

	certs = wsus_certs_make(err, sizeof(err));
	cr_assert_not_null(certs, "test PKI: %s", err);
	cert = xasprintf("%s/good.crt", certs);
	key = xasprintf("%s/good.key", certs);
	ngx = wsus_nginx_start(cert, key, err, sizeof(err));
	cr_assert_not_null(ngx, "nginx: %s", err);
	free(cert);
	free(key);
	return xasprintf("http://127.0.0.1:%u", wsus_nginx_http_port(ngx));
}

/* ---- the API ------------------------------------------------------------- */

static void
get_server_check(struct http_reply *r)
{
	struct http_opts o = {.method = "GET",
			      .path = "/checks/server",
			      .token = READ_TOKEN,
			      .timeout_ms = HTTP_WAIT_MS};

	http_call(&d, &o, r);
	cr_assert_eq(r->status, 200, "GET /checks/server: %ld (curl %d) %s",
		     r->status, r->curl_code, r->body);
	cr_assert_not_null(r->json, "not JSON: %s", r->body);
}

static const cJSON *
member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert_not_null(v, "no \"%s\" in %s", key,
			   cJSON_PrintUnformatted(o));
	return v;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	cr_assert(cJSON_IsString(v), "\"%s\" is not a string in %s", key,
		  cJSON_PrintUnformatted(o));
	return v->valuestring;
}

static const cJSON *
finding(const cJSON *check, const char *id)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, member(check, "findings"))
	{
		if (strcmp(str(f, "id"), id) == 0)
			return f;
	}
	cr_assert_fail("no %s finding: %s", id, cJSON_PrintUnformatted(check));
	return NULL;
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	cr_assert(cJSON_IsNumber(v), "\"%s\" is not a number in %s", key,
		  cJSON_PrintUnformatted(o));
	return v->valuedouble;
}

static void
expect_null(const cJSON *o, const char *key)
{
	cr_expect(cJSON_IsNull(member(o, key)), "\"%s\" is not null in %s", key,
		  cJSON_PrintUnformatted(o));
}

/* ---- what Wine's WinHTTP got -----------------------------------------------
 */

/* The findings in order: status, and the error code (NULL: none). */
struct want_finding {
	const char *id, *status, *code;
};

static void
expect_findings(const cJSON *check, const struct want_finding *w, size_t n)
{
	const cJSON *fs = member(check, "findings"), *f;

	cr_assert_eq((size_t)cJSON_GetArraySize(fs), n, "%s",
		     cJSON_PrintUnformatted(check));
	for (size_t i = 0; i < n; i++) {
		f = cJSON_GetArrayItem(fs, (int)i);
		cr_expect_str_eq(str(f, "id"), w[i].id);
		cr_expect_str_eq(str(f, "status"), w[i].status, "%s",
				 cJSON_PrintUnformatted(f));
		if (w[i].code == NULL)
			expect_null(f, "error");
		else
			cr_expect_str_eq(str(member(f, "error"), "code"),
					 w[i].code);
	}
}

/* One request as facts.probes records it. */
struct want_probe {
	const char *method, *path, *range;
	long status, content_length, body_bytes;
	const char *content_range; /* NULL: absent */
};

static void
expect_probes(const cJSON *facts, const struct want_probe *w, size_t n)
{
	const cJSON *ps = member(facts, "probes"), *p;

	cr_assert_eq((size_t)cJSON_GetArraySize(ps), n, "%s",
		     cJSON_PrintUnformatted(ps));
	for (size_t i = 0; i < n; i++) {
		p = cJSON_GetArrayItem(ps, (int)i);
		cr_expect_str_eq(str(p, "method"), w[i].method);
		cr_expect_str_eq(str(p, "path"), w[i].path);
		if (w[i].range != NULL)
			cr_expect_str_eq(str(p, "range"), w[i].range);
		expect_null(p, "error");
		cr_expect_eq(num(p, "status"), w[i].status, "probe %zu: %s", i,
			     cJSON_PrintUnformatted(p));
		cr_expect_eq(num(p, "content_length"), w[i].content_length,
			     "probe %zu: %s", i, cJSON_PrintUnformatted(p));
		cr_expect_eq(num(p, "body_bytes"), w[i].body_bytes,
			     "probe %zu: %s", i, cJSON_PrintUnformatted(p));
		if (w[i].content_range != NULL)
			cr_expect_str_eq(str(p, "content_range"),
					 w[i].content_range);
		else
			cr_expect_null(cJSON_GetObjectItem(p, "content_range"),
				       "probe %zu: %s", i,
				       cJSON_PrintUnformatted(p));
	}
}

/* Direct to 127.0.0.1: no machine proxy in the prefix, no DNS name. */
static void
expect_direct(const cJSON *facts)
{
	const cJSON *t = member(facts, "timing_ms");

	expect_null(facts, "effective_proxy");
	cr_expect(cJSON_IsFalse(member(facts, "bypassed")));
	cr_expect_str_eq(str(facts, "resolved_name"), "127.0.0.1");
	cr_expect_str_eq(str(facts, "resolved_address"), "127.0.0.1");
	cr_expect_eq(num(facts, "probe_budget_ms"), 5000);
	cr_expect(cJSON_IsNumber(member(t, "dns")));
	cr_expect(cJSON_IsNumber(member(t, "connect")));
	cr_expect(cJSON_IsNumber(member(t, "first_byte")));
	expect_null(t, "tls");
}

#define WU_PATH "/selfupdate/wuident.cab"

/*
 * nginx as the WSUS server: WinHTTP under Wine gets 200 with
 * Content-Length for both files and HEAD, and 206 with the exact
 * Content-Range for the Range request, so every finding passes.
 */
Test(wine_server, nginx_passes_every_finding)
{
	static const struct want_finding wf[] = {
	    {"server.url", "pass", NULL},
	    {"server.resolve", "pass", NULL},
	    {"server.connect", "pass", NULL},
	    {"server.tls", "skip", NULL},
	    {"server.iuident", "pass", NULL},
	    {"server.content_length", "pass", NULL},
	    {"server.range", "pass", NULL},
	};
	static const struct want_probe wp[] = {
	    {"GET", "/iuident.cab", NULL, 200, 4096, 4096, NULL},
	    {"GET", WU_PATH, NULL, 200, 3000, 3000, NULL},
	    {"HEAD", WU_PATH, NULL, 200, 3000, 0, NULL},
	    {"GET", WU_PATH, "bytes=0-99", 206, 100, 100, "bytes 0-99/3000"},
	};
	struct http_reply r;
	char *url = nginx_up(), *msg;
	const cJSON *facts;

	set_policy(url);
	wine_daemon_start(&d);
	get_server_check(&r);
	cr_expect_str_eq(str(r.json, "status"), "pass", "%s", r.body);
	expect_findings(r.json, wf, sizeof(wf) / sizeof(wf[0]));
	msg = xasprintf("the WSUS server set by policy is %s", url);
	cr_expect_str_eq(str(finding(r.json, "server.url"), "message"), msg);
	cr_expect_str_eq(
	    str(finding(r.json, "server.content_length"), "observed"),
	    "Content-Length: 3000");
	cr_expect_str_eq(str(finding(r.json, "server.range"), "observed"),
			 "bytes 0-99/3000");
	facts = member(r.json, "facts");
	cr_expect_str_eq(str(facts, "url"), url);
	expect_direct(facts);
	expect_probes(facts, wp, sizeof(wp) / sizeof(wp[0]));
	http_reply_free(&r);
	free(msg);
	free(url);
}

/*
 * The server that answers a Range request with 200 and the whole file:
 * WinHTTP under Wine sends the Range header and gets the 200, and the
 * check reports what BITS would, 0x80200013.
 */
Test(wine_server, range_ignored_fails_range_with_0x80200013)
{
	static const struct want_finding wf[] = {
	    {"server.url", "pass", NULL},
	    {"server.resolve", "pass", NULL},
	    {"server.connect", "pass", NULL},
	    {"server.tls", "skip", NULL},
	    {"server.iuident", "pass", NULL},
	    {"server.content_length", "pass", NULL},
	    {"server.range", "fail", "0x80200013"},
	};
	static const struct want_probe wp[] = {
	    {"GET", "/iuident.cab", NULL, 200, 4096, 4096, NULL},
	    {"GET", WU_PATH, NULL, 200, 3000, 3000, NULL},
	    {"HEAD", WU_PATH, NULL, 200, 3000, 0, NULL},
	    {"GET", WU_PATH, "bytes=0-99", 200, 3000, 3000, NULL},
	};
	struct http_reply r;
	char err[256] = "", *url;
	const cJSON *f;

	bad = badsrv_start(BADSRV_RANGE_IGNORED, 0, err, sizeof(err));
	cr_assert_not_null(bad, "badsrv: %s", err);
	url = xasprintf("http://127.0.0.1:%u", badsrv_port(bad));
	set_policy(url);
	wine_daemon_start(&d);
	get_server_check(&r);
	cr_expect_str_eq(str(r.json, "status"), "fail", "%s", r.body);
	expect_findings(r.json, wf, sizeof(wf) / sizeof(wf[0]));
	f = finding(r.json, "server.range");
	cr_expect_str_eq(str(member(f, "error"), "name"),
			 "BG_E_INSUFFICIENT_RANGE_SUPPORT");
	cr_expect_str_eq(str(f, "observed"), "200 OK");
	cr_expect_str_eq(str(f, "expected"),
			 "206 with Content-Range: bytes 0-99/3000");
	cr_expect_str_eq(str(f, "message"),
			 "GET " WU_PATH " with Range: bytes=0-99 was ignored: "
			 "200 with the whole file (3000 bytes): BITS downloads "
			 "in ranges and fails the job");
	expect_direct(member(r.json, "facts"));
	expect_probes(member(r.json, "facts"), wp, sizeof(wp) / sizeof(wp[0]));
	/* The four requests reached this server, none went elsewhere. */
	cr_expect_eq(badsrv_requests(bad), 4);
	http_reply_free(&r);
	free(url);
}
