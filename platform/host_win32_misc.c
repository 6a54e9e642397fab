/*
 * host_win32_misc.c: files, volumes, BITS jobs, the update agent's
 * DetectNow and events of the Win32 host.
 *
 * Paths go to the Win32 file APIs unchanged ('/' and '\' are both
 * separators there).
 */
#define COBJMACROS
#include "platform/host_win32_int.h"

#include <bits.h>
#include <objbase.h>
#include <sddl.h>
#include <winevt.h>
#include <wuapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/xalloc.h"

/* Seconds between 1601-01-01 (FILETIME) and 1970-01-01. */
#define EPOCH_DIFF_S 11644473600LL

static int64_t
filetime_unix(uint64_t ft)
{
	return (int64_t)(ft / 10000000u) - EPOCH_DIFF_S;
}

/* ---- files ------------------------------------------------------------- */

hr_t
w32_file_stat(struct host *h, const char *path, struct file_info *out)
{
	WIN32_FILE_ATTRIBUTE_DATA fa;
	wchar_t *w;
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	if (path == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(path, &w)) != HR_OK)
		return hr;
	if (!GetFileAttributesExW(w, GetFileExInfoStandard, &fa)) {
		hr = w32_last_hr();
	} else {
		out->is_dir = (fa.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY);
		out->size = (uint64_t)fa.nFileSizeHigh << 32 | fa.nFileSizeLow;
		out->mtime = filetime_unix(
		    (uint64_t)fa.ftLastWriteTime.dwHighDateTime << 32 |
		    fa.ftLastWriteTime.dwLowDateTime);
		out->created = filetime_unix(
		    (uint64_t)fa.ftCreationTime.dwHighDateTime << 32 |
		    fa.ftCreationTime.dwLowDateTime);
	}
	free(w);
	return hr;
}

/* No MOVEFILE_REPLACE_EXISTING: an existing target is 183, and no
 * MOVEFILE_COPY_ALLOWED: another volume is 17. */
hr_t
w32_file_rename(struct host *h, const char *from, const char *to)
{
	wchar_t *wf = NULL, *wt = NULL;
	hr_t hr;

	(void)h;
	if (from == NULL || to == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(from, &wf)) == HR_OK &&
	    (hr = w32_wide(to, &wt)) == HR_OK && !MoveFileExW(wf, wt, 0))
		hr = w32_last_hr();
	free(wf);
	free(wt);
	return hr;
}

hr_t
w32_file_version_w(const wchar_t *path, char **out)
{
	VS_FIXEDFILEINFO *fi = NULL;
	UINT filen = 0;
	DWORD size, ignored = 0;
	void *buf = NULL;
	hr_t hr = HR_OK;

	*out = NULL;
	if ((size = GetFileVersionInfoSizeW(path, &ignored)) == 0)
		return w32_last_hr();
	buf = xmalloc(size);
	if (!GetFileVersionInfoW(path, 0, size, buf)) {
		hr = w32_last_hr();
		goto out;
	}
	/* A version resource without its fixed part has no version. */
	if (!VerQueryValueW(buf, L"\\", (void **)&fi, &filen) || fi == NULL ||
	    filen < sizeof(*fi) || fi->dwSignature != 0xFEEF04BDu) {
		hr = hr_from_win32(W32_ERROR_RESOURCE_TYPE_NOT_FOUND);
		goto out;
	}
	*out = xasprintf("%u.%u.%u.%u", (unsigned)HIWORD(fi->dwFileVersionMS),
			 (unsigned)LOWORD(fi->dwFileVersionMS),
			 (unsigned)HIWORD(fi->dwFileVersionLS),
			 (unsigned)LOWORD(fi->dwFileVersionLS));
out:
	free(buf);
	return hr;
}

hr_t
w32_file_version(struct host *h, const char *path, char **out)
{
	wchar_t *w;
	hr_t hr;

	(void)h;
	*out = NULL;
	if (path == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(path, &w)) != HR_OK)
		return hr;
	hr = w32_file_version_w(w, out);
	free(w);
	return hr;
}

enum text_kind { TEXT_RAW, TEXT_UTF8_BOM, TEXT_UTF16LE, TEXT_UTF16BE };

static hr_t
read_at(HANDLE f, uint64_t off, size_t n, char *buf, size_t *got)
{
	LARGE_INTEGER li;
	DWORD chunk, r;

	*got = 0;
	li.QuadPart = (LONGLONG)off;
	if (!SetFilePointerEx(f, li, NULL, FILE_BEGIN))
		return w32_last_hr();
	while (*got < n) {
		chunk = n - *got > 1u << 20 ? 1u << 20 : (DWORD)(n - *got);
		if (!ReadFile(f, buf + *got, chunk, &r, NULL))
			return w32_last_hr();
		if (r == 0)
			break; /* the file shrank meanwhile */
		*got += r;
	}
	return HR_OK;
}

static enum text_kind
text_kind(const unsigned char *b, size_t n, uint64_t *skip)
{
	*skip = 0;
	if (n >= 2 && b[0] == 0xFF && b[1] == 0xFE)
		return *skip = 2, TEXT_UTF16LE;
	if (n >= 2 && b[0] == 0xFE && b[1] == 0xFF)
		return *skip = 2, TEXT_UTF16BE;
	if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
		return *skip = 3, TEXT_UTF8_BOM;
	return TEXT_RAW;
}

/* UTF-16 bytes to UTF-8; cut says a leading low surrogate is half a
 * character whose first half was not read. */
static char *
utf16_bytes(char *raw, size_t n, bool be, bool cut)
{
	wchar_t *w = (wchar_t *)(void *)raw;
	size_t units = n / 2, first = 0;
	unsigned char t;

	if (be)
		for (size_t i = 0; i + 1 < n; i += 2) {
			t = (unsigned char)raw[i];
			raw[i] = raw[i + 1];
			raw[i + 1] = (char)t;
		}
	if (cut && units > 0 && w[0] >= 0xDC00 && w[0] <= 0xDFFF)
		first = 1;
	return w32_utf8_n(w + first, units - first);
}

/*
 * Only the end that can be returned is read: logs can be large. A
 * UTF-16 unit is at least one UTF-8 byte, so max + 1 units always give
 * max bytes after a cut surrogate is dropped.
 */
static hr_t
read_tail(HANDLE f, uint64_t size, size_t max, char **text, size_t *n,
	  bool *cut)
{
	unsigned char head[3];
	uint64_t skip, body, want;
	enum text_kind kind;
	size_t got;
	char *raw;
	hr_t hr;

	if ((hr = read_at(f, 0, size < 3 ? (size_t)size : 3, (char *)head,
			  &got)) != HR_OK)
		return hr;
	kind = text_kind(head, got, &skip);
	body = size - skip;
	if (kind == TEXT_UTF16LE || kind == TEXT_UTF16BE) {
		body &= ~(uint64_t)1;
		want = max >= SIZE_MAX / 2 - 1 ? body : 2 * ((uint64_t)max + 1);
	} else {
		want = max;
	}
	if (want > body)
		want = body;
	*cut = want < body;
	raw = xmalloc((size_t)want + 2);
	if ((hr = read_at(f, skip + body - want, (size_t)want, raw, &got)) !=
	    HR_OK) {
		free(raw);
		return hr;
	}
	raw[got] = raw[got + 1] = '\0';
	if (kind == TEXT_UTF16LE || kind == TEXT_UTF16BE) {
		*text = utf16_bytes(raw, got, kind == TEXT_UTF16BE, *cut);
		*n = strlen(*text);
		free(raw);
	} else {
		*text = raw;
		*n = got;
	}
	return HR_OK;
}

/* Readers share with the writer: logs are read while being written. */
hr_t
w32_file_read_text(struct host *h, const char *path, size_t max, char **out,
		   size_t *len)
{
	HANDLE f = INVALID_HANDLE_VALUE;
	LARGE_INTEGER size;
	size_t n = 0, start = 0;
	char *text = NULL;
	wchar_t *w = NULL;
	bool cut = false;
	hr_t hr;

	(void)h;
	*out = NULL;
	*len = 0;
	if (path == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(path, &w)) != HR_OK)
		return hr;
	f = CreateFileW(w, GENERIC_READ,
			FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
			NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
	if (f == INVALID_HANDLE_VALUE || !GetFileSizeEx(f, &size)) {
		hr = w32_last_hr();
		goto out;
	}
	if ((hr = read_tail(f, (uint64_t)size.QuadPart, max, &text, &n,
			    &cut)) != HR_OK)
		goto out;
	if (n > max) {
		start = n - max;
		cut = true;
	}
	/* Do not begin in the middle of a character. */
	while (cut && start < n && ((unsigned char)text[start] & 0xC0) == 0x80)
		start++;
	*len = n - start;
	*out = xmalloc(*len + 1);
	memcpy(*out, text + start, *len);
	(*out)[*len] = '\0';
out:
	if (f != INVALID_HANDLE_VALUE)
		CloseHandle(f);
	free(text);
	free(w);
	return hr;
}

/* The volume holding path, then its free space (as this account sees
 * it: quotas count). */
hr_t
w32_disk_free(struct host *h, const char *path, uint64_t *free_b,
	      uint64_t *total_b)
{
	ULARGE_INTEGER avail, total, all_free;
	wchar_t *w = NULL, vol[MAX_PATH + 1];
	hr_t hr;

	(void)h;
	*free_b = *total_b = 0;
	if (path == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(path, &w)) != HR_OK)
		return hr;
	if (!GetVolumePathNameW(w, vol, MAX_PATH + 1) ||
	    !GetDiskFreeSpaceExW(vol, &avail, &total, &all_free)) {
		hr = w32_last_hr();
	} else {
		*free_b = avail.QuadPart;
		*total_b = total.QuadPart;
	}
	free(w);
	return hr;
}

/* ---- BITS jobs --------------------------------------------------------- */

/* "DOMAIN\\user" for the SID string GetOwner gives; the SID itself when
 * it names no account (a deleted user). */
static char *
owner_name(const wchar_t *sid_text)
{
	wchar_t name[256], dom[256];
	DWORD nn = 256, dn = 256;
	SID_NAME_USE use;
	PSID sid = NULL;
	char *s, *d, *n;

	if (!ConvertStringSidToSidW(sid_text, &sid))
		return w32_utf8(sid_text);
	if (!LookupAccountSidW(NULL, sid, name, &nn, dom, &dn, &use)) {
		LocalFree(sid);
		return w32_utf8(sid_text);
	}
	LocalFree(sid);
	d = w32_utf8(dom);
	n = w32_utf8(name);
	s = d[0] != '\0' ? xasprintf("%s\\%s", d, n) : xstrdup(n);
	free(d);
	free(n);
	return s;
}

static hr_t
job_url(IBackgroundCopyJob *job, char **out)
{
	IEnumBackgroundCopyFiles *files = NULL;
	IBackgroundCopyFile *file = NULL;
	wchar_t *url = NULL;
	ULONG got = 0;
	HRESULT hr;

	*out = NULL;
	if (FAILED(hr = IBackgroundCopyJob_EnumFiles(job, &files)))
		return (hr_t)hr;
	hr = IEnumBackgroundCopyFiles_Next(files, 1, &file, &got);
	if (hr == S_OK && got == 1) {
		hr = IBackgroundCopyFile_GetRemoteName(file, &url);
		if (SUCCEEDED(hr))
			*out = w32_utf8(url);
		CoTaskMemFree(url);
		IBackgroundCopyFile_Release(file);
	} else if (hr == S_FALSE) {
		/* A job without files yet. */
		*out = xstrdup("");
		hr = S_OK;
	}
	IEnumBackgroundCopyFiles_Release(files);
	return FAILED(hr) ? (hr_t)hr : HR_OK;
}

/* IBackgroundCopyJob::GetError is only meaningful in the error states. */
static hr_t
job_error(IBackgroundCopyJob *job, enum bits_job_state st, hr_t *out)
{
	IBackgroundCopyError *err = NULL;
	BG_ERROR_CONTEXT ctx;
	HRESULT hr, code = S_OK;

	*out = HR_OK;
	if (st != BITS_ERROR && st != BITS_TRANSIENT_ERROR)
		return HR_OK;
	if (FAILED(hr = IBackgroundCopyJob_GetError(job, &err)))
		return (hr_t)hr;
	hr = IBackgroundCopyError_GetError(err, &ctx, &code);
	IBackgroundCopyError_Release(err);
	if (FAILED(hr))
		return (hr_t)hr;
	*out = (hr_t)code;
	return HR_OK;
}

static hr_t
job_info(IBackgroundCopyJob *job, struct bits_job *j)
{
	wchar_t *name = NULL, *owner = NULL, id[40];
	BG_JOB_STATE st;
	GUID guid;
	HRESULT hr;

	if (FAILED(hr = IBackgroundCopyJob_GetId(job, &guid)) ||
	    FAILED(hr = IBackgroundCopyJob_GetState(job, &st)) ||
	    FAILED(hr = IBackgroundCopyJob_GetDisplayName(job, &name)) ||
	    FAILED(hr = IBackgroundCopyJob_GetOwner(job, &owner)))
		goto out;
	StringFromGUID2(&guid, id, 40);
	j->id = w32_utf8(id);
	j->name = w32_utf8(name);
	j->owner = owner_name(owner);
	j->state = (enum bits_job_state)st;
	if ((hr = (HRESULT)job_error(job, j->state, &j->error)) == S_OK)
		hr = (HRESULT)job_url(job, &j->url);
out:
	CoTaskMemFree(name);
	CoTaskMemFree(owner);
	return FAILED(hr) ? (hr_t)hr : HR_OK;
}

static hr_t
enum_jobs(IBackgroundCopyManager *mgr, struct bits_jobs *out)
{
	IEnumBackgroundCopyJobs *en = NULL;
	IBackgroundCopyJob *job;
	size_t cap = 0;
	ULONG got;
	HRESULT hr;

	hr = IBackgroundCopyManager_EnumJobs(mgr, BG_JOB_ENUM_ALL_USERS, &en);
	if (FAILED(hr))
		return (hr_t)hr;
	for (;;) {
		job = NULL;
		got = 0;
		hr = IEnumBackgroundCopyJobs_Next(en, 1, &job, &got);
		if (FAILED(hr) || hr == S_FALSE || got == 0)
			break;
		out->v = xgrow(out->v, &cap, out->n, sizeof(*out->v));
		memset(&out->v[out->n], 0, sizeof(*out->v));
		hr = (HRESULT)job_info(job, &out->v[out->n++]);
		IBackgroundCopyJob_Release(job);
		if (FAILED(hr))
			break;
	}
	IEnumBackgroundCopyJobs_Release(en);
	return FAILED(hr) ? (hr_t)hr : HR_OK;
}

/*
 * COM on this thread: MTA unless the caller made it an STA already
 * (RPC_E_CHANGED_MODE), which serves as well; only a successful
 * CoInitializeEx (S_OK or S_FALSE) is paired with CoUninitialize.
 */
hr_t
w32_bits_jobs(struct host *h, struct bits_jobs *out)
{
	IBackgroundCopyManager *mgr = NULL;
	HRESULT init, hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
	if (FAILED(init) && init != RPC_E_CHANGED_MODE)
		return (hr_t)init;
	hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL,
			      CLSCTX_LOCAL_SERVER, &IID_IBackgroundCopyManager,
			      (void **)&mgr);
	if (SUCCEEDED(hr)) {
		hr = (HRESULT)enum_jobs(mgr, out);
		IBackgroundCopyManager_Release(mgr);
	}
	if (SUCCEEDED(init))
		CoUninitialize();
	if (FAILED(hr))
		bits_jobs_clear(out);
	return FAILED(hr) ? (hr_t)hr : HR_OK;
}

/* ---- Windows Update Agent ---------------------------------------------- */

/*
 * MinGW's libuuid has neither: wuapi.h's values ([MS-UAMG] 1.9,
 * CLSID_AutomaticUpdates and IID_IAutomaticUpdates).
 */
static const CLSID clsid_automatic_updates = {
    0xbfe18e9c,
    0x6d87,
    0x4450,
    {0xb3, 0x7c, 0xe0, 0x2f, 0x0b, 0x37, 0x38, 0x03}};
static const IID iid_automatic_updates = {
    0x673425bf,
    0xc082,
    0x4c7c,
    {0xbd, 0xfd, 0x56, 0x94, 0x64, 0xb8, 0xe0, 0xce}};

/* COM on this thread as for the BITS jobs above. */
hr_t
w32_wu_detect_now(struct host *h)
{
	IAutomaticUpdates *au = NULL;
	HRESULT init, hr;

	(void)h;
	init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
	if (FAILED(init) && init != RPC_E_CHANGED_MODE)
		return (hr_t)init;
	hr = CoCreateInstance(&clsid_automatic_updates, NULL, CLSCTX_ALL,
			      &iid_automatic_updates, (void **)&au);
	if (SUCCEEDED(hr)) {
		hr = IAutomaticUpdates_DetectNow(au);
		IAutomaticUpdates_Release(au);
	}
	if (SUCCEEDED(init))
		CoUninitialize();
	return FAILED(hr) ? (hr_t)hr : HR_OK;
}

/* ---- events ------------------------------------------------------------ */

/* The EventData names that carry an error code in the update agent's and
 * BITS's events. */
static const char *const code_fields[] = {"errorCode", "ErrorCode", "hr",
					  "hResult"};

static hr_t
render(EVT_HANDLE ctx, EVT_HANDLE ev, DWORD flags, void **buf)
{
	DWORD used = 0, count = 0, size = 0;

	*buf = NULL;
	while (!EvtRender(ctx, ev, flags, size, *buf, &used, &count)) {
		if (GetLastError() != ERROR_INSUFFICIENT_BUFFER ||
		    used <= size) {
			free(*buf);
			*buf = NULL;
			return w32_last_hr();
		}
		free(*buf);
		size = used;
		*buf = xcalloc(1, size + sizeof(wchar_t));
	}
	return HR_OK;
}

/* <Data Name='errorCode'>0x80240438</Data> in the event's XML. */
static hr_t
event_code(const char *xml)
{
	const char *p, *v;
	char pat[40];
	unsigned long long n;

	for (size_t i = 0; i < sizeof(code_fields) / sizeof(*code_fields);
	     i++) {
		snprintf(pat, sizeof(pat), "Name='%s'>", code_fields[i]);
		if ((p = strstr(xml, pat)) == NULL)
			continue;
		v = p + strlen(pat);
		n = strtoull(v, NULL, 0);
		if (n <= UINT32_MAX)
			return (hr_t)n;
	}
	return HR_OK;
}

/* The event's text as Event Viewer shows it; without a publisher message
 * the reason is said instead of inventing a text. */
static char *
event_message(const wchar_t *provider, EVT_HANDLE ev)
{
	EVT_HANDLE pub;
	wchar_t *buf = NULL;
	DWORD used = 0;
	char *s;
	hr_t hr;

	pub = EvtOpenPublisherMetadata(NULL, provider, NULL, 0, 0);
	if (pub == NULL)
		return xasprintf("(no message text: 0x%08lX)",
				 (unsigned long)w32_last_hr());
	if (!EvtFormatMessage(pub, ev, 0, 0, NULL, EvtFormatMessageEvent, 0,
			      NULL, &used) &&
	    GetLastError() == ERROR_INSUFFICIENT_BUFFER) {
		buf = xcalloc((size_t)used + 1, sizeof(*buf));
		if (EvtFormatMessage(pub, ev, 0, 0, NULL, EvtFormatMessageEvent,
				     used, buf, &used)) {
			s = w32_utf8(buf);
			goto out;
		}
	}
	hr = w32_last_hr();
	s = xasprintf("(no message text: 0x%08lX)", (unsigned long)hr);
out:
	free(buf);
	EvtClose(pub);
	return s;
}

static enum event_level
event_level(BYTE level)
{
	/* 0 is "log always" (classic information); 5 is verbose. */
	return level >= EVL_CRITICAL && level <= EVL_INFO
		   ? (enum event_level)level
		   : EVL_INFO;
}

static hr_t
event_record(EVT_HANDLE ctx, EVT_HANDLE ev, const char *log,
	     struct event_record *r)
{
	EVT_VARIANT *vals = NULL;
	wchar_t *xml = NULL;
	char *text;
	hr_t hr;

	if ((hr = render(ctx, ev, EvtRenderEventValues, (void **)&vals)) !=
		HR_OK ||
	    (hr = render(NULL, ev, EvtRenderEventXml, (void **)&xml)) != HR_OK)
		goto out;
	r->log = xstrdup(log);
	r->id = vals[EvtSystemEventID].UInt16Val;
	r->level = event_level(vals[EvtSystemLevel].Type == EvtVarTypeByte
				   ? vals[EvtSystemLevel].ByteVal
				   : 0);
	if (vals[EvtSystemTimeCreated].Type == EvtVarTypeFileTime)
		r->time = filetime_unix(vals[EvtSystemTimeCreated].FileTimeVal);
	text = w32_utf8(xml);
	r->code = event_code(text);
	free(text);
	r->message =
	    event_message(vals[EvtSystemProviderName].Type == EvtVarTypeString
			      ? vals[EvtSystemProviderName].StringVal
			      : NULL,
			  ev);
out:
	free(vals);
	free(xml);
	return hr;
}

/* Read up to max events of the query, newest first. */
static hr_t
next_events(EVT_HANDLE q, EVT_HANDLE ctx, const char *log, size_t max,
	    struct event_list *out)
{
	EVT_HANDLE batch[16];
	DWORD got, want, i;
	size_t cap = 0;
	hr_t hr = HR_OK;

	while (out->n < max && hr == HR_OK) {
		want = max - out->n < 16 ? (DWORD)(max - out->n) : 16;
		if (!EvtNext(q, want, batch, INFINITE, 0, &got))
			return GetLastError() == ERROR_NO_MORE_ITEMS
				   ? HR_OK
				   : w32_last_hr();
		for (i = 0; i < got; i++) {
			if (hr == HR_OK) {
				out->v = xgrow(out->v, &cap, out->n,
					       sizeof(*out->v));
				memset(&out->v[out->n], 0, sizeof(*out->v));
				hr = event_record(ctx, batch[i], log,
						  &out->v[out->n++]);
			}
			EvtClose(batch[i]);
		}
	}
	return hr;
}

/*
 * EvtNext and EvtRender run only on a query that exists: Wine's EvtQuery
 * fails and its EvtRender aborts the process.
 */
hr_t
w32_events(struct host *h, const char *log, size_t max, struct event_list *out)
{
	EVT_HANDLE q = NULL, ctx = NULL;
	wchar_t *wlog = NULL;
	hr_t hr;

	(void)h;
	memset(out, 0, sizeof(*out));
	if (log == NULL)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if ((hr = w32_wide(log, &wlog)) != HR_OK)
		return hr;
	/* Wine's stub fails without setting an error: that is E_FAIL, not
	 * whatever error an earlier call left behind. */
	SetLastError(ERROR_SUCCESS);
	q = EvtQuery(NULL, wlog, L"*",
		     EvtQueryChannelPath | EvtQueryReverseDirection);
	if (q == NULL) {
		hr = w32_last_hr();
		goto out;
	}
	if ((ctx = EvtCreateRenderContext(0, NULL, EvtRenderContextSystem)) ==
	    NULL) {
		hr = w32_last_hr();
		goto out;
	}
	hr = next_events(q, ctx, log, max, out);
out:
	if (hr != HR_OK)
		event_list_clear(out);
	if (ctx != NULL)
		EvtClose(ctx);
	if (q != NULL)
		EvtClose(q);
	free(wlog);
	return hr;
}
