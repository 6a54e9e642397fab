/*
 * jobs.c: "BITS jobs are failing" and "There is a mismatch between the
 * BITS per-user job limit and the per-computer job limit": the bits-jobs
 * check (jobs in an error state and recent BITS client errors, decoded
 * with the article's diagnosis) and the bits-policy check (the two job
 * limits of the BITS Group Policy).
 *
 * Decisions:
 * - A job in BG_JOB_STATE_ERROR fails: BITS has given up on it until
 *   someone acts. A job in TRANSIENT_ERROR warns: BITS retries it. So
 *   does a job in ERROR with 0x80072F78, which the article calls
 *   transient.
 * - Events are history, so they only warn. The newest EVENTS_READ
 *   records of the BITS client log are read; of those, the ones in the
 *   EVENTS_WINDOW_S before the newest record count, so a saved host
 *   file does not age and a real client is judged by its own latest
 *   activity (BITS logs every job it creates or completes). Counted are
 *   error and critical events, and warnings that carry a failure
 *   HRESULT: BITS logs "stopped transferring ... status code 0x8...",
 *   event 61, at warning level, and that is where job errors show. One
 *   finding per event id and code (the newest), with how often it was
 *   seen: BITS retries log the same error again and again.
 * - A log that does not exist on this Windows is a skip; any other
 *   failure to read it (access denied, Wine's unimplemented EvtQuery)
 *   is an error: the check could not look. The jobs part reports
 *   independently of it.
 */
#include "checks/registry.h"
#include "checks/svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define BITS_LOG	   "Microsoft-Windows-Bits-Client/Operational"
#define EVENTS_READ	   200
#define EVENTS_REPORT_MAX  50
#define EVENTS_WINDOW_DAYS 7
#define EVENTS_WINDOW_S	   ((int64_t)EVENTS_WINDOW_DAYS * 86400)

/* ERROR_HTTP_INVALID_SERVER_RESPONSE (12152): transient by the article. */
#define HR_TRANSIENT_RESPONSE 0x80072F78u
/* ERROR_EVT_CHANNEL_NOT_FOUND (15007): this Windows has no such log. */
#define WIN32_EVT_CHANNEL_NOT_FOUND 15007u

/* Room for any 64-bit time as RFC 3339, not only 4-digit years. */
#define ISO_LEN 48

/* ---- helpers ----------------------------------------------------------- */

/*
 * RFC 3339 UTC from seconds since 1970 (days to civil date after
 * H. Hinnant): gmtime() is not thread-safe and gmtime_r() is not C11.
 */
static void
iso_time(int64_t t, char out[ISO_LEN])
{
	int64_t days = t / 86400, s = t % 86400, era, y;
	unsigned doe, yoe, doy, mp, d, m;

	if (s < 0) {
		s += 86400;
		days--;
	}
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = (int64_t)yoe + era * 400 + (m <= 2);
	snprintf(out, ISO_LEN, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y,
		 m, d, (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
		 (unsigned)(s % 60));
}

/* "BG_E_MISSING_FILE_SIZE (0x80200011)", or the bare code if unknown. */
static char *
code_words(hr_t hr)
{
	const struct error_info *ei = error_lookup(hr);
	char code[11];

	error_format(hr, code);
	if (ei == NULL)
		return xstrdup(code);
	return xasprintf("%s (%s)", ei->name, code);
}

/* A backend may leave a string it could not read NULL. */
static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* The knowledge base's advice for hr, else how to find out more. */
static void
remedy_for(struct finding *f, hr_t hr, const char *otherwise)
{
	const struct error_info *ei = hr != HR_OK ? error_lookup(hr) : NULL;

	finding_set_remedy(f, NULL, ei != NULL ? ei->advice : otherwise);
}

/* ---- bits-jobs: jobs --------------------------------------------------- */

static const char *
job_state_name(enum bits_job_state s)
{
	static const char *const names[] = {
	    [BITS_QUEUED] = "queued",
	    [BITS_CONNECTING] = "connecting",
	    [BITS_TRANSFERRING] = "transferring",
	    [BITS_SUSPENDED] = "suspended",
	    [BITS_ERROR] = "error",
	    [BITS_TRANSIENT_ERROR] = "transient_error",
	    [BITS_TRANSFERRED] = "transferred",
	    [BITS_ACKNOWLEDGED] = "acknowledged",
	    [BITS_CANCELLED] = "cancelled",
	};

	if ((unsigned)s < sizeof(names) / sizeof(*names) && names[s] != NULL)
		return names[s];
	return "unknown";
}

static bool
job_failing(const struct bits_job *j)
{
	return j->state == BITS_ERROR || j->state == BITS_TRANSIENT_ERROR;
}

static char *
job_message(const struct bits_job *j, const char *words)
{
	if (j->error == HR_TRANSIENT_RESPONSE)
		return xasprintf("BITS job \"%s\" of %s is in the %s state "
				 "with %s, a transient error: the job will "
				 "continue downloading",
				 nz(j->name), nz(j->owner),
				 job_state_name(j->state), words);
	if (j->state == BITS_TRANSIENT_ERROR)
		return xasprintf("BITS job \"%s\" of %s is in a transient "
				 "error state with %s; BITS retries it",
				 nz(j->name), nz(j->owner), words);
	return xasprintf("BITS job \"%s\" of %s is in the error state with "
			 "%s; BITS will not retry it",
			 nz(j->name), nz(j->owner), words);
}

static void
add_job(struct check_result *r, const struct bits_job *j)
{
	enum status st =
	    j->state == BITS_ERROR && j->error != HR_TRANSIENT_RESPONSE
		? ST_FAIL
		: ST_WARN;
	char *words, *msg, *other, code[11];
	struct finding *f;

	error_format(j->error, code);
	words =
	    j->error != HR_OK ? code_words(j->error) : xstrdup("no error code");
	msg = job_message(j, words);
	f = result_add(r, "bits-jobs.job", st, "%s", msg);
	f->error = j->error;
	finding_set_observed(f, "%s", job_state_name(j->state));
	other = xasprintf("bitsadmin /info %s /verbose shows the job's error "
			  "context; GET /errors/%s decodes the code",
			  nz(j->id), code);
	remedy_for(f, j->error, other);
	f->details = cJSON_CreateObject();
	cJSON_AddStringToObject(f->details, "job_id", nz(j->id));
	cJSON_AddStringToObject(f->details, "name", nz(j->name));
	cJSON_AddStringToObject(f->details, "owner", nz(j->owner));
	cJSON_AddStringToObject(f->details, "url", nz(j->url));
	cJSON_AddStringToObject(f->details, "state", job_state_name(j->state));
	cJSON_AddStringToObject(f->details, "code", code);
	free(other);
	free(msg);
	free(words);
}

static void
jobs_failed(struct check_result *r, hr_t hr)
{
	struct finding *f;
	char code[11];
	const char *why = "";

	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_SERVICE_DISABLED))
		why = ": BITS is disabled";
	else if (hr == 0x80040154u)
		why = ": BITS is not registered (no BITS job manager)";
	f = result_add(r, "bits-jobs.job", ST_ERROR,
		       "could not list the BITS jobs (%s)%s", code, why);
	f->error = hr;
	remedy_for(f, hr, NULL);
}

/*
 * Add a finding per job in an error state; returns how many, or -1 when
 * the jobs could not be listed. Counts go to the facts.
 */
static long
judge_jobs(const struct check_ctx *ctx, struct check_result *r, size_t *n_jobs)
{
	struct host *h = ctx->host;
	struct bits_jobs jobs = {0};
	size_t n_err = 0, n_transient = 0;
	hr_t hr;

	*n_jobs = 0;
	if ((hr = h->ops->bits_jobs(h, &jobs)) != HR_OK) {
		jobs_failed(r, hr);
		bits_jobs_clear(&jobs);
		return -1;
	}
	for (size_t i = 0; i < jobs.n; i++) {
		if (!job_failing(&jobs.v[i]))
			continue;
		add_job(r, &jobs.v[i]);
		if (jobs.v[i].state == BITS_ERROR)
			n_err++;
		else
			n_transient++;
	}
	*n_jobs = jobs.n;
	cJSON_AddNumberToObject(r->facts, "jobs", (double)jobs.n);
	cJSON_AddNumberToObject(r->facts, "jobs_error", (double)n_err);
	cJSON_AddNumberToObject(r->facts, "jobs_transient_error",
				(double)n_transient);
	bits_jobs_clear(&jobs);
	return (long)(n_err + n_transient);
}

/* ---- bits-jobs: events ------------------------------------------------- */

/* The newest record of one event id and code, and how often it came. */
struct ev_group {
	const struct event_record *newest;
	int64_t oldest;
	size_t count;
};

/* What the events part found, for the facts and the pass message. */
struct ev_outcome {
	bool read;	/* the log was read */
	size_t n_read;	/* records read */
	size_t counted; /* error records in the window */
	int64_t newest; /* newest record's time, when n_read > 0 */
};

static bool
ev_counts(const struct event_record *e, int64_t since)
{
	if (e->time < since)
		return false;
	if (e->level == EVL_CRITICAL || e->level == EVL_ERROR)
		return true;
	return e->level == EVL_WARNING && (e->code & 0x80000000u) != 0;
}

static const char *
level_name(enum event_level l)
{
	switch (l) {
	case EVL_CRITICAL:
		return "critical";
	case EVL_ERROR:
		return "error";
	case EVL_WARNING:
		return "warning";
	default:
		return "information";
	}
}

/* Fold e into groups; false when it is a new kind beyond the cap. */
static bool
ev_group_add(struct ev_group *g, size_t *n, const struct event_record *e)
{
	for (size_t i = 0; i < *n; i++) {
		if (g[i].newest->id != e->id || g[i].newest->code != e->code)
			continue;
		g[i].count++;
		if (e->time > g[i].newest->time)
			g[i].newest = e;
		if (e->time < g[i].oldest)
			g[i].oldest = e->time;
		return true;
	}
	if (*n == EVENTS_REPORT_MAX)
		return false;
	g[*n].newest = e;
	g[*n].oldest = e->time;
	g[(*n)++].count = 1;
	return true;
}

static void
add_event(struct check_result *r, const struct ev_group *g)
{
	const struct event_record *e = g->newest;
	char when[ISO_LEN], first[ISO_LEN], code[11], *words, *other;
	struct finding *f;

	iso_time(e->time, when);
	iso_time(g->oldest, first);
	error_format(e->code, code);
	words = e->code != HR_OK ? code_words(e->code) : NULL;
	f = result_add(r, "bits-jobs.event", ST_WARN,
		       "the BITS client logged %s event %u%s%s at %s (%zu "
		       "time%s since %s)",
		       level_name(e->level), e->id, words ? " with " : "",
		       words ? words : "", when, g->count,
		       g->count == 1 ? "" : "s", first);
	f->error = e->code;
	finding_set_observed(f, "%s", level_name(e->level));
	other = xasprintf("read event %u in Event Viewer (Applications and "
			  "Services Logs, Microsoft, Windows, Bits-Client, "
			  "Operational)",
			  e->id);
	remedy_for(f, e->code, other);
	f->details = cJSON_CreateObject();
	cJSON_AddStringToObject(f->details, "log", e->log ? e->log : BITS_LOG);
	cJSON_AddNumberToObject(f->details, "event_id", e->id);
	cJSON_AddStringToObject(f->details, "level", level_name(e->level));
	cJSON_AddStringToObject(f->details, "time", when);
	cJSON_AddStringToObject(f->details, "first_time", first);
	cJSON_AddNumberToObject(f->details, "count", (double)g->count);
	cJSON_AddStringToObject(f->details, "code", code);
	cJSON_AddStringToObject(f->details, "message",
				e->message ? e->message : "");
	free(other);
	free(words);
}

static void
events_failed(struct check_result *r, hr_t hr)
{
	struct finding *f;
	char code[11];

	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_EVT_CHANNEL_NOT_FOUND)) {
		f = result_add(r, "bits-jobs.event", ST_SKIP,
			       "this Windows has no " BITS_LOG " event log "
			       "(%s), so there are no BITS client events to "
			       "look at",
			       code);
	} else {
		f = result_add(r, "bits-jobs.event", ST_ERROR,
			       "could not read the " BITS_LOG " event log "
			       "(%s)",
			       code);
	}
	f->error = hr;
}

static void
event_facts(struct check_result *r, const struct ev_outcome *o,
	    size_t unreported)
{
	char when[ISO_LEN];

	cJSON_AddStringToObject(r->facts, "event_log", BITS_LOG);
	if (!o->read)
		return;
	cJSON_AddNumberToObject(r->facts, "events_read", (double)o->n_read);
	cJSON_AddNumberToObject(r->facts, "error_events", (double)o->counted);
	if (o->n_read > 0) {
		iso_time(o->newest - EVENTS_WINDOW_S, when);
		cJSON_AddStringToObject(r->facts, "events_since", when);
	}
	if (unreported > 0)
		cJSON_AddNumberToObject(r->facts, "error_events_not_reported",
					(double)unreported);
}

static void
judge_events(const struct check_ctx *ctx, struct check_result *r,
	     struct ev_outcome *o)
{
	struct host *h = ctx->host;
	struct event_list ev = {0};
	struct ev_group *g = NULL;
	size_t n = 0, unreported = 0;
	hr_t hr;

	memset(o, 0, sizeof(*o));
	if ((hr = h->ops->events(h, BITS_LOG, EVENTS_READ, &ev)) != HR_OK) {
		events_failed(r, hr);
		goto out;
	}
	o->read = true;
	o->n_read = ev.n;
	for (size_t i = 0; i < ev.n; i++)
		if (i == 0 || ev.v[i].time > o->newest)
			o->newest = ev.v[i].time;
	g = xcalloc(EVENTS_REPORT_MAX, sizeof(*g));
	for (size_t i = 0; i < ev.n; i++) {
		if (!ev_counts(&ev.v[i], o->newest - EVENTS_WINDOW_S))
			continue;
		o->counted++;
		if (!ev_group_add(g, &n, &ev.v[i]))
			unreported++;
	}
	for (size_t i = 0; i < n; i++)
		add_event(r, &g[i]);
out:
	event_facts(r, o, unreported);
	free(g);
	event_list_clear(&ev);
}

/* ---- bits-jobs: the check ---------------------------------------------- */

static void
jobs_pass(struct check_result *r, size_t n_jobs, const struct ev_outcome *o)
{
	char when[ISO_LEN], *events;
	struct finding *f;

	if (o->read && o->n_read == 0)
		events = xstrdup("; the BITS client log is empty");
	else if (o->read && o->counted == 0) {
		iso_time(o->newest, when);
		events = xasprintf("; no BITS client errors in the %d days "
				   "up to %s",
				   EVENTS_WINDOW_DAYS, when);
	} else
		events = xstrdup("");
	f = result_add(r, "bits-jobs.job", ST_PASS,
		       "%zu BITS job%s looked at, none in an error state%s",
		       n_jobs, n_jobs == 1 ? "" : "s", events);
	finding_set_observed(f, "%zu jobs, none in error", n_jobs);
	free(events);
}

static void
bits_jobs_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct ev_outcome o;
	size_t n_jobs;
	long failing;

	failing = judge_jobs(ctx, r, &n_jobs);
	judge_events(ctx, r, &o);
	if (failing == 0)
		jobs_pass(r, n_jobs, &o);
}

const struct check check_bits_jobs = {
    .id = "bits-jobs",
    .title = "BITS transfer jobs",
    .description = "No BITS job is in an error or transient-error state and "
		   "the BITS client event log has no recent errors; each "
		   "error code is decoded with the article's diagnosis. "
		   "Listing the jobs starts BITS if it is stopped, as "
		   "bitsadmin /list does",
    .seed_section = "BITS jobs are failing",
    .time_limit_ms = 15000,
    .run = bits_jobs_run,
    /* Listing jobs starts BITS: bits would see it start_pending. */
    .after = "bits",
};

/* ---- bits-policy ------------------------------------------------------- */

#define BITS_POLICY_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS"

/*
 * The defaults of "Maximum number of BITS jobs for each user" and "...
 * for this computer" when not configured (BITS documentation: 60 and
 * 300; before Windows Vista there were no limits at all).
 */
#define DEFAULT_PER_USER    60u
#define DEFAULT_PER_MACHINE 300u

#define GPO_REMEDY                                                             \
	"In the Group Policy object (gpedit.msc for a local policy, GPMC for " \
	"a domain policy), under Computer Configuration\\Administrative "      \
	"Templates\\Network\\Background Intelligent Transfer Service "         \
	"(BITS), set \"Maximum number of BITS jobs for each user\" lower "     \
	"than \"Maximum number of BITS jobs for this computer\"; then run "    \
	"gpupdate /force, restart BITS and check the event logs for errors"

/* One limit as read: a policy value, the default, or why neither. */
struct limit {
	const char *value; /* registry value name */
	uint32_t dflt;
	uint64_t n;
	const char *source; /* "policy" or "default", NULL if unusable */
	hr_t hr;	    /* read error other than "not set" */
	enum reg_type type; /* of a value that is not a REG_DWORD */
};

static void
read_limit(struct host *h, struct limit *l)
{
	struct reg_value v = {0};

	l->hr = h->ops->reg_get(h, BITS_POLICY_KEY, l->value, &v);
	if (l->hr == hr_from_win32(WIN32_FILE_NOT_FOUND)) {
		l->hr = HR_OK;
		l->n = l->dflt;
		l->source = "default";
	} else if (l->hr == HR_OK && v.type == REGT_DWORD) {
		l->n = v.num;
		l->source = "policy";
	} else if (l->hr == HR_OK) {
		l->type = v.type;
	}
	reg_value_clear(&v);
}

static void
limit_fact(struct check_result *r, const char *key, const struct limit *l)
{
	cJSON *o = cJSON_AddObjectToObject(r->facts, key);

	cJSON_AddStringToObject(o, "registry_value", l->value);
	if (l->source == NULL)
		return;
	cJSON_AddNumberToObject(o, "value", (double)l->n);
	cJSON_AddStringToObject(o, "source", l->source);
}

/*
 * Why the limits do not apply here, or NULL. BITS before Windows Vista
 * had no job limits, and without BITS there are no jobs to limit. A
 * version or service that cannot be read is no reason to skip: the
 * limits are read and judged.
 */
static char *
not_applicable(struct host *h)
{
	struct computer_info ci = {0};
	struct svc_status st = {0};
	char *why = NULL;

	if (h->ops->computer(h, &ci) == HR_OK && ci.os_version != NULL &&
	    strtoul(ci.os_version, NULL, 10) < 6)
		why = xasprintf("BITS job limits exist from Windows Vista on; "
				"this is Windows %s",
				ci.os_version);
	else if (h->ops->service_status(h, "BITS", &st) ==
		 hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST))
		why = xstrdup("BITS is not installed, so there are no BITS "
			      "jobs to limit (the bits check reports the "
			      "missing service)");
	computer_info_clear(&ci);
	return why;
}

static const char *
reg_type_name(enum reg_type t)
{
	switch (t) {
	case REGT_SZ:
		return "REG_SZ";
	case REGT_EXPAND_SZ:
		return "REG_EXPAND_SZ";
	case REGT_BINARY:
		return "REG_BINARY";
	case REGT_DWORD:
		return "REG_DWORD";
	case REGT_MULTI_SZ:
		return "REG_MULTI_SZ";
	case REGT_QWORD:
		return "REG_QWORD";
	default:
		return "REG_NONE";
	}
}

/* A limit that could not be read or used; true if there was one. */
static bool
judge_unusable(struct check_result *r, const struct limit *l)
{
	struct finding *f;
	char code[11];

	if (l->hr != HR_OK) {
		error_format(l->hr, code);
		f = result_add(r, "bits-policy.job_limits", ST_ERROR,
			       "could not read %s under " BITS_POLICY_KEY
			       " (%s)",
			       l->value, code);
		f->error = l->hr;
		return true;
	}
	if (l->source != NULL)
		return false;
	f = result_add(r, "bits-policy.job_limits", ST_WARN,
		       "%s under " BITS_POLICY_KEY " is a %s, not the "
		       "REG_DWORD Group Policy writes, so the job limits "
		       "cannot be judged",
		       l->value, reg_type_name(l->type));
	finding_set_expected(f, "REG_DWORD");
	finding_set_observed(f, "%s", reg_type_name(l->type));
	svc_set_remedy(f, "gpupdate", GPO_REMEDY);
	return true;
}

static void
judge_limits(struct check_result *r, const struct limit *u,
	     const struct limit *m)
{
	struct finding *f;

	if (u->n >= m->n) {
		f = result_add(r, "bits-policy.job_limits", ST_FAIL,
			       "the per-user BITS job limit (%llu, %s) is not "
			       "lower than the per-computer limit (%llu, %s)",
			       (unsigned long long)u->n, u->source,
			       (unsigned long long)m->n, m->source);
		svc_set_remedy(f, "gpupdate", GPO_REMEDY);
	} else {
		f = result_add(r, "bits-policy.job_limits", ST_PASS,
			       "the per-user BITS job limit (%llu, %s) is "
			       "lower than the per-computer limit (%llu, %s)",
			       (unsigned long long)u->n, u->source,
			       (unsigned long long)m->n, m->source);
	}
	finding_set_expected(f, "MaxJobsPerUser < MaxJobsPerMachine");
	finding_set_observed(f,
			     "MaxJobsPerUser %llu (%s), MaxJobsPerMachine "
			     "%llu (%s)",
			     (unsigned long long)u->n, u->source,
			     (unsigned long long)m->n, m->source);
}

static void
bits_policy_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct limit u = {.value = "MaxJobsPerUser", .dflt = DEFAULT_PER_USER};
	struct limit m = {.value = "MaxJobsPerMachine",
			  .dflt = DEFAULT_PER_MACHINE};
	bool bad;
	char *why;

	if ((why = not_applicable(ctx->host)) != NULL) {
		result_add(r, "bits-policy.job_limits", ST_SKIP, "%s", why);
		free(why);
		return;
	}
	read_limit(ctx->host, &u);
	read_limit(ctx->host, &m);
	cJSON_AddStringToObject(r->facts, "policy_key", BITS_POLICY_KEY);
	limit_fact(r, "per_user", &u);
	limit_fact(r, "per_machine", &m);
	/* Both are judged, so each unusable value gets its finding. */
	bad = judge_unusable(r, &u);
	bad = judge_unusable(r, &m) || bad;
	if (!bad)
		judge_limits(r, &u, &m);
}

const struct check check_bits_policy = {
    .id = "bits-policy",
    .title = "BITS job limits",
    .description = "The Group Policy limit of BITS jobs per user is lower "
		   "than the limit per computer (MaxJobsPerUser and "
		   "MaxJobsPerMachine, with the Windows defaults 60 and "
		   "300 when not set)",
    .seed_section = "There is a mismatch between the BITS per-user job "
		    "limit and the per-computer job limit",
    .time_limit_ms = 5000,
    .run = bits_policy_run,
};
