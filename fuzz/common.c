/*
 * common.c: helpers of the fuzz targets (see common.h).
 */
#include "fuzz/common.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api/audit.h"
#include "api/internal.h"
#include "common/xalloc.h"
#include "daemon/log.h"
#include "platform/probe.h"

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Length of the RFC 3629 character at s, 0 if none. */
size_t
fuzz_utf8_len(const unsigned char *s)
{
	unsigned lo = 0x80, hi = 0xBF;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

void
fuzz_quiet(void)
{
	log_set_level(LOG_ERROR);
	signal(SIGPIPE, SIG_IGN);
	if (plat_probe_global_init() != 0)
		fuzz_fail("cannot initialise libcurl");
}

void
fuzz_api_init(struct fuzz_api *f)
{
	char err[768];

	fuzz_quiet();
	config_defaults(&f->cfg);
	if (config_load(&f->cfg, FUZZ_DIR "/http/wsusdiagd.json", err,
			sizeof(err)) != 0)
		fuzz_fail("%s", err);
	config_wire_api(&f->cfg, &f->settings, &f->ctx);
	if ((f->ctx.audit = audit_open(NULL)) == NULL)
		fuzz_fail("cannot open the audit sink");
}

static bool
is_json(const char *ct)
{
	return strcmp(ct, "application/json") == 0 ||
	       strcmp(ct, "application/problem+json") == 0;
}

/* What every answer of api_handle must be, whatever the request. */
static void
check_response(const struct api_response *res)
{
	cJSON *doc, *st;
	size_t n;

	if (res->status < 200 || res->status > 599 ||
	    res->content_type == NULL || res->body == NULL ||
	    strlen(res->body) != res->body_len)
		fuzz_fail("malformed response (status %d)", res->status);
	if (res->status == 401 && !res->www_authenticate)
		fuzz_fail("401 without WWW-Authenticate");
	if (res->status == 405 && res->allow[0] == '\0')
		fuzz_fail("405 without Allow");
	if (!is_json(res->content_type))
		return;
	/* RFC 8259: JSON between systems is UTF-8. */
	for (const char *p = res->body; *p != '\0'; p += n)
		if ((n = fuzz_utf8_len((const unsigned char *)p)) == 0)
			fuzz_fail("status %d: the body is not UTF-8 at byte "
				  "%zu: %.200s",
				  res->status, (size_t)(p - res->body),
				  res->body);
	doc = cJSON_ParseWithLength(res->body, res->body_len);
	if (doc == NULL)
		fuzz_fail("status %d: the body is not JSON: %.200s",
			  res->status, res->body);
	st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	if (strcmp(res->content_type, "application/problem+json") == 0 &&
	    (!cJSON_IsNumber(st) || st->valueint != res->status))
		fuzz_fail("problem document with the wrong status");
	cJSON_Delete(doc);
}

void
fuzz_api_handle(struct fuzz_api *f, const struct api_request *req)
{
	struct api_response res;
	char err[768];

	f->ctx.host = host_sim_open(f->cfg.host_path, false, err, sizeof(err));
	if (f->ctx.host == NULL)
		fuzz_fail("%s", err);
	api_handle(&f->ctx, req, &res);
	check_response(&res);
	api_response_clear(&res);
	/* A check past its time limit still uses the host. */
	if (!check_tracker_drain(f->ctx.tracker, 10000))
		fuzz_fail("a check thread still runs after 10 s");
	host_close(f->ctx.host);
	f->ctx.host = NULL;
}
