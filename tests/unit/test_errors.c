/*
 * test_errors.c: the error-code knowledge base: table order, the seed
 * rows, parsing, formatting, the /errors/{code} explanation, and the
 * codes the store and updatelog checks report as a damaged store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "checks/errors.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "checks/wulog.h"
#include "common/xalloc.h"
#include "fixture.h"
#include "platform/host.h"

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

/* ---- the damaged store ---------------------------------------------------
 */

/*
 * What wulog.c's store_codes lists as a damaged store (not the ESE
 * range, matched by facility), with the names winerror.h and wuerror.h
 * give them. store_codes_all_listed keeps the two lists the same.
 */
static const struct seed_row store_rows[] = {
    {0x80070570, "ERROR_FILE_CORRUPT", NULL},
    {0x80070571, "ERROR_DISK_CORRUPT", NULL},
    {0x80248002, "WU_E_DS_INVALID", NULL},
    {0x80248003, "WU_E_DS_TABLEMISSING", NULL},
    {0x80248004, "WU_E_DS_TABLEINCORRECT", NULL},
    {0x80248005, "WU_E_DS_INVALIDTABLENAME", NULL},
    {0x80248006, "WU_E_DS_BADVERSION", NULL},
    {0x80248008, "WU_E_DS_MISSINGDATA", NULL},
    {0x80248009, "WU_E_DS_MISSINGREF", NULL},
    {0x8024801B, "WU_E_DS_SCHEMAMISMATCH", NULL},
    {0x80248FFF, "WU_E_DS_UNEXPECTED", NULL},
    {0x8024F001, "WU_E_REPORTER_EVENTCACHECORRUPT", NULL},
};

/* ESE errors, written as the agent logs them and as esent.h numbers
 * them: the first three are the ones the checks' tests and comments
 * name. */
static const struct {
	hr_t code;
	const char *name;
	int jet;
} ese_rows[] = {
    {0xC80003FA, "JET_errReadVerifyFailure", -1018},
    {0xC80004B6, "JET_errDatabaseCorrupted", -1206},
    {0xC8000222, "JET_errLogSectorSizeMismatch", -546},
    {0xC80001F5, "JET_errLogFileCorrupt", -501},
    {0xC8000215, "JET_errCheckpointCorrupt", -533},
    {0xC8000226, "JET_errDatabaseDirtyShutdown", -550},
    {0xC80003F3, "JET_errOutOfMemory", -1011},
    {0xC80003FB, "JET_errPageNotInitialized", -1019},
    {0xC80003FE, "JET_errDiskIO", -1022},
    {0xC8000408, "JET_errFileAccessDenied", -1032},
    {0xC80004C4, "JET_errCatalogCorrupted", -1220},
    {0xC8000586, "JET_errSecondaryIndexCorrupted", -1414},
    {0xC8000710, "JET_errDiskFull", -1808},
    {0xC800077F, "JET_errFlushMapDatabaseMismatch", -1919},
};

/* Every WU_E_DS_* code of wuerror.h (0x80248012 is unassigned). */
static const struct seed_row ds_rows[] = {
    {0x80248000, "WU_E_DS_SHUTDOWN", NULL},
    {0x80248001, "WU_E_DS_INUSE", NULL},
    {0x80248002, "WU_E_DS_INVALID", NULL},
    {0x80248003, "WU_E_DS_TABLEMISSING", NULL},
    {0x80248004, "WU_E_DS_TABLEINCORRECT", NULL},
    {0x80248005, "WU_E_DS_INVALIDTABLENAME", NULL},
    {0x80248006, "WU_E_DS_BADVERSION", NULL},
    {0x80248007, "WU_E_DS_NODATA", NULL},
    {0x80248008, "WU_E_DS_MISSINGDATA", NULL},
    {0x80248009, "WU_E_DS_MISSINGREF", NULL},
    {0x8024800A, "WU_E_DS_UNKNOWNHANDLER", NULL},
    {0x8024800B, "WU_E_DS_CANTDELETE", NULL},
    {0x8024800C, "WU_E_DS_LOCKTIMEOUTEXPIRED", NULL},
    {0x8024800D, "WU_E_DS_NOCATEGORIES", NULL},
    {0x8024800E, "WU_E_DS_ROWEXISTS", NULL},
    {0x8024800F, "WU_E_DS_STOREFILELOCKED", NULL},
    {0x80248010, "WU_E_DS_CANNOTREGISTER", NULL},
    {0x80248011, "WU_E_DS_UNABLETOSTART", NULL},
    {0x80248013, "WU_E_DS_DUPLICATEUPDATEID", NULL},
    {0x80248014, "WU_E_DS_UNKNOWNSERVICE", NULL},
    {0x80248015, "WU_E_DS_SERVICEEXPIRED", NULL},
    {0x80248016, "WU_E_DS_DECLINENOTALLOWED", NULL},
    {0x80248017, "WU_E_DS_TABLESESSIONMISMATCH", NULL},
    {0x80248018, "WU_E_DS_SESSIONLOCKMISMATCH", NULL},
    {0x80248019, "WU_E_DS_NEEDWINDOWSSERVICE", NULL},
    {0x8024801A, "WU_E_DS_INVALIDOPERATION", NULL},
    {0x8024801B, "WU_E_DS_SCHEMAMISMATCH", NULL},
    {0x8024801C, "WU_E_DS_RESETREQUIRED", NULL},
    {0x8024801D, "WU_E_DS_IMPERSONATED", NULL},
    {0x8024801E, "WU_E_DS_DATANOTAVAILABLE", NULL},
    {0x8024801F, "WU_E_DS_DATANOTLOADED", NULL},
    {0x80248020, "WU_E_DS_NODATA_NOSUCHREVISION", NULL},
    {0x80248021, "WU_E_DS_NODATA_NOSUCHUPDATE", NULL},
    {0x80248022, "WU_E_DS_NODATA_EULA", NULL},
    {0x80248023, "WU_E_DS_NODATA_SERVICE", NULL},
    {0x80248024, "WU_E_DS_NODATA_COOKIE", NULL},
    {0x80248025, "WU_E_DS_NODATA_TIMER", NULL},
    {0x80248026, "WU_E_DS_NODATA_CCR", NULL},
    {0x80248027, "WU_E_DS_NODATA_FILE", NULL},
    {0x80248028, "WU_E_DS_NODATA_DOWNLOADJOB", NULL},
    {0x80248029, "WU_E_DS_NODATA_TMI", NULL},
    {0x80248FFF, "WU_E_DS_UNEXPECTED", NULL},
};

/* Known, named as listed, from no seed, pointing at the store check's
 * remedy. */
static void
assert_store_row(hr_t code, const char *name)
{
	const struct error_info *e = error_lookup(code);

	cr_assert_not_null(e, "0x%08X has no row", code);
	cr_assert_str_eq(e->name, name, "0x%08X", code);
	cr_assert_null(e->source, "%s", name);
	cr_assert_eq(wulog_classify(code), WULOG_STORE, "%s", name);
}

Test(errors, store_damage_codes_decode)
{
	for (size_t i = 0; i < NELEM(store_rows); i++) {
		const struct error_info *e;

		assert_store_row(store_rows[i].code, store_rows[i].name);
		e = error_lookup(store_rows[i].code);
		cr_assert_not_null(strstr(e->advice, "(action: reset-store)"),
				   "%s: %s", e->name, e->advice);
	}
}

/* Every code outside the ESE range that wulog calls store damage, in
 * the facilities it takes them from, is in store_rows, so has a row. */
Test(errors, store_codes_all_listed)
{
	static const hr_t prefixes[] = {0x80070000, 0x80190000, 0x80200000,
					0x80240000};
	size_t found = 0;

	for (size_t p = 0; p < NELEM(prefixes); p++)
		for (hr_t low = 0; low <= 0xFFFF; low++) {
			hr_t c = prefixes[p] | low;
			size_t i;

			if (wulog_classify(c) != WULOG_STORE)
				continue;
			for (i = 0; i < NELEM(store_rows); i++)
				if (store_rows[i].code == c)
					break;
			cr_assert_lt(i, NELEM(store_rows),
				     "0x%08X is store damage, not listed", c);
			found++;
		}
	cr_assert_eq(found, NELEM(store_rows));
}

Test(errors, ese_codes_decode)
{
	char text[64];

	for (size_t i = 0; i < NELEM(ese_rows); i++) {
		hr_t code = ese_rows[i].code;

		cr_assert_eq(code, 0xC8000000u | (hr_t)-ese_rows[i].jet, "%s",
			     ese_rows[i].name);
		/* ESENT's events and the agent's log lines give the number. */
		snprintf(text, sizeof(text), "JET error %d.", ese_rows[i].jet);
		cr_assert_eq(wulog_ese_error(text), code, "%s", text);
		assert_store_row(code, ese_rows[i].name);
	}
}

/* Every ESE row sits in the agent's ESE range, says its own JET_err
 * number and counts as store damage; nothing else sits there. */
Test(errors, ese_rows_consistent)
{
	size_t n = 0;

	for (size_t i = 0; i < error_table_len; i++) {
		const struct error_info *e = &error_table[i];
		bool jet = strncmp(e->name, "JET_err", 7) == 0;
		char want[32];

		cr_assert_eq(jet, (e->code & 0xFFFF0000u) == 0xC8000000u, "%s",
			     e->name);
		if (!jet)
			continue;
		snprintf(want, sizeof(want),
			 "ESE error -%u: ", (unsigned)(e->code & 0xFFFF));
		cr_assert_eq(strncmp(e->description, want, strlen(want)), 0,
			     "%s: %s", e->name, e->description);
		cr_assert_eq(wulog_classify(e->code), WULOG_STORE, "%s",
			     e->name);
		n++;
	}
	cr_assert_geq(n, NELEM(ese_rows));
}

Test(errors, every_ds_code_present)
{
	check_rows(ds_rows, NELEM(ds_rows), false);
	for (size_t i = 0; i < NELEM(ds_rows); i++)
		cr_assert_null(error_lookup(ds_rows[i].code)->source, "%s",
			       ds_rows[i].name);
}

/* WU_E_DS_* names and the data store's range (0x80248xxx) agree. */
Test(errors, ds_names_match_range)
{
	for (size_t i = 0; i < error_table_len; i++) {
		const struct error_info *e = &error_table[i];

		cr_assert_eq(strncmp(e->name, "WU_E_DS_", 8) == 0,
			     (e->code & 0xFFFFF000u) == 0x80248000u, "%s",
			     e->name);
	}
}

/* As an administrator types them: with and without 0x, either case. */
Test(errors, ds_codes_parse_and_decode)
{
	static const char *const forms[] = {"0x%08X", "%08X", "0x%08x", "%08x"};

	for (size_t i = 0; i < NELEM(ds_rows); i++)
		for (size_t f = 0; f < NELEM(forms); f++) {
			char text[16];
			hr_t code = 0;
			const struct error_info *e;

			snprintf(text, sizeof(text), forms[f], ds_rows[i].code);
			cr_assert(error_parse(text, &code), "%s", text);
			cr_assert_eq(code, ds_rows[i].code, "%s", text);
			e = error_lookup(code);
			cr_assert_not_null(e, "%s", text);
			cr_assert_str_eq(e->name, ds_rows[i].name, "%s", text);
		}
}

Test(errors, explain_ds_and_ese)
{
	cJSON *o = error_explain(0x80248003);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "facility");

	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "known")));
	cr_assert_str_eq(jstr(o, "name"), "WU_E_DS_TABLEMISSING");
	cr_assert_str_eq(jstr(o, "description"),
			 "The data store is missing a table.");
	cr_assert_not_null(strstr(jstr(o, "advice"), "reset-store"));
	assert_null(o, "source");
	cr_assert_eq(jnum(f, "value"), 36);
	cr_assert_eq(jnum(o, "code_value"), 0x8003);
	cJSON_Delete(o);

	o = error_explain(0xC80004B6);
	cr_assert_str_eq(jstr(o, "code"), "0xC80004B6");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "known")));
	cr_assert_str_eq(jstr(o, "name"), "JET_errDatabaseCorrupted");
	cr_assert_str_eq(jstr(o, "severity"), "failure");
	cr_assert_eq(jnum(o, "code_value"), 1206);
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(o, "win32"));
	cJSON_Delete(o);
}

/* The ESE number is shown as such, known or not; no other code has it. */
Test(errors, explain_names_the_ese_error)
{
	cJSON *o = error_explain(0xC80004B6);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "ese");

	cr_assert_not_null(e);
	cr_expect_eq(jnum(e, "value"), -1206);
	cr_expect_str_eq(jstr(e, "name"), "JET_errDatabaseCorrupted");
	cJSON_Delete(o);

	o = error_explain(0xC8000001); /* JET error -1: no row */
	e = cJSON_GetObjectItemCaseSensitive(o, "ese");
	cr_assert_not_null(e);
	cr_expect_eq(jnum(e, "value"), -1);
	assert_null(e, "name");
	cJSON_Delete(o);

	o = error_explain(0x80248003);
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(o, "ese"));
	cJSON_Delete(o);
	o = error_explain(0xC8000000);
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(o, "ese"));
	cJSON_Delete(o);
}

Test(errors, explain_file_corrupt_win32)
{
	cJSON *o = error_explain(0x80070570);
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "win32");
	hr_t code = 0;

	cr_assert_str_eq(jstr(o, "name"), "ERROR_FILE_CORRUPT");
	cr_assert_eq(jnum(w, "value"), 1392);
	cr_assert_str_eq(jstr(w, "name"), "ERROR_FILE_CORRUPT");
	cJSON_Delete(o);

	/* Typed as the Win32 number. */
	cr_assert(error_parse("1393", &code));
	cr_assert_eq(code, 0x80070571);
	cr_assert_str_eq(error_lookup(code)->name, "ERROR_DISK_CORRUPT");
}

/* A lookup miss the agent logs routinely must not send the
 * administrator to rebuild the store first. */
Test(errors, ds_nodata_is_routine)
{
	const struct error_info *e = error_lookup(0x80248007);

	cr_assert_not_null(e);
	cr_assert_eq(wulog_classify(0x80248007), WULOG_NONE);
	cr_assert_eq(strncmp(e->advice, "Usually nothing", 15), 0, "%s",
		     e->advice);
}

/* ---- what the checks report ------------------------------------------ */

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

/* The one finding id of check_id on doc, as the API would serialise it. */
static cJSON *
finding_json(const cJSON *doc, const char *check_id, const char *id)
{
	struct host *h = fx_open_doc(doc);
	struct check_ctx ctx = {.host = h, .settings = &settings};
	struct check_result r;
	cJSON *all, *found = NULL, *f;

	check_run(check_find(check_id), &ctx, &r);
	all = result_to_json(&r);
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(all, "findings"))
	{
		if (strcmp(cJSON_GetObjectItem(f, "id")->valuestring, id) ==
		    0) {
			cr_assert_null(found, "two %s findings", id);
			found = cJSON_Duplicate(f, true);
		}
	}
	cr_assert_not_null(found, "no %s finding", id);
	cJSON_Delete(all);
	result_clear(&r);
	host_close(h);
	return found;
}

/* f's error is code, decoded as name, and its message says both. */
static void
assert_decoded(const cJSON *f, hr_t code, const char *name)
{
	const cJSON *err = cJSON_GetObjectItem(f, "error");
	char hex[11], *words;

	error_format(code, hex);
	words = xasprintf("%s (%s)", name, hex);
	cr_assert_str_eq(jstr(err, "code"), hex);
	cr_assert_str_eq(jstr(err, "name"), name);
	cr_assert_str_eq(jstr(err, "description"),
			 error_lookup(code)->description);
	cr_assert_not_null(strstr(jstr(f, "message"), words), "%s",
			   jstr(f, "message"));
	free(words);
}

/* A one-line WindowsUpdate.log on healthy.json with a store failure:
 * both checks report it, decoded. */
static void
assert_log_line_decoded(hr_t code, const char *name)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *files = cJSON_GetObjectItem(doc, "files");
	cJSON *log = cJSON_CreateObject();
	char *line = xasprintf("2026/11/21 09:12:04.9612020 1176  4620  "
			       "DataStore       *FAILED* [%08X] "
			       "CDataStore::InsertRevision\n",
			       code);
	cJSON *f;

	cJSON_DeleteItemFromObject(files, "C:\\Windows\\WindowsUpdate.log");
	cJSON_AddStringToObject(log, "type", "file");
	cJSON_AddStringToObject(log, "text", line);
	cJSON_AddItemToObject(files, "C:\\Windows\\WindowsUpdate.log", log);
	f = finding_json(doc, "store", "store.errors");
	cr_assert_str_eq(jstr(f, "status"), "fail");
	assert_decoded(f, code, name);
	cJSON_Delete(f);
	f = finding_json(doc, "updatelog", "updatelog.errors");
	cr_assert_str_eq(jstr(f, "status"), "warn");
	assert_decoded(f, code, name);
	cJSON_Delete(f);
	free(line);
	cJSON_Delete(doc);
}

Test(errors, checks_decode_store_codes_in_log)
{
	for (size_t i = 0; i < NELEM(store_rows); i++)
		assert_log_line_decoded(store_rows[i].code, store_rows[i].name);
	for (size_t i = 0; i < NELEM(ese_rows); i++)
		assert_log_line_decoded(ese_rows[i].code, ese_rows[i].name);
}

/* An ESENT error event about the store carries no code, only the
 * number in its text ("error -1206"). */
Test(errors, store_check_decodes_esent_event)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *e = cJSON_CreateObject();
	cJSON *f;

	cJSON_AddStringToObject(e, "log", "Application");
	cJSON_AddNumberToObject(e, "id", 1);
	cJSON_AddStringToObject(e, "level", "error");
	cJSON_AddStringToObject(e, "time", "2026-11-21T09:12:04Z");
	cJSON_AddStringToObject(
	    e, "message",
	    "svchost (1176,D,22) SUS20ClientDataStore: Opening the database "
	    "C:\\Windows\\SoftwareDistribution\\DataStore\\DataStore.edb "
	    "failed with error -1206.");
	cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "events"), e);
	f = finding_json(doc, "store", "store.errors");
	cr_assert_str_eq(jstr(f, "status"), "fail");
	assert_decoded(f, 0xC80004B6, "JET_errDatabaseCorrupted");
	cJSON_Delete(f);
	cJSON_Delete(doc);
}
