/*
 * locks.c: one action at a time per target (BITS, wuauserv, the store,
 * the client id). A second caller is told who holds it, never queued: an
 * orchestration tool must learn at once that its request did nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "common/xalloc.h"
#include "platform/thread.h"

struct held {
	char target[32];
	char action[32];
};

struct action_locks {
	struct plat_mutex *m;
	struct held *held;
	size_t n, cap;
};

struct action_locks *
action_locks_new(void)
{
	struct action_locks *l = xcalloc(1, sizeof(*l));

	l->m = plat_mutex_new();
	return l;
}

void
action_locks_free(struct action_locks *l)
{
	if (l == NULL)
		return;
	plat_mutex_free(l->m);
	free(l->held);
	free(l);
}

bool
action_lock_try(struct action_locks *l, const char *target, const char *action,
		char *holder, size_t holderlen)
{
	bool ok = true;

	plat_mutex_lock(l->m);
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->held[i].target, target) == 0) {
			snprintf(holder, holderlen, "%s", l->held[i].action);
			ok = false;
			goto out;
		}
	}
	l->held = xgrow(l->held, &l->cap, l->n, sizeof(*l->held));
	snprintf(l->held[l->n].target, sizeof(l->held[l->n].target), "%s",
		 target);
	snprintf(l->held[l->n].action, sizeof(l->held[l->n].action), "%s",
		 action);
	l->n++;
out:
	plat_mutex_unlock(l->m);
	return ok;
}

void
action_lock_release(struct action_locks *l, const char *target)
{
	plat_mutex_lock(l->m);
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->held[i].target, target) == 0) {
			l->held[i] = l->held[--l->n];
			break;
		}
	}
	plat_mutex_unlock(l->m);
}
