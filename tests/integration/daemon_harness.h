/*
 * daemon_harness.h: start the real wsusdiagd on 127.0.0.1 (any free
 * port) with a test configuration, talk to it over TLS with libcurl,
 * checking every answer against openapi.yaml, and stop it with SIGTERM,
 * checking that it exits cleanly.
 */
#ifndef WSUSDIAG_DAEMON_HARNESS_H
#define WSUSDIAG_DAEMON_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* Tokens the test configuration accepts (their SHA-256 is in it). */
#define ADMIN_TOKEN "admin-token-for-the-integration-tests"
#define READ_TOKEN  "read-token-for-the-integration-tests"

struct daemon_opts {
	const char *host_file;	/* relative to examples/hosts/ or absolute */
	const char *allow;	/* JSON array text; NULL: loopback */
	bool insecure_http;	/* --insecure-http */
	bool writeback;		/* --sim-writeback on a private copy */
	const char *extra_json; /* extra top-level members, e.g. "\"x\":1" */
};

struct daemon {
	pid_t pid;
	int port;
	char dir[256]; /* private temp dir: config, log, audit */
	char log[300];
	char certs[256];     /* the test PKI */
	char host_copy[300]; /* the simulated host file in use */
};

/* Start and wait until it listens; aborts the test on failure. */
void daemon_start(struct daemon *d, const struct daemon_opts *o);
/*
 * SIGTERM, wait, stop the contract validator, remove d->dir; returns the
 * exit status (0 for a clean stop).
 */
int daemon_stop(struct daemon *d);

struct http_opts {
	const char *method;
	const char *path;
	const char *token;	  /* Bearer token or NULL */
	const char *body;	  /* NULL: none */
	const char *content_type; /* with body; NULL: application/json */
	const char *client_cert; /* name in the test PKI, e.g. "admin-client" */
	bool plain;		 /* http:// instead of https:// */
	long timeout_ms;	 /* 0: 10 s */
};

struct http_reply {
	long status;   /* 0 when no HTTP answer came */
	int curl_code; /* CURLcode */
	char *body;
	char *content_type;
	char *allow;
	char *www_authenticate;
	cJSON *json; /* parsed body, or NULL */
};

/*
 * One request. Every complete HTTP answer is checked against openapi.yaml
 * (below) before http_call returns.
 */
void http_call(const struct daemon *d, const struct http_opts *o,
	       struct http_reply *r);
/*
 * GET each of paths in turn with token, as a console polling a client
 * does, on the connection curl keeps: every answer must be 200 (and is
 * checked as http_call checks it), and all on one connection.
 */
void http_expect_kept_alive(const struct daemon *d, const char *token,
			    const char *const *paths, size_t n);
/*
 * The contract check: tests/openapi/validate.mjs runs beside the test (it
 * needs `npm ci` in tests/openapi: ctest's openapi_npm fixture) and every
 * answer http_call receives must be one openapi.yaml allows; each mismatch
 * fails the test with the method, path, status and the schema error.
 * daemon_start starts the validator, http_call starts it if need be,
 * http_contract_start starts it and waits until it has loaded the spec;
 * daemon_stop and http_contract_stop stop it, as does the test process's
 * exit.
 */
void http_contract_start(void);
void http_contract_stop(void);
void http_reply_free(struct http_reply *r);

/* Read the whole file at path (NULL if absent); caller frees. */
char *slurp(const char *path);
/* Source and binary dirs from ctest's environment. */
const char *src_dir(void);
const char *bin_dir(void);

#endif
