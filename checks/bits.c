/*
 * bits.c: "Check for issues relating to BITS" and "Issues with BITS":
 * the service must exist, be able to start, run as LocalSystem from
 * svchost's netsvcs group, and have what "BITS fails to start" lists
 * (its name in netsvcs, its ServiceDll, the dependencies of its Windows
 * version) and what "Repair a corrupted BITS configuration" sets; and
 * the articles' first remedy, "sc stop bits, sc start bits", as the
 * restart-bits action.
 */
#include "checks/bits_baseline.h"
#include "checks/registry.h"
#include "checks/svc.h"
#include "checks/svc_steps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define BITS_SERVICE "BITS"
#define BITS_BINPATH "%SystemRoot%\\System32\\svchost.exe -k netsvcs"

static const struct svc_spec bits_spec = {
    .service = BITS_SERVICE,
    .prefix = "bits",
    .label = "BITS",
    /* What "Repair a corrupted BITS configuration" sets. */
    .enable_start = "delayed-auto",
    .enable_action = "repair-bits",
    .start_action = "restart-bits",
    .missing_remedy =
	"BITS is not registered with the Service Control Manager: recreate "
	"it (sc create bits type= share binpath= \"" BITS_BINPATH "\" obj= "
	"LocalSystem) and apply \"Repair a corrupted BITS configuration\"",
    .svchost_group = "netsvcs",
    .service_dll = "%SystemRoot%\\System32\\qmgr.dll",
    .repair_action = "repair-bits",
};

/* ---- the check --------------------------------------------------------- */

static void
judge_account(struct check_result *r, const struct svc_config *c)
{
	struct finding *f;

	if (svc_is_local_system(c->account)) {
		f = result_add(r, "bits.account", ST_PASS,
			       "BITS runs under the LocalSystem account");
	} else {
		f = result_add(r, "bits.account", ST_FAIL,
			       "BITS must run under the LocalSystem account");
		svc_set_remedy(f, "repair-bits",
			       "sc config bits obj= LocalSystem, then restart "
			       "BITS");
	}
	finding_set_expected(f, "LocalSystem");
	if (c->account != NULL)
		finding_set_observed(f, "%s", c->account);
}

static void
judge_binpath(struct check_result *r, const struct svc_config *c)
{
	struct finding *f;
	const char *p = c->binary_path;

	if (svc_binpath_in_group(p, "netsvcs")) {
		f = result_add(r, "bits.binary_path", ST_PASS,
			       "BITS runs in the netsvcs svchost group");
	} else if (p != NULL && strstr(p, "\xe2\x80\x93k") != NULL) {
		/* The article's own sc command has an en dash. */
		f = result_add(r, "bits.binary_path", ST_FAIL,
			       "the BITS binary path has an en dash (\xe2\x80"
			       "\x93k) where svchost needs -k, as when "
			       "copied from the article");
	} else {
		f = result_add(r, "bits.binary_path", ST_FAIL,
			       "BITS must run as svchost.exe -k netsvcs");
	}
	if (f->status != ST_PASS)
		svc_set_remedy(f, "repair-bits",
			       "sc config bits binpath= \"" BITS_BINPATH
			       "\", then restart BITS");
	finding_set_expected(f, BITS_BINPATH);
	if (p != NULL)
		finding_set_observed(f, "%s", p);
}

/* ---- what "BITS fails to start" lists ------------------------------------ */

static void
judge_group(const struct check_ctx *ctx, struct check_result *r)
{
	struct svc_probe p;

	svc_probe_group(ctx, &bits_spec, &p);
	svc_probe_add(r, &bits_spec, "svchost_group", &p);
}

static void
judge_dll(const struct check_ctx *ctx, struct check_result *r)
{
	struct svc_probe p;

	svc_probe_dll(ctx, &bits_spec, &p);
	svc_probe_add(r, &bits_spec, "service_dll", &p);
}

/* The table's dependency lists, by the version RtlGetVersion reports. */
struct os_deps {
	unsigned major, minor; /* minor ANY_MINOR: every minor */
	const char *os;
	const char *expected[4];
	/* Vista's peer caching adds http.sys and LanmanWorkstation. */
	const char *allowed[3];
};

#define ANY_MINOR 0xFFFFFFFFu
#define N_OF(a)	  (sizeof(a) / sizeof((a)[0]))

static const struct os_deps os_deps[] = {
    {5, 0, "Windows 2000", {"RpcSs", "SENS", "Wmi"}, {NULL}},
    {5, 1, "Windows XP", {"RpcSs"}, {NULL}},
    /* XP x64 is 5.2 too: it is Server 2003's code. */
    {5, 2, "Windows Server 2003", {"RpcSs", "EventSystem"}, {NULL}},
    {6,
     ANY_MINOR,
     "Windows Vista and later",
     {"RpcSs", "EventSystem"},
     {"LanmanWorkstation", "HTTP"}},
    /* Windows 10 and 11 report 10.0. */
    {10,
     ANY_MINOR,
     "Windows Vista and later",
     {"RpcSs", "EventSystem"},
     {"LanmanWorkstation", "HTTP"}},
};

static const struct os_deps *
os_deps_for(const char *version)
{
	unsigned major, minor;
	size_t n = sizeof(os_deps) / sizeof(os_deps[0]);

	if (version == NULL || sscanf(version, "%u.%u", &major, &minor) != 2)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (os_deps[i].major == major &&
		    (os_deps[i].minor == ANY_MINOR ||
		     os_deps[i].minor == minor))
			return &os_deps[i];
	/* A later Windows keeps Vista's list until a table says otherwise. */
	return major > 10 ? &os_deps[n - 1] : NULL;
}

static bool
in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n && l[i] != NULL; i++)
		if (strcasecmp(l[i], s) == 0)
			return true;
	return false;
}

static size_t
list_len(const char *const *l, size_t cap)
{
	size_t n = 0;

	while (n < cap && l[n] != NULL)
		n++;
	return n;
}

static char *
list_join(const char *const *l, size_t n, const char *sep)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < n; i++) {
		t = xasprintf("%s%s%s", s, i > 0 ? sep : "", l[i]);
		free(s);
		s = t;
	}
	return s;
}

/* What the list lacks and has too, against the table's row. */
struct deps_diff {
	struct strlist missing, unexpected;
};

static void
deps_diff(const struct os_deps *row, const struct strlist *deps,
	  struct deps_diff *d)
{
	size_t ne = list_len(row->expected, N_OF(row->expected)),
	       na = list_len(row->allowed, N_OF(row->allowed));

	for (size_t i = 0; i < ne; i++)
		if (!strlist_contains_ci(deps, row->expected[i]))
			strlist_add(&d->missing, row->expected[i]);
	for (size_t i = 0; i < deps->n; i++)
		if (!in_list(row->expected, ne, deps->v[i]) &&
		    !in_list(row->allowed, na, deps->v[i]))
			strlist_add(&d->unexpected, deps->v[i]);
}

static cJSON *
json_list(const char *const *l, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l[i]));
	return a;
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
deps_warn(const struct os_deps *row, const struct deps_diff *d,
	  struct svc_probe *p)
{
	char *l;

	free(p->message);
	p->message = xasprintf("the BITS dependency list differs from the "
			       "one for %s",
			       row->os);
	if (d->missing.n > 0) {
		l = list_join((const char *const *)d->missing.v, d->missing.n,
			      ", ");
		append(&p->message, "; it lacks %s", l);
		free(l);
	}
	if (d->unexpected.n > 0) {
		l = list_join((const char *const *)d->unexpected.v,
			      d->unexpected.n, ", ");
		append(&p->message, "; it also has %s", l);
		free(l);
	}
	p->status = ST_WARN;
}

/* Which remedy fits: the repair sets the table's list, which brings
 * back no service that Windows itself lacks. */
static void
deps_remedy(const struct os_deps *row, const struct strlist *gone,
	    struct svc_probe *p)
{
	size_t ne = list_len(row->expected, N_OF(row->expected));
	char *want = list_join(row->expected, ne, "/");
	bool part_of_windows = false;

	for (size_t i = 0; i < gone->n; i++)
		part_of_windows |= in_list(row->expected, ne, gone->v[i]);
	if (p->status == ST_FAIL && part_of_windows) {
		free(p->remedy);
		p->remedy = xstrdup(
		    "a service BITS needs is not installed: repair Windows "
		    "(DISM /Online /Cleanup-Image /RestoreHealth, then sfc "
		    "/scannow), then start BITS");
		p->action = NULL;
	} else if (p->status == ST_WARN ||
		   (p->status == ST_FAIL &&
		    p->error ==
			hr_from_win32(WIN32_SERVICE_DEPENDENCY_DELETED))) {
		free(p->remedy);
		p->remedy = xasprintf("sc config bits depend= %s, then "
				      "restart BITS",
				      want);
		p->action = "repair-bits";
	}
	free(want);
}

/* Against the table's list for this Windows; a lacking dependency is
 * a warning, a broken one already failed in the probe. */
static void
deps_expected(const struct check_ctx *ctx, const struct strlist *deps,
	      const struct strlist *gone, struct svc_probe *p)
{
	struct host *h = ctx->host;
	struct computer_info ci = {0};
	const struct os_deps *row = NULL;
	struct deps_diff d = {0};
	hr_t hr;

	hr = h->ops->computer(h, &ci);
	if (hr == HR_OK)
		row = os_deps_for(ci.os_version);
	cJSON_AddItemToObject(p->details, "os_version",
			      ci.os_version != NULL
				  ? cJSON_CreateString(ci.os_version)
				  : cJSON_CreateNull());
	if (row == NULL) {
		/* The list can still be judged service by service. */
		cJSON_AddNullToObject(p->details, "expected");
		cJSON_AddItemToObject(p->details, "os_error",
				      error_to_json(hr));
		goto out;
	}
	deps_diff(row, deps, &d);
	cJSON_AddStringToObject(p->details, "expected_for", row->os);
	cJSON_AddItemToObject(
	    p->details, "expected",
	    json_list(row->expected,
		      list_len(row->expected, N_OF(row->expected))));
	cJSON_AddItemToObject(
	    p->details, "allowed",
	    json_list(row->allowed,
		      list_len(row->allowed, N_OF(row->allowed))));
	cJSON_AddItemToObject(
	    p->details, "missing",
	    json_list((const char *const *)d.missing.v, d.missing.n));
	cJSON_AddItemToObject(
	    p->details, "unexpected",
	    json_list((const char *const *)d.unexpected.v, d.unexpected.n));
	free(p->expected);
	p->expected = list_join(
	    row->expected, list_len(row->expected, N_OF(row->expected)), ", ");
	if (p->status == ST_PASS && (d.missing.n > 0 || d.unexpected.n > 0))
		deps_warn(row, &d, p);
	deps_remedy(row, gone, p);
out:
	strlist_clear(&d.missing);
	strlist_clear(&d.unexpected);
	computer_info_clear(&ci);
}

static void
judge_dependencies(const struct check_ctx *ctx, struct check_result *r,
		   const struct svc_info *info)
{
	struct svc_probe p = {0};
	struct strlist gone = {0};
	char code[11];

	if (!info->have_config) {
		error_format(info->config_hr, code);
		p.status = ST_ERROR;
		p.error = info->config_hr;
		p.message = xasprintf("could not read the dependencies of BITS "
				      "(%s)",
				      code);
	} else {
		svc_probe_dependencies(ctx, &bits_spec, &info->config, &p,
				       &gone);
		deps_expected(ctx, &info->config.dependencies, &gone, &p);
	}
	svc_probe_add(r, &bits_spec, "dependencies", &p);
	strlist_clear(&gone);
}

/* ---- the repair baseline ------------------------------------------------ */

/*
 * What "Repair a corrupted BITS configuration" sets, field by field. Some
 * of the article's sc lines do not run as printed (an en dash, "type=",
 * "privileges=", "SeIncreateQuotaPrivilege"); the values are what they
 * mean, and the fixes below are commands sc accepts.
 */
/* The article's spelling of SeIncreaseQuotaPrivilege. */
#define SEED_TYPO_PRIV "SeIncreateQuotaPrivilege"
#define BASELINE_PRIVS                                                         \
	"SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege/"       \
	"SeAssignPrimaryTokenPrivilege/SeIncreaseQuotaPrivilege"

const char *const bits_baseline_privs[] = {
    "SeCreateGlobalPrivilege",	"SeImpersonatePrivilege",
    "SeTcbPrivilege",		"SeAssignPrimaryTokenPrivilege",
    "SeIncreaseQuotaPrivilege",
};
const size_t bits_baseline_n_privs =
    sizeof(bits_baseline_privs) / sizeof(bits_baseline_privs[0]);

const struct svc_action bits_baseline_actions[] = {
    {SVC_ACTION_RESTART, 60000},
    {SVC_ACTION_RESTART, 120000},
};
const size_t bits_baseline_n_actions =
    sizeof(bits_baseline_actions) / sizeof(bits_baseline_actions[0]);

/* One field as read. */
struct field {
	hr_t hr; /* why it could not be read; HR_OK when read */
	bool match;
	cJSON *expected, *observed; /* observed NULL when not read */
	cJSON *more;		    /* further details of the field */
};

struct baseline_field {
	const char *key;   /* in details */
	const char *label; /* in messages */
	const char *fix;   /* the sc command that sets it */
	void (*read)(const struct check_ctx *ctx, const struct svc_info *info,
		     struct field *fl);
};

static void
read_start(const struct check_ctx *ctx, const struct svc_info *info,
	   struct field *fl)
{
	const char *o;

	(void)ctx;
	fl->expected = cJSON_CreateString("delayed-auto");
	if (!info->have_config) {
		fl->hr = info->config_hr;
	} else if (info->config.start_type == SVC_AUTO_START &&
		   !info->have_delayed) {
		/* Only the Config2 level tells auto from delayed-auto. */
		fl->hr = info->delayed_hr;
	} else {
		o = svc_start_observed(info);
		fl->observed = cJSON_CreateString(o);
		fl->match = strcmp(o, "delayed-auto") == 0;
	}
}

static void
read_errctl(const struct check_ctx *ctx, const struct svc_info *info,
	    struct field *fl)
{
	enum svc_error_control e = info->config.error_control;

	(void)ctx;
	fl->expected = cJSON_CreateString("normal");
	if (!info->have_config) {
		fl->hr = info->config_hr;
		return;
	}
	fl->observed = cJSON_CreateString(svc_error_control_name(e));
	fl->match = e == SVC_ERROR_NORMAL;
}

/* Privileges are a set: order and case do not matter. */
static void
privs_diff(const struct strlist *l, struct field *fl)
{
	struct strlist miss = {0}, extra = {0};

	for (size_t i = 0; i < bits_baseline_n_privs; i++)
		if (!strlist_contains_ci(l, bits_baseline_privs[i]))
			strlist_add(&miss, bits_baseline_privs[i]);
	for (size_t i = 0; i < l->n; i++)
		if (!in_list(bits_baseline_privs, bits_baseline_n_privs,
			     l->v[i]))
			strlist_add(&extra, l->v[i]);
	fl->match = miss.n == 0 && extra.n == 0;
	cJSON_AddItemToObject(fl->more, "missing",
			      json_list((const char *const *)miss.v, miss.n));
	cJSON_AddItemToObject(fl->more, "unexpected",
			      json_list((const char *const *)extra.v, extra.n));
	if (strlist_contains_ci(l, SEED_TYPO_PRIV))
		cJSON_AddStringToObject(fl->more, "note",
					SEED_TYPO_PRIV
					" is the article's "
					"misspelling of "
					"SeIncreaseQuotaPrivilege");
	strlist_clear(&miss);
	strlist_clear(&extra);
}

static void
read_privs(const struct check_ctx *ctx, const struct svc_info *info,
	   struct field *fl)
{
	struct host *h = ctx->host;
	struct strlist l = {0};

	(void)info;
	fl->expected = json_list(bits_baseline_privs, bits_baseline_n_privs);
	fl->hr = h->ops->service_privileges(h, BITS_SERVICE, &l);
	if (fl->hr == HR_OK) {
		fl->observed = json_list((const char *const *)l.v, l.n);
		privs_diff(&l, fl);
	}
	strlist_clear(&l);
}

static void
read_sid(const struct check_ctx *ctx, const struct svc_info *info,
	 struct field *fl)
{
	struct host *h = ctx->host;
	enum svc_sid_type t = SVC_SID_NONE;

	(void)info;
	fl->expected = cJSON_CreateString("unrestricted");
	fl->hr = h->ops->service_sid_type(h, BITS_SERVICE, &t);
	if (fl->hr == HR_OK) {
		fl->observed = cJSON_CreateString(svc_sid_type_name(t));
		fl->match = t == SVC_SID_UNRESTRICTED;
	}
}

static void
read_failure(const struct check_ctx *ctx, const struct svc_info *info,
	     struct field *fl)
{
	struct host *h = ctx->host;
	struct svc_failure_actions fa = {0};
	size_t n;

	(void)info;
	fl->expected =
	    svc_failure_json(BITS_BASELINE_RESET_S, bits_baseline_actions,
			     bits_baseline_n_actions);
	fl->hr = h->ops->service_failure_actions(h, BITS_SERVICE, &fa);
	if (fl->hr == HR_OK) {
		/* Trailing "none" actions do nothing: the same as none
		 * given (Windows lists one after BITS's two restarts). */
		for (n = fa.n;
		     n > 0 && fa.actions[n - 1].type == SVC_ACTION_NONE; n--)
			;
		fl->observed = svc_failure_json(fa.reset_s, fa.actions, n);
		fl->match = fa.reset_s == BITS_BASELINE_RESET_S &&
			    n == bits_baseline_n_actions;
		for (size_t i = 0; fl->match && i < n; i++)
			fl->match = fa.actions[i].type ==
					bits_baseline_actions[i].type &&
				    fa.actions[i].delay_ms ==
					bits_baseline_actions[i].delay_ms;
	}
	svc_failure_actions_clear(&fa);
}

static const struct baseline_field baseline_fields[] = {
    {"start_type", "start type", "sc config bits start= delayed-auto",
     read_start},
    {"error_control", "error control", "sc config bits error= normal",
     read_errctl},
    {"required_privileges", "required privileges",
     "sc privs bits " BASELINE_PRIVS, read_privs},
    {"sid_type", "SID type", "sc sidtype bits unrestricted", read_sid},
    {"failure_actions", "failure actions",
     "sc failure bits reset= 86400 actions= restart/60000/restart/120000",
     read_failure},
};
#define N_FIELDS (sizeof(baseline_fields) / sizeof(baseline_fields[0]))

/* {"expected", "observed", "status": match|differs|unknown, "error"}. */
static cJSON *
field_json(struct field *fl)
{
	cJSON *o = cJSON_CreateObject(), *it;

	cJSON_AddItemToObject(o, "expected", fl->expected);
	cJSON_AddItemToObject(o, "observed",
			      fl->observed != NULL ? fl->observed
						   : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "status",
				fl->hr != HR_OK ? "unknown"
				: fl->match	? "match"
						: "differs");
	if (fl->hr != HR_OK)
		cJSON_AddItemToObject(o, "error", error_to_json(fl->hr));
	while ((it = fl->more->child) != NULL) {
		cJSON_DetachItemViaPointer(fl->more, it);
		cJSON_AddItemToObject(o, it->string, it);
	}
	cJSON_Delete(fl->more);
	memset(fl, 0, sizeof(*fl));
	return o;
}

/* The fields sorted by outcome, as lists for the message. */
struct tally {
	char *same, *differ, *unknown, *fixes;
	hr_t first_hr; /* of the first field that could not be read */
};

static void
tally_field(const struct baseline_field *bf, const struct field *fl,
	    struct tally *t)
{
	char code[11];

	if (fl->hr != HR_OK) {
		error_format(fl->hr, code);
		append(&t->unknown, "%s%s (%s)", t->unknown ? ", " : "",
		       bf->label, code);
		if (t->first_hr == HR_OK)
			t->first_hr = fl->hr;
	} else if (!fl->match) {
		append(&t->differ, "%s%s", t->differ ? ", " : "", bf->label);
		append(&t->fixes, "%s%s", t->fixes ? "; " : "", bf->fix);
	} else {
		append(&t->same, "%s%s", t->same ? ", " : "", bf->label);
	}
}

/* Differences warn; what could not be read is said, and only a
 * baseline of which nothing could be read is an error. */
static struct finding *
baseline_finding(struct check_result *r, const struct tally *t)
{
	struct finding *f;
	char *text;

	if (t->differ != NULL) {
		f = result_add(
		    r, "bits.baseline", ST_WARN,
		    "BITS differs from the repair baseline in %s%s%s",
		    t->differ, t->unknown ? "; could not read " : "",
		    t->unknown ? t->unknown : "");
		text = xasprintf("%s, then restart BITS", t->fixes);
		svc_set_remedy(f, "repair-bits", text);
		free(text);
	} else if (t->same == NULL) {
		f = result_add(r, "bits.baseline", ST_ERROR,
			       "could not read any field of the BITS repair "
			       "baseline: %s",
			       t->unknown);
		f->error = t->first_hr;
	} else if (t->unknown != NULL) {
		f = result_add(r, "bits.baseline", ST_PASS,
			       "BITS matches the repair baseline in %s; could "
			       "not read %s",
			       t->same, t->unknown);
	} else {
		f = result_add(r, "bits.baseline", ST_PASS,
			       "BITS matches the repair baseline (%s)",
			       t->same);
	}
	return f;
}

static void
judge_baseline(const struct check_ctx *ctx, struct check_result *r,
	       const struct svc_info *info)
{
	struct tally t = {0};
	struct field fl;
	cJSON *details = cJSON_CreateObject();

	for (size_t i = 0; i < N_FIELDS; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.more = cJSON_CreateObject();
		baseline_fields[i].read(ctx, info, &fl);
		tally_field(&baseline_fields[i], &fl, &t);
		cJSON_AddItemToObject(details, baseline_fields[i].key,
				      field_json(&fl));
	}
	baseline_finding(r, &t)->details = details;
	free(t.same);
	free(t.differ);
	free(t.unknown);
	free(t.fixes);
}

static void
bits_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct svc_info info;

	if (svc_inspect(ctx, &bits_spec, r, NULL, &info)) {
		judge_account(r, &info.config);
		judge_binpath(r, &info.config);
	}
	/* The rest reads more than the configuration: each finding says
	 * what it could not read. */
	if (info.exists) {
		judge_group(ctx, r);
		judge_dll(ctx, r);
		judge_dependencies(ctx, r, &info);
		judge_baseline(ctx, r, &info);
		svc_last_error(&bits_spec, r, &info);
	}
	svc_info_clear(&info);
}

const struct check check_bits = {
    .id = "bits",
    .title = "Background Intelligent Transfer Service",
    .description = "BITS exists, is not disabled, is running or able to "
		   "start, runs under LocalSystem in the netsvcs svchost "
		   "group with its ServiceDll (qmgr.dll) and the "
		   "dependencies of its Windows version, matches the "
		   "repair baseline (start type, error control, privileges, "
		   "SID type, failure actions), and its last exit code",
    .seed_section = "Check for issues relating to BITS / Issues with BITS",
    .time_limit_ms = 10000,
    .run = bits_run,
};

/* ---- restart-bits ------------------------------------------------------ */

static const char *const restart_bits_steps[] = {
    "stop BITS", "wait for BITS to stop", "start BITS", "wait for BITS to run",
    NULL,
};
_Static_assert(N_OF(restart_bits_steps) == SVC_RESTART_STEPS + 1,
	       "a name for each step of svc_restart");

/* Every step is listed: those after a failure say they did not run. */
static void
restart_bits_run(const struct action_ctx *ctx, struct action_result *a)
{
	struct svc_guard g;
	const char *failed = NULL;

	svc_guard_read(ctx, &g, BITS_SERVICE, "delayed-auto");
	for (size_t i = 0; restart_bits_steps[i] != NULL; i++) {
		struct step *s =
		    action_add_step(a, "%s", restart_bits_steps[i]);
		uint64_t t0;
		hr_t hr;

		if (failed != NULL) {
			s->status = STEP_SKIPPED;
			step_set_detail(s, "not run: \"%s\" failed", failed);
			continue;
		}
		t0 = plat_now_ms();
		hr = svc_restart[i](ctx, &g, s);
		s->duration_ms = plat_now_ms() - t0;
		if (hr != HR_OK) {
			s->status = STEP_FAILED;
			s->error = hr;
			a->status = ACT_FAILED;
			failed = restart_bits_steps[i];
		}
	}
	svc_record_restart(ctx, &g, a);
}

const struct action action_restart_bits = {
    .id = "restart-bits",
    .title = "Restart BITS",
    .description = "Stop and start the Background Intelligent Transfer "
		   "Service (sc stop bits, sc start bits), the articles' "
		   "first remedy for BITS issues; a stopped BITS is started",
    .target = "bits",
    .steps = restart_bits_steps,
    .changes = "the BITS service state (its process is restarted; "
	       "transfers resume where they were)",
    .verify_check = "bits",
    .run = restart_bits_run,
};
