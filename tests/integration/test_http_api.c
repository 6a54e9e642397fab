/*
 * The HTTP API end to end: the real daemon over TLS on loopback.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_harness.h"

static struct daemon d;

static void
start_broken_bits(void)
{
	struct daemon_opts o = {.host_file = "broken-bits.json"};

	signal(SIGPIPE, SIG_IGN);
	daemon_start(&d, &o);
}

static void
stop(void)
{
	cr_expect_eq(daemon_stop(&d), 0, "wsusdiagd did not exit cleanly");
}

static void
call(const char *method, const char *path, const char *token, const char *body,
     struct http_reply *r)
{
	struct http_opts o = {
	    .method = method, .path = path, .token = token, .body = body};

	http_call(&d, &o, r);
}

/* A problem+json answer with this status and a detail text. */
static void
expect_problem(const struct http_reply *r, long status)
{
	const cJSON *s, *detail;

	cr_expect_eq(r->status, status, "status %ld, body %s", r->status,
		     r->body);
	cr_assert_not_null(r->content_type);
	cr_expect_str_eq(r->content_type, "application/problem+json");
	cr_assert_not_null(r->json, "body is not JSON: %s", r->body);
	s = cJSON_GetObjectItem(r->json, "status");
	detail = cJSON_GetObjectItem(r->json, "detail");
	cr_expect(cJSON_IsNumber(s) && s->valueint == status);
	cr_expect(cJSON_IsString(detail) && detail->valuestring[0] != '\0');
	cr_expect_str_eq(cJSON_GetObjectItem(r->json, "type")->valuestring,
			 "about:blank");
}

TestSuite(api, .init = start_broken_bits, .fini = stop);

Test(api, health_needs_no_credentials)
{
	struct http_reply r;

	call("GET", "/health", NULL, NULL, &r);
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.content_type, "application/json");
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "status")->valuestring,
			 "ok");
	http_reply_free(&r);
}

/*
 * A console polling a client keeps its connection. Each request on it
 * is answered, whether the event loop answers it (/health) or a worker
 * thread does (/version, a check), in any order.
 */
Test(api, keep_alive_answers_every_request_on_one_connection)
{
	static const char *const paths[] = {
	    "/health",	"/version",	"/health", "/checks/bits",
	    "/version", "/checks/bits", "/health"};

	http_expect_kept_alive(&d, READ_TOKEN, paths,
			       sizeof(paths) / sizeof(paths[0]));
}

Test(api, openapi_is_served_without_credentials)
{
	struct http_reply r;
	char path[512], *spec;

	call("GET", "/openapi.yaml", NULL, NULL, &r);
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.content_type, "application/yaml");
	snprintf(path, sizeof(path), "%s/openapi.yaml", src_dir());
	spec = slurp(path);
	cr_assert_not_null(spec);
	cr_expect_str_eq(r.body, spec, "the served spec is not this build's");
	free(spec);
	http_reply_free(&r);
}

Test(api, no_token_is_401_with_www_authenticate)
{
	struct http_reply r;

	call("GET", "/checks/bits", NULL, NULL, &r);
	expect_problem(&r, 401);
	cr_assert_not_null(r.www_authenticate);
	cr_expect(strncmp(r.www_authenticate, "Bearer", 6) == 0);
	http_reply_free(&r);
}

Test(api, wrong_token_is_401)
{
	struct http_reply r;

	call("GET", "/checks/bits", "not-a-token", NULL, &r);
	expect_problem(&r, 401);
	cr_expect_not_null(r.www_authenticate);
	http_reply_free(&r);
}

Test(api, read_token_cannot_run_actions)
{
	struct http_reply r;

	call("POST", "/actions/restart-bits", READ_TOKEN, "{\"dry_run\":true}",
	     &r);
	expect_problem(&r, 403);
	http_reply_free(&r);
}

Test(api, read_token_reads)
{
	static const char *const paths[] = {"/version", "/checks", "/actions",
					    "/report", "/errors/0x80070422"};
	struct http_reply r;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		call("GET", paths[i], READ_TOKEN, NULL, &r);
		cr_expect_eq(r.status, 200, "%s: %ld %s", paths[i], r.status,
			     r.body);
		cr_expect_not_null(r.json, "%s: not JSON", paths[i]);
		http_reply_free(&r);
	}
}

Test(api, bits_check_on_broken_bits_fails_on_the_account)
{
	const cJSON *f, *found = NULL;
	struct http_reply r;

	call("GET", "/checks/bits", READ_TOKEN, NULL, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "id")->valuestring,
			 "bits");
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "status")->valuestring,
			 "fail");
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(r.json, "findings"))
	{
		if (strcmp(cJSON_GetObjectItem(f, "id")->valuestring,
			   "bits.account") == 0)
			found = f;
	}
	cr_assert_not_null(found, "no bits.account finding: %s", r.body);
	cr_expect_str_eq(cJSON_GetObjectItem(found, "status")->valuestring,
			 "fail");
	cr_expect_str_eq(cJSON_GetObjectItem(found, "expected")->valuestring,
			 "LocalSystem");
	cr_expect_str_eq(cJSON_GetObjectItem(found, "observed")->valuestring,
			 "NT AUTHORITY\\LocalService");
	cr_expect(cJSON_IsObject(cJSON_GetObjectItem(r.json, "facts")));
	cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(r.json, "duration_ms")));
	http_reply_free(&r);
}

Test(api, report_runs_every_check)
{
	const cJSON *c, *checks;
	struct http_reply r;
	int n = 0;

	call("GET", "/report", READ_TOKEN, NULL, &r);
	cr_assert_eq(r.status, 200);
	checks = cJSON_GetObjectItem(r.json, "checks");
	cJSON_ArrayForEach(c, checks) n++;
	cr_expect_geq(n, 2);
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "status")->valuestring,
			 "fail");
	cr_expect_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "host"), "kind")
		->valuestring,
	    "sim");
	http_reply_free(&r);
}

Test(api, unknown_path_is_404)
{
	struct http_reply r;

	call("GET", "/nope", READ_TOKEN, NULL, &r);
	expect_problem(&r, 404);
	http_reply_free(&r);
	call("GET", "/checks/no-such-check", READ_TOKEN, NULL, &r);
	expect_problem(&r, 404);
	http_reply_free(&r);
}

Test(api, wrong_method_is_405_with_allow)
{
	struct http_reply r;

	call("DELETE", "/checks/bits", ADMIN_TOKEN, NULL, &r);
	expect_problem(&r, 405);
	cr_assert_not_null(r.allow);
	cr_expect_str_eq(r.allow, "GET");
	http_reply_free(&r);
	call("GET", "/actions/restart-bits", ADMIN_TOKEN, NULL, &r);
	expect_problem(&r, 405);
	cr_expect_str_eq(r.allow, "POST");
	http_reply_free(&r);
}

Test(api, malformed_json_is_400)
{
	struct http_reply r;

	call("POST", "/actions/restart-bits", ADMIN_TOKEN, "{\"dry_run\":", &r);
	expect_problem(&r, 400);
	http_reply_free(&r);
	call("POST", "/actions/restart-bits", ADMIN_TOKEN,
	     "{\"dry_run\":\"yes\"}", &r);
	expect_problem(&r, 400);
	http_reply_free(&r);
	call("POST", "/actions/restart-bits", ADMIN_TOKEN, "{\"force\":true}",
	     &r);
	expect_problem(&r, 400);
	http_reply_free(&r);
}

Test(api, oversize_body_is_413)
{
	/* The test config's body limit is 4096 bytes. */
	char *big = malloc(8192);
	struct http_reply r;

	memset(big, ' ', 8191);
	big[0] = '{';
	big[8190] = '}';
	big[8191] = '\0';
	call("POST", "/actions/restart-bits", ADMIN_TOKEN, big, &r);
	expect_problem(&r, 413);
	http_reply_free(&r);
	free(big);
}

Test(api, non_json_body_is_415)
{
	struct http_opts o = {.method = "POST",
			      .path = "/actions/restart-bits",
			      .token = ADMIN_TOKEN,
			      .body = "dry_run=true",
			      .content_type =
				  "application/x-www-form-urlencoded"};
	struct http_reply r;

	http_call(&d, &o, &r);
	expect_problem(&r, 415);
	http_reply_free(&r);
}

Test(api, error_codes_decode)
{
	struct http_reply r;

	call("GET", "/errors/1058", READ_TOKEN, NULL, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "code")->valuestring,
			 "0x80070422");
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "name")->valuestring,
			 "ERROR_SERVICE_DISABLED");
	http_reply_free(&r);
	call("GET", "/errors/0xC80003FA", READ_TOKEN, NULL, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "ese"), "value")
		->valueint,
	    -1018);
	http_reply_free(&r);
	call("GET", "/errors/banana", READ_TOKEN, NULL, &r);
	expect_problem(&r, 400);
	http_reply_free(&r);
}

static const cJSON *
step_named(const cJSON *result, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItem(result, "steps"))
	{
		if (strcmp(cJSON_GetObjectItem(s, "name")->valuestring, name) ==
		    0)
			return s;
	}
	return NULL;
}

Test(api, restart_bits_dry_run_then_real_and_audited)
{
	struct http_reply r;
	char path[400], *audit, *line;
	int lines = 0;

	call("POST", "/actions/restart-bits", ADMIN_TOKEN, "{\"dry_run\":true}",
	     &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "status")->valuestring,
			 "planned");
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "dry_run")));
	http_reply_free(&r);

	/* broken-bits.json has BITS stopped: the stop steps are skipped. */
	call("POST", "/actions/restart-bits", ADMIN_TOKEN, NULL, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(cJSON_GetObjectItem(r.json, "status")->valuestring,
			 "ok", "%s", r.body);
	cr_assert_not_null(step_named(r.json, "start BITS"));
	cr_expect_str_eq(
	    cJSON_GetObjectItem(step_named(r.json, "start BITS"), "status")
		->valuestring,
	    "ok");
	cr_expect(cJSON_IsObject(cJSON_GetObjectItem(r.json, "verify")),
		  "no verify result");
	http_reply_free(&r);

	snprintf(path, sizeof(path), "%s/audit.jsonl", d.dir);
	audit = slurp(path);
	cr_assert_not_null(audit, "no audit log");
	for (line = strtok(audit, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *rec = cJSON_Parse(line);

		cr_assert_not_null(rec, "audit line is not JSON: %s", line);
		cr_expect_str_eq(
		    cJSON_GetObjectItem(rec, "caller")->valuestring,
		    "token:admin");
		cr_expect_str_eq(
		    cJSON_GetObjectItem(rec, "source")->valuestring,
		    "127.0.0.1");
		cr_expect_str_eq(
		    cJSON_GetObjectItem(rec, "action")->valuestring,
		    "restart-bits");
		cr_expect(cJSON_IsBool(cJSON_GetObjectItem(rec, "dry_run")));
		cr_expect_not_null(cJSON_GetObjectItem(rec, "time"));
		cJSON_Delete(rec);
		lines++;
	}
	cr_expect_eq(lines, 2, "expected one audit line per call");
	free(audit);
}
