/*
 * host_win32.c: the real Windows host: open/close, the ops table, the
 * computer's identity and the services, through the Service Control
 * Manager.
 *
 * Each service operation opens the SCM and the service with the least
 * access it needs, makes its one call and closes both; nothing is cached,
 * so a change made by sc.exe or services.msc is seen at once and threads
 * share nothing. Optional configuration (QueryServiceConfig2W) is what
 * the SCM says it is: a level the SCM does not know (Wine answers
 * ERROR_INVALID_LEVEL for several) is that error, never a default.
 */
#include "platform/host_win32_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/xalloc.h"
#include "platform/probe.h"

struct w32host {
	struct host base;
};

/* ---- computer ---------------------------------------------------------- */

typedef LONG(WINAPI *rtl_get_version_fn)(OSVERSIONINFOW *);

/* RtlGetVersion tells the truth where GetVersionExW is shimmed. */
static hr_t
os_version(char **out)
{
	OSVERSIONINFOW vi;
	rtl_get_version_fn fn;
	HMODULE ntdll;
	LONG st;

	if ((ntdll = GetModuleHandleW(L"ntdll.dll")) == NULL)
		return w32_last_hr();
	fn = (rtl_get_version_fn)(void (*)(void))GetProcAddress(
	    ntdll, "RtlGetVersion");
	if (fn == NULL)
		return w32_last_hr();
	memset(&vi, 0, sizeof(vi));
	vi.dwOSVersionInfoSize = sizeof(vi);
	if ((st = fn(&vi)) != 0)
		/* An NTSTATUS, wrapped as HRESULT_FROM_NT does. */
		return (hr_t)st | 0x10000000u;
	*out = xasprintf("%lu.%lu.%lu", vi.dwMajorVersion, vi.dwMinorVersion,
			 vi.dwBuildNumber);
	return HR_OK;
}

static hr_t
dns_hostname(char **out)
{
	wchar_t *buf = NULL;
	DWORD n = 0;
	hr_t hr = HR_OK;

	/* The first call says how much room the name needs. */
	if (!GetComputerNameExW(ComputerNameDnsHostname, NULL, &n) &&
	    GetLastError() != ERROR_MORE_DATA) {
		hr = w32_last_hr();
		goto out;
	}
	buf = xcalloc((size_t)n + 1, sizeof(*buf));
	if (!GetComputerNameExW(ComputerNameDnsHostname, buf, &n)) {
		hr = w32_last_hr();
		goto out;
	}
	*out = w32_utf8(buf);
out:
	free(buf);
	return hr;
}

static hr_t
w32_computer(struct host *h, struct computer_info *out)
{
	struct reg_value v = {0};
	hr_t hr;

	memset(out, 0, sizeof(*out));
	if ((hr = dns_hostname(&out->name)) != HR_OK ||
	    (hr = os_version(&out->os_version)) != HR_OK)
		goto out;
	hr = w32_reg_get(h, "HKLM\\SOFTWARE\\Microsoft\\Cryptography",
			 "MachineGuid", &v);
	/* A machine without a MachineGuid has none to report. */
	if (hr == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		hr = HR_OK;
	} else if (hr == HR_OK && v.type == REGT_SZ) {
		out->machine_guid = v.str;
		v.str = NULL;
	} else if (hr == HR_OK) {
		hr = hr_from_win32(WIN32_INVALID_DATA);
	}
out:
	reg_value_clear(&v);
	if (hr != HR_OK)
		computer_info_clear(out);
	return hr;
}

/* ---- opening services -------------------------------------------------- */

struct svc {
	SC_HANDLE scm, svc;
	bool locked;
};

/*
 * One service operation at a time in this process. Under Wine 8, checks
 * that talk to the service manager from several threads at once (GET
 * /report) now and then get ERROR_INVALID_HANDLE for handles they have
 * just opened (3 reports in 300). Each operation here is a few round
 * trips, and the service manager serializes its database anyway, so
 * Windows loses next to nothing.
 */
static SRWLOCK svc_lock = SRWLOCK_INIT;

static void
svc_close(struct svc *s)
{
	if (s->svc != NULL)
		CloseServiceHandle(s->svc);
	if (s->scm != NULL)
		CloseServiceHandle(s->scm);
	if (s->locked)
		ReleaseSRWLockExclusive(&svc_lock);
	s->svc = s->scm = NULL;
	s->locked = false;
}

/* SC_MANAGER_CONNECT is all OpenServiceW needs of the SCM. */
static hr_t
svc_open(const char *name, DWORD access, struct svc *s)
{
	wchar_t *wname = NULL;
	hr_t hr;

	s->scm = s->svc = NULL;
	s->locked = false;
	if (name == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(name, &wname)) != HR_OK)
		return hr;
	AcquireSRWLockExclusive(&svc_lock);
	s->locked = true;
	if ((s->scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL ||
	    (s->svc = OpenServiceW(s->scm, wname, access)) == NULL) {
		hr = w32_last_hr();
		svc_close(s);
	}
	free(wname);
	return hr;
}

/* ---- queries ----------------------------------------------------------- */

static hr_t
w32_service_status(struct host *h, const char *name, struct svc_status *out)
{
	SERVICE_STATUS_PROCESS ssp;
	struct svc s;
	DWORD need;
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	if ((hr = svc_open(name, SERVICE_QUERY_STATUS, &s)) != HR_OK)
		return hr;
	if (!QueryServiceStatusEx(s.svc, SC_STATUS_PROCESS_INFO, (BYTE *)&ssp,
				  sizeof(ssp), &need)) {
		hr = w32_last_hr();
		goto out;
	}
	out->type = ssp.dwServiceType;
	out->state = (enum svc_state)ssp.dwCurrentState;
	out->controls_accepted = ssp.dwControlsAccepted;
	out->win32_exit_code = ssp.dwWin32ExitCode;
	out->service_exit_code = ssp.dwServiceSpecificExitCode;
	out->pid = ssp.dwProcessId;
out:
	svc_close(&s);
	return hr;
}

/*
 * The two-call pattern: ask for the size, then fetch. The configuration
 * can grow between the calls (someone runs sc config), so ask again while
 * the buffer is too small.
 */
static hr_t
query_config(SC_HANDLE svc, QUERY_SERVICE_CONFIGW **out)
{
	DWORD size = 0, need = 0;

	*out = NULL;
	for (;;) {
		if (QueryServiceConfigW(svc, *out, size, &need))
			return HR_OK;
		if (GetLastError() != ERROR_INSUFFICIENT_BUFFER ||
		    need <= size) {
			free(*out);
			*out = NULL;
			return w32_last_hr();
		}
		free(*out);
		size = need;
		*out = xmalloc(size);
	}
}

static hr_t
w32_service_config(struct host *h, const char *name, struct svc_config *out)
{
	QUERY_SERVICE_CONFIGW *qc = NULL;
	struct svc s;
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	if ((hr = svc_open(name, SERVICE_QUERY_CONFIG, &s)) != HR_OK)
		return hr;
	if ((hr = query_config(s.svc, &qc)) != HR_OK)
		goto out;
	out->type = qc->dwServiceType;
	out->start_type = (enum svc_start)qc->dwStartType;
	out->error_control = (enum svc_error_control)qc->dwErrorControl;
	out->binary_path =
	    w32_utf8(qc->lpBinaryPathName != NULL ? qc->lpBinaryPathName : L"");
	out->account = w32_utf8(
	    qc->lpServiceStartName != NULL ? qc->lpServiceStartName : L"");
	out->display_name =
	    w32_utf8(qc->lpDisplayName != NULL ? qc->lpDisplayName : L"");
	/* SC_GROUP_IDENTIFIER ('+') stays on group names, as host.h says. */
	if (qc->lpDependencies != NULL)
		w32_multi_to_list(qc->lpDependencies, (size_t)-1,
				  &out->dependencies);
out:
	free(qc);
	svc_close(&s);
	return hr;
}

/* QueryServiceConfig2W, two calls like QueryServiceConfigW. */
static hr_t
query_config2(const char *name, DWORD level, BYTE **out)
{
	DWORD size = 0, need = 0;
	struct svc s;
	hr_t hr;

	*out = NULL;
	if ((hr = svc_open(name, SERVICE_QUERY_CONFIG, &s)) != HR_OK)
		return hr;
	for (;;) {
		if (QueryServiceConfig2W(s.svc, level, *out, size, &need))
			break;
		if (GetLastError() != ERROR_INSUFFICIENT_BUFFER ||
		    need <= size) {
			hr = w32_last_hr();
			free(*out);
			*out = NULL;
			break;
		}
		free(*out);
		size = need;
		*out = xcalloc(1, size);
	}
	svc_close(&s);
	return hr;
}

static hr_t
w32_service_delayed_auto(struct host *h, const char *name, bool *out)
{
	BYTE *buf;
	hr_t hr;

	(void)h;
	*out = false;
	hr = query_config2(name, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &buf);
	if (hr == HR_OK)
		*out = ((SERVICE_DELAYED_AUTO_START_INFO *)buf)
			   ->fDelayedAutostart != FALSE;
	free(buf);
	return hr;
}

static hr_t
w32_service_failure_actions(struct host *h, const char *name,
			    struct svc_failure_actions *out)
{
	SERVICE_FAILURE_ACTIONSW *fa;
	BYTE *buf;
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	hr = query_config2(name, SERVICE_CONFIG_FAILURE_ACTIONS, &buf);
	if (hr != HR_OK)
		goto out;
	fa = (SERVICE_FAILURE_ACTIONSW *)buf;
	out->reset_s = fa->dwResetPeriod;
	if (fa->cActions > 0 && fa->lpsaActions != NULL) {
		out->actions = xcalloc(fa->cActions, sizeof(*out->actions));
		for (DWORD i = 0; i < fa->cActions; i++) {
			out->actions[i].type =
			    (enum svc_action_type)fa->lpsaActions[i].Type;
			out->actions[i].delay_ms = fa->lpsaActions[i].Delay;
		}
		out->n = fa->cActions;
	}
out:
	free(buf);
	return hr;
}

static hr_t
w32_service_sid_type(struct host *h, const char *name, enum svc_sid_type *out)
{
	BYTE *buf;
	hr_t hr;

	(void)h;
	*out = SVC_SID_NONE;
	hr = query_config2(name, SERVICE_CONFIG_SERVICE_SID_INFO, &buf);
	if (hr == HR_OK)
		*out = (enum svc_sid_type)((SERVICE_SID_INFO *)buf)
			   ->dwServiceSidType;
	free(buf);
	return hr;
}

static hr_t
w32_service_privileges(struct host *h, const char *name, struct strlist *out)
{
	SERVICE_REQUIRED_PRIVILEGES_INFOW *rp;
	BYTE *buf;
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	hr = query_config2(name, SERVICE_CONFIG_REQUIRED_PRIVILEGES_INFO, &buf);
	if (hr == HR_OK) {
		rp = (SERVICE_REQUIRED_PRIVILEGES_INFOW *)buf;
		if (rp->pmszRequiredPrivileges != NULL)
			w32_multi_to_list(rp->pmszRequiredPrivileges,
					  (size_t)-1, out);
	}
	free(buf);
	return hr;
}

/* ---- start and control ------------------------------------------------- */

static hr_t
w32_service_start(struct host *h, const char *name)
{
	struct svc s;
	hr_t hr;

	(void)h;
	if ((hr = svc_open(name, SERVICE_START, &s)) != HR_OK)
		return hr;
	if (!StartServiceW(s.svc, 0, NULL))
		hr = w32_last_hr();
	svc_close(&s);
	return hr;
}

/* The access right ControlService checks for each control code. */
static DWORD
control_access(uint32_t control)
{
	switch (control) {
	case SERVICE_CONTROL_STOP:
		return SERVICE_STOP;
	case SERVICE_CONTROL_PAUSE:
	case SERVICE_CONTROL_CONTINUE:
	case SERVICE_CONTROL_PARAMCHANGE:
	case SERVICE_CONTROL_NETBINDADD:
	case SERVICE_CONTROL_NETBINDREMOVE:
	case SERVICE_CONTROL_NETBINDENABLE:
	case SERVICE_CONTROL_NETBINDDISABLE:
		return SERVICE_PAUSE_CONTINUE;
	default:
		if (control >= 128 && control <= 255)
			return SERVICE_USER_DEFINED_CONTROL;
		/* Interrogate, and anything ControlService will refuse. */
		return SERVICE_INTERROGATE;
	}
}

static void
status_from(const SERVICE_STATUS *ss, struct svc_status *out)
{
	out->type = ss->dwServiceType;
	out->state = (enum svc_state)ss->dwCurrentState;
	out->controls_accepted = ss->dwControlsAccepted;
	out->win32_exit_code = ss->dwWin32ExitCode;
	out->service_exit_code = ss->dwServiceSpecificExitCode;
}

/*
 * ControlService reports a status on success and for the refusals that
 * have one (1052, 1061, 1062). The fresher QueryServiceStatusEx on the
 * same handle replaces it, as it also has the process id; the result is
 * ControlService's either way.
 */
static hr_t
w32_service_control(struct host *h, const char *name, uint32_t control,
		    struct svc_status *out)
{
	SERVICE_STATUS_PROCESS ssp;
	SERVICE_STATUS ss;
	struct svc_status local;
	struct svc s;
	DWORD need, e;
	hr_t hr;

	(void)h;
	if (out == NULL)
		out = &local;
	memset(out, 0, sizeof(*out));
	hr = svc_open(name, control_access(control) | SERVICE_QUERY_STATUS, &s);
	if (hr != HR_OK)
		return hr;
	memset(&ss, 0, sizeof(ss));
	if (!ControlService(s.svc, control, &ss)) {
		e = GetLastError();
		hr = w32_last_hr();
		if (e != ERROR_INVALID_SERVICE_CONTROL &&
		    e != ERROR_SERVICE_CANNOT_ACCEPT_CTRL &&
		    e != ERROR_SERVICE_NOT_ACTIVE)
			goto out;
	}
	if (QueryServiceStatusEx(s.svc, SC_STATUS_PROCESS_INFO, (BYTE *)&ssp,
				 sizeof(ssp), &need)) {
		/* SERVICE_STATUS_PROCESS begins with a SERVICE_STATUS. */
		memcpy(&ss, &ssp, sizeof(ss));
		out->pid = ssp.dwProcessId;
	}
	status_from(&ss, out);
out:
	svc_close(&s);
	return hr;
}

/* ---- configuration ----------------------------------------------------- */

/* A host.h number or SERVICE_NO_CHANGE; false when out of range. */
static bool
no_change_or(int64_t v, DWORD *out)
{
	if (v < 0) {
		*out = SERVICE_NO_CHANGE;
		return true;
	}
	if (v >= (int64_t)SERVICE_NO_CHANGE)
		return false;
	*out = (DWORD)v;
	return true;
}

/*
 * The built-in accounts have no password and need "" to say so; any other
 * account keeps its password (NULL), which this interface never knows.
 */
static bool
builtin_account(const char *a)
{
	static const char *const names[] = {
	    "LocalSystem",
	    ".\\LocalSystem",
	    "NT AUTHORITY\\LocalService",
	    "NT AUTHORITY\\NetworkService",
	    "NT AUTHORITY\\SYSTEM",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (_stricmp(a, names[i]) == 0)
			return true;
	return false;
}

static hr_t
w32_service_change_config(struct host *h, const char *name,
			  const struct svc_config_change *c)
{
	wchar_t *bin = NULL, *acct = NULL, *deps = NULL;
	DWORD type, start, errctl;
	struct svc s = {0};
	size_t units;
	hr_t hr;

	(void)h;
	if (c == NULL || !no_change_or(c->type, &type) ||
	    !no_change_or(c->start_type, &start) ||
	    !no_change_or(c->error_control, &errctl))
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(c->binary_path, &bin)) != HR_OK ||
	    (hr = w32_wide(c->account, &acct)) != HR_OK ||
	    (c->dependencies != NULL &&
	     (hr = w32_list_to_multi(c->dependencies, &deps, &units)) != HR_OK))
		goto out;
	if ((hr = svc_open(name, SERVICE_CHANGE_CONFIG, &s)) != HR_OK)
		goto out;
	if (!ChangeServiceConfigW(
		s.svc, type, start, errctl, bin, NULL, NULL, deps, acct,
		c->account != NULL && builtin_account(c->account) ? L"" : NULL,
		NULL))
		hr = w32_last_hr();
out:
	svc_close(&s);
	free(bin);
	free(acct);
	free(deps);
	return hr;
}

/* ChangeServiceConfig2W of one level, with extra access if it needs it. */
static hr_t
change_config2(const char *name, DWORD level, void *info, DWORD extra)
{
	struct svc s;
	hr_t hr;

	if ((hr = svc_open(name, SERVICE_CHANGE_CONFIG | extra, &s)) != HR_OK)
		return hr;
	if (!ChangeServiceConfig2W(s.svc, level, info))
		hr = w32_last_hr();
	svc_close(&s);
	return hr;
}

static hr_t
w32_service_set_delayed_auto(struct host *h, const char *name, bool on)
{
	SERVICE_DELAYED_AUTO_START_INFO info = {.fDelayedAutostart = on};

	(void)h;
	return change_config2(name, SERVICE_CONFIG_DELAYED_AUTO_START_INFO,
			      &info, 0);
}

static hr_t
w32_service_set_failure_actions(struct host *h, const char *name,
				const struct svc_failure_actions *fa)
{
	SERVICE_FAILURE_ACTIONSW info;
	SC_ACTION *acts = NULL;
	DWORD extra = 0;
	hr_t hr;

	(void)h;
	if (fa == NULL || (fa->n > 0 && fa->actions == NULL) ||
	    fa->n > UINT32_MAX)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	memset(&info, 0, sizeof(info));
	info.dwResetPeriod = fa->reset_s;
	if (fa->n > 0)
		acts = xcalloc(fa->n, sizeof(*acts));
	for (size_t i = 0; i < fa->n; i++) {
		acts[i].Type = (SC_ACTION_TYPE)fa->actions[i].type;
		acts[i].Delay = fa->actions[i].delay_ms;
		/* The SCM wants the right to start what it may restart. */
		if (fa->actions[i].type == SVC_ACTION_RESTART)
			extra = SERVICE_START;
	}
	info.cActions = (DWORD)fa->n;
	info.lpsaActions = acts;
	hr = change_config2(name, SERVICE_CONFIG_FAILURE_ACTIONS, &info, extra);
	free(acts);
	return hr;
}

static hr_t
w32_service_set_sid_type(struct host *h, const char *name, enum svc_sid_type t)
{
	SERVICE_SID_INFO info = {.dwServiceSidType = (DWORD)t};

	(void)h;
	return change_config2(name, SERVICE_CONFIG_SERVICE_SID_INFO, &info, 0);
}

static hr_t
w32_service_set_privileges(struct host *h, const char *name,
			   const struct strlist *privs)
{
	SERVICE_REQUIRED_PRIVILEGES_INFOW info;
	wchar_t *multi = NULL;
	size_t units;
	hr_t hr;

	(void)h;
	if (privs == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_list_to_multi(privs, &multi, &units)) != HR_OK)
		return hr;
	info.pmszRequiredPrivileges = multi;
	hr = change_config2(name, SERVICE_CONFIG_REQUIRED_PRIVILEGES_INFO,
			    &info, 0);
	free(multi);
	return hr;
}

/* ---- the rest ---------------------------------------------------------- */

static hr_t
w32_http_probe(struct host *h, const struct probe_request *req,
	       struct probe_result *out)
{
	(void)h;
	return plat_http_probe(req, out);
}

static void w32_close(struct host *h);

static const struct host_ops w32_ops = {
    .kind = "win32",
    .computer = w32_computer,
    .service_status = w32_service_status,
    .service_config = w32_service_config,
    .service_delayed_auto = w32_service_delayed_auto,
    .service_failure_actions = w32_service_failure_actions,
    .service_sid_type = w32_service_sid_type,
    .service_privileges = w32_service_privileges,
    .service_start = w32_service_start,
    .service_control = w32_service_control,
    .service_change_config = w32_service_change_config,
    .service_set_delayed_auto = w32_service_set_delayed_auto,
    .service_set_failure_actions = w32_service_set_failure_actions,
    .service_set_sid_type = w32_service_set_sid_type,
    .service_set_privileges = w32_service_set_privileges,
    .reg_get = w32_reg_get,
    .reg_set = w32_reg_set,
    .reg_delete_value = w32_reg_delete_value,
    .reg_delete_key = w32_reg_delete_key,
    .file_stat = w32_file_stat,
    .file_rename = w32_file_rename,
    .file_version = w32_file_version,
    .file_read_text = w32_file_read_text,
    .disk_free = w32_disk_free,
    .run_program = w32_host_run_program,
    .winhttp_proxy = w32_winhttp_proxy,
    .ie_proxy = w32_ie_proxy,
    .applied_gpos = w32_applied_gpos,
    .wu_detect_now = w32_wu_detect_now,
    .bits_jobs = w32_bits_jobs,
    .events = w32_events,
    .http_probe = w32_http_probe,
    .close = w32_close,
};

/*
 * Connecting to the SCM once up front turns "this account may not talk
 * to the service manager" into a clear start-up error.
 */
struct host *
host_win32_open(char *err, size_t errlen)
{
	struct w32host *w;
	SC_HANDLE scm;

	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
				 "cannot connect to the Service Control "
				 "Manager: error 0x%08lX",
				 (unsigned long)w32_last_hr());
		return NULL;
	}
	CloseServiceHandle(scm);
	w = xcalloc(1, sizeof(*w));
	w->base.ops = &w32_ops;
	return &w->base;
}

static void
w32_close(struct host *h)
{
	free((struct w32host *)h);
}
