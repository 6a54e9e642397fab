/*
 * host_smoke.c: run every operation of the Win32 host once and print
 * what it returned, one JSON object per line:
 *
 *   {"op":"service_status","arg":"BITS","hr":"0x00000000","result":{...}}
 *
 * For Wine (or a Windows VM): it shows which calls the platform
 * implements and which error each of the others returns. It touches only
 * BITS (started and stopped, its configuration written back unchanged,
 * one job of its own added and cancelled, and left running or stopped as
 * it was found), HKLM\SOFTWARE\wsusdiag-smoke, HKCU\Software\
 * wsusdiag-smoke and C:\wsusdiag-smoke, which it removes again, and
 * copies itself to System32 as wsusdiag-argv.exe to check how the
 * runner's command lines split.
 *
 *   host_smoke.exe [--probe URL]...    the run
 *   host_smoke.exe --print-args ...    (the copy) print its argv as JSON
 *
 * The exit status is 0 unless the host cannot be opened or the run
 * itself is broken; an operation's error is output, not a failure.
 */
#define COBJMACROS
#include <windows.h>

#include <bits.h>
#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "platform/host.h"

#define ROOT_DIR   "C:\\wsusdiag-smoke"
#define SMOKE_KEY  "HKLM\\SOFTWARE\\wsusdiag-smoke"
#define ARGV_EXE   "wsusdiag-argv.exe"
#define ARGV_EXE_W L"wsusdiag-argv.exe"

static struct host *H;

static void
emit(const char *op, const char *arg, hr_t hr, cJSON *result)
{
	cJSON *o = cJSON_CreateObject();
	char code[11], *text;

	snprintf(code, sizeof(code), "0x%08lX", (unsigned long)hr);
	cJSON_AddStringToObject(o, "op", op);
	if (arg != NULL)
		cJSON_AddStringToObject(o, "arg", arg);
	else
		cJSON_AddNullToObject(o, "arg");
	cJSON_AddStringToObject(o, "hr", code);
	cJSON_AddItemToObject(o, "result",
			      result != NULL ? result : cJSON_CreateNull());
	text = cJSON_PrintUnformatted(o);
	printf("%s\n", text);
	fflush(stdout);
	cJSON_free(text);
	cJSON_Delete(o);
}

static cJSON *
str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *
list_json(const struct strlist *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

static cJSON *
status_json(const struct svc_status *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "type", s->type);
	cJSON_AddNumberToObject(o, "state", s->state);
	cJSON_AddNumberToObject(o, "controls_accepted", s->controls_accepted);
	cJSON_AddNumberToObject(o, "win32_exit_code", s->win32_exit_code);
	cJSON_AddNumberToObject(o, "service_exit_code", s->service_exit_code);
	cJSON_AddBoolToObject(o, "has_pid", s->pid != 0);
	return o;
}

/* ---- computer and services --------------------------------------------- */

static void
computer(void)
{
	struct computer_info c = {0};
	hr_t hr = H->ops->computer(H, &c);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "name", str_or_null(c.name));
	cJSON_AddItemToObject(o, "os_version", str_or_null(c.os_version));
	cJSON_AddItemToObject(o, "machine_guid", str_or_null(c.machine_guid));
	emit("computer", NULL, hr, o);
	computer_info_clear(&c);
}

static void
service_queries(const char *name, struct svc_config *cfg_out,
		struct svc_failure_actions *fa_out)
{
	struct svc_status st;
	struct svc_config cfg = {0};
	struct svc_failure_actions fa = {0};
	struct strlist privs = {0};
	enum svc_sid_type sid;
	bool delayed;
	cJSON *o, *a, *x;
	hr_t hr;

	hr = H->ops->service_status(H, name, &st);
	emit("service_status", name, hr, hr == HR_OK ? status_json(&st) : NULL);
	hr = H->ops->service_config(H, name, &cfg);
	o = NULL;
	if (hr == HR_OK) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "type", cfg.type);
		cJSON_AddNumberToObject(o, "start_type", cfg.start_type);
		cJSON_AddNumberToObject(o, "error_control", cfg.error_control);
		cJSON_AddStringToObject(o, "binary_path", cfg.binary_path);
		cJSON_AddStringToObject(o, "account", cfg.account);
		cJSON_AddStringToObject(o, "display_name", cfg.display_name);
		cJSON_AddItemToObject(o, "dependencies",
				      list_json(&cfg.dependencies));
	}
	emit("service_config", name, hr, o);
	hr = H->ops->service_delayed_auto(H, name, &delayed);
	emit("service_delayed_auto", name, hr,
	     hr == HR_OK ? cJSON_CreateBool(delayed) : NULL);
	hr = H->ops->service_failure_actions(H, name, &fa);
	o = NULL;
	if (hr == HR_OK) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "reset_s", fa.reset_s);
		a = cJSON_AddArrayToObject(o, "actions");
		for (size_t i = 0; i < fa.n; i++) {
			x = cJSON_CreateObject();
			cJSON_AddNumberToObject(x, "type", fa.actions[i].type);
			cJSON_AddNumberToObject(x, "delay_ms",
						fa.actions[i].delay_ms);
			cJSON_AddItemToArray(a, x);
		}
	}
	emit("service_failure_actions", name, hr, o);
	hr = H->ops->service_sid_type(H, name, &sid);
	emit("service_sid_type", name, hr,
	     hr == HR_OK ? cJSON_CreateNumber(sid) : NULL);
	hr = H->ops->service_privileges(H, name, &privs);
	emit("service_privileges", name, hr,
	     hr == HR_OK ? list_json(&privs) : NULL);
	strlist_clear(&privs);
	if (cfg_out != NULL)
		*cfg_out = cfg;
	else
		svc_config_clear(&cfg);
	if (fa_out != NULL)
		*fa_out = fa;
	else
		svc_failure_actions_clear(&fa);
}

static void
wait_for(const char *name, enum svc_state want, const char *label)
{
	struct svc_status st = {0};
	hr_t hr = host_service_wait(H, name, want, 15000, &st);

	emit(label, name, hr, status_json(&st));
}

static void
control(const char *name, uint32_t code, const char *label)
{
	struct svc_status st;
	hr_t hr = H->ops->service_control(H, name, code, &st);

	emit(label, name, hr, status_json(&st));
}

/* Start, interrogate, stop, and back to the state it was found in. */
static void
service_lifecycle(const char *name)
{
	struct svc_status before;
	bool was_running;

	if (H->ops->service_status(H, name, &before) != HR_OK)
		return;
	was_running = before.state == SVC_RUNNING;
	emit("service_start", name, H->ops->service_start(H, name), NULL);
	wait_for(name, SVC_RUNNING, "service_wait_running");
	emit("service_start(again)", name, H->ops->service_start(H, name),
	     NULL);
	control(name, SVC_CONTROL_INTERROGATE, "service_control(interrogate)");
	control(name, 200, "service_control(200)");
	control(name, SVC_CONTROL_STOP, "service_control(stop)");
	wait_for(name, SVC_STOPPED, "service_wait_stopped");
	control(name, SVC_CONTROL_STOP, "service_control(stop,stopped)");
	control(name, SVC_CONTROL_INTERROGATE,
		"service_control(interrogate,stopped)");
	if (was_running) {
		emit("service_start(restore)", name,
		     H->ops->service_start(H, name), NULL);
		wait_for(name, SVC_RUNNING, "service_wait_running");
	}
}

/* Every change writes back what was read, so nothing really changes. */
static void
service_changes(const char *name, const struct svc_config *cfg,
		const struct svc_failure_actions *fa)
{
	struct svc_config_change none = SVC_CONFIG_CHANGE_NONE, same = none;
	struct svc_config_change bad = none;
	struct strlist privs = {0};
	enum svc_sid_type sid = SVC_SID_NONE;
	bool delayed = false;

	emit("service_change_config(none)", name,
	     H->ops->service_change_config(H, name, &none), NULL);
	same.start_type = cfg->start_type;
	same.account = cfg->account;
	same.binary_path = cfg->binary_path;
	same.dependencies = &cfg->dependencies;
	emit("service_change_config(same)", name,
	     H->ops->service_change_config(H, name, &same), NULL);
	bad.start_type = 9;
	emit("service_change_config(start_type=9)", name,
	     H->ops->service_change_config(H, name, &bad), NULL);
	emit("service_change_config", "NoSuchService",
	     H->ops->service_change_config(H, "NoSuchService", &none), NULL);
	(void)H->ops->service_delayed_auto(H, name, &delayed);
	emit("service_set_delayed_auto", name,
	     H->ops->service_set_delayed_auto(H, name, delayed), NULL);
	emit("service_set_failure_actions", name,
	     H->ops->service_set_failure_actions(H, name, fa), NULL);
	(void)H->ops->service_sid_type(H, name, &sid);
	emit("service_set_sid_type", name,
	     H->ops->service_set_sid_type(H, name, sid), NULL);
	(void)H->ops->service_privileges(H, name, &privs);
	emit("service_set_privileges", name,
	     H->ops->service_set_privileges(H, name, &privs), NULL);
	strlist_clear(&privs);
}

static void
services(void)
{
	struct svc_config cfg = {0};
	struct svc_failure_actions fa = {0};

	service_queries("BITS", &cfg, &fa);
	service_queries("wuauserv", NULL, NULL);
	service_queries("NoSuchService", NULL, NULL);
	service_lifecycle("BITS");
	service_changes("BITS", &cfg, &fa);
	service_queries("BITS", NULL, NULL);
	svc_config_clear(&cfg);
	svc_failure_actions_clear(&fa);
}

/* ---- registry ---------------------------------------------------------- */

static cJSON *
reg_json(const struct reg_value *v)
{
	cJSON *o = cJSON_CreateObject();
	char *hex;

	cJSON_AddNumberToObject(o, "type", v->type);
	switch (v->type) {
	case REGT_SZ:
	case REGT_EXPAND_SZ:
		cJSON_AddStringToObject(o, "data", v->str);
		break;
	case REGT_MULTI_SZ:
		cJSON_AddItemToObject(o, "data", list_json(&v->multi));
		break;
	case REGT_DWORD:
	case REGT_QWORD:
		cJSON_AddNumberToObject(o, "data", (double)v->num);
		break;
	default:
		hex = calloc(v->bin_len * 2 + 1, 1);
		for (size_t i = 0; i < v->bin_len; i++)
			sprintf(hex + 2 * i, "%02x", v->bin[i]);
		cJSON_AddStringToObject(o, "data", hex);
		free(hex);
	}
	return o;
}

static void
reg_get(const char *key, const char *value)
{
	struct reg_value v = {0};
	size_t n = strlen(key) + strlen(value) + 4;
	char *arg = malloc(n);
	hr_t hr;

	snprintf(arg, n, "%s [%s]", key, value);
	hr = H->ops->reg_get(H, key, value, &v);
	emit("reg_get", arg, hr, hr == HR_OK ? reg_json(&v) : NULL);
	reg_value_clear(&v);
	free(arg);
}

static void
reg_set(const char *key, const char *value, const struct reg_value *v)
{
	size_t n = strlen(key) + strlen(value) + 4;
	char *arg = malloc(n);

	snprintf(arg, n, "%s [%s]", key, value);
	emit("reg_set", arg, H->ops->reg_set(H, key, value, v), NULL);
	free(arg);
	reg_get(key, value);
}

static void
registry(void)
{
	const char *svc = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS";
	char *multi[] = {"one", "tw\xc3\xb6", "three"};
	uint8_t bin[] = {0xde, 0xad, 0xbe, 0xef};
	struct reg_value v;

	reg_get(svc, "ImagePath");
	reg_get(svc, "Start");
	reg_get(svc, "ObjectName");
	reg_get("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\"
		"BITS\\Parameters",
		"ServiceDll");
	reg_get(svc, "NoSuchValue");
	reg_get("HKLM\\SOFTWARE\\NoSuchKey", "x");
	reg_get("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\"
		"Svchost",
		"netsvcs");
	reg_get("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
		"CurrentBuildNumber");
	reg_get("HKXX\\SOFTWARE", "x");

	memset(&v, 0, sizeof(v));
	v.type = REGT_SZ;
	v.str = "h\xc3\xa9llo";
	reg_set(SMOKE_KEY, "sz", &v);
	reg_set(SMOKE_KEY, "", &v);
	v.type = REGT_EXPAND_SZ;
	v.str = "%SystemRoot%\\x";
	reg_set(SMOKE_KEY, "expand", &v);
	v.type = REGT_MULTI_SZ;
	v.multi.v = multi;
	v.multi.n = 3;
	reg_set(SMOKE_KEY, "multi", &v);
	memset(&v, 0, sizeof(v));
	v.type = REGT_DWORD;
	v.num = 0xFFFFFFFFu;
	reg_set(SMOKE_KEY, "dword", &v);
	v.num = 0x100000000ull;
	reg_set(SMOKE_KEY, "dword_too_big", &v);
	v.type = REGT_QWORD;
	v.num = 0x123456789ull;
	reg_set(SMOKE_KEY, "qword", &v);
	v.type = REGT_BINARY;
	v.bin = bin;
	v.bin_len = sizeof(bin);
	reg_set(SMOKE_KEY, "binary", &v);
	reg_set(SMOKE_KEY "\\sub", "x", &v);
	emit("reg_delete_value", SMOKE_KEY " [sz]",
	     H->ops->reg_delete_value(H, SMOKE_KEY, "sz"), NULL);
	emit("reg_delete_value", SMOKE_KEY " [sz]",
	     H->ops->reg_delete_value(H, SMOKE_KEY, "sz"), NULL);
	emit("reg_delete_key(has subkey)", SMOKE_KEY,
	     H->ops->reg_delete_key(H, SMOKE_KEY), NULL);
	emit("reg_delete_key", SMOKE_KEY "\\sub",
	     H->ops->reg_delete_key(H, SMOKE_KEY "\\sub"), NULL);
	emit("reg_delete_key", SMOKE_KEY, H->ops->reg_delete_key(H, SMOKE_KEY),
	     NULL);
	emit("reg_delete_key(missing)", SMOKE_KEY,
	     H->ops->reg_delete_key(H, SMOKE_KEY), NULL);
	v.type = REGT_DWORD;
	v.num = 7;
	reg_set("HKCU\\Software\\wsusdiag-smoke", "d", &v);
	emit("reg_delete_key", "HKCU\\Software\\wsusdiag-smoke",
	     H->ops->reg_delete_key(H, "HKCU\\Software\\wsusdiag-smoke"), NULL);
}

/* ---- files ------------------------------------------------------------- */

static void
write_file(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL) {
		fprintf(stderr, "host_smoke: cannot write %s\n", path);
		exit(3);
	}
	fwrite(data, 1, n, fp);
	fclose(fp);
}

static void
file_stat(const char *path)
{
	struct file_info fi;
	hr_t hr = H->ops->file_stat(H, path, &fi);
	cJSON *o = NULL;

	if (hr == HR_OK) {
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "is_dir", fi.is_dir);
		cJSON_AddNumberToObject(o, "size", (double)fi.size);
		cJSON_AddBoolToObject(o, "mtime_after_2020",
				      fi.mtime > 1577836800);
	}
	emit("file_stat", path, hr, o);
}

static void
read_text(const char *path, size_t max)
{
	char *text = NULL, arg[300];
	size_t len = 0;
	hr_t hr = H->ops->file_read_text(H, path, max, &text, &len);
	cJSON *o = NULL;

	snprintf(arg, sizeof(arg), "%s max=%u", path, (unsigned)max);
	if (hr == HR_OK) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "len", (double)len);
		cJSON_AddStringToObject(o, "text", text);
	}
	emit("file_read_text", arg, hr, o);
	free(text);
}

static void
file_version(const char *path)
{
	char *v = NULL;
	hr_t hr = H->ops->file_version(H, path, &v);

	emit("file_version", path, hr,
	     hr == HR_OK ? cJSON_CreateString(v) : NULL);
	free(v);
}

static void
disk_free(const char *path)
{
	uint64_t f = 0, t = 0;
	hr_t hr = H->ops->disk_free(H, path, &f, &t);
	cJSON *o = NULL;

	if (hr == HR_OK) {
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "free_gt_0", f > 0);
		cJSON_AddBoolToObject(o, "total_ge_free", t >= f && t > 0);
	}
	emit("disk_free", path, hr, o);
}

static void
files(void)
{
	static const unsigned char u16[] = {0xFF,
					    0xFE,
					    'a',
					    0,
					    'b',
					    0,
					    0xE9,
					    0,
					    '\r',
					    0,
					    '\n',
					    0,
					    0x3D,
					    0xD8,
					    0x00,
					    0xDE,
					    /* U+1F600 */ 'z',
					    0};
	static const char u8[] = "\xEF\xBB\xBFline one\r\nline tw\xC3\xB6\r\n";
	char big[3000];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i % 100 == 99 ? '\n' : (char)('0' + i % 10);
	CreateDirectoryA(ROOT_DIR, NULL);
	write_file(ROOT_DIR "\\utf16.txt", u16, sizeof(u16));
	write_file(ROOT_DIR "\\utf8.txt", u8, sizeof(u8) - 1);
	write_file(ROOT_DIR "\\big.log", big, sizeof(big));
	write_file(ROOT_DIR "\\taken.txt", "x", 1);
	file_stat(ROOT_DIR);
	file_stat(ROOT_DIR "\\utf8.txt");
	file_stat(ROOT_DIR "\\missing.txt");
	file_stat("C:/windows/system32/qmgr.dll");
	read_text(ROOT_DIR "\\utf16.txt", 1000);
	read_text(ROOT_DIR "\\utf16.txt", 5);
	read_text(ROOT_DIR "\\utf8.txt", 1000);
	read_text(ROOT_DIR "\\utf8.txt", 4);
	read_text(ROOT_DIR "\\big.log", 120);
	read_text(ROOT_DIR "\\missing.txt", 10);
	read_text(ROOT_DIR, 10);
	emit("file_rename", "utf8.txt -> moved.txt",
	     H->ops->file_rename(H, ROOT_DIR "\\utf8.txt",
				 ROOT_DIR "\\moved.txt"),
	     NULL);
	emit("file_rename", "moved.txt -> taken.txt",
	     H->ops->file_rename(H, ROOT_DIR "\\moved.txt",
				 ROOT_DIR "\\taken.txt"),
	     NULL);
	emit("file_rename", "missing.txt -> x.txt",
	     H->ops->file_rename(H, ROOT_DIR "\\missing.txt",
				 ROOT_DIR "\\x.txt"),
	     NULL);
	emit("file_rename", "moved.txt -> nodir\\x.txt",
	     H->ops->file_rename(H, ROOT_DIR "\\moved.txt",
				 ROOT_DIR "\\nodir\\x.txt"),
	     NULL);
	file_version("C:\\windows\\system32\\qmgr.dll");
	file_version("C:\\windows\\system32\\kernel32.dll");
	file_version(ROOT_DIR "\\taken.txt");
	file_version(ROOT_DIR "\\missing.dll");
	disk_free("C:\\");
	disk_free("C:\\windows\\system32\\qmgr.dll");
	disk_free("Q:\\nothing");
	DeleteFileA(ROOT_DIR "\\utf16.txt");
	DeleteFileA(ROOT_DIR "\\moved.txt");
	DeleteFileA(ROOT_DIR "\\big.log");
	DeleteFileA(ROOT_DIR "\\taken.txt");
	RemoveDirectoryA(ROOT_DIR);
}

/* ---- programs ---------------------------------------------------------- */

static cJSON *
prog_json(const struct prog_result *r, bool full)
{
	cJSON *o = cJSON_CreateObject();
	const char *out = r->output != NULL ? r->output : "";
	size_t n = strlen(out);

	cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
	cJSON_AddBoolToObject(o, "timed_out", r->timed_out);
	cJSON_AddNumberToObject(o, "output_len", (double)n);
	if (full)
		cJSON_AddStringToObject(o, "output", out);
	else
		cJSON_AddStringToObject(o, "output_end",
					out + (n > 40 ? n - 40 : 0));
	return o;
}

static void
run(const char *label, const char *const *argv, uint32_t timeout_ms, bool full)
{
	struct prog_result r = {0};
	DWORD t0 = GetTickCount();
	hr_t hr = H->ops->run_program(H, argv, timeout_ms, &r);
	cJSON *o = hr == HR_OK ? prog_json(&r, full) : NULL;

	if (o != NULL)
		cJSON_AddBoolToObject(o, "within_timeout_plus_2s",
				      GetTickCount() - t0 <= timeout_ms + 2000);
	emit(label, argv[0], hr, o);
	prog_result_clear(&r);
}

/* Copy this program into System32, so the runner may start it. */
static bool
install_argv_exe(wchar_t *dst, size_t cap)
{
	wchar_t self[MAX_PATH + 1];
	UINT n = GetSystemDirectoryW(dst, (UINT)cap);

	if (n == 0 || n + 20 > cap ||
	    GetModuleFileNameW(NULL, self, MAX_PATH + 1) == 0)
		return false;
	wcscat(dst, L"\\" ARGV_EXE_W);
	return CopyFileW(self, dst, FALSE) != FALSE;
}

struct par {
	const char *word;
	struct prog_result r;
	hr_t hr;
};

static DWORD WINAPI
parallel_one(void *arg)
{
	struct par *p = arg;
	const char *argv[] = {"cmd.exe", "/c", "echo", p->word, NULL};

	p->hr = H->ops->run_program(H, argv, 20000, &p->r);
	return 0;
}

/* Four runs at once: each must get its own output and all must end. */
static void
parallel(void)
{
	struct par p[4] = {{.word = "alpha"},
			   {.word = "beta"},
			   {.word = "gamma"},
			   {.word = "delta"}};
	HANDLE th[4];
	cJSON *a = cJSON_CreateArray(), *o;
	DWORD w;

	for (int i = 0; i < 4; i++)
		th[i] = CreateThread(NULL, 0, parallel_one, &p[i], 0, NULL);
	w = WaitForMultipleObjects(4, th, TRUE, 60000);
	if (w == WAIT_TIMEOUT) {
		fprintf(stderr, "host_smoke: parallel runs hang\n");
		exit(4);
	}
	for (int i = 0; i < 4; i++) {
		CloseHandle(th[i]);
		o = prog_json(&p[i].r, true);
		cJSON_AddNumberToObject(o, "hr", p[i].hr);
		cJSON_AddItemToArray(a, o);
		prog_result_clear(&p[i].r);
	}
	emit("run_program(parallel x4)", "cmd.exe", HR_OK, a);
}

static void
programs(void)
{
	const char *echo[] = {"cmd.exe", "/c", "echo", "hello", NULL};
	const char *ex[] = {"cmd", "/c", "exit", "3", NULL};
	const char *chatty[] = {
	    "cmd.exe", "/c", "for /L %i in (1,1,20000) do @echo line %i", NULL};
	const char *ping[] = {"ping.exe", "-n", "30", "127.0.0.1", NULL};
	const char *gp[] = {"gpresult.exe", "/scope", "computer", "/r", NULL};
	const char *dots[] = {"..\\cmd.exe", NULL};
	const char *abs[] = {"C:\\windows\\system32\\cmd.exe", NULL};
	const char *args[] = {ARGV_EXE,
			      "--print-args",
			      "plain",
			      "two words",
			      "",
			      "q\"uote",
			      "tail\\",
			      "tail\\ space\\",
			      "\\\\srv\\x\"y",
			      "\xc3\xa9t\xc3\xa9",
			      NULL};
	wchar_t dst[MAX_PATH + 1];

	run("run_program", echo, 20000, true);
	run("run_program(exit 3)", ex, 20000, true);
	run("run_program(chatty)", chatty, 60000, false);
	run("run_program(timeout)", ping, 1500, true);
	run("run_program", gp, 20000, true);
	run("run_program(dots)", dots, 1000, true);
	run("run_program(absolute)", abs, 1000, true);
	if (install_argv_exe(dst, MAX_PATH + 1)) {
		run("run_program(quoting)", args, 20000, true);
		DeleteFileW(dst);
	} else {
		emit("run_program(quoting)", ARGV_EXE,
		     (hr_t)(0x80070000u | (GetLastError() & 0xFFFF)), NULL);
	}
	parallel();
}

/* The copy in System32: print argv as CommandLineToArgvW splits it. */
static int
print_args(void)
{
	int n;
	wchar_t **wv = CommandLineToArgvW(GetCommandLineW(), &n);
	cJSON *a = cJSON_CreateArray();
	char buf[1024], *text;

	for (int i = 2; wv != NULL && i < n; i++) {
		/* As a console program writes to a pipe: OEM code page. */
		WideCharToMultiByte(CP_OEMCP, 0, wv[i], -1, buf, sizeof(buf),
				    NULL, NULL);
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	text = cJSON_PrintUnformatted(a);
	printf("%s", text);
	cJSON_free(text);
	cJSON_Delete(a);
	LocalFree(wv);
	return 0;
}

/* ---- the rest ---------------------------------------------------------- */

static cJSON *
proxy_json(const struct proxy_config *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "proxy", str_or_null(p->proxy));
	cJSON_AddItemToObject(o, "bypass", str_or_null(p->bypass));
	cJSON_AddBoolToObject(o, "auto_detect", p->auto_detect);
	cJSON_AddItemToObject(o, "auto_config_url",
			      str_or_null(p->auto_config_url));
	return o;
}

/*
 * A job of our own, so bits_jobs has one to describe: one file from a
 * port where nothing listens, so it ends in an error state.
 */
static IBackgroundCopyJob *
bits_add_job(void)
{
	IBackgroundCopyManager *mgr = NULL;
	IBackgroundCopyJob *job = NULL;
	GUID id;
	HRESULT hr;

	CoInitializeEx(NULL, COINIT_MULTITHREADED);
	hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL,
			      CLSCTX_LOCAL_SERVER, &IID_IBackgroundCopyManager,
			      (void **)&mgr);
	if (SUCCEEDED(hr))
		hr = IBackgroundCopyManager_CreateJob(
		    mgr, L"wsusdiag-smoke", BG_JOB_TYPE_DOWNLOAD, &id, &job);
	if (SUCCEEDED(hr))
		hr = IBackgroundCopyJob_AddFile(job, L"http://127.0.0.1:9/x",
						L"C:\\wsusdiag-smoke-x.bin");
	if (SUCCEEDED(hr))
		hr = IBackgroundCopyJob_Resume(job);
	emit("(setup) bits create job", "wsusdiag-smoke", (hr_t)hr, NULL);
	if (mgr != NULL)
		IBackgroundCopyManager_Release(mgr);
	Sleep(3000);
	return job;
}

static void
bits_remove_job(IBackgroundCopyJob *job)
{
	if (job == NULL)
		return;
	emit("(cleanup) bits cancel job", "wsusdiag-smoke",
	     (hr_t)IBackgroundCopyJob_Cancel(job), NULL);
	IBackgroundCopyJob_Release(job);
}

static cJSON *
job_json(const struct bits_job *j)
{
	cJSON *o = cJSON_CreateObject();
	char code[11];

	snprintf(code, sizeof(code), "0x%08lX", (unsigned long)j->error);
	cJSON_AddBoolToObject(o, "id_is_guid",
			      j->id != NULL && strlen(j->id) == 38 &&
				  j->id[0] == '{');
	cJSON_AddItemToObject(o, "name", str_or_null(j->name));
	cJSON_AddItemToObject(o, "owner", str_or_null(j->owner));
	cJSON_AddItemToObject(o, "url", str_or_null(j->url));
	cJSON_AddNumberToObject(o, "state", j->state);
	cJSON_AddStringToObject(o, "error", code);
	return o;
}

static void
rest(void)
{
	struct proxy_config p = {0};
	struct strlist gpos = {0};
	struct bits_jobs jobs = {0};
	struct event_list ev = {0};
	const char *logs[] = {"System", "Application",
			      "Microsoft-Windows-Bits-Client/Operational"};
	IBackgroundCopyJob *job;
	cJSON *a;
	hr_t hr;

	hr = H->ops->winhttp_proxy(H, &p);
	emit("winhttp_proxy", NULL, hr, hr == HR_OK ? proxy_json(&p) : NULL);
	proxy_config_clear(&p);
	hr = H->ops->ie_proxy(H, &p);
	emit("ie_proxy", NULL, hr, hr == HR_OK ? proxy_json(&p) : NULL);
	proxy_config_clear(&p);
	hr = H->ops->applied_gpos(H, &gpos);
	emit("applied_gpos", NULL, hr, hr == HR_OK ? list_json(&gpos) : NULL);
	strlist_clear(&gpos);
	hr = H->ops->bits_jobs(H, &jobs);
	emit("bits_jobs(before)", NULL, hr,
	     hr == HR_OK ? cJSON_CreateNumber((double)jobs.n) : NULL);
	bits_jobs_clear(&jobs);
	job = bits_add_job();
	hr = H->ops->bits_jobs(H, &jobs);
	a = NULL;
	if (hr == HR_OK) {
		a = cJSON_CreateArray();
		for (size_t i = 0; i < jobs.n; i++)
			cJSON_AddItemToArray(a, job_json(&jobs.v[i]));
	}
	emit("bits_jobs", NULL, hr, a);
	bits_jobs_clear(&jobs);
	bits_remove_job(job);
	for (size_t i = 0; i < sizeof(logs) / sizeof(*logs); i++) {
		hr = H->ops->events(H, logs[i], 5, &ev);
		emit("events", logs[i], hr,
		     hr == HR_OK ? cJSON_CreateNumber((double)ev.n) : NULL);
		event_list_clear(&ev);
	}
}

static void
probe(const char *url, uint32_t timeout_ms)
{
	struct probe_request req = {.method = "GET",
				    .url = url,
				    .range = "bytes=0-99",
				    .timeout_ms = timeout_ms};
	struct probe_result r = {0};
	hr_t hr = H->ops->http_probe(H, &req, &r);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "reached", r.reached);
	cJSON_AddNumberToObject(o, "http_status", r.http_status);
	cJSON_AddBoolToObject(o, "has_content_length", r.has_content_length);
	cJSON_AddNumberToObject(o, "content_length", (double)r.content_length);
	cJSON_AddItemToObject(o, "content_range", str_or_null(r.content_range));
	cJSON_AddNumberToObject(o, "body_bytes", (double)r.body_bytes);
	cJSON_AddItemToObject(o, "resolved_ip", str_or_null(r.resolved_ip));
	cJSON_AddItemToObject(o, "detail", str_or_null(r.detail));
	cJSON_AddBoolToObject(o, "total_within_timeout_plus_2s",
			      r.total_ms <= timeout_ms + 2000.0);
	emit("http_probe", url, hr, o);
	probe_result_clear(&r);
}

/* Listing BITS jobs activates BITS, as on Windows: stop it again if the
 * run found it stopped. */
static void
restore_bits(const struct svc_status *before)
{
	struct svc_status now;

	if (before->state != SVC_STOPPED ||
	    H->ops->service_status(H, "BITS", &now) != HR_OK ||
	    now.state == SVC_STOPPED)
		return;
	control("BITS", SVC_CONTROL_STOP, "(cleanup) service_control(stop)");
	wait_for("BITS", SVC_STOPPED, "(cleanup) service_wait_stopped");
}

int
main(int argc, char **argv)
{
	struct svc_status bits_before;
	char err[256] = "";

	if (argc > 1 && strcmp(argv[1], "--print-args") == 0)
		return print_args();
	if ((H = host_win32_open(err, sizeof(err))) == NULL) {
		fprintf(stderr, "host_smoke: %s\n", err);
		return 2;
	}
	emit("kind", NULL, HR_OK, cJSON_CreateString(H->ops->kind));
	computer();
	if (H->ops->service_status(H, "BITS", &bits_before) != HR_OK)
		bits_before.state = 0;
	services();
	registry();
	files();
	programs();
	rest();
	restore_bits(&bits_before);
	probe("http://127.0.0.1:9/", 5000);
	probe("http://wsusdiag-smoke.invalid/", 5000);
	probe("not a url", 5000);
	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "--probe") == 0)
			probe(argv[i + 1], 10000);
	host_close(H);
	return 0;
}
