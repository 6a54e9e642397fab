#include "wine_harness.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

/* Generous: a warm `wine sc query` takes 0.1 s, a cold one 0.5 s. */
#define CMD_TIMEOUT_MS	 60000
#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS	 30000
#define MAX_ARGS	 16

static const char *
prefix(void)
{
	const char *p = getenv("WSUSDIAG_WINEPREFIX");

	cr_assert(p != NULL, "WSUSDIAG_WINEPREFIX unset: run through ctest");
	return p;
}

const char *
wine_exe(void)
{
	return getenv("WSUSDIAGD_EXE");
}

void
wine_test_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/drive_c/wsusdiag-test%s%s", prefix(),
		 name[0] ? "/" : "", name);
}

/* Present while a test may have changed the prefix: see wine_setup. */
static void
marker_path(char *out, size_t len)
{
	snprintf(out, len, "%s/.wsusdiag-changed", prefix());
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Exit code of pid, or -1 if a signal ended it or the deadline did. */
static int
wait_deadline(pid_t pid, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	int st = 0;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0)
			return -1;
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(10000);
	}
}

/* stdin from /dev/null, stdout and stderr to fd, then exec argv. */
static void
exec_child(int fd, const char *const argv[])
{
	int in = open("/dev/null", O_RDONLY);

	dup2(in, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	/* Wine's long-lived processes inherit whatever is left open. */
	if (in > 2)
		close(in);
	if (fd > 2)
		close(fd);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

/*
 * The output goes to an unlinked file, not a pipe: the first command
 * after a restart starts services.exe and friends, which inherit it and
 * would keep a pipe open long after the command itself has exited.
 */
static void
run_argv(struct wine_out *o, const char *const argv[])
{
	char tmpl[] = "/tmp/wsusdiag-wine-out-XXXXXX";
	int fd = mkstemp(tmpl);
	struct stat sb;
	pid_t pid;

	cr_assert(fd >= 0, "mkstemp");
	unlink(tmpl);
	pid = fork();
	cr_assert(pid >= 0, "fork");
	if (pid == 0)
		exec_child(fd, argv);
	o->status = wait_deadline(pid, CMD_TIMEOUT_MS);
	fstat(fd, &sb);
	o->text = calloc(1, (size_t)sb.st_size + 1);
	if (pread(fd, o->text, (size_t)sb.st_size, 0) < 0)
		o->text[0] = '\0';
	close(fd);
}

static void
vrun(struct wine_out *o, const char *arg, va_list ap)
{
	const char *argv[MAX_ARGS] = {"wine"};
	int n = 1;

	for (; arg != NULL; arg = va_arg(ap, const char *)) {
		cr_assert(n < MAX_ARGS - 1, "too many arguments");
		argv[n++] = arg;
	}
	run_argv(o, argv);
}

void
wine_run(struct wine_out *o, const char *arg, ...)
{
	va_list ap;

	va_start(ap, arg);
	vrun(o, arg, ap);
	va_end(ap);
}

void
wine_out_free(struct wine_out *o)
{
	free(o->text);
	o->text = NULL;
}

void
wine_must(const char *arg, ...)
{
	struct wine_out o;
	va_list ap;

	va_start(ap, arg);
	vrun(&o, arg, ap);
	va_end(ap);
	cr_assert_eq(o.status, 0, "wine %s ... exited %d:\n%s", arg, o.status,
		     o.text);
	wine_out_free(&o);
}

static int
wineserver(const char *flag)
{
	const char *argv[] = {"wineserver", flag, NULL};
	struct wine_out o;
	int status;

	run_argv(&o, argv);
	status = o.status;
	wine_out_free(&o);
	return status;
}

void
wine_reg_set(const char *key, const char *name, const char *type,
	     const char *data)
{
	wine_must("reg", "add", key, "/v", name, "/t", type, "/d", data, "/f",
		  NULL);
}

void
wine_reg_delete_value(const char *key, const char *name)
{
	wine_must("reg", "delete", key, "/v", name, "/f", NULL);
}

/*
 * Persistent (-p): with no Windows program running the wineserver would
 * otherwise exit after three seconds and take the services with it, so a
 * BITS started by one step would be gone by the next.
 */
static void
server_up(void)
{
	/* 2 means one is already running: fine. */
	wineserver("-p");
	/* Any program starts wineboot, which starts services.exe. */
	wine_must("reg", "query",
		  "HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion", "/v",
		  "CurrentBuild", NULL);
}

void
wine_services_restart(void)
{
	wineserver("-k");
	wineserver("-w");
	server_up();
}

enum wine_svc_state
wine_sc_state(const char *service, unsigned *exit_code)
{
	enum wine_svc_state state = WINE_SVC_MISSING;
	struct wine_out o;
	const char *p;

	wine_run(&o, "sc", "query", service, NULL);
	if (o.status == 0 && (p = strstr(o.text, "STATE")) != NULL &&
	    (p = strchr(p, ':')) != NULL)
		state = (enum wine_svc_state)atoi(p + 1);
	if (exit_code != NULL && o.status == 0 &&
	    (p = strstr(o.text, "WIN32_EXIT_CODE")) != NULL &&
	    (p = strchr(p, ':')) != NULL)
		*exit_code = (unsigned)strtoul(p + 1, NULL, 10);
	wine_out_free(&o);
	return state;
}

bool
wine_sc_wait(const char *service, enum wine_svc_state state, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	enum wine_svc_state now;

	while ((now = wine_sc_state(service, NULL)) != state) {
		/* StartService leaves it START_PENDING at least: STOPPED
		 * now means it started and died. */
		if (state == WINE_SVC_RUNNING && now == WINE_SVC_STOPPED)
			return false;
		if (now_ms() >= end)
			return false;
		usleep(100000);
	}
	return true;
}

/* Put BITS and the service list back as wineboot made them. */
static void
restore(void)
{
	struct wine_out o;
	char marker[512];

	/* Whatever a failed test left: the service it installed, a BITS
	 * that was changed or deleted. The restart drops running state. */
	wine_run(&o, "sc", "stop", "wsusdiagd", NULL);
	wine_out_free(&o);
	wine_run(&o, "reg", "delete", WINE_SVC_KEY, "/f", NULL);
	wine_out_free(&o);
	wine_run(&o, "reg", "delete", WINE_BITS_KEY, "/f", NULL);
	wine_out_free(&o);
	wine_must("reg", "import", "C:\\wsusdiag-baseline\\BITS.reg", NULL);
	wine_services_restart();
	/* The first `wine sc` after the restart can be slow on a busy machine.
	 */
	cr_assert(wine_sc_wait("BITS", WINE_SVC_STOPPED, 15000),
		  "BITS is not back to stopped after the restore");
	cr_assert_eq(wine_sc_state("wsusdiagd", NULL), WINE_SVC_MISSING,
		     "the wsusdiagd service is still there after the restore");
	marker_path(marker, sizeof(marker));
	unlink(marker);
}

static bool
have_wine(void)
{
	const char *argv[] = {"wine", "--version", NULL};
	struct wine_out o;
	bool ok;

	run_argv(&o, argv);
	ok = o.status == 0;
	wine_out_free(&o);
	return ok;
}

static void
skip(const char *why)
{
	fprintf(stderr, "wine tests skipped: %s\n", why);
	cr_skip_test("%s", why);
}

static void
check_environment(void)
{
	const char *exe = wine_exe();
	char path[512];

	if (exe == NULL || access(exe, R_OK) != 0) {
		snprintf(path, sizeof(path),
			 "%s is absent (scripts/build-windows.sh builds it)",
			 exe ? exe : "WSUSDIAGD_EXE");
		skip(path);
	}
	snprintf(path, sizeof(path), "%s/.wsusdiag-prefix", prefix());
	if (access(path, R_OK) == 0)
		return;
	if (!have_wine())
		skip("Wine is not installed (scripts/build-windows-deps.sh "
		     "installs it)");
	cr_assert_fail("%s is not a ready Wine prefix: scripts/wine-prefix.sh "
		       "%s (the wine_prefix fixture) makes it",
		       prefix(), prefix());
}

void
wine_setup(void)
{
	char marker[512], dir[512];
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	check_environment();
	setenv("WINEPREFIX", prefix(), 1);
	setenv("WINEARCH", "win64", 1);
	setenv("WINEDEBUG", "-all", 1);
	setenv("WINEDLLOVERRIDES", "mscoree,mshtml=", 1);
	wine_test_path(dir, sizeof(dir), "");
	mkdir(dir, 0700);
	server_up();
	/* A test that died before its .fini left the prefix changed. */
	marker_path(marker, sizeof(marker));
	if (access(marker, F_OK) == 0)
		restore();
	f = fopen(marker, "w");
	cr_assert_not_null(f);
	fclose(f);
}

void
wine_teardown(struct daemon *d)
{
	if (d->pid > 0)
		wine_daemon_stop_clean(d);
	restore();
}

void
wine_shutdown(void)
{
	const char *pfx = getenv("WSUSDIAG_WINEPREFIX");
	char stamp[512];
	pid_t pid;
	int fd;

	if (pfx == NULL)
		return;
	snprintf(stamp, sizeof(stamp), "%s/.wsusdiag-prefix", pfx);
	if (access(stamp, F_OK) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		setenv("WINEPREFIX", pfx, 1);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("wineserver", "wineserver", "-k", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* ---- the daemon -------------------------------------------------------- */

static void
copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "rb"), *out;
	size_t n;

	cr_assert_not_null(in, "cannot read %s", from);
	out = fopen(to, "wb");
	cr_assert_not_null(out, "cannot write %s", to);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	cr_assert_eq(fclose(out), 0, "cannot write %s", to);
}

static void
copy_certs(void)
{
	static const char *const names[] = {"server.crt", "server.key",
					    "ca.crt"};
	char from[512], to[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(from, sizeof(from), "%s/test-certs/%s", bin_dir(),
			 names[i]);
		wine_test_path(to, sizeof(to), names[i]);
		copy_file(from, to);
	}
}

static void
sha256_hex(const char *s, char out[65])
{
	unsigned char h[32];

	mbedtls_sha256_ret((const unsigned char *)s, strlen(s), h, 0);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

void
wine_write_config(const char *name, int port, bool relative, char *win_path,
		  size_t len)
{
	/* C:\wsusdiag-test\ as a JSON string: backslashes doubled. */
	const char *dir = relative ? "" : "C:\\\\wsusdiag-test\\\\";
	char path[512], admin[65], reader[65];
	FILE *f;

	copy_certs();
	sha256_hex(ADMIN_TOKEN, admin);
	sha256_hex(READ_TOKEN, reader);
	wine_test_path(path, sizeof(path), name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"listen\":\"127.0.0.1:%d\","
		"\"tls\":{\"cert\":\"%sserver.crt\",\"key\":\"%sserver.key\","
		"\"client_ca\":\"%sca.crt\"},"
		"\"auth\":{\"tokens\":["
		"{\"name\":\"admin\",\"sha256\":\"%s\",\"role\":\"admin\"},"
		"{\"name\":\"reader\",\"sha256\":\"%s\",\"role\":\"read\"}],"
		"\"clients\":[{\"subject_cn\":\"console.test\",\"role\":"
		"\"admin\"}],\"allow\":[\"127.0.0.0/8\"]},"
		"\"host\":{\"kind\":\"win32\"},"
		"\"limits\":{\"connections\":64,\"per_ip\":32,"
		"\"idle_timeout_s\":15,\"handshake_timeout_s\":5,"
		"\"body_bytes\":4096},"
		"\"actions\":{\"service_wait_ms\":30000},"
		"\"audit_log\":\"%saudit.jsonl\"}\n",
		port, dir, dir, dir, admin, reader, dir);
	cr_assert_eq(fclose(f), 0);
	snprintf(win_path, len, "%s\\%s", WINE_TEST_DIR, name);
}

/* The daemon logs "listening on https://127.0.0.1:PORT" once it listens. */
static int
wait_for_port(struct daemon *d)
{
	uint64_t end = now_ms() + START_TIMEOUT_MS;
	int st;

	while (now_ms() < end) {
		char *log = slurp(d->log);
		char *p = log ? strstr(log, "listening on ") : NULL;
		int port = 0;

		if (p != NULL && (p = strstr(p, "127.0.0.1:")) != NULL)
			port = atoi(p + strlen("127.0.0.1:"));
		free(log);
		if (port > 0)
			return port;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return -1;
		}
		usleep(50000);
	}
	return -1;
}

static pid_t
spawn_daemon(const char *log, const char *config)
{
	const char *argv[] = {"wine",	     wine_exe(), "--config", config,
			      "--log-level", "debug",	 NULL};
	pid_t pid = fork();
	int fd;

	cr_assert(pid >= 0, "fork");
	if (pid != 0)
		return pid;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(126);
	exec_child(fd, argv);
	return -1;
}

void
wine_daemon_start(struct daemon *d)
{
	wine_daemon_start_with(d, "wsusdiagd.json", false);
}

void
wine_daemon_start_with(struct daemon *d, const char *name, bool relative)
{
	char cfg[300], audit[512];

	memset(d, 0, sizeof(*d));
	wine_write_config(name, 0, relative, cfg, sizeof(cfg));
	wine_test_path(d->dir, sizeof(d->dir), "");
	wine_test_path(d->log, sizeof(d->log), "daemon.log");
	wine_test_path(audit, sizeof(audit), "audit.jsonl");
	unlink(audit);
	/* Before the fork: the last run's "listening on" must not count. */
	unlink(d->log);
	snprintf(d->certs, sizeof(d->certs), "%s/test-certs", bin_dir());
	d->pid = spawn_daemon(d->log, cfg);
	d->port = wait_for_port(d);
	if (d->port <= 0) {
		char *log = slurp(d->log);

		if (d->pid > 0)
			wine_daemon_stop(d);
		cr_assert_fail("wsusdiagd.exe did not start under Wine; its "
			       "log:\n%s",
			       log ? log : "(none)");
	}
}

int
wine_daemon_stop(struct daemon *d)
{
	uint64_t end = now_ms() + STOP_TIMEOUT_MS;
	int st = 0;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGINT);
	while (now_ms() < end) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st)
					     : 128 + WTERMSIG(st);
		}
		usleep(25000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	return -2;
}

/*
 * Exit status 0 alone proves nothing: under Wine a program with no
 * console handler also exits 0 on SIGINT. The log shows the handler ran.
 */
void
wine_daemon_stop_clean(struct daemon *d)
{
	int status = wine_daemon_stop(d);
	char *log = slurp(d->log), *p;

	cr_expect_eq(status, 0, "wsusdiagd.exe exit status %d on Ctrl-C",
		     status);
	p = log ? strstr(log, "Ctrl-C: shutting down") : NULL;
	cr_expect_not_null(p,
			   "wsusdiagd.exe did not log a Ctrl-C shutdown:\n%s",
			   log ? log : "(no log)");
	cr_expect(p != NULL && strstr(p, "stopped") != NULL,
		  "wsusdiagd.exe did not log \"stopped\" after Ctrl-C:\n%s",
		  log ? log : "(no log)");
	free(log);
}

int
wine_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}
