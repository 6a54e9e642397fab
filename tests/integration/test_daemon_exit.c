/*
 * wsusdiagd's ways out other than a stop request: --check-config and the
 * start-up errors, each with its exit status. Under the sanitized build
 * these also prove that every one of these paths releases what it made:
 * a leak there changes the exit status.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_harness.h"

/* A running daemon: its configuration is valid and its port is taken. */
static struct daemon d;
static char cfg[400];

static void
start(void)
{
	struct daemon_opts o = {.host_file = "healthy.json"};

	signal(SIGPIPE, SIG_IGN);
	daemon_start(&d, &o);
	snprintf(cfg, sizeof(cfg), "%s/wsusdiagd.json", d.dir);
}

static void
stop(void)
{
	cr_expect_eq(daemon_stop(&d), 0, "wsusdiagd did not exit cleanly");
}

TestSuite(daemon_exit, .init = start, .fini = stop);

/* Another wsusdiagd with args; its exit status, its output in *out. */
static int
run(const char *const *args, char **out)
{
	const char *argv[16];
	char path[400];
	int n = 0, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/run.out", d.dir);
	argv[n++] = getenv("WSUSDIAGD");
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	*out = slurp(path);
	cr_assert_not_null(*out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static void
expect_exit(const char *const *args, int want, const char *says)
{
	char *out;
	int rc = run(args, &out);

	cr_expect_eq(rc, want, "exit status %d, not %d; output:\n%s", rc, want,
		     out);
	cr_expect_not_null(strstr(out, says), "no \"%s\" in:\n%s", says, out);
	free(out);
}

Test(daemon_exit, check_config_exits_0)
{
	const char *args[] = {"--config", cfg, "--check-config", NULL};

	expect_exit(args, 0, ": configuration OK");
}

Test(daemon_exit, unknown_option_exits_2)
{
	const char *args[] = {"--config", cfg, "--no-such-option", NULL};

	expect_exit(args, 2, "unknown option --no-such-option");
}

Test(daemon_exit, config_that_is_not_json_exits_2)
{
	const char *args[] = {"--config", NULL, NULL};
	char bad[400];

	snprintf(bad, sizeof(bad), "%s/bad.json", d.dir);
	write_file(bad, "{\"listen\":");
	args[1] = bad;
	expect_exit(args, 2, "not valid JSON");
}

/* The configuration loads; the host file it names does not. */
Test(daemon_exit, host_file_that_is_not_json_exits_1)
{
	const char *args[] = {"--config", cfg, "--host", NULL, NULL};
	char arg[420], host[400];

	snprintf(host, sizeof(host), "%s/garbage.json", d.dir);
	write_file(host, "this is not a host");
	snprintf(arg, sizeof(arg), "sim:%s", host);
	args[3] = arg;
	expect_exit(args, 1, "garbage.json");
}

/*
 * HTTP is up when the listener fails: both are taken down again. The
 * running daemon is not disturbed.
 */
Test(daemon_exit, port_in_use_exits_1)
{
	const char *args[] = {"--config", cfg, "--listen", NULL, NULL};
	struct http_opts o = {.path = "/health"};
	struct http_reply r;
	char listen[64];

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", d.port);
	args[3] = listen;
	expect_exit(args, 1, "Address already in use");
	http_call(&d, &o, &r);
	cr_expect_eq(r.status, 200);
	http_reply_free(&r);
}
