/*
 * svc.c: the part of every service check that is the same for each
 * service: "sc query" (exists, state, exit code) and "sc qc" (start type,
 * account, binary path) turned into findings and facts.
 */
#include "checks/svc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

/*
 * ERROR_SERVICE_SPECIFIC_ERROR: the service put its own code in
 * dwServiceSpecificExitCode. BITS does this with an HRESULT.
 */
#define WIN32_SERVICE_SPECIFIC_ERROR 1066u

static const char *const state_names[] = {
    [SVC_STOPPED] = "stopped",
    [SVC_START_PENDING] = "start_pending",
    [SVC_STOP_PENDING] = "stop_pending",
    [SVC_RUNNING] = "running",
    [SVC_CONTINUE_PENDING] = "continue_pending",
    [SVC_PAUSE_PENDING] = "pause_pending",
    [SVC_PAUSED] = "paused",
};

static const char *const start_names[] = {
    [SVC_BOOT_START] = "boot",	 [SVC_SYSTEM_START] = "system",
    [SVC_AUTO_START] = "auto",	 [SVC_DEMAND_START] = "demand",
    [SVC_DISABLED] = "disabled",
};

const char *
svc_state_name(enum svc_state s)
{
	size_t n = sizeof(state_names) / sizeof(state_names[0]);

	if ((size_t)s < n && state_names[s] != NULL)
		return state_names[s];
	return "unknown";
}

const char *
svc_start_name(enum svc_start s)
{
	size_t n = sizeof(start_names) / sizeof(start_names[0]);

	if ((size_t)s < n && start_names[s] != NULL)
		return start_names[s];
	return "unknown";
}

/* "share"/"own" as sc shows WIN32_SHARE_PROCESS/WIN32_OWN_PROCESS. */
static cJSON *
type_json(uint32_t type)
{
	if (type & SVC_TYPE_SHARE_PROCESS)
		return cJSON_CreateString("share");
	if (type & SVC_TYPE_OWN_PROCESS)
		return cJSON_CreateString("own");
	if (type & SVC_TYPE_FS_DRIVER)
		return cJSON_CreateString("fs_driver");
	if (type & SVC_TYPE_KERNEL_DRIVER)
		return cJSON_CreateString("kernel_driver");
	return cJSON_CreateNumber(type);
}

void
svc_set_remedy(struct finding *f, const char *action, const char *text)
{
	const struct action *a = action != NULL ? action_find(action) : NULL;

	/* The descriptor's id is static; the caller's string need not be. */
	finding_set_remedy(f, a != NULL ? a->id : NULL, text);
}

void
svc_info_clear(struct svc_info *info)
{
	svc_config_clear(&info->config);
	memset(info, 0, sizeof(*info));
}

static struct finding *add(struct check_result *r, const struct svc_spec *spec,
			   const char *what, enum status st, const char *fmt,
			   ...) __attribute__((format(gnu_printf, 5, 6)));

/* result_add with the id PREFIX.what. */
static struct finding *
add(struct check_result *r, const struct svc_spec *spec, const char *what,
    enum status st, const char *fmt, ...)
{
	struct finding *f;
	char *id, *msg;
	va_list ap;

	id = xasprintf("%s.%s", spec->prefix, what);
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	f = result_add(r, id, st, "%s", msg);
	free(id);
	free(msg);
	return f;
}

/* The status query decides whether the service exists at all. */
static bool
judge_exists(const struct svc_spec *spec, struct check_result *r, hr_t hr)
{
	struct finding *f;
	char code[11];

	if (hr == HR_OK) {
		f = add(r, spec, "exists", ST_PASS, "%s is installed",
			spec->label);
		finding_set_expected(f, "installed");
		finding_set_observed(f, "installed");
		return true;
	}
	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST)) {
		f = add(r, spec, "exists", ST_FAIL, "%s does not exist",
			spec->label);
		finding_set_expected(f, "installed");
		finding_set_observed(f, "missing");
		f->error = hr;
		svc_set_remedy(f, NULL, spec->missing_remedy);
		return false;
	}
	f = add(r, spec, "exists", ST_ERROR, "could not query %s (%s)",
		spec->label, code);
	f->error = hr;
	return false;
}

/* A stopped service's exit code, as an HRESULT for the knowledge base. */
static hr_t
exit_hr(const struct svc_status *st)
{
	if (st->win32_exit_code == WIN32_SERVICE_SPECIFIC_ERROR &&
	    (st->service_exit_code & 0x80000000u))
		return st->service_exit_code;
	return hr_from_win32(st->win32_exit_code);
}

static void
judge_stopped(const struct svc_spec *spec, struct check_result *r,
	      const struct svc_status *st)
{
	struct finding *f;
	char code[11], *text;
	hr_t hr;

	text = xasprintf("start the service: sc start %s", spec->prefix);
	if (st->win32_exit_code == 0) {
		f = add(r, spec, "state", ST_WARN,
			"%s is stopped; it is started on demand (trigger "
			"start) on Windows 10, so stopped is not in itself a "
			"fault, but it must be able to start",
			spec->label);
	} else {
		hr = exit_hr(st);
		error_format(hr, code);
		f = add(r, spec, "state", ST_FAIL,
			"%s stopped with error %s (exit code %u)", spec->label,
			code, st->win32_exit_code);
		f->error = hr;
		free(text);
		text = xasprintf("look in the System event log for why %s "
				 "stopped, then start the service: sc start %s",
				 spec->label, spec->prefix);
	}
	finding_set_expected(f, "running");
	finding_set_observed(f, "stopped");
	svc_set_remedy(f, spec->start_action, text);
	free(text);
}

static void
judge_state(const struct svc_spec *spec, struct check_result *r,
	    const struct svc_status *st)
{
	struct finding *f;
	const char *name = svc_state_name(st->state);

	if (st->state == SVC_STOPPED) {
		judge_stopped(spec, r, st);
		return;
	}
	if (st->state == SVC_RUNNING)
		f = add(r, spec, "state", ST_PASS, "%s is running",
			spec->label);
	else if (st->state == SVC_PAUSED)
		f = add(r, spec, "state", ST_WARN, "%s is paused", spec->label);
	else
		f = add(r, spec, "state", ST_WARN,
			"%s is in %s: a state change is in progress; check "
			"again shortly",
			spec->label, name);
	finding_set_expected(f, "running");
	finding_set_observed(f, "%s", name);
}

/* "delayed-auto" is auto with the Config2 flag, as sc shows it. */
static const char *
start_observed(const struct svc_info *info)
{
	if (info->config.start_type == SVC_AUTO_START && info->have_delayed &&
	    info->delayed_auto)
		return "delayed-auto";
	return svc_start_name(info->config.start_type);
}

static void
judge_start(const struct svc_spec *spec, struct check_result *r,
	    const struct svc_info *info, hr_t hr)
{
	struct finding *f;
	char code[11], *text;
	enum svc_start t = info->config.start_type;

	if (!info->have_config) {
		error_format(hr, code);
		f = add(r, spec, "start_type", ST_ERROR,
			"could not read the configuration of %s (%s)",
			spec->label, code);
		f->error = hr;
		return;
	}
	if (t == SVC_DISABLED) {
		f = add(r, spec, "start_type", ST_FAIL,
			"%s is disabled and cannot start", spec->label);
		f->error = hr_from_win32(WIN32_SERVICE_DISABLED);
		finding_set_expected(f, spec->enable_start);
		text = xasprintf("enable the service: sc config %s start= %s",
				 spec->prefix, spec->enable_start);
		svc_set_remedy(f, spec->enable_action, text);
		free(text);
	} else if (t == SVC_AUTO_START || t == SVC_DEMAND_START) {
		f = add(r, spec, "start_type", ST_PASS, "%s start type is %s",
			spec->label, start_observed(info));
		finding_set_expected(f, "auto, delayed-auto or demand");
	} else {
		/* Only drivers start at boot or system init; the SCM
		 * refuses it for a Win32 service, so the config is odd. */
		f = add(r, spec, "start_type", ST_WARN,
			"%s start type is %s, which is meant for drivers",
			spec->label, start_observed(info));
		finding_set_expected(f, "auto, delayed-auto or demand");
	}
	finding_set_observed(f, "%s", start_observed(info));
}

static cJSON *
str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static void
set_fact(cJSON *facts, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(facts, key);
	cJSON_AddItemToObject(facts, key, v);
}

static void
add_facts(cJSON *facts, const struct svc_info *info)
{
	const struct svc_config *c = &info->config;
	bool cfg = info->have_config;

	set_fact(facts, "state",
		 cJSON_CreateString(svc_state_name(info->status.state)));
	set_fact(facts, "start_type",
		 cfg ? cJSON_CreateString(svc_start_name(c->start_type))
		     : cJSON_CreateNull());
	set_fact(facts, "delayed_auto_start",
		 info->have_delayed ? cJSON_CreateBool(info->delayed_auto)
				    : cJSON_CreateNull());
	set_fact(facts, "account",
		 cfg ? str_or_null(c->account) : cJSON_CreateNull());
	set_fact(facts, "binary_path",
		 cfg ? str_or_null(c->binary_path) : cJSON_CreateNull());
	set_fact(facts, "type", type_json(info->status.type));
	set_fact(facts, "exit_code",
		 cJSON_CreateNumber(info->status.win32_exit_code));
	set_fact(facts, "pid", cJSON_CreateNumber(info->status.pid));
}

bool
svc_inspect(const struct check_ctx *ctx, const struct svc_spec *spec,
	    struct check_result *r, cJSON *facts, struct svc_info *info)
{
	struct host *h = ctx->host;
	hr_t hr;

	memset(info, 0, sizeof(*info));
	if (facts == NULL)
		facts = r->facts;
	hr = h->ops->service_status(h, spec->service, &info->status);
	if (!judge_exists(spec, r, hr))
		return false;
	info->exists = true;
	hr = h->ops->service_config(h, spec->service, &info->config);
	if (hr == HR_OK) {
		info->have_config = true;
		/* Config2 levels are missing on some hosts (Wine answers
		 * ERROR_INVALID_LEVEL); the fact is then null, no finding. */
		info->have_delayed =
		    h->ops->service_delayed_auto(h, spec->service,
						 &info->delayed_auto) == HR_OK;
	}
	judge_state(spec, r, &info->status);
	judge_start(spec, r, info, hr);
	add_facts(facts, info);
	return info->have_config;
}
