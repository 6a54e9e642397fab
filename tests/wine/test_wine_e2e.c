/*
 * wsusdiagd.exe end to end under Wine: the real Win32 host against Wine's
 * own service manager and registry, changed with `wine sc` / `wine reg`
 * the way an administrator (or a fault) would, and the daemon called
 * over TLS from Linux. Skipped when build-win/wsusdiagd.exe is absent.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wine_harness.h"

static struct daemon d;

static void
setup(void)
{
	wine_setup();
}

static void
teardown(void)
{
	wine_teardown(&d);
}

TestSuite(wine, .init = setup, .fini = teardown, .timeout = 240);

/* The run's wineserver is persistent: stop it after the last test. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	wine_shutdown();
}

/* ---- helpers ------------------------------------------------------------ */

static void
get(const char *path, const char *token, struct http_reply *r)
{
	struct http_opts o = {.method = "GET", .path = path, .token = token};

	http_call(&d, &o, r);
	cr_assert_eq(r->status, 200, "GET %s: %ld (curl %d) %s", path,
		     r->status, r->curl_code, r->body);
	cr_assert_not_null(r->json, "GET %s: not JSON: %s", path, r->body);
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsString(v), "no string \"%s\" where expected", key);
	return v->valuestring;
}

static const cJSON *
member_with(const cJSON *arr, const char *key, const char *value)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);

		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			return e;
	}
	return NULL;
}

/* GET /checks/bits into r; returns the finding with that id. */
static const cJSON *
bits_finding(struct http_reply *r, const char *id)
{
	const cJSON *f;

	get("/checks/bits", READ_TOKEN, r);
	cr_assert_str_eq(str(r->json, "id"), "bits");
	f = member_with(cJSON_GetObjectItem(r->json, "findings"), "id", id);
	cr_assert_not_null(f, "no %s finding: %s", id, r->body);
	return f;
}

/* The finding id in r (a GET /checks/bits reply) has this status. */
static const cJSON *
expect_finding(const struct http_reply *r, const char *id, const char *st)
{
	const cJSON *f =
	    member_with(cJSON_GetObjectItem(r->json, "findings"), "id", id);

	cr_assert_not_null(f, "no %s finding: %s", id, r->body);
	cr_expect_str_eq(str(f, "status"), st, "%s: %s", id, r->body);
	return f;
}

static const char *
fact_str(const struct http_reply *r, const char *key)
{
	return str(cJSON_GetObjectItem(r->json, "facts"), key);
}

static double
fact_num(const struct http_reply *r, const char *key)
{
	const cJSON *v =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "facts"), key);

	cr_assert(cJSON_IsNumber(v), "no number fact %s: %s", key, r->body);
	return v->valuedouble;
}

static void
expect_error(const cJSON *o, const char *code, const char *name)
{
	const cJSON *e = cJSON_GetObjectItem(o, "error");

	cr_assert(cJSON_IsObject(e), "no error object where %s was expected",
		  code);
	cr_expect_str_eq(str(e, "code"), code);
	cr_expect_str_eq(str(e, "name"), name);
}

static void
start_bits(void)
{
	wine_must("sc", "start", "BITS", NULL);
	cr_assert(wine_sc_wait("BITS", WINE_SVC_RUNNING, 30000),
		  "Wine's BITS did not reach RUNNING");
}

static void
disable_bits(void)
{
	wine_reg_set(WINE_BITS_KEY, "Start", "REG_DWORD", "4");
	wine_services_restart();
}

static void
post_restart_bits(struct http_reply *r)
{
	struct http_opts o = {.method = "POST",
			      .path = "/actions/restart-bits",
			      .token = ADMIN_TOKEN,
			      .body = "{}",
			      .timeout_ms = 120000};

	http_call(&d, &o, r);
	cr_assert_eq(r->status, 200, "POST restart-bits: %ld (curl %d) %s",
		     r->status, r->curl_code, r->body);
	cr_assert_not_null(r->json);
	cr_expect_str_eq(str(r->json, "id"), "restart-bits");
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(r->json, "dry_run")));
}

static void
post_restart_bits_dry_run(struct http_reply *r)
{
	struct http_opts o = {.method = "POST",
			      .path = "/actions/restart-bits",
			      .token = ADMIN_TOKEN,
			      .body = "{\"dry_run\":true}"};

	http_call(&d, &o, r);
	cr_assert_eq(r->status, 200, "POST restart-bits dry run: %ld %s",
		     r->status, r->body);
	cr_expect_str_eq(str(r->json, "status"), "planned");
}

static const cJSON *
step(const struct http_reply *r, const char *name)
{
	const cJSON *s =
	    member_with(cJSON_GetObjectItem(r->json, "steps"), "name", name);

	cr_assert_not_null(s, "no step \"%s\": %s", name, r->body);
	return s;
}

static void
expect_steps(const struct http_reply *r, const char *const want[4])
{
	static const char *const names[] = {
	    "stop BITS", "wait for BITS to stop", "start BITS",
	    "wait for BITS to run"};
	const cJSON *steps = cJSON_GetObjectItem(r->json, "steps");

	cr_assert_eq(cJSON_GetArraySize(steps), 4, "%s", r->body);
	for (int i = 0; i < 4; i++) {
		const cJSON *s = cJSON_GetArrayItem(steps, i);

		cr_expect_str_eq(str(s, "name"), names[i]);
		cr_expect_str_eq(str(s, "status"), want[i], "step %s: %s",
				 names[i], r->body);
	}
}

static void
expect_state_change(const struct http_reply *r, const char *before,
		    const char *after)
{
	const cJSON *c = member_with(cJSON_GetObjectItem(r->json, "changes"),
				     "what", "BITS state");

	cr_assert_not_null(c, "no BITS state change: %s", r->body);
	cr_expect_str_eq(str(c, "before"), before);
	cr_expect_str_eq(str(c, "after"), after);
}

/* ---- the daemon itself ------------------------------------------------- */

Test(wine, runs_as_the_win32_host_on_windows_10)
{
	struct http_reply r;
	const cJSON *host;

	wine_daemon_start(&d);
	get("/health", NULL, &r);
	cr_expect_str_eq(str(r.json, "status"), "ok");
	http_reply_free(&r);
	get("/version", READ_TOKEN, &r);
	cr_expect_str_eq(str(r.json, "platform"), "win32");
	http_reply_free(&r);
	get("/report", READ_TOKEN, &r);
	host = cJSON_GetObjectItem(r.json, "host");
	cr_expect_str_eq(str(host, "kind"), "win32");
	/* winecfg -v win10: Wine 8 reports Windows 10 build 18362. */
	cr_expect(
	    strncmp(str(cJSON_GetObjectItem(host, "computer"), "os_version"),
		    "10.0.", 5) == 0,
	    "os_version: %s", r.body);
	http_reply_free(&r);
	wine_daemon_stop_clean(&d);
}

/*
 * Requests on one connection, answered by the event loop (/health) and
 * by worker threads (/version, a check). MHD polls with select() on
 * Windows, where an answer is written a run after it is queued.
 */
Test(wine, keep_alive_answers_every_request_on_one_connection)
{
	static const char *const paths[] = {"/health",	"/version",
					    "/health",	"/checks/bits",
					    "/version", "/health"};

	wine_daemon_start(&d);
	http_expect_kept_alive(&d, READ_TOKEN, paths,
			       sizeof(paths) / sizeof(paths[0]));
	wine_daemon_stop_clean(&d);
}

/* DESIGN: "Relative paths are relative to the config file". */
Test(wine, config_paths_are_relative_to_the_config_file)
{
	struct http_reply r;
	char path[512], *audit;

	wine_daemon_start_with(&d, "relative.json", true);
	get("/health", NULL, &r);
	http_reply_free(&r);
	post_restart_bits_dry_run(&r);
	http_reply_free(&r);
	/* audit.jsonl was named bare: it is beside the config. */
	wine_test_path(path, sizeof(path), "audit.jsonl");
	audit = slurp(path);
	cr_expect_not_null(audit, "no %s", path);
	cr_expect(audit != NULL && strstr(audit, "restart-bits") != NULL, "%s",
		  audit);
	free(audit);
}

/* ---- GET /checks/bits against Wine's BITS ------------------------------ */

/*
 * Only the findings a test is about are asserted: the check's overall
 * status is the worst of all its findings, and some (the repair baseline,
 * Config2 levels Wine lacks) are rightly warn or error under Wine.
 */
Test(wine, bits_running_passes)
{
	struct http_reply r;
	const cJSON *f;

	start_bits();
	wine_daemon_start(&d);
	f = bits_finding(&r, "bits.state");
	cr_expect_str_eq(str(f, "status"), "pass");
	cr_expect_str_eq(str(f, "observed"), "running");
	cr_expect_str_eq(fact_str(&r, "state"), "running");
	cr_expect_gt(fact_num(&r, "pid"), 0);
	/* What Wine registers: svchost -k netsvcs as LocalSystem, demand. */
	expect_finding(&r, "bits.exists", "pass");
	f = expect_finding(&r, "bits.start_type", "pass");
	cr_expect_str_eq(str(f, "observed"), "demand");
	f = expect_finding(&r, "bits.account", "pass");
	cr_expect_str_eq(str(f, "observed"), "LocalSystem");
	f = expect_finding(&r, "bits.binary_path", "pass");
	cr_expect_str_eq(str(f, "observed"),
			 "C:\\windows\\system32\\svchost.exe -k netsvcs");
	http_reply_free(&r);
}

Test(wine, bits_stopped_by_sc_stop_is_a_warning)
{
	struct http_reply r;
	const cJSON *f;
	unsigned code = 99;

	start_bits();
	wine_must("sc", "stop", "BITS", NULL);
	cr_assert(wine_sc_wait("BITS", WINE_SVC_STOPPED, 30000));
	cr_assert_eq(wine_sc_state("BITS", &code), WINE_SVC_STOPPED);
	cr_assert_eq(code, 0, "Wine's exit code after sc stop: %u", code);
	wine_daemon_start(&d);
	f = bits_finding(&r, "bits.state");
	cr_expect_str_eq(str(f, "status"), "warn", "%s", r.body);
	cr_expect_str_eq(str(f, "observed"), "stopped");
	cr_expect_str_eq(fact_str(&r, "state"), "stopped");
	cr_expect_eq(fact_num(&r, "exit_code"), 0);
	http_reply_free(&r);
}

/*
 * A service that has not run since boot reports exit code 1077
 * (ERROR_SERVICE_NEVER_STARTED), on Windows as under Wine: that is
 * "stopped", not "stopped with an error".
 */
Test(wine, bits_never_started_is_a_warning_not_a_failure)
{
	struct http_reply r;
	const cJSON *f;
	unsigned code = 0;

	cr_assert_eq(wine_sc_state("BITS", &code), WINE_SVC_STOPPED);
	cr_assert_eq(code, 1077, "Wine's exit code before any start: %u", code);
	wine_daemon_start(&d);
	f = bits_finding(&r, "bits.state");
	cr_expect_str_eq(str(f, "status"), "warn", "%s", r.body);
	cr_expect_str_eq(str(f, "observed"), "stopped");
	cr_expect_eq(fact_num(&r, "exit_code"), 1077);
	http_reply_free(&r);
}

Test(wine, bits_disabled_fails_start_type_with_0x80070422)
{
	struct http_reply r;
	struct wine_out o;
	const cJSON *f;

	disable_bits();
	/* Wine's SCM refuses it too (ERROR_SERVICE_DISABLED). */
	wine_run(&o, "sc", "start", "BITS", NULL);
	cr_expect_eq(o.status, 1, "sc start of a disabled BITS: %s", o.text);
	wine_out_free(&o);
	wine_daemon_start(&d);
	f = bits_finding(&r, "bits.start_type");
	cr_expect_str_eq(str(f, "status"), "fail");
	cr_expect_str_eq(str(f, "observed"), "disabled");
	expect_error(f, "0x80070422", "ERROR_SERVICE_DISABLED");
	cr_expect_str_eq(fact_str(&r, "start_type"), "disabled");
	http_reply_free(&r);
}

Test(wine, bits_account_changed_fails_account)
{
	struct http_reply r;
	const cJSON *f;

	wine_reg_set(WINE_BITS_KEY, "ObjectName", "REG_SZ",
		     "NT AUTHORITY\\LocalService");
	wine_services_restart();
	wine_daemon_start(&d);
	f = bits_finding(&r, "bits.account");
	cr_expect_str_eq(str(f, "status"), "fail");
	cr_expect_str_eq(str(f, "expected"), "LocalSystem");
	cr_expect_str_eq(str(f, "observed"), "NT AUTHORITY\\LocalService");
	cr_expect_str_eq(fact_str(&r, "account"), "NT AUTHORITY\\LocalService");
	http_reply_free(&r);
}

/* bits.service_dll comes with a later issue; the daemon must not care. */
Test(wine, bits_service_dll_deleted_fails_service_dll_with_0x80070002)
{
	struct http_reply r;
	struct wine_out o;
	const cJSON *f;

	wine_reg_delete_value(WINE_BITS_KEY "\\Parameters", "ServiceDll");
	wine_run(&o, "reg", "query", WINE_BITS_KEY "\\Parameters", "/v",
		 "ServiceDll", NULL);
	cr_assert_eq(o.status, 1, "ServiceDll is still there: %s", o.text);
	wine_out_free(&o);
	/* svchost cannot load BITS without it (Wine: 1053). */
	wine_run(&o, "sc", "start", "BITS", NULL);
	cr_expect_eq(o.status, 1, "BITS started without a ServiceDll");
	wine_out_free(&o);
	wine_daemon_start(&d);
	f = bits_finding(&r, "bits.exists");
	cr_expect_str_eq(str(f, "status"), "pass");
	http_reply_free(&r);
	f = bits_finding(&r, "bits.service_dll");
	cr_expect_str_eq(str(f, "status"), "fail", "%s", r.body);
	expect_error(f, "0x80070002", "ERROR_FILE_NOT_FOUND");
	http_reply_free(&r);
}

Test(wine, bits_missing_fails_exists_with_0x80070424)
{
	struct http_reply r;
	const cJSON *f;

	wine_must("sc", "delete", "BITS", NULL);
	cr_assert_eq(wine_sc_state("BITS", NULL), WINE_SVC_MISSING);
	wine_daemon_start(&d);
	f = bits_finding(&r, "bits.exists");
	cr_expect_str_eq(str(f, "status"), "fail");
	cr_expect_str_eq(str(f, "observed"), "missing");
	expect_error(f, "0x80070424", "ERROR_SERVICE_DOES_NOT_EXIST");
	cr_expect_null(member_with(cJSON_GetObjectItem(r.json, "findings"),
				   "id", "bits.state"),
		       "a missing service has no state: %s", r.body);
	http_reply_free(&r);
}

/* ---- POST /actions/restart-bits ---------------------------------------- */

Test(wine, restart_bits_restarts_a_running_bits)
{
	static const char *const want[] = {"ok", "ok", "ok", "ok"};
	struct http_reply r;
	const cJSON *verify, *state;

	start_bits();
	wine_daemon_start(&d);
	post_restart_bits(&r);
	cr_expect_str_eq(str(r.json, "status"), "ok", "%s", r.body);
	expect_steps(&r, want);
	expect_state_change(&r, "running", "running");
	verify = cJSON_GetObjectItem(r.json, "verify");
	cr_assert(cJSON_IsObject(verify), "no verify result: %s", r.body);
	cr_expect_str_eq(str(verify, "id"), "bits");
	state = member_with(cJSON_GetObjectItem(verify, "findings"), "id",
			    "bits.state");
	cr_assert_not_null(state, "no bits.state in verify: %s", r.body);
	cr_expect_str_eq(str(state, "status"), "pass", "%s", r.body);
	http_reply_free(&r);
	cr_expect_eq(wine_sc_state("BITS", NULL), WINE_SVC_RUNNING,
		     "sc query bits after restart-bits");
}

Test(wine, restart_bits_starts_a_stopped_bits)
{
	static const char *const want[] = {"skipped", "skipped", "ok", "ok"};
	struct http_reply r;

	wine_daemon_start(&d);
	post_restart_bits(&r);
	cr_expect_str_eq(str(r.json, "status"), "ok", "%s", r.body);
	expect_steps(&r, want);
	expect_state_change(&r, "stopped", "running");
	http_reply_free(&r);
	cr_expect_eq(wine_sc_state("BITS", NULL), WINE_SVC_RUNNING,
		     "sc query bits after restart-bits");
}

Test(wine, restart_bits_on_a_disabled_bits_fails_with_0x80070422)
{
	static const char *const want[] = {"skipped", "skipped", "failed",
					   "skipped"};
	struct http_reply r;

	disable_bits();
	wine_daemon_start(&d);
	post_restart_bits(&r);
	cr_expect_str_eq(str(r.json, "status"), "failed", "%s", r.body);
	expect_steps(&r, want);
	expect_error(step(&r, "start BITS"), "0x80070422",
		     "ERROR_SERVICE_DISABLED");
	http_reply_free(&r);
	cr_expect_eq(wine_sc_state("BITS", NULL), WINE_SVC_STOPPED);
}

/* ---- the Windows service ------------------------------------------------ */

static void
run_exe(const char *verb, const char *config)
{
	struct wine_out o;

	if (config != NULL)
		wine_run(&o, wine_exe(), verb, "--config", config, NULL);
	else
		wine_run(&o, wine_exe(), verb, NULL);
	cr_assert_eq(o.status, 0, "wsusdiagd.exe %s exited %d:\n%s", verb,
		     o.status, o.text);
	wine_out_free(&o);
}

static char *
reg_query(const char *key)
{
	struct wine_out o;

	wine_run(&o, "reg", "query", key, NULL);
	cr_assert_eq(o.status, 0, "reg query %s: %s", key, o.text);
	return o.text;
}

Test(wine, install_creates_a_service_and_uninstall_removes_it)
{
	char cfg[300], *reg;
	struct wine_out o;

	wine_write_config("wsusdiagd.json", 0, false, cfg, sizeof(cfg));
	run_exe("install", cfg);
	wine_run(&o, "sc", "query", "wsusdiagd", NULL);
	cr_assert_eq(o.status, 0, "sc query wsusdiagd after install");
	cr_expect(strstr(o.text, "SERVICE_NAME: wsusdiagd") != NULL, "%s",
		  o.text);
	wine_out_free(&o);
	cr_expect_eq(wine_sc_state("wsusdiagd", NULL), WINE_SVC_STOPPED);
	reg = reg_query(WINE_SVC_KEY);
	/* Auto start, LocalSystem, the exe with this config. */
	cr_expect(strstr(reg, "Start    REG_DWORD    0x2") != NULL, "%s", reg);
	cr_expect(strstr(reg, "ObjectName    REG_SZ    LocalSystem") != NULL,
		  "%s", reg);
	cr_expect(strstr(reg, "wsusdiagd.exe") != NULL, "%s", reg);
	cr_expect(strstr(reg, cfg) != NULL, "no %s in ImagePath: %s", cfg, reg);
	free(reg);
	run_exe("uninstall", NULL);
	cr_expect_eq(wine_sc_state("wsusdiagd", NULL), WINE_SVC_MISSING,
		     "sc query wsusdiagd still finds it after uninstall");
	wine_run(&o, "reg", "query", WINE_SVC_KEY, NULL);
	cr_expect_eq(o.status, 1, "its registry key is left: %s", o.text);
	wine_out_free(&o);
}

/* GET /health until it answers: the service has no console to log to. */
static bool
health_within(int timeout_ms)
{
	struct http_opts o = {.path = "/health", .timeout_ms = 2000};
	struct http_reply r;

	for (int t = 0; t < timeout_ms; t += 250) {
		bool ok;

		http_call(&d, &o, &r);
		ok = r.status == 200;
		http_reply_free(&r);
		if (ok)
			return true;
		usleep(250000);
	}
	return false;
}

/* The service logs to wsusdiagd.log beside the exe (no console). */
static void
service_failed(const char *what)
{
	const char *exe = wine_exe(), *slash = strrchr(exe, '/');
	char path[512], *log;
	struct wine_out o;

	snprintf(path, sizeof(path), "%.*swsusdiagd.log",
		 slash ? (int)(slash - exe + 1) : 0, exe);
	log = slurp(path);
	wine_run(&o, "sc", "query", "wsusdiagd", NULL);
	cr_assert_fail("the wsusdiagd service %s:\n%s\n%s:\n%s", what, o.text,
		       path, log ? log : "(none)");
}

Test(wine, service_started_by_the_scm_serves_and_stops_cleanly)
{
	char cfg[300];
	unsigned code = 99;

	memset(&d, 0, sizeof(d));
	d.port = wine_free_port();
	snprintf(d.certs, sizeof(d.certs), "%s/test-certs", bin_dir());
	wine_write_config("service.json", d.port, false, cfg, sizeof(cfg));
	run_exe("install", cfg);
	wine_must("sc", "start", "wsusdiagd", NULL);
	if (!wine_sc_wait("wsusdiagd", WINE_SVC_RUNNING, 30000))
		service_failed("did not reach RUNNING");
	cr_expect(health_within(30000), "the service does not answer on %d",
		  d.port);
	wine_must("sc", "stop", "wsusdiagd", NULL);
	cr_expect(wine_sc_wait("wsusdiagd", WINE_SVC_STOPPED, 30000),
		  "the wsusdiagd service did not stop");
	cr_expect_eq(wine_sc_state("wsusdiagd", &code), WINE_SVC_STOPPED);
	cr_expect_eq(code, 0, "it stopped with Win32 exit code %u", code);
	run_exe("uninstall", NULL);
}
