/*
 * test_wulog.c: the WindowsUpdate.log parser on saved logs in both
 * formats (tests/fixtures/logs) and on single lines that probe its rules:
 * which tokens are codes, what each code is about, and that any bytes at
 * all are read safely.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/wulog.h"
#include "common/xalloc.h"

static char *
fixture(const char *name, size_t *len)
{
	const char *dir = getenv("WSUSDIAG_SOURCE_DIR");
	char *path, *text;
	FILE *fp;
	long n;

	cr_assert_not_null(dir, "WSUSDIAG_SOURCE_DIR is not set (run ctest)");
	path = xasprintf("%s/tests/fixtures/logs/%s", dir, name);
	fp = fopen(path, "rb");
	cr_assert_not_null(fp, "open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = xmalloc((size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	text[n] = '\0';
	fclose(fp);
	free(path);
	*len = (size_t)n;
	return text;
}

static void
scan_fixture(const char *name, struct wulog_summary *s)
{
	size_t len;
	char *text = fixture(name, &len);

	wulog_scan(text, len, s);
	cr_assert_eq(s->bytes, len);
	free(text);
}

static void
scan_str(const char *text, struct wulog_summary *s)
{
	wulog_scan(text, strlen(text), s);
}

static void
assert_no_hits(const struct wulog_summary *s)
{
	for (int k = 0; k < WULOG_KINDS; k++) {
		cr_assert_eq(s->hit[k].count, 0, "kind %d: line %zu: %s", k,
			     s->hit[k].line, s->hit[k].text);
		cr_assert_eq(s->hit[k].line, 0);
		cr_assert_str_eq(s->hit[k].text, "");
	}
}

/* The code one line yields for a kind, 0 when it has none. */
static hr_t
line_code(const char *line, enum wulog_kind kind)
{
	struct wulog_summary s;

	scan_str(line, &s);
	return s.hit[kind].count > 0 ? s.hit[kind].code : 0;
}

#define ETW "2026/11/20 10:00:00.1234567 1176  4620  "

/* ---- whole logs --------------------------------------------------------- */

Test(wulog, classic_healthy_is_clean)
{
	struct wulog_summary s;

	scan_fixture("classic-healthy.log", &s);
	cr_assert_eq(s.format, WULOG_FMT_CLASSIC);
	cr_assert_str_eq(wulog_format_name(s.format), "classic");
	cr_assert_eq(s.lines, 28);
	cr_assert_eq(s.classic_lines, 28);
	cr_assert_eq(s.etw_lines, 0);
	cr_assert_str_eq(s.first_time, "2026-11-19T03:00:01.312");
	cr_assert_str_eq(s.last_time, "2026-11-19T03:10:01.551");
	/* "Exit code = 0x240001", "(00000000)", braced GUIDs: no failure. */
	assert_no_hits(&s);
}

Test(wulog, classic_proxy_errors)
{
	struct wulog_summary s;
	const struct wulog_hit *h;

	scan_fixture("classic-proxy.log", &s);
	cr_assert_eq(s.format, WULOG_FMT_CLASSIC);
	cr_assert_eq(s.lines, 39);
	h = &s.hit[WULOG_PROXY];
	/* Lines 14-23, 27, 31, 33, 34; not "Proxy list used = ..." (25). */
	cr_assert_eq(h->count, 14);
	cr_assert_eq(h->line, 34);
	cr_assert_eq(h->code, 0x80072EE2u);
	cr_assert_str_eq(h->time, "2026-11-20T09:58:33.153");
	/* Tabs read as spaces, the CR of the CRLF is gone. */
	cr_assert_str_eq(h->text, "2026-11-20 09:58:33:153  996 1f4 AU   # "
				  "WARNING: Failed to find updates with "
				  "error code 80072EE2");
	cr_assert_eq(s.hit[WULOG_DOWNLOAD].count, 0);
	cr_assert_eq(s.hit[WULOG_STORE].count, 0);
	cr_assert_eq(s.hit[WULOG_ERRORS].count, 0);
}

Test(wulog, etw_healthy_is_clean)
{
	struct wulog_summary s;

	scan_fixture("etw-healthy.log", &s);
	cr_assert_eq(s.format, WULOG_FMT_ETW);
	cr_assert_str_eq(wulog_format_name(s.format), "etw");
	cr_assert_eq(s.lines, 27);
	cr_assert_eq(s.etw_lines, 27);
	cr_assert_str_eq(s.first_time, "2026-11-21T08:01:14.071");
	cr_assert_str_eq(s.last_time, "2026-11-21T09:20:01.016");
	/* "*FAILED* [8024000C]" is routine; GUIDs without braces, content
	 * hashes and "Flags: 0X8000000" are not codes. */
	assert_no_hits(&s);
}

Test(wulog, etw_download_errors)
{
	struct wulog_summary s;
	const struct wulog_hit *h = &s.hit[WULOG_DOWNLOAD];

	scan_fixture("etw-download.log", &s);
	cr_assert_eq(s.format, WULOG_FMT_ETW);
	cr_assert_eq(s.lines, 20);
	cr_assert_eq(h->count, 3);
	cr_assert_eq(h->line, 20);
	cr_assert_eq(h->code, 0x80246007u); /* WU_E_DM_NOTDOWNLOADED */
	cr_assert_str_eq(h->time, "2026-11-21T09:40:11.812");
	cr_assert_eq(s.hit[WULOG_PROXY].count, 0);
	cr_assert_eq(s.hit[WULOG_ERRORS].count, 0);
}

Test(wulog, etw_store_errors)
{
	struct wulog_summary s;
	const struct wulog_hit *h = &s.hit[WULOG_STORE];

	scan_fixture("etw-store.log", &s);
	cr_assert_eq(s.lines, 10);
	/* "JET error -1018", [C80003FA], [80248008], exit 0x80248008. */
	cr_assert_eq(h->count, 4);
	cr_assert_eq(h->line, 10);
	cr_assert_eq(h->code, 0x80248008u);
	/* Store lines are error lines too. */
	cr_assert_eq(s.hit[WULOG_ERRORS].count, 4);
	cr_assert_eq(s.hit[WULOG_ERRORS].line, 10);
	cr_assert_eq(s.hit[WULOG_PROXY].count, 0);
}

Test(wulog, windows10_placeholder)
{
	struct wulog_summary s;

	scan_fixture("stub.log", &s);
	cr_assert_eq(s.format, WULOG_FMT_STUB);
	cr_assert_str_eq(wulog_format_name(s.format), "stub");
	cr_assert_eq(s.lines, 4);
	cr_assert_str_eq(s.first_time, "");
	assert_no_hits(&s);
}

Test(wulog, empty_and_null)
{
	struct wulog_summary s;

	wulog_scan(NULL, 0, &s);
	cr_assert_eq(s.lines, 0);
	cr_assert_eq(s.format, WULOG_FMT_NONE);
	cr_assert_str_eq(wulog_format_name(s.format), "unknown");
	wulog_scan("", 0, &s);
	cr_assert_eq(s.lines, 0);
	scan_str("\n\n", &s);
	cr_assert_eq(s.lines, 2);
	assert_no_hits(&s);
}

Test(wulog, majority_format)
{
	struct wulog_summary s;

	scan_str("2026-11-20\t10:00:00:123\t 996\t1f4\tAgent\ta\n" ETW
		 "Agent           b\n" ETW "Agent           c\n",
		 &s);
	cr_assert_eq(s.classic_lines, 1);
	cr_assert_eq(s.etw_lines, 2);
	cr_assert_eq(s.format, WULOG_FMT_ETW);
	cr_assert_str_eq(s.first_time, "2026-11-20T10:00:00.123");
	cr_assert_str_eq(s.last_time, "2026-11-20T10:00:00.123");
}

Test(wulog, brief_example_lines)
{
	cr_assert_eq(
	    line_code("2026-11-20\t10:00:00:123\t 996\t1f4\tAgent\t  * "
		      "WARNING: Exit code = 0x8024402C",
		      WULOG_PROXY),
	    0x8024402Cu);
	cr_assert_eq(line_code(ETW "Agent           Exit code = 0x8024402c",
			       WULOG_PROXY),
		     0x8024402Cu);
}

/* ---- which tokens are codes ------------------------------------------- */

Test(wulog, code_forms)
{
	const enum wulog_kind E = WULOG_ERRORS;

	cr_assert_eq(line_code(ETW "Misc            *FAILED* [80004005] x", E),
		     0x80004005u);
	cr_assert_eq(line_code(ETW "Misc            failed hr = 80004005.", E),
		     0x80004005u);
	cr_assert_eq(
	    line_code(ETW "Misc            failed with hr=0X80004005", E),
	    0x80004005u);
	cr_assert_eq(line_code(ETW "Misc            error: 80004005", E),
		     0x80004005u);
	cr_assert_eq(line_code(ETW "Misc            result 80004005", E),
		     0x80004005u);
	cr_assert_eq(line_code(ETW "Misc            (0x80004005).", E),
		     0x80004005u);
	/* Bare hex without the agent's words before it is no code. */
	cr_assert_eq(line_code(ETW "Misc            size 80004005 bytes", E),
		     0);
	/* Not 8 digits, not at a word edge, or not a failure. */
	cr_assert_eq(line_code(ETW "Misc            0x8000400", E), 0);
	cr_assert_eq(line_code(ETW "Misc            0x800040051", E), 0);
	cr_assert_eq(line_code(ETW "Misc            0x80004005z", E), 0);
	cr_assert_eq(line_code(ETW "Misc            a0x80004005", E), 0);
	cr_assert_eq(line_code(ETW "Misc            Exit code = 0x00240001", E),
		     0);
	cr_assert_eq(line_code(ETW "Misc            hr = 0x00000000", E), 0);
}

Test(wulog, guids_and_hashes_are_not_codes)
{
	const enum wulog_kind E = WULOG_ERRORS;

	cr_assert_eq(line_code(ETW "Agent           ServiceId = "
				   "8024402C-ECB4-4CA3-B045-1DFA50104289",
			       WULOG_PROXY),
		     0);
	cr_assert_eq(line_code(ETW "Agent           ID {80004005-0C3F-4E8A-"
				   "9B6D-7F1E2C3A4B5D} error 0",
			       E),
		     0);
	cr_assert_eq(line_code(ETW "Agent           hr = 80004005-1", E), 0);
	cr_assert_eq(line_code(ETW "DownloadManager Content/3A/"
				   "80004005D4B6A79E5C3B1D0F2A4E6C8B0D2F4A63A"
				   ".cab error",
			       E),
		     0);
	cr_assert_eq(line_code(ETW "DownloadManager hr [80004005AB]", E), 0);
}

Test(wulog, the_prefix_is_not_read)
{
	/* A PID or TID column never reads as a code. */
	cr_assert_eq(line_code("2026/11/20 10:00:00.1234567 80004005 4620  "
			       "Agent           quiet",
			       WULOG_ERRORS),
		     0);
}

Test(wulog, undated_lines_are_read_whole)
{
	struct wulog_summary s;

	scan_str("WARNING: PTError: 0x8024402c\n", &s);
	cr_assert_eq(s.format, WULOG_FMT_NONE);
	cr_assert_eq(s.hit[WULOG_PROXY].count, 1);
	cr_assert_eq(s.hit[WULOG_PROXY].code, 0x8024402Cu);
	cr_assert_str_eq(s.hit[WULOG_PROXY].time, "");
}

/* ---- what codes are about ----------------------------------------------- */

Test(wulog, classify)
{
	static const struct {
		hr_t code;
		enum wulog_kind kind;
	} cases[] = {
	    {0x80072EE2u, WULOG_PROXY},	   /* WinHTTP timeout */
	    {0x80072EE7u, WULOG_PROXY},	   /* name not resolved */
	    {0x80072EFDu, WULOG_PROXY},	   /* cannot connect */
	    {0x80072F78u, WULOG_PROXY},	   /* invalid server response */
	    {0x80072E00u, WULOG_PROXY},	   /* range edges */
	    {0x80072FFFu, WULOG_PROXY},	   /*   ... */
	    {0x80073000u, WULOG_ERRORS},   /*   ... outside */
	    {0x8024402Cu, WULOG_PROXY},	   /* WU_E_PT_WINHTTP_NAME_NOT_RES.. */
	    {0x8024401Bu, WULOG_PROXY},	   /* proxy auth required */
	    {0x80244021u, WULOG_PROXY},	   /* bad gateway */
	    {0x80244023u, WULOG_PROXY},	   /* gateway timeout */
	    {0x80240438u, WULOG_PROXY},	   /* endpoint unreachable */
	    {0x80240030u, WULOG_PROXY},	   /* invalid proxy server */
	    {0x8020003Fu, WULOG_PROXY},	   /* BG_E_INVALID_PROXY_INFO */
	    {0x80190197u, WULOG_PROXY},	   /* HTTP 407 via BITS */
	    {0x80072AF9u, WULOG_PROXY},	   /* WSAHOST_NOT_FOUND */
	    {0x80200013u, WULOG_DOWNLOAD}, /* no range support */
	    {0x80200011u, WULOG_DOWNLOAD},
	    {0x80190194u, WULOG_DOWNLOAD}, /* HTTP 404 via BITS */
	    {0x80246008u, WULOG_DOWNLOAD}, /* WU_E_DM_FAILTOCONNECTTOBITS */
	    {0x80240034u, WULOG_DOWNLOAD}, /* WU_E_DOWNLOAD_FAILED */
	    {0x80248002u, WULOG_STORE},	   /* WU_E_DS_INVALID */
	    {0x80248009u, WULOG_STORE},	   /* WU_E_DS_MISSINGREF */
	    {0x8024801Bu, WULOG_STORE},	   /* WU_E_DS_SCHEMAMISMATCH */
	    {0x80248FFFu, WULOG_STORE},	   /* WU_E_DS_UNEXPECTED */
	    {0x8024F001u, WULOG_STORE},	   /* event cache corrupt */
	    {0x80070570u, WULOG_STORE},	   /* ERROR_FILE_CORRUPT */
	    {0xC80003FAu, WULOG_STORE},	   /* JET -1018 */
	    {0xC8000222u, WULOG_STORE},	   /* JET -546 */
	    {0x8024800Cu, WULOG_ERRORS},   /* lock timeout: not damage */
	    {0x8024800Fu, WULOG_ERRORS},   /* store file locked */
	    {0x8024402Fu, WULOG_ERRORS},   /* ECP errors */
	    {0x80070005u, WULOG_ERRORS},
	    {0x8024000Cu, WULOG_NONE}, /* routine */
	    {0x80240024u, WULOG_NONE},
	    {0x80248007u, WULOG_NONE},
	    {0x8024001Eu, WULOG_NONE},
	    {0x00240001u, WULOG_NONE}, /* success codes */
	    {0x00000000u, WULOG_NONE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(wulog_classify(cases[i].code), cases[i].kind,
			     "0x%08X", cases[i].code);
}

Test(wulog, a_line_may_be_of_several_kinds)
{
	struct wulog_summary s;

	scan_str(ETW "DownloadManager BITS job failed through the proxy, hr = "
		     "0x80200013 then 0x80072EE2\n",
		 &s);
	cr_assert_eq(s.hit[WULOG_PROXY].code, 0x80072EE2u);
	cr_assert_eq(s.hit[WULOG_DOWNLOAD].code, 0x80200013u);
	cr_assert_eq(s.hit[WULOG_ERRORS].count, 0);
}

Test(wulog, proxy_lines_without_a_code)
{
	struct wulog_summary s;

	scan_str(ETW "WebServices     WS error: Access was denied by the HTTP "
		     "proxy server.\n" ETW
		     "WebServices     Current Proxy auth scheme=0.\n",
		 &s);
	cr_assert_eq(s.hit[WULOG_PROXY].count, 1);
	cr_assert_eq(s.hit[WULOG_PROXY].line, 1);
	cr_assert_eq(s.hit[WULOG_PROXY].code, 0);
	/* A proxy line takes the line's first failure as its code. */
	cr_assert_eq(line_code(ETW "Misc            proxy setup failed: "
				   "0x80004005",
			       WULOG_PROXY),
		     0x80004005u);
}

Test(wulog, ese_text_errors)
{
	cr_assert_eq(wulog_ese_error("Error -546."), 0xC8000222u);
	cr_assert_eq(wulog_ese_error("will fail with error -1018 (0xfffffc06)"),
		     0xC80003FAu);
	cr_assert_eq(wulog_ese_error("JET ERROR -1206"), 0xC80004B6u);
	cr_assert_eq(wulog_ese_error("terror -1018"), 0);
	cr_assert_eq(wulog_ese_error("error -"), 0);
	cr_assert_eq(wulog_ese_error("error -0"), 0);
	cr_assert_eq(wulog_ese_error("error -70000"), 0);
	cr_assert_eq(wulog_ese_error("error 1018"), 0);
	/* In the log, only on a line about the data store. */
	cr_assert_eq(line_code(ETW "DataStore       read failed, JET error "
				   "-1018",
			       WULOG_STORE),
		     0xC80003FAu);
	cr_assert_eq(line_code(ETW "Agent           Failed to open "
				   "C:\\Windows\\SoftwareDistribution\\"
				   "DataStore\\DataStore.edb: error -1018",
			       WULOG_STORE),
		     0xC80003FAu);
	cr_assert_eq(line_code(ETW "Agent           Handler failed, error "
				   "-1018",
			       WULOG_STORE),
		     0);
	cr_assert_eq(line_code("2026-11-20\t10:00:00:123\t 996\t1f4\tDtaStor\t"
			       "FATAL: error -1206 opening the database",
			       WULOG_STORE),
		     0xC80004B6u);
}

Test(wulog, mentions_store)
{
	cr_assert(wulog_mentions_store("wuaueng.dll (936) SUS20ClientDataStore:"
				       " Unable to read the header"));
	cr_assert(wulog_mentions_store(
	    "C:\\WINDOWS\\SOFTWAREDISTRIBUTION\\DATASTORE\\LOGS\\edb.log"));
	cr_assert(wulog_mentions_store("file DataStore.edb"));
	cr_assert_not(wulog_mentions_store("svchost (812) SRUJet: error"));
}

/* ---- any bytes at all -----------------------------------------------------
 */

Test(wulog, nul_bytes_and_line_ends)
{
	static const char text[] = ETW "Agent           a\0b hr = 80004005\r\n"
				       "\r\n" ETW "Agent           c";
	struct wulog_summary s;
	const struct wulog_hit *h = &s.hit[WULOG_ERRORS];

	wulog_scan(text, sizeof(text) - 1, &s);
	cr_assert_eq(s.lines, 3);
	cr_assert_eq(s.etw_lines, 2);
	cr_assert_eq(h->count, 1);
	cr_assert_eq(h->line, 1);
	cr_assert_str_eq(h->text, ETW "Agent           a b hr = 80004005");
}

Test(wulog, text_is_valid_utf8_and_bounded)
{
	char line[2000];
	struct wulog_summary s;
	const struct wulog_hit *h = &s.hit[WULOG_ERRORS];
	size_t n;

	/* A Latin-1 byte, a control character, a UTF-8 character, then a
	 * long tail. */
	n = (size_t)snprintf(line, sizeof(line),
			     ETW "Agent           \xe9t\x01 \xc3\xa9 hr = "
				 "80004005 ");
	memset(line + n, 'x', sizeof(line) - n - 1);
	line[sizeof(line) - 1] = '\0';
	scan_str(line, &s);
	cr_assert_eq(h->count, 1);
	cr_assert_eq(strlen(h->text), WULOG_TEXT_MAX - 1);
	cr_assert_eq(strncmp(h->text, ETW "Agent           ?t  \xc3\xa9 hr = ",
			     strlen(ETW) + 26),
		     0, "%s", h->text);
}

/*
 * Found by fuzz/fuzz_wulog: bytes that look like UTF-8 but are not
 * (F5..F7 leads for code points past U+10FFFF, overlong forms,
 * surrogates) were copied into the text as they were, so the JSON the
 * checks answer with was not UTF-8. Each such byte is now a '?', and the
 * valid characters at the edges of each range are kept.
 */
Test(wulog, text_has_no_invalid_utf8)
{
	static const char line[] =
	    ETW "Agent           a\xe0\x80\x80"
		"b\xed\xa0\x80"
		"c"
		"\xf4\x90\x80\x80"
		"d\xf7\xac\x9a\x8c"
		"e\xf5\x80\x80\x80"
		"f\xc0\xaf"
		"g hr = 80004005 \xef\xbf\xbf\xf4\x8f\xbf\xbf"
		"\xf0\x90\x80\x80\xed\x9f\xbf\xe0\xa0\x80\xc2\x80";
	struct wulog_summary s;

	scan_str(line, &s);
	cr_assert_eq(s.hit[WULOG_ERRORS].count, 1);
	cr_assert_str_eq(s.hit[WULOG_ERRORS].text,
			 ETW "Agent           a???b???c????d????e????f??g hr = "
			     "80004005 \xef\xbf\xbf\xf4\x8f\xbf\xbf\xf0\x90\x80"
			     "\x80\xed\x9f\xbf\xe0\xa0\x80\xc2\x80");
}

Test(wulog, cut_is_at_a_character_edge)
{
	char line[WULOG_TEXT_MAX + 64];
	struct wulog_summary s;
	size_t n = (size_t)snprintf(line, sizeof(line),
				    ETW "Agent           hr = 80004005 ");

	/* Two-byte characters so that one straddles the cut. */
	while (n + 2 < sizeof(line)) {
		line[n++] = '\xc3';
		line[n++] = '\xa9';
	}
	line[n] = '\0';
	scan_str(line, &s);
	n = strlen(s.hit[WULOG_ERRORS].text);
	cr_assert_lt(n, WULOG_TEXT_MAX);
	cr_assert_neq((unsigned char)s.hit[WULOG_ERRORS].text[n - 1], 0xC3);
}

Test(wulog, a_code_cut_by_the_line_limit_is_not_read)
{
	/* The scan reads 4096 bytes of a line: a 10-digit hex run whose
	 * first 8 digits end exactly there must not read as a code. */
	size_t pre = strlen(ETW "Agent           ");
	size_t len = 4096 + 40, at = 4096 - 8 - 6;
	char *line = xmalloc(len + 1);
	struct wulog_summary s;

	memset(line, 'x', len);
	memcpy(line, ETW "Agent           ", pre);
	memcpy(line + at, " hr = 80004005AB", 16);
	line[len] = '\0';
	scan_str(line, &s);
	cr_assert_eq(s.hit[WULOG_ERRORS].count, 0);
	/* The same code whole, well inside the limit, is read. */
	memcpy(line + 100, " hr = 80004005 ", 15);
	scan_str(line, &s);
	cr_assert_eq(s.hit[WULOG_ERRORS].code, 0x80004005u);
	free(line);
}

Test(wulog, dates_must_be_whole)
{
	struct wulog_summary s;

	scan_str("2026/11/20 10:00:00. 1176 4620 Agent x\n"
		 "2026-11-20\t10:00:00:1234\t996\t1f4\tAgent\tx\n"
		 "2026-11-20\t10:0:00:123\t996\t1f4\tAgent\tx\n"
		 "2026/11/20\n",
		 &s);
	cr_assert_eq(s.classic_lines + s.etw_lines, 0);
	cr_assert_str_eq(s.first_time, "");
}

/* Deterministic bytes, heavy in the characters the parser cares about. */
static void
noise(unsigned *seed, char *buf, size_t n)
{
	static const char alphabet[] = "0x8024402CcEe-{}[]= \t\r\nhr:error/.2"
				       "\x00\xc3\xa9\xff";

	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		buf[i] = alphabet[(*seed >> 16) % (sizeof(alphabet) - 1)];
	}
}

Test(wulog, arbitrary_bytes_keep_the_invariants)
{
	char buf[6000];
	unsigned seed = 42;
	struct wulog_summary s;

	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(round * 7) % sizeof(buf);

		noise(&seed, buf, n);
		/* Sometimes a real line first, so dated paths are taken. */
		if (round % 3 == 0 && n > 60)
			memcpy(buf, ETW "Agent           ", 56);
		wulog_scan(buf, n, &s);
		cr_assert_eq(s.bytes, n);
		cr_assert_leq(s.classic_lines + s.etw_lines, s.lines);
		for (int k = 0; k < WULOG_KINDS; k++) {
			const struct wulog_hit *h = &s.hit[k];

			cr_assert_leq(h->count, s.lines);
			cr_assert_leq(h->line, s.lines);
			cr_assert_lt(strlen(h->text), WULOG_TEXT_MAX);
			cr_assert(strlen(h->time) == 0 ||
				  strlen(h->time) == 23);
			if (h->count > 0 && k != WULOG_PROXY)
				cr_assert_neq(h->code, 0);
		}
	}
}
