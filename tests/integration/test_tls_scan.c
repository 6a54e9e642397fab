/*
 * sslscan (Debian) against the real daemon: only TLS 1.2, only ECDHE with
 * AEAD ciphers, no renegotiation. Compression is shown by a raw
 * ClientHello in test_http_tls.c (sslscan's OpenSSL cannot offer it).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_harness.h"

static struct daemon d;

static void
start(void)
{
	struct daemon_opts o = {.host_file = "healthy.json"};

	signal(SIGPIPE, SIG_IGN);
	daemon_start(&d, &o);
}

static void
stop(void)
{
	cr_expect_eq(daemon_stop(&d), 0, "wsusdiagd did not exit cleanly");
}

static char *
scan(void)
{
	char cmd[128], buf[512];
	size_t len = 0, cap = 65536;
	char *out = calloc(1, cap);
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "sslscan --no-colour --no-heartbleed 127.0.0.1:%d 2>&1",
		 d.port);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(buf, sizeof(buf), p) != NULL && len + strlen(buf) < cap) {
		memcpy(out + len, buf, strlen(buf));
		len += strlen(buf);
	}
	cr_assert_eq(pclose(p), 0, "sslscan failed:\n%s", out);
	return out;
}

/* The word after a protocol's name in "  SSL/TLS Protocols:". */
static void
expect_protocol(const char *out, const char *proto, const char *state)
{
	char want[64];

	snprintf(want, sizeof(want), "\n%-9s %s\n", proto, state);
	cr_expect(strstr(out, want) != NULL, "%s is not %s:\n%s", proto, state,
		  out);
}

static bool
aead_ecdhe(const char *cipher)
{
	return strncmp(cipher, "ECDHE-", 6) == 0 &&
	       (strstr(cipher, "-GCM-") != NULL ||
		strstr(cipher, "CHACHA20-POLY1305") != NULL);
}

Test(tls_scan, only_tls_1_2_with_ecdhe_aead_and_no_renegotiation, .init = start,
     .fini = stop, .timeout = 240)
{
	char *out = scan(), *line, *save = NULL;
	int accepted = 0;

	expect_protocol(out, "SSLv2", "disabled");
	expect_protocol(out, "SSLv3", "disabled");
	expect_protocol(out, "TLSv1.0", "disabled");
	expect_protocol(out, "TLSv1.1", "disabled");
	expect_protocol(out, "TLSv1.2", "enabled");
	expect_protocol(out, "TLSv1.3", "disabled");
	cr_expect(strstr(out, "Session renegotiation not supported") != NULL,
		  "renegotiation is offered:\n%s", out);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char kind[16], proto[16], cipher[64];
		int bits;

		if (sscanf(line, "%15s %15s %d bits %63s", kind, proto, &bits,
			   cipher) != 4 ||
		    (strcmp(kind, "Accepted") != 0 &&
		     strcmp(kind, "Preferred") != 0))
			continue;
		cr_expect_str_eq(proto, "TLSv1.2", "%s", line);
		cr_expect(aead_ecdhe(cipher), "not ECDHE with AEAD: %s", line);
		accepted++;
	}
	cr_expect_gt(accepted, 0, "sslscan found no cipher at all");
	free(out);
}
