/*
 * result.c: building and rendering check and action results.
 */
#include "checks/result.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

static const char *const status_names[] = {
    [ST_SKIP] = "skip", [ST_PASS] = "pass",   [ST_WARN] = "warn",
    [ST_FAIL] = "fail", [ST_ERROR] = "error",
};

const char *
status_name(enum status s)
{
	return (unsigned)s <= ST_ERROR ? status_names[s] : "error";
}

enum status
status_worst(enum status a, enum status b)
{
	return a > b ? a : b;
}

void
result_init(struct check_result *r, const char *id, const char *title)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->title = title;
	r->status = ST_SKIP;
	r->facts = cJSON_CreateObject();
}

static void
finding_clear(struct finding *f)
{
	free(f->id);
	free(f->message);
	free(f->expected);
	free(f->observed);
	free(f->remedy_text);
	cJSON_Delete(f->details);
}

void
result_clear(struct check_result *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		finding_clear(&r->findings[i]);
	free(r->findings);
	free(r->summary);
	cJSON_Delete(r->facts);
	memset(r, 0, sizeof(*r));
}

struct finding *
result_add(struct check_result *r, const char *id, enum status st,
	   const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	r->findings = xgrow(r->findings, &r->cap_findings, r->n_findings,
			    sizeof(*r->findings));
	f = &r->findings[r->n_findings++];
	memset(f, 0, sizeof(*f));
	f->id = xstrdup(id);
	f->status = st;
	va_start(ap, fmt);
	f->message = xvasprintf(fmt, ap);
	va_end(ap);
	return f;
}

void
finding_set_expected(struct finding *f, const char *expected)
{
	free(f->expected);
	f->expected = xstrdup_null(expected);
}

void
finding_set_observed(struct finding *f, const char *fmt, ...)
{
	va_list ap;

	free(f->observed);
	va_start(ap, fmt);
	f->observed = xvasprintf(fmt, ap);
	va_end(ap);
}

void
finding_set_remedy(struct finding *f, const char *action, const char *text)
{
	f->remedy_action = action;
	free(f->remedy_text);
	f->remedy_text = xstrdup_null(text);
}

/*
 * The summary names the worst finding, so a console can show one line
 * per machine; with no findings at all the check looked at nothing,
 * which must not read as a pass.
 */
void
result_finish(struct check_result *r)
{
	const struct finding *worst = NULL;
	size_t n_worst = 0;

	r->status = ST_SKIP;
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct finding *f = &r->findings[i];

		if (worst == NULL || f->status > worst->status) {
			worst = f;
			n_worst = 1;
		} else if (f->status == worst->status) {
			n_worst++;
		}
		r->status = status_worst(r->status, f->status);
	}
	free(r->summary);
	if (worst == NULL) {
		r->status = ST_ERROR;
		r->summary = xstrdup("the check produced no findings");
	} else if (n_worst > 1 && worst->status != ST_PASS) {
		r->summary = xasprintf("%s (and %zu more %s)", worst->message,
				       n_worst - 1, status_name(worst->status));
	} else if (worst->status == ST_PASS) {
		r->summary = xasprintf("all %zu findings pass", r->n_findings);
	} else {
		r->summary = xstrdup(worst->message);
	}
}

static const char *const step_names[] = {
    [STEP_OK] = "ok",		[STEP_FAILED] = "failed",
    [STEP_PLANNED] = "planned", [STEP_SKIPPED] = "skipped",
    [STEP_UNDONE] = "undone",
};

const char *
step_status_name(enum step_status s)
{
	return (unsigned)s <= STEP_UNDONE ? step_names[s] : "failed";
}

static const char *const action_names[] = {
    [ACT_OK] = "ok", [ACT_FAILED] = "failed", [ACT_PLANNED] = "planned"};

const char *
action_status_name(enum action_status s)
{
	return (unsigned)s <= ACT_PLANNED ? action_names[s] : "failed";
}

void
action_result_init(struct action_result *a, const char *id, bool dry)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->dry_run = dry;
	a->status = dry ? ACT_PLANNED : ACT_OK;
}

void
action_result_clear(struct action_result *a)
{
	for (size_t i = 0; i < a->n_steps; i++) {
		free(a->steps[i].name);
		free(a->steps[i].detail);
	}
	for (size_t i = 0; i < a->n_changes; i++) {
		free(a->changes[i].what);
		free(a->changes[i].before);
		free(a->changes[i].after);
	}
	free(a->steps);
	free(a->changes);
	cJSON_Delete(a->backup);
	if (a->verify != NULL) {
		result_clear(a->verify);
		free(a->verify);
	}
	memset(a, 0, sizeof(*a));
}

struct step *
action_add_step(struct action_result *a, const char *fmt, ...)
{
	struct step *s;
	va_list ap;

	a->steps =
	    xgrow(a->steps, &a->cap_steps, a->n_steps, sizeof(*a->steps));
	s = &a->steps[a->n_steps++];
	memset(s, 0, sizeof(*s));
	va_start(ap, fmt);
	s->name = xvasprintf(fmt, ap);
	va_end(ap);
	s->status = a->dry_run ? STEP_PLANNED : STEP_OK;
	return s;
}

void
step_set_detail(struct step *s, const char *fmt, ...)
{
	va_list ap;

	free(s->detail);
	va_start(ap, fmt);
	s->detail = xvasprintf(fmt, ap);
	va_end(ap);
}

void
action_add_change(struct action_result *a, const char *what, const char *before,
		  const char *after)
{
	struct change *c;

	a->changes = xgrow(a->changes, &a->cap_changes, a->n_changes,
			   sizeof(*a->changes));
	c = &a->changes[a->n_changes++];
	c->what = xstrdup(what);
	c->before = xstrdup_null(before);
	c->after = xstrdup_null(after);
}

/* ---- rendering --------------------------------------------------------- */

static cJSON *
str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

cJSON *
error_to_json(hr_t hr)
{
	const struct error_info *e;
	char code[11];
	cJSON *o;

	if (hr == HR_OK)
		return cJSON_CreateNull();
	e = error_lookup(hr);
	error_format(hr, code);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddItemToObject(o, "name", str_or_null(e ? e->name : NULL));
	cJSON_AddItemToObject(o, "description",
			      str_or_null(e ? e->description : NULL));
	return o;
}

static cJSON *
finding_to_json(const struct finding *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *remedy;

	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "status", status_name(f->status));
	cJSON_AddStringToObject(o, "message", f->message);
	cJSON_AddItemToObject(o, "expected", str_or_null(f->expected));
	cJSON_AddItemToObject(o, "observed", str_or_null(f->observed));
	cJSON_AddItemToObject(o, "error", error_to_json(f->error));
	if (f->remedy_action != NULL || f->remedy_text != NULL) {
		remedy = cJSON_AddObjectToObject(o, "remedy");
		cJSON_AddItemToObject(remedy, "action",
				      str_or_null(f->remedy_action));
		cJSON_AddItemToObject(remedy, "text",
				      str_or_null(f->remedy_text));
	} else {
		cJSON_AddNullToObject(o, "remedy");
	}
	if (f->details != NULL)
		cJSON_AddItemToObject(o, "details",
				      cJSON_Duplicate(f->details, 1));
	return o;
}

cJSON *
result_to_json(const struct check_result *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;

	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "title", r->title);
	cJSON_AddStringToObject(o, "status", status_name(r->status));
	cJSON_AddStringToObject(o, "summary", r->summary ? r->summary : "");
	cJSON_AddNumberToObject(o, "duration_ms", (double)r->duration_ms);
	arr = cJSON_AddArrayToObject(o, "findings");
	for (size_t i = 0; i < r->n_findings; i++)
		cJSON_AddItemToArray(arr, finding_to_json(&r->findings[i]));
	cJSON_AddItemToObject(o, "facts",
			      r->facts ? cJSON_Duplicate(r->facts, 1)
				       : cJSON_CreateObject());
	return o;
}

static cJSON *
step_to_json(const struct step *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "status", step_status_name(s->status));
	cJSON_AddStringToObject(o, "detail", s->detail ? s->detail : "");
	cJSON_AddItemToObject(o, "error", error_to_json(s->error));
	cJSON_AddNumberToObject(o, "duration_ms", (double)s->duration_ms);
	return o;
}

cJSON *
action_result_to_json(const struct action_result *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;

	cJSON_AddStringToObject(o, "id", a->id);
	cJSON_AddStringToObject(o, "status", action_status_name(a->status));
	cJSON_AddBoolToObject(o, "dry_run", a->dry_run);
	arr = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; i < a->n_steps; i++)
		cJSON_AddItemToArray(arr, step_to_json(&a->steps[i]));
	cJSON_AddItemToObject(o, "backup",
			      a->backup ? cJSON_Duplicate(a->backup, 1)
					: cJSON_CreateNull());
	arr = cJSON_AddArrayToObject(o, "changes");
	for (size_t i = 0; i < a->n_changes; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "what", a->changes[i].what);
		cJSON_AddItemToObject(c, "before",
				      str_or_null(a->changes[i].before));
		cJSON_AddItemToObject(c, "after",
				      str_or_null(a->changes[i].after));
		cJSON_AddItemToArray(arr, c);
	}
	cJSON_AddItemToObject(o, "verify",
			      a->verify ? result_to_json(a->verify)
					: cJSON_CreateNull());
	return o;
}
