/*
 * test_check_wuauserv.c: the wuauserv check on simulated hosts: the
 * examples, healthy.json with one thing changed, and a host that fails
 * chosen calls.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"

static const struct check_settings settings = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

static char *
example_path(const char *name)
{
	const char *dir = getenv("WSUSDIAG_SOURCE_DIR");

	cr_assert_not_null(dir, "WSUSDIAG_SOURCE_DIR is not set (run ctest)");
	return xasprintf("%s/examples/hosts/%s", dir, name);
}

static struct host *
open_file(const char *path)
{
	char err[256] = "";
	struct host *h = host_sim_open(path, false, err, sizeof(err));

	cr_assert_not_null(h, "host_sim_open(%s): %s", path, err);
	return h;
}

static void
run_example(const char *name, struct check_result *r)
{
	char *path = example_path(name);
	struct host *h = open_file(path);
	struct check_ctx ctx = {.host = h, .settings = &settings};

	check_run(&check_wuauserv, &ctx, r);
	host_close(h);
	free(path);
}

/* healthy.json without its wuauserv entry, through a temporary file. */
static void
run_without_wuauserv(struct check_result *r)
{
	char *path = example_path("healthy.json"), *text;
	char tmp[] = "/tmp/wsd-test-wuauserv-XXXXXX";
	FILE *fp = fopen(path, "rb");
	struct check_ctx ctx = {.settings = &settings};
	cJSON *doc;
	long len;
	int fd;

	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	text = xmalloc((size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, fp), (size_t)len);
	text[len] = '\0';
	fclose(fp);
	doc = cJSON_Parse(text);
	cr_assert_not_null(doc);
	free(text);
	cr_assert_not_null(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "services"), "wuauserv"));
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "wuauserv");
	text = cJSON_Print(doc);
	fd = mkstemp(tmp);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ctx.host = open_file(tmp);
	unlink(tmp);
	check_run(&check_wuauserv, &ctx, r);
	host_close(ctx.host);
	free(text);
	free(path);
	cJSON_Delete(doc);
}

static const struct finding *
find(const struct check_result *r, const char *id)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->findings[i].id, id) == 0)
			return &r->findings[i];
	cr_assert_fail("finding %s missing", id);
	return NULL;
}

Test(check_wuauserv, descriptor)
{
	cr_assert_eq(check_find("wuauserv"), &check_wuauserv);
	cr_assert_str_eq(check_wuauserv.title, "Windows Update service");
	cr_assert_str_eq(check_wuauserv.seed_section,
			 "Issues with the WSUS agent service");
	cr_assert_gt(check_wuauserv.time_limit_ms, 0);
}

Test(check_wuauserv, healthy_passes_every_finding)
{
	static const char *const ids[] = {
	    "wuauserv.exists", "wuauserv.state", "wuauserv.start_type",
	    "wuauserv.last_error", "wuauserv.can_start"};
	struct check_result r;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(r.findings[i].id, ids[i]);
		cr_assert_eq(r.findings[i].status, ST_PASS, "%s: %s", ids[i],
			     r.findings[i].message);
	}
	cr_assert_str_eq(cJSON_GetObjectItem(r.facts, "state")->valuestring,
			 "running");
	result_clear(&r);
}

Test(check_wuauserv, stopped_and_disabled)
{
	struct check_result r;
	const struct finding *f;

	run_example("wuauserv-stopped-disabled.json", &r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_eq(r.n_findings, 5);
	f = find(&r, "wuauserv.start_type");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070422u);
	cr_assert_str_eq(f->observed, "disabled");
	cr_assert_str_eq(
	    f->remedy_text,
	    "enable the service: sc config wuauserv start= demand");
	/* Stopped with exit code 0: a demand-started service may be. */
	f = find(&r, "wuauserv.state");
	cr_assert_eq(f->status, ST_WARN);
	cr_assert_str_eq(f->observed, "stopped");
	cr_assert_eq(f->error, 0);
	cr_assert_eq(find(&r, "wuauserv.exists")->status, ST_PASS);
	cr_assert_str_eq(
	    cJSON_GetObjectItem(r.facts, "start_type")->valuestring,
	    "disabled");
	/* The SCM's answer to sc start. */
	f = find(&r, "wuauserv.can_start");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070422u);
	cr_assert_str_eq(f->observed, "cannot start");
	cr_assert_str_eq(
	    f->remedy_text,
	    "enable the service: sc config wuauserv start= demand");
	/* It stopped cleanly before it was disabled. */
	f = find(&r, "wuauserv.last_error");
	cr_assert_eq(f->status, ST_PASS);
	cr_assert_str_eq(f->observed, "0");
	result_clear(&r);
}

Test(check_wuauserv, missing_gives_only_exists)
{
	struct check_result r;

	run_without_wuauserv(&r);
	cr_assert_eq(r.status, ST_FAIL);
	cr_assert_eq(r.n_findings, 1);
	cr_assert_str_eq(r.findings[0].id, "wuauserv.exists");
	cr_assert_eq(r.findings[0].error, 0x80070424u);
	result_clear(&r);
}

/* ---- can_start and last_error ---------------------------------------------
 */

#define SVCHOST_KEY                                                            \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"
#define WU_PARAMS                                                              \
	"HKLM\\SYSTEM\\CurrentControlSet\\Services\\wuauserv\\Parameters"

static cJSON *
load_healthy(void)
{
	char *path = example_path("healthy.json"), *text;
	FILE *fp = fopen(path, "rb");
	cJSON *doc;
	long len;

	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	text = xmalloc((size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, fp), (size_t)len);
	text[len] = '\0';
	fclose(fp);
	doc = cJSON_Parse(text);
	cr_assert_not_null(doc);
	free(text);
	free(path);
	return doc;
}

/* Run the check on healthy.json changed by edit, through a temp file. */
static void
run_edited(void (*edit)(cJSON *doc, const void *arg), const void *arg,
	   struct check_result *r)
{
	char tmp[] = "/tmp/wsd-test-wuauserv-XXXXXX";
	struct check_ctx ctx = {.settings = &settings};
	cJSON *doc = load_healthy();
	char *text;
	int fd;

	edit(doc, arg);
	text = cJSON_Print(doc);
	fd = mkstemp(tmp);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ctx.host = open_file(tmp);
	unlink(tmp);
	check_run(&check_wuauserv, &ctx, r);
	host_close(ctx.host);
	free(text);
	cJSON_Delete(doc);
}

static cJSON *
service_of(cJSON *doc, const char *name)
{
	cJSON *svc =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"), name);

	cr_assert_not_null(svc, "healthy.json has no services.%s", name);
	return svc;
}

static void
set_str(cJSON *obj, const char *key, const char *v)
{
	cJSON_DeleteItemFromObject(obj, key);
	cJSON_AddStringToObject(obj, key, v);
}

static void
stop(cJSON *svc, double exit_code)
{
	set_str(svc, "state", "stopped");
	cJSON_DeleteItemFromObject(svc, "pid");
	cJSON_DeleteItemFromObject(svc, "exit_code");
	cJSON_AddNumberToObject(svc, "exit_code", exit_code);
}

static const struct finding *
can_start_after(void (*edit)(cJSON *, const void *), const void *arg,
		struct check_result *r)
{
	run_edited(edit, arg, r);
	return find(r, "wuauserv.can_start");
}

/* wuauserv, stopped, depends on the JSON array arg. */
static void
edit_deps(cJSON *doc, const void *arg)
{
	cJSON *wu = service_of(doc, "wuauserv");

	stop(wu, 0);
	cJSON_DeleteItemFromObject(wu, "dependencies");
	cJSON_AddItemToObject(wu, "dependencies", cJSON_Parse(arg));
}

Test(check_wuauserv, stopped_can_start)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_deps, "[\"rpcss\"]", &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) can start: it "
			 "is not disabled, its dependencies can start, it is "
			 "listed in the svchost group netsvcs and has its "
			 "ServiceDll");
	cr_assert_str_eq(f->observed, "able to start");
	result_clear(&r);
}

Test(check_wuauserv, dependency_missing)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_deps, "[\"rpcss\", \"NoSuchSvc\"]", &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070433u);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) cannot start: "
			 "dependency NoSuchSvc does not exist; sc start "
			 "wuauserv would fail with 0x80070433");
	cr_assert_str_eq(f->remedy_text,
			 "restore the service NoSuchSvc, or take it out of the "
			 "dependencies: sc config wuauserv depend= rpcss, then "
			 "start the Windows Update service (wuauserv)");
	cr_assert_null(f->remedy_action);
	result_clear(&r);
}

/* wuauserv is stopped and RpcSs, its dependency, is disabled. */
static void
edit_rpcss_disabled(cJSON *doc, const void *arg)
{
	(void)arg;
	stop(service_of(doc, "wuauserv"), 0);
	set_str(service_of(doc, "RpcSs"), "start_type", "disabled");
}

Test(check_wuauserv, dependency_disabled)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_rpcss_disabled, NULL, &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Cu);
	/* Case as the service's own list spells it. */
	cr_assert_not_null(strstr(f->message, "dependency rpcss is disabled"),
			   "%s", f->message);
	cr_assert_eq(r.status, ST_FAIL);
	result_clear(&r);
}

/* The SCM judges a running service's configuration all the same: the
 * next start would fail. */
static void
edit_not_in_netsvcs(cJSON *doc, const void *arg)
{
	cJSON *k = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"),
				       SVCHOST_KEY);
	cJSON *list =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(k, "netsvcs"), "data");
	int n = cJSON_GetArraySize(list);

	(void)arg;
	for (int i = n - 1; i >= 0; i--)
		if (strcasecmp(cJSON_GetArrayItem(list, i)->valuestring,
			       "wuauserv") == 0)
			cJSON_DeleteItemFromArray(list, i);
	cr_assert_eq(cJSON_GetArraySize(list), n - 1);
}

Test(check_wuauserv, not_in_its_svchost_group)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_not_in_netsvcs, NULL, &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007043Bu);
	cr_assert_not_null(strstr(f->message, "wuauserv is not listed in the "
					      "svchost group netsvcs"),
			   "%s", f->message);
	cr_assert_not_null(strstr(f->remedy_text, "add wuauserv to the "
						  "REG_MULTI_SZ value netsvcs"),
			   "%s", f->remedy_text);
	result_clear(&r);
}

static void
edit_no_servicedll(cJSON *doc, const void *arg)
{
	(void)arg;
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "registry"),
				   WU_PARAMS);
}

Test(check_wuauserv, servicedll_missing)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_no_servicedll, NULL, &r);
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x80070002u);
	cr_assert_not_null(strstr(f->message, "wuauserv has no ServiceDll"),
			   "%s", f->message);
	cr_assert_not_null(strstr(f->remedy_text,
				  "/d \"%systemroot%\\system32\\wuaueng.dll\""),
			   "%s", f->remedy_text);
	result_clear(&r);
}

/* As on Wine: its own program, so no svchost group and no ServiceDll. */
static void
edit_own_process(cJSON *doc, const void *arg)
{
	cJSON *wu = service_of(doc, "wuauserv");

	edit_no_servicedll(doc, arg);
	set_str(wu, "type", "own");
	set_str(wu, "binary_path", "C:\\windows\\system32\\wuauserv.exe");
}

Test(check_wuauserv, own_process_needs_no_svchost)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_own_process, NULL, &r);
	cr_assert_eq(f->status, ST_PASS, "%s", f->message);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) is up and "
			 "could start again: it is not disabled, its "
			 "dependencies can start");
	result_clear(&r);
}

static void
edit_registry_fault(cJSON *doc, const void *arg)
{
	cJSON *fault = cJSON_AddObjectToObject(doc, "fault");

	(void)arg;
	cJSON_AddNumberToObject(fault, "registry_read", 5);
}

Test(check_wuauserv, registry_unreadable_is_error)
{
	struct check_result r;
	const struct finding *f;

	f = can_start_after(edit_registry_fault, NULL, &r);
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message,
			 "could not tell whether the Windows Update service "
			 "(wuauserv) can start: could not read the svchost "
			 "group netsvcs (0x80070005)");
	cr_assert_str_eq(f->observed, "unknown");
	cr_assert_eq(r.status, ST_ERROR);
	result_clear(&r);
}

static void
edit_crashed(cJSON *doc, const void *arg)
{
	(void)arg;
	stop(service_of(doc, "wuauserv"), 1067);
}

Test(check_wuauserv, last_error_decoded)
{
	struct check_result r;
	const struct finding *f;

	run_edited(edit_crashed, NULL, &r);
	f = find(&r, "wuauserv.last_error");
	cr_assert_eq(f->status, ST_FAIL);
	cr_assert_eq(f->error, 0x8007042Bu);
	cr_assert_str_eq(f->message,
			 "the Windows Update service (wuauserv) last exited "
			 "with 0x8007042B (ERROR_PROCESS_ABORTED)");
	cr_assert_str_eq(f->expected, "no error");
	cr_assert_str_eq(f->observed, "0x8007042B");
	cr_assert_not_null(f->remedy_text);
	/* A crash is no reason it could not start again. */
	cr_assert_eq(find(&r, "wuauserv.can_start")->status, ST_PASS);
	result_clear(&r);
}

/* ---- a host whose configuration query is refused ------------------------- */

struct wrap {
	struct host base;
	struct host_ops ops;
	struct host *inner;
};

#define INNER(h) (((struct wrap *)(h))->inner)

static hr_t
w_status(struct host *h, const char *name, struct svc_status *out)
{
	return INNER(h)->ops->service_status(INNER(h), name, out);
}

static hr_t
w_config_denied(struct host *h, const char *name, struct svc_config *out)
{
	(void)h;
	(void)name;
	(void)out;
	return 0x80070005u;
}

static void
w_close(struct host *h)
{
	host_close(INNER(h));
	free(h);
}

Test(check_wuauserv, configuration_unreadable)
{
	struct wrap *w = xcalloc(1, sizeof(*w));
	struct check_ctx ctx = {.settings = &settings};
	struct check_result r;
	const struct finding *f;
	char *path = example_path("healthy.json");

	/* Only what the check may call with a refused configuration. */
	w->inner = open_file(path);
	w->ops.kind = "sim";
	w->ops.service_status = w_status;
	w->ops.service_config = w_config_denied;
	w->ops.close = w_close;
	w->base.ops = &w->ops;
	ctx.host = &w->base;
	check_run(&check_wuauserv, &ctx, &r);
	host_close(ctx.host);
	free(path);
	cr_assert_eq(r.status, ST_ERROR);
	f = find(&r, "wuauserv.can_start");
	cr_assert_eq(f->status, ST_ERROR);
	cr_assert_eq(f->error, 0x80070005u);
	cr_assert_str_eq(f->message,
			 "could not read the configuration of the Windows "
			 "Update service (wuauserv) (0x80070005), so whether "
			 "it can start is unknown");
	/* The status query answered: the exit code is known. */
	cr_assert_eq(find(&r, "wuauserv.last_error")->status, ST_PASS);
	result_clear(&r);
}

/* ---- the report on the example ------------------------------------------- */

/*
 * server and proxy probe the real network, so their result depends on
 * this machine's (the examples' WSUS server, wsus.corp.example, never
 * resolves); test_check_server.c and test_check_proxy.c judge them.
 */
static bool
is_network_check(const struct check *c)
{
	return strcmp(c->id, "server") == 0 || strcmp(c->id, "proxy") == 0;
}

Test(check_wuauserv, report_on_the_example)
{
	char *path = example_path("wuauserv-stopped-disabled.json");
	struct check_ctx ctx = {.host = open_file(path), .settings = &settings};
	struct check_result r;

	for (size_t i = 0; i < check_count; i++) {
		if (is_network_check(check_table[i]))
			continue;
		check_run(check_table[i], &ctx, &r);
		if (check_table[i] == &check_wuauserv)
			cr_assert_eq(r.status, ST_FAIL);
		else
			cr_assert_lt(r.status, ST_FAIL, "%s is %s: %s",
				     check_table[i]->id, status_name(r.status),
				     r.summary);
		result_clear(&r);
	}
	host_close(ctx.host);
	free(path);
}
