/*
 * host_sim_load.c: parsing and strict validation of a simulated host.
 *
 * A table per JSON object says which keys it has and what each must be;
 * one generic walker checks a document against the tables before any
 * operation sees it, so the operations can trust the types they read.
 * The input may be anything (the loader is fuzzed): every value is
 * type-checked before use and errors name their JSON path.
 */
#include "platform/host_sim.h"
#include "platform/host_sim_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"

/* Longest JSON path kept in a message; deeper ones are cut. */
#define PATH_MAX_LEN 512

enum kind {
	K_STR,	    /* string */
	K_STR_NULL, /* string or null */
	K_BOOL,
	K_U32,	   /* integer 0..2^32-1 */
	K_U64,	   /* integer >= 0 */
	K_CODE,	   /* Win32 error number 0..65535 */
	K_HEX,	   /* HRESULT: number or "0x..." */
	K_TIME,	   /* RFC 3339 string */
	K_ENUM,	   /* one of names */
	K_STRLIST, /* array of strings */
	K_OBJ,	   /* object of fields sub */
	K_OBJLIST, /* array of objects of fields sub */
	K_MAP,	   /* object: NAME -> fn() */
};

struct vctx {
	const char *name;
	char *err;
	size_t errlen;
};

struct field {
	const char *key;
	enum kind kind;
	bool required;
	const struct sim_name *names;
	const struct field *sub;
	/* K_MAP: validates one entry; also checks the name's form. */
	int (*entry)(struct vctx *v, const cJSON *e, const char *path);
	/* K_MAP: are two names the same (case-insensitive rules)? */
	bool (*same)(const char *a, const char *b);
};

static int check_fields(struct vctx *v, const cJSON *obj, const char *path,
			const struct field *fields);

static int fail(struct vctx *v, const char *path, const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));

static int
fail(struct vctx *v, const char *path, const char *fmt, ...)
{
	char msg[PATH_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->err != NULL && v->errlen > 0)
		snprintf(v->err, v->errlen, "%s: %s%s%s", v->name, path,
			 *path != '\0' ? ": " : "", msg);
	return -1;
}

static void
subpath(char *out, const char *path, const char *key)
{
	snprintf(out, PATH_MAX_LEN, "%s%s%s", path, *path != '\0' ? "." : "",
		 key);
}

/* ---- field kinds ------------------------------------------------------- */

static const struct sim_name file_types[] = {
    {"file", 0},
    {"dir", 1},
    {NULL, 0},
};

static int
check_enum(struct vctx *v, const cJSON *j, const char *path,
	   const struct sim_name *names)
{
	uint32_t dummy;
	char *list;
	int rc;

	if (!cJSON_IsString(j))
		return fail(v, path, "expected a string");
	if (sim_name_value(names, j->valuestring, &dummy))
		return 0;
	list = sim_name_list(names);
	rc = fail(v, path, "unknown value \"%.64s\" (expected %s)",
		  j->valuestring, list);
	free(list);
	return rc;
}

/* "path[i]"; a path too deep for the buffer is cut, which only shortens
 * an error message. */
static void
index_path(char out[PATH_MAX_LEN], const char *path, size_t i)
{
	if (snprintf(out, PATH_MAX_LEN, "%s[%zu]", path, i) >= PATH_MAX_LEN)
		out[PATH_MAX_LEN - 1] = '\0';
}

static int
check_strlist(struct vctx *v, const cJSON *j, const char *path)
{
	const cJSON *it;
	size_t i = 0;
	char p[PATH_MAX_LEN];

	if (!cJSON_IsArray(j))
		return fail(v, path, "expected an array of strings");
	cJSON_ArrayForEach(it, j)
	{
		index_path(p, path, i++);
		if (!cJSON_IsString(it))
			return fail(v, p, "expected a string");
	}
	return 0;
}

static int
check_objlist(struct vctx *v, const cJSON *j, const char *path,
	      const struct field *sub)
{
	const cJSON *it;
	size_t i = 0;
	char p[PATH_MAX_LEN];

	if (!cJSON_IsArray(j))
		return fail(v, path, "expected an array of objects");
	cJSON_ArrayForEach(it, j)
	{
		index_path(p, path, i++);
		if (check_fields(v, it, p, sub) != 0)
			return -1;
	}
	return 0;
}

static int
check_map(struct vctx *v, const cJSON *j, const char *path,
	  const struct field *f)
{
	const cJSON *it, *prev;
	char p[PATH_MAX_LEN];

	if (!cJSON_IsObject(j))
		return fail(v, path, "expected an object");
	cJSON_ArrayForEach(it, j)
	{
		subpath(p, path, it->string);
		for (prev = j->child; prev != it; prev = prev->next)
			if (f->same(prev->string, it->string))
				return fail(v, p,
					    "the same name as \"%.200s\" "
					    "(names are case-insensitive)",
					    prev->string);
		if (f->entry(v, it, p) != 0)
			return -1;
	}
	return 0;
}

static int
check_value(struct vctx *v, const cJSON *j, const char *path,
	    const struct field *f)
{
	uint64_t n;
	uint32_t c;
	int64_t t;

	switch (f->kind) {
	case K_STR:
		return cJSON_IsString(j) ? 0
					 : fail(v, path, "expected a string");
	case K_STR_NULL:
		return cJSON_IsString(j) || cJSON_IsNull(j)
			   ? 0
			   : fail(v, path, "expected a string or null");
	case K_BOOL:
		return cJSON_IsBool(j) ? 0 : fail(v, path, "expected a bool");
	case K_U32:
		return sim_num_u64(j, &n) && n <= UINT32_MAX
			   ? 0
			   : fail(v, path,
				  "expected an integer from 0 to "
				  "4294967295");
	case K_U64:
		return sim_num_u64(j, &n)
			   ? 0
			   : fail(v, path, "expected an integer >= 0");
	case K_CODE:
		return sim_num_u64(j, &n) && n <= 0xFFFF
			   ? 0
			   : fail(v, path,
				  "expected a Win32 error number "
				  "(0 to 65535)");
	case K_HEX:
		return sim_code(j, &c) ? 0
				       : fail(v, path,
					      "expected an HRESULT "
					      "(\"0x80200013\")");
	case K_TIME:
		return cJSON_IsString(j) && sim_parse_time(j->valuestring, &t)
			   ? 0
			   : fail(v, path,
				  "expected an RFC 3339 time "
				  "(\"2026-11-20T10:00:00Z\")");
	case K_ENUM:
		return check_enum(v, j, path, f->names);
	case K_STRLIST:
		return check_strlist(v, j, path);
	case K_OBJ:
		return check_fields(v, j, path, f->sub);
	case K_OBJLIST:
		return check_objlist(v, j, path, f->sub);
	case K_MAP:
		return check_map(v, j, path, f);
	}
	return fail(v, path, "internal: unknown field kind");
}

static const struct field *
find_field(const struct field *fields, const char *key)
{
	for (; fields->key != NULL; fields++)
		if (strcmp(fields->key, key) == 0)
			return fields;
	return NULL;
}

static int
check_fields(struct vctx *v, const cJSON *obj, const char *path,
	     const struct field *fields)
{
	const cJSON *it, *prev;
	const struct field *f;
	char p[PATH_MAX_LEN];

	if (!cJSON_IsObject(obj))
		return fail(v, path, "expected an object");
	cJSON_ArrayForEach(it, obj)
	{
		subpath(p, path, it->string);
		for (prev = obj->child; prev != it; prev = prev->next)
			if (strcmp(prev->string, it->string) == 0)
				return fail(v, p, "duplicate key");
		if ((f = find_field(fields, it->string)) == NULL)
			return fail(v, p, "unknown key");
		if (check_value(v, it, p, f) != 0)
			return -1;
	}
	for (f = fields; f->key != NULL; f++) {
		if (f->required &&
		    cJSON_GetObjectItemCaseSensitive(obj, f->key) == NULL) {
			subpath(p, path, f->key);
			return fail(v, p, "missing (required)");
		}
	}
	return 0;
}

/* ---- names of map entries ---------------------------------------------- */

static bool
same_ci(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static bool
is_sep(char c)
{
	return c == '\\' || c == '/';
}

static bool
is_drive(const char *s)
{
	return ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) &&
	       s[1] == ':';
}

/* ---- schemas ----------------------------------------------------------- */

static const struct field computer_fields[] = {
    {"name", K_STR, true, NULL, NULL, NULL, NULL},
    {"os_version", K_STR, true, NULL, NULL, NULL, NULL},
    {"machine_guid", K_STR, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field action_fields[] = {
    {"type", K_ENUM, true, sim_action_types, NULL, NULL, NULL},
    {"delay_ms", K_U32, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field failure_fields[] = {
    {"reset_s", K_U32, false, NULL, NULL, NULL, NULL},
    {"actions", K_OBJLIST, false, NULL, action_fields, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

/* fault.config_ops: one code per field ChangeServiceConfig(2)W sets. */
static const struct field config_op_fields[] = {
    {"type", K_CODE, false, NULL, NULL, NULL, NULL},
    {"start_type", K_CODE, false, NULL, NULL, NULL, NULL},
    {"error_control", K_CODE, false, NULL, NULL, NULL, NULL},
    {"binary_path", K_CODE, false, NULL, NULL, NULL, NULL},
    {"account", K_CODE, false, NULL, NULL, NULL, NULL},
    {"dependencies", K_CODE, false, NULL, NULL, NULL, NULL},
    {"delayed_auto_start", K_CODE, false, NULL, NULL, NULL, NULL},
    {"failure_actions", K_CODE, false, NULL, NULL, NULL, NULL},
    {"sid_type", K_CODE, false, NULL, NULL, NULL, NULL},
    {"required_privileges", K_CODE, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field svc_fault_fields[] = {
    {"query", K_CODE, false, NULL, NULL, NULL, NULL},
    {"config2", K_CODE, false, NULL, NULL, NULL, NULL},
    {"start", K_CODE, false, NULL, NULL, NULL, NULL},
    {"stop", K_CODE, false, NULL, NULL, NULL, NULL},
    {"config", K_CODE, false, NULL, NULL, NULL, NULL},
    {"config_ops", K_OBJ, false, NULL, config_op_fields, NULL, NULL},
    {"hang_start", K_BOOL, false, NULL, NULL, NULL, NULL},
    {"hang_stop", K_BOOL, false, NULL, NULL, NULL, NULL},
    {"exit_on_start", K_CODE, false, NULL, NULL, NULL, NULL},
    {"delay_ms", K_U32, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field service_fields[] = {
    {"type", K_ENUM, false, sim_svc_types, NULL, NULL, NULL},
    {"interactive", K_BOOL, false, NULL, NULL, NULL, NULL},
    {"state", K_ENUM, false, sim_svc_states, NULL, NULL, NULL},
    {"start_type", K_ENUM, false, sim_svc_starts, NULL, NULL, NULL},
    {"delayed_auto_start", K_BOOL, false, NULL, NULL, NULL, NULL},
    {"display_name", K_STR, false, NULL, NULL, NULL, NULL},
    {"account", K_STR, false, NULL, NULL, NULL, NULL},
    {"binary_path", K_STR, false, NULL, NULL, NULL, NULL},
    {"dependencies", K_STRLIST, false, NULL, NULL, NULL, NULL},
    {"error_control", K_ENUM, false, sim_svc_errctl, NULL, NULL, NULL},
    {"required_privileges", K_STRLIST, false, NULL, NULL, NULL, NULL},
    {"sid_type", K_ENUM, false, sim_sid_types, NULL, NULL, NULL},
    {"failure_actions", K_OBJ, false, NULL, failure_fields, NULL, NULL},
    {"exit_code", K_U32, false, NULL, NULL, NULL, NULL},
    {"service_exit_code", K_HEX, false, NULL, NULL, NULL, NULL},
    {"pid", K_U32, false, NULL, NULL, NULL, NULL},
    {"fault", K_OBJ, false, NULL, svc_fault_fields, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field file_fault_fields[] = {
    {"rename", K_CODE, false, NULL, NULL, NULL, NULL},
    {"read", K_CODE, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field file_fields[] = {
    {"type", K_ENUM, false, file_types, NULL, NULL, NULL},
    {"version", K_STR, false, NULL, NULL, NULL, NULL},
    {"size", K_U64, false, NULL, NULL, NULL, NULL},
    {"mtime", K_TIME, false, NULL, NULL, NULL, NULL},
    {"created", K_TIME, false, NULL, NULL, NULL, NULL},
    {"text", K_STR, false, NULL, NULL, NULL, NULL},
    {"text_file", K_STR, false, NULL, NULL, NULL, NULL},
    {"fault", K_OBJ, false, NULL, file_fault_fields, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field volume_fields[] = {
    {"free_bytes", K_U64, true, NULL, NULL, NULL, NULL},
    {"total_bytes", K_U64, true, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static int entry_regkey(struct vctx *v, const cJSON *e, const char *path);

static const struct field program_fields[] = {
    {"exit_code", K_U32, false, NULL, NULL, NULL, NULL},
    {"output", K_STR, false, NULL, NULL, NULL, NULL},
    {"delay_ms", K_U32, false, NULL, NULL, NULL, NULL},
    {"hang", K_BOOL, false, NULL, NULL, NULL, NULL},
    {"registry", K_MAP, false, NULL, NULL, entry_regkey, sim_reg_key_eq},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field run_fields[] = {
    {"argv", K_STRLIST, false, NULL, NULL, NULL, NULL},
    {"api", K_STR, false, NULL, NULL, NULL, NULL},
    {"time", K_TIME, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field wua_fields[] = {
    {"detect_now", K_HEX, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field proxy_fields[] = {
    {"proxy", K_STR_NULL, false, NULL, NULL, NULL, NULL},
    {"bypass", K_STR_NULL, false, NULL, NULL, NULL, NULL},
    {"auto_detect", K_BOOL, false, NULL, NULL, NULL, NULL},
    {"auto_config_url", K_STR_NULL, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field trust_fields[] = {
    {"ca_file", K_STR, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field job_fields[] = {
    {"id", K_STR, false, NULL, NULL, NULL, NULL},
    {"name", K_STR, false, NULL, NULL, NULL, NULL},
    {"owner", K_STR, false, NULL, NULL, NULL, NULL},
    {"url", K_STR, false, NULL, NULL, NULL, NULL},
    {"state", K_ENUM, false, sim_job_states, NULL, NULL, NULL},
    {"error", K_HEX, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static const struct field event_fields[] = {
    {"log", K_STR, true, NULL, NULL, NULL, NULL},
    {"id", K_U32, false, NULL, NULL, NULL, NULL},
    {"level", K_ENUM, false, sim_event_levels, NULL, NULL, NULL},
    {"time", K_TIME, false, NULL, NULL, NULL, NULL},
    {"code", K_HEX, false, NULL, NULL, NULL, NULL},
    {"message", K_STR, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

static int entry_fault_key(struct vctx *v, const cJSON *e, const char *path);

static const struct field fault_fields[] = {
    {"rename", K_CODE, false, NULL, NULL, NULL, NULL},
    {"registry_write", K_CODE, false, NULL, NULL, NULL, NULL},
    {"registry_write_keys", K_MAP, false, NULL, NULL, entry_fault_key,
     sim_reg_key_eq},
    {"registry_read", K_CODE, false, NULL, NULL, NULL, NULL},
    {"programs", K_CODE, false, NULL, NULL, NULL, NULL},
    {"bits", K_CODE, false, NULL, NULL, NULL, NULL},
    {"events", K_CODE, false, NULL, NULL, NULL, NULL},
    {"delay_ms", K_U32, false, NULL, NULL, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

/* ---- map entries ------------------------------------------------------- */

static int
entry_service(struct vctx *v, const cJSON *e, const char *path)
{
	if (*e->string == '\0')
		return fail(v, path, "a service needs a name");
	return check_fields(v, e, path, service_fields);
}

static int
entry_regvalue(struct vctx *v, const cJSON *e, const char *path)
{
	struct reg_value rv = {0};
	const char *why = NULL;
	bool ok = sim_reg_decode(e, &rv, &why);

	reg_value_clear(&rv);
	return ok ? 0 : fail(v, path, "%s", why);
}

static const struct field regkey_field = {
    NULL, K_MAP, false, NULL, NULL, entry_regvalue, same_ci,
};

static int
entry_regkey(struct vctx *v, const cJSON *e, const char *path)
{
	const char *root = NULL, *k = e->string;
	size_t n = sim_reg_root(k, &root);

	if (n == 0)
		return fail(v, path,
			    "a key starts with HKLM, HKCU, HKCR, HKU or HKCC "
			    "(or their HKEY_ names)");
	if (strstr(k, "\\\\") != NULL)
		return fail(v, path, "empty key name in the path");
	return check_map(v, e, path, &regkey_field);
}

/* fault.registry_write_keys: "HKLM\\KEY": CODE. */
static int
entry_fault_key(struct vctx *v, const cJSON *e, const char *path)
{
	static const struct field code = {
	    NULL, K_CODE, false, NULL, NULL, NULL, NULL,
	};
	const char *root = NULL;

	if (sim_reg_root(e->string, &root) == 0)
		return fail(v, path,
			    "a key starts with HKLM, HKCU, HKCR, HKU or HKCC "
			    "(or their HKEY_ names)");
	return check_value(v, e, path, &code);
}

static int
check_version(struct vctx *v, const cJSON *ver, const char *path)
{
	unsigned a, b, c, d;
	char p[PATH_MAX_LEN], end;

	if (ver == NULL || (sscanf(ver->valuestring, "%u.%u.%u.%u%c", &a, &b,
				   &c, &d, &end) == 4 &&
			    strspn(ver->valuestring, "0123456789.") ==
				strlen(ver->valuestring)))
		return 0;
	subpath(p, path, "version");
	return fail(v, p, "expected major.minor.build.revision");
}

static int
entry_file(struct vctx *v, const cJSON *e, const char *path)
{
	const cJSON *text, *tf, *ver;
	const char *type;

	if (!is_drive(e->string) || !is_sep(e->string[2]))
		return fail(v, path, "expected an absolute path (C:\\...)");
	if (check_fields(v, e, path, file_fields) != 0)
		return -1;
	text = cJSON_GetObjectItemCaseSensitive(e, "text");
	tf = cJSON_GetObjectItemCaseSensitive(e, "text_file");
	ver = cJSON_GetObjectItemCaseSensitive(e, "version");
	type = sim_str(e, "type");
	if (text != NULL && tf != NULL)
		return fail(v, path, "text and text_file are exclusive");
	if (type != NULL && strcmp(type, "dir") == 0 &&
	    (text != NULL || tf != NULL || ver != NULL))
		return fail(v, path, "a dir has no text, text_file or version");
	return check_version(v, ver, path);
}

static int
entry_volume(struct vctx *v, const cJSON *e, const char *path)
{
	if (!is_drive(e->string) || e->string[2] != '\0')
		return fail(v, path, "a volume is a drive letter (\"C:\")");
	if (check_fields(v, e, path, volume_fields) != 0)
		return -1;
	if (sim_u64(e, "free_bytes", 0) > sim_u64(e, "total_bytes", 0))
		return fail(v, path, "free_bytes is larger than total_bytes");
	return 0;
}

static int
entry_program(struct vctx *v, const cJSON *e, const char *path)
{
	if (*e->string == '\0' || strpbrk(e->string, "\\/") != NULL)
		return fail(v, path, "a program is a file name (gpupdate.exe)");
	return check_fields(v, e, path, program_fields);
}

static const struct field doc_fields[] = {
    {"computer", K_OBJ, true, NULL, computer_fields, NULL, NULL},
    {"services", K_MAP, false, NULL, NULL, entry_service, same_ci},
    {"registry", K_MAP, false, NULL, NULL, entry_regkey, sim_reg_key_eq},
    {"files", K_MAP, false, NULL, NULL, entry_file, sim_path_eq},
    {"volumes", K_MAP, false, NULL, NULL, entry_volume, same_ci},
    {"programs", K_MAP, false, NULL, NULL, entry_program, sim_program_eq},
    {"program_log", K_OBJLIST, false, NULL, run_fields, NULL, NULL},
    {"wua", K_OBJ, false, NULL, wua_fields, NULL, NULL},
    {"winhttp_proxy", K_OBJ, false, NULL, proxy_fields, NULL, NULL},
    {"ie_proxy", K_OBJ, false, NULL, proxy_fields, NULL, NULL},
    {"trust", K_OBJ, false, NULL, trust_fields, NULL, NULL},
    {"applied_gpos", K_STRLIST, false, NULL, NULL, NULL, NULL},
    {"bits_jobs", K_OBJLIST, false, NULL, job_fields, NULL, NULL},
    {"events", K_OBJLIST, false, NULL, event_fields, NULL, NULL},
    {"fault", K_OBJ, false, NULL, fault_fields, NULL, NULL},
    {NULL, 0, false, NULL, NULL, NULL, NULL},
};

/* ---- registry values (the document's form, for loader and ops)
 * --------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
decode_binary(const cJSON *d, struct reg_value *out)
{
	const char *s;
	size_t n;

	if (!cJSON_IsString(d))
		return false;
	s = d->valuestring;
	n = strlen(s);
	if (n % 2 != 0)
		return false;
	out->bin = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out->bin[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	out->bin_len = n / 2;
	return true;
}

static bool
decode_qword(const cJSON *d, struct reg_value *out)
{
	const char *s;

	if (cJSON_IsNumber(d))
		return sim_num_u64(d, &out->num);
	if (!cJSON_IsString(d))
		return false;
	s = d->valuestring;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s[2] == '\0' ||
	    strlen(s + 2) > 16 ||
	    strspn(s + 2, "0123456789abcdefABCDEF") != strlen(s + 2))
		return false;
	out->num = strtoull(s + 2, NULL, 16);
	return true;
}

static bool
decode_data(const cJSON *d, struct reg_value *out, const char **why)
{
	const cJSON *it;

	switch (out->type) {
	case REGT_SZ:
	case REGT_EXPAND_SZ:
		*why = "data: expected a string";
		if (!cJSON_IsString(d))
			return false;
		out->str = xstrdup(d->valuestring);
		return true;
	case REGT_MULTI_SZ:
		*why = "data: expected an array of strings";
		if (!cJSON_IsArray(d))
			return false;
		cJSON_ArrayForEach(it, d)
		{
			if (!cJSON_IsString(it))
				return false;
			strlist_add(&out->multi, it->valuestring);
		}
		return true;
	case REGT_DWORD:
		*why = "data: expected an integer from 0 to 4294967295";
		return sim_num_u64(d, &out->num) && out->num <= UINT32_MAX;
	case REGT_QWORD:
		*why = "data: expected an integer >= 0 or a \"0x...\" string";
		return decode_qword(d, out);
	case REGT_BINARY:
		*why = "data: expected a hex string (\"0a1b\")";
		return decode_binary(d, out);
	default:
		*why = "unsupported type";
		return false;
	}
}

/* A value's fault: { delete: CODE }, what RegDeleteValueW of it says. */
static bool
value_fault_ok(const cJSON *f)
{
	const cJSON *it;
	uint64_t code;

	if (!cJSON_IsObject(f))
		return false;
	cJSON_ArrayForEach(it, f)
	{
		if (strcmp(it->string, "delete") != 0 ||
		    !sim_num_u64(it, &code) || code > 65535)
			return false;
	}
	return true;
}

static bool
decode_typed(const cJSON *v, struct reg_value *out, const char **why)
{
	const cJSON *it, *type = NULL, *data = NULL, *fault = NULL;
	uint32_t t;

	cJSON_ArrayForEach(it, v)
	{
		if (strcmp(it->string, "type") == 0 && type == NULL) {
			type = it;
		} else if (strcmp(it->string, "data") == 0 && data == NULL) {
			data = it;
		} else if (strcmp(it->string, "fault") == 0 && fault == NULL) {
			fault = it;
		} else {
			*why = "unknown or duplicate key (a typed value is "
			       "{type, data, fault})";
			return false;
		}
	}
	if (fault != NULL && !value_fault_ok(fault)) {
		*why = "fault: expected { delete: a Win32 code 0..65535 }";
		return false;
	}
	if (!cJSON_IsString(type) ||
	    !sim_name_value(sim_reg_types, type->valuestring, &t)) {
		*why = "type: expected REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, "
		       "REG_DWORD, REG_QWORD or REG_BINARY";
		return false;
	}
	if (data == NULL) {
		*why = "data: missing (required)";
		return false;
	}
	out->type = (enum reg_type)t;
	return decode_data(data, out, why);
}

bool
sim_reg_decode(const cJSON *v, struct reg_value *out, const char **why)
{
	bool ok;

	memset(out, 0, sizeof(*out));
	if (cJSON_IsString(v)) {
		out->type = REGT_SZ;
		out->str = xstrdup(v->valuestring);
		return true;
	}
	if (cJSON_IsNumber(v)) {
		out->type = REGT_DWORD;
		*why = "expected an integer from 0 to 4294967295 (REG_DWORD)";
		ok = sim_num_u64(v, &out->num) && out->num <= UINT32_MAX;
	} else if (cJSON_IsObject(v)) {
		ok = decode_typed(v, out, why);
	} else {
		*why = "expected a string (REG_SZ), an integer (REG_DWORD) or "
		       "{type, data}";
		ok = false;
	}
	if (!ok)
		reg_value_clear(out);
	return ok;
}

cJSON *
sim_reg_encode(const struct reg_value *v)
{
	const char *tname = sim_name_of(sim_reg_types, v->type);
	cJSON *o, *data;
	char *hex;

	switch (v->type) {
	case REGT_SZ:
		return v->str != NULL ? cJSON_CreateString(v->str) : NULL;
	case REGT_DWORD:
		return v->num <= UINT32_MAX ? cJSON_CreateNumber((double)v->num)
					    : NULL;
	case REGT_EXPAND_SZ:
		if (v->str == NULL)
			return NULL;
		data = cJSON_CreateString(v->str);
		break;
	case REGT_MULTI_SZ:
		data = sim_strlist_json(&v->multi);
		break;
	case REGT_QWORD:
		/* Above 2^53 a JSON number would lose digits. */
		if (v->num <= (1ull << 53)) {
			data = cJSON_CreateNumber((double)v->num);
		} else {
			hex = xasprintf("0x%llx", (unsigned long long)v->num);
			data = cJSON_CreateString(hex);
			free(hex);
		}
		break;
	case REGT_BINARY:
		if (v->bin == NULL && v->bin_len > 0)
			return NULL;
		hex = xmalloc(v->bin_len * 2 + 1);
		for (size_t i = 0; i < v->bin_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", v->bin[i]);
		hex[v->bin_len * 2] = '\0';
		data = cJSON_CreateString(hex);
		free(hex);
		break;
	default:
		return NULL;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", tname);
	cJSON_AddItemToObject(o, "data", data);
	return o;
}

/* ---- entry points ------------------------------------------------------ */

static void
position(const char *text, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

cJSON *
host_sim_parse(const char *text, size_t len, const char *name, char *err,
	       size_t errlen)
{
	struct vctx v = {name != NULL ? name : "host", err, errlen};
	const char *end = NULL;
	size_t off, line, col;
	cJSON *doc;

	if (text == NULL) {
		fail(&v, "", "no document");
		return NULL;
	}
	/* Notepad saves JSON with a UTF-8 BOM; cJSON does not skip it. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	off = end != NULL && end >= text && end <= text + len
		  ? (size_t)(end - text)
		  : len;
	if (doc != NULL)
		while (off < len && strchr(" \t\r\n", text[off]) != NULL &&
		       text[off] != '\0')
			off++;
	if (doc == NULL || off < len) {
		position(text, off, &line, &col);
		fail(&v, "",
		     doc == NULL ? "invalid JSON at line %zu, column %zu"
				 : "unexpected text after the document at "
				   "line %zu, column %zu",
		     line, col);
		cJSON_Delete(doc);
		return NULL;
	}
	if (check_fields(&v, doc, "", doc_fields) != 0) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

char *
sim_join(const char *dir, const char *rel)
{
	if (rel[0] == '/' || rel[0] == '\\' || is_drive(rel))
		return xstrdup(rel);
	return xasprintf("%s/%s", dir, rel);
}

char *
sim_slurp(const char *path, size_t *len)
{
	size_t cap = 8192, n = 0, got;
	char *buf;
	FILE *fp;
	int saved;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	buf = xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	if (ferror(fp)) {
		saved = errno != 0 ? errno : EIO;
		fclose(fp);
		free(buf);
		errno = saved;
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

int
sim_check_text_files(const cJSON *doc, const char *dir, const char *name,
		     char *err, size_t errlen)
{
	const cJSON *f;
	const char *rel;
	char *full;
	FILE *fp;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "files"))
	{
		if ((rel = sim_str(f, "text_file")) == NULL)
			continue;
		full = sim_join(dir, rel);
		if ((fp = fopen(full, "rb")) == NULL) {
			snprintf(err, errlen,
				 "%s: files.%s.text_file: cannot read %s: %s",
				 name, f->string, full, strerror(errno));
			free(full);
			return -1;
		}
		fclose(fp);
		free(full);
	}
	return 0;
}
