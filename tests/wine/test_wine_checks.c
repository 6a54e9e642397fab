/*
 * Every check of wsusdiagd.exe under Wine, with the real Win32 host: what
 * each one answers on a new prefix (including the calls Wine does not
 * implement, reported with Wine's own error, never faked), and how the
 * policy, bits-policy, client-id, wuauserv and store checks follow
 * changes made with `wine reg` and in the prefix's C: drive. Skipped when
 * build-win/wsusdiagd.exe is absent. tests/wine/README.md says how Wine
 * behaves; test_wine_e2e.c covers the bits check and restart-bits.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "wine_harness.h"

#define POLICIES_KEY	"HKLM\\SOFTWARE\\Policies\\Microsoft"
#define WU_POLICY_KEY	POLICIES_KEY "\\Windows\\WindowsUpdate"
#define AU_POLICY_KEY	WU_POLICY_KEY "\\AU"
#define BITS_POLICY_KEY POLICIES_KEY "\\Windows\\BITS"
#define WU_KEY                                                                 \
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate"
#define WUAUSERV_KEY	"HKLM\\SYSTEM\\CurrentControlSet\\Services\\wuauserv"
#define WUAUSERV_BACKUP "wuauserv.reg" /* in C:\wsusdiag-test */

#define WSUS_URL     "http://wsus.corp.example:8530"
#define CLIENT_ID    "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
#define WIN_STORE    "C:\\windows\\SoftwareDistribution"
#define WIN_EDB	     WIN_STORE "\\DataStore\\DataStore.edb"
#define HTTP_WAIT_MS 60000

/* What a test changed, so that its .fini puts exactly that back. */
enum change {
	CH_POLICIES = 1u << 0, /* POLICIES_KEY, absent on a new prefix */
	CH_WU_KEY = 1u << 1,   /* WU_KEY, absent on a new prefix */
	CH_WUAUSERV = 1u << 2, /* wuauserv's key, saved to WUAUSERV_BACKUP */
	CH_STORE = 1u << 3,    /* drive_c/windows/SoftwareDistribution */
	CH_ALL = 0xfu,
};

static struct daemon d;
static unsigned changed;

/* ---- putting the prefix back ------------------------------------------- */

/* Present while a test of this file may have changed the prefix. */
static void
marker_path(char *out, size_t len)
{
	snprintf(out, len, "%s/.wsusdiag-checks-changed",
		 getenv("WSUSDIAG_WINEPREFIX"));
}

static void
drive_c_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/drive_c/%s", getenv("WSUSDIAG_WINEPREFIX"), rel);
}

static void
reg_delete_key(const char *key)
{
	struct wine_out o;

	/* Exit 1 when it is already gone (a test may delete it itself). */
	wine_run(&o, "reg", "delete", key, "/f", NULL);
	cr_expect(o.status == 0 || o.status == 1, "reg delete %s: %d %s", key,
		  o.status, o.text);
	wine_out_free(&o);
}

static void
remove_path(const char *rel, bool dir)
{
	char path[512];

	drive_c_path(path, sizeof(path), rel);
	if ((dir ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT)
		cr_expect_fail("cannot remove %s: %s", path, strerror(errno));
}

static void
remove_store(void)
{
	remove_path("windows/SoftwareDistribution/DataStore/DataStore.edb",
		    false);
	remove_path("windows/SoftwareDistribution/DataStore", true);
	remove_path("windows/SoftwareDistribution", true);
}

/*
 * The key as it was exported, back in the registry; services.exe reads
 * it at the next wineserver restart. True if there was one to restore.
 */
static bool
restore_wuauserv(void)
{
	char backup[512];

	wine_test_path(backup, sizeof(backup), WUAUSERV_BACKUP);
	if (access(backup, F_OK) != 0)
		return false;
	reg_delete_key(WUAUSERV_KEY);
	wine_must("reg", "import", WINE_TEST_DIR "\\" WUAUSERV_BACKUP, NULL);
	unlink(backup);
	return true;
}

static bool
restore_checks(unsigned what)
{
	bool service = false;

	if (what & CH_POLICIES)
		reg_delete_key(POLICIES_KEY);
	if (what & CH_WU_KEY)
		reg_delete_key(WU_KEY);
	if (what & CH_WUAUSERV)
		service = restore_wuauserv();
	if (what & CH_STORE)
		remove_store();
	return service;
}

static void
setup(void)
{
	char marker[512];
	FILE *f;

	wine_setup();
	changed = 0;
	/* A test of this file died before its .fini: undo all it may have
	 * done, the service key with a restart to reach services.exe. */
	marker_path(marker, sizeof(marker));
	if (access(marker, F_OK) == 0 && restore_checks(CH_ALL))
		wine_services_restart();
	f = fopen(marker, "w");
	cr_assert_not_null(f);
	fclose(f);
}

/* The harness's restore restarts the wineserver after ours. */
static void
teardown(void)
{
	char marker[512];

	if (d.pid > 0)
		wine_daemon_stop_clean(&d);
	restore_checks(changed);
	wine_teardown(&d);
	marker_path(marker, sizeof(marker));
	unlink(marker);
}

TestSuite(wine_checks, .init = setup, .fini = teardown, .timeout = 240);

/* The run's wineserver is persistent: stop it after the last test. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	wine_shutdown();
}

/* ---- changing the prefix ----------------------------------------------- */

/*
 * A key the test is about to create must be absent, so deleting it in
 * .fini is exactly the restore.
 */
static void
will_create_key(const char *key, enum change what)
{
	struct wine_out o;

	wine_run(&o, "reg", "query", key, NULL);
	cr_assert_eq(o.status, 1, "%s exists before the test: %s", key, o.text);
	wine_out_free(&o);
	changed |= what;
}

static void
save_wuauserv(void)
{
	changed |= CH_WUAUSERV;
	wine_must("reg", "export", WUAUSERV_KEY,
		  WINE_TEST_DIR "\\" WUAUSERV_BACKUP, "/y", NULL);
}

static void
make_dir(const char *rel)
{
	char path[512];

	drive_c_path(path, sizeof(path), rel);
	cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s: %s", path,
		     strerror(errno));
}

static void
write_file(const char *rel, size_t size)
{
	char path[512];
	FILE *f;

	drive_c_path(path, sizeof(path), rel);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	for (size_t i = 0; i < size; i++)
		fputc((int)(i % 251), f);
	cr_assert_eq(fclose(f), 0);
}

/* The value of `reg query KEY /v NAME` (a REG_SZ); caller frees. */
static char *
reg_query_sz(const char *key, const char *name)
{
	struct wine_out o;
	char *p, *v;

	wine_run(&o, "reg", "query", key, "/v", name, NULL);
	cr_assert_eq(o.status, 0, "reg query %s /v %s: %s", key, name, o.text);
	p = strstr(o.text, "REG_SZ");
	cr_assert_not_null(p, "%s", o.text);
	p += strlen("REG_SZ");
	p += strspn(p, " \t");
	v = strndup(p, strcspn(p, "\r\n"));
	wine_out_free(&o);
	return v;
}

/* ---- the API ------------------------------------------------------------ */

static void
get(const char *path, struct http_reply *r)
{
	struct http_opts o = {.method = "GET",
			      .path = path,
			      .token = READ_TOKEN,
			      .timeout_ms = HTTP_WAIT_MS};

	http_call(&d, &o, r);
	cr_assert_eq(r->status, 200, "GET %s: %ld (curl %d) %s", path,
		     r->status, r->curl_code, r->body);
	cr_assert_not_null(r->json, "GET %s: not JSON: %s", path, r->body);
}

/* GET /checks/ID into r. */
static void
get_check(const char *id, struct http_reply *r)
{
	char path[128];

	snprintf(path, sizeof(path), "/checks/%s", id);
	get(path, r);
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsString(v), "no string \"%s\" where expected", key);
	return v->valuestring;
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

static const cJSON *
finding(const cJSON *check, const char *id)
{
	const cJSON *f =
	    member_with(cJSON_GetObjectItem(check, "findings"), "id", id);

	cr_assert_not_null(f, "no %s finding: %s", id,
			   cJSON_PrintUnformatted(check));
	return f;
}

/* The finding id of check has status st; returns it. */
static const cJSON *
expect_finding(const cJSON *check, const char *id, const char *st)
{
	const cJSON *f = finding(check, id);

	cr_expect_str_eq(str(f, "status"), st, "%s: %s", id,
			 cJSON_PrintUnformatted(f));
	return f;
}

/* e is an error object {code, name, description}; name NULL: any. */
static void
expect_code(const cJSON *e, const char *code, const char *name)
{
	cr_assert(cJSON_IsObject(e), "no error object where %s was expected",
		  code);
	cr_expect_str_eq(str(e, "code"), code);
	if (name != NULL)
		cr_expect_str_eq(str(e, "name"), name);
}

static void
expect_error(const cJSON *o, const char *code, const char *name)
{
	const cJSON *e = cJSON_GetObjectItem(o, "error");

	cr_assert(cJSON_IsObject(e), "no error %s in %s", code,
		  cJSON_PrintUnformatted(o));
	expect_code(e, code, name);
}

static void
expect_no_error(const cJSON *o)
{
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(o, "error")),
		  "an error where none was expected: %s",
		  cJSON_PrintUnformatted(o));
}

static void
expect_contains(const char *s, const char *part)
{
	cr_expect(strstr(s, part) != NULL, "\"%s\" not in \"%s\"", part, s);
}

static const cJSON *
facts(const cJSON *check)
{
	const cJSON *f = cJSON_GetObjectItem(check, "facts");

	cr_assert(cJSON_IsObject(f), "no facts");
	return f;
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsNumber(v), "no number \"%s\" where expected", key);
	return v->valuedouble;
}

/* ---- every check on a new prefix ---------------------------------------- */

/*
 * What every finding is on a new prefix, as measured on Wine 8.0. The
 * finding's status from GET /checks/{id} run one after the other in the
 * catalogue's order; report_status where GET /report (afterwards) differs.
 */
struct want {
	const char *check, *finding;
	const char *status; /* NULL: judged against the facts (free space) */
	const char *code;   /* error.code; NULL: the error is null */
	const char *report_status;
};

static const struct want wants[] = {
    /* Nothing is configured: the article's fault, and its codes. */
    {"policy", "policy.wuserver", "fail", "0x80244011", NULL},
    {"policy", "policy.statusserver", "fail", "0x80070002", NULL},
    {"policy", "policy.usewuserver", "fail", "0x80070002", NULL},
    {"bits", "bits.exists", "pass", NULL, NULL},
    /* Stopped until bits-jobs' COM activation of the BITS manager
     * starts it, as on Windows: /report then finds it running. */
    {"bits", "bits.state", "warn", NULL, "pass"},
    {"bits", "bits.start_type", "pass", NULL, NULL},
    {"bits", "bits.account", "pass", NULL, NULL},
    {"bits", "bits.binary_path", "pass", NULL, NULL},
    {"bits", "bits.svchost_group", "pass", NULL, NULL},
    {"bits", "bits.service_dll", "pass", NULL, NULL},
    /* Wine registers BITS without DependOnService. */
    {"bits", "bits.dependencies", "warn", NULL, NULL},
    /* Config2 levels Wine lacks: in the details, see below. */
    {"bits", "bits.baseline", "warn", NULL, NULL},
    {"bits", "bits.last_error", "pass", NULL, NULL},
    /* Wine's EvtQuery is a stub that fails without an error. */
    {"bits-jobs", "bits-jobs.event", "error", "0x80004005", NULL},
    {"bits-jobs", "bits-jobs.job", "pass", NULL, NULL},
    {"bits-policy", "bits-policy.job_limits", "pass", NULL, NULL},
    {"wuauserv", "wuauserv.exists", "pass", NULL, NULL},
    {"wuauserv", "wuauserv.state", "warn", NULL, NULL},
    {"wuauserv", "wuauserv.start_type", "pass", NULL, NULL},
    {"wuauserv", "wuauserv.last_error", "pass", NULL, NULL},
    {"wuauserv", "wuauserv.can_start", "pass", NULL, NULL},
    /* No WSUS policy in a new prefix: nothing to probe. */
    {"server", "server.url", "fail", "0x80244011", NULL},
    {"server", "server.resolve", "skip", NULL, NULL},
    {"server", "server.connect", "skip", NULL, NULL},
    {"server", "server.tls", "skip", NULL, NULL},
    {"server", "server.iuident", "skip", NULL, NULL},
    {"server", "server.content_length", "skip", NULL, NULL},
    {"server", "server.range", "skip", NULL, NULL},
    /* Wine's WinHTTP has no machine proxy and the user's is direct. */
    {"proxy", "proxy.winhttp", "skip", NULL, NULL},
    {"proxy", "proxy.syntax", "skip", NULL, NULL},
    {"proxy", "proxy.resolve", "skip", NULL, NULL},
    {"proxy", "proxy.reachable", "skip", NULL, NULL},
    {"proxy", "proxy.mismatch", "pass", NULL, NULL},
    /* Wine's wuaueng.dll has an old version resource. */
    {"agent", "agent.version", "fail", NULL, NULL},
    /* No SoftwareDistribution in a new prefix. */
    {"store", "store.folder", "fail", "0x80070002", NULL},
    {"store", "store.datastore", "skip", NULL, NULL},
    {"store", "store.free_space", NULL, NULL, NULL},
    {"store", "store.errors", "error", "0x80004005", NULL},
    {"client-id", "client-id.id", "fail", "0x80070002", NULL},
    {"client-id", "client-id.validation", "fail", "0x80070002", NULL},
    /* No WindowsUpdate.log: Windows 10 writes ETL traces. */
    {"updatelog", "updatelog.proxy", "skip", NULL, NULL},
    {"updatelog", "updatelog.download", "skip", NULL, NULL},
    {"updatelog", "updatelog.errors", "skip", NULL, NULL},
};

#define N_WANTS (sizeof(wants) / sizeof(wants[0]))

/* Each check's status, the worst of its findings, in catalogue order. */
static const struct {
	const char *id, *status;
} check_wants[] = {
    {"policy", "fail"},	     {"bits", "warn"},	    {"bits-jobs", "error"},
    {"bits-policy", "pass"}, {"wuauserv", "warn"},  {"server", "fail"},
    {"proxy", "pass"},	     {"agent", "fail"},	    {"store", "error"},
    {"client-id", "fail"},   {"updatelog", "skip"},
};

#define N_CHECK_WANTS (sizeof(check_wants) / sizeof(check_wants[0]))

static const struct want *
want_for(const char *finding_id)
{
	for (size_t i = 0; i < N_WANTS; i++)
		if (strcmp(wants[i].finding, finding_id) == 0)
			return &wants[i];
	return NULL;
}

static bool
is_status(const char *s)
{
	static const char *const all[] = {"pass", "warn", "fail", "error",
					  "skip"};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, all[i]) == 0)
			return true;
	return false;
}

/*
 * An error means the check could not look: it must say with what code.
 * A skip must say why.
 */
static void
expect_result_model(const cJSON *f)
{
	const char *st = str(f, "status");

	cr_expect(is_status(st), "status %s: %s", st,
		  cJSON_PrintUnformatted(f));
	if (strcmp(st, "error") == 0)
		cr_expect(cJSON_IsObject(cJSON_GetObjectItem(f, "error")),
			  "an error finding without its error: %s",
			  cJSON_PrintUnformatted(f));
	cr_expect(str(f, "message")[0] != '\0', "no message: %s",
		  cJSON_PrintUnformatted(f));
}

/* store.free_space against the volume Wine maps C: to. */
static void
expect_free_space(const cJSON *check, const cJSON *f)
{
	const cJSON *fa = facts(check);
	double free_b = num(fa, "volume_free_bytes");
	const char *st = free_b < 500.0 * (1 << 20)  ? "fail"
			 : free_b < 2.0 * (1u << 30) ? "warn"
						     : "pass";
	struct statvfs vfs;
	char path[512];

	cr_expect_str_eq(str(f, "status"), st, "%s", cJSON_PrintUnformatted(f));
	drive_c_path(path, sizeof(path), "");
	cr_assert_eq(statvfs(path, &vfs), 0);
	cr_expect_eq(num(fa, "volume_total_bytes"),
		     (double)vfs.f_blocks * (double)vfs.f_frsize,
		     "not the size of %s's volume", path);
}

/* Every finding of check is in wants with its status and code, and
 * every one in wants for check is there. */
static void
expect_findings(const cJSON *check, bool in_report)
{
	const char *id = str(check, "id");
	const cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItem(check, "findings"))
	{
		const struct want *w = want_for(str(f, "id"));
		const char *st;

		expect_result_model(f);
		cr_assert_not_null(w, "unexpected finding: %s",
				   cJSON_PrintUnformatted(f));
		cr_expect_str_eq(w->check, id);
		if (w->status == NULL) {
			expect_free_space(check, f);
			continue;
		}
		st = in_report && w->report_status ? w->report_status
						   : w->status;
		cr_expect_str_eq(str(f, "status"), st, "%s",
				 cJSON_PrintUnformatted(f));
		if (w->code != NULL)
			expect_error(f, w->code, NULL);
		else
			expect_no_error(f);
	}
	for (size_t i = 0; i < N_WANTS; i++)
		if (strcmp(wants[i].check, id) == 0)
			finding(check, wants[i].finding);
}

static void
expect_check_status(const cJSON *check, size_t i)
{
	cr_expect_str_eq(str(check, "id"), check_wants[i].id);
	cr_expect_str_eq(str(check, "status"), check_wants[i].status, "%s",
			 cJSON_PrintUnformatted(check));
	expect_findings(check, false);
}

/* Config2 levels 2, 5 and 6: ERROR_INVALID_LEVEL, field by field. */
static void
expect_baseline(const cJSON *bits)
{
	static const char *const unread[] = {"required_privileges", "sid_type",
					     "failure_actions"};
	const cJSON *f = finding(bits, "bits.baseline");
	const cJSON *det = cJSON_GetObjectItem(f, "details"), *field;

	cr_assert(cJSON_IsObject(det), "no details: %s",
		  cJSON_PrintUnformatted(f));
	for (size_t i = 0; i < 3; i++) {
		field = cJSON_GetObjectItem(det, unread[i]);
		cr_assert(cJSON_IsObject(field), "no %s: %s", unread[i],
			  cJSON_PrintUnformatted(det));
		cr_expect_str_eq(str(field, "status"), "unknown", "%s",
				 unread[i]);
		cr_expect(cJSON_IsNull(cJSON_GetObjectItem(field, "observed")),
			  "%s observed", unread[i]);
		expect_error(field, "0x8007007C", "ERROR_INVALID_LEVEL");
	}
	/* What Wine can read is compared: demand is not delayed-auto. */
	field = cJSON_GetObjectItem(det, "start_type");
	cr_assert(cJSON_IsObject(field));
	cr_expect_str_eq(str(field, "status"), "differs");
	cr_expect_str_eq(str(field, "observed"), "demand");
	cr_expect_str_eq(str(field, "expected"), "delayed-auto");
	field = cJSON_GetObjectItem(det, "error_control");
	cr_assert(cJSON_IsObject(field));
	cr_expect_str_eq(str(field, "status"), "match");
	expect_contains(str(f, "message"), "0x8007007C");
}

/* gpresult.exe does not exist in Wine: CreateProcessW's 0x80070002. */
static void
expect_policy_facts(const cJSON *policy)
{
	const cJSON *fa = facts(policy);

	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(fa, "applied_gpos")),
		  "applied_gpos: %s", cJSON_PrintUnformatted(fa));
	expect_code(cJSON_GetObjectItem(fa, "applied_gpos_error"), "0x80070002",
		    "ERROR_FILE_NOT_FOUND");
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(fa, "server_url")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(fa, "use_wu_server")));
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * The file version in the VS_FIXEDFILEINFO of the prefix's
 * system32\wuaueng.dll, read from Linux: what GetFileVersionInfoW must
 * have answered the daemon (7.2.6001.788 in Wine 8.0).
 */
static void
dll_version(const char *rel, char *out, size_t len)
{
	static const unsigned char sig[] = {0xbd, 0x04, 0xef, 0xfe};
	unsigned char *buf, *p;
	char path[512];
	struct stat sb;
	FILE *f;

	drive_c_path(path, sizeof(path), rel);
	cr_assert_eq(stat(path, &sb), 0, "no %s", path);
	buf = malloc((size_t)sb.st_size);
	f = fopen(path, "rb");
	cr_assert(buf != NULL && f != NULL);
	cr_assert_eq(fread(buf, 1, (size_t)sb.st_size, f), (size_t)sb.st_size);
	fclose(f);
	p = memmem(buf, (size_t)sb.st_size, sig, sizeof(sig));
	cr_assert(p != NULL && p + 16 <= buf + sb.st_size,
		  "no version resource in %s", path);
	snprintf(out, len, "%u.%u.%u.%u", le32(p + 8) >> 16,
		 le32(p + 8) & 0xffff, le32(p + 12) >> 16,
		 le32(p + 12) & 0xffff);
	free(buf);
}

static void
expect_agent(const cJSON *agent)
{
	const cJSON *f = finding(agent, "agent.version");
	const cJSON *fa = facts(agent);
	char version[64];

	dll_version("windows/system32/wuaueng.dll", version, sizeof(version));
	cr_expect_str_eq(str(f, "observed"), version);
	cr_expect_str_eq(str(f, "expected"), "10.0.10240.16384");
	cr_expect_str_eq(str(fa, "version"), version);
	cr_expect_str_eq(str(fa, "path"), "C:\\windows\\System32\\wuaueng.dll");
	cr_expect_str_eq(str(fa, "os_version"), "10.0.18362");
}

/* The details of the findings that could not look, or not fully. */
static void
expect_fresh_details(const cJSON *check)
{
	const char *id = str(check, "id");
	const cJSON *fa = facts(check);

	if (strcmp(id, "policy") == 0) {
		expect_policy_facts(check);
	} else if (strcmp(id, "bits") == 0) {
		expect_baseline(check);
		cr_expect_str_eq(
		    str(finding(check, "bits.dependencies"), "observed"),
		    "none");
	} else if (strcmp(id, "bits-jobs") == 0) {
		/* EnumJobs works in Wine: a new prefix has no jobs. */
		cr_expect_eq(num(fa, "jobs"), 0);
		expect_contains(
		    str(finding(check, "bits-jobs.event"), "message"),
		    "Microsoft-Windows-Bits-Client/Operational");
	} else if (strcmp(id, "agent") == 0) {
		expect_agent(check);
	} else if (strcmp(id, "client-id") == 0) {
		cr_expect(
		    cJSON_IsNull(cJSON_GetObjectItem(fa, "sus_client_id")));
	} else if (strcmp(id, "updatelog") == 0) {
		cr_expect_str_eq(str(fa, "path"),
				 "C:\\windows\\WindowsUpdate.log");
		cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(fa, "exists")));
	}
}

/*
 * Every check in the catalogue answers under Wine, each finding with a
 * status of the result model; where Wine lacks the call, the finding is
 * error (or its field unknown) with the Win32 error Wine really gave.
 */
Test(wine_checks, every_check_returns_a_result_with_wines_real_errors)
{
	struct http_reply cat, one, rep;
	const cJSON *c, *checks;
	size_t i = 0;

	wine_daemon_start(&d);
	get("/checks", &cat);
	checks = cJSON_GetObjectItem(cat.json, "checks");
	cr_assert_eq((size_t)cJSON_GetArraySize(checks), N_CHECK_WANTS,
		     "the catalogue: %s", cat.body);
	/* One at a time, in catalogue order: bits before bits-jobs. */
	cJSON_ArrayForEach(c, checks)
	{
		get_check(str(c, "id"), &one);
		expect_check_status(one.json, i++);
		expect_fresh_details(one.json);
		http_reply_free(&one);
	}
	get("/report", &rep);
	cr_expect_str_eq(str(rep.json, "status"), "error", "%s", rep.body);
	i = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(rep.json, "checks"))
	{
		cr_assert_lt(i, N_CHECK_WANTS, "%s", rep.body);
		cr_expect_str_eq(str(c, "id"),
				 str(cJSON_GetArrayItem(checks, (int)i), "id"));
		cr_expect_str_eq(str(c, "status"), check_wants[i++].status);
		expect_findings(c, true);
	}
	cr_expect_eq(i, N_CHECK_WANTS, "checks in the report: %s", rep.body);
	http_reply_free(&rep);
	http_reply_free(&cat);
}

/* ---- checks follow wine reg --------------------------------------------- */

static void
expect_policy_missing(const cJSON *p, const char *id, const char *code,
		      const char *name)
{
	const cJSON *f = expect_finding(p, id, "fail");
	const char *msg = str(f, "message");

	expect_error(f, code, name);
	cr_expect_str_eq(str(f, "observed"), "not set");
	/* The article's two causes, and gpupdate. */
	expect_contains(msg, "does not receive Group Policy from the domain");
	expect_contains(msg, "not targeted at it");
	expect_contains(str(cJSON_GetObjectItem(f, "remedy"), "text"),
			"gpupdate /force");
}

Test(wine_checks, policy_follows_wine_reg)
{
	struct http_reply r;
	const cJSON *f;

	will_create_key(POLICIES_KEY, CH_POLICIES);
	wine_daemon_start(&d);
	wine_reg_set(WU_POLICY_KEY, "WUServer", "REG_SZ", WSUS_URL);
	wine_reg_set(WU_POLICY_KEY, "WUStatusServer", "REG_SZ", WSUS_URL);
	wine_reg_set(AU_POLICY_KEY, "UseWUServer", "REG_DWORD", "1");
	get_check("policy", &r);
	cr_expect_str_eq(str(r.json, "status"), "pass", "%s", r.body);
	f = expect_finding(r.json, "policy.wuserver", "pass");
	cr_expect_str_eq(str(f, "observed"), WSUS_URL);
	f = expect_finding(r.json, "policy.statusserver", "pass");
	cr_expect_str_eq(str(f, "observed"), WSUS_URL);
	f = expect_finding(r.json, "policy.usewuserver", "pass");
	cr_expect_str_eq(str(f, "observed"), "1");
	cr_expect_str_eq(str(facts(r.json), "server_url"), WSUS_URL);
	cr_expect_str_eq(str(facts(r.json), "status_server_url"), WSUS_URL);
	cr_expect_eq(num(facts(r.json), "use_wu_server"), 1);
	http_reply_free(&r);

	/* Off: the agent ignores WUServer. */
	wine_reg_set(AU_POLICY_KEY, "UseWUServer", "REG_DWORD", "0");
	get_check("policy", &r);
	cr_expect_str_eq(str(r.json, "status"), "fail", "%s", r.body);
	expect_finding(r.json, "policy.wuserver", "pass");
	f = expect_finding(r.json, "policy.usewuserver", "fail");
	cr_expect_str_eq(str(f, "expected"), "1");
	cr_expect_str_eq(str(f, "observed"), "0");
	expect_no_error(f);
	cr_expect_eq(num(facts(r.json), "use_wu_server"), 0);
	http_reply_free(&r);

	/* The policy gone: what the article says the causes are. */
	wine_must("reg", "delete", WU_POLICY_KEY, "/f", NULL);
	get_check("policy", &r);
	cr_expect_str_eq(str(r.json, "status"), "fail", "%s", r.body);
	expect_policy_missing(r.json, "policy.wuserver", "0x80244011",
			      "WU_E_PT_SUS_SERVER_NOT_SET");
	expect_policy_missing(r.json, "policy.statusserver", "0x80070002",
			      "ERROR_FILE_NOT_FOUND");
	expect_policy_missing(r.json, "policy.usewuserver", "0x80070002",
			      "ERROR_FILE_NOT_FOUND");
	cr_expect(
	    cJSON_IsNull(cJSON_GetObjectItem(facts(r.json), "server_url")));
	http_reply_free(&r);
}

Test(wine_checks, bits_policy_job_limits_follow_wine_reg)
{
	struct http_reply r;
	const cJSON *f, *user;

	will_create_key(POLICIES_KEY, CH_POLICIES);
	wine_daemon_start(&d);
	wine_reg_set(BITS_POLICY_KEY, "MaxJobsPerUser", "REG_DWORD", "400");
	wine_reg_set(BITS_POLICY_KEY, "MaxJobsPerMachine", "REG_DWORD", "300");
	get_check("bits-policy", &r);
	f = expect_finding(r.json, "bits-policy.job_limits", "fail");
	cr_expect_str_eq(str(f, "observed"),
			 "MaxJobsPerUser 400 (policy), MaxJobsPerMachine 300 "
			 "(policy)");
	cr_expect_str_eq(str(f, "expected"),
			 "MaxJobsPerUser < MaxJobsPerMachine");
	expect_no_error(f);
	user = cJSON_GetObjectItem(facts(r.json), "per_user");
	cr_expect_eq(num(user, "value"), 400);
	cr_expect_str_eq(str(user, "source"), "policy");
	http_reply_free(&r);

	wine_reg_set(BITS_POLICY_KEY, "MaxJobsPerUser", "REG_DWORD", "10");
	get_check("bits-policy", &r);
	cr_expect_str_eq(str(r.json, "status"), "pass", "%s", r.body);
	f = expect_finding(r.json, "bits-policy.job_limits", "pass");
	cr_expect_str_eq(str(f, "observed"),
			 "MaxJobsPerUser 10 (policy), MaxJobsPerMachine 300 "
			 "(policy)");
	http_reply_free(&r);
}

/* The host name Wine reports: the Linux one, up to the first dot. */
static void
expect_computer_name(const char *name)
{
	char host[256];

	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	host[strcspn(host, ".")] = '\0';
	cr_expect(strcasecmp(name, host) == 0, "computer_name %s, host %s",
		  name, host);
}

Test(wine_checks, client_id_follows_wine_reg)
{
	struct http_reply r;
	const cJSON *f;
	char *guid;

	will_create_key(WU_KEY, CH_WU_KEY);
	wine_daemon_start(&d);
	wine_reg_set(WU_KEY, "SusClientId", "REG_SZ", CLIENT_ID);
	wine_reg_set(WU_KEY, "SusClientIdValidation", "REG_BINARY",
		     "0a0b0c0d0e0f10111213");
	get_check("client-id", &r);
	cr_expect_str_eq(str(r.json, "status"), "pass", "%s", r.body);
	f = expect_finding(r.json, "client-id.id", "pass");
	cr_expect_str_eq(str(f, "observed"), CLIENT_ID);
	f = expect_finding(r.json, "client-id.validation", "pass");
	cr_expect_str_eq(str(f, "observed"), "REG_BINARY, 10 bytes");
	/* What a console compares across machines to find clones. */
	cr_expect_str_eq(str(facts(r.json), "sus_client_id"), CLIENT_ID);
	guid = reg_query_sz("HKLM\\SOFTWARE\\Microsoft\\Cryptography",
			    "MachineGuid");
	cr_expect_str_eq(str(facts(r.json), "machine_guid"), guid);
	expect_computer_name(str(facts(r.json), "computer_name"));
	free(guid);
	http_reply_free(&r);

	/* Braces: a GUID, but not as the agent writes it. */
	wine_reg_set(WU_KEY, "SusClientId", "REG_SZ", "{" CLIENT_ID "}");
	get_check("client-id", &r);
	cr_expect_str_eq(str(r.json, "status"), "fail", "%s", r.body);
	f = expect_finding(r.json, "client-id.id", "fail");
	expect_error(f, "0x8007000D", "ERROR_INVALID_DATA");
	cr_expect_str_eq(str(f, "observed"), "{" CLIENT_ID "}");
	expect_contains(str(f, "message"), "braces");
	expect_finding(r.json, "client-id.validation", "pass");
	cr_expect_str_eq(str(facts(r.json), "sus_client_id"),
			 "{" CLIENT_ID "}");
	http_reply_free(&r);
}

/* ---- checks follow service and file changes ----------------------------- */

Test(wine_checks, wuauserv_disabled_fails_with_0x80070422)
{
	struct http_reply r;
	struct wine_out o;
	const cJSON *f;

	save_wuauserv();
	wine_reg_set(WUAUSERV_KEY, "Start", "REG_DWORD", "4");
	/* services.exe reads the Services key when it starts. */
	wine_services_restart();
	/* Wine's SCM refuses it too (ERROR_SERVICE_DISABLED). */
	wine_run(&o, "sc", "start", "wuauserv", NULL);
	cr_expect_eq(o.status, 1, "sc start of a disabled wuauserv: %s",
		     o.text);
	wine_out_free(&o);
	wine_daemon_start(&d);
	get_check("wuauserv", &r);
	cr_expect_str_eq(str(r.json, "status"), "fail", "%s", r.body);
	expect_finding(r.json, "wuauserv.exists", "pass");
	f = expect_finding(r.json, "wuauserv.start_type", "fail");
	cr_expect_str_eq(str(f, "observed"), "disabled");
	cr_expect_str_eq(str(f, "expected"), "demand");
	expect_error(f, "0x80070422", "ERROR_SERVICE_DISABLED");
	f = expect_finding(r.json, "wuauserv.can_start", "fail");
	cr_expect_str_eq(str(f, "observed"), "cannot start");
	expect_error(f, "0x80070422", "ERROR_SERVICE_DISABLED");
	cr_expect_str_eq(str(facts(r.json), "start_type"), "disabled");
	http_reply_free(&r);
}

Test(wine_checks, store_follows_the_prefixs_c_drive)
{
	struct http_reply r;
	const cJSON *f;
	struct stat sb;
	char path[512];

	drive_c_path(path, sizeof(path), "windows/SoftwareDistribution");
	cr_assert(stat(path, &sb) != 0 && errno == ENOENT,
		  "%s exists before the test", path);
	changed |= CH_STORE;
	wine_daemon_start(&d);

	/* The folder, but no database in it. */
	make_dir("windows/SoftwareDistribution");
	make_dir("windows/SoftwareDistribution/DataStore");
	get_check("store", &r);
	f = expect_finding(r.json, "store.folder", "pass");
	cr_expect_str_eq(str(f, "observed"), "present");
	f = expect_finding(r.json, "store.datastore", "fail");
	cr_expect_str_eq(str(f, "observed"), "missing");
	expect_error(f, "0x80070002", "ERROR_FILE_NOT_FOUND");
	expect_contains(str(f, "message"), WIN_EDB);
	http_reply_free(&r);

	write_file("windows/SoftwareDistribution/DataStore/DataStore.edb",
		   8192);
	get_check("store", &r);
	f = expect_finding(r.json, "store.folder", "pass");
	expect_no_error(f);
	f = expect_finding(r.json, "store.datastore", "pass");
	cr_expect_str_eq(str(f, "observed"), "present, 8192 bytes");
	expect_no_error(f);
	cr_expect_eq(num(facts(r.json), "datastore_bytes"), 8192);
	cr_expect_str_eq(str(facts(r.json), "software_distribution"),
			 WIN_STORE);
	/* Still no event log to read under Wine. */
	f = expect_finding(r.json, "store.errors", "error");
	expect_error(f, "0x80004005", "E_FAIL");
	cr_expect_str_eq(str(r.json, "status"), "error");
	http_reply_free(&r);
}
