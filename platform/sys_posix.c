/*
 * sys_posix.c: process glue and file creation on POSIX.
 */
#include "platform/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/net.h"

int
plat_process_init(void)
{
	sigset_t set;

	/*
	 * Threads get glibc to open up to 8 arenas per core, each keeping
	 * its peak after a burst: two are enough. A connection's large
	 * buffers (TLS records, MHD's pool, the pump's) are mapped on their
	 * own and go back to the system when it closes, instead of staying
	 * as the arenas' high-water mark (bench/: RSS growth).
	 */
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 16 * 1024);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Every thread inherits the mask; only plat_stop_wait takes them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return plat_net_init();
}

const char *
plat_stop_wait(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

void
plat_stop_request(void)
{
	kill(getpid(), SIGTERM);
}

bool
plat_path_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

bool
plat_path_readable(const char *path, char *why, size_t whylen)
{
	if (access(path, R_OK) == 0)
		return true;
	snprintf(why, whylen, "%s", strerror(errno));
	return false;
}

bool
plat_path_is_absolute(const char *path)
{
	return path[0] == '/';
}

const char *
plat_dir_sep(void)
{
	return "/";
}

const char *
plat_path_last_sep(const char *path)
{
	return strrchr(path, '/');
}

int
plat_mkdir_private(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 1;
	if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (errno == EEXIST)
		snprintf(err, errlen, "%s exists and is not a directory", dir);
	else
		snprintf(err, errlen, "cannot create directory %s: %s", dir,
			 strerror(errno));
	return -1;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* O_EXCL with the final mode from the first byte: no window in which a
 * key is readable by others, and no way to replace an existing file. */
int
plat_write_new_file(const char *path, bool private_, const void *data,
		    size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		      private_ ? 0600 : 0644);

	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			 strerror(errno));
		close(fd);
		return 1; /* created, but not written */
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			 strerror(errno));
		return 1;
	}
	return 0;
}

int
plat_remove_file(const char *path)
{
	return unlink(path);
}

int
plat_remove_dir(const char *path)
{
	return rmdir(path);
}

int
plat_hostname(char *out, size_t outlen)
{
	return gethostname(out, outlen);
}

void
plat_gmtime(time_t t, struct tm *out)
{
	gmtime_r(&t, out);
}

void
plat_trim_memory(void)
{
	malloc_trim(0);
}
