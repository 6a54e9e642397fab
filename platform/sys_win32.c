/*
 * sys_win32.c: process glue and file creation on Windows.
 */
#include <windows.h>
#include <sddl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/threading.h>

#include "common/xalloc.h"
#include "platform/net.h"
#include "platform/sys.h"

/* Set by Ctrl-C, console close, or the service's stop control. */
static HANDLE stop_event;
static const char *stop_reason = "stop requested";

/* mbedTLS locks (MBEDTLS_THREADING_ALT: an SRWLOCK in one pointer). */
static void
mx_init(mbedtls_threading_mutex_t *m)
{
	InitializeSRWLock((SRWLOCK *)&m->lock);
	m->is_valid = 1;
}

static void
mx_free(mbedtls_threading_mutex_t *m)
{
	m->is_valid = 0;
}

static int
mx_lock(mbedtls_threading_mutex_t *m)
{
	if (!m->is_valid)
		return MBEDTLS_ERR_THREADING_BAD_INPUT_DATA;
	AcquireSRWLockExclusive((SRWLOCK *)&m->lock);
	return 0;
}

static int
mx_unlock(mbedtls_threading_mutex_t *m)
{
	if (!m->is_valid)
		return MBEDTLS_ERR_THREADING_BAD_INPUT_DATA;
	ReleaseSRWLockExclusive((SRWLOCK *)&m->lock);
	return 0;
}

static BOOL WINAPI
on_console(DWORD ev)
{
	switch (ev) {
	case CTRL_C_EVENT:
		stop_reason = "Ctrl-C";
		break;
	case CTRL_BREAK_EVENT:
		stop_reason = "Ctrl-Break";
		break;
	case CTRL_CLOSE_EVENT:
		stop_reason = "console closed";
		break;
	default:
		return FALSE;
	}
	SetEvent(stop_event);
	return TRUE;
}

int
plat_process_init(void)
{
	mbedtls_threading_set_alt(mx_init, mx_free, mx_lock, mx_unlock);
	stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (stop_event == NULL)
		return -1;
	SetConsoleCtrlHandler(on_console, TRUE);
	return plat_net_init();
}

const char *
plat_stop_wait(void)
{
	WaitForSingleObject(stop_event, INFINITE);
	return stop_reason;
}

void
plat_stop_request(void)
{
	stop_reason = "service stop";
	SetEvent(stop_event);
}

static wchar_t *
wide(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0)
		return NULL;
	w = xcalloc((size_t)n, sizeof(*w));
	MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
	return w;
}

bool
plat_path_exists(const char *path)
{
	wchar_t *w = wide(path);
	bool ok = w != NULL && GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES;

	free(w);
	return ok;
}

static void
error_text(DWORD e, char *out, size_t outlen)
{
	if (FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
			       FORMAT_MESSAGE_IGNORE_INSERTS,
			   NULL, e, 0, out, (DWORD)outlen, NULL) == 0)
		snprintf(out, outlen, "error %lu", (unsigned long)e);
	out[strcspn(out, "\r\n")] = '\0';
}

bool
plat_path_readable(const char *path, char *why, size_t whylen)
{
	wchar_t *w = wide(path);
	HANDLE h = INVALID_HANDLE_VALUE;
	DWORD e = ERROR_INVALID_NAME;

	if (w != NULL) {
		h = CreateFileW(
		    w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
		    OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
		e = GetLastError();
	}
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		error_text(e, why, whylen);
		return false;
	}
	CloseHandle(h);
	return true;
}

/* "C:\\x", "C:/x", "\\\\server\\share", "\\x" (current drive), "/x". */
bool
plat_path_is_absolute(const char *path)
{
	if (path[0] == '\\' || path[0] == '/')
		return true;
	return ((path[0] >= 'A' && path[0] <= 'Z') ||
		(path[0] >= 'a' && path[0] <= 'z')) &&
	       path[1] == ':' && (path[2] == '\\' || path[2] == '/');
}

const char *
plat_dir_sep(void)
{
	return "\\";
}

const char *
plat_path_last_sep(const char *path)
{
	const char *a = strrchr(path, '\\'), *b = strrchr(path, '/');

	return a > b ? a : b;
}

static void
win_error(char *err, size_t errlen, const char *what, const char *path)
{
	char msg[200];

	error_text(GetLastError(), msg, sizeof(msg));
	snprintf(err, errlen, "%s %s: %s", what, path, msg);
}

/*
 * Private means SYSTEM and Administrators only (the service runs as
 * LocalSystem); otherwise local users may also read (a certificate).
 */
static int
security(bool private_, SECURITY_ATTRIBUTES *sa)
{
	const wchar_t *sddl = private_ ? L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
				       : L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
					 L"(A;OICI;FR;;;BU)";

	sa->nLength = sizeof(*sa);
	sa->bInheritHandle = FALSE;
	return ConvertStringSecurityDescriptorToSecurityDescriptorW(
		   sddl, SDDL_REVISION_1, &sa->lpSecurityDescriptor, NULL)
		   ? 0
		   : -1;
}

int
plat_mkdir_private(const char *dir, char *err, size_t errlen)
{
	SECURITY_ATTRIBUTES sa;
	wchar_t *w = wide(dir);
	DWORD attr;
	int rc = -1;

	if (w == NULL || security(true, &sa) != 0) {
		win_error(err, errlen, "cannot create directory", dir);
		free(w);
		return -1;
	}
	if (CreateDirectoryW(w, &sa)) {
		rc = 1;
	} else if (GetLastError() == ERROR_ALREADY_EXISTS &&
		   (attr = GetFileAttributesW(w)) != INVALID_FILE_ATTRIBUTES &&
		   (attr & FILE_ATTRIBUTE_DIRECTORY)) {
		rc = 0;
	} else {
		win_error(err, errlen, "cannot create directory", dir);
	}
	LocalFree(sa.lpSecurityDescriptor);
	free(w);
	return rc;
}

int
plat_write_new_file(const char *path, bool private_, const void *data,
		    size_t len, char *err, size_t errlen)
{
	SECURITY_ATTRIBUTES sa = {0};
	wchar_t *w = wide(path);
	HANDLE h = INVALID_HANDLE_VALUE;
	DWORD done = 0;
	int rc = -1;

	if (w == NULL || security(private_, &sa) != 0) {
		win_error(err, errlen, "cannot create", path);
		goto out;
	}
	/* CREATE_NEW fails on an existing file: never replaces one. */
	h = CreateFileW(w, GENERIC_WRITE, 0, &sa, CREATE_NEW,
			FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		win_error(err, errlen, "cannot create", path);
		goto out;
	}
	rc = 1;
	if (len > MAXDWORD || !WriteFile(h, data, (DWORD)len, &done, NULL) ||
	    done != len || !FlushFileBuffers(h)) {
		win_error(err, errlen, "cannot write", path);
		goto out;
	}
	rc = 0;
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	LocalFree(sa.lpSecurityDescriptor);
	free(w);
	return rc;
}

int
plat_remove_file(const char *path)
{
	wchar_t *w = wide(path);
	int rc = w != NULL && DeleteFileW(w) ? 0 : -1;

	free(w);
	return rc;
}

int
plat_remove_dir(const char *path)
{
	wchar_t *w = wide(path);
	int rc = w != NULL && RemoveDirectoryW(w) ? 0 : -1;

	free(w);
	return rc;
}

int
plat_hostname(char *out, size_t outlen)
{
	DWORD n = (DWORD)outlen;

	return GetComputerNameExA(ComputerNameDnsHostname, out, &n) ? 0 : -1;
}

void
plat_gmtime(time_t t, struct tm *out)
{
	gmtime_s(out, &t);
}

void
plat_trim_memory(void)
{
	HeapCompact(GetProcessHeap(), 0);
}
