/*
 * agent.c: "If the client agent fails to start and run properly, check
 * the Windows Update Agent version": the file version of wuaueng.dll
 * against a minimum.
 *
 * The minimum is agent_min_version from the configuration, else a
 * default for the Windows version:
 * - Windows 7 / Server 2008 R2 and earlier: 7.6.7600.256, the last
 *   standalone agent (KB949104), which the article says to install;
 * - Windows 8 / Server 2012: 7.8.9200.16384, Windows 8.1 / Server 2012 R2:
 *   7.9.9600.16384, Windows 10 / Server 2016 and later: 10.0.10240.16384.
 *   From Windows 8 on there is no standalone agent: it is part of Windows
 *   and serviced by its monthly updates, so the default only catches a
 *   wuaueng.dll older than the one Windows shipped with (a replaced or
 *   restored file). To demand a patch level, configure the minimum.
 * An unknown Windows version gets the first, the lowest, of these.
 */
#include "checks/registry.h"
#include "checks/svc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define NT_CURRENT_VERSION                                                     \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
/* Where Windows is when the registry does not say (it always does). */
#define DEFAULT_SYSTEM_ROOT "C:\\Windows"
#define AGENT_DLL	    "System32\\wuaueng.dll"

#define WIN32_RESOURCE_TYPE_NOT_FOUND 1813u

#define AFTER_UPDATE                                                           \
	"run wuauclt /detectnow (UsoClient StartScan on Windows 10 and "       \
	"later) and check WindowsUpdate.log for errors"

/* The default minimum for Windows up to and including major.minor. */
struct agent_floor {
	unsigned major, minor;
	const char *version;
	const char *source;
	const char *remedy;
};

static const struct agent_floor floors[] = {
    {6, 1, "7.6.7600.256",
     "default: the last standalone Windows Update Agent (KB949104), for "
     "Windows 7 / Server 2008 R2 and earlier",
     "update the Windows Update Agent to the latest version (KB949104), "
     "then " AFTER_UPDATE},
    {6, 2, "7.8.9200.16384",
     "default: the agent Windows 8 / Server 2012 shipped with",
     "the agent is part of this Windows: install the latest servicing "
     "stack and monthly rollup (WSUS or the Microsoft Update Catalog), "
     "then " AFTER_UPDATE},
    {6, 3, "7.9.9600.16384",
     "default: the agent Windows 8.1 / Server 2012 R2 shipped with",
     "the agent is part of this Windows: install the latest servicing "
     "stack and monthly rollup (WSUS or the Microsoft Update Catalog), "
     "then " AFTER_UPDATE},
    {~0u, ~0u, "10.0.10240.16384",
     "default: the agent Windows 10 shipped with; from Windows 10 on it is "
     "part of Windows and serviced by its cumulative updates",
     "the agent is part of this Windows: install the latest servicing "
     "stack and cumulative update (WSUS or the Microsoft Update Catalog), "
     "then " AFTER_UPDATE},
};

#define N_FLOORS (sizeof(floors) / sizeof(floors[0]))

#define MISSING_REMEDY                                                         \
	"the Windows Update Agent is not installed where the service loads "   \
	"it from: on Windows 7 and earlier reinstall it (KB949104); on later " \
	"Windows repair the system files: DISM /Online /Cleanup-Image "        \
	"/RestoreHealth, then sfc /scannow"

/*
 * "a[.b[.c[.d]]]", each part a decimal number of at most 5 digits that
 * fits the 16 bits a version resource has; missing parts are 0.
 */
static bool
parse_version(const char *s, unsigned v[4])
{
	size_t n = 0;

	memset(v, 0, 4 * sizeof(*v));
	for (;;) {
		size_t digits = 0;
		unsigned long x = 0;

		while (isdigit((unsigned char)*s) && digits < 6) {
			x = x * 10 + (unsigned long)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 5 || x > 65535 || n == 4)
			return false;
		v[n++] = (unsigned)x;
		if (*s == '\0')
			return true;
		if (*s++ != '.')
			return false;
	}
}

static int
version_cmp(const unsigned a[4], const unsigned b[4])
{
	for (size_t i = 0; i < 4; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* The floor row for an OS version "major.minor.build", NULL if unknown. */
static const struct agent_floor *
floor_for(const char *os_version)
{
	unsigned maj, min;

	if (os_version == NULL || sscanf(os_version, "%u.%u", &maj, &min) != 2)
		return NULL;
	for (size_t i = 0; i < N_FLOORS; i++)
		if (maj < floors[i].major ||
		    (maj == floors[i].major && min <= floors[i].minor))
			return &floors[i];
	return &floors[N_FLOORS - 1];
}

/* What the check read and decided. */
struct agent {
	char *os_version;
	const struct agent_floor *floor;
	const char *min;	/* the minimum in force */
	const char *min_source; /* where it came from */
	char *path;		/* wuaueng.dll */
	char *version;		/* its file version, or NULL */
};

/* %SystemRoot%, as Windows records it. */
static hr_t
system_root(struct host *h, char **out, cJSON *facts)
{
	struct reg_value v = {0};
	hr_t hr;

	hr = h->ops->reg_get(h, NT_CURRENT_VERSION, "SystemRoot", &v);
	if (hr == HR_OK && v.type == REGT_SZ && v.str != NULL &&
	    v.str[0] != '\0') {
		*out = xstrdup(v.str);
	} else if (hr == HR_OK || hr == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		*out = xstrdup(DEFAULT_SYSTEM_ROOT);
		cJSON_AddStringToObject(
		    facts, "system_root_note",
		    "SystemRoot is not recorded under " NT_CURRENT_VERSION
		    "; assumed " DEFAULT_SYSTEM_ROOT);
		hr = HR_OK;
	}
	reg_value_clear(&v);
	return hr;
}

static void
pick_minimum(const struct check_ctx *ctx, struct agent *a)
{
	struct computer_info ci = {0};
	struct host *h = ctx->host;

	if (h->ops->computer(h, &ci) == HR_OK)
		a->os_version = xstrdup_null(ci.os_version);
	computer_info_clear(&ci);
	a->floor = floor_for(a->os_version);
	if (ctx->settings != NULL && ctx->settings->agent_min_version != NULL) {
		a->min = ctx->settings->agent_min_version;
		a->min_source = "configured: agent_min_version";
	} else if (a->floor != NULL) {
		a->min = a->floor->version;
		a->min_source = a->floor->source;
	} else {
		a->min = floors[0].version;
		a->min_source = "default for an unknown Windows version: the "
				"last standalone agent (KB949104)";
	}
	/* The oldest Windows' advice names the standalone agent. */
	if (a->floor == NULL)
		a->floor = &floors[0];
}

static void
judge_file_error(struct check_result *r, const struct agent *a, hr_t hr)
{
	struct finding *f;
	char code[11];

	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND) ||
	    hr == hr_from_win32(WIN32_PATH_NOT_FOUND)) {
		f = result_add(r, "agent.version", ST_FAIL,
			       "the Windows Update Agent (%s) is missing",
			       a->path);
		finding_set_observed(f, "missing");
		finding_set_remedy(f, NULL, MISSING_REMEDY);
	} else if (hr == hr_from_win32(WIN32_RESOURCE_TYPE_NOT_FOUND)) {
		f = result_add(r, "agent.version", ST_ERROR,
			       "%s has no version resource (%s): it is not "
			       "the system's Windows Update Agent",
			       a->path, code);
	} else {
		f = result_add(r, "agent.version", ST_ERROR,
			       "could not read the version of %s (%s)", a->path,
			       code);
	}
	f->error = hr;
	finding_set_expected(f, a->min);
}

static void
judge_version(struct check_result *r, const struct agent *a)
{
	struct finding *f;
	unsigned have[4], want[4];

	if (!parse_version(a->min, want)) {
		f = result_add(r, "agent.version", ST_ERROR,
			       "the configured agent_min_version \"%s\" is "
			       "not a dotted version (a.b.c.d)",
			       a->min);
		f->error = hr_from_win32(WIN32_INVALID_PARAMETER);
	} else if (!parse_version(a->version, have)) {
		f = result_add(r, "agent.version", ST_ERROR,
			       "the file version \"%s\" of %s is not a dotted "
			       "version",
			       a->version, a->path);
		f->error = hr_from_win32(WIN32_INVALID_DATA);
	} else if (version_cmp(have, want) < 0) {
		f = result_add(r, "agent.version", ST_FAIL,
			       "the Windows Update Agent is version %s, older "
			       "than the minimum %s: it is not up to date",
			       a->version, a->min);
		finding_set_remedy(f, NULL, a->floor->remedy);
	} else {
		f = result_add(r, "agent.version", ST_PASS,
			       "the Windows Update Agent is version %s "
			       "(minimum %s)",
			       a->version, a->min);
	}
	finding_set_expected(f, a->min);
	finding_set_observed(f, "%s", a->version);
}

static cJSON *
str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static void
add_facts(cJSON *facts, const struct agent *a)
{
	cJSON_AddItemToObject(facts, "path", str_or_null(a->path));
	cJSON_AddItemToObject(facts, "version", str_or_null(a->version));
	cJSON_AddStringToObject(facts, "minimum", a->min);
	cJSON_AddStringToObject(facts, "minimum_source", a->min_source);
	cJSON_AddItemToObject(facts, "os_version", str_or_null(a->os_version));
}

static void
agent_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct host *h = ctx->host;
	struct agent a = {0};
	struct finding *f;
	char *root = NULL, code[11];
	hr_t hr;

	pick_minimum(ctx, &a);
	if ((hr = system_root(h, &root, r->facts)) != HR_OK) {
		error_format(hr, code);
		f = result_add(r, "agent.version", ST_ERROR,
			       "could not read SystemRoot under %s (%s), so "
			       "the agent's file cannot be found",
			       NT_CURRENT_VERSION, code);
		f->error = hr;
		goto out;
	}
	a.path = xasprintf("%s%s" AGENT_DLL, root,
			   root[strlen(root) - 1] == '\\' ? "" : "\\");
	hr = h->ops->file_version(h, a.path, &a.version);
	if (hr != HR_OK)
		judge_file_error(r, &a, hr);
	else
		judge_version(r, &a);
out:
	add_facts(r->facts, &a);
	free(root);
	free(a.os_version);
	free(a.path);
	free(a.version);
}

const struct check check_agent = {
    .id = "agent",
    .title = "Windows Update Agent version",
    .description =
	"The file version of %SystemRoot%\\System32\\wuaueng.dll is at least "
	"the minimum: agent_min_version from the configuration, else the "
	"default for the Windows version (7.6.7600.256, the last standalone "
	"agent, up to Windows 7; the version Windows shipped with from "
	"Windows 8 on, where the agent is part of Windows)",
    .seed_section = "Issues with the WSUS agent service",
    .time_limit_ms = 5000,
    .run = agent_run,
};
