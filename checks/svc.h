/*
 * svc.h: shared inspection of one Windows service for the checks.
 *
 * Every service check starts the way the articles do ("sc query",
 * "sc qc"): does the service exist, what state is it in, is it disabled.
 * svc_inspect() turns that into the findings PREFIX.exists, PREFIX.state
 * and PREFIX.start_type plus facts, so each check only adds what is
 * particular to its service.
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
};

/* What svc_inspect() read; release with svc_info_clear(). */
struct svc_info {
	bool exists;		  /* the SCM knows the service */
	bool have_config;	  /* config is valid */
	bool have_delayed;	  /* delayed_auto is valid */
	struct svc_status status; /* valid when exists */
	struct svc_config config;
	bool delayed_auto;
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

#endif
