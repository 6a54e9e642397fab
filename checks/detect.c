/*
 * detect.c: make the update agent detect and report now.
 *
 * The articles end their remedies with "wuauclt /resetauthorization
 * /detectnow" and "wuauclt /reportnow"; those switches only exist in the
 * agents of Windows 7 and 8.x. Windows 10 and later start a scan with
 * "UsoClient StartScan" instead, and every agent since Windows XP
 * answers the Windows Update Agent API's IAutomaticUpdates::DetectNow.
 * So the API goes first, and only when it fails (no such COM class,
 * Wine 8's stub answering E_NOTIMPL) the program this Windows version
 * has. A disabled or missing wuauserv is no reason to fall back: every
 * way to detect runs in that service, and wuauclt would exit 0 anyway.
 */
#include "checks/detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define API_STEP "IAutomaticUpdates::DetectNow"
/* A detection request returns at once; a minute means the agent hangs. */
#define DETECT_TIMEOUT_MS 60000u
/* Output kept in a step's detail: the start and the exit code matter. */
#define OUTPUT_MAX 4096u
/* E_FAIL: the programs' exit codes are their own, not Win32 errors. */
#define HR_PROGRAM_FAILED 0x80004005u
#define WIN32_TIMEOUT	  1460u

/* wuauclt has the detection switches up to Windows 8.1 (6.3). */
#define WUAUCLT_MAX_MAJOR 9

static const char *const argv_detect[] = {"wuauclt", "/detectnow", NULL};
static const char *const argv_resetauth_detect[] = {
    "wuauclt", "/resetauthorization", "/detectnow", NULL};
static const char *const argv_report[] = {"wuauclt", "/reportnow", NULL};
static const char *const argv_usoclient[] = {"UsoClient", "StartScan", NULL};

/* "a b c" for a step name. */
static char *
argv_line(const char *const *argv)
{
	char *s = xstrdup(""), *next;

	for (size_t i = 0; argv[i] != NULL; i++) {
		next = xasprintf("%s%s%s", s, i > 0 ? " " : "", argv[i]);
		free(s);
		s = next;
	}
	return s;
}

/* The output, trimmed, as "; output: ..." or "". */
static char *
output_note(const char *out)
{
	size_t n;

	if (out == NULL)
		return xstrdup("");
	while (*out == ' ' || *out == '\t' || *out == '\r' || *out == '\n')
		out++;
	n = strlen(out);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t' ||
			 out[n - 1] == '\r' || out[n - 1] == '\n'))
		n--;
	if (n == 0)
		return xstrdup("; no output");
	if (n > OUTPUT_MAX)
		return xasprintf("; output (first %u of %zu bytes): %.*s",
				 OUTPUT_MAX, n, (int)OUTPUT_MAX, out);
	return xasprintf("; output: %.*s", (int)n, out);
}

hr_t
step_run_program(struct host *h, struct step *s, const char *const *argv,
		 uint32_t timeout_ms)
{
	struct prog_result pr = {0};
	char code[11], *line = argv_line(argv), *note = NULL;
	hr_t hr;

	hr = h->ops->run_program(h, argv, timeout_ms, &pr);
	if (hr != HR_OK) {
		error_format(hr, code);
		step_set_detail(s, "could not run %s (%s)", line, code);
		goto out;
	}
	note = output_note(pr.output);
	if (pr.timed_out) {
		hr = hr_from_win32(WIN32_TIMEOUT);
		step_set_detail(s,
				"%s did not finish within %u ms and was "
				"stopped",
				line, timeout_ms);
	} else if (pr.exit_code != 0) {
		/* Its exit code is its own: keep it, and say only "failed". */
		hr = HR_PROGRAM_FAILED;
		step_set_detail(s, "%s exited with code %u (0x%X)%s", line,
				pr.exit_code, pr.exit_code, note);
	} else {
		step_set_detail(s, "%s exited with code 0%s", line, note);
	}
out:
	free(note);
	free(line);
	prog_result_clear(&pr);
	return hr;
}

/* Run one program as a step; a failure is the step's. */
static hr_t
program_step(const struct action_ctx *ctx, struct action_result *a,
	     const char *const *argv, const char *why)
{
	char *line = argv_line(argv);
	struct step *s = action_add_step(a, "%s", line);
	uint64_t t0 = plat_now_ms();
	hr_t hr;

	hr = step_run_program(ctx->host, s, argv, DETECT_TIMEOUT_MS);
	s->duration_ms = plat_now_ms() - t0;
	if (hr != HR_OK) {
		s->status = STEP_FAILED;
		s->error = hr;
	} else if (why != NULL) {
		char *d = xasprintf("%s; %s", s->detail, why);

		free(s->detail);
		s->detail = d;
	}
	free(line);
	return hr;
}

/*
 * Major version of the running Windows: 6 for 7 and 8.x, 10 for 10 and
 * 11; 0 when it cannot be read (hr says why).
 */
static hr_t
os_major(struct host *h, unsigned *major, char **version)
{
	struct computer_info ci = {0};
	char *end;
	unsigned long v;
	hr_t hr;

	*major = 0;
	*version = NULL;
	if ((hr = h->ops->computer(h, &ci)) != HR_OK)
		goto out;
	*version = xstrdup(ci.os_version != NULL ? ci.os_version : "");
	v = strtoul(*version, &end, 10);
	if (end == *version || (*end != '.' && *end != '\0') || v == 0 ||
	    v > 255) {
		hr = hr_from_win32(WIN32_INVALID_DATA);
		goto out;
	}
	*major = (unsigned)v;
out:
	computer_info_clear(&ci);
	return hr;
}

static const char *
fallback_name(unsigned major, bool reset_authorization)
{
	if (major > WUAUCLT_MAX_MAJOR)
		return "UsoClient StartScan";
	return reset_authorization
		   ? "wuauclt /resetauthorization /detectnow, then wuauclt "
		     "/reportnow"
		   : "wuauclt /detectnow, then wuauclt /reportnow";
}

static hr_t
plan(const struct action_ctx *ctx, struct action_result *a,
     bool reset_authorization)
{
	struct step *s = action_add_step(a, API_STEP);
	char *version = NULL;
	unsigned major;

	if (os_major(ctx->host, &major, &version) == HR_OK)
		step_set_detail(s,
				"would ask the Windows Update Agent to detect "
				"and report now%s; if the API fails, Windows "
				"%s would run %s instead",
				reset_authorization
				    ? " (the API has no re-authorization of "
				      "its own)"
				    : "",
				version,
				fallback_name(major, reset_authorization));
	else
		step_set_detail(s, "would ask the Windows Update Agent to "
				   "detect and report now; the fallback "
				   "depends on the Windows version, which "
				   "cannot be read");
	action_add_change(a, "update detection and reporting", NULL,
			  "would be requested");
	free(version);
	return HR_OK;
}

/* The programs of this Windows version, when the API failed. */
static hr_t
fallback(const struct action_ctx *ctx, struct action_result *a,
	 bool reset_authorization, const char *api_code)
{
	char *version = NULL, code[11];
	const char *method;
	unsigned major;
	struct step *s;
	hr_t hr;

	if ((hr = os_major(ctx->host, &major, &version)) != HR_OK) {
		s = action_add_step(a, "read the Windows version");
		s->status = STEP_FAILED;
		s->error = hr;
		error_format(hr, code);
		step_set_detail(s,
				"%s failed (%s) and the program to use "
				"instead depends on the Windows version, "
				"which cannot be read (%s%s%s)",
				API_STEP, api_code, code,
				version != NULL ? ", got " : "",
				version != NULL ? version : "");
		goto out;
	}
	if (major > WUAUCLT_MAX_MAJOR) {
		method = "UsoClient StartScan";
		hr = program_step(ctx, a, argv_usoclient,
				  "Windows 10 and later start a scan this way");
	} else {
		method = reset_authorization
			     ? "wuauclt /resetauthorization /detectnow"
			     : "wuauclt /detectnow";
		hr = program_step(ctx, a,
				  reset_authorization ? argv_resetauth_detect
						      : argv_detect,
				  NULL);
		if (hr == HR_OK) {
			hr = program_step(ctx, a, argv_report, NULL);
		} else {
			s = action_add_step(a, "wuauclt /reportnow");
			s->status = STEP_SKIPPED;
			step_set_detail(s, "not run: \"%s\" failed", method);
		}
	}
	if (hr == HR_OK) {
		char *after = xasprintf("requested with %s (Windows %s; %s "
					"failed with %s)",
					method, version, API_STEP, api_code);

		action_add_change(a, "update detection and reporting", NULL,
				  after);
		free(after);
	}
out:
	free(version);
	return hr;
}

hr_t
detect_steps(const struct action_ctx *ctx, struct action_result *a,
	     bool reset_authorization)
{
	struct host *h = ctx->host;
	struct step *s;
	uint64_t t0;
	char code[11];
	hr_t hr;

	if (ctx->dry_run)
		return plan(ctx, a, reset_authorization);
	s = action_add_step(a, API_STEP);
	t0 = plat_now_ms();
	hr = h->ops->wu_detect_now(h);
	s->duration_ms = plat_now_ms() - t0;
	if (hr == HR_OK) {
		step_set_detail(s,
				"the Windows Update Agent accepted the "
				"request; it detects and reports in the "
				"background%s",
				reset_authorization
				    ? " (the API has no re-authorization: "
				      "the agent re-authorizes on its own "
				      "when its cookie is missing or expired)"
				    : "");
		action_add_change(a, "update detection and reporting", NULL,
				  "requested with " API_STEP " (0x00000000)");
		return HR_OK;
	}
	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_SERVICE_DISABLED) ||
	    hr == hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST)) {
		/* Every way to detect runs in wuauserv: wuauclt would exit
		 * 0 and do nothing. */
		s->status = STEP_FAILED;
		s->error = hr;
		step_set_detail(s,
				"the Windows Update Agent API answered %s: "
				"the Windows Update service is %s, and every "
				"way to detect needs it, so no program is "
				"tried instead",
				code,
				hr == hr_from_win32(WIN32_SERVICE_DISABLED)
				    ? "disabled"
				    : "missing");
		return hr;
	}
	/*
	 * Not the action's failure yet: the step says what the API said,
	 * and the program that replaces it is the next step.
	 */
	s->status = STEP_SKIPPED;
	s->error = hr;
	step_set_detail(s,
			"the Windows Update Agent API answered %s; using the "
			"program of this Windows version instead",
			code);
	return fallback(ctx, a, reset_authorization, code);
}
