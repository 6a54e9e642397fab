/*
 * run_checks: concurrent, each check within its own time limit.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/internal.h"
#include "platform/host.h"

static void
slow_run(const struct check_ctx *ctx, struct check_result *r)
{
	(void)ctx;
	plat_sleep_ms(600);
	result_add(r, "slow.done", ST_PASS, "finished");
}

static void
fast_run(const struct check_ctx *ctx, struct check_result *r)
{
	(void)ctx;
	result_add(r, "fast.done", ST_PASS, "finished");
}

/* Counts its runs: whether a check was started, not only answered. */
static int counted_runs;

static void
counted_run(const struct check_ctx *ctx, struct check_result *r)
{
	(void)ctx;
	__atomic_fetch_add(&counted_runs, 1, __ATOMIC_SEQ_CST);
	plat_sleep_ms(600);
	result_add(r, "counted.done", ST_PASS, "finished");
}

static int
runs_so_far(void)
{
	return __atomic_load_n(&counted_runs, __ATOMIC_SEQ_CST);
}

#define CHECK(var, id_, limit, fn, after_)                                     \
	static const struct check var = {.id = id_,                            \
					 .title = id_,                         \
					 .description = "",                    \
					 .seed_section = "",                   \
					 .time_limit_ms = limit,               \
					 .run = fn,                            \
					 .after = after_}

CHECK(slow_a, "slow-a", 5000, slow_run, NULL);
CHECK(slow_b, "slow-b", 5000, slow_run, NULL);
CHECK(slow_c, "slow-c", 5000, slow_run, NULL);
CHECK(too_slow, "too-slow", 100, slow_run, NULL);
CHECK(fast, "fast", 1000, fast_run, NULL);
CHECK(stuck, "stuck", 100, counted_run, NULL);
CHECK(counted, "counted", 5000, counted_run, NULL);

/* When "first" ended and "second" (which runs after it) began. */
static uint64_t first_ended, second_began;

static void
first_run(const struct check_ctx *ctx, struct check_result *r)
{
	(void)ctx;
	plat_sleep_ms(300);
	__atomic_store_n(&first_ended, plat_now_ms(), __ATOMIC_SEQ_CST);
	result_add(r, "first.done", ST_PASS, "finished");
}

static void
second_run(const struct check_ctx *ctx, struct check_result *r)
{
	(void)ctx;
	__atomic_store_n(&second_began, plat_now_ms(), __ATOMIC_SEQ_CST);
	result_add(r, "second.done", ST_PASS, "finished");
}

CHECK(first, "first", 5000, first_run, NULL);
CHECK(second, "second", 1000, second_run, "first");
CHECK(after_slow, "after-slow", 1000, second_run, "too-slow");

static struct check_settings settings = {5000, 1000, NULL};
static struct api_ctx ctx = {.settings = &settings};

/*
 * Three checks of 600 ms each: run one after another they take 1.8 s;
 * concurrently close to 0.6 s. The bound (1.5 s) is far from both, so
 * the test says "concurrent", not "fast".
 */
Test(runner, checks_run_concurrently)
{
	const struct check *const cs[] = {&slow_a, &slow_b, &slow_c};
	struct check_result r[3];
	uint64_t t0 = plat_now_ms(), took;

	run_checks(&ctx, cs, 3, r);
	took = plat_now_ms() - t0;
	cr_expect_lt(took, 1500, "took %llu ms: not concurrent",
		     (unsigned long long)took);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(r[i].status, ST_PASS);
		cr_expect_str_eq(r[i].id, cs[i]->id);
		result_clear(&r[i]);
	}
}

Test(runner, a_check_over_its_limit_is_an_error_and_not_waited_for)
{
	const struct check *const cs[] = {&too_slow, &fast};
	struct check_result r[2];
	uint64_t t0 = plat_now_ms(), took;

	run_checks(&ctx, cs, 2, r);
	took = plat_now_ms() - t0;
	cr_expect_lt(took, 500, "waited %llu ms for a check past its limit",
		     (unsigned long long)took);
	cr_expect_eq(r[0].status, ST_ERROR);
	cr_assert_eq(r[0].n_findings, 1);
	cr_expect_str_eq(r[0].findings[0].id, "timeout");
	cr_expect_eq(r[0].findings[0].error, 0x800705B4u); /* ERROR_TIMEOUT */
	cr_expect_eq(r[1].status, ST_PASS);
	result_clear(&r[0]);
	result_clear(&r[1]);
	/* The abandoned thread finishes later on its own; give it time so
	 * that leak checkers see it end. */
	plat_sleep_ms(700);
}

Test(runner, the_tracker_counts_abandoned_checks_until_they_end)
{
	const struct check *const cs[] = {&too_slow};
	struct api_ctx tctx = {.settings = &settings};
	struct check_result r;

	tctx.tracker = check_tracker_new();
	run_checks(&tctx, cs, 1, &r);
	result_clear(&r);
	/* Abandoned at 100 ms, the check sleeps until about 600 ms. */
	cr_expect_not(check_tracker_drain(tctx.tracker, 0),
		      "the abandoned check is not counted");
	cr_expect(check_tracker_drain(tctx.tracker, 5000),
		  "the abandoned check never ended");
	check_tracker_free(tctx.tracker);
}

/*
 * A host call that hangs for good must not cost a thread on every poll:
 * while the abandoned run goes on, the check answers at once, unstarted.
 */
Test(runner, an_abandoned_check_is_not_started_again_until_it_ends)
{
	const struct check *const cs[] = {&stuck, &fast};
	struct api_ctx tctx = {.settings = &settings};
	struct check_result r[2];

	tctx.tracker = check_tracker_new();
	run_checks(&tctx, cs, 2, r);
	cr_expect_str_eq(r[0].findings[0].id, "timeout");
	cr_expect_eq(runs_so_far(), 1);
	result_clear(&r[0]);
	result_clear(&r[1]);

	run_checks(&tctx, cs, 2, r);
	cr_expect_eq(runs_so_far(), 1, "started again while abandoned");
	cr_expect_eq(r[0].status, ST_ERROR);
	cr_assert_eq(r[0].n_findings, 1);
	cr_expect_str_eq(r[0].findings[0].id, "timeout");
	cr_expect_eq(r[0].findings[0].error, 0x800705B4u); /* ERROR_TIMEOUT */
	cr_expect(strncmp(r[0].findings[0].message, "not run: ", 9) == 0, "%s",
		  r[0].findings[0].message);
	cr_expect_eq(r[0].duration_ms, 0);
	cr_expect_eq(r[1].status, ST_PASS, "another check was held back");
	result_clear(&r[0]);
	result_clear(&r[1]);

	cr_assert(check_tracker_drain(tctx.tracker, 5000));
	run_checks(&tctx, cs, 1, r);
	cr_expect_eq(runs_so_far(), 2, "not started once the first ended");
	cr_expect_eq(r[0].duration_ms, 100);
	result_clear(&r[0]);
	cr_assert(check_tracker_drain(tctx.tracker, 5000));
	check_tracker_free(tctx.tracker);
}

struct caller {
	struct api_ctx *ctx;
	struct check_result r;
};

static void *
call_counted(void *arg)
{
	struct caller *c = arg;
	const struct check *const cs[] = {&counted};

	run_checks(c->ctx, cs, 1, &c->r);
	return NULL;
}

/*
 * The same check asked for twice at once runs twice: only a run past
 * its limit holds the check back.
 */
Test(runner, the_same_check_within_its_limit_runs_for_each_caller)
{
	struct api_ctx tctx = {.settings = &settings};
	struct caller c[2] = {{&tctx, {0}}, {&tctx, {0}}};
	pthread_t t[2];

	tctx.tracker = check_tracker_new();
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, call_counted, &c[i]),
			     0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(c[i].r.status, ST_PASS);
		result_clear(&c[i].r);
	}
	cr_expect_eq(runs_so_far(), 2);
	/* A job's thread lets go of the tracker after its caller returns. */
	cr_assert(check_tracker_drain(tctx.tracker, 5000));
	check_tracker_free(tctx.tracker);
}

/* Listed before it or not, "second" waits for "first" to end. */
Test(runner, a_check_that_disturbs_another_starts_after_it)
{
	const struct check *const cs[] = {&second, &first, &fast};
	struct check_result r[3];

	run_checks(&ctx, cs, 3, r);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(r[i].status, ST_PASS, "%s", r[i].id);
		cr_expect_str_eq(r[i].id, cs[i]->id);
		result_clear(&r[i]);
	}
	cr_expect_geq(second_began, first_ended, "second began %llu ms early",
		      (unsigned long long)(first_ended - second_began));
}

/*
 * An abandoned predecessor is not waited for: "after-slow" starts at
 * too-slow's limit (100 ms), not when its run ends (600 ms).
 */
Test(runner, a_check_after_one_past_its_limit_starts_at_that_limit)
{
	const struct check *const cs[] = {&too_slow, &after_slow};
	struct api_ctx tctx = {.settings = &settings};
	struct check_result r[2];
	uint64_t t0 = plat_now_ms();

	tctx.tracker = check_tracker_new();
	run_checks(&tctx, cs, 2, r);
	cr_expect_str_eq(r[0].findings[0].id, "timeout");
	cr_expect_eq(r[1].status, ST_PASS);
	cr_expect_geq(second_began - t0, 100);
	cr_expect_lt(second_began - t0, 450, "waited for the abandoned run");
	result_clear(&r[0]);
	result_clear(&r[1]);
	cr_assert(check_tracker_drain(tctx.tracker, 5000));
	check_tracker_free(tctx.tracker);
}

/* Without its predecessor in the run, a check starts at once. */
Test(runner, a_check_alone_does_not_wait_for_its_predecessor)
{
	const struct check *const cs[] = {&second};
	struct check_result r;

	run_checks(&ctx, cs, 1, &r);
	cr_expect_eq(r.status, ST_PASS);
	result_clear(&r);
}

/*
 * The real checks on a simulated host whose services each answer after
 * 400 ms: the report costs about one delay, not the sum over checks.
 */
Test(runner, report_on_a_slow_host_costs_the_slowest_check)
{
	char path[512], err[256];
	struct check_result *r = calloc(check_count, sizeof(*r));
	struct host *h;
	uint64_t t0, took, sum = 0, max = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/wsusdiag-slow-%d.json", getpid());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"computer\":{\"name\":\"SLOW\",\"os_version\":\"10.0.19045\"},"
	      "\"fault\":{\"delay_ms\":400}}",
	      f);
	fclose(f);
	h = host_sim_open(path, false, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	ctx.host = h;
	t0 = plat_now_ms();
	run_checks(&ctx, check_table, check_count, r);
	took = plat_now_ms() - t0;
	for (size_t i = 0; i < check_count; i++) {
		cr_expect_geq(r[i].duration_ms, 400, "%s made no host call",
			      r[i].id);
		sum += r[i].duration_ms;
		max = r[i].duration_ms > max ? r[i].duration_ms : max;
		result_clear(&r[i]);
	}
	/* In sequence the report would take the sum of the checks; at
	 * once, the slowest. The bound sits half way between. */
	cr_expect_lt(took, max + (sum - max) / 2,
		     "report took %llu ms; slowest check %llu, sum %llu",
		     (unsigned long long)took, (unsigned long long)max,
		     (unsigned long long)sum);
	free(r);
	host_close(h);
	remove(path);
}
