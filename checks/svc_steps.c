/*
 * svc_steps.c: stopping and starting a service as steps of an action
 * (see svc_steps.h). Every step says what it found and did in its
 * detail; a dry run reads the state and says what it would do.
 */
#include "checks/svc_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "checks/svc.h"
#include "common/xalloc.h"

void
svc_guard_read(const struct action_ctx *ctx, struct svc_guard *g,
	       const char *name, const char *enable_start)
{
	struct host *h = ctx->host;
	struct svc_config c = {0};

	memset(g, 0, sizeof(*g));
	g->name = name;
	g->enable_start = enable_start;
	g->query = h->ops->service_status(h, name, &g->before);
	/* Only a guard: if the configuration cannot be read, StartService
	 * says why should it fail. */
	if (g->query == HR_OK && h->ops->service_config(h, name, &c) == HR_OK)
		g->disabled = c.start_type == SVC_DISABLED;
	svc_config_clear(&c);
}

/*
 * "the Windows Update service is disabled ...": why a disabled service
 * stops an action, and what an administrator would do (caller frees).
 */
static char *
svc_disabled_advice(const struct svc_guard *g)
{
	return xasprintf(
	    "%s is disabled (start type disabled), so Windows refuses to "
	    "start it (0x80070422, ERROR_SERVICE_DISABLED). This action does "
	    "not change the start type: a service is usually disabled on "
	    "purpose (Group Policy, a management tool or an administrator). "
	    "An administrator who wants it back enables it (sc config %s "
	    "start= %s) and runs the action again",
	    g->name, g->name, g->enable_start);
}

static hr_t
query_failed(const struct svc_guard *g, struct step *s)
{
	char code[11];

	error_format(g->query, code);
	if (g->query == hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST))
		step_set_detail(s, "%s does not exist (%s)", g->name, code);
	else
		step_set_detail(s, "could not query %s (%s)", g->name, code);
	return g->query;
}

hr_t
svc_step_stop(const struct action_ctx *ctx, struct svc_guard *g, struct step *s)
{
	struct host *h = ctx->host;
	struct svc_status st = {0};
	enum svc_state was = g->before.state;
	char code[11], *why;
	hr_t hr;

	if (g->query != HR_OK)
		return query_failed(g, s);
	if (was == SVC_STOPPED || was == SVC_STOP_PENDING) {
		s->status = STEP_SKIPPED;
		step_set_detail(s, "%s is already %s", g->name,
				was == SVC_STOPPED ? "stopped" : "stopping");
		return HR_OK;
	}
	if (g->disabled) {
		/* Stopping it would turn a restart into an outage. */
		why = svc_disabled_advice(g);
		step_set_detail(s,
				"%s is running but could not be started "
				"again, so it is left running. %s",
				g->name, why);
		free(why);
		return hr_from_win32(WIN32_SERVICE_DISABLED);
	}
	if (ctx->dry_run) {
		/* The plan goes on as if it had: later steps start it. */
		g->stopped = true;
		step_set_detail(s, "would stop %s (now %s, pid %u)", g->name,
				svc_state_name(was), g->before.pid);
		return HR_OK;
	}
	hr = h->ops->service_control(h, g->name, SVC_CONTROL_STOP, &st);
	if (hr == hr_from_win32(WIN32_SERVICE_NOT_ACTIVE)) {
		/* It was up when this action began: it is started again. */
		g->stopped = true;
		step_set_detail(s, "%s had already stopped", g->name);
		return HR_OK;
	}
	if (hr != HR_OK) {
		error_format(hr, code);
		step_set_detail(s, "could not stop %s (%s); it is left %s",
				g->name, code, svc_state_name(was));
		return hr;
	}
	g->stopped = true;
	step_set_detail(s, "stop requested (%s was %s, pid %u)", g->name,
			svc_state_name(was), g->before.pid);
	return HR_OK;
}

hr_t
svc_step_stop_to_restart(const struct action_ctx *ctx, struct svc_guard *g,
			 struct step *s, const char *does)
{
	char *why;

	if (g->query != HR_OK || !g->disabled)
		return svc_step_stop(ctx, g, s);
	why = svc_disabled_advice(g);
	step_set_detail(s,
			"nothing was changed: %s %s when it starts, and it "
			"cannot start. %s",
			g->name, does, why);
	free(why);
	return hr_from_win32(WIN32_SERVICE_DISABLED);
}

hr_t
svc_step_wait_stopped(const struct action_ctx *ctx, struct svc_guard *g,
		      struct step *s)
{
	uint32_t ms = ctx->settings->service_wait_ms;
	struct svc_status st = {0};
	char code[11];
	hr_t hr;

	if (g->before.state == SVC_STOPPED) {
		s->status = STEP_SKIPPED;
		step_set_detail(s, "%s is already stopped", g->name);
		return HR_OK;
	}
	if (ctx->dry_run) {
		step_set_detail(s, "would wait up to %u ms for %s to stop", ms,
				g->name);
		return HR_OK;
	}
	hr = host_service_wait(ctx->host, g->name, SVC_STOPPED, ms, &st);
	if (hr == hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT)) {
		step_set_detail(s,
				"%s did not stop within %u ms (now %s); a stop "
				"request cannot be withdrawn",
				g->name, ms, svc_state_name(st.state));
	} else if (hr != HR_OK) {
		error_format(hr, code);
		step_set_detail(s, "could not query %s while waiting (%s)",
				g->name, code);
	} else {
		step_set_detail(s, "%s is stopped", g->name);
	}
	return hr;
}

/* Whether the start step has nothing to do; sets the detail if so. */
static bool
start_not_needed(const struct svc_guard *g, struct step *s,
		 bool only_if_stopped)
{
	enum svc_state was = g->before.state;

	if (only_if_stopped && !g->stopped) {
		step_set_detail(s,
				"%s was %s before this action, which did not "
				"stop it: it is left as it was",
				g->name, svc_state_name(was));
		return true;
	}
	if (g->stopped)
		return false;
	if (was == SVC_RUNNING || was == SVC_START_PENDING ||
	    was == SVC_CONTINUE_PENDING) {
		step_set_detail(
		    s, "%s is already %s (pid %u): nothing to start", g->name,
		    was == SVC_RUNNING ? "running" : "starting", g->before.pid);
		return true;
	}
	if (was == SVC_PAUSED || was == SVC_PAUSE_PENDING) {
		step_set_detail(s,
				"%s is %s, not stopped: there is nothing to "
				"start (sc continue %s resumes it)",
				g->name, svc_state_name(was), g->name);
		return true;
	}
	return false;
}

static hr_t
start_refused(const struct svc_guard *g, struct step *s, hr_t hr)
{
	char code[11], *why;

	if (hr == hr_from_win32(WIN32_SERVICE_DISABLED)) {
		why = svc_disabled_advice(g);
		step_set_detail(s, "%s%s", why,
				g->stopped ? "; this action stopped it and it "
					     "is left stopped"
					   : "");
		free(why);
		return hr;
	}
	error_format(hr, code);
	step_set_detail(s, "could not start %s (%s); it is left stopped",
			g->name, code);
	return hr;
}

/* A service found stopping can only be started once it has stopped. */
static hr_t
finish_stopping(const struct action_ctx *ctx, const struct svc_guard *g,
		struct step *s)
{
	uint32_t ms = ctx->settings->service_wait_ms;
	struct svc_status st = {0};
	char code[11];
	hr_t hr;

	hr = host_service_wait(ctx->host, g->name, SVC_STOPPED, ms, &st);
	if (hr == hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT)) {
		step_set_detail(s,
				"%s was stopping and did not stop within %u "
				"ms (now %s): it cannot be started before",
				g->name, ms, svc_state_name(st.state));
	} else if (hr != HR_OK) {
		error_format(hr, code);
		step_set_detail(s, "could not query %s while it stopped (%s)",
				g->name, code);
	}
	return hr;
}

hr_t
svc_step_start(const struct action_ctx *ctx, struct svc_guard *g,
	       struct step *s, bool only_if_stopped)
{
	struct host *h = ctx->host;
	hr_t hr;

	if (g->query != HR_OK)
		return query_failed(g, s);
	if (start_not_needed(g, s, only_if_stopped)) {
		s->status = STEP_SKIPPED;
		g->start_skipped = true;
		return HR_OK;
	}
	if (g->disabled)
		return start_refused(g, s,
				     hr_from_win32(WIN32_SERVICE_DISABLED));
	if (ctx->dry_run) {
		step_set_detail(s, "would start %s%s", g->name,
				g->before.state == SVC_STOP_PENDING
				    ? " once it has finished stopping"
				    : "");
		return HR_OK;
	}
	if (!g->stopped && g->before.state == SVC_STOP_PENDING &&
	    (hr = finish_stopping(ctx, g, s)) != HR_OK)
		return hr;
	g->start_tried = true;
	hr = h->ops->service_start(h, g->name);
	if (hr == hr_from_win32(WIN32_SERVICE_ALREADY_RUNNING)) {
		/* A trigger (a client of the service) started it. */
		step_set_detail(s, "%s was already started again", g->name);
		return HR_OK;
	}
	if (hr != HR_OK)
		return start_refused(g, s, hr);
	step_set_detail(s, "start requested");
	return HR_OK;
}

/* Wait until running; the detail says how it ended. */
static hr_t
wait_running(const struct action_ctx *ctx, const char *name, struct step *s)
{
	uint32_t ms = ctx->settings->service_wait_ms;
	struct svc_status st = {0};
	char code[11];
	hr_t hr;

	hr = host_service_wait(ctx->host, name, SVC_RUNNING, ms, &st);
	if (hr == HR_OK) {
		step_set_detail(s, "%s is running (pid %u)", name, st.pid);
	} else if (hr == hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT) &&
		   st.state == SVC_STOPPED && st.win32_exit_code != 0) {
		/* It started and died: its exit code says more. */
		hr = svc_exit_hr(&st);
		error_format(hr, code);
		step_set_detail(s, "%s stopped again with error %s", name,
				code);
	} else if (hr == hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT)) {
		step_set_detail(s,
				"%s did not reach running within %u ms (now "
				"%s)",
				name, ms, svc_state_name(st.state));
	} else {
		error_format(hr, code);
		step_set_detail(s, "could not query %s while waiting (%s)",
				name, code);
	}
	return hr;
}

hr_t
svc_step_wait_running(const struct action_ctx *ctx, struct svc_guard *g,
		      struct step *s)
{
	if (g->start_skipped) {
		s->status = STEP_SKIPPED;
		step_set_detail(s, "%s was not started", g->name);
		return HR_OK;
	}
	if (ctx->dry_run) {
		step_set_detail(s, "would wait up to %u ms for %s to run",
				ctx->settings->service_wait_ms, g->name);
		return HR_OK;
	}
	return wait_running(ctx, g->name, s);
}

static hr_t
start_anyway(const struct action_ctx *ctx, struct svc_guard *g, struct step *s)
{
	return svc_step_start(ctx, g, s, false);
}

svc_step_fn *const svc_restart[SVC_RESTART_STEPS] = {
    svc_step_stop,
    svc_step_wait_stopped,
    start_anyway,
    svc_step_wait_running,
};

/* Start it and wait; a service still stopping is waited for first. */
static hr_t
start_again(const struct action_ctx *ctx, struct svc_guard *g, struct step *s)
{
	struct host *h = ctx->host;
	struct svc_status st = {0};
	char code[11];
	hr_t hr;

	hr = h->ops->service_status(h, g->name, &st);
	if (hr == HR_OK && st.state == SVC_STOP_PENDING &&
	    (hr = finish_stopping(ctx, g, s)) != HR_OK)
		return hr;
	hr = h->ops->service_start(h, g->name);
	if (hr == HR_OK || hr == hr_from_win32(WIN32_SERVICE_ALREADY_RUNNING))
		return wait_running(ctx, g->name, s);
	error_format(hr, code);
	step_set_detail(s,
			"could not start %s again (%s); it is left stopped: "
			"sc start %s",
			g->name, code, g->name);
	return hr;
}

void
svc_undo_stop(const struct action_ctx *ctx, struct svc_guard *g,
	      struct action_result *a)
{
	struct step *s;
	uint64_t t0;
	hr_t hr;

	/* A dry run stopped nothing, whatever its plan said. */
	if (ctx->dry_run || !g->stopped || g->start_tried)
		return;
	s = action_add_step(a, "start %s again", g->name);
	t0 = plat_now_ms();
	g->start_tried = true;
	hr = start_again(ctx, g, s);
	s->duration_ms = plat_now_ms() - t0;
	s->status = hr == HR_OK ? STEP_UNDONE : STEP_FAILED;
	s->error = hr;
}

/*
 * "NAME state" before/after on a real run: when it differs, or, for a
 * restart, whenever this action stopped it (a new process, even if the
 * state reads the same; "unknown" if it can no longer be read).
 */
static void
record_state(const struct action_ctx *ctx, const struct svc_guard *g,
	     struct action_result *a, bool restart)
{
	struct host *h = ctx->host;
	struct svc_status now = {0};
	bool read, restarted = restart && g->stopped;
	char *what;

	if (ctx->dry_run || g->query != HR_OK)
		return;
	read = h->ops->service_status(h, g->name, &now) == HR_OK;
	if (!restarted && (!read || now.state == g->before.state))
		return;
	what = xasprintf("%s state", g->name);
	action_add_change(a, what, svc_state_name(g->before.state),
			  read ? svc_state_name(now.state) : "unknown");
	free(what);
}

void
svc_record_state(const struct action_ctx *ctx, const struct svc_guard *g,
		 struct action_result *a)
{
	record_state(ctx, g, a, false);
}

void
svc_record_restart(const struct action_ctx *ctx, const struct svc_guard *g,
		   struct action_result *a)
{
	record_state(ctx, g, a, true);
}
