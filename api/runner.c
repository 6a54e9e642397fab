/*
 * runner.c: checks run concurrently, each with a deadline. A check that
 * overruns (a hung SCM call, a network probe) is abandoned, not waited
 * for: its thread keeps a reference to the shared run and the last one
 * out frees it, so the report never waits longer than its slowest limit.
 *
 * An abandoned check is not started again until its thread ends: a host
 * call that hangs for good would otherwise cost one more thread on every
 * poll of a console, for as long as the daemon runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "common/xalloc.h"
#include "platform/thread.h"

struct job {
	const struct check *check;
	struct check_result result;
	uint64_t started, finished; /* held: when the abandoned run began */
	bool done;
	bool abandoned;	   /* past its limit when collected; under run.m */
	bool held;	   /* not started: an abandoned run of it is running */
	struct job *waits; /* not started until this one ends (check.after) */
	struct run *run;
};

struct run {
	struct plat_mutex *m;
	struct plat_cond *c;
	size_t remaining; /* jobs not yet done */
	size_t refs;	  /* jobs still running + the waiter */
	struct check_ctx cctx;
	struct job *jobs;
	size_t n;
	struct check_tracker *tracker; /* or NULL */
};

/*
 * Check threads still running, abandoned ones included: they use the
 * host, so the daemon must not close it under them at shutdown.
 */
struct check_tracker {
	struct plat_mutex *m;
	struct plat_cond *c;
	size_t running;
	const struct job **stuck; /* abandoned jobs still running */
	size_t n_stuck, cap_stuck;
};

struct check_tracker *
check_tracker_new(void)
{
	struct check_tracker *t = xcalloc(1, sizeof(*t));

	t->m = plat_mutex_new();
	t->c = plat_cond_new();
	return t;
}

void
check_tracker_free(struct check_tracker *t)
{
	if (t == NULL)
		return;
	plat_cond_free(t->c);
	plat_mutex_free(t->m);
	free(t->stuck);
	free(t);
}

static void
tracker_add(struct check_tracker *t, int delta)
{
	if (t == NULL)
		return;
	plat_mutex_lock(t->m);
	t->running = (size_t)((long)t->running + delta);
	if (t->running == 0)
		plat_cond_broadcast(t->c);
	plat_mutex_unlock(t->m);
}

/* Under the run's lock, so that the job cannot end before it is listed. */
static void
tracker_abandon(struct check_tracker *t, const struct job *j)
{
	if (t == NULL)
		return;
	plat_mutex_lock(t->m);
	t->stuck =
	    xgrow(t->stuck, &t->cap_stuck, t->n_stuck + 1, sizeof(*t->stuck));
	t->stuck[t->n_stuck++] = j;
	plat_mutex_unlock(t->m);
}

static void
tracker_release(struct check_tracker *t, const struct job *j)
{
	if (t == NULL)
		return;
	plat_mutex_lock(t->m);
	for (size_t i = 0; i < t->n_stuck; i++) {
		if (t->stuck[i] == j) {
			t->stuck[i] = t->stuck[--t->n_stuck];
			break;
		}
	}
	plat_mutex_unlock(t->m);
}

/* Whether an abandoned run of c is running; *since: the oldest's start. */
static bool
tracker_stuck(struct check_tracker *t, const struct check *c, uint64_t *since)
{
	bool stuck = false;

	if (t == NULL)
		return false;
	plat_mutex_lock(t->m);
	for (size_t i = 0; i < t->n_stuck; i++) {
		const struct job *j = t->stuck[i];

		if (j->check == c && (!stuck || j->started < *since)) {
			*since = j->started;
			stuck = true;
		}
	}
	plat_mutex_unlock(t->m);
	return stuck;
}

bool
check_tracker_drain(struct check_tracker *t, uint32_t wait_ms)
{
	uint64_t deadline = plat_now_ms() + wait_ms;
	bool idle;

	plat_mutex_lock(t->m);
	while (t->running > 0 && plat_now_ms() < deadline)
		plat_cond_wait_until(t->c, t->m, deadline);
	idle = t->running == 0;
	plat_mutex_unlock(t->m);
	return idle;
}

static void
run_unref(struct run *r)
{
	bool last;

	plat_mutex_lock(r->m);
	last = --r->refs == 0;
	plat_mutex_unlock(r->m);
	if (!last)
		return;
	for (size_t i = 0; i < r->n; i++)
		result_clear(&r->jobs[i].result);
	free(r->jobs);
	plat_cond_free(r->c);
	plat_mutex_free(r->m);
	free(r);
}

static void
job_main(void *p)
{
	struct job *j = p;
	struct run *r = j->run;
	struct check_tracker *t = r->tracker;
	struct check_result res;
	bool abandoned;

	check_run(j->check, &r->cctx, &res);
	plat_mutex_lock(r->m);
	j->result = res;
	j->finished = plat_now_ms();
	j->done = true;
	abandoned = j->abandoned;
	r->remaining--;
	plat_cond_broadcast(r->c);
	plat_mutex_unlock(r->m);
	if (abandoned)
		tracker_release(t, j); /* before j may be freed */
	run_unref(r);
	tracker_add(t, -1);
}

/* A check's stand-in result: the finding "timeout", saying why. */
static void
timed_out(const struct check *c, uint64_t duration_ms, const char *why,
	  struct check_result *out)
{
	struct finding *f;

	result_init(out, c->id, c->title);
	f = result_add(out, "timeout", ST_ERROR, "%s", why);
	f->error = hr_from_win32(1460); /* ERROR_TIMEOUT */
	result_finish(out);
	out->duration_ms = duration_ms;
}

static void
over_limit(const struct check *c, struct check_result *out)
{
	char why[128];

	snprintf(why, sizeof(why),
		 "the check did not finish within its time limit of %u ms",
		 c->time_limit_ms);
	timed_out(c, c->time_limit_ms, why, out);
}

/* Not started: the same finding, since the host is just as stuck. */
static void
held_back(const struct check *c, uint64_t since, uint64_t now,
	  struct check_result *out)
{
	char why[192];

	snprintf(why, sizeof(why),
		 "not run: an earlier run of this check has been running for "
		 "%llu ms, past its time limit of %u ms; it is not started "
		 "again until that run ends",
		 (unsigned long long)(now - since), c->time_limit_ms);
	timed_out(c, 0, why, out);
}

/*
 * Hand over finished results; stand in for the ones over their limit,
 * and list those still running as abandoned.
 */
static void
collect(struct run *r, struct check_result *out)
{
	uint64_t now = plat_now_ms();

	for (size_t i = 0; i < r->n; i++) {
		struct job *j = &r->jobs[i];
		uint32_t limit = j->check->time_limit_ms;

		if (j->held) {
			held_back(j->check, j->started, now, &out[i]);
		} else if (j->done && j->finished - j->started <= limit) {
			out[i] = j->result;
			memset(&j->result, 0, sizeof(j->result));
		} else {
			over_limit(j->check, &out[i]);
			j->abandoned = !j->done && j->waits == NULL;
			if (j->abandoned)
				tracker_abandon(r->tracker, j);
		}
	}
}

/*
 * The earliest deadline among jobs still running and not yet past it;
 * 0 when there is nothing left worth waiting for.
 */
static uint64_t
next_deadline(const struct run *r, uint64_t now)
{
	uint64_t next = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct job *j = &r->jobs[i];
		uint64_t d = j->started + j->check->time_limit_ms;

		if (!j->done && j->waits == NULL && d > now &&
		    (next == 0 || d < next))
			next = d;
	}
	return next;
}

/* Under r->m; the job's clock starts now. */
static void
start_job(struct run *r, struct job *j, uint64_t now)
{
	j->waits = NULL;
	j->started = now;
	r->refs++;
	r->remaining++;
	tracker_add(r->tracker, 1);
	if (plat_thread_detached(job_main, j) != 0) {
		/* No thread to spare: run it here, still timed. */
		plat_mutex_unlock(r->m);
		job_main(j);
		plat_mutex_lock(r->m);
	}
}

/* The job of this run that j must wait for, or NULL. */
static struct job *
predecessor(struct run *r, const struct job *j)
{
	if (j->check->after == NULL)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (&r->jobs[i] != j &&
		    strcmp(r->jobs[i].check->id, j->check->after) == 0)
			return &r->jobs[i];
	return NULL;
}

/*
 * Start the jobs whose predecessor has finished or run out of time: an
 * abandoned predecessor is not waited for beyond its limit.
 */
static void
start_ready(struct run *r, uint64_t now)
{
	for (size_t i = 0; i < r->n; i++) {
		struct job *j = &r->jobs[i];
		const struct job *p = j->waits;

		if (p == NULL || p->waits != NULL)
			continue;
		if (p->done || now >= p->started + p->check->time_limit_ms)
			start_job(r, j, now);
	}
}

void
run_checks(const struct api_ctx *ctx, const struct check *const *checks,
	   size_t n, struct check_result *out)
{
	struct run *r = xcalloc(1, sizeof(*r));
	uint64_t deadline, now = plat_now_ms();

	r->m = plat_mutex_new();
	r->c = plat_cond_new();
	r->cctx.host = ctx->host;
	r->cctx.settings = ctx->settings;
	r->jobs = xcalloc(n, sizeof(*r->jobs));
	r->n = n;
	r->tracker = ctx->tracker;
	r->refs = 1;
	for (size_t i = 0; i < n; i++) {
		r->jobs[i].check = checks[i];
		r->jobs[i].run = r;
	}
	plat_mutex_lock(r->m);
	for (size_t i = 0; i < n; i++) {
		struct job *j = &r->jobs[i];

		if (tracker_stuck(r->tracker, j->check, &j->started))
			j->held = j->done = true;
		else if ((j->waits = predecessor(r, j)) == NULL)
			start_job(r, j, now);
	}
	/*
	 * Wait for each check only until its own limit. One clock reading
	 * for both steps: a job left waiting has a predecessor whose
	 * deadline is still ahead, so there is a deadline to wait for.
	 */
	for (;;) {
		now = plat_now_ms();
		start_ready(r, now);
		if (r->remaining == 0 ||
		    (deadline = next_deadline(r, now)) == 0)
			break;
		plat_cond_wait_until(r->c, r->m, deadline);
	}
	collect(r, out);
	plat_mutex_unlock(r->m);
	run_unref(r);
}
