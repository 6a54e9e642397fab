/*
 * common/utf8.c: RFC 3629's UTF-8, and scrubbing text that goes to JSON.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/utf8.h"

static size_t
len_of(const char *s)
{
	return utf8_char_len((const unsigned char *)s, strlen(s));
}

Test(utf8, well_formed_characters_have_their_length)
{
	cr_expect_eq(len_of("a"), 1);
	cr_expect_eq(len_of("\xC3\xA9"), 2);	     /* é */
	cr_expect_eq(len_of("\xE2\x82\xAC"), 3);     /* € */
	cr_expect_eq(len_of("\xF0\x9F\x98\x80"), 4); /* U+1F600 */
	cr_expect_eq(len_of("\xF4\x8F\xBF\xBF"), 4); /* U+10FFFF */
}

Test(utf8, what_rfc_3629_forbids_is_no_character)
{
	cr_expect_eq(len_of("\x80"), 0);	     /* a lone continuation */
	cr_expect_eq(len_of("\xC0\xAF"), 0);	     /* overlong '/' */
	cr_expect_eq(len_of("\xE0\x80\xAF"), 0);     /* overlong */
	cr_expect_eq(len_of("\xED\xA0\x80"), 0);     /* a surrogate */
	cr_expect_eq(len_of("\xF4\x90\x80\x80"), 0); /* past U+10FFFF */
	cr_expect_eq(len_of("\xF5\x80\x80\x80"), 0);
	cr_expect_eq(len_of("\xE2\x82"), 0); /* cut short */
}

Test(utf8, scrub_replaces_each_stray_byte_and_keeps_characters)
{
	char s[] = "caf\xC3\xA9 \xFF\xE2\x82 ok \xF0\x9F\x98\x80";

	utf8_scrub(s);
	cr_expect_str_eq(s, "caf\xC3\xA9 ??? ok \xF0\x9F\x98\x80");
}
