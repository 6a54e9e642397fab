/*
 * host.c: the backend-independent half of host.h: string lists, the
 * release functions of the out-structures, and the service wait that
 * both backends share (the SCM has no "wait for state" call either).
 */
#include "platform/host.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* How often host_service_wait asks; sc.exe and services.msc poll too. */
#define SERVICE_POLL_MS 50u

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Windows compares names without regard to (ASCII) case. */
static bool
eq_ci(const char *a, const char *b)
{
	while (*a != '\0' && ascii_lower((unsigned char)*a) ==
				 ascii_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b);
}

void
strlist_clear(struct strlist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
strlist_add(struct strlist *l, const char *s)
{
	if (l == NULL || s == NULL)
		return -1;
	/* Lists are short (privileges, dependencies): grow one by one. */
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
	return 0;
}

bool
strlist_contains_ci(const struct strlist *l, const char *s)
{
	size_t i;

	if (l == NULL || s == NULL)
		return false;
	for (i = 0; i < l->n; i++)
		if (eq_ci(l->v[i], s))
			return true;
	return false;
}

void
svc_config_clear(struct svc_config *c)
{
	if (c == NULL)
		return;
	free(c->binary_path);
	free(c->account);
	free(c->display_name);
	strlist_clear(&c->dependencies);
	memset(c, 0, sizeof(*c));
}

void
svc_failure_actions_clear(struct svc_failure_actions *fa)
{
	if (fa == NULL)
		return;
	free(fa->actions);
	memset(fa, 0, sizeof(*fa));
}

void
reg_value_clear(struct reg_value *v)
{
	if (v == NULL)
		return;
	free(v->str);
	strlist_clear(&v->multi);
	free(v->bin);
	memset(v, 0, sizeof(*v));
}

void
prog_result_clear(struct prog_result *r)
{
	if (r == NULL)
		return;
	free(r->output);
	memset(r, 0, sizeof(*r));
}

void
proxy_config_clear(struct proxy_config *p)
{
	if (p == NULL)
		return;
	free(p->proxy);
	free(p->bypass);
	free(p->auto_config_url);
	memset(p, 0, sizeof(*p));
}

void
bits_jobs_clear(struct bits_jobs *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		free(j->v[i].id);
		free(j->v[i].name);
		free(j->v[i].owner);
		free(j->v[i].url);
	}
	free(j->v);
	memset(j, 0, sizeof(*j));
}

void
event_list_clear(struct event_list *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->v[i].log);
		free(e->v[i].message);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

void
computer_info_clear(struct computer_info *c)
{
	if (c == NULL)
		return;
	free(c->name);
	free(c->os_version);
	free(c->machine_guid);
	memset(c, 0, sizeof(*c));
}

void
probe_result_clear(struct probe_result *r)
{
	if (r == NULL)
		return;
	free(r->content_range);
	free(r->resolved_ip);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}

void
host_close(struct host *h)
{
	if (h != NULL && h->ops != NULL && h->ops->close != NULL)
		h->ops->close(h);
}

hr_t
host_service_wait(struct host *h, const char *name, enum svc_state want,
		  uint32_t timeout_ms, struct svc_status *out)
{
	struct svc_status local;
	uint64_t deadline = plat_now_ms() + timeout_ms;
	uint64_t now;
	hr_t hr;

	if (out == NULL)
		out = &local;
	for (;;) {
		hr = h->ops->service_status(h, name, out);
		if (hr != HR_OK)
			return hr;
		if (out->state == want)
			return HR_OK;
		now = plat_now_ms();
		if (now >= deadline)
			return hr_from_win32(WIN32_SERVICE_REQUEST_TIMEOUT);
		plat_sleep_ms(deadline - now < SERVICE_POLL_MS
				  ? (uint32_t)(deadline - now)
				  : SERVICE_POLL_MS);
	}
}
