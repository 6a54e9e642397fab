#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/host.h"

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
#define LINE_MAX_BYTES 1200
_Static_assert(LINE_MAX_BYTES <= sizeof(((struct log_hold *)0)->buf),
	       "a held line must fit an empty hold");

static __thread struct log_hold *held;

void
log_flush(void)
{
	if (held != NULL && held->len > 0) {
		fwrite(held->buf, 1, held->len, stderr);
		held->len = 0;
	}
}

void
log_hold(struct log_hold *h)
{
	log_flush();
	held = h;
	if (h != NULL)
		h->len = 0;
}

/* A whole line: held, or written after the ones held before it. */
static void
emit(const char *line, size_t n, bool holdable)
{
	if (held != NULL && holdable) {
		if (held->len + n > sizeof(held->buf))
			log_flush();
		memcpy(held->buf + held->len, line, n);
		held->len += n;
		return;
	}
	log_flush();
	fwrite(line, 1, n, stderr);
}

void
log_set_level(enum log_level l)
{
	min_level = l;
}

bool
log_parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

/*
 * The line is made whole first and written with one fwrite (or held
 * whole), so that lines stay whole when threads log at once (main makes
 * stderr unbuffered: one write each). A line cut at the buffer's end
 * keeps its newline.
 */
static void
vlog(enum log_level l, bool holdable, const char *suffix, const char *fmt,
     va_list ap)
{
	char line[LINE_MAX_BYTES];
	size_t n;
	int k;

	if (l < min_level)
		return;
	plat_utc_iso(line);
	n = strlen(line);
	k = snprintf(line + n, sizeof(line) - n, " %-5s ", level_names[l]);
	n += (size_t)k;
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = k < 0 ? n : n + (size_t)k;
	if (suffix != NULL && n < sizeof(line)) {
		k = snprintf(line + n, sizeof(line) - n, ": %s", suffix);
		n = k < 0 ? n : n + (size_t)k;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	emit(line, n, holdable);
}

#define LOG_FN(fn, level, holdable, suffix_expr)                               \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		const char *sfx = suffix_expr;                                 \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(level, holdable, sfx, fmt, ap);                           \
		va_end(ap);                                                    \
	}

LOG_FN(log_debug, LOG_DEBUG, false, NULL)
LOG_FN(log_info, LOG_INFO, false, NULL)
LOG_FN(log_access, LOG_INFO, true, NULL)
LOG_FN(log_warn, LOG_WARN, false, strerror(errno))
LOG_FN(log_warnx, LOG_WARN, false, NULL)
LOG_FN(log_errorx, LOG_ERROR, false, NULL)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, false, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
