/*
 * host_win32_reg.c: the registry of the Win32 host, the program runner,
 * and the applied group policy, which is what a program (gpresult) says.
 *
 * Keys are opened in the 64-bit view (KEY_WOW64_64KEY) always: the
 * services and policies the checks read live there, and a 32-bit build
 * must not be redirected to Wow6432Node. Values are read with
 * RegGetValueW and RRF_NOEXPAND, so REG_EXPAND_SZ comes back as stored,
 * as host.h promises.
 *
 * Programs run only from System32, by full path, with a command line
 * built from a fixed argument vector, so no search path and no shell ever
 * decide what runs.
 */
#include "platform/host_win32_int.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/xalloc.h"

/* ---- key paths --------------------------------------------------------- */

static const struct {
	const char *shortname, *longname;
	HKEY key;
} roots[] = {
    {"HKLM", "HKEY_LOCAL_MACHINE", HKEY_LOCAL_MACHINE},
    {"HKCU", "HKEY_CURRENT_USER", HKEY_CURRENT_USER},
    {"HKCR", "HKEY_CLASSES_ROOT", HKEY_CLASSES_ROOT},
    {"HKU", "HKEY_USERS", HKEY_USERS},
    {"HKCC", "HKEY_CURRENT_CONFIG", HKEY_CURRENT_CONFIG},
};

/*
 * "HKLM\\SOFTWARE\\X\\" as its predefined key and "SOFTWARE\\X" in
 * UTF-16. A root that is none of these is ERROR_INVALID_HANDLE, what the
 * registry says of a handle that is no key.
 */
static hr_t
split_key(const char *key, HKEY *root, wchar_t **sub)
{
	const char *names[2], *rest = NULL;
	size_t n, len;
	char *tmp;
	hr_t hr;

	*sub = NULL;
	for (size_t i = 0;
	     key != NULL && rest == NULL && i < sizeof(roots) / sizeof(*roots);
	     i++) {
		names[0] = roots[i].shortname;
		names[1] = roots[i].longname;
		for (size_t j = 0; j < 2 && rest == NULL; j++) {
			n = strlen(names[j]);
			if (_strnicmp(key, names[j], n) == 0 &&
			    (key[n] == '\0' || key[n] == '\\')) {
				*root = roots[i].key;
				rest = key + n;
			}
		}
	}
	if (rest == NULL)
		return hr_from_win32(W32_ERROR_INVALID_HANDLE);
	while (*rest == '\\')
		rest++;
	len = strlen(rest);
	while (len > 0 && rest[len - 1] == '\\')
		len--;
	tmp = xasprintf("%.*s", (int)len, rest);
	hr = w32_wide(tmp, sub);
	free(tmp);
	return hr;
}

static hr_t
open_key(const char *key, REGSAM access, HKEY *out)
{
	wchar_t *sub;
	HKEY root;
	LSTATUS rc;
	hr_t hr;

	*out = NULL;
	if ((hr = split_key(key, &root, &sub)) != HR_OK)
		return hr;
	rc = RegOpenKeyExW(root, sub, 0, access | KEY_WOW64_64KEY, out);
	free(sub);
	return hr_from_win32((uint32_t)rc);
}

/* The default value is "" in host.h and NULL to the registry. */
static hr_t
value_name(const char *value, wchar_t **out)
{
	return w32_wide(value != NULL && value[0] != '\0' ? value : NULL, out);
}

/* ---- reading ----------------------------------------------------------- */

static hr_t
decode(DWORD type, const BYTE *data, DWORD size, struct reg_value *out)
{
	const wchar_t *w = (const wchar_t *)(const void *)data;
	size_t units = size / sizeof(wchar_t);

	out->type = (enum reg_type)type;
	switch (type) {
	case REG_SZ:
	case REG_EXPAND_SZ:
		out->str = w32_utf8_n(w, wcsnlen(w, units));
		return HR_OK;
	case REG_MULTI_SZ:
		w32_multi_to_list(w, units, &out->multi);
		return HR_OK;
	case REG_DWORD:
		if (size != 4)
			return hr_from_win32(WIN32_INVALID_DATA);
		out->num = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
			   (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
		return HR_OK;
	case REG_QWORD:
		if (size != 8)
			return hr_from_win32(WIN32_INVALID_DATA);
		for (int i = 7; i >= 0; i--)
			out->num = out->num << 8 | data[i];
		return HR_OK;
	default:
		/* REG_BINARY, and the rare types host.h has no name for,
		 * keep their bytes and their real type number. */
		out->bin = xmalloc(size > 0 ? size : 1);
		memcpy(out->bin, data, size);
		out->bin_len = size;
		return HR_OK;
	}
}

hr_t
w32_reg_get(struct host *h, const char *key, const char *value,
	    struct reg_value *out)
{
	const DWORD flags = RRF_RT_ANY | RRF_NOEXPAND;
	wchar_t *wvalue = NULL;
	BYTE *buf = NULL;
	DWORD type = 0, size = 0, cap;
	HKEY hk = NULL;
	LSTATUS rc;
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	if ((hr = open_key(key, KEY_QUERY_VALUE, &hk)) != HR_OK ||
	    (hr = value_name(value, &wvalue)) != HR_OK)
		goto out;
	/* Size first; a writer may grow the value in between: ask again. */
	rc = RegGetValueW(hk, NULL, wvalue, flags, &type, NULL, &size);
	while (rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA) {
		free(buf);
		/* Room for two extra NULs, so strings always end. */
		cap = size;
		buf = xcalloc((size_t)cap + 2 * sizeof(wchar_t), 1);
		size = cap;
		rc = RegGetValueW(hk, NULL, wvalue, flags, &type, buf, &size);
		if (rc == ERROR_SUCCESS)
			break;
	}
	if (rc != ERROR_SUCCESS) {
		hr = hr_from_win32((uint32_t)rc);
		goto out;
	}
	hr = decode(type, buf, size, out);
out:
	if (hr != HR_OK)
		reg_value_clear(out);
	if (hk != NULL)
		RegCloseKey(hk);
	free(wvalue);
	free(buf);
	return hr;
}

/* ---- writing ----------------------------------------------------------- */

/* host.h's value as the bytes RegSetValueExW takes. */
static hr_t
encode(const struct reg_value *v, BYTE **data, DWORD *size)
{
	const hr_t bad = hr_from_win32(WIN32_INVALID_PARAMETER);
	wchar_t *w = NULL;
	size_t units;
	hr_t hr;

	*data = NULL;
	*size = 0;
	switch (v->type) {
	case REGT_SZ:
	case REGT_EXPAND_SZ:
		if (v->str == NULL)
			return bad;
		if ((hr = w32_wide(v->str, &w)) != HR_OK)
			return hr;
		units = wcslen(w) + 1;
		break;
	case REGT_MULTI_SZ:
		if ((hr = w32_list_to_multi(&v->multi, &w, &units)) != HR_OK)
			return hr;
		break;
	case REGT_DWORD:
		if (v->num > UINT32_MAX)
			return bad;
		*data = xmalloc(4);
		for (int i = 0; i < 4; i++)
			(*data)[i] = (BYTE)(v->num >> (8 * i));
		*size = 4;
		return HR_OK;
	case REGT_QWORD:
		*data = xmalloc(8);
		for (int i = 0; i < 8; i++)
			(*data)[i] = (BYTE)(v->num >> (8 * i));
		*size = 8;
		return HR_OK;
	case REGT_BINARY:
		if ((v->bin_len > 0 && v->bin == NULL) ||
		    v->bin_len > UINT32_MAX)
			return bad;
		*data = xmalloc(v->bin_len > 0 ? v->bin_len : 1);
		if (v->bin_len > 0)
			memcpy(*data, v->bin, v->bin_len);
		*size = (DWORD)v->bin_len;
		return HR_OK;
	default:
		return bad;
	}
	if (units > UINT32_MAX / sizeof(wchar_t)) {
		free(w);
		return bad;
	}
	*data = (BYTE *)w;
	*size = (DWORD)(units * sizeof(wchar_t));
	return HR_OK;
}

hr_t
w32_reg_set(struct host *h, const char *key, const char *value,
	    const struct reg_value *v)
{
	wchar_t *sub = NULL, *wvalue = NULL;
	BYTE *data = NULL;
	HKEY root, hk = NULL;
	DWORD size;
	LSTATUS rc;
	hr_t hr;

	(void)h;
	if (v == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = split_key(key, &root, &sub)) != HR_OK ||
	    (hr = value_name(value, &wvalue)) != HR_OK ||
	    (hr = encode(v, &data, &size)) != HR_OK)
		goto out;
	rc = RegCreateKeyExW(root, sub, 0, NULL, REG_OPTION_NON_VOLATILE,
			     KEY_SET_VALUE | KEY_WOW64_64KEY, NULL, &hk, NULL);
	if (rc == ERROR_SUCCESS)
		rc = RegSetValueExW(hk, wvalue, 0, (DWORD)v->type, data, size);
	hr = hr_from_win32((uint32_t)rc);
out:
	if (hk != NULL)
		RegCloseKey(hk);
	free(sub);
	free(wvalue);
	free(data);
	return hr;
}

hr_t
w32_reg_delete_value(struct host *h, const char *key, const char *value)
{
	wchar_t *wvalue = NULL;
	HKEY hk = NULL;
	hr_t hr;

	(void)h;
	if ((hr = open_key(key, KEY_SET_VALUE, &hk)) != HR_OK ||
	    (hr = value_name(value, &wvalue)) != HR_OK)
		goto out;
	hr = hr_from_win32((uint32_t)RegDeleteValueW(hk, wvalue));
out:
	if (hk != NULL)
		RegCloseKey(hk);
	free(wvalue);
	return hr;
}

/* RegDeleteKeyExW deletes leaves only: a key with subkeys is 5. */
hr_t
w32_reg_delete_key(struct host *h, const char *key)
{
	wchar_t *sub = NULL;
	HKEY root;
	hr_t hr;

	(void)h;
	if ((hr = split_key(key, &root, &sub)) != HR_OK)
		return hr;
	hr = hr_from_win32(
	    (uint32_t)RegDeleteKeyExW(root, sub, KEY_WOW64_64KEY, 0));
	free(sub);
	return hr;
}

/* ---- programs ---------------------------------------------------------- */

/* Output beyond this is drained and dropped: a runaway program must not
 * take the daemon's memory. */
#define PROG_OUTPUT_CAP (8u << 20)
#define PROG_POLL_MS	20u

/* A plain file name only: no folder, drive or stream may steer the run
 * out of System32. */
static bool
program_name_ok(const char *name)
{
	return name[0] != '\0' && strpbrk(name, "\\/:") == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* %SystemRoot%\System32\NAME, ".exe" added when NAME has no extension
 * (CreateProcessW adds none when given the application name). */
static hr_t
program_path(const char *name, wchar_t **out)
{
	wchar_t *wname = NULL, sys[MAX_PATH + 1];
	size_t len;
	UINT n;
	hr_t hr;

	*out = NULL;
	if (!program_name_ok(name))
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	n = GetSystemDirectoryW(sys, MAX_PATH + 1);
	if (n == 0 || n > MAX_PATH)
		return w32_last_hr();
	if ((hr = w32_wide(name, &wname)) != HR_OK)
		return hr;
	len = wcslen(wname);
	*out = xcalloc(n + len + 6, sizeof(**out));
	memcpy(*out, sys, n * sizeof(*sys));
	(*out)[n] = L'\\';
	memcpy(*out + n + 1, wname, len * sizeof(*wname));
	if (strchr(name, '.') == NULL)
		memcpy(*out + n + 1 + len, L".exe", 4 * sizeof(wchar_t));
	free(wname);
	return HR_OK;
}

struct wbuf {
	wchar_t *p;
	size_t n, cap;
};

static void
wbuf_put(struct wbuf *b, wchar_t c, size_t times)
{
	while (times-- > 0) {
		b->p = xgrow(b->p, &b->cap, b->n + 1, sizeof(*b->p));
		b->p[b->n++] = c;
		b->p[b->n] = L'\0';
	}
}

/*
 * One argument as CommandLineToArgvW (and the C runtime) will split it:
 * quoted when empty or holding blanks or quotes; inside quotes a run of
 * backslashes is doubled before a quote (which is escaped) and at the
 * end, and left alone elsewhere.
 */
static void
quote_arg(struct wbuf *b, const wchar_t *a)
{
	size_t bs;

	if (b->n > 0)
		wbuf_put(b, L' ', 1);
	if (a[0] != L'\0' && wcspbrk(a, L" \t\n\v\"") == NULL) {
		for (; *a != L'\0'; a++)
			wbuf_put(b, *a, 1);
		return;
	}
	wbuf_put(b, L'"', 1);
	for (;; a++) {
		for (bs = 0; *a == L'\\'; a++)
			bs++;
		if (*a == L'\0') {
			wbuf_put(b, L'\\', 2 * bs);
			break;
		}
		if (*a == L'"') {
			wbuf_put(b, L'\\', 2 * bs + 1);
			wbuf_put(b, L'"', 1);
		} else {
			wbuf_put(b, L'\\', bs);
			wbuf_put(b, *a, 1);
		}
	}
	wbuf_put(b, L'"', 1);
}

/* The program's full path stands as argv[0] (it has no quotes to mind). */
static hr_t
command_line(const wchar_t *path, const char *const *argv, wchar_t **out)
{
	struct wbuf b = {0};
	wchar_t *w;
	hr_t hr;

	*out = NULL;
	quote_arg(&b, path);
	for (size_t i = 1; argv[i] != NULL; i++) {
		if ((hr = w32_wide(argv[i], &w)) != HR_OK) {
			free(b.p);
			return hr;
		}
		quote_arg(&b, w);
		free(w);
	}
	*out = b.p;
	return HR_OK;
}

struct child {
	HANDLE rd, wr, nul, process;
	LPPROC_THREAD_ATTRIBUTE_LIST attrs;
	char *buf;
	size_t n;
};

static void
child_close(struct child *c)
{
	HANDLE *hs[] = {&c->rd, &c->wr, &c->nul, &c->process};

	for (size_t i = 0; i < sizeof(hs) / sizeof(*hs); i++) {
		if (*hs[i] != NULL && *hs[i] != INVALID_HANDLE_VALUE)
			CloseHandle(*hs[i]);
		*hs[i] = NULL;
	}
	if (c->attrs != NULL) {
		DeleteProcThreadAttributeList(c->attrs);
		free(c->attrs);
		c->attrs = NULL;
	}
}

/*
 * The pipe's write end and NUL as stdin are the only handles the child
 * inherits (PROC_THREAD_ATTRIBUTE_HANDLE_LIST): a program started by
 * another thread at the same moment must not keep our pipe open.
 */
static hr_t
child_handles(struct child *c)
{
	SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
	HANDLE list[2];
	SIZE_T size = 0;

	if (!CreatePipe(&c->rd, &c->wr, &sa, 1u << 16) ||
	    !SetHandleInformation(c->rd, HANDLE_FLAG_INHERIT, 0))
		return w32_last_hr();
	c->nul = CreateFileW(L"NUL", GENERIC_READ,
			     FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
			     OPEN_EXISTING, 0, NULL);
	if (c->nul == INVALID_HANDLE_VALUE)
		return w32_last_hr();
	InitializeProcThreadAttributeList(NULL, 1, 0, &size);
	c->attrs = xmalloc(size);
	if (!InitializeProcThreadAttributeList(c->attrs, 1, 0, &size)) {
		free(c->attrs);
		c->attrs = NULL;
		return w32_last_hr();
	}
	list[0] = c->wr;
	list[1] = c->nul;
	if (!UpdateProcThreadAttribute(c->attrs, 0,
				       PROC_THREAD_ATTRIBUTE_HANDLE_LIST, list,
				       sizeof(list), NULL, NULL))
		return w32_last_hr();
	return HR_OK;
}

static hr_t
child_start(struct child *c, wchar_t *path, wchar_t *cmdline)
{
	STARTUPINFOEXW si;
	PROCESS_INFORMATION pi;
	hr_t hr;

	if ((hr = child_handles(c)) != HR_OK)
		return hr;
	memset(&si, 0, sizeof(si));
	si.StartupInfo.cb = sizeof(si);
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
	si.StartupInfo.hStdInput = c->nul;
	si.StartupInfo.hStdOutput = c->wr;
	si.StartupInfo.hStdError = c->wr;
	si.lpAttributeList = c->attrs;
	if (!CreateProcessW(path, cmdline, NULL, NULL, TRUE,
			    CREATE_NO_WINDOW | EXTENDED_STARTUPINFO_PRESENT,
			    NULL, NULL, &si.StartupInfo, &pi))
		return w32_last_hr();
	CloseHandle(pi.hThread);
	c->process = pi.hProcess;
	/* Our copies go, so only the child holds the pipe's write end. */
	CloseHandle(c->wr);
	CloseHandle(c->nul);
	c->wr = c->nul = NULL;
	return HR_OK;
}

/* Read what the pipe holds now, without blocking. */
static void
child_drain(struct child *c)
{
	char tmp[4096];
	DWORD avail, r;

	while (PeekNamedPipe(c->rd, NULL, 0, NULL, &avail, NULL) && avail > 0) {
		if (!ReadFile(c->rd, tmp, sizeof(tmp), &r, NULL) || r == 0)
			return;
		if (c->n + r > PROG_OUTPUT_CAP)
			r = c->n < PROG_OUTPUT_CAP
				? (DWORD)(PROG_OUTPUT_CAP - c->n)
				: 0;
		c->buf = xrealloc(c->buf, c->n + r + 1);
		memcpy(c->buf + c->n, tmp, r);
		c->n += r;
	}
}

/*
 * Poll the process and drain the pipe in turn, so a chatty child never
 * blocks on a full pipe. The wait ends with the process, not with the
 * pipe: a grandchild that inherited the pipe cannot hold the run open.
 */
static hr_t
child_wait(struct child *c, uint32_t timeout_ms, struct prog_result *out)
{
	ULONGLONG deadline = GetTickCount64() + timeout_ms, now;
	DWORD w, code;
	hr_t hr;

	for (;;) {
		child_drain(c);
		now = GetTickCount64();
		w = WaitForSingleObject(
		    c->process, now >= deadline
				    ? 0
				    : (DWORD)(deadline - now < PROG_POLL_MS
						  ? deadline - now
						  : PROG_POLL_MS));
		if (w == WAIT_OBJECT_0)
			break;
		if (w == WAIT_FAILED) {
			hr = w32_last_hr();
			TerminateProcess(c->process, WIN32_WAIT_TIMEOUT);
			return hr;
		}
		if (GetTickCount64() >= deadline) {
			TerminateProcess(c->process, WIN32_WAIT_TIMEOUT);
			WaitForSingleObject(c->process, 5000);
			/* Killed at the deadline: its output is not trusted. */
			out->timed_out = true;
			out->exit_code = WIN32_WAIT_TIMEOUT;
			out->output = xstrdup("");
			return HR_OK;
		}
	}
	child_drain(c);
	if (!GetExitCodeProcess(c->process, &code))
		return w32_last_hr();
	out->exit_code = code;
	/* Console programs write in the OEM code page when redirected. */
	out->output =
	    w32_cp_to_utf8(CP_OEMCP, c->buf != NULL ? c->buf : "", c->n);
	return HR_OK;
}

hr_t
w32_run_program(const char *const *argv, uint32_t timeout_ms,
		struct prog_result *out)
{
	wchar_t *path = NULL, *cmdline = NULL;
	struct child c = {0};
	hr_t hr;

	memset(out, 0, sizeof(*out));
	if (argv == NULL || argv[0] == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = program_path(argv[0], &path)) != HR_OK ||
	    (hr = command_line(path, argv, &cmdline)) != HR_OK ||
	    (hr = child_start(&c, path, cmdline)) != HR_OK)
		goto out;
	hr = child_wait(&c, timeout_ms, out);
out:
	if (hr != HR_OK)
		prog_result_clear(out);
	child_close(&c);
	free(c.buf);
	free(path);
	free(cmdline);
	return hr;
}

hr_t
w32_host_run_program(struct host *h, const char *const *argv,
		     uint32_t timeout_ms, struct prog_result *out)
{
	(void)h;
	return w32_run_program(argv, timeout_ms, out);
}

/* ---- applied group policy ---------------------------------------------- */

#define GPO_HEADING	    "Applied Group Policy Objects"
#define GPRESULT_TIMEOUT_MS 60000u

/* The next line of text, without its CR LF and surrounding blanks. */
static const char *
next_line(const char *p, const char **start, size_t *len)
{
	const char *e = p + strcspn(p, "\n");

	*start = p;
	while (*start < e && (**start == ' ' || **start == '\t'))
		(*start)++;
	*len = (size_t)(e - *start);
	while (*len > 0 &&
	       ((*start)[*len - 1] == '\r' || (*start)[*len - 1] == ' ' ||
		(*start)[*len - 1] == '\t'))
		(*len)--;
	return *e == '\n' ? e + 1 : e;
}

/*
 * The section is the heading, a line of dashes, then one GPO per
 * indented line up to a blank line; "N/A" stands for none. False when
 * the heading is absent.
 */
static bool
parse_gpos(const char *text, struct strlist *out)
{
	const char *p = text, *s;
	bool in = false, dashes = false;
	size_t n;
	char *name;

	while (*p != '\0') {
		p = next_line(p, &s, &n);
		if (!in) {
			in = n == strlen(GPO_HEADING) &&
			     strncmp(s, GPO_HEADING, n) == 0;
			continue;
		}
		if (!dashes && n > 0 && strspn(s, "-") >= n) {
			dashes = true;
			continue;
		}
		if (n == 0)
			break;
		if (n == 3 && strncmp(s, "N/A", 3) == 0)
			continue;
		name = xasprintf("%.*s", (int)n, s);
		strlist_add(out, name);
		free(name);
	}
	return in;
}

/*
 * gpresult exits with 1 for every failure and says why in its output, so
 * a failure is E_FAIL unless the exit code is an HRESULT itself. Only the
 * English report is understood: another language's is 0x8007000D.
 */
hr_t
w32_applied_gpos(struct host *h, struct strlist *out)
{
	static const char *const argv[] = {"gpresult.exe", "/scope", "computer",
					   "/r", NULL};
	struct prog_result r = {0};
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	if ((hr = w32_run_program(argv, GPRESULT_TIMEOUT_MS, &r)) != HR_OK)
		goto out;
	if (r.timed_out)
		hr = hr_from_win32(WIN32_WAIT_TIMEOUT);
	else if (r.exit_code != 0)
		hr = (r.exit_code & 0x80000000u) ? r.exit_code : W32_HR_E_FAIL;
	else if (!parse_gpos(r.output, out))
		hr = hr_from_win32(WIN32_INVALID_DATA);
out:
	if (hr != HR_OK)
		strlist_clear(out);
	prog_result_clear(&r);
	return hr;
}
