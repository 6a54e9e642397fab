/*
 * test_init.c: `wsusdiagd init` and `wsusdiagd hash-token`, checked with
 * mbedTLS and, independently, with the openssl command line.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "common/xalloc.h"
#include "daemon/init.h"

#define ABC_SHA256                                                             \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const char *const init_files[] = {WSD_INIT_KEY, WSD_INIT_CERT,
					 WSD_INIT_CONFIG};

/* ---- helpers ------------------------------------------------------------ */

static char *
read_stream(FILE *f)
{
	size_t cap = 256, n = 0, got;
	char *buf = xmalloc(cap);

	rewind(f);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			buf = xgrow(buf, &cap, cap * 2, 1);
	}
	buf[n] = '\0';
	return buf;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;

	cr_assert_not_null(f, "cannot open %s", path);
	s = read_stream(f);
	fclose(f);
	return s;
}

static FILE *
input(const char *data, size_t len)
{
	FILE *f = tmpfile();

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	rewind(f);
	return f;
}

/* stderr redirected into a temp file for the length of one call. */
struct capture {
	FILE *f;
	int saved;
};

static void
capture_begin(struct capture *c)
{
	c->f = tmpfile();
	cr_assert_not_null(c->f);
	fflush(stderr);
	c->saved = dup(2);
	cr_assert_geq(c->saved, 0);
	cr_assert_geq(dup2(fileno(c->f), 2), 0);
}

static char *
capture_end(struct capture *c)
{
	char *s;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	s = read_stream(c->f);
	fclose(c->f);
	return s;
}

static int
run_init(const char *dir, char **out_text, char **err_text)
{
	FILE *out = tmpfile();
	struct capture c;
	int rc;

	cr_assert_not_null(out);
	capture_begin(&c);
	rc = wsd_init(dir, out);
	*err_text = capture_end(&c);
	*out_text = read_stream(out);
	fclose(out);
	return rc;
}

static int
run_hash(const char *data, size_t len, char **out_text, char **err_text)
{
	FILE *in = input(data, len), *out = tmpfile();
	struct capture c;
	int rc;

	cr_assert_not_null(out);
	capture_begin(&c);
	rc = wsd_hash_token(in, out);
	*err_text = capture_end(&c);
	*out_text = read_stream(out);
	fclose(in);
	fclose(out);
	return rc;
}

static char *
make_tmpdir(void)
{
	char *dir = xstrdup("/tmp/wsd-init-XXXXXX");

	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static char *
path_in(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *p = path_in(dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static bool
exists(const char *dir, const char *name)
{
	char *p = path_in(dir, name);
	struct stat sb;
	bool ok = lstat(p, &sb) == 0;

	free(p);
	return ok;
}

static mode_t
file_mode(const char *dir, const char *name)
{
	char *p = path_in(dir, name);
	struct stat sb;

	cr_assert_eq(lstat(p, &sb), 0, "%s missing", p);
	cr_assert(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode));
	free(p);
	return sb.st_mode & 07777;
}

/* The rest of the line of text that starts with prefix. */
static char *
line_after(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, n) == 0)
			return strndup(p + n, strcspn(p + n, "\n"));
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	cr_assert_fail("no line \"%s\" in:\n%s", prefix, text);
	return NULL;
}

static char *
run_cmd(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *s;

	cr_assert_not_null(p, "popen %s", cmd);
	s = read_stream(p);
	cr_assert_eq(pclose(p), 0, "`%s` failed:\n%s", cmd, s);
	return s;
}

static void
local_hostname(char out[256])
{
	cr_assert_eq(gethostname(out, 256), 0);
	out[255] = '\0';
}

static time_t
x509_time_t(const mbedtls_x509_time *t)
{
	struct tm tm = {
	    .tm_year = t->year - 1900,
	    .tm_mon = t->mon - 1,
	    .tm_mday = t->day,
	    .tm_hour = t->hour,
	    .tm_min = t->min,
	    .tm_sec = t->sec,
	};

	return timegm(&tm);
}

static bool
token_shaped(const char *t)
{
	size_t i;

	if (strlen(t) != WSD_TOKEN_LEN || strncmp(t, "wsd_", 4) != 0)
		return false;
	for (i = 4; t[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
			   t[i]) == NULL)
			return false;
	return true;
}

/* One successful init, shared by the tests that inspect its result. */
struct fixture {
	char *dir;
	char *out;
	char *err;
	char *crt_path;
	char *key_path;
	char *cfg_path;
	char host[256];
};

static void
fixture_init(struct fixture *fx)
{
	int rc;

	umask(022);
	fx->dir = make_tmpdir();
	rc = run_init(fx->dir, &fx->out, &fx->err);
	cr_assert_eq(rc, 0, "init failed: %s", fx->err);
	cr_assert_str_empty(fx->err);
	fx->crt_path = path_in(fx->dir, WSD_INIT_CERT);
	fx->key_path = path_in(fx->dir, WSD_INIT_KEY);
	fx->cfg_path = path_in(fx->dir, WSD_INIT_CONFIG);
	local_hostname(fx->host);
}

static void
fixture_fini(struct fixture *fx)
{
	remove_tree(fx->dir);
	free(fx->dir);
	free(fx->out);
	free(fx->err);
	free(fx->crt_path);
	free(fx->key_path);
	free(fx->cfg_path);
}

/* ---- init: files and report -------------------------------------------- */

Test(init, writes_three_files_with_private_modes)
{
	struct fixture fx;
	char *line, *want;

	fixture_init(&fx);
	cr_assert_eq(file_mode(fx.dir, WSD_INIT_KEY), 0600);
	cr_assert_eq(file_mode(fx.dir, WSD_INIT_CONFIG), 0600);
	cr_assert_eq(file_mode(fx.dir, WSD_INIT_CERT), 0644);
	cr_assert_eq(count_entries(fx.dir), 3);

	line = line_after(fx.out, "wrote ");
	want = xasprintf("%s (ECDSA P-256, not readable by other users)",
			 fx.key_path);
	cr_assert_str_eq(line, want);
	free(line);
	free(want);
	want = xasprintf("wrote %s\n", fx.cfg_path);
	cr_assert_not_null(strstr(fx.out, want), "%s", fx.out);
	free(want);
	cr_assert_not_null(strstr(
	    fx.out,
	    "\n(tokens are shown once; only their SHA-256 is stored)\n"));

	line = slurp(fx.key_path);
	cr_assert(strncmp(line, "-----BEGIN EC PRIVATE KEY-----\n", 31) == 0,
		  "%s", line);
	free(line);
	fixture_fini(&fx);
}

Test(init, creates_missing_directory_0700)
{
	char *parent = make_tmpdir();
	char *dir = path_in(parent, "conf");
	char *out, *err;

	umask(022);
	cr_assert_eq(run_init(dir, &out, &err), 0, "%s", err);
	cr_assert_eq(file_mode(parent, "conf"), 0700);
	cr_assert(exists(dir, WSD_INIT_KEY));
	remove_tree(dir);
	rmdir(parent);
	free(out);
	free(err);
	free(dir);
	free(parent);
}

/* ---- init: the certificate --------------------------------------------- */

Test(init, certificate_is_self_signed_p256_server_cert)
{
	struct fixture fx;
	mbedtls_x509_crt crt;
	char dn[512], *want;
	uint32_t flags = 0;

	fixture_init(&fx);
	mbedtls_x509_crt_init(&crt);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, fx.crt_path), 0);
	cr_assert_null(crt.next, "exactly one certificate in the file");
	cr_assert_eq(crt.version, 3);
	cr_assert_eq(mbedtls_pk_get_type(&crt.pk), MBEDTLS_PK_ECKEY);
	cr_assert_eq(mbedtls_pk_ec(crt.pk)->grp.id, MBEDTLS_ECP_DP_SECP256R1);
	cr_assert_eq(crt.sig_pk, MBEDTLS_PK_ECDSA);
	cr_assert_eq(crt.sig_md, MBEDTLS_MD_SHA256);

	cr_assert_gt(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject), 0);
	want = xasprintf("CN=%s, O=wsusdiag", fx.host);
	cr_assert_str_eq(dn, want);
	free(want);
	cr_assert_eq(crt.issuer_raw.len, crt.subject_raw.len);
	cr_assert(memcmp(crt.issuer_raw.p, crt.subject_raw.p,
			 crt.subject_raw.len) == 0);

	cr_assert_eq(crt.serial.len, 16);
	cr_assert_eq(crt.serial.p[0] & 0x80, 0, "serial must be positive");
	cr_assert_neq(crt.serial.p[0], 0, "serial must use all 16 bytes");

	/* Self-signed and acceptable as its own trust anchor for the SAN
	 * name localhost. */
	cr_assert_eq(mbedtls_x509_crt_verify(&crt, &crt, NULL, "localhost",
					     &flags, NULL, NULL),
		     0, "flags 0x%x", flags);
	cr_assert_eq(flags, 0);
	mbedtls_x509_crt_free(&crt);
	fixture_fini(&fx);
}

/* The local-trust shortcut above skips the signature; check it too. */
Test(init, certificate_signature_verifies_with_its_key)
{
	struct fixture fx;
	mbedtls_x509_crt crt;
	unsigned char md[32];

	fixture_init(&fx);
	mbedtls_x509_crt_init(&crt);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, fx.crt_path), 0);
	cr_assert_eq(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
				crt.tbs.p, crt.tbs.len, md),
		     0);
	cr_assert_eq(mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, md,
				       sizeof(md), crt.sig.p, crt.sig.len),
		     0);
	/* One flipped bit in the signed part must break it. */
	md[0] ^= 1;
	cr_assert_neq(mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, md,
					sizeof(md), crt.sig.p, crt.sig.len),
		      0);
	mbedtls_x509_crt_free(&crt);
	fixture_fini(&fx);
}

Test(init, certificate_extensions)
{
	struct fixture fx;
	mbedtls_x509_crt crt;

	fixture_init(&fx);
	mbedtls_x509_crt_init(&crt);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, fx.crt_path), 0);
	cr_assert(crt.ext_types & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS);
	cr_assert_eq(crt.ca_istrue, 0);
	cr_assert(crt.ext_types & MBEDTLS_X509_EXT_KEY_USAGE);
	cr_assert_eq(crt.key_usage, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	cr_assert(crt.ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE);
	cr_assert_eq(mbedtls_x509_crt_check_extended_key_usage(
			 &crt, MBEDTLS_OID_SERVER_AUTH,
			 MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
		     0);
	cr_assert_neq(mbedtls_x509_crt_check_extended_key_usage(
			  &crt, MBEDTLS_OID_CLIENT_AUTH,
			  MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
		      0, "serverAuth only");
	mbedtls_x509_crt_free(&crt);
	fixture_fini(&fx);
}

Test(init, certificate_subject_alt_names_in_order)
{
	static const unsigned char ip4[4] = {127, 0, 0, 1};
	static const unsigned char ip6[16] = {[15] = 1};
	struct fixture fx;
	mbedtls_x509_crt crt;
	const mbedtls_x509_sequence *s;
	struct {
		int tag;
		const void *p;
		size_t len;
	} want[4];
	size_t n = 0, i;

	fixture_init(&fx);
	want[n].tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
	want[n].p = "localhost";
	want[n++].len = 9;
	if (strcmp(fx.host, "localhost") != 0) {
		want[n].tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
		want[n].p = fx.host;
		want[n++].len = strlen(fx.host);
	}
	want[n].tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
	want[n].p = ip4;
	want[n++].len = 4;
	want[n].tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
	want[n].p = ip6;
	want[n++].len = 16;

	mbedtls_x509_crt_init(&crt);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, fx.crt_path), 0);
	cr_assert(crt.ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME);
	for (s = &crt.subject_alt_names, i = 0; s != NULL; s = s->next, i++) {
		cr_assert_lt(i, n, "more SAN entries than expected");
		cr_assert_eq(s->buf.tag, want[i].tag, "entry %zu", i);
		cr_assert_eq(s->buf.len, want[i].len, "entry %zu", i);
		cr_assert(memcmp(s->buf.p, want[i].p, want[i].len) == 0,
			  "entry %zu", i);
	}
	cr_assert_eq(i, n);
	mbedtls_x509_crt_free(&crt);
	fixture_fini(&fx);
}

Test(init, certificate_validity_825_days_from_an_hour_ago)
{
	struct fixture fx;
	mbedtls_x509_crt crt;
	time_t from, to, now = time(NULL);
	char date[16], *want;
	struct tm tm;

	fixture_init(&fx);
	mbedtls_x509_crt_init(&crt);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, fx.crt_path), 0);
	from = x509_time_t(&crt.valid_from);
	to = x509_time_t(&crt.valid_to);
	cr_assert_eq(to - from, (time_t)WSD_INIT_CERT_DAYS * 86400);
	/* Generous: the backdating is an hour, the run far less. */
	cr_assert_leq(from, now - 3600 + 600);
	cr_assert_geq(from, now - 3600 - 600);

	gmtime_r(&to, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	want = xasprintf("wrote %s (self-signed, valid until %s)\n",
			 fx.crt_path, date);
	cr_assert_not_null(strstr(fx.out, want), "want %s in:\n%s", want,
			   fx.out);
	free(want);
	mbedtls_x509_crt_free(&crt);
	fixture_fini(&fx);
}

Test(init, key_matches_certificate)
{
	struct fixture fx;
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;

	fixture_init(&fx);
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, fx.crt_path), 0);
	cr_assert_eq(mbedtls_pk_parse_keyfile(&key, fx.key_path, NULL), 0);
	cr_assert_eq(mbedtls_pk_get_type(&key), MBEDTLS_PK_ECKEY);
	cr_assert_eq(mbedtls_pk_check_pair(&crt.pk, &key), 0);
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&crt);
	fixture_fini(&fx);
}

/* ---- init: the same certificate through openssl ------------------------ */

Test(init, fingerprint_equals_openssl)
{
	struct fixture fx;
	char *cmd, *ossl, *mine;
	const char *eq;

	fixture_init(&fx);
	cmd = xasprintf("openssl x509 -noout -fingerprint -sha256 -in '%s'",
			fx.crt_path);
	ossl = run_cmd(cmd);
	eq = strchr(ossl, '=');
	cr_assert_not_null(eq, "%s", ossl);
	mine = line_after(fx.out, "certificate SHA-256 fingerprint: ");
	cr_assert_eq(strlen(mine), 32 * 3 - 1);
	cr_assert(strncmp(mine, eq + 1, strlen(mine)) == 0 &&
		      eq[1 + strlen(mine)] == '\n',
		  "mine %s, openssl %s", mine, eq + 1);
	free(mine);
	free(ossl);
	free(cmd);
	fixture_fini(&fx);
}

Test(init, openssl_reads_extensions_and_verifies)
{
	static const char *const want[] = {
	    "DNS:localhost",
	    "IP Address:127.0.0.1",
	    "IP Address:0:0:0:0:0:0:0:1",
	    "TLS Web Server Authentication",
	    "CA:FALSE",
	    "Digital Signature",
	    "ecdsa-with-SHA256",
	    "P-256",
	    "Subject: CN = ",
	};
	struct fixture fx;
	char *cmd, *text, *dns;
	size_t i;

	fixture_init(&fx);
	cmd = xasprintf("openssl x509 -noout -text -in '%s'", fx.crt_path);
	text = run_cmd(cmd);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_not_null(strstr(text, want[i]), "no \"%s\" in:\n%s",
				   want[i], text);
	dns = xasprintf("DNS:%s", fx.host);
	cr_assert_not_null(strstr(text, dns), "%s", text);
	free(dns);
	free(text);
	free(cmd);

	cmd =
	    xasprintf("openssl verify -purpose sslserver -verify_ip 127.0.0.1 "
		      "-CAfile '%s' '%s'",
		      fx.crt_path, fx.crt_path);
	text = run_cmd(cmd);
	cr_assert_not_null(strstr(text, ": OK"), "%s", text);
	free(text);
	free(cmd);
	fixture_fini(&fx);
}

/* ---- init: the config and the tokens ----------------------------------- */

Test(init, config_has_exact_structure_and_token_hashes)
{
	static const char *const layout =
	    "{\"listen\":\"0.0.0.0:8550\","
	    "\"tls\":{\"cert\":\"server.crt\",\"key\":\"server.key\","
	    "\"client_ca\":null},"
	    "\"auth\":{\"tokens\":["
	    "{\"name\":\"admin\",\"sha256\":\"%s\",\"role\":\"admin\"},"
	    "{\"name\":\"read\",\"sha256\":\"%s\",\"role\":\"read\"}],"
	    "\"clients\":[],\"allow\":[\"127.0.0.0/8\",\"::1/128\"]},"
	    "\"host\":{\"kind\":\"win32\"},"
	    "\"limits\":{\"connections\":64,\"per_ip\":16,"
	    "\"idle_timeout_s\":15,\"handshake_timeout_s\":5,"
	    "\"body_bytes\":65536},"
	    "\"probe\":{\"timeout_ms\":5000},\"audit_log\":\"audit.jsonl\"}";
	struct fixture fx;
	char *admin, *rd, *text, *want_text;
	char admin_hex[65], read_hex[65];
	cJSON *got, *want;

	fixture_init(&fx);
	admin = line_after(fx.out, "admin token: ");
	rd = line_after(fx.out, "read token:  ");
	cr_assert(token_shaped(admin), "%s", admin);
	cr_assert(token_shaped(rd), "%s", rd);
	cr_assert_str_neq(admin, rd);
	wsd_sha256_hex(admin, strlen(admin), admin_hex);
	wsd_sha256_hex(rd, strlen(rd), read_hex);

	text = slurp(fx.cfg_path);
	cr_assert_null(strstr(text, admin), "token stored in clear");
	cr_assert_null(strstr(text, rd), "token stored in clear");
	cr_assert_null(strstr(text, admin + 4), "token stored in clear");
	got = cJSON_Parse(text);
	cr_assert_not_null(got, "config is not JSON:\n%s", text);
	want_text = xasprintf(layout, admin_hex, read_hex);
	want = cJSON_Parse(want_text);
	cr_assert_not_null(want);
	cr_assert(cJSON_Compare(want, got, true), "config:\n%s", text);

	cJSON_Delete(got);
	cJSON_Delete(want);
	free(want_text);
	free(text);
	free(admin);
	free(rd);
	fixture_fini(&fx);
}

Test(init, two_runs_give_different_keys_and_tokens)
{
	struct fixture a, b;
	char *ka, *kb, *ta, *tb;

	fixture_init(&a);
	fixture_init(&b);
	ka = slurp(a.key_path);
	kb = slurp(b.key_path);
	cr_assert_str_neq(ka, kb);
	ta = line_after(a.out, "admin token: ");
	tb = line_after(b.out, "admin token: ");
	cr_assert_str_neq(ta, tb);
	free(ka);
	free(kb);
	free(ta);
	free(tb);
	fixture_fini(&a);
	fixture_fini(&b);
}

/* ---- init: never overwrite, roll back ---------------------------------- */

Test(init, second_run_refuses_and_changes_nothing)
{
	struct fixture fx;
	char *before[3], *after, *out, *err, *want;
	size_t i;

	fixture_init(&fx);
	for (i = 0; i < 3; i++) {
		char *p = path_in(fx.dir, init_files[i]);
		before[i] = slurp(p);
		free(p);
	}
	cr_assert_neq(run_init(fx.dir, &out, &err), 0);
	cr_assert_str_empty(out, "nothing may be reported: %s", out);
	want = xasprintf("wsusdiagd: %s already exists", fx.key_path);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
	free(want);
	for (i = 0; i < 3; i++) {
		char *p = path_in(fx.dir, init_files[i]);
		after = slurp(p);
		cr_assert_str_eq(after, before[i], "%s changed", p);
		free(after);
		free(before[i]);
		free(p);
	}
	cr_assert_eq(count_entries(fx.dir), 3);
	cr_assert_eq(file_mode(fx.dir, WSD_INIT_KEY), 0600);
	free(out);
	free(err);
	fixture_fini(&fx);
}

Test(init, existing_config_alone_blocks_and_survives)
{
	char *dir = make_tmpdir();
	char *cfg = path_in(dir, WSD_INIT_CONFIG);
	char *out, *err, *text, *want;
	FILE *f = fopen(cfg, "w");

	cr_assert_not_null(f);
	fputs("{\"mine\":true}\n", f);
	fclose(f);
	cr_assert_neq(run_init(dir, &out, &err), 0);
	want = xasprintf("wsusdiagd: %s already exists", cfg);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
	cr_assert(!exists(dir, WSD_INIT_KEY));
	cr_assert(!exists(dir, WSD_INIT_CERT));
	text = slurp(cfg);
	cr_assert_str_eq(text, "{\"mine\":true}\n");
	remove_tree(dir);
	free(text);
	free(want);
	free(out);
	free(err);
	free(cfg);
	free(dir);
}

/* The tokens cannot be shown (stdout is full): everything this run wrote
 * goes, including the directory it made; nothing else does. */
Test(init, unprintable_tokens_roll_back_what_this_run_created)
{
	char *dir = make_tmpdir();
	char *sub = path_in(dir, "new");
	char *keep = path_in(dir, "keep.txt");
	FILE *full, *f;
	struct capture c;
	char *err;
	int rc;

	f = fopen(keep, "w");
	cr_assert_not_null(f);
	fputs("x", f);
	fclose(f);

	full = fopen("/dev/full", "w");
	cr_assert_not_null(full);
	capture_begin(&c);
	rc = wsd_init(dir, full);
	err = capture_end(&c);
	cr_assert_neq(rc, 0);
	cr_assert_not_null(strstr(err, "wsusdiagd: cannot print the tokens"),
			   "%s", err);
	cr_assert_eq(count_entries(dir), 1, "only keep.txt may remain");
	cr_assert(exists(dir, "keep.txt"));
	free(err);

	capture_begin(&c);
	rc = wsd_init(sub, full);
	err = capture_end(&c);
	cr_assert_neq(rc, 0);
	cr_assert(!exists(dir, "new"), "the directory init made must go");
	fclose(full);

	remove_tree(dir);
	free(err);
	free(keep);
	free(sub);
	free(dir);
}

Test(init, missing_parent_fails_cleanly)
{
	char *dir = make_tmpdir();
	char *deep = xasprintf("%s/a/b", dir);
	char *out, *err;

	cr_assert_neq(run_init(deep, &out, &err), 0);
	cr_assert(strncmp(err, "wsusdiagd: ", 11) == 0, "%s", err);
	cr_assert_not_null(strstr(err, deep), "%s", err);
	cr_assert_str_empty(out);
	cr_assert_eq(count_entries(dir), 0);
	remove_tree(dir);
	free(out);
	free(err);
	free(deep);
	free(dir);
}

/* ---- hash-token --------------------------------------------------------- */

static void
assert_hash(const char *data, size_t len, const char *hex)
{
	char *out, *err, *want = xasprintf("%s\n", hex);

	cr_assert_eq(run_hash(data, len, &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, want);
	cr_assert_str_empty(err);
	free(want);
	free(out);
	free(err);
}

static void
assert_refused(const char *data, size_t len, const char *why)
{
	char *out, *err;

	cr_assert_neq(run_hash(data, len, &out, &err), 0);
	cr_assert_str_empty(out);
	cr_assert(strncmp(err, "wsusdiagd: hash-token: ", 23) == 0, "%s", err);
	cr_assert_not_null(strstr(err, why), "%s", err);
	free(out);
	free(err);
}

Test(hash_token, strips_one_line_ending)
{
	assert_hash("abc\n", 4, ABC_SHA256);
	assert_hash("abc\r\n", 5, ABC_SHA256);
	assert_hash("abc", 3, ABC_SHA256);
}

Test(hash_token, refuses_empty_input)
{
	assert_refused("", 0, "empty");
	assert_refused("\n", 1, "empty");
	assert_refused("\r\n", 2, "empty");
}

Test(hash_token, refuses_more_than_one_line)
{
	assert_refused("abc\n\n", 5, "line break");
	assert_refused("abc\ndef\n", 8, "line break");
	assert_refused("ab\tc", 4, "control");
}

Test(hash_token, length_limit_4096)
{
	char *buf = xmalloc(4100), hex[65];

	memset(buf, 'a', 4097);
	buf[4096] = '\n';
	wsd_sha256_hex(buf, 4096, hex);
	assert_hash(buf, 4097, hex);
	buf[4096] = '\r';
	buf[4097] = '\n';
	assert_hash(buf, 4098, hex);
	memset(buf, 'a', 4100);
	assert_refused(buf, 4097, "longer than 4096");
	buf[4097] = '\n';
	assert_refused(buf, 4098, "longer than 4096");
	assert_refused(buf, 4100, "longer than 4096");
	free(buf);
}

Test(hash_token, matches_init_hashes)
{
	char tok[WSD_TOKEN_SIZE], hex[65], *line, *out, *err;

	cr_assert_eq(wsd_random_token(tok, sizeof(tok)), 0);
	line = xasprintf("%s\n", tok);
	cr_assert_eq(run_hash(line, strlen(line), &out, &err), 0);
	wsd_sha256_hex(tok, strlen(tok), hex);
	cr_assert_eq(strlen(out), 65);
	cr_assert(strncmp(out, hex, 64) == 0);
	free(line);
	free(out);
	free(err);
}

/* ---- primitives --------------------------------------------------------- */

Test(sha256_hex, known_vectors)
{
	char hex[65];

	wsd_sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, ABC_SHA256);
	wsd_sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
			      "27ae41e4649b934ca495991b7852b855");
}

Test(random_token, shape_and_freshness)
{
	char a[WSD_TOKEN_SIZE], b[WSD_TOKEN_SIZE];

	cr_assert_eq(wsd_random_token(a, sizeof(a)), 0);
	cr_assert_eq(wsd_random_token(b, sizeof(b)), 0);
	cr_assert(token_shaped(a), "%s", a);
	cr_assert(token_shaped(b), "%s", b);
	cr_assert_str_neq(a, b);
}

Test(random_token, refuses_short_buffer)
{
	char small[WSD_TOKEN_LEN];
	struct capture c;
	char *err;
	int rc;

	capture_begin(&c);
	rc = wsd_random_token(small, sizeof(small));
	err = capture_end(&c);
	cr_assert_neq(rc, 0);
	cr_assert(strncmp(err, "wsusdiagd: ", 11) == 0, "%s", err);
	free(err);
}
