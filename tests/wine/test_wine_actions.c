/*
 * The actions that change the machine, run by wsusdiagd.exe under Wine
 * with the real Win32 host: repair-bits against a BITS broken with
 * `wine reg` (what Wine's service manager cannot set is reported as
 * such, never as done), reset-store against a SoftwareDistribution made
 * in the prefix's C: drive, reset-client-id against values added with
 * `wine reg`, and one audit line per call. Skipped when
 * build-win/wsusdiagd.exe is absent. tests/wine/README.md says what Wine
 * answers.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wine_harness.h"

#define WU_KEY                                                                 \
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate"
#define BITS_DLL_KEY WINE_BITS_KEY "\\Parameters"

/* A BITS broken the way the article's readers break it. */
#define EN_DASH	       "\xe2\x80\x93"
#define BROKEN_BINPATH "C:\\windows\\system32\\svchost.exe " EN_DASH "k netsvcs"
#define BROKEN_ACCOUNT "NT AUTHORITY\\LocalService"
#define BROKEN_DLL     "C:\\windows\\system32\\qmgrprxy.dll"
#define BROKEN_REG     "broken-bits.reg" /* in C:\wsusdiag-test */

#define CLIENT_ID  "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
#define VALIDATION "0a0b0c0d0e0f10111213"

#define STORE	      "windows/SoftwareDistribution" /* under drive_c */
#define WIN_STORE     "C:\\windows\\SoftwareDistribution"
#define BACKUP_PREFIX "SoftwareDistribution.wsusdiag-"

#define ACTION_WAIT_MS 120000
#define SVC_WAIT_MS    30000
#define MAX_POSTS      4

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* What a test changed beyond BITS (which the harness restores). */
enum change {
	CH_STORE = 1u << 0,  /* SoftwareDistribution* under C:\windows */
	CH_WU_KEY = 1u << 1, /* WU_KEY, absent on a new prefix */
	CH_ALL = 0x3u,
};

/* The calls a test made, for the audit log. */
struct post {
	const char *action;
	bool dry_run;
	cJSON *reply;
};

static struct daemon d;
static unsigned changed;
static struct post posts[MAX_POSTS];
static size_t n_posts;

/* ---- putting the prefix back ------------------------------------------- */

static void
marker_path(char *out, size_t len)
{
	snprintf(out, len, "%s/.wsusdiag-actions-changed",
		 getenv("WSUSDIAG_WINEPREFIX"));
}

static void
drive_c_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/drive_c/%s", getenv("WSUSDIAG_WINEPREFIX"), rel);
}

/* rm -r path; the test made everything under it. */
static void
remove_tree(const char *path)
{
	struct dirent *e;
	char sub[1024];
	DIR *dir;

	if ((dir = opendir(path)) == NULL) {
		if (unlink(path) != 0 && errno != ENOENT)
			cr_expect_fail("cannot remove %s: %s", path,
				       strerror(errno));
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		remove_tree(sub);
	}
	closedir(dir);
	if (rmdir(path) != 0)
		cr_expect_fail("cannot remove %s: %s", path, strerror(errno));
}

/* The names under C:\windows that are the store or a backup of it. */
static bool
is_store_name(const char *name)
{
	return strcmp(name, "SoftwareDistribution") == 0 ||
	       strncmp(name, BACKUP_PREFIX, strlen(BACKUP_PREFIX)) == 0;
}

/* How many there are; with remove, they are removed. */
static int
store_entries(bool remove)
{
	char windows[512], path[1024];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	drive_c_path(windows, sizeof(windows), "windows");
	dir = opendir(windows);
	cr_assert_not_null(dir, "%s: %s", windows, strerror(errno));
	while ((e = readdir(dir)) != NULL) {
		if (!is_store_name(e->d_name))
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", windows, e->d_name);
		if (remove)
			remove_tree(path);
	}
	closedir(dir);
	return n;
}

static void
reg_delete_key(const char *key)
{
	struct wine_out o;

	/* Exit 1 when it is already gone. */
	wine_run(&o, "reg", "delete", key, "/f", NULL);
	cr_expect(o.status == 0 || o.status == 1, "reg delete %s: %d %s", key,
		  o.status, o.text);
	wine_out_free(&o);
}

static void
restore_actions(unsigned what)
{
	if (what & CH_STORE)
		store_entries(true);
	if (what & CH_WU_KEY)
		reg_delete_key(WU_KEY);
}

static void
setup(void)
{
	char marker[512];
	FILE *f;

	wine_setup();
	changed = 0;
	n_posts = 0;
	/* A test of this file died before its .fini. */
	marker_path(marker, sizeof(marker));
	if (access(marker, F_OK) == 0)
		restore_actions(CH_ALL);
	f = fopen(marker, "w");
	cr_assert_not_null(f);
	fclose(f);
}

/*
 * The daemon first (it may hold the store), then ours; the harness puts
 * BITS back and restarts the wineserver, which stops what the actions
 * started (wuauserv, BITS).
 */
static void
teardown(void)
{
	char marker[512];

	if (d.pid > 0)
		wine_daemon_stop_clean(&d);
	restore_actions(changed);
	wine_teardown(&d);
	for (size_t i = 0; i < n_posts; i++)
		cJSON_Delete(posts[i].reply);
	marker_path(marker, sizeof(marker));
	unlink(marker);
}

TestSuite(wine_actions, .init = setup, .fini = teardown, .timeout = 240);

/* The run's wineserver is persistent: stop it after the last test. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	wine_shutdown();
}

/* ---- JSON ---------------------------------------------------------------- */

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsString(v), "no string \"%s\" in %s", key,
		  cJSON_PrintUnformatted(o));
	return v->valuestring;
}

static const cJSON *
obj(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsObject(v), "no object \"%s\" in %s", key,
		  cJSON_PrintUnformatted(o));
	return v;
}

static const cJSON *
member_with(const cJSON *arr, const char *key, const char *value)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);

		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			return e;
	}
	return NULL;
}

static void
expect_error(const cJSON *o, const char *code, const char *name)
{
	const cJSON *e = cJSON_GetObjectItem(o, "error");

	cr_assert(cJSON_IsObject(e), "no error %s in %s", code,
		  cJSON_PrintUnformatted(o));
	cr_expect_str_eq(str(e, "code"), code);
	cr_expect_str_eq(str(e, "name"), name);
}

static void
expect_contains(const char *s, const char *part)
{
	cr_expect(strstr(s, part) != NULL, "\"%s\" not in \"%s\"", part, s);
}

/* ---- the API ------------------------------------------------------------- */

static void
get_check(const char *id, struct http_reply *r)
{
	char path[64];
	struct http_opts o = {.method = "GET",
			      .path = path,
			      .token = READ_TOKEN,
			      .timeout_ms = ACTION_WAIT_MS};

	snprintf(path, sizeof(path), "/checks/%s", id);
	http_call(&d, &o, r);
	cr_assert_eq(r->status, 200, "GET %s: %ld (curl %d) %s", path,
		     r->status, r->curl_code, r->body);
	cr_assert_not_null(r->json, "GET %s: not JSON: %s", path, r->body);
}

/* POST /actions/ID as admin; the reply is kept for the audit check. */
static void
post_action(const char *id, bool dry_run, struct http_reply *r)
{
	char path[64];
	struct http_opts o = {.method = "POST",
			      .path = path,
			      .token = ADMIN_TOKEN,
			      .body = dry_run ? "{\"dry_run\":true}" : "{}",
			      .timeout_ms = ACTION_WAIT_MS};

	snprintf(path, sizeof(path), "/actions/%s", id);
	http_call(&d, &o, r);
	cr_assert_lt(n_posts, MAX_POSTS);
	posts[n_posts].action = id;
	posts[n_posts].dry_run = dry_run;
	posts[n_posts++].reply = r->json ? cJSON_Duplicate(r->json, 1) : NULL;
	cr_assert_eq(r->status, 200, "POST %s: %ld (curl %d) %s", path,
		     r->status, r->curl_code, r->body);
	cr_assert_not_null(r->json, "POST %s: not JSON: %s", path, r->body);
	cr_expect_str_eq(str(r->json, "id"), id);
	cr_expect(cJSON_IsBool(cJSON_GetObjectItem(r->json, "dry_run")) &&
		      cJSON_IsTrue(cJSON_GetObjectItem(r->json, "dry_run")) ==
			  dry_run,
		  "dry_run: %s", r->body);
}

/* One step as expected: name, status and error (code NULL: none). */
struct want_step {
	const char *name, *status, *code, *error_name;
};

static void
expect_steps(const struct http_reply *r, const struct want_step *want, size_t n)
{
	const cJSON *steps = cJSON_GetObjectItem(r->json, "steps");

	cr_expect_eq((size_t)cJSON_GetArraySize(steps), n, "steps: %s",
		     cJSON_PrintUnformatted(steps));
	for (size_t i = 0; i < n; i++) {
		const cJSON *s = cJSON_GetArrayItem(steps, (int)i);

		cr_assert_not_null(s, "no step %zu (%s)", i, want[i].name);
		cr_expect_str_eq(str(s, "name"), want[i].name, "step %zu", i);
		cr_expect_str_eq(str(s, "status"), want[i].status,
				 "step %s: %s", want[i].name,
				 cJSON_PrintUnformatted(s));
		if (want[i].code != NULL)
			expect_error(s, want[i].code, want[i].error_name);
		else
			cr_expect(cJSON_IsNull(cJSON_GetObjectItem(s, "error")),
				  "step %s has an error: %s", want[i].name,
				  cJSON_PrintUnformatted(s));
	}
}

static const cJSON *
step(const struct http_reply *r, const char *name)
{
	const cJSON *s =
	    member_with(cJSON_GetObjectItem(r->json, "steps"), "name", name);

	cr_assert_not_null(s, "no step \"%s\": %s", name, r->body);
	return s;
}

static const cJSON *
change(const struct http_reply *r, const char *what)
{
	const cJSON *c =
	    member_with(cJSON_GetObjectItem(r->json, "changes"), "what", what);

	cr_assert_not_null(c, "no change \"%s\": %s", what, r->body);
	return c;
}

/* The finding id of the action's verify result. */
static const cJSON *
verify_finding(const struct http_reply *r, const char *check, const char *id)
{
	const cJSON *v = obj(r->json, "verify"), *f;

	cr_expect_str_eq(str(v, "id"), check);
	f = member_with(cJSON_GetObjectItem(v, "findings"), "id", id);
	cr_assert_not_null(f, "no %s in verify: %s", id,
			   cJSON_PrintUnformatted(v));
	return f;
}

/* ---- the audit log ------------------------------------------------------- */

static bool
same_json(const cJSON *a, const cJSON *b)
{
	return cJSON_Compare(a, b, true);
}

/* Line i of the audit log is the call posts[i]. */
static void
expect_audit_line(const cJSON *rec, const struct post *p, size_t i)
{
	const cJSON *dry = cJSON_GetObjectItem(rec, "dry_run");

	cr_expect_str_eq(str(rec, "action"), p->action, "line %zu", i + 1);
	cr_expect(cJSON_IsBool(dry) && cJSON_IsTrue(dry) == p->dry_run,
		  "line %zu dry_run: %s", i + 1, cJSON_PrintUnformatted(rec));
	cr_expect_str_eq(str(rec, "caller"), "token:admin");
	cr_expect_str_eq(str(rec, "source"), "127.0.0.1");
	expect_contains(str(rec, "time"), "T");
	cr_assert_not_null(p->reply);
	cr_expect_str_eq(str(rec, "status"), str(p->reply, "status"),
			 "line %zu", i + 1);
	cr_expect(same_json(cJSON_GetObjectItem(rec, "changes"),
			    cJSON_GetObjectItem(p->reply, "changes")),
		  "line %zu changes differ from the reply's: %s", i + 1,
		  cJSON_PrintUnformatted(rec));
	cr_expect(same_json(cJSON_GetObjectItem(rec, "backup"),
			    cJSON_GetObjectItem(p->reply, "backup")),
		  "line %zu backup differs from the reply's: %s", i + 1,
		  cJSON_PrintUnformatted(rec));
}

/*
 * C:\wsusdiag-test\audit.jsonl (removed when the daemon started) has
 * one JSON line per POST of the test, in order, saying what the reply
 * said. Windows' text mode ends the lines with CRLF.
 */
static void
expect_audit(void)
{
	char path[512], *log, *line, *save = NULL;
	size_t i = 0;

	wine_test_path(path, sizeof(path), "audit.jsonl");
	log = slurp(path);
	cr_assert_not_null(log, "no audit log %s", path);
	for (line = strtok_r(log, "\r\n", &save); line != NULL;
	     line = strtok_r(NULL, "\r\n", &save)) {
		cJSON *rec = cJSON_Parse(line);

		cr_assert_not_null(rec, "audit line %zu is not JSON: %s", i + 1,
				   line);
		cr_assert_lt(i, n_posts,
			     "more audit lines than calls (%zu):\n%s", n_posts,
			     line);
		expect_audit_line(rec, &posts[i], i);
		cJSON_Delete(rec);
		i++;
	}
	cr_expect_eq(i, n_posts, "%zu audit lines for %zu calls", i, n_posts);
	free(log);
}

/* ---- the prefix ---------------------------------------------------------- */

static void
start_service(const char *name)
{
	wine_must("sc", "start", name, NULL);
	cr_assert(wine_sc_wait(name, WINE_SVC_RUNNING, SVC_WAIT_MS),
		  "Wine's %s did not reach RUNNING", name);
}

/* `wine reg query ARGS...` output, which must exit with status. */
static char *
reg_query(int status, const char *key, const char *name)
{
	struct wine_out o;

	if (name != NULL)
		wine_run(&o, "reg", "query", key, "/v", name, NULL);
	else
		wine_run(&o, "reg", "query", key, "/s", NULL);
	cr_assert_eq(o.status, status, "reg query %s %s: exit %d: %s", key,
		     name ? name : "/s", o.status, o.text);
	return o.text;
}

/* UTF-8 to UTF-16LE with a BOM: `reg import` wants that. */
static void
write_utf16(const char *path, const char *text)
{
	iconv_t cd = iconv_open("UTF-16LE", "UTF-8");
	size_t in_left = strlen(text), out_left = 4 * in_left + 2;
	char *out = malloc(out_left), *op = out + 2, *ip = (char *)text;
	FILE *f;

	cr_assert(cd != (iconv_t)-1 && out != NULL);
	out[0] = '\xff';
	out[1] = '\xfe';
	out_left -= 2;
	cr_assert_neq(iconv(cd, &ip, &in_left, &op, &out_left), (size_t)-1,
		      "iconv: %s", strerror(errno));
	iconv_close(cd);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	fwrite(out, 1, (size_t)(op - out), f);
	cr_assert_eq(fclose(f), 0);
	free(out);
}

/*
 * The account, the binary path (with the article's en dash), the start
 * type and the ServiceDll, as `wine reg` sets them; services.exe reads
 * them when the wineserver restarts. An import: `reg add` would pass the
 * en dash through the Unix locale, which ctest may leave as C.
 */
static void
break_bits(void)
{
	char path[512];

	wine_test_path(path, sizeof(path), BROKEN_REG);
	write_utf16(
	    path,
	    "Windows Registry Editor Version 5.00\r\n\r\n"
	    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\"
	    "BITS]\r\n"
	    "\"ImagePath\"=\"C:\\\\windows\\\\system32\\\\svchost.exe " EN_DASH
	    "k netsvcs\"\r\n"
	    "\"ObjectName\"=\"NT AUTHORITY\\\\LocalService\"\r\n"
	    "\"Start\"=dword:00000004\r\n\r\n"
	    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\"
	    "BITS\\Parameters]\r\n"
	    "\"ServiceDll\"=\"C:\\\\windows\\\\system32\\\\qmgrprxy."
	    "dll\"\r\n");
	wine_must("reg", "import", WINE_TEST_DIR "\\" BROKEN_REG, NULL);
	unlink(path);
	wine_services_restart();
}

/* ---- what every action reports ------------------------------------------- */

struct want_change {
	const char *what, *before, *after; /* NULL: JSON null */
};

static void
expect_json_str(const cJSON *c, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItem(c, key);

	if (want == NULL)
		cr_expect(cJSON_IsNull(v), "%s is not null: %s", key,
			  cJSON_PrintUnformatted(c));
	else
		cr_expect_str_eq(str(c, key), want, "%s",
				 cJSON_PrintUnformatted(c));
}

/* The changes are exactly these, in this order. */
static void
expect_changes(const struct http_reply *r, const struct want_change *want,
	       size_t n)
{
	const cJSON *changes = cJSON_GetObjectItem(r->json, "changes");

	cr_expect_eq((size_t)cJSON_GetArraySize(changes), n, "changes: %s",
		     cJSON_PrintUnformatted(changes));
	for (size_t i = 0; i < n; i++) {
		const cJSON *c = cJSON_GetArrayItem(changes, (int)i);

		cr_assert_not_null(c, "no change %zu (%s)", i, want[i].what);
		cr_expect_str_eq(str(c, "what"), want[i].what, "change %zu", i);
		expect_json_str(c, "before", want[i].before);
		expect_json_str(c, "after", want[i].after);
	}
}

static const cJSON *
expect_verify(const struct http_reply *r, const char *check, const char *id,
	      const char *status)
{
	const cJSON *f = verify_finding(r, check, id);

	cr_expect_str_eq(str(f, "status"), status, "%s: %s", id,
			 cJSON_PrintUnformatted(f));
	return f;
}

/*
 * What Wine 8 answers when an action asks the agent to detect: its
 * wuapi.dll has IAutomaticUpdates::DetectNow as a stub (E_NOTIMPL), and
 * a prefix that says Windows 10 has no UsoClient.exe. The action says
 * both, and requests nothing it could not.
 */
static void
expect_detection_on_wine(const struct http_reply *r)
{
	expect_contains(str(step(r, "IAutomaticUpdates::DetectNow"), "detail"),
			"the Windows Update Agent API answered 0x80004001; "
			"using the program of this Windows version instead");
	cr_expect_str_eq(str(step(r, "UsoClient StartScan"), "detail"),
			 "could not run UsoClient StartScan (0x80070002)");
	/* Not requested, so not a change. */
	cr_expect_null(member_with(cJSON_GetObjectItem(r->json, "changes"),
				   "what", "update detection and reporting"),
		       "%s", r->body);
}

static void
expect_detection_planned(const struct http_reply *r)
{
	cr_expect_str_eq(str(step(r, "IAutomaticUpdates::DetectNow"), "detail"),
			 "would ask the Windows Update Agent to detect and "
			 "report now (the API has no re-authorization of its "
			 "own); if the API fails, Windows 10.0.18362 would run "
			 "UsoClient StartScan instead");
}

/* ---- repair-bits --------------------------------------------------------- */

#define REPAIRED_BINPATH "%SystemRoot%\\System32\\svchost.exe -k netsvcs"
#define REPAIRED_DLL	 "%SystemRoot%\\System32\\qmgr.dll"
/* Two arguments: the code and its name. */
#define INVALID_LEVEL "0x8007007C", "ERROR_INVALID_LEVEL"
#define FAILURE_ACTIONS                                                        \
	"{\"reset_s\":86400,\"actions\":[\"restart/60000\",\"restart/"         \
	"120000\"]}"
#define DLL_BEFORE                                                             \
	"{\"type\":\"REG_SZ\",\"data\":\"C:"                                   \
	"\\\\windows\\\\system32\\\\qmgrprxy."                                 \
	"dll\"}"
#define DLL_AFTER                                                              \
	"{\"type\":\"REG_EXPAND_SZ\",\"data\":\"%SystemRoot%\\\\System32\\\\"  \
	"qmgr.dll\"}"

/* The fields, then the restart of a stopped BITS. */
static const struct want_step repair_planned[] = {
    {"snapshot the BITS configuration", "planned", NULL, NULL},
    {"set binary path", "planned", NULL, NULL},
    {"set dependencies", "planned", NULL, NULL},
    {"set start type", "planned", NULL, NULL},
    {"set delayed auto start", "planned", NULL, NULL},
    {"set service type", "planned", NULL, NULL},
    {"set account", "planned", NULL, NULL},
    {"set required privileges", "planned", NULL, NULL},
    {"set SID type", "planned", NULL, NULL},
    {"set failure actions", "planned", NULL, NULL},
    {"set ServiceDll", "planned", NULL, NULL},
    {"stop BITS", "skipped", NULL, NULL},
    {"wait for BITS to stop", "skipped", NULL, NULL},
    {"start BITS", "planned", NULL, NULL},
    {"wait for BITS to run", "planned", NULL, NULL},
};

/*
 * Wine's SCM takes the QueryServiceConfigW fields but keeps no
 * dependencies, and lacks the ChangeServiceConfig2W levels for delayed
 * auto start, required privileges and the SID type. It accepts failure
 * actions and drops them (it cannot read them back either).
 */
static const struct want_step repair_done[] = {
    {"snapshot the BITS configuration", "ok", NULL, NULL},
    {"set binary path", "ok", NULL, NULL},
    {"set dependencies", "skipped", NULL, NULL},
    {"set start type", "ok", NULL, NULL},
    {"set delayed auto start", "skipped", INVALID_LEVEL},
    {"set service type", "ok", NULL, NULL},
    {"set account", "ok", NULL, NULL},
    {"set required privileges", "skipped", INVALID_LEVEL},
    {"set SID type", "skipped", INVALID_LEVEL},
    {"set failure actions", "ok", NULL, NULL},
    {"set ServiceDll", "ok", NULL, NULL},
    {"stop BITS", "skipped", NULL, NULL},
    {"wait for BITS to stop", "skipped", NULL, NULL},
    {"start BITS", "ok", NULL, NULL},
    {"wait for BITS to run", "ok", NULL, NULL},
};

/* Only what Wine kept; error control was right already. */
static const struct want_change repair_changes[] = {
    {"BITS binary path", BROKEN_BINPATH, REPAIRED_BINPATH},
    {"BITS start type", "disabled", "auto"},
    {"BITS service type", "own", "share"},
    {"BITS account", BROKEN_ACCOUNT, "LocalSystem"},
    {"BITS failure actions", "unknown (0x8007007C)", FAILURE_ACTIONS},
    {BITS_DLL_KEY "\\ServiceDll", DLL_BEFORE, DLL_AFTER},
    {"BITS state", "stopped", "running"},
};

/* The check sees all four fields broken before the repair. */
static void
expect_bits_broken(void)
{
	const cJSON *f;
	struct http_reply r;

	get_check("bits", &r);
	f = member_with(cJSON_GetObjectItem(r.json, "findings"), "id",
			"bits.account");
	cr_assert_not_null(f, "%s", r.body);
	cr_expect_str_eq(str(f, "status"), "fail");
	cr_expect_str_eq(str(f, "observed"), BROKEN_ACCOUNT);
	f = member_with(cJSON_GetObjectItem(r.json, "findings"), "id",
			"bits.binary_path");
	cr_assert_not_null(f, "%s", r.body);
	cr_expect_str_eq(str(f, "status"), "fail");
	cr_expect_str_eq(str(f, "observed"), BROKEN_BINPATH);
	expect_contains(str(f, "message"), "en dash");
	f = member_with(cJSON_GetObjectItem(r.json, "findings"), "id",
			"bits.start_type");
	cr_assert_not_null(f, "%s", r.body);
	cr_expect_str_eq(str(f, "status"), "fail");
	cr_expect_str_eq(str(f, "observed"), "disabled");
	f = member_with(cJSON_GetObjectItem(r.json, "findings"), "id",
			"bits.service_dll");
	cr_assert_not_null(f, "%s", r.body);
	cr_expect_str_eq(str(f, "status"), "fail", "%s",
			 cJSON_PrintUnformatted(f));
	cr_expect_str_eq(str(f, "observed"), BROKEN_DLL);
	http_reply_free(&r);
}

static const cJSON *
backup_field(const struct http_reply *r, const char *name)
{
	return obj(obj(obj(r->json, "backup"), "fields"), name);
}

static void
expect_repair_backup(const struct http_reply *r)
{
	const cJSON *b = obj(r->json, "backup"), *dll;

	cr_expect_str_eq(str(b, "service"), "BITS");
	cr_expect_str_eq(str(b, "state"), "stopped");
	cr_expect_str_eq(str(backup_field(r, "account"), "value"),
			 BROKEN_ACCOUNT);
	cr_expect_str_eq(str(backup_field(r, "binary_path"), "value"),
			 BROKEN_BINPATH);
	cr_expect_str_eq(str(backup_field(r, "start_type"), "value"),
			 "disabled");
	cr_expect_str_eq(str(backup_field(r, "type"), "value"), "own");
	dll = obj(backup_field(r, "ServiceDll"), "value");
	cr_expect_str_eq(str(dll, "type"), "REG_SZ");
	cr_expect_str_eq(str(dll, "data"), BROKEN_DLL);
	/* What Wine cannot read is kept as the error, not a guess. */
	expect_error(backup_field(r, "delayed_auto_start"), INVALID_LEVEL);
	expect_error(backup_field(r, "required_privileges"), INVALID_LEVEL);
	expect_error(backup_field(r, "sid_type"), INVALID_LEVEL);
	expect_error(backup_field(r, "failure_actions"), INVALID_LEVEL);
}

static void
expect_repair_details(const struct http_reply *r)
{
	static const char *const unsupported[] = {
	    "delayed auto start", "required privileges", "SID type"};
	char want[160], name[64];

	expect_contains(
	    str(step(r, "snapshot the BITS configuration"), "detail"),
	    "EventSystem is not installed here");
	for (size_t i = 0; i < N_OF(unsupported); i++) {
		snprintf(name, sizeof(name), "set %s", unsupported[i]);
		snprintf(want, sizeof(want),
			 "does not support setting the %s (0x8007007C, "
			 "ERROR_INVALID_LEVEL)",
			 unsupported[i]);
		expect_contains(str(step(r, name), "detail"), want);
	}
	expect_contains(str(step(r, "set dependencies"), "detail"),
			"reads it back as []: it did not keep it");
	expect_contains(str(step(r, "set failure actions"), "detail"),
			"could not read it (0x8007007C), so the old value is "
			"unknown and whether it took cannot be confirmed");
}

static void
expect_bits_repaired(const struct http_reply *r)
{
	const cJSON *f, *base;

	cr_expect_str_eq(str(obj(r->json, "verify"), "status"), "warn", "%s",
			 r->body);
	f = expect_verify(r, "bits", "bits.account", "pass");
	cr_expect_str_eq(str(f, "observed"), "LocalSystem");
	f = expect_verify(r, "bits", "bits.binary_path", "pass");
	cr_expect_str_eq(str(f, "observed"), REPAIRED_BINPATH);
	f = expect_verify(r, "bits", "bits.start_type", "pass");
	cr_expect_str_eq(str(f, "observed"), "auto");
	f = expect_verify(r, "bits", "bits.service_dll", "pass");
	cr_expect_str_eq(str(f, "observed"), REPAIRED_DLL);
	expect_verify(r, "bits", "bits.state", "pass");
	/* The warning: Wine keeps no dependencies. */
	f = expect_verify(r, "bits", "bits.dependencies", "warn");
	cr_expect_str_eq(str(f, "observed"), "none");
	/* Wine's SCM keeps the status's type from its boot until the next
	 * restart: the config says share process, sc query still own. */
	cr_expect_str_eq(str(obj(obj(r->json, "verify"), "facts"), "type"),
			 "own");
	/* Failure actions were accepted but cannot be read back. */
	base =
	    obj(expect_verify(r, "bits", "bits.baseline", "pass"), "details");
	cr_expect_str_eq(str(obj(base, "failure_actions"), "status"),
			 "unknown");
}

/* What `wine reg query` shows of BITS after the repair. */
static void
expect_bits_registry(void)
{
	static const char *const lines[] = {
	    "ImagePath    REG_SZ    " REPAIRED_BINPATH,
	    "ObjectName    REG_SZ    LocalSystem",
	    "Start    REG_DWORD    0x2",
	    "Type    REG_DWORD    0x20",
	    "ServiceDll    REG_EXPAND_SZ    " REPAIRED_DLL,
	};
	char *reg = reg_query(0, WINE_BITS_KEY, NULL);

	for (size_t i = 0; i < N_OF(lines); i++)
		expect_contains(reg, lines[i]);
	free(reg);
}

Test(wine_actions, repair_bits_restores_a_bits_broken_with_wine_reg)
{
	struct http_reply r;
	char *before, *after;

	break_bits();
	before = reg_query(0, WINE_BITS_KEY, NULL);
	cr_assert(strstr(before, "LocalService") != NULL, "%s", before);
	wine_daemon_start(&d);
	expect_bits_broken();

	post_action("repair-bits", true, &r);
	cr_expect_str_eq(str(r.json, "status"), "planned", "%s", r.body);
	expect_steps(&r, repair_planned, N_OF(repair_planned));
	http_reply_free(&r);
	after = reg_query(0, WINE_BITS_KEY, NULL);
	cr_expect_str_eq(after, before, "the dry run changed BITS");
	free(after);
	free(before);
	cr_expect_eq(wine_sc_state("BITS", NULL), WINE_SVC_STOPPED);

	post_action("repair-bits", false, &r);
	cr_expect_str_eq(str(r.json, "status"), "ok", "%s", r.body);
	expect_steps(&r, repair_done, N_OF(repair_done));
	expect_repair_details(&r);
	expect_changes(&r, repair_changes, N_OF(repair_changes));
	expect_repair_backup(&r);
	expect_bits_repaired(&r);
	http_reply_free(&r);
	expect_bits_registry();
	cr_expect_eq(wine_sc_state("BITS", NULL), WINE_SVC_RUNNING,
		     "sc query bits after repair-bits");
	expect_audit();
}

/* ---- reset-store --------------------------------------------------------- */

#define EDB_BYTES 8192

static void
make_store(void)
{
	char path[512];
	FILE *f;

	cr_assert_eq(store_entries(false), 0,
		     "C:\\windows\\SoftwareDistribution* exists before the "
		     "test");
	changed |= CH_STORE;
	drive_c_path(path, sizeof(path), STORE);
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
	drive_c_path(path, sizeof(path), STORE "/DataStore");
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
	drive_c_path(path, sizeof(path), STORE "/DataStore/DataStore.edb");
	f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	for (int i = 0; i < EDB_BYTES; i++)
		fputc(i % 251, f);
	cr_assert_eq(fclose(f), 0);
}

/* DIR/DataStore/DataStore.edb (under drive_c) is the one made above. */
static void
expect_edb_in(const char *dir)
{
	char rel[512], path[600];
	unsigned char *data;
	struct stat sb;

	snprintf(rel, sizeof(rel), "%s/DataStore/DataStore.edb", dir);
	drive_c_path(path, sizeof(path), rel);
	cr_assert_eq(stat(path, &sb), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(sb.st_size, EDB_BYTES, "%s", path);
	data = (unsigned char *)slurp(path);
	cr_assert_not_null(data);
	for (int i = 0; i < EDB_BYTES; i++)
		cr_assert_eq(data[i], i % 251, "%s byte %d", path, i);
	free(data);
}

/* "C:\windows\SoftwareDistribution.wsusdiag-YYYYMMDDTHHMMSSZ" -> the
 * name after "C:\windows\". */
static const char *
backup_dir_name(const char *win_path)
{
	static const char dir[] = "C:\\windows\\";
	const char *stamp;

	cr_assert(strncmp(win_path, dir, strlen(dir)) == 0, "%s", win_path);
	win_path += strlen(dir);
	cr_assert(strncmp(win_path, BACKUP_PREFIX, strlen(BACKUP_PREFIX)) == 0,
		  "%s", win_path);
	stamp = win_path + strlen(BACKUP_PREFIX);
	cr_assert_eq(strlen(stamp), 16, "stamp %s", stamp);
	for (int i = 0; i < 16; i++)
		cr_assert(i == 8    ? stamp[i] == 'T'
			  : i == 15 ? stamp[i] == 'Z'
				    : stamp[i] >= '0' && stamp[i] <= '9',
			  "stamp %s", stamp);
	return win_path;
}

static const struct want_step store_planned[] = {
    {"stop wuauserv", "planned", NULL, NULL},
    {"wait for wuauserv to stop", "planned", NULL, NULL},
    {"stop BITS", "planned", NULL, NULL},
    {"wait for BITS to stop", "planned", NULL, NULL},
    {"rename " WIN_STORE, "planned", NULL, NULL},
    {"start BITS", "planned", NULL, NULL},
    {"wait for BITS to run", "planned", NULL, NULL},
    {"start wuauserv", "planned", NULL, NULL},
    {"wait for wuauserv to run", "planned", NULL, NULL},
    {"IAutomaticUpdates::DetectNow", "planned", NULL, NULL},
};

static const struct want_step store_done[] = {
    {"stop wuauserv", "ok", NULL, NULL},
    {"wait for wuauserv to stop", "ok", NULL, NULL},
    {"stop BITS", "ok", NULL, NULL},
    {"wait for BITS to stop", "ok", NULL, NULL},
    {"rename " WIN_STORE, "ok", NULL, NULL},
    {"start BITS", "ok", NULL, NULL},
    {"wait for BITS to run", "ok", NULL, NULL},
    {"start wuauserv", "ok", NULL, NULL},
    {"wait for wuauserv to run", "ok", NULL, NULL},
    {"IAutomaticUpdates::DetectNow", "skipped", "0x80004001", "E_NOTIMPL"},
    {"UsoClient StartScan", "failed", "0x80070002", "ERROR_FILE_NOT_FOUND"},
};

/* The dry run left the store and both services as they were. */
static void
expect_store_untouched(void)
{
	char path[512];
	struct stat sb;

	cr_expect_eq(store_entries(false), 1, "a backup appeared");
	drive_c_path(path, sizeof(path), STORE);
	cr_expect(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode), "%s", path);
	expect_edb_in(STORE);
	cr_expect_eq(wine_sc_state("wuauserv", NULL), WINE_SVC_RUNNING);
	cr_expect_eq(wine_sc_state("BITS", NULL), WINE_SVC_RUNNING);
}

/*
 * The store was renamed, not deleted; Wine's wuauserv.exe does not make
 * a new one, so the store check run afterwards says the folder is
 * missing, as it is.
 */
static void
expect_store_renamed(const struct http_reply *r)
{
	const char *moved = str(obj(r->json, "backup"), "path");
	const char *name = backup_dir_name(moved);
	char rel[512], path[512], detail[600];
	const struct want_change changes[] = {
	    {"store folder", WIN_STORE, moved},
	};
	const cJSON *f;
	struct stat sb;

	snprintf(detail, sizeof(detail), "-> %s", moved);
	cr_expect_str_eq(str(step(r, "rename " WIN_STORE), "detail"), detail);
	/* Both services run as before: no state change to report. */
	expect_changes(r, changes, N_OF(changes));
	snprintf(rel, sizeof(rel), "windows/%s", name);
	expect_edb_in(rel);
	drive_c_path(path, sizeof(path), STORE);
	cr_expect(stat(path, &sb) != 0 && errno == ENOENT,
		  "%s is there after the rename", path);
	cr_expect_eq(store_entries(false), 1);
	f = expect_verify(r, "store", "store.folder", "fail");
	cr_expect_str_eq(str(f, "observed"), "missing");
	expect_error(f, "0x80070002", "ERROR_FILE_NOT_FOUND");
}

Test(wine_actions, reset_store_renames_the_store_and_restarts_wuauserv)
{
	struct http_reply r;

	make_store();
	start_service("wuauserv");
	start_service("BITS");
	wine_daemon_start(&d);

	post_action("reset-store", true, &r);
	cr_expect_str_eq(str(r.json, "status"), "planned", "%s", r.body);
	expect_steps(&r, store_planned, N_OF(store_planned));
	expect_detection_planned(&r);
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(r.json, "backup")));
	cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")),
		     2, "%s", r.body);
	cr_expect_str_eq(
	    str(change(&r, "update detection and reporting"), "after"),
	    "would be requested");
	cr_expect_str_eq(str(change(&r, "store folder"), "before"), WIN_STORE);
	/* The name it would use now; the real run takes its own stamp. */
	backup_dir_name(str(change(&r, "store folder"), "after"));
	http_reply_free(&r);
	expect_store_untouched();

	post_action("reset-store", false, &r);
	/* The store stays renamed; only the request to detect failed. */
	cr_expect_str_eq(str(r.json, "status"), "failed", "%s", r.body);
	expect_steps(&r, store_done, N_OF(store_done));
	expect_detection_on_wine(&r);
	expect_store_renamed(&r);
	http_reply_free(&r);
	cr_expect_eq(wine_sc_state("wuauserv", NULL), WINE_SVC_RUNNING,
		     "sc query wuauserv after reset-store");
	cr_expect_eq(wine_sc_state("BITS", NULL), WINE_SVC_RUNNING,
		     "sc query bits after reset-store");
	expect_audit();
}

/* ---- reset-client-id ----------------------------------------------------- */

static const struct want_step id_planned[] = {
    {"stop wuauserv", "planned", NULL, NULL},
    {"wait for wuauserv to stop", "planned", NULL, NULL},
    {"save the client id values", "planned", NULL, NULL},
    {"delete SusClientId", "planned", NULL, NULL},
    {"delete SusClientIdValidation", "planned", NULL, NULL},
    {"delete PingID", "skipped", NULL, NULL},
    {"delete AccountDomainSid", "skipped", NULL, NULL},
    {"start wuauserv", "planned", NULL, NULL},
    {"wait for wuauserv to run", "planned", NULL, NULL},
    {"IAutomaticUpdates::DetectNow", "planned", NULL, NULL},
};

static const struct want_step id_done[] = {
    {"stop wuauserv", "ok", NULL, NULL},
    {"wait for wuauserv to stop", "ok", NULL, NULL},
    {"save the client id values", "ok", NULL, NULL},
    {"delete SusClientId", "ok", NULL, NULL},
    {"delete SusClientIdValidation", "ok", NULL, NULL},
    {"delete PingID", "skipped", NULL, NULL},
    {"delete AccountDomainSid", "skipped", NULL, NULL},
    {"start wuauserv", "ok", NULL, NULL},
    {"wait for wuauserv to run", "ok", NULL, NULL},
    {"IAutomaticUpdates::DetectNow", "skipped", "0x80004001", "E_NOTIMPL"},
    {"UsoClient StartScan", "failed", "0x80070002", "ERROR_FILE_NOT_FOUND"},
};

static const struct want_change id_changes[] = {
    {WU_KEY "\\SusClientId", CLIENT_ID, NULL},
    {WU_KEY "\\SusClientIdValidation", VALIDATION, NULL},
};

static void
expect_values_present(void)
{
	char *out = reg_query(0, WU_KEY, "SusClientId");

	expect_contains(out, "SusClientId    REG_SZ    " CLIENT_ID);
	free(out);
	out = reg_query(0, WU_KEY, "SusClientIdValidation");
	/* reg prints binary data in upper case. */
	expect_contains(out, "REG_BINARY    0A0B0C0D0E0F10111213");
	free(out);
}

/* backup.values: each deleted value's type and data, and nothing else. */
static void
expect_id_backup(const struct http_reply *r)
{
	const cJSON *b = obj(r->json, "backup"), *values = obj(b, "values");
	const cJSON *v;

	cr_expect_str_eq(str(b, "key"), WU_KEY);
	cr_expect_eq(cJSON_GetArraySize(values), 2, "%s",
		     cJSON_PrintUnformatted(values));
	v = obj(values, "SusClientId");
	cr_expect_str_eq(str(v, "type"), "REG_SZ");
	cr_expect_str_eq(str(v, "data"), CLIENT_ID);
	v = obj(values, "SusClientIdValidation");
	cr_expect_str_eq(str(v, "type"), "REG_BINARY");
	cr_expect_str_eq(str(v, "data"), VALIDATION);
}

Test(wine_actions, reset_client_id_removes_the_values_into_backup)
{
	struct http_reply r;
	const cJSON *f;
	char *out;

	/* Absent on a new prefix: deleting it is the restore. */
	out = reg_query(1, WU_KEY, NULL);
	free(out);
	changed |= CH_WU_KEY;
	wine_reg_set(WU_KEY, "SusClientId", "REG_SZ", CLIENT_ID);
	wine_reg_set(WU_KEY, "SusClientIdValidation", "REG_BINARY", VALIDATION);
	start_service("wuauserv");
	wine_daemon_start(&d);

	post_action("reset-client-id", true, &r);
	cr_expect_str_eq(str(r.json, "status"), "planned", "%s", r.body);
	expect_steps(&r, id_planned, N_OF(id_planned));
	expect_detection_planned(&r);
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(r.json, "backup")));
	http_reply_free(&r);
	expect_values_present();
	cr_expect_eq(wine_sc_state("wuauserv", NULL), WINE_SVC_RUNNING);

	post_action("reset-client-id", false, &r);
	/* The values are gone and saved; only the request to detect
	 * failed. */
	cr_expect_str_eq(str(r.json, "status"), "failed", "%s", r.body);
	expect_steps(&r, id_done, N_OF(id_done));
	expect_detection_on_wine(&r);
	expect_changes(&r, id_changes, N_OF(id_changes));
	expect_id_backup(&r);
	/* Wine's wuauserv.exe makes no new id: the check says so. */
	f = expect_verify(&r, "client-id", "client-id.id", "fail");
	cr_expect_str_eq(str(f, "observed"), "not set");
	expect_error(f, "0x80070002", "ERROR_FILE_NOT_FOUND");
	http_reply_free(&r);
	out = reg_query(1, WU_KEY, "SusClientId");
	free(out);
	out = reg_query(1, WU_KEY, "SusClientIdValidation");
	free(out);
	cr_expect_eq(wine_sc_state("wuauserv", NULL), WINE_SVC_RUNNING,
		     "sc query wuauserv after reset-client-id");
	expect_audit();
}
