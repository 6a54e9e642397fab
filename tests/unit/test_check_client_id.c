/*
 * test_check_client_id.c: the client-id check on simulated hosts: the
 * example files, healthy.json with the id changed, and hosts whose
 * registry or computer identity cannot be read.
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
#include "platform/host.h"

#define WU_KEY                                                                 \
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate"
#define HEALTHY_ID "3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b47"
#define RESET_TEXT                                                             \
	"sc stop wuauserv; delete the SusClientId and SusClientIdValidation "  \
	"values under HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\"      \
	"CurrentVersion\\WindowsUpdate; sc start wuauserv; wuauclt "           \
	"/resetauthorization /detectnow; wuauclt /reportnow"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

/* ---- hosts ------------------------------------------------------------- */

static cJSON *
wu_key(cJSON *doc)
{
	cJSON *k =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), WU_KEY);

	cr_assert_not_null(k, "healthy.json has no %s", WU_KEY);
	return k;
}

/* ---- running and inspecting -------------------------------------------- */

static void
run_client_id(struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_client_id, &ctx, r);
}

static void
run_example(const char *name, struct check_result *r)
{
	struct host *h = fx_open_example(name);

	run_client_id(h, r);
	host_close(h);
}

static void
run_doc(const cJSON *doc, struct check_result *r)
{
	struct host *h = fx_open_doc(doc);

	run_client_id(h, r);
	host_close(h);
}

static void
assert_reset_remedy(const struct finding *f)
{
	cr_assert_str_eq(f->remedy_text, RESET_TEXT);
	if (action_find("reset-client-id") == NULL)
		cr_assert_null(f->remedy_action);
	else
		cr_assert_str_eq(f->remedy_action, "reset-client-id");
}

/* ---- descriptor and healthy -------------------------------------------- */

Test(check_client_id, descriptor)
{
	cr_assert_eq(check_find("client-id"), &check_client_id);
	cr_assert_str_eq(check_client_id.title, "WSUS client id");
	cr_assert_str_eq(check_client_id.seed_section,
			 "Check for clients with the same SUSclient ID");
	cr_assert_eq(check_client_id.time_limit_ms, 5000);
	/* Clones are found across machines; the description says so. */
	cr_assert_not_null(
	    strstr(check_client_id.description, "comparing the facts"));
}

Test(check_client_id, healthy_passes_every_finding)
{
	struct check_result r;
	const struct finding *f;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 2);
	cr_assert_str_eq(r.findings[0].id, "client-id.id");
	cr_assert_str_eq(r.findings[1].id, "client-id.validation");
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(r.findings[i].status, ST_PASS, "%s",
			     r.findings[i].message);
		cr_assert_eq(r.findings[i].error, 0);
	}
	f = fx_find(&r, "client-id.id");
	cr_assert_str_eq(f->observed, HEALTHY_ID);
	cr_assert_str_eq(fx_find(&r, "client-id.validation")->observed,
			 "REG_BINARY, 40 bytes");
	cr_assert_str_eq(fx_fact(&r, "sus_client_id")->valuestring, HEALTHY_ID);
	cr_assert_str_eq(fx_fact(&r, "computer_name")->valuestring, "PC-0042");
	cr_assert_str_eq(fx_fact(&r, "machine_guid")->valuestring,
			 "6d1e5a3c-2f4b-4c8d-9e7a-1b0c3d5e7f92");
	cr_assert_null(cJSON_GetObjectItem(r.facts, "computer_error"));
	result_clear(&r);
}

/* ---- the example hosts ------------------------------------------------- */

Test(check_client_id, missing)
{
	struct check_result r;
	const struct finding *f;

	run_example("client-id-missing.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "client-id.id");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->observed, "not set");
	assert_reset_remedy(f);
	cr_assert_eq(fx_find(&r, "client-id.validation")->status, ST_PASS);
	cr_assert(cJSON_IsNull(fx_fact(&r, "sus_client_id")));
	cr_assert_str_eq(fx_fact(&r, "computer_name")->valuestring, "PC-0042");
	result_clear(&r);
}

Test(check_client_id, malformed)
{
	struct check_result r;
	const struct finding *f;

	run_example("client-id-malformed.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "client-id.id");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007000Du);
	cr_assert_str_eq(f->observed, "3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b4");
	cr_assert_not_null(strstr(f->message, "not 36 characters"), "%s",
			   f->message);
	assert_reset_remedy(f);
	cr_assert_eq(fx_find(&r, "client-id.validation")->status, ST_PASS);
	/* The console still gets the value to compare. */
	cr_assert_str_eq(fx_fact(&r, "sus_client_id")->valuestring,
			 "3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b4");
	result_clear(&r);
}

Test(check_client_id, validation_missing)
{
	struct check_result r;
	const struct finding *f;

	run_example("client-id-validation-missing.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "client-id.validation");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->expected, "REG_BINARY");
	cr_assert_str_eq(f->observed, "not set");
	assert_reset_remedy(f);
	cr_assert_eq(fx_find(&r, "client-id.id")->status, ST_PASS);
	result_clear(&r);
}

/* ---- id forms ---------------------------------------------------------- */

static enum status
id_status(cJSON *value, const char **why_out, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");
	enum status st;

	cJSON_ReplaceItemInObject(wu_key(doc), "SusClientId", value);
	run_doc(doc, r);
	cJSON_Delete(doc);
	st = fx_find(r, "client-id.id")->status;
	*why_out = fx_find(r, "client-id.id")->message;
	return st;
}

Test(check_client_id, id_forms)
{
	static const char *const good[] = {
	    "3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b47",
	    "3F2B8C6E-9D41-4A7E-B0C5-6E1F2D8A9B47",
	    "00000000-0000-0000-0000-000000000001",
	};
	static const struct {
		const char *id, *why;
	} bad[] = {
	    {"{3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b47}", "braces"},
	    {"3f2b8c6e9d414a7eb0c56e1f2d8a9b47", "36 characters"},
	    {"3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9b470", "36 characters"},
	    {"3f2b8c6e-9d414-a7e-b0c5-6e1f2d8a9b47", "dashes"},
	    {"3f2b8c6e-9d41-4a7e-b0c5-6e1f2d8a9g47", "hex digits"},
	    {"3f2b8c6e-9d41-4a7e-b0c5 6e1f2d8a9b47", "dashes"},
	    {"00000000-0000-0000-0000-000000000000", "nil GUID"},
	    {"", "36 characters"},
	};
	struct check_result r;
	const char *why;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		cr_assert_eq(id_status(cJSON_CreateString(good[i]), &why, &r),
			     ST_PASS, "%s: %s", good[i], why);
		result_clear(&r);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(id_status(cJSON_CreateString(bad[i].id), &why, &r),
			     ST_FAIL, "\"%s\"", bad[i].id);
		cr_assert_not_null(strstr(why, bad[i].why), "\"%s\": %s",
				   bad[i].id, why);
		cr_assert_eq(fx_find(&r, "client-id.id")->error, 0x8007000Du);
		result_clear(&r);
	}
}

Test(check_client_id, id_not_a_string)
{
	struct check_result r;
	const char *why;

	cr_assert_eq(id_status(cJSON_CreateNumber(42), &why, &r), ST_FAIL);
	cr_assert_not_null(strstr(why, "REG_SZ"));
	cr_assert_eq(fx_find(&r, "client-id.id")->error, 0x8007000Du);
	cr_assert(cJSON_IsNull(fx_fact(&r, "sus_client_id")));
	result_clear(&r);
}

static void
run_validation(cJSON *value, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");

	cJSON_ReplaceItemInObject(wu_key(doc), "SusClientIdValidation", value);
	run_doc(doc, r);
	cJSON_Delete(doc);
}

Test(check_client_id, validation_must_be_binary_data)
{
	struct check_result r;
	cJSON *empty = cJSON_CreateObject();
	const struct finding *f;

	run_validation(cJSON_CreateString("0600c801"), &r);
	f = fx_find(&r, "client-id.validation");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007000Du);
	result_clear(&r);

	cJSON_AddStringToObject(empty, "type", "REG_BINARY");
	cJSON_AddStringToObject(empty, "data", "");
	run_validation(empty, &r);
	cr_assert_eq(fx_find(&r, "client-id.validation")->status, ST_FAIL);
	result_clear(&r);
}

/* ---- faults ------------------------------------------------------------ */

Test(check_client_id, registry_unreadable_is_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *fault = cJSON_AddObjectToObject(doc, "fault");
	struct check_result r;

	cJSON_AddNumberToObject(fault, "registry_read", 5);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_ERROR, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(r.findings[i].status, ST_ERROR);
		cr_assert_eq(r.findings[i].error, 0x80070005u);
		cr_assert_null(r.findings[i].remedy_text);
	}
	cr_assert(cJSON_IsNull(fx_fact(&r, "sus_client_id")));
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_client_id, computer_unreadable_keeps_the_verdict)
{
	static const struct fx_fault denied[] = {
	    {"computer", NULL, 0x80070005u}, {NULL, NULL, 0}};
	struct host *h = fx_fault_host(fx_open_example("healthy.json"), denied);
	struct check_result r;

	run_client_id(h, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_str_eq(fx_fact(&r, "sus_client_id")->valuestring, HEALTHY_ID);
	cr_assert(cJSON_IsNull(fx_fact(&r, "computer_name")));
	cr_assert(cJSON_IsNull(fx_fact(&r, "machine_guid")));
	cr_assert_str_eq(
	    cJSON_GetObjectItem(fx_fact(&r, "computer_error"), "code")
		->valuestring,
	    "0x80070005");
	result_clear(&r);
	host_close(h);
}

/* MachineGuid comes from the registry when the computer block lacks it,
 * as on Windows: the fact follows. */
Test(check_client_id, machine_guid_from_registry)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "computer"),
				   "machine_guid");
	cJSON_ReplaceItemInObject(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"),
				"HKLM\\SOFTWARE\\Microsoft\\Cryptography"),
	    "MachineGuid",
	    cJSON_CreateString("0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"));
	run_doc(doc, &r);
	cr_assert_str_eq(fx_fact(&r, "machine_guid")->valuestring,
			 "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9");
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- the report -------------------------------------------------------- */

Test(check_client_id, report_fails_only_client_id)
{
	fx_assert_only("client-id-missing.json", &settings, "client-id",
		       ST_FAIL);
	fx_assert_only("client-id-malformed.json", &settings, "client-id",
		       ST_FAIL);
	fx_assert_only("client-id-validation-missing.json", &settings,
		       "client-id", ST_FAIL);
}
