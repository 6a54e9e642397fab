/*
 * probe_version_curl.c: the network library's version for /version.
 */
#include <curl/curl.h>

#include "platform/probe.h"

void
plat_probe_describe(struct cJSON *libs)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	cJSON_AddStringToObject(libs, "curl", v->version);
}
