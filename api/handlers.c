/*
 * handlers.c: one function per route. Each validates its input, calls
 * into checks/ and renders the result; none touches the OS directly.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/version.h>
#include <microhttpd.h>

#include "api/audit.h"
#include "api/internal.h"
#include "checks/errors.h"
#include "common/xalloc.h"
#include "platform/probe.h"

void
h_health(const struct api_ctx *ctx, const struct api_request *req,
	 const char *param, struct api_response *res)
{
	cJSON *o = cJSON_CreateObject();

	(void)ctx, (void)req, (void)param;
	cJSON_AddStringToObject(o, "status", "ok");
	respond_json(res, 200, o);
}

void
h_openapi(const struct api_ctx *ctx, const struct api_request *req,
	  const char *param, struct api_response *res)
{
	(void)req, (void)param;
	res->status = 200;
	res->content_type = "application/yaml";
	res->body = xmalloc(ctx->openapi_len + 1);
	memcpy(res->body, ctx->openapi_yaml, ctx->openapi_len);
	res->body[ctx->openapi_len] = '\0';
	res->body_len = ctx->openapi_len;
}

void
h_version(const struct api_ctx *ctx, const struct api_request *req,
	  const char *param, struct api_response *res)
{
	cJSON *o = cJSON_CreateObject(), *libs;
	char mbed[18];

	(void)req, (void)param;
	mbedtls_version_get_string(mbed);
	cJSON_AddStringToObject(o, "name", "wsusdiagd");
	cJSON_AddStringToObject(o, "version", WSUSDIAG_VERSION);
	cJSON_AddStringToObject(o, "platform", ctx->host->ops->kind);
	cJSON_AddStringToObject(o, "build", plat_build_name());
	libs = cJSON_AddObjectToObject(o, "libraries");
	cJSON_AddStringToObject(libs, "microhttpd", MHD_get_version());
	cJSON_AddStringToObject(libs, "cjson", cJSON_Version());
	cJSON_AddStringToObject(libs, "mbedtls", mbed);
	plat_probe_describe(libs);
	respond_json(res, 200, o);
}

/* Ids are short lowercase words; anything else cannot name a check. */
static bool
valid_id(const char *s)
{
	size_t n = 0;

	if (!islower((unsigned char)s[0]))
		return false;
	for (; s[n] != '\0'; n++)
		if (!islower((unsigned char)s[n]) &&
		    !isdigit((unsigned char)s[n]) && s[n] != '-')
			return false;
	return n <= 32;
}

void
h_checks(const struct api_ctx *ctx, const struct api_request *req,
	 const char *param, struct api_response *res)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "checks");

	(void)ctx, (void)req, (void)param;
	for (size_t i = 0; i < check_count; i++) {
		const struct check *c = check_table[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "id", c->id);
		cJSON_AddStringToObject(e, "title", c->title);
		cJSON_AddStringToObject(e, "description", c->description);
		cJSON_AddStringToObject(e, "seed_section", c->seed_section);
		cJSON_AddNumberToObject(e, "time_limit_ms", c->time_limit_ms);
		cJSON_AddItemToObject(e, "after",
				      c->after ? cJSON_CreateString(c->after)
					       : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, e);
	}
	respond_json(res, 200, o);
}

void
h_check(const struct api_ctx *ctx, const struct api_request *req,
	const char *param, struct api_response *res)
{
	const struct check *c = valid_id(param) ? check_find(param) : NULL;
	struct check_result r;

	(void)req;
	if (c == NULL) {
		problem(res, 404,
			"there is no check \"%.64s\" (GET /checks "
			"lists them)",
			param);
		return;
	}
	run_checks(ctx, &c, 1, &r);
	respond_json(res, 200, result_to_json(&r));
	result_clear(&r);
}

static cJSON *
host_json(const struct api_ctx *ctx)
{
	struct computer_info ci = {0};
	cJSON *o = cJSON_CreateObject(), *comp;
	hr_t hr = ctx->host->ops->computer(ctx->host, &ci);

	cJSON_AddStringToObject(o, "kind", ctx->host->ops->kind);
	comp = cJSON_AddObjectToObject(o, "computer");
	cJSON_AddItemToObject(comp, "name",
			      hr == HR_OK && ci.name
				  ? cJSON_CreateString(ci.name)
				  : cJSON_CreateNull());
	cJSON_AddItemToObject(comp, "os_version",
			      hr == HR_OK && ci.os_version
				  ? cJSON_CreateString(ci.os_version)
				  : cJSON_CreateNull());
	cJSON_AddItemToObject(comp, "machine_guid",
			      hr == HR_OK && ci.machine_guid
				  ? cJSON_CreateString(ci.machine_guid)
				  : cJSON_CreateNull());
	computer_info_clear(&ci);
	return o;
}

void
h_report(const struct api_ctx *ctx, const struct api_request *req,
	 const char *param, struct api_response *res)
{
	struct check_result *rs = xcalloc(check_count, sizeof(*rs));
	uint64_t t0 = plat_now_ms();
	enum status worst = ST_SKIP;
	cJSON *o = cJSON_CreateObject(), *arr;
	char when[32];

	(void)req, (void)param;
	plat_utc_iso(when);
	run_checks(ctx, check_table, check_count, rs);
	arr = cJSON_CreateArray();
	for (size_t i = 0; i < check_count; i++) {
		worst = status_worst(worst, rs[i].status);
		cJSON_AddItemToArray(arr, result_to_json(&rs[i]));
		result_clear(&rs[i]);
	}
	free(rs);
	cJSON_AddStringToObject(o, "status", status_name(worst));
	cJSON_AddStringToObject(o, "generated_at", when);
	cJSON_AddNumberToObject(o, "duration_ms", (double)(plat_now_ms() - t0));
	cJSON_AddItemToObject(o, "host", host_json(ctx));
	cJSON_AddItemToObject(o, "checks", arr);
	respond_json(res, 200, o);
}

void
h_actions(const struct api_ctx *ctx, const struct api_request *req,
	  const char *param, struct api_response *res)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "actions");

	(void)ctx, (void)req, (void)param;
	for (size_t i = 0; i < action_count; i++) {
		const struct action *a = action_table[i];
		cJSON *e = cJSON_CreateObject(), *steps, *locks;

		cJSON_AddStringToObject(e, "id", a->id);
		cJSON_AddStringToObject(e, "title", a->title);
		cJSON_AddStringToObject(e, "description", a->description);
		cJSON_AddStringToObject(e, "target", a->target);
		locks = cJSON_AddArrayToObject(e, "locks");
		cJSON_AddItemToArray(locks, cJSON_CreateString(a->target));
		for (size_t t = 0; a->also_locks && a->also_locks[t]; t++)
			cJSON_AddItemToArray(
			    locks, cJSON_CreateString(a->also_locks[t]));
		steps = cJSON_AddArrayToObject(e, "steps");
		for (size_t s = 0; a->steps[s] != NULL; s++)
			cJSON_AddItemToArray(steps,
					     cJSON_CreateString(a->steps[s]));
		cJSON_AddStringToObject(e, "changes", a->changes);
		cJSON_AddItemToObject(e, "verify_check",
				      a->verify_check
					  ? cJSON_CreateString(a->verify_check)
					  : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, e);
	}
	respond_json(res, 200, o);
}

static bool
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body is empty or {"dry_run": bool}; nothing else is accepted. */
static bool
parse_action_body(const struct api_request *req, bool *dry,
		  struct api_response *res)
{
	cJSON *b, *v;
	bool ok = false;

	*dry = false;
	if (req->body_len == 0)
		return true;
	if (req->content_type == NULL || !is_json_type(req->content_type)) {
		problem(res, 415, "the body must be application/json");
		return false;
	}
	b = cJSON_ParseWithLength(req->body, req->body_len);
	if (b == NULL || !cJSON_IsObject(b)) {
		problem(res, 400,
			"the body must be a JSON object such as "
			"{\"dry_run\": true}");
		goto out;
	}
	cJSON_ArrayForEach(v, b)
	{
		if (strcmp(v->string, "dry_run") != 0) {
			problem(res, 400,
				"unknown field \"%.64s\" (only "
				"dry_run is accepted)",
				v->string);
			goto out;
		}
		if (!cJSON_IsBool(v)) {
			problem(res, 400, "dry_run must be true or false");
			goto out;
		}
		*dry = cJSON_IsTrue(v);
	}
	ok = true;
out:
	cJSON_Delete(b);
	return ok;
}

static void
audit_action(const struct api_ctx *ctx, const struct api_request *req,
	     const char *caller, const cJSON *result)
{
	cJSON *rec = cJSON_CreateObject();
	const char *keys[] = {"status", "changes", "backup", "detail"};

	cJSON_AddStringToObject(rec, "caller", caller);
	cJSON_AddStringToObject(rec, "source", req->peer ? req->peer : "");
	cJSON_AddStringToObject(rec, "action",
				cJSON_GetObjectItem(result, "id")->valuestring);
	cJSON_AddBoolToObject(
	    rec, "dry_run",
	    cJSON_IsTrue(cJSON_GetObjectItem(result, "dry_run")));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItem(result, keys[i]);

		if (v != NULL)
			cJSON_AddItemToObject(rec, keys[i],
					      cJSON_Duplicate(v, 1));
	}
	audit_write(ctx->audit, rec);
	cJSON_Delete(rec);
}

/* A refused call is audited too: someone tried to act on this machine. */
static void
audit_refused(const struct api_ctx *ctx, const struct api_request *req,
	      const char *caller, const struct action *a, bool dry,
	      const char *target, const char *holder)
{
	cJSON *r = cJSON_CreateObject();
	char *why =
	    xasprintf("refused: target %s is held by %s", target, holder);

	cJSON_AddStringToObject(r, "id", a->id);
	cJSON_AddBoolToObject(r, "dry_run", dry);
	cJSON_AddStringToObject(r, "status", "refused");
	cJSON_AddArrayToObject(r, "changes");
	cJSON_AddNullToObject(r, "backup");
	cJSON_AddStringToObject(r, "detail", why);
	audit_action(ctx, req, caller, r);
	cJSON_Delete(r);
	free(why);
}

static void
conflict(struct api_response *res, const char *target, const char *holder)
{
	cJSON *extra = cJSON_CreateObject();

	cJSON_AddStringToObject(extra, "target", target);
	cJSON_AddStringToObject(extra, "running_action", holder);
	problem_with(res, 409, extra,
		     "the action %s is already running on target %s; try "
		     "again when it has finished",
		     holder, target);
}

static void
verify(const struct api_ctx *ctx, const struct action *a,
       struct action_result *ar)
{
	const struct check *c;

	if (ar->dry_run || a->verify_check == NULL ||
	    (c = check_find(a->verify_check)) == NULL)
		return;
	ar->verify = xmalloc(sizeof(*ar->verify));
	run_checks(ctx, &c, 1, ar->verify);
}

void
h_action(const struct api_ctx *ctx, const struct api_request *req,
	 const char *param, struct api_response *res)
{
	const struct action *a = valid_id(param) ? action_find(param) : NULL;
	struct action_ctx actx = {ctx->host, ctx->settings, false};
	struct action_result ar;
	char holder[32], target[32];
	cJSON *out;

	if (a == NULL) {
		problem(res, 404,
			"there is no action \"%.64s\" (GET /actions "
			"lists them)",
			param);
		return;
	}
	if (!parse_action_body(req, &actx.dry_run, res))
		return;
	if (!action_lock_try(ctx->locks, a, target, sizeof(target), holder,
			     sizeof(holder))) {
		audit_refused(ctx, req, res->identity, a, actx.dry_run, target,
			      holder);
		conflict(res, target, holder);
		return;
	}
	action_result_init(&ar, a->id, actx.dry_run);
	a->run(&actx, &ar);
	verify(ctx, a, &ar);
	action_lock_release(ctx->locks, a);
	out = action_result_to_json(&ar);
	action_result_clear(&ar);
	audit_action(ctx, req, res->identity, out);
	respond_json(res, 200, out);
}

void
h_error(const struct api_ctx *ctx, const struct api_request *req,
	const char *param, struct api_response *res)
{
	hr_t code;

	(void)ctx, (void)req;
	if (!error_parse(param, &code)) {
		problem(res, 400,
			"\"%.64s\" is not an error code: use 0x80200013, "
			"80200013 or a decimal Win32 code such as 1058",
			param);
		return;
	}
	respond_json(res, 200, error_explain(code));
}
