/*
 * wuauserv.c: "Issues with the WSUS agent service": the Windows Update
 * service must exist and be able to start ("sc query wuauserv",
 * "sc start wuauserv"). Whether it can start is judged from the SCM's
 * configuration, the same way as for BITS (svc.c); starting it is the
 * start-wuauserv action, not this check.
 *
 * start-wuauserv is the article's "sc start wuauserv" and nothing more:
 * it never changes the start type. A disabled Windows Update service is
 * nearly always someone's decision (Group Policy, a management tool, an
 * administrator keeping a machine off updates); re-enabling it remotely
 * on a thousand machines would undo that decision silently, so the
 * action says why it cannot start and what to do instead.
 */
#include "checks/registry.h"
#include "checks/svc.h"
#include "checks/svc_steps.h"

#define WU_SERVICE "wuauserv"

static const struct svc_spec wuauserv_spec = {
    .service = "wuauserv",
    .prefix = "wuauserv",
    .label = "the Windows Update service (wuauserv)",
    /* Windows 10 installs it as Manual (Trigger Start). */
    .enable_start = "demand",
    .enable_action = NULL,
    .start_action = "start-wuauserv",
    .missing_remedy = "the Windows Update service is not registered with "
		      "the Service Control Manager: repair Windows (DISM "
		      "/Online /Cleanup-Image /RestoreHealth, then sfc "
		      "/scannow) or reinstall the Windows Update Agent",
    .svchost_group = "netsvcs",
    .service_dll = "%systemroot%\\system32\\wuaueng.dll",
    .repair_action = NULL,
};

static void
wuauserv_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct svc_info info;

	svc_inspect(ctx, &wuauserv_spec, r, NULL, &info);
	if (info.exists) {
		svc_last_error(&wuauserv_spec, r, &info);
		svc_can_start(ctx, &wuauserv_spec, r, &info);
	}
	svc_info_clear(&info);
}

const struct check check_wuauserv = {
    .id = "wuauserv",
    .title = "Windows Update service",
    .description = "The Windows Update service (wuauserv) exists, is not "
		   "disabled, is running or able to start (its dependencies, "
		   "svchost group and ServiceDll as the SCM needs them), "
		   "and its last exit code",
    .seed_section = "Issues with the WSUS agent service",
    .time_limit_ms = 10000,
    .run = wuauserv_run,
};

/* ---- start-wuauserv ---------------------------------------------------- */

static const char *const start_wuauserv_steps[] = {
    "start wuauserv",
    "wait for wuauserv to run",
    NULL,
};

static void
start_wuauserv_run(const struct action_ctx *ctx, struct action_result *a)
{
	struct svc_guard g;
	struct step *s;
	uint64_t t0;
	hr_t hr;

	/* Windows 10 installs it as Manual (Trigger Start). */
	svc_guard_read(ctx, &g, WU_SERVICE, "demand");
	s = action_add_step(a, "%s", start_wuauserv_steps[0]);
	t0 = plat_now_ms();
	hr = svc_step_start(ctx, &g, s, false);
	s->duration_ms = plat_now_ms() - t0;
	if (hr == HR_OK) {
		s = action_add_step(a, "%s", start_wuauserv_steps[1]);
		t0 = plat_now_ms();
		hr = svc_step_wait_running(ctx, &g, s);
		s->duration_ms = plat_now_ms() - t0;
	}
	if (hr != HR_OK) {
		s->status = STEP_FAILED;
		s->error = hr;
		a->status = ACT_FAILED;
	}
	svc_record_state(ctx, &g, a);
}

const struct action action_start_wuauserv = {
    .id = "start-wuauserv",
    .title = "Start the Windows Update service",
    .description =
	"Start wuauserv (sc start wuauserv) and wait until it runs, as "
	"\"Issues with the WSUS agent service\" asks; a running service is "
	"left alone. The start type is never changed: a disabled service "
	"fails with 0x80070422 and the detail says how an administrator "
	"enables it",
    .target = "wuauserv",
    .steps = start_wuauserv_steps,
    .changes = "the wuauserv service state (stopped to running)",
    .verify_check = "wuauserv",
    .run = start_wuauserv_run,
};
