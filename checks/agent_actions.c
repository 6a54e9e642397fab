/*
 * agent_actions.c: the actions that ask Windows to act now rather than
 * at its next interval: detect-now (the update agent detects and
 * reports, the articles' "wuauclt /resetauthorization /detectnow" and
 * "wuauclt /reportnow") and gpupdate (the articles' "gpupdate /force",
 * for the computer's policy only, which is where the WSUS settings are).
 *
 * Neither changes anything that could be put back: they only trigger
 * work Windows would do on its own later, so a failure has nothing to
 * undo and nothing needs a backup.
 */
#include "checks/registry.h"

#include <stdio.h>
#include <stdlib.h>

#include "checks/detect.h"
#include "common/xalloc.h"

/* gpupdate waits for every client-side extension; minutes are normal. */
#define GPUPDATE_TIMEOUT_MS 120000u

static const char *const gpupdate_argv[] = {"gpupdate", "/target:computer",
					    "/force", NULL};

/* ---- detect-now -------------------------------------------------------- */

static const char *const detect_now_steps[] = {
    "IAutomaticUpdates::DetectNow",
    "wuauclt /resetauthorization /detectnow (Windows 7 and 8.x, when the "
    "API fails)",
    "wuauclt /reportnow (Windows 7 and 8.x, when the API fails)",
    "UsoClient StartScan (Windows 10 and later, when the API fails)",
    NULL,
};

static void
detect_now_run(const struct action_ctx *ctx, struct action_result *a)
{
	if (detect_steps(ctx, a, true) != HR_OK)
		a->status = ACT_FAILED;
}

const struct action action_detect_now = {
    .id = "detect-now",
    .title = "Detect and report now",
    .description =
	"Make the Windows Update agent detect updates and report its status "
	"to WSUS now: through the Windows Update Agent API "
	"(IAutomaticUpdates::DetectNow), which also starts wuauserv when it "
	"is stopped; where that fails, wuauclt /resetauthorization "
	"/detectnow and wuauclt /reportnow on Windows 7 and 8.x, UsoClient "
	"StartScan on Windows 10 and later",
    /* The agent must be up to detect: never race a stop or restart. */
    .target = "wuauserv",
    .steps = detect_now_steps,
    .changes = "nothing is changed; the agent scans and reports in the "
	       "background (wuauserv is started if it was stopped)",
    .verify_check = "wuauserv",
    .run = detect_now_run,
};

/* ---- gpupdate ---------------------------------------------------------- */

static const char *const gpupdate_steps[] = {
    "gpupdate /target:computer /force",
    NULL,
};

static void
gpupdate_run(const struct action_ctx *ctx, struct action_result *a)
{
	struct step *s = action_add_step(a, "%s", gpupdate_steps[0]);
	uint64_t t0;
	hr_t hr;

	if (ctx->dry_run) {
		step_set_detail(s,
				"would run gpupdate /target:computer /force "
				"(up to %u s) to apply the computer's Group "
				"Policy again",
				GPUPDATE_TIMEOUT_MS / 1000);
		action_add_change(a, "computer Group Policy", NULL,
				  "would be applied again");
		return;
	}
	t0 = plat_now_ms();
	hr = step_run_program(ctx->host, s, gpupdate_argv, GPUPDATE_TIMEOUT_MS);
	s->duration_ms = plat_now_ms() - t0;
	if (hr != HR_OK) {
		s->status = STEP_FAILED;
		s->error = hr;
		a->status = ACT_FAILED;
		return;
	}
	action_add_change(a, "computer Group Policy", NULL, "applied again");
}

const struct action action_gpupdate = {
    .id = "gpupdate",
    .title = "Apply Group Policy now",
    .description =
	"Run gpupdate /target:computer /force so that the WSUS policy "
	"settings (WUServer, WUStatusServer, UseWUServer) reach the registry "
	"now; the output is in the step's detail. A non-zero exit code "
	"fails with E_FAIL (gpupdate's exit codes are its own, the detail "
	"has it), a missing gpupdate with 0x80070002, a run over 120 s with "
	"0x800705B4 (ERROR_TIMEOUT)",
    .target = "policy",
    .steps = gpupdate_steps,
    .changes = "the computer's policy registry values, as the domain's "
	       "Group Policy defines them",
    .verify_check = "policy",
    .run = gpupdate_run,
};
