/*
 * result.h: the result model shared by checks, actions and the API.
 *
 * A check result is a tree: findings under a check, each with a status;
 * the check's status is the worst of its findings. An action result is a
 * list of steps with what was changed and where the old state was saved.
 * Both render to the JSON in DESIGN.md ("Result model").
 */
#ifndef WSUSDIAG_RESULT_H
#define WSUSDIAG_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "platform/host.h"

/* Ordered so that "worse" compares greater (worst-of aggregation). */
enum status {
	ST_SKIP = 0,
	ST_PASS = 1,
	ST_WARN = 2,
	ST_FAIL = 3,
	ST_ERROR = 4,
};

const char *status_name(enum status s);
enum status status_worst(enum status a, enum status b);

struct finding {
	char *id;
	enum status status;
	char *message;
	char *expected; /* NULL: not rendered as a value, JSON null */
	char *observed;
	hr_t error;		   /* 0: no error code */
	const char *remedy_action; /* an action id, or NULL */
	char *remedy_text;
	cJSON *details; /* optional object, e.g. a field-by-field diff */
};

struct check_result {
	const char *id;
	const char *title;
	enum status status;
	char *summary;
	uint64_t duration_ms;
	struct finding *findings;
	size_t n_findings;
	size_t cap_findings;
	cJSON *facts; /* object, never NULL after result_init */
};

void result_init(struct check_result *r, const char *id, const char *title);
void result_clear(struct check_result *r);

/*
 * Add a finding; returns it so the caller can set expected/observed/error
 * and remedies. message is printf-style. Never NULL: on allocation failure
 * the daemon aborts (see xalloc.h) rather than report a half result.
 */
struct finding *result_add(struct check_result *r, const char *id,
			   enum status st, const char *fmt, ...)
    __attribute__((format(gnu_printf, 4, 5)));

void finding_set_expected(struct finding *f, const char *expected);
void finding_set_observed(struct finding *f, const char *fmt, ...)
    __attribute__((format(gnu_printf, 2, 3)));
void finding_set_remedy(struct finding *f, const char *action,
			const char *text);

/* Compute status and a summary from the findings (worst first). */
void result_finish(struct check_result *r);

/* Steps and actions. */
enum step_status {
	STEP_OK = 0,
	STEP_FAILED,
	STEP_PLANNED,
	STEP_SKIPPED,
	STEP_UNDONE,
};

const char *step_status_name(enum step_status s);

enum action_status {
	ACT_OK = 0,
	ACT_FAILED,
	ACT_PLANNED,
};

const char *action_status_name(enum action_status s);

struct step {
	char *name;
	enum step_status status;
	char *detail;
	hr_t error;
	uint64_t duration_ms;
};

struct change {
	char *what;
	char *before;
	char *after;
};

struct action_result {
	const char *id;
	enum action_status status;
	bool dry_run;
	struct step *steps;
	size_t n_steps, cap_steps;
	struct change *changes;
	size_t n_changes, cap_changes;
	cJSON *backup;		     /* object or NULL */
	struct check_result *verify; /* the related check after acting */
};

void action_result_init(struct action_result *a, const char *id, bool dry);
void action_result_clear(struct action_result *a);

struct step *action_add_step(struct action_result *a, const char *fmt, ...)
    __attribute__((format(gnu_printf, 2, 3)));
void step_set_detail(struct step *s, const char *fmt, ...)
    __attribute__((format(gnu_printf, 2, 3)));
void action_add_change(struct action_result *a, const char *what,
		       const char *before, const char *after);

/* Render to JSON (caller owns the returned object). */
cJSON *result_to_json(const struct check_result *r);
cJSON *action_result_to_json(const struct action_result *a);
/* {"code","name","description"} or JSON null for hr == 0. */
cJSON *error_to_json(hr_t hr);

#endif
