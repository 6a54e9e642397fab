/*
 * test_check_bits.c: the bits check on simulated hosts, from the example
 * files and from healthy.json with one field changed, and on a host that
 * fails chosen calls (what a sim file cannot say: one Config2 level, the
 * configuration without the status).
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static cJSON *
bits_service(cJSON *doc)
{
	cJSON *svc =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"), "BITS");

	cr_assert_not_null(svc, "healthy.json has no services.BITS");
	return svc;
}

static void
run_bits(struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_bits, &ctx, r);
}

/* Run the bits check on healthy.json with BITS changed by edit. */
static void
run_edited(void (*edit)(cJSON *svc, const void *arg), const void *arg,
	   struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;

	edit(bits_service(doc), arg);
	h = fx_open_doc(doc);
	run_bits(h, r);
	host_close(h);
	cJSON_Delete(doc);
}

static const char *
fact_str(const struct check_result *r, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->facts, key);

	cr_assert(cJSON_IsString(v), "fact %s is not a string", key);
	return v->valuestring;
}

/* The action a remedy may name: only one this build has. */
static const char *
expect_action(const char *id)
{
	return action_find(id) != NULL ? id : NULL;
}

static void
assert_remedy_action(const struct finding *f, const char *id)
{
	const char *want = expect_action(id);

	if (want == NULL)
		cr_assert_null(f->remedy_action);
	else
		cr_assert_str_eq(f->remedy_action, want);
}

Test(check_bits, descriptor)
{
	cr_assert_eq(check_find("bits"), &check_bits);
	cr_assert_str_eq(check_bits.id, "bits");
	cr_assert_str_eq(check_bits.title,
			 "Background Intelligent Transfer Service");
	cr_assert_str_eq(
	    check_bits.seed_section,
	    "Check for issues relating to BITS / Issues with BITS");
	cr_assert_eq(check_bits.time_limit_ms, 10000);
}

Test(check_bits, healthy_passes_every_finding)
{
	static const char *const ids[] = {
	    "bits.exists",	"bits.state",	     "bits.start_type",
	    "bits.account",	"bits.binary_path",  "bits.svchost_group",
	    "bits.service_dll", "bits.dependencies", "bits.baseline",
	    "bits.last_error",
	};
	const size_t n = sizeof(ids) / sizeof(ids[0]);
	struct host *h = fx_open_example("healthy.json");
	struct check_result r;

	run_bits(h, &r);
	cr_assert_str_eq(status_name(r.status), "pass", "summary: %s",
			 r.summary);
	cr_assert_eq(r.n_findings, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(r.findings[i].id, ids[i]);
		cr_assert_eq(r.findings[i].status, ST_PASS, "%s: %s", ids[i],
			     r.findings[i].message);
		cr_assert_eq(r.findings[i].error, 0);
	}
	cr_assert_str_eq(fact_str(&r, "state"), "running");
	cr_assert_str_eq(fact_str(&r, "type"), "share");
	cr_assert_str_eq(fact_str(&r, "account"), "LocalSystem");
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r.facts, "exit_code")));
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r.facts, "pid")));
	cr_assert_str_eq(fx_find(&r, "bits.state")->observed, "running");
	result_clear(&r);
	host_close(h);
}

Test(check_bits, broken_bits_account)
{
	struct host *h = fx_open_example("broken-bits.json");
	struct check_result r;
	const struct finding *f;

	run_bits(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "bits.account");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_str_eq(f->expected, "LocalSystem");
	cr_assert_str_eq(f->observed, "NT AUTHORITY\\LocalService");
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->remedy_text,
			 "sc config bits obj= LocalSystem, then restart BITS");
	assert_remedy_action(f, "repair-bits");
	cr_assert_str_eq(fact_str(&r, "account"), "NT AUTHORITY\\LocalService");
	result_clear(&r);
	host_close(h);
}

Test(check_bits, disabled)
{
	struct host *h = fx_open_example("broken-bits-disabled.json");
	struct check_result r;
	const struct finding *f;

	run_bits(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "bits.start_type");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070422u);
	cr_assert_str_eq(f->observed, "disabled");
	cr_assert_str_eq(f->expected, "delayed-auto");
	cr_assert_str_eq(
	    f->remedy_text,
	    "enable the service: sc config bits start= delayed-auto");
	assert_remedy_action(f, "repair-bits");
	cr_assert_str_eq(fact_str(&r, "start_type"), "disabled");
	/* The one fault: everything else still passes. */
	cr_assert_eq(fx_find(&r, "bits.account")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "bits.binary_path")->status, ST_PASS);
	result_clear(&r);
	host_close(h);
}

Test(check_bits, missing_gives_only_exists)
{
	struct host *h = fx_open_example("broken-bits-missing.json");
	struct check_result r;

	run_bits(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_eq(r.n_findings, 1);
	cr_assert_str_eq(r.findings[0].id, "bits.exists");
	cr_assert_eq(r.findings[0].status, ST_FAIL);
	cr_assert_eq(r.findings[0].error, 0x80070424u);
	cr_assert_str_eq(r.findings[0].observed, "missing");
	cr_assert_not_null(r.findings[0].remedy_text);
	result_clear(&r);
	host_close(h);
}

static void
edit_query_fault(cJSON *svc, const void *arg)
{
	cJSON *fault = cJSON_GetObjectItem(svc, "fault");

	if (fault == NULL)
		fault = cJSON_AddObjectToObject(svc, "fault");
	fx_set_num(fault, "query", *(const double *)arg);
}

Test(check_bits, query_access_denied_is_error)
{
	const double code = 5;
	struct check_result r;

	run_edited(edit_query_fault, &code, &r);
	cr_assert_eq(r.status, ST_ERROR, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 1);
	cr_assert_str_eq(r.findings[0].id, "bits.exists");
	cr_assert_eq(r.findings[0].status, ST_ERROR);
	cr_assert_eq(r.findings[0].error, 0x80070005u);
	result_clear(&r);
}

static void
edit_str(cJSON *svc, const void *arg)
{
	const char *const *kv = arg;

	fx_set_str(svc, kv[0], kv[1]);
}

static enum status
status_with(const char *key, const char *value, const char *id)
{
	const char *kv[2] = {key, value};
	struct check_result r;
	enum status st;

	run_edited(edit_str, kv, &r);
	st = fx_find(&r, id)->status;
	result_clear(&r);
	return st;
}

Test(check_bits, account_forms)
{
	cr_assert_eq(status_with("account", "localsystem", "bits.account"),
		     ST_PASS);
	cr_assert_eq(status_with("account", ".\\LocalSystem", "bits.account"),
		     ST_PASS);
	cr_assert_eq(status_with("account", "NT AUTHORITY\\NetworkService",
				 "bits.account"),
		     ST_FAIL);
	cr_assert_eq(status_with("account", ".\\Administrator", "bits.account"),
		     ST_FAIL);
}

Test(check_bits, binary_path_forms)
{
	static const char *const good[] = {
	    "%SystemRoot%\\System32\\svchost.exe -k netsvcs",
	    "%systemroot%\\system32\\svchost.exe -k netsvcs -p",
	    "%windir%\\System32\\svchost.exe -k netsvcs",
	    "C:\\Windows\\System32\\svchost.exe -k netsvcs -p",
	    "\"C:\\Windows\\System32\\svchost.exe\" -k netsvcs",
	    "\"%SystemRoot%\\System32\\svchost.exe -k netsvcs\"",
	};
	static const char *const bad[] = {
	    "%SystemRoot%\\System32\\svchost.exe -k LocalService",
	    "%SystemRoot%\\System32\\svchost.exe -k netsvcs -x",
	    "%SystemRoot%\\System32\\svchost.exe",
	    "%SystemRoot%\\Temp\\svchost.exe -k netsvcs",
	    "C:\\evil\\bits.exe",
	    /* The article's en dash. */
	    "%systemroot%\\system32\\svchost.exe \xe2\x80\x93k netsvcs",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		cr_assert_eq(
		    status_with("binary_path", good[i], "bits.binary_path"),
		    ST_PASS, "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(
		    status_with("binary_path", bad[i], "bits.binary_path"),
		    ST_FAIL, "%s", bad[i]);
}

Test(check_bits, binary_path_failure_details)
{
	const char *kv[2] = {"binary_path",
			     "%SystemRoot%\\System32\\svchost.exe -k netsvc"};
	struct check_result r;
	const struct finding *f;

	run_edited(edit_str, kv, &r);
	f = fx_find(&r, "bits.binary_path");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_str_eq(f->expected,
			 "%SystemRoot%\\System32\\svchost.exe -k netsvcs");
	cr_assert_str_eq(f->observed, kv[1]);
	assert_remedy_action(f, "repair-bits");
	result_clear(&r);
}

static void
edit_stopped(cJSON *svc, const void *arg)
{
	fx_set_str(svc, "state", "stopped");
	fx_set_num(svc, "exit_code", *(const double *)arg);
	cJSON_DeleteItemFromObject(svc, "pid"); /* none while stopped */
}

Test(check_bits, stopped_cleanly_warns)
{
	const double code = 0;
	struct check_result r;
	const struct finding *f;

	run_edited(edit_stopped, &code, &r);
	cr_assert_eq(r.status, ST_WARN);
	f = fx_find(&r, "bits.state");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->observed, "stopped");
	cr_assert_eq(f->error, 0);
	cr_assert_not_null(strstr(f->message, "not in itself a fault"));
	assert_remedy_action(f, "restart-bits");
	cr_assert_str_eq(fact_str(&r, "state"), "stopped");
	result_clear(&r);
}

/*
 * 1077, ERROR_SERVICE_NEVER_STARTED: a trigger-started BITS nothing has
 * needed since boot (and every service under Wine before its first
 * start). Stopped, not stopped with an error.
 */
Test(check_bits, never_started_is_no_error)
{
	const double code = 1077;
	struct check_result r;
	const struct finding *f;

	run_edited(edit_stopped, &code, &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	f = fx_find(&r, "bits.state");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0);
	f = fx_find(&r, "bits.last_error");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->expected, "no error");
	cr_assert_str_eq(f->observed, "0x80070435");
	cr_assert_str_eq(f->message,
			 "BITS has not run since boot (exit code 1077, "
			 "ERROR_SERVICE_NEVER_STARTED): no error");
	result_clear(&r);
}

Test(check_bits, stopped_with_error_fails)
{
	const double code = 1068; /* ERROR_SERVICE_DEPENDENCY_FAIL */
	struct check_result r;
	const struct finding *f;

	run_edited(edit_stopped, &code, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "bits.state");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Cu);
	cr_assert_not_null(strstr(f->message, "0x8007042C"), "%s", f->message);
	cr_assert_eq(cJSON_GetObjectItem(r.facts, "exit_code")->valuedouble,
		     1068);
	result_clear(&r);
}

static void
edit_delayed(cJSON *svc, const void *arg)
{
	(void)arg;
	fx_set_str(svc, "start_type", "auto");
	cJSON_DeleteItemFromObject(svc, "delayed_auto_start");
	cJSON_AddTrueToObject(svc, "delayed_auto_start");
}

Test(check_bits, delayed_auto_is_observed)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_delayed, NULL, &r);
	f = fx_find(&r, "bits.start_type");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->observed, "delayed-auto");
	cr_assert_str_eq(fact_str(&r, "start_type"), "auto");
	cr_assert(
	    cJSON_IsTrue(cJSON_GetObjectItem(r.facts, "delayed_auto_start")));
	result_clear(&r);
}

Test(check_bits, renders_design_json)
{
	struct host *h = fx_open_example("broken-bits.json");
	struct check_result r;
	cJSON *j, *f = NULL, *it;

	run_bits(h, &r);
	j = result_to_json(&r);
	cr_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring, "fail");
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "findings"))
	{
		if (strcmp(cJSON_GetObjectItem(it, "id")->valuestring,
			   "bits.account") == 0)
			f = it;
	}
	cr_assert_not_null(f);
	cr_assert_str_eq(cJSON_GetObjectItem(f, "observed")->valuestring,
			 "NT AUTHORITY\\LocalService");
	cr_assert_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(f, "remedy"), "text")
		->valuestring,
	    "sc config bits obj= LocalSystem, then restart BITS");
	cJSON_Delete(j);
	result_clear(&r);
	host_close(h);
}

static void
edit_config2_fault(cJSON *svc, const void *arg)
{
	cJSON *fault = cJSON_GetObjectItem(svc, "fault");

	(void)arg;
	if (fault == NULL)
		fault = cJSON_AddObjectToObject(svc, "fault");
	fx_set_num(fault, "config2", 124); /* ERROR_INVALID_LEVEL, as on Wine */
}

Test(check_bits, config2_failure_is_a_null_fact)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_config2_fault, NULL, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert(
	    cJSON_IsNull(cJSON_GetObjectItem(r.facts, "delayed_auto_start")));
	/* Without the Config2 flag, delayed-auto reads as plain auto. */
	f = fx_find(&r, "bits.start_type");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->observed, "auto");
	result_clear(&r);
}

Test(check_bits, pending_state_warns)
{
	const char *kv[2] = {"state", "start_pending"};
	struct check_result r;
	const struct finding *f;

	run_edited(edit_str, kv, &r);
	cr_assert_eq(r.status, ST_WARN);
	f = fx_find(&r, "bits.state");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->observed, "start_pending");
	cr_assert_str_eq(fact_str(&r, "state"), "start_pending");
	result_clear(&r);
}

/* ---- what "BITS fails to start" lists, and the repair baseline ---------- */

#define SVCHOST_KEY                                                            \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"
#define BITS_PARAMS                                                            \
	"HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters"

/* Run the bits check on healthy.json changed by edit (the whole file). */
static void
run_doc_edited(void (*edit)(cJSON *doc, const void *arg), const void *arg,
	       struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;

	edit(doc, arg);
	h = fx_open_doc(doc);
	run_bits(h, r);
	host_close(h);
	cJSON_Delete(doc);
}

static void
run_example(const char *name, struct check_result *r)
{
	struct host *h = fx_open_example(name);

	run_bits(h, r);
	host_close(h);
}

/* details->a->b->... (NULL-terminated keys); fails the test if absent. */
static const cJSON *
detail(const struct finding *f, ...)
{
	const cJSON *j = f->details;
	const char *k;
	va_list ap;

	cr_assert_not_null(j, "%s has no details", f->id);
	va_start(ap, f);
	while ((k = va_arg(ap, const char *)) != NULL) {
		j = cJSON_GetObjectItemCaseSensitive(j, k);
		cr_assert_not_null(j, "%s: details has no %s", f->id, k);
	}
	va_end(ap);
	return j;
}

static const char *
detail_str(const struct finding *f, const char *a, const char *b)
{
	const cJSON *j = b != NULL ? detail(f, a, b, NULL) : detail(f, a, NULL);

	cr_assert(cJSON_IsString(j), "%s: details %s.%s is not a string", f->id,
		  a, b != NULL ? b : "");
	return j->valuestring;
}

/* A JSON array of strings equals want (n entries). */
static void
assert_json_list(const cJSON *a, const char *const *want, size_t n)
{
	cr_assert(cJSON_IsArray(a));
	cr_assert_eq((size_t)cJSON_GetArraySize(a), n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(cJSON_GetArrayItem(a, (int)i)->valuestring,
				 want[i]);
}

/* Every finding other than those in ids passes. */
static void
assert_others_pass(const struct check_result *r, const char *const *ids,
		   size_t n)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		bool listed = false;

		for (size_t j = 0; j < n; j++)
			listed |= strcmp(r->findings[i].id, ids[j]) == 0;
		if (!listed)
			cr_assert_eq(r->findings[i].status, ST_PASS, "%s: %s",
				     r->findings[i].id, r->findings[i].message);
	}
}

Test(check_bits, healthy_details)
{
	static const char *const fields[] = {"start_type", "error_control",
					     "required_privileges", "sid_type",
					     "failure_actions"};
	static const char *const deps[] = {"RpcSs", "EventSystem"};
	struct check_result r;
	const struct finding *f;

	run_example("healthy.json", &r);
	f = fx_find(&r, "bits.baseline");
	for (size_t i = 0; i < 5; i++)
		cr_assert_str_eq(detail_str(f, fields[i], "status"), "match",
				 "%s", fields[i]);
	/* Windows lists a third, "none" action: nothing to compare. */
	assert_json_list(
	    detail(f, "failure_actions", "observed", "actions", NULL),
	    (const char *const[]){"restart/60000", "restart/120000"}, 2);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_str_eq(f->expected, "RpcSs, EventSystem");
	cr_assert_str_eq(f->observed, "RpcSs, EventSystem");
	cr_assert_str_eq(detail_str(f, "expected_for", NULL),
			 "Windows Vista and later");
	assert_json_list(detail(f, "expected", NULL), deps, 2);
	assert_json_list(detail(f, "missing", NULL), NULL, 0);
	cr_assert_str_eq(cJSON_GetObjectItem(
			     detail(f, "dependencies", "RpcSs", NULL), "status")
			     ->valuestring,
			 "pass");
	f = fx_find(&r, "bits.service_dll");
	cr_assert_str_eq(f->observed, "%SystemRoot%\\System32\\qmgr.dll");
	cr_assert_str_eq(detail_str(f, "key", NULL), BITS_PARAMS);
	f = fx_find(&r, "bits.last_error");
	cr_assert_str_eq(f->expected, "no error");
	cr_assert_str_eq(f->observed, "0");
	result_clear(&r);
}

Test(check_bits, not_in_netsvcs)
{
	static const char *const ids[] = {"bits.state", "bits.svchost_group",
					  "bits.last_error"};
	struct check_result r;
	const struct finding *f;

	run_example("broken-bits-not-in-netsvcs.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "bits.svchost_group");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007043Bu);
	cr_assert_str_eq(f->expected, "BITS listed in netsvcs");
	cr_assert_str_eq(f->observed, "not listed");
	cr_assert_str_eq(f->remedy_text,
			 "add BITS to the REG_MULTI_SZ value netsvcs under "
			 "HKLM\\SOFTWARE\\Microsoft\\Windows "
			 "NT\\CurrentVersion\\Svchost, keeping the names "
			 "already listed, then start BITS");
	cr_assert_null(f->remedy_action);
	/* The SCM recorded the same code when the start failed. */
	cr_assert_eq(fx_find(&r, "bits.state")->error, 0x8007043Bu);
	f = fx_find(&r, "bits.last_error");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007043Bu);
	cr_assert_str_eq(f->observed, "0x8007043B");
	cr_assert_not_null(strstr(f->message, "ERROR_SERVICE_NOT_IN_EXE"), "%s",
			   f->message);
	assert_others_pass(&r, ids, 3);
	result_clear(&r);
}

Test(check_bits, servicedll_missing)
{
	static const char *const ids[] = {"bits.state", "bits.service_dll",
					  "bits.last_error"};
	struct check_result r;
	const struct finding *f;

	run_example("broken-bits-servicedll-missing.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "bits.service_dll");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->expected, "%SystemRoot%\\System32\\qmgr.dll");
	cr_assert_str_eq(f->observed, "missing");
	cr_assert_str_eq(
	    f->remedy_text,
	    "reg add \"" BITS_PARAMS "\" /v ServiceDll /t "
	    "REG_EXPAND_SZ /d \"%SystemRoot%\\System32\\qmgr.dll\" "
	    "/f, then start BITS");
	cr_assert(cJSON_IsNull(detail(f, "value", NULL)));
	cr_assert_eq(fx_find(&r, "bits.last_error")->error, 0x80070002u);
	assert_others_pass(&r, ids, 3);
	result_clear(&r);
}

Test(check_bits, dependency_missing)
{
	static const char *const ids[] = {"bits.state", "bits.dependencies",
					  "bits.last_error"};
	static const char *const wmi[] = {"Wmi"};
	struct check_result r;
	const struct finding *f;
	const cJSON *v;

	run_example("broken-bits-dependency-missing.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070433u);
	cr_assert_str_eq(f->message,
			 "BITS cannot start: dependency Wmi does not exist");
	cr_assert_str_eq(f->expected, "RpcSs, EventSystem");
	cr_assert_str_eq(f->observed, "RpcSs, EventSystem, Wmi");
	/* Wmi is not in the table's list: the repair's list drops it. */
	cr_assert_str_eq(f->remedy_text,
			 "sc config bits depend= RpcSs/EventSystem, then "
			 "restart BITS");
	assert_remedy_action(f, "repair-bits");
	assert_json_list(detail(f, "unexpected", NULL), wmi, 1);
	v = detail(f, "dependencies", "Wmi", NULL);
	cr_assert_str_eq(cJSON_GetObjectItem(v, "status")->valuestring, "fail");
	cr_assert_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(v, "error"), "code")
		->valuestring,
	    "0x80070433");
	v = detail(f, "dependencies", "EventSystem", NULL);
	cr_assert_str_eq(cJSON_GetObjectItem(v, "status")->valuestring, "pass");
	cr_assert_eq(fx_find(&r, "bits.last_error")->error, 0x80070433u);
	assert_others_pass(&r, ids, 3);
	result_clear(&r);
}

Test(check_bits, dependency_disabled)
{
	static const char *const ids[] = {"bits.state", "bits.dependencies",
					  "bits.last_error"};
	struct check_result r;
	const struct finding *f;

	run_example("broken-bits-dependency-disabled.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Cu);
	cr_assert_str_eq(f->message,
			 "BITS cannot start: dependency EventSystem is "
			 "disabled");
	cr_assert_str_eq(f->remedy_text,
			 "enable EventSystem: sc config EventSystem start= "
			 "auto, then start BITS");
	cr_assert_null(f->remedy_action);
	cr_assert_eq(fx_find(&r, "bits.last_error")->error, 0x8007042Cu);
	assert_others_pass(&r, ids, 3);
	result_clear(&r);
}

Test(check_bits, baseline_differs_is_only_a_warning)
{
	static const char *const ids[] = {"bits.baseline"};
	struct check_result r;
	const struct finding *f;
	const cJSON *o;

	run_example("broken-bits-baseline.json", &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	f = fx_find(&r, "bits.baseline");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->message, "BITS differs from the repair baseline "
				     "in SID type, failure actions");
	cr_assert_str_eq(detail_str(f, "sid_type", "expected"), "unrestricted");
	cr_assert_str_eq(detail_str(f, "sid_type", "observed"), "none");
	cr_assert_str_eq(detail_str(f, "sid_type", "status"), "differs");
	cr_assert_str_eq(detail_str(f, "failure_actions", "status"), "differs");
	o = detail(f, "failure_actions", "observed", NULL);
	cr_assert_eq(cJSON_GetObjectItem(o, "reset_s")->valuedouble, 0);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "actions")), 0);
	o = detail(f, "failure_actions", "expected", NULL);
	cr_assert_eq(cJSON_GetObjectItem(o, "reset_s")->valuedouble, 86400);
	cr_assert_str_eq(detail_str(f, "start_type", "status"), "match");
	cr_assert_str_eq(detail_str(f, "error_control", "status"), "match");
	cr_assert_str_eq(detail_str(f, "required_privileges", "status"),
			 "match");
	cr_assert_str_eq(f->remedy_text,
			 "sc sidtype bits unrestricted; sc failure bits reset= "
			 "86400 actions= restart/60000/restart/120000, then "
			 "restart BITS");
	assert_remedy_action(f, "repair-bits");
	assert_others_pass(&r, ids, 1);
	result_clear(&r);
}

static cJSON *
reg_key(cJSON *doc, const char *key)
{
	cJSON *k =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), key);

	cr_assert_not_null(k, "healthy.json has no %s", key);
	return k;
}

/* Set registry KEY's VALUE to the JSON text arg[2] (NULL: delete it). */
static void
edit_reg(cJSON *doc, const void *arg)
{
	const char *const *kv = arg;
	cJSON *k = reg_key(doc, kv[0]);

	cJSON_DeleteItemFromObject(k, kv[1]);
	if (kv[2] != NULL)
		cJSON_AddItemToObject(k, kv[1], cJSON_Parse(kv[2]));
}

static const struct finding *
run_reg(const char *key, const char *value, const char *json, const char *id,
	struct check_result *r)
{
	const char *kv[3] = {key, value, json};

	run_doc_edited(edit_reg, kv, r);
	return fx_find(r, id);
}

Test(check_bits, svchost_group_forms)
{
	struct check_result r;
	const struct finding *f;

	/* Names are case-insensitive, as the SCM compares them. */
	f = run_reg(SVCHOST_KEY, "netsvcs",
		    "{\"type\":\"REG_MULTI_SZ\",\"data\":[\"wuauserv\","
		    "\"bits\"]}",
		    "bits.svchost_group", &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	result_clear(&r);

	f = run_reg(SVCHOST_KEY, "netsvcs", NULL, "bits.svchost_group", &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007043Bu);
	cr_assert_str_eq(f->observed, "no such group");
	result_clear(&r);

	f = run_reg(SVCHOST_KEY, "netsvcs", "\"BITS\"", "bits.svchost_group",
		    &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007043Bu);
	cr_assert_str_eq(f->observed, "not a REG_MULTI_SZ value");
	result_clear(&r);
}

Test(check_bits, service_dll_forms)
{
	const char *wrong = "{\"type\":\"REG_EXPAND_SZ\",\"data\":"
			    "\"%SystemRoot%\\\\System32\\\\qmgr_old.dll\"}";
	struct check_result r;
	const struct finding *f;

	f = run_reg(BITS_PARAMS, "ServiceDll",
		    "\"C:\\\\WINDOWS\\\\system32\\\\QMGR.DLL\"",
		    "bits.service_dll", &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	result_clear(&r);

	f = run_reg(BITS_PARAMS, "ServiceDll", wrong, "bits.service_dll", &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->observed, "%SystemRoot%\\System32\\qmgr_old.dll");
	cr_assert_str_eq(f->message, "the ServiceDll of BITS names "
				     "qmgr_old.dll, not qmgr.dll");
	result_clear(&r);

	f = run_reg(BITS_PARAMS, "ServiceDll", "7", "bits.service_dll", &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->observed, "not a file name");
	result_clear(&r);
}

static void
edit_dll_in_service_key(cJSON *doc, const void *arg)
{
	cJSON *reg = cJSON_GetObjectItem(doc, "registry"), *k;

	(void)arg;
	cJSON_DeleteItemFromObject(reg, BITS_PARAMS);
	k = cJSON_AddObjectToObject(
	    reg, "HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS");
	cJSON_AddStringToObject(k, "ServiceDll",
				"%SystemRoot%\\System32\\qmgr.dll");
}

Test(check_bits, service_dll_in_the_service_key_is_found)
{
	struct check_result r;
	const struct finding *f;

	/* svchost falls back to the service key, and so does the SCM. */
	run_doc_edited(edit_dll_in_service_key, NULL, &r);
	f = fx_find(&r, "bits.service_dll");
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(detail_str(f, "key", NULL),
			 "HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS");
	result_clear(&r);
}

static void
edit_registry_fault(cJSON *doc, const void *arg)
{
	cJSON *fault = cJSON_AddObjectToObject(doc, "fault");

	(void)arg;
	cJSON_AddNumberToObject(fault, "registry_read", 5);
}

Test(check_bits, registry_unreadable_is_error)
{
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_registry_fault, NULL, &r);
	cr_assert_eq(r.status, ST_ERROR);
	f = fx_find(&r, "bits.svchost_group");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message, "could not read the svchost group "
				     "netsvcs (0x80070005)");
	f = fx_find(&r, "bits.service_dll");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	/* The SCM is another door: those findings still look. */
	cr_assert_eq(fx_find(&r, "bits.dependencies")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "bits.baseline")->status, ST_PASS);
	result_clear(&r);
}

/* EventSystem is gone from the SCM: the repair's list cannot help. */
static void
edit_eventsystem_deleted(cJSON *doc, const void *arg)
{
	(void)arg;
	cr_assert_not_null(fx_service_of(doc, "EventSystem"));
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "EventSystem");
}

Test(check_bits, expected_dependency_not_installed)
{
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_eventsystem_deleted, NULL, &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070433u);
	cr_assert_str_eq(f->message, "BITS cannot start: dependency "
				     "EventSystem does not exist");
	cr_assert_str_eq(f->remedy_text,
			 "a service BITS needs is not installed: repair "
			 "Windows (DISM /Online /Cleanup-Image "
			 "/RestoreHealth, then sfc /scannow), then start BITS");
	cr_assert_null(f->remedy_action);
	result_clear(&r);
}

/* BITS's dependencies are the JSON array arg. */
static void
edit_deps(cJSON *svc, const void *arg)
{
	cJSON_DeleteItemFromObject(svc, "dependencies");
	cJSON_AddItemToObject(svc, "dependencies", cJSON_Parse(arg));
}

Test(check_bits, dependencies_compare_case_insensitively)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_deps, "[\"eventsystem\", \"RPCSS\"]", &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(f->observed, "eventsystem, RPCSS");
	result_clear(&r);
}

Test(check_bits, missing_expected_dependency_warns_with_the_diff)
{
	static const char *const es[] = {"EventSystem"};
	struct check_result r;
	const struct finding *f;

	run_edited(edit_deps, "[\"RpcSs\"]", &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->message,
			 "the BITS dependency list differs from the one for "
			 "Windows Vista and later; it lacks EventSystem");
	cr_assert_str_eq(f->expected, "RpcSs, EventSystem");
	cr_assert_str_eq(f->observed, "RpcSs");
	assert_json_list(detail(f, "missing", NULL), es, 1);
	assert_json_list(detail(f, "unexpected", NULL), NULL, 0);
	cr_assert_str_eq(f->remedy_text,
			 "sc config bits depend= RpcSs/EventSystem, then "
			 "restart BITS");
	assert_remedy_action(f, "repair-bits");
	result_clear(&r);
}

Test(check_bits, unexpected_dependency_warns)
{
	static const char *const sens[] = {"SENS"};
	struct check_result r;
	const struct finding *f;

	run_edited(edit_deps, "[\"RpcSs\", \"EventSystem\", \"SENS\"]", &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->message,
			 "the BITS dependency list differs from the one for "
			 "Windows Vista and later; it also has SENS");
	assert_json_list(detail(f, "unexpected", NULL), sens, 1);
	result_clear(&r);
}

/* BITS depends on what peer caching needs too, and those exist. */
static void
edit_peer_caching(cJSON *doc, const void *arg)
{
	cJSON *services = cJSON_GetObjectItem(doc, "services"), *s;

	(void)arg;
	edit_deps(fx_service_of(doc, "BITS"),
		  "[\"RpcSs\", \"EventSystem\", \"LanmanWorkstation\", "
		  "\"HTTP\"]");
	s = cJSON_AddObjectToObject(services, "LanmanWorkstation");
	cJSON_AddStringToObject(s, "state", "running");
	cJSON_AddStringToObject(s, "start_type", "auto");
	s = cJSON_AddObjectToObject(services, "HTTP");
	cJSON_AddStringToObject(s, "type", "kernel");
	cJSON_AddStringToObject(s, "state", "running");
	cJSON_AddStringToObject(s, "start_type", "demand");
}

Test(check_bits, peer_caching_dependencies_are_allowed)
{
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_peer_caching, NULL, &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	assert_json_list(detail(f, "unexpected", NULL), NULL, 0);
	result_clear(&r);
}

/* The OS version arg[0] with BITS dependencies arg[1]. */
static void
edit_os(cJSON *doc, const void *arg)
{
	const char *const *a = arg;

	fx_set_str(cJSON_GetObjectItem(doc, "computer"), "os_version", a[0]);
	edit_deps(fx_service_of(doc, "BITS"), a[1]);
}

static enum status
deps_status_on(const char *os, const char *deps, char **message)
{
	const char *a[2] = {os, deps};
	struct check_result r;
	const struct finding *f;
	enum status st;

	run_doc_edited(edit_os, a, &r);
	f = fx_find(&r, "bits.dependencies");
	st = f->status;
	*message = xstrdup(f->message);
	result_clear(&r);
	return st;
}

Test(check_bits, dependencies_by_windows_version)
{
	static const struct {
		const char *os, *deps;
		enum status want;
		const char *message;
	} cases[] = {
	    {"5.1.2600", "[\"RpcSs\"]", ST_PASS, NULL},
	    {"5.1.2600", "[\"RpcSs\", \"EventSystem\"]", ST_WARN,
	     "the BITS dependency list differs from the one for Windows XP; "
	     "it also has EventSystem"},
	    {"5.2.3790", "[\"RpcSs\", \"EventSystem\"]", ST_PASS, NULL},
	    {"5.2.3790", "[\"RpcSs\"]", ST_WARN,
	     "the BITS dependency list differs from the one for Windows "
	     "Server 2003; it lacks EventSystem"},
	    {"5.0.2195", "[\"RpcSs\"]", ST_WARN,
	     "the BITS dependency list differs from the one for Windows "
	     "2000; it lacks SENS, Wmi"},
	    {"6.1.7601", "[\"RpcSs\", \"EventSystem\"]", ST_PASS, NULL},
	    {"6.0.6002", "[\"RpcSs\"]", ST_WARN,
	     "the BITS dependency list differs from the one for Windows "
	     "Vista and later; it lacks EventSystem"},
	};
	char *msg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum status st =
		    deps_status_on(cases[i].os, cases[i].deps, &msg);

		cr_assert_eq(st, cases[i].want, "%s %s: %s", cases[i].os,
			     cases[i].deps, msg);
		if (cases[i].message != NULL)
			cr_assert_str_eq(msg, cases[i].message);
		free(msg);
	}
}

Test(check_bits, unknown_windows_version_judges_services_only)
{
	const char *a[2] = {"4.0.1381", "[\"RpcSs\"]"};
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_os, a, &r);
	f = fx_find(&r, "bits.dependencies");
	/* No table row: RpcSs exists and runs, nothing more to say. */
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert(cJSON_IsNull(detail(f, "expected", NULL)));
	cr_assert_str_eq(detail_str(f, "os_version", NULL), "4.0.1381");
	cr_assert_null(f->expected);
	result_clear(&r);
}

static void
edit_group_dependency(cJSON *svc, const void *arg)
{
	(void)arg;
	edit_deps(svc, "[\"RpcSs\", \"EventSystem\", \"+TDI\"]");
}

Test(check_bits, load_order_group_is_not_a_service)
{
	struct check_result r;
	const struct finding *f;
	const cJSON *v;

	run_edited(edit_group_dependency, NULL, &r);
	f = fx_find(&r, "bits.dependencies");
	/* Not a broken dependency; not the table's list either. */
	cr_assert_eq(f->status, ST_WARN, "%s", f->message);
	v = detail(f, "dependencies", "+TDI", NULL);
	cr_assert_str_eq(cJSON_GetObjectItem(v, "status")->valuestring, "pass");
	result_clear(&r);
}

/* RpcSs is stopped and one of its own dependencies is disabled. */
static void
edit_nested(cJSON *doc, const void *arg)
{
	cJSON *rpc = fx_service_of(doc, "RpcSs"), *dcom;

	(void)arg;
	fx_set_str(rpc, "state", "stopped");
	cJSON_DeleteItemFromObject(rpc, "pid");
	dcom = fx_service_of(doc, "DcomLaunch");
	fx_set_str(dcom, "state", "stopped");
	fx_set_str(dcom, "start_type", "disabled");
	cJSON_DeleteItemFromObject(dcom, "pid");
}

Test(check_bits, stopped_dependency_that_cannot_start)
{
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_nested, NULL, &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Cu);
	cr_assert_str_eq(f->message,
			 "BITS cannot start: dependency RpcSs is stopped and "
			 "cannot start: dependency DcomLaunch is disabled");
	cr_assert_str_eq(f->remedy_text,
			 "enable DcomLaunch: sc config DcomLaunch start= auto, "
			 "then start BITS");
	result_clear(&r);
}

/* EventSystem is stopped but would start: that is no fault. */
static void
edit_stopped_dependency(cJSON *doc, const void *arg)
{
	cJSON *es = fx_service_of(doc, "EventSystem");

	(void)arg;
	fx_set_str(es, "state", "stopped");
	cJSON_DeleteItemFromObject(es, "pid");
}

Test(check_bits, stopped_dependency_that_can_start)
{
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_stopped_dependency, NULL, &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(
	    cJSON_GetObjectItem(detail(f, "dependencies", "EventSystem", NULL),
				"detail")
		->valuestring,
	    "dependency EventSystem is stopped and can start");
	result_clear(&r);
}

/* BITS and EventSystem are stopped and EventSystem depends on BITS. */
static void
edit_cycle(cJSON *doc, const void *arg)
{
	cJSON *es = fx_service_of(doc, "EventSystem"),
	      *b = fx_service_of(doc, "BITS");

	(void)arg;
	fx_set_str(es, "state", "stopped");
	cJSON_DeleteItemFromObject(es, "pid");
	edit_deps(es, "[\"BITS\"]");
	fx_set_str(b, "state", "stopped");
	cJSON_DeleteItemFromObject(b, "pid");
}

Test(check_bits, dependency_cycle)
{
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_cycle, NULL, &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Cu);
	cr_assert_not_null(strstr(f->message, "BITS depends on itself"), "%s",
			   f->message);
	result_clear(&r);
}

/* A sim fault on one dependency: its status query is refused. */
static void
edit_dependency_query_fault(cJSON *doc, const void *arg)
{
	cJSON *fault =
	    cJSON_AddObjectToObject(fx_service_of(doc, "EventSystem"), "fault");

	(void)arg;
	cJSON_AddNumberToObject(fault, "query", 5);
}

Test(check_bits, dependency_unreadable_is_error)
{
	struct check_result r;
	const struct finding *f;

	run_doc_edited(edit_dependency_query_fault, NULL, &r);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message,
			 "could not check every dependency of BITS: could not "
			 "query dependency EventSystem (0x80070005)");
	result_clear(&r);
}

/* ---- baseline fields ----------------------------------------------------- */

static const struct finding *
baseline_with(void (*edit)(cJSON *, const void *), const void *arg,
	      struct check_result *r)
{
	run_edited(edit, arg, r);
	return fx_find(r, "bits.baseline");
}

Test(check_bits, baseline_start_and_error_control)
{
	const char *kv[2] = {"start_type", "demand"};
	struct check_result r;
	const struct finding *f;

	f = baseline_with(edit_str, kv, &r);
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(detail_str(f, "start_type", "observed"), "demand");
	cr_assert_str_eq(detail_str(f, "start_type", "status"), "differs");
	cr_assert_str_eq(f->remedy_text, "sc config bits start= delayed-auto, "
					 "then restart BITS");
	result_clear(&r);

	kv[0] = "error_control";
	kv[1] = "ignore";
	f = baseline_with(edit_str, kv, &r);
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->message, "BITS differs from the repair baseline "
				     "in error control");
	cr_assert_str_eq(detail_str(f, "error_control", "observed"), "ignore");
	result_clear(&r);
}

static void
edit_privs(cJSON *svc, const void *arg)
{
	cJSON_DeleteItemFromObject(svc, "required_privileges");
	cJSON_AddItemToObject(svc, "required_privileges", cJSON_Parse(arg));
}

Test(check_bits, baseline_privileges_are_a_set)
{
	struct check_result r;
	const struct finding *f;

	f = baseline_with(edit_privs,
			  "[\"SeIncreaseQuotaPrivilege\", "
			  "\"setcbprivilege\", \"SeImpersonatePrivilege\", "
			  "\"SeAssignPrimaryTokenPrivilege\", "
			  "\"SeCreateGlobalPrivilege\"]",
			  &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	result_clear(&r);
}

Test(check_bits, baseline_privileges_with_the_articles_typo)
{
	static const char *const miss[] = {"SeIncreaseQuotaPrivilege"};
	static const char *const extra[] = {"SeIncreateQuotaPrivilege"};
	struct check_result r;
	const struct finding *f;

	f = baseline_with(edit_privs,
			  "[\"SeCreateGlobalPrivilege\", "
			  "\"SeImpersonatePrivilege\", \"SeTcbPrivilege\", "
			  "\"SeAssignPrimaryTokenPrivilege\", "
			  "\"SeIncreateQuotaPrivilege\"]",
			  &r);
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(detail_str(f, "required_privileges", "status"),
			 "differs");
	assert_json_list(detail(f, "required_privileges", "missing", NULL),
			 miss, 1);
	assert_json_list(detail(f, "required_privileges", "unexpected", NULL),
			 extra, 1);
	cr_assert_not_null(strstr(detail_str(f, "required_privileges", "note"),
				  "misspelling"));
	/* The fix spells it right. */
	cr_assert_not_null(strstr(f->remedy_text,
				  "sc privs bits SeCreateGlobalPrivilege/"
				  "SeImpersonatePrivilege/SeTcbPrivilege/"
				  "SeAssignPrimaryTokenPrivilege/"
				  "SeIncreaseQuotaPrivilege"),
			   "%s", f->remedy_text);
	result_clear(&r);
}

static void
edit_failure(cJSON *svc, const void *arg)
{
	cJSON_DeleteItemFromObject(svc, "failure_actions");
	cJSON_AddItemToObject(svc, "failure_actions", cJSON_Parse(arg));
}

Test(check_bits, baseline_failure_actions)
{
	static const char *const differ[] = {
	    /* The second restart too soon. */
	    "{\"reset_s\": 86400, \"actions\": [{\"type\": \"restart\", "
	    "\"delay_ms\": 60000}, {\"type\": \"restart\", \"delay_ms\": "
	    "60000}]}",
	    /* Another reset period. */
	    "{\"reset_s\": 0, \"actions\": [{\"type\": \"restart\", "
	    "\"delay_ms\": 60000}, {\"type\": \"restart\", \"delay_ms\": "
	    "120000}]}",
	    /* A third action that does something. */
	    "{\"reset_s\": 86400, \"actions\": [{\"type\": \"restart\", "
	    "\"delay_ms\": 60000}, {\"type\": \"restart\", \"delay_ms\": "
	    "120000}, {\"type\": \"reboot\", \"delay_ms\": 0}]}",
	};
	struct check_result r;
	const struct finding *f;

	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		f = baseline_with(edit_failure, differ[i], &r);
		cr_assert_eq(f->status, ST_WARN, "%s", differ[i]);
		cr_assert_str_eq(detail_str(f, "failure_actions", "status"),
				 "differs");
		result_clear(&r);
	}
	f = baseline_with(edit_failure,
			  "{\"reset_s\": 86400, \"actions\": [{\"type\": "
			  "\"restart\", \"delay_ms\": 60000}, {\"type\": "
			  "\"restart\", \"delay_ms\": 120000}]}",
			  &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	result_clear(&r);
}

Test(check_bits, config2_unreadable_fields_are_unknown)
{
	static const char *const unknown[] = {
	    "start_type", "required_privileges", "sid_type", "failure_actions"};
	struct check_result r;
	const struct finding *f;
	const cJSON *e;

	/* Every Config2 level answers ERROR_INVALID_LEVEL, as on Wine. */
	f = baseline_with(edit_config2_fault, NULL, &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(f->message,
			 "BITS matches the repair baseline in error control; "
			 "could not read start type (0x8007007C), required "
			 "privileges (0x8007007C), SID type (0x8007007C), "
			 "failure actions (0x8007007C)");
	for (size_t i = 0; i < 4; i++) {
		cr_assert_str_eq(detail_str(f, unknown[i], "status"),
				 "unknown");
		cr_assert(
		    cJSON_IsNull(detail(f, unknown[i], "observed", NULL)));
		e = detail(f, unknown[i], "error", NULL);
		cr_assert_str_eq(cJSON_GetObjectItem(e, "code")->valuestring,
				 "0x8007007C");
	}
	cr_assert_str_eq(detail_str(f, "error_control", "status"), "match");
	result_clear(&r);
}

/* ---- a host that fails chosen calls -------------------------------------- */

static void
run_faults(const struct fx_fault *faults, struct check_result *r)
{
	struct host *h = fx_fault_host(fx_open_example("healthy.json"), faults);

	run_bits(h, r);
	host_close(h);
}

Test(check_bits, wrapped_healthy_passes)
{
	static const struct fx_fault none[] = {{NULL, NULL, 0}};
	struct check_result r;

	/* The wrapper itself changes nothing. */
	run_faults(none, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 10);
	result_clear(&r);
}

Test(check_bits, one_config2_level_unknown)
{
	static const struct fx_fault f124[] = {
	    {"service_sid_type", "BITS", 0x8007007Cu}, {NULL, NULL, 0}};
	struct check_result r;
	const struct finding *f;

	run_faults(f124, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	f = fx_find(&r, "bits.baseline");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "BITS matches the repair baseline in start type, "
			 "error control, required privileges, failure "
			 "actions; could not read SID type (0x8007007C)");
	cr_assert_str_eq(detail_str(f, "sid_type", "status"), "unknown");
	cr_assert_str_eq(detail_str(f, "start_type", "status"), "match");
	cr_assert_eq(f->error, 0);
	result_clear(&r);
}

Test(check_bits, unknown_and_differing_fields_together)
{
	static const struct fx_fault faults[] = {
	    {"service_privileges", "BITS", 0x8007007Cu}, {NULL, NULL, 0}};
	struct host *h =
	    fx_fault_host(fx_open_example("broken-bits-baseline.json"), faults);
	struct check_result r;
	const struct finding *f;

	run_bits(h, &r);
	host_close(h);
	f = fx_find(&r, "bits.baseline");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->message,
			 "BITS differs from the repair baseline in SID type, "
			 "failure actions; could not read required privileges "
			 "(0x8007007C)");
	result_clear(&r);
}

Test(check_bits, configuration_unreadable)
{
	static const struct fx_fault denied[] = {
	    {"service_config", "BITS", 0x80070005u}, {NULL, NULL, 0}};
	struct check_result r;
	const struct finding *f;

	run_faults(denied, &r);
	cr_assert_eq(r.status, ST_ERROR);
	cr_assert_eq(fx_find(&r, "bits.start_type")->status, ST_ERROR);
	f = fx_find(&r, "bits.dependencies");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message, "could not read the dependencies of BITS "
				     "(0x80070005)");
	/* The Config2 levels still answer: the baseline is partly read. */
	f = fx_find(&r, "bits.baseline");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "BITS matches the repair baseline in required "
			 "privileges, SID type, failure actions; could not "
			 "read start type (0x80070005), error control "
			 "(0x80070005)");
	/* What is not the configuration is still judged. */
	cr_assert_eq(fx_find(&r, "bits.svchost_group")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "bits.service_dll")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "bits.last_error")->status, ST_PASS);
	result_clear(&r);
}

Test(check_bits, baseline_nothing_readable_is_error)
{
	static const struct fx_fault denied[] = {
	    {"service_config", "BITS", 0x80070005u},
	    {"service_privileges", "BITS", 0x8007007Cu},
	    {"service_sid_type", "BITS", 0x8007007Cu},
	    {"service_failure_actions", "BITS", 0x8007007Cu},
	    {NULL, NULL, 0}};
	struct check_result r;
	const struct finding *f;

	run_faults(denied, &r);
	f = fx_find(&r, "bits.baseline");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message,
			 "could not read any field of the BITS repair "
			 "baseline: start type (0x80070005), error control "
			 "(0x80070005), required privileges (0x8007007C), SID "
			 "type (0x8007007C), failure actions (0x8007007C)");
	cr_assert_str_eq(
	    cJSON_GetObjectItem(detail(f, "sid_type", "error", NULL), "name")
		->valuestring,
	    "ERROR_INVALID_LEVEL");
	result_clear(&r);
}

Test(check_bits, os_version_unreadable)
{
	static const struct fx_fault denied[] = {
	    {"computer", NULL, 0x80070005u}, {NULL, NULL, 0}};
	struct check_result r;
	const struct finding *f;

	run_faults(denied, &r);
	f = fx_find(&r, "bits.dependencies");
	/* Each dependency was still looked at. */
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert(cJSON_IsNull(detail(f, "expected", NULL)));
	cr_assert_str_eq(
	    cJSON_GetObjectItem(detail(f, "os_error", NULL), "code")
		->valuestring,
	    "0x80070005");
	result_clear(&r);
}

Test(check_bits, servicedll_unreadable)
{
	static const struct fx_fault denied[] = {
	    {"reg_get", BITS_PARAMS, 0x80070005u}, {NULL, NULL, 0}};
	struct check_result r;
	const struct finding *f;

	run_faults(denied, &r);
	f = fx_find(&r, "bits.service_dll");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message, "could not read the ServiceDll of BITS "
				     "(0x80070005)");
	cr_assert_eq(fx_find(&r, "bits.svchost_group")->status, ST_PASS);
	result_clear(&r);
}

/* ---- last exit code ------------------------------------------------------ */

static void
edit_service_specific(cJSON *svc, const void *arg)
{
	(void)arg;
	fx_set_str(svc, "state", "stopped");
	cJSON_DeleteItemFromObject(svc, "pid");
	fx_set_num(svc, "exit_code", 1066);
	fx_set_str(svc, "service_exit_code", "0x80004005");
}

Test(check_bits, last_error_service_specific)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_service_specific, NULL, &r);
	f = fx_find(&r, "bits.last_error");
	cr_assert_eq(f->status, ST_FAIL);
	/* BITS puts an HRESULT in its own exit code. */
	cr_assert_eq(f->error, 0x80004005u);
	cr_assert_str_eq(f->observed, "0x80004005");
	cr_assert_eq(detail(f, "win32_exit_code", NULL)->valuedouble, 1066);
	result_clear(&r);
}

static void
edit_running_with_code(cJSON *svc, const void *arg)
{
	(void)arg;
	fx_set_num(svc, "exit_code", 1067);
}

Test(check_bits, last_error_while_running_warns)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_running_with_code, NULL, &r);
	f = fx_find(&r, "bits.last_error");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0x8007042Bu);
	cr_assert_str_eq(f->message,
			 "BITS last exited with 0x8007042B "
			 "(ERROR_PROCESS_ABORTED); it is running again");
	result_clear(&r);
}

/* ---- the report on the examples ------------------------------------------ */

Test(check_bits, report_on_the_examples)
{
	fx_assert_only("broken-bits-not-in-netsvcs.json", &settings, "bits",
		       ST_FAIL);
	fx_assert_only("broken-bits-servicedll-missing.json", &settings, "bits",
		       ST_FAIL);
	fx_assert_only("broken-bits-dependency-missing.json", &settings, "bits",
		       ST_FAIL);
	fx_assert_only("broken-bits-dependency-disabled.json", &settings,
		       "bits", ST_FAIL);
	fx_assert_only("broken-bits-baseline.json", &settings, "bits", ST_WARN);
}
