/*
 * host.h: the only door to the operating system.
 *
 * Checks and actions see a Windows client through this interface and
 * nothing else. Two implementations exist: the real one on Win32 APIs
 * (host_win32*.c, Windows build only) and a simulated Windows host loaded
 * from a JSON file (host_sim*.c, every build). Each operation mirrors the
 * Win32 call it wraps, so the Win32 backend is a thin translation.
 *
 * Conventions:
 * - Every operation returns an hr_t: 0 (HR_OK) on success, otherwise an
 *   HRESULT. Win32 errors are wrapped with hr_from_win32() (0x8007xxxx),
 *   exactly as Windows Update and BITS report them, so one code space
 *   reaches the knowledge base and the JSON.
 * - Strings are UTF-8. Names of services, registry keys and values and
 *   file paths are case-insensitive, as on Windows.
 * - Out-structures own heap memory; release them with the matching
 *   host_*_clear() function, also after a failed call (safe on zeroed
 *   structures).
 * - Every operation is safe to call from several threads at once.
 */
#ifndef WSUSDIAG_HOST_H
#define WSUSDIAG_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t hr_t;

#define HR_OK		  0u
#define HR_FACILITY_WIN32 7u

static inline hr_t
hr_from_win32(uint32_t err)
{
	return err == 0 ? HR_OK
			: (0x80000000u | (HR_FACILITY_WIN32 << 16) |
			   (err & 0xFFFFu));
}

/* Win32 error numbers used by both backends and by the checks. */
enum {
	WIN32_FILE_NOT_FOUND = 2,
	WIN32_PATH_NOT_FOUND = 3,
	WIN32_ACCESS_DENIED = 5,
	WIN32_INVALID_DATA = 13,
	WIN32_NOT_READY = 21,
	WIN32_SHARING_VIOLATION = 32,
	WIN32_NOT_SUPPORTED = 50,
	WIN32_INVALID_PARAMETER = 87,
	WIN32_INSUFFICIENT_BUFFER = 122,
	WIN32_INVALID_LEVEL = 124,
	WIN32_ALREADY_EXISTS = 183,
	WIN32_MORE_DATA = 234,
	WIN32_WAIT_TIMEOUT = 258,
	WIN32_SERVICE_REQUEST_TIMEOUT = 1053,
	WIN32_SERVICE_ALREADY_RUNNING = 1056,
	WIN32_SERVICE_DISABLED = 1058,
	WIN32_SERVICE_DOES_NOT_EXIST = 1060,
	WIN32_SERVICE_CANNOT_ACCEPT_CTRL = 1061,
	WIN32_SERVICE_NOT_ACTIVE = 1062,
	WIN32_DEPENDENCY_FAIL = 1068,
	WIN32_SERVICE_DEPENDENCY_DELETED = 1075,
	WIN32_SERVICE_NOT_IN_EXE = 1083,
	WIN32_CALL_NOT_IMPLEMENTED = 120,
};

/* A list of UTF-8 strings (REG_MULTI_SZ, dependencies, privileges). */
struct strlist {
	char **v;
	size_t n;
};

void strlist_clear(struct strlist *l);
int strlist_add(struct strlist *l, const char *s);
bool strlist_contains_ci(const struct strlist *l, const char *s);

/* ---- services (SCM) ---------------------------------------------------- */

/* SERVICE_* state values, as QueryServiceStatusEx reports them. */
enum svc_state {
	SVC_STOPPED = 1,
	SVC_START_PENDING = 2,
	SVC_STOP_PENDING = 3,
	SVC_RUNNING = 4,
	SVC_CONTINUE_PENDING = 5,
	SVC_PAUSE_PENDING = 6,
	SVC_PAUSED = 7,
};

/* SERVICE_*_START values. */
enum svc_start {
	SVC_BOOT_START = 0,
	SVC_SYSTEM_START = 1,
	SVC_AUTO_START = 2,
	SVC_DEMAND_START = 3,
	SVC_DISABLED = 4,
};

/* SERVICE_* type bits. */
enum {
	SVC_TYPE_KERNEL_DRIVER = 0x1,
	SVC_TYPE_FS_DRIVER = 0x2,
	SVC_TYPE_OWN_PROCESS = 0x10,
	SVC_TYPE_SHARE_PROCESS = 0x20,
	SVC_TYPE_INTERACTIVE = 0x100,
};

/* SERVICE_ERROR_* values. */
enum svc_error_control {
	SVC_ERROR_IGNORE = 0,
	SVC_ERROR_NORMAL = 1,
	SVC_ERROR_SEVERE = 2,
	SVC_ERROR_CRITICAL = 3,
};

/* SERVICE_SID_TYPE_* values. */
enum svc_sid_type {
	SVC_SID_NONE = 0,
	SVC_SID_UNRESTRICTED = 1,
	SVC_SID_RESTRICTED = 3,
};

/* SC_ACTION_* types. */
enum svc_action_type {
	SVC_ACTION_NONE = 0,
	SVC_ACTION_RESTART = 1,
	SVC_ACTION_REBOOT = 2,
	SVC_ACTION_RUN_COMMAND = 3,
};

/* SERVICE_CONTROL_* codes accepted by host_ops.service_control. */
enum { SVC_CONTROL_STOP = 1, SVC_CONTROL_INTERROGATE = 4 };

/* QueryServiceStatusEx(SC_STATUS_PROCESS_INFO). */
struct svc_status {
	uint32_t type;
	enum svc_state state;
	uint32_t controls_accepted;
	uint32_t win32_exit_code;
	uint32_t service_exit_code;
	uint32_t pid;
};

/* QueryServiceConfigW. */
struct svc_config {
	uint32_t type;
	enum svc_start start_type;
	enum svc_error_control error_control;
	char *binary_path;
	char *account;
	char *display_name;
	struct strlist dependencies; /* group names keep their '+' prefix */
};

struct svc_action {
	enum svc_action_type type;
	uint32_t delay_ms;
};

/* QueryServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS). */
struct svc_failure_actions {
	uint32_t reset_s;
	struct svc_action *actions;
	size_t n;
};

/*
 * ChangeServiceConfigW: a NULL pointer or a negative number leaves that
 * field unchanged (SERVICE_NO_CHANGE).
 */
struct svc_config_change {
	int64_t type;
	int64_t start_type;
	int64_t error_control;
	const char *binary_path;
	const char *account;
	const struct strlist *dependencies;
};

#define SVC_CONFIG_CHANGE_NONE                                                 \
	{                                                                      \
		-1, -1, -1, NULL, NULL, NULL                                   \
	}

/* ---- registry ---------------------------------------------------------- */

enum reg_type {
	REGT_NONE = 0,
	REGT_SZ = 1,
	REGT_EXPAND_SZ = 2,
	REGT_BINARY = 3,
	REGT_DWORD = 4,
	REGT_MULTI_SZ = 7,
	REGT_QWORD = 11,
};

/*
 * A registry value. str holds REG_SZ and REG_EXPAND_SZ (not expanded),
 * multi REG_MULTI_SZ, num REG_DWORD and REG_QWORD, bin REG_BINARY.
 */
struct reg_value {
	enum reg_type type;
	uint64_t num;
	char *str;
	struct strlist multi;
	uint8_t *bin;
	size_t bin_len;
};

/* ---- files ------------------------------------------------------------- */

/* GetFileAttributesExW. */
struct file_info {
	bool is_dir;
	uint64_t size;
	int64_t mtime;	 /* seconds since 1970, UTC */
	int64_t created; /* creation time, the same; 0: unknown */
};

/* ---- programs ---------------------------------------------------------- */

struct prog_result {
	uint32_t exit_code;
	bool timed_out;
	char *output; /* stdout and stderr, UTF-8, NUL-terminated */
};

/* ---- proxy ------------------------------------------------------------- */

/*
 * WinHttpGetDefaultProxyConfiguration (machine, used by BITS and the
 * update agent) and WinHttpGetIEProxyConfigForCurrentUser (user).
 * NULL members are "not set".
 */
struct proxy_config {
	char *proxy;
	char *bypass;
	bool auto_detect;
	char *auto_config_url;
};

/* ---- BITS -------------------------------------------------------------- */

/* BG_JOB_STATE values. */
enum bits_job_state {
	BITS_QUEUED = 0,
	BITS_CONNECTING = 1,
	BITS_TRANSFERRING = 2,
	BITS_SUSPENDED = 3,
	BITS_ERROR = 4,
	BITS_TRANSIENT_ERROR = 5,
	BITS_TRANSFERRED = 6,
	BITS_ACKNOWLEDGED = 7,
	BITS_CANCELLED = 8,
};

struct bits_job {
	char *id; /* GUID */
	char *name;
	char *owner;
	char *url; /* first file's remote name */
	enum bits_job_state state;
	hr_t error; /* IBackgroundCopyError::GetError, 0 if none */
};

struct bits_jobs {
	struct bits_job *v;
	size_t n;
};

/* ---- events ------------------------------------------------------------ */

enum event_level {
	EVL_CRITICAL = 1,
	EVL_ERROR = 2,
	EVL_WARNING = 3,
	EVL_INFO = 4,
};

struct event_record {
	char *log;
	uint32_t id;
	enum event_level level;
	int64_t time; /* seconds since 1970, UTC */
	hr_t code;    /* error code carried by the event, 0 if none */
	char *message;
};

struct event_list {
	struct event_record *v;
	size_t n;
};

/* ---- computer ---------------------------------------------------------- */

struct computer_info {
	char *name;
	char *os_version; /* "10.0.19045" */
	char *machine_guid;
};

/* ---- outbound HTTP probe ----------------------------------------------- */

/*
 * One HTTP request to the WSUS server the way BITS would make it. On
 * Windows this is WinHTTP; elsewhere libcurl. The body is read and
 * counted, not kept.
 */
struct probe_request {
	const char *method; /* "GET" or "HEAD" */
	const char *url;
	const char *range; /* "bytes=0-99" or NULL */
	const char *proxy; /* "host:port" or NULL for a direct connection */
	uint32_t timeout_ms;
	const char *ca_file; /* extra trust anchors (tests), NULL: system */
};

/* Phases of a probe, to say where it failed. */
enum probe_phase {
	PROBE_RESOLVE = 1,
	PROBE_CONNECT = 2,
	PROBE_TLS = 3,
	PROBE_SEND = 4,
	PROBE_RECEIVE = 5,
	PROBE_DONE = 6,
};

struct probe_result {
	enum probe_phase reached; /* last phase that completed */
	long http_status;
	bool has_content_length;
	uint64_t content_length;
	char *content_range; /* NULL if absent */
	uint64_t body_bytes;
	char *resolved_ip;
	char *detail; /* the transport's own words on failure */
	double dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms;
};

/*
 * http_probe's answer when no request could be made at all (the HTTP
 * library could not be loaded or set up): ERROR_WINHTTP_INTERNAL_ERROR.
 * Nothing was learnt about the network, so no finding may say it was.
 */
#define HR_PROBE_NOT_RUN 0x80072EE4u

/* Whether a probe learnt nothing about the network: it could not run
 * and no phase completed (the same code after a phase is a failure
 * there, and the phase says which). */
static inline bool
probe_not_run(hr_t hr, const struct probe_result *r)
{
	return hr == HR_PROBE_NOT_RUN && r->reached == 0;
}

/* ---- the interface ----------------------------------------------------- */

struct host;

/* One slot per Win32 call (or call family) the checks and actions need. */
struct host_ops {
	/* "sim" or "win32", for /version and the report. */
	const char *kind;

	/* GetComputerNameExW, RtlGetVersion, Cryptography\MachineGuid. */
	hr_t (*computer)(struct host *h, struct computer_info *out);

	/* OpenServiceW + QueryServiceStatusEx. */
	hr_t (*service_status)(struct host *h, const char *name,
			       struct svc_status *out);
	/* QueryServiceConfigW. */
	hr_t (*service_config)(struct host *h, const char *name,
			       struct svc_config *out);
	/* QueryServiceConfig2W(SERVICE_CONFIG_DELAYED_AUTO_START_INFO). */
	hr_t (*service_delayed_auto)(struct host *h, const char *name,
				     bool *out);
	/* QueryServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS). */
	hr_t (*service_failure_actions)(struct host *h, const char *name,
					struct svc_failure_actions *out);
	/* QueryServiceConfig2W(SERVICE_CONFIG_SERVICE_SID_INFO). */
	hr_t (*service_sid_type)(struct host *h, const char *name,
				 enum svc_sid_type *out);
	/* QueryServiceConfig2W(SERVICE_CONFIG_REQUIRED_PRIVILEGES_INFO). */
	hr_t (*service_privileges)(struct host *h, const char *name,
				   struct strlist *out);
	/* StartServiceW; returns once the start is requested, no wait. */
	hr_t (*service_start)(struct host *h, const char *name);
	/* ControlService; no wait. */
	hr_t (*service_control)(struct host *h, const char *name,
				uint32_t control, struct svc_status *out);
	/* ChangeServiceConfigW. */
	hr_t (*service_change_config)(struct host *h, const char *name,
				      const struct svc_config_change *c);
	/* ChangeServiceConfig2W, one level each. */
	hr_t (*service_set_delayed_auto)(struct host *h, const char *name,
					 bool on);
	hr_t (*service_set_failure_actions)(
	    struct host *h, const char *name,
	    const struct svc_failure_actions *fa);
	hr_t (*service_set_sid_type)(struct host *h, const char *name,
				     enum svc_sid_type t);
	hr_t (*service_set_privileges)(struct host *h, const char *name,
				       const struct strlist *privs);

	/*
	 * Registry, 64-bit view. key is a full path with its root:
	 * "HKLM\\SOFTWARE\\...". A missing key or value is 0x80070002.
	 */
	hr_t (*reg_get)(struct host *h, const char *key, const char *value,
			struct reg_value *out);
	/* RegCreateKeyExW + RegSetValueExW. */
	hr_t (*reg_set)(struct host *h, const char *key, const char *value,
			const struct reg_value *v);
	hr_t (*reg_delete_value)(struct host *h, const char *key,
				 const char *value);
	/* RegDeleteKeyExW: the key must have no subkeys. */
	hr_t (*reg_delete_key)(struct host *h, const char *key);

	/* GetFileAttributesExW. */
	hr_t (*file_stat)(struct host *h, const char *path,
			  struct file_info *out);
	/* MoveFileExW without MOVEFILE_REPLACE_EXISTING. */
	hr_t (*file_rename)(struct host *h, const char *from, const char *to);
	/* GetFileVersionInfoW: "major.minor.build.revision". */
	hr_t (*file_version)(struct host *h, const char *path, char **out);
	/* A text file (UTF-8 or UTF-16 with BOM) as UTF-8, at most max bytes
	 * of its end when it is larger (logs grow at the end). */
	hr_t (*file_read_text)(struct host *h, const char *path, size_t max,
			       char **out, size_t *len);
	/* GetDiskFreeSpaceExW for the volume holding path. */
	hr_t (*disk_free)(struct host *h, const char *path, uint64_t *free_b,
			  uint64_t *total_b);

	/*
	 * CreateProcessW of a program from System32 with a fixed argument
	 * vector (argv[0] is the program name; NULL-terminated), waiting at
	 * most timeout_ms; output captured.
	 */
	hr_t (*run_program)(struct host *h, const char *const *argv,
			    uint32_t timeout_ms, struct prog_result *out);

	hr_t (*winhttp_proxy)(struct host *h, struct proxy_config *out);
	hr_t (*ie_proxy)(struct host *h, struct proxy_config *out);

	/* Computer GPOs applied at the last policy refresh. */
	hr_t (*applied_gpos)(struct host *h, struct strlist *out);

	/*
	 * IAutomaticUpdates::DetectNow (Windows Update Agent API): ask the
	 * agent to detect and report now; returns once it is asked (the
	 * scan runs in the agent). 0x80040154 where the agent has no such
	 * COM class.
	 */
	hr_t (*wu_detect_now)(struct host *h);

	/* IBackgroundCopyManager::EnumJobs(BG_JOB_ENUM_ALL_USERS). */
	hr_t (*bits_jobs)(struct host *h, struct bits_jobs *out);

	/* EvtQuery/EvtNext/EvtRender on one channel, newest first. */
	hr_t (*events)(struct host *h, const char *log, size_t max,
		       struct event_list *out);

	/* Outbound HTTP(S) request. */
	hr_t (*http_probe)(struct host *h, const struct probe_request *req,
			   struct probe_result *out);

	/* Release the host. */
	void (*close)(struct host *h);
};

/* Every backend's struct host starts with this. */
struct host {
	const struct host_ops *ops;
};

/* Open the simulated host in a JSON file; NULL with err set on failure. */
struct host *host_sim_open(const char *path, bool writeback, char *err,
			   size_t errlen);
/* Open the Win32 host; NULL with err set where this build has none. */
struct host *host_win32_open(char *err, size_t errlen);

void host_close(struct host *h);

/* Release functions for out-structures (safe on zeroed structures). */
void svc_config_clear(struct svc_config *c);
void svc_failure_actions_clear(struct svc_failure_actions *fa);
void reg_value_clear(struct reg_value *v);
void prog_result_clear(struct prog_result *r);
void proxy_config_clear(struct proxy_config *p);
void bits_jobs_clear(struct bits_jobs *j);
void event_list_clear(struct event_list *e);
void computer_info_clear(struct computer_info *c);
void probe_result_clear(struct probe_result *r);

/*
 * Wait until a service reaches want, polling QueryServiceStatusEx until
 * timeout_ms: HR_OK, the query's error, or 0x8007041D
 * (ERROR_SERVICE_REQUEST_TIMEOUT) with the last status in out.
 */
hr_t host_service_wait(struct host *h, const char *name, enum svc_state want,
		       uint32_t timeout_ms, struct svc_status *out);

/* Monotonic milliseconds and a sleep, for waits and durations. */
uint64_t plat_now_ms(void);
void plat_sleep_ms(uint32_t ms);
/* "linux" or "windows": what this binary was built for. */
const char *plat_build_name(void);
/* Current UTC time as "YYYYMMDDTHHMMSSZ" (for backup names). */
void plat_utc_stamp(char out[17]);
/* Current UTC time as RFC 3339 "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void plat_utc_iso(char out[32]);

#endif
