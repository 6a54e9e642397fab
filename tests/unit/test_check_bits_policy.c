/*
 * test_check_bits_policy.c: the bits-policy check (BITS job limits) on
 * healthy.json, the job-limits-inverted example and healthy.json with the
 * BITS policy key changed.
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

#define POLICY_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS"

/* The seed's five steps, in the check's words. */
#define GPO_REMEDY                                                             \
	"In the Group Policy object (gpedit.msc for a local policy, GPMC for " \
	"a domain policy), under Computer Configuration\\Administrative "      \
	"Templates\\Network\\Background Intelligent Transfer Service "         \
	"(BITS), set \"Maximum number of BITS jobs for each user\" lower "     \
	"than \"Maximum number of BITS jobs for this computer\"; then run "    \
	"gpupdate /force, restart BITS and check the event logs for errors"

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
run_doc(const cJSON *doc, struct check_result *r)
{
	struct host *h = fx_open_doc(doc);

	run_check(&check_bits_policy, h, r);
	host_close(h);
}

/* healthy.json with the BITS policy key holding user and machine (a
 * negative number leaves that value unset). */
static void
run_limits(double user, double machine, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *reg = cJSON_GetObjectItem(doc, "registry");
	cJSON *key = cJSON_AddObjectToObject(reg, POLICY_KEY);

	if (user >= 0)
		cJSON_AddNumberToObject(key, "MaxJobsPerUser", user);
	if (machine >= 0)
		cJSON_AddNumberToObject(key, "MaxJobsPerMachine", machine);
	run_doc(doc, r);
	cJSON_Delete(doc);
}

static const struct finding *
only_finding(const struct check_result *r)
{
	cr_assert_eq(r->n_findings, 1, "summary: %s", r->summary);
	cr_assert_str_eq(r->findings[0].id, "bits-policy.job_limits");
	return &r->findings[0];
}

static void
assert_limit_fact(const struct check_result *r, const char *key, double value,
		  const char *source)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(r->facts, key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "source");

	cr_assert(cJSON_IsObject(o), "fact %s missing", key);
	cr_assert(cJSON_IsNumber(v), "%s.value", key);
	cr_assert_eq(v->valuedouble, value, "%s.value", key);
	cr_assert(cJSON_IsString(s), "%s.source", key);
	cr_assert_str_eq(s->valuestring, source, "%s.source", key);
}

static void
assert_gpo_remedy(const struct finding *f)
{
	cr_assert_str_eq(f->remedy_text, GPO_REMEDY);
	if (action_find("gpupdate") != NULL)
		cr_assert_str_eq(f->remedy_action, "gpupdate");
	else
		cr_assert_null(f->remedy_action);
}

Test(check_bits_policy, descriptor)
{
	cr_assert_eq(check_find("bits-policy"), &check_bits_policy);
	cr_assert_str_eq(check_bits_policy.id, "bits-policy");
	cr_assert_str_eq(check_bits_policy.title, "BITS job limits");
	cr_assert_str_eq(check_bits_policy.seed_section,
			 "There is a mismatch between the BITS per-user job "
			 "limit and the per-computer job limit");
	cr_assert_eq(check_bits_policy.time_limit_ms, 5000);
}

Test(check_bits_policy, healthy_uses_the_defaults)
{
	struct host *h = fx_open_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	run_check(&check_bits_policy, h, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	f = only_finding(&r);
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "the per-user BITS job limit (60, default) is lower "
			 "than the per-computer limit (300, default)");
	cr_assert_str_eq(f->expected, "MaxJobsPerUser < MaxJobsPerMachine");
	cr_assert_str_eq(f->observed, "MaxJobsPerUser 60 (default), "
				      "MaxJobsPerMachine 300 (default)");
	cr_assert_eq(f->error, 0);
	assert_limit_fact(&r, "per_user", 60, "default");
	assert_limit_fact(&r, "per_machine", 300, "default");
	cr_assert_str_eq(
	    cJSON_GetObjectItem(r.facts, "policy_key")->valuestring,
	    POLICY_KEY);
	result_clear(&r);
	host_close(h);
}

Test(check_bits_policy, inverted_example_fails)
{
	struct host *h = fx_open_example("bits-job-limits-inverted.json");
	struct check_result r;
	const struct finding *f;

	run_check(&check_bits_policy, h, &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = only_finding(&r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->message,
			 "the per-user BITS job limit (300, policy) is not "
			 "lower than the per-computer limit (200, policy)");
	cr_assert_str_eq(f->observed, "MaxJobsPerUser 300 (policy), "
				      "MaxJobsPerMachine 200 (policy)");
	assert_gpo_remedy(f);
	assert_limit_fact(&r, "per_user", 300, "policy");
	assert_limit_fact(&r, "per_machine", 200, "policy");
	result_clear(&r);
	host_close(h);
}

Test(check_bits_policy, equal_limits_fail)
{
	struct check_result r;
	const struct finding *f;

	/* "lower than": equal is a mismatch, against the default too. */
	run_limits(300, -1, &r);
	f = only_finding(&r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_str_eq(f->observed, "MaxJobsPerUser 300 (policy), "
				      "MaxJobsPerMachine 300 (default)");
	assert_gpo_remedy(f);
	result_clear(&r);
}

Test(check_bits_policy, one_value_set)
{
	struct check_result r;

	run_limits(100, -1, &r);
	cr_assert_eq(only_finding(&r)->status, ST_PASS);
	assert_limit_fact(&r, "per_user", 100, "policy");
	assert_limit_fact(&r, "per_machine", 300, "default");
	result_clear(&r);

	/* A computer limit below the default per-user limit. */
	run_limits(-1, 50, &r);
	cr_assert_eq(only_finding(&r)->status, ST_FAIL);
	cr_assert_str_eq(only_finding(&r)->message,
			 "the per-user BITS job limit (60, default) is not "
			 "lower than the per-computer limit (50, policy)");
	result_clear(&r);
}

Test(check_bits_policy, boundaries)
{
	static const struct {
		double user, machine;
		enum status want;
	} cases[] = {
	    {59, 60, ST_PASS},
	    {60, 60, ST_FAIL},
	    {61, 60, ST_FAIL},
	    {0, 1, ST_PASS},
	    {0, 0, ST_FAIL},
	    {4294967200.0, 4294967295.0, ST_PASS},
	    {4294967295.0, 1, ST_FAIL},
	};
	struct check_result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		run_limits(cases[i].user, cases[i].machine, &r);
		cr_assert_eq(only_finding(&r)->status, cases[i].want,
			     "user %.0f machine %.0f: %s", cases[i].user,
			     cases[i].machine, r.summary);
		result_clear(&r);
	}
}

Test(check_bits_policy, wrong_type_warns)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *key = cJSON_AddObjectToObject(
	    cJSON_GetObjectItem(doc, "registry"), POLICY_KEY);
	struct check_result r;
	const struct finding *f;

	cJSON_AddStringToObject(key, "MaxJobsPerUser", "50");
	cJSON_AddNumberToObject(key, "MaxJobsPerMachine", 200);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_WARN);
	f = only_finding(&r);
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->message,
			 "MaxJobsPerUser under " POLICY_KEY " is a REG_SZ, not "
			 "the REG_DWORD Group Policy writes, so the job limits "
			 "cannot be judged");
	cr_assert_str_eq(f->expected, "REG_DWORD");
	cr_assert_str_eq(f->observed, "REG_SZ");
	assert_gpo_remedy(f);
	/* The usable one is still a fact. */
	assert_limit_fact(&r, "per_machine", 200, "policy");
	cr_assert_null(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(r.facts, "per_user"), "value"));
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_policy, unreadable_registry_is_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *fault = cJSON_AddObjectToObject(doc, "fault");
	struct check_result r;

	cJSON_AddNumberToObject(fault, "registry_read", 5);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_ERROR, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_str_eq(r.findings[i].id, "bits-policy.job_limits");
		cr_assert_eq(r.findings[i].status, ST_ERROR);
		cr_assert_eq(r.findings[i].error, 0x80070005u);
	}
	cr_assert_str_eq(r.findings[0].message,
			 "could not read MaxJobsPerUser under " POLICY_KEY
			 " (0x80070005)");
	cr_assert_str_eq(r.findings[1].message,
			 "could not read MaxJobsPerMachine under " POLICY_KEY
			 " (0x80070005)");
	result_clear(&r);
	cJSON_Delete(doc);
}

static void
run_os(const char *os, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *comp = cJSON_GetObjectItem(doc, "computer");
	cJSON *key = cJSON_AddObjectToObject(
	    cJSON_GetObjectItem(doc, "registry"), POLICY_KEY);

	cJSON_DeleteItemFromObject(comp, "os_version");
	cJSON_AddStringToObject(comp, "os_version", os);
	cJSON_AddNumberToObject(key, "MaxJobsPerUser", 500);
	run_doc(doc, r);
	cJSON_Delete(doc);
}

Test(check_bits_policy, before_vista_is_skip)
{
	struct check_result r;
	const struct finding *f;

	/* Before Windows Vista BITS had no job limits at all. */
	run_os("5.1.2600", &r);
	cr_assert_eq(r.status, ST_SKIP);
	f = only_finding(&r);
	cr_assert_eq(f->status, ST_SKIP);
	cr_assert_str_eq(f->message, "BITS job limits exist from Windows "
				     "Vista on; this is Windows 5.1.2600");
	result_clear(&r);

	run_os("6.0.6002", &r);
	cr_assert_eq(only_finding(&r)->status, ST_FAIL);
	result_clear(&r);
}

Test(check_bits_policy, without_bits_is_skip)
{
	struct host *h = fx_open_example("broken-bits-missing.json");
	struct check_result r;
	const struct finding *f;

	run_check(&check_bits_policy, h, &r);
	cr_assert_eq(r.status, ST_SKIP);
	f = only_finding(&r);
	cr_assert_eq(f->status, ST_SKIP);
	cr_assert_str_eq(f->message,
			 "BITS is not installed, so there are no BITS jobs to "
			 "limit (the bits check reports the missing service)");
	result_clear(&r);
	host_close(h);
}

static void
set_bits_query_fault(cJSON *doc, double code)
{
	cJSON *bits =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"), "BITS");
	cJSON *fault = cJSON_AddObjectToObject(bits, "fault");

	cJSON_AddNumberToObject(fault, "query", code);
}

Test(check_bits_policy, unreadable_service_still_judges)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	/* Access denied on BITS is not "BITS is missing". */
	set_bits_query_fault(doc, 5);
	run_doc(doc, &r);
	cr_assert_eq(only_finding(&r)->status, ST_PASS, "%s", r.summary);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_bits_policy, report_fails_nothing_else)
{
	fx_assert_only("bits-job-limits-inverted.json", &settings,
		       "bits-policy", ST_FAIL);
}
