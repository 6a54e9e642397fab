#include "daemon/reqhead.h"

#include <string.h>

/* What the current field line is to framing (struct reqhead.field). */
enum {
	F_START,  /* nothing of it yet */
	F_NAME,	  /* in its name, which may be a framing name */
	F_OTHER,  /* a field framing does not need */
	F_SPACE,  /* Content-Length's value, before its first digit */
	F_DIGITS, /* Content-Length's digits */
};

/* The names MHD frames a body by, as bits of struct reqhead.names. */
static const char *const frame_names[] = {"content-length",
					  "transfer-encoding"};
#define NAME_LENGTH   1u
#define NAME_ENCODING 2u

static char
reqhead_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A new head: nothing of it counted yet. */
static void
head_begin(struct reqhead *h)
{
	h->scan = RS_HEAD;
	h->bytes = 0;
	h->lines = 0;
	h->in_line = h->cr = false;
	h->body_left = 0;
	h->col = 0;
	h->field = F_START;
	h->names = 0;
	h->has_length = h->unframed = false;
	h->length = 0;
}

void
reqhead_init(struct reqhead *h, size_t max_bytes)
{
	memset(h, 0, sizeof(*h));
	h->max_bytes = max_bytes;
	head_begin(h);
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

/* Is the name read so far exactly frame_names[i]? */
static bool
name_is(const struct reqhead *h, unsigned i)
{
	return (h->names & (1u << i)) && frame_names[i][h->col] == '\0';
}

/* The colon after a name: what MHD would take the field for. */
static void
field_colon(struct reqhead *h)
{
	h->field = F_OTHER;
	if (name_is(h, 0)) {
		/* MHD takes the first; a second is odd enough to stop. */
		h->unframed |= h->has_length;
		h->has_length = true;
		h->field = F_SPACE;
	} else if (name_is(h, 1)) {
		h->unframed = true; /* chunked, or refused: MHD's framing */
	}
}

static void
field_name(struct reqhead *h, char c)
{
	unsigned char left = 0;

	if (c == ':') {
		field_colon(h);
		return;
	}
	for (unsigned i = 0; i < 2; i++)
		if ((h->names & (1u << i)) && frame_names[i][h->col] != '\0' &&
		    reqhead_lower(c) == frame_names[i][h->col])
			left |= (unsigned char)(1u << i);
	h->names = left;
	h->col++;
	if (left == 0)
		h->field = F_OTHER;
}

/*
 * Content-Length's value, as MHD 0.9.75 reads it: blanks after the
 * colon, then digits to the end of the line. Anything else MHD refuses
 * (400 or 413, and it closes), so framing stops there.
 */
static void
length_byte(struct reqhead *h, char c)
{
	if ((c == ' ' || c == '\t') && h->field == F_SPACE)
		return;
	if (c < '0' || c > '9' || h->length > (UINT64_MAX - 9) / 10) {
		h->unframed = true;
		h->field = F_OTHER;
		return;
	}
	h->length = h->length * 10 + (uint64_t)(c - '0');
	h->field = F_DIGITS;
}

/* A byte of a field line's text; the request line is not looked at. */
static void
field_text(struct reqhead *h, char c)
{
	if (h->lines == 0)
		return;
	switch (h->field) {
	case F_START:
		if (c == ' ' || c == '\t') {
			/* Folded: MHD joins it to the field before. */
			h->unframed = true;
			h->field = F_OTHER;
			return;
		}
		h->field = F_NAME;
		h->names = NAME_LENGTH | NAME_ENCODING;
		h->col = 0;
		field_name(h, c);
		return;
	case F_NAME:
		field_name(h, c);
		return;
	case F_SPACE:
	case F_DIGITS:
		length_byte(h, c);
		return;
	default:
		return;
	}
}

/*
 * The head has ended: a request is in flight, and its body (if MHD
 * knows its length) is skipped to the next head.
 */
static void
head_end(struct reqhead *h)
{
	bool unframed = h->unframed;
	uint64_t length = h->length;

	if (h->state == RH_HEAD)
		h->state = RH_BODY;
	head_begin(h);
	if (unframed) {
		h->scan = RS_LOST;
	} else if (length > 0) {
		h->scan = RS_BODY;
		h->body_left = length;
	}
}

static void
line_end(struct reqhead *h)
{
	h->cr = false;
	if (h->in_line) {
		h->unframed |=
		    h->field == F_SPACE; /* a length without digits */
		h->in_line = false;
		h->field = F_START;
		if (++h->lines > REQHEAD_MAX_FIELDS + 1)
			h->state = RH_FIELDS;
	} else if (h->lines > 0) {
		head_end(h);
	}
}

/* A byte of a head. A CR is text, unless an LF follows it. */
static void
head_byte(struct reqhead *h, char c)
{
	if (c == '\n') {
		line_end(h);
		return;
	}
	if (h->cr)
		field_text(h, '\r');
	if (c != '\r')
		field_text(h, c);
	h->in_line |= h->cr || c != '\r';
	h->cr = c == '\r';
}

static size_t
skip_body(struct reqhead *h, size_t len)
{
	size_t n = h->body_left < len ? (size_t)h->body_left : len;

	h->body_left -= n;
	if (h->body_left == 0)
		h->scan = RS_HEAD;
	return n;
}

size_t
reqhead_in(struct reqhead *h, const char *buf, size_t len)
{
	size_t i = 0;

	if (reqhead_over(h))
		return 0;
	while (i < len && (h->state == RH_HEAD || h->state == RH_BODY)) {
		if (h->scan == RS_LOST)
			break;
		if (h->scan == RS_BODY) {
			i += skip_body(h, len - i);
			continue;
		}
		if (++h->bytes > h->max_bytes)
			h->state = RH_BYTES;
		else
			head_byte(h, buf[i]);
		if (reqhead_over(h))
			return i;
		i++;
	}
	return len;
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
		h->state = RH_HEAD;
		h->answered++;
		/* Where the client is, is known again from its next byte. */
		if (h->scan == RS_LOST)
			head_begin(h);
	}
	if (!reqhead_begins(buf, len, "HTTP/1."))
		return;
	head = reqhead_find(buf, len, "\r\n\r\n");
	if (head < len)
		head += 2; /* the CRLF of its last field */
	if (reqhead_find(buf, head, "\r\nconnection: close\r\n") < head)
		h->state = RH_CLOSING;
}
