/*
 * auth.c: who is calling and with which role. Tokens are compared by
 * their SHA-256 in constant time against every configured hash, so
 * neither timing nor the number of entries tells a caller how close a
 * guess was.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/sha256.h>

#include "api/internal.h"

static const char *const role_names[] = {"none", "read", "admin"};

const char *
role_name(enum role r)
{
	return (unsigned)r <= ROLE_ADMIN ? role_names[r] : "none";
}

bool
role_parse(const char *s, enum role *out)
{
	for (unsigned i = 0; i <= ROLE_ADMIN; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum role)i;
			return true;
		}
	}
	return false;
}

static int
ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* Index of the token whose hash matches, or -1; always walks them all. */
static long
token_index(const struct auth_config *auth, const char *token, size_t len)
{
	uint8_t h[32];
	long found = -1;

	mbedtls_sha256_ret((const unsigned char *)token, len, h, 0);
	for (size_t i = 0; i < auth->n_tokens; i++) {
		int eq = ct_equal(h, auth->tokens[i].sha256, sizeof(h));

		found = eq ? (long)i : found;
	}
	return found;
}

static const struct client_entry *
client_find(const struct auth_config *auth, const char *cn)
{
	for (size_t i = 0; i < auth->n_clients; i++)
		if (strcmp(auth->clients[i].subject_cn, cn) == 0)
			return &auth->clients[i];
	return NULL;
}

static bool
bearer(const struct auth_config *auth, const char *hdr, enum role *role,
       char *name, size_t namelen, struct api_response *res)
{
	const char *tok;
	size_t len;
	long i;

	if (strncasecmp(hdr, "Bearer ", 7) != 0) {
		problem(res, 401,
			"the Authorization header must be "
			"\"Bearer TOKEN\"");
		goto unauthorized;
	}
	tok = hdr + 7;
	while (*tok == ' ')
		tok++;
	len = strlen(tok);
	while (len > 0 && tok[len - 1] == ' ')
		len--;
	i = len ? token_index(auth, tok, len) : -1;
	if (i < 0) {
		problem(res, 401, "the bearer token is not valid");
		goto unauthorized;
	}
	*role = auth->tokens[i].role;
	snprintf(name, namelen, "token:%s", auth->tokens[i].name);
	return true;
unauthorized:
	res->www_authenticate = true;
	return false;
}

bool
auth_identify(const struct auth_config *auth, const struct api_request *req,
	      enum role *role, char *name, size_t namelen,
	      struct api_response *res)
{
	const struct client_entry *ce = NULL;

	*role = ROLE_NONE;
	name[0] = '\0';
	if (req->cert_cn != NULL) {
		ce = client_find(auth, req->cert_cn);
		snprintf(name, namelen, "cert:%s", req->cert_cn);
		if (ce != NULL)
			*role = ce->role;
	}
	if (req->authorization != NULL) {
		enum role trole;

		if (!bearer(auth, req->authorization, &trole, name, namelen,
			    res))
			return false;
		/* Both presented: the stronger grant applies. */
		*role = trole > *role ? trole : *role;
	}
	return true;
}
