/*
 * wulog.h: WindowsUpdate.log, as the updatelog and store checks read it.
 *
 * Two layers. wulog_scan() and the wulog_* functions beside it are pure:
 * they see a text buffer and nothing else (no host, no clock, no global
 * state), so a fuzzer or a test can feed them any bytes. The reader at
 * the end (wulog_read(), wu_system_root(); defined in updatelog.c) is the
 * one place that asks a host for the file.
 *
 * The log comes in two text formats:
 *
 * - classic (Windows XP to 8.1, the agent writes it itself), columns
 *   separated by tabs: date, time with milliseconds after a colon, PID,
 *   TID in hex, component, text:
 *     2026-11-20<TAB>10:00:00:123<TAB> 996<TAB>1f4<TAB>Agent<TAB>  * WARNING:
 * ...
 * - what Get-WindowsUpdateLog writes on Windows 10 and later from the
 *   agent's ETW traces, columns separated by spaces: date with slashes,
 *   time with 100 ns digits, PID and TID in decimal, component, text:
 *     2026/11/20 10:00:00.1234567 996   500   Agent           ...
 *
 * Windows 10 and later leave a placeholder at C:\Windows\WindowsUpdate.log
 * that only says to run Get-WindowsUpdateLog; it is recognised as such.
 */
#ifndef WSUSDIAG_WULOG_H
#define WSUSDIAG_WULOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/host.h"

enum wulog_format {
	WULOG_FMT_NONE = 0, /* no line in a known format */
	WULOG_FMT_CLASSIC,
	WULOG_FMT_ETW,	/* Get-WindowsUpdateLog output */
	WULOG_FMT_STUB, /* Windows 10's placeholder */
};

/*
 * What a failure code in the log is about. A line may be of several
 * kinds: a proxy line with a BITS code is both PROXY and DOWNLOAD.
 * ERRORS holds every failure that is neither PROXY nor DOWNLOAD, so
 * STORE lines are ERRORS lines too.
 */
enum wulog_kind {
	WULOG_NONE = -1,    /* not a failure, or one the agent logs routinely */
	WULOG_PROXY = 0,    /* WinHTTP, proxy, name resolution */
	WULOG_DOWNLOAD = 1, /* BITS, HTTP status via BITS, download manager */
	WULOG_STORE = 2,    /* a damaged data store (DataStore.edb) */
	WULOG_ERRORS = 3,   /* any other failure HRESULT */
	WULOG_KINDS = 4,
};

#define WULOG_TEXT_MAX 512 /* bytes of a line kept, with its NUL */
#define WULOG_TIME_LEN 24  /* "YYYY-MM-DDTHH:MM:SS.mmm" and NUL */

/* The latest line of one kind; count == 0: none, the rest is empty. */
struct wulog_hit {
	size_t count;		   /* lines of this kind */
	size_t line;		   /* 1-based, in the buffer scanned */
	hr_t code;		   /* 0 for a proxy line without a code */
	char time[WULOG_TIME_LEN]; /* the line's local time, "" if none */
	char text[WULOG_TEXT_MAX]; /* the line, cut at a character edge */
};

struct wulog_summary {
	enum wulog_format format;
	size_t lines; /* lines scanned */
	size_t bytes; /* bytes scanned */
	size_t classic_lines, etw_lines;
	char first_time[WULOG_TIME_LEN]; /* of the first and last dated */
	char last_time[WULOG_TIME_LEN];	 /* lines, "" if none */
	struct wulog_hit hit[WULOG_KINDS];
};

/*
 * Scan len bytes of text (need not be NUL-terminated; NUL bytes are read
 * as spaces; lines end at LF, a CR before it is dropped). Codes are read
 * from the text column only: "0x" or "0X" and exactly 8 hex digits, or 8
 * bare hex digits where the agent writes them bare ("[80072EE2]",
 * "hr = 80072ee2"); never from GUIDs or hashes. ESE errors written as
 * "error -1018" in a line about the data store count as 0xC80003FA.
 */
void wulog_scan(const char *text, size_t len, struct wulog_summary *out);

/*
 * wulog_scan() that leaves out the failures of lines dated before since
 * (a local time as in wulog_hit.time; compared as text, which orders
 * these fixed-width times): *older counts the store lines among them.
 * Undated lines are kept, as nothing says when they were written. A
 * NULL or empty since is wulog_scan().
 */
void wulog_scan_since(const char *text, size_t len, const char *since,
		      struct wulog_summary *out, size_t *older);

/* The kind of one code (WULOG_ERRORS is never returned for a STORE
 * code: the caller counts those as both). */
enum wulog_kind wulog_classify(hr_t code);

/* The ESE error in "error -1018" / "Error -546." as its HRESULT
 * (0xC8000000 | 1018), or 0 when text has none. */
hr_t wulog_ese_error(const char *text);

/* Whether text names the agent's data store (ESENT event messages). */
bool wulog_mentions_store(const char *text);

/* "classic", "etw", "stub", "unknown". */
const char *wulog_format_name(enum wulog_format f);

/* ---- reading it on a host (defined in updatelog.c) ------------------- */

/* How much of the end of the log is read: a few weeks of a busy agent. */
#define WULOG_READ_MAX ((size_t)2 * 1024 * 1024)

/*
 * %SystemRoot% from HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion
 * SystemRoot, or "C:\Windows" (from_registry false) when it cannot be
 * read. Never NULL; free() it.
 */
char *wu_system_root(struct host *h, bool *from_registry);

struct wulog_file {
	char *path;	   /* SYSTEMROOT\WindowsUpdate.log */
	hr_t hr;	   /* HR_OK or the read's error */
	bool absent;	   /* hr says the file does not exist */
	bool truncated;	   /* only the end was read; first line dropped */
	bool have_size;	   /* size is the file's size on disk */
	uint64_t size;	   /* bytes on disk */
	size_t bytes_read; /* bytes of text the host returned */
	char *text;	   /* the whole lines read, NUL-terminated */
	size_t len;	   /* of text */
	struct wulog_summary sum; /* of text, when hr == HR_OK */
};

/* Read and scan the end of the log under system_root. */
void wulog_read(struct host *h, const char *system_root, size_t max,
		struct wulog_file *out);
void wulog_file_clear(struct wulog_file *f);

#endif
