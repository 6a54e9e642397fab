/*
 * api.h: the HTTP API independent of the transport. The MHD glue in
 * daemon/ turns each request into a struct api_request and sends the
 * struct api_response back; tests and fuzzers call api_handle directly.
 */
#ifndef WSUSDIAG_API_H
#define WSUSDIAG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/registry.h"

enum role {
	ROLE_NONE = 0,
	ROLE_READ = 1,
	ROLE_ADMIN = 2,
};

const char *role_name(enum role r);
bool role_parse(const char *s, enum role *out);

struct token_entry {
	char name[64];
	uint8_t sha256[32];
	enum role role;
};

struct client_entry {
	char subject_cn[256];
	enum role role;
};

/* An IPv4 or IPv6 network; v4 is stored as ::ffff:a.b.c.d. */
struct cidr {
	uint8_t addr[16];
	unsigned prefix; /* 0..128, in the v6 space */
};

struct auth_config {
	struct token_entry *tokens;
	size_t n_tokens;
	struct client_entry *clients;
	size_t n_clients;
	struct cidr *allow;
	size_t n_allow;
};

/* Target locks for actions (one action at a time per target). */
struct action_locks;
/* Audit log sink. */
struct audit;
/* Counts check threads still running (see api/runner.c). */
struct check_tracker;

/* Everything a handler may use; owned by the daemon. */
struct api_ctx {
	struct host *host;
	const struct auth_config *auth;
	const struct check_settings *settings;
	struct action_locks *locks;
	struct audit *audit;
	size_t body_limit;
	const char *openapi_yaml; /* the spec text this build serves */
	size_t openapi_len;
	struct check_tracker *tracker; /* NULL: not counted */
};

struct api_request {
	const char *method;
	const char *path;	   /* without query string */
	const char *authorization; /* header value or NULL */
	const char *content_type;  /* header value or NULL */
	const char *body;
	size_t body_len;
	bool body_too_large; /* the transport stopped reading at the limit */
	const char *peer;    /* textual source address */
	const char *cert_cn; /* verified client certificate CN, or NULL */
};

struct api_response {
	int status;
	const char *content_type;
	char *body; /* heap, owned */
	size_t body_len;
	char allow[64];	       /* "Allow" header for 405, or empty */
	bool www_authenticate; /* 401: add WWW-Authenticate: Bearer */
	char identity[80];     /* who the caller was, for the request log */
};

/* Answer a request: api_admit, then, if admitted, api_run. */
void api_handle(const struct api_ctx *ctx, const struct api_request *req,
		struct api_response *res);
void api_response_clear(struct api_response *res);

/* A route: the single table drives routing, 404/405 and the role check. */
struct route {
	const char *method;
	const char *pattern; /* "/checks/{id}": one {param} segment at most */
	enum role role;
	/*
	 * The handler may wait (on the host, the network, a lock): the
	 * transport runs it off its own thread so that nobody else waits.
	 */
	bool blocks;
	void (*handler)(const struct api_ctx *ctx,
			const struct api_request *req, const char *param,
			struct api_response *res);
};

extern const struct route route_table[];
extern const size_t route_count;

enum route_match {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD,
};

/*
 * Match method and path. On ROUTE_FOUND *out and param (the {param}
 * segment, percent-decoded, NUL-terminated) are set; on ROUTE_BAD_METHOD
 * allow lists the methods the path accepts ("GET, POST").
 */
enum route_match route_match(const char *method, const char *path,
			     const struct route **out, char *param,
			     size_t param_len, char *allow, size_t allow_len);

/*
 * A request in two steps, so that the transport refuses on its own
 * thread and hands only an admitted call whose handler may wait to
 * another: a caller without credentials costs no thread.
 */
struct api_call {
	const struct route *route;
	char param[128]; /* the {param} segment, or empty */
};

/*
 * Route the request, refuse a body over the limit, identify the caller
 * (once per request) and check its role. res is reset first. false:
 * res holds the refusal (404, 405, 413, 401, 403). true: call is set and
 * res holds only the identity, which api_run keeps.
 */
bool api_admit(const struct api_ctx *ctx, const struct api_request *req,
	       struct api_call *call, struct api_response *res);
/* Does an admitted call's handler wait (route.blocks)? */
bool api_call_blocks(const struct api_call *call);
/* Run an admitted call's handler into the res that api_admit filled. */
void api_run(const struct api_ctx *ctx, const struct api_request *req,
	     const struct api_call *call, struct api_response *res);

#endif
