#include "platform/host.h"

const char *
plat_build_name(void)
{
	return "linux";
}
