/*
 * test_check_bits_jobs.c: the bits-jobs check on simulated hosts: the
 * example per row of "BITS jobs are failing", the error-event example,
 * and healthy.json with its jobs, events or faults changed.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/errors.h"
#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"

#define BITS_LOG "Microsoft-Windows-Bits-Client/Operational"
#define WSUS_URL                                                               \
	"http://wsus.corp.example:8530/Content/7C/"                            \
	"2B9E4F1A6D3C8E05B7A9F1D3C5E7092B4D6F817C.cab"
#define LOB_URL "http://apps.corp.example/packages/ContosoLobAgent-4.2.1.msi"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static void
run_check(const struct check *c, struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(c, &ctx, r);
}

static void
run_example(const char *name, struct check_result *r)
{
	struct host *h = fx_open_example(name);

	run_check(&check_bits_jobs, h, r);
	host_close(h);
}

static void
run_doc(const cJSON *doc, struct check_result *r)
{
	struct host *h = fx_open_doc(doc);

	run_check(&check_bits_jobs, h, r);
	host_close(h);
}

static size_t
count(const struct check_result *r, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_findings; i++)
		n += strcmp(r->findings[i].id, id) == 0;
	return n;
}

static double
fact_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	cr_assert(cJSON_IsNumber(v), "%s is not a number", key);
	return v->valuedouble;
}

static const char *
fact_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	cr_assert(cJSON_IsString(v), "%s is not a string", key);
	return v->valuestring;
}

static const char *
advice(hr_t code)
{
	const struct error_info *ei = error_lookup(code);

	cr_assert_not_null(ei, "0x%08X is not in the knowledge base", code);
	return ei->advice;
}

/* ---- editing healthy.json ---------------------------------------------- */

static cJSON *
jobs_of(cJSON *doc)
{
	cJSON *jobs = cJSON_GetObjectItem(doc, "bits_jobs");

	cr_assert(cJSON_IsArray(jobs), "healthy.json has no bits_jobs");
	return jobs;
}

static cJSON *
add_job(cJSON *doc, const char *id, const char *state, const char *error)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddStringToObject(j, "name", "WU Client Download");
	cJSON_AddStringToObject(j, "owner", "NT AUTHORITY\\SYSTEM");
	cJSON_AddStringToObject(j, "url", WSUS_URL);
	cJSON_AddStringToObject(j, "state", state);
	if (error != NULL)
		cJSON_AddStringToObject(j, "error", error);
	cJSON_AddItemToArray(jobs_of(doc), j);
	return j;
}

static void
add_event(cJSON *doc, const char *log, int id, const char *level,
	  const char *time, const char *code)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "log", log);
	cJSON_AddNumberToObject(e, "id", id);
	cJSON_AddStringToObject(e, "level", level);
	cJSON_AddStringToObject(e, "time", time);
	if (code != NULL)
		cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", "test event");
	cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "events"), e);
}

static void
set_fault(cJSON *doc, const char *key, double code)
{
	cJSON *fault = cJSON_GetObjectItem(doc, "fault");

	if (fault == NULL)
		fault = cJSON_AddObjectToObject(doc, "fault");
	cJSON_DeleteItemFromObject(fault, key);
	cJSON_AddNumberToObject(fault, key, code);
}

/* ---- descriptor and healthy host --------------------------------------- */

Test(check_bits_jobs, descriptor)
{
	cr_assert_eq(check_find("bits-jobs"), &check_bits_jobs);
	cr_assert_str_eq(check_bits_jobs.id, "bits-jobs");
	cr_assert_str_eq(check_bits_jobs.title, "BITS transfer jobs");
	cr_assert_str_eq(check_bits_jobs.seed_section, "BITS jobs are failing");
	cr_assert_eq(check_bits_jobs.time_limit_ms, 15000);
}

Test(check_bits_jobs, healthy_passes)
{
	struct check_result r;
	const struct finding *f;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 1);
	f = fx_find(&r, "bits-jobs.job");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "1 BITS job looked at, none in an error state; no "
			 "BITS client errors in the 7 days up to "
			 "2026-11-21T09:13:02Z");
	cr_assert_eq(f->error, 0);
	cr_assert_eq(fact_num(r.facts, "jobs"), 1);
	cr_assert_eq(fact_num(r.facts, "jobs_error"), 0);
	cr_assert_eq(fact_num(r.facts, "jobs_transient_error"), 0);
	cr_assert_str_eq(fact_str(r.facts, "event_log"), BITS_LOG);
	/* Two BITS client records; the System and WU records are not. */
	cr_assert_eq(fact_num(r.facts, "events_read"), 2);
	cr_assert_eq(fact_num(r.facts, "error_events"), 0);
	cr_assert_str_eq(fact_str(r.facts, "events_since"),
			 "2026-11-14T09:13:02Z");
	result_clear(&r);
}

/* ---- one example per row of "BITS jobs are failing" -------------------- */

struct job_case {
	const char *file;
	hr_t code;
	enum status status;
	const char *id;
	const char *owner;
	const char *name;
	const char *url;
};

static const struct job_case job_cases[] = {
    {"bits-jobs-0x80070057.json", 0x80070057u, ST_FAIL,
     "{2E4A6C81-93B5-4D7F-8A1C-5E3B7D9F0A24}", "CORP\\jdoe",
     "Contoso LOB Agent Update", LOB_URL},
    {"bits-jobs-0x80072EE7.json", 0x80072EE7u, ST_FAIL,
     "{6F1B3D5A-7C9E-4B02-9D4F-1A3C5E7B9D68}", "NT AUTHORITY\\SYSTEM",
     "WU Client Download", WSUS_URL},
    {"bits-jobs-0x80072F78.json", 0x80072F78u, ST_WARN,
     "{A3C5E7B9-1D2F-4A6C-8E0B-3D5F7A9C1E42}", "NT AUTHORITY\\SYSTEM",
     "WU Client Download", WSUS_URL},
    {"bits-jobs-0x80200013.json", 0x80200013u, ST_FAIL,
     "{C1E3A5B7-9D0F-4C2E-A4B6-8D0F2A4C6E81}", "NT AUTHORITY\\SYSTEM",
     "WU Client Download", WSUS_URL},
    {"bits-jobs-0x80200011.json", 0x80200011u, ST_FAIL,
     "{D4F6A8C0-2B4D-4E6F-B8A0-C2E4F6A8B0D3}", "NT AUTHORITY\\SYSTEM",
     "WU Client Download", WSUS_URL},
    {"bits-jobs-0x80190193.json", 0x80190193u, ST_FAIL,
     "{E7A9C1D3-5F7B-4A9C-9E1D-3F5B7C9E1A57}", "NT AUTHORITY\\SYSTEM",
     "WU Client Download", WSUS_URL},
    {"bits-jobs-0x800704DD.json", 0x800704DDu, ST_FAIL,
     "{F0B2D4E6-8A0C-4E2A-A6C8-0E2A4C6E8A09}", "CORP\\jdoe",
     "Contoso LOB Agent Update", LOB_URL},
};

static void
assert_job_case(const struct job_case *c)
{
	const struct error_info *ei = error_lookup(c->code);
	struct check_result r;
	const struct finding *f;
	char code[11], *msg;

	cr_assert_not_null(ei, "%s: code not in the knowledge base", c->file);
	error_format(c->code, code);
	run_example(c->file, &r);
	cr_assert_eq(r.status, c->status, "%s: %s", c->file, r.summary);
	/* The healthy transferred job passes silently: one finding. */
	cr_assert_eq(r.n_findings, 1, "%s", c->file);
	f = fx_find(&r, "bits-jobs.job");
	cr_assert_eq(f->status, c->status, "%s", c->file);
	cr_assert_eq(f->error, c->code, "%s", c->file);
	cr_assert_str_eq(f->observed, "error", "%s", c->file);
	cr_assert_str_eq(f->remedy_text, ei->advice, "%s", c->file);
	cr_assert_null(f->remedy_action);
	if (c->status == ST_WARN)
		msg = xasprintf("BITS job \"%s\" of %s is in the error state "
				"with %s (%s), a transient error: the job "
				"will continue downloading",
				c->name, c->owner, ei->name, code);
	else
		msg = xasprintf("BITS job \"%s\" of %s is in the error state "
				"with %s (%s); BITS will not retry it",
				c->name, c->owner, ei->name, code);
	cr_assert_str_eq(f->message, msg, "%s", c->file);
	cr_assert_not_null(f->details);
	cr_assert_str_eq(fact_str(f->details, "job_id"), c->id);
	cr_assert_str_eq(fact_str(f->details, "name"), c->name);
	cr_assert_str_eq(fact_str(f->details, "owner"), c->owner);
	cr_assert_str_eq(fact_str(f->details, "url"), c->url);
	cr_assert_str_eq(fact_str(f->details, "state"), "error");
	cr_assert_str_eq(fact_str(f->details, "code"), code);
	cr_assert_eq(fact_num(r.facts, "jobs"), 2);
	cr_assert_eq(fact_num(r.facts, "jobs_error"), 1);
	cr_assert_eq(fact_num(r.facts, "jobs_transient_error"), 0);
	free(msg);
	result_clear(&r);
}

Test(check_bits_jobs, every_row_of_the_jobs_table)
{
	for (size_t i = 0; i < sizeof(job_cases) / sizeof(*job_cases); i++)
		assert_job_case(&job_cases[i]);
}

Test(check_bits_jobs, error_event_example_warns)
{
	struct check_result r;
	const struct finding *f;

	run_example("bits-jobs-error-event.json", &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 2);
	f = fx_find(&r, "bits-jobs.event");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0x80072EE7u);
	cr_assert_str_eq(f->message,
			 "the BITS client logged warning event 61 with "
			 "ERROR_WINHTTP_NAME_NOT_RESOLVED (0x80072EE7) at "
			 "2026-11-21T09:12:51Z (1 time since "
			 "2026-11-21T09:12:51Z)");
	cr_assert_str_eq(f->observed, "warning");
	cr_assert_str_eq(f->remedy_text, advice(0x80072EE7u));
	cr_assert_null(f->remedy_action);
	cr_assert_eq(fact_num(f->details, "event_id"), 61);
	cr_assert_eq(fact_num(f->details, "count"), 1);
	cr_assert_str_eq(fact_str(f->details, "log"), BITS_LOG);
	cr_assert_str_eq(fact_str(f->details, "code"), "0x80072EE7");
	cr_assert_str_eq(fact_str(f->details, "time"), "2026-11-21T09:12:51Z");
	cr_assert(strstr(fact_str(f->details, "message"),
			 "status code is 0x80072EE7") != NULL);
	/* The job part still reports that no job is failing. */
	f = fx_find(&r, "bits-jobs.job");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "1 BITS job looked at, none in an error state");
	cr_assert_eq(fact_num(r.facts, "error_events"), 1);
	result_clear(&r);
}

/* ---- job states -------------------------------------------------------- */

Test(check_bits_jobs, transient_error_state_warns)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	add_job(doc, "{11111111-2222-4333-8444-555555555555}",
		"transient_error", "0x80200013");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	f = fx_find(&r, "bits-jobs.job");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0x80200013u);
	cr_assert_str_eq(f->observed, "transient_error");
	cr_assert_str_eq(f->message,
			 "BITS job \"WU Client Download\" of NT "
			 "AUTHORITY\\SYSTEM is in a transient error state "
			 "with BG_E_INSUFFICIENT_RANGE_SUPPORT (0x80200013); "
			 "BITS retries it");
	cr_assert_str_eq(f->remedy_text, advice(0x80200013u));
	cr_assert_eq(fact_num(r.facts, "jobs_transient_error"), 1);
	cr_assert_eq(fact_num(r.facts, "jobs_error"), 0);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, error_without_code_and_unknown_code)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	add_job(doc, "{AAAAAAAA-0000-4000-8000-000000000001}", "error", NULL);
	add_job(doc, "{AAAAAAAA-0000-4000-8000-000000000002}", "error",
		"0x8020FFFF");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_eq(r.n_findings, 2);
	cr_assert_eq(r.findings[0].error, 0);
	cr_assert_str_eq(r.findings[0].message,
			 "BITS job \"WU Client Download\" of NT "
			 "AUTHORITY\\SYSTEM is in the error state with no "
			 "error code; BITS will not retry it");
	cr_assert_str_eq(
	    r.findings[0].remedy_text,
	    "bitsadmin /info {AAAAAAAA-0000-4000-8000-000000000001} "
	    "/verbose shows the job's error context; GET "
	    "/errors/0x00000000 decodes the code");
	cr_assert_eq(r.findings[1].status, ST_FAIL);
	cr_assert_eq(r.findings[1].error, 0x8020FFFFu);
	cr_assert(strstr(r.findings[1].message, "with 0x8020FFFF;") != NULL,
		  "%s", r.findings[1].message);
	cr_assert_str_eq(
	    r.findings[1].remedy_text,
	    "bitsadmin /info {AAAAAAAA-0000-4000-8000-000000000002} "
	    "/verbose shows the job's error context; GET "
	    "/errors/0x8020FFFF decodes the code");
	cr_assert_eq(fact_num(r.facts, "jobs_error"), 2);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, other_states_pass)
{
	static const char *const states[] = {
	    "queued",	   "connecting",   "transferring", "suspended",
	    "transferred", "acknowledged", "cancelled"};
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	char id[64];

	for (size_t i = 0; i < sizeof(states) / sizeof(*states); i++) {
		snprintf(id, sizeof(id), "{BBBBBBBB-0000-4000-8000-%012zu}", i);
		/* An old error code on a job that recovered is no fault. */
		add_job(doc, id, states[i], "0x80200013");
	}
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 1);
	cr_assert(strncmp(r.findings[0].message,
			  "8 BITS jobs looked at, none in an error state",
			  45) == 0,
		  "%s", r.findings[0].message);
	cr_assert_eq(fact_num(r.facts, "jobs"), 8);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, no_jobs_passes)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	cJSON_DeleteItemFromObject(doc, "bits_jobs");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_PASS);
	cr_assert(strncmp(r.findings[0].message,
			  "0 BITS jobs looked at, none in an error state",
			  45) == 0);
	cr_assert_eq(fact_num(r.facts, "jobs"), 0);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- the jobs could not be listed -------------------------------------- */

static void
assert_jobs_error(const struct check_result *r, hr_t code, const char *msg)
{
	const struct finding *f;

	cr_assert_eq(r->status, ST_ERROR, "summary: %s", r->summary);
	f = fx_find(r, "bits-jobs.job");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, code);
	cr_assert_str_eq(f->message, msg);
	cr_assert_eq(count(r, "bits-jobs.job"), 1);
	cr_assert_null(cJSON_GetObjectItem(r->facts, "jobs"));
	/* The events part still looked. */
	cr_assert_eq(fact_num(r->facts, "events_read"), 2);
}

Test(check_bits_jobs, bits_disabled_is_error)
{
	struct check_result r;

	run_example("broken-bits-disabled.json", &r);
	assert_jobs_error(&r, 0x80070422u,
			  "could not list the BITS jobs (0x80070422): BITS is "
			  "disabled");
	cr_assert_str_eq(fx_find(&r, "bits-jobs.job")->remedy_text,
			 advice(0x80070422u));
	result_clear(&r);
}

Test(check_bits_jobs, bits_missing_is_error)
{
	struct check_result r;

	run_example("broken-bits-missing.json", &r);
	assert_jobs_error(&r, 0x80040154u,
			  "could not list the BITS jobs (0x80040154): BITS is "
			  "not registered (no BITS job manager)");
	result_clear(&r);
}

Test(check_bits_jobs, enum_access_denied_is_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	set_fault(doc, "bits", 5);
	run_doc(doc, &r);
	assert_jobs_error(&r, 0x80070005u,
			  "could not list the BITS jobs (0x80070005)");
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- the events could not be read -------------------------------------- */

Test(check_bits_jobs, events_not_implemented_is_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	/* What Wine's EvtQuery answers. */
	set_fault(doc, "events", 120);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_ERROR);
	cr_assert_eq(r.n_findings, 2);
	f = fx_find(&r, "bits-jobs.event");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070078u);
	cr_assert_str_eq(f->message, "could not read the " BITS_LOG
				     " event log (0x80070078)");
	/* The jobs were looked at, and the pass says only that. */
	f = fx_find(&r, "bits-jobs.job");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "1 BITS job looked at, none in an error state");
	cr_assert_null(cJSON_GetObjectItem(r.facts, "events_read"));
	cr_assert_eq(fact_num(r.facts, "jobs"), 1);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, missing_log_is_skip)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	set_fault(doc, "events", 15007); /* ERROR_EVT_CHANNEL_NOT_FOUND */
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	f = fx_find(&r, "bits-jobs.event");
	cr_assert_eq(f->status, ST_SKIP);
	cr_assert_eq(f->error, 0x80073A9Fu);
	cr_assert(strstr(f->message, "no " BITS_LOG " event log") != NULL);
	cr_assert_eq(fx_find(&r, "bits-jobs.job")->status, ST_PASS);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, both_parts_fail_independently)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	set_fault(doc, "events", 5);
	add_job(doc, "{CCCCCCCC-0000-4000-8000-000000000001}", "error",
		"0x80190193");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_ERROR);
	cr_assert_eq(r.n_findings, 2);
	cr_assert_eq(fx_find(&r, "bits-jobs.job")->status, ST_FAIL);
	cr_assert_eq(fx_find(&r, "bits-jobs.job")->error, 0x80190193u);
	cr_assert_eq(fx_find(&r, "bits-jobs.event")->error, 0x80070005u);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- which events count ------------------------------------------------ */

Test(check_bits_jobs, levels_and_logs)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	/* Not counted: information with a code, a warning without one or
	 * with a success code, an error in another log. */
	add_event(doc, BITS_LOG, 60, "information", "2026-11-21T08:00:00Z",
		  "0x80200013");
	add_event(doc, BITS_LOG, 16, "warning", "2026-11-21T08:00:01Z", NULL);
	add_event(doc, BITS_LOG, 62, "warning", "2026-11-21T08:00:02Z",
		  "0x00240005");
	add_event(doc, "System", 7023, "error", "2026-11-21T08:00:03Z",
		  "0x80070422");
	/* Counted: a critical event without a code, an error with one. */
	add_event(doc, BITS_LOG, 16392, "critical", "2026-11-21T08:00:04Z",
		  NULL);
	add_event(doc, BITS_LOG, 64, "error", "2026-11-21T08:00:05Z",
		  "0x80070002");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	cr_assert_eq(count(&r, "bits-jobs.event"), 2);
	cr_assert_eq(fact_num(r.facts, "events_read"), 7);
	cr_assert_eq(fact_num(r.facts, "error_events"), 2);
	/* Newest first. */
	cr_assert_str_eq(r.findings[0].message,
			 "the BITS client logged error event 64 with "
			 "ERROR_FILE_NOT_FOUND (0x80070002) at "
			 "2026-11-21T08:00:05Z (1 time since "
			 "2026-11-21T08:00:05Z)");
	cr_assert_eq(r.findings[0].error, 0x80070002u);
	cr_assert_str_eq(r.findings[1].message,
			 "the BITS client logged critical event 16392 at "
			 "2026-11-21T08:00:04Z (1 time since "
			 "2026-11-21T08:00:04Z)");
	cr_assert_eq(r.findings[1].error, 0);
	cr_assert_str_eq(r.findings[1].remedy_text,
			 "read event 16392 in Event Viewer (Applications and "
			 "Services Logs, Microsoft, Windows, Bits-Client, "
			 "Operational)");
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, seven_day_window_before_newest)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	/* The newest record is 2026-11-21T09:13:02Z: the window starts
	 * exactly seven days earlier and includes its first second. */
	add_event(doc, BITS_LOG, 61, "error", "2026-11-14T09:13:02Z",
		  "0x80200011");
	add_event(doc, BITS_LOG, 61, "error", "2026-11-14T09:13:01Z",
		  "0x80190193");
	add_event(doc, BITS_LOG, 61, "error", "2026-10-01T00:00:00Z",
		  "0x80190193");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_WARN);
	cr_assert_eq(count(&r, "bits-jobs.event"), 1);
	f = fx_find(&r, "bits-jobs.event");
	cr_assert_eq(f->error, 0x80200011u);
	cr_assert_eq(fact_num(r.facts, "error_events"), 1);
	cr_assert_eq(fact_num(r.facts, "events_read"), 5);
	cr_assert_str_eq(fact_str(r.facts, "events_since"),
			 "2026-11-14T09:13:02Z");
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, window_follows_the_newest_record)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	/* A log whose last word is an old error still reports it. */
	cJSON_DeleteItemFromObject(doc, "events");
	cJSON_AddArrayToObject(doc, "events");
	add_event(doc, BITS_LOG, 61, "error", "2024-02-29T23:59:59Z",
		  "0x80200013");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_WARN);
	cr_assert_str_eq(fx_find(&r, "bits-jobs.event")->message,
			 "the BITS client logged error event 61 with "
			 "BG_E_INSUFFICIENT_RANGE_SUPPORT (0x80200013) at "
			 "2024-02-29T23:59:59Z (1 time since "
			 "2024-02-29T23:59:59Z)");
	cr_assert_str_eq(fact_str(r.facts, "events_since"),
			 "2024-02-22T23:59:59Z");
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, empty_log)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	cJSON_DeleteItemFromObject(doc, "events");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_PASS);
	cr_assert_str_eq(r.findings[0].message,
			 "1 BITS job looked at, none in an error state; the "
			 "BITS client log is empty");
	cr_assert_eq(fact_num(r.facts, "events_read"), 0);
	cr_assert_null(cJSON_GetObjectItem(r.facts, "events_since"));
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, repeated_events_are_grouped)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	add_event(doc, BITS_LOG, 61, "warning", "2026-11-20T10:00:00Z",
		  "0x80200013");
	add_event(doc, BITS_LOG, 61, "warning", "2026-11-21T07:00:00Z",
		  "0x80200013");
	add_event(doc, BITS_LOG, 61, "warning", "2026-11-19T01:02:03Z",
		  "0x80200013");
	add_event(doc, BITS_LOG, 61, "warning", "2026-11-20T11:00:00Z",
		  "0x80200011");
	run_doc(doc, &r);
	cr_assert_eq(count(&r, "bits-jobs.event"), 2);
	f = &r.findings[0];
	cr_assert_eq(f->error, 0x80200013u);
	cr_assert_str_eq(f->message,
			 "the BITS client logged warning event 61 with "
			 "BG_E_INSUFFICIENT_RANGE_SUPPORT (0x80200013) at "
			 "2026-11-21T07:00:00Z (3 times since "
			 "2026-11-19T01:02:03Z)");
	cr_assert_eq(fact_num(f->details, "count"), 3);
	cr_assert_str_eq(fact_str(f->details, "first_time"),
			 "2026-11-19T01:02:03Z");
	cr_assert_eq(r.findings[1].error, 0x80200011u);
	cr_assert_eq(fact_num(r.facts, "error_events"), 4);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_jobs, caps_on_read_and_reported)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	char when[32], code[11];

	/* 250 error records of 60 kinds (codes), one a second: the newest
	 * 200 are read (i = 50..249). Newest first, the first 50 kinds met
	 * are reported; kinds 10..19 come too late, 3 records each. */
	for (int i = 0; i < 250; i++) {
		snprintf(when, sizeof(when), "2026-11-22T%02d:%02d:%02dZ",
			 i / 3600, i / 60 % 60, i % 60);
		snprintf(code, sizeof(code), "0x802000%02X", 0x10 + i % 60);
		add_event(doc, BITS_LOG, 61, "error", when, code);
	}
	run_doc(doc, &r);
	cr_assert_eq(fact_num(r.facts, "events_read"), 200);
	cr_assert_eq(fact_num(r.facts, "error_events"), 200);
	cr_assert_eq(count(&r, "bits-jobs.event"), 50);
	cr_assert_eq(fact_num(r.facts, "error_events_not_reported"), 30);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- /report on the examples ------------------------------------------- */

static const struct {
	const char *file;
	enum status status;
} examples[] = {
    {"bits-jobs-0x80070057.json", ST_FAIL},
    {"bits-jobs-0x80072EE7.json", ST_FAIL},
    {"bits-jobs-0x80072F78.json", ST_WARN},
    {"bits-jobs-0x80200013.json", ST_FAIL},
    {"bits-jobs-0x80200011.json", ST_FAIL},
    {"bits-jobs-0x80190193.json", ST_FAIL},
    {"bits-jobs-0x800704DD.json", ST_FAIL},
    {"bits-jobs-error-event.json", ST_WARN},
};

Test(check_bits_jobs, report_fails_nothing_else)
{
	for (size_t i = 0; i < sizeof(examples) / sizeof(*examples); i++)
		fx_assert_only(examples[i].file, &settings, "bits-jobs",
			       examples[i].status);
}
