/*
 * host_sim_svc.c: the Service Control Manager of the simulated host.
 *
 * A service is its object under "services"; queries read it and
 * changes write it, with the SCM's rules for what may be started,
 * stopped or configured (see the format reference in host_sim.c).
 */
#include "platform/host_sim.h"
#include "platform/host_sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/entropy.h>

#include "common/xalloc.h"

/* Deeper than any real dependency chain: a cycle in the file. */
#define MAX_DEPENDENCY_DEPTH 16
/* ERROR_CIRCULAR_DEPENDENCY, what the SCM says about such a cycle. */
#define SIM_ERROR_CIRCULAR_DEPENDENCY 1059u

/* SERVICE_ACCEPT_* bits. */
#define ACCEPT_STOP	      0x1u
#define ACCEPT_PAUSE_CONTINUE 0x2u
#define ACCEPT_SHUTDOWN	      0x4u

#define SVCHOST_KEY                                                            \
	"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"
#define SERVICES_KEY "HKLM\\SYSTEM\\CurrentControlSet\\Services\\"

static cJSON *
service(const struct sim *s, const char *name)
{
	return sim_child(sim_child(s->doc, "services"), name);
}

static uint32_t
svc_enum(const cJSON *svc, const char *key, const struct sim_name *t,
	 uint32_t dflt)
{
	uint32_t v = dflt;
	const char *name = sim_str(svc, key);

	if (name != NULL)
		sim_name_value(t, name, &v);
	return v;
}

static hr_t
svc_fault(const cJSON *svc, const char *key)
{
	return hr_from_win32(
	    (uint32_t)sim_u64(sim_child(svc, "fault"), key, 0));
}

static bool
svc_hang(const cJSON *svc, const char *key)
{
	return sim_bool(sim_child(svc, "fault"), key, false);
}

static void
set_enum(cJSON *svc, const char *key, const struct sim_name *t, uint32_t v)
{
	sim_set(svc, key, cJSON_CreateString(sim_name_of(t, v)));
}

/*
 * Open the service for one operation: take the lock (after the delays)
 * and check the fault of this operation family. NULL with *hr set when
 * it cannot be used; the lock is held either way.
 */
static cJSON *
enter(struct sim *s, const char *name, const char *fault, hr_t *hr)
{
	cJSON *svc;

	sim_begin(s, name);
	*hr = HR_OK;
	if (name == NULL) {
		*hr = hr_from_win32(WIN32_INVALID_PARAMETER);
		return NULL;
	}
	if ((svc = service(s, name)) == NULL) {
		*hr = hr_from_win32(WIN32_SERVICE_DOES_NOT_EXIST);
		return NULL;
	}
	if (fault != NULL && (*hr = svc_fault(svc, fault)) != HR_OK)
		return NULL;
	return svc;
}

/* ---- queries ----------------------------------------------------------- */

static uint32_t
svc_type(const cJSON *svc)
{
	uint32_t t =
	    svc_enum(svc, "type", sim_svc_types, SVC_TYPE_SHARE_PROCESS);

	return sim_bool(svc, "interactive", false) ? t | SVC_TYPE_INTERACTIVE
						   : t;
}

/* The file's pid, else one made up from the service's place in it. */
static uint32_t
svc_pid(const struct sim *s, const cJSON *svc)
{
	const cJSON *it;
	uint32_t i = 0;

	if (cJSON_GetObjectItemCaseSensitive(svc, "pid") != NULL)
		return (uint32_t)sim_u64(svc, "pid", 0);
	cJSON_ArrayForEach(it, sim_child(s->doc, "services"))
	{
		if (it == svc)
			break;
		i++;
	}
	return 1000 + 4 * i;
}

static void
fill_status(const struct sim *s, const cJSON *svc, struct svc_status *out)
{
	uint32_t code = 0;

	memset(out, 0, sizeof(*out));
	out->type = svc_type(svc);
	out->state =
	    (enum svc_state)svc_enum(svc, "state", sim_svc_states, SVC_STOPPED);
	if (out->state == SVC_RUNNING)
		out->controls_accepted = ACCEPT_STOP | ACCEPT_SHUTDOWN;
	else if (out->state == SVC_PAUSED)
		out->controls_accepted =
		    ACCEPT_STOP | ACCEPT_PAUSE_CONTINUE | ACCEPT_SHUTDOWN;
	out->win32_exit_code = (uint32_t)sim_u64(svc, "exit_code", 0);
	sim_code(cJSON_GetObjectItemCaseSensitive(svc, "service_exit_code"),
		 &code);
	out->service_exit_code = code;
	if (out->state != SVC_STOPPED)
		out->pid = svc_pid(s, svc);
}

hr_t
sim_service_status(struct host *h, const char *name, struct svc_status *out)
{
	struct sim *s = sim_of(h);
	const cJSON *svc;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	if ((svc = enter(s, name, "query", &hr)) != NULL)
		fill_status(s, svc, out);
	sim_end(s);
	return hr;
}

hr_t
sim_service_config(struct host *h, const char *name, struct svc_config *out)
{
	struct sim *s = sim_of(h);
	const cJSON *svc;
	const char *v;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	if ((svc = enter(s, name, "query", &hr)) == NULL)
		goto out;
	out->type = svc_type(svc);
	out->start_type = (enum svc_start)svc_enum(
	    svc, "start_type", sim_svc_starts, SVC_DEMAND_START);
	out->error_control = (enum svc_error_control)svc_enum(
	    svc, "error_control", sim_svc_errctl, SVC_ERROR_NORMAL);
	v = sim_str(svc, "binary_path");
	out->binary_path = xstrdup(v != NULL ? v : "");
	v = sim_str(svc, "account");
	out->account = xstrdup(v != NULL ? v : "LocalSystem");
	v = sim_str(svc, "display_name");
	out->display_name = xstrdup(v != NULL ? v : svc->string);
	sim_strlist(sim_child(svc, "dependencies"), &out->dependencies);
out:
	sim_end(s);
	return hr;
}

hr_t
sim_service_delayed_auto(struct host *h, const char *name, bool *out)
{
	struct sim *s = sim_of(h);
	const cJSON *svc;
	hr_t hr;

	*out = false;
	if ((svc = enter(s, name, "config2", &hr)) != NULL)
		*out = sim_bool(svc, "delayed_auto_start", false);
	sim_end(s);
	return hr;
}

hr_t
sim_service_failure_actions(struct host *h, const char *name,
			    struct svc_failure_actions *out)
{
	struct sim *s = sim_of(h);
	const cJSON *svc, *fa, *acts, *a;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	if ((svc = enter(s, name, "config2", &hr)) == NULL)
		goto out;
	fa = sim_child(svc, "failure_actions");
	out->reset_s = (uint32_t)sim_u64(fa, "reset_s", 0);
	acts = sim_child(fa, "actions");
	if (cJSON_GetArraySize(acts) > 0)
		out->actions = xcalloc((size_t)cJSON_GetArraySize(acts),
				       sizeof(*out->actions));
	cJSON_ArrayForEach(a, acts)
	{
		out->actions[out->n].type = (enum svc_action_type)svc_enum(
		    a, "type", sim_action_types, SVC_ACTION_NONE);
		out->actions[out->n].delay_ms =
		    (uint32_t)sim_u64(a, "delay_ms", 0);
		out->n++;
	}
out:
	sim_end(s);
	return hr;
}

hr_t
sim_service_sid_type(struct host *h, const char *name, enum svc_sid_type *out)
{
	struct sim *s = sim_of(h);
	const cJSON *svc;
	hr_t hr;

	*out = SVC_SID_NONE;
	if ((svc = enter(s, name, "config2", &hr)) != NULL)
		*out = (enum svc_sid_type)svc_enum(svc, "sid_type",
						   sim_sid_types, SVC_SID_NONE);
	sim_end(s);
	return hr;
}

hr_t
sim_service_privileges(struct host *h, const char *name, struct strlist *out)
{
	struct sim *s = sim_of(h);
	const cJSON *svc;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	if ((svc = enter(s, name, "config2", &hr)) != NULL)
		sim_strlist(sim_child(svc, "required_privileges"), out);
	sim_end(s);
	return hr;
}

/* ---- start and stop ---------------------------------------------------- */

/* strcasestr, which is not everywhere. */
static const char *
find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* The GROUP of "svchost.exe ... -k GROUP", or NULL (caller frees). */
static char *
svchost_group(const char *bin)
{
	const char *k = find_ci(bin, " -k");
	size_t n;

	if (k == NULL)
		return NULL;
	k += 3;
	if (*k != ' ' && *k != '\t')
		return NULL;
	k += strspn(k, " \t");
	n = strcspn(k, " \t\"");
	return n > 0 ? xasprintf("%.*s", (int)n, k) : NULL;
}

static bool
reg_has_value(const struct sim *s, const char *key, const char *value)
{
	return sim_child(sim_reg_key(s, key), value) != NULL;
}

/*
 * What svchost needs to host a service: its name in the group's list
 * and a ServiceDll to load.
 */
static hr_t
check_svchost(const struct sim *s, const cJSON *svc)
{
	const char *bin = sim_str(svc, "binary_path"), *why;
	struct reg_value list = {0};
	char *group, *key;
	bool listed = false;

	if (bin == NULL || find_ci(bin, "svchost.exe") == NULL)
		return HR_OK;
	if ((group = svchost_group(bin)) != NULL &&
	    sim_reg_decode(sim_child(sim_reg_key(s, SVCHOST_KEY), group), &list,
			   &why) &&
	    list.type == REGT_MULTI_SZ)
		listed = strlist_contains_ci(&list.multi, svc->string);
	reg_value_clear(&list);
	free(group);
	if (!listed)
		return hr_from_win32(WIN32_SERVICE_NOT_IN_EXE);
	key = xasprintf(SERVICES_KEY "%s\\Parameters", svc->string);
	listed = reg_has_value(s, key, "ServiceDll");
	free(key);
	key = xasprintf(SERVICES_KEY "%s", svc->string);
	listed = listed || reg_has_value(s, key, "ServiceDll");
	free(key);
	return listed ? HR_OK : hr_from_win32(WIN32_FILE_NOT_FOUND);
}

static hr_t start_service(struct sim *s, cJSON *svc, unsigned depth);

/* Dependencies start first; the SCM reports their failure as 1068. */
static hr_t
start_dependencies(struct sim *s, const cJSON *svc, unsigned depth)
{
	const cJSON *d;
	cJSON *dep;
	uint32_t state;

	cJSON_ArrayForEach(d, sim_child(svc, "dependencies"))
	{
		/* "+Group": load-order groups have no state of their own. */
		if (!cJSON_IsString(d) || d->valuestring[0] == '+')
			continue;
		if ((dep = service(s, d->valuestring)) == NULL)
			return hr_from_win32(WIN32_SERVICE_DEPENDENCY_DELETED);
		if (svc_enum(dep, "start_type", sim_svc_starts,
			     SVC_DEMAND_START) == SVC_DISABLED)
			return hr_from_win32(WIN32_DEPENDENCY_FAIL);
		state = svc_enum(dep, "state", sim_svc_states, SVC_STOPPED);
		if (state == SVC_STOPPED &&
		    start_service(s, dep, depth + 1) ==
			hr_from_win32(SIM_ERROR_CIRCULAR_DEPENDENCY))
			return hr_from_win32(SIM_ERROR_CIRCULAR_DEPENDENCY);
		/* A dependency that is not up (failed, hung) fails us. */
		state = svc_enum(dep, "state", sim_svc_states, SVC_STOPPED);
		if (state != SVC_RUNNING && state != SVC_PAUSED)
			return hr_from_win32(WIN32_DEPENDENCY_FAIL);
	}
	return HR_OK;
}

/* A fresh process id, above any in the file. */
static uint32_t
new_pid(const struct sim *s)
{
	const cJSON *it;
	uint32_t max = 1000;

	cJSON_ArrayForEach(it, sim_child(s->doc, "services"))
	{
		uint32_t p = (uint32_t)sim_u64(it, "pid", 0);

		if (p > max)
			max = p;
	}
	return max + 4;
}

/* ---- what the update agent does when wuauserv starts -------------------- */

#define WU_KEY                                                                 \
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate"
#define NT_KEY "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
/* A new store's database: not empty, as the checks expect of one. */
#define NEW_DATASTORE_BYTES 1048576
#define VALIDATION_BYTES    40

/* %SystemRoot%, as the checks read it (caller frees). */
static char *
system_root(const struct sim *s)
{
	struct reg_value v = {0};
	const char *why;
	char *root = NULL;

	if (sim_reg_decode(sim_child(sim_reg_key(s, NT_KEY), "SystemRoot"), &v,
			   &why) &&
	    (v.type == REGT_SZ || v.type == REGT_EXPAND_SZ) && v.str[0] != '\0')
		root = xstrdup(v.str);
	reg_value_clear(&v);
	return root != NULL ? root : xstrdup("C:\\Windows");
}

/* Is there a files entry at path or below it? */
static bool
path_taken(const struct sim *s, const char *path)
{
	size_t n = strlen(path);
	const cJSON *f;
	char *head;
	bool hit = false;

	cJSON_ArrayForEach(f, sim_child(s->doc, "files"))
	{
		if (sim_path_eq(f->string, path))
			return true;
		if (strlen(f->string) <= n ||
		    (f->string[n] != '\\' && f->string[n] != '/'))
			continue;
		head = xasprintf("%.*s", (int)n, f->string);
		hit = sim_path_eq(head, path);
		free(head);
		if (hit)
			return true;
	}
	return false;
}

static void
add_entry(cJSON *files, const char *path, const char *type, const char *iso)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", type);
	if (strcmp(type, "file") == 0)
		cJSON_AddNumberToObject(e, "size", NEW_DATASTORE_BYTES);
	cJSON_AddStringToObject(e, "mtime", iso);
	cJSON_AddStringToObject(e, "created", iso);
	cJSON_AddItemToObject(files, path, e);
}

/* The agent builds a new store when it finds none. */
static void
agent_store(struct sim *s)
{
	char *root = system_root(s), *dir, *p, iso[32];
	cJSON *files;

	dir = xasprintf("%s\\SoftwareDistribution", root);
	if (path_taken(s, dir))
		goto out;
	plat_utc_iso(iso);
	files = sim_obj(s->doc, "files");
	add_entry(files, dir, "dir", iso);
	p = xasprintf("%s\\DataStore", dir);
	add_entry(files, p, "dir", iso);
	free(p);
	p = xasprintf("%s\\DataStore\\DataStore.edb", dir);
	add_entry(files, p, "file", iso);
	free(p);
	p = xasprintf("%s\\Download", dir);
	add_entry(files, p, "dir", iso);
	free(p);
out:
	free(dir);
	free(root);
}

static char *
hex_bytes(const unsigned char *b, size_t n)
{
	char *hex = xmalloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[2 * n] = '\0';
	return hex;
}

/* The agent makes a new WSUS identity when it has none. */
static void
agent_client_id(struct sim *s)
{
	unsigned char r[16 + VALIDATION_BYTES];
	mbedtls_entropy_context e;
	cJSON *key = sim_reg_key(s, WU_KEY), *val;
	char guid[37], *hex;
	int rc;

	if (sim_child(key, "SusClientId") != NULL)
		return;
	mbedtls_entropy_init(&e);
	rc = mbedtls_entropy_func(&e, r, sizeof(r));
	mbedtls_entropy_free(&e);
	/* Without randomness the agent would not invent an id either. */
	if (rc != 0)
		return;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	hex = hex_bytes(r, 16);
	snprintf(guid, sizeof(guid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
	free(hex);
	if (key == NULL) {
		key = cJSON_CreateObject();
		cJSON_AddItemToObject(sim_obj(s->doc, "registry"), WU_KEY, key);
	}
	sim_set(key, "SusClientId", cJSON_CreateString(guid));
	val = cJSON_CreateObject();
	cJSON_AddStringToObject(val, "type", "REG_BINARY");
	hex = hex_bytes(r + 16, VALIDATION_BYTES);
	cJSON_AddStringToObject(val, "data", hex);
	free(hex);
	sim_set(key, "SusClientIdValidation", val);
}

/* wuauserv is up: what its agent does first (see host_sim.c). */
static void
agent_starts(struct sim *s)
{
	agent_store(s);
	agent_client_id(s);
}

static hr_t
start_service(struct sim *s, cJSON *svc, unsigned depth)
{
	uint64_t exit;
	hr_t hr;

	if ((hr = svc_fault(svc, "start")) != HR_OK)
		return hr;
	if (svc_enum(svc, "start_type", sim_svc_starts, SVC_DEMAND_START) ==
	    SVC_DISABLED)
		return hr_from_win32(WIN32_SERVICE_DISABLED);
	if (svc_enum(svc, "state", sim_svc_states, SVC_STOPPED) != SVC_STOPPED)
		return hr_from_win32(WIN32_SERVICE_ALREADY_RUNNING);
	if (depth > MAX_DEPENDENCY_DEPTH)
		return hr_from_win32(SIM_ERROR_CIRCULAR_DEPENDENCY);
	if ((hr = start_dependencies(s, svc, depth)) != HR_OK ||
	    (hr = check_svchost(s, svc)) != HR_OK) {
		/* The SCM records why the service did not come up. */
		sim_set(svc, "exit_code", cJSON_CreateNumber(hr & 0xFFFFu));
		return hr;
	}
	if ((exit = sim_u64(sim_child(svc, "fault"), "exit_on_start", 0)) !=
	    0) {
		/* It ran and died: the start itself succeeded. */
		sim_set(svc, "exit_code", cJSON_CreateNumber((double)exit));
		return HR_OK;
	}
	sim_set(svc, "pid", cJSON_CreateNumber(new_pid(s)));
	sim_set(svc, "exit_code", cJSON_CreateNumber(0));
	set_enum(svc, "state", sim_svc_states,
		 svc_hang(svc, "hang_start") ? SVC_START_PENDING : SVC_RUNNING);
	if (!svc_hang(svc, "hang_start") &&
	    strcasecmp(svc->string, "wuauserv") == 0)
		agent_starts(s);
	return HR_OK;
}

hr_t
sim_service_start(struct host *h, const char *name)
{
	struct sim *s = sim_of(h);
	cJSON *svc;
	hr_t hr, hr2;

	if ((svc = enter(s, name, NULL, &hr)) != NULL) {
		hr = start_service(s, svc, 0);
		/* Failures change exit codes and dependencies' states too. */
		if ((hr2 = sim_commit(s)) != HR_OK && hr == HR_OK)
			hr = hr2;
	}
	sim_end(s);
	return hr;
}

static hr_t
stop_service(struct sim *s, cJSON *svc)
{
	uint32_t state = svc_enum(svc, "state", sim_svc_states, SVC_STOPPED);
	hr_t hr;

	if ((hr = svc_fault(svc, "stop")) != HR_OK)
		return hr;
	if (state == SVC_STOPPED)
		return hr_from_win32(WIN32_SERVICE_NOT_ACTIVE);
	if (state != SVC_RUNNING && state != SVC_PAUSED)
		return hr_from_win32(WIN32_SERVICE_CANNOT_ACCEPT_CTRL);
	if (svc_hang(svc, "hang_stop")) {
		set_enum(svc, "state", sim_svc_states, SVC_STOP_PENDING);
	} else {
		set_enum(svc, "state", sim_svc_states, SVC_STOPPED);
		sim_set(svc, "exit_code", cJSON_CreateNumber(0));
		cJSON_DeleteItemFromObjectCaseSensitive(svc, "pid");
	}
	return sim_commit(s);
}

hr_t
sim_service_control(struct host *h, const char *name, uint32_t control,
		    struct svc_status *out)
{
	struct sim *s = sim_of(h);
	struct svc_status local;
	cJSON *svc;
	hr_t hr;

	if (out == NULL)
		out = &local;
	memset(out, 0, sizeof(*out));
	if ((svc = enter(s, name, NULL, &hr)) == NULL)
		goto out;
	if (control == SVC_CONTROL_STOP) {
		hr = stop_service(s, svc);
	} else if (control == SVC_CONTROL_INTERROGATE) {
		if (svc_enum(svc, "state", sim_svc_states, SVC_STOPPED) ==
		    SVC_STOPPED)
			hr = hr_from_win32(WIN32_SERVICE_NOT_ACTIVE);
	} else {
		hr = hr_from_win32(SIM_ERROR_INVALID_SERVICE_CONTROL);
	}
	fill_status(s, svc, out);
out:
	sim_end(s);
	return hr;
}

/* ---- configuration ----------------------------------------------------- */

/* fault.config_ops.FIELD: the change of that one field fails. */
static hr_t
op_fault(const cJSON *svc, const char *field)
{
	const cJSON *ops = sim_child(sim_child(svc, "fault"), "config_ops");

	return hr_from_win32((uint32_t)sim_u64(ops, field, 0));
}

/* A ChangeServiceConfigW fails with the fault of the first field it
 * sets that has one. */
static hr_t
change_fault(const cJSON *svc, const struct svc_config_change *c)
{
	const struct {
		bool set;
		const char *field;
	} f[] = {
	    {c->type >= 0, "type"},
	    {c->start_type >= 0, "start_type"},
	    {c->error_control >= 0, "error_control"},
	    {c->binary_path != NULL, "binary_path"},
	    {c->account != NULL, "account"},
	    {c->dependencies != NULL, "dependencies"},
	};
	hr_t hr;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].set && (hr = op_fault(svc, f[i].field)) != HR_OK)
			return hr;
	return HR_OK;
}

/* What ChangeServiceConfigW refuses before it changes anything. */
static hr_t
check_change(const cJSON *svc, const struct svc_config_change *c)
{
	const hr_t bad = hr_from_win32(WIN32_INVALID_PARAMETER);
	uint32_t type = svc_type(svc), base;

	if (c->type >= 0) {
		if (c->type > UINT32_MAX)
			return bad;
		type = (uint32_t)c->type;
	}
	base = type & ~(uint32_t)SVC_TYPE_INTERACTIVE;
	if (sim_name_of(sim_svc_types, base) == NULL ||
	    ((type & SVC_TYPE_INTERACTIVE) &&
	     !(base & (SVC_TYPE_OWN_PROCESS | SVC_TYPE_SHARE_PROCESS))))
		return bad;
	if (c->start_type >= 0 &&
	    (c->start_type > SVC_DISABLED ||
	     /* Boot and system start are for drivers only. */
	     (c->start_type <= SVC_SYSTEM_START &&
	      (base & (SVC_TYPE_OWN_PROCESS | SVC_TYPE_SHARE_PROCESS)))))
		return bad;
	if (c->error_control >= 0 && c->error_control > SVC_ERROR_CRITICAL)
		return bad;
	return HR_OK;
}

static void
apply_change(cJSON *svc, const struct svc_config_change *c)
{
	if (c->type >= 0) {
		set_enum(svc, "type", sim_svc_types,
			 (uint32_t)c->type & ~(uint32_t)SVC_TYPE_INTERACTIVE);
		if (c->type & SVC_TYPE_INTERACTIVE)
			sim_set(svc, "interactive", cJSON_CreateTrue());
		else
			cJSON_DeleteItemFromObjectCaseSensitive(svc,
								"interactive");
	}
	if (c->start_type >= 0)
		set_enum(svc, "start_type", sim_svc_starts,
			 (uint32_t)c->start_type);
	if (c->error_control >= 0)
		set_enum(svc, "error_control", sim_svc_errctl,
			 (uint32_t)c->error_control);
	if (c->binary_path != NULL)
		sim_set(svc, "binary_path", cJSON_CreateString(c->binary_path));
	if (c->account != NULL)
		sim_set(svc, "account", cJSON_CreateString(c->account));
	if (c->dependencies != NULL)
		sim_set(svc, "dependencies", sim_strlist_json(c->dependencies));
}

hr_t
sim_service_change_config(struct host *h, const char *name,
			  const struct svc_config_change *c)
{
	struct sim *s = sim_of(h);
	cJSON *svc;
	hr_t hr;

	if ((svc = enter(s, name, "config", &hr)) == NULL)
		goto out;
	if (c == NULL) {
		hr = hr_from_win32(WIN32_INVALID_PARAMETER);
		goto out;
	}
	if ((hr = change_fault(svc, c)) != HR_OK ||
	    (hr = check_change(svc, c)) != HR_OK)
		goto out;
	apply_change(svc, c);
	hr = sim_commit(s);
out:
	sim_end(s);
	return hr;
}

/*
 * One ChangeServiceConfig2W level: set svc.key to item, or refuse with
 * ERROR_INVALID_PARAMETER when item is NULL. key is also the level's
 * name in fault.config_ops.
 */
static hr_t
set_config2(struct host *h, const char *name, const char *key, cJSON *item)
{
	struct sim *s = sim_of(h);
	cJSON *svc;
	hr_t hr;

	if ((svc = enter(s, name, "config", &hr)) == NULL ||
	    (hr = op_fault(svc, key)) != HR_OK)
		goto out;
	if (item == NULL) {
		hr = hr_from_win32(WIN32_INVALID_PARAMETER);
		goto out;
	}
	sim_set(svc, key, item);
	item = NULL;
	hr = sim_commit(s);
out:
	cJSON_Delete(item);
	sim_end(s);
	return hr;
}

hr_t
sim_service_set_delayed_auto(struct host *h, const char *name, bool on)
{
	return set_config2(h, name, "delayed_auto_start", cJSON_CreateBool(on));
}

static cJSON *
failure_json(const struct svc_failure_actions *fa)
{
	cJSON *o, *acts, *a;
	const char *type;

	if (fa == NULL || (fa->n > 0 && fa->actions == NULL))
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "reset_s", fa->reset_s);
	acts = cJSON_AddArrayToObject(o, "actions");
	for (size_t i = 0; i < fa->n; i++) {
		if ((type = sim_name_of(sim_action_types,
					fa->actions[i].type)) == NULL) {
			cJSON_Delete(o);
			return NULL;
		}
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "type", type);
		cJSON_AddNumberToObject(a, "delay_ms", fa->actions[i].delay_ms);
		cJSON_AddItemToArray(acts, a);
	}
	return o;
}

hr_t
sim_service_set_failure_actions(struct host *h, const char *name,
				const struct svc_failure_actions *fa)
{
	return set_config2(h, name, "failure_actions", failure_json(fa));
}

hr_t
sim_service_set_sid_type(struct host *h, const char *name, enum svc_sid_type t)
{
	const char *n = sim_name_of(sim_sid_types, (uint32_t)t);

	return set_config2(h, name, "sid_type",
			   n != NULL ? cJSON_CreateString(n) : NULL);
}

hr_t
sim_service_set_privileges(struct host *h, const char *name,
			   const struct strlist *privs)
{
	return set_config2(h, name, "required_privileges",
			   privs != NULL ? sim_strlist_json(privs) : NULL);
}
