/*
 * servers.h: real peers on 127.0.0.1 for the tests of the network checks.
 *
 * - A WSUS-like server: Debian's nginx, started as a child of the test
 *   (not a daemon, master_process off, so it runs the same as root or
 *   not), serving iuident.cab and selfupdate/wuident.cab over HTTP and
 *   over HTTPS with a certificate of the test PKI (make-wsus-certs.sh).
 * - A misbehaving HTTP server: a thread that serves the same two files
 *   with one chosen fault, the way a broken server or proxy answers BITS.
 * - A closed port: bound, never listening.
 *
 * Nothing listens anywhere but on loopback, every peer is stopped by its
 * test (and nginx dies with the test process if the test dies first).
 * Failures return NULL or -1 with the reason in err: these helpers do
 * not assert, the tests do.
 */
#ifndef WSUSDIAG_TEST_SERVERS_H
#define WSUSDIAG_TEST_SERVERS_H

#include <stddef.h>

/* Sizes of the two files both servers serve (not multiples of 100). */
#define WSUS_IUIDENT_SIZE 4096u
#define WSUS_WUIDENT_SIZE 3000u

/* ---- the misbehaving server ------------------------------------------ */

enum badsrv_fault {
	BADSRV_NONE,	       /* a correct server: the control */
	BADSRV_HEAD_NO_LENGTH, /* HEAD answered without Content-Length */
	BADSRV_RANGE_IGNORED,  /* Range ignored: 200 with the whole file */
	BADSRV_RANGE_WRONG,    /* 206 with the Content-Range of other bytes */
	BADSRV_STATUS,	       /* every request answered with one status */
	BADSRV_SILENT,	       /* reads the request, never answers */
	BADSRV_SLOW,	       /* answers correctly, each after a delay */
	BADSRV_NO_IUIDENT,     /* /iuident.cab is 404, wuident.cab served */
};

struct badsrv;

/*
 * Start on a kernel-chosen port. arg is the status of BADSRV_STATUS and
 * the delay in ms of BADSRV_SLOW.
 */
struct badsrv *badsrv_start(enum badsrv_fault fault, int arg, char *err,
			    size_t errlen);
unsigned short badsrv_port(const struct badsrv *s);
/* Requests read so far. */
unsigned badsrv_requests(struct badsrv *s);
void badsrv_stop(struct badsrv *s);

/*
 * A 127.0.0.1 port where nothing listens: the returned socket is bound
 * to it but never listens, so no one else takes it while it is open.
 * Close it when done; -1 on failure.
 */
int closed_port(unsigned short *port, char *err, size_t errlen);

/* ---- the test PKI ------------------------------------------------------ */

/*
 * Make the certificates of tests/servers/make-wsus-certs.sh in a new
 * temporary directory and return its path (caller frees; remove it with
 * wsus_certs_remove). Needs WSUSDIAG_SOURCE_DIR.
 */
char *wsus_certs_make(char *err, size_t errlen);
void wsus_certs_remove(char *dir);

/* ---- nginx ------------------------------------------------------------- */

struct wsus_nginx;

/*
 * Start nginx from tests/servers/nginx.conf.in: HTTP on one free port,
 * HTTPS with cert and key (PEM files) on another, both on 127.0.0.1.
 * Returns once both ports accept connections.
 */
struct wsus_nginx *wsus_nginx_start(const char *cert, const char *key,
				    char *err, size_t errlen);
unsigned short wsus_nginx_http_port(const struct wsus_nginx *n);
unsigned short wsus_nginx_https_port(const struct wsus_nginx *n);
/* Stop nginx and remove its directory. */
void wsus_nginx_stop(struct wsus_nginx *n);

/* Write the two files under root (root/iuident.cab, root/selfupdate/). */
int wsus_files_write(const char *root, char *err, size_t errlen);
/* Byte i of the files (the same pattern in both). */
unsigned char wsus_file_byte(size_t i);

#include "support/tmptree.h"

#endif
