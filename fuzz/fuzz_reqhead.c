/*
 * fuzz_reqhead.c: the plaintext a client sends, counted into request
 * heads and framed by daemon/reqhead.c as the listener counts it.
 *
 * Input: one byte that says where to cut, then the client's bytes. They
 * are fed whole, and again cut in two pieces and then one byte at a
 * time: a TLS record can end anywhere, so every way of cutting must
 * count the same. Where an answer falls must not matter to a framed
 * scan either, so one is fed after each piece of the cut run.
 */
#include <string.h>

#include "daemon/reqhead.h"
#include "fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BYTES 512 /* small, so that fuzzed heads reach it */
#define ANSWER	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

/* Feed buf; MHD may have what reqhead_in allows, never more. */
static void
feed(struct reqhead *h, const char *buf, size_t len)
{
	bool was_over = reqhead_over(h);
	size_t n = reqhead_in(h, buf, len);

	if (n > len)
		fuzz_fail("reqhead_in allowed %zu of %zu bytes", n, len);
	if (n < len && !reqhead_over(h))
		fuzz_fail("%zu of %zu bytes allowed, no limit passed", n, len);
	if (was_over && (!reqhead_over(h) || n != 0))
		fuzz_fail("a refusal was undone");
	if (h->bytes > h->max_bytes + 1 || h->lines > REQHEAD_MAX_FIELDS + 2)
		fuzz_fail("counted %zu bytes, %u lines", h->bytes, h->lines);
}

static bool
same(const struct reqhead *a, const struct reqhead *b)
{
	return a->state == b->state && a->scan == b->scan &&
	       a->bytes == b->bytes && a->lines == b->lines &&
	       a->body_left == b->body_left;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reqhead whole, cut, bytewise, answered;
	const char *p = (const char *)data + 1;
	size_t len, at;

	if (size < 1)
		return 0;
	len = size - 1;
	at = len > 0 ? data[0] % (len + 1) : 0;
	reqhead_init(&whole, MAX_BYTES);
	reqhead_init(&cut, MAX_BYTES);
	reqhead_init(&bytewise, MAX_BYTES);
	reqhead_init(&answered, MAX_BYTES);
	feed(&whole, p, len);
	feed(&cut, p, at);
	feed(&cut, p + at, len - at);
	for (size_t i = 0; i < len; i++)
		feed(&bytewise, p + i, 1);
	if (!same(&whole, &cut) || !same(&whole, &bytewise))
		fuzz_fail("cut at %zu: state %d/%d/%d, %zu/%zu/%zu bytes", at,
			  whole.state, cut.state, bytewise.state, whole.bytes,
			  cut.bytes, bytewise.bytes);
	/* An answer moves only what is not framed. */
	feed(&answered, p, at);
	if (answered.scan != RS_LOST) {
		reqhead_out(&answered, ANSWER, strlen(ANSWER));
		feed(&answered, p + at, len - at);
		if (answered.scan != whole.scan ||
		    answered.bytes != whole.bytes ||
		    answered.lines != whole.lines ||
		    answered.body_left != whole.body_left ||
		    reqhead_over(&answered) != reqhead_over(&whole))
			fuzz_fail("an answer after %zu bytes moved the scan",
				  at);
	}
	return 0;
}
