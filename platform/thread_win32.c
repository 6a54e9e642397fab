/*
 * thread_win32.c: thread.h on Win32: slim reader/writer locks (used
 * exclusively), condition variables and _beginthreadex. SRWLOCK and
 * CONDITION_VARIABLE need no destruction and cannot fail to initialise.
 */
#include <windows.h>

#include <process.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/thread.h"

struct plat_mutex {
	SRWLOCK l;
};

struct plat_cond {
	CONDITION_VARIABLE c;
};

struct plat_mutex *
plat_mutex_new(void)
{
	struct plat_mutex *m = xmalloc(sizeof(*m));

	InitializeSRWLock(&m->l);
	return m;
}

void
plat_mutex_free(struct plat_mutex *m)
{
	free(m);
}

void
plat_mutex_lock(struct plat_mutex *m)
{
	AcquireSRWLockExclusive(&m->l);
}

void
plat_mutex_unlock(struct plat_mutex *m)
{
	ReleaseSRWLockExclusive(&m->l);
}

struct plat_cond *
plat_cond_new(void)
{
	struct plat_cond *c = xmalloc(sizeof(*c));

	InitializeConditionVariable(&c->c);
	return c;
}

void
plat_cond_free(struct plat_cond *c)
{
	free(c);
}

void
plat_cond_broadcast(struct plat_cond *c)
{
	WakeAllConditionVariable(&c->c);
}

/*
 * The deadline is on plat_now_ms's clock; the wait takes a duration, so
 * it is computed now. A deadline already past times out at once, as
 * pthread_cond_timedwait does; false only once the deadline has passed.
 */
bool
plat_cond_wait_until(struct plat_cond *c, struct plat_mutex *m,
		     uint64_t deadline_ms)
{
	uint64_t now = plat_now_ms();
	DWORD ms;

	if (now >= deadline_ms)
		return false;
	ms = deadline_ms - now >= INFINITE ? INFINITE - 1
					   : (DWORD)(deadline_ms - now);
	if (SleepConditionVariableSRW(&c->c, &m->l, ms, 0))
		return true;
	/* The wait's clock is coarser than GetTickCount64 and may end a
	 * little early: before the deadline that is a spurious wake-up. */
	return GetLastError() != ERROR_TIMEOUT || plat_now_ms() < deadline_ms;
}

struct trampoline {
	void (*fn)(void *);
	void *arg;
};

static unsigned __stdcall run(void *p)
{
	struct trampoline t = *(struct trampoline *)p;

	free(p);
	t.fn(t.arg);
	return 0;
}

/* The same 256 KiB stack as on POSIX; closing the handle detaches. */
int
plat_thread_detached(void (*fn)(void *), void *arg)
{
	struct trampoline *t = xmalloc(sizeof(*t));
	uintptr_t th;

	t->fn = fn;
	t->arg = arg;
	th = _beginthreadex(NULL, 256 * 1024, run, t,
			    STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
	if (th == 0) {
		free(t);
		return -1;
	}
	CloseHandle((HANDLE)th);
	return 0;
}

unsigned
plat_cpu_count(void)
{
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	return si.dwNumberOfProcessors > 0 ? (unsigned)si.dwNumberOfProcessors
					   : 1;
}
