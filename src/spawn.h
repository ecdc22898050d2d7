/* spawn.h - start a process with an explicit descriptor map.  Plain C: no
 * lua_State anywhere in spawn.c, so it can be read, fuzzed and reused alone. */
#ifndef QLUA_SPAWN_H
#define QLUA_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* Who the child runs as: each id applied only when set. */
#define SPAWN_MAX_GROUPS 64
struct spawn_ids {
	int set_uid, set_gid, set_groups;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[SPAWN_MAX_GROUPS];
};

struct spawn_req {
	const char *path;        /* executable; looked up in $PATH when it has no '/' */
	char *const *argv;       /* NULL-terminated; argv[0] is what the child sees */
	const int *fds;          /* parent descriptors: fds[i] becomes child fd 3 + i */
	int nfds;
	int stdin_fd;            /* -1: inherit qlua's; otherwise dup'ed onto 0 */
	int stdout_fd;           /* -1: inherit; otherwise dup'ed onto 1 */
	int stderr_fd;           /* -1: inherit; otherwise dup'ed onto 2 */
	int detach;              /* 0: the child dies with qlua (PR_SET_PDEATHSIG) */
	int new_session;         /* setsid() in the child */
	int set_uid, set_gid, set_groups;  /* apply the ids below only when set */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
};

/* Starts the child.  Returns 0 and sets *pid once the program has been
 * exec'ed; otherwise writes a message naming the step that failed into
 * err, no child remains, and returns an errno value: positive when the
 * exec itself failed (the program cannot be executed: spawn_exit_code()
 * tells the 126/127 a shell would report), negative when anything before
 * it did (no pipe or process left, a descriptor or id that could not be
 * set up: qlua's error, not the program's). */
/* Details: the child gets exactly 0, 1, 2 and the mapped fds, the same
 * parent fd may appear more than once, and any source may carry any number
 * (0..2 included).  A descriptor that is not open is refused before fork
 * ("cannot pass descriptor 9 as fd 3: Bad file descriptor").  The child
 * starts with default signal dispositions and an empty mask.  A path
 * without '/' is searched in $PATH as execvp does, but a file that is not
 * a program is an error (ENOEXEC), never run with /bin/sh.
 * PR_SET_PDEATHSIG follows the calling thread: spawn from the thread that
 * lives as long as qlua (the main one). */
int spawn_start(const struct spawn_req *req, pid_t *pid, char *err, size_t errlen);
int spawn_exit_code(int err);

/* A pollable descriptor for the child (pidfd); -1 when the kernel has none. */
int spawn_pidfd(pid_t pid);

#endif
