/*
 * service.h: running as a Windows service (install, uninstall, and the
 * service control dispatcher). Other builds say they have none.
 */
#ifndef WSUSDIAG_SERVICE_H
#define WSUSDIAG_SERVICE_H

#include <stdbool.h>

/* wsusdiagd install --config PATH / wsusdiagd uninstall: exit codes. */
int service_install(const char *config_path);
int service_uninstall(void);

/*
 * wsusdiagd --service ...: the command line install writes for the
 * service manager. Runs run(argc, argv) as the service and returns its
 * exit code. Only this flag reaches the dispatcher, so a console run
 * never waits for a service manager that will not call (Wine makes that
 * wait 10 s).
 */
int service_run(int (*run)(int, char **), int argc, char **argv);

/* The daemon listens: tell the service manager it is running. */
void service_ready(void);

#endif
