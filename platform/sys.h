/*
 * sys.h: process-level glue: start-up, waiting for a stop request
 * (signals on POSIX, console control events or the service manager on
 * Windows), and the few file-system calls wsusdiagd init needs.
 */
#ifndef WSUSDIAG_SYS_H
#define WSUSDIAG_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Before any thread starts: sockets, TLS library locking, and routing
 * stop requests (SIGINT/SIGTERM, Ctrl-C) to plat_stop_wait.
 */
int plat_process_init(void);
/* Block until a stop is requested; returns a word saying why. */
const char *plat_stop_wait(void);
/* Request a stop (the Windows service handler uses this). */
void plat_stop_request(void);
/*
 * Give the free memory of the allocator's heaps back to the system;
 * the listener calls it when its last connection has closed.
 */
void plat_trim_memory(void);

/* Does path exist (without following a final symlink)? */
bool plat_path_exists(const char *path);
/* Readable by this process? If not, why (the OS's words) in why. */
bool plat_path_readable(const char *path, char *why, size_t whylen);
/* Is path absolute ("/x" here; "C:\\x", "\\\\server\\x" on Windows)? */
bool plat_path_is_absolute(const char *path);
/* The separator this platform writes between directory and name. */
const char *plat_dir_sep(void);
/* The position of the last directory separator in path, or NULL. */
const char *plat_path_last_sep(const char *path);
/* Create a directory only its owner may use: 1 created, 0 it already
 * existed as a directory, -1 with err. */
int plat_mkdir_private(const char *dir, char *err, size_t errlen);
/*
 * Create path (never replacing one), write data, flush it to disk.
 * private_ restricts it to the owner (0600 / owner-only ACL). Returns 0;
 * -1 when nothing was created; 1 when the file was created but could not
 * be written completely (the caller removes it).
 */
int plat_write_new_file(const char *path, bool private_, const void *data,
			size_t len, char *err, size_t errlen);
int plat_remove_file(const char *path);
int plat_remove_dir(const char *path);
int plat_hostname(char *out, size_t outlen);
void plat_gmtime(time_t t, struct tm *out);

#endif
