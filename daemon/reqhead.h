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
 * line are skipped, as MHD skips them. What follows a head is a body,
 * never counted, until MHD gives a final answer: the next byte from
 * the client begins the next head.
 * Pipelined requests are not framed (that would need the body
 * lengths): a head sent before the previous answer is counted only
 * from that answer on, and MHD's own 431 stays the backstop for it.
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

#define REQHEAD_MAX_FIELDS 100 /* header lines after the request line */

enum reqhead_state {
	RH_HEAD,    /* counting the current request head */
	RH_BODY,    /* the head ended: nothing counted until MHD answers */
	RH_CLOSING, /* MHD answered "Connection: close": nothing counted */
	RH_BYTES,   /* the head went over max_bytes: the listener refuses */
	RH_FIELDS,  /* it went over REQHEAD_MAX_FIELDS: the same */
};

struct reqhead {
	size_t max_bytes;
	size_t bytes;	/* of the current head so far */
	unsigned lines; /* its complete non-empty lines */
	bool in_line;	/* a line has begun and not ended */
	bool cr;	/* the last byte was a CR, text unless an LF follows */
	enum reqhead_state state;
	/*
	 * Final answers to complete heads so far: a wait for the next
	 * request begins at each, even when no poll saw the request.
	 */
	unsigned answered;
};

/* Start a connection: no head yet, max_bytes for each head. */
void reqhead_init(struct reqhead *h, size_t max_bytes);
/* Has the current head gone over a limit (RH_BYTES or RH_FIELDS)? */
bool reqhead_over(const struct reqhead *h);
/*
 * No request in flight: between an answer and the next request, or in
 * the middle of a head (a head dripped a byte at a time is no request).
 */
bool reqhead_waiting(const struct reqhead *h);
/* The client sent buf: true when the head has gone over a limit. */
bool reqhead_in(struct reqhead *h, const char *buf, size_t len);
/* MHD answered buf: a final answer starts the next head. */
void reqhead_out(struct reqhead *h, const char *buf, size_t len);

#endif
