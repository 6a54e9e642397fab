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
 * If the service manager started this process, run run(argc, argv) as
 * the service and return its exit code with *ran set; otherwise return
 * at once with *ran false (started from a console).
 */
int service_dispatch(int (*run)(int, char **), int argc, char **argv,
		     bool *ran);

/* The daemon listens: tell the service manager it is running. */
void service_ready(void);

#endif
