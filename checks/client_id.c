/*
 * client_id.c: "Check for clients with the same SUSclient ID": the
 * agent's WSUS identity, SusClientId and SusClientIdValidation under
 * HKLM\Software\Microsoft\Windows\CurrentVersion\WindowsUpdate.
 *
 * A clone carries a well-formed id that is also another machine's, which
 * no machine can see on its own; the facts (id, computer name,
 * MachineGuid) let a console that asks every client find them.
 */
#include "checks/registry.h"
#include "checks/svc.h"

#include <ctype.h>
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
