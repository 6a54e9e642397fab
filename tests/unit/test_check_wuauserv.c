/*
 * test_check_wuauserv.c: the wuauserv check on simulated hosts: the
 * examples, healthy.json with one thing changed, and a host that fails
 * chosen calls.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "platform/host.h"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static void
run_example(const char *name, struct check_result *r)
{
	struct host *h = fx_open_example(name);
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_wuauserv, &ctx, r);
	host_close(h);
}

/* healthy.json without its wuauserv entry, through a temporary file. */
static void
run_without_wuauserv(struct check_result *r)
{
	struct check_ctx ctx = {.settings = &settings};
	cJSON *doc = fx_load_example("healthy.json");

	fx_service_of(doc, "wuauserv");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "wuauserv");
	ctx.host = fx_open_doc(doc);
	check_run(&check_wuauserv, &ctx, r);
	host_close(ctx.host);
	cJSON_Delete(doc);
}

Test(check_wuauserv, descriptor)
{
	cr_assert_eq(check_find("wuauserv"), &check_wuauserv);
	cr_assert_str_eq(check_wuauserv.title, "Windows Update service");
	cr_assert_str_eq(check_wuauserv.seed_section,
			 "Issues with the WSUS agent service");
	cr_assert_gt(check_wuauserv.time_limit_ms, 0);
}

Test(check_wuauserv, healthy_passes_every_finding)
{
	static const char *const ids[] = {
	    "wuauserv.exists", "wuauserv.state", "wuauserv.start_type",
	    "wuauserv.last_error", "wuauserv.can_start"};
	struct check_result r;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(r.findings[i].id, ids[i]);
		cr_assert_eq(r.findings[i].status, ST_PASS, "%s: %s", ids[i],
			     r.findings[i].message);
	}
	cr_assert_str_eq(cJSON_GetObjectItem(r.facts, "state")->valuestring,
			 "running");
	result_clear(&r);
}

Test(check_wuauserv, stopped_and_disabled)
{
	struct check_result r;
	const struct finding *f;

	run_example("wuauserv-stopped-disabled.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_eq(r.n_findings, 5);
	f = fx_find(&r, "wuauserv.start_type");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070422u);
	cr_assert_str_eq(f->observed, "disabled");
	cr_assert_str_eq(
	    f->remedy_text,
	    "enable the service: sc config wuauserv start= demand");
	/* Stopped with exit code 0: a demand-started service may be. */
	f = fx_find(&r, "wuauserv.state");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->observed, "stopped");
	cr_assert_eq(f->error, 0);
	cr_assert_eq(fx_find(&r, "wuauserv.exists")->status, ST_PASS);
	cr_assert_str_eq(
	    cJSON_GetObjectItem(r.facts, "start_type")->valuestring,
	    "disabled");
	/* The SCM's answer to sc start. */
	f = fx_find(&r, "wuauserv.can_start");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070422u);
	cr_assert_str_eq(f->observed, "cannot start");
	cr_assert_str_eq(
	    f->remedy_text,
	    "enable the service: sc config wuauserv start= demand");
	/* It stopped cleanly before it was disabled. */
	f = fx_find(&r, "wuauserv.last_error");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->observed, "0");
	result_clear(&r);
}

Test(check_wuauserv, missing_gives_only_exists)
{
	struct check_result r;

	run_without_wuauserv(&r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_eq(r.n_findings, 1);
	cr_assert_str_eq(r.findings[0].id, "wuauserv.exists");
	cr_assert_eq(r.findings[0].error, 0x80070424u);
	result_clear(&r);
}

/* ---- can_start and last_error ---------------------------------------------
 */

#define SVCHOST_KEY                                                            \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"
#define WU_PARAMS                                                              \
	"HKLM\\SYSTEM\\CurrentControlSet\\Services\\wuauserv\\Parameters"

/* Run the check on healthy.json changed by edit, through a temp file. */
static void
run_edited(void (*edit)(cJSON *doc, const void *arg), const void *arg,
	   struct check_result *r)
{
	struct check_ctx ctx = {.settings = &settings};
	cJSON *doc = fx_load_example("healthy.json");

	edit(doc, arg);
	ctx.host = fx_open_doc(doc);
	check_run(&check_wuauserv, &ctx, r);
	host_close(ctx.host);
	cJSON_Delete(doc);
}

static void
stop(cJSON *svc, double exit_code)
{
	fx_set_str(svc, "state", "stopped");
	cJSON_DeleteItemFromObject(svc, "pid");
	cJSON_DeleteItemFromObject(svc, "exit_code");
	cJSON_AddNumberToObject(svc, "exit_code", exit_code);
}

static const struct finding *
can_start_after(void (*edit)(cJSON *, const void *), const void *arg,
		struct check_result *r)
{
	run_edited(edit, arg, r);
	return fx_find(r, "wuauserv.can_start");
}

/* wuauserv, stopped, depends on the JSON array arg. */
static void
edit_deps(cJSON *doc, const void *arg)
{
	cJSON *wu = fx_service_of(doc, "wuauserv");

	stop(wu, 0);
	cJSON_DeleteItemFromObject(wu, "dependencies");
	cJSON_AddItemToObject(wu, "dependencies", cJSON_Parse(arg));
}

Test(check_wuauserv, stopped_can_start)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_deps, "[\"rpcss\"]", &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) can start: it "
			 "is not disabled, its dependencies can start, it is "
			 "listed in the svchost group netsvcs and has its "
			 "ServiceDll");
	cr_assert_str_eq(f->observed, "able to start");
	result_clear(&r);
}

Test(check_wuauserv, dependency_missing)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_deps, "[\"rpcss\", \"NoSuchSvc\"]", &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070433u);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) cannot start: "
			 "dependency NoSuchSvc does not exist; sc start "
			 "wuauserv would fail with 0x80070433");
	cr_assert_str_eq(f->remedy_text,
			 "restore the service NoSuchSvc, or take it out of the "
			 "dependencies: sc config wuauserv depend= rpcss, then "
			 "start the Windows Update service (wuauserv)");
	cr_assert_null(f->remedy_action);
	result_clear(&r);
}

/* wuauserv is stopped and RpcSs, its dependency, is disabled. */
static void
edit_rpcss_disabled(cJSON *doc, const void *arg)
{
	(void)arg;
	stop(fx_service_of(doc, "wuauserv"), 0);
	fx_set_str(fx_service_of(doc, "RpcSs"), "start_type", "disabled");
}

Test(check_wuauserv, dependency_disabled)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_rpcss_disabled, NULL, &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Cu);
	/* Case as the service's own list spells it. */
	cr_assert_not_null(strstr(f->message, "dependency rpcss is disabled"),
			   "%s", f->message);
	cr_assert_eq(r.status, ST_FAIL);
	result_clear(&r);
}

/* The SCM judges a running service's configuration all the same: the
 * next start would fail. */
static void
edit_not_in_netsvcs(cJSON *doc, const void *arg)
{
	cJSON *k = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"),
				       SVCHOST_KEY);
	cJSON *list =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(k, "netsvcs"), "data");
	int n = cJSON_GetArraySize(list);

	(void)arg;
	for (int i = n - 1; i >= 0; i--)
		if (strcasecmp(cJSON_GetArrayItem(list, i)->valuestring,
			       "wuauserv") == 0)
			cJSON_DeleteItemFromArray(list, i);
	cr_assert_eq(cJSON_GetArraySize(list), n - 1);
}

Test(check_wuauserv, not_in_its_svchost_group)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_not_in_netsvcs, NULL, &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007043Bu);
	cr_assert_not_null(strstr(f->message, "wuauserv is not listed in the "
					      "svchost group netsvcs"),
			   "%s", f->message);
	cr_assert_not_null(strstr(f->remedy_text, "add wuauserv to the "
						  "REG_MULTI_SZ value netsvcs"),
			   "%s", f->remedy_text);
	result_clear(&r);
}

static void
edit_no_servicedll(cJSON *doc, const void *arg)
{
	(void)arg;
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "registry"),
				   WU_PARAMS);
}

Test(check_wuauserv, servicedll_missing)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_no_servicedll, NULL, &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_not_null(strstr(f->message, "wuauserv has no ServiceDll"),
			   "%s", f->message);
	cr_assert_not_null(strstr(f->remedy_text,
				  "/d \"%systemroot%\\system32\\wuaueng.dll\""),
			   "%s", f->remedy_text);
	result_clear(&r);
}

/* As on Wine: its own program, so no svchost group and no ServiceDll. */
static void
edit_own_process(cJSON *doc, const void *arg)
{
	cJSON *wu = fx_service_of(doc, "wuauserv");

	edit_no_servicedll(doc, arg);
	fx_set_str(wu, "type", "own");
	fx_set_str(wu, "binary_path", "C:\\windows\\system32\\wuauserv.exe");
}

Test(check_wuauserv, own_process_needs_no_svchost)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_own_process, NULL, &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) is up and "
			 "could start again: it is not disabled, its "
			 "dependencies can start");
	result_clear(&r);
}

static void
edit_registry_fault(cJSON *doc, const void *arg)
{
	cJSON *fault = cJSON_AddObjectToObject(doc, "fault");

	(void)arg;
	cJSON_AddNumberToObject(fault, "registry_read", 5);
}

Test(check_wuauserv, registry_unreadable_is_error)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_registry_fault, NULL, &r);
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message,
			 "could not tell whether the Windows Update service "
			 "(wuauserv) can start: could not read the svchost "
			 "group netsvcs (0x80070005)");
	cr_assert_str_eq(f->observed, "unknown");
	cr_assert_eq(r.status, ST_ERROR);
	result_clear(&r);
}

static void
edit_crashed(cJSON *doc, const void *arg)
{
	(void)arg;
	stop(fx_service_of(doc, "wuauserv"), 1067);
}

Test(check_wuauserv, last_error_decoded)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_crashed, NULL, &r);
	f = fx_find(&r, "wuauserv.last_error");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Bu);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) last exited "
			 "with 0x8007042B (ERROR_PROCESS_ABORTED)");
	cr_assert_str_eq(f->expected, "no error");
	cr_assert_str_eq(f->observed, "0x8007042B");
	cr_assert_not_null(f->remedy_text);
	/* A crash is no reason it could not start again. */
	cr_assert_eq(fx_find(&r, "wuauserv.can_start")->status, ST_PASS);
	result_clear(&r);
}

/* ---- a host whose configuration query is refused ------------------------- */

Test(check_wuauserv, configuration_unreadable)
{
	static const struct fx_fault denied[] = {
	    {"service_config", NULL, 0x80070005u}, {NULL, NULL, 0}};
	struct check_ctx ctx = {.settings = &settings};
	struct check_result r;
	const struct finding *f;

	ctx.host = fx_fault_host(fx_open_example("healthy.json"), denied);
	check_run(&check_wuauserv, &ctx, &r);
	host_close(ctx.host);
	cr_assert_eq(r.status, ST_ERROR);
	f = fx_find(&r, "wuauserv.can_start");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message,
			 "could not read the configuration of the Windows "
			 "Update service (wuauserv) (0x80070005), so whether "
			 "it can start is unknown");
	/* The status query answered: the exit code is known. */
	cr_assert_eq(fx_find(&r, "wuauserv.last_error")->status, ST_PASS);
	result_clear(&r);
}

/* ---- the report on the example ------------------------------------------- */

Test(check_wuauserv, report_on_the_example)
{
	fx_assert_only("wuauserv-stopped-disabled.json", &settings, "wuauserv",
		       ST_FAIL);
}
