/*
 * internal.h: pieces shared inside api/ (handlers, problem documents,
 * authentication, action locks, audit). Not for the daemon's other parts.
 */
#ifndef WSUSDIAG_API_INTERNAL_H
#define WSUSDIAG_API_INTERNAL_H

#include <cjson/cJSON.h>

#include "api/api.h"

/* RFC 9457 problem document; detail is printf-style. */
void problem(struct api_response *res, int status, const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));
/* Same, with extra members (taken over, may be NULL). */
void problem_with(struct api_response *res, int status, cJSON *extra,
		  const char *fmt, ...)
    __attribute__((format(gnu_printf, 4, 5)));
/* 200 with a JSON body (the object is freed). */
void respond_json(struct api_response *res, int status, cJSON *body);

/*
 * Who is calling: the verified client certificate's role, else the
 * bearer token's. *name is the token name or certificate CN for logs and
 * the audit trail. Returns false (with a 401 in res) for an Authorization
 * header that is malformed or names no token.
 */
bool auth_identify(const struct auth_config *auth,
		   const struct api_request *req, enum role *role, char *name,
		   size_t namelen, struct api_response *res);

/* Action target locks. */
struct action_locks *action_locks_new(void);
void action_locks_free(struct action_locks *l);
/*
 * Take every target the action changes (its target and also_locks), all
 * or none; false if one is held, naming it and its holder's action id
 * (never blocks: concurrent callers get 409, not a queue).
 */
bool action_lock_try(struct action_locks *l, const struct action *a,
		     char *target, size_t targetlen, char *holder,
		     size_t holderlen);
void action_lock_release(struct action_locks *l, const struct action *a);

/* Handlers (routes.c lists them). */
void h_health(const struct api_ctx *, const struct api_request *, const char *,
	      struct api_response *);
void h_version(const struct api_ctx *, const struct api_request *, const char *,
	       struct api_response *);
void h_openapi(const struct api_ctx *, const struct api_request *, const char *,
	       struct api_response *);
void h_checks(const struct api_ctx *, const struct api_request *, const char *,
	      struct api_response *);
void h_check(const struct api_ctx *, const struct api_request *, const char *,
	     struct api_response *);
void h_report(const struct api_ctx *, const struct api_request *, const char *,
	      struct api_response *);
void h_actions(const struct api_ctx *, const struct api_request *, const char *,
	       struct api_response *);
void h_action(const struct api_ctx *, const struct api_request *, const char *,
	      struct api_response *);
void h_error(const struct api_ctx *, const struct api_request *, const char *,
	     struct api_response *);

/*
 * Run n checks concurrently, each on its own thread and within its own
 * time_limit_ms; out[i] receives each result (a check over its limit is
 * reported as status error, and its thread finishes on its own later).
 */
void run_checks(const struct api_ctx *ctx, const struct check *const *checks,
		size_t n, struct check_result *out);

struct check_tracker *check_tracker_new(void);
void check_tracker_free(struct check_tracker *t);
/* Wait until no check thread runs; false if some still do at wait_ms. */
bool check_tracker_drain(struct check_tracker *t, uint32_t wait_ms);
#endif
