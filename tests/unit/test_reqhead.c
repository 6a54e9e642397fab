/*
 * daemon/reqhead.h: finding the request heads in the plaintext the
 * listener passes to libmicrohttpd, and counting them against the limits.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "daemon/reqhead.h"

#define ANSWER_200                                                             \
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"                             \
	"Content-Type: application/json\r\n\r\n{}"
#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

/* Feed n bytes: has a head gone over a limit? */
static bool
in_n(struct reqhead *h, const char *s, size_t n)
{
	reqhead_in(h, s, n);
	return reqhead_over(h);
}

static bool
in(struct reqhead *h, const char *s)
{
	return in_n(h, s, strlen(s));
}

static void
out(struct reqhead *h, const char *s)
{
	reqhead_out(h, s, strlen(s));
}

/*
 * Ends of a head, as MHD 0.9.75 finds them; each fed whole. Once a head
 * has ended, bytes counts the next one.
 */
static const struct {
	const char *text;
	enum reqhead_state state;
	size_t bytes; /* counted of the current head */
} heads[] = {
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", RH_BODY, 0},
    {"GET / HTTP/1.1\nHost: x\n\n", RH_BODY, 0},
    {"GET / HTTP/1.1\r\nHost: x\n\r\n", RH_BODY, 0},
    /* Without a Content-Length, what follows is the next head. */
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n{\"a\":1}", RH_BODY, 7},
    /* Empty lines before the request line are skipped. */
    {"\r\n\r\nGET / HTTP/1.1\r\n\r\n", RH_BODY, 0},
    {"\r\n\n", RH_HEAD, 3},
    /* A bare CR is text: no line ends, no head ends. */
    {"GET / HTTP/1.1\rHost: x\r\r", RH_HEAD, 24},
    {"GET / HTTP/1.1\r\n\r\r\n", RH_HEAD, 19},
    {"GET / HTTP/1.1\r\nHost: x\r\n", RH_HEAD, 25},
};

Test(reqhead, a_head_ends_at_its_first_empty_line_as_mhd_ends_it)
{
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct reqhead h;

		reqhead_init(&h, 1024);
		cr_expect(!in(&h, heads[i].text), "head %zu", i);
		cr_expect_eq(h.state, heads[i].state, "head %zu", i);
		cr_expect_eq(h.bytes, heads[i].bytes, "head %zu", i);
	}
}

Test(reqhead, byte_by_byte_is_the_same_as_at_once)
{
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct reqhead h;

		reqhead_init(&h, 1024);
		for (const char *p = heads[i].text; *p != '\0'; p++)
			reqhead_in(&h, p, 1);
		cr_expect_eq(h.state, heads[i].state, "head %zu", i);
		cr_expect_eq(h.bytes, heads[i].bytes, "head %zu", i);
	}
}

Test(reqhead, a_head_of_max_bytes_passes_and_one_more_byte_does_not)
{
	static const char head[] = "GET / HTTP/1.1\r\nX: 12345\r\n\r\n";
	size_t n = strlen(head);
	struct reqhead h;

	reqhead_init(&h, n);
	cr_expect(!in(&h, head));
	cr_expect_eq(h.state, RH_BODY);
	reqhead_init(&h, n - 1);
	cr_expect(in(&h, head));
	cr_expect_eq(h.state, RH_BYTES);
	cr_expect_eq(h.bytes, n);
	/* Over is final: nothing the client sends changes it. */
	cr_expect(in(&h, "\r\n\r\n"));
	cr_expect_eq(h.state, RH_BYTES);
}

Test(reqhead, a_line_without_end_is_counted_until_the_limit)
{
	char flood[4096];
	struct reqhead h;

	memset(flood, 'a', sizeof(flood));
	reqhead_init(&h, 16384);
	cr_expect(!in(&h, "GET / HTTP/1.1\r\nX: "));
	for (int i = 0; i < 3; i++)
		cr_expect(!in_n(&h, flood, sizeof(flood)), "chunk %d", i);
	/* MHD may have the bytes before the one over the limit. */
	cr_expect_eq(reqhead_in(&h, flood, sizeof(flood)), 4096 - 19);
	cr_expect_eq(h.state, RH_BYTES);
	cr_expect_eq(h.bytes, 16385);
}

/* A request line and n fields "Xnnn: v". */
static size_t
fields(char *buf, size_t cap, int n)
{
	size_t len = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\n");

	for (int i = 0; i < n; i++)
		len +=
		    (size_t)snprintf(buf + len, cap - len, "X%03d: v\r\n", i);
	len += (size_t)snprintf(buf + len, cap - len, "\r\n");
	return len;
}

Test(reqhead, max_fields_pass_and_one_more_does_not)
{
	char buf[2048];
	size_t len = fields(buf, sizeof(buf), REQHEAD_MAX_FIELDS);
	struct reqhead h;

	cr_assert_lt(len, 16384);
	reqhead_init(&h, 16384);
	cr_expect(!in_n(&h, buf, len - 2));
	cr_expect_eq(h.lines, REQHEAD_MAX_FIELDS + 1);
	cr_expect(!in(&h, "\r\n"));
	cr_expect_eq(h.state, RH_BODY);
	len = fields(buf, sizeof(buf), REQHEAD_MAX_FIELDS + 1);
	reqhead_init(&h, 16384);
	/* Up to the LF that ends the field too many. */
	cr_expect_eq(reqhead_in(&h, buf, len), len - 3);
	cr_expect_eq(h.state, RH_FIELDS);
}

Test(reqhead, a_body_is_not_counted)
{
	char body[65536];
	struct reqhead h;

	memset(body, ' ', sizeof(body));
	reqhead_init(&h, 1024);
	cr_expect(!in(&h, "POST /x HTTP/1.1\r\nContent-Length: 65536\r\n\r\n"));
	cr_expect(!in_n(&h, body, sizeof(body)));
	cr_expect_eq(h.state, RH_BODY);
	cr_expect_eq(h.scan, RS_HEAD, "the body has ended");
}

Test(reqhead, a_final_answer_begins_the_next_head)
{
	char flood[2048];
	struct reqhead h;

	memset(flood, 'a', sizeof(flood));
	reqhead_init(&h, 1024);
	cr_expect(!in(&h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
	out(&h, ANSWER_200);
	cr_expect_eq(h.state, RH_HEAD);
	cr_expect_eq(h.bytes, 0);
	cr_expect_eq(h.lines, 0);
	cr_expect_eq(h.max_bytes, 1024);
	cr_expect(!in(&h, "GET / HTTP/1.1\r\nX: "));
	cr_expect(in_n(&h, flood, sizeof(flood)));
	cr_expect_eq(h.state, RH_BYTES);
}

/* Each an answer's first piece after a head, and what it leaves. */
static const struct {
	const char *out;
	enum reqhead_state state;
} answers[] = {
    {CONTINUE, RH_BODY},
    {"HTTP/1.1 1", RH_BODY}, /* an interim answer cut short */
    {CONTINUE ANSWER_200, RH_HEAD},
    {ANSWER_200, RH_HEAD},
    {"HTTP/1.1 ", RH_BODY},	 /* cut short: it may be an interim one */
    {"HTTP/1.1 2", RH_HEAD},	 /* a final one cut short */
    {"tail of a body", RH_HEAD}, /* the next piece of an answer */
    {"HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
     "Content-Length: 2\r\n\r\n{}",
     RH_CLOSING},
    {"HTTP/1.1 400 Bad Request\r\nCONNECTION: Close\r\n\r\n", RH_CLOSING},
    {CONTINUE "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", RH_CLOSING},
    /* Only the answer's head announces a close, not its body. */
    {"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n"
     "\r\nConnection: close\r\n",
     RH_HEAD},
    {"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", RH_HEAD},
};

Test(reqhead, only_a_final_answer_ends_a_request)
{
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct reqhead h;

		reqhead_init(&h, 1024);
		in(&h, "POST /x HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
		cr_assert_eq(h.state, RH_BODY);
		out(&h, answers[i].out);
		cr_expect_eq(h.state, answers[i].state, "answer %zu", i);
	}
}

Test(reqhead, after_an_answer_that_closes_nothing_is_counted)
{
	char rest[4096];
	struct reqhead h;

	memset(rest, ' ', sizeof(rest));
	reqhead_init(&h, 1024);
	in(&h, "POST /x HTTP/1.1\r\nContent-Length: 99999\r\n\r\n");
	out(&h, "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n\r\n");
	cr_expect(!in_n(&h, rest, sizeof(rest)));
	out(&h, ANSWER_200);
	cr_expect_eq(h.state, RH_CLOSING);
}

/*
 * The answer to a pipelined request's predecessor arrives while the
 * next head is being counted: the count goes on.
 */
Test(reqhead, an_answer_while_a_head_is_counted_does_not_reset_it)
{
	struct reqhead h;

	reqhead_init(&h, 1024);
	in(&h, "GET / HTTP/1.1\r\n\r\n");
	out(&h, ANSWER_200);
	in(&h, "GET / HTTP/1.1\r\nX: a");
	out(&h, "more of the answer");
	out(&h, ANSWER_200);
	cr_expect_eq(h.state, RH_HEAD);
	cr_expect_eq(h.bytes, 20);
}

Test(reqhead, an_answer_does_not_undo_a_refusal)
{
	struct reqhead h;

	reqhead_init(&h, 8);
	cr_expect(in(&h, "GET / HTTP/1.1\r\n"));
	out(&h, ANSWER_200);
	cr_expect_eq(h.state, RH_BYTES);
	cr_expect(reqhead_over(&h));
}

/* Waiting: between requests, which is when the listener may evict. */
Test(reqhead, waiting_is_between_an_answer_and_the_next_request)
{
	struct reqhead h;

	reqhead_init(&h, 16384);
	cr_expect(reqhead_waiting(&h), "a new session waits");
	in(&h, "G");
	cr_expect(reqhead_waiting(&h), "a head begun is no request yet");
	in(&h, "ET / HTTP/1.1\r\n\r\n");
	cr_expect(!reqhead_waiting(&h), "a request is in flight");
	out(&h, CONTINUE);
	cr_expect(!reqhead_waiting(&h), "100 Continue is not an answer");
	cr_expect_eq(h.answered, 0);
	out(&h, ANSWER_200);
	cr_expect(reqhead_waiting(&h), "answered");
	cr_expect_eq(h.answered, 1, "a new wait begins");
	in(&h, "G");
	out(&h, ANSWER_200);
	cr_expect_eq(h.answered, 1, "no head, no answer to it");
	in(&h, "ET / HTTP/1.1\r\n\r\n");
	out(&h, ANSWER_200);
	cr_expect_eq(h.answered, 2);
	in(&h, "GET / HTTP/1.1\r\n\r\n");
	out(&h, "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n\r\n");
	cr_expect(!reqhead_waiting(&h), "a closing session waits for nothing");
}

/* ---- framing: where a pipelined head begins ----------------------------- */

#define GET_HEAD "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

/*
 * Heads whose body MHD 0.9.75 frames by Content-Length (or has none),
 * with the body length it reads; and heads it cannot frame that way.
 */
static const struct {
	const char *head;
	bool framed;
	uint64_t body;
} framings[] = {
    {GET_HEAD, true, 0},
    {"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", true, 5},
    {"POST / HTTP/1.1\r\ncontent-LENGTH:\t 12\n\n", true, 12},
    {"POST / HTTP/1.1\r\nContent-Length:0\r\n\r\n", true, 0},
    {"POST / HTTP/1.1\r\nContent-Length: 18446744073709551605\r\n\r\n", true,
     18446744073709551605u},
    /* Not the field MHD looks up: no body. */
    {"POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", true, 0},
    {"POST / HTTP/1.1\r\nX-Content-Length: 5\r\n\r\n", true, 0},
    {"POST / HTTP/1.1\r\nContent-Lengths: 5\r\n\r\n", true, 0},
    {"POST /Content-Length: 5 HTTP/1.1\r\n\r\n", true, 0},
    {"POST / HTTP/1.1\r\nTransfer-Encodin: x\r\n\r\n", true, 0},
    /* What MHD frames otherwise, or refuses. */
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0},
    {"POST / HTTP/1.1\r\nTRANSFER-ENCODING: gzip\r\n\r\n", false, 0},
    {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", false,
     0},
    {"POST / HTTP/1.1\r\nContent-Length: 5 \r\n\r\n", false, 0},
    {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", false, 0},
    {"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", false, 0},
    {"POST / HTTP/1.1\r\nContent-Length: 5\r6\r\n\r\n", false, 0},
    {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", false,
     0},
    /* Folded: MHD would join " 6" to the value. */
    {"POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n\r\n", false, 0},
};

Test(reqhead, bodies_are_framed_as_mhd_frames_them)
{
	for (size_t i = 0; i < sizeof(framings) / sizeof(framings[0]); i++) {
		struct reqhead h;

		reqhead_init(&h, 1024);
		cr_expect(!in(&h, framings[i].head), "head %zu", i);
		cr_expect_eq(h.state, RH_BODY, "head %zu", i);
		if (!framings[i].framed)
			cr_expect_eq(h.scan, RS_LOST, "head %zu", i);
		else if (framings[i].body == 0)
			cr_expect_eq(h.scan, RS_HEAD, "head %zu", i);
		else
			cr_expect(h.scan == RS_BODY &&
				      h.body_left == framings[i].body,
				  "head %zu: scan %d, %llu left", i, h.scan,
				  (unsigned long long)h.body_left);
	}
}

/* A head sent before its predecessor's answer counts against the limits. */
Test(reqhead, a_pipelined_head_is_counted)
{
	char flood[2048];
	size_t n = strlen(GET_HEAD);
	struct reqhead h;

	memset(flood, 'a', sizeof(flood));
	reqhead_init(&h, 1024);
	cr_expect_eq(reqhead_in(&h, GET_HEAD "GET / HTTP/1.1\r\nX: ", n + 19),
		     n + 19);
	/* MHD may have the first request and the second's first 1024. */
	cr_expect_eq(reqhead_in(&h, flood, sizeof(flood)), 1024 - 19);
	cr_expect_eq(h.state, RH_BYTES);
}

/* A body is skipped however it looks, and the head after it counted. */
Test(reqhead, the_head_after_a_framed_body_is_counted)
{
	static const char req[] = "POST / HTTP/1.1\r\nContent-Length: 22\r\n"
				  "\r\n" /* the body: */
				  "\r\n\r\nGET / HTTP/1.1\r\n\r\n"
				  "GET / HTTP/1.1\r\nX: 1234567890123456789012";
	struct reqhead h;

	/* The POST's head is 39 bytes, the last one 41. */
	reqhead_init(&h, 40);
	cr_expect_eq(reqhead_in(&h, req, sizeof(req) - 1), sizeof(req) - 2);
	cr_expect_eq(h.state, RH_BYTES);
	reqhead_init(&h, 41);
	cr_expect(!in(&h, req));
	cr_expect_eq(h.bytes, 41);
}

Test(reqhead, a_pipelined_head_with_a_field_too_many_is_counted)
{
	char buf[2048];
	size_t n = strlen(GET_HEAD), len;
	struct reqhead h;

	memcpy(buf, GET_HEAD, n);
	len = n + fields(buf + n, sizeof(buf) - n, REQHEAD_MAX_FIELDS + 1);
	reqhead_init(&h, 16384);
	cr_expect_eq(reqhead_in(&h, buf, len), len - 3);
	cr_expect_eq(h.state, RH_FIELDS);
}

/*
 * A body of unknown length is not counted; MHD's final answer says it
 * has ended (MHD reads no further request before it has), and counting
 * goes on from the client's next byte.
 */
Test(reqhead, after_an_unframed_body_counting_resumes_at_the_answer)
{
	char body[20000];
	struct reqhead h;

	memset(body, 'a', sizeof(body));
	reqhead_init(&h, 1024);
	in(&h, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	cr_expect(!in_n(&h, body, sizeof(body)));
	cr_expect_eq(h.scan, RS_LOST);
	out(&h, ANSWER_200);
	cr_expect_eq(h.state, RH_HEAD);
	cr_expect_eq(h.scan, RS_HEAD);
	cr_expect(in_n(&h, body, sizeof(body)));
	cr_expect_eq(h.state, RH_BYTES);
}

/* A framed scan is not reset by an answer: it knows where it is. */
Test(reqhead, an_answer_does_not_reset_a_framed_body)
{
	struct reqhead h;

	reqhead_init(&h, 1024);
	in(&h, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789");
	out(&h, ANSWER_200);
	cr_expect_eq(h.scan, RS_BODY);
	cr_expect_eq(h.body_left, 90);
}

/* However the client's bytes are cut, the count is the same. */
Test(reqhead, any_cut_of_a_pipeline_counts_the_same)
{
	static const char req[] =
	    "\r\nPOST /a HTTP/1.1\r\nContent-Length: 7\r\nX: y\r\n\r\n"
	    "\r\n\r\n\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /c HTTP/1.1\r\ncontent-length:  3\n\nabc"
	    "GET /d HTTP/1.1\r\nHost: x\r\rX: 1\r\n";
	size_t len = sizeof(req) - 1;
	struct reqhead whole, cut;

	reqhead_init(&whole, 4096);
	in_n(&whole, req, len);
	cr_assert_eq(whole.scan, RS_HEAD);
	cr_assert_eq(whole.bytes, 32);
	for (size_t at = 0; at <= len; at++) {
		reqhead_init(&cut, 4096);
		in_n(&cut, req, at);
		in_n(&cut, req + at, len - at);
		cr_expect(cut.state == whole.state && cut.scan == whole.scan &&
			      cut.bytes == whole.bytes &&
			      cut.lines == whole.lines,
			  "cut at %zu", at);
	}
}
