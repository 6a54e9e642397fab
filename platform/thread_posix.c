#include "platform/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "platform/host.h"

struct plat_mutex {
	pthread_mutex_t m;
};

struct plat_cond {
	pthread_cond_t c;
};

struct plat_mutex *
plat_mutex_new(void)
{
	struct plat_mutex *m = xmalloc(sizeof(*m));

	pthread_mutex_init(&m->m, NULL);
	return m;
}

void
plat_mutex_free(struct plat_mutex *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->m);
	free(m);
}

void
plat_mutex_lock(struct plat_mutex *m)
{
	pthread_mutex_lock(&m->m);
}

void
plat_mutex_unlock(struct plat_mutex *m)
{
	pthread_mutex_unlock(&m->m);
}

/* The condition uses CLOCK_MONOTONIC, the clock of plat_now_ms. */
struct plat_cond *
plat_cond_new(void)
{
	struct plat_cond *c = xmalloc(sizeof(*c));
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&c->c, &a);
	pthread_condattr_destroy(&a);
	return c;
}

void
plat_cond_free(struct plat_cond *c)
{
	if (c == NULL)
		return;
	pthread_cond_destroy(&c->c);
	free(c);
}

void
plat_cond_broadcast(struct plat_cond *c)
{
	pthread_cond_broadcast(&c->c);
}

bool
plat_cond_wait_until(struct plat_cond *c, struct plat_mutex *m,
		     uint64_t deadline_ms)
{
	struct timespec ts = {
	    .tv_sec = (time_t)(deadline_ms / 1000),
	    .tv_nsec = (long)(deadline_ms % 1000) * 1000000L,
	};

	return pthread_cond_timedwait(&c->c, &m->m, &ts) != ETIMEDOUT;
}

struct trampoline {
	void (*fn)(void *);
	void *arg;
};

static void *
run(void *p)
{
	struct trampoline t = *(struct trampoline *)p;

	free(p);
	t.fn(t.arg);
	return NULL;
}

int
plat_thread_detached(void (*fn)(void *), void *arg)
{
	struct trampoline *t = xmalloc(sizeof(*t));
	pthread_attr_t a;
	pthread_t th;
	int rc;

	t->fn = fn;
	t->arg = arg;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	rc = pthread_create(&th, &a, run, t);
	pthread_attr_destroy(&a);
	if (rc != 0) {
		free(t);
		return -1;
	}
	return 0;
}

unsigned
plat_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}
