/*
 * wine_harness.h: the Windows build of wsusdiagd run under Wine and
 * driven from Linux. One Wine prefix per test run (scripts/wine-prefix.sh,
 * a ctest fixture), shared by every test: each test changes BITS with
 * `wine reg` / `wine sc`, runs wsusdiagd.exe with a test configuration in
 * the prefix's C: drive, calls it over TLS with daemon_harness.c's
 * http_call, and the prefix is put back as wineboot made it after each
 * test. tests/wine/README.md says how Wine behaves and why it is done so.
 */
#ifndef WSUSDIAG_WINE_HARNESS_H
#define WSUSDIAG_WINE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon_harness.h"

#define WINE_BITS_KEY "HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS"
#define WINE_SVC_KEY  "HKLM\\SYSTEM\\CurrentControlSet\\Services\\wsusdiagd"
/* The test directory in the prefix: C:\wsusdiag-test. */
#define WINE_TEST_DIR "C:\\wsusdiag-test"

/* dwCurrentState values, as `sc query` prints them. */
enum wine_svc_state {
	WINE_SVC_MISSING = 0, /* sc query failed: no such service */
	WINE_SVC_STOPPED = 1,
	WINE_SVC_START_PENDING = 2,
	WINE_SVC_STOP_PENDING = 3,
	WINE_SVC_RUNNING = 4,
};

struct wine_out {
	int status; /* exit code; -1 killed at the deadline or by a signal */
	char *text; /* stdout and stderr together */
};

/*
 * Suite .init: skips the test (with a message) when WSUSDIAGD_EXE is
 * absent, points the environment at the shared prefix, starts its
 * wineserver (persistent) and restores the prefix if an earlier test
 * died before doing so.
 */
void wine_setup(void);
/* Suite .fini: stops a daemon still running (wine_daemon_stop_clean),
 * restores the prefix. */
void wine_teardown(struct daemon *d);

/* Stop the prefix's wineserver (for a ReportHook: asserts nothing). */
void wine_shutdown(void);

/* wine ARG... (NULL-terminated), 60 s at most. */
void wine_run(struct wine_out *o, const char *arg, ...)
    __attribute__((sentinel));
void wine_out_free(struct wine_out *o);
/* wine ARG... that must exit 0; aborts the test otherwise. */
void wine_must(const char *arg, ...) __attribute__((sentinel));

/*
 * wine reg add / delete, which must succeed. services.exe reads the
 * Services key only when it starts: after changing a service's
 * configuration, wine_services_restart before the daemon can see it.
 */
void wine_reg_set(const char *key, const char *name, const char *type,
		  const char *data);
void wine_reg_delete_value(const char *key, const char *name);
/* Stop the prefix's Wine (wineserver -k) and start it again. */
void wine_services_restart(void);

/* `sc query NAME`: the state, and the Win32 exit code if exit_code. */
enum wine_svc_state wine_sc_state(const char *service, unsigned *exit_code);
/* Poll sc query until NAME is in state; false after timeout_ms, or at
 * once if it is STOPPED while RUNNING is awaited (it died). */
bool wine_sc_wait(const char *service, enum wine_svc_state state,
		  int timeout_ms);

/*
 * Write C:\wsusdiag-test\NAME: the test configuration (host "win32", the
 * test PKI copied next to it), listening on 127.0.0.1:port (0: any). Its
 * files are named by absolute Windows paths, or, if relative, by bare
 * names relative to the config, as wsusdiagd init writes them. Returns
 * the config's Windows path in win_path.
 */
void wine_write_config(const char *name, int port, bool relative,
		       char *win_path, size_t len);

/*
 * Run wsusdiagd.exe --config C:\wsusdiag-test\wsusdiagd.json (absolute
 * paths) under Wine and wait until it listens; fills d for http_call.
 * Aborts the test on failure.
 */
void wine_daemon_start(struct daemon *d);
/* The same with the config NAME, written with relative paths or not. */
void wine_daemon_start_with(struct daemon *d, const char *name, bool relative);
/* Ctrl-C (SIGINT, which Wine turns into CTRL_C_EVENT) and wait; returns
 * the exit status (0: clean), -2 if it had to be killed. */
int wine_daemon_stop(struct daemon *d);
/* wine_daemon_stop, expecting status 0 and the shutdown in its log. */
void wine_daemon_stop_clean(struct daemon *d);

/* The exe under test (WSUSDIAGD_EXE). */
const char *wine_exe(void);
/* Unix path of C:\wsusdiag-test\NAME in the prefix ("" for the dir). */
void wine_test_path(char *out, size_t len, const char *name);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
int wine_free_port(void);

#endif
