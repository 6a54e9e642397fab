/*
 * test_action_reset_client_id.c: reset-client-id on simulated hosts made
 * from the examples (each test works on its own copy). The simulated
 * wuauserv, like the agent, writes a new SusClientId when it starts
 * without one, so the check can pass afterwards.
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

#define WU_KEY                                                                 \
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate"
#define OLD_ID "3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b47"
#define OLD_VAL                                                                \
	"0600c8011c0108020004000000000000000000000000000000000000000000000000" \
	"000000000000"
#define OLD_PING "e0f1a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b"
#define OLD_SID	 "S-1-5-21-3623811015-3361044348-30300820-2114"

/* The steps of a run that goes through, in order. */
static const char *const full_steps[] = {
    "stop wuauserv",
    "wait for wuauserv to stop",
    "save the client id values",
    "delete SusClientId",
    "delete SusClientIdValidation",
    "delete PingID",
    "delete AccountDomainSid",
    "start wuauserv",
    "wait for wuauserv to run",
    "IAutomaticUpdates::DetectNow",
};

#define N_FULL (sizeof(full_steps) / sizeof(full_steps[0]))

static const char *const value_names[] = {
    "SusClientId", "SusClientIdValidation", "PingID", "AccountDomainSid"};

static void
run(struct host *h, bool dry, struct action_result *a)
{
	fx_run_action(&action_reset_client_id, h, dry, a);
}

/* The first n steps of a full run, each with status st. */
static void
assert_full_steps(const struct action_result *a, size_t n, enum step_status st)
{
	fx_assert_steps(a, full_steps, n, st);
}

static enum status
check_client_id_on(struct host *h, const char *finding, enum status *fst)
{
	return fx_check_status(&check_client_id, h, finding, fst);
}

/* The value's string, or NULL when it is not set. */
static char *
reg_str(struct host *h, const char *name)
{
	struct reg_value v = {0};
	char *s = NULL;
	hr_t hr = h->ops->reg_get(h, WU_KEY, name, &v);

	if (hr == HR_OK && v.type == REGT_SZ)
		s = xstrdup(v.str);
	else
		cr_assert(hr == HR_OK || hr == 0x80070002u, "reg_get %s 0x%08X",
			  name, hr);
	reg_value_clear(&v);
	return s;
}

static bool
reg_has(struct host *h, const char *name)
{
	struct reg_value v = {0};
	hr_t hr = h->ops->reg_get(h, WU_KEY, name, &v);

	reg_value_clear(&v);
	cr_assert(hr == HR_OK || hr == 0x80070002u, "reg_get %s 0x%08X", name,
		  hr);
	return hr == HR_OK;
}

/* The WindowsUpdate key of the host's document. */
static cJSON *
wu_key_of(struct host *h)
{
	cJSON *doc = host_sim_snapshot(h);
	cJSON *k = cJSON_DetachItemFromObject(
	    cJSON_GetObjectItem(doc, "registry"), WU_KEY);

	cJSON_Delete(doc);
	cr_assert_not_null(k, "no registry key %s", WU_KEY);
	return k;
}

/* The typed form of one of healthy.json's values, with a delete fault. */
static void
guard_value(cJSON *doc, const char *name, const char *type, const char *data)
{
	cJSON *key =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), WU_KEY);
	cJSON *v = cJSON_CreateObject();

	cJSON_AddStringToObject(v, "type", type);
	cJSON_AddStringToObject(v, "data", data);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(v, "fault"), "delete",
				5);
	fx_set_item(key, name, v);
}

static const char *const expected_backup =
    "{\"key\": \""
    "HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows\\\\"
    "CurrentVersion\\\\WindowsUpdate\", \"values\": {"
    "\"SusClientId\": {\"type\": \"REG_SZ\", \"data\": \"%s\"},"
    "\"SusClientIdValidation\": {\"type\": \"REG_BINARY\", \"data\": \"" OLD_VAL
    "\"},"
    "\"PingID\": {\"type\": \"REG_SZ\", \"data\": \"" OLD_PING "\"},"
    "\"AccountDomainSid\": {\"type\": \"REG_SZ\", \"data\": \"" OLD_SID "\"}}}";

static void
assert_backup(const struct action_result *a, const char *old_id)
{
	char *text = xasprintf(expected_backup, old_id);
	cJSON *want = cJSON_Parse(text);
	char *got = cJSON_Print(a->backup);

	cr_assert_not_null(want);
	cr_assert(cJSON_Compare(want, a->backup, true), "backup is %s", got);
	cJSON_Delete(want);
	free(got);
	free(text);
}

Test(reset_client_id, descriptor)
{
	cr_assert_eq(action_find("reset-client-id"), &action_reset_client_id);
	cr_assert_str_eq(action_reset_client_id.target, "client-id");
	cr_assert_str_eq(action_reset_client_id.also_locks[0], "wuauserv");
	cr_assert_null(action_reset_client_id.also_locks[1]);
	cr_assert_str_eq(action_reset_client_id.verify_check, "client-id");
	for (size_t i = 0; i < N_FULL; i++)
		cr_assert_str_eq(action_reset_client_id.steps[i],
				 full_steps[i]);
	cr_assert_null(action_reset_client_id.steps[13]);
}

Test(reset_client_id, a_malformed_id_is_replaced_and_the_check_passes)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("client-id-malformed.json"));
	struct action_result a;
	enum status fst = ST_SKIP;
	char *id;

	cr_assert_eq(check_client_id_on(h, "client-id.id", &fst), ST_FAIL);
	cr_assert_eq(fst, ST_FAIL);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, N_FULL);
	assert_full_steps(&a, N_FULL, STEP_OK);
	fx_assert_detail(&a, 2,
			 "saved SusClientId (REG_SZ), SusClientIdValidation "
			 "(REG_BINARY), PingID (REG_SZ), AccountDomainSid "
			 "(REG_SZ) in backup.values");
	fx_assert_detail(
	    &a, 3, "deleted; the old value is in backup.values.SusClientId");
	assert_backup(&a, "3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b4");
	cr_assert_eq(a.n_changes, 5);
	cr_assert_str_eq(a.changes[0].what, "update detection and reporting");
	cr_assert_str_eq(a.changes[1].what, WU_KEY "\\SusClientId");
	cr_assert_str_eq(a.changes[1].before,
			 "3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b4");
	cr_assert_null(a.changes[1].after);
	cr_assert_str_eq(a.changes[2].before, OLD_VAL);
	cr_assert_str_eq(a.changes[3].before, OLD_PING);
	cr_assert_str_eq(a.changes[4].what, WU_KEY "\\AccountDomainSid");
	/* The agent made a new, well-formed id. */
	id = reg_str(h, "SusClientId");
	cr_assert_not_null(id);
	cr_assert_eq(strlen(id), 36);
	free(id);
	cr_assert(reg_has(h, "SusClientIdValidation"));
	cr_assert(!reg_has(h, "PingID"));
	cr_assert(!reg_has(h, "AccountDomainSid"));
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_RUNNING);
	cr_assert_eq(check_client_id_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, a_healthy_client_gets_a_new_id)
{
	struct host *h = fx_open_doc_take(fx_load_example("healthy.json"));
	struct action_result a;
	char *id;

	cr_assert_eq(check_client_id_on(h, NULL, NULL), ST_PASS);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	assert_backup(&a, OLD_ID);
	id = reg_str(h, "SusClientId");
	cr_assert_not_null(id);
	cr_assert_str_neq(id, OLD_ID);
	free(id);
	cr_assert_eq(check_client_id_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, missing_values_are_skipped)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("client-id-missing.json"));
	struct action_result a;

	cr_assert_eq(check_client_id_on(h, NULL, NULL), ST_FAIL);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, N_FULL);
	fx_assert_step(&a, 3, "delete SusClientId", STEP_SKIPPED, HR_OK);
	fx_assert_detail(&a, 3, "SusClientId is not set");
	fx_assert_step(&a, 4, "delete SusClientIdValidation", STEP_OK, HR_OK);
	cr_assert_null(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(a.backup, "values"), "SusClientId"));
	cr_assert_not_null(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(a.backup, "values"), "PingID"));
	cr_assert_eq(check_client_id_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, a_missing_validation_value_is_made_again)
{
	struct host *h = fx_open_doc_take(
	    fx_load_example("client-id-validation-missing.json"));
	struct action_result a;
	enum status fst = ST_SKIP;

	cr_assert_eq(check_client_id_on(h, "client-id.validation", &fst),
		     ST_FAIL);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	fx_assert_step(&a, 4, "delete SusClientIdValidation", STEP_SKIPPED,
		       HR_OK);
	cr_assert_eq(check_client_id_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, dry_run_plans_and_changes_nothing)
{
	struct host *h = fx_open_doc_take(fx_load_example("healthy.json"));
	struct action_result a;

	fx_run_dry(&action_reset_client_id, h, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	cr_assert_eq(a.n_steps, N_FULL);
	assert_full_steps(&a, N_FULL, STEP_PLANNED);
	fx_assert_detail(
	    &a, 2,
	    "would save SusClientId (REG_SZ), SusClientIdValidation "
	    "(REG_BINARY), PingID (REG_SZ), AccountDomainSid "
	    "(REG_SZ)");
	fx_assert_detail(&a, 3, "would delete SusClientId under " WU_KEY);
	fx_assert_detail(&a, 7, "would start wuauserv");
	cr_assert_null(a.backup);
	cr_assert_eq(a.n_changes, 5);
	cr_assert_str_eq(a.changes[1].what, WU_KEY "\\SusClientId");
	cr_assert_str_eq(a.changes[1].before, OLD_ID);
	cr_assert_null(a.changes[1].after);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, disabled_wuauserv_changes_nothing)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("wuauserv-stopped-disabled.json"));
	struct action_result a;

	fx_run_failing_first(&action_reset_client_id, h, false, "stop wuauserv",
			     0x80070422u, &a);
	fx_assert_detail_has(&a, 0,
			     "nothing was changed: wuauserv makes the new "
			     "id when it starts, and it cannot start");
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, stop_fails_and_nothing_changes)
{
	struct action_result a;
	struct host *h = fx_open_service_fault(
	    "healthy.json", "wuauserv", "stop", cJSON_CreateNumber(1061));

	fx_run_failing_first(&action_reset_client_id, h, false, "stop wuauserv",
			     0x80070425u, &a);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, a_stop_that_hangs_deletes_nothing)
{
	struct action_result a;
	struct host *h = fx_open_service_fault("healthy.json", "wuauserv",
					       "hang_stop", cJSON_CreateTrue());
	cJSON *key = wu_key_of(h);

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 3);
	fx_assert_step(&a, 1, "wait for wuauserv to stop", STEP_FAILED,
		       0x8007041Du);
	fx_assert_step(&a, 2, "start wuauserv again", STEP_FAILED, 0x8007041Du);
	fx_assert_same_doc(key, wu_key_of(h));
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, a_value_that_cannot_be_read_deletes_nothing)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;
	cJSON *before;

	fx_set_sub(doc, "fault", "registry_read", cJSON_CreateNumber(5));
	h = fx_open_doc_take(doc);
	before = fx_snapshot_no_pids(h);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 4);
	assert_full_steps(&a, 2, STEP_OK);
	fx_assert_step(&a, 2, "save the client id values", STEP_FAILED,
		       0x80070005u);
	fx_assert_detail(&a, 2,
			 "could not read SusClientId under " WU_KEY
			 " (0x80070005); nothing was deleted");
	fx_assert_step(&a, 3, "start wuauserv again", STEP_UNDONE, HR_OK);
	cr_assert_null(a.backup);
	fx_assert_same_doc(before, fx_snapshot_no_pids(h));
	action_result_clear(&a);
	host_close(h);
}

/*
 * The delete of value k fails: the ones before it are written back,
 * newest first, and wuauserv runs again; the host is as it was but for
 * wuauserv's process id.
 */
static void
assert_delete_rolled_back(size_t k, const char *type, const char *data)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;
	cJSON *before;
	size_t n = 0;

	guard_value(doc, value_names[k], type, data);
	h = fx_open_doc_take(doc);
	before = fx_snapshot_no_pids(h);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_full_steps(&a, 3 + k, STEP_OK);
	fx_assert_step(&a, 3 + k, full_steps[3 + k], STEP_FAILED, 0x80070005u);
	for (size_t i = k; i-- > 0;) {
		char *name = xasprintf("restore %s", value_names[i]);

		fx_assert_step(&a, 4 + k + n, name, STEP_UNDONE, HR_OK);
		free(name);
		n++;
	}
	fx_assert_step(&a, 4 + k + n, "start wuauserv again", STEP_UNDONE,
		       HR_OK);
	cr_assert_eq(a.n_steps, 5 + k + n);
	/* All four were saved before the first was deleted. */
	cr_assert_eq(
	    cJSON_GetArraySize(cJSON_GetObjectItem(a.backup, "values")), 4);
	cr_assert_eq(a.n_changes, 0);
	fx_assert_same_doc(before, fx_snapshot_no_pids(h));
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, delete_of_the_id_fails)
{
	assert_delete_rolled_back(0, "REG_SZ", OLD_ID);
}

Test(reset_client_id, delete_of_the_validation_fails_and_the_id_is_back)
{
	assert_delete_rolled_back(1, "REG_BINARY", OLD_VAL);
}

Test(reset_client_id, delete_of_pingid_fails_and_two_are_back)
{
	assert_delete_rolled_back(2, "REG_SZ", OLD_PING);
}

Test(reset_client_id, delete_of_the_domain_sid_fails_and_three_are_back)
{
	assert_delete_rolled_back(3, "REG_SZ", OLD_SID);
}

Test(reset_client_id, start_fails_and_the_values_are_back)
{
	struct action_result a;
	struct host *h = fx_open_service_fault("healthy.json", "wuauserv",
					       "start", cJSON_CreateNumber(5));
	cJSON *key = wu_key_of(h);

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 12);
	assert_full_steps(&a, 7, STEP_OK);
	fx_assert_step(&a, 7, "start wuauserv", STEP_FAILED, 0x80070005u);
	fx_assert_step(&a, 8, "restore AccountDomainSid", STEP_UNDONE, HR_OK);
	fx_assert_step(&a, 9, "restore PingID", STEP_UNDONE, HR_OK);
	fx_assert_step(&a, 10, "restore SusClientIdValidation", STEP_UNDONE,
		       HR_OK);
	fx_assert_step(&a, 11, "restore SusClientId", STEP_UNDONE, HR_OK);
	fx_assert_detail(&a, 11, "SusClientId is back (REG_SZ, from backup)");
	fx_assert_same_doc(key, wu_key_of(h));
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_STOPPED);
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, "wuauserv state");
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, a_start_that_hangs_puts_the_values_back)
{
	struct action_result a;
	struct host *h = fx_open_service_fault(
	    "healthy.json", "wuauserv", "hang_start", cJSON_CreateTrue());
	cJSON *key = wu_key_of(h);

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 13);
	assert_full_steps(&a, 8, STEP_OK);
	fx_assert_step(&a, 8, "wait for wuauserv to run", STEP_FAILED,
		       0x8007041Du);
	fx_assert_step(&a, 12, "restore SusClientId", STEP_UNDONE, HR_OK);
	fx_assert_same_doc(key, wu_key_of(h));
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, a_failed_report_keeps_the_new_id)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;
	char *id;

	fx_set_sub(doc, "wua", "detect_now", cJSON_CreateString("0x80040154"));
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "programs"),
				   "UsoClient.exe");
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, N_FULL + 1);
	assert_full_steps(&a, N_FULL - 1, STEP_OK);
	fx_assert_step(&a, N_FULL - 1, "IAutomaticUpdates::DetectNow",
		       STEP_SKIPPED, 0x80040154u);
	fx_assert_step(&a, N_FULL, "UsoClient StartScan", STEP_FAILED,
		       0x80070002u);
	assert_backup(&a, OLD_ID);
	id = reg_str(h, "SusClientId");
	cr_assert_not_null(id);
	cr_assert_str_neq(id, OLD_ID);
	free(id);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_client_id, binary_and_number_values_are_saved_typed)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *key =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), WU_KEY);
	struct action_result a;
	cJSON *v, *want;
	struct host *h;

	/* Odd types a broken image may carry are kept exactly. */
	fx_set_item(key, "PingID", cJSON_CreateNumber(7));
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "type", "REG_QWORD");
	cJSON_AddStringToObject(v, "data", "0x20000000000001");
	fx_set_item(key, "AccountDomainSid", v);
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	want = cJSON_Parse("{\"type\": \"REG_DWORD\", \"data\": 7}");
	cr_assert(cJSON_Compare(
	    want,
	    cJSON_GetObjectItem(cJSON_GetObjectItem(a.backup, "values"),
				"PingID"),
	    true));
	cJSON_Delete(want);
	want = cJSON_Parse(
	    "{\"type\": \"REG_QWORD\", \"data\": \"0x20000000000001\"}");
	cr_assert(cJSON_Compare(
	    want,
	    cJSON_GetObjectItem(cJSON_GetObjectItem(a.backup, "values"),
				"AccountDomainSid"),
	    true));
	cJSON_Delete(want);
	cr_assert_str_eq(a.changes[3].before, "7");
	cr_assert_str_eq(a.changes[4].before, "9007199254740993");
	action_result_clear(&a);
	host_close(h);
}
