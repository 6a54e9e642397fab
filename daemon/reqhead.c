#include "daemon/reqhead.h"

#include <string.h>

void
reqhead_init(struct reqhead *h, size_t max_bytes)
{
	memset(h, 0, sizeof(*h));
	h->max_bytes = max_bytes;
}

bool
reqhead_over(const struct reqhead *h)
{
	return h->state == RH_BYTES || h->state == RH_FIELDS;
}

bool
reqhead_waiting(const struct reqhead *h)
{
	return h->state == RH_HEAD;
}

static void
reqhead_line_end(struct reqhead *h)
{
	if (h->in_line) {
		h->in_line = false;
		if (++h->lines > REQHEAD_MAX_FIELDS + 1)
			h->state = RH_FIELDS;
	} else if (h->lines > 0) {
		h->state = RH_BODY;
	}
}

bool
reqhead_in(struct reqhead *h, const char *buf, size_t len)
{
	for (size_t i = 0; i < len && h->state == RH_HEAD; i++) {
		if (++h->bytes > h->max_bytes) {
			h->state = RH_BYTES;
		} else if (buf[i] == '\n') {
			h->cr = false;
			reqhead_line_end(h);
		} else {
			/* A CR is text, unless an LF follows it. */
			h->in_line |= h->cr || buf[i] != '\r';
			h->cr = buf[i] == '\r';
		}
	}
	return reqhead_over(h);
}

static char
reqhead_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Where lowercase s starts in b, ignoring case; len when nowhere. s
 * begins with a character that has no case (a CR), which memchr finds:
 * this runs over every answer.
 */
static size_t
reqhead_find(const char *b, size_t len, const char *s)
{
	size_t n = strlen(s), i = 0;
	const char *at;

	while (i + n <= len && (at = memchr(b + i, s[0], len - n + 1 - i))) {
		size_t j = 1;

		i = (size_t)(at - b);
		while (j < n && reqhead_lower(b[i + j]) == s[j])
			j++;
		if (j == n)
			return i;
		i++;
	}
	return len;
}

/* b begins with s, or is shorter and could (an answer cut short). */
static bool
reqhead_begins(const char *b, size_t len, const char *s)
{
	size_t n = strlen(s);

	return memcmp(b, s, len < n ? len : n) == 0;
}

/*
 * MHD's next bytes. An interim answer (100 Continue) is not the answer:
 * the body it asks for follows. A final one ends the request, and one
 * that announces the close ends the counting: MHD reads no further
 * request on this connection, so the rest of the body it answered
 * early (a 413) must not count as a head.
 */
void
reqhead_out(struct reqhead *h, const char *buf, size_t len)
{
	size_t head;

	while (len > 0 && reqhead_begins(buf, len, "HTTP/1.1 1")) {
		size_t end = reqhead_find(buf, len, "\r\n\r\n");

		if (end == len)
			return;
		buf += end + 4;
		len -= end + 4;
	}
	if (len == 0 || (h->state != RH_HEAD && h->state != RH_BODY))
		return;
	if (h->state == RH_BODY) {
		unsigned answered = h->answered + 1;

		reqhead_init(h, h->max_bytes);
		h->answered = answered;
	}
	if (!reqhead_begins(buf, len, "HTTP/1."))
		return;
	head = reqhead_find(buf, len, "\r\n\r\n");
	if (head < len)
		head += 2; /* the CRLF of its last field */
	if (reqhead_find(buf, head, "\r\nconnection: close\r\n") < head)
		h->state = RH_CLOSING;
}
