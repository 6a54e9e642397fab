/*
 * fuzz_wulog.c: WindowsUpdate.log text through wulog_scan (the buffer is
 * exactly the input, not NUL-terminated, as the reader may pass it), and
 * each line through the helpers the checks call on C strings.
 */
#include <stdlib.h>
#include <string.h>

#include "checks/wulog.h"
#include "fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A hit's text goes into JSON: valid UTF-8 and no control characters. */
static void
check_text(const char *text, int k)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s != '\0') {
		size_t n = fuzz_utf8_len(s);

		if (n == 0 || *s < 0x20)
			fuzz_fail("hit %d: not JSON-safe at byte %zu: %.64s", k,
				  (size_t)(s - (const unsigned char *)text),
				  text);
		s += n;
	}
}

static void
check_hit(const struct wulog_hit *h, const struct wulog_summary *s, int k)
{
	if (memchr(h->time, '\0', sizeof(h->time)) == NULL ||
	    memchr(h->text, '\0', sizeof(h->text)) == NULL)
		fuzz_fail("hit %d: text or time not terminated", k);
	if (h->count == 0 && (h->line != 0 || h->text[0] != '\0'))
		fuzz_fail("hit %d: no lines but a line", k);
	if (h->count > s->lines || h->line > s->lines)
		fuzz_fail("hit %d: line %zu of %zu", k, h->line, s->lines);
	check_text(h->text, k);
}

static void
check_summary(const struct wulog_summary *s, const uint8_t *data, size_t size)
{
	size_t lines = 0;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (s->bytes != size || s->lines > lines + 1 ||
	    s->classic_lines + s->etw_lines > s->lines)
		fuzz_fail("summary counts %zu lines, %zu bytes of %zu",
			  s->lines, s->bytes, size);
	if (memchr(s->first_time, '\0', sizeof(s->first_time)) == NULL ||
	    memchr(s->last_time, '\0', sizeof(s->last_time)) == NULL)
		fuzz_fail("first or last time not terminated");
	if (wulog_format_name(s->format) == NULL)
		fuzz_fail("format %d has no name", (int)s->format);
	for (int k = 0; k < WULOG_KINDS; k++)
		check_hit(&s->hit[k], s, k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wulog_summary sum;
	char *text;
	hr_t code = 0;

	wulog_scan((const char *)data, size, &sum);
	check_summary(&sum, data, size);
	text = fuzz_cstr(data, size);
	code = wulog_ese_error(text);
	if (code != 0 && (code & 0xFFFF0000u) != 0xC8000000u)
		fuzz_fail("ESE error 0x%08x outside 0xC800xxxx",
			  (unsigned)code);
	(void)wulog_mentions_store(text);
	if (size >= 4) {
		memcpy(&code, data, 4);
		if (wulog_classify(code) >= WULOG_KINDS)
			fuzz_fail("classify out of range");
	}
	free(text);
	return 0;
}
