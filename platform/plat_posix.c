/*
 * plat_posix.c: clocks and sleeping on POSIX systems.
 */
#include "platform/host.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t
plat_now_ms(void)
{
	struct timespec ts;

	/* Monotonic: waits and durations must not jump with the wall clock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
plat_sleep_ms(uint32_t ms)
{
	struct timespec req, rem;

	req.tv_sec = ms / 1000u;
	req.tv_nsec = (long)(ms % 1000u) * 1000000L;
	/* A signal must not cut a wait short. */
	while (nanosleep(&req, &rem) == -1 && errno == EINTR)
		req = rem;
}

static void
utc_now(struct tm *tm, long *msec)
{
	struct timespec ts;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec;
	gmtime_r(&t, tm);
	*msec = ts.tv_nsec / 1000000L;
}

void
plat_utc_stamp(char out[17])
{
	struct tm tm;
	long msec;

	utc_now(&tm, &msec);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/*
 * On every log line, so without a lock: glibc's gmtime_r takes the time
 * zone lock, which the event loops' access lines contended for on every
 * request. Each thread formats the date and time once a second.
 */
void
plat_utc_iso(char out[32])
{
	static __thread time_t shown = -1;
	static __thread char head[21]; /* "YYYY-MM-DDTHH:MM:SS." */
	struct timespec ts;
	unsigned ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != shown) {
		struct tm tm;

		gmtime_r(&ts.tv_sec, &tm);
		snprintf(
		    head, sizeof(head), "%04u-%02u-%02uT%02u:%02u:%02u.",
		    (unsigned)(tm.tm_year + 1900) % 10000u,
		    (unsigned)(tm.tm_mon + 1) % 100u,
		    (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		    (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
		shown = ts.tv_sec;
	}
	ms = (unsigned)(ts.tv_nsec / 1000000L) % 1000u;
	memcpy(out, head, 20);
	out[20] = (char)('0' + ms / 100);
	out[21] = (char)('0' + ms / 10 % 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
}
