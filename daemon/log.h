/*
 * log.h: leveled logging to stderr, one line per event, in the style of
 * OpenBSD's log_warn/log_warnx/fatal. A Windows service has no console;
 * the service wrapper redirects stderr to a file.
 */
#ifndef WSUSDIAG_LOG_H
#define WSUSDIAG_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level l);
bool log_parse_level(const char *s, enum log_level *out);

void log_debug(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
void fatalx(const char *fmt, ...)
    __attribute__((format(gnu_printf, 1, 2), noreturn));

/*
 * An access line: info, one per request. A thread that logs them can
 * hold them in h and write them with one write at log_flush, instead of
 * one write each: an event loop flushes after MHD has made its answers,
 * before they go out, and before it sleeps. Any other line, and a full
 * h, flush what is held first and are written at once, so that a line
 * about what a client sees (a refusal, a close) is written before it
 * happens. log_hold(NULL) ends holding, after a last flush.
 */
void log_access(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));

struct log_hold {
	size_t len;
	char buf[8192];
};

void log_hold(struct log_hold *h);
void log_flush(void);

#endif
