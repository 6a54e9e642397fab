/*
 * test_action_reset_store.c: reset-store on simulated hosts made from
 * the examples (each test works on its own copy). A fault at each step
 * shows what is undone; a failed rename leaves the host as it was but
 * for the services' new process ids.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/host_sim.h"

#define SD	    "C:\\Windows\\SoftwareDistribution"
#define EDB	    "\\DataStore\\DataStore.edb"
#define RENAME	    "rename " SD
#define OLD_EDB_LEN 75497472u

/* The steps of a run that goes through, in order. */
static const char *const full_steps[] = {
    "stop wuauserv",
    "wait for wuauserv to stop",
    "stop BITS",
    "wait for BITS to stop",
    RENAME,
    "start BITS",
    "wait for BITS to run",
    "start wuauserv",
    "wait for wuauserv to run",
    "IAutomaticUpdates::DetectNow",
};

#define N_FULL (sizeof(full_steps) / sizeof(full_steps[0]))

static cJSON *
file_of(cJSON *doc, const char *path)
{
	cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "files"), path);

	cr_assert_not_null(f, "no files.%s", path);
	return f;
}

static void
run(struct host *h, bool dry, struct action_result *a)
{
	fx_run_action(&action_reset_store, h, dry, a);
}

/* The first n steps of a full run, each with status st. */
static void
assert_full_steps(const struct action_result *a, size_t n, enum step_status st)
{
	fx_assert_steps(a, full_steps, n, st);
}

/* SD.wsusdiag-YYYYMMDDTHHMMSSZ, and a suffix when asked. */
static void
assert_backup_name(const char *path, const char *suffix)
{
	const char *p = SD ".wsusdiag-", *st;

	cr_assert_eq(strncmp(path, p, strlen(p)), 0, "backup is %s", path);
	st = path + strlen(p);
	cr_assert_eq(strspn(st, "0123456789"), 8, "stamp %s", st);
	cr_assert_eq(st[8], 'T');
	cr_assert_eq(strspn(st + 9, "0123456789"), 6, "stamp %s", st);
	cr_assert_eq(st[15], 'Z');
	cr_assert_str_eq(st + 16, suffix);
}

static enum status
check_store_on(struct host *h, const char *finding, enum status *fst)
{
	return fx_check_status(&check_store, h, finding, fst);
}

static uint64_t
size_of(struct host *h, const char *path)
{
	struct file_info fi = {0};

	cr_assert_eq(h->ops->file_stat(h, path, &fi), HR_OK, "stat %s", path);
	return fi.size;
}

static bool
exists(struct host *h, const char *path)
{
	struct file_info fi = {0};

	return h->ops->file_stat(h, path, &fi) == HR_OK;
}

Test(reset_store, descriptor)
{
	cr_assert_eq(action_find("reset-store"), &action_reset_store);
	cr_assert_str_eq(action_reset_store.target, "store");
	cr_assert_str_eq(action_reset_store.also_locks[0], "wuauserv");
	cr_assert_str_eq(action_reset_store.also_locks[1], "bits");
	cr_assert_null(action_reset_store.also_locks[2]);
	cr_assert_str_eq(action_reset_store.verify_check, "store");
	for (size_t i = 0; i < N_FULL; i++)
		cr_assert_str_eq(
		    action_reset_store.steps[i],
		    i == 4 ? "rename %SystemRoot%\\SoftwareDistribution"
			   : full_steps[i]);
	cr_assert_str_eq(action_reset_store.steps[12],
			 "UsoClient StartScan (Windows 10 and later, when the "
			 "API fails)");
	cr_assert_null(action_reset_store.steps[13]);
}

Test(reset_store, rebuilds_a_store_without_its_database)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("store-datastore-missing.json"));
	struct action_result a;
	enum status fst = ST_SKIP;
	const char *bk;
	char *p;

	cr_assert_eq(check_store_on(h, "store.datastore", &fst), ST_FAIL);
	cr_assert_eq(fst, ST_FAIL);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, N_FULL);
	assert_full_steps(&a, N_FULL, STEP_OK);
	fx_assert_detail(&a, 0,
			 "stop requested (wuauserv was running, pid 3896)");
	fx_assert_detail(&a, 1, "wuauserv is stopped");
	fx_assert_detail(&a, 2, "stop requested (BITS was running, pid 2412)");
	fx_assert_detail(&a, 5, "start requested");
	bk = cJSON_GetStringValue(cJSON_GetObjectItem(a.backup, "path"));
	cr_assert_not_null(bk);
	assert_backup_name(bk, "");
	p = xasprintf("-> %s", bk);
	fx_assert_detail(&a, 4, p);
	free(p);
	/* The old store is kept whole under its new name. */
	p = xasprintf("%s\\Download", bk);
	cr_assert(exists(h, p));
	free(p);
	/* wuauserv built a new one when it started. */
	cr_assert_gt(size_of(h, SD EDB), 0);
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_RUNNING);
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_RUNNING);
	cr_assert_eq(a.n_changes, 2);
	cr_assert_str_eq(a.changes[0].what, "update detection and reporting");
	cr_assert_str_eq(a.changes[1].what, "store folder");
	cr_assert_str_eq(a.changes[1].before, SD);
	cr_assert_str_eq(a.changes[1].after, bk);
	cr_assert_eq(check_store_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, a_missing_store_is_built_by_starting_wuauserv)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("store-missing.json"));
	struct action_result a;
	enum status fst = ST_SKIP;

	cr_assert_eq(check_store_on(h, "store.folder", &fst), ST_FAIL);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, N_FULL);
	fx_assert_step(&a, 4, RENAME, STEP_SKIPPED, HR_OK);
	fx_assert_detail(&a, 4,
			 SD " does not exist: there is no store to set aside; "
			    "wuauserv creates a new one when it starts");
	cr_assert_null(a.backup);
	cr_assert_eq(a.n_changes, 1);
	cr_assert_eq(check_store_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, dry_run_plans_and_changes_nothing)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("store-datastore-missing.json"));
	struct action_result a;

	fx_run_dry(&action_reset_store, h, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	cr_assert_eq(a.n_steps, N_FULL);
	assert_full_steps(&a, N_FULL, STEP_PLANNED);
	fx_assert_detail(&a, 0, "would stop wuauserv (now running, pid 3896)");
	fx_assert_detail(&a, 1, "would wait up to 300 ms for wuauserv to stop");
	fx_assert_detail(&a, 5, "would start BITS");
	fx_assert_detail_has(&a, 4, "would rename it -> " SD ".wsusdiag-");
	cr_assert_null(a.backup);
	cr_assert_eq(a.n_changes, 2);
	cr_assert_str_eq(a.changes[0].what, "update detection and reporting");
	cr_assert_str_eq(a.changes[1].what, "store folder");
	cr_assert_str_eq(a.changes[1].before, SD);
	assert_backup_name(a.changes[1].after, "");
	action_result_clear(&a);
	host_close(h);
}

/* UTC "YYYYMMDDTHHMMSSZ" of now + ahead seconds, as plat_utc_stamp. */
static void
stamp_at(time_t ahead, char out[17])
{
	time_t t = time(NULL) + ahead;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static void
add_dir(cJSON *doc, const char *path)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", "dir");
	cJSON_AddItemToObject(cJSON_GetObjectItem(doc, "files"), path, e);
}

Test(reset_store, a_taken_backup_name_gets_the_next_number)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	char st[2][17], *p;
	struct host *h;
	const char *bk;

	/* This second and the next: the action reads the clock after. */
	stamp_at(0, st[0]);
	stamp_at(1, st[1]);
	for (int i = 0; i < 2; i++) {
		p = xasprintf(SD ".wsusdiag-%s", st[i]);
		add_dir(doc, p);
		free(p);
		p = xasprintf(SD ".wsusdiag-%s-2", st[i]);
		add_dir(doc, p);
		free(p);
	}
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	bk = cJSON_GetStringValue(cJSON_GetObjectItem(a.backup, "path"));
	cr_assert_not_null(bk);
	assert_backup_name(bk, "-3");
	p = xasprintf("%s" EDB, bk);
	cr_assert_eq(size_of(h, p), OLD_EDB_LEN);
	free(p);
	action_result_clear(&a);
	host_close(h);
}

/* A failed rename: services back, host as it was but for the pids. */
static void
assert_rename_rolled_back(cJSON *doc, hr_t want, const char *words)
{
	struct host *h = fx_open_doc_take(doc);
	cJSON *before = fx_snapshot_no_pids(h);
	struct action_result a;

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 7);
	assert_full_steps(&a, 4, STEP_OK);
	fx_assert_step(&a, 4, RENAME, STEP_FAILED, want);
	fx_assert_detail_has(&a, 4, words);
	fx_assert_detail_has(&a, 4, "it is left in place");
	fx_assert_step(&a, 5, "start BITS again", STEP_UNDONE, HR_OK);
	fx_assert_detail_has(&a, 5, "BITS is running (pid ");
	fx_assert_step(&a, 6, "start wuauserv again", STEP_UNDONE, HR_OK);
	cr_assert_null(a.backup);
	cr_assert_eq(a.n_changes, 0);
	fx_assert_same_doc(before, fx_snapshot_no_pids(h));
	cr_assert_eq(size_of(h, SD EDB), OLD_EDB_LEN);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, folder_in_use_is_rolled_back)
{
	cJSON *doc = fx_load_example("healthy.json");

	/* A process other than the two services holds the database. */
	fx_set_sub(file_of(doc, SD EDB), "fault", "rename",
		   cJSON_CreateNumber(32));
	assert_rename_rolled_back(doc, 0x80070020u, "is in use (0x80070020");
}

Test(reset_store, access_denied_is_rolled_back)
{
	cJSON *doc = fx_load_example("healthy.json");

	fx_set_sub(doc, "fault", "rename", cJSON_CreateNumber(5));
	assert_rename_rolled_back(doc, 0x80070005u,
				  "was refused (0x80070005, access denied)");
}

Test(reset_store, stop_wuauserv_fails_and_nothing_changes)
{
	struct action_result a;
	struct host *h = fx_open_service_fault("healthy.json", "wuauserv",
					       "stop", cJSON_CreateNumber(5));

	fx_run_failing_first(&action_reset_store, h, false, "stop wuauserv",
			     0x80070005u, &a);
	fx_assert_detail(&a, 0,
			 "could not stop wuauserv (0x80070005); it is left "
			 "running");
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, disabled_wuauserv_changes_nothing)
{
	struct host *h =
	    fx_open_doc_take(fx_load_example("wuauserv-stopped-disabled.json"));
	struct action_result a;

	fx_run_failing_first(&action_reset_store, h, false, "stop wuauserv",
			     0x80070422u, &a);
	fx_assert_detail_has(&a, 0,
			     "nothing was changed: wuauserv builds the new "
			     "store when it starts, and it cannot start");
	fx_assert_detail_has(&a, 0, "sc config wuauserv start= demand");
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, wuauserv_that_does_not_stop_is_reported)
{
	struct action_result a;
	struct host *h = fx_open_service_fault("healthy.json", "wuauserv",
					       "hang_stop", cJSON_CreateTrue());

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 3);
	fx_assert_step(&a, 0, "stop wuauserv", STEP_OK, HR_OK);
	fx_assert_step(&a, 1, "wait for wuauserv to stop", STEP_FAILED,
		       0x8007041Du);
	fx_assert_detail(&a, 1,
			 "wuauserv did not stop within 300 ms (now "
			 "stop_pending); a stop request cannot be withdrawn");
	/* Its undo waits for the stop first, which never ends. */
	fx_assert_step(&a, 2, "start wuauserv again", STEP_FAILED, 0x8007041Du);
	fx_assert_detail_has(&a, 2,
			     "was stopping and did not stop within 300 ms");
	cr_assert(exists(h, SD EDB));
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_RUNNING);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, stop_bits_fails_and_wuauserv_is_started_again)
{
	struct action_result a;
	struct host *h = fx_open_service_fault("healthy.json", "BITS", "stop",
					       cJSON_CreateNumber(1051));
	cJSON *before = fx_snapshot_no_pids(h);

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 4);
	assert_full_steps(&a, 2, STEP_OK);
	fx_assert_step(&a, 2, "stop BITS", STEP_FAILED, 0x8007041Bu);
	fx_assert_step(&a, 3, "start wuauserv again", STEP_UNDONE, HR_OK);
	fx_assert_same_doc(before, fx_snapshot_no_pids(h));
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, bits_that_does_not_stop_is_reported)
{
	struct action_result a;
	struct host *h = fx_open_service_fault("healthy.json", "BITS",
					       "hang_stop", cJSON_CreateTrue());

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 6);
	assert_full_steps(&a, 3, STEP_OK);
	fx_assert_step(&a, 3, "wait for BITS to stop", STEP_FAILED,
		       0x8007041Du);
	fx_assert_step(&a, 4, "start BITS again", STEP_FAILED, 0x8007041Du);
	fx_assert_step(&a, 5, "start wuauserv again", STEP_UNDONE, HR_OK);
	cr_assert_eq(size_of(h, SD EDB), OLD_EDB_LEN);
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_RUNNING);
	action_result_clear(&a);
	host_close(h);
}

/* A failure after the rename: the old store back, wuauserv again. */
static void
assert_store_put_back(const struct action_result *a, size_t i)
{
	cr_assert_not_null(a->steps[i].name);
	cr_assert_eq(strncmp(a->steps[i].name, RENAME ".wsusdiag-",
			     strlen(RENAME ".wsusdiag-")),
		     0, "step %zu is %s", i, a->steps[i].name);
	cr_assert_str_eq(a->steps[i].name + strlen(a->steps[i].name) - 5,
			 " back");
	cr_assert_eq(a->steps[i].status, STEP_UNDONE, "%s", a->steps[i].detail);
	fx_assert_detail(a, i, "the old store is back at " SD);
	cr_assert_null(a->backup);
}

Test(reset_store, start_bits_fails_and_the_store_is_put_back)
{
	struct action_result a;
	struct host *h = fx_open_service_fault("healthy.json", "BITS", "start",
					       cJSON_CreateNumber(5));

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 8);
	assert_full_steps(&a, 5, STEP_OK);
	fx_assert_step(&a, 5, "start BITS", STEP_FAILED, 0x80070005u);
	fx_assert_detail(
	    &a, 5, "could not start BITS (0x80070005); it is left stopped");
	assert_store_put_back(&a, 6);
	/* BITS's own start failed: it is not tried twice. */
	fx_assert_step(&a, 7, "start wuauserv again", STEP_UNDONE, HR_OK);
	cr_assert_eq(size_of(h, SD EDB), OLD_EDB_LEN);
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_STOPPED);
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, "BITS state");
	cr_assert_str_eq(a.changes[0].after, "stopped");
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, bits_that_does_not_run_puts_the_store_back)
{
	struct action_result a;
	struct host *h = fx_open_service_fault(
	    "healthy.json", "BITS", "hang_start", cJSON_CreateTrue());

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 9);
	assert_full_steps(&a, 6, STEP_OK);
	fx_assert_step(&a, 6, "wait for BITS to run", STEP_FAILED, 0x8007041Du);
	assert_store_put_back(&a, 7);
	fx_assert_step(&a, 8, "start wuauserv again", STEP_UNDONE, HR_OK);
	cr_assert_eq(size_of(h, SD EDB), OLD_EDB_LEN);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, start_wuauserv_fails_and_the_store_is_put_back)
{
	struct action_result a;
	struct host *h = fx_open_service_fault(
	    "healthy.json", "wuauserv", "start", cJSON_CreateNumber(1053));

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 9);
	assert_full_steps(&a, 7, STEP_OK);
	fx_assert_step(&a, 7, "start wuauserv", STEP_FAILED, 0x8007041Du);
	assert_store_put_back(&a, 8);
	cr_assert_eq(size_of(h, SD EDB), OLD_EDB_LEN);
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_RUNNING);
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_STOPPED);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, wuauserv_that_does_not_run_puts_the_store_back)
{
	struct action_result a;
	struct host *h = fx_open_service_fault(
	    "healthy.json", "wuauserv", "hang_start", cJSON_CreateTrue());

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 10);
	assert_full_steps(&a, 8, STEP_OK);
	fx_assert_step(&a, 8, "wait for wuauserv to run", STEP_FAILED,
		       0x8007041Du);
	fx_assert_detail(&a, 8,
			 "wuauserv did not reach running within 300 ms (now "
			 "start_pending)");
	assert_store_put_back(&a, 9);
	cr_assert_eq(size_of(h, SD EDB), OLD_EDB_LEN);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, a_failed_detection_keeps_the_new_store)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;
	const char *bk;

	/* No agent API and no UsoClient: nothing can trigger a scan. */
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
	bk = cJSON_GetStringValue(cJSON_GetObjectItem(a.backup, "path"));
	cr_assert_not_null(bk);
	cr_assert(exists(h, bk));
	cr_assert_eq(size_of(h, SD EDB), 1048576u);
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_RUNNING);
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, services_that_were_stopped_stay_as_they_were)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;

	fx_set_item(fx_service_of(doc, "wuauserv"), "state",
		    cJSON_CreateString("stopped"));
	fx_set_item(fx_service_of(doc, "BITS"), "state",
		    cJSON_CreateString("stopped"));
	h = fx_open_doc_take(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, N_FULL);
	fx_assert_step(&a, 0, "stop wuauserv", STEP_SKIPPED, HR_OK);
	fx_assert_detail(&a, 0, "wuauserv is already stopped");
	fx_assert_step(&a, 1, "wait for wuauserv to stop", STEP_SKIPPED, HR_OK);
	fx_assert_step(&a, 2, "stop BITS", STEP_SKIPPED, HR_OK);
	fx_assert_step(&a, 3, "wait for BITS to stop", STEP_SKIPPED, HR_OK);
	fx_assert_step(&a, 4, RENAME, STEP_OK, HR_OK);
	fx_assert_step(&a, 5, "start BITS", STEP_SKIPPED, HR_OK);
	fx_assert_detail(&a, 5,
			 "BITS was stopped before this action, which did not "
			 "stop it: it is left as it was");
	fx_assert_step(&a, 6, "wait for BITS to run", STEP_SKIPPED, HR_OK);
	/* wuauserv is started all the same: it builds the new store. */
	fx_assert_step(&a, 7, "start wuauserv", STEP_OK, HR_OK);
	fx_assert_step(&a, 8, "wait for wuauserv to run", STEP_OK, HR_OK);
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_STOPPED);
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_RUNNING);
	cr_assert_eq(a.n_changes, 3);
	cr_assert_str_eq(a.changes[2].what, "wuauserv state");
	cr_assert_str_eq(a.changes[2].before, "stopped");
	cr_assert_str_eq(a.changes[2].after, "running");
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, a_running_but_disabled_bits_is_not_stopped)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;
	cJSON *before;

	fx_set_item(fx_service_of(doc, "BITS"), "start_type",
		    cJSON_CreateString("disabled"));
	h = fx_open_doc_take(doc);
	before = fx_snapshot_no_pids(h);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 4);
	fx_assert_step(&a, 2, "stop BITS", STEP_FAILED, 0x80070422u);
	fx_assert_detail_has(&a, 2,
			     "BITS is running but could not be started again, "
			     "so it is left running");
	fx_assert_detail_has(&a, 2, "sc config BITS start= delayed-auto");
	fx_assert_step(&a, 3, "start wuauserv again", STEP_UNDONE, HR_OK);
	fx_assert_same_doc(before, fx_snapshot_no_pids(h));
	action_result_clear(&a);
	host_close(h);
}

Test(reset_store, a_dry_run_that_would_fail_undoes_nothing)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct action_result a;
	struct host *h;

	fx_set_item(fx_service_of(doc, "BITS"), "start_type",
		    cJSON_CreateString("disabled"));
	h = fx_open_doc_take(doc);
	fx_run_dry(&action_reset_store, h, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 3);
	fx_assert_step(&a, 0, "stop wuauserv", STEP_PLANNED, HR_OK);
	fx_assert_step(&a, 1, "wait for wuauserv to stop", STEP_PLANNED, HR_OK);
	fx_assert_step(&a, 2, "stop BITS", STEP_FAILED, 0x80070422u);
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}

static enum status
finding_status(struct host *h, const char *id)
{
	enum status st = ST_SKIP;

	check_store_on(h, id, &st);
	return st;
}

/* "YYYY-MM-DDTHH:MM:SSZ" of t. */
static void
utc_iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	cr_assert_not_null(gmtime_r(&tt, &tm));
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The log is not part of the store: the errors it holds were written
 * before the rebuild (2026-11-21) and predate the new store, so the
 * verification (the store check) passes. Before store.errors knew the
 * store's age they failed it after a good rebuild.
 */
Test(reset_store, errors_logged_before_the_rebuild_are_set_aside)
{
	struct host *h = fx_open_example("store-errors-in-log.json");
	char iso[32], *want;
	struct check_ctx ctx = {.host = h, .settings = &fx_short_waits};
	struct action_result a;
	struct check_result r;
	struct file_info fi = {0};
	const struct finding *f;
	int64_t t0, t1;

	cr_assert_eq(finding_status(h, "store.errors"), ST_FAIL);
	t0 = fx_unix_now();
	run(h, false, &a);
	t1 = fx_unix_now();
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(h->ops->file_stat(h, SD, &fi), HR_OK);
	cr_assert(fi.created >= t0 && fi.created <= t1, "created %lld",
		  (long long)fi.created);
	check_run(&check_store, &ctx, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_PASS);
	utc_iso(fi.created, iso);
	want = xasprintf("no data store errors in the 15 lines of "
			 "WindowsUpdate.log read or in the event logs; 5 "
			 "older store errors (5 in WindowsUpdate.log, 0 in "
			 "the event logs) predate the current store (created "
			 "%s) and are ignored",
			 iso);
	cr_assert_str_eq(f->message, want);
	free(want);
	result_clear(&r);
	action_result_clear(&a);
	host_close(h);
}
