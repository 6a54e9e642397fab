/*
 * svc.h: shared inspection of one Windows service for the checks.
 *
 * Every service check starts the way the articles do ("sc query",
 * "sc qc"): does the service exist, what state is it in, is it disabled.
 * svc_inspect() turns that into the findings PREFIX.exists, PREFIX.state
 * and PREFIX.start_type plus facts, so each check only adds what is
 * particular to its service.
 *
 * The rest is what "BITS fails to start" lists and what the SCM itself
 * runs into on StartService: a disabled service (0x80070422), a
 * dependency that is missing (0x80070433) or cannot start (0x8007042C),
 * a svchost service that is not in its group (0x8007043B) or has no
 * ServiceDll (0x80070002). The probes judge each of these without
 * starting anything, the same way for every service.
 */
#ifndef WSUSDIAG_SVC_H
#define WSUSDIAG_SVC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "checks/registry.h"
#include "checks/result.h"
#include "platform/host.h"

/* What a check knows about the service it inspects. */
struct svc_spec {
	const char *service; /* SCM name, e.g. "BITS" */
	/* Finding ids ("bits" -> "bits.exists") and the name in sc commands. */
	const char *prefix;
	const char *label; /* in messages, e.g. "BITS" */
	/* sc start type to re-enable it with: "delayed-auto" or "demand". */
	const char *enable_start;
	const char *enable_action;  /* action that re-enables it, or NULL */
	const char *start_action;   /* action that starts it, or NULL */
	const char *missing_remedy; /* what to do when it does not exist */
	/* The svchost group it must be listed in ("netsvcs"), or NULL. */
	const char *svchost_group;
	/* Its ServiceDll as Windows ships it, or NULL: only the file name
	 * is compared ("%SystemRoot%\System32\qmgr.dll"). */
	const char *service_dll;
	/* Action that restores its configuration (dependencies), or NULL. */
	const char *repair_action;
};

/* What svc_inspect() read; release with svc_info_clear(). */
struct svc_info {
	bool exists;		  /* the SCM knows the service */
	bool have_config;	  /* config is valid */
	bool have_delayed;	  /* delayed_auto is valid */
	struct svc_status status; /* valid when exists */
	struct svc_config config;
	bool delayed_auto;
	hr_t config_hr;	 /* QueryServiceConfigW, when exists */
	hr_t delayed_hr; /* the delayed-auto level, when have_config */
};

/*
 * Add PREFIX.exists, PREFIX.state and PREFIX.start_type to r and the
 * service's facts to facts (r->facts when NULL). A missing service gives
 * only a failing PREFIX.exists. Returns true when the service exists and
 * its configuration was read, so the caller can judge info->config.
 */
bool svc_inspect(const struct check_ctx *ctx, const struct svc_spec *spec,
		 struct check_result *r, cJSON *facts, struct svc_info *info);
void svc_info_clear(struct svc_info *info);

/*
 * Set a finding's remedy. The action is named only when this build has
 * it (action_find), so a finding never points at a missing action; the
 * text is always set.
 */
void svc_set_remedy(struct finding *f, const char *action, const char *text);

/* Lowercase names: "stopped", "start_pending", ...; "auto", "demand", ... */
const char *svc_state_name(enum svc_state s);
const char *svc_start_name(enum svc_start s);
/* "normal", ...; "unrestricted", ...; "restart", ... as sc spells them. */
const char *svc_error_control_name(enum svc_error_control e);
const char *svc_sid_type_name(enum svc_sid_type t);
const char *svc_action_name(enum svc_action_type t);

/* "auto", "delayed-auto", "demand", ...: the start as sc shows it. */
const char *svc_start_observed(const struct svc_info *info);

/*
 * A stopped service's exit code as an HRESULT for the knowledge base:
 * the service's own code when it reported one (1066 with an HRESULT, as
 * BITS does), else the Win32 code wrapped; 0 when it exited cleanly.
 */
hr_t svc_exit_hr(const struct svc_status *st);

/* The GROUP of "svchost.exe ... -k GROUP" (caller frees), else NULL. */
char *svc_svchost_group(const char *binary_path);

/*
 * One judgement, before it becomes a finding. The probes fill it; a
 * check may add to it (details, a better remedy) and then turn it into
 * PREFIX.what with svc_probe_add(), which also releases it.
 */
struct svc_probe {
	enum status status; /* ST_PASS, ST_WARN, ST_FAIL or ST_ERROR */
	/* With ST_FAIL what StartService would fail with; with ST_ERROR
	 * why it could not be read. */
	hr_t error;
	char *message;
	char *expected, *observed; /* or NULL */
	const char *action;	   /* remedy action id, or NULL */
	char *remedy;		   /* remedy text, or NULL */
	cJSON *details;		   /* object, or NULL */
};

void svc_probe_clear(struct svc_probe *p);
struct finding *svc_probe_add(struct check_result *r,
			      const struct svc_spec *spec, const char *what,
			      struct svc_probe *p);

/* The service is listed in spec->svchost_group (0x8007043B if not). */
void svc_probe_group(const struct check_ctx *ctx, const struct svc_spec *spec,
		     struct svc_probe *p);
/* Parameters\ServiceDll (or the service key's) is there and names
 * spec->service_dll's file (0x80070002 if not). */
void svc_probe_dll(const struct check_ctx *ctx, const struct svc_spec *spec,
		   struct svc_probe *p);
/*
 * Every dependency in c exists (0x80070433), is not disabled and, when
 * stopped, could itself start (0x8007042C); details.dependencies has a
 * verdict per name. Load-order groups ("+Group") are not services and
 * are only listed. The names that do not exist are added to missing
 * (may be NULL), so a check can say whether its repair brings them back.
 */
void svc_probe_dependencies(const struct check_ctx *ctx,
			    const struct svc_spec *spec,
			    const struct svc_config *c, struct svc_probe *p,
			    struct strlist *missing);

/* PREFIX.last_error: the SCM's last exit code, decoded; pass when 0. */
void svc_last_error(const struct svc_spec *spec, struct check_result *r,
		    const struct svc_info *info);
/*
 * PREFIX.can_start: whether StartService would get the service going as
 * far as the SCM's configuration decides it, in the SCM's order:
 * disabled, dependencies, svchost group, ServiceDll. Starts nothing.
 */
void svc_can_start(const struct check_ctx *ctx, const struct svc_spec *spec,
		   struct check_result *r, const struct svc_info *info);

/* ---- shared by a check and the action that repairs what it finds ------ */

/* "LocalSystem" or ".\LocalSystem": one account, as sc shows it. */
bool svc_is_local_system(const char *account);

/*
 * binary_path runs svchost.exe from System32 in group: "svchost.exe -k
 * GROUP", optionally "-p" (Windows 10 adds it). Quotes carry no meaning
 * (no svchost path has a space) and are dropped wherever they are.
 */
bool svc_binpath_in_group(const char *binary_path, const char *group);

/* Failure actions as sc shows them: {"reset_s": 86400, "actions":
 * ["restart/60000", ...]}. */
cJSON *svc_failure_json(uint32_t reset_s, const struct svc_action *a, size_t n);

#endif
