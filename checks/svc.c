/*
 * svc.c: the part of every service check that is the same for each
 * service: "sc query" (exists, state, exit code) and "sc qc" (start type,
 * account, binary path) turned into findings and facts, and the probes
 * of what StartService depends on (dependencies, svchost group,
 * ServiceDll), which are the same for BITS and wuauserv.
 */
#include "checks/svc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/errors.h"
#include "common/xalloc.h"

/*
 * ERROR_SERVICE_SPECIFIC_ERROR: the service put its own code in
 * dwServiceSpecificExitCode. BITS does this with an HRESULT.
 */
#define WIN32_SERVICE_SPECIFIC_ERROR 1066u
/*
 * ERROR_SERVICE_NEVER_STARTED: not run since boot. Windows shows it for
 * a trigger-started service nothing has needed yet, and Wine for every
 * service before its first start: no error.
 */
#define WIN32_SERVICE_NEVER_STARTED 1077u

/* Did the last run end in an error (not a clean stop, not "never ran")? */
static bool
exited_with_error(const struct svc_status *st)
{
	return st->win32_exit_code != 0 &&
	       st->win32_exit_code != WIN32_SERVICE_NEVER_STARTED;
}

static const char *const state_names[] = {
    [SVC_STOPPED] = "stopped",
    [SVC_START_PENDING] = "start_pending",
    [SVC_STOP_PENDING] = "stop_pending",
    [SVC_RUNNING] = "running",
    [SVC_CONTINUE_PENDING] = "continue_pending",
    [SVC_PAUSE_PENDING] = "pause_pending",
    [SVC_PAUSED] = "paused",
};

static const char *const start_names[] = {
    [SVC_BOOT_START] = "boot",	 [SVC_SYSTEM_START] = "system",
    [SVC_AUTO_START] = "auto",	 [SVC_DEMAND_START] = "demand",
    [SVC_DISABLED] = "disabled",
};

const char *
svc_state_name(enum svc_state s)
{
	size_t n = sizeof(state_names) / sizeof(state_names[0]);

	if ((size_t)s < n && state_names[s] != NULL)
		return state_names[s];
	return "unknown";
}

const char *
svc_start_name(enum svc_start s)
{
	size_t n = sizeof(start_names) / sizeof(start_names[0]);

	if ((size_t)s < n && start_names[s] != NULL)
		return start_names[s];
	return "unknown";
}

static const char *const errctl_names[] = {
    [SVC_ERROR_IGNORE] = "ignore",
    [SVC_ERROR_NORMAL] = "normal",
    [SVC_ERROR_SEVERE] = "severe",
    [SVC_ERROR_CRITICAL] = "critical",
};

static const char *const sid_names[] = {
    [SVC_SID_NONE] = "none",
    [SVC_SID_UNRESTRICTED] = "unrestricted",
    [SVC_SID_RESTRICTED] = "restricted",
};

static const char *const action_names[] = {
    [SVC_ACTION_NONE] = "none",
    [SVC_ACTION_RESTART] = "restart",
    [SVC_ACTION_REBOOT] = "reboot",
    [SVC_ACTION_RUN_COMMAND] = "run",
};

static const char *
name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] != NULL ? names[v] : "unknown";
}

const char *
svc_error_control_name(enum svc_error_control e)
{
	return name_of(errctl_names,
		       sizeof(errctl_names) / sizeof(errctl_names[0]),
		       (unsigned)e);
}

const char *
svc_sid_type_name(enum svc_sid_type t)
{
	return name_of(sid_names, sizeof(sid_names) / sizeof(sid_names[0]),
		       (unsigned)t);
}

const char *
svc_action_name(enum svc_action_type t)
{
	return name_of(action_names,
		       sizeof(action_names) / sizeof(action_names[0]),
		       (unsigned)t);
}

/* "share"/"own" as sc shows WIN32_SHARE_PROCESS/WIN32_OWN_PROCESS. */
static cJSON *
type_json(uint32_t type)
{
	if (type & SVC_TYPE_SHARE_PROCESS)
		return cJSON_CreateString("share");
	if (type & SVC_TYPE_OWN_PROCESS)
		return cJSON_CreateString("own");
	if (type & SVC_TYPE_FS_DRIVER)
		return cJSON_CreateString("fs_driver");
	if (type & SVC_TYPE_KERNEL_DRIVER)
		return cJSON_CreateString("kernel_driver");
	return cJSON_CreateNumber(type);
}

void
svc_set_remedy(struct finding *f, const char *action, const char *text)
{
	const struct action *a = action != NULL ? action_find(action) : NULL;

	/* The descriptor's id is static; the caller's string need not be. */
	finding_set_remedy(f, a != NULL ? a->id : NULL, text);
}

void
svc_info_clear(struct svc_info *info)
{
	svc_config_clear(&info->config);
	memset(info, 0, sizeof(*info));
}

static struct finding *add(struct check_result *r, const struct svc_spec *spec,
			   const char *what, enum status st, const char *fmt,
			   ...) __attribute__((format(gnu_printf, 5, 6)));

/* result_add with the id PREFIX.what. */
static struct finding *
add(struct check_result *r, const struct svc_spec *spec, const char *what,
    enum status st, const char *fmt, ...)
{
	struct finding *f;
	char *id, *msg;
	va_list ap;

	id = xasprintf("%s.%s", spec->prefix, what);
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	f = result_add(r, id, st, "%s", msg);
	free(id);
	free(msg);
	return f;
}

/* The status query decides whether the service exists at all. */
static bool
judge_exists(const struct svc_spec *spec, struct check_result *r, hr_t hr)
{
	struct finding *f;
	char code[11];

	if (hr == HR_OK) {
		f = add(r, spec, "exists", ST_PASS, "%s is installed",
			spec->label);
		finding_set_expected(f, "installed");
		finding_set_observed(f, "installed");
		return true;
	}
	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST)) {
		f = add(r, spec, "exists", ST_FAIL, "%s does not exist",
			spec->label);
		finding_set_expected(f, "installed");
		finding_set_observed(f, "missing");
		f->error = hr;
		svc_set_remedy(f, NULL, spec->missing_remedy);
		return false;
	}
	f = add(r, spec, "exists", ST_ERROR, "could not query %s (%s)",
		spec->label, code);
	f->error = hr;
	return false;
}

hr_t
svc_exit_hr(const struct svc_status *st)
{
	if (st->win32_exit_code == WIN32_SERVICE_SPECIFIC_ERROR &&
	    (st->service_exit_code & 0x80000000u))
		return st->service_exit_code;
	return hr_from_win32(st->win32_exit_code);
}

static void
judge_stopped(const struct svc_spec *spec, struct check_result *r,
	      const struct svc_status *st)
{
	struct finding *f;
	char code[11], *text;
	hr_t hr;

	text = xasprintf("start the service: sc start %s", spec->prefix);
	if (!exited_with_error(st)) {
		f = add(r, spec, "state", ST_WARN,
			"%s is stopped; it is started on demand (trigger "
			"start) on Windows 10, so stopped is not in itself a "
			"fault, but it must be able to start",
			spec->label);
	} else {
		hr = svc_exit_hr(st);
		error_format(hr, code);
		f = add(r, spec, "state", ST_FAIL,
			"%s stopped with error %s (exit code %u)", spec->label,
			code, st->win32_exit_code);
		f->error = hr;
		free(text);
		text = xasprintf("look in the System event log for why %s "
				 "stopped, then start the service: sc start %s",
				 spec->label, spec->prefix);
	}
	finding_set_expected(f, "running");
	finding_set_observed(f, "stopped");
	svc_set_remedy(f, spec->start_action, text);
	free(text);
}

static void
judge_state(const struct svc_spec *spec, struct check_result *r,
	    const struct svc_status *st)
{
	struct finding *f;
	const char *name = svc_state_name(st->state);

	if (st->state == SVC_STOPPED) {
		judge_stopped(spec, r, st);
		return;
	}
	if (st->state == SVC_RUNNING)
		f = add(r, spec, "state", ST_PASS, "%s is running",
			spec->label);
	else if (st->state == SVC_PAUSED)
		f = add(r, spec, "state", ST_WARN, "%s is paused", spec->label);
	else
		f = add(r, spec, "state", ST_WARN,
			"%s is in %s: a state change is in progress; check "
			"again shortly",
			spec->label, name);
	finding_set_expected(f, "running");
	finding_set_observed(f, "%s", name);
}

/* "delayed-auto" is auto with the Config2 flag, as sc shows it. */
const char *
svc_start_observed(const struct svc_info *info)
{
	if (info->config.start_type == SVC_AUTO_START && info->have_delayed &&
	    info->delayed_auto)
		return "delayed-auto";
	return svc_start_name(info->config.start_type);
}

static void
judge_start(const struct svc_spec *spec, struct check_result *r,
	    const struct svc_info *info, hr_t hr)
{
	struct finding *f;
	char code[11], *text;
	enum svc_start t = info->config.start_type;

	if (!info->have_config) {
		error_format(hr, code);
		f = add(r, spec, "start_type", ST_ERROR,
			"could not read the configuration of %s (%s)",
			spec->label, code);
		f->error = hr;
		return;
	}
	if (t == SVC_DISABLED) {
		f = add(r, spec, "start_type", ST_FAIL,
			"%s is disabled and cannot start", spec->label);
		f->error = hr_from_win32(WIN32_SERVICE_DISABLED);
		finding_set_expected(f, spec->enable_start);
		text = xasprintf("enable the service: sc config %s start= %s",
				 spec->prefix, spec->enable_start);
		svc_set_remedy(f, spec->enable_action, text);
		free(text);
	} else if (t == SVC_AUTO_START || t == SVC_DEMAND_START) {
		f = add(r, spec, "start_type", ST_PASS, "%s start type is %s",
			spec->label, svc_start_observed(info));
		finding_set_expected(f, "auto, delayed-auto or demand");
	} else {
		/* Only drivers start at boot or system init; the SCM
		 * refuses it for a Win32 service, so the config is odd. */
		f = add(r, spec, "start_type", ST_WARN,
			"%s start type is %s, which is meant for drivers",
			spec->label, svc_start_observed(info));
		finding_set_expected(f, "auto, delayed-auto or demand");
	}
	finding_set_observed(f, "%s", svc_start_observed(info));
}

static cJSON *
str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* cJSON_CreateStringArray refuses an empty list (NULL vector). */
static cJSON *
strlist_json(const struct strlist *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

static void
set_fact(cJSON *facts, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(facts, key);
	cJSON_AddItemToObject(facts, key, v);
}

static void
add_facts(cJSON *facts, const struct svc_info *info)
{
	const struct svc_config *c = &info->config;
	bool cfg = info->have_config;

	set_fact(facts, "state",
		 cJSON_CreateString(svc_state_name(info->status.state)));
	set_fact(facts, "start_type",
		 cfg ? cJSON_CreateString(svc_start_name(c->start_type))
		     : cJSON_CreateNull());
	set_fact(facts, "delayed_auto_start",
		 info->have_delayed ? cJSON_CreateBool(info->delayed_auto)
				    : cJSON_CreateNull());
	set_fact(facts, "account",
		 cfg ? str_or_null(c->account) : cJSON_CreateNull());
	set_fact(facts, "binary_path",
		 cfg ? str_or_null(c->binary_path) : cJSON_CreateNull());
	set_fact(
	    facts, "error_control",
	    cfg ? cJSON_CreateString(svc_error_control_name(c->error_control))
		: cJSON_CreateNull());
	set_fact(facts, "dependencies",
		 cfg ? strlist_json(&c->dependencies) : cJSON_CreateNull());
	set_fact(facts, "type", type_json(info->status.type));
	set_fact(facts, "exit_code",
		 cJSON_CreateNumber(info->status.win32_exit_code));
	set_fact(facts, "pid", cJSON_CreateNumber(info->status.pid));
}

bool
svc_inspect(const struct check_ctx *ctx, const struct svc_spec *spec,
	    struct check_result *r, cJSON *facts, struct svc_info *info)
{
	struct host *h = ctx->host;
	hr_t hr;

	memset(info, 0, sizeof(*info));
	if (facts == NULL)
		facts = r->facts;
	hr = h->ops->service_status(h, spec->service, &info->status);
	if (!judge_exists(spec, r, hr))
		return false;
	info->exists = true;
	hr = h->ops->service_config(h, spec->service, &info->config);
	info->config_hr = hr;
	if (hr == HR_OK) {
		info->have_config = true;
		/* Config2 levels are missing on some hosts (Wine answers
		 * ERROR_INVALID_LEVEL); the fact is then null, no finding. */
		info->delayed_hr = h->ops->service_delayed_auto(
		    h, spec->service, &info->delayed_auto);
		info->have_delayed = info->delayed_hr == HR_OK;
	}
	judge_state(spec, r, &info->status);
	judge_start(spec, r, info, hr);
	add_facts(facts, info);
	return info->have_config;
}

/* ---- probes: what StartService runs into -------------------------------- */

#define SVCHOST_KEY                                                            \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"
#define SERVICES_KEY "HKLM\\SYSTEM\\CurrentControlSet\\Services\\"

/* ERROR_CIRCULAR_DEPENDENCY: what the SCM says of a dependency cycle. */
#define WIN32_CIRCULAR_DEPENDENCY 1059u
/* Deeper than any real chain of dependencies. */
#define MAX_DEPTH 16

/* The services whose start is being judged, outermost first. */
struct chain {
	const char *name[MAX_DEPTH + 1];
	unsigned n;
};

void
svc_probe_clear(struct svc_probe *p)
{
	free(p->message);
	free(p->expected);
	free(p->observed);
	free(p->remedy);
	cJSON_Delete(p->details);
	memset(p, 0, sizeof(*p));
}

static void probe_set(struct svc_probe *p, enum status st, hr_t hr,
		      const char *fmt, ...)
    __attribute__((format(gnu_printf, 4, 5)));

static void
probe_set(struct svc_probe *p, enum status st, hr_t hr, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	/* fmt's arguments may point into the old message. */
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(p->message);
	p->message = msg;
	p->status = st;
	p->error = hr;
}

static void
probe_values(struct svc_probe *p, const char *expected, const char *observed)
{
	/* The arguments may be the old values. */
	char *e = xstrdup_null(expected), *o = xstrdup_null(observed);

	free(p->expected);
	free(p->observed);
	p->expected = e;
	p->observed = o;
}

static void probe_remedy(struct svc_probe *p, const char *action,
			 const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));

static void
probe_remedy(struct svc_probe *p, const char *action, const char *fmt, ...)
{
	char *text;
	va_list ap;

	/* fmt's arguments may point into the old remedy. */
	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	free(p->remedy);
	p->remedy = text;
	p->action = action;
}

/*
 * A definite "would not start" outranks "could not tell": one blocker
 * found is the answer even when something else could not be read.
 */
static int
rank(enum status st)
{
	switch (st) {
	case ST_FAIL:
		return 4;
	case ST_ERROR:
		return 3;
	case ST_WARN:
		return 2;
	case ST_PASS:
		return 1;
	default:
		return 0;
	}
}

/* Keep the worse of p and q in p; q is released either way. */
static void
probe_take_worse(struct svc_probe *p, struct svc_probe *q)
{
	if (rank(q->status) > rank(p->status)) {
		svc_probe_clear(p);
		*p = *q;
		memset(q, 0, sizeof(*q));
	}
	svc_probe_clear(q);
}

struct finding *
svc_probe_add(struct check_result *r, const struct svc_spec *spec,
	      const char *what, struct svc_probe *p)
{
	struct finding *f;

	f = add(r, spec, what, p->status, "%s",
		p->message != NULL ? p->message : "");
	f->error = p->error;
	f->expected = p->expected;
	f->observed = p->observed;
	f->details = p->details;
	p->expected = p->observed = NULL;
	p->details = NULL;
	if (p->remedy != NULL)
		svc_set_remedy(f, p->action, p->remedy);
	svc_probe_clear(p);
	return f;
}

static const char *
base_name(const char *path)
{
	const char *b = path;

	for (const char *s = path; *s != '\0'; s++)
		if (*s == '\\' || *s == '/')
			b = s + 1;
	return b;
}

char *
svc_svchost_group(const char *binary_path)
{
	char *s, *save = NULL, *group = NULL;
	const char *t;
	bool k = false;
	size_t j = 0;

	if (binary_path == NULL)
		return NULL;
	/* Quotes only group words here; no svchost path has a space. */
	s = xstrdup(binary_path);
	for (size_t i = 0; s[i] != '\0'; i++)
		if (s[i] != '"')
			s[j++] = s[i];
	s[j] = '\0';
	t = strtok_r(s, " \t", &save);
	if (t == NULL || strcasecmp(base_name(t), "svchost.exe") != 0)
		goto out;
	while ((t = strtok_r(NULL, " \t", &save)) != NULL) {
		if (k) {
			group = xstrdup(t);
			break;
		}
		k = strcasecmp(t, "-k") == 0;
	}
out:
	free(s);
	return group;
}

/* Is name listed in the REG_MULTI_SZ group under the Svchost key? */
static void
group_probe(struct host *h, const char *name, const char *group,
	    struct svc_probe *p)
{
	struct reg_value v = {0};
	hr_t not_in = hr_from_win32(WIN32_SERVICE_NOT_IN_EXE), hr;
	char code[11], *want = xasprintf("%s listed in %s", name, group);
	bool list;

	hr = h->ops->reg_get(h, SVCHOST_KEY, group, &v);
	list = hr == HR_OK && v.type == REGT_MULTI_SZ;
	if (list && strlist_contains_ci(&v.multi, name)) {
		probe_set(p, ST_PASS, HR_OK,
			  "%s is listed in the svchost group %s", name, group);
		probe_values(p, want, "listed");
	} else if (list) {
		probe_set(p, ST_FAIL, not_in,
			  "%s is not listed in the svchost group %s, so "
			  "svchost will not run it",
			  name, group);
		probe_values(p, want, "not listed");
	} else if (hr == HR_OK) {
		probe_set(p, ST_FAIL, not_in,
			  "the svchost group %s is not a REG_MULTI_SZ list, so "
			  "svchost finds no %s in it",
			  group, name);
		probe_values(p, want, "not a REG_MULTI_SZ value");
	} else if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		probe_set(p, ST_FAIL, not_in,
			  "the svchost group %s is not defined (no value %s "
			  "under %s)",
			  group, group, SVCHOST_KEY);
		probe_values(p, want, "no such group");
	} else {
		error_format(hr, code);
		probe_set(p, ST_ERROR, hr,
			  "could not read the svchost group %s (%s)", group,
			  code);
	}
	if (p->status == ST_FAIL)
		probe_remedy(p, NULL,
			     "add %s to the REG_MULTI_SZ value %s under %s, "
			     "keeping the names already listed, then start %s",
			     name, group, SVCHOST_KEY, name);
	reg_value_clear(&v);
	free(want);
}

/* Parameters\ServiceDll, else the service key's own: where svchost
 * looks. *key says where the value was (or was last looked for). */
static hr_t
read_dll(struct host *h, const char *name, struct reg_value *v, char **key)
{
	hr_t hr;

	*key = xasprintf(SERVICES_KEY "%s\\Parameters", name);
	hr = h->ops->reg_get(h, *key, "ServiceDll", v);
	if (hr != hr_from_win32(WIN32_FILE_NOT_FOUND))
		return hr;
	reg_value_clear(v);
	free(*key);
	*key = xasprintf(SERVICES_KEY "%s", name);
	hr = h->ops->reg_get(h, *key, "ServiceDll", v);
	if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		free(*key);
		*key = xasprintf(SERVICES_KEY "%s\\Parameters", name);
	}
	return hr;
}

static void
dll_judge(const char *name, const char *want, hr_t hr,
	  const struct reg_value *v, struct svc_probe *p)
{
	hr_t fnf = hr_from_win32(WIN32_FILE_NOT_FOUND);
	bool str = (v->type == REGT_SZ || v->type == REGT_EXPAND_SZ) &&
		   v->str != NULL && v->str[0] != '\0';
	char code[11];

	if (hr == fnf) {
		probe_set(p, ST_FAIL, fnf,
			  "%s has no ServiceDll, so svchost has nothing to "
			  "load",
			  name);
		probe_values(p, want, "missing");
	} else if (hr != HR_OK) {
		error_format(hr, code);
		probe_set(p, ST_ERROR, hr,
			  "could not read the ServiceDll of %s (%s)", name,
			  code);
	} else if (!str) {
		probe_set(p, ST_FAIL, fnf,
			  "the ServiceDll of %s is empty or not a string, so "
			  "svchost has nothing to load",
			  name);
		probe_values(p, want, "not a file name");
	} else if (want != NULL &&
		   strcasecmp(base_name(v->str), base_name(want)) != 0) {
		probe_set(p, ST_FAIL, fnf,
			  "the ServiceDll of %s names %s, not %s", name,
			  base_name(v->str), base_name(want));
		probe_values(p, want, v->str);
	} else {
		probe_set(p, ST_PASS, HR_OK, "the ServiceDll of %s is %s", name,
			  v->str);
		probe_values(p, want, v->str);
	}
}

/* A ServiceDll to load, naming want's file when want is set. */
static void
dll_probe(struct host *h, const char *name, const char *want,
	  struct svc_probe *p)
{
	struct reg_value v = {0};
	char *key = NULL;
	hr_t hr;

	hr = read_dll(h, name, &v, &key);
	dll_judge(name, want, hr, &v, p);
	if (p->expected == NULL && p->status != ST_ERROR)
		probe_values(p, "a ServiceDll", p->observed);
	if (p->status == ST_FAIL && want != NULL)
		probe_remedy(p, NULL,
			     "reg add \"%s\" /v ServiceDll /t REG_EXPAND_SZ "
			     "/d \"%s\" /f, then start %s",
			     key, want, name);
	else if (p->status == ST_FAIL)
		probe_remedy(
		    p, NULL,
		    "restore the ServiceDll value under %s (repair "
		    "Windows: DISM /Online /Cleanup-Image "
		    "/RestoreHealth, then sfc /scannow), then start %s",
		    key, name);
	p->details = cJSON_CreateObject();
	cJSON_AddStringToObject(p->details, "key", key);
	cJSON_AddItemToObject(p->details, "value",
			      hr == HR_OK ? str_or_null(v.str)
					  : cJSON_CreateNull());
	reg_value_clear(&v);
	free(key);
}

void
svc_probe_group(const struct check_ctx *ctx, const struct svc_spec *spec,
		struct svc_probe *p)
{
	memset(p, 0, sizeof(*p));
	group_probe(ctx->host, spec->service, spec->svchost_group, p);
	p->details = cJSON_CreateObject();
	cJSON_AddStringToObject(p->details, "key", SVCHOST_KEY);
	cJSON_AddStringToObject(p->details, "group", spec->svchost_group);
}

void
svc_probe_dll(const struct check_ctx *ctx, const struct svc_spec *spec,
	      struct svc_probe *p)
{
	memset(p, 0, sizeof(*p));
	dll_probe(ctx->host, spec->service, spec->service_dll, p);
}

static void preconditions(struct host *h, const char *name,
			  const struct svc_config *c, const char *want_dll,
			  struct chain *ch, struct svc_probe *p);

static char *
join(const struct strlist *l, const char *sep, bool groups)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < l->n; i++) {
		if (!groups && l->v[i][0] == '+')
			continue;
		t = xasprintf("%s%s%s", s, s[0] != '\0' ? sep : "", l->v[i]);
		free(s);
		s = t;
	}
	return s;
}

/* A dependency that does not exist: bring it back or drop it from the
 * list of name (as sc calls the service). */
static void
missing_remedy(const char *name, const struct strlist *deps, const char *dep,
	       const char *action, struct svc_probe *q)
{
	struct strlist rest = {0};
	char *list;

	for (size_t i = 0; i < deps->n; i++)
		if (strcasecmp(deps->v[i], dep) != 0)
			strlist_add(&rest, deps->v[i]);
	list = join(&rest, "/", true);
	/* "depend= /" is how sc clears the list. */
	probe_remedy(q, action,
		     "restore the service %s, or take it out of the "
		     "dependencies: sc config %s depend= %s",
		     dep, name, list[0] != '\0' ? list : "/");
	free(list);
	strlist_clear(&rest);
}

/* A stopped dependency is started first: it must be able to start. */
static void
dep_stopped(struct host *h, const char *dep, const struct svc_config *c,
	    struct chain *ch, struct svc_probe *p)
{
	char *why;

	preconditions(h, dep, c, NULL, ch, p);
	why = p->message;
	p->message = NULL;
	if (p->status == ST_FAIL)
		probe_set(p, ST_FAIL, hr_from_win32(WIN32_DEPENDENCY_FAIL),
			  "dependency %s is stopped and cannot start: %s", dep,
			  why);
	else if (p->status == ST_ERROR)
		probe_set(p, ST_ERROR, p->error,
			  "could not tell whether the stopped dependency %s "
			  "can start: %s",
			  dep, why);
	else
		probe_set(p, ST_PASS, HR_OK,
			  "dependency %s is stopped and can start", dep);
	free(why);
}

/* One dependency, judged with the error its dependent would get. */
static void
dep_judge(struct host *h, const char *dep, struct chain *ch,
	  struct svc_probe *p)
{
	struct svc_status st = {0};
	struct svc_config c = {0};
	char code[11];
	hr_t hr;

	hr = h->ops->service_status(h, dep, &st);
	if (hr == HR_OK)
		hr = h->ops->service_config(h, dep, &c);
	if (hr == hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST)) {
		probe_set(p, ST_FAIL,
			  hr_from_win32(WIN32_SERVICE_DEPENDENCY_DELETED),
			  "dependency %s does not exist", dep);
	} else if (hr != HR_OK) {
		error_format(hr, code);
		probe_set(p, ST_ERROR, hr, "could not query dependency %s (%s)",
			  dep, code);
	} else if (c.start_type == SVC_DISABLED) {
		probe_set(p, ST_FAIL, hr_from_win32(WIN32_DEPENDENCY_FAIL),
			  "dependency %s is disabled", dep);
		probe_remedy(p, NULL, "enable %s: sc config %s start= auto",
			     dep, dep);
	} else if (st.state == SVC_STOPPED) {
		dep_stopped(h, dep, &c, ch, p);
	} else {
		probe_set(p, ST_PASS, HR_OK, "dependency %s is %s", dep,
			  svc_state_name(st.state));
	}
	svc_config_clear(&c);
}

static bool
in_chain(const struct chain *ch, const char *name)
{
	for (unsigned i = 0; i < ch->n; i++)
		if (strcasecmp(ch->name[i], name) == 0)
			return true;
	return false;
}

/* What the SCM checks after "not disabled": dependencies, then what
 * svchost needs. p is a pass when nothing is in the way. */
static void
preconditions(struct host *h, const char *name, const struct svc_config *c,
	      const char *want_dll, struct chain *ch, struct svc_probe *p)
{
	struct svc_probe q = {0};
	char *group;

	if (in_chain(ch, name) || ch->n > MAX_DEPTH) {
		probe_set(p, ST_FAIL, hr_from_win32(WIN32_CIRCULAR_DEPENDENCY),
			  "%s depends on itself through its dependencies",
			  name);
		return;
	}
	probe_set(p, ST_PASS, HR_OK, "nothing keeps %s from starting", name);
	ch->name[ch->n++] = name;
	for (size_t i = 0; i < c->dependencies.n && p->status != ST_FAIL; i++) {
		/* "+Group": a load-order group, not a service to start. */
		if (c->dependencies.v[i][0] == '+')
			continue;
		dep_judge(h, c->dependencies.v[i], ch, &q);
		if (q.status == ST_FAIL &&
		    q.error == hr_from_win32(WIN32_SERVICE_DEPENDENCY_DELETED))
			missing_remedy(name, &c->dependencies,
				       c->dependencies.v[i], NULL, &q);
		probe_take_worse(p, &q);
	}
	ch->n--;
	group = svc_svchost_group(c->binary_path);
	if (group != NULL && p->status != ST_FAIL) {
		group_probe(h, name, group, &q);
		probe_take_worse(p, &q);
	}
	if (group != NULL && p->status != ST_FAIL) {
		dll_probe(h, name, want_dll, &q);
		probe_take_worse(p, &q);
	}
	free(group);
}

static cJSON *
verdict_json(const struct svc_probe *q)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", status_name(q->status));
	cJSON_AddItemToObject(o, "error", error_to_json(q->error));
	cJSON_AddStringToObject(o, "detail", q->message);
	return o;
}

/* The summary of the verdicts in worst: one blocker names the fault. */
static void
deps_summary(const struct svc_spec *spec, const struct svc_config *c,
	     size_t bad, struct svc_probe *worst, struct svc_probe *p)
{
	char *list = join(&c->dependencies, ", ", true), *why;

	why = worst->message;
	worst->message = NULL;
	if (worst->status == ST_FAIL) {
		probe_set(p, ST_FAIL, worst->error, "%s cannot start: %s%s",
			  spec->label, why,
			  bad > 1 ? " (and more: see details)" : "");
		if (worst->remedy != NULL)
			probe_remedy(p, worst->action, "%s, then start %s",
				     worst->remedy, spec->label);
	} else if (worst->status == ST_ERROR) {
		probe_set(p, ST_ERROR, worst->error,
			  "could not check every dependency of %s: %s",
			  spec->label, why);
	} else if (list[0] == '\0') {
		probe_set(p, ST_PASS, HR_OK, "%s has no dependencies",
			  spec->label);
	} else {
		probe_set(p, ST_PASS, HR_OK,
			  "the dependencies of %s (%s) exist, are not "
			  "disabled and can start",
			  spec->label, list);
	}
	probe_values(p, NULL, list[0] != '\0' ? list : "none");
	free(why);
	free(list);
}

void
svc_probe_dependencies(const struct check_ctx *ctx, const struct svc_spec *spec,
		       const struct svc_config *c, struct svc_probe *p,
		       struct strlist *missing)
{
	struct svc_probe q = {0}, worst = {0};
	struct chain ch = {.name = {spec->service}, .n = 1};
	hr_t gone = hr_from_win32(WIN32_SERVICE_DEPENDENCY_DELETED);
	cJSON *each = cJSON_CreateObject();
	size_t bad = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < c->dependencies.n; i++) {
		const char *d = c->dependencies.v[i];

		if (d[0] == '+') {
			probe_set(&q, ST_PASS, HR_OK,
				  "load-order group %s, not a service", d + 1);
		} else {
			dep_judge(ctx->host, d, &ch, &q);
			if (q.status == ST_FAIL && q.error == gone)
				missing_remedy(spec->prefix, &c->dependencies,
					       d, spec->repair_action, &q);
			if (q.status == ST_FAIL && q.error == gone &&
			    missing != NULL)
				strlist_add(missing, d);
		}
		cJSON_AddItemToObject(each, d, verdict_json(&q));
		bad += q.status != ST_PASS;
		probe_take_worse(&worst, &q);
	}
	deps_summary(spec, c, bad, &worst, p);
	p->details = cJSON_CreateObject();
	cJSON_AddItemToObject(p->details, "dependencies", each);
	svc_probe_clear(&worst);
}

/* ---- last exit code and can-start ---------------------------------------- */

static void
last_error_fail(const struct svc_spec *spec, const struct svc_status *st,
		struct finding **fp, struct check_result *r)
{
	hr_t hr = svc_exit_hr(st);
	const struct error_info *e = error_lookup(hr);
	bool stopped = st->state == SVC_STOPPED;
	struct finding *f;
	char code[11], *text;

	error_format(hr, code);
	f = add(r, spec, "last_error", stopped ? ST_FAIL : ST_WARN,
		"%s last exited with %s (%s)%s", spec->label, code,
		e != NULL ? e->name : "not in the knowledge base",
		stopped ? "" : "; it is running again");
	f->error = hr;
	finding_set_observed(f, "%s", code);
	if (e != NULL && e->advice != NULL)
		text = xstrdup(e->advice);
	else
		text = xasprintf("look in the System event log for why %s "
				 "stopped",
				 spec->label);
	svc_set_remedy(f, NULL, text);
	free(text);
	*fp = f;
}

void
svc_last_error(const struct svc_spec *spec, struct check_result *r,
	       const struct svc_info *info)
{
	const struct svc_status *st = &info->status;
	struct finding *f;

	if (st->win32_exit_code == WIN32_SERVICE_NEVER_STARTED) {
		f = add(r, spec, "last_error", ST_PASS,
			"%s has not run since boot (exit code 1077, "
			"ERROR_SERVICE_NEVER_STARTED): no error",
			spec->label);
		finding_set_observed(f, "0x80070435");
	} else if (!exited_with_error(st)) {
		f = add(r, spec, "last_error", ST_PASS,
			"%s reports no error from its last run (exit code 0)",
			spec->label);
		finding_set_observed(f, "0");
	} else {
		last_error_fail(spec, st, &f, r);
	}
	finding_set_expected(f, "no error");
	f->details = cJSON_CreateObject();
	cJSON_AddNumberToObject(f->details, "win32_exit_code",
				st->win32_exit_code);
	cJSON_AddNumberToObject(f->details, "service_exit_code",
				st->service_exit_code);
}

/* Put what blocks the start (from preconditions) in the service's words. */
static void
can_start_words(const struct svc_spec *spec, const struct svc_info *info,
		struct svc_probe *p)
{
	char code[11], *why = p->message, *group;

	p->message = NULL;
	error_format(p->error, code);
	group = svc_svchost_group(info->config.binary_path);
	if (p->status == ST_FAIL && p->remedy != NULL)
		probe_remedy(p, p->action, "%s, then start %s", p->remedy,
			     spec->label);
	if (p->status == ST_FAIL)
		probe_set(p, ST_FAIL, p->error,
			  "%s cannot start: %s; sc start %s would fail with %s",
			  spec->label, why, spec->prefix, code);
	else if (p->status == ST_ERROR)
		probe_set(p, ST_ERROR, p->error,
			  "could not tell whether %s can start: %s",
			  spec->label, why);
	else
		probe_set(p, ST_PASS, HR_OK,
			  "%s %s: it is not disabled, its dependencies can "
			  "start%s%s%s",
			  spec->label,
			  info->status.state == SVC_STOPPED
			      ? "can start"
			      : "is up and could start again",
			  group != NULL ? ", it is listed in the svchost group "
					: "",
			  group != NULL ? group : "",
			  group != NULL ? " and has its ServiceDll" : "");
	free(group);
	free(why);
}

void
svc_can_start(const struct check_ctx *ctx, const struct svc_spec *spec,
	      struct check_result *r, const struct svc_info *info)
{
	struct svc_probe p = {0};
	struct chain ch = {0};
	char code[11];

	if (!info->have_config) {
		error_format(info->config_hr, code);
		probe_set(&p, ST_ERROR, info->config_hr,
			  "could not read the configuration of %s (%s), so "
			  "whether it can start is unknown",
			  spec->label, code);
	} else if (info->config.start_type == SVC_DISABLED) {
		probe_set(&p, ST_FAIL, hr_from_win32(WIN32_SERVICE_DISABLED),
			  "%s is disabled; sc start %s would fail with "
			  "0x80070422",
			  spec->label, spec->prefix);
		probe_remedy(&p, spec->enable_action,
			     "enable the service: sc config %s start= %s",
			     spec->prefix, spec->enable_start);
	} else {
		preconditions(ctx->host, spec->service, &info->config,
			      spec->service_dll, &ch, &p);
		can_start_words(spec, info, &p);
	}
	probe_values(&p, "able to start",
		     p.status == ST_PASS   ? "able to start"
		     : p.status == ST_FAIL ? "cannot start"
					   : "unknown");
	svc_probe_add(r, spec, "can_start", &p);
}

/* ---- shared by a check and the action that repairs what it finds ------ */

bool
svc_is_local_system(const char *account)
{
	return account != NULL && (strcasecmp(account, "LocalSystem") == 0 ||
				   strcasecmp(account, ".\\LocalSystem") == 0);
}

static const char *const svchost_paths[] = {
    "%SystemRoot%\\System32\\svchost.exe",
    "%windir%\\System32\\svchost.exe",
    "C:\\Windows\\System32\\svchost.exe",
};

static bool
is_svchost(const char *exe)
{
	for (size_t i = 0; i < sizeof(svchost_paths) / sizeof(*svchost_paths);
	     i++)
		if (strcasecmp(exe, svchost_paths[i]) == 0)
			return true;
	return false;
}

bool
svc_binpath_in_group(const char *binary_path, const char *group)
{
	char *s, *save = NULL, *tok[5] = {NULL};
	size_t n = 0, j = 0;
	bool ok;

	if (binary_path == NULL)
		return false;
	s = xstrdup(binary_path);
	for (size_t i = 0; s[i] != '\0'; i++)
		if (s[i] != '"')
			s[j++] = s[i];
	s[j] = '\0';
	for (char *t = strtok_r(s, " \t", &save); t != NULL && n < 5;
	     t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	ok = (n == 3 || n == 4) && is_svchost(tok[0]) &&
	     strcasecmp(tok[1], "-k") == 0 && strcasecmp(tok[2], group) == 0 &&
	     (n == 3 || strcasecmp(tok[3], "-p") == 0);
	free(s);
	return ok;
}

cJSON *
svc_failure_json(uint32_t reset_s, const struct svc_action *a, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *acts;
	char buf[48];

	cJSON_AddNumberToObject(o, "reset_s", reset_s);
	acts = cJSON_AddArrayToObject(o, "actions");
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", svc_action_name(a[i].type),
			 a[i].delay_ms);
		cJSON_AddItemToArray(acts, cJSON_CreateString(buf));
	}
	return o;
}
