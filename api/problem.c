/*
 * problem.c: every error is application/problem+json (RFC 9457).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "common/utf8.h"
#include "common/xalloc.h"

static const char *
reason(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

void
respond_json(struct api_response *res, int status, cJSON *body)
{
	free(res->body);
	res->status = status;
	res->content_type = "application/json";
	res->body = cJSON_PrintUnformatted(body);
	if (res->body == NULL)
		abort(); /* cJSON only fails on allocation */
	res->body_len = strlen(res->body);
	cJSON_Delete(body);
}

static void
vproblem(struct api_response *res, int status, cJSON *extra, const char *fmt,
	 va_list ap)
{
	cJSON *o = extra ? extra : cJSON_CreateObject();
	char *detail = xvasprintf(fmt, ap);

	/* The detail quotes what the client sent, which may not be UTF-8
	 * or may be cut inside a character by a %.64s: JSON is UTF-8. */
	utf8_scrub(detail);

	cJSON_AddStringToObject(o, "type", "about:blank");
	cJSON_AddStringToObject(o, "title", reason(status));
	cJSON_AddNumberToObject(o, "status", status);
	cJSON_AddStringToObject(o, "detail", detail);
	free(detail);
	respond_json(res, status, o);
	res->content_type = "application/problem+json";
}

void
problem(struct api_response *res, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(res, status, NULL, fmt, ap);
	va_end(ap);
}

void
problem_with(struct api_response *res, int status, cJSON *extra,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(res, status, extra, fmt, ap);
	va_end(ap);
}
