/*
 * fuzz_http.c: one HTTP request through routing, authentication and the
 * handler, in process (api_handle: api_admit then api_run, as
 * daemon/httpd.c calls them).
 *
 * Input, lines split at LF:
 *   METHOD
 *   PATH
 *   AUTHORIZATION   (empty: no header)
 *   CONTENT-TYPE    (empty: no header)
 *   CERT-CN         (empty: no client certificate)
 *   BODY...         (the rest, bytes as they come)
 * Missing lines are empty. The tokens the config knows are
 * "fuzz-read-token" and "fuzz-admin-token" (fuzz/http/wsusdiagd.json).
 */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_api api;

/* The next line of [*p, end) as a C string in out; "" past the end. */
static char *
next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = xmalloc(n + 1);

	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *line[5];
	struct api_request req = {0};
	char *body;

	if (api.ctx.auth == NULL)
		fuzz_api_init(&api);
	for (size_t i = 0; i < 5; i++)
		line[i] = next_line(&p, end);
	req.method = line[0];
	req.path = line[1];
	req.authorization = line[2][0] != '\0' ? line[2] : NULL;
	req.content_type = line[3][0] != '\0' ? line[3] : NULL;
	req.cert_cn = line[4][0] != '\0' ? line[4] : NULL;
	req.peer = "127.0.0.1";
	/* Exactly the body's bytes, so a read past them is caught. */
	req.body_len = (size_t)(end - p);
	if (req.body_len > api.ctx.body_limit) {
		/* The transport stops reading at the limit. */
		req.body_too_large = true;
		req.body_len = api.ctx.body_limit;
	}
	body = req.body_len > 0 ? xmalloc(req.body_len) : NULL;
	if (body != NULL)
		memcpy(body, p, req.body_len);
	req.body = body;
	fuzz_api_handle(&api, &req);
	free(body);
	for (size_t i = 0; i < 5; i++)
		free(line[i]);
	return 0;
}
