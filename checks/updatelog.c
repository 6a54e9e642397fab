/*
 * updatelog.c: "Check windowsupdate.log (C:\windows\) to see if there are
 * any proxy related errors", and after every fix "check windowsupdate.log
 * for errors": the end of the log, read in either of its text formats,
 * with the latest proxy, download and other failure of the agent, each
 * decoded.
 *
 * Judgement, per finding:
 * - updatelog.proxy fails: the agent could not reach its server through
 *   the network path; the proxy and server checks say why.
 * - updatelog.download fails: content did not arrive through BITS.
 * - updatelog.errors warns: the agent logs failures it retries or
 *   recovers from; a code here is a lead to follow, not proof of a fault.
 * The log holds history: an error stays until the log rolls over, so the
 * latest line's time is in the details to judge whether it still matters.
 * No file is a skip: Windows 10 and later write ETL traces instead.
 *
 * This file also holds the host side of wulog.h (the reader), which the
 * store check shares.
 */
#include "checks/registry.h"
#include "checks/svc.h"
#include "checks/wulog.h"

#include <stdlib.h>
#include <string.h>

#include "checks/errors.h"
#include "common/xalloc.h"

#define NT_CURRENT_VERSION                                                     \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
#define DEFAULT_SYSTEM_ROOT "C:\\Windows"

/* ---- the reader (wulog.h) ----------------------------------------------- */

char *
wu_system_root(struct host *h, bool *from_registry)
{
	struct reg_value v = {0};
	char *root = NULL;
	size_t n;

	if (h->ops->reg_get(h, NT_CURRENT_VERSION, "SystemRoot", &v) == HR_OK &&
	    v.type == REGT_SZ && v.str != NULL && v.str[0] != '\0') {
		root = xstrdup(v.str);
		n = strlen(root);
		/* Keep "C:\" whole; "C:\Windows\" loses its separator. */
		while (n > 3 && (root[n - 1] == '\\' || root[n - 1] == '/'))
			root[--n] = '\0';
	}
	reg_value_clear(&v);
	*from_registry = root != NULL;
	return root != NULL ? root : xstrdup(DEFAULT_SYSTEM_ROOT);
}

static bool
hr_absent(hr_t hr)
{
	return hr == hr_from_win32(WIN32_FILE_NOT_FOUND) ||
	       hr == hr_from_win32(WIN32_PATH_NOT_FOUND);
}

/*
 * The host returned the last max bytes when the file is larger: then
 * the first line is the tail of a line, and its columns would read as
 * garbage, so it is dropped. A UTF-8 file of exactly max bytes has its
 * size on disk equal to what was read and is whole.
 */
static bool
was_cut(const struct wulog_file *f, size_t max)
{
	return f->bytes_read + 4 > max &&
	       (!f->have_size || f->size > f->bytes_read);
}

void
wulog_read(struct host *h, const char *system_root, size_t max,
	   struct wulog_file *out)
{
	struct file_info fi;
	char *raw = NULL, *nl;
	size_t len = 0, skip = 0;

	memset(out, 0, sizeof(*out));
	out->path = xasprintf("%s\\WindowsUpdate.log", system_root);
	out->hr = h->ops->file_read_text(h, out->path, max, &raw, &len);
	if (out->hr != HR_OK) {
		out->absent = hr_absent(out->hr);
		free(raw);
		return;
	}
	if (h->ops->file_stat(h, out->path, &fi) == HR_OK) {
		out->have_size = true;
		out->size = fi.size;
	}
	out->bytes_read = len;
	out->truncated = was_cut(out, max);
	if (out->truncated) {
		nl = memchr(raw, '\n', len);
		skip = nl != NULL ? (size_t)(nl - raw) + 1 : len;
	}
	out->len = len - skip;
	out->text = xmalloc(out->len + 1);
	memcpy(out->text, raw + skip, out->len);
	out->text[out->len] = '\0';
	free(raw);
	wulog_scan(out->text, out->len, &out->sum);
}

void
wulog_file_clear(struct wulog_file *f)
{
	free(f->path);
	free(f->text);
	memset(f, 0, sizeof(*f));
}

/* ---- the check ------------------------------------------------------------
 */

static const char *const finding_ids[] = {
    "updatelog.proxy",
    "updatelog.download",
    "updatelog.errors",
};

#define N_FINDINGS (sizeof(finding_ids) / sizeof(finding_ids[0]))

/* The same status and words for every finding: the log could not be
 * looked at, or there is none. */
static void
add_all(struct check_result *r, enum status st, hr_t hr, const char *msg)
{
	struct finding *f;

	for (size_t i = 0; i < N_FINDINGS; i++) {
		f = result_add(r, finding_ids[i], st, "%s", msg);
		f->error = hr;
	}
}

static void
not_read(struct check_result *r, const struct wulog_file *f, const char *root)
{
	char code[11], *msg;

	if (f->absent) {
		msg = xasprintf("%s does not exist: Windows 10 and later write "
				"Windows Update traces as ETL files under "
				"%s\\Logs\\WindowsUpdate instead, and there "
				"is no text log unless Get-WindowsUpdateLog "
				"was run (Get-WindowsUpdateLog -LogPath %s)",
				f->path, root, f->path);
		add_all(r, ST_SKIP, 0, msg);
	} else {
		error_format(f->hr, code);
		msg = xasprintf("could not read %s (%s)", f->path, code);
		add_all(r, ST_ERROR, f->hr, msg);
	}
	free(msg);
}

static void
placeholder(struct check_result *r, const struct wulog_file *f,
	    const char *root)
{
	char *msg = xasprintf("%s is the placeholder Windows 10 and later "
			      "leave: the agent writes ETL traces under "
			      "%s\\Logs\\WindowsUpdate instead; run "
			      "Get-WindowsUpdateLog -LogPath %s to have a "
			      "text log to read",
			      f->path, root, f->path);

	add_all(r, ST_SKIP, 0, msg);
	free(msg);
}

/* "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED (0x8024402C)", or the bare hex. */
static char *
code_words(hr_t code)
{
	const struct error_info *e = error_lookup(code);
	char hex[11];

	if (code == 0)
		return xstrdup("no error code on the line");
	error_format(code, hex);
	return e != NULL ? xasprintf("%s (%s)", e->name, hex) : xstrdup(hex);
}

/* Where a line is: its number means little in a log read from its end. */
static char *
where(const struct wulog_file *f, const struct wulog_hit *hit)
{
	const char *at = hit->time[0] != '\0' ? " at " : "";

	if (f->truncated)
		return xasprintf("line %zu of the last %zu bytes%s%s",
				 hit->line, f->bytes_read, at, hit->time);
	return xasprintf("line %zu%s%s", hit->line, at, hit->time);
}

static cJSON *
hit_json(const struct wulog_hit *hit)
{
	cJSON *d = cJSON_CreateObject();
	char hex[11];

	cJSON_AddNumberToObject(d, "line", (double)hit->line);
	if (hit->time[0] != '\0')
		cJSON_AddStringToObject(d, "time", hit->time);
	else
		cJSON_AddNullToObject(d, "time");
	if (hit->code != 0) {
		error_format(hit->code, hex);
		cJSON_AddStringToObject(d, "code", hex);
	} else {
		cJSON_AddNullToObject(d, "code");
	}
	cJSON_AddStringToObject(d, "text", hit->text);
	cJSON_AddNumberToObject(d, "count", (double)hit->count);
	return d;
}

/* The latest line of a kind as a finding. */
static struct finding *
add_hit(struct check_result *r, const char *id, enum status st,
	const char *what, const struct wulog_file *f,
	const struct wulog_hit *hit)
{
	char *words = code_words(hit->code), *at = where(f, hit);
	struct finding *fd;

	fd =
	    result_add(r, id, st,
		       "%zu line%s with %s in WindowsUpdate.log; the "
		       "latest, %s: %s",
		       hit->count, hit->count == 1 ? "" : "s", what, at, words);
	fd->error = hit->code;
	finding_set_expected(fd, "none");
	finding_set_observed(fd, "%s", hit->text);
	fd->details = hit_json(hit);
	free(words);
	free(at);
	return fd;
}

static struct finding *
add_clean(struct check_result *r, const char *id, const char *what,
	  const struct wulog_file *f)
{
	const struct wulog_summary *s = &f->sum;
	struct finding *fd;

	if (s->first_time[0] != '\0')
		fd = result_add(r, id, ST_PASS,
				"no %s in the %zu lines of WindowsUpdate.log "
				"read (%s to %s)",
				what, s->lines, s->first_time, s->last_time);
	else
		fd = result_add(r, id, ST_PASS,
				"no %s in the %zu lines of WindowsUpdate.log "
				"read",
				what, s->lines);
	finding_set_expected(fd, "none");
	finding_set_observed(fd, "none");
	return fd;
}

static void
judge_proxy(struct check_result *r, const struct wulog_file *f)
{
	const struct wulog_hit *hit = &f->sum.hit[WULOG_PROXY];
	struct finding *fd;

	if (hit->count == 0) {
		add_clean(r, "updatelog.proxy",
			  "proxy or name resolution errors", f);
		return;
	}
	fd = add_hit(r, "updatelog.proxy", ST_FAIL,
		     "proxy or name resolution errors", f, hit);
	svc_set_remedy(
	    fd, NULL,
	    "the agent could not reach its server through the network "
	    "path: follow up with the proxy and server checks. Compare the "
	    "machine's WinHTTP proxy (netsh winhttp show proxy), which the "
	    "agent and BITS use, with the proxy that works for users "
	    "(Internet Options > Connections > LAN Settings), copy a "
	    "working one with netsh winhttp import proxy source=ie "
	    "(proxycfg -u before Windows Vista), make sure the WSUS server's "
	    "name resolves, then run wuauclt /detectnow and read the log "
	    "again");
}

static void
judge_download(struct check_result *r, const struct wulog_file *f)
{
	const struct wulog_hit *hit = &f->sum.hit[WULOG_DOWNLOAD];
	struct finding *fd;

	if (hit->count == 0) {
		add_clean(r, "updatelog.download", "download errors", f);
		return;
	}
	fd = add_hit(r, "updatelog.download", ST_FAIL, "download errors", f,
		     hit);
	svc_set_remedy(fd, NULL,
		       "update content did not arrive through BITS: see the "
		       "bits and bits-jobs checks for the job's own error "
		       "and its diagnosis (a proxy without HTTP range "
		       "support, a server that sends no Content-Length, an "
		       "HTTP status from the server), fix that, then run "
		       "wuauclt /detectnow");
}

static void
judge_errors(struct check_result *r, const struct wulog_file *f)
{
	const struct wulog_hit *hit = &f->sum.hit[WULOG_ERRORS];
	struct finding *fd;

	if (hit->count == 0) {
		add_clean(r, "updatelog.errors", "other error codes", f);
		return;
	}
	fd = add_hit(r, "updatelog.errors", ST_WARN, "other error codes", f,
		     hit);
	if (wulog_classify(hit->code) == WULOG_STORE)
		svc_set_remedy(fd, NULL,
			       "the agent's data store reports damage: see "
			       "the store check, whose remedy rebuilds it");
	else
		svc_set_remedy(fd, NULL,
			       "look the code up (GET /errors/{code}) and "
			       "read the log around that line; a failure the "
			       "agent recovered from later (a scan that "
			       "ends with Exit code = 0x00000000) is not a "
			       "fault");
}

static void
add_time(cJSON *o, const char *key, const char *t)
{
	if (t[0] != '\0')
		cJSON_AddStringToObject(o, key, t);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_facts(struct check_result *r, const char *root, bool root_from_reg,
	  const struct wulog_file *f)
{
	const struct wulog_summary *s = &f->sum;
	cJSON *c;

	cJSON_AddStringToObject(r->facts, "path", f->path);
	cJSON_AddStringToObject(r->facts, "system_root", root);
	cJSON_AddBoolToObject(r->facts, "system_root_from_registry",
			      root_from_reg);
	cJSON_AddBoolToObject(r->facts, "exists", f->hr == HR_OK || !f->absent);
	if (f->hr != HR_OK)
		return;
	cJSON_AddStringToObject(r->facts, "format",
				wulog_format_name(s->format));
	cJSON_AddNumberToObject(r->facts, "lines", (double)s->lines);
	cJSON_AddNumberToObject(r->facts, "bytes_read", (double)f->bytes_read);
	if (f->have_size)
		cJSON_AddNumberToObject(r->facts, "file_bytes",
					(double)f->size);
	else
		cJSON_AddNullToObject(r->facts, "file_bytes");
	cJSON_AddBoolToObject(r->facts, "truncated", f->truncated);
	add_time(r->facts, "first_time", s->first_time);
	add_time(r->facts, "last_time", s->last_time);
	c = cJSON_AddObjectToObject(r->facts, "counts");
	cJSON_AddNumberToObject(c, "proxy", (double)s->hit[WULOG_PROXY].count);
	cJSON_AddNumberToObject(c, "download",
				(double)s->hit[WULOG_DOWNLOAD].count);
	cJSON_AddNumberToObject(c, "store", (double)s->hit[WULOG_STORE].count);
	cJSON_AddNumberToObject(c, "errors",
				(double)s->hit[WULOG_ERRORS].count);
}

static void
updatelog_run(const struct check_ctx *ctx, struct check_result *r)
{
	struct wulog_file f;
	bool from_reg;
	char *root = wu_system_root(ctx->host, &from_reg);

	wulog_read(ctx->host, root, WULOG_READ_MAX, &f);
	add_facts(r, root, from_reg, &f);
	if (f.hr != HR_OK) {
		not_read(r, &f, root);
	} else if (f.sum.format == WULOG_FMT_STUB) {
		placeholder(r, &f, root);
	} else if (f.sum.lines == 0) {
		add_all(r, ST_SKIP, 0,
			"WindowsUpdate.log is empty: there is nothing to look "
			"at");
	} else {
		judge_proxy(r, &f);
		judge_download(r, &f);
		judge_errors(r, &f);
	}
	wulog_file_clear(&f);
	free(root);
}

const struct check check_updatelog = {
    .id = "updatelog",
    .title = "Windows Update log",
    .description = "The end of WindowsUpdate.log (classic or "
		   "Get-WindowsUpdateLog text) has no proxy or download "
		   "errors; other error codes are decoded as leads",
    .seed_section = "Make sure the WSUS server is reachable from the client",
    .time_limit_ms = 15000,
    .run = updatelog_run,
};
