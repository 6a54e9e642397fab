/*
 * test_errors.c: the error-code knowledge base: table order, the seed
 * rows, parsing, formatting and the /errors/{code} explanation.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "checks/errors.h"

#define SRC_START "Issues with BITS: BITS fails to start"
#define SRC_JOBS  "Issues with BITS: BITS jobs are failing"

struct seed_row {
	hr_t code;
	const char *name;
	const char *source;
};

/* Every row of both seed tables, codes as the seeds print them. */
static const struct seed_row seed_rows[] = {
    {0x80070424, "ERROR_SERVICE_DOES_NOT_EXIST", SRC_START},
    {0x8007043B, "ERROR_SERVICE_NOT_IN_EXE", SRC_START},
    {0x80070422, "ERROR_SERVICE_DISABLED", SRC_START},
    {0x80070433, "ERROR_SERVICE_DEPENDENCY_DELETED", SRC_START},
    {0x8007042c, "ERROR_SERVICE_DEPENDENCY_FAIL", SRC_START},
    {0x80070003, "ERROR_PATH_NOT_FOUND", SRC_START},
    {0x80070002, "ERROR_FILE_NOT_FOUND", SRC_START},
    {0x80040154, "REGDB_E_CLASSNOTREG", SRC_START},
    {0x80040206, "EVENT_E_INTERNALERROR", SRC_START},
    {0x80070057, "E_INVALIDARG", SRC_JOBS},
    {0x80072ee7, "ERROR_WINHTTP_NAME_NOT_RESOLVED", SRC_JOBS},
    {0x80072f78, "ERROR_HTTP_INVALID_SERVER_RESPONSE", SRC_JOBS},
    {0x80200013, "BG_E_INSUFFICIENT_RANGE_SUPPORT", SRC_JOBS},
    {0x80200011, "BG_E_MISSING_FILE_SIZE", SRC_JOBS},
    {0x80190193, "BG_E_HTTP_ERROR_403", SRC_JOBS},
    {0x800704dd, "ERROR_NOT_LOGGED_ON", SRC_JOBS},
};

/* Non-seed rows, each checked against the SDK headers by hand. */
static const struct seed_row other_rows[] = {
    {0x80070005, "ERROR_ACCESS_DENIED", NULL},
    {0x80070020, "ERROR_SHARING_VIOLATION", NULL},
    {0x8007007C, "ERROR_INVALID_LEVEL", NULL},
    {0x80070078, "ERROR_CALL_NOT_IMPLEMENTED", NULL},
    {0x800700B7, "ERROR_ALREADY_EXISTS", NULL},
    {0x80070102, "WAIT_TIMEOUT", NULL},
    {0x80070015, "ERROR_NOT_READY", NULL},
    {0x8007041D, "ERROR_SERVICE_REQUEST_TIMEOUT", NULL},
    {0x80070420, "ERROR_SERVICE_ALREADY_RUNNING", NULL},
    {0x80070425, "ERROR_SERVICE_CANNOT_ACCEPT_CTRL", NULL},
    {0x80070426, "ERROR_SERVICE_NOT_ACTIVE", NULL},
    {0x8007042D, "ERROR_SERVICE_LOGON_FAILED", NULL},
    {0x80070430, "ERROR_SERVICE_MARKED_FOR_DELETE", NULL},
    {0x80070437, "ERROR_DIFFERENT_SERVICE_ACCOUNT", NULL},
    {0x8007041C, "ERROR_INVALID_SERVICE_CONTROL", NULL},
    {0x80070715, "ERROR_RESOURCE_TYPE_NOT_FOUND", NULL},
    {0x80072EE2, "ERROR_WINHTTP_TIMEOUT", NULL},
    {0x80072EFD, "ERROR_WINHTTP_CANNOT_CONNECT", NULL},
    {0x80072F8F, "ERROR_WINHTTP_SECURE_FAILURE", NULL},
    {0x80072F94, "ERROR_WINHTTP_AUTODETECTION_FAILED", NULL},
    {0x80190194, "BG_E_HTTP_ERROR_404", NULL},
    {0x80190197, "BG_E_HTTP_ERROR_407", NULL},
    {0x801901F4, "BG_E_HTTP_ERROR_500", NULL},
    {0x80240001, "WU_E_NO_SERVICE", NULL},
    {0x80244018, "WU_E_PT_HTTP_STATUS_FORBIDDEN", NULL},
    {0x80244019, "WU_E_PT_HTTP_STATUS_NOT_FOUND", NULL},
    {0x8024401B, "WU_E_PT_HTTP_STATUS_PROXY_AUTH_REQ", NULL},
    {0x80244021, "WU_E_PT_HTTP_STATUS_BAD_GATEWAY", NULL},
    {0x8024402C, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", NULL},
    {0x80240438, "WU_E_PT_ENDPOINT_UNREACHABLE", NULL},
    {0x8024A000, "WU_E_AU_NOSERVICE", NULL},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

Test(errors, table_strictly_sorted)
{
	size_t i;

	cr_assert_gt(error_table_len, 100);
	for (i = 1; i < error_table_len; i++)
		cr_assert_lt(
		    error_table[i - 1].code, error_table[i].code,
		    "row %zu (0x%08X %s) not below row %zu (0x%08X %s)", i - 1,
		    error_table[i - 1].code, error_table[i - 1].name, i,
		    error_table[i].code, error_table[i].name);
}

Test(errors, every_row_is_filled)
{
	size_t i;

	for (i = 0; i < error_table_len; i++) {
		const struct error_info *e = &error_table[i];

		cr_assert(e->name != NULL && e->name[0] != '\0', "row %zu", i);
		cr_assert(e->description != NULL && e->description[0] != '\0',
			  "%s", e->name);
		cr_assert(e->advice != NULL && e->advice[0] != '\0', "%s",
			  e->name);
		cr_assert_eq(error_lookup(e->code), e, "%s", e->name);
	}
}

/* The name families must sit in their facilities: catches a mistyped
 * code whose row would otherwise look plausible. */
Test(errors, names_match_facilities)
{
	size_t i;

	for (i = 0; i < error_table_len; i++) {
		const char *n = error_table[i].name;
		hr_t c = error_table[i].code;
		unsigned fac = (c >> 16) & 0x7FF;

		if (strncmp(n, "WU_", 3) == 0)
			cr_assert_eq(fac, 36, "%s", n);
		else if (strncmp(n, "BG_E_HTTP_ERROR_", 16) == 0)
			cr_assert_eq(c & 0xFFFF, (hr_t)atoi(n + 16), "%s", n);
		else if (strncmp(n, "BG_E_", 5) == 0)
			cr_assert_eq(fac, 32, "%s", n);
		else if (strncmp(n, "ERROR_WINHTTP_", 14) == 0 ||
			 strncmp(n, "ERROR_HTTP_", 11) == 0) {
			cr_assert_eq(fac, 7, "%s", n);
			cr_assert(((c & 0xFFFF) > 12000) &&
				      ((c & 0xFFFF) <= 12192),
				  "%s", n);
		}
		if (strncmp(n, "BG_E_HTTP_ERROR_", 16) == 0)
			cr_assert_eq(fac, 25, "%s", n);
	}
}

static void
check_rows(const struct seed_row *rows, size_t n, bool with_source)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct error_info *e = error_lookup(rows[i].code);

		cr_assert_not_null(e, "0x%08X missing", rows[i].code);
		cr_assert_str_eq(e->name, rows[i].name);
		if (with_source) {
			cr_assert_not_null(e->source, "%s", e->name);
			cr_assert_str_eq(e->source, rows[i].source);
		}
	}
}

Test(errors, every_seed_row_present)
{
	check_rows(seed_rows, NELEM(seed_rows), true);
}

Test(errors, verified_rows_present)
{
	check_rows(other_rows, NELEM(other_rows), false);
}

Test(errors, seed_diagnosis_kept)
{
	const struct error_info *e;

	e = error_lookup(0x80200013);
	cr_assert_not_null(strstr(e->description, "Range"));
	cr_assert_not_null(strstr(e->advice, "proxy"));
	e = error_lookup(0x80070057);
	cr_assert_not_null(strstr(e->description, "proxy"));
	cr_assert_not_null(strstr(e->description, "NTLM/Negotiate"));
	e = error_lookup(0x80072F78);
	cr_assert_not_null(
	    strstr(e->description, "ERROR_WINHTTP_INVALID_SERVER_RESPONSE"));
}

Test(errors, lookup_unknown)
{
	cr_assert_null(error_lookup(0x80070001));
	cr_assert_null(error_lookup(0xFFFFFFFF));
	cr_assert_null(error_lookup(0x12345678));
}

struct parse_case {
	const char *text;
	bool ok;
	hr_t code;
};

static const struct parse_case parse_cases[] = {
    {"0x80200013", true, 0x80200013},
    {"0X80200013", true, 0x80200013},
    {"0x8007043b", true, 0x8007043B},
    {"0x8007043B", true, 0x8007043B},
    {"0x0", true, 0x00000000},
    {"0x422", true, 0x00000422},
    {"0xFFFFFFFF", true, 0xFFFFFFFF},
    {"80200013", true, 0x80200013},
    {"8007043b", true, 0x8007043B},
    {"00001058", true, 0x00001058},
    {"1058", true, 0x80070422},
    {"1060", true, 0x80070424},
    {"1245", true, 0x800704DD},
    {"12007", true, 0x80072EE7},
    {"5", true, 0x80070005},
    {"0", true, 0x00000000},
    {"65535", true, 0x8007FFFF},
    {"01058", true, 0x80070422},
    {"", false, 0},
    {"0x", false, 0},
    {"0X", false, 0},
    {"0x123456789", false, 0},
    {"0x000080200013", false, 0},
    {"0xG0000000", false, 0},
    {"0x8020 0013", false, 0},
    {" 0x80200013", false, 0},
    {"0x80200013 ", false, 0},
    {"0x80200013z", false, 0},
    {"x80200013", false, 0},
    {"8020001", false, 0},
    {"802000131", false, 0},
    {"8020001g", false, 0},
    {"65536", false, 0},
    {"99999", false, 0},
    {"100000", false, 0},
    {"001058", false, 0},
    {"-1058", false, 0},
    {"+1058", false, 0},
    {"-2147023838", false, 0},
    {"1058 ", false, 0},
    {" 1058", false, 0},
    {"10.5", false, 0},
    {"abc", false, 0},
    {"0x-1", false, 0},
    {"0x+1", false, 0},
};

Test(errors, parse_cases)
{
	size_t i;

	for (i = 0; i < NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		hr_t out = 0xDEADBEEF;
		bool ok = error_parse(c->text, &out);

		cr_assert_eq(ok, c->ok, "\"%s\": got %d", c->text, ok);
		if (c->ok)
			cr_assert_eq(out, c->code, "\"%s\": 0x%08X", c->text,
				     out);
		else
			cr_assert_eq(out, 0xDEADBEEF, "\"%s\" wrote *out",
				     c->text);
	}
}

Test(errors, parse_null)
{
	hr_t out = 7;

	cr_assert_not(error_parse(NULL, &out));
	cr_assert_eq(out, 7);
}

Test(errors, format)
{
	char buf[11];

	memset(buf, 'x', sizeof(buf));
	error_format(0x80070422, buf);
	cr_assert_str_eq(buf, "0x80070422");
	error_format(0x8007043B, buf);
	cr_assert_str_eq(buf, "0x8007043B");
	error_format(0, buf);
	cr_assert_str_eq(buf, "0x00000000");
	error_format(0xFFFFFFFF, buf);
	cr_assert_str_eq(buf, "0xFFFFFFFF");
}

/* Format and parse agree for every row. */
Test(errors, format_parse_round_trip)
{
	size_t i;

	for (i = 0; i < error_table_len; i++) {
		char buf[11];
		hr_t back = 0;

		error_format(error_table[i].code, buf);
		cr_assert(error_parse(buf, &back), "%s", buf);
		cr_assert_eq(back, error_table[i].code, "%s", buf);
	}
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsString(v), "%s is not a string", key);
	return v->valuestring;
}

static double
jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsNumber(v), "%s is not a number", key);
	return v->valuedouble;
}

static void
assert_null(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(v != NULL && cJSON_IsNull(v), "%s is not null", key);
}

Test(errors, explain_known_win32)
{
	cJSON *o = error_explain(0x80070422);
	const cJSON *f, *w;

	cr_assert_str_eq(jstr(o, "code"), "0x80070422");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "known")));
	cr_assert_str_eq(jstr(o, "name"), "ERROR_SERVICE_DISABLED");
	cr_assert_str_eq(jstr(o, "description"),
			 error_lookup(0x80070422)->description);
	cr_assert_str_eq(jstr(o, "advice"), error_lookup(0x80070422)->advice);
	cr_assert_str_eq(jstr(o, "source"), SRC_START);
	cr_assert_str_eq(jstr(o, "severity"), "failure");
	f = cJSON_GetObjectItemCaseSensitive(o, "facility");
	cr_assert_eq(jnum(f, "value"), 7);
	cr_assert_str_eq(jstr(f, "name"), "FACILITY_WIN32");
	cr_assert_eq(jnum(o, "code_value"), 1058);
	w = cJSON_GetObjectItemCaseSensitive(o, "win32");
	cr_assert_eq(jnum(w, "value"), 1058);
	cr_assert_str_eq(jstr(w, "name"), "ERROR_SERVICE_DISABLED");
	cJSON_Delete(o);
}

Test(errors, explain_win32_side_name_differs)
{
	cJSON *o = error_explain(0x80070057);
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "win32");

	cr_assert_str_eq(jstr(o, "name"), "E_INVALIDARG");
	cr_assert_eq(jnum(w, "value"), 87);
	cr_assert_str_eq(jstr(w, "name"), "ERROR_INVALID_PARAMETER");
	cJSON_Delete(o);

	o = error_explain(0x80072F78);
	w = cJSON_GetObjectItemCaseSensitive(o, "win32");
	cr_assert_str_eq(jstr(o, "name"), "ERROR_HTTP_INVALID_SERVER_RESPONSE");
	cr_assert_eq(jnum(w, "value"), 12152);
	cr_assert_str_eq(jstr(w, "name"),
			 "ERROR_WINHTTP_INVALID_SERVER_RESPONSE");
	cJSON_Delete(o);
}

Test(errors, explain_known_bits_no_win32)
{
	cJSON *o = error_explain(0x80200013);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "facility");

	cr_assert_str_eq(jstr(o, "name"), "BG_E_INSUFFICIENT_RANGE_SUPPORT");
	cr_assert_str_eq(jstr(o, "source"), SRC_JOBS);
	cr_assert_eq(jnum(f, "value"), 32);
	cr_assert_str_eq(jstr(f, "name"), "FACILITY_BACKGROUNDCOPY");
	cr_assert_eq(jnum(o, "code_value"), 0x13);
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(o, "win32"));
	cJSON_Delete(o);
}

Test(errors, explain_known_without_source)
{
	cJSON *o = error_explain(0x8024402C);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "facility");

	cr_assert_str_eq(jstr(o, "name"), "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED");
	assert_null(o, "source");
	cr_assert_eq(jnum(f, "value"), 36);
	cr_assert_str_eq(jstr(f, "name"), "FACILITY_WINDOWSUPDATE");
	cr_assert_eq(jnum(o, "code_value"), 0x402C);
	cJSON_Delete(o);
}

Test(errors, explain_unknown_well_formed)
{
	cJSON *o = error_explain(0x80190123);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "facility");

	cr_assert_str_eq(jstr(o, "code"), "0x80190123");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "known")));
	assert_null(o, "name");
	assert_null(o, "description");
	assert_null(o, "advice");
	assert_null(o, "source");
	cr_assert_str_eq(jstr(o, "severity"), "failure");
	cr_assert_eq(jnum(f, "value"), 25);
	cr_assert_str_eq(jstr(f, "name"), "FACILITY_HTTP");
	cr_assert_eq(jnum(o, "code_value"), 0x123);
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(o, "win32"));
	cJSON_Delete(o);
}

Test(errors, explain_unknown_facility_and_success)
{
	cJSON *o = error_explain(0x07FF1234);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "facility");

	cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "known")));
	cr_assert_str_eq(jstr(o, "severity"), "success");
	cr_assert_eq(jnum(f, "value"), 0x7FF);
	assert_null(f, "name");
	cr_assert_eq(jnum(o, "code_value"), 0x1234);
	cJSON_Delete(o);
}

Test(errors, explain_unknown_win32)
{
	cJSON *o = error_explain(0x80070001);
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "win32");

	cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "known")));
	cr_assert_eq(jnum(w, "value"), 1);
	assert_null(w, "name");
	cJSON_Delete(o);
}

Test(errors, explain_from_win32_decimal)
{
	hr_t code = 0;
	cJSON *o;

	cr_assert(error_parse("1058", &code));
	cr_assert_eq(code, 0x80070422);
	o = error_explain(code);
	cr_assert_str_eq(jstr(o, "code"), "0x80070422");
	cr_assert_str_eq(jstr(o, "name"), "ERROR_SERVICE_DISABLED");
	cr_assert_eq(
	    jnum(cJSON_GetObjectItemCaseSensitive(o, "win32"), "value"), 1058);
	cJSON_Delete(o);
}

Test(errors, explain_success_code)
{
	cJSON *o = error_explain(0x00240005);

	cr_assert_str_eq(jstr(o, "name"), "WU_S_REBOOT_REQUIRED");
	cr_assert_str_eq(jstr(o, "severity"), "success");
	cr_assert_eq(
	    jnum(cJSON_GetObjectItemCaseSensitive(o, "facility"), "value"), 36);
	cJSON_Delete(o);
}
