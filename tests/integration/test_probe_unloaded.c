/*
 * The daemon loads libcurl only when it first probes (platform/
 * probe_curl.c). When the library cannot be loaded, the daemon still
 * serves: the probes say why, as the Windows error the update agent
 * would log, and /version shows no curl version. The library it finds
 * here is a file that is not one (LD_LIBRARY_PATH is searched first).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "support/tmptree.h"

static struct daemon d;
static char libdir[64];

static void
start_on(const char *host_file)
{
	char path[128];
	FILE *f;

	snprintf(libdir, sizeof(libdir), "/tmp/wsusdiag-nocurl-XXXXXX");
	cr_assert_not_null(mkdtemp(libdir));
	snprintf(path, sizeof(path), "%s/libcurl.so.4", libdir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not a shared object\n", f);
	cr_assert_eq(fclose(f), 0);
	/* For the daemon only: this process has its libcurl loaded. */
	setenv("LD_LIBRARY_PATH", libdir, 1);
	daemon_start(&d, &(struct daemon_opts){.host_file = host_file});
	unsetenv("LD_LIBRARY_PATH");
}

static void
start(void)
{
	start_on("healthy.json");
}

/* A machine proxy (WinHTTP) the proxy check must probe. */
static void
start_with_proxy(void)
{
	start_on("proxy-unresolvable.json");
}

static void
stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(daemon_stop(&d), 0,
			     "wsusdiagd did not exit cleanly");
	rm_tree(libdir);
}

TestSuite(probe_unloaded, .fini = stop, .timeout = 60);

static const cJSON *
get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert_not_null(v, "no \"%s\" in %s", key,
			   cJSON_PrintUnformatted(o));
	return v;
}

static struct http_reply
call(const char *path)
{
	struct http_opts o = {
	    .method = "GET", .path = path, .token = READ_TOKEN};
	struct http_reply r;

	http_call(&d, &o, &r);
	cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
	cr_assert_not_null(r.json, "%s", r.body);
	return r;
}

Test(probe_unloaded, version_shows_no_curl, .init = start)
{
	struct http_reply r = call("/version");

	cr_expect(cJSON_IsNull(get(get(r.json, "libraries"), "curl")), "%s",
		  r.body);
	http_reply_free(&r);
}

Test(probe_unloaded, server_check_says_why, .init = start)
{
	struct http_reply r = call("/checks/server");

	cr_log_info("%s", r.body);
	cr_expect_str_eq(get(r.json, "status")->valuestring, "error");
	cr_expect(strstr(r.body, "libcurl could not be loaded: ") != NULL, "%s",
		  r.body);
	cr_expect(strstr(r.body, "0x80072EE4") != NULL, "%s", r.body);
	http_reply_free(&r);
}

/* Not "the proxy resolves" nor "cannot connect": it was never asked. */
Test(probe_unloaded, proxy_check_says_why, .init = start_with_proxy)
{
	struct http_reply r = call("/checks/proxy");
	const cJSON *f, *resolve = NULL, *reachable = NULL;

	cr_log_info("%s", r.body);
	cJSON_ArrayForEach(f, get(r.json, "findings"))
	{
		const char *id = get(f, "id")->valuestring;

		if (strcmp(id, "proxy.resolve") == 0)
			resolve = f;
		else if (strcmp(id, "proxy.reachable") == 0)
			reachable = f;
	}
	cr_assert_not_null(resolve, "%s", r.body);
	cr_assert_not_null(reachable, "%s", r.body);
	cr_expect_str_eq(get(r.json, "status")->valuestring, "error");
	cr_expect_str_eq(get(resolve, "status")->valuestring, "error");
	cr_expect(strstr(get(resolve, "message")->valuestring,
			 "libcurl could not be loaded: ") != NULL,
		  "%s", r.body);
	cr_expect_str_eq(get(get(resolve, "error"), "code")->valuestring,
			 "0x80072EE4");
	cr_expect_str_eq(get(reachable, "status")->valuestring, "skip");
	http_reply_free(&r);
}
