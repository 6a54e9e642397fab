/*
 * test_check_updatelog.c: the updatelog check on simulated hosts: the
 * example files, healthy.json with its WindowsUpdate.log replaced (a
 * saved log in either format, a placeholder, none, a read fault, a log
 * larger than what is read), and every check on the examples.
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
#include "checks/wulog.h"
#include "common/xalloc.h"
#include "platform/host.h"

#define LOG_PATH "C:\\Windows\\WindowsUpdate.log"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static char *
fixture_text(const char *name)
{
	char *path =
	    xasprintf("%s/tests/fixtures/logs/%s", fx_source_dir(), name);
	char *text = fx_slurp(path, NULL);

	free(path);
	return text;
}

/* Open a host made from doc through a file in dir. */
static struct host *
open_doc_in(const cJSON *doc, const char *dir)
{
	char *path = xasprintf("%s/host.json", dir);
	char *text = cJSON_Print(doc);
	FILE *fp = fopen(path, "wb");
	struct host *h;

	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(text, 1, strlen(text), fp), strlen(text));
	fclose(fp);
	h = fx_open_file(path);
	unlink(path);
	free(path);
	free(text);
	return h;
}

static struct host *
open_doc(const cJSON *doc)
{
	char dir[] = "/tmp/wsd-test-updatelog-XXXXXX";
	struct host *h;

	cr_assert_not_null(mkdtemp(dir));
	h = open_doc_in(doc, dir);
	rmdir(dir);
	return h;
}

static cJSON *
files_of(cJSON *doc)
{
	return cJSON_GetObjectItem(doc, "files");
}

/* Replace the log's entry with {type: file, text: text}. */
static void
set_log_text(cJSON *doc, const char *path, const char *text)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_DeleteItemFromObject(files_of(doc), LOG_PATH);
	cJSON_AddStringToObject(f, "type", "file");
	cJSON_AddStringToObject(f, "text", text);
	cJSON_AddItemToObject(files_of(doc), path, f);
}

static void
run_check(struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_updatelog, &ctx, r);
}

static void
run_example(const char *name, struct check_result *r)
{
	struct host *h = fx_open_example(name);

	run_check(h, r);
	host_close(h);
}

static void
run_doc(const cJSON *doc, struct check_result *r)
{
	struct host *h = open_doc(doc);

	run_check(h, r);
	host_close(h);
}

/* healthy.json with the log's text replaced. */
static void
run_with_log(const char *text, struct check_result *r)
{
	cJSON *doc = fx_load_example("healthy.json");

	set_log_text(doc, LOG_PATH, text);
	run_doc(doc, r);
	cJSON_Delete(doc);
}

static double
detail_num(const struct finding *f, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->details, key);

	cr_assert(cJSON_IsNumber(v), "detail %s", key);
	return v->valuedouble;
}

static const char *
detail_str(const struct finding *f, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->details, key);

	cr_assert(cJSON_IsString(v), "detail %s", key);
	return v->valuestring;
}

static const char *const ids[] = {"updatelog.proxy", "updatelog.download",
				  "updatelog.errors"};

static void
assert_all(const struct check_result *r, enum status st, hr_t hr)
{
	cr_assert_eq(r->n_findings, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(r->findings[i].id, ids[i]);
		cr_assert_eq(r->findings[i].status, st, "%s: %s", ids[i],
			     r->findings[i].message);
		cr_assert_eq(r->findings[i].error, hr);
	}
}

Test(check_updatelog, descriptor)
{
	cr_assert_eq(check_find("updatelog"), &check_updatelog);
	cr_assert_str_eq(check_updatelog.title, "Windows Update log");
	cr_assert_str_eq(check_updatelog.seed_section,
			 "Make sure the WSUS server is reachable from the "
			 "client");
	cr_assert_eq(check_updatelog.time_limit_ms, 15000);
}

Test(check_updatelog, healthy_passes_every_finding)
{
	struct check_result r;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	assert_all(&r, ST_PASS, 0);
	cr_assert_str_eq(fx_find(&r, "updatelog.proxy")->observed, "none");
	cr_assert_str_eq(fx_fact(&r, "path")->valuestring, LOG_PATH);
	cr_assert_str_eq(fx_fact(&r, "system_root")->valuestring,
			 "C:\\Windows");
	cr_assert(cJSON_IsTrue(fx_fact(&r, "system_root_from_registry")));
	cr_assert_str_eq(fx_fact(&r, "format")->valuestring, "etw");
	cr_assert_eq(fx_fact(&r, "lines")->valuedouble, 6);
	cr_assert(cJSON_IsFalse(fx_fact(&r, "truncated")));
	cr_assert_str_eq(fx_fact(&r, "first_time")->valuestring,
			 "2026-11-21T09:12:03.441");
	cr_assert_str_eq(fx_fact(&r, "last_time")->valuestring,
			 "2026-11-21T09:12:05.129");
	cr_assert_eq(fx_fact(&r, "bytes_read")->valuedouble,
		     fx_fact(&r, "file_bytes")->valuedouble);
	result_clear(&r);
}

Test(check_updatelog, proxy_errors_example)
{
	struct check_result r;
	const struct finding *f;

	run_example("updatelog-proxy-errors.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "updatelog.proxy");
	cr_assert_eq(f->status, ST_FAIL);
	/* The latest: WinHTTP could not resolve the proxy's name. */
	cr_assert_eq(f->error, 0x80072EE7u);
	cr_assert_eq(detail_num(f, "line"), 49);
	cr_assert_eq(detail_num(f, "count"), 19);
	cr_assert_str_eq(detail_str(f, "code"), "0x80072EE7");
	cr_assert_str_eq(detail_str(f, "time"), "2026-11-21T09:12:05.601");
	cr_assert_str_eq(f->observed,
			 "2026/11/21 09:12:05.6011930 1176  4620  Misc       "
			 "     WinHttp: SendRequestUsingProxy failed for "
			 "<http://wsus.corp.example:8530/selfupdate/"
			 "wuident.cab>. error 0x80072ee7");
	cr_assert_str_eq(f->expected, "none");
	cr_assert_str_eq(f->message,
			 "19 lines with proxy or name resolution errors in "
			 "WindowsUpdate.log; the latest, line 49 at "
			 "2026-11-21T09:12:05.601: "
			 "ERROR_WINHTTP_NAME_NOT_RESOLVED (0x80072EE7)");
	cr_assert_null(f->remedy_action);
	cr_assert_not_null(strstr(f->remedy_text, "proxy and server checks"));
	cr_assert_not_null(strstr(f->remedy_text, "netsh winhttp"));
	cr_assert_eq(fx_find(&r, "updatelog.download")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "updatelog.errors")->status, ST_PASS);
	cr_assert_eq(
	    cJSON_GetObjectItem(fx_fact(&r, "counts"), "proxy")->valuedouble,
	    19);
	result_clear(&r);
}

Test(check_updatelog, download_errors_example)
{
	struct check_result r;
	const struct finding *f;

	run_example("updatelog-download-errors.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "updatelog.download");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80200013u);
	cr_assert_eq(detail_num(f, "line"), 23);
	cr_assert_eq(detail_num(f, "count"), 3);
	cr_assert_not_null(strstr(f->message, "BG_E_INSUFFICIENT_RANGE_SUPPORT "
					      "(0x80200013)"),
			   "%s", f->message);
	cr_assert_not_null(strstr(f->remedy_text, "bits-jobs"));
	cr_assert_eq(fx_find(&r, "updatelog.proxy")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "updatelog.errors")->status, ST_PASS);
	result_clear(&r);
}

Test(check_updatelog, store_errors_are_other_errors)
{
	struct check_result r;
	const struct finding *f;

	run_example("store-errors-in-log.json", &r);
	cr_assert_eq(r.status, ST_WARN, "summary: %s", r.summary);
	f = fx_find(&r, "updatelog.errors");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_eq(f->error, 0x80248FFFu);
	cr_assert_eq(detail_num(f, "line"), 15);
	cr_assert_eq(detail_num(f, "count"), 5);
	cr_assert_not_null(strstr(f->remedy_text, "store check"));
	cr_assert_eq(fx_find(&r, "updatelog.proxy")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "updatelog.download")->status, ST_PASS);
	result_clear(&r);
}

Test(check_updatelog, classic_log)
{
	char *text = fixture_text("classic-proxy.log");
	struct check_result r;
	const struct finding *f;

	run_with_log(text, &r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_str_eq(fx_fact(&r, "format")->valuestring, "classic");
	cr_assert_eq(fx_fact(&r, "lines")->valuedouble, 39);
	f = fx_find(&r, "updatelog.proxy");
	cr_assert_eq(f->error, 0x80072EE2u);
	cr_assert_eq(detail_num(f, "line"), 34);
	cr_assert_str_eq(detail_str(f, "time"), "2026-11-20T09:58:33.153");
	cr_assert_not_null(strstr(f->message, "ERROR_WINHTTP_TIMEOUT"));
	result_clear(&r);
	free(text);
}

Test(check_updatelog, classic_healthy_log)
{
	char *text = fixture_text("classic-healthy.log");
	struct check_result r;

	run_with_log(text, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	assert_all(&r, ST_PASS, 0);
	cr_assert_str_eq(fx_find(&r, "updatelog.errors")->message,
			 "no other error codes in the 28 lines of "
			 "WindowsUpdate.log read (2026-11-19T03:00:01.312 to "
			 "2026-11-19T03:10:01.551)");
	result_clear(&r);
	free(text);
}

Test(check_updatelog, no_log_is_a_skip)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	cJSON_DeleteItemFromObject(files_of(doc), LOG_PATH);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_SKIP);
	assert_all(&r, ST_SKIP, 0);
	cr_assert_str_eq(r.findings[0].message,
			 "C:\\Windows\\WindowsUpdate.log does not exist: "
			 "Windows 10 and later write Windows Update traces "
			 "as ETL files under C:\\Windows\\Logs\\WindowsUpdate "
			 "instead, and there is no text log unless "
			 "Get-WindowsUpdateLog was run (Get-WindowsUpdateLog "
			 "-LogPath C:\\Windows\\WindowsUpdate.log)");
	cr_assert(cJSON_IsFalse(fx_fact(&r, "exists")));
	cr_assert_null(cJSON_GetObjectItem(r.facts, "format"));
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_updatelog, placeholder_is_a_skip)
{
	char *text = fixture_text("stub.log");
	struct check_result r;

	run_with_log(text, &r);
	cr_assert_eq(r.status, ST_SKIP);
	assert_all(&r, ST_SKIP, 0);
	cr_assert_not_null(strstr(r.summary, "placeholder"), "%s", r.summary);
	cr_assert_not_null(strstr(r.summary, "Get-WindowsUpdateLog -LogPath"));
	cr_assert_str_eq(fx_fact(&r, "format")->valuestring, "stub");
	result_clear(&r);
	free(text);
}

Test(check_updatelog, empty_log_is_a_skip)
{
	struct check_result r;

	run_with_log("", &r);
	cr_assert_eq(r.status, ST_SKIP);
	assert_all(&r, ST_SKIP, 0);
	cr_assert_eq(fx_fact(&r, "lines")->valuedouble, 0);
	result_clear(&r);
}

static void
set_read_fault(cJSON *doc, double code)
{
	cJSON *f = cJSON_GetObjectItem(files_of(doc), LOG_PATH);
	cJSON *fault = cJSON_AddObjectToObject(f, "fault");

	cJSON_AddNumberToObject(fault, "read", code);
}

Test(check_updatelog, unreadable_log_is_an_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	set_read_fault(doc, 32); /* ERROR_SHARING_VIOLATION */
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_ERROR);
	assert_all(&r, ST_ERROR, 0x80070020u);
	cr_assert_str_eq(r.findings[0].message,
			 "could not read C:\\Windows\\WindowsUpdate.log "
			 "(0x80070020)");
	cr_assert(cJSON_IsTrue(fx_fact(&r, "exists")));
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_updatelog, a_folder_is_an_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *dir = cJSON_CreateObject();
	struct check_result r;

	cJSON_DeleteItemFromObject(files_of(doc), LOG_PATH);
	cJSON_AddStringToObject(dir, "type", "dir");
	cJSON_AddItemToObject(files_of(doc), LOG_PATH, dir);
	run_doc(doc, &r);
	assert_all(&r, ST_ERROR, 0x80070005u);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_updatelog, system_root_from_the_registry)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *cv = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "registry"),
	    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
	struct check_result r;
	const struct finding *f;

	cJSON_DeleteItemFromObject(cv, "SystemRoot");
	cJSON_AddStringToObject(cv, "SystemRoot", "D:\\WINNT\\");
	set_log_text(doc, "D:\\WINNT\\WindowsUpdate.log",
		     "2026/11/20 10:00:00.1234567 1176  4620  Agent          "
		     " Exit code = 0x8024402C\n");
	run_doc(doc, &r);
	cr_assert_str_eq(fx_fact(&r, "path")->valuestring,
			 "D:\\WINNT\\WindowsUpdate.log");
	cr_assert_str_eq(fx_fact(&r, "system_root")->valuestring, "D:\\WINNT");
	f = fx_find(&r, "updatelog.proxy");
	cr_assert_eq(f->error, 0x8024402Cu);
	cr_assert_eq(detail_num(f, "line"), 1);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_updatelog, system_root_defaults)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *cv = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "registry"),
	    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
	struct check_result r;

	cJSON_DeleteItemFromObject(cv, "SystemRoot");
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_PASS);
	cr_assert_str_eq(fx_fact(&r, "system_root")->valuestring,
			 "C:\\Windows");
	cr_assert(cJSON_IsFalse(fx_fact(&r, "system_root_from_registry")));
	result_clear(&r);
	cJSON_Delete(doc);
}

/* A log larger than what is read: only its end counts, and the line
 * numbers say so. */
Test(check_updatelog, only_the_end_of_a_large_log_is_read)
{
	static const char old[] = "2026/10/01 10:00:00.0000001 1176  4620  "
				  "Agent           Exit code = 0x8024402C\n";
	static const char filler[] = "2026/11/20 10:00:00.1234567 1176  4620  "
				     "Agent           Found 0 updates\n";
	static const char last[] = "2026/11/21 10:00:00.7654321 1176  5012  "
				   "DownloadManager hr = 0x80200013\n";
	size_t n = sizeof(filler) - 1, lines = WULOG_READ_MAX / n + 100;
	char *text = xmalloc(sizeof(old) + lines * n + sizeof(last));
	size_t at = sizeof(old) - 1;
	struct check_result r;
	const struct finding *f;

	memcpy(text, old, at);
	for (size_t i = 0; i < lines; i++, at += n)
		memcpy(text + at, filler, n);
	memcpy(text + at, last, sizeof(last));
	run_with_log(text, &r);
	cr_assert(cJSON_IsTrue(fx_fact(&r, "truncated")));
	cr_assert_eq(fx_fact(&r, "bytes_read")->valuedouble, WULOG_READ_MAX);
	cr_assert_eq(fx_fact(&r, "file_bytes")->valuedouble,
		     (double)strlen(text));
	/* The old proxy error is before the part read. */
	cr_assert_eq(fx_find(&r, "updatelog.proxy")->status, ST_PASS);
	f = fx_find(&r, "updatelog.download");
	cr_assert_eq(f->status, ST_FAIL);
	/* WULOG_READ_MAX bytes, less the partial first line, are whole
	 * lines: the last of them is the download error. */
	cr_assert_eq(detail_num(f, "line"),
		     (WULOG_READ_MAX - (sizeof(last) - 1)) / n + 1);
	cr_assert_not_null(strstr(f->message, "of the last 2097152 bytes"),
			   "%s", f->message);
	cr_assert_str_eq(fx_fact(&r, "first_time")->valuestring,
			 "2026-11-20T10:00:00.123");
	result_clear(&r);
	free(text);
}

/* The simulated host reads UTF-16 logs as Windows writes them. */
Test(check_updatelog, utf16_log)
{
	char dir[] = "/tmp/wsd-test-updatelog-XXXXXX";
	char *ascii = fixture_text("classic-proxy.log");
	const char *rel = "wu16.log";
	char *path;
	cJSON *doc = fx_load_example("healthy.json"), *f = cJSON_CreateObject();
	struct check_result r;
	struct host *h;
	FILE *fp;

	cr_assert_not_null(mkdtemp(dir));
	path = xasprintf("%s/%s", dir, rel);
	fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	fputc(0xFF, fp);
	fputc(0xFE, fp);
	for (const char *p = ascii; *p != '\0'; p++) {
		fputc(*p, fp);
		fputc(0, fp);
	}
	fclose(fp);
	cJSON_DeleteItemFromObject(files_of(doc), LOG_PATH);
	cJSON_AddStringToObject(f, "type", "file");
	cJSON_AddStringToObject(f, "text_file", rel);
	cJSON_AddItemToObject(files_of(doc), LOG_PATH, f);
	h = open_doc_in(doc, dir);
	run_check(h, &r);
	host_close(h);
	cr_assert_eq(fx_find(&r, "updatelog.proxy")->error, 0x80072EE2u);
	cr_assert_eq(detail_num(fx_find(&r, "updatelog.proxy"), "line"), 34);
	cr_assert_eq(fx_fact(&r, "bytes_read")->valuedouble, strlen(ascii));
	result_clear(&r);
	unlink(path);
	rmdir(dir);
	free(path);
	free(ascii);
	cJSON_Delete(doc);
}

Test(check_updatelog, renders_json)
{
	struct check_result r;
	cJSON *j, *it, *f = NULL;

	run_example("updatelog-proxy-errors.json", &r);
	j = result_to_json(&r);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "findings"))
	{
		if (strcmp(cJSON_GetObjectItem(it, "id")->valuestring,
			   "updatelog.proxy") == 0)
			f = it;
	}
	cr_assert_not_null(f);
	cr_assert_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(f, "error"), "code")
		->valuestring,
	    "0x80072EE7");
	cr_assert_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(f, "error"), "name")
		->valuestring,
	    "ERROR_WINHTTP_NAME_NOT_RESOLVED");
	cJSON_Delete(j);
	result_clear(&r);
}

/* ---- every check on the examples (what GET /report shows) ---------------- */

Test(check_updatelog, examples_fail_only_updatelog)
{
	fx_assert_only("updatelog-proxy-errors.json", &settings, "updatelog",
		       ST_FAIL);
	fx_assert_only("updatelog-download-errors.json", &settings, "updatelog",
		       ST_FAIL);
	fx_assert_only("healthy.json", &settings, "updatelog", ST_PASS);
}
