/*
 * host_sim_int.h: what the four files of the simulated host share.
 *
 * host_sim.c       the format reference, open/close, the ops table,
 *                  locking, writeback and small JSON helpers
 * host_sim_load.c  parsing and strict validation of a host document
 * host_sim_svc.c   the Service Control Manager
 * host_sim_misc.c  registry, files, volumes, programs and the rest
 *
 * The state of a simulated host is its parsed JSON document, changed in
 * place by the mutating operations and guarded by one mutex; nothing is
 * copied into C structures, so a snapshot or a writeback is the document.
 */
#ifndef WSUSDIAG_HOST_SIM_INT_H
#define WSUSDIAG_HOST_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "platform/host.h"

struct plat_mutex;

struct sim {
	struct host base; /* first: a struct host * is a struct sim * */
	struct plat_mutex *mu;
	cJSON *doc;
	char *path; /* the host file */
	char *dir;  /* its directory: text_file is relative to it */
	bool writeback;
};

/* Win32 errors host.h has no name for (it gets no new constants). */
#define SIM_ERROR_INVALID_HANDLE	  6u
#define SIM_ERROR_NOT_SAME_DEVICE	  17u
#define SIM_ERROR_WRITE_FAULT		  29u
#define SIM_ERROR_INVALID_SERVICE_CONTROL 1052u
#define SIM_ERROR_RESOURCE_TYPE_NOT_FOUND 1813u
/* REGDB_E_CLASSNOTREG: CoCreateInstance of a COM server not installed. */
#define SIM_HR_CLASS_NOT_REG 0x80040154u

/* A JSON name and the Win32 number it stands for; tables end in NULL. */
struct sim_name {
	const char *name;
	uint32_t value;
};

extern const struct sim_name sim_svc_types[];
extern const struct sim_name sim_svc_states[];
extern const struct sim_name sim_svc_starts[];
extern const struct sim_name sim_svc_errctl[];
extern const struct sim_name sim_sid_types[];
extern const struct sim_name sim_action_types[];
extern const struct sim_name sim_reg_types[];
extern const struct sim_name sim_job_states[];
extern const struct sim_name sim_event_levels[];

bool sim_name_value(const struct sim_name *t, const char *name, uint32_t *out);
const char *sim_name_of(const struct sim_name *t, uint32_t value);
/* "a, b, c": the names of a table, for error messages (caller frees). */
char *sim_name_list(const struct sim_name *t);

/* ---- host_sim.c: locking, faults, writeback, JSON helpers -------------- */

struct sim *sim_of(struct host *h);
/*
 * Take the lock for one operation, after sleeping the global
 * fault.delay_ms and, when service is not NULL, that service's
 * fault.delay_ms (outside the lock, so a slow host stays concurrent).
 */
void sim_begin(struct sim *s, const char *service);
void sim_end(struct sim *s);
/* The global fault.KEY as an HRESULT, HR_OK when unset or 0. */
hr_t sim_fault(const struct sim *s, const char *key);
/* After a change: write the document back when asked to. */
hr_t sim_commit(struct sim *s);

/* A non-negative integral JSON number, or false. */
bool sim_num_u64(const cJSON *v, uint64_t *out);
/* A Win32 code or HRESULT: a number or a "0x..." hex string. */
bool sim_code(const cJSON *v, uint32_t *out);
/* RFC 3339 UTC "2026-11-20T10:00:00Z" (fraction and offset allowed). */
bool sim_parse_time(const char *s, int64_t *out);

const char *sim_str(const cJSON *obj, const char *key);
bool sim_bool(const cJSON *obj, const char *key, bool dflt);
uint64_t sim_u64(const cJSON *obj, const char *key, uint64_t dflt);
/* A child by name, ignoring case (keys in the document are unique so). */
cJSON *sim_child(const cJSON *obj, const char *key);
/* Replace or add obj.key (matched ignoring case, the old name kept). */
void sim_set(cJSON *obj, const char *key, cJSON *item);
/* obj.key as an object, created when absent. */
cJSON *sim_obj(cJSON *obj, const char *key);
/* The strings of a JSON array into a list (non-strings skipped). */
void sim_strlist(const cJSON *arr, struct strlist *out);
cJSON *sim_strlist_json(const struct strlist *l);

/* ---- registry and paths (host_sim_misc.c; values: host_sim_load.c) ---- */

/*
 * Compare registry key paths: case-insensitive, "HKEY_LOCAL_MACHINE"
 * equal to "HKLM" (and the other roots), trailing backslashes ignored.
 * Returns the length of a's root alias, 0 when a has no known root.
 */
size_t sim_reg_root(const char *key, const char **shortname);
bool sim_reg_key_eq(const char *a, const char *b);
/* File paths: case-insensitive, '/' equal to '\', trailing separators
 * ignored. */
bool sim_path_eq(const char *a, const char *b);
/* Program names: the file name part, ignoring case and a ".exe". */
bool sim_program_eq(const char *a, const char *b);
/* The registry key object, or NULL. */
cJSON *sim_reg_key(const struct sim *s, const char *key);
/* A registry value from the document; false with *why on a bad form. */
bool sim_reg_decode(const cJSON *v, struct reg_value *out, const char **why);
/* A value in the document's form; NULL when v is not a valid value. */
cJSON *sim_reg_encode(const struct reg_value *v);

/* ---- loader (host_sim_load.c) ------------------------------------------ */

/* Check that every files.*.text_file is readable below dir. */
int sim_check_text_files(const cJSON *doc, const char *dir, const char *name,
			 char *err, size_t errlen);
/* Read a whole file; NULL on failure (errno set). */
char *sim_slurp(const char *path, size_t *len);
/* dir + "/" + rel, or rel when absolute. */
char *sim_join(const char *dir, const char *rel);

/* ---- ops: host_sim_svc.c ----------------------------------------------- */

hr_t sim_service_status(struct host *h, const char *name,
			struct svc_status *out);
hr_t sim_service_config(struct host *h, const char *name,
			struct svc_config *out);
hr_t sim_service_delayed_auto(struct host *h, const char *name, bool *out);
hr_t sim_service_failure_actions(struct host *h, const char *name,
				 struct svc_failure_actions *out);
hr_t sim_service_sid_type(struct host *h, const char *name,
			  enum svc_sid_type *out);
hr_t sim_service_privileges(struct host *h, const char *name,
			    struct strlist *out);
hr_t sim_service_start(struct host *h, const char *name);
hr_t sim_service_control(struct host *h, const char *name, uint32_t control,
			 struct svc_status *out);
hr_t sim_service_change_config(struct host *h, const char *name,
			       const struct svc_config_change *c);
hr_t sim_service_set_delayed_auto(struct host *h, const char *name, bool on);
hr_t sim_service_set_failure_actions(struct host *h, const char *name,
				     const struct svc_failure_actions *fa);
hr_t sim_service_set_sid_type(struct host *h, const char *name,
			      enum svc_sid_type t);
hr_t sim_service_set_privileges(struct host *h, const char *name,
				const struct strlist *privs);

/* ---- ops: host_sim_misc.c ---------------------------------------------- */

hr_t sim_reg_get(struct host *h, const char *key, const char *value,
		 struct reg_value *out);
hr_t sim_reg_set(struct host *h, const char *key, const char *value,
		 const struct reg_value *v);
hr_t sim_reg_delete_value(struct host *h, const char *key, const char *value);
hr_t sim_reg_delete_key(struct host *h, const char *key);
hr_t sim_file_stat(struct host *h, const char *path, struct file_info *out);
hr_t sim_file_rename(struct host *h, const char *from, const char *to);
hr_t sim_file_version(struct host *h, const char *path, char **out);
hr_t sim_file_read_text(struct host *h, const char *path, size_t max,
			char **out, size_t *len);
hr_t sim_disk_free(struct host *h, const char *path, uint64_t *free_b,
		   uint64_t *total_b);
hr_t sim_run_program(struct host *h, const char *const *argv,
		     uint32_t timeout_ms, struct prog_result *out);

/* ---- ops: host_sim.c --------------------------------------------------- */

hr_t sim_computer(struct host *h, struct computer_info *out);
hr_t sim_winhttp_proxy(struct host *h, struct proxy_config *out);
hr_t sim_ie_proxy(struct host *h, struct proxy_config *out);
hr_t sim_applied_gpos(struct host *h, struct strlist *out);
hr_t sim_bits_jobs(struct host *h, struct bits_jobs *out);
hr_t sim_events(struct host *h, const char *log, size_t max,
		struct event_list *out);

#endif
