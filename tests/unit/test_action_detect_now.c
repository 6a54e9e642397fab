/*
 * test_action_detect_now.c: detect-now and detect_steps() on simulated
 * hosts made from the examples (each test works on its own copy): the
 * Windows Update Agent API first, then UsoClient (Windows 10) or wuauclt
 * (Windows 7) when the API fails, and a fault at every step.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/detect.h"
#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/host_sim.h"

#define API	    "IAutomaticUpdates::DetectNow"
#define CHANGE_WHAT "update detection and reporting"

/* The API's answer fixed in the document: "wua": {"detect_now": hr}. */
static void
set_wua(cJSON *doc, const char *hr)
{
	cJSON *wua = cJSON_AddObjectToObject(doc, "wua");

	cJSON_AddStringToObject(wua, "detect_now", hr);
}

static cJSON *
program(cJSON *doc, const char *name)
{
	cJSON *p =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "programs"), name);

	cr_assert_not_null(p, "no programs.%s", name);
	return p;
}

static void
run_action(struct host *h, bool dry, struct action_result *a)
{
	fx_run_action(&action_detect_now, h, dry, a);
}

static hr_t
run_steps(struct host *h, bool reset_auth, struct action_result *a)
{
	struct action_ctx ctx = {
	    .host = h, .settings = &fx_short_waits, .dry_run = false};

	action_result_init(a, "test", false);
	return detect_steps(&ctx, a, reset_auth);
}

static enum status
check_status(struct host *h, const char *id)
{
	return fx_check_status(check_find(id), h, NULL, NULL);
}

static enum svc_state
wuauserv_state(struct host *h)
{
	return fx_service_state(h, "wuauserv");
}

static void
assert_step(const struct action_result *a, size_t i, const char *name,
	    enum step_status want, hr_t error)
{
	fx_assert_step(a, i, name, want, error);
	cr_assert_not_null(a->steps[i].detail);
}

static void
assert_no_undo(const struct action_result *a)
{
	/* Nothing to undo: detection changes nothing that could be put back. */
	for (size_t i = 0; i < a->n_steps; i++)
		cr_assert_neq(a->steps[i].status, STEP_UNDONE);
	cr_assert_null(a->backup);
}

Test(detect_now, descriptor)
{
	size_t gp = 0, dn = 0;

	cr_assert_eq(action_find("detect-now"), &action_detect_now);
	cr_assert_str_eq(action_detect_now.target, "wuauserv");
	cr_assert_str_eq(action_detect_now.verify_check, "wuauserv");
	cr_assert_null(action_detect_now.also_locks);
	cr_assert_str_eq(action_detect_now.steps[0], API);
	cr_assert_not_null(strstr(action_detect_now.steps[1],
				  "wuauclt /resetauthorization /detectnow"));
	cr_assert_not_null(
	    strstr(action_detect_now.steps[2], "wuauclt /reportnow"));
	cr_assert_not_null(
	    strstr(action_detect_now.steps[3], "UsoClient StartScan"));
	cr_assert_null(action_detect_now.steps[4]);
	for (size_t i = 0; i < action_count; i++) {
		if (action_table[i] == &action_gpupdate)
			gp = i + 1;
		if (action_table[i] == &action_detect_now)
			dn = i + 1;
	}
	/* The order: ..., gpupdate, detect-now (last). */
	cr_assert_eq(dn, action_count);
	cr_assert_eq(gp, action_count - 1);
}

/* The broken host: wuauserv stopped; COM activation starts it. */
Test(detect_now, stopped_agent_is_started_and_detects)
{
	struct host *h = fx_open_example("wuauserv-stopped.json");
	struct action_result a;

	cr_assert_eq(check_status(h, "wuauserv"), ST_WARN);
	cr_assert_eq(wuauserv_state(h), SVC_STOPPED);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, API, STEP_OK, HR_OK);
	fx_assert_detail_has(&a, 0, "accepted");
	/* detect-now asks for re-authorization; the API has none. */
	fx_assert_detail_has(&a, 0, "the API has no re-authorization");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, CHANGE_WHAT);
	cr_assert_null(a.changes[0].before);
	cr_assert_str_eq(a.changes[0].after,
			 "requested with " API " (0x00000000)");
	fx_assert_program_log(h, API);
	cr_assert_eq(wuauserv_state(h), SVC_RUNNING);
	cr_assert_eq(check_status(h, "wuauserv"), ST_PASS);
	assert_no_undo(&a);
	action_result_clear(&a);
	host_close(h);
}

Test(detect_now, dry_run_changes_nothing_windows10)
{
	struct host *h = fx_open_example("wuauserv-stopped.json");
	struct action_result a;

	fx_run_dry(&action_detect_now, h, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, API, STEP_PLANNED, HR_OK);
	cr_assert_str_eq(a.steps[0].detail,
			 "would ask the Windows Update Agent to detect and "
			 "report now (the API has no re-authorization of its "
			 "own); if the API fails, Windows 10.0.19045 would "
			 "run UsoClient StartScan instead");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, CHANGE_WHAT);
	cr_assert_str_eq(a.changes[0].after, "would be requested");
	cr_assert_eq(wuauserv_state(h), SVC_STOPPED);
	action_result_clear(&a);
	host_close(h);
}

Test(detect_now, dry_run_changes_nothing_windows7)
{
	cJSON *doc = fx_load_example("agent-old.json");
	struct host *h;
	struct action_result a;

	set_wua(doc, "0x80040154");
	h = fx_open_doc(doc);
	fx_run_dry(&action_detect_now, h, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, API, STEP_PLANNED, HR_OK);
	fx_assert_detail_has(&a, 0,
			     "Windows 6.1.7601 would run wuauclt "
			     "/resetauthorization /detectnow, then wuauclt "
			     "/reportnow instead");
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Windows 10 without the COM class: UsoClient StartScan. */
Test(detect_now, class_not_registered_falls_back_to_usoclient)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;
	cJSON *before, *after;

	set_wua(doc, "0x80040154");
	h = fx_open_doc(doc);
	before = fx_snapshot_no_log(h);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 2);
	assert_step(&a, 0, API, STEP_SKIPPED, 0x80040154u);
	fx_assert_detail_has(&a, 0, "answered 0x80040154");
	assert_step(&a, 1, "UsoClient StartScan", STEP_OK, HR_OK);
	fx_assert_detail_has(&a, 1, "exited with code 0");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].after,
			 "requested with UsoClient StartScan (Windows "
			 "10.0.19045; " API " failed with 0x80040154)");
	fx_assert_program_log(h, API "|UsoClient StartScan");
	after = fx_snapshot_no_log(h);
	cr_assert(cJSON_Compare(before, after, 1));
	cr_assert_eq(check_status(h, "wuauserv"), ST_PASS);
	cJSON_Delete(before);
	cJSON_Delete(after);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Wine 8's wuapi answers DetectNow with E_NOTIMPL. */
Test(detect_now, not_implemented_falls_back)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	set_wua(doc, "0x80004001");
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	assert_step(&a, 0, API, STEP_SKIPPED, 0x80004001u);
	assert_step(&a, 1, "UsoClient StartScan", STEP_OK, HR_OK);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Windows 7: the articles' two wuauclt commands. */
Test(detect_now, windows7_uses_wuauclt)
{
	cJSON *doc = fx_load_example("agent-old.json");
	struct host *h;
	struct action_result a;

	set_wua(doc, "0x80040154");
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 3);
	assert_step(&a, 0, API, STEP_SKIPPED, 0x80040154u);
	assert_step(&a, 1, "wuauclt /resetauthorization /detectnow", STEP_OK,
		    HR_OK);
	assert_step(&a, 2, "wuauclt /reportnow", STEP_OK, HR_OK);
	cr_assert_str_eq(a.changes[0].after,
			 "requested with wuauclt /resetauthorization "
			 "/detectnow (Windows 6.1.7601; " API
			 " failed with 0x80040154)");
	fx_assert_program_log(h, API
			      "|wuauclt /resetauthorization /detectnow|wuauclt "
			      "/reportnow");
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* The helper as reset-store calls it without re-authorization. */
Test(detect_now, steps_without_reset_authorization)
{
	cJSON *doc = fx_load_example("agent-old.json");
	struct host *h;
	struct action_result a;

	set_wua(doc, "0x80040154");
	h = fx_open_doc(doc);
	cr_assert_eq(run_steps(h, false, &a), HR_OK);
	cr_assert_eq(a.n_steps, 3);
	assert_step(&a, 1, "wuauclt /detectnow", STEP_OK, HR_OK);
	assert_step(&a, 2, "wuauclt /reportnow", STEP_OK, HR_OK);
	fx_assert_program_log(h, API "|wuauclt /detectnow|wuauclt /reportnow");
	/* The caller decides the action's status. */
	cr_assert_eq(a.status, ACT_OK);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

Test(detect_now, steps_api_success_without_reset_authorization)
{
	struct host *h = fx_open_example("healthy.json");
	struct action_result a;

	cr_assert_eq(run_steps(h, false, &a), HR_OK);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, API, STEP_OK, HR_OK);
	cr_assert_null(strstr(a.steps[0].detail, "re-authorization"));
	action_result_clear(&a);
	host_close(h);
}

/* ---- a fault at each step ---------------------------------------------- */

/* Step 1, the API: a disabled wuauserv is not worked around. */
Test(detect_now, disabled_agent_fails_without_fallback)
{
	struct host *h = fx_open_example("wuauserv-stopped-disabled.json");
	struct action_result a;
	cJSON *before, *after;

	cr_assert_eq(check_status(h, "wuauserv"), ST_FAIL);
	before = fx_snapshot_no_log(h);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, API, STEP_FAILED, 0x80070422u);
	fx_assert_detail_has(&a, 0, "disabled");
	cr_assert_eq(a.n_changes, 0);
	fx_assert_program_log(h, API);
	after = fx_snapshot_no_log(h);
	cr_assert(cJSON_Compare(before, after, 1));
	cr_assert_eq(check_status(h, "wuauserv"), ST_FAIL);
	assert_no_undo(&a);
	cJSON_Delete(before);
	cJSON_Delete(after);
	action_result_clear(&a);
	host_close(h);
}

Test(detect_now, missing_agent_fails_without_fallback)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "wuauserv");
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, API, STEP_FAILED, 0x80070424u);
	fx_assert_detail_has(&a, 0, "missing");
	fx_assert_program_log(h, API);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Step 2 (Windows 10): UsoClient is missing. */
Test(detect_now, usoclient_missing)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	set_wua(doc, "0x80040154");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "programs"),
				   "UsoClient.exe");
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 2);
	assert_step(&a, 0, API, STEP_SKIPPED, 0x80040154u);
	assert_step(&a, 1, "UsoClient StartScan", STEP_FAILED, 0x80070002u);
	cr_assert_str_eq(a.steps[1].detail,
			 "could not run UsoClient StartScan (0x80070002)");
	cr_assert_eq(a.n_changes, 0);
	assert_no_undo(&a);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Step 2 (Windows 10): UsoClient exits non-zero: E_FAIL, code in detail. */
Test(detect_now, usoclient_exit_code)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;
	cJSON *p;

	set_wua(doc, "0x80040154");
	p = program(doc, "UsoClient.exe");
	fx_set_num(p, "exit_code", 2147942405.0); /* 0x80070005 */
	cJSON_DeleteItemFromObject(p, "output");
	cJSON_AddStringToObject(p, "output", "\r\nAccess is denied.\r\n");
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, 1, "UsoClient StartScan", STEP_FAILED, 0x80004005u);
	cr_assert_str_eq(a.steps[1].detail,
			 "UsoClient StartScan exited with code 2147942405 "
			 "(0x80070005); output: Access is denied.");
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Step 2 (Windows 7): wuauclt /detectnow fails; /reportnow is not run. */
Test(detect_now, wuauclt_detect_fails)
{
	cJSON *doc = fx_load_example("agent-old.json");
	struct host *h;
	struct action_result a;

	set_wua(doc, "0x80040154");
	fx_set_num(program(doc, "wuauclt.exe"), "exit_code", 1);
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 3);
	assert_step(&a, 1, "wuauclt /resetauthorization /detectnow",
		    STEP_FAILED, 0x80004005u);
	fx_assert_detail_has(&a, 1, "exited with code 1 (0x1)");
	assert_step(&a, 2, "wuauclt /reportnow", STEP_SKIPPED, HR_OK);
	cr_assert_str_eq(a.steps[2].detail,
			 "not run: \"wuauclt /resetauthorization /detectnow\" "
			 "failed");
	fx_assert_program_log(h, API "|wuauclt /resetauthorization /detectnow");
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/*
 * Step 3 (Windows 7): /reportnow fails after /detectnow ran. The sim
 * answers per program name, so a wrapper host refuses the one run.
 */
static hr_t
refuse_reportnow(struct host *h, const char *const *argv, uint32_t timeout_ms,
		 struct prog_result *out)
{
	struct host *in = fx_fault_inner(h);

	if (argv[1] != NULL && strcmp(argv[1], "/reportnow") == 0) {
		memset(out, 0, sizeof(*out));
		return 0x80070005u;
	}
	return in->ops->run_program(in, argv, timeout_ms, out);
}

Test(detect_now, wuauclt_report_fails)
{
	cJSON *doc = fx_load_example("agent-old.json");
	struct action_result a;
	struct host *h;

	set_wua(doc, "0x80040154");
	h = fx_fault_host(fx_open_doc(doc), NULL);
	fx_fault_ops(h)->run_program = refuse_reportnow;
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 3);
	assert_step(&a, 0, API, STEP_SKIPPED, 0x80040154u);
	assert_step(&a, 1, "wuauclt /resetauthorization /detectnow", STEP_OK,
		    HR_OK);
	assert_step(&a, 2, "wuauclt /reportnow", STEP_FAILED, 0x80070005u);
	cr_assert_str_eq(a.steps[2].detail,
			 "could not run wuauclt /reportnow (0x80070005)");
	cr_assert_eq(a.n_changes, 0);
	fx_assert_program_log(fx_fault_inner(h),
			      API "|wuauclt /resetauthorization /detectnow");
	assert_no_undo(&a);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Every program run refused (fault.programs): the fallback's error. */
Test(detect_now, programs_fault)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	set_wua(doc, "0x80040154");
	fx_set_num(cJSON_AddObjectToObject(doc, "fault"), "programs", 5);
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, 1, "UsoClient StartScan", STEP_FAILED, 0x80070005u);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* The fallback needs the version; an unreadable one is its own step. */
Test(detect_now, unreadable_version)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;
	cJSON *c;

	set_wua(doc, "0x80040154");
	c = cJSON_GetObjectItem(doc, "computer");
	cJSON_DeleteItemFromObject(c, "os_version");
	cJSON_AddStringToObject(c, "os_version", "unknown");
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 2);
	assert_step(&a, 1, "read the Windows version", STEP_FAILED,
		    0x8007000Du);
	fx_assert_detail_has(&a, 1, "got unknown");
	fx_assert_program_log(h, API);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* COM cannot start wuauserv: the API's error, then the fallback. */
Test(detect_now, agent_start_fails_then_fallback)
{
	cJSON *doc = fx_load_example("wuauserv-stopped.json");
	cJSON *svc, *fault;
	struct host *h;
	struct action_result a;

	svc = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"),
				  "wuauserv");
	fault = cJSON_AddObjectToObject(svc, "fault");
	cJSON_AddNumberToObject(fault, "start", 1053);
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	assert_step(&a, 0, API, STEP_SKIPPED, 0x8007041Du);
	assert_step(&a, 1, "UsoClient StartScan", STEP_OK, HR_OK);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(wuauserv_state(h), SVC_STOPPED);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* ---- the program runner ------------------------------------------------ */

Test(detect_now, run_program_timeout)
{
	cJSON *doc = fx_load_example("healthy.json");
	const char *const argv[] = {"UsoClient", "StartScan", NULL};
	struct host *h;
	struct action_result a;
	struct step *s;

	cJSON_AddTrueToObject(program(doc, "UsoClient.exe"), "hang");
	h = fx_open_doc(doc);
	action_result_init(&a, "test", false);
	s = action_add_step(&a, "x");
	cr_assert_eq(step_run_program(h, s, argv, 50), 0x800705B4u);
	cr_assert_str_eq(s->detail, "UsoClient StartScan did not finish "
				    "within 50 ms and was stopped");
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

Test(detect_now, run_program_output_is_trimmed)
{
	cJSON *doc = fx_load_example("healthy.json");
	const char *const argv[] = {"UsoClient", "StartScan", NULL};
	struct host *h;
	struct action_result a;
	struct step *s;
	char *big = xmalloc(10001);
	cJSON *p;

	memset(big, 'x', 10000);
	big[10000] = '\0';
	big[0] = '\n';
	p = program(doc, "UsoClient.exe");
	cJSON_DeleteItemFromObject(p, "output");
	cJSON_AddStringToObject(p, "output", big);
	h = fx_open_doc(doc);
	action_result_init(&a, "test", false);
	s = action_add_step(&a, "x");
	cr_assert_eq(step_run_program(h, s, argv, 5000), HR_OK);
	cr_assert_not_null(
	    strstr(s->detail, "; output (first 4096 of 9999 bytes): xxx"), "%s",
	    s->detail);
	cr_assert_eq(strlen(s->detail),
		     strlen("UsoClient StartScan exited with code 0; output "
			    "(first 4096 of 9999 bytes): ") +
			 4096);
	free(big);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* ---- the simulated host's "wua" and its log ---------------------------- */

static bool
parses(const cJSON *doc, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(doc);
	cJSON *parsed = host_sim_parse(text, strlen(text), "t", err, errlen);
	bool ok = parsed != NULL;

	cJSON_Delete(parsed);
	free(text);
	return ok;
}

Test(detect_now, sim_rejects_a_bad_wua)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *wua = cJSON_AddObjectToObject(doc, "wua");
	char err[256] = "";

	cJSON_AddTrueToObject(wua, "detect_now");
	cr_assert_not(parses(doc, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "wua.detect_now"), "%s", err);
	cJSON_DeleteItemFromObject(wua, "detect_now");
	cJSON_AddStringToObject(wua, "scan", "0x0");
	cr_assert_not(parses(doc, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "wua.scan"), "%s", err);
	cJSON_Delete(doc);
}

/* A host after DetectNow (its log has an api entry) is a loadable host,
 * as writeback needs. */
Test(detect_now, sim_log_reloads)
{
	struct host *h = fx_open_example("healthy.json");
	cJSON *snap, *e;
	char err[256] = "";

	cr_assert_eq(h->ops->wu_detect_now(h), HR_OK);
	snap = host_sim_snapshot(h);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "program_log"), 0);
	cr_assert_str_eq(cJSON_GetObjectItem(e, "api")->valuestring, API);
	cr_assert_not_null(cJSON_GetObjectItem(e, "time"));
	cr_assert_null(cJSON_GetObjectItem(e, "argv"));
	cr_assert(parses(snap, err, sizeof(err)), "%s", err);
	cJSON_Delete(snap);
	host_close(h);
}

/* "detect_now": 0 is the default behaviour, not a fixed success. */
Test(detect_now, sim_zero_answer_still_needs_the_service)
{
	cJSON *doc = fx_load_example("wuauserv-stopped-disabled.json");
	struct host *h;

	set_wua(doc, "0x0");
	h = fx_open_doc(doc);
	cr_assert_eq(h->ops->wu_detect_now(h), 0x80070422u);
	host_close(h);
	cJSON_Delete(doc);
}
