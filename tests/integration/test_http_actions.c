/*
 * Actions over HTTP: one action at a time per target, 409 for the
 * second caller, and every call in the audit log.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_harness.h"

static struct daemon d;
static char host_path[256];

/* broken-bits.json with every BITS operation slowed down, so that an
 * action on BITS is still running when the second request arrives. */
static void
write_slow_host(void)
{
	char from[512], *text;
	cJSON *doc, *bits, *fault;
	FILE *f;

	snprintf(from, sizeof(from), "%s/examples/hosts/broken-bits.json",
		 src_dir());
	text = slurp(from);
	cr_assert_not_null(text);
	doc = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(doc);
	bits =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"), "BITS");
	cr_assert_not_null(bits);
	cJSON_DeleteItemFromObject(bits, "fault");
	fault = cJSON_AddObjectToObject(bits, "fault");
	cJSON_AddNumberToObject(fault, "delay_ms", 400);
	snprintf(host_path, sizeof(host_path),
		 "/tmp/wsusdiag-slow-bits-%d.json", getpid());
	f = fopen(host_path, "w");
	cr_assert_not_null(f);
	text = cJSON_Print(doc);
	fputs(text, f);
	fclose(f);
	free(text);
	cJSON_Delete(doc);
}

static void
start(void)
{
	struct daemon_opts o = {.host_file = host_path};

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_ALL);
	write_slow_host();
	daemon_start(&d, &o);
}

static void
stop(void)
{
	cr_expect_eq(daemon_stop(&d), 0, "wsusdiagd did not exit cleanly");
	remove(host_path);
}

TestSuite(actions, .init = start, .fini = stop);

struct call {
	const char *path;
	struct http_reply r;
};

static void *
post(void *arg)
{
	struct call *c = arg;
	struct http_opts o = {.method = "POST",
			      .path = c->path,
			      .token = ADMIN_TOKEN,
			      .timeout_ms = 60000};

	http_call(&d, &o, &c->r);
	return NULL;
}

/* Start the first call, give it time to take its locks, then the second. */
static void
overlap(struct call *first, struct call *second)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, post, first), 0);
	usleep(300 * 1000);
	post(second);
	pthread_join(t, NULL);
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

Test(actions, a_second_action_on_the_same_target_gets_409)
{
	struct call a = {.path = "/actions/restart-bits"};
	struct call b = {.path = "/actions/restart-bits"};

	overlap(&a, &b);
	cr_expect_eq(a.r.status, 200, "%s", a.r.body);
	cr_expect_str_eq(str(a.r.json, "status"), "ok", "%s", a.r.body);
	cr_expect_eq(b.r.status, 409, "%s", b.r.body);
	cr_expect_str_eq(b.r.content_type, "application/problem+json");
	cr_expect_str_eq(str(b.r.json, "target"), "bits");
	cr_expect_str_eq(str(b.r.json, "running_action"), "restart-bits");
	http_reply_free(&a.r);
	http_reply_free(&b.r);
}

Test(actions, an_action_that_also_stops_bits_is_refused_too)
{
	struct call a = {.path = "/actions/restart-bits"};
	struct call b = {.path = "/actions/reset-store"};

	overlap(&a, &b);
	cr_expect_eq(a.r.status, 200, "%s", a.r.body);
	cr_expect_eq(b.r.status, 409, "%s", b.r.body);
	cr_expect_str_eq(str(b.r.json, "target"), "bits");
	cr_expect_str_eq(str(b.r.json, "running_action"), "restart-bits");
	http_reply_free(&a.r);
	http_reply_free(&b.r);
}

Test(actions, other_targets_are_not_blocked)
{
	struct call a = {.path = "/actions/restart-bits"};
	struct call b = {.path = "/actions/gpupdate"};

	overlap(&a, &b);
	cr_expect_eq(a.r.status, 200, "%s", a.r.body);
	cr_expect_eq(b.r.status, 200, "gpupdate was blocked: %s", b.r.body);
	http_reply_free(&a.r);
	http_reply_free(&b.r);
}

/* Every call is one audit line, the refused one included. */
Test(actions, every_call_is_one_audit_line)
{
	struct call a = {.path = "/actions/restart-bits"};
	struct call b = {.path = "/actions/restart-bits"};
	char path[400], *audit, *line;
	int n = 0;

	overlap(&a, &b);
	cr_assert_eq(b.r.status, 409);
	snprintf(path, sizeof(path), "%s/audit.jsonl", d.dir);
	audit = slurp(path);
	cr_assert_not_null(audit);
	for (line = strtok(audit, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *rec = cJSON_Parse(line);

		cr_assert_not_null(rec, "not JSON: %s", line);
		cr_expect_str_eq(str(rec, "action"), "restart-bits");
		cr_expect_str_eq(str(rec, "caller"), "token:admin");
		/* The refused call is written first: it never waited. */
		cr_expect_str_eq(str(rec, "status"), n == 0 ? "refused" : "ok",
				 "%s", line);
		cJSON_Delete(rec);
		n++;
	}
	cr_expect_eq(n, 2, "audit lines: %d", n);
	free(audit);
	http_reply_free(&a.r);
	http_reply_free(&b.r);
}
