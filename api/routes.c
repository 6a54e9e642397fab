/*
 * routes.c: the single route table. It drives routing, the 404 and 405
 * answers (with Allow) and the role check; `wsusdiagd routes` prints it so
 * the test suite can compare it with openapi.yaml. A request is admitted
 * (api_admit: all of those, the body limit and authentication) apart from
 * running its handler (api_run), so that the transport can refuse it on
 * its own thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

const struct route route_table[] = {
    {"GET", "/health", ROLE_NONE, false, h_health},
    {"GET", "/openapi.yaml", ROLE_NONE, false, h_openapi},
    /* the network library's version: it is loaded on first use */
    {"GET", "/version", ROLE_READ, true, h_version},
    {"GET", "/checks", ROLE_READ, false, h_checks},
    {"GET", "/checks/{id}", ROLE_READ, true, h_check},
    {"GET", "/report", ROLE_READ, true, h_report},
    {"GET", "/actions", ROLE_READ, false, h_actions},
    {"POST", "/actions/{id}", ROLE_ADMIN, true, h_action},
    {"GET", "/errors/{code}", ROLE_READ, false, h_error},
};
const size_t route_count = sizeof(route_table) / sizeof(route_table[0]);

/*
 * Does path match pattern? A "{name}" segment matches one non-empty path
 * segment, copied into param.
 */
static bool
path_match(const char *pattern, const char *path, char *param, size_t param_len)
{
	const char *brace = strchr(pattern, '{');
	size_t fixed, seg;

	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	fixed = (size_t)(brace - pattern);
	if (strncmp(pattern, path, fixed) != 0)
		return false;
	path += fixed;
	seg = strcspn(path, "/");
	if (seg == 0 || path[seg] != '\0' || seg >= param_len)
		return false;
	memcpy(param, path, seg);
	param[seg] = '\0';
	return true;
}

enum route_match
route_match(const char *method, const char *path, const struct route **out,
	    char *param, size_t param_len, char *allow, size_t allow_len)
{
	bool path_known = false;
	size_t used = 0;

	if (allow_len > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < route_count; i++) {
		const struct route *r = &route_table[i];

		if (!path_match(r->pattern, path, param, param_len))
			continue;
		if (strcmp(r->method, method) == 0) {
			*out = r;
			return ROUTE_FOUND;
		}
		path_known = true;
		if (used < allow_len)
			used += (size_t)snprintf(allow + used, allow_len - used,
						 "%s%s", used ? ", " : "",
						 r->method);
	}
	return path_known ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

/* The caller's role is too weak: 401 without credentials, else 403. */
static void
refuse_role(const struct route *r, const struct api_request *req,
	    enum role role, struct api_response *res)
{
	if (role == ROLE_NONE && req->cert_cn == NULL) {
		problem(res, 401, "%s %s needs credentials with the %s role",
			r->method, r->pattern, role_name(r->role));
		res->www_authenticate = true;
	} else {
		problem(res, 403, "%s %s needs the %s role; this caller has %s",
			r->method, r->pattern, role_name(r->role),
			role_name(role));
	}
}

bool
api_admit(const struct api_ctx *ctx, const struct api_request *req,
	  struct api_call *call, struct api_response *res)
{
	enum role role;

	memset(res, 0, sizeof(*res));
	call->route = NULL;
	call->param[0] = '\0';
	switch (route_match(req->method, req->path, &call->route, call->param,
			    sizeof(call->param), res->allow,
			    sizeof(res->allow))) {
	case ROUTE_NOT_FOUND:
		problem(res, 404, "no resource at %s", req->path);
		return false;
	case ROUTE_BAD_METHOD:
		problem(res, 405, "%s is not allowed on %s (allowed: %s)",
			req->method, req->path, res->allow);
		return false;
	case ROUTE_FOUND:
		break;
	}
	if (req->body_too_large) {
		problem(res, 413, "the request body is larger than %zu bytes",
			ctx->body_limit);
		return false;
	}
	if (!auth_identify(ctx->auth, req, &role, res->identity,
			   sizeof(res->identity), res))
		return false;
	if (role < call->route->role) {
		refuse_role(call->route, req, role, res);
		return false;
	}
	return true;
}

bool
api_call_blocks(const struct api_call *call)
{
	return call->route->blocks;
}

/* The handlers write status and body and leave res->identity alone. */
void
api_run(const struct api_ctx *ctx, const struct api_request *req,
	const struct api_call *call, struct api_response *res)
{
	call->route->handler(ctx, req, call->param, res);
}

void
api_handle(const struct api_ctx *ctx, const struct api_request *req,
	   struct api_response *res)
{
	struct api_call call;

	if (api_admit(ctx, req, &call, res))
		api_run(ctx, req, &call, res);
}

void
api_response_clear(struct api_response *res)
{
	free(res->body);
	res->body = NULL;
}
