/*
 * The result model: worst-of aggregation, summaries and the JSON shape.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "checks/result.h"

Test(result, status_order_is_error_fail_warn_pass_skip)
{
	cr_expect_eq(status_worst(ST_PASS, ST_WARN), ST_WARN);
	cr_expect_eq(status_worst(ST_FAIL, ST_WARN), ST_FAIL);
	cr_expect_eq(status_worst(ST_FAIL, ST_ERROR), ST_ERROR);
	cr_expect_eq(status_worst(ST_SKIP, ST_PASS), ST_PASS);
	cr_expect_str_eq(status_name(ST_SKIP), "skip");
	cr_expect_str_eq(status_name(ST_ERROR), "error");
}

Test(result, check_status_is_the_worst_finding)
{
	static const struct {
		enum status in[3];
		size_t n;
		enum status out;
	} cases[] = {
	    {{ST_PASS, ST_PASS}, 2, ST_PASS},
	    {{ST_PASS, ST_WARN, ST_PASS}, 3, ST_WARN},
	    {{ST_WARN, ST_FAIL, ST_PASS}, 3, ST_FAIL},
	    {{ST_FAIL, ST_ERROR, ST_SKIP}, 3, ST_ERROR},
	    {{ST_SKIP}, 1, ST_SKIP},
	    {{ST_SKIP, ST_PASS}, 2, ST_PASS},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct check_result r;

		result_init(&r, "t", "T");
		for (size_t j = 0; j < cases[i].n; j++)
			result_add(&r, "t.x", cases[i].in[j], "finding %zu", j);
		result_finish(&r);
		cr_expect_eq(r.status, cases[i].out, "case %zu", i);
		result_clear(&r);
	}
}

Test(result, no_findings_is_an_error_not_a_pass)
{
	struct check_result r;

	result_init(&r, "t", "T");
	result_finish(&r);
	cr_expect_eq(r.status, ST_ERROR);
	result_clear(&r);
}

Test(result, summary_names_the_worst_finding)
{
	struct check_result r;

	result_init(&r, "bits", "BITS");
	result_add(&r, "bits.state", ST_PASS, "running");
	result_add(&r, "bits.account", ST_FAIL, "wrong account");
	result_add(&r, "bits.start_type", ST_FAIL, "disabled");
	result_finish(&r);
	cr_expect_str_eq(r.summary, "wrong account (and 1 more fail)");
	result_clear(&r);
}

Test(result, json_shape)
{
	struct check_result r;
	struct finding *f;
	cJSON *j, *fj;

	result_init(&r, "bits", "BITS");
	f = result_add(&r, "bits.start_type", ST_FAIL, "BITS is disabled");
	finding_set_expected(f, "auto");
	finding_set_observed(f, "%s", "disabled");
	f->error = 0x80070422;
	finding_set_remedy(f, NULL, "enable it");
	result_add(&r, "bits.state", ST_PASS, "running");
	cJSON_AddStringToObject(r.facts, "state", "running");
	result_finish(&r);
	j = result_to_json(&r);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "status")->valuestring, "fail");
	fj = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "findings"), 0);
	cr_expect_str_eq(cJSON_GetObjectItem(fj, "expected")->valuestring,
			 "auto");
	cr_expect_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(fj, "error"), "code")
		->valuestring,
	    "0x80070422");
	cr_expect(cJSON_IsNull(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(fj, "remedy"), "action")));
	fj = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "findings"), 1);
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(fj, "error")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(fj, "expected")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(fj, "remedy")));
	cr_expect_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "facts"), "state")
		->valuestring,
	    "running");
	cJSON_Delete(j);
	result_clear(&r);
}

Test(result, action_json_shape)
{
	struct action_result a;
	struct step *s;
	cJSON *j;

	action_result_init(&a, "restart-bits", true);
	s = action_add_step(&a, "stop %s", "BITS");
	cr_expect_eq(s->status, STEP_PLANNED);
	step_set_detail(s, "would stop");
	action_add_change(&a, "BITS state", "running", NULL);
	j = action_result_to_json(&a);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
			 "planned");
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "dry_run")));
	cr_expect_str_eq(
	    cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(j, "steps"), 0), "name")
		->valuestring,
	    "stop BITS");
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(j, "changes"), 0),
	    "after")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "backup")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "verify")));
	cJSON_Delete(j);
	action_result_clear(&a);
}
