/*
 * test_action_restart_bits.c: restart-bits on simulated hosts made from
 * healthy.json (each test works on its own copy in memory).
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

static const char *const step_names[] = {"stop BITS", "wait for BITS to stop",
					 "start BITS", "wait for BITS to run"};

static cJSON *
bits_of(cJSON *doc)
{
	return fx_service_of(doc, "BITS");
}

static void
restart(struct host *h, bool dry, struct action_result *a)
{
	fx_run_action(&action_restart_bits, h, dry, a);
}

static enum svc_state
bits_state(struct host *h)
{
	return fx_service_state(h, "BITS");
}

static void
assert_step(const struct action_result *a, size_t i, enum step_status want)
{
	cr_assert_lt(i, a->n_steps);
	cr_assert_str_eq(a->steps[i].name, step_names[i]);
	cr_assert_eq(a->steps[i].status, want, "step \"%s\" is %s: %s",
		     step_names[i], step_status_name(a->steps[i].status),
		     a->steps[i].detail ? a->steps[i].detail : "");
}

Test(restart_bits, descriptor)
{
	cr_assert_eq(action_find("restart-bits"), &action_restart_bits);
	cr_assert_str_eq(action_restart_bits.target, "bits");
	cr_assert_str_eq(action_restart_bits.verify_check, "bits");
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(action_restart_bits.steps[i], step_names[i]);
	cr_assert_null(action_restart_bits.steps[4]);
}

Test(restart_bits, running_bits_is_restarted)
{
	struct host *h = fx_open_doc_take(fx_load_example("healthy.json"));
	struct action_result a;

	cr_assert_eq(bits_state(h), SVC_RUNNING);
	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 4);
	fx_assert_steps(&a, step_names, 4, STEP_OK);
	cr_assert_eq(bits_state(h), SVC_RUNNING);
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, "BITS state");
	cr_assert_str_eq(a.changes[0].before, "running");
	cr_assert_str_eq(a.changes[0].after, "running");
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, stopped_bits_is_started)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	fx_set_str(bits_of(doc), "state", "stopped");
	cJSON_DeleteItemFromObject(bits_of(doc), "pid");
	h = fx_open_doc_take(doc);
	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 4);
	assert_step(&a, 0, STEP_SKIPPED);
	assert_step(&a, 1, STEP_SKIPPED);
	cr_assert_not_null(strstr(a.steps[0].detail, "already stopped"));
	assert_step(&a, 2, STEP_OK);
	assert_step(&a, 3, STEP_OK);
	cr_assert_eq(bits_state(h), SVC_RUNNING);
	cr_assert_str_eq(a.changes[0].before, "stopped");
	cr_assert_str_eq(a.changes[0].after, "running");
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, dry_run_changes_nothing)
{
	struct host *h = fx_open_doc_take(fx_load_example("healthy.json"));
	struct action_result a;

	fx_run_dry(&action_restart_bits, h, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	cr_assert(a.dry_run);
	cr_assert_eq(a.n_steps, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_step(&a, i, STEP_PLANNED);
		cr_assert_not_null(a.steps[i].detail);
		cr_assert_not_null(strstr(a.steps[i].detail, "would"));
	}
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, start_fault_leaves_bits_stopped)
{
	struct host *h = fx_open_service_fault("healthy.json", "BITS", "start",
					       cJSON_CreateNumber(1058));
	struct action_result a;

	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 4);
	assert_step(&a, 0, STEP_OK);
	assert_step(&a, 1, STEP_OK);
	assert_step(&a, 2, STEP_FAILED);
	cr_assert_eq(a.steps[2].error, 0x80070422u);
	cr_assert_not_null(strstr(a.steps[2].detail, "left stopped"), "%s",
			   a.steps[2].detail);
	assert_step(&a, 3, STEP_SKIPPED);
	cr_assert_eq(a.steps[3].error, 0);
	cr_assert_eq(bits_state(h), SVC_STOPPED);
	cr_assert_str_eq(a.changes[0].before, "running");
	cr_assert_str_eq(a.changes[0].after, "stopped");
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, hung_stop_times_out)
{
	struct host *h = fx_open_service_fault("healthy.json", "BITS",
					       "hang_stop", cJSON_CreateTrue());
	struct action_result a;

	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 4);
	assert_step(&a, 0, STEP_OK);
	assert_step(&a, 1, STEP_FAILED);
	cr_assert_eq(a.steps[1].error, 0x8007041Du);
	/* Generous: only that the wait was bounded by service_wait_ms. */
	cr_assert_lt(a.steps[1].duration_ms, 10000);
	assert_step(&a, 2, STEP_SKIPPED);
	assert_step(&a, 3, STEP_SKIPPED);
	cr_assert_neq(bits_state(h), SVC_RUNNING);
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, disabled_running_bits_is_not_stopped)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	fx_set_str(bits_of(doc), "start_type", "disabled");
	h = fx_open_doc_take(doc);
	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, 0, STEP_FAILED);
	cr_assert_eq(a.steps[0].error, 0x80070422u);
	assert_step(&a, 1, STEP_SKIPPED);
	assert_step(&a, 2, STEP_SKIPPED);
	assert_step(&a, 3, STEP_SKIPPED);
	cr_assert_eq(bits_state(h), SVC_RUNNING);
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, missing_bits_fails_first_step)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "BITS");
	h = fx_open_doc_take(doc);
	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, 0, STEP_FAILED);
	cr_assert_eq(a.steps[0].error, 0x80070424u);
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}
