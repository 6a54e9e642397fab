/*
 * svc_steps.h: stopping and starting a service as steps of an action.
 *
 * The articles' remedies all begin with "sc stop wuauserv" (and BITS)
 * and end with "sc start wuauserv". An action that does this must know
 * what it found (so it starts again only what it stopped), refuse to
 * stop a disabled service (it could not be started again), wait for
 * each change with the configured deadline, and put a stopped service
 * back when a later step fails. These helpers do that for any service,
 * one step each; the actions (restart-bits, repair-bits,
 * start-wuauserv, reset-store, reset-client-id) decide the order.
 */
#ifndef WSUSDIAG_SVC_STEPS_H
#define WSUSDIAG_SVC_STEPS_H

#include <stdbool.h>

#include "checks/registry.h"
#include "checks/result.h"
#include "platform/host.h"

/* What an action knows about one service it stops or starts. */
struct svc_guard {
	const char *name;	  /* SCM name: "wuauserv", "BITS" */
	const char *enable_start; /* "demand", "delayed-auto": for advice */
	struct svc_status before; /* valid when query == HR_OK */
	hr_t query;		  /* the first status query */
	bool disabled;		  /* its start type is disabled */
	bool stopped;		  /* this action stopped it (or would) */
	bool start_tried;	  /* this action asked it to start */
	bool start_skipped;	  /* the start step had nothing to do */
};

/* Read the service's state and start type before the first step. */
void svc_guard_read(const struct action_ctx *ctx, struct svc_guard *g,
		    const char *name, const char *enable_start);

/*
 * "stop NAME": skipped when it is already stopped or stopping; fails
 * with 0x80070422 when it runs but is disabled (it could not be
 * started again), with the query's error when it could not be read.
 */
hr_t svc_step_stop(const struct action_ctx *ctx, struct svc_guard *g,
		   struct step *s);
/*
 * "stop NAME" before work that NAME redoes when it starts again (the
 * agent makes the new id, builds the new store): when NAME is disabled,
 * stopped or not, nothing is changed, since the start would be refused;
 * does is what the start would do ("makes the new id"). Otherwise
 * svc_step_stop.
 */
hr_t svc_step_stop_to_restart(const struct action_ctx *ctx, struct svc_guard *g,
			      struct step *s, const char *does);
/* "wait for NAME to stop": skipped when it was stopped already. */
hr_t svc_step_wait_stopped(const struct action_ctx *ctx, struct svc_guard *g,
			   struct step *s);
/*
 * "start NAME". With only_if_stopped, a service this action did not
 * stop is left as it was (skipped). A running service is skipped with
 * the reason; a disabled one fails with 0x80070422.
 */
hr_t svc_step_start(const struct action_ctx *ctx, struct svc_guard *g,
		    struct step *s, bool only_if_stopped);
/* "wait for NAME to run": skipped when the start was. */
hr_t svc_step_wait_running(const struct action_ctx *ctx, struct svc_guard *g,
			   struct step *s);

typedef hr_t svc_step_fn(const struct action_ctx *ctx, struct svc_guard *g,
			 struct step *s);

/*
 * A restart, one step each, in this order: stop, wait for it to stop,
 * start (also when it was stopped before: bringing it up is what a
 * restart is for), wait for it to run.
 */
#define SVC_RESTART_STEPS 4
extern svc_step_fn *const svc_restart[SVC_RESTART_STEPS];

/*
 * Undo a stop after a later step failed: "start NAME again" (start and
 * wait), status undone, or failed with the error. Adds nothing when
 * this action did not stop the service or has already tried to start
 * it (that step says how it ended).
 */
void svc_undo_stop(const struct action_ctx *ctx, struct svc_guard *g,
		   struct action_result *a);

/* Record "NAME state" before/after when a real run changed it. */
void svc_record_state(const struct action_ctx *ctx, const struct svc_guard *g,
		      struct action_result *a);
/*
 * The same for a restart: also when the state reads as it was (running
 * before and after) once this action stopped it, since the process is
 * new; the state after is "unknown" if it cannot be read.
 */
void svc_record_restart(const struct action_ctx *ctx, const struct svc_guard *g,
			struct action_result *a);

#endif
