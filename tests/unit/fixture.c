/*
 * fixture.c: the helpers every unit test shares (see fixture.h).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "fixture.h"
#include "platform/host_sim.h"

const char *
fx_source_dir(void)
{
	const char *dir = getenv("WSUSDIAG_SOURCE_DIR");

	cr_assert_not_null(dir, "WSUSDIAG_SOURCE_DIR is not set (run ctest)");
	return dir;
}

char *
fx_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *text;
	long n;

	cr_assert_not_null(fp, "open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = xmalloc((size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	text[n] = '\0';
	fclose(fp);
	if (len != NULL)
		*len = (size_t)n;
	return text;
}

char *
fx_example_path(const char *name)
{
	return xasprintf("%s/examples/hosts/%s", fx_source_dir(), name);
}

struct host *
fx_open_file(const char *path)
{
	char err[256] = "";
	struct host *h = host_sim_open(path, false, err, sizeof(err));

	cr_assert_not_null(h, "host_sim_open(%s): %s", path, err);
	return h;
}

struct host *
fx_open_example(const char *name)
{
	char *path = fx_example_path(name);
	struct host *h = fx_open_file(path);

	free(path);
	return h;
}

cJSON *
fx_load_example(const char *name)
{
	char *path = fx_example_path(name), *text = fx_slurp(path, NULL);
	cJSON *doc = cJSON_Parse(text);

	cr_assert_not_null(doc, "parse %s", path);
	free(text);
	free(path);
	return doc;
}

struct host *
fx_open_doc(const cJSON *doc)
{
	char path[] = "/tmp/wsd-test-host-XXXXXX";
	char *text = cJSON_Print(doc);
	int fd = mkstemp(path);
	struct host *h;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	h = fx_open_file(path);
	unlink(path);
	free(text);
	return h;
}

struct host *
fx_open_doc_take(cJSON *doc)
{
	struct host *h = fx_open_doc(doc);

	cJSON_Delete(doc);
	return h;
}

cJSON *
fx_service_of(cJSON *doc, const char *name)
{
	cJSON *svc =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "services"), name);

	cr_assert_not_null(svc, "no services.%s", name);
	return svc;
}

void
fx_set_item(cJSON *obj, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObject(obj, key);
	cJSON_AddItemToObject(obj, key, v);
}

void
fx_set_str(cJSON *obj, const char *key, const char *v)
{
	fx_set_item(obj, key, cJSON_CreateString(v));
}

void
fx_set_num(cJSON *obj, const char *key, double v)
{
	fx_set_item(obj, key, cJSON_CreateNumber(v));
}

void
fx_set_sub(cJSON *obj, const char *key, const char *sub, cJSON *v)
{
	cJSON *o = cJSON_GetObjectItem(obj, key);

	if (o == NULL)
		o = cJSON_AddObjectToObject(obj, key);
	fx_set_item(o, sub, v);
}

enum svc_state
fx_service_state(struct host *h, const char *name)
{
	struct svc_status st = {0};

	cr_assert_eq(h->ops->service_status(h, name, &st), HR_OK, "%s", name);
	return st.state;
}

cJSON *
fx_snapshot_no_log(struct host *h)
{
	cJSON *snap = host_sim_snapshot(h);

	cr_assert_not_null(snap);
	cJSON_DeleteItemFromObject(snap, "program_log");
	return snap;
}

cJSON *
fx_snapshot_no_pids(struct host *h)
{
	cJSON *doc = host_sim_snapshot(h), *svc;

	cr_assert_not_null(doc);
	cJSON_ArrayForEach(svc, cJSON_GetObjectItem(doc, "services"))
	{
		cJSON_DeleteItemFromObject(svc, "pid");
	}
	return doc;
}

/* One program_log entry as "api argv...". */
static char *
log_line(const cJSON *e)
{
	const cJSON *v = cJSON_GetObjectItem(e, "api");
	char *line = xstrdup(v != NULL ? v->valuestring : ""), *next;

	cJSON_ArrayForEach(v, cJSON_GetObjectItem(e, "argv"))
	{
		next =
		    xasprintf("%s%s%s", line, *line ? " " : "", v->valuestring);
		free(line);
		line = next;
	}
	return line;
}

char *
fx_program_log(struct host *h)
{
	cJSON *snap = host_sim_snapshot(h), *e;
	char *s = xstrdup(""), *line, *next;

	cr_assert_not_null(snap);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(snap, "program_log"))
	{
		line = log_line(e);
		next = xasprintf("%s%s%s", s, *s ? "|" : "", line);
		free(s);
		free(line);
		s = next;
	}
	cJSON_Delete(snap);
	return s;
}

void
fx_assert_program_log(struct host *h, const char *want)
{
	char *got = fx_program_log(h);

	cr_assert_str_eq(got, want);
	free(got);
}

void
fx_assert_same_doc(cJSON *before, cJSON *after)
{
	char *a = cJSON_Print(before), *b = cJSON_Print(after);

	cr_assert(cJSON_Compare(before, after, true),
		  "the host changed:\n%s\n---\n%s", a, b);
	free(a);
	free(b);
	cJSON_Delete(before);
	cJSON_Delete(after);
}

const struct finding *
fx_find(const struct check_result *r, const char *id)
{
	const struct finding *hit = NULL;

	for (size_t i = 0; i < r->n_findings; i++) {
		if (strcmp(r->findings[i].id, id) == 0) {
			cr_assert_null(hit, "%s appears twice", id);
			hit = &r->findings[i];
		}
	}
	cr_assert_not_null(hit, "finding %s missing (summary: %s)", id,
			   r->summary);
	return hit;
}

const cJSON *
fx_fact(const struct check_result *r, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->facts, key);

	cr_assert_not_null(v, "fact %s missing", key);
	return v;
}

bool
fx_is_network_check(const struct check *c)
{
	return strcmp(c->id, "server") == 0 || strcmp(c->id, "proxy") == 0;
}

void
fx_assert_only(const char *example, const struct check_settings *s,
	       const char *id, enum status want)
{
	struct host *h = fx_open_example(example);
	struct check_ctx ctx = {.host = h, .settings = s};
	bool seen = false;

	for (size_t i = 0; i < check_count; i++) {
		const struct check *c = check_table[i];
		struct check_result r;

		if (fx_is_network_check(c))
			continue;
		check_run(c, &ctx, &r);
		if (id != NULL && strcmp(c->id, id) == 0) {
			seen = true;
			cr_assert_eq(r.status, want, "%s on %s is %s: %s", id,
				     example, status_name(r.status), r.summary);
		} else {
			cr_assert(r.status != ST_FAIL && r.status != ST_ERROR,
				  "%s on %s is %s: %s", c->id, example,
				  status_name(r.status), r.summary);
		}
		result_clear(&r);
	}
	cr_assert(id == NULL || seen, "%s is not in check_table", id);
	host_close(h);
}

const struct check_settings fx_short_waits = {
    .probe_timeout_ms = 1000,
    .service_wait_ms = 300,
    .agent_min_version = NULL,
};

void
fx_run_action(const struct action *act, struct host *h, bool dry,
	      struct action_result *a)
{
	struct action_ctx ctx = {
	    .host = h, .settings = &fx_short_waits, .dry_run = dry};

	action_result_init(a, act->id, dry);
	act->run(&ctx, a);
}

enum status
fx_check_status(const struct check *c, struct host *h, const char *finding,
		enum status *fst)
{
	struct check_ctx ctx = {.host = h, .settings = &fx_short_waits};
	struct check_result r;
	enum status st;
	bool seen = false;

	check_run(c, &ctx, &r);
	for (size_t i = 0; finding != NULL && i < r.n_findings; i++) {
		if (strcmp(r.findings[i].id, finding) == 0) {
			*fst = r.findings[i].status;
			seen = true;
		}
	}
	cr_assert(finding == NULL || seen, "no finding %s", finding);
	st = r.status;
	result_clear(&r);
	return st;
}

struct host *
fx_open_service_fault(const char *example, const char *svc, const char *key,
		      cJSON *v)
{
	cJSON *doc = fx_load_example(example);

	fx_set_sub(fx_service_of(doc, svc), "fault", key, v);
	return fx_open_doc_take(doc);
}

void
fx_assert_steps(const struct action_result *a, const char *const *names,
		size_t n, enum step_status want)
{
	for (size_t i = 0; i < n; i++)
		fx_assert_step(a, i, names[i], want, HR_OK);
}

void
fx_run_dry(const struct action *act, struct host *h, struct action_result *a)
{
	cJSON *before = host_sim_snapshot(h);

	cr_assert_not_null(before);
	fx_run_action(act, h, true, a);
	fx_assert_same_doc(before, host_sim_snapshot(h));
}

void
fx_run_failing_first(const struct action *act, struct host *h, bool dry,
		     const char *name, hr_t error, struct action_result *a)
{
	cJSON *before = host_sim_snapshot(h);

	fx_run_action(act, h, dry, a);
	cr_assert_eq(a->status, ACT_FAILED);
	cr_assert_eq(a->n_steps, 1);
	fx_assert_step(a, 0, name, STEP_FAILED, error);
	fx_assert_same_doc(before, host_sim_snapshot(h));
}

void
fx_assert_step(const struct action_result *a, size_t i, const char *name,
	       enum step_status want, hr_t error)
{
	cr_assert_lt(i, a->n_steps, "no step %zu (\"%s\"), only %zu", i, name,
		     a->n_steps);
	cr_assert_str_eq(a->steps[i].name, name);
	cr_assert_eq(a->steps[i].status, want, "step \"%s\" is %s: %s", name,
		     step_status_name(a->steps[i].status),
		     a->steps[i].detail ? a->steps[i].detail : "");
	cr_assert_eq(a->steps[i].error, error, "step \"%s\" error 0x%08X", name,
		     a->steps[i].error);
}

void
fx_assert_detail(const struct action_result *a, size_t i, const char *want)
{
	cr_assert_lt(i, a->n_steps);
	cr_assert_not_null(a->steps[i].detail, "step %zu has no detail", i);
	cr_assert_str_eq(a->steps[i].detail, want);
}

void
fx_assert_detail_has(const struct action_result *a, size_t i, const char *part)
{
	cr_assert_lt(i, a->n_steps);
	cr_assert_not_null(a->steps[i].detail, "step %zu has no detail", i);
	cr_assert_not_null(strstr(a->steps[i].detail, part),
			   "step %zu detail \"%s\" lacks \"%s\"", i,
			   a->steps[i].detail, part);
}

int64_t
fx_unix_now(void)
{
	struct timespec ts;

	cr_assert_eq(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (int64_t)ts.tv_sec;
}
