/*
 * fuzz_json_body.c: the JSON body of POST /actions/{id} ({"dry_run":
 * true} and whatever else arrives), through api_handle with a valid
 * admin token and Content-Type, so every input reaches the body parser.
 *
 * Input: one byte choosing the action (modulo the table), then the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_api api;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_request req = {0};
	char path[64], *body = NULL;

	if (api.ctx.auth == NULL)
		fuzz_api_init(&api);
	if (size == 0 || size - 1 > api.ctx.body_limit)
		return -1; /* 413 before the parser: not this target's */
	snprintf(path, sizeof(path), "/actions/%s",
		 action_table[data[0] % action_count]->id);
	req.method = "POST";
	req.path = path;
	req.authorization = "Bearer fuzz-admin-token";
	req.content_type = "application/json";
	req.peer = "127.0.0.1";
	req.body_len = size - 1;
	if (req.body_len > 0) {
		/* Exactly the body's bytes, so a read past them is caught. */
		body = xmalloc(req.body_len);
		memcpy(body, data + 1, req.body_len);
	}
	req.body = body;
	fuzz_api_handle(&api, &req);
	free(body);
	return 0;
}
