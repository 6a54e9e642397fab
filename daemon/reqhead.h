/*
 * reqhead.h: where the request heads are in the plaintext the listener
 * passes to libmicrohttpd, so that a head too large for MHD's memory
 * pool is refused by the listener with problem+json: MHD 0.9.75 answers
 * such a head itself, with an HTML 431 that nothing can replace.
 *
 * The pump feeds the client's bytes to reqhead_in and MHD's to
 * reqhead_out, in the order it moves them. A head ends at its first
 * empty line; lines end as MHD 0.9.75 ends them (at an LF, less the CR
 * before it; a bare CR is text), and empty lines before the request
 * line are skipped, as MHD skips them.
 *
 * Requests are framed as MHD frames them, so that a head pipelined
 * behind one not yet answered is counted too: no Transfer-Encoding and
 * one Content-Length of digits (or none, an empty body) say where the
 * next head begins. Anything else (a Transfer-Encoding, a second
 * Content-Length, a value MHD would refuse, a folded line) loses the
 * frame: nothing is counted until MHD's next final answer, from which
 * the client's next byte begins a head. MHD's own 431 stays the
 * backstop for that case alone.
 *
 * A header field costs MHD about 64 bytes of pool besides its text, so
 * the fields are limited too: 300 short fields overflow a 32 KiB pool.
 *
 * A pure state machine without resources, unit-tested in
 * tests/unit/test_reqhead.c.
 */
#ifndef WSUSDIAG_REQHEAD_H
#define WSUSDIAG_REQHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REQHEAD_MAX_FIELDS 100 /* header lines after the request line */

/* The request in flight, as the listener sees it. */
enum reqhead_state {
	RH_HEAD,    /* none: no head has ended since the last answer */
	RH_BODY,    /* a head has ended and MHD has not answered it */
	RH_CLOSING, /* MHD answered "Connection: close": nothing counted */
	RH_BYTES,   /* a head went over max_bytes: the listener refuses */
	RH_FIELDS,  /* one went over REQHEAD_MAX_FIELDS: the same */
};

/* Where the client's bytes are, whatever MHD has answered. */
enum reqhead_scan {
	RS_HEAD, /* in a head, counted */
	RS_BODY, /* in a body of body_left more bytes */
	RS_LOST, /* in a body of unknown length: until MHD answers */
};

struct reqhead {
	size_t max_bytes;
	enum reqhead_state state;
	/*
	 * Final answers to complete heads so far: a wait for the next
	 * request begins at each, even when no poll saw the request.
	 */
	unsigned answered;
	enum reqhead_scan scan;
	size_t bytes;	/* of the current head so far */
	unsigned lines; /* its complete non-empty lines */
	bool in_line;	/* a line has begun and not ended */
	bool cr;	/* the last byte was a CR, text unless an LF follows */
	uint64_t body_left;
	/* The current field line, as far as framing needs it. */
	unsigned col;	     /* bytes of its name so far */
	unsigned char field; /* what it is (reqhead.c) */
	unsigned char names; /* the framing names it may still be */
	bool has_length;     /* the head has a Content-Length */
	bool unframed;	     /* the head cannot be framed */
	uint64_t length;     /* its value */
};

/* Start a connection: no head yet, max_bytes for each head. */
void reqhead_init(struct reqhead *h, size_t max_bytes);
/* Has a head gone over a limit (RH_BYTES or RH_FIELDS)? */
bool reqhead_over(const struct reqhead *h);
/*
 * No request in flight: between an answer and the next request, or in
 * the middle of a head (a head dripped a byte at a time is no request).
 */
bool reqhead_waiting(const struct reqhead *h);
/*
 * The client sent buf. Returns how much of it MHD may have: len, or,
 * when a head went over a limit, the bytes before the one that did.
 */
size_t reqhead_in(struct reqhead *h, const char *buf, size_t len);
/* MHD answered buf: a final answer ends the request in flight. */
void reqhead_out(struct reqhead *h, const char *buf, size_t len);

#endif
