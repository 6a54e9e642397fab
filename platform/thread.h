/*
 * thread.h: the little threading the portable code needs (a lock, a
 * condition with a deadline, detached threads), so api/ and checks/
 * include no OS headers. pthreads on POSIX, Win32 primitives on Windows.
 */
#ifndef WSUSDIAG_THREAD_H
#define WSUSDIAG_THREAD_H

#include <stdbool.h>
#include <stdint.h>

struct plat_mutex;
struct plat_cond;

struct plat_mutex *plat_mutex_new(void);
void plat_mutex_free(struct plat_mutex *m);
void plat_mutex_lock(struct plat_mutex *m);
void plat_mutex_unlock(struct plat_mutex *m);

struct plat_cond *plat_cond_new(void);
void plat_cond_free(struct plat_cond *c);
void plat_cond_broadcast(struct plat_cond *c);
/* Wait (m held) until signalled or the monotonic deadline (plat_now_ms);
 * false on timeout. Spurious wake-ups happen: callers loop. */
bool plat_cond_wait_until(struct plat_cond *c, struct plat_mutex *m,
			  uint64_t deadline_ms);

/* Start fn(arg) on a detached thread; 0 or -1. */
int plat_thread_detached(void (*fn)(void *), void *arg);
/* Processors this process may run on (at least 1). */
unsigned plat_cpu_count(void);

#endif
