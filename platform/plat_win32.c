/*
 * plat_win32.c: clocks, sleeping and the build's name on Windows, and
 * the helpers every Win32 file of the platform layer shares: the last
 * error as an HRESULT and the UTF-8 <-> UTF-16 conversions (the only
 * place strings change encoding).
 */
#include "platform/host_win32_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/xalloc.h"

/* Monotonic, and unlike GetTickCount it does not wrap after 49 days. */
uint64_t
plat_now_ms(void)
{
	return (uint64_t)GetTickCount64();
}

void
plat_sleep_ms(uint32_t ms)
{
	/* INFINITE (0xFFFFFFFF) would never return. */
	Sleep(ms == INFINITE ? INFINITE - 1 : ms);
}

const char *
plat_build_name(void)
{
	return "windows";
}

void
plat_utc_stamp(char out[17])
{
	SYSTEMTIME st;

	GetSystemTime(&st);
	snprintf(out, 17, "%04u%02u%02uT%02u%02u%02uZ",
		 (unsigned)st.wYear % 10000u, (unsigned)st.wMonth % 100u,
		 (unsigned)st.wDay % 100u, (unsigned)st.wHour % 100u,
		 (unsigned)st.wMinute % 100u, (unsigned)st.wSecond % 100u);
}

void
plat_utc_iso(char out[32])
{
	SYSTEMTIME st;

	GetSystemTime(&st);
	snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)st.wYear % 10000u, (unsigned)st.wMonth % 100u,
		 (unsigned)st.wDay % 100u, (unsigned)st.wHour % 100u,
		 (unsigned)st.wMinute % 100u, (unsigned)st.wSecond % 100u,
		 (unsigned)st.wMilliseconds % 1000u);
}

/* ---- errors and strings ------------------------------------------------ */

hr_t
w32_last_hr(void)
{
	DWORD e = GetLastError();

	/* A failed call that left no error still failed. */
	return e != 0 ? hr_from_win32(e) : W32_HR_E_FAIL;
}

hr_t
w32_wide(const char *s, wchar_t **out)
{
	size_t len;
	int n;

	*out = NULL;
	if (s == NULL)
		return HR_OK;
	if ((len = strlen(s)) >= INT_MAX)
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	/* Invalid UTF-8 is refused rather than silently replaced. */
	n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)len + 1,
				NULL, 0);
	if (n <= 0)
		return w32_last_hr();
	*out = xcalloc((size_t)n, sizeof(**out));
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)len + 1,
				*out, n) != n) {
		free(*out);
		*out = NULL;
		return w32_last_hr();
	}
	return HR_OK;
}

/*
 * Unpaired surrogates become U+FFFD, as WideCharToMultiByte does without
 * WC_ERR_INVALID_CHARS: a name with a broken character is still shown.
 * Text beyond INT_MAX units (2 GiB) is cut: no caller has that much.
 */
char *
w32_utf8_n(const wchar_t *s, size_t n)
{
	char *out;
	int m;

	if (n == (size_t)-1)
		n = wcslen(s);
	if (n > INT_MAX)
		n = INT_MAX;
	if (n == 0)
		return xstrdup("");
	m = WideCharToMultiByte(CP_UTF8, 0, s, (int)n, NULL, 0, NULL, NULL);
	if (m <= 0)
		return xstrdup("");
	out = xmalloc((size_t)m + 1);
	m = WideCharToMultiByte(CP_UTF8, 0, s, (int)n, out, m, NULL, NULL);
	out[m > 0 ? m : 0] = '\0';
	return out;
}

char *
w32_utf8(const wchar_t *s)
{
	return s != NULL ? w32_utf8_n(s, (size_t)-1) : NULL;
}

char *
w32_cp_to_utf8(UINT cp, const char *s, size_t n)
{
	wchar_t *w;
	char *out;
	int m;

	if (n > INT_MAX)
		n = INT_MAX;
	if (n == 0)
		return xstrdup("");
	/* Every byte of a single- or double-byte code page maps to
	 * something, so the size query only fails on bad arguments. */
	m = MultiByteToWideChar(cp, 0, s, (int)n, NULL, 0);
	if (m <= 0)
		return xstrdup("");
	w = xcalloc((size_t)m, sizeof(*w));
	m = MultiByteToWideChar(cp, 0, s, (int)n, w, m);
	out = w32_utf8_n(w, m > 0 ? (size_t)m : 0);
	free(w);
	return out;
}

void
w32_multi_to_list(const wchar_t *m, size_t n, struct strlist *l)
{
	size_t i = 0, len;
	char *s;

	while (i < n && m[i] != L'\0') {
		len = wcsnlen(m + i, n - i);
		s = w32_utf8_n(m + i, len);
		strlist_add(l, s);
		free(s);
		i += len + 1;
	}
}

/*
 * An empty string cannot be a member: it would end the list early for
 * every reader, so it is refused (87). units counts the final NUL; the
 * block has one more NUL so that an empty list is double-terminated.
 */
hr_t
w32_list_to_multi(const struct strlist *l, wchar_t **out, size_t *units)
{
	wchar_t *block = NULL, *w;
	size_t used = 0, len;
	hr_t hr;

	*out = NULL;
	*units = 0;
	for (size_t i = 0; l != NULL && i < l->n; i++) {
		if (l->v[i] == NULL || l->v[i][0] == '\0') {
			free(block);
			return hr_from_win32(WIN32_INVALID_PARAMETER);
		}
		if ((hr = w32_wide(l->v[i], &w)) != HR_OK) {
			free(block);
			return hr;
		}
		len = wcslen(w) + 1;
		block = xrealloc(block, (used + len + 2) * sizeof(*block));
		memcpy(block + used, w, len * sizeof(*w));
		used += len;
		free(w);
	}
	block = xrealloc(block, (used + 2) * sizeof(*block));
	block[used] = block[used + 1] = L'\0';
	*out = block;
	*units = used + 1;
	return HR_OK;
}
