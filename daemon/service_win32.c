/*
 * service_win32.c: wsusdiagd as a Windows service. install registers it
 * (auto start, LocalSystem, restart on failure), uninstall stops and
 * removes it, and a process started by the service manager runs the
 * daemon under StartServiceCtrlDispatcherW until SERVICE_CONTROL_STOP.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "daemon/service.h"
#include "platform/sys.h"

#define SERVICE_NAME L"wsusdiagd"

/* The service's state: one service per process, owned by daemon/. */
static SERVICE_STATUS_HANDLE status_handle;
static int (*service_run_fn)(int, char **);
static int service_argc;
static char **service_argv;
static int service_rc;

static void
win_perror(const char *what)
{
	char msg[256];
	DWORD e = GetLastError();

	if (FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
			       FORMAT_MESSAGE_IGNORE_INSERTS,
			   NULL, e, 0, msg, sizeof(msg), NULL) == 0)
		msg[0] = '\0';
	msg[strcspn(msg, "\r\n")] = '\0';
	fprintf(stderr, "wsusdiagd: %s: %s (error %lu, 0x%08lX)\n", what, msg,
		(unsigned long)e, (unsigned long)(e ? 0x80070000u | e : 0));
}

static void
report(DWORD state, DWORD exit_code, DWORD wait_hint)
{
	SERVICE_STATUS st = {0};

	if (status_handle == NULL)
		return;
	st.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	st.dwCurrentState = state;
	st.dwControlsAccepted =
	    state == SERVICE_RUNNING
		? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN
		: 0;
	st.dwWin32ExitCode =
	    exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
	st.dwServiceSpecificExitCode = exit_code;
	st.dwWaitHint = wait_hint;
	SetServiceStatus(status_handle, &st);
}

static DWORD WINAPI
on_control(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
	(void)type, (void)data, (void)ctx;
	switch (control) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		report(SERVICE_STOP_PENDING, 0, 15000);
		plat_stop_request();
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

/*
 * A service has no console: its log goes to wsusdiagd.log beside the
 * executable, appended, so an administrator finds it where the program
 * is.
 */
static void
redirect_log(void)
{
	wchar_t path[MAX_PATH + 32];
	DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH);
	wchar_t *slash;
	FILE *f;

	if (n == 0 || n >= MAX_PATH)
		return;
	slash = wcsrchr(path, L'\\');
	if (slash == NULL)
		return;
	wcscpy(slash + 1, L"wsusdiagd.log");
	f = _wfreopen(path, L"a", stderr);
	if (f != NULL)
		setvbuf(stderr, NULL, _IONBF, 0);
}

static void WINAPI
service_main(DWORD argc, LPWSTR *argv)
{
	(void)argc, (void)argv;
	status_handle =
	    RegisterServiceCtrlHandlerExW(SERVICE_NAME, on_control, NULL);
	if (status_handle == NULL)
		return;
	redirect_log();
	report(SERVICE_START_PENDING, 0, 10000);
	service_rc = service_run_fn(service_argc, service_argv);
	report(SERVICE_STOPPED, (DWORD)service_rc, 0);
}

int
service_run(int (*run)(int, char **), int argc, char **argv)
{
	static SERVICE_TABLE_ENTRYW table[] = {
	    {(LPWSTR)SERVICE_NAME, service_main},
	    {NULL, NULL},
	};

	service_run_fn = run;
	service_argc = argc;
	service_argv = argv;
	if (StartServiceCtrlDispatcherW(table))
		return service_rc;
	if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
		fprintf(stderr, "wsusdiagd: --service is for the service "
				"manager; from a console run without it\n");
	else
		win_perror("StartServiceCtrlDispatcherW");
	return 2;
}

void
service_ready(void)
{
	report(SERVICE_RUNNING, 0, 0);
}

/* "\"C:\\...\\wsusdiagd.exe\" --service --config \"C:\\...\\x.json\"" */
static wchar_t *
command_line(const char *config_path)
{
	wchar_t exe[MAX_PATH], cfg[MAX_PATH], wcfg[MAX_PATH];
	wchar_t *cmd;
	size_t n;

	if (GetModuleFileNameW(NULL, exe, MAX_PATH) >= MAX_PATH ||
	    MultiByteToWideChar(CP_UTF8, 0, config_path, -1, wcfg, MAX_PATH) ==
		0 ||
	    GetFullPathNameW(wcfg, MAX_PATH, cfg, NULL) >= MAX_PATH)
		return NULL;
	n = wcslen(exe) + wcslen(cfg) + 32;
	cmd = xcalloc(n, sizeof(*cmd));
	_snwprintf(cmd, n, L"\"%ls\" --service --config \"%ls\"", exe, cfg);
	return cmd;
}

/* Description and restart-on-failure; Wine may lack these levels. */
static void
describe(SC_HANDLE svc)
{
	SERVICE_DESCRIPTIONW d = {
	    (LPWSTR)L"Answers remote diagnostics requests about the Windows "
		    L"Update agent and BITS over HTTPS (wsusdiag)."};
	SC_ACTION acts[3] = {{SC_ACTION_RESTART, 5000},
			     {SC_ACTION_RESTART, 10000},
			     {SC_ACTION_RESTART, 30000}};
	SERVICE_FAILURE_ACTIONSW fa = {86400, NULL, NULL, 3, acts};

	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &d))
		win_perror("warning: setting the service description");
	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa))
		win_perror("warning: setting the restart-on-failure actions");
}

int
service_install(const char *config_path)
{
	SC_HANDLE scm = NULL, svc = NULL;
	wchar_t *cmd = command_line(config_path);
	int rc = 1;

	if (cmd == NULL) {
		fprintf(stderr, "wsusdiagd: install: cannot resolve %s\n",
			config_path);
		return 1;
	}
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (scm == NULL) {
		win_perror("OpenSCManagerW");
		goto out;
	}
	svc = CreateServiceW(scm, SERVICE_NAME, L"wsusdiag agent",
			     SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS,
			     SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
			     SERVICE_ERROR_NORMAL, cmd, NULL, NULL,
			     L"Tcpip\0\0", NULL, NULL);
	if (svc == NULL) {
		win_perror("CreateServiceW");
		goto out;
	}
	describe(svc);
	printf("installed service wsusdiagd: %ls\n", cmd);
	rc = 0;
out:
	if (svc != NULL)
		CloseServiceHandle(svc);
	if (scm != NULL)
		CloseServiceHandle(scm);
	free(cmd);
	return rc;
}

/* Stop it first so the deletion takes effect now, not at reboot. */
static void
stop_service(SC_HANDLE svc)
{
	SERVICE_STATUS st;

	if (!ControlService(svc, SERVICE_CONTROL_STOP, &st))
		return;
	for (int i = 0; i < 150 && st.dwCurrentState != SERVICE_STOPPED; i++) {
		Sleep(200);
		if (!QueryServiceStatus(svc, &st))
			break;
	}
}

int
service_uninstall(void)
{
	SC_HANDLE scm = NULL, svc = NULL;
	int rc = 1;

	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (scm == NULL) {
		win_perror("OpenSCManagerW");
		goto out;
	}
	svc = OpenServiceW(scm, SERVICE_NAME,
			   DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS);
	if (svc == NULL) {
		win_perror("OpenServiceW(wsusdiagd)");
		goto out;
	}
	stop_service(svc);
	if (!DeleteService(svc)) {
		win_perror("DeleteService");
		goto out;
	}
	printf("removed service wsusdiagd\n");
	rc = 0;
out:
	if (svc != NULL)
		CloseServiceHandle(svc);
	if (scm != NULL)
		CloseServiceHandle(scm);
	return rc;
}
