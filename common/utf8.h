/*
 * utf8.h: what RFC 3629 calls UTF-8, for text that goes into JSON.
 */
#ifndef WSUSDIAG_UTF8_H
#define WSUSDIAG_UTF8_H

#include <stddef.h>

/*
 * The length of the well-formed character at s (n bytes available), or
 * 0 when s does not start one: overlong forms, surrogates and values
 * past U+10FFFF are not UTF-8.
 */
size_t utf8_char_len(const unsigned char *s, size_t n);

/* Replace every byte that does not belong to a character with '?'. */
void utf8_scrub(char *s);

#endif
