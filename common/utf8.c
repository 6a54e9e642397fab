#include "common/utf8.h"

#include <string.h>

size_t
utf8_char_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len = s[0] < 0x80		    ? 1
		     : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
		     : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
		     : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
						    : 0;

	if (len == 0 || len > n)
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0; /* below: overlong */
	else if (s[0] == 0xED)
		hi = 0x9F; /* above: surrogates */
	else if (s[0] == 0xF0)
		lo = 0x90; /* below: overlong */
	else if (s[0] == 0xF4)
		hi = 0x8F; /* above: past U+10FFFF */
	if (len > 1 && (s[1] < lo || s[1] > hi))
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

void
utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), i = 0, c;

	while (i < n) {
		c = utf8_char_len(p + i, n - i);
		if (c == 0) {
			p[i] = '?';
			c = 1;
		}
		i += c;
	}
}
