/*
 * test_action_repair_bits.c: repair-bits on simulated hosts made from
 * the broken-bits*.json examples (each test works on its own copy in
 * memory): the bits check fails, the repair sets exactly what differs
 * and keeps the old values in backup, the check passes; a dry run
 * changes nothing; a fault at each step rolls back what was changed;
 * ERROR_INVALID_LEVEL from the service manager skips a field honestly.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "checks/registry.h"
#include "checks/result.h"
#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/host_sim.h"

#define DLL_KEY "HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters"
#define SVCHOST_KEY                                                            \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"

/* The field steps in the action's order, with what a fault names. */
static const struct {
	const char *step;      /* "set " + this */
	const char *config_op; /* fault.config_ops key, or NULL */
	const char *reg_key;   /* fault.registry_write_keys key, or NULL */
} field_steps[] = {
    {"binary path", "binary_path", NULL},
    {"dependencies", "dependencies", NULL},
    {"start type", "start_type", NULL},
    {"delayed auto start", "delayed_auto_start", NULL},
    {"service type", "type", NULL},
    {"error control", "error_control", NULL},
    {"account", "account", NULL},
    {"required privileges", "required_privileges", NULL},
    {"SID type", "sid_type", NULL},
    {"failure actions", "failure_actions", NULL},
    {"ServiceDll", NULL, DLL_KEY},
    {"netsvcs membership", NULL, SVCHOST_KEY},
};
#define N_FIELDS (sizeof(field_steps) / sizeof(field_steps[0]))

static const char *const restart_names[] = {
    "stop BITS", "wait for BITS to stop", "start BITS", "wait for BITS to run"};

/* ---- hosts --------------------------------------------------------------- */

static cJSON *
bits_of(cJSON *doc)
{
	return fx_service_of(doc, "BITS");
}

static cJSON *
obj(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItem(parent, key);

	if (o == NULL)
		o = cJSON_AddObjectToObject(parent, key);
	return o;
}

/* services.BITS.fault.KEY, or .config_ops.OP when op is set. */
static void
svc_fault(cJSON *doc, const char *key, const char *op, double code)
{
	cJSON *f = obj(bits_of(doc), "fault");

	if (op != NULL)
		fx_set_num(obj(f, "config_ops"), op, code);
	else if (strncmp(key, "hang_", 5) == 0)
		cJSON_AddBoolToObject(f, key, code != 0);
	else
		fx_set_num(f, key, code);
}

static void
reg_key_fault(cJSON *doc, const char *key, double code)
{
	fx_set_num(obj(obj(doc, "fault"), "registry_write_keys"), key, code);
}

/* ---- reading the host back ----------------------------------------------- */

static void
add_hr(cJSON *o, const char *key, hr_t hr)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%08X", hr);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *
list_json(const struct strlist *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

static void
add_reg(struct host *h, cJSON *o, const char *name, const char *key,
	const char *value)
{
	struct reg_value v = {0};
	hr_t hr = h->ops->reg_get(h, key, value, &v);
	cJSON *r = cJSON_AddObjectToObject(o, name);

	add_hr(r, "hr", hr);
	cJSON_AddNumberToObject(r, "type", v.type);
	if (v.str != NULL)
		cJSON_AddStringToObject(r, "str", v.str);
	cJSON_AddItemToObject(r, "multi", list_json(&v.multi));
	reg_value_clear(&v);
}

static void
add_config(struct host *h, cJSON *o)
{
	struct svc_config c = {0};

	add_hr(o, "config_hr", h->ops->service_config(h, "BITS", &c));
	cJSON_AddNumberToObject(o, "type", c.type);
	cJSON_AddNumberToObject(o, "start_type", c.start_type);
	cJSON_AddNumberToObject(o, "error_control", c.error_control);
	cJSON_AddStringToObject(o, "binary_path",
				c.binary_path ? c.binary_path : "");
	cJSON_AddStringToObject(o, "account", c.account ? c.account : "");
	cJSON_AddItemToObject(o, "dependencies", list_json(&c.dependencies));
	svc_config_clear(&c);
}

static void
add_config2(struct host *h, cJSON *o)
{
	struct svc_failure_actions fa = {0};
	struct strlist privs = {0};
	enum svc_sid_type sid = SVC_SID_NONE;
	bool delayed = false;
	cJSON *acts;

	add_hr(o, "delayed_hr",
	       h->ops->service_delayed_auto(h, "BITS", &delayed));
	cJSON_AddBoolToObject(o, "delayed", delayed);
	add_hr(o, "privs_hr", h->ops->service_privileges(h, "BITS", &privs));
	cJSON_AddItemToObject(o, "privs", list_json(&privs));
	add_hr(o, "sid_hr", h->ops->service_sid_type(h, "BITS", &sid));
	cJSON_AddNumberToObject(o, "sid", sid);
	add_hr(o, "fa_hr", h->ops->service_failure_actions(h, "BITS", &fa));
	cJSON_AddNumberToObject(o, "reset_s", fa.reset_s);
	acts = cJSON_AddArrayToObject(o, "actions");
	for (size_t i = 0; i < fa.n; i++) {
		cJSON_AddItemToArray(acts,
				     cJSON_CreateNumber(fa.actions[i].type));
		cJSON_AddItemToArray(
		    acts, cJSON_CreateNumber(fa.actions[i].delay_ms));
	}
	strlist_clear(&privs);
	svc_failure_actions_clear(&fa);
}

/* Everything repair-bits may change, as the host reports it. */
static cJSON *
bits_state(struct host *h)
{
	cJSON *o = cJSON_CreateObject();
	struct svc_status st = {0};

	add_hr(o, "status_hr", h->ops->service_status(h, "BITS", &st));
	cJSON_AddNumberToObject(o, "state", st.state);
	add_config(h, o);
	add_config2(h, o);
	add_reg(h, o, "ServiceDll", DLL_KEY, "ServiceDll");
	add_reg(h, o, "netsvcs", SVCHOST_KEY, "netsvcs");
	return o;
}

static void
assert_same_state(cJSON *before, struct host *h)
{
	cJSON *after = bits_state(h);
	char *a = cJSON_PrintUnformatted(before),
	     *b = cJSON_PrintUnformatted(after);

	cr_assert(cJSON_Compare(before, after, 1),
		  "BITS was not restored:\nbefore %s\nafter  %s", a, b);
	free(a);
	free(b);
	cJSON_Delete(after);
}

static enum svc_state
bits_run_state(struct host *h)
{
	return fx_service_state(h, "BITS");
}

/* ---- running ------------------------------------------------------------- */

static void
repair(struct host *h, bool dry, struct action_result *a)
{
	fx_run_action(&action_repair_bits, h, dry, a);
}

static void
check(struct host *h, struct check_result *r)
{
	struct check_ctx ctx = {.host = h, .settings = &fx_short_waits};

	check_run(&check_bits, &ctx, r);
}

static const struct finding *
finding(const struct check_result *r, const char *id)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->findings[i].id, id) == 0)
			return &r->findings[i];
	cr_assert_fail("no finding %s", id);
	return NULL;
}

/* The non-passing findings, for a message. */
static char *
not_passing(const struct check_result *r)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < r->n_findings; i++) {
		if (r->findings[i].status == ST_PASS)
			continue;
		t = xasprintf("%s %s(%s): %s;", s, r->findings[i].id,
			      status_name(r->findings[i].status),
			      r->findings[i].message);
		free(s);
		s = t;
	}
	return s;
}

static void
assert_check(struct host *h, enum status want)
{
	struct check_result r;
	char *why;

	check(h, &r);
	why = not_passing(&r);
	cr_assert_eq(r.status, want, "bits is %s, not %s:%s",
		     status_name(r.status), status_name(want), why);
	free(why);
	result_clear(&r);
}

static char *
steps_text(const struct action_result *a)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < a->n_steps; i++) {
		t = xasprintf("%s\n  [%s] %s: %s", s,
			      step_status_name(a->steps[i].status),
			      a->steps[i].name,
			      a->steps[i].detail ? a->steps[i].detail : "");
		free(s);
		s = t;
	}
	return s;
}

static void
assert_step(const struct action_result *a, size_t i, const char *name,
	    enum step_status want, hr_t err)
{
	char *all = steps_text(a);

	cr_assert_lt(i, a->n_steps, "no step %zu:%s", i, all);
	cr_assert_str_eq(a->steps[i].name, name, "step %zu:%s", i, all);
	cr_assert_eq(a->steps[i].status, want, "step %zu is %s:%s", i,
		     step_status_name(a->steps[i].status), all);
	cr_assert_eq(a->steps[i].error, err, "step %zu error 0x%08X:%s", i,
		     a->steps[i].error, all);
	free(all);
}

static void
assert_set_step(const struct action_result *a, size_t i, const char *field,
		enum step_status want, hr_t err)
{
	char *name = xasprintf("set %s", field);

	assert_step(a, i, name, want, err);
	free(name);
}

static void
assert_restore_step(const struct action_result *a, size_t i, const char *field,
		    enum step_status want, hr_t err)
{
	char *name = xasprintf("restore %s", field);

	assert_step(a, i, name, want, err);
	free(name);
}

static const struct change *
change_of(const struct action_result *a, const char *what)
{
	for (size_t i = 0; i < a->n_changes; i++)
		if (strcmp(a->changes[i].what, what) == 0)
			return &a->changes[i];
	cr_assert_fail("no change of %s", what);
	return NULL;
}

/* backup.fields.KEY.value */
static const cJSON *
backup_value(const struct action_result *a, const char *key)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(a->backup, "fields"), key);

	cr_assert_not_null(f, "backup has no field %s", key);
	return cJSON_GetObjectItemCaseSensitive(f, "value");
}

static bool
json_eq_text(const cJSON *v, const char *json)
{
	cJSON *want = cJSON_Parse(json);
	bool eq;

	cr_assert_not_null(want, "bad test JSON %s", json);
	eq = cJSON_Compare(v, want, 1);
	cJSON_Delete(want);
	return eq;
}

/* ---- the descriptor ------------------------------------------------------ */

Test(repair_bits, descriptor)
{
	cr_assert_eq(action_find("repair-bits"), &action_repair_bits);
	cr_assert_str_eq(action_repair_bits.target, "bits");
	cr_assert_str_eq(action_repair_bits.verify_check, "bits");
	cr_assert_str_eq(action_repair_bits.steps[0],
			 "snapshot the BITS configuration");
	for (size_t i = 0; i < N_FIELDS; i++) {
		char *name = xasprintf("set %s", field_steps[i].step);

		cr_assert_str_eq(action_repair_bits.steps[1 + i], name);
		free(name);
	}
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(action_repair_bits.steps[1 + N_FIELDS + i],
				 restart_names[i]);
	cr_assert_null(action_repair_bits.steps[1 + N_FIELDS + 4]);
	/* Catalogue order: right after restart-bits. */
	cr_assert_eq(action_table[0], &action_restart_bits);
	cr_assert_eq(action_table[1], &action_repair_bits);
}

/* ---- each broken example: check fails, repair, check passes -------------- */

struct example {
	const char *file;
	enum status before;		  /* the bits check before the repair */
	bool running;			  /* BITS before the repair */
	const char *fields[N_FIELDS + 1]; /* the set steps, in order */
	const char *backup_key;		  /* one old value kept */
	const char *backup_json;
};

static const struct example examples[] = {
    {"broken-bits.json",
     ST_FAIL,
     false,
     {"account", NULL},
     "account",
     "\"NT AUTHORITY\\\\LocalService\""},
    {"broken-bits-disabled.json",
     ST_FAIL,
     false,
     {"start type", "delayed auto start", NULL},
     "start_type",
     "\"disabled\""},
    {"broken-bits-not-in-netsvcs.json",
     ST_FAIL,
     false,
     {"netsvcs membership", NULL},
     "netsvcs",
     NULL},
    {"broken-bits-servicedll-missing.json",
     ST_FAIL,
     false,
     {"ServiceDll", NULL},
     "ServiceDll",
     "null"},
    {"broken-bits-dependency-missing.json",
     ST_FAIL,
     false,
     {"dependencies", NULL},
     "dependencies",
     "[\"RpcSs\",\"EventSystem\",\"Wmi\"]"},
    {"broken-bits-baseline.json",
     ST_WARN,
     true,
     {"SID type", "failure actions", NULL},
     "failure_actions",
     "{\"reset_s\":0,\"actions\":[]}"},
    {"broken-bits-config.json",
     ST_FAIL,
     false,
     {"binary path", "dependencies", "start type", "delayed auto start",
      "service type", "error control", "account", "required privileges",
      "SID type", "failure actions", "ServiceDll", "netsvcs membership", NULL},
     "binary_path",
     "\"%systemroot%\\\\system32\\\\svchost.exe \\u2013k netsvcs\""},
};

static void
repair_example(const struct example *ex)
{
	struct host *h = fx_open_example(ex->file);
	struct action_result a;
	size_t n = 0;

	assert_check(h, ex->before);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_OK, "%s: %s", ex->file, steps_text(&a));
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_OK, 0);
	while (ex->fields[n] != NULL) {
		assert_set_step(&a, 1 + n, ex->fields[n], STEP_OK, 0);
		n++;
	}
	/* A stopped BITS has nothing to stop. */
	for (size_t i = 0; i < 4; i++)
		assert_step(&a, 1 + n + i, restart_names[i],
			    i < 2 && !ex->running ? STEP_SKIPPED : STEP_OK, 0);
	cr_assert_eq(a.n_steps, 1 + n + 4, "%s: %s", ex->file, steps_text(&a));
	/* One change per field, and the state when BITS was stopped. */
	cr_assert_geq(a.n_changes, n);
	if (ex->backup_json != NULL)
		cr_assert(
		    json_eq_text(backup_value(&a, ex->backup_key),
				 ex->backup_json),
		    "%s: backup.%s is %s", ex->file, ex->backup_key,
		    cJSON_PrintUnformatted(backup_value(&a, ex->backup_key)));
	cr_assert_eq(bits_run_state(h), SVC_RUNNING);
	assert_check(h, ST_PASS);
	action_result_clear(&a);
	host_close(h);
}

Test(repair_bits, every_broken_example_is_repaired)
{
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++)
		repair_example(&examples[i]);
}

Test(repair_bits, changes_and_backup_of_a_corrupted_configuration)
{
	struct host *h = fx_open_example("broken-bits-config.json");
	struct action_result a;
	const struct change *c;
	const cJSON *v;

	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_OK, "%s", steps_text(&a));
	c = change_of(&a, "BITS binary path");
	cr_assert_str_eq(c->before,
			 "%systemroot%\\system32\\svchost.exe \xe2\x80\x93k "
			 "netsvcs");
	cr_assert_str_eq(c->after,
			 "%SystemRoot%\\System32\\svchost.exe -k netsvcs");
	c = change_of(&a, "BITS service type");
	cr_assert_str_eq(c->before, "own|interactive");
	cr_assert_str_eq(c->after, "share");
	c = change_of(&a, "BITS account");
	cr_assert_str_eq(c->before, "NT AUTHORITY\\LocalService");
	cr_assert_str_eq(c->after, "LocalSystem");
	c = change_of(&a, "BITS required privileges");
	cr_assert_not_null(strstr(c->before, "SeIncreateQuotaPrivilege"));
	cr_assert_str_eq(c->after,
			 "[\"SeCreateGlobalPrivilege\",\"SeImpersonatePrivilege"
			 "\",\"SeTcbPrivilege\",\"SeAssignPrimaryTokenPrivilege"
			 "\",\"SeIncreaseQuotaPrivilege\"]");
	c = change_of(&a, "BITS failure actions");
	cr_assert_str_eq(c->after, "{\"reset_s\":86400,\"actions\":[\"restart/"
				   "60000\",\"restart/120000\"]}");
	c = change_of(&a, DLL_KEY "\\ServiceDll");
	cr_assert_str_eq(c->before,
			 "{\"type\":\"REG_SZ\",\"data\":\"C:\\\\Windows\\\\"
			 "System32\\\\qmgr.dll\"}");
	cr_assert_str_eq(c->after, "{\"type\":\"REG_EXPAND_SZ\",\"data\":"
				   "\"%SystemRoot%\\\\System32\\\\qmgr.dll\"}");
	c = change_of(&a, "BITS state");
	cr_assert_str_eq(c->before, "stopped");
	cr_assert_str_eq(c->after, "running");
	cr_assert_eq(a.n_changes, N_FIELDS + 1);
	/* The backup names where registry values live. */
	v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(a.backup, "fields"), "netsvcs");
	cr_assert_str_eq(cJSON_GetObjectItem(v, "key")->valuestring,
			 SVCHOST_KEY);
	v = cJSON_GetObjectItem(backup_value(&a, "netsvcs"), "data");
	cr_assert(cJSON_IsArray(v));
	cr_assert_eq(cJSON_GetArraySize(v), 24);
	cr_assert_str_eq(cJSON_GetObjectItem(a.backup, "state")->valuestring,
			 "stopped");
	action_result_clear(&a);
	host_close(h);
}

/* netsvcs keeps every other name and gains BITS at its end. */
Test(repair_bits, netsvcs_keeps_every_other_entry)
{
	struct host *h = fx_open_example("broken-bits-not-in-netsvcs.json");
	struct reg_value before = {0}, after = {0};
	struct action_result a;

	cr_assert_eq(h->ops->reg_get(h, SVCHOST_KEY, "netsvcs", &before),
		     HR_OK);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_OK, "%s", steps_text(&a));
	cr_assert_eq(h->ops->reg_get(h, SVCHOST_KEY, "netsvcs", &after), HR_OK);
	cr_assert_eq(after.type, REGT_MULTI_SZ);
	cr_assert_eq(after.multi.n, before.multi.n + 1);
	for (size_t i = 0; i < before.multi.n; i++)
		cr_assert_str_eq(after.multi.v[i], before.multi.v[i]);
	cr_assert_str_eq(after.multi.v[before.multi.n], "BITS");
	reg_value_clear(&before);
	reg_value_clear(&after);
	action_result_clear(&a);
	host_close(h);
}

/* What the repair cannot fix, it says, and changes nothing. */
Test(repair_bits, a_disabled_dependency_fails_the_start)
{
	struct host *h =
	    fx_open_example("broken-bits-dependency-disabled.json");
	cJSON *before = bits_state(h);
	struct action_result a;

	assert_check(h, ST_FAIL);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_OK, 0);
	assert_step(&a, 1, "stop BITS", STEP_SKIPPED, 0);
	assert_step(&a, 2, "wait for BITS to stop", STEP_SKIPPED, 0);
	assert_step(&a, 3, "start BITS", STEP_FAILED, 0x8007042Cu);
	cr_assert_eq(a.n_steps, 4, "%s", steps_text(&a));
	cr_assert_eq(a.n_changes, 0);
	assert_same_state(before, h);
	cJSON_Delete(before);
	action_result_clear(&a);
	host_close(h);
}

/* A dependency Windows lacks is not added: BITS could not start. */
Test(repair_bits, a_dependency_this_machine_lacks_is_left_out)
{
	cJSON *doc = fx_load_example("healthy.json");
	struct svc_config c = {0};
	struct action_result a;
	struct host *h;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "services"),
				   "EventSystem");
	cJSON_ReplaceItemInObject(bits_of(doc), "state",
				  cJSON_CreateString("stopped"));
	h = fx_open_doc(doc);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_OK, "%s", steps_text(&a));
	cr_assert_not_null(
	    strstr(a.steps[0].detail, "EventSystem is not installed here"),
	    "%s", a.steps[0].detail);
	assert_set_step(&a, 1, "dependencies", STEP_OK, 0);
	cr_assert_str_eq(change_of(&a, "BITS dependencies")->before,
			 "[\"RpcSs\",\"EventSystem\"]");
	cr_assert_str_eq(change_of(&a, "BITS dependencies")->after,
			 "[\"RpcSs\"]");
	cr_assert_eq(h->ops->service_config(h, "BITS", &c), HR_OK);
	cr_assert_eq(c.dependencies.n, 1);
	cr_assert_str_eq(c.dependencies.v[0], "RpcSs");
	cr_assert_eq(bits_run_state(h), SVC_RUNNING);
	svc_config_clear(&c);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

Test(repair_bits, a_missing_service_is_not_created)
{
	struct host *h = fx_open_example("broken-bits-missing.json");
	struct action_result a;

	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_FAILED,
		    0x80070424u);
	cr_assert_not_null(strstr(a.steps[0].detail, "does not exist"));
	cr_assert_eq(a.n_steps, 1);
	cr_assert_eq(a.n_changes, 0);
	action_result_clear(&a);
	host_close(h);
}

/* ---- dry runs and a healthy BITS ----------------------------------------- */

Test(repair_bits, dry_run_plans_every_step_and_changes_nothing)
{
	struct host *h = fx_open_example("broken-bits-config.json");
	cJSON *before = host_sim_snapshot(h), *after;
	struct action_result a;

	repair(h, true, &a);
	after = host_sim_snapshot(h);
	cr_assert(cJSON_Compare(before, after, 1),
		  "the dry run changed the host");
	cr_assert_eq(a.status, ACT_PLANNED, "%s", steps_text(&a));
	cr_assert(a.dry_run);
	cr_assert_eq(a.n_steps, 1 + N_FIELDS + 4, "%s", steps_text(&a));
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_PLANNED, 0);
	for (size_t i = 0; i < N_FIELDS; i++) {
		assert_set_step(&a, 1 + i, field_steps[i].step, STEP_PLANNED,
				0);
		cr_assert_not_null(strstr(a.steps[1 + i].detail, "would"));
	}
	/* Stopped BITS: nothing to stop, then started. */
	assert_step(&a, 13, "stop BITS", STEP_SKIPPED, 0);
	assert_step(&a, 14, "wait for BITS to stop", STEP_SKIPPED, 0);
	assert_step(&a, 15, "start BITS", STEP_PLANNED, 0);
	assert_step(&a, 16, "wait for BITS to run", STEP_PLANNED, 0);
	/* The same changes a real run makes, less the state. */
	cr_assert_eq(a.n_changes, N_FIELDS);
	cr_assert_str_eq(change_of(&a, "BITS account")->after, "LocalSystem");
	cr_assert_str_eq(change_of(&a, "BITS start type")->before, "demand");
	cr_assert_not_null(a.backup);
	cJSON_Delete(before);
	cJSON_Delete(after);
	action_result_clear(&a);
	host_close(h);
}

/* A disabled BITS: the plan enables it, so the start is not refused. */
Test(repair_bits, dry_run_of_a_disabled_bits_plans_the_start)
{
	struct host *h = fx_open_example("broken-bits-disabled.json");
	cJSON *before = host_sim_snapshot(h), *after;
	struct action_result a;

	repair(h, true, &a);
	after = host_sim_snapshot(h);
	cr_assert(cJSON_Compare(before, after, 1));
	cr_assert_eq(a.status, ACT_PLANNED, "%s", steps_text(&a));
	assert_set_step(&a, 1, "start type", STEP_PLANNED, 0);
	assert_set_step(&a, 2, "delayed auto start", STEP_PLANNED, 0);
	assert_step(&a, 5, "start BITS", STEP_PLANNED, 0);
	cr_assert_str_eq(change_of(&a, "BITS start type")->before, "disabled");
	cr_assert_str_eq(change_of(&a, "BITS start type")->after, "auto");
	cJSON_Delete(before);
	cJSON_Delete(after);
	action_result_clear(&a);
	host_close(h);
}

Test(repair_bits, healthy_running_bits_is_left_alone)
{
	struct host *h = fx_open_example("healthy.json");
	cJSON *before = host_sim_snapshot(h), *after;
	struct action_result a;

	repair(h, false, &a);
	after = host_sim_snapshot(h);
	cr_assert_eq(a.status, ACT_OK, "%s", steps_text(&a));
	cr_assert_eq(a.n_steps, 5, "%s", steps_text(&a));
	for (size_t i = 0; i < 4; i++) {
		assert_step(&a, 1 + i, restart_names[i], STEP_SKIPPED, 0);
		cr_assert_not_null(
		    strstr(a.steps[1 + i].detail, "nothing was changed"));
	}
	cr_assert_eq(a.n_changes, 0);
	/* "-k netsvcs -p" is netsvcs: not rewritten. */
	cr_assert(cJSON_Compare(before, after, 1), "a healthy BITS changed");
	cJSON_Delete(before);
	cJSON_Delete(after);
	action_result_clear(&a);
	host_close(h);
}

/* ---- a fault at each step ------------------------------------------------ */

/* Fail field k of broken-bits-config.json with access denied. */
static void
fault_at_field(size_t k)
{
	cJSON *doc = fx_load_example("broken-bits-config.json");
	struct action_result a;
	struct host *h;
	cJSON *before;

	if (field_steps[k].config_op != NULL)
		svc_fault(doc, NULL, field_steps[k].config_op, 5);
	else
		reg_key_fault(doc, field_steps[k].reg_key, 5);
	h = fx_open_doc(doc);
	before = bits_state(h);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED, "field %s", field_steps[k].step);
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_OK, 0);
	for (size_t i = 0; i < k; i++)
		assert_set_step(&a, 1 + i, field_steps[i].step, STEP_OK, 0);
	assert_set_step(&a, 1 + k, field_steps[k].step, STEP_FAILED,
			0x80070005u);
	cr_assert_not_null(strstr(a.steps[1 + k].detail, "0x80070005"));
	/* Each change undone, the last first; BITS was never stopped. */
	for (size_t i = 0; i < k; i++)
		assert_restore_step(&a, 2 + k + i, field_steps[k - 1 - i].step,
				    STEP_UNDONE, 0);
	cr_assert_eq(a.n_steps, 2 + 2 * k, "%s", steps_text(&a));
	cr_assert_eq(a.n_changes, k);
	assert_same_state(before, h);
	cJSON_Delete(before);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

Test(repair_bits, fault_at_each_field_rolls_back)
{
	for (size_t k = 0; k < N_FIELDS; k++)
		fault_at_field(k);
}

Test(repair_bits, snapshot_fault_changes_nothing)
{
	cJSON *doc = fx_load_example("broken-bits.json");
	struct action_result a;
	struct host *h;
	cJSON *before, *after;

	svc_fault(doc, "query", NULL, 5);
	h = fx_open_doc(doc);
	before = host_sim_snapshot(h);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_FAILED,
		    0x80070005u);
	cr_assert_eq(a.n_steps, 1);
	after = host_sim_snapshot(h);
	cr_assert(cJSON_Compare(before, after, 1));
	cJSON_Delete(before);
	cJSON_Delete(after);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* netsvcs that cannot be read as a list is not rewritten. */
Test(repair_bits, unreadable_or_odd_netsvcs_changes_nothing)
{
	cJSON *doc = fx_load_example("broken-bits-config.json");
	cJSON *key = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"),
					 SVCHOST_KEY);
	struct action_result a;
	struct host *h;

	cJSON_DeleteItemFromObject(key, "netsvcs");
	cJSON_AddStringToObject(key, "netsvcs", "wuauserv");
	h = fx_open_doc(doc);
	repair(h, false, &a);
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_FAILED,
		    0x8007000Du);
	cr_assert_not_null(strstr(a.steps[0].detail, "REG_SZ"));
	cr_assert_eq(a.n_steps, 1);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);

	doc = fx_load_example("broken-bits-config.json");
	fx_set_num(obj(doc, "fault"), "registry_read", 5);
	h = fx_open_doc(doc);
	repair(h, false, &a);
	assert_step(&a, 0, "snapshot the BITS configuration", STEP_FAILED,
		    0x80070005u);
	cr_assert_eq(a.n_steps, 1);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/*
 * A fault in the restart of a running BITS (broken-bits-baseline.json:
 * SID type and failure actions differ): both fields are restored.
 */
static void
restart_fault(const char *key, double code, size_t failing, hr_t err,
	      enum step_status again, hr_t again_err)
{
	cJSON *doc = fx_load_example("broken-bits-baseline.json");
	struct action_result a;
	struct host *h;
	cJSON *before;
	size_t n;

	svc_fault(doc, key, NULL, code);
	h = fx_open_doc(doc);
	before = bits_state(h);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED, "%s", steps_text(&a));
	assert_set_step(&a, 1, "SID type", STEP_OK, 0);
	assert_set_step(&a, 2, "failure actions", STEP_OK, 0);
	for (size_t i = 0; i < failing; i++)
		assert_step(&a, 3 + i, restart_names[i], STEP_OK, 0);
	assert_step(&a, 3 + failing, restart_names[failing], STEP_FAILED, err);
	n = 4 + failing;
	assert_restore_step(&a, n, "failure actions", STEP_UNDONE, 0);
	assert_restore_step(&a, n + 1, "SID type", STEP_UNDONE, 0);
	if (failing == 0) {
		/* Never stopped: nothing to start again. */
		cr_assert_eq(a.n_steps, n + 2, "%s", steps_text(&a));
		cr_assert_eq(bits_run_state(h), SVC_RUNNING);
		assert_same_state(before, h);
	} else {
		assert_step(&a, n + 2, "start BITS again", again, again_err);
		cr_assert_eq(a.n_steps, n + 3, "%s", steps_text(&a));
	}
	cJSON_Delete(before);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

Test(repair_bits, stop_fault_rolls_back_and_leaves_bits_running)
{
	restart_fault("stop", 5, 0, 0x80070005u, STEP_OK, 0);
}

Test(repair_bits, hung_stop_rolls_back_and_says_bits_is_stuck)
{
	/* A stop cannot be withdrawn: BITS stays STOP_PENDING. */
	restart_fault("hang_stop", 1, 1, 0x8007041Du, STEP_FAILED, 0x8007041Du);
}

Test(repair_bits, start_fault_rolls_back_and_tries_to_start_again)
{
	/* The fault stays, so the second start fails the same way. */
	restart_fault("start", 5, 2, 0x80070005u, STEP_FAILED, 0x80070005u);
}

Test(repair_bits, hung_start_rolls_back)
{
	restart_fault("hang_start", 1, 3, 0x8007041Du, STEP_FAILED,
		      0x8007041Du);
}

/*
 * Rolled back after BITS was stopped: a BITS that runs without
 * EventSystem, which is disabled. The article's dependencies keep it
 * from starting (0x8007042C); the old list is put back and BITS runs.
 */
Test(repair_bits, failed_start_is_undone_to_a_running_bits)
{
	cJSON *doc = fx_load_example("broken-bits-dependency-disabled.json");
	cJSON *bits = bits_of(doc), *deps = cJSON_CreateArray();
	struct action_result a;
	struct host *h;
	cJSON *before;

	cJSON_AddItemToArray(deps, cJSON_CreateString("RpcSs"));
	cJSON_ReplaceItemInObject(bits, "dependencies", deps);
	cJSON_ReplaceItemInObject(bits, "state", cJSON_CreateString("running"));
	fx_set_num(bits, "exit_code", 0);
	h = fx_open_doc(doc);
	before = bits_state(h);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED, "%s", steps_text(&a));
	assert_set_step(&a, 1, "dependencies", STEP_OK, 0);
	assert_step(&a, 2, "stop BITS", STEP_OK, 0);
	assert_step(&a, 3, "wait for BITS to stop", STEP_OK, 0);
	assert_step(&a, 4, "start BITS", STEP_FAILED, 0x8007042Cu);
	assert_restore_step(&a, 5, "dependencies", STEP_UNDONE, 0);
	assert_step(&a, 6, "start BITS again", STEP_UNDONE, 0);
	cr_assert_eq(a.n_steps, 7, "%s", steps_text(&a));
	assert_same_state(before, h);
	cr_assert_eq(bits_run_state(h), SVC_RUNNING);
	cJSON_Delete(before);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* ---- what this service manager cannot set -------------------------------- */

/*
 * As on Wine: ChangeServiceConfig2W has no delayed-auto, privileges or
 * SID level (0x8007007C); the repair skips them and goes on.
 */
Test(repair_bits, invalid_level_fields_are_skipped_and_bits_runs)
{
	cJSON *doc = fx_load_example("broken-bits-config.json");
	struct check_result r;
	struct action_result a;
	struct host *h;

	svc_fault(doc, NULL, "delayed_auto_start", 124);
	svc_fault(doc, NULL, "required_privileges", 124);
	svc_fault(doc, NULL, "sid_type", 124);
	h = fx_open_doc(doc);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_OK, "%s", steps_text(&a));
	for (size_t i = 0; i < N_FIELDS; i++) {
		const char *f = field_steps[i].step;
		bool skip = strcmp(f, "delayed auto start") == 0 ||
			    strcmp(f, "required privileges") == 0 ||
			    strcmp(f, "SID type") == 0;

		assert_set_step(&a, 1 + i, f, skip ? STEP_SKIPPED : STEP_OK,
				skip ? 0x8007007Cu : 0);
		if (skip)
			cr_assert_not_null(strstr(a.steps[1 + i].detail,
						  "does not support setting"),
					   "%s", a.steps[1 + i].detail);
	}
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(a.steps[1 + N_FIELDS + i].status,
			     i < 2 ? STEP_SKIPPED : STEP_OK);
	cr_assert_eq(bits_run_state(h), SVC_RUNNING);
	/* Skipped fields are no changes. */
	cr_assert_eq(a.n_changes, N_FIELDS - 3 + 1);
	/* The check still sees the fields that could not be set. */
	check(h, &r);
	cr_assert_eq(finding(&r, "bits.account")->status, ST_PASS);
	cr_assert_eq(finding(&r, "bits.state")->status, ST_PASS);
	cr_assert_eq(finding(&r, "bits.baseline")->status, ST_WARN);
	cr_assert_not_null(
	    strstr(finding(&r, "bits.baseline")->message, "SID type"));
	result_clear(&r);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/*
 * Wine again, with the reads: every QueryServiceConfig2W level is
 * 0x8007007C. The snapshot records them as unknown with the code; a
 * level that can be set is set, with the caveat; the others skipped.
 */
Test(repair_bits, unreadable_fields_are_unknown_in_backup)
{
	cJSON *doc = fx_load_example("broken-bits-config.json");
	const cJSON *f, *err, *d;
	struct check_result r;
	struct action_result a;
	struct host *h;

	svc_fault(doc, "config2", NULL, 124);
	svc_fault(doc, NULL, "delayed_auto_start", 124);
	svc_fault(doc, NULL, "required_privileges", 124);
	svc_fault(doc, NULL, "sid_type", 124);
	h = fx_open_doc(doc);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_OK, "%s", steps_text(&a));
	f = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(a.backup, "fields"),
	    "failure_actions");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(f, "value"));
	err = cJSON_GetObjectItemCaseSensitive(f, "error");
	cr_assert_str_eq(cJSON_GetObjectItem(err, "code")->valuestring,
			 "0x8007007C");
	assert_set_step(&a, 10, "failure actions", STEP_OK, 0);
	cr_assert_not_null(strstr(a.steps[10].detail, "cannot be confirmed"),
			   "%s", a.steps[10].detail);
	cr_assert_str_eq(change_of(&a, "BITS failure actions")->before,
			 "unknown (0x8007007C)");
	assert_set_step(&a, 9, "SID type", STEP_SKIPPED, 0x8007007Cu);
	cr_assert_eq(bits_run_state(h), SVC_RUNNING);
	/* The verify check shows what it cannot read as unknown. */
	check(h, &r);
	d = cJSON_GetObjectItem(finding(&r, "bits.baseline")->details,
				"sid_type");
	cr_assert_str_eq(cJSON_GetObjectItem(d, "status")->valuestring,
			 "unknown");
	cr_assert_eq(finding(&r, "bits.account")->status, ST_PASS);
	result_clear(&r);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/* A field whose old value is unknown cannot be put back: said so. */
Test(repair_bits, unknown_old_value_cannot_be_restored)
{
	cJSON *doc = fx_load_example("broken-bits-config.json");
	struct action_result a;
	struct host *h;
	size_t n;

	svc_fault(doc, "config2", NULL, 124);
	reg_key_fault(doc, SVCHOST_KEY, 5);
	h = fx_open_doc(doc);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED, "%s", steps_text(&a));
	assert_set_step(&a, 12, "netsvcs membership", STEP_FAILED, 0x80070005u);
	/* Undo, last first: ServiceDll, failure actions, SID type, ... */
	assert_restore_step(&a, 13, "ServiceDll", STEP_UNDONE, 0);
	assert_restore_step(&a, 14, "failure actions", STEP_FAILED,
			    0x8007007Cu);
	cr_assert_not_null(strstr(a.steps[14].detail, "cannot be restored"),
			   "%s", a.steps[14].detail);
	n = a.n_steps;
	assert_restore_step(&a, n - 1, "binary path", STEP_UNDONE, 0);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}

/*
 * Wine's QueryServiceConfigW reports no dependencies, whatever was set:
 * the sim host behind a wrapper with that one call changed.
 */
static hr_t
nodeps_config(struct host *h, const char *name, struct svc_config *out)
{
	struct host *in = fx_fault_inner(h);
	hr_t hr = in->ops->service_config(in, name, out);

	strlist_clear(&out->dependencies);
	return hr;
}

Test(repair_bits, a_field_not_kept_is_said_and_not_a_change)
{
	struct host *h =
	    fx_fault_host(fx_open_example("broken-bits.json"), NULL);
	struct action_result a;

	fx_fault_ops(h)->service_config = nodeps_config;
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_OK, "%s", steps_text(&a));
	assert_set_step(&a, 1, "dependencies", STEP_SKIPPED, 0);
	cr_assert_not_null(strstr(a.steps[1].detail, "reads it back as []"),
			   "%s", a.steps[1].detail);
	assert_set_step(&a, 2, "account", STEP_OK, 0);
	/* The account and the state; not the dependencies. */
	cr_assert_eq(a.n_changes, 2);
	cr_assert_str_eq(a.changes[0].what, "BITS account");
	cr_assert_eq(bits_run_state(h), SVC_RUNNING);
	action_result_clear(&a);
	host_close(h);
}

/* A value that was missing is missing again after the undo. */
Test(repair_bits, a_created_value_is_removed_by_the_undo)
{
	cJSON *doc = fx_load_example("broken-bits-servicedll-missing.json");
	cJSON *key = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "registry"),
					 SVCHOST_KEY);
	cJSON *list =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(key, "netsvcs"), "data");
	struct reg_value v = {0};
	struct action_result a;
	struct host *h;

	for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--)
		if (strcmp(cJSON_GetArrayItem(list, i)->valuestring, "BITS") ==
		    0)
			cJSON_DeleteItemFromArray(list, i);
	reg_key_fault(doc, SVCHOST_KEY, 5);
	h = fx_open_doc(doc);
	repair(h, false, &a);
	cr_assert_eq(a.status, ACT_FAILED);
	assert_set_step(&a, 1, "ServiceDll", STEP_OK, 0);
	assert_set_step(&a, 2, "netsvcs membership", STEP_FAILED, 0x80070005u);
	assert_restore_step(&a, 3, "ServiceDll", STEP_UNDONE, 0);
	cr_assert_eq(a.n_steps, 4);
	cr_assert_eq(h->ops->reg_get(h, DLL_KEY, "ServiceDll", &v),
		     0x80070002u);
	reg_value_clear(&v);
	action_result_clear(&a);
	host_close(h);
	cJSON_Delete(doc);
}
