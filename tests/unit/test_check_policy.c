/*
 * test_check_policy.c: the policy check on simulated hosts: the example
 * files, healthy.json with one value changed, and a host whose GPO list
 * or registry cannot be read.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "platform/host.h"

#define WU_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"
#define AU_KEY WU_KEY "\\AU"
#define GPUPDATE_TEXT                                                          \
	"gpupdate /force, then check gpresult /scope computer /r for the "     \
	"WSUS policy"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

/* ---- hosts ------------------------------------------------------------- */

static cJSON *
reg_key(cJSON *doc, const char *key)
{
	cJSON *k =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), key);

	cr_assert_not_null(k, "no registry key %s", key);
	return k;
}

/* ---- running and inspecting -------------------------------------------- */

static void
run_policy(struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_policy, &ctx, r);
}

static void
run_example(const char *name, struct check_result *r)
{
	struct host *h = fx_open_example(name);

	run_policy(h, r);
	host_close(h);
}

static void
run_doc(const cJSON *doc, struct check_result *r)
{
	struct host *h = fx_open_doc(doc);

	run_policy(h, r);
	host_close(h);
}

static void
assert_remedy_action(const struct finding *f, const char *id)
{
	if (action_find(id) == NULL)
		cr_assert_null(f->remedy_action, "%s names a missing action",
			       f->id);
	else
		cr_assert_str_eq(f->remedy_action, id);
}

static void
assert_gpos(const struct check_result *r, const char *const *want, size_t n)
{
	const cJSON *arr = fx_fact(r, "applied_gpos");

	cr_assert(cJSON_IsArray(arr));
	cr_assert_eq((size_t)cJSON_GetArraySize(arr), n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(cJSON_GetArrayItem(arr, (int)i)->valuestring,
				 want[i]);
}

/* ---- descriptor and healthy -------------------------------------------- */

Test(check_policy, descriptor)
{
	cr_assert_eq(check_find("policy"), &check_policy);
	/* The articles diagnose the policy first. */
	cr_assert_eq(check_table[0], &check_policy);
	cr_assert_str_eq(check_policy.title, "WSUS Group Policy");
	cr_assert_str_eq(check_policy.seed_section,
			 "Verify that the client is configured correctly");
	cr_assert_eq(check_policy.time_limit_ms, 30000);
	cr_assert_not_null(check_policy.description);
}

Test(check_policy, healthy_passes_every_finding)
{
	static const char *const ids[] = {
	    "policy.wuserver", "policy.statusserver", "policy.usewuserver"};
	static const char *const gpos[] = {"Default Domain Policy", "WSUS",
					   "Local Group Policy"};
	struct check_result r;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(r.findings[i].id, ids[i]);
		cr_assert_eq(r.findings[i].status, ST_PASS, "%s: %s", ids[i],
			     r.findings[i].message);
		cr_assert_eq(r.findings[i].error, 0);
	}
	cr_assert_str_eq(fx_find(&r, "policy.wuserver")->observed,
			 "http://wsus.corp.example:8530");
	cr_assert_str_eq(fx_find(&r, "policy.usewuserver")->observed, "1");
	cr_assert_str_eq(fx_fact(&r, "server_url")->valuestring,
			 "http://wsus.corp.example:8530");
	cr_assert_str_eq(fx_fact(&r, "status_server_url")->valuestring,
			 "http://wsus.corp.example:8530");
	cr_assert_eq(fx_fact(&r, "use_wu_server")->valuedouble, 1);
	assert_gpos(&r, gpos, 3);
	cr_assert_null(cJSON_GetObjectItem(r.facts, "applied_gpos_error"));
	result_clear(&r);
}

/* ---- the example hosts ------------------------------------------------- */

static void
assert_missing(const struct finding *f, hr_t code)
{
	cr_assert_eq(f->status, ST_FAIL, "%s: %s", f->id, f->message);
	cr_assert_eq(f->error, code, "%s: 0x%08X", f->id, f->error);
	cr_assert_str_eq(f->observed, "not set");
	/* The article's two causes, and gpupdate as the remedy. */
	cr_assert_not_null(
	    strstr(f->message, "does not receive Group Policy from the domain"),
	    "%s", f->message);
	cr_assert_not_null(strstr(f->message, "not targeted at it"), "%s",
			   f->message);
	cr_assert_str_eq(f->remedy_text, GPUPDATE_TEXT);
	assert_remedy_action(f, "gpupdate");
}

Test(check_policy, no_wsus_policy)
{
	static const char *const gpos[] = {"Default Domain Policy",
					   "Local Group Policy"};
	struct check_result r;
	const struct finding *f;

	run_example("no-wsus-policy.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_eq(r.n_findings, 3);
	f = fx_find(&r, "policy.wuserver");
	assert_missing(f, 0x80244011u); /* WU_E_PT_SUS_SERVER_NOT_SET */
	cr_assert_str_eq(f->expected, "http(s)://server[:port]");
	assert_missing(fx_find(&r, "policy.statusserver"), 0x80070002u);
	f = fx_find(&r, "policy.usewuserver");
	assert_missing(f, 0x80070002u);
	cr_assert_str_eq(f->expected, "1");
	cr_assert(cJSON_IsNull(fx_fact(&r, "server_url")));
	cr_assert(cJSON_IsNull(fx_fact(&r, "status_server_url")));
	cr_assert(cJSON_IsNull(fx_fact(&r, "use_wu_server")));
	assert_gpos(&r, gpos, 2);
	result_clear(&r);
}

Test(check_policy, usewuserver_0)
{
	struct check_result r;
	const struct finding *f;

	run_example("wsus-policy-usewuserver-0.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "policy.usewuserver");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->expected, "1");
	cr_assert_str_eq(f->observed, "0");
	cr_assert_not_null(strstr(f->message, "Microsoft Update"));
	cr_assert_not_null(strstr(f->remedy_text, GPUPDATE_TEXT));
	assert_remedy_action(f, "gpupdate");
	cr_assert_eq(fx_find(&r, "policy.wuserver")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "policy.statusserver")->status, ST_PASS);
	cr_assert_eq(fx_fact(&r, "use_wu_server")->valuedouble, 0);
	result_clear(&r);
}

Test(check_policy, bad_url)
{
	struct check_result r;
	const struct finding *f;

	run_example("wsus-policy-bad-url.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "policy.wuserver");
	cr_assert_eq(f->status, ST_FAIL);
	/* No scheme: ERROR_WINHTTP_UNRECOGNIZED_SCHEME. */
	cr_assert_eq(f->error, 0x80072EE6u);
	cr_assert_str_eq(f->observed, "wsus.corp.example:8530");
	cr_assert_str_eq(f->expected, "http(s)://server[:port]");
	cr_assert_not_null(strstr(f->message, "no http:// or https://"), "%s",
			   f->message);
	assert_remedy_action(f, "gpupdate");
	/* Nothing to compare a bad server URL with: no second fault. */
	cr_assert_eq(fx_find(&r, "policy.statusserver")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "policy.usewuserver")->status, ST_PASS);
	cr_assert_str_eq(fx_fact(&r, "server_url")->valuestring,
			 "wsus.corp.example:8530");
	result_clear(&r);
}

/* ---- URL syntax -------------------------------------------------------- */

/* Both URLs set to url; the status and error of policy.wuserver. */
static void
judge_url(const char *url, enum status *st, hr_t *err)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *k = reg_key(doc, WU_KEY);
	struct check_result r;
	const struct finding *f;

	cJSON_ReplaceItemInObject(k, "WUServer", cJSON_CreateString(url));
	cJSON_ReplaceItemInObject(k, "WUStatusServer", cJSON_CreateString(url));
	run_doc(doc, &r);
	f = fx_find(&r, "policy.wuserver");
	*st = f->status;
	*err = f->error;
	cr_assert_eq(fx_find(&r, "policy.statusserver")->status, *st, "%s",
		     url);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_policy, url_forms)
{
	static const char *const good[] = {
	    "http://wsus",
	    "https://wsus.corp.example:8531",
	    "http://10.0.0.5:8530/",
	    "HTTP://WSUS_01.Corp.Example",
	    "http://[fe80::1]:8530",
	    "http://[::1]",
	    "http://wsus-01.corp.example:65535",
	};
	static const struct {
		const char *url;
		hr_t err;
	} bad[] = {
	    {"ftp://wsus:8530", 0x80072EE6u},
	    {"wsus:8530", 0x80072EE6u},
	    {" http://wsus", 0x80072EE6u},
	    {"http://", 0x80072EE5u},
	    {"http://:8530", 0x80072EE5u},
	    {"http://wsus:0", 0x80072EE5u},
	    {"http://wsus:65536", 0x80072EE5u},
	    {"http://wsus:", 0x80072EE5u},
	    {"http://wsus:85a0", 0x80072EE5u},
	    {"http://wsus:8530 ", 0x80072EE5u},
	    {"http://wsus.corp.example:8530/ClientWebService", 0x80072EE5u},
	    {"http://wsus:8530?x=1", 0x80072EE5u},
	    {"http://user@wsus:8530", 0x80072EE5u},
	    {"http://ws us", 0x80072EE5u},
	    {"http://wsus..corp.example", 0x80072EE5u},
	    {"http://-wsus.corp.example", 0x80072EE5u},
	    {"http://wsus-.corp.example", 0x80072EE5u},
	    {"http://wsus.", 0x80072EE5u},
	    {"http://[fe80::1", 0x80072EE5u},
	    {"http://[zz::1]", 0x80072EE5u},
	    {"http://[fe80::1]8530", 0x80072EE5u},
	    {"http://ws\xc3\xbcs.corp.example", 0x80072EE5u},
	};
	enum status st;
	hr_t err;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		judge_url(good[i], &st, &err);
		cr_assert_eq(st, ST_PASS, "%s", good[i]);
		cr_assert_eq(err, 0, "%s", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		judge_url(bad[i].url, &st, &err);
		cr_assert_eq(st, ST_FAIL, "\"%s\"", bad[i].url);
		cr_assert_eq(err, bad[i].err, "\"%s\": 0x%08X", bad[i].url,
			     err);
	}
}

Test(check_policy, long_label_is_malformed)
{
	char url[128] = "http://";
	enum status st;
	hr_t err;

	memset(url + 7, 'a', 64); /* a DNS label holds at most 63 */
	judge_url(url, &st, &err);
	cr_assert_eq(st, ST_FAIL);
	url[7 + 63] = '\0';
	judge_url(url, &st, &err);
	cr_assert_eq(st, ST_PASS);
}

/* ---- the status server ------------------------------------------------- */

static void
run_with_status(const char *status_url, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *k = reg_key(doc, WU_KEY);

	if (status_url == NULL)
		cJSON_DeleteItemFromObject(k, "WUStatusServer");
	else
		cJSON_ReplaceItemInObject(k, "WUStatusServer",
					  cJSON_CreateString(status_url));
	run_doc(doc, r);
	cJSON_Delete(doc);
}

Test(check_policy, differing_status_server_warns)
{
	struct check_result r;
	const struct finding *f;

	run_with_status("http://wsus-report.corp.example:8530", &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	f = fx_find(&r, "policy.statusserver");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->expected, "http://wsus.corp.example:8530");
	cr_assert_str_eq(f->observed, "http://wsus-report.corp.example:8530");
	cr_assert_null(f->remedy_action);
	cr_assert_not_null(f->remedy_text);
	cr_assert_eq(fx_find(&r, "policy.wuserver")->status, ST_PASS);
	result_clear(&r);
}

Test(check_policy, same_server_up_to_case_and_slash)
{
	struct check_result r;

	run_with_status("HTTP://WSUS.corp.example:8530/", &r);
	cr_assert_eq(fx_find(&r, "policy.statusserver")->status, ST_PASS);
	cr_assert_eq(r.status, ST_PASS);
	result_clear(&r);
}

Test(check_policy, status_server_missing_alone)
{
	struct check_result r;

	run_with_status(NULL, &r);
	cr_assert_eq(r.status, ST_FAIL);
	assert_missing(fx_find(&r, "policy.statusserver"), 0x80070002u);
	cr_assert_eq(fx_find(&r, "policy.wuserver")->status, ST_PASS);
	result_clear(&r);
}

/* ---- value types ------------------------------------------------------- */

Test(check_policy, wuserver_not_a_string)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	cJSON_ReplaceItemInObject(reg_key(doc, WU_KEY), "WUServer",
				  cJSON_CreateNumber(8530));
	run_doc(doc, &r);
	f = fx_find(&r, "policy.wuserver");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007000Du);
	cr_assert(cJSON_IsNull(fx_fact(&r, "server_url")));
	/* A status server with no valid server to compare with passes. */
	cr_assert_eq(fx_find(&r, "policy.statusserver")->status, ST_PASS);
	result_clear(&r);
	cJSON_Delete(doc);
}

static const struct finding *
use_finding(cJSON *value, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");

	cJSON_ReplaceItemInObject(reg_key(doc, AU_KEY), "UseWUServer", value);
	run_doc(doc, r);
	cJSON_Delete(doc);
	return fx_find(r, "policy.usewuserver");
}

Test(check_policy, usewuserver_values)
{
	struct check_result r;
	const struct finding *f;

	f = use_finding(cJSON_CreateString("1"), &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007000Du);
	result_clear(&r);

	f = use_finding(cJSON_CreateNumber(2), &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_str_eq(f->observed, "2");
	cr_assert_eq(f->error, 0);
	result_clear(&r);

	f = use_finding(cJSON_CreateNumber(1), &r);
	cr_assert_eq(f->status, ST_PASS);
	result_clear(&r);
}

/* ---- faults ------------------------------------------------------------ */

Test(check_policy, registry_unreadable_is_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *fault = cJSON_AddObjectToObject(doc, "fault");
	struct check_result r;

	cJSON_AddNumberToObject(fault, "registry_read", 5);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_ERROR, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(r.findings[i].status, ST_ERROR, "%s",
			     r.findings[i].id);
		cr_assert_eq(r.findings[i].error, 0x80070005u);
		cr_assert_not_null(strstr(r.findings[i].message, "0x80070005"));
	}
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_policy, gpo_list_failure_is_a_note_not_a_failure)
{
	/* The sim's applied_gpos cannot fail; Windows' gpresult can. */
	static const struct fx_fault denied[] = {
	    {"applied_gpos", NULL, 0x80070005u}, {NULL, NULL, 0}};
	struct host *h = fx_fault_host(fx_open_example("healthy.json"), denied);
	struct check_result r;
	const cJSON *e;

	run_policy(h, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert(cJSON_IsNull(fx_fact(&r, "applied_gpos")));
	e = fx_fact(&r, "applied_gpos_error");
	cr_assert_str_eq(cJSON_GetObjectItem(e, "code")->valuestring,
			 "0x80070005");
	cr_assert_str_eq(cJSON_GetObjectItem(e, "name")->valuestring,
			 "ERROR_ACCESS_DENIED");
	cr_assert_not_null(strstr(fx_fact(&r, "applied_gpos_note")->valuestring,
				  "0x80070005"));
	cr_assert_str_eq(fx_fact(&r, "server_url")->valuestring,
			 "http://wsus.corp.example:8530");
	result_clear(&r);
	host_close(h);
}

/* ---- the report -------------------------------------------------------- */

Test(check_policy, report_fails_only_policy)
{
	fx_assert_only("healthy.json", &settings, NULL, ST_PASS);
	fx_assert_only("no-wsus-policy.json", &settings, "policy", ST_FAIL);
	fx_assert_only("wsus-policy-usewuserver-0.json", &settings, "policy",
		       ST_FAIL);
	fx_assert_only("wsus-policy-bad-url.json", &settings, "policy",
		       ST_FAIL);
}
