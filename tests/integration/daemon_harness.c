#include "daemon_harness.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

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
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	d->port = wait_for_port(d);
	if (d->port <= 0) {
		char *log = slurp(d->log);

		cr_assert_fail("wsusdiagd did not start; its log:\n%s",
			       log ? log : "(none)");
	}
}

int
daemon_stop(struct daemon *d)
{
	int status = -1;

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
	rm_tree(d->dir);
	d->dir[0] = '\0';
	if (status == -1)
		return -2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
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

static size_t
on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct http_reply *r = ud;
	char *v;

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

void
http_call(const struct daemon *d, const struct http_opts *o,
	  struct http_reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct sink s = {0};
	char url[512], buf[512];

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s",
		 o->plain ? "http" : "https", d->port, o->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
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
		h = curl_slist_append(h, buf);
	}
	if (o->body != NULL) {
		snprintf(buf, sizeof(buf), "Content-Type: %s",
			 o->content_type ? o->content_type
					 : "application/json");
		h = curl_slist_append(h, buf);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	r->curl_code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = s.buf ? s.buf : calloc(1, 1);
	r->json = cJSON_Parse(r->body);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
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
