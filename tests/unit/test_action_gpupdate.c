/*
 * test_action_gpupdate.c: gpupdate on simulated hosts made from the
 * examples (each test works on its own copy): policy-not-applied.json is
 * a computer that has not yet received the WSUS policy its domain holds
 * (its gpupdate.exe writes the policy values when it runs),
 * gpupdate-fails.json one that cannot reach a domain controller.
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

#define STEP   "gpupdate /target:computer /force"
#define WU_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"

static cJSON *
gpupdate_of(cJSON *doc)
{
	cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "programs"),
				       "gpupdate.exe");

	cr_assert_not_null(p, "no programs.gpupdate.exe");
	return p;
}

static void
run_action(struct host *h, bool dry, struct action_result *a)
{
	fx_run_action(&action_gpupdate, h, dry, a);
}

static enum status
policy_status(struct host *h)
{
	return fx_check_status(check_find("policy"), h, NULL, NULL);
}

static void
assert_step(const struct action_result *a, enum step_status want, hr_t error)
{
	cr_assert_eq(a->n_steps, 1);
	fx_assert_step(a, 0, STEP, want, error);
	cr_assert_not_null(a->steps[0].detail);
	/* Nothing to undo, nothing replaced. */
	cr_assert_null(a->backup);
}

Test(gpupdate, descriptor)
{
	cr_assert_eq(action_find("gpupdate"), &action_gpupdate);
	cr_assert_str_eq(action_gpupdate.target, "policy");
	cr_assert_str_eq(action_gpupdate.verify_check, "policy");
	cr_assert_null(action_gpupdate.also_locks);
	cr_assert_str_eq(action_gpupdate.steps[0], STEP);
	cr_assert_null(action_gpupdate.steps[1]);
}

/* The broken host: the WSUS policy has not reached it; gpupdate brings
 * it. */
Test(gpupdate, applies_missing_policy)
{
	struct host *h = fx_open_example("policy-not-applied.json");
	struct action_result a;
	struct reg_value v = {0};

	cr_assert_eq(policy_status(h), ST_FAIL);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	assert_step(&a, STEP_OK, HR_OK);
	cr_assert_str_eq(a.steps[0].detail,
			 "gpupdate /target:computer /force exited with code "
			 "0; output: Updating policy...\r\n\r\nComputer "
			 "Policy update has completed successfully.");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, "computer Group Policy");
	cr_assert_null(a.changes[0].before);
	cr_assert_str_eq(a.changes[0].after, "applied again");
	fx_assert_program_log(h, STEP);
	cr_assert_eq(h->ops->reg_get(h, WU_KEY, "WUServer", &v), HR_OK);
	cr_assert_str_eq(v.str, "http://wsus.corp.example:8530");
	reg_value_clear(&v);
	cr_assert_eq(policy_status(h), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(gpupdate, dry_run_changes_nothing)
{
	struct host *h = fx_open_example("policy-not-applied.json");
	struct action_result a;

	fx_run_dry(&action_gpupdate, h, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	assert_step(&a, STEP_PLANNED, HR_OK);
	cr_assert_str_eq(a.steps[0].detail,
			 "would run gpupdate /target:computer /force (up to "
			 "120 s) to apply the computer's Group Policy again");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].after, "would be applied again");
	cr_assert_eq(policy_status(h), ST_FAIL);
	action_result_clear(&a);
	host_close(h);
}

/* gpupdate's own failure: exit code 1, E_FAIL, its words in the detail. */
Test(gpupdate, exit_code_fails)
{
	struct host *h = fx_open_example("gpupdate-fails.json");
	struct action_result a;
	cJSON *before, *after;

	cr_assert_eq(policy_status(h), ST_FAIL);
	before = fx_snapshot_no_log(h);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, STEP_FAILED, 0x80004005u);
	cr_assert_not_null(
	    strstr(a.steps[0].detail,
		   "gpupdate /target:computer /force exited with code 1 "
		   "(0x1); output: Updating policy...\r\n\r\nComputer policy "
		   "could not be updated successfully."),
	    "%s", a.steps[0].detail);
	cr_assert_not_null(strstr(a.steps[0].detail,
				  "Windows could not resolve the computer "
				  "name."));
	cr_assert_eq(a.n_changes, 0);
	fx_assert_program_log(h, STEP);
	after = fx_snapshot_no_log(h);
	cr_assert(cJSON_Compare(before, after, 1));
	cr_assert_eq(policy_status(h), ST_FAIL);
	cJSON_Delete(before);
	cJSON_Delete(after);
	action_result_clear(&a);
	host_close(h);
}

/* Wine has no gpupdate.exe: 0x80070002. */
Test(gpupdate, missing_program)
{
	cJSON *doc = fx_load_example("policy-not-applied.json");
	struct host *h;
	struct action_result a;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "programs"),
				   "gpupdate.exe");
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, STEP_FAILED, 0x80070002u);
	cr_assert_str_eq(a.steps[0].detail, "could not run gpupdate "
					    "/target:computer /force "
					    "(0x80070002)");
	cr_assert_eq(a.n_changes, 0);
	fx_assert_program_log(h, "");
	cr_assert_eq(policy_status(h), ST_FAIL);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* Programs cannot be started at all (fault.programs). */
Test(gpupdate, programs_fault)
{
	cJSON *doc = fx_load_example("policy-not-applied.json");
	struct host *h;
	struct action_result a;

	cJSON_AddNumberToObject(cJSON_AddObjectToObject(doc, "fault"),
				"programs", 5);
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, STEP_FAILED, 0x80070005u);
	cr_assert_eq(policy_status(h), ST_FAIL);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* gpupdate cannot write the policy (fault.registry_write). */
Test(gpupdate, policy_write_fault)
{
	cJSON *doc = fx_load_example("policy-not-applied.json");
	struct host *h;
	struct action_result a;

	cJSON_AddNumberToObject(cJSON_AddObjectToObject(doc, "fault"),
				"registry_write", 5);
	h = fx_open_doc(doc);
	run_action(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, STEP_FAILED, 0x80070005u);
	cr_assert_eq(a.n_changes, 0);
	cr_assert_eq(policy_status(h), ST_FAIL);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/*
 * A hung gpupdate: the action's limit is 120 s, too long for a test, so
 * the runner is called with the action's argv and a short limit.
 */
Test(gpupdate, hung_gpupdate_times_out)
{
	cJSON *doc = fx_load_example("policy-not-applied.json");
	const char *const argv[] = {"gpupdate", "/target:computer", "/force",
				    NULL};
	struct host *h;
	struct action_result a;
	struct step *s;

	cJSON_AddTrueToObject(gpupdate_of(doc), "hang");
	h = fx_open_doc(doc);
	action_result_init(&a, "gpupdate", false);
	s = action_add_step(&a, STEP);
	cr_assert_eq(step_run_program(h, s, argv, 50), 0x800705B4u);
	cr_assert_str_eq(s->detail, "gpupdate /target:computer /force did "
				    "not finish within 50 ms and was stopped");
	/* Killed: what it would have written is not written. */
	cr_assert_eq(policy_status(h), ST_FAIL);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* programs.NAME.registry is checked like the top-level registry. */
Test(gpupdate, sim_rejects_a_bad_program_registry)
{
	cJSON *doc = fx_load_example("policy-not-applied.json");
	cJSON *reg = cJSON_GetObjectItem(gpupdate_of(doc), "registry");
	char *text;
	char err[256] = "";
	cJSON *parsed;

	cJSON_AddItemToObject(reg, "SOFTWARE\\NoRoot", cJSON_CreateObject());
	text = cJSON_PrintUnformatted(doc);
	parsed = host_sim_parse(text, strlen(text), "t", err, sizeof(err));
	cr_assert_null(parsed);
	cr_assert_not_null(strstr(err, "programs.gpupdate.exe.registry"), "%s",
			   err);
	free(text);
	cJSON_Delete(doc);
}
