/*
 * test_check_agent.c: the agent check on simulated hosts: the example
 * files, healthy.json with the agent, the Windows version or the
 * minimum changed, and hosts whose file version cannot be read.
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
#include "common/xalloc.h"
#include "platform/host.h"

#define DLL	   "C:\\Windows\\System32\\wuaueng.dll"
#define NT_KEY	   "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
#define WIN10_MIN  "10.0.10240.16384"
#define STANDALONE "7.6.7600.256"

static const struct check_settings defaults = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

/* ---- hosts ------------------------------------------------------------- */

static cJSON *
dll_entry(cJSON *doc)
{
	cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "files"), DLL);

	cr_assert_not_null(f, "healthy.json has no %s", DLL);
	return f;
}

/* ---- a host whose file_version answers what the test says -------------- */

/* A version resource with more than the four numbers. */
static hr_t
winbuild_version(struct host *h, const char *path, char **out)
{
	(void)h;
	(void)path;
	*out = xstrdup("10.0.19041.3636 (WinBuild)");
	return HR_OK;
}

/* ---- running and inspecting -------------------------------------------- */

static void
run_with(struct host *h, const char *min, struct check_result *r)
{
	struct check_settings s = defaults;
	struct check_ctx ctx = {.host = h, .settings = &s};

	s.agent_min_version = min;
	check_run(&check_agent, &ctx, r);
}

static void
run_example(const char *name, struct check_result *r)
{
	struct host *h = fx_open_example(name);

	run_with(h, NULL, r);
	host_close(h);
}

static void
run_doc(const cJSON *doc, const char *min, struct check_result *r)
{
	struct host *h = fx_open_doc(doc);

	run_with(h, min, r);
	host_close(h);
}

static const struct finding *
the_finding(const struct check_result *r)
{
	cr_assert_eq(r->n_findings, 1, "%zu findings", r->n_findings);
	cr_assert_str_eq(r->findings[0].id, "agent.version");
	return &r->findings[0];
}

/* ---- descriptor and healthy -------------------------------------------- */

Test(check_agent, descriptor)
{
	cr_assert_eq(check_find("agent"), &check_agent);
	cr_assert_str_eq(check_agent.title, "Windows Update Agent version");
	cr_assert_str_eq(check_agent.seed_section,
			 "Issues with the WSUS agent service");
	cr_assert_eq(check_agent.time_limit_ms, 5000);
	/* The articles' order: right after wuauserv and the network checks
	 * (server, proxy) that follow it. */
	for (size_t i = 0; i < check_count; i++) {
		size_t prev = i;

		if (check_table[i] != &check_agent)
			continue;
		while (prev > 0 && fx_is_network_check(check_table[prev - 1]))
			prev--;
		cr_assert_gt(prev, 0);
		cr_assert_str_eq(check_table[prev - 1]->id, "wuauserv");
		return;
	}
	cr_assert_fail("agent is not in check_table");
}

Test(check_agent, healthy_passes)
{
	struct check_result r;
	const struct finding *f;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	f = the_finding(&r);
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->observed, "10.0.19041.3636");
	cr_assert_str_eq(f->expected, WIN10_MIN);
	cr_assert_str_eq(fx_fact(&r, "path")->valuestring, DLL);
	cr_assert_str_eq(fx_fact(&r, "version")->valuestring,
			 "10.0.19041.3636");
	cr_assert_str_eq(fx_fact(&r, "minimum")->valuestring, WIN10_MIN);
	cr_assert_not_null(strstr(fx_fact(&r, "minimum_source")->valuestring,
				  "Windows 10 shipped with"));
	cr_assert_str_eq(fx_fact(&r, "os_version")->valuestring, "10.0.19045");
	result_clear(&r);
}

/* ---- the example hosts ------------------------------------------------- */

Test(check_agent, old_agent_on_windows_7)
{
	struct check_result r;
	const struct finding *f;

	run_example("agent-old.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = the_finding(&r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->observed, "7.5.7601.17514");
	cr_assert_str_eq(f->expected, STANDALONE);
	cr_assert_not_null(strstr(f->message, "not up to date"));
	/* The article: update the agent, then detect and read the log. */
	cr_assert_str_eq(f->remedy_text,
			 "update the Windows Update Agent to the latest "
			 "version (KB949104), then run wuauclt /detectnow "
			 "(UsoClient StartScan on Windows 10 and later) and "
			 "check WindowsUpdate.log for errors");
	cr_assert_null(f->remedy_action);
	cr_assert_not_null(
	    strstr(fx_fact(&r, "minimum_source")->valuestring, "KB949104"));
	result_clear(&r);
}

Test(check_agent, missing_dll)
{
	struct check_result r;
	const struct finding *f;

	run_example("agent-missing.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = the_finding(&r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->observed, "missing");
	cr_assert_str_eq(f->expected, WIN10_MIN);
	cr_assert_not_null(strstr(f->remedy_text, "sfc /scannow"));
	cr_assert(cJSON_IsNull(fx_fact(&r, "version")));
	cr_assert_str_eq(fx_fact(&r, "path")->valuestring, DLL);
	result_clear(&r);
}

Test(check_agent, version_resource_missing_is_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	cJSON_DeleteItemFromObject(dll_entry(doc), "version");
	run_doc(doc, NULL, &r);
	cr_assert_eq(r.status, ST_ERROR, "summary: %s", r.summary);
	f = the_finding(&r);
	cr_assert_eq(f->error, 0x80070715u); /* ERROR_RESOURCE_TYPE_NOT_FOUND */
	cr_assert_not_null(strstr(f->message, "no version resource"));
	cr_assert_not_null(strstr(f->message, "0x80070715"));
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- minimum and comparison -------------------------------------------- */

static enum status
status_with(const char *version, const char *min)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	enum status st;

	fx_set_str(dll_entry(doc), "version", version);
	run_doc(doc, min, &r);
	st = the_finding(&r)->status;
	if (min != NULL) {
		cr_assert_str_eq(fx_fact(&r, "minimum")->valuestring, min);
		cr_assert_str_eq(fx_fact(&r, "minimum_source")->valuestring,
				 "configured: agent_min_version");
	}
	result_clear(&r);
	cJSON_Delete(doc);
	return st;
}

Test(check_agent, configured_minimum)
{
	cr_assert_eq(status_with("10.0.19041.3636", "10.0.19041.3636"),
		     ST_PASS);
	cr_assert_eq(status_with("10.0.19041.3636", "10.0.19041.3637"),
		     ST_FAIL);
	cr_assert_eq(status_with("10.0.19041.3636", "10.0.19041"), ST_PASS);
	cr_assert_eq(status_with("10.0.19041.3636", "10.0.19042"), ST_FAIL);
	cr_assert_eq(status_with("10.0.19041.3636", "10"), ST_PASS);
	cr_assert_eq(status_with("10.0.19041.3636", "11"), ST_FAIL);
}

/* Numbers, not strings: 9999 < 10240 and 10 > 9. */
Test(check_agent, versions_compare_numerically)
{
	cr_assert_eq(status_with("10.0.9999.1", "10.0.10240"), ST_FAIL);
	cr_assert_eq(status_with("7.10.0.0", "7.9.9600.16384"), ST_PASS);
	cr_assert_eq(status_with("7.6.7600.256", STANDALONE), ST_PASS);
	cr_assert_eq(status_with("7.6.7600.255", STANDALONE), ST_FAIL);
	cr_assert_eq(status_with("7.6.7600.1000", STANDALONE), ST_PASS);
}

Test(check_agent, malformed_minimum_is_error)
{
	static const char *const bad[] = {
	    "10.0.x", "", "10..0", "10.0.0.0.1", "10.0.65536", "v10", "10.0 "};
	cJSON *doc = fx_load_example("healthy.json");

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct check_result r;
		const struct finding *f;

		run_doc(doc, bad[i], &r);
		f = the_finding(&r);
		cr_assert_eq(f->status, ST_ERROR, "\"%s\"", bad[i]);
		cr_assert_eq(f->error, 0x80070057u);
		cr_assert_not_null(strstr(f->message, "agent_min_version"));
		result_clear(&r);
	}
	cJSON_Delete(doc);
}

/* The default for each Windows version, on an agent that meets none. */
static void
assert_default(const char *os, const char *want, const char *source)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	fx_set_str(cJSON_GetObjectItem(doc, "computer"), "os_version", os);
	fx_set_str(dll_entry(doc), "version", "1.0.0.0");
	run_doc(doc, NULL, &r);
	cr_assert_eq(the_finding(&r)->status, ST_FAIL, "%s", os);
	cr_assert_str_eq(the_finding(&r)->expected, want, "%s", os);
	cr_assert_not_null(
	    strstr(fx_fact(&r, "minimum_source")->valuestring, source),
	    "%s: %s", os, fx_fact(&r, "minimum_source")->valuestring);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_agent, default_minimum_per_windows_version)
{
	assert_default("5.1.2600", STANDALONE, "KB949104");
	assert_default("6.0.6002", STANDALONE, "KB949104");
	assert_default("6.1.7601", STANDALONE, "KB949104");
	assert_default("6.2.9200", "7.8.9200.16384", "Windows 8");
	assert_default("6.3.9600", "7.9.9600.16384", "Windows 8.1");
	assert_default("10.0.14393", WIN10_MIN, "Windows 10");
	assert_default("10.0.26100", WIN10_MIN, "Windows 10");
	assert_default("11.0.1", WIN10_MIN, "Windows 10");
	assert_default("unknown", STANDALONE, "unknown Windows version");
}

/* Windows 8 and later: the advice is the OS's own updates. */
Test(check_agent, remedy_follows_the_windows_version)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	fx_set_str(dll_entry(doc), "version", "10.0.10240.16000");
	run_doc(doc, NULL, &r);
	cr_assert_eq(the_finding(&r)->status, ST_FAIL);
	cr_assert_not_null(
	    strstr(the_finding(&r)->remedy_text, "cumulative update"));
	cr_assert_null(strstr(the_finding(&r)->remedy_text, "KB949104"));
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- where Windows is -------------------------------------------------- */

static void
run_system_root(const char *root, const char *dll, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *files = cJSON_GetObjectItem(doc, "files");
	cJSON *entry = cJSON_DetachItemFromObject(files, DLL);

	cr_assert_not_null(entry);
	cJSON_AddItemToObject(files, dll, entry);
	fx_set_str(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), NT_KEY),
	    "SystemRoot", root);
	run_doc(doc, NULL, r);
	cJSON_Delete(doc);
}

Test(check_agent, system_root_from_the_registry)
{
	struct check_result r;

	run_system_root("D:\\WINNT", "D:\\WINNT\\System32\\wuaueng.dll", &r);
	cr_assert_eq(the_finding(&r)->status, ST_PASS, "%s", r.summary);
	cr_assert_str_eq(fx_fact(&r, "path")->valuestring,
			 "D:\\WINNT\\System32\\wuaueng.dll");
	cr_assert_null(cJSON_GetObjectItem(r.facts, "system_root_note"));
	result_clear(&r);

	run_system_root("D:\\WINNT\\", "D:\\WINNT\\System32\\wuaueng.dll", &r);
	cr_assert_str_eq(fx_fact(&r, "path")->valuestring,
			 "D:\\WINNT\\System32\\wuaueng.dll");
	result_clear(&r);

	/* The file stays in C:\Windows: on D: it is missing. */
	run_system_root("D:\\Windows", DLL, &r);
	cr_assert_eq(the_finding(&r)->status, ST_FAIL);
	cr_assert_eq(the_finding(&r)->error, 0x80070002u);
	result_clear(&r);
}

/* Without SystemRoot in the registry the default is used and said. */
Test(check_agent, system_root_unrecorded)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	cJSON_DeleteItemFromObject(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), NT_KEY),
	    "SystemRoot");
	run_doc(doc, NULL, &r);
	cr_assert_eq(the_finding(&r)->status, ST_PASS, "%s", r.summary);
	cr_assert_str_eq(fx_fact(&r, "path")->valuestring, DLL);
	cr_assert_not_null(strstr(fx_fact(&r, "system_root_note")->valuestring,
				  "C:\\Windows"));
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- faults ------------------------------------------------------------ */

Test(check_agent, registry_unreadable_is_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *fault = cJSON_AddObjectToObject(doc, "fault");
	struct check_result r;
	const struct finding *f;

	cJSON_AddNumberToObject(fault, "registry_read", 5);
	run_doc(doc, NULL, &r);
	cr_assert_eq(r.status, ST_ERROR, "summary: %s", r.summary);
	f = the_finding(&r);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_not_null(strstr(f->message, "SystemRoot"));
	cr_assert(cJSON_IsNull(fx_fact(&r, "path")));
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_agent, file_version_access_denied_is_error)
{
	static const struct fx_fault denied[] = {
	    {"file_version", NULL, 0x80070005u}, {NULL, NULL, 0}};
	struct host *h = fx_fault_host(fx_open_example("healthy.json"), denied);
	struct check_result r;
	const struct finding *f;

	run_with(h, NULL, &r);
	cr_assert_eq(r.status, ST_ERROR, "summary: %s", r.summary);
	f = the_finding(&r);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_not_null(strstr(f->message, "could not read the version"));
	result_clear(&r);
	host_close(h);
}

Test(check_agent, path_not_found_is_missing)
{
	static const struct fx_fault no_path[] = {
	    {"file_version", NULL, 0x80070003u}, {NULL, NULL, 0}};
	struct host *h =
	    fx_fault_host(fx_open_example("healthy.json"), no_path);
	struct check_result r;

	run_with(h, NULL, &r);
	cr_assert_eq(the_finding(&r)->status, ST_FAIL);
	cr_assert_eq(the_finding(&r)->error, 0x80070003u);
	result_clear(&r);
	host_close(h);
}

Test(check_agent, unparsable_file_version_is_error)
{
	struct host *h = fx_fault_host(fx_open_example("healthy.json"), NULL);
	struct check_result r;

	fx_fault_ops(h)->file_version = winbuild_version;
	run_with(h, NULL, &r);
	cr_assert_eq(the_finding(&r)->status, ST_ERROR);
	cr_assert_eq(the_finding(&r)->error, 0x8007000Du);
	result_clear(&r);
	host_close(h);
}

/* ---- the report -------------------------------------------------------- */

Test(check_agent, report_fails_only_agent)
{
	fx_assert_only("agent-old.json", &defaults, "agent", ST_FAIL);
	fx_assert_only("agent-missing.json", &defaults, "agent", ST_FAIL);
}
