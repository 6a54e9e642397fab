/*
 * host_win32_none.c: host_win32_open() for builds without Win32 APIs.
 * Linking it keeps "--host win32" a clear runtime error rather than a
 * missing symbol.
 */
#include "platform/host.h"

#include <stdio.h>

struct host *
host_win32_open(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen,
			 "the win32 host is only available in the Windows "
			 "build of wsusdiagd (use --host sim:FILE)");
	return NULL;
}
