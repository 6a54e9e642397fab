/*
 * Action locks: all targets or none, and the holder is named.
 */
#include <criterion/criterion.h>

#include "api/internal.h"

static const char *const store_also[] = {"wuauserv", "bits", NULL};
static const struct action reset_store = {
    .id = "reset-store", .target = "store", .also_locks = store_also};
static const struct action restart_bits = {.id = "restart-bits",
					   .target = "bits"};
static const struct action gpupdate = {.id = "gpupdate", .target = "policy"};

Test(locks, every_target_of_an_action_is_held)
{
	struct action_locks *l = action_locks_new();
	char target[32], holder[32];

	cr_assert(action_lock_try(l, &reset_store, target, sizeof(target),
				  holder, sizeof(holder)));
	cr_expect_not(action_lock_try(l, &restart_bits, target, sizeof(target),
				      holder, sizeof(holder)));
	cr_expect_str_eq(target, "bits");
	cr_expect_str_eq(holder, "reset-store");
	cr_expect(action_lock_try(l, &gpupdate, target, sizeof(target), holder,
				  sizeof(holder)),
		  "an unrelated target must not be blocked");
	action_lock_release(l, &reset_store);
	cr_expect(action_lock_try(l, &restart_bits, target, sizeof(target),
				  holder, sizeof(holder)));
	action_locks_free(l);
}

Test(locks, all_or_nothing)
{
	struct action_locks *l = action_locks_new();
	char target[32], holder[32];

	cr_assert(action_lock_try(l, &restart_bits, target, sizeof(target),
				  holder, sizeof(holder)));
	cr_expect_not(action_lock_try(l, &reset_store, target, sizeof(target),
				      holder, sizeof(holder)));
	cr_expect_str_eq(target, "bits");
	cr_expect_str_eq(holder, "restart-bits");
	action_lock_release(l, &restart_bits);
	/* reset-store took nothing when it failed: store is still free. */
	cr_expect(action_lock_try(l, &reset_store, target, sizeof(target),
				  holder, sizeof(holder)));
	action_locks_free(l);
}
