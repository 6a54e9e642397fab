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

#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/host_sim.h"

/* Short waits: a hung start must time out quickly. */
static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static cJSON *
load_example(const char *name)
{
	const char *dir = getenv("WSUSDIAG_SOURCE_DIR");
	char *path, *text;
	FILE *fp;
	cJSON *doc;
	long len;

	cr_assert_not_null(dir, "WSUSDIAG_SOURCE_DIR is not set (run ctest)");
	path = xasprintf("%s/examples/hosts/%s", dir, name);
	fp = fopen(path, "rb");
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

/* A private copy of the host in a temporary file; writeback off. */
static struct host *
open_doc(cJSON *doc)
{
	char path[] = "/tmp/wsd-test-startwu-XXXXXX";
	char err[256] = "";
	char *text = cJSON_Print(doc);
	int fd = mkstemp(path);
	struct host *h;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	h = host_sim_open(path, false, err, sizeof(err));
	cr_assert_not_null(h, "host_sim_open: %s", err);
	unlink(path);
	free(text);
	cJSON_Delete(doc);
	return h;
}

static cJSON *
service_of(cJSON *doc, const char *name)
{
	cJSON *svc =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"), name);

	cr_assert_not_null(svc, "no services.%s", name);
	return svc;
}

static void
set_item(cJSON *obj, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObject(obj, key);
	cJSON_AddItemToObject(obj, key, v);
}

static void
set_fault(cJSON *svc, const char *key, cJSON *v)
{
	cJSON *fault = cJSON_GetObjectItem(svc, "fault");

	if (fault == NULL)
		fault = cJSON_AddObjectToObject(svc, "fault");
	set_item(fault, key, v);
}

static void
run(struct host *h, bool dry, struct action_result *a)
{
	struct action_ctx ctx = {
	    .host = h, .settings = &settings, .dry_run = dry};

	action_result_init(a, action_start_wuauserv.id, dry);
	action_start_wuauserv.run(&ctx, a);
}

static void
assert_step(const struct action_result *a, size_t i, const char *name,
	    enum step_status st, hr_t error)
{
	cr_assert_lt(i, a->n_steps, "no step %zu", i);
	cr_assert_str_eq(a->steps[i].name, name);
	cr_assert_eq(a->steps[i].status, st, "step \"%s\" is %s: %s", name,
		     step_status_name(a->steps[i].status),
		     a->steps[i].detail ? a->steps[i].detail : "");
	cr_assert_eq(a->steps[i].error, error, "step \"%s\" error 0x%08X", name,
		     a->steps[i].error);
}

static void
assert_detail_has(const struct action_result *a, size_t i, const char *part)
{
	cr_assert_not_null(a->steps[i].detail);
	cr_assert_not_null(strstr(a->steps[i].detail, part),
			   "\"%s\" not in \"%s\"", part, a->steps[i].detail);
}

/* Run the wuauserv check; the status, and of one finding when asked. */
static enum status
check_wuauserv_on(struct host *h, const char *finding, enum status *fst)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};
	struct check_result r;
	enum status st;
	bool seen = false;

	check_run(&check_wuauserv, &ctx, &r);
	for (size_t i = 0; finding != NULL && i < r.n_findings; i++) {
		if (strcmp(r.findings[i].id, finding) == 0) {
			*fst = r.findings[i].status;
			seen = true;
		}
	}
	cr_assert(finding == NULL || seen, "no finding %s", finding);
	st = r.status;
	result_clear(&r);
	return st;
}

static enum svc_state
state_of(struct host *h, const char *name)
{
	struct svc_status st = {0};

	cr_assert_eq(h->ops->service_status(h, name, &st), HR_OK);
	return st.state;
}

static void
assert_unchanged(struct host *h, cJSON *before)
{
	cJSON *after = host_sim_snapshot(h);

	cr_assert(cJSON_Compare(before, after, true), "the host changed");
	cJSON_Delete(before);
	cJSON_Delete(after);
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
	struct host *h = open_doc(load_example("wuauserv-stopped-error.json"));
	struct action_result a;
	enum status fst = ST_SKIP;

	cr_assert_eq(check_wuauserv_on(h, "wuauserv.state", &fst), ST_FAIL);
	cr_assert_eq(fst, ST_FAIL);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 2);
	assert_step(&a, 0, "start wuauserv", STEP_OK, HR_OK);
	cr_assert_str_eq(a.steps[0].detail, "start requested");
	assert_step(&a, 1, "wait for wuauserv to run", STEP_OK, HR_OK);
	assert_detail_has(&a, 1, "wuauserv is running (pid ");
	cr_assert_eq(a.n_changes, 1);
	cr_assert_str_eq(a.changes[0].what, "wuauserv state");
	cr_assert_str_eq(a.changes[0].before, "stopped");
	cr_assert_str_eq(a.changes[0].after, "running");
	cr_assert_null(a.backup);
	cr_assert_eq(state_of(h, "wuauserv"), SVC_RUNNING);
	cr_assert_eq(check_wuauserv_on(h, NULL, NULL), ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, dry_run_plans_and_changes_nothing)
{
	struct host *h = open_doc(load_example("wuauserv-stopped-error.json"));
	cJSON *before = host_sim_snapshot(h);
	struct action_result a;

	run(h, true, &a);
	cr_assert_eq(a.status, ACT_PLANNED);
	cr_assert_eq(a.n_steps, 2);
	assert_step(&a, 0, "start wuauserv", STEP_PLANNED, HR_OK);
	cr_assert_str_eq(a.steps[0].detail, "would start wuauserv");
	assert_step(&a, 1, "wait for wuauserv to run", STEP_PLANNED, HR_OK);
	cr_assert_str_eq(a.steps[1].detail,
			 "would wait up to 300 ms for wuauserv to run");
	cr_assert_eq(a.n_changes, 0);
	assert_unchanged(h, before);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, running_service_is_skipped_with_the_reason)
{
	struct host *h = open_doc(load_example("healthy.json"));
	cJSON *before = host_sim_snapshot(h);
	struct action_result a;

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_OK);
	cr_assert_eq(a.n_steps, 2);
	assert_step(&a, 0, "start wuauserv", STEP_SKIPPED, HR_OK);
	cr_assert_str_eq(a.steps[0].detail,
			 "wuauserv is already running (pid 3896): nothing to "
			 "start");
	assert_step(&a, 1, "wait for wuauserv to run", STEP_SKIPPED, HR_OK);
	cr_assert_str_eq(a.steps[1].detail, "wuauserv was not started");
	cr_assert_eq(a.n_changes, 0);
	assert_unchanged(h, before);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, disabled_fails_and_leaves_the_start_type)
{
	struct host *h =
	    open_doc(load_example("wuauserv-stopped-disabled.json"));
	cJSON *before = host_sim_snapshot(h);
	struct action_result a;
	struct svc_config c = {0};

	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x80070422u);
	assert_detail_has(&a, 0, "0x80070422, ERROR_SERVICE_DISABLED");
	assert_detail_has(&a, 0,
			  "This action does not change the start "
			  "type");
	assert_detail_has(&a, 0, "sc config wuauserv start= demand");
	cr_assert_eq(a.n_changes, 0);
	assert_unchanged(h, before);
	cr_assert_eq(h->ops->service_config(h, "wuauserv", &c), HR_OK);
	cr_assert_eq(c.start_type, SVC_DISABLED);
	svc_config_clear(&c);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, dry_run_of_a_disabled_service_says_it_would_fail)
{
	struct host *h =
	    open_doc(load_example("wuauserv-stopped-disabled.json"));
	cJSON *before = host_sim_snapshot(h);
	struct action_result a;

	run(h, true, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x80070422u);
	assert_unchanged(h, before);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, start_fault_fails_the_start_step)
{
	cJSON *doc = load_example("wuauserv-stopped-error.json");
	struct action_result a;
	struct host *h;
	cJSON *before;

	set_fault(service_of(doc, "wuauserv"), "start", cJSON_CreateNumber(5));
	h = open_doc(doc);
	before = host_sim_snapshot(h);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x80070005u);
	cr_assert_str_eq(a.steps[0].detail,
			 "could not start wuauserv (0x80070005); it is left "
			 "stopped");
	cr_assert_eq(a.n_changes, 0);
	assert_unchanged(h, before);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, a_dependency_that_cannot_start_is_its_code)
{
	cJSON *doc = load_example("wuauserv-stopped-error.json");
	cJSON *rpc = service_of(doc, "RpcSs");
	struct action_result a;
	struct host *h;

	/* Stopped and unable to start: the SCM's 1068. */
	set_item(rpc, "state", cJSON_CreateString("stopped"));
	set_fault(rpc, "start", cJSON_CreateNumber(1053));
	h = open_doc(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x8007042Cu);
	cr_assert_str_eq(a.steps[0].detail,
			 "could not start wuauserv (0x8007042C); it is left "
			 "stopped");
	cr_assert_eq(state_of(h, "wuauserv"), SVC_STOPPED);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, hung_start_fails_the_wait_with_the_timeout)
{
	cJSON *doc = load_example("wuauserv-stopped-error.json");
	struct action_result a;
	struct host *h;

	set_fault(service_of(doc, "wuauserv"), "hang_start",
		  cJSON_CreateTrue());
	h = open_doc(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 2);
	assert_step(&a, 0, "start wuauserv", STEP_OK, HR_OK);
	assert_step(&a, 1, "wait for wuauserv to run", STEP_FAILED,
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
	cJSON *doc = load_example("wuauserv-stopped-error.json");
	struct action_result a;
	struct host *h;

	/* svchost has nothing to load: the SCM's 2. */
	cJSON_DeleteItemFromObject(
	    cJSON_GetObjectItem(doc, "registry"),
	    "HKLM\\SYSTEM\\CurrentControlSet\\Services\\wuauserv\\Parameters");
	h = open_doc(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x80070002u);
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, a_service_found_stopping_is_waited_for_first)
{
	cJSON *doc = load_example("healthy.json");
	struct action_result a;
	struct host *h;

	/* A pending state in the file stays: a stop that never ends. */
	set_item(service_of(doc, "wuauserv"), "state",
		 cJSON_CreateString("stop_pending"));
	h = open_doc(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x8007041Du);
	cr_assert_str_eq(a.steps[0].detail,
			 "wuauserv was stopping and did not stop within 300 "
			 "ms (now stop_pending): it cannot be started before");
	action_result_clear(&a);
	host_close(h);
}

Test(start_wuauserv, missing_service_is_1060)
{
	cJSON *doc = load_example("healthy.json");
	struct action_result a;
	struct host *h;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "wuauserv");
	h = open_doc(doc);
	run(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	cr_assert_eq(a.n_steps, 1);
	assert_step(&a, 0, "start wuauserv", STEP_FAILED, 0x80070424u);
	cr_assert_str_eq(a.steps[0].detail,
			 "wuauserv does not exist (0x80070424)");
	action_result_clear(&a);
	host_close(h);
}
