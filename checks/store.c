/*
 * store.c: "Rebuild the Automatic Update Agent Store": the agent keeps
 * its update metadata in %SystemRoot%\SoftwareDistribution (an ESE
 * database, DataStore\DataStore.edb) and its downloads next to it. The
 * article rebuilds the store "when there are issues downloading updates
 * and there are errors relating to the software distribution store";
 * this check looks for those errors and for the plain reasons a store
 * cannot work: the folder or the database is gone, or its volume is full.
 *
 * Free space: a cumulative update for Windows 10 is several hundred MiB
 * to download and more again to stage and unpack. Under 500 MiB not even
 * one download fits, and BITS stops with ERROR_DISK_FULL: fail. Under
 * 2 GiB one update may download but not install: warn.
 *
 * Store errors come from the end of WindowsUpdate.log (wulog.h says which
 * codes mean a damaged store) and from error events: ESENT's about the
 * store's database (instance SUS20ClientDataStore) in the Application
 * log, and the agent's own events with a store code. ESENT's warnings
 * about the store (a rebuilt flush map, 636/640) are routine and ignored.
 *
 * The log and the event logs outlive the store: errors written before
 * the current store was created are about one that is gone (set aside by
 * a rebuild), and are counted but not judged. The store's creation is
 * the later of the folder's and DataStore.edb's creation times: NTFS
 * tunnelling may hand a folder recreated within seconds of a rename the
 * old folder's creation time, but the database is created in a new,
 * empty DataStore, where nothing can be tunnelled. Event times are UTC;
 * the log's are local, read with ActiveTimeBias (a line written on the
 * other side of a daylight saving change is off by that hour), or, when
 * the time zone cannot be read, with the widest offset there is (UTC-12)
 * so that no line is set aside that might be newer than the store.
 * Undated lines and events without a time are always judged.
 *
 * reset-store is the article's rebuild: wuauserv and BITS (which holds
 * the store's downloads) are stopped, the folder is renamed, never
 * deleted, to SoftwareDistribution.wsusdiag-STAMP, and the services are
 * started again. The action does not create the new, empty folder:
 * wuauserv creates it with its database when it starts (the simulated
 * host does the same), and host.h has no call to make one. Every
 * failure before the services run again puts back what was changed:
 * the folder renamed back, the services started again.
 */
#include "checks/registry.h"
#include "checks/detect.h"
#include "checks/svc.h"
#include "checks/svc_steps.h"
#include "checks/wulog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define STORE_FAIL_BYTES ((uint64_t)500 << 20)
#define STORE_WARN_BYTES ((uint64_t)2 << 30)
#define EVENTS_MAX	 200
/* ERROR_EVT_CHANNEL_NOT_FOUND: a log this Windows does not have. */
#define WIN32_EVT_CHANNEL_NOT_FOUND 15007u
#define WIN32_DISK_FULL		    112u

static const char *const event_logs[] = {
    "Application",
    "Microsoft-Windows-WindowsUpdateClient/Operational",
};

#define N_EVENT_LOGS (sizeof(event_logs) / sizeof(event_logs[0]))

/* What the findings share. */
struct store {
	const struct check_ctx *ctx;
	char *root;	 /* %SystemRoot% */
	char *dir;	 /* ROOT\SoftwareDistribution */
	char *edb;	 /* DIR\DataStore\DataStore.edb */
	char *reset;	 /* the article's steps, for this machine */
	bool dir_ok;	 /* the folder is there */
	int64_t created; /* of the current store, UTC; 0: unknown */
};

/* The later of two creation times; 0 is unknown. */
static void
note_created(struct store *s, int64_t t)
{
	if (t > s->created)
		s->created = t;
}

static bool
hr_absent(hr_t hr)
{
	return hr == hr_from_win32(WIN32_FILE_NOT_FOUND) ||
	       hr == hr_from_win32(WIN32_PATH_NOT_FOUND);
}

/* "68.5 GiB", "300 MiB", "512 bytes". */
static void
fmt_bytes(uint64_t b, char out[32])
{
	if (b >= ((uint64_t)1 << 30))
		snprintf(out, 32, "%.1f GiB", (double)b / (1u << 30));
	else if (b >= ((uint64_t)1 << 20))
		snprintf(out, 32, "%.0f MiB", (double)b / (1u << 20));
	else
		snprintf(out, 32, "%llu bytes", (unsigned long long)b);
}

static void
set_reset_remedy(const struct store *s, struct finding *f)
{
	svc_set_remedy(f, "reset-store", s->reset);
}

/* ---- store.folder ---------------------------------------------------------
 */

static void
judge_folder(struct store *s, struct check_result *r)
{
	struct host *h = s->ctx->host;
	struct file_info fi = {0};
	struct finding *f;
	char code[11];
	hr_t hr = h->ops->file_stat(h, s->dir, &fi);

	if (hr == HR_OK && fi.is_dir) {
		s->dir_ok = true;
		note_created(s, fi.created);
		f = result_add(r, "store.folder", ST_PASS, "%s is present",
			       s->dir);
		finding_set_observed(f, "present");
	} else if (hr == HR_OK) {
		f = result_add(r, "store.folder", ST_FAIL,
			       "%s is a file, not the agent's folder", s->dir);
		finding_set_observed(f, "a file");
		set_reset_remedy(s, f);
	} else if (hr_absent(hr)) {
		f = result_add(r, "store.folder", ST_FAIL,
			       "%s is missing: the agent has no store for "
			       "update metadata or downloads",
			       s->dir);
		f->error = hr;
		finding_set_observed(f, "missing");
		svc_set_remedy(f, "start-wuauserv",
			       "the Windows Update service creates the folder "
			       "when it starts: sc stop wuauserv (if it "
			       "runs), sc start wuauserv, then wuauclt "
			       "/detectnow");
	} else {
		error_format(hr, code);
		f = result_add(r, "store.folder", ST_ERROR,
			       "could not look for %s (%s)", s->dir, code);
		f->error = hr;
	}
	if (f->status != ST_ERROR)
		finding_set_expected(f, "present");
}

/* ---- store.datastore -------------------------------------------------- */

static struct finding *
datastore_found(struct store *s, struct check_result *r,
		const struct file_info *fi)
{
	struct finding *f;
	char size[32];

	if (fi->is_dir) {
		f = result_add(r, "store.datastore", ST_FAIL,
			       "%s is a folder, not the agent's database",
			       s->edb);
		finding_set_observed(f, "a folder");
	} else if (fi->size == 0) {
		f = result_add(r, "store.datastore", ST_FAIL,
			       "%s is empty: an ESE database never is", s->edb);
		finding_set_observed(f, "0 bytes");
	} else {
		fmt_bytes(fi->size, size);
		f = result_add(r, "store.datastore", ST_PASS, "%s is present",
			       s->edb);
		finding_set_observed(f, "present, %s", size);
		cJSON_AddNumberToObject(r->facts, "datastore_bytes",
					(double)fi->size);
	}
	return f;
}

static void
judge_datastore(struct store *s, struct check_result *r)
{
	struct host *h = s->ctx->host;
	struct file_info fi = {0};
	struct finding *f;
	char code[11];
	hr_t hr;

	if (!s->dir_ok) {
		result_add(r, "store.datastore", ST_SKIP,
			   "there is no SoftwareDistribution folder to hold "
			   "DataStore.edb (see store.folder)");
		return;
	}
	hr = h->ops->file_stat(h, s->edb, &fi);
	if (hr == HR_OK) {
		f = datastore_found(s, r, &fi);
		if (!fi.is_dir)
			note_created(s, fi.created);
	} else if (hr_absent(hr)) {
		f = result_add(r, "store.datastore", ST_FAIL,
			       "%s is missing: the agent has lost its update "
			       "metadata",
			       s->edb);
		f->error = hr;
		finding_set_observed(f, "missing");
	} else {
		error_format(hr, code);
		f = result_add(r, "store.datastore", ST_ERROR,
			       "could not look for %s (%s)", s->edb, code);
		f->error = hr;
		return;
	}
	finding_set_expected(f, "present");
	if (f->status == ST_FAIL)
		set_reset_remedy(s, f);
}

/* ---- store.free_space ------------------------------------------------- */

static enum status
space_status(uint64_t free_b)
{
	if (free_b < STORE_FAIL_BYTES)
		return ST_FAIL;
	return free_b < STORE_WARN_BYTES ? ST_WARN : ST_PASS;
}

/* The volume's free space judged; the volume could be read. */
static void
space_finding(struct check_result *r, const char *path, uint64_t free_b,
	      uint64_t total_b)
{
	char fb[32], tb[32], min[32], want[48];
	enum status st = space_status(free_b);
	struct finding *f;

	fmt_bytes(free_b, fb);
	fmt_bytes(total_b, tb);
	fmt_bytes(STORE_WARN_BYTES, min);
	f = result_add(r, "store.free_space", st,
		       st == ST_PASS ? "%s free on the volume holding %s"
				     : "only %s free on the volume holding %s: "
				       "updates need room to download and "
				       "unpack",
		       fb, path);
	snprintf(want, sizeof(want), "at least %s free", min);
	finding_set_expected(f, want);
	finding_set_observed(f, "%s free of %s", fb, tb);
	if (st == ST_FAIL)
		f->error = hr_from_win32(WIN32_DISK_FULL);
	if (st != ST_PASS)
		svc_set_remedy(f, NULL,
			       "free space on that volume (Disk Cleanup with "
			       "\"Windows Update Cleanup\", old files and "
			       "profiles) until at least 2 GiB are free; do "
			       "not delete files under SoftwareDistribution "
			       "by hand");
}

static void
judge_space(struct store *s, struct check_result *r)
{
	struct host *h = s->ctx->host;
	/* GetDiskFreeSpaceExW wants a folder that exists. */
	const char *path = s->dir_ok ? s->dir : s->root;
	uint64_t free_b = 0, total_b = 0;
	struct finding *f;
	char code[11];
	hr_t hr = h->ops->disk_free(h, path, &free_b, &total_b);

	if (hr != HR_OK) {
		error_format(hr, code);
		f = result_add(r, "store.free_space", ST_ERROR,
			       "could not read the free space of the volume "
			       "holding %s (%s)",
			       path, code);
		f->error = hr;
		return;
	}
	space_finding(r, path, free_b, total_b);
	cJSON_AddNumberToObject(r->facts, "volume_free_bytes", (double)free_b);
	cJSON_AddNumberToObject(r->facts, "volume_total_bytes",
				(double)total_b);
}

/* ---- store.errors: events --------------------------------------------- */

/* One store error event, newest of all logs read. */
struct store_event {
	bool found;
	const char *log;
	uint32_t id;
	int64_t time;
	hr_t code;
	char *message;
};

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void
civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400) + (*m <= 2);
}

static void
iso_time(int64_t t, char out[24])
{
	int64_t days = (t >= 0 ? t : t - 86399) / 86400, sec = t - days * 86400;
	unsigned m, d;
	int y;

	civil(days, &y, &m, &d);
	/* Only a year past 9999 would not fit; it is cut, not overrun. */
	if (snprintf(out, 24, "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
		     (unsigned)(sec / 3600), (unsigned)(sec / 60 % 60),
		     (unsigned)(sec % 60)) >= 24)
		out[23] = '\0';
}

/* An error event about the store, and the code it carries. */
static bool
is_store_event(const struct event_record *e, hr_t *code)
{
	const char *msg = e->message != NULL ? e->message : "";

	if (e->level != EVL_CRITICAL && e->level != EVL_ERROR)
		return false;
	*code = e->code != 0 ? e->code : wulog_ese_error(msg);
	return wulog_classify(e->code) == WULOG_STORE ||
	       wulog_mentions_store(msg);
}

/*
 * Keep the newest store event of one log that is not older than the
 * store (created, 0: any); count the older ones in *older.
 */
static void
pick_event(struct store_event *best, const char *log,
	   const struct event_list *l, int64_t created, size_t *older)
{
	hr_t code;

	for (size_t i = 0; i < l->n; i++) {
		const struct event_record *e = &l->v[i];

		if (!is_store_event(e, &code))
			continue;
		/* A time of 0 is unknown: judged, like an undated line. */
		if (e->time != 0 && e->time < created) {
			(*older)++;
			continue;
		}
		if (!best->found || e->time > best->time) {
			free(best->message);
			best->found = true;
			best->log = log;
			best->id = e->id;
			best->time = e->time;
			best->code = code;
			best->message = xstrdup(e->message ? e->message : "");
		}
	}
}

/* Read the event logs; returns the first error that kept one from being
 * read (a log this Windows does not have is no error). */
static hr_t
read_events(struct store *s, struct store_event *best, cJSON *read,
	    size_t *older)
{
	struct host *h = s->ctx->host;
	hr_t hr, first = HR_OK;

	for (size_t i = 0; i < N_EVENT_LOGS; i++) {
		struct event_list l = {0};

		hr = h->ops->events(h, event_logs[i], EVENTS_MAX, &l);
		if (hr == HR_OK)
			pick_event(best, event_logs[i], &l, s->created, older);
		else if (hr != hr_from_win32(WIN32_EVT_CHANNEL_NOT_FOUND) &&
			 first == HR_OK)
			first = hr;
		if (hr == HR_OK)
			cJSON_AddItemToArray(read,
					     cJSON_CreateString(event_logs[i]));
		event_list_clear(&l);
	}
	return first;
}

static cJSON *
event_json(const struct store_event *e)
{
	cJSON *d = cJSON_CreateObject();
	char t[24], hex[11];

	iso_time(e->time, t);
	cJSON_AddStringToObject(d, "log", e->log);
	cJSON_AddNumberToObject(d, "id", e->id);
	cJSON_AddStringToObject(d, "time", t);
	if (e->code != 0) {
		error_format(e->code, hex);
		cJSON_AddStringToObject(d, "code", hex);
	} else {
		cJSON_AddNullToObject(d, "code");
	}
	cJSON_AddStringToObject(d, "message", e->message);
	return d;
}

/* ---- store.errors ------------------------------------------------------ */

#define TZ_KEY "HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation"
/* UTC = local time + bias; no zone is further behind UTC than -12 h. */
#define BIAS_MAX_MIN   720
#define BIAS_LIMIT_MIN 1440

/* What store.errors looked at. */
struct evidence {
	struct wulog_file log;
	struct store_event ev;
	hr_t events_hr; /* first event log that could not be read */
	/* Set aside as older than the store (store.created != 0). */
	char created[24];	     /* the store's creation, UTC */
	char cutoff[WULOG_TIME_LEN]; /* the same as the log's local time */
	bool have_bias;		     /* bias_min read from the registry */
	int32_t bias_min;
	size_t older_lines, older_events;
};

/* ActiveTimeBias: minutes to add to local time for UTC. */
static bool
read_bias(struct host *h, int32_t *bias)
{
	struct reg_value v = {0};
	bool ok = false;

	if (h->ops->reg_get(h, TZ_KEY, "ActiveTimeBias", &v) == HR_OK &&
	    v.type == REGT_DWORD) {
		*bias = (int32_t)(uint32_t)v.num;
		ok = *bias >= -BIAS_LIMIT_MIN && *bias <= BIAS_LIMIT_MIN;
	}
	reg_value_clear(&v);
	return ok;
}

/* The store's creation as the log's local time, "YYYY-MM-DDTHH:MM:SS.000":
 * with an unknown zone, the earliest it can be anywhere. */
static void
log_cutoff(struct store *s, struct evidence *ev)
{
	int64_t bias;
	char t[24];

	ev->have_bias = read_bias(s->ctx->host, &ev->bias_min);
	bias = ev->have_bias ? ev->bias_min : BIAS_MAX_MIN;
	iso_time(s->created - bias * 60, t);
	snprintf(ev->cutoff, sizeof(ev->cutoff), "%.19s.000", t);
}

static cJSON *
log_hit_json(const struct wulog_file *f, const struct wulog_hit *hit)
{
	cJSON *d = cJSON_CreateObject();
	char hex[11];

	cJSON_AddStringToObject(d, "path", f->path);
	cJSON_AddNumberToObject(d, "line", (double)hit->line);
	if (hit->time[0] != '\0')
		cJSON_AddStringToObject(d, "time", hit->time);
	else
		cJSON_AddNullToObject(d, "time");
	error_format(hit->code, hex);
	cJSON_AddStringToObject(d, "code", hex);
	cJSON_AddStringToObject(d, "text", hit->text);
	cJSON_AddNumberToObject(d, "count", (double)hit->count);
	return d;
}

static char *
code_words(hr_t code)
{
	const struct error_info *e = error_lookup(code);
	char hex[11];

	if (code == 0)
		return xstrdup("no error code");
	error_format(code, hex);
	return e != NULL ? xasprintf("%s (%s)", e->name, hex) : xstrdup(hex);
}

static struct finding *
errors_from_log(struct check_result *r, const struct evidence *ev)
{
	const struct wulog_hit *hit = &ev->log.sum.hit[WULOG_STORE];
	char *words = code_words(hit->code);
	struct finding *f;

	f = result_add(r, "store.errors", ST_FAIL,
		       "WindowsUpdate.log shows a damaged data store in %zu "
		       "line%s; the latest, line %zu%s%s: %s",
		       hit->count, hit->count == 1 ? "" : "s", hit->line,
		       hit->time[0] != '\0' ? " at " : "", hit->time, words);
	f->error = hit->code;
	finding_set_observed(f, "%s", hit->text);
	f->details = cJSON_CreateObject();
	cJSON_AddItemToObject(f->details, "log", log_hit_json(&ev->log, hit));
	free(words);
	return f;
}

static struct finding *
errors_from_event(struct check_result *r, const struct evidence *ev)
{
	char *words = code_words(ev->ev.code), t[24];
	struct finding *f;

	iso_time(ev->ev.time, t);
	f = result_add(r, "store.errors", ST_FAIL,
		       "event %u in %s at %s reports a damaged data store: %s",
		       ev->ev.id, ev->ev.log, t, words);
	f->error = ev->ev.code;
	finding_set_observed(f, "%s", ev->ev.message);
	f->details = cJSON_CreateObject();
	free(words);
	return f;
}

static void
errors_unread(struct check_result *r, const struct evidence *ev)
{
	const struct wulog_file *lf = &ev->log;
	bool log_bad = lf->hr != HR_OK && !lf->absent;
	hr_t hr = log_bad ? lf->hr : ev->events_hr;
	char code[11];
	struct finding *f;

	error_format(hr, code);
	f = result_add(r, "store.errors", ST_ERROR, "could not read %s (%s)",
		       log_bad ? lf->path : "the event logs", code);
	f->error = hr;
}

/* What was set aside as older than the store, when its age is known. */
static void
older_json(struct finding *f, const struct evidence *ev)
{
	cJSON *d;

	if (ev->created[0] == '\0')
		return;
	if (f->details == NULL)
		f->details = cJSON_CreateObject();
	d = cJSON_AddObjectToObject(f->details, "older_than_store");
	cJSON_AddStringToObject(d, "store_created", ev->created);
	cJSON_AddStringToObject(d, "log_cutoff", ev->cutoff);
	if (ev->have_bias)
		cJSON_AddNumberToObject(d, "active_time_bias_min",
					ev->bias_min);
	else
		cJSON_AddNullToObject(d, "active_time_bias_min");
	cJSON_AddNumberToObject(d, "log_lines", (double)ev->older_lines);
	cJSON_AddNumberToObject(d, "events", (double)ev->older_events);
}

/* "; 3 older store errors (...) predate the current store (...)". */
static char *
older_words(const struct evidence *ev)
{
	size_t n = ev->older_lines + ev->older_events;

	if (n == 0)
		return xstrdup("");
	return xasprintf("; %zu older store error%s (%zu in WindowsUpdate.log, "
			 "%zu in the event logs) predate%s the current store "
			 "(created %s) and %s ignored",
			 n, n == 1 ? "" : "s", ev->older_lines,
			 ev->older_events, n == 1 ? "s" : "", ev->created,
			 n == 1 ? "is" : "are");
}

static void
errors_clean(struct check_result *r, const struct evidence *ev)
{
	const struct wulog_file *lf = &ev->log;
	char *older = older_words(ev);
	struct finding *f;

	if (lf->hr == HR_OK && lf->sum.format != WULOG_FMT_STUB)
		f = result_add(r, "store.errors", ST_PASS,
			       "no data store errors in the %zu lines of "
			       "WindowsUpdate.log read or in the event "
			       "logs%s",
			       lf->sum.lines, older);
	else
		f = result_add(r, "store.errors", ST_PASS,
			       "no data store errors in the event logs (no "
			       "text WindowsUpdate.log here: Windows 10 and "
			       "later write ETL traces)%s",
			       older);
	finding_set_expected(f, "none");
	if (older[0] != '\0')
		finding_set_observed(f, "none since %s", ev->created);
	else
		finding_set_observed(f, "none");
	older_json(f, ev);
	free(older);
}

static bool
could_not_read(const struct evidence *ev)
{
	return (ev->log.hr != HR_OK && !ev->log.absent) ||
	       ev->events_hr != HR_OK;
}

static void
judge_errors(struct store *s, struct check_result *r)
{
	struct evidence ev = {0};
	cJSON *logs_read = cJSON_AddArrayToObject(r->facts, "event_logs_read");
	bool in_log;
	struct finding *f;

	wulog_read(s->ctx->host, s->root, WULOG_READ_MAX, &ev.log);
	if (s->created != 0) {
		iso_time(s->created, ev.created);
		log_cutoff(s, &ev);
		if (ev.log.hr == HR_OK)
			wulog_scan_since(ev.log.text, ev.log.len, ev.cutoff,
					 &ev.log.sum, &ev.older_lines);
	}
	ev.events_hr = read_events(s, &ev.ev, logs_read, &ev.older_events);
	cJSON_AddStringToObject(r->facts, "log_path", ev.log.path);
	if (s->created != 0)
		cJSON_AddStringToObject(r->facts, "store_created", ev.created);
	else
		cJSON_AddNullToObject(r->facts, "store_created");
	in_log = ev.log.sum.hit[WULOG_STORE].count > 0;
	if (in_log || ev.ev.found) {
		f = in_log ? errors_from_log(r, &ev)
			   : errors_from_event(r, &ev);
		if (ev.ev.found)
			cJSON_AddItemToObject(f->details, "event",
					      event_json(&ev.ev));
		finding_set_expected(f, "none");
		older_json(f, &ev);
		set_reset_remedy(s, f);
	} else if (could_not_read(&ev)) {
		errors_unread(r, &ev);
	} else {
		errors_clean(r, &ev);
	}
	free(ev.ev.message);
	wulog_file_clear(&ev.log);
}

/* ---- the check ------------------------------------------------------------
 */

static void
store_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct store s = {.ctx = ctx};
	bool from_reg;

	s.root = wu_system_root(ctx->host, &from_reg);
	s.dir = xasprintf("%s\\SoftwareDistribution", s.root);
	s.edb = xasprintf("%s\\DataStore\\DataStore.edb", s.dir);
	s.reset = xasprintf("Rebuild the Automatic Update Agent Store: sc stop "
			    "wuauserv; rename %s (for example to "
			    "SoftwareDistribution.old); sc start wuauserv; "
			    "wuauclt /resetauthorization /detectnow; wuauclt "
			    "/reportnow",
			    s.dir);
	cJSON_AddStringToObject(r->facts, "system_root", s.root);
	cJSON_AddBoolToObject(r->facts, "system_root_from_registry", from_reg);
	cJSON_AddStringToObject(r->facts, "software_distribution", s.dir);
	cJSON_AddStringToObject(r->facts, "datastore", s.edb);
	judge_folder(&s, r);
	judge_datastore(&s, r);
	judge_space(&s, r);
	judge_errors(&s, r);
	free(s.root);
	free(s.dir);
	free(s.edb);
	free(s.reset);
}

const struct check check_store = {
    .id = "store",
    .title = "Automatic Update Agent store",
    .description = "SoftwareDistribution and its DataStore.edb are present, "
		   "their volume has room for updates, and neither "
		   "WindowsUpdate.log nor the event logs report a damaged "
		   "data store since the current store was created",
    .seed_section = "Rebuild the Automatic Update Agent Store",
    .time_limit_ms = 15000,
    .run = store_run,
};

/* ---- reset-store ------------------------------------------------------- */

#define BACKUP_TAG ".wsusdiag-"
/* Backup names tried for one stamp (one second): far more than enough. */
#define BACKUP_TRIES 100u
#define RENAME_STEP  4

/* What the steps share. */
struct reset {
	const struct action_ctx *ctx;
	struct action_result *a;
	struct svc_guard wu, bits;
	char *dir;   /* ROOT\SoftwareDistribution */
	char *moved; /* where it went (or would go), NULL: nowhere */
	char stamp[17];
	bool renamed; /* dir is at moved now */
};

static char *
backup_name(const struct reset *rs, unsigned n)
{
	if (n < 2)
		return xasprintf("%s" BACKUP_TAG "%s", rs->dir, rs->stamp);
	return xasprintf("%s" BACKUP_TAG "%s-%u", rs->dir, rs->stamp, n);
}

/* Renaming the store would leave the agent without one. */
static hr_t
rs_stop_wu(struct reset *rs, struct step *s)
{
	return svc_step_stop_to_restart(rs->ctx, &rs->wu, s,
					"builds the new store");
}

static hr_t
rs_wait_wu(struct reset *rs, struct step *s)
{
	return svc_step_wait_stopped(rs->ctx, &rs->wu, s);
}

static hr_t
rs_stop_bits(struct reset *rs, struct step *s)
{
	return svc_step_stop(rs->ctx, &rs->bits, s);
}

static hr_t
rs_wait_bits(struct reset *rs, struct step *s)
{
	return svc_step_wait_stopped(rs->ctx, &rs->bits, s);
}

static void
no_store(struct reset *rs, struct step *s)
{
	s->status = STEP_SKIPPED;
	step_set_detail(s,
			"%s does not exist: there is no store to set aside; "
			"wuauserv creates a new one when it starts",
			rs->dir);
	free(rs->moved);
	rs->moved = NULL;
}

static void
rename_failed(struct reset *rs, struct step *s, hr_t hr)
{
	char code[11], *first = backup_name(rs, 1);

	error_format(hr, code);
	if (hr == hr_from_win32(WIN32_SHARING_VIOLATION))
		step_set_detail(s,
				"%s is in use (%s, a sharing violation): a "
				"program other than wuauserv and BITS has a "
				"file open in it (Delivery Optimization, an "
				"antivirus scan, a management agent); it is "
				"left in place",
				rs->dir, code);
	else if (hr == hr_from_win32(WIN32_ACCESS_DENIED))
		step_set_detail(s,
				"renaming %s was refused (%s, access denied): "
				"a file in it is locked or its permissions do "
				"not allow it; it is left in place",
				rs->dir, code);
	else if (hr == hr_from_win32(WIN32_ALREADY_EXISTS))
		step_set_detail(s,
				"%s and its next %u backup names are taken "
				"(%s); it is left in place",
				first, BACKUP_TRIES - 1, code);
	else
		step_set_detail(s,
				"could not rename %s (%s); it is left in "
				"place",
				rs->dir, code);
	free(first);
	free(rs->moved);
	rs->moved = NULL;
}

/* The first free backup name, for the plan. */
static hr_t
rename_plan(struct reset *rs, struct step *s)
{
	struct host *h = rs->ctx->host;
	struct file_info fi;
	unsigned n = 1;

	if (hr_absent(h->ops->file_stat(h, rs->dir, &fi))) {
		no_store(rs, s);
		return HR_OK;
	}
	do {
		free(rs->moved);
		rs->moved = backup_name(rs, n);
	} while (h->ops->file_stat(h, rs->moved, &fi) == HR_OK &&
		 ++n <= BACKUP_TRIES);
	if (n > BACKUP_TRIES) {
		rename_failed(rs, s, hr_from_win32(WIN32_ALREADY_EXISTS));
		return hr_from_win32(WIN32_ALREADY_EXISTS);
	}
	step_set_detail(s, "would rename it -> %s", rs->moved);
	return HR_OK;
}

static hr_t
rs_rename(struct reset *rs, struct step *s)
{
	struct host *h = rs->ctx->host;
	hr_t hr = HR_OK;

	if (rs->ctx->dry_run)
		return rename_plan(rs, s);
	/* MoveFileEx never replaces: a taken name is the next suffix. */
	for (unsigned n = 1; n <= BACKUP_TRIES; n++) {
		free(rs->moved);
		rs->moved = backup_name(rs, n);
		hr = h->ops->file_rename(h, rs->dir, rs->moved);
		if (hr != hr_from_win32(WIN32_ALREADY_EXISTS))
			break;
	}
	if (hr_absent(hr)) {
		no_store(rs, s);
		return HR_OK;
	}
	if (hr != HR_OK) {
		rename_failed(rs, s, hr);
		return hr;
	}
	rs->renamed = true;
	cJSON_Delete(rs->a->backup);
	rs->a->backup = cJSON_CreateObject();
	cJSON_AddStringToObject(rs->a->backup, "path", rs->moved);
	step_set_detail(s, "-> %s", rs->moved);
	return HR_OK;
}

static hr_t
rs_start_bits(struct reset *rs, struct step *s)
{
	/* BITS starts on demand: only what this action stopped. */
	return svc_step_start(rs->ctx, &rs->bits, s, true);
}

static hr_t
rs_wait_bits_run(struct reset *rs, struct step *s)
{
	return svc_step_wait_running(rs->ctx, &rs->bits, s);
}

static hr_t
rs_start_wu(struct reset *rs, struct step *s)
{
	/* Always: starting wuauserv is what builds the new store. */
	return svc_step_start(rs->ctx, &rs->wu, s, false);
}

static hr_t
rs_wait_wu_run(struct reset *rs, struct step *s)
{
	return svc_step_wait_running(rs->ctx, &rs->wu, s);
}

static const char *const reset_store_steps[] = {
    "stop wuauserv",
    "wait for wuauserv to stop",
    "stop BITS",
    "wait for BITS to stop",
    "rename %SystemRoot%\\SoftwareDistribution",
    "start BITS",
    "wait for BITS to run",
    "start wuauserv",
    "wait for wuauserv to run",
    "IAutomaticUpdates::DetectNow",
    "wuauclt /resetauthorization /detectnow (Windows 7 and 8.x, when the "
    "API fails)",
    "wuauclt /reportnow (Windows 7 and 8.x, when the API fails)",
    "UsoClient StartScan (Windows 10 and later, when the API fails)",
    NULL,
};

/* In reset_store_steps order, up to the detection. */
static hr_t (*const reset_fns[])(struct reset *, struct step *) = {
    rs_stop_wu,	   rs_wait_wu,	     rs_stop_bits, rs_wait_bits,   rs_rename,
    rs_start_bits, rs_wait_bits_run, rs_start_wu,  rs_wait_wu_run,
};

#define N_RESET_FNS (sizeof(reset_fns) / sizeof(reset_fns[0]))

static void
rename_back(struct reset *rs)
{
	struct host *h = rs->ctx->host;
	struct step *s;
	uint64_t t0 = plat_now_ms();
	char code[11];
	hr_t hr;

	s = action_add_step(rs->a, "rename %s back", rs->moved);
	hr = h->ops->file_rename(h, rs->moved, rs->dir);
	s->duration_ms = plat_now_ms() - t0;
	if (hr != HR_OK) {
		error_format(hr, code);
		s->status = STEP_FAILED;
		s->error = hr;
		step_set_detail(s,
				"could not rename it back to %s (%s): the old "
				"store stays at %s (backup.path)",
				rs->dir, code, rs->moved);
		return;
	}
	s->status = STEP_UNDONE;
	step_set_detail(s, "the old store is back at %s", rs->dir);
	rs->renamed = false;
	cJSON_Delete(rs->a->backup);
	rs->a->backup = NULL;
}

/* After a failed step: the store back, then the services. */
static void
reset_undo(struct reset *rs)
{
	if (rs->renamed)
		rename_back(rs);
	svc_undo_stop(rs->ctx, &rs->bits, rs->a);
	svc_undo_stop(rs->ctx, &rs->wu, rs->a);
}

static void
reset_record(struct reset *rs)
{
	if (rs->moved != NULL && (rs->renamed || rs->ctx->dry_run))
		action_add_change(rs->a, "store folder", rs->dir, rs->moved);
	svc_record_state(rs->ctx, &rs->bits, rs->a);
	svc_record_state(rs->ctx, &rs->wu, rs->a);
}

static void
reset_store_run(const struct action_ctx *ctx, struct action_result *a)
{
	struct reset rs = {.ctx = ctx, .a = a};
	bool from_reg;
	char *root = wu_system_root(ctx->host, &from_reg);
	hr_t hr = HR_OK;

	rs.dir = xasprintf("%s\\SoftwareDistribution", root);
	plat_utc_stamp(rs.stamp);
	svc_guard_read(ctx, &rs.wu, "wuauserv", "demand");
	svc_guard_read(ctx, &rs.bits, "BITS", "delayed-auto");
	for (size_t i = 0; i < N_RESET_FNS && hr == HR_OK; i++) {
		struct step *s =
		    i == RENAME_STEP
			? action_add_step(a, "rename %s", rs.dir)
			: action_add_step(a, "%s", reset_store_steps[i]);
		uint64_t t0 = plat_now_ms();

		hr = reset_fns[i](&rs, s);
		s->duration_ms = plat_now_ms() - t0;
		if (hr != HR_OK) {
			s->status = STEP_FAILED;
			s->error = hr;
			a->status = ACT_FAILED;
			reset_undo(&rs);
		}
	}
	/* The store stays rebuilt when only the request to detect fails:
	 * the agent detects on its own schedule. */
	if (hr == HR_OK && detect_steps(ctx, a, true) != HR_OK)
		a->status = ACT_FAILED;
	reset_record(&rs);
	free(rs.moved);
	free(rs.dir);
	free(root);
}

static const char *const reset_store_locks[] = {"wuauserv", "bits", NULL};

const struct action action_reset_store = {
    .id = "reset-store",
    .title = "Rebuild the Automatic Update Agent store",
    .description =
	"The article's \"Rebuild the Automatic Update Agent Store\": stop "
	"wuauserv and BITS (each only if running), rename "
	"%SystemRoot%\\SoftwareDistribution to "
	"SoftwareDistribution.wsusdiag-<UTC time> (never deleted; backup.path "
	"names it), start BITS again if it was running and wuauserv (which "
	"creates a new store), then make the agent re-authorize, detect and "
	"report. A failure before that (the folder in use, 0x80070020; "
	"access denied, 0x80070005; a service that will not start) renames "
	"the folder back and starts what was stopped",
    .target = "store",
    .also_locks = reset_store_locks,
    .steps = reset_store_steps,
    .changes = "%SystemRoot%\\SoftwareDistribution is renamed to "
	       "SoftwareDistribution.wsusdiag-<UTC time>; wuauserv and BITS "
	       "are restarted",
    .verify_check = "store",
    .run = reset_store_run,
};
