/*
 * wsusdiagd.json: every key of DESIGN.md accepted, every mistake an error
 * that names the key.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config.h"

static const char full[] =
    "{\"listen\":\"0.0.0.0:8550\","
    "\"tls\":{\"cert\":\"server.crt\",\"key\":\"server.key\","
    "\"client_ca\":null},"
    "\"auth\":{\"tokens\":[{\"name\":\"console\",\"sha256\":"
    "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
    "\"role\":\"admin\"}],"
    "\"clients\":[{\"subject_cn\":\"console.corp.example\",\"role\":"
    "\"read\"}],"
    "\"allow\":[\"127.0.0.0/8\",\"10.0.0.0/8\",\"fd00::/8\"]},"
    "\"host\":{\"kind\":\"sim\",\"path\":\"hosts/x.json\"},"
    "\"limits\":{\"connections\":64,\"per_ip\":16,\"idle_timeout_s\":15,"
    "\"handshake_timeout_s\":5,\"body_bytes\":65536},"
    "\"probe\":{\"timeout_ms\":5000},"
    "\"audit_log\":\"audit.jsonl\"}";

static int
parse(struct wsd_config *c, const char *text, char *err, size_t len)
{
	config_defaults(c);
	return config_parse(c, text, "/etc/wsusdiag", err, len);
}

Test(config, the_design_example_parses)
{
	struct wsd_config c;
	char err[256] = "";

	cr_assert_eq(parse(&c, full, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.listen_host, "0.0.0.0");
	cr_expect_eq(c.listen_port, 8550);
	cr_expect_str_eq(c.tls_cert, "/etc/wsusdiag/server.crt");
	cr_expect_null(c.tls_client_ca);
	cr_expect_eq(c.auth.n_tokens, 1);
	cr_expect_str_eq(c.auth.tokens[0].name, "console");
	cr_expect_eq(c.auth.tokens[0].role, ROLE_ADMIN);
	cr_expect_eq(c.auth.tokens[0].sha256[0], 0xba);
	cr_expect_eq(c.auth.tokens[0].sha256[31], 0xad);
	cr_expect_eq(c.auth.clients[0].role, ROLE_READ);
	cr_expect_eq(c.auth.n_allow, 3);
	cr_expect_eq(c.host_kind, HOST_SIM);
	cr_expect_str_eq(c.host_path, "/etc/wsusdiag/hosts/x.json");
	cr_expect_eq(c.body_bytes, 65536);
	cr_expect_str_eq(c.audit_log, "/etc/wsusdiag/audit.jsonl");
	config_free(&c);
}

struct bad {
	const char *json;
	const char *expect; /* substring of the error */
};

/* Each entry breaks one thing; the message must name it. */
static const struct bad bads[] = {
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"lisen\":\"x\"}",
     "unknown key \"lisen\""},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\",\"ca\":\"c\"}}",
     "unknown key \"tls.ca\""},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"limits\":{\"connections\":"
     "\"64\"}}",
     "limits.connections: expected an integer"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"limits\":{\"connections\":"
     "0}}",
     "limits.connections"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"limits\":{\"body_bytes\":"
     "1.5}}",
     "limits.body_bytes"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"listen\":\"localhost:1\"}",
     "listen: expected"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"listen\":\"1.2.3.4:70000\"}",
     "listen: expected"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"auth\":{\"tokens\":[{"
     "\"name\":\"x\",\"sha256\":\"00\",\"role\":\"admin\"}]}}",
     "auth.tokens[0].sha256"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"auth\":{\"tokens\":[{"
     "\"name\":\"x\",\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396"
     "177a9cb410ff61f20015ad\",\"role\":\"root\"}]}}",
     "auth.tokens[0].role: unknown role \"root\""},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"auth\":{\"tokens\":[{"
     "\"name\":\"x\",\"role\":\"read\"}]}}",
     "auth.tokens[0]: missing \"sha256\""},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"auth\":{\"clients\":[{"
     "\"subject_cn\":\"x\",\"role\":\"read\",\"extra\":1}]}}",
     "unknown key \"auth.clients[0].extra\""},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"auth\":{\"allow\":["
     "\"10.0.0.0/33\"]}}",
     "auth.allow[0]"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"host\":{\"kind\":\"vm\"}}",
     "host.kind"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"host\":{\"kind\":\"sim\"}}",
     "host.path is required"},
    {"{\"tls\":{\"cert\":\"a\"}}", "tls.cert and tls.key are required"},
    {"{\"tls\":{\"cert\":\"\",\"key\":\"b\"}}", "tls.cert: expected a file"},
    {"[1,2]", "expected a JSON object"},
    {"{\"tls\":\n{\"cert\":\"a\",,}}", "not valid JSON (near line 2)"},
    {"{\"tls\":5}", "tls: expected an object"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"checks\":{"
     "\"agent_min_version\":\"7.6.x\"}}",
     "checks.agent_min_version: expected a version"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"checks\":{"
     "\"agent_min_version\":\"1.2.3.4.5\"}}",
     "checks.agent_min_version"},
    {"{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},\"checks\":{"
     "\"agent_min_version\":\"70000\"}}",
     "checks.agent_min_version"},
};

Test(config, every_mistake_names_its_key)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct wsd_config c;
		char err[256] = "";

		cr_expect_neq(parse(&c, bads[i].json, err, sizeof(err)), 0,
			      "accepted: %s", bads[i].json);
		cr_expect(strstr(err, bads[i].expect) != NULL,
			  "error \"%s\" does not contain \"%s\"", err,
			  bads[i].expect);
		config_free(&c);
	}
}

Test(config, missing_file_is_named)
{
	struct wsd_config c;
	char err[512];

	config_defaults(&c);
	cr_expect_neq(
	    config_load(&c, "/nonexistent/wsusdiagd.json", err, sizeof(err)),
	    0);
	cr_expect(strstr(err, "/nonexistent/wsusdiagd.json") != NULL, "%s",
		  err);
	config_free(&c);
}

Test(config, files_the_config_names_must_exist)
{
	struct wsd_config c;
	char err[512] = "";

	cr_assert_eq(parse(&c, full, err, sizeof(err)), 0, "%s", err);
	cr_expect_neq(config_check_files(&c, err, sizeof(err)), 0);
	cr_expect(strstr(err, "tls.cert: /etc/wsusdiag/server.crt") != NULL,
		  "%s", err);
	config_free(&c);
}

Test(config, no_allow_key_means_loopback_only)
{
	struct wsd_config c;
	char err[256] = "";
	struct cidr probe;

	cr_assert_eq(parse(&c, "{\"tls\":{\"cert\":\"a\",\"key\":\"b\"}}", err,
			   sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(c.auth.n_allow, 2);
	cidr_parse("127.1.2.3", &probe);
	cr_expect(cidr_match(&c.auth.allow[0], probe.addr));
	cidr_parse("10.1.2.3", &probe);
	cr_expect(!cidr_match(&c.auth.allow[0], probe.addr));
	cr_expect(!cidr_match(&c.auth.allow[1], probe.addr));
	config_free(&c);
}

Test(config, cidr_matching)
{
	static const struct {
		const char *net, *addr;
		bool in;
	} cases[] = {
	    {"10.0.0.0/8", "10.255.1.2", true},
	    {"10.0.0.0/8", "11.0.0.1", false},
	    {"192.168.1.0/25", "192.168.1.127", true},
	    {"192.168.1.0/25", "192.168.1.128", false},
	    {"0.0.0.0/0", "8.8.8.8", true},
	    {"0.0.0.0/0", "::1", false},
	    {"::1/128", "::1", true},
	    {"fd00::/8", "fd12::1", true},
	    {"fd00::/8", "fe80::1", false},
	    {"127.0.0.1", "127.0.0.1", true},
	    {"127.0.0.1", "127.0.0.2", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr net, a;

		cr_assert_eq(cidr_parse(cases[i].net, &net), 0);
		cr_assert_eq(cidr_parse(cases[i].addr, &a), 0);
		cr_expect_eq(cidr_match(&net, a.addr), cases[i].in, "%s in %s",
			     cases[i].addr, cases[i].net);
	}
	{
		struct cidr x;

		cr_expect_neq(cidr_parse("10.0.0.0/", &x), 0);
		cr_expect_neq(cidr_parse("10.0.0/8", &x), 0);
		cr_expect_neq(cidr_parse("::1/129", &x), 0);
		cr_expect_neq(cidr_parse("", &x), 0);
	}
}

Test(config, agent_minimum_version)
{
	struct wsd_config c;
	char err[256] = "";

	cr_assert_eq(
	    parse(&c,
		  "{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},"
		  "\"checks\":{\"agent_min_version\":\"10.0.19041.3636\"},"
		  "\"actions\":{\"service_wait_ms\":5000}}",
		  err, sizeof(err)),
	    0, "%s", err);
	cr_expect_str_eq(c.agent_min_version, "10.0.19041.3636");
	cr_expect_eq(c.service_wait_ms, 5000);
	config_free(&c);
}

Test(config, host_override)
{
	struct wsd_config c;
	char err[256];

	config_defaults(&c);
	cr_expect_eq(config_parse_host(&c, "sim:x.json", err, sizeof(err)), 0);
	cr_expect_eq(c.host_kind, HOST_SIM);
	cr_expect_str_eq(c.host_path, "x.json");
	cr_expect_eq(config_parse_host(&c, "win32", err, sizeof(err)), 0);
	cr_expect_eq(c.host_kind, HOST_WIN32);
	cr_expect_neq(config_parse_host(&c, "sim:", err, sizeof(err)), 0);
	cr_expect_neq(config_parse_host(&c, "linux", err, sizeof(err)), 0);
	config_free(&c);
}

Test(config, listen_forms)
{
	char host[64];
	uint16_t port;

	cr_expect_eq(
	    config_parse_listen("[::1]:8443", host, sizeof(host), &port), 0);
	cr_expect_str_eq(host, "::1");
	cr_expect_eq(port, 8443);
	cr_expect_neq(
	    config_parse_listen("[::1]8443", host, sizeof(host), &port), 0);
	cr_expect_neq(
	    config_parse_listen("127.0.0.1:", host, sizeof(host), &port), 0);
	cr_expect_neq(
	    config_parse_listen("127.0.0.1:0x10", host, sizeof(host), &port),
	    0);
}

/*
 * Found by fuzz/fuzz_config: a number no integer type holds (1e300, or
 * 1e999, which cJSON reads as infinity) was converted to int64_t before
 * the range check, which is undefined behaviour (UBSan's
 * float-cast-overflow aborts on it). It must be refused by the range
 * check, naming the key, like any other number out of range.
 */
Test(config, numbers_beyond_any_integer_are_refused)
{
	static const char *const nums[] = {"1e300",  "-1e300", "1e999",
					   "-1e999", "9.3e18", "1.8e19"};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		struct wsd_config c;
		char json[160], err[256] = "";

		snprintf(json, sizeof(json),
			 "{\"tls\":{\"cert\":\"a\",\"key\":\"b\"},"
			 "\"limits\":{\"body_bytes\":%s}}",
			 nums[i]);
		cr_expect_neq(parse(&c, json, err, sizeof(err)), 0,
			      "accepted %s", nums[i]);
		cr_expect_str_eq(err,
				 "limits.body_bytes: expected an integer from "
				 "256 to 16777216",
				 "%s: %s", nums[i], err);
		cr_expect_eq(c.body_bytes, 65536, "%s changed body_bytes",
			     nums[i]);
		config_free(&c);
	}
}

/* limits.per_ip counts an IPv4 address, or an IPv6 /64. */
Test(config, a_client_is_an_ipv4_address_or_an_ipv6_64)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
	    {"10.0.0.1", "10.0.0.1", true},
	    {"10.0.0.1", "10.0.0.2", false},
	    {"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
	    {"2001:db8:1:2::1", "2001:db8:1:3::1", false},
	    {"::1", "::2", true},
	    /* ::ffff:0:0/96 is IPv4, not an IPv6 /64 of its own. */
	    {"::ffff:10.0.0.1", "10.0.0.1", true},
	    {"::ffff:10.0.0.1", "::ffff:10.0.0.2", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr a, b;
		uint8_t ka[16], kb[16];

		cr_assert_eq(cidr_parse(cases[i].a, &a), 0, "%s", cases[i].a);
		cr_assert_eq(cidr_parse(cases[i].b, &b), 0, "%s", cases[i].b);
		client_of(a.addr, ka);
		client_of(b.addr, kb);
		cr_expect_eq(memcmp(ka, kb, 16) == 0, cases[i].same,
			     "%s and %s", cases[i].a, cases[i].b);
	}
}
