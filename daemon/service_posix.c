/*
 * service_posix.c: there is no Windows service manager here; say so.
 */
#include <stdio.h>

#include "daemon/service.h"

static int
not_here(const char *what)
{
	fprintf(stderr,
		"wsusdiagd: %s registers a Windows service and needs the "
		"Windows build; on Linux use your init system (e.g. a systemd "
		"unit running wsusdiagd --config FILE)\n",
		what);
	return 2;
}

int
service_install(const char *config_path)
{
	(void)config_path;
	return not_here("install");
}

int
service_uninstall(void)
{
	return not_here("uninstall");
}

int
service_run(int (*run)(int, char **), int argc, char **argv)
{
	(void)run, (void)argc, (void)argv;
	return not_here("--service");
}

void
service_ready(void)
{
}
