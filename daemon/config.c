/*
 * config.c: wsusdiagd.json. Each section is a declarative table of keys
 * (Redis-style); one generic loop rejects unknown keys and checks types
 * and ranges before any value is used, so every error names its key.
 */
#include "daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api/internal.h"
#include "common/xalloc.h"
#include "platform/net.h"
#include "platform/sys.h"

enum cfg_type {
	CFG_UINT,     /* integer in [min, max] into a uint32_t */
	CFG_PATH,     /* string, resolved against the config dir */
	CFG_PATH_NUL, /* path or null */
	CFG_LISTEN,   /* "addr:port" */
	CFG_SECTION,  /* nested object with its own table */
	CFG_CUSTOM,   /* parsed by fn */
};

struct cfg_key;

typedef int (*cfg_fn)(struct wsd_config *c, const cJSON *v, const char *key,
		      const char *base, char *err, size_t errlen);

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset;
	uint32_t min, max;
	const struct cfg_key *section; /* CFG_SECTION: NULL-name terminated */
	cfg_fn fn;		       /* CFG_CUSTOM */
};

static int parse_tokens(struct wsd_config *, const cJSON *, const char *,
			const char *, char *, size_t);
static int parse_clients(struct wsd_config *, const cJSON *, const char *,
			 const char *, char *, size_t);
static int parse_allow(struct wsd_config *, const cJSON *, const char *,
		       const char *, char *, size_t);
static int parse_version(struct wsd_config *, const cJSON *, const char *,
			 const char *, char *, size_t);
static int parse_host_kind(struct wsd_config *, const cJSON *, const char *,
			   const char *, char *, size_t);

#define OFF(f) offsetof(struct wsd_config, f)

static const struct cfg_key tls_keys[] = {
    {"cert", CFG_PATH, OFF(tls_cert), 0, 0, NULL, NULL},
    {"key", CFG_PATH, OFF(tls_key), 0, 0, NULL, NULL},
    {"client_ca", CFG_PATH_NUL, OFF(tls_client_ca), 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key auth_keys[] = {
    {"tokens", CFG_CUSTOM, 0, 0, 0, NULL, parse_tokens},
    {"clients", CFG_CUSTOM, 0, 0, 0, NULL, parse_clients},
    {"allow", CFG_CUSTOM, 0, 0, 0, NULL, parse_allow},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key host_keys[] = {
    {"kind", CFG_CUSTOM, 0, 0, 0, NULL, parse_host_kind},
    {"path", CFG_PATH_NUL, OFF(host_path), 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key limit_keys[] = {
    {"connections", CFG_UINT, OFF(max_connections), 1, 10000, NULL, NULL},
    {"per_ip", CFG_UINT, OFF(per_ip), 1, 10000, NULL, NULL},
    {"idle_timeout_s", CFG_UINT, OFF(idle_timeout_s), 1, 3600, NULL, NULL},
    {"handshake_timeout_s", CFG_UINT, OFF(handshake_timeout_s), 1, 300, NULL,
     NULL},
    {"body_bytes", CFG_UINT, OFF(body_bytes), 256, 16777216, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key probe_keys[] = {
    {"timeout_ms", CFG_UINT, OFF(probe_timeout_ms), 100, 120000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key actions_keys[] = {
    {"service_wait_ms", CFG_UINT, OFF(service_wait_ms), 100, 600000, NULL,
     NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key checks_keys[] = {
    {"agent_min_version", CFG_CUSTOM, 0, 0, 0, NULL, parse_version},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key top_keys[] = {
    {"listen", CFG_LISTEN, 0, 0, 0, NULL, NULL},
    {"tls", CFG_SECTION, 0, 0, 0, tls_keys, NULL},
    {"auth", CFG_SECTION, 0, 0, 0, auth_keys, NULL},
    {"host", CFG_SECTION, 0, 0, 0, host_keys, NULL},
    {"limits", CFG_SECTION, 0, 0, 0, limit_keys, NULL},
    {"probe", CFG_SECTION, 0, 0, 0, probe_keys, NULL},
    {"actions", CFG_SECTION, 0, 0, 0, actions_keys, NULL},
    {"checks", CFG_SECTION, 0, 0, 0, checks_keys, NULL},
    {"audit_log", CFG_PATH_NUL, OFF(audit_log), 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void
config_defaults(struct wsd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "0.0.0.0");
	c->listen_port = 8550;
	c->host_kind = HOST_WIN32;
	c->max_connections = 64;
	c->per_ip = 16;
	c->idle_timeout_s = 15;
	c->handshake_timeout_s = 5;
	c->body_bytes = 65536;
	c->probe_timeout_ms = 5000;
	c->service_wait_ms = 30000;
}

static char *
resolve_path(const char *base, const char *p)
{
	if (plat_path_is_absolute(p) || base == NULL || base[0] == '\0')
		return xstrdup(p);
	return xasprintf("%s/%s", base, p);
}

static int
set_path(char **slot, const cJSON *v, const char *key, const char *base,
	 bool nullable, char *err, size_t errlen)
{
	free(*slot);
	*slot = NULL;
	if (nullable && cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return fail(err, errlen, "%s: expected a file path%s", key,
			    nullable ? " or null" : "");
	*slot = resolve_path(base, v->valuestring);
	return 0;
}

static int
set_uint(uint32_t *slot, const cJSON *v, const struct cfg_key *k,
	 const char *key, char *err, size_t errlen)
{
	double d;

	if (!cJSON_IsNumber(v))
		goto bad;
	d = v->valuedouble;
	/* Range first: converting 1e300 (or inf) to an integer is undefined. */
	if (!(d >= k->min && d <= k->max) || d != (double)(int64_t)d)
		goto bad;
	*slot = (uint32_t)d;
	return 0;
bad:
	return fail(err, errlen, "%s: expected an integer from %u to %u", key,
		    k->min, k->max);
}

static int walk(struct wsd_config *c, const cJSON *obj,
		const struct cfg_key *table, const char *prefix,
		const char *base, char *err, size_t errlen);

static int
apply_key(struct wsd_config *c, const struct cfg_key *k, const cJSON *v,
	  const char *key, const char *base, char *err, size_t errlen)
{
	char *p = (char *)c + k->offset;

	switch (k->type) {
	case CFG_UINT:
		return set_uint((uint32_t *)p, v, k, key, err, errlen);
	case CFG_PATH:
	case CFG_PATH_NUL:
		return set_path((char **)p, v, key, base,
				k->type == CFG_PATH_NUL, err, errlen);
	case CFG_LISTEN:
		if (!cJSON_IsString(v) ||
		    config_parse_listen(v->valuestring, c->listen_host,
					sizeof(c->listen_host),
					&c->listen_port) != 0)
			return fail(err, errlen,
				    "%s: expected \"ADDRESS:PORT\" with a "
				    "numeric address, e.g. \"0.0.0.0:8550\" "
				    "or \"[::]:8550\"",
				    key);
		return 0;
	case CFG_SECTION:
		if (!cJSON_IsObject(v))
			return fail(err, errlen, "%s: expected an object", key);
		return walk(c, v, k->section, key, base, err, errlen);
	case CFG_CUSTOM:
		return k->fn(c, v, key, base, err, errlen);
	}
	return fail(err, errlen, "%s: internal error", key);
}

static int
walk(struct wsd_config *c, const cJSON *obj, const struct cfg_key *table,
     const char *prefix, const char *base, char *err, size_t errlen)
{
	const cJSON *v;
	char key[128];

	cJSON_ArrayForEach(v, obj)
	{
		const struct cfg_key *k = table;

		while (k->name != NULL && strcmp(k->name, v->string) != 0)
			k++;
		snprintf(key, sizeof(key), "%s%s%s", prefix,
			 prefix[0] ? "." : "", v->string);
		if (k->name == NULL)
			return fail(err, errlen, "unknown key \"%s\"", key);
		if (apply_key(c, k, v, key, base, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return i == 64;
}

static void
hex_decode(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned b;

		sscanf(s + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
}

/* An entry of tokens[] or clients[]: an object with exactly these keys. */
static int
check_entry(const cJSON *e, const char *key, size_t i, const char *const *keys,
	    char *err, size_t errlen)
{
	const cJSON *v;

	if (!cJSON_IsObject(e))
		return fail(err, errlen, "%s[%zu]: expected an object", key, i);
	cJSON_ArrayForEach(v, e)
	{
		size_t k = 0;

		while (keys[k] != NULL && strcmp(keys[k], v->string) != 0)
			k++;
		if (keys[k] == NULL)
			return fail(err, errlen, "unknown key \"%s[%zu].%s\"",
				    key, i, v->string);
		if (!cJSON_IsString(v))
			return fail(err, errlen,
				    "%s[%zu].%s: expected a string", key, i,
				    v->string);
	}
	for (size_t k = 0; keys[k] != NULL; k++)
		if (cJSON_GetObjectItemCaseSensitive(e, keys[k]) == NULL)
			return fail(err, errlen, "%s[%zu]: missing \"%s\"", key,
				    i, keys[k]);
	return 0;
}

static int
entry_role(const cJSON *e, const char *key, size_t i, enum role *out, char *err,
	   size_t errlen)
{
	const char *r =
	    cJSON_GetObjectItemCaseSensitive(e, "role")->valuestring;

	if (!role_parse(r, out) || *out == ROLE_NONE)
		return fail(err, errlen,
			    "%s[%zu].role: unknown role \"%s\" (expected "
			    "read or admin)",
			    key, i, r);
	return 0;
}

static int
parse_tokens(struct wsd_config *c, const cJSON *v, const char *key,
	     const char *base, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "sha256", "role", NULL};
	const cJSON *e;
	size_t i = 0;

	(void)base;
	if (!cJSON_IsArray(v))
		return fail(err, errlen, "%s: expected an array", key);
	free(c->auth.tokens);
	c->auth.n_tokens = (size_t)cJSON_GetArraySize(v);
	c->auth.tokens = xcalloc(c->auth.n_tokens, sizeof(*c->auth.tokens));
	cJSON_ArrayForEach(e, v)
	{
		struct token_entry *t = &c->auth.tokens[i];
		const char *name, *hex;

		if (check_entry(e, key, i, keys, err, errlen) != 0 ||
		    entry_role(e, key, i, &t->role, err, errlen) != 0)
			return -1;
		name = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
		hex =
		    cJSON_GetObjectItemCaseSensitive(e, "sha256")->valuestring;
		if (name[0] == '\0' || strlen(name) >= sizeof(t->name))
			return fail(
			    err, errlen,
			    "%s[%zu].name: expected 1 to %zu characters", key,
			    i, sizeof(t->name) - 1);
		if (!is_hex64(hex))
			return fail(err, errlen,
				    "%s[%zu].sha256: expected 64 hex digits "
				    "(wsusdiagd hash-token prints them)",
				    key, i);
		snprintf(t->name, sizeof(t->name), "%s", name);
		hex_decode(hex, t->sha256, sizeof(t->sha256));
		i++;
	}
	return 0;
}

static int
parse_clients(struct wsd_config *c, const cJSON *v, const char *key,
	      const char *base, char *err, size_t errlen)
{
	static const char *const keys[] = {"subject_cn", "role", NULL};
	const cJSON *e;
	size_t i = 0;

	(void)base;
	if (!cJSON_IsArray(v))
		return fail(err, errlen, "%s: expected an array", key);
	free(c->auth.clients);
	c->auth.n_clients = (size_t)cJSON_GetArraySize(v);
	c->auth.clients = xcalloc(c->auth.n_clients, sizeof(*c->auth.clients));
	cJSON_ArrayForEach(e, v)
	{
		struct client_entry *ce = &c->auth.clients[i];
		const char *cn;

		if (check_entry(e, key, i, keys, err, errlen) != 0 ||
		    entry_role(e, key, i, &ce->role, err, errlen) != 0)
			return -1;
		cn = cJSON_GetObjectItemCaseSensitive(e, "subject_cn")
			 ->valuestring;
		if (cn[0] == '\0' || strlen(cn) >= sizeof(ce->subject_cn))
			return fail(err, errlen,
				    "%s[%zu].subject_cn: expected 1 to %zu "
				    "characters",
				    key, i, sizeof(ce->subject_cn) - 1);
		snprintf(ce->subject_cn, sizeof(ce->subject_cn), "%s", cn);
		i++;
	}
	return 0;
}

static int
parse_allow(struct wsd_config *c, const cJSON *v, const char *key,
	    const char *base, char *err, size_t errlen)
{
	const cJSON *e;
	size_t i = 0;

	(void)base;
	if (!cJSON_IsArray(v))
		return fail(err, errlen, "%s: expected an array", key);
	free(c->auth.allow);
	c->auth.n_allow = (size_t)cJSON_GetArraySize(v);
	c->auth.allow = xcalloc(c->auth.n_allow, sizeof(*c->auth.allow));
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) ||
		    cidr_parse(e->valuestring, &c->auth.allow[i]) != 0)
			return fail(err, errlen,
				    "%s[%zu]: expected a network such as "
				    "\"10.0.0.0/8\" or \"::1/128\"",
				    key, i);
		i++;
	}
	return 0;
}

static int
parse_host_kind(struct wsd_config *c, const cJSON *v, const char *key,
		const char *base, char *err, size_t errlen)
{
	(void)base;
	if (cJSON_IsString(v) && strcmp(v->valuestring, "sim") == 0)
		c->host_kind = HOST_SIM;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "win32") == 0)
		c->host_kind = HOST_WIN32;
	else
		return fail(err, errlen, "%s: expected \"sim\" or \"win32\"",
			    key);
	return 0;
}

/* A file version: 1 to 4 dot-separated numbers of at most 65535. */
static bool
is_version(const char *s)
{
	int parts = 0;

	while (*s != '\0') {
		unsigned long v = 0;
		int digits = 0;

		for (; *s >= '0' && *s <= '9' && digits < 6; s++, digits++)
			v = v * 10 + (unsigned long)(*s - '0');
		if (digits == 0 || v > 65535 || ++parts > 4)
			return false;
		if (*s == '.' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			return false;
	}
	return parts > 0;
}

static int
parse_version(struct wsd_config *c, const cJSON *v, const char *key,
	      const char *base, char *err, size_t errlen)
{
	(void)base;
	free(c->agent_min_version);
	c->agent_min_version = NULL;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || !is_version(v->valuestring))
		return fail(
		    err, errlen,
		    "%s: expected a version such as \"10.0.19041.3636\" "
		    "or null",
		    key);
	c->agent_min_version = xstrdup(v->valuestring);
	return 0;
}

/* Without an allow key only loopback may connect: safe by default. */
static void
default_allow(struct wsd_config *c)
{
	c->auth.n_allow = 2;
	c->auth.allow = xcalloc(2, sizeof(*c->auth.allow));
	cidr_parse("127.0.0.0/8", &c->auth.allow[0]);
	cidr_parse("::1/128", &c->auth.allow[1]);
}

static int
check_required(const struct wsd_config *c, char *err, size_t errlen)
{
	if (c->tls_cert == NULL || c->tls_key == NULL)
		return fail(err, errlen,
			    "tls.cert and tls.key are required (wsusdiagd "
			    "init writes a pair)");
	if (c->host_kind == HOST_SIM && c->host_path == NULL)
		return fail(err, errlen,
			    "host.path is required when host.kind is \"sim\"");
	return 0;
}

int
config_parse(struct wsd_config *c, const char *text, const char *base_dir,
	     char *err, size_t errlen)
{
	cJSON *root = cJSON_Parse(text);
	int rc = -1;

	if (root == NULL) {
		const char *at = cJSON_GetErrorPtr();
		size_t line = 1;

		for (const char *p = text; at != NULL && p < at; p++)
			line += *p == '\n';
		fail(err, errlen, "not valid JSON (near line %zu)", line);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		fail(err, errlen, "expected a JSON object at the top level");
		goto out;
	}
	if (walk(c, root, top_keys, "", base_dir, err, errlen) != 0)
		goto out;
	if (c->auth.allow == NULL)
		default_allow(c);
	rc = check_required(c, err, errlen);
out:
	cJSON_Delete(root);
	return rc;
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0) {
		fail(err, errlen, "%s: not a readable file under 1 MiB", path);
		goto out;
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fail(err, errlen, "%s: read error", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	fclose(f);
	return buf;
}

int
config_load(struct wsd_config *c, const char *path, char *err, size_t errlen)
{
	char inner[512];
	char *text, *dir, *slash;
	int rc;

	text = read_file(path, err, errlen);
	if (text == NULL)
		return -1;
	dir = xstrdup(path);
	slash = (char *)plat_path_last_sep(dir);
	if (slash != NULL)
		*slash = '\0';
	else
		dir[0] = '\0';
	rc = config_parse(c, text, dir, inner, sizeof(inner));
	if (rc != 0)
		fail(err, errlen, "%s: %s", path, inner);
	free(dir);
	free(text);
	return rc;
}

int
config_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon;
	char addr[64], *end;
	uint8_t buf[16];
	unsigned long p;
	bool v4;
	size_t n;

	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - s - 1);
		s++;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(addr) || n >= hostlen)
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (!plat_inet_parse(addr, buf, &v4))
		return -1;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p > 65535)
		return -1;
	snprintf(host, hostlen, "%s", addr);
	*port = (uint16_t)p;
	return 0;
}

int
config_parse_host(struct wsd_config *c, const char *arg, char *err,
		  size_t errlen)
{
	if (strcmp(arg, "win32") == 0) {
		c->host_kind = HOST_WIN32;
		return 0;
	}
	if (strncmp(arg, "sim:", 4) == 0 && arg[4] != '\0') {
		c->host_kind = HOST_SIM;
		free(c->host_path);
		c->host_path = xstrdup(arg + 4);
		return 0;
	}
	return fail(err, errlen,
		    "--host: expected sim:FILE or win32, got \"%s\"", arg);
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char addr[64], *end;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix;
	bool v4;

	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (!plat_inet_parse(addr, out->addr, &v4))
		return -1;
	if (slash == NULL) {
		out->prefix = 128;
		return 0;
	}
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || errno != 0 ||
	    prefix > (v4 ? 32u : 128u))
		return -1;
	out->prefix = (unsigned)prefix + (v4 ? 96u : 0u);
	return 0;
}

bool
cidr_match(const struct cidr *c, const uint8_t addr[16])
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (memcmp(c->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((c->addr[full] ^ addr[full]) & (0xff00u >> rest)) == 0;
}

void
client_of(const uint8_t addr[16], uint8_t out[16])
{
	static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};

	memcpy(out, addr, 16);
	if (memcmp(addr, v4_mapped, sizeof(v4_mapped)) != 0)
		memset(out + 8, 0, 8);
}

static int
check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	char why[200];

	if (path != NULL && !plat_path_readable(path, why, sizeof(why)))
		return fail(err, errlen, "%s: %s: %s", what, path, why);
	return 0;
}

int
config_check_files(const struct wsd_config *c, char *err, size_t errlen)
{
	if (check_readable("tls.cert", c->tls_cert, err, errlen) != 0 ||
	    check_readable("tls.key", c->tls_key, err, errlen) != 0 ||
	    check_readable("tls.client_ca", c->tls_client_ca, err, errlen) != 0)
		return -1;
	if (c->host_kind == HOST_SIM)
		return check_readable("host.path", c->host_path, err, errlen);
	return 0;
}

void
config_free(struct wsd_config *c)
{
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_client_ca);
	free(c->host_path);
	free(c->audit_log);
	free(c->agent_min_version);
	free(c->auth.tokens);
	free(c->auth.clients);
	free(c->auth.allow);
	memset(c, 0, sizeof(*c));
}

/* The spec this build serves, embedded by scripts/embed.cmake. */
extern const char openapi_yaml[];
extern const size_t openapi_yaml_len;

void
config_wire_api(const struct wsd_config *c, struct check_settings *s,
		struct api_ctx *ctx)
{
	s->probe_timeout_ms = c->probe_timeout_ms;
	s->service_wait_ms = c->service_wait_ms;
	s->agent_min_version = c->agent_min_version;
	ctx->auth = &c->auth;
	ctx->settings = s;
	ctx->locks = action_locks_new();
	ctx->tracker = check_tracker_new();
	ctx->body_limit = c->body_bytes;
	ctx->openapi_yaml = openapi_yaml;
	ctx->openapi_len = openapi_yaml_len;
}
