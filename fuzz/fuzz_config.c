/*
 * fuzz_config.c: wsusdiagd.json through config_parse (what config_load
 * does with the file's text), then the same text as the command line's
 * --listen and --host values and as an auth.allow network.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a configuration that parsed must hold. */
static void
check_parsed(const struct wsd_config *c)
{
	if (c->tls_cert == NULL || c->tls_key == NULL)
		fuzz_fail("parsed without tls.cert and tls.key");
	if (c->host_kind == HOST_SIM && c->host_path == NULL)
		fuzz_fail("parsed a sim host without a path");
	if (c->auth.n_allow == 0 && c->auth.allow == NULL)
		fuzz_fail("parsed without an allow list");
	for (size_t i = 0; i < c->auth.n_tokens; i++)
		if (c->auth.tokens[i].role == ROLE_NONE ||
		    memchr(c->auth.tokens[i].name, '\0',
			   sizeof(c->auth.tokens[i].name)) == NULL)
			fuzz_fail("token %zu malformed", i);
	for (size_t i = 0; i < c->auth.n_allow; i++)
		if (c->auth.allow[i].prefix > 128 ||
		    !cidr_match(&c->auth.allow[i], c->auth.allow[i].addr))
			fuzz_fail("allow[%zu] does not match itself", i);
}

static void
command_line_forms(const char *text)
{
	struct wsd_config c;
	struct cidr net;
	char host[64], err[768];
	uint16_t port;

	if (config_parse_listen(text, host, sizeof(host), &port) == 0 &&
	    memchr(host, '\0', sizeof(host)) == NULL)
		fuzz_fail("listen host not terminated");
	if (cidr_parse(text, &net) == 0 &&
	    (net.prefix > 128 || !cidr_match(&net, net.addr)))
		fuzz_fail("a network that does not match itself");
	config_defaults(&c);
	if (config_parse_host(&c, text, err, sizeof(err)) != 0 &&
	    err[0] == '\0')
		fuzz_fail("--host failed without a message");
	config_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), err[768] = "";
	struct wsd_config c;

	config_defaults(&c);
	if (config_parse(&c, text, "/etc/wsusdiag", err, sizeof(err)) == 0)
		check_parsed(&c);
	else if (err[0] == '\0')
		fuzz_fail("config_parse failed without a message");
	config_free(&c);
	command_line_forms(text);
	free(text);
	return 0;
}
