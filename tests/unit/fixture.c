/*
 * fixture.c: the helpers every unit test shares (see fixture.h).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* ---- a host that fails chosen calls ------------------------------------ */

struct fault_host {
	struct host base;
	struct host_ops ops;
	struct host *inner;
	const struct fx_fault *faults;
};

/* One slot for kind and one per operation: a member added to host_ops
 * needs its forwarder here, or a test calling it would crash. */
_Static_assert(sizeof(struct host_ops) ==
		   sizeof(const char *) + 32 * sizeof(void (*)(void)),
	       "host_ops changed: forward the new operation in fault_ops");

#define INNER(h) (((struct fault_host *)(h))->inner)

static hr_t
fault_of(struct host *h, const char *op, const char *name)
{
	const struct fx_fault *f = ((struct fault_host *)h)->faults;

	for (; f != NULL && f->op != NULL; f++)
		if (strcmp(f->op, op) == 0 &&
		    (f->name == NULL ||
		     (name != NULL && strcasecmp(f->name, name) == 0)))
			return f->hr;
	return HR_OK;
}

/* A failed call leaves its out-structure zeroed, as the backends do, so
 * the caller's clear stays safe. */
static void
zero(void *p, size_t n)
{
	if (p != NULL)
		memset(p, 0, n);
}

#define ZERO(p) zero((p), sizeof(*(p)))
#define NO_OUT	((void)0)

/* #op ties the table's name to the member, so they cannot drift apart. */
#define FORWARD(op, name, clear, ...)                                          \
	do {                                                                   \
		hr_t hr_ = fault_of(h, #op, name);                             \
		if (hr_ != HR_OK) {                                            \
			clear;                                                 \
			return hr_;                                            \
		}                                                              \
		return INNER(h)->ops->op(INNER(h), __VA_ARGS__);               \
	} while (0)

static hr_t
fw_computer(struct host *h, struct computer_info *out)
{
	FORWARD(computer, NULL, ZERO(out), out);
}

static hr_t
fw_service_status(struct host *h, const char *name, struct svc_status *out)
{
	FORWARD(service_status, name, ZERO(out), name, out);
}

static hr_t
fw_service_config(struct host *h, const char *name, struct svc_config *out)
{
	FORWARD(service_config, name, ZERO(out), name, out);
}

static hr_t
fw_service_delayed_auto(struct host *h, const char *name, bool *out)
{
	FORWARD(service_delayed_auto, name, ZERO(out), name, out);
}

static hr_t
fw_service_failure_actions(struct host *h, const char *name,
			   struct svc_failure_actions *out)
{
	FORWARD(service_failure_actions, name, ZERO(out), name, out);
}

static hr_t
fw_service_sid_type(struct host *h, const char *name, enum svc_sid_type *out)
{
	FORWARD(service_sid_type, name, ZERO(out), name, out);
}

static hr_t
fw_service_privileges(struct host *h, const char *name, struct strlist *out)
{
	FORWARD(service_privileges, name, ZERO(out), name, out);
}

static hr_t
fw_service_start(struct host *h, const char *name)
{
	FORWARD(service_start, name, NO_OUT, name);
}

static hr_t
fw_service_control(struct host *h, const char *name, uint32_t control,
		   struct svc_status *out)
{
	FORWARD(service_control, name, ZERO(out), name, control, out);
}

static hr_t
fw_service_change_config(struct host *h, const char *name,
			 const struct svc_config_change *c)
{
	FORWARD(service_change_config, name, NO_OUT, name, c);
}

static hr_t
fw_service_set_delayed_auto(struct host *h, const char *name, bool on)
{
	FORWARD(service_set_delayed_auto, name, NO_OUT, name, on);
}

static hr_t
fw_service_set_failure_actions(struct host *h, const char *name,
			       const struct svc_failure_actions *fa)
{
	FORWARD(service_set_failure_actions, name, NO_OUT, name, fa);
}

static hr_t
fw_service_set_sid_type(struct host *h, const char *name, enum svc_sid_type t)
{
	FORWARD(service_set_sid_type, name, NO_OUT, name, t);
}

static hr_t
fw_service_set_privileges(struct host *h, const char *name,
			  const struct strlist *privs)
{
	FORWARD(service_set_privileges, name, NO_OUT, name, privs);
}

static hr_t
fw_reg_get(struct host *h, const char *key, const char *value,
	   struct reg_value *out)
{
	FORWARD(reg_get, key, ZERO(out), key, value, out);
}

static hr_t
fw_reg_set(struct host *h, const char *key, const char *value,
	   const struct reg_value *v)
{
	FORWARD(reg_set, key, NO_OUT, key, value, v);
}

static hr_t
fw_reg_delete_value(struct host *h, const char *key, const char *value)
{
	FORWARD(reg_delete_value, key, NO_OUT, key, value);
}

static hr_t
fw_reg_delete_key(struct host *h, const char *key)
{
	FORWARD(reg_delete_key, key, NO_OUT, key);
}

static hr_t
fw_file_stat(struct host *h, const char *path, struct file_info *out)
{
	FORWARD(file_stat, path, ZERO(out), path, out);
}

static hr_t
fw_file_rename(struct host *h, const char *from, const char *to)
{
	FORWARD(file_rename, from, NO_OUT, from, to);
}

static hr_t
fw_file_version(struct host *h, const char *path, char **out)
{
	FORWARD(file_version, path, ZERO(out), path, out);
}

static hr_t
fw_file_read_text(struct host *h, const char *path, size_t max, char **out,
		  size_t *len)
{
	FORWARD(file_read_text, path, (ZERO(out), ZERO(len)), path, max, out,
		len);
}

static hr_t
fw_disk_free(struct host *h, const char *path, uint64_t *free_b,
	     uint64_t *total_b)
{
	FORWARD(disk_free, path, (ZERO(free_b), ZERO(total_b)), path, free_b,
		total_b);
}

static hr_t
fw_run_program(struct host *h, const char *const *argv, uint32_t timeout_ms,
	       struct prog_result *out)
{
	FORWARD(run_program, argv[0], ZERO(out), argv, timeout_ms, out);
}

static hr_t
fw_winhttp_proxy(struct host *h, struct proxy_config *out)
{
	FORWARD(winhttp_proxy, NULL, ZERO(out), out);
}

static hr_t
fw_ie_proxy(struct host *h, struct proxy_config *out)
{
	FORWARD(ie_proxy, NULL, ZERO(out), out);
}

static hr_t
fw_applied_gpos(struct host *h, struct strlist *out)
{
	FORWARD(applied_gpos, NULL, ZERO(out), out);
}

/* No argument but the host, which FORWARD cannot pass alone. */
static hr_t
fw_wu_detect_now(struct host *h)
{
	hr_t hr = fault_of(h, "wu_detect_now", NULL);

	return hr != HR_OK ? hr : INNER(h)->ops->wu_detect_now(INNER(h));
}

static hr_t
fw_bits_jobs(struct host *h, struct bits_jobs *out)
{
	FORWARD(bits_jobs, NULL, ZERO(out), out);
}

static hr_t
fw_events(struct host *h, const char *log, size_t max, struct event_list *out)
{
	FORWARD(events, log, ZERO(out), log, max, out);
}

static hr_t
fw_http_probe(struct host *h, const struct probe_request *req,
	      struct probe_result *out)
{
	FORWARD(http_probe, req->url, ZERO(out), req, out);
}

static void
fw_close(struct host *h)
{
	host_close(INNER(h));
	free(h);
}

static const struct host_ops fault_ops = {
    .computer = fw_computer,
    .service_status = fw_service_status,
    .service_config = fw_service_config,
    .service_delayed_auto = fw_service_delayed_auto,
    .service_failure_actions = fw_service_failure_actions,
    .service_sid_type = fw_service_sid_type,
    .service_privileges = fw_service_privileges,
    .service_start = fw_service_start,
    .service_control = fw_service_control,
    .service_change_config = fw_service_change_config,
    .service_set_delayed_auto = fw_service_set_delayed_auto,
    .service_set_failure_actions = fw_service_set_failure_actions,
    .service_set_sid_type = fw_service_set_sid_type,
    .service_set_privileges = fw_service_set_privileges,
    .reg_get = fw_reg_get,
    .reg_set = fw_reg_set,
    .reg_delete_value = fw_reg_delete_value,
    .reg_delete_key = fw_reg_delete_key,
    .file_stat = fw_file_stat,
    .file_rename = fw_file_rename,
    .file_version = fw_file_version,
    .file_read_text = fw_file_read_text,
    .disk_free = fw_disk_free,
    .run_program = fw_run_program,
    .winhttp_proxy = fw_winhttp_proxy,
    .ie_proxy = fw_ie_proxy,
    .applied_gpos = fw_applied_gpos,
    .wu_detect_now = fw_wu_detect_now,
    .bits_jobs = fw_bits_jobs,
    .events = fw_events,
    .http_probe = fw_http_probe,
    .close = fw_close,
};

#undef FORWARD
#undef NO_OUT
#undef ZERO
#undef INNER

struct host *
fx_fault_host(struct host *inner, const struct fx_fault *faults)
{
	struct fault_host *fh = xcalloc(1, sizeof(*fh));

	cr_assert_not_null(inner);
	fh->inner = inner;
	fh->faults = faults;
	fh->ops = fault_ops;
	/* What the wrapped host is, for anything that reports the kind. */
	fh->ops.kind = inner->ops->kind;
	fh->base.ops = &fh->ops;
	return &fh->base;
}

static struct fault_host *
fault_host_of(struct host *h)
{
	struct fault_host *fh = (struct fault_host *)h;

	cr_assert(h->ops == &fh->ops, "not a host from fx_fault_host");
	return fh;
}

struct host_ops *
fx_fault_ops(struct host *h)
{
	return &fault_host_of(h)->ops;
}

struct host *
fx_fault_inner(struct host *h)
{
	return fault_host_of(h)->inner;
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
