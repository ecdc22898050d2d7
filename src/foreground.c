/* foreground.c - see foreground.h. */
#include "foreground.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "loop.h"
#include "spawn.h"

static volatile sig_atomic_t child, first;

/* Only async-signal-safe work here: pass the signal on (it comes only
 * while QEMU runs, or after it could not start).  The first one is the
 * user's interruption, which decides qlua's status whatever QEMU then
 * exits with. */
static void forward(int sig)
{
	if (!first)
		first = sig;
	if (child > 0)
		kill(child, sig);
}

int foreground_run(char *const *argv, const int *fds, int nfds, const struct spawn_ids *ids,
                   char *err, size_t errlen)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old[3];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	/* The three are blocked from before the handlers change until QEMU
	 * exists: one that came earlier, while the script ran or after it
	 * returned, was caught by qlua's own handler (loop.c) and stops the run
	 * here, before QEMU starts (else QEMU would run as if nothing came); one
	 * that comes meanwhile waits, and is passed on when they are unblocked.
	 * (The child unblocks them before it execs: spawn.c.) */
	sigset_t block, mask;
	sigemptyset(&block);
	for (int i = 0; i < 3; i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &mask);
	first = 0;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);

	int status = 0;
	int rc = -1;
	pid_t pid = 0;
	if (loop_signal()) {
		snprintf(err, errlen, "interrupted by signal %d (QEMU was not started)", loop_signal());
		status = 128 + loop_signal();
	} else {
		struct spawn_req req = {
			.path = argv[0], .argv = argv, .fds = fds, .nfds = nfds,
			.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
			.set_uid = ids->set_uid, .uid = ids->uid, .set_gid = ids->set_gid, .gid = ids->gid,
			.set_groups = ids->set_groups, .groups = ids->groups, .ngroups = ids->ngroups,
		};
		rc = spawn_start(&req, &pid, err, errlen);
		if (rc)
			/* 126/127 only when QEMU could not be executed (spawn.h) */
			status = rc > 0 ? spawn_exit_code(rc) : FOREGROUND_NOT_STARTED;
		else
			child = pid;
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (!rc) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		child = 0;
		status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		/* QEMU exits 0 once it handled SIGINT/SIGTERM/SIGHUP: that status
		 * would let `qlua vm.lua && next-step` go on after a Ctrl-C */
		if (first)
			status = 128 + first;
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return status;
}
