/*
 * detect.h: make the update agent detect and report now, the way the
 * running Windows version supports it. Shared by detect-now and by the
 * actions that reset the agent's state and must announce it afterwards
 * (reset-store, reset-client-id).
 */
#ifndef WSUSDIAG_DETECT_H
#define WSUSDIAG_DETECT_H

#include <stdbool.h>

#include "checks/registry.h"
#include "checks/result.h"
#include "platform/host.h"

/* Add the steps that make the agent re-authorize (optionally), detect
 * and report, the way this Windows version supports it; returns the
 * hr of the failing step or HR_OK. In a dry run the steps are planned. */
hr_t detect_steps(const struct action_ctx *ctx, struct action_result *a,
		  bool reset_authorization);
/*
 * The steps are appended to a; a failed step has status failed and its
 * error, and a->status is left to the caller. When the API fails and a
 * program replaces it, the API step is "skipped" with the API's error.
 */

/*
 * Run a program with a fixed argv as step s: its exit code and output
 * (trimmed to 4 KiB) go into the detail. Returns run_program's error
 * (0x80070002 when it is missing), 0x800705B4 (ERROR_TIMEOUT) when it
 * ran out of time, 0x80004005 (E_FAIL) for a non-zero exit code (which
 * is the program's own, not a Win32 error: the detail has it), else
 * HR_OK. The caller sets the step's status and error.
 */
hr_t step_run_program(struct host *h, struct step *s, const char *const *argv,
		      uint32_t timeout_ms);

#endif
