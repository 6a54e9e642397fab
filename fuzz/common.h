/*
 * common.h: what the libFuzzer targets share: the input as a C string,
 * a quiet process, and the API context built the way daemon/main.c
 * builds it (real config, real tokens, a simulated host from a file).
 */
#ifndef WSUSDIAG_FUZZ_COMMON_H
#define WSUSDIAG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "checks/registry.h"
#include "daemon/config.h"

/* Abort with a message: the fuzzer records the input as a crash. */
void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* A NUL-terminated copy of the input (free it). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Length of the RFC 3629 UTF-8 character at NUL-terminated s, 0 if
 * none (overlong forms, surrogates, past U+10FFFF). */
size_t fuzz_utf8_len(const unsigned char *s);

/* Log errors only, no SIGPIPE, libcurl initialised: once per process. */
void fuzz_quiet(void);

/* The daemon's API pieces, from fuzz/http/wsusdiagd.json. */
struct fuzz_api {
	struct wsd_config cfg;
	struct check_settings settings;
	struct api_ctx ctx;
};

void fuzz_api_init(struct fuzz_api *f);

/*
 * Open the host afresh (actions change it; each input must start from
 * the same state), handle one request, check what any response must
 * satisfy, and release everything the request made.
 */
void fuzz_api_handle(struct fuzz_api *f, const struct api_request *req);

#endif
