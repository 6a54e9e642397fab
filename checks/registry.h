/*
 * registry.h: the descriptors of every check and action, and the one
 * table that lists them. Adding a check is one file plus one line in
 * registry.c.
 */
#ifndef WSUSDIAG_REGISTRY_H
#define WSUSDIAG_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "checks/result.h"
#include "platform/host.h"

/* Settings a check or action may consult (from the config file). */
struct check_settings {
	uint32_t probe_timeout_ms; /* outbound probes */
	uint32_t service_wait_ms;  /* stop/start waits in actions */
	const char *agent_min_version;
};

struct check_ctx {
	struct host *host;
	const struct check_settings *settings;
};

struct check {
	const char *id;
	const char *title;
	const char *description;
	const char *seed_section; /* where the seeds describe it */
	uint32_t time_limit_ms;	  /* /report gives up on it after this */
	/* Fill r (already initialised with id and title). Read-only. */
	void (*run)(const struct check_ctx *ctx, struct check_result *r);
	/*
	 * Or NULL. When both run at once (/report), this check starts only
	 * once the named one has finished or run out of time: this one
	 * disturbs what that one reads.
	 */
	const char *after;
};

struct action_ctx {
	struct host *host;
	const struct check_settings *settings;
	bool dry_run;
};

struct action {
	const char *id;
	const char *title;
	const char *description;
	/* Actions on the same target never run at the same time. */
	const char *target;
	/*
	 * Other targets it changes on the way (reset-store stops wuauserv
	 * and BITS): NULL-terminated, or NULL. All are held while it runs.
	 */
	const char *const *also_locks;
	const char *const *steps; /* NULL-terminated, for the catalogue */
	const char *changes;	  /* what it may change, in words */
	const char *verify_check; /* check run again after acting, or NULL */
	/*
	 * Plan (dry_run) or perform; a) stop at the first failed step,
	 * b) undo what can be undone and record it, c) never delete.
	 */
	void (*run)(const struct action_ctx *ctx, struct action_result *a);
};

/* The descriptors, one per check or action, defined in their topic file. */
extern const struct check check_policy;		   /* policy.c */
extern const struct check check_bits;		   /* bits.c */
extern const struct check check_bits_jobs;	   /* jobs.c */
extern const struct check check_bits_policy;	   /* jobs.c */
extern const struct check check_wuauserv;	   /* wuauserv.c */
extern const struct check check_server;		   /* server.c */
extern const struct check check_proxy;		   /* proxy.c */
extern const struct check check_agent;		   /* agent.c */
extern const struct check check_store;		   /* store.c */
extern const struct check check_client_id;	   /* client_id.c */
extern const struct check check_updatelog;	   /* updatelog.c */
extern const struct action action_restart_bits;	   /* bits.c */
extern const struct action action_repair_bits;	   /* repair_bits.c */
extern const struct action action_start_wuauserv;  /* wuauserv.c */
extern const struct action action_reset_store;	   /* store.c */
extern const struct action action_reset_client_id; /* client_id.c */
extern const struct action action_gpupdate;	   /* agent_actions.c */
extern const struct action action_detect_now;	   /* agent_actions.c */

extern const struct check *const check_table[];
extern const size_t check_count;
extern const struct action *const action_table[];
extern const size_t action_count;

const struct check *check_find(const char *id);
const struct action *action_find(const char *id);

/* Run one check with timing; r is initialised here. */
void check_run(const struct check *c, const struct check_ctx *ctx,
	       struct check_result *r);

#endif
