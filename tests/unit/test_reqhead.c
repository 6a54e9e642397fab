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

static bool
in(struct reqhead *h, const char *s)
{
	return reqhead_in(h, s, strlen(s));
}

static void
out(struct reqhead *h, const char *s)
{
	reqhead_out(h, s, strlen(s));
}

/* Ends of a head, as MHD 0.9.75 finds them; each fed whole. */
static const struct {
	const char *text;
	enum reqhead_state state;
	size_t bytes; /* counted */
} heads[] = {
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", RH_BODY, 27},
    {"GET / HTTP/1.1\nHost: x\n\n", RH_BODY, 24},
    {"GET / HTTP/1.1\r\nHost: x\n\r\n", RH_BODY, 26},
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n{\"a\":1}", RH_BODY, 27},
    /* Empty lines before the request line are skipped. */
    {"\r\n\r\nGET / HTTP/1.1\r\n\r\n", RH_BODY, 22},
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
	cr_expect(!reqhead_in(&h, "GET / HTTP/1.1\r\nX: ", 19));
	for (int i = 0; i < 3; i++)
		cr_expect(!reqhead_in(&h, flood, sizeof(flood)), "chunk %d", i);
	cr_expect(reqhead_in(&h, flood, sizeof(flood)));
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
	cr_expect(!reqhead_in(&h, buf, len));
	cr_expect_eq(h.state, RH_BODY);
	cr_expect_eq(h.lines, REQHEAD_MAX_FIELDS + 1);
	len = fields(buf, sizeof(buf), REQHEAD_MAX_FIELDS + 1);
	reqhead_init(&h, 16384);
	cr_expect(reqhead_in(&h, buf, len));
	cr_expect_eq(h.state, RH_FIELDS);
}

Test(reqhead, a_body_is_not_counted)
{
	char body[65536];
	struct reqhead h;

	memset(body, ' ', sizeof(body));
	reqhead_init(&h, 1024);
	cr_expect(!in(&h, "POST /x HTTP/1.1\r\nContent-Length: 65536\r\n\r\n"));
	cr_expect(!reqhead_in(&h, body, sizeof(body)));
	cr_expect_eq(h.state, RH_BODY);
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
	cr_expect(reqhead_in(&h, flood, sizeof(flood)));
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
	cr_expect(!reqhead_in(&h, rest, sizeof(rest)));
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
