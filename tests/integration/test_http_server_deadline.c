/*
 * The server check's deadline end to end: the real daemon, configured
 * with probe.timeout_ms 2000, whose simulated host's policy points at a
 * server on 127.0.0.1 that accepts the connection, reads the request and
 * never answers (tests/servers/badsrv.c). GET /checks/server must come
 * back after one probe timeout with the finding that says so, and a
 * /health sent meanwhile must not wait for it.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "servers/servers.h"

#define WU_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"

#define PROBE_TIMEOUT_MS 2000
/* Functional bounds, not benchmarks: twice the budget for the check, a
 * second for /health (it takes milliseconds). */
#define CHECK_BOUND_MS	4000
#define HEALTH_BOUND_MS 1000

static struct daemon d;
static struct badsrv *silent;
static char host_path[128];

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* wsus-local.json with its policy pointing at the silent server. */
static void
write_host(void)
{
	char from[512], url[64], *text;
	cJSON *doc, *key;
	FILE *f;

	snprintf(from, sizeof(from), "%s/examples/hosts/wsus-local.json",
		 src_dir());
	text = slurp(from);
	cr_assert_not_null(text, "cannot read %s", from);
	doc = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(doc);
	key = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"), WU_KEY);
	cr_assert_not_null(key, "wsus-local.json has no %s", WU_KEY);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", badsrv_port(silent));
	cJSON_ReplaceItemInObject(key, "WUServer", cJSON_CreateString(url));
	cJSON_ReplaceItemInObject(key, "WUStatusServer",
				  cJSON_CreateString(url));
	snprintf(host_path, sizeof(host_path),
		 "/tmp/wsusdiag-server-deadline-%d.json", (int)getpid());
	f = fopen(host_path, "w");
	cr_assert_not_null(f);
	text = cJSON_Print(doc);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	free(text);
	cJSON_Delete(doc);
}

static void
start(void)
{
	struct daemon_opts o = {
	    .host_file = host_path,
	    .extra_json = "\"probe\":{\"timeout_ms\":2000}",
	};
	char err[256] = "";

	signal(SIGPIPE, SIG_IGN);
	/* Before the second thread: curl_easy_init would do it racily. */
	curl_global_init(CURL_GLOBAL_ALL);
	silent = badsrv_start(BADSRV_SILENT, 0, err, sizeof(err));
	cr_assert_not_null(silent, "badsrv: %s", err);
	write_host();
	daemon_start(&d, &o);
}

static void
stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(daemon_stop(&d), 0,
			     "wsusdiagd did not exit cleanly");
	badsrv_stop(silent);
	silent = NULL;
	if (host_path[0] != '\0')
		remove(host_path);
}

TestSuite(server_deadline, .init = start, .fini = stop, .timeout = 60);

/* One call and when it started and ended. */
struct timed {
	const char *path;
	const char *token;
	struct http_reply r;
	uint64_t start, end;
};

static void
timed_call(struct timed *t)
{
	struct http_opts o = {.method = "GET",
			      .path = t->path,
			      .token = t->token,
			      .timeout_ms = 30000};

	t->start = now_ms();
	http_call(&d, &o, &t->r);
	t->end = now_ms();
}

static void *
call_thread(void *arg)
{
	timed_call(arg);
	return NULL;
}

/* Until the silent server has the probe's request: the check is then
 * waiting for its answer. */
static void
wait_for_probe(void)
{
	uint64_t end = now_ms() + 10000;

	while (badsrv_requests(silent) == 0) {
		cr_assert_lt(now_ms(), end,
			     "the server check never reached the server");
		usleep(5000);
	}
}

static const cJSON *
member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert_not_null(v, "no \"%s\" in %s", key,
			   cJSON_PrintUnformatted(o));
	return v;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	cr_assert(cJSON_IsString(v), "\"%s\" is not a string", key);
	return v->valuestring;
}

static const cJSON *
finding(const cJSON *check, const char *id)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, member(check, "findings"))
	{
		if (strcmp(str(f, "id"), id) == 0)
			return f;
	}
	cr_assert_fail("no %s finding: %s", id, cJSON_PrintUnformatted(check));
	return NULL;
}

static void
expect_status(const cJSON *check, const char *id, const char *status)
{
	const cJSON *f = finding(check, id);

	cr_expect_str_eq(str(f, "status"), status, "%s: %s", id,
			 cJSON_PrintUnformatted(f));
}

/*
 * The probe to a server that never answers: one timeout of 2000 ms on
 * the first GET, and nothing after it. server.iuident carries WinHTTP's
 * timeout, 0x80072EE2, as server.c reports it.
 */
static void
expect_timeout_result(const cJSON *check)
{
	const cJSON *f = finding(check, "server.iuident"), *facts, *timing;
	char msg[128];

	cr_expect_str_eq(str(check, "id"), "server");
	cr_expect_str_eq(str(check, "status"), "fail");
	cr_expect_str_eq(str(f, "status"), "fail");
	cr_expect_str_eq(str(member(f, "error"), "code"), "0x80072EE2");
	cr_expect_str_eq(str(f, "observed"), "0x80072EE2");
	snprintf(msg, sizeof(msg),
		 "GET /iuident.cab: no answer within %u ms: the server "
		 "accepted the connection but did not respond",
		 PROBE_TIMEOUT_MS);
	cr_expect_str_eq(str(f, "message"), msg);
	expect_status(check, "server.url", "pass");
	expect_status(check, "server.resolve", "pass");
	expect_status(check, "server.connect", "pass");
	expect_status(check, "server.tls", "skip");
	expect_status(check, "server.content_length", "skip");
	expect_status(check, "server.range", "skip");
	facts = member(check, "facts");
	cr_expect_eq(member(facts, "probe_budget_ms")->valuedouble,
		     PROBE_TIMEOUT_MS);
	cr_expect_eq(cJSON_GetArraySize(member(facts, "probes")), 1);
	timing = member(facts, "timing_ms");
	cr_expect(cJSON_IsNull(member(timing, "first_byte")));
	cr_expect(cJSON_IsNumber(member(timing, "connect")));
	cr_expect_lt(member(check, "duration_ms")->valuedouble, CHECK_BOUND_MS);
}

/* other is called once waiting's probe waits on the silent server. */
static void
call_while_probing(struct timed *waiting, struct timed *other)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, call_thread, waiting), 0);
	wait_for_probe();
	timed_call(other);
	pthread_join(t, NULL);
}

Test(server_deadline,
     never_answering_server_costs_one_timeout_and_blocks_nothing)
{
	struct timed check = {.path = "/checks/server", .token = READ_TOKEN};
	struct timed health = {.path = "/health"};

	call_while_probing(&check, &health);

	cr_assert_eq(health.r.status, 200, "/health: %ld (curl %d) %s",
		     health.r.status, health.r.curl_code, health.r.body);
	cr_expect_str_eq(str(health.r.json, "status"), "ok");
	cr_expect_lt(health.end - health.start, HEALTH_BOUND_MS,
		     "/health took %llu ms while the check ran",
		     (unsigned long long)(health.end - health.start));
	/* It was answered while the check was still waiting. */
	cr_expect_lt(health.end, check.end,
		     "/health came back %llu ms after the check",
		     (unsigned long long)(health.end - check.end));

	cr_assert_eq(check.r.status, 200, "/checks/server: %ld (curl %d) %s",
		     check.r.status, check.r.curl_code, check.r.body);
	cr_assert_not_null(check.r.json, "%s", check.r.body);
	cr_expect_lt(check.end - check.start, CHECK_BOUND_MS,
		     "GET /checks/server took %llu ms",
		     (unsigned long long)(check.end - check.start));
	expect_timeout_result(check.r.json);
	cr_log_info("GET /checks/server %llu ms, /health %llu ms",
		    (unsigned long long)(check.end - check.start),
		    (unsigned long long)(health.end - health.start));
	http_reply_free(&health.r);
	http_reply_free(&check.r);
}

/*
 * Requests that wait are served by workers side by side, not one after
 * the other: while the server check waits for the silent server,
 * another check is answered.
 */
Test(server_deadline, a_waiting_check_delays_no_other_check)
{
	struct timed server = {.path = "/checks/server", .token = READ_TOKEN};
	struct timed bits = {.path = "/checks/bits", .token = READ_TOKEN};

	call_while_probing(&server, &bits);

	cr_assert_eq(bits.r.status, 200, "/checks/bits: %ld (curl %d) %s",
		     bits.r.status, bits.r.curl_code, bits.r.body);
	cr_expect_str_eq(str(bits.r.json, "id"), "bits");
	cr_expect_lt(bits.end, server.end,
		     "/checks/bits came back %llu ms after the server check",
		     (unsigned long long)(bits.end - server.end));
	cr_assert_eq(server.r.status, 200, "%s", server.r.body);
	expect_timeout_result(server.r.json);
	http_reply_free(&bits.r);
	http_reply_free(&server.r);
}
