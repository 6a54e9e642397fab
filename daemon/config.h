/*
 * config.h: wsusdiagd.json, strictly validated. Unknown keys, wrong
 * types, out-of-range numbers and missing files are errors that name the
 * key; relative paths are relative to the config file.
 */
#ifndef WSUSDIAG_CONFIG_H
#define WSUSDIAG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

enum host_kind { HOST_SIM, HOST_WIN32 };

struct wsd_config {
	char listen_host[64]; /* numeric address */
	uint16_t listen_port;
	char *tls_cert;
	char *tls_key;
	char *tls_client_ca; /* NULL: no client certificates */
	struct auth_config auth;
	enum host_kind host_kind;
	char *host_path; /* sim only */
	uint32_t max_connections;
	uint32_t per_ip;
	uint32_t idle_timeout_s;
	uint32_t handshake_timeout_s;
	uint32_t body_bytes;
	uint32_t probe_timeout_ms;
	uint32_t service_wait_ms;
	char *agent_min_version; /* NULL: the agent check's per-OS default */
	char *audit_log;	 /* NULL: no audit file (stderr only) */
};

/* Defaults for everything optional. */
void config_defaults(struct wsd_config *c);

/*
 * Load and validate path into c (which config_defaults prepared). On
 * error, returns -1 with a message naming the file and key in err.
 */
int config_load(struct wsd_config *c, const char *path, char *err,
		size_t errlen);

/* Parse a JSON config text; base_dir resolves relative paths. */
int config_parse(struct wsd_config *c, const char *text, const char *base_dir,
		 char *err, size_t errlen);

/* "0.0.0.0:8550", "[::1]:8550" into host and port. */
int config_parse_listen(const char *s, char *host, size_t hostlen,
			uint16_t *port);

/* "--host sim:FILE" or "--host win32". */
int config_parse_host(struct wsd_config *c, const char *arg, char *err,
		      size_t errlen);

/* "10.0.0.0/8", "::1/128", "127.0.0.1" into a cidr. */
int cidr_parse(const char *s, struct cidr *out);
/* Is the 16-byte (v4-mapped for IPv4) address inside? */
bool cidr_match(const struct cidr *c, const uint8_t addr[16]);
/*
 * The client a 16-byte address counts as for limits.per_ip: an IPv4
 * address itself, an IPv6 address its /64 (the least a host is given,
 * and it may use any address in it).
 */
void client_of(const uint8_t addr[16], uint8_t out[16]);

/* Check files exist and are readable (cert, key, CA, sim host). */
int config_check_files(const struct wsd_config *c, char *err, size_t errlen);

/*
 * Wire the API to a loaded configuration: the check settings, the auth
 * table, the body limit, the embedded spec, and fresh action locks and
 * check tracker (the caller frees those two). The host and the audit
 * sink are the caller's to set.
 */
void config_wire_api(const struct wsd_config *c, struct check_settings *s,
		     struct api_ctx *ctx);
void config_free(struct wsd_config *c);

#endif
