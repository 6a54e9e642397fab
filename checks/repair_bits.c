/*
 * repair_bits.c: "Repair a corrupted BITS configuration" as the
 * repair-bits action.
 *
 * The article restores BITS with nine sc commands and a restart. Here
 * the same configuration is set through the service manager
 * (ChangeServiceConfigW and ChangeServiceConfig2W, via host.h) and the
 * registry, never by running sc:
 *
 *   binary path    %SystemRoot%\System32\svchost.exe -k netsvcs
 *                  (stored as given: the SCM keeps it REG_EXPAND_SZ)
 *   dependencies   RpcSs, EventSystem (one this machine does not have
 *                  is left out, and the snapshot step says so: with it
 *                  BITS could not start at all; Wine has no EventSystem)
 *   start type     auto, with delayed auto start
 *   service type   SERVICE_WIN32_SHARE_PROCESS
 *   error control  normal
 *   account        LocalSystem (the host passes the empty password the
 *                  built-in accounts take)
 *   privileges     SeCreateGlobalPrivilege, SeImpersonatePrivilege,
 *                  SeTcbPrivilege, SeAssignPrimaryTokenPrivilege,
 *                  SeIncreaseQuotaPrivilege
 *   SID type       unrestricted
 *   failure        reset after 86400 s; restart after 60000 ms, then
 *                  after 120000 ms
 *   Parameters\ServiceDll  REG_EXPAND_SZ %SystemRoot%\System32\qmgr.dll
 *   Svchost\netsvcs        BITS added, every other name kept
 *
 * What the article gets wrong, and what is applied instead: its binpath
 * has an en dash ("–k") where svchost needs "-k"; "type= interact"
 * would make BITS an interactive own-process service, while BITS is a
 * share-process service in netsvcs (SERVICE_WIN32_SHARE_PROCESS, not
 * interactive); "SeIncreateQuotaPrivilege" does not exist (it is
 * SeIncreaseQuotaPrivilege).
 *
 * The rules:
 * - Before anything changes, every field is read; the values go to
 *   backup, so an administrator can see and restore them. A field the
 *   host cannot read (Wine answers 0x8007007C, ERROR_INVALID_LEVEL, for
 *   the QueryServiceConfig2W levels it lacks) is recorded as unknown
 *   with its code. If the status or QueryServiceConfigW cannot be read,
 *   or netsvcs cannot be read as a list (BITS could not be added
 *   without losing the other names), nothing is changed.
 * - Only the fields that differ (or are unknown) are set, one step
 *   each, each success one change {what, before, after}. A binary path
 *   svchost already reads as netsvcs ("-p" as Windows 10 adds, quotes)
 *   and ".\LocalSystem" are left as they are. A dry run plans exactly
 *   those steps and changes. After each set the field is read back: a
 *   value the host did not keep (Wine's QueryServiceConfigW reports no
 *   dependencies, whatever was set) is a skipped step that says so, not
 *   a change.
 * - A field the service manager cannot set (0x8007007C, ERROR_INVALID_
 *   LEVEL: Wine lacks several ChangeServiceConfig2W levels) is not a
 *   failure of the repair: its step is skipped with that error and a
 *   detail saying so, and the repair goes on; the bits check shows the
 *   field as it finds it (unknown where it cannot read it either).
 * - Any other failure stops the repair: every field already changed is
 *   set back to its snapshot (one "restore" step each, undone or
 *   failed), and BITS is started again if this action stopped it. A
 *   value that was missing is removed again (the only thing deleted:
 *   what this action created); a field whose old value is unknown
 *   cannot be restored, and its step says so.
 * - BITS is then restarted so it runs with what was set (stop if
 *   running, wait, start, wait). A running BITS of which nothing was
 *   changed is left running.
 */
#include "checks/bits_baseline.h"
#include "checks/registry.h"
#include "checks/svc.h"
#include "checks/svc_steps.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define BITS_SERVICE "BITS"
#define BITS_BINPATH "%SystemRoot%\\System32\\svchost.exe -k netsvcs"
#define BITS_GROUP   "netsvcs"
#define QMGR_DLL     "%SystemRoot%\\System32\\qmgr.dll"
#define DLL_KEY                                                                \
	"HKLM\\SYSTEM\\CurrentControlSet\\Services\\" BITS_SERVICE             \
	"\\Parameters"
#define SVCHOST_KEY                                                            \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"

static const char *const want_deps[] = {"RpcSs", "EventSystem"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Everything the repair sets, as read (or as wanted). */
struct snap {
	hr_t status_hr, config_hr, delayed_hr, privs_hr, sid_hr, fa_hr;
	hr_t dll_hr, netsvcs_hr; /* 0x80070002: the value is missing */
	struct svc_status status;
	struct svc_config config;
	bool delayed;
	struct strlist privs;
	enum svc_sid_type sid;
	struct svc_failure_actions fa;
	struct reg_value dll, netsvcs;
};

static void
snap_clear(struct snap *s)
{
	svc_config_clear(&s->config);
	strlist_clear(&s->privs);
	svc_failure_actions_clear(&s->fa);
	reg_value_clear(&s->dll);
	reg_value_clear(&s->netsvcs);
}

static void
snap_read(struct host *h, struct snap *s)
{
	s->status_hr = h->ops->service_status(h, BITS_SERVICE, &s->status);
	s->config_hr = h->ops->service_config(h, BITS_SERVICE, &s->config);
	s->delayed_hr =
	    h->ops->service_delayed_auto(h, BITS_SERVICE, &s->delayed);
	s->privs_hr = h->ops->service_privileges(h, BITS_SERVICE, &s->privs);
	s->sid_hr = h->ops->service_sid_type(h, BITS_SERVICE, &s->sid);
	s->fa_hr = h->ops->service_failure_actions(h, BITS_SERVICE, &s->fa);
	s->dll_hr = h->ops->reg_get(h, DLL_KEY, "ServiceDll", &s->dll);
	s->netsvcs_hr =
	    h->ops->reg_get(h, SVCHOST_KEY, BITS_GROUP, &s->netsvcs);
}

static bool
service_absent(struct host *h, const char *name)
{
	struct svc_status st;

	return h->ops->service_status(h, name, &st) ==
	       hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST);
}

/*
 * The article's configuration; netsvcs is have's list plus BITS. A
 * dependency this machine does not have (Wine has no EventSystem) is
 * left out and added to absent: with it BITS could not start at all.
 */
static void
want_init(struct host *h, struct snap *w, const struct snap *have,
	  struct strlist *absent)
{
	w->config.type = SVC_TYPE_SHARE_PROCESS;
	w->config.start_type = SVC_AUTO_START;
	w->config.error_control = SVC_ERROR_NORMAL;
	w->config.binary_path = xstrdup(BITS_BINPATH);
	w->config.account = xstrdup("LocalSystem");
	for (size_t i = 0; i < N_OF(want_deps); i++)
		strlist_add(service_absent(h, want_deps[i])
				? absent
				: &w->config.dependencies,
			    want_deps[i]);
	w->delayed = true;
	for (size_t i = 0; i < bits_baseline_n_privs; i++)
		strlist_add(&w->privs, bits_baseline_privs[i]);
	w->sid = SVC_SID_UNRESTRICTED;
	w->fa.reset_s = BITS_BASELINE_RESET_S;
	w->fa.n = bits_baseline_n_actions;
	w->fa.actions = xcalloc(w->fa.n, sizeof(*w->fa.actions));
	memcpy(w->fa.actions, bits_baseline_actions,
	       bits_baseline_n_actions * sizeof(*bits_baseline_actions));
	w->dll.type = REGT_EXPAND_SZ;
	w->dll.str = xstrdup(QMGR_DLL);
	w->netsvcs.type = REGT_MULTI_SZ;
	if (have->netsvcs_hr == HR_OK && have->netsvcs.type == REGT_MULTI_SZ)
		for (size_t i = 0; i < have->netsvcs.multi.n; i++)
			strlist_add(&w->netsvcs.multi,
				    have->netsvcs.multi.v[i]);
	if (!strlist_contains_ci(&w->netsvcs.multi, BITS_SERVICE))
		strlist_add(&w->netsvcs.multi, BITS_SERVICE);
}

/* ---- comparing ----------------------------------------------------------- */

/* Sets of names: order and case do not matter to the SCM. */
static bool
same_set(const struct strlist *a, const struct strlist *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strlist_contains_ci(b, a->v[i]))
			return false;
	for (size_t i = 0; i < b->n; i++)
		if (!strlist_contains_ci(a, b->v[i]))
			return false;
	return true;
}

/* Trailing "none" actions do nothing (Windows lists one after BITS's). */
static size_t
effective_actions(const struct svc_failure_actions *fa)
{
	size_t n = fa->n;

	while (n > 0 && fa->actions[n - 1].type == SVC_ACTION_NONE)
		n--;
	return n;
}

static bool
same_binpath(const struct snap *h, const struct snap *w)
{
	(void)w;
	return svc_binpath_in_group(h->config.binary_path, BITS_GROUP);
}

static bool
same_deps(const struct snap *h, const struct snap *w)
{
	return same_set(&h->config.dependencies, &w->config.dependencies);
}

static bool
same_start(const struct snap *h, const struct snap *w)
{
	return h->config.start_type == w->config.start_type;
}

static bool
same_delayed(const struct snap *h, const struct snap *w)
{
	return h->delayed == w->delayed;
}

static bool
same_type(const struct snap *h, const struct snap *w)
{
	return h->config.type == w->config.type;
}

static bool
same_errctl(const struct snap *h, const struct snap *w)
{
	return h->config.error_control == w->config.error_control;
}

static bool
same_account(const struct snap *h, const struct snap *w)
{
	(void)w;
	return svc_is_local_system(h->config.account);
}

static bool
same_privs(const struct snap *h, const struct snap *w)
{
	return same_set(&h->privs, &w->privs);
}

static bool
same_sid(const struct snap *h, const struct snap *w)
{
	return h->sid == w->sid;
}

static bool
same_failure(const struct snap *h, const struct snap *w)
{
	size_t n = effective_actions(&h->fa);

	if (h->fa.reset_s != w->fa.reset_s || n != w->fa.n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (h->fa.actions[i].type != w->fa.actions[i].type ||
		    h->fa.actions[i].delay_ms != w->fa.actions[i].delay_ms)
			return false;
	return true;
}

static bool
same_dll(const struct snap *h, const struct snap *w)
{
	return h->dll_hr == HR_OK && h->dll.type == w->dll.type &&
	       h->dll.str != NULL && strcasecmp(h->dll.str, w->dll.str) == 0;
}

static bool
same_netsvcs(const struct snap *h, const struct snap *w)
{
	(void)w;
	return h->netsvcs_hr == HR_OK && h->netsvcs.type == REGT_MULTI_SZ &&
	       strlist_contains_ci(&h->netsvcs.multi, BITS_SERVICE);
}

/* ---- rendering ----------------------------------------------------------- */

static cJSON *
str_json(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *
list_json(const struct strlist *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

static cJSON *
json_binpath(const struct snap *s)
{
	return str_json(s->config.binary_path);
}

static cJSON *
json_deps(const struct snap *s)
{
	return list_json(&s->config.dependencies);
}

static cJSON *
json_start(const struct snap *s)
{
	return cJSON_CreateString(svc_start_name(s->config.start_type));
}

static cJSON *
json_delayed(const struct snap *s)
{
	return cJSON_CreateBool(s->delayed);
}

/* "share", "own", "own|interactive", as the sim file and sc name them. */
static cJSON *
json_type(const struct snap *s)
{
	uint32_t t = s->config.type, base = t & ~(uint32_t)SVC_TYPE_INTERACTIVE;
	const char *name = base == SVC_TYPE_SHARE_PROCESS   ? "share"
			   : base == SVC_TYPE_OWN_PROCESS   ? "own"
			   : base == SVC_TYPE_KERNEL_DRIVER ? "kernel"
			   : base == SVC_TYPE_FS_DRIVER	    ? "filesystem"
							    : NULL;
	char *text;
	cJSON *o;

	if (name != NULL)
		text =
		    xasprintf("%s%s", name,
			      t & SVC_TYPE_INTERACTIVE ? "|interactive" : "");
	else
		text = xasprintf("0x%x", t);
	o = cJSON_CreateString(text);
	free(text);
	return o;
}

static cJSON *
json_errctl(const struct snap *s)
{
	return cJSON_CreateString(
	    svc_error_control_name(s->config.error_control));
}

static cJSON *
json_account(const struct snap *s)
{
	return str_json(s->config.account);
}

static cJSON *
json_privs(const struct snap *s)
{
	return list_json(&s->privs);
}

static cJSON *
json_sid(const struct snap *s)
{
	return cJSON_CreateString(svc_sid_type_name(s->sid));
}

static cJSON *
json_failure(const struct snap *s)
{
	return svc_failure_json(s->fa.reset_s, s->fa.actions, s->fa.n);
}

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

/* {"type", "data"}, or null for a missing value. */
static cJSON *
reg_json(hr_t hr, const struct reg_value *v)
{
	cJSON *o;
	char buf[24];

	if (hr != HR_OK)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", reg_type_name(v->type));
	if (v->type == REGT_MULTI_SZ) {
		cJSON_AddItemToObject(o, "data", list_json(&v->multi));
	} else if (v->type == REGT_SZ || v->type == REGT_EXPAND_SZ) {
		cJSON_AddItemToObject(o, "data", str_json(v->str));
	} else if (v->type == REGT_DWORD || v->type == REGT_QWORD) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->num);
		cJSON_AddStringToObject(o, "data", buf);
	} else {
		cJSON_AddNumberToObject(o, "bytes", (double)v->bin_len);
	}
	return o;
}

static cJSON *
json_dll(const struct snap *s)
{
	return reg_json(s->dll_hr, &s->dll);
}

static cJSON *
json_netsvcs(const struct snap *s)
{
	return reg_json(s->netsvcs_hr, &s->netsvcs);
}

/* ---- setting ------------------------------------------------------------- */

static hr_t
change(struct host *h, const struct svc_config_change *c)
{
	return h->ops->service_change_config(h, BITS_SERVICE, c);
}

static hr_t
set_binpath(struct host *h, const struct snap *to)
{
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;

	c.binary_path = to->config.binary_path;
	return change(h, &c);
}

static hr_t
set_deps(struct host *h, const struct snap *to)
{
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;

	c.dependencies = &to->config.dependencies;
	return change(h, &c);
}

static hr_t
set_start(struct host *h, const struct snap *to)
{
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;

	c.start_type = to->config.start_type;
	return change(h, &c);
}

static hr_t
set_delayed(struct host *h, const struct snap *to)
{
	return h->ops->service_set_delayed_auto(h, BITS_SERVICE, to->delayed);
}

static hr_t
set_type(struct host *h, const struct snap *to)
{
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;

	c.type = to->config.type;
	return change(h, &c);
}

static hr_t
set_errctl(struct host *h, const struct snap *to)
{
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;

	c.error_control = to->config.error_control;
	return change(h, &c);
}

static hr_t
set_account(struct host *h, const struct snap *to)
{
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;

	c.account = to->config.account;
	return change(h, &c);
}

static hr_t
set_privs(struct host *h, const struct snap *to)
{
	return h->ops->service_set_privileges(h, BITS_SERVICE, &to->privs);
}

static hr_t
set_sid(struct host *h, const struct snap *to)
{
	return h->ops->service_set_sid_type(h, BITS_SERVICE, to->sid);
}

static hr_t
set_failure(struct host *h, const struct snap *to)
{
	return h->ops->service_set_failure_actions(h, BITS_SERVICE, &to->fa);
}

/* A value that was missing is missing again after an undo. */
static hr_t
set_reg(struct host *h, const char *key, const char *name, hr_t hr,
	const struct reg_value *v)
{
	if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND))
		return h->ops->reg_delete_value(h, key, name);
	return h->ops->reg_set(h, key, name, v);
}

static hr_t
set_dll(struct host *h, const struct snap *to)
{
	return set_reg(h, DLL_KEY, "ServiceDll", to->dll_hr, &to->dll);
}

static hr_t
set_netsvcs(struct host *h, const struct snap *to)
{
	return set_reg(h, SVCHOST_KEY, BITS_GROUP, to->netsvcs_hr,
		       &to->netsvcs);
}

/* ---- the fields ---------------------------------------------------------- */

struct field {
	const char *key;   /* in backup.fields */
	const char *label; /* in step names and details */
	const char *what;  /* in changes */
	size_t hr_off;	   /* offsetof(struct snap, ..._hr) */
	bool registry;	   /* a registry value: 0x80070002 is "missing" */
	bool (*same)(const struct snap *have, const struct snap *want);
	cJSON *(*json)(const struct snap *s);
	hr_t (*set)(struct host *h, const struct snap *to);
};

#define HR_OFF(m) offsetof(struct snap, m)

/* In the article's order; the restart comes after. */
enum {
	F_BINPATH,
	F_DEPS,
	F_START,
	F_DELAYED,
	F_TYPE,
	F_ERRCTL,
	F_ACCOUNT,
	F_PRIVS,
	F_SID,
	F_FAILURE,
	F_DLL,
	F_NETSVCS,
};

static const struct field fields[] = {
    [F_BINPATH] = {"binary_path", "binary path", "BITS binary path",
		   HR_OFF(config_hr), false, same_binpath, json_binpath,
		   set_binpath},
    [F_DEPS] = {"dependencies", "dependencies", "BITS dependencies",
		HR_OFF(config_hr), false, same_deps, json_deps, set_deps},
    [F_START] = {"start_type", "start type", "BITS start type",
		 HR_OFF(config_hr), false, same_start, json_start, set_start},
    [F_DELAYED] = {"delayed_auto_start", "delayed auto start",
		   "BITS delayed auto start", HR_OFF(delayed_hr), false,
		   same_delayed, json_delayed, set_delayed},
    [F_TYPE] = {"type", "service type", "BITS service type", HR_OFF(config_hr),
		false, same_type, json_type, set_type},
    [F_ERRCTL] = {"error_control", "error control", "BITS error control",
		  HR_OFF(config_hr), false, same_errctl, json_errctl,
		  set_errctl},
    [F_ACCOUNT] = {"account", "account", "BITS account", HR_OFF(config_hr),
		   false, same_account, json_account, set_account},
    [F_PRIVS] = {"required_privileges", "required privileges",
		 "BITS required privileges", HR_OFF(privs_hr), false,
		 same_privs, json_privs, set_privs},
    [F_SID] = {"sid_type", "SID type", "BITS SID type", HR_OFF(sid_hr), false,
	       same_sid, json_sid, set_sid},
    [F_FAILURE] = {"failure_actions", "failure actions", "BITS failure actions",
		   HR_OFF(fa_hr), false, same_failure, json_failure,
		   set_failure},
    [F_DLL] = {"ServiceDll", "ServiceDll", DLL_KEY "\\ServiceDll",
	       HR_OFF(dll_hr), true, same_dll, json_dll, set_dll},
    [F_NETSVCS] = {"netsvcs", "netsvcs membership", SVCHOST_KEY "\\" BITS_GROUP,
		   HR_OFF(netsvcs_hr), true, same_netsvcs, json_netsvcs,
		   set_netsvcs},
};
#define N_FIELDS N_OF(fields)

static hr_t
hr_of(const struct snap *s, const struct field *f)
{
	return *(const hr_t *)((const char *)s + f->hr_off);
}

/* Read, or a registry value known to be missing. */
static bool
known(const struct snap *s, const struct field *f)
{
	hr_t hr = hr_of(s, f);

	return hr == HR_OK ||
	       (f->registry && hr == hr_from_win32(WIN32_FILE_NOT_FOUND));
}

/* The value as text for changes and details (caller frees). */
static char *
field_text(const struct snap *s, const struct field *f)
{
	char code[11], *t;
	cJSON *v;

	if (!known(s, f)) {
		error_format(hr_of(s, f), code);
		return xasprintf("unknown (%s)", code);
	}
	v = f->json(s);
	if (cJSON_IsString(v))
		t = xstrdup(v->valuestring);
	else if (cJSON_IsNull(v))
		t = xstrdup("missing");
	else
		t = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	if (t == NULL)
		abort();
	return t;
}

/* ---- the action ---------------------------------------------------------- */

struct repair {
	const struct action_ctx *ctx;
	struct snap have, want;
	bool plan[N_FIELDS];   /* differs or unknown: to be set */
	size_t done[N_FIELDS]; /* indexes of the fields changed, in order */
	size_t n_done;	       /* how many */
	size_t n_planned;      /* plan[] entries set */
	struct strlist absent; /* dependencies left out: not installed */
	bool guarded;	       /* g was read */
	struct svc_guard g;
};

/* {"value": V} or {"error": E}; registry values also name their key. */
static cJSON *
backup_field(const struct snap *s, const struct field *f)
{
	cJSON *o = cJSON_CreateObject();

	if (f->registry) {
		cJSON_AddStringToObject(
		    o, "key", f == &fields[F_DLL] ? DLL_KEY : SVCHOST_KEY);
		cJSON_AddStringToObject(o, "name", f->key);
	}
	if (known(s, f))
		cJSON_AddItemToObject(o, "value", f->json(s));
	else
		cJSON_AddItemToObject(o, "error", error_to_json(hr_of(s, f)));
	return o;
}

static cJSON *
backup_json(const struct snap *s)
{
	cJSON *o = cJSON_CreateObject(), *fl;
	char iso[32];

	plat_utc_iso(iso);
	cJSON_AddStringToObject(o, "service", BITS_SERVICE);
	cJSON_AddStringToObject(o, "time", iso);
	cJSON_AddItemToObject(
	    o, "state",
	    s->status_hr == HR_OK
		? cJSON_CreateString(svc_state_name(s->status.state))
		: error_to_json(s->status_hr));
	fl = cJSON_AddObjectToObject(o, "fields");
	for (size_t i = 0; i < N_FIELDS; i++)
		cJSON_AddItemToObject(fl, fields[i].key,
				      backup_field(s, &fields[i]));
	return o;
}

/* Why nothing can be changed, or HR_OK. */
static hr_t
snapshot_refusal(const struct snap *s, struct step *st)
{
	char code[11];
	hr_t hr;

	if ((hr = s->status_hr) != HR_OK || (hr = s->config_hr) != HR_OK) {
		error_format(hr, code);
		step_set_detail(
		    st, "could not read BITS (%s)%s; nothing was changed", code,
		    hr == hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST)
			? ": the service does not exist"
			: "");
		return hr;
	}
	if (s->netsvcs_hr != HR_OK &&
	    s->netsvcs_hr != hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		error_format(s->netsvcs_hr, code);
		step_set_detail(st,
				"could not read %s\\%s (%s): BITS cannot be "
				"added to it without losing the names it "
				"lists; nothing was changed",
				SVCHOST_KEY, BITS_GROUP, code);
		return s->netsvcs_hr;
	}
	if (s->netsvcs_hr == HR_OK && s->netsvcs.type != REGT_MULTI_SZ) {
		step_set_detail(st,
				"%s\\%s is %s, not REG_MULTI_SZ: it is not "
				"rewritten as a list; nothing was changed",
				SVCHOST_KEY, BITS_GROUP,
				reg_type_name(s->netsvcs.type));
		return hr_from_win32(WIN32_INVALID_DATA);
	}
	return HR_OK;
}

static void append(char **s, const char *fmt, ...)
    __attribute__((format(gnu_printf, 2, 3)));

static void
append(char **s, const char *fmt, ...)
{
	char *more, *t;
	va_list ap;

	va_start(ap, fmt);
	more = xvasprintf(fmt, ap);
	va_end(ap);
	t = xasprintf("%s%s", *s != NULL ? *s : "", more);
	free(*s);
	free(more);
	*s = t;
}

static void
plan_fields(struct repair *rp, struct step *st)
{
	size_t unknown = 0;

	for (size_t i = 0; i < N_FIELDS; i++) {
		bool k = known(&rp->have, &fields[i]);

		rp->plan[i] = !k || !fields[i].same(&rp->have, &rp->want);
		rp->n_planned += rp->plan[i];
		unknown += !k;
	}
	step_set_detail(st,
			"read %zu fields of BITS (%s): %zu to set, %zu could "
			"not be read; backup holds every value",
			N_FIELDS, svc_state_name(rp->have.status.state),
			rp->n_planned, unknown);
	for (size_t i = 0; i < rp->absent.n; i++)
		append(&st->detail,
		       "; %s is not installed here, so it is left out of the "
		       "dependencies (with it BITS could not start: "
		       "0x80070433)",
		       rp->absent.v[i]);
}

static hr_t
step_snapshot(struct repair *rp, struct action_result *a)
{
	struct step *st = action_add_step(a, "snapshot the BITS configuration");
	uint64_t t0 = plat_now_ms();
	hr_t hr;

	snap_read(rp->ctx->host, &rp->have);
	want_init(rp->ctx->host, &rp->want, &rp->have, &rp->absent);
	a->backup = backup_json(&rp->have);
	if ((hr = snapshot_refusal(&rp->have, st)) != HR_OK) {
		st->status = STEP_FAILED;
		st->error = hr;
	} else {
		plan_fields(rp, st);
	}
	st->duration_ms = plat_now_ms() - t0;
	return hr;
}

/* What a successful set says; a level the SCM cannot read back cannot
 * be confirmed (Wine accepts failure actions it does not keep). */
static void
set_ok(struct repair *rp, const struct field *f, struct step *s,
       const char *before, const char *after)
{
	char code[11];

	if (known(&rp->have, f)) {
		step_set_detail(s, "%s: %s -> %s", f->label, before, after);
		return;
	}
	error_format(hr_of(&rp->have, f), code);
	step_set_detail(s,
			"%s set to %s; this service manager could not read it "
			"(%s), so the old value is unknown and whether it took "
			"cannot be confirmed",
			f->label, after, code);
}

static void
set_failed(struct repair *rp, const struct field *f, struct step *s, hr_t hr,
	   const char *before)
{
	char code[11];

	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_INVALID_LEVEL)) {
		s->status = STEP_SKIPPED;
		step_set_detail(s,
				"this service manager does not support setting "
				"the %s (%s, ERROR_INVALID_LEVEL): it is left "
				"as it was%s%s%s and the repair goes on",
				f->label, code, known(&rp->have, f) ? " (" : "",
				known(&rp->have, f) ? before : "",
				known(&rp->have, f) ? ")" : "");
	} else {
		s->status = STEP_FAILED;
		step_set_detail(s,
				"could not set the %s (%s); the %zu change%s "
				"made so far %s undone",
				f->label, code, rp->n_done,
				rp->n_done == 1 ? "" : "s",
				rp->n_done == 1 ? "is" : "are");
	}
	s->error = hr;
}

/*
 * What the host reports after a set, as text, when that is not what was
 * set (caller frees); NULL when it is or cannot be read back. Wine's
 * QueryServiceConfigW reports no dependencies, whatever was set.
 */
static char *
not_kept(struct repair *rp, const struct field *f)
{
	struct snap now = {0};
	char *t = NULL;

	snap_read(rp->ctx->host, &now);
	if (known(&now, f) && !f->same(&now, &rp->want))
		t = field_text(&now, f);
	snap_clear(&now);
	return t;
}

static hr_t
set_field(struct repair *rp, struct action_result *a, size_t i)
{
	const struct field *f = &fields[i];
	struct host *h = rp->ctx->host;
	struct step *s = action_add_step(a, "set %s", f->label);
	char *before = field_text(&rp->have, f);
	char *after = field_text(&rp->want, f), *now = NULL;
	uint64_t t0 = plat_now_ms();
	hr_t hr = HR_OK;

	if (rp->ctx->dry_run) {
		step_set_detail(s, "would change the %s from %s to %s",
				f->label, before, after);
		action_add_change(a, f->what, before, after);
	} else if ((hr = f->set(h, &rp->want)) == HR_OK &&
		   (now = not_kept(rp, f)) != NULL) {
		/* Not a change anyone can see: said, not recorded. */
		s->status = STEP_SKIPPED;
		step_set_detail(s,
				"the service manager accepted the %s %s but "
				"reads it back as %s: it did not keep it, and "
				"it is not recorded as a change",
				f->label, after, now);
	} else if (hr == HR_OK) {
		set_ok(rp, f, s, before, after);
		action_add_change(a, f->what, before, after);
		rp->done[rp->n_done++] = i;
	} else {
		set_failed(rp, f, s, hr, before);
		if (s->status == STEP_SKIPPED)
			hr = HR_OK;
	}
	s->duration_ms = plat_now_ms() - t0;
	free(before);
	free(after);
	free(now);
	return hr;
}

static hr_t
set_fields(struct repair *rp, struct action_result *a)
{
	hr_t hr;

	for (size_t i = 0; i < N_FIELDS; i++)
		if (rp->plan[i] && (hr = set_field(rp, a, i)) != HR_OK)
			return hr;
	return HR_OK;
}

/* ---- restart and undo ---------------------------------------------------- */

static const char *const restart_steps[] = {
    "stop BITS",
    "wait for BITS to stop",
    "start BITS",
    "wait for BITS to run",
};
_Static_assert(N_OF(restart_steps) == SVC_RESTART_STEPS,
	       "a name for each step of svc_restart");

/* A running BITS of which nothing changed keeps its transfers going. */
static bool
restart_needed(const struct repair *rp)
{
	size_t changed = rp->ctx->dry_run ? rp->n_planned : rp->n_done;

	return changed > 0 || rp->g.query != HR_OK ||
	       rp->g.before.state != SVC_RUNNING;
}

static hr_t
restart(struct repair *rp, struct action_result *a)
{
	const struct action_ctx *ctx = rp->ctx;
	struct step *s;
	uint64_t t0;
	hr_t hr;

	svc_guard_read(ctx, &rp->g, BITS_SERVICE, "delayed-auto");
	rp->guarded = true;
	/* A dry run has not enabled BITS yet; a real run has read it. */
	if (ctx->dry_run && rp->plan[F_START])
		rp->g.disabled = false;
	for (size_t i = 0; i < N_OF(restart_steps); i++) {
		s = action_add_step(a, "%s", restart_steps[i]);
		if (!restart_needed(rp)) {
			s->status = STEP_SKIPPED;
			step_set_detail(s, "BITS is running and nothing was "
					   "changed: it is not restarted");
			continue;
		}
		t0 = plat_now_ms();
		hr = svc_restart[i](ctx, &rp->g, s);
		s->duration_ms = plat_now_ms() - t0;
		if (hr != HR_OK) {
			s->status = STEP_FAILED;
			s->error = hr;
			return hr;
		}
	}
	return HR_OK;
}

static void
undo_field(struct repair *rp, struct action_result *a, const struct field *f)
{
	struct step *s = action_add_step(a, "restore %s", f->label);
	char *before = field_text(&rp->have, f);
	char *after = field_text(&rp->want, f);
	uint64_t t0 = plat_now_ms();
	char code[11];
	hr_t hr;

	if (!known(&rp->have, f)) {
		/* Nothing to restore it to: say so, do not guess. */
		hr = hr_of(&rp->have, f);
		error_format(hr, code);
		step_set_detail(s,
				"its value before the repair could not be read "
				"(%s), so the %s cannot be restored and stays "
				"%s",
				code, f->label, after);
	} else if ((hr = f->set(rp->ctx->host, &rp->have)) == HR_OK) {
		step_set_detail(s, "%s restored to %s", f->label, before);
	} else {
		error_format(hr, code);
		step_set_detail(s,
				"could not restore the %s (%s); it is left at "
				"%s, backup holds the old value %s",
				f->label, code, after, before);
	}
	s->status = hr == HR_OK ? STEP_UNDONE : STEP_FAILED;
	s->error = hr;
	s->duration_ms = plat_now_ms() - t0;
	free(before);
	free(after);
}

/* Start BITS again when this action stopped it and it is not running. */
static void
undo_stop(struct repair *rp, struct action_result *a)
{
	const struct action_ctx *ctx = rp->ctx;
	struct host *h = ctx->host;
	struct svc_status now = {0};
	struct step *s;
	uint64_t t0;
	char code[11];
	hr_t hr;

	if (!rp->guarded || !rp->g.stopped ||
	    (h->ops->service_status(h, BITS_SERVICE, &now) == HR_OK &&
	     now.state == SVC_RUNNING))
		return;
	s = action_add_step(a, "start BITS again");
	t0 = plat_now_ms();
	hr = h->ops->service_start(h, BITS_SERVICE);
	if (hr == HR_OK || hr == hr_from_win32(WIN32_SERVICE_ALREADY_RUNNING)) {
		rp->g.start_skipped = false;
		hr = svc_step_wait_running(ctx, &rp->g, s);
	} else {
		error_format(hr, code);
		step_set_detail(s,
				"could not start BITS again (%s); it is left "
				"stopped: sc start bits",
				code);
	}
	s->status = hr == HR_OK ? STEP_UNDONE : STEP_FAILED;
	s->error = hr;
	s->duration_ms = plat_now_ms() - t0;
}

static void
rollback(struct repair *rp, struct action_result *a)
{
	for (size_t i = rp->n_done; i-- > 0;)
		undo_field(rp, a, &fields[rp->done[i]]);
	undo_stop(rp, a);
}

static void
repair_bits_run(const struct action_ctx *ctx, struct action_result *a)
{
	struct repair rp = {.ctx = ctx};
	hr_t hr;

	if ((hr = step_snapshot(&rp, a)) == HR_OK &&
	    (hr = set_fields(&rp, a)) == HR_OK)
		hr = restart(&rp, a);
	if (hr != HR_OK) {
		a->status = ACT_FAILED;
		if (!ctx->dry_run)
			rollback(&rp, a);
	}
	if (rp.guarded)
		svc_record_state(ctx, &rp.g, a);
	snap_clear(&rp.have);
	snap_clear(&rp.want);
	strlist_clear(&rp.absent);
}

static const char *const repair_bits_steps[] = {
    "snapshot the BITS configuration",
    "set binary path",
    "set dependencies",
    "set start type",
    "set delayed auto start",
    "set service type",
    "set error control",
    "set account",
    "set required privileges",
    "set SID type",
    "set failure actions",
    "set ServiceDll",
    "set netsvcs membership",
    "stop BITS",
    "wait for BITS to stop",
    "start BITS",
    "wait for BITS to run",
    NULL,
};

const struct action action_repair_bits = {
    .id = "repair-bits",
    .title = "Repair the BITS configuration",
    .description =
	"\"Repair a corrupted BITS configuration\": set what differs of "
	"the BITS service configuration the article gives (binary path "
	"svchost -k netsvcs, dependencies RpcSs and EventSystem, delayed "
	"auto start, share process, error control normal, LocalSystem, "
	"the required privileges, SID type unrestricted, failure actions), "
	"its Parameters\\ServiceDll and its place in the netsvcs group, "
	"through the service manager and the registry, then restart BITS. "
	"The old values are kept in backup; a failure puts them back",
    .target = "bits",
    .steps = repair_bits_steps,
    .changes = "the BITS service configuration, HKLM\\SYSTEM\\"
	       "CurrentControlSet\\Services\\BITS\\Parameters\\ServiceDll, "
	       "the netsvcs value under HKLM\\SOFTWARE\\Microsoft\\Windows "
	       "NT\\CurrentVersion\\Svchost (BITS added), and the BITS "
	       "service state (restarted)",
    .verify_check = "bits",
    .run = repair_bits_run,
};
