/*
 * errors.h: the error-code knowledge base: every row of the seed tables,
 * the Windows Update agent and WinHTTP codes an administrator meets, and
 * a decomposition of any well-formed HRESULT or Win32 code.
 */
#ifndef WSUSDIAG_ERRORS_H
#define WSUSDIAG_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include "platform/host.h"

struct error_info {
	hr_t code;
	const char *name;
	const char *description; /* what it means */
	const char *advice;	 /* what to do */
	const char *source;	 /* seed section, or NULL */
};

/* The sorted table (ascending code) and its length, for tests. */
extern const struct error_info error_table[];
extern const size_t error_table_len;

/* Binary search; NULL if unknown. */
const struct error_info *error_lookup(hr_t code);

/*
 * Parse an error code as an administrator types it, by the first rule
 * that applies:
 * - "0x" or "0X" and 1 to 8 hex digits: that 32-bit value ("0x80200013",
 *   "0x422" is 0x00000422);
 * - exactly 8 hex digits without a prefix: that value ("80200013", and
 *   "00001058" is 0x00001058, not decimal);
 * - 1 to 5 decimal digits with a value 0..65535: a Win32 error number,
 *   wrapped with hr_from_win32() ("1058" -> 0x80070422, "0" -> 0).
 * Anything else returns false and leaves *out alone: NULL, empty, signs,
 * spaces, more digits than allowed, a value out of range, or trailing
 * characters. Hex digits may be upper or lower case.
 */
bool error_parse(const char *text, hr_t *out);

/*
 * The /errors/{code} answer: code, known, name, description, advice,
 * and the decomposition (severity, facility, code; for facility Win32 the
 * Win32 number and its own entry).
 */
struct cJSON *error_explain(hr_t code);

/* "0x80070422" into out[11]. */
void error_format(hr_t code, char out[11]);

#endif
