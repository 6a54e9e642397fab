/*
 * Routing and authorization in process, without sockets: the route
 * table's 404/405/Allow answers, the role matrix, and admission apart
 * from running the handler (what the daemon does on the loop's thread).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/sha256.h>

#include "api/api.h"
#include "api/internal.h"

static struct token_entry tokens[2];
static struct client_entry clients[1];
static struct auth_config auth = {tokens, 2, clients, 1, NULL, 0};
static struct api_ctx ctx;

static void
setup(void)
{
	mbedtls_sha256_ret((const unsigned char *)"admin-secret", 12,
			   tokens[0].sha256, 0);
	strcpy(tokens[0].name, "admin");
	tokens[0].role = ROLE_ADMIN;
	mbedtls_sha256_ret((const unsigned char *)"read-secret", 11,
			   tokens[1].sha256, 0);
	strcpy(tokens[1].name, "reader");
	tokens[1].role = ROLE_READ;
	strcpy(clients[0].subject_cn, "console.corp.example");
	clients[0].role = ROLE_ADMIN;
	memset(&ctx, 0, sizeof(ctx));
	ctx.auth = &auth;
	ctx.body_limit = 1024;
	ctx.openapi_yaml = "openapi: 3.1.0\n";
	ctx.openapi_len = strlen(ctx.openapi_yaml);
}

TestSuite(api, .init = setup);

/* A request from 127.0.0.1 with a token (authz) or a certificate (cn). */
static struct api_request
request(const char *method, const char *path, const char *authz, const char *cn)
{
	return (struct api_request){.method = method,
				    .path = path,
				    .authorization = authz,
				    .cert_cn = cn,
				    .peer = "127.0.0.1"};
}

static int
status_of(const char *method, const char *path, const char *authz,
	  const char *cn, struct api_response *res)
{
	struct api_request req = request(method, path, authz, cn);

	api_handle(&ctx, &req, res);
	return res->status;
}

Test(api, route_match_finds_params_and_methods)
{
	const struct route *r = NULL;
	char param[32], allow[64];

	cr_expect_eq(route_match("GET", "/checks/bits", &r, param,
				 sizeof(param), allow, sizeof(allow)),
		     ROUTE_FOUND);
	cr_expect_str_eq(r->pattern, "/checks/{id}");
	cr_expect_str_eq(param, "bits");
	cr_expect_eq(route_match("PUT", "/checks/bits", &r, param,
				 sizeof(param), allow, sizeof(allow)),
		     ROUTE_BAD_METHOD);
	cr_expect_str_eq(allow, "GET");
	cr_expect_eq(route_match("GET", "/checks/bits/x", &r, param,
				 sizeof(param), allow, sizeof(allow)),
		     ROUTE_NOT_FOUND);
	cr_expect_eq(route_match("GET", "/checks/", &r, param, sizeof(param),
				 allow, sizeof(allow)),
		     ROUTE_NOT_FOUND);
	cr_expect_eq(route_match("GET", "/healthz", &r, param, sizeof(param),
				 allow, sizeof(allow)),
		     ROUTE_NOT_FOUND);
	/* A parameter longer than the buffer is no match, not a cut one. */
	cr_expect_eq(
	    route_match("GET",
			"/checks/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &r,
			param, sizeof(param), allow, sizeof(allow)),
	    ROUTE_NOT_FOUND);
}

Test(api, every_route_has_a_handler_and_a_known_role)
{
	for (size_t i = 0; i < route_count; i++) {
		cr_expect_not_null(route_table[i].handler);
		cr_expect(route_table[i].role <= ROLE_ADMIN);
		cr_expect(route_table[i].pattern[0] == '/');
	}
}

Test(api, health_is_open_and_405_lists_allow)
{
	struct api_response res;

	cr_expect_eq(status_of("GET", "/health", NULL, NULL, &res), 200);
	cr_expect_str_eq(res.body, "{\"status\":\"ok\"}");
	api_response_clear(&res);
	cr_expect_eq(status_of("POST", "/health", NULL, NULL, &res), 405);
	cr_expect_str_eq(res.allow, "GET");
	cr_expect_str_eq(res.content_type, "application/problem+json");
	api_response_clear(&res);
	cr_expect_eq(status_of("GET", "/openapi.yaml", NULL, NULL, &res), 200);
	cr_expect_str_eq(res.body, "openapi: 3.1.0\n");
	api_response_clear(&res);
}

Test(api, role_matrix)
{
	static const struct {
		const char *method, *path, *authz, *cn;
		int status;
		bool www;
	} m[] = {
	    {"GET", "/checks", NULL, NULL, 401, true},
	    {"GET", "/checks", "Bearer wrong", NULL, 401, true},
	    {"GET", "/checks", "Basic YWRtaW46eA==", NULL, 401, true},
	    {"GET", "/checks", "Bearer ", NULL, 401, true},
	    {"GET", "/checks", "Bearer read-secret", NULL, 200, false},
	    {"GET", "/checks", "bearer   read-secret  ", NULL, 200, false},
	    {"GET", "/actions", "Bearer admin-secret", NULL, 200, false},
	    {"POST", "/actions/restart-bits", "Bearer read-secret", NULL, 403,
	     false},
	    {"POST", "/actions/restart-bits", NULL, NULL, 401, true},
	    {"GET", "/checks", NULL, "console.corp.example", 200, false},
	    {"GET", "/checks", NULL, "stranger.example", 403, false},
	    {"POST", "/actions/nope", "Bearer admin-secret", NULL, 404, false},
	    {"POST", "/actions/nope", NULL, "console.corp.example", 404, false},
	    /* A bad token is refused even with a good certificate. */
	    {"GET", "/checks", "Bearer wrong", "console.corp.example", 401,
	     true},
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct api_response res;

		cr_expect_eq(status_of(m[i].method, m[i].path, m[i].authz,
				       m[i].cn, &res),
			     m[i].status, "%s %s authz=%s cn=%s: %d %s",
			     m[i].method, m[i].path, m[i].authz, m[i].cn,
			     res.status, res.body);
		cr_expect_eq(res.www_authenticate, m[i].www, "row %zu", i);
		api_response_clear(&res);
	}
}

Test(api, identity_names_the_token_or_certificate)
{
	struct api_response res;

	status_of("GET", "/checks", "Bearer admin-secret", NULL, &res);
	cr_expect_str_eq(res.identity, "token:admin");
	api_response_clear(&res);
	status_of("GET", "/checks", NULL, "console.corp.example", &res);
	cr_expect_str_eq(res.identity, "cert:console.corp.example");
	api_response_clear(&res);
}

Test(api, body_over_the_limit_is_413)
{
	struct api_request req = {.method = "POST",
				  .path = "/actions/restart-bits",
				  .authorization = "Bearer admin-secret",
				  .body_too_large = true};
	struct api_response res;

	api_handle(&ctx, &req, &res);
	cr_expect_eq(res.status, 413);
	api_response_clear(&res);
}

Test(api, malformed_error_codes_are_400)
{
	static const char *const bad[] = {"xyz", "0x", "-1", "99999999999",
					  "0x1234567890"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[64];
		struct api_response res;

		snprintf(path, sizeof(path), "/errors/%s", bad[i]);
		cr_expect_eq(
		    status_of("GET", path, "Bearer read-secret", NULL, &res),
		    400, "%s", path);
		api_response_clear(&res);
	}
}

/* A problem detail quotes the path; JSON must stay UTF-8 (found by
 * fuzz/corpus/http/utf8-invalid-path). */
Test(api, problem_details_are_utf8_whatever_the_client_sent)
{
	struct api_response res;
	cJSON *j, *detail;

	cr_assert_eq(status_of("GET", "/no\xFFpe\xE2\x82", NULL, NULL, &res),
		     404);
	j = cJSON_Parse(res.body);
	cr_assert_not_null(j);
	detail = cJSON_GetObjectItem(j, "detail");
	cr_assert(cJSON_IsString(detail));
	cr_expect_str_eq(detail->valuestring, "no resource at /no?pe??");
	cJSON_Delete(j);
	api_response_clear(&res);
}

/* Admit one request; res is what the transport would send if refused. */
static bool
admit(const char *method, const char *path, const char *authz, bool too_large,
      struct api_call *call, struct api_response *res)
{
	struct api_request req = request(method, path, authz, NULL);

	req.body_too_large = too_large;
	return api_admit(&ctx, &req, call, res);
}

/*
 * Each refusal is made before any handler: ctx has no host, so a check,
 * /report or an action that ran would not answer like this.
 */
Test(api, admission_refuses_before_any_handler_runs)
{
	static const struct {
		const char *method, *path, *authz;
		bool too_large;
		int status;
		bool www;
		const char *allow;
	} m[] = {
	    {"GET", "/report", NULL, false, 401, true, ""},
	    {"GET", "/checks/bits", "Bearer wrong", false, 401, true, ""},
	    {"POST", "/actions/restart-bits", NULL, false, 401, true, ""},
	    {"POST", "/actions/restart-bits", "Bearer read-secret", false, 403,
	     false, ""},
	    {"GET", "/nope", "Bearer admin-secret", false, 404, false, ""},
	    {"DELETE", "/report", "Bearer admin-secret", false, 405, false,
	     "GET"},
	    {"POST", "/actions/restart-bits", "Bearer admin-secret", true, 413,
	     false, ""},
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct api_call call;
		struct api_response res;

		cr_expect_not(admit(m[i].method, m[i].path, m[i].authz,
				    m[i].too_large, &call, &res),
			      "row %zu admitted", i);
		cr_expect_eq(res.status, m[i].status, "row %zu: %d %s", i,
			     res.status, res.body);
		cr_expect_eq(res.www_authenticate, m[i].www, "row %zu", i);
		cr_expect_str_eq(res.allow, m[i].allow, "row %zu", i);
		cr_expect_str_eq(res.content_type, "application/problem+json");
		api_response_clear(&res);
	}
}

/* The same refusals, word for word, as api_handle gives. */
Test(api, admission_refuses_as_api_handle_does)
{
	struct api_call call;
	struct api_response a, h;
	struct api_request req = {.method = "POST",
				  .path = "/actions/restart-bits",
				  .authorization = "Bearer read-secret",
				  .peer = "127.0.0.1"};

	cr_assert_not(api_admit(&ctx, &req, &call, &a));
	api_handle(&ctx, &req, &h);
	cr_expect_eq(a.status, 403);
	cr_expect_eq(h.status, 403);
	cr_expect_str_eq(a.body, h.body);
	cr_expect_str_eq(a.identity, "token:reader");
	cr_expect_str_eq(h.identity, "token:reader");
	api_response_clear(&a);
	api_response_clear(&h);
}

Test(api, admitted_calls_say_whether_they_block)
{
	struct api_call call;
	struct api_response res;

	cr_assert(
	    admit("GET", "/report", "Bearer read-secret", false, &call, &res));
	cr_expect(api_call_blocks(&call));
	cr_expect_str_eq(call.route->pattern, "/report");
	/* Admission answers nothing: the handler has not run. */
	cr_expect_eq(res.status, 0);
	cr_expect_null(res.body);
	cr_expect_str_eq(res.identity, "token:reader");
	api_response_clear(&res);

	cr_assert(admit("POST", "/actions/restart-bits", "Bearer admin-secret",
			false, &call, &res));
	cr_expect(api_call_blocks(&call));
	cr_expect_str_eq(call.param, "restart-bits");
	api_response_clear(&res);

	cr_assert(admit("GET", "/health", NULL, false, &call, &res));
	cr_expect_not(api_call_blocks(&call));
	cr_expect_str_eq(call.param, "");
	api_response_clear(&res);
}

/* What the worker does: run the admitted call into the same response. */
Test(api, running_an_admitted_call_keeps_the_identity)
{
	struct api_call call;
	struct api_response res;
	struct api_request req = {.method = "GET",
				  .path = "/errors/0x80200013",
				  .authorization = "Bearer read-secret",
				  .peer = "127.0.0.1"};

	cr_assert(api_admit(&ctx, &req, &call, &res));
	api_run(&ctx, &req, &call, &res);
	cr_expect_eq(res.status, 200, "%d %s", res.status, res.body);
	cr_expect_str_eq(res.identity, "token:reader");
	api_response_clear(&res);
}

/*
 * The catalogue says which check each one starts after in /report: a
 * check of the catalogue itself, never the check itself.
 */
Test(api, check_catalogue_names_what_each_check_starts_after)
{
	struct api_response res;
	cJSON *j, *e, *after;
	const char *jobs_after = NULL;

	cr_assert_eq(
	    status_of("GET", "/checks", "Bearer read-secret", NULL, &res), 200);
	j = cJSON_Parse(res.body);
	cr_assert_not_null(j);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "checks"))
	{
		const char *id = cJSON_GetObjectItem(e, "id")->valuestring;

		after = cJSON_GetObjectItem(e, "after");
		cr_assert_not_null(after, "%s has no \"after\"", id);
		if (cJSON_IsNull(after))
			continue;
		cr_assert(cJSON_IsString(after), "%s", id);
		cr_expect_not_null(check_find(after->valuestring),
				   "%s starts after unknown %s", id,
				   after->valuestring);
		cr_expect_str_neq(after->valuestring, id);
		if (strcmp(id, "bits-jobs") == 0)
			jobs_after = after->valuestring;
	}
	cr_expect_str_eq(jobs_after ? jobs_after : "(null)", "bits");
	cJSON_Delete(j);
	api_response_clear(&res);
}

/*
 * A route that does not block runs on the event loop's thread, so it
 * must never touch the host: every one answers here with a host whose
 * operations are all NULL (a call would crash the test). The paths come
 * from the table, so a new route is covered when it is added.
 */
Test(api, routes_that_do_not_block_never_call_the_host)
{
	static const struct host_ops none = {.kind = "none"};
	struct host tripwire = {.ops = &none};
	int checked = 0;

	ctx.host = &tripwire;
	for (size_t i = 0; i < route_count; i++) {
		const struct route *r = &route_table[i];
		const char *brace = strchr(r->pattern, '{');
		char path[128];
		struct api_response res;

		if (r->blocks)
			continue;
		snprintf(path, sizeof(path), "%.*s%s",
			 brace ? (int)(brace - r->pattern)
			       : (int)strlen(r->pattern),
			 r->pattern,
			 brace == NULL			? ""
			 : strstr(r->pattern, "{code}") ? "0x80070005"
							: "bits");
		cr_expect_eq(status_of(r->method, path, "Bearer admin-secret",
				       NULL, &res),
			     200, "%s %s: %d %s", r->method, path, res.status,
			     res.body);
		api_response_clear(&res);
		checked++;
	}
	cr_expect_geq(checked, 5);
}
