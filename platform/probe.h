/*
 * probe.h: the outbound HTTP probe of this build's network stack
 * (libcurl on POSIX, WinHTTP on Windows). Both hosts use it: network
 * probes are real even on the simulated host.
 */
#ifndef WSUSDIAG_PROBE_H
#define WSUSDIAG_PROBE_H

#include <cjson/cJSON.h>

#include "platform/host.h"

/*
 * Perform one request. Returns HR_OK when an HTTP response arrived (any
 * status), else the WinHTTP-style HRESULT of the failure (0x80072EE7 name
 * not resolved, 0x80072EFD cannot connect, 0x80072EE2 timeout,
 * 0x80072F8F and friends for TLS, ...), with out->reached and out->detail
 * saying how far it got and why. Never takes longer than req->timeout_ms
 * (plus scheduling slack).
 */
hr_t plat_http_probe(const struct probe_request *req, struct probe_result *out);

/*
 * One-time global initialisation (libcurl); plat_http_probe does it on
 * first use, so calling it is optional. Safe from any thread.
 */
int plat_probe_global_init(void);

/* Add this build's network library and version to a JSON object. */
void plat_probe_describe(struct cJSON *libs);

#endif
