/*
 * client_id.c: "Check for clients with the same SUSclient ID": the
 * agent's WSUS identity, SusClientId and SusClientIdValidation under
 * HKLM\Software\Microsoft\Windows\CurrentVersion\WindowsUpdate.
 *
 * A clone carries a well-formed id that is also another machine's, which
 * no machine can see on its own; the facts (id, computer name,
 * MachineGuid) let a console that asks every client find them.
 *
 * reset-client-id is the article's fix for a clone: stop wuauserv,
 * delete the id, start wuauserv (the agent then makes a new id and its
 * validation value), re-authorize, detect and report. The article names
 * SusClientId; Microsoft's WSUS deployment guide ("Client Requirements",
 * on images that keep the id) deletes SusClientId and
 * SusClientIDValidation, which belong together. The client-id reset
 * scripts administrators use for clones also delete PingID and
 * AccountDomainSid, which the agent writes again when it reports; they
 * identify the old machine to the server too, so they go as well when
 * present. Every value is read and put in backup (type and data,
 * binary as hex) before the first is deleted; a failed delete writes
 * back what was deleted and starts wuauserv again.
 */
#include "checks/registry.h"
#include "checks/detect.h"
#include "checks/svc.h"
#include "checks/svc_steps.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define WU_KEY                                                                 \
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate"

/* The article's steps, with the validation value the agent pairs with
 * the id (it is regenerated with it). */
#define RESET_TEXT                                                             \
	"sc stop wuauserv; delete the SusClientId and SusClientIdValidation "  \
	"values under HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\"      \
	"CurrentVersion\\WindowsUpdate; sc start wuauserv; wuauclt "           \
	"/resetauthorization /detectnow; wuauclt /reportnow"

#define GUID_FORM "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex, no braces)"

/*
 * The agent writes the id as 36 characters, 8-4-4-4-12 hex digits,
 * without the braces of the registry's other GUIDs. Anything else was
 * not written by the agent. Returns the reason it is not one, or NULL.
 */
static const char *
guid_problem(const char *s)
{
	static const size_t dash[] = {8, 13, 18, 23};
	size_t n = strlen(s), d = 0;
	bool nonzero = false;

	if (n == 38 && s[0] == '{' && s[37] == '}')
		return "it has braces, which the agent does not write";
	if (n != 36)
		return "it is not 36 characters long";
	for (size_t i = 0; i < n; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return "its dashes are not at 8-4-4-4-12";
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return "it has characters other than hex digits";
		} else if (s[i] != '0') {
			nonzero = true;
		}
	}
	return nonzero ? NULL : "it is the nil GUID";
}

static void
add_read_error(struct check_result *r, const char *id, const char *name,
	       hr_t hr)
{
	struct finding *f;
	char code[11];

	error_format(hr, code);
	f = result_add(r, id, ST_ERROR, "could not read %s under %s (%s)", name,
		       WU_KEY, code);
	f->error = hr;
}

static void
judge_id(struct check_result *r, hr_t hr, const struct reg_value *v)
{
	struct finding *f;
	const char *why = NULL;

	if (hr != HR_OK && hr != hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		add_read_error(r, "client-id.id", "SusClientId", hr);
		return;
	}
	if (hr != HR_OK) {
		f = result_add(r, "client-id.id", ST_FAIL,
			       "SusClientId is missing: this client has no "
			       "WSUS identity and cannot appear in the WSUS "
			       "console until the agent creates one");
		f->error = hr;
		finding_set_observed(f, "not set");
	} else if (v->type != REGT_SZ || v->str == NULL) {
		f = result_add(r, "client-id.id", ST_FAIL,
			       "SusClientId is not a string (REG_SZ), as the "
			       "agent writes it");
		f->error = hr_from_win32(WIN32_INVALID_DATA);
	} else if ((why = guid_problem(v->str)) != NULL) {
		f = result_add(r, "client-id.id", ST_FAIL,
			       "SusClientId \"%s\" is not a well-formed GUID: "
			       "%s",
			       v->str, why);
		f->error = hr_from_win32(WIN32_INVALID_DATA);
		finding_set_observed(f, "%s", v->str);
	} else {
		f = result_add(r, "client-id.id", ST_PASS,
			       "SusClientId is %s; a clone shares it with "
			       "another machine, which shows only when the "
			       "ids of all clients are compared",
			       v->str);
		finding_set_observed(f, "%s", v->str);
	}
	finding_set_expected(f, GUID_FORM);
	if (f->status != ST_PASS)
		svc_set_remedy(f, "reset-client-id", RESET_TEXT);
}

static void
judge_validation(struct check_result *r, hr_t hr, const struct reg_value *v)
{
	struct finding *f;

	if (hr != HR_OK && hr != hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		add_read_error(r, "client-id.validation",
			       "SusClientIdValidation", hr);
		return;
	}
	if (hr != HR_OK) {
		f = result_add(r, "client-id.validation", ST_FAIL,
			       "SusClientIdValidation is missing: the WSUS "
			       "server cannot validate this client's id");
		f->error = hr;
		finding_set_observed(f, "not set");
	} else if (v->type != REGT_BINARY || v->bin_len == 0) {
		f = result_add(r, "client-id.validation", ST_FAIL,
			       "SusClientIdValidation is not binary data "
			       "(REG_BINARY), as the agent writes it");
		f->error = hr_from_win32(WIN32_INVALID_DATA);
	} else {
		f = result_add(r, "client-id.validation", ST_PASS,
			       "SusClientIdValidation is present (%zu bytes)",
			       v->bin_len);
		finding_set_observed(f, "REG_BINARY, %zu bytes", v->bin_len);
	}
	finding_set_expected(f, "REG_BINARY");
	if (f->status != ST_PASS)
		svc_set_remedy(f, "reset-client-id", RESET_TEXT);
}

static cJSON *
str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* What a console compares across machines to find clones. */
static void
add_facts(struct check_result *r, struct host *h, hr_t id_hr,
	  const struct reg_value *id)
{
	struct computer_info ci = {0};
	hr_t hr;

	cJSON_AddItemToObject(r->facts, "sus_client_id",
			      str_or_null(id_hr == HR_OK && id->type == REGT_SZ
					      ? id->str
					      : NULL));
	hr = h->ops->computer(h, &ci);
	cJSON_AddItemToObject(r->facts, "computer_name",
			      str_or_null(hr == HR_OK ? ci.name : NULL));
	cJSON_AddItemToObject(
	    r->facts, "machine_guid",
	    str_or_null(hr == HR_OK ? ci.machine_guid : NULL));
	/* Not a finding: the id itself was read; only the context is gone. */
	if (hr != HR_OK)
		cJSON_AddItemToObject(r->facts, "computer_error",
				      error_to_json(hr));
	computer_info_clear(&ci);
}

static void
client_id_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct host *h = ctx->host;
	struct reg_value id = {0}, val = {0};
	hr_t id_hr, val_hr;

	id_hr = h->ops->reg_get(h, WU_KEY, "SusClientId", &id);
	val_hr = h->ops->reg_get(h, WU_KEY, "SusClientIdValidation", &val);
	judge_id(r, id_hr, &id);
	judge_validation(r, val_hr, &val);
	add_facts(r, h, id_hr, &id);
	reg_value_clear(&id);
	reg_value_clear(&val);
}

const struct check check_client_id = {
    .id = "client-id",
    .title = "WSUS client id",
    .description =
	"SusClientId is present and a well-formed GUID and "
	"SusClientIdValidation is present. Whether the id is also another "
	"machine's (a cloned image) cannot be known on one machine: "
	"duplicates are found by comparing the facts (sus_client_id, "
	"computer_name, machine_guid) across machines",
    .seed_section = "Check for clients with the same SUSclient ID",
    .time_limit_ms = 5000,
    .run = client_id_run,
};

/* ---- reset-client-id --------------------------------------------------- */

static const char *const id_values[] = {
    "SusClientId",
    "SusClientIdValidation",
    "PingID",
    "AccountDomainSid",
};

#define N_ID_VALUES (sizeof(id_values) / sizeof(id_values[0]))
#define SAVE_STEP   2
#define DELETE_STEP 3 /* the first delete; one per value */

/* What the steps share. */
struct idreset {
	const struct action_ctx *ctx;
	struct action_result *a;
	struct svc_guard wu;
	struct reg_value saved[N_ID_VALUES];
	bool present[N_ID_VALUES];
	bool deleted[N_ID_VALUES]; /* and not written back */
};

static const char *
reg_type_name(enum reg_type t)
{
	switch (t) {
	case REGT_SZ:
		return "REG_SZ";
	case REGT_EXPAND_SZ:
		return "REG_EXPAND_SZ";
	case REGT_BINARY:
		return "REG_BINARY";
	case REGT_DWORD:
		return "REG_DWORD";
	case REGT_MULTI_SZ:
		return "REG_MULTI_SZ";
	case REGT_QWORD:
		return "REG_QWORD";
	default:
		return "REG_NONE";
	}
}

static char *
hex_of(const uint8_t *b, size_t n)
{
	char *hex = xmalloc(n * 2 + 1);

	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[n * 2] = '\0';
	return hex;
}

/* The data as text: strings as they are, binary as hex, numbers in
 * decimal, a multi-string's parts one per line. */
static char *
value_text(const struct reg_value *v)
{
	char *t, *next;

	switch (v->type) {
	case REGT_SZ:
	case REGT_EXPAND_SZ:
		return xstrdup(v->str != NULL ? v->str : "");
	case REGT_BINARY:
		return hex_of(v->bin, v->bin_len);
	case REGT_DWORD:
	case REGT_QWORD:
		return xasprintf("%llu", (unsigned long long)v->num);
	case REGT_MULTI_SZ:
		t = xstrdup("");
		for (size_t i = 0; i < v->multi.n; i++) {
			next = xasprintf("%s%s%s", t, i > 0 ? "\n" : "",
					 v->multi.v[i]);
			free(t);
			t = next;
		}
		return t;
	default:
		return xstrdup("");
	}
}

/* {"type": "REG_SZ", "data": ...}: what reg add would need to put it
 * back. QWORDs above 2^53 are a "0x..." string (JSON numbers are
 * doubles). */
static cJSON *
value_json(const struct reg_value *v)
{
	cJSON *o = cJSON_CreateObject();
	char *t;

	cJSON_AddStringToObject(o, "type", reg_type_name(v->type));
	if (v->type == REGT_DWORD ||
	    (v->type == REGT_QWORD && v->num <= (1ull << 53))) {
		cJSON_AddNumberToObject(o, "data", (double)v->num);
	} else if (v->type == REGT_QWORD) {
		t = xasprintf("0x%llx", (unsigned long long)v->num);
		cJSON_AddStringToObject(o, "data", t);
		free(t);
	} else if (v->type == REGT_MULTI_SZ) {
		cJSON *arr = cJSON_AddArrayToObject(o, "data");

		for (size_t i = 0; i < v->multi.n; i++)
			cJSON_AddItemToArray(arr,
					     cJSON_CreateString(v->multi.v[i]));
	} else {
		t = value_text(v);
		cJSON_AddStringToObject(o, "data", t);
		free(t);
	}
	return o;
}

/* Without the agent nothing would make a new id. */
static hr_t
ir_stop(struct idreset *ir, struct step *s)
{
	return svc_step_stop_to_restart(ir->ctx, &ir->wu, s,
					"makes the new id");
}

static hr_t
ir_wait(struct idreset *ir, struct step *s)
{
	return svc_step_wait_stopped(ir->ctx, &ir->wu, s);
}

/* "SusClientId (REG_SZ), ...", or NULL when none is set. */
static char *
saved_list(const struct idreset *ir)
{
	char *t = NULL, *next;

	for (size_t i = 0; i < N_ID_VALUES; i++) {
		if (!ir->present[i])
			continue;
		next = xasprintf("%s%s%s (%s)", t != NULL ? t : "",
				 t != NULL ? ", " : "", id_values[i],
				 reg_type_name(ir->saved[i].type));
		free(t);
		t = next;
	}
	return t;
}

static void
save_backup(struct idreset *ir)
{
	cJSON *values;

	cJSON_Delete(ir->a->backup);
	ir->a->backup = cJSON_CreateObject();
	cJSON_AddStringToObject(ir->a->backup, "key", WU_KEY);
	values = cJSON_AddObjectToObject(ir->a->backup, "values");
	for (size_t i = 0; i < N_ID_VALUES; i++)
		if (ir->present[i])
			cJSON_AddItemToObject(values, id_values[i],
					      value_json(&ir->saved[i]));
}

/* Read every value before any is deleted. */
static hr_t
ir_save(struct idreset *ir, struct step *s)
{
	struct host *h = ir->ctx->host;
	char code[11], *list;
	hr_t hr;

	for (size_t i = 0; i < N_ID_VALUES; i++) {
		hr = h->ops->reg_get(h, WU_KEY, id_values[i], &ir->saved[i]);
		if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND))
			continue;
		if (hr != HR_OK) {
			error_format(hr, code);
			step_set_detail(s,
					"could not read %s under %s (%s); "
					"nothing was deleted",
					id_values[i], WU_KEY, code);
			return hr;
		}
		ir->present[i] = true;
	}
	if ((list = saved_list(ir)) == NULL) {
		s->status = STEP_SKIPPED;
		step_set_detail(s, "none of the values is set under %s",
				WU_KEY);
		return HR_OK;
	}
	if (ir->ctx->dry_run) {
		step_set_detail(s, "would save %s", list);
	} else {
		save_backup(ir);
		step_set_detail(s, "saved %s in backup.values", list);
	}
	free(list);
	return HR_OK;
}

static hr_t
ir_delete(struct idreset *ir, struct step *s, size_t i)
{
	struct host *h = ir->ctx->host;
	const char *name = id_values[i];
	char code[11];
	hr_t hr;

	if (!ir->present[i]) {
		s->status = STEP_SKIPPED;
		step_set_detail(s, "%s is not set", name);
		return HR_OK;
	}
	if (ir->ctx->dry_run) {
		step_set_detail(s, "would delete %s under %s", name, WU_KEY);
		return HR_OK;
	}
	hr = h->ops->reg_delete_value(h, WU_KEY, name);
	if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		step_set_detail(s, "%s was already gone", name);
		return HR_OK;
	}
	if (hr != HR_OK) {
		error_format(hr, code);
		step_set_detail(s, "could not delete %s under %s (%s)", name,
				WU_KEY, code);
		return hr;
	}
	ir->deleted[i] = true;
	step_set_detail(s, "deleted; the old value is in backup.values.%s",
			name);
	return HR_OK;
}

static hr_t
ir_start(struct idreset *ir, struct step *s)
{
	return svc_step_start(ir->ctx, &ir->wu, s, false);
}

static hr_t
ir_wait_run(struct idreset *ir, struct step *s)
{
	return svc_step_wait_running(ir->ctx, &ir->wu, s);
}

static const char *const reset_client_id_steps[] = {
    "stop wuauserv",
    "wait for wuauserv to stop",
    "save the client id values",
    "delete SusClientId",
    "delete SusClientIdValidation",
    "delete PingID",
    "delete AccountDomainSid",
    "start wuauserv",
    "wait for wuauserv to run",
    "IAutomaticUpdates::DetectNow",
    "wuauclt /resetauthorization /detectnow (Windows 7 and 8.x, when the "
    "API fails)",
    "wuauclt /reportnow (Windows 7 and 8.x, when the API fails)",
    "UsoClient StartScan (Windows 10 and later, when the API fails)",
    NULL,
};

#define N_IR_STEPS (DELETE_STEP + N_ID_VALUES + 2)

static hr_t
ir_step(struct idreset *ir, size_t i, struct step *s)
{
	switch (i) {
	case 0:
		return ir_stop(ir, s);
	case 1:
		return ir_wait(ir, s);
	case SAVE_STEP:
		return ir_save(ir, s);
	case N_IR_STEPS - 2:
		return ir_start(ir, s);
	case N_IR_STEPS - 1:
		return ir_wait_run(ir, s);
	default:
		return ir_delete(ir, s, i - DELETE_STEP);
	}
}

/* Write back what was deleted, newest first. */
static void
restore_values(struct idreset *ir)
{
	struct host *h = ir->ctx->host;
	struct step *s;
	uint64_t t0;
	char code[11];
	hr_t hr;

	for (size_t i = N_ID_VALUES; i-- > 0;) {
		if (!ir->deleted[i])
			continue;
		s = action_add_step(ir->a, "restore %s", id_values[i]);
		t0 = plat_now_ms();
		hr = h->ops->reg_set(h, WU_KEY, id_values[i], &ir->saved[i]);
		s->duration_ms = plat_now_ms() - t0;
		if (hr == HR_OK) {
			ir->deleted[i] = false;
			s->status = STEP_UNDONE;
			step_set_detail(s, "%s is back (%s, from backup)",
					id_values[i],
					reg_type_name(ir->saved[i].type));
			continue;
		}
		error_format(hr, code);
		s->status = STEP_FAILED;
		s->error = hr;
		step_set_detail(s,
				"could not write %s back (%s): its value is "
				"in backup.values.%s",
				id_values[i], code, id_values[i]);
	}
}

static void
ir_record(struct idreset *ir)
{
	char *what, *before;

	for (size_t i = 0; i < N_ID_VALUES; i++) {
		if (!(ir->deleted[i] || (ir->ctx->dry_run && ir->present[i])))
			continue;
		what = xasprintf("%s\\%s", WU_KEY, id_values[i]);
		before = value_text(&ir->saved[i]);
		action_add_change(ir->a, what, before, NULL);
		free(what);
		free(before);
	}
	svc_record_state(ir->ctx, &ir->wu, ir->a);
}

static void
reset_client_id_run(const struct action_ctx *ctx, struct action_result *a)
{
	struct idreset ir = {.ctx = ctx, .a = a};
	hr_t hr = HR_OK;

	svc_guard_read(ctx, &ir.wu, "wuauserv", "demand");
	for (size_t i = 0; i < N_IR_STEPS && hr == HR_OK; i++) {
		struct step *s =
		    action_add_step(a, "%s", reset_client_id_steps[i]);
		uint64_t t0 = plat_now_ms();

		hr = ir_step(&ir, i, s);
		s->duration_ms = plat_now_ms() - t0;
		if (hr != HR_OK) {
			s->status = STEP_FAILED;
			s->error = hr;
			a->status = ACT_FAILED;
			restore_values(&ir);
			svc_undo_stop(ctx, &ir.wu, a);
		}
	}
	/* The new id stands when only the request to report fails: the
	 * agent reports on its own schedule. */
	if (hr == HR_OK && detect_steps(ctx, a, true) != HR_OK)
		a->status = ACT_FAILED;
	ir_record(&ir);
	for (size_t i = 0; i < N_ID_VALUES; i++)
		reg_value_clear(&ir.saved[i]);
}

static const char *const reset_client_id_locks[] = {"wuauserv", NULL};

const struct action action_reset_client_id = {
    .id = "reset-client-id",
    .title = "Reset the WSUS client id",
    .description =
	"The article's fix for clients with the same SusClientId: stop "
	"wuauserv, save then delete SusClientId and SusClientIdValidation "
	"(and PingID and AccountDomainSid when set) under "
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate, "
	"start wuauserv (the agent makes a new id), then make it "
	"re-authorize, detect and report. The saved values (type and data, "
	"binary as hex) are in backup.values; a failed delete writes back "
	"what was deleted and starts wuauserv again",
    .target = "client-id",
    .also_locks = reset_client_id_locks,
    .steps = reset_client_id_steps,
    .changes = "the values SusClientId, SusClientIdValidation, PingID and "
	       "AccountDomainSid are deleted (saved in backup); the agent "
	       "writes a new id when wuauserv starts",
    .verify_check = "client-id",
    .run = reset_client_id_run,
};
