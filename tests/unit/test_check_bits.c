/*
 * test_check_bits.c: the bits check on simulated hosts, from the example
 * files and from healthy.json with one field changed.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static char *
example_path(const char *name)
{
	const char *dir = getenv("WSUSDIAG_SOURCE_DIR");

	cr_assert_not_null(dir, "WSUSDIAG_SOURCE_DIR is not set (run ctest)");
	return xasprintf("%s/examples/hosts/%s", dir, name);
}

static struct host *
open_file(const char *path)
{
	char err[256] = "";
	struct host *h = host_sim_open(path, false, err, sizeof(err));

	cr_assert_not_null(h, "host_sim_open(%s): %s", path, err);
	return h;
}

static struct host *
open_example(const char *name)
{
	char *path = example_path(name);
	struct host *h = open_file(path);

	free(path);
	return h;
}

static cJSON *
load_example(const char *name)
{
	char *path = example_path(name), *text;
	FILE *fp = fopen(path, "rb");
	long len;
	cJSON *doc;

	cr_assert_not_null(fp, "open %s", path);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	text = xmalloc((size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, fp), (size_t)len);
	text[len] = '\0';
	fclose(fp);
	doc = cJSON_Parse(text);
	cr_assert_not_null(doc, "parse %s", path);
	free(text);
	free(path);
	return doc;
}

/* Open a host made from doc through a temporary file. */
static struct host *
open_doc(const cJSON *doc)
{
	char path[] = "/tmp/wsd-test-bits-XXXXXX";
	char *text = cJSON_Print(doc);
	int fd = mkstemp(path);
	struct host *h;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	h = open_file(path);
	unlink(path);
	free(text);
	return h;
}

static cJSON *
bits_service(cJSON *doc)
{
	cJSON *svc =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"), "BITS");

	cr_assert_not_null(svc, "healthy.json has no services.BITS");
	return svc;
}

static void
set_str(cJSON *obj, const char *key, const char *v)
{
	cJSON_DeleteItemFromObject(obj, key);
	cJSON_AddStringToObject(obj, key, v);
}

static void
set_num(cJSON *obj, const char *key, double v)
{
	cJSON_DeleteItemFromObject(obj, key);
	cJSON_AddNumberToObject(obj, key, v);
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
	cJSON *doc = load_example("healthy.json");
	struct host *h;

	edit(bits_service(doc), arg);
	h = open_doc(doc);
	run_bits(h, r);
	host_close(h);
	cJSON_Delete(doc);
}

static const struct finding *
find(const struct check_result *r, const char *id)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->findings[i].id, id) == 0)
			return &r->findings[i];
	cr_assert_fail("finding %s missing", id);
	return NULL;
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
	static const char *const ids[] = {"bits.exists", "bits.state",
					  "bits.start_type", "bits.account",
					  "bits.binary_path"};
	struct host *h = open_example("healthy.json");
	struct check_result r;

	run_bits(h, &r);
	cr_assert_str_eq(status_name(r.status), "pass", "summary: %s",
			 r.summary);
	cr_assert_eq(r.n_findings, 5);
	for (size_t i = 0; i < 5; i++) {
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
	cr_assert_str_eq(find(&r, "bits.state")->observed, "running");
	result_clear(&r);
	host_close(h);
}

Test(check_bits, broken_bits_account)
{
	struct host *h = open_example("broken-bits.json");
	struct check_result r;
	const struct finding *f;

	run_bits(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = find(&r, "bits.account");
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
	struct host *h = open_example("broken-bits-disabled.json");
	struct check_result r;
	const struct finding *f;

	run_bits(h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = find(&r, "bits.start_type");
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
	cr_assert_eq(find(&r, "bits.account")->status, ST_PASS);
	cr_assert_eq(find(&r, "bits.binary_path")->status, ST_PASS);
	result_clear(&r);
	host_close(h);
}

Test(check_bits, missing_gives_only_exists)
{
	struct host *h = open_example("broken-bits-missing.json");
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
	set_num(fault, "query", *(const double *)arg);
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

	set_str(svc, kv[0], kv[1]);
}

static enum status
status_with(const char *key, const char *value, const char *id)
{
	const char *kv[2] = {key, value};
	struct check_result r;
	enum status st;

	run_edited(edit_str, kv, &r);
	st = find(&r, id)->status;
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
	f = find(&r, "bits.binary_path");
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
	set_str(svc, "state", "stopped");
	set_num(svc, "exit_code", *(const double *)arg);
	cJSON_DeleteItemFromObject(svc, "pid"); /* none while stopped */
}

Test(check_bits, stopped_cleanly_warns)
{
	const double code = 0;
	struct check_result r;
	const struct finding *f;

	run_edited(edit_stopped, &code, &r);
	cr_assert_eq(r.status, ST_WARN);
	f = find(&r, "bits.state");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->observed, "stopped");
	cr_assert_eq(f->error, 0);
	cr_assert_not_null(strstr(f->message, "not in itself a fault"));
	assert_remedy_action(f, "restart-bits");
	cr_assert_str_eq(fact_str(&r, "state"), "stopped");
	result_clear(&r);
}

Test(check_bits, stopped_with_error_fails)
{
	const double code = 1068; /* ERROR_SERVICE_DEPENDENCY_FAIL */
	struct check_result r;
	const struct finding *f;

	run_edited(edit_stopped, &code, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = find(&r, "bits.state");
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
	set_str(svc, "start_type", "auto");
	cJSON_DeleteItemFromObject(svc, "delayed_auto_start");
	cJSON_AddTrueToObject(svc, "delayed_auto_start");
}

Test(check_bits, delayed_auto_is_observed)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_delayed, NULL, &r);
	f = find(&r, "bits.start_type");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->observed, "delayed-auto");
	cr_assert_str_eq(fact_str(&r, "start_type"), "auto");
	cr_assert(
	    cJSON_IsTrue(cJSON_GetObjectItem(r.facts, "delayed_auto_start")));
	result_clear(&r);
}

Test(check_bits, renders_design_json)
{
	struct host *h = open_example("broken-bits.json");
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
	set_num(fault, "config2", 124); /* ERROR_INVALID_LEVEL, as on Wine */
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
	f = find(&r, "bits.start_type");
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
	f = find(&r, "bits.state");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->observed, "start_pending");
	cr_assert_str_eq(fact_str(&r, "state"), "start_pending");
	result_clear(&r);
}
