/*
 * xalloc.h: allocation that cannot fail. A daemon that runs out of memory
 * half way through a result would report something untrue; it aborts
 * instead and the service manager restarts it.
 */
#ifndef WSUSDIAG_XALLOC_H
#define WSUSDIAG_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of *cap elements of size so that index need fits. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
/* xstrdup that keeps NULL. */
char *xstrdup_null(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(gnu_printf, 1, 0)));

#endif
