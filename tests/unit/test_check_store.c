/*
 * test_check_store.c: the store check on simulated hosts: the example
 * files, healthy.json with one thing changed (the folder, the database,
 * the volume, an event, a fault), and every check on the examples.
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

#define SD	 "C:\\Windows\\SoftwareDistribution"
#define EDB	 SD "\\DataStore\\DataStore.edb"
#define LOG_PATH "C:\\Windows\\WindowsUpdate.log"
#define WUC_LOG	 "Microsoft-Windows-WindowsUpdateClient/Operational"

#define RESET_TEXT                                                             \
	"Rebuild the Automatic Update Agent Store: sc stop wuauserv; rename "  \
	"C:\\Windows\\SoftwareDistribution (for example to "                   \
	"SoftwareDistribution.old); sc start wuauserv; wuauclt "               \
	"/resetauthorization /detectnow; wuauclt /reportnow"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static void
run_check(struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_store, &ctx, r);
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
	struct host *h = fx_open_doc(doc);

	run_check(h, r);
	host_close(h);
}

static cJSON *
files_of(cJSON *doc)
{
	return cJSON_GetObjectItem(doc, "files");
}

static cJSON *
volume_c(cJSON *doc)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "volumes"), "C:");
}

static void
assert_remedy_action(const struct finding *f, const char *id)
{
	if (action_find(id) == NULL)
		cr_assert_null(f->remedy_action);
	else
		cr_assert_str_eq(f->remedy_action, id);
}

static void
add_event_at(cJSON *doc, const char *time, const char *log, double id,
	     const char *level, const char *code, const char *message)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "log", log);
	cJSON_AddNumberToObject(e, "id", id);
	cJSON_AddStringToObject(e, "level", level);
	cJSON_AddStringToObject(e, "time", time);
	if (code != NULL)
		cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "events"), e);
}

static void
add_event(cJSON *doc, const char *log, double id, const char *level,
	  const char *code, const char *message)
{
	add_event_at(doc, "2026-11-21T09:12:04Z", log, id, level, code,
		     message);
}

/* ESENT event 474 as Windows writes it about the agent's database. */
#define ESENT_474                                                              \
	"svchost (1176,D,22) SUS20ClientDataStore: The database page read "    \
	"from the file \"C:\\Windows\\SoftwareDistribution\\DataStore\\"       \
	"DataStore.edb\" at offset 3145728 (0x0000000000300000) (database "    \
	"page 384 (0x180)) for 8192 (0x00002000) bytes failed verification "   \
	"due to a page checksum mismatch. The read operation will fail with "  \
	"error -1018 (0xfffffc06)."

Test(check_store, descriptor)
{
	cr_assert_eq(check_find("store"), &check_store);
	cr_assert_str_eq(check_store.title, "Automatic Update Agent store");
	cr_assert_str_eq(check_store.seed_section,
			 "Rebuild the Automatic Update Agent Store");
	cr_assert_eq(check_store.time_limit_ms, 15000);
}

Test(check_store, healthy_passes_every_finding)
{
	static const char *const ids[] = {"store.folder", "store.datastore",
					  "store.free_space", "store.errors"};
	struct check_result r;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 4);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_str_eq(r.findings[i].id, ids[i]);
		cr_assert_eq(r.findings[i].status, ST_PASS, "%s: %s", ids[i],
			     r.findings[i].message);
		cr_assert_eq(r.findings[i].error, 0);
	}
	cr_assert_str_eq(fx_find(&r, "store.datastore")->observed,
			 "present, 72 MiB");
	cr_assert_str_eq(fx_find(&r, "store.free_space")->observed,
			 "64.0 GiB free of 237.8 GiB");
	cr_assert_str_eq(fx_find(&r, "store.free_space")->expected,
			 "at least 2.0 GiB free");
	cr_assert_str_eq(fx_find(&r, "store.errors")->message,
			 "no data store errors in the 6 lines of "
			 "WindowsUpdate.log read or in the event logs");
	cr_assert_str_eq(fx_fact(&r, "software_distribution")->valuestring, SD);
	cr_assert_str_eq(fx_fact(&r, "datastore")->valuestring, EDB);
	cr_assert_eq(fx_fact(&r, "datastore_bytes")->valuedouble, 75497472);
	cr_assert_eq(fx_fact(&r, "volume_free_bytes")->valuedouble,
		     68719476736.0);
	cr_assert_eq(cJSON_GetArraySize(fx_fact(&r, "event_logs_read")), 2);
	result_clear(&r);
}

Test(check_store, store_missing)
{
	struct check_result r;
	const struct finding *f;

	run_example("store-missing.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "store.folder");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->expected, "present");
	cr_assert_str_eq(f->observed, "missing");
	assert_remedy_action(f, "start-wuauserv");
	cr_assert_not_null(strstr(f->remedy_text, "sc start wuauserv"));
	/* The one fault: the rest does not pile on. */
	cr_assert_eq(fx_find(&r, "store.datastore")->status, ST_SKIP);
	f = fx_find(&r, "store.free_space");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_not_null(strstr(f->message, "holding C:\\Windows"));
	cr_assert_eq(fx_find(&r, "store.errors")->status, ST_PASS);
	result_clear(&r);
}

Test(check_store, datastore_missing)
{
	struct check_result r;
	const struct finding *f;

	run_example("store-datastore-missing.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "store.datastore");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_str_eq(f->observed, "missing");
	cr_assert_str_eq(f->remedy_text, RESET_TEXT);
	assert_remedy_action(f, "reset-store");
	cr_assert_eq(fx_find(&r, "store.folder")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "store.free_space")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "store.errors")->status, ST_PASS);
	result_clear(&r);
}

Test(check_store, low_disk)
{
	struct check_result r;
	const struct finding *f;

	run_example("store-low-disk.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "store.free_space");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070070u); /* ERROR_DISK_FULL */
	cr_assert_str_eq(f->observed, "300 MiB free of 237.8 GiB");
	cr_assert_str_eq(f->message,
			 "only 300 MiB free on the volume holding "
			 "C:\\Windows\\SoftwareDistribution: updates need "
			 "room to download and unpack");
	cr_assert_null(f->remedy_action);
	cr_assert_not_null(strstr(f->remedy_text, "Windows Update Cleanup"));
	cr_assert_eq(fx_find(&r, "store.folder")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "store.datastore")->status, ST_PASS);
	result_clear(&r);
}

static enum status
space_with(double free_b)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	enum status st;

	fx_set_num(volume_c(doc), "free_bytes", free_b);
	run_doc(doc, &r);
	st = fx_find(&r, "store.free_space")->status;
	if (st == ST_WARN)
		cr_assert_eq(fx_find(&r, "store.free_space")->error, 0);
	result_clear(&r);
	cJSON_Delete(doc);
	return st;
}

Test(check_store, free_space_thresholds)
{
	const double mib = 1024.0 * 1024.0;

	cr_assert_eq(space_with(0), ST_FAIL);
	cr_assert_eq(space_with(500 * mib - 1), ST_FAIL);
	cr_assert_eq(space_with(500 * mib), ST_WARN);
	cr_assert_eq(space_with(2048 * mib - 1), ST_WARN);
	cr_assert_eq(space_with(2048 * mib), ST_PASS);
}

Test(check_store, errors_in_log)
{
	struct check_result r;
	const struct finding *f;
	const cJSON *log;

	run_example("store-errors-in-log.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80248FFFu);
	cr_assert_str_eq(f->message,
			 "WindowsUpdate.log shows a damaged data store in 5 "
			 "lines; the latest, line 15 at "
			 "2026-11-21T09:12:04.980: WU_E_DS_UNEXPECTED "
			 "(0x80248FFF)");
	cr_assert_not_null(strstr(f->observed, "Exit code = 0x80248FFF"));
	cr_assert_str_eq(f->expected, "none");
	cr_assert_str_eq(f->remedy_text, RESET_TEXT);
	assert_remedy_action(f, "reset-store");
	log = cJSON_GetObjectItem(f->details, "log");
	cr_assert_eq(cJSON_GetObjectItem(log, "line")->valuedouble, 15);
	cr_assert_str_eq(cJSON_GetObjectItem(log, "code")->valuestring,
			 "0x80248FFF");
	cr_assert_null(cJSON_GetObjectItem(f->details, "event"));
	/* The store's age is unknown: nothing is set aside. */
	cr_assert_null(cJSON_GetObjectItem(f->details, "older_than_store"));
	cr_assert(cJSON_IsNull(fx_fact(&r, "store_created")));
	cr_assert_eq(fx_find(&r, "store.folder")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "store.datastore")->status, ST_PASS);
	cr_assert_eq(fx_find(&r, "store.free_space")->status, ST_PASS);
	result_clear(&r);
}

/* ---- errors older than the store ---------------------------------------- */

#define TZ_KEY "HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation"

static cJSON *
file_of(cJSON *doc, const char *path)
{
	cJSON *f = cJSON_GetObjectItem(files_of(doc), path);

	cr_assert_not_null(f, "no files.%s", path);
	return f;
}

/* store-errors-in-log.json (5 store lines, the latest at 09:12:04.980
 * local time) with the folder created at created; bias_min is
 * ActiveTimeBias, none when unset. */
static cJSON *
store_errors_doc(const char *created, bool unset, int32_t bias_min)
{
	cJSON *doc = fx_load_example("store-errors-in-log.json");
	cJSON *log = file_of(doc, LOG_PATH), *tz;
	char *path = fx_example_path("logs/store-error.log");
	char *text = fx_slurp(path, NULL);

	/* Inline: the document is opened from a temporary directory. */
	cJSON_DeleteItemFromObject(log, "text_file");
	fx_set_str(log, "text", text);
	free(text);
	free(path);
	if (created != NULL)
		fx_set_str(file_of(doc, SD), "created", created);
	if (!unset) {
		tz = cJSON_CreateObject();
		cJSON_AddNumberToObject(tz, "ActiveTimeBias",
					(double)(uint32_t)bias_min);
		fx_set_item(cJSON_GetObjectItem(doc, "registry"), TZ_KEY, tz);
	}
	return doc;
}

static const cJSON *
older_of(const struct finding *f)
{
	const cJSON *o = cJSON_GetObjectItem(f->details, "older_than_store");

	cr_assert_not_null(o, "no details.older_than_store");
	return o;
}

static double
onum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	cr_assert(cJSON_IsNumber(v), "%s is no number", key);
	return v->valuedouble;
}

static const char *
ostr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	cr_assert(cJSON_IsString(v), "%s is no string", key);
	return v->valuestring;
}

/* The errors fail store.errors as in errors_in_log. */
static const struct finding *
assert_log_errors_judged(const struct check_result *r)
{
	const struct finding *f = fx_find(r, "store.errors");

	cr_assert_eq(f->status, ST_FAIL, "%s", f->message);
	cr_assert_eq(f->error, 0x80248FFFu);
	cr_assert_str_eq(f->message,
			 "WindowsUpdate.log shows a damaged data store in 5 "
			 "lines; the latest, line 15 at "
			 "2026-11-21T09:12:04.980: WU_E_DS_UNEXPECTED "
			 "(0x80248FFF)");
	return f;
}

/* The rebuilt store is younger than every error: they are reported as
 * set aside, and the finding passes. */
Test(check_store, errors_older_than_the_store_are_ignored)
{
	cJSON *doc = store_errors_doc("2026-11-21T12:00:00Z", false, 0);
	struct check_result r;
	const struct finding *f;
	const cJSON *o;

	add_event(doc, "Application", 474, "error", NULL, ESENT_474);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_eq(f->error, 0);
	cr_assert_str_eq(f->message,
			 "no data store errors in the 15 lines of "
			 "WindowsUpdate.log read or in the event logs; 6 "
			 "older store errors (5 in WindowsUpdate.log, 1 in "
			 "the event logs) predate the current store (created "
			 "2026-11-21T12:00:00Z) and are ignored");
	cr_assert_str_eq(f->expected, "none");
	cr_assert_str_eq(f->observed, "none since 2026-11-21T12:00:00Z");
	cr_assert_null(f->remedy_action);
	o = older_of(f);
	cr_assert_str_eq(ostr(o, "store_created"), "2026-11-21T12:00:00Z");
	cr_assert_str_eq(ostr(o, "log_cutoff"), "2026-11-21T12:00:00.000");
	cr_assert_eq(onum(o, "active_time_bias_min"), 0);
	cr_assert_eq(onum(o, "log_lines"), 5);
	cr_assert_eq(onum(o, "events"), 1);
	cr_assert_str_eq(fx_fact(&r, "store_created")->valuestring,
			 "2026-11-21T12:00:00Z");
	result_clear(&r);
	cJSON_Delete(doc);
}

/* One error and the finding's words are singular. */
Test(check_store, one_older_event_is_ignored)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	fx_set_str(file_of(doc, SD), "created", "2026-11-21T12:00:00Z");
	add_event(doc, "Application", 474, "error", NULL, ESENT_474);
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "no data store errors in the 6 lines of "
			 "WindowsUpdate.log read or in the event logs; 1 "
			 "older store error (0 in WindowsUpdate.log, 1 in the "
			 "event logs) predates the current store (created "
			 "2026-11-21T12:00:00Z) and is ignored");
	/* No time zone: the log's cutoff is 12 h earlier (UTC-12). */
	cr_assert(cJSON_IsNull(
	    cJSON_GetObjectItem(older_of(f), "active_time_bias_min")));
	cr_assert_str_eq(ostr(older_of(f), "log_cutoff"),
			 "2026-11-21T00:00:00.000");
	result_clear(&r);
	cJSON_Delete(doc);
}

/* Errors written after the store was created fail as before; the older
 * event beside them is counted, the finding is the log's. */
Test(check_store, errors_newer_than_the_store_fail)
{
	cJSON *doc = store_errors_doc("2026-11-21T09:00:00Z", false, 0);
	struct check_result r;
	const struct finding *f;

	add_event_at(doc, "2026-11-21T08:59:59Z", "Application", 474, "error",
		     NULL, ESENT_474);
	run_doc(doc, &r);
	f = assert_log_errors_judged(&r);
	cr_assert_null(cJSON_GetObjectItem(f->details, "event"));
	cr_assert_eq(onum(older_of(f), "log_lines"), 0);
	cr_assert_eq(onum(older_of(f), "events"), 1);
	assert_remedy_action(f, "reset-store");
	result_clear(&r);
	cJSON_Delete(doc);
}

/* An event written after the store was created fails. */
Test(check_store, an_event_newer_than_the_store_fails)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	fx_set_str(file_of(doc, SD), "created", "2026-11-21T09:12:03Z");
	add_event(doc, "Application", 474, "error", NULL, ESENT_474);
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0xC80003FAu);
	cr_assert_eq(onum(older_of(f), "events"), 0);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* The log's times are local: ActiveTimeBias (UTC = local + bias) moves
 * its lines against the store's UTC creation time. */
Test(check_store, log_times_are_read_in_the_hosts_time_zone)
{
	/* UTC+2: 09:12:04 local is 07:12:04 UTC, before 08:00 UTC. */
	cJSON *doc = store_errors_doc("2026-11-21T08:00:00Z", false, -120);
	struct check_result r;
	const struct finding *f;

	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(ostr(older_of(f), "log_cutoff"),
			 "2026-11-21T10:00:00.000");
	cr_assert_eq(onum(older_of(f), "active_time_bias_min"), -120);
	cr_assert_eq(onum(older_of(f), "log_lines"), 5);
	result_clear(&r);
	cJSON_Delete(doc);
	/* UTC-2: 09:12:04 local is 11:12:04 UTC, after 10:00 UTC. */
	doc = store_errors_doc("2026-11-21T10:00:00Z", false, 120);
	run_doc(doc, &r);
	f = assert_log_errors_judged(&r);
	cr_assert_str_eq(ostr(older_of(f), "log_cutoff"),
			 "2026-11-21T08:00:00.000");
	result_clear(&r);
	cJSON_Delete(doc);
}

/* Without a time zone a line is set aside only when it is older than the
 * store in every zone: local time 12 h (UTC-12) before the creation. */
Test(check_store, unknown_time_zone_takes_the_widest_offset)
{
	cJSON *doc = store_errors_doc("2026-11-21T21:12:04Z", true, 0);
	struct check_result r;
	const struct finding *f;

	run_doc(doc, &r);
	/* 09:12:04.980 local is not before 09:12:04.000. */
	f = assert_log_errors_judged(&r);
	cr_assert_str_eq(ostr(older_of(f), "log_cutoff"),
			 "2026-11-21T09:12:04.000");
	result_clear(&r);
	cJSON_Delete(doc);
	doc = store_errors_doc("2026-11-21T21:12:05Z", true, 0);
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_eq(onum(older_of(f), "log_lines"), 5);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* DataStore.edb younger than its folder dates the store: a folder made
 * again within seconds of a rename may be handed the old one's creation
 * time (NTFS tunnelling); a database in a new DataStore cannot be. */
Test(check_store, the_database_can_date_the_store)
{
	cJSON *doc = store_errors_doc("2025-03-14T08:02:11Z", false, 0);
	struct check_result r;
	const struct finding *f;

	fx_set_str(file_of(doc, EDB), "created", "2026-11-21T12:00:00Z");
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(ostr(older_of(f), "store_created"),
			 "2026-11-21T12:00:00Z");
	result_clear(&r);
	cJSON_Delete(doc);
}

/* Undated lines and events without a time cannot be placed before the
 * store: they are judged. */
Test(check_store, undated_errors_are_judged)
{
	cJSON *doc = store_errors_doc("2026-11-21T12:00:00Z", false, 0);
	cJSON *log = file_of(doc, LOG_PATH), *e;
	struct check_result r;
	const struct finding *f;

	fx_set_str(log, "text",
		   "2026/11/21 09:12:04.9612020 1176  4620  DataStore       "
		   "*FAILED* [C80003FA] CDataStore::InsertRevision\n"
		   "  *FAILED* [80248FFF] CDataStore::InsertRevision\n");
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80248FFFu);
	cr_assert_str_eq(f->message,
			 "WindowsUpdate.log shows a damaged data store in 1 "
			 "line; the latest, line 2: WU_E_DS_UNEXPECTED "
			 "(0x80248FFF)");
	cr_assert_eq(onum(older_of(f), "log_lines"), 1);
	result_clear(&r);
	cJSON_Delete(doc);
	doc = store_errors_doc("2026-11-21T12:00:00Z", false, 0);
	fx_set_str(file_of(doc, LOG_PATH), "text", "");
	add_event(doc, "Application", 474, "error", NULL, ESENT_474);
	e = cJSON_GetArrayItem(
	    cJSON_GetObjectItem(doc, "events"),
	    cJSON_GetArraySize(cJSON_GetObjectItem(doc, "events")) - 1);
	cJSON_DeleteItemFromObject(e, "time");
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0xC80003FAu);
	cr_assert_not_null(strstr(f->message, "at 1970-01-01T00:00:00Z"), "%s",
			   f->message);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, esent_error_event)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;
	const cJSON *ev;

	add_event(doc, "Application", 474, "error", NULL, ESENT_474);
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0xC80003FAu);
	/* ESE codes may get names in the knowledge base: the hex stays. */
	cr_assert_eq(strncmp(f->message,
			     "event 474 in Application at 2026-11-21T09:12:04Z "
			     "reports a damaged data store: ",
			     79),
		     0, "%s", f->message);
	cr_assert_not_null(strstr(f->message, "0xC80003FA"));
	cr_assert_str_eq(f->observed, ESENT_474);
	ev = cJSON_GetObjectItem(f->details, "event");
	cr_assert_str_eq(cJSON_GetObjectItem(ev, "log")->valuestring,
			 "Application");
	cr_assert_str_eq(cJSON_GetObjectItem(ev, "code")->valuestring,
			 "0xC80003FA");
	assert_remedy_action(f, "reset-store");
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, agent_event_with_a_store_code)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	add_event(doc, WUC_LOG, 20, "error", "0x80248008",
		  "Installation Failure: Windows failed to install the "
		  "following update with error 0x80248008.");
	/* Older and from another log: the newest one is reported. */
	add_event_at(doc, "2026-11-20T08:00:00Z", "Application", 474, "error",
		     NULL, ESENT_474);
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80248008u);
	cr_assert_not_null(strstr(f->message, "event 20 in " WUC_LOG));
	cr_assert_not_null(strstr(f->message, "0x80248008"), "%s", f->message);
	cr_assert_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(f->details, "event"), "log")
		->valuestring,
	    WUC_LOG);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* The newest store event is reported, whichever log it is in. */
Test(check_store, newest_event_wins)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	add_event_at(doc, "2026-11-19T08:00:00Z", WUC_LOG, 20, "error",
		     "0x80248008", "Installation Failure: error 0x80248008.");
	add_event(doc, "Application", 474, "error", NULL, ESENT_474);
	run_doc(doc, &r);
	cr_assert_eq(fx_find(&r, "store.errors")->error, 0xC80003FAu);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, routine_events_are_ignored)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;

	/* ESENT's warnings about the store are routine (636, 640). */
	add_event(doc, "Application", 640, "warning", NULL,
		  "wuaueng.dll (960) SUS20ClientDataStore: Error -1919 "
		  "validating header page on flush map file "
		  "\"C:\\Windows\\SoftwareDistribution\\DataStore\\"
		  "DataStore.jfm\".");
	/* An error about another ESE database. */
	add_event(doc, "Application", 474, "error", NULL,
		  "svchost (812) SRUJet: The database page read from the "
		  "file \"C:\\Windows\\system32\\SRU\\SRUDB.dat\" failed "
		  "verification. error -1018 (0xfffffc06).");
	/* An agent error that is not about the store. */
	add_event(doc, WUC_LOG, 20, "error", "0x80240022",
		  "Installation Failure: error 0x80240022.");
	run_doc(doc, &r);
	cr_assert_eq(fx_find(&r, "store.errors")->status, ST_PASS, "%s",
		     fx_find(&r, "store.errors")->message);
	result_clear(&r);
	cJSON_Delete(doc);
}

static void
set_fault(cJSON *obj, const char *key, double code)
{
	cJSON *fault = cJSON_GetObjectItem(obj, "fault");

	if (fault == NULL)
		fault = cJSON_AddObjectToObject(obj, "fault");
	fx_set_num(fault, key, code);
}

Test(check_store, unreadable_events_are_an_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	set_fault(doc, "events", 5);
	run_doc(doc, &r);
	cr_assert_eq(r.status, ST_ERROR);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message,
			 "could not read the event logs (0x80070005)");
	cr_assert_eq(cJSON_GetArraySize(fx_fact(&r, "event_logs_read")), 0);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, evidence_wins_over_an_unreadable_source)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *log = cJSON_CreateObject();
	struct check_result r;

	cJSON_DeleteItemFromObject(files_of(doc), LOG_PATH);
	cJSON_AddStringToObject(log, "type", "file");
	cJSON_AddStringToObject(log, "text",
				"2026/11/21 09:12:04.9612020 1176  4620  "
				"DataStore       *FAILED* [C80003FA] "
				"CDataStore::InsertRevision\n");
	cJSON_AddItemToObject(files_of(doc), LOG_PATH, log);
	set_fault(doc, "events", 5);
	run_doc(doc, &r);
	cr_assert_eq(fx_find(&r, "store.errors")->status, ST_FAIL);
	cr_assert_eq(fx_find(&r, "store.errors")->error, 0xC80003FAu);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, unreadable_log_is_an_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	set_fault(cJSON_GetObjectItem(files_of(doc), LOG_PATH), "read", 32);
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070020u);
	cr_assert_str_eq(f->message, "could not read "
				     "C:\\Windows\\WindowsUpdate.log "
				     "(0x80070020)");
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, no_text_log_reads_events_only)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	cJSON_DeleteItemFromObject(files_of(doc), LOG_PATH);
	run_doc(doc, &r);
	f = fx_find(&r, "store.errors");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->message,
			 "no data store errors in the event logs (no text "
			 "WindowsUpdate.log here: Windows 10 and later write "
			 "ETL traces)");
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, folder_is_a_file)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *files = files_of(doc), *f = cJSON_CreateObject();
	struct check_result r;

	cJSON_DeleteItemFromObject(files, SD "\\DataStore\\DataStore.edb");
	cJSON_DeleteItemFromObject(files, SD "\\DataStore");
	cJSON_DeleteItemFromObject(files, SD "\\Download");
	cJSON_DeleteItemFromObject(files, SD);
	cJSON_AddStringToObject(f, "type", "file");
	cJSON_AddNumberToObject(f, "size", 0);
	cJSON_AddItemToObject(files, SD, f);
	run_doc(doc, &r);
	cr_assert_eq(fx_find(&r, "store.folder")->status, ST_FAIL);
	cr_assert_str_eq(fx_find(&r, "store.folder")->observed, "a file");
	cr_assert_str_eq(fx_find(&r, "store.folder")->remedy_text, RESET_TEXT);
	cr_assert_eq(fx_find(&r, "store.datastore")->status, ST_SKIP);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, empty_datastore)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	fx_set_num(cJSON_GetObjectItem(files_of(doc), EDB), "size", 0);
	run_doc(doc, &r);
	f = fx_find(&r, "store.datastore");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_str_eq(f->observed, "0 bytes");
	cr_assert_str_eq(f->remedy_text, RESET_TEXT);
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, no_volume_is_an_error)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct check_result r;
	const struct finding *f;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "volumes"), "C:");
	run_doc(doc, &r);
	f = fx_find(&r, "store.free_space");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070003u);
	cr_assert_null(cJSON_GetObjectItem(r.facts, "volume_free_bytes"));
	result_clear(&r);
	cJSON_Delete(doc);
}

Test(check_store, system_root_from_the_registry)
{
	cJSON *doc = fx_load_example("healthy.json");
	cJSON *cv = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "registry"),
	    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
	struct check_result r;
	const struct finding *f;

	/* Windows on D:, with no SoftwareDistribution there. */
	cJSON_DeleteItemFromObject(cv, "SystemRoot");
	cJSON_AddStringToObject(cv, "SystemRoot", "D:\\Windows");
	run_doc(doc, &r);
	cr_assert_str_eq(fx_fact(&r, "software_distribution")->valuestring,
			 "D:\\Windows\\SoftwareDistribution");
	f = fx_find(&r, "store.folder");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	/* No volume D: in healthy.json. */
	cr_assert_eq(fx_find(&r, "store.free_space")->status, ST_ERROR);
	result_clear(&r);
	cJSON_Delete(doc);
}

/* ---- every check on the examples (what GET /report shows) ---------------- */

Test(check_store, examples_fail_only_store)
{
	fx_assert_only("store-missing.json", &settings, "store", ST_FAIL);
	fx_assert_only("store-datastore-missing.json", &settings, "store",
		       ST_FAIL);
	fx_assert_only("store-low-disk.json", &settings, "store", ST_FAIL);
	fx_assert_only("store-errors-in-log.json", &settings, "store", ST_FAIL);
	fx_assert_only("healthy.json", &settings, "store", ST_PASS);
}
