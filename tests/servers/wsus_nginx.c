/*
 * wsus_nginx.c: Debian's nginx as a WSUS-like server for the tests, and
 * the test PKI it serves with.
 *
 * nginx runs as a child of the test in its own temporary directory,
 * configured from nginx.conf.in. The two ports are found free by binding
 * port 0 and are released just before nginx binds them; if another
 * process takes one in between nginx exits, and the start is retried on
 * new ports. The child asks the kernel to kill it when the test process
 * dies, so an aborted test leaves no server behind.
 */
#include "servers/servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TRIES   5
#define READY_WAIT_MS 5000
#define STOP_WAIT_MS  3000

struct wsus_nginx {
	pid_t pid;
	char *dir;
	unsigned short http_port, https_port;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *
path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- files ------------------------------------------------------------- */

static int
write_file(const char *path, size_t size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < size; i++)
		fputc(wsus_file_byte(i), f);
	if (fclose(f) != 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
wsus_files_write(const char *root, char *err, size_t errlen)
{
	char *sub = path_join(root, "selfupdate");
	char *iu = path_join(root, "iuident.cab");
	char *wu = path_join(root, "selfupdate/wuident.cab");
	int rc = -1;

	if (sub == NULL || iu == NULL || wu == NULL) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	if ((mkdir(root, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(sub, 0755) != 0 && errno != EEXIST)) {
		set_err(err, errlen, "mkdir %s: %s", sub, strerror(errno));
		goto out;
	}
	if (write_file(iu, WSUS_IUIDENT_SIZE, err, errlen) == 0 &&
	    write_file(wu, WSUS_WUIDENT_SIZE, err, errlen) == 0)
		rc = 0;
out:
	free(sub);
	free(iu);
	free(wu);
	return rc;
}

/* ---- the test PKI ------------------------------------------------------ */

static char *
source_path(const char *rel, char *err, size_t errlen)
{
	const char *src = getenv("WSUSDIAG_SOURCE_DIR");
	char *p;

	if (src == NULL) {
		set_err(err, errlen, "WSUSDIAG_SOURCE_DIR is not set (ctest)");
		return NULL;
	}
	if ((p = path_join(src, rel)) == NULL)
		set_err(err, errlen, "out of memory");
	return p;
}

/* Run argv, its output into log; 0 when it exits 0. */
static int
run_wait(char *const argv[], const char *log, char *err, size_t errlen)
{
	int status, fd;
	pid_t pid = fork();

	if (pid < 0) {
		set_err(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		set_err(err, errlen, "%s failed (see %s)", argv[0], log);
		return -1;
	}
	return 0;
}

char *
wsus_certs_make(char *err, size_t errlen)
{
	char tmpl[] = "/tmp/wsd-wsus-certs-XXXXXX";
	char *script =
	    source_path("tests/servers/make-wsus-certs.sh", err, errlen);
	char *dir = NULL, *log = NULL;

	if (script == NULL)
		return NULL;
	if (mkdtemp(tmpl) == NULL) {
		set_err(err, errlen, "mkdtemp: %s", strerror(errno));
		goto out;
	}
	dir = strdup(tmpl);
	log = malloc(sizeof(tmpl) + 4);
	if (dir == NULL || log == NULL) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	snprintf(log, sizeof(tmpl) + 4, "%s.log", tmpl);
	{
		char *argv[] = {script, dir, NULL};

		if (run_wait(argv, log, err, errlen) != 0) {
			rm_tree(dir);
			free(dir);
			dir = NULL;
			goto out;
		}
	}
	remove(log);
out:
	free(script);
	free(log);
	return dir;
}

void
wsus_certs_remove(char *dir)
{
	rm_tree(dir);
	free(dir);
}

/* ---- nginx ------------------------------------------------------------- */

static const char *
nginx_binary(void)
{
	static const char *const cands[] = {"/usr/sbin/nginx",
					    "/usr/local/sbin/nginx"};

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

/* A port that was free a moment ago. */
static int
free_port(unsigned short *port, char *err, size_t errlen)
{
	int fd = closed_port(port, err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Replace each @NAME@ of the template with its value. */
static char *
fill_template(const char *t, const char *const *names,
	      const char *const *values, size_t n)
{
	size_t cap = strlen(t) * 2 + 1024, len = 0;
	char *out = malloc(cap), *p;

	while (out != NULL && *t != '\0') {
		size_t i, vl;

		for (i = 0; i < n; i++)
			if (strncmp(t, names[i], strlen(names[i])) == 0)
				break;
		vl = i < n ? strlen(values[i]) : 1;
		if (len + vl + 1 > cap) {
			cap = (cap + vl) * 2;
			if ((p = realloc(out, cap)) == NULL) {
				free(out);
				return NULL;
			}
			out = p;
		}
		memcpy(out + len, i < n ? values[i] : t, vl);
		len += vl;
		t += i < n ? strlen(names[i]) : 1;
	}
	if (out != NULL)
		out[len] = '\0';
	return out;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static int
write_conf(struct wsus_nginx *n, const char *cert, const char *key, char *err,
	   size_t errlen)
{
	static const char *const names[] = {"@DIR@", "@HTTP_PORT@",
					    "@HTTPS_PORT@", "@CERT@", "@KEY@"};
	char http[8], https[8], *tpath, *tmpl = NULL, *conf = NULL, *out;
	const char *values[] = {n->dir, http, https, cert, key};
	FILE *f;
	int rc = -1;

	snprintf(http, sizeof(http), "%u", n->http_port);
	snprintf(https, sizeof(https), "%u", n->https_port);
	if ((tpath = source_path("tests/servers/nginx.conf.in", err, errlen)) ==
	    NULL)
		return -1;
	if ((tmpl = slurp(tpath)) == NULL) {
		set_err(err, errlen, "%s: %s", tpath, strerror(errno));
		goto out;
	}
	conf = fill_template(tmpl, names, values, 5);
	out = path_join(n->dir, "nginx.conf");
	if (conf != NULL && out != NULL && (f = fopen(out, "w")) != NULL) {
		fputs(conf, f);
		rc = fclose(f) == 0 ? 0 : -1;
	}
	if (rc != 0)
		set_err(err, errlen, "cannot write %s",
			out ? out : "nginx.conf");
	free(out);
out:
	free(tpath);
	free(tmpl);
	free(conf);
	return rc;
}

static void
exec_nginx(const struct wsus_nginx *n, const char *bin)
{
	char conf[4096], globals[4096], log[4096];
	int fd;

	/* Die with the test process: an aborted test leaves no server. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(conf, sizeof(conf), "%s/nginx.conf", n->dir);
	snprintf(globals, sizeof(globals),
		 "daemon off; pid %s/nginx.pid; error_log stderr;", n->dir);
	snprintf(log, sizeof(log), "%s/nginx.log", n->dir);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execl(bin, bin, "-p", n->dir, "-c", conf, "-g", globals, (char *)NULL);
	_exit(127);
}

static bool
accepts(unsigned short port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Until both ports accept, or nginx has exited (false). */
static bool
wait_ready(struct wsus_nginx *n)
{
	int status;

	for (int waited = 0; waited < READY_WAIT_MS; waited += 10) {
		if (waitpid(n->pid, &status, WNOHANG) == n->pid) {
			n->pid = 0;
			return false;
		}
		if (accepts(n->http_port) && accepts(n->https_port))
			return true;
		sleep_ms(10);
	}
	return false;
}

static void
kill_nginx(struct wsus_nginx *n)
{
	int status;

	if (n->pid <= 0)
		return;
	kill(n->pid, SIGTERM);
	for (int waited = 0; waited < STOP_WAIT_MS; waited += 10) {
		if (waitpid(n->pid, &status, WNOHANG) == n->pid) {
			n->pid = 0;
			return;
		}
		sleep_ms(10);
	}
	kill(n->pid, SIGKILL);
	waitpid(n->pid, &status, 0);
	n->pid = 0;
}

/* One start on two fresh ports; false (err set) when nginx did not come
 * up. */
static bool
try_start(struct wsus_nginx *n, const char *bin, const char *cert,
	  const char *key, char *err, size_t errlen)
{
	char *log;

	if (free_port(&n->http_port, err, errlen) != 0 ||
	    free_port(&n->https_port, err, errlen) != 0 ||
	    n->http_port == n->https_port ||
	    write_conf(n, cert, key, err, errlen) != 0)
		return false;
	if ((n->pid = fork()) < 0) {
		set_err(err, errlen, "fork: %s", strerror(errno));
		n->pid = 0;
		return false;
	}
	if (n->pid == 0)
		exec_nginx(n, bin);
	if (wait_ready(n))
		return true;
	kill_nginx(n);
	log = path_join(n->dir, "nginx.log");
	{
		char *text = log != NULL ? slurp(log) : NULL;

		set_err(err, errlen, "nginx did not start: %s",
			text != NULL ? text : "(no log)");
		free(text);
	}
	free(log);
	return false;
}

static int
make_dirs(struct wsus_nginx *n, char *err, size_t errlen)
{
	char tmpl[] = "/tmp/wsd-nginx-XXXXXX";
	char *www, *tmp;
	int rc = -1;

	if (mkdtemp(tmpl) == NULL || (n->dir = strdup(tmpl)) == NULL) {
		set_err(err, errlen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	www = path_join(n->dir, "www");
	tmp = path_join(n->dir, "tmp");
	if (www != NULL && tmp != NULL && mkdir(tmp, 0700) == 0)
		rc = wsus_files_write(www, err, errlen);
	else
		set_err(err, errlen, "mkdir under %s failed", n->dir);
	free(www);
	free(tmp);
	return rc;
}

struct wsus_nginx *
wsus_nginx_start(const char *cert, const char *key, char *err, size_t errlen)
{
	struct wsus_nginx *n = calloc(1, sizeof(*n));
	const char *bin = nginx_binary();

	if (n == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (bin == NULL) {
		set_err(err, errlen,
			"nginx is not installed (scripts/deps.sh --test)");
		goto fail;
	}
	if (make_dirs(n, err, errlen) != 0)
		goto fail;
	for (int i = 0; i < START_TRIES; i++)
		if (try_start(n, bin, cert, key, err, errlen))
			return n;
fail:
	wsus_nginx_stop(n);
	return NULL;
}

unsigned short
wsus_nginx_http_port(const struct wsus_nginx *n)
{
	return n->http_port;
}

unsigned short
wsus_nginx_https_port(const struct wsus_nginx *n)
{
	return n->https_port;
}

void
wsus_nginx_stop(struct wsus_nginx *n)
{
	if (n == NULL)
		return;
	kill_nginx(n);
	rm_tree(n->dir);
	free(n->dir);
	free(n);
}
