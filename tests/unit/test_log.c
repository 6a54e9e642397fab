/*
 * log: lines held by a thread (the event loops' access lines) come out
 * whole, in order, with warnings at once; the time stamp each line
 * starts with.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "platform/host.h"
#include "fixture.h"

static char path[64];

/* stderr into a file of our own: what the log wrote so far is in it. */
static void
capture(void)
{
	snprintf(path, sizeof(path), "/tmp/wsusdiag-log-%d", (int)getpid());
	cr_assert_not_null(freopen(path, "w", stderr));
	setvbuf(stderr, NULL, _IONBF, 0); /* as main makes it */
}

static void
uncapture(void)
{
	remove(path);
}

static char *
written(void)
{
	return fx_slurp(path, NULL);
}

/* The messages of the lines written, without time stamp and level. */
static void
expect_messages(const char *want)
{
	char *text = written(), got[4096] = "";
	size_t n = 0;

	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		const char *msg = strchr(line, ' ');

		cr_assert_not_null(msg, "no time stamp: %s", line);
		msg = strchr(msg + 1, ' ');
		while (msg != NULL && *msg == ' ')
			msg++;
		cr_assert_not_null(msg, "no level: %s", line);
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s",
				      n > 0 ? "|" : "", msg);
	}
	cr_expect_str_eq(got, want);
	free(text);
}

TestSuite(log, .init = capture, .fini = uncapture);

Test(log, held_lines_wait_for_a_flush)
{
	struct log_hold h;

	log_hold(&h);
	log_access("one");
	log_access("two");
	expect_messages("");
	log_flush();
	expect_messages("one|two");
	log_hold(NULL);
}

Test(log, any_other_line_is_written_at_once_after_what_was_held)
{
	struct log_hold h;

	log_hold(&h);
	log_access("before");
	log_warnx("trouble");
	expect_messages("before|trouble");
	log_access("after");
	expect_messages("before|trouble");
	log_info("a refusal"); /* not an access line: at once */
	expect_messages("before|trouble|after|a refusal");
	log_access("last");
	log_hold(NULL); /* flushes */
	expect_messages("before|trouble|after|a refusal|last");
	log_access("unheld");
	expect_messages("before|trouble|after|a refusal|last|unheld");
}

/* More than a hold takes: written as it fills, every line whole. */
Test(log, a_full_hold_is_written_and_no_line_is_cut)
{
	struct log_hold h;
	char *text;
	int lines = 0;

	log_hold(&h);
	for (int i = 0; i < 500; i++)
		log_access("line %03d %s", i,
			   "padding padding padding padding");
	text = written();
	cr_expect_gt(strlen(text), 0, "nothing written when the hold filled");
	free(text);
	log_hold(NULL);
	text = written();
	for (char *p = text, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		char want[32];

		snprintf(want, sizeof(want), "line %03d ", lines++);
		cr_assert_not_null(strstr(p, want),
				   "line %d cut or out of order", lines - 1);
		cr_assert(strstr(p, want) < nl, "line %d cut", lines - 1);
	}
	cr_expect_eq(lines, 500);
	free(text);
}

/* Now, to the millisecond, as CLOCK_REALTIME (the stamp's clock) says. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The stamp back to milliseconds since 1970. */
static int64_t
stamp_ms(const char *iso)
{
	struct tm tm = {0};
	const char *rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);

	cr_assert(rest != NULL && rest[0] == '.', "%s", iso);
	return (int64_t)timegm(&tm) * 1000 + strtol(rest + 1, NULL, 10);
}

/*
 * The stamp is made once a second per thread; it must still be now, to
 * the millisecond, on both sides of a second's change.
 */
Test(log, the_stamp_is_the_utc_time_to_the_millisecond)
{
	regex_t re;
	char iso[32];

	cr_assert_eq(regcomp(&re,
			     "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
			     "[0-9]{2}\\.[0-9]{3}Z$",
			     REG_EXTENDED | REG_NOSUB),
		     0);
	for (int i = 0; i < 8; i++) {
		int64_t t0 = now_ms(), t, t1;

		plat_utc_iso(iso);
		t1 = now_ms();
		cr_expect_eq(regexec(&re, iso, 0, NULL, 0), 0, "%s", iso);
		t = stamp_ms(iso);
		cr_expect(t >= t0 && t <= t1, "%s is not between %lld and %lld",
			  iso, (long long)t0, (long long)t1);
		plat_sleep_ms(300); /* across a second more than once */
	}
	regfree(&re);
}
