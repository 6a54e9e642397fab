/*
 * fuzz_errcode.c: the {code} of GET /errors/{code} through error_parse,
 * and whatever it accepts through error_explain, the answer's builder.
 * A parsed code printed by error_format must parse back to itself.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks/errors.h"
#include "fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
explain(hr_t code)
{
	cJSON *o = error_explain(code), *c;
	char text[11], *s;

	error_format(code, text);
	c = cJSON_GetObjectItemCaseSensitive(o, "code");
	if (!cJSON_IsString(c) || strcmp(c->valuestring, text) != 0)
		fuzz_fail("explain(%s) names another code", text);
	if ((s = cJSON_PrintUnformatted(o)) == NULL)
		fuzz_fail("explain(%s) does not render", text);
	free(s);
	cJSON_Delete(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), again[11];
	hr_t code = 0xDEADBEEF, back = 0;

	if (error_parse(text, &code)) {
		error_format(code, again);
		if (!error_parse(again, &back) || back != code)
			fuzz_fail("%s parses as %s, which parses as 0x%08x",
				  text, again, (unsigned)back);
		explain(code);
	} else if (code != 0xDEADBEEF) {
		fuzz_fail("a refused code changed *out");
	}
	/* Any 32-bit value is a code someone may ask about. */
	if (size == 4) {
		memcpy(&code, data, 4);
		explain(code);
	}
	free(text);
	return 0;
}
