/*
 * bits.c: "Check for issues relating to BITS" and "Issues with BITS":
 * the service must exist, be able to start, run as LocalSystem from
 * svchost's netsvcs group; and the articles' first remedy, "sc stop bits,
 * sc start bits", as the restart-bits action.
 */
#include "checks/registry.h"
#include "checks/svc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define BITS_SERVICE "BITS"
#define BITS_BINPATH "%SystemRoot%\\System32\\svchost.exe -k netsvcs"

static const struct svc_spec bits_spec = {
    .service = BITS_SERVICE,
    .prefix = "bits",
    .label = "BITS",
    /* What "Repair a corrupted BITS configuration" sets. */
    .enable_start = "delayed-auto",
    .enable_action = "repair-bits",
    .start_action = "restart-bits",
    .missing_remedy =
	"BITS is not registered with the Service Control Manager: recreate "
	"it (sc create bits type= share binpath= \"" BITS_BINPATH "\" obj= "
	"LocalSystem) and apply \"Repair a corrupted BITS configuration\"",
};

/* ---- the check --------------------------------------------------------- */

/* sc shows "LocalSystem"; ".\LocalSystem" is the same account. */
static bool
is_local_system(const char *account)
{
	return account != NULL && (strcasecmp(account, "LocalSystem") == 0 ||
				   strcasecmp(account, ".\\LocalSystem") == 0);
}

static void
judge_account(struct check_result *r, const struct svc_config *c)
{
	struct finding *f;

	if (is_local_system(c->account)) {
		f = result_add(r, "bits.account", ST_PASS,
			       "BITS runs under the LocalSystem account");
	} else {
		f = result_add(r, "bits.account", ST_FAIL,
			       "BITS must run under the LocalSystem account");
		svc_set_remedy(f, "repair-bits",
			       "sc config bits obj= LocalSystem, then restart "
			       "BITS");
	}
	finding_set_expected(f, "LocalSystem");
	if (c->account != NULL)
		finding_set_observed(f, "%s", c->account);
}

static const char *const svchost_paths[] = {
    "%SystemRoot%\\System32\\svchost.exe",
    "%windir%\\System32\\svchost.exe",
    "C:\\Windows\\System32\\svchost.exe",
};

static bool
is_svchost(const char *exe)
{
	for (size_t i = 0; i < sizeof(svchost_paths) / sizeof(*svchost_paths);
	     i++)
		if (strcasecmp(exe, svchost_paths[i]) == 0)
			return true;
	return false;
}

/*
 * "svchost.exe -k netsvcs", optionally "-p" (Windows 10 adds it). Quotes
 * carry no meaning here (no path has a space), so they are dropped
 * wherever they are: around the program or the whole command line.
 */
static bool
is_netsvcs_binpath(const char *path)
{
	char *s, *save = NULL, *tok[5] = {NULL};
	size_t n = 0, j = 0;
	bool ok;

	s = xstrdup(path);
	for (size_t i = 0; s[i] != '\0'; i++)
		if (s[i] != '"')
			s[j++] = s[i];
	s[j] = '\0';
	for (char *t = strtok_r(s, " \t", &save); t != NULL && n < 5;
	     t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	ok = (n == 3 || n == 4) && is_svchost(tok[0]) &&
	     strcasecmp(tok[1], "-k") == 0 &&
	     strcasecmp(tok[2], "netsvcs") == 0 &&
	     (n == 3 || strcasecmp(tok[3], "-p") == 0);
	free(s);
	return ok;
}

static void
judge_binpath(struct check_result *r, const struct svc_config *c)
{
	struct finding *f;
	const char *p = c->binary_path;

	if (p != NULL && is_netsvcs_binpath(p)) {
		f = result_add(r, "bits.binary_path", ST_PASS,
			       "BITS runs in the netsvcs svchost group");
	} else if (p != NULL && strstr(p, "\xe2\x80\x93k") != NULL) {
		/* The article's own sc command has an en dash. */
		f = result_add(r, "bits.binary_path", ST_FAIL,
			       "the BITS binary path has an en dash (\xe2\x80"
			       "\x93k) where svchost needs -k, as when "
			       "copied from the article");
	} else {
		f = result_add(r, "bits.binary_path", ST_FAIL,
			       "BITS must run as svchost.exe -k netsvcs");
	}
	if (f->status != ST_PASS)
		svc_set_remedy(f, "repair-bits",
			       "sc config bits binpath= \"" BITS_BINPATH
			       "\", then restart BITS");
	finding_set_expected(f, BITS_BINPATH);
	if (p != NULL)
		finding_set_observed(f, "%s", p);
}

static void
bits_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct svc_info info;

	if (svc_inspect(ctx, &bits_spec, r, NULL, &info)) {
		judge_account(r, &info.config);
		judge_binpath(r, &info.config);
	}
	svc_info_clear(&info);
}

const struct check check_bits = {
    .id = "bits",
    .title = "Background Intelligent Transfer Service",
    .description = "BITS exists, is not disabled, is running or able to "
		   "start, runs under LocalSystem and in the netsvcs "
		   "svchost group",
    .seed_section = "Check for issues relating to BITS / Issues with BITS",
    .time_limit_ms = 10000,
    .run = bits_run,
};

/* ---- restart-bits ------------------------------------------------------ */

/* What the steps share. */
struct restart {
	const struct action_ctx *ctx;
	struct svc_status before; /* valid when query == HR_OK */
	hr_t query;		  /* the first status query */
	bool disabled;		  /* start type is disabled */
	bool stopped;		  /* this action stopped BITS */
};

static hr_t
step_stop(struct restart *rs, struct step *s)
{
	struct host *h = rs->ctx->host;
	struct svc_status st = {0};
	char code[11];
	hr_t hr;

	if (rs->query != HR_OK) {
		error_format(rs->query, code);
		step_set_detail(s, "could not query BITS (%s)", code);
		return rs->query;
	}
	if (rs->before.state == SVC_STOPPED ||
	    rs->before.state == SVC_STOP_PENDING) {
		s->status = STEP_SKIPPED;
		step_set_detail(s, "BITS is already %s",
				rs->before.state == SVC_STOPPED ? "stopped"
								: "stopping");
		return HR_OK;
	}
	if (rs->disabled) {
		/* A disabled service cannot start again: stopping it would
		 * turn a restart into an outage. */
		step_set_detail(s,
				"BITS is disabled, so it could not be started "
				"again; it is left running. Enable it first: "
				"sc config bits start= delayed-auto");
		return hr_from_win32(WIN32_SERVICE_DISABLED);
	}
	if (rs->ctx->dry_run) {
		step_set_detail(s, "would stop BITS (now %s, pid %u)",
				svc_state_name(rs->before.state),
				rs->before.pid);
		return HR_OK;
	}
	hr = h->ops->service_control(h, BITS_SERVICE, SVC_CONTROL_STOP, &st);
	if (hr == hr_from_win32(WIN32_SERVICE_NOT_ACTIVE)) {
		step_set_detail(s, "BITS had already stopped");
		return HR_OK;
	}
	if (hr != HR_OK) {
		error_format(hr, code);
		step_set_detail(s, "could not stop BITS (%s); it is left %s",
				code, svc_state_name(rs->before.state));
		return hr;
	}
	rs->stopped = true;
	step_set_detail(s, "stop requested (BITS was %s, pid %u)",
			svc_state_name(rs->before.state), rs->before.pid);
	return HR_OK;
}

static hr_t
step_wait_stop(struct restart *rs, struct step *s)
{
	uint32_t ms = rs->ctx->settings->service_wait_ms;
	struct svc_status st = {0};
	char code[11];
	hr_t hr;

	if (rs->before.state == SVC_STOPPED) {
		s->status = STEP_SKIPPED;
		step_set_detail(s, "BITS is already stopped");
		return HR_OK;
	}
	if (rs->ctx->dry_run) {
		step_set_detail(s, "would wait up to %u ms for BITS to stop",
				ms);
		return HR_OK;
	}
	hr = host_service_wait(rs->ctx->host, BITS_SERVICE, SVC_STOPPED, ms,
			       &st);
	if (hr == hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT)) {
		step_set_detail(s,
				"BITS did not stop within %u ms (now %s); a "
				"stop request cannot be withdrawn, BITS is "
				"left as it is and not started",
				ms, svc_state_name(st.state));
	} else if (hr != HR_OK) {
		error_format(hr, code);
		step_set_detail(s, "could not query BITS while waiting (%s)",
				code);
	} else {
		step_set_detail(s, "BITS is stopped");
	}
	return hr;
}

static hr_t
step_start(struct restart *rs, struct step *s)
{
	struct host *h = rs->ctx->host;
	char code[11];
	hr_t hr;

	if (rs->ctx->dry_run) {
		step_set_detail(s, "would start BITS");
		return HR_OK;
	}
	hr = h->ops->service_start(h, BITS_SERVICE);
	if (hr == hr_from_win32(WIN32_SERVICE_ALREADY_RUNNING)) {
		/* A trigger (a BITS client) started it in between. */
		step_set_detail(s, "BITS was already started again");
		return HR_OK;
	}
	if (hr != HR_OK) {
		error_format(hr, code);
		if (rs->stopped)
			step_set_detail(s,
					"could not start BITS (%s); this "
					"action stopped BITS and it is left "
					"stopped: a stop cannot be undone "
					"other than by the start that failed",
					code);
		else
			step_set_detail(s,
					"could not start BITS (%s); it is "
					"left stopped",
					code);
		return hr;
	}
	step_set_detail(s, "start requested");
	return HR_OK;
}

static hr_t
step_wait_run(struct restart *rs, struct step *s)
{
	uint32_t ms = rs->ctx->settings->service_wait_ms;
	struct svc_status st = {0};
	char code[11];
	hr_t hr;

	if (rs->ctx->dry_run) {
		step_set_detail(s, "would wait up to %u ms for BITS to run",
				ms);
		return HR_OK;
	}
	hr = host_service_wait(rs->ctx->host, BITS_SERVICE, SVC_RUNNING, ms,
			       &st);
	if (hr == HR_OK) {
		step_set_detail(s, "BITS is running (pid %u)", st.pid);
		return HR_OK;
	}
	if (hr == hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT) &&
	    st.state == SVC_STOPPED && st.win32_exit_code != 0) {
		/* It started and died: its exit code says more than the
		 * timeout. */
		hr = hr_from_win32(st.win32_exit_code);
		error_format(hr, code);
		step_set_detail(s, "BITS stopped again with error %s", code);
	} else if (hr == hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT)) {
		step_set_detail(s,
				"BITS did not reach running within %u ms "
				"(now %s)",
				ms, svc_state_name(st.state));
	} else {
		error_format(hr, code);
		step_set_detail(s, "could not query BITS while waiting (%s)",
				code);
	}
	return hr;
}

static const char *const restart_bits_steps[] = {
    "stop BITS", "wait for BITS to stop", "start BITS", "wait for BITS to run",
    NULL,
};

/* In restart_bits_steps order. */
static hr_t (*const restart_fns[])(struct restart *, struct step *) = {
    step_stop,
    step_wait_stop,
    step_start,
    step_wait_run,
};

static void
restart_prepare(struct restart *rs)
{
	struct host *h = rs->ctx->host;
	struct svc_config c = {0};

	rs->query = h->ops->service_status(h, BITS_SERVICE, &rs->before);
	/* Only a guard: if the configuration cannot be read, the start
	 * step reports the real reason should it fail. */
	if (h->ops->service_config(h, BITS_SERVICE, &c) == HR_OK)
		rs->disabled = c.start_type == SVC_DISABLED;
	svc_config_clear(&c);
}

static void
restart_record_change(struct restart *rs, struct action_result *a)
{
	struct host *h = rs->ctx->host;
	struct svc_status now = {0};
	const char *after = "unknown";

	if (rs->ctx->dry_run || rs->query != HR_OK)
		return;
	if (h->ops->service_status(h, BITS_SERVICE, &now) == HR_OK)
		after = svc_state_name(now.state);
	action_add_change(a, "BITS state", svc_state_name(rs->before.state),
			  after);
}

static void
restart_bits_run(const struct action_ctx *ctx, struct action_result *a)
{
	struct restart rs = {.ctx = ctx};
	const char *failed = NULL;

	restart_prepare(&rs);
	for (size_t i = 0; restart_bits_steps[i] != NULL; i++) {
		struct step *s =
		    action_add_step(a, "%s", restart_bits_steps[i]);
		uint64_t t0;
		hr_t hr;

		if (failed != NULL) {
			s->status = STEP_SKIPPED;
			step_set_detail(s, "not run: \"%s\" failed", failed);
			continue;
		}
		t0 = plat_now_ms();
		hr = restart_fns[i](&rs, s);
		s->duration_ms = plat_now_ms() - t0;
		if (hr != HR_OK) {
			s->status = STEP_FAILED;
			s->error = hr;
			a->status = ACT_FAILED;
			failed = restart_bits_steps[i];
		}
	}
	restart_record_change(&rs, a);
}

const struct action action_restart_bits = {
    .id = "restart-bits",
    .title = "Restart BITS",
    .description = "Stop and start the Background Intelligent Transfer "
		   "Service (sc stop bits, sc start bits), the articles' "
		   "first remedy for BITS issues; a stopped BITS is started",
    .target = "bits",
    .steps = restart_bits_steps,
    .changes = "the BITS service state (its process is restarted; "
	       "transfers resume where they were)",
    .verify_check = "bits",
    .run = restart_bits_run,
};
