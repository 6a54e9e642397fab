/*
 * wuauserv.c: "Issues with the WSUS agent service": the Windows Update
 * service must exist and be able to start ("sc query wuauserv",
 * "sc start wuauserv"). Whether it can start is judged from the SCM's
 * configuration, the same way as for BITS (svc.c); starting it is the
 * start-wuauserv action, not this check.
 */
#include "checks/registry.h"
#include "checks/svc.h"

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
