/* loop.h - the one event loop of a qlua process.  Plain C.
 *
 * Everything that waits (vm:wait, qmp:execute, console:expect, shutdown)
 * runs this loop until its own condition holds or its deadline passes, so
 * any number of VMs cost one thread: while one call waits, the loop keeps
 * reading every other VM's QMP socket, console and stderr, and reaps every
 * child that exits. */
#ifndef QLUA_LOOP_H
#define QLUA_LOOP_H

#include <stdint.h>

/* Called with the events epoll reported (EPOLLIN, EPOLLOUT, EPOLLHUP...).
 * A callback must not longjmp (no Lua errors): it records what happened. */
typedef void (*loop_cb)(void *ctx, int fd, uint32_t events);

int loop_add(int fd, uint32_t events, loop_cb cb, void *ctx);  /* 0 or -1 (errno) */
int loop_mod(int fd, uint32_t events);
void loop_del(int fd);   /* before closing fd */

/* Seconds on the monotonic clock. */
double loop_now(void);

/* Runs the loop until done(ctx) is true (checked before every wait and
 * after every round of callbacks) or the deadline (loop_now() based; < 0:
 * none) passes, or a signal qlua watches arrives.  Returns 1 when done,
 * 0 at the deadline, -1 when interrupted by a signal (loop_signal()). */
int loop_run(int (*done)(void *ctx), void *ctx, double deadline);

/* One round: waits until something happens or the deadline passes, and
 * runs the callbacks.  Returns -1 when a watched signal came, else 0.
 * (Waits that can be suspended, in matrix cells, are built on this.) */
int loop_round(double deadline);
/* How many events the loop has handled so far (by any wait). */
unsigned long loop_events(void);

/* SIGINT, SIGTERM and SIGHUP are caught (after loop_watch_signals()) and
 * end every loop_run at once; loop_signal() says which one came (0: none). */
void loop_watch_signals(void (*also)(int sig));
int loop_signal(void);
void loop_clear_signal(void);

/* Where the kernel gives no pidfds (before Linux 5.3; a seccomp filter;
 * valgrind, which does not know pidfd_open): cb runs in the loop after
 * SIGCHLD, i.e. after some child exited, and asks its children with
 * waitpid(WNOHANG).  The handler is installed once; 0 or -1 (errno). */
int loop_watch_children(void (*cb)(void));

/* A deadline from a timeout in seconds (< 0: none). */
double loop_deadline(double timeout);

#endif
