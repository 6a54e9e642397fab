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

static uint32_t
bits_pid(struct host *h)
{
	struct svc_status st = {0};

	cr_assert_eq(h->ops->service_status(h, "BITS", &st), HR_OK);
	return st.pid;
}

/* Step i is step_names[i] with status want, error and detail. */
static void
assert_step(const struct action_result *a, size_t i, enum step_status want,
	    hr_t error, const char *detail)
{
	fx_assert_step(a, i, step_names[i], want, error);
	fx_assert_detail(a, i, detail);
}

/* Steps from..3 did not run because step_names[failed] failed. */
static void
assert_not_run(const struct action_result *a, size_t from, size_t failed)
{
	char *want = xasprintf("not run: \"%s\" failed", step_names[failed]);

	cr_assert_eq(a->n_steps, 4);
	for (size_t i = from; i < 4; i++)
		assert_step(a, i, STEP_SKIPPED, HR_OK, want);
	free(want);
}

static void
assert_change(const struct action_result *a, const char *before,
	      const char *after)
{
	cr_assert_eq(a->n_changes, 1);
	cr_assert_str_eq(a->changes[0].what, "BITS state");
	cr_assert_str_eq(a->changes[0].before, before);
	cr_assert_str_eq(a->changes[0].after, after);
}

/* What svc_steps says of a disabled BITS (0x80070422). */
#define DISABLED_ADVICE                                                        \
	"BITS is disabled (start type disabled), so Windows refuses to "       \
	"start it (0x80070422, ERROR_SERVICE_DISABLED). This action does not " \
	"change the start type: a service is usually disabled on purpose "     \
	"(Group Policy, a management tool or an administrator). An "           \
	"administrator who wants it back enables it (sc config BITS start= "   \
	"delayed-auto) and runs the action again"

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
	char *running;

	cr_assert_eq(bits_state(h), SVC_RUNNING);
	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 4);
	fx_assert_steps(&a, step_names, 4, STEP_OK);
	fx_assert_detail(&a, 0, "stop requested (BITS was running, pid 2412)");
	fx_assert_detail(&a, 1, "BITS is stopped");
	fx_assert_detail(&a, 2, "start requested");
	running = xasprintf("BITS is running (pid %u)", bits_pid(h));
	fx_assert_detail(&a, 3, running);
	free(running);
	cr_assert_eq(bits_state(h), SVC_RUNNING);
	cr_assert_neq(bits_pid(h), 2412);
	/* Running before and after, but a new process: a change. */
	assert_change(&a, "running", "running");
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
	assert_step(&a, 0, STEP_SKIPPED, HR_OK, "BITS is already stopped");
	assert_step(&a, 1, STEP_SKIPPED, HR_OK, "BITS is already stopped");
	assert_step(&a, 2, STEP_OK, HR_OK, "start requested");
	fx_assert_step(&a, 3, step_names[3], STEP_OK, HR_OK);
	cr_assert_eq(bits_state(h), SVC_RUNNING);
	assert_change(&a, "stopped", "running");
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
	assert_step(&a, 0, STEP_PLANNED, HR_OK,
		    "would stop BITS (now running, pid 2412)");
	assert_step(&a, 1, STEP_PLANNED, HR_OK,
		    "would wait up to 300 ms for BITS to stop");
	assert_step(&a, 2, STEP_PLANNED, HR_OK, "would start BITS");
	assert_step(&a, 3, STEP_PLANNED, HR_OK,
		    "would wait up to 300 ms for BITS to run");
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
	fx_assert_steps(&a, step_names, 2, STEP_OK);
	assert_step(&a, 2, STEP_FAILED, 0x80070422u,
		    DISABLED_ADVICE "; this action stopped it and it is left "
				    "stopped");
	assert_not_run(&a, 3, 2);
	cr_assert_eq(bits_state(h), SVC_STOPPED);
	assert_change(&a, "running", "stopped");
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, other_start_error_leaves_bits_stopped)
{
	struct host *h = fx_open_service_fault("healthy.json", "BITS", "start",
					       cJSON_CreateNumber(5));
	struct action_result a;

	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	fx_assert_steps(&a, step_names, 2, STEP_OK);
	assert_step(&a, 2, STEP_FAILED, 0x80070005u,
		    "could not start BITS (0x80070005); it is left stopped");
	assert_not_run(&a, 3, 2);
	cr_assert_eq(bits_state(h), SVC_STOPPED);
	assert_change(&a, "running", "stopped");
	action_result_clear(&a);
	host_close(h);
}

/*
 * A BITS that starts and dies at once: StartServiceW succeeds, the
 * service stops again with its own code (the SCM's 1066).
 */
Test(restart_bits, a_start_that_died_is_its_exit_code)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *bits = fx_service_of(doc, "BITS");
	struct action_result a;
	struct host *h;

	fx_set_sub(bits, "fault", "exit_on_start", cJSON_CreateNumber(1066));
	fx_set_str(bits, "service_exit_code", "0x80004005");
	h = fx_open_doc_take(doc);
	restart(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 4);
	fx_assert_steps(&a, step_names, 3, STEP_OK);
	assert_step(&a, 3, STEP_FAILED, 0x80004005u,
		    "BITS stopped again with error 0x80004005");
	cr_assert_eq(bits_state(h), SVC_STOPPED);
	assert_change(&a, "running", "stopped");
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
	fx_assert_steps(&a, step_names, 1, STEP_OK);
	assert_step(&a, 1, STEP_FAILED, 0x8007041Du,
		    "BITS did not stop within 300 ms (now stop_pending); a "
		    "stop request cannot be withdrawn");
	/* Generous: only that the wait was bounded by service_wait_ms. */
	cr_assert_lt(a.steps[1].duration_ms, 10000);
	assert_not_run(&a, 2, 1);
	cr_assert_neq(bits_state(h), SVC_RUNNING);
	assert_change(&a, "running", "stop_pending");
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
	assert_step(&a, 0, STEP_FAILED, 0x80070422u,
		    "BITS is running but could not be started again, so it "
		    "is left running. " DISABLED_ADVICE);
	assert_not_run(&a, 1, 0);
	cr_assert_eq(bits_state(h), SVC_RUNNING);
	cr_assert_eq(bits_pid(h), 2412);
	/* Nothing was done to it. */
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}

Test(restart_bits, disabled_stopped_bits_is_not_started)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct host *h;
	struct action_result a;

	fx_set_str(bits_of(doc), "state", "stopped");
	fx_set_str(bits_of(doc), "start_type", "disabled");
	cJSON_DeleteItemFromObject(bits_of(doc), "pid");
	h = fx_open_doc_take(doc);
	for (int dry = 0; dry < 2; dry++) {
		restart(h, dry, &a);
		cr_assert_eq(a.status, ACT_FAILED);
		assert_step(&a, 0, STEP_SKIPPED, HR_OK,
			    "BITS is already stopped");
		assert_step(&a, 1, STEP_SKIPPED, HR_OK,
			    "BITS is already stopped");
		assert_step(&a, 2, STEP_FAILED, 0x80070422u, DISABLED_ADVICE);
		assert_not_run(&a, 3, 2);
		cr_assert_eq(a.n_changes, 0);
		action_result_clear(&a);
	}
	cr_assert_eq(bits_state(h), SVC_STOPPED);
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
	assert_step(&a, 0, STEP_FAILED, 0x80070424u,
		    "BITS does not exist (0x80070424)");
	assert_not_run(&a, 1, 0);
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}
