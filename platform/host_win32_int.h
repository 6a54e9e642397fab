/*
 * host_win32_int.h: what the files of the Win32 host share.
 *
 * host_win32.c       open/close, the ops table, the computer, services
 * host_win32_reg.c   the registry (64-bit view), the program runner and
 *                    the applied group policy (gpresult's report)
 * host_win32_misc.c  files, volumes, BITS jobs, DetectNow, events
 * probe_winhttp.c    the outbound HTTP probe and the proxy settings, on
 *                    WinHTTP
 * plat_win32.c       clocks, and the error and string helpers below
 *
 * The Win32 host keeps no state: every operation opens what it needs and
 * closes it again, so any number of threads may call it at once. Strings
 * cross from UTF-8 to UTF-16 and back here and nowhere else.
 */
#ifndef WSUSDIAG_HOST_WIN32_INT_H
#define WSUSDIAG_HOST_WIN32_INT_H

#include <windows.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/host.h"

/* Win32 errors host.h has no name for. */
#define W32_ERROR_INVALID_HANDLE	  6u
#define W32_ERROR_RESOURCE_TYPE_NOT_FOUND 1813u
#define W32_HR_E_FAIL			  0x80004005u

/* ---- plat_win32.c ----------------------------------------------------- */

/* hr_from_win32(GetLastError()), for the line after a failed call. */
hr_t w32_last_hr(void);

/*
 * UTF-8 to a new UTF-16 string: HR_OK, or 0x80070459
 * (ERROR_NO_UNICODE_TRANSLATION) for invalid UTF-8. NULL stays NULL.
 */
hr_t w32_wide(const char *s, wchar_t **out);
/* UTF-16 (n units, or up to its NUL when n is (size_t)-1) to UTF-8. */
char *w32_utf8_n(const wchar_t *s, size_t n);
/* NUL-terminated UTF-16 to a new UTF-8 string; NULL stays NULL. */
char *w32_utf8(const wchar_t *s);
/* Bytes in code page cp (CP_OEMCP, CP_ACP) to UTF-8, NUL-terminated. */
char *w32_cp_to_utf8(UINT cp, const char *s, size_t n);
/* A REG_MULTI_SZ-style list (NUL-separated, ending in an empty string)
 * of at most n units into l; n bounds a list that lacks its end. */
void w32_multi_to_list(const wchar_t *m, size_t n, struct strlist *l);
/* A list as a new double-NUL-terminated UTF-16 block. */
hr_t w32_list_to_multi(const struct strlist *l, wchar_t **out, size_t *units);

/* ---- host_win32_reg.c -------------------------------------------------- */

hr_t w32_reg_get(struct host *h, const char *key, const char *value,
		 struct reg_value *out);
hr_t w32_reg_set(struct host *h, const char *key, const char *value,
		 const struct reg_value *v);
hr_t w32_reg_delete_value(struct host *h, const char *key, const char *value);
hr_t w32_reg_delete_key(struct host *h, const char *key);
/* Run argv[0] from System32; w32_host_run_program is the host op. */
hr_t w32_run_program(const char *const *argv, uint32_t timeout_ms,
		     struct prog_result *out);
hr_t w32_host_run_program(struct host *h, const char *const *argv,
			  uint32_t timeout_ms, struct prog_result *out);
hr_t w32_applied_gpos(struct host *h, struct strlist *out);

/* ---- host_win32_misc.c ------------------------------------------------- */

hr_t w32_file_stat(struct host *h, const char *path, struct file_info *out);
hr_t w32_file_rename(struct host *h, const char *from, const char *to);
hr_t w32_file_version(struct host *h, const char *path, char **out);
/* "a.b.c.d" from the VS_FIXEDFILEINFO of a file (also for /version). */
hr_t w32_file_version_w(const wchar_t *path, char **out);
hr_t w32_file_read_text(struct host *h, const char *path, size_t max,
			char **out, size_t *len);
hr_t w32_disk_free(struct host *h, const char *path, uint64_t *free_b,
		   uint64_t *total_b);
hr_t w32_bits_jobs(struct host *h, struct bits_jobs *out);
hr_t w32_wu_detect_now(struct host *h);
hr_t w32_events(struct host *h, const char *log, size_t max,
		struct event_list *out);

/* ---- probe_winhttp.c --------------------------------------------------- */

hr_t w32_winhttp_proxy(struct host *h, struct proxy_config *out);
hr_t w32_ie_proxy(struct host *h, struct proxy_config *out);

#endif
