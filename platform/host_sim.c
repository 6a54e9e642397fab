/*
 * host_sim.c: a simulated Windows host, loaded from a JSON file.
 *
 * This comment is the precise reference of the file format; DESIGN.md
 * ("Simulated host file") is its overview. The loader is strict: an
 * unknown key, a wrong type or an unknown name is an error that names its
 * JSON path ("services.BITS.start_type: unknown value ..."). Every key is
 * optional unless marked (required). Names of services, programs,
 * volumes, registry keys and values and file paths are case-insensitive
 * and must be unique so; the schema's own keys are written exactly.
 * CODE below is a Win32 error number (0..65535); HEX is an HRESULT as a
 * number or a "0x..." string; TIME is RFC 3339 ("2026-11-20T10:00:00Z").
 *
 * computer (required): { name (required), os_version (required),
 *     machine_guid }. Without machine_guid, MachineGuid under
 *     HKLM\SOFTWARE\Microsoft\Cryptography is reported, as on Windows.
 *
 * services: { NAME: {
 *     type: "share" (default) | "own" | "kernel" | "filesystem",
 *     interactive: bool (adds SERVICE_INTERACTIVE_PROCESS),
 *     state: "stopped" (default) | "start_pending" | "stop_pending" |
 *            "running" | "continue_pending" | "pause_pending" | "paused",
 *     start_type: "boot" | "system" | "auto" | "demand" (default) |
 *                 "disabled",
 *     delayed_auto_start: bool, display_name (default NAME),
 *     account (default "LocalSystem"), binary_path,
 *     dependencies: [names; "+Group" for a load-order group],
 *     error_control: "ignore" | "normal" (default) | "severe" | "critical",
 *     required_privileges: [..],
 *     sid_type: "none" (default) | "unrestricted" | "restricted",
 *     failure_actions: { reset_s, actions: [ { type: "none" | "restart" |
 *                        "reboot" | "run_command", delay_ms } ] },
 *     exit_code: a number, reported as win32_exit_code,
 *     service_exit_code: HEX (with exit_code 1066),
 *     pid: the process id while not stopped (default derived from the
 *          service's position; a start assigns a new one),
 *     fault: { query, config2, start, stop, config: CODE returned by
 *              QueryServiceStatusEx/QueryServiceConfigW, every
 *              QueryServiceConfig2W level, StartServiceW, ControlService
 *              stop, ChangeServiceConfig(2)W;
 *              config_ops: { FIELD: CODE }: one field's change fails,
 *              so a test can fail exactly one step of a repair. FIELD
 *              is type, start_type, error_control, binary_path,
 *              account, dependencies (a ChangeServiceConfigW that sets
 *              it fails, nothing changed; the first such field in this
 *              order decides the code) or delayed_auto_start,
 *              failure_actions, sid_type, required_privileges (that
 *              ChangeServiceConfig2W level fails; 124 is what Wine
 *              answers for the levels it lacks); config wins over it;
 *              hang_start, hang_stop: bool: the call succeeds but the
 *              service stays START_PENDING / STOP_PENDING;
 *              exit_on_start: CODE: StartServiceW succeeds and the
 *              service stops at once with that exit code (with 1066,
 *              its service_exit_code says why);
 *              delay_ms: every operation on the service sleeps first } } }
 *
 *   A start mirrors the SCM: a missing service is 1060, disabled 1058,
 *   not stopped 1056; each dependency must exist (1075) and not be
 *   disabled (1068) and is started first when stopped (recursively; its
 *   failure is 1068). A svchost service ("svchost.exe ... -k GROUP") must
 *   be listed in REG_MULTI_SZ GROUP under HKLM\SOFTWARE\Microsoft\Windows
 *   NT\CurrentVersion\Svchost (1083) and have a ServiceDll under
 *   HKLM\SYSTEM\CurrentControlSet\Services\NAME\Parameters (or the
 *   service key itself) (2); such failures are also recorded as the
 *   service's exit_code. Success sets "running", exit_code 0 and a pid.
 *   A start of wuauserv that reaches running also does what the update
 *   agent does when its service starts: with no files entry at or below
 *   %SystemRoot%\SoftwareDistribution (SystemRoot from HKLM\SOFTWARE\
 *   Microsoft\Windows NT\CurrentVersion, else C:\Windows) it creates
 *   the folder, DataStore, DataStore\DataStore.edb (size 1048576) and
 *   Download, mtime and created now (a renamed store is rebuilt); with no
 *   SusClientId under HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\
 *   WindowsUpdate it writes a new random GUID there (REG_SZ, no braces)
 *   and a 40-byte random REG_BINARY SusClientIdValidation (its real
 *   content is the agent's; here only type and presence are modelled).
 *   PingID and AccountDomainSid are not written.
 *   Stopping a stopped service is 1062, a pending one 1061 (the SCM's
 *   ERROR_SERVICE_CANNOT_ACCEPT_CTRL); interrogating a stopped one 1062;
 *   other controls 1052. States are reached at once; only hang_* or a
 *   pending state in the file keep a service pending (a hung service).
 *   Configuration changes refuse (87) unknown numbers, boot/system start
 *   for a Win32 service and "interactive" for a driver.
 *
 * registry: { "HKLM\\KEY\\PATH": { VALUE: a string (REG_SZ) | an integer
 *     (REG_DWORD) | { type: "REG_SZ" | "REG_EXPAND_SZ" | "REG_MULTI_SZ" |
 *     "REG_DWORD" | "REG_QWORD" | "REG_BINARY", data } } }. data is a
 *     string, an array of strings, a number (a QWORD also a "0x..."
 *     string) or for REG_BINARY a hex string. A typed value may carry
 *     fault: { delete: CODE }: deleting that value fails (a registry
 *     filter, such as a security product's, guarding one value); a
 *     reg_set replaces the value and its fault. Roots: HKLM, HKCU, HKCR,
 *     HKU, HKCC or their HKEY_* long names. The default value is "".
 *     The ancestors of a key exist too (without values). A key with
 *     subkeys cannot be deleted (5). A missing key or value is 2, a root
 *     that is none of these 6 (ERROR_INVALID_HANDLE).
 *
 * files: { "C:\\PATH": { type: "file" (default) | "dir", version:
 *     "a.b.c.d", size, mtime: TIME, created: TIME, text: inline content,
 *     text_file: content from a file relative to the host file's
 *     directory, fault: { rename, read: CODE } } }. created is the
 *     creation time GetFileAttributesExW reports; without it (and for
 *     the implicit directories above entries) it is unknown, 0 in
 *     file_info, never derived from mtime. The directories above an entry
 *     exist too. '/' and '\' are the same separator. A rename moves the
 *     entry and everything under it, times unchanged (as a rename on one
 *     NTFS volume keeps them); it fails with the fault.rename of
 *     the source or of anything under it (an open file keeps its folder
 *     from being renamed), 183 when the target exists, 3 when the
 *     target's folder does not, 17 across drives, 87 into itself. A
 *     missing path is 2. file_version without a version is 1813
 *     (ERROR_RESOURCE_TYPE_NOT_FOUND); file_read_text of a folder is 5;
 *     text is UTF-8, text_file may also be UTF-16 with a BOM.
 *
 * volumes: { "C:": { free_bytes (required), total_bytes (required) } };
 *     disk_free of a path on no volume is 3.
 * programs: { "gpupdate.exe": { exit_code, output, delay_ms, hang,
 *     registry } }: argv[0] matches with or without ".exe"; a run longer
 *     than the timeout (or hang) is timed_out with exit code 258
 *     (WAIT_TIMEOUT) and no output; an unknown program is 2. registry
 *     has the form of the top-level registry: the values the program
 *     writes when it exits 0 in time (gpupdate: what the domain's policy
 *     holds), each as by reg_set; a failed write is the run's error.
 *     Every run is appended to program_log: [ { argv: [..], time } ].
 * wua: { detect_now: HEX returned by IAutomaticUpdates::DetectNow
 *     ("0x80040154": an agent without the COM class) }. Without it (or
 *     with 0) DetectNow activates the agent's COM server in wuauserv:
 *     0x80070424 when the service is missing, 0x80070422 when disabled;
 *     a stopped wuauserv is started as by service_start (its errors are
 *     the call's); then it succeeds. Every call is appended to
 *     program_log as { api: "IAutomaticUpdates::DetectNow", time } (an
 *     entry has argv or api).
 * winhttp_proxy, ie_proxy: { proxy, bypass, auto_config_url: string or
 *     null, auto_detect: bool }.
 * trust: { ca_file }: the machine's trust store for network probes (a
 *     PEM file of CA certificates, relative to the host file's
 *     directory): a probe that names no ca_file of its own verifies
 *     servers against it instead of this system's store, so a test can
 *     make the host trust its test CA. Probes are otherwise real.
 * applied_gpos: [ names ].
 * bits_jobs: [ { id, name, owner, url, state: "queued" | "connecting" |
 *     "transferring" | "suspended" | "error" | "transient_error" |
 *     "transferred" | "acknowledged" | "cancelled", error: HEX } ]. As
 *     with COM activation, a host without BITS has no job manager
 *     (0x80040154) and a disabled BITS is 0x80070422.
 * events: [ { log (required), id, level: "critical" | "error" |
 *     "warning" | "information", time: TIME, code: HEX, message } ];
 *     events(log) returns that log's records, newest first (of two at
 *     the same time the later in the file first).
 * fault: { rename, registry_write, registry_read, programs, bits,
 *     events: CODE for that operation family; registry_write_keys:
 *     { "HKLM\\KEY": CODE }: setting or deleting a value of exactly
 *     that key, or deleting it, fails (a key whose ACL denies writing;
 *     registry_write wins); delay_ms: every operation sleeps first }.
 *
 * With writeback every change is written back to the file at once
 * (path.tmp, fsync, rename), so the file is always a loadable host.
 */
#include "platform/host_sim.h"
#include "platform/host_sim_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "common/xalloc.h"
#include "platform/probe.h"
#include "platform/thread.h"

/* ---- name tables ------------------------------------------------------- */

const struct sim_name sim_svc_types[] = {
    {"share", SVC_TYPE_SHARE_PROCESS},
    {"own", SVC_TYPE_OWN_PROCESS},
    {"kernel", SVC_TYPE_KERNEL_DRIVER},
    {"filesystem", SVC_TYPE_FS_DRIVER},
    {NULL, 0},
};

const struct sim_name sim_svc_states[] = {
    {"stopped", SVC_STOPPED},
    {"start_pending", SVC_START_PENDING},
    {"stop_pending", SVC_STOP_PENDING},
    {"running", SVC_RUNNING},
    {"continue_pending", SVC_CONTINUE_PENDING},
    {"pause_pending", SVC_PAUSE_PENDING},
    {"paused", SVC_PAUSED},
    {NULL, 0},
};

const struct sim_name sim_svc_starts[] = {
    {"boot", SVC_BOOT_START},	{"system", SVC_SYSTEM_START},
    {"auto", SVC_AUTO_START},	{"demand", SVC_DEMAND_START},
    {"disabled", SVC_DISABLED}, {NULL, 0},
};

const struct sim_name sim_svc_errctl[] = {
    {"ignore", SVC_ERROR_IGNORE},
    {"normal", SVC_ERROR_NORMAL},
    {"severe", SVC_ERROR_SEVERE},
    {"critical", SVC_ERROR_CRITICAL},
    {NULL, 0},
};

const struct sim_name sim_sid_types[] = {
    {"none", SVC_SID_NONE},
    {"unrestricted", SVC_SID_UNRESTRICTED},
    {"restricted", SVC_SID_RESTRICTED},
    {NULL, 0},
};

const struct sim_name sim_action_types[] = {
    {"none", SVC_ACTION_NONE},
    {"restart", SVC_ACTION_RESTART},
    {"reboot", SVC_ACTION_REBOOT},
    {"run_command", SVC_ACTION_RUN_COMMAND},
    {NULL, 0},
};

const struct sim_name sim_reg_types[] = {
    {"REG_SZ", REGT_SZ},
    {"REG_EXPAND_SZ", REGT_EXPAND_SZ},
    {"REG_MULTI_SZ", REGT_MULTI_SZ},
    {"REG_DWORD", REGT_DWORD},
    {"REG_QWORD", REGT_QWORD},
    {"REG_BINARY", REGT_BINARY},
    {NULL, 0},
};

const struct sim_name sim_job_states[] = {
    {"queued", BITS_QUEUED},
    {"connecting", BITS_CONNECTING},
    {"transferring", BITS_TRANSFERRING},
    {"suspended", BITS_SUSPENDED},
    {"error", BITS_ERROR},
    {"transient_error", BITS_TRANSIENT_ERROR},
    {"transferred", BITS_TRANSFERRED},
    {"acknowledged", BITS_ACKNOWLEDGED},
    {"cancelled", BITS_CANCELLED},
    {NULL, 0},
};

const struct sim_name sim_event_levels[] = {
    {"critical", EVL_CRITICAL},
    {"error", EVL_ERROR},
    {"warning", EVL_WARNING},
    {"information", EVL_INFO},
    {NULL, 0},
};

bool
sim_name_value(const struct sim_name *t, const char *name, uint32_t *out)
{
	for (; name != NULL && t->name != NULL; t++) {
		if (strcmp(t->name, name) == 0) {
			*out = t->value;
			return true;
		}
	}
	return false;
}

const char *
sim_name_of(const struct sim_name *t, uint32_t value)
{
	for (; t->name != NULL; t++)
		if (t->value == value)
			return t->name;
	return NULL;
}

char *
sim_name_list(const struct sim_name *t)
{
	char *s = xstrdup(""), *next;

	for (; t->name != NULL; t++) {
		next = xasprintf("%s%s%s", s, *s != '\0' ? ", " : "", t->name);
		free(s);
		s = next;
	}
	return s;
}

/* ---- JSON helpers ------------------------------------------------------ */

bool
sim_num_u64(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	/* 2^64; NaN fails the first comparison. */
	if (!(d >= 0) || d >= 18446744073709551616.0 ||
	    (double)(uint64_t)d != d)
		return false;
	*out = (uint64_t)d;
	return true;
}

bool
sim_code(const cJSON *v, uint32_t *out)
{
	const char *s;
	uint64_t n;
	char *end;

	if (cJSON_IsNumber(v)) {
		if (!sim_num_u64(v, &n) || n > UINT32_MAX)
			return false;
	} else if (cJSON_IsString(v)) {
		s = v->valuestring;
		if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
		    strlen(s + 2) == 0 || strlen(s + 2) > 8 ||
		    strspn(s + 2, "0123456789abcdefABCDEF") != strlen(s + 2))
			return false;
		n = strtoull(s + 2, &end, 16);
	} else {
		return false;
	}
	*out = (uint32_t)n;
	return true;
}

static bool
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
sim_parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;

	if (s == NULL || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
		if (p == s + 20)
			return false;
	}
	if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !digits(p + 4, 2, &om) || p[6] != '\0' || oh > 23 ||
		    om > 59)
			return false;
	} else if ((*p != 'Z' && *p != 'z') || p[1] != '\0') {
		return false;
	}
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return true;
}

const char *
sim_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool
sim_bool(const cJSON *obj, const char *key, bool dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

uint64_t
sim_u64(const cJSON *obj, const char *key, uint64_t dflt)
{
	uint64_t n;

	return sim_num_u64(cJSON_GetObjectItemCaseSensitive(obj, key), &n)
		   ? n
		   : dflt;
}

cJSON *
sim_child(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) && key != NULL
		   ? cJSON_GetObjectItem(obj, key)
		   : NULL;
}

void
sim_set(cJSON *obj, const char *key, cJSON *item)
{
	cJSON *old = sim_child(obj, key);
	size_t n;

	if (old == NULL) {
		cJSON_AddItemToObject(obj, key, item);
		return;
	}
	/* ReplaceItemViaPointer keeps the place, not the name. */
	n = strlen(old->string) + 1;
	item->string = cJSON_malloc(n);
	if (item->string == NULL)
		abort();
	memcpy(item->string, old->string, n);
	item->type &= ~cJSON_StringIsConst;
	cJSON_ReplaceItemViaPointer(obj, old, item);
}

cJSON *
sim_obj(cJSON *obj, const char *key)
{
	cJSON *o = sim_child(obj, key);

	if (!cJSON_IsObject(o)) {
		o = cJSON_CreateObject();
		sim_set(obj, key, o);
	}
	return o;
}

void
sim_strlist(const cJSON *arr, struct strlist *out)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
	{
		if (cJSON_IsString(it))
			strlist_add(out, it->valuestring);
	}
}

cJSON *
sim_strlist_json(const struct strlist *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; l != NULL && i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

/* ---- locking, faults, writeback --------------------------------------- */

struct sim *
sim_of(struct host *h)
{
	return (struct sim *)h;
}

void
sim_begin(struct sim *s, const char *service)
{
	const cJSON *svc;
	uint64_t ms;

	plat_mutex_lock(s->mu);
	ms = sim_u64(sim_child(s->doc, "fault"), "delay_ms", 0);
	if (service != NULL) {
		svc = sim_child(sim_child(s->doc, "services"), service);
		ms += sim_u64(sim_child(svc, "fault"), "delay_ms", 0);
	}
	if (ms == 0)
		return;
	plat_mutex_unlock(s->mu);
	plat_sleep_ms(ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
	plat_mutex_lock(s->mu);
}

void
sim_end(struct sim *s)
{
	plat_mutex_unlock(s->mu);
}

hr_t
sim_fault(const struct sim *s, const char *key)
{
	uint64_t code = sim_u64(sim_child(s->doc, "fault"), key, 0);

	return hr_from_win32((uint32_t)code);
}

static int
sync_file(FILE *fp)
{
	if (fflush(fp) != 0)
		return -1;
#ifdef _WIN32
	return _commit(_fileno(fp));
#else
	return fsync(fileno(fp));
#endif
}

/* Write to path.tmp and rename it, so a reader never sees half a host. */
static int
write_atomic(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	size_t len = strlen(text);
	int rc = -1;
	FILE *fp;

	if ((fp = fopen(tmp, "wb")) == NULL)
		goto out;
	if (fwrite(text, 1, len, fp) != len || fputc('\n', fp) == EOF ||
	    sync_file(fp) != 0) {
		fclose(fp);
		remove(tmp);
		goto out;
	}
	if (fclose(fp) != 0) {
		remove(tmp);
		goto out;
	}
#ifdef _WIN32
	/* rename() does not replace on Windows. */
	remove(path);
#endif
	if (rename(tmp, path) != 0) {
		remove(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

hr_t
sim_commit(struct sim *s)
{
	char *text;
	int rc;

	if (!s->writeback)
		return HR_OK;
	text = cJSON_Print(s->doc);
	if (text == NULL)
		return hr_from_win32(SIM_ERROR_WRITE_FAULT);
	rc = write_atomic(s->path, text);
	cJSON_free(text);
	/* The change stands in memory; the caller learns the file lags. */
	return rc == 0 ? HR_OK : hr_from_win32(SIM_ERROR_WRITE_FAULT);
}

/* ---- computer, proxies, policy, BITS jobs, events ---------------------- */

hr_t
sim_computer(struct host *h, struct computer_info *out)
{
	struct sim *s = sim_of(h);
	const cJSON *c, *key;
	struct reg_value v = {0};
	const char *guid, *why;

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	c = sim_child(s->doc, "computer");
	out->name = xstrdup_null(sim_str(c, "name"));
	out->os_version = xstrdup_null(sim_str(c, "os_version"));
	guid = sim_str(c, "machine_guid");
	if (guid == NULL) {
		key = sim_reg_key(s, "HKLM\\SOFTWARE\\Microsoft\\Cryptography");
		if (sim_reg_decode(sim_child(key, "MachineGuid"), &v, &why) &&
		    v.type == REGT_SZ)
			guid = v.str;
	}
	out->machine_guid = xstrdup_null(guid);
	reg_value_clear(&v);
	sim_end(s);
	return HR_OK;
}

static hr_t
proxy(struct host *h, const char *which, struct proxy_config *out)
{
	struct sim *s = sim_of(h);
	const cJSON *p;

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	p = sim_child(s->doc, which);
	out->proxy = xstrdup_null(sim_str(p, "proxy"));
	out->bypass = xstrdup_null(sim_str(p, "bypass"));
	out->auto_config_url = xstrdup_null(sim_str(p, "auto_config_url"));
	out->auto_detect = sim_bool(p, "auto_detect", false);
	sim_end(s);
	return HR_OK;
}

hr_t
sim_winhttp_proxy(struct host *h, struct proxy_config *out)
{
	return proxy(h, "winhttp_proxy", out);
}

hr_t
sim_ie_proxy(struct host *h, struct proxy_config *out)
{
	return proxy(h, "ie_proxy", out);
}

hr_t
sim_applied_gpos(struct host *h, struct strlist *out)
{
	struct sim *s = sim_of(h);

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	sim_strlist(sim_child(s->doc, "applied_gpos"), out);
	sim_end(s);
	return HR_OK;
}

/* What CoCreateInstance(BackgroundCopyManager) says about BITS. */
static hr_t
bits_manager(const struct sim *s)
{
	const cJSON *svc = sim_child(sim_child(s->doc, "services"), "BITS");
	uint32_t start = SVC_DEMAND_START;
	const char *name;

	if (svc == NULL)
		return SIM_HR_CLASS_NOT_REG;
	if ((name = sim_str(svc, "start_type")) != NULL)
		sim_name_value(sim_svc_starts, name, &start);
	if (start == SVC_DISABLED)
		return hr_from_win32(WIN32_SERVICE_DISABLED);
	return HR_OK;
}

static void
bits_job(const cJSON *j, size_t i, struct bits_job *out)
{
	const char *id = sim_str(j, "id"), *owner = sim_str(j, "owner");
	uint32_t v = BITS_QUEUED;

	/* A stable made-up GUID for jobs the file gives no id. */
	out->id = id != NULL
		      ? xstrdup(id)
		      : xasprintf("{5157D000-0000-4000-8000-%012zX}", i + 1);
	out->name = xstrdup(sim_str(j, "name") ? sim_str(j, "name") : "");
	out->owner = xstrdup(owner != NULL ? owner : "NT AUTHORITY\\SYSTEM");
	out->url = xstrdup(sim_str(j, "url") ? sim_str(j, "url") : "");
	if (sim_str(j, "state") != NULL)
		sim_name_value(sim_job_states, sim_str(j, "state"), &v);
	out->state = (enum bits_job_state)v;
	v = 0;
	sim_code(cJSON_GetObjectItemCaseSensitive(j, "error"), &v);
	out->error = v;
}

hr_t
sim_bits_jobs(struct host *h, struct bits_jobs *out)
{
	struct sim *s = sim_of(h);
	const cJSON *jobs, *j;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	if ((hr = sim_fault(s, "bits")) != HR_OK ||
	    (hr = bits_manager(s)) != HR_OK)
		goto out;
	jobs = sim_child(s->doc, "bits_jobs");
	if (cJSON_GetArraySize(jobs) > 0)
		out->v =
		    xcalloc((size_t)cJSON_GetArraySize(jobs), sizeof(*out->v));
	cJSON_ArrayForEach(j, jobs)
	{
		bits_job(j, out->n, &out->v[out->n]);
		out->n++;
	}
out:
	sim_end(s);
	return hr;
}

struct ev_sort {
	struct event_record rec;
	size_t index;
};

/* Newest first; of two at the same second, the later in the file. */
static int
ev_cmp(const void *a, const void *b)
{
	const struct ev_sort *x = a, *y = b;

	if (x->rec.time != y->rec.time)
		return x->rec.time < y->rec.time ? 1 : -1;
	return x->index < y->index ? 1 : -1;
}

static void
ev_record(const cJSON *e, struct event_record *r)
{
	uint32_t v = 0;

	r->log = xstrdup(sim_str(e, "log"));
	r->id = (uint32_t)sim_u64(e, "id", 0);
	r->level = EVL_INFO;
	if (sim_str(e, "level") != NULL &&
	    sim_name_value(sim_event_levels, sim_str(e, "level"), &v))
		r->level = (enum event_level)v;
	sim_parse_time(sim_str(e, "time"), &r->time);
	v = 0;
	sim_code(cJSON_GetObjectItemCaseSensitive(e, "code"), &v);
	r->code = v;
	r->message =
	    xstrdup(sim_str(e, "message") ? sim_str(e, "message") : "");
}

hr_t
sim_events(struct host *h, const char *log, size_t max, struct event_list *out)
{
	struct sim *s = sim_of(h);
	struct ev_sort *all = NULL;
	const cJSON *evs, *e;
	size_t n = 0, i = 0;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	if ((hr = sim_fault(s, "events")) != HR_OK || log == NULL)
		goto out;
	evs = sim_child(s->doc, "events");
	all = xcalloc((size_t)cJSON_GetArraySize(evs) + 1, sizeof(*all));
	cJSON_ArrayForEach(e, evs)
	{
		const char *l = sim_str(e, "log");

		if (l != NULL && strcasecmp(l, log) == 0) {
			ev_record(e, &all[n].rec);
			all[n++].index = i;
		}
		i++;
	}
	qsort(all, n, sizeof(*all), ev_cmp);
	/* An empty result owns nothing, whatever the caller then does. */
	out->v = n > 0 ? xcalloc(n, sizeof(*out->v)) : NULL;
	for (i = 0; i < n; i++) {
		if (i < max)
			out->v[out->n++] = all[i].rec;
		else {
			free(all[i].rec.log);
			free(all[i].rec.message);
		}
	}
out:
	free(all);
	sim_end(s);
	return hr;
}

/*
 * What activating the agent's COM server says: wua.detect_now when set
 * (and not 0), else what the SCM says about wuauserv, which hosts it.
 * *start: the service is stopped and COM would start it.
 */
static hr_t
wua_activate(const struct sim *s, bool *start)
{
	const cJSON *svc = sim_child(sim_child(s->doc, "services"), "wuauserv");
	const cJSON *fixed = sim_child(sim_child(s->doc, "wua"), "detect_now");
	uint32_t v = 0;
	const char *name;

	*start = false;
	if (fixed != NULL && sim_code(fixed, &v) && v != 0)
		return v;
	if (svc == NULL)
		return hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST);
	v = SVC_DEMAND_START;
	if ((name = sim_str(svc, "start_type")) != NULL)
		sim_name_value(sim_svc_starts, name, &v);
	if (v == SVC_DISABLED)
		return hr_from_win32(WIN32_SERVICE_DISABLED);
	v = SVC_STOPPED;
	if ((name = sim_str(svc, "state")) != NULL)
		sim_name_value(sim_svc_states, name, &v);
	*start = v == SVC_STOPPED;
	return HR_OK;
}

static void
log_api_call(struct sim *s, const char *api)
{
	cJSON *call = cJSON_CreateObject(), *log;
	char iso[32];

	plat_utc_iso(iso);
	cJSON_AddStringToObject(call, "api", api);
	cJSON_AddStringToObject(call, "time", iso);
	log = cJSON_GetObjectItemCaseSensitive(s->doc, "program_log");
	if (!cJSON_IsArray(log)) {
		log = cJSON_CreateArray();
		sim_set(s->doc, "program_log", log);
	}
	cJSON_AddItemToArray(log, call);
}

static hr_t
sim_wu_detect_now(struct host *h)
{
	struct sim *s = sim_of(h);
	bool start;
	hr_t hr;

	sim_begin(s, NULL);
	hr = wua_activate(s, &start);
	log_api_call(s, "IAutomaticUpdates::DetectNow");
	/* As for programs: the log is for tests, not the call's outcome. */
	(void)sim_commit(s);
	sim_end(s);
	/* The SCM starts the server's service for COM, with its rules. */
	if (hr == HR_OK && start)
		hr = sim_service_start(h, "wuauserv");
	return hr;
}

/*
 * The registry values a program writes when it succeeds (gpupdate: what
 * the domain's policy holds), in the document's form; NULL for none.
 */
static cJSON *
program_writes(struct sim *s, const char *argv0)
{
	const cJSON *p, *reg = NULL;

	sim_begin(s, NULL);
	cJSON_ArrayForEach(p, sim_child(s->doc, "programs"))
	{
		if (sim_program_eq(p->string, argv0)) {
			reg = sim_child(p, "registry");
			break;
		}
	}
	reg = reg != NULL ? cJSON_Duplicate(reg, 1) : NULL;
	sim_end(s);
	return (cJSON *)reg;
}

static hr_t
write_values(struct host *h, const cJSON *reg)
{
	const cJSON *key, *val;
	struct reg_value rv;
	const char *why;
	hr_t hr = HR_OK;

	cJSON_ArrayForEach(key, reg)
	{
		cJSON_ArrayForEach(val, key)
		{
			memset(&rv, 0, sizeof(rv));
			/* The loader checked the form already. */
			if (sim_reg_decode(val, &rv, &why))
				hr = sim_reg_set(h, key->string, val->string,
						 &rv);
			reg_value_clear(&rv);
			if (hr != HR_OK)
				return hr;
		}
	}
	return HR_OK;
}

/* Run a program, then apply what it writes when it exited 0 in time. */
static hr_t
sim_run_program_writes(struct host *h, const char *const *argv,
		       uint32_t timeout_ms, struct prog_result *out)
{
	cJSON *reg;
	hr_t hr;

	hr = sim_run_program(h, argv, timeout_ms, out);
	if (hr != HR_OK || out->timed_out || out->exit_code != 0)
		return hr;
	if ((reg = program_writes(sim_of(h), argv[0])) == NULL)
		return HR_OK;
	if ((hr = write_values(h, reg)) != HR_OK)
		prog_result_clear(out);
	cJSON_Delete(reg);
	return hr;
}

/* Network probes are real on the simulated host too, with its trust. */
static hr_t
sim_http_probe(struct host *h, const struct probe_request *req,
	       struct probe_result *out)
{
	struct sim *s = sim_of(h);
	struct probe_request r = *req;
	const char *ca;
	char *path = NULL;
	hr_t hr;

	sim_begin(s, NULL);
	ca = sim_str(sim_child(s->doc, "trust"), "ca_file");
	if (ca != NULL && r.ca_file == NULL)
		r.ca_file = path = sim_join(s->dir, ca);
	sim_end(s);
	hr = plat_http_probe(&r, out);
	free(path);
	return hr;
}

/* ---- open, close, snapshot --------------------------------------------- */

static void sim_close(struct host *h);

static const struct host_ops sim_ops = {
    .kind = "sim",
    .computer = sim_computer,
    .service_status = sim_service_status,
    .service_config = sim_service_config,
    .service_delayed_auto = sim_service_delayed_auto,
    .service_failure_actions = sim_service_failure_actions,
    .service_sid_type = sim_service_sid_type,
    .service_privileges = sim_service_privileges,
    .service_start = sim_service_start,
    .service_control = sim_service_control,
    .service_change_config = sim_service_change_config,
    .service_set_delayed_auto = sim_service_set_delayed_auto,
    .service_set_failure_actions = sim_service_set_failure_actions,
    .service_set_sid_type = sim_service_set_sid_type,
    .service_set_privileges = sim_service_set_privileges,
    .reg_get = sim_reg_get,
    .reg_set = sim_reg_set,
    .reg_delete_value = sim_reg_delete_value,
    .reg_delete_key = sim_reg_delete_key,
    .file_stat = sim_file_stat,
    .file_rename = sim_file_rename,
    .file_version = sim_file_version,
    .file_read_text = sim_file_read_text,
    .disk_free = sim_disk_free,
    .run_program = sim_run_program_writes,
    .winhttp_proxy = sim_winhttp_proxy,
    .ie_proxy = sim_ie_proxy,
    .applied_gpos = sim_applied_gpos,
    .wu_detect_now = sim_wu_detect_now,
    .bits_jobs = sim_bits_jobs,
    .events = sim_events,
    .http_probe = sim_http_probe,
    .close = sim_close,
};

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

#ifdef _WIN32
	const char *bs = strrchr(path, '\\');

	if (bs != NULL && (slash == NULL || bs > slash))
		slash = bs;
#endif
	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xasprintf("%.*s", (int)(slash - path), path);
}

struct host *
host_sim_open(const char *path, bool writeback, char *err, size_t errlen)
{
	struct sim *s = NULL;
	char *text = NULL, *dir = NULL;
	cJSON *doc = NULL;
	size_t len;

	if (path == NULL || (text = sim_slurp(path, &len)) == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s",
			 path != NULL ? path : "(null)", strerror(errno));
		goto out;
	}
	if ((doc = host_sim_parse(text, len, path, err, errlen)) == NULL)
		goto out;
	dir = dir_of(path);
	if (sim_check_text_files(doc, dir, path, err, errlen) != 0)
		goto out;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &sim_ops;
	s->mu = plat_mutex_new();
	s->doc = doc;
	s->path = xstrdup(path);
	s->dir = dir;
	s->writeback = writeback;
	doc = NULL;
	dir = NULL;
out:
	cJSON_Delete(doc);
	free(dir);
	free(text);
	return s != NULL ? &s->base : NULL;
}

static void
sim_close(struct host *h)
{
	struct sim *s = sim_of(h);

	plat_mutex_free(s->mu);
	cJSON_Delete(s->doc);
	free(s->path);
	free(s->dir);
	free(s);
}

struct cJSON *
host_sim_snapshot(struct host *h)
{
	struct sim *s;
	cJSON *copy;

	if (h == NULL || h->ops != &sim_ops)
		return NULL;
	s = sim_of(h);
	plat_mutex_lock(s->mu);
	copy = cJSON_Duplicate(s->doc, 1);
	plat_mutex_unlock(s->mu);
	return copy;
}
