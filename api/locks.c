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

static struct held *
find(struct action_locks *l, const char *target)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->held[i].target, target) == 0)
			return &l->held[i];
	return NULL;
}

static void
take(struct action_locks *l, const char *target, const char *action)
{
	l->held = xgrow(l->held, &l->cap, l->n, sizeof(*l->held));
	snprintf(l->held[l->n].target, sizeof(l->held[l->n].target), "%s",
		 target);
	snprintf(l->held[l->n].action, sizeof(l->held[l->n].action), "%s",
		 action);
	l->n++;
}

static void
drop(struct action_locks *l, const char *target)
{
	struct held *h = find(l, target);

	if (h != NULL)
		*h = l->held[--l->n];
}

bool
action_lock_try(struct action_locks *l, const struct action *a, char *target,
		size_t targetlen, char *holder, size_t holderlen)
{
	const struct held *h = NULL;
	const char *conflict = a->target;

	plat_mutex_lock(l->m);
	h = find(l, a->target);
	for (size_t i = 0; h == NULL && a->also_locks && a->also_locks[i]; i++)
		h = find(l, conflict = a->also_locks[i]);
	if (h != NULL) {
		snprintf(target, targetlen, "%s", conflict);
		snprintf(holder, holderlen, "%s", h->action);
	} else {
		take(l, a->target, a->id);
		for (size_t i = 0; a->also_locks && a->also_locks[i]; i++)
			take(l, a->also_locks[i], a->id);
	}
	plat_mutex_unlock(l->m);
	return h == NULL;
}

void
action_lock_release(struct action_locks *l, const struct action *a)
{
	plat_mutex_lock(l->m);
	drop(l, a->target);
	for (size_t i = 0; a->also_locks && a->also_locks[i]; i++)
		drop(l, a->also_locks[i]);
	plat_mutex_unlock(l->m);
}
