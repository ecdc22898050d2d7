/* fdutil.c - see fdutil.h. */
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The modes are spelled out (not passed to fopen) because "w" deliberately
 * differs from fopen's: see fdutil.h. */
int fd_open_path(const char *path, const char *mode, int *out_fd, char *err, size_t errlen)
{
	int flags;

	if (strcmp(mode, "r") == 0) {
		flags = O_RDONLY;
	} else if (strcmp(mode, "w") == 0) {
		flags = O_WRONLY | O_CREAT;
	} else if (strcmp(mode, "rw") == 0) {
		flags = O_RDWR;
	} else {
		snprintf(err, errlen, "invalid mode '%s' (expected 'r', 'w' or 'rw')", mode);
		return EINVAL;
	}
	/* O_NOCTTY: opening a terminal must not make it qlua's controlling tty. */
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC | O_NOCTTY, 0666);
	while (fd < 0 && errno == EINTR);   /* a FIFO open can block and be interrupted */
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(e));
		return e;
	}
	*out_fd = fd;
	return 0;
}

/* Stream, not datagram: QMP, chardev and migration fds all expect a byte
 * stream. */
int fd_socketpair(int out[2], char *err, size_t errlen)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot create a socket pair: %s", strerror(e));
		return e;
	}
	return 0;
}

/* Writes all of s (a log file: blocking is fine, it is a disk). */
void log_append(int *fd, const char *path, const char *what, const char *s, size_t n)
{
	while (*fd >= 0 && n) {
		ssize_t w = write(*fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* a full disk loses the log, not the VM; and says so once */
			fprintf(stderr, "qlua: warning: cannot write '%s': %s (%s is no longer logged there)\n",
			        path ? path : "?", w < 0 ? strerror(errno) : "nothing written", what);
			close(*fd);
			*fd = -1;
			return;
		}
		s += w;
		n -= w;
	}
}
