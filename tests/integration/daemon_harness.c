#include "daemon_harness.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "common/xalloc.h"
#include "support/tmptree.h"

const char *
src_dir(void)
{
	const char *s = getenv("WSUSDIAG_SOURCE_DIR");

	cr_assert(s != NULL, "run through ctest (WSUSDIAG_SOURCE_DIR unset)");
	return s;
}

const char *
bin_dir(void)
{
	const char *s = getenv("WSUSDIAG_BINARY_DIR");

	cr_assert(s != NULL, "run through ctest (WSUSDIAG_BINARY_DIR unset)");
	return s;
}

char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
hex_sha256(const char *s, char out[65])
{
	unsigned char h[32];

	mbedtls_sha256_ret((const unsigned char *)s, strlen(s), h, 0);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void
copy_file(const char *from, const char *to)
{
	char *text = slurp(from);
	FILE *f;

	cr_assert(text != NULL, "cannot read %s", from);
	f = fopen(to, "wb");
	cr_assert(f != NULL);
	fputs(text, f);
	fclose(f);
	free(text);
}

static void
write_config(struct daemon *d, const struct daemon_opts *o)
{
	char path[400], admin[65], reader[65];
	FILE *f;

	hex_sha256(ADMIN_TOKEN, admin);
	hex_sha256(READ_TOKEN, reader);
	snprintf(path, sizeof(path), "%s/wsusdiagd.json", d->dir);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fprintf(
	    f,
	    "{\"listen\":\"127.0.0.1:0\","
	    "\"tls\":{\"cert\":\"%s/server.crt\",\"key\":\"%s/server.key\","
	    "\"client_ca\":\"%s/ca.crt\"},"
	    "\"auth\":{\"tokens\":["
	    "{\"name\":\"admin\",\"sha256\":\"%s\",\"role\":\"admin\"},"
	    "{\"name\":\"reader\",\"sha256\":\"%s\",\"role\":\"read\"}],"
	    "\"clients\":[{\"subject_cn\":\"console.test\",\"role\":"
	    "\"admin\"},{\"subject_cn\":\"reader.test\",\"role\":\"read\"}],"
	    "\"allow\":%s},"
	    "\"host\":{\"kind\":\"sim\",\"path\":\"%s\"},"
	    "\"limits\":{\"connections\":64,\"per_ip\":32,"
	    "\"idle_timeout_s\":15,\"handshake_timeout_s\":3,"
	    "\"body_bytes\":4096},"
	    "\"audit_log\":\"audit.jsonl\"%s%s}\n",
	    d->certs, d->certs, d->certs, admin, reader,
	    o->allow ? o->allow : "[\"127.0.0.0/8\"]", d->host_copy,
	    o->extra_json ? "," : "", o->extra_json ? o->extra_json : "");
	fclose(f);
}

/*
 * The daemon logs "listening on https://127.0.0.1:PORT" once it listens.
 * Up to 30 s: under valgrind it starts slowly.
 */
static int
wait_for_port(struct daemon *d)
{
	for (int i = 0; i < 1200; i++) {
		char *log = slurp(d->log);
		char *p = log ? strstr(log, "listening on ") : NULL;
		int port = 0;

		if (p != NULL && (p = strstr(p, "127.0.0.1:")) != NULL)
			port = atoi(p + strlen("127.0.0.1:"));
		free(log);
		if (port > 0)
			return port;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			return -1;
		usleep(25000);
	}
	return -1;
}

/*
 * WSUSDIAGD_WRAPPER, split at spaces, runs the daemon under a tool
 * (valgrind); the words stay in the environment, which outlives exec.
 */
static int
wrapper_argv(const char **argv, int max)
{
	char *w = getenv("WSUSDIAGD_WRAPPER"), *save = NULL;
	int n = 0;

	if (w == NULL)
		return 0;
	for (char *t = strtok_r(w, " ", &save); t != NULL && n < max;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	return n;
}

/*
 * The contract validator, tests/openapi/validate.mjs: one node process
 * per test process (Criterion runs each test in its own), fed every
 * answer http_call receives and answering with its mismatches at once, so
 * that a mismatch fails the test that made the call. Answers are checked
 * one at a time: test_http_actions calls from two threads.
 */
static struct {
	pthread_mutex_t lock;
	pid_t pid;     /* 0: not started; -1: failed, already reported */
	bool ready;    /* it said it has loaded the spec */
	int fd;	       /* our end of a socket pair: its stdin and stdout */
	FILE *replies; /* over fd, to read its answers a line at a time */
} validator = {.lock = PTHREAD_MUTEX_INITIALIZER};

/*
 * With validator.lock held. Does not wait for it: see validator_ready.
 * Fails the test without aborting it, as a longjmp would keep the lock.
 */
static void
validator_start(void)
{
	const char *src = getenv("WSUSDIAG_SOURCE_DIR");
	char script[512];
	int sv[2];

	if (validator.pid != 0)
		return;
	validator.pid = -1;
	if (src == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		cr_expect_fail("cannot start the OpenAPI validator: %s",
			       src ? strerror(errno)
				   : "WSUSDIAG_SOURCE_DIR unset (run ctest)");
		return;
	}
	snprintf(script, sizeof(script), "%s/tests/openapi/validate.mjs", src);
	validator.pid = fork();
	if (validator.pid == 0) {
		/* stderr stays the test's: node's own errors show there. */
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		execlp("node", "node", script, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (validator.pid < 0) {
		cr_expect_fail("fork: %s", strerror(errno));
		close(sv[0]);
		return;
	}
	validator.ready = false;
	validator.fd = sv[0];
	validator.replies = fdopen(sv[0], "r");
	if (validator.replies == NULL)
		abort(); /* only on allocation, like xmalloc */
}

/* With validator.lock held; returns its exit status, -1 if none. */
static int
validator_reap(void)
{
	int status = -1;

	if (validator.pid <= 0)
		return -1;
	fclose(validator.replies); /* and fd: EOF, it exits */
	waitpid(validator.pid, &status, 0);
	validator.pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* With validator.lock held: the test fails, once, and checks stop. */
static void
validator_failed(void)
{
	int status;

	if (validator.pid < 0) {
		cr_expect_fail("no OpenAPI validation: its validator failed "
			       "earlier");
		return;
	}
	status = validator_reap();
	validator.pid = -1;
	cr_expect_fail(
	    "the OpenAPI validator (node tests/openapi/validate.mjs) "
	    "exited with %d%s; its error is above. It needs "
	    "Node.js and `npm ci` in tests/openapi (ctest's "
	    "openapi_npm fixture)",
	    status, status == 127 ? " (no node)" : "");
}

/*
 * With validator.lock held. Its first line, once it has loaded the spec,
 * is "ready": waiting for it keeps node's start out of the first call's
 * time (test_http_server_deadline times /health).
 */
static bool
validator_ready(void)
{
	char *line = NULL;
	size_t cap = 0;

	if (validator.pid > 0 && !validator.ready)
		validator.ready = getline(&line, &cap, validator.replies) > 0 &&
				  strcmp(line, "ready\n") == 0;
	free(line);
	if (validator.pid > 0 && validator.ready)
		return true;
	validator_failed();
	return false;
}

void
http_contract_start(void)
{
	pthread_mutex_lock(&validator.lock);
	validator_start();
	validator_ready();
	pthread_mutex_unlock(&validator.lock);
}

void
http_contract_stop(void)
{
	pthread_mutex_lock(&validator.lock);
	validator_reap();
	validator.pid = 0;
	pthread_mutex_unlock(&validator.lock);
}

static bool
send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Send one answer, return the validator's reply line (NULL: it failed). */
static char *
validator_ask(const char *line, size_t len)
{
	char *reply = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&validator.lock);
	validator_start();
	if (validator_ready()) {
		if (!send_all(validator.fd, line, len) ||
		    getline(&reply, &cap, validator.replies) <= 0) {
			free(reply);
			reply = NULL;
			validator_failed();
		}
	}
	pthread_mutex_unlock(&validator.lock);
	return reply;
}

void
daemon_start(struct daemon *d, const struct daemon_opts *o)
{
	char tmpl[] = "/tmp/wsusdiag-it-XXXXXX", cfg[400];
	const char *bin = getenv("WSUSDIAGD");

	cr_assert(bin != NULL, "WSUSDIAGD unset: run through ctest");
	memset(d, 0, sizeof(*d));
	cr_assert(mkdtemp(tmpl) != NULL);
	snprintf(d->dir, sizeof(d->dir), "%s", tmpl);
	snprintf(d->log, sizeof(d->log), "%s/daemon.log", d->dir);
	snprintf(d->certs, sizeof(d->certs), "%s/test-certs", bin_dir());
	if (o->host_file[0] == '/')
		snprintf(d->host_copy, sizeof(d->host_copy), "%s",
			 o->host_file);
	else
		snprintf(d->host_copy, sizeof(d->host_copy), "%s/%s", d->dir,
			 o->host_file);
	if (o->host_file[0] != '/') {
		char from[400];

		snprintf(from, sizeof(from), "%s/examples/hosts/%s", src_dir(),
			 o->host_file);
		copy_file(from, d->host_copy);
	}
	write_config(d, o);
	snprintf(cfg, sizeof(cfg), "%s/wsusdiagd.json", d->dir);
	/* Its start overlaps the daemon's; waited for below. */
	pthread_mutex_lock(&validator.lock);
	validator_start();
	pthread_mutex_unlock(&validator.lock);
	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		const char *argv[24];
		int n = wrapper_argv(argv, 16),
		    fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		argv[n++] = bin;
		argv[n++] = "--config";
		argv[n++] = cfg;
		argv[n++] = "--log-level";
		argv[n++] = "debug";

		if (o->insecure_http)
			argv[n++] = "--insecure-http";
		if (o->writeback)
			argv[n++] = "--sim-writeback";
		dup2(fd, 2);
		dup2(fd, 1);
		argv[n] = NULL;
		/* A test that crashes must not leave its daemon running. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	d->port = wait_for_port(d);
	if (d->port <= 0) {
		char *log = slurp(d->log);

		cr_assert_fail("wsusdiagd did not start; its log:\n%s",
			       log ? log : "(none)");
	}
	pthread_mutex_lock(&validator.lock);
	validator_ready();
	pthread_mutex_unlock(&validator.lock);
}

static void
show_log(const struct daemon *d, int rc)
{
	char *log = slurp(d->log);

	fprintf(stderr, "wsusdiagd exit status %d; its log:\n%s\n", rc,
		log != NULL ? log : "(none)");
	free(log);
}

int
daemon_stop(struct daemon *d)
{
	int status = -1, rc;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 1200 && status == -1; i++) {
		if (waitpid(d->pid, &status, WNOHANG) != d->pid) {
			status = -1;
			usleep(25000);
		}
	}
	if (status == -1) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
	http_contract_stop();
	if (status == -1)
		rc = -2;
	else
		rc = WIFEXITED(status) ? WEXITSTATUS(status)
				       : 128 + WTERMSIG(status);
	/* A sanitizer's or valgrind's report is in the log, about to go. */
	if (rc != 0)
		show_log(d, rc);
	rm_tree(d->dir);
	d->dir[0] = '\0';
	return rc;
}

struct sink {
	char *buf;
	size_t len;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;

	s->buf = realloc(s->buf, s->len + sz * n + 1);
	memcpy(s->buf + s->len, p, sz * n);
	s->len += sz * n;
	s->buf[s->len] = '\0';
	return sz * n;
}

static char *
header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	char *v;

	if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && *line == ' ')
		line++, len--;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	v = malloc(len + 1);
	memcpy(v, line, len);
	v[len] = '\0';
	return v;
}

/* One call's state while curl runs it. */
struct call {
	struct http_reply *r;
	cJSON *headers; /* every header, by lower-case name, for the record */
};

/* "Name: value" into headers; repeated names are joined as HTTP allows. */
static void
keep_header(cJSON *headers, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	char name[64], *value;
	const cJSON *old;
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - line)) >= sizeof(name))
		return;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)line[i]);
	name[n] = '\0';
	value = header_value(line, len, name);
	if (value == NULL)
		value = xstrdup("");
	old = cJSON_GetObjectItemCaseSensitive(headers, name);
	if (cJSON_IsString(old)) {
		char *both = xasprintf("%s, %s", old->valuestring, value);

		free(value);
		value = both;
		cJSON_DeleteItemFromObjectCaseSensitive(headers, name);
	}
	cJSON_AddStringToObject(headers, name, value);
	free(value);
}

static size_t
on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct call *call = ud;
	struct http_reply *r = call->r;
	char *v;

	/* A status line starts a response (after a 100 Continue, again). */
	if (sz * n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		cJSON_Delete(call->headers);
		call->headers = cJSON_CreateObject();
	} else {
		keep_header(call->headers, p, sz * n);
	}
	if ((v = header_value(p, sz * n, "Content-Type")) != NULL) {
		free(r->content_type);
		r->content_type = v;
	} else if ((v = header_value(p, sz * n, "Allow")) != NULL) {
		free(r->allow);
		r->allow = v;
	} else if ((v = header_value(p, sz * n, "WWW-Authenticate")) != NULL) {
		free(r->www_authenticate);
		r->www_authenticate = v;
	}
	return sz * n;
}

/*
 * One answer against openapi.yaml; each mismatch is a test failure. Takes
 * headers.
 */
static void
contract_check(const struct http_opts *o, const struct http_reply *r,
	       cJSON *headers)
{
	cJSON *rec = cJSON_CreateObject(), *problems, *p;
	char *line, *reply;
	size_t len;

	cJSON_AddStringToObject(rec, "method", o->method ? o->method : "GET");
	cJSON_AddStringToObject(rec, "path", o->path);
	cJSON_AddNumberToObject(rec, "status", (double)r->status);
	cJSON_AddItemToObject(rec, "headers", headers);
	cJSON_AddStringToObject(rec, "body", r->body);
	line = cJSON_PrintUnformatted(rec);
	cJSON_Delete(rec);
	cr_assert_not_null(line);
	len = strlen(line);
	line[len++] = '\n'; /* over the terminator: sent by length */
	reply = validator_ask(line, len);
	free(line);
	if (reply == NULL)
		return;
	problems = cJSON_Parse(reply);
	cr_expect(cJSON_IsArray(problems), "the validator said: %s", reply);
	cJSON_ArrayForEach(p, problems)
	{
		cr_expect_fail("openapi.yaml does not allow %s",
			       cJSON_IsString(p) ? p->valuestring : "?");
	}
	cJSON_Delete(problems);
	free(reply);
}

/* A handle for o's requests; *h holds its header list until cleanup. */
static CURL *
call_handle(const struct daemon *d, const struct http_opts *o,
	    struct curl_slist **h)
{
	CURL *c = curl_easy_init();
	char buf[512];

	*h = NULL;
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
			 o->method ? o->method : "GET");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 o->timeout_ms ? o->timeout_ms : 10000L);
	snprintf(buf, sizeof(buf), "%s/ca.crt", d->certs);
	curl_easy_setopt(c, CURLOPT_CAINFO, buf);
	if (o->client_cert != NULL) {
		snprintf(buf, sizeof(buf), "%s/%s.crt", d->certs,
			 o->client_cert);
		curl_easy_setopt(c, CURLOPT_SSLCERT, buf);
		snprintf(buf, sizeof(buf), "%s/%s.key", d->certs,
			 o->client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, buf);
	}
	if (o->token != NULL) {
		snprintf(buf, sizeof(buf), "Authorization: Bearer %s",
			 o->token);
		*h = curl_slist_append(*h, buf);
	}
	if (o->body != NULL) {
		snprintf(buf, sizeof(buf), "Content-Type: %s",
			 o->content_type ? o->content_type
					 : "application/json");
		*h = curl_slist_append(*h, buf);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	return c;
}

/* o's request to o->path on c, into r; the connections it opened. */
static long
call_perform(CURL *c, const struct daemon *d, const struct http_opts *o,
	     struct http_reply *r)
{
	struct sink s = {0};
	struct call call = {.r = r, .headers = cJSON_CreateObject()};
	char url[512];
	long connects = 0;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s",
		 o->plain ? "http" : "https", d->port, o->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &call);
	r->curl_code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	r->body = s.buf ? s.buf : calloc(1, 1);
	r->json = cJSON_Parse(r->body);
	/* Only whole answers: a cut one (curl_code != 0) may lack its body. */
	if (r->status != 0 && r->curl_code == CURLE_OK)
		contract_check(o, r, call.headers);
	else
		cJSON_Delete(call.headers);
	return connects;
}

void
http_call(const struct daemon *d, const struct http_opts *o,
	  struct http_reply *r)
{
	struct curl_slist *h;
	CURL *c = call_handle(d, o, &h);

	call_perform(c, d, o, r);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

void
http_expect_kept_alive(const struct daemon *d, const char *token,
		       const char *const *paths, size_t n)
{
	struct http_opts o = {.method = "GET", .token = token};
	struct curl_slist *h;
	CURL *c = call_handle(d, &o, &h);
	long connects = 0;

	for (size_t i = 0; i < n; i++) {
		struct http_reply r;

		o.path = paths[i];
		connects += call_perform(c, d, &o, &r);
		cr_expect_eq(r.status, 200, "%s (request %zu): %ld (curl %d)",
			     paths[i], i, r.status, r.curl_code);
		http_reply_free(&r);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	cr_expect_eq(connects, 1, "the connection was not kept");
}

void
http_reply_free(struct http_reply *r)
{
	free(r->body);
	free(r->content_type);
	free(r->allow);
	free(r->www_authenticate);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}
