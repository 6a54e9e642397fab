/*
 * registry.c: the one table of checks and actions. Order is the order of
 * the catalogue and of /report: the articles' own order of diagnosis.
 */
#include "checks/registry.h"

#include <string.h>

/* One entry a line: the order is the catalogue's and the report's. */
/* clang-format off */
const struct check *const check_table[] = {
    &check_policy,
    &check_bits,
    &check_bits_jobs,
    &check_bits_policy,
    &check_wuauserv,
    &check_server,
    &check_proxy,
    &check_agent,
    &check_store,
    &check_client_id,
    &check_updatelog,
};
const size_t check_count = sizeof(check_table) / sizeof(check_table[0]);

const struct action *const action_table[] = {
    &action_restart_bits,
    &action_repair_bits,
    &action_start_wuauserv,
    &action_reset_store,
    &action_reset_client_id,
    &action_gpupdate,
    &action_detect_now,
};
const size_t action_count = sizeof(action_table) / sizeof(action_table[0]);
/* clang-format on */

const struct check *
check_find(const char *id)
{
	for (size_t i = 0; i < check_count; i++)
		if (strcmp(check_table[i]->id, id) == 0)
			return check_table[i];
	return NULL;
}

const struct action *
action_find(const char *id)
{
	for (size_t i = 0; i < action_count; i++)
		if (strcmp(action_table[i]->id, id) == 0)
			return action_table[i];
	return NULL;
}

void
check_run(const struct check *c, const struct check_ctx *ctx,
	  struct check_result *r)
{
	uint64_t t0 = plat_now_ms();

	result_init(r, c->id, c->title);
	c->run(ctx, r);
	result_finish(r);
	r->duration_ms = plat_now_ms() - t0;
}
