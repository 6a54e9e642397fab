/*
 * wulog.c: the pure part of the WindowsUpdate.log reader: line formats,
 * error codes in the text, and what each code is about.
 *
 * Nothing here touches a host; see wulog.h for the formats and
 * updatelog.c for the reader that fetches the file.
 */
#include "checks/wulog.h"

#include <string.h>

#include "common/utf8.h"

/* Bytes of one line examined; the rest of a longer line is not read. */
#define LINE_SCAN 4096

/* One line, copied so it can be read as a C string. */
struct line {
	char s[LINE_SCAN + 1];
	size_t n;	       /* bytes in s */
	bool cut;	       /* the line went on past s */
	enum wulog_format fmt; /* CLASSIC, ETW or NONE (undated) */
	size_t comp, comp_n;   /* the component column */
	size_t msg;	       /* where the text column starts */
	char time[WULOG_TIME_LEN];
};

/* ---- what a code is about ---------------------------------------------- */

/*
 * Failures the agent logs in normal operation: "nothing to do"
 * (WU_E_NOOP, at every start: "*FAILED* [8024000C]
 * LoadHistoryEventFromRegistry"), "no updates" (WU_E_NO_UPDATE), "not in
 * the data store" (WU_E_DS_NODATA, a lookup miss) and "the service is
 * stopping" (WU_E_SERVICE_STOP). Reporting them would make every healthy
 * log look broken.
 */
static const hr_t routine_codes[] = {
    0x8024000Cu,
    0x8024001Eu,
    0x80240024u,
    0x80248007u,
};

/*
 * The network path to the server: besides WinHTTP's own range these are
 * the agent's and BITS's words for a proxy or a name that does not
 * resolve. WSAHOST_NOT_FOUND and WSANO_DATA are name resolution through
 * Winsock.
 */
static const hr_t proxy_codes[] = {
    0x80072AF9u, /* WSAHOST_NOT_FOUND */
    0x80072AFCu, /* WSANO_DATA */
    0x80190197u, /* BG_E_HTTP_ERROR_407: proxy authentication */
    0x8020003Fu, /* BG_E_INVALID_PROXY_INFO */
    0x80240030u, /* WU_E_INVALID_PROXY_SERVER */
    0x80240438u, /* WU_E_PT_ENDPOINT_UNREACHABLE */
    0x8024401Bu, /* WU_E_PT_HTTP_STATUS_PROXY_AUTH_REQ */
    0x80244021u, /* WU_E_PT_HTTP_STATUS_BAD_GATEWAY (502, a proxy's) */
    0x80244023u, /* WU_E_PT_HTTP_STATUS_GATEWAY_TIMEOUT (504) */
    0x8024402Cu, /* WU_E_PT_WINHTTP_NAME_NOT_RESOLVED */
};

/*
 * A damaged store, the article's "errors relating to the software
 * distribution store": the WU_E_DS_* codes that say its tables or rows
 * are not what they must be (not the ones for a lock, a miss or a busy
 * store), the reporter's corrupt event cache, a corrupt file or disk
 * under it. ESE's own errors (0xC800xxxx, JET_err* negated) are matched
 * by facility below: DataStore.edb is the agent's only ESE database.
 */
static const hr_t store_codes[] = {
    0x80070570u, /* ERROR_FILE_CORRUPT */
    0x80070571u, /* ERROR_DISK_CORRUPT */
    0x80248002u, /* WU_E_DS_INVALID */
    0x80248003u, /* WU_E_DS_TABLEMISSING */
    0x80248004u, /* WU_E_DS_TABLEINCORRECT */
    0x80248005u, /* WU_E_DS_INVALIDTABLENAME */
    0x80248006u, /* WU_E_DS_BADVERSION */
    0x80248008u, /* WU_E_DS_MISSINGDATA */
    0x80248009u, /* WU_E_DS_MISSINGREF */
    0x8024801Bu, /* WU_E_DS_SCHEMAMISMATCH */
    0x80248FFFu, /* WU_E_DS_UNEXPECTED */
    0x8024F001u, /* WU_E_REPORTER_EVENTCACHECORRUPT */
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool
in_list(hr_t c, const hr_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == c)
			return true;
	return false;
}

static bool
is_proxy(hr_t c)
{
	/* WinHTTP (and WinINet) errors 12000 and up, HRESULT-wrapped. */
	return (c & 0xFFFFFE00u) == 0x80072E00u ||
	       in_list(c, proxy_codes, NELEM(proxy_codes));
}

static bool
is_download(hr_t c)
{
	return (c & 0xFFFF0000u) == 0x80200000u || /* BITS */
	       (c & 0xFFFF0000u) == 0x80190000u || /* HTTP status via BITS */
	       (c & 0xFFFFF000u) == 0x80246000u || /* WU_E_DM_* */
	       c == 0x80240034u;		   /* WU_E_DOWNLOAD_FAILED */
}

static bool
is_store(hr_t c)
{
	return (c & 0xFFFF0000u) == 0xC8000000u ||
	       in_list(c, store_codes, NELEM(store_codes));
}

enum wulog_kind
wulog_classify(hr_t c)
{
	if ((c & 0x80000000u) == 0 ||
	    in_list(c, routine_codes, NELEM(routine_codes)))
		return WULOG_NONE;
	if (is_proxy(c))
		return WULOG_PROXY;
	if (is_download(c))
		return WULOG_DOWNLOAD;
	if (is_store(c))
		return WULOG_STORE;
	return WULOG_ERRORS;
}

const char *
wulog_format_name(enum wulog_format f)
{
	switch (f) {
	case WULOG_FMT_CLASSIC:
		return "classic";
	case WULOG_FMT_ETW:
		return "etw";
	case WULOG_FMT_STUB:
		return "stub";
	case WULOG_FMT_NONE:
		break;
	}
	return "unknown";
}

/* ---- characters, ASCII only (no locale) -------------------------------- */

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_word(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_space(int c)
{
	return c == ' ' || c == '\t';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static unsigned
hex_value(int c)
{
	if (is_digit(c))
		return (unsigned)(c - '0');
	return (unsigned)(lower(c) - 'a' + 10);
}

/* Case-insensitive substring test; needle is lowercase. */
static bool
ci_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		size_t i = 0;

		while (i < n && lower((unsigned char)hay[i]) == needle[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* s[0..n) are all digits. */
static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return true;
}

/* ---- the date and the columns before the text -------------------------- */

/* "DDDD?DD?DD" with sep, then "HH:MM:SS" after one separator. */
static bool
date_time_at(const char *s, size_t n, char sep)
{
	return n >= 19 && all_digits(s, 4) && s[4] == sep &&
	       all_digits(s + 5, 2) && s[7] == sep && all_digits(s + 8, 2) &&
	       is_space((unsigned char)s[10]) && all_digits(s + 11, 2) &&
	       s[13] == ':' && all_digits(s + 14, 2) && s[16] == ':' &&
	       all_digits(s + 17, 2);
}

/* "YYYY-MM-DDTHH:MM:SS.mmm" from the date at s and ms digits at frac. */
static void
set_time(struct line *l, const char *frac, size_t nfrac)
{
	const char *s = l->s;
	char ms[4] = "000";

	for (size_t i = 0; i < 3 && i < nfrac; i++)
		ms[i] = frac[i];
	memcpy(l->time, s, 4);
	l->time[4] = '-';
	memcpy(l->time + 5, s + 5, 2);
	l->time[7] = '-';
	memcpy(l->time + 8, s + 8, 2);
	l->time[10] = 'T';
	memcpy(l->time + 11, s + 11, 8);
	l->time[19] = '.';
	memcpy(l->time + 20, ms, 4);
}

/* Classic: "2026-11-20\t10:00:00:123"; ETW: "2026/11/20 10:00:00.1234567".
 * Returns the offset after the time, 0 when the line has neither. */
static size_t
parse_time(struct line *l)
{
	const char *s = l->s;
	size_t i = 20;

	if (date_time_at(s, l->n, '-') && l->n >= 23 && s[19] == ':' &&
	    all_digits(s + 20, 3)) {
		l->fmt = WULOG_FMT_CLASSIC;
		set_time(l, s + 20, 3);
		return 23;
	}
	if (!date_time_at(s, l->n, '/') || l->n < 21 || s[19] != '.')
		return 0;
	while (i < l->n && is_digit((unsigned char)s[i]))
		i++;
	if (i == 20)
		return 0;
	l->fmt = WULOG_FMT_ETW;
	set_time(l, s + 20, i - 20);
	return i;
}

static size_t
skip_space(const struct line *l, size_t i)
{
	while (i < l->n && is_space((unsigned char)l->s[i]))
		i++;
	return i;
}

static size_t
skip_token(const struct line *l, size_t i)
{
	while (i < l->n && !is_space((unsigned char)l->s[i]))
		i++;
	return i;
}

/* After the time: PID, TID and component, then the text. */
static void
parse_columns(struct line *l)
{
	size_t i = parse_time(l);

	l->msg = 0;
	if (i == 0 || (i < l->n && !is_space((unsigned char)l->s[i]))) {
		l->fmt = WULOG_FMT_NONE;
		l->time[0] = '\0';
		return;
	}
	i = skip_token(l, skip_space(l, i)); /* PID */
	i = skip_token(l, skip_space(l, i)); /* TID */
	l->comp = skip_space(l, i);
	i = skip_token(l, l->comp);
	l->comp_n = i - l->comp;
	l->msg = skip_space(l, i);
}

/* ---- codes in the text --------------------------------------------------- */

/* Length of the hex run at s[i], 0 if none. */
static size_t
hex_run(const struct line *l, size_t i)
{
	size_t j = i;

	while (j < l->n && is_hex((unsigned char)l->s[j]))
		j++;
	return j - i;
}

/* The token ends at j: a cut line may go on with more of it. */
static bool
ends_at(const struct line *l, size_t j)
{
	return j < l->n ? !is_word((unsigned char)l->s[j]) : !l->cut;
}

static hr_t
hex8(const char *s)
{
	hr_t v = 0;

	for (size_t i = 0; i < 8; i++)
		v = (v << 4) | hex_value((unsigned char)s[i]);
	return v;
}

/* The word before s[i], skipping " = " and ": ", is one that the agent
 * writes a bare code after ("hr = 80072ee2", "error 8024402c"). */
static bool
after_code_word(const struct line *l, size_t i)
{
	static const char *const words[] = {"hr", "error", "code", "result"};
	size_t end = i, start;

	while (end > l->msg && (is_space((unsigned char)l->s[end - 1]) ||
				l->s[end - 1] == '=' || l->s[end - 1] == ':'))
		end--;
	start = end;
	while (start > l->msg && is_word((unsigned char)l->s[start - 1]))
		start--;
	for (size_t w = 0; w < NELEM(words); w++) {
		size_t n = strlen(words[w]), k = 0;

		if (end - start != n || end == i)
			continue;
		while (k < n &&
		       lower((unsigned char)l->s[start + k]) == words[w][k])
			k++;
		if (k == n)
			return true;
	}
	return false;
}

/* 8 bare hex digits at s[i] that are a code, not part of a GUID. */
static bool
bare_code_at(const struct line *l, size_t i)
{
	char before = i > 0 ? l->s[i - 1] : ' ';
	char after = i + 8 < l->n ? l->s[i + 8] : ' ';

	if (before == '-' || before == '{' || after == '-' || after == '}')
		return false;
	return (before == '[' && after == ']') || after_code_word(l, i);
}

/*
 * The code of the token at s[i] (a word start) into *code; returns the
 * offset after the token, so sub-words are never read again.
 */
static size_t
code_at(const struct line *l, size_t i, hr_t *code)
{
	const char *s = l->s;
	size_t h, end = i;

	*code = 0;
	if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		h = hex_run(l, i + 2);
		if (h == 8 && ends_at(l, i + 10))
			*code = hex8(s + i + 2);
	} else if ((h = hex_run(l, i)) == 8 && ends_at(l, i + 8) &&
		   bare_code_at(l, i)) {
		*code = hex8(s + i);
	}
	while (end < l->n && is_word((unsigned char)s[end]))
		end++;
	return end > i ? end : i + 1;
}

hr_t
wulog_ese_error(const char *text)
{
	static const char key[] = "error -";

	for (const char *p = text; *p != '\0'; p++) {
		size_t k = 0, d = 0;
		unsigned long v = 0;

		while (key[k] != '\0' && lower((unsigned char)p[k]) == key[k])
			k++;
		if (key[k] != '\0' ||
		    (p > text && is_word((unsigned char)p[-1])))
			continue;
		while (d < 6 && is_digit((unsigned char)p[k + d]))
			v = v * 10 + (unsigned long)(p[k + d++] - '0');
		if (d > 0 && d < 6 && v > 0 && v <= 0xFFFF)
			return 0xC8000000u | (hr_t)v;
	}
	return 0;
}

bool
wulog_mentions_store(const char *text)
{
	return ci_has(text, "sus20clientdatastore") ||
	       ci_has(text, "datastore.edb") ||
	       ci_has(text, "softwaredistribution\\datastore");
}

/* ---- one line ------------------------------------------------------------ */

/* The kinds found in one line and the first code of each. */
struct kinds {
	bool has[WULOG_KINDS];
	hr_t code[WULOG_KINDS];
	hr_t first; /* the first failure of any kind */
};

static void
mark(struct kinds *k, enum wulog_kind kind, hr_t code)
{
	if (!k->has[kind]) {
		k->has[kind] = true;
		k->code[kind] = code;
	}
	if (k->first == 0)
		k->first = code;
}

static void
mark_code(struct kinds *k, hr_t code)
{
	enum wulog_kind kind = wulog_classify(code);

	if (kind == WULOG_NONE)
		return;
	mark(k, kind, code);
	if (kind == WULOG_STORE)
		mark(k, WULOG_ERRORS, code);
}

static bool
is_store_line(const struct line *l)
{
	const char *c = l->s + l->comp;
	const char *msg = l->s + l->msg;

	/* Component "DataStore" (Windows 10) or "DtaStor" (classic). */
	if ((l->comp_n == 9 && strncmp(c, "DataStore", 9) == 0) ||
	    (l->comp_n == 7 && strncmp(c, "DtaStor", 7) == 0))
		return true;
	return wulog_mentions_store(msg) || ci_has(msg, "jet");
}

/* A line about the proxy that says something went wrong, with or
 * without a code ("WinHttp: SendRequestUsingProxy failed ..."). */
static bool
is_proxy_line(const char *msg)
{
	static const char *const bad[] = {"fail",   "error",	 "unable",
					  "cannot", "could not", "invalid",
					  "denied"};

	if (!ci_has(msg, "proxy"))
		return false;
	for (size_t i = 0; i < NELEM(bad); i++)
		if (ci_has(msg, bad[i]))
			return true;
	return false;
}

static void
line_kinds(const struct line *l, struct kinds *k)
{
	hr_t code, ese;

	memset(k, 0, sizeof(*k));
	for (size_t i = l->msg; i < l->n;) {
		if (i > l->msg && is_word((unsigned char)l->s[i - 1])) {
			i++;
			continue;
		}
		i = code_at(l, i, &code);
		if (code != 0)
			mark_code(k, code);
	}
	if (is_store_line(l) && (ese = wulog_ese_error(l->s + l->msg)) != 0)
		mark_code(k, ese);
	if (!k->has[WULOG_PROXY] && is_proxy_line(l->s + l->msg)) {
		k->has[WULOG_PROXY] = true;
		k->code[WULOG_PROXY] = k->first;
	}
}

/* The line as JSON-safe text: valid UTF-8 (other bytes become '?'),
 * no control characters, cut at a character edge, no trailing space. */
static void
copy_text(char *out, const struct line *l)
{
	const unsigned char *s = (const unsigned char *)l->s;
	size_t i = 0, o = 0, c;

	while (i < l->n) {
		c = utf8_char_len(s + i, l->n - i);
		if (c == 0) {
			c = 1;
			if (o + 1 >= WULOG_TEXT_MAX)
				break;
			out[o++] = '?';
		} else {
			if (o + c >= WULOG_TEXT_MAX)
				break;
			memcpy(out + o, s + i, c);
			if (c == 1 && s[i] < 0x20)
				out[o] = ' ';
			o += c;
		}
		i += c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static void
record(struct wulog_summary *sum, const struct line *l, size_t lineno,
       const struct kinds *k)
{
	for (int kind = 0; kind < WULOG_KINDS; kind++) {
		struct wulog_hit *h = &sum->hit[kind];

		if (!k->has[kind])
			continue;
		h->count++;
		h->line = lineno;
		h->code = k->code[kind];
		memcpy(h->time, l->time, sizeof(h->time));
		copy_text(h->text, l);
	}
}

/* Copy text[0..n) into l: NUL bytes read as spaces, the CR of a CRLF
 * dropped, at most LINE_SCAN bytes. */
static void
load_line(struct line *l, const char *text, size_t n)
{
	if (n > 0 && text[n - 1] == '\r')
		n--;
	l->cut = n > LINE_SCAN;
	l->n = l->cut ? LINE_SCAN : n;
	memcpy(l->s, text, l->n);
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i] == '\0')
			l->s[i] = ' ';
	l->s[l->n] = '\0';
	l->comp = l->comp_n = 0;
	memset(l->time, 0, sizeof(l->time));
	l->fmt = WULOG_FMT_NONE;
	parse_columns(l);
}

/* Where a scan puts aside the lines dated before a time. */
struct cutoff {
	const char *since; /* NULL: keep every line */
	size_t older;	   /* store lines put aside */
};

static void
scan_line(struct wulog_summary *sum, struct line *l, size_t lineno, bool *stub,
	  struct cutoff *cut)
{
	struct kinds k;

	if (l->fmt == WULOG_FMT_CLASSIC)
		sum->classic_lines++;
	else if (l->fmt == WULOG_FMT_ETW)
		sum->etw_lines++;
	else if (ci_has(l->s, "get-windowsupdatelog"))
		*stub = true;
	if (l->time[0] != '\0') {
		if (sum->first_time[0] == '\0')
			memcpy(sum->first_time, l->time, WULOG_TIME_LEN);
		memcpy(sum->last_time, l->time, WULOG_TIME_LEN);
	}
	line_kinds(l, &k);
	if (cut->since != NULL && l->time[0] != '\0' &&
	    strcmp(l->time, cut->since) < 0) {
		if (k.has[WULOG_STORE])
			cut->older++;
		return;
	}
	record(sum, l, lineno, &k);
}

static enum wulog_format
pick_format(const struct wulog_summary *sum, bool stub)
{
	if (sum->classic_lines == 0 && sum->etw_lines == 0)
		return stub ? WULOG_FMT_STUB : WULOG_FMT_NONE;
	return sum->etw_lines > sum->classic_lines ? WULOG_FMT_ETW
						   : WULOG_FMT_CLASSIC;
}

static void
scan(const char *text, size_t len, struct cutoff *cut,
     struct wulog_summary *out)
{
	struct line l;
	/* NULL + 0 is undefined too: no end without a text. */
	const char *p = text, *end = text != NULL ? text + len : NULL, *nl;
	bool stub = false;

	memset(out, 0, sizeof(*out));
	out->bytes = len;
	while (text != NULL && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		load_line(&l, p, (size_t)((nl != NULL ? nl : end) - p));
		scan_line(out, &l, ++out->lines, &stub, cut);
		p = nl != NULL ? nl + 1 : end;
	}
	out->format = pick_format(out, stub);
}

void
wulog_scan(const char *text, size_t len, struct wulog_summary *out)
{
	struct cutoff cut = {NULL, 0};

	scan(text, len, &cut, out);
}

void
wulog_scan_since(const char *text, size_t len, const char *since,
		 struct wulog_summary *out, size_t *older)
{
	struct cutoff cut = {since != NULL && since[0] != '\0' ? since : NULL,
			     0};

	scan(text, len, &cut, out);
	*older = cut.older;
}
