/*
 * test_check_wuauserv.c: the wuauserv check on simulated hosts.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	static const char *const ids[] = {"wuauserv.exists", "wuauserv.state",
					  "wuauserv.start_type"};
	struct check_result r;

	run_example("healthy.json", &r);
	cr_assert_eq(r.status, ST_PASS, "summary: %s", r.summary);
	cr_assert_eq(r.n_findings, 3);
	for (size_t i = 0; i < 3; i++) {
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
	cr_assert_eq(r.n_findings, 3);
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
