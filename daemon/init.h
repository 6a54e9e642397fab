/*
 * init.h: the key-management subcommands of wsusdiagd.
 *
 * `wsusdiagd init --dir DIR` creates a fresh ECDSA P-256 key, a self-signed
 * certificate and a config holding the SHA-256 of two new bearer tokens,
 * which are printed once and never stored. `wsusdiagd hash-token` turns a
 * token read on stdin into the SHA-256 the config expects.
 *
 * The int functions return 0 on success, otherwise non-zero after printing
 * a "wsusdiagd: ..." message to stderr.
 */
#ifndef WSUSDIAG_INIT_H
#define WSUSDIAG_INIT_H

#include <stddef.h>
#include <stdio.h>

/* "wsd_" + 43 characters of unpadded base64url (32 random bytes). */
#define WSD_TOKEN_LEN  47
#define WSD_TOKEN_SIZE (WSD_TOKEN_LEN + 1)

/* The files init writes into DIR; it refuses if any of them exists. */
#define WSD_INIT_KEY	"server.key"
#define WSD_INIT_CERT	"server.crt"
#define WSD_INIT_CONFIG "wsusdiagd.json"

/* Days between notBefore and notAfter of the generated certificate. */
#define WSD_INIT_CERT_DAYS 825

int wsd_init(const char *dir, FILE *out);
int wsd_hash_token(FILE *in, FILE *out);
/* Lowercase hex SHA-256 of data, NUL-terminated. */
void wsd_sha256_hex(const void *data, size_t len, char out[65]);
/* A fresh token of WSD_TOKEN_LEN printable characters; outlen must be at
 * least WSD_TOKEN_SIZE. */
int wsd_random_token(char *out, size_t outlen);

#endif
