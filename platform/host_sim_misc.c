/*
 * host_sim_misc.c: the registry, the file system, volumes and programs
 * of the simulated host. Names follow Windows: case-insensitive, the
 * registry's HKEY_ long root names equal to their short forms, '/' and
 * '\' both separators in paths.
 */
#include "platform/host_sim.h"
#include "platform/host_sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"

/* ---- registry paths ---------------------------------------------------- */

static const struct {
	const char *shortname, *longname;
} roots[] = {
    {"HKLM", "HKEY_LOCAL_MACHINE"},  {"HKCU", "HKEY_CURRENT_USER"},
    {"HKCR", "HKEY_CLASSES_ROOT"},   {"HKU", "HKEY_USERS"},
    {"HKCC", "HKEY_CURRENT_CONFIG"},
};

size_t
sim_reg_root(const char *key, const char **shortname)
{
	const char *names[2];
	size_t n;

	for (size_t i = 0; key != NULL && i < sizeof(roots) / sizeof(*roots);
	     i++) {
		names[0] = roots[i].shortname;
		names[1] = roots[i].longname;
		for (size_t j = 0; j < 2; j++) {
			n = strlen(names[j]);
			if (strncasecmp(key, names[j], n) == 0 &&
			    (key[n] == '\0' || key[n] == '\\')) {
				*shortname = roots[i].shortname;
				return n;
			}
		}
	}
	return 0;
}

/* A key split into its root's short name and the rest, trimmed. */
struct rkey {
	const char *root;
	const char *rest;
	size_t len;
};

static bool
rkey_split(const char *key, struct rkey *k)
{
	size_t n = sim_reg_root(key, &k->root);

	if (n == 0)
		return false;
	k->rest = key + n;
	while (*k->rest == '\\')
		k->rest++;
	k->len = strlen(k->rest);
	while (k->len > 0 && k->rest[k->len - 1] == '\\')
		k->len--;
	return true;
}

bool
sim_reg_key_eq(const char *a, const char *b)
{
	struct rkey x, y;

	if (!rkey_split(a, &x) || !rkey_split(b, &y))
		return false;
	return strcmp(x.root, y.root) == 0 && x.len == y.len &&
	       strncasecmp(x.rest, y.rest, x.len) == 0;
}

/* Is child a (direct or deeper) subkey of parent? */
static bool
reg_under(const char *child, const char *parent)
{
	struct rkey c, p;

	if (!rkey_split(child, &c) || !rkey_split(parent, &p) ||
	    strcmp(c.root, p.root) != 0 || c.len <= p.len)
		return false;
	if (p.len == 0)
		return true;
	return strncasecmp(c.rest, p.rest, p.len) == 0 && c.rest[p.len] == '\\';
}

cJSON *
sim_reg_key(const struct sim *s, const char *key)
{
	cJSON *k;

	cJSON_ArrayForEach(k, sim_child(s->doc, "registry"))
	{
		if (sim_reg_key_eq(k->string, key))
			return k;
	}
	return NULL;
}

static bool
reg_has_subkeys(const struct sim *s, const char *key)
{
	const cJSON *k;

	cJSON_ArrayForEach(k, sim_child(s->doc, "registry"))
	{
		if (reg_under(k->string, key))
			return true;
	}
	return false;
}

/* ---- registry operations ----------------------------------------------- */

/* RegOpenKeyExW with a root that is no predefined key. */
static hr_t
check_key(const char *key)
{
	const char *root;

	if (key == NULL || sim_reg_root(key, &root) == 0)
		return hr_from_win32(SIM_ERROR_INVALID_HANDLE);
	return HR_OK;
}

/*
 * What a write meets first: the global fault.registry_write, a valid
 * root, then fault.registry_write_keys of exactly this key (a key whose
 * ACL denies writing, while its neighbours stay writable).
 */
static hr_t
write_check(const struct sim *s, const char *key)
{
	const cJSON *it;
	uint32_t code;
	hr_t hr;

	if ((hr = sim_fault(s, "registry_write")) != HR_OK ||
	    (hr = check_key(key)) != HR_OK)
		return hr;
	cJSON_ArrayForEach(
	    it, sim_child(sim_child(s->doc, "fault"), "registry_write_keys"))
	{
		if (sim_reg_key_eq(it->string, key) && sim_code(it, &code))
			return hr_from_win32(code);
	}
	return HR_OK;
}

hr_t
sim_reg_get(struct host *h, const char *key, const char *value,
	    struct reg_value *out)
{
	struct sim *s = sim_of(h);
	const char *why;
	const cJSON *k, *v;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	if ((hr = sim_fault(s, "registry_read")) != HR_OK ||
	    (hr = check_key(key)) != HR_OK)
		goto out;
	k = sim_reg_key(s, key);
	v = sim_child(k, value != NULL ? value : "");
	if (v == NULL)
		hr = hr_from_win32(WIN32_FILE_NOT_FOUND);
	else if (!sim_reg_decode(v, out, &why))
		hr = hr_from_win32(WIN32_INVALID_DATA);
out:
	sim_end(s);
	return hr;
}

hr_t
sim_reg_set(struct host *h, const char *key, const char *value,
	    const struct reg_value *v)
{
	struct sim *s = sim_of(h);
	cJSON *k, *enc = NULL;
	hr_t hr;

	sim_begin(s, NULL);
	if ((hr = write_check(s, key)) != HR_OK)
		goto out;
	if (v == NULL || strstr(key, "\\\\") != NULL ||
	    (enc = sim_reg_encode(v)) == NULL) {
		hr = hr_from_win32(WIN32_INVALID_PARAMETER);
		goto out;
	}
	if ((k = sim_reg_key(s, key)) == NULL) {
		k = cJSON_CreateObject();
		cJSON_AddItemToObject(sim_obj(s->doc, "registry"), key, k);
	}
	sim_set(k, value != NULL ? value : "", enc);
	hr = sim_commit(s);
out:
	sim_end(s);
	return hr;
}

hr_t
sim_reg_delete_value(struct host *h, const char *key, const char *value)
{
	struct sim *s = sim_of(h);
	cJSON *k, *v;
	hr_t hr;

	sim_begin(s, NULL);
	if ((hr = write_check(s, key)) != HR_OK)
		goto out;
	k = sim_reg_key(s, key);
	if ((v = sim_child(k, value != NULL ? value : "")) == NULL) {
		hr = hr_from_win32(WIN32_FILE_NOT_FOUND);
		goto out;
	}
	/* A typed value's own fault.delete (a registry filter guarding it). */
	if (cJSON_IsObject(v) &&
	    (hr = hr_from_win32((uint32_t)sim_u64(sim_child(v, "fault"),
						  "delete", 0))) != HR_OK)
		goto out;
	cJSON_Delete(cJSON_DetachItemViaPointer(k, v));
	hr = sim_commit(s);
out:
	sim_end(s);
	return hr;
}

hr_t
sim_reg_delete_key(struct host *h, const char *key)
{
	struct sim *s = sim_of(h);
	cJSON *k;
	hr_t hr;

	sim_begin(s, NULL);
	if ((hr = write_check(s, key)) != HR_OK)
		goto out;
	k = sim_reg_key(s, key);
	if (reg_has_subkeys(s, key)) {
		/* RegDeleteKeyExW deletes leaves only. */
		hr = hr_from_win32(WIN32_ACCESS_DENIED);
		goto out;
	}
	if (k == NULL) {
		hr = hr_from_win32(WIN32_FILE_NOT_FOUND);
		goto out;
	}
	cJSON_Delete(
	    cJSON_DetachItemViaPointer(sim_child(s->doc, "registry"), k));
	hr = sim_commit(s);
out:
	sim_end(s);
	return hr;
}

/* ---- paths ------------------------------------------------------------- */

static bool
is_sep(char c)
{
	return c == '\\' || c == '/';
}

/* Length without trailing separators, keeping a drive root's "C:\". */
static size_t
path_len(const char *p)
{
	size_t n = strlen(p);

	while (n > 3 && is_sep(p[n - 1]))
		n--;
	return n;
}

static bool
path_prefix_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(is_sep(a[i]) && is_sep(b[i])) &&
		    strncasecmp(a + i, b + i, 1) != 0)
			return false;
	return true;
}

bool
sim_path_eq(const char *a, const char *b)
{
	size_t n = path_len(a);

	return n == path_len(b) && path_prefix_eq(a, b, n);
}

/* Is child below parent (at any depth)? */
static bool
path_under(const char *child, const char *parent)
{
	size_t pn = path_len(parent), cn = path_len(child);

	if (cn <= pn || !path_prefix_eq(child, parent, pn))
		return false;
	/* "C:\" ends in its separator already. */
	return is_sep(parent[pn - 1]) || is_sep(child[pn]);
}

static bool
has_drive(const char *p)
{
	return ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) &&
	       p[1] == ':';
}

static cJSON *
file_entry(const struct sim *s, const char *path)
{
	cJSON *f;

	cJSON_ArrayForEach(f, sim_child(s->doc, "files"))
	{
		if (sim_path_eq(f->string, path))
			return f;
	}
	return NULL;
}

/* A folder nobody listed exists when something below it does. */
static bool
implicit_dir(const struct sim *s, const char *path)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, sim_child(s->doc, "files"))
	{
		if (path_under(f->string, path))
			return true;
	}
	return false;
}

static bool
is_dir_entry(const cJSON *f)
{
	const char *t = sim_str(f, "type");

	return t != NULL && strcmp(t, "dir") == 0;
}

/* A drive root exists when its volume or anything on it does. */
static bool
drive_exists(const struct sim *s, const char *path)
{
	char drive[3] = {path[0], ':', '\0'};

	return sim_child(sim_child(s->doc, "volumes"), drive) != NULL ||
	       implicit_dir(s, (char[4]){path[0], ':', '\\', '\0'});
}

static bool
dir_exists(const struct sim *s, const char *path)
{
	const cJSON *f = file_entry(s, path);

	if (f != NULL)
		return is_dir_entry(f);
	if (path_len(path) <= 3 && has_drive(path))
		return drive_exists(s, path);
	return implicit_dir(s, path);
}

/* ---- file contents ----------------------------------------------------- */

static void
put_utf8(char **o, uint32_t c)
{
	char *p = *o;

	if (c < 0x80) {
		*p++ = (char)c;
	} else if (c < 0x800) {
		*p++ = (char)(0xC0 | c >> 6);
		*p++ = (char)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		*p++ = (char)(0xE0 | c >> 12);
		*p++ = (char)(0x80 | ((c >> 6) & 0x3F));
		*p++ = (char)(0x80 | (c & 0x3F));
	} else {
		*p++ = (char)(0xF0 | c >> 18);
		*p++ = (char)(0x80 | ((c >> 12) & 0x3F));
		*p++ = (char)(0x80 | ((c >> 6) & 0x3F));
		*p++ = (char)(0x80 | (c & 0x3F));
	}
	*o = p;
}

/* UTF-16 (after its BOM) to UTF-8; a lone surrogate becomes U+FFFD. */
static char *
utf16_to_utf8(const unsigned char *b, size_t n, bool be, size_t *len)
{
	char *out = xmalloc(n / 2 * 3 + 4), *o = out;
	uint32_t c, c2;

	for (size_t i = 0; i + 1 < n; i += 2) {
		c = be ? (uint32_t)(b[i] << 8 | b[i + 1])
		       : (uint32_t)(b[i + 1] << 8 | b[i]);
		if (c >= 0xD800 && c <= 0xDBFF && i + 3 < n) {
			c2 = be ? (uint32_t)(b[i + 2] << 8 | b[i + 3])
				: (uint32_t)(b[i + 3] << 8 | b[i + 2]);
			if (c2 >= 0xDC00 && c2 <= 0xDFFF) {
				c = 0x10000 + ((c - 0xD800) << 10) +
				    (c2 - 0xDC00);
				i += 2;
			}
		}
		if (c >= 0xD800 && c <= 0xDFFF)
			c = 0xFFFD;
		put_utf8(&o, c);
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

/* Bytes as UTF-8: UTF-16 with a BOM converted, a UTF-8 BOM dropped. */
static char *
as_utf8(char *raw, size_t n, size_t *len)
{
	const unsigned char *b = (const unsigned char *)raw;
	char *out;

	if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) ||
		       (b[0] == 0xFE && b[1] == 0xFF))) {
		out = utf16_to_utf8(b + 2, n - 2, b[0] == 0xFE, len);
		free(raw);
		return out;
	}
	if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		memmove(raw, raw + 3, n - 3 + 1);
		n -= 3;
	}
	*len = n;
	return raw;
}

/* The raw bytes of a file entry, from text or text_file. */
static hr_t
file_bytes(const struct sim *s, const cJSON *f, char **out, size_t *len)
{
	const char *text = sim_str(f, "text"), *tf = sim_str(f, "text_file");
	char *full;

	if (tf == NULL) {
		*out = xstrdup(text != NULL ? text : "");
		*len = strlen(*out);
		return HR_OK;
	}
	full = sim_join(s->dir, tf);
	*out = sim_slurp(full, len);
	free(full);
	/* Checked at load; gone since then means gone on the "disk". */
	return *out != NULL ? HR_OK : hr_from_win32(WIN32_FILE_NOT_FOUND);
}

/* ---- file operations --------------------------------------------------- */

hr_t
sim_file_stat(struct host *h, const char *path, struct file_info *out)
{
	struct sim *s = sim_of(h);
	const cJSON *f;
	char *bytes;
	size_t len = 0;
	hr_t hr = HR_OK;

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	if (path == NULL || (f = file_entry(s, path)) == NULL) {
		if (path != NULL && dir_exists(s, path))
			out->is_dir = true;
		else
			hr = hr_from_win32(WIN32_FILE_NOT_FOUND);
		goto out;
	}
	out->is_dir = is_dir_entry(f);
	sim_parse_time(sim_str(f, "mtime"), &out->mtime);
	sim_parse_time(sim_str(f, "created"), &out->created);
	if (cJSON_GetObjectItemCaseSensitive(f, "size") != NULL) {
		out->size = sim_u64(f, "size", 0);
	} else if (!out->is_dir && file_bytes(s, f, &bytes, &len) == HR_OK) {
		out->size = len;
		free(bytes);
	}
out:
	sim_end(s);
	return hr;
}

/* A fault.rename of the source or of anything below it. */
static hr_t
rename_fault(const struct sim *s, const char *from)
{
	const cJSON *f;
	uint64_t code;

	cJSON_ArrayForEach(f, sim_child(s->doc, "files"))
	{
		if (!sim_path_eq(f->string, from) &&
		    !path_under(f->string, from))
			continue;
		code = sim_u64(sim_child(f, "fault"), "rename", 0);
		if (code != 0)
			return hr_from_win32((uint32_t)code);
	}
	return HR_OK;
}

static bool
parent_exists(const struct sim *s, const char *path)
{
	size_t n = path_len(path);
	char *parent;
	bool ok;

	while (n > 0 && !is_sep(path[n - 1]))
		n--;
	if (n == 0)
		return false;
	/* Keep the root's separator, drop any other. */
	parent = xasprintf("%.*s", (int)(n > 3 ? n - 1 : n), path);
	ok = dir_exists(s, parent);
	free(parent);
	return ok;
}

static hr_t
rename_check(const struct sim *s, const char *from, const char *to)
{
	hr_t hr;

	if ((hr = sim_fault(s, "rename")) != HR_OK)
		return hr;
	if (!has_drive(from) || !has_drive(to))
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	if (file_entry(s, from) == NULL && !implicit_dir(s, from))
		return hr_from_win32(WIN32_FILE_NOT_FOUND);
	if (strncasecmp(from, to, 1) != 0)
		return hr_from_win32(SIM_ERROR_NOT_SAME_DEVICE);
	if (path_under(to, from))
		return hr_from_win32(WIN32_INVALID_PARAMETER);
	/* Only a change of case may rename onto itself. */
	if (!sim_path_eq(from, to) &&
	    (file_entry(s, to) != NULL || implicit_dir(s, to)))
		return hr_from_win32(WIN32_ALREADY_EXISTS);
	if (!parent_exists(s, to))
		return hr_from_win32(WIN32_PATH_NOT_FOUND);
	return rename_fault(s, from);
}

hr_t
sim_file_rename(struct host *h, const char *from, const char *to)
{
	struct sim *s = sim_of(h);
	cJSON *files, *f, *next, **moved = NULL;
	size_t n = 0, fn;
	char *name;
	hr_t hr;

	sim_begin(s, NULL);
	if (from == NULL || to == NULL) {
		hr = hr_from_win32(WIN32_INVALID_PARAMETER);
		goto out;
	}
	if ((hr = rename_check(s, from, to)) != HR_OK)
		goto out;
	files = sim_child(s->doc, "files");
	moved = xcalloc((size_t)cJSON_GetArraySize(files) + 1, sizeof(*moved));
	/* Detach all first: re-added entries must not be visited again. */
	for (f = files->child; f != NULL; f = next) {
		next = f->next;
		if (sim_path_eq(f->string, from) || path_under(f->string, from))
			moved[n++] = cJSON_DetachItemViaPointer(files, f);
	}
	fn = path_len(from);
	for (size_t i = 0; i < n; i++) {
		name = xasprintf("%.*s%s", (int)path_len(to), to,
				 moved[i]->string + fn);
		/* cJSON frees the old name when it sets the new one. */
		cJSON_AddItemToObject(files, name, moved[i]);
		free(name);
	}
	hr = sim_commit(s);
out:
	free(moved);
	sim_end(s);
	return hr;
}

hr_t
sim_file_version(struct host *h, const char *path, char **out)
{
	struct sim *s = sim_of(h);
	const cJSON *f;
	const char *v;
	hr_t hr = HR_OK;

	*out = NULL;
	sim_begin(s, NULL);
	f = path != NULL ? file_entry(s, path) : NULL;
	if (f == NULL && (path == NULL || !dir_exists(s, path)))
		hr = hr_from_win32(WIN32_FILE_NOT_FOUND);
	else if ((v = sim_str(f, "version")) == NULL)
		/* GetFileVersionInfoSizeW: no VS_VERSION_INFO resource. */
		hr = hr_from_win32(SIM_ERROR_RESOURCE_TYPE_NOT_FOUND);
	else
		*out = xstrdup(v);
	sim_end(s);
	return hr;
}

hr_t
sim_file_read_text(struct host *h, const char *path, size_t max, char **out,
		   size_t *len)
{
	struct sim *s = sim_of(h);
	const cJSON *f;
	char *raw = NULL, *text;
	size_t n, start = 0;
	uint64_t code;
	hr_t hr;

	*out = NULL;
	*len = 0;
	sim_begin(s, NULL);
	f = path != NULL ? file_entry(s, path) : NULL;
	if (f == NULL || is_dir_entry(f)) {
		/* CreateFileW on a folder without backup semantics. */
		hr = hr_from_win32(f != NULL ||
					   (path != NULL && dir_exists(s, path))
				       ? WIN32_ACCESS_DENIED
				       : WIN32_FILE_NOT_FOUND);
		goto out;
	}
	if ((code = sim_u64(sim_child(f, "fault"), "read", 0)) != 0) {
		hr = hr_from_win32((uint32_t)code);
		goto out;
	}
	if ((hr = file_bytes(s, f, &raw, &n)) != HR_OK)
		goto out;
	text = as_utf8(raw, n, &n);
	raw = NULL;
	if (n > max) {
		start = n - max;
		/* Do not begin in the middle of a character. */
		while (start < n && ((unsigned char)text[start] & 0xC0) == 0x80)
			start++;
	}
	*len = n - start;
	*out = xmalloc(*len + 1);
	memcpy(*out, text + start, *len);
	(*out)[*len] = '\0';
	free(text);
out:
	free(raw);
	sim_end(s);
	return hr;
}

hr_t
sim_disk_free(struct host *h, const char *path, uint64_t *free_b,
	      uint64_t *total_b)
{
	struct sim *s = sim_of(h);
	const cJSON *v = NULL;
	hr_t hr = HR_OK;

	*free_b = *total_b = 0;
	sim_begin(s, NULL);
	if (path != NULL && has_drive(path))
		v = sim_child(sim_child(s->doc, "volumes"),
			      (char[3]){path[0], ':', '\0'});
	if (v == NULL) {
		hr = hr_from_win32(WIN32_PATH_NOT_FOUND);
	} else {
		*free_b = sim_u64(v, "free_bytes", 0);
		*total_b = sim_u64(v, "total_bytes", 0);
	}
	sim_end(s);
	return hr;
}

/* ---- programs ---------------------------------------------------------- */

/* "gpupdate", "gpupdate.exe" and "C:\...\gpupdate.exe" name one program. */
bool
sim_program_eq(const char *a, const char *b)
{
	const char *p;
	size_t la, lb;

	if ((p = strrchr(b, '\\')) != NULL || (p = strrchr(b, '/')) != NULL)
		b = p + 1;
	la = strlen(a);
	lb = strlen(b);
	if (la >= 4 && strcasecmp(a + la - 4, ".exe") == 0)
		la -= 4;
	if (lb >= 4 && strcasecmp(b + lb - 4, ".exe") == 0)
		lb -= 4;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void
log_run(struct sim *s, const char *const *argv)
{
	cJSON *run = cJSON_CreateObject(), *log;
	char iso[32];

	cJSON_AddItemToObject(run, "argv", cJSON_CreateArray());
	for (size_t i = 0; argv[i] != NULL; i++)
		cJSON_AddItemToArray(cJSON_GetObjectItem(run, "argv"),
				     cJSON_CreateString(argv[i]));
	plat_utc_iso(iso);
	cJSON_AddStringToObject(run, "time", iso);
	log = cJSON_GetObjectItemCaseSensitive(s->doc, "program_log");
	if (!cJSON_IsArray(log)) {
		log = cJSON_CreateArray();
		sim_set(s->doc, "program_log", log);
	}
	cJSON_AddItemToArray(log, run);
}

hr_t
sim_run_program(struct host *h, const char *const *argv, uint32_t timeout_ms,
		struct prog_result *out)
{
	struct sim *s = sim_of(h);
	const cJSON *p = NULL;
	uint64_t delay;
	bool hang;
	hr_t hr;

	memset(out, 0, sizeof(*out));
	sim_begin(s, NULL);
	if ((hr = sim_fault(s, "programs")) != HR_OK)
		goto fail;
	if (argv == NULL || argv[0] == NULL) {
		hr = hr_from_win32(WIN32_INVALID_PARAMETER);
		goto fail;
	}
	cJSON_ArrayForEach(p, sim_child(s->doc, "programs"))
	{
		if (sim_program_eq(p->string, argv[0]))
			break;
	}
	if (p == NULL) {
		hr = hr_from_win32(WIN32_FILE_NOT_FOUND);
		goto fail;
	}
	delay = sim_u64(p, "delay_ms", 0);
	hang = sim_bool(p, "hang", false);
	out->exit_code = (uint32_t)sim_u64(p, "exit_code", 0);
	out->output = xstrdup(sim_str(p, "output") ? sim_str(p, "output") : "");
	log_run(s, argv);
	/* The log is what the test looks at; a lagging file is not the
	 * program's failure. */
	(void)sim_commit(s);
	sim_end(s);
	if (hang || delay > timeout_ms) {
		plat_sleep_ms(timeout_ms);
		/* Killed at the deadline: its output is not trusted. */
		out->timed_out = true;
		out->exit_code = WIN32_WAIT_TIMEOUT;
		free(out->output);
		out->output = xstrdup("");
	} else {
		plat_sleep_ms((uint32_t)delay);
	}
	return HR_OK;
fail:
	sim_end(s);
	return hr;
}
