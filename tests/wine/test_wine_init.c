/*
 * `wsusdiagd.exe init --dir DIR` under Wine: the Windows build's key,
 * certificate, config and tokens, then that config checked and served by
 * wsusdiagd.exe itself and called over TLS from Linux with the printed
 * tokens. The Linux init is covered by tests/unit/test_init.c; this is the
 * Win32 side (CreateDirectoryW/CreateFileW with a protected DACL, CREATE_NEW,
 * GetFileAttributesW, GetComputerNameExA, mbedTLS's Windows entropy).
 * Skipped when build-win/wsusdiagd.exe is absent.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "support/tmptree.h"
#include "wine_harness.h"

#define DIR_STEM	"wsd-init-test-"
#define TOKEN_LEN	47 /* "wsd_" + 43 base64url: daemon/init.h */
#define START_TIMEOUT_S 60
#define OUTPUT_LINES	7

static struct daemon d;
/* C:\wsd-init-test-PID, its Unix path in drive_c, and a Linux scratch
 * dir for the daemon's log and the certificate curl trusts. */
static char win_dir[64];
static char unix_dir[512];
static char scratch[64];

struct init_run {
	char *text;  /* stdout and stderr, CRs removed */
	char *lines; /* a copy of text, cut into line[] */
	char *line[OUTPUT_LINES];
	char admin[TOKEN_LEN + 1];
	char reader[TOKEN_LEN + 1];
};

static const char *
prefix(void)
{
	return getenv("WSUSDIAG_WINEPREFIX");
}

/* What an earlier run that died before its .fini left in drive_c. */
static void
remove_stale_dirs(void)
{
	char path[768];
	struct dirent *e;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/drive_c", prefix());
	dp = opendir(path);
	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (strncmp(e->d_name, DIR_STEM, strlen(DIR_STEM)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/drive_c/%s", prefix(),
			 e->d_name);
		rm_tree(path);
	}
	closedir(dp);
}

static void
setup(void)
{
	wine_setup();
	remove_stale_dirs();
	snprintf(win_dir, sizeof(win_dir), "C:\\" DIR_STEM "%d", (int)getpid());
	snprintf(unix_dir, sizeof(unix_dir), "%s/drive_c/" DIR_STEM "%d",
		 prefix(), (int)getpid());
	snprintf(scratch, sizeof(scratch), "/tmp/wsd-wine-init-XXXXXX");
	cr_assert_not_null(mkdtemp(scratch));
}

static void
teardown(void)
{
	wine_teardown(&d);
	rm_tree(unix_dir);
	rm_tree(scratch);
}

TestSuite(wine_init, .init = setup, .fini = teardown, .timeout = 240);

/* The run's wineserver is persistent: stop it after the last test. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	wine_shutdown();
}

/* ---- helpers ------------------------------------------------------------ */

static char *
file_in(const char *dir, const char *name)
{
	char path[768];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return strdup(path);
}

static char *
must_slurp(const char *name)
{
	char *path = file_in(unix_dir, name), *text = slurp(path);

	cr_assert_not_null(text, "%s was not written", path);
	free(path);
	return text;
}

static void
strip_cr(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++)
		if (*s != '\r')
			*w++ = *s;
	*w = '\0';
}

/* "LABEL" + a token of the init shape, copied to out. */
static void
take_token(const char *line, const char *label, char *out)
{
	const char *t = line + strlen(label);

	cr_assert(strncmp(line, label, strlen(label)) == 0, "line: %s", line);
	cr_assert_eq(strlen(t), TOKEN_LEN, "token length: %s", line);
	cr_assert(strncmp(t, "wsd_", 4) == 0 &&
		      strspn(t + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_") ==
			  TOKEN_LEN - 4,
		  "not a wsd_ base64url token: %s", line);
	memcpy(out, t, TOKEN_LEN + 1);
}

/* "wrote C:\wsd-init-test-N" SEP NAME REST, either separator. */
static void
expect_wrote(const char *line, const char *name, const char *rest)
{
	size_t n = strlen("wrote ") + strlen(win_dir);
	char want[256];

	cr_assert(strncmp(line, "wrote ", 6) == 0 &&
		      strncmp(line + 6, win_dir, strlen(win_dir)) == 0,
		  "expected \"wrote %s...\": %s", win_dir, line);
	cr_assert(line[n] == '\\', "separator: %s", line);
	snprintf(want, sizeof(want), "%s%s", name, rest);
	cr_assert_str_eq(line + n + 1, want);
}

/* wsusdiagd.exe init --dir win_dir, which must succeed. */
static void
run_init(struct init_run *r)
{
	struct wine_out o;
	char *p;
	int n = 0;

	memset(r, 0, sizeof(*r));
	wine_run(&o, wine_exe(), "init", "--dir", win_dir, NULL);
	strip_cr(o.text);
	cr_assert_eq(o.status, 0, "init exited %d:\n%s", o.status, o.text);
	r->text = o.text;
	/* Exactly seven lines, nothing on stderr. */
	r->lines = strdup(r->text);
	for (p = strtok(r->lines, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		cr_assert_lt(n, OUTPUT_LINES, "init printed more:\n%s",
			     r->text);
		r->line[n++] = p;
	}
	cr_assert_eq(n, OUTPUT_LINES, "init printed:\n%s", r->text);
	take_token(r->line[4], "admin token: ", r->admin);
	take_token(r->line[5], "read token:  ", r->reader);
	cr_assert_str_neq(r->admin, r->reader);
	cr_assert_str_eq(r->line[6],
			 "(tokens are shown once; only their SHA-256 is "
			 "stored)");
}

static void
init_run_free(struct init_run *r)
{
	free(r->lines);
	free(r->text);
}

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	mbedtls_sha256_ret(data, len, md, 0);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static const cJSON *
item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert_not_null(v, "config has no \"%s\"", key);
	return v;
}

static void
expect_str(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = item(o, key);

	cr_assert(cJSON_IsString(v), "\"%s\" is not a string", key);
	cr_expect_str_eq(v->valuestring, want, "\"%s\"", key);
}

static void
expect_num(const cJSON *o, const char *key, double want)
{
	const cJSON *v = item(o, key);

	cr_assert(cJSON_IsNumber(v), "\"%s\" is not a number", key);
	cr_expect_eq(v->valuedouble, want, "\"%s\": %g", key, v->valuedouble);
}

static void
expect_token_entry(const cJSON *e, const char *name, const char *token,
		   const char *role)
{
	char hex[65];

	sha256_hex(token, strlen(token), hex);
	cr_assert_eq(cJSON_GetArraySize(e), 3, "token entry %s", name);
	expect_str(e, "name", name);
	expect_str(e, "sha256", hex);
	expect_str(e, "role", role);
}

/* The whole config, member by member (daemon/init.c make_config). */
static void
expect_config(const char *text, const struct init_run *r)
{
	cJSON *c = cJSON_Parse(text);
	const cJSON *tls, *auth, *tokens, *allow, *lim;

	cr_assert_not_null(c, "wsusdiagd.json is not JSON:\n%s", text);
	cr_expect_eq(cJSON_GetArraySize(c), 7, "top-level members:\n%s", text);
	expect_str(c, "listen", "0.0.0.0:8550");
	tls = item(c, "tls");
	expect_str(tls, "cert", "server.crt");
	expect_str(tls, "key", "server.key");
	cr_expect(cJSON_IsNull(item(tls, "client_ca")));
	auth = item(c, "auth");
	tokens = item(auth, "tokens");
	cr_assert_eq(cJSON_GetArraySize(tokens), 2);
	expect_token_entry(cJSON_GetArrayItem(tokens, 0), "admin", r->admin,
			   "admin");
	expect_token_entry(cJSON_GetArrayItem(tokens, 1), "read", r->reader,
			   "read");
	cr_expect(cJSON_IsArray(item(auth, "clients")) &&
		  cJSON_GetArraySize(item(auth, "clients")) == 0);
	allow = item(auth, "allow");
	cr_assert_eq(cJSON_GetArraySize(allow), 2);
	cr_expect_str_eq(cJSON_GetArrayItem(allow, 0)->valuestring,
			 "127.0.0.0/8");
	cr_expect_str_eq(cJSON_GetArrayItem(allow, 1)->valuestring, "::1/128");
	expect_str(item(c, "host"), "kind", "win32");
	lim = item(c, "limits");
	expect_num(lim, "connections", 64);
	expect_num(lim, "per_ip", 16);
	expect_num(lim, "idle_timeout_s", 15);
	expect_num(lim, "handshake_timeout_s", 5);
	expect_num(lim, "body_bytes", 65536);
	expect_num(item(c, "probe"), "timeout_ms", 5000);
	expect_str(c, "audit_log", "audit.jsonl");
	cJSON_Delete(c);
}

/* The host name the certificate names: Wine answers GetComputerNameExA's
 * DNS host name with the Linux one up to its first dot. */
static void
expected_cn(char *out, size_t len)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, ".")] = '\0';
	if (host[0] == '\0' ||
	    strspn(host,
		   "abcdefghijklmnopqrstuvwxyz"
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(host))
		snprintf(host, sizeof(host), "localhost");
	snprintf(out, len, "CN=%s, O=wsusdiag", host);
}

/* "AB:CD:..." of the DER the certificate file holds. */
static void
fingerprint(const mbedtls_x509_crt *crt, char out[96])
{
	unsigned char md[32];

	mbedtls_sha256_ret(crt->raw.p, crt->raw.len, md, 0);
	for (int i = 0; i < 32; i++)
		sprintf(out + 3 * i, "%02X%s", md[i], i < 31 ? ":" : "");
}

static void
expect_cert_and_key(const struct init_run *r)
{
	char *crt_path = file_in(unix_dir, "server.crt");
	char *key_path = file_in(unix_dir, "server.key");
	char dn[512], want_dn[300], fp[96], until[64];
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, crt_path), 0);
	cr_assert_eq(mbedtls_pk_parse_keyfile(&key, key_path, NULL), 0);
	cr_expect_eq(mbedtls_pk_get_type(&key), MBEDTLS_PK_ECKEY);
	cr_expect_eq(mbedtls_pk_ec(key)->grp.id, MBEDTLS_ECP_DP_SECP256R1);
	cr_expect_eq(mbedtls_pk_check_pair(&crt.pk, &key), 0,
		     "the key is not the certificate's");
	/* Self-signed: subject and issuer are the same name. */
	mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject);
	expected_cn(want_dn, sizeof(want_dn));
	cr_expect_str_eq(dn, want_dn);
	mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.issuer);
	cr_expect_str_eq(dn, want_dn);
	fingerprint(&crt, fp);
	cr_expect_str_eq(r->line[3] + strlen("certificate SHA-256 "
					     "fingerprint: "),
			 fp);
	snprintf(until, sizeof(until),
		 " (self-signed, valid until %04d-%02d-%02d)",
		 crt.valid_to.year, crt.valid_to.mon, crt.valid_to.day);
	expect_wrote(r->line[1], "server.crt", until);
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&crt);
	free(crt_path);
	free(key_path);
}

/*
 * Wine 8 keeps no DACL given to CreateFileW/CreateDirectoryW (no
 * user.wine.sd attribute; GetFileSecurity synthesises one from the mode,
 * and icacls/cacls are stubs): it only maps it to Unix mode bits, where
 * world bits come from an Everyone ACE alone. A file made with default
 * security is 0644 there, so "nothing for others" is what shows that init
 * passed its SYSTEM/Administrators(/Users) DACL at all; the exact ACEs and
 * the protected flag cannot be seen under Wine.
 */
static void
expect_no_world_access(const char *name)
{
	char *path = file_in(unix_dir, name);
	struct stat sb;

	cr_assert_eq(stat(path, &sb), 0, "%s", path);
	cr_expect_eq(sb.st_mode & 07, 0, "%s is mode %o: others have access",
		     path, (unsigned)(sb.st_mode & 0777));
	free(path);
}

/* ---- the daemon with init's config -------------------------------------- */

static pid_t
spawn(const char *log, const char *const argv[])
{
	pid_t pid = fork();
	int fd, in;

	cr_assert(pid >= 0, "fork");
	if (pid != 0)
		return pid;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	in = open("/dev/null", O_RDONLY);
	if (fd < 0 || in < 0)
		_exit(126);
	dup2(in, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(in);
	close(fd);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

/* The daemon logs "listening on https://127.0.0.1:PORT" once it listens. */
static int
wait_listening(void)
{
	time_t end = time(NULL) + START_TIMEOUT_S;
	int st;

	while (time(NULL) < end) {
		char *log = slurp(d.log);
		char *p = log ? strstr(log, "listening on https://") : NULL;
		int port = 0;

		if (p != NULL && (p = strstr(p, "127.0.0.1:")) != NULL)
			port = atoi(p + strlen("127.0.0.1:"));
		free(log);
		if (port > 0)
			return port;
		if (waitpid(d.pid, &st, WNOHANG) == d.pid) {
			d.pid = 0;
			return -1;
		}
		usleep(50000);
	}
	return -1;
}

/*
 * init's config listens on 0.0.0.0:8550; --listen moves it to a free
 * loopback port. curl trusts the self-signed certificate itself (the
 * harness reads d.certs/ca.crt) and checks its 127.0.0.1 address.
 */
static void
serve(const char *config)
{
	const char *argv[] = {"wine",	     wine_exe(), "--config",
			      config,	     "--listen", "127.0.0.1:0",
			      "--log-level", "debug",	 NULL};
	char *crt = file_in(unix_dir, "server.crt"), *text, *ca, *log;
	FILE *f;

	memset(&d, 0, sizeof(d));
	snprintf(d.dir, sizeof(d.dir), "%s", scratch);
	snprintf(d.certs, sizeof(d.certs), "%s", scratch);
	snprintf(d.log, sizeof(d.log), "%s/daemon.log", scratch);
	text = slurp(crt);
	ca = file_in(scratch, "ca.crt");
	f = fopen(ca, "w");
	cr_assert(f != NULL && text != NULL);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	d.pid = spawn(d.log, argv);
	d.port = wait_listening();
	log = slurp(d.log);
	cr_assert_gt(d.port, 0, "wsusdiagd.exe did not listen; its log:\n%s",
		     log ? log : "(none)");
	free(log);
	free(ca);
	free(text);
	free(crt);
}

static void
call(const char *method, const char *path, const char *token, long status,
     struct http_reply *r)
{
	struct http_opts o = {.method = method, .path = path, .token = token};

	if (strcmp(method, "POST") == 0)
		o.body = "{\"dry_run\":true}";
	http_call(&d, &o, r);
	cr_assert_eq(r->status, status, "%s %s: %ld (curl %d) %s", method, path,
		     r->status, r->curl_code, r->body ? r->body : "");
}

/* ---- tests -------------------------------------------------------------- */

Test(wine_init, writes_key_cert_and_config_and_prints_tokens_once)
{
	const char *const files[] = {"server.key", "server.crt",
				     "wsusdiagd.json"};
	struct init_run r;
	char *text;

	cr_assert_neq(access(unix_dir, F_OK), 0, "%s exists already", unix_dir);
	run_init(&r);
	expect_wrote(r.line[0], "server.key",
		     " (ECDSA P-256, not readable by other users)");
	expect_wrote(r.line[2], "wsusdiagd.json", "");
	/* Each token once in the output, never in a file. */
	cr_expect_eq(strstr(strstr(r.text, r.admin) + 1, r.admin), NULL);
	cr_expect_eq(strstr(strstr(r.text, r.reader) + 1, r.reader), NULL);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		text = must_slurp(files[i]);
		cr_expect_null(strstr(text, r.admin), "admin token in %s",
			       files[i]);
		cr_expect_null(strstr(text, r.reader), "read token in %s",
			       files[i]);
		if (strcmp(files[i], "wsusdiagd.json") == 0)
			expect_config(text, &r);
		free(text);
		expect_no_world_access(files[i]);
	}
	expect_no_world_access("");
	expect_cert_and_key(&r);
	init_run_free(&r);
}

/* daemon/init.c: "It never overwrites anything". */
Test(wine_init, second_run_refuses_and_changes_nothing)
{
	const char *const files[] = {"server.key", "server.crt",
				     "wsusdiagd.json"};
	char *before[3], *after, want[300];
	struct init_run r;
	struct wine_out o;

	run_init(&r);
	for (int i = 0; i < 3; i++)
		before[i] = must_slurp(files[i]);
	wine_run(&o, wine_exe(), "init", "--dir", win_dir, NULL);
	strip_cr(o.text);
	cr_expect_eq(o.status, 1, "second init exited %d", o.status);
	snprintf(want, sizeof(want),
		 "wsusdiagd: %s\\server.key already exists; init never "
		 "overwrites a file, move it away first\n",
		 win_dir);
	cr_expect_str_eq(o.text, want);
	for (int i = 0; i < 3; i++) {
		after = must_slurp(files[i]);
		cr_expect_str_eq(after, before[i], "%s changed", files[i]);
		free(after);
		free(before[i]);
	}
	wine_out_free(&o);
	init_run_free(&r);
}

Test(wine_init, its_config_passes_check_config_and_serves_the_tokens)
{
	struct init_run r;
	struct wine_out o;
	struct http_reply h;
	char config[128], want[200];

	run_init(&r);
	snprintf(config, sizeof(config), "%s\\wsusdiagd.json", win_dir);
	wine_run(&o, wine_exe(), "--config", config, "--check-config", NULL);
	strip_cr(o.text);
	snprintf(want, sizeof(want), "%s: configuration OK\n", config);
	cr_expect_eq(o.status, 0, "--check-config exited %d", o.status);
	cr_expect_str_eq(o.text, want);
	wine_out_free(&o);

	serve(config);
	call("GET", "/health", NULL, 200, &h);
	http_reply_free(&h);
	call("GET", "/version", NULL, 401, &h);
	http_reply_free(&h);
	call("GET", "/version", "wsd_not-a-token-init-printed", 401, &h);
	http_reply_free(&h);
	call("GET", "/version", r.reader, 200, &h);
	cr_expect_str_eq(
	    cJSON_GetStringValue(cJSON_GetObjectItem(h.json, "platform")),
	    "win32");
	http_reply_free(&h);
	call("GET", "/version", r.admin, 200, &h);
	http_reply_free(&h);
	/* The read token has the read role only. */
	call("POST", "/actions/restart-bits", r.reader, 403, &h);
	http_reply_free(&h);
	wine_daemon_stop_clean(&d);
	init_run_free(&r);
}
