/* fdutil.h - the plain descriptor openers behind qemu.open and
 * qemu.socketpair (everything close-on-exec from birth: spawn.c decides
 * what a child gets), and appending to the logs qlua writes.  Plain C. */
#ifndef QLUA_FDUTIL_H
#define QLUA_FDUTIL_H

#include <stddef.h>

/* Opens path with mode:
 *   "r"   O_RDONLY
 *   "w"   O_WRONLY | O_CREAT (0666 & ~umask), never O_TRUNC: unlike io.open,
 *         so that a script naming an existing disk image or log cannot wipe it
 *   "rw"  O_RDWR, the file must exist (a typo must not create an empty disk)
 * always with O_CLOEXEC | O_NOCTTY.  Returns 0 and sets *out_fd; otherwise
 * returns an errno value and writes "cannot open 'path': reason" into err. */
int fd_open_path(const char *path, const char *mode, int *out_fd, char *err, size_t errlen);

/* A connected AF_UNIX stream pair, both ends close-on-exec; 0 or an errno. */
int fd_socketpair(int out[2], char *err, size_t errlen);

/* Appends s to the log *fd (path names it in the message).  A log that
 * cannot be written (ENOSPC, EDQUOT, EIO...) is closed and *fd set to -1,
 * with one warning on stderr: "qlua: warning: cannot write 'PATH': No
 * space left on device (WHAT is no longer logged there)".  The VM runs on:
 * a full disk must not stop it, and must not silently cut its log either. */
void log_append(int *fd, const char *path, const char *what, const char *s, size_t n);

#endif
