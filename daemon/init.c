/*
 * init.c: `wsusdiagd init` and `wsusdiagd hash-token`.
 *
 * init gives an administrator a working, locked-down daemon in one step:
 * key, self-signed certificate and config, plus two tokens shown exactly
 * once. It never overwrites anything (re-running it must not cost an admin
 * the key clients have pinned) and, if it fails half way, it removes only
 * what this run created.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "common/xalloc.h"
#include "daemon/init.h"
#include "platform/sys.h"

/* Longest token hash-token accepts, trailing line break not counted. */
#define TOKEN_INPUT_MAX 4096
#define TOKEN_RAW_BYTES 32
#define SERIAL_BYTES	16
#define DER_MAX		4096
#define PEM_MAX		(DER_MAX * 2)

/* GeneralName choices (RFC 5280 4.2.1.6), context-specific and implicit. */
#define GN_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)
#define GN_IP  (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)

enum { F_KEY, F_CERT, F_CONFIG, F_COUNT };

static const char *const file_name[F_COUNT] = {
    [F_KEY] = WSD_INIT_KEY,
    [F_CERT] = WSD_INIT_CERT,
    [F_CONFIG] = WSD_INIT_CONFIG,
};

/* The certificate is public; the key and the token hashes are not. */
static const unsigned file_mode[F_COUNT] = {
    [F_KEY] = 0600,
    [F_CERT] = 0644,
    [F_CONFIG] = 0600,
};

struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

/* One DER element of a SEQUENCE, for extensions 2.28 has no setter for. */
struct der_item {
	unsigned char tag;
	const void *data;
	size_t len;
};

struct init {
	const char *dir;
	char *path[F_COUNT];
	bool created[F_COUNT];
	bool made_dir;
	struct rng rng;
	mbedtls_pk_context key;
	char host[256];
	time_t not_after;
	unsigned char der[DER_MAX];
	size_t der_len;
	char token[2][WSD_TOKEN_SIZE];
};

static void errmsg(const char *fmt, ...)
    __attribute__((format(gnu_printf, 1, 2)));

static void
errmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("wsusdiagd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
tls_errmsg(const char *what, int ret)
{
	char buf[160];

	mbedtls_strerror(ret, buf, sizeof(buf));
	errmsg("%s: %s (-0x%04x)", what, buf, (unsigned)-ret);
}

static void
hex_encode(const unsigned char *in, size_t len, char *out, bool upper, char sep)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		if (sep != '\0' && i > 0)
			*out++ = sep;
		*out++ = digits[in[i] >> 4];
		*out++ = digits[in[i] & 0xf];
	}
	*out = '\0';
}

static void
sha256(const void *data, size_t len, unsigned char md[32])
{
	/* The software SHA-256 cannot fail; a wrong hash in a config would
	 * lock the admin out silently, so never return one. */
	if (mbedtls_sha256_ret(data, len, md, 0) != 0)
		abort();
}

void
wsd_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	sha256(data, len, md);
	hex_encode(md, sizeof(md), out, false, '\0');
}

static void
rng_init(struct rng *r)
{
	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
}

static int
rng_seed(struct rng *r, const char *pers)
{
	int ret;

	ret = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
				    (const unsigned char *)pers, strlen(pers));
	if (ret != 0)
		tls_errmsg("cannot seed the random generator", ret);
	return ret == 0 ? 0 : -1;
}

static void
rng_close(struct rng *r)
{
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
}

/* "wsd_" + unpadded base64url, so a token survives shells, URLs and
 * headers without quoting. */
static int
make_token(struct rng *r, char *out, size_t outlen)
{
	unsigned char raw[TOKEN_RAW_BYTES];
	unsigned char b64[48];
	size_t n = 0, i;
	int ret;

	if (outlen < WSD_TOKEN_SIZE) {
		errmsg("token buffer too small (%zu < %d)", outlen,
		       WSD_TOKEN_SIZE);
		return -1;
	}
	ret = mbedtls_ctr_drbg_random(&r->drbg, raw, sizeof(raw));
	if (ret == 0)
		ret = mbedtls_base64_encode(b64, sizeof(b64), &n, raw,
					    sizeof(raw));
	if (ret != 0) {
		tls_errmsg("cannot make a token", ret);
		goto out;
	}
	while (n > 0 && b64[n - 1] == '=')
		n--;
	memcpy(out, "wsd_", 4);
	for (i = 0; i < n; i++)
		out[4 + i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[4 + n] = '\0';
out:
	mbedtls_platform_zeroize(raw, sizeof(raw));
	mbedtls_platform_zeroize(b64, sizeof(b64));
	return ret == 0 ? 0 : -1;
}

int
wsd_random_token(char *out, size_t outlen)
{
	struct rng r;
	int ret = 1;

	rng_init(&r);
	if (rng_seed(&r, "wsusdiagd token") == 0 &&
	    make_token(&r, out, outlen) == 0)
		ret = 0;
	rng_close(&r);
	return ret;
}

/* Characters that are safe both in a DNS name and unescaped in an mbedTLS
 * subject string. */
static bool
hostname_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

static void
local_hostname(char *out, size_t outlen)
{
	if (plat_hostname(out, outlen) == 0 && memchr(out, '\0', outlen) &&
	    hostname_ok(out))
		return;
	errmsg("cannot use this machine's host name in the certificate; "
	       "using \"localhost\"");
	snprintf(out, outlen, "localhost");
}

static int
make_key(struct init *st)
{
	int ret;

	ret = mbedtls_pk_setup(&st->key,
			       mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret == 0)
		ret = mbedtls_ecp_gen_key(
		    MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(st->key),
		    mbedtls_ctr_drbg_random, &st->rng.drbg);
	if (ret != 0)
		tls_errmsg("cannot generate an ECDSA P-256 key", ret);
	return ret == 0 ? 0 : -1;
}

/* Add a non-critical extension whose value is a SEQUENCE of items. */
static int
set_seq_extension(mbedtls_x509write_cert *crt, const char *oid, size_t oid_len,
		  const struct der_item *items, size_t n)
{
	unsigned char buf[1024];
	unsigned char *p = buf + sizeof(buf);
	size_t len = 0;
	int ret;

	/* DER is written back to front. */
	while (n-- > 0) {
		MBEDTLS_ASN1_CHK_ADD(
		    len, mbedtls_asn1_write_raw_buffer(&p, buf, items[n].data,
						       items[n].len));
		MBEDTLS_ASN1_CHK_ADD(
		    len, mbedtls_asn1_write_len(&p, buf, items[n].len));
		MBEDTLS_ASN1_CHK_ADD(
		    len, mbedtls_asn1_write_tag(&p, buf, items[n].tag));
	}
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len,
			     mbedtls_asn1_write_tag(&p, buf,
						    MBEDTLS_ASN1_CONSTRUCTED |
							MBEDTLS_ASN1_SEQUENCE));
	return mbedtls_x509write_crt_set_extension(crt, oid, oid_len, 0, p,
						   len);
}

static int
set_subject_alt_name(mbedtls_x509write_cert *crt, const char *host)
{
	static const unsigned char ip4[4] = {127, 0, 0, 1};
	static const unsigned char ip6[16] = {[15] = 1};
	struct der_item san[] = {
	    {GN_DNS, "localhost", strlen("localhost")},
	    {GN_DNS, host, strlen(host)},
	    {GN_IP, ip4, sizeof(ip4)},
	    {GN_IP, ip6, sizeof(ip6)},
	};

	if (strcmp(host, "localhost") == 0)
		return set_seq_extension(
		    crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
		    MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), san + 1, 3);
	return set_seq_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
				 MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
				 san, 4);
}

static int
set_extensions(mbedtls_x509write_cert *crt, const char *host)
{
	static const struct der_item eku[] = {
	    {MBEDTLS_ASN1_OID, MBEDTLS_OID_SERVER_AUTH,
	     MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)},
	};
	int ret;

	if ((ret = mbedtls_x509write_crt_set_basic_constraints(crt, 0, -1)) ||
	    (ret = mbedtls_x509write_crt_set_key_usage(
		 crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) ||
	    (ret = set_seq_extension(
		 crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
		 MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), eku, 1)) ||
	    (ret = set_subject_alt_name(crt, host)) ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(crt)) ||
	    (ret = mbedtls_x509write_crt_set_authority_key_identifier(crt)))
		return ret;
	return 0;
}

static void
x509_time(time_t t, char out[15])
{
	struct tm tm;

	plat_gmtime(t, &tm);
	strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

/* Serial, names and validity: everything but the extensions. */
static int
set_fields(struct init *st, mbedtls_x509write_cert *crt, mbedtls_mpi *serial)
{
	unsigned char raw[SERIAL_BYTES];
	char from[15], until[15];
	char *name;
	time_t not_before = time(NULL) - 3600;
	int ret;

	ret = mbedtls_ctr_drbg_random(&st->rng.drbg, raw, sizeof(raw));
	if (ret != 0)
		return ret;
	/* Positive and exactly 16 bytes long (RFC 5280 4.1.2.2). */
	raw[0] = (raw[0] & 0x7f) | 0x40;
	if ((ret = mbedtls_mpi_read_binary(serial, raw, sizeof(raw))) != 0 ||
	    (ret = mbedtls_x509write_crt_set_serial(crt, serial)) != 0)
		return ret;

	/* An hour back, so a client whose clock lags still accepts it. */
	st->not_after = not_before + (time_t)WSD_INIT_CERT_DAYS * 86400;
	x509_time(not_before, from);
	x509_time(st->not_after, until);
	if ((ret = mbedtls_x509write_crt_set_validity(crt, from, until)) != 0)
		return ret;

	name = xasprintf("CN=%s,O=wsusdiag", st->host);
	if ((ret = mbedtls_x509write_crt_set_subject_name(crt, name)) == 0)
		ret = mbedtls_x509write_crt_set_issuer_name(crt, name);
	free(name);
	return ret;
}

static int
make_cert(struct init *st)
{
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	int ret;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &st->key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &st->key);
	if ((ret = set_fields(st, &crt, &serial)) != 0 ||
	    (ret = set_extensions(&crt, st->host)) != 0)
		goto out;
	/* Sign once: the DER hashed for the fingerprint is the one written. */
	ret = mbedtls_x509write_crt_der(&crt, st->der, sizeof(st->der),
					mbedtls_ctr_drbg_random, &st->rng.drbg);
	if (ret < 0)
		goto out;
	st->der_len = (size_t)ret;
	memmove(st->der, st->der + sizeof(st->der) - st->der_len, st->der_len);
	ret = 0;
out:
	if (ret != 0)
		tls_errmsg("cannot build the certificate", ret);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	return ret == 0 ? 0 : -1;
}

static void
add_token(cJSON *tokens, const char *name, const char *token, const char *role)
{
	cJSON *t = cJSON_CreateObject();
	char hex[65];

	wsd_sha256_hex(token, strlen(token), hex);
	cJSON_AddStringToObject(t, "name", name);
	cJSON_AddStringToObject(t, "sha256", hex);
	cJSON_AddStringToObject(t, "role", role);
	cJSON_AddItemToArray(tokens, t);
}

static void
add_strings(cJSON *obj, const char *name, const char *const *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(obj, name);
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

/* The config, pretty-printed, with paths relative to its own directory.
 * "host" is win32: on Linux the admin passes --host sim:FILE. */
static char *
make_config(const struct init *st)
{
	static const char *const allow[] = {"127.0.0.0/8", "::1/128"};
	cJSON *root = cJSON_CreateObject(), *o;
	char *text;

	cJSON_AddStringToObject(root, "listen", "0.0.0.0:8550");
	o = cJSON_AddObjectToObject(root, "tls");
	cJSON_AddStringToObject(o, "cert", WSD_INIT_CERT);
	cJSON_AddStringToObject(o, "key", WSD_INIT_KEY);
	cJSON_AddNullToObject(o, "client_ca");
	o = cJSON_AddObjectToObject(root, "auth");
	add_token(cJSON_AddArrayToObject(o, "tokens"), "admin", st->token[0],
		  "admin");
	add_token(cJSON_GetObjectItem(o, "tokens"), "read", st->token[1],
		  "read");
	cJSON_AddArrayToObject(o, "clients");
	add_strings(o, "allow", allow, 2);
	o = cJSON_AddObjectToObject(root, "host");
	cJSON_AddStringToObject(o, "kind", "win32");
	o = cJSON_AddObjectToObject(root, "limits");
	cJSON_AddNumberToObject(o, "connections", 64);
	cJSON_AddNumberToObject(o, "per_ip", 16);
	cJSON_AddNumberToObject(o, "idle_timeout_s", 15);
	cJSON_AddNumberToObject(o, "handshake_timeout_s", 5);
	cJSON_AddNumberToObject(o, "body_bytes", 65536);
	o = cJSON_AddObjectToObject(root, "probe");
	cJSON_AddNumberToObject(o, "timeout_ms", 5000);
	cJSON_AddStringToObject(root, "audit_log", "audit.jsonl");
	text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

static char *
join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	bool ends = n > 0 && plat_path_last_sep(dir) == dir + n - 1;

	return xasprintf("%s%s%s", dir, ends ? "" : plat_dir_sep(), name);
}

static int
check_absent(const char *path)
{
	if (plat_path_exists(path)) {
		errmsg("%s already exists; init never overwrites a file, "
		       "move it away first",
		       path);
		return -1;
	}
	return 0;
}

static int
make_dir(struct init *st)
{
	char err[512];
	int rc = plat_mkdir_private(st->dir, err, sizeof(err));

	if (rc < 0) {
		errmsg("%s", err);
		return -1;
	}
	st->made_dir = rc == 1;
	return 0;
}

/* Created with its final permissions, never replacing a file. */
static int
write_new(struct init *st, int f, const void *data, size_t len)
{
	char err[512];
	int rc = plat_write_new_file(st->path[f], file_mode[f] == 0600, data,
				     len, err, sizeof(err));

	if (rc != 0)
		errmsg("%s", err);
	st->created[f] = rc >= 0;
	return rc == 0 ? 0 : -1;
}

static int
write_key(struct init *st)
{
	unsigned char pem[PEM_MAX];
	int ret;

	ret = mbedtls_pk_write_key_pem(&st->key, pem, sizeof(pem));
	if (ret != 0)
		tls_errmsg("cannot encode the key", ret);
	else
		ret = write_new(st, F_KEY, pem, strlen((char *)pem));
	mbedtls_platform_zeroize(pem, sizeof(pem));
	return ret == 0 ? 0 : -1;
}

static int
write_cert(struct init *st)
{
	unsigned char pem[PEM_MAX];
	size_t olen = 0;
	int ret;

	ret = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
				       "-----END CERTIFICATE-----\n", st->der,
				       st->der_len, pem, sizeof(pem), &olen);
	if (ret != 0) {
		tls_errmsg("cannot encode the certificate", ret);
		return -1;
	}
	/* olen counts the terminating NUL. */
	return write_new(st, F_CERT, pem, olen - 1);
}

static int
write_config(struct init *st)
{
	char *text = make_config(st);
	char *line;
	int ret;

	if (text == NULL) {
		errmsg("out of memory building the config");
		return -1;
	}
	line = xasprintf("%s\n", text);
	ret = write_new(st, F_CONFIG, line, strlen(line));
	free(line);
	free(text);
	return ret;
}

/* Tokens are shown here and nowhere else: if they cannot be shown the
 * config is useless, so the caller rolls back. */
static int
report(const struct init *st, FILE *out)
{
	unsigned char md[32];
	char fp[32 * 3];
	char until[11];
	struct tm tm;

	sha256(st->der, st->der_len, md);
	hex_encode(md, sizeof(md), fp, true, ':');
	plat_gmtime(st->not_after, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d", &tm);
	fprintf(out, "wrote %s (ECDSA P-256, not readable by other users)\n",
		st->path[F_KEY]);
	fprintf(out, "wrote %s (self-signed, valid until %s)\n",
		st->path[F_CERT], until);
	fprintf(out, "wrote %s\n", st->path[F_CONFIG]);
	fprintf(out, "certificate SHA-256 fingerprint: %s\n", fp);
	fprintf(out, "admin token: %s\n", st->token[0]);
	fprintf(out, "read token:  %s\n", st->token[1]);
	fprintf(out, "(tokens are shown once; only their SHA-256 is stored)\n");
	if (fflush(out) != 0 || ferror(out)) {
		errmsg("cannot print the tokens: %s; removed the files this "
		       "run created",
		       strerror(errno));
		return -1;
	}
	return 0;
}

static int
prepare(struct init *st)
{
	int f;

	for (f = 0; f < F_COUNT; f++)
		if (check_absent(st->path[f]) != 0)
			return -1;
	if (rng_seed(&st->rng, "wsusdiagd init") != 0)
		return -1;
	local_hostname(st->host, sizeof(st->host));
	if (make_key(st) != 0 || make_cert(st) != 0 ||
	    make_token(&st->rng, st->token[0], sizeof(st->token[0])) != 0 ||
	    make_token(&st->rng, st->token[1], sizeof(st->token[1])) != 0)
		return -1;
	return 0;
}

static void
rollback(struct init *st)
{
	int f;

	for (f = F_COUNT - 1; f >= 0; f--)
		if (st->created[f] && plat_remove_file(st->path[f]) != 0)
			errmsg("cannot remove %s: %s", st->path[f],
			       strerror(errno));
	if (st->made_dir)
		plat_remove_dir(st->dir);
}

int
wsd_init(const char *dir, FILE *out)
{
	struct init *st = xcalloc(1, sizeof(*st));
	int f, ret = 1;

	st->dir = dir;
	rng_init(&st->rng);
	mbedtls_pk_init(&st->key);
	for (f = 0; f < F_COUNT; f++)
		st->path[f] = join_path(dir, file_name[f]);
	if (dir[0] == '\0') {
		errmsg("init: empty --dir");
		goto out;
	}
	/* Everything is built in memory first, so a failure to generate
	 * leaves the disk untouched. */
	if (prepare(st) != 0 || make_dir(st) != 0 || write_key(st) != 0 ||
	    write_cert(st) != 0 || write_config(st) != 0 ||
	    report(st, out) != 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		rollback(st);
	for (f = 0; f < F_COUNT; f++)
		free(st->path[f]);
	mbedtls_pk_free(&st->key);
	rng_close(&st->rng);
	mbedtls_platform_zeroize(st, sizeof(*st));
	free(st);
	return ret;
}

/* Token characters as a bearer header can carry them: no controls. */
static bool
token_ok(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int
wsd_hash_token(FILE *in, FILE *out)
{
	unsigned char buf[TOKEN_INPUT_MAX + 3];
	char hex[65];
	size_t n;
	int ret = 1;

	/* Room for the longest token, "\r\n" and one byte that says "more". */
	n = fread(buf, 1, sizeof(buf), in);
	if (ferror(in)) {
		errmsg("hash-token: cannot read stdin: %s", strerror(errno));
		goto out;
	}
	if (n < sizeof(buf) && n > 0 && buf[n - 1] == '\n' && --n > 0 &&
	    buf[n - 1] == '\r')
		n--;
	if (n > TOKEN_INPUT_MAX) {
		errmsg("hash-token: token longer than %d bytes",
		       TOKEN_INPUT_MAX);
		goto out;
	}
	if (n == 0) {
		errmsg("hash-token: empty token on stdin");
		goto out;
	}
	if (!token_ok(buf, n)) {
		errmsg("hash-token: token contains a line break or control "
		       "character; give one token on one line");
		goto out;
	}
	wsd_sha256_hex(buf, n, hex);
	if (fprintf(out, "%s\n", hex) < 0 || fflush(out) != 0) {
		errmsg("hash-token: cannot write the hash: %s",
		       strerror(errno));
		goto out;
	}
	ret = 0;
out:
	mbedtls_platform_zeroize(buf, sizeof(buf));
	return ret;
}
