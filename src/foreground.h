/* foreground.h - run QEMU in the foreground of qlua: the terminal is its
 * console, SIGINT/SIGTERM/SIGHUP are forwarded, its status is ours.  Plain C. */
#ifndef QLUA_FOREGROUND_H
#define QLUA_FOREGROUND_H

#include <stddef.h>

/* Returns the exit status qlua should end with: QEMU's code, 128 + signal
 * when it was killed, 128 + the first of SIGINT/SIGTERM/SIGHUP qlua got
 * (and passed on) while QEMU ran, as a shell reports an interrupted
 * command, or (with a message in err) 126/127 when it could not
 * be executed, FOREGROUND_NOT_STARTED when qlua could not start it (no
 * descriptor or process left, ids it could not set), 128 + signal when
 * qlua had caught one before (loop_signal()): QEMU is not started then. */
#define FOREGROUND_NOT_STARTED 2
struct spawn_ids;
int foreground_run(char *const *argv, const int *fds, int nfds, const struct spawn_ids *ids,
                   char *err, size_t errlen);

#endif
