/*
 * test_action_start_wuauserv.c: start-wuauserv on simulated hosts made
 * from the examples (each test works on its own copy).
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
#include "platform/host_sim.h"

static void
run(struct host *h, bool dry, struct action_result *a)
{
	fx_run_action(&action_start_wuauserv, h, dry, a);
}

/* Run the wuauserv check; the status, and of one finding when asked. */
static enum status
check_wuauserv_on(struct host *h, const char *finding, enum status *fst)
{
	return fx_check_status(&check_wuauserv, h, finding, fst);
}

Test(start_wuauserv, descriptor_and_catalogue_order)
{
	static const char *const order[] = {
	    "restart-bits",    "repair-bits", "start-wuauserv", "reset-store",
	    "reset-client-id", "gpupdate",    "detect-now"};
	size_t last = 0;

	cr_assert_eq(action_find("start-wuauserv"), &action_start_wuauserv);
	cr_assert_str_eq(action_start_wuauserv.target, "wuauserv");
	cr_assert_null(action_start_wuauserv.also_locks);
	cr_assert_str_eq(action_start_wuauserv.verify_check, "wuauserv");
	cr_assert_str_eq(action_start_wuauserv.steps[0], "start wuauserv");
	cr_assert_str_eq(action_start_wuauserv.steps[1],
			 "wait for wuauserv to run");
	cr_assert_null(action_start_wuauserv.steps[2]);
	/* The table keeps the order for the actions it has. */
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < action_count; i++) {
			if (strcmp(action_table[i]->id, order[k]) != 0)
				continue;
			cr_assert_geq(i, last, "%s is out of order", order[k]);
			last = i;
		}
	}
}

Test(start_wuauserv, stopped_service_is_started_and_the_check_passes)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("wuauserv-stopped-error.json"));
	struct action_result a;
	enum status fst = ST_SKIP;

	cr_assert_eq(check_wuauserv_on(h, "wuauserv.state", &fst), ST_FAIL);
	cr_assert_eq(fst, ST_FAIL);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 2);
	fx_assert_step(&a, 0, "start wuauserv", STEP_OK, HR_OK);
	cr_assert_str_eq(a.steps[0].detail, "start requested");
	fx_assert_step(&a, 1, "wait for wuauserv to run", STEP_OK, HR_OK);
	fx_assert_detail_has(&a, 1, "wuauserv is running (pid ");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, "wuauserv state");
	cr_assert_str_eq(a.changes[0].before, "stopped");
	cr_assert_str_eq(a.changes[0].after, "running");
	cr_assert_null(a.backup);
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_RUNNING);
	cr_assert_eq(check_wuauserv_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, dry_run_plans_and_changes_nothing)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("wuauserv-stopped-error.json"));
	struct action_result a;

	fx_run_dry(&action_start_wuauserv, h, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	cr_assert_eq(a.n_steps, 2);
	fx_assert_step(&a, 0, "start wuauserv", STEP_PLANNED, HR_OK);
	cr_assert_str_eq(a.steps[0].detail, "would start wuauserv");
	fx_assert_step(&a, 1, "wait for wuauserv to run", STEP_PLANNED, HR_OK);
	cr_assert_str_eq(a.steps[1].detail,
			 "would wait up to 300 ms for wuauserv to run");
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, running_service_is_skipped_with_the_reason)
{
	struct host *h = fx_open_doc_take(fx_load_example("healthy.json"));
	cJSON *before = host_sim_snapshot(h);
	struct action_result a;

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 2);
	fx_assert_step(&a, 0, "start wuauserv", STEP_SKIPPED, HR_OK);
	cr_assert_str_eq(a.steps[0].detail,
			 "wuauserv is already running (pid 3896): nothing to "
			 "start");
	fx_assert_step(&a, 1, "wait for wuauserv to run", STEP_SKIPPED, HR_OK);
	cr_assert_str_eq(a.steps[1].detail, "wuauserv was not started");
	cr_assert_eq(a.n_changes, 0);
	fx_assert_same_doc(before, host_sim_snapshot(h));
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, disabled_fails_and_leaves_the_start_type)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("wuauserv-stopped-disabled.json"));
	struct action_result a;
	struct svc_config c = {0};

	fx_run_failing_first(&action_start_wuauserv, h, false, "start wuauserv",
			     0x80070422u, &a);
	fx_assert_detail_has(&a, 0, "0x80070422, ERROR_SERVICE_DISABLED");
	fx_assert_detail_has(&a, 0,
			     "This action does not change the start "
			     "type");
	fx_assert_detail_has(&a, 0, "sc config wuauserv start= demand");
	cr_assert_eq(a.n_changes, 0);
	cr_assert_eq(h->ops->service_config(h, "wuauserv", &c), HR_OK);
	cr_assert_eq(c.start_type, SVC_DISABLED);
	svc_config_clear(&c);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, dry_run_of_a_disabled_service_says_it_would_fail)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("wuauserv-stopped-disabled.json"));
	struct action_result a;

	fx_run_failing_first(&action_start_wuauserv, h, true, "start wuauserv",
			     0x80070422u, &a);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, start_fault_fails_the_start_step)
{
	struct action_result a;
	struct host *h =
	    fx_open_service_fault("wuauserv-stopped-error.json", "wuauserv",
				  "start", cJSON_CreateNumber(5));

	fx_run_failing_first(&action_start_wuauserv, h, false, "start wuauserv",
			     0x80070005u, &a);
	cr_assert_str_eq(a.steps[0].detail,
			 "could not start wuauserv (0x80070005); it is left "
			 "stopped");
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, a_dependency_that_cannot_start_is_its_code)
{
	cJSON *doc = fx_load_example("wuauserv-stopped-error.json");
	cJSON *rpc = fx_service_of(doc, "RpcSs");
	struct action_result a;
	struct host *h;

	/* Stopped and unable to start: the SCM's 1068. */
	fx_set_item(rpc, "state", cJSON_CreateString("stopped"));
	fx_set_sub(rpc, "fault", "start", cJSON_CreateNumber(1053));
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	fx_assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x8007042Cu);
	cr_assert_str_eq(a.steps[0].detail,
			 "could not start wuauserv (0x8007042C); it is left "
			 "stopped");
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_STOPPED);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, hung_start_fails_the_wait_with_the_timeout)
{
	struct action_result a;
	struct host *h =
	    fx_open_service_fault("wuauserv-stopped-error.json", "wuauserv",
				  "hang_start", cJSON_CreateTrue());

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 2);
	fx_assert_step(&a, 0, "start wuauserv", STEP_OK, HR_OK);
	fx_assert_step(&a, 1, "wait for wuauserv to run", STEP_FAILED,
		       0x8007041Du);
	cr_assert_str_eq(a.steps[1].detail,
			 "wuauserv did not reach running within 300 ms (now "
			 "start_pending)");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].after, "start_pending");
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, svchost_without_its_servicedll_is_its_code)
{
	cJSON *doc = fx_load_example("wuauserv-stopped-error.json");
	struct action_result a;
	struct host *h;

	/* svchost has nothing to load: the SCM's 2. */
	cJSON_DeleteItemFromObject(
	    cJSON_GetObjectItem(doc, "registry"),
	    "HKLM\\SYSTEM\\CurrentControlSet\\Services\\wuauserv\\Parameters");
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	fx_assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x80070002u);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, a_service_found_stopping_is_waited_for_first)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;

	/* A pending state in the file stays: a stop that never ends. */
	fx_set_item(fx_service_of(doc, "wuauserv"), "state",
		    cJSON_CreateString("stop_pending"));
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	fx_assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x8007041Du);
	cr_assert_str_eq(a.steps[0].detail,
			 "wuauserv was stopping and did not stop within 300 "
			 "ms (now stop_pending): it cannot be started before");
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, missing_service_is_1060)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "wuauserv");
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	fx_assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x80070424u);
	cr_assert_str_eq(a.steps[0].detail,
			 "wuauserv does not exist (0x80070424)");
	action_result_clear(&a);
	host_close(h);
}
